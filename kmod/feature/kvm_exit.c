// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: KVM_EXIT_VCPU_ISA
 * kvmw-needs: the kvm_exit(vcpu, u32 isa) tracepoint
 *
 * The tracepoint is declared in arch/x86/kvm/trace.h, which the kernel
 * headers do not ship. Upstream commit 0a62a0319abb ("KVM: x86: Get
 * exit_reason as part of kvm_x86_ops.get_exit_info", v5.16) dropped the
 * exit_reason argument of kvm_exit and, in the same change, made
 * kvm_x86_ops::get_exit_info() return the reason through a u32 pointer,
 * which the tracepoint's fast-assign calls. The get_exit_info() signature,
 * declared in <asm/kvm_host.h>, is the proxy.
 */
#include <linux/kvm_host.h>

static_assert(__same_type(((struct kvm_x86_ops *)NULL)->get_exit_info,
			  void (*)(struct kvm_vcpu *vcpu, u32 *reason,
				   u64 *info1, u64 *info2,
				   u32 *exit_int_info,
				   u32 *exit_int_info_err_code)));
