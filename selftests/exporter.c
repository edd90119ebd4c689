// SPDX-License-Identifier: GPL-2.0
/*
 * exporter - the real "kvmwarden exporter" against the module: what it
 * exposes for a live guest equals the module's snapshot read through
 * libkvmwarden at the same moment.
 *
 * The guest runs a mix of exits (CPUID, HLT, port I/O to userspace and
 * in kernel, RDMSR) and stops; while its vCPU is out of KVM_RUN its
 * counters do not move, which a snapshot before and one after the
 * scrape confirm, so the scrape and the snapshot see the same moment.
 * Then it runs again and the next scrape must follow.
 *
 * textfile: "kvmwarden exporter -t FILE" (the static binary): every
 *	reason's kvmwarden_vm_exits_total, the exits of every reason and
 *	the guest time equal the snapshot's, twice.
 * http: "kvmwarden-http exporter -l 127.0.0.1:0" (the dynamically
 *	linked binary with libmicrohttpd, copied into the test VM with its
 *	libraries by vmtest.sh): the same through /metrics, the content
 *	type, a 404, and a clean exit on SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define TEXTFILE	"/tmp/kvmwarden-exporter.prom"
#define HTTP_BIN	"kvmwarden-http"
#define BODY_MAX	(4 << 20)

static const struct guest_mix mix = {
	.cpuid = 3000, .hlt = 40, .pio_user = 200, .pio_kernel = 300,
	.msr_read = 500,
};

/* Reads all of @fd into a new NUL-terminated buffer. */
static char *slurp_fd(int fd)
{
	size_t len = 0;
	char *buf = malloc(BODY_MAX);
	ssize_t n;

	if (!buf)
		return NULL;
	while (len < BODY_MAX - 1) {
		n = read(fd, buf + len, BODY_MAX - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * The value of the sample of @name for VM @id whose labels contain
 * @with (NULL: any), as an exact integer (seconds: in ns); -1 if none.
 */
static int64_t value_of(const char *text, const char *name, uint64_t id,
			const char *with, bool seconds)
{
	char prefix[160];
	const char *p, *v;
	size_t n;

	n = snprintf(prefix, sizeof(prefix), "%s{vm_id=\"%llu\",", name,
		     (unsigned long long)id);
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		char line[512], *end;
		uint64_t s, frac = 0, scale = 100000000;

		if (strncmp(p, prefix, n) || len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		if (with && !strstr(line, with))
			continue;
		v = strrchr(line, ' ') + 1;
		s = strtoull(v, &end, 10);
		if (!seconds)
			return *end ? -1 : (int64_t)s;
		if (*end == '.')
			for (end++; *end >= '0' && *end <= '9' && scale; end++) {
				frac += (*end - '0') * scale;
				scale /= 10;
			}
		return *end ? -1 : (int64_t)(s * 1000000000ULL + frac);
	}
	return -1;
}

/*
 * Checks the exposition @text against VM @vm of a snapshot: every
 * reason's exits, the exits of all reasons, the guest time, the VMM.
 */
static void check_text(struct __test_metadata *_metadata, const char *text,
		       const struct kvmw_vm *vm)
{
	char with[96], rn[KVMW_REASON_BUF_LEN];
	size_t i;

	ASSERT_NE(NULL, strstr(text, "\nkvmwarden_up 1\n"));
	ASSERT_LT(3U, vm->total.nr_reasons);
	for (i = 0; i < vm->total.nr_reasons; i++) {
		const struct kvmw_reason *r = &vm->total.reasons[i];

		snprintf(with, sizeof(with), ",reason=\"%s\",",
			 kvmw_reason_name(vm->vendor, r->code, rn));
		EXPECT_EQ((int64_t)r->count,
			  value_of(text, "kvmwarden_vm_exits_total", vm->vm_id,
				   with, false))
			TH_LOG("reason %s", with);
	}
	EXPECT_EQ((int64_t)vm->total.exits,
		  value_of(text, "kvmwarden_vm_exits_all_total", vm->vm_id,
			   NULL, false));
	EXPECT_EQ((int64_t)vm->total.times.guest_ns,
		  value_of(text, "kvmwarden_vm_guest_seconds_total", vm->vm_id,
			   NULL, true));
	snprintf(with, sizeof(with), "pid=\"%d\"", getpid());
	EXPECT_EQ(1, value_of(text, "kvmwarden_vm_info", vm->vm_id, with,
			      false));
}

FIXTURE(exporter) {
	struct kvmw_source src;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	double t0;
	char why[128];
};

FIXTURE_SETUP(exporter)
{
	struct vm_opts opts = {};

	self->vm = NULL;
	self->t0 = util_now_ms();
	if (kvmw_test_src(&self->src, KVMW_FEAT_STATS | KVMW_FEAT_LATENCY,
			  "self-describing statistics and latency", self->why,
			  sizeof(self->why))) {
		ASSERT_NE(0, self->why[0]);
		return;
	}
	self->vm = vm_create(&opts);
	ASSERT_NE(NULL, self->vm);
	self->vcpu = vcpu_add(self->vm);
	ASSERT_NE(NULL, self->vcpu);
}

FIXTURE_TEARDOWN(exporter)
{
	if (!self->why[0])
		TH_LOG("%.0f ms", util_now_ms() - self->t0);
	if (self->vm)
		vm_destroy(self->vm);
	if (!self->why[0])
		kvmw_source_close(&self->src);
}

/* Runs the guest's mix once more; it stops out of KVM_RUN. */
static void guest_round(struct __test_metadata *_metadata,
			FIXTURE_DATA(exporter) *self)
{
	ASSERT_EQ(0, vcpu_load_mixed(self->vcpu, &mix));
	ASSERT_EQ(0, vcpu_run(self->vcpu)) TH_LOG("%s", self->vcpu->res.msg);
}

/*
 * Takes the snapshot of our VM into @s, calls @scrape, takes another
 * and checks that nothing moved in between (the same moment).
 */
static const struct kvmw_vm *still(struct __test_metadata *_metadata,
				   FIXTURE_DATA(exporter) *self,
				   struct kvmw_snapshot *s,
				   char *(*scrape)(void *), void *arg,
				   char **text)
{
	const struct kvmw_vm *a, *b;
	struct kvmw_snapshot s2;

	*text = NULL;
	if (kvmw_take_kvm_vm(&self->src, self->vm, s, &a))
		return NULL;
	*text = scrape(arg);
	if (kvmw_take_kvm_vm(&self->src, self->vm, &s2, &b)) {
		kvmw_snapshot_free(&s2);
		return NULL;
	}
	EXPECT_EQ(a->exits, b->exits);
	EXPECT_EQ(a->vm_id, b->vm_id);
	kvmw_snapshot_free(&s2);
	return a;
}

static char *scrape_textfile(void *arg)
{
	char *argv[] = { "kvmwarden", "exporter", "-t", TEXTFILE, NULL };
	int st, fd;
	char *text;
	pid_t pid;

	(void)arg;
	unlink(TEXTFILE);
	pid = fork();
	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return NULL;
	fd = open(TEXTFILE, O_RDONLY);
	if (fd < 0)
		return NULL;
	text = slurp_fd(fd);
	close(fd);
	return text;
}

TEST_F(exporter, textfile)
{
	const struct kvmw_vm *vm;
	struct kvmw_snapshot s;
	uint64_t first = 0;
	char *text;
	int round;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	for (round = 0; round < 2; round++) {
		guest_round(_metadata, self);
		vm = still(_metadata, self, &s, scrape_textfile, NULL, &text);
		ASSERT_NE(NULL, vm);
		ASSERT_NE(NULL, text) TH_LOG("kvmwarden exporter -t failed");
		check_text(_metadata, text, vm);
		/* The second round's scrape follows the guest. */
		EXPECT_LT(first, vm->total.exits);
		first = vm->total.exits;
		free(text);
		kvmw_snapshot_free(&s);
	}
	unlink(TEXTFILE);
}

/* The loopback interface up (the test VM's init leaves it down). */
static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

struct http_arg {
	unsigned int port;
	const char *path;
};

static char *http_get(void *p)
{
	const struct http_arg *h = p;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[128];
	char *text;
	int fd, n;

	sa.sin_port = htons(h->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return NULL;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		     h->path);
	if (write(fd, req, n) != n) {
		close(fd);
		return NULL;
	}
	text = slurp_fd(fd);
	close(fd);
	return text;
}

TEST_F(exporter, http)
{
	struct http_arg h = { .path = "/metrics" };
	const struct kvmw_vm *vm;
	struct kvmw_snapshot s;
	char line[256], *text;
	int err[2], st, round;
	uint64_t first = 0;
	FILE *f;
	pid_t pid;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (system("command -v " HTTP_BIN " >/dev/null"))
		SKIP(return, HTTP_BIN " is not in the test VM (vmtest.sh copies it with its libraries)");
	ASSERT_EQ(0, lo_up());
	ASSERT_EQ(0, pipe(err));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(err[1], 2);
		close(err[0]);
		execlp(HTTP_BIN, HTTP_BIN, "exporter", "-l", "127.0.0.1:0",
		       (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	f = fdopen(err[0], "r");
	ASSERT_NE(NULL, f);
	/* "kvmwarden: serving http://127.0.0.1:0/metrics (port N)" */
	if (!fgets(line, sizeof(line), f) || !strstr(line, "(port ")) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ASSERT_TRUE(false) TH_LOG("the exporter did not start");
	}
	h.port = strtoul(strstr(line, "(port ") + 6, NULL, 10);
	ASSERT_NE(0U, h.port);

	for (round = 0; round < 2; round++) {
		guest_round(_metadata, self);
		vm = still(_metadata, self, &s, http_get, &h, &text);
		ASSERT_NE(NULL, vm);
		ASSERT_NE(NULL, text);
		EXPECT_EQ(0, strncmp(text, "HTTP/1.1 200", 12));
		EXPECT_NE(NULL, strstr(text, "\r\nContent-Type: text/plain; version=0.0.4"));
		check_text(_metadata, text, vm);
		EXPECT_LT(first, vm->total.exits);
		first = vm->total.exits;
		free(text);
		kvmw_snapshot_free(&s);
	}
	h.path = "/nope";
	text = http_get(&h);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(0, strncmp(text, "HTTP/1.1 404", 12));
	free(text);

	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fclose(f);
}

TEST_HARNESS_MAIN
