// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal KVM userspace for the kvmwarden selftests, see kvm_util.h.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_util.h"

/* Symbols of guest.S (addresses in the host's copy of the blob). */
extern const char guest_blob_start[], guest_blob_end[];
extern const char guest_exc_stubs[];
extern const char guest_prog_cpuid[], guest_prog_hlt[];
extern const char guest_prog_pio_out[], guest_prog_pio_in[];
extern const char guest_prog_mmio_write[], guest_prog_mmio_read[];
extern const char guest_prog_hypercall[];
extern const char guest_prog_msr_read[], guest_prog_msr_write[];
extern const char guest_prog_touch_pages[], guest_prog_cpuid_spin[];
extern const char guest_prog_fail[], guest_prog_ud[];
extern const char guest_prog_mixed[];

#define DEFAULT_MEM_SIZE	(64ULL << 20)
#define MAX_MEM_SIZE		(512ULL << 20)

/* x86 paging and segment bits */
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

const char *const vcpu_stat_names[VCPU_NR_STATS] = {
	[VCPU_STAT_EXITS] = "exits",
	[VCPU_STAT_IO_EXITS] = "io_exits",
	[VCPU_STAT_HALT_EXITS] = "halt_exits",
	[VCPU_STAT_MMIO_EXITS] = "mmio_exits",
	[VCPU_STAT_IRQ_EXITS] = "irq_exits",
	[VCPU_STAT_HYPERCALLS] = "hypercalls",
	[VCPU_STAT_PF_TAKEN] = "pf_taken",
	[VCPU_STAT_PF_FIXED] = "pf_fixed",
	[VCPU_STAT_SIGNAL_EXITS] = "signal_exits",
	[VCPU_STAT_INSN_EMULATION] = "insn_emulation",
};

static const char *const prog_names[GUEST_NR_PROGS] = {
	[GUEST_PROG_CPUID] = "cpuid",
	[GUEST_PROG_HLT] = "hlt",
	[GUEST_PROG_PIO_USER] = "pio_user",
	[GUEST_PROG_PIO_USER_IN] = "pio_user_in",
	[GUEST_PROG_PIO_KERNEL] = "pio_kernel",
	[GUEST_PROG_PIO_PIC] = "pio_pic",
	[GUEST_PROG_MMIO_WRITE] = "mmio_write",
	[GUEST_PROG_MMIO_READ] = "mmio_read",
	[GUEST_PROG_HYPERCALL] = "hypercall",
	[GUEST_PROG_MSR_READ] = "msr_read",
	[GUEST_PROG_MSR_WRITE] = "msr_write",
	[GUEST_PROG_PAGES] = "pages",
	[GUEST_PROG_CPUID_SPIN] = "cpuid_spin",
	[GUEST_PROG_FAIL] = "fail",
	[GUEST_PROG_UD] = "ud",
	[GUEST_PROG_MIXED] = "mixed",
};

static void kvm_util_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Library diagnostics go to stderr as TAP comments. */
static void kvm_util_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# kvm_util: %s\n", buf);
}

/**
 * kvm_gettid() - thread id of the calling thread
 *
 * Return: the kernel thread id, as kvmwarden reports it.
 */
pid_t kvm_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/**
 * kvm_open() - open /dev/kvm and check the API version
 *
 * Return: a file descriptor, or -errno (-ENOENT when there is no
 * /dev/kvm, -EPROTO for an unexpected KVM_GET_API_VERSION).
 */
