// SPDX-License-Identifier: GPL-2.0-only
/*
 * libkvmwarden: the snapshot model, its derived figures and deltas (see
 * libkvmwarden.h). No source access here: everything works on the
 * library's own types, whoever filled them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libkvmwarden.h"

const struct kvmw_pct_def kvmw_pcts[KVMW_NR_PCTS] = {
	{ 500000, "P50", "p50_ns" },
	{ 900000, "P90", "p90_ns" },
	{ 990000, "P99", "p99_ns" },
	{ 999000, "P99.9", "p99_9_ns" },
};

__u64 kvmw_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

struct kvmw_opt kvmw_share(__u64 part, __u64 whole)
{
	struct kvmw_opt o = { 0 };

	if (whole) {
		o.ok = true;
		o.v = (double)part * 100.0 / (double)whole;
	}
	return o;
}

struct kvmw_opt kvmw_rate(__u64 before, __u64 after, __u64 elapsed_ns)
{
	struct kvmw_opt o = { 0 };

	if (elapsed_ns && after >= before) {
		o.ok = true;
		o.v = (double)(after - before) * 1e9 / (double)elapsed_ns;
	}
	return o;
}

/* @sum / @n, not ok when @n is 0. */
static struct kvmw_opt mean(__u64 sum, __u64 n)
{
	struct kvmw_opt o = { 0 };

	if (n) {
		o.ok = true;
		o.v = (double)sum / (double)n;
	}
	return o;
}

const char *kvmw_rec_scope_name(enum kvmw_rec_scope scope)
{
	static const char * const names[] = { "vm", "vcpu", "reason" };

	return scope < KVMW_NR_REC_SCOPES ? names[scope] : "unknown";
}

const char *kvmw_stat_kind_name(enum kvmw_stat_kind kind)
{
	static const char * const names[] = {
		"counter", "gauge", "histogram", "unknown",
	};

	return kind <= KVMW_KIND_UNKNOWN ? names[kind] : "unknown";
}

/* Histograms */

int kvmw_hist_init(struct kvmw_hist *h, __u32 type, __u32 sub_bits, __u32 nr)
{
	memset(h, 0, sizeof(*h));
	if (nr) {
		h->buckets = calloc(nr, sizeof(*h->buckets));
		if (!h->buckets)
			return -ENOMEM;
	}
	h->type = type;
	h->sub_bits = sub_bits;
	h->nr_buckets = nr;
	return 0;
}

void kvmw_hist_release(struct kvmw_hist *h)
{
	free(h->buckets);
	memset(h, 0, sizeof(*h));
}

__u64 kvmw_hist_total(const struct kvmw_hist *h)
{
	__u64 sum = 0;
	__u32 b;

	for (b = 0; b < h->nr_buckets; b++)
		sum += h->buckets[b];
	return sum;
}

void kvmw_hist_percentile(const struct kvmw_hist *h, __u32 q_ppm,
			  __u64 min, __u64 max, struct kvmw_pct *p)
{
	__u64 total = kvmw_hist_total(h), rank, cum = 0, lo, hi;
	__u32 b;

	memset(p, 0, sizeof(*p));
	p->bucket = -1;
	if (!total)
		return;
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
	for (b = 0; b + 1 < h->nr_buckets; b++) {
		cum += h->buckets[b];
		if (cum >= rank)
			break;
	}
	lo = kvmw_hist_lo(h->type, h->sub_bits, b);
	hi = kvmw_hist_hi(h->type, h->sub_bits, b, h->nr_buckets);
	/* min and max are exact: the quantile lies between them. */
	if (min > lo && min < hi)
		lo = min;
	if (max < hi && max >= lo)
		hi = max;
	p->bucket = b;
	p->lo = lo;
	p->hi = hi;
}

/* Adds @s to @d bucket by bucket; @d takes @s's layout when it has none. */
static int hist_add(struct kvmw_hist *d, const struct kvmw_hist *s)
{
	__u32 b;
	int ret;

	if (!s->nr_buckets)
		return 0;
	if (!d->nr_buckets) {
		ret = kvmw_hist_init(d, s->type, s->sub_bits, s->nr_buckets);
		if (ret)
			return ret;
	}
	if (d->type != s->type || d->sub_bits != s->sub_bits ||
	    d->nr_buckets != s->nr_buckets)
		return -EINVAL;
	for (b = 0; b < s->nr_buckets; b++)
		d->buckets[b] += s->buckets[b];
	return 0;
}

