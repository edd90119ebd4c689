/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libkvmwarden: the one userspace model of kvmwarden's numbers, for the
 * command line tool and every other consumer (top, exporter, record).
 *
 *   source ---> struct kvmw_snapshot ---> derived figures ---> output
 *   (device,     (host, VMs, vCPUs,       (totals, shares,
 *    BPF later)   reasons, memory)          percentiles, rates)
 *
 * A data source (struct kvmw_source_ops) fills a snapshot with the
 * library's own types; kvmw_snapshot_derive() then computes, once, every
 * figure the consumers show: the VM totals, reason tables, categories,
 * percentiles with their bucket bounds, overhead, steal and remote
 * shares. Nothing above the source interface knows which source answered
 * or how its answer was laid out; only the device backend (kvmw_dev.c)
 * reads the UAPI structs. The feature bits are the vocabulary of
 * capabilities (KVMW_FEAT_*): a source announces those it measures.
 *
 * kvmw_stat_table() enumerates every number of the model with its name,
 * unit, kind, scope and help, so that an exporter or a recorder iterates
 * it instead of knowing the model by heart.
 */
#ifndef LIBKVMWARDEN_H
#define LIBKVMWARDEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/kvmwarden.h>

#include <kvmwarden/categories.h>
#include <kvmwarden/hist.h>

#include "json.h"
#include "reasons.h"

/* The version of the tools and library: the top-level VERSION file. */
const char *kvmw_version(void);

/* A feature bit (capability) and its name, as "features" shows it. */
struct kvmw_feature {
	__u64 bit;
	const char *name;
};

/* The table of known features, in bit order; returns its length. */
size_t kvmw_features(const struct kvmw_feature **table);
/* The name of feature @bit (one bit), NULL when unknown. */
const char *kvmw_feature_name(__u64 bit);

/* -------------------------------------------------------------------- */
/* The model                                                            */

/*
 * A histogram with its layout (include/kvmwarden/hist.h): a source may
 * give any layout, the percentile code reads it through hist.h.
 */
struct kvmw_hist {
	__u32 type;		/* KVMW_HIST_LOG2 or KVMW_HIST_LOGLIN */
	__u32 sub_bits;		/* KVMW_HIST_LOGLIN: sub-bucket bits */
	__u32 nr_buckets;
	/* nr_buckets counts (NULL when 0), owned by the snapshot. */
	__u64 *buckets;
};

/* Upper bound of the last bucket, which is open-ended. */
#define KVMW_HIST_INF	(~0ULL)

/* Quantiles are given in parts per million (500000: the median). */
#define KVMW_PPM	1000000U

/* A quantile: lo <= value <= hi, in the histogram's unit (ns). */
struct kvmw_pct {
	/* Bucket holding it; -1 when the histogram is empty (lo, hi 0). */
	int bucket;
	__u64 lo;
	/* KVMW_HIST_INF: no upper bound (last bucket, no exact max). */
	__u64 hi;
};

/* The quantiles the tools report: P50, P90, P99, P99.9. */
struct kvmw_pct_def {
	__u32 ppm;
	const char *name;	/* table header: "P99.9" */
	const char *key;	/* JSON key: "p99_9_ns" */
};

#define KVMW_NR_PCTS	4
/* Their indices in kvmw_pcts[] and the pct[] arrays of the model. */
enum { KVMW_P50, KVMW_P90, KVMW_P99, KVMW_P99_9 };
extern const struct kvmw_pct_def kvmw_pcts[KVMW_NR_PCTS];

/* A derived number that may not exist (no time measured, no sample). */
struct kvmw_opt {
	bool ok;
	double v;
};

/* Exit latencies of one reason, of a vCPU or added up over a VM's. */
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
	struct kvmw_hist hist;
	/* Derived: mean, share of user exits, quantiles of kvmw_pcts. */
	struct kvmw_opt mean_ns;
	struct kvmw_opt user_pct;
	struct kvmw_pct pct[KVMW_NR_PCTS];
};

/* struct kvmw_reason::flags */
/* Category halt: the time after these exits is idle, not overhead. */
#define KVMW_R_IDLE	(1U << 0)
/* Counted, not timed (the source's latency table was full). */
#define KVMW_R_UNTIMED	(1U << 1)

/* Exits of one hardware reason. */
struct kvmw_reason {
	__u32 code;
	__u32 flags;
	__u64 count;
	struct kvmw_lat lat;
	/*
	 * A self-describing source's values of this (vCPU, reason) record,
	 * laid out as the snapshot's raw statistics say; NULL for a VM's
	 * total and for other sources.
	 */
	const __u64 *values;
	/* Derived: category halt or KVMW_R_IDLE. */
	bool idle;
	unsigned int category;		/* enum kvmw_category */
	struct kvmw_opt share_pct;	/* of the unit's reason_exits */
};

/* Where the vCPUs' time went, in ns. */
struct kvmw_times {
	__u64 guest_ns;
	/* idle_ns + user_ns + overhead_ns */
	__u64 exit_ns;
	__u64 idle_ns;
	__u64 user_ns;
	__u64 overhead_ns;
	__u64 untimed_exits;
	/* Derived: overhead_ns / (guest_ns + exit_ns) * 100. */
	struct kvmw_opt overhead_pct;
};

