/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Computations on samples: reason totals and exit rates. No device access
 * here: everything works on plain structs, so it is unit tested directly.
 */
#ifndef KVMW_STATS_H
#define KVMW_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <kvmwarden/categories.h>

#include "sample.h"

struct kvmw_reason_total {
	__u32 code;
	__u64 count;
};

/* Pass as @vcpu to kvmw_reason_totals() for the whole VM. */
#define KVMW_ALL_VCPUS	((size_t)-1)

/*
 * Adds up the counts of @snap per reason code, over all vCPUs or only over
 * the vCPU at index @vcpu of the snapshot, and sorts them by count
 * (largest first, then by code). *out is a new array (free() it; NULL
 * when *nr is 0). Returns 0 or -ENOMEM.
 */
int kvmw_reason_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
		       struct kvmw_reason_total **out, size_t *nr);

/*
 * Exits the shares of reasons are relative to: the sum of the reason
 * counts plus the exits whose reason overflowed the vCPU tables.
 */
__u64 kvmw_reason_denominator(const struct kvmw_vm_snap *snap, size_t vcpu);

/*
 * Adds up the exits of @snap per category (enum kvmw_category, see
 * include/kvmwarden/categories.h), over all vCPUs or only over the vCPU at
 * index @vcpu, reading the reason codes as @vendor's (KVMW_VENDOR_*).
 * Exits whose reason overflowed the vCPU tables count as "other", so the
 * categories add up to kvmw_reason_denominator().
 */
void kvmw_category_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
			  unsigned int vendor,
			  __u64 out[KVMW_NR_CATEGORIES]);

/*
 * Rate per second of a counter that went from @before to @after in
 * @elapsed_ns. Returns false (and leaves *rate alone) when there is no
 * meaningful rate: no time elapsed or the counter went backwards.
 */
bool kvmw_rate(__u64 before, __u64 after, __u64 elapsed_ns, double *rate);

/* One VM of the stat output. */
struct kvmw_stat_row {
	/* Newest data known: from the second sample, or the first. */
	const struct kvmw_vm_snap *snap;
	/* Destroyed (KVMW_VM_F_GONE) or no longer tracked at all. */
	bool gone;
	/* In the first sample but not in the second. */
	bool vanished;
	bool has_rate;
	double exits_per_sec;
};

/*
 * Pairs the VMs of two samples by vm_id into rows sorted by vm_id, with
 * exit rates over the time between them. @prev may be NULL (no rates).
 *
 * - A VM in both samples: (exits now - exits then) / interval. If its
 *   first_seen_ns changed or its exits went down, it is another VM that
 *   got the same id (module reloaded): it counts from 0.
 * - A VM only in @cur appeared during the interval: all its exits are
 *   from the interval.
 * - A VM only in @prev was dropped by the module: it is shown as gone
 *   with its last numbers; rate 0 if it was already gone in @prev (its
 *   counters were final), unknown otherwise.
 *
 * The samples must outlive the rows. *rows is a new array (free() it).
 * Returns 0 or -ENOMEM.
 */
int kvmw_stat_rows(const struct kvmw_sample *prev,
		   const struct kvmw_sample *cur,
		   struct kvmw_stat_row **rows, size_t *nr);

#endif /* KVMW_STATS_H */
