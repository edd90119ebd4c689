// SPDX-License-Identifier: GPL-2.0
/*
 * numa_place - NUMA placement of vCPU threads (KVMW_IOC_NUMA_SET/_GET).
 *
 * The test VM has two nodes of two CPUs. Each test runs a VM of two
 * vCPUs spinning on CPUID, returning to the VMM after every batch so that
 * the module's memory sampler (set to look at every page) keeps going.
 *
 * pin: "pin 1" gives every vCPU thread exactly node 1's CPUs before the
 *	ioctl returns (sched_getaffinity()), and from then on the module's
 *	own scheduler view counts run time on node 1 only; clearing gives
 *	back the exact masks from before, with one MOVE event per thread
 *	each way.
 * intersect: masks the VMM set beforehand are narrowed, never widened,
 *	and come back exactly.
 * impossible: a thread confined to node 0 makes "pin 1" fail with EINVAL
 *	and nothing changes.
 * conflict: a mask changed by someone else after the pin is reported once
 *	(event and counter), left alone, and left alone by the clear.
 * access, args: EBADF on a read-only file, EPERM without CAP_SYS_ADMIN,
 *	EINVAL for bad nodes, flags, sizes, parameters; EOPNOTSUPP for the
 *	VMM's other threads; ENOENT for an unknown VM.
 * follow: the memory is bound to node 1 while the vCPUs run on node 0:
 *	one follow move to node 1 after exactly @passes passes, timed from
 *	the SET to the last thread's MOVE event; then the memory is migrated
 *	back to node 0: exactly one move back, not before the dwell time.
 * follow_rate: with numa_max_moves_per_min at 1 and a move just made, a
 *	due move is held back by the rate limit.
 * follow_split: memory interleaved over both nodes: no move at all over
 *	a dozen passes, every one of them held back by the hysteresis, the
 *	vCPUs kept on the node they were on.
 * unload: unloading the module while the vCPUs spin gives every thread
 *	its mask from before the pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "cli_run.h"
#include "kvmw_util.h"

#define PARAM_DIR	"/sys/module/kvmwarden/parameters/"
#define SPIN_BATCH	50
#define NR_SPIN		2
#define VM_MEM		(16UL << 20)
/* The part of guest memory the VMM touches: the guest never uses it. */
#define TOUCH_OFF	(8UL << 20)
#define TOUCH_SIZE	(1UL << 20)
#define UNLOAD_MS	20000

#define FOLLOW_INTERVAL_MS	100
#define FOLLOW_PASSES		3
#define FOLLOW_DWELL_MS		3000

struct param_save {
	const char *name;
	const char *val;
	char old[32];
};

static struct param_save mem_params[] = {
	{ .name = "sample_interval_ms", .val = "1" },
	{ .name = "mem_batch", .val = "64" },
	{ .name = "mem_samples", .val = "1000000" },
	{ .name = "numa_max_moves_per_min", .val = "1000" },
};

/* The @nth online CPU of @node, -1 if none. */
static int node_cpu(int node, int nth)
{
	int cpu, ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char path[96];

	for (cpu = 0; cpu < ncpus; cpu++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
		if (!access(path, F_OK) && nth-- == 0)
			return cpu;
	}
	return -1;
}

static void node_set_cpus(int node, cpu_set_t *set)
{
	int i, cpu;

	for (i = 0; (cpu = node_cpu(node, i)) >= 0; i++)
		CPU_SET(cpu, set);
}

static int get_mask(pid_t tid, cpu_set_t *set)
{
	CPU_ZERO(set);
	return sched_getaffinity(tid, sizeof(*set), set) ? -errno : 0;
}

static int set_mask(pid_t tid, const cpu_set_t *set)
{
	return sched_setaffinity(tid, sizeof(*set), set) ? -errno : 0;
}

static int numa_ioctl(int fd, unsigned long cmd, struct kvmw_numa_policy *p)
{
	return ioctl(fd, cmd, p) ? -errno : 0;
}

static int numa_get(int fd, uint64_t vm_id, struct kvmw_numa_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->vm_id = vm_id;
	return numa_ioctl(fd, KVMW_IOC_NUMA_GET, p);
}

static void numa_req(struct kvmw_numa_policy *p, uint64_t vm_id,
		     uint32_t policy, uint64_t nodes)
{
	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->vm_id = vm_id;
	p->policy = policy;
	p->nodes = nodes;
}

