// SPDX-License-Identifier: GPL-2.0
/*
 * cpu_hotplug - CPUs of the host go offline and online while guests run,
 * while their vCPU threads are pinned to the dying CPU or migrate off it,
 * and while kvmwarden is read.
 *
 * exits_exact: a VM of four vCPUs runs CPUID batches (GUEST_PROG_CPUID_SPIN)
 * with its threads pinned to CPU 3, to CPU 1, to CPUs 2-3 and to none; a
 * second VM of two vCPUs, beyond the per-VMM cap on vCPUs (max_vcpus_per_vmm
 * at 4), runs pinned to CPUs 3 and 1, so that its exits go through the
 * per-CPU refusal cache and are counted as untracked. One thread reads
 * everything with KVMW_IOC_STATS_READ and the handshake, another reads the
 * event stream, while CPUs 3, 1 and 2 (every hotpluggable CPU but the
 * first) go offline and online in turn, ROUNDS times; after each online the
 * threads are pinned again. Afterwards:
 *  - every vCPU of the first VM has exactly its batches x SPIN_BATCH CPUID
 *    exits, as many exits as KVM's own "exits" statistic and as entries;
 *    the vCPU pinned to CPU 3 shows migrations;
 *  - its latency and time figures are sane after the clock was read on
 *    CPUs that went away and came back: no exit, no total and no guest or
 *    overhead time longer than the whole run;
 *  - the untracked exits grew by exactly the sum of KVM's "exits" of the
 *    refused vCPUs, which never appear in the VM list;
 *  - no read failed; the event stream lost nothing and named the VM once;
 *  - with the CPUs back, a fresh VM with vCPUs pinned to each CPU that
 *    went away counts its CPUIDs exactly (per-CPU caches consistent).
 *
 * load_while_offline: kvmwarden loaded while CPU 3 is offline, CPU 3 brought
 * online, a vCPU thread moved onto it and off again; then unloaded while
 * CPU 3 is offline and loaded after it came back. Counts exact each time.
 *
 * Splats (BUG, WARNING, lockdep, RCU) fail the run in vmtest.sh. Needs at
 * least two CPUs with an "online" file (QEMU's test VM has four; Bochs one
 * by default, where it skips). Leaves every CPU online, kvmwarden loaded and
 * its parameters as they were.
 *
 * Environment: KVMW_HOTPLUG_ROUNDS (default ROUNDS).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define ROUNDS		4
#define SPIN_BATCH	100
#define NR_A		4	/* vCPUs of the tracked VM */
#define NR_B		2	/* vCPUs of the refused VM */
#define MAX_CPUS	64
#define UNLOAD_MS	10000
#define PARAMS		"/sys/module/kvmwarden/parameters/"

static char *online_path(int cpu, char *buf, size_t size)
{
	snprintf(buf, size, "/sys/devices/system/cpu/cpu%d/online", cpu);
	return buf;
}

static int cpu_set_online(int cpu, bool on)
{
	char p[64];

	return util_write_str(online_path(cpu, p, sizeof(p)), on ? "1" : "0");
}

static bool cpu_is_online(int cpu)
{
	char p[64], v[8];

	if (util_read_str(online_path(cpu, p, sizeof(p)), v, sizeof(v)))
		return cpu == 0;
	return v[0] == '1';
}

