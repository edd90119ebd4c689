// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit rates over an interval (VMs appearing, disappearing, reused ids)
 * and reason totals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "libkvmwarden.h"
#include "tap.h"

#define NS	1000000000ULL

static bool roughly(double a, double b)
{
	return fabs(a - b) < 1e-6 * (fabs(b) + 1);
}

static void test_rate(void)
{
	struct kvmw_opt r;

	r = kvmw_rate(0, 1000, NS);
	CHECK(r.ok && roughly(r.v, 1000), "1000 exits in 1 s is 1000/s");
	r = kvmw_rate(500, 1000, NS / 2);
	CHECK(r.ok && roughly(r.v, 1000), "500 exits in 0.5 s is 1000/s");
	r = kvmw_rate(7, 7, 3 * NS);
	CHECK(r.ok && r.v == 0, "no exits is 0/s");
	r = kvmw_rate(0, 1, 3 * NS);
	CHECK(r.ok && roughly(r.v, 1.0 / 3), "fractional rate");
	r = kvmw_rate(1ULL << 62, (1ULL << 62) + 5000000, 5 * NS);
	CHECK(r.ok && roughly(r.v, 1000000), "large counters");
	CHECK(!kvmw_rate(0, 100, 0).ok, "no time: no rate");
	CHECK(!kvmw_rate(100, 99, NS).ok, "counter going back: no rate");
	r = kvmw_share(1, 4);
	CHECK(r.ok && roughly(r.v, 25), "share: 1 of 4 is 25%%");
	CHECK(!kvmw_share(1, 0).ok, "share of nothing: none");
}

static struct kvmw_vm_snap *add(struct kvmw_sample *s, __u64 id,
				__u64 exits)
{
	struct kvmw_vm_snap *v;

	s->vms = realloc(s->vms, (s->nr_vms + 1) * sizeof(*s->vms));
	if (!s->vms)
		abort();
	v = &s->vms[s->nr_vms++];
	snap_init(v, id, 100 + id, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(v, 0, 200 + id);
	if (exits)
		snap_add_reason(v, 10, exits);
	return v;
}

static void test_rows(void)
{
	struct kvmw_snapshot mprev, mcur;
	struct kvmw_sample prev, cur;
	struct kvmw_delta_vm *rows;
	size_t nr;
	int ret;

	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
	prev.hs.api_version = cur.hs.api_version = KVMW_API_VERSION;
	prev.t_ns = 10 * NS;
	cur.t_ns = 12 * NS;

	add(&prev, 1, 100);			/* steady */
	add(&prev, 2, 50)->vm.flags = KVMW_VM_F_GONE;	/* gone, stays */
	add(&prev, 3, 10);			/* vanishes while live */
	add(&prev, 5, 70)->vm.flags = KVMW_VM_F_GONE;	/* gone, dropped */
	add(&prev, 6, 1000);			/* id reused: first_seen differs */
	add(&prev, 7, 1000);			/* counter went down */

	add(&cur, 1, 300);
	add(&cur, 2, 50)->vm.flags = KVMW_VM_F_GONE;
	add(&cur, 4, 40);			/* new */
	add(&cur, 6, 400)->vm.first_seen_ns += 1;
	add(&cur, 7, 10);
	model_of_sample(&mprev, &prev);
	model_of_sample(&mcur, &cur);

	ret = kvmw_delta(&mprev, &mcur, &rows, &nr);
	CHECK(ret == 0, "rows computed");
	CHECK_U64(nr, 7, "union of both samples");
	if (nr == 7) {
		CHECK_U64(rows[0].vm->vm_id, 1, "sorted: VM 1 first");
		CHECK(rows[0].exits_per_sec.ok &&
		      roughly(rows[0].exits_per_sec.v, 100) && !rows[0].gone,
		      "steady VM: 200 exits in 2 s = 100/s");
		CHECK_U64(rows[0].vm->exits, 300,
			  "steady VM shows the newest totals");
		CHECK(rows[1].gone && !rows[1].vanished &&
		      rows[1].exits_per_sec.ok && rows[1].exits_per_sec.v == 0,
		      "gone VM: 0/s, still listed");
		CHECK(rows[2].vm->vm_id == 3 && rows[2].gone &&
		      rows[2].vanished && !rows[2].exits_per_sec.ok,
		      "VM vanished while live: gone, rate unknown");
		CHECK(rows[2].vm == &mprev.vms[2],
		      "vanished VM keeps its last numbers");
		CHECK(rows[3].vm->vm_id == 4 && rows[3].exits_per_sec.ok &&
		      roughly(rows[3].exits_per_sec.v, 20) && !rows[3].gone,
		      "new VM: all 40 exits in the 2 s interval = 20/s");
		CHECK(rows[4].vm->vm_id == 5 && rows[4].vanished &&
		      rows[4].exits_per_sec.ok && rows[4].exits_per_sec.v == 0,
		      "VM dropped after it was gone: 0/s");
		CHECK(rows[5].vm->vm_id == 6 && rows[5].exits_per_sec.ok &&
		      roughly(rows[5].exits_per_sec.v, 200),
		      "reused id (new first_seen): counts from 0");
		CHECK(rows[6].vm->vm_id == 7 && rows[6].exits_per_sec.ok &&
		      roughly(rows[6].exits_per_sec.v, 5),
		      "counter went down: counts from 0");
	}
	free(rows);

	ret = kvmw_delta(NULL, &mcur, &rows, &nr);
	CHECK(ret == 0 && nr == 5 && !rows[0].exits_per_sec.ok &&
	      !rows[3].exits_per_sec.ok, "no first sample: no rates");
	free(rows);

	mprev.t_ns = mcur.t_ns;
	ret = kvmw_delta(&mprev, &mcur, &rows, &nr);
	CHECK(ret == 0 && nr == 7 && !rows[0].exits_per_sec.ok,
	      "no time between samples: no rates");
	free(rows);

	kvmw_snapshot_free(&mprev);
	kvmw_snapshot_free(&mcur);
	kvmw_sample_free(&prev);
	kvmw_sample_free(&cur);
	memset(&prev, 0, sizeof(prev));
	model_of_sample(&mprev, &prev);
	ret = kvmw_delta(&mprev, &mprev, &rows, &nr);
	CHECK(ret == 0 && nr == 0 && !rows, "no VMs at all: no rows");
}

static __u64 sum_categories(const struct kvmw_unit *u)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < KVMW_NR_CATEGORIES; i++)
		sum += u->categories[i];
	return sum;
}

