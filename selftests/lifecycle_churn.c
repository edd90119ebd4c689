// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_churn - VMs created, run, destroyed and created again in one
 * process, many times.
 *
 * KVM frees a destroyed VM's struct kvm and struct kvm_vcpu, and the next
 * VM of the same process very likely gets the same memory back (struct
 * kvm is vmalloc()ed: see add_ballast() for how the test makes sure its
 * address is reused too, and the log line for how often it was), the same
 * debugfs directory name (<pid>-<fd>) and, here, the same vCPU thread. The
 * module must still tell the incarnations apart:
 *  - churn: every iteration's VM gets a new, strictly larger vm_id; its
 *    counts are exactly its own (CPUID count 10 + 2 * i + vCPU, KVM's
 *    own exits and io_exits statistics, one timed return to userspace
 *    per KVM_RUN but the last); the VM destroyed before is flagged
 *    KVMW_VM_F_GONE with its final numbers unchanged; nr_vms and
 *    nr_vcpus stay exact; a gone VM stays readable for gone_retention_ms
 *    and is removed after it
 *  - vcpu_added_later: a vCPU created after the others have run, while
 *    one of them still runs, joins the same VM with its own counts
 *  - several_alive: four VMs alive at once, destroyed in another order
 *    than created: each destroy flags exactly that VM
 *
 * Changes /sys/module/kvmwarden/parameters/gone_retention_ms and restores
 * it at the end of each case.
 *
 * Environment: KVMW_CHURN_ITERS sets the number of churn iterations
 * (default 60).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define RETENTION_PARAM	"/sys/module/kvmwarden/parameters/gone_retention_ms"
#define KEEP_MS		3600000	/* "forever" while a case runs */
#define EXPIRE_MS	1000	/* retention for the expiry checks */
#define EXPIRE_EVERY	15	/* churn iterations between expiry checks */
#define CHURN_ITERS	60
#define MAX_VCPUS	2
#define NR_ALIVE	4
#define SPIN_BATCH	50

/* What a VM looked like at its last reading. */
struct vm_rec {
	uint64_t id;
	uint32_t nr_vcpus;
	uint64_t exits;
	uint64_t entries;
	uint64_t gone_ns;
	uint64_t vcpu_exits[MAX_VCPUS + 1];
	uint64_t vcpu_entries[MAX_VCPUS + 1];
	uint64_t vcpu_cpuid[MAX_VCPUS + 1];
	uint64_t vcpu_guest_ns[MAX_VCPUS + 1];
};

/* What the checks need: the device, reason codes, VMs of other tests. */
struct churn_env {
	struct kvmw_source src;
	bool src_open;
	uint32_t cpuid_code;
	uint32_t io_code;
	uint32_t base_vms;
	uint32_t base_vcpus;
};

