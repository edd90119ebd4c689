// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: /dev/kvmwarden and its ioctls.
 *
 * Every argument is size-versioned (include/uapi/linux/kvmwarden.h): the
 * kernel dispatches on the ioctl number without its size bits and trusts
 * the size field inside the struct, validated with copy_struct_from_user().
 * Answers are built in kernel buffers under kvmw_mutex and copied out after
 * it is dropped, so a faulting user buffer never stalls other readers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include <kvmwarden/categories.h>

#include "kvmw.h"

/* Upper bound of any struct size userspace may claim: one page. */
#define KVMW_MAX_ARG_SIZE	PAGE_SIZE
/* Most reason entries one vCPU can produce. */
#define KVMW_REASONS_PER_VCPU	(KVMW_NR_SLOTS + KVMW_NR_OVERFLOW)

static_assert(sizeof(struct kvmw_handshake) == KVMW_HANDSHAKE_SIZE_VER0);
static_assert(sizeof(struct kvmw_vm_info) == KVMW_VM_INFO_SIZE_VER0);
static_assert(sizeof(struct kvmw_vm_list) == KVMW_VM_LIST_SIZE_VER0);
static_assert(sizeof(struct kvmw_vcpu_info) == KVMW_VCPU_INFO_SIZE_VER3);
static_assert(sizeof(struct kvmw_reason_stat) == KVMW_REASON_STAT_SIZE_VER1);
static_assert(sizeof(struct kvmw_vm_mem) == KVMW_VM_MEM_SIZE);
static_assert(sizeof(struct kvmw_vm_snapshot) == KVMW_VM_SNAPSHOT_SIZE_VER1);
static_assert(sizeof(struct kvmw_vm_entry) == KVMW_VM_ENTRY_SIZE_VER0);
static_assert(sizeof(struct kvmw_snapshot_all) == KVMW_SNAPSHOT_ALL_SIZE_VER0);

/*
 * Copy a size-versioned argument in. Returns the caller's size or -errno:
 * EINVAL when it is below the first version or absurd, E2BIG when it is
 * larger than ours with non-zero extra bytes, EFAULT.
 */
static int kvmw_get_arg(void *karg, size_t ksize, size_t ver0,
			const void __user *uarg)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < ver0 || usize > KVMW_MAX_ARG_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, usize);
	if (ret)
		return ret;
	return usize;
}

/* Copy an answer back: the caller's struct may be shorter than ours. */
static int kvmw_put_arg(void __user *uarg, const void *karg, size_t ksize,
			size_t usize)
{
	if (copy_to_user(uarg, karg, min(ksize, usize)))
		return -EFAULT;
	return 0;
}

/*
 * Copy @nr elements of @ksize bytes to a user array of @usize-byte
 * elements, truncating or zero-extending each one.
 */
static int kvmw_put_array(u64 uptr, const void *kbuf, size_t ksize,
			  size_t usize, size_t nr)
{
	void __user *dst = u64_to_user_ptr(uptr);
	size_t i;

	if (!nr)
		return 0;
	if (usize == ksize)
		return copy_to_user(dst, kbuf, ksize * nr) ? -EFAULT : 0;
	for (i = 0; i < nr; i++) {
		void __user *d = dst + i * usize;
		const void *s = kbuf + i * ksize;

		if (copy_to_user(d, s, min(ksize, usize)))
			return -EFAULT;
		if (usize > ksize && clear_user(d + ksize, usize - ksize))
			return -EFAULT;
	}
	return 0;
}

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

static void kvmw_fill_vm_info(const struct kvmw_vm *vm, struct kvmw_vm_info *out)
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