static int numa_set(int fd, uint64_t vm_id, uint32_t policy, uint64_t nodes)
{
	struct kvmw_numa_policy p;

	numa_req(&p, vm_id, policy, nodes);
	return numa_ioctl(fd, KVMW_IOC_NUMA_SET, &p);
}

static int set_follow(int fd, uint64_t vm_id)
{
	struct kvmw_numa_policy p;

	numa_req(&p, vm_id, KVMW_NUMA_FOLLOW, 0);
	p.interval_ms = FOLLOW_INTERVAL_MS;
	p.passes = FOLLOW_PASSES;
	p.dwell_ms = FOLLOW_DWELL_MS;
	return numa_ioctl(fd, KVMW_IOC_NUMA_SET, &p);
}

/* The NUMA events of @vm_id waiting on @efd, appended to @ev. */
static int read_events(int efd, uint64_t vm_id, struct kvmw_event *ev,
		       int max, int n)
{
	struct kvmw_event e;

	while (read(efd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		if (e.vm_id != vm_id || e.type < KVMW_EVENT_NUMA_MOVE ||
		    e.type > KVMW_EVENT_NUMA_CLEAR)
			continue;
		if (n < max)
			ev[n++] = e;
	}
	return n;
}

static int count_events(const struct kvmw_event *ev, int n, uint16_t type,
			uint32_t cause)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		if (ev[i].type == type && ev[i].numa.cause == cause)
			c++;
	return c;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

FIXTURE(numa) {
	struct kvmw_source src;
	bool src_open;
	int dev;
	int efd;
	struct kvm_vm *vm;
	uint64_t vm_id;
	bool params_set;
	cpu_set_t node0, node1, all;
	char why[160];
};

static void params_apply(struct __test_metadata *_metadata,
			 FIXTURE_DATA(numa) *self)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mem_params); i++) {
		snprintf(path, sizeof(path), PARAM_DIR "%s",
			 mem_params[i].name);
		ASSERT_EQ(0, sysctl_write(path, mem_params[i].val,
					  mem_params[i].old,
					  sizeof(mem_params[i].old)));
	}
	self->params_set = true;
}

FIXTURE_SETUP(numa)
{
	int ret;

	self->vm = NULL;
	self->dev = -1;
	self->efd = -1;
	ret = kvmw_test_src(&self->src, KVMW_FEAT_NUMA_PLACE,
			    "NUMA placement", self->why, sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_EQ(0, ret);
	self->src_open = true;
	if (node_cpu(0, 0) < 0 || node_cpu(1, 1) < 0) {
		snprintf(self->why, sizeof(self->why),
			 "needs CPUs on nodes 0 and 1");
		return;
	}
	CPU_ZERO(&self->node0);
	CPU_ZERO(&self->node1);
	node_set_cpus(0, &self->node0);
	node_set_cpus(1, &self->node1);
	CPU_OR(&self->all, &self->node0, &self->node1);
	self->dev = kvmw_open();
	ASSERT_LE(0, self->dev);
	self->efd = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->efd);
	params_apply(_metadata, self);
}

static void vm_stop(struct kvm_vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_spin_stop(vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->started)
			vcpu_join(vm->vcpus[i]);
	vm_destroy(vm);
}

FIXTURE_TEARDOWN(numa)
{
	char path[128];
	unsigned int i;

	if (self->vm)
		vm_stop(self->vm);
	syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	for (i = 0; self->params_set && i < ARRAY_SIZE(mem_params); i++) {
		snprintf(path, sizeof(path), PARAM_DIR "%s",
			 mem_params[i].name);
		sysctl_write(path, mem_params[i].old, NULL, 0);
	}
	if (self->efd >= 0)
		close(self->efd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->src_open)
		kvmw_source_close(&self->src);
}

/*
 * The VM: guest memory placed by the main thread's policy (@mode over
 * @nodes, or as it is for 0), its vCPUs spinning, every vCPU known to
 * kvmwarden. @masks: each vCPU thread's affinity set first, or NULL.
 */
