// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the Prometheus exporter (prom.c, cmd_exporter.c) against the
 * fake module: the exact exposition of a fixture, promtool's verdict on
 * it, the textfile mode, and the HTTP server on an ephemeral loopback
 * port (/metrics, 404, 405, the content type).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "prom.h"

#include "helpers.h"
#include "tap.h"

void test_exporter(void);
int exporter_fixture_print(FILE *f, const char *which);
int exporter_bench(int argc, char **argv);

/* A fake /proc: VMMs 4001 (web "1", a name to escape) and 4002. */
struct xproc {
	char dir[64];
};

static void xproc_add(struct xproc *p, unsigned int pid, const char *args,
		      size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", p->dir, pid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%u/cmdline", p->dir, pid);
	f = fopen(path, "w");
	if (!f || fwrite(args, 1, len, f) != len || fclose(f))
		abort();
}

#define XPROC_ADD(p, pid, lit)	xproc_add(p, pid, lit, sizeof(lit) - 1)

static void xproc_init(struct xproc *p)
{
	strcpy(p->dir, "/tmp/kvmw_xproc.XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	XPROC_ADD(p, 4001, "qemu-system-x86_64\0-name\0guest=web \"1\"\\\n\xff,debug-threads=on\0"
		  "-uuid\0" "0b9c36b2-6a8e-4c36-9d55-0123456789ab\0");
	XPROC_ADD(p, 4002, "qemu\0-name\0db\0");
}

static void xproc_free(struct xproc *p)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd))
		tap_diag("could not remove %s", p->dir);
}

/*
 * The fixture: a module with self-describing statistics on 2 nodes,
 * VM 1 (2 vCPUs, every figure: fake_add_big_vm()) and VM 2 (1 vCPU,
 * CPUID and HLT exits only). @stats false: API 1 snapshots instead.
 */
static void xfake(struct fake_dev *f, bool stats)
{
	fake_init(f);
	f->hs.features = FEAT_ALL | (stats ? KVMW_FEAT_STATS : 0);
	f->stats_nodes = 2;
	fake_add_big_vm(f, 1, 2);
	fake_add_vm(f, 2, 4002, "qemu", 1);
}

/* The exposition of @f's snapshot into *@s (free() it); 0 or -errno. */
static int expose(struct fake_dev *f, const struct xproc *p, bool per_vcpu,
		  char **s, size_t *len)
{
	struct kvmw_prom_opts o = {
		.per_vcpu = per_vcpu, .proc = p->dir, .page_size = 4096,
	};
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	FILE *out;
	int ret;

	ret = kvmw_source_open(&src, &kvmw_source_dev, "fake", &f->ops);
	if (ret)
		return ret;
	ret = kvmw_snapshot_take(&src, NULL, 0, true, &snap);
	if (ret) {
		kvmw_source_close(&src);
		return ret;
	}
	out = open_memstream(s, len);
	if (!out)
		abort();
	/* A fixed scrape time: the output is compared byte for byte. */
	ret = kvmw_prom_write(out, &snap, &o, 1500000);
	fclose(out);
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return ret;
}

/* "stats", "stats-vcpu", "api1": the fixture's exposition into @f. */
int exporter_fixture_print(FILE *f, const char *which)
{
	struct fake_dev *fd = calloc(1, sizeof(*fd));
	struct xproc p;
	char *s = NULL;
	size_t len;
	int ret;

	if (!fd)
		return -ENOMEM;
	xproc_init(&p);
	xfake(fd, strcmp(which, "api1"));
	ret = expose(fd, &p, !strcmp(which, "stats-vcpu"), &s, &len);
	if (!ret)
		fwrite(s, 1, len, f);
	free(s);
	fake_free(fd);
	free(fd);
	xproc_free(&p);
	return ret;
}

/* The value of the first sample line starting with @prefix, or -1. */
static double sample_value(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;

	for (p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		const char *sp;

		if (strncmp(p, prefix, n))
			continue;
		for (sp = p + len; sp > p && sp[-1] != ' '; sp--)
			;
		return strtod(sp, NULL);
	}
	return -1;
}

