// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: the kvm_exit / kvm_entry probes and exit-reason decoding.
 *
 * This is the per-exit hot path. It allocates nothing, takes no lock and
 * writes only the record of the running vCPU (single writer: the vCPU
 * thread inside KVM_RUN) and, on a lookup miss, one per-CPU pointer.
 *
 * The exit reason, the fault's node and everything else read of KVM's
 * internals come from kvmw_kvm.h / kvmw_kvm.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include <trace/events/kvm.h>

#include "kvmw.h"
#include "kvmw_kvm_trace.h"

/*
 * Architectural fault information bits (SDM vol. 3 table 28-7, the EPT
 * violation exit qualification; APM vol. 2 15.25.6, the NPF error code,
 * which has the #PF error code layout), spelled out here because the
 * kernel's names for them changed over the supported versions.
 */
#define KVMW_EPT_QUAL_WRITE	BIT_ULL(1)	/* data write */
#define KVMW_EPT_QUAL_FETCH	BIT_ULL(2)	/* instruction fetch */
#define KVMW_EPT_QUAL_RWX_MASK	GENMASK_ULL(5, 3) /* entry was R/W/X */
#define KVMW_NPF_PRESENT	BIT_ULL(0)
#define KVMW_NPF_WRITE		BIT_ULL(1)
#define KVMW_NPF_RSVD		BIT_ULL(3)
#define KVMW_NPF_FETCH		BIT_ULL(4)

/* KVM's kvm_userspace_exit tracepoint, when found (not exported). */
static struct tracepoint *kvmw_tp_user_exit;

/*
 * Give @v's next latency entry to a reason on its first exit, or NULL
 * when all are taken. The entry is initialised before it is published
 * (release), so readers see it complete (kvmw_lat_read()).
 */
static noinline struct kvmw_lat *kvmw_lat_assign(struct kvmw_vcpu *v,
						 struct kvmw_lat **slot,
						 unsigned int index)
{
	unsigned int n = v->nr_lat;
	struct kvmw_lat *e;

	if (n == KVMW_LAT_REASONS)
		return NULL;
	e = &v->lat[n];
	WRITE_ONCE(e->min_ns, U64_MAX);
	v->lat_slot[n] = index;
	/* Publish the initialised entry; pairs with kvmw_slot_lat(). */
	smp_store_release(slot, e);
	/* ...and its slot; pairs with kvmw_vcpu_nr_reasons(). */
	smp_store_release(&v->nr_lat, n + 1);
	return e;
}

static __always_inline struct kvmw_lat *kvmw_lat_of(struct kvmw_vcpu *v,
						    struct kvmw_lat **slot,
						    unsigned int index)
{
	struct kvmw_lat *e = *slot;

	if (likely(e))
		return e;
	return kvmw_lat_assign(v, slot, index);
}

/* Count an exit whose code has no dense slot; returns its latency entry. */
static noinline struct kvmw_lat *kvmw_account_overflow(struct kvmw_vcpu *v,
						       u32 code)
{
	unsigned int i;

	for (i = 0; i < KVMW_NR_OVERFLOW; i++) {
		if (!v->ovf_count[i]) {
			/* Readers must never see the count without its code. */
			WRITE_ONCE(v->ovf_code[i], code);
			/* Pairs with the acquire in kvmw_fill_reasons(). */
			smp_store_release(&v->ovf_count[i], 1);
			return kvmw_lat_of(v, &v->ovf_lat[i], KVMW_NR_SLOTS + i);
		}
		if (v->ovf_code[i] == code) {
			WRITE_ONCE(v->ovf_count[i], v->ovf_count[i] + 1);
			return kvmw_lat_of(v, &v->ovf_lat[i], KVMW_NR_SLOTS + i);
		}
	}
	WRITE_ONCE(v->overflow_exits, v->overflow_exits + 1);
	return NULL;
}

/*
 * Lookup miss, or the vCPU runs on another thread: find or create the
 * record, make it this CPU's last and the thread's last.
 */
