// SPDX-License-Identifier: GPL-2.0
/*
 * stats - the self-describing statistics (KVMW_IOC_STATS_DESC,
 * KVMW_IOC_STATS_READ).
 *
 * descriptors: every statistic has a unique name within its scope, a
 *	known scope, kind and unit, values that tile its scope's records
 *	exactly, per-node statistics one value per node of the host, and
 *	histograms a layout of <kvmwarden/hist.h>; bad arguments change
 *	nothing.
 * same_as_snapshot: a VM that ran known guest programs and stopped reads
 *	the same through both interfaces: every value of every record
 *	equals the field of KVMW_IOC_VM_SNAPSHOT this test maps its name to
 *	(its own table, not the module's), and the CPUID reason record of
 *	each vCPU counts exactly its program's CPUIDs.
 * read_arguments: ENOENT, E2BIG with only the counts, short records cut,
 *	long ones zero-filled.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kvmwarden/categories.h>
#include <kvmwarden/hist.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define CPUID_N		37

struct layout {
	struct kvmw_stats_desc hdr;
	struct kvmw_stat_desc *d;
	size_t vm_size, vcpu_size, reason_size;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

static int layout_read(int fd, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	l->hdr.size = sizeof(l->hdr);
	if (ioctl(fd, KVMW_IOC_STATS_DESC, &l->hdr))
		return -errno;
	l->d = calloc(l->hdr.nr_descs, sizeof(*l->d));
	if (!l->d)
		return -ENOMEM;
	l->hdr.descs_ptr = (uintptr_t)l->d;
	l->hdr.desc_size = sizeof(*l->d);
	l->hdr.max_descs = l->hdr.nr_descs;
	if (ioctl(fd, KVMW_IOC_STATS_DESC, &l->hdr))
		return -errno;
	l->vm_size = sizeof(struct kvmw_vm_rec) + 8 * l->hdr.vm_values;
	l->vcpu_size = sizeof(struct kvmw_vcpu_rec) + 8 * l->hdr.vcpu_values;
	l->reason_size = sizeof(struct kvmw_reason_rec) +
			 8 * l->hdr.reason_values;
	return 0;
}

static const struct kvmw_stat_desc *stat_find(const struct layout *l,
					      int scope, const char *name)
{
	uint32_t i;

	for (i = 0; i < l->hdr.nr_descs; i++)
		if (l->d[i].scope == scope && !strcmp(l->d[i].name, name))
			return &l->d[i];
	return NULL;
}

/* Nodes the host can have: the highest in .../node/possible, plus one. */
static unsigned int possible_nodes(void)
{
	FILE *f = fopen("/sys/devices/system/node/possible", "r");
	char buf[128], *p;
	unsigned int hi = 0;

	if (!f)
		return 1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, '-');
		p = p ? p + 1 : strrchr(buf, ',') ? strrchr(buf, ',') + 1 : buf;
		hi = strtoul(p, NULL, 10);
	}
	fclose(f);
	return hi + 1;
}

FIXTURE(stats) {
	int fd;
	struct layout l;
	char why[128];
};

FIXTURE_SETUP(stats)
{
	self->fd = kvmw_test_open(KVMW_FEAT_STATS, "self-describing statistics",
				  self->why, sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, layout_read(self->fd, &self->l));
}