/* The sum of every sample of @name (exactly, then '{' or ' '). */
static double sum_of(const char *s, const char *name, const char *with)
{
	size_t n = strlen(name);
	double sum = 0;
	const char *p;

	for (p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		const char *sp;
		char line[1024];

		if (strncmp(p, name, n) || (p[n] != '{' && p[n] != ' ') ||
		    len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		if (with && !strstr(line, with))
			continue;
		sp = strrchr(line, ' ');
		sum += strtod(sp + 1, NULL);
	}
	return sum;
}

/* Every _bucket series rises and ends in +Inf equal to its _count. */
static bool histograms_sound(const char *s)
{
	const char *p;
	double last = 0;
	bool in = false;

	for (p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");
		char line[1024], *sp;
		double v;

		if (*p == '#' || len >= sizeof(line))
			continue;
		memcpy(line, p, len);
		line[len] = '\0';
		sp = strrchr(line, ' ');
		v = strtod(sp + 1, NULL);
		if (strstr(line, "_bucket{")) {
			if (in && v < last)
				return false;
			in = !strstr(line, "le=\"+Inf\"");
			last = in ? v : last;
			if (!in)
				last = v;
			continue;
		}
		if (strstr(line, "_count{")) {
			if (v != last)
				return false;
			last = 0;
		}
	}
	return true;
}

static bool have_promtool(void)
{
	return !system("promtool --version >/dev/null 2>&1");
}

/* promtool check metrics on @s; its verdict, its complaints diagnosed. */
static bool promtool_ok(const char *s, size_t len)
{
	char path[] = "/tmp/kvmw_prom.XXXXXX", cmd[256], *out;
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	if (fd < 0 || write(fd, s, len) != (ssize_t)len)
		abort();
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics <%s 2>&1", path);
	f = popen(cmd, "r");
	if (!f)
		abort();
	out = calloc(1, 4096);
	if (!out || fread(out, 1, 4095, f) > 4095)
		abort();
	rc = pclose(f);
	if (rc)
		tap_diag("promtool: %s", out);
	free(out);
	unlink(path);
	return rc == 0;
}

static void test_exposition(struct xproc *p)
{
	static const char *const which[] = { "stats", "stats-vcpu", "api1" };
	struct fake_dev *f = calloc(1, sizeof(*f));
	bool promtool = have_promtool();
	char *s, *want, rel[64];
	struct kvmw_snapshot m;
	size_t len, i;

	if (!f)
		abort();
	for (i = 0; i < ARRAY_SIZE(which); i++) {
		const struct kvmw_vm *vm;

		xfake(f, strcmp(which[i], "api1"));
		CHECK(expose(f, p, !strcmp(which[i], "stats-vcpu"), &s,
			     &len) == 0, "exporter: %s exposition", which[i]);
		snprintf(rel, sizeof(rel), "tests/exporter-%s.prom", which[i]);
		want = read_source_file(rel);
		CHECK_STR(s, want, rel);
		free(want);

		/* The numbers, against the model of the same fake. */
		model_of(&m, &f->vms[0], f->hs.features);
		vm = &m.vms[0];
		CHECK(sum_of(s, "kvmwarden_vm_exits_total", "vm_id=\"1\"") ==
		      (double)vm->total.reason_exits,
		      "exporter: %s: VM 1's exits by reason add up to %llu",
		      which[i], (unsigned long long)vm->total.reason_exits);
		CHECK(sum_of(s, "kvmwarden_vm_exits_total",
			     "reason=\"CPUID\"") ==
		      (double)(kvmw_unit_count(&vm->total, 10) + 80),
		      "exporter: %s: CPUID exits of both VMs", which[i]);
		CHECK(sum_of(s, "kvmwarden_vm_category_exits_total",
			     "vm_id=\"1\"") == (double)vm->total.reason_exits,
		      "exporter: %s: VM 1's categories add up", which[i]);
		if (strcmp(which[i], "api1")) {
			CHECK(sum_of(s, "kvmwarden_vm_guest_seconds_total",
				     "vm_id=\"1\"") * 1e9 ==
			      (double)vm->total.times.guest_ns,
			      "exporter: %s: guest seconds", which[i]);
			CHECK(sum_of(s, "kvmwarden_vm_exit_latency_seconds_count",
				     "vm_id=\"1\"") ==
			      (double)(vm->total.reasons[0].lat.timed +
				       vm->total.reasons[1].lat.timed +
				       vm->total.reasons[2].lat.timed),
			      "exporter: %s: timed exits", which[i]);
			CHECK(sum_of(s, "kvmwarden_vm_faults_node_total",
				     "node=\"1\"") ==
			      (double)vm->total.faults.node[1],
			      "exporter: %s: faults on node 1", which[i]);
		}
		if (!strcmp(which[i], "stats-vcpu"))
			CHECK(sum_of(s, "kvmwarden_vcpu_exits_total",
				     "vm_id=\"1\"") ==
			      (double)vm->total.reason_exits,
			      "exporter: per vCPU exits add up to the VM's");
		kvmw_snapshot_free(&m);
		CHECK(histograms_sound(s),
		      "exporter: %s: buckets cumulative, +Inf = _count",
		      which[i]);
		CHECK(count_of(s, "vm=\"web \\\"1\\\"\\\\\\n?\"") > 0,
		      "exporter: %s: a VM name escaped, bad UTF-8 replaced",
		      which[i]);
		if (promtool)
			CHECK(promtool_ok(s, len),
			      "exporter: %s: promtool check metrics", which[i]);
		else
			tap_skip("exporter: promtool check metrics",
				 "promtool not installed (Debian: prometheus)");
		free(s);
		fake_free(f);
	}
	free(f);
}

static void test_down(void)
{
	struct kvmw_prom_opts o = { 0 };
	struct out out;

	out_open(&out);
	CHECK(kvmw_prom_write(out.f, NULL, &o, 2000) == 0,
	      "exporter: a source that cannot be read");
	out_close(&out);
	check_has(out.s, "\nkvmwarden_up 0\n", "exporter: up 0");
	check_has(out.s, "\nkvmwarden_scrape_duration_seconds 0.000002\n",
		  "exporter: scrape duration in seconds");
	CHECK(!strstr(out.s, "kvmwarden_vm_"), "exporter: no VM when down");
	free(out.s);
}

static void test_textfile(struct xproc *p)
{
	struct fake_dev *f = calloc(1, sizeof(*f));
	char dir[] = "/tmp/kvmw_text.XXXXXX", path[128], cmd[160];
	char *want, *got, *a, *b;
	struct stat st;
	struct run r;
	size_t len;
	FILE *in;

	if (!f || !mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/kvmwarden.prom", dir);
	xfake(f, true);
	run_cli(&r, &f->ops, "--proc", p->dir, "exporter", "--textfile", path,
		NULL);
	CHECK(r.rc == 0, "exporter --textfile: exit 0 (%s)", r.err);
	run_free(&r);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
	      "exporter --textfile: the file, mode 0644");
	in = fopen(path, "r");
	got = calloc(1, 1 << 20);
	if (!in || !got || fread(got, 1, (1 << 20) - 1, in) >= (1 << 20) - 1)
		abort();
	fclose(in);
	expose(f, p, false, &want, &len);
	/* The same but for the scrape duration, the 5th line. */
	a = strstr(got, "\n# HELP kvmwarden_info");
	b = strstr(want, "\n# HELP kvmwarden_info");
	CHECK(a && b && !strcmp(a, b), "exporter --textfile: the exposition");
	free(want);
	free(got);
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = kvmwarden.prom",
		 dir);
	CHECK(!system(cmd), "exporter --textfile: no temporary file left");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);

	run_cli(&r, &f->ops, "exporter", "--textfile", "/nonexistent/x.prom",
		NULL);
	CHECK(r.rc == KVMW_EXIT_RUNTIME && strstr(r.err, "/nonexistent"),
	      "exporter --textfile: an unwritable directory: exit 1");
	run_free(&r);
	fake_free(f);
	free(f);
}

