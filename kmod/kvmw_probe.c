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

static noinline void kvmw_account_overflow(struct kvmw_vcpu *v, u32 code)
{
	unsigned int i;

	for (i = 0; i < KVMW_NR_OVERFLOW; i++) {
		if (!v->ovf_count[i]) {
			/* Readers must never see the count without its code. */
			WRITE_ONCE(v->ovf_code[i], code);
			smp_store_release(&v->ovf_count[i], 1); /* pairs with kvmw_fill_reasons() */
			return;
		}
		if (v->ovf_code[i] == code) {
			WRITE_ONCE(v->ovf_count[i], v->ovf_count[i] + 1);
			return;
		}
	}
	WRITE_ONCE(v->overflow_exits, v->overflow_exits + 1);
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

static void kvmw_probe_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu);
	u32 code;

	if (unlikely(!v)) {
		kvmw_count_untracked();
		return;
	}
	code = kvmw_exit_code(vcpu, isa);
	if (likely(code < KVMW_SLOT_DIRECT))
		v->counts[code]++;
	else if (code - KVMW_SVM_HIGH_BASE < KVMW_SVM_HIGH_NR)
		v->counts[KVMW_SLOT_DIRECT + code - KVMW_SVM_HIGH_BASE]++;
	else
		kvmw_account_overflow(v, code);
}

static void kvmw_probe_entry(void *data, struct kvm_vcpu *vcpu,
			     bool force_immediate_exit)
{
	struct kvmw_vcpu *v = kvmw_vcpu_get(vcpu);

	if (likely(v))
		v->entries++;
}

u64 kvmw_features(void)
{
	u32 vendor = kvmw_host_vendor();
	u64 f = KVMW_FEAT_EXIT_COUNTS;

	/* SVM: until the layout check has passed, decoding is not promised. */
	if (vendor == KVMW_VENDOR_SVM && READ_ONCE(kvmw_svm_state) > 0)
		f |= KVMW_FEAT_REASON_SVM;
	if (vendor == KVMW_VENDOR_VMX)
		f |= KVMW_FEAT_REASON_VMX;
	if (READ_ONCE(kvmw_lifetime_exact))
		f |= KVMW_FEAT_VM_LIFETIME;
	return f;
}

int kvmw_probes_register(void)
{
	int ret;

	ret = register_trace_kvm_exit(kvmw_probe_exit, NULL);
	if (ret)
		return ret;
	ret = register_trace_kvm_entry(kvmw_probe_entry, NULL);
	if (ret) {
		unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
		tracepoint_synchronize_unregister();
	}
	return ret;
}

/* Returns once no probe is running on any CPU. */
void kvmw_probes_unregister(void)
{
	unregister_trace_kvm_entry(kvmw_probe_entry, NULL);
	unregister_trace_kvm_exit(kvmw_probe_exit, NULL);
	tracepoint_synchronize_unregister();
}
