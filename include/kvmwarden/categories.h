/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmwarden: vendor-neutral categories of hardware VM-exit reasons.
 *
 * This header is the single home of the mapping from raw reasons (VMX basic
 * exit reasons, SVM exit codes, as in struct kvmw_reason_stat::reason) to
 * categories, so that dashboards work the same on Intel and AMD. It is used
 * by the kernel module and by the userspace tools: no libc, only the types
 * of <linux/types.h>, everything static inline.
 *
 * The codes are spelled as numbers, each named in a KVMW_VMX_* or KVMW_SVM_*
 * macro with the kernel's name in a comment: this header must not include
 * <asm/vmx.h> or <asm/svm.h>, because the kernel module includes the
 * kernel's own (non-UAPI) versions of those. The userspace unit tests
 * (userspace/tests/test_categories.c) check every number against the UAPI
 * headers and every entry of VMX_EXIT_REASONS and SVM_EXIT_REASONS against
 * an expectation table of their own.
 */
#ifndef _KVMWARDEN_CATEGORIES_H
#define _KVMWARDEN_CATEGORIES_H

#include <linux/types.h>
/* KVMW_VENDOR_*, KVMW_REASON_UNDECODED. The module builds with -I include. */
#ifdef __KERNEL__
#include <uapi/linux/kvmwarden.h>
#else
#include <linux/kvmwarden.h>
#endif

/*
 * Categories. The values are stable (ABI): they may be stored or sent
 * around as numbers, so an existing value never changes meaning and new
 * categories are only ever added before KVMW_NR_CATEGORIES.
 */
enum kvmw_category {
	KVMW_CAT_IO		= 0,	/* port I/O (IN/OUT/INS/OUTS) */
	KVMW_CAT_MMIO		= 1,	/* emulated MMIO */
	KVMW_CAT_HALT		= 2,	/* guest idle: HLT, MWAIT and friends */
	KVMW_CAT_INTERRUPT	= 3,	/* host/guest interrupts, windows, timer */
	KVMW_CAT_IPI_APIC	= 4,	/* virtual APIC accesses, IPIs, EOIs */
	KVMW_CAT_NPF		= 5,	/* nested/EPT page faults (not MMIO) */
	KVMW_CAT_MSR		= 6,	/* RDMSR/WRMSR */
	KVMW_CAT_CPUID		= 7,	/* CPUID */
	KVMW_CAT_CR_DR		= 8,	/* control/debug registers, XSETBV */
	KVMW_CAT_HYPERCALL	= 9,	/* VMCALL/VMMCALL, GHCB/TDX calls */
	KVMW_CAT_PAUSE		= 10,	/* PAUSE (pause-loop exiting) */
	KVMW_CAT_EXCEPTION	= 11,	/* intercepted guest exceptions */
	KVMW_CAT_OTHER		= 12,	/* everything else, unknown, undecoded */
	KVMW_NR_CATEGORIES	= 13,
};

/*
 * Name of a category ("io", "mmio", ...): lower case, stable, usable as a
 * JSON key or a metric label. NULL when @cat is not a category.
 */
static inline const char *kvmw_category_name(__u32 cat)
{
	static const char * const names[KVMW_NR_CATEGORIES] = {
		[KVMW_CAT_IO]		= "io",
		[KVMW_CAT_MMIO]		= "mmio",
		[KVMW_CAT_HALT]		= "halt",
		[KVMW_CAT_INTERRUPT]	= "interrupt",
		[KVMW_CAT_IPI_APIC]	= "ipi_apic",
		[KVMW_CAT_NPF]		= "npf",
		[KVMW_CAT_MSR]		= "msr",
		[KVMW_CAT_CPUID]	= "cpuid",
		[KVMW_CAT_CR_DR]	= "cr_dr",
		[KVMW_CAT_HYPERCALL]	= "hypercall",
		[KVMW_CAT_PAUSE]	= "pause",
		[KVMW_CAT_EXCEPTION]	= "exception",
		[KVMW_CAT_OTHER]	= "other",
	};

	return cat < KVMW_NR_CATEGORIES ? names[cat] : (const char *)0;
}

/*
 * VMX basic exit reasons (Intel SDM vol. 3, appendix C) that are not
 * "other". The name in each comment is the kernel's EXIT_REASON_* name.
 */
