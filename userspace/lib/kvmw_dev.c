// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device access for the kvmwarden tools (see kvmw_dev.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
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

/* One array of a query: its buffer, capacity and element size. */
struct grow_arr {
	void *buf;
	__u32 cap;
	size_t size;
	/* Out of each call: the number of elements the module has. */
	__u32 need;
};

/*
 * The one array-query loop of the UAPI: @call fills its request with the
 * buffers and capacities of @a, makes the ioctl and sets each need. When
 * everything fits the answer is complete; otherwise (E2BIG, or a size
 * query that succeeded) the short arrays grow with headroom, since a
 * running VM keeps growing, and the call is made again. E2BIG although
 * everything fits is a broken answer (-EPROTO); a module that keeps
 * growing for KVMW_DEV_MAX_TRIES calls gives -EAGAIN. On error the
 * buffers are freed.
 */
static int query_grow(struct kvmw_dev *dev, void *req,
		      int (*call)(struct kvmw_dev *dev, void *req,
				  struct grow_arr *a),
		      struct grow_arr *a, unsigned int n)
{
	unsigned int i, tries;
	bool fits;
	int ret;

	for (tries = 0; tries < KVMW_DEV_MAX_TRIES; tries++) {
		ret = call(dev, req, a);
		if (ret && ret != -E2BIG)
			goto err;
		fits = true;
		for (i = 0; i < n; i++)
			fits &= a[i].need <= a[i].cap;
		if (fits) {
			if (!ret)
				return 0;
			ret = -EPROTO;
			goto err;
		}
		for (i = 0; i < n; i++) {
			__u32 want = headroom(a[i].need);

			if (a[i].need <= a[i].cap)
				continue;
			ret = grow(&a[i].buf, want, a[i].size);
			if (ret)
				goto err;
			a[i].cap = want;
		}
	}
	ret = -EAGAIN;
err:
	for (i = 0; i < n; i++) {
		free(a[i].buf);
		a[i].buf = NULL;
	}
	return ret;
}

static int list_call(struct kvmw_dev *dev, void *arg, struct grow_arr *a)
{
	struct kvmw_vm_list *req = arg;
	int ret;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->vms_ptr = (__u64)(uintptr_t)a[0].buf;
	req->vm_info_size = a[0].size;
	req->max_vms = a[0].cap;
	ret = dev_ioctl(dev, KVMW_IOC_LIST_VMS, req);
	a[0].need = req->nr_vms;
	return ret;
}

int kvmw_dev_list_vms(struct kvmw_dev *dev, struct kvmw_vm_info **vms,
		      size_t *nr)
{
	struct grow_arr a[1] = { { .size = sizeof(**vms) } };
	struct kvmw_vm_list req;
	int ret;

	*vms = NULL;
	*nr = 0;
	ret = query_grow(dev, &req, list_call, a, 1);
	if (ret)
		return ret;
	if (!req.nr_vms) {
		free(a[0].buf);
		return 0;
	}
	*vms = a[0].buf;
	*nr = req.nr_vms;
	return 0;
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

static int snap_call(struct kvmw_dev *dev, void *arg, struct grow_arr *a)
{
	struct kvmw_vm_snapshot *req = arg;
	__u64 vm_id = req->vm_id;
	int ret;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->vm_id = vm_id;
	req->vcpus_ptr = (__u64)(uintptr_t)a[0].buf;
	req->vcpu_info_size = a[0].size;
	req->max_vcpus = a[0].cap;
	req->reasons_ptr = (__u64)(uintptr_t)a[1].buf;
	req->reason_stat_size = a[1].size;
	req->max_reasons = a[1].cap;
	ret = dev_ioctl(dev, KVMW_IOC_VM_SNAPSHOT, req);
	a[0].need = req->nr_vcpus;
	a[1].need = req->nr_reasons;
	return ret;
}

int kvmw_dev_vm_snapshot(struct kvmw_dev *dev, __u64 vm_id,
			 struct kvmw_vm_snap *snap)
{
	struct grow_arr a[2] = {
		{ .size = sizeof(struct kvmw_vcpu_info) },
		{ .size = sizeof(struct kvmw_reason_stat) },
	};
	struct kvmw_vm_snapshot req = { .vm_id = vm_id };
	int ret;

	memset(snap, 0, sizeof(*snap));
	ret = query_grow(dev, &req, snap_call, a, 2);
	if (ret)
		return ret;
	snap->vm = req.vm;
	snap->vcpus = a[0].buf;
	snap->nr_vcpus = req.nr_vcpus;
	snap->reasons = a[1].buf;
	snap->nr_reasons = req.nr_reasons;
	/* An older module leaves it as given: zero. */
	snap->mem = req.mem;
	ret = kvmw_vm_snap_check(snap);
	if (ret)
		kvmw_vm_snap_free(snap);
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

static int all_call(struct kvmw_dev *dev, void *arg, struct grow_arr *a)
{
	struct kvmw_snapshot_all *req = arg;
	int ret;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->vms_ptr = (__u64)(uintptr_t)a[0].buf;
	req->vm_entry_size = a[0].size;
	req->max_vms = a[0].cap;
	req->vcpus_ptr = (__u64)(uintptr_t)a[1].buf;
	req->vcpu_info_size = a[1].size;
	req->max_vcpus = a[1].cap;
	req->reasons_ptr = (__u64)(uintptr_t)a[2].buf;
	req->reason_stat_size = a[2].size;
	req->max_reasons = a[2].cap;
	ret = dev_ioctl(dev, KVMW_IOC_SNAPSHOT_ALL, req);
	a[0].need = req->nr_vms;
	a[1].need = req->nr_vcpus;
	a[2].need = req->nr_reasons;
	return ret;
}

int kvmw_dev_snapshot_all(struct kvmw_dev *dev, struct kvmw_vm_snap **out,
			  size_t *nr)
{
	struct grow_arr a[3] = {
		{ .size = sizeof(struct kvmw_vm_entry) },
		{ .size = sizeof(struct kvmw_vcpu_info) },
		{ .size = sizeof(struct kvmw_reason_stat) },
	};
	const struct kvmw_vm_entry *vms;
	struct kvmw_vm_snap *snaps = NULL;
	struct kvmw_snapshot_all req;
	__u32 i;
	int ret;

	*out = NULL;
	*nr = 0;
	ret = query_grow(dev, &req, all_call, a, 3);
	if (ret)
		return ret;
	vms = a[0].buf;
	if (req.nr_vms) {
		snaps = calloc(req.nr_vms, sizeof(*snaps));
		if (!snaps) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < req.nr_vms; i++) {
		ret = cut_vm(&vms[i], a[1].buf, req.nr_vcpus, a[2].buf,
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
	for (i = 0; i < 3; i++)
		free(a[i].buf);
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
