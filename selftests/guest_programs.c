// SPDX-License-Identifier: GPL-2.0
/*
 * guest_programs - self test of the guest library, with KVM alone.
 *
 * Runs every guest program and checks what KVM itself shows: the exits to
 * userspace the program makes on purpose, exactly, and the deltas of KVM's
 * per-vCPU statistics (binary stats fd) over the measured part. Needs no
 * kvmwarden, so it also runs where the module cannot be loaded; the
 * kvmwarden assertions are in exit_counts.
 *
 * Statistics incremented in KVM's common x86 code (halt_exits, mmio_exits)
 * are checked on any backend. io_exits, hypercalls and exits are
 * incremented by the SVM/VMX exit handlers and checked only when kvm_amd
 * or kvm_intel runs the guests.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define STAT_DELTA(res, id) \
	((res)->end_stats.val[id] - (res)->phase_stats.val[id])

FIXTURE(prog) {
	bool kvm;
	bool hw;
};

FIXTURE_VARIANT(prog) {
	enum guest_prog prog;
	uint64_t n;
	bool irqchip;
};

FIXTURE_VARIANT_ADD(prog, cpuid) { .prog = GUEST_PROG_CPUID, .n = 500 };
FIXTURE_VARIANT_ADD(prog, cpuid_zero) { .prog = GUEST_PROG_CPUID, .n = 0 };
FIXTURE_VARIANT_ADD(prog, hlt) { .prog = GUEST_PROG_HLT, .n = 100 };
FIXTURE_VARIANT_ADD(prog, pio_user) { .prog = GUEST_PROG_PIO_USER, .n = 300 };
FIXTURE_VARIANT_ADD(prog, pio_user_in) {
	.prog = GUEST_PROG_PIO_USER_IN, .n = 300
};
FIXTURE_VARIANT_ADD(prog, pio_kernel) {
	.prog = GUEST_PROG_PIO_KERNEL, .n = 500
};
FIXTURE_VARIANT_ADD(prog, pio_pic) {
	.prog = GUEST_PROG_PIO_PIC, .n = 500, .irqchip = true
};
FIXTURE_VARIANT_ADD(prog, mmio_write) {
	.prog = GUEST_PROG_MMIO_WRITE, .n = 300
};
FIXTURE_VARIANT_ADD(prog, mmio_read) {
	.prog = GUEST_PROG_MMIO_READ, .n = 300
};
FIXTURE_VARIANT_ADD(prog, hypercall) {
	.prog = GUEST_PROG_HYPERCALL, .n = 500
};
FIXTURE_VARIANT_ADD(prog, msr_read) { .prog = GUEST_PROG_MSR_READ, .n = 500 };
FIXTURE_VARIANT_ADD(prog, msr_write) {
	.prog = GUEST_PROG_MSR_WRITE, .n = 500
};
FIXTURE_VARIANT_ADD(prog, pages) { .prog = GUEST_PROG_PAGES, .n = 256 };
FIXTURE_VARIANT_ADD(prog, cpuid_irqchip) {
	.prog = GUEST_PROG_CPUID, .n = 500, .irqchip = true
};

FIXTURE_SETUP(prog)
{
	self->kvm = kvm_available();
	self->hw = kvm_backend_is_hw();
}

FIXTURE_TEARDOWN(prog)
{
}

/*
 * Check a finished vCPU against guest_expect(): exits to userspace
 * exactly, KVM statistics over the measured part.
 */
static void check_vcpu(struct __test_metadata *_metadata,
		       struct kvm_vcpu *vcpu, bool hw)
{
	struct vcpu_result *r = &vcpu->res;
	struct guest_expect e;

	guest_expect(vcpu, &e);
	ASSERT_TRUE(r->done) TH_LOG("%s", r->msg);
	ASSERT_FALSE(r->failed) TH_LOG("%s", r->msg);
	EXPECT_EQ(0, r->data_errors);
	EXPECT_EQ(1, r->phases);
	EXPECT_EQ(e.user_io, r->user_exits[KVM_EXIT_IO]);
	EXPECT_EQ(e.pio_user_out, r->pio_user_out);
	EXPECT_EQ(e.pio_user_in, r->pio_user_in);
	EXPECT_EQ(e.hlt, r->user_exits[KVM_EXIT_HLT]);
	EXPECT_EQ(e.mmio, r->user_exits[KVM_EXIT_MMIO]);
	EXPECT_EQ(e.mmio_write, r->mmio_write);
	EXPECT_EQ(e.mmio_read, r->mmio_read);

