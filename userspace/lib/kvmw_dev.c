// SPDX-License-Identifier: GPL-2.0-only
/*
 * libkvmwarden's device backend (see kvmw_dev.h): /dev/kvmwarden through
 * the UAPI, and the one place of the library that reads the UAPI's
 * structs. Its answers become the library's model (libkvmwarden.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvmw_dev.h"
#include "compiler.h"
#include "libkvmwarden.h"

static int sys_open(void *priv, const char *path, int flags)
{
	int fd;

	(void)priv;
	fd = open(path, flags | O_CLOEXEC);
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
	return kvmw_dev_open_rw(dev, path, ops, false);
}

int kvmw_dev_open_rw(struct kvmw_dev *dev, const char *path,
		     const struct kvmw_dev_ops *ops, bool write)
{
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops ? ops : &kvmw_dev_sys_ops;
	dev->fd = dev->ops->open(dev->ops->priv, path,
				 write ? O_RDWR : O_RDONLY);
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

/* Self-describing statistics */

_Static_assert(sizeof(struct kvmw_stat_desc) == KVMW_STAT_DESC_SIZE_VER0,
	       "struct kvmw_stat_desc is not the VER0 layout");
_Static_assert(sizeof(struct kvmw_stats_desc) == KVMW_STATS_DESC_SIZE_VER0,
	       "struct kvmw_stats_desc is not the VER0 layout");
_Static_assert(sizeof(struct kvmw_stats_read) == KVMW_STATS_READ_SIZE_VER0,
	       "struct kvmw_stats_read is not the VER0 layout");
_Static_assert(sizeof(struct kvmw_vm_rec) == KVMW_VM_REC_HDR_SIZE &&
	       sizeof(struct kvmw_vcpu_rec) == KVMW_VCPU_REC_HDR_SIZE &&
	       sizeof(struct kvmw_reason_rec) == KVMW_REASON_REC_HDR_SIZE,
	       "record headers are not the sizes of the UAPI");

/* Records are arguments of an ioctl: the module takes at most a page. */
#define KVMW_DEV_MAX_REC	4096

static int desc_call(struct kvmw_dev *dev, void *arg, struct grow_arr *a)
{
	struct kvmw_stats_desc *req = arg;
	int ret;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->descs_ptr = (__u64)(uintptr_t)a[0].buf;
	req->desc_size = a[0].size;
	req->max_descs = a[0].cap;
	ret = dev_ioctl(dev, KVMW_IOC_STATS_DESC, req);
	a[0].need = req->nr_descs;
	return ret;
}

int kvmw_dev_stats_desc(struct kvmw_dev *dev, struct kvmw_dev_layout *l)
{
	struct grow_arr a[1] = { { .size = sizeof(struct kvmw_stat_desc) } };
	struct kvmw_stats_desc req;
	__u32 i;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = query_grow(dev, &req, desc_call, a, 1);
	if (ret)
		return ret;
	l->descs = a[0].buf;
	l->nr_descs = req.nr_descs;
	l->nr_nodes = req.nr_nodes;
	l->values[KVMW_SCOPE_VM] = req.vm_values;
	l->values[KVMW_SCOPE_VCPU] = req.vcpu_values;
	l->values[KVMW_SCOPE_REASON] = req.reason_values;
	for (i = 0; i < l->nr_descs; i++)
		l->descs[i].name[KVMW_STAT_NAME_LEN - 1] = '\0';
	if (req.vm_values > (KVMW_DEV_MAX_REC - KVMW_VM_REC_HDR_SIZE) / 8 ||
	    req.vcpu_values > (KVMW_DEV_MAX_REC - KVMW_VCPU_REC_HDR_SIZE) / 8 ||
	    req.reason_values >
	    (KVMW_DEV_MAX_REC - KVMW_REASON_REC_HDR_SIZE) / 8) {
		kvmw_dev_layout_free(l);
		return -EPROTO;
	}
	return 0;
}

void kvmw_dev_layout_free(struct kvmw_dev_layout *l)
{
	free(l->descs);
	memset(l, 0, sizeof(*l));
}

static int stats_call(struct kvmw_dev *dev, void *arg, struct grow_arr *a)
{
	struct kvmw_stats_read *req = arg;
	__u64 vm_id = req->vm_id;
	int ret;

	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->vm_id = vm_id;
	req->vms_ptr = (__u64)(uintptr_t)a[0].buf;
	req->vm_rec_size = a[0].size;
	req->max_vms = a[0].cap;
	req->vcpus_ptr = (__u64)(uintptr_t)a[1].buf;
	req->vcpu_rec_size = a[1].size;
	req->max_vcpus = a[1].cap;
	req->reasons_ptr = (__u64)(uintptr_t)a[2].buf;
	req->reason_rec_size = a[2].size;
	req->max_reasons = a[2].cap;
	ret = dev_ioctl(dev, KVMW_IOC_STATS_READ, req);
	a[0].need = req->nr_vms;
	a[1].need = req->nr_vcpus;
	a[2].need = req->nr_reasons;
	return ret;
}

/* The indices of an answer hold together: every record is its own. */
static int stats_check(const struct kvmw_stats_answer *a)
{
	__u32 i, k, nv = 0;

	for (i = 0; i < a->nr_vms; i++) {
		const struct kvmw_vm_rec *vm = (const void *)
			(a->vms + i * a->vm_size);

		/* VMs own consecutive runs of vCPUs, in order. */
		if (vm->first_vcpu != nv || vm->nr_vcpus > a->nr_vcpus - nv)
			return -EPROTO;
		for (k = nv; k < nv + vm->nr_vcpus; k++) {
			const struct kvmw_vcpu_rec *v = (const void *)
				(a->vcpus + k * a->vcpu_size);

			if (v->vm_index != i)
				return -EPROTO;
		}
		nv += vm->nr_vcpus;
	}
	if (nv != a->nr_vcpus)
		return -EPROTO;
	for (i = 0; i < a->nr_vcpus; i++) {
		const struct kvmw_vcpu_rec *v = (const void *)
			(a->vcpus + i * a->vcpu_size);

		if (v->nr_reasons > a->nr_reasons ||
		    v->first_reason > a->nr_reasons - v->nr_reasons)
			return -EPROTO;
		for (k = v->first_reason; k < v->first_reason + v->nr_reasons;
		     k++) {
			const struct kvmw_reason_rec *r = (const void *)
				(a->reasons + k * a->reason_size);

			if (r->vcpu_index != i)
				return -EPROTO;
		}
	}
	for (k = 0; k < a->nr_reasons; k++) {
		const struct kvmw_reason_rec *r = (const void *)
			(a->reasons + k * a->reason_size);

		if (r->vcpu_index >= a->nr_vcpus)
			return -EPROTO;
	}
	return 0;
}

int kvmw_dev_stats_read(struct kvmw_dev *dev, const struct kvmw_dev_layout *l,
			__u64 vm_id, struct kvmw_stats_answer *a)
{
	struct grow_arr g[3] = {
		{ .size = KVMW_VM_REC_HDR_SIZE +
			  8 * (size_t)l->values[KVMW_SCOPE_VM] },
		{ .size = KVMW_VCPU_REC_HDR_SIZE +
			  8 * (size_t)l->values[KVMW_SCOPE_VCPU] },
		{ .size = KVMW_REASON_REC_HDR_SIZE +
			  8 * (size_t)l->values[KVMW_SCOPE_REASON] },
	};
	struct kvmw_stats_read req = { .vm_id = vm_id };
	int ret;

	memset(a, 0, sizeof(*a));
	ret = query_grow(dev, &req, stats_call, g, 3);
	if (ret)
		return ret;
	a->vms = g[0].buf;
	a->vcpus = g[1].buf;
	a->reasons = g[2].buf;
	a->nr_vms = req.nr_vms;
	a->nr_vcpus = req.nr_vcpus;
	a->nr_reasons = req.nr_reasons;
	a->vm_size = g[0].size;
	a->vcpu_size = g[1].size;
	a->reason_size = g[2].size;
	a->time_ns = req.time_ns;
	ret = stats_check(a);
	if (ret)
		kvmw_stats_answer_free(a);
	return ret;
}

