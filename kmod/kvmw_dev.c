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

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

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
static_assert(sizeof(struct kvmw_stat_desc) == KVMW_STAT_DESC_SIZE_VER0);
static_assert(sizeof(struct kvmw_stats_desc) == KVMW_STATS_DESC_SIZE_VER0);
static_assert(sizeof(struct kvmw_stats_read) == KVMW_STATS_READ_SIZE_VER0);
static_assert(sizeof(struct kvmw_vm_rec) == KVMW_VM_REC_HDR_SIZE);
static_assert(sizeof(struct kvmw_vcpu_rec) == KVMW_VCPU_REC_HDR_SIZE);
static_assert(sizeof(struct kvmw_reason_rec) == KVMW_REASON_REC_HDR_SIZE);
static_assert(sizeof(struct kvmw_budget) == KVMW_BUDGET_SIZE_VER0);
static_assert(sizeof(struct kvmw_budget_default) ==
	      KVMW_BUDGET_DEFAULT_SIZE_VER0);
static_assert(sizeof(struct kvmw_numa_policy) == KVMW_NUMA_POLICY_SIZE_VER0);

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

static u64 kvmw_features(void)
{
	u32 vendor = kvmw_host_vendor();
	u64 f = KVMW_FEAT_EXIT_COUNTS | KVMW_FEAT_LATENCY;

	/* Decoding is promised once it has been seen to work. */
	if (kvmw_reasons_decoded())
		f |= vendor == KVMW_VENDOR_SVM ? KVMW_FEAT_REASON_SVM :
						 KVMW_FEAT_REASON_VMX;
	if (kvmw_lifetime_available())
		f |= KVMW_FEAT_VM_LIFETIME;
	if (kvmw_user_exits_seen())
		f |= KVMW_FEAT_USER_EXITS;
	if (kvmw_faults_decoded())
		f |= KVMW_FEAT_FAULTS;
	if (kvmw_sched_available())
		f |= KVMW_FEAT_SCHED;
	f |= KVMW_FEAT_MEM_NUMA | KVMW_FEAT_EVENTS | KVMW_FEAT_SNAPSHOT_ALL |
	     KVMW_FEAT_STATS | KVMW_FEAT_BUDGET | KVMW_FEAT_BUDGET_DEFAULT;
	f |= KVMW_FEAT_NUMA_PLACE;
	return f;
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

	/* Counters only: no lock, no sweep. */
	hs.nr_vms = READ_ONCE(kvmw_nr_vms);
	hs.nr_vcpus = READ_ONCE(kvmw_nr_vcpus);
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
	bool count;
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

	/*
	 * Both capacities 0 is a query: sizes and the VM summary, no error.
	 * Otherwise too small a capacity is E2BIG with only the sizes.
	 */
	count = !req.max_vcpus && !req.max_reasons;
	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	vm = kvmw_vm_by_id(req.vm_id);
	ret = vm ? kvmw_snap_build(vm, &b, &ent, &n, true) : -ENOENT;
	if (!ret && !count && b.nv <= req.max_vcpus &&
	    b.nr <= req.max_reasons) {
		kvfree(ent);
		ret = kvmw_snap_build(vm, &b, &ent, &n, false);
	}
	mutex_unlock(&kvmw_mutex);
	if (ret)
		return ret;
	req.vm = ent->vm;
	req.mem = ent->mem;
	req.nr_vcpus = b.nv;
	req.nr_reasons = b.nr;
	if (count) {
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
	bool count;

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

	count = !req.max_vms && !req.max_vcpus && !req.max_reasons;
	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	ret = kvmw_snap_build(NULL, &b, &ents, &req.nr_vms, true);
	if (!ret && !count && req.nr_vms <= req.max_vms &&
	    b.nv <= req.max_vcpus && b.nr <= req.max_reasons)
		ret = kvmw_snap_build(NULL, &b, &ents, &req.nr_vms, false);
	mutex_unlock(&kvmw_mutex);
	if (ret)
		return ret;
	req.nr_vcpus = b.nv;
	req.nr_reasons = b.nr;
	if (count) {
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

static long kvmw_ioctl_stats_desc(void __user *uarg)
{
	const struct kvmw_stat_desc *descs;
	struct kvmw_stats_desc req;
	const u32 *values;
	int usize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_STATS_DESC_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved)
		return -EINVAL;
	if (req.max_descs &&
	    kvmw_check_array(req.desc_size, KVMW_STAT_DESC_SIZE_VER0))
		return -EINVAL;
	descs = kvmw_stats_layout(&req.nr_descs, &req.nr_nodes, &values);
	req.vm_values = values[KVMW_SCOPE_VM];
	req.vcpu_values = values[KVMW_SCOPE_VCPU];
	req.reason_values = values[KVMW_SCOPE_REASON];
	if (req.max_descs && req.nr_descs > req.max_descs) {
		ret = kvmw_put_arg(uarg, &req, sizeof(req), usize);
		return ret ?: -E2BIG;
	}
	if (req.max_descs) {
		ret = kvmw_put_array(req.descs_ptr, descs, sizeof(*descs),
				     req.desc_size, req.nr_descs);
		if (ret)
			return ret;
	}
	return kvmw_put_arg(uarg, &req, sizeof(req), usize);
}

static long kvmw_ioctl_stats_read(void __user *uarg)
{
	struct kvmw_stats_read req;
	int usize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_STATS_READ_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved)
		return -EINVAL;
	if (kvmw_check_array(req.vm_rec_size, KVMW_VM_REC_HDR_SIZE) ||
	    kvmw_check_array(req.vcpu_rec_size, KVMW_VCPU_REC_HDR_SIZE) ||
	    kvmw_check_array(req.reason_rec_size, KVMW_REASON_REC_HDR_SIZE))
		return -EINVAL;
	/* The records are written by kvmw_stats_read(), the counts here. */
	ret = kvmw_stats_read(&req);
	if (ret && ret != -E2BIG)
		return ret;
	return kvmw_put_arg(uarg, &req, sizeof(req), usize) ?: ret;
}

static long kvmw_ioctl_budget(void __user *uarg, bool set)
{
	struct kvmw_budget req;
	struct kvmw_vm *vm;
	int usize, ret = 0;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_BUDGET_SIZE_VER0, uarg);
	if (usize < 0)
		return usize;
	if (!req.vm_id)
		return -EINVAL;
	if (!set && (req.flags || req.mode || req.nr_buckets ||
		     req.max_park_ns || req.guard_window_ns || req.guard_pct ||
		     req.tripped || req.rule || req.reserved ||
		     memchr_inv(req.buckets, 0, sizeof(req.buckets))))
		return -EINVAL;
	mutex_lock(&kvmw_mutex);
	vm = kvmw_vm_by_id(req.vm_id);
	if (!vm || READ_ONCE(vm->gone_ns))
		ret = -ENOENT;
	else if (set)
		ret = kvmw_budget_set(vm, &req, 0);
	else
		kvmw_budget_get(vm, &req);
	mutex_unlock(&kvmw_mutex);
	if (ret || set)
		return ret;
	return kvmw_put_arg(uarg, &req, sizeof(req), usize);
}

