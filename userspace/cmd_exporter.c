// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden exporter: the Prometheus text exposition of every VM over
 * HTTP (/metrics, libmicrohttpd), or into a file for node_exporter's
 * textfile collector. One snapshot per scrape, nothing cached between
 * scrapes.
 *
 * Threads: libmicrohttpd answers every request from its one internal
 * polling thread, which is then the only user of the data source; the
 * main thread only waits for SIGINT or SIGTERM. Built with
 * KVMW_NO_HTTP (the static binary: Debian's libmicrohttpd.a needs
 * GnuTLS, which has no static library) it has the textfile mode only.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef KVMW_NO_HTTP
#include <microhttpd.h>
#endif

#include "cli.h"
#include "prom.h"

#define DEFAULT_LISTEN	"127.0.0.1:9798"

void kvmw_usage_exporter(FILE *f)
{
	fputs("Usage: kvmwarden exporter [-l ADDR:PORT] [--per-vcpu]\n"
	      "       kvmwarden exporter -t FILE [-i SEC] [--per-vcpu]\n"
	      "\n"
	      "Serves the Prometheus metrics of every VM on http://ADDR:PORT/metrics\n"
	      "(one snapshot of the module per scrape) until SIGINT or SIGTERM,\n"
	      "or writes them to FILE for node_exporter's textfile collector\n"
	      "(a temporary file renamed over FILE). Metrics: Documentation/exporter.rst.\n"
	      "\n"
	      "  -l, --listen ADDR:PORT  address to listen on (default " DEFAULT_LISTEN ";\n"
	      "                          [ADDR]:PORT for IPv6, :PORT for every IPv4 address)\n"
	      "  -t, --textfile FILE     write FILE instead of serving HTTP\n"
	      "  -i, --interval SEC      with -t: write every SEC seconds (default 0: once)\n"
	      "      --per-vcpu          also series per vCPU and per vCPU and reason\n"
	      "  -h, --help              show this help\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden exporter\n"
	      "  kvmwarden exporter -l 0.0.0.0:9798\n"
	      "  kvmwarden exporter -t /var/lib/prometheus/node-exporter/kvmwarden.prom -i 15\n",
	      f);
}

#ifndef KVMW_NO_HTTP

struct kvmw_prom_http {
	struct MHD_Daemon *d;
	struct kvmw_source *src;
	struct kvmw_prom_opts o;
	unsigned int port;
	unsigned long scrapes;
	unsigned long others;
};

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned int code,
				  const char *text, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_answer(void *cls, struct MHD_Connection *c,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **req_cls)
{
	struct kvmw_prom_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *buf;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		__atomic_add_fetch(&h->others, 1, __ATOMIC_RELAXED);
		return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed\n", "GET, HEAD");
	}
	if (strcmp(url, "/metrics")) {
		__atomic_add_fetch(&h->others, 1, __ATOMIC_RELAXED);
		return queue_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: the metrics are at /metrics\n",
				  NULL);
	}
	__atomic_add_fetch(&h->scrapes, 1, __ATOMIC_RELAXED);
	if (kvmw_prom_scrape(h->src, &h->o, &buf, &len))
		return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n", NULL);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				KVMW_PROM_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* "ADDR:PORT", "[ADDR]:PORT" or ":PORT" into *@ai (freeaddrinfo() it). */
static int parse_listen(const char *s, struct addrinfo **ai, char *why,
			size_t len)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	};
	char host[64];
	const char *colon, *port;
	size_t hl;
	int err;

	colon = strrchr(s, ':');
	if (!colon || !colon[1]) {
		snprintf(why, len, "bad address '%s' (ADDR:PORT)", s);
		return -EINVAL;
	}
	port = colon + 1;
	hl = colon - s;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	} else if (memchr(s, ':', hl)) {
		snprintf(why, len, "bad address '%s' ([ADDR]:PORT for IPv6)",
			 s);
		return -EINVAL;
	}
	if (!hl) {
		snprintf(host, sizeof(host), "0.0.0.0");
	} else if (hl < sizeof(host)) {
		memcpy(host, s, hl);
		host[hl] = '\0';
	} else {
		snprintf(why, len, "bad address '%s'", s);
		return -EINVAL;
	}
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) > 65535) {
		snprintf(why, len, "bad port '%s' (0 to 65535)", port);
		return -EINVAL;
	}
	err = getaddrinfo(host, port, &hints, ai);
	if (err) {
		snprintf(why, len, "bad address '%s': %s", host,
			 gai_strerror(err));
		return -EINVAL;
	}
	return 0;
}

int kvmw_prom_http_start(struct kvmw_prom_http **http,
			 struct kvmw_source *src,
			 const struct kvmw_prom_opts *o, const char *listen,
			 char *why, size_t len)
{
	const union MHD_DaemonInfo *info;
	struct kvmw_prom_http *h;
	struct addrinfo *ai;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_POLL;
	int ret;

	*http = NULL;
	ret = parse_listen(listen, &ai, why, len);
	if (ret)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	h->src = src;
	h->o = *o;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	/*
	 * A scrape is a few milliseconds of work: a handful of connections
	 * and a short timeout are enough, and bound what a peer can hold.
	 */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, http_answer, h,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, 16U,
				MHD_OPTION_CONNECTION_TIMEOUT, 30U,
				MHD_OPTION_END);
	ret = errno ? -errno : -EIO;
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(why, len, "cannot listen on %s: %s", listen,
			 strerror(-ret));
		free(h);
		return ret;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	*http = h;
	return 0;
}

