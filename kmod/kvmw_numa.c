// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: NUMA placement of vCPU threads.
 *
 * A VM's policy (KVMW_IOC_NUMA_SET) gives its vCPU threads a CPU mask:
 * KVMW_NUMA_PIN the CPUs of a set of nodes, KVMW_NUMA_FOLLOW the CPUs of
 * the node that holds most of the VM's resident memory, as the memory
 * sampler (kvmw_mem.c) last found it. The mask a thread gets is always
 * the intersection of those CPUs with the mask it had before (set by the
 * VMM, libvirt's vcpupin or a cpuset): the module narrows, never widens.
 *
 * Where the masks are set: in process context, with
 * set_cpus_allowed_ptr() on the vCPU thread's task: from the ioctl (a pin
 * is in force on every thread when KVMW_IOC_NUMA_SET returns) and from
 * one delayed work item (the follow decisions, new vCPU threads, and the
 * check that nobody else changed a mask). set_cpus_allowed_ptr() on a
 * running task waits until the stopper has moved it to an allowed CPU, on
 * 6.1 and 6.12 alike, so a thread is on its new CPUs before it runs guest
 * code again; a sleeping thread wakes up on them. Nothing runs in a
 * probe: the probes only kick the work item when a VM with a policy gets
 * a new vCPU, and the hot path has no NUMA code at all.
 *
 * Every thread's mask from before the policy is kept, with the mask the
 * module gave it. Clearing or replacing the policy, the VM going away and
 * unloading the module give a thread its old mask back, but only if its
 * mask is still the one the module set: a mask someone else changed since
 * stays theirs (a conflict, reported). All of it happens under
 * kvmw_mutex: the ioctls, the work item, the sweep that finds VMs gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/workqueue.h>

#include "kvmw.h"
#include "kvmw_numa.h"

static unsigned int numa_max_moves_per_min = 30;
module_param(numa_max_moves_per_min, uint, 0644);
MODULE_PARM_DESC(numa_max_moves_per_min,
		 "Host-wide limit of NUMA follow moves in any 60 s (1 to 1000, default 30)");

#define KVMW_NUMA_RATE_RING	1000

/* One vCPU thread under a policy. */
struct kvmw_numa_thr {
	struct list_head node;
	struct pid *pid;
	pid_t tid;
	u32 vcpu_id;
	bool placed;		/* its mask is @set, given by the module */
	bool conflict;		/* reported for @gen; wait for a change */
	bool seen;		/* still found in the last pass */
	u32 gen;
	cpumask_var_t orig;	/* its mask before the module's */
	cpumask_var_t set;	/* the mask the module gave it */
};

/*
 * A VM's placement state: kept from the first KVMW_IOC_NUMA_SET until the
 * VM goes away, so that its counters survive a clear. kvmw_mutex.
 */
struct kvmw_numa {
	u32 policy;
	u32 flags;
	nodemask_t nodes;
	u32 threshold;
	u32 margin;
	u32 passes;
	u32 dwell_ms;
	u32 interval_ms;
	u32 cur_node;
	u32 gen;		/* +1 per new target */
	u32 below;		/* consecutive passes a move was due */
	u32 target;		/* the node of those passes */
	u32 local_pml;
	unsigned long next_pass;	/* jiffies */
	u64 follow_last;	/* boottime of the last follow move, 0 */
	u64 last_move;		/* boottime of the last placement, 0 */
	u64 set_ns;		/* boottime of the SET */
	u64 moves;
	u64 supp_dwell;
	u64 supp_hyst;
	u64 supp_rate;
	u64 supp_conflict;
	struct list_head threads;
	cpumask_var_t target_mask;
	cpumask_var_t tmp;
	u64 mem[];		/* kvmw_nr_nodes() sample counts */
};

static void kvmw_numa_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kvmw_numa_work, kvmw_numa_workfn);
static bool kvmw_numa_stopping;
static unsigned long kvmw_numa_kicked;

/* Boottime of the last follow moves on the host, a ring. kvmw_mutex. */
static u64 kvmw_numa_ring[KVMW_NUMA_RATE_RING];
static unsigned int kvmw_numa_ring_head;

