// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: VM, VMM and vCPU records: pools, caps, discovery, lookup and
 * the sweep of destroyed VMs.
 *
 * Locking:
 *  kvmw_discover_lock (spinlock, never taken from hard-IRQ context)
 *	protects the pools, the caps' counters and every insertion into or
 *	removal from kvmw_vms, vm->vcpus and the hashes (vCPU, VM, VMM,
 *	thread id). Discovery takes it from the probes (possibly with IRQs
 *	off) once per new vCPU, and the slow path once per change of the
 *	thread running a vCPU; the per-exit path never takes it, and an
 *	untracked vCPU reaches it at most once per generation (see
 *	kvmw_refused).
 *  kvmw_mutex
 *	serialises process-context users: ioctls and the sweep. A holder
 *	may walk kvmw_vms and vm->vcpus without the spinlock: records are
 *	unlinked only under it (and freed after it is dropped, after RCU
 *	grace periods), and concurrent insertions are RCU-safe. Nothing
 *	waits for an RCU grace period while holding it.
 *
 * Bounds. A record costs memory that a /dev/kvm user can make the module
 * spend, so the number of records is capped in total and per VMM process
 * (module parameters), and pool refills are charged to the memory cgroup
 * of the VMM that emptied the pool. Exits of vCPUs beyond the caps are
 * counted as untracked. A VM without a lifetime token (KVM could not
 * create its debugfs directory, e.g. a name clash after dup2()) cannot be
 * seen dying until its VMM exits: it is retired after idle_retire_ms
 * without guest entries.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/irq_work.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/rculist_nulls.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include <kvmwarden/categories.h>

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

/* Raising a cap lets refused vCPUs try again (kvmw_discover_gen). */
static int kvmw_caps_set(const char *val, const struct kernel_param *kp);

static const struct kernel_param_ops kvmw_caps_ops = {
	.set = kvmw_caps_set,
	.get = param_get_uint,
};

static unsigned int max_vms = 4096;
module_param_cb(max_vms, &kvmw_caps_ops, &max_vms, 0644);
MODULE_PARM_DESC(max_vms, "Most VMs tracked at once, gone ones included (default 4096)");

static unsigned int max_vcpus = 32768;
module_param_cb(max_vcpus, &kvmw_caps_ops, &max_vcpus, 0644);
MODULE_PARM_DESC(max_vcpus, "Most vCPUs tracked at once (default 32768)");

static unsigned int max_vms_per_vmm = 256;
module_param_cb(max_vms_per_vmm, &kvmw_caps_ops, &max_vms_per_vmm, 0644);
MODULE_PARM_DESC(max_vms_per_vmm,
		 "Most VMs tracked per VMM process, gone ones included (default 256)");

static unsigned int max_vcpus_per_vmm = 8192;
module_param_cb(max_vcpus_per_vmm, &kvmw_caps_ops, &max_vcpus_per_vmm, 0644);
MODULE_PARM_DESC(max_vcpus_per_vmm, "Most vCPUs tracked per VMM process (default 8192)");

static unsigned int gone_retention_ms = 10000;
module_param(gone_retention_ms, uint, 0644);
MODULE_PARM_DESC(gone_retention_ms,
		 "How long a destroyed VM stays readable, in ms (default 10000)");

static unsigned int sweep_interval_ms = 1000;
module_param(sweep_interval_ms, uint, 0644);
MODULE_PARM_DESC(sweep_interval_ms,
		 "Period of the destroyed-VM check, in ms (default 1000)");

static unsigned int idle_retire_ms = 60000;
module_param(idle_retire_ms, uint, 0644);
MODULE_PARM_DESC(idle_retire_ms,
		 "A VM without lifetime token is retired after this long without guest entries, in ms (default 60000)");

/* Serialises ioctls and the sweep (see the top of this file). */
DEFINE_MUTEX(kvmw_mutex);
LIST_HEAD(kvmw_vms);
unsigned int kvmw_nr_vms;
unsigned int kvmw_nr_vcpus;

static DEFINE_SPINLOCK(kvmw_discover_lock);
static DEFINE_HASHTABLE(kvmw_vcpu_hash, 10);
/*
 * Thread id -> the record it ran last. A record moves between buckets
 * when its thread changes, without waiting for readers: the lists end in
 * a nulls marker naming their bucket, and a reader that finished in
 * another bucket's list starts again (the sockets' pattern).
 */
#define KVMW_TID_HASH_BITS	10
static struct hlist_nulls_head kvmw_tid_hash[1 << KVMW_TID_HASH_BITS];

