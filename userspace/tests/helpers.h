/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test helpers: building snapshots by hand, the fixture samples, a fake
 * kvmwarden device and running the command line in-process.
 */
#ifndef KVMW_TEST_HELPERS_H
#define KVMW_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kvmw_dev.h"
#include "libkvmwarden.h"

/* Snapshot builder: arrays are malloc()ed, free with kvmw_vm_snap_free(). */
void snap_init(struct kvmw_vm_snap *s, __u64 vm_id, __u32 pid,
	       const char *comm, __u32 vendor);
void snap_add_vcpu(struct kvmw_vm_snap *s, __u32 vcpu_id, __u32 tid);
/* Adds @count exits of @reason to the last vCPU added. */
void snap_add_reason(struct kvmw_vm_snap *s, __u32 reason, __u64 count);
void snap_copy(struct kvmw_vm_snap *dst, const struct kvmw_vm_snap *src);
/*
 * Latency of the last reason added, as the module reports it: @total ns
 * over the timed exits, shortest @min, longest @max, @user_count of them
 * with @user_ns in userspace; the idle flag from the reason's category.
 * Adds the time to the vCPU's exit_ns and idle_ns or user_ns and
 * overhead_ns, as the module does. Buckets come from snap_add_hist().
 */
void snap_set_lat(struct kvmw_vm_snap *s, __u64 total, __u64 min, __u64 max,
		  __u64 user_count, __u64 user_ns);
/* Adds @n timed exits to bucket @b of the last reason added. */
void snap_add_hist(struct kvmw_vm_snap *s, unsigned int b, __u64 n);

/*
 * Nested page faults of the last vCPU added: @faults of which @write,
 * @fetch, @present and @mmio, @total ns from the faults to the next
 * entries, the longest @max. Buckets and nodes come from the calls below.
 */
void snap_set_faults(struct kvmw_vm_snap *s, __u64 faults, __u64 write,
		     __u64 fetch, __u64 present, __u64 mmio, __u64 total,
		     __u64 max);
/* Adds @n timed faults to bucket @b of the last vCPU added. */
void snap_add_fault_hist(struct kvmw_vm_snap *s, unsigned int b, __u64 n);
/* Adds @n faults on @node (-1: unknown) to the last vCPU added. */
void snap_add_fault_node(struct kvmw_vm_snap *s, int node, __u64 n);

/*
 * Scheduler figures of vCPU @vcpu (an index): run-queue delay @rq_ns over
 * @waits, the longest @max; @preempt, @sleeps, @migr and @xnode of them
 * cross-node; last seen on @cpu of @node. Buckets come from
 * snap_add_rq_hist(), run times are set directly.
 */
void snap_set_sched(struct kvmw_vm_snap *s, unsigned int vcpu, __u64 rq_ns,
		    __u64 waits, __u64 max, __u64 preempt, __u64 sleeps,
		    __u64 migr, __u64 xnode, __u32 cpu, __u32 node);
void snap_add_rq_hist(struct kvmw_vm_snap *s, unsigned int vcpu,
		      unsigned int b, __u64 n);

/* Every feature of today's module (but events and snapshot_all). */
#define FEAT_ALL	(KVMW_FEAT_EXIT_COUNTS | KVMW_FEAT_REASON_VMX | \
			 KVMW_FEAT_VM_LIFETIME | KVMW_FEAT_LATENCY | \
			 KVMW_FEAT_USER_EXITS | KVMW_FEAT_FAULTS | \
			 KVMW_FEAT_SCHED | KVMW_FEAT_MEM_NUMA)

/*
 * The model of the raw sample @s, as the device source gives it (free
 * with kvmw_snapshot_free()); aborts on failure.
 */
void model_of_sample(struct kvmw_snapshot *m, const struct kvmw_sample *s);
/*
 * The model of the one VM @s on a host with @features (a copy: @s stays
 * the caller's), in @m; returns its VM.
 */
const struct kvmw_vm *model_of(struct kvmw_snapshot *m,
			       const struct kvmw_vm_snap *s, __u64 features);

/* Two samples one second apart, with VMs of both vendors (see fixture.c). */
struct fixture {
	struct kvmw_sample prev;
	struct kvmw_sample cur;
	/* Their models, and the rows of stat between them. */
	struct kvmw_snapshot mprev;
	struct kvmw_snapshot mcur;
	struct kvmw_delta_vm *rows;
	size_t nr_rows;
};

void fixture_build(struct fixture *fx);
/* Builds the models and rows of the samples as they are now. */
void fixture_model(struct fixture *fx);
void fixture_free(struct fixture *fx);
/*
 * Prints one of list-table, list-json, stat-table, stat-long (with
 * the -l lines), stat-json,
 * stat-vcpus (VM 1 per vCPU, as stat -v 1) or stat-values (every number
 * of the statistics table, one JSON line each); with "-old" appended, as
 * a module without the optional features gives them; with "-nofaults",
 * without the faults feature; with "-stats", through the device source
 * and a fake module with self-describing statistics (and "-nofaults"
 * then leaves a fault statistic undescribed instead; "-extra" adds a
 * vCPU statistic the library does not know, see fake_dev).
 */
int fixture_print(const char *which);
/* The same into @f. */
int fixture_fprint(FILE *f, const char *which);

/* A fake module behind struct kvmw_dev_ops. */
#define FAKE_MAX_VMS	256