static void vm_start(struct __test_metadata *_metadata,
		     FIXTURE_DATA(numa) *self, int mode, unsigned long nodes,
		     const cpu_set_t *masks)
{
	struct kvmw_snapshot snap;
	const struct kvmw_vm *v = NULL;
	int i, tries;

	if (mode)
		ASSERT_EQ(0, syscall(SYS_set_mempolicy, mode, &nodes,
				     sizeof(nodes) * 8))
			TH_LOG("set_mempolicy: %s", strerror(errno));
	self->vm = vm_create(&(struct vm_opts){ .mem_size = VM_MEM });
	ASSERT_NE(NULL, self->vm);
	memset((char *)self->vm->mem + TOUCH_OFF, 0, TOUCH_SIZE);
	for (i = 0; i < NR_SPIN; i++) {
		struct kvm_vcpu *vcpu = vcpu_add(self->vm);

		ASSERT_NE(NULL, vcpu);
		ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_CPUID_SPIN,
					    SPIN_BATCH));
		ASSERT_EQ(0, vcpu_start(vcpu));
	}
	for (i = 0; i < NR_SPIN; i++) {
		for (tries = 0; tries < 1000 &&
		     vcpu_spin_batches(self->vm->vcpus[i]) < 2; tries++)
			util_sleep_ms(5);
		ASSERT_LE(2ULL, vcpu_spin_batches(self->vm->vcpus[i]));
		if (masks)
			ASSERT_EQ(0, set_mask(self->vm->vcpus[i]->tid,
					      &masks[i]));
	}
	for (tries = 0; tries < 200; tries++) {
		if (!kvmw_take_kvm_vm(&self->src, self->vm, &snap, &v) &&
		    v->nr_vcpus == NR_SPIN)
			break;
		kvmw_snapshot_free(&snap);
		v = NULL;
		util_sleep_ms(10);
	}
	ASSERT_NE(NULL, v);
	self->vm_id = v->vm_id;
	kvmw_snapshot_free(&snap);
}

static void expect_masks(struct __test_metadata *_metadata, struct kvm_vm *vm,
			 const cpu_set_t *want)
{
	cpu_set_t got;
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		ASSERT_EQ(0, get_mask(vm->vcpus[i]->tid, &got));
		EXPECT_TRUE(CPU_EQUAL(&got, &want[i]))
			TH_LOG("vCPU %d: %d CPUs, want %d", i, CPU_COUNT(&got),
			       CPU_COUNT(&want[i]));
	}
}

/* Run time of each vCPU on each of nodes 0 and 1, now. */
static void run_nodes(struct __test_metadata *_metadata,
		      FIXTURE_DATA(numa) *self, uint64_t run[][2])
{
	struct kvmw_snapshot snap;
	const struct kvmw_vcpu *v;
	int i;

	for (i = 0; i < self->vm->nr_vcpus; i++) {
		ASSERT_EQ(0, kvmw_take_vcpu(&self->src, self->vm->vcpus[i],
					    &snap, &v));
		ASSERT_LE(2U, snap.host.nr_nodes);
		run[i][0] = v->u.sched.run_node_ns[0];
		run[i][1] = v->u.sched.run_node_ns[1];
		kvmw_snapshot_free(&snap);
	}
}

