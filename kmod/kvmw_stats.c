// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: self-describing statistics (KVMW_IOC_STATS_DESC and
 * KVMW_IOC_STATS_READ).
 *
 * One table below names every statistic of every scope with its kind,
 * unit and histogram layout, and says where its value comes from in the
 * snapshot built by kvmw_snapshot.c. At load the table is turned into the
 * descriptors userspace reads, with the offsets of the values in a record
 * (per-node statistics take nr_nodes values, so the offsets after them
 * depend on the host). A read builds the snapshot as KVMW_IOC_SNAPSHOT_ALL
 * does and lays each VM, vCPU and reason out as a record of those values.
 * A new statistic is one line of the table: readers that look statistics
 * up by name are not affected.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <kvmwarden/categories.h>

#include "kvmw.h"

/**
 * struct kvmw_stat_def - where a statistic comes from
 * @name: its name (KVMW_STAT_NAME_LEN at most, with the NUL)
 * @scope: KVMW_SCOPE_*
 * @kind: KVMW_STAT_*
 * @unit: KVMW_UNIT_*
 * @flags: KVMW_STAT_F_*
 * @src: byte offset of its first value in the snapshot's struct of that
 *	scope (struct kvmw_vm_mem, kvmw_vcpu_info or kvmw_reason_stat)
 * @width: bytes per source value (4 or 8)
 * @count: values, unless per node (then nr_nodes)
 * @hist_type: KVMW_HIST_* of a histogram, else 0
 */
struct kvmw_stat_def {
	const char *name;
	u16 scope;
	u8 kind;
	u8 unit;
	u32 flags;
	u16 src;
	u8 width;
	u8 count;
	u32 hist_type;
};

/* A single value of struct kvmw_vcpu_info, of @w bytes (4 or 8). */
#define VCPU_W(n, k, u, f, w) {						\
	.name = (n), .scope = KVMW_SCOPE_VCPU, .kind = (k), .unit = (u), \
	.src = offsetof(struct kvmw_vcpu_info, f), .width = (w), .count = 1 }
#define VCPU(n, k, u, f)	VCPU_W(n, k, u, f, 8)
#define VCPU_U32(n, k, u, f)	VCPU_W(n, k, u, f, 4)
#define VCPU_NODES(n, k, u, f) {					\
	.name = (n), .scope = KVMW_SCOPE_VCPU, .kind = (k), .unit = (u), \
	.flags = KVMW_STAT_F_PER_NODE,					\
	.src = offsetof(struct kvmw_vcpu_info, f), .width = 8 }
#define VCPU_HIST(n, f) {						\
	.name = (n), .scope = KVMW_SCOPE_VCPU, .kind = KVMW_STAT_HIST,	\
	.unit = KVMW_UNIT_NS, .src = offsetof(struct kvmw_vcpu_info, f), \
	.width = 8, .count = KVMW_LAT_BUCKETS, .hist_type = KVMW_HIST_LOG2 }
#define REASON(n, k, u, f) {						\
	.name = (n), .scope = KVMW_SCOPE_REASON, .kind = (k), .unit = (u), \
	.src = offsetof(struct kvmw_reason_stat, f), .width = 8, .count = 1 }
#define VM(n, k, u, f) {						\
	.name = (n), .scope = KVMW_SCOPE_VM, .kind = (k), .unit = (u),	\
	.src = offsetof(struct kvmw_vm_mem, f), .width = 8, .count = 1 }

#define C KVMW_STAT_COUNTER
#define G KVMW_STAT_GAUGE

