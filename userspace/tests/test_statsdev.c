// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device source on self-describing statistics (KVMW_FEAT_STATS)
 * against a fake module: the descriptors learnt once, records read with
 * the E2BIG loop and checked, statistics found by name wherever the
 * module puts them, a statistic not described is a feature not
 * measured, the v1 ioctls when the statistics cannot serve, and the
 * whole output of the fixture the same as through the v1 snapshots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "kvmw_dev.h"
#include "tap.h"

/* The fixture's output @which, in memory (free() it). */
static char *fixture_text(const char *which)
{
	struct out o;

	out_open(&o);
	if (fixture_fprint(o.f, which))
		tap_diag("fixture %s failed", which);
	out_close(&o);
	return o.s;
}

/*
 * The text from @key on (JSON: the feature list before it differs),
 * with every "stats" member (the generic part, which only a source
 * with self-describing statistics fills) taken out.
 */
static char *comparable(const char *s, const char *key)
{
	const char *p = key ? strstr(s, key) : s;
	char *d, *q, *e;

	d = strdup(p ? p : "");
	if (!d)
		abort();
	while ((q = strstr(d, "\"stats\": "))) {
		char *ls = q;
		size_t ind;

		while (ls > d && ls[-1] == ' ')
			ls--;
		ind = q - ls;
		e = strchr(q, '\n');
		if (e && e[-1] == '{') {
			/* Up to the closing brace at the same indentation. */
			char close[64];

			snprintf(close, sizeof(close), "\n%*s}", (int)ind, "");
			e = strstr(e, close);
			e = e ? strchr(e + 1, '\n') : NULL;
		}
		if (!e)
			e = q + strlen(q);
		memmove(ls, e + (*e == '\n'), strlen(e + (*e == '\n')) + 1);
	}
	return d;
}

/*
 * Drops the lines of stat-values whose statistic is not measured: v1
 * structs carry whatever an older module left there, the statistics
 * leave what they do not describe at zero.
 */
static void measured_only(char *s)
{
	char *q, *e;

	while ((q = strstr(s, "\"measured\":false"))) {
		while (q > s && q[-1] != '\n')
			q--;
		e = strchr(q, '\n');
		e = e ? e + 1 : q + strlen(q);
		memmove(q, e, strlen(e) + 1);
	}
}

static void test_fixture_same(void)
{
	static const char * const outs[] = {
		"list-table", "list-json", "stat-table", "stat-long",
		"stat-json", "stat-vcpus", "stat-values",
	};
	static const char * const vars[] = { "", "-old", "-nofaults" };
	size_t i, k;

	for (k = 0; k < ARRAY_SIZE(vars); k++) {
		for (i = 0; i < ARRAY_SIZE(outs); i++) {
			char a[48], b[48];
			char *x, *y, *cx, *cy;
			bool json = strstr(outs[i], "json");

			snprintf(a, sizeof(a), "%s%s", outs[i], vars[k]);
			snprintf(b, sizeof(b), "%s%s-stats", outs[i], vars[k]);
			x = fixture_text(a);
			y = fixture_text(b);
			cx = comparable(x, json ? "\"untracked_exits\"" : NULL);
			cy = comparable(y, json ? "\"untracked_exits\"" : NULL);
			if (!strcmp(outs[i], "stat-values")) {
				measured_only(cx);
				measured_only(cy);
			}
			CHECK(strlen(cx) > 100 && !strcmp(cx, cy),
			      "fixture %s: the same through the statistics", a);
			if (strcmp(cx, cy))
				tap_diag("v1:\n%s\nstats:\n%s", cx, cy);
			free(x);
			free(y);
			free(cx);
			free(cy);
		}
	}
}

/* A module with the statistics, the fixture's first two VMs. */
static void fake_stats(struct fake_dev *f)
{
	struct fixture fx;
	size_t i;

	fake_init(f);
	fixture_build(&fx);
	f->hs = fx.cur.hs;
	f->hs.features |= KVMW_FEAT_STATS;
	for (i = 0; i < 2; i++)
		snap_copy(&f->vms[f->nr_vms++], &fx.cur.vms[i]);
	fixture_free(&fx);
}

