// SPDX-License-Identifier: GPL-2.0
/*
 * faults - kvmwarden's nested page fault figures: count, access type,
 * latency and the NUMA node of the backing page.
 *
 * A guest writes once to each of N fresh pages (lib/guest.S,
 * guest_prog_touch_pages): exactly one NPF / EPT violation per page, a
 * write to a non-present translation. The VMM binds the host memory of
 * those pages to one NUMA node with mbind(MPOL_BIND) before the guest
 * runs, so each page is allocated there when KVM faults it in. Between
 * the snapshot taken at the program's phase report and the final one,
 * the vCPU must show exactly N faults, N writes, no fetch, no permission
 * fault, N on the bound node and none elsewhere, as many timed faults in
 * the histogram, and as many as KVM's own pf_taken counter.
 *
 * An MMIO program (writes to a GPA without memslot) must show one MMIO
 * fault per access, none of them with a backing page, on Intel as on
 * AMD (Documentation/design.rst, "Nested page faults").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define NR_PAGES	64

struct fault_ctx {
	struct kvmw_source *src;
	int phase_err;
	/* The vCPU of phase_snap at the start of the measured part. */
	struct kvmw_snapshot phase_snap;
	const struct kvmw_vcpu *phase;
};

static void phase_hook(struct kvm_vcpu *vcpu, unsigned int phase, void *arg)
{
	struct fault_ctx *c = arg;

	if (phase == GUEST_PHASE_MEASURE)
		c->phase_err = kvmw_take_vcpu(c->src, vcpu, &c->phase_snap,
					      &c->phase);
}

static bool node_online(int node)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	return access(path, F_OK) == 0;
}

FIXTURE(faults) {
	struct kvmw_source src;
	bool src_open;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct fault_ctx ctx;
	struct kvmw_snapshot end_snap;
	char why[128];
};

FIXTURE_VARIANT(faults) {
	int node;		/* -1: MMIO program, no binding */
};

FIXTURE_VARIANT_ADD(faults, node0) { .node = 0 };
FIXTURE_VARIANT_ADD(faults, node1) { .node = 1 };
FIXTURE_VARIANT_ADD(faults, mmio) { .node = -1 };

FIXTURE_SETUP(faults)
{
	if (!kvm_available()) {
		snprintf(self->why, sizeof(self->why), "no /dev/kvm");
		return;
	}
	if (!kvm_backend_is_hw()) {
		snprintf(self->why, sizeof(self->why),
			 "KVM does not run on kvm_amd or kvm_intel");
		return;
	}
	self->src_open = !kvmw_src_open(&self->src);
	if (!self->src_open ||
	    !(self->src.host.features & KVMW_FEAT_FAULTS)) {
		snprintf(self->why, sizeof(self->why),
			 "kvmwarden without fault accounting");
		return;
	}
	if (variant->node >= 0 && !node_online(variant->node)) {
		snprintf(self->why, sizeof(self->why), "no NUMA node %d",
			 variant->node);
		return;
	}
	self->vm = vm_create(NULL);
	ASSERT_NE(NULL, self->vm);
	self->vcpu = vcpu_add(self->vm);
	ASSERT_NE(NULL, self->vcpu);
}

FIXTURE_TEARDOWN(faults)
{
	vm_destroy(self->vm);
	kvmw_snapshot_free(&self->ctx.phase_snap);
	kvmw_snapshot_free(&self->end_snap);
	if (self->src_open)
		kvmw_source_close(&self->src);
}

