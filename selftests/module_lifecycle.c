// SPDX-License-Identifier: GPL-2.0
/*
 * module_lifecycle - loading and unloading kvmwarden.ko, with
 * finit_module(2) and delete_module(2) directly.
 *
 * Runs first in the test VM, which boots with no module loaded. The cases
 * run in order and build on each other:
 *  1. without kvm, loading kvmwarden.ko fails with ENOENT (unknown symbol)
 *     and leaves nothing behind
 *  2. the KVM modules of $KVMW_KVM_MODULES load, in order
 *  3. kvmwarden.ko loads, /dev/kvmwarden appears, the handshake answers
 *  4. the module cannot be unloaded while /dev/kvmwarden is open
 *  5. unload and reload, three times
 *  6. unload while 2 VMs x 2 vCPUs run CPUID loops, reload while they
 *     still run: the guests finish normally, the module sees them again
 *  7. kvm, the KVM vendor module and kvmwarden are loaded at the end, as
 *     the tests that follow need them
 *
 * Environment: KVMW_MODULE (default /lib/kvmwarden/kvmwarden.ko) and
 * KVMW_KVM_MODULES (space-separated .ko paths of kvm.ko, its dependencies
 * and kvm-amd.ko or kvm-intel.ko, in load order).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define SPIN_BATCH	1000	/* CPUIDs between two progress reports */
#define NR_VMS		2
#define NR_VCPUS	2

FIXTURE(lifecycle) {
	const char *path;
	bool had_kvmw;		/* kvmwarden was loaded before the case */
	char why[160];
};

FIXTURE_SETUP(lifecycle)
{
	self->path = kvmw_module_path();
	self->had_kvmw = module_loaded(KVMW_MODULE_NAME);
	if (geteuid())
		snprintf(self->why, sizeof(self->why),
			 "loading modules needs root");
}

/* A case that found kvmwarden loaded leaves it loaded, even on failure. */
FIXTURE_TEARDOWN(lifecycle)
{
	if (!self->why[0] && self->had_kvmw &&
	    !module_loaded(KVMW_MODULE_NAME) && !access(self->path, R_OK))
		module_load(self->path, "");
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Load kvmwarden and check the device and the handshake. */
static void load_kvmwarden(struct __test_metadata *_metadata,
			   const char *path)
{
	struct kvmw_handshake hs;
	int fd;

	ASSERT_EQ(0, module_load(path, ""));
	ASSERT_TRUE(module_loaded(KVMW_MODULE_NAME));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
	fd = kvmw_open();
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", KVMW_DEVICE_PATH,
				strerror(-fd));
	EXPECT_EQ(0, kvmw_handshake(fd, &hs));
	EXPECT_EQ(KVMW_API_VERSION, hs.api_version);
	EXPECT_TRUE(hs.features & KVMW_FEAT_EXIT_COUNTS);
	close(fd);
}

/* Unload kvmwarden and check that nothing of it is left. */
static void unload_kvmwarden(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, module_unload(KVMW_MODULE_NAME, 10000));
	EXPECT_FALSE(module_loaded(KVMW_MODULE_NAME));
	EXPECT_NE(0, access("/sys/class/misc/kvmwarden", F_OK));
	EXPECT_GT(0, kvmw_open());
}

TEST_F(lifecycle, load_without_kvm_fails)
{
	int i;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (module_loaded("kvm"))
		SKIP(return, "kvm is already loaded");
	if (module_loaded(KVMW_MODULE_NAME))
		SKIP(return, "kvmwarden is already loaded");
	if (access(self->path, R_OK))
		SKIP(return, "no %s", self->path);

	/* twice: a failed load must not leave state that changes the next */
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-ENOENT, module_load(self->path, ""));
		EXPECT_FALSE(module_loaded(KVMW_MODULE_NAME));
		EXPECT_NE(0, access("/sys/class/misc/kvmwarden", F_OK));
		EXPECT_GT(0, kvmw_open());
	}
	EXPECT_FALSE(module_loaded("kvm"));
}

