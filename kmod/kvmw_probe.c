// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: the kvm_exit / kvm_entry probes and exit-reason decoding.
 *
 * This is the per-exit hot path. It allocates nothing, takes no lock and
 * writes only the record of the running vCPU (single writer: the vCPU
 * thread inside KVM_RUN) and, on a lookup miss, one per-CPU pointer.
 *
 * Where the reason comes from (Documentation/design.rst, "Exit reasons"):
 *  SVM: struct vcpu_svm begins with struct kvm_vcpu followed by the pointer
 *	to the current VMCB; the exit code is the architectural VMCB field
 *	control.exit_code (offset 0x70). kvm_exit is traced after the VMCB
 *	has been written back by the CPU, for L1 and for L2 (vmcb02) alike.
 *	The layout assumption is validated on the first exits: the pointer
 *	must be a page-aligned direct-map address whose save.rsp equals
 *	KVM's cached guest RSP, which svm_vcpu_run() copied from it.
 *  VMX: kvm_exit is traced in vmx_vcpu_run() right after KVM read
 *	VM_EXIT_REASON from the current VMCS, which is still loaded on this
 *	CPU, so a VMREAD of the same field returns the same value. A failed
 *	VMREAD (no current VMCS, e.g. enlightened VMCS under Hyper-V) yields
 *	KVMW_REASON_UNDECODED instead of a guess.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include "kvmw.h"
#include "kvmw_kvm_trace.h"

/* Offset of struct vcpu_svm::vmcb: right after the embedded kvm_vcpu. */
#define KVMW_SVM_VMCB_OFFSET \
	ALIGN(sizeof(struct kvm_vcpu), __alignof__(struct vmcb *))

/* Checked offsets of the VMCB fields used (APM vol. 2, appendix B). */
static_assert(offsetof(struct vmcb, control.exit_code) == 0x70);
static_assert(offsetof(struct vmcb, save.rsp) == 0x400 + 0x1d8);

#define KVMW_SVM_VALIDATE_TRIES	16

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

/* > 0: layout validated; 0: not yet; < 0: decoding disabled */
static int kvmw_svm_state __read_mostly;
static atomic_t kvmw_svm_failures = ATOMIC_INIT(0);

static __always_inline struct vmcb *kvmw_svm_vmcb(const struct kvm_vcpu *vcpu)
{
	return *(struct vmcb *const *)((const char *)vcpu +
				       KVMW_SVM_VMCB_OFFSET);
}

static noinline u32 kvmw_svm_validate(struct kvm_vcpu *vcpu)
{
	struct vmcb *vmcb = kvmw_svm_vmcb(vcpu);
	int state = READ_ONCE(kvmw_svm_state);

	if (state < 0)
		return KVMW_REASON_UNDECODED;
	if (!vmcb || !PAGE_ALIGNED(vmcb) || !virt_addr_valid(vmcb))
		goto bad;
	/* SEV-ES keeps guest state in the encrypted VMSA: nothing to compare. */
	if (vcpu->arch.guest_state_protected)
		return KVMW_REASON_UNDECODED;
	if (vmcb->save.rsp != vcpu->arch.regs[VCPU_REGS_RSP])
		goto bad;
	if (!state && cmpxchg(&kvmw_svm_state, 0, 1) == 0)
		pr_info("SVM exit codes read from the VMCB (vmcb at vcpu+%zu)\n",
			(size_t)KVMW_SVM_VMCB_OFFSET);
	return vmcb->control.exit_code;
bad:
	if (atomic_inc_return(&kvmw_svm_failures) == KVMW_SVM_VALIDATE_TRIES) {
		WRITE_ONCE(kvmw_svm_state, -1);
		pr_warn("struct vcpu_svm layout not recognised: SVM exit reasons disabled\n");
	}
	return KVMW_REASON_UNDECODED;
}

static __always_inline u32 kvmw_vmx_exit_reason(void)
{
	unsigned long reason;
	bool fail;

	asm volatile("vmread %[field], %[val]\n\t"
		     "setna %[fail]"
		     : [val] "=rm" (reason), [fail] "=qm" (fail)
		     : [field] "r" ((unsigned long)VM_EXIT_REASON)
		     : "cc");
	if (unlikely(fail))
		return KVMW_REASON_UNDECODED;
	/* Basic reason; the flag bits 31:16 are not part of the reason. */
	return reason & 0xffff;
}

static __always_inline u32 kvmw_exit_code(struct kvm_vcpu *vcpu, u32 isa)
{
	if (likely(isa == KVMW_VENDOR_SVM)) {
		if (likely(READ_ONCE(kvmw_svm_state) > 0))
			return kvmw_svm_vmcb(vcpu)->control.exit_code;
		return kvmw_svm_validate(vcpu);
	}
	if (isa == KVMW_VENDOR_VMX)
		return kvmw_vmx_exit_reason();
	return KVMW_REASON_UNDECODED;
}

/**
 * kvmw_slot_to_code() - raw reason code of a dense slot
 * @slot: index in struct kvmw_vcpu::counts
 *
 * Return: the reason code that is counted in @slot.
 */
