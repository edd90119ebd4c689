// SPDX-License-Identifier: GPL-2.0
/*
 * demo_guests - sample VMs with different exit profiles, for "make demo".
 *
 *   demo_guests [SECONDS]
 *
 * Starts three VMs in this process, one thread per vCPU as a VMM has, and
 * runs their guest programs over and over until SECONDS (default 30) have
 * passed or SIGTERM/SIGINT arrives:
 *   cpuid-heavy  2 vCPUs, CPUID loops (handled in the kernel)
 *   io-mmio      1 vCPU, port I/O to userspace and to an in-kernel
 *                ioeventfd, MMIO to userspace, some CPUID
 *   halt-msr     1 vCPU, HLT (to userspace: no in-kernel irqchip), MSR
 *                reads and writes, hypercalls
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

struct demo_vm {
	const char *name;
	unsigned int nr_vcpus;
	bool kernel_pio;
	struct guest_mix mix;
};

static const struct demo_vm demo_vms[] = {
	{ "cpuid-heavy", 2, false, { .cpuid = 2000 } },
	{ "io-mmio", 1, true,
	  { .pio_user = 200, .pio_kernel = 300, .mmio = 100, .cpuid = 100 } },
	{ "halt-msr", 1, false,
	  { .hlt = 50, .msr_read = 300, .msr_write = 100, .hypercall = 100 } },
};

static volatile sig_atomic_t demo_stop;

static void demo_on_signal(int sig)
{
	(void)sig;
	demo_stop = 1;
}

struct demo_thread {
	struct kvm_vcpu *vcpu;
	const struct demo_vm *def;
	unsigned long rounds;
	int err;
	pthread_t thread;
};

static void *demo_vcpu_thread(void *arg)
{
	struct demo_thread *t = arg;

	while (!demo_stop) {
		t->err = vcpu_load_mixed(t->vcpu, &t->def->mix);
		if (!t->err)
			t->err = vcpu_run(t->vcpu);
		if (t->err) {
			fprintf(stderr, "demo_guests: %s: vCPU %d: %s\n",
				t->def->name, t->vcpu->id, t->vcpu->res.msg);
			break;
		}
		t->rounds++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct demo_thread threads[8];
	struct kvm_vm *vms[ARRAY_SIZE(demo_vms)];
	unsigned int nr_threads = 0, i, j;
	struct timespec deadline;
	long seconds = 30;
	int ret = 0;

	if (argc > 1) {
		char *end;

		seconds = strtol(argv[1], &end, 10);
		if (*end || seconds <= 0) {
			fprintf(stderr, "usage: demo_guests [SECONDS]\n");
			return 2;
		}
	}
	if (!kvm_available()) {
		fprintf(stderr, "demo_guests: /dev/kvm is not available\n");
		return 1;
	}
	signal(SIGTERM, demo_on_signal);
	signal(SIGINT, demo_on_signal);

	for (i = 0; i < ARRAY_SIZE(demo_vms); i++) {
		const struct demo_vm *def = &demo_vms[i];

		vms[i] = vm_create(NULL);
		if (!vms[i])
			return 1;
		if (def->kernel_pio && vm_enable_kernel_pio(vms[i]))
			return 1;
		for (j = 0; j < def->nr_vcpus; j++) {
			struct demo_thread *t = &threads[nr_threads++];

			t->vcpu = vcpu_add(vms[i]);
			if (!t->vcpu)
				return 1;
			t->def = def;
			t->rounds = 0;
			t->err = 0;
		}
		printf("demo_guests: VM %u '%s': %u vCPU(s)\n", i + 1,
		       def->name, def->nr_vcpus);
	}
	fflush(stdout);
	for (i = 0; i < nr_threads; i++)
		if (pthread_create(&threads[i].thread, NULL, demo_vcpu_thread,
				   &threads[i]))
			return 1;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	while (!demo_stop) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline.tv_sec)
			break;
		usleep(100000);
	}
	demo_stop = 1;

	for (i = 0; i < nr_threads; i++) {
		struct timespec grace;

		/* A round is short; a vCPU stuck in the guest ends with us. */
		clock_gettime(CLOCK_REALTIME, &grace);
		grace.tv_sec += 5;
		if (pthread_timedjoin_np(threads[i].thread, NULL, &grace)) {
			fprintf(stderr, "demo_guests: %s vCPU %d did not stop\n",
				threads[i].def->name, threads[i].vcpu->id);
			_exit(1);
		}
		if (threads[i].err)
			ret = 1;
		printf("demo_guests: %s vCPU %d (tid %d): %lu rounds\n",
		       threads[i].def->name, threads[i].vcpu->id,
		       threads[i].vcpu->tid, threads[i].rounds);
	}
	for (i = 0; i < ARRAY_SIZE(demo_vms); i++)
		vm_destroy(vms[i]);
	return ret;
}
