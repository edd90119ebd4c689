// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: self-describing statistics (KVMW_IOC_STATS_DESC and
 * KVMW_IOC_STATS_READ).
 *
 * Three tables below name every statistic of each scope (VM, vCPU,
 * reason) with its kind, unit and histogram layout, in the order of the
 * descriptors userspace reads; an enum per scope indexes them. At load the
 * tables are turned into those descriptors, with the offsets of the
 * values in a record (per-node statistics take nr_nodes values, so the
 * offsets after them depend on the host). A read walks the module's own
 * records (struct kvmw_vm, kvmw_vcpu and their latency entries) once and
 * writes each VM, vCPU and reason straight into its record, value by
 * value through those offsets: nothing of the per-struct snapshot ioctls
 * (kvmw_snapshot.c) is used, so they can go away without touching this.
 *
 * A new statistic is an enum entry, a table line and the line of the fill
 * function that writes it: readers that look statistics up by name are
 * not affected.
 *
 * Cost. A read is proportional to what it returns: the counting pass
 * reads two words per vCPU (its reasons are the entries of its latency
 * table while that is not full), the fill pass finds a vCPU's reasons the
 * same way, sorts those few by code, and writes every byte of the answer
 * exactly once into buffers that are not zeroed first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/topology.h>

#include <kvmwarden/categories.h>

#include "kvmw.h"

/* VM scope, in descriptor order. */
enum {
	KVMW_SV_MEM_PAGES,
	KVMW_SV_MEM_STRIDE,
	KVMW_SV_MEM_SAMPLES,
	KVMW_SV_MEM_UNMAPPED,
	KVMW_SV_MEM_NODE_UNKNOWN,
	KVMW_SV_MEM_PASSES,
	KVMW_SV_MEM_PASS_TIME,
	KVMW_SV_MEM_NODE,
	KVMW_SV_NR
};

/* vCPU scope, in descriptor order. */
enum {
	KVMW_SC_EXITS,
	KVMW_SC_ENTRIES,
	KVMW_SC_OVERFLOW,
	KVMW_SC_UNTIMED,
	KVMW_SC_GUEST,
	KVMW_SC_EXIT_TIME,
	KVMW_SC_IDLE,
	KVMW_SC_USER,
	KVMW_SC_OVERHEAD,
	KVMW_SC_FAULTS,
	KVMW_SC_F_MMIO,
	KVMW_SC_F_WRITE,
	KVMW_SC_F_FETCH,
	KVMW_SC_F_PRESENT,
	KVMW_SC_F_TIME,
	KVMW_SC_F_TIME_MAX,
	KVMW_SC_F_NODE_UNKNOWN,
	KVMW_SC_F_NODE,
	KVMW_SC_F_HIST,
	KVMW_SC_RQ_DELAY,
	KVMW_SC_RQ_WAITS,
	KVMW_SC_RQ_MAX,
	KVMW_SC_PREEMPT,
	KVMW_SC_SLEEPS,
	KVMW_SC_MIGR,
	KVMW_SC_NODE_MIGR,
	KVMW_SC_LAST_CPU,
	KVMW_SC_LAST_NODE,
	KVMW_SC_RUN_NODE,
	KVMW_SC_RQ_HIST,
	KVMW_SC_NR
};

/* Reason scope, in descriptor order. */
enum {
	KVMW_SR_EXITS,
	KVMW_SR_LAT,
	KVMW_SR_LAT_MIN,
	KVMW_SR_LAT_MAX,
	KVMW_SR_USER_EXITS,
	KVMW_SR_USER_TIME,
	KVMW_SR_HIST,
	KVMW_SR_NR
};

/**
 * struct kvmw_stat_def - a statistic as the module defines it
 * @name: its name (KVMW_STAT_NAME_LEN at most, with the NUL)
 * @kind: KVMW_STAT_*
 * @unit: KVMW_UNIT_*
 * @flags: KVMW_STAT_F_*
 * @count: values, unless per node (then nr_nodes)
 * @hist_type: KVMW_HIST_* of a histogram, else 0
 */
struct kvmw_stat_def {
	const char *name;
	u8 kind;
	u8 unit;
	u8 flags;
	u8 count;
	u32 hist_type;
};

#define C KVMW_STAT_COUNTER
#define G KVMW_STAT_GAUGE
#define ONE(n, k, u)	{ .name = (n), .kind = (k), .unit = (u), .count = 1 }
#define NODES(n, k, u)	{ .name = (n), .kind = (k), .unit = (u),	\
			  .flags = KVMW_STAT_F_PER_NODE }
