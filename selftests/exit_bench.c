// SPDX-License-Identifier: GPL-2.0
/*
 * exit_bench - host time per VM exit for a guest that loops on CPUID.
 *
 *   exit_bench [-b | -l | -t] [-B audit|throttle] [-n EXITS] [-r ROUNDS]
 *              [LABEL]
 *
 * Runs a vCPU whose guest executes CPUID EXITS times (each one an exit
 * handled inside KVM) and prints, per round, the CLOCK_MONOTONIC time of
 * the run divided by the number of CPUID exits:
 *
 *   LABEL ns_per_exit 2563.2
 *
 * Under QEMU with "-icount shift=0,sleep=off" the test VM's clock advances
 * one nanosecond per emulated instruction, so this is instructions per
 * exit (guest and host together), repeatable across boots; the difference
 * between runs with and without a tracing backend is that backend's cost.
 * scripts/bench.sh runs it that way. -b attaches the BPF exit-counting
 * oracle first, as a reference point; -l the BPF latency program on its
 * fast path (tp_btf), -t the same program on classic tracepoints.
 *
 * -B gives the bench's own VM an exit budget through KVMW_IOC_BUDGET_SET
 * (kvmwarden loaded, CAP_SYS_ADMIN), in audit or throttle mode, with the
 * highest rate and burst the module accepts: every exit is charged and
 * the bucket is never empty, so this is the cost of the budget check on
 * a VM that stays within its budget. The budget's statistics are read
 * back after the run: every CPUID exit must have been charged, and none
 * may have overrun or parked, or the figure is not what it claims.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kvm_util.h"
#include "kvmw_util.h"
#include "latency.h"
#include "oracle.h"

static const char usage[] =
	"usage: exit_bench [-b | -l | -t] [-B audit|throttle] [-n EXITS] [-r ROUNDS] [LABEL]\n";

static double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The statistic @name of the vCPU record @v in @snap. */
static int bench_stat(const struct kvmw_snapshot *snap,
		      const struct kvmw_vcpu *v, const char *name,
		      uint64_t *val)
{
	size_t i;

	for (i = 0; v->values && i < snap->raw.nr; i++) {
		const struct kvmw_stat_info *in = &snap->raw.infos[i];

		if (in->scope == KVMW_REC_VCPU && !strcmp(in->name, name)) {
			*val = v->values[in->offset];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The budget figures of @vcpu: @charged exits charged, @missed overruns
 * plus parks (0 unless the bucket ran empty).
 */
static int bench_budget_read(struct kvm_vcpu *vcpu, uint64_t *charged,
			     uint64_t *missed)
{
	const struct kvmw_vcpu *v;
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	uint64_t overruns = 0, parks = 0;
	int ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	ret = kvmw_take_vcpu(&src, vcpu, &snap, &v);
	if (!ret)
		ret = bench_stat(&snap, v, "budget_charged", charged) ?:
		      bench_stat(&snap, v, "budget_overruns", &overruns) ?:
		      bench_stat(&snap, v, "budget_parks", &parks);
	*missed = overruns + parks;
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return ret;
}

/*
 * Give @vm, whose vCPU has run, a one-bucket budget of mode @mode over the
 * default scope that it never exhausts.
 */
static int bench_budget_set(struct kvm_vm *vm, uint32_t mode)
{
	struct kvmw_budget b = { .size = sizeof(b) };
	const struct kvmw_vm *v;
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	int fd, ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	ret = kvmw_take_kvm_vm(&src, vm, &snap, &v);
	if (!ret)
		b.vm_id = v->vm_id;
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	if (ret)
		return ret;
	b.mode = mode;
	b.nr_buckets = 1;
	b.buckets[0].rate = KVMW_BUDGET_MAX_RATE;
	b.buckets[0].burst = KVMW_BUDGET_MAX_BURST;
	fd = open("/dev/kvmwarden", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, KVMW_IOC_BUDGET_SET, &b) ? -errno : 0;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct kvmw_oracle *oracle = NULL;
	struct kvmw_lat *lat = NULL;
	unsigned long exits = 100000, rounds = 1, r;
	const char *label = "run";
	uint32_t budget = KVMW_BUDGET_OFF;
	int opt, ret;

	while ((opt = getopt(argc, argv, "bltB:n:r:")) != -1) {
		switch (opt) {
		case 'B':
			if (!strcmp(optarg, "audit")) {
				budget = KVMW_BUDGET_AUDIT;
			} else if (!strcmp(optarg, "throttle")) {
				budget = KVMW_BUDGET_THROTTLE;
			} else {
				fputs(usage, stderr);
				return 2;
			}
			break;
		case 'b':
			if (kvmw_oracle_open(&oracle)) {
				fprintf(stderr, "exit_bench: cannot attach the BPF oracle\n");
				return 1;
			}
			break;
		case 'l':
		case 't':
			if (lat || kvmw_lat_open(&lat, opt == 'l' ?
						 KVMW_LAT_ATTACH_BTF :
						 KVMW_LAT_ATTACH_TRACEPOINT)) {
				fprintf(stderr, "exit_bench: no BPF latency program\n");
				return 1;
			}
			break;
		case 'n':
			exits = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		label = argv[optind];
	if (!exits || !rounds) {
		fprintf(stderr, "exit_bench: EXITS and ROUNDS must be positive\n");
		return 2;
	}

	for (r = 0; r < rounds; r++) {
		struct kvm_vm *vm = vm_create(NULL);
		struct kvm_vcpu *vcpu;
		uint64_t charged = 0, missed = 0;
		double t0, t1;

		if (!vm)
			return 1;
		vcpu = vcpu_add(vm);
		/* A short first run faults the guest's code and stack in. */
		if (!vcpu || vcpu_load_prog(vcpu, GUEST_PROG_CPUID, 1000) ||
		    vcpu_run(vcpu))
			return 1;
		if (budget != KVMW_BUDGET_OFF) {
			ret = bench_budget_set(vm, budget) ?:
			      bench_budget_read(vcpu, &charged, &missed);
			if (ret) {
				fprintf(stderr, "exit_bench: no budget: %s\n",
					strerror(-ret));
				return 1;
			}
		}
		if (vcpu_load_prog(vcpu, GUEST_PROG_CPUID, exits))
			return 1;
		t0 = bench_now_ns();
		if (vcpu_run(vcpu)) {
			fprintf(stderr, "exit_bench: %s\n", vcpu->res.msg);
			return 1;
		}
		t1 = bench_now_ns();
		if (budget != KVMW_BUDGET_OFF) {
			uint64_t c0 = charged, m0 = missed;

			ret = bench_budget_read(vcpu, &charged, &missed);
			if (ret || charged - c0 < exits || missed != m0) {
				fprintf(stderr, "exit_bench: budget not as meant: %llu of %lu exits charged, %llu overruns and parks (%s)\n",
					(unsigned long long)(charged - c0),
					exits,
					(unsigned long long)(missed - m0),
					strerror(-ret));
				return 1;
			}
		}
		printf("%s ns_per_exit %.1f\n", label, (t1 - t0) / exits);
		fflush(stdout);
		vm_destroy(vm);
	}
	if (oracle)
		kvmw_oracle_close(oracle);
	kvmw_lat_close(lat);
	return 0;
}