static void test_category_totals(const struct kvmw_vm_snap *s)
{
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm = model_of(&m, s, 0);
	const __u64 *c = vm->total.categories;
	struct kvmw_vm_snap svm;

	CHECK(c[KVMW_CAT_CPUID] == 75 && c[KVMW_CAT_HALT] == 30 &&
	      c[KVMW_CAT_NPF] == 30 && c[KVMW_CAT_OTHER] == 15,
	      "VM categories: cpuid, halt, npf, overflow exits as other");
	CHECK_U64(sum_categories(&vm->total), vm->total.reason_exits,
		  "VM categories add up to the denominator");

	c = vm->vcpus[1].u.categories;
	CHECK(c[KVMW_CAT_CPUID] == 25 && c[KVMW_CAT_NPF] == 30 &&
	      c[KVMW_CAT_OTHER] == 15 && c[KVMW_CAT_HALT] == 0,
	      "vCPU 1 categories");
	CHECK(sum_categories(&vm->vcpus[2].u) == 0,
	      "vCPU without exits: all categories 0");
	kvmw_snapshot_free(&m);

	/* The same codes read as SVM's: CR/DR accesses. */
	snap_copy(&svm, s);
	svm.vm.vendor = KVMW_VENDOR_SVM;
	vm = model_of(&m, &svm, 0);
	c = vm->vcpus[0].u.categories;
	CHECK(c[KVMW_CAT_CR_DR] == 80 && c[KVMW_CAT_CPUID] == 0,
	      "categories follow the vendor");
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&svm);
}

static void test_totals(void)
{
	const struct kvmw_reason *t;
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 2);
	snap_add_reason(&s, 12, 30);
	snap_add_reason(&s, 10, 50);
	snap_add_vcpu(&s, 1, 3);
	snap_add_reason(&s, 10, 25);
	snap_add_reason(&s, 48, 30);
	snap_add_vcpu(&s, 2, 4);	/* no exits yet */
	s.vcpus[1].overflow_exits = 15;

	vm = model_of(&m, &s, 0);
	t = vm->total.reasons;
	CHECK(vm->total.nr_reasons == 3, "VM totals: 3 distinct reasons");
	if (vm->total.nr_reasons == 3) {
		CHECK(t[0].code == 10 && t[0].count == 75,
		      "CPUID summed over vCPUs, first");
		CHECK(t[1].code == 12 && t[1].count == 30 &&
		      t[2].code == 48 && t[2].count == 30,
		      "equal counts ordered by code");
		CHECK(t[0].share_pct.ok && roughly(t[0].share_pct.v, 50),
		      "share of the VM's exits, overflow included");
	}
	CHECK_U64(vm->total.reason_exits, 150,
		  "VM denominator includes overflow exits");

	t = vm->vcpus[1].u.reasons;
	CHECK(vm->vcpus[1].u.nr_reasons == 2 && t[0].code == 48 &&
	      t[1].code == 10, "vCPU 1 totals, sorted");
	CHECK_U64(vm->vcpus[1].u.reason_exits, 70, "vCPU 1 denominator");
	CHECK(vm->vcpus[2].u.nr_reasons == 0 && !vm->vcpus[2].u.reasons,
	      "vCPU without exits: no reasons");
	CHECK(kvmw_snapshot_find(&m, 1) == vm && !kvmw_snapshot_find(&m, 2),
	      "a VM is found by its id");
	kvmw_snapshot_free(&m);
	test_category_totals(&s);
	kvmw_vm_snap_free(&s);
}

