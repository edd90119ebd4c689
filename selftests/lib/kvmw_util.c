// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers around /dev/kvmwarden, exit reason codes and module loading for
 * the kvmwarden selftests, see kvmw_util.h.
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

#include <asm/svm.h>
#include <asm/vmx.h>
#include <linux/module.h>

#include "kvmw_util.h"

struct reason_name {
	uint32_t code;
	const char *name;
};

/* The UAPI headers list every code with its name. */
static const struct reason_name svm_reasons[] = { SVM_EXIT_REASONS };
static const struct reason_name vmx_reasons[] = { VMX_EXIT_REASONS };

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
 * Return: the name from the UAPI header, or "?".
 */
const char *exit_reason_name(enum kvm_vendor vendor, uint32_t reason)
{
	const struct reason_name *t = vendor == KVM_VENDOR_SVM ?
				      svm_reasons : vmx_reasons;
	size_t i, n = vendor == KVM_VENDOR_SVM ? ARRAY_SIZE(svm_reasons) :
						 ARRAY_SIZE(vmx_reasons);

	if (reason == KVMW_REASON_UNDECODED)
		return "undecoded";
	for (i = 0; i < n; i++)
		if (t[i].code == reason)
			return t[i].name;
	return "?";
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
 * kvmw_handshake() - KVMW_IOC_HANDSHAKE
 * @fd: /dev/kvmwarden
 * @hs: the answer
 *
 * Return: 0 or -errno.
 */
int kvmw_handshake(int fd, struct kvmw_handshake *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->size = sizeof(*hs);
	return ioctl(fd, KVMW_IOC_HANDSHAKE, hs) ? -errno : 0;
}

/**
 * kvmw_list_vms() - KVMW_IOC_LIST_VMS into a new array
 * @fd: /dev/kvmwarden
 * @vms: the VMs (malloc()ed, to free())
 * @nr: their number
 *
 * Retries with a larger array while the list grows (E2BIG).
 *
 * Return: 0 or -errno.
 */
int kvmw_list_vms(int fd, struct kvmw_vm_info **vms, uint32_t *nr)
{
	struct kvmw_vm_list l;
	uint32_t cap = 64;
	int tries;

	*vms = NULL;
	*nr = 0;
	for (tries = 0; tries < 16; tries++) {
		struct kvmw_vm_info *a = calloc(cap, sizeof(*a));

		if (!a)
			return -ENOMEM;
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.vms_ptr = (uintptr_t)a;
		l.vm_info_size = sizeof(*a);
		l.max_vms = cap;
		if (!ioctl(fd, KVMW_IOC_LIST_VMS, &l)) {
			*vms = a;
			*nr = l.nr_vms;
			return 0;
		}
		free(a);
		if (errno != E2BIG)
			return -errno;
		cap = l.nr_vms + 16;
	}
	return -E2BIG;
}

/**
 * kvmw_snapshot() - KVMW_IOC_VM_SNAPSHOT into new arrays
 * @fd: /dev/kvmwarden
 * @vm_id: the VM
 * @s: the answer, to release with kvmw_snap_free()
 *
 * Retries with larger arrays while the VM grows (E2BIG).
 *
 * Return: 0 or -errno (-ENOENT: unknown vm_id).
 */
int kvmw_snapshot(int fd, uint64_t vm_id, struct kvmw_snap *s)
{
	uint32_t max_vcpus = 16, max_reasons = 256;
	int tries;

	memset(s, 0, sizeof(*s));
	for (tries = 0; tries < 16; tries++) {
		s->vcpus = calloc(max_vcpus, sizeof(*s->vcpus));
		s->reasons = calloc(max_reasons, sizeof(*s->reasons));
		if (!s->vcpus || !s->reasons) {
			kvmw_snap_free(s);
			return -ENOMEM;
		}
		memset(&s->hdr, 0, sizeof(s->hdr));
		s->hdr.size = sizeof(s->hdr);
		s->hdr.vm_id = vm_id;
		s->hdr.vcpus_ptr = (uintptr_t)s->vcpus;
		s->hdr.vcpu_info_size = sizeof(*s->vcpus);
		s->hdr.max_vcpus = max_vcpus;
		s->hdr.reasons_ptr = (uintptr_t)s->reasons;
		s->hdr.reason_stat_size = sizeof(*s->reasons);
		s->hdr.max_reasons = max_reasons;
		if (!ioctl(fd, KVMW_IOC_VM_SNAPSHOT, &s->hdr))
			return 0;
		if (errno != E2BIG) {
			int err = errno;

			kvmw_snap_free(s);
			return -err;
		}
		max_vcpus = s->hdr.nr_vcpus + 8;
		max_reasons = s->hdr.nr_reasons + 64;
		free(s->vcpus);
		free(s->reasons);
		s->vcpus = NULL;
		s->reasons = NULL;
	}
	return -E2BIG;
}

/**
 * kvmw_snap_free() - release the arrays of a snapshot
 * @s: the snapshot
 */
void kvmw_snap_free(struct kvmw_snap *s)
{
	free(s->vcpus);
	free(s->reasons);
	s->vcpus = NULL;
	s->reasons = NULL;
}

/**
 * kvmw_snap_vcpu_by_tid() - index of the vCPU last run by a thread
 * @s: a snapshot
 * @tid: the thread id
 *
 * Return: the index in s->vcpus, or -1.
 */
int kvmw_snap_vcpu_by_tid(const struct kvmw_snap *s, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < s->hdr.nr_vcpus; i++)
		if (s->vcpus[i].tid == (uint32_t)tid)
			return i;
	return -1;
}