static void test_usage(void)
{
	static const char *const bad[][4] = {
		{ "exporter", "-l", "nonsense", NULL },
		{ "exporter", "-l", "127.0.0.1:70000", NULL },
		{ "exporter", "-l", "::1:80", NULL },
		{ "exporter", "-i", "5", NULL },
		{ "exporter", "-t", "x", "-l" },
		{ "exporter", "extra", NULL, NULL },
	};
	struct fake_dev *f = calloc(1, sizeof(*f));
	struct run r;
	size_t i;

	if (!f)
		abort();
	xfake(f, true);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (bad[i][3])
			run_cli(&r, &f->ops, bad[i][0], bad[i][1], bad[i][2],
				bad[i][3], "127.0.0.1:1", NULL);
		else if (bad[i][2])
			run_cli(&r, &f->ops, bad[i][0], bad[i][1], bad[i][2],
				NULL);
		else
			run_cli(&r, &f->ops, bad[i][0], bad[i][1], NULL);
		CHECK(r.rc == KVMW_EXIT_USAGE, "exporter %s %s: exit 2 (%d)",
		      bad[i][1], bad[i][2] ? bad[i][2] : "", r.rc);
		run_free(&r);
	}
	run_cli(&r, &f->ops, "exporter", "--help", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "--textfile") &&
	      strstr(r.out, "--per-vcpu"), "exporter --help");
	run_free(&r);
	run_cli(&r, &f->ops, "--help", NULL);
	check_has(r.out, "  exporter ", "kvmwarden --help lists exporter");
	run_free(&r);
	fake_free(f);
	free(f);
}