FIXTURE_TEARDOWN(stats)
{
	free(self->l.d);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(stats, descriptors)
{
	const struct layout *l = &self->l;
	uint32_t next[4] = { 0 }, values[4], i, j, nodes;
	struct kvmw_stats_desc q;
	struct kvmw_stat_desc big[2];

	if (self->why[0])
		SKIP(return, "%s", self->why);
	values[KVMW_SCOPE_VM] = l->hdr.vm_values;
	values[KVMW_SCOPE_VCPU] = l->hdr.vcpu_values;
	values[KVMW_SCOPE_REASON] = l->hdr.reason_values;
	/* Every node the host can have, not cut at API 1's 16. */
	nodes = possible_nodes();
	EXPECT_EQ(nodes, l->hdr.nr_nodes);
	ASSERT_LT(20U, l->hdr.nr_descs);

	for (i = 0; i < l->hdr.nr_descs; i++) {
		const struct kvmw_stat_desc *d = &l->d[i];

		ASSERT_NE(0, d->name[0]);
		ASSERT_NE(NULL, memchr(d->name, 0, sizeof(d->name)));
		ASSERT_LE(KVMW_SCOPE_VM, d->scope);
		ASSERT_GE(KVMW_SCOPE_REASON, d->scope);
		EXPECT_LE(KVMW_STAT_COUNTER, d->kind) TH_LOG("%s", d->name);
		EXPECT_GE(KVMW_STAT_HIST, d->kind) TH_LOG("%s", d->name);
		EXPECT_GE(KVMW_UNIT_STATE, d->unit) TH_LOG("%s", d->name);
		EXPECT_EQ(0U, d->reserved[0] | d->reserved[1]);
		/* Values tile each scope's records, in table order. */
		EXPECT_EQ(next[d->scope], d->offset) TH_LOG("%s", d->name);
		next[d->scope] = d->offset + d->count;
		if (d->flags & KVMW_STAT_F_PER_NODE)
			EXPECT_EQ(l->hdr.nr_nodes, d->count) TH_LOG("%s", d->name);
		if (d->kind == KVMW_STAT_HIST) {
			EXPECT_EQ(KVMW_HIST_LOG2, d->hist_type);
			EXPECT_EQ((uint32_t)KVMW_LAT_BUCKETS, d->count);
			EXPECT_EQ(KVMW_UNIT_NS, d->unit);
		} else if (d->flags & KVMW_STAT_F_PER_BUCKET) {
			EXPECT_EQ((uint32_t)KVMW_BUDGET_MAX_BUCKETS, d->count);
		} else if (!(d->flags & KVMW_STAT_F_PER_NODE)) {
			EXPECT_EQ(1U, d->count) TH_LOG("%s", d->name);
			EXPECT_EQ(0U, d->hist_type);
		}
		for (j = 0; j < i; j++)
			EXPECT_FALSE(l->d[j].scope == d->scope &&
				     !strcmp(l->d[j].name, d->name))
				TH_LOG("%s twice", d->name);
	}
	for (i = KVMW_SCOPE_VM; i <= KVMW_SCOPE_REASON; i++)
		EXPECT_EQ(values[i], next[i]) TH_LOG("scope %u", i);

	/* Hostile arguments: clear errors, nothing written. */
	q = l->hdr;
	q.max_descs = 1;
	memset(big, 0xaa, sizeof(big));
	q.descs_ptr = (uintptr_t)big;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_STATS_DESC, &q));
	EXPECT_EQ(l->hdr.nr_descs, q.nr_descs);
	EXPECT_EQ(0xaa, ((unsigned char *)big)[0]);
	q = l->hdr;
	q.desc_size = KVMW_STAT_DESC_SIZE_VER0 - 8;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_STATS_DESC, &q));
	q = l->hdr;
	q.flags = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_STATS_DESC, &q));
	q = l->hdr;
	q.reserved = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_STATS_DESC, &q));
	q = l->hdr;
	q.descs_ptr = 8;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_STATS_DESC, &q));
}

/* Read VM @vm_id; records in new arrays (free them). */
static int read_vm(int fd, const struct layout *l, uint64_t vm_id,
		   struct kvmw_stats_read *r, void **vms, void **vcpus,
		   void **reasons)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->vm_id = vm_id;
	r->vm_rec_size = l->vm_size;
	r->vcpu_rec_size = l->vcpu_size;
	r->reason_rec_size = l->reason_size;
	if (ioctl(fd, KVMW_IOC_STATS_READ, r))
		return -errno;
	*vms = calloc(r->nr_vms + 1, l->vm_size);
	*vcpus = calloc(r->nr_vcpus + 1, l->vcpu_size);
	*reasons = calloc(r->nr_reasons + 1, l->reason_size);
	if (!*vms || !*vcpus || !*reasons)
		return -ENOMEM;
	r->vms_ptr = (uintptr_t)*vms;
	r->vcpus_ptr = (uintptr_t)*vcpus;
	r->reasons_ptr = (uintptr_t)*reasons;
	r->max_vms = r->nr_vms;
	r->max_vcpus = r->nr_vcpus;
	r->max_reasons = r->nr_reasons;
	return ioctl(fd, KVMW_IOC_STATS_READ, r) ? -errno : 0;
}

