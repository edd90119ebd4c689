// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit categories (include/kvmwarden/categories.h): every entry of the
 * kernel's VMX_EXIT_REASONS and SVM_EXIT_REASONS tables against an
 * expectation table of this file (by name, written independently of the
 * header), the header's numbers against the UAPI constants, the fault
 * helper, and the stability of the category values and names.
 *
 * <asm/svm.h> needs the *_VECTOR constants of <asm/kvm.h> first.
 */
#include <stdio.h>
#include <string.h>

#include <asm/kvm.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <kvmwarden/categories.h>
#include <linux/kvmwarden.h>

#include "reasons.h"
#include "tap.h"

struct expect {
	const char *name;	/* as in the kernel's table */
	enum kvmw_category cat;
};

/*
 * Every VMX name of the kernel's table with the category it must have.
 * A name of the table missing here fails the test: a new reason needs a
 * decision. Some names are from newer headers than the build host's.
 */
static const struct expect vmx_expect[] = {
	{ "EXCEPTION_NMI",		KVMW_CAT_EXCEPTION },
	{ "EXTERNAL_INTERRUPT",		KVMW_CAT_INTERRUPT },
	{ "TRIPLE_FAULT",		KVMW_CAT_EXCEPTION },
	{ "INIT_SIGNAL",		KVMW_CAT_INTERRUPT },
	{ "SIPI_SIGNAL",		KVMW_CAT_INTERRUPT },
	{ "INTERRUPT_WINDOW",		KVMW_CAT_INTERRUPT },
	{ "NMI_WINDOW",			KVMW_CAT_INTERRUPT },
	{ "TASK_SWITCH",		KVMW_CAT_OTHER },
	{ "CPUID",			KVMW_CAT_CPUID },
	{ "HLT",			KVMW_CAT_HALT },
	{ "INVD",			KVMW_CAT_OTHER },
	{ "INVLPG",			KVMW_CAT_OTHER },
	{ "RDPMC",			KVMW_CAT_OTHER },
	{ "RDTSC",			KVMW_CAT_OTHER },
	{ "VMCALL",			KVMW_CAT_HYPERCALL },
	{ "VMCLEAR",			KVMW_CAT_OTHER },
	{ "VMLAUNCH",			KVMW_CAT_OTHER },
	{ "VMPTRLD",			KVMW_CAT_OTHER },
	{ "VMPTRST",			KVMW_CAT_OTHER },
	{ "VMREAD",			KVMW_CAT_OTHER },
	{ "VMRESUME",			KVMW_CAT_OTHER },
	{ "VMWRITE",			KVMW_CAT_OTHER },
	{ "VMOFF",			KVMW_CAT_OTHER },
	{ "VMON",			KVMW_CAT_OTHER },
	{ "CR_ACCESS",			KVMW_CAT_CR_DR },
	{ "DR_ACCESS",			KVMW_CAT_CR_DR },
	{ "IO_INSTRUCTION",		KVMW_CAT_IO },
	{ "MSR_READ",			KVMW_CAT_MSR },
	{ "MSR_WRITE",			KVMW_CAT_MSR },
	{ "INVALID_STATE",		KVMW_CAT_OTHER },
	{ "MSR_LOAD_FAIL",		KVMW_CAT_OTHER },
	{ "MWAIT_INSTRUCTION",		KVMW_CAT_HALT },
	{ "MONITOR_TRAP_FLAG",		KVMW_CAT_OTHER },
	{ "MONITOR_INSTRUCTION",	KVMW_CAT_HALT },
	{ "PAUSE_INSTRUCTION",		KVMW_CAT_PAUSE },
	{ "MCE_DURING_VMENTRY",		KVMW_CAT_OTHER },
	{ "TPR_BELOW_THRESHOLD",	KVMW_CAT_IPI_APIC },
	{ "APIC_ACCESS",		KVMW_CAT_IPI_APIC },
	{ "EOI_INDUCED",		KVMW_CAT_IPI_APIC },
	{ "GDTR_IDTR",			KVMW_CAT_OTHER },
	{ "LDTR_TR",			KVMW_CAT_OTHER },
	{ "EPT_VIOLATION",		KVMW_CAT_NPF },
	{ "EPT_MISCONFIG",		KVMW_CAT_MMIO },
	{ "INVEPT",			KVMW_CAT_OTHER },
	{ "RDTSCP",			KVMW_CAT_OTHER },
	{ "PREEMPTION_TIMER",		KVMW_CAT_INTERRUPT },
	{ "INVVPID",			KVMW_CAT_OTHER },
	{ "WBINVD",			KVMW_CAT_OTHER },
	{ "XSETBV",			KVMW_CAT_CR_DR },
	{ "APIC_WRITE",			KVMW_CAT_IPI_APIC },
	{ "RDRAND",			KVMW_CAT_OTHER },
	{ "INVPCID",			KVMW_CAT_OTHER },
	{ "VMFUNC",			KVMW_CAT_OTHER },
	{ "ENCLS",			KVMW_CAT_OTHER },
	{ "RDSEED",			KVMW_CAT_OTHER },
	{ "PML_FULL",			KVMW_CAT_OTHER },
	{ "XSAVES",			KVMW_CAT_OTHER },
	{ "XRSTORS",			KVMW_CAT_OTHER },
	{ "UMWAIT",			KVMW_CAT_HALT },
	{ "TPAUSE",			KVMW_CAT_HALT },
	{ "BUS_LOCK",			KVMW_CAT_OTHER },
	{ "NOTIFY",			KVMW_CAT_OTHER },
	/* Newer headers. */
	{ "TDCALL",			KVMW_CAT_HYPERCALL },
	{ "MSR_READ_IMM",		KVMW_CAT_MSR },
	{ "MSR_WRITE_IMM",		KVMW_CAT_MSR },
};