u32 kvmw_slot_to_code(unsigned int slot)
{
	if (slot < KVMW_SLOT_DIRECT)
		return slot;
	return KVMW_SVM_HIGH_BASE + slot - KVMW_SLOT_DIRECT;
}

/*
 * Give @v's next latency entry to a reason on its first exit, or NULL
 * when all are taken. The entry is initialised before it is published
 * (release), so readers see it complete (kvmw_lat_read()).
 */
static noinline struct kvmw_lat *kvmw_lat_assign(struct kvmw_vcpu *v,
						 struct kvmw_lat **slot)
{
	struct kvmw_lat *e;

	if (v->nr_lat == KVMW_LAT_REASONS)
		return NULL;
	e = &v->lat[v->nr_lat++];
	WRITE_ONCE(e->min_ns, U64_MAX);
	/* Publish the initialised entry; pairs with kvmw_lat_read(). */
	smp_store_release(slot, e);
	return e;
}

static __always_inline struct kvmw_lat *kvmw_lat_of(struct kvmw_vcpu *v,
						    struct kvmw_lat **slot)
{
	struct kvmw_lat *e = *slot;

	if (likely(e))
		return e;
	return kvmw_lat_assign(v, slot);
}

static const struct kvmw_lat *kvmw_lat_read(struct kvmw_lat *const *slot)
{
	return smp_load_acquire(slot); /* pairs with kvmw_lat_assign() */
}

/**
 * kvmw_slot_lat() - latency entry of a dense reason slot
 * @v: vCPU record
 * @slot: index in @v->counts
 *
 * Return: the entry, or NULL when the reason has none (never exited, or
 * the vCPU's latency table was full).
 */
const struct kvmw_lat *kvmw_slot_lat(const struct kvmw_vcpu *v,
				     unsigned int slot)
{
	return kvmw_lat_read(&v->lat_of[slot]);
}

/**
 * kvmw_ovf_lat() - latency entry of an overflow slot
 * @v: vCPU record
 * @i: index in @v->ovf_code
 *
 * Return: the entry or NULL, as kvmw_slot_lat().
 */
const struct kvmw_lat *kvmw_ovf_lat(const struct kvmw_vcpu *v, unsigned int i)
{
	return kvmw_lat_read(&v->ovf_lat[i]);
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
			smp_store_release(&v->ovf_count[i], 1); /* pairs with kvmw_fill_reasons() */
			return kvmw_lat_of(v, &v->ovf_lat[i]);
		}
		if (v->ovf_code[i] == code) {
			WRITE_ONCE(v->ovf_count[i], v->ovf_count[i] + 1);
			return kvmw_lat_of(v, &v->ovf_lat[i]);
		}
	}
	WRITE_ONCE(v->overflow_exits, v->overflow_exits + 1);
	return NULL;
}

/* Lookup miss: find or create the record and make it this CPU's last. */
static noinline struct kvmw_vcpu *kvmw_vcpu_get_slow(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v = kvmw_vcpu_find(vcpu);

	if (!v)
		v = kvmw_vcpu_discover(vcpu);
	if (!v)
		return NULL;
	/* Misses happen on CPU or thread changes: refresh the thread id. */
	WRITE_ONCE(v->tid, task_pid_nr(current));
	this_cpu_write(kvmw_last, v);
	return v;
}

static __always_inline struct kvmw_vcpu *kvmw_vcpu_get(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v = this_cpu_read(kvmw_last);

	if (likely(v && kvmw_vcpu_matches(v, vcpu)))
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
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu);
	struct kvmw_lat *e;
	u32 code;

	if (unlikely(!v)) {
		kvmw_count_untracked();
		return;
	}
	code = kvmw_exit_code(vcpu, isa);
	if (likely(code < KVMW_SLOT_DIRECT)) {
		v->counts[code]++;
		e = kvmw_lat_of(v, &v->lat_of[code]);
	} else if (code - KVMW_SVM_HIGH_BASE < KVMW_SVM_HIGH_NR) {
		code += KVMW_SLOT_DIRECT - KVMW_SVM_HIGH_BASE;
		v->counts[code]++;
		e = kvmw_lat_of(v, &v->lat_of[code]);
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
	 * Usually still this CPU's last; after a preemption, search.
	 */
	if (unlikely(!v || READ_ONCE(v->tid) != tid || !v->pending))
		v = kvmw_vcpu_find_tid(tid);
	if (v)
		kvmw_user_exit_account(v, now);
}

/*
 * A page the VMM maps but that is no memory of its own: the shared zero
 * pages (the 4 KiB one, which GUP-fast refuses anyway, and the THP one,
 * which 6.1's GUP-fast returns; neither symbol is exported) have no
 * mapping, while anonymous, KSM and file pages all have one.
 */
static bool kvmw_unowned_page(struct page *page)
{
	return !READ_ONCE(page_folio(page)->mapping);
}

/**
 * kvmw_hva_node() - NUMA node of the page mapped at @hva in current's mm
 * @hva: a VMM address
 *
 * Never sleeps and never faults: the lockless GUP walk only.
 *
 * Return: the node, or -1 if no page of the VMM's own is mapped there.
 */
