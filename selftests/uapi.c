// SPDX-License-Identifier: GPL-2.0
/*
 * uapi - hostile and edge-case ioctls on /dev/kvmwarden.
 *
 * The rules are those of include/uapi/linux/kvmwarden.h:
 *  - unknown command: ENOTTY; the size bits of the command are ignored
 *  - size < *_SIZE_VER0: EINVAL; size > known with a non-zero tail: E2BIG,
 *    with a zero tail: accepted
 *  - non-zero flags or reserved: EINVAL
 *  - unreadable or unwritable argument or array: EFAULT
 *  - array capacity too small: E2BIG, with the needed sizes written back
 *    and the arrays untouched
 *  - unknown vm_id: ENOENT
 *  - element size below its VER0: EINVAL; above: the kernel's part is
 *    written and the rest zero-filled
 *
 * Two VMs of this process (2 + 1 vCPUs, each vCPU having run a CPUID loop
 * on its own thread) give the module something to list and snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

_Static_assert(sizeof(struct kvmw_handshake) == KVMW_HANDSHAKE_SIZE_VER0,
	       "kvmw_handshake size");
_Static_assert(sizeof(struct kvmw_vm_info) == KVMW_VM_INFO_SIZE_VER0,
	       "kvmw_vm_info size");
_Static_assert(sizeof(struct kvmw_vm_list) == KVMW_VM_LIST_SIZE_VER0,
	       "kvmw_vm_list size");
_Static_assert(sizeof(struct kvmw_vcpu_info) == KVMW_VCPU_INFO_SIZE_VER3,
	       "kvmw_vcpu_info size");
_Static_assert(sizeof(struct kvmw_reason_stat) == KVMW_REASON_STAT_SIZE_VER1,
	       "kvmw_reason_stat size");
_Static_assert(sizeof(struct kvmw_vm_snapshot) == KVMW_VM_SNAPSHOT_SIZE_VER1,
	       "kvmw_vm_snapshot size");

#define CPUID_N		10
#define MAX_VCPUS	8
#define MAX_REASONS	512
#define EXTRA		24	/* bytes beyond the known sizes */

FIXTURE(uapi) {
	int fd;
	struct kvm_vm *vm_a;	/* 2 vCPUs */
	struct kvm_vm *vm_b;	/* 1 vCPU */
	uint64_t id_a;
	uint64_t id_b;
	uint32_t nr_vms;	/* VMs listed at setup */
	char *page;		/* 2 pages: read/write, then PROT_NONE */
	char *ro_page;		/* 1 read-only page */
	struct kvmw_vm_info *vms;
	struct kvmw_vcpu_info *vcpus;
	struct kvmw_reason_stat *reasons;
	char why[128];
};

/* Run a CPUID loop on each vCPU of a VM, on its own thread. */
static int run_vm(struct kvm_vm *vm, int nr_vcpus)
{
	int i, ret = 0;

	for (i = 0; i < nr_vcpus; i++) {
		if (!vcpu_add(vm))
			return -1;
		if (vcpu_load_prog(vm->vcpus[i], GUEST_PROG_CPUID, CPUID_N))
			return -1;
	}
	for (i = 0; i < nr_vcpus; i++)
		if (vcpu_start(vm->vcpus[i]))
			return -1;
	for (i = 0; i < nr_vcpus; i++)
		ret |= vcpu_join(vm->vcpus[i]);
	return ret;
}

