// SPDX-License-Identifier: GPL-2.0
/*
 * events - the read()/poll() event stream and KVMW_IOC_SNAPSHOT_ALL (an
 * ioctl of API 1, checked against libkvmwarden's model).
 *
 * stream: a reader opened before a VM exists sees, in order and with
 * consecutive sequence numbers, VM_NEW when the VM's first vCPU runs,
 * VCPU_NEW for its second, and VM_GONE after the VM is destroyed, whose
 * final totals equal the last snapshot taken before the destruction
 * (the vCPUs had stopped). A reader opened later sees none of it. Bad
 * read sizes get EINVAL, an empty non-blocking read EAGAIN, and poll()
 * tells when a record is ready.
 *
 * snapshot_all: with two VMs whose vCPUs have stopped, one call returns
 * exactly what the self-describing statistics say (read through the
 * model), with consistent indices; hostile arguments get EINVAL or E2BIG and no
 * answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define CPUID_N		25

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* Next record within @ms, 0 or -errno. */
static int next_event(int fd, struct kvmw_event *e, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = read(fd, e, sizeof(*e));
	if (n < 0)
		return -errno;
	return n == sizeof(*e) ? 0 : -EIO;
}

/* Next record about @vm_id (0: any VM), skipping other VMs' events. */
static int next_event_of(int fd, uint64_t vm_id, struct kvmw_event *e, int ms)
{
	int ret;

	do {
		ret = next_event(fd, e, ms);
	} while (!ret && vm_id && e->vm_id != vm_id);
	return ret;
}

/*
 * The next event of a VM of this process: earlier tests' VMs may still
 * be reported gone in between, whenever the module's sweep notices.
 */
static int next_event_mine(int fd, struct kvmw_event *e, int ms)
{
	int ret;

	do {
		ret = next_event(fd, e, ms);
	} while (!ret && e->vmm_pid != (__u32)getpid());
	return ret;
}

static int run_cpuid(struct kvm_vcpu *vcpu, uint64_t n)
{
	int ret = vcpu_load_prog(vcpu, GUEST_PROG_CPUID, n);

	if (!ret)
		ret = vcpu_run(vcpu);
	return ret;
}

FIXTURE(events) {
	/* The numbers, as every consumer reads them: libkvmwarden's model. */
	struct kvmw_source src;
	bool src_open;
	/* KVMW_IOC_SNAPSHOT_ALL itself, the subject of snapshot_all. */
	int fd;
	char why[128];
};

FIXTURE_SETUP(events)
{
	int ret;

	self->fd = -1;
	ret = kvmw_test_src(&self->src, KVMW_FEAT_EVENTS |
			    KVMW_FEAT_SNAPSHOT_ALL, "events or snapshot-all",
			    self->why, sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_EQ(0, ret);
	self->src_open = true;
	self->fd = kvmw_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(events)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->src_open)
		kvmw_source_close(&self->src);
}

