// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_latency - the BPF latency backend (bpf/kvmlat.bpf.c) against known
 * guests, KVM's own statistics and the kernel module, on the same run.
 *
 * Each case attaches the BPF program (tp_btf, classic tracepoints, or
 * whatever the kernel offers first), runs guest programs with known exit
 * counts on one or more vCPUs while kvmwarden is loaded too, and checks
 * for every vCPU:
 *
 *  1. the BPF counts of the reasons the programs cause (CPUID, HLT, IOIO,
 *     MSR, VMMCALL/VMCALL) are the exact expected numbers, and their sum
 *     is KVM's "exits" statistic (every exit of these guests is traced;
 *     see exit_counts.c for why), IOIO is "io_exits", HLT "halt_exits";
 *  2. every (vCPU, reason) count equals the module's exactly, in both
 *     directions (no pair is missing on either side);
 *  3. the histogram rule, which the module shares (struct
 *     kvmw_reason_stat in the UAPI): an exit is timed at the vCPU's next
 *     entry, so a reason's histogram holds its count minus the exit still
 *     in flight. These vCPUs are stopped, and their last exit, the done
 *     report (an OUT to userspace), is never followed by an entry: the
 *     BPF program must say exactly one exit is in flight, of reason IOIO,
 *     and each histogram must hold count - in_flight. The module's
 *     histogram totals must be the same numbers;
 *  4. per reason min <= mean <= max, with min and max in the first and
 *     last non-empty buckets (the UAPI bucket layout); the sum of the
 *     times fits in the wall time of the run (bpf_ktime_get_ns() is
 *     CLOCK_MONOTONIC, the test's clock); a known 20 ms pause of the
 *     vCPU thread in userspace at the phase report shows as an IO exit
 *     of at least 20 ms;
 *  5. BPF and module times agree: median buckets within one, and the
 *     mean over all exits of a vCPU within a factor of 2 (see
 *     check_module() for why not more).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmwarden/hist.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"
#include "latency.h"

#define MAX_LAT_VCPUS	4
#define MAX_REASONS	64

/* One (vCPU, reason) as one backend saw it. */
struct lat_rec {
	uint32_t reason;
	uint64_t count;
	uint64_t in_flight;	/* BPF only */
	uint64_t timed;		/* sum of the histogram */
	uint64_t total_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t hist[KVMW_LAT_BUCKETS];
};

struct lat_set {
	uint32_t n;
	struct lat_rec r[MAX_REASONS];
	bool overflow;
};

static struct lat_rec *lat_set_get(struct lat_set *s, uint32_t reason)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].reason == reason)
			return &s->r[i];
	if (s->n == MAX_REASONS) {
		s->overflow = true;
		return NULL;
	}
	memset(&s->r[s->n], 0, sizeof(s->r[s->n]));
	s->r[s->n].reason = reason;
	return &s->r[s->n++];
}

static uint64_t lat_set_count(const struct lat_set *s, uint32_t reason)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].reason == reason)
			return s->r[i].count;
	return 0;
}

static const struct lat_rec *lat_set_find(const struct lat_set *s,
					  uint32_t reason)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->r[i].reason == reason)
			return &s->r[i];
	return NULL;
}

/* Bucket of @ns in the module's layout: the one home, <kvmwarden/hist.h>. */
static unsigned int lat_bucket(uint64_t ns)
{
	return kvmw_hist_log2_bucket(ns, KVMW_LAT_BUCKETS);
}

/* What the BPF program saw of one vCPU thread. */
struct bpf_view {
	pid_t tid;
	struct lat_set set;
	uint32_t vcpu_id;
	uint32_t nr_vcpu_ids;	/* distinct vCPU ids seen for the tid */
	uint64_t foreign;	/* entries of threads that are no vCPU */
	const pid_t *tids;
	int nr_tids;
};

