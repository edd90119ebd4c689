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
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/uaccess.h>

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
	KVMW_SV_B_MODE,
	KVMW_SV_B_TRIPPED,
	KVMW_SV_B_TOKENS,
	KVMW_SV_B_DEBT,
	KVMW_SV_N_POLICY,
	KVMW_SV_N_NODE,
	KVMW_SV_N_MOVES,
	KVMW_SV_N_DWELL,
	KVMW_SV_N_HYST,
	KVMW_SV_N_RATE,
	KVMW_SV_N_CONFLICT,
	KVMW_SV_N_LOCAL,
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
	KVMW_SC_B_CHARGED,
	KVMW_SC_B_OVERRUNS,
	KVMW_SC_B_PARKS,
	KVMW_SC_B_PARKED,
	KVMW_SC_B_WOULD_PARK,
	KVMW_SC_N_MOVES,
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
#define BUCKETS(n, k, u) { .name = (n), .kind = (k), .unit = (u),	\
			  .flags = KVMW_STAT_F_PER_BUCKET,		\
			  .count = KVMW_BUDGET_MAX_BUCKETS }
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

	/*
	 * Exit budget (kvmw_budget.c): the mode in force (KVMW_BUDGET_*),
	 * whether the guard tripped, and per bucket the tokens left and
	 * the tokens owed (0 for buckets the budget does not have).
	 */
	[KVMW_SV_B_MODE] = ONE("budget_mode", G, KVMW_UNIT_STATE),
	[KVMW_SV_B_TRIPPED] = ONE("budget_tripped", G, KVMW_UNIT_STATE),
	[KVMW_SV_B_TOKENS] = BUCKETS("budget_tokens", G, KVMW_UNIT_COUNT),
	[KVMW_SV_B_DEBT] = BUCKETS("budget_debt", G, KVMW_UNIT_COUNT),

	/*
	 * NUMA placement (kvmw_numa.c): the policy (KVMW_NUMA_*), its
	 * current node, placements, moves held back by cause, and the
	 * per mille of sampled memory on the policy's node(s).
	 */
	[KVMW_SV_N_POLICY] = ONE("numa_policy", G, KVMW_UNIT_STATE),
	[KVMW_SV_N_NODE] = ONE("numa_node", G, KVMW_UNIT_ID),
	[KVMW_SV_N_MOVES] = ONE("numa_moves", C, KVMW_UNIT_COUNT),
	[KVMW_SV_N_DWELL] = ONE("numa_suppressed_dwell", C, KVMW_UNIT_COUNT),
	[KVMW_SV_N_HYST] = ONE("numa_suppressed_hysteresis", C,
			       KVMW_UNIT_COUNT),
	[KVMW_SV_N_RATE] = ONE("numa_suppressed_rate", C, KVMW_UNIT_COUNT),
	[KVMW_SV_N_CONFLICT] = ONE("numa_suppressed_conflict", C,
				   KVMW_UNIT_COUNT),
	[KVMW_SV_N_LOCAL] = ONE("numa_local_share", G, KVMW_UNIT_COUNT),
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

	/* The vCPU's side of its VM's budget: struct kvmw_vcpu_budget. */
	[KVMW_SC_B_CHARGED] = ONE("budget_charged", C, KVMW_UNIT_COUNT),
	[KVMW_SC_B_OVERRUNS] = ONE("budget_overruns", C, KVMW_UNIT_COUNT),
	[KVMW_SC_B_PARKS] = ONE("budget_parks", C, KVMW_UNIT_COUNT),
	[KVMW_SC_B_PARKED] = ONE("budget_parked_time", C, KVMW_UNIT_NS),
	[KVMW_SC_B_WOULD_PARK] = ONE("budget_would_park_time", C,
				     KVMW_UNIT_NS),

	/* NUMA placements of the vCPU's thread (kvmw_numa.c). */
	[KVMW_SC_N_MOVES] = ONE("numa_moves", C, KVMW_UNIT_COUNT),
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
#undef BUCKETS
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

	/* The records count every node of the host. */
	kvmw_stat_nodes = kvmw_nr_nodes();
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