TEST_F_TIMEOUT(faults, count_type_node, 300)
{
	struct kvm_vcpu *vcpu = self->vcpu;
	const struct kvmw_faults *p, *e;
	const struct kvmw_vcpu *end;
	struct vcpu_result *r;
	uint64_t n, pf_taken;
	unsigned int node;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (variant->node >= 0) {
		unsigned long mask = 1UL << variant->node;
		void *hva;

		ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_PAGES, NR_PAGES));
		hva = vm_gpa_to_hva(self->vm, vcpu->data_gpa);
		ASSERT_NE(NULL, hva);
		/* Nothing is allocated yet: the guest's writes fault it in. */
		ASSERT_EQ(0, syscall(SYS_mbind, hva,
				     (unsigned long)NR_PAGES * GUEST_PAGE_STRIDE,
				     MPOL_BIND, &mask, sizeof(mask) * 8, 0))
			TH_LOG("mbind: %s", strerror(errno));
		n = NR_PAGES;
	} else {
		ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_MMIO_WRITE, 50));
		n = 50;
	}
	self->ctx.src = &self->src;
	self->ctx.phase_err = -ENODATA;
	vcpu_set_phase_hook(vcpu, phase_hook, &self->ctx);
	ASSERT_EQ(0, vcpu_run(vcpu));
	r = &vcpu->res;
	ASSERT_TRUE(r->done) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, self->ctx.phase_err);
	ASSERT_EQ(0, kvmw_take_vcpu(&self->src, vcpu, &self->end_snap, &end));
	p = &self->ctx.phase->u.faults;
	e = &end->u.faults;
	/* Node arrays: the host's nodes; the variant's node is online. */
	ASSERT_LT((unsigned int)(variant->node < 0 ? 0 : variant->node),
		  self->end_snap.host.nr_nodes);

	TH_LOG("faults %llu (at phase %llu): write %llu fetch %llu present %llu mmio %llu unknown %llu node0 %llu node1 %llu; mean %llu max %llu ns",
	       (unsigned long long)e->count, (unsigned long long)p->count,
	       (unsigned long long)e->write,
	       (unsigned long long)e->fetch,
	       (unsigned long long)e->present,
	       (unsigned long long)e->mmio,
	       (unsigned long long)e->node_unknown,
	       (unsigned long long)e->node[0],
	       (unsigned long long)(self->end_snap.host.nr_nodes > 1 ?
				    e->node[1] : 0),
	       (unsigned long long)(e->count ?
				    e->lat_total_ns / e->count : 0),
	       (unsigned long long)e->lat_max_ns);

	/* the measured part */
	EXPECT_EQ(n, e->count - p->count);
	if (variant->node < 0 && kvm_host_vendor() == KVM_VENDOR_VMX) {
		/* Only the first is an EPT violation, with its access type. */
		EXPECT_EQ(1ULL, e->write - p->write);
	} else {
		EXPECT_EQ(n, e->write - p->write);
	}
	EXPECT_EQ(0ULL, e->fetch - p->fetch);
	if (variant->node >= 0) {
		EXPECT_EQ(0ULL, e->present - p->present);
		EXPECT_EQ(0ULL, e->mmio - p->mmio);
		for (node = 0; node < self->end_snap.host.nr_nodes; node++)
			EXPECT_EQ(node == (unsigned int)variant->node ?
				  n : 0ULL, e->node[node] - p->node[node])
				TH_LOG("node %u", node);
		EXPECT_EQ(0ULL, e->node_unknown - p->node_unknown);
	} else {
		/*
		 * No memslot: no backing page, and MMIO on both vendors.
		 * The first access to the page is a fault on a GPA without
		 * memslot, which installs an MMIO translation; later ones
		 * fault on its reserved bits (SVM NPF) or exit as
		 * EPT_MISCONFIG, which kvmwarden counts as MMIO faults (VMX).
		 */
		EXPECT_EQ(n, e->node_unknown - p->node_unknown);
		EXPECT_EQ(n, e->mmio - p->mmio);
	}
	/* whole life: every fault timed (the last exit is the done OUT) */
	EXPECT_EQ(e->count, kvmw_hist_total(&e->hist));
	EXPECT_LE(e->lat_total_ns / (e->count ? e->count : 1),
		  e->lat_max_ns);
	EXPECT_LT(0ULL, e->lat_max_ns);
	/* KVM's own count of faults handed to its MMU */
	if (variant->node >= 0 &&
	    r->end_stats.valid[VCPU_STAT_PF_TAKEN]) {
		pf_taken = r->end_stats.val[VCPU_STAT_PF_TAKEN] -
			   r->phase_stats.val[VCPU_STAT_PF_TAKEN];
		EXPECT_EQ(pf_taken, e->count - p->count);
	}
}

TEST_HARNESS_MAIN
