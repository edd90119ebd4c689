// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit latencies: log2 bucket bounds, percentiles from crafted histograms
 * (empty, one bucket, bucket 0, bucket 31, the ceil(q * total) boundary),
 * clipping to the exact min and max, the mean, aggregation across vCPUs,
 * vCPU times and the overhead percentage, and durations for the tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "helpers.h"
#include "libkvmwarden.h"
#include "tap.h"

#define B31	(1ULL << 31)
#define LOG2	KVMW_HIST_LOG2, 0

/* The module's layout, through the one bucket function (hist.h). */
static unsigned int bucket(__u64 ns)
{
	return kvmw_hist_bucket(LOG2, KVMW_LAT_BUCKETS, ns);
}

static __u64 lo_of(unsigned int b)
{
	return kvmw_hist_lo(LOG2, b);
}

static __u64 hi_of(unsigned int b)
{
	return kvmw_hist_hi(LOG2, b, KVMW_LAT_BUCKETS);
}

static void test_buckets(void)
{
	unsigned int b;
	bool ok = true;

	CHECK(lo_of(0) == 0 && hi_of(0) == 2, "bucket 0 is [0, 2)");
	CHECK(lo_of(1) == 2 && hi_of(1) == 4, "bucket 1 is [2, 4)");
	CHECK(lo_of(10) == 1024 && hi_of(10) == 2048,
	      "bucket 10 is [1024, 2048)");
	CHECK(lo_of(30) == 1ULL << 30 && hi_of(30) == B31,
	      "bucket 30 is [2^30, 2^31)");
	CHECK(lo_of(31) == B31 && hi_of(31) == KVMW_HIST_INF,
	      "bucket 31 is [2^31, inf)");

	CHECK_U64(bucket(0), 0, "0 ns in bucket 0");
	CHECK_U64(bucket(1), 0, "1 ns in bucket 0");
	CHECK_U64(bucket(2), 1, "2 ns in bucket 1");
	CHECK_U64(bucket(3), 1, "3 ns in bucket 1");
	CHECK_U64(bucket(1023), 9, "1023 ns in bucket 9");
	CHECK_U64(bucket(1024), 10, "1024 ns in bucket 10");
	CHECK_U64(bucket(B31 - 1), 30, "2^31 - 1 ns in bucket 30");
	CHECK_U64(bucket(B31), 31, "2^31 ns in bucket 31");
	CHECK_U64(bucket(~0ULL), 31, "2^64 - 1 ns in bucket 31");
	for (b = 0; b < KVMW_LAT_BUCKETS; b++) {
		if (bucket(lo_of(b)) != b ||
		    (b < KVMW_LAT_BUCKETS - 1 && bucket(hi_of(b) - 1) != b))
			ok = false;
	}
	CHECK(ok, "every bucket's bounds map back to it");
}

/* kvmw_hist_percentile() of the log2 buckets @h: bucket and bounds. */
static void check_pct(const __u64 *h, __u32 ppm, int want_b, __u64 want_lo,
		      __u64 want_hi, const char *what)
{
	struct kvmw_hist hist = {
		.type = KVMW_HIST_LOG2,
		.nr_buckets = KVMW_LAT_BUCKETS,
		.buckets = (__u64 *)h,
	};
	struct kvmw_pct p;

	/* min 0 and max ~0 narrow nothing. */
	kvmw_hist_percentile(&hist, ppm, 0, ~0ULL, &p);
	CHECK(p.bucket == want_b && p.lo == want_lo && p.hi == want_hi, "%s",
	      what);
	if (p.bucket != want_b || p.lo != want_lo || p.hi != want_hi)
		tap_diag("got bucket %d [%llu, %llu), want %d [%llu, %llu)",
			 p.bucket, (unsigned long long)p.lo,
			 (unsigned long long)p.hi, want_b,
			 (unsigned long long)want_lo,
			 (unsigned long long)want_hi);
}

