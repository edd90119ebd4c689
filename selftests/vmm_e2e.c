// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_e2e - kvmwarden watching a real VMM end to end.
 *
 * Debian's qemu-system-x86_64 (-accel kvm) runs a small guest whose
 * firmware this test writes at run time: a 64 KiB -bios image whose reset
 * vector jumps to 16-bit real-mode code that does an exactly known mix of
 * exits and then parks with interrupts off:
 *
 *	OUT 0xff to port 0x21 (mask the PIC)	1 IOIO, in kernel
 *	CPUID x NR_CPUID			NR_CPUID CPUID, in kernel
 *	OUT to port 0x80 x NR_OUT		NR_OUT IOIO, to QEMU (ioport80)
 *	IN from port 0x21 x NR_IN		NR_IN IOIO, in kernel (PIC IMR)
 *	VMMCALL (VMCALL) x NR_HC		NR_HC hypercalls, unknown number
 *	CLI; HLT				1 HLT; nothing wakes the vCPU
 *
 * No SeaBIOS, no kernel, no stack, no data access: besides these, the
 * guest only causes nested page faults on its code pages and host
 * interrupts (INTR exits) while it runs. QEMU causes no exits before the
 * first KVM_RUN; a signal to the vCPU thread would add an INTR exit and a
 * return to userspace, both counted by KVM and kvmwarden alike.
 *
 * Once the HLT has been counted and the numbers are stable, the test
 * checks against the program and against KVM's own counters of that VM
 * (debugfs /sys/kernel/debug/kvm/<qemu pid>-<vm fd>/, VM-wide sums of the
 * vCPU statistics):
 *  - kvmwarden's CPUID, IOIO, VMMCALL and HLT counts equal the program's
 *    exactly, no exit is undecoded and there is no other reason than
 *    these, NPF and INTR;
 *  - "exits" (every hardware exit; no fastpath re-entry happens: the
 *    guest never writes an MSR) equals kvmwarden's total, which equals
 *    the sum of its reasons;
 *  - "io_exits" (SVM/VMX I/O exit handler) equals IOIO, "halt_exits"
 *    equals HLT, "irq_exits" (external interrupt handler) equals INTR,
 *    "hypercalls" equals VMMCALL, "pf_taken" (faults handed to the MMU)
 *    equals NPF and kvmwarden's faults, "mmio_exits" is 0;
 *  - the one vCPU is QEMU's "CPU 0/KVM" thread, the VM's pid is QEMU's,
 *    entries equal exits, and the HLT, which no entry followed, is the
 *    one exit not timed;
 *  - the returns to userspace kvmwarden saw are the NR_OUT port writes
 *    plus at most KVM's "signal_exits".
 *
 * Then QEMU is killed with SIGKILL, as a crashed VMM would die: KVM
 * destroys the VM when the process' files are closed, and kvmwarden
 * must report it gone (KVMW_VM_F_GONE) within a few seconds with its
 * final numbers unchanged.
 *
 * QEMU is $KVMW_QEMU or /usr/bin/qemu-system-x86_64; scripts/vmtest.sh
 * copies the build machine's binary and its libraries into the test VM.
 * Without it the test fails: it is not optional.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define QEMU_DEFAULT	"/usr/bin/qemu-system-x86_64"
#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"

#define FW_SIZE		0x10000		/* mapped at 0xf0000 and 4G - 64K */
#define FW_RESET	0xfff0		/* offset of the reset vector */
#define FW_FILL		0xf4		/* HLT: a stray jump shows up */

#define NR_CPUID	1000ULL
#define NR_OUT		300ULL
#define NR_IN		200ULL
#define NR_HC		100ULL
#define NR_IO		(1 + NR_OUT + NR_IN)

#define PARK_TIMEOUT_MS	180000
#define GONE_TIMEOUT_MS	5000

struct fw {
	uint8_t buf[FW_SIZE];
	size_t len;
};

static void fw_put(struct fw *f, const uint8_t *b, size_t n)
{
	memcpy(f->buf + f->len, b, n);
	f->len += n;
}

