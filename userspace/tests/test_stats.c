// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit rates over an interval (VMs appearing, disappearing, reused ids)
 * and reason totals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "stats.h"
#include "tap.h"

#define NS	1000000000ULL

static bool roughly(double a, double b)
{
	return fabs(a - b) < 1e-6 * (fabs(b) + 1);
}

static void test_rate(void)
{
	double r = -1;

	CHECK(kvmw_rate(0, 1000, NS, &r) && roughly(r, 1000),
	      "1000 exits in 1 s is 1000/s");
	CHECK(kvmw_rate(500, 1000, NS / 2, &r) && roughly(r, 1000),
	      "500 exits in 0.5 s is 1000/s");
	CHECK(kvmw_rate(7, 7, 3 * NS, &r) && r == 0, "no exits is 0/s");
	CHECK(kvmw_rate(0, 1, 3 * NS, &r) && roughly(r, 1.0 / 3),
	      "fractional rate");
	CHECK(kvmw_rate(1ULL << 62, (1ULL << 62) + 5000000, 5 * NS, &r) &&
	      roughly(r, 1000000), "large counters");
	r = 42;
	CHECK(!kvmw_rate(0, 100, 0, &r) && r == 42, "no time: no rate");
	CHECK(!kvmw_rate(100, 99, NS, &r) && r == 42,
	      "counter going back: no rate");
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
	struct kvmw_sample prev, cur;
	struct kvmw_stat_row *rows;
	size_t nr;
	int ret;

	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
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

	ret = kvmw_stat_rows(&prev, &cur, &rows, &nr);
	CHECK(ret == 0, "rows computed");
	CHECK_U64(nr, 7, "union of both samples");
	if (nr == 7) {
		CHECK_U64(rows[0].snap->vm.vm_id, 1, "sorted: VM 1 first");
		CHECK(rows[0].has_rate && roughly(rows[0].exits_per_sec, 100) &&
		      !rows[0].gone, "steady VM: 200 exits in 2 s = 100/s");
		CHECK_U64(rows[0].snap->vm.exits, 300,
			  "steady VM shows the newest totals");
		CHECK(rows[1].gone && !rows[1].vanished && rows[1].has_rate &&
		      rows[1].exits_per_sec == 0, "gone VM: 0/s, still listed");
		CHECK(rows[2].snap->vm.vm_id == 3 && rows[2].gone &&
		      rows[2].vanished && !rows[2].has_rate,
		      "VM vanished while live: gone, rate unknown");
		CHECK(rows[2].snap == &prev.vms[2],
		      "vanished VM keeps its last numbers");
		CHECK(rows[3].snap->vm.vm_id == 4 && rows[3].has_rate &&
		      roughly(rows[3].exits_per_sec, 20) && !rows[3].gone,
		      "new VM: all 40 exits in the 2 s interval = 20/s");
		CHECK(rows[4].snap->vm.vm_id == 5 && rows[4].vanished &&
		      rows[4].has_rate && rows[4].exits_per_sec == 0,
		      "VM dropped after it was gone: 0/s");
		CHECK(rows[5].snap->vm.vm_id == 6 && rows[5].has_rate &&
		      roughly(rows[5].exits_per_sec, 200),
		      "reused id (new first_seen): counts from 0");
		CHECK(rows[6].snap->vm.vm_id == 7 && rows[6].has_rate &&
		      roughly(rows[6].exits_per_sec, 5),
		      "counter went down: counts from 0");
	}
	free(rows);

	ret = kvmw_stat_rows(NULL, &cur, &rows, &nr);
	CHECK(ret == 0 && nr == 5 && !rows[0].has_rate && !rows[3].has_rate,
	      "no first sample: no rates");
	free(rows);

	prev.t_ns = cur.t_ns;
	ret = kvmw_stat_rows(&prev, &cur, &rows, &nr);
	CHECK(ret == 0 && nr == 7 && !rows[0].has_rate,
	      "no time between samples: no rates");
	free(rows);

	kvmw_sample_free(&prev);
	kvmw_sample_free(&cur);
	memset(&prev, 0, sizeof(prev));
	ret = kvmw_stat_rows(&prev, &cur, &rows, &nr);
	CHECK(ret == 0 && nr == 0 && !rows, "no VMs at all: no rows");
}