__u64 *kvmw_nodes_alloc(const struct kvmw_host *host)
{
	return calloc(host->nr_nodes ? host->nr_nodes : 1, sizeof(__u64));
}

/* Makes *@d a node array of @nr (zeroed) unless it is one. */
static int nodes_ensure(__u64 **d, unsigned int nr)
{
	if (!*d)
		*d = calloc(nr ? nr : 1, sizeof(**d));
	return *d ? 0 : -ENOMEM;
}

/* Adds the node array @s to *@d (allocated on first use). */
static int nodes_add(__u64 **d, const __u64 *s, unsigned int nr)
{
	unsigned int k;
	int ret;

	if (!s)
		return 0;
	ret = nodes_ensure(d, nr);
	if (ret)
		return ret;
	for (k = 0; k < nr; k++)
		(*d)[k] += s[k];
	return 0;
}

/*
 * *@pct: each of the @nr values of @v in percent of @whole (0 when
 * @whole is 0), allocated on first use.
 */
static int node_shares(double **pct, const __u64 *v, unsigned int nr,
		       __u64 whole)
{
	unsigned int k;

	if (!*pct)
		*pct = calloc(nr ? nr : 1, sizeof(**pct));
	if (!*pct)
		return -ENOMEM;
	for (k = 0; k < nr; k++)
		(*pct)[k] = v ? kvmw_share(v[k], whole).v : 0;
	return 0;
}

/* The index of the largest of @n values, the lowest on a tie; -1 if none. */
static int argmax(const __u64 *v, unsigned int n)
{
	unsigned int k, best = 0;

	if (!v || !n)
		return -1;
	for (k = 1; k < n; k++) {
		if (v[k] > v[best])
			best = k;
	}
	return best;
}

static __u64 nodes_sum(const __u64 *v, unsigned int n)
{
	__u64 sum = 0;
	unsigned int k;

	for (k = 0; v && k < n; k++)
		sum += v[k];
	return sum;
}

/* Releasing */

static void unit_release(struct kvmw_unit *u)
{
	size_t i;

	for (i = 0; i < u->nr_reasons; i++)
		kvmw_hist_release(&u->reasons[i].lat.hist);
	free(u->reasons);
	free(u->faults.node);
	free(u->faults.node_pct);
	kvmw_hist_release(&u->faults.hist);
	free(u->sched.run_node_ns);
	free(u->sched.run_node_pct);
	kvmw_hist_release(&u->sched.hist);
	memset(u, 0, sizeof(*u));
}

void kvmw_vm_release(struct kvmw_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->nr_vcpus_detail; i++)
		unit_release(&vm->vcpus[i].u);
	free(vm->vcpus);
	free(vm->mem.node);
	free(vm->mem.node_pct);
	unit_release(&vm->total);
	memset(vm, 0, sizeof(*vm));
}

void kvmw_snapshot_free(struct kvmw_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->nr_vms; i++)
		kvmw_vm_release(&snap->vms[i]);
	free(snap->vms);
	free(snap->raw.infos);
	for (i = 0; i < KVMW_NR_REC_SCOPES; i++)
		free(snap->raw.blocks[i]);
	memset(snap, 0, sizeof(*snap));
}

/* Adding up */

/* Adds the latencies of @s to @d: see struct kvmw_unit. */
static int lat_add(struct kvmw_lat *d, const struct kvmw_lat *s)
{
	d->total_ns += s->total_ns;
	d->user_count += s->user_count;
	d->user_ns += s->user_ns;
	/* Only parts that timed something have a meaningful min and max. */
	if (s->timed) {
		if (!d->timed || s->min_ns < d->min_ns)
			d->min_ns = s->min_ns;
		if (s->max_ns > d->max_ns)
			d->max_ns = s->max_ns;
		d->timed += s->timed;
	}
	return hist_add(&d->hist, &s->hist);
}

static int faults_add(struct kvmw_faults *d, const struct kvmw_faults *s,
		      unsigned int nr_nodes)
{
	int ret;

	d->count += s->count;
	d->write += s->write;
	d->fetch += s->fetch;
	d->present += s->present;
	d->mmio += s->mmio;
	d->lat_total_ns += s->lat_total_ns;
	if (s->lat_max_ns > d->lat_max_ns)
		d->lat_max_ns = s->lat_max_ns;
	d->node_unknown += s->node_unknown;
	ret = nodes_add(&d->node, s->node, nr_nodes);
	return ret ? ret : hist_add(&d->hist, &s->hist);
}

