/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs of the kvmwarden selftests.
 *
 * Everything between guest_blob_start and guest_blob_end is copied as one
 * block to GUEST_CODE_GPA in every test VM and runs there in 64-bit long
 * mode at CPL 0 with interrupts disabled. The code is position independent
 * (only relative jumps and calls, no absolute addresses), so it runs at any
 * address. The host starts a vCPU at one of the guest_prog_* entry points,
 * with the registers below set through KVM_SET_REGS:
 *
 *   RDI  count N (the mixed program: address of its argument block)
 *   RSI  first parameter (port, address, MSR index, hypercall number)
 *   RDX  second parameter (page stride, vendor flag, value)
 *   R15  end of the system region, for guest_warmup
 *   RSP  top of the vCPU's own stack
 *
 * Every program first calls guest_warmup, which touches each page of the
 * system region and then reports GUEST_PHASE_MEASURE, then does exactly
 * what its description says and nothing else that exits, and ends with one
 * OUT to GUEST_PORT_DONE.
 */
#include "guest_abi.h"

	.section .rodata.kvmw_guest, "a"
	.code64
	.balign GUEST_PAGE_SIZE
	.globl guest_blob_start
guest_blob_start:

/*
 * Exception stubs, one per vector 0-31, 16 bytes apart; the IDT built by
 * the host points at guest_exc_stubs + 16 * vector. A vector with an error
 * code leaves it on the stack under the vector number: the failure report
 * gives the two stack words above the vector, which are (error code, RIP)
 * or (RIP, CS) depending on the vector.
 */
	.balign 16
	.globl guest_exc_stubs
guest_exc_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	pushq $vec
	jmp guest_exc_common
	.set vec, vec + 1
	.endr

guest_exc_common:
	popq %rbx
	movq (%rsp), %rcx
	movq 8(%rsp), %rdx
	movl $GUEST_FAIL_EXCEPTION, %eax
	orl %ebx, %eax
	jmp guest_fail

/*
 * guest_fail - report a guest-side failure, EAX = code. Never returns: the
 * host stops the vCPU at this exit; should it run it again, the report is
 * repeated.
 */
guest_fail:
	outl %eax, $GUEST_PORT_FAIL
	jmp guest_fail

/* guest_done - report success; like guest_fail, never returns. */
guest_done:
	xorl %eax, %eax
	outb %al, $GUEST_PORT_DONE
	jmp guest_done

/*
 * guest_warmup - map every page of the system region [0, R15).
 *
 * On the first access to a guest physical page, the CPU exits with a
 * nested page fault (SVM_EXIT_NPF) or EPT violation so that KVM can map the
 * page in the NPT/EPT. The pages a program needs besides its measured work
 * are: this code, the vCPU's stack and argument page, the guest page tables
 * (read, and written for accessed/dirty bits, by the page walker on TLB
 * misses), the GDT, IDT and TSS. All of them are in the system region; a
 * locked OR of zero is a write that changes nothing, so each page is mapped
 * writable (read-only mappings of never-written host pages would fault a
 * second time on the first write). After this, the measured part of a
 * program faults only on the pages it touches on purpose. Another vCPU of
 * the same VM may have mapped some of the pages already, then this vCPU
 * does not fault on them: only the measured part is exact.
 *
 * Reports GUEST_PHASE_MEASURE when done. Clobbers RAX and RCX.
 */
guest_warmup:
	xorl %ecx, %ecx
1:	lock orb $0, (%rcx)
	addq $GUEST_PAGE_SIZE, %rcx
	cmpq %r15, %rcx
	jb 1b
	movb $GUEST_PHASE_MEASURE, %al
	outb %al, $GUEST_PORT_PHASE
	ret

/* CPUID (leaf 0) x N: N exits SVM_EXIT_CPUID / EXIT_REASON_CPUID. */
	.globl guest_prog_cpuid
guest_prog_cpuid:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
1:	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * HLT x N, interrupts disabled. Without an in-kernel irqchip every HLT
 * exits to userspace (KVM_EXIT_HLT) with RIP past the HLT.
 */
	.globl guest_prog_hlt
guest_prog_hlt:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
1:	hlt
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * OUT of one byte to port RSI, x N. The byte is the number of writes still
 * to go including this one (N, N-1, ..., 1), truncated to 8 bits.
 */
	.globl guest_prog_pio_out
guest_prog_pio_out:
	call guest_warmup
	movq %rdi, %r8
	movl %esi, %edx
	testq %r8, %r8
	jz 2f
