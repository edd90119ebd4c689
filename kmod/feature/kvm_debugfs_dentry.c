// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: KVM_DEBUGFS_DENTRY
 * kvmw-needs: struct kvm::debugfs_dentry, the VM lifetime token
 *
 * kmod/kvmw_kvm.h reads the VM's debugfs directory as its incarnation
 * token and holds a reference on it (Documentation/design.rst).
 */
#include <linux/dcache.h>
#include <linux/kvm_host.h>

static_assert(__same_type(((struct kvm *)NULL)->debugfs_dentry,
			  struct dentry *));
