// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: the scheduler's view of vCPU threads, and where VM memory lives.
 *
 * Scheduler view. The sched_switch, sched_wakeup and sched_migrate_task
 * tracepoints are not exported; they are found by name with the exported
 * for_each_kernel_tracepoint() and attached with tracepoint_probe_register().
 * They fire for every task on the host, so the probes must reject
 * non-vCPU tasks at once. A thread inside KVM_RUN has the vCPU loaded, and
 * vcpu_load() registers the vCPU's preempt notifier on the thread: an empty
 * task_struct::preempt_notifiers is the one-load early return. The
 * notifier is embedded in struct kvm_vcpu, and its ops pointer (KVM's
 * kvm_preempt_ops, learnt from the first vCPU kvmwarden discovers) tells a
 * KVM notifier from any other, so the vCPU is found without any lookup by
 * thread id. Only the thread's time inside KVM_RUN is seen.
 *
 * The vCPU behind a task's notifier is dereferenced only while the task
 * cannot leave KVM_RUN: it is the current task, or it is not running and
 * the scheduler holds its runqueue lock (switch-in, wakeup, migration). A
 * task being woken while still on a CPU is skipped.
 *
 * sched_wakeup_new is not used: a thread that was just created cannot be
 * inside KVM_RUN.
 *
 * Memory locality. Resident pages per NUMA node are sampled from KVM's
 * memslots by the VM's own vCPU threads: a switch-out or a return to the
 * VMM marks a sample due (at most every sample_interval_ms per VM), and the
 * next guest entry, where the vCPU is pinned and current->mm is the VMM's,
 * takes a batch of mem_batch pages with the lockless, non-faulting
 * get_user_page_fast_only(). A pass steps through the memslots in gfn
 * order (KVM's gfn tree: O(log slots) to resume) with a stride chosen for
 * at most mem_samples samples, so no pass walks a large VM page by page
 * and no probe does more than one batch.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/tracepoint.h>

#include "kvmw.h"

static unsigned int sample_interval_ms = 10;
module_param(sample_interval_ms, uint, 0644);
MODULE_PARM_DESC(sample_interval_ms,
		 "Minimum time between two memory sample batches of a VM, in ms (default 10)");

static unsigned int mem_batch = 16;
module_param(mem_batch, uint, 0644);
MODULE_PARM_DESC(mem_batch, "Guest pages looked at per sample batch (default 16, max 64)");

static unsigned int mem_samples = 4096;
module_param(mem_samples, uint, 0644);
MODULE_PARM_DESC(mem_samples,
		 "Samples per pass over a VM's memory; smaller VMs are sampled page by page (default 4096)");

/* KVM's preempt notifier ops, set by the first discovery. */
struct preempt_ops *kvmw_kvm_preempt_ops __read_mostly;

static struct tracepoint *kvmw_tp_switch;
static struct tracepoint *kvmw_tp_wakeup;
static struct tracepoint *kvmw_tp_migrate;

static __always_inline bool kvmw_task_in_kvm(const struct task_struct *p)
{
	return READ_ONCE(p->preempt_notifiers.first);
}

/*
 * Record of the vCPU loaded by @p, or NULL. @p must be unable to leave
 * KVM_RUN meanwhile (see the top of this file). Other vCPU ioctls load
 * the vCPU too (KVM_GET_REGS...), and KVM_RUN loads it a little before
 * its first entry: the record says where KVM_RUN stands, since a return
 * to the VMM leaves KVMW_WORK_USER set until the next entry, and in that
 * state the thread is not counted.
 */
static noinline struct kvmw_vcpu *kvmw_task_vcpu(struct task_struct *p)
{
	struct hlist_node *first = READ_ONCE(p->preempt_notifiers.first);
	struct preempt_ops *ops = READ_ONCE(kvmw_kvm_preempt_ops);
	struct preempt_notifier *pn;
	struct kvm_vcpu *vcpu;
	struct kvmw_vcpu *v;

	if (!first || !ops)
		return NULL;
	pn = hlist_entry(first, struct preempt_notifier, link);
	if (READ_ONCE(pn->ops) != ops)
		return NULL;
	vcpu = container_of(pn, struct kvm_vcpu, preempt_notifier);
	v = kvmw_vcpu_find(vcpu);
	if (v && (READ_ONCE(v->entry_work) & KVMW_WORK_USER))
		return NULL;
	return v;
}

static void kvmw_run_close(struct kvmw_sched *s, u64 now)
{
	int nid;

	if (!s->run_ts)
		return;
	nid = cpu_to_node(s->run_cpu);
	if (nid >= 0 && nid < KVMW_MAX_NODES)
		WRITE_ONCE(s->run_node_ns[nid],
			   s->run_node_ns[nid] + kvmw_delta_ns(now - s->run_ts));
	s->run_ts = 0;
}

static void kvmw_run_open(struct kvmw_sched *s, u64 now, int cpu)
{
	s->run_ts = now ?: 1;
	s->run_cpu = cpu;
	WRITE_ONCE(s->last_cpu, cpu);
}

/**
 * kvmw_sched_start() - the vCPU thread runs now, inside KVM_RUN
 * @v: its record
 * @now: kvmw_now()
 *
 * Called on the thread itself: at discovery and at the first entry after
 * a return to the VMM, the points from which its running is seen again.
 */
void kvmw_sched_start(struct kvmw_vcpu *v, u64 now)
{
	kvmw_run_open(&v->sched, now, raw_smp_processor_id());
}

/**
 * kvmw_sched_leave_kvm() - KVM_RUN returned to the VMM
 * @v: the record of the current thread's vCPU
 * @now: kvmw_now()
 *
 * What the thread does in userspace is not seen: close the run interval.
 */
void kvmw_sched_leave_kvm(struct kvmw_vcpu *v, u64 now)
{
	kvmw_run_close(&v->sched, now);
	v->sched.wait_ts = 0;
}

static noinline void kvmw_sched_switch_slow(bool preempt,
					    struct task_struct *prev,
					    struct task_struct *next,
					    unsigned int prev_state)
{
	u64 now = kvmw_now();
	struct kvmw_vcpu *v;
	struct kvmw_sched *s;

	v = kvmw_task_vcpu(prev);
	if (v) {
		s = &v->sched;
		kvmw_run_close(s, now);
		/*
		 * prev_state was read before __schedule() put a task with a
		 * signal pending back to TASK_RUNNING instead of blocking
		 * it: the task's own state says whether it stays queued.
		 */
		if (preempt || READ_ONCE(prev->__state) == TASK_RUNNING) {
			WRITE_ONCE(s->preemptions, s->preemptions + 1);
			s->wait_ts = now ?: 1;
		} else {
			WRITE_ONCE(s->sleeps, s->sleeps + 1);
			s->wait_ts = 0;
		}
		/* prev is the vCPU thread itself: entry_work is its own. */
		if (kvmw_mem_due(v->vm))
			v->entry_work |= KVMW_WORK_MEM;
	}
	v = kvmw_task_vcpu(next);
	if (v) {
		s = &v->sched;
		if (s->wait_ts) {
			u64 ns = kvmw_delta_ns(now - s->wait_ts);

			WRITE_ONCE(s->rq_delay_ns, s->rq_delay_ns + ns);
			WRITE_ONCE(s->rq_delay_n, s->rq_delay_n + 1);
			if (ns > s->rq_delay_max)
				WRITE_ONCE(s->rq_delay_max, ns);
			s->rq_hist[kvmw_lat_bucket(ns)]++;
			s->wait_ts = 0;
		}
		kvmw_run_open(s, now, smp_processor_id());
	}
}

static void kvmw_probe_sched_switch(void *data, bool preempt,
				    struct task_struct *prev,
				    struct task_struct *next,
				    unsigned int prev_state)
{
	if (likely(!kvmw_task_in_kvm(prev) && !kvmw_task_in_kvm(next)))
		return;
	kvmw_sched_switch_slow(preempt, prev, next, prev_state);
}

static void kvmw_probe_sched_wakeup(void *data, struct task_struct *p)
{
	struct kvmw_vcpu *v;

	if (likely(!kvmw_task_in_kvm(p)))
		return;
	/* Still on a CPU (woken while going to sleep): it never waited. */
	if (READ_ONCE(p->on_cpu))
		return;
	v = kvmw_task_vcpu(p);
	if (v && !v->sched.wait_ts)
		v->sched.wait_ts = kvmw_now() ?: 1;
}

static void kvmw_probe_sched_migrate(void *data, struct task_struct *p,
				     int dest_cpu)
{
	struct kvmw_vcpu *v;
	struct kvmw_sched *s;

	if (likely(!kvmw_task_in_kvm(p)))
		return;
	if (p != current && READ_ONCE(p->on_cpu))
		return;
	v = kvmw_task_vcpu(p);
	if (!v)
		return;
	s = &v->sched;
	WRITE_ONCE(s->migrations, s->migrations + 1);
	if (cpu_to_node(task_cpu(p)) != cpu_to_node(dest_cpu))
		WRITE_ONCE(s->node_migrations, s->node_migrations + 1);
}

/**
 * kvmw_sched_read() - copy the scheduler figures of @v for userspace
 * @v: vCPU record
 * @vi: its answer, VER3 fields
 */
void kvmw_sched_read(const struct kvmw_vcpu *v, struct kvmw_vcpu_info *vi)
{
	const struct kvmw_sched *s = &v->sched;
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
	for (i = 0; i < KVMW_MAX_NODES; i++)
		vi->run_node_ns[i] = READ_ONCE(s->run_node_ns[i]);
	for (i = 0; i < KVMW_LAT_BUCKETS; i++)
		vi->rq_delay_hist[i] = READ_ONCE(s->rq_hist[i]);
}

/*
 * Memory of a guest_memfd slot (6.8+: confidential guests' private
 * memory) is not mapped in the VMM at userspace_addr: not sampled.
 */
static bool kvmw_private_slot(const struct kvm_memory_slot *slot)
{
#ifdef KVM_MEM_GUEST_MEMFD
	return slot->flags & KVM_MEM_GUEST_MEMFD;
#else
	return false;
#endif
}

/* Pages of address space 0 (not SMM) in @slots: once per pass. */
static u64 kvmw_slots_pages(struct kvm_memslots *slots)
{
	struct kvm_memory_slot *slot;
	u64 pages = 0;
	int bkt;

	kvm_for_each_memslot(slot, bkt, slots)
		if (!kvmw_private_slot(slot))
			pages += slot->npages;
	return pages;
}

/**
 * kvmw_mem_sample() - take one batch of memory samples of a VM
 * @vm: the VM's record
 * @vcpu: one of its vCPUs, running on the current thread (pins the VM)
 *
 * Called from the guest entry of a vCPU whose sample was due. Never sleeps.
 */
void kvmw_mem_sample(struct kvmw_vm *vm, struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvmw_mem *m = &vm->mem;
	struct kvmw_vm_mem *c = &m->cur;
	unsigned int i, samples, batch;
	struct kvm_memslot_iter iter;
	struct kvm_memslots *slots;
	int idx;

	if (current->mm != kvm->mm || !spin_trylock(&m->lock))
		return;
	if (!kvmw_mem_due(vm))
		goto unlock;
	WRITE_ONCE(m->next, jiffies + msecs_to_jiffies(sample_interval_ms));
	batch = clamp(READ_ONCE(mem_batch), 1U, 64U);

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	if (!m->active) {
		memset(c, 0, sizeof(*c));
		c->pages = kvmw_slots_pages(slots);
		samples = max(READ_ONCE(mem_samples), 1U);
		c->stride = max_t(u64, 1, DIV_ROUND_UP_ULL(c->pages, samples));
		m->gfn = 0;
		m->active = true;
	}
	/* Samples every stride-th gfn of the memslots, in gfn order. */
	kvm_memslot_iter_start(&iter, slots, m->gfn);
	for (i = 0; i < batch;) {
		struct kvm_memory_slot *slot;
		unsigned long hva;
		int nid;

		if (!kvm_memslot_iter_is_valid(&iter, U64_MAX)) {
			/* Pass complete. */
			c->passes = m->done.passes + 1;
			c->pass_ns = ktime_get_boottime_ns();
			m->done = *c;
			m->active = false;
			break;
		}
		slot = iter.slot;
		if (m->gfn < slot->base_gfn)
			m->gfn = slot->base_gfn;
		if (m->gfn >= slot->base_gfn + slot->npages ||
		    kvmw_private_slot(slot)) {
			kvm_memslot_iter_next(&iter);
			continue;
		}
		hva = slot->userspace_addr +
		      (m->gfn - slot->base_gfn) * PAGE_SIZE;
		m->gfn += c->stride;
		c->sampled++;
		i++;
		nid = kvmw_hva_node(hva);
		if (nid < 0)
			c->unmapped++;
		else if (nid < KVMW_MAX_NODES)
			c->node[nid]++;
		else
			c->node_unknown++;
	}
	srcu_read_unlock(&kvm->srcu, idx);
unlock:
	spin_unlock(&m->lock);
}

/**
 * kvmw_mem_read() - the last complete memory pass of a VM
 * @vm: the VM's record
 * @out: filled with it (zeroes before the first pass)
 */
void kvmw_mem_read(struct kvmw_vm *vm, struct kvmw_vm_mem *out)
{
	/* The samplers only trylock: taking it here cannot deadlock. */
	spin_lock(&vm->mem.lock);
	*out = vm->mem.done;
	spin_unlock(&vm->mem.lock);
}

static void kvmw_find_sched_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_switch"))
		kvmw_tp_switch = tp;
	else if (!strcmp(tp->name, "sched_wakeup"))
		kvmw_tp_wakeup = tp;
	else if (!strcmp(tp->name, "sched_migrate_task"))
		kvmw_tp_migrate = tp;
}