static int sched_add(struct kvmw_sched *d, const struct kvmw_sched *s,
		     unsigned int nr_nodes)
{
	int ret;

	d->rq_delay_ns += s->rq_delay_ns;
	d->rq_delay_count += s->rq_delay_count;
	if (s->rq_delay_max_ns > d->rq_delay_max_ns)
		d->rq_delay_max_ns = s->rq_delay_max_ns;
	d->preemptions += s->preemptions;
	d->sleeps += s->sleeps;
	d->migrations += s->migrations;
	d->node_migrations += s->node_migrations;
	ret = nodes_add(&d->run_node_ns, s->run_node_ns, nr_nodes);
	return ret ? ret : hist_add(&d->hist, &s->hist);
}

static void times_add(struct kvmw_times *d, const struct kvmw_times *s)
{
	d->guest_ns += s->guest_ns;
	d->exit_ns += s->exit_ns;
	d->idle_ns += s->idle_ns;
	d->user_ns += s->user_ns;
	d->overhead_ns += s->overhead_ns;
	d->untimed_exits += s->untimed_exits;
}

static int cmp_code(const void *a, const void *b)
{
	const struct kvmw_reason *x = a, *y = b;

	return (x->code > y->code) - (x->code < y->code);
}

static int cmp_count_desc(const void *a, const void *b)
{
	const struct kvmw_reason *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return cmp_code(a, b);
}

/*
 * The reasons of all vCPUs of @vm, one entry per code with the counts
 * and latencies added up, into vm->total.
 */
static int total_reasons(struct kvmw_vm *vm)
{
	struct kvmw_unit *t = &vm->total;
	struct kvmw_reason *r;
	size_t i, k, n = 0, all = 0;
	int ret = 0;

	for (i = 0; i < vm->nr_vcpus_detail; i++)
		all += vm->vcpus[i].u.nr_reasons;
	if (!all)
		return 0;
	r = calloc(all, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_unit *u = &vm->vcpus[i].u;

		for (k = 0; k < u->nr_reasons; k++)
			r[n++].code = u->reasons[k].code;
	}
	qsort(r, n, sizeof(*r), cmp_code);
	/* Merge the entries of the same code (from different vCPUs). */
	for (i = 0, k = 0; i < n; i++) {
		if (k && r[k - 1].code == r[i].code)
			continue;
		r[k++] = r[i];
	}
	n = k;
	t->reasons = r;
	t->nr_reasons = n;
	for (i = 0; i < vm->nr_vcpus_detail && !ret; i++) {
		const struct kvmw_unit *u = &vm->vcpus[i].u;

		for (k = 0; k < u->nr_reasons && !ret; k++) {
			const struct kvmw_reason *s = &u->reasons[k];
			struct kvmw_reason *d;

			d = bsearch(s, r, n, sizeof(*r), cmp_code);
			d->count += s->count;
			d->flags |= s->flags;
			ret = lat_add(&d->lat, &s->lat);
		}
	}
	return ret;
}

/* Deriving */

static void lat_derive(struct kvmw_lat *l, bool user)
{
	unsigned int k;

	l->timed = kvmw_hist_total(&l->hist);
	l->mean_ns = mean(l->total_ns, l->timed);
	if (user)
		l->user_pct = kvmw_share(l->user_count, l->timed);
	for (k = 0; k < KVMW_NR_PCTS; k++)
		kvmw_hist_percentile(&l->hist, kvmw_pcts[k].ppm, l->min_ns,
				     l->max_ns, &l->pct[k]);
}

static int faults_derive(struct kvmw_faults *f, unsigned int nr_nodes)
{
	unsigned int k;

	f->timed = kvmw_hist_total(&f->hist);
	f->located = nodes_sum(f->node, nr_nodes);
	f->write_pct = kvmw_share(f->write, f->count);
	f->fetch_pct = kvmw_share(f->fetch, f->count);
	f->present_pct = kvmw_share(f->present, f->count);
	f->mmio_pct = kvmw_share(f->mmio, f->count);
	f->mean_ns = mean(f->lat_total_ns, f->timed);
	/* The source keeps no fault minimum: narrowed to the max only. */
	for (k = 0; k < KVMW_NR_PCTS; k++)
		kvmw_hist_percentile(&f->hist, kvmw_pcts[k].ppm, 0,
				     f->lat_max_ns, &f->pct[k]);
	f->dominant_node = f->located ? argmax(f->node, nr_nodes) : -1;
	if (f->dominant_node >= 0)
		f->dominant_node_pct = kvmw_share(f->node[f->dominant_node],
						  f->located);
	return node_shares(&f->node_pct, f->node, nr_nodes, f->located);
}