FIXTURE(churn) {
	struct churn_env env;
	char old_retention[32];
	char why[160];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int param_read(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = 0;
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = 0;
	return 0;
}

static int param_write(const char *path, unsigned int val)
{
	char buf[32];
	ssize_t len;
	int fd;

	snprintf(buf, sizeof(buf), "%u", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = write(fd, buf, strlen(buf));
	close(fd);
	return len < 0 ? -errno : 0;
}

/* Number of VMs of this process in a snapshot that are live / gone. */
static void list_count_mine(const struct kvmw_snapshot *snap,
			    uint32_t *live, uint32_t *gone,
			    const struct kvmw_vm **last_live)
{
	size_t i;

	*live = *gone = 0;
	*last_live = NULL;
	for (i = 0; i < snap->nr_vms; i++) {
		if (snap->vms[i].pid != (uint32_t)getpid())
			continue;
		if (snap->vms[i].gone) {
			(*gone)++;
		} else {
			(*live)++;
			*last_live = &snap->vms[i];
		}
	}
}

static void rec_from_snap(struct vm_rec *r, const struct kvmw_vm *vm,
			  uint32_t cpuid_code)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->id = vm->vm_id;
	r->nr_vcpus = vm->nr_vcpus_detail;
	r->exits = vm->exits;
	r->entries = vm->entries;
	r->gone_ns = vm->gone_ns;
	for (i = 0; i < vm->nr_vcpus_detail && i <= MAX_VCPUS; i++) {
		const struct kvmw_unit *u = &vm->vcpus[i].u;

		r->vcpu_exits[i] = u->exits;
		r->vcpu_entries[i] = u->entries;
		r->vcpu_cpuid[i] = kvmw_unit_count(u, cpuid_code);
		r->vcpu_guest_ns[i] = u->times.guest_ns;
	}
}

/* The numbers that must not change once a VM has stopped running. */
static bool rec_same(const struct vm_rec *a, const struct vm_rec *b)
{
	uint32_t i;

	if (a->id != b->id || a->nr_vcpus != b->nr_vcpus ||
	    a->exits != b->exits || a->entries != b->entries)
		return false;
	for (i = 0; i < a->nr_vcpus && i <= MAX_VCPUS; i++)
		if (a->vcpu_exits[i] != b->vcpu_exits[i] ||
		    a->vcpu_entries[i] != b->vcpu_entries[i] ||
		    a->vcpu_cpuid[i] != b->vcpu_cpuid[i] ||
		    a->vcpu_guest_ns[i] != b->vcpu_guest_ns[i])
			return false;
	return true;
}

/*
 * Check one finished vCPU of a snapshot against what the host saw: its
 * own CPUID count and KVM's statistics of this vCPU fd, which belong to
 * this incarnation only.
 */
static void check_vcpu(struct __test_metadata *_metadata,
		       struct churn_env *env, const struct kvmw_vm *vm,
		       unsigned int idx, struct kvm_vcpu *vcpu, uint64_t cpuid)
{
	const struct vcpu_result *r = &vcpu->res;
	const struct kvmw_vcpu *vi;
	uint64_t user_n = 0;
	size_t j;

	ASSERT_LT(idx, vm->nr_vcpus_detail);
	vi = &vm->vcpus[idx];
	ASSERT_EQ((uint32_t)vcpu->id, vi->vcpu_id);
	EXPECT_EQ((uint32_t)vcpu->tid, vi->tid);
	EXPECT_EQ(cpuid, kvmw_unit_count(&vi->u, env->cpuid_code))
		TH_LOG("VM %llu vCPU %d: CPUID exits",
		       (unsigned long long)vm->vm_id, vcpu->id);
	EXPECT_EQ(vi->u.exits, vi->u.entries);
	if (r->end_stats.valid[VCPU_STAT_EXITS])
		EXPECT_EQ(r->end_stats.val[VCPU_STAT_EXITS], vi->u.exits)
			TH_LOG("VM %llu vCPU %d: KVM's exits statistic",
			       (unsigned long long)vm->vm_id, vcpu->id);
	if (r->end_stats.valid[VCPU_STAT_IO_EXITS])
		EXPECT_EQ(r->end_stats.val[VCPU_STAT_IO_EXITS],
			  kvmw_unit_count(&vi->u, env->io_code))
			TH_LOG("VM %llu vCPU %d: KVM's io_exits statistic",
			       (unsigned long long)vm->vm_id, vcpu->id);
	/* Every return of KVM_RUN but the last is timed at the next entry. */
	for (j = 0; j < vi->u.nr_reasons; j++)
		user_n += vi->u.reasons[j].lat.user_count;
	EXPECT_EQ(r->kvm_runs - 1, user_n)
		TH_LOG("VM %llu vCPU %d: returns to userspace",
		       (unsigned long long)vm->vm_id, vcpu->id);
}

FIXTURE_SETUP(churn)
{
	struct kvmw_source *src = &self->env.src;
	struct kvmw_snapshot snap;
	enum kvm_vendor vendor;
	uint32_t gone = 0;
	int tries, ret;
	size_t i;

	if (geteuid()) {
		snprintf(self->why, sizeof(self->why), "needs root");
		return;
	}
	if (!kvm_available()) {
		snprintf(self->why, sizeof(self->why), "no usable /dev/kvm");
		return;
	}
	ret = kvmw_src_open(src);
	ASSERT_EQ(0, ret)
		TH_LOG("open %s: %s", KVMW_DEVICE_PATH, strerror(-ret));
	self->env.src_open = true;
	ASSERT_TRUE(src->host.features & KVMW_FEAT_VM_LIFETIME)
		TH_LOG("no exact VM lifetime: KVM debugfs unavailable?");
	vendor = (enum kvm_vendor)src->host.vendor;
	self->env.cpuid_code = exit_reason_code(vendor, EXIT_KIND_CPUID);
	self->env.io_code = exit_reason_code(vendor, EXIT_KIND_IO);
	ASSERT_EQ(0, param_read(RETENTION_PARAM, self->old_retention,
				sizeof(self->old_retention)));

	/*
	 * Drop the gone VMs of earlier tests: they expire at the module's
	 * next sweep (reads never reap; the sweep runs every second).
	 */
	ASSERT_EQ(0, param_write(RETENTION_PARAM, 0));
	for (tries = 0; tries < 50; tries++) {
		ASSERT_EQ(0, kvmw_take(src, &snap));
		for (gone = 0, i = 0; i < snap.nr_vms; i++)
			gone += snap.vms[i].gone;
		kvmw_snapshot_free(&snap);
		if (!gone)
			break;
		sleep_ms(100);
	}
	EXPECT_EQ(0U, gone)
		TH_LOG("%u gone VMs kept 5 s with a retention of 0", gone);
	ASSERT_EQ(0, param_write(RETENTION_PARAM, KEEP_MS));
	ASSERT_EQ(0, kvmw_src_info(src));
	self->env.base_vms = src->host.nr_vms;
	self->env.base_vcpus = src->host.nr_vcpus;
}

FIXTURE_TEARDOWN(churn)
{
	if (self->old_retention[0] &&
	    param_write(RETENTION_PARAM,
			strtoul(self->old_retention, NULL, 10)))
		TH_LOG("could not restore gone_retention_ms");
	if (self->env.src_open)
		kvmw_source_close(&self->env.src);
}

/* nr_vms and nr_vcpus of the handshake and the snapshot's VMs. */
static void check_totals(struct __test_metadata *_metadata,
			 struct churn_env *env, uint32_t vms,
			 uint32_t vcpus)
{
	struct kvmw_snapshot snap;

	ASSERT_EQ(0, kvmw_src_info(&env->src));
	EXPECT_EQ(env->base_vms + vms, env->src.host.nr_vms);
	EXPECT_EQ(env->base_vcpus + vcpus, env->src.host.nr_vcpus);
	ASSERT_EQ(0, kvmw_take(&env->src, &snap));
	EXPECT_EQ(env->base_vms + vms, snap.nr_vms);
	kvmw_snapshot_free(&snap);
}

/*
 * Wait for the gone VM @r to expire with a retention of EXPIRE_MS: it
 * must stay readable, numbers unchanged, until then, and disappear after.
 */
static void check_expiry(struct __test_metadata *_metadata,
			 struct churn_env *env, const struct vm_rec *r)
{
	struct kvmw_snapshot s;
	const struct kvmw_vm *vm;
	uint64_t deadline;
	struct vm_rec cur;
	int ret;

	ASSERT_NE(0, r->gone_ns);
	ASSERT_EQ(0, param_write(RETENTION_PARAM, EXPIRE_MS));
	deadline = r->gone_ns + (EXPIRE_MS + 5000) * 1000000ULL;
	for (;;) {
		/* Read before the clock: a VM missing earlier is a failure. */
		ret = kvmw_take_vm(&env->src, r->id, &s, &vm);
		if (ret)
			kvmw_snapshot_free(&s);
		if (boottime_ns() < r->gone_ns + EXPIRE_MS * 1000000ULL) {
			ASSERT_EQ(0, ret) TH_LOG("VM %llu removed before %u ms",
						 (unsigned long long)r->id,
						 EXPIRE_MS);
		}
		if (ret) {
			EXPECT_EQ(-ENOENT, ret);
			break;
		}
		rec_from_snap(&cur, vm, env->cpuid_code);
		kvmw_snapshot_free(&s);
		EXPECT_TRUE(cur.gone_ns == r->gone_ns && rec_same(&cur, r))
			TH_LOG("gone VM %llu changed", (unsigned long long)r->id);
		ASSERT_GT(deadline, boottime_ns())
			TH_LOG("VM %llu not removed %u ms after it was gone",
			       (unsigned long long)r->id, EXPIRE_MS + 5000);
		sleep_ms(50);
	}
	ASSERT_EQ(0, param_write(RETENTION_PARAM, KEEP_MS));
}

/*
 * KVM allocates struct kvm with vmalloc(), whose freed ranges are handed
 * out again only after a lazy purge, once some 32 MiB x fls(nr_cpus) of
 * vmalloc space has been freed. A VM that destroys just itself frees far
 * less, so the next VMs would get fresh addresses and the test would
 * never meet a reused struct kvm (the kvm_vcpu cache, a slab, is reused
 * at once). Every BALLAST_EVERY-th VM therefore also gets a ballast memory
 * slot with dirty logging, never touched by the guest: its dirty bitmaps,
 * BALLAST_SIZE / 4 KiB / 8 x 2 bytes of vmalloc space, make its destroy
 * free enough for a purge every few VMs.
 * Below 1 TiB, QEMU's TCG default of 40 physical address bits.
 */
#define BALLAST_EVERY	3	/* iterations */
#define BALLAST_GPA	(128ULL << 30)
#define BALLAST_SIZE	(768ULL << 30)

static void *add_ballast(struct kvm_vm *vm)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = BALLAST_GPA,
		.memory_size = BALLAST_SIZE,
	};
	void *p;

	p = mmap(NULL, BALLAST_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	r.userspace_addr = (uintptr_t)p;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r)) {
		munmap(p, BALLAST_SIZE);
		return NULL;
	}
	return p;
}

