// SPDX-License-Identifier: GPL-2.0
/*
 * budget_default - host-wide default budgets for new VMs
 * (KVMW_IOC_BUDGET_DEFAULT_SET / _GET).
 *
 * invalid: every invalid argument is rejected with its errno and changes
 *	nothing (the slot read back is the one set before).
 * access: setting needs a file opened for writing (EBADF) and
 *	CAP_SYS_ADMIN (EPERM); reading needs neither.
 * by_comm: VMMs named differently get the budget of the first slot they
 *	match, exactly as the slot holds it (GET, the BUDGET_SET event with
 *	the slot, the slot's match count), and it is enforced: a CPUID
 *	storm holds to the rule's rate. Emptying the slot leaves the VM its
 *	budget; the next VM of that name gets the next matching slot's.
 * by_cgroup: a slot matching a cgroup v2 subtree gives its budget to a
 *	VMM in the cgroup and in a child cgroup, and none to a VMM outside.
 * unload_forgets: unloading the module with rules set (one holding a
 *	cgroup) is clean, and the reloaded module has no rules.
 * cli: kvmwarden budget default set|show|clear, the real CLI against
 *	the module: what it sets is in the slot, a VMM it matches gets it,
 *	show --json counts the match, clear empties the slot, a bad slot
 *	changes nothing.
 *
 * Every VMM is a child process (so it has its own name and cgroup)
 * running a CPUID storm on one vCPU until it is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "cli_run.h"
#include "kvmw_util.h"
#include <kvmwarden/categories.h>

#define NSEC		1000000000ULL
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_DIR		CG_ROOT "/kvmw-bd"
#define CG_SUB		CG_DIR "/sub"
/* Longest a new VM may wait for its default budget. */
#define APPLY_NS	(2 * NSEC)

static int dflt_set(int fd, uint32_t slot, const char *comm, int cgroup_fd,
		    struct kvmw_budget *b)
{
	struct kvmw_budget_default d = {
		.size = sizeof(d),
		.slot = slot,
		.cgroup_fd = cgroup_fd,
		.budget_ptr = (uintptr_t)b,
	};

	b->size = sizeof(*b);
	strncpy(d.comm, comm, sizeof(d.comm) - 1);
	return ioctl(fd, KVMW_IOC_BUDGET_DEFAULT_SET, &d) ? -errno : 0;
}

static int dflt_clear(int fd, uint32_t slot)
{
	struct kvmw_budget b = {};

	return dflt_set(fd, slot, "", -1, &b);
}

static int dflt_get(int fd, uint32_t slot, struct kvmw_budget_default *d,
		    struct kvmw_budget *b)
{
	memset(d, 0, sizeof(*d));
	memset(b, 0, sizeof(*b));
	d->size = sizeof(*d);
	d->slot = slot;
	d->budget_ptr = (uintptr_t)b;
	b->size = sizeof(*b);
	return ioctl(fd, KVMW_IOC_BUDGET_DEFAULT_GET, d) ? -errno : 0;
}

static void budget_one(struct kvmw_budget *b, uint32_t mode, uint64_t cats,
		       uint64_t rate, uint64_t burst)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->nr_buckets = 1;
	b->buckets[0].categories = cats;
	b->buckets[0].rate = rate;
	b->buckets[0].burst = burst;
}

/*
 * A VMM named @comm, in cgroup directory @cg (NULL: where we are), with
 * one vCPU storming CPUID until SIGKILL.
 */
static pid_t vmm_start(const char *comm, const char *cg)
{
	struct vm_opts opts = {};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	pid_t pid;

	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prctl(PR_SET_NAME, comm))
		_exit(10);
	if (cg) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(11);
		close(fd);
	}
	vm = vm_create(&opts);
	if (!vm)
		_exit(12);
	vcpu = vcpu_add(vm);
	if (!vcpu || vcpu_load_prog(vcpu, GUEST_PROG_CPUID_SPIN, 50) ||
	    vcpu_start(vcpu))
		_exit(13);
	for (;;)
		pause();
}