static u32 kvmw_numa_max_rate(void)
{
	return clamp(READ_ONCE(numa_max_moves_per_min), 1U,
		     (unsigned int)KVMW_NUMA_RATE_RING);
}

/* Would a follow move at @now exceed the host-wide rate? */
static bool kvmw_numa_rate_ok(u64 now)
{
	u32 max = kvmw_numa_max_rate();
	u64 t = kvmw_numa_ring[(kvmw_numa_ring_head + KVMW_NUMA_RATE_RING -
				max) % KVMW_NUMA_RATE_RING];

	return !t || now - t >= 60 * NSEC_PER_SEC;
}

static void kvmw_numa_rate_take(u64 now)
{
	kvmw_numa_ring[kvmw_numa_ring_head] = now;
	kvmw_numa_ring_head = (kvmw_numa_ring_head + 1) % KVMW_NUMA_RATE_RING;
}

/* A task's affinity, as sched_getaffinity() would give it. */
static void kvmw_numa_task_mask(struct task_struct *p, struct cpumask *m)
{
	unsigned long fl;

	raw_spin_lock_irqsave(&p->pi_lock, fl);
	cpumask_copy(m, &p->cpus_mask);
	raw_spin_unlock_irqrestore(&p->pi_lock, fl);
}

/* The CPUs of @nodes. */
static void kvmw_numa_cpus(const nodemask_t *nodes, struct cpumask *m)
{
	int n;

	cpumask_clear(m);
	for_each_node_mask(n, *nodes)
		cpumask_or(m, m, cpumask_of_node(n));
}

/* The one node of @nodes, else KVMW_NUMA_NODE_NONE. */
static u32 kvmw_numa_single(const nodemask_t *nodes)
{
	return nodes_weight(*nodes) == 1 ? first_node(*nodes) :
					   KVMW_NUMA_NODE_NONE;
}

/* The nodes the vCPU threads are to be on: none while following nowhere. */
static void kvmw_numa_target(const struct kvmw_numa *nv, nodemask_t *out)
{
	nodes_clear(*out);
	if (nv->policy == KVMW_NUMA_PIN)
		*out = nv->nodes;
	else if (nv->policy == KVMW_NUMA_FOLLOW &&
		 nv->cur_node != KVMW_NUMA_NODE_NONE)
		node_set(nv->cur_node, *out);
}

/*
 * Per mille of the VM's sampled resident memory on @nodes, from the last
 * complete memory pass (left in nv->mem); 1000 when nothing was sampled.
 */
static u32 kvmw_numa_local(struct kvmw_vm *vm, struct kvmw_numa *nv,
			   const nodemask_t *nodes, u64 *total,
			   struct kvmw_mem_pass *pass)
{
	unsigned int n, nr = kvmw_nr_nodes();
	u64 local = 0;

	kvmw_mem_read(vm, pass, nv->mem);
	*total = 0;
	for (n = 0; n < nr; n++) {
		*total += nv->mem[n];
		if (node_isset(n, *nodes))
			local += nv->mem[n];
	}
	return *total ? div64_u64(local * 1000, *total) : 1000;
}

static void kvmw_numa_event(struct kvmw_vm *vm, struct kvmw_numa *nv,
			    u16 type, u32 cause, const struct kvmw_numa_thr *t,
			    u32 from, u32 to)
{
	struct kvmw_event e = {
		.type = type,
		.vm_id = vm->id,
		.vmm_pid = vm->vmm_pid,
		.nr_vcpus = READ_ONCE(vm->nr_vcpus),
	};
	nodemask_t target;

	if (t) {
		e.vcpu_id = t->vcpu_id;
		e.tid = t->tid;
		e.numa.tid = t->tid;
	}
	kvmw_numa_target(nv, &target);
	e.numa.policy = nv->policy;
	e.numa.flags = nv->flags;
	e.numa.cause = cause;
	e.numa.from_node = from;
	e.numa.to_node = to;
	e.numa.local_pml = nv->local_pml;
	e.numa.nodes = nodes_addr(target)[0];
	e.numa.moves = nv->moves;
	kvmw_event_emit(&e);
}

