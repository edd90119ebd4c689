// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: snapshots, the answers built from the records.
 *
 * A snapshot reads the records of one VM or of every VM in one pass, under
 * kvmw_mutex (records are unlinked only under it), with READ_ONCE() on
 * counters that the vCPU threads keep writing: each number is one that
 * was true at some moment of the pass, and the sums in the answer are
 * computed from the very numbers it returns. The cost is proportional to
 * what is returned: a vCPU's reasons are found through its latency table
 * (one entry per reason seen, while it is not full) rather than by
 * scanning every possible reason slot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/topology.h>

#include <kvmwarden/categories.h>

#include "kvmw.h"

/* Identity and state of @vm; the totals are added by the caller. */
static void kvmw_fill_vm_ident(const struct kvmw_vm *vm,
			       struct kvmw_vm_info *out)
{
	u64 gone = READ_ONCE(vm->gone_ns);

	memset(out, 0, sizeof(*out));
	out->vm_id = vm->id;
	out->vmm_pid = vm->vmm_pid;
	out->vendor = READ_ONCE(vm->vendor);
	out->first_seen_ns = vm->first_seen_ns;
	out->gone_ns = gone;
	if (gone)
		out->flags |= KVMW_VM_F_GONE;
	if (!kvmw_token_valid(vm->token))
		out->flags |= KVMW_VM_F_NO_LIFETIME;
	memcpy(out->comm, vm->comm, sizeof(out->comm));
}

void kvmw_fill_vm_info(const struct kvmw_vm *vm, struct kvmw_vm_info *out)
{
	struct kvmw_vcpu *v;

	kvmw_fill_vm_ident(vm, out);
	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		out->nr_vcpus++;
		out->exits += kvmw_vcpu_exits(v);
		out->entries += READ_ONCE(v->entries);
	}
}

static int kvmw_cmp_vcpu(const void *a, const void *b)
{
	const struct kvmw_vcpu *x = *(const struct kvmw_vcpu * const *)a;
	const struct kvmw_vcpu *y = *(const struct kvmw_vcpu * const *)b;

	return (x->vcpu_id > y->vcpu_id) - (x->vcpu_id < y->vcpu_id);
}

static int kvmw_cmp_reason(const void *a, const void *b)
{
	const struct kvmw_reason_stat *x = a, *y = b;

	return (x->reason > y->reason) - (x->reason < y->reason);
}

static void kvmw_fill_lat(struct kvmw_reason_stat *r, const struct kvmw_lat *e,
			  u32 vendor)
{
	u64 min;
	int b;

	if (kvmw_reason_category(vendor, r->reason) == KVMW_CAT_HALT)
		r->flags |= KVMW_REASON_F_IDLE;
	if (!e) {
		r->flags |= KVMW_REASON_F_UNTIMED;
		return;
	}
	r->lat_total_ns = READ_ONCE(e->total_ns);
	min = READ_ONCE(e->min_ns);
	r->lat_min_ns = min == U64_MAX ? 0 : min;
	r->lat_max_ns = READ_ONCE(e->max_ns);
	r->user_count = READ_ONCE(e->user_n);
	r->user_ns = READ_ONCE(e->user_ns);
	for (b = 0; b < KVMW_LAT_BUCKETS; b++)
		r->hist[b] = READ_ONCE(e->hist[b]);
}

/* One reason entry of @v: slot @i (dense, or KVMW_NR_SLOTS + overflow). */
static bool kvmw_fill_reason(const struct kvmw_vcpu *v, unsigned int i,
			     u32 vcpu_index, u32 vendor,
			     struct kvmw_reason_stat *r)
{
	u64 c;

	if (i < KVMW_NR_SLOTS) {
		c = READ_ONCE(v->counts[i]);
		r->reason = kvmw_slot_to_code(i);
	} else {
		/* Pairs with the release in kvmw_account_overflow(). */
		c = smp_load_acquire(&v->ovf_count[i - KVMW_NR_SLOTS]);
		r->reason = READ_ONCE(v->ovf_code[i - KVMW_NR_SLOTS]);
	}
	if (!c)
		return false;
	r->vcpu_index = vcpu_index;
	r->count = c;
	kvmw_fill_lat(r, kvmw_slot_lat(v, i), vendor);
	return true;
}

struct kvmw_slot_ref {
	u32 code;
	u32 slot;
};

static int kvmw_cmp_slot_ref(const void *a, const void *b)
{
	const struct kvmw_slot_ref *x = a, *y = b;

	return (x->code > y->code) - (x->code < y->code);
}

/*
 * Counts and latencies of @v in reason order, at most @max entries;
 * returns the number of entries written and sets *@truncated when a
 * reason did not fit (it appeared after the sizing pass).
 */