static void vmm_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The module's id of @pid's VM, once it has run (30 s at most). */
static int vmm_vm_id(pid_t pid, uint64_t *id)
{
	uint64_t t0 = util_now_ns();
	struct kvmw_source src;
	int ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	do {
		const struct kvmw_vm *vm;
		struct kvmw_snapshot s;

		ret = kvmw_take_vmm(&src, pid, NULL, 0, &s, &vm);
		if (!ret)
			*id = vm->vm_id;
		kvmw_snapshot_free(&s);
		if (!ret || waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(10000);
	} while (util_now_ns() - t0 < 30 * NSEC);
	kvmw_source_close(&src);
	return ret;
}

/* @id's budget once it has one (mode OFF after APPLY_NS without). */
static int budget_wait(int fd, uint64_t id, struct kvmw_budget *b)
{
	uint64_t t0 = util_now_ns();
	int ret;

	do {
		ret = util_budget_get(fd, id, b);
		if (ret || b->mode != KVMW_BUDGET_OFF)
			return ret;
		usleep(5000);
	} while (util_now_ns() - t0 < APPLY_NS);
	return 0;
}

/* The value of vCPU statistic @name of @vcpu in @snap. */
static int vcpu_stat(const struct kvmw_snapshot *snap,
		     const struct kvmw_vcpu *vcpu, const char *name,
		     uint64_t *val)
{
	size_t i;

	if (!vcpu->values)
		return -ENODATA;
	for (i = 0; i < snap->raw.nr; i++) {
		const struct kvmw_stat_info *in = &snap->raw.infos[i];

		if (in->scope == KVMW_REC_VCPU && !strcmp(in->name, name)) {
			*val = vcpu->values[in->offset];
			return 0;
		}
	}
	return -ENOENT;
}

/* CPUID exits of @pid's vCPU 0 counted by kvmwarden, and its parks. */
static int vmm_cpuids(pid_t pid, uint64_t *n, uint64_t *parks)
{
	uint32_t code = exit_reason_code(kvm_host_vendor(), EXIT_KIND_CPUID);
	const struct kvmw_vm *vm;
	struct kvmw_snapshot s;
	struct kvmw_source src;
	int ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	ret = kvmw_take_vmm(&src, pid, NULL, 0, &s, &vm);
	if (!ret && vm->nr_vcpus_detail != 1)
		ret = -ESRCH;
	if (!ret) {
		*n = kvmw_vcpu_count(vm, vm->vcpus[0].vcpu_id, code);
		ret = vcpu_stat(&s, &vm->vcpus[0], "budget_parks", parks);
	}
	kvmw_snapshot_free(&s);
	kvmw_source_close(&src);
	return ret;
}

/* The BUDGET_SET events readable on @fd, in order; @max at most. */
static int set_events(int fd, struct kvmw_event *ev, int max)
{
	struct kvmw_event buf[64];
	int n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		int i;

		for (i = 0; i < r / (ssize_t)sizeof(buf[0]); i++)
			if (buf[i].type == KVMW_EVENT_BUDGET_SET && n < max)
				ev[n++] = buf[i];
	}
	return n;
}

/* The one event of VM @id among @ev, or NULL if it has none or several. */
static const struct kvmw_event *event_of(const struct kvmw_event *ev, int n,
					 uint64_t id)
{
	const struct kvmw_event *found = NULL;
	int i;

	for (i = 0; i < n; i++) {
		if (ev[i].vm_id != id)
			continue;
		if (found)
			return NULL;
		found = &ev[i];
	}
	return found;
}

FIXTURE(bd) {
	int dev;
	pid_t vmm[3];
	char why[128];
};

FIXTURE_SETUP(bd)
{
	memset(self->vmm, 0, sizeof(self->vmm));
	self->dev = kvmw_test_open(KVMW_FEAT_BUDGET_DEFAULT |
				   KVMW_FEAT_EXIT_COUNTS,
				   "default budgets", self->why,
				   sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(bd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->vmm); i++)
		vmm_stop(self->vmm[i]);
	if (self->dev < 0)
		return;
	/* The other tests' VMs must not get these budgets. */
	for (i = 0; i < KVMW_BUDGET_MAX_DEFAULTS; i++)
		dflt_clear(self->dev, i);
	close(self->dev);
}

/* Slot @slot as read back equals @want with match @comm. */
static void expect_slot(struct __test_metadata *_metadata, int fd,
			uint32_t slot, const struct kvmw_budget *want,
			const char *comm, const char *what)
{
	struct kvmw_budget_default d;
	struct kvmw_budget b;

	ASSERT_EQ(0, dflt_get(fd, slot, &d, &b)) TH_LOG("%s", what);
	EXPECT_EQ(want->mode, b.mode) TH_LOG("%s", what);
	EXPECT_EQ(want->nr_buckets, b.nr_buckets) TH_LOG("%s", what);
	EXPECT_EQ(want->max_park_ns, b.max_park_ns) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(want->buckets, b.buckets, sizeof(b.buckets)))
		TH_LOG("%s", what);
	EXPECT_STREQ(comm, d.comm) TH_LOG("%s", what);
	EXPECT_EQ(0, d.cgroup_id) TH_LOG("%s", what);
	EXPECT_EQ(0, d.matched) TH_LOG("%s", what);
}

