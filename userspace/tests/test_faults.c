// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested page faults: aggregation of the VER2 vCPU fields across vCPUs,
 * node shares and the dominant node, fault latency percentiles, the
 * faults line and the per-vCPU fault table, the JSON "faults" objects and
 * an older module (no faults feature: no fault output, JSON null).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "helpers.h"
#include "json_check.h"
#include "libkvmwarden.h"
#include "tap.h"

/*
 * A VM on a 2-node host with 3 vCPUs: vCPU 0 faults on node 0, vCPU 1
 * on node 1 (one fault still in flight, one MMIO), vCPU 2 not at all.
 */
static void build_vm(struct kvmw_vm_snap *s)
{
	snap_init(s, 8, 80, "numa", KVMW_VENDOR_SVM);
	snap_add_vcpu(s, 0, 81);
	snap_add_reason(s, 0x400, 10);			/* npf */
	/* 10 timed, 6000 ns each. */
	snap_set_faults(s, 10, 4, 1, 2, 0, 60000, 7000);
	snap_add_fault_hist(s, 12, 10);
	snap_add_fault_node(s, 0, 9);
	snap_add_fault_node(s, -1, 1);
	snap_add_vcpu(s, 1, 82);
	snap_add_reason(s, 0x400, 6);
	/* 5 timed: 3 x 3000 + 20000 + 21000; the 6th is in flight. */
	snap_set_faults(s, 6, 6, 0, 3, 1, 50000, 21000);
	snap_add_fault_hist(s, 11, 3);
	snap_add_fault_hist(s, 14, 2);
	snap_add_fault_node(s, 1, 5);
	snap_add_fault_node(s, -1, 1);
	snap_add_vcpu(s, 2, 83);
	snap_add_reason(s, 0x78, 2);			/* hlt */
}

static void check_pct(const struct kvmw_faults *f, unsigned int k,
		      int want_b, __u64 want_lo, __u64 want_hi,
		      const char *what)
{
	const struct kvmw_pct *p = &f->pct[k];

	CHECK(p->bucket == want_b && p->lo == want_lo && p->hi == want_hi,
	      "%s", what);
	if (p->bucket != want_b || p->lo != want_lo || p->hi != want_hi)
		tap_diag("got bucket %d [%llu, %llu]", p->bucket,
			 (unsigned long long)p->lo, (unsigned long long)p->hi);
}

/* The dominant node of one vCPU with @a faults on @na and @b on @nb. */
static int dominant_of(int na, __u64 a, int nb, __u64 b, double *pct)
{
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;
	int node;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 2);
	snap_set_faults(&s, a + b, 0, 0, 0, 0, 0, 0);
	snap_add_fault_node(&s, na, a);
	snap_add_fault_node(&s, nb, b);
	vm = model_of(&m, &s, KVMW_FEAT_FAULTS);
	node = vm->total.faults.dominant_node;
	*pct = vm->total.faults.dominant_node_pct.v;
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);
	return node;
}

