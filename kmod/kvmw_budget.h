/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit budgets: the per-VM token buckets, the vCPU's park, the hooks the
 * probes call. Documentation/budgets.rst explains the design.
 */
#ifndef KVMW_BUDGET_H
#define KVMW_BUDGET_H

#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include <uapi/linux/kvmwarden.h>
#include <kvmwarden/categories.h>

struct kvmw_vm;
struct kvmw_vcpu;

/*
 * struct kvmw_budget_state::bucket_of_code covers the exit codes below
 * this (every VMX basic reason, SVM codes up to the CR write traps), for
 * the VM's vendor: the bucket of the code's category, resolved when the
 * budget is set, so that the exit probe's charge is one load. Higher
 * codes (SVM NPF, AVIC, VMGEXIT) are resolved per exit.
 */
#define KVMW_BUDGET_DIRECT_CODES	0xa0

/*
 * One token bucket, as a GCRA: @tat is the "theoretical arrival time" in
 * token units, the token clock value at which the bucket is full again.
 * The token clock is the budgets' clock (kvmw_budget_now(): the TSC where
 * the probes read it, else CLOCK_MONOTONIC) scaled by the rate, computed
 * from the absolute time (tau = t * rate / clock rate), so no remainder
 * is ever lost. An exit at token time t moves @tat to max(@tat, t) + 1;
 * the bucket is empty when @tat - t exceeds @burst. One atomic word: the
 * VM's vCPUs share it without a lock.
 */
struct kvmw_bucket {
	atomic64_t tat;
	u64 mult_clk;		/* rate * 2^64 / the clock's rate */
	u64 burst;
	atomic64_t credit;
	u64 mult;		/* rate * 2^64 / NSEC_PER_SEC */
	u64 ns_q32;		/* NSEC_PER_SEC * 2^32 / rate: ns per token */
	u64 max_debt;		/* tokens one max_park_ns refills */
	u64 rate;
	u64 categories;		/* as set (0 = default scope) */
	u64 scope;		/* resolved category mask */
};

/*
 * A VM's budget. Immutable once published except for the buckets' state:
 * KVMW_IOC_BUDGET_SET builds a new one and frees the old after an RCU
 * grace period (the probes read it under rcu_read_lock_sched()).
 */
/*
 * struct kvmw_budget_state::bucket_of_code of npf, whose charge waits for
 * the fault probe: a bucket that is always empty (its @tat is S64_MAX,
 * never written), so that the exit probe's inline take fails and leaves
 * the exit to kvmw_budget_charge() without a compare of its own.
 */
extern struct kvmw_bucket kvmw_bucket_npf;
#define KVMW_BUCKET_NPF		(&kvmw_bucket_npf)

/*
 * @bucket_of_code: per exit code below KVMW_BUDGET_DIRECT_CODES, the
 * bucket it is charged to, NULL for none, KVMW_BUCKET_NPF for npf
 */
struct kvmw_budget_state {
	struct kvmw_bucket *bucket_of_code[KVMW_BUDGET_DIRECT_CODES];
	struct rcu_head rcu;
	u32 mode;
	u32 flags;
	u32 nr_buckets;
	u32 guard_pct;
	u32 rule;		/* 1 + default slot it came from, or 0 */
	u64 max_park_ns;
	u64 window_ns;
	s8 bucket_of[KVMW_NR_CATEGORIES];
	struct kvmw_bucket b[KVMW_BUDGET_MAX_BUCKETS];
};

/*
 * A vCPU's side of the budget. Written only by the vCPU's own thread (the
 * exit and fault probes and the park callback), read with READ_ONCE().
 * @queued is set while @park_cb is queued on that thread: the record must
 * outlive the callback, so the reaper waits for it to clear.
 */
struct kvmw_vcpu_budget {
	struct callback_head park_cb;
	unsigned long queued;
	u64 park_until;
	u32 defer;
	u32 tripped_gen;
	u64 charged;
	u64 overruns;
	u64 parks;
	u64 parked_ns;
	u64 would_park_ns;
	u64 window_start;
	u64 window_parked;
};

/*
 * Per-VM state: the budget, its generation, the guard having tripped, the
 * throttling episode the events report.
 */
struct kvmw_vm_budget {
	struct kvmw_budget_state __rcu *cur;
	u32 gen;
	u32 tripped;
	unsigned long dflt;		/* bit 0: default budgets not tried yet */
	unsigned long throttled;	/* bit 0: between THROTTLE_START and _END */
	u64 throttle_start;		/* CLOCK_MONOTONIC ns of the first park */
	u64 last_park;			/* and of the last one */
};

void kvmw_budget_charge(struct kvmw_vcpu *v, struct kvmw_budget_state *b,
			u32 code, u64 now);
void kvmw_budget_fault(struct kvmw_vcpu *v, bool mmio);
int kvmw_budget_check(const struct kvmw_budget *req, u64 *scopes);
int kvmw_budget_set(struct kvmw_vm *vm, const struct kvmw_budget *req,
		    u32 rule);
void kvmw_budget_get(struct kvmw_vm *vm, struct kvmw_budget *out);
void kvmw_budget_read(struct kvmw_vm *vm, u64 *mode, u64 *tripped,
		      u64 *tokens, u64 *debt);
void kvmw_budget_vm_free(struct kvmw_vm *vm);
void kvmw_budget_sweep(struct kvmw_vm *vm);
void kvmw_budget_vcpu_wait(struct kvmw_vcpu *v);
void kvmw_budget_exit(void);

/* kvmw_budget_default.c: host-wide default budgets for new VMs. */
void kvmw_budget_default_attach(struct kvmw_vm *vm);
int kvmw_budget_default_check(const struct kvmw_budget_default *req,
			      bool set);
int kvmw_budget_default_set(const struct kvmw_budget_default *req,
			    const struct kvmw_budget *b);
void kvmw_budget_default_get(struct kvmw_budget_default *req,
			     struct kvmw_budget *b);
void kvmw_budget_default_exit(void);

#endif /* KVMW_BUDGET_H */
