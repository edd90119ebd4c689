// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON documents against their schemas (kvmwarden-stat.schema.json,
 * kvmwarden-list.schema.json) with python3's jsonschema module, and the
 * statistics table against the stat document: every number the table
 * enumerates is found at its name with the model's value
 * (tests/check_json.py). Both for a module with every feature and for
 * one without the optional ones; a broken document must fail both.
 * Without python3 or its jsonschema module the checks are skipped and
 * say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "tap.h"

#ifndef KVMW_SRCDIR
#error "KVMW_SRCDIR: the userspace source directory (see Makefile)"
#endif

#define CHECKER	KVMW_SRCDIR "/tests/check_json.py"

struct tmp {
	char dir[64];
};

/* @name in the temporary directory. */
static const char *tmp_path(const struct tmp *t, const char *name,
			    char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", t->dir, name);
	return buf;
}

/* Writes fixture output @which into @name; false on failure. */
static bool write_fixture(const struct tmp *t, const char *which,
			  const char *name)
{
	char path[128];
	FILE *f = fopen(tmp_path(t, name, path, sizeof(path)), "w");
	bool ok;

	if (!f)
		return false;
	ok = fixture_fprint(f, which) == 0;
	return !fclose(f) && ok;
}

/* Runs the shell command @cmd; its exit status, or -1. */
static int run(const char *cmd)
{
	int st;

	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* check_json.py @mode @a @b, its output as TAP comments. */
static int check(const char *mode, const char *a, const char *b)
{
	char cmd[512], log[] = "/tmp/kvmw_check.XXXXXX", line[512];
	FILE *f;
	int fd, ret;

	fd = mkstemp(log);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 '%s' %s '%s' '%s' >'%s' 2>&1",
		 CHECKER, mode, a, b, log);
	ret = run(cmd);
	f = fopen(log, "r");
	while (f && fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (f)
		fclose(f);
	unlink(log);
	return ret;
}

static void test_one(const struct tmp *t, const char *suffix, bool schema)
{
	char which[32], name[64], doc[128], other[128], sch[256];
	static const char * const docs[] = { "stat", "list" };
	unsigned int i;
	int ret;

	for (i = 0; i < 2; i++) {
		snprintf(which, sizeof(which), "%s-json%s", docs[i], suffix);
		snprintf(name, sizeof(name), "%s.json", which);
		CHECK(write_fixture(t, which, name), "%s written", which);
		snprintf(sch, sizeof(sch), "%s/kvmwarden-%s.schema.json",
			 KVMW_SRCDIR, docs[i]);
		if (!schema) {
			tap_skip(which, "python3 module jsonschema is missing (Debian package python3-jsonschema)");
			continue;
		}
		ret = check("schema", sch, tmp_path(t, name, doc, sizeof(doc)));
		CHECK(ret == 0, "%s is valid against kvmwarden-%s.schema.json",
		      which, docs[i]);
	}

	snprintf(which, sizeof(which), "stat-values%s", suffix);
	snprintf(name, sizeof(name), "%s.jsonl", which);
	CHECK(write_fixture(t, which, name), "%s written", which);
	snprintf(which, sizeof(which), "stat-json%s.json", suffix);
	ret = check("values", tmp_path(t, name, other, sizeof(other)),
		    tmp_path(t, which, doc, sizeof(doc)));
	CHECK(ret == 0, "every statistic of the table is in stat-json%s with its value",
	      suffix);
}

/*
 * budget show --json of the fake module against its schema, and a stat
 * document whose VM has a budget state (the fixture's have none).
 */
static void test_budget_docs(const struct tmp *t, bool schema)
{
	char doc[128], bad[128], sch[256], cmd[768];
	struct fake_dev f;
	struct run r;
	FILE *out;
	int ret;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_BUDGET;
	fake_add_vm(&f, 1, 4242, "qemu", 1);
	fake_add_vm(&f, 2, 4243, "qemu", 1);
	run_cli(&r, &f.ops, "budget", "set", "1", "-B", "io:20k",
		"-B", "msr,cpuid:1k", "--mode", "audit", NULL);
	CHECK(r.rc == 0, "budget set on the fake module");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "show", "--json", NULL);
	out = fopen(tmp_path(t, "budget.json", doc, sizeof(doc)), "w");
	CHECK(r.rc == 0 && out && fwrite(r.out, 1, r.out_len, out) ==
	      r.out_len, "budget-json written");
	if (out)
		fclose(out);
	run_free(&r);
	fake_free(&f);
	if (!schema) {
		tap_skip("budget JSON schemas", "python3 module jsonschema is missing");
		return;
	}
	snprintf(sch, sizeof(sch), "%s/kvmwarden-budget.schema.json",
		 KVMW_SRCDIR);
	CHECK(check("schema", sch, doc) == 0,
	      "budget-json is valid against kvmwarden-budget.schema.json");
	/* A fifth bucket is caught. */
	tmp_path(t, "budget-bad.json", bad, sizeof(bad));
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); "
		 "b = d[\"vms\"][0][\"buckets\"]; b.extend(b + b); "
		 "json.dump(d, open(sys.argv[2], \"w\"))' '%s' '%s'", doc, bad);
	CHECK(run(cmd) == 0, "broken budget document written");
	CHECK(check("schema", sch, bad) == 1,
	      "a sixth bucket is caught by the schema");

	/* stat: a VM with a budget state, then a malformed one. */
	snprintf(sch, sizeof(sch), "%s/kvmwarden-stat.schema.json",
		 KVMW_SRCDIR);
	tmp_path(t, "stat-json.json", doc, sizeof(doc));
	tmp_path(t, "stat-budget.json", bad, sizeof(bad));
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); "
		 "d[\"vms\"][0][\"budget\"] = {\"mode\": \"throttle\", "
		 "\"tripped\": False, \"tokens\": [1, 0, 0, 0], "
		 "\"debt\": [0, 0, 0, 0], \"charged\": 5, \"overruns\": 1, "
		 "\"parks\": 1, \"parked_ns\": 10, \"would_park_ns\": 0}; "
		 "json.dump(d, open(sys.argv[2], \"w\"))' '%s' '%s'", doc, bad);
	CHECK(run(cmd) == 0, "stat document with a budget written");
	ret = check("schema", sch, bad);
	CHECK(ret == 0, "a VM's budget state is valid against kvmwarden-stat.schema.json");
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); "
		 "d[\"vms\"][0][\"budget\"][\"tokens\"].pop(); "
		 "json.dump(d, open(sys.argv[1], \"w\"))' '%s'", bad);
	CHECK(run(cmd) == 0, "stat document with a bad budget written");
	CHECK(check("schema", sch, bad) == 1,
	      "three tokens instead of four are caught by the schema");
}