/**
 * kvmw_snap_count() - exits of one vCPU for one reason
 * @s: a snapshot
 * @vcpu_index: index in s->vcpus
 * @reason: hardware reason code
 *
 * Return: the count, 0 when the reason has no entry.
 */
uint64_t kvmw_snap_count(const struct kvmw_snap *s, int vcpu_index,
			 uint32_t reason)
{
	const struct kvmw_vcpu_info *v;
	uint32_t i;

	if (vcpu_index < 0 || (uint32_t)vcpu_index >= s->hdr.nr_vcpus)
		return 0;
	v = &s->vcpus[vcpu_index];
	for (i = v->first_reason; i < v->first_reason + v->nr_reasons &&
	     i < s->hdr.nr_reasons; i++)
		if (s->reasons[i].reason == reason)
			return s->reasons[i].count;
	return 0;
}

/**
 * kvmw_find_vm() - snapshot of the VM of a process that has given vCPUs
 * @fd: /dev/kvmwarden
 * @pid: the VMM's process id
 * @tids: thread ids that must all appear among the VM's vCPUs
 * @nr_tids: their number (at least 1)
 * @s: the snapshot, to release with kvmw_snap_free()
 *
 * The list may hold VMs of earlier tests and VMs already destroyed: the
 * VM is recognised by its VMM's pid and the thread ids of its vCPUs. A
 * live VM is preferred over one flagged KVMW_VM_F_GONE.
 *
 * Return: 0, -ESRCH when no VM matches, or another -errno.
 */
int kvmw_find_vm(int fd, pid_t pid, const pid_t *tids, int nr_tids,
		 struct kvmw_snap *s)
{
	struct kvmw_vm_info *vms;
	struct kvmw_snap cur;
	bool found = false;
	uint32_t nr, i;
	int ret, t;

	memset(s, 0, sizeof(*s));
	ret = kvmw_list_vms(fd, &vms, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		if (vms[i].vmm_pid != (uint32_t)pid)
			continue;
		if (kvmw_snapshot(fd, vms[i].vm_id, &cur))
			continue;
		for (t = 0; t < nr_tids; t++)
			if (kvmw_snap_vcpu_by_tid(&cur, tids[t]) < 0)
				break;
		if (t < nr_tids) {
			kvmw_snap_free(&cur);
			continue;
		}
		if (found && (cur.hdr.vm.flags & KVMW_VM_F_GONE)) {
			kvmw_snap_free(&cur);
			continue;
		}
		if (found)
			kvmw_snap_free(s);
		*s = cur;
		found = true;
		if (!(cur.hdr.vm.flags & KVMW_VM_F_GONE))
			break;
	}
	free(vms);
	return found ? 0 : -ESRCH;
}

/**
 * kvmw_test_open() - what a kvmwarden kernel test needs, or why not
 * @features: KVMW_FEAT_* bits the test needs
 * @what: names them in the reason, e.g. "the scheduler view"
 * @why: set to the reason to skip when something is missing
 * @size: size of @why
 *
 * Return: an open /dev/kvmwarden (close it) when KVM runs on kvm_amd or
 * kvm_intel and the module has @features; else -errno, with @why set
 * (non-empty) when something the test needs is missing and left empty
 * when the device could not be opened or queried (a failure).
 */
int kvmw_test_open(uint64_t features, const char *what, char *why,
		   size_t size)
{
	struct kvmw_handshake hs;
	int fd, ret;

	if (!kvm_available() || !kvm_backend_is_hw()) {
		snprintf(why, size, "no KVM on kvm_amd or kvm_intel");
		return -ENODEV;
	}
	why[0] = 0;
	fd = kvmw_open();
	if (fd < 0)
		return fd;
	ret = kvmw_handshake(fd, &hs);
	if (ret) {
		close(fd);
		return ret;
	}
	if ((hs.features & features) != features) {
		snprintf(why, size, "kvmwarden without %s", what);
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

/**
 * kvmw_vcpu_info_now() - kvmwarden's record of one library vCPU, now
 * @fd: /dev/kvmwarden
 * @vcpu: the vCPU; it must have run (its thread id is known)
 * @out: the record
 *
 * Return: 0, -ESRCH when kvmwarden has no such vCPU, or another -errno.
 */
int kvmw_vcpu_info_now(int fd, struct kvm_vcpu *vcpu,
		       struct kvmw_vcpu_info *out)
{
	pid_t tid = vcpu->tid;
	struct kvmw_snap s;
	int idx, ret;

	ret = kvmw_find_vm(fd, getpid(), &tid, 1, &s);
	if (ret)
		return ret;
	idx = kvmw_snap_vcpu_by_tid(&s, tid);
	if (idx >= 0)
		*out = s.vcpus[idx];
	kvmw_snap_free(&s);
	return idx >= 0 ? 0 : -ESRCH;
}

/**
 * kvmw_find_kvm_vm() - kvmw_find_vm() for all run vCPUs of a library VM
 * @fd: /dev/kvmwarden
 * @vm: the VM; vCPUs that never ran (tid 0) are not looked for
 * @s: the snapshot, to release with kvmw_snap_free()
 *
 * Return: 0, -ESRCH when no VM matches, or another -errno.
 */
int kvmw_find_kvm_vm(int fd, struct kvm_vm *vm, struct kvmw_snap *s)
{
	pid_t tids[KVM_UTIL_MAX_VCPUS];
	int i, n = 0;

	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->tid)
			tids[n++] = vm->vcpus[i]->tid;
	if (!n)
		return -EINVAL;
	return kvmw_find_vm(fd, getpid(), tids, n, s);
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
