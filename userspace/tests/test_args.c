// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command line parsing: value parsers, stat's options, help and usage
 * errors (exit 2), and a missing device (exit 1, modprobe hint).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "helpers.h"
#include "tap.h"

static void check_interval(const char *s, bool ok, double want)
{
	double v = -1;
	int ret = kvmw_parse_interval(s, &v);

	if (ok)
		CHECK(ret == 0 && v == want, "interval '%s' is %g", s, want);
	else
		CHECK(ret == -EINVAL, "interval '%s' is refused", s);
}

static void check_vmid(const char *s, bool ok, __u64 want)
{
	__u64 v = 0;
	int ret = kvmw_parse_vmid(s, &v);

	if (ok)
		CHECK(ret == 0 && v == want, "VM id '%s'", s);
	else
		CHECK(ret == -EINVAL, "VM id '%s' is refused", s);
}

static void test_parsers(void)
{
	unsigned long u;

	check_interval("1", true, 1);
	check_interval("0", true, 0);
	check_interval("0.5", true, 0.5);
	check_interval("2.", true, 2);
	check_interval(".25", true, 0.25);
	check_interval("86400", true, 86400);
	check_interval("", false, 0);
	check_interval("-1", false, 0);
	check_interval("abc", false, 0);
	check_interval("1s", false, 0);
	check_interval("1e3", false, 0);
	check_interval("inf", false, 0);
	check_interval("nan", false, 0);
	check_interval("0x10", false, 0);
	check_interval("1.2.3", false, 0);
	check_interval(".", false, 0);
	check_interval(" 1", false, 0);
	check_interval("86400.5", false, 0);

	check_vmid("1", true, 1);
	check_vmid("42", true, 42);
	check_vmid("0x1f", true, 0x1f);
	check_vmid("0XFF", true, 0xff);
	check_vmid("18446744073709551615", true, 18446744073709551615ULL);
	check_vmid("0", false, 0);
	check_vmid("0x0", false, 0);
	check_vmid("-1", false, 0);
	check_vmid("+1", false, 0);
	check_vmid("0x", false, 0);
	check_vmid("1f", false, 0);
	check_vmid("", false, 0);
	check_vmid("18446744073709551616", false, 0);

	CHECK(kvmw_parse_uint("7", 10, &u) == 0 && u == 7, "uint 7");
	CHECK(kvmw_parse_uint("0", 10, &u) == 0 && u == 0, "uint 0");
	CHECK(kvmw_parse_uint("11", 10, &u) == -EINVAL, "uint above max");
	CHECK(kvmw_parse_uint("-1", 10, &u) == -EINVAL, "uint negative");
	CHECK(kvmw_parse_uint("", 10, &u) == -EINVAL, "uint empty");
	CHECK(kvmw_parse_uint("99999999999999999999999", ~0UL, &u) == -EINVAL,
	      "uint overflow");
}

/* kvmw_stat_parse() on "stat" and the NULL-terminated arguments. */
static int parse_stat(struct kvmw_ctx *ctx, struct kvmw_stat_args *a, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = "stat";
	va_start(ap, a);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return kvmw_stat_parse(ctx, argc, argv, a);
}