static u32 kvmw_fill_reasons(const struct kvmw_vcpu *v, u32 vcpu_index,
			     u32 vendor, struct kvmw_reason_stat *out, u32 max,
			     bool *truncated)
{
	struct kvmw_slot_ref refs[KVMW_LAT_REASONS];
	/* Pairs with the release in the exit probe's kvmw_lat_assign(). */
	u32 nr_lat = smp_load_acquire(&v->nr_lat);
	unsigned int i;
	u32 n = 0, direct;

	if (nr_lat < KVMW_LAT_REASONS) {
		/* Every reason seen has an entry: walk those, not all slots. */
		for (i = 0; i < nr_lat; i++) {
			refs[i].slot = v->lat_slot[i];
			refs[i].code = refs[i].slot < KVMW_NR_SLOTS ?
				kvmw_slot_to_code(refs[i].slot) :
				READ_ONCE(v->ovf_code[refs[i].slot -
						      KVMW_NR_SLOTS]);
		}
		sort(refs, nr_lat, sizeof(refs[0]), kvmw_cmp_slot_ref, NULL);
		for (i = 0; i < nr_lat && n < max; i++)
			n += kvmw_fill_reason(v, refs[i].slot, vcpu_index,
					      vendor, &out[n]);
		if (i < nr_lat)
			*truncated = true;
		return n;
	}

	for (i = 0; i < KVMW_NR_SLOTS && n < max; i++)
		n += kvmw_fill_reason(v, i, vcpu_index, vendor, &out[n]);
	direct = n;
	for (i = 0; i < KVMW_NR_OVERFLOW && n < max; i++)
		n += kvmw_fill_reason(v, KVMW_NR_SLOTS + i, vcpu_index, vendor,
				      &out[n]);
	/* Slots come out in code order; rare overflow codes may not. */
	if (n > direct)
		sort(out, n, sizeof(*out), kvmw_cmp_reason, NULL);
	/* Out of room: did a reason that appeared meanwhile not fit? */
	if (n == max && kvmw_vcpu_nr_reasons(v) > n)
		*truncated = true;
	return n;
}

/*
 * On VMX, only an emulated-MMIO page's first access is an EPT violation:
 * KVM then installs a misconfigured entry, and later accesses exit as
 * EPT_MISCONFIG, which does not trace kvm_page_fault. They are the MMIO
 * faults SVM reports as reserved-bit NPFs, so they are counted as faults
 * here (MMIO, no backing page, their exit latency as fault latency) for
 * both vendors to agree; the exit carries no access type, so they count
 * as neither write nor fetch.
 */
static void kvmw_fill_misconfig(const struct kvmw_reason_stat *r,
				struct kvmw_vcpu_info *vi)
{
	int i;

	vi->faults += r->count;
	vi->fault_mmio += r->count;
	vi->fault_node_unknown += r->count;
	vi->fault_lat_total_ns += r->lat_total_ns;
	vi->fault_lat_max_ns = max(vi->fault_lat_max_ns, r->lat_max_ns);
	for (i = 0; i < KVMW_LAT_BUCKETS; i++)
		vi->fault_hist[i] += r->hist[i];
}

/*
 * API 1's per-node arrays stop at KVMW_MAX_NODES: nodes above count as
 * unknown there, as they always did.
 */
static u64 kvmw_fill_nodes_v1(u64 *dst, const u64 *src)
{
	unsigned int i, n = kvmw_nr_nodes();
	u64 above = 0;

	for (i = 0; i < n; i++) {
		u64 c = READ_ONCE(src[i]);

		if (i < KVMW_MAX_NODES)
			dst[i] = c;
		else
			above += c;
	}
	return above;
}

static void kvmw_fill_faults(struct kvmw_vcpu *v, struct kvmw_vcpu_info *vi)
{
	const struct kvmw_faults *f = &v->faults;
	int i;

	vi->faults = READ_ONCE(f->n);
	vi->fault_mmio = READ_ONCE(f->mmio);
	vi->fault_write = READ_ONCE(f->write);
	vi->fault_fetch = READ_ONCE(f->fetch);
	vi->fault_present = READ_ONCE(f->present);
	vi->fault_lat_total_ns = READ_ONCE(f->total_ns);
	vi->fault_lat_max_ns = READ_ONCE(f->max_ns);
	vi->fault_node_unknown = READ_ONCE(f->node_unknown) +
		kvmw_fill_nodes_v1(vi->fault_node, kvmw_fault_nodes(v));
	for (i = 0; i < KVMW_LAT_BUCKETS; i++)
		vi->fault_hist[i] = READ_ONCE(f->hist[i]);
}

/**
 * kvmw_sched_read() - copy the scheduler figures of @v for userspace
 * @v: vCPU record
 * @vi: its answer, VER3 fields
 */