#define KVMW_VMX_EXCEPTION_NMI		0	/* EXIT_REASON_EXCEPTION_NMI */
#define KVMW_VMX_EXTERNAL_INTERRUPT	1	/* EXIT_REASON_EXTERNAL_INTERRUPT */
#define KVMW_VMX_TRIPLE_FAULT		2	/* EXIT_REASON_TRIPLE_FAULT */
#define KVMW_VMX_INIT_SIGNAL		3	/* EXIT_REASON_INIT_SIGNAL */
#define KVMW_VMX_SIPI_SIGNAL		4	/* EXIT_REASON_SIPI_SIGNAL */
#define KVMW_VMX_INTERRUPT_WINDOW	7	/* EXIT_REASON_INTERRUPT_WINDOW */
#define KVMW_VMX_NMI_WINDOW		8	/* EXIT_REASON_NMI_WINDOW */
#define KVMW_VMX_CPUID			10	/* EXIT_REASON_CPUID */
#define KVMW_VMX_HLT			12	/* EXIT_REASON_HLT */
#define KVMW_VMX_VMCALL			18	/* EXIT_REASON_VMCALL */
#define KVMW_VMX_CR_ACCESS		28	/* EXIT_REASON_CR_ACCESS */
#define KVMW_VMX_DR_ACCESS		29	/* EXIT_REASON_DR_ACCESS */
#define KVMW_VMX_IO_INSTRUCTION		30	/* EXIT_REASON_IO_INSTRUCTION */
#define KVMW_VMX_MSR_READ		31	/* EXIT_REASON_MSR_READ */
#define KVMW_VMX_MSR_WRITE		32	/* EXIT_REASON_MSR_WRITE */
#define KVMW_VMX_MWAIT_INSTRUCTION	36	/* EXIT_REASON_MWAIT_INSTRUCTION */
#define KVMW_VMX_MONITOR_INSTRUCTION	39	/* EXIT_REASON_MONITOR_INSTRUCTION */
#define KVMW_VMX_PAUSE_INSTRUCTION	40	/* EXIT_REASON_PAUSE_INSTRUCTION */
#define KVMW_VMX_TPR_BELOW_THRESHOLD	43	/* EXIT_REASON_TPR_BELOW_THRESHOLD */
#define KVMW_VMX_APIC_ACCESS		44	/* EXIT_REASON_APIC_ACCESS */
/* The SDM calls 45 "virtualized EOI"; the kernel calls it EOI_INDUCED. */
#define KVMW_VMX_EOI_INDUCED		45	/* EXIT_REASON_EOI_INDUCED */
#define KVMW_VMX_EPT_VIOLATION		48	/* EXIT_REASON_EPT_VIOLATION */
#define KVMW_VMX_EPT_MISCONFIG		49	/* EXIT_REASON_EPT_MISCONFIG */
#define KVMW_VMX_PREEMPTION_TIMER	52	/* EXIT_REASON_PREEMPTION_TIMER */
#define KVMW_VMX_XSETBV			55	/* EXIT_REASON_XSETBV */
#define KVMW_VMX_APIC_WRITE		56	/* EXIT_REASON_APIC_WRITE */
#define KVMW_VMX_UMWAIT			67	/* EXIT_REASON_UMWAIT */
#define KVMW_VMX_TPAUSE			68	/* EXIT_REASON_TPAUSE */
/* Newer than some UAPI headers (Linux 6.16+): checked where defined. */
#define KVMW_VMX_TDCALL			77	/* EXIT_REASON_TDCALL */
#define KVMW_VMX_MSR_READ_IMM		84	/* EXIT_REASON_MSR_READ_IMM */
#define KVMW_VMX_MSR_WRITE_IMM		85	/* EXIT_REASON_MSR_WRITE_IMM */

/*
 * SVM exit codes (AMD APM vol. 2, appendix C) that are not "other". The
 * name in each comment is the kernel's SVM_EXIT_* / SVM_VMGEXIT_* name.
 */
