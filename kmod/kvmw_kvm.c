// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: what kvmwarden reads of KVM beyond its tracepoints' arguments.
 *
 * Everything here depends on KVM's internal layout or on a KVM symbol that
 * is not exported, and each piece says why it is safe on the supported
 * kernels and how it fails when it is not (decoding off, never a guess).
 * The rest of the module goes through these functions.
 *
 * SVM exit code: struct vcpu_svm begins with struct kvm_vcpu followed by
 *	the pointer to the current VMCB; the exit code is the architectural
 *	VMCB field control.exit_code (offset 0x70). kvm_exit is traced after
 *	the VMCB has been written back by the CPU, for L1 and for L2 (vmcb02)
 *	alike. The layout assumption is validated on the first exits: the
 *	pointer must be a page-aligned direct-map address whose save.rsp
 *	equals KVM's cached guest RSP, which svm_vcpu_run() copied from it.
 *	Sixteen failed checks disable decoding.
 * VMX exit reason: kvm_exit is traced in vmx_vcpu_run() right after KVM
 *	read VM_EXIT_REASON from the current VMCS, which is still loaded on
 *	this CPU, so a VMREAD of the same field returns the same value. A
 *	VMREAD fails where no VMCS is current (an enlightened VMCS under
 *	Hyper-V): sixteen failures before any success disable decoding, so
 *	such a host pays one test per exit instead of a failing VMREAD.
 * Lifetime token: KVM creates a debugfs directory per VM and removes it
 *	when it destroys the VM; kvmwarden holds a reference on it, so its
 *	address cannot be reused by a later VM while a record names it.
 * vCPU of a task: vcpu_load() registers the vCPU's preempt notifier on
 *	the thread that loads it; the notifier is embedded in struct
 *	kvm_vcpu and its ops are KVM's kvm_preempt_ops, learnt from the
 *	first vCPU kvmwarden sees running.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/tracepoint.h>
#include <asm/cpufeature.h>

#include "kvmw_kvm.h"

/* Checked offsets of the VMCB fields used (APM vol. 2, appendix B). */
static_assert(offsetof(struct vmcb, control.exit_code) == 0x70);
static_assert(offsetof(struct vmcb, save.rsp) == 0x400 + 0x1d8);

#define KVMW_DECODE_TRIES	16

int kvmw_svm_state __read_mostly;
int kvmw_vmx_state __read_mostly;
static atomic_t kvmw_svm_failures = ATOMIC_INIT(0);
static atomic_t kvmw_vmx_failures = ATOMIC_INIT(0);

/* KVM's preempt notifier ops, learnt from the first vCPU seen. */
static struct preempt_ops *kvmw_kvm_preempt_ops __read_mostly;

/* KVM runs on the CPU's own extension: a CPU has SVM or VMX, never both. */
u32 kvmw_host_vendor(void)
{
	if (boot_cpu_has(X86_FEATURE_SVM))
		return KVMW_VENDOR_SVM;
	if (boot_cpu_has(X86_FEATURE_VMX))
		return KVMW_VENDOR_VMX;
	return KVMW_VENDOR_UNKNOWN;
}

/**
 * kvmw_svm_validate() - exit code of an SVM exit before the layout is trusted
 * @vcpu: the vCPU being handled
 *
 * Return: the exit code once the VMCB pointer passed the check, else
 * KVMW_REASON_UNDECODED.
 */
noinline u32 kvmw_svm_validate(struct kvm_vcpu *vcpu)
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
	if (atomic_inc_return(&kvmw_svm_failures) == KVMW_DECODE_TRIES) {
		WRITE_ONCE(kvmw_svm_state, -1);
		pr_warn("struct vcpu_svm layout not recognised: SVM exit reasons disabled\n");
	}
	return KVMW_REASON_UNDECODED;
}

/**
 * kvmw_vmx_read_failed() - a VMREAD of the exit reason failed
 *
 * Return: KVMW_REASON_UNDECODED.
 */
noinline u32 kvmw_vmx_read_failed(void)
{
	if (READ_ONCE(kvmw_vmx_state) == 0 &&
	    atomic_inc_return(&kvmw_vmx_failures) == KVMW_DECODE_TRIES) {
		WRITE_ONCE(kvmw_vmx_state, -1);
		pr_warn("VMREAD of the exit reason keeps failing (no current VMCS: enlightened VMCS?): VMX exit reasons disabled\n");
	}
	return KVMW_REASON_UNDECODED;
}

/* A VMREAD worked: from now on failures are single undecoded exits. */
static void kvmw_vmx_confirm(u32 code)
{
	if (code != KVMW_REASON_UNDECODED && !READ_ONCE(kvmw_vmx_state))
		cmpxchg(&kvmw_vmx_state, 0, 1);
}