static noinline struct kvmw_vcpu *kvmw_vcpu_get_slow(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v = kvmw_vcpu_find(vcpu);
	pid_t tid = task_pid_nr(current);
	bool new_vm;

	if (!v) {
		u64 now = kvmw_now();

		v = kvmw_vcpu_discover(vcpu, now, &new_vm);
		if (!v) {
			/* An exit after this entry must not find another record. */
			this_cpu_write(kvmw_last, NULL);
			return NULL;
		}
		/* The thread runs inside KVM_RUN from now on, as far as seen. */
		kvmw_sched_start(v, now);
		if (new_vm)
			kvmw_sched_want();
	} else if (READ_ONCE(v->run_tid) != tid) {
		kvmw_vcpu_set_tid(v, tid);
	}
	this_cpu_write(kvmw_last, v);
	return v;
}

/*
 * The record of a running vCPU. The entry and exit probes also check the
 * thread: a record must never keep the id of a thread that no longer runs
 * it, or that thread's return to userspace could be charged to it. Every
 * return to userspace follows an exit on the same thread, and every exit
 * an entry, so the fault probe skips the compare.
 */
static __always_inline struct kvmw_vcpu *
kvmw_vcpu_get(struct kvm_vcpu *vcpu, bool check_thread)
{
	struct kvmw_vcpu *v = this_cpu_read(kvmw_last);

	if (likely(v && kvmw_vcpu_matches(v, vcpu) &&
		   (!check_thread || v->run_tid == current->pid)))
		return v;
	return kvmw_vcpu_get_slow(vcpu);
}

/*
 * kvm_exit with interrupts off: KVM traced it in the same interrupts-off
 * section of its run loop (vcpu_enter_guest()) as the kvm_entry of the
 * same guest entry, on the same CPU. So the entry probe has just left in
 * kvmw_last this vCPU's record, checked against all three keys and the
 * thread, or NULL (untracked), and nothing else can have run on this CPU
 * since: the reaper only clears entries, and only an entry changes them.
 * That is the case of VMX on every supported kernel (both tracepoints in
 * vmx_vcpu_run()) and of SVM from 6.12 (both in svm_vcpu_run()); 6.1
 * traces SVM's kvm_exit from svm_handle_exit(), with interrupts on and
 * the thread preemptible, where the full compare stays. Checking the
 * interrupt flag at each exit, rather than assuming a kernel's layout,
 * keeps that true on kernels not looked at.
 */
static __always_inline struct kvmw_vcpu *kvmw_exit_vcpu(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v;

	if (!irqs_disabled())
		return kvmw_vcpu_get(vcpu, true);
	v = this_cpu_read(kvmw_last);
	if (likely(v && v->key == vcpu))
		return v;
	return kvmw_vcpu_get_slow(vcpu);
}

/*
 * The exit of tracked vCPU @v: count it by reason, close the guest-time
 * interval opened by the previous entry and leave the exit pending until
 * the next entry. Every case; kvmw_probe_exit() inlines the common one.
 */
static __always_inline void __kvmw_exit_account(struct kvmw_vcpu *v,
						struct kvm_vcpu *vcpu, u32 isa,
						u64 now)
{
	struct kvmw_budget_state *b;
	struct kvmw_lat *e;
	u32 code;

	code = kvmw_exit_code(vcpu, isa);
	/* Probes run with preemption off: an RCU-sched read side. */
	b = rcu_dereference_sched(v->vm->budget.cur);
	if (unlikely(b))
		kvmw_budget_charge(v, b, code, now);
	if (likely(code < KVMW_SLOT_DIRECT)) {
		v->counts[code]++;
		e = kvmw_lat_of(v, &v->lat_of[code], code);
	} else if (code - KVMW_SVM_HIGH_BASE < KVMW_SVM_HIGH_NR) {
		code += KVMW_SLOT_DIRECT - KVMW_SVM_HIGH_BASE;
		v->counts[code]++;
		e = kvmw_lat_of(v, &v->lat_of[code], code);
	} else {
		e = kvmw_account_overflow(v, code);
	}
	/* entry_ts is set at discovery, so it is valid at the first exit. */
	v->guest_t += now - v->entry_ts;
	if (unlikely(!e))
		v->untimed_exits++;
	v->pending = e;
	v->exit_ts = now;
}

