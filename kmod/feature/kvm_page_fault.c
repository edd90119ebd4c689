// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: KVM_PAGE_FAULT_VCPU_U64
 * kvmw-needs: the kvm_page_fault(vcpu, u64 fault_address, u64 error_code) tracepoint
 *
 * Upstream commits faa03b39722a ("KVM: Add extra information in
 * kvm_page_fault trace point") and bff0adc40c00 ("KVM: x86: Use u64 for
 * address and error code in page fault tracepoint"), both in v6.1, gave
 * the tracepoint its vCPU argument and 64-bit address and error code.
 * They changed arch/x86/kvm/trace.h and its callers only: no header of
 * the kernel headers package records them. What the headers do record:
 * the NPF/EPT fault entry point kvm_mmu_page_fault() takes the 64-bit
 * error code the tracepoint carries. The vCPU argument can only be
 * inferred from the release, 6.1 or later: this probe is the one that
 * compares a version (Documentation/build.rst, "Limits").
 */
#include <linux/kvm_host.h>
#include <linux/version.h>

#if LINUX_VERSION_MAJOR < 6 || \
	(LINUX_VERSION_MAJOR == 6 && LINUX_VERSION_PATCHLEVEL < 1)
#error "older than 6.1: kvm_page_fault without its vCPU argument"
#endif

static_assert(__same_type(&kvm_mmu_page_fault,
			  int (*)(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa,
				  u64 error_code, void *insn, int insn_len)));
