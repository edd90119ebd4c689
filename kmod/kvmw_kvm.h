/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmwarden: every access to KVM's internals, declared in one place.
 *
 * KVM exports its tracepoints, not its data structures. Whatever kvmwarden
 * reads beyond the tracepoints' arguments is read here and in
 * kvmw_kvm.c, each with the reasoning that makes it safe next to it
 * (Documentation/design.rst, "What kvmwarden reads of KVM"):
 *
 *  - the SVM exit code, from the VMCB KVM points to right after the
 *    embedded struct kvm_vcpu, validated on the first exits;
 *  - the VMX exit reason, by VMREAD of the still-current VMCS;
 *  - whether a vCPU runs a nested (L2) guest, from vcpu->arch.hflags;
 *  - the VM's incarnation token, KVM's per-VM debugfs directory;
 *  - the vCPU a task has loaded, through KVM's preempt notifier;
 *  - KVM's kvm_userspace_exit tracepoint, which is not exported;
 *  - the NUMA node of a guest page, from the VMM's page tables.
 *
 * Hot-path pieces are inline here; everything else lives in kvmw_kvm.c.
 */
#ifndef KVMW_KVM_H
#define KVMW_KVM_H

#include <linux/err.h>
#include <linux/kvm_host.h>
#include <asm/svm.h>
#include <asm/vmx.h>

#include <uapi/linux/kvmwarden.h>

/*
 * What the build's feature probes found in the target kernel (kmod/feature/,
 * Documentation/build.rst): the build stops before this point when one of
 * these is missing; the checks here keep a stale or hand-made header from
 * getting through.
 */
#include "kvmw_features.h"

#if !defined(KVMW_HAVE_KVM_DEBUGFS_DENTRY) || \
	!defined(KVMW_HAVE_VCPU_PREEMPT_NOTIFIER) || \
	!defined(KVMW_HAVE_VCPU_ARCH_STATE) || \
	!defined(KVMW_HAVE_SVM_VMCB_LAYOUT) || \
	!defined(KVMW_HAVE_MEMSLOT_HELPERS) || \
	!defined(KVMW_HAVE_TRACEPOINT_LOOKUP) || \
	!defined(KVMW_HAVE_GUP_FAST_ONLY) || \
	!defined(KVMW_HAVE_KVM_USERSPACE_EXIT) || \
	!defined(KVMW_HAVE_SCHED_TRACEPOINTS)
#error "kvmwarden: kvmw_features.h lacks a required feature (Documentation/build.rst)"
#endif

struct dentry;
struct tracepoint;

/* Offset of struct vcpu_svm::vmcb: right after the embedded kvm_vcpu. */
#define KVMW_SVM_VMCB_OFFSET \
	ALIGN(sizeof(struct kvm_vcpu), __alignof__(struct vmcb *))

/*
 * State of a vendor's decoder: > 0 checked and working, 0 not yet seen
 * working, < 0 disabled after repeated failures (reasons then come out as
 * KVMW_REASON_UNDECODED at the cost of one test per exit).
 */
extern int kvmw_svm_state;
extern int kvmw_vmx_state;

u32 kvmw_svm_validate(struct kvm_vcpu *vcpu);
u32 kvmw_vmx_read_failed(void);

static __always_inline struct vmcb *kvmw_svm_vmcb(const struct kvm_vcpu *vcpu)
{
	return *(struct vmcb *const *)((const char *)vcpu +
				       KVMW_SVM_VMCB_OFFSET);
}

static __always_inline u32 kvmw_vmx_exit_reason(void)
{
	unsigned long reason;
	bool fail;

	if (unlikely(READ_ONCE(kvmw_vmx_state) < 0))
		return KVMW_REASON_UNDECODED;
	asm volatile("vmread %[field], %[val]\n\t"
		     "setna %[fail]"
		     : [val] "=rm" (reason), [fail] "=qm" (fail)
		     : [field] "r" ((unsigned long)VM_EXIT_REASON)
		     : "cc");
	if (unlikely(fail))
		return kvmw_vmx_read_failed();
	/* Basic reason; the flag bits 31:16 are not part of the reason. */
	return reason & 0xffff;
}

/**
 * kvmw_exit_code() - hardware reason of the exit being handled
 * @vcpu: the vCPU whose kvm_exit (or later tracepoint of the same exit)
 *	is running on this CPU
 * @isa: KVMW_VENDOR_* of the exit
 *
 * Return: the VMX basic exit reason or SVM exit code, or
 * KVMW_REASON_UNDECODED.
 */
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

/* Is @vcpu running a nested (L2) guest? Its fault addresses are L2's. */
static inline bool kvmw_vcpu_in_l2(const struct kvm_vcpu *vcpu)
{
	return vcpu->arch.hflags & HF_GUEST_MASK;
}

/*
 * The VM's incarnation token: KVM's debugfs directory of the VM. Its raw
 * value (an error pointer when debugfs is unavailable or the directory
 * could not be created) is what records compare against; a reference is
 * only held on real dentries.
 */
static __always_inline struct dentry *kvmw_token_raw(const struct kvm *kvm)
{
	return READ_ONCE(kvm->debugfs_dentry);
}

static inline bool kvmw_token_valid(const struct dentry *d)
{
	return !IS_ERR_OR_NULL(d);
}

bool kvmw_token_dead(const struct dentry *d);

u32 kvmw_host_vendor(void);
bool kvmw_reasons_decoded(void);
bool kvmw_faults_decoded(void);
void kvmw_kvm_learn(struct kvm_vcpu *vcpu);
struct kvm_vcpu *kvmw_task_kvm_vcpu(struct task_struct *p);
struct tracepoint *kvmw_kvm_find_user_exit_tp(void);
int kvmw_hva_node(unsigned long hva);
int kvmw_gpa_node(struct kvm_vcpu *vcpu, u64 gpa, unsigned long *hva);

#endif /* KVMW_KVM_H */
