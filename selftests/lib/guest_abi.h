/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Contract between the guest programs (guest.S) and the host side of the
 * selftest library (kvm_util.c). Only preprocessor constants, so that the
 * file can be included from assembly and from C.
 *
 * Guest physical memory of every test VM (guest virtual == guest physical,
 * identity mapped with 2 MiB guest pages over the first 1 GiB):
 *
 *   0x000000  unused page
 *   0x001000  GDT
 *   0x002000  IDT (32 exception gates)
 *   0x003000  TSS
 *   0x004000  PML4, 0x005000 PDPT, 0x006000 PD (2 MiB pages, 0 - 1 GiB)
 *   0x010000  guest code (the whole blob of guest.S, at most 64 KiB)
 *   0x020000  per-vCPU areas, 16 KiB each: one argument page, then the
 *             stack (three pages, growing down from the end of the area)
 *   0x100000  end of the "system region": everything above is the data
 *             region, handed out to vCPUs for fresh pages and flags
 *   0x200000  start of the data region
 *   ...       end of the memory slot (vm_create()'s mem_size)
 *   0x30000000 GUEST_MMIO_GPA: no memory slot, accesses exit as MMIO
 */
#ifndef KVMW_SELFTEST_GUEST_ABI_H
#define KVMW_SELFTEST_GUEST_ABI_H

#define GUEST_PAGE_SIZE		0x1000
#define GUEST_GDT_GPA		0x1000
#define GUEST_IDT_GPA		0x2000
#define GUEST_TSS_GPA		0x3000
#define GUEST_PML4_GPA		0x4000
#define GUEST_PDPT_GPA		0x5000
#define GUEST_PD_GPA		0x6000
#define GUEST_CODE_GPA		0x10000
#define GUEST_CODE_MAX		0x10000
#define GUEST_VCPU_AREA_GPA	0x20000
#define GUEST_VCPU_AREA_SIZE	0x4000
#define GUEST_MAX_VCPUS		16
#define GUEST_SYS_END		0x100000
#define GUEST_DATA_GPA		0x200000
#define GUEST_MMIO_GPA		0x30000000
/*
 * Distance between the fresh pages of one program: 8 pages, so that no two
 * of them share an aligned group of 8 page table entries (KVM's shadow MMU,
 * used when the TDP MMU is off, maps up to 8 neighbouring present pages
 * around a faulting one in advance).
 */
#define GUEST_PAGE_STRIDE	0x8000
#define GUEST_MAP_END		0x40000000

/* GDT selectors */
#define GUEST_SEL_CODE		0x08
#define GUEST_SEL_DATA		0x10
#define GUEST_SEL_TSS		0x18

/*
 * I/O ports. All are outside the ranges KVM's in-kernel devices claim
 * (PIC 0x20/0xa0, PIT 0x40-0x43/0x61, ELCR 0x4d0), so a write to them
 * exits to userspace unless an ioeventfd is registered on it.
 */
/* "done": last instruction of every program, the host stops the vCPU */
#define GUEST_PORT_DONE		0xf1
/* guest-side assert: EAX = failure code, details in RBX/RCX/RDX */
#define GUEST_PORT_FAIL		0xf2
/* phase marker: AL = phase number, the host reruns after its hook */
#define GUEST_PORT_PHASE	0xf3
/* ordinary port I/O to userspace */
#define GUEST_PORT_USER		0xf4
/* port with a KVM_IOEVENTFD registered: handled in the kernel */
#define GUEST_PORT_KERNEL	0xf5
/* master PIC interrupt mask register: in-kernel with KVM_CREATE_IRQCHIP */
#define GUEST_PORT_PIC_IMR	0x21

/*
 * MSR used by the MSR programs: IA32_UCODE_REV (0x8b). KVM intercepts it
 * on both SVM (not in the MSR permission map's pass-through list) and VMX
 * (not in the MSR bitmap's pass-through list) and handles it entirely in
 * kvm_{get,set}_msr_common(): a read returns the vCPU's microcode version,
 * a guest write is accepted and ignored. No side effect at all.
 */
#define GUEST_MSR		0x8b

/* A hypercall number KVM does not know: it returns -KVM_ENOSYS in RAX. */
#define GUEST_HCALL_NR		0x4b574e00
#define GUEST_KVM_ENOSYS	1000

/* Value the host returns for MMIO and port reads from the guest. */
#define GUEST_READ_PATTERN	0x4b564d57

/* Phase numbers reported on GUEST_PORT_PHASE. */
#define GUEST_PHASE_MEASURE	1	/* warm-up done, measured part starts */

/* Failure codes (EAX on GUEST_PORT_FAIL). */
#define GUEST_FAIL_HCALL_RET	0x0001	/* RBX = RAX returned by KVM */
#define GUEST_FAIL_READ_DATA	0x0002	/* RBX = value read */
#define GUEST_FAIL_SELFTEST	0x0003	/* deliberate, library self test */
#define GUEST_FAIL_BAD_ARGS	0x0004	/* RBX = offending argument */
#define GUEST_FAIL_EXCEPTION	0xe000	/* | vector; RCX, RDX = stack top */

/* Flag bits of guest_mix_args.flags (offset GM_FLAGS). */
#define GUEST_FLAG_SVM		0x1	/* use VMMCALL rather than VMCALL */

/*
 * Argument block of the mixed program, at the start of the vCPU's
 * argument page (pointer in RDI). All fields are 64-bit; byte offsets:
 */
#define GM_N_CPUID		0x00
#define GM_N_HLT		0x08
#define GM_N_PIO_USER		0x10
#define GM_N_PIO_KERNEL		0x18
#define GM_N_MMIO		0x20
#define GM_N_HCALL		0x28
#define GM_N_MSR_READ		0x30
#define GM_N_MSR_WRITE		0x38
#define GM_N_PAGES		0x40
#define GM_N_MAX		0x48	/* max of the counts above */
#define GM_DATA_GPA		0x50	/* first fresh page */
#define GM_STRIDE		0x58	/* distance between fresh pages */
#define GM_MMIO_GPA		0x60
#define GM_FLAGS		0x68
#define GM_SIZE			0x70

/*
 * Page of the category storm (guest_prog_cat_spin, address in RSI): the
 * host's stop flag, the operations per round of each kind (read again every
 * round, so the host may change the mix while the guest runs) and the
 * guest's own count of each kind of operation it completed. All 64-bit.
 */
#define GCS_STOP		0x00
#define GCS_N_IO		0x08	/* OUTs to GUEST_PORT_KERNEL per round */
#define GCS_N_MSR		0x10	/* RDMSRs of GUEST_MSR per round */
#define GCS_N_CPUID		0x18	/* CPUIDs per round */
#define GCS_IO_DONE		0x20
#define GCS_MSR_DONE		0x28
#define GCS_CPUID_DONE		0x30
#define GCS_ROUNDS		0x38
#define GCS_SIZE		0x40

#endif /* KVMW_SELFTEST_GUEST_ABI_H */
