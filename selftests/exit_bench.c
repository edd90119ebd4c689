// SPDX-License-Identifier: GPL-2.0
/*
 * exit_bench - host time per VM exit for a guest that loops on CPUID.
 *
 *   exit_bench [-b | -l | -t] [-n EXITS] [-r ROUNDS] [LABEL]
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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "latency.h"
#include "oracle.h"

static const char usage[] =
	"usage: exit_bench [-b | -l | -t] [-n EXITS] [-r ROUNDS] [LABEL]\n";

static double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct kvmw_oracle *oracle = NULL;
	struct kvmw_lat *lat = NULL;
	unsigned long exits = 100000, rounds = 1, r;
	const char *label = "run";
	int opt;

	while ((opt = getopt(argc, argv, "bltn:r:")) != -1) {
		switch (opt) {
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
		double t0, t1;

		if (!vm)
			return 1;
		vcpu = vcpu_add(vm);
		/* A short first run faults the guest's code and stack in. */
		if (!vcpu || vcpu_load_prog(vcpu, GUEST_PROG_CPUID, 1000) ||
		    vcpu_run(vcpu))
			return 1;
		if (vcpu_load_prog(vcpu, GUEST_PROG_CPUID, exits))
			return 1;
		t0 = bench_now_ns();
		if (vcpu_run(vcpu)) {
			fprintf(stderr, "exit_bench: %s\n", vcpu->res.msg);
			return 1;
		}
		t1 = bench_now_ns();
		printf("%s ns_per_exit %.1f\n", label, (t1 - t0) / exits);
		fflush(stdout);
		vm_destroy(vm);
	}
	if (oracle)
		kvmw_oracle_close(oracle);
	kvmw_lat_close(lat);
	return 0;
}