/*
 * The vmalloc areas allocated by kvm_create_vm() (struct kvm; inlined
 * into kvm_dev_ioctl() on some kernels), by their address range as
 * /proc/vmallocinfo prints it (hashed or not, the same address gives the
 * same text within one boot).
 */
#define MAX_AREAS	8

struct kvm_areas {
	int n;
	char a[MAX_AREAS][48];
};

static void kvm_areas_read(struct kvm_areas *k)
{
	char line[512];
	FILE *f;

	k->n = 0;
	f = fopen("/proc/vmallocinfo", "re");
	if (!f)
		return;
	while (k->n < MAX_AREAS && fgets(line, sizeof(line), f))
		if ((strstr(line, " kvm_create_vm+") ||
		     strstr(line, " kvm_dev_ioctl+")) &&
		    sscanf(line, "%47s", k->a[k->n]) == 1)
			k->n++;
	fclose(f);
}

/* The area in @after that is not in @before, or NULL. */
static const char *kvm_area_new(const struct kvm_areas *before,
				const struct kvm_areas *after)
{
	int i, j;

	for (i = 0; i < after->n; i++) {
		for (j = 0; j < before->n; j++)
			if (!strcmp(after->a[i], before->a[j]))
				break;
		if (j == before->n)
			return after->a[i];
	}
	return NULL;
}

