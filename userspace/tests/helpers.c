// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helpers (see helpers.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kvmwarden/categories.h>
#include <kvmwarden/hist.h>

#include "cli.h"
#include "helpers.h"
#include "tap.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("realloc");
		abort();
	}
	return p;
}

void snap_init(struct kvmw_vm_snap *s, __u64 vm_id, __u32 pid,
	       const char *comm, __u32 vendor)
{
	memset(s, 0, sizeof(*s));
	s->vm.vm_id = vm_id;
	s->vm.vmm_pid = pid;
	s->vm.vendor = vendor;
	s->vm.first_seen_ns = 1000000000ULL * vm_id;
	/* A 16-byte comm is kept without NUL, as the UAPI may give it. */
	memcpy(s->vm.comm, comm, strnlen(comm, sizeof(s->vm.comm)));
}

void snap_add_vcpu(struct kvmw_vm_snap *s, __u32 vcpu_id, __u32 tid)
{
	struct kvmw_vcpu_info *v;

	s->vcpus = xrealloc(s->vcpus, (s->nr_vcpus + 1) * sizeof(*s->vcpus));
	v = &s->vcpus[s->nr_vcpus++];
	memset(v, 0, sizeof(*v));
	v->vcpu_id = vcpu_id;
	v->tid = tid;
	v->vm_id = s->vm.vm_id;
	v->last_cpu = KVMW_CPU_NONE;
	v->last_node = KVMW_CPU_NONE;
	v->first_reason = s->nr_reasons;
	s->vm.nr_vcpus = s->nr_vcpus;
}

void snap_add_reason(struct kvmw_vm_snap *s, __u32 reason, __u64 count)
{
	struct kvmw_vcpu_info *v = &s->vcpus[s->nr_vcpus - 1];
	struct kvmw_reason_stat *r;

	s->reasons = xrealloc(s->reasons,
			      (s->nr_reasons + 1) * sizeof(*s->reasons));
	r = &s->reasons[s->nr_reasons++];
	memset(r, 0, sizeof(*r));
	r->reason = reason;
	r->vcpu_index = s->nr_vcpus - 1;
	r->count = count;
	v->nr_reasons++;
	v->exits += count;
	v->entries += count;
	s->vm.exits += count;
	s->vm.entries += count;
}