static const struct expect svm_expect[] = {
	{ "read_cr0",			KVMW_CAT_CR_DR },
	{ "read_cr2",			KVMW_CAT_CR_DR },
	{ "read_cr3",			KVMW_CAT_CR_DR },
	{ "read_cr4",			KVMW_CAT_CR_DR },
	{ "read_cr8",			KVMW_CAT_CR_DR },
	{ "write_cr0",			KVMW_CAT_CR_DR },
	{ "write_cr2",			KVMW_CAT_CR_DR },
	{ "write_cr3",			KVMW_CAT_CR_DR },
	{ "write_cr4",			KVMW_CAT_CR_DR },
	{ "write_cr8",			KVMW_CAT_CR_DR },
	{ "read_dr0",			KVMW_CAT_CR_DR },
	{ "read_dr1",			KVMW_CAT_CR_DR },
	{ "read_dr2",			KVMW_CAT_CR_DR },
	{ "read_dr3",			KVMW_CAT_CR_DR },
	{ "read_dr4",			KVMW_CAT_CR_DR },
	{ "read_dr5",			KVMW_CAT_CR_DR },
	{ "read_dr6",			KVMW_CAT_CR_DR },
	{ "read_dr7",			KVMW_CAT_CR_DR },
	{ "write_dr0",			KVMW_CAT_CR_DR },
	{ "write_dr1",			KVMW_CAT_CR_DR },
	{ "write_dr2",			KVMW_CAT_CR_DR },
	{ "write_dr3",			KVMW_CAT_CR_DR },
	{ "write_dr4",			KVMW_CAT_CR_DR },
	{ "write_dr5",			KVMW_CAT_CR_DR },
	{ "write_dr6",			KVMW_CAT_CR_DR },
	{ "write_dr7",			KVMW_CAT_CR_DR },
	{ "DE excp",			KVMW_CAT_EXCEPTION },
	{ "DB excp",			KVMW_CAT_EXCEPTION },
	{ "BP excp",			KVMW_CAT_EXCEPTION },
	{ "OF excp",			KVMW_CAT_EXCEPTION },
	{ "BR excp",			KVMW_CAT_EXCEPTION },
	{ "UD excp",			KVMW_CAT_EXCEPTION },
	{ "NM excp",			KVMW_CAT_EXCEPTION },
	{ "DF excp",			KVMW_CAT_EXCEPTION },
	{ "TS excp",			KVMW_CAT_EXCEPTION },
	{ "NP excp",			KVMW_CAT_EXCEPTION },
	{ "SS excp",			KVMW_CAT_EXCEPTION },
	{ "GP excp",			KVMW_CAT_EXCEPTION },
	{ "PF excp",			KVMW_CAT_EXCEPTION },
	{ "MF excp",			KVMW_CAT_EXCEPTION },
	{ "AC excp",			KVMW_CAT_EXCEPTION },
	{ "MC excp",			KVMW_CAT_EXCEPTION },
	{ "XF excp",			KVMW_CAT_EXCEPTION },
	{ "interrupt",			KVMW_CAT_INTERRUPT },
	{ "nmi",			KVMW_CAT_INTERRUPT },
	{ "smi",			KVMW_CAT_INTERRUPT },
	{ "init",			KVMW_CAT_INTERRUPT },
	{ "vintr",			KVMW_CAT_INTERRUPT },
	{ "cr0_sel_write",		KVMW_CAT_CR_DR },
	{ "read_idtr",			KVMW_CAT_OTHER },
	{ "read_gdtr",			KVMW_CAT_OTHER },
	{ "read_ldtr",			KVMW_CAT_OTHER },
	{ "read_rt",			KVMW_CAT_OTHER },
	{ "write_idtr",			KVMW_CAT_OTHER },
	{ "write_gdtr",			KVMW_CAT_OTHER },
	{ "write_ldtr",			KVMW_CAT_OTHER },
	{ "write_rt",			KVMW_CAT_OTHER },
	{ "rdtsc",			KVMW_CAT_OTHER },
	{ "rdpmc",			KVMW_CAT_OTHER },
	{ "pushf",			KVMW_CAT_OTHER },
	{ "popf",			KVMW_CAT_OTHER },
	{ "cpuid",			KVMW_CAT_CPUID },
	{ "rsm",			KVMW_CAT_OTHER },
	{ "iret",			KVMW_CAT_INTERRUPT },
	{ "swint",			KVMW_CAT_EXCEPTION },
	{ "invd",			KVMW_CAT_OTHER },
	{ "pause",			KVMW_CAT_PAUSE },
	{ "hlt",			KVMW_CAT_HALT },
	{ "invlpg",			KVMW_CAT_OTHER },
	{ "invlpga",			KVMW_CAT_OTHER },
	{ "io",				KVMW_CAT_IO },
	{ "msr",			KVMW_CAT_MSR },
	{ "task_switch",		KVMW_CAT_OTHER },
	{ "ferr_freeze",		KVMW_CAT_OTHER },
	{ "shutdown",			KVMW_CAT_EXCEPTION },
	{ "vmrun",			KVMW_CAT_OTHER },
	{ "hypercall",			KVMW_CAT_HYPERCALL },
	{ "vmload",			KVMW_CAT_OTHER },
	{ "vmsave",			KVMW_CAT_OTHER },
	{ "stgi",			KVMW_CAT_OTHER },
	{ "clgi",			KVMW_CAT_OTHER },
	{ "skinit",			KVMW_CAT_OTHER },
	{ "rdtscp",			KVMW_CAT_OTHER },
	{ "icebp",			KVMW_CAT_EXCEPTION },
	{ "wbinvd",			KVMW_CAT_OTHER },
	{ "monitor",			KVMW_CAT_HALT },
	{ "mwait",			KVMW_CAT_HALT },
	{ "xsetbv",			KVMW_CAT_CR_DR },
	{ "write_efer_trap",		KVMW_CAT_MSR },
	{ "write_cr0_trap",		KVMW_CAT_CR_DR },
	{ "write_cr4_trap",		KVMW_CAT_CR_DR },
	{ "write_cr8_trap",		KVMW_CAT_CR_DR },
	{ "invpcid",			KVMW_CAT_OTHER },
	{ "npf",			KVMW_CAT_NPF },
	{ "avic_incomplete_ipi",	KVMW_CAT_IPI_APIC },
	{ "avic_unaccelerated_access",	KVMW_CAT_IPI_APIC },
	{ "vmgexit",			KVMW_CAT_HYPERCALL },
	{ "vmgexit_mmio_read",		KVMW_CAT_MMIO },
	{ "vmgexit_mmio_write",		KVMW_CAT_MMIO },
	{ "vmgexit_nmi_complete",	KVMW_CAT_INTERRUPT },
	{ "vmgexit_ap_hlt_loop",	KVMW_CAT_HALT },
	{ "vmgexit_ap_jump_table",	KVMW_CAT_HYPERCALL },
	{ "vmgexit_page_state_change",	KVMW_CAT_HYPERCALL },
	{ "vmgexit_guest_request",	KVMW_CAT_HYPERCALL },
	{ "vmgexit_ext_guest_request",	KVMW_CAT_HYPERCALL },
	{ "vmgexit_ap_creation",	KVMW_CAT_HYPERCALL },
	{ "vmgexit_hypervisor_feature",	KVMW_CAT_HYPERCALL },
	{ "invalid_guest_state",	KVMW_CAT_OTHER },
};

