// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reason totals, exit rates, latencies and time shares (see stats.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const struct kvmw_pct_def kvmw_pcts[KVMW_NR_PCTS] = {
	{ 500000, "P50", "p50_ns" },
	{ 900000, "P90", "p90_ns" },
	{ 990000, "P99", "p99_ns" },
	{ 999000, "P99.9", "p99_9_ns" },
};

__u64 kvmw_hist_total(const __u64 hist[KVMW_LAT_BUCKETS])
{
	__u64 sum = 0;
	unsigned int b;

	for (b = 0; b < KVMW_LAT_BUCKETS; b++)
		sum += hist[b];
	return sum;
}

/* Adds @s to @d: see kvmw_lat_add(). */
static void lat_merge(struct kvmw_lat *d, const struct kvmw_lat *s)
{
	unsigned int b;

	d->flags |= s->flags;
	d->total_ns += s->total_ns;
	d->user_count += s->user_count;
	d->user_ns += s->user_ns;
	if (!s->timed)
		return;
	/* Only parts that timed something have a meaningful min and max. */
	if (!d->timed || s->min_ns < d->min_ns)
		d->min_ns = s->min_ns;
	if (s->max_ns > d->max_ns)
		d->max_ns = s->max_ns;
	d->timed += s->timed;
	for (b = 0; b < KVMW_LAT_BUCKETS; b++)
		d->hist[b] += s->hist[b];
}

void kvmw_lat_add(struct kvmw_lat *acc, const struct kvmw_reason_stat *r)
{
	struct kvmw_lat l = {
		.timed = kvmw_hist_total(r->hist),
		.total_ns = r->lat_total_ns,
		.min_ns = r->lat_min_ns,
		.max_ns = r->lat_max_ns,
		.user_count = r->user_count,
		.user_ns = r->user_ns,
		.flags = r->flags,
	};

	memcpy(l.hist, r->hist, sizeof(l.hist));
	lat_merge(acc, &l);
}

bool kvmw_lat_mean(const struct kvmw_lat *l, double *mean)
{
	if (!l->timed)
		return false;
	*mean = (double)l->total_ns / (double)l->timed;
	return true;
}

__u64 kvmw_lat_bucket_lo(unsigned int b)
{
	if (b >= KVMW_LAT_BUCKETS)
		b = KVMW_LAT_BUCKETS - 1;
	return b ? 1ULL << b : 0;
}

__u64 kvmw_lat_bucket_hi(unsigned int b)
{
	if (b >= KVMW_LAT_BUCKETS - 1)
		return KVMW_LAT_INF;
	return 1ULL << (b + 1);
}

unsigned int kvmw_lat_bucket(__u64 ns)
{
	unsigned int b = 63 - __builtin_clzll(ns | 1);

	return b < KVMW_LAT_BUCKETS ? b : KVMW_LAT_BUCKETS - 1;
}

int kvmw_hist_percentile(const __u64 hist[KVMW_LAT_BUCKETS], __u32 q_ppm,
			 __u64 *lo, __u64 *hi)
{
	__u64 total = kvmw_hist_total(hist), rank, cum = 0;
	unsigned int b;

	if (!total)
		return -1;
	if (q_ppm > KVMW_PPM)
		q_ppm = KVMW_PPM;
	/*
	 * rank = ceil(total * q_ppm / PPM) in integers, without overflow:
	 * with total = a * PPM + r it is a * q_ppm + ceil(r * q_ppm / PPM).
	 */
	rank = total / KVMW_PPM * q_ppm +
	       ((total % KVMW_PPM) * q_ppm + KVMW_PPM - 1) / KVMW_PPM;
	if (!rank)
		rank = 1;
	for (b = 0; b < KVMW_LAT_BUCKETS - 1; b++) {
		cum += hist[b];
		if (cum >= rank)
			break;
	}
	*lo = kvmw_lat_bucket_lo(b);
	*hi = kvmw_lat_bucket_hi(b);
	return b;
}

void kvmw_lat_percentile(const struct kvmw_lat *l, __u32 q_ppm,
			 struct kvmw_pct *p)
{
	__u64 lo, hi;

