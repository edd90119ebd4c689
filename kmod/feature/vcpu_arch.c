// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: VCPU_ARCH_STATE
 * kvmw-needs: kvm_vcpu_arch regs[], guest_state_protected and hflags/HF_GUEST_MASK
 *
 * kmod/kvmw_kvm.c compares the VMCB's saved RSP with KVM's cached one
 * (skipped for SEV-ES guests, whose state is encrypted), and
 * kmod/kvmw_kvm.h tells an L2 guest's faults from hflags.
 */
#include <linux/kvm_host.h>

static_assert(__same_type(((struct kvm_vcpu *)NULL)->arch.regs[VCPU_REGS_RSP],
			  unsigned long));
static_assert(__same_type(((struct kvm_vcpu *)NULL)->arch.guest_state_protected,
			  bool));
static_assert(__same_type(((struct kvm_vcpu *)NULL)->arch.hflags, u32));
static_assert(HF_GUEST_MASK != 0);