static void test_percentiles(void)
{
	__u64 h[KVMW_LAT_BUCKETS];
	struct kvmw_hist hist = {
		.type = KVMW_HIST_LOG2,
		.nr_buckets = KVMW_LAT_BUCKETS,
		.buckets = h,
	};

	memset(h, 0, sizeof(h));
	check_pct(h, 500000, -1, 0, 0, "empty histogram: no percentile");
	CHECK_U64(kvmw_hist_total(&hist), 0, "empty histogram: nothing timed");

	h[10] = 7;
	check_pct(h, 500000, 10, 1024, 2048, "one bucket: p50 there");
	check_pct(h, 999000, 10, 1024, 2048, "one bucket: p99.9 there");
	check_pct(h, 0, 10, 1024, 2048, "q 0 is the first timed exit");
	check_pct(h, KVMW_PPM, 10, 1024, 2048, "q 1 is the last timed exit");

	memset(h, 0, sizeof(h));
	h[0] = 5;
	check_pct(h, 990000, 0, 0, 2, "all in bucket 0: [0, 2)");
	memset(h, 0, sizeof(h));
	h[31] = 3;
	check_pct(h, 500000, 31, B31, KVMW_HIST_INF,
		  "all in bucket 31: [2^31, inf)");

	/* 50 + 50: the median is the 50th exit, in the first bucket. */
	memset(h, 0, sizeof(h));
	h[3] = 50;
	h[5] = 50;
	CHECK_U64(kvmw_hist_total(&hist), 100, "100 timed exits");
	check_pct(h, 500000, 3, 8, 16, "p50 of 50+50: rank 50, bucket 3");
	check_pct(h, 500001, 5, 32, 64,
		  "q just above 0.5: rank ceil(50.0001) = 51, bucket 5");
	check_pct(h, 2000000, 5, 32, 64, "q above 1 counts as 1");

	/* 9 + 1: p90 is the 9th, p99 the 10th (ceil(9.9)). */
	memset(h, 0, sizeof(h));
	h[0] = 9;
	h[7] = 1;
	check_pct(h, 900000, 0, 0, 2, "p90 of 9+1: rank 9, bucket 0");
	check_pct(h, 990000, 7, 128, 256, "p99 of 9+1: rank ceil(9.9) = 10");

	/* 999 + 1: p99.9 is exactly the 999th. */
	memset(h, 0, sizeof(h));
	h[1] = 999;
	h[2] = 1;
	check_pct(h, 999000, 1, 2, 4, "p99.9 of 999+1: rank 999, bucket 1");
	check_pct(h, 999001, 2, 4, 8, "q just above: rank 1000, bucket 2");
	/* 999 + 2: ceil(999.999) = 1000 (rounding down would give 999). */
	h[2] = 2;
	check_pct(h, 999000, 2, 4, 8, "p99.9 of 999+2: rank 1000, bucket 2");

	/* Empty buckets between: the one reaching the rank counts. */
	memset(h, 0, sizeof(h));
	h[2] = 1;
	h[20] = 1;
	check_pct(h, 500000, 2, 4, 8, "p50 of 1+1: rank 1");
	check_pct(h, 900000, 20, 1ULL << 20, 1ULL << 21,
		  "p90 of 1+1 across empty buckets: rank 2");

	/* Counts near 2^63: no overflow in ceil(q * total). */
	memset(h, 0, sizeof(h));
	h[0] = 1ULL << 62;
	h[1] = 1ULL << 62;
	check_pct(h, 500000, 0, 0, 2, "p50 of 2^62 + 2^62: bucket 0");
	check_pct(h, 500001, 1, 2, 4, "just above p50 of 2^63 exits");
}

/*
 * A finer layout flows through unchanged: log-linear with 2 sub-bucket
 * bits, as a source may give it.
 */
static void test_loglin(void)
{
	struct kvmw_hist h;
	struct kvmw_pct p;
	unsigned int b;

	CHECK(kvmw_hist_init(&h, KVMW_HIST_LOGLIN, 2, 64) == 0,
	      "log-linear histogram of 64 buckets");
	/* 1000 ns: e = 9, m = 1000 >> 7 = 7: [896, 1024). */
	b = kvmw_hist_bucket(h.type, h.sub_bits, h.nr_buckets, 1000);
	h.buckets[b] = 10;
	kvmw_hist_percentile(&h, 500000, 0, ~0ULL, &p);
	CHECK(p.bucket == (int)b && p.lo == 896 && p.hi == 1024,
	      "log-linear p50: a bucket 1/4 of its octave wide");
	kvmw_hist_percentile(&h, 500000, 900, 1000, &p);
	CHECK(p.lo == 900 && p.hi == 1000,
	      "log-linear p50 narrowed to the exact min and max");
	h.buckets[63] = 30;
	kvmw_hist_percentile(&h, 990000, 0, ~0ULL, &p);
	CHECK(p.bucket == 63 && p.hi == KVMW_HIST_INF,
	      "log-linear last bucket is open-ended");
	kvmw_hist_release(&h);
}

