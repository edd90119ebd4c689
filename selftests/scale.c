// SPDX-License-Identifier: GPL-2.0
/*
 * scale - one VM with many vCPUs: exact counts for all, and the cost of
 * reading them in one KVMW_IOC_VM_SNAPSHOT and in one KVMW_IOC_STATS_READ.
 *
 * The guest library lays out at most 16 vCPUs per VM, so this test uses
 * its own minimal guest: every vCPU starts in real mode at address 0 of a
 * shared read-only code page that executes CPUID ESI times (ESI set per
 * vCPU) and then writes to a port that exits to userspace. vCPU i executes
 * 1 + i % 7 CPUIDs, so a misattributed count shows.
 *
 * The event stream is checked at the same scale: one VM_NEW and one
 * VCPU_NEW per other vCPU, each vCPU once, nothing lost. events_lost
 * produces more events than the module's ring holds (VMs of 1000 vCPUs
 * created, run and destroyed) while a reader reads none: it must then get
 * exactly the newest KVMW_EVENT_RING records, consecutive, the first
 * saying how many were lost, the last the final VM's VM_GONE with the
 * totals the VM list showed just before it was destroyed.
 *
 * Two variants: "separate" creates all vCPUs and then runs them (a burst
 * of discoveries, the record pool refilled behind it), "interleaved" runs
 * each vCPU as soon as it is created. Each vCPU runs once, to its port
 * write, on one thread (vCPU creation and a first KVM_RUN take about 1 ms
 * each under the test VM's TCG). Then the snapshot of the whole VM is
 * read several times and the median time is logged (TCG time, not
 * hardware time; not asserted), and every vCPU is checked: its own CPUID
 * count, one port write, reasons summing to its exits, exits == entries,
 * its thread, and no exit of the module left untracked.
 *
 * Environment (defaults can also be set at build time with
 * EXTRA_CFLAGS=-DSCALE_VCPUS=N / -DSCALE_THREADS=N, for the test VM):
 *  KVMW_SCALE_VCPUS	vCPUs (default SCALE_VCPUS = 1000, capped by
 *			KVM_CAP_MAX_VCPUS)
 *  KVMW_SCALE_THREADS	threads that run them (default 1): vCPU i runs
 *			on thread i % threads, one after the other
 *  KVMW_SCALE_ROUNDS	snapshots timed (default 21, the median is shown)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#ifndef SCALE_VCPUS
#define SCALE_VCPUS	1000
#endif
#ifndef SCALE_THREADS
#define SCALE_THREADS	1
#endif
#define SCALE_DONE_PORT	0x10
#define MAX_ROUNDS	101

/*
 * Real-mode guest, position independent:
 *	1: xor %eax,%eax ; cpuid ; dec %esi ; jnz 1b ; out %al,$0x10 ; hlt
 * (16-bit code: the 32-bit operations carry 0x66 prefixes). CPUID leaf 0
 * writes EAX, EBX, ECX and EDX, so the count is in ESI.
 */
static const unsigned char scale_code[] = {
	0x66, 0x31, 0xc0,		/* xor %eax,%eax */
	0x0f, 0xa2,			/* cpuid */
	0x66, 0x4e,			/* dec %esi */
	0x75, 0xf7,			/* jnz -9 */
	0xe6, SCALE_DONE_PORT,		/* out %al,$0x10 */
	0xf4,				/* hlt (never reached) */
};

struct scale_vcpu {
	int fd;
	struct kvm_run *run;
	pid_t tid;
	int ret;		/* 0: done; else the failing step (see run_one) */
	char msg[256];
};

struct scale_run {
	struct scale_vcpu *v;
	unsigned int nr;
	unsigned int threads;
	unsigned int first;	/* this thread's first vCPU */
	double run_ms;		/* time in KVM_RUN, summed */
	double run_max_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned int expected_cpuid(unsigned int i)
{
	return 1 + i % 7;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

/* Everything KVM says about an exit that is not the expected port write. */
static void describe_exit(struct scale_vcpu *v, unsigned int i)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs;
	int len, k;

	memset(&regs, 0, sizeof(regs));
	ioctl(v->fd, KVM_GET_REGS, &regs);
	len = snprintf(v->msg, sizeof(v->msg),
		       "vCPU %u: exit %u rip 0x%llx rsi %llu", i,
		       run->exit_reason, (unsigned long long)regs.rip,
		       (unsigned long long)regs.rsi);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		len += snprintf(v->msg + len, sizeof(v->msg) - len,
				" suberror %u ndata %u:",
				run->internal.suberror, run->internal.ndata);
		for (k = 0; k < (int)run->internal.ndata && k < 8 &&
		     len < (int)sizeof(v->msg); k++)
			len += snprintf(v->msg + len, sizeof(v->msg) - len,
					" %llx", (unsigned long long)
					run->internal.data[k]);
	} else if (run->exit_reason == KVM_EXIT_IO) {
		snprintf(v->msg + len, sizeof(v->msg) - len, " port 0x%x",
			 run->io.port);
	}
}