	if (!r->end_stats.valid[VCPU_STAT_EXITS]) {
		TH_LOG("no binary statistics: KVM statistics not checked");
		return;
	}
	/* common x86 code: every backend */
	EXPECT_EQ(e.hlt, STAT_DELTA(r, VCPU_STAT_HALT_EXITS));
	EXPECT_EQ(e.mmio, STAT_DELTA(r, VCPU_STAT_MMIO_EXITS));
	if (!hw)
		return;
	/* SVM/VMX exit handlers */
	EXPECT_EQ(e.io, STAT_DELTA(r, VCPU_STAT_IO_EXITS));
	EXPECT_EQ(e.hypercall, STAT_DELTA(r, VCPU_STAT_HYPERCALLS));
	EXPECT_LE(e.total, STAT_DELTA(r, VCPU_STAT_EXITS));
	TH_LOG("vCPU %d %s: exits %llu (expected %llu + irq %llu), io %llu, pf_taken %llu",
	       vcpu->id, guest_prog_name(vcpu->prog),
	       (unsigned long long)STAT_DELTA(r, VCPU_STAT_EXITS),
	       (unsigned long long)e.total,
	       (unsigned long long)STAT_DELTA(r, VCPU_STAT_IRQ_EXITS),
	       (unsigned long long)STAT_DELTA(r, VCPU_STAT_IO_EXITS),
	       (unsigned long long)STAT_DELTA(r, VCPU_STAT_PF_TAKEN));
	if (e.pages) {
		EXPECT_LE(e.pages, STAT_DELTA(r, VCPU_STAT_PF_TAKEN));
	}
}

TEST_F_TIMEOUT(prog, runs_exactly, 300)
{
	struct vm_opts opts = { .irqchip = variant->irqchip };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (variant->prog == GUEST_PROG_HYPERCALL && !self->hw)
		SKIP(return, "hypercalls need kvm_amd or kvm_intel");

	vm = vm_create(&opts);
	ASSERT_NE(NULL, vm);
	vcpu = vcpu_add(vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, vcpu_load_prog(vcpu, variant->prog, variant->n));
	ASSERT_EQ(0, vcpu_start(vcpu));
	EXPECT_NE(0, vcpu->tid);
	EXPECT_NE(kvm_gettid(), vcpu->tid);
	vcpu_join(vcpu);
	check_vcpu(_metadata, vcpu, self->hw);
	if (variant->prog == GUEST_PROG_PIO_KERNEL) {
		EXPECT_EQ((int64_t)variant->n, vm_kernel_pio_count(vm));
	}
	vm_destroy(vm);
}

FIXTURE(lib) {
	bool kvm;
	bool hw;
};

FIXTURE_SETUP(lib)
{
	self->kvm = kvm_available();
	self->hw = kvm_backend_is_hw();
}

FIXTURE_TEARDOWN(lib)
{
}

/* The mixed program: every kind interleaved, all exits to userspace exact. */
TEST_F_TIMEOUT(lib, mixed, 300)
{
	struct guest_mix mix = {
		.cpuid = 50, .hlt = 20, .pio_user = 30, .pio_kernel = 40,
		.mmio = 25, .hypercall = 35, .msr_read = 45, .msr_write = 55,
		.pages = 60,
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (!self->hw)
		mix.hypercall = 0;
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	vcpu = vcpu_add(vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, vcpu_load_mixed(vcpu, &mix));
	ASSERT_EQ(0, vcpu_start(vcpu));
	vcpu_join(vcpu);
	check_vcpu(_metadata, vcpu, self->hw);
	EXPECT_EQ((int64_t)mix.pio_kernel, vm_kernel_pio_count(vm));
	vm_destroy(vm);
}

/*
 * Several VMs and vCPUs at once, one thread each, different counts per
 * vCPU: all exact, all thread ids distinct.
 */
TEST_F_TIMEOUT(lib, vms_and_vcpus, 300)
{
	struct kvm_vm *vms[3];
	pid_t tids[6];
	int v, c, i, t = 0;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	for (v = 0; v < 3; v++) {
		vms[v] = vm_create(NULL);
		ASSERT_NE(NULL, vms[v]);
		for (c = 0; c < 2; c++) {
			struct kvm_vcpu *vcpu = vcpu_add(vms[v]);
			uint64_t k = v * 2 + c + 1;
			struct guest_mix mix = {
				.cpuid = 10 * k, .hlt = 3 * k,
				.pio_user = 4 * k, .pio_kernel = 5 * k,
				.mmio = 6 * k, .msr_read = 7 * k,
				.msr_write = 8 * k, .pages = 9 * k,
				.hypercall = self->hw ? 2 * k : 0,
			};

			ASSERT_NE(NULL, vcpu);
			ASSERT_EQ(c, vcpu->id);
			ASSERT_EQ(0, vcpu_load_mixed(vcpu, &mix));
		}
	}
	for (v = 0; v < 3; v++)
		for (c = 0; c < 2; c++) {
			ASSERT_EQ(0, vcpu_start(vms[v]->vcpus[c]));
			tids[t++] = vms[v]->vcpus[c]->tid;
		}
	for (v = 0; v < 3; v++)
		for (c = 0; c < 2; c++)
			vcpu_join(vms[v]->vcpus[c]);
	for (i = 0; i < 6; i++)
		for (t = i + 1; t < 6; t++) {
			EXPECT_NE(tids[i], tids[t]);
		}
	for (v = 0; v < 3; v++) {
		uint64_t sum = 0;

		for (c = 0; c < 2; c++) {
			check_vcpu(_metadata, vms[v]->vcpus[c], self->hw);
			sum += vms[v]->vcpus[c]->mix.pio_kernel;
		}
		EXPECT_EQ((int64_t)sum, vm_kernel_pio_count(vms[v]));
		vm_destroy(vms[v]);
	}
}

/* A guest-side assert reaches the host with its code and registers. */
TEST_F(lib, guest_failure)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	vcpu = vcpu_add(vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_FAIL, 0x1234));
	EXPECT_EQ(-EIO, vcpu_run(vcpu));
	EXPECT_TRUE(vcpu->res.failed);
	EXPECT_FALSE(vcpu->res.done);
	EXPECT_EQ(GUEST_FAIL_SELFTEST, vcpu->res.fail_code);
	EXPECT_NE(NULL, strstr(vcpu->res.msg, "rbx=0x1234"))
		TH_LOG("%s", vcpu->res.msg);
	vm_destroy(vm);
}

