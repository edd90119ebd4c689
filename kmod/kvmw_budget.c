// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: per-VM exit budgets.
 *
 * Every exit of a VM with a budget takes a token from the bucket of its
 * category (struct kvmw_bucket: one atomic word per bucket, shared by the
 * VM's vCPUs only). An exit that finds its bucket empty is an overrun.
 * In audit mode the bucket does not go into debt and the overrun adds one
 * token's worth of time (10^9 / rate ns) to the vCPU's would-park time:
 * the time a throttled vCPU would sleep for the same exits. In throttle
 * mode the bucket goes into debt and the exit probe queues a task_work on
 * the vCPU thread itself (TWA_RESUME): the thread runs it before its next
 * guest entry (KVM's run loop handles TIF_NOTIFY_RESUME work before it
 * enters the guest) or on its way back to userspace, in process context,
 * and sleeps there until the debt is paid, interruptibly, so signals
 * reach the VMM at once (KVM_RUN then returns -EINTR).
 *
 * Lifetime: the park callback is module code queued on a thread the
 * module does not own, and there is no exported way to cancel it. So
 * every queued callback is counted, the reaper waits for a vCPU's own
 * callback before it frees the record, and unload wakes the sleepers,
 * waits for the count to drop to zero and then for an RCU Tasks grace
 * period, which ends only once every task has voluntarily switched out
 * since: a thread that was still executing the callback's last
 * instructions has left them by then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>

#include "kvmw.h"

/* Callbacks queued and not finished; unload waits for zero. */
static atomic_t kvmw_parks_pending = ATOMIC_INIT(0);
/* A callback was ever queued: unload needs the RCU Tasks grace period. */
static bool kvmw_parks_used;
/* Set at unload: parks end at once and no new one starts. */
static bool kvmw_parks_stopping;
/* Sleepers wait here; woken when a budget changes and at unload. */
static DECLARE_WAIT_QUEUE_HEAD(kvmw_park_wq);

/* Tokens that @ns nanoseconds refill: ns * rate / 10^9. */
static inline u64 kvmw_tokens(const struct kvmw_bucket *bk, u64 ns)
{
	return mul_u64_u64_shr(ns, bk->mult, 64);
}

/* Token clock of @bk at @t on the budgets' clock (kvmw_budget_now()). */
static __always_inline u64 kvmw_clk_tokens(const struct kvmw_bucket *bk,
					   u64 t)
{
	return kvmw_mul_hi(t, bk->mult_clk);
}

/* Nanoseconds that @tokens tokens take to refill. */
static inline u64 kvmw_tokens_ns(const struct kvmw_bucket *bk, u64 tokens)
{
	return mul_u64_u64_shr(tokens, bk->ns_q32, 32);
}

static void kvmw_park_fn(struct callback_head *cb);

struct kvmw_bucket kvmw_bucket_npf = {
	.tat = ATOMIC64_INIT(S64_MAX),
};

/* Make the vCPU thread sleep @ns before it enters the guest again. */
static void kvmw_park(struct kvmw_vcpu *v, const struct kvmw_budget_state *b,
		      u64 ns)
{
	struct kvmw_vcpu_budget *pb = &v->budget;
	u64 until = ktime_get_mono_fast_ns() + min(ns, b->max_park_ns);

	if (until > pb->park_until)
		WRITE_ONCE(pb->park_until, until);
	if (pb->queued || READ_ONCE(kvmw_parks_stopping))
		return;
	init_task_work(&pb->park_cb, kvmw_park_fn);
	/* Fails only when the thread is exiting: nothing to park then. */
	if (task_work_add(current, &pb->park_cb, TWA_RESUME))
		return;
	atomic_inc(&kvmw_parks_pending);
	WRITE_ONCE(pb->queued, 1);
	if (!READ_ONCE(kvmw_parks_used))
		WRITE_ONCE(kvmw_parks_used, true);
}

/*
 * Take a token from @bk at token time @t when the bucket would go past
 * its burst: the credit, an overrun, the park.
 */
static noinline void kvmw_take_over(struct kvmw_vcpu *v,
				    const struct kvmw_budget_state *b,
				    struct kvmw_bucket *bk, u64 t)
{
	struct kvmw_vcpu_budget *pb = &v->budget;
	u64 old, new;
	bool throttle;
	s64 over;

	throttle = b->mode == KVMW_BUDGET_THROTTLE &&
		   !READ_ONCE(v->vm->budget.tripped);
	old = atomic64_read(&bk->tat);
	do {
		new = max(old, t) + 1;
		over = new - t - bk->burst;
		/*
		 * Audit: an empty bucket stays empty, it never owes.
		 * Throttle: it owes at most one longest park.
		 */
		if (over > 0 && !throttle)
			new = t + bk->burst;
		else if (over > (s64)bk->max_debt)
			new = t + bk->burst + bk->max_debt;
	} while (!atomic64_try_cmpxchg(&bk->tat, &old, new));
	WRITE_ONCE(pb->charged, pb->charged + 1);
	if (over <= 0)
		return;
	/* Past the bucket: the one-time credit pays first. */
	if (atomic64_read(&bk->credit) > 0 &&
	    atomic64_dec_if_positive(&bk->credit) >= 0) {
		if (throttle)
			atomic64_dec(&bk->tat);
		return;
	}
	WRITE_ONCE(pb->overruns, pb->overruns + 1);
	if (!throttle) {
		WRITE_ONCE(pb->would_park_ns,
			   pb->would_park_ns + kvmw_tokens_ns(bk, 1));
		return;
	}
	kvmw_park(v, b, kvmw_tokens_ns(bk, over));
}

/* Take a token from @bk of @b at @now (budgets' clock). */
static __always_inline void kvmw_take(struct kvmw_vcpu *v,
				      const struct kvmw_budget_state *b,
				      struct kvmw_bucket *bk, u64 now)
{
	if (!kvmw_budget_take_fast(&v->budget, bk, now))
		kvmw_take_over(v, b, bk, kvmw_clk_tokens(bk, now));
}

/* Bucket of category @cat in @b, KVMW_BUCKET_NPF for npf (deferred). */
static struct kvmw_bucket *kvmw_bucket_of_cat(struct kvmw_budget_state *b,
					      u32 cat)
{
	if (cat == KVMW_CAT_NPF)
		return KVMW_BUCKET_NPF;
	if (cat >= KVMW_NR_CATEGORIES || b->bucket_of[cat] < 0)
		return NULL;
	return &b->b[b->bucket_of[cat]];
}

/**
 * kvmw_budget_charge() - charge an exit to its VM's budget
 * @v: the vCPU
 * @b: its VM's budget (the caller's RCU-sched read side)
 * @code: the exit's decoded reason
 * @now: the exit probe's kvmw_now()
 *
 * Called by the exit probe. Nested page faults are charged by the fault
 * probe, which knows whether they were MMIO; one whose fault probe did not
 * run is charged as npf with the next exit.
 */
void kvmw_budget_charge(struct kvmw_vcpu *v, struct kvmw_budget_state *b,
			u32 code, u64 now)
{
	struct kvmw_bucket *bk;
	int npf;

	now = kvmw_budget_clock(now);
	if (unlikely(v->budget.defer)) {
		v->budget.defer = 0;
		npf = b->bucket_of[KVMW_CAT_NPF];
		if (npf >= 0)
			kvmw_take(v, b, &b->b[npf], now);
	}
	if (likely(code < KVMW_BUDGET_DIRECT_CODES))
		bk = b->bucket_of_code[code];
	else
		bk = kvmw_bucket_of_cat(b, kvmw_reason_category(v->vm->vendor,
								code));
	if (bk == KVMW_BUCKET_NPF)
		v->budget.defer = 1;
	else if (bk)
		kvmw_take(v, b, bk, now);
}

/* The fault probe saw the nested page fault of the pending exit. */
void kvmw_budget_fault(struct kvmw_vcpu *v, bool mmio)
{
	struct kvmw_budget_state *b;
	int k;

	if (!v->budget.defer)
		return;
	v->budget.defer = 0;
	b = rcu_dereference_sched(v->vm->budget.cur);
	if (!b)
		return;
	k = b->bucket_of[mmio ? KVMW_CAT_MMIO : KVMW_CAT_NPF];
	if (k >= 0)
		kvmw_take(v, b, &b->b[k], kvmw_budget_now());
}

/* A KVMW_EVENT_BUDGET_* event of @vm (and @v's thread, if given). */
static void kvmw_budget_event(struct kvmw_vm *vm, struct kvmw_vcpu *v,
			      u16 type, const struct kvmw_budget_state *b,
			      u32 mode, u64 parked, u64 window)
{
	struct kvmw_event e = {
		.type = type,
		.vm_id = vm->id,
		.vmm_pid = vm->vmm_pid,
		.nr_vcpus = READ_ONCE(vm->nr_vcpus),
	};

	if (v) {
		e.vcpu_id = v->vcpu_id;
		e.tid = task_pid_nr(current);
	}
	e.budget.mode = mode;
	if (b) {
		e.budget.nr_buckets = b->nr_buckets;
		e.budget.categories = b->b[0].categories;
		e.budget.rate = b->b[0].rate;
		e.budget.burst = b->b[0].burst;
		e.budget.rule = b->rule;
	}
	e.budget.parked_ns = parked;
	e.budget.window_ns = window;
	kvmw_event_emit(&e);
}

/*
 * The guard: a vCPU parked more than guard_pct of a window trips it, once
 * per window; with KVMW_BUDGET_F_GUARD_AUDIT the VM's budget goes on in
 * audit mode until the next KVMW_IOC_BUDGET_SET.
 */
static void kvmw_guard(struct kvmw_vcpu *v, u64 now, u64 parked)
{
	struct kvmw_vcpu_budget *pb = &v->budget;
	const struct kvmw_budget_state *b;
	struct kvmw_vm *vm = v->vm;
	bool trip = false, audit = false;
	u64 window = 0, in = 0;

	rcu_read_lock_sched();
	b = rcu_dereference_sched(vm->budget.cur);
	if (!b || b->guard_pct >= 100) {
		rcu_read_unlock_sched();
		return;
	}
	if (now - pb->window_start >= b->window_ns) {
		pb->window_start = now;
		pb->window_parked = 0;
		pb->tripped_gen = 0;
	}
	pb->window_parked += parked;
	window = b->window_ns;
	in = pb->window_parked;
	/* Tripped as soon as the window's share is certain to be exceeded. */
	if (!pb->tripped_gen &&
	    in * 100 > (u64)b->guard_pct * window) {
		pb->tripped_gen = 1;
		trip = true;
		audit = b->flags & KVMW_BUDGET_F_GUARD_AUDIT;
		if (audit)
			WRITE_ONCE(vm->budget.tripped, 1);
	}
	if (trip)
		kvmw_budget_event(vm, v, KVMW_EVENT_BUDGET_GUARD, b,
				  audit ? KVMW_BUDGET_AUDIT : b->mode, in,
				  window);
	rcu_read_unlock_sched();
	if (audit)
		wake_up_all(&kvmw_park_wq);
}

/* A park of @v at @now: the VM's throttling episode starts or goes on. */
static void kvmw_throttle_start(struct kvmw_vcpu *v, u64 now)
{
	struct kvmw_vm *vm = v->vm;
	const struct kvmw_budget_state *b;

	WRITE_ONCE(vm->budget.last_park, now);
	if (test_bit(0, &vm->budget.throttled) ||
	    test_and_set_bit(0, &vm->budget.throttled))
		return;
	WRITE_ONCE(vm->budget.throttle_start, now);
	rcu_read_lock_sched();
	b = rcu_dereference_sched(vm->budget.cur);
	kvmw_budget_event(vm, v, KVMW_EVENT_BUDGET_THROTTLE_START, b,
			  b ? b->mode : KVMW_BUDGET_OFF, 0, 0);
	rcu_read_unlock_sched();
}

/**
 * kvmw_budget_sweep() - end @vm's throttling episode after a quiet window
 * @vm: a live VM (caller holds kvmw_mutex)
 *
 * Called by the periodic sweep: a VM not parked for a guard window (its
 * budget's, or the default once the budget is gone) is no longer
 * throttled.
 */
void kvmw_budget_sweep(struct kvmw_vm *vm)
{
	const struct kvmw_budget_state *b;
	u64 now, last, window = KVMW_BUDGET_DEF_WINDOW_NS;
	u32 mode = KVMW_BUDGET_OFF;

	if (!test_bit(0, &vm->budget.throttled))
		return;
	b = rcu_dereference_protected(vm->budget.cur,
				      lockdep_is_held(&kvmw_mutex));
	if (b) {
		window = b->window_ns;
		mode = b->mode;
	}
	now = ktime_get_ns();
	last = READ_ONCE(vm->budget.last_park);
	if ((s64)(now - last) < (s64)window)
		return;
	/* A park may start a new episode from here on. */
	clear_bit(0, &vm->budget.throttled);
	kvmw_budget_event(vm, NULL, KVMW_EVENT_BUDGET_THROTTLE_END, b, mode,
			  last - READ_ONCE(vm->budget.throttle_start), window);
}

static bool kvmw_park_over(const struct kvmw_vm *vm, u32 gen)
{
	return READ_ONCE(kvmw_parks_stopping) ||
	       READ_ONCE(vm->budget.gen) != gen ||
	       READ_ONCE(vm->budget.tripped);
}

/*
 * The park, in the vCPU thread's own context before it enters the guest
 * again (or returns to userspace). Sleeps until the deadline, a signal,
 * a change of the VM's budget or unload. The time parked is not exit
 * handling: the pending exit's latency (or the VMM's time, when KVM_RUN
 * is returning to userspace) is shifted past it.
 */
static void kvmw_park_fn(struct callback_head *cb)
{
	struct kvmw_vcpu *v = container_of(cb, struct kvmw_vcpu,
					   budget.park_cb);
	struct kvmw_vcpu_budget *pb = &v->budget;
	struct kvmw_vm *vm = v->vm;
	u32 gen = READ_ONCE(vm->budget.gen);
	u64 until = READ_ONCE(pb->park_until);
	u64 t0 = ktime_get_ns();
	u64 c0 = kvmw_now();
	u64 slept;

	if (until > t0 && !kvmw_park_over(vm, gen))
		wait_event_interruptible_hrtimeout(kvmw_park_wq,
						   kvmw_park_over(vm, gen),
						   ns_to_ktime(until - t0));
	slept = ktime_get_ns() - t0;
	kvmw_throttle_start(v, t0);
	WRITE_ONCE(pb->parks, pb->parks + 1);
	WRITE_ONCE(pb->parked_ns, pb->parked_ns + slept);
	if (v->entry_work & KVMW_WORK_USER)
		WRITE_ONCE(v->user_ts, v->user_ts + (kvmw_now() - c0));
	else
		WRITE_ONCE(v->exit_ts, v->exit_ts + (kvmw_now() - c0));
	kvmw_guard(v, t0 + slept, slept);
	WRITE_ONCE(pb->park_until, 0);
	/* The last access to the record: the reaper may free it after this. */
	smp_store_release(&pb->queued, 0);
	wake_up_var(&pb->queued);
	if (atomic_dec_and_test(&kvmw_parks_pending))
		wake_up_var(&kvmw_parks_pending);
}

/* The reaper: wait until @v's park callback has run (it runs soon). */
void kvmw_budget_vcpu_wait(struct kvmw_vcpu *v)
{
	/* Pairs with the release in kvmw_park_fn(): its accesses are done. */
	wait_var_event(&v->budget.queued, !smp_load_acquire(&v->budget.queued));
}

/*
 * kvmw_budget_check() - validate a budget as userspace gave it
 * @req: the budget (its vm_id is the caller's business)
 * @scopes: KVMW_BUDGET_MAX_BUCKETS values: set to each bucket's category mask
 */
int kvmw_budget_check(const struct kvmw_budget *req, u64 *scopes)
{
	u64 park = req->max_park_ns ?: KVMW_BUDGET_DEF_PARK_NS;
	u64 seen = 0;
	u32 i;

	if (req->flags & ~KVMW_BUDGET_F_ALL || req->reserved || req->tripped ||
	    req->rule)
		return -EINVAL;
	if (req->mode == KVMW_BUDGET_OFF)
		return req->nr_buckets || req->flags ? -EINVAL : 0;
	if (req->mode != KVMW_BUDGET_AUDIT && req->mode != KVMW_BUDGET_THROTTLE)
		return -EINVAL;
	if (!req->nr_buckets || req->nr_buckets > KVMW_BUDGET_MAX_BUCKETS)
		return -EINVAL;
	if (req->max_park_ns > KVMW_BUDGET_MAX_PARK_NS ||
	    (req->max_park_ns && req->max_park_ns < NSEC_PER_USEC))
		return -EINVAL;
	if (req->guard_window_ns &&
	    (req->guard_window_ns < KVMW_BUDGET_MIN_WINDOW_NS ||
	     req->guard_window_ns > KVMW_BUDGET_MAX_WINDOW_NS))
		return -EINVAL;
	if (req->guard_pct > 100)
		return -EINVAL;
	for (i = 0; i < KVMW_BUDGET_MAX_BUCKETS; i++) {
		const struct kvmw_budget_bucket *q = &req->buckets[i];
		u64 scope = q->categories ?: KVMW_BUDGET_DEFAULT_SCOPE;

		if (i >= req->nr_buckets) {
			/* Unused buckets must be zero: no silent leftovers. */
			if (q->categories || q->rate || q->burst || q->credit)
				return -EINVAL;
			continue;
		}
		if (q->categories & ~GENMASK_ULL(KVMW_NR_CATEGORIES - 1, 0))
			return -EINVAL;
		/* A token must refill within one park, or it cannot hold. */
		if (!q->rate || q->rate > KVMW_BUDGET_MAX_RATE ||
		    q->rate * park < NSEC_PER_SEC ||
		    !q->burst || q->burst > KVMW_BUDGET_MAX_BURST ||
		    q->credit > KVMW_BUDGET_MAX_BURST)
			return -EINVAL;
		if (scope & seen)
			return -EINVAL;
		seen |= scope;
		scopes[i] = scope;
	}
	return 0;
}

/* Carry @old's debt (tokens owed at @now) over to @bk. */
static void kvmw_bucket_carry(struct kvmw_bucket *bk,
			      const struct kvmw_bucket *old, u64 now)
{
	u64 t_old = kvmw_clk_tokens(old, now);
	s64 owed = atomic64_read(&old->tat) - t_old;
	u64 ns;

	if (owed <= 0)
		return;
	/* Owed in time, then in the new bucket's tokens. */
	ns = kvmw_tokens_ns(old, owed);
	atomic64_set(&bk->tat, kvmw_clk_tokens(bk, now) + kvmw_tokens(bk, ns));
}

/**
 * kvmw_budget_set() - set, change or remove a VM's budget
 * @vm: the VM (caller holds kvmw_mutex)
 * @req: the new budget, as userspace gave it
 * @rule: 1 + the default-budget slot it comes from, 0 for KVMW_IOC_BUDGET_SET
 *
 * Validates everything first: on error nothing changes. A bucket whose
 * scope was already a bucket's keeps that bucket's debt and credit left.
 */
int kvmw_budget_set(struct kvmw_vm *vm, const struct kvmw_budget *req,
		    u32 rule)
{
	u64 scopes[KVMW_BUDGET_MAX_BUCKETS] = {};
	struct kvmw_budget_state *b = NULL, *old;
	u64 now = kvmw_budget_now();
	u16 type = 0;
	u32 i, j;
	int ret;

	lockdep_assert_held(&kvmw_mutex);
	ret = kvmw_budget_check(req, scopes);
	if (ret)
		return ret;
	old = rcu_dereference_protected(vm->budget.cur,
					lockdep_is_held(&kvmw_mutex));
	if (req->mode != KVMW_BUDGET_OFF) {
		b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
		if (!b)
			return -ENOMEM;
		b->mode = req->mode;
		b->flags = req->flags;
		b->nr_buckets = req->nr_buckets;
		b->rule = rule;
		b->guard_pct = req->guard_pct ?: KVMW_BUDGET_DEF_GUARD_PCT;
		b->max_park_ns = req->max_park_ns ?: KVMW_BUDGET_DEF_PARK_NS;
		b->window_ns = req->guard_window_ns ?: KVMW_BUDGET_DEF_WINDOW_NS;
		memset(b->bucket_of, -1, sizeof(b->bucket_of));
		for (i = 0; i < b->nr_buckets; i++) {
			const struct kvmw_budget_bucket *q = &req->buckets[i];
			struct kvmw_bucket *bk = &b->b[i];

			bk->rate = q->rate;
			bk->burst = q->burst;
			bk->categories = q->categories;
			bk->scope = scopes[i];
			bk->mult = q->rate * div64_u64(U64_MAX, NSEC_PER_SEC);
			bk->mult_clk = q->rate *
				       div64_u64(U64_MAX, kvmw_budget_hz);
			bk->ns_q32 = div64_u64((u64)NSEC_PER_SEC << 32, q->rate);
			bk->max_debt = kvmw_tokens(bk, b->max_park_ns);
			atomic64_set(&bk->tat, 0);
			atomic64_set(&bk->credit, q->credit);
			for (j = 0; j < KVMW_NR_CATEGORIES; j++)
				if (scopes[i] & BIT_ULL(j))
					b->bucket_of[j] = i;
			for (j = 0; old && j < old->nr_buckets; j++) {
				if (old->b[j].scope != bk->scope)
					continue;
				kvmw_bucket_carry(bk, &old->b[j], now);
				if (!q->credit)
					continue;
				/* The credit is once per VM, not per set. */
				atomic64_set(&bk->credit,
					     min_t(s64, q->credit,
						   atomic64_read(&old->b[j].credit)));
			}
		}
		for (j = 0; j < KVMW_BUDGET_DIRECT_CODES; j++)
			b->bucket_of_code[j] =
				kvmw_bucket_of_cat(b,
						   kvmw_reason_category(vm->vendor,
									j));
		type = KVMW_EVENT_BUDGET_SET;
	} else if (old) {
		type = KVMW_EVENT_BUDGET_CLEAR;
	}
	rcu_assign_pointer(vm->budget.cur, b);
	WRITE_ONCE(vm->budget.tripped, 0);
	WRITE_ONCE(vm->budget.gen, vm->budget.gen + 1);
	/* Sleepers of this VM re-check: their next exit charges anew. */
	wake_up_all(&kvmw_park_wq);
	if (type)
		kvmw_budget_event(vm, NULL, type, b ?: old, b ? b->mode : old->mode,
				  0, 0);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/* Fill @out with @vm's budget (caller holds kvmw_mutex). */
void kvmw_budget_get(struct kvmw_vm *vm, struct kvmw_budget *out)
{
	const struct kvmw_budget_state *b;
	u32 i;

	b = rcu_dereference_protected(vm->budget.cur,
				      lockdep_is_held(&kvmw_mutex));
	out->mode = KVMW_BUDGET_OFF;
	out->nr_buckets = 0;
	out->flags = 0;
	out->max_park_ns = 0;
	out->guard_window_ns = 0;
	out->guard_pct = 0;
	out->tripped = 0;
	out->rule = 0;
	out->reserved = 0;
	memset(out->buckets, 0, sizeof(out->buckets));
	if (!b)
		return;
	out->mode = b->mode;
	out->flags = b->flags;
	out->nr_buckets = b->nr_buckets;
	out->max_park_ns = b->max_park_ns;
	out->guard_window_ns = b->window_ns;
	out->guard_pct = b->guard_pct;
	out->tripped = READ_ONCE(vm->budget.tripped);
	out->rule = b->rule;
	for (i = 0; i < b->nr_buckets; i++) {
		out->buckets[i].categories = b->b[i].categories;
		out->buckets[i].rate = b->b[i].rate;
		out->buckets[i].burst = b->b[i].burst;
		out->buckets[i].credit = max_t(s64, 0,
					       atomic64_read(&b->b[i].credit));
	}
}

/**
 * kvmw_budget_read() - @vm's budget state, for the statistics
 * @vm: the VM (caller holds kvmw_mutex)
 * @mode: set to the mode in force (KVMW_BUDGET_*)
 * @tripped: set to 1 when the guard tripped, else 0
 * @tokens: KVMW_BUDGET_MAX_BUCKETS values: tokens left per bucket
 * @debt: KVMW_BUDGET_MAX_BUCKETS values: tokens owed per bucket
 */
void kvmw_budget_read(struct kvmw_vm *vm, u64 *mode, u64 *tripped,
		      u64 *tokens, u64 *debt)
{
	const struct kvmw_budget_state *b;
	u64 now = kvmw_budget_now();
	u32 i;

	b = rcu_dereference_protected(vm->budget.cur,
				      lockdep_is_held(&kvmw_mutex));
	*mode = b ? b->mode : KVMW_BUDGET_OFF;
	*tripped = b ? READ_ONCE(vm->budget.tripped) : 0;
	for (i = 0; i < KVMW_BUDGET_MAX_BUCKETS; i++) {
		const struct kvmw_bucket *bk;
		s64 ahead;

		tokens[i] = 0;
		debt[i] = 0;
		if (!b || i >= b->nr_buckets)
			continue;
		bk = &b->b[i];
		/* How far the bucket's clock is ahead of the token clock. */
		ahead = atomic64_read(&bk->tat) - kvmw_clk_tokens(bk, now);
		if (ahead <= 0)
			tokens[i] = bk->burst;
		else if (ahead <= bk->burst)
			tokens[i] = bk->burst - ahead;
		else
			debt[i] = ahead - bk->burst;
	}
}

/* @vm is being freed: nothing can see it any more. */
void kvmw_budget_vm_free(struct kvmw_vm *vm)
{
	kfree(rcu_dereference_protected(vm->budget.cur, 1));
}

/*
 * Unload, after the probes are gone: no new park can be queued. End the
 * parks, wait for their callbacks, then for every task to have left them.
 */
void kvmw_budget_exit(void)
{
	WRITE_ONCE(kvmw_parks_stopping, true);
	wake_up_all(&kvmw_park_wq);
	wait_var_event(&kvmw_parks_pending, !atomic_read(&kvmw_parks_pending));
	if (READ_ONCE(kvmw_parks_used))
		synchronize_rcu_tasks();
}