/* Run vCPU @i to its port write; KVM_EXIT_INTR (a signal) runs on. */
static void run_one(struct scale_run *r, unsigned int i)
{
	struct scale_vcpu *v = &r->v[i];
	double t = now_ms();

	v->tid = kvm_gettid();
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			v->ret = -errno;
			snprintf(v->msg, sizeof(v->msg), "vCPU %u: KVM_RUN: %s",
				 i, strerror(errno));
			break;
		}
		if (v->run->exit_reason == KVM_EXIT_INTR)
			continue;
		if (v->run->exit_reason != KVM_EXIT_IO ||
		    v->run->io.port != SCALE_DONE_PORT) {
			v->ret = -EIO;
			describe_exit(v, i);
		}
		break;
	}
	t = now_ms() - t;
	r->run_ms += t;
	if (t > r->run_max_ms)
		r->run_max_ms = t;
}

static void *run_thread(void *arg)
{
	struct scale_run *r = arg;
	unsigned int i;

	for (i = r->first; i < r->nr; i += r->threads)
		run_one(r, i);
	return NULL;
}

FIXTURE(scale) {
	int kvm;
	int dev;
	int events;
	int vm;
	void *mem;
	struct scale_vcpu *v;
	unsigned int nr;
	int run_size;
};

/* Create all vCPUs and then run them, or run each one once created. */
FIXTURE_VARIANT(scale) {
	bool interleave;
};

FIXTURE_VARIANT_ADD(scale, separate) {
	.interleave = false,
};

FIXTURE_VARIANT_ADD(scale, interleaved) {
	.interleave = true,
};

FIXTURE_SETUP(scale)
{
	self->kvm = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	self->dev = kvmw_open();
	/* Opened before the VM exists: it sees all of the VM's events. */
	self->events = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	self->vm = -1;
	self->mem = MAP_FAILED;
}

FIXTURE_TEARDOWN(scale)
{
	unsigned int i;

	for (i = 0; self->v && i < self->nr; i++) {
		if (self->v[i].run && self->v[i].run != MAP_FAILED)
			munmap(self->v[i].run, self->run_size);
		if (self->v[i].fd >= 0)
			close(self->v[i].fd);
	}
	free(self->v);
	if (self->vm >= 0)
		close(self->vm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, 0x1000);
	if (self->events >= 0)
		close(self->events);
	if (self->dev >= 0)
		close(self->dev);
	if (self->kvm >= 0)
		close(self->kvm);
}

/* Read every queued event record into @ev (at most @max); their number. */
static unsigned int read_events(int fd, struct kvmw_event *ev,
				unsigned int max)
{
	unsigned int n = 0;
	ssize_t got;

	while (n < max) {
		got = read(fd, ev + n, (max - n < 32 ? max - n : 32) *
			  sizeof(*ev));
		if (got <= 0)
			break;
		n += got / sizeof(*ev);
	}
	return n;
}

/* vCPU @i in real mode at address 0, with its CPUID count in ESI. */
static int create_vcpu(int vm_fd, int run_size, struct scale_vcpu *v,
		       unsigned int i)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, i);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		return -errno;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;
	regs.rflags = 2;
	regs.rsi = expected_cpuid(i);
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* The value index of statistic @name of @scope, -1 when there is none. */
static int stat_offset(const struct kvmw_stat_desc *d, uint32_t n, int scope,
		       const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (d[i].scope == scope && !strcmp(d[i].name, name))
			return (int)d[i].offset;
	return -1;
}