void kvmw_stats_answer_free(struct kvmw_stats_answer *a)
{
	free(a->vms);
	free(a->vcpus);
	free(a->reasons);
	memset(a, 0, sizeof(*a));
}

/* Samples */

static int cmp_vm_info(const void *a, const void *b)
{
	const struct kvmw_vm_info *x = a, *y = b;

	return (x->vm_id > y->vm_id) - (x->vm_id < y->vm_id);
}

void kvmw_sort_vm_infos(struct kvmw_vm_info *vms, size_t nr)
{
	if (nr)
		qsort(vms, nr, sizeof(*vms), cmp_vm_info);
}

static bool wanted_id(__u64 vm_id, const __u64 *ids, size_t nr_ids)
{
	size_t i;

	if (!nr_ids)
		return true;
	for (i = 0; i < nr_ids; i++) {
		if (ids[i] == vm_id)
			return true;
	}
	return false;
}

static int cmp_vm_snap(const void *a, const void *b)
{
	const struct kvmw_vm_snap *x = a, *y = b;

	return cmp_vm_info(&x->vm, &y->vm);
}

/*
 * The sample from one KVMW_IOC_SNAPSHOT_ALL call: the VMs wanted, sorted
 * by vm_id like the other path gives them.
 */
static int sample_all(struct kvmw_dev *dev, const __u64 *ids, size_t nr_ids,
		      struct kvmw_sample *s)
{
	size_t nr, i;
	int ret;

	ret = kvmw_dev_snapshot_all(dev, &s->vms, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		if (wanted_id(s->vms[i].vm.vm_id, ids, nr_ids))
			s->vms[s->nr_vms++] = s->vms[i];
		else
			kvmw_vm_snap_free(&s->vms[i]);
	}
	if (!s->nr_vms) {
		free(s->vms);
		s->vms = NULL;
	}
	if (s->nr_vms)
		qsort(s->vms, s->nr_vms, sizeof(*s->vms), cmp_vm_snap);
	return 0;
}

int kvmw_sample_take(struct kvmw_dev *dev, const __u64 *ids, size_t nr_ids,
		     struct kvmw_sample *s)
{
	struct kvmw_vm_info *list;
	size_t nr, i;
	int ret;

	memset(s, 0, sizeof(*s));
	s->t_ns = kvmw_now_ns();
	ret = kvmw_dev_handshake(dev);
	if (ret)
		return ret;
	/* The module may have been replaced since kvmw_dev_open(). */
	if (dev->hs.api_version != KVMW_API_VERSION)
		return -EPROTONOSUPPORT;
	s->hs = dev->hs;

	/* One call and one consistent pass when the module offers it. */
	if (s->hs.features & KVMW_FEAT_SNAPSHOT_ALL) {
		ret = sample_all(dev, ids, nr_ids, s);
		if (ret)
			kvmw_sample_free(s);
		return ret;
	}

	ret = kvmw_dev_list_vms(dev, &list, &nr);
	if (ret)
		return ret;
	kvmw_sort_vm_infos(list, nr);

	if (nr) {
		s->vms = calloc(nr, sizeof(*s->vms));
		if (!s->vms) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < nr; i++) {
		if (!wanted_id(list[i].vm_id, ids, nr_ids))
			continue;
		ret = kvmw_dev_vm_snapshot(dev, list[i].vm_id,
					   &s->vms[s->nr_vms]);
		if (ret == -ENOENT) {
			/* Dropped by the module since the list: skip it. */
			ret = 0;
			continue;
		}
		if (ret)
			goto out;
		s->nr_vms++;
		if (s->vms[s->nr_vms - 1].vm.vm_id != list[i].vm_id) {
			/* The summary must be the VM asked for. */
			ret = -EPROTO;
			goto out;
		}
	}
out:
	free(list);
	if (ret)
		kvmw_sample_free(s);
	return ret;
}

void kvmw_sample_free(struct kvmw_sample *s)
{
	size_t i;

	for (i = 0; i < s->nr_vms; i++)
		kvmw_vm_snap_free(&s->vms[i]);
	free(s->vms);
	memset(s, 0, sizeof(*s));
}