int kvm_open(void)
{
	int fd, ver;

	fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/**
 * kvm_available() - whether /dev/kvm can be opened and used
 *
 * Return: true when KVM_CREATE_VM works.
 */
bool kvm_available(void)
{
	int fd, vm;

	fd = kvm_open();
	if (fd < 0)
		return false;
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

/**
 * kvm_host_vendor() - virtualisation extension KVM uses on this host
 *
 * The loaded KVM vendor module decides (kvm_amd: SVM, kvm_intel: VMX);
 * without one of them, the CPU vendor string does (AMD and Hygon CPUs
 * implement SVM, all others VMX).
 *
 * Return: KVM_VENDOR_SVM or KVM_VENDOR_VMX.
 */
enum kvm_vendor kvm_host_vendor(void)
{
	unsigned int eax, ebx, ecx, edx;
	char vendor[13];
	struct stat st;

	if (!stat("/sys/module/kvm_amd", &st))
		return KVM_VENDOR_SVM;
	if (!stat("/sys/module/kvm_intel", &st))
		return KVM_VENDOR_VMX;

	__cpuid(0, eax, ebx, ecx, edx);
	(void)eax;
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = 0;
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		return KVM_VENDOR_SVM;
	return KVM_VENDOR_VMX;
}

/**
 * kvm_vendor_name() - printable name of a vendor
 * @vendor: KVM_VENDOR_*
 *
 * Return: "svm", "vmx" or "unknown".
 */
const char *kvm_vendor_name(enum kvm_vendor vendor)
{
	switch (vendor) {
	case KVM_VENDOR_SVM:
		return "svm";
	case KVM_VENDOR_VMX:
		return "vmx";
	default:
		return "unknown";
	}
}

/**
 * guest_prog_name() - printable name of a guest program
 * @prog: GUEST_PROG_*
 *
 * Return: the name, "?" for an invalid value.
 */
const char *guest_prog_name(enum guest_prog prog)
{
	if ((unsigned int)prog >= GUEST_NR_PROGS)
		return "?";
	return prog_names[prog];
}

/**
 * kvm_exit_name() - printable name of a KVM_EXIT_* code
 * @exit_reason: kvm_run::exit_reason
 *
 * Return: the name, "unknown" for codes not listed.
 */
const char *kvm_exit_name(uint32_t exit_reason)
{
	switch (exit_reason) {
	case KVM_EXIT_UNKNOWN: return "UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "EXCEPTION";
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HYPERCALL: return "HYPERCALL";
	case KVM_EXIT_DEBUG: return "DEBUG";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTR: return "INTR";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
	case KVM_EXIT_X86_RDMSR: return "X86_RDMSR";
	case KVM_EXIT_X86_WRMSR: return "X86_WRMSR";
	default: return "unknown";
	}
}

/* Guest physical page table of the identity map of [0, GUEST_MAP_END). */
static void vm_build_page_tables(struct kvm_vm *vm)
{
	uint64_t *pml4 = vm_gpa_to_hva(vm, GUEST_PML4_GPA);
	uint64_t *pdpt = vm_gpa_to_hva(vm, GUEST_PDPT_GPA);
	uint64_t *pd = vm_gpa_to_hva(vm, GUEST_PD_GPA);
	uint64_t gpa;
	int i;

	/*
	 * Accessed and dirty bits are preset, so that the page walker never
	 * needs to write them (it still reads the tables, hence the warm-up).
	 */
	pml4[0] = GUEST_PDPT_GPA | PTE_P | PTE_RW | PTE_A;
	pdpt[0] = GUEST_PD_GPA | PTE_P | PTE_RW | PTE_A;
	for (i = 0, gpa = 0; gpa < GUEST_MAP_END; i++, gpa += 1ULL << 21)
		pd[i] = gpa | PTE_P | PTE_RW | PTE_PS | PTE_A | PTE_D;
}

/* GDT: null, 64-bit code, data, 64-bit TSS (two slots). */
static void vm_build_gdt_idt(struct kvm_vm *vm)
{
	uint64_t *gdt = vm_gpa_to_hva(vm, GUEST_GDT_GPA);
	uint64_t *idt = vm_gpa_to_hva(vm, GUEST_IDT_GPA);
	uint64_t tss = GUEST_TSS_GPA, limit = 0x67, stubs;
	int v;

	gdt[0] = 0;
	/* base 0, limit 0xfffff, G, L, P, DPL 0, code execute/read accessed */
	gdt[GUEST_SEL_CODE / 8] = 0x00af9b000000ffffULL;
	/* base 0, limit 0xfffff, G, D/B, P, DPL 0, data read/write accessed */
	gdt[GUEST_SEL_DATA / 8] = 0x00cf93000000ffffULL;
	/* available... busy 64-bit TSS (type 0xb), P */
	gdt[GUEST_SEL_TSS / 8] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
				 (0x8bULL << 40) | (((limit >> 16) & 0xf) << 48) |
				 (((tss >> 24) & 0xff) << 56);
	gdt[GUEST_SEL_TSS / 8 + 1] = tss >> 32;

	/* 64-bit interrupt gates, DPL 0, to the stubs of guest.S */
	stubs = GUEST_CODE_GPA + (uint64_t)(guest_exc_stubs - guest_blob_start);
	for (v = 0; v < 32; v++) {
		uint64_t off = stubs + 16 * v;

		idt[2 * v] = (off & 0xffff) | ((uint64_t)GUEST_SEL_CODE << 16) |
			     (0x8eULL << 40) | (((off >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}
}

static struct kvm_cpuid2 *kvm_get_supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 64;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) +
			       nent * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid)
			return NULL;
		cpuid->nent = nent;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			return cpuid;
		free(cpuid);
		if (errno != E2BIG || nent >= 4096) {
			kvm_util_log("KVM_GET_SUPPORTED_CPUID: %s",
				     strerror(errno));
			return NULL;
		}
		nent *= 2;
	}
}

/**
 * vm_create() - create a VM ready for vCPUs running the guest programs
 * @opts: parameters, NULL for the defaults (64 MiB, no irqchip)
 *
 * Creates the VM, one memory slot of anonymous memory at GPA 0 (with
 * MADV_NOHUGEPAGE, so that KVM maps it in 4 KiB pages in the NPT/EPT and
 * every fresh page faults separately), the guest page tables, GDT, IDT and
 * TSS, copies the guest code, and optionally the in-kernel irqchip.
 *
 * Return: the VM, or NULL (the reason is logged, errno is set).
 */
struct kvm_vm *vm_create(const struct vm_opts *opts)
{
	struct vm_opts def = { 0 };
	struct kvm_userspace_memory_region region;
	struct kvm_vm *vm;
	size_t blob = guest_blob_end - guest_blob_start;
	int kvm_fd, ret, err;

	if (!opts)
		opts = &def;
	if (blob > GUEST_CODE_MAX) {
		kvm_util_log("guest code too large (%zu bytes)", blob);
		errno = E2BIG;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->fd = -1;
	vm->eventfd = -1;
	vm->mem = MAP_FAILED;
	vm->mem_size = opts->mem_size ? opts->mem_size : DEFAULT_MEM_SIZE;
	vm->mem_size = (vm->mem_size + 0xfffff) & ~0xfffffULL;
	if (vm->mem_size < 2 * GUEST_DATA_GPA || vm->mem_size > MAX_MEM_SIZE) {
		kvm_util_log("bad guest memory size %" PRIu64, vm->mem_size);
		free(vm);
		errno = EINVAL;
		return NULL;
	}
	vm->data_next = GUEST_DATA_GPA;
	vm->vendor = kvm_host_vendor();
	vm->creator_tid = kvm_gettid();

	kvm_fd = kvm_open();
	if (kvm_fd < 0) {
		kvm_util_log("open %s: %s", KVM_DEV_PATH, strerror(-kvm_fd));
		free(vm);
		errno = -kvm_fd;
		return NULL;
	}
	ret = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run)) {
		kvm_util_log("KVM_GET_VCPU_MMAP_SIZE: %d (%s)", ret,
			     strerror(errno));
		goto fail;
	}
	vm->run_size = ret;
	vm->cpuid = kvm_get_supported_cpuid(kvm_fd);
	if (!vm->cpuid)
		goto fail;
	do {
		vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	} while (vm->fd < 0 && errno == EINTR);
	if (vm->fd < 0) {
		kvm_util_log("KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}

	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		kvm_util_log("mmap guest memory: %s", strerror(errno));
		goto fail;
	}
	if (madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE))
		kvm_util_log("MADV_NOHUGEPAGE: %s (ignored)", strerror(errno));

	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = vm->mem_size;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		kvm_util_log("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		goto fail;
	}

	/*
	 * Intel without unrestricted guest needs a TSS area for real mode;
	 * the guests never leave long mode, but set it like any VMM does.
	 */
	if (vm->vendor == KVM_VENDOR_VMX &&
	    ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL))
		kvm_util_log("KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));

	if (opts->irqchip) {
		if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0)) {
			kvm_util_log("KVM_CREATE_IRQCHIP: %s", strerror(errno));
			goto fail;
		}
		vm->irqchip = true;
	}

	vm_build_page_tables(vm);
	vm_build_gdt_idt(vm);
	memcpy(vm_gpa_to_hva(vm, GUEST_CODE_GPA), guest_blob_start, blob);
	close(kvm_fd);
	return vm;