/* GET or another @method of @path on 127.0.0.1:@port; the answer. */
static char *http(unsigned int port, const char *method, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t len = 0, cap = 1 << 16;
	char req[256], *buf = malloc(cap);
	ssize_t n;
	int fd;

	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!buf || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		     method, path);
	if (write(fd, req, n) != n)
		abort();
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static void test_http(struct xproc *p)
{
	struct kvmw_prom_opts o = { .proc = p->dir, .page_size = 4096 };
	struct fake_dev *f = calloc(1, sizeof(*f));
	unsigned long scrapes, others;
	struct kvmw_prom_http *h;
	struct kvmw_source src;
	char why[256], *a, *body, *want;
	size_t len;
	int ret;

	if (!f)
		abort();
	xfake(f, true);
	if (kvmw_source_open(&src, &kvmw_source_dev, "fake", &f->ops))
		abort();
	ret = kvmw_prom_http_start(&h, &src, &o, "127.0.0.1:0", why,
				   sizeof(why));
	CHECK(ret == 0 && kvmw_prom_http_port(h),
	      "exporter http: listening on an ephemeral port (%s)",
	      ret ? why : "ok");
	if (ret) {
		kvmw_source_close(&src);
		fake_free(f);
		free(f);
		return;
	}
	a = http(kvmw_prom_http_port(h), "GET", "/metrics");
	CHECK(!strncmp(a, "HTTP/1.1 200", 12), "exporter http: /metrics 200");
	check_has(a, "Content-Type: text/plain; version=0.0.4",
		  "exporter http: content type");
	body = strstr(a, "\r\n\r\n");
	expose(f, p, false, &want, &len);
	CHECK(body && !strcmp(strstr(body, "\n# HELP kvmwarden_info"),
			      strstr(want, "\n# HELP kvmwarden_info")),
	      "exporter http: the body is the exposition");
	free(want);
	free(a);

	/* A new snapshot per scrape: exits added show at once. */
	f->vms[1].vcpus[0].exits += 5;
	f->vms[1].reasons[0].count += 5;
	a = http(kvmw_prom_http_port(h), "GET", "/metrics");
	CHECK(sample_value(a, "kvmwarden_vm_exits_all_total{vm_id=\"2\"") ==
	      105, "exporter http: the next scrape sees new exits");
	free(a);

	a = http(kvmw_prom_http_port(h), "GET", "/");
	CHECK(!strncmp(a, "HTTP/1.1 404", 12), "exporter http: / is 404");
	free(a);
	a = http(kvmw_prom_http_port(h), "GET", "/metricsx");
	CHECK(!strncmp(a, "HTTP/1.1 404", 12),
	      "exporter http: /metricsx is 404");
	free(a);
	a = http(kvmw_prom_http_port(h), "POST", "/metrics");
	CHECK(!strncmp(a, "HTTP/1.1 405", 12) && strstr(a, "GET, HEAD"),
	      "exporter http: POST is 405");
	free(a);
	a = http(kvmw_prom_http_port(h), "HEAD", "/metrics");
	CHECK(!strncmp(a, "HTTP/1.1 200", 12) &&
	      !strstr(a, "kvmwarden_up"), "exporter http: HEAD, no body");
	free(a);
	kvmw_prom_http_counts(h, &scrapes, &others);
	CHECK(scrapes == 3 && others == 3,
	      "exporter http: 3 scrapes, 3 other requests (%lu, %lu)",
	      scrapes, others);
	kvmw_prom_http_stop(h);

	ret = kvmw_prom_http_start(&h, &src, &o, "[::1]:0", why, sizeof(why));
	if (ret == 0) {
		CHECK(kvmw_prom_http_port(h) != 0, "exporter http: IPv6");
		kvmw_prom_http_stop(h);
	} else {
		tap_skip("exporter http: IPv6", why);
	}
	kvmw_source_close(&src);
	fake_free(f);
	free(f);
}

