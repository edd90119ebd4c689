// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scheduler view and memory locality: aggregation of the VER3 vCPU
 * fields, steal, run-queue percentiles, the home node and the remote
 * ratio, the sched and memory lines, the per-vCPU sched table, the JSON
 * "sched" and "mem" objects, and modules without the features (no
 * output, JSON null).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "helpers.h"
#include "json_check.h"
#include "libkvmwarden.h"
#include "tap.h"

static void check_pct(const struct kvmw_sched *s, unsigned int k,
		      int want_b, __u64 want_lo, __u64 want_hi,
		      const char *what)
{
	const struct kvmw_pct *p = &s->pct[k];

	CHECK(p->bucket == want_b && p->lo == want_lo && p->hi == want_hi,
	      "%s", what);
	if (p->bucket != want_b || p->lo != want_lo || p->hi != want_hi)
		tap_diag("got bucket %d [%llu, %llu]", p->bucket,
			 (unsigned long long)p->lo, (unsigned long long)p->hi);
}

/* The home node and remote ratio of @s, as the model derives them. */
static struct kvmw_opt remote_of(const struct kvmw_vm_snap *s, int *home)
{
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm = model_of(&m, s, FEAT_ALL);
	struct kvmw_opt o = vm->mem.remote_pct;

	*home = vm->total.sched.home_node;
	kvmw_snapshot_free(&m);
	return o;
}