static long kvmw_ioctl_budget_default(void __user *uarg, bool set)
{
	struct kvmw_budget_default req;
	struct kvmw_budget b;
	void __user *ub;
	int usize, bsize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_BUDGET_DEFAULT_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	ret = kvmw_budget_default_check(&req, set);
	if (ret)
		return ret;
	ub = u64_to_user_ptr(req.budget_ptr);
	bsize = kvmw_get_arg(&b, sizeof(b), KVMW_BUDGET_SIZE_VER0, ub);
	if (bsize < 0)
		return bsize;
	if (set)
		return kvmw_budget_default_set(&req, &b);
	/* GET: the caller's budget carries only its size. */
	if (b.flags || b.vm_id || b.mode || b.nr_buckets || b.max_park_ns ||
	    b.guard_window_ns || b.guard_pct || b.tripped || b.rule ||
	    b.reserved || memchr_inv(b.buckets, 0, sizeof(b.buckets)))
		return -EINVAL;
	kvmw_budget_default_get(&req, &b);
	b.size = bsize;
	return kvmw_put_arg(ub, &b, sizeof(b), bsize) ?:
	       kvmw_put_arg(uarg, &req, sizeof(req), usize);
}

/* Node words past the first that a policy may carry (nodes 64 to 1087). */
#define KVMW_NUMA_MAX_NODE_WORDS	16

