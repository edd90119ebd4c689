// SPDX-License-Identifier: GPL-2.0
/*
 * exit_counts - kvmwarden counts every exit, per VM, vCPU and reason,
 * exactly.
 *
 * Each case runs guest programs that cause a known number of exits of
 * chosen kinds (lib/guest.S), finds its VM in /dev/kvmwarden by the VMM's
 * pid (this process) and the thread ids of its vCPUs, and checks:
 *
 *  1. exact counts of the targeted hardware reasons, for the whole life of
 *     the vCPU (CPUID, HLT, IOIO, MSR, VMMCALL/VMCALL: nothing else in a
 *     program causes them) and over the measured part (NPF / EPT
 *     violation: the warm-up faults in code, stack and page tables first,
 *     the measured part faults once per fresh page or MMIO access);
 *  2. agreement with the BPF oracle (kvm_exit tracepoint) for every
 *     (vCPU, reason) pair, including the nondeterministic reasons
 *     (external interrupts and the like);
 *  3. agreement with KVM's own per-vCPU statistics (binary stats fd).
 *
 * Relations with KVM's statistics, from the KVM sources (6.1 and 6.12):
 *  - "exits" is incremented once for every hardware VM-exit in
 *    vcpu_enter_guest(): once after the run loop, and once for each exit
 *    handled in the fastpath that re-entered the guest without leaving the
 *    loop. kvm_exit is traced for every exit handled by the vendor's
 *    handle_exit(); on SVM in 6.1 the fastpath re-entries are not traced.
 *    Fastpath re-entries only happen for WRMSR to the x2APIC ICR or the
 *    TSC deadline MSR, which these guests never do, so for them the
 *    module's per-vCPU exits equal "exits" exactly. The module counts at
 *    kvm_exit, so its per-vCPU entries equal its exits once the vCPU is
 *    back in userspace.
 *  - "io_exits" is incremented by the IOIO / IO_INSTRUCTION exit handler,
 *    for every port access whether completed in the kernel or not:
 *    equals the IOIO reason count.
 *  - "halt_exits" is incremented for every HLT exit (in-kernel LAPIC or
 *    not): equals the HLT reason count.
 *  - "irq_exits" is incremented by the external interrupt exit handler:
 *    equals the SVM_EXIT_INTR / EXIT_REASON_EXTERNAL_INTERRUPT count.
 *  - "hypercalls" is incremented for every VMMCALL/VMCALL handled by
 *    kvm_emulate_hypercall(): equals the VMMCALL / VMCALL count.
 *  - "mmio_exits" is incremented for every emulated access that exits to
 *    userspace: equals the nested page faults of an MMIO-only phase.
 *  - "pf_taken" is incremented for every NPF / EPT violation handed to
 *    the MMU's page fault handler, but not for accesses to already cached
 *    MMIO translations: equals the NPF count of a phase that only touches
 *    fresh pages.
 *
 * Without /dev/kvmwarden the KVM-level checks still run and the case is
 * reported as skipped.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmwarden/hist.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#include "oracle.h"

/* Faults KVM may retry in the measured part of one vCPU (check_exact). */
#define NPF_RETRIES_MAX	4

#define NUMA_BALANCING	"/proc/sys/kernel/numa_balancing"
#define MAX_PAIRS	128

/* Counts per hardware reason of one vCPU. */
struct rmap {
	uint32_t n;
	uint32_t reason[MAX_PAIRS];
	uint64_t count[MAX_PAIRS];
};

static uint64_t rmap_get(const struct rmap *m, uint32_t reason)
{
	uint32_t i;

	for (i = 0; i < m->n; i++)
		if (m->reason[i] == reason)
			return m->count[i];
	return 0;
}

static void rmap_add(struct rmap *m, uint32_t reason, uint64_t count)
{
	uint32_t i;

	for (i = 0; i < m->n; i++)
		if (m->reason[i] == reason) {
			m->count[i] += count;
			return;
		}
	if (m->n < MAX_PAIRS) {
		m->reason[m->n] = reason;
		m->count[m->n++] = count;
	}
}

/* What the checks need to know about the environment. */
struct env {
	struct kvmw_source src;		/* libkvmwarden on the device */
	pthread_mutex_t src_lock;	/* vCPU threads' phase hooks */
	int dev;			/* 0: src open, or -errno */
	struct kvmw_host hs;		/* the source's host figures */
	bool decode;			/* reasons of this vendor decoded */
	struct kvmw_oracle *oracle;	/* NULL: unavailable */
	int oracle_err;
	enum kvm_vendor vendor;
	bool hw;			/* kvm_amd or kvm_intel */
};

/* Per-vCPU record of the module's and the oracle's numbers. */
struct vctx {
	struct kvm_vcpu *vcpu;
	struct env *env;
	int phase_err;			/* module snapshot at the phase */
	struct rmap mod_phase;
	uint64_t mod_phase_exits;
	int orc_phase_err;
	struct rmap orc_phase;
	int end_err;			/* module snapshot at the end */
	struct rmap mod_end;
	/* The vCPU at the end; it points into its work's end snapshot. */
	struct kvmw_vcpu info_end;
	const struct kvmw_reason *lat_end;	/* its reasons */
	size_t nr_lat_end;
	struct rmap orc_end;
	uint32_t orc_vcpu_id;
	uint64_t orc_entries;		/* oracle entries of this tid */
};

/* The module's counts of the vCPU run by @tid, from a VM of a snapshot. */
static int snap_rmap(const struct kvmw_vm *vm, pid_t tid, struct rmap *m,
		     struct kvmw_vcpu *info)
{
	const struct kvmw_vcpu *v = kvmw_vm_vcpu_by_tid(vm, tid);
	size_t i;

	memset(m, 0, sizeof(*m));
	if (!v)
		return -ESRCH;
	if (info)
		*info = *v;
	for (i = 0; i < v->u.nr_reasons; i++)
		rmap_add(m, v->u.reasons[i].code, v->u.reasons[i].count);
	return 0;
}