static void test_aggregate(void)
{
	const struct kvmw_faults *f;
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;
	double d = -1;
	unsigned int k;
	bool zero = true;

	build_vm(&s);
	vm = model_of(&m, &s, FEAT_ALL);
	f = &vm->total.faults;
	CHECK_U64(f->count, 16, "VM faults: 10 + 6");
	CHECK(f->write == 10 && f->fetch == 1 && f->present == 5 &&
	      f->mmio == 1, "VM write 10, fetch 1, present 5, mmio 1: summed");
	CHECK_U64(f->timed, 15, "VM timed faults: 10 + 5 (one in flight)");
	CHECK_U64(f->lat_total_ns, 110000, "VM fault time 60000 + 50000");
	CHECK_U64(f->lat_max_ns, 21000, "VM max: the max of the maxes");
	CHECK(f->hist.buckets[11] == 3 && f->hist.buckets[12] == 10 &&
	      f->hist.buckets[14] == 2 && kvmw_hist_total(&f->hist) == 15,
	      "VM histogram summed bucket by bucket: 3, 10, 2");
	CHECK(f->node[0] == 9 && f->node[1] == 5 && f->node_unknown == 2,
	      "VM nodes: 0: 9, 1: 5, unknown 2");
	for (k = 2; k < m.host.nr_nodes; k++)
		zero = zero && !f->node[k];
	CHECK(zero && m.host.nr_nodes == KVMW_MAX_NODES,
	      "VM: no fault on nodes 2 to 15");
	CHECK_U64(f->located, 14, "VM located faults: 9 + 5");
	CHECK(f->mean_ns.ok && near(f->mean_ns.v, 110000.0 / 15),
	      "VM mean fault latency 110000 / 15 (timed, not counted)");
	CHECK(f->dominant_node == 0 &&
	      near(f->dominant_node_pct.v, 900.0 / 14),
	      "VM dominant node 0: 9 of the 14 located, 64.3%%");
	CHECK(f->write_pct.ok && near(f->write_pct.v, 62.5),
	      "VM write share: 10 of 16");
	/* Ranks of 15: p50 8th (bucket 12), p90 14th and p99 15th (14). */
	check_pct(f, KVMW_P50, 12, 4096, 8192,
		  "VM fault p50: bucket 12, max above it");
	check_pct(f, KVMW_P90, 14, 16384, 21000,
		  "VM fault p90: bucket 14, narrowed to the max");
	check_pct(f, KVMW_P99, 14, 16384, 21000, "VM fault p99: bucket 14");

	f = &vm->vcpus[1].u.faults;
	CHECK(f->count == 6 && f->timed == 5 && f->lat_max_ns == 21000 &&
	      f->located == 5 && f->node_unknown == 1,
	      "vCPU 1 alone: its own figures");
	CHECK(f->dominant_node == 1 && f->dominant_node_pct.v == 100,
	      "vCPU 1: all located faults on node 1");
	/* 3 x bucket 11, 2 x bucket 14: the lower end is the bucket's. */
	check_pct(f, KVMW_P50, 11, 2048, 4096, "vCPU 1 p50: bucket 11");

	f = &vm->vcpus[2].u.faults;
	CHECK(f->count == 0 && f->timed == 0 && !f->mean_ns.ok &&
	      f->dominant_node == -1 && !f->dominant_node_pct.ok &&
	      !f->write_pct.ok,
	      "vCPU without faults: no mean, no dominant node, no shares");
	check_pct(f, KVMW_P50, -1, 0, 0, "vCPU without faults: no p50");
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);

	/* A tie goes to the lower node; node 15 is a node like another. */
	CHECK(dominant_of(15, 4, 3, 4, &d) == 3 && d == 50,
	      "tie between nodes 3 and 15: node 3, 50%%");
	CHECK(dominant_of(15, 5, 3, 4, &d) == 15, "node 15 dominant");
}

static void test_table(struct fixture *fx, const struct kvmw_delta_vm *rows,
		       size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	struct out o;
	int ret;

	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0, "faults: table printed");
	check_has(o.s, "overhead 0.11%\n                 faults: 50 (write 40.0%, "
		  "fetch 10.0%, present 20.0%, mmio 0.0%), latency mean 4.00us, "
		  "P50 4.10us, P99 7.00us, max 7.00us; nodes: 0: 42 (87.5%), "
		  "1: 6 (12.5%), unknown: 2; 87.5% on node 0\n"
		  "                 sched: ",
		  "VM 1 faults line under its time line: shares, latency, nodes");
	check_has(o.s, "untimed exits 1\n                 faults: 300 (write 50.0%, "
		  "fetch 0.0%, present 10.0%, mmio 20.0%), latency mean 1.83us, "
		  "P50 2.05us, P99 3.90us, max 3.90us; nodes: 0: 60 (25.0%), "
		  "1: 180 (75.0%), unknown: 60; 75.0% on node 1\n",
		  "VM 3 faults line: MMIO unknown, node 1 dominant");
	check_has(o.s, "overhead -\n                 faults: 0\n                 sched: ",
		  "VM without faults: faults 0, nothing else");
	CHECK_U64(count_of(o.s, "                 faults: "), 4,
		  "a faults line per VM");
	CHECK(!strstr(o.s, "\nFaults:") && !strstr(o.s, "at least half"),
	      "no explanation under the table (kvmwarden(8) has it)");
	free(o.s);

	opts.top = 0;
	opts.detail = false;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "faults") && !strstr(o.s, "Faults"),
	      "-n 0 without -l: one line per VM, no faults line");
	free(o.s);
}