/* Four at a time: histograms are most of the values (32 per record). */
static void kvmw_copy_values(u64 *dst, const u64 *src, unsigned int n)
{
	unsigned int i;

	for (i = 0; i + 4 <= n; i += 4) {
		dst[i] = READ_ONCE(src[i]);
		dst[i + 1] = READ_ONCE(src[i + 1]);
		dst[i + 2] = READ_ONCE(src[i + 2]);
		dst[i + 3] = READ_ONCE(src[i + 3]);
	}
	for (; i < n; i++)
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
 * struct kvmw_user_array - one array of records of the caller's
 * @ptr: user address of its first record
 * @usize: bytes per record there
 * @cap: records it holds
 * @ksize: bytes per record in the module (header and values)
 * @rec: one record as the module lays it out, @ksize bytes
 */
struct kvmw_user_array {
	void __user *ptr;
	size_t usize;
	u32 cap;
	size_t ksize;
	void *rec;
};

/*
 * The answer being written: the caller's three arrays, @recs room for the
 * vCPUs of the largest VM (@most), the counts so far in @a (records
 * beyond an array's capacity are counted, not written), whether a VM
 * outgrew @recs (@truncated) and whether a write faulted.
 */
struct kvmw_stats_build {
	struct kvmw_stats_answer *a;
	struct kvmw_user_array vms, vcpus, reasons;
	struct kvmw_vcpu **recs;
	u32 most;
	bool truncated;
	bool fault;
};

/*
 * Copy the record staged in @arr->rec to record @i of the caller's array,
 * cut short or zero-extended to its size. Page faults are disabled by the
 * caller: a page that is not present ends the copy with -EFAULT, and the
 * caller faults it in without kvmw_mutex and tries again. Words are moved
 * one by one rather than with copy_to_user(): see "Snapshot cost" in
 * Documentation/design.rst.
 */
static int kvmw_put_rec(struct kvmw_user_array *arr, u32 i)
{
	size_t n = min(arr->ksize, arr->usize), k;
	void __user *dst = arr->ptr + (size_t)i * arr->usize;
	const u64 *src = arr->rec;
	const u8 *src8 = arr->rec;

	if (!user_access_begin(dst, arr->usize))
		return -EFAULT;
	for (k = 0; k + 4 * sizeof(u64) <= n; k += 4 * sizeof(u64)) {
		u64 __user *d = dst + k;
		const u64 *w = &src[k / sizeof(u64)];

		unsafe_put_user(w[0], d, efault);
		unsafe_put_user(w[1], d + 1, efault);
		unsafe_put_user(w[2], d + 2, efault);
		unsafe_put_user(w[3], d + 3, efault);
	}
	for (; k + sizeof(u64) <= n; k += sizeof(u64))
		unsafe_put_user(src[k / sizeof(u64)], (u64 __user *)(dst + k),
				efault);
	for (; k < n; k++)
		unsafe_put_user(src8[k], (u8 __user *)(dst + k), efault);
	for (; k + sizeof(u64) <= arr->usize; k += sizeof(u64))
		unsafe_put_user(0ULL, (u64 __user *)(dst + k), efault);
	for (; k < arr->usize; k++)
		unsafe_put_user((u8)0, (u8 __user *)(dst + k), efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Record @i of @arr is staged: write it if it fits (else counted only). */
static void kvmw_stats_put(struct kvmw_stats_build *b,
			   struct kvmw_user_array *arr, u32 i)
{
	if (i < arr->cap && !b->fault && kvmw_put_rec(arr, i))
		b->fault = true;
}

/* The numa_* values of @vm (kvmw_numa.c), through the VM offsets @off. */
static void kvmw_stats_numa(struct kvmw_vm *vm, u64 *val, const u32 *off)
{
	static const u8 idx[KVMW_NUMA_R_NR] = {
		[KVMW_NUMA_R_POLICY] = KVMW_SV_N_POLICY,
		[KVMW_NUMA_R_NODE] = KVMW_SV_N_NODE,
		[KVMW_NUMA_R_MOVES] = KVMW_SV_N_MOVES,
		[KVMW_NUMA_R_DWELL] = KVMW_SV_N_DWELL,
		[KVMW_NUMA_R_HYST] = KVMW_SV_N_HYST,
		[KVMW_NUMA_R_RATE] = KVMW_SV_N_RATE,
		[KVMW_NUMA_R_CONFLICT] = KVMW_SV_N_CONFLICT,
		[KVMW_NUMA_R_LOCAL] = KVMW_SV_N_LOCAL,
	};
	u64 n[KVMW_NUMA_R_NR];
	unsigned int i;

	kvmw_numa_read(vm, n);
	for (i = 0; i < KVMW_NUMA_R_NR; i++)
		val[off[idx[i]]] = n[i];
}

static void kvmw_stats_fill_vm(struct kvmw_vm *vm, u32 first_vcpu,
			       u32 nr_vcpus, struct kvmw_vm_rec *r)
{
	/* Every byte of @r is written: it is copied out whole. */
	const u32 *off = kvmw_off_vm;
	u64 gone = READ_ONCE(vm->gone_ns);
	struct kvmw_mem_pass mem;
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

	kvmw_mem_read(vm, &mem, &val[off[KVMW_SV_MEM_NODE]]);
	val[off[KVMW_SV_MEM_PAGES]] = mem.pages;
	val[off[KVMW_SV_MEM_STRIDE]] = mem.stride;
	val[off[KVMW_SV_MEM_SAMPLES]] = mem.sampled;
	val[off[KVMW_SV_MEM_UNMAPPED]] = mem.unmapped;
	val[off[KVMW_SV_MEM_NODE_UNKNOWN]] = mem.node_unknown;
	val[off[KVMW_SV_MEM_PASSES]] = mem.passes;
	val[off[KVMW_SV_MEM_PASS_TIME]] = mem.pass_ns;
	kvmw_budget_read(vm, &val[off[KVMW_SV_B_MODE]],
			 &val[off[KVMW_SV_B_TRIPPED]], &val[off[KVMW_SV_B_TOKENS]],
			 &val[off[KVMW_SV_B_DEBT]]);
	kvmw_stats_numa(vm, val, off);
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

/* Write the @nr reasons @refs of @v from record @first on; see below. */
static u32 kvmw_stats_emit_reasons(struct kvmw_stats_build *b,
				   const struct kvmw_vcpu *v,
				   const struct kvmw_reason_ref *refs, u32 nr,
				   u32 vcpu_index, u32 vendor, u32 first,
				   struct kvmw_reason_sums *s)
{
	u32 i, n = 0;

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
		kvmw_stats_fill_reason(v, ref, vcpu_index, vendor, c,
				       b->reasons.rec, s);
		kvmw_stats_put(b, &b->reasons, first + n);
		n++;
	}
	return n;
}

/*
 * The rare case of a vCPU whose latency table is full: its reasons are
 * found among all slots. Out of line, as its array of every slot would
 * otherwise be on the common path's stack (and zeroed there on kernels
 * built with CONFIG_INIT_STACK_ALL_ZERO, 1.5 KiB per vCPU).
 */
static noinline u32 kvmw_stats_fill_all_reasons(struct kvmw_stats_build *b,
						const struct kvmw_vcpu *v,
						u32 vcpu_index, u32 vendor,
						u32 first,
						struct kvmw_reason_sums *s)
{
	struct kvmw_reason_ref refs[KVMW_NR_SLOTS + KVMW_NR_OVERFLOW];
	u32 nr = kvmw_stats_all_reasons(v, refs);

	return kvmw_stats_emit_reasons(b, v, refs, nr, vcpu_index, vendor,
				       first, s);
}

/*
 * The reasons of @v as records from index @first on, in code order;
 * returns how many there are and adds them to @s.
 */
static u32 kvmw_stats_fill_reasons(struct kvmw_stats_build *b,
				   const struct kvmw_vcpu *v, u32 vcpu_index,
				   u32 vendor, u32 first,
				   struct kvmw_reason_sums *s)
{
	struct kvmw_reason_ref refs[KVMW_LAT_REASONS];
	/* Pairs with the release in the exit probe's kvmw_lat_assign(). */
	u32 nr_lat = smp_load_acquire(&v->nr_lat);

	if (nr_lat >= KVMW_LAT_REASONS)
		return kvmw_stats_fill_all_reasons(b, v, vcpu_index, vendor,
						   first, s);
	kvmw_stats_lat_reasons(v, nr_lat, refs);
	return kvmw_stats_emit_reasons(b, v, refs, nr_lat, vcpu_index, vendor,
				       first, s);
}

/* Write the record of @v, whose reasons are the records [@first, +@nr). */
static void kvmw_stats_fill_vcpu(struct kvmw_vcpu *v, u32 vm_index,
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
	kvmw_copy_values(&val[off[KVMW_SC_F_NODE]], kvmw_fault_nodes(v),
			 kvmw_stat_nodes);
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
	kvmw_copy_values(&val[off[KVMW_SC_RUN_NODE]], kvmw_run_nodes(v),
			 kvmw_stat_nodes);
	kvmw_copy_values(&val[off[KVMW_SC_RQ_HIST]], sc->rq_hist,
			 KVMW_LAT_BUCKETS);
	val[off[KVMW_SC_B_CHARGED]] = READ_ONCE(v->budget.charged);
	val[off[KVMW_SC_B_OVERRUNS]] = READ_ONCE(v->budget.overruns);
	val[off[KVMW_SC_B_PARKS]] = READ_ONCE(v->budget.parks);
	val[off[KVMW_SC_B_PARKED]] = READ_ONCE(v->budget.parked_ns);
	val[off[KVMW_SC_B_WOULD_PARK]] = READ_ONCE(v->budget.would_park_ns);
	val[off[KVMW_SC_N_MOVES]] = READ_ONCE(v->numa_moves);
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
	u32 first = a->nv, i, n = 0;
	struct kvmw_vcpu *v;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		/* The VM grew since the counting pass: run the pass again. */
		if (n == b->most) {
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
	for (i = 0; i < n && !b->fault; i++) {
		struct kvmw_reason_sums s = {};
		u32 nr = kvmw_stats_fill_reasons(b, b->recs[i], a->nv, vendor,
						 a->nr, &s);

		kvmw_stats_fill_vcpu(b->recs[i], vm_index, a->nr, nr, &s,
				     b->vcpus.rec);
		kvmw_stats_put(b, &b->vcpus, a->nv);
		a->nr += nr;
		a->nv++;
		/* A large answer must not hog the CPU (kvmw_mutex sleeps). */
		if (!((i + 1) % 64))
			cond_resched();
	}
	kvmw_stats_fill_vm(vm, first, a->nv - first, b->vms.rec);
	kvmw_stats_put(b, &b->vms, vm_index);
}

static void kvmw_user_array_init(struct kvmw_user_array *arr, u64 ptr,
				 u32 usize, u32 cap, u32 scope, size_t hdr)
{
	arr->ptr = u64_to_user_ptr(ptr);
	arr->usize = usize;
	arr->cap = cap;
	arr->ksize = hdr + kvmw_scope_values[scope] * sizeof(u64);
	arr->rec = NULL;
}

static void kvmw_stats_build_free(struct kvmw_stats_build *b)
{
	kvfree(b->vms.rec);
	kvfree(b->vcpus.rec);
	kvfree(b->reasons.rec);
	kvfree(b->recs);
}

/*
 * Fault in the part of @arr an answer of @nr records writes, without
 * writing to it (fault_in_writeable() would store zeroes, also past the
 * records the answer ends up having).
 */
static int kvmw_user_array_fault_in(const struct kvmw_user_array *arr, u32 nr)
{
	size_t len = (size_t)min(nr, arr->cap) * arr->usize;

	return fault_in_safe_writeable(arr->ptr, len) ? -EFAULT : 0;
}

/* Passes a read makes before it gives up (pages keep going away). */
#define KVMW_STATS_TRIES	8

/**
 * kvmw_stats_read() - answer KVMW_IOC_STATS_READ
 * @req: the caller's request, its sizes checked; the counts and @time_ns
 *	are set when the return value is 0 or -E2BIG
 *
 * A counting pass sizes the answer; when the caller's arrays hold it, a
 * fill pass writes every record straight into them, under kvmw_mutex
 * with page faults disabled, so the mutex never waits for a page fault
 * and no buffer of the answer's size is allocated, zeroed, copied and
 * freed. A write that finds its page missing ends the pass: the pages
 * are faulted in without the mutex and the pass runs again, as it does
 * when a VM gained vCPUs between the two passes.
 *
 * Return: 0, -ENOENT (unknown @req->vm_id), -E2BIG (a capacity too
 * small; when VMs grew during the call beyond the capacities, the arrays
 * may hold part of an answer), -EFAULT or -ENOMEM.
 */
int kvmw_stats_read(struct kvmw_stats_read *req)
{
	bool count = !req->max_vms && !req->max_vcpus && !req->max_reasons;
	struct kvmw_stats_build b = {};
	struct kvmw_stats_answer a = {};
	struct kvmw_vm *vm;
	unsigned int tries;
	u32 most, cv, cr;
	int ret = 0;

	b.a = &a;
	kvmw_user_array_init(&b.vms, req->vms_ptr, req->vm_rec_size,
			     req->max_vms, KVMW_SCOPE_VM,
			     sizeof(struct kvmw_vm_rec));
	kvmw_user_array_init(&b.vcpus, req->vcpus_ptr, req->vcpu_rec_size,
			     req->max_vcpus, KVMW_SCOPE_VCPU,
			     sizeof(struct kvmw_vcpu_rec));
	kvmw_user_array_init(&b.reasons, req->reasons_ptr,
			     req->reason_rec_size, req->max_reasons,
			     KVMW_SCOPE_REASON, sizeof(struct kvmw_reason_rec));
	if (!count) {
		b.vms.rec = kvmalloc(b.vms.ksize, GFP_KERNEL);
		b.vcpus.rec = kvmalloc(b.vcpus.ksize, GFP_KERNEL);
		b.reasons.rec = kvmalloc(b.reasons.ksize, GFP_KERNEL);
		if (!b.vms.rec || !b.vcpus.rec || !b.reasons.rec) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (tries = 0; ; tries++) {
		mutex_lock(&kvmw_mutex);
		kvmw_sweep();
		vm = NULL;
		if (req->vm_id) {
			vm = kvmw_vm_by_id(req->vm_id);
			if (!vm) {
				ret = -ENOENT;
				goto unlock;
			}
		}
		kvmw_stats_count_most(vm, &a, &most);
		if (count || a.nvm > req->max_vms || a.nv > req->max_vcpus ||
		    a.nr > req->max_reasons) {
			ret = count ? 0 : -E2BIG;
			goto unlock;
		}
		cv = a.nv;
		cr = a.nr;
		if (most > b.most) {
			kvfree(b.recs);
			b.most = most + most / 4 + 8;
			b.recs = kvmalloc_array(b.most, sizeof(*b.recs),
						GFP_KERNEL);
			if (!b.recs) {
				b.most = 0;
				ret = -ENOMEM;
				goto unlock;
			}
		}
		a.nvm = 0;
		a.nv = 0;
		a.nr = 0;
		b.truncated = false;
		b.fault = false;
		pagefault_disable();
		if (vm) {
			kvmw_stats_fill_one(&b, vm, 0);
			a.nvm = 1;
		} else {
			list_for_each_entry_rcu(vm, &kvmw_vms, node,
						lockdep_is_held(&kvmw_mutex)) {
				kvmw_stats_fill_one(&b, vm, a.nvm);
				a.nvm++;
			}
		}
		pagefault_enable();
		if (b.fault || b.truncated)
			ret = -EAGAIN;
		else if (a.nvm > req->max_vms || a.nv > req->max_vcpus ||
			 a.nr > req->max_reasons)
			ret = -E2BIG;
		else
			ret = 0;
unlock:
		req->time_ns = ktime_get_boottime_ns();
		mutex_unlock(&kvmw_mutex);
		if (ret != -EAGAIN)
			break;
		if (tries + 1 == KVMW_STATS_TRIES) {
			ret = b.fault ? -EFAULT : -EAGAIN;
			break;
		}
		/* The answer's pages, with room for some growth. */
		if (b.fault &&
		    (kvmw_user_array_fault_in(&b.vms, a.nvm + 4) ||
		     kvmw_user_array_fault_in(&b.vcpus, cv + cv / 4 + 8) ||
		     kvmw_user_array_fault_in(&b.reasons, cr + cr / 4 + 64))) {
			ret = -EFAULT;
			break;
		}
	}
	req->nr_vms = a.nvm;
	req->nr_vcpus = a.nv;
	req->nr_reasons = a.nr;
out:
	kvmw_stats_build_free(&b);
	return ret;
}
