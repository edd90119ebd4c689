// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device access for the kvmwarden tools (see kvmw_dev.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvmw_dev.h"

static int sys_open(void *priv, const char *path)
{
	int fd;

	(void)priv;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int sys_ioctl(void *priv, int fd, unsigned long req, void *arg)
{
	(void)priv;
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static void sys_close(void *priv, int fd)
{
	(void)priv;
	close(fd);
}

static ssize_t sys_read(void *priv, int fd, void *buf, size_t len)
{
	ssize_t n;

	(void)priv;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

static int sys_poll(void *priv, int fd, int timeout_ms, const sigset_t *mask)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	int ret;

	(void)priv;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	ret = ppoll(&pfd, 1, tsp, mask);
	if (ret < 0)
		return -errno;
	if (ret && (pfd.revents & (POLLERR | POLLNVAL)))
		return -EIO;
	return ret ? 1 : 0;
}

const struct kvmw_dev_ops kvmw_dev_sys_ops = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.close = sys_close,
	.read = sys_read,
	.poll = sys_poll,
};

static int dev_ioctl(struct kvmw_dev *dev, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = dev->ops->ioctl(dev->ops->priv, dev->fd, req, arg);
	} while (ret == -EINTR);
	return ret;
}

int kvmw_dev_handshake(struct kvmw_dev *dev)
{
	struct kvmw_handshake hs;
	int ret;

	memset(&hs, 0, sizeof(hs));
	hs.size = sizeof(hs);
	ret = dev_ioctl(dev, KVMW_IOC_HANDSHAKE, &hs);
	if (ret)
		return ret;
	dev->hs = hs;
	return 0;
}

int kvmw_dev_open(struct kvmw_dev *dev, const char *path,
		  const struct kvmw_dev_ops *ops)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops ? ops : &kvmw_dev_sys_ops;
	dev->fd = dev->ops->open(dev->ops->priv, path);
	if (dev->fd < 0)
		return dev->fd;

	ret = kvmw_dev_handshake(dev);
	/* EINVAL: not our ioctl number space on some other driver. */
	if (ret == -EINVAL)
		ret = -ENOTTY;
	if (!ret && dev->hs.api_version != KVMW_API_VERSION)
		ret = -EPROTONOSUPPORT;
	if (ret) {
		dev->ops->close(dev->ops->priv, dev->fd);
		dev->fd = -1;
	}
	return ret;
}

void kvmw_dev_close(struct kvmw_dev *dev)
{
	if (dev->fd >= 0)
		dev->ops->close(dev->ops->priv, dev->fd);
	dev->fd = -1;
}

/* Capacity to ask for when @need elements exist now: some headroom. */
static __u32 headroom(__u32 need)
{
	__u64 cap = (__u64)need + need / 4 + 4;

	return cap > UINT32_MAX ? UINT32_MAX : (__u32)cap;
}

