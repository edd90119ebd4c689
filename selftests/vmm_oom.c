// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_oom - VMMs killed by the kernel's OOM killer in the middle of
 * KVM_RUN.
 *
 * A SIGKILL sent by another process (vmm_crash) and an OOM kill end a
 * VMM the same way for its threads, but not for its memory: the OOM
 * killer hands the victim's address space to the OOM reaper, which tears
 * down the guest memory while the vCPU threads may still be on their way
 * out of KVM_RUN, and KVM's MMU notifiers fire from the reaper's context.
 * kvmwarden's memory sampler reads the same address space from the vCPU
 * threads.
 *
 * oom_kill: ROUNDS times, a forked VMM in its own memory cgroup creates
 * a VM of two vCPUs that spin CPUID batches in the guest; once both ran,
 * the parent caps the cgroup a little above what it uses
 * (memory.max, no swap) and the VMM allocates and touches memory until
 * the OOM killer kills it. Checks, each round:
 *  - kvmwarden listed the VM with both vCPUs and their exits before;
 *  - the VMM died of SIGKILL and the cgroup's memory.events counts an
 *    OOM kill;
 *  - kvmwarden flags the VM gone within GONE_MS;
 * and after the rounds: kvm_amd's (kvm_intel's) reference count, one per
 * live VM, is back to its value before, so KVM destroyed every VM.
 * The harness checks the kernel log: the OOM killer's own reports (with
 * a stack dump) are cut out between this test's "kvmw-oom: armed" and
 * "kvmw-oom: disarmed" markers when they are of the memory-cgroup shape
 * (scripts/vmtest.sh, drop_oom); anything else fails the run.
 *
 * Needs cgroup v2 with the memory controller (mounted here if missing).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define ROUNDS		3
#define NR_VCPUS	2
#define SPIN_BATCH	100
#define GONE_MS		10000
#define READY_MS	60000
#define HOG_CHUNK	(1UL << 20)
/* The cap: what the VMM uses once its VM runs, plus this. */
#define HEADROOM	(16UL << 20)
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_DIR		CG_ROOT "/kvmw-oom"

