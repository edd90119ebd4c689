/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmwarden internal definitions.
 *
 * Object model (Documentation/design.rst has the long version):
 *
 *  struct kvmw_vm    one per KVM VM incarnation seen running
 *  struct kvmw_vcpu  one per vCPU of such a VM, holding the counters
 *
 * Records are created the first time a vCPU enters or exits the guest
 * after the module is loaded, from pools filled in process context, so the
 * probes never allocate. KVM objects are never dereferenced outside the
 * probes (where the running vCPU pins them): records keep the kvm and
 * kvm_vcpu addresses only as lookup keys, together with a reference on the
 * VM's debugfs directory, which KVM removes when it destroys the VM and
 * which cannot be reused while kvmwarden holds it. That reference is the
 * VM's incarnation token: it tells a live VM from a destroyed one, and a
 * new VM or vCPU that happens to reuse an old address from the old one.
 *
 * Files, and the one direction data flows between them (no file calls a
 * file above it):
 *
 *  kvmw_kvm.c       every access to KVM's internals
 *  kvmw_clock.c     the probes' clock
 *  kvmw_events.c    the event ring (read()/poll())
 *  kvmw_records.c   VM, VMM and vCPU records: pools, caps, discovery,
 *                   lookup, the sweep of destroyed VMs, their totals
 *  kvmw_mem.c       the memory locality sampler
 *  kvmw_sched.c     the scheduler probes
 *  kvmw_budget.c    exit budgets: token buckets, the vCPU's park
 *  kvmw_budget_default.c  default budgets for new VMs
 *  kvmw_numa.c      NUMA placement of vCPU threads (process context only)
 *  kvmw_probe.c     the kvm_exit/kvm_entry/kvm_page_fault probes
 *  kvmw_snapshot.c  the per-struct snapshots (API 1), built from the records
 *  kvmw_stats.c     the self-describing statistics, built from the records
 *  kvmw_dev.c       /dev/kvmwarden and its ioctls
 *  kvmw_main.c      load and unload
 *
 * probes -> records -> snapshot, stats -> device; the records emit
 * events. kvmw_stats.c does not use kvmw_snapshot.c.
 */
#ifndef KVMW_H
#define KVMW_H

#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/jump_label.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/list_nulls.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/sched/clock.h>
#include <linux/types.h>
#include <linux/math64.h>
#include <asm/msr.h>

#include <uapi/linux/kvmwarden.h>
#include <kvmwarden/hist.h>

#include "kvmw_kvm.h"
#include "kvmw_budget.h"
#include "kvmw_numa.h"

struct dentry;
struct file;
struct poll_table_struct;
struct pid;

/*
 * Dense reason slots. Every architectural VMX basic reason (< 0x50 today)
 * and SVM exit code below 0xa0 maps to itself; the SVM codes 0x400-0x40f
 * (NPF, AVIC, VMGEXIT) map to 0xa0-0xaf. Anything else goes to a small
 * per-vCPU overflow table that keeps the raw code, so an unknown code is
 * reported by number and never dropped.
 */
#define KVMW_SLOT_DIRECT	0xa0
#define KVMW_SVM_HIGH_BASE	0x400
#define KVMW_SVM_HIGH_NR	0x10
#define KVMW_NR_SLOTS		(KVMW_SLOT_DIRECT + KVMW_SVM_HIGH_NR)
#define KVMW_NR_OVERFLOW	8

/**
 * struct kvmw_lat - exit-to-entry times of one reason of one vCPU
 * @total_ns: sum of the times
 * @min_ns: shortest (U64_MAX until the first)
 * @max_ns: longest
 * @user_n: exits during which KVM_RUN returned to userspace
 * @user_ns: time from those returns to the next entry
 * @hist: log2 histogram, KVMW_LAT_BUCKETS layout
 *
 * Single writer (the vCPU thread), lock-free readers like the counts.
 */
struct kvmw_lat {
	u64 total_ns;
	u64 min_ns;
	u64 max_ns;
	u64 user_n;
	u64 user_ns;
	u64 hist[KVMW_LAT_BUCKETS];
};

/**
 * struct kvmw_faults - nested page faults of one vCPU
 * @n: faults
 * @mmio: reserved-bit (MMIO) faults
 * @write: write accesses
 * @fetch: instruction fetches
 * @present: faults on a present translation
 * @total_ns: fault-to-next-entry time
 * @max_ns: longest of those
 * @node_unknown: faults without a backing page found
 * @hist: latency histogram, KVMW_LAT_BUCKETS layout
 *
 * The faults per NUMA node of the backing page are in the vCPU record's
 * per-node values (kvmw_fault_nodes()). Single writer (the vCPU thread),
 * lock-free readers.
 */