static int sched_derive(struct kvmw_sched *s, const struct kvmw_times *t,
			unsigned int nr_nodes, bool lat)
{
	unsigned int k;

	s->timed = kvmw_hist_total(&s->hist);
	s->run_ns = nodes_sum(s->run_node_ns, nr_nodes);
	/*
	 * Every wait lies in the wall time guest + exits: a thread is only
	 * switched out outside guest mode.
	 */
	s->wall_ns = t->guest_ns + t->exit_ns;
	s->mean_ns = mean(s->rq_delay_ns, s->rq_delay_count);
	if (lat)
		s->steal_pct = kvmw_share(s->rq_delay_ns, s->wall_ns);
	for (k = 0; k < KVMW_NR_PCTS; k++)
		kvmw_hist_percentile(&s->hist, kvmw_pcts[k].ppm, 0,
				     s->rq_delay_max_ns, &s->pct[k]);
	s->home_node = s->run_ns ? argmax(s->run_node_ns, nr_nodes) : -1;
	if (s->home_node >= 0)
		s->home_node_pct = kvmw_share(s->run_node_ns[s->home_node],
					      s->run_ns);
	return node_shares(&s->run_node_pct, s->run_node_ns, nr_nodes,
			   s->run_ns);
}

static int unit_derive(struct kvmw_unit *u, const struct kvmw_host *host,
		       __u32 vendor)
{
	bool lat = host->features & KVMW_FEAT_LATENCY;
	bool user = lat && (host->features & KVMW_FEAT_USER_EXITS);
	unsigned int c;
	double all;
	size_t i;
	int ret;

	if (u->nr_reasons)
		qsort(u->reasons, u->nr_reasons, sizeof(*u->reasons),
		      cmp_count_desc);
	memset(u->categories, 0, sizeof(u->categories));
	u->reason_exits = u->overflow_exits;
	/* Exits whose reason overflowed the tables count as other. */
	u->categories[KVMW_CAT_OTHER] = u->overflow_exits;
	for (i = 0; i < u->nr_reasons; i++) {
		struct kvmw_reason *r = &u->reasons[i];

		r->category = kvmw_reason_category(vendor, r->code);
		r->idle = (r->flags & KVMW_R_IDLE) ||
			  r->category == KVMW_CAT_HALT;
		u->reason_exits += r->count;
		u->categories[r->category] += r->count;
		lat_derive(&r->lat, user);
	}
	for (i = 0; i < u->nr_reasons; i++)
		u->reasons[i].share_pct = kvmw_share(u->reasons[i].count,
						     u->reason_exits);
	for (c = 0; c < KVMW_NR_CATEGORIES; c++)
		u->categories_pct[c] = kvmw_share(u->categories[c],
						  u->reason_exits);
	/* In double: the sum cannot overflow. */
	all = (double)u->times.guest_ns + (double)u->times.exit_ns;
	u->times.overhead_pct.ok = all > 0;
	u->times.overhead_pct.v = all > 0 ?
		(double)u->times.overhead_ns * 100.0 / all : 0;
	ret = faults_derive(&u->faults, host->nr_nodes);
	if (!ret)
		ret = sched_derive(&u->sched, &u->times, host->nr_nodes, lat);
	return ret;
}

static int vm_total(struct kvmw_vm *vm, unsigned int nr_nodes)
{
	struct kvmw_unit *t = &vm->total;
	size_t i;
	int ret;

	unit_release(t);
	ret = total_reasons(vm);
	for (i = 0; i < vm->nr_vcpus_detail && !ret; i++) {
		const struct kvmw_unit *u = &vm->vcpus[i].u;

		t->exits += u->exits;
		t->entries += u->entries;
		t->overflow_exits += u->overflow_exits;
		times_add(&t->times, &u->times);
		ret = faults_add(&t->faults, &u->faults, nr_nodes);
		if (!ret)
			ret = sched_add(&t->sched, &u->sched, nr_nodes);
	}
	if (!vm->nr_vcpus_detail) {
		t->exits = vm->exits;
		t->entries = vm->entries;
	}
	/* Node arrays always exist, also without vCPUs or memory figures. */
	if (!ret)
		ret = nodes_ensure(&t->faults.node, nr_nodes);
	if (!ret)
		ret = nodes_ensure(&t->sched.run_node_ns, nr_nodes);
	if (!ret)
		ret = nodes_ensure(&vm->mem.node, nr_nodes);
	return ret;
}