static u32 kvmw_tid_bucket(pid_t tid)
{
	return hash_32((u32)tid, KVMW_TID_HASH_BITS);
}

static DEFINE_HASHTABLE(kvmw_vm_hash, 8);
static DEFINE_HASHTABLE(kvmw_vmm_hash, 8);
static u64 kvmw_next_vm_id = 1;

static struct kvmw_vcpu *kvmw_vcpu_pool;
static unsigned int kvmw_vcpu_pool_nr;
/*
 * vCPU records the refill keeps ready: vcpu_reserve, doubled (up to
 * vcpu_reserve_max) each time a new vCPU found the pool empty, so that a
 * VMM starting vCPUs faster than the pool refills loses less the next time.
 */
static unsigned int kvmw_vcpu_target;
/* A new vCPU found the pool empty: the next refill grows the target. */
static bool kvmw_vcpu_pool_dry;
static struct kvmw_vm *kvmw_vm_pool;
static unsigned int kvmw_vm_pool_nr;
static struct kvmw_vmm *kvmw_vmm_pool;
static unsigned int kvmw_vmm_pool_nr;
/* A refill is queued or running: the probes do not queue another. */
static bool kvmw_refill_pending;
/* VMM whose memory cgroup pays for the next refill (referenced). */
static struct pid *kvmw_refill_payer;

/*
 * Generation of the discovery outcome: bumped whenever a refused vCPU
 * could now get a record (a refill, a reap, a cap raised). A vCPU refused
 * on a CPU is remembered there with the generation, and its exits on that
 * CPU are counted as untracked without the lock until it changes.
 */
static unsigned long kvmw_discover_gen;

struct kvmw_refused {
	const struct kvm_vcpu *vcpu;
	const struct dentry *token;
	unsigned long gen;
};

/* Last vCPU record used on each CPU: the per-exit lookup. */
DEFINE_PER_CPU(struct kvmw_vcpu *, kvmw_last);
static DEFINE_PER_CPU(struct kvmw_refused, kvmw_refused);
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
 * kvmw_slot_to_code() - raw reason code of a dense slot
 * @slot: index in struct kvmw_vcpu::counts
 *
 * Return: the reason code that is counted in @slot.
 */
u32 kvmw_slot_to_code(unsigned int slot)
{
	if (slot < KVMW_SLOT_DIRECT)
		return slot;
	return KVMW_SVM_HIGH_BASE + slot - KVMW_SLOT_DIRECT;
}

/**
 * kvmw_slot_lat() - latency entry of a reason slot
 * @v: vCPU record
 * @slot: a dense slot, or KVMW_NR_SLOTS + i for overflow slot i
 *
 * Return: the entry, or NULL when the reason has none (never exited, or
 * the vCPU's latency table was full). Pairs with the release in the
 * exit probe's kvmw_lat_assign(): the entry is seen initialised.
 */
const struct kvmw_lat *kvmw_slot_lat(const struct kvmw_vcpu *v,
				     unsigned int slot)
{
	struct kvmw_lat *const *p = slot < KVMW_NR_SLOTS ? &v->lat_of[slot] :
				    &v->ovf_lat[slot - KVMW_NR_SLOTS];

	/* Pairs with the release in kvmw_lat_assign(). */
	return smp_load_acquire(p);
}

