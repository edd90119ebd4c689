/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NUMA placement of vCPU threads (kvmw_numa.c): pin and follow policies.
 * Documentation/numa.rst explains the design.
 */
#ifndef KVMW_NUMA_H
#define KVMW_NUMA_H

#include <linux/nodemask.h>
#include <linux/types.h>

#include <uapi/linux/kvmwarden.h>

struct kvmw_vm;
struct kvmw_numa;

/* Values of kvmw_numa_read(), in the order of the VM statistics. */
enum {
	KVMW_NUMA_R_POLICY,
	KVMW_NUMA_R_NODE,
	KVMW_NUMA_R_MOVES,
	KVMW_NUMA_R_DWELL,
	KVMW_NUMA_R_HYST,
	KVMW_NUMA_R_RATE,
	KVMW_NUMA_R_CONFLICT,
	KVMW_NUMA_R_LOCAL,
	KVMW_NUMA_R_NR
};

int kvmw_numa_set(struct kvmw_vm *vm, const struct kvmw_numa_policy *req,
		  const nodemask_t *nodes);
void kvmw_numa_get(struct kvmw_vm *vm, struct kvmw_numa_policy *out,
		   nodemask_t *nodes);
void kvmw_numa_read(struct kvmw_vm *vm, u64 *val);
void kvmw_numa_vm_gone(struct kvmw_vm *vm);
void kvmw_numa_vm_free(struct kvmw_vm *vm);
void kvmw_numa_kick(void);
void kvmw_numa_exit(void);

#endif /* KVMW_NUMA_H */
