// SPDX-License-Identifier: GPL-2.0
/*
 * unload_load - kvmwarden unloaded and loaded again many times while
 * guests run at their full exit rate.
 *
 * Two VMs with two vCPUs each run CPUID loops (GUEST_PROG_CPUID_SPIN) on
 * their own threads, and a third thread keeps creating, running and
 * destroying small VMs, while the module is unloaded and loaded
 * RELOADS times. Each round checks:
 *  - busy: while the test holds /dev/kvmwarden open and a second thread
 *    sits in poll() on a file of its own, delete_module() fails with
 *    EWOULDBLOCK ("Module kvmwarden is in use", Documentation/
 *    admin-guide.rst) and changes nothing: the module stays, the open
 *    file still answers, the poller is neither woken with an error nor
 *    stuck
 *  - before the unload: kvmwarden's reference count is 0 (no open file,
 *    no reference taken by the probes) and the unload finishes within
 *    UNLOAD_MS; afterwards /sys/module/kvmwarden and the device are gone
 *  - the guests make progress while the module is away
 *  - after the load: both running VMs are found again, each with two
 *    vCPUs on the right threads and distinct ids; their counts grow
 *    from one reading to the next
 * and at the end: no short-lived VM failed, and every one of them that
 * is still listed has at most its CHURN_CPUID CPUIDs, exactly that many
 * when it ran entirely after the last load; kvm.ko's and kvm_amd's
 * reference counts are what they were before the rounds (a reference
 * leaked on them would show); with the guests stopped, the CPUID count of
 * every vCPU lies between the batches known to have run after the last
 * load and those that ran at all since; and one last unload drops exactly
 * one reference of kvm.ko (kvmwarden's own). The module is left loaded for
 * the tests that follow.
 *
 * Splats (BUG, WARNING, Oops, lockdep, RCU) fail the run in vmtest.sh.
 *
 * Environment: KVMW_RELOADS sets the number of rounds (default 20; the
 * stress run of Documentation/testing.rst uses 100, passed on the test
 * VM's kernel command line as KVMW_RELOADS=100, which the kernel hands to
 * init's environment).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define RELOADS		20
#define NR_VMS		2
#define NR_VCPUS	2
#define SPIN_BATCH	200	/* CPUIDs between two returns to userspace */
#define UNLOAD_MS	10000	/* bound on one delete_module() */
#define CHURN_CPUID	77

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* /sys/module/<name>/refcnt, or -1. */
static long module_refcnt(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static const char *vendor_module(void)
{
	return module_loaded("kvm_intel") ? "kvm_intel" : "kvm_amd";
}

/* State shared with the churning thread. */
struct churn {
	pthread_t thread;
	int stop;
	unsigned int vms;	/* VMs run and destroyed */
	unsigned int failed;	/* VMs that did not run as expected */
	char msg[512];
};

/*
 * Create, run and destroy one-vCPU VMs until told to stop: VM discovery
 * and VM teardown racing with the module's load and unload.
 */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		struct kvm_vm *vm = vm_create(NULL);
		struct kvm_vcpu *vcpu = vm ? vcpu_add(vm) : NULL;

		if (!vcpu || vcpu_load_prog(vcpu, GUEST_PROG_CPUID,
					    CHURN_CPUID) ||
		    vcpu_run(vcpu)) {
			if (!c->failed++)
				snprintf(c->msg, sizeof(c->msg), "%s",
					 vcpu ? vcpu->res.msg : "create failed");
		}
		vm_destroy(vm);
		__atomic_add_fetch(&c->vms, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* A reader that holds its own open file and waits in poll(). */
struct poller {
	pthread_t thread;
	int stop;
	int ready;
	int err;	/* errno of a failed open, poll or read */
	unsigned long polls;
};

static void *poller_thread(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .events = POLLIN };
	struct kvmw_event ev[4];

	pfd.fd = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (pfd.fd < 0)
		p->err = errno;
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	if (pfd.fd < 0)
		return NULL;
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		int n = poll(&pfd, 1, 20);

		p->polls++;
		if (n < 0 && errno != EINTR) {
			p->err = errno;
			break;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			p->err = EIO;
			break;
		}
		if (n > 0 && read(pfd.fd, ev, sizeof(ev)) < 0 &&
		    errno != EAGAIN) {
			p->err = errno;
			break;
		}
	}
	close(pfd.fd);
	return NULL;
}

FIXTURE(reload) {
	const char *path;
	struct kvm_vm *vms[NR_VMS];
	struct churn churn;
	bool churning;
	char why[160];
};