#define HIST(n)		{ .name = (n), .kind = KVMW_STAT_HIST,		\
			  .unit = KVMW_UNIT_NS, .count = KVMW_LAT_BUCKETS, \
			  .hist_type = KVMW_HIST_LOG2 }

/* Memory locality: the last complete sampling pass (struct kvmw_mem). */
static const struct kvmw_stat_def kvmw_vm_defs[KVMW_SV_NR] = {
	[KVMW_SV_MEM_PAGES] = ONE("mem_pages", G, KVMW_UNIT_PAGES),
	[KVMW_SV_MEM_STRIDE] = ONE("mem_stride", G, KVMW_UNIT_PAGES),
	[KVMW_SV_MEM_SAMPLES] = ONE("mem_samples", G, KVMW_UNIT_COUNT),
	[KVMW_SV_MEM_UNMAPPED] = ONE("mem_samples_unmapped", G,
				     KVMW_UNIT_COUNT),
	[KVMW_SV_MEM_NODE_UNKNOWN] = ONE("mem_samples_node_unknown", G,
					 KVMW_UNIT_COUNT),
	[KVMW_SV_MEM_PASSES] = ONE("mem_passes", C, KVMW_UNIT_COUNT),
	[KVMW_SV_MEM_PASS_TIME] = ONE("mem_pass_time", G,
				      KVMW_UNIT_BOOTTIME_NS),
	[KVMW_SV_MEM_NODE] = NODES("mem_samples_node", G, KVMW_UNIT_COUNT),
};

static const struct kvmw_stat_def kvmw_vcpu_defs[KVMW_SC_NR] = {
	/* Exits and time: struct kvmw_vcpu and its latency entries. */
	[KVMW_SC_EXITS] = ONE("exits", C, KVMW_UNIT_COUNT),
	[KVMW_SC_ENTRIES] = ONE("entries", C, KVMW_UNIT_COUNT),
	[KVMW_SC_OVERFLOW] = ONE("overflow_exits", C, KVMW_UNIT_COUNT),
	[KVMW_SC_UNTIMED] = ONE("untimed_exits", C, KVMW_UNIT_COUNT),
	[KVMW_SC_GUEST] = ONE("guest_time", C, KVMW_UNIT_NS),
	[KVMW_SC_EXIT_TIME] = ONE("exit_time", C, KVMW_UNIT_NS),
	[KVMW_SC_IDLE] = ONE("idle_time", C, KVMW_UNIT_NS),
	[KVMW_SC_USER] = ONE("user_time", C, KVMW_UNIT_NS),
	[KVMW_SC_OVERHEAD] = ONE("overhead_time", C, KVMW_UNIT_NS),

	/* Nested page faults: struct kvmw_faults. */
	[KVMW_SC_FAULTS] = ONE("faults", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_MMIO] = ONE("faults_mmio", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_WRITE] = ONE("faults_write", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_FETCH] = ONE("faults_fetch", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_PRESENT] = ONE("faults_present", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_TIME] = ONE("fault_time", C, KVMW_UNIT_NS),
	[KVMW_SC_F_TIME_MAX] = ONE("fault_time_max", G, KVMW_UNIT_NS),
	[KVMW_SC_F_NODE_UNKNOWN] = ONE("faults_node_unknown", C,
				       KVMW_UNIT_COUNT),
	[KVMW_SC_F_NODE] = NODES("faults_node", C, KVMW_UNIT_COUNT),
	[KVMW_SC_F_HIST] = HIST("fault_time_hist"),

	/* The scheduler's view of the vCPU thread: struct kvmw_sched. */
	[KVMW_SC_RQ_DELAY] = ONE("rq_delay", C, KVMW_UNIT_NS),
	[KVMW_SC_RQ_WAITS] = ONE("rq_waits", C, KVMW_UNIT_COUNT),
	[KVMW_SC_RQ_MAX] = ONE("rq_delay_max", G, KVMW_UNIT_NS),
	[KVMW_SC_PREEMPT] = ONE("preemptions", C, KVMW_UNIT_COUNT),
	[KVMW_SC_SLEEPS] = ONE("sleeps", C, KVMW_UNIT_COUNT),
	[KVMW_SC_MIGR] = ONE("migrations", C, KVMW_UNIT_COUNT),
	[KVMW_SC_NODE_MIGR] = ONE("node_migrations", C, KVMW_UNIT_COUNT),
	[KVMW_SC_LAST_CPU] = ONE("last_cpu", G, KVMW_UNIT_ID),
	[KVMW_SC_LAST_NODE] = ONE("last_node", G, KVMW_UNIT_ID),
	[KVMW_SC_RUN_NODE] = NODES("run_time_node", C, KVMW_UNIT_NS),
	[KVMW_SC_RQ_HIST] = HIST("rq_delay_hist"),
};