static noinline void kvmw_exit_account(struct kvmw_vcpu *v,
				       struct kvm_vcpu *vcpu, u32 isa, u64 now)
{
	__kvmw_exit_account(v, vcpu, isa, now);
}

/* An exit whose record the fast path did not find. */
static noinline void kvmw_exit_slow(struct kvm_vcpu *vcpu, u32 isa, u64 now)
{
	struct kvmw_vcpu *v = kvmw_exit_vcpu(vcpu);

	if (unlikely(!v)) {
		kvmw_count_untracked();
		return;
	}
	__kvmw_exit_account(v, vcpu, isa, now);
}

/* An exit with the local_clock() clock: one function, as the slow path. */
static noinline void kvmw_exit_local(struct kvm_vcpu *vcpu, u32 isa)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = kvmw_exit_vcpu(vcpu);

	if (unlikely(!v)) {
		kvmw_count_untracked();
		return;
	}
	__kvmw_exit_account(v, vcpu, isa, now);
}

/*
 * kvm_exit. The common case inline, without a call that returns here, so
 * that it needs no callee-saved register: the TSC clock, the record found
 * as kvmw_exit_vcpu() finds it in kvmw_last, a validated SVM exit code or a VMX
 * basic reason below KVMW_SLOT_DIRECT whose latency entry exists, and
 * either no budget or a budget check that kvmw_budget_take_fast() settles.
 * Every other case goes, before anything is written, to
 * kvmw_exit_account(), which does it all (and decodes again: the VMCB or
 * VMCS is still the exit's).
 */
static notrace void kvmw_probe_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct kvmw_budget_state *b;
	struct kvmw_bucket *bk;
	struct kvmw_vcpu *v;
	struct kvmw_lat *e;
	u64 now;
	u32 code;

	BUILD_BUG_ON(KVMW_SLOT_DIRECT != KVMW_BUDGET_DIRECT_CODES);
	if (!static_branch_likely(&kvmw_clock_tsc))
		return kvmw_exit_local(vcpu, isa);
	now = rdtsc();
	v = this_cpu_read(kvmw_last);
	if (unlikely(!v || v->key != vcpu))
		return kvmw_exit_slow(vcpu, isa, now);
	/* As kvmw_exit_vcpu(). */
	if (!irqs_disabled() &&
	    unlikely(!kvmw_vcpu_matches(v, vcpu) || v->run_tid != current->pid))
		return kvmw_exit_slow(vcpu, isa, now);
	if (likely(isa == KVMW_VENDOR_SVM) &&
	    likely(READ_ONCE(kvmw_svm_state) > 0))
		code = kvmw_svm_vmcb(vcpu)->control.exit_code;
	else
		return kvmw_exit_account(v, vcpu, isa, now);
	if (unlikely(code >= KVMW_SLOT_DIRECT))
		return kvmw_exit_account(v, vcpu, isa, now);
	e = v->lat_of[code];
	if (unlikely(!e))
		return kvmw_exit_account(v, vcpu, isa, now);
	b = rcu_dereference_sched(v->vm->budget.cur);
	if (unlikely(b)) {
		/* As kvmw_budget_charge(); an npf's bucket is always empty. */
		if (!static_branch_likely(&kvmw_budget_tsc) ||
		    unlikely(v->budget.defer))
			return kvmw_exit_account(v, vcpu, isa, now);
		bk = b->bucket_of_code[code];
		if (bk && unlikely(!kvmw_budget_take_fast(&v->budget, bk, now)))
			return kvmw_exit_account(v, vcpu, isa, now);
	}
	v->counts[code]++;
	v->guest_t += now - v->entry_ts;
	v->pending = e;
	v->exit_ts = now;
}

