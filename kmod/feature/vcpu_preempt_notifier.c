// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: VCPU_PREEMPT_NOTIFIER
 * kvmw-needs: the vCPU preempt notifier (CONFIG_PREEMPT_NOTIFIERS)
 *
 * kmod/kvmw_kvm.c finds the vCPU a task has loaded from the first entry
 * of the task's preempt notifier list: the notifier is embedded in
 * struct kvm_vcpu and its ops are KVM's.
 */
#include <linux/kvm_host.h>
#include <linux/preempt.h>
#include <linux/sched.h>

#ifndef CONFIG_PREEMPT_NOTIFIERS
#error "CONFIG_PREEMPT_NOTIFIERS is off"
#endif

static_assert(__same_type(((struct kvm_vcpu *)NULL)->preempt_notifier,
			  struct preempt_notifier));
static_assert(__same_type(((struct preempt_notifier *)NULL)->link,
			  struct hlist_node));
static_assert(__same_type(((struct preempt_notifier *)NULL)->ops,
			  struct preempt_ops *));
static_assert(__same_type(((struct task_struct *)NULL)->preempt_notifiers,
			  struct hlist_head));
