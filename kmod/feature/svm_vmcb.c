// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: SVM_VMCB_LAYOUT
 * kvmw-needs: the architectural struct vmcb offsets in <asm/svm.h>
 *
 * The offsets are architectural (AMD APM vol. 2, appendix B); the
 * kernel's struct must match them for kmod/kvmw_kvm.c to read the exit
 * code. Where the VMCB pointer sits in KVM's private struct vcpu_svm is
 * not in the headers: that is validated at run time on the first exits.
 */
#include <linux/stddef.h>
#include <linux/types.h>
#include <asm/svm.h>

static_assert(offsetof(struct vmcb, control.exit_code) == 0x70);
static_assert(offsetof(struct vmcb, save.rsp) == 0x400 + 0x1d8);