/*
 * The same VM read @rounds times with KVMW_IOC_STATS_READ, timed like
 * the snapshot (under "make bench"'s icount, ms are millions of
 * instructions), and once counted only. The vCPUs are stopped, so every
 * record must agree with the snapshot @vinfo (@nv vCPUs, @nreasons
 * reasons): vCPU ids in order, reason counts, exits.
 */
static void stats_read_timed(struct __test_metadata *_metadata, int dev,
			     uint64_t vm_id, unsigned int rounds,
			     const struct kvmw_vcpu_info *vinfo, uint32_t nv,
			     uint32_t nreasons)
{
	struct kvmw_stats_desc hdr = { .size = sizeof(hdr) };
	size_t vm_size, vcpu_size, reason_size;
	struct kvmw_stats_read req;
	double t0, ms[MAX_ROUNDS], count_ms;
	struct kvmw_stat_desc *d;
	void *vms, *vcpus, *reasons;
	int exits_off;
	unsigned int t;
	uint32_t i;

	ASSERT_EQ(0, ioctl(dev, KVMW_IOC_STATS_DESC, &hdr));
	d = calloc(hdr.nr_descs, sizeof(*d));
	ASSERT_NE(NULL, d);
	hdr.descs_ptr = (uintptr_t)d;
	hdr.desc_size = sizeof(*d);
	hdr.max_descs = hdr.nr_descs;
	ASSERT_EQ(0, ioctl(dev, KVMW_IOC_STATS_DESC, &hdr));
	exits_off = stat_offset(d, hdr.nr_descs, KVMW_SCOPE_VCPU, "exits");
	ASSERT_LE(0, exits_off);
	free(d);
	vm_size = sizeof(struct kvmw_vm_rec) + 8 * hdr.vm_values;
	vcpu_size = sizeof(struct kvmw_vcpu_rec) + 8 * hdr.vcpu_values;
	reason_size = sizeof(struct kvmw_reason_rec) + 8 * hdr.reason_values;
	vms = calloc(1, vm_size);
	vcpus = calloc(nv, vcpu_size);
	reasons = calloc(nreasons, reason_size);
	ASSERT_TRUE(vms && vcpus && reasons);

	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.vm_id = vm_id;
	req.vm_rec_size = vm_size;
	req.vcpu_rec_size = vcpu_size;
	req.reason_rec_size = reason_size;
	t0 = now_ms();
	ASSERT_EQ(0, ioctl(dev, KVMW_IOC_STATS_READ, &req));
	count_ms = now_ms() - t0;
	ASSERT_EQ(1U, req.nr_vms);
	ASSERT_EQ(nv, req.nr_vcpus);
	ASSERT_EQ(nreasons, req.nr_reasons);
	for (t = 0; t < rounds; t++) {
		req.vms_ptr = (uintptr_t)vms;
		req.max_vms = 1;
		req.vcpus_ptr = (uintptr_t)vcpus;
		req.max_vcpus = nv;
		req.reasons_ptr = (uintptr_t)reasons;
		req.max_reasons = nreasons;
		t0 = now_ms();
		ASSERT_EQ(0, ioctl(dev, KVMW_IOC_STATS_READ, &req))
			TH_LOG("stats read: %s", strerror(errno));
		ms[t] = now_ms() - t0;
	}
	qsort(ms, rounds, sizeof(ms[0]), cmp_double);
	TH_LOG("KVMW_IOC_STATS_READ of %u vCPUs, %u reason records, %zu bytes: median %.2f ms, min %.2f, max %.2f of %u; counting only %.3f ms (TCG, not hardware time)",
	       req.nr_vcpus, req.nr_reasons,
	       vm_size + nv * vcpu_size + nreasons * reason_size,
	       ms[rounds / 2], ms[0], ms[rounds - 1], rounds, count_ms);
	ASSERT_EQ(nv, req.nr_vcpus);
	ASSERT_EQ(nreasons, req.nr_reasons);
	ASSERT_EQ(nv, ((struct kvmw_vm_rec *)vms)->nr_vcpus);
	for (i = 0; i < nv; i++) {
		const struct kvmw_vcpu_rec *r = vcpus + i * vcpu_size;

		ASSERT_EQ(vinfo[i].vcpu_id, r->vcpu_id);
		EXPECT_EQ(vinfo[i].first_reason, r->first_reason);
		EXPECT_EQ(vinfo[i].nr_reasons, r->nr_reasons);
		EXPECT_EQ(vinfo[i].exits, r->values[exits_off]);
	}
	free(vms);
	free(vcpus);
	free(reasons);
}

