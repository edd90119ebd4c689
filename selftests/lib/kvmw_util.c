// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers around /dev/kvmwarden (through libkvmwarden), exit reason codes
 * and module loading for the kvmwarden selftests, see kvmw_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <asm/kvm.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <linux/module.h>

#include "kvmw_dev.h"
#include "kvmw_util.h"

/**
 * exit_reason_code() - hardware reason code of an exit kind
 * @vendor: KVM_VENDOR_SVM or KVM_VENDOR_VMX
 * @kind: EXIT_KIND_*
 *
 * SVM codes are the VMCB EXITCODEs of <asm/svm.h>, VMX codes the basic
 * exit reasons of <asm/vmx.h>: what kvmwarden and the oracle report.
 *
 * Return: the code, or REASON_NONE when the vendor has no such exit.
 */
uint32_t exit_reason_code(enum kvm_vendor vendor, enum exit_kind kind)
{
	static const uint32_t svm[EXIT_NR_KINDS] = {
		[EXIT_KIND_CPUID] = SVM_EXIT_CPUID,
		[EXIT_KIND_HLT] = SVM_EXIT_HLT,
		[EXIT_KIND_IO] = SVM_EXIT_IOIO,
		[EXIT_KIND_MSR_READ] = SVM_EXIT_MSR,
		[EXIT_KIND_MSR_WRITE] = SVM_EXIT_MSR,
		[EXIT_KIND_HYPERCALL] = SVM_EXIT_VMMCALL,
		[EXIT_KIND_NPF] = SVM_EXIT_NPF,
		[EXIT_KIND_NPF_MMIO] = REASON_NONE,
		[EXIT_KIND_INTR] = SVM_EXIT_INTR,
	};
	static const uint32_t vmx[EXIT_NR_KINDS] = {
		[EXIT_KIND_CPUID] = EXIT_REASON_CPUID,
		[EXIT_KIND_HLT] = EXIT_REASON_HLT,
		[EXIT_KIND_IO] = EXIT_REASON_IO_INSTRUCTION,
		[EXIT_KIND_MSR_READ] = EXIT_REASON_MSR_READ,
		[EXIT_KIND_MSR_WRITE] = EXIT_REASON_MSR_WRITE,
		[EXIT_KIND_HYPERCALL] = EXIT_REASON_VMCALL,
		[EXIT_KIND_NPF] = EXIT_REASON_EPT_VIOLATION,
		[EXIT_KIND_NPF_MMIO] = EXIT_REASON_EPT_MISCONFIG,
		[EXIT_KIND_INTR] = EXIT_REASON_EXTERNAL_INTERRUPT,
	};

	if ((unsigned int)kind >= EXIT_NR_KINDS)
		return REASON_NONE;
	if (vendor == KVM_VENDOR_SVM)
		return svm[kind];
	if (vendor == KVM_VENDOR_VMX)
		return vmx[kind];
	return REASON_NONE;
}

/**
 * exit_reason_name() - printable name of a hardware reason code
 * @vendor: KVM_VENDOR_*
 * @reason: the code
 *
 * Return: libkvmwarden's name (the kernel's tables), or "?".
 */