struct orc_arg {
	pid_t tid;
	struct rmap *m;
	uint32_t vcpu_id;
	uint64_t entries;
};

static void orc_cb(unsigned int tid, unsigned int vcpu_id,
		   unsigned int reason, unsigned long long count, void *arg)
{
	struct orc_arg *a = arg;

	if ((pid_t)tid != a->tid)
		return;
	rmap_add(a->m, reason, count);
	a->vcpu_id = vcpu_id;
	a->entries++;
}

/* The oracle's counts of thread @tid of this process. */
static int oracle_rmap(struct kvmw_oracle *o, pid_t tid, struct rmap *m,
		       uint32_t *vcpu_id, uint64_t *entries)
{
	struct orc_arg a = { .tid = tid, .m = m, .vcpu_id = ~0U };
	int ret;

	memset(m, 0, sizeof(*m));
	ret = kvmw_oracle_foreach(o, getpid(), orc_cb, &a);
	if (ret < 0)
		return ret;
	if (vcpu_id)
		*vcpu_id = a.vcpu_id;
	if (entries)
		*entries = a.entries;
	return 0;
}

/*
 * Phase hook, on the vCPU's thread while it is in userspace at the start
 * of the measured part: the module's and the oracle's numbers so far.
 */
static void phase_hook(struct kvm_vcpu *vcpu, unsigned int phase, void *arg)
{
	struct vctx *x = arg;
	pid_t tid = vcpu->tid;
	const struct kvmw_vm *vm;
	struct kvmw_snapshot s;

	if (phase != GUEST_PHASE_MEASURE)
		return;
	x->phase_err = -ENODEV;
	/* vCPU threads run this at once; a source is used by one at a time. */
	if (x->env->dev >= 0) {
		pthread_mutex_lock(&x->env->src_lock);
		x->phase_err = kvmw_take_vmm(&x->env->src, getpid(), &tid, 1,
					     &s, &vm);
		pthread_mutex_unlock(&x->env->src_lock);
		if (!x->phase_err) {
			struct kvmw_vcpu info;

			x->phase_err = snap_rmap(vm, tid, &x->mod_phase, &info);
			x->mod_phase_exits = info.u.exits;
		}
		kvmw_snapshot_free(&s);
	}
	x->orc_phase_err = -ENODEV;
	if (x->env->oracle)
		x->orc_phase_err = oracle_rmap(x->env->oracle, tid,
					       &x->orc_phase, NULL, NULL);
}

/* (Re)read the module's features; closes fd on failure. */
static void env_handshake(struct env *env)
{
	uint64_t want = env->vendor == KVM_VENDOR_SVM ? KVMW_FEAT_REASON_SVM :
							KVMW_FEAT_REASON_VMX;

	if (env->dev >= 0 && kvmw_src_info(&env->src)) {
		kvmw_source_close(&env->src);
		env->dev = -EPROTO;
	}
	if (env->dev >= 0)
		env->hs = env->src.host;
	env->decode = env->dev >= 0 && (env->hs.features & want);
}

static void env_open(struct env *env)
{
	memset(env, 0, sizeof(*env));
	env->vendor = kvm_host_vendor();
	env->hw = kvm_backend_is_hw();
	pthread_mutex_init(&env->src_lock, NULL);
	env->dev = kvmw_src_open(&env->src);
	env_handshake(env);
	env->oracle_err = kvmw_oracle_open(&env->oracle);
	if (env->oracle_err)
		env->oracle = NULL;
}

static void env_close(struct env *env)
{
	if (env->dev >= 0)
		kvmw_source_close(&env->src);
	if (env->oracle)
		kvmw_oracle_close(env->oracle);
	env->dev = -ENODEV;
	env->oracle = NULL;
}

/*
 * The work of one case: VMs, each with vCPUs, each with a program.
 */
#define MAX_VMS		4
#define MAX_VCPUS	4

struct work {
	int nr_vms;
	int nr_vcpus;			/* per VM */
	uint64_t wall_ns;		/* first vCPU start to last join */
	struct kvm_vm *vms[MAX_VMS];
	struct vctx ctx[MAX_VMS][MAX_VCPUS];
	/* The module's view of each VM after the run. */
	struct kvmw_snapshot end[MAX_VMS];
};

static void work_free(struct work *w)
{
	int v, c;

	for (v = 0; v < w->nr_vms; v++) {
		for (c = 0; c < w->nr_vcpus; c++) {
			w->ctx[v][c].lat_end = NULL;
			w->ctx[v][c].nr_lat_end = 0;
		}
		kvmw_snapshot_free(&w->end[v]);
		vm_destroy(w->vms[v]);
	}
	w->nr_vms = 0;
}

/* Start all vCPUs at once (one thread each), then wait for all. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void work_run(struct __test_metadata *_metadata, struct work *w)
{
	uint64_t t0 = mono_ns();
	int v, c;

	for (v = 0; v < w->nr_vms; v++)
		for (c = 0; c < w->nr_vcpus; c++) {
			ASSERT_EQ(0, vcpu_start(w->ctx[v][c].vcpu));
		}
	for (v = 0; v < w->nr_vms; v++)
		for (c = 0; c < w->nr_vcpus; c++)
			vcpu_join(w->ctx[v][c].vcpu);
	w->wall_ns = mono_ns() - t0;
}

/* After the run: the module's and the oracle's final numbers. */
static void work_collect(struct __test_metadata *_metadata, struct env *env,
			 struct work *w)
{
	const struct kvmw_vm *s = NULL;
	int v, c;