/* A document that breaks the contract must be caught by both checks. */
static void test_broken(const struct tmp *t, bool schema)
{
	char doc[128], bad[128], values[128], cmd[512];
	int ret;

	tmp_path(t, "stat-json.json", doc, sizeof(doc));
	tmp_path(t, "broken.json", bad, sizeof(bad));
	tmp_path(t, "stat-values.jsonl", values, sizeof(values));
	/* VM 1's guest time off by one, its vCPU 0 without "tid". */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); "
		 "d[\"vms\"][0][\"time\"][\"guest_ns\"] += 1; "
		 "del d[\"vms\"][0][\"vcpus\"][0][\"tid\"]; "
		 "json.dump(d, open(sys.argv[2], \"w\"))' '%s' '%s'", doc, bad);
	CHECK(run(cmd) == 0, "broken document written");
	ret = check("values", values, bad);
	CHECK(ret == 1, "a value that differs from the model is caught");
	if (!schema) {
		tap_skip("a missing key is caught by the schema",
			 "python3 module jsonschema is missing");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s/kvmwarden-stat.schema.json",
		 KVMW_SRCDIR);
	ret = check("schema", cmd, bad);
	CHECK(ret == 1, "a missing key is caught by the schema");
}

void test_schema(void)
{
	struct tmp t;
	char cmd[128];
	bool schema;

	tap_diag("JSON schemas and the statistics table");
	if (run("command -v python3 >/dev/null") != 0) {
		tap_skip("JSON schemas and statistics table",
			 "python3 is missing");
		return;
	}
	schema = run("python3 -c 'import jsonschema' 2>/dev/null") == 0;
	if (!schema)
		tap_diag("python3 module jsonschema is missing (Debian package python3-jsonschema): schema checks skipped");
	snprintf(t.dir, sizeof(t.dir), "/tmp/kvmw_tests.XXXXXX");
	if (!mkdtemp(t.dir)) {
		CHECK(false, "temporary directory");
		return;
	}
	test_one(&t, "", schema);
	test_one(&t, "-old", schema);
	test_one(&t, "-stats", schema);
	test_one(&t, "-extra-stats", schema);
	test_broken(&t, schema);
	test_budget_docs(&t, schema);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t.dir);
	run(cmd);
}