/* Nested page faults. Node arrays have the snapshot's nr_nodes. */
struct kvmw_faults {
	__u64 count;
	/* Of which: write accesses, fetches, on a present entry, MMIO. */
	__u64 write;
	__u64 fetch;
	__u64 present;
	__u64 mmio;
	__u64 lat_total_ns;
	/* Longest timed fault; 0 when none was timed. */
	__u64 lat_max_ns;
	__u64 node_unknown;
	__u64 *node;
	struct kvmw_hist hist;
	/* Derived. */
	__u64 timed;		/* the sum of @hist */
	__u64 located;		/* the sum of @node */
	/* Each node's share of @located (0 when none was located). */
	double *node_pct;
	struct kvmw_opt write_pct, fetch_pct, present_pct, mmio_pct;
	struct kvmw_opt mean_ns;
	struct kvmw_pct pct[KVMW_NR_PCTS];
	int dominant_node;	/* most located faults; -1 when none */
	struct kvmw_opt dominant_node_pct;
};

/* The vCPU threads as the host scheduler saw them inside KVM_RUN. */
struct kvmw_sched {
	__u64 rq_delay_ns;
	__u64 rq_delay_count;
	__u64 rq_delay_max_ns;
	struct kvmw_hist hist;
	__u64 preemptions;
	__u64 sleeps;
	__u64 migrations;
	__u64 node_migrations;
	__u64 *run_node_ns;
	/* Derived. */
	__u64 timed;		/* the sum of @hist */
	__u64 run_ns;		/* the sum of @run_node_ns */
	/* Each node's share of @run_ns (0 when nothing ran). */
	double *run_node_pct;
	__u64 wall_ns;		/* guest_ns + exit_ns of the times */
	struct kvmw_opt mean_ns;
	/* rq_delay_ns / wall_ns * 100; needs the latency feature. */
	struct kvmw_opt steal_pct;
	struct kvmw_pct pct[KVMW_NR_PCTS];
	/* Node with the most run time; -1 when none. */
	int home_node;
	struct kvmw_opt home_node_pct;
};

/*
 * The numbers of one vCPU, or of all vCPUs of a VM added up (counts,
 * totals, node counts and histograms bucket by bucket; the min of the
 * minimums and the max of the maximums of the parts that timed any).
 */
struct kvmw_unit {
	__u64 exits;
	__u64 entries;
	/* Exits whose reason did not fit the source's tables. */
	__u64 overflow_exits;
	/* Sorted by count, largest first, then by code. */
	struct kvmw_reason *reasons;
	size_t nr_reasons;
	struct kvmw_times times;
	struct kvmw_faults faults;
	struct kvmw_sched sched;
	/* Derived: the sum of the reason counts plus overflow_exits. */
	__u64 reason_exits;
	__u64 categories[KVMW_NR_CATEGORIES];
	/* Each category's share of @reason_exits. */
	struct kvmw_opt categories_pct[KVMW_NR_CATEGORIES];
};

/*
 * Longest VM name kept in a snapshot (with its NUL); longer names are cut
 * there, but resolving a VM by name compares up to 255 bytes.
 */
#define KVMW_VM_NAME_MAX	64

/* A CPU or node not seen yet. */
#define KVMW_NONE	0xffffffffU

struct kvmw_vcpu {
	__u32 vcpu_id;
	__u32 tid;
	/* Where it last ran, KVMW_NONE before the first sighting. */
	__u32 last_cpu;
	__u32 last_node;
	/* The source's values of this vCPU's record (see kvmw_raw_stats). */
	const __u64 *values;
	struct kvmw_unit u;
};

/* Where a VM's memory lives, from the source's last complete pass. */
struct kvmw_mem {
	__u64 pages;
	__u64 stride;
	__u64 sampled;
	__u64 unmapped;
	__u64 node_unknown;
	__u64 passes;
	__u64 pass_ns;
	__u64 *node;
	/* Derived: node[] plus node_unknown. */
	__u64 resident;
	/* Each node's and node_unknown's share of @resident. */
	double *node_pct;
	struct kvmw_opt unknown_pct;
	/* Share of resident memory not on the home node (sched). */
	struct kvmw_opt remote_pct;
};

struct kvmw_vm {
	__u64 vm_id;
	__u32 pid;
	/* KVMW_VENDOR_*: the VM's, or the host's when the VM has none. */
	__u32 vendor;
	__u8 comm[16];
	/*
	 * The VM's name as its VMM gave it (QEMU's -name), "" when not
	 * known; filled by kvmw_snapshot_names() for live VMs only.
	 */
	char name[KVMW_VM_NAME_MAX];
	bool gone;
	bool no_lifetime;
	__u64 first_seen_ns;
	__u64 gone_ns;
	/* As the source counts them (also without vCPU detail). */
	__u32 nr_vcpus;
	__u64 exits;
	__u64 entries;
	/* vCPU detail: ordered by vcpu_id; none in a summary snapshot. */
	struct kvmw_vcpu *vcpus;
	size_t nr_vcpus_detail;
	struct kvmw_mem mem;
	/* The source's values of this VM's record (see kvmw_raw_stats). */
	const __u64 *values;
	/* Derived: the vCPUs added up. */
	struct kvmw_unit total;
};