static long kvmw_ioctl_handshake(void __user *uarg)
{
	struct kvmw_handshake hs;
	int usize;

	usize = kvmw_get_arg(&hs, sizeof(hs), KVMW_HANDSHAKE_SIZE_VER0, uarg);
	if (usize < 0)
		return usize;
	/* Output fields are overwritten, whatever they held. */
	if (hs.flags || hs.reserved)
		return -EINVAL;

	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	hs.nr_vms = kvmw_nr_vms;
	hs.nr_vcpus = kvmw_nr_vcpus;
	mutex_unlock(&kvmw_mutex);
	hs.api_version = KVMW_API_VERSION;
	hs.vendor = kvmw_host_vendor();
	hs.features = kvmw_features();
	hs.untracked_exits = kvmw_untracked_exits();
	hs.nr_reason_slots = KVMW_REASONS_PER_VCPU;
	return kvmw_put_arg(uarg, &hs, sizeof(hs), usize);
}

static long kvmw_ioctl_list_vms(void __user *uarg)
{
	struct kvmw_vm_info *buf = NULL;
	struct kvmw_vm_list req;
	struct kvmw_vm *vm;
	unsigned int n = 0;
	int usize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_VM_LIST_SIZE_VER0, uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved)
		return -EINVAL;
	if (req.max_vms && req.vm_info_size < KVMW_VM_INFO_SIZE_VER0)
		return -EINVAL;
	if (req.vm_info_size > KVMW_MAX_ARG_SIZE)
		return -EINVAL;

	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	req.nr_vms = kvmw_nr_vms;
	if (req.nr_vms > req.max_vms) {
		mutex_unlock(&kvmw_mutex);
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
		return ret ?: (req.max_vms ? -E2BIG : 0);
	}
	if (req.nr_vms) {
		buf = kvcalloc(req.nr_vms, sizeof(*buf), GFP_KERNEL);
		if (!buf) {
			mutex_unlock(&kvmw_mutex);
			return -ENOMEM;
		}
	}
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		if (n == req.nr_vms)
			break;
		kvmw_fill_vm_info(vm, &buf[n++]);
	}
	mutex_unlock(&kvmw_mutex);

	req.nr_vms = n;
	ret = kvmw_put_array(req.vms_ptr, buf, sizeof(*buf), req.vm_info_size,
			     n);
	if (!ret)
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
	kvfree(buf);
	return ret;
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

