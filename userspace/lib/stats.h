/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Computations on samples: reason totals, exit rates, exit latencies and
 * time shares. No device access here: everything works on plain structs,
 * so it is unit tested directly.
 */
#ifndef KVMW_STATS_H
#define KVMW_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <kvmwarden/categories.h>

#include "sample.h"

/*
 * Exit latencies of one reason (the VER1 fields of struct
 * kvmw_reason_stat), possibly added up over several vCPUs.
 */
struct kvmw_lat {
	/* Exits timed: the sum of @hist. */
	__u64 timed;
	__u64 total_ns;
	/* Shortest and longest timed exit; both 0 when none was timed. */
	__u64 min_ns;
	__u64 max_ns;
	/* Timed exits that returned to userspace, and their time there. */
	__u64 user_count;
	__u64 user_ns;
	/* KVMW_REASON_F_* of any of the parts. */
	__u32 flags;
	__u64 hist[KVMW_LAT_BUCKETS];
};

/*
 * Adds the latency figures of @r to @acc (zeroed first): counts, totals
 * and histograms are summed bucket by bucket, the minimum is the smallest
 * minimum and the maximum the largest maximum of the parts that timed at
 * least one exit, and the flags are or-ed.
 */
void kvmw_lat_add(struct kvmw_lat *acc, const struct kvmw_reason_stat *r);

/* Mean latency of the timed exits. False (*mean untouched) when none. */
bool kvmw_lat_mean(const struct kvmw_lat *l, double *mean);

/* Upper bound of the last latency bucket, which is open-ended. */
#define KVMW_LAT_INF	((__u64)-1)

/* Bounds [lo, hi) of latency bucket @b in ns (hi KVMW_LAT_INF for 31). */
__u64 kvmw_lat_bucket_lo(unsigned int b);
__u64 kvmw_lat_bucket_hi(unsigned int b);
/* The bucket of a latency of @ns, as the module computes it. */
unsigned int kvmw_lat_bucket(__u64 ns);

/* Sum of the buckets of @hist: the number of timed exits. */
__u64 kvmw_hist_total(const __u64 hist[KVMW_LAT_BUCKETS]);

/* Quantiles are given in parts per million (500000: the median). */
#define KVMW_PPM	1000000U

/*
 * The bucket of @hist holding quantile @q_ppm / KVMW_PPM: the smallest
 * bucket b whose cumulative count reaches ceil(q * total), at least 1
 * (q above 1 counts as 1). Sets [*lo, *hi) to the bucket's bounds in ns
 * (*hi is KVMW_LAT_INF for the last bucket) and returns b; returns -1 and
 * leaves *lo and *hi alone when the histogram is empty. The buckets are a
 * factor of 2 wide, so that is all a log2 histogram tells of a quantile.
 */
int kvmw_hist_percentile(const __u64 hist[KVMW_LAT_BUCKETS], __u32 q_ppm,
			 __u64 *lo, __u64 *hi);

/* A quantile of a struct kvmw_lat: lo <= quantile <= hi, in ns. */
struct kvmw_pct {
	/* Bucket holding it; -1 when no exit was timed (lo, hi 0). */
	int bucket;
	__u64 lo;
	__u64 hi;
};

/*
 * Quantile @q_ppm of @l: its bucket's bounds narrowed to the exact
 * [min_ns, max_ns] of @l (which always hold it; bounds that would not, as
 * a racing read could give, are left as the bucket's). Below the last
 * bucket hi / lo is at most 2; in the last one hi is max_ns.
 */
void kvmw_lat_percentile(const struct kvmw_lat *l, __u32 q_ppm,
			 struct kvmw_pct *p);

/* The quantiles the tools report: P50, P90, P99, P99.9. */
struct kvmw_pct_def {
	__u32 ppm;
	const char *name;	/* table header: "P99.9" */
	const char *key;	/* JSON key: "p99_9_ns" */
};

#define KVMW_NR_PCTS	4
extern const struct kvmw_pct_def kvmw_pcts[KVMW_NR_PCTS];

struct kvmw_reason_total {
	__u32 code;
	__u64 count;
	struct kvmw_lat lat;
};

/* Pass as @vcpu to kvmw_reason_totals() for the whole VM. */
#define KVMW_ALL_VCPUS	((size_t)-1)

/*
 * Adds up the counts and latencies (kvmw_lat_add()) of @snap per reason
 * code, over all vCPUs or only over the vCPU at index @vcpu of the
 * snapshot, and sorts them by count (largest first, then by code). *out
 * is a new array (free() it; NULL when *nr is 0). Returns 0 or -ENOMEM.
 */