/* What the source says about itself and the host. */
struct kvmw_host {
	/* "device" */
	const char *source;
	__u32 api_version;
	__u32 vendor;
	/* KVMW_FEAT_* measured by the source. */
	__u64 features;
	__u64 untracked_exits;
	__u32 nr_vms;
	__u32 nr_vcpus;
	__u32 nr_reason_slots;
	/* NUMA nodes counted one by one (length of every node array). */
	unsigned int nr_nodes;
	/* Layout of the source's latency histograms. */
	__u32 hist_type;
	__u32 hist_sub_bits;
	__u32 hist_buckets;
};

/* The kind of a statistic (of the table below, or of a source). */
enum kvmw_stat_kind {
	KVMW_KIND_COUNTER,	/* only grows */
	KVMW_KIND_GAUGE,	/* a level or a derived share */
	KVMW_KIND_HISTOGRAM,	/* struct kvmw_hist */
	KVMW_KIND_UNKNOWN,	/* a kind a newer source describes */
};

/* The records of a self-describing source. */
enum kvmw_rec_scope {
	KVMW_REC_VM,		/* struct kvmw_vm::values */
	KVMW_REC_VCPU,		/* struct kvmw_vcpu::values */
	KVMW_REC_REASON,	/* struct kvmw_reason::values of a vCPU */
	KVMW_NR_REC_SCOPES,
};

#define KVMW_STAT_NAME_MAX	48

/* A statistic as a self-describing source describes it. */
struct kvmw_stat_info {
	char name[KVMW_STAT_NAME_MAX];	/* unique within its scope */
	enum kvmw_rec_scope scope;
	enum kvmw_stat_kind kind;
	/* "count", "ns", "pages", "id", "boottime_ns", "state" or "unknown" */
	const char *unit;
	/* One value per NUMA node (count is the host's nr_nodes). */
	bool per_node;
	/* Its values in a record of its scope: [offset, offset + count). */
	__u32 offset;
	__u32 count;
	/* KVMW_KIND_HISTOGRAM: the layout of <kvmwarden/hist.h>. */
	__u32 hist_type;
	__u32 hist_sub_bits;
};

/*
 * Every statistic a self-describing source described (the device with
 * KVMW_FEAT_STATS), those the model knows and those it does not, so
 * that a statistic added to the source reaches generic consumers (stat
 * --json's "stats") without a change here. Each VM, vCPU and vCPU
 * reason then has the values of its record (nr_values[scope] of them).
 * nr 0: the source is not self-describing, every values pointer NULL.
 */
struct kvmw_raw_stats {
	struct kvmw_stat_info *infos;
	size_t nr;
	__u32 nr_values[KVMW_NR_REC_SCOPES];
	/* Memory the values live in, owned by the snapshot. */
	void *blocks[KVMW_NR_REC_SCOPES];
};

/* "vm", "vcpu", "reason". */
const char *kvmw_rec_scope_name(enum kvmw_rec_scope scope);
/* "counter", "gauge", "histogram", "unknown". */
const char *kvmw_stat_kind_name(enum kvmw_stat_kind kind);

struct kvmw_snapshot {
	struct kvmw_host host;
	/* CLOCK_BOOTTIME (ns) when it was taken. */
	__u64 t_ns;
	/* Sorted by vm_id. */
	struct kvmw_vm *vms;
	size_t nr_vms;
	/* What a self-describing source described, raw. */
	struct kvmw_raw_stats raw;
};

/* -------------------------------------------------------------------- */
/* Events                                                               */

enum kvmw_ev_type {
	KVMW_EV_VM_NEW = 1,	/* a VM's first vCPU ran */
	KVMW_EV_VM_GONE = 2,	/* a VM was found destroyed: final totals */
	KVMW_EV_VCPU_NEW = 3,	/* another vCPU of a known VM ran */
	KVMW_EV_BUDGET_SET = 4,	/* a VM's budget was set or changed */
	KVMW_EV_BUDGET_CLEAR = 5,	/* and removed */
	KVMW_EV_BUDGET_GUARD = 6,	/* a vCPU was parked too long */
	KVMW_EV_THROTTLE_START = 7,	/* a VM's first park */
	KVMW_EV_THROTTLE_END = 8,	/* no park for a guard window */
	KVMW_EV_NUMA_MOVE = 9,	/* a vCPU thread got a new CPU mask */
	KVMW_EV_NUMA_CONFLICT = 10,	/* its affinity missed the nodes */
	KVMW_EV_NUMA_SET = 11,	/* a VM's placement policy was set */
	KVMW_EV_NUMA_CLEAR = 12,	/* and removed */
};

/* The budget concerned, in the KVMW_EV_BUDGET_* and THROTTLE_* events. */
struct kvmw_ev_budget {
	/* KVMW_BUDGET_*: set, removed, or in force after the guard. */
	__u32 mode;
	__u32 nr_buckets;
	/* The first bucket's: categories as set (0: default scope). */
	__u64 categories;
	__u64 rate;
	__u64 burst;
	/* GUARD: parked in the window; THROTTLE_END: first to last park. */
	__u64 parked_ns;
	/* GUARD, THROTTLE_END: the window. */
	__u64 window_ns;
	/* 1 + the default-budget slot it came from, 0 if set per VM. */
	__u32 rule;
};