fail:
	err = errno ? errno : EINVAL;
	close(kvm_fd);
	vm_destroy(vm);
	errno = err;
	return NULL;
}

static void vcpu_free(struct kvm_vcpu *vcpu)
{
	if (vcpu->run && vcpu->run != MAP_FAILED)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->stats_fd >= 0)
		close(vcpu->stats_fd);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu->stats_desc);
	pthread_mutex_destroy(&vcpu->lock);
	pthread_cond_destroy(&vcpu->cond);
	free(vcpu);
}

/**
 * vm_destroy() - close all file descriptors of a VM and free it
 * @vm: the VM (NULL is allowed); its vCPU threads must have been joined
 *
 * KVM destroys the VM once the last reference (VM fd, vCPU fds, stats
 * fds) is gone.
 */
void vm_destroy(struct kvm_vm *vm)
{
	int i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	if (vm->eventfd >= 0)
		close(vm->eventfd);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->mem != MAP_FAILED)
		munmap(vm->mem, vm->mem_size);
	free(vm->cpuid);
	free(vm);
}

/**
 * vm_gpa_to_hva() - host address of guest physical memory
 * @vm: the VM
 * @gpa: guest physical address inside the memory slot
 *
 * Return: the host address, NULL outside the slot.
 */
void *vm_gpa_to_hva(struct kvm_vm *vm, uint64_t gpa)
{
	if (gpa >= vm->mem_size)
		return NULL;
	return (char *)vm->mem + gpa;
}

/**
 * vm_alloc_data() - reserve fresh guest memory in the data region
 * @vm: the VM
 * @size: bytes, rounded up to whole pages
 *
 * The pages are never touched by the library, so the guest's first access
 * to each of them faults in the NPT/EPT.
 *
 * Return: the guest physical address, 0 when the slot is full.
 */
uint64_t vm_alloc_data(struct kvm_vm *vm, uint64_t size)
{
	uint64_t gpa = vm->data_next;

	size = (size + GUEST_PAGE_SIZE - 1) & ~(uint64_t)(GUEST_PAGE_SIZE - 1);
	if (!size)
		size = GUEST_PAGE_SIZE;
	if (gpa + size > vm->mem_size || gpa + size < gpa) {
		kvm_util_log("guest data region full (%" PRIu64 " bytes asked)",
			     size);
		return 0;
	}
	vm->data_next += size;
	return gpa;
}

/**
 * vm_enable_kernel_pio() - make GUEST_PORT_KERNEL an in-kernel port
 * @vm: the VM
 *
 * Registers an eventfd with KVM_IOEVENTFD for writes of any size to
 * GUEST_PORT_KERNEL: KVM completes such an OUT in the kernel by signalling
 * the eventfd, without exiting to userspace. Idempotent.
 *
 * Return: 0 or -errno.
 */
int vm_enable_kernel_pio(struct kvm_vm *vm)
{
	struct kvm_ioeventfd ioev;
	int efd;

	if (vm->eventfd >= 0)
		return 0;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	memset(&ioev, 0, sizeof(ioev));
	ioev.addr = GUEST_PORT_KERNEL;
	ioev.len = 0;		/* any access size */
	ioev.fd = efd;
	ioev.flags = KVM_IOEVENTFD_FLAG_PIO;
	if (ioctl(vm->fd, KVM_IOEVENTFD, &ioev)) {
		int err = errno;

		kvm_util_log("KVM_IOEVENTFD: %s", strerror(err));
		close(efd);
		return -err;
	}
	vm->eventfd = efd;
	return 0;
}

/**
 * vm_kernel_pio_count() - writes to GUEST_PORT_KERNEL since the last call
 * @vm: the VM
 *
 * Return: the eventfd counter (which is reset by reading it), or -errno.
 */
int64_t vm_kernel_pio_count(struct kvm_vm *vm)
{
	uint64_t v;

	if (vm->eventfd < 0)
		return -EINVAL;
	if (read(vm->eventfd, &v, sizeof(v)) != sizeof(v))
		return errno == EAGAIN ? 0 : -errno;
	return (int64_t)v;
}