static const struct kvmw_stat_def kvmw_stat_defs[] = {
	/* Memory locality: the last complete sampling pass. */
	VM("mem_pages", G, KVMW_UNIT_PAGES, pages),
	VM("mem_stride", G, KVMW_UNIT_PAGES, stride),
	VM("mem_samples", G, KVMW_UNIT_COUNT, sampled),
	VM("mem_samples_unmapped", G, KVMW_UNIT_COUNT, unmapped),
	VM("mem_samples_node_unknown", G, KVMW_UNIT_COUNT, node_unknown),
	VM("mem_passes", C, KVMW_UNIT_COUNT, passes),
	VM("mem_pass_time", G, KVMW_UNIT_BOOTTIME_NS, pass_ns),
	{ .name = "mem_samples_node", .scope = KVMW_SCOPE_VM, .kind = G,
	  .unit = KVMW_UNIT_COUNT, .flags = KVMW_STAT_F_PER_NODE,
	  .src = offsetof(struct kvmw_vm_mem, node), .width = 8 },

	/* Exits and time. */
	VCPU("exits", C, KVMW_UNIT_COUNT, exits),
	VCPU("entries", C, KVMW_UNIT_COUNT, entries),
	VCPU("overflow_exits", C, KVMW_UNIT_COUNT, overflow_exits),
	VCPU("untimed_exits", C, KVMW_UNIT_COUNT, untimed_exits),
	VCPU("guest_time", C, KVMW_UNIT_NS, guest_ns),
	VCPU("exit_time", C, KVMW_UNIT_NS, exit_ns),
	VCPU("idle_time", C, KVMW_UNIT_NS, idle_ns),
	VCPU("user_time", C, KVMW_UNIT_NS, user_ns),
	VCPU("overhead_time", C, KVMW_UNIT_NS, overhead_ns),

	/* Nested page faults. */
	VCPU("faults", C, KVMW_UNIT_COUNT, faults),
	VCPU("faults_mmio", C, KVMW_UNIT_COUNT, fault_mmio),
	VCPU("faults_write", C, KVMW_UNIT_COUNT, fault_write),
	VCPU("faults_fetch", C, KVMW_UNIT_COUNT, fault_fetch),
	VCPU("faults_present", C, KVMW_UNIT_COUNT, fault_present),
	VCPU("fault_time", C, KVMW_UNIT_NS, fault_lat_total_ns),
	VCPU("fault_time_max", G, KVMW_UNIT_NS, fault_lat_max_ns),
	VCPU("faults_node_unknown", C, KVMW_UNIT_COUNT, fault_node_unknown),
	VCPU_NODES("faults_node", C, KVMW_UNIT_COUNT, fault_node),
	VCPU_HIST("fault_time_hist", fault_hist),

	/* The scheduler's view of the vCPU thread. */
	VCPU("rq_delay", C, KVMW_UNIT_NS, rq_delay_ns),
	VCPU("rq_waits", C, KVMW_UNIT_COUNT, rq_delay_count),
	VCPU("rq_delay_max", G, KVMW_UNIT_NS, rq_delay_max_ns),
	VCPU("preemptions", C, KVMW_UNIT_COUNT, preemptions),
	VCPU("sleeps", C, KVMW_UNIT_COUNT, sleeps),
	VCPU("migrations", C, KVMW_UNIT_COUNT, migrations),
	VCPU("node_migrations", C, KVMW_UNIT_COUNT, node_migrations),
	VCPU_U32("last_cpu", G, KVMW_UNIT_ID, last_cpu),
	VCPU_U32("last_node", G, KVMW_UNIT_ID, last_node),
	VCPU_NODES("run_time_node", C, KVMW_UNIT_NS, run_node_ns),
	VCPU_HIST("rq_delay_hist", rq_delay_hist),

	/* Per hardware reason: exits and their exit-to-entry latency. */
	REASON("exits", C, KVMW_UNIT_COUNT, count),
	REASON("latency", C, KVMW_UNIT_NS, lat_total_ns),
	REASON("latency_min", G, KVMW_UNIT_NS, lat_min_ns),
	REASON("latency_max", G, KVMW_UNIT_NS, lat_max_ns),
	REASON("user_exits", C, KVMW_UNIT_COUNT, user_count),
	REASON("user_time", C, KVMW_UNIT_NS, user_ns),
	{ .name = "latency_hist", .scope = KVMW_SCOPE_REASON,
	  .kind = KVMW_STAT_HIST, .unit = KVMW_UNIT_NS,
	  .src = offsetof(struct kvmw_reason_stat, hist), .width = 8,
	  .count = KVMW_LAT_BUCKETS, .hist_type = KVMW_HIST_LOG2 },
};

#undef C
#undef G

#define KVMW_NR_STATS	ARRAY_SIZE(kvmw_stat_defs)

/* The only 32-bit sources; every other one is a __u64 (or an array of). */
static_assert(sizeof_field(struct kvmw_vcpu_info, last_cpu) == 4);
static_assert(sizeof_field(struct kvmw_vcpu_info, last_node) == 4);