	for (v = 0; v < w->nr_vms; v++) {
		struct kvm_vm *vm = w->vms[v];
		uint64_t exits = 0;

		if (env->dev >= 0) {
			int ret;

			kvmw_snapshot_free(&w->end[v]);
			ret = kvmw_take_kvm_vm(&env->src, vm, &w->end[v], &s);
			ASSERT_EQ(0, ret) TH_LOG("VM %d not found: %s", v,
						 strerror(-ret));
			EXPECT_EQ((uint32_t)getpid(), s->pid);
			EXPECT_EQ((uint32_t)w->nr_vcpus, s->nr_vcpus_detail);
			EXPECT_EQ((uint32_t)w->nr_vcpus, s->nr_vcpus);
			EXPECT_FALSE(s->gone);
			EXPECT_EQ((uint32_t)env->vendor, s->vendor);
		}
		for (c = 0; c < w->nr_vcpus; c++) {
			struct vctx *x = &w->ctx[v][c];

			if (env->dev >= 0) {
				x->end_err = snap_rmap(s, x->vcpu->tid,
						       &x->mod_end,
						       &x->info_end);
				exits += x->info_end.u.exits;
				x->lat_end = x->info_end.u.reasons;
				x->nr_lat_end = x->info_end.u.nr_reasons;
			}
			if (env->oracle) {
				EXPECT_EQ(0, oracle_rmap(env->oracle,
							 x->vcpu->tid,
							 &x->orc_end,
							 &x->orc_vcpu_id,
							 &x->orc_entries));
			}
		}
		if (env->dev >= 0)
			EXPECT_EQ(exits, s->exits);
	}
}

static const char *rname(struct env *env, uint32_t reason)
{
	return exit_reason_name(env->vendor, reason);
}

#define STAT_END(x, id)		((x)->vcpu->res.end_stats.val[id])
#define STAT_DELTA(x, id)	(STAT_END(x, id) - \
				 (x)->vcpu->res.phase_stats.val[id])

/* Guest-side and KVM-level checks of one vCPU (no kvmwarden needed). */
static void check_kvm(struct __test_metadata *_metadata, struct env *env,
		      struct vctx *x)
{
	struct vcpu_result *r = &x->vcpu->res;
	struct guest_expect e;

	guest_expect(x->vcpu, &e);
	ASSERT_TRUE(r->done) TH_LOG("%s", r->msg);
	ASSERT_FALSE(r->failed) TH_LOG("%s", r->msg);
	EXPECT_EQ(0ULL, r->data_errors);
	EXPECT_EQ(e.user_io, r->user_exits[KVM_EXIT_IO]);
	EXPECT_EQ(e.hlt, r->user_exits[KVM_EXIT_HLT]);
	EXPECT_EQ(e.mmio, r->user_exits[KVM_EXIT_MMIO]);
	if (!r->end_stats.valid[VCPU_STAT_EXITS])
		return;
	EXPECT_EQ(e.hlt, STAT_DELTA(x, VCPU_STAT_HALT_EXITS));
	EXPECT_EQ(e.mmio, STAT_DELTA(x, VCPU_STAT_MMIO_EXITS));
	if (!env->hw)
		return;
	EXPECT_EQ(e.io, STAT_DELTA(x, VCPU_STAT_IO_EXITS));
	EXPECT_EQ(e.hypercall, STAT_DELTA(x, VCPU_STAT_HYPERCALLS));
	EXPECT_LE(e.total, STAT_DELTA(x, VCPU_STAT_EXITS));
}

/* kvmwarden's exact counts of one vCPU (needs reason decoding). */
static void check_exact(struct __test_metadata *_metadata, struct env *env,
			struct vctx *x)
{
	enum kvm_vendor vd = env->vendor;
	uint32_t cpuid = exit_reason_code(vd, EXIT_KIND_CPUID);
	uint32_t hlt = exit_reason_code(vd, EXIT_KIND_HLT);
	uint32_t io = exit_reason_code(vd, EXIT_KIND_IO);
	uint32_t msr_r = exit_reason_code(vd, EXIT_KIND_MSR_READ);
	uint32_t msr_w = exit_reason_code(vd, EXIT_KIND_MSR_WRITE);
	uint32_t hcall = exit_reason_code(vd, EXIT_KIND_HYPERCALL);
	uint32_t npf = exit_reason_code(vd, EXIT_KIND_NPF);
	uint32_t npf_mmio = exit_reason_code(vd, EXIT_KIND_NPF_MMIO);
	struct guest_expect e;
	uint64_t npf_delta;
	int id = x->vcpu->id;

	guest_expect(x->vcpu, &e);
	ASSERT_EQ(0, x->phase_err) TH_LOG("vCPU %d: no module snapshot at the phase: %s",
					  id, strerror(-x->phase_err));
	ASSERT_EQ(0, x->end_err) TH_LOG("vCPU %d (tid %d) not in the snapshot",
					id, x->vcpu->tid);
	EXPECT_EQ((uint32_t)x->vcpu->id, x->info_end.vcpu_id);
	EXPECT_EQ((uint32_t)x->vcpu->tid, x->info_end.tid);
	EXPECT_EQ(0ULL, x->info_end.u.overflow_exits);

	/* before the measured part: the warm-up and its phase report only */
	EXPECT_EQ(0ULL, rmap_get(&x->mod_phase, cpuid));
	EXPECT_EQ(0ULL, rmap_get(&x->mod_phase, hlt));
	EXPECT_EQ(1ULL, rmap_get(&x->mod_phase, io));
	EXPECT_EQ(0ULL, rmap_get(&x->mod_phase, msr_r));
	EXPECT_EQ(0ULL, rmap_get(&x->mod_phase, msr_w));
	EXPECT_EQ(0ULL, rmap_get(&x->mod_phase, hcall));