char *read_source_file(const char *rel)
{
	char path[512], *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", KVMW_SRCDIR, rel);
	f = fopen(path, "r");
	if (!f)
		abort();
	do {
		buf = xrealloc(buf, len + 4097);
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n == 4096);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

void model_of_sample(struct kvmw_snapshot *m, const struct kvmw_sample *s)
{
	if (kvmw_dev_sample_model(s, m))
		abort();
}

const struct kvmw_vm *model_of(struct kvmw_snapshot *m,
			       const struct kvmw_vm_snap *s, __u64 features)
{
	struct kvmw_sample raw;

	memset(&raw, 0, sizeof(raw));
	raw.hs.api_version = KVMW_API_VERSION;
	raw.hs.vendor = s->vm.vendor;
	raw.hs.features = features;
	raw.vms = xrealloc(NULL, sizeof(*raw.vms));
	raw.nr_vms = 1;
	snap_copy(&raw.vms[0], s);
	model_of_sample(m, &raw);
	kvmw_sample_free(&raw);
	return &m->vms[0];
}

void snap_copy(struct kvmw_vm_snap *dst, const struct kvmw_vm_snap *src)
{
	*dst = *src;
	dst->vcpus = xrealloc(NULL, src->nr_vcpus * sizeof(*src->vcpus));
	memcpy(dst->vcpus, src->vcpus, src->nr_vcpus * sizeof(*src->vcpus));
	dst->reasons = xrealloc(NULL, src->nr_reasons * sizeof(*src->reasons));
	memcpy(dst->reasons, src->reasons,
	       src->nr_reasons * sizeof(*src->reasons));
}

void snap_set_lat(struct kvmw_vm_snap *s, __u64 total, __u64 min, __u64 max,
		  __u64 user_count, __u64 user_ns)
{
	struct kvmw_reason_stat *r = &s->reasons[s->nr_reasons - 1];
	struct kvmw_vcpu_info *v = &s->vcpus[r->vcpu_index];

	r->lat_total_ns = total;
	r->lat_min_ns = min;
	r->lat_max_ns = max;
	r->user_count = user_count;
	r->user_ns = user_ns;
	v->exit_ns += total;
	if (kvmw_reason_category(s->vm.vendor, r->reason) == KVMW_CAT_HALT) {
		r->flags |= KVMW_REASON_F_IDLE;
		v->idle_ns += total;
	} else {
		v->user_ns += user_ns;
		v->overhead_ns += total - user_ns;
	}
}

void snap_add_hist(struct kvmw_vm_snap *s, unsigned int b, __u64 n)
{
	s->reasons[s->nr_reasons - 1].hist[b] += n;
}

void snap_set_faults(struct kvmw_vm_snap *s, __u64 faults, __u64 write,
		     __u64 fetch, __u64 present, __u64 mmio, __u64 total,
		     __u64 max)
{
	struct kvmw_vcpu_info *v = &s->vcpus[s->nr_vcpus - 1];

	v->faults = faults;
	v->fault_write = write;
	v->fault_fetch = fetch;
	v->fault_present = present;
	v->fault_mmio = mmio;
	v->fault_lat_total_ns = total;
	v->fault_lat_max_ns = max;
}

void snap_add_fault_hist(struct kvmw_vm_snap *s, unsigned int b, __u64 n)
{
	s->vcpus[s->nr_vcpus - 1].fault_hist[b] += n;
}

void snap_add_fault_node(struct kvmw_vm_snap *s, int node, __u64 n)
{
	struct kvmw_vcpu_info *v = &s->vcpus[s->nr_vcpus - 1];

	if (node < 0)
		v->fault_node_unknown += n;
	else
		v->fault_node[node] += n;
}

void snap_set_sched(struct kvmw_vm_snap *s, unsigned int vcpu, __u64 rq_ns,
		    __u64 waits, __u64 max, __u64 preempt, __u64 sleeps,
		    __u64 migr, __u64 xnode, __u32 cpu, __u32 node)
{
	struct kvmw_vcpu_info *v = &s->vcpus[vcpu];

	v->rq_delay_ns = rq_ns;
	v->rq_delay_count = waits;
	v->rq_delay_max_ns = max;
	v->preemptions = preempt;
	v->sleeps = sleeps;
	v->migrations = migr;
	v->node_migrations = xnode;
	v->last_cpu = cpu;
	v->last_node = node;
}

void snap_add_rq_hist(struct kvmw_vm_snap *s, unsigned int vcpu,
		      unsigned int b, __u64 n)
{
	s->vcpus[vcpu].rq_delay_hist[b] += n;
}

/* The fake module. */

static int fake_open(void *priv, const char *path, int flags)
{
	struct fake_dev *f = priv;

	(void)path;
	if (f->open_err)
		return f->open_err;
	f->opens++;
	f->open_flags = flags;
	return 42;
}

static void fake_close(void *priv, int fd)
{
	struct fake_dev *f = priv;

	if (fd == 42)
		f->closes++;
}

/* Copies @n elements of @own_size into a caller array of @elem_size. */
static void copy_out(__u64 ptr, __u32 elem_size, const void *src,
		     size_t own_size, size_t n)
{
	unsigned char *dst = (unsigned char *)(uintptr_t)ptr;
	size_t i, k = elem_size < own_size ? elem_size : own_size;

	for (i = 0; i < n; i++) {
		memcpy(dst + i * elem_size,
		       (const unsigned char *)src + i * own_size, k);
		memset(dst + i * elem_size + k, 0, elem_size - k);
	}
}

static void fake_grow_vm(struct fake_dev *f)
{
	char comm[16];
	__u64 id = f->nr_vms ? f->vms[f->nr_vms - 1].vm.vm_id + 1 : 1;

	if (f->nr_vms >= FAKE_MAX_VMS)
		return;
	snprintf(comm, sizeof(comm), "grown-%u", f->nr_vms);
	fake_add_vm(f, id, 1000 + f->nr_vms, comm, 1);
}

static int fake_list(struct fake_dev *f, struct kvmw_vm_list *req)
{
	unsigned int i;

	f->list_calls++;
	if (req->size < KVMW_VM_LIST_SIZE_VER0 || req->flags ||
	    req->reserved || req->vm_info_size < KVMW_VM_INFO_SIZE_VER0 ||
	    (req->max_vms && !req->vms_ptr)) {
		f->bad_requests++;
		return -EINVAL;
	}
	for (i = 0; i < f->nr_vms; i++) {
		struct kvmw_vm_snap *s = &f->vms[i];

		if (f->tick && s->nr_reasons) {
			s->reasons[0].count += f->tick;
			s->vcpus[s->reasons[0].vcpu_index].exits += f->tick;
			s->vm.exits += f->tick;
		}
	}
	if (f->grow_list) {
		f->grow_list--;
		for (i = 0; i < (f->grow_by ? f->grow_by : 1); i++)
			fake_grow_vm(f);
	}
	req->nr_vms = f->nr_vms;
	if (f->always_short) {
		/* As if the list had grown past any headroom. */
		req->nr_vms = req->max_vms * 2 + 1;
		f->e2bigs++;
		return -E2BIG;
	}
	if (!req->max_vms && f->list_query_ok)
		return 0;
	if (f->nr_vms > req->max_vms || f->lie_e2big) {
		f->e2bigs++;
		return -E2BIG;
	}
	for (i = 0; i < f->nr_vms; i++)
		copy_out(req->vms_ptr + (__u64)i * req->vm_info_size,
			 req->vm_info_size, &f->vms[i].vm,
			 sizeof(f->vms[i].vm), 1);
	return 0;
}

static int fake_snapshot(struct fake_dev *f, struct kvmw_vm_snapshot *req)
{
	struct kvmw_vm_snap *s = NULL;
	unsigned int i;

	f->snap_calls++;
	f->last_vcpu_info_size = req->vcpu_info_size;
	if (req->size < KVMW_VM_SNAPSHOT_SIZE_VER0 || req->flags ||
	    req->vcpu_info_size < KVMW_VCPU_INFO_SIZE_VER0 ||
	    req->reason_stat_size < KVMW_REASON_STAT_SIZE_VER0 ||
	    (req->max_vcpus && !req->vcpus_ptr) ||
	    (req->max_reasons && !req->reasons_ptr)) {
		f->bad_requests++;
		return -EINVAL;
	}
	for (i = 0; i < f->nr_vms; i++) {
		if (f->vms[i].vm.vm_id == req->vm_id)
			s = &f->vms[i];
	}
	if (!s)
		return -ENOENT;
	if (f->grow_vcpus) {
		f->grow_vcpus--;
		for (i = 0; i < (f->grow_by ? f->grow_by : 1); i++) {
			snap_add_vcpu(s, s->nr_vcpus, 5000 + s->nr_vcpus);
			snap_add_reason(s, 10, 7);
			snap_add_reason(s, 12, 3);
		}
	}
	req->nr_vcpus = s->nr_vcpus;
	req->nr_reasons = s->nr_reasons;
	if (f->always_short) {
		req->nr_vcpus = req->max_vcpus * 2 + 1;
		f->e2bigs++;
		return -E2BIG;
	}
	if (s->nr_vcpus > req->max_vcpus || s->nr_reasons > req->max_reasons ||
	    f->lie_e2big) {
		f->e2bigs++;
		return -E2BIG;
	}
	for (i = 0; i < s->nr_vcpus; i++)
		copy_out(req->vcpus_ptr + (__u64)i * req->vcpu_info_size,
			 req->vcpu_info_size, &s->vcpus[i],
			 f->vcpu_size ? f->vcpu_size : sizeof(*s->vcpus), 1);
	for (i = 0; i < s->nr_reasons; i++)
		copy_out(req->reasons_ptr + (__u64)i * req->reason_stat_size,
			 req->reason_stat_size, &s->reasons[i],
			 f->reason_size ? f->reason_size : sizeof(*s->reasons),
			 1);
	req->vm = s->vm;
	if (!f->snapshot_size || f->snapshot_size >= KVMW_VM_SNAPSHOT_SIZE_VER1)
		req->mem = s->mem;
	return 0;
}

static int fake_snapshot_all(struct fake_dev *f, struct kvmw_snapshot_all *req)
{
	unsigned char *vms = (unsigned char *)(uintptr_t)req->vms_ptr;
	__u32 nc = 0, nr = 0, vbase = 0, rbase = 0;
	unsigned int i, k;

	f->all_calls++;
	f->last_vcpu_info_size = req->vcpu_info_size;
	if (req->size < KVMW_SNAPSHOT_ALL_SIZE_VER0 || req->flags ||
	    req->reserved || req->vm_entry_size < KVMW_VM_ENTRY_SIZE_VER0 ||
	    req->vcpu_info_size < KVMW_VCPU_INFO_SIZE_VER0 ||
	    req->reason_stat_size < KVMW_REASON_STAT_SIZE_VER0 ||
	    (req->max_vms && !req->vms_ptr) ||
	    (req->max_vcpus && !req->vcpus_ptr) ||
	    (req->max_reasons && !req->reasons_ptr)) {
		f->bad_requests++;
		return -EINVAL;
	}
	if (f->grow_vcpus && f->nr_vms) {
		struct kvmw_vm_snap *s = &f->vms[0];

		f->grow_vcpus--;
		for (i = 0; i < (f->grow_by ? f->grow_by : 1); i++) {
			snap_add_vcpu(s, s->nr_vcpus, 5000 + s->nr_vcpus);
			snap_add_reason(s, 10, 7);
			snap_add_reason(s, 12, 3);
		}
	}
	for (i = 0; i < f->nr_vms; i++) {
		nc += f->vms[i].nr_vcpus;
		nr += f->vms[i].nr_reasons;
	}
	req->nr_vms = f->nr_vms;
	req->nr_vcpus = nc;
	req->nr_reasons = nr;
	if (f->always_short) {
		req->nr_vcpus = req->max_vcpus * 2 + 1;
		f->e2bigs++;
		return -E2BIG;
	}
	if (!req->max_vms && !req->max_vcpus && !req->max_reasons &&
	    !f->lie_e2big)
		return 0;
	if (f->nr_vms > req->max_vms || nc > req->max_vcpus ||
	    nr > req->max_reasons || f->lie_e2big) {
		f->e2bigs++;
		return -E2BIG;
	}
	for (i = 0; i < f->nr_vms; i++) {
		const struct kvmw_vm_snap *s = &f->vms[i];
		struct kvmw_vm_entry e;

		memset(&e, 0, sizeof(e));
		e.vm = s->vm;
		e.first_vcpu = vbase;
		e.mem = s->mem;
		copy_out((__u64)(uintptr_t)(vms + (size_t)i * req->vm_entry_size),
			 req->vm_entry_size, &e, sizeof(e), 1);
		for (k = 0; k < s->nr_vcpus; k++) {
			struct kvmw_vcpu_info v = s->vcpus[k];

			v.first_reason += rbase;
			copy_out(req->vcpus_ptr +
				 (__u64)(vbase + k) * req->vcpu_info_size,
				 req->vcpu_info_size, &v,
				 f->vcpu_size ? f->vcpu_size : sizeof(v), 1);
		}
		for (k = 0; k < s->nr_reasons; k++) {
			struct kvmw_reason_stat r = s->reasons[k];

			r.vcpu_index += vbase;
			copy_out(req->reasons_ptr +
				 (__u64)(rbase + k) * req->reason_stat_size,
				 req->reason_stat_size, &r,
				 f->reason_size ? f->reason_size : sizeof(r),
				 1);
		}
		vbase += s->nr_vcpus;
		rbase += s->nr_reasons;
	}
	return 0;
}

/*
 * The fake module's self-describing statistics: its own table of where
 * each value comes from in the fixture's structs (the module's names,
 * scopes, kinds and units, as Documentation/uapi.rst lists them).
 */
struct fake_stat {
	const char *name;
	__u16 scope;
	__u8 kind;
	__u8 unit;
	__u32 flags;
	/* Byte offset in the scope's struct; SIZE_MAX: throttle_time. */
	size_t src;
	/* Bytes of a value there (4 or 8). */
	unsigned int width;
	/* Values; 0: one per node. */
	unsigned int count;
	__u32 hist_type;
};

#define FS(sc, st, n, k, u, m, w, c, fl, h) {				\
	.name = n, .scope = KVMW_SCOPE_##sc, .kind = KVMW_STAT_##k,	\
	.unit = KVMW_UNIT_##u, .flags = fl, .src = offsetof(st, m),	\
	.width = w, .count = c, .hist_type = h }