/**
 * kvmw_sched_register() - attach the scheduler probes
 *
 * Return: 0, or -errno (nothing attached then).
 */
int kvmw_sched_register(void)
{
	int ret;

	for_each_kernel_tracepoint(kvmw_find_sched_tp, NULL);
	if (!kvmw_tp_switch || !kvmw_tp_wakeup || !kvmw_tp_migrate) {
		pr_warn("scheduler tracepoints not found: no scheduler view\n");
		kvmw_tp_switch = NULL;
		return -ENOENT;
	}
	ret = tracepoint_probe_register(kvmw_tp_switch,
					(void *)kvmw_probe_sched_switch, NULL);
	if (ret)
		goto err;
	ret = tracepoint_probe_register(kvmw_tp_wakeup,
					(void *)kvmw_probe_sched_wakeup, NULL);
	if (ret)
		goto err_switch;
	ret = tracepoint_probe_register(kvmw_tp_migrate,
					(void *)kvmw_probe_sched_migrate, NULL);
	if (ret)
		goto err_wakeup;
	return 0;

err_wakeup:
	tracepoint_probe_unregister(kvmw_tp_wakeup,
				    (void *)kvmw_probe_sched_wakeup, NULL);
err_switch:
	tracepoint_probe_unregister(kvmw_tp_switch,
				    (void *)kvmw_probe_sched_switch, NULL);
err:
	kvmw_tp_switch = NULL;
	pr_warn("scheduler probes not attached (%d): no scheduler view\n", ret);
	return ret;
}

bool kvmw_sched_active(void)
{
	return READ_ONCE(kvmw_tp_switch);
}

/* The caller waits for running probes (tracepoint_synchronize_unregister). */
void kvmw_sched_unregister(void)
{
	if (!kvmw_tp_switch)
		return;
	tracepoint_probe_unregister(kvmw_tp_migrate,
				    (void *)kvmw_probe_sched_migrate, NULL);
	tracepoint_probe_unregister(kvmw_tp_wakeup,
				    (void *)kvmw_probe_sched_wakeup, NULL);
	tracepoint_probe_unregister(kvmw_tp_switch,
				    (void *)kvmw_probe_sched_switch, NULL);
	kvmw_tp_switch = NULL;
}
