// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kvmlat: per hardware exit reason, the number of KVM exits and the host
 * time from each exit to the next entry of the same vCPU (total, min,
 * max and a log2 histogram in the UAPI's KVMW_LAT_BUCKETS layout), per
 * VMM process, vCPU thread and vCPU id. Documentation/bpf.rst has the
 * data model and the measured cost.
 *
 * Two attachments of the same accounting, one of which is loaded:
 *  - tp_btf/kvm_exit and tp_btf/kvm_entry (BPF_PROG_TYPE_TRACING on the
 *    raw tracepoints): the arguments are the tracepoints' own (struct
 *    kvm_vcpu *vcpu, u32 isa), so no trace record is built; the reason is
 *    read from kvm_amd's or kvm_intel's vCPU structure with CO-RE;
 *  - tp/kvm/kvm_exit and tp/kvm/kvm_entry (classic tracepoints), the
 *    fallback when the kernel cannot attach the former: the reason comes
 *    from the kvm_exit record.
 *
 * Time base: bpf_ktime_get_ns() (CLOCK_MONOTONIC). The exit's time is
 * taken after this program's own exit work and the entry's first thing
 * at the entry, so the figures leave out most of this program's cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kvmlat.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The members of kvm_amd's and kvm_intel's private vCPU structures that
 * are read. They are not in vmlinux.h (vmlinux + kvm.ko): libbpf finds
 * them in the module's BTF at load time and relocates each offset
 * (struct vcpu_svm::vmcb moved between 6.1 and 6.12). The ___kvmlat
 * suffix keeps them apart from any full definition.
 */
struct vmcb_control_area___kvmlat {
	__u32 exit_code;
} __attribute__((preserve_access_index));

struct vmcb___kvmlat {
	struct vmcb_control_area___kvmlat control;
} __attribute__((preserve_access_index));

struct vcpu_svm___kvmlat {
	struct vmcb___kvmlat *vmcb;
} __attribute__((preserve_access_index));

union vmx_exit_reason___kvmlat {
	__u32 full;
} __attribute__((preserve_access_index));

struct vcpu_vmx___kvmlat {
	union vmx_exit_reason___kvmlat exit_reason;
} __attribute__((preserve_access_index));

/*
 * The tables, in .bss: read by userspace through the memory-mapped map,
 * written here without atomics but for claiming a slot, because each
 * slot has one writer, the thread running its vCPU (KVM_RUN holds the
 * vCPU mutex). The vCPU slots are an open-addressed hash table of
 * (tgid, tid, vcpu_id): the common case is one multiplication and three
 * compares, no map lookup and no helper but the pid.
 */
struct kvmlat_vcpu kvmlat_vcpus[KVMLAT_MAX_VCPUS];
struct kvmlat_entry kvmlat_entries[KVMLAT_MAX_VCPUS][KVMLAT_REASONS];
__u64 kvmlat_drops[KVMLAT_DROP_NR];

static __always_inline void kvmlat_drop(__u32 what)
{
	if (what < KVMLAT_DROP_NR)
		__sync_fetch_and_add(&kvmlat_drops[what], 1);
}

/* Home slot of a vCPU: a multiplicative hash of its key. */
static __always_inline __u32 kvmlat_home(__u64 pid_tgid, __u32 vcpu_id)
{
	__u32 h = ((__u32)pid_tgid ^ (__u32)(pid_tgid >> 32) * 0x85ebca6bU ^
		   vcpu_id * 0xc2b2ae35U) * 0x9e3779b1U;

	return h >> (32 - KVMLAT_SLOT_BITS);
}

static __always_inline bool kvmlat_is(const struct kvmlat_vcpu *v,
				      __u64 pid_tgid, __u32 vcpu_id)
{
	return v->tid == (__u32)pid_tgid && v->vcpu_id == vcpu_id &&
	       v->tgid == (__u32)(pid_tgid >> 32);
}

/*
 * The vCPU is not in its home slot: probe the next ones, and take the
 * first free one. Only the thread of a key ever inserts it, and a slot is
 * claimed by writing that thread's id, so no other thread can mistake a
 * half-written slot for its own. KVMLAT_MAX_VCPUS when no slot is found.
 */
