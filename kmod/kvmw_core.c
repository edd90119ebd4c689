// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: VM and vCPU records, their pools, discovery and teardown.
 *
 * Locking:
 *  kvmw_discover_lock (spinlock, never taken from hard-IRQ context)
 *	protects the pools and every insertion into or removal from
 *	kvmw_vms, vm->vcpus and kvmw_vcpu_hash. Discovery takes it from the
 *	probes (possibly with IRQs off) once per new vCPU; the per-exit path
 *	never takes it.
 *  kvmw_mutex
 *	serialises process-context users: ioctls, the sweep and teardown.
 *	Records are freed only under it (after an RCU grace period), so a
 *	holder may walk the lists without the spinlock: concurrent
 *	insertions are RCU-safe.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/hashtable.h>
#include <linux/irq_work.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <asm/cpufeature.h>

#include "kvmw.h"

static unsigned int vcpu_reserve = 64;
module_param(vcpu_reserve, uint, 0444);
MODULE_PARM_DESC(vcpu_reserve,
		 "vCPU records kept ready for new vCPUs (default 64)");

static unsigned int vcpu_reserve_max = 1024;
module_param(vcpu_reserve_max, uint, 0444);
MODULE_PARM_DESC(vcpu_reserve_max,
		 "Most vCPU records the pool grows to after it ran dry (default 1024)");

static unsigned int vm_reserve = 16;
module_param(vm_reserve, uint, 0444);
MODULE_PARM_DESC(vm_reserve, "VM records kept ready for new VMs (default 16)");

static unsigned int gone_retention_ms = 10000;
module_param(gone_retention_ms, uint, 0644);
MODULE_PARM_DESC(gone_retention_ms,
		 "How long a destroyed VM stays readable, in ms (default 10000)");

static unsigned int sweep_interval_ms = 1000;
module_param(sweep_interval_ms, uint, 0644);
MODULE_PARM_DESC(sweep_interval_ms,
		 "Period of the destroyed-VM check, in ms (default 1000)");

/* Serialises ioctls, the sweep and teardown (see the top of this file). */
DEFINE_MUTEX(kvmw_mutex);
LIST_HEAD(kvmw_vms);
unsigned int kvmw_nr_vms;
unsigned int kvmw_nr_vcpus;
/* Cleared when a VM without a debugfs directory is seen. */
bool kvmw_lifetime_exact = true;

static DEFINE_SPINLOCK(kvmw_discover_lock);
static DEFINE_HASHTABLE(kvmw_vcpu_hash, 10);
static u64 kvmw_next_vm_id = 1;

static struct kvmw_vcpu *kvmw_vcpu_pool;
static unsigned int kvmw_vcpu_pool_nr;
/*
 * vCPU records the refill keeps ready: vcpu_reserve, doubled (up to
 * vcpu_reserve_max) each time a new vCPU found the pool empty, so that a
 * VMM starting vCPUs faster than the pool refills loses less the next time.
 */
static unsigned int kvmw_vcpu_target;
/* The target grew since the last refill: grow it once per dry spell. */
static bool kvmw_vcpu_target_grown;
static struct kvmw_vm *kvmw_vm_pool;
static unsigned int kvmw_vm_pool_nr;

/* Last vCPU record used on each CPU: the per-exit lookup. */
DEFINE_PER_CPU(struct kvmw_vcpu *, kvmw_last);
static DEFINE_PER_CPU(u64, kvmw_untracked);

static void kvmw_refill_workfn(struct work_struct *work);
static DECLARE_WORK(kvmw_refill_work, kvmw_refill_workfn);
static void kvmw_sweep_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(kvmw_sweep_work, kvmw_sweep_workfn);

/*
 * The refill is requested from the probes, which may run with IRQs off and
 * inside KVM's run loop: bounce through irq_work so that queueing the work
 * item never happens under any lock of the caller.
 */
static void kvmw_refill_irq_workfn(struct irq_work *iw)
{
	queue_work(system_unbound_wq, &kvmw_refill_work);
}

static struct irq_work kvmw_refill_iw;

void kvmw_count_untracked(void)
{
	this_cpu_inc(kvmw_untracked);
}

u64 kvmw_untracked_exits(void)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(&kvmw_untracked, cpu));
	return sum;
}

u64 kvmw_vcpu_exits(const struct kvmw_vcpu *v)
{
	u64 sum = READ_ONCE(v->overflow_exits);
	unsigned int i;

	for (i = 0; i < KVMW_NR_SLOTS; i++)
		sum += READ_ONCE(v->counts[i]);
	for (i = 0; i < KVMW_NR_OVERFLOW; i++)
		sum += READ_ONCE(v->ovf_count[i]);
	return sum;
}