static long module_refcnt(const char *name)
{
	char path[128], v[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	if (util_read_str(path, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, 10);
}

static const char *vendor_module(void)
{
	return module_loaded("kvm_intel") ? "kvm_intel" : "kvm_amd";
}

/* A line into the kernel log (the harness' markers). 0 or -errno. */
static int kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
		ret = -EIO;
	close(fd);
	return ret;
}

/* The value of @key in a "key value" file such as memory.events. */
static long long keyed(const char *path, const char *key)
{
	char buf[1024], *p;
	size_t n = strlen(key);
	ssize_t len;
	int fd;

	/* Every line (util_read_str() keeps the first only). */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

static long long read_ll(const char *path)
{
	char buf[64];

	if (util_read_str(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* cgroup v2 with the memory controller for CG_DIR. Returns 0 or -errno. */
static int cgroup_ready(char *why, size_t len)
{
	char ctl[256];

	if (access(CG_ROOT "/cgroup.procs", F_OK) &&
	    mount("none", CG_ROOT, "cgroup2", 0, NULL)) {
		snprintf(why, len, "no cgroup v2: %s", strerror(errno));
		return -errno;
	}
	if (util_read_str(CG_ROOT "/cgroup.controllers", ctl, sizeof(ctl)) ||
	    !strstr(ctl, "memory")) {
		snprintf(why, len, "no memory controller in cgroup v2");
		return -ENOENT;
	}
	if (util_write_str(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		snprintf(why, len, "cannot enable the memory controller");
		return -EIO;
	}
	rmdir(CG_DIR);
	if (mkdir(CG_DIR, 0755)) {
		snprintf(why, len, "mkdir %s: %s", CG_DIR, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The VMM: joins CG_DIR, runs a VM, says ready on @ready_fd, waits for a
 * byte on @go_fd, then eats memory until it is killed.
 */
static void vmm(int ready_fd, int go_fd)
{
	struct kvm_vm *vm;
	char pid[16], b;
	int c;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (util_write_str(CG_DIR "/cgroup.procs", pid))
		_exit(2);
	vm = vm_create(NULL);
	if (!vm)
		_exit(2);
	for (c = 0; c < NR_VCPUS; c++)
		if (!vcpu_add(vm) ||
		    vcpu_load_prog(vm->vcpus[c], GUEST_PROG_CPUID_SPIN,
				   SPIN_BATCH) ||
		    vcpu_start(vm->vcpus[c]))
			_exit(2);
	for (c = 0; c < NR_VCPUS; c++)
		while (vcpu_spin_batches(vm->vcpus[c]) < 1)
			util_sleep_ms(1);
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &b, 1) != 1)
		_exit(2);
	for (;;) {
		char *p = mmap(NULL, HOG_CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			util_sleep_ms(1);
			continue;
		}
		memset(p, 0x5a, HOG_CHUNK);
	}
}

/* Waits up to @ms for one byte on @fd. 0 or -1. */
static int wait_byte(int fd, int ms)
{
	double end = util_now_ms() + ms;
	char b;

	while (util_now_ms() < end) {
		ssize_t n = read(fd, &b, 1);

		if (n == 1)
			return 0;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		util_sleep_ms(10);
	}
	return -1;
}

FIXTURE(oom) {
	struct kvmw_source src;
	char why[160];
	pid_t child;
};

FIXTURE_SETUP(oom)
{
	int ret;

	self->child = -1;
	self->why[0] = '\0';
	ret = kvmw_test_src(&self->src, KVMW_FEAT_EXIT_COUNTS |
			    KVMW_FEAT_VM_LIFETIME, "VM lifetime", self->why,
			    sizeof(self->why));
	if (ret) {
		if (!self->why[0])
			snprintf(self->why, sizeof(self->why),
				 "kvmwarden: %s", strerror(-ret));
		return;
	}
	if (cgroup_ready(self->why, sizeof(self->why)))
		kvmw_source_close(&self->src);
}

FIXTURE_TEARDOWN(oom)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (!self->why[0]) {
		kvmw_source_close(&self->src);
		rmdir(CG_DIR);
	}
}

TEST_F_TIMEOUT(oom, oom_kill, 300)
{
	long refcnt_before, refcnt = -1;
	const char *vendor = vendor_module();
	unsigned int round;
	double t0;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	refcnt_before = module_refcnt(vendor);
	ASSERT_LE(0, refcnt_before);
	ASSERT_EQ(0, kmsg("kvmw-oom: armed\n"));
	for (round = 0; round < ROUNDS; round++) {
		const struct kvmw_vm *vm;
		struct kvmw_snapshot snap;
		int ready[2], go[2], status, ret;
		long long kills, cur;
		uint64_t vm_id;
		char cap[32];

		ASSERT_EQ(0, util_write_str(CG_DIR "/memory.max", "max"));
		kills = keyed(CG_DIR "/memory.events", "oom_kill");
		ASSERT_LE(0, kills);
		ASSERT_EQ(0, pipe2(ready, O_CLOEXEC | O_NONBLOCK));
		ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
		self->child = fork();
		ASSERT_LE(0, self->child);
		if (!self->child) {
			close(ready[0]);
			close(go[1]);
			vmm(ready[1], go[0]);
		}
		close(ready[1]);
		close(go[0]);
		ASSERT_EQ(0, wait_byte(ready[0], READY_MS))
			TH_LOG("round %u: the VMM did not start its VM", round);

		ret = kvmw_take_vmm(&self->src, self->child, NULL, 0, &snap,
				    &vm);
		if (ret)
			kvmw_snapshot_free(&snap);
		ASSERT_EQ(0, ret) TH_LOG("round %u: VM of pid %d not listed",
					 round, self->child);
		vm_id = vm->vm_id;
		EXPECT_EQ(NR_VCPUS, vm->nr_vcpus);
		EXPECT_LE(NR_VCPUS * SPIN_BATCH, vm->exits);
		EXPECT_FALSE(vm->gone);
		kvmw_snapshot_free(&snap);

		/* A cap the VMM reaches at once, swap off. */
		cur = read_ll(CG_DIR "/memory.current");
		ASSERT_LT(0, cur);
		snprintf(cap, sizeof(cap), "%llu",
			 (unsigned long long)cur + HEADROOM);
		if (!access(CG_DIR "/memory.swap.max", F_OK))
			ASSERT_EQ(0, util_write_str(CG_DIR "/memory.swap.max",
						    "0"));
		ASSERT_EQ(0, util_write_str(CG_DIR "/memory.max", cap));
		ASSERT_EQ(1, write(go[1], "g", 1));
		ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
		self->child = -1;
		close(ready[0]);
		close(go[1]);
		ASSERT_TRUE(WIFSIGNALED(status))
			TH_LOG("round %u: the VMM exited (status 0x%x)", round,
			       status);
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
		EXPECT_LT(kills, keyed(CG_DIR "/memory.events", "oom_kill"))
			TH_LOG("round %u: killed, but not by the OOM killer",
			       round);

		/* The module saw KVM destroy the VM. */
		t0 = util_now_ms();
		for (;;) {
			bool gone;

			ret = kvmw_take_vm(&self->src, vm_id, &snap, &vm);
			gone = ret == -ENOENT || (!ret && vm->gone);
			kvmw_snapshot_free(&snap);
			if (gone)
				break;
			ASSERT_EQ(0, ret);
			ASSERT_GT(GONE_MS, util_now_ms() - t0)
				TH_LOG("round %u: VM %llu not gone after %d ms",
				       round, (unsigned long long)vm_id,
				       GONE_MS);
			util_sleep_ms(20);
		}
		TH_LOG("round %u: VM %llu OOM-killed at %lld bytes, gone after %.0f ms",
		       round, (unsigned long long)vm_id,
		       (long long)cur + (long long)HEADROOM,
		       util_now_ms() - t0);
	}
	ASSERT_EQ(0, kmsg("kvmw-oom: disarmed\n"));

	/* Every VM's reference on the vendor module dropped. */
	t0 = util_now_ms();
	while (util_now_ms() - t0 < GONE_MS) {
		refcnt = module_refcnt(vendor);
		if (refcnt == refcnt_before)
			break;
		util_sleep_ms(20);
	}
	EXPECT_EQ(refcnt_before, refcnt)
		TH_LOG("%s reference count %ld, %ld before: a VM not destroyed",
		       vendor, refcnt, refcnt_before);
}

TEST_HARNESS_MAIN
