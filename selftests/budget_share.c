// SPDX-License-Identifier: GPL-2.0
/*
 * budget_share - the vCPUs of one VM share its exit budget, fairly.
 *
 * A VM of N vCPUs (2, then 4), every one storming CPUID as fast as it
 * can, under one throttle budget of R CPUID exits per second: over a
 * window of WINDOW_S seconds (after a warm-up, so the burst is spent)
 *  - the VM as a whole holds to R within 5%;
 *  - each vCPU gets its fair share R/N within 25% (the bucket is one
 *    atomic word the vCPUs take tokens from in turn; whoever finds it in
 *    debt parks for its own share of the debt);
 *  - kvmwarden charged every CPUID exit it counted, and its charges lie
 *    between KVM's counts just inside and just outside its reads.
 * Exits are counted by KVM's own per-vCPU statistics. The min/max share
 * is printed for Documentation/budgets.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"
#include <kvmwarden/categories.h>

#define NSEC		1000000000ULL
#define BATCH		50
#define MAX_VCPUS	4
#define WINDOW_S	5
/* Total rate: well under what each vCPU of the test VM can storm. */
#define RATE		800

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* kvmwarden's budget_charged and CPUID count of @vm's vCPUs, by index. */
static int charged_of(struct kvm_vm *vm, int nr, uint64_t *charged,
		      uint64_t *cpuid)
{
	uint32_t code = exit_reason_code(kvm_host_vendor(), EXIT_KIND_CPUID);
	const struct kvmw_vm *v;
	struct kvmw_snapshot s;
	struct kvmw_source src;
	int i, ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	ret = kvmw_take_kvm_vm(&src, vm, &s, &v);
	for (i = 0; !ret && i < nr; i++) {
		const struct kvmw_vcpu *vc = kvmw_vm_vcpu_by_tid(v,
							vm->vcpus[i]->tid);
		size_t k;

		ret = -ENOENT;
		if (!vc || !vc->values)
			break;
		cpuid[i] = kvmw_vcpu_count(v, vc->vcpu_id, code);
		for (k = 0; k < s.raw.nr; k++) {
			const struct kvmw_stat_info *in = &s.raw.infos[k];

			if (in->scope == KVMW_REC_VCPU &&
			    !strcmp(in->name, "budget_charged")) {
				charged[i] = vc->values[in->offset];
				ret = 0;
			}
		}
	}
	kvmw_snapshot_free(&s);
	kvmw_source_close(&src);
	return ret;
}

FIXTURE(share) {
	int dev;
	struct kvm_vm *vm;
	char why[128];
};

FIXTURE_VARIANT(share) {
	int nr_vcpus;
};

FIXTURE_VARIANT_ADD(share, two) { .nr_vcpus = 2 };
FIXTURE_VARIANT_ADD(share, four) { .nr_vcpus = 4 };