const struct kvmw_vm_snap *kvmw_sample_find(const struct kvmw_sample *s,
					    __u64 vm_id)
{
	size_t lo = 0, hi = s->nr_vms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		__u64 id = s->vms[mid].vm.vm_id;

		if (id == vm_id)
			return &s->vms[mid];
		if (id < vm_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The model */

static void host_from_hs(const struct kvmw_handshake *hs, struct kvmw_host *h)
{
	memset(h, 0, sizeof(*h));
	h->source = "device";
	h->api_version = hs->api_version;
	h->vendor = hs->vendor;
	h->features = hs->features;
	h->untracked_exits = hs->untracked_exits;
	h->nr_vms = hs->nr_vms;
	h->nr_vcpus = hs->nr_vcpus;
	h->nr_reason_slots = hs->nr_reason_slots;
	h->nr_nodes = KVMW_MAX_NODES;
	h->hist_type = KVMW_HIST_LOG2;
	h->hist_sub_bits = 0;
	h->hist_buckets = KVMW_LAT_BUCKETS;
}

/* A histogram of the module's layout from its buckets; none if !@on. */
static int hist_from(struct kvmw_hist *h, const struct kvmw_host *host,
		     const __u64 *b, bool on)
{
	int ret;

	if (!on)
		return 0;
	ret = kvmw_hist_init(h, host->hist_type, host->hist_sub_bits,
			     host->hist_buckets);
	if (!ret)
		memcpy(h->buckets, b, host->hist_buckets * sizeof(*b));
	return ret;
}

/* A node array from the module's KVMW_MAX_NODES counters. */
static int nodes_from(__u64 **d, const struct kvmw_host *host, const __u64 *s)
{
	*d = kvmw_nodes_alloc(host);
	if (!*d)
		return -ENOMEM;
	memcpy(*d, s, host->nr_nodes * sizeof(*s));
	return 0;
}

static void vm_from_info(const struct kvmw_vm_info *i, struct kvmw_vm *vm)
{
	vm->vm_id = i->vm_id;
	vm->pid = i->vmm_pid;
	vm->vendor = i->vendor;
	memcpy(vm->comm, i->comm, sizeof(vm->comm));
	vm->gone = i->flags & KVMW_VM_F_GONE;
	vm->no_lifetime = i->flags & KVMW_VM_F_NO_LIFETIME;
	vm->first_seen_ns = i->first_seen_ns;
	vm->gone_ns = i->gone_ns;
	vm->nr_vcpus = i->nr_vcpus;
	vm->exits = i->exits;
	vm->entries = i->entries;
}

static int reason_from(const struct kvmw_reason_stat *s,
		       const struct kvmw_host *host, struct kvmw_reason *r)
{
	bool lat = host->features & KVMW_FEAT_LATENCY;

	r->code = s->reason;
	r->count = s->count;
	if (s->flags & KVMW_REASON_F_IDLE)
		r->flags |= KVMW_R_IDLE;
	if (s->flags & KVMW_REASON_F_UNTIMED)
		r->flags |= KVMW_R_UNTIMED;
	r->lat.total_ns = s->lat_total_ns;
	r->lat.min_ns = s->lat_min_ns;
	r->lat.max_ns = s->lat_max_ns;
	r->lat.user_count = s->user_count;
	r->lat.user_ns = s->user_ns;
	return hist_from(&r->lat.hist, host, s->hist, lat);
}

static int vcpu_from(const struct kvmw_vm_snap *raw, __u32 i,
		     const struct kvmw_host *host, struct kvmw_vcpu *vc)
{
	const struct kvmw_vcpu_info *v = &raw->vcpus[i];
	struct kvmw_unit *u = &vc->u;
	__u32 r;
	int ret;

	vc->vcpu_id = v->vcpu_id;
	vc->tid = v->tid;
	vc->last_cpu = v->last_cpu;
	vc->last_node = v->last_node;
	/* An older module zero-fills the VER3 fields: not seen yet. */
	if (!(host->features & KVMW_FEAT_SCHED)) {
		vc->last_cpu = KVMW_NONE;
		vc->last_node = KVMW_NONE;
	}
	u->exits = v->exits;
	u->entries = v->entries;
	u->overflow_exits = v->overflow_exits;
	u->times = (struct kvmw_times){
		.guest_ns = v->guest_ns,
		.exit_ns = v->exit_ns,
		.idle_ns = v->idle_ns,
		.user_ns = v->user_ns,
		.overhead_ns = v->overhead_ns,
		.untimed_exits = v->untimed_exits,
	};
	u->faults.count = v->faults;
	u->faults.write = v->fault_write;
	u->faults.fetch = v->fault_fetch;
	u->faults.present = v->fault_present;
	u->faults.mmio = v->fault_mmio;
	u->faults.lat_total_ns = v->fault_lat_total_ns;
	u->faults.lat_max_ns = v->fault_lat_max_ns;
	u->faults.node_unknown = v->fault_node_unknown;
	u->sched.rq_delay_ns = v->rq_delay_ns;
	u->sched.rq_delay_count = v->rq_delay_count;
	u->sched.rq_delay_max_ns = v->rq_delay_max_ns;
	u->sched.preemptions = v->preemptions;
	u->sched.sleeps = v->sleeps;
	u->sched.migrations = v->migrations;
	u->sched.node_migrations = v->node_migrations;
	ret = nodes_from(&u->faults.node, host, v->fault_node);
	if (!ret)
		ret = nodes_from(&u->sched.run_node_ns, host, v->run_node_ns);
	if (!ret)
		ret = hist_from(&u->faults.hist, host, v->fault_hist,
				host->features & KVMW_FEAT_FAULTS);
	if (!ret)
		ret = hist_from(&u->sched.hist, host, v->rq_delay_hist,
				host->features & KVMW_FEAT_SCHED);
	if (ret || !v->nr_reasons)
		return ret;
	u->reasons = calloc(v->nr_reasons, sizeof(*u->reasons));
	if (!u->reasons)
		return -ENOMEM;
	u->nr_reasons = v->nr_reasons;
	for (r = 0; r < v->nr_reasons && !ret; r++)
		ret = reason_from(&raw->reasons[v->first_reason + r], host,
				  &u->reasons[r]);
	return ret;
}

/* The model of one VM of a sample (checked by kvmw_vm_snap_check()). */
static int vm_from_snap(const struct kvmw_vm_snap *raw,
			const struct kvmw_host *host, struct kvmw_vm *vm)
{
	const struct kvmw_vm_mem *m = &raw->mem;
	__u32 i;
	int ret;

	vm_from_info(&raw->vm, vm);
	vm->mem = (struct kvmw_mem){
		.pages = m->pages,
		.stride = m->stride,
		.sampled = m->sampled,
		.unmapped = m->unmapped,
		.node_unknown = m->node_unknown,
		.passes = m->passes,
		.pass_ns = m->pass_ns,
	};
	ret = nodes_from(&vm->mem.node, host, m->node);
	if (ret || !raw->nr_vcpus)
		return ret;
	vm->vcpus = calloc(raw->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	vm->nr_vcpus_detail = raw->nr_vcpus;
	for (i = 0; i < raw->nr_vcpus && !ret; i++)
		ret = vcpu_from(raw, i, host, &vm->vcpus[i]);
	return ret;
}

/* The model of a sample, derived if @derive. */
static int sample_model(const struct kvmw_sample *s,
			struct kvmw_snapshot *snap, bool derive)
{
	size_t i;
	int ret = 0;

	memset(snap, 0, sizeof(*snap));
	host_from_hs(&s->hs, &snap->host);
	snap->t_ns = s->t_ns;
	if (s->nr_vms) {
		snap->vms = calloc(s->nr_vms, sizeof(*snap->vms));
		if (!snap->vms)
			return -ENOMEM;
	}
	snap->nr_vms = s->nr_vms;
	for (i = 0; i < s->nr_vms && !ret; i++)
		ret = vm_from_snap(&s->vms[i], &snap->host, &snap->vms[i]);
	if (!ret && derive)
		ret = kvmw_snapshot_derive(snap);
	if (ret)
		kvmw_snapshot_free(snap);
	return ret;
}

int kvmw_dev_sample_model(const struct kvmw_sample *s,
			  struct kvmw_snapshot *snap)
{
	return sample_model(s, snap, true);
}

/* The model from self-describing statistics */

/* How a statistic the model reads is laid out. */
enum { ONE, NODES, HIST };

/* The statistics the model reads, by the module's names. */
enum need_id {
	/* KVMW_FEAT_EXIT_COUNTS: without them the records are not used. */
	N_EXITS, N_ENTRIES, N_OVERFLOW, N_R_EXITS,
	/* KVMW_FEAT_LATENCY */
	N_UNTIMED, N_GUEST, N_EXIT_TIME, N_IDLE, N_OVERHEAD,
	N_R_LAT, N_R_LAT_MIN, N_R_LAT_MAX, N_R_HIST,
	/* KVMW_FEAT_USER_EXITS */
	N_USER, N_R_USER_EXITS, N_R_USER_TIME,
	/* KVMW_FEAT_FAULTS */
	N_FAULTS, N_F_MMIO, N_F_WRITE, N_F_FETCH, N_F_PRESENT, N_F_TIME,
	N_F_MAX, N_F_UNKNOWN, N_F_NODE, N_F_HIST,
	/* KVMW_FEAT_SCHED */
	N_RQ, N_RQ_WAITS, N_RQ_MAX, N_PREEMPT, N_SLEEPS, N_MIGR, N_XNODE,
	N_LAST_CPU, N_LAST_NODE, N_RUN_NODE, N_RQ_HIST,
	/* KVMW_FEAT_MEM_NUMA */
	N_M_PAGES, N_M_STRIDE, N_M_SAMPLES, N_M_UNMAPPED, N_M_UNKNOWN,
	N_M_PASSES, N_M_PASS_TIME, N_M_NODE,
	N_NEEDS
};

struct need {
	const char *name;
	__u16 scope;		/* KVMW_SCOPE_* */
	__u8 shape;		/* ONE, NODES, HIST */
	__u8 unit;		/* KVMW_UNIT_* */
	__u64 feature;		/* measured only if every one of it is there */
};

#define NEED(id, sc, n, sh, u, f) [id] = { .name = n, .scope = KVMW_SCOPE_##sc, \
	.shape = sh, .unit = KVMW_UNIT_##u, .feature = KVMW_FEAT_##f }

static const struct need needs[N_NEEDS] = {
	NEED(N_EXITS, VCPU, "exits", ONE, COUNT, EXIT_COUNTS),
	NEED(N_ENTRIES, VCPU, "entries", ONE, COUNT, EXIT_COUNTS),
	NEED(N_OVERFLOW, VCPU, "overflow_exits", ONE, COUNT, EXIT_COUNTS),
	NEED(N_R_EXITS, REASON, "exits", ONE, COUNT, EXIT_COUNTS),
	NEED(N_UNTIMED, VCPU, "untimed_exits", ONE, COUNT, LATENCY),
	NEED(N_GUEST, VCPU, "guest_time", ONE, NS, LATENCY),
	NEED(N_EXIT_TIME, VCPU, "exit_time", ONE, NS, LATENCY),
	NEED(N_IDLE, VCPU, "idle_time", ONE, NS, LATENCY),
	NEED(N_OVERHEAD, VCPU, "overhead_time", ONE, NS, LATENCY),
	NEED(N_R_LAT, REASON, "latency", ONE, NS, LATENCY),
	NEED(N_R_LAT_MIN, REASON, "latency_min", ONE, NS, LATENCY),
	NEED(N_R_LAT_MAX, REASON, "latency_max", ONE, NS, LATENCY),
	NEED(N_R_HIST, REASON, "latency_hist", HIST, NS, LATENCY),
	NEED(N_USER, VCPU, "user_time", ONE, NS, USER_EXITS),
	NEED(N_R_USER_EXITS, REASON, "user_exits", ONE, COUNT, USER_EXITS),
	NEED(N_R_USER_TIME, REASON, "user_time", ONE, NS, USER_EXITS),
	NEED(N_FAULTS, VCPU, "faults", ONE, COUNT, FAULTS),
	NEED(N_F_MMIO, VCPU, "faults_mmio", ONE, COUNT, FAULTS),
	NEED(N_F_WRITE, VCPU, "faults_write", ONE, COUNT, FAULTS),
	NEED(N_F_FETCH, VCPU, "faults_fetch", ONE, COUNT, FAULTS),
	NEED(N_F_PRESENT, VCPU, "faults_present", ONE, COUNT, FAULTS),
	NEED(N_F_TIME, VCPU, "fault_time", ONE, NS, FAULTS),
	NEED(N_F_MAX, VCPU, "fault_time_max", ONE, NS, FAULTS),
	NEED(N_F_UNKNOWN, VCPU, "faults_node_unknown", ONE, COUNT, FAULTS),
	NEED(N_F_NODE, VCPU, "faults_node", NODES, COUNT, FAULTS),
	NEED(N_F_HIST, VCPU, "fault_time_hist", HIST, NS, FAULTS),
	NEED(N_RQ, VCPU, "rq_delay", ONE, NS, SCHED),
	NEED(N_RQ_WAITS, VCPU, "rq_waits", ONE, COUNT, SCHED),
	NEED(N_RQ_MAX, VCPU, "rq_delay_max", ONE, NS, SCHED),
	NEED(N_PREEMPT, VCPU, "preemptions", ONE, COUNT, SCHED),
	NEED(N_SLEEPS, VCPU, "sleeps", ONE, COUNT, SCHED),
	NEED(N_MIGR, VCPU, "migrations", ONE, COUNT, SCHED),
	NEED(N_XNODE, VCPU, "node_migrations", ONE, COUNT, SCHED),
	NEED(N_LAST_CPU, VCPU, "last_cpu", ONE, ID, SCHED),
	NEED(N_LAST_NODE, VCPU, "last_node", ONE, ID, SCHED),
	NEED(N_RUN_NODE, VCPU, "run_time_node", NODES, NS, SCHED),
	NEED(N_RQ_HIST, VCPU, "rq_delay_hist", HIST, NS, SCHED),
	NEED(N_M_PAGES, VM, "mem_pages", ONE, PAGES, MEM_NUMA),
	NEED(N_M_STRIDE, VM, "mem_stride", ONE, PAGES, MEM_NUMA),
	NEED(N_M_SAMPLES, VM, "mem_samples", ONE, COUNT, MEM_NUMA),
	NEED(N_M_UNMAPPED, VM, "mem_samples_unmapped", ONE, COUNT, MEM_NUMA),
	NEED(N_M_UNKNOWN, VM, "mem_samples_node_unknown", ONE, COUNT,
	     MEM_NUMA),
	NEED(N_M_PASSES, VM, "mem_passes", ONE, COUNT, MEM_NUMA),
	NEED(N_M_PASS_TIME, VM, "mem_pass_time", ONE, BOOTTIME_NS, MEM_NUMA),
	NEED(N_M_NODE, VM, "mem_samples_node", NODES, COUNT, MEM_NUMA),
};

/* The features whose figures come from the statistics. */
#define STATS_FEATURES	(KVMW_FEAT_EXIT_COUNTS | KVMW_FEAT_LATENCY | \
			 KVMW_FEAT_USER_EXITS | KVMW_FEAT_FAULTS | \
			 KVMW_FEAT_SCHED | KVMW_FEAT_MEM_NUMA)

/* Where each statistic the model reads is, found by name once. */
struct stats_map {
	/* Index of its descriptor, -1 when not described (as expected). */
	int idx[N_NEEDS];
	/* Features all of whose statistics are described. */
	__u64 features;
};

/* Descriptor @d has the shape the model reads @n with. */
static bool desc_fits(const struct kvmw_dev_layout *l,
		      const struct kvmw_stat_desc *d, const struct need *n)
{
	if (d->unit != n->unit ||
	    (__u64)d->offset + d->count > l->values[d->scope])
		return false;
	switch (n->shape) {
	case ONE:
		return d->kind != KVMW_STAT_HIST && d->count == 1 &&
		       !(d->flags & KVMW_STAT_F_PER_NODE);
	case NODES:
		return d->kind != KVMW_STAT_HIST &&
		       (d->flags & KVMW_STAT_F_PER_NODE) &&
		       d->count == l->nr_nodes;
	default:
		return d->kind == KVMW_STAT_HIST && d->count &&
		       (d->hist_type == KVMW_HIST_LOG2 ||
			(d->hist_type == KVMW_HIST_LOGLIN &&
			 d->hist_sub_bits < 16));
	}
}

/*
 * Finds every statistic the model reads. One that is not described, or
 * not as the model reads it (another unit, layout or size), is missing:
 * its feature is then not measured, whatever the handshake says.
 */
static void stats_map_build(const struct kvmw_dev_layout *l,
			    struct stats_map *m)
{
	__u32 i;
	int n;

	m->features = STATS_FEATURES;
	for (n = 0; n < N_NEEDS; n++) {
		m->idx[n] = -1;
		for (i = 0; i < l->nr_descs; i++) {
			const struct kvmw_stat_desc *d = &l->descs[i];

			if (d->scope == needs[n].scope &&
			    !strcmp(d->name, needs[n].name)) {
				if (desc_fits(l, d, &needs[n]))
					m->idx[n] = i;
				break;
			}
		}
		if (m->idx[n] < 0)
			m->features &= ~needs[n].feature;
	}
	/* Userspace time is split off the exits' time. */
	if (!(m->features & KVMW_FEAT_LATENCY))
		m->features &= ~KVMW_FEAT_USER_EXITS;
}

/* The device source with KVMW_FEAT_STATS. */
struct dev_stats {
	bool on;
	struct kvmw_dev_layout layout;
	struct stats_map map;
};

static const __u64 *stat_vals(const struct dev_stats *st, const __u64 *v,
			      enum need_id n)
{
	return &v[st->layout.descs[st->map.idx[n]].offset];
}

static __u64 stat_val(const struct dev_stats *st, const __u64 *v,
		      enum need_id n)
{
	return *stat_vals(st, v, n);
}

/* Histogram @n of the values @v, in its described layout. */
static int stat_hist(const struct dev_stats *st, const __u64 *v,
		     enum need_id n, struct kvmw_hist *h)
{
	const struct kvmw_stat_desc *d = &st->layout.descs[st->map.idx[n]];
	int ret;

	ret = kvmw_hist_init(h, d->hist_type, d->hist_sub_bits, d->count);
	if (!ret)
		memcpy(h->buckets, &v[d->offset], d->count * sizeof(*v));
	return ret;
}

/* The node array @n of the values @v (nr_nodes of them). */
static int stat_nodes(const struct dev_stats *st, const __u64 *v,
		      enum need_id n, const struct kvmw_host *host, __u64 **d)
{
	*d = kvmw_nodes_alloc(host);
	if (!*d)
		return -ENOMEM;
	if (v)
		memcpy(*d, stat_vals(st, v, n), host->nr_nodes * sizeof(**d));
	return 0;
}

/* The host as the model sees it through the statistics. */
static void stats_host(const struct dev_stats *st, struct kvmw_host *h)
{
	const struct kvmw_stat_desc *d;

	if (!st->on)
		return;
	h->features &= ~STATS_FEATURES | st->map.features;
	h->nr_nodes = st->layout.nr_nodes;
	if (st->map.idx[N_R_HIST] >= 0) {
		d = &st->layout.descs[st->map.idx[N_R_HIST]];
		h->hist_type = d->hist_type;
		h->hist_sub_bits = d->hist_sub_bits;
		h->hist_buckets = d->count;
	}
}

static int reason_from_rec(const struct dev_stats *st,
			   const struct kvmw_reason_rec *rec,
			   const struct kvmw_host *host, struct kvmw_reason *r)
{
	const __u64 *v = rec->values;

	r->code = rec->reason;
	if (rec->flags & KVMW_REASON_F_IDLE)
		r->flags |= KVMW_R_IDLE;
	if (rec->flags & KVMW_REASON_F_UNTIMED)
		r->flags |= KVMW_R_UNTIMED;
	r->values = v;
	r->count = stat_val(st, v, N_R_EXITS);
	if (host->features & KVMW_FEAT_USER_EXITS) {
		r->lat.user_count = stat_val(st, v, N_R_USER_EXITS);
		r->lat.user_ns = stat_val(st, v, N_R_USER_TIME);
	}
	if (!(host->features & KVMW_FEAT_LATENCY))
		return 0;
	r->lat.total_ns = stat_val(st, v, N_R_LAT);
	r->lat.min_ns = stat_val(st, v, N_R_LAT_MIN);
	r->lat.max_ns = stat_val(st, v, N_R_LAT_MAX);
	return stat_hist(st, v, N_R_HIST, &r->lat.hist);
}

static int vcpu_from_rec(const struct dev_stats *st,
			 const struct kvmw_stats_answer *a, __u32 i,
			 const struct kvmw_host *host, struct kvmw_vcpu *vc)
{
	const struct kvmw_vcpu_rec *rec = (const void *)
		(a->vcpus + i * a->vcpu_size);
	const __u64 *v = rec->values;
	__u64 feat = host->features;
	struct kvmw_unit *u = &vc->u;
	__u32 r;
	int ret;

	vc->vcpu_id = rec->vcpu_id;
	vc->tid = rec->tid;
	vc->values = v;
	vc->last_cpu = KVMW_NONE;
	vc->last_node = KVMW_NONE;
	u->exits = stat_val(st, v, N_EXITS);
	u->entries = stat_val(st, v, N_ENTRIES);
	u->overflow_exits = stat_val(st, v, N_OVERFLOW);
	if (feat & KVMW_FEAT_LATENCY)
		u->times = (struct kvmw_times){
			.guest_ns = stat_val(st, v, N_GUEST),
			.exit_ns = stat_val(st, v, N_EXIT_TIME),
			.idle_ns = stat_val(st, v, N_IDLE),
			.overhead_ns = stat_val(st, v, N_OVERHEAD),
			.untimed_exits = stat_val(st, v, N_UNTIMED),
		};
	if (feat & KVMW_FEAT_USER_EXITS)
		u->times.user_ns = stat_val(st, v, N_USER);
	if (feat & KVMW_FEAT_FAULTS) {
		u->faults.count = stat_val(st, v, N_FAULTS);
		u->faults.write = stat_val(st, v, N_F_WRITE);
		u->faults.fetch = stat_val(st, v, N_F_FETCH);
		u->faults.present = stat_val(st, v, N_F_PRESENT);
		u->faults.mmio = stat_val(st, v, N_F_MMIO);
		u->faults.lat_total_ns = stat_val(st, v, N_F_TIME);
		u->faults.lat_max_ns = stat_val(st, v, N_F_MAX);
		u->faults.node_unknown = stat_val(st, v, N_F_UNKNOWN);
	}
	if (feat & KVMW_FEAT_SCHED) {
		u->sched.rq_delay_ns = stat_val(st, v, N_RQ);
		u->sched.rq_delay_count = stat_val(st, v, N_RQ_WAITS);
		u->sched.rq_delay_max_ns = stat_val(st, v, N_RQ_MAX);
		u->sched.preemptions = stat_val(st, v, N_PREEMPT);
		u->sched.sleeps = stat_val(st, v, N_SLEEPS);
		u->sched.migrations = stat_val(st, v, N_MIGR);
		u->sched.node_migrations = stat_val(st, v, N_XNODE);
		/* Values are 64-bit; a CPU or node number is 32. */
		vc->last_cpu = (__u32)stat_val(st, v, N_LAST_CPU);
		vc->last_node = (__u32)stat_val(st, v, N_LAST_NODE);
	}
	ret = stat_nodes(st, feat & KVMW_FEAT_FAULTS ? v : NULL, N_F_NODE,
			 host, &u->faults.node);
	if (!ret)
		ret = stat_nodes(st, feat & KVMW_FEAT_SCHED ? v : NULL,
				 N_RUN_NODE, host, &u->sched.run_node_ns);
	if (!ret && (feat & KVMW_FEAT_FAULTS))
		ret = stat_hist(st, v, N_F_HIST, &u->faults.hist);
	if (!ret && (feat & KVMW_FEAT_SCHED))
		ret = stat_hist(st, v, N_RQ_HIST, &u->sched.hist);
	if (ret || !rec->nr_reasons)
		return ret;
	u->reasons = calloc(rec->nr_reasons, sizeof(*u->reasons));
	if (!u->reasons)
		return -ENOMEM;
	u->nr_reasons = rec->nr_reasons;
	for (r = 0; r < rec->nr_reasons && !ret; r++)
		ret = reason_from_rec(st, (const void *)
				      (a->reasons + (rec->first_reason + r) *
				       a->reason_size), host, &u->reasons[r]);
	return ret;
}

/* The model of VM record @i of @a (checked by stats_check()). */
static int vm_from_rec(const struct dev_stats *st,
		       const struct kvmw_stats_answer *a, __u32 i,
		       const struct kvmw_host *host, struct kvmw_vm *vm)
{
	const struct kvmw_vm_rec *rec = (const void *)(a->vms + i * a->vm_size);
	const __u64 *v = rec->values;
	__u32 k;
	int ret;

	vm->vm_id = rec->vm_id;
	vm->pid = rec->vmm_pid;
	vm->vendor = rec->vendor;
	memcpy(vm->comm, rec->comm, sizeof(vm->comm));
	vm->gone = rec->flags & KVMW_VM_F_GONE;
	vm->no_lifetime = rec->flags & KVMW_VM_F_NO_LIFETIME;
	vm->first_seen_ns = rec->first_seen_ns;
	vm->gone_ns = rec->gone_ns;
	vm->nr_vcpus = rec->nr_vcpus;
	vm->values = v;
	if (host->features & KVMW_FEAT_MEM_NUMA)
		vm->mem = (struct kvmw_mem){
			.pages = stat_val(st, v, N_M_PAGES),
			.stride = stat_val(st, v, N_M_STRIDE),
			.sampled = stat_val(st, v, N_M_SAMPLES),
			.unmapped = stat_val(st, v, N_M_UNMAPPED),
			.node_unknown = stat_val(st, v, N_M_UNKNOWN),
			.passes = stat_val(st, v, N_M_PASSES),
			.pass_ns = stat_val(st, v, N_M_PASS_TIME),
		};
	ret = stat_nodes(st, host->features & KVMW_FEAT_MEM_NUMA ? v : NULL,
			 N_M_NODE, host, &vm->mem.node);
	if (ret || !rec->nr_vcpus)
		return ret;
	vm->vcpus = calloc(rec->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	vm->nr_vcpus_detail = rec->nr_vcpus;
	for (k = 0; k < rec->nr_vcpus && !ret; k++) {
		struct kvmw_vcpu *vc = &vm->vcpus[k];

		ret = vcpu_from_rec(st, a, rec->first_vcpu + k, host, vc);
		/* The module's VM totals are its vCPUs' sums. */
		vm->exits += vc->u.exits;
		vm->entries += vc->u.entries;
	}
	return ret;
}

/* Descriptor @i has the name of an earlier one of its scope. */
static bool raw_dup(const struct kvmw_dev_layout *l, __u32 i)
{
	__u32 k;

	for (k = 0; k < i; k++) {
		if (l->descs[k].scope == l->descs[i].scope &&
		    !strcmp(l->descs[k].name, l->descs[i].name))
			return true;
	}
	return false;
}

/*
 * The model's description of every statistic, the unknown ones too (a
 * name given twice in a scope, against the UAPI's rule, only once).
 */
static int raw_infos(const struct kvmw_dev_layout *l,
		     struct kvmw_raw_stats *raw)
{
	static const char * const units[] = {
		[KVMW_UNIT_COUNT] = "count",
		[KVMW_UNIT_NS] = "ns",
		[KVMW_UNIT_PAGES] = "pages",
		[KVMW_UNIT_ID] = "id",
		[KVMW_UNIT_BOOTTIME_NS] = "boottime_ns",
		[KVMW_UNIT_STATE] = "state",
	};
	__u32 i;

	raw->nr_values[KVMW_REC_VM] = l->values[KVMW_SCOPE_VM];
	raw->nr_values[KVMW_REC_VCPU] = l->values[KVMW_SCOPE_VCPU];
	raw->nr_values[KVMW_REC_REASON] = l->values[KVMW_SCOPE_REASON];
	if (!l->nr_descs)
		return 0;
	raw->infos = calloc(l->nr_descs, sizeof(*raw->infos));
	if (!raw->infos)
		return -ENOMEM;
	for (i = 0; i < l->nr_descs; i++) {
		const struct kvmw_stat_desc *d = &l->descs[i];
		struct kvmw_stat_info *s = &raw->infos[raw->nr];

		/* A scope of a newer module has no records here. */
		if (d->scope < KVMW_SCOPE_VM || d->scope > KVMW_SCOPE_REASON ||
		    (__u64)d->offset + d->count > l->values[d->scope] ||
		    raw_dup(l, i))
			continue;
		memcpy(s->name, d->name, sizeof(s->name));
		s->scope = d->scope == KVMW_SCOPE_VM ? KVMW_REC_VM :
			   d->scope == KVMW_SCOPE_VCPU ? KVMW_REC_VCPU :
			   KVMW_REC_REASON;
		s->kind = d->kind == KVMW_STAT_COUNTER ? KVMW_KIND_COUNTER :
			  d->kind == KVMW_STAT_GAUGE ? KVMW_KIND_GAUGE :
			  d->kind == KVMW_STAT_HIST ? KVMW_KIND_HISTOGRAM :
			  KVMW_KIND_UNKNOWN;
		s->unit = d->unit < ARRAY_SIZE(units) ? units[d->unit] :
			  "unknown";
		s->per_node = d->flags & KVMW_STAT_F_PER_NODE;
		s->offset = d->offset;
		s->count = d->count;
		if (s->kind == KVMW_KIND_HISTOGRAM) {
			s->hist_type = d->hist_type;
			s->hist_sub_bits = d->hist_sub_bits;
		}
		raw->nr++;
	}
	return 0;
}

/*
 * The model of a KVMW_IOC_STATS_READ answer: the VMs of @ids (all when
 * @nr_ids is 0). The snapshot takes over the answer's records, which
 * hold the raw values. Not derived yet.
 */
static int stats_model(const struct dev_stats *st, struct kvmw_stats_answer *a,
		       const __u64 *ids, size_t nr_ids,
		       struct kvmw_snapshot *snap)
{
	__u32 i;
	int ret;

	ret = raw_infos(&st->layout, &snap->raw);
	if (ret)
		return ret;
	snap->raw.blocks[KVMW_REC_VM] = a->vms;
	snap->raw.blocks[KVMW_REC_VCPU] = a->vcpus;
	snap->raw.blocks[KVMW_REC_REASON] = a->reasons;
	if (a->nr_vms) {
		snap->vms = calloc(a->nr_vms, sizeof(*snap->vms));
		if (!snap->vms)
			ret = -ENOMEM;
	}
	for (i = 0; i < a->nr_vms && !ret; i++) {
		const struct kvmw_vm_rec *rec = (const void *)
			(a->vms + i * a->vm_size);

		if (!wanted_id(rec->vm_id, ids, nr_ids))
			continue;
		ret = vm_from_rec(st, a, i, &snap->host,
				  &snap->vms[snap->nr_vms++]);
	}
	memset(a, 0, sizeof(*a));
	return ret;
}

/* Events */

_Static_assert(offsetof(struct kvmw_event, type) + sizeof(__u16) == 8,
	       "size, version and type make the first 8 bytes of a record");

/* The model's event type of a UAPI one (unknown ones as they are). */
static __u32 ev_type(__u16 type)
{
	switch (type) {
	case KVMW_EVENT_VM_NEW:
		return KVMW_EV_VM_NEW;
	case KVMW_EVENT_VM_GONE:
		return KVMW_EV_VM_GONE;
	case KVMW_EVENT_VCPU_NEW:
		return KVMW_EV_VCPU_NEW;
	case KVMW_EVENT_BUDGET_SET:
		return KVMW_EV_BUDGET_SET;
	case KVMW_EVENT_BUDGET_CLEAR:
		return KVMW_EV_BUDGET_CLEAR;
	case KVMW_EVENT_BUDGET_GUARD:
		return KVMW_EV_BUDGET_GUARD;
	case KVMW_EVENT_BUDGET_THROTTLE_START:
		return KVMW_EV_THROTTLE_START;
	case KVMW_EVENT_BUDGET_THROTTLE_END:
		return KVMW_EV_THROTTLE_END;
	case KVMW_EVENT_NUMA_MOVE:
		return KVMW_EV_NUMA_MOVE;
	case KVMW_EVENT_NUMA_CONFLICT:
		return KVMW_EV_NUMA_CONFLICT;
	case KVMW_EVENT_NUMA_SET:
		return KVMW_EV_NUMA_SET;
	case KVMW_EVENT_NUMA_CLEAR:
		return KVMW_EV_NUMA_CLEAR;
	default:
		return type;
	}
}

ssize_t kvmw_dev_event_decode(const void *buf, size_t len,
			      struct kvmw_ev *ev)
{
	struct kvmw_event rec;
	size_t n;

	memset(ev, 0, sizeof(*ev));
	/* size, version and type are where they are in every version. */
	if (len < offsetof(struct kvmw_event, seq))
		return -EPROTO;
	memset(&rec, 0, sizeof(rec));
	memcpy(&rec, buf, offsetof(struct kvmw_event, seq));
	if (rec.size < KVMW_EVENT_SIZE_VER0 || rec.size > len)
		return -EPROTO;
	ev->version = rec.version;
	if (rec.version != KVMW_EVENT_VERSION)
		return rec.size;
	/* A longer record (newer module): the fields known here. */
	n = rec.size < sizeof(rec) ? rec.size : sizeof(rec);
	memcpy(&rec, buf, n);
	ev->known = true;
	ev->type = ev_type(rec.type);
	ev->seq = rec.seq;
	ev->time_ns = rec.time_ns;
	ev->lost = rec.lost;
	ev->vm_id = rec.vm_id;
	ev->pid = rec.vmm_pid;
	ev->vcpu_id = rec.vcpu_id;
	ev->tid = rec.tid;
	ev->nr_vcpus = rec.nr_vcpus;
	memcpy(ev->data, rec.data, sizeof(ev->data));
	if (rec.type == KVMW_EVENT_VM_GONE)
		ev->totals = (struct kvmw_ev_totals){
			.exits = rec.data[KVMW_EVENT_GONE_EXITS],
			.entries = rec.data[KVMW_EVENT_GONE_ENTRIES],
			.guest_ns = rec.data[KVMW_EVENT_GONE_GUEST_NS],
			.overhead_ns = rec.data[KVMW_EVENT_GONE_OVERHEAD_NS],
			.idle_ns = rec.data[KVMW_EVENT_GONE_IDLE_NS],
			.user_ns = rec.data[KVMW_EVENT_GONE_USER_NS],
			.faults = rec.data[KVMW_EVENT_GONE_FAULTS],
			.untimed_exits = rec.data[KVMW_EVENT_GONE_UNTIMED],
		};
	if (rec.type >= KVMW_EVENT_BUDGET_SET &&
	    rec.type <= KVMW_EVENT_BUDGET_THROTTLE_END)
		ev->budget = (struct kvmw_ev_budget){
			.mode = rec.budget.mode,
			.nr_buckets = rec.budget.nr_buckets,
			.categories = rec.budget.categories,
			.rate = rec.budget.rate,
			.burst = rec.budget.burst,
			.parked_ns = rec.budget.parked_ns,
			.window_ns = rec.budget.window_ns,
			.rule = rec.budget.rule,
		};
	if (rec.type >= KVMW_EVENT_NUMA_MOVE &&
	    rec.type <= KVMW_EVENT_NUMA_CLEAR)
		ev->numa = (struct kvmw_ev_numa){
			.policy = rec.numa.policy,
			.flags = rec.numa.flags,
			.cause = rec.numa.cause,
			.from_node = rec.numa.from_node,
			.to_node = rec.numa.to_node,
			.local_pml = rec.numa.local_pml,
			.nodes = rec.numa.nodes,
			.moves = rec.numa.moves,
		};
	return rec.size;
}

/* The source */

/* Bytes asked for per read(): many records of any plausible size. */
#define EV_BUF_LEN	65536

struct dev_source {
	struct kvmw_dev dev;
	/* KVMW_FEAT_STATS: the layout learnt at open. */
	struct dev_stats st;
	/* Records read and not decoded yet: [ev_pos, ev_len). */
	unsigned char *ev_buf;
	size_t ev_pos, ev_len;
};

/* Fills the record buffer: waits, then one read(). */
static int ev_fill(struct dev_source *ds, int timeout_ms,
		   const sigset_t *mask)
{
	ssize_t n;
	int ret;

	if (!ds->ev_buf) {
		ds->ev_buf = malloc(EV_BUF_LEN);
		if (!ds->ev_buf)
			return -ENOMEM;
	}
	ds->ev_pos = 0;
	ds->ev_len = 0;
	ret = kvmw_dev_poll(&ds->dev, timeout_ms, mask);
	if (ret <= 0)
		return ret;
	n = kvmw_dev_read(&ds->dev, ds->ev_buf, EV_BUF_LEN);
	/* A spurious wakeup, or a signal: nothing this time. */
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return n;
	if (!n)
		return -EPIPE;
	ds->ev_len = n;
	return 0;
}

static int src_read_events(struct kvmw_source *src, struct kvmw_ev *evs,
			   size_t max, size_t *nr, int timeout_ms,
			   const sigset_t *mask)
{
	struct dev_source *ds = src->priv;
	ssize_t n;
	int ret;

	*nr = 0;
	if (!(src->host.features & KVMW_FEAT_EVENTS))
		return -EOPNOTSUPP;
	if (ds->ev_pos >= ds->ev_len) {
		ret = ev_fill(ds, timeout_ms, mask);
		if (ret)
			return ret;
	}
	while (ds->ev_pos < ds->ev_len && *nr < max) {
		n = kvmw_dev_event_decode(ds->ev_buf + ds->ev_pos,
					  ds->ev_len - ds->ev_pos, &evs[*nr]);
		if (n < 0) {
			/* The good records first; the error on the next call. */
			if (*nr)
				return 0;
			ds->ev_pos = ds->ev_len;
			return n;
		}
		ds->ev_pos += n;
		(*nr)++;
	}
	return 0;
}

/*
 * Learns the statistics once, when the module describes them. They are
 * used when every exit count is described; otherwise, or when the module
 * does not answer as announced, the snapshot ioctls of API 1 serve.
 */
static int stats_open(struct dev_source *ds)
{
	struct dev_stats *st = &ds->st;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_STATS))
		return 0;
	ret = kvmw_dev_stats_desc(&ds->dev, &st->layout);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return 0;
	stats_map_build(&st->layout, &st->map);
	st->on = st->map.features & KVMW_FEAT_EXIT_COUNTS;
	if (!st->on)
		kvmw_dev_layout_free(&st->layout);
	return 0;
}

static int src_open(struct kvmw_source *src, const char *path,
		    const void *sys)
{
	struct dev_source *ds = calloc(1, sizeof(*ds));
	int ret;

	if (!ds)
		return -ENOMEM;
	ret = kvmw_dev_open_rw(&ds->dev, path ? path : KVMW_DEVICE_PATH, sys,
			       src->flags & KVMW_SRC_CONTROL);
	host_from_hs(&ds->dev.hs, &src->host);
	if (ret) {
		free(ds);
		return ret;
	}
	ret = stats_open(ds);
	if (ret) {
		kvmw_dev_close(&ds->dev);
		free(ds);
		return ret;
	}
	stats_host(&ds->st, &src->host);
	src->priv = ds;
	return 0;
}

static int src_info(struct kvmw_source *src)
{
	struct dev_source *ds = src->priv;
	int ret = kvmw_dev_handshake(&ds->dev);

	if (ret)
		return ret;
	host_from_hs(&ds->dev.hs, &src->host);
	stats_host(&ds->st, &src->host);
	return 0;
}

/* VM summaries only: one KVMW_IOC_LIST_VMS. */
static int src_summaries(struct kvmw_source *src, const __u64 *ids,
			 size_t nr_ids, struct kvmw_snapshot *snap)
{
	struct dev_source *ds = src->priv;
	struct kvmw_vm_info *list;
	size_t nr, i;
	int ret;

	ret = src_info(src);
	if (ret)
		return ret;
	if (src->host.api_version != KVMW_API_VERSION)
		return -EPROTONOSUPPORT;
	snap->host = src->host;
	ret = kvmw_dev_list_vms(&ds->dev, &list, &nr);
	if (ret)
		return ret;
	if (nr) {
		snap->vms = calloc(nr, sizeof(*snap->vms));
		if (!snap->vms) {
			free(list);
			return -ENOMEM;
		}
	}
	for (i = 0; i < nr; i++) {
		if (wanted_id(list[i].vm_id, ids, nr_ids))
			vm_from_info(&list[i], &snap->vms[snap->nr_vms++]);
	}
	free(list);
	return 0;
}

/* Every VM, or those of @ids, with one KVMW_IOC_STATS_READ. */
static int src_stats(struct kvmw_source *src, const __u64 *ids,
		     size_t nr_ids, struct kvmw_snapshot *snap)
{
	struct dev_source *ds = src->priv;
	struct kvmw_stats_answer a;
	int ret;

	ret = src_info(src);
	if (ret)
		return ret;
	if (src->host.api_version != KVMW_API_VERSION)
		return -EPROTONOSUPPORT;
	snap->host = src->host;
	/* One VM asked for: only its records. */
	ret = kvmw_dev_stats_read(&ds->dev, &ds->st.layout,
				  nr_ids == 1 ? ids[0] : 0, &a);
	if (ret == -ENOENT && nr_ids == 1)
		return 0;
	if (ret)
		return ret;
	/* The module's clock of the read, for rates. */
	if (a.time_ns)
		snap->t_ns = a.time_ns;
	ret = stats_model(&ds->st, &a, ids, nr_ids, snap);
	kvmw_stats_answer_free(&a);
	return ret;
}

static int src_snapshot(struct kvmw_source *src, const __u64 *ids,
			size_t nr_ids, bool detail, struct kvmw_snapshot *snap)
{
	struct dev_source *ds = src->priv;
	struct kvmw_snapshot model;
	struct kvmw_sample s;
	int ret;

	if (!detail)
		return src_summaries(src, ids, nr_ids, snap);
	if (ds->st.on)
		return src_stats(src, ids, nr_ids, snap);
	ret = kvmw_sample_take(&ds->dev, ids, nr_ids, &s);
	if (ret)
		return ret;
	host_from_hs(&s.hs, &src->host);
	s.t_ns = snap->t_ns;
	/* kvmw_snapshot_take() derives it. */
	ret = sample_model(&s, &model, false);
	kvmw_sample_free(&s);
	if (!ret)
		*snap = model;
	return ret;
}

bool kvmw_source_dev_stats(const struct kvmw_source *src)
{
	const struct dev_source *ds = src->priv;

	return src->ops == &kvmw_source_dev && ds && ds->st.on;
}

static void src_close(struct kvmw_source *src)
{
	struct dev_source *ds = src->priv;

	if (!ds)
		return;
	kvmw_dev_close(&ds->dev);
	kvmw_dev_layout_free(&ds->st.layout);
	free(ds->ev_buf);
	free(ds);
	src->priv = NULL;
}

static void budget_to_cfg(const struct kvmw_budget *b,
			  struct kvmw_budget_cfg *cfg)
{
	unsigned int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = b->mode;
	cfg->guard_audit = b->flags & KVMW_BUDGET_F_GUARD_AUDIT;
	cfg->tripped = b->tripped;
	cfg->rule = b->rule;
	cfg->max_park_ns = b->max_park_ns;
	cfg->guard_window_ns = b->guard_window_ns;
	cfg->guard_pct = b->guard_pct;
	cfg->nr_buckets = b->nr_buckets < KVMW_BUDGET_MAX_BUCKETS ?
			  b->nr_buckets : KVMW_BUDGET_MAX_BUCKETS;
	for (i = 0; i < cfg->nr_buckets; i++) {
		cfg->b[i].categories = b->buckets[i].categories;
		cfg->b[i].rate = b->buckets[i].rate;
		cfg->b[i].burst = b->buckets[i].burst;
		cfg->b[i].credit = b->buckets[i].credit;
	}
}

static int src_budget_get(struct kvmw_source *src, __u64 vm_id,
			  struct kvmw_budget_cfg *cfg)
{
	struct dev_source *ds = src->priv;
	struct kvmw_budget b;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_BUDGET))
		return -ENOTSUP;
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.vm_id = vm_id;
	ret = dev_ioctl(&ds->dev, KVMW_IOC_BUDGET_GET, &b);
	if (ret)
		return ret;
	budget_to_cfg(&b, cfg);
	return 0;
}