FIXTURE_SETUP(uapi)
{
	struct kvmw_snap s;

	self->fd = kvmw_open();
	if (self->fd < 0) {
		snprintf(self->why, sizeof(self->why),
			 "%s: %s (kvmwarden not loaded)", KVMW_DEVICE_PATH,
			 strerror(-self->fd));
		return;
	}
	if (!kvm_available()) {
		snprintf(self->why, sizeof(self->why), "no usable /dev/kvm");
		return;
	}
	self->vm_a = vm_create(NULL);
	self->vm_b = vm_create(NULL);
	ASSERT_NE(NULL, self->vm_a);
	ASSERT_NE(NULL, self->vm_b);
	ASSERT_EQ(0, run_vm(self->vm_a, 2));
	ASSERT_EQ(0, run_vm(self->vm_b, 1));

	ASSERT_EQ(0, kvmw_find_kvm_vm(self->fd, self->vm_a, &s));
	self->id_a = s.hdr.vm_id;
	kvmw_snap_free(&s);
	ASSERT_EQ(0, kvmw_find_kvm_vm(self->fd, self->vm_b, &s));
	self->id_b = s.hdr.vm_id;
	kvmw_snap_free(&s);
	ASSERT_NE(self->id_a, self->id_b);

	ASSERT_EQ(0, kvmw_list_vms(self->fd, &self->vms, &self->nr_vms));
	ASSERT_LE(2, self->nr_vms);
	free(self->vms);
	/* room for VMs that appear meanwhile (none should, but be kind) */
	self->vms = calloc(self->nr_vms + 64, KVMW_VM_INFO_SIZE_VER0 + EXTRA);
	self->vcpus = calloc(MAX_VCPUS, sizeof(struct kvmw_vcpu_info) + EXTRA);
	self->reasons = calloc(MAX_REASONS,
			       sizeof(struct kvmw_reason_stat) + EXTRA);
	ASSERT_NE(NULL, self->vms);
	ASSERT_NE(NULL, self->vcpus);
	ASSERT_NE(NULL, self->reasons);

	self->page = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	ASSERT_EQ(0, mprotect(self->page + getpagesize(), getpagesize(),
			      PROT_NONE));
	/* a read-only page holding a valid handshake argument */
	self->ro_page = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ro_page);
	((struct kvmw_handshake *)self->ro_page)->size =
		sizeof(struct kvmw_handshake);
	ASSERT_EQ(0, mprotect(self->ro_page, getpagesize(), PROT_READ));
}

FIXTURE_TEARDOWN(uapi)
{
	if (self->fd >= 0)
		close(self->fd);
	vm_destroy(self->vm_a);
	vm_destroy(self->vm_b);
	free(self->vms);
	free(self->vcpus);
	free(self->reasons);
	if (self->page && self->page != MAP_FAILED)
		munmap(self->page, 2 * getpagesize());
	if (self->ro_page && self->ro_page != MAP_FAILED)
		munmap(self->ro_page, getpagesize());
}

#define REQUIRE_SETUP() do {						\
		if (self->why[0])					\
			SKIP(return, "%s", self->why);			\
	} while (0)

/* ioctl() returning 0 or the errno. */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static void list_init(FIXTURE_DATA(uapi) *self, struct kvmw_vm_list *l)
{
	memset(l, 0, sizeof(*l));
	l->size = sizeof(*l);
	l->vms_ptr = (uintptr_t)self->vms;
	l->vm_info_size = KVMW_VM_INFO_SIZE_VER0;
	l->max_vms = self->nr_vms + 64;
}

static void snap_init(FIXTURE_DATA(uapi) *self, struct kvmw_vm_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->vm_id = self->id_a;
	s->vcpus_ptr = (uintptr_t)self->vcpus;
	s->vcpu_info_size = sizeof(struct kvmw_vcpu_info);
	s->max_vcpus = MAX_VCPUS;
	s->reasons_ptr = (uintptr_t)self->reasons;
	s->reason_stat_size = sizeof(struct kvmw_reason_stat);
	s->max_reasons = MAX_REASONS;
}

static void hs_init(struct kvmw_handshake *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->size = sizeof(*hs);
}

static bool all_bytes(const void *p, size_t len, uint8_t val)
{
	const uint8_t *b = p;

	while (len--)
		if (*b++ != val)
			return false;
	return true;
}

TEST_F(uapi, handshake)
{
	struct kvmw_handshake hs;

	REQUIRE_SETUP();
	hs_init(&hs);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(sizeof(hs), hs.size);
	EXPECT_EQ(KVMW_API_VERSION, hs.api_version);
	EXPECT_EQ(0U, hs.reserved);
	EXPECT_TRUE(hs.features & KVMW_FEAT_EXIT_COUNTS);
	/* the VMs of the setup have exited, so the vendor is known */
	EXPECT_EQ((uint32_t)kvm_host_vendor(), hs.vendor);
	EXPECT_LE(2U, hs.nr_vms);
	EXPECT_LE(3U, hs.nr_vcpus);
	EXPECT_EQ(0ULL, hs.untracked_exits);
	EXPECT_LT(0U, hs.nr_reason_slots);
	TH_LOG("api %u vendor %u features 0x%llx vms %u vcpus %u reason slots %u",
	       hs.api_version, hs.vendor, (unsigned long long)hs.features,
	       hs.nr_vms, hs.nr_vcpus, hs.nr_reason_slots);
}

