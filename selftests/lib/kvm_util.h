/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal KVM userspace for the kvmwarden selftests: VMs with one memory
 * slot, vCPUs in 64-bit long mode running the guest programs of guest.S,
 * one host thread per vCPU, and KVM's own statistics for cross-checks.
 *
 * Errors of the KVM ioctls are reported on stderr (as TAP comments) and
 * returned (NULL or -errno); nothing in here aborts the process, so the
 * tests decide with ASSERT_* what a failure means.
 */
#ifndef KVMW_SELFTEST_KVM_UTIL_H
#define KVMW_SELFTEST_KVM_UTIL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest_abi.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define KVM_DEV_PATH		"/dev/kvm"
#define KVM_UTIL_MAX_VCPUS	GUEST_MAX_VCPUS
/* KVM_EXIT_* values counted individually in struct vcpu_result */
#define KVM_UTIL_NR_EXIT_CODES	64

enum kvm_vendor {
	KVM_VENDOR_UNKNOWN = 0,
	KVM_VENDOR_VMX = 1,	/* same values as KVMW_VENDOR_* */
	KVM_VENDOR_SVM = 2,
};

/* The guest programs of guest.S. */
enum guest_prog {
	GUEST_PROG_CPUID,	/* CPUID x n */
	GUEST_PROG_HLT,		/* HLT x n (needs no in-kernel irqchip) */
	GUEST_PROG_PIO_USER,	/* OUT to GUEST_PORT_USER x n: to userspace */
	GUEST_PROG_PIO_USER_IN,	/* IN from GUEST_PORT_USER x n: to userspace */
	GUEST_PROG_PIO_KERNEL,	/* OUT to the ioeventfd port x n: in kernel */
	GUEST_PROG_PIO_PIC,	/* IN from the PIC's IMR x n: in kernel */
	GUEST_PROG_MMIO_WRITE,	/* 4-byte MMIO write x n: to userspace */
	GUEST_PROG_MMIO_READ,	/* 4-byte MMIO read x n: to userspace */
	GUEST_PROG_HYPERCALL,	/* unknown hypercall x n: in kernel */
	GUEST_PROG_MSR_READ,	/* RDMSR GUEST_MSR x n: in kernel */
	GUEST_PROG_MSR_WRITE,	/* WRMSR GUEST_MSR x n: in kernel */
	GUEST_PROG_PAGES,	/* first touch of n fresh pages */
	GUEST_PROG_CPUID_SPIN,	/* CPUID batches of n until stopped */
	GUEST_PROG_FAIL,	/* guest-side failure report (self test) */
	GUEST_PROG_UD,		/* #UD in the guest (self test) */
	GUEST_PROG_MIXED,	/* several kinds, see struct guest_mix */
	GUEST_NR_PROGS,
};

/**
 * struct guest_mix - counts of the mixed program
 *
 * Round i = 0 .. max-1 of the program does one operation of each kind
 * whose count is above i, so the kinds interleave.
 */
struct guest_mix {
	uint64_t cpuid;
	uint64_t hlt;		/* needs a VM without in-kernel irqchip */
	uint64_t pio_user;	/* OUT to GUEST_PORT_USER */
	uint64_t pio_kernel;	/* OUT to GUEST_PORT_KERNEL (ioeventfd) */
	uint64_t mmio;		/* 4-byte MMIO writes to GUEST_MMIO_GPA */
	uint64_t hypercall;
	uint64_t msr_read;
	uint64_t msr_write;
	uint64_t pages;		/* first touches of fresh pages */
};

/* KVM statistics read by vcpu_stats_read(), see struct vcpu_stats. */
enum vcpu_stat_id {
	VCPU_STAT_EXITS,
	VCPU_STAT_IO_EXITS,
	VCPU_STAT_HALT_EXITS,
	VCPU_STAT_MMIO_EXITS,
	VCPU_STAT_IRQ_EXITS,
	VCPU_STAT_HYPERCALLS,
	VCPU_STAT_PF_TAKEN,
	VCPU_STAT_PF_FIXED,
	VCPU_STAT_SIGNAL_EXITS,
	VCPU_STAT_INSN_EMULATION,
	VCPU_NR_STATS,
};

/**
 * struct vcpu_stats - a set of KVM's per-vCPU statistics at one moment
 * @val: values, indexed by enum vcpu_stat_id
 * @valid: the statistic exists on this kernel
 */