#define FVM(n, k, u, m) FS(VM, struct kvmw_vm_mem, n, k, u, m, 8, 1, 0, 0)
#define FV(n, k, u, m) FS(VCPU, struct kvmw_vcpu_info, n, k, u, m, 8, 1, 0, 0)
#define FV32(n, k, u, m) FS(VCPU, struct kvmw_vcpu_info, n, k, u, m, 4, 1, 0, 0)
#define FVN(n, k, u, m) FS(VCPU, struct kvmw_vcpu_info, n, k, u, m, 8, 0, \
			   KVMW_STAT_F_PER_NODE, 0)
#define FVH(n, m) FS(VCPU, struct kvmw_vcpu_info, n, HIST, NS, m, 8, \
		     KVMW_LAT_BUCKETS, 0, KVMW_HIST_LOG2)
#define FR(n, k, u, m) FS(REASON, struct kvmw_reason_stat, n, k, u, m, 8, 1, 0, 0)

static const struct fake_stat fake_stats[] = {
	FVM("mem_pages", GAUGE, PAGES, pages),
	FVM("mem_stride", GAUGE, PAGES, stride),
	FVM("mem_samples", GAUGE, COUNT, sampled),
	FVM("mem_samples_unmapped", GAUGE, COUNT, unmapped),
	FVM("mem_samples_node_unknown", GAUGE, COUNT, node_unknown),
	FVM("mem_passes", COUNTER, COUNT, passes),
	FVM("mem_pass_time", GAUGE, BOOTTIME_NS, pass_ns),
	FS(VM, struct kvmw_vm_mem, "mem_samples_node", GAUGE, COUNT, node, 8,
	   0, KVMW_STAT_F_PER_NODE, 0),
	FV("exits", COUNTER, COUNT, exits),
	FV("entries", COUNTER, COUNT, entries),
	FV("overflow_exits", COUNTER, COUNT, overflow_exits),
	FV("untimed_exits", COUNTER, COUNT, untimed_exits),
	FV("guest_time", COUNTER, NS, guest_ns),
	FV("exit_time", COUNTER, NS, exit_ns),
	FV("idle_time", COUNTER, NS, idle_ns),
	FV("user_time", COUNTER, NS, user_ns),
	FV("overhead_time", COUNTER, NS, overhead_ns),
	FV("faults", COUNTER, COUNT, faults),
	FV("faults_mmio", COUNTER, COUNT, fault_mmio),
	FV("faults_write", COUNTER, COUNT, fault_write),
	FV("faults_fetch", COUNTER, COUNT, fault_fetch),
	FV("faults_present", COUNTER, COUNT, fault_present),
	FV("fault_time", COUNTER, NS, fault_lat_total_ns),
	FV("fault_time_max", GAUGE, NS, fault_lat_max_ns),
	FV("faults_node_unknown", COUNTER, COUNT, fault_node_unknown),
	FVN("faults_node", COUNTER, COUNT, fault_node),
	FVH("fault_time_hist", fault_hist),
	FV("rq_delay", COUNTER, NS, rq_delay_ns),
	FV("rq_waits", COUNTER, COUNT, rq_delay_count),
	FV("rq_delay_max", GAUGE, NS, rq_delay_max_ns),
	FV("preemptions", COUNTER, COUNT, preemptions),
	FV("sleeps", COUNTER, COUNT, sleeps),
	FV("migrations", COUNTER, COUNT, migrations),
	FV("node_migrations", COUNTER, COUNT, node_migrations),
	FV32("last_cpu", GAUGE, ID, last_cpu),
	FV32("last_node", GAUGE, ID, last_node),
	FVN("run_time_node", COUNTER, NS, run_node_ns),
	FVH("rq_delay_hist", rq_delay_hist),
	FR("exits", COUNTER, COUNT, count),
	FR("latency", COUNTER, NS, lat_total_ns),
	FR("latency_min", GAUGE, NS, lat_min_ns),
	FR("latency_max", GAUGE, NS, lat_max_ns),
	FR("user_exits", COUNTER, COUNT, user_count),
	FR("user_time", COUNTER, NS, user_ns),
	FS(REASON, struct kvmw_reason_stat, "latency_hist", HIST, NS, hist, 8,
	   KVMW_LAT_BUCKETS, 0, KVMW_HIST_LOG2),
};