struct fake_dev {
	struct kvmw_dev_ops ops;
	struct kvmw_handshake hs;
	struct kvmw_vm_snap vms[FAKE_MAX_VMS];
	unsigned int nr_vms;
	/* Behaviour. */
	int open_err;			/* -errno returned by open */
	bool list_query_ok;		/* max_vms == 0 succeeds as a query */
	bool lie_e2big;			/* E2BIG even when everything fits */
	unsigned int grow_list;		/* add VMs on the next N lists */
	unsigned int grow_vcpus;	/* add vCPUs on the next N snapshots */
	unsigned int grow_by;		/* how many each time (default 1) */
	bool always_short;		/* E2BIG asking for more than given */
	__u64 tick;			/* exits added to every VM per list */
	/* Element sizes the module knows (0: today's; VER0: an old one). */
	__u32 vcpu_size, reason_size;
	/* Size of struct kvmw_vm_snapshot it knows (0: today's, VER1). */
	__u32 snapshot_size;
	/*
	 * KVMW_FEAT_STATS: NUMA nodes described (0: KVMW_MAX_NODES); a
	 * statistic left out of the descriptors (its name, any scope); a
	 * vCPU counter the library does not know, "throttle_time" (unit ns,
	 * value 1000 * vcpu_id + 7), first in the vCPU records; the
	 * descriptors in the reverse order of the module's, so that every
	 * offset differs from it.
	 */
	__u32 stats_nodes;
	const char *stats_drop;
	bool stats_extra;
	bool stats_reverse;
	/* Element size of the last snapshot request. */
	__u32 last_vcpu_info_size;
	/* Event stream: records queued for read(), as raw bytes. */
	unsigned char *ev_buf;
	size_t ev_len, ev_pos;
	/* At most this many bytes per read() (0: as many as fit). */
	size_t ev_read_max;
	/* read() fails with this -errno once, then works again. */
	int ev_read_err;
	/* The stream ends: poll() says readable, read() returns 0. */
	bool ev_eof;
	/*
	 * Signal raised (unblocked, as ppoll() would deliver it) by a
	 * poll() on an empty queue; a poll() without a timeout on an empty
	 * queue raises SIGTERM when this is 0, so that no test hangs.
	 */
	int ev_signal;
	/*
	 * KVMW_FEAT_BUDGET: the budget of each VM (by index in @vms) as
	 * last set; the -errno the next BUDGET_SETs fail with (0: none).
	 */
	struct kvmw_budget budgets[FAKE_MAX_VMS];
	int budget_err;
	/*
	 * KVMW_FEAT_BUDGET_DEFAULT: the slots as last set (a cgroup fd set
	 * becomes cgroup_id 1000 + fd) and their budgets.
	 */
	struct kvmw_budget_default defaults[KVMW_BUDGET_MAX_DEFAULTS];
	struct kvmw_budget default_budgets[KVMW_BUDGET_MAX_DEFAULTS];
	/*
	 * KVMW_FEAT_NUMA_PLACE: the policy of each VM as last set, the
	 * extra node words sent with it (@numa_words of them), what GET
	 * reports besides (the state fields of @numa_state are copied out),
	 * and the -errno the next NUMA_SETs fail with (0: none).
	 */
	struct kvmw_numa_policy numa[FAKE_MAX_VMS];
	__u64 numa_more[FAKE_MAX_VMS][4];
	struct kvmw_numa_policy numa_state;
	int numa_err;
	unsigned int numa_sets, numa_gets;
	/* Observations. */
	int open_flags;			/* of the last open */
	unsigned int budget_sets, budget_gets;
	unsigned int opens, closes;
	unsigned int list_calls, snap_calls, all_calls, e2bigs;
	unsigned int desc_calls, read_calls;
	unsigned int reads, polls;
	unsigned int bad_requests;	/* requests breaking the UAPI rules */
};

void fake_init(struct fake_dev *f);
void fake_free(struct fake_dev *f);
/* Adds a VM with @nr_vcpus vCPUs, each with a few CPUID/HLT exits. */
struct kvmw_vm_snap *fake_add_vm(struct fake_dev *f, __u64 vm_id,
				 __u32 pid, const char *comm,
				 unsigned int nr_vcpus);

/*
 * Adds a VM of @nr_vcpus vCPUs with every figure of today's module: per
 * vCPU three reasons with latencies, faults on two nodes, scheduler
 * figures and run times, the VM's memory (for instruction counts of the
 * command line on a large VM).
 */
struct kvmw_vm_snap *fake_add_big_vm(struct fake_dev *f, __u64 vm_id,
				     unsigned int nr_vcpus);

/* Queues an event record, or @len raw bytes, for the event stream. */
void fake_push_event(struct fake_dev *f, const struct kvmw_event *ev);
void fake_push_raw(struct fake_dev *f, const void *buf, size_t len);

/* Runs kvmw_main() on the NULL-terminated arguments, capturing output. */
struct run {
	int rc;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

void run_cli(struct run *r, const struct kvmw_dev_ops *ops, ...)
	__attribute__((sentinel));
void run_free(struct run *r);

/*
 * The file @rel of the userspace source directory (the man page, the
 * schemas), NUL-terminated; free() it. Aborts when it cannot be read.
 */
char *read_source_file(const char *rel);

/* Text written by a function under test, captured in memory. */
struct out {
	char *s;
	size_t len;
	FILE *f;
};

void out_open(struct out *o);
void out_close(struct out *o);
/* One TAP result: @s contains @has. */
void check_has(const char *s, const char *has, const char *what);
size_t count_of(const char *s, const char *what);
/* a equals b up to rounding */
bool near(double a, double b);

#endif /* KVMW_TEST_HELPERS_H */