/* Pin thread @tid to the CPUs of @mask (bit n = CPU n); 0: every CPU. */
static int pin(pid_t tid, unsigned long mask, int nr_cpus)
{
	cpu_set_t set;
	int c;

	CPU_ZERO(&set);
	for (c = 0; c < nr_cpus; c++)
		if (!mask || (mask & (1UL << c)))
			CPU_SET(c, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

static long module_refcnt(const char *name)
{
	char path[128], v[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	if (util_read_str(path, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, 10);
}

/* The reader of the statistics and the reader of the events. */
struct readers {
	pthread_t stats_thread, events_thread;
	int stop;
	int stats_fd, events_fd;
	unsigned long reads, events, errors, lost;
	unsigned long vm_new[2], vcpu_new[2];
	uint64_t vm_id[2];
	char msg[256];
};

static void reader_error(struct readers *r, const char *what, int err)
{
	if (!__atomic_fetch_add(&r->errors, 1, __ATOMIC_RELAXED))
		snprintf(r->msg, sizeof(r->msg), "%s: %s", what, strerror(err));
}

/* Every VM, vCPU and reason with KVMW_IOC_STATS_READ, and the handshake. */
static void *stats_reader(void *arg)
{
	struct readers *r = arg;
	size_t vm_rec = KVMW_VM_REC_HDR_SIZE + 8 * 64;
	size_t vcpu_rec = KVMW_VCPU_REC_HDR_SIZE + 8 * 256;
	size_t reason_rec = KVMW_REASON_REC_HDR_SIZE + 8 * 64;
	unsigned int cap = 64;
	void *vms = calloc(cap, vm_rec), *vcpus = calloc(cap, vcpu_rec);
	void *reasons = calloc(cap * 8, reason_rec);

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct kvmw_stats_read rd = {
			.size = sizeof(rd),
			.vms_ptr = (uintptr_t)vms,
			.vm_rec_size = vm_rec,
			.max_vms = cap,
			.vcpus_ptr = (uintptr_t)vcpus,
			.vcpu_rec_size = vcpu_rec,
			.max_vcpus = cap,
			.reasons_ptr = (uintptr_t)reasons,
			.reason_rec_size = reason_rec,
			.max_reasons = cap * 8,
		};
		struct kvmw_handshake hs = { .size = sizeof(hs) };

		if (!vms || !vcpus || !reasons) {
			reader_error(r, "calloc", ENOMEM);
			break;
		}
		/* E2BIG: more than cap records, which this test never has. */
		if (ioctl(r->stats_fd, KVMW_IOC_STATS_READ, &rd))
			reader_error(r, "KVMW_IOC_STATS_READ", errno);
		if (ioctl(r->stats_fd, KVMW_IOC_HANDSHAKE, &hs))
			reader_error(r, "KVMW_IOC_HANDSHAKE", errno);
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	}
	free(vms);
	free(vcpus);
	free(reasons);
	return NULL;
}

/* Drain the event stream (O_NONBLOCK) once; 0 or -errno. */
static int read_events(struct readers *r)
{
	struct kvmw_event ev[16];
	ssize_t n;
	int i, v;

	for (;;) {
		n = read(r->events_fd, ev, sizeof(ev));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			r->events++;
			r->lost += ev[i].lost;
			if (ev[i].vmm_pid != (uint32_t)getpid())
				continue;
			for (v = 0; v < 2; v++) {
				if (ev[i].type == KVMW_EVENT_VM_NEW &&
				    !r->vm_id[v]) {
					r->vm_id[v] = ev[i].vm_id;
					r->vm_new[v]++;
					break;
				}
				if (ev[i].vm_id != r->vm_id[v])
					continue;
				if (ev[i].type == KVMW_EVENT_VM_NEW)
					r->vm_new[v]++;
				else if (ev[i].type == KVMW_EVENT_VCPU_NEW)
					r->vcpu_new[v]++;
				break;
			}
		}
	}
}

static void *events_reader(void *arg)
{
	struct readers *r = arg;
	struct pollfd p = { .fd = r->events_fd, .events = POLLIN };
	int ret;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 20) < 0 && errno != EINTR)
			reader_error(r, "poll", errno);
		ret = read_events(r);
		if (ret)
			reader_error(r, "read", -ret);
	}
	return NULL;
}

FIXTURE(hotplug) {
	int nr_cpus;
	int hot[MAX_CPUS];	/* CPUs with an online file, highest first */
	int nr_hot;
	char old_cap[32];
	bool cap_set;
	struct kvm_vm *a, *b, *c;
	struct readers rd;
	bool reading;
	char why[160];
};