TEST_F_TIMEOUT(numa, pin, 120)
{
	struct kvmw_event ev[32];
	cpu_set_t before[NR_SPIN], want[NR_SPIN];
	uint64_t a[NR_SPIN][2], b[NR_SPIN][2];
	struct kvmw_numa_policy p;
	int i, n;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, 0, 0, NULL);
	for (i = 0; i < NR_SPIN; i++) {
		ASSERT_EQ(0, get_mask(self->vm->vcpus[i]->tid, &before[i]));
		want[i] = self->node1;
	}
	n = read_events(self->efd, self->vm_id, ev, 32, 0);
	EXPECT_EQ(0, n);

	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	/* In force on every thread when the ioctl returns. */
	expect_masks(_metadata, self->vm, want);
	run_nodes(_metadata, self, a);
	util_sleep_ms(1000);
	run_nodes(_metadata, self, b);
	for (i = 0; i < NR_SPIN; i++) {
		TH_LOG("vCPU %d after pin 1: node 0 %llu ns, node 1 %llu ns",
		       i, (unsigned long long)(b[i][0] - a[i][0]),
		       (unsigned long long)(b[i][1] - a[i][1]));
		EXPECT_EQ(a[i][0], b[i][0]);
		EXPECT_LT(a[i][1] + 100000000ULL, b[i][1]);
	}
	expect_masks(_metadata, self->vm, want);

	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_PIN, p.policy);
	EXPECT_EQ(2ULL, p.nodes);
	EXPECT_EQ(1U, p.cur_node);
	EXPECT_EQ(1ULL, p.moves);
	EXPECT_EQ((__u32)NR_SPIN, p.nr_threads);
	EXPECT_EQ((__u32)NR_SPIN, p.nr_placed);
	EXPECT_EQ(2ULL, p.ran_nodes);
	EXPECT_EQ(0ULL, p.suppressed_conflict);
	EXPECT_LT(0ULL, p.last_move_ns);
	EXPECT_EQ(1000U, p.max_moves_per_min);
	TH_LOG("numa_balancing as the module reads it: %u", p.numa_balancing);

	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE, 0));
	expect_masks(_metadata, self->vm, before);
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_NONE, p.policy);
	EXPECT_EQ(1ULL, p.moves);
	EXPECT_EQ(0U, p.nr_threads);

	n = read_events(self->efd, self->vm_id, ev, 32, 0);
	EXPECT_EQ(1, count_events(ev, n, KVMW_EVENT_NUMA_SET,
				  KVMW_NUMA_CAUSE_SET));
	EXPECT_EQ(NR_SPIN, count_events(ev, n, KVMW_EVENT_NUMA_MOVE,
					KVMW_NUMA_CAUSE_SET));
	EXPECT_EQ(NR_SPIN, count_events(ev, n, KVMW_EVENT_NUMA_MOVE,
					KVMW_NUMA_CAUSE_CLEAR));
	EXPECT_EQ(1, count_events(ev, n, KVMW_EVENT_NUMA_CLEAR,
				  KVMW_NUMA_CAUSE_CLEAR));
	EXPECT_EQ(2 * NR_SPIN + 2, n);
	for (i = 0; i < n; i++)
		if (ev[i].type == KVMW_EVENT_NUMA_MOVE &&
		    ev[i].numa.cause == KVMW_NUMA_CAUSE_SET) {
			EXPECT_EQ(1U, ev[i].numa.to_node);
			EXPECT_EQ(ev[i].tid, ev[i].numa.tid);
			EXPECT_NE(0U, ev[i].tid);
		}
}

TEST_F_TIMEOUT(numa, intersect, 120)
{
	int c0 = node_cpu(0, 0), c10 = node_cpu(1, 0), c11 = node_cpu(1, 1);
	cpu_set_t before[NR_SPIN], want[NR_SPIN];

	if (self->why[0])
		SKIP(return, "%s", self->why);
	/* vCPU 0 on one CPU of each node, vCPU 1 on node 1's two. */
	CPU_ZERO(&before[0]);
	CPU_SET(c0, &before[0]);
	CPU_SET(c10, &before[0]);
	before[1] = self->node1;
	CPU_ZERO(&want[0]);
	CPU_SET(c10, &want[0]);
	CPU_ZERO(&want[1]);
	CPU_SET(c10, &want[1]);
	CPU_SET(c11, &want[1]);
	vm_start(_metadata, self, 0, 0, before);
	expect_masks(_metadata, self->vm, before);

	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	expect_masks(_metadata, self->vm, want);
	/* A pin of both nodes narrows nothing. */
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 3));
	expect_masks(_metadata, self->vm, before);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	expect_masks(_metadata, self->vm, want);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE, 0));
	expect_masks(_metadata, self->vm, before);
}

TEST_F_TIMEOUT(numa, impossible, 120)
{
	cpu_set_t before[NR_SPIN];
	struct kvmw_numa_policy p;
	struct kvmw_event ev[8];

	if (self->why[0])
		SKIP(return, "%s", self->why);
	before[0] = self->node0;
	before[1] = self->all;
	vm_start(_metadata, self, 0, 0, before);
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN,
				    1 << 1));
	expect_masks(_metadata, self->vm, before);
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_NONE, p.policy);
	EXPECT_EQ(0ULL, p.moves);
	EXPECT_EQ(0U, p.nr_threads);
	EXPECT_EQ(0, read_events(self->efd, self->vm_id, ev, 8, 0));

	/* The same over a pin in force: the pin stays as it was. */
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 0));
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN,
				    1 << 1));
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_PIN, p.policy);
	EXPECT_EQ(1ULL, p.nodes);
	EXPECT_EQ(1ULL, p.moves);
	{
		cpu_set_t want[NR_SPIN] = { self->node0, self->node0 };

		expect_masks(_metadata, self->vm, want);
	}
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE, 0));
	expect_masks(_metadata, self->vm, before);
}