static void bpf_cb(const struct kvmw_lat_stat *st, void *arg)
{
	struct bpf_view *v = arg;
	struct lat_rec *r;
	unsigned int b;
	int i;

	for (i = 0; i < v->nr_tids; i++)
		if ((pid_t)st->tid == v->tids[i])
			break;
	if (i == v->nr_tids)
		v->foreign++;
	if ((pid_t)st->tid != v->tid)
		return;
	if (!v->nr_vcpu_ids || st->vcpu_id != v->vcpu_id)
		v->nr_vcpu_ids++;
	v->vcpu_id = st->vcpu_id;
	r = lat_set_get(&v->set, st->reason);
	if (!r)
		return;
	r->count += st->count;
	r->in_flight += st->in_flight;
	r->total_ns += st->total_ns;
	r->min_ns = st->min_ns;
	r->max_ns = st->max_ns;
	for (b = 0; b < KVMW_LAT_BUCKETS; b++) {
		r->hist[b] += st->hist[b];
		r->timed += st->hist[b];
	}
}

/*
 * The module's reasons of the vCPU run by @tid, from its model. The BPF
 * program's histograms are log2 with KVMW_LAT_BUCKETS buckets: the
 * module's must be of that layout to be compared bucket by bucket.
 */
static int module_set(const struct kvmw_vm *vm, pid_t tid,
		      struct lat_set *set)
{
	const struct kvmw_vcpu *vc = kvmw_vm_vcpu_by_tid(vm, tid);
	size_t i;

	memset(set, 0, sizeof(*set));
	if (!vc)
		return -ESRCH;
	for (i = 0; i < vc->u.nr_reasons; i++) {
		const struct kvmw_reason *rs = &vc->u.reasons[i];
		const struct kvmw_hist *h = &rs->lat.hist;
		struct lat_rec *r = lat_set_get(set, rs->code);
		unsigned int b;

		if (!r)
			return -E2BIG;
		if (h->type != KVMW_HIST_LOG2 ||
		    h->nr_buckets != KVMW_LAT_BUCKETS)
			return -EPROTO;
		r->count = rs->count;
		r->total_ns = rs->lat.total_ns;
		r->min_ns = rs->lat.min_ns;
		r->max_ns = rs->lat.max_ns;
		for (b = 0; b < KVMW_LAT_BUCKETS; b++) {
			r->hist[b] = h->buckets[b];
			r->timed += h->buckets[b];
		}
	}
	return 0;
}

/*
 * The vCPU thread pauses this long in userspace at the phase report (an
 * OUT to userspace): one IO exit of known minimum length.
 */
#define LAT_PAUSE_NS	20000000ULL