/* The record of vCPU @vcpu_id of @vm, for its per-vCPU move count. */
static void kvmw_numa_count_vcpu(struct kvmw_vm *vm, u32 vcpu_id)
{
	struct kvmw_vcpu *v;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex))
		if (v->vcpu_id == vcpu_id)
			WRITE_ONCE(v->numa_moves, v->numa_moves + 1);
}

static struct kvmw_numa_thr *kvmw_numa_thr_find(struct kvmw_numa *nv,
						pid_t tid)
{
	struct kvmw_numa_thr *t;

	list_for_each_entry(t, &nv->threads, node)
		if (t->tid == tid)
			return t;
	return NULL;
}

static void kvmw_numa_thr_free(struct kvmw_numa_thr *t)
{
	list_del(&t->node);
	put_pid(t->pid);
	free_cpumask_var(t->orig);
	free_cpumask_var(t->set);
	kfree(t);
}

/* The task of @tid if it is a thread of @vm's VMM (referenced), else NULL. */
static struct task_struct *kvmw_numa_task(struct kvmw_vm *vm, struct pid *pid)
{
	struct task_struct *p = get_pid_task(pid, PIDTYPE_PID);

	if (p && (p->tgid != vm->vmm_pid || (p->flags & PF_EXITING))) {
		put_task_struct(p);
		p = NULL;
	}
	return p;
}

/* Track the threads that run @vm's vCPUs now (new entries unplaced). */
static void kvmw_numa_discover(struct kvmw_vm *vm, struct kvmw_numa *nv)
{
	struct kvmw_numa_thr *t;
	struct kvmw_vcpu *v;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		pid_t tid = READ_ONCE(v->tid);
		struct pid *pid;

		if (!tid || kvmw_numa_thr_find(nv, tid))
			continue;
		rcu_read_lock();
		pid = get_pid(find_pid_ns(tid, &init_pid_ns));
		rcu_read_unlock();
		if (!pid)
			continue;
		t = kzalloc(sizeof(*t), GFP_KERNEL);
		if (!t || !zalloc_cpumask_var(&t->orig, GFP_KERNEL) ||
		    !zalloc_cpumask_var(&t->set, GFP_KERNEL)) {
			/* Tried again on the next pass. */
			if (t)
				free_cpumask_var(t->orig);
			kfree(t);
			put_pid(pid);
			continue;
		}
		t->pid = pid;
		t->tid = tid;
		t->vcpu_id = v->vcpu_id;
		list_add_tail(&t->node, &nv->threads);
	}
}

/*
 * Give thread @t the mask of @target (NULL: leave it as it is), or keep
 * it there. A mask changed by someone else is the thread's new original.
 * Returns false when the thread is gone.
 */
static bool kvmw_numa_place(struct kvmw_vm *vm, struct kvmw_numa *nv,
			    struct kvmw_numa_thr *t,
			    const struct cpumask *target, u32 to, u32 cause)
{
	struct task_struct *p = kvmw_numa_task(vm, t->pid);
	u32 from;

	if (!p)
		return false;
	kvmw_numa_task_mask(p, nv->tmp);
	if (t->placed && !cpumask_equal(nv->tmp, t->set)) {
		/* Someone else set a mask since: it is theirs from now on. */
		t->placed = false;
		t->conflict = false;
		cause = KVMW_NUMA_CAUSE_AFFINITY;
	}
	if (!t->placed) {
		if (t->conflict && t->gen == nv->gen &&
		    cpumask_equal(nv->tmp, t->orig))
			goto out;
		cpumask_copy(t->orig, nv->tmp);
		t->conflict = false;
	}
	if (!target)
		goto out;
	cpumask_and(nv->tmp, t->orig, target);
	if (t->placed && cpumask_equal(nv->tmp, t->set))
		goto out;
	from = cpu_to_node(task_cpu(p));
	if (!cpumask_intersects(nv->tmp, cpu_active_mask) ||
	    set_cpus_allowed_ptr(p, nv->tmp)) {
		/* Nothing forced: the thread keeps (or gets back) its own. */
		if (t->placed && !set_cpus_allowed_ptr(p, t->orig))
			t->placed = false;
		t->conflict = true;
		t->gen = nv->gen;
		nv->supp_conflict++;
		kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_CONFLICT, cause, t,
				from, to);
		goto out;
	}
	kvmw_numa_task_mask(p, t->set);
	t->placed = true;
	kvmw_numa_count_vcpu(vm, t->vcpu_id);
	kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_MOVE, cause, t, from, to);