/* Per hardware reason: exits and their exit-to-entry latency. */
static const struct kvmw_stat_def kvmw_reason_defs[KVMW_SR_NR] = {
	[KVMW_SR_EXITS] = ONE("exits", C, KVMW_UNIT_COUNT),
	[KVMW_SR_LAT] = ONE("latency", C, KVMW_UNIT_NS),
	[KVMW_SR_LAT_MIN] = ONE("latency_min", G, KVMW_UNIT_NS),
	[KVMW_SR_LAT_MAX] = ONE("latency_max", G, KVMW_UNIT_NS),
	[KVMW_SR_USER_EXITS] = ONE("user_exits", C, KVMW_UNIT_COUNT),
	[KVMW_SR_USER_TIME] = ONE("user_time", C, KVMW_UNIT_NS),
	[KVMW_SR_HIST] = HIST("latency_hist"),
};

#undef C
#undef G
#undef ONE
#undef NODES
#undef HIST

#define KVMW_NR_STATS	(KVMW_SV_NR + KVMW_SC_NR + KVMW_SR_NR)

static struct kvmw_stat_desc kvmw_descs[KVMW_NR_STATS];
static u32 kvmw_stat_nodes;
/* Values per record of each scope, indexed by KVMW_SCOPE_*. */
static u32 kvmw_scope_values[KVMW_SCOPE_REASON + 1];
/* Offset of each statistic's first value in its scope's records. */
static u32 kvmw_off_vm[KVMW_SV_NR];
static u32 kvmw_off_vcpu[KVMW_SC_NR];
static u32 kvmw_off_reason[KVMW_SR_NR];

/* Describe the @nr statistics @defs of @scope from kvmw_descs[*@next]. */
static void kvmw_stats_scope(u16 scope, const struct kvmw_stat_def *defs,
			     unsigned int nr, u32 *off, unsigned int *next)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		const struct kvmw_stat_def *def = &defs[i];
		struct kvmw_stat_desc *d = &kvmw_descs[(*next)++];

		memset(d, 0, sizeof(*d));
		strscpy(d->name, def->name, sizeof(d->name));
		d->scope = scope;
		d->kind = def->kind;
		d->unit = def->unit;
		d->flags = def->flags;
		d->count = def->flags & KVMW_STAT_F_PER_NODE ?
			   kvmw_stat_nodes : def->count;
		d->hist_type = def->hist_type;
		d->offset = kvmw_scope_values[scope];
		off[i] = d->offset;
		kvmw_scope_values[scope] += d->count;
	}
}

/* Lay the statistics out: offsets in their scope's records, in order. */
void kvmw_stats_init(void)
{
	unsigned int next = 0;

	/* Nodes beyond the internal arrays are counted as unknown. */
	kvmw_stat_nodes = min_t(u32, nr_node_ids, KVMW_MAX_NODES);
	memset(kvmw_scope_values, 0, sizeof(kvmw_scope_values));
	kvmw_stats_scope(KVMW_SCOPE_VM, kvmw_vm_defs, KVMW_SV_NR, kvmw_off_vm,
			 &next);
	kvmw_stats_scope(KVMW_SCOPE_VCPU, kvmw_vcpu_defs, KVMW_SC_NR,
			 kvmw_off_vcpu, &next);
	kvmw_stats_scope(KVMW_SCOPE_REASON, kvmw_reason_defs, KVMW_SR_NR,
			 kvmw_off_reason, &next);
}

/**
 * kvmw_stats_layout() - the descriptors and the size of records
 * @nr: set to the number of descriptors
 * @nodes: set to the number of nodes per-node statistics cover
 * @values: set to the values per record of each scope (by KVMW_SCOPE_*)
 *
 * Return: the descriptors.
 */
const struct kvmw_stat_desc *kvmw_stats_layout(u32 *nr, u32 *nodes,
					       const u32 **values)
{
	*nr = KVMW_NR_STATS;
	*nodes = kvmw_stat_nodes;
	*values = kvmw_scope_values;
	return kvmw_descs;
}

