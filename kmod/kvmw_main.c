// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: always-on accounting of KVM virtual machines.
 *
 * Module entry points. The module links against kvm.ko's exported
 * tracepoints, so it can only be loaded after kvm.ko, and kvm.ko cannot be
 * unloaded while it is loaded; modprobe orders this from modules.dep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/tracepoint.h>

#include "kvmw.h"

static int __init kvmw_init(void)
{
	int ret;

	ret = kvmw_clock_init();
	if (ret)
		return ret;
	kvmw_stats_init();
	ret = kvmw_events_init();
	if (ret)
		return ret;
	ret = kvmw_records_init();
	if (ret)
		goto err_events;
	/* Without the scheduler view the rest still works: not fatal. */
	kvmw_sched_init();
	ret = kvmw_probes_register();
	if (ret)
		goto err_core;
	ret = kvmw_dev_init();
	if (ret)
		goto err_probes;
	pr_info("loaded (API %u)\n", KVMW_API_VERSION);
	return 0;

err_probes:
	kvmw_probes_unregister();
err_core:
	/* kvm_exit may have run for a moment: discovery, attached probes. */
	kvmw_sched_exit();
	tracepoint_synchronize_unregister();
	kvmw_records_exit();
err_events:
	kvmw_events_exit();
	return ret;
}

static void __exit kvmw_exit(void)
{
	/* No ioctl can run: open files hold a module reference. */
	kvmw_dev_exit();
	/* Waits for every in-flight probe before records are freed. */
	kvmw_probes_unregister();
	/* Default budgets are applied by a work item that discovery kicks. */
	kvmw_budget_default_exit();
	/* NUMA placement: every placed vCPU thread gets its mask back. */
	kvmw_numa_exit();
	/* Ends the parks and waits until no thread runs module code for them. */
	kvmw_budget_exit();
	kvmw_records_exit();
	kvmw_events_exit();
	pr_info("unloaded\n");
}

module_init(kvmw_init);
module_exit(kvmw_exit);

MODULE_AUTHOR("The kvmwarden authors");
MODULE_DESCRIPTION("Per-VM and per-vCPU accounting of KVM virtual machines");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: kvm");