	/* whole life of the vCPU */
	EXPECT_EQ(e.cpuid, rmap_get(&x->mod_end, cpuid))
		TH_LOG("vCPU %d %s", id, rname(env, cpuid));
	EXPECT_EQ(e.hlt, rmap_get(&x->mod_end, hlt))
		TH_LOG("vCPU %d %s", id, rname(env, hlt));
	EXPECT_EQ(e.io + 1, rmap_get(&x->mod_end, io))
		TH_LOG("vCPU %d %s", id, rname(env, io));
	if (msr_r == msr_w) {
		EXPECT_EQ(e.msr_read + e.msr_write,
			  rmap_get(&x->mod_end, msr_r))
			TH_LOG("vCPU %d %s", id, rname(env, msr_r));
	} else {
		EXPECT_EQ(e.msr_read, rmap_get(&x->mod_end, msr_r))
			TH_LOG("vCPU %d %s", id, rname(env, msr_r));
		EXPECT_EQ(e.msr_write, rmap_get(&x->mod_end, msr_w))
			TH_LOG("vCPU %d %s", id, rname(env, msr_w));
	}
	EXPECT_EQ(e.hypercall, rmap_get(&x->mod_end, hcall))
		TH_LOG("vCPU %d %s", id, rname(env, hcall));

	/*
	 * Measured part: one nested page fault per fresh page and per MMIO
	 * access. On VMX an MMIO access faults as an EPT violation the
	 * first time and as an EPT misconfiguration once KVM has cached the
	 * MMIO translation; on SVM both are NPF.
	 */
	npf_delta = rmap_get(&x->mod_end, npf) - rmap_get(&x->mod_phase, npf);
	if (npf_mmio != REASON_NONE)
		npf_delta += rmap_get(&x->mod_end, npf_mmio) -
			     rmap_get(&x->mod_phase, npf_mmio);
	/*
	 * KVM retries a fault, which then exits again, when an MMU notifier
	 * invalidation of the VMM's address space raced with it; with
	 * several vCPU threads in one process that happens (another thread
	 * starting maps and mprotects its stack). So: at least one fault per
	 * page and access, and no more than a few retries. Whether every
	 * fault is counted on the right vCPU and reason is checked exactly
	 * against the BPF oracle and KVM's exits elsewhere.
	 */
	EXPECT_LE(e.pages + e.mmio, npf_delta)
		TH_LOG("vCPU %d %s over the measured part", id,
		       rname(env, npf));
	EXPECT_GE(e.pages + e.mmio + NPF_RETRIES_MAX, npf_delta)
		TH_LOG("vCPU %d %s over the measured part", id,
		       rname(env, npf));
	if (npf_delta != e.pages + e.mmio)
		TH_LOG("vCPU %d: %llu nested page faults retried", id,
		       (unsigned long long)(npf_delta - e.pages - e.mmio));
}

/* kvmwarden against KVM's statistics (SVM/VMX backends only). */
static void check_stats(struct __test_metadata *_metadata, struct env *env,
			struct vctx *x)
{
	uint32_t io = exit_reason_code(env->vendor, EXIT_KIND_IO);
	uint32_t hlt = exit_reason_code(env->vendor, EXIT_KIND_HLT);
	uint32_t intr = exit_reason_code(env->vendor, EXIT_KIND_INTR);
	uint32_t hcall = exit_reason_code(env->vendor, EXIT_KIND_HYPERCALL);
	uint32_t npf = exit_reason_code(env->vendor, EXIT_KIND_NPF);
	uint32_t npf_mmio = exit_reason_code(env->vendor, EXIT_KIND_NPF_MMIO);
	struct vcpu_result *r = &x->vcpu->res;
	struct guest_expect e;
	uint64_t npf_delta;
	int id = x->vcpu->id;

	if (!env->hw || !r->end_stats.valid[VCPU_STAT_EXITS])
		return;
	guest_expect(x->vcpu, &e);
	EXPECT_EQ(STAT_END(x, VCPU_STAT_EXITS), x->info_end.u.exits)
		TH_LOG("vCPU %d: KVM stat exits vs kvmwarden exits", id);
	EXPECT_EQ(r->phase_stats.val[VCPU_STAT_EXITS], x->mod_phase_exits)
		TH_LOG("vCPU %d: same, at the phase", id);
	EXPECT_EQ(x->info_end.u.exits, x->info_end.u.entries)
		TH_LOG("vCPU %d: entries vs exits", id);
	if (!env->decode)
		return;
	EXPECT_EQ(STAT_END(x, VCPU_STAT_IO_EXITS), rmap_get(&x->mod_end, io))
		TH_LOG("vCPU %d: io_exits", id);
	EXPECT_EQ(STAT_END(x, VCPU_STAT_HALT_EXITS),
		  rmap_get(&x->mod_end, hlt)) TH_LOG("vCPU %d: halt_exits", id);
	EXPECT_EQ(STAT_END(x, VCPU_STAT_IRQ_EXITS),
		  rmap_get(&x->mod_end, intr)) TH_LOG("vCPU %d: irq_exits", id);
	EXPECT_EQ(STAT_END(x, VCPU_STAT_HYPERCALLS),
		  rmap_get(&x->mod_end, hcall)) TH_LOG("vCPU %d: hypercalls", id);

	npf_delta = rmap_get(&x->mod_end, npf) - rmap_get(&x->mod_phase, npf);
	if (npf_mmio != REASON_NONE)
		npf_delta += rmap_get(&x->mod_end, npf_mmio) -
			     rmap_get(&x->mod_phase, npf_mmio);
	if (e.mmio && !e.pages) {
		EXPECT_EQ(STAT_DELTA(x, VCPU_STAT_MMIO_EXITS), npf_delta)
			TH_LOG("vCPU %d: mmio_exits vs NPF", id);
	}
	if (e.pages && !e.mmio) {
		EXPECT_EQ(STAT_DELTA(x, VCPU_STAT_PF_TAKEN), npf_delta)
			TH_LOG("vCPU %d: pf_taken vs NPF", id);
	}
}

/* Bucket of @ns in @h's layout: the one home, <kvmwarden/hist.h>. */
static unsigned int lat_bucket(const struct kvmw_hist *h, uint64_t ns)
{
	return kvmw_hist_bucket(h->type, h->sub_bits, h->nr_buckets, ns);
}