/* The UAPI budget of @cfg for VM @vm_id; -EINVAL if it cannot be one. */
static int cfg_to_budget(const struct kvmw_budget_cfg *cfg, __u64 vm_id,
			 struct kvmw_budget *b)
{
	unsigned int i;

	/* The module checks the same; nothing out of range reaches it. */
	if (cfg->nr_buckets > KVMW_BUDGET_MAX_BUCKETS)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->vm_id = vm_id;
	b->mode = cfg->mode;
	b->flags = cfg->guard_audit ? KVMW_BUDGET_F_GUARD_AUDIT : 0;
	b->nr_buckets = cfg->nr_buckets;
	b->max_park_ns = cfg->max_park_ns;
	b->guard_window_ns = cfg->guard_window_ns;
	b->guard_pct = cfg->guard_pct;
	for (i = 0; i < cfg->nr_buckets; i++) {
		b->buckets[i].categories = cfg->b[i].categories;
		b->buckets[i].rate = cfg->b[i].rate;
		b->buckets[i].burst = cfg->b[i].burst;
		b->buckets[i].credit = cfg->b[i].credit;
	}
	return 0;
}

static int src_budget_set(struct kvmw_source *src, __u64 vm_id,
			  const struct kvmw_budget_cfg *cfg)
{
	struct dev_source *ds = src->priv;
	struct kvmw_budget b;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_BUDGET))
		return -ENOTSUP;
	ret = cfg_to_budget(cfg, vm_id, &b);
	if (ret)
		return ret;
	return dev_ioctl(&ds->dev, KVMW_IOC_BUDGET_SET, &b);
}