/* mov $n, %si; 1: body; dec %si; jnz 1b (16-bit code, n > 0) */
static void fw_loop(struct fw *f, uint16_t n, const uint8_t *body,
		    size_t len)
{
	const uint8_t mov[] = { 0xbe, n & 0xff, n >> 8 };
	const uint8_t tail[] = { 0x4e, 0x75, (uint8_t)-(int)(len + 3) };

	fw_put(f, mov, sizeof(mov));
	fw_put(f, body, len);
	fw_put(f, tail, sizeof(tail));
}

/* The firmware image described at the top of this file. */
static void fw_build(struct fw *f, enum kvm_vendor vendor)
{
	static const uint8_t cli[] = { 0xfa };
	static const uint8_t mask_pic[] = { 0xb0, 0xff, 0xe6, 0x21 };
	/* xor %eax, %eax; cpuid */
	static const uint8_t cpuid[] = { 0x66, 0x31, 0xc0, 0x0f, 0xa2 };
	static const uint8_t out80[] = { 0xe6, 0x80 };
	static const uint8_t in21[] = { 0xe4, 0x21 };
	/* xor %eax, %eax; vmmcall (AMD) or vmcall (Intel) */
	uint8_t hc[] = { 0x66, 0x31, 0xc0, 0x0f, 0x01, 0xd9 };
	/* 1: cli; hlt; jmp 1b */
	static const uint8_t park[] = { 0xfa, 0xf4, 0xeb, 0xfc };
	/* ljmp $0xf000, $0 */
	static const uint8_t reset[] = { 0xea, 0x00, 0x00, 0x00, 0xf0 };

	if (vendor == KVM_VENDOR_VMX)
		hc[5] = 0xc1;
	memset(f->buf, FW_FILL, sizeof(f->buf));
	f->len = 0;
	fw_put(f, cli, sizeof(cli));
	fw_put(f, mask_pic, sizeof(mask_pic));
	fw_loop(f, NR_CPUID, cpuid, sizeof(cpuid));
	fw_loop(f, NR_OUT, out80, sizeof(out80));
	fw_loop(f, NR_IN, in21, sizeof(in21));
	fw_loop(f, NR_HC, hc, sizeof(hc));
	fw_put(f, park, sizeof(park));
	memcpy(f->buf + FW_RESET, reset, sizeof(reset));
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The live VM of @pid in a new snapshot @snap, or -ESRCH. */
static int find_vm_of(struct kvmw_source *src, pid_t pid,
		      struct kvmw_snapshot *snap, const struct kvmw_vm **vm)
{
	int ret;

	kvmw_snapshot_free(snap);
	ret = kvmw_take_vmm(src, pid, NULL, 0, snap, vm);
	if (!ret && (*vm)->gone)
		ret = -ESRCH;
	return ret;
}

/* KVM's debugfs directory of the VM created by thread @pid. */
static int kvm_debugfs_dir(pid_t pid, char *dir, size_t size)
{
	char prefix[32];
	struct dirent *d;
	int ret = -ENOENT;
	DIR *dp;

	snprintf(prefix, sizeof(prefix), "%d-", pid);
	dp = opendir(KVM_DEBUGFS);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		if (!ret) {
			ret = -EEXIST;	/* more than one VM */
			break;
		}
		snprintf(dir, size, "%s/%.40s", KVM_DEBUGFS, d->d_name);
		ret = 0;
	}
	closedir(dp);
	return ret;
}

static int debugfs_stat(const char *dir, const char *name, uint64_t *val)
{
	char path[192], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*val = strtoull(buf, NULL, 10);
	return 0;
}

/* Thread of @pid whose comm is @comm, or -1. */
static pid_t thread_named(pid_t pid, const char *comm)
{
	char path[64], buf[32];
	struct dirent *d;
	pid_t tid = -1;
	DIR *dp;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dp = opendir(path);
	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		ssize_t n;
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", pid,
			 d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (!strcmp(buf, comm)) {
			tid = atoi(d->d_name);
			break;
		}
	}
	closedir(dp);
	return tid;
}

/* Print QEMU's output (stdout and stderr) as TAP comments. */
static void dump_log(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# qemu: %s", line);
	fclose(f);
}

/* Exits of the VM's reasons, all vCPUs. */
static uint64_t snap_reason_sum(const struct kvmw_vm *vm)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < vm->total.nr_reasons; i++)
		n += vm->total.reasons[i].count;
	return n;
}