/* Reason codes @v has exited with so far. */
u32 kvmw_vcpu_nr_reasons(const struct kvmw_vcpu *v)
{
	/* Pairs with the release in kvmw_lat_assign(). */
	u32 nr_lat = smp_load_acquire(&v->nr_lat);
	unsigned int i;
	u32 n = 0;

	/* Every reason has a latency entry until the table is full. */
	if (nr_lat < KVMW_LAT_REASONS)
		return nr_lat;
	for (i = 0; i < KVMW_NR_SLOTS; i++)
		n += !!READ_ONCE(v->counts[i]);
	for (i = 0; i < KVMW_NR_OVERFLOW; i++)
		n += !!READ_ONCE(v->ovf_count[i]);
	return n;
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
 * kvmw_vcpu_find_tid() - record of the vCPU thread @tid ran last
 * @tid: thread id (the caller's own)
 *
 * At most one record per thread id is in kvmw_tid_hash, the one the
 * thread ran last, so the cost does not depend on how many VMs or vCPUs
 * exist or how many of them the thread ran.
 *
 * Return: the record, or NULL.
 */
struct kvmw_vcpu *kvmw_vcpu_find_tid(pid_t tid)
{
	u32 b = kvmw_tid_bucket(tid);
	struct hlist_nulls_node *n;
	struct kvmw_vcpu *v;

	rcu_read_lock();
again:
	hlist_nulls_for_each_entry_rcu(v, n, &kvmw_tid_hash[b], tid_node) {
		if (READ_ONCE(v->run_tid) == tid) {
			rcu_read_unlock();
			return v;
		}
	}
	/* The walk ended in another bucket: a node moved under it. */
	if (get_nulls_value(n) != b)
		goto again;
	rcu_read_unlock();
	return NULL;
}

/* Make @v the record thread @tid ran last. Caller holds the lock. */
static void kvmw_tid_link(struct kvmw_vcpu *v, pid_t tid)
{
	u32 b = kvmw_tid_bucket(tid);
	struct hlist_nulls_node *n;
	struct kvmw_vcpu *o;

	lockdep_assert_held(&kvmw_discover_lock);
	hlist_nulls_for_each_entry(o, n, &kvmw_tid_hash[b], tid_node) {
		if (o->run_tid == tid && o != v) {
			/* Nobody runs it now: the thread moved on to @v. */
			hlist_nulls_del_init_rcu(&o->tid_node);
			WRITE_ONCE(o->run_tid, 0);
			break;
		}
	}
	if (!hlist_nulls_unhashed(&v->tid_node))
		hlist_nulls_del_init_rcu(&v->tid_node);
	WRITE_ONCE(v->tid, tid);
	WRITE_ONCE(v->run_tid, tid);
	hlist_nulls_add_head_rcu(&v->tid_node, &kvmw_tid_hash[b]);
}

/**
 * kvmw_vcpu_set_tid() - another thread runs the vCPU of @v
 * @v: the record, of a vCPU running on the current thread
 * @tid: the current thread's id
 */
void kvmw_vcpu_set_tid(struct kvmw_vcpu *v, pid_t tid)
{
	spin_lock(&kvmw_discover_lock);
	/* Being reaped (kvmw_expire() unhashed it): never link it again. */
	if (!hlist_unhashed(&v->hnode))
		kvmw_tid_link(v, tid);
	spin_unlock(&kvmw_discover_lock);
}

/* Queue a pool refill unless one is pending. Any context but hard IRQ. */
static void kvmw_request_refill(void)
{
	/* The pool just taken from before the flag; pairs with the worker. */
	smp_mb();
	if (READ_ONCE(kvmw_refill_pending))
		return;
	WRITE_ONCE(kvmw_refill_pending, true);
	irq_work_queue(&kvmw_refill_iw);
}

static bool kvmw_pools_low(void)
{
	return kvmw_vcpu_pool_nr < READ_ONCE(kvmw_vcpu_target) / 2 + 1 ||
	       kvmw_vm_pool_nr < vm_reserve / 2 + 1 ||
	       kvmw_vmm_pool_nr < vm_reserve / 2 + 1;
}

/* The VMM record of the current process, or NULL. Caller holds the lock. */
static struct kvmw_vmm *kvmw_vmm_get(struct pid *tgid, bool create)
{
	struct kvmw_vmm *m;

	hash_for_each_possible(kvmw_vmm_hash, m, node, (unsigned long)tgid)
		if (m->pid == tgid)
			return m;
	if (!create || !kvmw_vmm_pool)
		return NULL;
	m = kvmw_vmm_pool;
	kvmw_vmm_pool = m->pool_next;
	kvmw_vmm_pool_nr--;
	m->pool_next = NULL;
	m->pid = get_pid(tgid);
	m->nr_vms = 0;
	m->nr_vcpus = 0;
	hash_add(kvmw_vmm_hash, &m->node, (unsigned long)tgid);
	return m;
}

static void kvmw_vmm_put(struct kvmw_vmm *m)
{
	lockdep_assert_held(&kvmw_discover_lock);
	if (m->nr_vms)
		return;
	hash_del(&m->node);
	put_pid(m->pid);
	m->pid = NULL;
	m->pool_next = kvmw_vmm_pool;
	kvmw_vmm_pool = m;
	kvmw_vmm_pool_nr++;
}

static struct kvmw_vm *kvmw_vm_attach(struct kvm *kvm)
{
	struct dentry *token = kvmw_token_raw(kvm);
	struct pid *tgid = task_tgid(current);
	struct kvmw_vmm *owner;
	struct kvmw_vm *vm;

	lockdep_assert_held(&kvmw_discover_lock);

	hash_for_each_possible(kvmw_vm_hash, vm, hnode, (unsigned long)kvm)
		if (vm->kvm_key == kvm && vm->token == token && !vm->gone_ns)
			return vm;

	if (!kvmw_vm_pool || kvmw_nr_vms >= READ_ONCE(max_vms))
		return NULL;
	owner = kvmw_vmm_get(tgid, true);
	if (!owner)
		return NULL;
	/* A VM is created with its first vCPU: both must fit. */
	if (owner->nr_vms >= READ_ONCE(max_vms_per_vmm) ||
	    owner->nr_vcpus >= READ_ONCE(max_vcpus_per_vmm)) {
		kvmw_vmm_put(owner);
		return NULL;
	}
	vm = kvmw_vm_pool;
	kvmw_vm_pool = vm->pool_next;
	kvmw_vm_pool_nr--;

	vm->pool_next = NULL;
	vm->kvm_key = kvm;
	vm->token = token;
	if (kvmw_token_valid(token))
		dget(token);
	vm->id = kvmw_next_vm_id++;
	vm->vmm_pid = task_tgid_nr(current);
	vm->vmm = get_pid(tgid);
	vm->owner = owner;
	owner->nr_vms++;
	vm->vendor = kvmw_host_vendor();
	vm->first_seen_ns = ktime_get_boottime_ns();
	vm->idle_since = jiffies;
	/* Racy against prctl(PR_SET_NAME) like /proc; NUL-padded. */
	strscpy_pad(vm->comm, current->group_leader->comm, sizeof(vm->comm));
	kvmw_mem_init(vm);
	INIT_LIST_HEAD(&vm->vcpus);
	hash_add(kvmw_vm_hash, &vm->hnode, (unsigned long)kvm);
	list_add_tail_rcu(&vm->node, &kvmw_vms);
	kvmw_nr_vms++;
	kvmw_budget_default_attach(vm);
	return vm;
}

/* An event about @vm or one of its vCPUs, whose record is @v. */
static void kvmw_event_vm(u16 type, const struct kvmw_vm *vm,
			  const struct kvmw_vcpu *v, const u64 *data)
{
	struct kvmw_event e = {
		.type = type,
		.vm_id = vm->id,
		.vmm_pid = vm->vmm_pid,
		.nr_vcpus = READ_ONCE(vm->nr_vcpus),
	};

	if (v) {
		e.vcpu_id = v->vcpu_id;
		e.tid = READ_ONCE(v->tid);
	}
	if (data)
		memcpy(e.data, data, sizeof(e.data));
	kvmw_event_emit(&e);
}

/* Remember on this CPU that @vcpu got no record in this generation. */
static void kvmw_refuse(const struct kvm_vcpu *vcpu, unsigned long gen)
{
	struct kvmw_refused *r = this_cpu_ptr(&kvmw_refused);

	r->vcpu = vcpu;
	r->token = kvmw_token_raw(vcpu->kvm);
	r->gen = gen;
}

/**
 * kvmw_vcpu_discover() - create the records of a vCPU seen for the first time
 * @vcpu: the running vCPU (pinned by the caller)
 * @now: kvmw_now(): the first guest-time interval starts there
 * @new_vm: set when the vCPU's VM was created too
 *
 * Runs in probe context: takes records from the pools, never allocates.
 * A vCPU refused (empty pool, a cap reached) is remembered on this CPU,
 * so that its next exits here do not come back until something changed.
 *
 * Return: the new record, or NULL (the caller counts the exit as
 * untracked).
 */
struct kvmw_vcpu *kvmw_vcpu_discover(struct kvm_vcpu *vcpu, u64 now,
				     bool *new_vm)
{
	struct kvmw_refused *r = this_cpu_ptr(&kvmw_refused);
	unsigned long gen = READ_ONCE(kvmw_discover_gen);
	struct kvmw_vcpu *v = NULL;
	struct kvmw_vm *vm;

	*new_vm = false;
	if (r->vcpu == vcpu && r->gen == gen &&
	    r->token == kvmw_token_raw(vcpu->kvm))
		return NULL;
	if (!READ_ONCE(kvmw_vcpu_pool)) {
		if (!READ_ONCE(kvmw_vcpu_pool_dry))
			WRITE_ONCE(kvmw_vcpu_pool_dry, true);
		kvmw_request_refill();
		kvmw_refuse(vcpu, gen);
		return NULL;
	}
	if (READ_ONCE(kvmw_nr_vcpus) >= READ_ONCE(max_vcpus)) {
		kvmw_refuse(vcpu, gen);
		return NULL;
	}

	spin_lock(&kvmw_discover_lock);
	if (!kvmw_vcpu_pool || kvmw_nr_vcpus >= READ_ONCE(max_vcpus))
		goto out;
	vm = kvmw_vm_attach(vcpu->kvm);
	if (!vm || vm->owner->nr_vcpus >= READ_ONCE(max_vcpus_per_vmm))
		goto out;
	*new_vm = !vm->nr_vcpus;

	v = kvmw_vcpu_pool;
	kvmw_vcpu_pool = v->pool_next;
	kvmw_vcpu_pool_nr--;

	v->pool_next = NULL;
	v->key = vcpu;
	v->kvm_key = vcpu->kvm;
	v->token = vm->token;
	v->vm = vm;
	v->vcpu_id = vcpu->vcpu_id;
	v->entry_ts = now;
	v->sched.last_cpu = KVMW_CPU_NONE;
	kvmw_kvm_learn(vcpu);
	hash_add_rcu(kvmw_vcpu_hash, &v->hnode, (unsigned long)vcpu);
	kvmw_tid_link(v, task_pid_nr(current));
	list_add_tail_rcu(&v->vm_node, &vm->vcpus);
	vm->nr_vcpus++;
	vm->owner->nr_vcpus++;
	kvmw_nr_vcpus++;
	kvmw_event_vm(*new_vm ? KVMW_EVENT_VM_NEW : KVMW_EVENT_VCPU_NEW, vm, v,
		      NULL);
	/* NUMA placement: a VM with a policy gets its new vCPU placed. */
	if (unlikely(READ_ONCE(vm->numa)))
		kvmw_numa_kick();
out:
	if (kvmw_pools_low()) {
		/* The VMM that emptied the pool pays for the refill. */
		if (!kvmw_refill_payer)
			kvmw_refill_payer = get_pid(task_tgid(current));
		kvmw_request_refill();
	}
	spin_unlock(&kvmw_discover_lock);
	if (!v)
		kvmw_refuse(vcpu, gen);
	return v;
}

/* Something a refused vCPU was waiting for may have changed. */
static void kvmw_discover_retry(void)
{
	WRITE_ONCE(kvmw_discover_gen, kvmw_discover_gen + 1);
}

/*
 * The memory cgroup of @payer's process, referenced, or NULL: refills
 * are charged to the VMM whose vCPUs used the records up.
 */
static struct mem_cgroup *kvmw_payer_memcg(struct pid *payer)
{
	struct mem_cgroup *memcg = NULL;
	struct task_struct *t;
	struct mm_struct *mm;

	if (!payer)
		return NULL;
	t = get_pid_task(payer, PIDTYPE_TGID);
	if (!t)
		return NULL;
	mm = get_task_mm(t);
	put_task_struct(t);
	if (!mm)
		return NULL;
	memcg = get_mem_cgroup_from_mm(mm);
	mmput(mm);
	return memcg;
}

/*
 * Charged to the payer's memory cgroup, but never a reason to OOM-kill
 * it: a refill that does not fit fails, and vCPUs stay untracked until a
 * later refill (the periodic sweep retries) finds room.
 */
#define KVMW_GFP_REFILL	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

static bool kvmw_refill_one(void)
{
	bool need_vcpu = READ_ONCE(kvmw_vcpu_pool_nr) <
			 READ_ONCE(kvmw_vcpu_target);
	bool need_vm = READ_ONCE(kvmw_vm_pool_nr) < vm_reserve;
	bool need_vmm = READ_ONCE(kvmw_vmm_pool_nr) < vm_reserve;
	struct kvmw_vcpu *v = NULL;
	struct kvmw_vmm *m = NULL;
	struct kvmw_vm *vm = NULL;

	if (!need_vcpu && !need_vm && !need_vmm)
		return false;
	/*
	 * Several pages with the latency tables: allow vmalloc. Both
	 * records end in per-node arrays, two of kvmw_nr_nodes() each.
	 */
	if (need_vcpu) {
		v = kvzalloc(struct_size(v, node_vals, 2 * kvmw_nr_nodes()),
			     KVMW_GFP_REFILL);
		if (!v)
			return false;
	}
	if (need_vm) {
		vm = kvzalloc(struct_size(vm, mem_node, 2 * kvmw_nr_nodes()),
			      KVMW_GFP_REFILL);
		if (!vm)
			goto fail;
	}
	if (need_vmm) {
		m = kzalloc(sizeof(*m), KVMW_GFP_REFILL);
		if (!m)
			goto fail;
	}
	spin_lock(&kvmw_discover_lock);
	if (v) {
		v->tid_node.pprev = NULL;
		v->pool_next = kvmw_vcpu_pool;
		kvmw_vcpu_pool = v;
		kvmw_vcpu_pool_nr++;
	}
	if (vm) {
		vm->pool_next = kvmw_vm_pool;
		kvmw_vm_pool = vm;
		kvmw_vm_pool_nr++;
	}
	if (m) {
		m->pool_next = kvmw_vmm_pool;
		kvmw_vmm_pool = m;
		kvmw_vmm_pool_nr++;
	}
	spin_unlock(&kvmw_discover_lock);
	return true;
fail:
	kvfree(vm);
	kvfree(v);
	return false;
}

static void kvmw_refill_workfn(struct work_struct *work)
{
	struct mem_cgroup *memcg, *old;
	struct pid *payer;

	spin_lock(&kvmw_discover_lock);
	payer = kvmw_refill_payer;
	kvmw_refill_payer = NULL;
	spin_unlock(&kvmw_discover_lock);

	/* Grow the reserve once per dry spell, so the next burst loses less. */
	if (READ_ONCE(kvmw_vcpu_pool_dry)) {
		WRITE_ONCE(kvmw_vcpu_target,
			   min(kvmw_vcpu_target * 2,
			       max(vcpu_reserve_max, vcpu_reserve)));
		WRITE_ONCE(kvmw_vcpu_pool_dry, false);
	}
	memcg = kvmw_payer_memcg(payer);
	put_pid(payer);
	/* A request from now on queues another run: none is lost. */
	WRITE_ONCE(kvmw_refill_pending, false);
	/* The clear before the pool reads; pairs with kvmw_request_refill(). */
	smp_mb();
	old = set_active_memcg(memcg);
	while (kvmw_refill_one()) {
		/* Refused vCPUs may try again at once. */
		kvmw_discover_retry();
	}
	set_active_memcg(old);
	mem_cgroup_put(memcg);
}

/* A VM is destroyed once KVM has removed its debugfs directory. */
static bool kvmw_vm_destroyed(struct kvmw_vm *vm, unsigned long now)
{
	unsigned long idle = msecs_to_jiffies(READ_ONCE(idle_retire_ms));
	bool in_guest = false;
	struct kvmw_vcpu *v;
	u64 entries = 0;

	if (kvmw_token_valid(vm->token))
		return kvmw_token_dead(vm->token);
	/* Without a token, the best available evidence: the VMM is gone... */
	if (!vm->vmm || !pid_has_task(vm->vmm, PIDTYPE_TGID))
		return true;
	/* ...or the VM has not run for idle_retire_ms. */
	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		entries += READ_ONCE(v->entries);
		/* Entered and not out yet: running in the guest, not idle. */
		if ((s64)(READ_ONCE(v->entry_ts) - READ_ONCE(v->exit_ts)) > 0)
			in_guest = true;
	}
	if (entries != vm->idle_entries || in_guest) {
		vm->idle_entries = entries;
		vm->idle_since = now;
		return false;
	}
	return time_after_eq(now, vm->idle_since + idle);
}

static void kvmw_vm_free(struct kvmw_vm *vm)
{
	struct kvmw_vcpu *v, *tmp;

	list_for_each_entry_safe(v, tmp, &vm->vcpus, vm_node) {
		/* A park queued on its thread still refers to it. */
		kvmw_budget_vcpu_wait(v);
		kvfree(v);
	}
	kvmw_budget_vm_free(vm);
	kvmw_numa_vm_free(vm);
	if (kvmw_token_valid(vm->token))
		dput(vm->token);
	put_pid(vm->vmm);
	kvfree(vm);
}

/*
 * Free @reap (VMs already unlinked from every lookup structure). Waits for
 * RCU grace periods: never called with kvmw_mutex held.
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
 * kvmw_vm_totals() - a VM's totals, for its VM_GONE event
 * @vm: the VM (caller holds kvmw_mutex)
 * @data: KVMW_EVENT_GONE_* slots to fill
 *
 * The same sums as a snapshot's: reason by reason, so that they equal
 * what KVMW_IOC_LIST_VMS and KVMW_IOC_VM_SNAPSHOT returned.
 */
static void kvmw_vm_totals(const struct kvmw_vm *vm, u64 *data)
{
	struct kvmw_vcpu *v;
	unsigned int i;

	list_for_each_entry_rcu(v, &vm->vcpus, vm_node,
				lockdep_is_held(&kvmw_mutex)) {
		data[KVMW_EVENT_GONE_EXITS] += kvmw_vcpu_exits(v);
		data[KVMW_EVENT_GONE_ENTRIES] += READ_ONCE(v->entries);
		data[KVMW_EVENT_GONE_GUEST_NS] +=
			kvmw_clock_to_ns(READ_ONCE(v->guest_t));
		data[KVMW_EVENT_GONE_FAULTS] += READ_ONCE(v->faults.n);
		data[KVMW_EVENT_GONE_UNTIMED] += READ_ONCE(v->untimed_exits);
		for (i = 0; i < KVMW_NR_SLOTS + KVMW_NR_OVERFLOW; i++) {
			const struct kvmw_lat *e = kvmw_slot_lat(v, i);
			u32 code;
			u64 t, u;

			if (!e)
				continue;
			code = i < KVMW_NR_SLOTS ? kvmw_slot_to_code(i) :
			       READ_ONCE(v->ovf_code[i - KVMW_NR_SLOTS]);
			t = READ_ONCE(e->total_ns);
			if (kvmw_reason_category(vm->vendor, code) ==
			    KVMW_CAT_HALT) {
				data[KVMW_EVENT_GONE_IDLE_NS] += t;
				continue;
			}
			u = min(READ_ONCE(e->user_ns), t);
			data[KVMW_EVENT_GONE_USER_NS] += u;
			data[KVMW_EVENT_GONE_OVERHEAD_NS] += t - u;
		}
	}
}

/**
 * kvmw_sweep() - mark destroyed VMs gone
 *
 * Caller holds kvmw_mutex. Cheap (no allocation, no RCU wait): called
 * periodically and before the reads that list VMs, so that a destroyed
 * VM shows as gone at once.
 */
void kvmw_sweep(void)
{
	u64 now = ktime_get_boottime_ns();
	unsigned long j = jiffies;
	struct kvmw_vm *vm;

	lockdep_assert_held(&kvmw_mutex);
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		u64 data[sizeof_field(struct kvmw_event, data) / sizeof(u64)] = {};

		if (vm->gone_ns)
			continue;
		kvmw_budget_sweep(vm);
		if (!kvmw_vm_destroyed(vm, j))
			continue;
		WRITE_ONCE(vm->gone_ns, now);
		/* A new VM at the same address is a new VM from now on. */
		spin_lock(&kvmw_discover_lock);
		hash_del(&vm->hnode);
		spin_unlock(&kvmw_discover_lock);
		kvmw_vm_totals(vm, data);
		kvmw_event_vm(KVMW_EVENT_VM_GONE, vm, NULL, data);
		/* NUMA placement: the VMM's threads get their masks back. */
		kvmw_numa_vm_gone(vm);
	}
}