static const struct expect *find_expect(const struct expect *e, size_t n,
					const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(e[i].name, name))
			return &e[i];
	}
	return NULL;
}

static void check_vendor_table(unsigned int vendor, const struct expect *e,
			       size_t ne)
{
	const struct kvmw_reason_name *t;
	size_t n, i;

	n = kvmw_reason_table(vendor, &t);
	CHECK(n > 0, "%s: kernel table not empty", kvmw_vendor_name(vendor));
	for (i = 0; i < n; i++) {
		const struct expect *x = find_expect(e, ne, t[i].name);
		__u32 got = kvmw_reason_category(vendor, t[i].code);

		if (!x) {
			CHECK(0, "%s 0x%x %s: no expectation (decide its category)",
			      kvmw_vendor_name(vendor), t[i].code, t[i].name);
			continue;
		}
		CHECK(got == (__u32)x->cat, "%s 0x%x %s is %s",
		      kvmw_vendor_name(vendor), t[i].code, t[i].name,
		      kvmw_category_name(x->cat));
		if (got != (__u32)x->cat)
			tap_diag("got %s", kvmw_category_name(got) ?
				 kvmw_category_name(got) : "(not a category)");
	}
}

/* The header spells the codes as numbers: compare with the UAPI names. */
#define SAME(ours, theirs)	CHECK_U64((__u64)(ours), (__u64)(__u32)(theirs), \
					  #ours " == " #theirs)