FIXTURE_SETUP(reload)
{
	self->path = kvmw_module_path();
	if (geteuid())
		snprintf(self->why, sizeof(self->why), "needs root");
	else if (!module_loaded(KVMW_MODULE_NAME))
		snprintf(self->why, sizeof(self->why),
			 "kvmwarden is not loaded");
	else if (access(self->path, R_OK))
		snprintf(self->why, sizeof(self->why), "no %s", self->path);
	else if (!kvm_available())
		snprintf(self->why, sizeof(self->why), "no usable /dev/kvm");
}

/* Stop every guest and leave kvmwarden loaded, even after a failure. */
FIXTURE_TEARDOWN(reload)
{
	int v, c;

	if (self->churning) {
		__atomic_store_n(&self->churn.stop, 1, __ATOMIC_RELEASE);
		pthread_join(self->churn.thread, NULL);
	}
	for (v = 0; v < NR_VMS; v++) {
		if (!self->vms[v])
			continue;
		for (c = 0; c < self->vms[v]->nr_vcpus; c++)
			vcpu_spin_stop(self->vms[v]->vcpus[c]);
		for (c = 0; c < self->vms[v]->nr_vcpus; c++)
			if (self->vms[v]->vcpus[c]->started)
				vcpu_join(self->vms[v]->vcpus[c]);
		vm_destroy(self->vms[v]);
	}
	if (!self->why[0] && !module_loaded(KVMW_MODULE_NAME))
		module_load(self->path, "");
}

/* Wait until every spinning vCPU has made @more batches. */
static bool wait_progress(struct kvm_vm **vms, uint64_t more,
			  int timeout_ms)
{
	uint64_t base[NR_VMS][NR_VCPUS];
	int v, c, waited;

	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			base[v][c] = vcpu_spin_batches(vms[v]->vcpus[c]);
	for (waited = 0; waited < timeout_ms; waited += 10) {
		bool all = true;

		for (v = 0; v < NR_VMS; v++)
			for (c = 0; c < NR_VCPUS; c++) {
				struct kvm_vcpu *vcpu = vms[v]->vcpus[c];

				if (vcpu_finished(vcpu))
					return false;
				if (vcpu_spin_batches(vcpu) < base[v][c] + more)
					all = false;
			}
		if (all)
			return true;
		sleep_ms(10);
	}
	return false;
}

static void mark_batches(struct kvm_vm **vms,
			 uint64_t b[NR_VMS][NR_VCPUS])
{
	int v, c;

	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			b[v][c] = vcpu_spin_batches(vms[v]->vcpus[c]);
}

/* Snapshot of running VM @v, found by its vCPU threads; ids out. */
static void read_vms(struct __test_metadata *_metadata,
		     struct kvm_vm **vms, struct kvmw_source *src,
		     uint64_t cpuid[NR_VMS][NR_VCPUS], uint64_t ids[NR_VMS],
		     uint32_t cpuid_code)
{
	int v, c;

	for (v = 0; v < NR_VMS; v++) {
		struct kvmw_snapshot s;
		const struct kvmw_vm *vm;
		int ret;

		ret = kvmw_take_kvm_vm(src, vms[v], &s, &vm);
		ASSERT_EQ(0, ret) TH_LOG("VM %d: %s", v, strerror(-ret));
		EXPECT_FALSE(vm->gone);
		ASSERT_EQ(NR_VCPUS, vm->nr_vcpus);
		ASSERT_EQ(NR_VCPUS, vm->nr_vcpus_detail);
		ids[v] = vm->vm_id;
		for (c = 0; c < NR_VCPUS; c++) {
			EXPECT_EQ((uint32_t)c, vm->vcpus[c].vcpu_id);
			EXPECT_EQ((uint32_t)vms[v]->vcpus[c]->tid,
				  vm->vcpus[c].tid);
			cpuid[v][c] = kvmw_unit_count(&vm->vcpus[c].u,
						      cpuid_code);
		}
		kvmw_snapshot_free(&s);
	}
	EXPECT_NE(ids[0], ids[1]);
}