/* This test's own map from names to KVMW_IOC_VM_SNAPSHOT fields. */
struct oracle {
	int scope;
	const char *name;
	size_t off;
	int width;	/* 4 or 8 bytes */
	int per_node;	/* 1: an array of KVMW_MAX_NODES (nr_nodes in v2) */
	int buckets;	/* histogram of KVMW_LAT_BUCKETS */
};

#define V(n, f) { KVMW_SCOPE_VCPU, n, offsetof(struct kvmw_vcpu_info, f), 8, 0, 0 }
#define R(n, f) { KVMW_SCOPE_REASON, n, offsetof(struct kvmw_reason_stat, f), 8, 0, 0 }
#define M(n, f) { KVMW_SCOPE_VM, n, offsetof(struct kvmw_vm_mem, f), 8, 0, 0 }

static const struct oracle oracle[] = {
	M("mem_pages", pages), M("mem_stride", stride),
	M("mem_samples", sampled), M("mem_samples_unmapped", unmapped),
	M("mem_samples_node_unknown", node_unknown), M("mem_passes", passes),
	M("mem_pass_time", pass_ns),
	{ KVMW_SCOPE_VM, "mem_samples_node", offsetof(struct kvmw_vm_mem, node),
	  8, 1, 0 },
	V("exits", exits), V("entries", entries),
	V("overflow_exits", overflow_exits), V("untimed_exits", untimed_exits),
	V("guest_time", guest_ns), V("exit_time", exit_ns),
	V("idle_time", idle_ns), V("user_time", user_ns),
	V("overhead_time", overhead_ns), V("faults", faults),
	V("faults_mmio", fault_mmio), V("faults_write", fault_write),
	V("faults_fetch", fault_fetch), V("faults_present", fault_present),
	V("fault_time", fault_lat_total_ns),
	V("fault_time_max", fault_lat_max_ns),
	V("faults_node_unknown", fault_node_unknown),
	{ KVMW_SCOPE_VCPU, "faults_node",
	  offsetof(struct kvmw_vcpu_info, fault_node), 8, 1, 0 },
	{ KVMW_SCOPE_VCPU, "fault_time_hist",
	  offsetof(struct kvmw_vcpu_info, fault_hist), 8, 0, 1 },
	V("rq_delay", rq_delay_ns), V("rq_waits", rq_delay_count),
	V("rq_delay_max", rq_delay_max_ns), V("preemptions", preemptions),
	V("sleeps", sleeps), V("migrations", migrations),
	V("node_migrations", node_migrations),
	{ KVMW_SCOPE_VCPU, "last_cpu",
	  offsetof(struct kvmw_vcpu_info, last_cpu), 4, 0, 0 },
	{ KVMW_SCOPE_VCPU, "last_node",
	  offsetof(struct kvmw_vcpu_info, last_node), 4, 0, 0 },
	{ KVMW_SCOPE_VCPU, "run_time_node",
	  offsetof(struct kvmw_vcpu_info, run_node_ns), 8, 1, 0 },
	{ KVMW_SCOPE_VCPU, "rq_delay_hist",
	  offsetof(struct kvmw_vcpu_info, rq_delay_hist), 8, 0, 1 },
	R("exits", count), R("latency", lat_total_ns),
	R("latency_min", lat_min_ns), R("latency_max", lat_max_ns),
	R("user_exits", user_count), R("user_time", user_ns),
	{ KVMW_SCOPE_REASON, "latency_hist",
	  offsetof(struct kvmw_reason_stat, hist), 8, 0, 1 },
};

static uint64_t field(const void *base, const struct oracle *o, int k)
{
	const char *p = (const char *)base + o->off;

	if (o->width == 4)
		return ((const uint32_t *)p)[k];
	return ((const uint64_t *)p)[k];
}