TEST_F_TIMEOUT(numa, conflict, 120)
{
	cpu_set_t before[NR_SPIN], want[NR_SPIN];
	struct kvmw_numa_policy p;
	struct kvmw_event ev[32];
	int n, tries;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, 0, 0, NULL);
	before[0] = self->all;
	before[1] = self->all;
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	/* Someone else moves vCPU 0's thread to node 0. */
	ASSERT_EQ(0, set_mask(self->vm->vcpus[0]->tid, &self->node0));
	for (tries = 0; tries < 100; tries++) {
		ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
		if (p.suppressed_conflict)
			break;
		util_sleep_ms(50);
	}
	EXPECT_EQ(1ULL, p.suppressed_conflict);
	EXPECT_EQ(1U, p.nr_placed);
	/* Several passes later: still one report, nothing forced. */
	util_sleep_ms(2500);
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(1ULL, p.suppressed_conflict);
	want[0] = self->node0;
	want[1] = self->node1;
	expect_masks(_metadata, self->vm, want);
	/* The clear leaves theirs alone and restores the other. */
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE, 0));
	want[1] = before[1];
	expect_masks(_metadata, self->vm, want);
	n = read_events(self->efd, self->vm_id, ev, 32, 0);
	EXPECT_EQ(1, count_events(ev, n, KVMW_EVENT_NUMA_CONFLICT,
				  KVMW_NUMA_CAUSE_AFFINITY));
	EXPECT_EQ(1, count_events(ev, n, KVMW_EVENT_NUMA_MOVE,
				  KVMW_NUMA_CAUSE_CLEAR));
}

TEST_F_TIMEOUT(numa, access, 120)
{
	struct kvmw_numa_policy p;
	int ro, status;
	pid_t pid;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, 0, 0, NULL);
	ro = open(KVMW_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, numa_set(ro, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	EXPECT_EQ(0, numa_get(ro, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_NONE, p.policy);
	close(ro);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresuid(65534, 65534, 65534))
			_exit(10);
		if (numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1) !=
		    -EPERM)
			_exit(11);
		if (numa_get(self->dev, self->vm_id, &p) ||
		    p.policy != KVMW_NUMA_NONE)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_NONE, p.policy);
	EXPECT_EQ(0U, p.nr_threads);
}

TEST_F_TIMEOUT(numa, args, 120)
{
	struct kvmw_numa_policy p;
	uint64_t words[2] = { 0, 0 };
	cpu_set_t all[NR_SPIN];
	char big[sizeof(p) + 8];

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, 0, 0, NULL);
	all[0] = self->all;
	all[1] = self->all;

	/* No node, a node past the host's, a node word past it. */
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 0));
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN,
				    1 << 2));
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN,
				    1ULL << 63));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	words[1] = 1;
	p.nodes_ptr = (uintptr_t)words;
	p.nr_node_words = 2;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	/* Zero words past the first are fine. */
	words[1] = 0;
	EXPECT_EQ(0, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	EXPECT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE, 0));
	/* Nodes with another policy, follow parameters with a pin. */
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_FOLLOW,
				    1 << 1));
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, KVMW_NUMA_NONE,
				    1 << 1));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	p.passes = 2;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	/* Out of range follow parameters. */
	numa_req(&p, self->vm_id, KVMW_NUMA_FOLLOW, 0);
	p.threshold_pct = 101;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	numa_req(&p, self->vm_id, KVMW_NUMA_FOLLOW, 0);
	p.interval_ms = KVMW_NUMA_MIN_INTERVAL_MS - 1;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	/* Unknown policy, flags, reserved; too small, too large a size. */
	EXPECT_EQ(-EINVAL, numa_set(self->dev, self->vm_id, 3, 0));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	p.flags = 1U << 2;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	p.reserved = 1;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	p.size = 8;
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	memset(big, 0, sizeof(big));
	p.size = sizeof(big);
	memcpy(big, &p, sizeof(p));
	big[sizeof(p) + 3] = 1;
	EXPECT_EQ(-E2BIG, ioctl(self->dev, KVMW_IOC_NUMA_SET, big) ? -errno : 0);
	/* The VMM's other threads are not placed by this module. */
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 1 << 1);
	p.flags = KVMW_NUMA_F_ALL_THREADS;
	EXPECT_EQ(-EOPNOTSUPP, numa_ioctl(self->dev, KVMW_IOC_NUMA_SET, &p));
	/* No such VM; a GET with input it does not take. */
	EXPECT_EQ(-ENOENT, numa_set(self->dev, self->vm_id + 1000000,
				    KVMW_NUMA_PIN, 1 << 1));
	numa_req(&p, self->vm_id, KVMW_NUMA_PIN, 0);
	EXPECT_EQ(-EINVAL, numa_ioctl(self->dev, KVMW_IOC_NUMA_GET, &p));
	/* Nothing of it changed anything. */
	expect_masks(_metadata, self->vm, all);
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	EXPECT_EQ(KVMW_NUMA_NONE, p.policy);
	EXPECT_EQ(1ULL, p.moves);
}