static void test_category_totals(const struct kvmw_vm_snap *s)
{
	__u64 c[KVMW_NR_CATEGORIES], sum = 0;
	unsigned int i;

	kvmw_category_totals(s, KVMW_ALL_VCPUS, KVMW_VENDOR_VMX, c);
	for (i = 0; i < KVMW_NR_CATEGORIES; i++)
		sum += c[i];
	CHECK(c[KVMW_CAT_CPUID] == 75 && c[KVMW_CAT_HALT] == 30 &&
	      c[KVMW_CAT_NPF] == 30 && c[KVMW_CAT_OTHER] == 15,
	      "VM categories: cpuid, halt, npf, overflow exits as other");
	CHECK_U64(sum, kvmw_reason_denominator(s, KVMW_ALL_VCPUS),
		  "VM categories add up to the denominator");

	kvmw_category_totals(s, 1, KVMW_VENDOR_VMX, c);
	CHECK(c[KVMW_CAT_CPUID] == 25 && c[KVMW_CAT_NPF] == 30 &&
	      c[KVMW_CAT_OTHER] == 15 && c[KVMW_CAT_HALT] == 0,
	      "vCPU 1 categories");

	/* The same codes read as SVM's: CR/DR accesses. */
	kvmw_category_totals(s, 0, KVMW_VENDOR_SVM, c);
	CHECK(c[KVMW_CAT_CR_DR] == 80 && c[KVMW_CAT_CPUID] == 0,
	      "categories follow the vendor");

	c[KVMW_CAT_IO] = 99;
	kvmw_category_totals(s, 2, KVMW_VENDOR_VMX, c);
	for (sum = 0, i = 0; i < KVMW_NR_CATEGORIES; i++)
		sum += c[i];
	CHECK(sum == 0, "vCPU without exits: all categories 0");
	c[KVMW_CAT_IO] = 99;
	kvmw_category_totals(s, 9, KVMW_VENDOR_VMX, c);
	CHECK(c[KVMW_CAT_IO] == 0, "out of range vCPU: all categories 0");
}

static void test_totals(void)
{
	struct kvmw_reason_total *t;
	struct kvmw_vm_snap s;
	size_t n;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 2);
	snap_add_reason(&s, 12, 30);
	snap_add_reason(&s, 10, 50);
	snap_add_vcpu(&s, 1, 3);
	snap_add_reason(&s, 10, 25);
	snap_add_reason(&s, 48, 30);
	snap_add_vcpu(&s, 2, 4);	/* no exits yet */
	s.vcpus[1].overflow_exits = 15;

	CHECK(kvmw_reason_totals(&s, KVMW_ALL_VCPUS, &t, &n) == 0 && n == 3,
	      "VM totals: 3 distinct reasons");
	if (n == 3) {
		CHECK(t[0].code == 10 && t[0].count == 75,
		      "CPUID summed over vCPUs, first");
		CHECK(t[1].code == 12 && t[1].count == 30 &&
		      t[2].code == 48 && t[2].count == 30,
		      "equal counts ordered by code");
	}
	free(t);
	CHECK_U64(kvmw_reason_denominator(&s, KVMW_ALL_VCPUS), 150,
		  "VM denominator includes overflow exits");

	CHECK(kvmw_reason_totals(&s, 1, &t, &n) == 0 && n == 2 &&
	      t[0].code == 48 && t[1].code == 10, "vCPU 1 totals, sorted");
	free(t);
	CHECK_U64(kvmw_reason_denominator(&s, 1), 70, "vCPU 1 denominator");
	CHECK(kvmw_reason_totals(&s, 2, &t, &n) == 0 && n == 0 && !t,
	      "vCPU without exits: no reasons");
	test_category_totals(&s);
	CHECK(kvmw_reason_totals(&s, 9, &t, &n) == 0 && n == 0 && !t,
	      "out of range vCPU: no reasons");
	kvmw_vm_snap_free(&s);
}

void test_stats(void)
{
	tap_diag("stats");
	test_rate();
	test_rows();
	test_totals();
}