/*
 * Unlink the VMs gone for longer than gone_retention_ms into @reap.
 * Caller holds kvmw_mutex.
 */
static void kvmw_expire(struct list_head *reap)
{
	u64 now = ktime_get_boottime_ns();
	u64 keep = (u64)READ_ONCE(gone_retention_ms) * NSEC_PER_MSEC;
	struct kvmw_vm *vm, *tmp;

	spin_lock(&kvmw_discover_lock);
	list_for_each_entry_safe(vm, tmp, &kvmw_vms, node) {
		struct kvmw_vcpu *v;

		if (!vm->gone_ns || now - vm->gone_ns < keep)
			continue;
		list_for_each_entry(v, &vm->vcpus, vm_node) {
			hash_del_rcu(&v->hnode);
			if (!hlist_nulls_unhashed(&v->tid_node))
				hlist_nulls_del_init_rcu(&v->tid_node);
		}
		list_del_rcu(&vm->node);
		/* Marks the VM for the per-CPU cache purge in kvmw_reap(). */
		WRITE_ONCE(vm->gone_ns, U64_MAX);
		list_add_tail(&vm->node, reap);
		kvmw_nr_vms--;
		kvmw_nr_vcpus -= vm->nr_vcpus;
		vm->owner->nr_vms--;
		vm->owner->nr_vcpus -= vm->nr_vcpus;
		kvmw_vmm_put(vm->owner);
		vm->owner = NULL;
	}
	spin_unlock(&kvmw_discover_lock);
}