TEST_F_TIMEOUT(events, stream, 120)
{
	struct kvmw_event e, first;
	struct kvmw_snapshot s;
	const struct kvmw_vm *v;
	struct pollfd p;
	struct kvm_vm *vm;
	char small[sizeof(e) - 1];
	uint64_t exits, entries, vm_id;
	int rd, late;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	rd = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, rd);
	/*
	 * Let the module notice earlier tests' VMs gone now (a statistics
	 * read sweeps; its periodic sweep would later), then drain their
	 * events.
	 */
	ASSERT_EQ(0, kvmw_take(&self->src, &s));
	kvmw_snapshot_free(&s);
	while (read(rd, &e, sizeof(e)) == sizeof(e))
		;
	EXPECT_EQ(-1, read(rd, &e, sizeof(e)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(rd, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	p = (struct pollfd){ .fd = rd, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));

	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	ASSERT_NE(NULL, vcpu_add(vm));
	ASSERT_NE(NULL, vcpu_add(vm));
	ASSERT_EQ(0, run_cpuid(vm->vcpus[0], CPUID_N));

	ASSERT_EQ(0, next_event_mine(rd, &first, 5000));
	EXPECT_EQ(sizeof(e), first.size);
	EXPECT_EQ(KVMW_EVENT_VERSION, first.version);
	EXPECT_EQ(KVMW_EVENT_VM_NEW, first.type);
	EXPECT_EQ((__u32)getpid(), first.vmm_pid);
	EXPECT_EQ((__u32)kvm_gettid(), first.tid);
	EXPECT_EQ(0U, first.vcpu_id);
	EXPECT_EQ(1U, first.nr_vcpus);
	EXPECT_EQ(0ULL, first.lost);
	vm_id = first.vm_id;

	ASSERT_EQ(0, run_cpuid(vm->vcpus[1], CPUID_N));
	ASSERT_EQ(0, next_event_mine(rd, &e, 5000));
	EXPECT_EQ(KVMW_EVENT_VCPU_NEW, e.type);
	EXPECT_EQ(vm_id, e.vm_id);
	EXPECT_EQ(1U, e.vcpu_id);
	EXPECT_EQ(2U, e.nr_vcpus);
	/* Other VMs' events may come in between: later, not next. */
	EXPECT_LT(first.seq, e.seq);
	EXPECT_LE(first.time_ns, e.time_ns);

	ASSERT_EQ(0, kvmw_take_kvm_vm(&self->src, vm, &s, &v));
	EXPECT_EQ(vm_id, v->vm_id);
	exits = v->exits;
	entries = v->entries;
	kvmw_snapshot_free(&s);
	EXPECT_LE(2ULL * CPUID_N, exits);

	vm_destroy(vm);
	/* The module checks for destroyed VMs every second. */
	ASSERT_EQ(0, next_event_of(rd, vm_id, &e, 5000));
	EXPECT_EQ(KVMW_EVENT_VM_GONE, e.type);
	EXPECT_EQ(2U, e.nr_vcpus);
	EXPECT_EQ(exits, e.data[KVMW_EVENT_GONE_EXITS]);
	EXPECT_EQ(entries, e.data[KVMW_EVENT_GONE_ENTRIES]);
	EXPECT_LT(0ULL, e.data[KVMW_EVENT_GONE_GUEST_NS]);
	EXPECT_LT(0ULL, e.data[KVMW_EVENT_GONE_OVERHEAD_NS]);
	EXPECT_EQ(0ULL, e.data[KVMW_EVENT_GONE_UNTIMED]);
	EXPECT_LT(first.seq + 1, e.seq);

	/* A reader that opened afterwards saw none of it. */
	late = open(KVMW_DEVICE_PATH, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, late);
	EXPECT_EQ(-1, read(late, &e, sizeof(e)));
	EXPECT_EQ(EAGAIN, errno);
	close(late);
	close(rd);
}

static void all_init(struct kvmw_snapshot_all *a, void *vms, void *vcpus,
		     void *reasons, uint32_t nvm, uint32_t nv, uint32_t nr)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->vms_ptr = (uintptr_t)vms;
	a->vm_entry_size = sizeof(struct kvmw_vm_entry);
	a->max_vms = nvm;
	a->vcpus_ptr = (uintptr_t)vcpus;
	a->vcpu_info_size = sizeof(struct kvmw_vcpu_info);
	a->max_vcpus = nv;
	a->reasons_ptr = (uintptr_t)reasons;
	a->reason_stat_size = sizeof(struct kvmw_reason_stat);
	a->max_reasons = nr;
}