int kvmw_reason_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
		       struct kvmw_reason_total **out, size_t *nr);

/*
 * Exits the shares of reasons are relative to: the sum of the reason
 * counts plus the exits whose reason overflowed the vCPU tables.
 */
__u64 kvmw_reason_denominator(const struct kvmw_vm_snap *snap, size_t vcpu);

/*
 * Adds up the exits of @snap per category (enum kvmw_category, see
 * include/kvmwarden/categories.h), over all vCPUs or only over the vCPU at
 * index @vcpu, reading the reason codes as @vendor's (KVMW_VENDOR_*).
 * Exits whose reason overflowed the vCPU tables count as "other", so the
 * categories add up to kvmw_reason_denominator().
 */
void kvmw_category_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
			  unsigned int vendor,
			  __u64 out[KVMW_NR_CATEGORIES]);

/* Time of vCPUs (the VER1 fields of struct kvmw_vcpu_info), in ns. */
struct kvmw_times {
	__u64 guest_ns;
	/* idle_ns + user_ns + overhead_ns */
	__u64 exit_ns;
	__u64 idle_ns;
	__u64 user_ns;
	__u64 overhead_ns;
	__u64 untimed_exits;
};

/*
 * The times of the vCPU at index @vcpu of @snap, or their sums over all
 * vCPUs (KVMW_ALL_VCPUS). All 0 for an index out of range.
 */
void kvmw_times(const struct kvmw_vm_snap *snap, size_t vcpu,
		struct kvmw_times *t);

/*
 * Share of the vCPU time lost to exits, in percent:
 * overhead_ns / (guest_ns + exit_ns) * 100. False (*pct untouched) when
 * no time was measured.
 */
bool kvmw_overhead_pct(const struct kvmw_times *t, double *pct);

/*
 * Nested page faults of vCPUs (the VER2 fields of struct kvmw_vcpu_info),
 * one vCPU's or summed over several: counts, totals, node counts and
 * histograms are summed, bucket by bucket, the maximum is the largest.
 */
struct kvmw_faults {
	__u64 faults;
	/* Of which: write accesses, fetches, on a present entry, MMIO. */
	__u64 write;
	__u64 fetch;
	__u64 present;
	__u64 mmio;
	/* Faults timed (to the next entry): the sum of @hist. */
	__u64 timed;
	__u64 lat_total_ns;
	/* Longest timed fault; 0 when none was timed. */
	__u64 lat_max_ns;
	/* Faults whose backing page's node was found: the sum of @node. */
	__u64 located;
	__u64 node_unknown;
	__u64 node[KVMW_MAX_NODES];
	__u64 hist[KVMW_LAT_BUCKETS];
};

/*
 * The faults of the vCPU at index @vcpu of @snap, or their sums over all
 * vCPUs (KVMW_ALL_VCPUS). All 0 for an index out of range.
 */
void kvmw_faults(const struct kvmw_vm_snap *snap, size_t vcpu,
		 struct kvmw_faults *f);

/* Mean latency of the timed faults. False (*mean untouched) when none. */
bool kvmw_fault_lat_mean(const struct kvmw_faults *f, double *mean);

/*
 * Quantile @q_ppm of the fault latencies, as kvmw_lat_percentile() but
 * narrowed to the exact maximum only: the module keeps no fault minimum.
 */
void kvmw_fault_percentile(const struct kvmw_faults *f, __u32 q_ppm,
			   struct kvmw_pct *p);

/*
 * The node with the most located faults (the lowest on a tie) and its
 * share of the located faults, in percent. Returns the node, or -1 (*pct
 * untouched) when no fault was located.
 */
int kvmw_fault_dominant_node(const struct kvmw_faults *f, double *pct);

/*
 * The scheduler's view of vCPU threads inside KVM_RUN (the VER3 fields
 * of struct kvmw_vcpu_info), one vCPU's or summed over several: counts,
 * totals, run time per node and histograms are summed, bucket by bucket,
 * the maximum is the largest.
 */
struct kvmw_sched {
	/* Run-queue delay: time runnable but not running, and such waits. */
	__u64 rq_delay_ns;
	__u64 rq_delay_count;
	__u64 rq_delay_max_ns;
	/* Waits in @hist (the module's histogram of them). */
	__u64 timed;
	__u64 hist[KVMW_LAT_BUCKETS];
	__u64 preemptions;
	__u64 sleeps;
	__u64 migrations;
	__u64 node_migrations;
	/* Time run on CPUs of nodes < KVMW_MAX_NODES: the sum of @run_node_ns. */
	__u64 run_ns;
	__u64 run_node_ns[KVMW_MAX_NODES];
	/*
	 * The vCPUs' wall time from the latency fields, guest_ns + exit_ns:
	 * every wait falls in it (a thread is switched out only outside
	 * guest mode, so between an exit and the next entry).
	 */
	__u64 wall_ns;
};