/**
 * vm_debugfs_stat() - read one statistic of a VM from KVM's debugfs
 * @vm: the VM
 * @name: file name in the VM's directory, e.g. "exits"
 * @val: the value (for vCPU statistics: the sum over the VM's vCPUs)
 *
 * KVM names the directory /sys/kernel/debug/kvm/<tid>-<vm fd> after the
 * thread that created the VM. debugfs must be mounted
 * (mount -t debugfs none /sys/kernel/debug), which needs root; the binary
 * statistics of kvm_vcpu_stat() need neither.
 *
 * Return: 0 or -errno (-ENOENT without debugfs).
 */
int vm_debugfs_stat(struct kvm_vm *vm, const char *name, uint64_t *val)
{
	char path[128], buf[64];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/%s",
		 (int)vm->creator_tid, vm->fd, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return len < 0 ? -errno : -EIO;
	buf[len] = 0;
	*val = strtoull(buf, NULL, 10);
	return 0;
}

/* Load the descriptors of the binary statistics (KVM_GET_STATS_FD). */
static int vcpu_stats_open(struct kvm_vcpu *vcpu)
{
	struct kvm_stats_header hdr;
	size_t size;
	int fd;

	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
		goto bad;
	size = (sizeof(struct kvm_stats_desc) + hdr.name_size) *
	       (size_t)hdr.num_desc;
	if (!hdr.num_desc || hdr.num_desc > 4096 || hdr.name_size > 4096)
		goto bad;
	vcpu->stats_desc = malloc(size);
	if (!vcpu->stats_desc)
		goto bad;
	if (pread(fd, vcpu->stats_desc, size, hdr.desc_offset) != (ssize_t)size) {
		free(vcpu->stats_desc);
		vcpu->stats_desc = NULL;
		goto bad;
	}
	vcpu->stats_desc_size = sizeof(struct kvm_stats_desc) + hdr.name_size;
	vcpu->stats_num_desc = hdr.num_desc;
	vcpu->stats_data_offset = hdr.data_offset;
	vcpu->stats_name_size = hdr.name_size;
	vcpu->stats_fd = fd;
	return 0;
bad:
	close(fd);
	return -EIO;
}

/**
 * kvm_vcpu_stat() - read one of KVM's statistics of a vCPU
 * @vcpu: the vCPU
 * @name: statistic, e.g. "exits", "io_exits", "halt_exits"
 * @val: its (first) value
 *
 * Uses the vCPU's binary statistics file descriptor (KVM_GET_STATS_FD:
 * a header, descriptors with names and offsets, then the data), so it
 * works without debugfs. Safe to call from any thread.
 *
 * Return: 0, -ENOENT for an unknown name, or another -errno.
 */
int kvm_vcpu_stat(struct kvm_vcpu *vcpu, const char *name, uint64_t *val)
{
	uint32_t i;

	if (vcpu->stats_fd < 0)
		return -EOPNOTSUPP;
	for (i = 0; i < vcpu->stats_num_desc; i++) {
		struct kvm_stats_desc *d = (void *)((char *)vcpu->stats_desc +
						    i * vcpu->stats_desc_size);

		if (strncmp(d->name, name, vcpu->stats_name_size))
			continue;
		if (pread(vcpu->stats_fd, val, sizeof(*val),
			  vcpu->stats_data_offset + d->offset) != sizeof(*val))
			return -EIO;
		return 0;
	}
	return -ENOENT;
}

/**
 * vcpu_stats_read() - read all statistics of enum vcpu_stat_id
 * @vcpu: the vCPU
 * @s: the values; valid[] is false for statistics this kernel lacks
 */
void vcpu_stats_read(struct kvm_vcpu *vcpu, struct vcpu_stats *s)
{
	int i;

	for (i = 0; i < VCPU_NR_STATS; i++) {
		s->val[i] = 0;
		s->valid[i] = !kvm_vcpu_stat(vcpu, vcpu_stat_names[i],
					     &s->val[i]);
	}
}

static int vcpu_setup_sregs(struct kvm_vcpu *vcpu)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = GUEST_SEL_CODE,
		.type = 0xb, .present = 1, .dpl = 0, .db = 0, .s = 1,
		.l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = GUEST_SEL_DATA,
		.type = 0x3, .present = 1, .dpl = 0, .db = 1, .s = 1,
		.l = 0, .g = 1,
	};
	struct kvm_segment tr = {
		.base = GUEST_TSS_GPA, .limit = 0x67, .selector = GUEST_SEL_TSS,
		.type = 0xb, .present = 1, .s = 0,
	};
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs)) {
		kvm_util_log("KVM_GET_SREGS: %s", strerror(errno));
		return -errno;
	}
	sregs.cs = code;
	sregs.ds = data;
	sregs.es = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.ss = data;
	sregs.tr = tr;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.unusable = 1;
	sregs.ldt.type = 0x2;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = GUEST_IDT_GPA;
	sregs.idt.limit = 32 * 16 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = GUEST_PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs)) {
		kvm_util_log("KVM_SET_SREGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/**
 * vcpu_add() - create the next vCPU of a VM, in 64-bit mode
 * @vm: the VM
 *
 * The vCPU gets KVM's supported CPUID (KVM_SET_CPUID2, needed before
 * EFER.LME can be set), long mode segments and control registers
 * (KVM_SET_SREGS) and its own stack. With an in-kernel irqchip, vCPUs
 * other than 0 would wait for INIT/SIPI: they are made runnable.
 *
 * Return: the vCPU, or NULL (the reason is logged).
 */
struct kvm_vcpu *vcpu_add(struct kvm_vm *vm)
{
	struct kvm_vcpu *vcpu;
	int ret;

	if (vm->nr_vcpus >= KVM_UTIL_MAX_VCPUS) {
		kvm_util_log("too many vCPUs");
		errno = ENOSPC;
		return NULL;
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return NULL;
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_cond_init(&vcpu->cond, NULL);
	vcpu->vm = vm;
	vcpu->id = vm->nr_vcpus;
	vcpu->stats_fd = -1;
	vcpu->prog = GUEST_NR_PROGS;
	vcpu->run_size = vm->run_size;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, vcpu->id);
	if (vcpu->fd < 0) {
		kvm_util_log("KVM_CREATE_VCPU %d: %s", vcpu->id,
			     strerror(errno));
		goto fail;
	}
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		kvm_util_log("mmap kvm_run: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, vm->cpuid)) {
		kvm_util_log("KVM_SET_CPUID2: %s", strerror(errno));
		goto fail;
	}
	if (vcpu_setup_sregs(vcpu))
		goto fail;
	if (vm->irqchip) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp)) {
			kvm_util_log("KVM_SET_MP_STATE: %s", strerror(errno));
			goto fail;
		}
	}
	ret = vcpu_stats_open(vcpu);
	if (ret)
		kvm_util_log("KVM_GET_STATS_FD: %s (statistics unavailable)",
			     strerror(-ret));
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	return vcpu;