/* The fixture's VMs (see fixture.c for the numbers). */
static void test_aggregate(struct fixture *fx)
{
	const struct kvmw_vm *vm1 = &fx->mcur.vms[0];
	const struct kvmw_vm *vm2 = &fx->mcur.vms[1];
	const struct kvmw_vm *vm3 = &fx->mcur.vms[2];
	const struct kvmw_sched *sc;
	struct kvmw_vm_snap s;
	struct kvmw_opt o;
	int home = 7;

	sc = &vm1->total.sched;
	CHECK(sc->rq_delay_ns == 3000000 && sc->rq_delay_count == 120 &&
	      sc->rq_delay_max_ns == 100000,
	      "VM 1 run-queue delay 2.6 + 0.4 ms over 100 + 20 waits, max of the maxes");
	CHECK(sc->hist.buckets[14] == 108 && sc->hist.buckets[15] == 2 &&
	      sc->hist.buckets[16] == 10 && sc->timed == 120,
	      "VM 1 wait histogram summed bucket by bucket");
	CHECK(sc->preemptions == 45 && sc->sleeps == 75 &&
	      sc->migrations == 15 && sc->node_migrations == 3,
	      "VM 1 preemptions 40 + 5, sleeps 60 + 15, migrations 12 + 3 (2 + 1 cross-node)");
	CHECK(sc->run_node_ns[0] == 1000000000 &&
	      sc->run_node_ns[1] == 400000000 && sc->run_ns == 1400000000,
	      "VM 1 run time per node summed");
	CHECK_U64(sc->wall_ns, 1500000000 + 137285000 + 849000,
		  "VM 1 wall time: guest + exits of both vCPUs");
	CHECK(sc->mean_ns.ok && near(sc->mean_ns.v, 25000),
	      "VM 1 mean wait 3 ms / 120");
	CHECK(sc->steal_pct.ok &&
	      near(sc->steal_pct.v, 3e6 * 100 / 1638134000.0),
	      "VM 1 steal: run-queue delay / wall time");
	/* Ranks of 120: p50 60th (bucket 14), p99 119th (bucket 16). */
	check_pct(sc, KVMW_P50, 14, 16384, 32768, "VM 1 wait p50: bucket 14");
	check_pct(sc, KVMW_P99, 16, 65536, 100000,
		  "VM 1 wait p99: bucket 16, narrowed to the max");
	CHECK(sc->home_node == 0 && near(sc->home_node_pct.v, 100.0 / 1.4),
	      "VM 1 home node 0: 1.0 s of 1.4 s");
	CHECK(vm1->mem.remote_pct.ok && near(vm1->mem.remote_pct.v, 25),
	      "VM 1 remote: 750 of 3000 resident samples off node 0");

	sc = &vm1->vcpus[1].u.sched;
	CHECK(sc->rq_delay_ns == 400000 && sc->rq_delay_count == 20 &&
	      sc->run_ns == 400000000 && sc->wall_ns == 500849000,
	      "VM 1 vCPU 1 alone");
	check_pct(sc, KVMW_P99, 15, 32768, 40000,
		  "vCPU 1 wait p99: bucket 15");
	/* Its own home would be node 1; the VM's is the sum's. */
	CHECK(sc->home_node == 1 && near(sc->home_node_pct.v, 75),
	      "vCPU 1 ran 75%% on node 1");

	sc = &vm3->total.sched;
	CHECK(!sc->mean_ns.ok && sc->steal_pct.ok && sc->steal_pct.v == 0,
	      "VM 3 never waited: no mean, steal 0%%");
	check_pct(sc, KVMW_P99, -1, 0, 0, "VM 3: no wait percentile");
	CHECK_U64(vm3->mem.resident, 4000,
		  "VM 3 resident samples 2700 + 1200 + 100 on a node >= 16");
	CHECK(vm3->mem.remote_pct.ok && sc->home_node == 1 &&
	      near(vm3->mem.remote_pct.v, 70),
	      "VM 3 remote: node 0 and node >= 16 count, 2800 of 4000");

	sc = &vm2->total.sched;
	CHECK(sc->home_node == -1 && !sc->home_node_pct.ok &&
	      !sc->steal_pct.ok, "VM 2 never ran: no home node, no steal");
	CHECK(!vm2->mem.remote_pct.ok, "VM 2: no remote ratio");

	/* Time-weighted: 3 short vCPUs on node 2 lose to one long on 5. */
	snap_init(&s, 9, 90, "weights", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 91);
	s.vcpus[0].run_node_ns[5] = 1000;
	snap_add_vcpu(&s, 1, 92);
	s.vcpus[1].run_node_ns[2] = 300;
	snap_add_vcpu(&s, 2, 93);
	s.vcpus[2].run_node_ns[2] = 300;
	snap_add_vcpu(&s, 3, 94);
	s.vcpus[3].run_node_ns[2] = 300;
	s.mem.passes = 1;
	s.mem.stride = 1;
	s.mem.node[2] = 30;
	s.mem.node[5] = 10;
	o = remote_of(&s, &home);
	CHECK(o.ok && home == 5 && near(o.v, 75),
	      "home node by run time, not by vCPU count: node 5, remote 30 of 40");
	/* A tie goes to the lower node. */
	s.vcpus[0].run_node_ns[5] = 900;
	o = remote_of(&s, &home);
	CHECK(o.ok && home == 2 && near(o.v, 25),
	      "run-time tie: the lower node, remote 10 of 40");
	/* Nothing resident (all unmapped): no ratio, the home still known. */
	memset(s.mem.node, 0, sizeof(s.mem.node));
	s.mem.unmapped = 50;
	o = remote_of(&s, &home);
	CHECK(!o.ok && home == 2, "nothing resident: no remote ratio");
	kvmw_vm_snap_free(&s);
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
	CHECK(ret == 0, "sched: table printed");
	check_has(o.s, "87.5% on node 0\n"
		  "                 sched: run-queue delay 3.00ms (steal 0.18%), 120 waits, "
		  "mean 25.0us, P99 100us, max 100us; preemptions 45, sleeps 75, "
		  "migrations 15 (cross-node 3); run time: node 0 71.4%, node 1 28.6%\n"
		  "                 memory: 262144 pages, ~192000 resident (3000 of "
		  "4096 samples, stride 64, 5 passes): node 0 ~144000 (75.0%), "
		  "node 1 ~48000 (25.0%); remote 25.0% (home node 0)\n     2 ",
		  "VM 1: sched and memory lines under the faults line");
	check_has(o.s, "                 faults: 0\n"
		  "                 sched: run-queue delay 0ns (steal -), 0 waits; "
		  "preemptions 0, sleeps 0, migrations 0 (cross-node 0); run time: -\n"
		  "                 memory: no complete sampling pass yet\n     3 ",
		  "VM 2: nothing seen, no memory pass yet");
	check_has(o.s, "75.0% on node 1\n"
		  "                 sched: run-queue delay 0ns (steal 0.00%), 0 waits; "
		  "preemptions 0, sleeps 30, migrations 0 (cross-node 0); run time: "
		  "node 1 100.0%\n"
		  "                 memory: 131072 pages, ~128000 resident (4000 of "
		  "4096 samples, stride 32, 1 pass): node 0 ~86400 (67.5%), node 1 "
		  "~38400 (30.0%), unknown ~3200 (2.5%); remote 70.0% (home node 1)\n",
		  "VM 3: unknown node resident and counted as remote");
	CHECK_U64(count_of(o.s, "                 sched: "), 4,
		  "a sched line per VM");
	CHECK_U64(count_of(o.s, "                 memory: "), 4,
		  "a memory line per VM");
	CHECK(!strstr(o.s, "\nSched:") && !strstr(o.s, "\nMemory:"),
	      "no sched or memory explanation under the table");
	free(o.s);

	opts.top = 0;
	opts.detail = false;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "sched") && !strstr(o.s, "memory"),
	      "-n 0 without -l: one line per VM, no sched or memory line");
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
	CHECK(ret == 0, "sched: stat -v printed");
	check_has(o.s, "          0          0\n"
		  "\n  VCPU LASTCPU LASTNODE  RQDELAY  STEAL%      WAITS     MEAN"
		  "      MAX    PREEMPT     SLEEPS       MIGR      XNODE  NODE0%  NODE1%\n"
		  "     0       3        0   2.60ms   0.23%        100   26.0us"
		  "    100us         40         60         12          2   90.0%   10.0%\n"
		  "     1       5        1    400us   0.08%         20   20.0us"
		  "   40.0us          5         15          3          1   25.0%   75.0%\n"
		  "\nVM 1 vCPU 0 (tid 4250)",
		  "stat -v: a sched row per vCPU after the fault table");
	CHECK(!strstr(o.s, "\nSched: "), "stat -v: no sched footer");
	free(o.s);

	/* VM 2: never seen by the scheduler: no CPU, no node column. */
	out_open(&o);
	opts.top = 0;
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[1], &opts);
	out_close(&o);
	check_has(o.s, "    PREEMPT     SLEEPS       MIGR      XNODE\n"
		  "     0       -        -      0ns       -          0        -"
		  "        -          0          0          0          0\n",
		  "stat -v 2: last CPU and node unknown, no wait, no node column");
	free(o.s);
}