/* Percentiles of a latency, narrowed to its exact min and max. */
static void check_lat_pct(const struct kvmw_lat *l, __u32 ppm, int want_b,
			  __u64 want_lo, __u64 want_hi, const char *what)
{
	struct kvmw_pct p;

	kvmw_hist_percentile(&l->hist, ppm, l->min_ns, l->max_ns, &p);
	CHECK(p.bucket == want_b && p.lo == want_lo && p.hi == want_hi, "%s",
	      what);
	if (p.bucket != want_b || p.lo != want_lo || p.hi != want_hi)
		tap_diag("got bucket %d [%llu, %llu]", p.bucket,
			 (unsigned long long)p.lo, (unsigned long long)p.hi);
}

static void test_clip(void)
{
	__u64 h[KVMW_LAT_BUCKETS];
	struct kvmw_lat l;

	memset(&l, 0, sizeof(l));
	memset(h, 0, sizeof(h));
	l.hist.type = KVMW_HIST_LOG2;
	l.hist.nr_buckets = KVMW_LAT_BUCKETS;
	l.hist.buckets = h;
	check_lat_pct(&l, 500000, -1, 0, 0, "nothing timed: no percentile");

	h[10] = 5;
	l.min_ns = 1100;
	l.max_ns = 1500;
	check_lat_pct(&l, 500000, 10, 1100, 1500,
		      "min and max inside the bucket narrow both ends");

	h[3] = 1;
	h[10] = 9;
	l.min_ns = 10;
	l.max_ns = 2000;
	check_lat_pct(&l, 900000, 10, 1024, 2000,
		      "min below the bucket: lower end is the bucket's");
	l.max_ns = 5000;
	check_lat_pct(&l, 900000, 10, 1024, 2048,
		      "max above the bucket: upper end is the bucket's");
	check_lat_pct(&l, 50000, 3, 10, 16, "p5: min in its bucket");

	memset(h, 0, sizeof(h));
	h[31] = 1;
	l.min_ns = 3000000000ULL;
	l.max_ns = 3000000000ULL;
	check_lat_pct(&l, 999000, 31, 3000000000ULL, 3000000000ULL,
		      "bucket 31: max bounds the open end");
	l.min_ns = 0;
	l.max_ns = 0;
	check_lat_pct(&l, 999000, 31, B31, KVMW_HIST_INF,
		      "min and max contradicting the histogram are ignored");
}

/* The means the model derives. */
static void test_mean(void)
{
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 2);
	snap_add_reason(&s, 10, 5);
	snap_set_lat(&s, 6000, 1100, 1500, 0, 0);
	snap_add_hist(&s, 10, 5);
	snap_add_reason(&s, 30, 3);
	snap_set_lat(&s, 1000, 20, 500, 0, 0);
	snap_add_hist(&s, 4, 3);
	snap_add_reason(&s, 31, 2);
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY);
	CHECK(vm->total.nr_reasons == 3, "three reasons");
	if (vm->total.nr_reasons == 3) {
		const struct kvmw_reason *r = vm->total.reasons;

		CHECK(r[0].lat.mean_ns.ok && r[0].lat.mean_ns.v == 1200,
		      "mean 6000 / 5");
		CHECK(r[1].lat.mean_ns.ok &&
		      near(r[1].lat.mean_ns.v, 1000.0 / 3), "mean 1000 / 3");
		CHECK(!r[2].lat.mean_ns.ok && r[2].lat.pct[0].bucket == -1,
		      "nothing timed: no mean, no percentile");
		CHECK(r[0].lat.pct[KVMW_P50].lo == 1100 &&
		      r[0].lat.pct[KVMW_P50].hi == 1500,
		      "derived p50 narrowed to min and max");
	}
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);
}

static void set_stat(struct kvmw_vm_snap *s, __u64 count, __u64 total,
		     __u64 min, __u64 max)
{
	struct kvmw_reason_stat *r;

	snap_add_vcpu(s, s->nr_vcpus, 100 + s->nr_vcpus);
	snap_add_reason(s, 10, count);
	r = &s->reasons[s->nr_reasons - 1];
	r->lat_total_ns = total;
	r->lat_min_ns = min;
	r->lat_max_ns = max;
}