static int src_budget_default_get(struct kvmw_source *src, __u32 slot,
				  struct kvmw_budget_default_cfg *d)
{
	struct dev_source *ds = src->priv;
	struct kvmw_budget_default a;
	struct kvmw_budget b;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_BUDGET_DEFAULT))
		return -ENOTSUP;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.size = sizeof(a);
	a.slot = slot;
	a.budget_ptr = (uintptr_t)&b;
	b.size = sizeof(b);
	ret = dev_ioctl(&ds->dev, KVMW_IOC_BUDGET_DEFAULT_GET, &a);
	if (ret)
		return ret;
	memset(d, 0, sizeof(*d));
	memcpy(d->comm, a.comm, sizeof(d->comm));
	d->comm[sizeof(d->comm) - 1] = '\0';
	d->cgroup_fd = -1;
	d->cgroup_id = a.cgroup_id;
	d->matched = a.matched;
	budget_to_cfg(&b, &d->budget);
	return 0;
}

static int src_budget_default_set(struct kvmw_source *src, __u32 slot,
				  const struct kvmw_budget_default_cfg *d)
{
	struct dev_source *ds = src->priv;
	struct kvmw_budget_default a;
	struct kvmw_budget b;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_BUDGET_DEFAULT))
		return -ENOTSUP;
	ret = cfg_to_budget(&d->budget, 0, &b);
	if (ret)
		return ret;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.slot = slot;
	a.cgroup_fd = d->cgroup_fd;
	/* NUL-terminated and NUL-padded, as the module wants it. */
	memcpy(a.comm, d->comm, strnlen(d->comm, sizeof(a.comm) - 1));
	a.budget_ptr = (uintptr_t)&b;
	return dev_ioctl(&ds->dev, KVMW_IOC_BUDGET_DEFAULT_SET, &a);
}

