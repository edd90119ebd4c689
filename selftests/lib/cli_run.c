// SPDX-License-Identifier: GPL-2.0
/*
 * Running the kvmwarden command line from a selftest (cli_run.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_run.h"

unsigned int cli_runs;
uint64_t cli_run_ns;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct sink {
	int fd;
	char *buf;
	size_t len;
};

/* Reads what @s's pipe has; returns false at its end. */
static int drain(struct sink *s)
{
	char scratch[512];
	ssize_t r;

	if (s->len < CLI_OUT_MAX - 1)
		r = read(s->fd, s->buf + s->len, CLI_OUT_MAX - 1 - s->len);
	else
		r = read(s->fd, scratch, sizeof(scratch));
	if (r < 0)
		return errno == EINTR || errno == EAGAIN;
	if (r == 0)
		return 0;
	if (s->len < CLI_OUT_MAX - 1)
		s->len += (size_t)r;
	return 1;
}

int cli_run(struct cli_run *c, uid_t uid, ...)
{
	struct sink sinks[2] = { { -1, c->out, 0 }, { -1, c->err, 0 } };
	int po[2], pe[2], st, n = 0, open_fds = 2, i, ret = 0;
	uint64_t t0 = mono_ns();
	char *argv[32];
	va_list ap;
	pid_t pid;

	argv[n++] = "kvmwarden";
	va_start(ap, uid);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		ret = -errno;
		close(po[0]);
		close(po[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		for (i = 0; i < 2; i++) {
			close(po[i]);
			close(pe[i]);
		}
		return ret;
	}
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (uid && setresuid(uid, uid, uid))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	sinks[0].fd = po[0];
	sinks[1].fd = pe[0];
	while (open_fds) {
		struct pollfd pfd[2];
		int nfds = 0, map[2];

		for (i = 0; i < 2; i++)
			if (sinks[i].fd >= 0) {
				pfd[nfds].fd = sinks[i].fd;
				pfd[nfds].events = POLLIN;
				map[nfds++] = i;
			}
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = 0; i < nfds; i++) {
			struct sink *s = &sinks[map[i]];

			if (!pfd[i].revents || drain(s))
				continue;
			close(s->fd);
			s->fd = -1;
			open_fds--;
		}
	}
	for (i = 0; i < 2; i++) {
		if (sinks[i].fd >= 0)
			close(sinks[i].fd);
		sinks[i].buf[sinks[i].len] = '\0';
	}
	if (waitpid(pid, &st, 0) != pid)
		return -ECHILD;
	if (ret)
		return ret;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	cli_runs++;
	cli_run_ns += mono_ns() - t0;
	return 0;
}