TEST_F(uapi, unknown_command)
{
	struct kvmw_handshake hs;
	char buf[256] = { 0 };

	REQUIRE_SETUP();
	hs_init(&hs);
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOWR(KVMW_IOC_MAGIC, 0x06,
						 struct kvmw_handshake), &hs));
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOWR(KVMW_IOC_MAGIC, 0xff,
						 struct kvmw_handshake), &hs));
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IO(KVMW_IOC_MAGIC, 0x40), buf));
	/* another driver's magic with a valid number */
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOWR(KVMW_IOC_MAGIC + 1, 0x00,
						 struct kvmw_handshake), &hs));
	EXPECT_EQ(ENOTTY, xioctl(self->fd, 0, buf));
	/* the device still works */
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs));
}

/* The size field in the struct is authoritative, not the command's. */
TEST_F(uapi, command_size_bits_ignored)
{
	struct kvmw_handshake hs;
	struct kvmw_vm_list l;

	REQUIRE_SETUP();
	hs_init(&hs);
	EXPECT_EQ(0, xioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					   KVMW_IOC_MAGIC, 0x00, 8), &hs));
	EXPECT_EQ(KVMW_API_VERSION, hs.api_version);
	hs_init(&hs);
	EXPECT_EQ(0, xioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					   KVMW_IOC_MAGIC, 0x00, 200), &hs));
	list_init(self, &l);
	EXPECT_EQ(0, xioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					   KVMW_IOC_MAGIC, 0x01, 0), &l));
	EXPECT_LE(2U, l.nr_vms);
}

TEST_F(uapi, size_too_small)
{
	static const uint32_t small[] = { 0, 4, 8 };
	struct kvmw_vm_snapshot s;
	struct kvmw_handshake hs;
	struct kvmw_vm_list l;
	unsigned int i;

	REQUIRE_SETUP();
	for (i = 0; i < 4; i++) {
		uint32_t sz = i < 3 ? small[i] : 0;

		hs_init(&hs);
		hs.size = i < 3 ? sz : KVMW_HANDSHAKE_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs))
			TH_LOG("handshake size %u", hs.size);
		list_init(self, &l);
		l.size = i < 3 ? sz : KVMW_VM_LIST_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l))
			TH_LOG("list size %u", l.size);
		snap_init(self, &s);
		s.size = i < 3 ? sz : KVMW_VM_SNAPSHOT_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s))
			TH_LOG("snapshot size %u", s.size);
	}
}

/* A newer caller's larger struct: fine while the unknown tail is zero. */
TEST_F(uapi, size_larger)
{
	union {
		struct kvmw_handshake hs;
		struct kvmw_vm_list l;
		struct kvmw_vm_snapshot s;
		uint8_t raw[sizeof(struct kvmw_vm_snapshot) + 64];
	} u;
	size_t pos;

	REQUIRE_SETUP();
	/* zero tail: accepted */
	memset(&u, 0, sizeof(u));
	hs_init(&u.hs);
	u.hs.size = sizeof(u.hs) + 16;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &u));
	EXPECT_EQ(KVMW_API_VERSION, u.hs.api_version);
	memset(&u, 0, sizeof(u));
	list_init(self, &u.l);
	u.l.size = sizeof(u.l) + 16;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_LIST_VMS, &u));
	EXPECT_LE(2U, u.l.nr_vms);
	memset(&u, 0, sizeof(u));
	snap_init(self, &u.s);
	u.s.size = sizeof(u.s) + 16;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &u));
	EXPECT_EQ(2U, u.s.nr_vcpus);

	/* a non-zero byte anywhere in the tail: E2BIG */
	for (pos = 0; pos < 16; pos += 5) {
		memset(&u, 0, sizeof(u));
		hs_init(&u.hs);
		u.hs.size = sizeof(u.hs) + 16;
		u.raw[sizeof(u.hs) + pos] = 1;
		EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &u))
			TH_LOG("handshake tail byte %zu", pos);
		memset(&u, 0, sizeof(u));
		list_init(self, &u.l);
		u.l.size = sizeof(u.l) + 16;
		u.raw[sizeof(u.l) + pos] = 0x80;
		EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_LIST_VMS, &u))
			TH_LOG("list tail byte %zu", pos);
		memset(&u, 0, sizeof(u));
		snap_init(self, &u.s);
		u.s.size = sizeof(u.s) + 16;
		u.raw[sizeof(u.s) + pos] = 0xff;
		EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &u))
			TH_LOG("snapshot tail byte %zu", pos);
	}
}