/*
 * The scheduler figures of the vCPU at index @vcpu of @snap, or their
 * sums over all vCPUs (KVMW_ALL_VCPUS). All 0 for an index out of range.
 */
void kvmw_sched(const struct kvmw_vm_snap *snap, size_t vcpu,
		struct kvmw_sched *s);

/* Mean run-queue wait. False (*mean untouched) when there was none. */
bool kvmw_sched_wait_mean(const struct kvmw_sched *s, double *mean);

/*
 * Steal: the share of the vCPUs' wall time spent waiting for a CPU,
 * rq_delay_ns / wall_ns * 100, what the guest sees as steal time. Needs
 * the latency feature for wall_ns. False (*pct untouched) when no wall
 * time was measured.
 */
bool kvmw_steal_pct(const struct kvmw_sched *s, double *pct);

/*
 * Quantile @q_ppm of the run-queue waits, from their log2 histogram as
 * kvmw_hist_percentile(), narrowed to the exact maximum only (the module
 * keeps no minimum), like kvmw_fault_percentile().
 */
void kvmw_sched_percentile(const struct kvmw_sched *s, __u32 q_ppm,
			   struct kvmw_pct *p);

/*
 * The home node: the NUMA node on which the vCPUs ran longest, their run
 * times added up (so a vCPU weighs by how long it ran, not one vote
 * each); the lowest on a tie. Sets *pct to its share of @s->run_ns.
 * Returns the node, or -1 (*pct untouched) when no run time was seen.
 */
int kvmw_sched_home_node(const struct kvmw_sched *s, double *pct);

/*
 * Samples of the last memory pass that were resident: on a node below
 * KVMW_MAX_NODES (node[]) or above (node_unknown); unmapped ones not.
 */
__u64 kvmw_mem_resident(const struct kvmw_vm_mem *m);

/*
 * Remote ratio of a VM, in percent: the share of its resident guest
 * memory that is NOT on its home node (kvmw_sched_home_node() over all
 * its vCPUs):
 *
 *	remote = (resident - node[home]) / resident * 100
 *
 * with resident = kvmw_mem_resident() of the last complete sampling pass
 * (pages resident on a node >= KVMW_MAX_NODES count as remote: the home
 * node is always below). Sets *home to the home node (-1 when none) and
 * returns true with *pct set; false (*pct untouched) when there is no
 * home node or no resident sample.
 */
bool kvmw_remote_pct(const struct kvmw_vm_snap *snap, int *home, double *pct);

/*
 * @part in percent of @whole. False (*pct untouched) when @whole is 0.
 */
bool kvmw_share(__u64 part, __u64 whole, double *pct);

/*
 * Rate per second of a counter that went from @before to @after in
 * @elapsed_ns. Returns false (and leaves *rate alone) when there is no
 * meaningful rate: no time elapsed or the counter went backwards.
 */
bool kvmw_rate(__u64 before, __u64 after, __u64 elapsed_ns, double *rate);

/* One VM of the stat output. */
struct kvmw_stat_row {
	/* Newest data known: from the second sample, or the first. */
	const struct kvmw_vm_snap *snap;
	/* Destroyed (KVMW_VM_F_GONE) or no longer tracked at all. */
	bool gone;
	/* In the first sample but not in the second. */
	bool vanished;
	bool has_rate;
	double exits_per_sec;
};

/*
 * Pairs the VMs of two samples by vm_id into rows sorted by vm_id, with
 * exit rates over the time between them. @prev may be NULL (no rates).
 *
 * - A VM in both samples: (exits now - exits then) / interval. If its
 *   first_seen_ns changed or its exits went down, it is another VM that
 *   got the same id (module reloaded): it counts from 0.
 * - A VM only in @cur appeared during the interval: all its exits are
 *   from the interval.
 * - A VM only in @prev was dropped by the module: it is shown as gone
 *   with its last numbers; rate 0 if it was already gone in @prev (its
 *   counters were final), unknown otherwise.
 *
 * The samples must outlive the rows. *rows is a new array (free() it).
 * Returns 0 or -ENOMEM.
 */
int kvmw_stat_rows(const struct kvmw_sample *prev,
		   const struct kvmw_sample *cur,
		   struct kvmw_stat_row **rows, size_t *nr);

#endif /* KVMW_STATS_H */