static int mem_derive(struct kvmw_vm *vm, const struct kvmw_host *host)
{
	struct kvmw_mem *m = &vm->mem;
	int home = vm->total.sched.home_node;
	unsigned int nr_nodes = host->nr_nodes;
	int ret;

	m->resident = m->node_unknown + nodes_sum(m->node, nr_nodes);
	m->unknown_pct = kvmw_share(m->node_unknown, m->resident);
	memset(&m->remote_pct, 0, sizeof(m->remote_pct));
	ret = node_shares(&m->node_pct, m->node, nr_nodes, m->resident);
	if (ret)
		return ret;
	/*
	 * The home node needs the scheduler's run times. Pages on a node
	 * >= nr_nodes are remote: home is always below.
	 */
	if (!(host->features & KVMW_FEAT_SCHED))
		return 0;
	if (home >= 0 && m->resident && m->node)
		m->remote_pct = kvmw_share(m->resident - m->node[home],
					   m->resident);
	return 0;
}

static int cmp_vm(const void *a, const void *b)
{
	const struct kvmw_vm *x = a, *y = b;

	return (x->vm_id > y->vm_id) - (x->vm_id < y->vm_id);
}

int kvmw_snapshot_derive(struct kvmw_snapshot *snap)
{
	const struct kvmw_host *host = &snap->host;
	size_t i, k;
	int ret;

	if (snap->nr_vms)
		qsort(snap->vms, snap->nr_vms, sizeof(*snap->vms), cmp_vm);
	for (i = 0; i < snap->nr_vms; i++) {
		struct kvmw_vm *vm = &snap->vms[i];

		if (!vm->vendor)
			vm->vendor = host->vendor;
		for (k = 0; k < vm->nr_vcpus_detail; k++) {
			ret = unit_derive(&vm->vcpus[k].u, host, vm->vendor);
			if (ret)
				return ret;
		}
		ret = vm_total(vm, host->nr_nodes);
		if (!ret)
			ret = unit_derive(&vm->total, host, vm->vendor);
		if (!ret)
			ret = mem_derive(vm, host);
		if (ret)
			return ret;
	}
	return 0;
}

const struct kvmw_vm *kvmw_snapshot_find(const struct kvmw_snapshot *snap,
					 __u64 vm_id)
{
	size_t lo = 0, hi = snap->nr_vms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		__u64 id = snap->vms[mid].vm_id;

		if (id == vm_id)
			return &snap->vms[mid];
		if (id < vm_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kvmw_vcpu *kvmw_vm_vcpu_by_tid(const struct kvmw_vm *vm,
					    __u32 tid)
{
	size_t i;

	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		if (vm->vcpus[i].tid == tid)
			return &vm->vcpus[i];
	}
	return NULL;
}

const struct kvmw_vcpu *kvmw_vm_vcpu(const struct kvmw_vm *vm, __u32 vcpu_id)
{
	size_t i;

	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		if (vm->vcpus[i].vcpu_id == vcpu_id)
			return &vm->vcpus[i];
	}
	return NULL;
}

const struct kvmw_vm *kvmw_snapshot_find_vmm(const struct kvmw_snapshot *snap,
					     __u32 pid, const __u32 *tids,
					     size_t nr_tids)
{
	const struct kvmw_vm *found = NULL;
	size_t i, t;

	for (i = 0; i < snap->nr_vms; i++) {
		const struct kvmw_vm *vm = &snap->vms[i];

		if (vm->pid != pid)
			continue;
		for (t = 0; t < nr_tids; t++) {
			if (!kvmw_vm_vcpu_by_tid(vm, tids[t]))
				break;
		}
		if (t < nr_tids)
			continue;
		if (!vm->gone)
			return vm;
		if (!found)
			found = vm;
	}
	return found;
}

const struct kvmw_reason *kvmw_unit_reason(const struct kvmw_unit *u,
					   __u32 code)
{
	size_t i;

	for (i = 0; i < u->nr_reasons; i++) {
		if (u->reasons[i].code == code)
			return &u->reasons[i];
	}
	return NULL;
}

__u64 kvmw_unit_count(const struct kvmw_unit *u, __u32 code)
{
	const struct kvmw_reason *r = kvmw_unit_reason(u, code);

	return r ? r->count : 0;
}