static void pause_hook(struct kvm_vcpu *vcpu, unsigned int phase, void *arg)
{
	struct timespec ts = { .tv_nsec = LAT_PAUSE_NS };

	(void)vcpu;
	(void)arg;
	if (phase == GUEST_PHASE_MEASURE)
		nanosleep(&ts, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

FIXTURE(lat) {
	bool kvm;
	enum kvm_vendor vendor;
	struct kvmw_lat *lat;
	int lat_err;
	struct kvmw_source src;		/* libkvmwarden on the device */
	int dev;			/* 0: src open, or -errno */
	struct kvm_vm *vm;
	uint64_t wall_ns;
};

FIXTURE_VARIANT(lat) {
	enum kvmw_lat_attach attach;
	int nr_vcpus;
	enum guest_prog prog;		/* when mix.cpuid is 0 */
	uint64_t n;
	struct guest_mix mix;
};

/* Exits of every kind the library's guests make, on two vCPUs. */
#define LAT_MIX { .cpuid = 300, .hlt = 40, .pio_user = 50, \
		  .pio_kernel = 60, .mmio = 30, .hypercall = 20, \
		  .msr_read = 25, .msr_write = 15, .pages = 20 }

FIXTURE_VARIANT_ADD(lat, btf_cpuid) {
	.attach = KVMW_LAT_ATTACH_BTF, .nr_vcpus = 1,
	.prog = GUEST_PROG_CPUID, .n = 2000,
};

FIXTURE_VARIANT_ADD(lat, btf_hlt) {
	.attach = KVMW_LAT_ATTACH_BTF, .nr_vcpus = 1,
	.prog = GUEST_PROG_HLT, .n = 200,
};

FIXTURE_VARIANT_ADD(lat, btf_pio_user) {
	.attach = KVMW_LAT_ATTACH_BTF, .nr_vcpus = 1,
	.prog = GUEST_PROG_PIO_USER, .n = 300,
};

FIXTURE_VARIANT_ADD(lat, btf_msr_read) {
	.attach = KVMW_LAT_ATTACH_BTF, .nr_vcpus = 1,
	.prog = GUEST_PROG_MSR_READ, .n = 300,
};

FIXTURE_VARIANT_ADD(lat, btf_mixed_two_vcpus) {
	.attach = KVMW_LAT_ATTACH_BTF, .nr_vcpus = 2, .mix = LAT_MIX,
};

FIXTURE_VARIANT_ADD(lat, tracepoint_mixed_two_vcpus) {
	.attach = KVMW_LAT_ATTACH_TRACEPOINT, .nr_vcpus = 2, .mix = LAT_MIX,
};

/* What a tool gets by default: the fast path on every supported kernel. */
FIXTURE_VARIANT_ADD(lat, auto_mixed) {
	.attach = KVMW_LAT_ATTACH_AUTO, .nr_vcpus = 1, .mix = LAT_MIX,
};

FIXTURE_SETUP(lat)
{
	self->dev = -ENODEV;
	self->kvm = kvm_available();
	if (!self->kvm)
		return;
	self->vendor = kvm_host_vendor();
	self->dev = kvmw_src_open(&self->src);
	self->lat_err = kvmw_lat_open(&self->lat, variant->attach);
}

FIXTURE_TEARDOWN(lat)
{
	if (self->vm)
		vm_destroy(self->vm);
	kvmw_lat_close(self->lat);
	if (self->dev >= 0)
		kvmw_source_close(&self->src);
}

static void run_guests(struct __test_metadata *_metadata,
		       FIXTURE_DATA(lat) *self,
		       const FIXTURE_VARIANT(lat) *variant)
{
	uint64_t t0;
	int c;

	self->vm = vm_create(NULL);
	ASSERT_NE(NULL, self->vm);
	for (c = 0; c < variant->nr_vcpus; c++) {
		struct kvm_vcpu *vcpu = vcpu_add(self->vm);
		struct guest_mix mix = variant->mix;

		ASSERT_NE(NULL, vcpu);
		if (mix.cpuid) {
			/* Different counts per vCPU: no mix-up goes unseen. */
			mix.cpuid += 100 * c;
			mix.hlt += 10 * c;
			mix.msr_read += 5 * c;
			ASSERT_EQ(0, vcpu_load_mixed(vcpu, &mix));
		} else {
			ASSERT_EQ(0, vcpu_load_prog(vcpu, variant->prog,
						    variant->n));
		}
		vcpu_set_phase_hook(vcpu, pause_hook, NULL);
	}
	t0 = mono_ns();
	for (c = 0; c < variant->nr_vcpus; c++)
		ASSERT_EQ(0, vcpu_start(self->vm->vcpus[c]));
	for (c = 0; c < variant->nr_vcpus; c++) {
		struct kvm_vcpu *vcpu = self->vm->vcpus[c];

		vcpu_join(vcpu);
		ASSERT_TRUE(vcpu->res.done) TH_LOG("vCPU %d: %s", c,
						   vcpu->res.msg);
	}
	self->wall_ns = mono_ns() - t0;
}

/* 1. exact counts of the known exits, and KVM's statistics. */
static void check_known(struct __test_metadata *_metadata, enum kvm_vendor vd,
			struct kvm_vcpu *vcpu, const struct lat_set *b)
{
	uint32_t msr_r = exit_reason_code(vd, EXIT_KIND_MSR_READ);
	uint32_t msr_w = exit_reason_code(vd, EXIT_KIND_MSR_WRITE);
	uint32_t io = exit_reason_code(vd, EXIT_KIND_IO);
	uint32_t hlt = exit_reason_code(vd, EXIT_KIND_HLT);
	uint64_t sum = 0, stat;
	struct guest_expect e;
	uint32_t i;

	guest_expect(vcpu, &e);
	EXPECT_EQ(e.cpuid,
		  lat_set_count(b, exit_reason_code(vd, EXIT_KIND_CPUID)));
	EXPECT_EQ(e.hlt, lat_set_count(b, hlt));
	/* + the phase report before the measured part */
	EXPECT_EQ(e.io + 1, lat_set_count(b, io));
	EXPECT_EQ(e.hypercall,
		  lat_set_count(b, exit_reason_code(vd, EXIT_KIND_HYPERCALL)));
	if (msr_r == msr_w) {
		EXPECT_EQ(e.msr_read + e.msr_write, lat_set_count(b, msr_r));
	} else {
		EXPECT_EQ(e.msr_read, lat_set_count(b, msr_r));
		EXPECT_EQ(e.msr_write, lat_set_count(b, msr_w));
	}
	EXPECT_EQ(0ULL, lat_set_count(b, KVMW_REASON_UNDECODED));

	for (i = 0; i < b->n; i++)
		sum += b->r[i].count;
	ASSERT_EQ(0, kvm_vcpu_stat(vcpu, "exits", &stat));
	EXPECT_EQ(stat, sum) TH_LOG("vCPU %d: KVM exits vs BPF", vcpu->id);
	ASSERT_EQ(0, kvm_vcpu_stat(vcpu, "io_exits", &stat));
	EXPECT_EQ(stat, lat_set_count(b, io));
	ASSERT_EQ(0, kvm_vcpu_stat(vcpu, "halt_exits", &stat));
	EXPECT_EQ(stat, lat_set_count(b, hlt));
}

/* 3 and 4: the histogram rule, its bucket layout, and the times. */
static void check_times(struct __test_metadata *_metadata, enum kvm_vendor vd,
			int id, const struct lat_set *b, uint64_t wall_ns)
{
	uint32_t io = exit_reason_code(vd, EXIT_KIND_IO);
	uint64_t in_flight = 0, sum_ns = 0;
	const struct lat_rec *r;
	uint32_t i;

	for (i = 0; i < b->n; i++) {
		r = &b->r[i];
		const char *name = exit_reason_name(vd, r->reason);
		int k, lo = -1, hi = -1;

		for (k = 0; k < KVMW_LAT_BUCKETS; k++) {
			if (r->hist[k] && lo < 0)
				lo = k;
			if (r->hist[k])
				hi = k;
		}
		EXPECT_EQ(r->reason == io ? 1ULL : 0ULL, r->in_flight)
			TH_LOG("vCPU %d %s: exits in flight", id, name);
		EXPECT_EQ(r->count - r->in_flight, r->timed)
			TH_LOG("vCPU %d %s: histogram total vs count", id, name);
		in_flight += r->in_flight;
		sum_ns += r->total_ns;
		if (!r->timed) {
			EXPECT_EQ(0ULL, r->total_ns);
			EXPECT_EQ(0ULL, r->min_ns);
			continue;
		}
		EXPECT_GT(r->total_ns, 0ULL);
		EXPECT_LE(r->min_ns, r->total_ns / r->timed)
			TH_LOG("vCPU %d %s: min vs mean", id, name);
		EXPECT_LE(r->total_ns / r->timed, r->max_ns)
			TH_LOG("vCPU %d %s: mean vs max", id, name);
		EXPECT_EQ((unsigned int)lo, lat_bucket(r->min_ns))
			TH_LOG("vCPU %d %s: min %llu ns in bucket %d", id, name,
			       (unsigned long long)r->min_ns, lo);
		EXPECT_EQ((unsigned int)hi, lat_bucket(r->max_ns))
			TH_LOG("vCPU %d %s: max %llu ns in bucket %d", id, name,
			       (unsigned long long)r->max_ns, hi);
	}
	EXPECT_EQ(1ULL, in_flight) TH_LOG("vCPU %d: exits in flight", id);
	r = lat_set_find(b, io);
	ASSERT_NE(NULL, r);
	EXPECT_LE(LAT_PAUSE_NS, r->max_ns)
		TH_LOG("vCPU %d: a %llu ns pause in userspace, longest IO exit %llu ns",
		       id, LAT_PAUSE_NS, (unsigned long long)r->max_ns);
	/* Same clock as the test's: 1 ms for the fast path's staleness. */
	EXPECT_LE(sum_ns, wall_ns + 1000000)
		TH_LOG("vCPU %d: %llu ns of exits in %llu ns of run", id,
		       (unsigned long long)sum_ns,
		       (unsigned long long)wall_ns);
}

/* Bucket holding the median timed exit. */
static unsigned int lat_median_bucket(const struct lat_rec *r)
{
	uint64_t seen = 0;
	unsigned int b;

	for (b = 0; b < KVMW_LAT_BUCKETS; b++) {
		seen += r->hist[b];
		if (2 * seen >= r->timed)
			return b;
	}
	return KVMW_LAT_BUCKETS - 1;
}

/*
 * 2, 3 and 5: BPF against the module, pair by pair. Counts and numbers
 * of timed exits must be equal. Times cannot be: the clocks differ and
 * each side's interval contains some of the other's probe work. Worse,
 * the module's default clock on a host without a stable TSC (TCG) is
 * local_clock(), which is only kept within about a tick across CPUs, so
 * an exit whose vCPU thread changed CPU before its entry can be off by
 * milliseconds there (seen as outliers up to ~15 ms and as 0 ns minima).
 * local_clock() also jumps at the scheduler tick to catch up with the
 * tick's timekeeping, so the exits that span a tick, external interrupt
 * exits (mostly the timer), take those jumps: their module median is 8 to
 * 16 times the BPF one on TCG. So the distributions are compared where
 * this does not reach: the median buckets of reasons other than external
 * interrupts with at least LAT_MEDIAN_MIN timed exits differ by at most
 * one (a factor of 2), and over all of a vCPU's exits but the longest of
 * each reason the means agree within a factor of 2.
 */
#define LAT_MEDIAN_MIN	20

static void check_module(struct __test_metadata *_metadata,
			 enum kvm_vendor vd, int id, const struct lat_set *b,
			 const struct lat_set *m)
{
	uint64_t b_ns = 0, m_ns = 0, b_timed = 0, m_timed = 0;
	uint32_t i;

	EXPECT_EQ(m->n, b->n) TH_LOG("vCPU %d: reasons, module vs BPF", id);
	for (i = 0; i < m->n; i++) {
		const struct lat_rec *mr = &m->r[i];
		const struct lat_rec *br = lat_set_find(b, mr->reason);
		const char *name = exit_reason_name(vd, mr->reason);
		unsigned int bb, mb;

		EXPECT_NE(NULL, br)
			TH_LOG("vCPU %d %s: %llu exits in the module, none in BPF",
			       id, name, (unsigned long long)mr->count);
		if (!br)
			continue;
		EXPECT_EQ(mr->count, br->count)
			TH_LOG("vCPU %d %s: count, module vs BPF", id, name);
		EXPECT_EQ(mr->timed, br->timed)
			TH_LOG("vCPU %d %s: timed exits, module vs BPF", id,
			       name);
		if (mr->timed > 1 && br->timed > 1) {
			b_ns += br->total_ns - br->max_ns;
			m_ns += mr->total_ns - mr->max_ns;
			b_timed += br->timed - 1;
			m_timed += mr->timed - 1;
		}
		if (mr->timed < LAT_MEDIAN_MIN || br->timed < LAT_MEDIAN_MIN ||
		    mr->reason == exit_reason_code(vd, EXIT_KIND_INTR))
			continue;
		bb = lat_median_bucket(br);
		mb = lat_median_bucket(mr);
		EXPECT_GE(1U, bb > mb ? bb - mb : mb - bb)
			TH_LOG("vCPU %d %s: median bucket %u (BPF) vs %u (module)",
			       id, name, bb, mb);
	}
	for (i = 0; i < b->n; i++) {
		EXPECT_NE(NULL, lat_set_find(m, b->r[i].reason))
			TH_LOG("vCPU %d %s: in BPF, not in the module", id,
			       exit_reason_name(vd, b->r[i].reason));
	}
	ASSERT_NE(0ULL, b_timed);
	ASSERT_NE(0ULL, m_timed);
	EXPECT_LE(b_ns / b_timed, 2 * (m_ns / m_timed))
		TH_LOG("vCPU %d: trimmed mean %llu ns (BPF) vs %llu ns (module)",
		       id, (unsigned long long)(b_ns / b_timed),
		       (unsigned long long)(m_ns / m_timed));
	EXPECT_LE(m_ns / m_timed, 2 * (b_ns / b_timed))
		TH_LOG("vCPU %d: trimmed mean %llu ns (module) vs %llu ns (BPF)",
		       id, (unsigned long long)(m_ns / m_timed),
		       (unsigned long long)(b_ns / b_timed));
	TH_LOG("vCPU %d: trimmed mean %llu ns (BPF), %llu ns (module)", id,
	       (unsigned long long)(b_ns / b_timed),
	       (unsigned long long)(m_ns / m_timed));
}

static void log_set(struct __test_metadata *_metadata, enum kvm_vendor vd,
		    int id, const char *who, const struct lat_set *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		const struct lat_rec *r = &s->r[i];

		TH_LOG("vCPU %d %-6s %-16s count %6llu timed %6llu mean %8llu min %8llu max %10llu",
		       id, who, exit_reason_name(vd, r->reason),
		       (unsigned long long)r->count,
		       (unsigned long long)r->timed,
		       (unsigned long long)(r->timed ?
					    r->total_ns / r->timed : 0),
		       (unsigned long long)r->min_ns,
		       (unsigned long long)r->max_ns);
	}
}