/* KVM_RUN returned to userspace: time the VMM separately. */
static noinline void kvmw_user_exit_account(struct kvmw_vcpu *v, u64 now)
{
	/* Only the first return counts: KVM_RUN may fail again before entry. */
	if (v->pending && !(v->entry_work & KVMW_WORK_USER)) {
		v->user_ts = now;
		v->entry_work |= KVMW_WORK_USER;
		kvmw_sched_leave_kvm(v, now);
		if (kvmw_mem_due(v->vm))
			v->entry_work |= KVMW_WORK_MEM;
	}
}

static void kvmw_probe_user_exit(void *data, u32 reason, int err)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = this_cpu_read(kvmw_last);
	pid_t tid = current->pid;

	/*
	 * No vCPU argument: the record is the one this thread ran last.
	 * Usually still this CPU's last; else one hash lookup by thread id,
	 * which holds one record per thread (O(1) whatever the thread did).
	 */
	if (unlikely(!v || READ_ONCE(v->run_tid) != tid))
		v = kvmw_vcpu_find_tid(tid);
	if (v)
		kvmw_user_exit_account(v, now);
}

/* Count a fault of @v on node @nid, -1 when not known. */
static void kvmw_fault_node(struct kvmw_vcpu *v, int nid)
{
	struct kvmw_faults *f = &v->faults;

	/* Every node of the host has its slot. */
	if ((unsigned int)nid < kvmw_nr_nodes()) {
		u64 *n = &kvmw_fault_nodes(v)[nid];

		WRITE_ONCE(*n, *n + 1);
	} else {
		WRITE_ONCE(f->node_unknown, f->node_unknown + 1);
	}
}

/*
 * The rare parts of an entry: VMM time, fault time and node, memory
 * samples; then the start of guest time, which a memory sample is not
 * part of (nor of the pending exit's latency).
 */
static noinline void kvmw_entry_work(struct kvmw_vcpu *v,
				     struct kvm_vcpu *vcpu,
				     struct kvmw_lat *e, u64 now)
{
	unsigned long work = v->entry_work;
	struct kvmw_faults *f = &v->faults;

	if (work & KVMW_WORK_USER) {
		if (e) {
			WRITE_ONCE(e->user_ns,
				   e->user_ns + kvmw_delta_ns(now - v->user_ts));
			WRITE_ONCE(e->user_n, e->user_n + 1);
		}
		/* Back inside KVM_RUN: its running is seen again. */
		kvmw_sched_start(v, now);
	}
	if (work & KVMW_WORK_FAULT) {
		u64 ns = kvmw_delta_ns(now - v->fault_ts);

		WRITE_ONCE(f->total_ns, f->total_ns + ns);
		if (ns > f->max_ns)
			WRITE_ONCE(f->max_ns, ns);
		f->hist[kvmw_lat_bucket(ns)]++;
	}
	/* A first touch maps the page only now: look again. */
	if (work & KVMW_WORK_FAULT_NODE)
		kvmw_fault_node(v, kvmw_hva_node(v->fault_hva));
	v->entry_work = 0;
	if (work & KVMW_WORK_MEM) {
		kvmw_mem_sample(v->vm, vcpu);
		now = kvmw_now();
	}
	v->entry_ts = now;
}

static __always_inline void kvmw_lat_account(struct kvmw_vcpu *v,
					     struct kvmw_lat *e, u64 now)
{
	u64 ns = kvmw_delta_ns(now - v->exit_ts);
	unsigned int b = kvmw_lat_bucket(ns);

	/* Single writer, whole aligned words: readers use READ_ONCE(). */
	e->total_ns += ns;
	if (unlikely(ns < e->min_ns))
		WRITE_ONCE(e->min_ns, ns);
	if (unlikely(ns > e->max_ns))
		WRITE_ONCE(e->max_ns, ns);
	e->hist[b]++;
}

/*
 * The entry of tracked vCPU @v: time the pending exit and open a
 * guest-time interval. The rare work is a tail call.
 */