/* The placement concerned, in the KVMW_EV_NUMA_* events. */
struct kvmw_ev_numa {
	/* KVMW_NUMA_* in force (CLEAR: the policy removed), its flags. */
	__u32 policy;
	__u32 flags;
	/* KVMW_NUMA_CAUSE_* */
	__u32 cause;
	/* MOVE: from the node last run on; SET/CLEAR: the previous node. */
	__u32 from_node;
	/* KVMW_NUMA_NODE_NONE: several nodes, a restore, or unknown. */
	__u32 to_node;
	/* Per mille of the sampled resident memory on @to_node. */
	__u32 local_pml;
	/* Nodes 0 to 63 of the policy (FOLLOW: the node chosen). */
	__u64 nodes;
	/* The VM's placements so far. */
	__u64 moves;
};

/* The final totals of a VM in KVMW_EV_VM_GONE. */
struct kvmw_ev_totals {
	__u64 exits;
	__u64 entries;
	__u64 guest_ns;
	__u64 overhead_ns;
	__u64 idle_ns;
	__u64 user_ns;
	__u64 faults;
	__u64 untimed_exits;
};

#define KVMW_EV_DATA	8

/* One event of a source's stream. */
struct kvmw_ev {
	/*
	 * False for a record of a layout this library does not read: only
	 * @version is meaningful, the event is to be skipped.
	 */
	bool known;
	__u32 version;
	/* enum kvmw_ev_type, or a type this library does not know. */
	__u32 type;
	/* From 1, +1 per event produced: a gap is a loss. */
	__u64 seq;
	/* CLOCK_BOOTTIME (ns). */
	__u64 time_ns;
	/* Events this reader lost just before this one. */
	__u64 lost;
	__u64 vm_id;
	__u32 pid;
	__u32 vcpu_id;
	__u32 tid;
	__u32 nr_vcpus;
	/* KVMW_EV_VM_GONE. */
	struct kvmw_ev_totals totals;
	/* KVMW_EV_BUDGET_*, KVMW_EV_THROTTLE_*. */
	struct kvmw_ev_budget budget;
	/* KVMW_EV_NUMA_*. */
	struct kvmw_ev_numa numa;
	/* A type this library does not know: the numbers as they came. */
	__u64 data[KVMW_EV_DATA];
};

/*
 * "vm_new", "vm_gone", "vcpu_new", "budget_set", "budget_clear",
 * "budget_guard", "throttle_start", "throttle_end", "numa_move",
 * "numa_conflict", "numa_set", "numa_clear"; NULL for a type not known
 * here.
 */
const char *kvmw_ev_type_name(__u32 type);

/* -------------------------------------------------------------------- */
/* Exit budgets                                                         */

struct kvmw_source;

/*
 * A VM's exit budget (Documentation/budgets.rst): up to
 * KVMW_BUDGET_MAX_BUCKETS token buckets, each over a set of exit
 * categories (1 << KVMW_CAT_* bits; 0 is KVMW_BUDGET_DEFAULT_SCOPE). The
 * limits are the UAPI's; kvmw_budget_check() applies them.
 */
struct kvmw_budget_bucket_cfg {
	__u64 categories;
	__u64 rate;		/* exits per second */
	__u64 burst;		/* exits */
	__u64 credit;		/* exits; as read back: the credit left */
};

struct kvmw_budget_cfg {
	__u32 mode;		/* KVMW_BUDGET_OFF, _AUDIT, _THROTTLE */
	bool guard_audit;	/* KVMW_BUDGET_F_GUARD_AUDIT */
	bool tripped;		/* read back: the guard fell back to audit */
	/* Read back: 1 + the host-wide default rule it came from, else 0. */
	__u32 rule;
	__u64 max_park_ns;	/* 0: the default */
	__u64 guard_window_ns;	/* 0: the default */
	__u32 guard_pct;	/* 0: the default; 100: no guard */
	unsigned int nr_buckets;
	struct kvmw_budget_bucket_cfg b[KVMW_BUDGET_MAX_BUCKETS];
};

/*
 * Reads / sets the budget of VM @vm_id (a set replaces the whole budget;
 * mode KVMW_BUDGET_OFF without buckets removes it). Returns 0 or -errno
 * as the source gave it; -ENOTSUP when the source cannot do it.
 */
int kvmw_budget_get(struct kvmw_source *src, __u64 vm_id,
		    struct kvmw_budget_cfg *cfg);
int kvmw_budget_set(struct kvmw_source *src, __u64 vm_id,
		    const struct kvmw_budget_cfg *cfg);
/* Removes the budget of VM @vm_id (no budget is not an error). */
int kvmw_budget_clear(struct kvmw_source *src, __u64 vm_id);

/*
 * A host-wide default budget (Documentation/budgets.rst, "Default
 * budgets"): slot 0 to KVMW_BUDGET_MAX_DEFAULTS - 1 of the module's; a
 * new VM gets the budget of the lowest slot whose match its VMM
 * satisfies. @budget.mode KVMW_BUDGET_OFF is an empty slot.
 */
struct kvmw_budget_default_cfg {
	/* The VMM's command name (/proc/PID/comm), "" for any. */
	char comm[16];
	/* Set: an open cgroup v2 directory, -1 for any. */
	int cgroup_fd;
	/* Read back: the cgroup's id (its inode number), 0 for any. */
	__u64 cgroup_id;
	/* Read back: VMs given this budget since it was set. */
	__u64 matched;
	struct kvmw_budget_cfg budget;
};

int kvmw_budget_default_get(struct kvmw_source *src, __u32 slot,
			    struct kvmw_budget_default_cfg *d);
