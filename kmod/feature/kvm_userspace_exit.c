// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: KVM_USERSPACE_EXIT
 * kvmw-needs: the kvm_userspace_exit(u32 reason, int errno) tracepoint
 *
 * Exact: include/trace/events/kvm.h is part of the kernel headers, so the
 * register_trace_kvm_userspace_exit() helper it declares is compared with
 * the type of kvmwarden's probe, void (void *data, u32 reason, int err),
 * which kmod/kvmw_probe.c attaches with tracepoint_probe_register() (the
 * helper itself would link against the unexported tracepoint).
 */
#include <linux/kvm_host.h>
#include <linux/tracepoint.h>
#include <trace/events/kvm.h>

static_assert(__same_type(&register_trace_kvm_userspace_exit,
			  int (*)(void (*probe)(void *data, u32 reason, int err),
				  void *data)));