/* Wait until the VM's follow moves reach @moves; 0 or -ETIMEDOUT. */
static int wait_moves(int dev, uint64_t vm_id, uint64_t moves,
		      int timeout_ms, struct kvmw_numa_policy *p)
{
	double end = util_now_ms() + timeout_ms;

	do {
		if (numa_get(dev, vm_id, p))
			return -errno;
		if (p->moves >= moves)
			return 0;
		util_sleep_ms(20);
	} while (util_now_ms() < end);
	return -ETIMEDOUT;
}

/* Time of the last follow MOVE event, 0 if none; counts them in @n. */
static uint64_t last_follow_move(const struct kvmw_event *ev, int nr,
				 uint32_t to, int *n)
{
	uint64_t t = 0;
	int i;

	*n = 0;
	for (i = 0; i < nr; i++)
		if (ev[i].type == KVMW_EVENT_NUMA_MOVE &&
		    ev[i].numa.cause == KVMW_NUMA_CAUSE_FOLLOW &&
		    ev[i].numa.to_node == to) {
			(*n)++;
			t = ev[i].time_ns;
		}
	return t;
}

TEST_F_TIMEOUT(numa, follow, 120)
{
	cpu_set_t want[NR_SPIN];
	struct kvmw_numa_policy p;
	struct kvmw_event ev[64];
	uint64_t t_set, t_move, t_mig, t_migrated, t_back;
	unsigned long from = 1 << 1, to = 1 << 0;
	int n, nm;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	/* The memory on node 1, the vCPUs on node 0. */
	vm_start(_metadata, self, MPOL_BIND, 1 << 1, NULL);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 0));
	read_events(self->efd, self->vm_id, ev, 64, 0);

	t_set = boot_ns();
	ASSERT_EQ(0, set_follow(self->dev, self->vm_id));
	ASSERT_EQ(0, wait_moves(self->dev, self->vm_id, 2, 20000, &p));
	n = read_events(self->efd, self->vm_id, ev, 64, 0);
	t_move = last_follow_move(ev, n, 1, &nm);
	EXPECT_EQ(NR_SPIN, nm);
	TH_LOG("follow: set to last vCPU moved to node 1: %.1f ms (interval %d ms, %d passes)",
	       (t_move - t_set) / 1e6, FOLLOW_INTERVAL_MS, FOLLOW_PASSES);
	EXPECT_EQ(KVMW_NUMA_FOLLOW, p.policy);
	EXPECT_EQ(1U, p.cur_node);
	EXPECT_EQ(1000U, p.local_pml);
	/* The first passes that saw the memory elsewhere held it back. */
	EXPECT_EQ((uint64_t)FOLLOW_PASSES - 1, p.suppressed_hysteresis);
	EXPECT_EQ(0ULL, p.suppressed_dwell);
	EXPECT_EQ(0ULL, p.suppressed_rate);
	EXPECT_EQ(0ULL, p.suppressed_conflict);
	want[0] = self->node1;
	want[1] = self->node1;
	expect_masks(_metadata, self->vm, want);

	/* The memory goes back to node 0: one move back, after the dwell. */
	ASSERT_EQ(0, syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0));
	t_mig = boot_ns();
	ASSERT_LE(0, syscall(SYS_migrate_pages, getpid(), sizeof(from) * 8,
			     &from, &to))
		TH_LOG("migrate_pages: %s", strerror(errno));
	t_migrated = boot_ns();
	ASSERT_EQ(0, wait_moves(self->dev, self->vm_id, 3, 20000, &p));
	util_sleep_ms(4 * FOLLOW_INTERVAL_MS * FOLLOW_PASSES);
	ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
	n = read_events(self->efd, self->vm_id, ev, 64, 0);
	t_back = last_follow_move(ev, n, 0, &nm);
	TH_LOG("follow back: migrate_pages took %.1f ms, then %.1f ms to the move; last move to move back %.1f ms (dwell %d ms); held back by the dwell %llu passes",
	       (t_migrated - t_mig) / 1e6, ((int64_t)(t_back - t_migrated)) / 1e6,
	       (t_back - t_move) / 1e6, FOLLOW_DWELL_MS,
	       (unsigned long long)p.suppressed_dwell);
	EXPECT_EQ(NR_SPIN, nm);
	EXPECT_EQ(3ULL, p.moves);
	EXPECT_EQ(0U, p.cur_node);
	EXPECT_LE((uint64_t)FOLLOW_DWELL_MS * 1000000ULL, t_back - t_move);
	/*
	 * Memory that was back early in the dwell time (migrate_pages() of
	 * a running VM's memory takes seconds on 6.1 in TCG) makes the move
	 * due before the dwell ends: held back.
	 */
	if (t_migrated - t_move < (uint64_t)FOLLOW_DWELL_MS * 1000000ULL / 3)
		EXPECT_LT(0ULL, p.suppressed_dwell);
	want[0] = self->node0;
	want[1] = self->node0;
	expect_masks(_metadata, self->vm, want);
}