static void test_layout(void)
{
	struct kvmw_dev_layout l;
	struct kvmw_dev dev;
	struct fake_dev f;
	__u32 i, vcpu_exits = ~0U, hist = ~0U;
	int ret;

	fake_stats(&f);
	f.stats_nodes = 3;
	kvmw_dev_open(&dev, "fake", &f.ops);
	ret = kvmw_dev_stats_desc(&dev, &l);
	CHECK(ret == 0 && l.nr_descs == 45 &&
	      l.nr_nodes == 3 && f.desc_calls == 2,
	      "descriptors: a query and a read (%u of them)", l.nr_descs);
	for (i = 0; i < l.nr_descs; i++) {
		if (l.descs[i].scope == KVMW_SCOPE_VCPU &&
		    !strcmp(l.descs[i].name, "exits"))
			vcpu_exits = i;
		if (!strcmp(l.descs[i].name, "rq_delay_hist"))
			hist = i;
	}
	CHECK(vcpu_exits < l.nr_descs && hist < l.nr_descs &&
	      l.descs[hist].count == KVMW_LAT_BUCKETS &&
	      l.descs[hist].hist_type == KVMW_HIST_LOG2 &&
	      l.values[KVMW_SCOPE_VM] == 7 + 3 &&
	      l.values[KVMW_SCOPE_VCPU] == 26 + 2 * 3 + 2 * 32 &&
	      l.values[KVMW_SCOPE_REASON] == 6 + 32,
	      "per-node statistics sized by nr_nodes, histograms described");
	kvmw_dev_layout_free(&l);
	kvmw_dev_close(&dev);
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

static void test_read(void)
{
	struct kvmw_stats_answer a;
	struct kvmw_dev_layout l;
	struct kvmw_reason_rec *r;
	struct kvmw_vcpu_rec *v;
	struct kvmw_dev dev;
	struct fake_dev f;

	fake_stats(&f);
	kvmw_dev_open(&dev, "fake", &f.ops);
	kvmw_dev_stats_desc(&dev, &l);
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == 0 && a.nr_vms == 2 &&
	      a.nr_vcpus == 3 && a.nr_reasons == 7 && f.read_calls == 2,
	      "every VM: a query and a read");
	v = (void *)(a.vcpus + 2 * a.vcpu_size);
	r = (void *)(a.reasons + 6 * a.reason_size);
	CHECK(a.nr_vcpus == 3 && v->vm_index == 1 && v->first_reason == 5 &&
	      r->vcpu_index == 2 && r->reason == KVMW_REASON_UNDECODED,
	      "indices of the whole answer");
	kvmw_stats_answer_free(&a);

	CHECK(kvmw_dev_stats_read(&dev, &l, 2, &a) == 0 && a.nr_vms == 1 &&
	      a.nr_vcpus == 1 && a.nr_reasons == 2, "one VM");
	kvmw_stats_answer_free(&a);
	CHECK(kvmw_dev_stats_read(&dev, &l, 99, &a) == -ENOENT && !a.vms,
	      "unknown VM: ENOENT");

	f.grow_vcpus = 3;
	f.grow_by = 8;
	f.read_calls = 0;
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == 0 &&
	      a.nr_vcpus == 3 + 24 && f.read_calls > 2 &&
	      f.read_calls < KVMW_DEV_MAX_TRIES,
	      "growing answer: retried with headroom (%u calls)",
	      f.read_calls);
	kvmw_stats_answer_free(&a);
	f.always_short = true;
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == -EAGAIN && !a.vms,
	      "answer growing forever: EAGAIN");
	f.always_short = false;
	f.lie_e2big = true;
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == -EPROTO,
	      "E2BIG although it fits: EPROTO");
	f.lie_e2big = false;
	f.vms[1].reasons[0].vcpu_index = 5;
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == -EPROTO && !a.vms,
	      "reason of a vCPU out of the answer: EPROTO");
	f.vms[1].reasons[0].vcpu_index = 0;
	f.vms[0].vcpus[1].first_reason = 4;
	CHECK(kvmw_dev_stats_read(&dev, &l, 0, &a) == -EPROTO,
	      "reasons of another vCPU: EPROTO");
	f.vms[0].vcpus[1].first_reason = 3;
	kvmw_dev_layout_free(&l);
	kvmw_dev_close(&dev);
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