static void test_lat_add(void)
{
	const struct kvmw_lat *l;
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	set_stat(&s, 5, 0, 0, 0);		/* untimed: min 0 */
	s.reasons[0].flags = KVMW_REASON_F_UNTIMED;
	set_stat(&s, 2, 100, 40, 60);
	s.reasons[1].hist[5] = 2;
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY);
	l = &vm->total.reasons[0].lat;
	CHECK(l->timed == 2 && l->min_ns == 40 && l->max_ns == 60,
	      "an untimed part does not bring min 0");
	kvmw_snapshot_free(&m);

	set_stat(&s, 3, 210, 10, 100);
	s.reasons[2].hist[3] = 1;
	s.reasons[2].hist[6] = 2;
	s.reasons[2].user_count = 1;
	s.reasons[2].user_ns = 50;
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY);
	l = &vm->total.reasons[0].lat;
	CHECK_U64(l->timed, 5, "timed exits summed");
	CHECK_U64(l->total_ns, 310, "totals summed");
	CHECK(l->min_ns == 10 && l->max_ns == 100,
	      "min of the mins, max of the maxes");
	CHECK(l->user_count == 1 && l->user_ns == 50, "userspace summed");
	CHECK(vm->total.reasons[0].flags == KVMW_R_UNTIMED, "flags or-ed");
	CHECK(l->hist.buckets[3] == 1 && l->hist.buckets[5] == 2 &&
	      l->hist.buckets[6] == 2 && kvmw_hist_total(&l->hist) == 5,
	      "histograms summed bucket by bucket");
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);
}

/* A VM whose CPUID exits are spread over 3 vCPUs, one of them untimed. */
static void build_vm(struct kvmw_vm_snap *s)
{
	snap_init(s, 7, 70, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(s, 0, 71);
	snap_add_reason(s, 10, 10);
	snap_set_lat(s, 15000, 1100, 1900, 0, 0);
	snap_add_hist(s, 10, 10);
	snap_add_reason(s, 12, 4);			/* HLT: idle */
	snap_set_lat(s, 4000000, 1000000, 1000000, 0, 0);
	snap_add_hist(s, 19, 4);
	s->vcpus[0].guest_ns = 900000;
	snap_add_vcpu(s, 1, 72);
	snap_add_reason(s, 10, 5);
	snap_set_lat(s, 17000, 2500, 5000, 1, 3000);
	snap_add_hist(s, 11, 4);
	snap_add_hist(s, 12, 1);
	s->vcpus[1].guest_ns = 83000;
	snap_add_vcpu(s, 2, 73);
	snap_add_reason(s, 10, 3);
	s->reasons[s->nr_reasons - 1].flags = KVMW_REASON_F_UNTIMED;
	s->vcpus[2].untimed_exits = 3;
}

static void test_aggregate(void)
{
	const struct kvmw_reason *t;
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;
	const struct kvmw_pct *p;

	build_vm(&s);
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS);
	t = vm->total.reasons;
	CHECK(vm->total.nr_reasons == 2, "VM: 2 reasons over 3 vCPUs");
	if (vm->total.nr_reasons == 2) {
		const struct kvmw_lat *l = &t[0].lat;

		CHECK(t[0].code == 10 && t[0].count == 18,
		      "CPUID counts summed: 18");
		CHECK_U64(l->timed, 15, "CPUID timed: 10 + 5, untimed vCPU 2");
		CHECK_U64(l->total_ns, 32000, "CPUID total 15000 + 17000");
		CHECK(l->min_ns == 1100 && l->max_ns == 5000,
		      "CPUID min 1100 (not the untimed 0), max 5000");
		CHECK(l->hist.buckets[10] == 10 && l->hist.buckets[11] == 4 &&
		      l->hist.buckets[12] == 1, "CPUID histogram: 10, 4, 1");
		CHECK(l->user_count == 1 && l->user_ns == 3000,
		      "CPUID userspace from vCPU 1");
		CHECK(l->user_pct.ok && near(l->user_pct.v, 100.0 / 15),
		      "CPUID user share of the timed exits");
		CHECK(t[0].flags == KVMW_R_UNTIMED, "CPUID partly untimed");
		CHECK(l->mean_ns.ok && near(l->mean_ns.v, 32000.0 / 15),
		      "CPUID mean 32000 / 15");
		p = &l->pct[KVMW_P50];
		CHECK(p->bucket == 10 && p->lo == 1100 && p->hi == 2048,
		      "CPUID p50: rank 8 of 15, bucket 10, [1100, 2048]");
		p = &l->pct[KVMW_P90];
		CHECK(p->bucket == 11 && p->lo == 2048 && p->hi == 4096,
		      "CPUID p90: rank 14 of 15, bucket 11");
		p = &l->pct[KVMW_P99];
		CHECK(p->bucket == 12 && p->lo == 4096 && p->hi == 5000,
		      "CPUID p99: rank 15 of 15, bucket 12, [4096, 5000]");
		CHECK(t[1].code == 12 && t[1].flags == KVMW_R_IDLE &&
		      t[1].idle && t[1].lat.timed == 4, "HLT second, idle");
	}

	t = vm->vcpus[1].u.reasons;
	CHECK(vm->vcpus[1].u.nr_reasons == 1 && t[0].lat.timed == 5 &&
	      t[0].lat.min_ns == 2500 && t[0].flags == 0,
	      "vCPU 1 alone: its own figures");
	t = vm->vcpus[2].u.reasons;
	CHECK(vm->vcpus[2].u.nr_reasons == 1 && t[0].count == 3 &&
	      t[0].lat.timed == 0 && !t[0].lat.mean_ns.ok,
	      "vCPU 2 alone: counted, nothing timed");
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);
}

