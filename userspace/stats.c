// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reason totals and exit rates (see stats.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_code(const void *a, const void *b)
{
	const struct kvmw_reason_total *x = a, *y = b;

	return (x->code > y->code) - (x->code < y->code);
}

static int cmp_count_desc(const void *a, const void *b)
{
	const struct kvmw_reason_total *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return cmp_code(a, b);
}

int kvmw_reason_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
		       struct kvmw_reason_total **out, size_t *nr)
{
	struct kvmw_reason_total *t;
	size_t first = 0, count = snap->nr_reasons, i, n = 0;

	*out = NULL;
	*nr = 0;
	if (vcpu != KVMW_ALL_VCPUS) {
		if (vcpu >= snap->nr_vcpus)
			return 0;
		first = snap->vcpus[vcpu].first_reason;
		count = snap->vcpus[vcpu].nr_reasons;
	}
	if (!count)
		return 0;
	t = calloc(count, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		t[i].code = snap->reasons[first + i].reason;
		t[i].count = snap->reasons[first + i].count;
	}
	/* Merge the entries of the same code (from different vCPUs). */
	qsort(t, count, sizeof(*t), cmp_code);
	for (i = 0; i < count; i++) {
		if (n && t[n - 1].code == t[i].code)
			t[n - 1].count += t[i].count;
		else
			t[n++] = t[i];
	}
	qsort(t, n, sizeof(*t), cmp_count_desc);
	*out = t;
	*nr = n;
	return 0;
}

__u64 kvmw_reason_denominator(const struct kvmw_vm_snap *snap, size_t vcpu)
{
	size_t i, first = 0, count = snap->nr_reasons;
	__u64 sum = 0;

	if (vcpu != KVMW_ALL_VCPUS) {
		if (vcpu >= snap->nr_vcpus)
			return 0;
		first = snap->vcpus[vcpu].first_reason;
		count = snap->vcpus[vcpu].nr_reasons;
		sum = snap->vcpus[vcpu].overflow_exits;
	} else {
		for (i = 0; i < snap->nr_vcpus; i++)
			sum += snap->vcpus[i].overflow_exits;
	}
	for (i = 0; i < count; i++)
		sum += snap->reasons[first + i].count;
	return sum;
}

void kvmw_category_totals(const struct kvmw_vm_snap *snap, size_t vcpu,
			  unsigned int vendor,
			  __u64 out[KVMW_NR_CATEGORIES])
{
	size_t i, first = 0, count = snap->nr_reasons;

	memset(out, 0, KVMW_NR_CATEGORIES * sizeof(*out));
	if (vcpu != KVMW_ALL_VCPUS) {
		if (vcpu >= snap->nr_vcpus)
			return;
		first = snap->vcpus[vcpu].first_reason;
		count = snap->vcpus[vcpu].nr_reasons;
		out[KVMW_CAT_OTHER] = snap->vcpus[vcpu].overflow_exits;
	} else {
		for (i = 0; i < snap->nr_vcpus; i++)
			out[KVMW_CAT_OTHER] += snap->vcpus[i].overflow_exits;
	}
	for (i = 0; i < count; i++) {
		const struct kvmw_reason_stat *r = &snap->reasons[first + i];

		out[kvmw_reason_category(vendor, r->reason)] += r->count;
	}
}

bool kvmw_rate(__u64 before, __u64 after, __u64 elapsed_ns, double *rate)
{
	if (!elapsed_ns || after < before)
		return false;
	*rate = (double)(after - before) * 1e9 / (double)elapsed_ns;
	return true;
}

static void fill_row(struct kvmw_stat_row *row,
		     const struct kvmw_vm_snap *old,
		     const struct kvmw_vm_snap *now, __u64 elapsed_ns)
{
	__u64 before = 0;

	memset(row, 0, sizeof(*row));
	if (!now) {
		/* Dropped by the module during the interval. */
		row->snap = old;
		row->gone = true;
		row->vanished = true;
		if (elapsed_ns && (old->vm.flags & KVMW_VM_F_GONE)) {
			row->has_rate = true;
			row->exits_per_sec = 0;
		}
		return;
	}
	row->snap = now;
	row->gone = now->vm.flags & KVMW_VM_F_GONE;
	if (!elapsed_ns)
		return;
	if (old && old->vm.first_seen_ns == now->vm.first_seen_ns &&
	    old->vm.exits <= now->vm.exits)
		before = old->vm.exits;
	row->has_rate = kvmw_rate(before, now->vm.exits, elapsed_ns,
				  &row->exits_per_sec);
}

int kvmw_stat_rows(const struct kvmw_sample *prev,
		   const struct kvmw_sample *cur,
		   struct kvmw_stat_row **rows, size_t *nr)
{
	size_t np = prev ? prev->nr_vms : 0, nc = cur->nr_vms;
	size_t ip = 0, ic = 0, n = 0;
	struct kvmw_stat_row *r;
	__u64 elapsed = 0;

	*rows = NULL;
	*nr = 0;
	if (prev && cur->t_ns > prev->t_ns)
		elapsed = cur->t_ns - prev->t_ns;
	if (!np && !nc)
		return 0;
	r = calloc(np + nc, sizeof(*r));
	if (!r)
		return -ENOMEM;

	/* Both samples are sorted by vm_id: merge them. */
	while (ip < np || ic < nc) {
		const struct kvmw_vm_snap *p = ip < np ? &prev->vms[ip] : NULL;
		const struct kvmw_vm_snap *c = ic < nc ? &cur->vms[ic] : NULL;

		if (p && c && p->vm.vm_id == c->vm.vm_id) {
			ip++;
			ic++;
		} else if (p && (!c || p->vm.vm_id < c->vm.vm_id)) {
			ip++;
			c = NULL;
		} else {
			ic++;
			p = NULL;
		}
		fill_row(&r[n++], p, c, elapsed);
	}
	*rows = r;
	*nr = n;
	return 0;
}
