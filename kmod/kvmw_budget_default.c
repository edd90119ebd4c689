// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: host-wide default budgets, for VMs that do not exist yet.
 *
 * Up to KVMW_BUDGET_MAX_DEFAULTS rules, each a match on the VMM (its main
 * thread's command name, a cgroup v2 subtree, or both) and a budget as
 * KVMW_IOC_BUDGET_SET takes it. The rules are kept under kvmw_mutex.
 *
 * A VM is discovered by the probes, with a spinlock held and possibly
 * with interrupts off: no place to allocate a budget or look at cgroups.
 * So discovery only marks the VM (vm->budget.dflt) and kicks a work item
 * through irq_work; the work matches the marked VMs against the rules in
 * process context and gives each the budget of the first rule that
 * matches, as if userspace had set it. Until then (a worker wake-up, tens
 * of microseconds on an idle host) the VM's exits are not charged. A
 * budget set with KVMW_IOC_BUDGET_SET before the work ran wins: the work
 * only sees VMs still marked, and a set clears the mark.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/irq_work.h>
#include <linux/pid.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "kvmw.h"

/**
 * struct kvmw_budget_rule - one default budget
 * @budget: the budget matching VMs get (validated; vm_id 0); mode
 *	KVMW_BUDGET_OFF for an empty slot
 * @comm: the VMM's command name to match, "" for any
 * @cgrp: the cgroup (reference held) whose subtree matches, NULL for any
 * @matched: VMs given this budget since it was set
 */
struct kvmw_budget_rule {
	struct kvmw_budget budget;
	char comm[TASK_COMM_LEN];
	struct cgroup *cgrp;
	u64 matched;
};

static struct kvmw_budget_rule kvmw_rules[KVMW_BUDGET_MAX_DEFAULTS];
/* Slots in use; read without the mutex by discovery. */
static atomic_t kvmw_nr_rules = ATOMIC_INIT(0);

static void kvmw_default_workfn(struct work_struct *work);
static DECLARE_WORK(kvmw_default_work, kvmw_default_workfn);

static void kvmw_default_irq_workfn(struct irq_work *iw)
{
	queue_work(system_unbound_wq, &kvmw_default_work);
}

static struct irq_work kvmw_default_iw =
	IRQ_WORK_INIT(kvmw_default_irq_workfn);

/**
 * kvmw_budget_default_attach() - a new VM: try the default budgets on it
 * @vm: the VM, just discovered (any context but hard IRQ; may hold locks)
 */
void kvmw_budget_default_attach(struct kvmw_vm *vm)
{
	if (!atomic_read(&kvmw_nr_rules))
		return;
	set_bit(0, &vm->budget.dflt);
	irq_work_queue(&kvmw_default_iw);
}

static bool kvmw_rule_matches(const struct kvmw_budget_rule *r,
			      const struct kvmw_vm *vm)
{
	struct task_struct *task;
	bool in;

	if (r->comm[0] && strncmp(r->comm, vm->comm, sizeof(r->comm)))
		return false;
	if (!r->cgrp)
		return true;
	task = get_pid_task(vm->vmm, PIDTYPE_TGID);
	if (!task)
		return false;
	rcu_read_lock();
	in = task_under_cgroup_hierarchy(task, r->cgrp);
	rcu_read_unlock();
	put_task_struct(task);
	return in;
}

/* Give @vm the budget of the first rule it matches. Holds kvmw_mutex. */
static void kvmw_default_apply(struct kvmw_vm *vm)
{
	struct kvmw_budget req;
	u32 i;
	int ret;

	lockdep_assert_held(&kvmw_mutex);
	for (i = 0; i < KVMW_BUDGET_MAX_DEFAULTS; i++) {
		struct kvmw_budget_rule *r = &kvmw_rules[i];

		if (r->budget.mode == KVMW_BUDGET_OFF ||
		    !kvmw_rule_matches(r, vm))
			continue;
		req = r->budget;
		req.vm_id = vm->id;
		ret = kvmw_budget_set(vm, &req, i + 1);
		if (ret)
			pr_warn_ratelimited("VM %llu: default budget %u not set: %d\n",
					    vm->id, i, ret);
		else
			r->matched++;
		return;
	}
}

static void kvmw_default_workfn(struct work_struct *work)
{
	struct kvmw_vm *vm;

	mutex_lock(&kvmw_mutex);
	list_for_each_entry_rcu(vm, &kvmw_vms, node,
				lockdep_is_held(&kvmw_mutex)) {
		if (!test_and_clear_bit(0, &vm->budget.dflt))
			continue;
		if (!READ_ONCE(vm->gone_ns) &&
		    !rcu_access_pointer(vm->budget.cur))
			kvmw_default_apply(vm);
	}
	mutex_unlock(&kvmw_mutex);
}

/**
 * kvmw_budget_default_check() - validate KVMW_IOC_BUDGET_DEFAULT_SET/_GET
 * @req: the ioctl's argument, copied in
 * @set: SET (else GET)
 *
 * Checks everything but the budget @req->budget_ptr points to.
 */
int kvmw_budget_default_check(const struct kvmw_budget_default *req,
			      bool set)
{
	size_t len;

	if (req->flags || req->cgroup_id || req->matched ||
	    req->slot >= KVMW_BUDGET_MAX_DEFAULTS)
		return -EINVAL;
	if (!set)
		return req->cgroup_fd ||
		       memchr_inv(req->comm, 0, sizeof(req->comm)) ?
		       -EINVAL : 0;
	if (req->cgroup_fd < -1)
		return -EINVAL;
	/* NUL-terminated within its 16 bytes, NUL-padded after. */
	len = strnlen(req->comm, sizeof(req->comm));
	if (len == sizeof(req->comm) ||
	    memchr_inv(req->comm + len, 0, sizeof(req->comm) - len))
		return -EINVAL;
	return 0;
}

/**
 * kvmw_budget_default_set() - set or empty a default-budget slot
 * @req: KVMW_IOC_BUDGET_DEFAULT_SET's argument, checked
 * @b: the budget it points to, copied in
 *
 * Everything is checked before anything changes.
 */
int kvmw_budget_default_set(const struct kvmw_budget_default *req,
			    const struct kvmw_budget *b)
{
	u64 scopes[KVMW_BUDGET_MAX_BUCKETS];
	struct kvmw_budget_rule *r;
	struct cgroup *cgrp = NULL, *old;
	bool was_used, used;
	int ret;

	if (b->vm_id)
		return -EINVAL;
	ret = kvmw_budget_check(b, scopes);
	if (ret)
		return ret;
	used = b->mode != KVMW_BUDGET_OFF;
	/* An empty slot matches nothing: a match given with it is a mistake. */
	if (!used && (req->comm[0] || req->cgroup_fd != -1))
		return -EINVAL;
	if (req->cgroup_fd >= 0) {
		cgrp = cgroup_get_from_fd(req->cgroup_fd);
		if (IS_ERR(cgrp))
			return PTR_ERR(cgrp);
	}

	mutex_lock(&kvmw_mutex);
	r = &kvmw_rules[req->slot];
	was_used = r->budget.mode != KVMW_BUDGET_OFF;
	old = r->cgrp;
	memset(r, 0, sizeof(*r));
	if (used) {
		r->budget = *b;
		r->budget.size = sizeof(r->budget);
		memcpy(r->comm, req->comm, sizeof(r->comm));
		r->cgrp = cgrp;
	}
	if (used && !was_used)
		atomic_inc(&kvmw_nr_rules);
	else if (!used && was_used)
		atomic_dec(&kvmw_nr_rules);
	mutex_unlock(&kvmw_mutex);
	if (old)
		cgroup_put(old);
	return 0;
}

/**
 * kvmw_budget_default_get() - read a default-budget slot
 * @req: KVMW_IOC_BUDGET_DEFAULT_GET's argument, checked; filled in
 * @b: set to the slot's budget (mode KVMW_BUDGET_OFF if it is empty)
 */
void kvmw_budget_default_get(struct kvmw_budget_default *req,
			     struct kvmw_budget *b)
{
	struct kvmw_budget_rule *r;

	mutex_lock(&kvmw_mutex);
	r = &kvmw_rules[req->slot];
	*b = r->budget;
	memcpy(req->comm, r->comm, sizeof(req->comm));
	req->cgroup_id = r->cgrp ? cgroup_id(r->cgrp) : 0;
	req->matched = r->matched;
	mutex_unlock(&kvmw_mutex);
}

/* Unload, after the probes are gone: no VM can be marked any more. */
void kvmw_budget_default_exit(void)
{
	u32 i;

	irq_work_sync(&kvmw_default_iw);
	cancel_work_sync(&kvmw_default_work);
	for (i = 0; i < KVMW_BUDGET_MAX_DEFAULTS; i++)
		if (kvmw_rules[i].cgrp)
			cgroup_put(kvmw_rules[i].cgrp);
}