/* A guest exception goes through the IDT stubs to the failure port. */
TEST_F(lib, guest_exception)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	vcpu = vcpu_add(vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_UD, 0));
	EXPECT_EQ(-EIO, vcpu_run(vcpu));
	EXPECT_EQ(GUEST_FAIL_EXCEPTION | 6, vcpu->res.fail_code)
		TH_LOG("%s", vcpu->res.msg);
	vm_destroy(vm);
}

/* Programs a VM cannot run are refused, not run wrongly. */
TEST_F(lib, refused_programs)
{
	struct vm_opts irq = { .irqchip = true };
	struct kvm_vm *vm;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	vm = vm_create(&irq);
	ASSERT_NE(NULL, vm);
	ASSERT_NE(NULL, vcpu_add(vm));
	EXPECT_EQ(-EINVAL, vcpu_load_prog(vm->vcpus[0], GUEST_PROG_HLT, 1));
	vm_destroy(vm);
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	ASSERT_NE(NULL, vcpu_add(vm));
	EXPECT_EQ(-EINVAL, vcpu_load_prog(vm->vcpus[0], GUEST_PROG_PIO_PIC, 1));
	vm_destroy(vm);
}

/* The spin program runs until told to stop, in batches. */
TEST_F_TIMEOUT(lib, cpuid_spin, 120)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int ms;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	vcpu = vcpu_add(vm);
	ASSERT_NE(NULL, vcpu);
	ASSERT_EQ(0, vcpu_load_prog(vcpu, GUEST_PROG_CPUID_SPIN, 100));
	ASSERT_EQ(0, vcpu_start(vcpu));
	for (ms = 0; ms < 60000 && vcpu_spin_batches(vcpu) < 5; ms += 10)
		usleep(10000);
	EXPECT_LE(5, vcpu_spin_batches(vcpu));
	vcpu_spin_stop(vcpu);
	EXPECT_EQ(0, vcpu_join(vcpu)) TH_LOG("%s", vcpu->res.msg);
	vm_destroy(vm);
}

/* kvm_vcpu_stat() on the binary stats fd, and debugfs where mounted. */
TEST_F(lib, stats)
{
	uint64_t a, b, dbg, sum = 0;
	struct kvm_vm *vm;
	int c, ret;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	vm = vm_create(NULL);
	ASSERT_NE(NULL, vm);
	for (c = 0; c < 2; c++) {
		ASSERT_NE(NULL, vcpu_add(vm));
		ASSERT_EQ(0, vcpu_load_prog(vm->vcpus[c], GUEST_PROG_HLT,
					    10 + c));
	}
	ASSERT_EQ(0, kvm_vcpu_stat(vm->vcpus[0], "exits", &a));
	EXPECT_EQ(-ENOENT, kvm_vcpu_stat(vm->vcpus[0], "no_such_stat", &b));
	for (c = 0; c < 2; c++) {
		EXPECT_EQ(0, vcpu_run(vm->vcpus[c]));
	}
	ASSERT_EQ(0, kvm_vcpu_stat(vm->vcpus[0], "exits", &b));
	EXPECT_LT(a, b);
	for (c = 0; c < 2; c++) {
		ASSERT_EQ(0, kvm_vcpu_stat(vm->vcpus[c], "halt_exits", &a));
		EXPECT_EQ(10 + c, a);
		sum += a;
	}

	ret = vm_debugfs_stat(vm, "halt_exits", &dbg);
	if (ret) {
		TH_LOG("debugfs: %s (mount -t debugfs none /sys/kernel/debug)",
		       strerror(-ret));
	} else {
		/* a VM directory's vCPU statistic is the sum over vCPUs */
		EXPECT_EQ(sum, dbg);
	}
	vm_destroy(vm);
}

TEST_HARNESS_MAIN