static const struct fake_stat fake_throttle = {
	.name = "throttle_time", .scope = KVMW_SCOPE_VCPU,
	.kind = KVMW_STAT_COUNTER, .unit = KVMW_UNIT_NS, .src = SIZE_MAX,
	.width = 8, .count = 1,
};

#define FAKE_NR_STATS	(ARRAY_SIZE(fake_stats) + 1)

/* The fake's statistics as described, in order: the table and offsets. */
struct fake_layout {
	const struct fake_stat *st[FAKE_NR_STATS];
	struct kvmw_stat_desc d[FAKE_NR_STATS];
	unsigned int nr;
	__u32 nodes;
	__u32 values[KVMW_SCOPE_REASON + 1];
};

static void fake_layout(const struct fake_dev *f, struct fake_layout *l)
{
	unsigned int i, n = ARRAY_SIZE(fake_stats);

	memset(l, 0, sizeof(*l));
	l->nodes = f->stats_nodes ? f->stats_nodes : KVMW_MAX_NODES;
	if (f->stats_extra)
		l->st[l->nr++] = &fake_throttle;
	for (i = 0; i < n; i++) {
		const struct fake_stat *s =
			&fake_stats[f->stats_reverse ? n - 1 - i : i];

		if (f->stats_drop && !strcmp(f->stats_drop, s->name))
			continue;
		l->st[l->nr++] = s;
	}
	for (i = 0; i < l->nr; i++) {
		const struct fake_stat *s = l->st[i];
		struct kvmw_stat_desc *d = &l->d[i];

		snprintf(d->name, sizeof(d->name), "%s", s->name);
		d->scope = s->scope;
		d->kind = s->kind;
		d->unit = s->unit;
		d->flags = s->flags;
		d->count = s->count ? s->count : l->nodes;
		d->hist_type = s->hist_type;
		d->offset = l->values[s->scope];
		l->values[s->scope] += d->count;
	}
}