TEST_F(bd, invalid)
{
	struct kvmw_budget good, b;
	struct kvmw_budget_default d;
	int i, file, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	budget_one(&good, KVMW_BUDGET_THROTTLE, 0, 5000, 100);
	good.max_park_ns = 20000000;
	ASSERT_EQ(0, dflt_set(self->dev, 3, "kvmw-keep", -1, &good));
	file = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file);

	for (i = 0; i < 16; i++) {
		int want = -EINVAL;

		memset(&d, 0, sizeof(d));
		d.size = sizeof(d);
		d.slot = 3;
		d.cgroup_fd = -1;
		d.budget_ptr = (uintptr_t)&b;
		strcpy(d.comm, "kvmw-bad");
		b = good;
		b.size = sizeof(b);
		switch (i) {
		case 0: d.slot = KVMW_BUDGET_MAX_DEFAULTS; break;
		case 1: d.flags = 1; break;
		case 2: d.cgroup_id = 1; break;
		case 3: d.matched = 1; break;
		case 4: d.cgroup_fd = -2; break;
		case 5: memset(d.comm, 'a', sizeof(d.comm)); break;
		case 6: d.comm[12] = 'x'; break;	/* after the NUL */
		case 7: d.budget_ptr = 0; want = -EFAULT; break;
		case 8: b.size = 8; break;
		case 9: b.vm_id = 1; break;
		case 10: b.buckets[0].rate = 0; break;
		case 11: b.mode = 7; break;
		case 12: b.rule = 1; break;
		/* An empty slot with a match: a mistake, not a rule. */
		case 13: memset(&b, 0, sizeof(b)); b.size = sizeof(b); break;
		case 14: d.cgroup_fd = file; want = -EBADF; break;
		case 15: d.size = 8; break;
		}
		ret = ioctl(self->dev, KVMW_IOC_BUDGET_DEFAULT_SET, &d) ?
		      -errno : 0;
		EXPECT_EQ(want, ret) TH_LOG("case %d", i);
		expect_slot(_metadata, self->dev, 3, &good, "kvmw-keep",
			    "after a bad SET");
	}

	/* GET: nothing but the size, the slot and the pointer goes in. */
	for (i = 0; i < 6; i++) {
		memset(&d, 0, sizeof(d));
		memset(&b, 0, sizeof(b));
		d.size = sizeof(d);
		d.slot = 3;
		d.budget_ptr = (uintptr_t)&b;
		b.size = sizeof(b);
		switch (i) {
		case 0: d.slot = KVMW_BUDGET_MAX_DEFAULTS; break;
		case 1: d.cgroup_fd = -1; break;
		case 2: d.comm[0] = 'q'; break;
		case 3: b.mode = KVMW_BUDGET_AUDIT; break;
		case 4: d.flags = 2; break;
		case 5: b.size = 4; break;
		}
		EXPECT_EQ(-EINVAL,
			  ioctl(self->dev, KVMW_IOC_BUDGET_DEFAULT_GET, &d) ?
			  -errno : 0) TH_LOG("GET case %d", i);
	}
	/* A shorter, older budget struct is read back truncated. */
	memset(&d, 0, sizeof(d));
	memset(&b, 0xa5, sizeof(b));
	memset(&b, 0, KVMW_BUDGET_SIZE_VER0);
	d.size = sizeof(d);
	d.slot = 3;
	d.budget_ptr = (uintptr_t)&b;
	b.size = KVMW_BUDGET_SIZE_VER0;
	ASSERT_EQ(0, ioctl(self->dev, KVMW_IOC_BUDGET_DEFAULT_GET, &d));
	EXPECT_EQ(KVMW_BUDGET_THROTTLE, b.mode);
	EXPECT_EQ(5000, b.buckets[0].rate);
	/* Every other slot is empty. */
	for (i = 0; i < KVMW_BUDGET_MAX_DEFAULTS; i++) {
		if (i == 3)
			continue;
		ASSERT_EQ(0, dflt_get(self->dev, i, &d, &b));
		EXPECT_EQ(KVMW_BUDGET_OFF, b.mode) TH_LOG("slot %d", i);
	}
	close(file);
}