static void kvmw_copy_values(u64 *dst, const u64 *src, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		dst[i] = READ_ONCE(src[i]);
}

/* Counting pass over @vm: its vCPUs and their reasons. */
static void kvmw_stats_count_vm(struct kvmw_vm *vm, u32 *nv, u32 *nr,
				u32 *most)
{
	struct kvmw_vcpu *v;
	u32 n = 0;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		n++;
		*nr += kvmw_vcpu_nr_reasons(v);
	}
	*nv += n;
	*most = max(*most, n);
}

/* Records of an answer in @a, vCPUs of its largest VM in *@most. */
static void kvmw_stats_count_most(struct kvmw_vm *one,
				  struct kvmw_stats_answer *a, u32 *most)
{
	struct kvmw_vm *vm;

	memset(a, 0, sizeof(*a));
	*most = 0;
	if (one) {
		a->nvm = 1;
		kvmw_stats_count_vm(one, &a->nv, &a->nr, most);
		return;
	}
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		a->nvm++;
		kvmw_stats_count_vm(vm, &a->nv, &a->nr, most);
	}
}

/**
 * kvmw_stats_count() - the size of an answer, counting only
 * @one: the VM to read, or NULL for every VM
 * @a: its nvm, nv and nr are set; nothing is allocated
 *
 * Caller holds kvmw_mutex.
 */
void kvmw_stats_count(struct kvmw_vm *one, struct kvmw_stats_answer *a)
{
	u32 most;

	kvmw_stats_count_most(one, a, &most);
}

/*
 * The answer being built: record buffers with room for @vcap, @rcap and
 * @mcap records, @recs room for the vCPUs of the largest VM.
 */
struct kvmw_stats_build {
	struct kvmw_stats_answer *a;
	struct kvmw_vcpu **recs;
	u32 vmcap, vcap, rcap, most;
	bool truncated;
};

static void *kvmw_stats_vm_at(const struct kvmw_stats_answer *a, u32 i)
{
	return a->vms + (size_t)i * a->vm_size;
}

static void *kvmw_stats_vcpu_at(const struct kvmw_stats_answer *a, u32 i)
{
	return a->vcpus + (size_t)i * a->vcpu_size;
}

static void *kvmw_stats_reason_at(const struct kvmw_stats_answer *a, u32 i)
{
	return a->reasons + (size_t)i * a->reason_size;
}

static void kvmw_stats_fill_vm(struct kvmw_vm *vm, u32 first_vcpu,
			       u32 nr_vcpus, struct kvmw_vm_rec *r)
{
	const u32 *off = kvmw_off_vm;
	u64 gone = READ_ONCE(vm->gone_ns);
	struct kvmw_vm_mem mem;
	u64 *val = r->values;

	r->vm_id = vm->id;
	r->vmm_pid = vm->vmm_pid;
	r->flags = 0;
	if (gone)
		r->flags |= KVMW_VM_F_GONE;
	if (!kvmw_token_valid(vm->token))
		r->flags |= KVMW_VM_F_NO_LIFETIME;
	r->vendor = READ_ONCE(vm->vendor);
	r->nr_vcpus = nr_vcpus;
	r->first_vcpu = first_vcpu;
	r->reserved = 0;
	r->first_seen_ns = vm->first_seen_ns;
	r->gone_ns = gone;
	memcpy(r->comm, vm->comm, sizeof(r->comm));

	kvmw_mem_read(vm, &mem);
	val[off[KVMW_SV_MEM_PAGES]] = mem.pages;
	val[off[KVMW_SV_MEM_STRIDE]] = mem.stride;
	val[off[KVMW_SV_MEM_SAMPLES]] = mem.sampled;
	val[off[KVMW_SV_MEM_UNMAPPED]] = mem.unmapped;
	val[off[KVMW_SV_MEM_NODE_UNKNOWN]] = mem.node_unknown;
	val[off[KVMW_SV_MEM_PASSES]] = mem.passes;
	val[off[KVMW_SV_MEM_PASS_TIME]] = mem.pass_ns;
	memcpy(&val[off[KVMW_SV_MEM_NODE]], mem.node,
	       kvmw_stat_nodes * sizeof(u64));
}

/* A reason of a vCPU: its slot (dense, or KVMW_NR_SLOTS + overflow). */
struct kvmw_reason_ref {
	u32 code;
	u32 slot;
};