/* Looking VMs up by their VMM and vCPU threads, and reasons by code. */
static void test_lookup(void)
{
	struct kvmw_snapshot m;
	struct kvmw_sample s;
	const struct kvmw_vm *vm;
	const struct kvmw_vcpu *vc;
	__u32 tids[2] = { 201, 202 };
	struct kvmw_vm_snap *v;

	memset(&s, 0, sizeof(s));
	s.hs.api_version = KVMW_API_VERSION;
	/* VM 1 of pid 101: gone; VM 2 of 101 with the same threads, live. */
	v = add(&s, 1, 5);
	v->vm.flags = KVMW_VM_F_GONE;
	v->vcpus[0].tid = 201;
	snap_add_vcpu(v, 1, 202);
	v = add(&s, 2, 7);
	v->vm.vmm_pid = 101;
	v->vcpus[0].tid = 201;
	snap_add_vcpu(v, 1, 202);
	snap_add_reason(v, 48, 3);
	/* VM 3 of pid 101, gone, with only one of the threads. */
	v = add(&s, 3, 9);
	v->vm.vmm_pid = 101;
	v->vm.flags = KVMW_VM_F_GONE;
	v->vcpus[0].tid = 202;
	model_of_sample(&m, &s);

	vm = kvmw_snapshot_find_vmm(&m, 101, tids, 2);
	CHECK(vm && vm->vm_id == 2, "the live VM of pid and threads wins");
	vm = kvmw_snapshot_find_vmm(&m, 101, &tids[1], 1);
	CHECK(vm && vm->vm_id == 2, "one thread: still the live VM");
	vm = kvmw_snapshot_find_vmm(&m, 101, NULL, 0);
	CHECK(vm && vm->vm_id == 2, "no thread: any live VM of the pid");
	CHECK(!kvmw_snapshot_find_vmm(&m, 999, NULL, 0), "unknown pid: none");
	tids[1] = 999;
	CHECK(!kvmw_snapshot_find_vmm(&m, 101, tids, 2),
	      "a thread no vCPU of the pid ran: none");
	m.vms[1].gone = true;
	vm = kvmw_snapshot_find_vmm(&m, 101, &tids[0], 1);
	CHECK(vm && vm->vm_id == 1, "only gone VMs: the lowest id");

	vm = kvmw_snapshot_find(&m, 2);
	vc = vm ? kvmw_vm_vcpu_by_tid(vm, 202) : NULL;
	CHECK(vc && vc->vcpu_id == 1, "a vCPU is found by its thread");
	CHECK(vm && !kvmw_vm_vcpu_by_tid(vm, 203), "unknown thread: none");
	CHECK(vm && kvmw_vm_vcpu(vm, 0) == &vm->vcpus[0] &&
	      !kvmw_vm_vcpu(vm, 2), "a vCPU is found by its id");
	vc = vm ? kvmw_vm_vcpu(vm, 1) : NULL;
	CHECK(vc && kvmw_unit_reason(&vc->u, 48) &&
	      kvmw_unit_reason(&vc->u, 48)->count == 3 &&
	      kvmw_unit_count(&vc->u, 48) == 3, "a reason by its code");
	CHECK(vc && !kvmw_unit_reason(&vc->u, 10) &&
	      kvmw_unit_count(&vc->u, 10) == 0,
	      "a reason without exits: none, count 0");
	CHECK(vm && kvmw_unit_count(&vm->total, 10) == 7 &&
	      kvmw_unit_count(&vm->total, 48) == 3, "a VM total's reasons");
	kvmw_snapshot_free(&m);
	kvmw_sample_free(&s);
}

void test_stats(void)
{
	tap_diag("stats");
	test_rate();
	test_rows();
	test_totals();
	test_lookup();
}