fail:
	ret = errno;
	vcpu_free(vcpu);
	errno = ret;
	return NULL;
}

static uint64_t entry_gpa(const char *sym)
{
	return GUEST_CODE_GPA + (uint64_t)(sym - guest_blob_start);
}

static uint64_t vcpu_area_gpa(struct kvm_vcpu *vcpu)
{
	return GUEST_VCPU_AREA_GPA + (uint64_t)vcpu->id * GUEST_VCPU_AREA_SIZE;
}

static int vcpu_set_entry(struct kvm_vcpu *vcpu, const char *sym,
			  struct kvm_regs *regs)
{
	regs->rip = entry_gpa(sym);
	regs->rsp = vcpu_area_gpa(vcpu) + GUEST_VCPU_AREA_SIZE;
	regs->rflags = 0x2;	/* reserved bit 1; IF = 0 */
	regs->r15 = GUEST_SYS_END;
	if (ioctl(vcpu->fd, KVM_SET_REGS, regs)) {
		kvm_util_log("KVM_SET_REGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/**
 * vcpu_load_prog() - set a vCPU up to run one of the single-kind programs
 * @vcpu: the vCPU, not yet run
 * @prog: GUEST_PROG_* other than GUEST_PROG_MIXED
 * @n: count (for GUEST_PROG_CPUID_SPIN: CPUIDs per batch)
 *
 * Sets RIP to the program and its parameters in registers, allocates the
 * fresh pages of GUEST_PROG_PAGES and the flag of GUEST_PROG_CPUID_SPIN,
 * registers the ioeventfd of GUEST_PROG_PIO_KERNEL.
 *
 * Return: 0, -EINVAL for a program the VM cannot run (HLT needs no
 * irqchip, PIO_PIC needs one), or another -errno.
 */
int vcpu_load_prog(struct kvm_vcpu *vcpu, enum guest_prog prog, uint64_t n)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_regs regs;
	const char *sym;
	int ret;

	memset(&regs, 0, sizeof(regs));
	regs.rdi = n;
	switch (prog) {
	case GUEST_PROG_CPUID:
		sym = guest_prog_cpuid;
		break;
	case GUEST_PROG_HLT:
		if (vm->irqchip)
			return -EINVAL;
		sym = guest_prog_hlt;
		break;
	case GUEST_PROG_PIO_USER:
		sym = guest_prog_pio_out;
		regs.rsi = GUEST_PORT_USER;
		break;
	case GUEST_PROG_PIO_USER_IN:
		sym = guest_prog_pio_in;
		regs.rsi = GUEST_PORT_USER;
		break;
	case GUEST_PROG_PIO_KERNEL:
		ret = vm_enable_kernel_pio(vm);
		if (ret)
			return ret;
		sym = guest_prog_pio_out;
		regs.rsi = GUEST_PORT_KERNEL;
		break;
	case GUEST_PROG_PIO_PIC:
		if (!vm->irqchip)
			return -EINVAL;
		sym = guest_prog_pio_in;
		regs.rsi = GUEST_PORT_PIC_IMR;
		break;
	case GUEST_PROG_MMIO_WRITE:
		sym = guest_prog_mmio_write;
		regs.rsi = GUEST_MMIO_GPA;
		break;
	case GUEST_PROG_MMIO_READ:
		sym = guest_prog_mmio_read;
		regs.rsi = GUEST_MMIO_GPA;
		break;
	case GUEST_PROG_HYPERCALL:
		sym = guest_prog_hypercall;
		regs.rsi = GUEST_HCALL_NR;
		regs.rdx = vm->vendor == KVM_VENDOR_SVM ? GUEST_FLAG_SVM : 0;
		break;
	case GUEST_PROG_MSR_READ:
		sym = guest_prog_msr_read;
		regs.rsi = GUEST_MSR;
		break;
	case GUEST_PROG_MSR_WRITE:
		sym = guest_prog_msr_write;
		regs.rsi = GUEST_MSR;
		regs.rdx = 0;
		break;
	case GUEST_PROG_PAGES:
		sym = guest_prog_touch_pages;
		if (n) {
			vcpu->data_gpa = vm_alloc_data(vm,
						       n * GUEST_PAGE_STRIDE);
			if (!vcpu->data_gpa)
				return -ENOMEM;
		}
		regs.rsi = vcpu->data_gpa;
		regs.rdx = GUEST_PAGE_STRIDE;
		break;
	case GUEST_PROG_CPUID_SPIN:
		sym = guest_prog_cpuid_spin;
		vcpu->data_gpa = vm_alloc_data(vm, GUEST_PAGE_SIZE);
		if (!vcpu->data_gpa)
			return -ENOMEM;
		/* written now, so the page is host-populated and writable */
		*(uint64_t *)vm_gpa_to_hva(vm, vcpu->data_gpa) = 0;
		regs.rsi = vcpu->data_gpa;
		break;
	case GUEST_PROG_FAIL:
		sym = guest_prog_fail;
		break;
	case GUEST_PROG_UD:
		sym = guest_prog_ud;
		break;
	default:
		return -EINVAL;
	}
	ret = vcpu_set_entry(vcpu, sym, &regs);
	if (ret)
		return ret;
	vcpu->prog = prog;
	vcpu->n = n;
	return 0;
}

/**
 * vcpu_load_mixed() - set a vCPU up to run the mixed program
 * @vcpu: the vCPU, not yet run
 * @mix: counts of each kind
 *
 * The counts go to the argument block in the vCPU's argument page, whose
 * address is passed in RDI.
 *
 * Return: 0, -EINVAL when the VM cannot run it (HLT with an irqchip), or
 * another -errno.
 */
int vcpu_load_mixed(struct kvm_vcpu *vcpu, const struct guest_mix *mix)
{
	struct kvm_vm *vm = vcpu->vm;
	uint64_t args_gpa = vcpu_area_gpa(vcpu);
	uint64_t *args = vm_gpa_to_hva(vm, args_gpa);
	uint64_t max = 0;
	struct kvm_regs regs;
	int ret;

	if (mix->hlt && vm->irqchip)
		return -EINVAL;
	if (mix->pio_kernel) {
		ret = vm_enable_kernel_pio(vm);
		if (ret)
			return ret;
	}
	if (mix->pages) {
		vcpu->data_gpa = vm_alloc_data(vm,
					       mix->pages * GUEST_PAGE_STRIDE);
		if (!vcpu->data_gpa)
			return -ENOMEM;
	}

#define MIX_ARG(off, val) do {				\
		args[(off) / 8] = (val);		\
		if ((off) < GM_N_MAX && (val) > max)	\
			max = (val);			\
	} while (0)
	memset(args, 0, GM_SIZE);
	MIX_ARG(GM_N_CPUID, mix->cpuid);
	MIX_ARG(GM_N_HLT, mix->hlt);
	MIX_ARG(GM_N_PIO_USER, mix->pio_user);
	MIX_ARG(GM_N_PIO_KERNEL, mix->pio_kernel);
	MIX_ARG(GM_N_MMIO, mix->mmio);
	MIX_ARG(GM_N_HCALL, mix->hypercall);
	MIX_ARG(GM_N_MSR_READ, mix->msr_read);
	MIX_ARG(GM_N_MSR_WRITE, mix->msr_write);
	MIX_ARG(GM_N_PAGES, mix->pages);
#undef MIX_ARG
	args[GM_N_MAX / 8] = max;
	args[GM_DATA_GPA / 8] = vcpu->data_gpa;
	args[GM_STRIDE / 8] = GUEST_PAGE_STRIDE;
	args[GM_MMIO_GPA / 8] = GUEST_MMIO_GPA;
	args[GM_FLAGS / 8] = vm->vendor == KVM_VENDOR_SVM ? GUEST_FLAG_SVM : 0;

	memset(&regs, 0, sizeof(regs));
	regs.rdi = args_gpa;
	ret = vcpu_set_entry(vcpu, guest_prog_mixed, &regs);
	if (ret)
		return ret;
	vcpu->prog = GUEST_PROG_MIXED;
	vcpu->mix = *mix;
	return 0;
}

/**
 * guest_expect() - exits the program loaded in a vCPU must cause
 * @vcpu: the vCPU, after vcpu_load_prog() or vcpu_load_mixed()
 * @e: the exits after the GUEST_PHASE_MEASURE report (see the struct)
 *
 * Not meaningful for GUEST_PROG_CPUID_SPIN, GUEST_PROG_FAIL and
 * GUEST_PROG_UD, which are all zero but for the port I/O of the reports.
 */
void guest_expect(const struct kvm_vcpu *vcpu, struct guest_expect *e)
{
	uint64_t n = vcpu->n;

	memset(e, 0, sizeof(*e));
	switch (vcpu->prog) {
	case GUEST_PROG_CPUID:
		e->cpuid = n;
		break;
	case GUEST_PROG_HLT:
		e->hlt = n;
		break;
	case GUEST_PROG_PIO_USER:
		e->pio_user_out = n;
		break;
	case GUEST_PROG_PIO_USER_IN:
		e->pio_user_in = n;
		break;
	case GUEST_PROG_PIO_KERNEL:
	case GUEST_PROG_PIO_PIC:
		e->pio_kernel = n;
		break;
	case GUEST_PROG_MMIO_WRITE:
		e->mmio_write = n;
		break;
	case GUEST_PROG_MMIO_READ:
		e->mmio_read = n;
		break;
	case GUEST_PROG_HYPERCALL:
		e->hypercall = n;
		break;
	case GUEST_PROG_MSR_READ:
		e->msr_read = n;
		break;
	case GUEST_PROG_MSR_WRITE:
		e->msr_write = n;
		break;
	case GUEST_PROG_PAGES:
		e->pages = n;
		break;
	case GUEST_PROG_MIXED:
		e->cpuid = vcpu->mix.cpuid;
		e->hlt = vcpu->mix.hlt;
		e->pio_user_out = vcpu->mix.pio_user;
		e->pio_kernel = vcpu->mix.pio_kernel;
		e->mmio_write = vcpu->mix.mmio;
		e->hypercall = vcpu->mix.hypercall;
		e->msr_read = vcpu->mix.msr_read;
		e->msr_write = vcpu->mix.msr_write;
		e->pages = vcpu->mix.pages;
		break;
	default:
		break;
	}
	/* + the done report; the phase report precedes the measured part */
	e->io = e->pio_user_out + e->pio_user_in + e->pio_kernel + 1;
	e->user_io = e->pio_user_out + e->pio_user_in + 2;
	e->mmio = e->mmio_write + e->mmio_read;
	e->total = e->cpuid + e->hlt + e->io + e->mmio + e->hypercall +
		   e->msr_read + e->msr_write + e->pages;
}

/**
 * vcpu_set_phase_hook() - call a function at each phase report
 * @vcpu: the vCPU
 * @fn: the hook, called on the vCPU's thread while it is out of KVM_RUN
 * @arg: its argument
 */
void vcpu_set_phase_hook(struct kvm_vcpu *vcpu, vcpu_phase_fn fn, void *arg)
{
	vcpu->phase_fn = fn;
	vcpu->phase_arg = arg;
}

static void vcpu_fail(struct kvm_vcpu *vcpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vcpu_fail(struct kvm_vcpu *vcpu, const char *fmt, ...)
{
	va_list ap;

	vcpu->res.failed = true;
	va_start(ap, fmt);
	vsnprintf(vcpu->res.msg, sizeof(vcpu->res.msg), fmt, ap);
	va_end(ap);
}

static void vcpu_fail_regs(struct kvm_vcpu *vcpu, const char *what)
{
	struct kvm_regs r;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r)) {
		vcpu_fail(vcpu, "vCPU %d: %s (KVM_GET_REGS: %s)", vcpu->id,
			  what, strerror(errno));
		return;
	}
	vcpu_fail(vcpu,
		  "vCPU %d: %s: rip=0x%llx rax=0x%llx rbx=0x%llx rcx=0x%llx rdx=0x%llx rsp=0x%llx",
		  vcpu->id, what, r.rip, r.rax, r.rbx, r.rcx, r.rdx, r.rsp);
}