/*
 * Latencies of one vCPU, from the final snapshot, with the vCPU stopped:
 *  - every exit but the last one (the done report, an OUT to userspace,
 *    which is never followed by an entry) is timed, so each reason's
 *    histogram holds exactly its count, and IOIO's its count minus one;
 *  - min <= mean <= max, and min and max fall in the first and last
 *    non-empty buckets;
 *  - each return of KVM_RUN to userspace but the last is followed by an
 *    entry that times it: the user counts add up to kvm_runs - 1, and
 *    split exactly into KVM_EXIT_IO (minus the last), KVM_EXIT_MMIO
 *    (the NPF / EPT reasons) and KVM_EXIT_HLT;
 *  - the vCPU's times add up: exit = idle + user + overhead, idle is the
 *    time after HLT exits and only that, guest + exit time fits in the
 *    wall time of the run.
 */
static void check_latency(struct __test_metadata *_metadata, struct env *env,
			  struct vctx *x, uint64_t wall_ns)
{
	uint32_t io = exit_reason_code(env->vendor, EXIT_KIND_IO);
	uint32_t hlt = exit_reason_code(env->vendor, EXIT_KIND_HLT);
	const struct kvmw_times *vi = &x->info_end.u.times;
	struct vcpu_result *r = &x->vcpu->res;
	uint64_t user_n = 0, idle = 0, overhead = 0, user = 0, exit_ns = 0;
	uint64_t in_flight = 0, user_io = 0, user_hlt = 0, user_npf = 0;
	int id = x->vcpu->id;
	size_t i;

	if (!(env->hs.features & KVMW_FEAT_LATENCY))
		return;
	EXPECT_EQ(0ULL, vi->untimed_exits);
	for (i = 0; i < x->nr_lat_end; i++) {
		const struct kvmw_reason *rm = &x->lat_end[i];
		const struct kvmw_lat *rs = &rm->lat;
		const struct kvmw_hist *h = &rs->hist;
		const char *name = rname(env, rm->code);
		uint64_t timed = 0;
		int lo = -1, hi = -1;
		unsigned int b;

		for (b = 0; b < h->nr_buckets; b++) {
			timed += h->buckets[b];
			if (h->buckets[b] && lo < 0)
				lo = b;
			if (h->buckets[b])
				hi = b;
		}
		EXPECT_EQ(0U, rm->flags & KVMW_R_UNTIMED)
			TH_LOG("vCPU %d %s untimed", id, name);
		EXPECT_EQ(rm->code == io ? rm->count - 1 : rm->count, timed)
			TH_LOG("vCPU %d %s: histogram total vs count", id, name);
		in_flight += rm->count - timed;
		EXPECT_EQ(rm->code == hlt ? KVMW_R_IDLE : 0U,
			  rm->flags & KVMW_R_IDLE)
			TH_LOG("vCPU %d %s: idle flag", id, name);
		if (timed) {
			EXPECT_LE(rs->min_ns, rs->total_ns / timed);
			EXPECT_LE(rs->total_ns / timed, rs->max_ns);
			EXPECT_EQ((unsigned int)lo, lat_bucket(h, rs->min_ns))
				TH_LOG("vCPU %d %s: min %llu in bucket %d", id,
				       name, (unsigned long long)rs->min_ns,
				       lo);
			EXPECT_EQ((unsigned int)hi, lat_bucket(h, rs->max_ns))
				TH_LOG("vCPU %d %s: max %llu in bucket %d", id,
				       name, (unsigned long long)rs->max_ns,
				       hi);
			EXPECT_GT(rs->total_ns, 0ULL);
		}
		EXPECT_LE(rs->user_count, timed);
		EXPECT_LE(rs->user_ns, rs->total_ns);
		EXPECT_EQ(!!rs->user_count, !!rs->user_ns)
			TH_LOG("vCPU %d %s: user count vs time", id, name);
		user_n += rs->user_count;
		if (rm->code == io)
			user_io = rs->user_count;
		else if (rm->code == hlt)
			user_hlt = rs->user_count;
		else if (rs->user_count)
			user_npf += rs->user_count;
		exit_ns += rs->total_ns;
		if (rm->flags & KVMW_R_IDLE) {
			idle += rs->total_ns;
		} else {
			user += rs->user_ns;
			overhead += rs->total_ns - rs->user_ns;
		}
	}
	EXPECT_EQ(1ULL, in_flight) TH_LOG("vCPU %d: exits never followed by an entry",
					  id);
	if (env->hs.features & KVMW_FEAT_USER_EXITS) {
		EXPECT_EQ(r->kvm_runs - 1, user_n)
			TH_LOG("vCPU %d: returns to userspace timed", id);
		EXPECT_EQ(r->user_exits[KVM_EXIT_IO] - 1, user_io);
		EXPECT_EQ(r->user_exits[KVM_EXIT_HLT], user_hlt);
		EXPECT_EQ(r->user_exits[KVM_EXIT_MMIO], user_npf);
	}
	EXPECT_EQ(exit_ns, vi->exit_ns);
	EXPECT_EQ(idle, vi->idle_ns);
	EXPECT_EQ(user, vi->user_ns);
	EXPECT_EQ(overhead, vi->overhead_ns);
	EXPECT_EQ(vi->exit_ns, vi->idle_ns + vi->user_ns + vi->overhead_ns);
	if (rmap_get(&x->mod_end, hlt))
		EXPECT_GT(vi->idle_ns, 0ULL) TH_LOG("vCPU %d: HLT but no idle time", id);
	EXPECT_GT(vi->guest_ns, 0ULL);
	EXPECT_GT(vi->overhead_ns, 0ULL);
	/* Module clock vs CLOCK_MONOTONIC: allow 2% and 1 ms of skew. */
	EXPECT_LE(vi->guest_ns + vi->exit_ns, wall_ns + wall_ns / 50 + 1000000)
		TH_LOG("vCPU %d: guest %llu + exit %llu ns > wall %llu ns", id,
		       (unsigned long long)vi->guest_ns,
		       (unsigned long long)vi->exit_ns,
		       (unsigned long long)wall_ns);
}