/* Every statistic of @scope in @values against the v1 struct @v1. */
static void compare(struct __test_metadata *_metadata, const struct layout *l,
		    int scope, const __u64 *values, const void *v1,
		    const char *what)
{
	unsigned int i, k, n;

	for (i = 0; i < sizeof(oracle) / sizeof(oracle[0]); i++) {
		const struct oracle *o = &oracle[i];
		const struct kvmw_stat_desc *d;

		if (o->scope != scope)
			continue;
		d = stat_find(l, scope, o->name);
		EXPECT_NE(NULL, d) TH_LOG("no statistic %s", o->name);
		if (!d)
			continue;
		n = o->per_node ? l->hdr.nr_nodes :
		    o->buckets ? KVMW_LAT_BUCKETS : 1;
		EXPECT_EQ(n, d->count) TH_LOG("%s", o->name);
		/*
		 * API 1's per-node arrays stop at KVMW_MAX_NODES (and count
		 * higher nodes as unknown): compare what both have. The
		 * test VM has two nodes.
		 */
		if (o->per_node && n > KVMW_MAX_NODES)
			n = KVMW_MAX_NODES;
		for (k = 0; k < n && k < d->count; k++)
			EXPECT_EQ(field(v1, o, k), values[d->offset + k])
				TH_LOG("%s %s[%u]", what, o->name, k);
	}
}

TEST_F(stats, same_as_snapshot)
{
	const struct layout *l = &self->l;
	void *vms = NULL, *vcpus = NULL, *reasons = NULL;
	struct kvm_vm *vm = NULL;
	struct kvmw_stats_read r;
	struct kvmw_snap s;
	uint32_t cpuid, i, j;
	int ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	for (i = 0; i < 2; i++) {
		ASSERT_NE(NULL, vcpu_add(vm));
		ASSERT_EQ(0, vcpu_load_prog(vm->vcpus[i], GUEST_PROG_CPUID,
					    CPUID_N + i));
		ASSERT_EQ(0, vcpu_run(vm->vcpus[i]));
	}
	/* Stopped: both reads see the same numbers. */
	ASSERT_EQ(0, kvmw_find_kvm_vm(self->fd, vm, &s));
	ret = read_vm(self->fd, l, s.hdr.vm_id, &r, &vms, &vcpus, &reasons);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	ASSERT_EQ(1U, r.nr_vms);
	ASSERT_EQ(s.hdr.nr_vcpus, r.nr_vcpus);
	ASSERT_EQ(s.hdr.nr_reasons, r.nr_reasons);
	EXPECT_NE(0ULL, r.time_ns);
	{
		struct kvmw_vm_rec *vr = vms;

		EXPECT_EQ(s.hdr.vm.vm_id, vr->vm_id);
		EXPECT_EQ(s.hdr.vm.vmm_pid, vr->vmm_pid);
		EXPECT_EQ(s.hdr.vm.flags, vr->flags);
		EXPECT_EQ(s.hdr.vm.vendor, vr->vendor);
		EXPECT_EQ(s.hdr.nr_vcpus, vr->nr_vcpus);
		EXPECT_EQ(0U, vr->first_vcpu);
		EXPECT_EQ(s.hdr.vm.first_seen_ns, vr->first_seen_ns);
		EXPECT_EQ(0, memcmp(s.hdr.vm.comm, vr->comm, sizeof(vr->comm)));
		compare(_metadata, l, KVMW_SCOPE_VM, vr->values, &s.hdr.mem,
			"VM");
	}
	cpuid = exit_reason_code(vm->vendor, EXIT_KIND_CPUID);
	for (i = 0; i < r.nr_vcpus; i++) {
		struct kvmw_vcpu_rec *vc = vcpus + i * l->vcpu_size;
		const struct kvmw_vcpu_info *vi = &s.vcpus[i];
		uint64_t n = 0;

		EXPECT_EQ(0U, vc->vm_index);
		EXPECT_EQ(vi->vcpu_id, vc->vcpu_id);
		EXPECT_EQ(vi->tid, vc->tid);
		EXPECT_EQ(vi->first_reason, vc->first_reason);
		EXPECT_EQ(vi->nr_reasons, vc->nr_reasons);
		compare(_metadata, l, KVMW_SCOPE_VCPU, vc->values, vi, "vCPU");
		for (j = vc->first_reason;
		     j < vc->first_reason + vc->nr_reasons; j++) {
			struct kvmw_reason_rec *rr = reasons + j * l->reason_size;
			const struct kvmw_reason_stat *rs = &s.reasons[j];
			const struct kvmw_stat_desc *d =
				stat_find(l, KVMW_SCOPE_REASON, "exits");

			EXPECT_EQ(rs->reason, rr->reason);
			EXPECT_EQ(i, rr->vcpu_index);
			EXPECT_EQ(rs->flags, rr->flags);
			EXPECT_EQ(kvmw_reason_category(vm->vendor, rr->reason),
				  rr->category);
			compare(_metadata, l, KVMW_SCOPE_REASON, rr->values, rs,
				"reason");
			if (d && rr->reason == cpuid)
				n = rr->values[d->offset];
		}
		/* Exactly the program's CPUIDs. */
		EXPECT_EQ((uint64_t)CPUID_N + vc->vcpu_id, n);
	}
	free(vms);
	free(vcpus);
	free(reasons);
	kvmw_snap_free(&s);
	vm_destroy(vm);
}