static void check_vmx_numbers(void)
{
	SAME(KVMW_VMX_EXCEPTION_NMI, EXIT_REASON_EXCEPTION_NMI);
	SAME(KVMW_VMX_EXTERNAL_INTERRUPT, EXIT_REASON_EXTERNAL_INTERRUPT);
	SAME(KVMW_VMX_TRIPLE_FAULT, EXIT_REASON_TRIPLE_FAULT);
	SAME(KVMW_VMX_INIT_SIGNAL, EXIT_REASON_INIT_SIGNAL);
	SAME(KVMW_VMX_SIPI_SIGNAL, EXIT_REASON_SIPI_SIGNAL);
	SAME(KVMW_VMX_INTERRUPT_WINDOW, EXIT_REASON_INTERRUPT_WINDOW);
	SAME(KVMW_VMX_NMI_WINDOW, EXIT_REASON_NMI_WINDOW);
	SAME(KVMW_VMX_CPUID, EXIT_REASON_CPUID);
	SAME(KVMW_VMX_HLT, EXIT_REASON_HLT);
	SAME(KVMW_VMX_VMCALL, EXIT_REASON_VMCALL);
	SAME(KVMW_VMX_CR_ACCESS, EXIT_REASON_CR_ACCESS);
	SAME(KVMW_VMX_DR_ACCESS, EXIT_REASON_DR_ACCESS);
	SAME(KVMW_VMX_IO_INSTRUCTION, EXIT_REASON_IO_INSTRUCTION);
	SAME(KVMW_VMX_MSR_READ, EXIT_REASON_MSR_READ);
	SAME(KVMW_VMX_MSR_WRITE, EXIT_REASON_MSR_WRITE);
	SAME(KVMW_VMX_MWAIT_INSTRUCTION, EXIT_REASON_MWAIT_INSTRUCTION);
	SAME(KVMW_VMX_MONITOR_INSTRUCTION, EXIT_REASON_MONITOR_INSTRUCTION);
	SAME(KVMW_VMX_PAUSE_INSTRUCTION, EXIT_REASON_PAUSE_INSTRUCTION);
	SAME(KVMW_VMX_TPR_BELOW_THRESHOLD, EXIT_REASON_TPR_BELOW_THRESHOLD);
	SAME(KVMW_VMX_APIC_ACCESS, EXIT_REASON_APIC_ACCESS);
	SAME(KVMW_VMX_EOI_INDUCED, EXIT_REASON_EOI_INDUCED);
	SAME(KVMW_VMX_EPT_VIOLATION, EXIT_REASON_EPT_VIOLATION);
	SAME(KVMW_VMX_EPT_MISCONFIG, EXIT_REASON_EPT_MISCONFIG);
	SAME(KVMW_VMX_PREEMPTION_TIMER, EXIT_REASON_PREEMPTION_TIMER);
	SAME(KVMW_VMX_XSETBV, EXIT_REASON_XSETBV);
	SAME(KVMW_VMX_APIC_WRITE, EXIT_REASON_APIC_WRITE);
	SAME(KVMW_VMX_UMWAIT, EXIT_REASON_UMWAIT);
	SAME(KVMW_VMX_TPAUSE, EXIT_REASON_TPAUSE);
#ifdef EXIT_REASON_TDCALL
	SAME(KVMW_VMX_TDCALL, EXIT_REASON_TDCALL);
#endif
#ifdef EXIT_REASON_MSR_READ_IMM
	SAME(KVMW_VMX_MSR_READ_IMM, EXIT_REASON_MSR_READ_IMM);
	SAME(KVMW_VMX_MSR_WRITE_IMM, EXIT_REASON_MSR_WRITE_IMM);
#endif
}