int kvmw_budget_default_set(struct kvmw_source *src, __u32 slot,
			    const struct kvmw_budget_default_cfg *d);
/* Empties slot @slot (an empty one is not an error). */
int kvmw_budget_default_clear(struct kvmw_source *src, __u32 slot);

/*
 * Checks @cfg against the UAPI's limits, as the module would. Returns 0,
 * or -EINVAL with what is wrong in @why (@len bytes, NUL-terminated).
 */
int kvmw_budget_check(const struct kvmw_budget_cfg *cfg, char *why,
		      size_t len);

/* "off", "audit", "throttle"; NULL for another value. */
const char *kvmw_budget_mode_name(__u32 mode);
/* The mode named @s ("audit", "throttle", "off"). 0 or -EINVAL. */
int kvmw_parse_budget_mode(const char *s, __u32 *mode);

/*
 * A rate or a count: a decimal number, optionally with a fraction, and a
 * suffix k (10^3), M (10^6) or G (10^9); the value must be a whole number
 * ("1.5k" is 1500, "1.2345k" is rejected) from @min to @max. 0 or -EINVAL.
 */
int kvmw_parse_count(const char *s, __u64 min, __u64 max, __u64 *v);
/*
 * A duration: a decimal number with a unit ns, us, ms or s ("100ms",
 * "1.5s"), a whole number of ns from @min to @max. 0 or -EINVAL.
 */
int kvmw_parse_duration(const char *s, __u64 min, __u64 max, __u64 *ns);
/*
 * Exit categories, names separated by commas ("io,msr"): each a name of
 * kvmw_category_name(); "default" is KVMW_BUDGET_DEFAULT_SCOPE and gives 0
 * (alone only). 0 or -EINVAL, the first bad name then in @bad (@len).
 */
int kvmw_parse_categories(const char *s, __u64 *mask, char *bad,
			  size_t len);

/*
 * Writes @v as the shortest of "1500", "1.5k", "20k", "1M" that is exact
 * (into @buf of @len bytes); returns @buf.
 */
char *kvmw_fmt_count(char *buf, size_t len, __u64 v);
/* Writes @ns as "100ms", "1.5s", "250us", "7ns" (exact); returns @buf. */
char *kvmw_fmt_duration(char *buf, size_t len, __u64 ns);
/* Writes @mask as "io,msr", or "default" for 0; returns @buf. */
char *kvmw_fmt_categories(char *buf, size_t len, __u64 mask);

/*
 * A VM's budget state as its statistics give it (the device's
 * self-describing statistics): mode in force, tripped, tokens and debt
 * per bucket, and the vCPUs' counters added up. @known is false when the
 * source does not describe them (then everything is 0).
 */
struct kvmw_budget_stats {
	bool known;
	__u64 mode;
	__u64 tripped;
	__u64 tokens[KVMW_BUDGET_MAX_BUCKETS];
	__u64 debt[KVMW_BUDGET_MAX_BUCKETS];
	/* Added up over the vCPUs of a detailed snapshot. */
	__u64 charged;
	__u64 overruns;
	__u64 parks;
	__u64 parked_ns;
	__u64 would_park_ns;
};

void kvmw_vm_budget_stats(const struct kvmw_raw_stats *raw,
			  const struct kvmw_vm *vm,
			  struct kvmw_budget_stats *bs);

/* -------------------------------------------------------------------- */
/* NUMA placement                                                       */

/* Node numbers a policy can name: Linux's largest MAX_NUMNODES. */
#define KVMW_NUMA_NODE_WORDS	16
#define KVMW_NUMA_MAX_NODES	(64 * KVMW_NUMA_NODE_WORDS)

/*
 * A VM's NUMA placement policy (Documentation/numa.rst) and, read back,
 * its state. Parameters left 0 take the module's defaults.
 */
struct kvmw_numa_cfg {
	/* KVMW_NUMA_NONE, _PIN or _FOLLOW, and KVMW_NUMA_F_* flags. */
	__u32 policy;
	__u32 flags;
	/* PIN: the nodes, bit n of word n / 64 = node n. */
	__u64 nodes[KVMW_NUMA_NODE_WORDS];
	/* FOLLOW: as in struct kvmw_numa_policy. */
	__u32 threshold_pct;
	__u32 margin_pct;
	__u32 passes;
	__u32 dwell_ms;
	__u32 interval_ms;

	/* Read back only (ignored by a set). */
	__u32 cur_node;
	__u32 numa_balancing;
	__u32 local_pml;
	__u32 max_moves_per_min;
	__u32 nr_threads;
	__u32 nr_placed;
	__u64 ran_nodes;
	__u64 moves;
	__u64 suppressed_dwell;
	__u64 suppressed_hysteresis;
	__u64 suppressed_rate;
	__u64 suppressed_conflict;
	__u64 last_move_ns;
};

/*
 * Reads / sets the placement policy of VM @vm_id (a set replaces it);
 * clear is a set of KVMW_NUMA_NONE. 0 or -errno as for budgets.
 */
int kvmw_numa_get(struct kvmw_source *src, __u64 vm_id,
		  struct kvmw_numa_cfg *cfg);
int kvmw_numa_set(struct kvmw_source *src, __u64 vm_id,
		  const struct kvmw_numa_cfg *cfg);
int kvmw_numa_clear(struct kvmw_source *src, __u64 vm_id);

