/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared between kvmlat.bpf.c and its userspace loader (latency.c): the
 * layout of the tables the BPF program fills, which the loader reads
 * through the memory-mapped .bss map.
 *
 * Only fixed-width types, no holes: both sides must see the same bytes.
 */
#ifndef __KVMW_KVMLAT_H
#define __KVMW_KVMLAT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
/*
 * The UAPI's constants (the KVMW_LAT_BUCKETS histogram layout, vendors,
 * KVMW_REASON_UNDECODED): the header is safe to include after vmlinux.h.
 */
#include <uapi/linux/kvmwarden.h>

/*
 * vCPU slots: distinct (tgid, tid, vcpu_id) seen since the load, in an
 * open-addressed table probed KVMLAT_PROBES slots from the key's hash.
 */
#define KVMLAT_SLOT_BITS	8
#define KVMLAT_MAX_VCPUS	256		/* 2^KVMLAT_SLOT_BITS */
#define KVMLAT_PROBES		8
/* Reason entries per vCPU slot (first come; later ones are dropped). */
#define KVMLAT_REASONS		32

/*
 * Reason codes with a direct index into a slot's entries: VMX basic exit
 * reasons and SVM exit codes below 0x100, and the SVM codes from 0x400
 * (NPF, AVIC, VMGEXIT) to 0x40f. Any other code (SVM_EXIT_ERR,
 * KVMW_REASON_UNDECODED) is searched for among the slot's entries.
 */
#define KVMLAT_DIRECT_LOW	0x100
#define KVMLAT_SVM_HIGH_BASE	0x400
#define KVMLAT_SVM_HIGH_NR	0x10
#define KVMLAT_DIRECT		(KVMLAT_DIRECT_LOW + KVMLAT_SVM_HIGH_NR)

/* Slots of kvmlat_drops[]: exits that are not in the tables. */
enum kvmlat_drop {
	/* The KVMLAT_PROBES slots from the vCPU's hash were all taken. */
	KVMLAT_DROP_NO_VCPU = 0,
	/* All KVMLAT_REASONS entries of the vCPU taken. */
	KVMLAT_DROP_NO_REASON,
	KVMLAT_DROP_NR,
};

/**
 * struct kvmlat_vcpu - one vCPU slot
 * @tgid: VMM process id, written last: 0 while the slot is set up
 * @tid: vCPU thread id, written first (claims the slot); 0: free
 * @vcpu_id: KVM vCPU id
 * @nr_reasons: entries of kvmlat_entries[slot] in use
 * @exit_ts: bpf_ktime_get_ns() of the exit in flight
 * @pending: 1 + entry index of the exit in flight (the last exit, whose
 *	entry has not happened yet), or 0
 * @pad: 0
 * @direct: 1 + entry index of each directly indexed reason code, or 0
 */
struct kvmlat_vcpu {
	__u32 tgid;
	__u32 tid;
	__u32 vcpu_id;
	__u32 nr_reasons;
	__u64 exit_ts;
	__u32 pending;
	__u32 pad;
	__u8 direct[KVMLAT_DIRECT];
};

/**
 * struct kvmlat_entry - exits of one vCPU slot for one reason
 * @reason: VMX basic exit reason, SVM exit code or KVMW_REASON_UNDECODED
 * @pad: 0
 * @count: exits counted (at kvm_exit)
 * @total_ns: sum of the exit-to-next-entry times of the timed exits
 * @min_ns: shortest of them; ~0 while none was timed
 * @max_ns: longest of them
 * @hist: timed exits per log2 bucket of ns, KVMW_LAT_BUCKETS layout
 */
struct kvmlat_entry {
	__u32 reason;
	__u32 pad;
	__u64 count;
	__u64 total_ns;
	__u64 min_ns;
	__u64 max_ns;
	__u64 hist[KVMW_LAT_BUCKETS];
};

#endif /* __KVMW_KVMLAT_H */