TEST_F_TIMEOUT(scale, many_vcpus_one_snapshot, 600)
{
	unsigned int want, threads, rounds, i, t, nr, failed = 0;
	double t0, create_ms = 0, create_max = 0, run_wall, snap_ms[MAX_ROUNDS];
	struct kvm_userspace_memory_region region = { 0 };
	struct kvmw_handshake hs0, hs1;
	struct kvmw_vm_snapshot snap;
	struct kvmw_vcpu_info *vinfo;
	struct kvmw_reason_stat *rs;
	struct scale_run *runs;
	uint32_t cpuid_code, io_code;
	uint64_t vm_id = 0;
	struct rlimit rl;
	int max, ret;

	if (self->kvm < 0)
		SKIP(return, "no %s", KVM_DEV_PATH);
	if (self->dev < 0)
		SKIP(return, "no %s", KVMW_DEVICE_PATH);
	want = env_uint("KVMW_SCALE_VCPUS", SCALE_VCPUS);
	threads = env_uint("KVMW_SCALE_THREADS", SCALE_THREADS);
	rounds = env_uint("KVMW_SCALE_ROUNDS", 21);
	if (!threads)
		threads = 1;
	if (!rounds || rounds > MAX_ROUNDS)
		rounds = 21;
	ASSERT_EQ(0, kvmw_handshake(self->dev, &hs0));
	cpuid_code = exit_reason_code((enum kvm_vendor)hs0.vendor,
				      EXIT_KIND_CPUID);
	io_code = exit_reason_code((enum kvm_vendor)hs0.vendor, EXIT_KIND_IO);

	max = ioctl(self->kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	ASSERT_LT(0, max);
	nr = (unsigned int)max < want ? (unsigned int)max : want;
	ASSERT_LT(0, nr);
	if (threads > nr || variant->interleave)
		threads = variant->interleave ? 1 : nr;
	TH_LOG("%u vCPUs (KVM_CAP_MAX_VCPUS %d) run by %u thread(s)", nr, max,
	       threads);

	/* One fd per vCPU. */
	rl.rlim_cur = nr + 64;
	rl.rlim_max = nr + 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));

	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm);
	self->mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy(self->mem, scale_code, sizeof(scale_code));
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)self->mem;
	region.flags = KVM_MEM_READONLY;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &region));
	self->run_size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, self->run_size);
	self->v = calloc(nr, sizeof(*self->v));
	ASSERT_NE(NULL, self->v);
	for (i = 0; i < nr; i++)
		self->v[i].fd = -1;
	self->nr = nr;

	runs = calloc(threads, sizeof(*runs));
	ASSERT_NE(NULL, runs);
	for (t = 0; t < threads; t++) {
		runs[t].v = self->v;
		runs[t].nr = nr;
		runs[t].threads = threads;
		runs[t].first = t;
	}

	/*
	 * Creation timed apart from the runs; "interleaved" runs each vCPU
	 * right after creating it, on this thread.
	 */
	t0 = now_ms();
	for (i = 0; i < nr; i++) {
		double t1 = now_ms();

		ret = create_vcpu(self->vm, self->run_size, &self->v[i], i);
		ASSERT_EQ(0, ret) TH_LOG("vCPU %u: %s", i, strerror(-ret));
		t1 = now_ms() - t1;
		create_ms += t1;
		if (t1 > create_max)
			create_max = t1;
		if (variant->interleave)
			run_one(&runs[0], i);
	}
	TH_LOG("created %u vCPUs: %.0f ms in KVM_CREATE_VCPU and setup (%.2f ms each, longest %.1f ms)",
	       nr, create_ms, create_ms / nr, create_max);

	/* Otherwise every vCPU runs now, once, to its port write. */
	if (!variant->interleave) {
		t0 = now_ms();
		if (threads == 1) {
			run_thread(&runs[0]);
		} else {
			pthread_t *th = calloc(threads, sizeof(*th));

			ASSERT_NE(NULL, th);
			for (t = 0; t < threads; t++)
				ASSERT_EQ(0, pthread_create(&th[t], NULL,
							    run_thread,
							    &runs[t]));
			for (t = 0; t < threads; t++)
				pthread_join(th[t], NULL);
			free(th);
		}
	}
	run_wall = now_ms() - t0;
	for (t = 0; t < threads; t++)
		TH_LOG("thread %u: %.0f ms in KVM_RUN (%.2f ms per vCPU), longest %.1f ms",
		       t, runs[t].run_ms,
		       runs[t].run_ms / ((nr - t + threads - 1) / threads),
		       runs[t].run_max_ms);
	TH_LOG("%s %u vCPUs in %.0f ms", variant->interleave ?
	       "created and ran" : "ran", nr, run_wall);
	free(runs);
	for (i = 0; i < nr; i++)
		if (self->v[i].ret) {
			if (failed++ < 8)
				TH_LOG("%s", self->v[i].msg);
		}
	ASSERT_EQ(0, failed) TH_LOG("%u vCPUs did not reach the port write",
				    failed);
	/* A vCPU whose exits all came while the record pool was empty is lost. */
	ASSERT_EQ(0, kvmw_handshake(self->dev, &hs1));
	EXPECT_EQ(hs0.untracked_exits, hs1.untracked_exits)
		TH_LOG("%llu exits went untracked: vCPU records ran out",
		       (unsigned long long)(hs1.untracked_exits -
					    hs0.untracked_exits));

	/* Our VM: the live one of this process. */
	{
		struct kvmw_vm_info *vms;
		uint32_t nr_vms;

		ASSERT_EQ(0, kvmw_list_vms(self->dev, &vms, &nr_vms));
		for (i = 0; i < nr_vms; i++)
			if (vms[i].vmm_pid == (uint32_t)getpid() &&
			    !(vms[i].flags & KVMW_VM_F_GONE)) {
				EXPECT_EQ(0, vm_id);
				vm_id = vms[i].vm_id;
				EXPECT_EQ(nr, vms[i].nr_vcpus);
			}
		free(vms);
	}
	ASSERT_NE(0, vm_id) TH_LOG("no live VM of this process");

	vinfo = calloc(nr, sizeof(*vinfo));
	rs = calloc((size_t)nr * 8, sizeof(*rs));
	ASSERT_NE(NULL, vinfo);
	ASSERT_NE(NULL, rs);
	for (t = 0; t < rounds; t++) {
		memset(&snap, 0, sizeof(snap));
		snap.size = sizeof(snap);
		snap.vm_id = vm_id;
		snap.vcpus_ptr = (uintptr_t)vinfo;
		snap.vcpu_info_size = sizeof(*vinfo);
		snap.max_vcpus = nr;
		snap.reasons_ptr = (uintptr_t)rs;
		snap.reason_stat_size = sizeof(*rs);
		snap.max_reasons = nr * 8;
		t0 = now_ms();
		ret = ioctl(self->dev, KVMW_IOC_VM_SNAPSHOT, &snap);
		snap_ms[t] = now_ms() - t0;
		ASSERT_EQ(0, ret) TH_LOG("snapshot: %s", strerror(errno));
	}
	qsort(snap_ms, rounds, sizeof(snap_ms[0]), cmp_double);
	TH_LOG("KVMW_IOC_VM_SNAPSHOT of %u vCPUs, %u reason entries, %u bytes: median %.2f ms, min %.2f, max %.2f of %u (TCG, not hardware time)",
	       snap.nr_vcpus, snap.nr_reasons,
	       (unsigned int)(snap.nr_vcpus * sizeof(*vinfo) +
			      snap.nr_reasons * sizeof(*rs)),
	       snap_ms[rounds / 2], snap_ms[0], snap_ms[rounds - 1], rounds);
	ASSERT_EQ(nr, snap.nr_vcpus);
	EXPECT_EQ(nr, snap.vm.nr_vcpus);
	stats_read_timed(_metadata, self->dev, vm_id, rounds, vinfo,
			 snap.nr_vcpus, snap.nr_reasons);

	for (i = 0; i < snap.nr_vcpus; i++) {
		uint64_t cpuid = 0, io = 0, sum = 0;
		uint32_t j;

		/* Sorted by vCPU id, which is i. */
		ASSERT_EQ(i, vinfo[i].vcpu_id);
		EXPECT_EQ((uint32_t)self->v[i].tid, vinfo[i].tid);
		for (j = vinfo[i].first_reason;
		     j < vinfo[i].first_reason + vinfo[i].nr_reasons; j++) {
			ASSERT_EQ(i, rs[j].vcpu_index);
			if (rs[j].reason == cpuid_code)
				cpuid = rs[j].count;
			if (rs[j].reason == io_code)
				io = rs[j].count;
			sum += rs[j].count;
		}
		EXPECT_EQ(expected_cpuid(i), cpuid)
			TH_LOG("vCPU %u: %llu CPUID exits, expected %u", i,
			       (unsigned long long)cpuid, expected_cpuid(i));
		EXPECT_EQ(1, io) TH_LOG("vCPU %u: port writes", i);
		EXPECT_EQ(sum + vinfo[i].overflow_exits, vinfo[i].exits);
		EXPECT_EQ(vinfo[i].exits, vinfo[i].entries);
	}
	free(vinfo);
	free(rs);

	/*
	 * The event stream at this scale: one VM_NEW and nr - 1 VCPU_NEW,
	 * each vCPU once with its thread, consecutive, nothing lost.
	 */
	{
		struct kvmw_event *ev = calloc(nr + 64, sizeof(*ev));
		unsigned char *seen = calloc(nr, 1);
		unsigned int n, news = 0, vnews = 0, dup = 0;

		ASSERT_LE(0, self->events);
		ASSERT_TRUE(ev && seen);
		n = read_events(self->events, ev, nr + 64);
		for (i = 0; i < n; i++) {
			EXPECT_EQ(0ULL, ev[i].lost);
			if (i)
				EXPECT_EQ(ev[i - 1].seq + 1, ev[i].seq);
			if (ev[i].vm_id != vm_id)
				continue;
			if (ev[i].type == KVMW_EVENT_VM_NEW)
				news++;
			else if (ev[i].type == KVMW_EVENT_VCPU_NEW)
				vnews++;
			else
				continue;
			ASSERT_GT(nr, ev[i].vcpu_id);
			dup += seen[ev[i].vcpu_id]++;
			EXPECT_EQ((uint32_t)self->v[ev[i].vcpu_id].tid,
				  ev[i].tid);
		}
		TH_LOG("%u events: %u VM_NEW, %u VCPU_NEW", n, news, vnews);
		EXPECT_EQ(1U, news);
		EXPECT_EQ(nr - 1, vnews);
		EXPECT_EQ(0U, dup);
		free(ev);
		free(seen);
	}
}