/* Value the program writes in operation number idx (0-based). */
static uint64_t expected_data(struct kvm_vcpu *vcpu, uint64_t idx)
{
	if (vcpu->prog == GUEST_PROG_MIXED)
		return idx;
	return vcpu->n - idx;
}

/* Handle KVM_EXIT_IO. Return: true to run on, false to stop. */
static bool vcpu_handle_io(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i, val = 0;
	char what[64];

	if (out)
		memcpy(&val, data, run->io.size < 4 ? run->io.size : 4);

	switch (run->io.port) {
	case GUEST_PORT_DONE:
		vcpu->res.done = true;
		return false;
	case GUEST_PORT_FAIL:
		vcpu->res.fail_code = val;
		if ((val & 0xff00) == GUEST_FAIL_EXCEPTION)
			snprintf(what, sizeof(what), "guest exception %u",
				 val & 0xff);
		else
			snprintf(what, sizeof(what), "guest failure 0x%x", val);
		vcpu_fail_regs(vcpu, what);
		return false;
	case GUEST_PORT_PHASE:
		vcpu->res.phases++;
		if ((val & 0xff) == GUEST_PHASE_MEASURE)
			vcpu_stats_read(vcpu, &vcpu->res.phase_stats);
		if (vcpu->phase_fn)
			vcpu->phase_fn(vcpu, val & 0xff, vcpu->phase_arg);
		return true;
	case GUEST_PORT_USER:
		for (i = 0; i < run->io.count; i++) {
			if (out) {
				uint64_t idx = vcpu->res.pio_user_out++;

				if (vcpu->prog != GUEST_PROG_CPUID_SPIN &&
				    (uint8_t)val !=
				    (uint8_t)expected_data(vcpu, idx))
					vcpu->res.data_errors++;
			} else {
				memset(data + i * run->io.size, 0x5a,
				       run->io.size);
				vcpu->res.pio_user_in++;
			}
		}
		__atomic_store_n(&vcpu->progress, vcpu->res.pio_user_out,
				 __ATOMIC_RELEASE);
		return true;
	default:
		vcpu->res.pio_other++;
		vcpu_fail_regs(vcpu, "unexpected port I/O");
		snprintf(what, sizeof(what), " (port 0x%x %s size %u)",
			 run->io.port, out ? "out" : "in", run->io.size);
		strncat(vcpu->res.msg, what,
			sizeof(vcpu->res.msg) - strlen(vcpu->res.msg) - 1);
		return false;
	}
}