static int fake_stats_desc(struct fake_dev *f, struct kvmw_stats_desc *req)
{
	struct fake_layout l;

	f->desc_calls++;
	if (req->size < KVMW_STATS_DESC_SIZE_VER0 || req->flags ||
	    req->reserved || (req->max_descs &&
	    (req->desc_size < KVMW_STAT_DESC_SIZE_VER0 || !req->descs_ptr))) {
		f->bad_requests++;
		return -EINVAL;
	}
	fake_layout(f, &l);
	req->nr_descs = l.nr;
	req->nr_nodes = l.nodes;
	req->vm_values = l.values[KVMW_SCOPE_VM];
	req->vcpu_values = l.values[KVMW_SCOPE_VCPU];
	req->reason_values = l.values[KVMW_SCOPE_REASON];
	if (!req->max_descs)
		return 0;
	if (l.nr > req->max_descs) {
		f->e2bigs++;
		return -E2BIG;
	}
	copy_out(req->descs_ptr, req->desc_size, l.d, sizeof(l.d[0]), l.nr);
	return 0;
}

/* The values of scope @scope of the struct @src into @values. */
static void fake_values(const struct fake_layout *l, __u16 scope,
			const void *src, __u32 vcpu_id, __u64 *values)
{
	unsigned int i, k;

	for (i = 0; i < l->nr; i++) {
		const struct fake_stat *s = l->st[i];
		const unsigned char *p = (const unsigned char *)src + s->src;
		__u32 u32;

		if (s->scope != scope)
			continue;
		if (s->src == SIZE_MAX) {
			values[l->d[i].offset] = 1000ULL * vcpu_id + 7;
			continue;
		}
		for (k = 0; k < l->d[i].count; k++) {
			if (s->width == 4) {
				memcpy(&u32, p + 4 * k, 4);
				values[l->d[i].offset + k] = u32;
			} else {
				memcpy(&values[l->d[i].offset + k], p + 8 * k, 8);
			}
		}
	}
}

static int fake_stats_read(struct fake_dev *f, struct kvmw_stats_read *req)
{
	size_t vsz, csz, rsz;
	__u32 nv = 0, nc = 0, nr = 0, vb = 0, cb = 0, rb = 0;
	unsigned char *buf;
	struct fake_layout l;
	unsigned int i, k, r;

	f->read_calls++;
	if (req->size < KVMW_STATS_READ_SIZE_VER0 || req->flags ||
	    req->reserved || req->vm_rec_size < KVMW_VM_REC_HDR_SIZE ||
	    req->vcpu_rec_size < KVMW_VCPU_REC_HDR_SIZE ||
	    req->reason_rec_size < KVMW_REASON_REC_HDR_SIZE ||
	    (req->max_vms && !req->vms_ptr) ||
	    (req->max_vcpus && !req->vcpus_ptr) ||
	    (req->max_reasons && !req->reasons_ptr)) {
		f->bad_requests++;
		return -EINVAL;
	}
	fake_layout(f, &l);
	vsz = KVMW_VM_REC_HDR_SIZE + 8 * l.values[KVMW_SCOPE_VM];
	csz = KVMW_VCPU_REC_HDR_SIZE + 8 * l.values[KVMW_SCOPE_VCPU];
	rsz = KVMW_REASON_REC_HDR_SIZE + 8 * l.values[KVMW_SCOPE_REASON];
	if (f->grow_vcpus && f->nr_vms) {
		struct kvmw_vm_snap *s = &f->vms[0];

		f->grow_vcpus--;
		for (i = 0; i < (f->grow_by ? f->grow_by : 1); i++) {
			snap_add_vcpu(s, s->nr_vcpus, 5000 + s->nr_vcpus);
			snap_add_reason(s, 10, 7);
			snap_add_reason(s, 12, 3);
		}
	}
	for (i = 0; i < f->nr_vms; i++) {
		if (req->vm_id && f->vms[i].vm.vm_id != req->vm_id)
			continue;
		nv++;
		nc += f->vms[i].nr_vcpus;
		nr += f->vms[i].nr_reasons;
	}
	if (req->vm_id && !nv)
		return -ENOENT;
	req->nr_vms = nv;
	req->nr_vcpus = nc;
	req->nr_reasons = nr;
	req->time_ns = 0;
	if (f->always_short) {
		req->nr_vcpus = req->max_vcpus * 2 + 1;
		f->e2bigs++;
		return -E2BIG;
	}
	if (!req->max_vms && !req->max_vcpus && !req->max_reasons &&
	    !f->lie_e2big)
		return 0;
	if (nv > req->max_vms || nc > req->max_vcpus ||
	    nr > req->max_reasons || f->lie_e2big) {
		f->e2bigs++;
		return -E2BIG;
	}
	buf = xrealloc(NULL, vsz > csz ? (vsz > rsz ? vsz : rsz) :
		       (csz > rsz ? csz : rsz));
	for (i = 0; i < f->nr_vms; i++) {
		const struct kvmw_vm_snap *s = &f->vms[i];
		struct kvmw_vm_rec *vr = (void *)buf;

		if (req->vm_id && s->vm.vm_id != req->vm_id)
			continue;
		memset(buf, 0, vsz);
		vr->vm_id = s->vm.vm_id;
		vr->vmm_pid = s->vm.vmm_pid;
		vr->flags = s->vm.flags;
		vr->vendor = s->vm.vendor;
		vr->nr_vcpus = s->nr_vcpus;
		vr->first_vcpu = cb;
		vr->first_seen_ns = s->vm.first_seen_ns;
		vr->gone_ns = s->vm.gone_ns;
		memcpy(vr->comm, s->vm.comm, sizeof(vr->comm));
		fake_values(&l, KVMW_SCOPE_VM, &s->mem, 0, vr->values);
		copy_out(req->vms_ptr + (__u64)vb++ * req->vm_rec_size,
			 req->vm_rec_size, buf, vsz, 1);
		for (k = 0; k < s->nr_vcpus; k++) {
			const struct kvmw_vcpu_info *v = &s->vcpus[k];
			struct kvmw_vcpu_rec *cr = (void *)buf;

			memset(buf, 0, csz);
			cr->vm_index = vb - 1;
			cr->vcpu_id = v->vcpu_id;
			cr->tid = v->tid;
			cr->first_reason = rb + v->first_reason;
			cr->nr_reasons = v->nr_reasons;
			fake_values(&l, KVMW_SCOPE_VCPU, v, v->vcpu_id,
				    cr->values);
			copy_out(req->vcpus_ptr +
				 (__u64)(cb + k) * req->vcpu_rec_size,
				 req->vcpu_rec_size, buf, csz, 1);
		}
		for (r = 0; r < s->nr_reasons; r++) {
			const struct kvmw_reason_stat *rs = &s->reasons[r];
			struct kvmw_reason_rec *rr = (void *)buf;

			memset(buf, 0, rsz);
			rr->reason = rs->reason;
			rr->category = kvmw_reason_category(s->vm.vendor,
							    rs->reason);
			rr->vcpu_index = cb + rs->vcpu_index;
			rr->flags = rs->flags;
			fake_values(&l, KVMW_SCOPE_REASON, rs, 0, rr->values);
			copy_out(req->reasons_ptr +
				 (__u64)(rb + r) * req->reason_rec_size,
				 req->reason_rec_size, buf, rsz, 1);
		}
		cb += s->nr_vcpus;
		rb += s->nr_reasons;
	}
	free(buf);
	return 0;
}