TEST_F(uapi, flags_nonzero)
{
	static const uint32_t bad[] = { 1, 2, 0x80000000U, 0xffffffffU };
	struct kvmw_vm_snapshot s;
	struct kvmw_handshake hs;
	struct kvmw_vm_list l;
	unsigned int i;

	REQUIRE_SETUP();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		hs_init(&hs);
		hs.flags = bad[i];
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs));
		list_init(self, &l);
		l.flags = bad[i];
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
		snap_init(self, &s);
		s.flags = bad[i];
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	}
}

TEST_F(uapi, reserved_nonzero)
{
	struct kvmw_handshake hs;
	struct kvmw_vm_list l;

	REQUIRE_SETUP();
	hs_init(&hs);
	hs.reserved = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs));
	hs_init(&hs);
	hs.reserved = 0x80000000U;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_HANDSHAKE, &hs));
	list_init(self, &l);
	l.reserved = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	list_init(self, &l);
	l.reserved = 0xffffffffU;
	EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
}

TEST_F(uapi, bad_pointers)
{
	char *none = self->page + getpagesize();	/* PROT_NONE */
	static const unsigned long cmds[] = {
		KVMW_IOC_HANDSHAKE, KVMW_IOC_LIST_VMS, KVMW_IOC_VM_SNAPSHOT,
	};
	struct kvmw_handshake *hs;
	struct kvmw_vm_snapshot s;
	struct kvmw_vm_list l;
	unsigned int i;

	REQUIRE_SETUP();
	/* the argument itself */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(EFAULT, xioctl(self->fd, cmds[i], NULL));
		EXPECT_EQ(EFAULT, xioctl(self->fd, cmds[i], (void *)1));
		EXPECT_EQ(EFAULT, xioctl(self->fd, cmds[i], none));
		EXPECT_EQ(EFAULT, xioctl(self->fd, cmds[i],
					 (void *)0xffff800000000000ULL));
	}

	/* a struct that ends exactly at the end of a readable page: fine */
	hs = (void *)(none - sizeof(*hs));
	hs_init(hs);
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_HANDSHAKE, hs));
	/* ... but a size claiming bytes in the unreadable page is not */
	hs_init(hs);
	hs->size = sizeof(*hs) + 8;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_HANDSHAKE, hs));

	/* valid but read-only argument: the answer cannot be written */
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_HANDSHAKE,
				 self->ro_page));

	/* arrays */
	list_init(self, &l);
	l.vms_ptr = 0;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	list_init(self, &l);
	l.vms_ptr = (uintptr_t)none;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	list_init(self, &l);
	l.vms_ptr = (uintptr_t)self->ro_page;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	list_init(self, &l);
	l.vms_ptr = 0xffff800000000000ULL;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));

	snap_init(self, &s);
	s.vcpus_ptr = 0;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	snap_init(self, &s);
	s.vcpus_ptr = (uintptr_t)none;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	snap_init(self, &s);
	s.reasons_ptr = 0;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	snap_init(self, &s);
	s.reasons_ptr = (uintptr_t)self->ro_page;
	EXPECT_EQ(EFAULT, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));

	/* the device still works */
	list_init(self, &l);
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
}