static void test_sched_json(struct fixture *fx,
			    const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	static const char * const keys[] = {
		"\"sched\": {\n    \"measured\": true\n  },",
		"\"mem\": {\n    \"measured\": true\n  },",
		/* VM 1 over both vCPUs. */
		"\"sched\": {\n        \"rq_delay_ns\": 3000000,\n        \"rq_delay_count\": 120,\n        \"rq_delay_max_ns\": 100000,\n        \"rq_delay_mean_ns\": 25000.000,\n        \"wall_ns\": 1638134000,\n        \"steal_pct\": 0.183,\n        \"p50_ns\": {\n          \"bucket\": 14,\n          \"lo\": 16384,\n          \"hi\": 32768\n        },\n        \"p90_ns\": {\n          \"bucket\": 14,\n          \"lo\": 16384,\n          \"hi\": 32768\n        },\n        \"p99_ns\": {\n          \"bucket\": 16,\n          \"lo\": 65536,\n          \"hi\": 100000\n        },\n        \"p99_9_ns\": {\n          \"bucket\": 16,\n          \"lo\": 65536,\n          \"hi\": 100000\n        },\n        \"hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 108, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n        \"preemptions\": 45,\n        \"sleeps\": 75,\n        \"migrations\": 15,\n        \"node_migrations\": 3,\n        \"run_ns\": 1400000000,\n        \"run_node_ns\": {\n          \"0\": 1000000000,\n          \"1\": 400000000\n        },\n        \"run_node_pct\": {\n          \"0\": 71.429,\n          \"1\": 28.571\n        },\n        \"home_node\": 0,\n        \"home_node_pct\": 71.429\n      },\n      \"mem\": {\n        \"pages\": 262144,\n        \"stride\": 64,\n        \"sampled\": 4096,\n        \"unmapped\": 1096,\n        \"node_unknown\": 0,\n        \"passes\": 5,\n        \"pass_ns\": 100500000000,\n        \"node\": [2250, 750, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n        \"resident_samples\": 3000,\n        \"resident_pages_est\": 192000,\n        \"nodes\": {\n          \"0\": {\n            \"samples\": 2250,\n            \"pages_est\": 144000,\n            \"pct\": 75.000\n          },\n          \"1\": {\n            \"samples\": 750,\n            \"pages_est\": 48000,\n            \"pct\": 25.000\n          }\n        },\n        \"home_node\": 0,\n        \"remote_pct\": 25.000\n      },\n      \"budget\": null,\n      \"vcpus\": [",
		/* VM 1's vCPU 1: its last CPU and node first. */
		"\"sched\": {\n            \"last_cpu\": 5,\n            \"last_node\": 1,\n            \"rq_delay_ns\": 400000,\n            \"rq_delay_count\": 20,\n            \"rq_delay_max_ns\": 40000,\n            \"rq_delay_mean_ns\": 20000.000,\n            \"wall_ns\": 500849000,\n            \"steal_pct\": 0.080,",
		"\"run_node_pct\": {\n              \"0\": 25.000,\n              \"1\": 75.000\n            },\n            \"home_node\": 1,\n            \"home_node_pct\": 75.000\n          },\n          \"stats\": null\n        }\n      ],\n      \"stats\": null\n    },",
		/* VM 2: never seen, no pass yet. */
		"\"sched\": {\n            \"last_cpu\": null,\n            \"last_node\": null,\n            \"rq_delay_ns\": 0,\n            \"rq_delay_count\": 0,\n            \"rq_delay_max_ns\": 0,\n            \"rq_delay_mean_ns\": null,\n            \"wall_ns\": 0,\n            \"steal_pct\": null,\n            \"p50_ns\": null,",
		"\"passes\": 0,\n        \"pass_ns\": 0,\n        \"node\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],\n        \"resident_samples\": 0,\n        \"resident_pages_est\": 0,\n        \"nodes\": {},\n        \"home_node\": null,\n        \"remote_pct\": null\n      },",
		/* VM 3: the unknown node as a node of its own. */
		"\"unknown\": {\n            \"samples\": 100,\n            \"pages_est\": 3200,\n            \"pct\": 2.500\n          }\n        },\n        \"home_node\": 1,\n        \"remote_pct\": 70.000\n",
	};
	struct out o;
	size_t i;
	int ret;

	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len), "sched: valid JSON");
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		CHECK(strstr(o.s, keys[i]), "sched JSON has expected text #%zu",
		      i);
		if (!strstr(o.s, keys[i]))
			tap_diag("missing: %s", keys[i]);
	}
	CHECK(strstr(o.s, "\"sched\",\n    \"mem_numa\"\n  ]"),
	      "sched and mem_numa listed as features");
	CHECK_U64(count_of(o.s, "\"sched\": {\n"), 1 + 4 + 5,
		  "a sched object for the document, the 4 VMs and 5 vCPUs");
	CHECK_U64(count_of(o.s, "\"mem\": {\n"), 1 + 4,
		  "a mem object for the document and the 4 VMs");
	CHECK_U64(count_of(o.s, "\"last_cpu\": "), 5, "last CPU of each vCPU");
	CHECK(!strstr(o.s, "null,\n      \"mem\"") && !strstr(o.s, "\"sched\": null"),
	      "nothing null with the features");
	free(o.s);
}