const char *exit_reason_name(enum kvm_vendor vendor, uint32_t reason)
{
	const char *name = kvmw_reason_lookup(vendor, reason);

	return name ? name : "?";
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/**
 * kvmw_ensure_devnode() - make sure a misc device node exists
 * @node: path in /dev
 * @sysfs_dev: the device's "dev" attribute ("major:minor")
 * @timeout_ms: how long to wait for the device to register
 *
 * Waits for @sysfs_dev, then for devtmpfs or mdev to create @node; after
 * half the time (or at once if the node is stale, with another number)
 * creates it with mknod.
 *
 * Return: 0, -ENODEV when the device never appeared, or another -errno.
 */
int kvmw_ensure_devnode(const char *node, const char *sysfs_dev,
			int timeout_ms)
{
	unsigned int maj, min;
	char buf[32];
	struct stat st;
	int fd, waited;
	ssize_t len;

	for (waited = 0;; waited += 20) {
		fd = open(sysfs_dev, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (waited >= timeout_ms)
			return -ENODEV;
		sleep_ms(20);
	}
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	buf[len] = 0;
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -EIO;

	for (;; waited += 20) {
		if (!stat(node, &st)) {
			if (S_ISCHR(st.st_mode) &&
			    st.st_rdev == makedev(maj, min))
				return 0;
			/* stale node of an earlier registration */
			unlink(node);
		}
		if (waited >= timeout_ms / 2)
			break;
		sleep_ms(20);
	}
	if (mknod(node, S_IFCHR | 0600, makedev(maj, min)) && errno != EEXIST)
		return -errno;
	return 0;
}

/**
 * kvmw_open() - open /dev/kvmwarden
 *
 * Creates the node from sysfs when the module is loaded but nothing made
 * the node (no devtmpfs or mdev).
 *
 * Return: a file descriptor or -errno (-ENOENT: module not loaded).
 */
int kvmw_open(void)
{
	int fd;

	fd = open(KVMW_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (access(KVMW_SYSFS_DEV, F_OK))
		return -ENOENT;
	if (kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 1000))
		return -ENOENT;
	fd = open(KVMW_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

/**
 * kvmw_src_open() - libkvmwarden's device source on /dev/kvmwarden
 * @src: the source, to close with kvmw_source_close()
 *
 * Creates the node from sysfs when the module is loaded but nothing made
 * the node (no devtmpfs or mdev).
 *
 * Return: 0 or -errno (-ENOENT: module not loaded, -EPROTO: the module
 * describes its statistics but the source could not use them).
 */
int kvmw_src_open(struct kvmw_source *src)
{
	int ret;

	ret = kvmw_source_open(src, &kvmw_source_dev, KVMW_DEVICE_PATH, NULL);
	if (ret == -ENOENT) {
		if (access(KVMW_SYSFS_DEV, F_OK) ||
		    kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 1000))
			return -ENOENT;
		ret = kvmw_source_open(src, &kvmw_source_dev, KVMW_DEVICE_PATH,
				       NULL);
	}
	if (ret)
		return ret;
	/*
	 * A module that describes its statistics is read through them (the
	 * API 2 path the tests check), never through the v1 fallback.
	 */
	if ((src->host.features & KVMW_FEAT_STATS) &&
	    !kvmw_source_dev_stats(src)) {
		kvmw_source_close(src);
		return -EPROTO;
	}
	return 0;
}

/**
 * kvmw_test_src() - what a kvmwarden kernel test needs, or why not
 * @src: the source, open on success (close it with kvmw_source_close())
 * @features: KVMW_FEAT_* bits the test needs, as the model sees them
 * @what: names them in the reason, e.g. "the scheduler view"
 * @why: set to the reason to skip when something is missing
 * @size: size of @why
 *
 * Return: 0 when KVM runs on kvm_amd or kvm_intel and the source has
 * @features; else -errno, with @why set (non-empty) when something the
 * test needs is missing and left empty when the device could not be
 * opened (a failure).
 */
int kvmw_test_src(struct kvmw_source *src, uint64_t features,
		  const char *what, char *why, size_t size)
{
	int ret;

	memset(src, 0, sizeof(*src));
	if (!kvm_available() || !kvm_backend_is_hw()) {
		snprintf(why, size, "no KVM on kvm_amd or kvm_intel");
		return -ENODEV;
	}
	why[0] = 0;
	ret = kvmw_src_open(src);
	if (ret)
		return ret;
	if ((src->host.features & features) != features) {
		snprintf(why, size, "kvmwarden without %s", what);
		kvmw_source_close(src);
		return -EOPNOTSUPP;
	}
	return 0;
}

/**
 * kvmw_src_info() - the source's host figures (handshake) now
 * @src: the source; src->host is refreshed
 *
 * Return: 0 or -errno.
 */
int kvmw_src_info(struct kvmw_source *src)
{
	return kvmw_source_info(src);
}

/**
 * kvmw_take() - a detailed, derived snapshot of every VM
 * @src: the source
 * @snap: the snapshot, to free with kvmw_snapshot_free()
 *
 * Return: 0 or -errno.
 */
int kvmw_take(struct kvmw_source *src, struct kvmw_snapshot *snap)
{
	return kvmw_snapshot_take(src, NULL, 0, true, snap);
}

/**
 * kvmw_take_vm() - a detailed snapshot of one VM
 * @src: the source
 * @vm_id: the VM
 * @snap: the snapshot (also on error), to free with kvmw_snapshot_free()
 * @vm: set to the VM in @snap
 *
 * Return: 0, -ENOENT when the VM is not tracked, or another -errno.
 */
int kvmw_take_vm(struct kvmw_source *src, uint64_t vm_id,
		 struct kvmw_snapshot *snap, const struct kvmw_vm **vm)
{
	__u64 id = vm_id;
	int ret;

	*vm = NULL;
	ret = kvmw_snapshot_take(src, &id, 1, true, snap);
	if (ret)
		return ret;
	*vm = kvmw_snapshot_find(snap, vm_id);
	return *vm ? 0 : -ENOENT;
}

/**
 * kvmw_take_vmm() - snapshot, and the VM of a process with given vCPUs
 * @src: the source
 * @pid: the VMM's process id
 * @tids: thread ids that must all appear among the VM's vCPUs
 * @nr_tids: their number
 * @snap: the snapshot (also on error), to free with kvmw_snapshot_free()
 * @vm: set to the VM in @snap (kvmw_snapshot_find_vmm(): a live one
 *	is preferred over one that is gone)
 *
 * Return: 0, -ESRCH when no VM matches, or another -errno.
 */
int kvmw_take_vmm(struct kvmw_source *src, pid_t pid, const pid_t *tids,
		  int nr_tids, struct kvmw_snapshot *snap,
		  const struct kvmw_vm **vm)
{
	__u32 t[KVM_UTIL_MAX_VCPUS];
	int i, ret;

	*vm = NULL;
	memset(snap, 0, sizeof(*snap));
	if (nr_tids < 0 || nr_tids > KVM_UTIL_MAX_VCPUS)
		return -EINVAL;
	for (i = 0; i < nr_tids; i++)
		t[i] = tids[i];
	ret = kvmw_take(src, snap);
	if (ret)
		return ret;
	*vm = kvmw_snapshot_find_vmm(snap, pid, t, nr_tids);
	return *vm ? 0 : -ESRCH;
}

/**
 * kvmw_take_kvm_vm() - kvmw_take_vmm() for all run vCPUs of a library VM
 * @src: the source
 * @vm: the VM; vCPUs that never ran (tid 0) are not looked for
 * @snap: the snapshot (also on error), to free with kvmw_snapshot_free()
 * @out: set to the VM in @snap
 *
 * Return: 0, -ESRCH when no VM matches, or another -errno.
 */
int kvmw_take_kvm_vm(struct kvmw_source *src, struct kvm_vm *vm,
		     struct kvmw_snapshot *snap, const struct kvmw_vm **out)
{
	pid_t tids[KVM_UTIL_MAX_VCPUS];
	int i, n = 0;

	*out = NULL;
	memset(snap, 0, sizeof(*snap));
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->tid)
			tids[n++] = vm->vcpus[i]->tid;
	if (!n)
		return -EINVAL;
	return kvmw_take_vmm(src, getpid(), tids, n, snap, out);
}

/**
 * kvmw_take_vcpu() - kvmwarden's view of one library vCPU, now
 * @src: the source
 * @vcpu: the vCPU; it must have run (its thread id is known)
 * @snap: the snapshot (also on error), to free with kvmw_snapshot_free()
 * @out: set to the vCPU in @snap
 *
 * Return: 0, -ESRCH when kvmwarden has no such vCPU, or another -errno.
 */
int kvmw_take_vcpu(struct kvmw_source *src, struct kvm_vcpu *vcpu,
		   struct kvmw_snapshot *snap, const struct kvmw_vcpu **out)
{
	const struct kvmw_vm *vm;
	pid_t tid = vcpu->tid;
	int ret;

	*out = NULL;
	ret = kvmw_take_vmm(src, getpid(), &tid, 1, snap, &vm);
	if (ret)
		return ret;
	*out = kvmw_vm_vcpu_by_tid(vm, tid);
	return *out ? 0 : -ESRCH;
}

/**
 * kvmw_vcpu_count() - exits of one vCPU for one reason
 * @vm: a VM of a snapshot
 * @vcpu_id: the vCPU
 * @reason: hardware reason code
 *
 * Return: the count, 0 when the vCPU or the reason has no entry.
 */
uint64_t kvmw_vcpu_count(const struct kvmw_vm *vm, uint32_t vcpu_id,
			 uint32_t reason)
{
	const struct kvmw_vcpu *vc = kvmw_vm_vcpu(vm, vcpu_id);

	return vc ? kvmw_unit_count(&vc->u, reason) : 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/**
 * module_load() - finit_module(2) of a .ko file
 * @path: the file; .ko.xz, .ko.zst and .ko.gz files are decompressed by
 *	the kernel (MODULE_INIT_COMPRESSED_FILE, CONFIG_MODULE_DECOMPRESS)
 * @params: module parameters ("" for none)
 *
 * Return: 0 or -errno (-EEXIST: already loaded, -ENOENT: unknown symbol
 * or no such file).
 */
int module_load(const char *path, const char *params)
{
	int fd, ret, err, flags = 0;

	if (has_suffix(path, ".xz") || has_suffix(path, ".zst") ||
	    has_suffix(path, ".gz"))
		flags |= MODULE_INIT_COMPRESSED_FILE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", flags);
	err = errno;
	close(fd);
	return ret ? -err : 0;
}

/**
 * module_unload() - delete_module(2), retrying while the module is busy
 * @name: module name
 * @timeout_ms: how long to retry on EAGAIN/EBUSY (0: try once)
 *
 * Return: 0 or -errno (-ENOENT: not loaded, -EAGAIN: still in use).
 */
int module_unload(const char *name, int timeout_ms)
{
	int waited;

	for (waited = 0;; waited += 50) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if ((errno != EAGAIN && errno != EBUSY) ||
		    waited >= timeout_ms)
			return -errno;
		sleep_ms(50);
	}
}

/**
 * module_loaded() - whether a loadable module is loaded
 * @name: module name (with underscores)
 *
 * Return: true when /sys/module/<name> exists (also for built-in modules
 * with parameters, which count as loaded).
 */
bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

/**
 * module_name_from_path() - module name of a .ko path
 * @path: e.g. /lib/modules/.../kvm-amd.ko
 * @name: buffer for the name, e.g. kvm_amd
 * @size: its size
 */
void module_name_from_path(const char *path, char *name, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i + 1 < size && base[i] && base[i] != '.'; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[i] = 0;
}

/**
 * kvmw_module_path() - the kvmwarden.ko to load
 *
 * Return: $KVMW_MODULE, else KVMW_MODULE_DEFAULT.
 */
const char *kvmw_module_path(void)
{
	const char *p = getenv("KVMW_MODULE");

	return p && *p ? p : KVMW_MODULE_DEFAULT;
}

/**
 * kvm_backend_is_hw() - whether KVM runs on SVM or VMX hardware support
 *
 * Other backends (for example the paravirtual PVM backend, kvm_pvm) keep
 * KVM's user interface but take different exits, do not count all of KVM's
 * statistics and have no kvm_exit hardware reasons.
 *
 * Return: true when kvm_amd or kvm_intel is loaded.
 */
bool kvm_backend_is_hw(void)
{
	return module_loaded("kvm_amd") || module_loaded("kvm_intel");
}

/**
 * sysctl_write() - write a /proc/sys file, keeping the old value
 * @path: the file
 * @val: new value
 * @old: buffer for the old value (NUL-terminated, newline removed), or NULL
 * @size: its size
 *
 * Return: 0 or -errno.
 */
int sysctl_write(const char *path, const char *val, char *old, size_t size)
{
	ssize_t len;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (old && size) {
		len = read(fd, old, size - 1);
		old[len > 0 ? len : 0] = 0;
		if (len > 0 && old[len - 1] == '\n')
			old[len - 1] = 0;
		lseek(fd, 0, SEEK_SET);
	}
	len = write(fd, val, strlen(val));
	close(fd);
	return len < 0 ? -errno : 0;
}

/* ---- small helpers shared by the test programs ---- */

/* CLOCK_MONOTONIC in ms. */
double util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sleep @ms ms; a signal may end it early. */
void util_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* CLOCK_MONOTONIC in ns. */
uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Sleep @ns ns, all of it: a signal does not end it. */
void util_sleep_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Write the string @val to the file @path: 0 or -errno. */
int util_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Read the file @path into @buf (at most @size - 1 bytes), up to its
 * first newline: 0 or -errno.
 */
int util_read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * CPUID exits of @vcpu so far by KVM's own statistics, for guests whose
 * only other exits are port I/O reports: every exit but I/O, external
 * interrupts and nested page faults (automatic NUMA balancing in the
 * two-node test VM makes KVM zap guest mappings at any time: about 1,000
 * NPFs per second per vCPU for a VM spanning both nodes).
 */
int util_cpuid_exits(struct kvm_vcpu *vcpu, uint64_t *n)
{
	uint64_t exits, io, irq, pf;

	if (kvm_vcpu_stat(vcpu, "exits", &exits) ||
	    kvm_vcpu_stat(vcpu, "io_exits", &io) ||
	    kvm_vcpu_stat(vcpu, "irq_exits", &irq) ||
	    kvm_vcpu_stat(vcpu, "pf_taken", &pf))
		return -1;
	*n = exits - io - irq - pf;
	return 0;
}

/* KVMW_IOC_BUDGET_SET of @b (its size filled in): 0 or -errno. */
int util_budget_set(int fd, struct kvmw_budget *b)
{
	b->size = sizeof(*b);
	return ioctl(fd, KVMW_IOC_BUDGET_SET, b) ? -errno : 0;
}

/* KVMW_IOC_BUDGET_GET of VM @vm_id into @b: 0 or -errno. */
int util_budget_get(int fd, uint64_t vm_id, struct kvmw_budget *b)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->vm_id = vm_id;
	return ioctl(fd, KVMW_IOC_BUDGET_GET, b) ? -errno : 0;
}