/* Deltas */

static void fill_row(struct kvmw_delta_vm *row, const struct kvmw_vm *old,
		     const struct kvmw_vm *now, __u64 elapsed_ns)
{
	__u64 before = 0;

	memset(row, 0, sizeof(*row));
	if (!now) {
		/* Dropped by the source during the interval. */
		row->vm = old;
		row->gone = true;
		row->vanished = true;
		if (elapsed_ns && old->gone)
			row->exits_per_sec.ok = true;
		return;
	}
	row->vm = now;
	row->gone = now->gone;
	if (!elapsed_ns)
		return;
	if (old && old->first_seen_ns == now->first_seen_ns &&
	    old->exits <= now->exits)
		before = old->exits;
	row->exits_per_sec = kvmw_rate(before, now->exits, elapsed_ns);
}

int kvmw_delta(const struct kvmw_snapshot *prev,
	       const struct kvmw_snapshot *cur,
	       struct kvmw_delta_vm **rows, size_t *nr)
{
	size_t np = prev ? prev->nr_vms : 0, nc = cur->nr_vms;
	size_t ip = 0, ic = 0, n = 0;
	struct kvmw_delta_vm *r;
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

	/* Both snapshots are sorted by vm_id: merge them. */
	while (ip < np || ic < nc) {
		const struct kvmw_vm *p = ip < np ? &prev->vms[ip] : NULL;
		const struct kvmw_vm *c = ic < nc ? &cur->vms[ic] : NULL;

		if (p && c && p->vm_id == c->vm_id) {
			ip++;
			ic++;
		} else if (p && (!c || p->vm_id < c->vm_id)) {
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

/* Sources */

int kvmw_source_open(struct kvmw_source *src,
		     const struct kvmw_source_ops *ops, const char *path,
		     const void *sys)
{
	return kvmw_source_open_flags(src, ops, path, sys, 0);
}

int kvmw_source_open_flags(struct kvmw_source *src,
			   const struct kvmw_source_ops *ops, const char *path,
			   const void *sys, unsigned int flags)
{
	memset(src, 0, sizeof(*src));
	src->ops = ops;
	src->flags = flags;
	return ops->open(src, path, sys);
}

void kvmw_source_close(struct kvmw_source *src)
{
	if (src->ops)
		src->ops->close(src);
	src->ops = NULL;
}

int kvmw_source_info(struct kvmw_source *src)
{
	return src->ops->info(src);
}

int kvmw_source_read_events(struct kvmw_source *src, struct kvmw_ev *evs,
			    size_t max, size_t *nr, int timeout_ms,
			    const sigset_t *mask)
{
	*nr = 0;
	if (!src->ops->read_events)
		return -EOPNOTSUPP;
	return src->ops->read_events(src, evs, max, nr, timeout_ms, mask);
}

const char *kvmw_ev_type_name(__u32 type)
{
	switch (type) {
	case KVMW_EV_VM_NEW:
		return "vm_new";
	case KVMW_EV_VM_GONE:
		return "vm_gone";
	case KVMW_EV_VCPU_NEW:
		return "vcpu_new";
	case KVMW_EV_BUDGET_SET:
		return "budget_set";
	case KVMW_EV_BUDGET_CLEAR:
		return "budget_clear";
	case KVMW_EV_BUDGET_GUARD:
		return "budget_guard";
	case KVMW_EV_THROTTLE_START:
		return "throttle_start";
	case KVMW_EV_THROTTLE_END:
		return "throttle_end";
	case KVMW_EV_NUMA_MOVE:
		return "numa_move";
	case KVMW_EV_NUMA_CONFLICT:
		return "numa_conflict";
	case KVMW_EV_NUMA_SET:
		return "numa_set";
	case KVMW_EV_NUMA_CLEAR:
		return "numa_clear";
	default:
		return NULL;
	}
}

int kvmw_snapshot_take(struct kvmw_source *src, const __u64 *ids,
		       size_t nr_ids, bool detail, struct kvmw_snapshot *snap)
{
	int ret;

	memset(snap, 0, sizeof(*snap));
	snap->t_ns = kvmw_now_ns();
	ret = src->ops->snapshot(src, ids, nr_ids, detail, snap);
	if (!ret)
		ret = kvmw_snapshot_derive(snap);
	if (ret)
		kvmw_snapshot_free(snap);
	return ret;
}
