// SPDX-License-Identifier: GPL-2.0-only
/*
 * libkvmwarden: the statistics table, every number of the model with
 * its name, unit, kind, scope and help (see libkvmwarden.h). An exporter
 * or a recorder iterates it; tests/test_stattab.c checks that each entry
 * is found at its name in `stat --json` with the model's value.
 */
#include <stddef.h>

#include "compiler.h"
#include "libkvmwarden.h"

#define C	KVMW_KIND_COUNTER
#define G	KVMW_KIND_GAUGE
#define H	KVMW_KIND_HISTOGRAM

#define F_LAT	KVMW_FEAT_LATENCY
#define F_USER	KVMW_FEAT_USER_EXITS
#define F_FLT	KVMW_FEAT_FAULTS
#define F_SCHED	KVMW_FEAT_SCHED
#define F_MEM	KVMW_FEAT_MEM_NUMA

#define STAT(n, u, k, sc, t, st, m, f, h)				\
	{ .name = n, .unit = u, .kind = k, .scope = KVMW_AT_##sc,	\
	  .type = KVMW_T_##t, .offset = offsetof(st, m), .feature = f,	\
	  .help = h }

#define HOST(n, u, k, t, m, f, h) STAT(n, u, k, HOST, t, struct kvmw_host, m, f, h)
#define VM(n, u, k, t, m, f, h)	STAT(n, u, k, VM, t, struct kvmw_vm, m, f, h)
#define UNIT(n, u, k, t, m, f, h) STAT(n, u, k, UNIT, t, struct kvmw_unit, m, f, h)
#define VCPU(n, u, k, t, m, f, h) STAT(n, u, k, VCPU, t, struct kvmw_vcpu, m, f, h)
#define RSN(n, u, k, t, m, f, h) STAT(n, u, k, REASON, t, struct kvmw_reason, m, f, h)

/* The quantiles of kvmw_pcts[] of @prefix's pct[] array. */
#define PCTS(scope, prefix, member, f, what)				\
	scope(prefix "p50_ns", "ns", G, PCT, member[KVMW_P50], f,	\
	      "median " what ": {bucket, lo, hi}, lo <= value <= hi"),	\
	scope(prefix "p90_ns", "ns", G, PCT, member[KVMW_P90], f,	\
	      "90th percentile " what),					\
	scope(prefix "p99_ns", "ns", G, PCT, member[KVMW_P99], f,	\
	      "99th percentile " what),					\
	scope(prefix "p99_9_ns", "ns", G, PCT, member[KVMW_P99_9], f,	\
	      "99.9th percentile " what)