/* The overhead share the model derives for one vCPU's times. */
static struct kvmw_opt overhead_of(__u64 guest, __u64 exits, __u64 ovh)
{
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;
	struct kvmw_opt o;

	snap_init(&s, 1, 1, "vm", KVMW_VENDOR_VMX);
	snap_add_vcpu(&s, 0, 2);
	s.vcpus[0].guest_ns = guest;
	s.vcpus[0].exit_ns = exits;
	s.vcpus[0].overhead_ns = ovh;
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY);
	o = vm->vcpus[0].u.times.overhead_pct;
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);
	return o;
}

static void test_times(void)
{
	const struct kvmw_times *t;
	struct kvmw_snapshot m;
	const struct kvmw_vm *vm;
	struct kvmw_vm_snap s;
	struct kvmw_opt o;

	build_vm(&s);
	vm = model_of(&m, &s, KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS);
	t = &vm->total.times;
	CHECK_U64(t->guest_ns, 983000, "VM guest time summed");
	CHECK_U64(t->exit_ns, 4032000, "VM exit time summed");
	CHECK_U64(t->idle_ns, 4000000, "HLT time is idle");
	CHECK_U64(t->user_ns, 3000, "userspace time");
	CHECK_U64(t->overhead_ns, 29000, "overhead = exits - idle - user");
	CHECK_U64(t->exit_ns, t->idle_ns + t->user_ns + t->overhead_ns,
		  "exit time = idle + user + overhead");
	CHECK_U64(t->untimed_exits, 3, "untimed exits summed");
	/* 29000 / (983000 + 4032000) = 29000 / 5015000 */
	CHECK(t->overhead_pct.ok &&
	      near(t->overhead_pct.v, 2900000.0 / 5015000.0),
	      "VM overhead %% is 0.578%%");

	t = &vm->vcpus[1].u.times;
	/* vCPU 1: guest 83000, exits 17000 of which 3000 user: 14 %. */
	CHECK(t->guest_ns == 83000 && t->exit_ns == 17000 &&
	      t->overhead_ns == 14000 && t->overhead_pct.ok &&
	      near(t->overhead_pct.v, 14.0),
	      "vCPU 1 overhead 14000 / 100000 = 14%%");

	CHECK(!vm->vcpus[2].u.times.overhead_pct.ok,
	      "vCPU without measured time: no overhead %%");
	kvmw_snapshot_free(&m);
	kvmw_vm_snap_free(&s);

	o = overhead_of(0, 10, 10);
	CHECK(o.ok && o.v == 100, "no guest time at all: 100%%");
	o = overhead_of(900, 100, 50);
	CHECK(o.ok && o.v == 5, "50 of 900 + 100: 5%%");
}

static void test_fmt_ns(void)
{
	static const struct {
		__u64 ns;
		const char *want;
	} cases[] = {
		{ 0, "0ns" }, { 999, "999ns" }, { 1000, "1.00us" },
		{ 1024, "1.02us" }, { 2048, "2.05us" }, { 9994, "9.99us" },
		{ 9995, "10.0us" }, { 16384, "16.4us" }, { 99949, "99.9us" },
		{ 99950, "100us" }, { 999499, "999us" }, { 999500, "1.00ms" },
		{ 135900000, "136ms" }, { B31, "2.15s" },
		{ 3000000000ULL, "3.00s" }, { 999499999999ULL, "999s" },
		{ 999500000000ULL, "1000s" }, { ~0ULL, "18446744074s" },
	};
	char buf[KVMW_NS_BUF_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK_STR(kvmw_fmt_ns(cases[i].ns, buf), cases[i].want,
			  cases[i].want);
}

void test_latency(void)
{
	tap_diag("latency");
	test_buckets();
	test_percentiles();
	test_loglin();
	test_clip();
	test_mean();
	test_lat_add();
	test_aggregate();
	test_times();
	test_fmt_ns();
}