/* One iteration's VM: create, run to completion, read, destroy. */
TEST_F_TIMEOUT(churn, churn, 600)
{
	unsigned int iters = CHURN_ITERS, it;
	struct vm_rec prev = { 0 }, cur;
	uint32_t kept = 0, kept_vcpus = 0;
	uint64_t last_id = 0;
	double t0 = now_ms();
	unsigned int reused = 0, seen = 0, nr_addr = 0;
	char (*addr)[48] = NULL;
	bool ballast = true;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (getenv("KVMW_CHURN_ITERS"))
		iters = strtoul(getenv("KVMW_CHURN_ITERS"), NULL, 0);

	addr = calloc(iters ? iters : 1, sizeof(*addr));
	ASSERT_NE(NULL, addr);
	for (it = 0; it < iters; it++) {
		const struct kvmw_vm *live, *old, *vmm;
		struct kvm_areas before, after;
		const char *area;
		void *ballast_mem = NULL;
		unsigned int a;
		int nv = 1 + it % MAX_VCPUS, c;
		struct kvmw_snapshot snap, s;
		uint32_t nlive, ngone;
		struct kvm_vcpu *vcpu;
		struct kvm_vm *vm;

		kvm_areas_read(&before);
		vm = vm_create(NULL);
		ASSERT_NE(NULL, vm);
		kvm_areas_read(&after);
		area = kvm_area_new(&before, &after);
		if (area) {
			seen++;
			for (a = 0; a < nr_addr; a++)
				if (!strcmp(addr[a], area))
					break;
			if (a < nr_addr)
				reused++;
			else
				snprintf(addr[nr_addr++], sizeof(addr[0]),
					 "%s", area);
		}
		if (ballast && it % BALLAST_EVERY == 0) {
			ballast_mem = add_ballast(vm);
			if (!ballast_mem) {
				TH_LOG("no ballast memory slot: %s",
				       strerror(errno));
				ballast = false;
			}
		}
		for (c = 0; c < nv; c++) {
			vcpu = vcpu_add(vm);
			ASSERT_NE(NULL, vcpu);
			ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_CPUID,
						    10 + 2 * it + c));
		}
		/*
		 * vCPU 0 always runs on this thread, so every VM's vCPU 0 has
		 * the same thread id; vCPU 1 gets a new thread.
		 */
		if (nv > 1)
			ASSERT_EQ(0, vcpu_start(vm->vcpus[1]));
		EXPECT_EQ(0, vcpu_run(vm->vcpus[0]))
			TH_LOG("%s", vm->vcpus[0]->res.msg);
		if (nv > 1)
			EXPECT_EQ(0, vcpu_join(vm->vcpus[1]))
				TH_LOG("%s", vm->vcpus[1]->res.msg);

		/* Exactly one live VM of ours, a new one. */
		ASSERT_EQ(0, kvmw_take(&self->env.src, &snap));
		list_count_mine(&snap, &nlive, &ngone, &live);
		EXPECT_EQ(1, nlive);
		EXPECT_EQ(kept, ngone);
		ASSERT_NE(NULL, live);
		EXPECT_LT(last_id, live->vm_id)
			TH_LOG("iteration %u: vm_id %llu after %llu", it,
			       (unsigned long long)live->vm_id,
			       (unsigned long long)last_id);
		last_id = live->vm_id;
		EXPECT_EQ((uint32_t)nv, live->nr_vcpus);

		/* The VM destroyed before: gone, its numbers as they were. */
		if (prev.id) {
			old = kvmw_snapshot_find(&snap, prev.id);
			ASSERT_NE(NULL, old) TH_LOG("VM %llu vanished",
						    (unsigned long long)prev.id);
			EXPECT_TRUE(old->gone);
			EXPECT_EQ(prev.gone_ns, old->gone_ns);
			EXPECT_EQ(prev.exits, old->exits);
			EXPECT_EQ(prev.entries, old->entries);
			EXPECT_EQ(prev.nr_vcpus, old->nr_vcpus);
			ASSERT_EQ(0, kvmw_take_vm(&self->env.src, prev.id, &s,
						  &vmm));
			rec_from_snap(&cur, vmm, self->env.cpuid_code);
			kvmw_snapshot_free(&s);
			EXPECT_TRUE(rec_same(&prev, &cur))
				TH_LOG("gone VM %llu changed",
				       (unsigned long long)prev.id);
		}
		kvmw_snapshot_free(&snap);
		check_totals(_metadata, &self->env, kept + 1, kept_vcpus + nv);

		/* This VM's numbers are its own. */
		ASSERT_EQ(0, kvmw_take_vm(&self->env.src, last_id, &s, &vmm));
		EXPECT_FALSE(vmm->gone);
		ASSERT_EQ((uint32_t)nv, vmm->nr_vcpus_detail);
		for (c = 0; c < nv; c++)
			check_vcpu(_metadata, &self->env, vmm, c, vm->vcpus[c],
				   10 + 2 * it + c);
		rec_from_snap(&prev, vmm, self->env.cpuid_code);
		kvmw_snapshot_free(&s);

		vm_destroy(vm);
		if (ballast_mem)
			munmap(ballast_mem, BALLAST_SIZE);

		/* Gone at the next reading, numbers unchanged. */
		ASSERT_EQ(0, kvmw_take_vm(&self->env.src, prev.id, &s, &vmm));
		EXPECT_TRUE(vmm->gone)
			TH_LOG("VM %llu not gone after its destruction",
			       (unsigned long long)prev.id);
		rec_from_snap(&cur, vmm, self->env.cpuid_code);
		kvmw_snapshot_free(&s);
		EXPECT_TRUE(rec_same(&prev, &cur));
		EXPECT_NE(0, cur.gone_ns);
		prev.gone_ns = cur.gone_ns;
		kept++;
		kept_vcpus += nv;
		check_totals(_metadata, &self->env, kept, kept_vcpus);

		if (it % EXPIRE_EVERY == EXPIRE_EVERY - 1) {
			/* All kept VMs expire, the last one is watched. */
			check_expiry(_metadata, &self->env, &prev);
			kept = 0;
			kept_vcpus = 0;
			check_totals(_metadata, &self->env, 0, 0);
			memset(&prev, 0, sizeof(prev));
		}
		if (it == 0)
			TH_LOG("one iteration: %.0f ms", now_ms() - t0);
	}
	TH_LOG("%u iterations in %.0f ms", iters, now_ms() - t0);
	/* Informational: reuse depends on the allocator, it is not asserted. */
	if (seen)
		TH_LOG("struct kvm at the address of an earlier VM in %u of %u iterations",
		       reused, seen);
	else
		TH_LOG("struct kvm addresses not visible in /proc/vmallocinfo");
	free(addr);
}