TEST_F(bd, access)
{
	struct kvmw_budget b, good;
	struct kvmw_budget_default d;
	int ro, status;
	pid_t pid;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	budget_one(&good, KVMW_BUDGET_AUDIT, 0, 1000, 10);
	ASSERT_EQ(0, dflt_set(self->dev, 0, "", -1, &good));
	ro = open(KVMW_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	budget_one(&b, KVMW_BUDGET_THROTTLE, 0, 1000, 10);
	EXPECT_EQ(-EBADF, dflt_set(ro, 0, "", -1, &b));
	EXPECT_EQ(0, dflt_get(ro, 0, &d, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	close(ro);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresuid(65534, 65534, 65534))
			_exit(10);
		budget_one(&b, KVMW_BUDGET_THROTTLE, 0, 1000, 10);
		if (dflt_set(self->dev, 0, "", -1, &b) != -EPERM)
			_exit(11);
		if (dflt_get(self->dev, 0, &d, &b) ||
		    b.mode != KVMW_BUDGET_AUDIT)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	expect_slot(_metadata, self->dev, 0, &good, "", "after EPERM");
}

TEST_F(bd, by_comm)
{
	struct kvmw_budget rule_a, any, b;
	struct kvmw_budget_default d;
	const struct kvmw_event *e;
	struct kvmw_event ev[64];
	uint64_t id_a, id_b, id_c, n0, n1, p0, p1, t0, t1;
	double rate;
	int evfd, n;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	budget_one(&rule_a, KVMW_BUDGET_THROTTLE, 1ULL << KVMW_CAT_CPUID,
		   200, 20);
	rule_a.guard_pct = 100;		/* parked most of the time: no guard */
	budget_one(&any, KVMW_BUDGET_AUDIT, 0, 1000000, 1000);
	ASSERT_EQ(0, dflt_set(self->dev, 2, "kvmw-bd-a", -1, &rule_a));
	ASSERT_EQ(0, dflt_set(self->dev, 5, "", -1, &any));
	evfd = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, evfd);

	self->vmm[0] = vmm_start("kvmw-bd-a", NULL);
	self->vmm[1] = vmm_start("kvmw-bd-b", NULL);
	ASSERT_LT(0, self->vmm[0]);
	ASSERT_LT(0, self->vmm[1]);
	ASSERT_EQ(0, vmm_vm_id(self->vmm[0], &id_a));
	ASSERT_EQ(0, vmm_vm_id(self->vmm[1], &id_b));

	ASSERT_EQ(0, budget_wait(self->dev, id_a, &b));
	EXPECT_EQ(KVMW_BUDGET_THROTTLE, b.mode);
	EXPECT_EQ(3, b.rule);
	EXPECT_EQ(1, b.nr_buckets);
	EXPECT_EQ(1ULL << KVMW_CAT_CPUID, b.buckets[0].categories);
	EXPECT_EQ(200, b.buckets[0].rate);
	EXPECT_EQ(20, b.buckets[0].burst);
	EXPECT_EQ(100, b.guard_pct);
	ASSERT_EQ(0, budget_wait(self->dev, id_b, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(6, b.rule);
	EXPECT_EQ(1000000, b.buckets[0].rate);

	n = set_events(evfd, ev, ARRAY_SIZE(ev));
	e = event_of(ev, n, id_a);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(3, e->budget.rule);
	EXPECT_EQ(200, e->budget.rate);
	EXPECT_EQ(KVMW_BUDGET_THROTTLE, e->budget.mode);
	e = event_of(ev, n, id_b);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(6, e->budget.rule);
	ASSERT_EQ(0, dflt_get(self->dev, 2, &d, &b));
	EXPECT_EQ(1, d.matched);
	EXPECT_STREQ("kvmw-bd-a", d.comm);
	ASSERT_EQ(0, dflt_get(self->dev, 5, &d, &b));
	EXPECT_EQ(1, d.matched);

	/*
	 * Enforced: once A's storm runs (its first 100 CPUIDs), it holds to
	 * 200/s (burst 20) and parks. budget.throttle_rate checks the rate
	 * to 5%; here the guest's setup may still be in the window.
	 */
	t0 = util_now_ns();
	do {
		ASSERT_EQ(0, vmm_cpuids(self->vmm[0], &n0, &p0));
		ASSERT_GT(t0 + 30 * NSEC, util_now_ns()) TH_LOG("A does not run");
		usleep(10000);
	} while (n0 < 100);
	t0 = util_now_ns();
	usleep(1000000);
	ASSERT_EQ(0, vmm_cpuids(self->vmm[0], &n1, &p1));
	t1 = util_now_ns();
	rate = (double)(n1 - n0) * NSEC / (t1 - t0);
	TH_LOG("CPUID exits/s under the default budget of 200/s: %.1f, %llu parks",
	       rate, (unsigned long long)(p1 - p0));
	EXPECT_LT(rate, 200 * 1.05 + 20);
	EXPECT_GT(rate, 100);
	EXPECT_LT(0, p1 - p0);

	/* Emptying a slot leaves the VMs their budget. */
	ASSERT_EQ(0, dflt_clear(self->dev, 2));
	ASSERT_EQ(0, util_budget_get(self->dev, id_a, &b));
	EXPECT_EQ(KVMW_BUDGET_THROTTLE, b.mode);
	EXPECT_EQ(3, b.rule);
	ASSERT_EQ(0, dflt_get(self->dev, 2, &d, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	EXPECT_EQ(0, d.matched);
	/* The next VMM of that name falls through to slot 5. */
	self->vmm[2] = vmm_start("kvmw-bd-a", NULL);
	ASSERT_LT(0, self->vmm[2]);
	ASSERT_EQ(0, vmm_vm_id(self->vmm[2], &id_c));
	ASSERT_EQ(0, budget_wait(self->dev, id_c, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(6, b.rule);
	ASSERT_EQ(0, dflt_get(self->dev, 5, &d, &b));
	EXPECT_EQ(2, d.matched);
	close(evfd);
}

/* Mount cgroup2 where it belongs, unless it is there. */
static int cgroup2_ready(void)
{
	if (!access(CG_ROOT "/cgroup.procs", F_OK))
		return 0;
	if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
		return -errno;
	return 0;
}

TEST_F(bd, by_cgroup)
{
	uint64_t id_in, id_sub, id_out;
	struct kvmw_budget_default d;
	struct kvmw_budget rule, b;
	struct stat st;
	int cg, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ret = cgroup2_ready();
	if (ret)
		SKIP(return, "no cgroup v2 (%s)", strerror(-ret));
	rmdir(CG_SUB);
	rmdir(CG_DIR);
	ASSERT_EQ(0, mkdir(CG_DIR, 0755));
	ASSERT_EQ(0, mkdir(CG_SUB, 0755));
	cg = open(CG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cg);
	ASSERT_EQ(0, fstat(cg, &st));

	budget_one(&rule, KVMW_BUDGET_AUDIT, 0, 12345, 678);
	ASSERT_EQ(0, dflt_set(self->dev, 0, "", cg, &rule));
	close(cg);
	ASSERT_EQ(0, dflt_get(self->dev, 0, &d, &b));
	EXPECT_EQ((uint64_t)st.st_ino, d.cgroup_id);
	EXPECT_STREQ("", d.comm);

	self->vmm[0] = vmm_start("kvmw-bd-in", CG_DIR);
	self->vmm[1] = vmm_start("kvmw-bd-sub", CG_SUB);
	self->vmm[2] = vmm_start("kvmw-bd-out", NULL);
	ASSERT_EQ(0, vmm_vm_id(self->vmm[0], &id_in));
	ASSERT_EQ(0, vmm_vm_id(self->vmm[1], &id_sub));
	ASSERT_EQ(0, vmm_vm_id(self->vmm[2], &id_out));
	ASSERT_EQ(0, budget_wait(self->dev, id_in, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(1, b.rule);
	EXPECT_EQ(12345, b.buckets[0].rate);
	EXPECT_EQ(678, b.buckets[0].burst);
	ASSERT_EQ(0, budget_wait(self->dev, id_sub, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(1, b.rule);
	/* Outside: waits the full APPLY_NS and finds none. */
	ASSERT_EQ(0, budget_wait(self->dev, id_out, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	ASSERT_EQ(0, dflt_get(self->dev, 0, &d, &b));
	EXPECT_EQ(2, d.matched);

	vmm_stop(self->vmm[0]);
	vmm_stop(self->vmm[1]);
	self->vmm[0] = self->vmm[1] = 0;
	EXPECT_EQ(0, rmdir(CG_SUB));
	EXPECT_EQ(0, rmdir(CG_DIR));
}

TEST_F(bd, unload_forgets)
{
	struct kvmw_budget_default d;
	struct kvmw_budget rule, b;
	uint64_t t0;
	int cg, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ret = cgroup2_ready();
	if (ret)
		SKIP(return, "no cgroup v2 (%s)", strerror(-ret));
	cg = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, cg);
	budget_one(&rule, KVMW_BUDGET_AUDIT, 0, 1000, 10);
	ASSERT_EQ(0, dflt_set(self->dev, 1, "", cg, &rule));
	ASSERT_EQ(0, dflt_set(self->dev, 7, "kvmw-x", -1, &rule));
	close(cg);
	close(self->dev);
	self->dev = -1;

	t0 = util_now_ns();
	ASSERT_EQ(0, module_unload("kvmwarden", 10000));
	TH_LOG("unload with rules set: %.1f ms", (util_now_ns() - t0) / 1e6);
	ASSERT_EQ(0, module_load(kvmw_module_path(), NULL));
	self->dev = kvmw_open();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, dflt_get(self->dev, 1, &d, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	EXPECT_EQ(0, d.cgroup_id);
	ASSERT_EQ(0, dflt_get(self->dev, 7, &d, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	EXPECT_STREQ("", d.comm);
}

TEST_F(bd, cli)
{
	struct kvmw_budget_default d;
	static struct cli_run c;
	struct kvmw_budget b;
	uint64_t id;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, cli_run(&c, 0, "budget", "default", "set", "4",
			     "--comm", "kvmw-bd-cli", "--mode", "audit", "-B",
			     "io,msr:3k:500", "--max-park", "20ms", NULL));
	ASSERT_EQ(0, c.status) TH_LOG("%s", c.err);
	ASSERT_EQ(0, dflt_get(self->dev, 4, &d, &b));
	EXPECT_STREQ("kvmw-bd-cli", d.comm);
	EXPECT_EQ(0, d.cgroup_id);
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(1, b.nr_buckets);
	EXPECT_EQ((1ULL << KVMW_CAT_IO) | (1ULL << KVMW_CAT_MSR),
		  b.buckets[0].categories);
	EXPECT_EQ(3000, b.buckets[0].rate);
	EXPECT_EQ(500, b.buckets[0].burst);
	EXPECT_EQ(20000000, b.max_park_ns);

	self->vmm[0] = vmm_start("kvmw-bd-cli", NULL);
	ASSERT_LT(0, self->vmm[0]);
	ASSERT_EQ(0, vmm_vm_id(self->vmm[0], &id));
	ASSERT_EQ(0, budget_wait(self->dev, id, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(5, b.rule);
	EXPECT_EQ(3000, b.buckets[0].rate);

	ASSERT_EQ(0, cli_run(&c, 0, "budget", "default", "show", "4",
			     "--json", NULL));
	ASSERT_EQ(0, c.status) TH_LOG("%s", c.err);
	EXPECT_NE(NULL, strstr(c.out, "\"comm\": \"kvmw-bd-cli\""))
		TH_LOG("%s", c.out);
	EXPECT_NE(NULL, strstr(c.out, "\"matched\": 1")) TH_LOG("%s", c.out);
	EXPECT_NE(NULL, strstr(c.out, "\"rate\": 3000")) TH_LOG("%s", c.out);
	ASSERT_EQ(0, cli_run(&c, 0, "budget", "show", "--json", NULL));
	ASSERT_EQ(0, c.status) TH_LOG("%s", c.err);
	EXPECT_NE(NULL, strstr(c.out, "\"default_rule\": 4"))
		TH_LOG("%s", c.out);

	ASSERT_EQ(0, cli_run(&c, 0, "budget", "default", "set", "4", "--rate",
			     "0", NULL));
	EXPECT_EQ(2, c.status) TH_LOG("%s", c.err);
	ASSERT_EQ(0, cli_run(&c, 0, "budget", "default", "clear", "8", NULL));
	EXPECT_EQ(2, c.status) TH_LOG("%s", c.err);
	ASSERT_EQ(0, dflt_get(self->dev, 4, &d, &b));
	EXPECT_EQ(3000, b.buckets[0].rate);
	EXPECT_EQ(1, d.matched);

	ASSERT_EQ(0, cli_run(&c, 0, "budget", "default", "clear", "4", NULL));
	ASSERT_EQ(0, c.status) TH_LOG("%s", c.err);
	ASSERT_EQ(0, dflt_get(self->dev, 4, &d, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	EXPECT_STREQ("", d.comm);
	/* The VM keeps what it got. */
	ASSERT_EQ(0, util_budget_get(self->dev, id, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
}

TEST_HARNESS_MAIN