/*
 * A VM of @nr vCPUs, each run once to its port write on this thread,
 * then destroyed (its kvm_run mappings too, which hold the vCPU files).
 */
static int burst_vm(int kvm, int dev, int run_size, void *code,
		    unsigned int nr, struct kvmw_vm_info *last)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct scale_run r = { .nr = nr, .threads = 1 };
	unsigned int i;
	int vm, ret = 0;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -errno;
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)code;
	region.flags = KVM_MEM_READONLY;
	r.v = calloc(nr, sizeof(*r.v));
	if (!r.v || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		ret = -ENOMEM;
	for (i = 0; !ret && i < nr; i++) {
		r.v[i].fd = -1;
		ret = create_vcpu(vm, run_size, &r.v[i], i);
		if (!ret) {
			run_one(&r, i);
			ret = r.v[i].ret;
		}
	}
	/* Its numbers just before it goes: the live VM of this process. */
	if (!ret) {
		struct kvmw_vm_info *vms;
		uint32_t nr_vms, k;

		ret = kvmw_list_vms(dev, &vms, &nr_vms);
		for (k = 0; !ret && k < nr_vms; k++)
			if (vms[k].vmm_pid == (uint32_t)getpid() &&
			    !(vms[k].flags & KVMW_VM_F_GONE))
				*last = vms[k];
		if (!ret)
			free(vms);
	}
	for (i = 0; r.v && i < nr; i++) {
		if (r.v[i].run && r.v[i].run != MAP_FAILED)
			munmap(r.v[i].run, run_size);
		if (r.v[i].fd > 0)
			close(r.v[i].fd);
	}
	free(r.v);
	close(vm);
	return ret;
}