static void test_stat_parse(void)
{
	struct kvmw_stat_args a;
	struct kvmw_ctx ctx = { .prog = "kvmwarden", .device = "x" };
	char *ebuf = NULL;
	size_t elen = 0;
	int ret;

	ctx.out = stdout;
	ctx.err = open_memstream(&ebuf, &elen);

	ret = parse_stat(&ctx, &a, "-i", "0.25", "--top", "5", "3", "--json",
			 "0x4", "3", NULL);
	CHECK(ret == KVMW_CONTINUE, "stat options parsed");
	CHECK(a.interval == 0.25 && a.top == 5 && a.json,
	      "interval 0.25, top 5, json (options after VM ids too)");
	CHECK(a.nr_ids == 2 && a.ids[0] == 3 && a.ids[1] == 4,
	      "VM ids 3 and 0x4, duplicate dropped");
	kvmw_stat_args_free(&a);

	ret = parse_stat(&ctx, &a, NULL);
	CHECK(ret == KVMW_CONTINUE && a.interval == 1 && a.top == 3 &&
	      !a.json && !a.nr_ids && !a.ids, "stat defaults: 1 s, top 3");

	ret = parse_stat(&ctx, &a, "-v", "3", "-n", "10", NULL);
	CHECK(ret == KVMW_CONTINUE && a.vcpus && a.top == 10 &&
	      a.nr_ids == 1 && a.ids[0] == 3, "-v 3: VM 3 per vCPU");
	kvmw_stat_args_free(&a);
	ret = parse_stat(&ctx, &a, "--vcpus=0x2", "-j", NULL);
	CHECK(ret == KVMW_CONTINUE && a.vcpus && a.json && a.nr_ids == 1 &&
	      a.ids[0] == 2, "--vcpus=0x2 --json");
	kvmw_stat_args_free(&a);
	ret = parse_stat(&ctx, &a, "-v", "3", "4", NULL);
	CHECK(ret == KVMW_EXIT_USAGE && !a.ids,
	      "-v with another VM id is a usage error");
	ret = parse_stat(&ctx, &a, "-v", "0", NULL);
	CHECK(ret == KVMW_EXIT_USAGE && !a.ids, "-v 0 is a usage error");

	ret = parse_stat(&ctx, &a, "--interval=abc", NULL);
	CHECK(ret == KVMW_EXIT_USAGE && !a.ids,
	      "--interval=abc is a usage error");
	fclose(ctx.err);
	CHECK(ebuf && strstr(ebuf, "bad interval 'abc'"),
	      "message names the bad interval");
	free(ebuf);
}

/* Runs the CLI on the real (absent) device, checks exit code and text. */
static void expect(int rc, const char *out_has, const char *err_has,
		   const char *what, char *a1, char *a2, char *a3, char *a4)
{
	struct run r;

	run_cli(&r, NULL, a1, a2, a3, a4, NULL);
	CHECK(r.rc == rc, "%s: exit %d", what, rc);
	if (r.rc != rc)
		tap_diag("got exit %d, stderr: %s", r.rc, r.err);
	if (out_has)
		CHECK(strstr(r.out, out_has), "%s: stdout has '%s'", what,
		      out_has);
	if (err_has)
		CHECK(strstr(r.err, err_has), "%s: stderr has '%s'", what,
		      err_has);
	run_free(&r);
}

/* stat --help fits on one screen: 24 lines of 80 columns. */
static void test_help_size(void)
{
	size_t lines = 0, longest = 0, len = 0;
	struct run r;
	const char *p;

	run_cli(&r, NULL, "stat", "--help", NULL);
	for (p = r.out; *p; p++) {
		if (*p != '\n') {
			len++;
			continue;
		}
		lines++;
		if (len > longest)
			longest = len;
		len = 0;
	}
	CHECK(r.rc == 0 && lines <= 24 && longest <= 80,
	      "stat --help fits on one screen (%zu lines, longest %zu)", lines,
	      longest);
	run_free(&r);
}

/* The explanations the tables no longer print are in kvmwarden(8). */
static void test_manpage(void)
{
	static const char * const has[] = {
		"MEAN,\nMIN, P50, P90, P99, P99.9, MAX",
		"overhead / (guest + exits) \\(mu 100",
		"run-queue delay / (guest + exits) \\(mu 100",
		"NOT on its home node",
		"known to a factor of\n2",
		"{\"bucket\": 10, \"lo\": 1024, \"hi\": 2048}",
		"Nested page faults (EPT violations and NPF",
		"unknown ones (MMIO, no memslot",
		"ipi_apic",
		".BR \\-l \", \" \\-\\-long",
		"kvmwarden\\-stat.schema.json",
	};
	char *man = read_source_file("kvmwarden.8");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(has); i++)
		check_has(man, has[i], "kvmwarden(8) explains the output");
	free(man);
}