TEST_F_TIMEOUT(numa, follow_split, 120)
{
	struct kvmw_numa_policy p;
	cpu_set_t want[NR_SPIN];
	int tries;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, MPOL_INTERLEAVE, 3, NULL);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 0));
	ASSERT_EQ(0, set_follow(self->dev, self->vm_id));
	/* A dozen decision passes on memory sampled after the SET. */
	for (tries = 0; tries < 1000; tries++) {
		ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
		if (p.suppressed_hysteresis >= 12 || p.moves != 1)
			break;
		util_sleep_ms(20);
	}
	TH_LOG("interleaved: node 0 holds %u per mille, %llu passes held back by the hysteresis",
	       p.local_pml, (unsigned long long)p.suppressed_hysteresis);
	EXPECT_EQ(1ULL, p.moves);
	EXPECT_EQ(0U, p.cur_node);
	EXPECT_LT(400U, p.local_pml);
	EXPECT_GT(600U, p.local_pml);
	EXPECT_LE(12ULL, p.suppressed_hysteresis);
	EXPECT_EQ(0ULL, p.suppressed_dwell);
	/* Following keeps the vCPUs on the node they were on. */
	want[0] = self->node0;
	want[1] = self->node0;
	expect_masks(_metadata, self->vm, want);
}

TEST_F_TIMEOUT(numa, follow_rate, 120)
{
	struct kvmw_numa_policy p;
	cpu_set_t want[NR_SPIN];
	int tries;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, MPOL_BIND, 1 << 1, NULL);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 0));
	ASSERT_EQ(0, set_follow(self->dev, self->vm_id));
	ASSERT_EQ(0, wait_moves(self->dev, self->vm_id, 2, 20000, &p));
	EXPECT_EQ(1U, p.cur_node);
	/* One move per minute on the host, and one was just made. */
	ASSERT_EQ(0, sysctl_write(PARAM_DIR "numa_max_moves_per_min", "1",
				  NULL, 0));
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 0));
	ASSERT_EQ(0, set_follow(self->dev, self->vm_id));
	for (tries = 0; tries < 250; tries++) {
		ASSERT_EQ(0, numa_get(self->dev, self->vm_id, &p));
		if (p.suppressed_rate >= 3)
			break;
		util_sleep_ms(20);
	}
	TH_LOG("rate limited: %llu passes held back, %llu moves",
	       (unsigned long long)p.suppressed_rate,
	       (unsigned long long)p.moves);
	EXPECT_LE(3ULL, p.suppressed_rate);
	EXPECT_EQ(1U, p.max_moves_per_min);
	EXPECT_EQ(3ULL, p.moves);
	EXPECT_EQ(0U, p.cur_node);
	want[0] = self->node0;
	want[1] = self->node0;
	expect_masks(_metadata, self->vm, want);
}

TEST_F_TIMEOUT(numa, unload, 120)
{
	int c0 = node_cpu(0, 0), c10 = node_cpu(1, 0);
	cpu_set_t before[NR_SPIN], want[NR_SPIN];
	const char *path = kvmw_module_path();

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (access(path, R_OK))
		SKIP(return, "no %s", path);
	CPU_ZERO(&before[0]);
	CPU_SET(c0, &before[0]);
	CPU_SET(c10, &before[0]);
	before[1] = self->all;
	vm_start(_metadata, self, 0, 0, before);
	ASSERT_EQ(0, numa_set(self->dev, self->vm_id, KVMW_NUMA_PIN, 1 << 1));
	CPU_ZERO(&want[0]);
	CPU_SET(c10, &want[0]);
	want[1] = self->node1;
	expect_masks(_metadata, self->vm, want);

	/* Every file of the module closed; the vCPUs go on spinning. */
	close(self->dev);
	close(self->efd);
	self->dev = -1;
	self->efd = -1;
	kvmw_source_close(&self->src);
	self->src_open = false;
	ASSERT_EQ(0, module_unload(KVMW_MODULE_NAME, UNLOAD_MS));
	expect_masks(_metadata, self->vm, before);
	self->params_set = false;
	ASSERT_EQ(0, module_load(path, ""));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
	expect_masks(_metadata, self->vm, before);
}