/* Every (vCPU, reason) pair: kvmwarden == oracle, at the phase and end. */
static void check_oracle(struct __test_metadata *_metadata, struct env *env,
			 struct vctx *x)
{
	uint32_t i;
	int id = x->vcpu->id;

	if (!env->oracle)
		return;
	EXPECT_EQ((uint32_t)x->vcpu->id, x->orc_vcpu_id);
	for (i = 0; i < x->orc_end.n; i++) {
		EXPECT_EQ(x->orc_end.count[i],
			  rmap_get(&x->mod_end, x->orc_end.reason[i]))
			TH_LOG("vCPU %d reason 0x%x (%s): oracle vs kvmwarden",
			       id, x->orc_end.reason[i],
			       rname(env, x->orc_end.reason[i]));
	}
	for (i = 0; i < x->mod_end.n; i++) {
		EXPECT_EQ(x->mod_end.count[i],
			  rmap_get(&x->orc_end, x->mod_end.reason[i]))
			TH_LOG("vCPU %d reason 0x%x (%s): kvmwarden vs oracle",
			       id, x->mod_end.reason[i],
			       rname(env, x->mod_end.reason[i]));
	}
	if (x->orc_phase_err)
		return;
	for (i = 0; i < x->orc_phase.n; i++) {
		EXPECT_EQ(x->orc_phase.count[i],
			  rmap_get(&x->mod_phase, x->orc_phase.reason[i]))
			TH_LOG("vCPU %d reason 0x%x (%s) at the phase", id,
			       x->orc_phase.reason[i],
			       rname(env, x->orc_phase.reason[i]));
	}
	for (i = 0; i < x->mod_phase.n; i++) {
		EXPECT_EQ(x->mod_phase.count[i],
			  rmap_get(&x->orc_phase, x->mod_phase.reason[i]))
			TH_LOG("vCPU %d reason 0x%x (%s) at the phase", id,
			       x->mod_phase.reason[i],
			       rname(env, x->mod_phase.reason[i]));
	}
}

struct tid_set {
	pid_t tids[MAX_VMS * MAX_VCPUS];
	int n;
	int strangers;
};

static void stranger_cb(unsigned int tid, unsigned int vcpu_id,
			unsigned int reason, unsigned long long count,
			void *arg)
{
	struct tid_set *t = arg;
	int i;

	(void)vcpu_id;
	(void)reason;
	(void)count;
	for (i = 0; i < t->n; i++)
		if (t->tids[i] == (pid_t)tid)
			return;
	t->strangers++;
}

static void log_vcpu(struct __test_metadata *_metadata, struct env *env,
		     struct vctx *x)
{
	char buf[512];
	size_t len = 0;
	uint32_t i;

	for (i = 0; i < x->mod_end.n && len < sizeof(buf) - 48; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %s=%llu",
				rname(env, x->mod_end.reason[i]),
				(unsigned long long)x->mod_end.count[i]);
	buf[len] = 0;
	TH_LOG("vCPU %d tid %d: exits %llu (KVM %llu):%s", x->vcpu->id,
	       x->vcpu->tid, (unsigned long long)x->info_end.u.exits,
	       (unsigned long long)STAT_END(x, VCPU_STAT_EXITS), buf);
	TH_LOG("vCPU %d: guest %llu ns, overhead %llu ns, idle %llu ns, user %llu ns",
	       x->vcpu->id, (unsigned long long)x->info_end.u.times.guest_ns,
	       (unsigned long long)x->info_end.u.times.overhead_ns,
	       (unsigned long long)x->info_end.u.times.idle_ns,
	       (unsigned long long)x->info_end.u.times.user_ns);
	for (i = 0; i < x->nr_lat_end; i++) {
		const struct kvmw_reason *rs = &x->lat_end[i];
		uint64_t timed = rs->count - (rs->code ==
			exit_reason_code(env->vendor, EXIT_KIND_IO));

		TH_LOG("  %-12s n=%llu mean %llu min %llu max %llu ns, user %llu/%llu ns",
		       rname(env, rs->code), (unsigned long long)rs->count,
		       (unsigned long long)(timed ? rs->lat.total_ns / timed : 0),
		       (unsigned long long)rs->lat.min_ns,
		       (unsigned long long)rs->lat.max_ns,
		       (unsigned long long)rs->lat.user_count,
		       (unsigned long long)rs->lat.user_ns);
	}
}

/*
 * Run the work and check everything. Returns a reason to skip, or NULL
 * when every check could run.
 */
static const char *work_check(struct __test_metadata *_metadata,
			      struct env *env, struct work *w,
			      bool need_oracle)
{
	struct tid_set t = { .n = 0 };
	int v, c;

	work_run(_metadata, w);
	/*
	 * SVM decoding is announced once the first exits have validated the
	 * VMCB layout: ask again now that this case's guests have run.
	 */
	if (env->dev >= 0 && !env->decode)
		env_handshake(env);
	work_collect(_metadata, env, w);
	for (v = 0; v < w->nr_vms; v++)
		for (c = 0; c < w->nr_vcpus; c++)
			check_kvm(_metadata, env, &w->ctx[v][c]);
	if (env->dev < 0)
		return "kvmwarden not loaded (KVM-level checks done)";
	if (!env->hw)
		return "KVM does not run on kvm_amd or kvm_intel";
	if (need_oracle && !env->oracle)
		return "BPF oracle unavailable";

	for (v = 0; v < w->nr_vms; v++)
		for (c = 0; c < w->nr_vcpus; c++) {
			struct vctx *x = &w->ctx[v][c];

			log_vcpu(_metadata, env, x);
			if (env->decode)
				check_exact(_metadata, env, x);
			check_stats(_metadata, env, x);
			check_oracle(_metadata, env, x);
			if (env->decode)
				check_latency(_metadata, env, x, w->wall_ns);
			t.tids[t.n++] = x->vcpu->tid;
		}
	if (env->oracle) {
		/* only the vCPU threads of this process ever exit */
		EXPECT_LE(0, kvmw_oracle_foreach(env->oracle, getpid(),
						 stranger_cb, &t));
		EXPECT_EQ(0, t.strangers);
	} else {
		TH_LOG("BPF oracle unavailable (%s): agreement not checked",
		       strerror(-env->oracle_err));
	}
	if (!env->decode)
		return "kvmwarden does not decode this vendor's exit reasons";
	return NULL;
}