/**
 * kvmw_vcpu_find() - look up the record of a running vCPU
 * @vcpu: the vCPU, pinned by the caller (a probe on its thread)
 *
 * Return: the record, or NULL if this vCPU incarnation has none yet.
 */
struct kvmw_vcpu *kvmw_vcpu_find(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v;

	rcu_read_lock();
	hash_for_each_possible_rcu(kvmw_vcpu_hash, v, hnode,
				   (unsigned long)vcpu) {
		if (kvmw_vcpu_matches(v, vcpu)) {
			rcu_read_unlock();
			return v;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/**
 * kvmw_vcpu_find_tid() - record of the vCPU thread @tid with an exit pending
 * @tid: thread id (the caller's own)
 *
 * A walk of every record: only for the rare lookups that have no vCPU
 * pointer and missed the per-CPU cache. A thread that ran vCPUs of several
 * VMs (one since destroyed, its last exit never followed by an entry) has
 * several such records; the one with the latest exit is the one it ran
 * last.
 *
 * Return: the record, or NULL.
 */
struct kvmw_vcpu *kvmw_vcpu_find_tid(pid_t tid)
{
	struct kvmw_vcpu *v, *best = NULL;
	unsigned int bkt;

	rcu_read_lock();
	hash_for_each_rcu(kvmw_vcpu_hash, bkt, v, hnode) {
		if (READ_ONCE(v->tid) != tid || !READ_ONCE(v->pending))
			continue;
		if (!best || (s64)(READ_ONCE(v->exit_ts) -
				   READ_ONCE(best->exit_ts)) > 0)
			best = v;
	}
	rcu_read_unlock();
	return best;
}

static void kvmw_request_refill(void)
{
	if (kvmw_vcpu_pool_nr < READ_ONCE(kvmw_vcpu_target) / 2 + 1 ||
	    kvmw_vm_pool_nr < vm_reserve / 2 + 1)
		irq_work_queue(&kvmw_refill_iw);
}

/* KVM runs on the CPU's own extension: a CPU has SVM or VMX, never both. */
u32 kvmw_host_vendor(void)
{
	if (boot_cpu_has(X86_FEATURE_SVM))
		return KVMW_VENDOR_SVM;
	if (boot_cpu_has(X86_FEATURE_VMX))
		return KVMW_VENDOR_VMX;
	return KVMW_VENDOR_UNKNOWN;
}

static struct kvmw_vm *kvmw_vm_attach(struct kvm *kvm)
{
	struct dentry *token = kvmw_token_raw(kvm);
	struct kvmw_vm *vm;

	lockdep_assert_held(&kvmw_discover_lock);

	list_for_each_entry(vm, &kvmw_vms, node)
		if (vm->kvm_key == kvm && vm->token == token && !vm->gone_ns)
			return vm;

	vm = kvmw_vm_pool;
	if (!vm)
		return NULL;
	kvmw_vm_pool = vm->pool_next;
	kvmw_vm_pool_nr--;

	vm->pool_next = NULL;
	vm->kvm_key = kvm;
	vm->token = token;
	if (kvmw_token_valid(token))
		dget(token);
	else
		WRITE_ONCE(kvmw_lifetime_exact, false);
	vm->id = kvmw_next_vm_id++;
	vm->vmm_pid = task_tgid_nr(current);
	vm->vmm = get_task_pid(current, PIDTYPE_TGID);
	vm->vendor = kvmw_host_vendor();
	vm->first_seen_ns = ktime_get_boottime_ns();
	/* Racy against prctl(PR_SET_NAME) like /proc; always terminated. */
	memcpy(vm->comm, current->group_leader->comm, sizeof(vm->comm));
	vm->comm[sizeof(vm->comm) - 1] = '\0';
	spin_lock_init(&vm->mem.lock);
	vm->mem.next = jiffies;
	INIT_LIST_HEAD(&vm->vcpus);
	list_add_tail_rcu(&vm->node, &kvmw_vms);
	kvmw_nr_vms++;
	return vm;
}

/**
 * kvmw_vcpu_discover() - create the records of a vCPU seen for the first time
 * @vcpu: the running vCPU (pinned by the caller)
 *
 * Runs in probe context: takes records from the pools, never allocates.
 *
 * Return: the new record, or NULL when a pool is empty (a refill is queued
 * and the caller counts the event as untracked).
 */
struct kvmw_vcpu *kvmw_vcpu_discover(struct kvm_vcpu *vcpu)
{
	struct kvmw_vcpu *v = NULL;
	struct kvmw_vm *vm;

	u64 now = kvmw_now();
	bool new_vm;

	spin_lock(&kvmw_discover_lock);
	vm = kvmw_vm_attach(vcpu->kvm);
	if (!vm)
		goto out;
	if (!kvmw_vcpu_pool) {
		/* Every exit of an untracked vCPU lands here: once per refill. */
		if (!kvmw_vcpu_target_grown) {
			WRITE_ONCE(kvmw_vcpu_target,
				   min(kvmw_vcpu_target * 2,
				       max(vcpu_reserve_max, vcpu_reserve)));
			kvmw_vcpu_target_grown = true;
		}
		goto out;
	}
	new_vm = !vm->nr_vcpus;

	v = kvmw_vcpu_pool;
	kvmw_vcpu_pool = v->pool_next;
	kvmw_vcpu_pool_nr--;

	v->pool_next = NULL;
	v->key = vcpu;
	v->kvm_key = vcpu->kvm;
	v->token = vm->token;
	v->vm = vm;
	v->vcpu_id = vcpu->vcpu_id;
	v->tid = task_pid_nr(current);
	/* The first guest-time interval starts now, and so does its running. */
	v->entry_ts = now;
	v->sched.last_cpu = KVMW_CPU_NONE;
	kvmw_sched_start(v, now);
	/* The vCPU is loaded here: its notifier carries KVM's preempt ops. */
	if (!kvmw_kvm_preempt_ops)
		WRITE_ONCE(kvmw_kvm_preempt_ops, vcpu->preempt_notifier.ops);
	hash_add_rcu(kvmw_vcpu_hash, &v->hnode, (unsigned long)vcpu);
	list_add_tail_rcu(&v->vm_node, &vm->vcpus);
	vm->nr_vcpus++;
	kvmw_nr_vcpus++;
	kvmw_event_vm(new_vm ? KVMW_EVENT_VM_NEW : KVMW_EVENT_VCPU_NEW, vm, v);
out:
	kvmw_request_refill();
	spin_unlock(&kvmw_discover_lock);
	return v;
}

static void kvmw_refill_workfn(struct work_struct *work)
{
	for (;;) {
		bool need_vcpu = READ_ONCE(kvmw_vcpu_pool_nr) <
				 READ_ONCE(kvmw_vcpu_target);
		bool need_vm = READ_ONCE(kvmw_vm_pool_nr) < vm_reserve;
		struct kvmw_vcpu *v = NULL;
		struct kvmw_vm *vm = NULL;

		if (!need_vcpu && !need_vm) {
			spin_lock(&kvmw_discover_lock);
			kvmw_vcpu_target_grown = false;
			spin_unlock(&kvmw_discover_lock);
			return;
		}
		if (need_vcpu) {
			/* Several pages with the latency tables: allow vmalloc. */
			v = kvzalloc(sizeof(*v), GFP_KERNEL);
			if (!v)
				return;
		}
		if (need_vm) {
			vm = kzalloc(sizeof(*vm), GFP_KERNEL);
			if (!vm) {
				kvfree(v);
				return;
			}
		}
		spin_lock(&kvmw_discover_lock);
		if (v) {
			v->pool_next = kvmw_vcpu_pool;
			kvmw_vcpu_pool = v;
			kvmw_vcpu_pool_nr++;
		}
		if (vm) {
			vm->pool_next = kvmw_vm_pool;
			kvmw_vm_pool = vm;
			kvmw_vm_pool_nr++;
		}
		spin_unlock(&kvmw_discover_lock);
	}
}

/* A VM is destroyed once KVM has removed its debugfs directory. */
static bool kvmw_vm_destroyed(const struct kvmw_vm *vm)
{
	if (kvmw_token_valid(vm->token))
		return d_unhashed(vm->token) ||
		       d_really_is_negative(vm->token);
	/* Without a token, the best available evidence: the VMM is gone. */
	return !vm->vmm || !pid_has_task(vm->vmm, PIDTYPE_TGID);
}

static void kvmw_vm_free(struct kvmw_vm *vm)
{
	struct kvmw_vcpu *v, *tmp;

	list_for_each_entry_safe(v, tmp, &vm->vcpus, vm_node)
		kvfree(v);
	if (kvmw_token_valid(vm->token))
		dput(vm->token);
	put_pid(vm->vmm);
	kfree(vm);
}

/*
 * Unlink @reap (VMs already removed from kvmw_vms) from every lookup
 * structure and free them. Caller holds kvmw_mutex.
 */
static void kvmw_reap(struct list_head *reap)
{
	struct kvmw_vm *vm, *tmp;
	int cpu;

	/* No new lookup can find them after this grace period... */
	synchronize_rcu();
	/* ...so once the per-CPU caches are cleared, nothing can... */
	for_each_possible_cpu(cpu) {
		struct kvmw_vcpu **last = per_cpu_ptr(&kvmw_last, cpu);
		struct kvmw_vcpu *v = READ_ONCE(*last);

		if (v && READ_ONCE(v->vm->gone_ns) == U64_MAX)
			cmpxchg(last, v, NULL);
	}
	/* ...and probes that read a cache entry before it was cleared are done. */
	synchronize_rcu();
	list_for_each_entry_safe(vm, tmp, reap, node) {
		list_del(&vm->node);
		kvmw_vm_free(vm);
	}
}

/**
 * kvmw_sweep() - mark destroyed VMs gone and reap expired ones
 *
 * Caller holds kvmw_mutex. Called periodically and before every read so
 * that the state userspace sees is current.
 */
void kvmw_sweep(void)
{
	u64 now = ktime_get_boottime_ns();
	u64 keep = (u64)READ_ONCE(gone_retention_ms) * NSEC_PER_MSEC;
	struct kvmw_vm *vm, *tmp;
	LIST_HEAD(reap);

	lockdep_assert_held(&kvmw_mutex);
	kvmw_clock_check();

	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		if (!vm->gone_ns && kvmw_vm_destroyed(vm)) {
			WRITE_ONCE(vm->gone_ns, now);
			kvmw_event_vm(KVMW_EVENT_VM_GONE, vm, NULL);
		}
	}

	spin_lock(&kvmw_discover_lock);
	list_for_each_entry_safe(vm, tmp, &kvmw_vms, node) {
		struct kvmw_vcpu *v;

		if (!vm->gone_ns || now - vm->gone_ns < keep)
			continue;
		list_for_each_entry(v, &vm->vcpus, vm_node)
			hash_del_rcu(&v->hnode);
		list_del_rcu(&vm->node);
		/* Marks the VM for the per-CPU cache purge in kvmw_reap(). */
		WRITE_ONCE(vm->gone_ns, U64_MAX);
		list_add_tail(&vm->node, &reap);
		kvmw_nr_vms--;
		kvmw_nr_vcpus -= vm->nr_vcpus;
	}
	spin_unlock(&kvmw_discover_lock);

	if (!list_empty(&reap))
		kvmw_reap(&reap);
}

static void kvmw_sweep_workfn(struct work_struct *work)
{
	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	mutex_unlock(&kvmw_mutex);
	schedule_delayed_work(&kvmw_sweep_work,
			      msecs_to_jiffies(max(100U, sweep_interval_ms)));
}

int kvmw_core_init(void)
{
	/* An empty pool would leave every vCPU untracked. */
	vcpu_reserve = max(vcpu_reserve, 1U);
	kvmw_vcpu_target = vcpu_reserve;
	vm_reserve = max(vm_reserve, 1U);
	init_irq_work(&kvmw_refill_iw, kvmw_refill_irq_workfn);
	kvmw_refill_workfn(NULL);
	if (kvmw_vcpu_pool_nr < vcpu_reserve || kvmw_vm_pool_nr < vm_reserve) {
		kvmw_core_exit();
		return -ENOMEM;
	}
	schedule_delayed_work(&kvmw_sweep_work,
			      msecs_to_jiffies(max(100U, sweep_interval_ms)));
	return 0;
}

/* Called after the probes are unregistered and drained. */
void kvmw_core_exit(void)
{
	struct kvmw_vm *vm, *tmp;
	int cpu;

	cancel_delayed_work_sync(&kvmw_sweep_work);
	irq_work_sync(&kvmw_refill_iw);
	cancel_work_sync(&kvmw_refill_work);

	for_each_possible_cpu(cpu)
		per_cpu(kvmw_last, cpu) = NULL;
	hash_init(kvmw_vcpu_hash);
	list_for_each_entry_safe(vm, tmp, &kvmw_vms, node) {
		list_del(&vm->node);
		kvmw_vm_free(vm);
	}
	kvmw_nr_vms = 0;
	kvmw_nr_vcpus = 0;

	while (kvmw_vcpu_pool) {
		struct kvmw_vcpu *v = kvmw_vcpu_pool;

		kvmw_vcpu_pool = v->pool_next;
		kvfree(v);
	}
	kvmw_vcpu_pool_nr = 0;
	while (kvmw_vm_pool) {
		vm = kvmw_vm_pool;
		kvmw_vm_pool = vm->pool_next;
		kfree(vm);
	}
	kvmw_vm_pool_nr = 0;
}