/* Timed exits of @reason, of all with REASON_NONE (histogram sums). */
static uint64_t snap_timed(const struct kvmw_vm *vm, uint32_t reason)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < vm->total.nr_reasons; i++)
		if (reason == REASON_NONE ||
		    vm->total.reasons[i].code == reason)
			n += kvmw_hist_total(&vm->total.reasons[i].lat.hist);
	return n;
}

static uint64_t snap_user_count(const struct kvmw_vm *vm)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < vm->total.nr_reasons; i++)
		n += vm->total.reasons[i].lat.user_count;
	return n;
}

/* Exits of vCPU 0 of @vm for @reason. */
static uint64_t count0(const struct kvmw_vm *vm, uint32_t reason)
{
	return kvmw_vcpu_count(vm, 0, reason);
}

FIXTURE(vmm) {
	struct kvmw_source src;
	bool src_open;
	pid_t qemu;
	enum kvm_vendor vendor;
	char dir[64];
	char fw[96];
	char log[96];
	char why[128];
};

FIXTURE_SETUP(vmm)
{
	int ret;

	self->qemu = -1;
	self->dir[0] = 0;
	if (!kvm_available()) {
		snprintf(self->why, sizeof(self->why), "no /dev/kvm");
		return;
	}
	if (!kvm_backend_is_hw()) {
		snprintf(self->why, sizeof(self->why),
			 "KVM does not run on kvm_amd or kvm_intel");
		return;
	}
	self->vendor = kvm_host_vendor();
	ret = kvmw_src_open(&self->src);
	ASSERT_EQ(0, ret)
		TH_LOG("/dev/kvmwarden: %s (module not loaded?)",
		       strerror(-ret));
	self->src_open = true;
	strcpy(self->dir, "/tmp/vmm_e2e.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->fw, sizeof(self->fw), "%s/fw.bin", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/qemu.log", self->dir);
}

FIXTURE_TEARDOWN(vmm)
{
	if (self->qemu > 0) {
		kill(self->qemu, SIGKILL);
		waitpid(self->qemu, NULL, 0);
	}
	if (self->dir[0]) {
		unlink(self->fw);
		unlink(self->log);
		rmdir(self->dir);
	}
	if (self->src_open)
		kvmw_source_close(&self->src);
}