TEST_F_TIMEOUT(events, snapshot_all, 120)
{
	struct kvmw_vm_entry *ents;
	struct kvmw_vcpu_info *vcpus;
	struct kvmw_reason_stat *reasons;
	struct kvmw_snapshot_all a, q;
	struct kvm_vm *vm[2];
	uint32_t i, j, k, w, found = 0;
	struct kvmw_snapshot snap;
	uint64_t ids[2] = { 0, 0 };
	size_t n;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	for (i = 0; i < 2; i++) {
		vm[i] = vm_create(NULL);
		ASSERT_NE(NULL, vm[i]);
		for (j = 0; j <= i; j++) {
			ASSERT_NE(NULL, vcpu_add(vm[i]));
			ASSERT_EQ(0, run_cpuid(vm[i]->vcpus[j], 10 + i * 3 + j));
		}
	}
	/*
	 * Both VMs ran on this thread: tell them apart as this process's
	 * two newest live VMs (ids grow with discovery).
	 */
	ASSERT_EQ(0, kvmw_take(&self->src, &snap));
	for (n = 0; n < snap.nr_vms; n++) {
		if (snap.vms[n].pid != (__u32)getpid() || snap.vms[n].gone)
			continue;
		ids[0] = ids[1];
		ids[1] = snap.vms[n].vm_id;
	}
	ASSERT_NE(0ULL, ids[0]);

	/* query */
	all_init(&q, NULL, NULL, NULL, 0, 0, 0);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &q));
	ASSERT_LE(2U, q.nr_vms);
	ASSERT_LE(3U, q.nr_vcpus);
	ents = calloc(q.nr_vms + 8, sizeof(*ents));
	vcpus = calloc(q.nr_vcpus + 8, sizeof(*vcpus));
	reasons = calloc(q.nr_reasons + 64, sizeof(*reasons));
	ASSERT_TRUE(ents && vcpus && reasons);

	/* hostile arguments: nothing written */
	all_init(&a, ents, vcpus, reasons, q.nr_vms + 8, q.nr_vcpus + 8,
		 q.nr_reasons + 64);
	a.flags = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));
	a.flags = 0;
	a.reserved = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));
	a.reserved = 0;
	a.vm_entry_size = KVMW_VM_ENTRY_SIZE_VER0 - 8;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));
	a.vm_entry_size = sizeof(*ents);
	a.size = KVMW_SNAPSHOT_ALL_SIZE_VER0 - 8;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));
	a.size = sizeof(a);
	a.max_vcpus = 1;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));
	/*
	 * The sizes needed now, not at the query: VMs of other tests may
	 * have been reaped or created in between. This test's own three
	 * vCPUs are still there.
	 */
	EXPECT_LT(a.max_vcpus, a.nr_vcpus);
	EXPECT_LE(3U, a.nr_vcpus);
	EXPECT_EQ(0U, vcpus[0].vcpu_id + vcpus[0].tid + vcpus[0].exits);

	all_init(&a, ents, vcpus, reasons, q.nr_vms + 8, q.nr_vcpus + 8,
		 q.nr_reasons + 64);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_SNAPSHOT_ALL, &a));

	for (i = 0; i < a.nr_vms; i++) {
		struct kvmw_vm_entry *ve = &ents[i];
		const struct kvmw_vm *s;
		uint64_t exits = 0;

		ASSERT_LE(ve->first_vcpu + ve->vm.nr_vcpus, a.nr_vcpus);
		for (j = 0; j < ve->vm.nr_vcpus; j++) {
			struct kvmw_vcpu_info *vi = &vcpus[ve->first_vcpu + j];

			EXPECT_EQ(ve->vm.vm_id, vi->vm_id);
			for (k = 0; k < vi->nr_reasons; k++)
				EXPECT_EQ(ve->first_vcpu + j,
					  reasons[vi->first_reason + k].vcpu_index);
			exits += vi->exits;
		}
		EXPECT_EQ(ve->vm.exits, exits);
		/*
		 * The two VMs of this test have stopped: compare exactly
		 * with the model (KVMW_IOC_STATS_READ), vCPU by vCPU, reason
		 * by reason.
		 */
		for (w = 0; w < 2; w++) {
			if (ids[w] != ve->vm.vm_id)
				continue;
			s = kvmw_snapshot_find(&snap, ids[w]);
			ASSERT_NE(NULL, s);
			found++;
			EXPECT_EQ(w + 1, ve->vm.nr_vcpus);
			EXPECT_EQ(s->exits, ve->vm.exits);
			EXPECT_EQ(s->entries, ve->vm.entries);
			EXPECT_EQ(s->nr_vcpus_detail, ve->vm.nr_vcpus);
			for (j = 0; j < ve->vm.nr_vcpus; j++) {
				struct kvmw_vcpu_info *y =
					&vcpus[ve->first_vcpu + j];
				const struct kvmw_vcpu *x =
					kvmw_vm_vcpu(s, y->vcpu_id);

				ASSERT_NE(NULL, x) TH_LOG("vCPU %u",
							  y->vcpu_id);
				EXPECT_EQ(x->u.exits, y->exits);
				EXPECT_EQ(x->u.nr_reasons, y->nr_reasons);
				for (k = 0; k < y->nr_reasons; k++) {
					const struct kvmw_reason_stat *r =
						&reasons[y->first_reason + k];
					const struct kvmw_reason *m =
						kvmw_unit_reason(&x->u,
								 r->reason);

					ASSERT_NE(NULL, m)
						TH_LOG("reason %u", r->reason);
					EXPECT_EQ(m->count, r->count);
				}
			}
			break;
		}
	}
	EXPECT_EQ(2U, found);
	kvmw_snapshot_free(&snap);
	free(ents);
	free(vcpus);
	free(reasons);
	vm_destroy(vm[0]);
	vm_destroy(vm[1]);
}

TEST_HARNESS_MAIN