out:
	put_task_struct(p);
	return true;
}

/* Give @t its mask from before the module's, unless someone changed it. */
static void kvmw_numa_restore(struct kvmw_vm *vm, struct kvmw_numa *nv,
			      struct kvmw_numa_thr *t, u32 cause)
{
	struct task_struct *p;
	u32 from;

	if (!t->placed)
		return;
	t->placed = false;
	p = kvmw_numa_task(vm, t->pid);
	if (!p)
		return;
	from = cpu_to_node(task_cpu(p));
	kvmw_numa_task_mask(p, nv->tmp);
	if (!cpumask_equal(nv->tmp, t->set)) {
		nv->supp_conflict++;
		kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_CONFLICT,
				KVMW_NUMA_CAUSE_AFFINITY, t, from,
				KVMW_NUMA_NODE_NONE);
	} else if (!set_cpus_allowed_ptr(p, t->orig)) {
		kvmw_numa_count_vcpu(vm, t->vcpu_id);
		kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_MOVE, cause, t, from,
				KVMW_NUMA_NODE_NONE);
	}
	put_task_struct(p);
}

static void kvmw_numa_restore_all(struct kvmw_vm *vm, struct kvmw_numa *nv,
				  u32 cause)
{
	struct kvmw_numa_thr *t, *tmp;

	list_for_each_entry_safe(t, tmp, &nv->threads, node) {
		kvmw_numa_restore(vm, nv, t, cause);
		kvmw_numa_thr_free(t);
	}
}

/*
 * Every vCPU thread of @vm to the policy's nodes: new threads, threads
 * whose mask someone changed, a new follow node. Threads that ended are
 * forgotten.
 */
static void kvmw_numa_apply(struct kvmw_vm *vm, struct kvmw_numa *nv,
			    u32 cause)
{
	struct kvmw_numa_thr *t, *tmp;
	nodemask_t target;
	bool any;

	kvmw_numa_discover(vm, nv);
	kvmw_numa_target(nv, &target);
	any = !nodes_empty(target);
	kvmw_numa_cpus(&target, nv->target_mask);
	list_for_each_entry_safe(t, tmp, &nv->threads, node) {
		u32 c = cause;

		if (cause == KVMW_NUMA_CAUSE_NEW_VCPU && t->placed)
			c = KVMW_NUMA_CAUSE_AFFINITY;
		if (!kvmw_numa_place(vm, nv, t, any ? nv->target_mask : NULL,
				     kvmw_numa_single(&target), c))
			kvmw_numa_thr_free(t);
	}
}

/*
 * Can every vCPU thread of @vm get a non-empty part of @cpus, from the
 * mask it had before the module's?
 */
static bool kvmw_numa_fits(struct kvmw_vm *vm, struct kvmw_numa *nv,
			   const struct cpumask *cpus)
{
	struct kvmw_vcpu *v;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		pid_t tid = READ_ONCE(v->tid);
		struct kvmw_numa_thr *t;
		struct task_struct *p;
		struct pid *pid;

		if (!tid)
			continue;
		t = kvmw_numa_thr_find(nv, tid);
		if (t && t->placed) {
			if (!cpumask_intersects(t->orig, cpus))
				return false;
			continue;
		}
		rcu_read_lock();
		pid = get_pid(find_pid_ns(tid, &init_pid_ns));
		rcu_read_unlock();
		p = pid ? kvmw_numa_task(vm, pid) : NULL;
		put_pid(pid);
		if (!p)
			continue;
		kvmw_numa_task_mask(p, nv->tmp);
		put_task_struct(p);
		cpumask_and(nv->tmp, nv->tmp, cpus);
		if (!cpumask_intersects(nv->tmp, cpu_active_mask))
			return false;
	}
	return true;
}