struct kvmw_faults {
	u64 n;
	u64 mmio;
	u64 write;
	u64 fetch;
	u64 present;
	u64 total_ns;
	u64 max_ns;
	u64 node_unknown;
	u64 hist[KVMW_LAT_BUCKETS];
};

/**
 * struct kvmw_sched - the vCPU thread as the scheduler sees it
 * @wait_ts: clock when it became runnable without running (woken or
 *	preempted), 0 while it runs or sleeps
 * @run_ts: clock when it started running inside KVM_RUN, 0 when not
 *	known to be running there
 * @run_cpu: CPU of @run_ts
 * @last_cpu: CPU it last ran on (KVMW_CPU_NONE before)
 * @rq_delay_ns: time spent runnable and waiting
 * @rq_delay_n: such waits
 * @rq_delay_max: longest, ns
 * @preemptions: involuntary switch-outs
 * @sleeps: voluntary switch-outs (blocked)
 * @migrations: CPU changes
 * @node_migrations: CPU changes across NUMA nodes
 * @rq_hist: the waits, KVMW_LAT_BUCKETS layout
 *
 * The run time per NUMA node of the CPU is in the vCPU record's per-node
 * values (kvmw_run_nodes()).
 *
 * Written by the scheduler probes under the scheduler's own serialisation
 * of the task (its runqueue lock or pi_lock: events of one task never run
 * concurrently) and by the vCPU thread's own probes; read with READ_ONCE().
 */
struct kvmw_sched {
	u64 wait_ts;
	u64 run_ts;
	u32 run_cpu;
	u32 last_cpu;
	u64 rq_delay_ns;
	u64 rq_delay_n;
	u64 rq_delay_max;
	u64 preemptions;
	u64 sleeps;
	u64 migrations;
	u64 node_migrations;
	u64 rq_hist[KVMW_LAT_BUCKETS];
};

/**
 * struct kvmw_mem_pass - counters of one pass of the memory sampler
 * @pages: guest pages in the memslots when the pass started
 * @stride: pages between two samples
 * @sampled: samples taken
 * @unmapped: of which no page was resident
 * @node_unknown: of which on no node known
 * @passes: complete passes, this one included once complete
 * @pass_ns: CLOCK_BOOTTIME when it completed
 *
 * The samples per node are in the VM record's per-node values
 * (kvmw_mem_nodes()).
 */
struct kvmw_mem_pass {
	u64 pages;
	u64 stride;
	u64 sampled;
	u64 unmapped;
	u64 node_unknown;
	u64 passes;
	u64 pass_ns;
};

/**
 * struct kvmw_mem - memory locality sampler of one VM
 * @lock: taken with trylock by the sampling vCPU; a busy sampler is skipped
 * @next: jiffies before which no batch is taken
 * @active: a pass is in progress
 * @gfn: next guest frame to sample in it
 * @cur: counters of the pass in progress
 * @done: the last complete pass, as returned to userspace
 */
struct kvmw_mem {
	spinlock_t lock;	/* serialises the samplers and the readers */
	unsigned long next;
	bool active;
	u64 gfn;
	struct kvmw_mem_pass cur;
	struct kvmw_mem_pass done;
};

/* struct kvmw_vcpu::entry_work: what the next entry has to finish */
#define KVMW_WORK_USER		BIT(0)	/* time the VMM: user_ts is set */
#define KVMW_WORK_FAULT		BIT(1)	/* time a fault: fault_ts is set */
#define KVMW_WORK_FAULT_NODE	BIT(2)	/* find the node of fault_hva */
#define KVMW_WORK_MEM		BIT(3)	/* sample the VM's memory */