static __always_inline void kvmw_entry_account(struct kvmw_vcpu *v,
					       struct kvm_vcpu *vcpu, u64 now)
{
	struct kvmw_lat *e;

	v->entries++;
	e = v->pending;
	if (likely(e))
		kvmw_lat_account(v, e, now);
	if (unlikely(v->entry_work))
		return kvmw_entry_work(v, vcpu, e, now);
	v->entry_ts = now;
}

/* An entry whose record the fast path did not find. */
static noinline void kvmw_entry_slow(struct kvm_vcpu *vcpu, u64 now)
{
	struct kvmw_vcpu *v = kvmw_vcpu_get_slow(vcpu);

	if (likely(v))
		kvmw_entry_account(v, vcpu, now);
}

/* An entry with the local_clock() clock. */
static noinline void kvmw_entry_local(struct kvm_vcpu *vcpu)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu, true);

	if (likely(v))
		kvmw_entry_account(v, vcpu, now);
}

/*
 * kvm_entry. As for the exit, the common case (TSC clock, record found)
 * makes no call that returns here.
 */
static notrace void kvmw_probe_entry(void *data, struct kvm_vcpu *vcpu,
				     bool force_immediate_exit)
{
	struct kvmw_vcpu *v;
	u64 now;

	if (!static_branch_likely(&kvmw_clock_tsc))
		return kvmw_entry_local(vcpu);
	now = rdtsc();
	v = this_cpu_read(kvmw_last);
	if (unlikely(!v || !kvmw_vcpu_matches(v, vcpu) ||
		     v->run_tid != current->pid))
		return kvmw_entry_slow(vcpu, now);
	kvmw_entry_account(v, vcpu, now);
}

/* Was the exit being handled an EPT violation / NPF (not a guest #PF)? */
static bool kvmw_npf_exit(struct kvm_vcpu *vcpu, u32 vendor)
{
	u32 code = kvmw_exit_code(vcpu, vendor);

	if (vendor == KVMW_VENDOR_SVM)
		return code == SVM_EXIT_NPF;
	return code == EXIT_REASON_EPT_VIOLATION;
}

/* An NPF exit waiting to be charged to a budget, as MMIO or not. */
static __always_inline void kvmw_budget_npf(struct kvmw_vcpu *v, bool mmio)
{
	if (unlikely(v->budget.defer))
		kvmw_budget_fault(v, mmio);
}

/*
 * kvm_page_fault, traced by KVM's NPF / EPT-violation handlers (with the
 * VM's SRCU held, so the memslots can be read) and by its guest #PF
 * intercept, which is not counted. @code is the NPF error code (SVM) or
 * the exit qualification (VMX).
 */
static void kvmw_probe_fault(void *data, struct kvm_vcpu *vcpu, u64 gpa,
			     u64 code)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu, false);
	u32 vendor = kvmw_host_vendor();
	struct kvmw_faults *f;
	bool write, fetch, present, mmio = false;
	unsigned long hva = 0;
	int nid;

	if (unlikely(!v) || !kvmw_npf_exit(vcpu, vendor))
		return;
	f = &v->faults;
	if (vendor == KVMW_VENDOR_SVM) {
		present = code & KVMW_NPF_PRESENT;
		write = code & KVMW_NPF_WRITE;
		fetch = code & KVMW_NPF_FETCH;
		mmio = code & KVMW_NPF_RSVD;
	} else {
		present = code & KVMW_EPT_QUAL_RWX_MASK;
		write = code & KVMW_EPT_QUAL_WRITE;
		fetch = code & KVMW_EPT_QUAL_FETCH;
	}
	WRITE_ONCE(f->n, f->n + 1);
	if (present)
		WRITE_ONCE(f->present, f->present + 1);
	if (write)
		WRITE_ONCE(f->write, f->write + 1);
	if (fetch)
		WRITE_ONCE(f->fetch, f->fetch + 1);

	/* A fault whose entry never came (cannot happen today): settle it. */
	if (v->entry_work & KVMW_WORK_FAULT_NODE)
		kvmw_fault_node(v, -1);
	v->entry_work &= ~KVMW_WORK_FAULT_NODE;
	v->entry_work |= KVMW_WORK_FAULT;
	v->fault_ts = now;

	/* An L2 guest's address is not in L1's memslots: node unknown. */
	if (unlikely(kvmw_vcpu_in_l2(vcpu))) {
		kvmw_fault_node(v, -1);
		kvmw_budget_npf(v, false);
		return;
	}
	nid = mmio ? -1 : kvmw_gpa_node(vcpu, gpa, &hva);
	if (mmio || !hva) {
		/* No memslot (or an MMIO translation): emulated MMIO. */
		WRITE_ONCE(f->mmio, f->mmio + 1);
		kvmw_fault_node(v, -1);
		kvmw_budget_npf(v, true);
		return;
	}
	kvmw_budget_npf(v, false);
	if (nid >= 0) {
		kvmw_fault_node(v, nid);
		return;
	}
	v->fault_hva = hva;
	v->entry_work |= KVMW_WORK_FAULT_NODE;
}

