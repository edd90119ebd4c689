// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: SCHED_TRACEPOINTS
 * kvmw-needs: the sched_switch/sched_wakeup/sched_migrate_task prototypes
 *
 * Exact: include/trace/events/sched.h is part of the kernel headers. The
 * probes of kmod/kvmw_sched.c are attached by name, without a type check,
 * so their prototypes are compared here with the register helpers'.
 */
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <trace/events/sched.h>

static_assert(__same_type(&register_trace_sched_switch,
			  int (*)(void (*probe)(void *data, bool preempt,
						struct task_struct *prev,
						struct task_struct *next,
						unsigned int prev_state),
				  void *data)));
static_assert(__same_type(&register_trace_sched_wakeup,
			  int (*)(void (*probe)(void *data,
						struct task_struct *p),
				  void *data)));
static_assert(__same_type(&register_trace_sched_migrate_task,
			  int (*)(void (*probe)(void *data,
						struct task_struct *p,
						int dest_cpu),
				  void *data)));