static void kvmw_sched_read(struct kvmw_vcpu *v, struct kvmw_vcpu_info *vi)
{
	const struct kvmw_sched *s = &v->sched;
	const u64 *run_node = kvmw_run_nodes(v);
	u32 cpu = READ_ONCE(s->last_cpu);
	int i;

	vi->rq_delay_ns = READ_ONCE(s->rq_delay_ns);
	vi->rq_delay_count = READ_ONCE(s->rq_delay_n);
	vi->rq_delay_max_ns = READ_ONCE(s->rq_delay_max);
	vi->preemptions = READ_ONCE(s->preemptions);
	vi->sleeps = READ_ONCE(s->sleeps);
	vi->migrations = READ_ONCE(s->migrations);
	vi->node_migrations = READ_ONCE(s->node_migrations);
	vi->last_cpu = cpu;
	vi->last_node = cpu < nr_cpu_ids ? cpu_to_node(cpu) : KVMW_CPU_NONE;
	/* API 1's array stops at KVMW_MAX_NODES: higher nodes are cut. */
	for (i = 0; i < min_t(int, kvmw_nr_nodes(), KVMW_MAX_NODES); i++)
		vi->run_node_ns[i] = READ_ONCE(run_node[i]);
	for (i = 0; i < KVMW_LAT_BUCKETS; i++)
		vi->rq_delay_hist[i] = READ_ONCE(s->rq_hist[i]);
}

/* One vCPU's summary; its reason entries were filled at @r[0..nr). */
static void kvmw_fill_vcpu(struct kvmw_vcpu *v, struct kvmw_vcpu_info *vi,
			   const struct kvmw_reason_stat *r, u32 nr, u32 vendor)
{
	u32 j;

	vi->vcpu_id = v->vcpu_id;
	vi->vm_id = v->vm->id;
	vi->tid = READ_ONCE(v->tid);
	kvmw_sched_read(v, vi);
	vi->entries = READ_ONCE(v->entries);
	vi->overflow_exits = READ_ONCE(v->overflow_exits);
	vi->exits = vi->overflow_exits;
	vi->guest_ns = kvmw_clock_to_ns(READ_ONCE(v->guest_t));
	kvmw_fill_faults(v, vi);
	vi->untimed_exits = READ_ONCE(v->untimed_exits);
	vi->nr_reasons = nr;
	for (j = 0; j < nr; j++) {
		if (vendor == KVMW_VENDOR_VMX &&
		    r[j].reason == EXIT_REASON_EPT_MISCONFIG)
			kvmw_fill_misconfig(&r[j], vi);
		vi->exits += r[j].count;
		vi->exit_ns += r[j].lat_total_ns;
		if (r[j].flags & KVMW_REASON_F_IDLE) {
			vi->idle_ns += r[j].lat_total_ns;
		} else {
			/* A racing reader may see user_ns updated first. */
			u64 user = min(r[j].user_ns, r[j].lat_total_ns);

			vi->user_ns += user;
			vi->overhead_ns += r[j].lat_total_ns - user;
		}
	}
}

/* The last complete memory pass of @vm in API 1's layout. */
static void kvmw_mem_read_v1(struct kvmw_vm *vm, struct kvmw_vm_mem *out)
{
	const struct kvmw_mem_pass *d = &vm->mem.done;

	memset(out, 0, sizeof(*out));
	/* The samplers only trylock: taking it here cannot deadlock. */
	spin_lock(&vm->mem.lock);
	out->pages = d->pages;
	out->stride = d->stride;
	out->sampled = d->sampled;
	out->unmapped = d->unmapped;
	out->passes = d->passes;
	out->pass_ns = d->pass_ns;
	out->node_unknown = d->node_unknown +
		kvmw_fill_nodes_v1(out->node, kvmw_mem_nodes(vm, true));
	spin_unlock(&vm->mem.lock);
}