/* The nodes of a KVMW_IOC_NUMA_SET: below nr_node_ids, with CPUs. */
static int kvmw_numa_nodes_in(const struct kvmw_numa_policy *req,
			      nodemask_t *nodes)
{
	const u64 __user *up = u64_to_user_ptr(req->nodes_ptr);
	u32 i;
	int n;

	nodes_clear(*nodes);
	for (i = 0; i <= req->nr_node_words; i++) {
		u64 w = req->nodes;
		int b;

		if (i && get_user(w, up + i - 1))
			return -EFAULT;
		for (b = 0; b < 64 && w; b++, w >>= 1) {
			n = i * 64 + b;
			if (!(w & 1))
				continue;
			if (n >= nr_node_ids || !node_state(n, N_CPU))
				return -EINVAL;
			node_set(n, *nodes);
		}
	}
	return 0;
}

/* The policy's nodes from 64 up into the caller's words. */
static int kvmw_numa_nodes_out(const struct kvmw_numa_policy *req,
			       const nodemask_t *nodes)
{
	u64 __user *up = u64_to_user_ptr(req->nodes_ptr);
	u32 i;

	for (i = 0; i < req->nr_node_words; i++) {
		u64 w = 0;
		int b;

		for (b = 0; b < 64; b++) {
			int n = (i + 1) * 64 + b;

			if (n < nr_node_ids && node_isset(n, *nodes))
				w |= 1ULL << b;
		}
		if (put_user(w, up + i))
			return -EFAULT;
	}
	return 0;
}

static int kvmw_numa_check(const struct kvmw_numa_policy *req, bool set)
{
	if (!req->vm_id || req->reserved ||
	    req->nr_node_words > KVMW_NUMA_MAX_NODE_WORDS ||
	    (req->nr_node_words && !req->nodes_ptr))
		return -EINVAL;
	if (!set)
		return req->flags || req->policy || req->nodes ||
		       req->threshold_pct || req->margin_pct || req->passes ||
		       req->dwell_ms || req->interval_ms ? -EINVAL : 0;
	if (req->flags & ~KVMW_NUMA_F_ALL)
		return -EINVAL;
	if (req->policy > KVMW_NUMA_FOLLOW)
		return -EINVAL;
	if (req->policy != KVMW_NUMA_FOLLOW &&
	    (req->threshold_pct || req->margin_pct || req->passes ||
	     req->dwell_ms || req->interval_ms))
		return -EINVAL;
	if (req->policy != KVMW_NUMA_PIN && (req->nodes || req->nr_node_words))
		return -EINVAL;
	if (req->policy == KVMW_NUMA_NONE && req->flags)
		return -EINVAL;
	if (req->threshold_pct > 100 || req->margin_pct > 100 ||
	    req->passes > KVMW_NUMA_MAX_PASSES ||
	    req->dwell_ms > KVMW_NUMA_MAX_DWELL_MS ||
	    (req->interval_ms &&
	     (req->interval_ms < KVMW_NUMA_MIN_INTERVAL_MS ||
	      req->interval_ms > KVMW_NUMA_MAX_INTERVAL_MS)))
		return -EINVAL;
	/* The VMM's other threads are not placed by this module. */
	if (req->flags & KVMW_NUMA_F_ALL_THREADS)
		return -EOPNOTSUPP;
	return 0;
}

