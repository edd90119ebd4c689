/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sample: the handshake and the snapshots of some VMs, taken at one time.
 */
#ifndef KVMW_SAMPLE_H
#define KVMW_SAMPLE_H

#include <stddef.h>

#include "kvmw_dev.h"

struct kvmw_sample {
	struct kvmw_handshake hs;
	/* CLOCK_BOOTTIME (ns) when the sample was started. */
	__u64 t_ns;
	/* Sorted by vm_id. */
	struct kvmw_vm_snap *vms;
	size_t nr_vms;
};

/*
 * Takes a sample of every tracked VM, or only of the VMs in @ids when
 * @nr_ids is not 0. With KVMW_FEAT_SNAPSHOT_ALL that is one
 * KVMW_IOC_SNAPSHOT_ALL call; otherwise KVMW_IOC_LIST_VMS and a
 * KVMW_IOC_VM_SNAPSHOT per VM, where a VM that disappears between the
 * list and its snapshot is left out. The sample is the same either way.
 * Returns 0 or -errno.
 */
int kvmw_sample_take(struct kvmw_dev *dev, const __u64 *ids, size_t nr_ids,
		     struct kvmw_sample *s);
void kvmw_sample_free(struct kvmw_sample *s);

/* The VM's snapshot in @s, or NULL. */
const struct kvmw_vm_snap *kvmw_sample_find(const struct kvmw_sample *s,
					    __u64 vm_id);

/* Sorts VM summaries by vm_id. */
void kvmw_sort_vm_infos(struct kvmw_vm_info *vms, size_t nr);

/* CLOCK_BOOTTIME in ns. */
__u64 kvmw_now_ns(void);

#endif /* KVMW_SAMPLE_H */