/* The reasons of @v with a latency entry, that is all of them. */
static u32 kvmw_stats_lat_reasons(const struct kvmw_vcpu *v, u32 nr_lat,
				  struct kvmw_reason_ref *refs)
{
	u32 i, j;

	for (i = 0; i < nr_lat; i++) {
		struct kvmw_reason_ref r;

		r.slot = v->lat_slot[i];
		r.code = r.slot < KVMW_NR_SLOTS ? kvmw_slot_to_code(r.slot) :
			 READ_ONCE(v->ovf_code[r.slot - KVMW_NR_SLOTS]);
		/* Insertion sort by code: a handful, mostly in order. */
		for (j = i; j && refs[j - 1].code > r.code; j--)
			refs[j] = refs[j - 1];
		refs[j] = r;
	}
	return nr_lat;
}

static int kvmw_cmp_reason_ref(const void *a, const void *b)
{
	const struct kvmw_reason_ref *x = a, *y = b;

	return (x->code > y->code) - (x->code < y->code);
}

/* The reasons of @v whose latency table is full: every slot in use. */
static u32 kvmw_stats_all_reasons(const struct kvmw_vcpu *v,
				  struct kvmw_reason_ref *refs)
{
	unsigned int i;
	u32 n = 0, direct;

	for (i = 0; i < KVMW_NR_SLOTS; i++)
		if (READ_ONCE(v->counts[i]))
			refs[n++] = (struct kvmw_reason_ref){
				.code = kvmw_slot_to_code(i), .slot = i };
	direct = n;
	for (i = 0; i < KVMW_NR_OVERFLOW; i++)
		/* Pairs with the release in kvmw_account_overflow(). */
		if (smp_load_acquire(&v->ovf_count[i]))
			refs[n++] = (struct kvmw_reason_ref){
				.code = READ_ONCE(v->ovf_code[i]),
				.slot = KVMW_NR_SLOTS + i };
	/* Dense slots come in code order; rare overflow codes may not. */
	if (n > direct)
		sort(refs, n, sizeof(*refs), kvmw_cmp_reason_ref, NULL);
	return n;
}

/*
 * Sums over a vCPU's reasons that its record carries: exits, the split
 * of the time after them, and (VMX) the EPT_MISCONFIG exits counted as
 * faults.
 */
struct kvmw_reason_sums {
	u64 exits;
	u64 exit_ns, idle_ns, user_ns, overhead_ns;
	u64 misconfig, misconfig_ns, misconfig_max;
	const u64 *misconfig_hist;
};

/* Write the record of reason @ref of @v and add it to @s. */
static void kvmw_stats_fill_reason(const struct kvmw_vcpu *v,
				   const struct kvmw_reason_ref *ref,
				   u32 vcpu_index, u32 vendor, u64 count,
				   struct kvmw_reason_rec *r,
				   struct kvmw_reason_sums *s)
{
	const struct kvmw_lat *e = kvmw_slot_lat(v, ref->slot);
	const u32 *off = kvmw_off_reason;
	u64 *val = r->values;
	u64 total, min, user;

	r->reason = ref->code;
	r->category = kvmw_reason_category(vendor, ref->code);
	r->vcpu_index = vcpu_index;
	r->flags = 0;
	if (r->category == KVMW_CAT_HALT)
		r->flags |= KVMW_REASON_F_IDLE;
	val[off[KVMW_SR_EXITS]] = count;
	s->exits += count;
	/*
	 * On VMX, only an emulated-MMIO page's first access is an EPT
	 * violation: KVM then installs a misconfigured entry, and later
	 * accesses exit as EPT_MISCONFIG, which does not trace
	 * kvm_page_fault. They are the MMIO faults SVM reports as
	 * reserved-bit NPFs, so they count as faults (MMIO, no backing
	 * page, their exit latency as fault latency) for both vendors to
	 * agree; the exit carries no access type.
	 */
	if (vendor == KVMW_VENDOR_VMX &&
	    ref->code == EXIT_REASON_EPT_MISCONFIG) {
		s->misconfig = count;
		s->misconfig_hist = &val[off[KVMW_SR_HIST]];
	}
	if (!e) {
		r->flags |= KVMW_REASON_F_UNTIMED;
		val[off[KVMW_SR_LAT]] = 0;
		val[off[KVMW_SR_LAT_MIN]] = 0;
		val[off[KVMW_SR_LAT_MAX]] = 0;
		val[off[KVMW_SR_USER_EXITS]] = 0;
		val[off[KVMW_SR_USER_TIME]] = 0;
		memset(&val[off[KVMW_SR_HIST]], 0,
		       KVMW_LAT_BUCKETS * sizeof(u64));
		return;
	}
	total = READ_ONCE(e->total_ns);
	min = READ_ONCE(e->min_ns);
	user = READ_ONCE(e->user_ns);
	val[off[KVMW_SR_LAT]] = total;
	val[off[KVMW_SR_LAT_MIN]] = min == U64_MAX ? 0 : min;
	val[off[KVMW_SR_LAT_MAX]] = READ_ONCE(e->max_ns);
	val[off[KVMW_SR_USER_EXITS]] = READ_ONCE(e->user_n);
	val[off[KVMW_SR_USER_TIME]] = user;
	kvmw_copy_values(&val[off[KVMW_SR_HIST]], e->hist, KVMW_LAT_BUCKETS);