1:	movl %r8d, %eax
	outb %al, %dx
	decq %r8
	jnz 1b
2:	jmp guest_done

/* IN of one byte from port RSI, x N. Nothing is checked. */
	.globl guest_prog_pio_in
guest_prog_pio_in:
	call guest_warmup
	movq %rdi, %r8
	movl %esi, %edx
	testq %r8, %r8
	jz 2f
1:	inb %dx, %al
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * 4-byte MMIO write to address RSI, x N, of the number of writes still to
 * go (N, N-1, ..., 1).
 */
	.globl guest_prog_mmio_write
guest_prog_mmio_write:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
1:	movl %r8d, (%rsi)
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * 4-byte MMIO read from address RSI, x N; each value must be
 * GUEST_READ_PATTERN, else GUEST_FAIL_READ_DATA.
 */
	.globl guest_prog_mmio_read
guest_prog_mmio_read:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
1:	movl (%rsi), %eax
	cmpl $GUEST_READ_PATTERN, %eax
	jne 3f
	decq %r8
	jnz 1b
2:	jmp guest_done
3:	movl %eax, %ebx
	movl $GUEST_FAIL_READ_DATA, %eax
	jmp guest_fail

/*
 * Hypercall number RSI x N, with VMMCALL when RDX & GUEST_FLAG_SVM, else
 * VMCALL (the other vendor's instruction would be a #UD that KVM patches).
 * Arguments (RBX, RCX, RDX, RSI) are whatever the registers hold; KVM must
 * answer -KVM_ENOSYS in RAX, else GUEST_FAIL_HCALL_RET.
 */
	.globl guest_prog_hypercall
guest_prog_hypercall:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
	testq $GUEST_FLAG_SVM, %rdx
	jz 4f
1:	movq %rsi, %rax
	vmmcall
	cmpq $-GUEST_KVM_ENOSYS, %rax
	jne 3f
	decq %r8
	jnz 1b
2:	jmp guest_done
4:	movq %rsi, %rax
	vmcall
	cmpq $-GUEST_KVM_ENOSYS, %rax
	jne 3f
	decq %r8
	jnz 4b
	jmp guest_done
3:	movq %rax, %rbx
	movl $GUEST_FAIL_HCALL_RET, %eax
	jmp guest_fail

/* RDMSR of MSR RSI x N. */
	.globl guest_prog_msr_read
guest_prog_msr_read:
	call guest_warmup
	movq %rdi, %r8
	movl %esi, %ecx
	testq %r8, %r8
	jz 2f
1:	rdmsr
	decq %r8
	jnz 1b
2:	jmp guest_done

/* WRMSR of value RDX to MSR RSI x N. */
	.globl guest_prog_msr_write
guest_prog_msr_write:
	call guest_warmup
	movq %rdi, %r8
	movq %rdx, %r9
	movl %esi, %ecx
	testq %r8, %r8
	jz 2f
1:	movl %r9d, %eax
	movq %r9, %rdx
	shrq $32, %rdx
	wrmsr
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * Write 8 bytes at the start of N fresh pages RSI, RSI + RDX, ... The host
 * hands out pages nobody touched, so each write is the first access to its
 * page: exactly one NPF / EPT violation per page.
 */
	.globl guest_prog_touch_pages
guest_prog_touch_pages:
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 2f
1:	movq %r8, (%rsi)
	addq %rdx, %rsi
	decq %r8
	jnz 1b
2:	jmp guest_done

/*
 * CPUID as fast as possible until the host sets the 64-bit flag at RSI:
 * batches of N CPUIDs, each followed by an OUT to GUEST_PORT_USER (so that
 * the vCPU regularly returns to userspace and enters KVM_RUN again) and a
 * look at the flag. The flag page is touched before the phase report.
 */
	.globl guest_prog_cpuid_spin
guest_prog_cpuid_spin:
	lock orb $0, (%rsi)
	call guest_warmup
	movq %rdi, %r8
	testq %r8, %r8
	jz 5f
1:	movq %r8, %r9
2:	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
	decq %r9
	jnz 2b
	xorl %eax, %eax
	outb %al, $GUEST_PORT_USER
	cmpq $0, (%rsi)
	je 1b
	jmp guest_done
5:	movq %r8, %rbx
	movl $GUEST_FAIL_BAD_ARGS, %eax
	jmp guest_fail

/* Deliberate guest failure, to test the reporting path. */
	.globl guest_prog_fail
guest_prog_fail:
	call guest_warmup
	movq %rdi, %rbx
	movl $GUEST_FAIL_SELFTEST, %eax
	jmp guest_fail