static struct kvmw_stat_desc kvmw_descs[KVMW_NR_STATS];
static u32 kvmw_stat_nodes;
/* Values per record of each scope, indexed by KVMW_SCOPE_*. */
static u32 kvmw_scope_values[KVMW_SCOPE_REASON + 1];

/* Lay the statistics out: offsets in their scope's records, in order. */
void kvmw_stats_init(void)
{
	unsigned int i;

	/* Nodes beyond the internal arrays are counted as unknown. */
	kvmw_stat_nodes = min_t(u32, nr_node_ids, KVMW_MAX_NODES);
	memset(kvmw_scope_values, 0, sizeof(kvmw_scope_values));
	for (i = 0; i < KVMW_NR_STATS; i++) {
		const struct kvmw_stat_def *def = &kvmw_stat_defs[i];
		struct kvmw_stat_desc *d = &kvmw_descs[i];

		memset(d, 0, sizeof(*d));
		strscpy(d->name, def->name, sizeof(d->name));
		d->scope = def->scope;
		d->kind = def->kind;
		d->unit = def->unit;
		d->flags = def->flags;
		d->count = def->flags & KVMW_STAT_F_PER_NODE ?
			   kvmw_stat_nodes : def->count;
		d->hist_type = def->hist_type;
		d->offset = kvmw_scope_values[def->scope];
		kvmw_scope_values[def->scope] += d->count;
	}
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

/* Copy the values of scope @scope from the snapshot struct @src. */
static void kvmw_stats_fill(u16 scope, const void *src, u64 *values)
{
	unsigned int i, j;

	for (i = 0; i < KVMW_NR_STATS; i++) {
		const struct kvmw_stat_def *def = &kvmw_stat_defs[i];
		const struct kvmw_stat_desc *d = &kvmw_descs[i];
		const void *p = src + def->src;

		if (def->scope != scope)
			continue;
		for (j = 0; j < d->count; j++) {
			if (def->width == sizeof(u32))
				values[d->offset + j] = ((const u32 *)p)[j];
			else
				values[d->offset + j] = ((const u64 *)p)[j];
		}
	}
}

/**
 * kvmw_stats_vm_rec() - a VM's record
 * @info: the VM's summary from the snapshot
 * @mem: its memory figures
 * @first_vcpu: index of its first vCPU record
 * @r: the record, with room for the VM scope's values
 */
void kvmw_stats_vm_rec(const struct kvmw_vm_info *info,
		       const struct kvmw_vm_mem *mem, u32 first_vcpu,
		       struct kvmw_vm_rec *r)
{
	r->vm_id = info->vm_id;
	r->vmm_pid = info->vmm_pid;
	r->flags = info->flags;
	r->vendor = info->vendor;
	r->nr_vcpus = info->nr_vcpus;
	r->first_vcpu = first_vcpu;
	r->first_seen_ns = info->first_seen_ns;
	r->gone_ns = info->gone_ns;
	memcpy(r->comm, info->comm, sizeof(r->comm));
	kvmw_stats_fill(KVMW_SCOPE_VM, mem, r->values);
}

/**
 * kvmw_stats_vcpu_rec() - a vCPU's record
 * @vi: the vCPU from the snapshot
 * @vm_index: index of its VM record
 * @r: the record, with room for the vCPU scope's values
 */
void kvmw_stats_vcpu_rec(const struct kvmw_vcpu_info *vi, u32 vm_index,
			 struct kvmw_vcpu_rec *r)
{
	r->vm_index = vm_index;
	r->vcpu_id = vi->vcpu_id;
	r->tid = vi->tid;
	r->first_reason = vi->first_reason;
	r->nr_reasons = vi->nr_reasons;
	kvmw_stats_fill(KVMW_SCOPE_VCPU, vi, r->values);
}

/**
 * kvmw_stats_reason_rec() - a (vCPU, reason) record
 * @rs: the reason from the snapshot
 * @vendor: KVMW_VENDOR_* of its VM
 * @r: the record, with room for the reason scope's values
 */
void kvmw_stats_reason_rec(const struct kvmw_reason_stat *rs, u32 vendor,
			   struct kvmw_reason_rec *r)
{
	r->reason = rs->reason;
	r->category = kvmw_reason_category(vendor, rs->reason);
	r->vcpu_index = rs->vcpu_index;
	r->flags = rs->flags;
	kvmw_stats_fill(KVMW_SCOPE_REASON, rs, r->values);
}
