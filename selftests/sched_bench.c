// SPDX-License-Identifier: GPL-2.0
/*
 * sched_bench - host time per context switch between two ordinary
 * threads: the cost kvmwarden's scheduler probes add to tasks that are
 * not vCPU threads.
 *
 *   sched_bench [-n ROUNDTRIPS] [-v] [LABEL]
 *
 * -v first creates a VM whose one vCPU runs a few CPUID exits and stops,
 * and keeps it for the time of the measurement: kvmwarden then tracks a
 * VM and has its scheduler probes attached (without any VM it detaches
 * them, and a context switch costs it nothing).
 *
 * Two threads on one CPU pass a byte back and forth over two pipes; each
 * round trip is two wakeups and two context switches, so sched_switch
 * and sched_wakeup fire twice each. Prints "LABEL ns_per_switch N". Under
 * QEMU -icount shift=0 (make bench) the time is instructions, and the
 * difference between runs with and without kvmwarden loaded is the cost
 * of its scheduler probes' early return plus the tracepoint dispatch.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

static int ping[2], pong[2];
static unsigned long roundtrips = 100000;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void *echo(void *arg)
{
	unsigned long i;
	char c;

	(void)arg;
	if (pin_self(0))
		return (void *)1;
	for (i = 0; i < roundtrips; i++)
		if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
			return (void *)1;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *label = "run";
	unsigned long i;
	pthread_t thread;
	double t0, t1;
	struct kvm_vm *vm = NULL;
	bool with_vm = false;
	void *ret;
	char c = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:v")) != -1) {
		switch (opt) {
		case 'n':
			roundtrips = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			with_vm = true;
			break;
		default:
			fprintf(stderr, "usage: sched_bench [-n ROUNDTRIPS] [-v] [LABEL]\n");
			return 2;
		}
	}
	if (with_vm) {
		vm = vm_create(NULL);
		if (!vm || !vcpu_add(vm) ||
		    vcpu_load_prog(vm->vcpus[0], GUEST_PROG_CPUID, 10) ||
		    vcpu_run(vm->vcpus[0])) {
			fprintf(stderr, "sched_bench: could not run a VM\n");
			return 1;
		}
		/* Let the module attach its scheduler probes. */
		usleep(200 * 1000);
	}
	if (optind < argc)
		label = argv[optind];
	if (!roundtrips || pipe(ping) || pipe(pong) || pin_self(0)) {
		fprintf(stderr, "sched_bench: setup: %s\n", strerror(errno));
		return 1;
	}
	if (pthread_create(&thread, NULL, echo, NULL))
		return 1;
	t0 = now_ns();
	for (i = 0; i < roundtrips; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			return 1;
	t1 = now_ns();
	if (pthread_join(thread, &ret) || ret)
		return 1;
	printf("%s ns_per_switch %.1f\n", label, (t1 - t0) / (2.0 * roundtrips));
	if (vm)
		vm_destroy(vm);
	return 0;
}