	s->exit_ns += total;
	if (r->flags & KVMW_REASON_F_IDLE) {
		s->idle_ns += total;
	} else {
		/* A racing reader may see user_ns updated first. */
		user = min(user, total);
		s->user_ns += user;
		s->overhead_ns += total - user;
	}
	if (s->misconfig_hist == &val[off[KVMW_SR_HIST]]) {
		s->misconfig_ns = total;
		s->misconfig_max = val[off[KVMW_SR_LAT_MAX]];
	}
}

/*
 * The reasons of @v as records from index @first on (at most @room), in
 * code order; returns how many were written and adds them to @s.
 */
static u32 kvmw_stats_fill_reasons(struct kvmw_stats_build *b,
				   const struct kvmw_vcpu *v, u32 vcpu_index,
				   u32 vendor, u32 first,
				   struct kvmw_reason_sums *s)
{
	struct kvmw_reason_ref refs[KVMW_NR_SLOTS + KVMW_NR_OVERFLOW];
	/* Pairs with the release in the exit probe's kvmw_lat_assign(). */
	u32 nr_lat = smp_load_acquire(&v->nr_lat);
	u32 room = b->rcap - first, i, n = 0, nr;

	if (nr_lat < KVMW_LAT_REASONS)
		nr = kvmw_stats_lat_reasons(v, nr_lat, refs);
	else
		nr = kvmw_stats_all_reasons(v, refs);
	for (i = 0; i < nr; i++) {
		const struct kvmw_reason_ref *ref = &refs[i];
		u64 c;

		if (ref->slot < KVMW_NR_SLOTS)
			c = READ_ONCE(v->counts[ref->slot]);
		else
			/* Pairs with the release in kvmw_account_overflow(). */
			c = smp_load_acquire(&v->ovf_count[ref->slot -
							   KVMW_NR_SLOTS]);
		/* A latency entry is given out before the first count. */
		if (!c)
			continue;
		if (n == room) {
			b->truncated = true;
			break;
		}
		kvmw_stats_fill_reason(v, ref, vcpu_index, vendor, c,
				       kvmw_stats_reason_at(b->a, first + n),
				       s);
		n++;
	}
	return n;
}

/* Write the record of @v, whose reasons are the records [@first, +@nr). */
static void kvmw_stats_fill_vcpu(const struct kvmw_vcpu *v, u32 vm_index,
				 u32 first, u32 nr,
				 const struct kvmw_reason_sums *s,
				 struct kvmw_vcpu_rec *r)
{
	const struct kvmw_faults *f = &v->faults;
	const struct kvmw_sched *sc = &v->sched;
	const u32 *off = kvmw_off_vcpu;
	u64 *val = r->values;
	u64 overflow = READ_ONCE(v->overflow_exits);
	u64 fmax = READ_ONCE(f->max_ns);
	u32 cpu = READ_ONCE(sc->last_cpu);
	u64 *hist;
	unsigned int i;

	r->vm_index = vm_index;
	r->vcpu_id = v->vcpu_id;
	r->tid = READ_ONCE(v->tid);
	r->first_reason = first;
	r->nr_reasons = nr;
	r->reserved = 0;