/* Set up VM v, vCPU c of the work with a single-kind program or a mix. */
static void work_add(struct __test_metadata *_metadata, struct env *env,
		     struct work *w, int v, int c, enum guest_prog prog,
		     uint64_t n, const struct guest_mix *mix)
{
	struct vctx *x = &w->ctx[v][c];
	struct kvm_vcpu *vcpu;

	vcpu = vcpu_add(w->vms[v]);
	ASSERT_NE(NULL, vcpu);
	x->vcpu = vcpu;
	x->env = env;
	if (mix) {
		ASSERT_EQ(0, vcpu_load_mixed(vcpu, mix));
	} else {
		ASSERT_EQ(0, vcpu_load_prog(vcpu, prog, n));
	}
	vcpu_set_phase_hook(vcpu, phase_hook, x);
}

static void numa_balancing_off(char *old, size_t size)
{
	/* NUMA balancing unmaps guest memory now and then: extra faults */
	if (sysctl_write(NUMA_BALANCING, "0", old, size))
		old[0] = 0;
}

static void numa_balancing_restore(const char *old)
{
	if (old[0])
		sysctl_write(NUMA_BALANCING, old, NULL, 0);
}

/* One program on one vCPU of one VM. */
FIXTURE(single) {
	struct env env;
	struct work w;
	char numa[16];
	bool kvm;
};

FIXTURE_VARIANT(single) {
	enum guest_prog prog;
	uint64_t n;
	bool irqchip;
};

FIXTURE_VARIANT_ADD(single, cpuid) { .prog = GUEST_PROG_CPUID, .n = 1000 };
FIXTURE_VARIANT_ADD(single, cpuid_once) { .prog = GUEST_PROG_CPUID, .n = 1 };
FIXTURE_VARIANT_ADD(single, hlt) { .prog = GUEST_PROG_HLT, .n = 200 };
FIXTURE_VARIANT_ADD(single, pio_user) {
	.prog = GUEST_PROG_PIO_USER, .n = 300
};
FIXTURE_VARIANT_ADD(single, pio_user_in) {
	.prog = GUEST_PROG_PIO_USER_IN, .n = 300
};
FIXTURE_VARIANT_ADD(single, pio_kernel_ioeventfd) {
	.prog = GUEST_PROG_PIO_KERNEL, .n = 1000
};
FIXTURE_VARIANT_ADD(single, pio_kernel_pic) {
	.prog = GUEST_PROG_PIO_PIC, .n = 1000, .irqchip = true
};
FIXTURE_VARIANT_ADD(single, mmio_write) {
	.prog = GUEST_PROG_MMIO_WRITE, .n = 300
};
FIXTURE_VARIANT_ADD(single, mmio_read) {
	.prog = GUEST_PROG_MMIO_READ, .n = 300
};
FIXTURE_VARIANT_ADD(single, hypercall) {
	.prog = GUEST_PROG_HYPERCALL, .n = 1000
};
FIXTURE_VARIANT_ADD(single, msr_read) {
	.prog = GUEST_PROG_MSR_READ, .n = 1000
};
FIXTURE_VARIANT_ADD(single, msr_write) {
	.prog = GUEST_PROG_MSR_WRITE, .n = 1000
};
FIXTURE_VARIANT_ADD(single, npf_fresh_pages) {
	.prog = GUEST_PROG_PAGES, .n = 256
};
FIXTURE_VARIANT_ADD(single, npf_one_page) { .prog = GUEST_PROG_PAGES, .n = 1 };
FIXTURE_VARIANT_ADD(single, cpuid_irqchip) {
	.prog = GUEST_PROG_CPUID, .n = 1000, .irqchip = true
};

/*
 * Keep the vCPU thread on one CPU. The test VM's local_clock() is
 * per CPU and, its TSC being unstable under TCG, CPUs may disagree by up
 * to a tick: an exit timed from one CPU to another can come out as 0,
 * and a reason with few exits (ten HLTs) could then show no time at all.
 * Each test runs in its own child process, so nothing needs restoring.
 */
static void pin_to_this_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

FIXTURE_SETUP(single)
{
	self->kvm = kvm_available();
	if (!self->kvm)
		return;
	numa_balancing_off(self->numa, sizeof(self->numa));
	env_open(&self->env);
	pin_to_this_cpu();
}

FIXTURE_TEARDOWN(single)
{
	if (!self->kvm)
		return;
	work_free(&self->w);
	env_close(&self->env);
	numa_balancing_restore(self->numa);
}

TEST_F_TIMEOUT(single, exact, 300)
{
	struct vm_opts opts = { .irqchip = variant->irqchip };
	const char *skip;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (variant->prog == GUEST_PROG_HYPERCALL && !self->env.hw)
		SKIP(return, "hypercalls need kvm_amd or kvm_intel");
	self->w.nr_vcpus = 1;
	self->w.vms[0] = vm_create(&opts);
	ASSERT_NE(NULL, self->w.vms[0]);
	self->w.nr_vms = 1;
	work_add(_metadata, &self->env, &self->w, 0, 0, variant->prog,
		 variant->n, NULL);
	skip = work_check(_metadata, &self->env, &self->w, false);
	if (skip)
		SKIP(return, "%s", skip);
}