unsigned int kvmw_prom_http_port(const struct kvmw_prom_http *http)
{
	return http->port;
}

void kvmw_prom_http_counts(const struct kvmw_prom_http *http,
			   unsigned long *scrapes, unsigned long *others)
{
	*scrapes = __atomic_load_n(&http->scrapes, __ATOMIC_RELAXED);
	*others = __atomic_load_n(&http->others, __ATOMIC_RELAXED);
}

void kvmw_prom_http_stop(struct kvmw_prom_http *http)
{
	if (!http)
		return;
	MHD_stop_daemon(http->d);
	free(http);
}

#else /* KVMW_NO_HTTP */

int kvmw_prom_http_start(struct kvmw_prom_http **http,
			 struct kvmw_source *src,
			 const struct kvmw_prom_opts *o, const char *listen,
			 char *why, size_t len)
{
	(void)src;
	(void)o;
	(void)listen;
	*http = NULL;
	snprintf(why, len,
		 "this kvmwarden is built without libmicrohttpd (the static binary): use --textfile, or the dynamically linked kvmwarden");
	return -ENOTSUP;
}

unsigned int kvmw_prom_http_port(const struct kvmw_prom_http *http)
{
	(void)http;
	return 0;
}

void kvmw_prom_http_counts(const struct kvmw_prom_http *http,
			   unsigned long *scrapes, unsigned long *others)
{
	(void)http;
	*scrapes = *others = 0;
}

void kvmw_prom_http_stop(struct kvmw_prom_http *http)
{
	(void)http;
}

#endif /* KVMW_NO_HTTP */

enum { OPT_PER_VCPU = 256 };

static const struct option exporter_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "textfile", required_argument, NULL, 't' },
	{ "interval", required_argument, NULL, 'i' },
	{ "per-vcpu", no_argument, NULL, OPT_PER_VCPU },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * Waits up to @sec seconds (< 0: without limit) for SIGINT or SIGTERM,
 * which the caller blocked. Returns true when one came.
 */
static bool wait_stop(const sigset_t *set, double sec)
{
	struct timespec ts;

	if (sec < 0) {
		int sig;

		return !sigwait(set, &sig);
	}
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - floor(sec)) * 1e9);
	while (sigtimedwait(set, NULL, &ts) < 0)
		if (errno != EINTR)
			return false;
	return true;
}

int kvmw_cmd_exporter(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_prom_opts o = { .proc = ctx->proc };
	const char *listen = DEFAULT_LISTEN, *textfile = NULL;
	struct kvmw_prom_http *http;
	bool listen_set = false;
	double interval = 0;
	struct kvmw_source src;
	sigset_t set, old;
	char why[256];
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:t:i:h", exporter_options,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			listen_set = true;
			break;
		case 't':
			textfile = optarg;
			break;
		case 'i':
			if (kvmw_parse_interval(optarg, &interval))
				return kvmw_usage_error(ctx, "exporter",
							"bad interval '%s' (seconds, 0 to %.0f)",
							optarg,
							KVMW_MAX_INTERVAL);
			break;
		case OPT_PER_VCPU:
			o.per_vcpu = true;
			break;
		case 'h':
			kvmw_usage_exporter(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "exporter", c, argv);
		}
	}
	if (optind < argc)
		return kvmw_usage_error(ctx, "exporter",
					"unexpected argument '%s'",
					argv[optind]);
	if (textfile && listen_set)
		return kvmw_usage_error(ctx, "exporter",
					"--listen and --textfile exclude each other");
	if (!textfile && interval)
		return kvmw_usage_error(ctx, "exporter",
					"--interval is for --textfile");
	if (!*listen && !textfile)
		return kvmw_usage_error(ctx, "exporter", "empty --listen");

	ret = kvmw_open_source_flags(ctx, &src, 0);
	if (ret)
		return ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (textfile) {
		/* Blocked all along: a stop during a write is not lost. */
		if (interval)
			pthread_sigmask(SIG_BLOCK, &set, &old);
		ret = kvmw_prom_textfile(&src, &o, textfile);
		while (!ret && interval && !wait_stop(&set, interval))
			ret = kvmw_prom_textfile(&src, &o, textfile);
		if (interval)
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		kvmw_source_close(&src);
		if (ret) {
			kvmw_error(ctx, "cannot write %s: %s", textfile,
				   strerror(-ret));
			return KVMW_EXIT_RUNTIME;
		}
		return KVMW_EXIT_OK;
	}

	/* Blocked before the server's thread starts, so it inherits it. */
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ret = kvmw_prom_http_start(&http, &src, &o, listen, why, sizeof(why));
	if (ret) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		kvmw_source_close(&src);
		kvmw_error(ctx, "%s", why);
		return ret == -EINVAL ? KVMW_EXIT_USAGE : KVMW_EXIT_RUNTIME;
	}
	fprintf(ctx->err, "%s: serving http://%s/metrics (port %u)\n",
		ctx->prog, listen, kvmw_prom_http_port(http));
	fflush(ctx->err);
	wait_stop(&set, -1);
	kvmw_prom_http_stop(http);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	kvmw_source_close(&src);
	return KVMW_EXIT_OK;
}
