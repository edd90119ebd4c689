// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: MEMSLOT_HELPERS
 * kvmw-needs: the memslot helpers of <linux/kvm_host.h>
 *
 * kmod/kvmw_kvm.c resolves a faulting gfn in the vCPU's memslots and
 * kmod/kvmw_mem.c walks a VM's memslots, both with KVM's inline helpers.
 */
#include <linux/kvm_host.h>

static_assert(__same_type(&kvm_vcpu_memslots,
			  struct kvm_memslots *(*)(struct kvm_vcpu *vcpu)));
static_assert(__same_type(&__gfn_to_memslot,
			  struct kvm_memory_slot *(*)(struct kvm_memslots *slots,
						      gfn_t gfn)));
static_assert(__same_type(&__gfn_to_hva_memslot,
			  unsigned long (*)(const struct kvm_memory_slot *slot,
					    gfn_t gfn)));
static_assert(KVM_MEMSLOT_INVALID != 0);

static u64 __maybe_unused kvmw_probe_walk(struct kvm *kvm, gfn_t start)
{
	struct kvm_memslots *slots = kvm_memslots(kvm);
	struct kvm_memslot_iter iter;
	struct kvm_memory_slot *slot;
	u64 pages = 0;
	int bkt, idx;

	kvm_for_each_memslot(slot, bkt, slots)
		pages += slot->npages;
	kvm_memslot_iter_start(&iter, slots, start);
	if (kvm_memslot_iter_is_valid(&iter, U64_MAX))
		pages += iter.slot->base_gfn + iter.slot->userspace_addr;
	kvm_memslot_iter_next(&iter);
	idx = srcu_read_lock(&kvm->srcu);
	srcu_read_unlock(&kvm->srcu, idx);
	return kvm->mm ? pages : 0;
}