#define KVMW_SVM_READ_CR0		0x000	/* SVM_EXIT_READ_CR0 (CR0-15: 0x00-0x0f) */
#define KVMW_SVM_WRITE_CR0		0x010	/* SVM_EXIT_WRITE_CR0 (CR0-15: 0x10-0x1f) */
#define KVMW_SVM_READ_DR0		0x020	/* SVM_EXIT_READ_DR0 (DR0-15: 0x20-0x2f) */
#define KVMW_SVM_WRITE_DR0		0x030	/* SVM_EXIT_WRITE_DR0 (DR0-15: 0x30-0x3f) */
#define KVMW_SVM_EXCP_BASE		0x040	/* SVM_EXIT_EXCP_BASE (vector 0) */
#define KVMW_SVM_LAST_EXCP		0x05f	/* SVM_EXIT_LAST_EXCP (vector 31) */
#define KVMW_SVM_INTR			0x060	/* SVM_EXIT_INTR */
#define KVMW_SVM_NMI			0x061	/* SVM_EXIT_NMI */
#define KVMW_SVM_SMI			0x062	/* SVM_EXIT_SMI */
#define KVMW_SVM_INIT			0x063	/* SVM_EXIT_INIT */
#define KVMW_SVM_VINTR			0x064	/* SVM_EXIT_VINTR */
#define KVMW_SVM_CR0_SEL_WRITE		0x065	/* SVM_EXIT_CR0_SEL_WRITE */
#define KVMW_SVM_CPUID			0x072	/* SVM_EXIT_CPUID */
#define KVMW_SVM_IRET			0x074	/* SVM_EXIT_IRET */
#define KVMW_SVM_SWINT			0x075	/* SVM_EXIT_SWINT */
#define KVMW_SVM_PAUSE			0x077	/* SVM_EXIT_PAUSE */
#define KVMW_SVM_HLT			0x078	/* SVM_EXIT_HLT */
#define KVMW_SVM_IOIO			0x07b	/* SVM_EXIT_IOIO */
#define KVMW_SVM_MSR			0x07c	/* SVM_EXIT_MSR */
#define KVMW_SVM_SHUTDOWN		0x07f	/* SVM_EXIT_SHUTDOWN */
#define KVMW_SVM_VMMCALL		0x081	/* SVM_EXIT_VMMCALL */
#define KVMW_SVM_ICEBP			0x088	/* SVM_EXIT_ICEBP */
#define KVMW_SVM_MONITOR		0x08a	/* SVM_EXIT_MONITOR */
#define KVMW_SVM_MWAIT			0x08b	/* SVM_EXIT_MWAIT */
#define KVMW_SVM_MWAIT_COND		0x08c	/* SVM_EXIT_MWAIT_COND */
#define KVMW_SVM_XSETBV			0x08d	/* SVM_EXIT_XSETBV */
#define KVMW_SVM_EFER_WRITE_TRAP	0x08f	/* SVM_EXIT_EFER_WRITE_TRAP */
#define KVMW_SVM_CR0_WRITE_TRAP		0x090	/* SVM_EXIT_CR0_WRITE_TRAP (CR0-15: 0x90-0x9f) */
#define KVMW_SVM_CR15_WRITE_TRAP	0x09f	/* SVM_EXIT_CR15_WRITE_TRAP */
/* Newer than some UAPI headers (Linux 6.15+): checked where defined. */
#define KVMW_SVM_IDLE_HLT		0x0a6	/* SVM_EXIT_IDLE_HLT */
#define KVMW_SVM_NPF			0x400	/* SVM_EXIT_NPF */
#define KVMW_SVM_AVIC_INCOMPLETE_IPI	0x401	/* SVM_EXIT_AVIC_INCOMPLETE_IPI */
#define KVMW_SVM_AVIC_UNACCELERATED_ACCESS 0x402 /* SVM_EXIT_AVIC_UNACCELERATED_ACCESS */
#define KVMW_SVM_VMGEXIT		0x403	/* SVM_EXIT_VMGEXIT */
/* GHCB software exit codes (SEV-ES/SNP), see below. */
#define KVMW_SVM_VMGEXIT_MMIO_READ	0x80000001U	/* SVM_VMGEXIT_MMIO_READ */
#define KVMW_SVM_VMGEXIT_MMIO_WRITE	0x80000002U	/* SVM_VMGEXIT_MMIO_WRITE */
#define KVMW_SVM_VMGEXIT_NMI_COMPLETE	0x80000003U	/* SVM_VMGEXIT_NMI_COMPLETE */
#define KVMW_SVM_VMGEXIT_AP_HLT_LOOP	0x80000004U	/* SVM_VMGEXIT_AP_HLT_LOOP */
#define KVMW_SVM_VMGEXIT_FIRST		0x80000000U	/* GHCB "non-automatic" exits */
#define KVMW_SVM_VMGEXIT_LAST		0x8000ffffU	/* SVM_VMGEXIT_UNSUPPORTED_EVENT */