struct vcpu_stats {
	uint64_t val[VCPU_NR_STATS];
	bool valid[VCPU_NR_STATS];
};

extern const char *const vcpu_stat_names[VCPU_NR_STATS];

/**
 * struct vcpu_result - what the host saw while running a vCPU
 * @done: the guest reached GUEST_PORT_DONE
 * @failed: guest-side failure, unexpected exit or ioctl error
 * @msg: description of the failure
 * @fail_code: EAX of a guest failure report (GUEST_FAIL_*)
 * @user_exits: exits to userspace by KVM_EXIT_* (below 64)
 * @kvm_runs: KVM_RUN calls that returned (exits to userspace, EINTR)
 * @pio_user_out: OUTs to GUEST_PORT_USER
 * @pio_user_in: INs from GUEST_PORT_USER
 * @pio_other: port accesses to any other port that reached userspace
 * @mmio_write: MMIO writes to GUEST_MMIO_GPA
 * @mmio_read: MMIO reads from GUEST_MMIO_GPA
 * @mmio_other: MMIO to other addresses
 * @hlt: KVM_EXIT_HLT exits
 * @phases: phase reports seen
 * @data_errors: OUT/MMIO write data that did not match the program
 * @phase_stats: KVM statistics at the GUEST_PHASE_MEASURE report
 * @end_stats: KVM statistics when the vCPU stopped
 */
struct vcpu_result {
	bool done;
	bool failed;
	char msg[512];
	uint32_t fail_code;
	uint64_t user_exits[KVM_UTIL_NR_EXIT_CODES];
	uint64_t kvm_runs;
	uint64_t pio_user_out;
	uint64_t pio_user_in;
	uint64_t pio_other;
	uint64_t mmio_write;
	uint64_t mmio_read;
	uint64_t mmio_other;
	uint64_t hlt;
	uint64_t phases;
	uint64_t data_errors;
	struct vcpu_stats phase_stats;
	struct vcpu_stats end_stats;
};

/**
 * struct guest_expect - exits a loaded program must cause after its
 *	GUEST_PHASE_MEASURE report (deterministic ones only)
 * @cpuid: CPUID exits
 * @hlt: HLT exits (each also a KVM_EXIT_HLT)
 * @pio_user_out: OUTs to userspace (KVM_EXIT_IO), the done report excluded
 * @pio_user_in: INs from userspace (KVM_EXIT_IO)
 * @pio_kernel: port I/O exits completed in the kernel (ioeventfd, PIC)
 * @mmio_write: MMIO writes to userspace (KVM_EXIT_MMIO)
 * @mmio_read: MMIO reads from userspace (KVM_EXIT_MMIO)
 * @hypercall: VMMCALL/VMCALL exits
 * @msr_read: RDMSR exits
 * @msr_write: WRMSR exits
 * @pages: nested page faults (EPT violations) on fresh pages
 * @io: all port I/O exits, including the done report
 * @user_io: KVM_EXIT_IO exits of the whole run (phase and done included)
 * @mmio: MMIO exits (reads and writes)
 * @total: all exits above (io counted once)
 */
struct guest_expect {
	uint64_t cpuid;
	uint64_t hlt;
	uint64_t pio_user_out;
	uint64_t pio_user_in;
	uint64_t pio_kernel;
	uint64_t mmio_write;
	uint64_t mmio_read;
	uint64_t hypercall;
	uint64_t msr_read;
	uint64_t msr_write;
	uint64_t pages;
	uint64_t io;
	uint64_t user_io;
	uint64_t mmio;
	uint64_t total;
};

struct kvm_vm;
struct kvm_vcpu;

/*
 * Called on the vCPU's thread at each phase report, after the library has
 * recorded vcpu_result.phase_stats and before the vCPU runs on.
 */
typedef void (*vcpu_phase_fn)(struct kvm_vcpu *vcpu, unsigned int phase,
			      void *arg);

/**
 * struct kvm_vcpu - one vCPU
 * @vm: its VM
 * @id: KVM vCPU id (0, 1, ... in creation order)
 * @fd: vCPU file descriptor
 * @run: the mmap()ed struct kvm_run
 * @run_size: size of the mapping
 * @stats_fd: KVM_GET_STATS_FD descriptor, -1 until first used
 * @prog: program loaded by vcpu_load_prog()
 * @n: its count
 * @mix: counts of the mixed program
 * @data_gpa: fresh pages or flag handed to the program (0 if none)
 * @tid: thread id of the thread that runs the vCPU (0 before)
 * @thread: its pthread when started with vcpu_start()
 * @started: vcpu_start() created the thread
 * @phase_fn: optional phase hook
 * @phase_arg: its argument
 * @res: outcome, valid after vcpu_run() / vcpu_join()
 */