/*
 * The command line against the module: kvmwarden numa set/show/clear by
 * VM id and by VMM pid, the masks as the module left them, its exit codes
 * for a refused pin and for a user without the privilege.
 */
TEST_F_TIMEOUT(numa, cli, 120)
{
	cpu_set_t before[NR_SPIN], want[NR_SPIN];
	char id[24], ref[32], threads[32];
	static struct cli_run c;
	int i;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vm_start(_metadata, self, 0, 0, NULL);
	for (i = 0; i < NR_SPIN; i++) {
		ASSERT_EQ(0, get_mask(self->vm->vcpus[i]->tid, &before[i]));
		want[i] = self->node1;
	}
	snprintf(id, sizeof(id), "%llu", (unsigned long long)self->vm_id);
	snprintf(ref, sizeof(ref), "pid:%d", getpid());
	snprintf(threads, sizeof(threads), "\"threads\": %d,", NR_SPIN);

	ASSERT_EQ(0, cli_run(&c, 0, "numa", "set", id, "pin", "1", NULL));
	ASSERT_EQ(0, c.status) TH_LOG("numa set: %s", c.err);
	EXPECT_NE(NULL, strstr(c.out, "NUMA policy set: pin 1"));
	expect_masks(_metadata, self->vm, want);

	ASSERT_EQ(0, cli_run(&c, 0, "numa", "show", "--json", ref, NULL));
	ASSERT_EQ(0, c.status) TH_LOG("numa show: %s", c.err);
	EXPECT_NE(NULL, strstr(c.out, "\"policy\": \"pin\","));
	EXPECT_NE(NULL, strstr(c.out, "\"nodes\": [1],"));
	EXPECT_NE(NULL, strstr(c.out, "\"current_node\": 1,"));
	EXPECT_NE(NULL, strstr(c.out, "\"moves\": 1,"));
	EXPECT_NE(NULL, strstr(c.out, threads)) TH_LOG("%s", c.out);

	/* Refused by the module (no node 2 here): exit 1, nothing changed. */
	ASSERT_EQ(0, cli_run(&c, 0, "numa", "set", id, "pin", "2", NULL));
	EXPECT_EQ(1, c.status);
	EXPECT_NE(NULL, strstr(c.err, "nothing changed")) TH_LOG("%s", c.err);
	expect_masks(_metadata, self->vm, want);

	/* Without the privilege: exit 4, nothing changed. */
	ASSERT_EQ(0, cli_run(&c, 65534, "numa", "clear", id, NULL));
	EXPECT_EQ(4, c.status) TH_LOG("%s", c.err);
	expect_masks(_metadata, self->vm, want);

	ASSERT_EQ(0, cli_run(&c, 0, "numa", "clear", ref, NULL));
	ASSERT_EQ(0, c.status) TH_LOG("numa clear: %s", c.err);
	expect_masks(_metadata, self->vm, before);
	ASSERT_EQ(0, cli_run(&c, 0, "numa", "show", id, NULL));
	EXPECT_EQ(0, c.status);
	EXPECT_NE(NULL, strstr(c.out, " none ")) TH_LOG("%s", c.out);

	ASSERT_EQ(0, cli_run(&c, 0, "numa", "set", ref, "follow",
			     "--interval", "100ms", NULL));
	EXPECT_EQ(0, c.status) TH_LOG("numa set follow: %s", c.err);
	ASSERT_EQ(0, cli_run(&c, 0, "numa", "show", "--json", id, NULL));
	EXPECT_NE(NULL, strstr(c.out, "\"policy\": \"follow\","));
	EXPECT_NE(NULL, strstr(c.out, "\"interval_ms\": 100,"));
	ASSERT_EQ(0, cli_run(&c, 0, "numa", "clear", id, NULL));
	EXPECT_EQ(0, c.status);
	TH_LOG("%u CLI runs, %.0f ms each", cli_runs,
	       (double)cli_run_ns / cli_runs / 1e6);
}

TEST_HARNESS_MAIN