TEST_F_TIMEOUT(vmm, qemu_counts_and_crash, 400)
{
	const char *qemu = getenv("KVMW_QEMU");
	uint32_t r_cpuid, r_io, r_hlt, r_hc, r_npf, r_intr;
	uint64_t d_exits, d_io, d_halt, d_irq, d_hc, d_pf, d_mmio, d_sig;
	struct kvmw_snapshot s = { 0 }, s2, sg = { 0 };
	const struct kvmw_vm *v, *v2, *gone;
	uint64_t vm_id;
	char kdir[128];
	struct fw *f;
	pid_t vcpu_tid;
	int waited, st, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);
	if (!qemu || !*qemu)
		qemu = QEMU_DEFAULT;
	ASSERT_EQ(0, access(qemu, X_OK))
		TH_LOG("FAIL: no VMM: %s: %s (vmtest.sh copies the build machine's, package qemu-system-x86)",
		       qemu, strerror(errno));

	f = malloc(sizeof(*f));
	ASSERT_NE(NULL, f);
	fw_build(f, self->vendor);
	ret = write_file(self->fw, f->buf, sizeof(f->buf));
	free(f);
	ASSERT_EQ(0, ret);

	self->qemu = fork();
	ASSERT_LE(0, self->qemu);
	if (!self->qemu) {
		int out = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);

		if (out < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		execl(qemu, qemu, "-accel", "kvm", "-nodefaults",
		      "-no-user-config", "-display", "none",
		      "-machine", "pc,kernel-irqchip=on", "-smp", "1",
		      "-m", "16", "-bios", self->fw,
		      /* no kvmvapic.bin option ROM: no data file needed */
		      "-global", "apic-common.vapic=off",
		      "-name", "vmm_e2e,debug-threads=on", (char *)NULL);
		_exit(127);
	}

	/* Wait for the VM to appear and its vCPU to reach the HLT. */
	r_hlt = exit_reason_code(self->vendor, EXIT_KIND_HLT);
	for (waited = 0;; waited += 100) {
		if (waitpid(self->qemu, &st, WNOHANG) == self->qemu) {
			self->qemu = -1;
			dump_log(self->log);
			ASSERT_TRUE(0) TH_LOG("QEMU exited (status 0x%x)", st);
		}
		if (!find_vm_of(&self->src, self->qemu, &s, &v) &&
		    v->nr_vcpus_detail && count0(v, r_hlt))
			break;
		if (waited >= PARK_TIMEOUT_MS) {
			dump_log(self->log);
			ASSERT_TRUE(0)
				TH_LOG("the guest did not park in %d ms",
				       PARK_TIMEOUT_MS);
		}
		sleep_ms(100);
	}
	TH_LOG("QEMU pid %d: VM %llu parked after about %d ms",
	       self->qemu, (unsigned long long)v->vm_id, waited);
	vm_id = v->vm_id;
	kvmw_snapshot_free(&s);

	/* Parked: nothing may move any more. */
	sleep_ms(500);
	ASSERT_EQ(0, kvmw_take_vm(&self->src, vm_id, &s, &v));
	ASSERT_EQ(0, kvm_debugfs_dir(self->qemu, kdir, sizeof(kdir)))
		TH_LOG("no single %s/%d-* directory", KVM_DEBUGFS,
		       self->qemu);
	ASSERT_EQ(0, debugfs_stat(kdir, "exits", &d_exits));
	ASSERT_EQ(0, debugfs_stat(kdir, "io_exits", &d_io));
	ASSERT_EQ(0, debugfs_stat(kdir, "halt_exits", &d_halt));
	ASSERT_EQ(0, debugfs_stat(kdir, "irq_exits", &d_irq));
	ASSERT_EQ(0, debugfs_stat(kdir, "hypercalls", &d_hc));
	ASSERT_EQ(0, debugfs_stat(kdir, "pf_taken", &d_pf));
	ASSERT_EQ(0, debugfs_stat(kdir, "mmio_exits", &d_mmio));
	ASSERT_EQ(0, debugfs_stat(kdir, "signal_exits", &d_sig));
	sleep_ms(200);
	ASSERT_EQ(0, kvmw_take_vm(&self->src, vm_id, &s2, &v2));
	EXPECT_EQ(v->exits, v2->exits);
	EXPECT_EQ(v->entries, v2->entries);
	kvmw_snapshot_free(&s2);

	r_cpuid = exit_reason_code(self->vendor, EXIT_KIND_CPUID);
	r_io = exit_reason_code(self->vendor, EXIT_KIND_IO);
	r_hc = exit_reason_code(self->vendor, EXIT_KIND_HYPERCALL);
	r_npf = exit_reason_code(self->vendor, EXIT_KIND_NPF);
	r_intr = exit_reason_code(self->vendor, EXIT_KIND_INTR);
	TH_LOG("kvmwarden: exits %llu entries %llu cpuid %llu io %llu hlt %llu hypercall %llu npf %llu intr %llu faults %llu user %llu",
	       (unsigned long long)v->exits,
	       (unsigned long long)v->entries,
	       (unsigned long long)count0(v, r_cpuid),
	       (unsigned long long)count0(v, r_io),
	       (unsigned long long)count0(v, r_hlt),
	       (unsigned long long)count0(v, r_hc),
	       (unsigned long long)count0(v, r_npf),
	       (unsigned long long)count0(v, r_intr),
	       (unsigned long long)v->vcpus[0].u.faults.count,
	       (unsigned long long)snap_user_count(v));
	TH_LOG("KVM %s: exits %llu io_exits %llu halt_exits %llu irq_exits %llu hypercalls %llu pf_taken %llu mmio_exits %llu signal_exits %llu",
	       kdir, (unsigned long long)d_exits, (unsigned long long)d_io,
	       (unsigned long long)d_halt, (unsigned long long)d_irq,
	       (unsigned long long)d_hc, (unsigned long long)d_pf,
	       (unsigned long long)d_mmio, (unsigned long long)d_sig);

	/* the VM is QEMU's, with QEMU's one vCPU thread */
	EXPECT_EQ((uint32_t)self->qemu, v->pid);
	EXPECT_EQ(0, strncmp((const char *)v->comm, "qemu-system-x86",
			     sizeof(v->comm)));
	EXPECT_FALSE(v->gone);
	ASSERT_EQ(1U, v->nr_vcpus_detail);
	EXPECT_EQ(0U, v->vcpus[0].vcpu_id);
	vcpu_tid = thread_named(self->qemu, "CPU 0/KVM");
	EXPECT_LT(0, vcpu_tid);
	EXPECT_EQ((uint32_t)vcpu_tid, v->vcpus[0].tid);

	/* the program, exactly */
	EXPECT_EQ(NR_CPUID, count0(v, r_cpuid));
	EXPECT_EQ(NR_IO, count0(v, r_io));
	EXPECT_EQ(NR_HC, count0(v, r_hc));
	EXPECT_EQ(1ULL, count0(v, r_hlt));
	EXPECT_EQ(0ULL, count0(v, KVMW_REASON_UNDECODED));
	/* and nothing but the program, its code page faults and interrupts */
	EXPECT_EQ(NR_CPUID + NR_IO + NR_HC + 1 +
		  count0(v, r_npf) +
		  count0(v, r_intr), v->exits);
	EXPECT_EQ(0U, v->vcpus[0].u.overflow_exits);

	/*
	 * kvmwarden's own sums. Every exit followed an entry and the vCPU
	 * sleeps in KVM after the HLT: as many entries as exits, and the
	 * HLT, with no entry after it, not timed yet.
	 */
	EXPECT_EQ(v->exits, v->vcpus[0].u.exits);
	EXPECT_EQ(v->exits, snap_reason_sum(v));
	EXPECT_EQ(v->exits, v->entries);
	EXPECT_EQ(0ULL, snap_timed(v, r_hlt));
	EXPECT_EQ(NR_CPUID, snap_timed(v, r_cpuid));
	EXPECT_EQ(v->exits - 1, snap_timed(v, REASON_NONE));

	/* KVM's own counters of this VM */
	EXPECT_EQ(d_exits, v->exits);
	EXPECT_EQ(d_io, count0(v, r_io));
	EXPECT_EQ(d_halt, count0(v, r_hlt));
	EXPECT_EQ(d_irq, count0(v, r_intr));
	EXPECT_EQ(d_hc, count0(v, r_hc));
	EXPECT_EQ(d_pf, count0(v, r_npf));
	EXPECT_EQ(d_pf, v->vcpus[0].u.faults.count);
	EXPECT_EQ(0ULL, d_mmio);
	EXPECT_EQ(0ULL, v->vcpus[0].u.faults.mmio);

	/* returns to QEMU: the port 0x80 writes, plus any signal */
	EXPECT_LE(NR_OUT, snap_user_count(v));
	EXPECT_GE(NR_OUT + d_sig, snap_user_count(v));

	/* A crashed VMM: the VM goes with the process. */
	ASSERT_EQ(0, kill(self->qemu, SIGKILL));
	ASSERT_EQ(self->qemu, waitpid(self->qemu, &st, 0));
	for (waited = 0;; waited += 50) {
		kvmw_snapshot_free(&sg);
		ASSERT_EQ(0, kvmw_take_vm(&self->src, vm_id, &sg, &gone))
			TH_LOG("VM %llu no longer listed",
			       (unsigned long long)vm_id);
		if (gone->gone)
			break;
		ASSERT_GT(GONE_TIMEOUT_MS, waited)
			TH_LOG("VM of the killed QEMU not reported gone");
		sleep_ms(50);
	}
	TH_LOG("VM reported gone %d ms after QEMU was reaped", waited);
	EXPECT_EQ(-ENOENT, kvm_debugfs_dir(self->qemu, kdir, sizeof(kdir)));
	EXPECT_NE(0ULL, gone->gone_ns);
	EXPECT_EQ(v->exits, gone->exits);
	EXPECT_EQ(v->entries, gone->entries);
	EXPECT_EQ((uint32_t)self->qemu, gone->pid);
	self->qemu = -1;
	kvmw_snapshot_free(&sg);
	kvmw_snapshot_free(&s);
}

TEST_HARNESS_MAIN