/* Are exit reasons of this host decoded (as far as known now)? */
bool kvmw_reasons_decoded(void)
{
	switch (kvmw_host_vendor()) {
	case KVMW_VENDOR_SVM:
		return READ_ONCE(kvmw_svm_state) > 0;
	case KVMW_VENDOR_VMX:
		return READ_ONCE(kvmw_vmx_state) > 0;
	}
	return false;
}

/*
 * Faults are counted only when the exit being handled is known to be an
 * NPF or EPT violation, which needs the exit reason: no decoding, no
 * fault view (an SEV-ES-only host never validates the VMCB).
 */
bool kvmw_faults_decoded(void)
{
	return kvmw_reasons_decoded();
}

/* Has KVM removed the VM's debugfs directory (destroyed the VM)? */
bool kvmw_token_dead(const struct dentry *d)
{
	return d_unhashed(d) || d_really_is_negative(d);
}

/**
 * kvmw_kvm_learn() - learn what is KVM's from a vCPU seen running
 * @vcpu: a vCPU loaded on the current thread (inside KVM_RUN)
 *
 * Its preempt notifier carries KVM's preempt ops; on VMX, its exit just
 * decoded confirms that VMREAD works.
 */
void kvmw_kvm_learn(struct kvm_vcpu *vcpu)
{
	if (!READ_ONCE(kvmw_kvm_preempt_ops))
		WRITE_ONCE(kvmw_kvm_preempt_ops, vcpu->preempt_notifier.ops);
	if (kvmw_host_vendor() == KVMW_VENDOR_VMX)
		kvmw_vmx_confirm(kvmw_vmx_exit_reason());
}

/**
 * kvmw_task_kvm_vcpu() - vCPU loaded by task @p, if any
 * @p: a task that cannot leave KVM_RUN meanwhile (current, or not running
 *	and held by the scheduler's runqueue lock)
 *
 * Return: the vCPU or NULL. Its first notifier is the vCPU's while it is
 * loaded: KVM registers it in vcpu_load() and is the only preempt notifier
 * user of a vCPU thread.
 */
struct kvm_vcpu *kvmw_task_kvm_vcpu(struct task_struct *p)
{
	struct hlist_node *first = READ_ONCE(p->preempt_notifiers.first);
	struct preempt_ops *ops = READ_ONCE(kvmw_kvm_preempt_ops);
	struct preempt_notifier *pn;

	if (!first || !ops)
		return NULL;
	pn = hlist_entry(first, struct preempt_notifier, link);
	if (READ_ONCE(pn->ops) != ops)
		return NULL;
	return container_of(pn, struct kvm_vcpu, preempt_notifier);
}

/*
 * kvm_userspace_exit is defined in kvm.ko but not exported. The sanctioned
 * way to reach a module's tracepoint is the tracepoint module notifier,
 * which replays every loaded module's tracepoints to a new subscriber.
 * kvm.ko cannot go away while kvmwarden is loaded (we use its exports), so
 * the pointer found stays valid.
 */
static struct tracepoint *kvmw_found_user_exit;

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
			kvmw_found_user_exit = tp;
	}
	return NOTIFY_OK;
}

static struct notifier_block kvmw_tp_module_nb = {
	.notifier_call = kvmw_tp_module_notify,
};

/* Return: KVM's kvm_userspace_exit tracepoint, or NULL. */
struct tracepoint *kvmw_kvm_find_user_exit_tp(void)
{
	kvmw_found_user_exit = NULL;
	if (register_tracepoint_module_notifier(&kvmw_tp_module_nb))
		return NULL;
	unregister_tracepoint_module_notifier(&kvmw_tp_module_nb);
	return kvmw_found_user_exit;
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

/**
 * kvmw_gpa_node() - NUMA node of the guest page behind a nested page fault
 * @vcpu: the faulting vCPU, running on the current thread, inside KVM's
 *	fault handler (which holds the VM's SRCU: the memslots are stable)
 * @gpa: the faulting guest-physical address (L1's)
 * @hva: set to the VMM address of the page when it has a memslot, else 0
 *
 * The memslot is looked up directly (the inline lookup of kvm_host.h),
 * not with kvm_vcpu_gfn_to_hva(), which asks for a writable address and
 * so calls a fetch from a read-only slot (a ROM) "no memslot".
 *
 * Return: the node, or -1 when no page is mapped there (yet).
 */
int kvmw_gpa_node(struct kvm_vcpu *vcpu, u64 gpa, unsigned long *hva)
{
	gfn_t gfn = gpa_to_gfn(gpa);
	struct kvm_memory_slot *slot =
		__gfn_to_memslot(kvm_vcpu_memslots(vcpu), gfn);

	if (!slot || (slot->flags & KVM_MEMSLOT_INVALID)) {
		*hva = 0;
		return -1;
	}
	*hva = __gfn_to_hva_memslot(slot, gfn);
	return kvmw_hva_node(*hva);
}