/* The alerting rules of contrib/prometheus, checked and unit-tested. */
static void test_rules(void)
{
	static const char *const cmds[] = {
		"promtool check rules kvmwarden.rules.yml",
		"promtool test rules kvmwarden.rules.test.yml",
	};
	char cmd[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (!have_promtool()) {
			tap_skip(cmds[i], "promtool not installed (Debian: prometheus)");
			continue;
		}
		snprintf(cmd, sizeof(cmd),
			 "cd '%s/../contrib/prometheus' && out=$(%s 2>&1) || { printf '%%s\\n' \"$out\" | sed 's/^/# /'; exit 1; }",
			 KVMW_SRCDIR, cmds[i]);
		CHECK(!system(cmd), "%s", cmds[i]);
	}
}

/*
 * A fake module whose counters move: every KVMW_IOC_STATS_READ (one per
 * scrape) first adds exits, time, faults and waits to every vCPU, as a
 * running guest would. Only the exporter's thread calls it.
 */
struct moving {
	struct kvmw_dev_ops ops;
	struct fake_dev *f;
};

static int moving_ioctl(void *priv, int fd, unsigned long req, void *arg)
{
	struct moving *m = priv;
	struct fake_dev *f = m->f;
	unsigned int i, k;

	if (req == KVMW_IOC_STATS_READ) {
		for (i = 0; i < f->nr_vms; i++) {
			struct kvmw_vm_snap *s = &f->vms[i];

			for (k = 0; k < s->nr_reasons; k++) {
				struct kvmw_reason_stat *r = &s->reasons[k];
				struct kvmw_vcpu_info *v = &s->vcpus[r->vcpu_index];

				r->count += 100;
				r->lat_total_ns += 100 * 1500;
				r->hist[10] += 100;
				v->exits += 100;
				v->entries += 100;
				v->exit_ns += 100 * 1500;
				v->overhead_ns += 100 * 1500;
			}
			for (k = 0; k < s->nr_vcpus; k++) {
				struct kvmw_vcpu_info *v = &s->vcpus[k];

				v->guest_ns += 50000000;
				v->faults += 10;
				v->fault_node[0] += 10;
				v->fault_hist[11] += 10;
				v->fault_lat_total_ns += 10 * 3000;
				v->rq_delay_ns += 10 * 20000;
				v->rq_delay_count += 10;
				v->rq_delay_hist[14] += 10;
				v->run_node_ns[0] += 50000000;
			}
		}
	}
	return f->ops.ioctl(f->ops.priv, fd, req, arg);
}

static int moving_open(void *priv, const char *path, int flags)
{
	struct moving *m = priv;

	return m->f->ops.open(m->f->ops.priv, path, flags);
}

static void moving_close(void *priv, int fd)
{
	struct moving *m = priv;

	m->f->ops.close(m->f->ops.priv, fd);
}

/*
 * Debian's prometheus scraping the exporter (serving the moving fake on
 * an ephemeral port) and queried over its HTTP API by
 * contrib/prometheus/scrape-check.py: stored exit counts against the
 * exporter's, every panel query of contrib/grafana/kvmwarden.json, the
 * recording rules.
 */