static const struct kvmw_stat_def stat_table[] = {
	HOST("untracked_exits", "exits", C, U64, untracked_exits, 0,
	     "exits the source could not account to a vCPU (capacity)"),

	VM("exits", "exits", C, U64, exits, 0, "exits of all vCPUs"),
	VM("entries", "entries", C, U64, entries, 0,
	   "guest entries of all vCPUs"),
	VM("nr_vcpus", "vcpus", G, U32, nr_vcpus, 0, "vCPUs seen so far"),
	VM("first_seen_ns", "ns", G, U64, first_seen_ns, 0,
	   "CLOCK_BOOTTIME when the VM was first seen"),
	VM("gone_ns", "ns", G, U64, gone_ns, 0,
	   "CLOCK_BOOTTIME when the VM was found destroyed, else 0"),
	VM("mem.pages", "pages", G, U64, mem.pages, F_MEM,
	   "guest memory pages in the memslots at the last sampling pass"),
	VM("mem.stride", "pages", G, U64, mem.stride, F_MEM,
	   "pages between two samples of the last pass"),
	VM("mem.sampled", "samples", G, U64, mem.sampled, F_MEM,
	   "samples of the last pass"),
	VM("mem.unmapped", "samples", G, U64, mem.unmapped, F_MEM,
	   "samples not resident"),
	VM("mem.node_unknown", "samples", G, U64, mem.node_unknown, F_MEM,
	   "samples resident on a node beyond the node arrays"),
	VM("mem.passes", "passes", C, U64, mem.passes, F_MEM,
	   "complete sampling passes"),
	VM("mem.pass_ns", "ns", G, U64, mem.pass_ns, F_MEM,
	   "CLOCK_BOOTTIME when the last pass completed"),
	VM("mem.node", "samples", G, NODES, mem.node, F_MEM,
	   "resident samples per NUMA node"),
	VM("mem.resident_samples", "samples", G, U64, mem.resident, F_MEM,
	   "resident samples: the nodes plus node_unknown"),
	VM("mem.remote_pct", "percent", G, OPT, mem.remote_pct, F_MEM,
	   "share of resident memory not on the home node (needs sched)"),

	UNIT("exits", "exits", C, U64, exits, 0, "exits"),
	UNIT("entries", "entries", C, U64, entries, 0, "guest entries"),
	UNIT("overflow_exits", "exits", C, U64, overflow_exits, 0,
	     "exits whose reason did not fit the source's tables"),
	UNIT("categories", "exits", C, CATS, categories, 0,
	     "exits per vendor-neutral category"),
	UNIT("time.guest_ns", "ns", C, U64, times.guest_ns, F_LAT,
	     "time in guest mode"),
	UNIT("time.exit_ns", "ns", C, U64, times.exit_ns, F_LAT,
	     "time after timed exits: overhead + idle + user"),
	UNIT("time.overhead_ns", "ns", C, U64, times.overhead_ns, F_LAT,
	     "host kernel time handling exits"),
	UNIT("time.idle_ns", "ns", C, U64, times.idle_ns, F_LAT,
	     "time after halt-category exits"),
	UNIT("time.user_ns", "ns", C, U64, times.user_ns, F_USER,
	     "time in the VMM after exits that returned to userspace"),
	UNIT("time.untimed_exits", "exits", C, U64, times.untimed_exits,
	     F_LAT, "exits counted but not timed"),
	UNIT("time.overhead_pct", "percent", G, OPT, times.overhead_pct,
	     F_LAT, "overhead / (guest + exits)"),
	UNIT("faults.count", "faults", C, U64, faults.count, F_FLT,
	     "nested page faults handled by KVM's MMU"),
	UNIT("faults.write", "faults", C, U64, faults.write, F_FLT,
	     "of which write accesses"),
	UNIT("faults.fetch", "faults", C, U64, faults.fetch, F_FLT,
	     "of which instruction fetches"),
	UNIT("faults.present", "faults", C, U64, faults.present, F_FLT,
	     "of which on a present entry (permission faults)"),
	UNIT("faults.mmio", "faults", C, U64, faults.mmio, F_FLT,
	     "of which MMIO (reserved-bit) faults"),
	UNIT("faults.write_pct", "percent", G, OPT, faults.write_pct, F_FLT,
	     "write share of the faults"),
	UNIT("faults.fetch_pct", "percent", G, OPT, faults.fetch_pct, F_FLT,
	     "fetch share of the faults"),
	UNIT("faults.present_pct", "percent", G, OPT, faults.present_pct,
	     F_FLT, "present share of the faults"),
	UNIT("faults.mmio_pct", "percent", G, OPT, faults.mmio_pct, F_FLT,
	     "MMIO share of the faults"),
	UNIT("faults.timed", "faults", C, U64, faults.timed, F_FLT,
	     "faults timed to the next entry"),
	UNIT("faults.total_ns", "ns", C, U64, faults.lat_total_ns, F_FLT,
	     "time from the faults to the next entries"),
	UNIT("faults.mean_ns", "ns", G, OPT, faults.mean_ns, F_FLT,
	     "mean fault latency"),
	UNIT("faults.max_ns", "ns", G, U64, faults.lat_max_ns, F_FLT,
	     "longest fault latency"),
	PCTS(UNIT, "faults.", faults.pct, F_FLT, "fault latency"),
	UNIT("faults.hist", "faults", H, HIST, faults.hist, F_FLT,
	     "fault latencies"),
	UNIT("faults.nodes", "faults", C, NODES, faults.node, F_FLT,
	     "faults per NUMA node of the backing page"),
	UNIT("faults.node_pct", "percent", G, NODE_PCTS, faults.node_pct,
	     F_FLT, "each node's share of the located faults"),
	UNIT("faults.located", "faults", C, U64, faults.located, F_FLT,
	     "faults whose page was found on a node"),
	UNIT("faults.dominant_node", "node", G, NODE, faults.dominant_node,
	     F_FLT, "node with the most located faults"),
	UNIT("faults.dominant_node_pct", "percent", G, OPT,
	     faults.dominant_node_pct, F_FLT,
	     "its share of the located faults"),
	UNIT("sched.rq_delay_ns", "ns", C, U64, sched.rq_delay_ns, F_SCHED,
	     "time runnable but not running inside KVM_RUN"),
	UNIT("sched.rq_delay_count", "waits", C, U64, sched.rq_delay_count,
	     F_SCHED, "run-queue waits"),
	UNIT("sched.rq_delay_max_ns", "ns", G, U64, sched.rq_delay_max_ns,
	     F_SCHED, "longest run-queue wait"),
	UNIT("sched.rq_delay_mean_ns", "ns", G, OPT, sched.mean_ns, F_SCHED,
	     "mean run-queue wait"),
	UNIT("sched.wall_ns", "ns", C, U64, sched.wall_ns, F_LAT,
	     "guest + exit time, in which every wait lies"),
	UNIT("sched.steal_pct", "percent", G, OPT, sched.steal_pct, F_LAT,
	     "run-queue delay / wall time: what the guest sees as steal"),
	PCTS(UNIT, "sched.", sched.pct, F_SCHED, "run-queue wait"),
	UNIT("sched.hist", "waits", H, HIST, sched.hist, F_SCHED,
	     "run-queue waits"),
	UNIT("sched.preemptions", "switches", C, U64, sched.preemptions,
	     F_SCHED, "switched out while runnable"),
	UNIT("sched.sleeps", "switches", C, U64, sched.sleeps, F_SCHED,
	     "blocked (HLT, waiting)"),
	UNIT("sched.migrations", "migrations", C, U64, sched.migrations,
	     F_SCHED, "moves to another CPU"),
	UNIT("sched.node_migrations", "migrations", C, U64,
	     sched.node_migrations, F_SCHED, "moves to another NUMA node"),
	UNIT("sched.run_ns", "ns", C, U64, sched.run_ns, F_SCHED,
	     "time run on the nodes"),
	UNIT("sched.run_node_ns", "ns", C, NODES, sched.run_node_ns, F_SCHED,
	     "time run per NUMA node"),
	UNIT("sched.run_node_pct", "percent", G, NODE_PCTS, sched.run_node_pct,
	     F_SCHED, "each node's share of the run time"),
	UNIT("sched.home_node", "node", G, NODE, sched.home_node, F_SCHED,
	     "node with the most run time"),
	UNIT("sched.home_node_pct", "percent", G, OPT, sched.home_node_pct,
	     F_SCHED, "its share of the run time"),

	VCPU("sched.last_cpu", "cpu", G, U32, last_cpu, F_SCHED,
	     "CPU the vCPU thread last ran on"),
	VCPU("sched.last_node", "node", G, U32, last_node, F_SCHED,
	     "NUMA node of that CPU"),

	RSN("count", "exits", C, U64, count, 0, "exits of the reason"),
	RSN("share_pct", "percent", G, OPT, share_pct, 0,
	    "share of the exits, overflow exits included"),
	RSN("latency.timed", "exits", C, U64, lat.timed, F_LAT,
	    "exits timed to the next entry"),
	RSN("latency.total_ns", "ns", C, U64, lat.total_ns, F_LAT,
	    "time from the exits to the next entries"),
	RSN("latency.mean_ns", "ns", G, OPT, lat.mean_ns, F_LAT,
	    "mean exit latency"),
	RSN("latency.min_ns", "ns", G, U64, lat.min_ns, F_LAT,
	    "shortest exit latency"),
	RSN("latency.max_ns", "ns", G, U64, lat.max_ns, F_LAT,
	    "longest exit latency"),
	PCTS(RSN, "latency.", lat.pct, F_LAT, "exit latency"),
	RSN("latency.user_count", "exits", C, U64, lat.user_count, F_USER,
	    "timed exits that returned to the VMM"),
	RSN("latency.user_ns", "ns", C, U64, lat.user_ns, F_USER,
	    "their time in userspace"),
	RSN("latency.user_pct", "percent", G, OPT, lat.user_pct, F_USER,
	    "share of the timed exits that returned to the VMM"),
	RSN("latency.hist", "exits", H, HIST, lat.hist, F_LAT,
	    "exit latencies"),
};

