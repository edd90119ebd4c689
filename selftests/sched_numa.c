// SPDX-License-Identifier: GPL-2.0
/*
 * sched_numa - kvmwarden's scheduler view of vCPU threads and the NUMA
 * locality of VM memory.
 *
 * shared_cpu: two vCPU threads spinning in the guest are pinned to one
 * CPU. Each must show preemptions and run-queue delay, all its run time on
 * that CPU's node and none elsewhere, no migration, and a delay histogram
 * that sums to the delay count. The kernel's own per-task figures are the
 * cross-check: the wait time of /proc/PID/task/TID/schedstat and the
 * nonvoluntary_ctxt_switches of .../status count the same events,
 * including the short stretches the thread spends in the VMM, which
 * kvmwarden does not see; so kvmwarden's figures must be at most the
 * kernel's and, the vCPU living almost entirely inside KVM_RUN, most of it.
 *
 * migrate: one spinning vCPU thread is moved by sched_setaffinity() from
 * a CPU of node 0 to a CPU of node 1 (exactly one migration, across
 * nodes), then to another CPU of node 1 (one more, same node).
 *
 * memory: the VMM binds all its memory to one node (set_mempolicy) before
 * creating the VM, which has a second memslot 4 GiB up, half touched by
 * the VMM; a guest touches fresh pages while a second vCPU keeps
 * returning to the VMM so that sampling batches are due. With the sampler
 * set to look at every page, a complete pass that started after the
 * touches ended must cover both memslots and find exactly the pages
 * mincore() reports resident, all of them on the bound node.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define PARAM_DIR	"/sys/module/kvmwarden/parameters/"
#define SPIN_BATCH	2000	/* CPUIDs between two returns to the VMM */
#define EXTRA_SLOT_GPA	(1ULL << 32)
#define EXTRA_SLOT_SIZE	(1UL << 20)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

/* NUMA node of @cpu from sysfs, -1 if unknown. */
static int cpu_node(int cpu)
{
	char path[96];
	int node;

	for (node = 0; node < KVMW_MAX_NODES; node++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
		if (access(path, F_OK) == 0)
			return node;
	}
	return -1;
}

/* The @nth online CPU (from 0) of @node, -1 if none. */
static int node_cpu(int node, int nth)
{
	int cpu, ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	for (cpu = 0; cpu < ncpus; cpu++)
		if (cpu_node(cpu) == node && nth-- == 0)
			return cpu;
	return -1;
}

/* wait time (ns) from /proc/self/task/TID/schedstat */
static int task_wait_ns(pid_t tid, uint64_t *wait)
{
	unsigned long long run, w;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &run, &w);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	*wait = w;
	return 0;
}

static int task_nonvol(pid_t tid, uint64_t *nv)
{
	unsigned long long v;
	char path[64], line[128];
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1) {
			*nv = v;
			ret = 0;
		}
	fclose(f);
	return ret;
}

/* One vCPU as kvmwarden's model shows it at one moment. */
struct vview {
	struct kvmw_snapshot snap;
	const struct kvmw_vm *vm;
	const struct kvmw_vcpu *v;
	const struct kvmw_sched *s;
};

static int vview_take(struct kvmw_source *src, struct kvm_vcpu *vcpu,
		      struct vview *w)
{
	pid_t tid = vcpu->tid;
	int ret;

	ret = kvmw_take_vmm(src, getpid(), &tid, 1, &w->snap, &w->vm);
	if (ret)
		return ret;
	w->v = kvmw_vm_vcpu_by_tid(w->vm, tid);
	w->s = &w->v->u.sched;
	return 0;
}

/* Start a CPUID-spinning vCPU and wait until its thread is known. */
static int spin_start(struct kvm_vcpu *vcpu)
{
	int i, ret;

	ret = vcpu_load_prog(vcpu, GUEST_PROG_CPUID_SPIN, SPIN_BATCH);
	if (!ret)
		ret = vcpu_start(vcpu);
	for (i = 0; !ret && i < 2000 && vcpu_spin_batches(vcpu) < 2; i++)
		sleep_ms(5);
	return ret ?: (vcpu_spin_batches(vcpu) < 2 ? -ETIMEDOUT : 0);
}