struct kvm_vcpu {
	struct kvm_vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	int stats_fd;
	enum guest_prog prog;
	uint64_t n;
	struct guest_mix mix;
	uint64_t data_gpa;
	pid_t tid;
	pthread_t thread;
	bool started;
	vcpu_phase_fn phase_fn;
	void *phase_arg;
	struct vcpu_result res;
	/* private */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t progress;
	int finished;
	void *stats_desc;
	size_t stats_desc_size;
	uint32_t stats_num_desc;
	uint32_t stats_data_offset;
	uint32_t stats_name_size;
};

/**
 * struct vm_opts - parameters of vm_create()
 * @mem_size: bytes of guest memory from GPA 0 (0: 64 MiB). Only pages the
 *	guest touches are ever allocated on the host.
 * @irqchip: create the in-kernel irqchip (PIC, IOAPIC, local APICs); then
 *	HLT no longer exits to userspace
 */
struct vm_opts {
	uint64_t mem_size;
	bool irqchip;
};

/**
 * struct kvm_vm - one VM
 * @fd: VM file descriptor
 * @creator_tid: thread that created it (names its debugfs directory)
 * @mem: host address of guest physical address 0
 * @mem_size: size of the memory slot
 * @irqchip: in-kernel irqchip created
 * @vendor: KVM_VENDOR_* used for the guest's hypercall instruction
 * @eventfd: eventfd of the ioeventfd on GUEST_PORT_KERNEL, -1 before
 * @run_size: size of a vCPU's kvm_run mapping
 * @cpuid: KVM_GET_SUPPORTED_CPUID, given to every vCPU
 * @data_next: next free GPA of the data region
 * @nr_vcpus: vCPUs created
 * @vcpus: the vCPUs
 */
struct kvm_vm {
	int fd;
	pid_t creator_tid;
	void *mem;
	uint64_t mem_size;
	bool irqchip;
	enum kvm_vendor vendor;
	int eventfd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	uint64_t data_next;
	int nr_vcpus;
	struct kvm_vcpu *vcpus[KVM_UTIL_MAX_VCPUS];
};

int kvm_open(void);
bool kvm_available(void);
enum kvm_vendor kvm_host_vendor(void);
const char *kvm_vendor_name(enum kvm_vendor vendor);
pid_t kvm_gettid(void);

struct kvm_vm *vm_create(const struct vm_opts *opts);
void vm_destroy(struct kvm_vm *vm);
void *vm_gpa_to_hva(struct kvm_vm *vm, uint64_t gpa);
uint64_t vm_alloc_data(struct kvm_vm *vm, uint64_t size);
int vm_enable_kernel_pio(struct kvm_vm *vm);
int64_t vm_kernel_pio_count(struct kvm_vm *vm);
int vm_debugfs_stat(struct kvm_vm *vm, const char *name, uint64_t *val);

struct kvm_vcpu *vcpu_add(struct kvm_vm *vm);
int vcpu_load_prog(struct kvm_vcpu *vcpu, enum guest_prog prog, uint64_t n);
int vcpu_load_mixed(struct kvm_vcpu *vcpu, const struct guest_mix *mix);
void vcpu_set_phase_hook(struct kvm_vcpu *vcpu, vcpu_phase_fn fn, void *arg);
int vcpu_run(struct kvm_vcpu *vcpu);
int vcpu_start(struct kvm_vcpu *vcpu);
int vcpu_join(struct kvm_vcpu *vcpu);
void vcpu_spin_stop(struct kvm_vcpu *vcpu);
uint64_t vcpu_spin_batches(struct kvm_vcpu *vcpu);
bool vcpu_finished(struct kvm_vcpu *vcpu);

int kvm_vcpu_stat(struct kvm_vcpu *vcpu, const char *name, uint64_t *val);
void vcpu_stats_read(struct kvm_vcpu *vcpu, struct vcpu_stats *s);

void guest_expect(const struct kvm_vcpu *vcpu, struct guest_expect *e);
const char *guest_prog_name(enum guest_prog prog);
const char *kvm_exit_name(uint32_t exit_reason);

#endif /* KVMW_SELFTEST_KVM_UTIL_H */
