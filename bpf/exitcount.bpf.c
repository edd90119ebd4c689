// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * exitcount: count KVM VM exits per VMM process, vCPU thread, vCPU id and
 * hardware exit reason, from the kvm:kvm_exit tracepoint.
 *
 * This is kvmwarden's test oracle: an independent count, made without the
 * kernel module, that the selftests compare the module's numbers with.
 *
 * The record layout comes from the kvm module's BTF (vmlinux.h is dumped
 * from vmlinux + kvm.ko) and every field access is relocated by libbpf
 * (CO-RE), so one object loads on every kernel whose record has these
 * fields, whatever their offsets.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "exitcount.h"

/* vmlinux.h carries types, not macros. */
#ifndef EEXIST
#define EEXIST	17
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EXITCOUNT_MAX_ENTRIES);
	__type(key, struct exitcount_key);
	__type(value, struct exitcount_val);
} exit_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EXITCOUNT_DROP_NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} exit_drops SEC(".maps");

static __always_inline void count_drop(__u32 slot)
{
	__u64 *drops;

	drops = bpf_map_lookup_elem(&exit_drops, &slot);
	if (drops)
		__sync_fetch_and_add(drops, 1);
}

static __always_inline void count_exit(const struct exitcount_key *key)
{
	struct exitcount_val init = { .count = 1 };
	struct exitcount_val *val;
	long err;

	val = bpf_map_lookup_elem(&exit_counts, key);
	if (val) {
		__sync_fetch_and_add(&val->count, 1);
		return;
	}

	err = bpf_map_update_elem(&exit_counts, key, &init, BPF_NOEXIST);
	if (!err)
		return;

	/* Another CPU inserted the same key first: add to its entry. */
	if (err == -EEXIST) {
		val = bpf_map_lookup_elem(&exit_counts, key);
		if (val) {
			__sync_fetch_and_add(&val->count, 1);
			return;
		}
	}

	/* -E2BIG (map full) or -EBUSY (bucket locked): never silent. */
	count_drop(EXITCOUNT_DROP_INSERT);
}

SEC("tp/kvm/kvm_exit")
int handle_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	struct exitcount_key key = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 exit_reason, isa;

	/*
	 * Direct context loads: vmlinux.h marks the record
	 * preserve_access_index, so each offset is a CO-RE field relocation
	 * against struct trace_event_raw_kvm_exit in the running kernel's
	 * kvm BTF.
	 */
	exit_reason = ctx->exit_reason;
	isa = ctx->isa;

	key.tgid = pid_tgid >> 32;
	key.tid = (__u32)pid_tgid;
	key.vcpu_id = ctx->vcpu_id;
	/*
	 * VMX: bits 31:16 of the exit reason are flags (failed VM entry,
	 * enclave mode, ...), the basic reason is bits 15:0. SVM: the exit
	 * code is kept whole (SVM_EXIT_ERR is 0xffffffff).
	 */
	if (isa == KVMW_VENDOR_VMX)
		key.reason = exit_reason & KVMW_VMX_BASIC_REASON_MASK;
	else
		key.reason = exit_reason;

	count_exit(&key);
	return 0;
}