void fake_push_raw(struct fake_dev *f, const void *buf, size_t len)
{
	f->ev_buf = xrealloc(f->ev_buf, f->ev_len + len);
	memcpy(f->ev_buf + f->ev_len, buf, len);
	f->ev_len += len;
}

void fake_push_event(struct fake_dev *f, const struct kvmw_event *ev)
{
	fake_push_raw(f, ev, sizeof(*ev));
}

/* Whole records only, as the module gives them. */
static ssize_t fake_read(void *priv, int fd, void *buf, size_t len)
{
	struct fake_dev *f = priv;
	size_t max = f->ev_read_max ? f->ev_read_max : len, n = 0;
	__u32 size;

	if (fd != 42)
		return -EBADF;
	f->reads++;
	if (f->ev_eof)
		return 0;
	if (f->ev_read_err) {
		int err = f->ev_read_err;

		f->ev_read_err = 0;
		return err;
	}
	if (f->ev_pos >= f->ev_len)
		return -EAGAIN;
	if (max > len)
		max = len;
	while (f->ev_pos + n + sizeof(size) <= f->ev_len) {
		memcpy(&size, f->ev_buf + f->ev_pos + n, sizeof(size));
		/* A broken record: hand over the rest as it is. */
		if (size < sizeof(size) || size > f->ev_len - f->ev_pos - n) {
			if (!n)
				n = f->ev_len - f->ev_pos;
			break;
		}
		if (n + size > max)
			break;
		n += size;
	}
	if (!n) {
		if (f->ev_len - f->ev_pos > max)
			return -EINVAL;
		n = f->ev_len - f->ev_pos;
	}
	if (n > len)
		n = len;
	memcpy(buf, f->ev_buf + f->ev_pos, n);
	f->ev_pos += n;
	return n;
}

static int fake_poll(void *priv, int fd, int timeout_ms, const sigset_t *mask)
{
	struct fake_dev *f = priv;
	sigset_t old;

	if (fd != 42)
		return -EBADF;
	f->polls++;
	if (f->ev_pos < f->ev_len || f->ev_eof)
		return 1;
	if (timeout_ms >= 0 && !f->ev_signal) {
		struct timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long)(timeout_ms % 1000) * 1000000L,
		};

		nanosleep(&ts, NULL);
		return 0;
	}
	/* Delivered while "waiting", with the caller's mask. */
	sigprocmask(SIG_SETMASK, mask, &old);
	raise(f->ev_signal ? f->ev_signal : SIGTERM);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return -EINTR;
}

/* The index of VM @vm_id in @f, live, or -ENOENT. */
static int fake_vm_index(struct fake_dev *f, __u64 vm_id)
{
	unsigned int i;

	for (i = 0; i < f->nr_vms; i++)
		if (f->vms[i].vm.vm_id == vm_id &&
		    !(f->vms[i].vm.flags & KVMW_VM_F_GONE))
			return i;
	return -ENOENT;
}

static int fake_budget(struct fake_dev *f, unsigned long cmd,
		       struct kvmw_budget *b)
{
	int i;

	if (!(f->hs.features & KVMW_FEAT_BUDGET))
		return -ENOTTY;
	if (b->size != sizeof(*b)) {
		f->bad_requests++;
		return -EINVAL;
	}
	if (cmd == KVMW_IOC_BUDGET_SET) {
		f->budget_sets++;
		if ((f->open_flags & O_ACCMODE) == O_RDONLY)
			return -EBADF;
		if (f->budget_err)
			return f->budget_err;
	} else {
		f->budget_gets++;
	}
	i = fake_vm_index(f, b->vm_id);
	if (i < 0)
		return i;
	if (cmd == KVMW_IOC_BUDGET_SET) {
		f->budgets[i] = *b;
		return 0;
	}
	*b = f->budgets[i];
	b->size = sizeof(*b);
	/* As the module: the defaults filled in. */
	if (b->mode != KVMW_BUDGET_OFF) {
		if (!b->max_park_ns)
			b->max_park_ns = KVMW_BUDGET_DEF_PARK_NS;
		if (!b->guard_window_ns)
			b->guard_window_ns = KVMW_BUDGET_DEF_WINDOW_NS;
		if (!b->guard_pct)
			b->guard_pct = KVMW_BUDGET_DEF_GUARD_PCT;
	}
	return 0;
}

