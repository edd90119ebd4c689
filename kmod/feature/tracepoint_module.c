// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: TRACEPOINT_LOOKUP
 * kvmw-needs: the tracepoint module notifier and for_each_kernel_tracepoint()
 *
 * kmod/kvmw_kvm.c finds kvm.ko's unexported kvm_userspace_exit through
 * the tracepoint module notifier, and kmod/kvmw_sched.c the scheduler's
 * tracepoints by name. Without CONFIG_TRACEPOINTS and CONFIG_MODULES the
 * notifier is an empty stub.
 */
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/tracepoint.h>

#if !IS_ENABLED(CONFIG_TRACEPOINTS) || !IS_ENABLED(CONFIG_MODULES)
#error "CONFIG_TRACEPOINTS or CONFIG_MODULES is off"
#endif

static_assert(__same_type(&register_tracepoint_module_notifier,
			  int (*)(struct notifier_block *nb)));
static_assert(__same_type(&for_each_kernel_tracepoint,
			  void (*)(void (*fct)(struct tracepoint *tp,
					       void *priv),
				   void *priv)));
static_assert(__same_type(((struct tp_module *)NULL)->mod, struct module *));
static_assert(__same_type(((struct module *)NULL)->num_tracepoints,
			  unsigned int));
static_assert(__same_type(&tracepoint_ptr_deref,
			  struct tracepoint *(*)(tracepoint_ptr_t *p)));
static_assert(__same_type(((struct module *)NULL)->tracepoints_ptrs,
			  tracepoint_ptr_t *));
static_assert(__same_type(((struct tracepoint *)NULL)->name, const char *));