TEST_F(uapi, max_vms_too_small)
{
	struct kvmw_vm_list l;
	size_t bytes = (size_t)(self->nr_vms + 64) * KVMW_VM_INFO_SIZE_VER0;
	uint32_t nr;
	int ret;

	REQUIRE_SETUP();
	/*
	 * max_vms = 0 only queries nr_vms. The header allows reading this
	 * as success or as E2BIG; either way nr_vms must be set.
	 */
	list_init(self, &l);
	l.max_vms = 0;
	l.nr_vms = 0xdead;
	ret = xioctl(self->fd, KVMW_IOC_LIST_VMS, &l);
	EXPECT_TRUE(ret == 0 || ret == E2BIG) TH_LOG("errno %d", ret);
	EXPECT_LE(2U, l.nr_vms);
	EXPECT_GT(0xdeadU, l.nr_vms);

	memset(self->vms, 0xaa, bytes);
	list_init(self, &l);
	l.max_vms = 1;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	EXPECT_LE(2U, l.nr_vms);
	EXPECT_TRUE(all_bytes(self->vms, bytes, 0xaa))
		TH_LOG("the array was written despite E2BIG");

	/*
	 * and with room for as many VMs as E2BIG reported, the answer fits
	 * (list_init() clears nr_vms: keep the count from the answer). The
	 * array has room for those listed at setup and 64 more.
	 */
	nr = l.nr_vms;
	ASSERT_GE(self->nr_vms + 64, nr);
	list_init(self, &l);
	l.max_vms = nr;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	/* fewer if a gone VM was reaped meanwhile, never more */
	EXPECT_GE(nr, l.nr_vms);
}

TEST_F(uapi, snapshot_capacity_too_small)
{
	size_t vbytes = MAX_VCPUS * sizeof(struct kvmw_vcpu_info);
	size_t rbytes = MAX_REASONS * sizeof(struct kvmw_reason_stat);
	struct kvmw_vm_snapshot s, ok;

	REQUIRE_SETUP();
	snap_init(self, &ok);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &ok));
	ASSERT_EQ(2U, ok.nr_vcpus);
	ASSERT_LE(2U, ok.nr_reasons);

	memset(self->vcpus, 0xaa, vbytes);
	memset(self->reasons, 0xaa, rbytes);
	snap_init(self, &s);
	s.max_vcpus = 1;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	EXPECT_EQ(ok.nr_vcpus, s.nr_vcpus);
	EXPECT_EQ(ok.nr_reasons, s.nr_reasons);

	snap_init(self, &s);
	s.max_vcpus = 0;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	EXPECT_EQ(ok.nr_vcpus, s.nr_vcpus);

	snap_init(self, &s);
	s.max_reasons = ok.nr_reasons - 1;
	EXPECT_EQ(E2BIG, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	EXPECT_EQ(ok.nr_vcpus, s.nr_vcpus);
	EXPECT_EQ(ok.nr_reasons, s.nr_reasons);

	EXPECT_TRUE(all_bytes(self->vcpus, vbytes, 0xaa));
	EXPECT_TRUE(all_bytes(self->reasons, rbytes, 0xaa));

	/* exactly the needed capacities are enough */
	snap_init(self, &s);
	s.max_vcpus = ok.nr_vcpus;
	s.max_reasons = ok.nr_reasons;
	EXPECT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
}

TEST_F(uapi, unknown_vm_id)
{
	static const uint64_t ids[] = {
		0, ~0ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	};
	struct kvmw_vm_snapshot s;
	unsigned int i;

	REQUIRE_SETUP();
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		if (ids[i] == self->id_a || ids[i] == self->id_b)
			continue;
		snap_init(self, &s);
		s.vm_id = ids[i];
		EXPECT_EQ(ENOENT, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s))
			TH_LOG("vm_id 0x%llx", (unsigned long long)ids[i]);
	}
	/* ids are never 0 */
	EXPECT_NE(0ULL, self->id_a);
	EXPECT_NE(0ULL, self->id_b);
}

TEST_F(uapi, element_size_too_small)
{
	static const uint32_t sub[] = { 0, 1, 8 };
	struct kvmw_vm_snapshot s;
	struct kvmw_vm_list l;
	unsigned int i;

	REQUIRE_SETUP();
	for (i = 0; i < 4; i++) {
		list_init(self, &l);
		l.vm_info_size = i < 3 ? sub[i] : KVMW_VM_INFO_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l))
			TH_LOG("vm_info_size %u", l.vm_info_size);
		snap_init(self, &s);
		s.vcpu_info_size = i < 3 ? sub[i] :
				   KVMW_VCPU_INFO_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s))
			TH_LOG("vcpu_info_size %u", s.vcpu_info_size);
		snap_init(self, &s);
		s.reason_stat_size = i < 3 ? sub[i] :
				     KVMW_REASON_STAT_SIZE_VER0 - 1;
		EXPECT_EQ(EINVAL, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s))
			TH_LOG("reason_stat_size %u", s.reason_stat_size);
	}
}

/*
 * Other element sizes: a newer caller (larger elements) gets the same
 * bytes as a current one and zeroes beyond; an older one (VER0 elements)
 * gets the same first bytes and nothing more.
 */