/*
 * kvm_userspace_exit is declared in <trace/events/kvm.h>, but registering
 * through its helper would link against the unexported tracepoint: the
 * probe's type is checked against the helper's without calling it.
 */
static void __maybe_unused kvmw_user_exit_typecheck(void)
{
	if (0)
		register_trace_kvm_userspace_exit(kvmw_probe_user_exit, NULL);
}

/* Are returns to userspace seen (kvm_userspace_exit attached)? */
bool kvmw_user_exits_seen(void)
{
	return kvmw_tp_user_exit;
}

static void kvmw_find_user_exit_tp(void)
{
	kvmw_tp_user_exit = kvmw_kvm_find_user_exit_tp();
	if (kvmw_tp_user_exit &&
	    tracepoint_probe_register(kvmw_tp_user_exit,
				      (void *)kvmw_probe_user_exit, NULL))
		kvmw_tp_user_exit = NULL;
}

int kvmw_probes_register(void)
{
	int ret;

	kvmw_find_user_exit_tp();
	if (!kvmw_tp_user_exit)
		pr_warn("kvm_userspace_exit not found: VMM time counts as overhead\n");
	ret = register_trace_kvm_entry(kvmw_probe_entry, NULL);
	if (ret)
		goto err_user;
	/*
	 * Every interrupts-off section that starts from here on runs the
	 * entry probe: so does any whose kvm_exit the exit probe sees.
	 */
	synchronize_rcu();
	ret = register_trace_kvm_exit(kvmw_probe_exit, NULL);
	if (ret)
		goto err_entry;
	ret = register_trace_kvm_page_fault(kvmw_probe_fault, NULL);
	if (ret)
		goto err_exit;
	return 0;

err_exit:
	unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
err_entry:
	unregister_trace_kvm_entry(kvmw_probe_entry, NULL);
err_user:
	if (kvmw_tp_user_exit)
		tracepoint_probe_unregister(kvmw_tp_user_exit,
					    (void *)kvmw_probe_user_exit, NULL);
	kvmw_tp_user_exit = NULL;
	tracepoint_synchronize_unregister();
	return ret;
}

/* Returns once no probe is running on any CPU. */
void kvmw_probes_unregister(void)
{
	unregister_trace_kvm_page_fault(kvmw_probe_fault, NULL);
	unregister_trace_kvm_entry(kvmw_probe_entry, NULL);
	unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
	if (kvmw_tp_user_exit)
		tracepoint_probe_unregister(kvmw_tp_user_exit,
					    (void *)kvmw_probe_user_exit, NULL);
	kvmw_tp_user_exit = NULL;
	/* No discovery can ask for the scheduler probes any more... */
	tracepoint_synchronize_unregister();
	/* ...so once they are detached, they stay detached. */
	kvmw_sched_exit();
	tracepoint_synchronize_unregister();
}