/* Wait until a spinning vCPU has made @n more batches. */
static bool wait_batches(struct kvm_vcpu *vcpu, uint64_t n, int timeout_ms)
{
	uint64_t want = vcpu_spin_batches(vcpu) + n;
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (vcpu_finished(vcpu))
			return false;
		if (vcpu_spin_batches(vcpu) >= want)
			return true;
		sleep_ms(10);
	}
	return false;
}

TEST_F_TIMEOUT(churn, vcpu_added_later, 300)
{
	struct kvm_vcpu *spin, *v1, *v2;
	const struct kvmw_vm *w;
	struct kvmw_snapshot s;
	struct kvm_vm *vm;
	uint64_t id, spin_cpuid;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	spin = vcpu_add(vm);
	v1 = vcpu_add(vm);
	ASSERT_NE(NULL, spin);
	ASSERT_NE(NULL, v1);
	ASSERT_EQ(0, vcpu_load_prog(spin, GUEST_PROG_CPUID_SPIN, SPIN_BATCH));
	ASSERT_EQ(0, vcpu_load_prog(v1, GUEST_PROG_CPUID, 111));
	ASSERT_EQ(0, vcpu_start(spin));
	ASSERT_EQ(0, vcpu_run(v1)) TH_LOG("%s", v1->res.msg);
	ASSERT_TRUE(wait_batches(spin, 2, 60000));

	ASSERT_EQ(0, kvmw_take_kvm_vm(&self->env.src, vm, &s, &w));
	id = w->vm_id;
	EXPECT_EQ(2, w->nr_vcpus_detail);
	EXPECT_EQ(111, kvmw_vcpu_count(w, 1, self->env.cpuid_code));
	kvmw_snapshot_free(&s);
	check_totals(_metadata, &self->env, 1, 2);

	/* A third vCPU, created now, runs on this thread as well. */
	v2 = vcpu_add(vm);
	ASSERT_NE(NULL, v2);
	ASSERT_EQ(0, vcpu_load_prog(v2, GUEST_PROG_CPUID, 333));
	ASSERT_EQ(0, vcpu_run(v2)) TH_LOG("%s", v2->res.msg);
	ASSERT_TRUE(wait_batches(spin, 1, 60000));

	ASSERT_EQ(0, kvmw_take_vm(&self->env.src, id, &s, &w));
	EXPECT_FALSE(w->gone);
	ASSERT_EQ(3, w->nr_vcpus_detail);
	EXPECT_EQ(3, w->nr_vcpus);
	EXPECT_EQ((uint32_t)spin->tid, w->vcpus[0].tid);
	check_vcpu(_metadata, &self->env, w, 1, v1, 111);
	check_vcpu(_metadata, &self->env, w, 2, v2, 333);
	kvmw_snapshot_free(&s);
	check_totals(_metadata, &self->env, 1, 3);

	/* The spinning vCPU: batches x SPIN_BATCH CPUIDs, exactly. */
	vcpu_spin_stop(spin);
	ASSERT_EQ(0, vcpu_join(spin)) TH_LOG("%s", spin->res.msg);
	spin_cpuid = spin->res.pio_user_out * SPIN_BATCH;
	ASSERT_EQ(0, kvmw_take_vm(&self->env.src, id, &s, &w));
	check_vcpu(_metadata, &self->env, w, 0, spin, spin_cpuid);
	kvmw_snapshot_free(&s);
	vm_destroy(vm);
}