FIXTURE_SETUP(hotplug)
{
	char p[64];
	int c;

	self->rd.stats_fd = -1;
	self->rd.events_fd = -1;
	self->nr_cpus = sysconf(_SC_NPROCESSORS_CONF);
	if (self->nr_cpus > MAX_CPUS)
		self->nr_cpus = MAX_CPUS;
	for (c = self->nr_cpus - 1; c > 0; c--)
		if (!access(online_path(c, p, sizeof(p)), W_OK))
			self->hot[self->nr_hot++] = c;
	if (geteuid())
		snprintf(self->why, sizeof(self->why), "needs root");
	else if (!module_loaded(KVMW_MODULE_NAME))
		snprintf(self->why, sizeof(self->why),
			 "kvmwarden is not loaded");
	else if (!kvm_available())
		snprintf(self->why, sizeof(self->why), "no usable /dev/kvm");
	else if (self->nr_hot < 1)
		snprintf(self->why, sizeof(self->why),
			 "%d CPU(s), none of them hotpluggable", self->nr_cpus);
	for (c = 0; c < self->nr_hot; c++)
		if (!cpu_is_online(self->hot[c]))
			snprintf(self->why, sizeof(self->why),
				 "CPU %d is offline before the test",
				 self->hot[c]);
}

static bool vcpu_ok(const struct kvm_vcpu *vcpu)
{
	return vcpu->res.done && !vcpu->res.failed;
}

static void stop_vm(struct kvm_vm *vm)
{
	int c;

	if (!vm)
		return;
	for (c = 0; c < vm->nr_vcpus; c++)
		vcpu_spin_stop(vm->vcpus[c]);
	for (c = 0; c < vm->nr_vcpus; c++)
		if (vm->vcpus[c]->started)
			vcpu_join(vm->vcpus[c]);
}

FIXTURE_TEARDOWN(hotplug)
{
	int c;

	if (self->reading) {
		__atomic_store_n(&self->rd.stop, 1, __ATOMIC_RELEASE);
		pthread_join(self->rd.stats_thread, NULL);
		pthread_join(self->rd.events_thread, NULL);
	}
	for (c = 0; c < self->nr_hot; c++)
		if (!cpu_is_online(self->hot[c]))
			cpu_set_online(self->hot[c], true);
	stop_vm(self->a);
	stop_vm(self->b);
	stop_vm(self->c);
	vm_destroy(self->a);
	vm_destroy(self->b);
	vm_destroy(self->c);
	if (self->rd.stats_fd >= 0)
		close(self->rd.stats_fd);
	if (self->rd.events_fd >= 0)
		close(self->rd.events_fd);
	if (self->why[0])
		return;
	if (!module_loaded(KVMW_MODULE_NAME))
		module_load(kvmw_module_path(), "");
	if (self->cap_set)
		util_write_str(PARAMS "max_vcpus_per_vmm", self->old_cap);
}

/* A VM of @n vCPUs running CPUID batches, started. */
static struct kvm_vm *spin_vm(struct __test_metadata *_metadata, int n)
{
	struct kvm_vm *vm = vm_create(NULL);
	int c;

	ASSERT_NE(NULL, vm);
	for (c = 0; c < n; c++) {
		ASSERT_NE(NULL, vcpu_add(vm));
		ASSERT_EQ(0, vcpu_load_prog(vm->vcpus[c],
					    GUEST_PROG_CPUID_SPIN, SPIN_BATCH));
	}
	return vm;
}

/* Wait until every vCPU of @vm has made @more batches. */
static bool wait_batches(struct kvm_vm *vm, uint64_t more, int timeout_ms)
{
	uint64_t base[KVM_UTIL_MAX_VCPUS];
	int c, waited;

	for (c = 0; c < vm->nr_vcpus; c++)
		base[c] = vcpu_spin_batches(vm->vcpus[c]);
	for (waited = 0; waited < timeout_ms; waited += 10) {
		bool all = true;

		for (c = 0; c < vm->nr_vcpus; c++) {
			if (vcpu_finished(vm->vcpus[c]))
				return false;
			if (vcpu_spin_batches(vm->vcpus[c]) < base[c] + more)
				all = false;
		}
		if (all)
			return true;
		util_sleep_ms(10);
	}
	return false;
}