/*
 * A follow decision pass. The node holding most of the sampled memory is
 * the candidate; the vCPUs move there when, for @passes passes in a row,
 * less than @threshold percent of the memory is on their node and the
 * candidate holds at least @margin percentage points more than their node
 * (the hysteresis: after a move the new node is ahead by the margin, so
 * moving back needs the memory itself to move back), at least @dwell_ms
 * after the last follow move and within the host-wide rate.
 */
static void kvmw_numa_follow(struct kvmw_vm *vm, struct kvmw_numa *nv)
{
	unsigned int n, nr = kvmw_nr_nodes();
	u32 best = KVMW_NUMA_NODE_NONE, cur = nv->cur_node;
	u64 total, local, top = 0, now;
	struct kvmw_mem_pass pass;
	nodemask_t target;

	nodes_clear(target);
	if (cur != KVMW_NUMA_NODE_NONE)
		node_set(cur, target);
	nv->local_pml = kvmw_numa_local(vm, nv, &target, &total, &pass);
	/* Only memory sampled after the policy was set counts. */
	if (!total || pass.pass_ns < nv->set_ns) {
		nv->below = 0;
		return;
	}
	for (n = 0; n < nr; n++)
		if (nv->mem[n] > top && node_state(n, N_CPU)) {
			top = nv->mem[n];
			best = n;
		}
	local = cur != KVMW_NUMA_NODE_NONE ? nv->mem[cur] : 0;
	if (local * 100 >= (u64)nv->threshold * total) {
		nv->below = 0;
		return;
	}
	if (best == KVMW_NUMA_NODE_NONE || best == cur ||
	    (top - local) * 100 < (u64)nv->margin * total) {
		nv->below = 0;
		nv->supp_hyst++;
		return;
	}
	if (nv->target != best)
		nv->below = 0;
	nv->target = best;
	if (++nv->below < nv->passes) {
		nv->supp_hyst++;
		return;
	}
	nv->below = nv->passes;
	now = ktime_get_boottime_ns();
	if (nv->follow_last &&
	    now - nv->follow_last < (u64)nv->dwell_ms * NSEC_PER_MSEC) {
		nv->supp_dwell++;
		return;
	}
	if (!kvmw_numa_rate_ok(now)) {
		nv->supp_rate++;
		return;
	}
	if (nv->flags & KVMW_NUMA_F_STRICT) {
		nodes_clear(target);
		node_set(best, target);
		kvmw_numa_cpus(&target, nv->target_mask);
		if (!kvmw_numa_fits(vm, nv, nv->target_mask)) {
			nv->supp_conflict++;
			return;
		}
	}
	kvmw_numa_rate_take(now);
	nv->cur_node = best;
	nv->gen++;
	nv->below = 0;
	nv->moves++;
	nv->follow_last = now;
	nv->last_move = now;
	nodes_clear(target);
	node_set(best, target);
	nv->local_pml = kvmw_numa_local(vm, nv, &target, &total, &pass);
	kvmw_numa_apply(vm, nv, KVMW_NUMA_CAUSE_FOLLOW);
}

static struct kvmw_numa *kvmw_numa_alloc(void)
{
	struct kvmw_numa *nv;

	nv = kzalloc(struct_size(nv, mem, kvmw_nr_nodes()), GFP_KERNEL);
	if (!nv)
		return NULL;
	if (!zalloc_cpumask_var(&nv->target_mask, GFP_KERNEL) ||
	    !zalloc_cpumask_var(&nv->tmp, GFP_KERNEL)) {
		free_cpumask_var(nv->target_mask);
		kfree(nv);
		return NULL;
	}
	INIT_LIST_HEAD(&nv->threads);
	nv->cur_node = KVMW_NUMA_NODE_NONE;
	nv->local_pml = 1000;
	return nv;
}

/* The node most of @vm's vCPU threads last ran on, else NODE_NONE. */
static u32 kvmw_numa_ran_node(struct kvmw_vm *vm, struct kvmw_numa *nv)
{
	unsigned int n, nr = kvmw_nr_nodes();
	u32 best = KVMW_NUMA_NODE_NONE;
	struct kvmw_vcpu *v;
	u64 top = 0;

	memset(nv->mem, 0, nr * sizeof(*nv->mem));
	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		u32 cpu = READ_ONCE(v->sched.last_cpu);

		if (cpu < nr_cpu_ids && cpu_to_node(cpu) >= 0 &&
		    cpu_to_node(cpu) < nr)
			nv->mem[cpu_to_node(cpu)]++;
	}
	for (n = 0; n < nr; n++)
		if (nv->mem[n] > top) {
			top = nv->mem[n];
			best = n;
		}
	return best;
}