static void kvmw_sweep_workfn(struct work_struct *work)
{
	LIST_HEAD(reap);
	bool low;

	kvmw_clock_check();
	mutex_lock(&kvmw_mutex);
	kvmw_sweep();
	kvmw_expire(&reap);
	mutex_unlock(&kvmw_mutex);
	if (!list_empty(&reap)) {
		kvmw_reap(&reap);
		kvmw_discover_retry();
	}
	/* A refill that failed (memory cgroup full) is retried from here. */
	spin_lock(&kvmw_discover_lock);
	low = kvmw_pools_low();
	spin_unlock(&kvmw_discover_lock);
	if (low) {
		kvmw_request_refill();
		kvmw_discover_retry();
	}
	schedule_delayed_work(&kvmw_sweep_work,
			      msecs_to_jiffies(max(100U, sweep_interval_ms)));
}

/* Look a VM up by its id. Caller holds kvmw_mutex. */
struct kvmw_vm *kvmw_vm_by_id(u64 id)
{
	struct kvmw_vm *vm;

	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex))
		if (vm->id == id)
			return vm;
	return NULL;
}

/*
 * Destroyed VMs are detected exactly wherever KVM gives VMs a debugfs
 * directory; VMs without one carry KVMW_VM_F_NO_LIFETIME.
 */