static long kvmw_ioctl_numa(void __user *uarg, bool set)
{
	struct kvmw_numa_policy req, in;
	nodemask_t nodes;
	struct kvmw_vm *vm;
	int usize, ret;

	usize = kvmw_get_arg(&req, sizeof(req), KVMW_NUMA_POLICY_SIZE_VER0,
			     uarg);
	if (usize < 0)
		return usize;
	ret = kvmw_numa_check(&req, set);
	if (ret)
		return ret;
	if (set) {
		ret = kvmw_numa_nodes_in(&req, &nodes);
		if (ret)
			return ret;
		if (req.policy == KVMW_NUMA_PIN && nodes_empty(nodes))
			return -EINVAL;
	}
	/* Output fields are ignored on input: only the input ones are kept. */
	in = req;
	memset(&req, 0, sizeof(req));
	req.size = in.size;
	req.flags = in.flags;
	req.vm_id = in.vm_id;
	req.policy = in.policy;
	req.nr_node_words = in.nr_node_words;
	req.nodes = in.nodes;
	req.nodes_ptr = in.nodes_ptr;
	req.threshold_pct = in.threshold_pct;
	req.margin_pct = in.margin_pct;
	req.passes = in.passes;
	req.dwell_ms = in.dwell_ms;
	req.interval_ms = in.interval_ms;
	mutex_lock(&kvmw_mutex);
	vm = kvmw_vm_by_id(req.vm_id);
	if (!vm || READ_ONCE(vm->gone_ns))
		ret = -ENOENT;
	else if (set)
		ret = kvmw_numa_set(vm, &req, &nodes);
	else
		kvmw_numa_get(vm, &req, &nodes);
	mutex_unlock(&kvmw_mutex);
	if (ret || set)
		return ret;
	return kvmw_numa_nodes_out(&req, &nodes) ?:
	       kvmw_put_arg(uarg, &req, sizeof(req), usize);
}

/*
 * The one place where control is told from reading: every ioctl that
 * changes state needs a file opened for writing and CAP_SYS_ADMIN, checked
 * before its argument is even read. Reading statistics and events needs
 * only a file opened for reading (whose mode the device node decides).
 */
static bool kvmw_ioctl_is_control(unsigned int nr)
{
	return nr == (KVMW_IOC_BUDGET_SET & ~IOCSIZE_MASK) ||
	       nr == (KVMW_IOC_BUDGET_DEFAULT_SET & ~IOCSIZE_MASK) ||
	       nr == (KVMW_IOC_NUMA_SET & ~IOCSIZE_MASK);
}

static long kvmw_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int nr = cmd & ~IOCSIZE_MASK;

	if (kvmw_ioctl_is_control(nr)) {
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
	}
	/* The struct's own size field is authoritative, not the size bits. */
	switch (nr) {
	case KVMW_IOC_HANDSHAKE & ~IOCSIZE_MASK:
		return kvmw_ioctl_handshake(uarg);
	case KVMW_IOC_LIST_VMS & ~IOCSIZE_MASK:
		return kvmw_ioctl_list_vms(uarg);
	case KVMW_IOC_VM_SNAPSHOT & ~IOCSIZE_MASK:
		return kvmw_ioctl_vm_snapshot(uarg);
	case KVMW_IOC_SNAPSHOT_ALL & ~IOCSIZE_MASK:
		return kvmw_ioctl_snapshot_all(uarg);
	case KVMW_IOC_STATS_DESC & ~IOCSIZE_MASK:
		return kvmw_ioctl_stats_desc(uarg);
	case KVMW_IOC_STATS_READ & ~IOCSIZE_MASK:
		return kvmw_ioctl_stats_read(uarg);
	case KVMW_IOC_BUDGET_SET & ~IOCSIZE_MASK:
		return kvmw_ioctl_budget(uarg, true);
	case KVMW_IOC_BUDGET_GET & ~IOCSIZE_MASK:
		return kvmw_ioctl_budget(uarg, false);
	case KVMW_IOC_BUDGET_DEFAULT_SET & ~IOCSIZE_MASK:
		return kvmw_ioctl_budget_default(uarg, true);
	case KVMW_IOC_BUDGET_DEFAULT_GET & ~IOCSIZE_MASK:
		return kvmw_ioctl_budget_default(uarg, false);
	case KVMW_IOC_NUMA_SET & ~IOCSIZE_MASK:
		return kvmw_ioctl_numa(uarg, true);
	case KVMW_IOC_NUMA_GET & ~IOCSIZE_MASK:
		return kvmw_ioctl_numa(uarg, false);
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