/* Modules without the features: nothing shown, JSON null, never 0. */
static void test_old_module(struct fixture *fx,
			    const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	__u64 features = fx->cur.hs.features;
	struct out o;
	int ret;

	/* The fields stay filled: the feature bits alone decide. */
	fx->cur.hs.features &= ~KVMW_FEAT_SCHED;
	fixture_model(fx);
	rows = fx->rows;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "sched:") && !strstr(o.s, "Sched:") &&
	      strstr(o.s, "87.5% on node 0\n                 memory: 262144 pages") &&
	      strstr(o.s, "(25.0%); remote -\n     2 "),
	      "no sched feature: no sched line, memory without remote ratio");
	free(o.s);
	out_open(&o);
	ret = kvmw_print_stat_vcpus(o.f, &fx->mcur, &rows[0], &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "RQDELAY") && !strstr(o.s, "Sched:"),
	      "no sched feature: no sched table in stat -v");
	free(o.s);
	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len) &&
	      count_of(o.s, "\"sched\": null") == 4 + 5 &&
	      strstr(o.s, "\"sched\": {\n    \"measured\": false\n  }") &&
	      !strstr(o.s, "\"rq_delay_ns\"") &&
	      strstr(o.s, "\"home_node\": null,\n        \"remote_pct\": null\n") &&
	      !strstr(o.s, "\"remote_pct\": 25"),
	      "no sched feature: JSON sched null, remote ratio null");
	free(o.s);

	/* Scheduler but no latency: no wall time, so no steal. */
	fx->cur.hs.features = features & ~(KVMW_FEAT_LATENCY |
					   KVMW_FEAT_USER_EXITS);
	fixture_model(fx);
	rows = fx->rows;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	check_has(o.s, "sched: run-queue delay 3.00ms (steal -), 120 waits, mean 25.0us",
		  "no latency feature: steal unknown");
	free(o.s);
	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len) &&
	      strstr(o.s, "\"rq_delay_mean_ns\": 25000.000,\n        \"wall_ns\": null,\n        \"steal_pct\": null,"),
	      "no latency feature: JSON wall time and steal null");
	free(o.s);

	fx->cur.hs.features = features & ~KVMW_FEAT_MEM_NUMA;
	fixture_model(fx);
	rows = fx->rows;
	out_open(&o);
	ret = kvmw_print_stat_table(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && !strstr(o.s, "memory:") && !strstr(o.s, "Memory:") &&
	      strstr(o.s, "node 1 28.6%\n     2 "),
	      "no mem_numa feature: no memory line");
	free(o.s);
	out_open(&o);
	ret = kvmw_print_stat_json(o.f, &fx->mcur, rows, nr, &opts);
	out_close(&o);
	CHECK(ret == 0 && json_valid(o.s, o.len) &&
	      count_of(o.s, "\"mem\": null") == 4 &&
	      strstr(o.s, "\"mem\": {\n    \"measured\": false\n  }") &&
	      !strstr(o.s, "\"stride\""),
	      "no mem_numa feature: JSON mem null");
	free(o.s);
	fx->cur.hs.features = features;
	fixture_model(fx);
	rows = fx->rows;
}