static __noinline __u32 kvmlat_slot_find(__u64 pid_tgid, __u32 vcpu_id)
{
	__u32 home = kvmlat_home(pid_tgid, vcpu_id);
	struct kvmlat_vcpu *v;
	__u32 i, slot;

	for (i = 0; i < KVMLAT_PROBES; i++) {
		slot = (home + i) & (KVMLAT_MAX_VCPUS - 1);
		v = &kvmlat_vcpus[slot];
		if (kvmlat_is(v, pid_tgid, vcpu_id))
			return slot;
		if (v->tid ||
		    __sync_val_compare_and_swap(&v->tid, 0, (__u32)pid_tgid))
			continue;
		v->vcpu_id = vcpu_id;
		/* Readers take a slot whose tgid is set as complete. */
		v->tgid = pid_tgid >> 32;
		return slot;
	}
	kvmlat_drop(KVMLAT_DROP_NO_VCPU);
	return KVMLAT_MAX_VCPUS;
}

static __always_inline struct kvmlat_vcpu *
kvmlat_vcpu_get(__u64 pid_tgid, __u32 vcpu_id, __u32 *slotp)
{
	__u32 slot = kvmlat_home(pid_tgid, vcpu_id) & (KVMLAT_MAX_VCPUS - 1);

	if (!kvmlat_is(&kvmlat_vcpus[slot], pid_tgid, vcpu_id)) {
		slot = kvmlat_slot_find(pid_tgid, vcpu_id);
		if (slot >= KVMLAT_MAX_VCPUS)
			return NULL;
	}
	*slotp = slot;
	return &kvmlat_vcpus[slot];
}

/* Give the vCPU's next entry to @code: 1 + its index, or 0 if full. */
static __noinline __u32 kvmlat_entry_new(__u32 slot, __u32 code)
{
	struct kvmlat_vcpu *v = &kvmlat_vcpus[slot & (KVMLAT_MAX_VCPUS - 1)];
	struct kvmlat_entry *e;
	__u32 n = v->nr_reasons;

	if (n >= KVMLAT_REASONS) {
		kvmlat_drop(KVMLAT_DROP_NO_REASON);
		return 0;
	}
	e = &kvmlat_entries[slot & (KVMLAT_MAX_VCPUS - 1)][n];
	e->reason = code;
	e->min_ns = ~0ULL;
	/* Readers look at entries below nr_reasons: published last. */
	v->nr_reasons = n + 1;
	return n + 1;
}

/* A code without a direct index: search the vCPU's entries. */
static __noinline __u32 kvmlat_entry_search(__u32 slot, __u32 code)
{
	struct kvmlat_vcpu *v = &kvmlat_vcpus[slot & (KVMLAT_MAX_VCPUS - 1)];
	__u32 n = v->nr_reasons;
	__u32 i;

	for (i = 0; i < KVMLAT_REASONS && i < n; i++)
		if (kvmlat_entries[slot & (KVMLAT_MAX_VCPUS - 1)][i].reason ==
		    code)
			return i + 1;
	return kvmlat_entry_new(slot, code);
}

static __always_inline __u32 kvmlat_entry_of(__u32 slot,
					     struct kvmlat_vcpu *v, __u32 code)
{
	__u32 d, idx;

	if (code < KVMLAT_DIRECT_LOW)
		d = code;
	else if (code - KVMLAT_SVM_HIGH_BASE < KVMLAT_SVM_HIGH_NR)
		d = code - KVMLAT_SVM_HIGH_BASE + KVMLAT_DIRECT_LOW;
	else
		return kvmlat_entry_search(slot, code);
	/* Keep the bound for the verifier: clang knows it and drops it. */
	barrier_var(d);
	if (d >= KVMLAT_DIRECT)
		return 0;
	idx = v->direct[d];
	if (idx)
		return idx;
	idx = kvmlat_entry_new(slot, code);
	v->direct[d] = idx;
	return idx;
}

/* Count an exit and leave it in flight until the vCPU's next entry. */
static __always_inline void kvmlat_account_exit(__u32 vcpu_id, __u32 code)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct kvmlat_vcpu *v;
	__u32 slot, idx;

	v = kvmlat_vcpu_get(pid_tgid, vcpu_id, &slot);
	if (!v)
		return;
	idx = kvmlat_entry_of(slot, v, code);
	v->pending = idx;
	if (!idx)
		return;
	kvmlat_entries[slot][(idx - 1) & (KVMLAT_REASONS - 1)].count++;
	v->exit_ts = bpf_ktime_get_ns();
}

