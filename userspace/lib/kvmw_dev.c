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
#include "libkvmwarden.h"

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
	return rec.size;
}

/* The source */

/* Bytes asked for per read(): many records of any plausible size. */
#define EV_BUF_LEN	65536

struct dev_source {
	struct kvmw_dev dev;
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

static int src_open(struct kvmw_source *src, const char *path,
		    const void *sys)
{
	struct dev_source *ds = calloc(1, sizeof(*ds));
	int ret;

	if (!ds)
		return -ENOMEM;
	ret = kvmw_dev_open(&ds->dev, path ? path : KVMW_DEVICE_PATH, sys);
	host_from_hs(&ds->dev.hs, &src->host);
	if (ret) {
		free(ds);
		return ret;
	}
	src->priv = ds;
	return 0;
}

static int src_info(struct kvmw_source *src)
{
	struct dev_source *ds = src->priv;
	int ret = kvmw_dev_handshake(&ds->dev);

	if (!ret)
		host_from_hs(&ds->dev.hs, &src->host);
	return ret;
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

static int src_snapshot(struct kvmw_source *src, const __u64 *ids,
			size_t nr_ids, bool detail, struct kvmw_snapshot *snap)
{
	struct dev_source *ds = src->priv;
	struct kvmw_snapshot model;
	struct kvmw_sample s;
	int ret;

	if (!detail)
		return src_summaries(src, ids, nr_ids, snap);
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

static void src_close(struct kvmw_source *src)
{
	struct dev_source *ds = src->priv;

	if (!ds)
		return;
	kvmw_dev_close(&ds->dev);
	free(ds->ev_buf);
	free(ds);
	src->priv = NULL;
}

const struct kvmw_source_ops kvmw_source_dev = {
	.name = "device",
	.open = src_open,
	.info = src_info,
	.snapshot = src_snapshot,
	.read_events = src_read_events,
	.close = src_close,
};