/* Several programs, VMs and vCPUs at once. */
FIXTURE(multi) {
	struct env env;
	struct work w;
	char numa[16];
	bool kvm;
};

FIXTURE_SETUP(multi)
{
	self->kvm = kvm_available();
	if (!self->kvm)
		return;
	numa_balancing_off(self->numa, sizeof(self->numa));
	env_open(&self->env);
}

FIXTURE_TEARDOWN(multi)
{
	if (!self->kvm)
		return;
	work_free(&self->w);
	env_close(&self->env);
	numa_balancing_restore(self->numa);
}

/* VM v, vCPU c of a multi-VM work: counts differ for every vCPU. */
static struct guest_mix mix_for(struct env *env, int v, int c)
{
	uint64_t k = v * 2 + c + 1;
	struct guest_mix m = {
		.cpuid = 100 * k, .hlt = 7 * k, .pio_user = 11 * k,
		.pio_kernel = 13 * k, .mmio = 17 * k,
		.hypercall = env->hw ? 19 * k : 0,
		.msr_read = 23 * k, .msr_write = 29 * k, .pages = 31 * k,
	};

	return m;
}

static const char *run_multi(struct __test_metadata *_metadata,
			     FIXTURE_DATA(multi) *self, int nr_vms,
			     int nr_vcpus, bool need_oracle)
{
	int v, c;

	self->w.nr_vcpus = nr_vcpus;
	for (v = 0; v < nr_vms; v++) {
		self->w.vms[v] = vm_create(NULL);
		if (!self->w.vms[v])
			return "vm_create failed";
		self->w.nr_vms = v + 1;
		for (c = 0; c < nr_vcpus; c++) {
			struct guest_mix m = mix_for(&self->env, v, c);

			work_add(_metadata, &self->env, &self->w, v, c, 0, 0,
				 &m);
		}
	}
	return work_check(_metadata, &self->env, &self->w, need_oracle);
}

/* Every kind interleaved in one vCPU. */
TEST_F_TIMEOUT(multi, mixed, 300)
{
	const char *skip;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	skip = run_multi(_metadata, self, 1, 1, false);
	if (skip)
		SKIP(return, "%s", skip);
}

/* 3 VMs x 2 vCPUs, a different mix on each vCPU, all at once. */
TEST_F_TIMEOUT(multi, three_vms_two_vcpus, 600)
{
	const char *skip;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	skip = run_multi(_metadata, self, 3, 2, false);
	if (skip)
		SKIP(return, "%s", skip);
}

/* The same, and the oracle is required: every pair must agree. */
TEST_F_TIMEOUT(multi, oracle_agreement, 600)
{
	const char *skip;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (self->env.dev >= 0 && !self->env.oracle)
		SKIP(return, "BPF oracle unavailable: %s",
		     strerror(-self->env.oracle_err));
	skip = run_multi(_metadata, self, 3, 2, true);
	if (skip)
		SKIP(return, "%s", skip);
}

/* The (vCPU, reason) entries of a VM. */
static size_t vm_nr_reasons(const struct kvmw_vm *vm)
{
	size_t i, n = 0;

	for (i = 0; i < vm->nr_vcpus_detail; i++)
		n += vm->vcpus[i].u.nr_reasons;
	return n;
}

/*
 * A destroyed VM is flagged KVMW_VM_F_GONE, keeps its final numbers while
 * it is still listed, and may later disappear from the list.
 */
TEST_F_TIMEOUT(multi, vm_gone, 120)
{
	struct kvmw_snapshot before, after = { 0 };
	const struct kvmw_vm *b, *a;
	uint64_t vm_id;
	pid_t tid;
	int ret, ms;

	if (!self->kvm)
		SKIP(return, "no usable /dev/kvm");
	if (self->env.dev < 0)
		SKIP(return, "kvmwarden not loaded");
	if (!(self->env.hs.features & KVMW_FEAT_VM_LIFETIME))
		SKIP(return, "kvmwarden without KVMW_FEAT_VM_LIFETIME");

	self->w.vms[0] = vm_create(NULL);
	ASSERT_NE(NULL, self->w.vms[0]);
	self->w.nr_vms = 1;
	self->w.nr_vcpus = 1;
	work_add(_metadata, &self->env, &self->w, 0, 0, GUEST_PROG_CPUID,
		 100, NULL);
	work_run(_metadata, &self->w);
	tid = self->w.ctx[0][0].vcpu->tid;
	ASSERT_EQ(0, kvmw_take_kvm_vm(&self->env.src, self->w.vms[0], &before,
				      &b));
	vm_id = b->vm_id;
	EXPECT_FALSE(b->gone);
	work_free(&self->w);

	for (ms = 0; ms < 30000; ms += 50) {
		kvmw_snapshot_free(&after);
		ret = kvmw_take_vm(&self->env.src, vm_id, &after, &a);
		if (ret == -ENOENT)
			break;
		ASSERT_EQ(0, ret);
		if (a->gone)
			break;
		usleep(50000);
	}
	if (ret == -ENOENT) {
		TH_LOG("the destroyed VM left the list at once");
	} else {
		ASSERT_TRUE(a->gone)
			TH_LOG("VM not flagged gone after its destruction");
		EXPECT_LT(0ULL, a->gone_ns);
		EXPECT_LE(a->first_seen_ns, a->gone_ns);
		EXPECT_EQ(b->exits, a->exits);
		EXPECT_EQ(b->entries, a->entries);
		EXPECT_EQ(vm_nr_reasons(b), vm_nr_reasons(a));
		ASSERT_LE(1U, a->nr_vcpus_detail);
		EXPECT_EQ((uint32_t)tid, a->vcpus[0].tid);
	}
	kvmw_snapshot_free(&after);
	kvmw_snapshot_free(&before);
}

TEST_HARNESS_MAIN