/*
 * Checks @cfg against the UAPI's limits, as the module would (not the
 * host's nodes: the module knows those). 0, or -EINVAL with what is wrong
 * in @why (@len bytes).
 */
int kvmw_numa_check(const struct kvmw_numa_cfg *cfg, char *why, size_t len);

/* "none", "pin", "follow"; NULL for another value. */
const char *kvmw_numa_policy_name(__u32 policy);
/* "set", "follow", "new_vcpu", "clear", "gone", "unload", "affinity". */
const char *kvmw_numa_cause_name(__u32 cause);
/*
 * A node list as Linux writes them ("0", "0-3,8", "1,3"): nodes below
 * KVMW_NUMA_MAX_NODES, ascending ranges, no duplicates. Sets @nodes
 * (KVMW_NUMA_NODE_WORDS words). 0 or -EINVAL.
 */
int kvmw_parse_nodelist(const char *s, __u64 *nodes);
/* Writes the node mask @nodes (@nr_words words) as a node list; "" if
 * empty. Returns @buf (truncated at @len, always NUL-terminated).
 */
char *kvmw_fmt_nodelist(char *buf, size_t len, const __u64 *nodes,
			size_t nr_words);

/* -------------------------------------------------------------------- */
/* Naming VMs                                                           */

/*
 * How a VM is named on a command line (kvmw_vm_ref_parse()):
 *
 *   3, 0x3      the module's VM id (a plain number is always an id)
 *   id:3        the same
 *   pid:4242    the VM of the VMM process 4242 (an error when it has
 *               several live VMs: they are listed)
 *   name:web1   the VM whose VMM was started with QEMU's "-name web1" or
 *               "-name guest=web1,..." (read from /proc/PID/cmdline)
 *   uuid:U      the same with QEMU's "-uuid U" (case-insensitive)
 *   web1        anything else that is not a number: a name
 *
 * Only live VMs are found by pid, name or uuid; a name or uuid shared by
 * several live VMs is an error that lists them.
 */
enum kvmw_vm_ref_kind {
	KVMW_REF_ID,
	KVMW_REF_PID,
	KVMW_REF_NAME,
	KVMW_REF_UUID,
};

struct kvmw_vm_ref {
	enum kvmw_vm_ref_kind kind;
	__u64 id;
	__u32 pid;
	/* KVMW_REF_NAME, KVMW_REF_UUID: points into the parsed string. */
	const char *name;
};

/* 0 or -EINVAL (an empty name, a bad number). */
int kvmw_vm_ref_parse(const char *s, struct kvmw_vm_ref *ref);

/*
 * Reads QEMU's -name and -uuid of process @pid from @proc/PID/cmdline
 * (@proc NULL: "/proc"); "" for what it has not. Returns 0 or -errno
 * (-ENOENT: no such process).
 */
int kvmw_vmm_ident(const char *proc, __u32 pid, char *name, size_t name_len,
		   char *uuid, size_t uuid_len);

/* Fills the name of every live VM of @snap from @proc (NULL: "/proc"). */
void kvmw_snapshot_names(struct kvmw_snapshot *snap, const char *proc);

/*
 * The VMs of @snap that @ref names, into @out (at most @max, the count
 * returned; more may match than fit). For KVMW_REF_ID the VM of that id,
 * live or gone; otherwise the live ones (names read from @proc).
 */
size_t kvmw_vm_resolve(const struct kvmw_snapshot *snap, const char *proc,
		       const struct kvmw_vm_ref *ref,
		       const struct kvmw_vm **out, size_t max);

/* -------------------------------------------------------------------- */
/* Data sources                                                         */

struct kvmw_source;

struct kvmw_source_ops {
	const char *name;
	/* Opens the source and reads its host info. Returns 0 or -errno. */
	int (*open)(struct kvmw_source *src, const char *path,
		    const void *sys);
	/* Reads the host info again into src->host. */
	int (*info)(struct kvmw_source *src);
	/*
	 * Fills @snap (zeroed) with every VM, or those of @ids when @nr_ids
	 * is not 0; @detail false gives VM summaries only (no vCPUs).
	 * Figures are not derived yet. Returns 0 or -errno.
	 */
	int (*snapshot)(struct kvmw_source *src, const __u64 *ids,
			size_t nr_ids, bool detail,
			struct kvmw_snapshot *snap);
	/*
	 * Waits up to @timeout_ms (-1: no limit), with the signal mask
	 * @mask while waiting, for events of the stream (from the moment
	 * the source was opened) and decodes at most @max into @evs, *@nr
	 * of them (0 on a timeout). Returns 0 or -errno: -EINTR when a
	 * signal came, -EPIPE when the stream ended, -EPROTO for a
	 * malformed record (after the good ones before it were returned),
	 * -EOPNOTSUPP without an event stream.
	 */
	int (*read_events)(struct kvmw_source *src, struct kvmw_ev *evs,
			   size_t max, size_t *nr, int timeout_ms,
			   const sigset_t *mask);
	void (*close)(struct kvmw_source *src);
	/*
	 * Exit budgets (see "Exit budgets" below). NULL in a source that
	 * cannot control the VMs (it then gives -ENOTSUP). Return 0 or the
	 * -errno of the source as it came: -ENOENT for a VM not tracked,
	 * -EINVAL for a budget it rejects, -EPERM without the privilege,
	 * -EBADF when not opened for control (KVMW_SRC_CONTROL).
	 */
	int (*budget_get)(struct kvmw_source *src, __u64 vm_id,
			  struct kvmw_budget_cfg *cfg);
	int (*budget_set)(struct kvmw_source *src, __u64 vm_id,
			  const struct kvmw_budget_cfg *cfg);
	/* Host-wide default budgets, the same way; -EINVAL for a bad slot. */
	int (*budget_default_get)(struct kvmw_source *src, __u32 slot,
				  struct kvmw_budget_default_cfg *d);
	int (*budget_default_set)(struct kvmw_source *src, __u32 slot,
				  const struct kvmw_budget_default_cfg *d);
	/*
	 * NUMA placement (see "NUMA placement" below), the same way:
	 * -EINVAL also for a pin no vCPU thread's affinity can meet.
	 */
	int (*numa_get)(struct kvmw_source *src, __u64 vm_id,
			struct kvmw_numa_cfg *cfg);
	int (*numa_set)(struct kvmw_source *src, __u64 vm_id,
			const struct kvmw_numa_cfg *cfg);
};

