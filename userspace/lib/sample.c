// SPDX-License-Identifier: GPL-2.0-only
/*
 * Taking samples of the tracked VMs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sample.h"

__u64 kvmw_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

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

static bool wanted(__u64 vm_id, const __u64 *ids, size_t nr_ids)
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
		if (wanted(s->vms[i].vm.vm_id, ids, nr_ids))
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
		if (!wanted(list[i].vm_id, ids, nr_ids))
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