TEST_F(uapi, element_size_larger)
{
	const uint32_t vsz = KVMW_VM_INFO_SIZE_VER0 + EXTRA;
	const uint32_t csz = sizeof(struct kvmw_vcpu_info) + EXTRA;
	const uint32_t rsz = sizeof(struct kvmw_reason_stat) + EXTRA;
	struct kvmw_vcpu_info ref_vcpus[MAX_VCPUS];
	struct kvmw_reason_stat *ref_reasons;
	struct kvmw_vm_snapshot s;
	struct kvmw_vm_list l;
	uint32_t i, found = 0;

	REQUIRE_SETUP();
	memset(self->vms, 0xaa, (size_t)(self->nr_vms + 64) * vsz);
	list_init(self, &l);
	l.vm_info_size = vsz;
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_LIST_VMS, &l));
	ASSERT_LE(2U, l.nr_vms);
	for (i = 0; i < l.nr_vms; i++) {
		struct kvmw_vm_info *vi = (void *)((char *)self->vms + i * vsz);

		EXPECT_TRUE(all_bytes((char *)vi + KVMW_VM_INFO_SIZE_VER0,
				      EXTRA, 0)) TH_LOG("vm %u tail", i);
		EXPECT_NE(0ULL, vi->vm_id);
		if (vi->vm_id == self->id_a || vi->vm_id == self->id_b) {
			EXPECT_EQ((uint32_t)getpid(), vi->vmm_pid);
			found++;
		}
	}
	EXPECT_EQ(2U, found);

	/* reference snapshot with current sizes (the VM is idle: stable) */
	snap_init(self, &s);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	ASSERT_EQ(2U, s.nr_vcpus);
	memcpy(ref_vcpus, self->vcpus, s.nr_vcpus * sizeof(ref_vcpus[0]));
	ref_reasons = calloc(s.nr_reasons, sizeof(*ref_reasons));
	ASSERT_NE(NULL, ref_reasons);
	memcpy(ref_reasons, self->reasons, s.nr_reasons * sizeof(*ref_reasons));

	memset(self->vcpus, 0xaa, MAX_VCPUS * csz);
	memset(self->reasons, 0xaa, (size_t)MAX_REASONS * rsz);
	snap_init(self, &s);
	s.vcpu_info_size = csz;
	s.reason_stat_size = rsz;
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	ASSERT_EQ(2U, s.nr_vcpus);
	for (i = 0; i < s.nr_vcpus; i++) {
		char *e = (char *)self->vcpus + i * csz;

		EXPECT_EQ(0, memcmp(e, &ref_vcpus[i], sizeof(ref_vcpus[i])));
		EXPECT_TRUE(all_bytes(e + sizeof(ref_vcpus[i]), EXTRA, 0));
	}
	for (i = 0; i < s.nr_reasons; i++) {
		char *e = (char *)self->reasons + i * rsz;

		EXPECT_EQ(0, memcmp(e, &ref_reasons[i], sizeof(ref_reasons[i])));
		EXPECT_TRUE(all_bytes(e + sizeof(ref_reasons[i]), EXTRA, 0));
	}

	/* VER0 elements: packed at their own stride, nothing after them */
	memset(self->vcpus, 0xaa, MAX_VCPUS * csz);
	memset(self->reasons, 0xaa, (size_t)MAX_REASONS * rsz);
	snap_init(self, &s);
	s.vcpu_info_size = KVMW_VCPU_INFO_SIZE_VER0;
	s.reason_stat_size = KVMW_REASON_STAT_SIZE_VER0;
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	ASSERT_EQ(2U, s.nr_vcpus);
	for (i = 0; i < s.nr_vcpus; i++)
		EXPECT_EQ(0, memcmp((char *)self->vcpus +
				    i * KVMW_VCPU_INFO_SIZE_VER0,
				    &ref_vcpus[i], KVMW_VCPU_INFO_SIZE_VER0));
	EXPECT_TRUE(all_bytes((char *)self->vcpus +
			      s.nr_vcpus * KVMW_VCPU_INFO_SIZE_VER0,
			      MAX_VCPUS * csz -
			      s.nr_vcpus * KVMW_VCPU_INFO_SIZE_VER0, 0xaa));
	for (i = 0; i < s.nr_reasons; i++)
		EXPECT_EQ(0, memcmp((char *)self->reasons +
				    i * KVMW_REASON_STAT_SIZE_VER0,
				    &ref_reasons[i],
				    KVMW_REASON_STAT_SIZE_VER0));
	EXPECT_TRUE(all_bytes((char *)self->reasons +
			      s.nr_reasons * KVMW_REASON_STAT_SIZE_VER0,
			      (size_t)MAX_REASONS * rsz -
			      s.nr_reasons * KVMW_REASON_STAT_SIZE_VER0, 0xaa));
	free(ref_reasons);
}