static void check_svm_numbers(void)
{
	SAME(KVMW_SVM_READ_CR0, SVM_EXIT_READ_CR0);
	SAME(KVMW_SVM_WRITE_CR0, SVM_EXIT_WRITE_CR0);
	SAME(KVMW_SVM_READ_DR0, SVM_EXIT_READ_DR0);
	SAME(KVMW_SVM_WRITE_DR0, SVM_EXIT_WRITE_DR0);
	SAME(KVMW_SVM_EXCP_BASE, SVM_EXIT_EXCP_BASE);
	SAME(KVMW_SVM_LAST_EXCP, SVM_EXIT_LAST_EXCP);
	SAME(KVMW_SVM_INTR, SVM_EXIT_INTR);
	SAME(KVMW_SVM_NMI, SVM_EXIT_NMI);
	SAME(KVMW_SVM_SMI, SVM_EXIT_SMI);
	SAME(KVMW_SVM_INIT, SVM_EXIT_INIT);
	SAME(KVMW_SVM_VINTR, SVM_EXIT_VINTR);
	SAME(KVMW_SVM_CR0_SEL_WRITE, SVM_EXIT_CR0_SEL_WRITE);
	SAME(KVMW_SVM_CPUID, SVM_EXIT_CPUID);
	SAME(KVMW_SVM_IRET, SVM_EXIT_IRET);
	SAME(KVMW_SVM_SWINT, SVM_EXIT_SWINT);
	SAME(KVMW_SVM_PAUSE, SVM_EXIT_PAUSE);
	SAME(KVMW_SVM_HLT, SVM_EXIT_HLT);
	SAME(KVMW_SVM_IOIO, SVM_EXIT_IOIO);
	SAME(KVMW_SVM_MSR, SVM_EXIT_MSR);
	SAME(KVMW_SVM_SHUTDOWN, SVM_EXIT_SHUTDOWN);
	SAME(KVMW_SVM_VMMCALL, SVM_EXIT_VMMCALL);
	SAME(KVMW_SVM_ICEBP, SVM_EXIT_ICEBP);
	SAME(KVMW_SVM_MONITOR, SVM_EXIT_MONITOR);
	SAME(KVMW_SVM_MWAIT, SVM_EXIT_MWAIT);
	SAME(KVMW_SVM_MWAIT_COND, SVM_EXIT_MWAIT_COND);
	SAME(KVMW_SVM_XSETBV, SVM_EXIT_XSETBV);
	SAME(KVMW_SVM_EFER_WRITE_TRAP, SVM_EXIT_EFER_WRITE_TRAP);
	SAME(KVMW_SVM_CR0_WRITE_TRAP, SVM_EXIT_CR0_WRITE_TRAP);
	SAME(KVMW_SVM_CR15_WRITE_TRAP, SVM_EXIT_CR15_WRITE_TRAP);
#ifdef SVM_EXIT_IDLE_HLT
	SAME(KVMW_SVM_IDLE_HLT, SVM_EXIT_IDLE_HLT);
#endif
	SAME(KVMW_SVM_NPF, SVM_EXIT_NPF);
	SAME(KVMW_SVM_AVIC_INCOMPLETE_IPI, SVM_EXIT_AVIC_INCOMPLETE_IPI);
	SAME(KVMW_SVM_AVIC_UNACCELERATED_ACCESS,
	     SVM_EXIT_AVIC_UNACCELERATED_ACCESS);
	SAME(KVMW_SVM_VMGEXIT, SVM_EXIT_VMGEXIT);
	SAME(KVMW_SVM_VMGEXIT_MMIO_READ, SVM_VMGEXIT_MMIO_READ);
	SAME(KVMW_SVM_VMGEXIT_MMIO_WRITE, SVM_VMGEXIT_MMIO_WRITE);
	SAME(KVMW_SVM_VMGEXIT_NMI_COMPLETE, SVM_VMGEXIT_NMI_COMPLETE);
	SAME(KVMW_SVM_VMGEXIT_AP_HLT_LOOP, SVM_VMGEXIT_AP_HLT_LOOP);
	SAME(KVMW_SVM_VMGEXIT_LAST, SVM_VMGEXIT_UNSUPPORTED_EVENT);
	/* KVM's PFERR_RSVD_MASK is not UAPI: bit 3 of the #PF error code. */
	CHECK_U64(KVMW_PFERR_RSVD_MASK, 8, "PFERR_RSVD is bit 3");
}