/* Handle KVM_EXIT_MMIO. Return: true to run on, false to stop. */
static bool vcpu_handle_mmio(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t val = 0, pattern = GUEST_READ_PATTERN;

	if (run->mmio.phys_addr != GUEST_MMIO_GPA || run->mmio.len != 4) {
		vcpu->res.mmio_other++;
		vcpu_fail(vcpu, "vCPU %d: unexpected MMIO at 0x%llx len %u",
			  vcpu->id, run->mmio.phys_addr, run->mmio.len);
		return false;
	}
	if (run->mmio.is_write) {
		uint64_t idx = vcpu->res.mmio_write++;

		memcpy(&val, run->mmio.data, 4);
		if (val != (uint32_t)expected_data(vcpu, idx))
			vcpu->res.data_errors++;
	} else {
		vcpu->res.mmio_read++;
		memcpy(run->mmio.data, &pattern, 4);
	}
	return true;
}

/**
 * vcpu_run() - run a vCPU on the calling thread until its program ends
 * @vcpu: the vCPU, with a program loaded
 *
 * Calls KVM_RUN again after every exit to userspace the program causes on
 * purpose (HLT, port I/O to GUEST_PORT_USER, MMIO, phase reports) and
 * stops at the done report, a guest failure report, or anything
 * unexpected. The outcome is in vcpu->res, including KVM's statistics at
 * the measured phase and at the end.
 *
 * Return: 0 when the program reached its done report, -EIO otherwise.
 */