static int fake_budget_default(struct fake_dev *f, unsigned long cmd,
			       struct kvmw_budget_default *d)
{
	struct kvmw_budget *b = (struct kvmw_budget *)(uintptr_t)d->budget_ptr;

	if (!(f->hs.features & KVMW_FEAT_BUDGET_DEFAULT))
		return -ENOTTY;
	if (d->size != sizeof(*d) || !b || b->size != sizeof(*b) ||
	    d->slot >= KVMW_BUDGET_MAX_DEFAULTS || d->flags) {
		f->bad_requests++;
		return -EINVAL;
	}
	if (cmd == KVMW_IOC_BUDGET_DEFAULT_GET) {
		*b = f->default_budgets[d->slot];
		b->size = sizeof(*b);
		memcpy(d->comm, f->defaults[d->slot].comm, sizeof(d->comm));
		d->cgroup_id = f->defaults[d->slot].cgroup_id;
		d->matched = f->defaults[d->slot].matched;
		return 0;
	}
	f->budget_sets++;
	if ((f->open_flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->budget_err)
		return f->budget_err;
	if (b->vm_id || d->comm[sizeof(d->comm) - 1]) {
		f->bad_requests++;
		return -EINVAL;
	}
	f->defaults[d->slot] = *d;
	f->defaults[d->slot].cgroup_id = d->cgroup_fd >= 0 ?
					 1000 + d->cgroup_fd : 0;
	f->default_budgets[d->slot] = *b;
	return 0;
}

/* NUMA placement as the module checks it, on a host of 4 nodes. */
static int fake_numa(struct fake_dev *f, unsigned long cmd,
		     struct kvmw_numa_policy *p)
{
	const __u64 *more = (const __u64 *)(uintptr_t)p->nodes_ptr;
	__u64 *out = (__u64 *)(uintptr_t)p->nodes_ptr;
	struct kvmw_numa_policy st;
	unsigned int w;
	int i;