FIXTURE_SETUP(share)
{
	self->vm = NULL;
	self->dev = kvmw_test_open(KVMW_FEAT_BUDGET | KVMW_FEAT_EXIT_COUNTS,
				   "exit budgets", self->why,
				   sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_LE(0, self->dev);
	if (sysconf(_SC_NPROCESSORS_ONLN) < variant->nr_vcpus)
		snprintf(self->why, sizeof(self->why), "needs %d CPUs",
			 variant->nr_vcpus);
}

FIXTURE_TEARDOWN(share)
{
	int i;

	if (self->vm) {
		for (i = 0; i < self->vm->nr_vcpus; i++)
			vcpu_spin_stop(self->vm->vcpus[i]);
		for (i = 0; i < self->vm->nr_vcpus; i++)
			vcpu_join(self->vm->vcpus[i]);
		vm_destroy(self->vm);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(share, fair)
{
	uint64_t a0[MAX_VCPUS], b0[MAX_VCPUS], a1[MAX_VCPUS], b1[MAX_VCPUS];
	uint64_t k0[MAX_VCPUS], k1[MAX_VCPUS], q0[MAX_VCPUS], q1[MAX_VCPUS];
	int i, n = variant->nr_vcpus;
	struct vm_opts opts = {};
	struct kvmw_budget b = {};
	const struct kvmw_vm *v;
	struct kvmw_snapshot s;
	struct kvmw_source src;
	double total = 0, lo = 1e30, hi = 0, fair;
	uint64_t t0, t1;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	self->vm = vm_create(&opts);
	ASSERT_NE(NULL, self->vm);
	for (i = 0; i < n; i++) {
		struct kvm_vcpu *vcpu = vcpu_add(self->vm);

		ASSERT_NE(NULL, vcpu);
		ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_CPUID_SPIN,
					    BATCH));
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vcpu_start(self->vm->vcpus[i]));
	t0 = now_ns();
	for (i = 0; i < n; i++)
		while (vcpu_spin_batches(self->vm->vcpus[i]) < 2) {
			ASSERT_GT(t0 + 30 * NSEC, now_ns());
			ASSERT_FALSE(vcpu_finished(self->vm->vcpus[i]));
			usleep(1000);
		}

	ASSERT_EQ(0, kvmw_src_open(&src));
	ASSERT_EQ(0, kvmw_take_kvm_vm(&src, self->vm, &s, &v));
	b.vm_id = v->vm_id;
	kvmw_snapshot_free(&s);
	kvmw_source_close(&src);
	b.size = sizeof(b);
	b.mode = KVMW_BUDGET_THROTTLE;
	b.nr_buckets = 1;
	b.guard_pct = 100;
	b.buckets[0].categories = 1ULL << KVMW_CAT_CPUID;
	b.buckets[0].rate = RATE;
	b.buckets[0].burst = 20;
	ASSERT_EQ(0, ioctl(self->dev, KVMW_IOC_BUDGET_SET, &b));
	usleep(500000);

	/*
	 * KVM's counts just before and just after each of kvmwarden's reads:
	 * its charges over the window lie between them.
	 */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, util_cpuid_exits(self->vm->vcpus[i], &a0[i]));
	ASSERT_EQ(0, charged_of(self->vm, n, k0, q0));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, util_cpuid_exits(self->vm->vcpus[i], &b0[i]));
	t0 = now_ns();
	usleep(WINDOW_S * 1000000);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, util_cpuid_exits(self->vm->vcpus[i], &a1[i]));
	t1 = now_ns();
	ASSERT_EQ(0, charged_of(self->vm, n, k1, q1));

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, util_cpuid_exits(self->vm->vcpus[i], &b1[i]));

	fair = (double)RATE / n;
	for (i = 0; i < n; i++) {
		double r = (double)(a1[i] - b0[i]) * NSEC / (t1 - t0);

		total += r;
		lo = r < lo ? r : lo;
		hi = r > hi ? r : hi;
		TH_LOG("vCPU %d: %.1f CPUID exits/s (fair share %.1f), charged %llu, KVM %llu to %llu",
		       i, r, fair, (unsigned long long)(k1[i] - k0[i]),
		       (unsigned long long)(a1[i] - b0[i]),
		       (unsigned long long)(b1[i] - a0[i]));
		/* Every CPUID exit kvmwarden counted was charged... */
		EXPECT_EQ(q1[i] - q0[i], k1[i] - k0[i]);
		/* ... and it counted every one KVM did. */
		EXPECT_LE(a1[i] - b0[i], k1[i] - k0[i]);
		EXPECT_LE(k1[i] - k0[i], b1[i] - a0[i]);
	}
	TH_LOG("%d vCPUs under %d/s: total %.1f/s, per vCPU %.1f to %.1f (%.0f%% to %.0f%% of fair)",
	       n, RATE, total, lo, hi, 100 * lo / fair, 100 * hi / fair);
	EXPECT_LT(total, RATE * 1.05);
	EXPECT_GT(total, RATE * 0.95);
	EXPECT_GT(lo, fair * 0.75);
	EXPECT_LT(hi, fair * 1.25);
}

TEST_HARNESS_MAIN