/* Through the device: VER3 fields and the memory, old layouts zeroed. */
static void test_device(void)
{
	struct kvmw_vm_snap *v;
	struct fake_dev f;
	struct run run;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_LATENCY | KVMW_FEAT_SCHED |
			 KVMW_FEAT_MEM_NUMA;
	v = fake_add_vm(&f, 6, 600, "qemu", 2);
	v->vcpus[0].guest_ns = 990000000;
	v->vcpus[0].exit_ns = 10000000;
	snap_set_sched(v, 0, 10000000, 4, 4000000, 3, 1, 2, 1, 1, 0);
	snap_add_rq_hist(v, 0, 20, 2);
	snap_add_rq_hist(v, 0, 21, 2);
	v->vcpus[0].run_node_ns[0] = 500000000;
	v->vcpus[1].run_node_ns[1] = 250000000;
	v->mem.pages = 1000;
	v->mem.stride = 2;
	v->mem.sampled = 500;
	v->mem.passes = 2;
	v->mem.node[0] = 100;
	v->mem.node[1] = 300;

	run_cli(&run, &f.ops, "stat", "-i", "0", "-l", NULL);
	check_has(run.out, "sched: run-queue delay 10.0ms (steal 1.00%), 4 waits, "
		  "mean 2.50ms, P99 4.00ms, max 4.00ms; preemptions 3, sleeps 1, "
		  "migrations 2 (cross-node 1); run time: node 0 66.7%, node 1 33.3%\n"
		  "                 memory: 1000 pages, ~800 resident (400 of 500 "
		  "samples, stride 2, 2 passes): node 0 ~200 (25.0%), node 1 ~600 "
		  "(75.0%); remote 75.0% (home node 0)\n",
		  "device: VER3 fields and the VM's memory read");
	CHECK(run.rc == 0 && f.last_vcpu_info_size == KVMW_VCPU_INFO_SIZE_VER3,
	      "device: vCPUs asked for in the VER3 layout");
	run_free(&run);

	/* An older module: VER2 vCPUs, VER0 snapshot, no feature bits. */
	f.hs.features &= ~(KVMW_FEAT_SCHED | KVMW_FEAT_MEM_NUMA);
	f.vcpu_size = KVMW_VCPU_INFO_SIZE_VER2;
	f.snapshot_size = KVMW_VM_SNAPSHOT_SIZE_VER0;
	run_cli(&run, &f.ops, "stat", "-i", "0", "--json", NULL);
	CHECK(run.rc == 0 && json_valid(run.out, run.out_len) &&
	      count_of(run.out, "\"sched\": null") == 1 + 2 &&
	      count_of(run.out, "\"mem\": null") == 1,
	      "older module: JSON sched and mem null");
	run_free(&run);
	run_cli(&run, &f.ops, "stat", "-i", "0", "-v", "6", NULL);
	CHECK(run.rc == 0 && strstr(run.out, "OVERHEAD%") &&
	      !strstr(run.out, "sched") && !strstr(run.out, "memory") &&
	      !strstr(run.out, "RQDELAY"),
	      "older module: no sched or memory output");
	run_free(&run);
	/* A module announcing the bits with VER2 records is believed: 0s. */
	f.hs.features |= KVMW_FEAT_SCHED | KVMW_FEAT_MEM_NUMA;
	run_cli(&run, &f.ops, "stat", "-i", "0", "--long", NULL);
	check_has(run.out, "sched: run-queue delay 0ns (steal 0.00%), 0 waits; "
		  "preemptions 0, sleeps 0, migrations 0 (cross-node 0); run time: -\n"
		  "                 memory: no complete sampling pass yet\n",
		  "zero-filled VER3 fields and memory of a VER0 snapshot");
	run_free(&run);

	CHECK(f.bad_requests == 0, "sched reads followed the UAPI rules");
	fake_free(&f);
}

void test_sched(void)
{
	struct kvmw_delta_vm *rows;
	struct fixture fx;
	size_t nr;

	tap_diag("sched and memory");
	fixture_build(&fx);
	fixture_model(&fx);
	rows = fx.rows;
	nr = fx.nr_rows;
	CHECK(nr == 4,
	      "sched: fixture has 4 rows");
	test_aggregate(&fx);
	test_table(&fx, rows, nr);
	test_vcpus(&fx, rows);
	test_sched_json(&fx, rows, nr);
	test_old_module(&fx, rows, nr);
	fixture_free(&fx);
	test_device();
}
