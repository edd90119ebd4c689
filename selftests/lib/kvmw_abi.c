// SPDX-License-Identifier: GPL-2.0
/*
 * API 1 of /dev/kvmwarden as it is (KVMW_IOC_LIST_VMS,
 * KVMW_IOC_VM_SNAPSHOT), for the tests whose subject is that ABI; see
 * kvmw_util.h. The array queries and their checks are libkvmwarden's
 * device backend (userspace/lib/kvmw_dev.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvmw_dev.h"
#include "kvmw_util.h"

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

/* A libkvmwarden device on the descriptor @fd of the caller. */
static void dev_on(struct kvmw_dev *dev, int fd)
{
	memset(dev, 0, sizeof(*dev));
	dev->fd = fd;
	dev->ops = &kvmw_dev_sys_ops;
}

/**
 * kvmw_list_vms() - KVMW_IOC_LIST_VMS into a new array
 * @fd: /dev/kvmwarden
 * @vms: the VMs (malloc()ed, to free(); NULL when none)
 * @nr: their number
 *
 * libkvmwarden's array query: retried with a larger array while the list
 * grows (E2BIG).
 *
 * Return: 0 or -errno.
 */
int kvmw_list_vms(int fd, struct kvmw_vm_info **vms, uint32_t *nr)
{
	struct kvmw_dev dev;
	size_t n;
	int ret;

	dev_on(&dev, fd);
	ret = kvmw_dev_list_vms(&dev, vms, &n);
	*nr = ret ? 0 : n;
	return ret;
}

/**
 * kvmw_snapshot() - KVMW_IOC_VM_SNAPSHOT into new arrays
 * @fd: /dev/kvmwarden
 * @vm_id: the VM
 * @s: the answer, to release with kvmw_snap_free()
 *
 * libkvmwarden's array query: retried with larger arrays while the VM
 * grows (E2BIG), the answer's cross references checked.
 *
 * Return: 0 or -errno (-ENOENT: unknown vm_id).
 */
int kvmw_snapshot(int fd, uint64_t vm_id, struct kvmw_snap *s)
{
	struct kvmw_vm_snap raw;
	struct kvmw_dev dev;
	int ret;

	memset(s, 0, sizeof(*s));
	dev_on(&dev, fd);
	ret = kvmw_dev_vm_snapshot(&dev, vm_id, &raw);
	if (ret)
		return ret;
	s->hdr.size = sizeof(s->hdr);
	s->hdr.vm_id = vm_id;
	s->hdr.vcpu_info_size = sizeof(*s->vcpus);
	s->hdr.reason_stat_size = sizeof(*s->reasons);
	s->hdr.nr_vcpus = raw.nr_vcpus;
	s->hdr.nr_reasons = raw.nr_reasons;
	s->hdr.vm = raw.vm;
	s->hdr.mem = raw.mem;
	s->vcpus = raw.vcpus;
	s->reasons = raw.reasons;
	return 0;
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
