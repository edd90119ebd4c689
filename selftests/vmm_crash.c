// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_crash - VMMs killed with SIGKILL in the middle of KVM_RUN, again and
 * again, while another thread reads kvmwarden.
 *
 * sigkill_loop: ITERATIONS times, a forked child (the VMM) creates two VMs
 * of three vCPUs: vCPU 0 spins in the guest (CPUID batches), vCPU 1 stops
 * in a return to userspace (its thread sleeps in the middle of handling a
 * port write, so KVM_RUN is not running), vCPU 2 is created and never run.
 * On even iterations the child is killed once every vCPU that runs has
 * run and kvmwarden lists both VMs with two vCPUs each; on odd iterations
 * at a random point between fork() and 1.5 times the time the last even
 * iteration took to get there: while the VMs and vCPUs are being created,
 * start, or run. Meanwhile one thread reads every
 * statistic with KVMW_IOC_STATS_READ, another the event stream. Checks:
 *  - every VM of every child is flagged gone within GONE_MS of the
 *    child's death;
 *  - every tracked VM has exactly one VM_NEW and one VM_GONE event, whose
 *    final exits are what the list shows for the gone VM; no event was
 *    lost, no read failed, no exit went untracked;
 *  - once gone_retention_ms has passed, the number of tracked VMs and
 *    vCPUs is what it was before the loop, and nothing of the children is
 *    listed;
 *  - KVM really destroyed every VM: kvm_amd's (kvm_intel's) reference
 *    count, which each VM holds, is back to its value before the loop, and
 *    no KVM debugfs directory of a child is left (kvmwarden holds a
 *    reference on that directory as a VM's lifetime token);
 *  - kvmwarden's reference count is 0 and it unloads within UNLOAD_MS,
 *    then loads again.
 * Memory leaks show in kmemleak's report on the debug kernel (make
 * check-debug), which the harness checks.
 *
 * Environment: KVMW_CRASH_ITERATIONS (default ITERATIONS).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define ITERATIONS	16
#define NR_VMS		2
#define NR_VCPUS	3	/* the third never runs */
#define SPIN_BATCH	100
#define GONE_MS		5000
#define UNLOAD_MS	10000
#define MAX_IDS		(4 * ITERATIONS_MAX)
#define ITERATIONS_MAX	500
#define PARAMS		"/sys/module/kvmwarden/parameters/"

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

/* ---- the VMM ---- */

static int hook_fd = -1;