/* Deliberate #UD exception, to test the exception reporting path. */
	.globl guest_prog_ud
guest_prog_ud:
	call guest_warmup
	ud2
	jmp guest_done

/*
 * The mixed program: RDI points to the argument block (GM_* offsets of
 * guest_abi.h). Round i = 0 .. n_max-1 does one operation of each kind
 * whose count is above i, in a fixed order, so the kinds interleave:
 * CPUID, HLT, OUT to GUEST_PORT_USER, OUT to GUEST_PORT_KERNEL, 4-byte
 * MMIO write, hypercall, RDMSR, WRMSR (of zero), write to fresh page i.
 * The block pointer lives in RBP, the round in R12.
 */
	.globl guest_prog_mixed
guest_prog_mixed:
	call guest_warmup
	movq %rdi, %rbp
	xorl %r12d, %r12d
	movq GM_DATA_GPA(%rbp), %r13
	movq GM_MMIO_GPA(%rbp), %r14
1:	cmpq GM_N_MAX(%rbp), %r12
	jae 20f

	cmpq GM_N_CPUID(%rbp), %r12
	jae 2f
	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
2:	cmpq GM_N_HLT(%rbp), %r12
	jae 3f
	hlt
3:	cmpq GM_N_PIO_USER(%rbp), %r12
	jae 4f
	movl %r12d, %eax
	outb %al, $GUEST_PORT_USER
4:	cmpq GM_N_PIO_KERNEL(%rbp), %r12
	jae 5f
	movl %r12d, %eax
	outb %al, $GUEST_PORT_KERNEL
5:	cmpq GM_N_MMIO(%rbp), %r12
	jae 6f
	movl %r12d, (%r14)
6:	cmpq GM_N_HCALL(%rbp), %r12
	jae 8f
	movq $GUEST_HCALL_NR, %rax
	testq $GUEST_FLAG_SVM, GM_FLAGS(%rbp)
	jz 7f
	vmmcall
	jmp 71f
7:	vmcall
71:	cmpq $-GUEST_KVM_ENOSYS, %rax
	jne 30f
8:	cmpq GM_N_MSR_READ(%rbp), %r12
	jae 9f
	movl $GUEST_MSR, %ecx
	rdmsr
9:	cmpq GM_N_MSR_WRITE(%rbp), %r12
	jae 10f
	movl $GUEST_MSR, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
10:	cmpq GM_N_PAGES(%rbp), %r12
	jae 11f
	movq %r12, (%r13)
	addq GM_STRIDE(%rbp), %r13
11:	incq %r12
	jmp 1b

20:	jmp guest_done
30:	movq %rax, %rbx
	movl $GUEST_FAIL_HCALL_RET, %eax
	jmp guest_fail

/*
 * Category storm until the host sets the flag at RSI + GCS_STOP: rounds of
 * GCS_N_IO OUTs to GUEST_PORT_KERNEL, GCS_N_MSR RDMSRs of GUEST_MSR and
 * GCS_N_CPUID CPUIDs (counts read from the page at RSI every round), each
 * operation followed by an increment of its GCS_*_DONE counter there, so
 * the host can count the guest's exits of each kind without KVM or
 * kvmwarden. Nothing in the loop exits to userspace (the port has an
 * ioeventfd); the page is touched before the phase report.
 */
	.globl guest_prog_cat_spin
guest_prog_cat_spin:
	lock orb $0, (%rsi)
	call guest_warmup
	movq %rsi, %rbp
1:	movq GCS_N_IO(%rbp), %r8
	testq %r8, %r8
	jz 3f
2:	xorl %eax, %eax
	outb %al, $GUEST_PORT_KERNEL
	incq GCS_IO_DONE(%rbp)
	decq %r8
	jnz 2b
3:	movq GCS_N_MSR(%rbp), %r8
	testq %r8, %r8
	jz 5f
4:	movl $GUEST_MSR, %ecx
	rdmsr
	incq GCS_MSR_DONE(%rbp)
	decq %r8
	jnz 4b
5:	movq GCS_N_CPUID(%rbp), %r8
	testq %r8, %r8
	jz 7f
6:	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
	incq GCS_CPUID_DONE(%rbp)
	decq %r8
	jnz 6b
7:	incq GCS_ROUNDS(%rbp)
	cmpq $0, GCS_STOP(%rbp)
	je 1b
	jmp guest_done

	.globl guest_blob_end
guest_blob_end:

	.section .note.GNU-stack, "", @progbits