static void numa_to_cfg(const struct kvmw_numa_policy *p, const __u64 *more,
			size_t nr_more, struct kvmw_numa_cfg *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = p->policy;
	cfg->flags = p->flags;
	cfg->nodes[0] = p->nodes;
	for (i = 0; i < nr_more && i + 1 < KVMW_NUMA_NODE_WORDS; i++)
		cfg->nodes[i + 1] = more[i];
	cfg->threshold_pct = p->threshold_pct;
	cfg->margin_pct = p->margin_pct;
	cfg->passes = p->passes;
	cfg->dwell_ms = p->dwell_ms;
	cfg->interval_ms = p->interval_ms;
	cfg->cur_node = p->cur_node;
	cfg->numa_balancing = p->numa_balancing;
	cfg->local_pml = p->local_pml;
	cfg->max_moves_per_min = p->max_moves_per_min;
	cfg->nr_threads = p->nr_threads;
	cfg->nr_placed = p->nr_placed;
	cfg->ran_nodes = p->ran_nodes;
	cfg->moves = p->moves;
	cfg->suppressed_dwell = p->suppressed_dwell;
	cfg->suppressed_hysteresis = p->suppressed_hysteresis;
	cfg->suppressed_rate = p->suppressed_rate;
	cfg->suppressed_conflict = p->suppressed_conflict;
	cfg->last_move_ns = p->last_move_ns;
}

