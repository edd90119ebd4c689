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
		if (!v)
			return NULL;
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
 * The record of a running vCPU. The exit probe also checks the thread: a
 * record must never keep the id of a thread that no longer runs it, or
 * that thread's return to userspace could be charged to it. Every return
 * to userspace follows an exit on the same thread, so checking there is
 * enough: the entry and fault probes skip the compare.
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
 * The exit: count it by reason, close the guest-time interval opened by
 * the previous entry and leave the exit pending until the next entry.
 */
static void kvmw_probe_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu, true);
	struct kvmw_lat *e;
	u32 code;

	if (unlikely(!v)) {
		kvmw_count_untracked();
		return;
	}
	code = kvmw_exit_code(vcpu, isa);
	if (unlikely(rcu_access_pointer(v->vm->budget.cur)))
		kvmw_budget_charge(v, code);
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
 * samples. Returns the clock at which guest time starts: a memory sample
 * is neither guest time nor part of the pending exit's latency.
 */
static noinline u64 kvmw_entry_work(struct kvmw_vcpu *v, struct kvm_vcpu *vcpu,
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
		return kvmw_now();
	}
	return now;
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

/* The entry: time the pending exit and open a guest-time interval. */
static void kvmw_probe_entry(void *data, struct kvm_vcpu *vcpu,
			     bool force_immediate_exit)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu, false);
	struct kvmw_lat *e;

	if (unlikely(!v))
		return;
	v->entries++;
	e = v->pending;
	if (likely(e))
		kvmw_lat_account(v, e, now);
	if (unlikely(v->entry_work))
		now = kvmw_entry_work(v, vcpu, e, now);
	v->entry_ts = now;
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
	ret = register_trace_kvm_exit(kvmw_probe_exit, NULL);
	if (ret)
		goto err_user;
	ret = register_trace_kvm_entry(kvmw_probe_entry, NULL);
	if (ret)
		goto err_exit;
	ret = register_trace_kvm_page_fault(kvmw_probe_fault, NULL);
	if (ret)
		goto err_entry;
	return 0;

err_entry:
	unregister_trace_kvm_entry(kvmw_probe_entry, NULL);
err_exit:
	unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
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