TEST_F_TIMEOUT(churn, several_alive, 300)
{
	static const int order[NR_ALIVE] = { 2, 0, 3, 1 };
	struct kvm_vm *vms[NR_ALIVE];
	struct vm_rec rec[NR_ALIVE];
	bool alive[NR_ALIVE];
	struct kvmw_snapshot s;
	const struct kvmw_vm *w;
	int k, d, j;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	for (k = 0; k < NR_ALIVE; k++) {
		vms[k] = vm_create(NULL);
		ASSERT_NE(NULL, vms[k]);
		ASSERT_NE(NULL, vcpu_add(vms[k]));
		ASSERT_EQ(0, vcpu_load_prog(vms[k]->vcpus[0],
					    GUEST_PROG_CPUID, 50 + k));
		/* all on this thread: one tid for the four VMs */
		ASSERT_EQ(0, vcpu_run(vms[k]->vcpus[0]))
			TH_LOG("%s", vms[k]->vcpus[0]->res.msg);
		alive[k] = true;
	}
	for (k = 0; k < NR_ALIVE; k++) {
		bool found = false;
		size_t i;

		/* The VM with our tid and 50 + k CPUIDs. */
		ASSERT_EQ(0, kvmw_take(&self->env.src, &s));
		for (i = 0; i < s.nr_vms && !found; i++) {
			w = &s.vms[i];
			if (w->pid != (uint32_t)getpid())
				continue;
			if (w->nr_vcpus_detail == 1 &&
			    kvmw_unit_count(&w->vcpus[0].u,
					    self->env.cpuid_code) == 50U + k) {
				EXPECT_FALSE(w->gone);
				check_vcpu(_metadata, &self->env, w, 0,
					   vms[k]->vcpus[0], 50 + k);
				rec_from_snap(&rec[k], w, self->env.cpuid_code);
				found = true;
			}
		}
		kvmw_snapshot_free(&s);
		ASSERT_TRUE(found) TH_LOG("VM %d not found", k);
		if (k)
			EXPECT_LT(rec[k - 1].id, rec[k].id);
	}
	check_totals(_metadata, &self->env, NR_ALIVE, NR_ALIVE);

	for (d = 0; d < NR_ALIVE; d++) {
		vm_destroy(vms[order[d]]);
		alive[order[d]] = false;
		for (j = 0; j < NR_ALIVE; j++) {
			struct vm_rec cur;

			ASSERT_EQ(0, kvmw_take_vm(&self->env.src, rec[j].id,
						  &s, &w));
			EXPECT_EQ(!alive[j], w->gone)
				TH_LOG("after destroying VM %d: VM %d", order[d],
				       j);
			rec_from_snap(&cur, w, self->env.cpuid_code);
			kvmw_snapshot_free(&s);
			EXPECT_TRUE(rec_same(&rec[j], &cur));
		}
		check_totals(_metadata, &self->env, NR_ALIVE, NR_ALIVE);
	}

	/* With no retention they all go at the next sweep (within 1 s). */
	ASSERT_EQ(0, param_write(RETENTION_PARAM, 0));
	for (j = 0; j < 50; j++) {
		ASSERT_EQ(0, kvmw_src_info(&self->env.src));
		if (self->env.src.host.nr_vms == self->env.base_vms)
			break;
		sleep_ms(100);
	}
	check_totals(_metadata, &self->env, 0, 0);
	for (j = 0; j < NR_ALIVE; j++) {
		EXPECT_EQ(-ENOENT, kvmw_take_vm(&self->env.src, rec[j].id, &s,
						&w));
		kvmw_snapshot_free(&s);
	}
}

TEST_HARNESS_MAIN