int kvmw_hva_node(unsigned long hva)
{
	struct page *page;
	int nid;

	if (!get_user_page_fast_only(hva, 0, &page))
		return -1;
	nid = kvmw_unowned_page(page) ? -1 : page_to_nid(page);
	put_page(page);
	return nid;
}

static void kvmw_fault_node(struct kvmw_faults *f, int nid)
{
	if (nid >= 0 && nid < KVMW_MAX_NODES)
		WRITE_ONCE(f->node[nid], f->node[nid] + 1);
	else
		WRITE_ONCE(f->node_unknown, f->node_unknown + 1);
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
		kvmw_fault_node(f, kvmw_hva_node(v->fault_hva));
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
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu);
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
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu);
	u32 vendor = kvmw_host_vendor();
	struct kvmw_faults *f;
	bool write, fetch, present, mmio = false;
	unsigned long hva;
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
		kvmw_fault_node(f, -1);
	v->entry_work &= ~KVMW_WORK_FAULT_NODE;
	v->entry_work |= KVMW_WORK_FAULT;
	v->fault_ts = now;

	if (mmio) {
		WRITE_ONCE(f->mmio, f->mmio + 1);
		kvmw_fault_node(f, -1);
		return;
	}
	hva = kvm_vcpu_gfn_to_hva(vcpu, gpa_to_gfn(gpa));
	if (kvm_is_error_hva(hva)) {
		/* No memslot: emulated MMIO. */
		kvmw_fault_node(f, -1);
		return;
	}
	nid = kvmw_hva_node(hva);
	if (nid >= 0) {
		kvmw_fault_node(f, nid);
		return;
	}
	v->fault_hva = hva;
	v->entry_work |= KVMW_WORK_FAULT_NODE;
}

u64 kvmw_features(void)
{
	u32 vendor = kvmw_host_vendor();
	u64 f = KVMW_FEAT_EXIT_COUNTS | KVMW_FEAT_LATENCY;

	/* SVM: until the layout check has passed, decoding is not promised. */
	if (vendor == KVMW_VENDOR_SVM && READ_ONCE(kvmw_svm_state) > 0)
		f |= KVMW_FEAT_REASON_SVM;
	if (vendor == KVMW_VENDOR_VMX)
		f |= KVMW_FEAT_REASON_VMX;
	if (READ_ONCE(kvmw_lifetime_exact))
		f |= KVMW_FEAT_VM_LIFETIME;
	if (kvmw_tp_user_exit)
		f |= KVMW_FEAT_USER_EXITS;
	if (vendor != KVMW_VENDOR_UNKNOWN)
		f |= KVMW_FEAT_FAULTS;
	if (kvmw_sched_active())
		f |= KVMW_FEAT_SCHED;
	f |= KVMW_FEAT_MEM_NUMA | KVMW_FEAT_EVENTS | KVMW_FEAT_SNAPSHOT_ALL;
	return f;
}

/*
 * kvm_userspace_exit is defined in kvm.ko but not exported. The sanctioned
 * way to reach a module's tracepoint is the tracepoint module notifier,
 * which replays every loaded module's tracepoints to a new subscriber.
 * kvm.ko cannot go away while kvmwarden is loaded (we use its exports), so
 * the pointer found stays valid.
 */
static int kvmw_tp_module_notify(struct notifier_block *nb,
				 unsigned long state, void *data)
{
	struct tp_module *tp_mod = data;
	struct module *mod = tp_mod->mod;
	unsigned int i;

	if (state != MODULE_STATE_COMING || strcmp(mod->name, "kvm"))
		return NOTIFY_OK;
	for (i = 0; i < mod->num_tracepoints; i++) {
		struct tracepoint *tp =
			tracepoint_ptr_deref(&mod->tracepoints_ptrs[i]);

		if (!strcmp(tp->name, "kvm_userspace_exit"))
			kvmw_tp_user_exit = tp;
	}
	return NOTIFY_OK;
}

static struct notifier_block kvmw_tp_module_nb = {
	.notifier_call = kvmw_tp_module_notify,
};

static void kvmw_find_user_exit_tp(void)
{
	if (register_tracepoint_module_notifier(&kvmw_tp_module_nb))
		return;
	unregister_tracepoint_module_notifier(&kvmw_tp_module_nb);
	if (!kvmw_tp_user_exit)
		return;
	if (tracepoint_probe_register(kvmw_tp_user_exit,
				      (void *)kvmw_probe_user_exit, NULL)) {
		kvmw_tp_user_exit = NULL;
		return;
	}
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
	/* Without the scheduler view the rest still works: not fatal. */
	kvmw_sched_register();
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
	kvmw_sched_unregister();
	unregister_trace_kvm_page_fault(kvmw_probe_fault, NULL);
	unregister_trace_kvm_entry(kvmw_probe_entry, NULL);
	unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
	if (kvmw_tp_user_exit)
		tracepoint_probe_unregister(kvmw_tp_user_exit,
					    (void *)kvmw_probe_user_exit, NULL);
	kvmw_tp_user_exit = NULL;
	tracepoint_synchronize_unregister();
}
