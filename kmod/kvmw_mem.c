// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: where each VM's memory lives.
 *
 * Resident pages per NUMA node are sampled from KVM's
 * memslots by the VM's own vCPU threads: a switch-out or a return to the
 * VMM marks a sample due (at most every sample_interval_ms per VM), and the
 * next guest entry, where the vCPU is pinned and current->mm is the VMM's,
 * takes a batch of mem_batch pages with the lockless, non-faulting
 * get_user_page_fast_only(). A pass steps through the memslots in gfn
 * order (KVM's gfn tree: O(log slots) to resume) with a stride chosen for
 * at most mem_samples samples, so no pass walks a large VM page by page
 * and no probe does more than one batch.
 *
 * Locking: struct kvmw_mem::lock serialises a VM's samplers (trylock:
 * a busy sampler is skipped) and its readers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/timekeeping.h>

#include "kvmw.h"

static unsigned int sample_interval_ms = 10;
module_param(sample_interval_ms, uint, 0644);
MODULE_PARM_DESC(sample_interval_ms,
		 "Minimum time between two memory sample batches of a VM, in ms (default 10)");

static unsigned int mem_batch = 16;
module_param(mem_batch, uint, 0644);
MODULE_PARM_DESC(mem_batch, "Guest pages looked at per sample batch (default 16, max 64)");

static unsigned int mem_samples = 4096;
module_param(mem_samples, uint, 0644);
MODULE_PARM_DESC(mem_samples,
		 "Samples per pass over a VM's memory; smaller VMs are sampled page by page (default 4096)");

/* A new VM: its first sample is due at once. */
void kvmw_mem_init(struct kvmw_vm *vm)
{
	spin_lock_init(&vm->mem.lock);
	vm->mem.next = jiffies;
}

/*
 * Memory of a guest_memfd slot (6.8+: confidential guests' private
 * memory) is not mapped in the VMM at userspace_addr: not sampled.
 */
static bool kvmw_private_slot(const struct kvm_memory_slot *slot)
{
#ifdef KVM_MEM_GUEST_MEMFD
	return slot->flags & KVM_MEM_GUEST_MEMFD;
#else
	return false;
#endif
}

/* Pages of address space 0 (not SMM) in @slots: once per pass. */
static u64 kvmw_slots_pages(struct kvm_memslots *slots)
{
	struct kvm_memory_slot *slot;
	u64 pages = 0;
	int bkt;

	kvm_for_each_memslot(slot, bkt, slots)
		if (!kvmw_private_slot(slot))
			pages += slot->npages;
	return pages;
}

/**
 * kvmw_mem_sample() - take one batch of memory samples of a VM
 * @vm: the VM's record
 * @vcpu: one of its vCPUs, running on the current thread (pins the VM)
 *
 * Called from the guest entry of a vCPU whose sample was due. Never sleeps.
 */
void kvmw_mem_sample(struct kvmw_vm *vm, struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvmw_mem *m = &vm->mem;
	struct kvmw_mem_pass *c = &m->cur;
	u64 *cur_node = kvmw_mem_nodes(vm, false);
	unsigned int nodes = kvmw_nr_nodes();
	unsigned int i, samples, batch;
	struct kvm_memslot_iter iter;
	struct kvm_memslots *slots;
	int idx;

	if (current->mm != kvm->mm || !spin_trylock(&m->lock))
		return;
	if (!kvmw_mem_due(vm))
		goto unlock;
	WRITE_ONCE(m->next, jiffies + msecs_to_jiffies(sample_interval_ms));
	batch = clamp(READ_ONCE(mem_batch), 1U, 64U);

	idx = srcu_read_lock(&kvm->srcu);
	slots = kvm_memslots(kvm);
	if (!m->active) {
		memset(c, 0, sizeof(*c));
		memset(cur_node, 0, nodes * sizeof(*cur_node));
		c->pages = kvmw_slots_pages(slots);
		samples = max(READ_ONCE(mem_samples), 1U);
		c->stride = max_t(u64, 1, DIV_ROUND_UP_ULL(c->pages, samples));
		m->gfn = 0;
		m->active = true;
	}
	/* Samples every stride-th gfn of the memslots, in gfn order. */
	kvm_memslot_iter_start(&iter, slots, m->gfn);
	for (i = 0; i < batch;) {
		struct kvm_memory_slot *slot;
		unsigned long hva;
		int nid;

		if (!kvm_memslot_iter_is_valid(&iter, U64_MAX)) {
			/* Pass complete. */
			c->passes = m->done.passes + 1;
			c->pass_ns = ktime_get_boottime_ns();
			m->done = *c;
			memcpy(kvmw_mem_nodes(vm, true), cur_node,
			       nodes * sizeof(*cur_node));
			m->active = false;
			break;
		}
		slot = iter.slot;
		if (m->gfn < slot->base_gfn)
			m->gfn = slot->base_gfn;
		if (m->gfn >= slot->base_gfn + slot->npages ||
		    kvmw_private_slot(slot)) {
			kvm_memslot_iter_next(&iter);
			continue;
		}
		hva = slot->userspace_addr +
		      (m->gfn - slot->base_gfn) * PAGE_SIZE;
		m->gfn += c->stride;
		c->sampled++;
		i++;
		nid = kvmw_hva_node(hva);
		if (nid < 0)
			c->unmapped++;
		else if ((unsigned int)nid < nodes)
			cur_node[nid]++;
		else
			c->node_unknown++;
	}
	srcu_read_unlock(&kvm->srcu, idx);
unlock:
	spin_unlock(&m->lock);
}

/**
 * kvmw_mem_read() - the last complete memory pass of a VM
 * @vm: the VM's record
 * @out: filled with it (zeroes before the first pass)
 * @nodes: filled with its samples per node, kvmw_nr_nodes() values
 */
void kvmw_mem_read(struct kvmw_vm *vm, struct kvmw_mem_pass *out, u64 *nodes)
{
	/* The samplers only trylock: taking it here cannot deadlock. */
	spin_lock(&vm->mem.lock);
	*out = vm->mem.done;
	memcpy(nodes, kvmw_mem_nodes(vm, true),
	       kvmw_nr_nodes() * sizeof(*nodes));
	spin_unlock(&vm->mem.lock);
}