/**
 * struct kvmw_vcpu - accounting record of one vCPU
 * @key: address of the struct kvm_vcpu (lookup key only)
 * @kvm_key: address of the owning struct kvm (lookup key only)
 * @token: the VM's incarnation token (see above): KVM's raw
 *	kvm->debugfs_dentry value, an error pointer when debugfs is off
 * @vm: owning VM record
 * @entries: guest entries
 * @overflow_exits: exits whose code found no overflow slot
 * @counts: exits per dense reason slot
 * @ovf_code: raw codes of the overflow slots
 * @ovf_count: exits per overflow slot; a slot is free while 0 and its code
 *	is published before its first count (release/acquire)
 * @ovf_lat: like @lat_of, for the overflow slots
 * @pending: latency entry of the last exit (NULL before the first exit or
 *	when it had none); the next entry times it
 * @exit_ts: clock (kvmw_now()) at that exit
 * @entry_ts: clock at the last entry (at discovery before the first)
 * @user_ts: clock when KVM_RUN returned to userspace with @pending set,
 *	0 if it did not
 * @guest_t: guest time, in clock units (kvmw_clock_to_ns() converts)
 * @entry_work: KVMW_WORK_* bits, 0 on the common path
 * @fault_ts: clock at the last fault (KVMW_WORK_FAULT)
 * @fault_hva: VMM address of its page (KVMW_WORK_FAULT_NODE)
 * @faults: nested page faults
 * @untimed_exits: exits counted but not timed (latency table full,
 *	clock going backwards)
 * @nr_lat: entries of @lat in use
 * @lat_slot: per entry of @lat, the slot it times: a dense slot, or
 *	KVMW_NR_SLOTS + i for overflow slot i (the snapshot walks these
 *	instead of every slot while the table is not full)
 * @lat_of: per dense slot, its entry in @lat, NULL for none yet
 * @lat: latency entries, given out to reasons on their first exit
 * @sched: scheduler view of the vCPU thread
 * @budget: the vCPU's side of its VM's exit budget (kvmw_budget.c)
 * @numa_moves: NUMA placements of the vCPU's thread (kvmw_numa.c, under
 *	kvmw_mutex; read with READ_ONCE())
 * @vcpu_id: KVM vCPU id
 * @tid: thread id that last ran the vCPU (as reported)
 * @run_tid: the same while this is the record that thread ran last, else
 *	0 (it moved on to another vCPU); checked on every event
 * @hnode: entry in kvmw_vcpu_hash (RCU)
 * @tid_node: entry in kvmw_tid_hash while this is the record @tid ran
 *	last (RCU, nulls list: a reader that followed a node moved to another
 *	bucket starts again; at most one record per thread id is in it)
 * @vm_node: entry in vm->vcpus (RCU for readers holding kvmw_mutex)
 * @pool_next: free-list link while in the pool
 * @node_vals: the per-node arrays, kvmw_nr_nodes() values each: run time
 *	per node of the CPU (kvmw_run_nodes()), then faults per node of the
 *	backing page (kvmw_fault_nodes())
 *
 * The counters are written only by the thread running the vCPU (KVM_RUN
 * holds the vCPU mutex) and read with READ_ONCE() by snapshots, so they
 * need neither atomics nor locks.
 */
struct kvmw_vcpu {
	const struct kvm_vcpu *key;
	const struct kvm *kvm_key;
	const struct dentry *token;
	struct kvmw_vm *vm;
	u64 entries;
	u64 overflow_exits;
	u64 counts[KVMW_NR_SLOTS];
	u32 ovf_code[KVMW_NR_OVERFLOW];
	u64 ovf_count[KVMW_NR_OVERFLOW];

	struct kvmw_lat *pending;
	u64 exit_ts;
	u64 entry_ts;
	u64 user_ts;
	u64 guest_t;
	unsigned long entry_work;
	u64 fault_ts;
	unsigned long fault_hva;
	struct kvmw_faults faults;
	u64 untimed_exits;
	u32 nr_lat;
	u16 lat_slot[KVMW_LAT_REASONS];
	struct kvmw_lat *lat_of[KVMW_NR_SLOTS];
	struct kvmw_lat *ovf_lat[KVMW_NR_OVERFLOW];
	struct kvmw_lat lat[KVMW_LAT_REASONS];
	struct kvmw_sched sched;
	struct kvmw_vcpu_budget budget;
	u64 numa_moves;

	u32 vcpu_id;
	pid_t tid;
	pid_t run_tid;
	struct hlist_node hnode;
	struct hlist_nulls_node tid_node;
	struct list_head vm_node;
	struct kvmw_vcpu *pool_next;
	u64 node_vals[];
};