static void check_cat(unsigned int vendor, __u32 code, enum kvmw_category want,
		      const char *what)
{
	CHECK(kvmw_reason_category(vendor, code) == (__u32)want,
	      "%s: %s 0x%x is %s", what, kvmw_vendor_name(vendor), code,
	      kvmw_category_name(want));
}

/* Codes outside the kernel tables: ranges, unknown codes, UNDECODED. */
static void check_off_table(void)
{
	/* Range members the kernel tables leave out. */
	check_cat(KVMW_VENDOR_SVM, 0x001, KVMW_CAT_CR_DR, "CR1 read");
	check_cat(KVMW_VENDOR_SVM, 0x01f, KVMW_CAT_CR_DR, "CR15 write");
	check_cat(KVMW_VENDOR_SVM, 0x03f, KVMW_CAT_CR_DR, "DR15 write");
	check_cat(KVMW_VENDOR_SVM, 0x05f, KVMW_CAT_EXCEPTION, "vector 31");
	check_cat(KVMW_VENDOR_SVM, 0x093, KVMW_CAT_CR_DR, "CR3 write trap");
	check_cat(KVMW_VENDOR_SVM, 0x09f, KVMW_CAT_CR_DR, "CR15 write trap");
	check_cat(KVMW_VENDOR_SVM, SVM_EXIT_MWAIT_COND, KVMW_CAT_HALT,
		  "conditional MWAIT");
	check_cat(KVMW_VENDOR_SVM, 0x0a6, KVMW_CAT_HALT, "idle HLT");
	check_cat(KVMW_VENDOR_SVM, SVM_VMGEXIT_TERM_REQUEST,
		  KVMW_CAT_HYPERCALL, "GHCB termination request");
	check_cat(KVMW_VENDOR_VMX, 84, KVMW_CAT_MSR, "RDMSR immediate");
	check_cat(KVMW_VENDOR_VMX, 85, KVMW_CAT_MSR, "WRMSRNS immediate");
	check_cat(KVMW_VENDOR_VMX, 77, KVMW_CAT_HYPERCALL, "TDCALL");

	/* Neighbours of the ranges. */
	check_cat(KVMW_VENDOR_SVM, 0x060, KVMW_CAT_INTERRUPT, "after excps");
	check_cat(KVMW_VENDOR_SVM, 0x08e, KVMW_CAT_OTHER, "RDPRU");
	check_cat(KVMW_VENDOR_SVM, 0x0a0, KVMW_CAT_OTHER, "after CR traps");
	check_cat(KVMW_VENDOR_SVM, 0x7fffffff, KVMW_CAT_OTHER, "before GHCB");
	check_cat(KVMW_VENDOR_SVM, 0x80010000, KVMW_CAT_OTHER, "after GHCB");

	/* Unknown codes and UNDECODED. */
	check_cat(KVMW_VENDOR_VMX, 0x1234, KVMW_CAT_OTHER, "unknown");
	check_cat(KVMW_VENDOR_SVM, 0x1234, KVMW_CAT_OTHER, "unknown");
	check_cat(KVMW_VENDOR_VMX, 11, KVMW_CAT_OTHER, "GETSEC (no name)");
	check_cat(KVMW_VENDOR_VMX, 0x10000 | 10, KVMW_CAT_OTHER,
		  "not a basic reason");
	check_cat(KVMW_VENDOR_VMX, KVMW_REASON_UNDECODED, KVMW_CAT_OTHER,
		  "undecoded");
	check_cat(KVMW_VENDOR_SVM, KVMW_REASON_UNDECODED, KVMW_CAT_OTHER,
		  "undecoded");
	check_cat(KVMW_VENDOR_UNKNOWN, KVMW_REASON_UNDECODED, KVMW_CAT_OTHER,
		  "undecoded");
	check_cat(KVMW_VENDOR_SVM, 0xffffffff, KVMW_CAT_OTHER, "SVM_EXIT_ERR");
	check_cat(KVMW_VENDOR_UNKNOWN, 10, KVMW_CAT_OTHER, "no vendor");
	check_cat(7, 0x72, KVMW_CAT_OTHER, "bad vendor");

	/* The vendor matters: 0x7b is SVM IOIO, VMX has no code 0x7b. */
	check_cat(KVMW_VENDOR_SVM, 0x7b, KVMW_CAT_IO, "vendor matters");
	check_cat(KVMW_VENDOR_VMX, 0x7b, KVMW_CAT_OTHER, "vendor matters");
	check_cat(KVMW_VENDOR_SVM, 30, KVMW_CAT_CR_DR, "vendor matters");
}