bool kvmw_lifetime_available(void)
{
	return IS_ENABLED(CONFIG_DEBUG_FS);
}

static int kvmw_caps_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint(val, kp);

	if (!ret)
		kvmw_discover_retry();
	return ret;
}

static void kvmw_tid_hash_init(void)
{
	u32 b;

	for (b = 0; b < ARRAY_SIZE(kvmw_tid_hash); b++)
		INIT_HLIST_NULLS_HEAD(&kvmw_tid_hash[b], b);
}

int kvmw_records_init(void)
{
	kvmw_tid_hash_init();
	/* An empty pool would leave every vCPU untracked. */
	vcpu_reserve = max(vcpu_reserve, 1U);
	kvmw_vcpu_target = vcpu_reserve;
	vm_reserve = max(vm_reserve, 1U);
	init_irq_work(&kvmw_refill_iw, kvmw_refill_irq_workfn);
	while (kvmw_refill_one())
		;
	if (kvmw_vcpu_pool_nr < vcpu_reserve || kvmw_vm_pool_nr < vm_reserve ||
	    kvmw_vmm_pool_nr < vm_reserve) {
		kvmw_records_exit();
		return -ENOMEM;
	}
	schedule_delayed_work(&kvmw_sweep_work,
			      msecs_to_jiffies(max(100U, sweep_interval_ms)));
	return 0;
}