	if (!(f->hs.features & KVMW_FEAT_NUMA_PLACE))
		return -ENOTTY;
	if (p->size != sizeof(*p) || p->reserved || p->reserved2 ||
	    (p->nr_node_words && !p->nodes_ptr)) {
		f->bad_requests++;
		return -EINVAL;
	}
	if (cmd == KVMW_IOC_NUMA_GET) {
		f->numa_gets++;
		i = fake_vm_index(f, p->vm_id);
		if (i < 0)
			return i;
		st = f->numa_state;
		*p = f->numa[i];
		p->size = sizeof(*p);
		p->vm_id = f->vms[i].vm.vm_id;
		p->nr_node_words = 0;
		p->nodes_ptr = (uintptr_t)out;
		for (w = 0; w < 4 && out; w++)
			out[w] = f->numa_more[i][w];
		p->cur_node = st.cur_node;
		p->numa_balancing = st.numa_balancing;
		p->ran_nodes = st.ran_nodes;
		p->local_pml = st.local_pml;
		p->max_moves_per_min = st.max_moves_per_min;
		p->moves = st.moves;
		p->suppressed_dwell = st.suppressed_dwell;
		p->suppressed_hysteresis = st.suppressed_hysteresis;
		p->suppressed_rate = st.suppressed_rate;
		p->suppressed_conflict = st.suppressed_conflict;
		p->nr_threads = st.nr_threads;
		p->nr_placed = st.nr_placed;
		p->last_move_ns = st.last_move_ns;
		return 0;
	}
	f->numa_sets++;
	if ((f->open_flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->numa_err)
		return f->numa_err;
	/* Nothing the library checks reaches the module. */
	if (p->flags & ~KVMW_NUMA_F_ALL || p->policy > KVMW_NUMA_FOLLOW ||
	    p->nr_node_words > 4 || p->threshold_pct > 100 ||
	    p->margin_pct > 100) {
		f->bad_requests++;
		return -EINVAL;
	}
	i = fake_vm_index(f, p->vm_id);
	if (i < 0)
		return i;
	/* Four nodes: a higher one is the module's EINVAL. */
	if (p->nodes & ~0xfULL)
		return -EINVAL;
	for (w = 0; w < p->nr_node_words; w++)
		if (more[w])
			return -EINVAL;
	f->numa[i] = *p;
	memset(f->numa_more[i], 0, sizeof(f->numa_more[i]));
	for (w = 0; w < p->nr_node_words; w++)
		f->numa_more[i][w] = more[w];
	return 0;
}

static int fake_ioctl(void *priv, int fd, unsigned long cmd, void *arg)
{
	struct fake_dev *f = priv;
	struct kvmw_handshake *hs = arg;

	if (fd != 42)
		return -EBADF;
	switch (cmd) {
	case KVMW_IOC_HANDSHAKE:
		if (hs->size < KVMW_HANDSHAKE_SIZE_VER0 || hs->flags ||
		    hs->reserved) {
			f->bad_requests++;
			return -EINVAL;
		}
		*hs = f->hs;
		hs->nr_vms = f->nr_vms;
		return 0;
	case KVMW_IOC_LIST_VMS:
		return fake_list(f, arg);
	case KVMW_IOC_VM_SNAPSHOT:
		return fake_snapshot(f, arg);
	case KVMW_IOC_SNAPSHOT_ALL:
		if (!(f->hs.features & KVMW_FEAT_SNAPSHOT_ALL))
			return -ENOTTY;
		return fake_snapshot_all(f, arg);
	case KVMW_IOC_STATS_DESC:
		if (!(f->hs.features & KVMW_FEAT_STATS))
			return -ENOTTY;
		return fake_stats_desc(f, arg);
	case KVMW_IOC_STATS_READ:
		if (!(f->hs.features & KVMW_FEAT_STATS))
			return -ENOTTY;
		return fake_stats_read(f, arg);
	case KVMW_IOC_BUDGET_SET:
	case KVMW_IOC_BUDGET_GET:
		return fake_budget(f, cmd, arg);
	case KVMW_IOC_BUDGET_DEFAULT_SET:
	case KVMW_IOC_BUDGET_DEFAULT_GET:
		return fake_budget_default(f, cmd, arg);
	case KVMW_IOC_NUMA_SET:
	case KVMW_IOC_NUMA_GET:
		return fake_numa(f, cmd, arg);
	default:
		return -ENOTTY;
	}
}

void fake_init(struct fake_dev *f)
{
	memset(f, 0, sizeof(*f));
	f->ops.open = fake_open;
	f->ops.ioctl = fake_ioctl;
	f->ops.close = fake_close;
	f->ops.read = fake_read;
	f->ops.poll = fake_poll;
	f->ops.priv = f;
	f->hs.size = sizeof(f->hs);
	f->hs.api_version = KVMW_API_VERSION;
	f->hs.vendor = KVMW_VENDOR_VMX;
	f->hs.features = KVMW_FEAT_EXIT_COUNTS | KVMW_FEAT_REASON_VMX |
			 KVMW_FEAT_VM_LIFETIME;
	f->hs.nr_reason_slots = 80;
}

void fake_free(struct fake_dev *f)
{
	unsigned int i;

	for (i = 0; i < f->nr_vms; i++)
		kvmw_vm_snap_free(&f->vms[i]);
	f->nr_vms = 0;
	free(f->ev_buf);
	f->ev_buf = NULL;
	f->ev_len = 0;
	f->ev_pos = 0;
}

struct kvmw_vm_snap *fake_add_vm(struct fake_dev *f, __u64 vm_id,
				 __u32 pid, const char *comm,
				 unsigned int nr_vcpus)
{
	struct kvmw_vm_snap *s = &f->vms[f->nr_vms++];
	unsigned int i;

	snap_init(s, vm_id, pid, comm, KVMW_VENDOR_VMX);
	for (i = 0; i < nr_vcpus; i++) {
		snap_add_vcpu(s, i, pid + 1 + i);
		snap_add_reason(s, 10, 80 + i);		/* CPUID */
		snap_add_reason(s, 12, 20);		/* HLT */
	}
	return s;
}

struct kvmw_vm_snap *fake_add_big_vm(struct fake_dev *f, __u64 vm_id,
				     unsigned int nr_vcpus)
{
	struct kvmw_vm_snap *s = &f->vms[f->nr_vms++];
	unsigned int i;

	snap_init(s, vm_id, 4000 + vm_id, "qemu-big", KVMW_VENDOR_VMX);
	for (i = 0; i < nr_vcpus; i++) {
		struct kvmw_vcpu_info *v;

		snap_add_vcpu(s, i, 5000 + i);
		snap_add_reason(s, 10, 1000 + i);	/* CPUID */
		snap_set_lat(s, (1000 + i) * 1500ULL, 1100, 30000, 0, 0);
		snap_add_hist(s, 10, 900 + i);
		snap_add_hist(s, 14, 100);
		snap_add_reason(s, 12, 200);		/* HLT */
		snap_set_lat(s, 200 * 900000ULL, 50000, 3000000, 0, 0);
		snap_add_hist(s, 19, 150);
		snap_add_hist(s, 21, 50);
		snap_add_reason(s, 30, 50 + i % 7);	/* IO_INSTRUCTION */
		snap_set_lat(s, (50 + i % 7) * 9000ULL, 8000, 12000,
			     50 + i % 7, (50 + i % 7) * 4000ULL);
		snap_add_hist(s, 13, 50 + i % 7);
		snap_set_faults(s, 100, 60, 10, 20, 5, 100 * 3000ULL, 9000);
		snap_add_fault_hist(s, 11, 70);
		snap_add_fault_hist(s, 13, 30);
		snap_add_fault_node(s, 0, 60 + i % 10);
		snap_add_fault_node(s, 1, 35 - i % 10);
		snap_add_fault_node(s, -1, 5);
		snap_set_sched(s, i, 200000, 10, 50000, 4, 6, 2, i % 2,
			       i % 64, i % 2);
		snap_add_rq_hist(s, i, 14, 8);
		snap_add_rq_hist(s, i, 15, 2);
		v = &s->vcpus[i];
		v->guest_ns = 900000000ULL + i;
		v->run_node_ns[i % 2] = 700000000ULL;
		v->run_node_ns[1 - i % 2] = 300000000ULL;
	}
	s->mem.pages = 1 << 20;
	s->mem.stride = 256;
	s->mem.sampled = 4096;
	s->mem.unmapped = 96;
	s->mem.passes = 3;
	s->mem.pass_ns = 1000000000ULL;
	s->mem.node[0] = 3000;
	s->mem.node[1] = 1000;
	return s;
}

/* Running the command line. */

void run_cli(struct run *r, const struct kvmw_dev_ops *ops, ...)
{
	char *argv[32];
	int argc = 0;
	FILE *out, *err;
	va_list ap;

	memset(r, 0, sizeof(*r));
	argv[argc++] = "kvmwarden";
	va_start(ap, ops);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	if (!out || !err)
		abort();
	r->rc = kvmw_main(argc, argv, out, err, ops);
	fclose(out);
	fclose(err);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

void out_open(struct out *o)
{
	o->s = NULL;
	o->len = 0;
	o->f = open_memstream(&o->s, &o->len);
	if (!o->f)
		abort();
}

void out_close(struct out *o)
{
	fclose(o->f);
	o->f = NULL;
}

void check_has(const char *s, const char *has, const char *what)
{
	CHECK(s && strstr(s, has), "%s", what);
	if (!s || !strstr(s, has))
		tap_diag("missing: '%s'", has);
}

size_t count_of(const char *s, const char *what)
{
	size_t n = 0;

	while (s && (s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

bool near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (fabs(b) + 1);
}