/**
 * struct kvmw_vmm - a VMM process with VMs tracked
 * @pid: its thread group (referenced); the key of kvmw_vmm_hash
 * @nr_vms: VM records it has (live and gone-but-kept)
 * @nr_vcpus: vCPU records of those VMs
 * @node: entry in kvmw_vmm_hash
 * @pool_next: free-list link while in the pool
 *
 * Carries the per-VMM caps: a VMM past them gets no more records.
 * Changed under kvmw_discover_lock.
 */
struct kvmw_vmm {
	struct pid *pid;
	u32 nr_vms;
	u32 nr_vcpus;
	struct hlist_node node;
	struct kvmw_vmm *pool_next;
};

/**
 * struct kvmw_vm - record of one VM incarnation
 * @kvm_key: address of the struct kvm (lookup key only)
 * @token: debugfs dentry of the VM (referenced), or the error pointer
 *	KVM stores when debugfs is off
 * @id: opaque id given to userspace
 * @vmm_pid: tgid of the VMM
 * @vmm: struct pid of the VMM's thread group leader (referenced)
 * @owner: the VMM's record (its caps)
 * @vendor: KVMW_VENDOR_*
 * @nr_vcpus: vCPU records attached
 * @first_seen_ns: boottime when discovered
 * @gone_ns: boottime when found destroyed, 0 while live
 * @idle_entries: without a lifetime token: the vCPUs' entries when the
 *	sweep last saw them change
 * @idle_since: jiffies of that sweep
 * @comm: VMM command name
 * @mem: memory locality sampler
 * @budget: exit budget (kvmw_budget.c)
 * @numa: NUMA placement state (kvmw_numa.c), NULL before a first policy;
 *	changed under kvmw_mutex, read without it only as a hint
 * @vcpus: vCPU records
 * @node: entry in kvmw_vms
 * @hnode: entry in kvmw_vm_hash (by @kvm_key) while live
 * @pool_next: free-list link while in the pool
 * @mem_node: the memory samples per node, kvmw_nr_nodes() values each:
 *	of the pass in progress, then of the last complete pass
 *	(kvmw_mem_nodes())
 */
struct kvmw_vm {
	const struct kvm *kvm_key;
	struct dentry *token;
	u64 id;
	pid_t vmm_pid;
	struct pid *vmm;
	struct kvmw_vmm *owner;
	u32 vendor;
	u32 nr_vcpus;
	u64 first_seen_ns;
	u64 gone_ns;
	u64 idle_entries;
	unsigned long idle_since;
	char comm[TASK_COMM_LEN];
	struct kvmw_mem mem;
	struct kvmw_vm_budget budget;
	struct kvmw_numa *numa;
	struct list_head vcpus;
	struct list_head node;
	struct hlist_node hnode;
	struct kvmw_vm *pool_next;
	u64 mem_node[];
};

/*
 * NUMA node numbers the per-node arrays cover: every node the host can
 * have (nr_node_ids, fixed at boot), so that nothing is lost on hosts
 * with many nodes. The records carry these arrays at their end.
 */
static __always_inline unsigned int kvmw_nr_nodes(void)
{
	return nr_node_ids;
}

static __always_inline u64 *kvmw_run_nodes(struct kvmw_vcpu *v)
{
	return v->node_vals;
}

static __always_inline u64 *kvmw_fault_nodes(struct kvmw_vcpu *v)
{
	return v->node_vals + kvmw_nr_nodes();
}

/* @done: the last complete pass's, else the pass in progress's */
static __always_inline u64 *kvmw_mem_nodes(struct kvmw_vm *vm, bool done)
{
	return vm->mem_node + (done ? kvmw_nr_nodes() : 0);
}

/* kvmw_records.c */
DECLARE_PER_CPU(struct kvmw_vcpu *, kvmw_last);
extern struct mutex kvmw_mutex;
extern struct list_head kvmw_vms;
extern unsigned int kvmw_nr_vms;
extern unsigned int kvmw_nr_vcpus;

/**
 * kvmw_vcpu_matches() - does record @v belong to this vCPU incarnation?
 * @v: a record
 * @vcpu: the running vCPU (pinned by the probe calling this)
 *
 * The addresses alone could belong to a new vCPU or VM that reuses freed
 * memory; the VM's debugfs dentry, referenced by the record, cannot be
 * reused while the record exists. Without debugfs both sides hold the same
 * error pointer and only the addresses are compared.
 */