TEST_F_TIMEOUT(reload, reload_under_load, 3600)
{
	uint64_t before_load[NR_VMS][NR_VCPUS], after_load[NR_VMS][NR_VCPUS];
	uint64_t c1[NR_VMS][NR_VCPUS], c2[NR_VMS][NR_VCPUS];
	unsigned int rounds = RELOADS, r, churn_start, churned;
	double t, unload_max = 0, load_max = 0, t0;
	long kvm_ref, amd_ref;
	struct kvmw_source src;
	uint32_t cpuid_code;
	uint64_t ids[NR_VMS];
	int v, c, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (getenv("KVMW_RELOADS"))
		rounds = strtoul(getenv("KVMW_RELOADS"), NULL, 0);
	ASSERT_EQ(0, kvmw_src_open(&src));
	cpuid_code = exit_reason_code((enum kvm_vendor)src.host.vendor,
				      EXIT_KIND_CPUID);
	kvmw_source_close(&src);

	for (v = 0; v < NR_VMS; v++) {
		self->vms[v] = vm_create(NULL);
		ASSERT_NE(NULL, self->vms[v]);
		for (c = 0; c < NR_VCPUS; c++) {
			ASSERT_NE(NULL, vcpu_add(self->vms[v]));
			ASSERT_EQ(0, vcpu_load_prog(self->vms[v]->vcpus[c],
						    GUEST_PROG_CPUID_SPIN,
						    SPIN_BATCH));
		}
	}
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			ASSERT_EQ(0, vcpu_start(self->vms[v]->vcpus[c]));
	ASSERT_TRUE(wait_progress(self->vms, 2, 120000));
	/*
	 * kvm.ko's and kvm_amd's (kvm_intel's) reference counts with the
	 * module loaded and these VMs running; VMs and their files take
	 * references too, so they are compared while the churning thread,
	 * which adds some, is not running.
	 */
	kvm_ref = module_refcnt("kvm");
	amd_ref = module_refcnt(vendor_module());
	ASSERT_LT(0, kvm_ref);
	ASSERT_EQ(0, pthread_create(&self->churn.thread, NULL, churn_thread,
				    &self->churn));
	self->churning = true;

	t0 = now_ms();
	for (r = 0; r < rounds; r++) {
		struct poller poller = { 0 };
		int busy_fd;

		/* Busy: an open file and a poller keep the module. */
		busy_fd = kvmw_open();
		ASSERT_LE(0, busy_fd);
		ASSERT_EQ(0, pthread_create(&poller.thread, NULL,
					    poller_thread, &poller));
		while (!__atomic_load_n(&poller.ready, __ATOMIC_ACQUIRE))
			sleep_ms(1);
		EXPECT_LE(1, module_refcnt(KVMW_MODULE_NAME));
		errno = 0;
		EXPECT_EQ(-1, syscall(SYS_delete_module, KVMW_MODULE_NAME,
				      O_NONBLOCK));
		EXPECT_EQ(EWOULDBLOCK, errno) TH_LOG("round %u: %s", r,
						     strerror(errno));
		EXPECT_TRUE(module_loaded(KVMW_MODULE_NAME));
		{
			struct kvmw_handshake bhs = { .size = sizeof(bhs) };

			EXPECT_EQ(0, ioctl(busy_fd, KVMW_IOC_HANDSHAKE, &bhs));
		}
		sleep_ms(30);
		__atomic_store_n(&poller.stop, 1, __ATOMIC_RELEASE);
		pthread_join(poller.thread, NULL);
		EXPECT_EQ(0, poller.err) TH_LOG("round %u: poller: %s", r,
						strerror(poller.err));
		EXPECT_LT(0, poller.polls);
		close(busy_fd);

		/* Nothing holds the module: no file open, no probe reference. */
		EXPECT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
		t = now_ms();
		ret = module_unload(KVMW_MODULE_NAME, UNLOAD_MS);
		ASSERT_EQ(0, ret) TH_LOG("round %u: delete_module: %s", r,
					 strerror(-ret));
		t = now_ms() - t;
		unload_max = t > unload_max ? t : unload_max;
		EXPECT_FALSE(module_loaded(KVMW_MODULE_NAME));
		EXPECT_NE(0, access("/sys/class/misc/kvmwarden", F_OK));
		EXPECT_GT(0, kvmw_open());

		/* The guests do not notice. */
		EXPECT_TRUE(wait_progress(self->vms, 1, 60000))
			TH_LOG("round %u: vCPUs stalled without kvmwarden", r);

		mark_batches(self->vms, before_load);
		t = now_ms();
		ret = module_load(self->path, "");
		ASSERT_EQ(0, ret) TH_LOG("round %u: finit_module: %s", r,
					 strerror(-ret));
		t = now_ms() - t;
		load_max = t > load_max ? t : load_max;
		mark_batches(self->vms, after_load);
		ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH,
						 KVMW_SYSFS_DEV, 5000));

		/* The running VMs are found again and their counts grow. */
		ASSERT_TRUE(wait_progress(self->vms, 2, 60000))
			TH_LOG("round %u: vCPUs stalled after the load", r);
		ASSERT_EQ(0, kvmw_src_open(&src));
		read_vms(_metadata, self->vms, &src, c1, ids, cpuid_code);
		ASSERT_TRUE(wait_progress(self->vms, 2, 60000));
		read_vms(_metadata, self->vms, &src, c2, ids, cpuid_code);
		/* Braces: TH_LOG after EXPECT is a statement of its own. */
		for (v = 0; v < NR_VMS; v++) {
			for (c = 0; c < NR_VCPUS; c++) {
				EXPECT_LT(c1[v][c], c2[v][c])
					TH_LOG("round %u VM %d vCPU %d", r, v,
					       c);
			}
		}
		ASSERT_EQ(0, kvmw_src_info(&src));
		EXPECT_EQ(0, src.host.untracked_exits);
		kvmw_source_close(&src);
	}
	TH_LOG("%u rounds in %.0f ms; longest unload %.0f ms, load %.0f ms",
	       rounds, now_ms() - t0, unload_max, load_max);

	/* The churning thread's VMs: each counted exactly, none failed. */
	churn_start = __atomic_load_n(&self->churn.vms, __ATOMIC_ACQUIRE);
	ASSERT_EQ(0, kvmw_src_open(&src));
	for (churned = churn_start; churned < churn_start + 2;
	     churned = __atomic_load_n(&self->churn.vms, __ATOMIC_ACQUIRE))
		sleep_ms(10);
	__atomic_store_n(&self->churn.stop, 1, __ATOMIC_RELEASE);
	pthread_join(self->churn.thread, NULL);
	self->churning = false;
	EXPECT_EQ(0, self->churn.failed) TH_LOG("%s", self->churn.msg);
	EXPECT_EQ(kvm_ref, module_refcnt("kvm"))
		TH_LOG("kvm.ko reference count after %u rounds", rounds);
	EXPECT_EQ(amd_ref, module_refcnt(vendor_module()))
		TH_LOG("%s reference count after %u rounds", vendor_module(),
		       rounds);
	TH_LOG("%u short-lived VMs during the rounds", self->churn.vms);
	{
		struct kvmw_snapshot snap;
		uint32_t full = 0;
		size_t i;

		/*
		 * Gone VMs of the churning thread that the module saw from
		 * their first exit on have exactly CHURN_CPUID CPUIDs; the
		 * ones that ran across a load have fewer, never more.
		 */
		ASSERT_EQ(0, kvmw_take(&src, &snap));
		for (i = 0; i < snap.nr_vms; i++) {
			const struct kvmw_vm *vm = &snap.vms[i];
			uint64_t n;

			if (vm->pid != (uint32_t)getpid() || !vm->gone)
				continue;
			EXPECT_EQ(1, vm->nr_vcpus);
			EXPECT_EQ(1, vm->nr_vcpus_detail);
			n = vm->nr_vcpus_detail ?
			    kvmw_unit_count(&vm->vcpus[0].u, cpuid_code) : 0;
			EXPECT_GE(CHURN_CPUID, n);
			full += n == CHURN_CPUID;
		}
		kvmw_snapshot_free(&snap);
		EXPECT_LT(0, full) TH_LOG("no churned VM counted in full");
	}

	/* Stop the guests: their counts are bounded by the batches run. */
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			vcpu_spin_stop(self->vms[v]->vcpus[c]);
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++) {
			struct kvm_vcpu *vcpu = self->vms[v]->vcpus[c];

			EXPECT_EQ(0, vcpu_join(vcpu)) TH_LOG("%s",
							     vcpu->res.msg);
		}
	read_vms(_metadata, self->vms, &src, c1, ids, cpuid_code);
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++) {
			uint64_t end = self->vms[v]->vcpus[c]->res.pio_user_out;

			/*
			 * Batches up to before_load + 1 may have been partly
			 * missed; everything after after_load + 1 was seen.
			 */
			EXPECT_GE((end - before_load[v][c]) * SPIN_BATCH,
				  c1[v][c]) TH_LOG("VM %d vCPU %d", v, c);
			EXPECT_LE((end - after_load[v][c] - 1) * SPIN_BATCH,
				  c1[v][c]) TH_LOG("VM %d vCPU %d", v, c);
		}
	kvmw_source_close(&src);
	for (v = 0; v < NR_VMS; v++) {
		vm_destroy(self->vms[v]);
		self->vms[v] = NULL;
	}

	/* Without kvmwarden, kvm.ko loses exactly its dependent's reference. */
	kvm_ref = module_refcnt("kvm");
	ASSERT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
	ASSERT_EQ(0, module_unload(KVMW_MODULE_NAME, UNLOAD_MS));
	EXPECT_EQ(kvm_ref - 1, module_refcnt("kvm"));
	ASSERT_EQ(0, module_load(self->path, ""));
	EXPECT_EQ(kvm_ref, module_refcnt("kvm"));
	EXPECT_TRUE(module_loaded(KVMW_MODULE_NAME));
	EXPECT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
}

TEST_HARNESS_MAIN
