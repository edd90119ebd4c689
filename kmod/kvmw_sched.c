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
 * The probes are attached while at least one VM is tracked and detached
 * when none is left (kvmw_sched_sync()): a host without VMs pays nothing.
 * The first moments of a VM, before the attachment work has run, are not
 * seen: run-queue delay and run time start a little late, never early.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq_work.h>
#include <linux/kvm_host.h>
#include <linux/preempt.h>
#include <linux/topology.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <trace/events/sched.h>

#include "kvmw.h"

static struct tracepoint *kvmw_tp_switch;
/* The probes are attached (kvmw_sched_sync()); read without the lock. */
static bool kvmw_sched_attached;
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
	struct kvm_vcpu *vcpu = kvmw_task_kvm_vcpu(p);
	struct kvmw_vcpu *v;

	if (!vcpu)
		return NULL;
	v = kvmw_vcpu_find(vcpu);
	if (v && (READ_ONCE(v->entry_work) & KVMW_WORK_USER))
		return NULL;
	return v;
}

static __always_inline void kvmw_run_close(struct kvmw_vcpu *v, u64 now)
{
	struct kvmw_sched *s = &v->sched;
	unsigned int nid;

	if (!s->run_ts)
		return;
	/* Every node of the host has its slot; NUMA_NO_NODE is not counted. */
	nid = cpu_to_node(s->run_cpu);
	if (nid < kvmw_nr_nodes()) {
		u64 *ns = &kvmw_run_nodes(v)[nid];

		WRITE_ONCE(*ns, *ns + kvmw_delta_ns(now - s->run_ts));
	}
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
	/* Without the probes no switch-out would close it: start late. */
	if (READ_ONCE(kvmw_sched_attached))
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
	kvmw_run_close(v, now);
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
		kvmw_run_close(v, now);
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

/* The probes are attached through void *: their types are checked here. */
static void __maybe_unused kvmw_sched_typecheck(void)
{
	if (0) {
		register_trace_sched_switch(kvmw_probe_sched_switch, NULL);
		register_trace_sched_wakeup(kvmw_probe_sched_wakeup, NULL);
		register_trace_sched_migrate_task(kvmw_probe_sched_migrate, NULL);
	}
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

/*
 * The probes are attached only while at least one VM is tracked, so that
 * a host without VMs pays nothing for them: kvmw_sched_want() (from the
 * probes, when a VM appears) and a periodic check (is any VM left?) queue
 * kvmw_sched_sync(), which attaches or detaches them in process context.
 */
static DEFINE_MUTEX(kvmw_sched_lock);
/* Set at unload, under kvmw_sched_lock: never attach again. */
static bool kvmw_sched_stopped;
static void kvmw_sched_sync(struct work_struct *work);
static DECLARE_DELAYED_WORK(kvmw_sched_work, kvmw_sched_sync);

static void kvmw_sched_irq_work(struct irq_work *iw)
{
	mod_delayed_work(system_wq, &kvmw_sched_work, 0);
}

static struct irq_work kvmw_sched_iw;

static int kvmw_sched_attach(void)
{
	int ret;

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
	pr_warn_ratelimited("scheduler probes not attached (%d)\n", ret);
	return ret;
}

/* Records are freed only after RCU grace periods, which cover the probes. */
static void kvmw_sched_detach(void)
{
	tracepoint_probe_unregister(kvmw_tp_migrate,
				    (void *)kvmw_probe_sched_migrate, NULL);
	tracepoint_probe_unregister(kvmw_tp_wakeup,
				    (void *)kvmw_probe_sched_wakeup, NULL);
	tracepoint_probe_unregister(kvmw_tp_switch,
				    (void *)kvmw_probe_sched_switch, NULL);
}

static void kvmw_sched_sync(struct work_struct *work)
{
	bool want;

	mutex_lock(&kvmw_sched_lock);
	for (;;) {
		/* Pairs with the barrier in kvmw_sched_want(). */
		smp_mb();
		want = READ_ONCE(kvmw_nr_vms) && !kvmw_sched_stopped;
		if (want == kvmw_sched_attached)
			break;
		if (want) {
			if (kvmw_sched_attach())
				break;
			WRITE_ONCE(kvmw_sched_attached, true);
		} else {
			kvmw_sched_detach();
			WRITE_ONCE(kvmw_sched_attached, false);
		}
	}
	mutex_unlock(&kvmw_sched_lock);
	/* While attached, look again later whether VMs are left. */
	if (READ_ONCE(kvmw_sched_attached))
		schedule_delayed_work(&kvmw_sched_work, HZ);
}

/**
 * kvmw_sched_want() - a VM appeared: attach the probes if they are not
 *
 * Any context but hard IRQ; never sleeps.
 */
void kvmw_sched_want(void)
{
	/* The new VM is counted: either this sees detached or the sync it. */
	smp_mb();
	if (kvmw_tp_switch && !READ_ONCE(kvmw_sched_attached))
		irq_work_queue(&kvmw_sched_iw);
}

/* Can the scheduler view be had here (its tracepoints exist)? */
bool kvmw_sched_available(void)
{
	return kvmw_tp_switch;
}

int kvmw_sched_init(void)
{
	init_irq_work(&kvmw_sched_iw, kvmw_sched_irq_work);
	for_each_kernel_tracepoint(kvmw_find_sched_tp, NULL);
	if (!kvmw_tp_switch || !kvmw_tp_wakeup || !kvmw_tp_migrate) {
		pr_warn("scheduler tracepoints not found: no scheduler view\n");
		kvmw_tp_switch = NULL;
		return -ENOENT;
	}
	return 0;
}

/*
 * Detach for good. The caller has stopped discovery (no more
 * kvmw_sched_want()) and waits for running probes afterwards
 * (tracepoint_synchronize_unregister()).
 */
void kvmw_sched_exit(void)
{
	if (!kvmw_tp_switch)
		return;
	mutex_lock(&kvmw_sched_lock);
	kvmw_sched_stopped = true;
	if (kvmw_sched_attached)
		kvmw_sched_detach();
	WRITE_ONCE(kvmw_sched_attached, false);
	mutex_unlock(&kvmw_sched_lock);
	irq_work_sync(&kvmw_sched_iw);
	cancel_delayed_work_sync(&kvmw_sched_work);
}