	val[off[KVMW_SC_EXITS]] = s->exits + overflow;
	val[off[KVMW_SC_ENTRIES]] = READ_ONCE(v->entries);
	val[off[KVMW_SC_OVERFLOW]] = overflow;
	val[off[KVMW_SC_UNTIMED]] = READ_ONCE(v->untimed_exits);
	val[off[KVMW_SC_GUEST]] = kvmw_clock_to_ns(READ_ONCE(v->guest_t));
	val[off[KVMW_SC_EXIT_TIME]] = s->exit_ns;
	val[off[KVMW_SC_IDLE]] = s->idle_ns;
	val[off[KVMW_SC_USER]] = s->user_ns;
	val[off[KVMW_SC_OVERHEAD]] = s->overhead_ns;

	val[off[KVMW_SC_FAULTS]] = READ_ONCE(f->n) + s->misconfig;
	val[off[KVMW_SC_F_MMIO]] = READ_ONCE(f->mmio) + s->misconfig;
	val[off[KVMW_SC_F_WRITE]] = READ_ONCE(f->write);
	val[off[KVMW_SC_F_FETCH]] = READ_ONCE(f->fetch);
	val[off[KVMW_SC_F_PRESENT]] = READ_ONCE(f->present);
	val[off[KVMW_SC_F_TIME]] = READ_ONCE(f->total_ns) + s->misconfig_ns;
	val[off[KVMW_SC_F_TIME_MAX]] = max(fmax, s->misconfig_max);
	val[off[KVMW_SC_F_NODE_UNKNOWN]] = READ_ONCE(f->node_unknown) +
					   s->misconfig;
	kvmw_copy_values(&val[off[KVMW_SC_F_NODE]], f->node, kvmw_stat_nodes);
	hist = &val[off[KVMW_SC_F_HIST]];
	kvmw_copy_values(hist, f->hist, KVMW_LAT_BUCKETS);
	if (s->misconfig_hist)
		for (i = 0; i < KVMW_LAT_BUCKETS; i++)
			hist[i] += s->misconfig_hist[i];

	val[off[KVMW_SC_RQ_DELAY]] = READ_ONCE(sc->rq_delay_ns);
	val[off[KVMW_SC_RQ_WAITS]] = READ_ONCE(sc->rq_delay_n);
	val[off[KVMW_SC_RQ_MAX]] = READ_ONCE(sc->rq_delay_max);
	val[off[KVMW_SC_PREEMPT]] = READ_ONCE(sc->preemptions);
	val[off[KVMW_SC_SLEEPS]] = READ_ONCE(sc->sleeps);
	val[off[KVMW_SC_MIGR]] = READ_ONCE(sc->migrations);
	val[off[KVMW_SC_NODE_MIGR]] = READ_ONCE(sc->node_migrations);
	val[off[KVMW_SC_LAST_CPU]] = cpu;
	val[off[KVMW_SC_LAST_NODE]] = cpu < nr_cpu_ids ? cpu_to_node(cpu) :
				      KVMW_CPU_NONE;
	kvmw_copy_values(&val[off[KVMW_SC_RUN_NODE]], sc->run_node_ns,
			 kvmw_stat_nodes);
	kvmw_copy_values(&val[off[KVMW_SC_RQ_HIST]], sc->rq_hist,
			 KVMW_LAT_BUCKETS);
}

static int kvmw_cmp_vcpu(const void *a, const void *b)
{
	const struct kvmw_vcpu *x = *(const struct kvmw_vcpu * const *)a;
	const struct kvmw_vcpu *y = *(const struct kvmw_vcpu * const *)b;

	return (x->vcpu_id > y->vcpu_id) - (x->vcpu_id < y->vcpu_id);
}

/* Append VM @vm (record @vm_index) with its vCPUs and reasons. */
static void kvmw_stats_fill_one(struct kvmw_stats_build *b,
				struct kvmw_vm *vm, u32 vm_index)
{
	struct kvmw_stats_answer *a = b->a;
	u32 vendor = READ_ONCE(vm->vendor);
	/* The VM may have grown since the counting pass. */
	u32 room = min(b->vcap - a->nv, b->most), first = a->nv, i, n = 0;
	struct kvmw_vcpu *v;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		if (n == room) {
			b->truncated = true;
			break;
		}
		b->recs[n++] = v;
	}
	/* Records are usually found in vcpu_id order already. */
	for (i = 1; i < n; i++)
		if (b->recs[i - 1]->vcpu_id > b->recs[i]->vcpu_id)
			break;
	if (i < n)
		sort(b->recs, n, sizeof(*b->recs), kvmw_cmp_vcpu, NULL);
	for (i = 0; i < n; i++) {
		struct kvmw_reason_sums s = {};
		u32 nr = kvmw_stats_fill_reasons(b, b->recs[i], a->nv, vendor,
						 a->nr, &s);

		kvmw_stats_fill_vcpu(b->recs[i], vm_index, a->nr, nr, &s,
				     kvmw_stats_vcpu_at(a, a->nv));
		a->nr += nr;
		a->nv++;
		/* A large answer must not hog the CPU (kvmw_mutex sleeps). */
		if (!((i + 1) % 64))
			cond_resched();
	}
	kvmw_stats_fill_vm(vm, first, n, kvmw_stats_vm_at(a, vm_index));
}