TEST_F(lifecycle, load_kvm)
{
	const char *list = getenv("KVMW_KVM_MODULES");
	char *copy, *path, *save = NULL;
	int ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!list || !*list) {
		if (module_loaded("kvm") && kvm_backend_is_hw())
			return;
		SKIP(return, "KVMW_KVM_MODULES not set and kvm not loaded");
	}
	copy = strdup(list);
	ASSERT_NE(NULL, copy);
	for (path = strtok_r(copy, " \t\n", &save); path;
	     path = strtok_r(NULL, " \t\n", &save)) {
		char name[64];

		module_name_from_path(path, name, sizeof(name));
		ret = module_load(path, "");
		EXPECT_TRUE(ret == 0 || ret == -EEXIST)
			TH_LOG("%s: %s", path, strerror(-ret));
		EXPECT_TRUE(module_loaded(name)) TH_LOG("%s", name);
	}
	free(copy);
	ASSERT_TRUE(module_loaded("kvm"));
	EXPECT_TRUE(kvm_backend_is_hw());
	ASSERT_EQ(0, kvmw_ensure_devnode(KVM_DEV_PATH, "/sys/class/misc/kvm/dev",
					 5000));
	EXPECT_TRUE(kvm_available());
}

TEST_F(lifecycle, load_kvmwarden)
{
	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!module_loaded("kvm"))
		SKIP(return, "kvm is not loaded");
	if (access(self->path, R_OK))
		SKIP(return, "no %s", self->path);
	if (module_loaded(KVMW_MODULE_NAME))
		unload_kvmwarden(_metadata);
	load_kvmwarden(_metadata, self->path);
	/* a second load of the same module */
	EXPECT_EQ(-EEXIST, module_load(self->path, ""));
}

TEST_F(lifecycle, unload_refused_while_open)
{
	struct kvmw_handshake hs;
	int fd, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!module_loaded(KVMW_MODULE_NAME))
		SKIP(return, "kvmwarden is not loaded");
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	/* an open file holds a reference on the module (fops owner) */
	ret = module_unload(KVMW_MODULE_NAME, 0);
	EXPECT_TRUE(ret == -EAGAIN || ret == -EBUSY)
		TH_LOG("delete_module: %s", strerror(-ret));
	EXPECT_TRUE(module_loaded(KVMW_MODULE_NAME));
	EXPECT_EQ(0, kvmw_handshake(fd, &hs));
	close(fd);
	if (!ret)
		load_kvmwarden(_metadata, self->path);
}

TEST_F_TIMEOUT(lifecycle, reload_three_times, 120)
{
	int i;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!module_loaded(KVMW_MODULE_NAME))
		SKIP(return, "kvmwarden is not loaded");
	for (i = 0; i < 3; i++) {
		unload_kvmwarden(_metadata);
		load_kvmwarden(_metadata, self->path);
	}
}

/* Wait until every vCPU has made @more batches since @base. */
static bool wait_progress(struct kvm_vm **vms, uint64_t base[][NR_VCPUS],
			  uint64_t more, int timeout_ms)
{
	int v, c, waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		bool all = true;

		for (v = 0; v < NR_VMS; v++)
			for (c = 0; c < NR_VCPUS; c++)
				if (vcpu_finished(vms[v]->vcpus[c]))
					return false;	/* failed */
				else if (vcpu_spin_batches(vms[v]->vcpus[c]) <
					 base[v][c] + more)
					all = false;
		if (all)
			return true;
		sleep_ms(20);
	}
	return false;
}

static void mark_progress(struct kvm_vm **vms, uint64_t base[][NR_VCPUS])
{
	int v, c;

	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			base[v][c] = vcpu_spin_batches(vms[v]->vcpus[c]);
}

