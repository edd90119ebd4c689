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
	int fd;
	int phase_err;
	struct kvmw_vcpu_info phase;
};

static void phase_hook(struct kvm_vcpu *vcpu, unsigned int phase, void *arg)
{
	struct fault_ctx *c = arg;

	if (phase == GUEST_PHASE_MEASURE)
		c->phase_err = kvmw_vcpu_info_now(c->fd, vcpu, &c->phase);
}

static bool node_online(int node)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	return access(path, F_OK) == 0;
}

static uint64_t hist_sum(const __u64 *h)
{
	uint64_t n = 0;
	int b;

	for (b = 0; b < KVMW_LAT_BUCKETS; b++)
		n += h[b];
	return n;
}

FIXTURE(faults) {
	int fd;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct fault_ctx ctx;
	struct kvmw_vcpu_info end;
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
	struct kvmw_handshake hs;

	self->fd = -1;
	if (!kvm_available()) {
		snprintf(self->why, sizeof(self->why), "no /dev/kvm");
		return;
	}
	if (!kvm_backend_is_hw()) {
		snprintf(self->why, sizeof(self->why),
			 "KVM does not run on kvm_amd or kvm_intel");
		return;
	}
	self->fd = kvmw_open();
	if (self->fd < 0 || kvmw_handshake(self->fd, &hs) ||
	    !(hs.features & KVMW_FEAT_FAULTS)) {
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
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(faults, count_type_node, 300)
{
	struct kvm_vcpu *vcpu = self->vcpu;
	struct kvmw_vcpu_info *p = &self->ctx.phase, *e = &self->end;
	struct vcpu_result *r;
	uint64_t n, pf_taken;
	int node;

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
	self->ctx.fd = self->fd;
	self->ctx.phase_err = -ENODATA;
	vcpu_set_phase_hook(vcpu, phase_hook, &self->ctx);
	ASSERT_EQ(0, vcpu_run(vcpu));
	r = &vcpu->res;
	ASSERT_TRUE(r->done) TH_LOG("%s", r->msg);
	ASSERT_EQ(0, self->ctx.phase_err);
	ASSERT_EQ(0, kvmw_vcpu_info_now(self->fd, vcpu, e));

	TH_LOG("faults %llu (at phase %llu): write %llu fetch %llu present %llu mmio %llu unknown %llu node0 %llu node1 %llu; mean %llu max %llu ns",
	       (unsigned long long)e->faults, (unsigned long long)p->faults,
	       (unsigned long long)e->fault_write,
	       (unsigned long long)e->fault_fetch,
	       (unsigned long long)e->fault_present,
	       (unsigned long long)e->fault_mmio,
	       (unsigned long long)e->fault_node_unknown,
	       (unsigned long long)e->fault_node[0],
	       (unsigned long long)e->fault_node[1],
	       (unsigned long long)(e->faults ?
				    e->fault_lat_total_ns / e->faults : 0),
	       (unsigned long long)e->fault_lat_max_ns);

	/* the measured part */
	EXPECT_EQ(n, e->faults - p->faults);
	if (variant->node < 0 && kvm_host_vendor() == KVM_VENDOR_VMX) {
		/* Only the first is an EPT violation, with its access type. */
		EXPECT_EQ(1ULL, e->fault_write - p->fault_write);
	} else {
		EXPECT_EQ(n, e->fault_write - p->fault_write);
	}
	EXPECT_EQ(0ULL, e->fault_fetch - p->fault_fetch);
	if (variant->node >= 0) {
		EXPECT_EQ(0ULL, e->fault_present - p->fault_present);
		EXPECT_EQ(0ULL, e->fault_mmio - p->fault_mmio);
		for (node = 0; node < KVMW_MAX_NODES; node++)
			EXPECT_EQ(node == variant->node ? n : 0ULL,
				  e->fault_node[node] - p->fault_node[node])
				TH_LOG("node %d", node);
		EXPECT_EQ(0ULL, e->fault_node_unknown - p->fault_node_unknown);
	} else {
		/*
		 * No memslot: no backing page, and MMIO on both vendors.
		 * The first access to the page is a fault on a GPA without
		 * memslot, which installs an MMIO translation; later ones
		 * fault on its reserved bits (SVM NPF) or exit as
		 * EPT_MISCONFIG, which kvmwarden counts as MMIO faults (VMX).
		 */
		EXPECT_EQ(n, e->fault_node_unknown - p->fault_node_unknown);
		EXPECT_EQ(n, e->fault_mmio - p->fault_mmio);
	}
	/* whole life: every fault timed (the last exit is the done OUT) */
	EXPECT_EQ(e->faults, hist_sum(e->fault_hist));
	EXPECT_LE(e->fault_lat_total_ns / (e->faults ? e->faults : 1),
		  e->fault_lat_max_ns);
	EXPECT_LT(0ULL, e->fault_lat_max_ns);
	/* KVM's own count of faults handed to its MMU */
	if (variant->node >= 0 &&
	    r->end_stats.valid[VCPU_STAT_PF_TAKEN]) {
		pf_taken = r->end_stats.val[VCPU_STAT_PF_TAKEN] -
			   r->phase_stats.val[VCPU_STAT_PF_TAKEN];
		EXPECT_EQ(pf_taken, e->faults - p->faults);
	}
}

TEST_HARNESS_MAIN