/* kvmw_source_open_flags(): open for control (budgets), not only reading. */
#define KVMW_SRC_CONTROL	(1U << 0)

struct kvmw_source {
	const struct kvmw_source_ops *ops;
	struct kvmw_host host;
	void *priv;
	/* KVMW_SRC_* asked for at open. */
	unsigned int flags;
};

/* /dev/kvmwarden, through the UAPI. */
extern const struct kvmw_source_ops kvmw_source_dev;

/*
 * Opens @ops's source at @path (NULL: its default). @sys is a
 * source-specific hook for tests (the device's system calls), NULL for
 * the real thing. Returns 0 or -errno; -EPROTONOSUPPORT when it speaks
 * another API version (src->host then has its answer).
 */
int kvmw_source_open(struct kvmw_source *src,
		     const struct kvmw_source_ops *ops, const char *path,
		     const void *sys);
/* The same with KVMW_SRC_* @flags (set in src->flags before ops->open). */
int kvmw_source_open_flags(struct kvmw_source *src,
			   const struct kvmw_source_ops *ops, const char *path,
			   const void *sys, unsigned int flags);
void kvmw_source_close(struct kvmw_source *src);

/* Reads the source's host info again into src->host. Returns 0 or -errno. */
int kvmw_source_info(struct kvmw_source *src);

/*
 * Takes a snapshot (see kvmw_source_ops::snapshot), stamps its time and
 * derives its figures. Returns 0 or -errno.
 */
int kvmw_snapshot_take(struct kvmw_source *src, const __u64 *ids,
		       size_t nr_ids, bool detail, struct kvmw_snapshot *snap);

/* Reads events, as kvmw_source_ops::read_events. */
int kvmw_source_read_events(struct kvmw_source *src, struct kvmw_ev *evs,
			    size_t max, size_t *nr, int timeout_ms,
			    const sigset_t *mask);

/* -------------------------------------------------------------------- */
/* Building and deriving snapshots (for sources)                        */

/*
 * A histogram of the layout (@type, @sub_bits, @nr), zeroed. Returns 0
 * or -ENOMEM.
 */
int kvmw_hist_init(struct kvmw_hist *h, __u32 type, __u32 sub_bits,
		   __u32 nr);
void kvmw_hist_release(struct kvmw_hist *h);
/* Sum of the buckets. */
__u64 kvmw_hist_total(const struct kvmw_hist *h);

/*
 * The bucket of @h holding quantile @q_ppm / KVMW_PPM: the smallest
 * bucket whose cumulative count reaches ceil(q * total), at least 1,
 * with its bounds [lo, hi) from hist.h (hi KVMW_HIST_INF for the last),
 * narrowed to the exact @min and @max where they fall inside the bucket
 * (bounds that would not hold the quantile, as a racing read could give,
 * are ignored; 0 and ~0ULL narrow nothing). An empty histogram gives
 * bucket -1, lo and hi 0.
 */
void kvmw_hist_percentile(const struct kvmw_hist *h, __u32 q_ppm,
			  __u64 min, __u64 max, struct kvmw_pct *p);

/* A zeroed node array of the snapshot's nr_nodes; NULL on -ENOMEM. */
__u64 *kvmw_nodes_alloc(const struct kvmw_host *host);

/*
 * Sorts the VMs of @snap by vm_id and computes every derived figure:
 * reason order, shares and categories, the VM totals, percentiles, time,
 * fault, scheduler and memory shares. Returns 0 or -ENOMEM, -EINVAL
 * (histograms of different layouts to add up).
 */
int kvmw_snapshot_derive(struct kvmw_snapshot *snap);

void kvmw_snapshot_free(struct kvmw_snapshot *snap);
/* Frees what a VM owns (for sources dropping a VM). */
void kvmw_vm_release(struct kvmw_vm *vm);

/* The VM @vm_id of @snap, or NULL. */
const struct kvmw_vm *kvmw_snapshot_find(const struct kvmw_snapshot *snap,
					 __u64 vm_id);

/*
 * The VM of @snap whose VMM is process @pid and whose vCPUs include a
 * vCPU last run by each of the @nr_tids threads @tids (none: any VM of
 * @pid). A process may hold VMs of the past (gone) besides live ones: a
 * live VM is preferred, then the lowest vm_id. NULL when none matches.
 */