/* Reason codes @v has exited with so far (a snapshot sizing pass). */
static u32 kvmw_count_reasons(const struct kvmw_vcpu *v)
{
	unsigned int i;
	u32 n = 0;

	for (i = 0; i < KVMW_NR_SLOTS; i++)
		n += !!READ_ONCE(v->counts[i]);
	for (i = 0; i < KVMW_NR_OVERFLOW; i++)
		n += !!READ_ONCE(v->ovf_count[i]);
	return n;
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

/*
 * Counts and latencies of @v in reason order, at most @max entries;
 * returns the number of entries written and sets *@truncated when a
 * reason did not fit (it appeared after the sizing pass).
 */
static u32 kvmw_fill_reasons(const struct kvmw_vcpu *v, u32 vcpu_index,
			     u32 vendor, struct kvmw_reason_stat *out, u32 max,
			     bool *truncated)
{
	unsigned int i;
	u32 n = 0, direct;

	for (i = 0; i < KVMW_NR_SLOTS && n < max; i++) {
		u64 c = READ_ONCE(v->counts[i]);

		if (!c)
			continue;
		out[n].reason = kvmw_slot_to_code(i);
		out[n].vcpu_index = vcpu_index;
		out[n].count = c;
		kvmw_fill_lat(&out[n], kvmw_slot_lat(v, i), vendor);
		n++;
	}
	direct = n;
	for (i = 0; i < KVMW_NR_OVERFLOW && n < max; i++) {
		/* Pairs with the release in kvmw_account_overflow(). */
		u64 c = smp_load_acquire(&v->ovf_count[i]);

		if (!c)
			continue;
		out[n].reason = READ_ONCE(v->ovf_code[i]);
		out[n].vcpu_index = vcpu_index;
		out[n].count = c;
		kvmw_fill_lat(&out[n], kvmw_ovf_lat(v, i), vendor);
		n++;
	}
	/* Slots come out in code order; rare overflow codes may not. */
	if (n > direct)
		sort(out, n, sizeof(*out), kvmw_cmp_reason, NULL);
	/* Out of room: did a reason that appeared meanwhile not fit? */
	if (n == max && kvmw_count_reasons(v) > n)
		*truncated = true;
	return n;
}

static void kvmw_fill_faults(const struct kvmw_faults *f,
			     struct kvmw_vcpu_info *vi)
{
	int i;

	vi->faults = READ_ONCE(f->n);
	vi->fault_mmio = READ_ONCE(f->mmio);
	vi->fault_write = READ_ONCE(f->write);
	vi->fault_fetch = READ_ONCE(f->fetch);
	vi->fault_present = READ_ONCE(f->present);
	vi->fault_lat_total_ns = READ_ONCE(f->total_ns);
	vi->fault_lat_max_ns = READ_ONCE(f->max_ns);
	vi->fault_node_unknown = READ_ONCE(f->node_unknown);
	for (i = 0; i < KVMW_MAX_NODES; i++)
		vi->fault_node[i] = READ_ONCE(f->node[i]);
	for (i = 0; i < KVMW_LAT_BUCKETS; i++)
		vi->fault_hist[i] = READ_ONCE(f->hist[i]);
}

/* One vCPU's summary; its reason entries were filled at @r[0..nr). */
static void kvmw_fill_vcpu(const struct kvmw_vcpu *v, struct kvmw_vcpu_info *vi,
			   const struct kvmw_reason_stat *r, u32 nr)
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
	kvmw_fill_faults(&v->faults, vi);
	vi->untimed_exits = READ_ONCE(v->untimed_exits);
	vi->nr_reasons = nr;
	for (j = 0; j < nr; j++) {
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

static struct kvmw_vm *kvmw_vm_by_id(u64 id)
{
	struct kvmw_vm *vm;

	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex))
		if (vm->id == id)
			return vm;
	return NULL;
}

/*
 * The answer of a snapshot being built: vCPU and reason arrays sized by a
 * counting pass, and room for the records of the largest VM.
 */
struct kvmw_snap_buf {
	struct kvmw_vcpu_info *vbuf;
	struct kvmw_reason_stat *rbuf;
	struct kvmw_vcpu **recs;
	u32 nv, vcap;
	u32 nr, rcap;
	u32 recs_cap;
	bool truncated;
};