TEST_F(stats, read_arguments)
{
	const struct layout *l = &self->l;
	void *vms = NULL, *vcpus = NULL, *reasons = NULL;
	unsigned char *short_rec, *long_rec;
	struct kvmw_stats_read r, q;
	struct kvm_vm *vm;
	struct kvmw_snap s;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	ASSERT_NE(NULL, vcpu_add(vm));
	ASSERT_EQ(0, vcpu_load_prog(vm->vcpus[0], GUEST_PROG_CPUID, 5));
	ASSERT_EQ(0, vcpu_run(vm->vcpus[0]));
	ASSERT_EQ(0, kvmw_find_kvm_vm(self->fd, vm, &s));
	ASSERT_EQ(0, read_vm(self->fd, l, s.hdr.vm_id, &r, &vms, &vcpus,
			     &reasons));

	q = r;
	q.vm_id = ~0ULL;
	EXPECT_EQ(ENOENT, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	q = r;
	q.flags = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	q = r;
	q.vcpu_rec_size = KVMW_VCPU_REC_HDR_SIZE - 8;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	q = r;
	q.max_reasons = 0;
	memset(reasons, 0xaa, l->reason_size);
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	EXPECT_EQ(r.nr_reasons, q.nr_reasons);
	EXPECT_EQ(0xaa, ((unsigned char *)reasons)[0]);

	/* A record cut short keeps its head; a long one is zero-filled. */
	short_rec = calloc(1, KVMW_VCPU_REC_HDR_SIZE + 8);
	long_rec = malloc(l->vcpu_size + 64);
	ASSERT_TRUE(short_rec && long_rec);
	memset(long_rec, 0xaa, l->vcpu_size + 64);
	q = r;
	q.vcpus_ptr = (uintptr_t)short_rec;
	q.vcpu_rec_size = KVMW_VCPU_REC_HDR_SIZE + 8;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	EXPECT_EQ(0, memcmp(short_rec, vcpus, KVMW_VCPU_REC_HDR_SIZE + 8));
	q = r;
	q.vcpus_ptr = (uintptr_t)long_rec;
	q.vcpu_rec_size = l->vcpu_size + 64;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	EXPECT_EQ(0, memcmp(long_rec, vcpus, l->vcpu_size));
	EXPECT_EQ(0, long_rec[l->vcpu_size]);
	EXPECT_EQ(0, long_rec[l->vcpu_size + 63]);

	/* Every VM: at least this one, and the sizes it asked for. */
	q = r;
	q.vm_id = 0;
	q.max_vms = q.max_vcpus = q.max_reasons = 0;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_STATS_READ, &q));
	EXPECT_LE(1U, q.nr_vms);
	EXPECT_LE(r.nr_vcpus, q.nr_vcpus);

	free(short_rec);
	free(long_rec);
	free(vms);
	free(vcpus);
	free(reasons);
	kvmw_snap_free(&s);
	vm_destroy(vm);
}

TEST_HARNESS_MAIN