/* The content of a snapshot is consistent with itself and with the VM. */
TEST_F(uapi, snapshot_consistency)
{
	struct kvmw_handshake hs;
	struct kvmw_vm_snapshot s;
	uint64_t vm_exits = 0, vm_entries = 0;
	char comm[16] = { 0 };
	struct timespec now;
	uint32_t i, j, k;
	uint32_t cpuid;
	FILE *f;

	REQUIRE_SETUP();
	ASSERT_EQ(0, kvmw_handshake(self->fd, &hs));
	cpuid = exit_reason_code(kvm_host_vendor(), EXIT_KIND_CPUID);
	snap_init(self, &s);
	ASSERT_EQ(0, xioctl(self->fd, KVMW_IOC_VM_SNAPSHOT, &s));
	clock_gettime(CLOCK_BOOTTIME, &now);

	EXPECT_EQ(self->id_a, s.vm.vm_id);
	EXPECT_EQ((uint32_t)getpid(), s.vm.vmm_pid);
	EXPECT_EQ(2U, s.vm.nr_vcpus);
	EXPECT_EQ(0U, s.vm.flags & KVMW_VM_F_GONE);
	EXPECT_EQ(0ULL, s.vm.gone_ns);
	EXPECT_EQ((uint32_t)kvm_host_vendor(), s.vm.vendor);
	EXPECT_LT(0ULL, s.vm.first_seen_ns);
	EXPECT_GE((unsigned long long)now.tv_sec * 1000000000ULL + now.tv_nsec,
		  s.vm.first_seen_ns);
	f = fopen("/proc/self/comm", "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		EXPECT_EQ(0, strncmp(comm, (char *)s.vm.comm, sizeof(comm)))
			TH_LOG("comm '%s' vs '%.16s'", comm, s.vm.comm);
	}

	ASSERT_EQ(2U, s.nr_vcpus);
	for (i = 0; i < s.nr_vcpus; i++) {
		struct kvmw_vcpu_info *v = &self->vcpus[i];
		uint64_t sum = 0;
		int idx = -1;

		for (k = 0; k < 2; k++)
			if (self->vm_a->vcpus[k]->tid == (pid_t)v->tid)
				idx = k;
		ASSERT_LE(0, idx) TH_LOG("vCPU %u: tid %u is not ours", i,
					 v->tid);
		EXPECT_EQ((uint32_t)idx, v->vcpu_id);
		ASSERT_GE(s.nr_reasons, v->first_reason + v->nr_reasons);
		for (j = v->first_reason; j < v->first_reason + v->nr_reasons;
		     j++) {
			EXPECT_EQ(i, self->reasons[j].vcpu_index);
			EXPECT_LT(0ULL, self->reasons[j].count);
			for (k = j + 1; k < v->first_reason + v->nr_reasons; k++) {
				EXPECT_NE(self->reasons[j].reason,
					  self->reasons[k].reason);
			}
			sum += self->reasons[j].count;
		}
		EXPECT_EQ(0ULL, v->overflow_exits);
		EXPECT_EQ(v->exits, sum + v->overflow_exits);
		if (hs.features & (KVMW_FEAT_REASON_SVM | KVMW_FEAT_REASON_VMX)) {
			struct kvmw_snap tmp = {
				.hdr = s, .vcpus = self->vcpus,
				.reasons = self->reasons,
			};

			EXPECT_EQ((uint64_t)CPUID_N,
				  kvmw_snap_count(&tmp, i, cpuid));
		}
		vm_exits += v->exits;
		vm_entries += v->entries;
	}
	EXPECT_EQ(vm_exits, s.vm.exits);
	EXPECT_EQ(vm_entries, s.vm.entries);
}

TEST_HARNESS_MAIN