/* Exact counts of a finished spinning vCPU, and sane times. */
static void check_spin_vcpu(struct __test_metadata *_metadata,
			    const struct kvmw_snap *s, struct kvm_vcpu *vcpu,
			    uint32_t cpuid_code, double elapsed_ms)
{
	uint64_t elapsed_ns = (uint64_t)(elapsed_ms * 1e6);
	const struct kvm_vcpu *vc = vcpu;
	const struct kvmw_vcpu_info *vi;
	const struct vcpu_result *r = &vc->res;
	int idx = kvmw_snap_vcpu_by_tid(s, vcpu->tid);
	uint32_t j;

	ASSERT_LE(0, idx) TH_LOG("vCPU %d (thread %d) not in the snapshot",
				 vcpu->id, vcpu->tid);
	vi = &s->vcpus[idx];
	EXPECT_EQ((uint32_t)vcpu->id, vi->vcpu_id);
	EXPECT_EQ(r->pio_user_out * SPIN_BATCH,
		  kvmw_snap_count(s, idx, cpuid_code))
		TH_LOG("vCPU %d: CPUID exits of %llu batches", vcpu->id,
		       (unsigned long long)r->pio_user_out);
	EXPECT_EQ(vi->exits, vi->entries);
	if (r->end_stats.valid[VCPU_STAT_EXITS])
		EXPECT_EQ(r->end_stats.val[VCPU_STAT_EXITS], vi->exits)
			TH_LOG("vCPU %d: KVM's exits statistic", vcpu->id);
	if (s->hdr.vcpu_info_size < KVMW_VCPU_INFO_SIZE_VER1 ||
	    s->hdr.reason_stat_size < KVMW_REASON_STAT_SIZE_VER1)
		return;
	/* A clock read on a CPU that went away must not make time up. */
	EXPECT_GE(elapsed_ns, vi->guest_ns) TH_LOG("vCPU %d", vcpu->id);
	EXPECT_GE(elapsed_ns, vi->overhead_ns) TH_LOG("vCPU %d", vcpu->id);
	EXPECT_GE(elapsed_ns, vi->user_ns) TH_LOG("vCPU %d", vcpu->id);
	EXPECT_GE(elapsed_ns, vi->exit_ns) TH_LOG("vCPU %d", vcpu->id);
	for (j = vi->first_reason; j < vi->first_reason + vi->nr_reasons;
	     j++) {
		const struct kvmw_reason_stat *rs = &s->reasons[j];

		EXPECT_GE(elapsed_ns, rs->lat_max_ns)
			TH_LOG("vCPU %d reason %u", vcpu->id, rs->reason);
		EXPECT_GE(elapsed_ns, rs->lat_total_ns)
			TH_LOG("vCPU %d reason %u", vcpu->id, rs->reason);
		EXPECT_GE(rs->lat_max_ns, rs->lat_min_ns);
	}
}

static uint64_t untracked(int fd)
{
	struct kvmw_handshake hs;

	if (kvmw_handshake(fd, &hs))
		return UINT64_MAX;
	return hs.untracked_exits;
}

/* Masks of the first VM's vCPUs and of the refused VM's. */
static void masks(int hi, int lo, int nr_cpus, unsigned long *a,
		  unsigned long *b)
{
	a[0] = 1UL << hi;
	a[1] = 1UL << lo;
	a[2] = hi > 1 ? (1UL << hi) | (1UL << (hi - 1)) : 0;
	a[3] = 0;
	b[0] = 1UL << hi;
	b[1] = 1UL << lo;
	(void)nr_cpus;
}