/*
 * Category of a VMX basic exit reason (bits 15:0 of the exit reason).
 *
 * Decisions (mirrored in userspace/tests/test_categories.c):
 *  - EXCEPTION_NMI (0) is "exception": the same code covers NMIs that hit
 *    the guest and intercepted exceptions (#PF without EPT, #UD, #DB, #AC,
 *    #MC...); telling them apart needs the exit interruption information.
 *    Under EPT, the common cases are exceptions.
 *  - TRIPLE_FAULT (2) is "exception", like SVM SHUTDOWN.
 *  - INIT_SIGNAL/SIPI_SIGNAL (3, 4) are "interrupt": signals delivered to
 *    the physical CPU, like SVM INIT/SMI.
 *  - PREEMPTION_TIMER (52) is "interrupt": it is KVM's host timer (the
 *    guest's TSC deadline timer, or the end of a time slice), the
 *    counterpart of the host timer interrupt that exits on SVM.
 *  - The interrupt and NMI windows (7, 8) are "interrupt": KVM asks for
 *    them to inject a pending event.
 *  - VIRTUALIZED EOI (45, the kernel's EOI_INDUCED), TPR_BELOW_THRESHOLD,
 *    APIC_ACCESS and APIC_WRITE are "ipi_apic". APIC_ACCESS is MMIO to the
 *    APIC page: it counts as ipi_apic, never as mmio.
 *  - MWAIT/MONITOR (36, 39) and UMWAIT/TPAUSE (67, 68) are "halt": guests
 *    use them in their idle loops; KVM runs MWAIT as a NOP or lets the
 *    guest execute it, so an exit on them is time the vCPU wanted idle.
 *  - XSETBV (55) is "cr_dr": it writes XCR0, an extended control register.
 *  - EPT_MISCONFIG (49) is "mmio": KVM marks MMIO ranges with misconfigured
 *    EPT entries, so this is its MMIO path. EPT_VIOLATION (48) is "npf".
 *  - TDCALL (77) is "hypercall": a TDX guest's TDVMCALL.
 *  - Everything else, unknown codes and KVMW_REASON_UNDECODED: "other".
 *    This includes VM-entry failures (INVALID_STATE, MSR_LOAD_FAIL,
 *    MCE_DURING_VMENTRY): they are not MSR accesses or exceptions.
 */
static inline __u32 kvmw_vmx_reason_category(__u32 reason)
{
	switch (reason) {
	case KVMW_VMX_IO_INSTRUCTION:
		return KVMW_CAT_IO;
	case KVMW_VMX_EPT_MISCONFIG:
		return KVMW_CAT_MMIO;
	case KVMW_VMX_HLT:
	case KVMW_VMX_MWAIT_INSTRUCTION:
	case KVMW_VMX_MONITOR_INSTRUCTION:
	case KVMW_VMX_UMWAIT:
	case KVMW_VMX_TPAUSE:
		return KVMW_CAT_HALT;
	case KVMW_VMX_EXTERNAL_INTERRUPT:
	case KVMW_VMX_INIT_SIGNAL:
	case KVMW_VMX_SIPI_SIGNAL:
	case KVMW_VMX_INTERRUPT_WINDOW:
	case KVMW_VMX_NMI_WINDOW:
	case KVMW_VMX_PREEMPTION_TIMER:
		return KVMW_CAT_INTERRUPT;
	case KVMW_VMX_TPR_BELOW_THRESHOLD:
	case KVMW_VMX_APIC_ACCESS:
	case KVMW_VMX_EOI_INDUCED:
	case KVMW_VMX_APIC_WRITE:
		return KVMW_CAT_IPI_APIC;
	case KVMW_VMX_EPT_VIOLATION:
		return KVMW_CAT_NPF;
	case KVMW_VMX_MSR_READ:
	case KVMW_VMX_MSR_WRITE:
	case KVMW_VMX_MSR_READ_IMM:
	case KVMW_VMX_MSR_WRITE_IMM:
		return KVMW_CAT_MSR;
	case KVMW_VMX_CPUID:
		return KVMW_CAT_CPUID;
	case KVMW_VMX_CR_ACCESS:
	case KVMW_VMX_DR_ACCESS:
	case KVMW_VMX_XSETBV:
		return KVMW_CAT_CR_DR;
	case KVMW_VMX_VMCALL:
	case KVMW_VMX_TDCALL:
		return KVMW_CAT_HYPERCALL;
	case KVMW_VMX_PAUSE_INSTRUCTION:
		return KVMW_CAT_PAUSE;
	case KVMW_VMX_EXCEPTION_NMI:
	case KVMW_VMX_TRIPLE_FAULT:
		return KVMW_CAT_EXCEPTION;
	default:
		return KVMW_CAT_OTHER;
	}
}