static __always_inline bool kvmw_vcpu_matches(const struct kvmw_vcpu *v,
					      const struct kvm_vcpu *vcpu)
{
	const struct kvm *kvm = vcpu->kvm;

	return v->key == vcpu && v->kvm_key == kvm &&
	       v->token == kvmw_token_raw(kvm);
}

int kvmw_records_init(void);
void kvmw_records_exit(void);
struct kvmw_vcpu *kvmw_vcpu_find(struct kvm_vcpu *vcpu);
struct kvmw_vcpu *kvmw_vcpu_find_tid(pid_t tid);
struct kvmw_vcpu *kvmw_vcpu_discover(struct kvm_vcpu *vcpu, u64 now,
				     bool *new_vm);
void kvmw_vcpu_set_tid(struct kvmw_vcpu *v, pid_t tid);
void kvmw_sweep(void);
u64 kvmw_untracked_exits(void);
void kvmw_count_untracked(void);
u64 kvmw_vcpu_exits(const struct kvmw_vcpu *v);
u32 kvmw_vcpu_nr_reasons(const struct kvmw_vcpu *v);
u32 kvmw_slot_to_code(unsigned int slot);
const struct kvmw_lat *kvmw_slot_lat(const struct kvmw_vcpu *v,
				     unsigned int slot);
struct kvmw_vm *kvmw_vm_by_id(u64 id);
bool kvmw_lifetime_available(void);

/*
 * The probes' clock (kvmw_clock.c): the raw TSC when it is constant, runs
 * in deep C-states and the kernel trusts it across CPUs, else local_clock().
 * Differences of kvmw_now() values are turned into ns by kvmw_delta_ns().
 */
DECLARE_STATIC_KEY_FALSE(kvmw_clock_tsc);
extern u64 kvmw_tsc_mult;

/*
 * (@a * @b) >> 32 and >> 64, by one MULQ: mul_u64_u64_shr() does it with
 * an unsigned __int128, for which GCC realigns the stack of every function
 * it is inlined into (four more instructions per probe).
 */
static __always_inline u64 kvmw_mul_shr32(u64 a, u64 b)
{
	u64 lo, hi;

	asm("mulq %[b]\n\t"
	    "shrdq $32, %[hi], %[lo]"
	    : [lo] "=a" (lo), [hi] "=d" (hi)
	    : "0" (a), [b] "rm" (b)
	    : "cc");
	return lo;
}

static __always_inline u64 kvmw_mul_hi(u64 a, u64 b)
{
	u64 lo, hi;

	asm("mulq %[b]"
	    : [lo] "=a" (lo), [hi] "=d" (hi)
	    : "0" (a), [b] "rm" (b)
	    : "cc");
	return hi;
}

static __always_inline u64 kvmw_now(void)
{
	if (static_branch_likely(&kvmw_clock_tsc))
		return rdtsc();
	return local_clock();
}

/* @d: difference of two kvmw_now() values, negative ones (CPU skew) as 0 */
static __always_inline u64 kvmw_delta_ns(u64 d)
{
	if (unlikely((s64)d < 0))
		return 0;
	if (static_branch_likely(&kvmw_clock_tsc))
		return kvmw_mul_shr32(d, kvmw_tsc_mult);
	return d;
}

/*
 * The budgets' clock (kvmw_budget.c): the probes' TSC when they read it and
 * it runs at least at the highest budget rate, so that the exit probe's
 * own reading serves; else CLOCK_MONOTONIC, which unlike local_clock() is
 * one clock for all CPUs, as a bucket shared by a VM's vCPUs needs.
 * kvmw_budget_hz is its rate in units per second.
 */
DECLARE_STATIC_KEY_FALSE(kvmw_budget_tsc);
extern u64 kvmw_budget_hz;

/* @now: the caller's kvmw_now() */
static __always_inline u64 kvmw_budget_clock(u64 now)
{
	if (static_branch_likely(&kvmw_budget_tsc))
		return now;
	return ktime_get_mono_fast_ns();
}

static inline u64 kvmw_budget_now(void)
{
	if (static_branch_likely(&kvmw_budget_tsc))
		return rdtsc();
	return ktime_get_mono_fast_ns();
}

/*
 * Take a token from @bk at @t on the budgets' clock, for @pb's vCPU, if
 * the bucket is within its burst. An exit at token time tau finds the
 * bucket empty when max(tat, tau) + 1 - tau > burst, which with burst >= 1
 * is tat >= tau + burst. Returns false, having changed nothing, when it
 * is: kvmw_budget_charge() then takes the token with overruns, credit and
 * parks.
 */