static void test_prometheus(struct xproc *p)
{
	struct kvmw_prom_opts o = { .proc = p->dir, .page_size = 4096 };
	struct fake_dev *f = calloc(1, sizeof(*f));
	struct kvmw_prom_http *h;
	struct kvmw_source src;
	struct moving m;
	char cmd[768], why[256];
	int rc;

	if (system("command -v prometheus >/dev/null && command -v python3 >/dev/null")) {
		tap_skip("exporter: scraped by prometheus",
			 "prometheus or python3 not installed (Debian: prometheus, python3)");
		free(f);
		return;
	}
	if (!f)
		abort();
	xfake(f, true);
	m.f = f;
	m.ops = f->ops;
	m.ops.priv = &m;
	m.ops.ioctl = moving_ioctl;
	m.ops.open = moving_open;
	m.ops.close = moving_close;
	if (kvmw_source_open(&src, &kvmw_source_dev, "fake", &m.ops) ||
	    kvmw_prom_http_start(&h, &src, &o, "127.0.0.1:0", why,
				 sizeof(why)))
		abort();
	snprintf(cmd, sizeof(cmd),
		 "python3 '%s/../contrib/prometheus/scrape-check.py' %u '%s/../contrib/grafana/kvmwarden.json'",
		 KVMW_SRCDIR, kvmw_prom_http_port(h), KVMW_SRCDIR);
	fflush(stdout);
	rc = system(cmd);
	rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
	if (rc == 77)
		tap_skip("exporter: scraped by prometheus", "no prometheus");
	else
		CHECK(rc == 0, "exporter: scraped by prometheus: stored exits within a scrape of the exporter's, dashboard queries answered");
	kvmw_prom_http_stop(h);
	kvmw_source_close(&src);
	fake_free(f);
	free(f);
}

/*
 * --exporter-bench VMS VCPUS SCRAPES: SCRAPES scrapes (snapshot through
 * the self-describing statistics and exposition) of a fake module with
 * VMS VMs of VCPUS vCPUs each (fake_add_big_vm()); prints the time per
 * scrape and the size of one. For `perf stat` / `time` of the exporter.
 */
int exporter_bench(int argc, char **argv)
{
	struct kvmw_prom_opts o = { .page_size = 4096 };
	unsigned long vms, vcpus, n, i;
	struct kvmw_source src;
	struct fake_dev *f;
	size_t len = 0, series = 0;
	__u64 t0, t;
	char *buf;

	if (argc != 3)
		return 2;
	vms = strtoul(argv[0], NULL, 0);
	vcpus = strtoul(argv[1], NULL, 0);
	n = strtoul(argv[2], NULL, 0);
	if (!vms || vms > FAKE_MAX_VMS || !vcpus || !n)
		return 2;
	f = calloc(1, sizeof(*f));
	if (!f)
		return 1;
	fake_init(f);
	f->hs.features = FEAT_ALL | KVMW_FEAT_STATS;
	f->stats_nodes = 2;
	for (i = 0; i < vms; i++)
		fake_add_big_vm(f, i + 1, vcpus);
	/* No VMM names: the fake pids must not be looked up in /proc. */
	o.proc = "/nonexistent";
	if (kvmw_source_open(&src, &kvmw_source_dev, "fake", &f->ops))
		return 1;
	t0 = kvmw_now_ns();
	for (i = 0; i < n; i++) {
		if (kvmw_prom_scrape(&src, &o, &buf, &len))
			return 1;
		if (i + 1 < n)
			free(buf);
	}
	t = kvmw_now_ns() - t0;
	for (i = 0; i < len; i++)
		series += buf[i] == '\n' && i + 1 < len && buf[i + 1] != '#';
	printf("%lu scrapes of %lu VMs x %lu vCPUs: %.3f ms per scrape, %zu bytes, %zu series\n",
	       n, vms, vcpus, t / 1e6 / n, len, series + 1);
	free(buf);
	kvmw_source_close(&src);
	fake_free(f);
	free(f);
	return 0;
}

void test_exporter(void)
{
	struct xproc p;

	xproc_init(&p);
	test_exposition(&p);
	test_down();
	test_textfile(&p);
	test_usage();
	test_http(&p);
	test_rules();
	test_prometheus(&p);
	xproc_free(&p);
}