TEST_F_TIMEOUT(hotplug, exits_exact, 600)
{
	unsigned long ma[NR_A], mb[NR_B];
	unsigned int rounds = ROUNDS, r, moves = 0;
	uint64_t untracked0, refused_exits = 0;
	double t0, t_start, elapsed, t_off = 0, t_on = 0;
	struct kvmw_handshake hs;
	struct kvmw_snap s;
	uint32_t cpuid_code;
	int c, h, fd, hi, lo, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (getenv("KVMW_HOTPLUG_ROUNDS"))
		rounds = strtoul(getenv("KVMW_HOTPLUG_ROUNDS"), NULL, 0);
	hi = self->hot[0];
	lo = self->hot[self->nr_hot - 1];
	masks(hi, lo, self->nr_cpus, ma, mb);

	fd = kvmw_open();
	ASSERT_LE(0, fd);
	self->rd.stats_fd = fd;
	ASSERT_EQ(0, kvmw_handshake(fd, &hs));
	cpuid_code = exit_reason_code((enum kvm_vendor)hs.vendor,
				      EXIT_KIND_CPUID);
	self->rd.events_fd = open(KVMW_DEVICE_PATH,
				  O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->rd.events_fd);

	ASSERT_EQ(0, util_read_str(PARAMS "max_vcpus_per_vmm", self->old_cap,
				   sizeof(self->old_cap)));
	ASSERT_EQ(0, util_write_str(PARAMS "max_vcpus_per_vmm", "4"));
	self->cap_set = true;

	/* The tracked VM first, so that it gets the four records. */
	t_start = util_now_ms();
	self->a = spin_vm(_metadata, NR_A);
	for (c = 0; c < NR_A; c++) {
		ASSERT_EQ(0, vcpu_start(self->a->vcpus[c]));
		ASSERT_EQ(0, pin(self->a->vcpus[c]->tid, ma[c],
				 self->nr_cpus));
	}
	ASSERT_TRUE(wait_batches(self->a, 2, 120000));
	untracked0 = untracked(fd);
	self->b = spin_vm(_metadata, NR_B);
	for (c = 0; c < NR_B; c++) {
		ASSERT_EQ(0, vcpu_start(self->b->vcpus[c]));
		ASSERT_EQ(0, pin(self->b->vcpus[c]->tid, mb[c],
				 self->nr_cpus));
	}
	ASSERT_TRUE(wait_batches(self->b, 2, 120000));

	ASSERT_EQ(0, pthread_create(&self->rd.stats_thread, NULL,
				    stats_reader, &self->rd));
	ASSERT_EQ(0, pthread_create(&self->rd.events_thread, NULL,
				    events_reader, &self->rd));
	self->reading = true;

	t0 = util_now_ms();
	for (r = 0; r < rounds; r++) {
		for (h = 0; h < self->nr_hot; h++) {
			int cpu = self->hot[h];
			double t = util_now_ms();

			ret = cpu_set_online(cpu, false);
			ASSERT_EQ(0, ret) TH_LOG("round %u: CPU %d offline: %s",
						 r, cpu, strerror(-ret));
			t = util_now_ms() - t;
			t_off = t > t_off ? t : t_off;
			/* Guests keep running on the remaining CPUs. */
			EXPECT_TRUE(wait_batches(self->a, 2, 60000))
				TH_LOG("round %u: stalled with CPU %d offline",
				       r, cpu);
			t = util_now_ms();
			ret = cpu_set_online(cpu, true);
			ASSERT_EQ(0, ret) TH_LOG("round %u: CPU %d online: %s",
						 r, cpu, strerror(-ret));
			t = util_now_ms() - t;
			t_on = t > t_on ? t : t_on;
			/* Back onto the CPU that came back. */
			for (c = 0; c < NR_A; c++)
				ASSERT_EQ(0, pin(self->a->vcpus[c]->tid, ma[c],
						 self->nr_cpus));
			for (c = 0; c < NR_B; c++)
				ASSERT_EQ(0, pin(self->b->vcpus[c]->tid, mb[c],
						 self->nr_cpus));
			moves++;
			EXPECT_TRUE(wait_batches(self->a, 2, 60000))
				TH_LOG("round %u: stalled after CPU %d online",
				       r, cpu);
		}
	}
	TH_LOG("%u offline/online cycles in %.0f ms (longest offline %.0f ms, online %.0f ms)",
	       moves, util_now_ms() - t0, t_off, t_on);

	stop_vm(self->b);
	stop_vm(self->a);
	elapsed = util_now_ms() - t_start;
	__atomic_store_n(&self->rd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(self->rd.stats_thread, NULL);
	pthread_join(self->rd.events_thread, NULL);
	self->reading = false;
	ASSERT_EQ(0, read_events(&self->rd));
	/* Braces: the harness's TH_LOG after EXPECT is a statement of its own. */
	for (c = 0; c < NR_A; c++) {
		EXPECT_TRUE(vcpu_ok(self->a->vcpus[c]))
			TH_LOG("%s", self->a->vcpus[c]->res.msg);
	}

	/* The tracked VM: exact. */
	ASSERT_EQ(0, kvmw_find_kvm_vm(fd, self->a, &s));
	EXPECT_EQ(NR_A, s.hdr.nr_vcpus);
	for (c = 0; c < NR_A; c++)
		check_spin_vcpu(_metadata, &s, self->a->vcpus[c], cpuid_code,
				elapsed);
	if (s.hdr.vcpu_info_size >= KVMW_VCPU_INFO_SIZE_VER3) {
		int idx = kvmw_snap_vcpu_by_tid(&s, self->a->vcpus[0]->tid);

		ASSERT_LE(0, idx);
		EXPECT_LE(1, s.vcpus[idx].migrations)
			TH_LOG("the vCPU pinned to CPU %d never migrated", hi);
		TH_LOG("vCPU pinned to CPU %d: %llu migrations, %llu across nodes",
		       hi, (unsigned long long)s.vcpus[idx].migrations,
		       (unsigned long long)s.vcpus[idx].node_migrations);
	}
	kvmw_snap_free(&s);

	/* The refused VM: every exit untracked, no record. */
	for (c = 0; c < NR_B; c++) {
		struct kvm_vcpu *v = self->b->vcpus[c];

		EXPECT_TRUE(vcpu_ok(v)) TH_LOG("%s", v->res.msg);
		ASSERT_TRUE(v->res.end_stats.valid[VCPU_STAT_EXITS]);
		refused_exits += v->res.end_stats.val[VCPU_STAT_EXITS];
	}
	EXPECT_EQ(-ESRCH, kvmw_find_kvm_vm(fd, self->b, &s));
	EXPECT_EQ(untracked0 + refused_exits, untracked(fd))
		TH_LOG("untracked exits against KVM's exits of the refused vCPUs");

	/* The readers. */
	EXPECT_EQ(0, self->rd.errors) TH_LOG("%s", self->rd.msg);
	EXPECT_LT(0, self->rd.reads);
	EXPECT_EQ(0, self->rd.lost);
	EXPECT_EQ(1, self->rd.vm_new[0]);
	EXPECT_EQ(NR_A - 1, self->rd.vcpu_new[0]);
	EXPECT_EQ(0, self->rd.vm_id[1]) TH_LOG("the refused VM has events");
	TH_LOG("%lu statistics reads, %lu events", self->rd.reads,
	       self->rd.events);

	/* Per-CPU state after the CPUs came back: a fresh VM, exact. */
	stop_vm(self->a);
	vm_destroy(self->a);
	self->a = NULL;
	vm_destroy(self->b);
	self->b = NULL;
	ASSERT_EQ(0, util_write_str(PARAMS "max_vcpus_per_vmm", self->old_cap));
	self->cap_set = false;
	t_start = util_now_ms();
	self->c = spin_vm(_metadata, self->nr_hot);
	for (h = 0; h < self->nr_hot; h++) {
		ASSERT_EQ(0, vcpu_start(self->c->vcpus[h]));
		ASSERT_EQ(0, pin(self->c->vcpus[h]->tid, 1UL << self->hot[h],
				 self->nr_cpus));
	}
	ASSERT_TRUE(wait_batches(self->c, 3, 120000));
	stop_vm(self->c);
	elapsed = util_now_ms() - t_start;
	ASSERT_EQ(0, kvmw_find_kvm_vm(fd, self->c, &s));
	for (h = 0; h < self->nr_hot; h++) {
		struct kvm_vcpu *v = self->c->vcpus[h];
		int idx = kvmw_snap_vcpu_by_tid(&s, v->tid);

		EXPECT_TRUE(vcpu_ok(v)) TH_LOG("%s", v->res.msg);
		check_spin_vcpu(_metadata, &s, v, cpuid_code, elapsed);
		if (idx >= 0 && s.hdr.vcpu_info_size >= KVMW_VCPU_INFO_SIZE_VER3)
			EXPECT_EQ((uint32_t)self->hot[h], s.vcpus[idx].last_cpu);
	}
	kvmw_snap_free(&s);
	EXPECT_EQ(untracked0 + refused_exits, untracked(fd));
}

/* Run a two-vCPU VM across CPU @cpu coming and going: exact counts. */
static void run_across(struct __test_metadata *_metadata,
		       FIXTURE_DATA(hotplug) *self, int cpu,
		       uint32_t cpuid_code, bool online_first)
{
	double t_start = util_now_ms();
	struct kvmw_snap s;
	int c, fd;

	self->c = spin_vm(_metadata, 2);
	for (c = 0; c < 2; c++)
		ASSERT_EQ(0, vcpu_start(self->c->vcpus[c]));
	ASSERT_TRUE(wait_batches(self->c, 2, 120000));
	if (online_first) {
		ASSERT_EQ(0, cpu_set_online(cpu, true));
		/* Onto the CPU that came: the probes run there now. */
		ASSERT_EQ(0, pin(self->c->vcpus[0]->tid, 1UL << cpu,
				 self->nr_cpus));
		ASSERT_TRUE(wait_batches(self->c, 2, 60000));
	}
	/* Off it again, by its going away. */
	ASSERT_EQ(0, cpu_set_online(cpu, false));
	ASSERT_TRUE(wait_batches(self->c, 2, 60000));
	ASSERT_EQ(0, cpu_set_online(cpu, true));
	ASSERT_EQ(0, pin(self->c->vcpus[0]->tid, 1UL << cpu, self->nr_cpus));
	ASSERT_TRUE(wait_batches(self->c, 2, 60000));
	stop_vm(self->c);

	fd = kvmw_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kvmw_find_kvm_vm(fd, self->c, &s));
	for (c = 0; c < 2; c++) {
		EXPECT_TRUE(vcpu_ok(self->c->vcpus[c]))
			TH_LOG("%s", self->c->vcpus[c]->res.msg);
		check_spin_vcpu(_metadata, &s, self->c->vcpus[c], cpuid_code,
				util_now_ms() - t_start);
	}
	kvmw_snap_free(&s);
	close(fd);
	vm_destroy(self->c);
	self->c = NULL;
}