static int src_numa_get(struct kvmw_source *src, __u64 vm_id,
			struct kvmw_numa_cfg *cfg)
{
	__u64 more[KVMW_NUMA_NODE_WORDS - 1] = { 0 };
	struct dev_source *ds = src->priv;
	struct kvmw_numa_policy p;
	int ret;

	if (!(ds->dev.hs.features & KVMW_FEAT_NUMA_PLACE))
		return -ENOTSUP;
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.vm_id = vm_id;
	p.nr_node_words = ARRAY_SIZE(more);
	p.nodes_ptr = (uintptr_t)more;
	ret = dev_ioctl(&ds->dev, KVMW_IOC_NUMA_GET, &p);
	if (ret)
		return ret;
	numa_to_cfg(&p, more, ARRAY_SIZE(more), cfg);
	return 0;
}

static int src_numa_set(struct kvmw_source *src, __u64 vm_id,
			const struct kvmw_numa_cfg *cfg)
{
	struct dev_source *ds = src->priv;
	struct kvmw_numa_policy p;
	__u32 words = 0, i;

	if (!(ds->dev.hs.features & KVMW_FEAT_NUMA_PLACE))
		return -ENOTSUP;
	/* Only the words up to the highest node given go to the module. */
	for (i = 1; i < KVMW_NUMA_NODE_WORDS; i++)
		if (cfg->nodes[i])
			words = i;
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.flags = cfg->flags;
	p.vm_id = vm_id;
	p.policy = cfg->policy;
	p.nodes = cfg->nodes[0];
	p.nr_node_words = words;
	p.nodes_ptr = words ? (uintptr_t)&cfg->nodes[1] : 0;
	p.threshold_pct = cfg->threshold_pct;
	p.margin_pct = cfg->margin_pct;
	p.passes = cfg->passes;
	p.dwell_ms = cfg->dwell_ms;
	p.interval_ms = cfg->interval_ms;
	return dev_ioctl(&ds->dev, KVMW_IOC_NUMA_SET, &p);
}

const struct kvmw_source_ops kvmw_source_dev = {
	.name = "device",
	.open = src_open,
	.info = src_info,
	.snapshot = src_snapshot,
	.read_events = src_read_events,
	.close = src_close,
	.budget_get = src_budget_get,
	.budget_set = src_budget_set,
	.budget_default_get = src_budget_default_get,
	.budget_default_set = src_budget_default_set,
	.numa_get = src_numa_get,
	.numa_set = src_numa_set,
};