/* vCPU 1's phase report: tell the VMM, then stay out of KVM_RUN. */
static void park(struct kvm_vcpu *vcpu, unsigned int phase, void *arg)
{
	char c = 'p';

	(void)vcpu;
	(void)phase;
	(void)arg;
	if (write(hook_fd, &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

/*
 * The child: create and start the VMs; with @ready_fd >= 0, write one byte
 * there once every vCPU that runs has run. Never returns: it is killed.
 */
static void vmm(int ready_fd)
{
	struct kvm_vm *vms[NR_VMS];
	int pipefd[2], v, c, parked = 0;
	char b;

	if (pipe(pipefd))
		_exit(2);
	hook_fd = pipefd[1];
	for (v = 0; v < NR_VMS; v++) {
		vms[v] = vm_create(NULL);
		if (!vms[v])
			_exit(2);
		for (c = 0; c < NR_VCPUS; c++)
			if (!vcpu_add(vms[v]))
				_exit(2);
		if (vcpu_load_prog(vms[v]->vcpus[0], GUEST_PROG_CPUID_SPIN,
				   SPIN_BATCH) ||
		    vcpu_load_prog(vms[v]->vcpus[1], GUEST_PROG_CPUID, 10))
			_exit(2);
		vcpu_set_phase_hook(vms[v]->vcpus[1], park, NULL);
		if (vcpu_start(vms[v]->vcpus[0]) ||
		    vcpu_start(vms[v]->vcpus[1]))
			_exit(2);
	}
	while (parked < NR_VMS)
		if (read(pipefd[0], &b, 1) == 1)
			parked++;
	for (v = 0; v < NR_VMS; v++)
		while (vcpu_spin_batches(vms[v]->vcpus[0]) < 1)
			util_sleep_ms(1);
	if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

/* ---- the readers ---- */

struct gone_ev {
	uint64_t vm_id;
	uint64_t exits;
	unsigned int nr_new, nr_gone;
};

struct readers {
	pthread_t stats_thread, events_thread;
	int stop;
	int stats_fd, events_fd;
	unsigned long reads, events, errors, lost, overflow;
	pthread_mutex_t lock;
	pid_t pids[ITERATIONS_MAX];	/* the children */
	unsigned int nr_pids;
	struct gone_ev ids[MAX_IDS];	/* their VMs */
	unsigned int nr_ids;
	char msg[256];
};

static void reader_error(struct readers *r, const char *what, int err)
{
	if (!__atomic_fetch_add(&r->errors, 1, __ATOMIC_RELAXED))
		snprintf(r->msg, sizeof(r->msg), "%s: %s", what, strerror(err));
}

static void *stats_reader(void *arg)
{
	struct readers *r = arg;
	size_t vm_rec = KVMW_VM_REC_HDR_SIZE + 8 * 64;
	size_t vcpu_rec = KVMW_VCPU_REC_HDR_SIZE + 8 * 256;
	size_t reason_rec = KVMW_REASON_REC_HDR_SIZE + 8 * 64;
	unsigned int cap = 1024;
	void *vms = calloc(cap, vm_rec), *vcpus = calloc(cap, vcpu_rec);
	void *reasons = calloc(cap, reason_rec);

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
			.max_reasons = cap,
		};

		if (!vms || !vcpus || !reasons) {
			reader_error(r, "calloc", ENOMEM);
			break;
		}
		if (ioctl(r->stats_fd, KVMW_IOC_STATS_READ, &rd))
			reader_error(r, "KVMW_IOC_STATS_READ", errno);
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	}
	free(vms);
	free(vcpus);
	free(reasons);
	return NULL;
}

static bool is_child(struct readers *r, uint32_t pid)
{
	unsigned int i;

	for (i = 0; i < r->nr_pids; i++)
		if ((uint32_t)r->pids[i] == pid)
			return true;
	return false;
}

/* The entry of @vm_id (created when new), or NULL when full. */
static struct gone_ev *vm_entry(struct readers *r, uint64_t vm_id)
{
	unsigned int i;

	for (i = 0; i < r->nr_ids; i++)
		if (r->ids[i].vm_id == vm_id)
			return &r->ids[i];
	if (r->nr_ids == MAX_IDS) {
		r->overflow++;
		return NULL;
	}
	r->ids[r->nr_ids].vm_id = vm_id;
	return &r->ids[r->nr_ids++];
}

static int read_events(struct readers *r)
{
	struct kvmw_event ev[16];
	struct gone_ev *g;
	ssize_t n;
	int i;

	for (;;) {
		n = read(r->events_fd, ev, sizeof(ev));
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		pthread_mutex_lock(&r->lock);
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			r->events++;
			r->lost += ev[i].lost;
			if (!is_child(r, ev[i].vmm_pid))
				continue;
			g = vm_entry(r, ev[i].vm_id);
			if (!g)
				continue;
			if (ev[i].type == KVMW_EVENT_VM_NEW) {
				g->nr_new++;
			} else if (ev[i].type == KVMW_EVENT_VM_GONE) {
				g->nr_gone++;
				g->exits = ev[i].data[KVMW_EVENT_GONE_EXITS];
			}
		}
		pthread_mutex_unlock(&r->lock);
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

/* ---- the test ---- */

static const char * const saved_params[] = {
	"gone_retention_ms", "sweep_interval_ms",
};

FIXTURE(crash) {
	char old[2][32];
	bool saved;
	struct readers rd;
	bool reading;
	pid_t child;
	char why[160];
};

FIXTURE_SETUP(crash)
{
	self->rd.stats_fd = -1;
	self->rd.events_fd = -1;
	pthread_mutex_init(&self->rd.lock, NULL);
	if (geteuid())
		snprintf(self->why, sizeof(self->why), "needs root");
	else if (!module_loaded(KVMW_MODULE_NAME))
		snprintf(self->why, sizeof(self->why),
			 "kvmwarden is not loaded");
	else if (!kvm_available())
		snprintf(self->why, sizeof(self->why), "no usable /dev/kvm");
}

FIXTURE_TEARDOWN(crash)
{
	unsigned int i;

	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->reading) {
		__atomic_store_n(&self->rd.stop, 1, __ATOMIC_RELEASE);
		pthread_join(self->rd.stats_thread, NULL);
		pthread_join(self->rd.events_thread, NULL);
	}
	if (self->rd.stats_fd >= 0)
		close(self->rd.stats_fd);
	if (self->rd.events_fd >= 0)
		close(self->rd.events_fd);
	if (self->why[0])
		return;
	if (!module_loaded(KVMW_MODULE_NAME))
		module_load(kvmw_module_path(), "");
	if (self->saved)
		for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
			char p[128];

			snprintf(p, sizeof(p), PARAMS "%s", saved_params[i]);
			util_write_str(p, self->old[i]);
		}
}

/* VMs of @pid in the list: all, and those flagged gone. */
static int child_vms(int fd, pid_t pid, struct kvmw_vm_info *out,
		     unsigned int max, unsigned int *gone)
{
	struct kvmw_vm_info *list;
	uint32_t nr, i;
	unsigned int n = 0;
	int ret;

	*gone = 0;
	ret = kvmw_list_vms(fd, &list, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		if (list[i].vmm_pid != (uint32_t)pid)
			continue;
		if (n < max)
			out[n] = list[i];
		n++;
		*gone += !!(list[i].flags & KVMW_VM_F_GONE);
	}
	free(list);
	return n;
}

/* No VM in the list is flagged gone. */
static bool gone_free(int fd)
{
	struct kvmw_vm_info *list;
	uint32_t nr, i;
	bool ret = true;

	if (kvmw_list_vms(fd, &list, &nr))
		return false;
	for (i = 0; i < nr; i++)
		if (list[i].flags & KVMW_VM_F_GONE)
			ret = false;
	free(list);
	return ret;
}

/* KVM's debugfs directories "<pid>-<fd>" of @pid. */
static int kvm_debugfs_dirs(pid_t pid)
{
	DIR *d = opendir("/sys/kernel/debug/kvm");
	struct dirent *e;
	char prefix[32];
	int n = 0;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "%d-", pid);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

TEST_F_TIMEOUT(crash, sigkill_loop, 600)
{
	unsigned int iterations = ITERATIONS, it, i, gone, tracked = 0;
	struct kvmw_vm_info vms[8];
	struct kvmw_handshake hs0, hs;
	double t0, gone_max = 0, t_ready = 30;
	unsigned int odd_tracked = 0;
	long vendor_ref;
	int fd, n, status, ready[2], ret;
	char b;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (getenv("KVMW_CRASH_ITERATIONS"))
		iterations = strtoul(getenv("KVMW_CRASH_ITERATIONS"), NULL, 0);
	ASSERT_GE(ITERATIONS_MAX, iterations);
	srand(getpid());

	for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
		char p[128];

		snprintf(p, sizeof(p), PARAMS "%s", saved_params[i]);
		ASSERT_EQ(0, util_read_str(p, self->old[i], sizeof(self->old[i])));
	}
	self->saved = true;
	/* Quick detection of the dead; gone VMs kept until the end. */
	ASSERT_EQ(0, util_write_str(PARAMS "sweep_interval_ms", "100"));
	fd = kvmw_open();
	ASSERT_LE(0, fd);
	self->rd.stats_fd = fd;
	/* The baseline: earlier tests' gone VMs reaped first. */
	ASSERT_EQ(0, util_write_str(PARAMS "gone_retention_ms", "0"));
	t0 = util_now_ms();
	do {
		util_sleep_ms(100);
		ASSERT_EQ(0, kvmw_handshake(fd, &hs0));
		ASSERT_EQ(0, kvmw_handshake(fd, &hs));
	} while ((hs.nr_vms != hs0.nr_vms || !gone_free(fd)) &&
		 util_now_ms() - t0 < GONE_MS);
	ASSERT_TRUE(gone_free(fd));
	ASSERT_EQ(0, util_write_str(PARAMS "gone_retention_ms", "600000"));
	self->rd.events_fd = open(KVMW_DEVICE_PATH,
				  O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->rd.events_fd);
	vendor_ref = module_refcnt(vendor_module());
	ASSERT_LE(0, vendor_ref);
	ASSERT_EQ(0, pthread_create(&self->rd.stats_thread, NULL,
				    stats_reader, &self->rd));
	ASSERT_EQ(0, pthread_create(&self->rd.events_thread, NULL,
				    events_reader, &self->rd));
	self->reading = true;

	t0 = util_now_ms();
	for (it = 0; it < iterations; it++) {
		bool wait_ready = !(it & 1);
		double t = util_now_ms();

		ASSERT_EQ(0, pipe(ready));
		self->child = fork();
		ASSERT_LE(0, self->child);
		if (!self->child) {
			close(ready[0]);
			vmm(wait_ready ? ready[1] : -1);
		}
		close(ready[1]);
		pthread_mutex_lock(&self->rd.lock);
		self->rd.pids[self->rd.nr_pids++] = self->child;
		pthread_mutex_unlock(&self->rd.lock);
		if (wait_ready) {
			ASSERT_EQ(1, read(ready[0], &b, 1))
				TH_LOG("iteration %u: the VMM died", it);
			t_ready = util_now_ms() - t;
			/* Both VMs tracked with their two vCPUs that ran. */
			n = child_vms(fd, self->child, vms, ARRAY_SIZE(vms),
				      &gone);
			ASSERT_EQ(NR_VMS, n);
			for (i = 0; i < NR_VMS; i++)
				EXPECT_EQ(2, vms[i].nr_vcpus);
			/* Mid-run: some exits happen after the ready byte. */
			util_sleep_ms(rand() % 10);
		} else {
			util_sleep_ms(rand() % (int)(t_ready * 1.5 + 1));
		}
		close(ready[0]);
		ASSERT_EQ(0, kill(self->child, SIGKILL));
		ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL)
			TH_LOG("iteration %u: VMM status %#x", it, status);

		/* Every VM it had is found gone. */
		t = util_now_ms();
		do {
			n = child_vms(fd, self->child, vms, ARRAY_SIZE(vms),
				      &gone);
			ASSERT_LE(0, n);
			if ((unsigned int)n == gone)
				break;
			util_sleep_ms(20);
		} while (util_now_ms() - t < GONE_MS);
		t = util_now_ms() - t;
		gone_max = t > gone_max ? t : gone_max;
		EXPECT_EQ(n, (int)gone)
			TH_LOG("iteration %u: %d VMs, %u gone after %d ms", it,
			       n, gone, GONE_MS);
		tracked += n;
		odd_tracked += wait_ready ? 0 : n;
		self->child = 0;
	}
	TH_LOG("%u VMMs killed in %.0f ms, %u VMs tracked (%u killed at random); slowest gone %.0f ms",
	       iterations, util_now_ms() - t0, tracked, odd_tracked, gone_max);
	EXPECT_LE(iterations / 2 * NR_VMS, tracked);

	/* Let the event reader catch the last VM_GONE events. */
	util_sleep_ms(500);
	__atomic_store_n(&self->rd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(self->rd.stats_thread, NULL);
	pthread_join(self->rd.events_thread, NULL);
	self->reading = false;
	ASSERT_EQ(0, read_events(&self->rd));
	EXPECT_EQ(0, self->rd.errors) TH_LOG("%s", self->rd.msg);
	EXPECT_EQ(0, self->rd.lost);
	EXPECT_EQ(0, self->rd.overflow);
	EXPECT_LT(0, self->rd.reads);
	TH_LOG("%lu statistics reads, %lu events", self->rd.reads,
	       self->rd.events);

	/* Each tracked VM: one VM_NEW, one VM_GONE with the final exits. */
	EXPECT_EQ(tracked, self->rd.nr_ids);
	for (it = 0; it < self->rd.nr_pids; it++) {
		n = child_vms(fd, self->rd.pids[it], vms, ARRAY_SIZE(vms),
			      &gone);
		ASSERT_LE(0, n);
		for (i = 0; i < (unsigned int)n && i < ARRAY_SIZE(vms); i++) {
			struct gone_ev *g = vm_entry(&self->rd, vms[i].vm_id);

			ASSERT_NE(NULL, g);
			EXPECT_EQ(1, g->nr_new)
				TH_LOG("VM %llu", (unsigned long long)g->vm_id);
			EXPECT_EQ(1, g->nr_gone)
				TH_LOG("VM %llu", (unsigned long long)g->vm_id);
			EXPECT_EQ(vms[i].exits, g->exits)
				TH_LOG("VM %llu: exits listed against VM_GONE",
				       (unsigned long long)g->vm_id);
		}
	}

	/* Reaped: back to the counts before, nothing of the children. */
	ASSERT_EQ(0, util_write_str(PARAMS "gone_retention_ms", "0"));
	t0 = util_now_ms();
	do {
		util_sleep_ms(100);
		ASSERT_EQ(0, kvmw_handshake(fd, &hs));
	} while ((hs.nr_vms > hs0.nr_vms || hs.nr_vcpus > hs0.nr_vcpus) &&
		 util_now_ms() - t0 < GONE_MS);
	/*
	 * At most as many as before: a VM of an earlier test may have been
	 * reaped meanwhile (gone_retention_ms is 0 now), ours are checked
	 * one by one below.
	 */
	EXPECT_GE(hs0.nr_vms, hs.nr_vms);
	EXPECT_GE(hs0.nr_vcpus, hs.nr_vcpus);
	EXPECT_EQ(hs0.untracked_exits, hs.untracked_exits);
	for (it = 0; it < self->rd.nr_pids; it++) {
		pid_t pid = self->rd.pids[it];

		EXPECT_EQ(0, child_vms(fd, pid, vms, ARRAY_SIZE(vms), &gone))
			TH_LOG("VMM %d", pid);
		EXPECT_EQ(0, kvm_debugfs_dirs(pid)) TH_LOG("VMM %d", pid);
	}
	EXPECT_EQ(vendor_ref, module_refcnt(vendor_module()))
		TH_LOG("%s reference count: a VM was not destroyed",
		       vendor_module());

	/* The module lets go. */
	close(self->rd.stats_fd);
	self->rd.stats_fd = -1;
	close(self->rd.events_fd);
	self->rd.events_fd = -1;
	EXPECT_EQ(0, module_refcnt(KVMW_MODULE_NAME));
	ret = module_unload(KVMW_MODULE_NAME, UNLOAD_MS);
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	EXPECT_FALSE(module_loaded(KVMW_MODULE_NAME));
	ASSERT_EQ(0, module_load(kvmw_module_path(), ""));
	ASSERT_EQ(0, kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV,
					 5000));
	self->saved = false;
}

TEST_HARNESS_MAIN