/*
 * Category of an SVM exit code (VMCB EXITCODE, low 32 bits).
 *
 * Decisions (mirrored in userspace/tests/test_categories.c):
 *  - NPF (0x400) is "npf". On SVM, MMIO and ordinary nested page faults
 *    share this code: only the fault's error code (EXITINFO1) tells them
 *    apart, see kvmw_npf_category(). So from the raw reason alone, MMIO on
 *    SVM is counted as npf; the VMX counterpart (EPT_MISCONFIG) is mmio.
 *  - CR reads/writes (0x00-0x1f), DR reads/writes (0x20-0x3f),
 *    CR0_SEL_WRITE, the SEV-ES CR write traps (0x90-0x9f) and XSETBV are
 *    "cr_dr". The EFER write trap (0x8f) is "msr": it is the WRMSR of EFER
 *    by an SEV-ES guest, which KVM handles as an MSR write.
 *  - INTR, NMI, SMI, INIT and VINTR (0x60-0x64) are "interrupt"; so is
 *    IRET (0x74), which KVM intercepts only to find the end of an NMI
 *    handler (the NMI window, as VMX NMI_WINDOW).
 *  - Exception intercepts (0x40-0x5f), SHUTDOWN (0x7f, the VMX triple
 *    fault), SWINT (0x75, INTn) and ICEBP (0x88, INT1) are "exception".
 *  - AVIC_INCOMPLETE_IPI (0x401) and AVIC_UNACCELERATED_ACCESS (0x402) are
 *    "ipi_apic".
 *  - HLT, IDLE_HLT, MONITOR, MWAIT and MWAIT_COND are "halt" (see VMX).
 *  - VMGEXIT (0x403), the SEV-ES/SNP guest's call through the GHCB, is
 *    "hypercall". KVM replaces the VMCB exit code by the GHCB's software
 *    exit code while it handles the call; a reader that sees that code gets
 *    the category of the intercept it names (IOIO, CPUID, MSR...), or for
 *    the GHCB-only codes (0x80000000-0x8000ffff): MMIO_READ/MMIO_WRITE are
 *    "mmio", NMI_COMPLETE is "interrupt", AP_HLT_LOOP is "halt" and the
 *    others (page state change, guest requests, AP creation...) are
 *    "hypercall".
 *  - Everything else, SVM_EXIT_ERR (0xffffffff), unknown codes and
 *    KVMW_REASON_UNDECODED: "other".
 */