static void check_npf(void)
{
	/* SVM NPF: MMIO only with the reserved bit. */
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_NPF, 0) ==
	      KVMW_CAT_NPF, "SVM NPF without error bits is npf");
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_NPF, 0x7) ==
	      KVMW_CAT_NPF, "SVM NPF present/write/user is npf");
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_NPF, 0x8) ==
	      KVMW_CAT_MMIO, "SVM NPF with PFERR_RSVD is mmio");
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_NPF,
				0x10000000fULL) == KVMW_CAT_MMIO,
	      "SVM NPF with RSVD and high bits is mmio");
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_NPF,
				~0ULL & ~8ULL) == KVMW_CAT_NPF,
	      "SVM NPF with all bits but RSVD is npf");
	/* Other exits ignore the error code. */
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, SVM_EXIT_CPUID, 8) ==
	      KVMW_CAT_CPUID, "error code ignored for SVM CPUID");
	CHECK(kvmw_npf_category(KVMW_VENDOR_VMX, EXIT_REASON_EPT_VIOLATION, 8) ==
	      KVMW_CAT_NPF, "VMX EPT violation stays npf");
	CHECK(kvmw_npf_category(KVMW_VENDOR_VMX, EXIT_REASON_EPT_MISCONFIG, 0) ==
	      KVMW_CAT_MMIO, "VMX EPT misconfig is mmio");
	CHECK(kvmw_npf_category(KVMW_VENDOR_VMX, SVM_EXIT_NPF, 8) ==
	      KVMW_CAT_OTHER, "0x400 is no VMX reason");
	CHECK(kvmw_npf_category(KVMW_VENDOR_SVM, KVMW_REASON_UNDECODED, 8) ==
	      KVMW_CAT_OTHER, "undecoded stays other");
}

