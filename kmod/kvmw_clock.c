// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: the clock of the probes.
 *
 * Every exit and every entry reads the clock once, so it has to be cheap.
 * local_clock() is correct everywhere but costs a function call and the
 * sched_clock scaling (and much more when sched_clock is unstable). When
 * the TSC is invariant (constant rate, running in deep C-states) and the
 * kernel has not found the CPUs' TSCs out of sync, the raw TSC is read
 * instead and differences are scaled to ns with a multiply and a shift.
 * The choice is made once at load (parameter "clock", which can also
 * force the TSC where the kernel cannot prove it good, e.g. a one-CPU VM
 * without the invariant-TSC CPUID bit, as in "make bench"); if the kernel
 * later marks the TSC unstable, the module keeps the TSC and says so in
 * the log: a cross-CPU difference that comes out negative is counted as 0.
 *
 * The exit budgets' token clock is the same TSC, so that the exit probe's
 * reading serves them too, or CLOCK_MONOTONIC with local_clock(): a bucket
 * shared by vCPUs on several CPUs needs one clock for all of them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/moduleparam.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/tsc.h>

#include "kvmw.h"

static char *clock = "auto";
module_param(clock, charp, 0444);
MODULE_PARM_DESC(clock,
		 "Clock of the latency figures: auto (TSC when invariant and synchronised, else local_clock), local, or tsc (trust the TSC: one CPU, or TSCs known to be in sync)");

DEFINE_STATIC_KEY_FALSE(kvmw_clock_tsc);
/* ns per TSC cycle as a 32.32 fixed-point number. */
u64 kvmw_tsc_mult __read_mostly;
DEFINE_STATIC_KEY_FALSE(kvmw_budget_tsc);
u64 kvmw_budget_hz __read_mostly = NSEC_PER_SEC;

static bool kvmw_tsc_usable(void)
{
	return boot_cpu_has(X86_FEATURE_TSC) &&
	       boot_cpu_has(X86_FEATURE_CONSTANT_TSC) &&
	       boot_cpu_has(X86_FEATURE_NONSTOP_TSC) &&
	       !check_tsc_unstable();
}

int kvmw_clock_init(void)
{
	bool force = !strcmp(clock, "tsc");

	if (!strcmp(clock, "local"))
		goto local;
	if (strcmp(clock, "auto") && !force) {
		pr_err("clock=%s: expected auto, local or tsc\n", clock);
		return -EINVAL;
	}
	if (!boot_cpu_has(X86_FEATURE_TSC) || !tsc_khz) {
		if (force) {
			pr_err("clock=tsc: this CPU has no usable TSC\n");
			return -EINVAL;
		}
		goto local;
	}
	if (!force && !kvmw_tsc_usable())
		goto local;
	kvmw_tsc_mult = div_u64((u64)USEC_PER_SEC << 32, tsc_khz);
	static_branch_enable(&kvmw_clock_tsc);
	/* A token per cycle at most: the buckets' factor stays below 2^64. */
	if ((u64)tsc_khz * 1000 >= KVMW_BUDGET_MAX_RATE) {
		kvmw_budget_hz = (u64)tsc_khz * 1000;
		static_branch_enable(&kvmw_budget_tsc);
	}
	pr_info("clock: TSC at %u kHz%s\n", tsc_khz,
		kvmw_tsc_usable() ? "" : " (forced: the kernel does not trust it)");
	return 0;
local:
	pr_info("clock: local_clock()\n");
	return 0;
}

/* Called from the periodic sweep: report a TSC the kernel stopped trusting. */
void kvmw_clock_check(void)
{
	if (static_branch_likely(&kvmw_clock_tsc) && check_tsc_unstable())
		pr_warn_once("TSC marked unstable after load: cross-CPU latencies may be off; reload the module to use local_clock()\n");
}

u64 kvmw_clock_to_ns(u64 t)
{
	if (static_branch_likely(&kvmw_clock_tsc))
		return mul_u64_u64_shr(t, kvmw_tsc_mult, 32);
	return t;
}

const char *kvmw_clock_name(void)
{
	return static_branch_likely(&kvmw_clock_tsc) ? "tsc" : "local";
}