static void test_vcpus(struct fixture *fx, const struct kvmw_delta_vm *rows)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	struct out o;
	int ret;

	out_open(&o);
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[0], &opts);
	out_close(&o);
	CHECK(ret == 0, "faults: stat -v printed");
	check_has(o.s, "     1     4251            200            200    500ms"
		  "     449us     0.09%      0ns    400us        0\n"
		  "\n  VCPU       FAULTS        WRITE        FETCH      PRESENT"
		  "         MMIO     MEAN      MAX      NODE0      NODE1    UNKNOWN\n"
		  "     0           50           20            5           10"
		  "            0   4.00us   7.00us         42          6          2\n"
		  "     1            0            0            0            0"
		  "            0        -        -          0          0          0\n",
		  "stat -v: a fault row per vCPU after the vCPU table");
	CHECK(!strstr(o.s, "\nFaults:"), "stat -v: no fault footer");
	free(o.s);

	/* VM 3: only node columns with faults, MMIO counted. */
	out_open(&o);
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[2], &opts);
	out_close(&o);
	check_has(o.s, "         MMIO     MEAN      MAX      NODE0      NODE1    UNKNOWN\n"
		  "     0          300          150            0           30"
		  "           60   1.83us   3.90us         60        180         60\n",
		  "stat -v 3: SVM faults with MMIO");
	free(o.s);

	/* VM 2: no fault anywhere, no node column. */
	out_open(&o);
	opts.top = 0;
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[1], &opts);
	out_close(&o);
	check_has(o.s, "         MMIO     MEAN      MAX    UNKNOWN\n"
		  "     0            0            0            0            0"
		  "            0        -        -          0\n",
		  "stat -v 2 -n 0: no faults, only the unknown column");
	free(o.s);
}