static inline __u32 kvmw_svm_reason_category(__u32 reason)
{
	if (reason <= KVMW_SVM_WRITE_DR0 + 0x0f)
		return KVMW_CAT_CR_DR;
	if (reason >= KVMW_SVM_EXCP_BASE && reason <= KVMW_SVM_LAST_EXCP)
		return KVMW_CAT_EXCEPTION;
	if (reason >= KVMW_SVM_CR0_WRITE_TRAP &&
	    reason <= KVMW_SVM_CR15_WRITE_TRAP)
		return KVMW_CAT_CR_DR;

	switch (reason) {
	case KVMW_SVM_IOIO:
		return KVMW_CAT_IO;
	case KVMW_SVM_VMGEXIT_MMIO_READ:
	case KVMW_SVM_VMGEXIT_MMIO_WRITE:
		return KVMW_CAT_MMIO;
	case KVMW_SVM_HLT:
	case KVMW_SVM_IDLE_HLT:
	case KVMW_SVM_MONITOR:
	case KVMW_SVM_MWAIT:
	case KVMW_SVM_MWAIT_COND:
	case KVMW_SVM_VMGEXIT_AP_HLT_LOOP:
		return KVMW_CAT_HALT;
	case KVMW_SVM_INTR:
	case KVMW_SVM_NMI:
	case KVMW_SVM_SMI:
	case KVMW_SVM_INIT:
	case KVMW_SVM_VINTR:
	case KVMW_SVM_IRET:
	case KVMW_SVM_VMGEXIT_NMI_COMPLETE:
		return KVMW_CAT_INTERRUPT;
	case KVMW_SVM_AVIC_INCOMPLETE_IPI:
	case KVMW_SVM_AVIC_UNACCELERATED_ACCESS:
		return KVMW_CAT_IPI_APIC;
	case KVMW_SVM_NPF:
		return KVMW_CAT_NPF;
	case KVMW_SVM_MSR:
	case KVMW_SVM_EFER_WRITE_TRAP:
		return KVMW_CAT_MSR;
	case KVMW_SVM_CPUID:
		return KVMW_CAT_CPUID;
	case KVMW_SVM_CR0_SEL_WRITE:
	case KVMW_SVM_XSETBV:
		return KVMW_CAT_CR_DR;
	case KVMW_SVM_VMMCALL:
	case KVMW_SVM_VMGEXIT:
		return KVMW_CAT_HYPERCALL;
	case KVMW_SVM_PAUSE:
		return KVMW_CAT_PAUSE;
	case KVMW_SVM_SHUTDOWN:
	case KVMW_SVM_SWINT:
	case KVMW_SVM_ICEBP:
		return KVMW_CAT_EXCEPTION;
	default:
		break;
	}
	/* The remaining GHCB-only codes; KVMW_REASON_UNDECODED is above. */
	if (reason >= KVMW_SVM_VMGEXIT_FIRST && reason <= KVMW_SVM_VMGEXIT_LAST)
		return KVMW_CAT_HYPERCALL;
	return KVMW_CAT_OTHER;
}

/*
 * Category (enum kvmw_category) of the raw reason @reason of vendor
 * @vendor (KVMW_VENDOR_*). An unknown vendor, an unknown code or
 * KVMW_REASON_UNDECODED gives KVMW_CAT_OTHER.
 */
static inline __u32 kvmw_reason_category(__u32 vendor, __u32 reason)
{
	if (reason == KVMW_REASON_UNDECODED)
		return KVMW_CAT_OTHER;
	switch (vendor) {
	case KVMW_VENDOR_VMX:
		return kvmw_vmx_reason_category(reason);
	case KVMW_VENDOR_SVM:
		return kvmw_svm_reason_category(reason);
	default:
		return KVMW_CAT_OTHER;
	}
}

/* Reserved bit violation in a page fault error code (KVM's PFERR_RSVD_MASK). */
#define KVMW_PFERR_RSVD_MASK	(1ULL << 3)

/*
 * Category of an exit once the fault's error code is known: for the fault
 * probe, which sees it. @error_code is SVM EXITINFO1 of an NPF exit; it is
 * ignored for every other exit.
 *
 * With TDP, KVM marks MMIO ranges with SPTEs that have reserved bits set;
 * a guest access to them gives an NPF whose error code has the reserved bit
 * (PFERR_RSVD, bit 3): that is KVM's MMIO path on SVM, so such an NPF is
 * "mmio" and any other NPF stays "npf". (When KVM cannot use reserved bits
 * for MMIO, e.g. MMIO caching off, the first access to an MMIO page is a
 * not-present NPF and still counts as npf.) On VMX the reason alone is
 * exact (EPT_MISCONFIG is mmio) and this is kvmw_reason_category().
 */
static inline __u32 kvmw_npf_category(__u32 vendor, __u32 reason,
				      __u64 error_code)
{
	if (vendor == KVMW_VENDOR_SVM && reason == KVMW_SVM_NPF)
		return error_code & KVMW_PFERR_RSVD_MASK ?
		       KVMW_CAT_MMIO : KVMW_CAT_NPF;
	return kvmw_reason_category(vendor, reason);
}

#endif /* _KVMWARDEN_CATEGORIES_H */