FIXTURE(sched) {
	struct kvmw_source src;
	bool src_open;
	struct kvm_vm *vm;
	char why[128];
};

FIXTURE_SETUP(sched)
{
	int ret;

	self->vm = NULL;
	ret = kvmw_test_src(&self->src, KVMW_FEAT_SCHED, "the scheduler view",
			    self->why, sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_EQ(0, ret);
	self->src_open = true;
	if (node_cpu(0, 0) < 0 || node_cpu(1, 1) < 0) {
		snprintf(self->why, sizeof(self->why),
			 "needs a CPU on node 0 and two on node 1");
		return;
	}
	self->vm = vm_create(NULL);
	ASSERT_NE(NULL, self->vm);
}

FIXTURE_TEARDOWN(sched)
{
	int i;

	if (self->vm) {
		for (i = 0; i < self->vm->nr_vcpus; i++)
			vcpu_spin_stop(self->vm->vcpus[i]);
		for (i = 0; i < self->vm->nr_vcpus; i++)
			if (self->vm->vcpus[i]->started)
				vcpu_join(self->vm->vcpus[i]);
		vm_destroy(self->vm);
	}
	if (self->src_open)
		kvmw_source_close(&self->src);
}

TEST_F_TIMEOUT(sched, shared_cpu, 300)
{
	struct vview a[2], b[2];
	uint64_t wa[2], wb[2], nva[2], nvb[2], t0, wall;
	int cpu = node_cpu(1, 0), node = 1, i;
	unsigned int n;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	for (i = 0; i < 2; i++) {
		ASSERT_NE(NULL, vcpu_add(self->vm));
		ASSERT_EQ(0, spin_start(self->vm->vcpus[i]));
		ASSERT_EQ(0, pin(self->vm->vcpus[i]->tid, cpu));
	}
	sleep_ms(500);
	t0 = now_ns();
	for (i = 0; i < 2; i++) {
		struct kvm_vcpu *vcpu = self->vm->vcpus[i];
		pid_t tid = vcpu->tid;

		/*
		 * The kernel's figures first, kvmwarden's last, and the other
		 * way round at the end: kvmwarden's interval lies within the
		 * kernel's, however long a snapshot takes.
		 */
		ASSERT_EQ(0, task_wait_ns(tid, &wa[i]));
		ASSERT_EQ(0, task_nonvol(tid, &nva[i]));
		ASSERT_EQ(0, vview_take(&self->src, vcpu, &a[i]));
	}
	sleep_ms(2000);
	for (i = 0; i < 2; i++) {
		struct kvm_vcpu *vcpu = self->vm->vcpus[i];
		pid_t tid = vcpu->tid;

		ASSERT_EQ(0, vview_take(&self->src, vcpu, &b[i]));
		ASSERT_EQ(0, task_wait_ns(tid, &wb[i]));
		ASSERT_EQ(0, task_nonvol(tid, &nvb[i]));
	}
	wall = now_ns() - t0;

	for (i = 0; i < 2; i++) {
		uint64_t delay = b[i].s->rq_delay_ns - a[i].s->rq_delay_ns;
		uint64_t waits = b[i].s->rq_delay_count - a[i].s->rq_delay_count;
		uint64_t pre = b[i].s->preemptions - a[i].s->preemptions;
		uint64_t kwait = wb[i] - wa[i], knv = nvb[i] - nva[i];
		uint64_t run = b[i].s->run_node_ns[node] - a[i].s->run_node_ns[node];

		TH_LOG("vCPU %d on CPU %d: rq delay %llu ns in %llu waits (kernel %llu ns), preemptions %llu (kernel %llu), run %llu ns of %llu, sleeps %llu",
		       i, cpu, (unsigned long long)delay,
		       (unsigned long long)waits, (unsigned long long)kwait,
		       (unsigned long long)pre, (unsigned long long)knv,
		       (unsigned long long)run, (unsigned long long)wall,
		       (unsigned long long)(b[i].s->sleeps - a[i].s->sleeps));
		EXPECT_EQ(self->vm->vcpus[i]->id, (int)b[i].v->vcpu_id);
		EXPECT_LT(0ULL, pre);
		EXPECT_LT(0ULL, waits);
		/* Two spinning threads on one CPU: each waits a good part. */
		EXPECT_LT(wall / 5, delay);
		/* Never more than the kernel saw; most of it (see the top). */
		EXPECT_GE(kwait + kwait / 20 + 1000000, delay);
		EXPECT_LE(kwait / 2, delay);
		EXPECT_GE(knv + 2, pre);
		EXPECT_LE(knv / 2, pre);
		EXPECT_EQ(b[i].s->rq_delay_count, kvmw_hist_total(&b[i].s->hist));
		EXPECT_LE(delay / (waits ? waits : 1), b[i].s->rq_delay_max_ns);
		/* It ran, all of it on the pinned CPU's node. */
		EXPECT_LT(wall / 5, run);
		EXPECT_GE(wall + wall / 20, run);
		for (n = 0; n < b[i].snap.host.nr_nodes; n++)
			if (n != (unsigned int)node)
				EXPECT_EQ(a[i].s->run_node_ns[n], b[i].s->run_node_ns[n])
					TH_LOG("node %u", n);
		EXPECT_EQ(a[i].s->migrations, b[i].s->migrations);
		EXPECT_EQ((__u32)cpu, b[i].v->last_cpu);
		EXPECT_EQ((__u32)node, b[i].v->last_node);
		EXPECT_EQ(b[i].vm->vm_id, b[!i].vm->vm_id);
	}
	for (i = 0; i < 2; i++) {
		kvmw_snapshot_free(&a[i].snap);
		kvmw_snapshot_free(&b[i].snap);
	}
}

TEST_F_TIMEOUT(sched, migrate, 300)
{
	int from = node_cpu(0, 0), to = node_cpu(1, 0), next = node_cpu(1, 1);
	struct vview a, b, c;
	struct kvm_vcpu *vcpu;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	vcpu = vcpu_add(self->vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, spin_start(vcpu));
	ASSERT_EQ(0, pin(vcpu->tid, from));
	sleep_ms(500);
	ASSERT_EQ(0, vview_take(&self->src, vcpu, &a));
	EXPECT_EQ((__u32)from, a.v->last_cpu);
	EXPECT_EQ(0U, a.v->last_node);

	ASSERT_EQ(0, pin(vcpu->tid, to));
	sleep_ms(500);
	ASSERT_EQ(0, vview_take(&self->src, vcpu, &b));
	TH_LOG("CPU %d -> %d: migrations %llu, across nodes %llu",
	       from, to, (unsigned long long)(b.s->migrations - a.s->migrations),
	       (unsigned long long)(b.s->node_migrations - a.s->node_migrations));
	EXPECT_EQ(1ULL, b.s->migrations - a.s->migrations);
	EXPECT_EQ(1ULL, b.s->node_migrations - a.s->node_migrations);
	EXPECT_EQ((__u32)to, b.v->last_cpu);
	EXPECT_EQ(1U, b.v->last_node);
	EXPECT_LT(a.s->run_node_ns[1], b.s->run_node_ns[1]);

	ASSERT_EQ(0, pin(vcpu->tid, next));
	sleep_ms(500);
	ASSERT_EQ(0, vview_take(&self->src, vcpu, &c));
	TH_LOG("CPU %d -> %d: migrations %llu, across nodes %llu",
	       to, next, (unsigned long long)(c.s->migrations - b.s->migrations),
	       (unsigned long long)(c.s->node_migrations - b.s->node_migrations));
	EXPECT_EQ(1ULL, c.s->migrations - b.s->migrations);
	EXPECT_EQ(0ULL, c.s->node_migrations - b.s->node_migrations);
	EXPECT_EQ((__u32)next, c.v->last_cpu);
	/* no time on node 0 after it left */
	EXPECT_EQ(b.s->run_node_ns[0], c.s->run_node_ns[0]);
	kvmw_snapshot_free(&a.snap);
	kvmw_snapshot_free(&b.snap);
	kvmw_snapshot_free(&c.snap);
}

struct param_save {
	const char *name;
	const char *val;
	char old[32];
};

static struct param_save mem_params[] = {
	{ .name = "sample_interval_ms", .val = "1" },
	{ .name = "mem_batch", .val = "64" },
	{ .name = "mem_samples", .val = "1000000" },
};

FIXTURE(memory) {
	struct kvmw_source src;
	bool src_open;
	struct kvm_vm *vm;
	bool params_set;
	char why[128];
};

FIXTURE_VARIANT(memory) {
	int node;
};

FIXTURE_VARIANT_ADD(memory, node0) { .node = 0 };
FIXTURE_VARIANT_ADD(memory, node1) { .node = 1 };

FIXTURE_SETUP(memory)
{
	unsigned long mask = 1UL << variant->node;
	char path[128];
	unsigned int i;
	int ret;

	self->vm = NULL;
	self->params_set = false;
	ret = kvmw_test_src(&self->src, KVMW_FEAT_MEM_NUMA, "memory locality",
			    self->why, sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_EQ(0, ret);
	self->src_open = true;
	if (node_cpu(variant->node, 0) < 0) {
		snprintf(self->why, sizeof(self->why), "no node %d",
			 variant->node);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(mem_params); i++) {
		snprintf(path, sizeof(path), PARAM_DIR "%s",
			 mem_params[i].name);
		ASSERT_EQ(0, sysctl_write(path, mem_params[i].val,
					  mem_params[i].old,
					  sizeof(mem_params[i].old)));
	}
	self->params_set = true;
	/* Every page of this process from now on: the VM's memory too. */
	ASSERT_EQ(0, syscall(SYS_set_mempolicy, MPOL_BIND, &mask,
			     sizeof(mask) * 8))
		TH_LOG("set_mempolicy: %s", strerror(errno));
	self->vm = vm_create(&(struct vm_opts){ .mem_size = 16 << 20 });
	ASSERT_NE(NULL, self->vm);
}

FIXTURE_TEARDOWN(memory)
{
	char path[128];
	unsigned int i;

	if (self->vm) {
		for (i = 0; i < (unsigned int)self->vm->nr_vcpus; i++)
			vcpu_spin_stop(self->vm->vcpus[i]);
		for (i = 0; i < (unsigned int)self->vm->nr_vcpus; i++)
			if (self->vm->vcpus[i]->started)
				vcpu_join(self->vm->vcpus[i]);
		vm_destroy(self->vm);
	}
	syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	for (i = 0; self->params_set && i < ARRAY_SIZE(mem_params); i++) {
		snprintf(path, sizeof(path), PARAM_DIR "%s",
			 mem_params[i].name);
		sysctl_write(path, mem_params[i].old, NULL, 0);
	}
	if (self->src_open)
		kvmw_source_close(&self->src);
}

/* The memory of @vm as the model shows it now, in @snap (freed first). */
static int vm_mem_now(struct kvmw_source *src, struct kvm_vm *vm,
		      struct kvmw_snapshot *snap, const struct kvmw_mem **mem)
{
	const struct kvmw_vm *v;
	int ret;

	kvmw_snapshot_free(snap);
	ret = kvmw_take_kvm_vm(src, vm, snap, &v);
	if (!ret)
		*mem = &v->mem;
	return ret;
}

TEST_F_TIMEOUT(memory, resident_per_node, 300)
{
	uint64_t pages = self->vm->mem_size / getpagesize(), resident = 0, i;
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_vcpu *toucher, *spinner;
	struct kvmw_snapshot snap = { 0 };
	const struct kvmw_mem *m;
	void *extra;
	unsigned char *vec;
	uint64_t passes;
	unsigned int n;
	int tries;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	/*
	 * A second memslot far above the first (a hole between them), half
	 * of it touched by the VMM: the pass must cover both.
	 */
	extra = mmap(NULL, EXTRA_SLOT_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, extra);
	ASSERT_EQ(0, madvise(extra, EXTRA_SLOT_SIZE, MADV_NOHUGEPAGE));
	memset(extra, 0xa5, EXTRA_SLOT_SIZE / 2);
	region.slot = 1;
	region.guest_phys_addr = EXTRA_SLOT_GPA;
	region.memory_size = EXTRA_SLOT_SIZE;
	region.userspace_addr = (uintptr_t)extra;
	ASSERT_EQ(0, ioctl(self->vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	pages += EXTRA_SLOT_SIZE / getpagesize();

	toucher = vcpu_add(self->vm);
	spinner = vcpu_add(self->vm);
	ASSERT_NE(NULL, toucher);
	ASSERT_NE(NULL, spinner);
	ASSERT_EQ(0, vcpu_load_prog(toucher, GUEST_PROG_PAGES, 200));
	ASSERT_EQ(0, vcpu_run(toucher));
	ASSERT_TRUE(toucher->res.done) TH_LOG("%s", toucher->res.msg);
	/* Returns to the VMM on every batch: samples are due often. */
	ASSERT_EQ(0, vcpu_load_prog(spinner, GUEST_PROG_CPUID_SPIN, 1));
	ASSERT_EQ(0, vcpu_start(spinner));

	/*
	 * The pass in progress now may have started before the last touch;
	 * the one after it cannot have.
	 */
	/* Until the spinner's thread has run and is known to kvmwarden. */
	for (tries = 0; tries < 600 && vcpu_spin_batches(spinner) < 1; tries++)
		sleep_ms(10);
	ASSERT_EQ(0, vm_mem_now(&self->src, self->vm, &snap, &m));
	passes = m->passes;
	for (tries = 0; tries < 600 && m->passes < passes + 2; tries++) {
		sleep_ms(100);
		ASSERT_EQ(0, vm_mem_now(&self->src, self->vm, &snap, &m));
	}
	ASSERT_LE(passes + 2, m->passes) TH_LOG("sampling passes: %llu",
					       (unsigned long long)m->passes);
	vcpu_spin_stop(spinner);
	ASSERT_EQ(0, vcpu_join(spinner));

	vec = calloc(pages, 1);
	ASSERT_NE(NULL, vec);
	ASSERT_EQ(0, mincore(self->vm->mem, self->vm->mem_size, vec));
	ASSERT_EQ(0, mincore(extra, EXTRA_SLOT_SIZE,
			     vec + self->vm->mem_size / getpagesize()));
	for (i = 0; i < pages; i++)
		resident += vec[i] & 1;
	free(vec);

	TH_LOG("pass %llu: %llu pages, stride %llu, %llu sampled, %llu unmapped, node0 %llu node1 %llu; mincore: %llu resident",
	       (unsigned long long)m->passes, (unsigned long long)m->pages,
	       (unsigned long long)m->stride, (unsigned long long)m->sampled,
	       (unsigned long long)m->unmapped,
	       (unsigned long long)m->node[0],
	       (unsigned long long)(snap.host.nr_nodes > 1 ? m->node[1] : 0),
	       (unsigned long long)resident);
	EXPECT_EQ(pages, m->pages);
	EXPECT_EQ(1ULL, m->stride);
	EXPECT_EQ(pages, m->sampled);
	EXPECT_LE(200ULL + EXTRA_SLOT_SIZE / 2 / getpagesize(), resident);
	for (n = 0; n < snap.host.nr_nodes; n++)
		EXPECT_EQ(n == (unsigned int)variant->node ? resident : 0ULL,
			  m->node[n])
			TH_LOG("node %u", n);
	EXPECT_EQ(0ULL, m->node_unknown);
	EXPECT_EQ(pages - resident, m->unmapped);
	EXPECT_LT(0ULL, m->pass_ns);
	kvmw_snapshot_free(&snap);
	/* The VM's memory must be gone before the second slot's. */
	vm_destroy(self->vm);
	self->vm = NULL;
	munmap(extra, EXTRA_SLOT_SIZE);
}

TEST_HARNESS_MAIN