/* Counting pass over @vm, caller holds kvmw_mutex. */
static void kvmw_snap_count(const struct kvmw_vm *vm, u32 *nv, u32 *nr,
			    u32 *most)
{
	struct kvmw_vcpu *v;
	u32 n = 0;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		n++;
		*nr += kvmw_count_reasons(v);
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

static void kvmw_snap_free(struct kvmw_snap_buf *b)
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
	sort(b->recs, n, sizeof(*b->recs), kvmw_cmp_vcpu, NULL);
	kvmw_fill_vm_ident(vm, info);
	for (i = 0; i < n; i++) {
		struct kvmw_vcpu_info *vi = &b->vbuf[b->nv];
		u32 nr = kvmw_fill_reasons(b->recs[i], b->nv, info->vendor,
					   b->rbuf + b->nr, b->rcap - b->nr,
					   &b->truncated);

		kvmw_fill_vcpu(b->recs[i], vi, b->rbuf + b->nr, nr);
		vi->first_reason = b->nr;
		b->nr += nr;
		b->nv++;
		info->exits += vi->exits;
		info->entries += vi->entries;
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
 * call. Caller holds kvmw_mutex.
 */
static int kvmw_snap_build(struct kvmw_vm *one, struct kvmw_snap_buf *b,
			   struct kvmw_vm_entry **entsp, u32 *nr_vms)
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
			kvmw_mem_read(one, &ents[0].mem);
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
				kvmw_mem_read(vm, &ents[i].mem);
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

/**
 * kvmw_vm_totals() - final totals of a VM for its VM_GONE event
 * @vm: the VM (caller holds kvmw_mutex)
 * @data: KVMW_EVENT_GONE_* slots to fill; left 0 if memory is short
 */
void kvmw_vm_totals(struct kvmw_vm *vm, u64 *data)
{
	struct kvmw_vm_entry *ent;
	struct kvmw_snap_buf b;
	u32 n, i;

	if (kvmw_snap_build(vm, &b, &ent, &n))
		return;
	data[KVMW_EVENT_GONE_EXITS] = ent->vm.exits;
	data[KVMW_EVENT_GONE_ENTRIES] = ent->vm.entries;
	for (i = 0; i < b.nv; i++) {
		data[KVMW_EVENT_GONE_GUEST_NS] += b.vbuf[i].guest_ns;
		data[KVMW_EVENT_GONE_OVERHEAD_NS] += b.vbuf[i].overhead_ns;
		data[KVMW_EVENT_GONE_IDLE_NS] += b.vbuf[i].idle_ns;
		data[KVMW_EVENT_GONE_USER_NS] += b.vbuf[i].user_ns;
		data[KVMW_EVENT_GONE_FAULTS] += b.vbuf[i].faults;
		data[KVMW_EVENT_GONE_UNTIMED] += b.vbuf[i].untimed_exits;
	}
	kvfree(ent);
	kvmw_snap_free(&b);
}

/* Copy a snapshot's vCPU and reason arrays to the caller's arrays. */
static int kvmw_snap_put(const struct kvmw_snap_buf *b, u64 vcpus_ptr,
			 u32 vcpu_info_size, u64 reasons_ptr,
			 u32 reason_stat_size)
{
	int ret = kvmw_put_array(vcpus_ptr, b->vbuf, sizeof(*b->vbuf),
				 vcpu_info_size, b->nv);

	return ret ?: kvmw_put_array(reasons_ptr, b->rbuf, sizeof(*b->rbuf),
				     reason_stat_size, b->nr);
}

static int kvmw_check_array(u32 elem_size, u32 ver0)
{
	return elem_size < ver0 || elem_size > KVMW_MAX_ARG_SIZE ? -EINVAL : 0;
}

static long kvmw_ioctl_vm_snapshot(void __user *uarg)
{
	struct kvmw_vm_entry *ent = NULL;
	struct kvmw_vm_snapshot req;
	struct kvmw_snap_buf b = {};
	struct kvmw_vm *vm;
	int usize, ret;
	u32 n;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_VM_SNAPSHOT_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	if (req.flags)
		return -EINVAL;
	memset(&req.vm, 0, sizeof(req.vm));
	memset(&req.mem, 0, sizeof(req.mem));
	if (kvmw_check_array(req.vcpu_info_size, KVMW_VCPU_INFO_SIZE_VER0) ||
	    kvmw_check_array(req.reason_stat_size, KVMW_REASON_STAT_SIZE_VER0))
		return -EINVAL;

	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	vm = kvmw_vm_by_id(req.vm_id);
	ret = vm ? kvmw_snap_build(vm, &b, &ent, &n) : -ENOENT;
	mutex_unlock(&kvmw_mutex);
	if (ret)
		return ret;
	req.vm = ent->vm;
	req.mem = ent->mem;
	req.nr_vcpus = b.nv;
	req.nr_reasons = b.nr;
	/*
	 * Both capacities 0 is a query: sizes and the VM summary, no error.
	 * Otherwise too small a capacity is E2BIG with only the sizes.
	 */
	if (!req.max_vcpus && !req.max_reasons) {
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
		goto out;
	}
	if (b.nv > req.max_vcpus || b.nr > req.max_reasons) {
		memset(&req.vm, 0, sizeof(req.vm));
		memset(&req.mem, 0, sizeof(req.mem));
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize) ?: -E2BIG;
		goto out;
	}
	ret = kvmw_snap_put(&b, req.vcpus_ptr, req.vcpu_info_size,
			    req.reasons_ptr, req.reason_stat_size);
	if (!ret)
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
out:
	kvfree(ent);
	kvmw_snap_free(&b);
	return ret;
}

static long kvmw_ioctl_snapshot_all(void __user *uarg)
{
	struct kvmw_vm_entry *ents = NULL;
	struct kvmw_snapshot_all req;
	struct kvmw_snap_buf b = {};
	int usize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_SNAPSHOT_ALL_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved)
		return -EINVAL;
	if (kvmw_check_array(req.vm_entry_size, KVMW_VM_ENTRY_SIZE_VER0) ||
	    kvmw_check_array(req.vcpu_info_size, KVMW_VCPU_INFO_SIZE_VER0) ||
	    kvmw_check_array(req.reason_stat_size, KVMW_REASON_STAT_SIZE_VER0))
		return -EINVAL;

	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	ret = kvmw_snap_build(NULL, &b, &ents, &req.nr_vms);
	mutex_unlock(&kvmw_mutex);
	if (ret)
		return ret;
	req.nr_vcpus = b.nv;
	req.nr_reasons = b.nr;
	if (!req.max_vms && !req.max_vcpus && !req.max_reasons) {
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
		goto out;
	}
	if (req.nr_vms > req.max_vms || b.nv > req.max_vcpus ||
	    b.nr > req.max_reasons) {
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize) ?: -E2BIG;
		goto out;
	}
	ret = kvmw_put_array(req.vms_ptr, ents, sizeof(*ents),
			     req.vm_entry_size, req.nr_vms);
	if (!ret)
		ret = kvmw_snap_put(&b, req.vcpus_ptr, req.vcpu_info_size,
				    req.reasons_ptr, req.reason_stat_size);
	if (!ret)
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
out:
	kvfree(ents);
	kvmw_snap_free(&b);
	return ret;
}