TEST_F_TIMEOUT(hotplug, load_while_offline, 600)
{
	const char *path = kvmw_module_path();
	struct kvmw_handshake hs;
	uint32_t cpuid_code;
	uint64_t untracked0;
	int fd, cpu, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	cpu = self->hot[0];
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kvmw_handshake(fd, &hs));
	close(fd);
	cpuid_code = exit_reason_code((enum kvm_vendor)hs.vendor,
				      EXIT_KIND_CPUID);

	/* Loaded while the CPU is away, which then comes. */
	ASSERT_EQ(0, cpu_set_online(cpu, false));
	ASSERT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
	ret = module_unload(KVMW_MODULE_NAME, UNLOAD_MS);
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	ret = module_load(path, "");
	ASSERT_EQ(0, ret) TH_LOG("finit_module with CPU %d offline: %s", cpu,
				 strerror(-ret));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	untracked0 = untracked(fd);
	close(fd);
	run_across(_metadata, self, cpu, cpuid_code, true);
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(untracked0, untracked(fd));
	close(fd);

	/* Unloaded while the CPU is away, loaded after it came back. */
	ASSERT_EQ(0, cpu_set_online(cpu, false));
	ASSERT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
	ret = module_unload(KVMW_MODULE_NAME, UNLOAD_MS);
	ASSERT_EQ(0, ret) TH_LOG("delete_module with CPU %d offline: %s", cpu,
				 strerror(-ret));
	ASSERT_EQ(0, cpu_set_online(cpu, true));
	ret = module_load(path, "");
	ASSERT_EQ(0, ret) TH_LOG("finit_module: %s", strerror(-ret));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	untracked0 = untracked(fd);
	close(fd);
	run_across(_metadata, self, cpu, cpuid_code, false);
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(untracked0, untracked(fd));
	close(fd);
}

TEST_HARNESS_MAIN