static void kvmw_numa_schedule(unsigned long delay)
{
	if (!READ_ONCE(kvmw_numa_stopping))
		mod_delayed_work(system_wq, &kvmw_numa_work, delay);
}

/**
 * kvmw_numa_set() - set, replace or clear @vm's policy
 * @vm: a live VM (caller holds kvmw_mutex)
 * @req: the policy, its fields checked by the caller
 * @nodes: the policy's nodes (KVMW_NUMA_PIN), nodes with CPUs
 *
 * Nothing changes on error: EINVAL when a vCPU thread's mask from before
 * the module's does not meet the pinned nodes' CPUs.
 */
int kvmw_numa_set(struct kvmw_vm *vm, const struct kvmw_numa_policy *req,
		  const nodemask_t *nodes)
{
	struct kvmw_numa *nv = vm->numa;
	u32 prev_node = KVMW_NUMA_NODE_NONE;
	struct kvmw_mem_pass pass;
	bool fresh = false;
	u64 total;

	lockdep_assert_held(&kvmw_mutex);
	if (!nv) {
		if (req->policy == KVMW_NUMA_NONE)
			return 0;
		nv = kvmw_numa_alloc();
		if (!nv)
			return -ENOMEM;
		fresh = true;
	}
	if (req->policy == KVMW_NUMA_PIN) {
		kvmw_numa_cpus(nodes, nv->target_mask);
		if (!kvmw_numa_fits(vm, nv, nv->target_mask)) {
			if (fresh) {
				free_cpumask_var(nv->target_mask);
				free_cpumask_var(nv->tmp);
				kfree(nv);
			}
			return -EINVAL;
		}
	}
	if (fresh)
		WRITE_ONCE(vm->numa, nv);

	if (nv->policy != KVMW_NUMA_NONE) {
		prev_node = nv->cur_node;
		kvmw_numa_restore_all(vm, nv, KVMW_NUMA_CAUSE_CLEAR);
	}
	if (req->policy == KVMW_NUMA_NONE) {
		if (nv->policy != KVMW_NUMA_NONE)
			kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_CLEAR,
					KVMW_NUMA_CAUSE_CLEAR, NULL, prev_node,
					KVMW_NUMA_NODE_NONE);
		nv->policy = KVMW_NUMA_NONE;
		nv->flags = 0;
		nodes_clear(nv->nodes);
		nv->cur_node = KVMW_NUMA_NODE_NONE;
		return 0;
	}

	nv->policy = req->policy;
	nv->flags = req->flags;
	nodes_clear(nv->nodes);
	if (req->policy == KVMW_NUMA_PIN)
		nv->nodes = *nodes;
	nv->threshold = req->threshold_pct ?: KVMW_NUMA_DEF_THRESHOLD_PCT;
	nv->margin = req->margin_pct ?: KVMW_NUMA_DEF_MARGIN_PCT;
	nv->passes = req->passes ?: KVMW_NUMA_DEF_PASSES;
	nv->dwell_ms = req->dwell_ms ?: KVMW_NUMA_DEF_DWELL_MS;
	nv->interval_ms = req->interval_ms ?: KVMW_NUMA_DEF_INTERVAL_MS;
	nv->below = 0;
	nv->target = KVMW_NUMA_NODE_NONE;
	nv->follow_last = 0;
	nv->gen++;
	nv->set_ns = ktime_get_boottime_ns();
	if (req->policy == KVMW_NUMA_PIN) {
		nv->cur_node = kvmw_numa_single(nodes);
		nv->local_pml = kvmw_numa_local(vm, nv, nodes, &total, &pass);
		nv->moves++;
		nv->last_move = nv->set_ns;
	} else {
		/* Following starts from where the vCPUs are. */
		if (prev_node == KVMW_NUMA_NODE_NONE)
			prev_node = kvmw_numa_ran_node(vm, nv);
		nv->cur_node = prev_node;
	}
	kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_SET, KVMW_NUMA_CAUSE_SET,
			NULL, prev_node, nv->cur_node);
	kvmw_numa_apply(vm, nv, KVMW_NUMA_CAUSE_SET);
	nv->next_pass = jiffies + msecs_to_jiffies(nv->interval_ms);
	kvmw_numa_schedule(msecs_to_jiffies(nv->interval_ms));
	return 0;
}