	p->bucket = kvmw_hist_percentile(l->hist, q_ppm, &lo, &hi);
	if (p->bucket < 0) {
		p->lo = 0;
		p->hi = 0;
		return;
	}
	/* min and max are exact: the quantile lies between them. */
	if (l->min_ns > lo && l->min_ns < hi)
		lo = l->min_ns;
	if (l->max_ns < hi && l->max_ns >= lo)
		hi = l->max_ns;
	p->lo = lo;
	p->hi = hi;
}

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
		kvmw_lat_add(&t[i].lat, &snap->reasons[first + i]);
	}
	/* Merge the entries of the same code (from different vCPUs). */
	qsort(t, count, sizeof(*t), cmp_code);
	for (i = 0; i < count; i++) {
		if (n && t[n - 1].code == t[i].code) {
			t[n - 1].count += t[i].count;
			lat_merge(&t[n - 1].lat, &t[i].lat);
		} else if (n++ != i) {
			t[n - 1] = t[i];
		}
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

/* The vCPUs [*first, *last) that @vcpu (or KVMW_ALL_VCPUS) selects. */
static void vcpu_range(const struct kvmw_vm_snap *snap, size_t vcpu,
		       size_t *first, size_t *last)
{
	*first = 0;
	*last = snap->nr_vcpus;
	if (vcpu == KVMW_ALL_VCPUS)
		return;
	*first = vcpu < snap->nr_vcpus ? vcpu : snap->nr_vcpus;
	*last = vcpu < snap->nr_vcpus ? vcpu + 1 : snap->nr_vcpus;
}

void kvmw_times(const struct kvmw_vm_snap *snap, size_t vcpu,
		struct kvmw_times *t)
{
	size_t i, first, last;

	memset(t, 0, sizeof(*t));
	vcpu_range(snap, vcpu, &first, &last);
	for (i = first; i < last; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		t->guest_ns += v->guest_ns;
		t->exit_ns += v->exit_ns;
		t->idle_ns += v->idle_ns;
		t->user_ns += v->user_ns;
		t->overhead_ns += v->overhead_ns;
		t->untimed_exits += v->untimed_exits;
	}
}

bool kvmw_overhead_pct(const struct kvmw_times *t, double *pct)
{
	/* In double: the sum cannot overflow. */
	double all = (double)t->guest_ns + (double)t->exit_ns;

	if (all <= 0)
		return false;
	*pct = (double)t->overhead_ns * 100.0 / all;
	return true;
}

void kvmw_faults(const struct kvmw_vm_snap *snap, size_t vcpu,
		 struct kvmw_faults *f)
{
	size_t i, first, last;
	unsigned int k;

	memset(f, 0, sizeof(*f));
	vcpu_range(snap, vcpu, &first, &last);
	for (i = first; i < last; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		f->faults += v->faults;
		f->write += v->fault_write;
		f->fetch += v->fault_fetch;
		f->present += v->fault_present;
		f->mmio += v->fault_mmio;
		f->lat_total_ns += v->fault_lat_total_ns;
		if (v->fault_lat_max_ns > f->lat_max_ns)
			f->lat_max_ns = v->fault_lat_max_ns;
		f->node_unknown += v->fault_node_unknown;
		for (k = 0; k < KVMW_MAX_NODES; k++) {
			f->node[k] += v->fault_node[k];
			f->located += v->fault_node[k];
		}
		for (k = 0; k < KVMW_LAT_BUCKETS; k++)
			f->hist[k] += v->fault_hist[k];
	}
	f->timed = kvmw_hist_total(f->hist);
}

bool kvmw_fault_lat_mean(const struct kvmw_faults *f, double *mean)
{
	if (!f->timed)
		return false;
	*mean = (double)f->lat_total_ns / (double)f->timed;
	return true;
}

/* A quantile of @hist narrowed to an exact maximum only (no minimum). */
static void max_percentile(const __u64 hist[KVMW_LAT_BUCKETS], __u64 max_ns,
			   __u32 q_ppm, struct kvmw_pct *p)
{
	/* min_ns 0 never narrows the lower end. */
	struct kvmw_lat l = {
		.timed = kvmw_hist_total(hist),
		.max_ns = max_ns,
	};

	memcpy(l.hist, hist, sizeof(l.hist));
	kvmw_lat_percentile(&l, q_ppm, p);
}

void kvmw_fault_percentile(const struct kvmw_faults *f, __u32 q_ppm,
			   struct kvmw_pct *p)
{
	max_percentile(f->hist, f->lat_max_ns, q_ppm, p);
}

/* The index of the largest of @n values, the lowest on a tie. */
static unsigned int argmax(const __u64 *v, unsigned int n)
{
	unsigned int k, best = 0;

	for (k = 1; k < n; k++) {
		if (v[k] > v[best])
			best = k;
	}
	return best;
}

int kvmw_fault_dominant_node(const struct kvmw_faults *f, double *pct)
{
	unsigned int best;

	if (!f->located)
		return -1;
	best = argmax(f->node, KVMW_MAX_NODES);
	kvmw_share(f->node[best], f->located, pct);
	return best;
}

void kvmw_sched(const struct kvmw_vm_snap *snap, size_t vcpu,
		struct kvmw_sched *s)
{
	size_t i, first, last;
	unsigned int k;

	memset(s, 0, sizeof(*s));
	vcpu_range(snap, vcpu, &first, &last);
	for (i = first; i < last; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		s->rq_delay_ns += v->rq_delay_ns;
		s->rq_delay_count += v->rq_delay_count;
		if (v->rq_delay_max_ns > s->rq_delay_max_ns)
			s->rq_delay_max_ns = v->rq_delay_max_ns;
		s->preemptions += v->preemptions;
		s->sleeps += v->sleeps;
		s->migrations += v->migrations;
		s->node_migrations += v->node_migrations;
		for (k = 0; k < KVMW_MAX_NODES; k++) {
			s->run_node_ns[k] += v->run_node_ns[k];
			s->run_ns += v->run_node_ns[k];
		}
		for (k = 0; k < KVMW_LAT_BUCKETS; k++)
			s->hist[k] += v->rq_delay_hist[k];
		s->wall_ns += v->guest_ns + v->exit_ns;
	}
	s->timed = kvmw_hist_total(s->hist);
}

bool kvmw_sched_wait_mean(const struct kvmw_sched *s, double *mean)
{
	if (!s->rq_delay_count)
		return false;
	*mean = (double)s->rq_delay_ns / (double)s->rq_delay_count;
	return true;
}

bool kvmw_steal_pct(const struct kvmw_sched *s, double *pct)
{
	return kvmw_share(s->rq_delay_ns, s->wall_ns, pct);
}

void kvmw_sched_percentile(const struct kvmw_sched *s, __u32 q_ppm,
			   struct kvmw_pct *p)
{
	max_percentile(s->hist, s->rq_delay_max_ns, q_ppm, p);
}

int kvmw_sched_home_node(const struct kvmw_sched *s, double *pct)
{
	unsigned int best;

	if (!s->run_ns)
		return -1;
	best = argmax(s->run_node_ns, KVMW_MAX_NODES);
	kvmw_share(s->run_node_ns[best], s->run_ns, pct);
	return best;
}

__u64 kvmw_mem_resident(const struct kvmw_vm_mem *m)
{
	__u64 sum = m->node_unknown;
	unsigned int k;

	for (k = 0; k < KVMW_MAX_NODES; k++)
		sum += m->node[k];
	return sum;
}

bool kvmw_remote_pct(const struct kvmw_vm_snap *snap, int *home, double *pct)
{
	__u64 resident = kvmw_mem_resident(&snap->mem);
	struct kvmw_sched s;
	double run_pct;

	kvmw_sched(snap, KVMW_ALL_VCPUS, &s);
	*home = kvmw_sched_home_node(&s, &run_pct);
	if (*home < 0 || !resident)
		return false;
	return kvmw_share(resident - snap->mem.node[*home], resident, pct);
}

bool kvmw_share(__u64 part, __u64 whole, double *pct)
{
	if (!whole)
		return false;
	*pct = (double)part * 100.0 / (double)whole;
	return true;
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