static __always_inline bool kvmw_budget_take_fast(struct kvmw_vcpu_budget *pb,
						  struct kvmw_bucket *bk,
						  u64 t)
{
	u64 tau = kvmw_mul_hi(t, bk->mult_clk);
	s64 old = atomic64_read(&bk->tat);

	do {
		if (unlikely(old >= (s64)(tau + bk->burst)))
			return false;
	} while (!atomic64_try_cmpxchg(&bk->tat, &old,
				       max_t(s64, old, tau) + 1));
	/* Single writer, whole aligned word: readers use READ_ONCE(). */
	pb->charged++;
	return true;
}

/* Bucket of @ns in the KVMW_LAT_BUCKETS histogram layout (UAPI header). */
static __always_inline unsigned int kvmw_lat_bucket(u64 ns)
{
	return kvmw_hist_log2_bucket(ns, KVMW_LAT_BUCKETS);
}

int kvmw_clock_init(void);
void kvmw_clock_check(void);
u64 kvmw_clock_to_ns(u64 t);
const char *kvmw_clock_name(void);

/* kvmw_mem.c: is a memory sample of @vm due? Cheap for the rare paths. */
static inline bool kvmw_mem_due(const struct kvmw_vm *vm)
{
	return time_after_eq(jiffies, READ_ONCE(vm->mem.next));
}

void kvmw_mem_init(struct kvmw_vm *vm);
void kvmw_mem_sample(struct kvmw_vm *vm, struct kvm_vcpu *vcpu);
void kvmw_mem_read(struct kvmw_vm *vm, struct kvmw_mem_pass *out, u64 *nodes);

/* kvmw_sched.c */
int kvmw_sched_init(void);
void kvmw_sched_exit(void);
void kvmw_sched_want(void);
bool kvmw_sched_available(void);
void kvmw_sched_start(struct kvmw_vcpu *v, u64 now);
void kvmw_sched_leave_kvm(struct kvmw_vcpu *v, u64 now);

/* kvmw_probe.c */
int kvmw_probes_register(void);
void kvmw_probes_unregister(void);
bool kvmw_user_exits_seen(void);

/* kvmw_snapshot.c */
/**
 * struct kvmw_snap_buf - the answer of a snapshot being built
 * @vbuf: vCPU entries
 * @rbuf: reason entries
 * @recs: room to sort the records of the largest VM
 * @nv: entries of @vbuf used
 * @vcap: entries of @vbuf
 * @nr: entries of @rbuf used
 * @rcap: entries of @rbuf
 * @recs_cap: entries of @recs
 * @truncated: something did not fit (it appeared after the counting pass)
 */
struct kvmw_snap_buf {
	struct kvmw_vcpu_info *vbuf;
	struct kvmw_reason_stat *rbuf;
	struct kvmw_vcpu **recs;
	u32 nv, vcap;
	u32 nr, rcap;
	u32 recs_cap;
	bool truncated;
};

int kvmw_snap_build(struct kvmw_vm *one, struct kvmw_snap_buf *b,
		    struct kvmw_vm_entry **entsp, u32 *nr_vms, bool count_only);
void kvmw_snap_free(struct kvmw_snap_buf *b);
void kvmw_fill_vm_info(const struct kvmw_vm *vm, struct kvmw_vm_info *out);

/* kvmw_stats.c */
/**
 * struct kvmw_stats_answer - the size of a KVMW_IOC_STATS_READ answer
 * @nvm: VM records
 * @nv: vCPU records
 * @nr: reason records
 */
struct kvmw_stats_answer {
	u32 nvm, nv, nr;
};

void kvmw_stats_init(void);
const struct kvmw_stat_desc *kvmw_stats_layout(u32 *nr, u32 *nodes,
					       const u32 **values);
int kvmw_stats_read(struct kvmw_stats_read *req);

/* kvmw_events.c */
int kvmw_events_init(void);
void kvmw_events_exit(void);
void kvmw_event_emit(struct kvmw_event *e);
int kvmw_events_open(struct file *file);
int kvmw_events_release(struct file *file);
ssize_t kvmw_events_read(struct file *file, char __user *buf, size_t count);
__poll_t kvmw_events_poll(struct file *file, struct poll_table_struct *pt);

/* kvmw_dev.c */
int kvmw_dev_init(void);
void kvmw_dev_exit(void);

#endif /* KVMW_H */