static void test_fault_json(struct fixture *fx,
			    const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	static const char * const keys[] = {
		/* The document says how to read them. */
		"\"faults\": {\n    \"measured\": true,\n    \"max_nodes\": 16\n  },",
		/* VM 1: its vCPU 0's faults. */
		"\"faults\": {\n        \"count\": 50,\n        \"write\": 20,\n        \"fetch\": 5,\n        \"present\": 10,\n        \"mmio\": 0,\n        \"write_pct\": 40.000,\n        \"fetch_pct\": 10.000,\n        \"present_pct\": 20.000,\n        \"mmio_pct\": 0.000,\n        \"timed\": 50,\n        \"total_ns\": 200000,\n        \"mean_ns\": 4000.000,\n        \"max_ns\": 7000,\n        \"p50_ns\": {\n          \"bucket\": 11,\n          \"lo\": 2048,\n          \"hi\": 4096\n        },\n        \"p90_ns\": {\n          \"bucket\": 12,\n          \"lo\": 4096,\n          \"hi\": 7000\n        },\n        \"p99_ns\": {\n          \"bucket\": 12,\n          \"lo\": 4096,\n          \"hi\": 7000\n        },\n        \"p99_9_ns\": {\n          \"bucket\": 12,\n          \"lo\": 4096,\n          \"hi\": 7000\n        },\n        \"hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n        \"nodes\": {\n          \"0\": 42,\n          \"1\": 6,\n          \"unknown\": 2\n        },\n        \"located\": 48,\n        \"dominant_node\": 0,\n        \"dominant_node_pct\": 87.500,\n        \"node_pct\": {\n          \"0\": 87.500,\n          \"1\": 12.500\n        }\n      },\n      \"sched\": {",
		/* VM 1's vCPU 1: no fault, so nothing to share or time. */
		"\"faults\": {\n            \"count\": 0,\n            \"write\": 0,\n            \"fetch\": 0,\n            \"present\": 0,\n            \"mmio\": 0,\n            \"write_pct\": null,\n            \"fetch_pct\": null,\n            \"present_pct\": null,\n            \"mmio_pct\": null,\n            \"timed\": 0,\n            \"total_ns\": 0,\n            \"mean_ns\": null,\n            \"max_ns\": null,\n            \"p50_ns\": null,\n            \"p90_ns\": null,\n            \"p99_ns\": null,\n            \"p99_9_ns\": null,\n            \"hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n            \"nodes\": {\n              \"unknown\": 0\n            },\n            \"located\": 0,\n            \"dominant_node\": null,\n            \"dominant_node_pct\": null,\n            \"node_pct\": {}\n          },\n          \"sched\": {",
		/* VM 3 (SVM): MMIO, node 1 dominant. */
		"\"count\": 300,\n        \"write\": 150,\n        \"fetch\": 0,\n        \"present\": 30,\n        \"mmio\": 60,\n        \"write_pct\": 50.000,\n        \"fetch_pct\": 0.000,\n        \"present_pct\": 10.000,\n        \"mmio_pct\": 20.000,\n        \"timed\": 300,\n        \"total_ns\": 550000,\n        \"mean_ns\": 1833.333,\n        \"max_ns\": 3900,\n        \"p50_ns\": {\n          \"bucket\": 10,\n          \"lo\": 1024,\n          \"hi\": 2048\n        },\n        \"p90_ns\": {\n          \"bucket\": 11,\n          \"lo\": 2048,\n          \"hi\": 3900\n        },",
		"\"nodes\": {\n          \"0\": 60,\n          \"1\": 180,\n          \"unknown\": 60\n        },\n        \"located\": 240,\n        \"dominant_node\": 1,\n        \"dominant_node_pct\": 75.000,\n        \"node_pct\": {\n          \"0\": 25.000,\n          \"1\": 75.000\n        }\n",
	};
	struct out o;
	size_t i;
	int ret;

	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len), "faults: valid JSON");
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		CHECK(strstr(o.s, keys[i]), "faults JSON has expected text #%zu",
		      i);
		if (!strstr(o.s, keys[i]))
			tap_diag("missing: %s", keys[i]);
	}
	CHECK(strstr(o.s, "\"faults\",\n    \"sched\""),
	      "faults listed as a feature");
	CHECK_U64(count_of(o.s, "\"faults\": {\n"), 1 + 4 + 5,
		  "a faults object for the document, the 4 VMs and 5 vCPUs");
	CHECK(!strstr(o.s, "\"faults\": null"), "no null faults");
	free(o.s);
}

/* A module without the faults feature: no fault output at all. */
static void test_no_faults(struct fixture *fx,
			   const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	__u64 features = fx->cur.hs.features;
	struct out o;
	int ret;

	/* The fault fields stay filled: the feature bit alone decides. */
	fx->cur.hs.features &= ~KVMW_FEAT_FAULTS;
	fixture_model(fx);
	rows = fx->rows;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "faults") && !strstr(o.s, "Faults") &&
	      strstr(o.s, "overhead 0.11%\n                 sched: "),
	      "no faults feature: no faults line, no footer");
	free(o.s);

	out_open(&o);
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[0], &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "FAULTS") && !strstr(o.s, "Faults") &&
	      strstr(o.s, "UNTIMED\n     0 "),
	      "no faults feature: no fault table in stat -v");
	free(o.s);

	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len), "no faults: valid JSON");
	CHECK(count_of(o.s, "\"faults\": null") == 4 + 5 &&
	      strstr(o.s, "\"faults\": {\n    \"measured\": false,") &&
	      !strstr(o.s, "\"write_pct\"") && !strstr(o.s, "\"located\"") &&
	      count_of(o.s, "\"hist\": [") == 10 + 11 + 4 + 5,
	      "no faults: JSON faults null for VMs and vCPUs, never 0");
	CHECK(!strstr(o.s, "\"faults\",\n"), "no faults: not a feature");
	free(o.s);
	fx->cur.hs.features = features;
	fixture_model(fx);
	rows = fx->rows;
}

