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
 * The prototypes cannot be checked against KVM's own declarations, which
 * the headers lack: the build's feature probes (kmod/feature/, see
 * Documentation/build.rst) check proxies that KVM changed together with
 * them, and a kernel whose proxies differ is refused below rather than
 * given probes with a wrong signature.
 */
#ifndef KVMW_KVM_TRACE_H
#define KVMW_KVM_TRACE_H

#include <linux/tracepoint.h>

#include "kvmw_features.h"

#ifndef KVMW_HAVE_KVM_EXIT_VCPU_ISA
#error "kvmwarden: kernel without the kvm_exit(vcpu, isa) tracepoint"
#endif
#ifndef KVMW_HAVE_KVM_ENTRY_IMMEDIATE_EXIT
#error "kvmwarden: kernel without the kvm_entry(vcpu, force_immediate_exit) tracepoint"
#endif
#ifndef KVMW_HAVE_KVM_PAGE_FAULT_VCPU_U64
#error "kvmwarden: kernel without the kvm_page_fault(vcpu, u64, u64) tracepoint"
#endif

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
