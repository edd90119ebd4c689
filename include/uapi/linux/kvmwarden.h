/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmwarden: per-VM and per-vCPU accounting of KVM virtual machines.
 *
 * This is the one user/kernel contract of the project. The kernel module,
 * the BPF programs and the userspace tools all include it.
 *
 * Rules (see Documentation/uapi.rst):
 *  - Every ioctl argument starts with __u32 size and __u32 flags. The caller
 *    sets size to sizeof() of the struct it was compiled against; the kernel
 *    accepts any size >= the *_SIZE_VER0 constant, zero-extends shorter
 *    structs and rejects longer ones whose extra bytes are not zero
 *    (copy_struct_from_user() semantics). Unknown flag bits and non-zero
 *    reserved fields give -EINVAL; output fields are ignored on input, so
 *    a struct can be passed again as it came back (e.g. after E2BIG).
 *  - Arrays returned by the kernel are described by a pointer (__u64), an
 *    element size chosen by the caller (>= the element's *_SIZE_VER0) and a
 *    capacity. The kernel writes min(element size, its own size) bytes per
 *    element and zero-fills the rest, so old and new binaries interoperate.
 *  - The size bits of the ioctl numbers are ignored by the kernel: the size
 *    field inside the struct is authoritative, so a struct can grow without
 *    changing its ioctl number.
 *  - No kernel address is ever returned. VMs are named by an opaque 64-bit
 *    id assigned by the module (never reused while the module is loaded),
 *    the VMM's process id and each vCPU's thread id.
 */
#ifndef _UAPI_LINUX_KVMWARDEN_H
#define _UAPI_LINUX_KVMWARDEN_H

/*
 * BPF programs include this header after vmlinux.h, which already has
 * the kernel's types; the ioctl macros are only needed where used.
 */
#ifndef __VMLINUX_H__
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

#define KVMW_DEVICE_PATH	"/dev/kvmwarden"

/*
 * API version: bumped only for incompatible changes. Compatible additions
 * (new fields at the end of a struct, new ioctls, new feature bits) keep
 * the version and are announced through feature bits.
 */
#define KVMW_API_VERSION	1

/* Feature bits returned by KVMW_IOC_HANDSHAKE. */
/* Per-vCPU, per-hardware-reason exit and entry counts. */
#define KVMW_FEAT_EXIT_COUNTS		(1ULL << 0)
/* SVM exit codes are decoded (VMCB read; set once its layout check passed). */
#define KVMW_FEAT_REASON_SVM		(1ULL << 1)
/* VMX basic exit reasons are decoded (VMREAD of VM_EXIT_REASON; VMX hosts). */
#define KVMW_FEAT_REASON_VMX		(1ULL << 2)
/*
 * Destroyed VMs are detected exactly where KVM gives them a debugfs
 * directory; a VM without one carries KVMW_VM_F_NO_LIFETIME.
 */
#define KVMW_FEAT_VM_LIFETIME		(1ULL << 3)
/*
 * Exit-to-entry latency per reason (total, min, max, log2 histogram) and
 * per-vCPU guest, overhead, idle and userspace time: the VER1 fields of
 * struct kvmw_vcpu_info and struct kvmw_reason_stat.
 */
#define KVMW_FEAT_LATENCY		(1ULL << 4)
/*
 * Returns to userspace (KVM_RUN ending) are seen, so the time the VMM
 * spends between an exit and the next entry is split off as user_ns.
 * Without it user_ns stays 0 and that time counts as overhead.
 */
#define KVMW_FEAT_USER_EXITS		(1ULL << 5)
/*
 * Nested page faults (EPT violations, SVM NPF) from KVM's kvm_page_fault
 * tracepoint: count, access type, latency and the NUMA node of the
 * backing page, the VER2 fields of struct kvmw_vcpu_info.
 */
#define KVMW_FEAT_FAULTS		(1ULL << 6)

/*
 * Scheduler view of vCPU threads from the sched_switch, sched_wakeup,
 * sched_wakeup_new and sched_migrate_task tracepoints while they are
 * inside KVM_RUN: run-queue delay, preemptions, migrations and run time
 * per NUMA node, the VER3 fields of struct kvmw_vcpu_info.
 */
#define KVMW_FEAT_SCHED			(1ULL << 7)
/*
 * Where each VM's memory lives: resident guest pages per NUMA node,
 * sampled from KVM's memslots (struct kvmw_vm_mem).
 */
#define KVMW_FEAT_MEM_NUMA		(1ULL << 8)
/* read()/poll() event stream on /dev/kvmwarden (struct kvmw_event). */
#define KVMW_FEAT_EVENTS		(1ULL << 9)
/* KVMW_IOC_SNAPSHOT_ALL: every VM, vCPU and reason in one call. */
#define KVMW_FEAT_SNAPSHOT_ALL		(1ULL << 10)
/*
 * Self-describing statistics: KVMW_IOC_STATS_DESC describes every
 * statistic (name, scope, kind, unit, place in a record, histogram
 * layout) and KVMW_IOC_STATS_READ returns records of values laid out as
 * described.
 */
#define KVMW_FEAT_STATS			(1ULL << 11)
/*
 * Per-VM exit budgets: KVMW_IOC_BUDGET_SET / KVMW_IOC_BUDGET_GET, the
 * budget statistics and the KVMW_EVENT_BUDGET_* events.
 */
#define KVMW_FEAT_BUDGET		(1ULL << 12)
/* Host-wide default budgets for new VMs: KVMW_IOC_BUDGET_DEFAULT_SET/_GET. */
#define KVMW_FEAT_BUDGET_DEFAULT	(1ULL << 13)
/*
 * NUMA placement of vCPU threads: KVMW_IOC_NUMA_SET / KVMW_IOC_NUMA_GET,
 * the numa_* statistics and the KVMW_EVENT_NUMA_* events.
 */
#define KVMW_FEAT_NUMA_PLACE		(1ULL << 14)

/*
 * Length of API 1's per-node arrays (struct kvmw_vcpu_info, struct
 * kvmw_vm_mem): higher nodes count as unknown there (faults, memory) or
 * are left out (run time). The module counts every node of the host;
 * the per-node statistics of KVMW_IOC_STATS_READ have nr_nodes values.
 */
#define KVMW_MAX_NODES		16

/*
 * Latency histograms: KVMW_LAT_BUCKETS log2 buckets of nanoseconds, the
 * same layout in the module, the BPF programs and the tools. Bucket 0
 * counts [0, 2) ns, bucket b (1 <= b < 31) counts [2^b, 2^(b+1)) ns and
 * bucket 31 everything from 2^31 ns (about 2.1 s) up. In C:
 *	b = min(ilog2(ns | 1), KVMW_LAT_BUCKETS - 1)
 */
#define KVMW_LAT_BUCKETS	32

/* Virtualisation extension that produced an exit: same values as KVM_ISA_*. */
#define KVMW_VENDOR_UNKNOWN	0
#define KVMW_VENDOR_VMX		1
#define KVMW_VENDOR_SVM		2

/*
 * Reason code used for exits whose hardware reason could not be read (for
 * example before or after a failed check of KVM's SVM data layout, which
 * runs on the first exits, or for SEV-ES guests before that check passed). Real
 * VMX basic reasons are below 0x10000 and real SVM exit codes are either
 * below 0x10000 or 0xffffffff (SVM_EXIT_ERR), so this never collides.
 */
#define KVMW_REASON_UNDECODED	0xfffffffeU

/* The VMX basic exit reason: bits 15:0 of the VM-exit reason field. */
#define KVMW_VMX_BASIC_REASON_MASK	0xffffU

/**
 * struct kvmw_handshake - argument of KVMW_IOC_HANDSHAKE
 * @size: in: sizeof(struct kvmw_handshake) as known by the caller
 * @flags: in: must be 0
 * @api_version: out: KVMW_API_VERSION of the module
 * @vendor: out: KVMW_VENDOR_* of this host's CPU (0 if it has neither)
 * @features: out: KVMW_FEAT_* bits
 * @nr_vms: out: number of VMs currently tracked (live and gone-but-kept)
 * @nr_vcpus: out: number of vCPUs currently tracked
 * @untracked_exits: out: exits that could not be accounted to a vCPU
 *	because no free record was available at the time or a cap on tracked
 *	VMs or vCPUs was reached (should stay 0; a non-zero value is a
 *	capacity problem or a VMM beyond its caps, never hidden)
 * @nr_reason_slots: out: number of distinct reason codes a vCPU record
 *	holds without overflow (informational)
 * @reserved: must be 0 on input, 0 on output
 *
 * All fields but @size, @flags and @reserved are output only.
 */
struct kvmw_handshake {
	__u32 size;
	__u32 flags;
	__u32 api_version;
	__u32 vendor;
	__u64 features;
	__u32 nr_vms;
	__u32 nr_vcpus;
	__u64 untracked_exits;
	__u32 nr_reason_slots;
	__u32 reserved;
};

#define KVMW_HANDSHAKE_SIZE_VER0	48

/* Flags in struct kvmw_vm_info::flags. */
/* The VM has been destroyed; its final numbers stay readable for a while. */
#define KVMW_VM_F_GONE		(1U << 0)
/* No exact lifetime token for this VM (KVM debugfs unavailable). */
#define KVMW_VM_F_NO_LIFETIME	(1U << 1)

/**
 * struct kvmw_vm_info - one VM as returned by KVMW_IOC_LIST_VMS
 * @vm_id: opaque id assigned by kvmwarden, never 0, never reused while
 *	the module is loaded (a counter from 1, so it fits a JSON number)
 * @vmm_pid: process id (tgid) of the VMM that ran the VM's vCPUs, in the
 *	initial pid namespace
 * @nr_vcpus: vCPUs seen so far (a vCPU appears at its first KVM_RUN)
 * @exits: total exits of all vCPUs
 * @entries: total guest entries of all vCPUs
 * @first_seen_ns: CLOCK_BOOTTIME (ns) when kvmwarden first saw the VM
 * @gone_ns: CLOCK_BOOTTIME (ns) when the VM was found destroyed, else 0
 * @flags: KVMW_VM_F_*
 * @vendor: KVMW_VENDOR_*
 * @comm: the VMM's command name (NUL-terminated, as in /proc/PID/comm)
 */
struct kvmw_vm_info {
	__u64 vm_id;
	__u32 vmm_pid;
	__u32 nr_vcpus;
	__u64 exits;
	__u64 entries;
	__u64 first_seen_ns;
	__u64 gone_ns;
	__u32 flags;
	__u32 vendor;
	__u8 comm[16];
};

#define KVMW_VM_INFO_SIZE_VER0		72

/**
 * struct kvmw_vm_list - argument of KVMW_IOC_LIST_VMS
 * @size: in: sizeof(struct kvmw_vm_list)
 * @flags: in: must be 0
 * @vms_ptr: in: user address of an array of @max_vms elements
 * @vm_info_size: in: element size the caller uses (>= KVMW_VM_INFO_SIZE_VER0)
 * @max_vms: in: capacity of the array; 0 only queries @nr_vms (the call
 *	then succeeds and writes no element)
 * @nr_vms: out: number of VMs tracked; when larger than a non-zero
 *	@max_vms the call fails with E2BIG and writes nothing but this field
 * @reserved: must be 0
 */
struct kvmw_vm_list {
	__u32 size;
	__u32 flags;
	__u64 vms_ptr;
	__u32 vm_info_size;
	__u32 max_vms;
	__u32 nr_vms;
	__u32 reserved;
};

#define KVMW_VM_LIST_SIZE_VER0		32

/**
 * struct kvmw_vcpu_info - one vCPU in a KVMW_IOC_VM_SNAPSHOT answer
 * @vcpu_id: KVM vCPU id given by the VMM at KVM_CREATE_VCPU
 * @tid: thread id of the thread that last ran the vCPU
 * @exits: exits counted
 * @entries: guest entries counted
 * @first_reason: index in the snapshot's reason array of this vCPU's first
 *	entry; its entries are [first_reason, first_reason + nr_reasons)
 * @nr_reasons: number of distinct reason codes this vCPU has exited with
 * @overflow_exits: exits whose reason did not fit the per-vCPU table (a
 *	vCPU holds every architectural code plus a few unknown ones; this
 *	stays 0 unless the hardware reports many undefined codes)
 *
 * VER1 (KVMW_FEAT_LATENCY). Times are in nanoseconds of the module's clock
 * (Documentation/uapi.rst, "Clock"); an exit's time is the time from the
 * exit to the next entry of the same vCPU and is added when that entry
 * happens, so an exit still being handled is not included yet.
 * @guest_ns: time in guest mode, from each entry to the following exit
 * @exit_ns: time outside guest mode after the timed exits; always
 *	@idle_ns + @user_ns + @overhead_ns
 * @idle_ns: part of @exit_ns after exits of category halt (HLT, MWAIT...):
 *	the guest had nothing to run; not overhead
 * @user_ns: part of @exit_ns after other exits during which KVM_RUN had
 *	returned to the VMM (MMIO/PIO to userspace, signals): from the
 *	return to userspace to the next entry, the VMM's own time
 * @overhead_ns: the rest of @exit_ns: host time spent handling exits in
 *	the kernel; the share of vCPU time lost to exits is
 *	@overhead_ns / (@guest_ns + @exit_ns)
 * @untimed_exits: exits counted but not timed because the vCPU's reason
 *	table for latency was full (KVMW_LAT_REASONS per vCPU; stays 0 in
 *	practice)
 *
 * VER2 (KVMW_FEAT_FAULTS): nested page faults handed to KVM's MMU (the
 * kvm_page_fault tracepoint on an EPT-violation or NPF exit; guest #PF
 * intercepts are not counted). Access bits come from the exit
 * qualification (VMX) or the NPF error code (SVM).
 * @faults: faults
 * @fault_mmio: of which emulated MMIO: a GPA without memslot, a
 *	reserved-bit NPF (SVM) or an EPT_MISCONFIG exit (VMX: KVM's MMIO
 *	translations; counted as faults so that both vendors agree, with
 *	neither write nor fetch known)
 * @fault_write: of which write accesses
 * @fault_fetch: of which instruction fetches
 * @fault_present: of which on a present translation (permission faults)
 * @fault_lat_total_ns: time from the fault to the next entry, summed
 * @fault_lat_max_ns: longest of those
 * @fault_node_unknown: faults whose backing page was not found: no
 *	memslot (MMIO), not mapped by the next entry, or node >=
 *	KVMW_MAX_NODES
 * @fault_node: faults whose backing page is on each NUMA node, looked up
 *	without sleeping at the fault or, for a page not yet present, at the
 *	next entry
 * @fault_hist: fault latencies, KVMW_LAT_BUCKETS layout
 *
 * VER3 (KVMW_FEAT_SCHED): the vCPU thread as the host scheduler sees it.
 * Only what happens while the thread is inside KVM_RUN is seen (that is
 * when KVM has the vCPU loaded); the VMM's own userspace work in between
 * is not. Times in ns of the module's clock.
 * @vm_id: the VM this vCPU belongs to (as in struct kvmw_vm_info)
 * @rq_delay_ns: time the thread was runnable but not running: from a
 *	wakeup, or from being preempted, to running again; what the guest
 *	experiences as steal time
 * @rq_delay_count: such waits
 * @rq_delay_max_ns: longest wait
 * @preemptions: times the thread was switched out while still runnable
 *	(involuntary: preempted, or yielded to a task that needed the CPU)
 * @sleeps: times it blocked (voluntary: HLT, waiting for an event)
 * @migrations: moves to another CPU
 * @node_migrations: of which to a CPU of another NUMA node
 * @last_cpu: CPU it last ran on, KVMW_CPU_NONE before it was seen
 * @last_node: NUMA node of @last_cpu, KVMW_CPU_NONE likewise
 * @run_node_ns: time it ran on CPUs of each NUMA node (nodes >=
 *	KVMW_MAX_NODES are not counted)
 * @rq_delay_hist: the waits, KVMW_LAT_BUCKETS layout
 */
struct kvmw_vcpu_info {
	__u32 vcpu_id;
	__u32 tid;
	__u64 exits;
	__u64 entries;
	__u32 first_reason;
	__u32 nr_reasons;
	__u64 overflow_exits;
	/* VER1 */
	__u64 guest_ns;
	__u64 exit_ns;
	__u64 idle_ns;
	__u64 user_ns;
	__u64 overhead_ns;
	__u64 untimed_exits;
	/* VER2 */
	__u64 faults;
	__u64 fault_mmio;
	__u64 fault_write;
	__u64 fault_fetch;
	__u64 fault_present;
	__u64 fault_lat_total_ns;
	__u64 fault_lat_max_ns;
	__u64 fault_node_unknown;
	__u64 fault_node[KVMW_MAX_NODES];
	__u64 fault_hist[KVMW_LAT_BUCKETS];
	/* VER3 */
	__u64 vm_id;
	__u64 rq_delay_ns;
	__u64 rq_delay_count;
	__u64 rq_delay_max_ns;
	__u64 preemptions;
	__u64 sleeps;
	__u64 migrations;
	__u64 node_migrations;
	__u32 last_cpu;
	__u32 last_node;
	__u64 run_node_ns[KVMW_MAX_NODES];
	__u64 rq_delay_hist[KVMW_LAT_BUCKETS];
};

#define KVMW_VCPU_INFO_SIZE_VER0	40
#define KVMW_VCPU_INFO_SIZE_VER1	88
#define KVMW_VCPU_INFO_SIZE_VER2	536
#define KVMW_VCPU_INFO_SIZE_VER3	992

/* struct kvmw_vcpu_info::last_cpu and last_node before the first sighting */
#define KVMW_CPU_NONE		0xffffffffU

/* Distinct reasons per vCPU that get latency figures (first come). */
#define KVMW_LAT_REASONS	24

/**
 * struct kvmw_reason_stat - exits of one vCPU for one hardware reason
 * @reason: raw hardware reason: VMX basic exit reason (bits 15:0 of the
 *	VM-exit reason field; the flag bits, e.g. bit 31 "VM-entry failure",
 *	are not kept) or SVM exit code (VMCB EXITCODE, low 32 bits);
 *	KVMW_REASON_UNDECODED when it could not be read
 * @vcpu_index: index in the snapshot's vCPU array of the vCPU counted
 * @count: exits counted
 *
 * VER1 (KVMW_FEAT_LATENCY), times in ns as in struct kvmw_vcpu_info:
 * @flags: KVMW_REASON_F_*
 * @reserved: 0
 * @lat_total_ns: sum of the exit-to-next-entry times of the timed exits
 * @lat_min_ns: shortest of them (0 when none was timed)
 * @lat_max_ns: longest of them
 * @user_count: timed exits during which KVM_RUN returned to userspace
 * @user_ns: time those spent in userspace (part of @lat_total_ns)
 * @hist: timed exits per log2 bucket (see KVMW_LAT_BUCKETS); the sum of
 *	the buckets is the number of timed exits, which is @count minus
 *	the exit in flight (at most one per vCPU) and minus exits that
 *	happened before the vCPU's first entry seen by the module
 */
struct kvmw_reason_stat {
	__u32 reason;
	__u32 vcpu_index;
	__u64 count;
	/* VER1 */
	__u32 flags;
	__u32 reserved;
	__u64 lat_total_ns;
	__u64 lat_min_ns;
	__u64 lat_max_ns;
	__u64 user_count;
	__u64 user_ns;
	__u64 hist[KVMW_LAT_BUCKETS];
};

#define KVMW_REASON_STAT_SIZE_VER0	16
#define KVMW_REASON_STAT_SIZE_VER1	320

/* Flags in struct kvmw_reason_stat::flags. */
/* Category halt: the time after these exits is idle time, not overhead. */
#define KVMW_REASON_F_IDLE	(1U << 0)
/* The vCPU's latency table was full: this reason is counted, not timed. */
#define KVMW_REASON_F_UNTIMED	(1U << 1)

/**
 * struct kvmw_vm_mem - where a VM's memory lives (KVMW_FEAT_MEM_NUMA)
 * @pages: guest memory pages in KVM's memslots when the last complete
 *	sampling pass started
 * @stride: pages between two samples in that pass (1: every page looked
 *	at); an estimate of resident pages per node is @node[i] * @stride
 * @sampled: samples taken in that pass
 * @unmapped: of which no page was resident in the VMM (never touched,
 *	swapped out)
 * @node_unknown: of which resident on a node >= KVMW_MAX_NODES
 * @passes: complete passes since the VM was seen
 * @pass_ns: CLOCK_BOOTTIME (ns) when the last pass completed, 0 before the
 *	first
 * @reserved: 0
 * @node: resident samples on each NUMA node in that pass
 *
 * The module samples the memslots in small batches from the VM's own vCPU
 * threads, at most one batch of a few pages per VM every few milliseconds
 * (Documentation/design.rst, "Memory locality"), so figures describe a
 * pass that took a while. All fields are 0 until the first pass is done.
 * This layout is frozen: it is embedded in other structures.
 */
struct kvmw_vm_mem {
	__u64 pages;
	__u64 stride;
	__u64 sampled;
	__u64 unmapped;
	__u64 node_unknown;
	__u64 passes;
	__u64 pass_ns;
	__u64 reserved;
	__u64 node[KVMW_MAX_NODES];
};

#define KVMW_VM_MEM_SIZE		192

/**
 * struct kvmw_vm_snapshot - argument of KVMW_IOC_VM_SNAPSHOT
 * @size: in: sizeof(struct kvmw_vm_snapshot)
 * @flags: in: must be 0
 * @vm_id: in: VM to read (from KVMW_IOC_LIST_VMS)
 * @vcpus_ptr: in: user address of an array of struct kvmw_vcpu_info
 * @vcpu_info_size: in: element size (>= KVMW_VCPU_INFO_SIZE_VER0)
 * @max_vcpus: in: capacity of @vcpus_ptr
 * @reasons_ptr: in: user address of an array of struct kvmw_reason_stat
 * @reason_stat_size: in: element size (>= KVMW_REASON_STAT_SIZE_VER0)
 * @max_reasons: in: capacity of @reasons_ptr
 * @nr_vcpus: out: vCPUs in the VM
 * @nr_reasons: out: (vCPU, reason) pairs with a non-zero count
 * @vm: out: the VM's summary, as in KVMW_IOC_LIST_VMS. This member is
 *	frozen at the first layout of struct kvmw_vm_info so that fields can
 *	still be appended to this struct; if struct kvmw_vm_info grows, its
 *	new fields are read with KVMW_IOC_LIST_VMS, never through here.
 * @mem: out (VER1, KVMW_FEAT_MEM_NUMA): the VM's memory per NUMA node
 *
 * Layout of the answer: vCPUs are ordered by vcpu_id; each vCPU's reason
 * entries are contiguous, in ascending reason order, each code once, at
 * [first_reason, first_reason + nr_reasons), and carry that vCPU's index.
 * All numbers come from one pass over the VM's counters: @vm.exits is the
 * sum of the vCPUs' exits, which are the sums of their reason counts plus
 * overflow_exits, and @vm.nr_vcpus equals @nr_vcpus.
 *
 * With both capacities 0 the call only reports @nr_vcpus, @nr_reasons and
 * @vm. When a capacity is too small the call fails with E2BIG and writes
 * back only @nr_vcpus and @nr_reasons (the sizes needed at that moment; a
 * running VM can grow, so callers retry with some headroom). A vm_id that
 * is unknown gives ENOENT.
 */
struct kvmw_vm_snapshot {
	__u32 size;
	__u32 flags;
	__u64 vm_id;
	__u64 vcpus_ptr;
	__u32 vcpu_info_size;
	__u32 max_vcpus;
	__u64 reasons_ptr;
	__u32 reason_stat_size;
	__u32 max_reasons;
	__u32 nr_vcpus;
	__u32 nr_reasons;
	struct kvmw_vm_info vm;
	/* VER1 */
	struct kvmw_vm_mem mem;
};

#define KVMW_VM_SNAPSHOT_SIZE_VER0	128
#define KVMW_VM_SNAPSHOT_SIZE_VER1	320

/**
 * struct kvmw_vm_entry - one VM in a KVMW_IOC_SNAPSHOT_ALL answer
 * @vm: the VM's summary, as in KVMW_IOC_LIST_VMS (frozen layout, like
 *	struct kvmw_vm_snapshot::vm)
 * @first_vcpu: index in the answer's vCPU array of this VM's first vCPU;
 *	its vCPUs are [first_vcpu, first_vcpu + vm.nr_vcpus)
 * @reserved: 0
 * @mem: the VM's memory per NUMA node
 */
struct kvmw_vm_entry {
	struct kvmw_vm_info vm;
	__u32 first_vcpu;
	__u32 reserved;
	struct kvmw_vm_mem mem;
};

#define KVMW_VM_ENTRY_SIZE_VER0		272

/**
 * struct kvmw_snapshot_all - argument of KVMW_IOC_SNAPSHOT_ALL
 * @size: in: sizeof(struct kvmw_snapshot_all)
 * @flags: in: must be 0
 * @vms_ptr: in: user address of an array of struct kvmw_vm_entry
 * @vm_entry_size: in: element size (>= KVMW_VM_ENTRY_SIZE_VER0)
 * @max_vms: in: capacity of @vms_ptr
 * @vcpus_ptr: in: user address of an array of struct kvmw_vcpu_info
 * @vcpu_info_size: in: element size (>= KVMW_VCPU_INFO_SIZE_VER0)
 * @max_vcpus: in: capacity of @vcpus_ptr
 * @reasons_ptr: in: user address of an array of struct kvmw_reason_stat
 * @reason_stat_size: in: element size (>= KVMW_REASON_STAT_SIZE_VER0)
 * @max_reasons: in: capacity of @reasons_ptr
 * @nr_vms: out: VMs tracked (live and gone-but-kept)
 * @nr_vcpus: out: vCPUs of all of them
 * @nr_reasons: out: (vCPU, reason) pairs with a non-zero count
 * @reserved: must be 0
 *
 * Everything KVMW_IOC_VM_SNAPSHOT returns, for every VM, in one call and
 * one consistent pass. VMs come in the order of KVMW_IOC_LIST_VMS; each
 * VM's vCPUs are contiguous and ordered by vcpu_id, each vCPU's reasons
 * as in KVMW_IOC_VM_SNAPSHOT; kvmw_reason_stat::vcpu_index and
 * kvmw_vcpu_info::first_reason index the arrays of this answer. All three
 * capacities 0 only reports the counts; any capacity too small fails with
 * E2BIG and writes back only the counts.
 */
struct kvmw_snapshot_all {
	__u32 size;
	__u32 flags;
	__u64 vms_ptr;
	__u32 vm_entry_size;
	__u32 max_vms;
	__u64 vcpus_ptr;
	__u32 vcpu_info_size;
	__u32 max_vcpus;
	__u64 reasons_ptr;
	__u32 reason_stat_size;
	__u32 max_reasons;
	__u32 nr_vms;
	__u32 nr_vcpus;
	__u32 nr_reasons;
	__u32 reserved;
};

#define KVMW_SNAPSHOT_ALL_SIZE_VER0	72

/*
 * Self-describing statistics (KVMW_FEAT_STATS; Documentation/uapi.rst,
 * "Statistics").
 *
 * The module describes its statistics once, with KVMW_IOC_STATS_DESC: per
 * statistic a name, the scope whose records carry it, its kind, its unit,
 * where its values are in such a record (offset and count, in 64-bit
 * values) and, for histograms, the bucket layout (include/kvmwarden/hist.h).
 * KVMW_IOC_STATS_READ then returns records: a fixed header per VM, vCPU
 * or (vCPU, reason), followed by that scope's values. A consumer finds
 * what it wants by name once and reads values by offset; a statistic added
 * later is a new descriptor, and records grow at their end.
 */

/* Scopes: the records that carry a statistic. */
#define KVMW_SCOPE_VM		1	/* one record per VM */
#define KVMW_SCOPE_VCPU		2	/* one per vCPU */
#define KVMW_SCOPE_REASON	3	/* one per vCPU and hardware reason */

/* Kinds */
#define KVMW_STAT_COUNTER	1	/* only grows (while the record exists) */
#define KVMW_STAT_GAUGE		2	/* a value that goes up and down */
#define KVMW_STAT_HIST		3	/* bucket counts, in the layout given */

/* Units */
#define KVMW_UNIT_COUNT		0	/* events, pages sampled, ... */
#define KVMW_UNIT_NS		1	/* nanoseconds (a duration) */
#define KVMW_UNIT_PAGES		2	/* pages of the host's page size */
#define KVMW_UNIT_ID		3	/* a CPU or NUMA node number */
#define KVMW_UNIT_BOOTTIME_NS	4	/* a CLOCK_BOOTTIME timestamp, ns */
#define KVMW_UNIT_STATE		5	/* an enumerated state, e.g. KVMW_BUDGET_* */

/* Flags of a descriptor */
/* One value per NUMA node, nodes 0 .. nr_nodes - 1 (count == nr_nodes). */
#define KVMW_STAT_F_PER_NODE	(1U << 0)
/*
 * One value per bucket of an exit budget, buckets 0 ..
 * KVMW_BUDGET_MAX_BUCKETS - 1 (count == KVMW_BUDGET_MAX_BUCKETS).
 */
#define KVMW_STAT_F_PER_BUCKET	(1U << 1)

#define KVMW_STAT_NAME_LEN	48

/**
 * struct kvmw_stat_desc - one statistic, as KVMW_IOC_STATS_DESC describes it
 * @name: NUL-terminated, lower case, unique within its scope; stable
 *	across module versions (a statistic whose meaning changes gets a
 *	new name)
 * @scope: KVMW_SCOPE_*
 * @kind: KVMW_STAT_*
 * @unit: KVMW_UNIT_*; for a histogram, the unit of the bucket bounds
 * @flags: KVMW_STAT_F_*
 * @offset: index of its first value in the values of a @scope record
 * @count: number of values: 1, nr_nodes (KVMW_STAT_F_PER_NODE),
 *	KVMW_BUDGET_MAX_BUCKETS (KVMW_STAT_F_PER_BUCKET) or the number of
 *	buckets (KVMW_STAT_HIST)
 * @hist_type: KVMW_HIST_* of <kvmwarden/hist.h> for a histogram, else 0
 * @hist_sub_bits: sub-bucket bits of a KVMW_HIST_LOGLIN layout, else 0
 * @reserved: 0
 */
struct kvmw_stat_desc {
	char name[KVMW_STAT_NAME_LEN];
	__u16 scope;
	__u8 kind;
	__u8 unit;
	__u32 flags;
	__u32 offset;
	__u32 count;
	__u32 hist_type;
	__u32 hist_sub_bits;
	__u32 reserved[2];
};

#define KVMW_STAT_DESC_SIZE_VER0	80

/**
 * struct kvmw_stats_desc - argument of KVMW_IOC_STATS_DESC
 * @size: in: sizeof(struct kvmw_stats_desc)
 * @flags: in: must be 0
 * @descs_ptr: in: user address of an array of struct kvmw_stat_desc
 * @desc_size: in: its element size (>= KVMW_STAT_DESC_SIZE_VER0)
 * @max_descs: in: its capacity; 0 only queries the counts below
 * @nr_descs: out: number of statistics; larger than a non-zero
 *	@max_descs gives E2BIG (nothing else written)
 * @nr_nodes: out: NUMA node numbers the per-node statistics cover
 * @vm_values: out: values in a KVMW_SCOPE_VM record
 * @vcpu_values: out: values in a KVMW_SCOPE_VCPU record
 * @reason_values: out: values in a KVMW_SCOPE_REASON record
 * @reserved: must be 0
 *
 * The answer does not change while the module is loaded.
 */
struct kvmw_stats_desc {
	__u32 size;
	__u32 flags;
	__u64 descs_ptr;
	__u32 desc_size;
	__u32 max_descs;
	__u32 nr_descs;
	__u32 nr_nodes;
	__u32 vm_values;
	__u32 vcpu_values;
	__u32 reason_values;
	__u32 reserved;
};

#define KVMW_STATS_DESC_SIZE_VER0	48

/**
 * struct kvmw_vm_rec - a VM in a KVMW_IOC_STATS_READ answer
 * @vm_id: as in struct kvmw_vm_info
 * @vmm_pid: as in struct kvmw_vm_info
 * @flags: KVMW_VM_F_*
 * @vendor: KVMW_VENDOR_*
 * @nr_vcpus: its vCPUs in this answer
 * @first_vcpu: index of the first of them in the answer's vCPU records
 * @reserved: 0
 * @first_seen_ns: as in struct kvmw_vm_info
 * @gone_ns: as in struct kvmw_vm_info
 * @comm: as in struct kvmw_vm_info
 * @values: the KVMW_SCOPE_VM values (vm_values of KVMW_IOC_STATS_DESC)
 */
struct kvmw_vm_rec {
	__u64 vm_id;
	__u32 vmm_pid;
	__u32 flags;
	__u32 vendor;
	__u32 nr_vcpus;
	__u32 first_vcpu;
	__u32 reserved;
	__u64 first_seen_ns;
	__u64 gone_ns;
	__u8 comm[16];
	__u64 values[];
};

#define KVMW_VM_REC_HDR_SIZE		64

/**
 * struct kvmw_vcpu_rec - a vCPU in a KVMW_IOC_STATS_READ answer
 * @vm_index: index of its VM in the answer's VM records
 * @vcpu_id: KVM vCPU id
 * @tid: thread id of the thread that last ran it
 * @first_reason: index of its first reason record; its reasons are
 *	[first_reason, first_reason + nr_reasons), in ascending code order
 * @nr_reasons: distinct hardware reasons it has exited with
 * @reserved: 0
 * @values: the KVMW_SCOPE_VCPU values
 */
struct kvmw_vcpu_rec {
	__u32 vm_index;
	__u32 vcpu_id;
	__u32 tid;
	__u32 first_reason;
	__u32 nr_reasons;
	__u32 reserved;
	__u64 values[];
};

#define KVMW_VCPU_REC_HDR_SIZE		24

/**
 * struct kvmw_reason_rec - a (vCPU, hardware reason) in a KVMW_IOC_STATS_READ
 * answer
 * @reason: raw reason code, as in struct kvmw_reason_stat
 * @category: its vendor-neutral category (enum kvmw_category of
 *	<kvmwarden/categories.h>: io, mmio, halt, ...)
 * @vcpu_index: index of its vCPU in the answer's vCPU records
 * @flags: KVMW_REASON_F_*
 * @values: the KVMW_SCOPE_REASON values
 */
struct kvmw_reason_rec {
	__u32 reason;
	__u32 category;
	__u32 vcpu_index;
	__u32 flags;
	__u64 values[];
};

#define KVMW_REASON_REC_HDR_SIZE	16

/**
 * struct kvmw_stats_read - argument of KVMW_IOC_STATS_READ
 * @size: in: sizeof(struct kvmw_stats_read)
 * @flags: in: must be 0
 * @vm_id: in: the VM to read, or 0 for every VM
 * @vms_ptr: in: user address of the VM records
 * @vm_rec_size: in: bytes per VM record: KVMW_VM_REC_HDR_SIZE + 8 *
 *	vm_values; a smaller size (not below the header) gets records cut
 *	short, a larger one zero-filled
 * @max_vms: in: capacity of @vms_ptr
 * @vcpus_ptr: in: user address of the vCPU records
 * @vcpu_rec_size: in: bytes per vCPU record, likewise
 * @max_vcpus: in: capacity of @vcpus_ptr
 * @reasons_ptr: in: user address of the reason records
 * @reason_rec_size: in: bytes per reason record, likewise
 * @max_reasons: in: capacity of @reasons_ptr
 * @nr_vms: out: VM records in the answer
 * @nr_vcpus: out: vCPU records
 * @nr_reasons: out: reason records
 * @reserved: must be 0
 * @time_ns: out: CLOCK_BOOTTIME when the values were read
 *
 * One consistent pass, as KVMW_IOC_SNAPSHOT_ALL (or KVMW_IOC_VM_SNAPSHOT
 * for a single VM, which gives ENOENT when unknown). All capacities 0
 * only counts; a capacity too small gives E2BIG with only the counts.
 */
struct kvmw_stats_read {
	__u32 size;
	__u32 flags;
	__u64 vm_id;
	__u64 vms_ptr;
	__u32 vm_rec_size;
	__u32 max_vms;
	__u64 vcpus_ptr;
	__u32 vcpu_rec_size;
	__u32 max_vcpus;
	__u64 reasons_ptr;
	__u32 reason_rec_size;
	__u32 max_reasons;
	__u32 nr_vms;
	__u32 nr_vcpus;
	__u32 nr_reasons;
	__u32 reserved;
	__u64 time_ns;
};

#define KVMW_STATS_READ_SIZE_VER0	88

/*
 * Exit budgets. A budget is a token bucket of exits per VM (or several,
 * one per set of categories): tokens refill continuously at @rate per
 * second up to @burst; every exit in a bucket's scope takes one. A VM
 * whose bucket is empty is over budget: in KVMW_BUDGET_AUDIT mode the
 * overrun and the time the vCPU would have been parked are only counted,
 * in KVMW_BUDGET_THROTTLE mode the vCPU thread sleeps before its next
 * guest entry until the deficit is paid back (at most @max_park_ns per
 * park). See Documentation/budgets.rst.
 */
#define KVMW_BUDGET_OFF		0
#define KVMW_BUDGET_AUDIT	1
#define KVMW_BUDGET_THROTTLE	2

/* At most this many buckets per VM. */
#define KVMW_BUDGET_MAX_BUCKETS	4
/* Limits of struct kvmw_budget_bucket: exits per second, exits. */
#define KVMW_BUDGET_MAX_RATE	1000000000ULL
#define KVMW_BUDGET_MAX_BURST	(1ULL << 32)
/* Largest accepted kvmw_budget::max_park_ns (1 s) and its default (100 ms). */
#define KVMW_BUDGET_MAX_PARK_NS		1000000000ULL
#define KVMW_BUDGET_DEF_PARK_NS		100000000ULL
/* Guard window limits and default (ns), default share (percent). */
#define KVMW_BUDGET_MIN_WINDOW_NS	10000000ULL
#define KVMW_BUDGET_MAX_WINDOW_NS	60000000000ULL
#define KVMW_BUDGET_DEF_WINDOW_NS	1000000000ULL
#define KVMW_BUDGET_DEF_GUARD_PCT	90

/*
 * The default scope of a bucket whose @categories is 0: every exit except
 * the guest idling (KVMW_CAT_HALT) and external interrupts
 * (KVMW_CAT_INTERRUPT), so an idle guest is never charged. Bits are
 * 1 << KVMW_CAT_* (include/kvmwarden/categories.h).
 */
#define KVMW_BUDGET_DEFAULT_SCOPE	(((1ULL << 13) - 1) & ~((1ULL << 2) | (1ULL << 3)))

/**
 * struct kvmw_budget_bucket - one token bucket of a budget
 * @categories: exits charged to this bucket, as 1 << KVMW_CAT_* bits; 0
 *	means KVMW_BUDGET_DEFAULT_SCOPE. The buckets of a budget must not
 *	share a category.
 * @rate: tokens per second, 1 to KVMW_BUDGET_MAX_RATE
 * @burst: bucket size in exits, 1 to KVMW_BUDGET_MAX_BURST
 * @credit: one-time credit of exits taken when the bucket is empty and
 *	never refilled (a boot allowance), 0 to KVMW_BUDGET_MAX_BURST. On
 *	KVMW_IOC_BUDGET_GET: the credit left.
 */
struct kvmw_budget_bucket {
	__u64 categories;
	__u64 rate;
	__u64 burst;
	__u64 credit;
};

/* kvmw_budget::flags */
/* KVMW_IOC_BUDGET_SET: when the guard trips, go on in audit mode. */
#define KVMW_BUDGET_F_GUARD_AUDIT	(1U << 0)
#define KVMW_BUDGET_F_ALL		KVMW_BUDGET_F_GUARD_AUDIT

/**
 * struct kvmw_budget - argument of KVMW_IOC_BUDGET_SET and _GET
 * @size: in: sizeof(struct kvmw_budget) as the caller knows it
 * @flags: KVMW_BUDGET_F_*; other bits are rejected (EINVAL)
 * @vm_id: in: the VM (from KVMW_IOC_STATS_READ); ENOENT if not tracked
 * @mode: KVMW_BUDGET_OFF (SET: remove the budget), _AUDIT or _THROTTLE
 * @nr_buckets: buckets used in @buckets, 1 to KVMW_BUDGET_MAX_BUCKETS
 *	(0 only with KVMW_BUDGET_OFF)
 * @max_park_ns: longest single park, 0 for KVMW_BUDGET_DEF_PARK_NS, at
 *	most KVMW_BUDGET_MAX_PARK_NS. A vCPU never owes more than one such
 *	park: every bucket's rate must refill a token within it (rate x
 *	max_park_ns >= 10^9), or the budget could not be held (EINVAL).
 * @guard_window_ns: the guard's window, 0 for KVMW_BUDGET_DEF_WINDOW_NS
 * @guard_pct: the guard trips when one vCPU was parked more than this
 *	share (percent) of a window; 0 for KVMW_BUDGET_DEF_GUARD_PCT, 100
 *	disables the guard. Tripping raises KVMW_EVENT_BUDGET_GUARD and,
 *	with KVMW_BUDGET_F_GUARD_AUDIT, turns the budget to audit mode.
 * @tripped: out (GET): the guard tripped and the budget runs in audit
 *	mode since; a new SET clears it
 * @rule: out (GET): 1 + the slot of the host-wide default budget
 *	(KVMW_IOC_BUDGET_DEFAULT_SET) the VM got this budget from, 0 when
 *	it was set with KVMW_IOC_BUDGET_SET; 0 on SET
 * @reserved: must be 0
 * @buckets: the token buckets
 *
 * KVMW_IOC_BUDGET_SET replaces the VM's budget; a bucket whose categories
 * are the same as before keeps its debt (a VM over budget stays over
 * budget) and the VM's counters are never reset. Needs a file opened for
 * writing and CAP_SYS_ADMIN. Nothing changes on error.
 */
struct kvmw_budget {
	__u32 size;
	__u32 flags;
	__u64 vm_id;
	__u32 mode;
	__u32 nr_buckets;
	__u64 max_park_ns;
	__u64 guard_window_ns;
	__u32 guard_pct;
	__u32 tripped;
	__u32 rule;
	__u32 reserved;
	struct kvmw_budget_bucket buckets[KVMW_BUDGET_MAX_BUCKETS];
};

#define KVMW_BUDGET_SIZE_VER0		184

/*
 * Host-wide default budgets, for VMs that do not exist yet: up to
 * KVMW_BUDGET_MAX_DEFAULTS rules, each a match on the VMM and a budget. A
 * VM seen for the first time gets the budget of the lowest-numbered slot
 * whose match its VMM satisfies, as if KVMW_IOC_BUDGET_SET had set it
 * (from then on it is the VM's own budget: changing or clearing the rule
 * changes no VM that has it). VMs that exist when a rule is set keep
 * theirs. See Documentation/budgets.rst, "Default budgets".
 */
#define KVMW_BUDGET_MAX_DEFAULTS	8

/**
 * struct kvmw_budget_default - argument of KVMW_IOC_BUDGET_DEFAULT_SET/_GET
 * @size: in: sizeof(struct kvmw_budget_default) as the caller knows it
 * @flags: must be 0
 * @slot: the rule, 0 to KVMW_BUDGET_MAX_DEFAULTS - 1; lower slots are
 *	tried first
 * @cgroup_fd: SET: -1 for any cgroup, else an open cgroup v2 directory:
 *	the rule matches VMMs in that cgroup or below it. GET: must be 0.
 * @comm: SET: the VMM's command name (its main thread's, as in
 *	/proc/PID/comm), NUL-terminated; "" matches any. GET: out.
 * @budget_ptr: address of a struct kvmw_budget, whose own @size field
 *	versions it. SET: the budget matching VMs get, with @vm_id 0;
 *	KVMW_BUDGET_OFF empties the slot (then @comm must be "" and
 *	@cgroup_fd -1). GET: filled in; KVMW_BUDGET_OFF if the slot is empty.
 * @cgroup_id: out (GET): the cgroup's id (its directory's inode number,
 *	as in bpf and name_to_handle_at()), 0 for any; must be 0 on SET
 * @matched: out (GET): VMs given this slot's budget since it was set;
 *	must be 0 on SET
 *
 * SET needs a file opened for writing and CAP_SYS_ADMIN; nothing changes
 * on error. Unloading the module forgets the rules.
 */
struct kvmw_budget_default {
	__u32 size;
	__u32 flags;
	__u32 slot;
	__s32 cgroup_fd;
	char comm[16];
	__u64 budget_ptr;
	__u64 cgroup_id;
	__u64 matched;
};

#define KVMW_BUDGET_DEFAULT_SIZE_VER0	56

/*
 * NUMA placement (Documentation/numa.rst). A policy per VM places its vCPU
 * threads: KVMW_NUMA_PIN confines every vCPU thread to the CPUs of a set
 * of nodes, KVMW_NUMA_FOLLOW moves them to the node that holds most of the
 * VM's resident memory (the module's own sampling, struct kvmw_vm_mem).
 * A thread's new CPU mask is always the intersection of the nodes' CPUs
 * with the affinity the thread had before (set by the VMM, its manager or
 * a cpuset), applied by the thread itself before its next guest entry;
 * clearing the policy, the VM going away and unloading the module give
 * every thread back the mask it had before, unless someone else changed
 * it meanwhile (then theirs stays: a conflict).
 *
 * Statistics (KVMW_IOC_STATS_DESC): VM scope numa_policy (gauge, state:
 * KVMW_NUMA_*), numa_node (gauge, id: cur_node below), numa_moves,
 * numa_suppressed_dwell, numa_suppressed_hysteresis, numa_suppressed_rate,
 * numa_suppressed_conflict (counters, as below) and numa_local_share
 * (gauge, count: local_pml below, per mille); vCPU scope numa_moves (the
 * thread's own KVMW_EVENT_NUMA_MOVE placements).
 */
#define KVMW_NUMA_NONE		0
#define KVMW_NUMA_PIN		1
#define KVMW_NUMA_FOLLOW	2

/* kvmw_numa_policy::flags */
/*
 * Refuse rather than widen: a KVMW_NUMA_FOLLOW move happens only if every
 * vCPU thread can make it (else it counts in suppressed_conflict). Without
 * it the threads that can move do, and the others keep their own masks
 * and are reported (KVMW_EVENT_NUMA_CONFLICT). Keeping a thread whose
 * mask someone else changed out of the guest is not done: such a thread
 * runs where its own mask allows and is reported, with or without it.
 */
#define KVMW_NUMA_F_STRICT	(1U << 0)
/*
 * Also place the VMM's threads that run no vCPU (I/O, emulator). A module
 * that cannot do it rejects the flag with EOPNOTSUPP.
 */
#define KVMW_NUMA_F_ALL_THREADS	(1U << 1)
#define KVMW_NUMA_F_ALL		(KVMW_NUMA_F_STRICT | KVMW_NUMA_F_ALL_THREADS)

/* Defaults (a field left 0) and limits of the KVMW_NUMA_FOLLOW parameters. */
#define KVMW_NUMA_DEF_THRESHOLD_PCT	90
#define KVMW_NUMA_DEF_MARGIN_PCT	20
#define KVMW_NUMA_DEF_PASSES		3
#define KVMW_NUMA_MAX_PASSES		1000
#define KVMW_NUMA_DEF_DWELL_MS		60000
#define KVMW_NUMA_MAX_DWELL_MS		86400000
#define KVMW_NUMA_DEF_INTERVAL_MS	1000
#define KVMW_NUMA_MIN_INTERVAL_MS	10
#define KVMW_NUMA_MAX_INTERVAL_MS	60000

/* kvmw_numa_policy::cur_node when no single node is current. */
#define KVMW_NUMA_NODE_NONE		0xffffffffU
/* kvmw_numa_policy::numa_balancing when the kernel does not tell. */
#define KVMW_NUMA_BALANCING_UNKNOWN	0xffffffffU

/**
 * struct kvmw_numa_policy - argument of KVMW_IOC_NUMA_SET and _GET
 * @size: in: sizeof(struct kvmw_numa_policy) as the caller knows it
 * @flags: KVMW_NUMA_F_*; other bits are rejected (EINVAL)
 * @vm_id: in: the VM (from KVMW_IOC_STATS_READ); ENOENT if not tracked
 * @policy: KVMW_NUMA_NONE (SET: clear the policy), _PIN or _FOLLOW
 * @nr_node_words: in: number of __u64 words at @nodes_ptr, 0 for none
 * @nodes: KVMW_NUMA_PIN: nodes 0 to 63, bit n = node n. Nodes from 64 up
 *	are in the words at @nodes_ptr: word i, bit b is node 64 * (i + 1)
 *	+ b. Every node given must be below the host's nr_node_ids
 *	(nr_nodes of KVMW_IOC_STATS_DESC) and have CPUs; at least one node.
 *	Must be 0 (and no word) for the other policies. GET: the policy's
 *	nodes, the words at @nodes_ptr written up to @nr_node_words.
 * @nodes_ptr: in: user address of @nr_node_words further node words
 * @threshold_pct: KVMW_NUMA_FOLLOW: the vCPUs' node is fine while at least
 *	this share (percent, 1 to 100) of the VM's sampled resident memory
 *	is on it; 0 for KVMW_NUMA_DEF_THRESHOLD_PCT
 * @margin_pct: KVMW_NUMA_FOLLOW hysteresis: a move goes only to a node
 *	holding at least this many percentage points more of the resident
 *	memory than the current node (1 to 100, 0 for
 *	KVMW_NUMA_DEF_MARGIN_PCT), so memory split evenly never moves the
 *	vCPUs and a move back needs the memory to move back
 * @passes: KVMW_NUMA_FOLLOW: consecutive decision passes that must find
 *	a move due before it is made (1 to KVMW_NUMA_MAX_PASSES, 0 for
 *	KVMW_NUMA_DEF_PASSES)
 * @dwell_ms: KVMW_NUMA_FOLLOW: no move sooner than this after the last
 *	one (0 for KVMW_NUMA_DEF_DWELL_MS, at most KVMW_NUMA_MAX_DWELL_MS);
 *	KVMW_NUMA_F_STRICT aside, the first move after SET is not held back
 * @interval_ms: KVMW_NUMA_FOLLOW: time between decision passes, each on
 *	the memory sample pass completed last (0 for
 *	KVMW_NUMA_DEF_INTERVAL_MS, KVMW_NUMA_MIN_INTERVAL_MS to
 *	KVMW_NUMA_MAX_INTERVAL_MS)
 * @reserved: must be 0
 *
 * Output only (GET; ignored on SET, which writes nothing back):
 * @cur_node: the node the vCPU threads are placed on (FOLLOW: the node
 *	chosen; PIN with one node: that node), KVMW_NUMA_NODE_NONE if none
 * @numa_balancing: the kernel's automatic NUMA balancing as the module
 *	reads it (0 off, else the kernel.numa_balancing mode),
 *	KVMW_NUMA_BALANCING_UNKNOWN if it cannot be read
 * @ran_nodes: nodes 0 to 63 on which the VM's vCPU threads last ran
 * @local_pml: per mille of the VM's sampled resident memory on @cur_node
 *	(PIN: on the policy's nodes) at the last memory pass; 1000 with no
 *	memory sampled
 * @max_moves_per_min: the host-wide rate limit of KVMW_NUMA_FOLLOW moves
 *	(module parameter numa_max_moves_per_min)
 * @moves: placements done: SET of a pin and each follow move (the VM's
 *	vCPU threads given a new node), since the policy was first set
 * @suppressed_dwell: follow moves due but held back by @dwell_ms
 * @suppressed_hysteresis: decision passes that found the local share
 *	below @threshold_pct but no node @margin_pct ahead, or not yet for
 *	@passes passes
 * @suppressed_rate: follow moves held back by the host-wide rate limit
 * @suppressed_conflict: placements of one vCPU thread not made because
 *	its affinity did not meet the nodes (each also a
 *	KVMW_EVENT_NUMA_CONFLICT), or a strict follow move not made
 * @nr_threads: vCPU threads under the policy
 * @nr_placed: of which now running with the mask the policy gave them
 * @last_move_ns: CLOCK_BOOTTIME (ns) of the last placement, 0 if none
 * @reserved2: 0
 *
 * KVMW_IOC_NUMA_SET replaces the VM's policy (a new policy starts from
 * the threads' original masks); the counters are never reset. A
 * KVMW_NUMA_FOLLOW policy keeps the vCPU threads on @cur_node: at SET the
 * previous policy's single node, else the node most vCPU threads last ran
 * on; the threads are placed there at once. It fails
 * with EINVAL, changing nothing, when a vCPU thread's current affinity
 * does not meet the nodes' CPUs (PIN). Needs a file opened for writing
 * and CAP_SYS_ADMIN. KVMW_IOC_NUMA_GET of a VM without a policy gives
 * KVMW_NUMA_NONE with the counters.
 */
struct kvmw_numa_policy {
	__u32 size;
	__u32 flags;
	__u64 vm_id;
	__u32 policy;
	__u32 nr_node_words;
	__u64 nodes;
	__u64 nodes_ptr;
	__u32 threshold_pct;
	__u32 margin_pct;
	__u32 passes;
	__u32 dwell_ms;
	__u32 interval_ms;
	__u32 reserved;
	/* out */
	__u32 cur_node;
	__u32 numa_balancing;
	__u64 ran_nodes;
	__u32 local_pml;
	__u32 max_moves_per_min;
	__u64 moves;
	__u64 suppressed_dwell;
	__u64 suppressed_hysteresis;
	__u64 suppressed_rate;
	__u64 suppressed_conflict;
	__u32 nr_threads;
	__u32 nr_placed;
	__u64 last_move_ns;
	__u64 reserved2;
};

#define KVMW_NUMA_POLICY_SIZE_VER0	152

/*
 * Event stream: read() on /dev/kvmwarden returns whole struct kvmw_event
 * records (a buffer smaller than one record gives EINVAL); it blocks until
 * an event arrives unless the file is O_NONBLOCK (then EAGAIN); poll()
 * reports EPOLLIN when a record is ready. Each open file reads every event
 * from the moment it was opened, at its own pace. The module keeps the
 * most recent KVMW_EVENT_RING records; a reader that falls further behind
 * loses the oldest ones, and the next record it reads says how many in
 * @lost. Producing an event never waits for a reader.
 */
#define KVMW_EVENT_VERSION	1
#define KVMW_EVENT_RING		4096

/* struct kvmw_event::type */
/* A VM was seen for the first time (its first vCPU ran). */
#define KVMW_EVENT_VM_NEW	1
/* A VM was found destroyed; data[] holds its final totals. */
#define KVMW_EVENT_VM_GONE	2
/* A vCPU of a known VM was seen for the first time. */
#define KVMW_EVENT_VCPU_NEW	3
/* A VM's budget was set or changed (budget payload). */
#define KVMW_EVENT_BUDGET_SET	4
/* A VM's budget was removed (budget payload: the last settings). */
#define KVMW_EVENT_BUDGET_CLEAR	5
/* A vCPU was parked for more than guard_pct of a window (budget payload). */
#define KVMW_EVENT_BUDGET_GUARD	6
/*
 * A VM started being throttled (its first park; budget payload, with the
 * vCPU and thread parked first) and stopped (no park for a guard window;
 * budget payload: @parked_ns is the time from the first park to the last,
 * @window_ns the window).
 */
#define KVMW_EVENT_BUDGET_THROTTLE_START	7
#define KVMW_EVENT_BUDGET_THROTTLE_END		8
/*
 * NUMA placement (numa payload): a vCPU thread got a new CPU mask (one
 * event per thread, in its own context), a thread's affinity did not
 * meet the policy's nodes, a policy was set, a policy was cleared (also
 * at unload and when the VM went away; @cause says which).
 */
#define KVMW_EVENT_NUMA_MOVE		9
#define KVMW_EVENT_NUMA_CONFLICT	10
#define KVMW_EVENT_NUMA_SET		11
#define KVMW_EVENT_NUMA_CLEAR		12

/* data[] of KVMW_EVENT_VM_GONE: the VM's final totals. */
#define KVMW_EVENT_GONE_EXITS		0
#define KVMW_EVENT_GONE_ENTRIES		1
#define KVMW_EVENT_GONE_GUEST_NS	2
#define KVMW_EVENT_GONE_OVERHEAD_NS	3
#define KVMW_EVENT_GONE_IDLE_NS		4
#define KVMW_EVENT_GONE_USER_NS		5
#define KVMW_EVENT_GONE_FAULTS		6
#define KVMW_EVENT_GONE_UNTIMED		7

/**
 * struct kvmw_event_gone - payload of KVMW_EVENT_VM_GONE: final totals
 * @exits: exits of all vCPUs
 * @entries: guest entries
 * @guest_ns: time in the guest
 * @overhead_ns: exit handling in the kernel
 * @idle_ns: guest idle (HLT and friends) time
 * @user_ns: time in the VMM between exits and entries
 * @faults: nested page faults
 * @untimed: exits without a latency entry
 */
struct kvmw_event_gone {
	__u64 exits;
	__u64 entries;
	__u64 guest_ns;
	__u64 overhead_ns;
	__u64 idle_ns;
	__u64 user_ns;
	__u64 faults;
	__u64 untimed;
};

/**
 * struct kvmw_event_budget - payload of the KVMW_EVENT_BUDGET_* events
 * @mode: SET: the new mode; CLEAR: the mode removed; GUARD: the mode
 *	now in force (KVMW_BUDGET_AUDIT when the guard fell back to audit)
 * @nr_buckets: buckets of the budget
 * @categories: first bucket's categories (as set, 0 = default scope)
 * @rate: first bucket's rate
 * @burst: first bucket's burst
 * @parked_ns: GUARD: time the vCPU (@vcpu_id, @tid) was parked in the
 *	window; THROTTLE_END: time from the first park to the last; else 0
 * @window_ns: GUARD, THROTTLE_END: the window; else 0
 * @rule: 1 + the default-budget slot the budget came from, 0 when it was
 *	set with KVMW_IOC_BUDGET_SET (see struct kvmw_budget::rule)
 * @reserved: 0
 */
struct kvmw_event_budget {
	__u32 mode;
	__u32 nr_buckets;
	__u64 categories;
	__u64 rate;
	__u64 burst;
	__u64 parked_ns;
	__u64 window_ns;
	__u32 rule;
	__u32 reserved32;
	__u64 reserved;
};

/* struct kvmw_event_numa::cause */
#define KVMW_NUMA_CAUSE_SET		1	/* KVMW_IOC_NUMA_SET */
#define KVMW_NUMA_CAUSE_FOLLOW		2	/* a follow decision */
#define KVMW_NUMA_CAUSE_NEW_VCPU	3	/* a vCPU thread seen later */
#define KVMW_NUMA_CAUSE_CLEAR		4	/* policy cleared or replaced */
#define KVMW_NUMA_CAUSE_GONE		5	/* the VM went away */
#define KVMW_NUMA_CAUSE_UNLOAD		6	/* the module is unloaded */
#define KVMW_NUMA_CAUSE_AFFINITY	7	/* affinity changed by others */

/**
 * struct kvmw_event_numa - payload of the KVMW_EVENT_NUMA_* events
 * @policy: KVMW_NUMA_* in force (CLEAR: the policy removed)
 * @flags: its KVMW_NUMA_F_* flags
 * @cause: KVMW_NUMA_CAUSE_*
 * @tid: MOVE, CONFLICT: the thread concerned (also in kvmw_event::tid)
 * @from_node: MOVE: the node the thread last ran on, KVMW_NUMA_NODE_NONE
 *	if unknown; SET/CLEAR: the VM's previous cur_node
 * @to_node: MOVE: the node it was placed on, KVMW_NUMA_NODE_NONE for a
 *	mask spanning several nodes or a restore; CONFLICT, SET: the
 *	policy's node (FOLLOW: its chosen node), likewise
 * @local_pml: per mille of the VM's sampled resident memory on @to_node
 *	at the last memory pass (1000 if none sampled)
 * @nodes: nodes 0 to 63 of the policy (PIN) or the node chosen (FOLLOW)
 * @moves: the VM's placements so far (struct kvmw_numa_policy::moves)
 * @reserved: 0
 */
struct kvmw_event_numa {
	__u32 policy;
	__u32 flags;
	__u32 cause;
	__u32 tid;
	__u32 from_node;
	__u32 to_node;
	__u32 local_pml;
	__u32 reserved32;
	__u64 nodes;
	__u64 moves;
	__u64 reserved[2];
};

/**
 * struct kvmw_event - one record of the event stream
 * @size: sizeof(struct kvmw_event) of the module: records are this long
 * @version: KVMW_EVENT_VERSION
 * @type: KVMW_EVENT_*; readers skip types they do not know
 * @seq: sequence number, from 1, +1 per event produced (gaps = lost)
 * @time_ns: CLOCK_BOOTTIME (ns) when the event happened
 * @lost: events this reader lost (overwritten before it read them) just
 *	before this one
 * @vm_id: the VM concerned
 * @vmm_pid: its VMM (tgid)
 * @vcpu_id: the vCPU seen (VM_NEW: the VM's first vCPU to run, which
 *	need not be vCPU 0; VCPU_NEW), else 0
 * @tid: the thread concerned (VM_NEW, VCPU_NEW: the vCPU thread), else 0
 * @nr_vcpus: vCPUs of the VM known when the event was produced
 * @data: type-specific numbers, also readable through the typed members
 *	below (KVMW_EVENT_GONE_* index @data for VM_GONE), else 0
 * @gone: KVMW_EVENT_VM_GONE: the VM's final totals
 * @budget: KVMW_EVENT_BUDGET_*: the budget concerned
 * @numa: KVMW_EVENT_NUMA_*: the placement concerned
 */
struct kvmw_event {
	__u32 size;
	__u16 version;
	__u16 type;
	__u64 seq;
	__u64 time_ns;
	__u64 lost;
	__u64 vm_id;
	__u32 vmm_pid;
	__u32 vcpu_id;
	__u32 tid;
	__u32 nr_vcpus;
	union {
		__u64 data[8];
		struct kvmw_event_gone gone;
		struct kvmw_event_budget budget;
		struct kvmw_event_numa numa;
	};
};

#define KVMW_EVENT_SIZE_VER0		120

#define KVMW_IOC_MAGIC		0xB9

#define KVMW_IOC_HANDSHAKE	_IOWR(KVMW_IOC_MAGIC, 0x00, struct kvmw_handshake)
#define KVMW_IOC_LIST_VMS	_IOWR(KVMW_IOC_MAGIC, 0x01, struct kvmw_vm_list)
#define KVMW_IOC_VM_SNAPSHOT	_IOWR(KVMW_IOC_MAGIC, 0x02, struct kvmw_vm_snapshot)
#define KVMW_IOC_SNAPSHOT_ALL	_IOWR(KVMW_IOC_MAGIC, 0x03, struct kvmw_snapshot_all)
#define KVMW_IOC_STATS_DESC	_IOWR(KVMW_IOC_MAGIC, 0x04, struct kvmw_stats_desc)
#define KVMW_IOC_STATS_READ	_IOWR(KVMW_IOC_MAGIC, 0x05, struct kvmw_stats_read)
#define KVMW_IOC_BUDGET_SET	_IOW(KVMW_IOC_MAGIC, 0x06, struct kvmw_budget)
#define KVMW_IOC_BUDGET_GET	_IOWR(KVMW_IOC_MAGIC, 0x07, struct kvmw_budget)
#define KVMW_IOC_BUDGET_DEFAULT_SET \
	_IOW(KVMW_IOC_MAGIC, 0x08, struct kvmw_budget_default)
#define KVMW_IOC_BUDGET_DEFAULT_GET \
	_IOWR(KVMW_IOC_MAGIC, 0x09, struct kvmw_budget_default)
#define KVMW_IOC_NUMA_SET	_IOW(KVMW_IOC_MAGIC, 0x0a, struct kvmw_numa_policy)
#define KVMW_IOC_NUMA_GET	_IOWR(KVMW_IOC_MAGIC, 0x0b, struct kvmw_numa_policy)

#endif /* _UAPI_LINUX_KVMWARDEN_H */