TEST_F_TIMEOUT(lifecycle, unload_reload_while_running, 600)
{
	struct kvm_vm *vms[NR_VMS] = { NULL };
	uint64_t base[NR_VMS][NR_VCPUS] = { { 0 } };
	struct kvmw_snapshot s;
	struct kvmw_source src;
	const struct kvmw_vm *vm;
	int v, c, waited, found;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!module_loaded(KVMW_MODULE_NAME))
		SKIP(return, "kvmwarden is not loaded");
	if (!kvm_available())
		SKIP(return, "no usable /dev/kvm");

	for (v = 0; v < NR_VMS; v++) {
		vms[v] = vm_create(NULL);
		ASSERT_NE(NULL, vms[v]);
		for (c = 0; c < NR_VCPUS; c++) {
			ASSERT_NE(NULL, vcpu_add(vms[v]));
			ASSERT_EQ(0, vcpu_load_prog(vms[v]->vcpus[c],
						    GUEST_PROG_CPUID_SPIN,
						    SPIN_BATCH));
		}
	}
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++) {
			ASSERT_EQ(0, vcpu_start(vms[v]->vcpus[c]));
		}
	EXPECT_TRUE(wait_progress(vms, base, 3, 120000));

	/* the module sees the running VMs */
	ASSERT_EQ(0, kvmw_src_open(&src));
	for (v = 0; v < NR_VMS; v++) {
		EXPECT_EQ(0, kvmw_take_kvm_vm(&src, vms[v], &s, &vm));
		kvmw_snapshot_free(&s);
	}
	kvmw_source_close(&src);

	/* unload under load; the guests go on */
	unload_kvmwarden(_metadata);
	mark_progress(vms, base);
	EXPECT_TRUE(wait_progress(vms, base, 3, 120000))
		TH_LOG("vCPUs stalled after the unload");

	/* reload under load; the guests go on and the module sees them */
	load_kvmwarden(_metadata, self->path);
	mark_progress(vms, base);
	EXPECT_TRUE(wait_progress(vms, base, 3, 120000))
		TH_LOG("vCPUs stalled after the reload");
	ASSERT_EQ(0, kvmw_src_open(&src));
	for (waited = 0, found = 0; waited < 30000; waited += 100) {
		for (v = 0, found = 0; v < NR_VMS; v++) {
			if (!kvmw_take_kvm_vm(&src, vms[v], &s, &vm) &&
			    vm->nr_vcpus_detail == NR_VCPUS && vm->exits)
				found++;
			kvmw_snapshot_free(&s);
		}
		if (found == NR_VMS)
			break;
		sleep_ms(100);
	}
	EXPECT_EQ(NR_VMS, found)
		TH_LOG("the reloaded module does not list the running VMs");
	kvmw_source_close(&src);

	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++)
			vcpu_spin_stop(vms[v]->vcpus[c]);
	for (v = 0; v < NR_VMS; v++)
		for (c = 0; c < NR_VCPUS; c++) {
			struct kvm_vcpu *vcpu = vms[v]->vcpus[c];

			EXPECT_EQ(0, vcpu_join(vcpu)) TH_LOG("%s", vcpu->res.msg);
			EXPECT_TRUE(vcpu->res.done);
		}
	for (v = 0; v < NR_VMS; v++)
		vm_destroy(vms[v]);
}

TEST_F(lifecycle, modules_left_loaded)
{
	struct kvmw_handshake hs;
	int fd;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (access(self->path, R_OK) && !module_loaded(KVMW_MODULE_NAME))
		SKIP(return, "no %s", self->path);
	EXPECT_TRUE(module_loaded("kvm"));
	EXPECT_TRUE(kvm_backend_is_hw());
	ASSERT_TRUE(module_loaded(KVMW_MODULE_NAME));
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, kvmw_handshake(fd, &hs));
	close(fd);
}

TEST_HARNESS_MAIN