static void test_cli(void)
{
	expect(0, "Examples:", NULL, "--help", "--help", NULL, NULL, NULL);
	expect(0, "2  usage error", NULL, "-h documents exit codes", "-h",
	       NULL, NULL, NULL);
	expect(0, "modprobe kvmwarden", NULL, "help mentions modprobe", "-h",
	       NULL, NULL, NULL);
	expect(0, "kvmwarden stat -i 5", NULL, "global help has examples",
	       "--help", NULL, NULL, NULL);
	expect(0, "explained in kvmwarden(8)", NULL,
	       "global help points to the man page", "--help", NULL, NULL,
	       NULL);
	expect(0, "UAPI version 1", NULL, "--version", "--version", NULL,
	       NULL, NULL);
	expect(0, "Usage: kvmwarden stat", NULL, "stat --help", "stat",
	       "--help", NULL, NULL);
	expect(0, "Examples:", NULL, "stat -h has examples", "stat", "-h",
	       NULL, NULL);
	expect(0, "-v, --vcpus VM", NULL, "stat --help documents -v",
	       "stat", "--help", NULL, NULL);
	expect(0, "-l, --long", NULL, "stat --help documents -l", "stat",
	       "--help", NULL, NULL);
	expect(0, "kvmwarden(8)", NULL, "stat --help points to the man page",
	       "stat", "--help", NULL, NULL);
	expect(0, "kvmwarden stat -l -v 3", NULL, "stat --help: -v example",
	       "stat", "--help", NULL, NULL);
	test_help_size();
	test_manpage();
	expect(0, "kvmwarden stat -v 3 ", NULL, "global help: -v example",
	       "--help", NULL, NULL, NULL);
	expect(0, "Usage: kvmwarden list", NULL, "list -h", "list", "-h",
	       NULL, NULL);
	expect(0, "Examples:", NULL, "list --help has examples", "list",
	       "--help", NULL, NULL);
	expect(0, "Usage: kvmwarden stat", NULL, "help stat", "help", "stat",
	       NULL, NULL);
	expect(0, "Commands:", NULL, "help", "help", NULL, NULL, NULL);

	expect(2, NULL, "no command", "no command", NULL, NULL, NULL, NULL);
	expect(2, NULL, "unknown command 'frobnicate'", "unknown command",
	       "frobnicate", NULL, NULL, NULL);
	expect(2, NULL, "unknown option '--bogus'", "unknown global option",
	       "--bogus", "list", NULL, NULL);
	expect(2, NULL, "unknown option '-x'", "unknown short option",
	       "stat", "-x", NULL, NULL);
	expect(2, NULL, "bad interval 'abc'", "bad interval", "stat", "-i",
	       "abc", NULL);
	expect(2, NULL, "bad interval '-1'", "negative interval", "stat",
	       "-i", "-1", NULL);
	expect(2, NULL, "Try 'kvmwarden stat --help'", "usage hint",
	       "stat", "-i", "x", NULL);
	expect(2, NULL, "'-i' needs an argument", "missing interval", "stat",
	       "-i", NULL, NULL);
	expect(2, NULL, "'--interval' needs an argument",
	       "missing long interval", "stat", "--interval", NULL, NULL);
	expect(2, NULL, "bad number of reasons", "bad top", "stat", "-n",
	       "many", NULL);
	expect(2, NULL, "bad VM id '0'", "VM id 0", "stat", "0", NULL, NULL);
	expect(2, NULL, "'-v' needs an argument", "-v without VM id", "stat",
	       "-v", NULL, NULL);
	expect(2, NULL, "--vcpus shows one VM: unexpected VM id '2'",
	       "-v and another VM id", "stat", "-v", "1", "2");
	expect(2, NULL, "bad VM '0x'", "-v with a bad VM id", "stat", "-v",
	       "0x", NULL);
	expect(2, NULL, "bad VM id '12x'", "VM id not a number", "stat",
	       "-i", "0", "12x");
	expect(2, NULL, "bad VM id 'name:'", "empty VM name", "stat",
	       "-i", "0", "name:");
	expect(2, NULL, "unexpected argument", "list takes no argument",
	       "list", "1", NULL, NULL);
	expect(2, NULL, "'--device' needs an argument", "missing device",
	       "--device", NULL, NULL, NULL);
	expect(2, NULL, "unknown command 'nope'", "help of unknown command",
	       "help", "nope", NULL, NULL);

	expect(1, NULL, "modprobe kvmwarden", "missing device: list",
	       "--device", "/nonexistent/kvmwarden", "list", NULL);
	expect(1, NULL, "modprobe kvmwarden", "missing device: stat",
	       "-d", "/nonexistent/kvmwarden", "stat", "-i0");
	expect(1, NULL, "not a kvmwarden device", "wrong device",
	       "-d", "/dev/null", "list", NULL);
}

void test_args(void)
{
	tap_diag("args");
	test_parsers();
	test_stat_parse();
	test_cli();
}