int vcpu_run(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	bool go_on;

	/* vcpu_thread() has set it already, under the lock */
	if (vcpu->tid != kvm_gettid())
		vcpu->tid = kvm_gettid();
	if (vcpu->prog >= GUEST_NR_PROGS) {
		vcpu_fail(vcpu, "vCPU %d: no program loaded", vcpu->id);
		return -EIO;
	}
	do {
		if (ioctl(vcpu->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->res.kvm_runs++;
				go_on = true;
				continue;
			}
			vcpu_fail(vcpu, "vCPU %d: KVM_RUN: %s", vcpu->id,
				  strerror(errno));
			break;
		}
		vcpu->res.kvm_runs++;
		if (run->exit_reason < KVM_UTIL_NR_EXIT_CODES)
			vcpu->res.user_exits[run->exit_reason]++;

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			go_on = vcpu_handle_io(vcpu);
			break;
		case KVM_EXIT_MMIO:
			go_on = vcpu_handle_mmio(vcpu);
			break;
		case KVM_EXIT_HLT:
			vcpu->res.hlt++;
			go_on = true;
			break;
		case KVM_EXIT_INTR:
			go_on = true;
			break;
		case KVM_EXIT_SHUTDOWN:
			vcpu_fail_regs(vcpu, "shutdown (triple fault)");
			go_on = false;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vcpu_fail(vcpu,
				  "vCPU %d: entry failed, hardware reason 0x%llx",
				  vcpu->id, (unsigned long long)
				  run->fail_entry.hardware_entry_failure_reason);
			go_on = false;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vcpu_fail_regs(vcpu, "KVM internal error");
			snprintf(vcpu->res.msg + strlen(vcpu->res.msg),
				 sizeof(vcpu->res.msg) - strlen(vcpu->res.msg),
				 " suberror %u", run->internal.suberror);
			go_on = false;
			break;
		default:
			vcpu_fail_regs(vcpu, "unexpected exit");
			snprintf(vcpu->res.msg + strlen(vcpu->res.msg),
				 sizeof(vcpu->res.msg) - strlen(vcpu->res.msg),
				 " KVM_EXIT_%s (%u)",
				 kvm_exit_name(run->exit_reason),
				 run->exit_reason);
			go_on = false;
			break;
		}
	} while (go_on);

	vcpu_stats_read(vcpu, &vcpu->res.end_stats);
	if (!vcpu->res.done && !vcpu->res.failed)
		vcpu_fail(vcpu, "vCPU %d: stopped without a done report",
			  vcpu->id);
	__atomic_store_n(&vcpu->finished, 1, __ATOMIC_RELEASE);
	return vcpu->res.done && !vcpu->res.failed ? 0 : -EIO;
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	pthread_mutex_lock(&vcpu->lock);
	vcpu->tid = kvm_gettid();
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_run(vcpu);
	return NULL;
}

/**
 * vcpu_start() - run a vCPU to completion on a new thread, like a VMM
 * @vcpu: the vCPU, with a program loaded
 *
 * Returns once the thread exists and vcpu->tid holds its thread id.
 *
 * Return: 0 or -errno.
 */
int vcpu_start(struct kvm_vcpu *vcpu)
{
	int ret;

	vcpu->tid = 0;
	vcpu->finished = 0;
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return -ret;
	vcpu->started = true;
	pthread_mutex_lock(&vcpu->lock);
	while (!vcpu->tid)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	pthread_mutex_unlock(&vcpu->lock);
	return 0;
}

/**
 * vcpu_join() - wait for the thread of vcpu_start()
 * @vcpu: the vCPU
 *
 * Return: 0 when the program reached its done report, -EIO otherwise.
 */
int vcpu_join(struct kvm_vcpu *vcpu)
{
	if (!vcpu->started)
		return -EINVAL;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
	return vcpu->res.done && !vcpu->res.failed ? 0 : -EIO;
}

/**
 * vcpu_spin_stop() - ask GUEST_PROG_CPUID_SPIN to finish
 * @vcpu: the vCPU running it
 *
 * The guest sees the flag after its current batch.
 */
void vcpu_spin_stop(struct kvm_vcpu *vcpu)
{
	uint64_t *flag = vm_gpa_to_hva(vcpu->vm, vcpu->data_gpa);

	if (flag)
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
}

/**
 * vcpu_finished() - whether the vCPU's run loop has ended
 * @vcpu: the vCPU
 *
 * Any thread may call this while the vCPU runs; vcpu->res is stable once
 * it returns true.
 *
 * Return: true after vcpu_run() returned (done, failed or stopped).
 */
bool vcpu_finished(struct kvm_vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->finished, __ATOMIC_ACQUIRE);
}

/**
 * vcpu_spin_batches() - batches GUEST_PROG_CPUID_SPIN has completed
 * @vcpu: the vCPU running it
 *
 * Return: the number of batch reports seen so far (any thread may call).
 */
uint64_t vcpu_spin_batches(struct kvm_vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->progress, __ATOMIC_ACQUIRE);
}