static long kvmw_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* The struct's own size field is authoritative, not the size bits. */
	switch (cmd & ~IOCSIZE_MASK) {
	case KVMW_IOC_HANDSHAKE & ~IOCSIZE_MASK:
		return kvmw_ioctl_handshake(uarg);
	case KVMW_IOC_LIST_VMS & ~IOCSIZE_MASK:
		return kvmw_ioctl_list_vms(uarg);
	case KVMW_IOC_VM_SNAPSHOT & ~IOCSIZE_MASK:
		return kvmw_ioctl_vm_snapshot(uarg);
	case KVMW_IOC_SNAPSHOT_ALL & ~IOCSIZE_MASK:
		return kvmw_ioctl_snapshot_all(uarg);
	default:
		return -ENOTTY;
	}
}

static int kvmw_open(struct inode *inode, struct file *file)
{
	int ret = nonseekable_open(inode, file);

	return ret ?: kvmw_events_open(file);
}

static int kvmw_release(struct inode *inode, struct file *file)
{
	return kvmw_events_release(file);
}

static ssize_t kvmw_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	return kvmw_events_read(file, buf, count);
}

static const struct file_operations kvmw_fops = {
	.owner		= THIS_MODULE,
	.open		= kvmw_open,
	.release	= kvmw_release,
	.read		= kvmw_read,
	.poll		= kvmw_events_poll,
	.unlocked_ioctl	= kvmw_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kvmw_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kvmwarden",
	.fops	= &kvmw_fops,
	/* Read access for a monitoring group is granted by the udev rule. */
	.mode	= 0600,
};

int kvmw_dev_init(void)
{
	return misc_register(&kvmw_miscdev);
}

void kvmw_dev_exit(void)
{
	misc_deregister(&kvmw_miscdev);
}