/* min(ilog2(ns | 1), KVMW_LAT_BUCKETS - 1), without a clz instruction. */
static __always_inline __u32 kvmlat_bucket(__u64 ns)
{
	__u32 x, b = 0;

	if (ns >= 1ULL << (KVMW_LAT_BUCKETS - 1))
		return KVMW_LAT_BUCKETS - 1;
	x = (__u32)ns | 1;
	if (x >= 1U << 16) {
		x >>= 16;
		b += 16;
	}
	if (x >= 1U << 8) {
		x >>= 8;
		b += 8;
	}
	if (x >= 1U << 4) {
		x >>= 4;
		b += 4;
	}
	if (x >= 1U << 2) {
		x >>= 2;
		b += 2;
	}
	return b + (x >> 1);
}

/* The entry: time the exit in flight, if any. */
static __always_inline void kvmlat_account_entry(__u32 vcpu_id)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct kvmlat_entry *e;
	struct kvmlat_vcpu *v;
	__u32 slot, idx;
	__u64 ns;

	v = kvmlat_vcpu_get(pid_tgid, vcpu_id, &slot);
	if (!v)
		return;
	idx = v->pending;
	if (!idx)
		return;
	v->pending = 0;
	e = &kvmlat_entries[slot][(idx - 1) & (KVMLAT_REASONS - 1)];
	ns = now - v->exit_ts;
	e->total_ns += ns;
	if (ns < e->min_ns)
		e->min_ns = ns;
	if (ns > e->max_ns)
		e->max_ns = ns;
	e->hist[kvmlat_bucket(ns) & (KVMW_LAT_BUCKETS - 1)]++;
}

/* The reason KVM is handling, from the vendor's vCPU structure. */
static __always_inline __u32 kvmlat_vcpu_reason(struct kvm_vcpu *vcpu,
						__u32 isa)
{
	__u32 code;

	if (isa == KVMW_VENDOR_SVM) {
		struct vcpu_svm___kvmlat *svm = (void *)vcpu;
		struct vmcb___kvmlat *vmcb;

		/* Load-time constant: false unless kvm_amd's BTF has it. */
		if (!bpf_core_field_exists(svm->vmcb))
			return KVMW_REASON_UNDECODED;
		if (bpf_core_read(&vmcb, sizeof(vmcb), &svm->vmcb) ||
		    bpf_core_read(&code, sizeof(code),
				  &vmcb->control.exit_code))
			return KVMW_REASON_UNDECODED;
		return code;
	}
	if (isa == KVMW_VENDOR_VMX) {
		struct vcpu_vmx___kvmlat *vmx = (void *)vcpu;

		if (!bpf_core_field_exists(vmx->exit_reason))
			return KVMW_REASON_UNDECODED;
		if (bpf_core_read(&code, sizeof(code), &vmx->exit_reason.full))
			return KVMW_REASON_UNDECODED;
		/* Bits 31:16 are flags, not part of the basic reason. */
		return code & KVMW_VMX_BASIC_REASON_MASK;
	}
	return KVMW_REASON_UNDECODED;
}

SEC("tp_btf/kvm_exit")
int BPF_PROG(kvmlat_btf_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	/* 6.12's verifier treats tracepoint arguments as maybe NULL. */
	if (!vcpu)
		return 0;
	kvmlat_account_exit(vcpu->vcpu_id, kvmlat_vcpu_reason(vcpu, isa));
	return 0;
}

/* 6.12 adds a second argument (force_immediate_exit), not needed here. */
SEC("tp_btf/kvm_entry")
int BPF_PROG(kvmlat_btf_entry, struct kvm_vcpu *vcpu)
{
	if (!vcpu)
		return 0;
	kvmlat_account_entry(vcpu->vcpu_id);
	return 0;
}

SEC("tp/kvm/kvm_exit")
int kvmlat_tp_exit(struct trace_event_raw_kvm_exit *ctx)
{
	__u32 code = ctx->exit_reason;

	if (ctx->isa == KVMW_VENDOR_VMX)
		code &= KVMW_VMX_BASIC_REASON_MASK;
	kvmlat_account_exit(ctx->vcpu_id, code);
	return 0;
}

SEC("tp/kvm/kvm_entry")
int kvmlat_tp_entry(struct trace_event_raw_kvm_entry *ctx)
{
	kvmlat_account_entry(ctx->vcpu_id);
	return 0;
}