static void check_names(void)
{
	static const char * const want[] = {
		"io", "mmio", "halt", "interrupt", "ipi_apic", "npf", "msr",
		"cpuid", "cr_dr", "hypercall", "pause", "exception", "other",
	};
	bool ok = true, unique = true;
	unsigned int i, k;

	/* The values are ABI: spelled out one by one. */
	CHECK(KVMW_CAT_IO == 0 && KVMW_CAT_MMIO == 1 && KVMW_CAT_HALT == 2 &&
	      KVMW_CAT_INTERRUPT == 3 && KVMW_CAT_IPI_APIC == 4 &&
	      KVMW_CAT_NPF == 5 && KVMW_CAT_MSR == 6 && KVMW_CAT_CPUID == 7 &&
	      KVMW_CAT_CR_DR == 8 && KVMW_CAT_HYPERCALL == 9 &&
	      KVMW_CAT_PAUSE == 10 && KVMW_CAT_EXCEPTION == 11 &&
	      KVMW_CAT_OTHER == 12, "category values are stable");
	CHECK_U64(KVMW_NR_CATEGORIES, 13, "13 categories");
	CHECK_U64(ARRAY_SIZE(want), KVMW_NR_CATEGORIES,
		  "a name expected per category");

	for (i = 0; i < KVMW_NR_CATEGORIES && i < ARRAY_SIZE(want); i++) {
		const char *n = kvmw_category_name(i);

		if (!n || !n[0] || strcmp(n, want[i])) {
			ok = false;
			tap_diag("category %u: '%s', want '%s'", i,
				 n ? n : "(null)", want[i]);
			continue;
		}
		for (k = 0; k < i; k++) {
			if (!strcmp(n, kvmw_category_name(k)))
				unique = false;
		}
	}
	CHECK(ok, "category names non-empty and as documented");
	CHECK(unique, "category names unique");
	CHECK(!kvmw_category_name(KVMW_NR_CATEGORIES) &&
	      !kvmw_category_name(0xffffffff), "no name past the last");
}

void test_categories(void)
{
	tap_diag("categories");
	check_names();
	check_vmx_numbers();
	check_svm_numbers();
	check_vendor_table(KVMW_VENDOR_VMX, vmx_expect, ARRAY_SIZE(vmx_expect));
	check_vendor_table(KVMW_VENDOR_SVM, svm_expect, ARRAY_SIZE(svm_expect));
	check_off_table();
	check_npf();
}
