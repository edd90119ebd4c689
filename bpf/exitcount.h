/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between exitcount.bpf.c and its userspace loader (oracle.c):
 * the layout of the maps the BPF program fills.
 *
 * Only fixed-width types, no holes: both sides must see the same bytes.
 */
#ifndef __KVMW_EXITCOUNT_H
#define __KVMW_EXITCOUNT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
/* KVMW_VENDOR_* (the isa of kvm_exit), the VMX basic reason mask. */
#include <uapi/linux/kvmwarden.h>

/* Capacity of the exit count hash map (distinct keys). */
#define EXITCOUNT_MAX_ENTRIES	16384

/* Slots of the drop counter array map. */
enum exitcount_drop_slot {
	/* A new key could not be inserted (map full, or busy bucket). */
	EXITCOUNT_DROP_INSERT = 0,
	EXITCOUNT_DROP_NR_SLOTS,
};

/**
 * struct exitcount_key - one counter of the exit count map
 * @tgid: process id of the VMM (in the initial pid namespace)
 * @tid: thread id of the vCPU thread that exited
 * @vcpu_id: KVM vCPU id, from the kvm_exit record
 * @reason: VMX basic exit reason (exit_reason & 0xffff) or the full
 *	32-bit SVM exit code
 */
struct exitcount_key {
	__u32 tgid;
	__u32 tid;
	__u32 vcpu_id;
	__u32 reason;
};

/**
 * struct exitcount_val - value of the exit count map
 * @count: exits seen for the key
 */
struct exitcount_val {
	__u64 count;
};

#endif /* __KVMW_EXITCOUNT_H */