size_t kvmw_stat_table(const struct kvmw_stat_def **table)
{
	*table = stat_table;
	return ARRAY_SIZE(stat_table);
}

static void json_u64_or_null(struct kvmw_json *j, bool ok, __u64 v)
{
	if (ok)
		kvmw_json_u64(j, v);
	else
		kvmw_json_null(j);
}

void kvmw_stat_json_value(struct kvmw_json *j, const struct kvmw_stat_def *d,
			  const void *base, unsigned int nr_nodes)
{
	const void *p = kvmw_stat_ptr(d, base);
	const struct kvmw_opt *o = p;
	const struct kvmw_pct *pct = p;
	const struct kvmw_hist *h = p;
	unsigned int k;
	__u32 u32;
	int node;

	switch (d->type) {
	case KVMW_T_U64:
		kvmw_json_u64(j, *(const __u64 *)p);
		break;
	case KVMW_T_U32:
		u32 = *(const __u32 *)p;
		json_u64_or_null(j, u32 != KVMW_NONE, u32);
		break;
	case KVMW_T_NODE:
		node = *(const int *)p;
		json_u64_or_null(j, node >= 0, node);
		break;
	case KVMW_T_OPT:
		if (o->ok)
			kvmw_json_double(j, o->v);
		else
			kvmw_json_null(j);
		break;
	case KVMW_T_PCT:
		if (pct->bucket < 0) {
			kvmw_json_null(j);
			break;
		}
		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "bucket", pct->bucket);
		kvmw_json_kv_u64(j, "lo", pct->lo);
		kvmw_json_key(j, "hi");
		json_u64_or_null(j, pct->hi != KVMW_HIST_INF, pct->hi);
		kvmw_json_end_object(j);
		break;
	case KVMW_T_HIST:
		kvmw_json_u64_array(j, h->buckets, h->nr_buckets);
		break;
	case KVMW_T_NODES:
		kvmw_json_u64_array(j, *(__u64 * const *)p,
				    *(__u64 * const *)p ? nr_nodes : 0);
		break;
	case KVMW_T_NODE_PCTS:
		kvmw_json_begin_array(j);
		for (k = 0; *(double * const *)p && k < nr_nodes; k++)
			kvmw_json_double(j, (*(double * const *)p)[k]);
		kvmw_json_end_array(j);
		break;
	case KVMW_T_CATS:
		kvmw_json_u64_array(j, p, KVMW_NR_CATEGORIES);
		break;
	}
}
