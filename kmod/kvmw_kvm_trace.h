/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations of the KVM tracepoints kvmwarden attaches to.
 *
 * KVM defines these events in arch/x86/kvm/trace.h, which is not part of
 * the kernel headers a module is built against, and exports the tracepoint
 * objects with EXPORT_TRACEPOINT_SYMBOL_GPL(). Declaring them again here
 * with DECLARE_TRACE() gives type-checked register_trace_<event>() helpers
 * for the exported objects; nothing is defined, so the module only links
 * against kvm.ko's symbols (which also makes modprobe load kvm.ko first).
 *
 * Prototypes are those of the supported kernels (see Documentation/design.rst):
 * Debian 6.1.y (>= 6.1.0-56, where kvm_entry carries force_immediate_exit)
 * and 6.12.y.
 */
#ifndef KVMW_KVM_TRACE_H
#define KVMW_KVM_TRACE_H

#include <linux/tracepoint.h>

/* The supported kernel range is enforced in kmod/Kbuild. */

struct kvm_vcpu;

DECLARE_TRACE(kvm_exit,
	      TP_PROTO(struct kvm_vcpu *vcpu, u32 isa),
	      TP_ARGS(vcpu, isa));

DECLARE_TRACE(kvm_entry,
	      TP_PROTO(struct kvm_vcpu *vcpu, bool force_immediate_exit),
	      TP_ARGS(vcpu, force_immediate_exit));

DECLARE_TRACE(kvm_page_fault,
	      TP_PROTO(struct kvm_vcpu *vcpu, u64 fault_address, u64 error_code),
	      TP_ARGS(vcpu, fault_address, error_code));

#endif /* KVMW_KVM_TRACE_H */