/* realloc() for arrays, without overflow; on failure the old array stays. */
static int grow(void **p, size_t nmemb, size_t size)
{
	void *n;

	if (!nmemb)
		return 0;
	if (nmemb > SIZE_MAX / size)
		return -ENOMEM;
	n = realloc(*p, nmemb * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	return 0;
}

/*
 * Make the array *@p of *@cap elements hold @need, with headroom since a
 * running VM keeps growing; nothing changes when it already does.
 */
static int grow_to(void **p, __u32 *cap, __u32 need, size_t size)
{
	__u32 want;
	int ret;

	if (need <= *cap)
		return 0;
	want = headroom(need);
	ret = grow(p, want, size);
	if (!ret)
		*cap = want;
	return ret;
}

int kvmw_dev_list_vms(struct kvmw_dev *dev, struct kvmw_vm_info **vms,
		      size_t *nr)
{
	struct kvmw_vm_info *buf = NULL;
	struct kvmw_vm_list req;
	__u32 cap = 0;
	int ret, tries;

	*vms = NULL;
	*nr = 0;
	for (tries = 0; tries < KVMW_DEV_MAX_TRIES; tries++) {
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.vms_ptr = (__u64)(uintptr_t)buf;
		req.vm_info_size = sizeof(*buf);
		req.max_vms = cap;
		ret = dev_ioctl(dev, KVMW_IOC_LIST_VMS, &req);
		if (ret && ret != -E2BIG)
			goto err;
		/*
		 * A query with max_vms == 0 may succeed and only report
		 * nr_vms: treat it like E2BIG.
		 */
		if (!ret && req.nr_vms <= cap) {
			if (!req.nr_vms) {
				free(buf);
				buf = NULL;
			}
			*vms = buf;
			*nr = req.nr_vms;
			return 0;
		}
		if (req.nr_vms <= cap) {
			/* E2BIG although everything fits: broken answer. */
			ret = -EPROTO;
			goto err;
		}
		cap = headroom(req.nr_vms);
		ret = grow((void **)&buf, cap, sizeof(*buf));
		if (ret)
			goto err;
	}
	ret = -EAGAIN;
err:
	free(buf);
	return ret;
}

int kvmw_vm_snap_check(const struct kvmw_vm_snap *snap)
{
	__u32 i, r;

	if ((snap->nr_vcpus && !snap->vcpus) ||
	    (snap->nr_reasons && !snap->reasons))
		return -EPROTO;
	for (i = 0; i < snap->nr_vcpus; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		/* VER3 names the VM of each vCPU; older modules give 0. */
		if (v->vm_id && v->vm_id != snap->vm.vm_id)
			return -EPROTO;
		if (v->nr_reasons > snap->nr_reasons ||
		    v->first_reason > snap->nr_reasons - v->nr_reasons)
			return -EPROTO;
		for (r = v->first_reason; r < v->first_reason + v->nr_reasons;
		     r++) {
			if (snap->reasons[r].vcpu_index != i)
				return -EPROTO;
		}
	}
	for (r = 0; r < snap->nr_reasons; r++) {
		if (snap->reasons[r].vcpu_index >= snap->nr_vcpus)
			return -EPROTO;
	}
	return 0;
}

/*
 * Snapshots ask for the newest layouts this tool knows, so that a module
 * fills every field it has (an older one zero-fills the rest, which the
 * feature bits tell apart from measured zeros).
 */
_Static_assert(sizeof(struct kvmw_vcpu_info) == KVMW_VCPU_INFO_SIZE_VER3,
	       "struct kvmw_vcpu_info is not the VER3 layout");
_Static_assert(sizeof(struct kvmw_reason_stat) == KVMW_REASON_STAT_SIZE_VER1,
	       "struct kvmw_reason_stat is not the VER1 layout");
_Static_assert(sizeof(struct kvmw_vm_snapshot) == KVMW_VM_SNAPSHOT_SIZE_VER1,
	       "struct kvmw_vm_snapshot is not the VER1 layout");
_Static_assert(sizeof(struct kvmw_vm_mem) == KVMW_VM_MEM_SIZE,
	       "struct kvmw_vm_mem has the wrong size");
_Static_assert(sizeof(struct kvmw_vm_entry) == KVMW_VM_ENTRY_SIZE_VER0,
	       "struct kvmw_vm_entry is not the VER0 layout");
_Static_assert(sizeof(struct kvmw_snapshot_all) == KVMW_SNAPSHOT_ALL_SIZE_VER0,
	       "struct kvmw_snapshot_all is not the VER0 layout");
_Static_assert(sizeof(struct kvmw_event) == KVMW_EVENT_SIZE_VER0,
	       "struct kvmw_event is not the VER0 layout");

int kvmw_dev_vm_snapshot(struct kvmw_dev *dev, __u64 vm_id,
			 struct kvmw_vm_snap *snap)
{
	struct kvmw_reason_stat *reasons = NULL;
	struct kvmw_vcpu_info *vcpus = NULL;
	__u32 max_vcpus = 0, max_reasons = 0;
	struct kvmw_vm_snapshot req;
	int ret, tries;

	memset(snap, 0, sizeof(*snap));
	for (tries = 0; tries < KVMW_DEV_MAX_TRIES; tries++) {
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.vm_id = vm_id;
		req.vcpus_ptr = (__u64)(uintptr_t)vcpus;
		req.vcpu_info_size = sizeof(*vcpus);
		req.max_vcpus = max_vcpus;
		req.reasons_ptr = (__u64)(uintptr_t)reasons;
		req.reason_stat_size = sizeof(*reasons);
		req.max_reasons = max_reasons;
		ret = dev_ioctl(dev, KVMW_IOC_VM_SNAPSHOT, &req);
		if (ret && ret != -E2BIG)
			goto err;
		if (req.nr_vcpus <= max_vcpus &&
		    req.nr_reasons <= max_reasons) {
			if (ret) {
				/* E2BIG although everything fits. */
				ret = -EPROTO;
				goto err;
			}
			snap->vm = req.vm;
			snap->vcpus = vcpus;
			snap->nr_vcpus = req.nr_vcpus;
			snap->reasons = reasons;
			snap->nr_reasons = req.nr_reasons;
			/* An older module leaves it as given: zero. */
			snap->mem = req.mem;
			ret = kvmw_vm_snap_check(snap);
			if (ret) {
				memset(snap, 0, sizeof(*snap));
				goto err;
			}
			return 0;
		}
		/*
		 * E2BIG (or a successful size query): grow what is short,
		 * with headroom since a running VM keeps growing.
		 */
		ret = grow_to((void **)&vcpus, &max_vcpus, req.nr_vcpus,
			      sizeof(*vcpus));
		if (ret)
			goto err;
		ret = grow_to((void **)&reasons, &max_reasons, req.nr_reasons,
			      sizeof(*reasons));
		if (ret)
			goto err;
	}
	ret = -EAGAIN;
err:
	free(vcpus);
	free(reasons);
	return ret;
}

/*
 * Cuts VM @e out of a KVMW_IOC_SNAPSHOT_ALL answer into @snap, with its
 * own arrays indexed as a KVMW_IOC_VM_SNAPSHOT answer would be: its vCPUs
 * in the answer's order, each vCPU's reasons after the previous vCPU's.
 * Returns 0, -ENOMEM or -EPROTO (indices out of the answer's arrays, a
 * reason carrying another vCPU's index).
 */
static int cut_vm(const struct kvmw_vm_entry *e,
		  const struct kvmw_vcpu_info *vcpus, __u32 nr_vcpus,
		  const struct kvmw_reason_stat *reasons, __u32 nr_reasons,
		  struct kvmw_vm_snap *snap)
{
	__u32 n = e->vm.nr_vcpus, first = e->first_vcpu, i, r, pos = 0;
	__u64 nr_r = 0;
	int ret;

	memset(snap, 0, sizeof(*snap));
	if (first > nr_vcpus || n > nr_vcpus - first)
		return -EPROTO;
	for (i = first; i < first + n; i++) {
		if (vcpus[i].nr_reasons > nr_reasons ||
		    vcpus[i].first_reason > nr_reasons - vcpus[i].nr_reasons)
			return -EPROTO;
		nr_r += vcpus[i].nr_reasons;
	}
	if (nr_r > nr_reasons)
		return -EPROTO;
	snap->vm = e->vm;
	snap->mem = e->mem;
	ret = grow((void **)&snap->vcpus, n, sizeof(*vcpus));
	if (!ret)
		ret = grow((void **)&snap->reasons, nr_r, sizeof(*reasons));
	if (ret)
		goto err;
	for (i = 0; i < n; i++) {
		const struct kvmw_vcpu_info *v = &vcpus[first + i];

		snap->vcpus[i] = *v;
		snap->vcpus[i].first_reason = pos;
		for (r = v->first_reason; r < v->first_reason + v->nr_reasons;
		     r++) {
			if (reasons[r].vcpu_index != first + i) {
				ret = -EPROTO;
				goto err;
			}
			snap->reasons[pos] = reasons[r];
			snap->reasons[pos++].vcpu_index = i;
		}
	}
	snap->nr_vcpus = n;
	snap->nr_reasons = pos;
	ret = kvmw_vm_snap_check(snap);
	if (!ret)
		return 0;
err:
	kvmw_vm_snap_free(snap);
	return ret;
}

int kvmw_dev_snapshot_all(struct kvmw_dev *dev, struct kvmw_vm_snap **out,
			  size_t *nr)
{
	struct kvmw_reason_stat *reasons = NULL;
	struct kvmw_vcpu_info *vcpus = NULL;
	struct kvmw_vm_entry *vms = NULL;
	__u32 max_vms = 0, max_vcpus = 0, max_reasons = 0, i;
	struct kvmw_vm_snap *snaps = NULL;
	struct kvmw_snapshot_all req;
	int ret, tries;

	*out = NULL;
	*nr = 0;
	for (tries = 0; tries < KVMW_DEV_MAX_TRIES; tries++) {
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.vms_ptr = (__u64)(uintptr_t)vms;
		req.vm_entry_size = sizeof(*vms);
		req.max_vms = max_vms;
		req.vcpus_ptr = (__u64)(uintptr_t)vcpus;
		req.vcpu_info_size = sizeof(*vcpus);
		req.max_vcpus = max_vcpus;
		req.reasons_ptr = (__u64)(uintptr_t)reasons;
		req.reason_stat_size = sizeof(*reasons);
		req.max_reasons = max_reasons;
		ret = dev_ioctl(dev, KVMW_IOC_SNAPSHOT_ALL, &req);
		if (ret && ret != -E2BIG)
			goto out;
		if (req.nr_vms <= max_vms && req.nr_vcpus <= max_vcpus &&
		    req.nr_reasons <= max_reasons) {
			if (ret) {
				/* E2BIG although everything fits. */
				ret = -EPROTO;
				goto out;
			}
			break;
		}
		/* E2BIG or the size query: grow what is short, with room. */
		ret = grow_to((void **)&vms, &max_vms, req.nr_vms,
			      sizeof(*vms));
		if (ret)
			goto out;
		ret = grow_to((void **)&vcpus, &max_vcpus, req.nr_vcpus,
			      sizeof(*vcpus));
		if (ret)
			goto out;
		ret = grow_to((void **)&reasons, &max_reasons, req.nr_reasons,
			      sizeof(*reasons));
		if (ret)
			goto out;
	}
	if (tries == KVMW_DEV_MAX_TRIES) {
		ret = -EAGAIN;
		goto out;
	}
	if (req.nr_vms) {
		snaps = calloc(req.nr_vms, sizeof(*snaps));
		if (!snaps) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < req.nr_vms; i++) {
		ret = cut_vm(&vms[i], vcpus, req.nr_vcpus, reasons,
			     req.nr_reasons, &snaps[i]);
		if (ret) {
			while (i--)
				kvmw_vm_snap_free(&snaps[i]);
			free(snaps);
			goto out;
		}
	}
	*out = snaps;
	*nr = req.nr_vms;
out:
	free(vms);
	free(vcpus);
	free(reasons);
	return ret;
}

ssize_t kvmw_dev_read(struct kvmw_dev *dev, void *buf, size_t len)
{
	if (!dev->ops->read)
		return -EOPNOTSUPP;
	return dev->ops->read(dev->ops->priv, dev->fd, buf, len);
}

int kvmw_dev_poll(struct kvmw_dev *dev, int timeout_ms, const sigset_t *mask)
{
	if (!dev->ops->poll)
		return -EOPNOTSUPP;
	return dev->ops->poll(dev->ops->priv, dev->fd, timeout_ms, mask);
}

void kvmw_vm_snap_free(struct kvmw_vm_snap *snap)
{
	free(snap->vcpus);
	free(snap->reasons);
	memset(snap, 0, sizeof(*snap));
}