/* Through the device: the CLI asks for VER3, an older module fills VER1. */
static void test_device(void)
{
	struct kvmw_vm_snap *v;
	struct fake_dev f;
	struct run run;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_LATENCY | KVMW_FEAT_FAULTS;
	v = fake_add_vm(&f, 6, 600, "qemu", 2);
	v->vcpus[0].faults = 7;
	v->vcpus[0].fault_write = 7;
	v->vcpus[0].fault_node[1] = 7;
	v->vcpus[0].fault_lat_total_ns = 7000;
	v->vcpus[0].fault_lat_max_ns = 1500;
	v->vcpus[0].fault_hist[9] = 2;
	v->vcpus[0].fault_hist[10] = 5;
	v->vcpus[1].faults = 1;
	v->vcpus[1].fault_fetch = 1;
	v->vcpus[1].fault_node[0] = 1;
	v->vcpus[1].fault_lat_total_ns = 3000;
	v->vcpus[1].fault_lat_max_ns = 3000;
	v->vcpus[1].fault_hist[11] = 1;

	run_cli(&run, &f.ops, "stat", "-i", "0", "-l", NULL);
	check_has(run.out, "faults: 8 (write 87.5%, fetch 12.5%, present 0.0%, "
		  "mmio 0.0%), latency mean 1.25us, P50 2.05us, P99 3.00us, "
		  "max 3.00us; nodes: 0: 1 (12.5%), 1: 7 (87.5%), unknown: 0; "
		  "87.5% on node 1\n",
		  "device: the VM's faults summed over its 2 vCPUs");
	CHECK(run.rc == 0 && f.last_vcpu_info_size == KVMW_VCPU_INFO_SIZE_VER3,
	      "device: vCPUs asked for in the newest layout (VER3, 992 bytes)");
	run_free(&run);

	run_cli(&run, &f.ops, "stat", "-i", "0", "--json", NULL);
	CHECK(run.rc == 0 && json_valid(run.out, run.out_len) &&
	      strstr(run.out, "\"nodes\": {\n          \"0\": 1,\n          \"1\": 7,\n          \"unknown\": 0\n        },"),
	      "device: JSON nodes of the VM");
	run_free(&run);

	/* An older module fills only the VER1 part and zeroes the rest. */
	f.hs.features &= ~KVMW_FEAT_FAULTS;
	f.vcpu_size = KVMW_VCPU_INFO_SIZE_VER1;
	run_cli(&run, &f.ops, "stat", "-i", "0", "-v", "6", NULL);
	CHECK(run.rc == 0 && strstr(run.out, "OVERHEAD%") &&
	      !strstr(run.out, "faults") && !strstr(run.out, "FAULTS"),
	      "older module: no faults in the table or stat -v");
	run_free(&run);
	run_cli(&run, &f.ops, "stat", "-i", "0", "--json", NULL);
	CHECK(run.rc == 0 && json_valid(run.out, run.out_len) &&
	      count_of(run.out, "\"faults\": null") == 1 + 2 &&
	      strstr(run.out, "\"measured\": false,\n    \"max_nodes\""),
	      "older module: JSON faults null");
	run_free(&run);

	CHECK(f.bad_requests == 0, "fault reads followed the UAPI rules");
	fake_free(&f);
}

void test_faults(void)
{
	struct kvmw_delta_vm *rows;
	struct fixture fx;
	size_t nr;

	tap_diag("faults");
	test_aggregate();
	fixture_build(&fx);
	fixture_model(&fx);
	rows = fx.rows;
	nr = fx.nr_rows;
	CHECK(nr == 4,
	      "faults: fixture has 4 rows");
	test_table(&fx, rows, nr);
	test_vcpus(&fx, rows);
	test_fault_json(&fx, rows, nr);
	test_no_faults(&fx, rows, nr);
	fixture_free(&fx);
	test_device();
}