/* Reading the VM list marks destroyed VMs gone (the handshake does not). */
static int sweep_now(int dev)
{
	struct kvmw_vm_list l = { .size = sizeof(l) };

	return ioctl(dev, KVMW_IOC_LIST_VMS, &l) ? -errno : 0;
}

/*
 * More events than the ring holds, none read: the reader then gets the
 * newest KVMW_EVENT_RING records, consecutive, and the first says exactly
 * how many it lost.
 */
/* No state: a fixture only for the timeout of this slow test. */
FIXTURE(lost) {
	int unused;
};

FIXTURE_SETUP(lost)
{
}

FIXTURE_TEARDOWN(lost)
{
}

TEST_F_TIMEOUT(lost, events_lost, 300)
{
	unsigned int nr, rounds, produced, n, i;
	struct kvmw_handshake hs0, hs;
	struct kvmw_vm_info last;
	uint64_t exits;
	struct kvmw_event *ev;
	struct rlimit rl;
	int kvm, dev, rd, run_size, max, ret;
	void *code;

	kvm = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);
	dev = kvmw_open();
	if (kvm < 0 || dev < 0)
		SKIP(return, "no %s or %s", KVM_DEV_PATH, KVMW_DEVICE_PATH);
	rd = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, rd);
	/*
	 * Earlier tests' VMs are destroyed by now; the sweep of a VM list
	 * reports them gone, and their events are no part of this.
	 */
	ASSERT_EQ(0, sweep_now(dev));
	ASSERT_EQ(0, kvmw_handshake(dev, &hs0));
	ev = calloc(KVMW_EVENT_RING + 64, sizeof(*ev));
	ASSERT_NE(NULL, ev);
	read_events(rd, ev, KVMW_EVENT_RING + 64);

	max = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	ASSERT_LT(0, max);
	nr = max < 1000 ? max : 1000;
	/* Each VM: VM_NEW, nr - 1 VCPU_NEW, VM_GONE. */
	rounds = KVMW_EVENT_RING / (nr + 1) + 1;
	produced = rounds * (nr + 1);
	rl.rlim_cur = nr + 64;
	rl.rlim_max = nr + 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, run_size);
	code = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, code);
	memcpy(code, scale_code, sizeof(scale_code));
	for (i = 0; i < rounds; i++) {
		memset(&last, 0, sizeof(last));
		ret = burst_vm(kvm, dev, run_size, code, nr, &last);
		ASSERT_EQ(0, ret) TH_LOG("VM %u: %s", i, strerror(-ret));
		/* The sweep of a VM list notices the VM gone: VM_GONE now. */
		ASSERT_EQ(0, sweep_now(dev));
		ASSERT_EQ(0, kvmw_handshake(dev, &hs));
	}
	/* A vCPU whose exits all went untracked would have no VCPU_NEW. */
	ASSERT_EQ(hs0.untracked_exits, hs.untracked_exits);

	n = read_events(rd, ev, KVMW_EVENT_RING + 64);
	TH_LOG("%u VMs of %u vCPUs: %u events produced, %u read, first lost %llu",
	       rounds, nr, produced, n, (unsigned long long)ev[0].lost);
	ASSERT_EQ((unsigned int)KVMW_EVENT_RING, n);
	EXPECT_EQ((unsigned long long)(produced - KVMW_EVENT_RING), ev[0].lost);
	for (i = 1; i < n; i++) {
		EXPECT_EQ(ev[i - 1].seq + 1, ev[i].seq) TH_LOG("record %u", i);
		EXPECT_EQ(0ULL, ev[i].lost);
	}
	EXPECT_EQ(KVMW_EVENT_VM_GONE, ev[n - 1].type);
	EXPECT_EQ(nr, ev[n - 1].nr_vcpus);
	/*
	 * Its final totals: what the VM list said just before the VM was
	 * destroyed, which is at least every vCPU's CPUIDs and port write.
	 */
	EXPECT_EQ(last.vm_id, ev[n - 1].vm_id);
	EXPECT_EQ(last.exits, ev[n - 1].data[KVMW_EVENT_GONE_EXITS]);
	EXPECT_EQ(last.entries, ev[n - 1].data[KVMW_EVENT_GONE_ENTRIES]);
	for (i = 0, exits = 0; i < nr; i++)
		exits += expected_cpuid(i) + 1;
	EXPECT_LE(exits, last.exits);
	munmap(code, 0x1000);
	free(ev);
	close(rd);
	close(dev);
	close(kvm);
}

TEST_HARNESS_MAIN
