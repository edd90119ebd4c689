// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: KVM_ENTRY_IMMEDIATE_EXIT
 * kvmw-needs: the kvm_entry(vcpu, bool force_immediate_exit) tracepoint
 *
 * The tracepoint is declared in arch/x86/kvm/trace.h, which the kernel
 * headers do not ship. Upstream commit 9c9025ea003a ("KVM: x86: Plumb
 * "force_immediate_exit" into kvm_entry() tracepoint", v6.9) added the
 * argument to the tracepoint and, in the same change, to
 * kvm_x86_ops::vcpu_run() in <asm/kvm_host.h>, whose implementations pass
 * it on to trace_kvm_entry(). Upstream commit 2478b1b220c4 ("KVM: x86:
 * Convert vcpu_run()'s immediate exit param into a generic bitmap") later
 * made that parameter u64 run_flags with a KVM_RUN_FORCE_IMMEDIATE_EXIT
 * bit, from which the implementations derive the tracepoint's bool. Both
 * reached the stable series (Debian 6.1.153-1, from upstream 6.1.149, and
 * 6.12.y carry them). Before 9c9025ea003a, vcpu_run() took the vCPU only
 * and kvm_entry(vcpu) had no second argument: either form of the second
 * parameter of vcpu_run() is the proxy.
 */
#include <linux/kvm_host.h>

static_assert(__same_type(((struct kvm_x86_ops *)NULL)->vcpu_run,
			  enum exit_fastpath_completion (*)(struct kvm_vcpu *vcpu,
							    bool force_immediate_exit)) ||
	      __same_type(((struct kvm_x86_ops *)NULL)->vcpu_run,
			  enum exit_fastpath_completion (*)(struct kvm_vcpu *vcpu,
							    u64 run_flags)));