/* The kernel's automatic NUMA balancing mode, as its sysctl file says. */
static u32 kvmw_numa_balancing(void)
{
	char buf[16] = {};
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	u32 val;

	f = filp_open("/proc/sys/kernel/numa_balancing", O_RDONLY, 0);
	if (IS_ERR(f))
		return KVMW_NUMA_BALANCING_UNKNOWN;
	n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n <= 0 || kstrtou32(strim(buf), 10, &val))
		return KVMW_NUMA_BALANCING_UNKNOWN;
	return val;
}

/**
 * kvmw_numa_get() - @vm's policy and placement state
 * @vm: the VM (caller holds kvmw_mutex)
 * @out: filled in; size, vm_id and the node words' pointer are the
 *	caller's
 * @nodes: set to the policy's nodes
 */
void kvmw_numa_get(struct kvmw_vm *vm, struct kvmw_numa_policy *out,
		   nodemask_t *nodes)
{
	struct kvmw_numa *nv = vm->numa;
	struct kvmw_numa_thr *t;
	struct kvmw_vcpu *v;
	u64 ran = 0;

	lockdep_assert_held(&kvmw_mutex);
	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		u32 cpu = READ_ONCE(v->sched.last_cpu);

		if (cpu < nr_cpu_ids && cpu_to_node(cpu) >= 0 &&
		    cpu_to_node(cpu) < 64)
			ran |= 1ULL << cpu_to_node(cpu);
	}
	out->ran_nodes = ran;
	out->numa_balancing = kvmw_numa_balancing();
	out->max_moves_per_min = kvmw_numa_max_rate();
	nodes_clear(*nodes);
	out->nodes = 0;
	out->cur_node = KVMW_NUMA_NODE_NONE;
	out->local_pml = 1000;
	if (!nv)
		return;
	out->policy = nv->policy;
	out->flags = nv->flags;
	*nodes = nv->nodes;
	out->nodes = nodes_addr(nv->nodes)[0];
	if (nv->policy == KVMW_NUMA_FOLLOW) {
		out->threshold_pct = nv->threshold;
		out->margin_pct = nv->margin;
		out->passes = nv->passes;
		out->dwell_ms = nv->dwell_ms;
		out->interval_ms = nv->interval_ms;
	}
	out->cur_node = nv->cur_node;
	out->local_pml = nv->local_pml;
	out->moves = nv->moves;
	out->suppressed_dwell = nv->supp_dwell;
	out->suppressed_hysteresis = nv->supp_hyst;
	out->suppressed_rate = nv->supp_rate;
	out->suppressed_conflict = nv->supp_conflict;
	out->last_move_ns = nv->last_move;
	list_for_each_entry(t, &nv->threads, node) {
		out->nr_threads++;
		if (t->placed)
			out->nr_placed++;
	}
}

/* @vm's values of the numa_* VM statistics (KVMW_NUMA_R_*). kvmw_mutex. */
void kvmw_numa_read(struct kvmw_vm *vm, u64 *val)
{
	struct kvmw_numa *nv = vm->numa;

	memset(val, 0, KVMW_NUMA_R_NR * sizeof(*val));
	val[KVMW_NUMA_R_NODE] = KVMW_NUMA_NODE_NONE;
	val[KVMW_NUMA_R_LOCAL] = 1000;
	if (!nv)
		return;
	val[KVMW_NUMA_R_POLICY] = nv->policy;
	val[KVMW_NUMA_R_NODE] = nv->cur_node;
	val[KVMW_NUMA_R_MOVES] = nv->moves;
	val[KVMW_NUMA_R_DWELL] = nv->supp_dwell;
	val[KVMW_NUMA_R_HYST] = nv->supp_hyst;
	val[KVMW_NUMA_R_RATE] = nv->supp_rate;
	val[KVMW_NUMA_R_CONFLICT] = nv->supp_conflict;
	val[KVMW_NUMA_R_LOCAL] = nv->local_pml;
}