/* Counting pass over @vm, caller holds kvmw_mutex. */
static void kvmw_snap_count(const struct kvmw_vm *vm, u32 *nv, u32 *nr,
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

static int kvmw_snap_alloc(struct kvmw_snap_buf *b, u32 nv, u32 nr, u32 most)
{
	memset(b, 0, sizeof(*b));
	b->vcap = nv;
	b->rcap = nr;
	b->recs_cap = most;
	b->recs = kvcalloc(max(most, 1U), sizeof(*b->recs), GFP_KERNEL);
	b->vbuf = kvcalloc(max(nv, 1U), sizeof(*b->vbuf), GFP_KERNEL);
	b->rbuf = kvcalloc(max(nr, 1U), sizeof(*b->rbuf), GFP_KERNEL);
	return b->recs && b->vbuf && b->rbuf ? 0 : -ENOMEM;
}

void kvmw_snap_free(struct kvmw_snap_buf *b)
{
	kvfree(b->recs);
	kvfree(b->vbuf);
	kvfree(b->rbuf);
}

/*
 * Append @vm's vCPUs (by vcpu_id) and their reasons to @b and fill @info
 * with the VM's summary summed from this very read. What does not fit
 * (it appeared since the counting pass) sets @b->truncated. Caller holds
 * kvmw_mutex (records are freed only under it).
 */
static void kvmw_snap_fill(const struct kvmw_vm *vm, struct kvmw_snap_buf *b,
			   struct kvmw_vm_info *info)
{
	/* The VM may have grown since the counting pass. */
	u32 i, n = 0, room = min(b->vcap - b->nv, b->recs_cap);
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
	kvmw_fill_vm_ident(vm, info);
	for (i = 0; i < n; i++) {
		struct kvmw_vcpu_info *vi = &b->vbuf[b->nv];
		u32 nr = kvmw_fill_reasons(b->recs[i], b->nv, info->vendor,
					   b->rbuf + b->nr, b->rcap - b->nr,
					   &b->truncated);

		kvmw_fill_vcpu(b->recs[i], vi, b->rbuf + b->nr, nr,
			       info->vendor);
		vi->first_reason = b->nr;
		b->nr += nr;
		b->nv++;
		info->exits += vi->exits;
		info->entries += vi->entries;
		/* A large answer must not hog the CPU (kvmw_mutex sleeps). */
		if (!(i % 64))
			cond_resched();
	}
	info->nr_vcpus = n;
}

/*
 * Build the answer for VM @one, or for every VM when @one is NULL: the
 * vCPU and reason arrays in @b and one entry per VM in *@entsp (freed by
 * the caller with kvfree(), as @b with kvmw_snap_free()), their number in
 * *@nr_vms. VMs can gain vCPUs and reasons, and new VMs appear, between
 * the counting pass and the fill pass; then the answer is built again
 * with some headroom, so that nothing that existed when the call began is
 * left out. After a third try what still does not fit waits for the next
 * call. With @count_only, only the counting pass runs: @b gets the sizes
 * (nv, nr) and no buffer, *@entsp the summary of @one (NULL for all VMs).
 * Caller holds kvmw_mutex.
 */
int kvmw_snap_build(struct kvmw_vm *one, struct kvmw_snap_buf *b,
		    struct kvmw_vm_entry **entsp, u32 *nr_vms, bool count_only)
{
	struct kvmw_vm_entry *ents;
	unsigned int tries;
	struct kvmw_vm *vm;
	u32 nvm, nv, nr, most, i;

	for (tries = 0; ; tries++) {
		nvm = 0;
		nv = 0;
		nr = 0;
		most = 0;
		if (one) {
			nvm = 1;
			kvmw_snap_count(one, &nv, &nr, &most);
		} else {
			list_for_each_entry_rcu(vm, &kvmw_vms, node,
						lockdep_is_held(&kvmw_mutex)) {
				nvm++;
				kvmw_snap_count(vm, &nv, &nr, &most);
			}
		}
		if (count_only) {
			/* Sizes only, and the summary of a single VM. */
			memset(b, 0, sizeof(*b));
			b->nv = nv;
			b->nr = nr;
			*nr_vms = nvm;
			*entsp = NULL;
			if (!one)
				return 0;
			ents = kzalloc(sizeof(*ents), GFP_KERNEL);
			if (!ents)
				return -ENOMEM;
			kvmw_fill_vm_info(one, &ents->vm);
			kvmw_mem_read_v1(one, &ents->mem);
			*entsp = ents;
			return 0;
		}
		if (tries) {
			nvm += 4;
			nv += nv / 4 + 8;
			nr += nr / 4 + 64;
			most += most / 4 + 8;
		}
		ents = kvcalloc(max(nvm, 1U), sizeof(*ents), GFP_KERNEL);
		if (kvmw_snap_alloc(b, nv, nr, most) || !ents) {
			kvfree(ents);
			kvmw_snap_free(b);
			return -ENOMEM;
		}
		i = 0;
		if (one) {
			kvmw_snap_fill(one, b, &ents[0].vm);
			kvmw_mem_read_v1(one, &ents[0].mem);
			i = 1;
		} else {
			list_for_each_entry_rcu(vm, &kvmw_vms, node,
						lockdep_is_held(&kvmw_mutex)) {
				if (i == nvm) {
					b->truncated = true;
					break;
				}
				ents[i].first_vcpu = b->nv;
				kvmw_snap_fill(vm, b, &ents[i].vm);
				kvmw_mem_read_v1(vm, &ents[i].mem);
				i++;
			}
		}
		if (!b->truncated || tries == 2)
			break;
		kvfree(ents);
		kvmw_snap_free(b);
	}
	*entsp = ents;
	*nr_vms = i;
	return 0;
}