TEST_F_TIMEOUT(lat, agree, 300)
{
	uint64_t want = self->vendor == KVM_VENDOR_SVM ? KVMW_FEAT_REASON_SVM :
							 KVMW_FEAT_REASON_VMX;
	pid_t tids[MAX_LAT_VCPUS];
	struct kvmw_snapshot snap;
	const struct kvmw_vm *mvm = NULL;
	bool module;
	int c, ret;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (!kvm_backend_is_hw())
		SKIP(return, "KVM does not run on kvm_amd or kvm_intel");
	ASSERT_EQ(0, self->lat_err)
		TH_LOG("cannot load the BPF latency program: %s",
		       strerror(-self->lat_err));
	EXPECT_EQ(variant->attach == KVMW_LAT_ATTACH_AUTO ?
		  KVMW_LAT_ATTACH_BTF : variant->attach,
		  kvmw_lat_attached(self->lat));
	ASSERT_LE(variant->nr_vcpus, MAX_LAT_VCPUS);

	run_guests(_metadata, self, variant);

	/* SVM decoding is announced once the module checked the layout. */
	if (self->dev >= 0 && kvmw_src_info(&self->src)) {
		kvmw_source_close(&self->src);
		self->dev = -EPROTO;
	}
	module = self->dev >= 0 && (self->src.host.features & want) &&
		 (self->src.host.features & KVMW_FEAT_LATENCY);
	if (module) {
		ret = kvmw_take_kvm_vm(&self->src, self->vm, &snap, &mvm);
		ASSERT_EQ(0, ret) TH_LOG("VM not found in the module: %s",
					 strerror(-ret));
	}

	for (c = 0; c < variant->nr_vcpus; c++)
		tids[c] = self->vm->vcpus[c]->tid;
	for (c = 0; c < variant->nr_vcpus; c++) {
		struct kvm_vcpu *vcpu = self->vm->vcpus[c];
		struct bpf_view v = {
			.tid = vcpu->tid, .tids = tids,
			.nr_tids = variant->nr_vcpus,
		};
		struct lat_set m;

		ASSERT_LE(0, kvmw_lat_foreach(self->lat, getpid(), bpf_cb, &v));
		EXPECT_FALSE(v.set.overflow);
		EXPECT_EQ(0ULL, v.foreign)
			TH_LOG("exits of threads that run no vCPU");
		ASSERT_NE(0U, v.set.n) TH_LOG("vCPU %d: no exits in BPF", c);
		EXPECT_EQ(1U, v.nr_vcpu_ids);
		EXPECT_EQ((uint32_t)vcpu->id, v.vcpu_id);
		log_set(_metadata, self->vendor, c, "bpf", &v.set);

		check_known(_metadata, self->vendor, vcpu, &v.set);
		check_times(_metadata, self->vendor, c, &v.set, self->wall_ns);
		if (!module)
			continue;
		ASSERT_EQ(0, module_set(mvm, vcpu->tid, &m))
			TH_LOG("vCPU %d not in the module's snapshot", c);
		log_set(_metadata, self->vendor, c, "module", &m);
		check_module(_metadata, self->vendor, c, &v.set, &m);
	}
	EXPECT_EQ(0ULL, kvmw_lat_dropped(self->lat));
	if (module)
		kvmw_snapshot_free(&snap);
	if (!module)
		SKIP(return, "kvmwarden not loaded or without latencies: BPF-only checks done");
}

TEST_HARNESS_MAIN