static void kvmw_numa_free(struct kvmw_numa *nv)
{
	struct kvmw_numa_thr *t, *tmp;

	list_for_each_entry_safe(t, tmp, &nv->threads, node)
		kvmw_numa_thr_free(t);
	free_cpumask_var(nv->target_mask);
	free_cpumask_var(nv->tmp);
	kfree(nv);
}

/* End @vm's policy, the threads given their masks back. kvmw_mutex. */
static void kvmw_numa_end(struct kvmw_vm *vm, u32 cause)
{
	struct kvmw_numa *nv = vm->numa;

	if (!nv)
		return;
	if (nv->policy != KVMW_NUMA_NONE) {
		kvmw_numa_restore_all(vm, nv, cause);
		kvmw_numa_event(vm, nv, KVMW_EVENT_NUMA_CLEAR, cause, NULL,
				nv->cur_node, KVMW_NUMA_NODE_NONE);
	}
	WRITE_ONCE(vm->numa, NULL);
	kvmw_numa_free(nv);
}

/*
 * kvmw_numa_vm_gone() - @vm was found destroyed: its threads (the VMM may
 * live on) get their masks back. Caller holds kvmw_mutex.
 */
void kvmw_numa_vm_gone(struct kvmw_vm *vm)
{
	lockdep_assert_held(&kvmw_mutex);
	kvmw_numa_end(vm, KVMW_NUMA_CAUSE_GONE);
}

/* @vm is being freed and nothing can see it: no mask is touched. */
void kvmw_numa_vm_free(struct kvmw_vm *vm)
{
	if (vm->numa)
		kvmw_numa_free(vm->numa);
	vm->numa = NULL;
}

/*
 * kvmw_numa_kick() - a VM with a policy has a new vCPU: place it now.
 * Any context (the discovery in the probes).
 */
void kvmw_numa_kick(void)
{
	if (!test_and_set_bit(0, &kvmw_numa_kicked))
		kvmw_numa_schedule(0);
}

static void kvmw_numa_workfn(struct work_struct *work)
{
	unsigned long now = jiffies, next = now + 60 * HZ;
	bool kicked = test_and_clear_bit(0, &kvmw_numa_kicked);
	bool any = false;
	struct kvmw_vm *vm;

	mutex_lock(&kvmw_mutex);
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		struct kvmw_numa *nv = vm->numa;

		if (!nv || nv->policy == KVMW_NUMA_NONE || vm->gone_ns)
			continue;
		any = true;
		if (time_after_eq(now, nv->next_pass)) {
			if (nv->policy == KVMW_NUMA_FOLLOW)
				kvmw_numa_follow(vm, nv);
			kvmw_numa_apply(vm, nv, KVMW_NUMA_CAUSE_NEW_VCPU);
			nv->next_pass = now + max(1UL,
				msecs_to_jiffies(nv->interval_ms));
		} else if (kicked) {
			kvmw_numa_apply(vm, nv, KVMW_NUMA_CAUSE_NEW_VCPU);
		}
		if (time_before(nv->next_pass, next))
			next = nv->next_pass;
	}
	mutex_unlock(&kvmw_mutex);
	if (any && !READ_ONCE(kvmw_numa_stopping))
		schedule_delayed_work(&kvmw_numa_work,
				      time_after(next, jiffies) ?
				      next - jiffies : 1);
}

/*
 * Unload, after the probes and the device are gone: no pass runs any
 * more, every placed thread gets its mask back.
 */
void kvmw_numa_exit(void)
{
	struct kvmw_vm *vm;

	WRITE_ONCE(kvmw_numa_stopping, true);
	cancel_delayed_work_sync(&kvmw_numa_work);
	mutex_lock(&kvmw_mutex);
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex))
		kvmw_numa_end(vm, KVMW_NUMA_CAUSE_UNLOAD);
	mutex_unlock(&kvmw_mutex);
}