/* What the source says it measures, and which ioctls it used. */
static void test_source(void)
{
	struct kvmw_snapshot m;
	struct kvmw_source src;
	struct fake_dev f;

	fake_stats(&f);
	f.stats_nodes = 2;
	CHECK(kvmw_source_open(&src, &kvmw_source_dev, "fake", &f.ops) == 0 &&
	      src.host.nr_nodes == 2 && f.desc_calls == 2,
	      "layout learnt at open: 2 nodes");
	CHECK(kvmw_source_dev_stats(&src), "the source reads statistics");
	f.hs.untracked_exits = 5;
	CHECK(kvmw_source_info(&src) == 0 && src.host.untracked_exits == 5 &&
	      src.host.nr_nodes == 2, "host info read again");
	CHECK(kvmw_snapshot_take(&src, NULL, 0, true, &m) == 0 &&
	      m.nr_vms == 2 && f.read_calls == 2 && !f.snap_calls &&
	      !f.all_calls && !f.list_calls,
	      "snapshot through STATS_READ only");
	CHECK(m.nr_vms == 2 && m.vms[0].exits == 1000 &&
	      m.vms[0].vcpus[0].u.faults.node[1] == 6 &&
	      m.vms[0].vcpus[1].u.sched.run_node_ns[1] == 300000000 &&
	      m.vms[0].mem.node[0] == 2250 && m.vms[0].total.faults.timed == 50,
	      "values found by name");
	kvmw_snapshot_free(&m);
	{
		__u64 id = 2;

		f.read_calls = 0;
		CHECK(kvmw_snapshot_take(&src, &id, 1, true, &m) == 0 &&
		      m.nr_vms == 1 && m.vms[0].vm_id == 2 &&
		      f.read_calls == 2, "one VM asked for");
		kvmw_snapshot_free(&m);
		id = 77;
		CHECK(kvmw_snapshot_take(&src, &id, 1, true, &m) == 0 &&
		      m.nr_vms == 0, "an unknown VM: none");
		kvmw_snapshot_free(&m);
	}
	kvmw_source_close(&src);

	/* A feature whose statistics are not all described: not measured. */
	f.stats_drop = "rq_delay_hist";
	f.desc_calls = 0;
	CHECK(kvmw_source_open(&src, &kvmw_source_dev, "fake", &f.ops) == 0 &&
	      !(src.host.features & KVMW_FEAT_SCHED) &&
	      (src.host.features & KVMW_FEAT_FAULTS),
	      "rq_delay_hist not described: sched not measured");
	CHECK(kvmw_snapshot_take(&src, NULL, 0, true, &m) == 0 &&
	      m.vms[0].vcpus[0].last_cpu == KVMW_NONE &&
	      m.vms[0].vcpus[0].u.sched.preemptions == 0 &&
	      !m.vms[0].vcpus[0].u.sched.hist.nr_buckets,
	      "and its figures are not filled in");
	kvmw_snapshot_free(&m);
	kvmw_source_close(&src);

	/* Without the exit counts the statistics cannot serve: v1. */
	f.stats_drop = "exits";
	f.read_calls = 0;
	CHECK(kvmw_source_open(&src, &kvmw_source_dev, "fake", &f.ops) == 0 &&
	      src.host.nr_nodes == KVMW_MAX_NODES &&
	      kvmw_snapshot_take(&src, NULL, 0, true, &m) == 0 &&
	      m.nr_vms == 2 && !f.read_calls && f.snap_calls,
	      "no exit counts described: the v1 snapshots");
	CHECK(!kvmw_source_dev_stats(&src), "and the source says so");
	kvmw_snapshot_free(&m);
	kvmw_source_close(&src);
	f.stats_drop = NULL;
	CHECK(f.opens == f.closes, "device closed every time");
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

/* The generic part: every described statistic, known or not. */
static void test_generic(void)
{
	static const char * const has[] = {
		/* Descriptors, the extra one first (the others reversed). */
		"\"stats\": {\n    \"nr_nodes\": 16,\n    \"descriptors\": [\n"
		"      {\n        \"name\": \"throttle_time\",\n"
		"        \"scope\": \"vcpu\",\n        \"kind\": \"counter\",\n"
		"        \"unit\": \"ns\",\n        \"per_node\": false,\n"
		"        \"count\": 1,\n        \"hist\": null\n      },",
		"\"name\": \"latency_hist\",\n        \"scope\": \"reason\",\n"
		"        \"kind\": \"histogram\",\n        \"unit\": \"ns\",\n"
		"        \"per_node\": false,\n        \"count\": 32,\n"
		"        \"hist\": {\n          \"type\": \"log2\",\n"
		"          \"sub_bits\": 0,\n          \"nr_buckets\": 32\n",
		/* VM 1's vCPU 1: the unknown statistic with its value. */
		"\"stats\": {\n            \"throttle_time\": 1007,\n",
		"\"run_time_node\": [100000000, 300000000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n"
		"            \"last_node\": 1,\n            \"last_cpu\": 5,\n",
		/* Its IO_INSTRUCTION reason record. */
		"\"stats\": {\n                \"latency_hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 8, 0,",
		"\"user_time\": 400000,\n                \"user_exits\": 38,\n",
		/* VM 1's record. */
		"\"mem_samples_node\": [2250, 750, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n"
		"        \"mem_pass_time\": 100500000000,\n",
	};
	char *x, *y, *cx, *cy;
	size_t i;

	x = fixture_text("stat-json-extra-stats");
	for (i = 0; i < ARRAY_SIZE(has); i++)
		check_has(x, has[i], "stat --json: generic part as described");
	/* VM 4 is only in the first snapshot: its last values. */
	CHECK(count_of(x, "\"throttle_time\": ") == 5,
	      "throttle_time in each of the 5 vCPU records");
	CHECK(count_of(x, "\"stats\": null") == 10,
	      "no generic values for the 10 reasons of the VM totals");
	y = fixture_text("stat-json");
	cx = comparable(x, NULL);
	cy = comparable(y, NULL);
	CHECK(!strcmp(strstr(cx, "\"untracked_exits\""),
		      strstr(cy, "\"untracked_exits\"")),
	      "a statistic the library does not know changes nothing else");
	free(x);
	free(y);
	free(cx);
	free(cy);
}

void test_stats_dev(void)
{
	tap_diag("self-describing statistics (fake module)");
	test_layout();
	test_read();
	test_source();
	test_fixture_same();
	test_generic();
}