const struct kvmw_vm *kvmw_snapshot_find_vmm(const struct kvmw_snapshot *snap,
					     __u32 pid, const __u32 *tids,
					     size_t nr_tids);

/* The vCPU of @vm last run by thread @tid, or NULL. */
const struct kvmw_vcpu *kvmw_vm_vcpu_by_tid(const struct kvmw_vm *vm,
					    __u32 tid);
/* The vCPU @vcpu_id of @vm, or NULL. */
const struct kvmw_vcpu *kvmw_vm_vcpu(const struct kvmw_vm *vm,
				     __u32 vcpu_id);

/* The exits of reason @code of @u (a vCPU or a VM total), or NULL. */
const struct kvmw_reason *kvmw_unit_reason(const struct kvmw_unit *u,
					   __u32 code);
/* Its count: 0 when @u has no exit of reason @code. */
__u64 kvmw_unit_count(const struct kvmw_unit *u, __u32 code);

/* -------------------------------------------------------------------- */
/* Deltas between two snapshots                                         */

/* @part in percent of @whole; not ok when @whole is 0. */
struct kvmw_opt kvmw_share(__u64 part, __u64 whole);

/*
 * Rate per second of a counter that went from @before to @after in
 * @elapsed_ns; not ok when no time elapsed or it went backwards.
 */
struct kvmw_opt kvmw_rate(__u64 before, __u64 after, __u64 elapsed_ns);

/* One VM of a delta. */
struct kvmw_delta_vm {
	/* Newest data known: from the second snapshot, or the first. */
	const struct kvmw_vm *vm;
	/* Destroyed, or no longer tracked at all. */
	bool gone;
	/* In the first snapshot but not in the second. */
	bool vanished;
	struct kvmw_opt exits_per_sec;
};

/*
 * Pairs the VMs of two snapshots by vm_id into rows sorted by vm_id,
 * with exit rates over the time between them. @prev may be NULL.
 *
 * - A VM in both: (exits now - exits then) / interval. If its
 *   first_seen_ns changed or its exits went down, it is another VM that
 *   got the same id (module reloaded): it counts from 0.
 * - A VM only in @cur appeared during the interval: all its exits are
 *   from the interval.
 * - A VM only in @prev was dropped: it is shown as gone with its last
 *   numbers; rate 0 if it was already gone in @prev, unknown otherwise.
 *
 * The snapshots must outlive the rows. *rows is a new array (free() it).
 * Returns 0 or -ENOMEM.
 */
int kvmw_delta(const struct kvmw_snapshot *prev,
	       const struct kvmw_snapshot *cur,
	       struct kvmw_delta_vm **rows, size_t *nr);

/* CLOCK_BOOTTIME in ns. */
__u64 kvmw_now_ns(void);

/* -------------------------------------------------------------------- */
/* The statistics table                                                 */

/* What a statistic describes, and the struct its value is read from. */
enum kvmw_stat_scope {
	KVMW_AT_HOST,		/* struct kvmw_host */
	KVMW_AT_VM,		/* struct kvmw_vm */
	KVMW_AT_UNIT,		/* struct kvmw_unit: a vCPU or a VM's total */
	KVMW_AT_VCPU,		/* struct kvmw_vcpu (what only a vCPU has) */
	KVMW_AT_REASON,		/* struct kvmw_reason */
};

/* How the value is stored. */
enum kvmw_stat_type {
	KVMW_T_U64,		/* __u64 */
	KVMW_T_U32,		/* __u32; KVMW_NONE: not known */
	KVMW_T_NODE,		/* int: a node, -1 for none */
	KVMW_T_OPT,		/* struct kvmw_opt */
	KVMW_T_PCT,		/* struct kvmw_pct */
	KVMW_T_HIST,		/* struct kvmw_hist */
	KVMW_T_NODES,		/* __u64 *: one value per node (nr_nodes) */
	KVMW_T_NODE_PCTS,	/* double *: a share per node (nr_nodes) */
	KVMW_T_CATS,		/* __u64[KVMW_NR_CATEGORIES] */
};

/*
 * One number of the model: @name is its place in `kvmwarden stat --json`
 * under the object of its scope ("time.guest_ns" in a VM or a vCPU
 * object), @unit what it counts, @offset where it is in the struct of
 * @scope. @feature is the capability without which it is not measured
 * (0: always; null in JSON without it).
 */
struct kvmw_stat_def {
	const char *name;
	const char *unit;		/* "ns", "exits", "percent", ... */
	enum kvmw_stat_kind kind;
	enum kvmw_stat_scope scope;
	enum kvmw_stat_type type;
	size_t offset;
	__u64 feature;
	const char *help;
};

/* Every number of the model; returns the table's length. */
size_t kvmw_stat_table(const struct kvmw_stat_def **table);

/* Pointer to the value of @d in @base (a struct of its scope). */
static inline const void *kvmw_stat_ptr(const struct kvmw_stat_def *d,
					const void *base)
{
	return (const char *)base + d->offset;
}

/*
 * Writes the value of @d in @base (a struct of its scope) as JSON: a
 * number, null for what is not known, {bucket, lo, hi} for a quantile,
 * an array for a histogram, the @nr_nodes node values or the categories.
 */
void kvmw_stat_json_value(struct kvmw_json *j, const struct kvmw_stat_def *d,
			  const void *base, unsigned int nr_nodes);

#endif /* LIBKVMWARDEN_H */