/* Called after the probes are unregistered and drained. */
void kvmw_records_exit(void)
{
	struct kvmw_vm *vm, *tmp;
	struct hlist_node *n;
	struct kvmw_vmm *m;
	int cpu, bkt;

	cancel_delayed_work_sync(&kvmw_sweep_work);
	irq_work_sync(&kvmw_refill_iw);
	cancel_work_sync(&kvmw_refill_work);
	put_pid(kvmw_refill_payer);
	kvmw_refill_payer = NULL;

	for_each_possible_cpu(cpu) {
		per_cpu(kvmw_last, cpu) = NULL;
		per_cpu(kvmw_refused, cpu).vcpu = NULL;
	}
	hash_init(kvmw_vcpu_hash);
	kvmw_tid_hash_init();
	hash_init(kvmw_vm_hash);
	list_for_each_entry_safe(vm, tmp, &kvmw_vms, node) {
		list_del(&vm->node);
		kvmw_vm_free(vm);
	}
	kvmw_nr_vms = 0;
	kvmw_nr_vcpus = 0;
	hash_for_each_safe(kvmw_vmm_hash, bkt, n, m, node) {
		hash_del(&m->node);
		put_pid(m->pid);
		kfree(m);
	}

	while (kvmw_vcpu_pool) {
		struct kvmw_vcpu *v = kvmw_vcpu_pool;

		kvmw_vcpu_pool = v->pool_next;
		kvfree(v);
	}
	kvmw_vcpu_pool_nr = 0;
	while (kvmw_vm_pool) {
		vm = kvmw_vm_pool;
		kvmw_vm_pool = vm->pool_next;
		kvfree(vm);
	}
	kvmw_vm_pool_nr = 0;
	while (kvmw_vmm_pool) {
		m = kvmw_vmm_pool;
		kvmw_vmm_pool = m->pool_next;
		kfree(m);
	}
	kvmw_vmm_pool_nr = 0;
}
