// SPDX-License-Identifier: GPL-2.0
/*
 * exit_bench - host time per VM exit for a guest that loops on CPUID.
 *
 *   exit_bench [-b | -l | -t] [-c] [-B audit|throttle] [-n EXITS]
 *              [-r ROUNDS] [LABEL]
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
 * -c checks kvmwarden's figures of the run (the module loaded): exactly
 * EXITS exits of category cpuid, and as many entries at least; a run the
 * module did not count right prints no figure and fails.
 *
 * -B gives the bench's own VM an exit budget through KVMW_IOC_BUDGET_SET
 * (CAP_SYS_ADMIN), in audit or throttle mode, with the highest rate and
 * burst the module accepts: every exit is charged and the bucket is never
 * empty, so this is the cost of the budget check on a VM that stays
 * within its budget. It implies -c, which then also requires every CPUID
 * exit to have been charged, and none to have overrun or parked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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
	"usage: exit_bench [-b | -l | -t] [-c] [-B audit|throttle] [-n EXITS] [-r ROUNDS] [LABEL]\n";

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

/* kvmwarden's figures of the bench's vCPU. */
struct bench_figs {
	uint64_t cpuid;		/* exits of category cpuid */
	uint64_t entries;
	uint64_t charged;	/* exits charged to the budget */
	uint64_t missed;	/* budget overruns plus parks */
};

static int bench_read(struct kvm_vcpu *vcpu, bool budget, struct bench_figs *f)
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
	if (!ret) {
		f->cpuid = v->u.categories[KVMW_CAT_CPUID];
		f->entries = v->u.entries;
	}
	if (!ret && budget)
		ret = bench_stat(&snap, v, "budget_charged", &f->charged) ?:
		      bench_stat(&snap, v, "budget_overruns", &overruns) ?:
		      bench_stat(&snap, v, "budget_parks", &parks);
	f->missed = overruns + parks;
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return ret;
}

/*
 * Are kvmwarden's figures of the run, from @a to @b, those of @exits
 * CPUID exits: each counted, entered after, and with a budget charged
 * without overrun or park?
 */
static bool bench_figs_ok(const struct bench_figs *a,
			  const struct bench_figs *b, bool budget,
			  unsigned long exits)
{
	bool ok = b->cpuid - a->cpuid == exits &&
		  b->entries - a->entries >= exits;

	if (budget)
		ok = ok && b->charged - a->charged >= exits &&
		     b->missed == a->missed;
	if (!ok)
		fprintf(stderr, "exit_bench: kvmwarden saw %llu CPUID exits of %lu, %llu entries, %llu charged, %llu overruns and parks\n",
			(unsigned long long)(b->cpuid - a->cpuid), exits,
			(unsigned long long)(b->entries - a->entries),
			(unsigned long long)(b->charged - a->charged),
			(unsigned long long)(b->missed - a->missed));
	return ok;
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
	bool check = false;
	int opt, ret;

	while ((opt = getopt(argc, argv, "bcltB:n:r:")) != -1) {
		switch (opt) {
		case 'c':
			check = true;
			break;
		case 'B':
			check = true;
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
		struct bench_figs f0, f1;
		double t0, t1;

		if (!vm)
			return 1;
		vcpu = vcpu_add(vm);
		/* A short first run faults the guest's code and stack in. */
		if (!vcpu || vcpu_load_prog(vcpu, GUEST_PROG_CPUID, 1000) ||
		    vcpu_run(vcpu))
			return 1;
		ret = 0;
		if (budget != KVMW_BUDGET_OFF)
			ret = bench_budget_set(vm, budget);
		if (!ret && check)
			ret = bench_read(vcpu, budget != KVMW_BUDGET_OFF, &f0);
		if (ret) {
			fprintf(stderr, "exit_bench: kvmwarden: %s\n",
				strerror(-ret));
			return 1;
		}
		if (vcpu_load_prog(vcpu, GUEST_PROG_CPUID, exits))
			return 1;
		t0 = bench_now_ns();
		if (vcpu_run(vcpu)) {
			fprintf(stderr, "exit_bench: %s\n", vcpu->res.msg);
			return 1;
		}
		t1 = bench_now_ns();
		if (check &&
		    (bench_read(vcpu, budget != KVMW_BUDGET_OFF, &f1) ||
		     !bench_figs_ok(&f0, &f1, budget != KVMW_BUDGET_OFF,
				    exits)))
			return 1;
		printf("%s ns_per_exit %.1f\n", label, (t1 - t0) / exits);
		fflush(stdout);
		vm_destroy(vm);
	}
	if (oracle)
		kvmw_oracle_close(oracle);
	kvmw_lat_close(lat);
	return 0;
}