void kvmw_stats_answer_free(struct kvmw_stats_answer *a)
{
	kvfree(a->vms);
	kvfree(a->vcpus);
	kvfree(a->reasons);
	a->vms = NULL;
	a->vcpus = NULL;
	a->reasons = NULL;
}

/*
 * Buffers for @b's capacities. Not zeroed: every byte of every record
 * returned is written by the fill functions.
 */
static int kvmw_stats_alloc(struct kvmw_stats_build *b)
{
	struct kvmw_stats_answer *a = b->a;

	a->vms = kvmalloc_array(max(b->vmcap, 1U), a->vm_size, GFP_KERNEL);
	a->vcpus = kvmalloc_array(max(b->vcap, 1U), a->vcpu_size, GFP_KERNEL);
	a->reasons = kvmalloc_array(max(b->rcap, 1U), a->reason_size,
				    GFP_KERNEL);
	b->recs = kvmalloc_array(max(b->most, 1U), sizeof(*b->recs),
				 GFP_KERNEL);
	if (a->vms && a->vcpus && a->reasons && b->recs)
		return 0;
	kvfree(b->recs);
	b->recs = NULL;
	kvmw_stats_answer_free(a);
	return -ENOMEM;
}

/**
 * kvmw_stats_build() - the records of one VM or of every VM
 * @one: the VM, or NULL for every VM
 * @a: the answer: buffers (freed with kvmw_stats_answer_free()) and the
 *	number of records in each
 *
 * One counting pass sizes the buffers, one fill pass writes the records.
 * VMs can gain vCPUs and reasons, and new VMs appear, in between; then
 * the answer is built again with some headroom, so that nothing that
 * existed when the call began is left out. After a third try what still
 * does not fit waits for the next call. Caller holds kvmw_mutex.
 *
 * Return: 0 or -ENOMEM.
 */
int kvmw_stats_build(struct kvmw_vm *one, struct kvmw_stats_answer *a)
{
	struct kvmw_stats_build b;
	unsigned int tries;
	struct kvmw_vm *vm;
	u32 most;

	for (tries = 0; ; tries++) {
		kvmw_stats_count_most(one, a, &most);
		memset(&b, 0, sizeof(b));
		b.a = a;
		b.vmcap = a->nvm;
		b.vcap = a->nv;
		b.rcap = a->nr;
		b.most = most;
		if (tries) {
			b.vmcap += 4;
			b.vcap += b.vcap / 4 + 8;
			b.rcap += b.rcap / 4 + 64;
			b.most += b.most / 4 + 8;
		}
		a->vm_size = sizeof(struct kvmw_vm_rec) +
			     kvmw_scope_values[KVMW_SCOPE_VM] * sizeof(u64);
		a->vcpu_size = sizeof(struct kvmw_vcpu_rec) +
			       kvmw_scope_values[KVMW_SCOPE_VCPU] * sizeof(u64);
		a->reason_size = sizeof(struct kvmw_reason_rec) +
			kvmw_scope_values[KVMW_SCOPE_REASON] * sizeof(u64);
		if (kvmw_stats_alloc(&b))
			return -ENOMEM;
		a->nvm = 0;
		a->nv = 0;
		a->nr = 0;
		if (one) {
			kvmw_stats_fill_one(&b, one, 0);
			a->nvm = 1;
		} else {
			list_for_each_entry_rcu(vm, &kvmw_vms, node,
						lockdep_is_held(&kvmw_mutex)) {
				if (a->nvm == b.vmcap) {
					b.truncated = true;
					break;
				}
				kvmw_stats_fill_one(&b, vm, a->nvm);
				a->nvm++;
			}
		}
		kvfree(b.recs);
		if (!b.truncated || tries == 2)
			return 0;
		kvmw_stats_answer_free(a);
	}
}
