// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kvmwarden BPF latency backend: userspace side of kvmlat.bpf.c.
 *
 * Probes what the kernel offers by trying it: the tp_btf programs first,
 * and only when they cannot be loaded or attached the classic tracepoint
 * ones (the others' autoload is switched off, so only one pair is ever in
 * the kernel). The tables are read from the memory-mapped .bss map, with
 * no system call per read.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/kvmwarden.h>

#include "kvmlat.h"
#include "kvmlat.skel.h"
#include "latency.h"

static_assert(KVMLAT_MAX_VCPUS == 1U << KVMLAT_SLOT_BITS,
	      "KVMLAT_MAX_VCPUS is 2^KVMLAT_SLOT_BITS");
static_assert((KVMLAT_REASONS & (KVMLAT_REASONS - 1)) == 0,
	      "KVMLAT_REASONS is a power of two");
static_assert(KVMLAT_REASONS < 256, "entry indexes fit a byte");
static_assert(sizeof(struct kvmlat_vcpu) == 32 + KVMLAT_DIRECT,
	      "kvmlat_vcpu has holes");
static_assert(sizeof(struct kvmlat_entry) == 40 + 8 * KVMW_LAT_BUCKETS,
	      "kvmlat_entry has holes");

struct kvmw_lat {
	struct kvmlat_bpf *skel;
	enum kvmw_lat_attach attached;
};

static int kvmw_lat_print(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* libbpf's messages only with KVMW_BPF_DEBUG=1: a failed probe is normal. */
static void kvmw_lat_setup_print(void)
{
	const char *debug = getenv("KVMW_BPF_DEBUG");

	libbpf_set_print(debug && !strcmp(debug, "1") ? kvmw_lat_print : NULL);
}

/* The classic tracepoints need tracefs for their ids (see oracle.c). */
static void kvmw_lat_ensure_tracefs(void)
{
	if (!access("/sys/kernel/debug/tracing", F_OK) ||
	    !access("/sys/kernel/tracing/events", F_OK))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    getenv("KVMW_BPF_DEBUG"))
		fprintf(stderr, "kvmw_lat: mounting tracefs: %s\n",
			strerror(errno));
}

static int kvmw_lat_try(struct kvmw_lat *l, enum kvmw_lat_attach how)
{
	bool btf = how == KVMW_LAT_ATTACH_BTF;
	struct kvmlat_bpf *skel;
	int err;

	skel = kvmlat_bpf__open();
	if (!skel)
		return errno ? -errno : -EINVAL;
	bpf_program__set_autoload(skel->progs.kvmlat_btf_exit, btf);
	bpf_program__set_autoload(skel->progs.kvmlat_btf_entry, btf);
	bpf_program__set_autoload(skel->progs.kvmlat_tp_exit, !btf);
	bpf_program__set_autoload(skel->progs.kvmlat_tp_entry, !btf);

	err = kvmlat_bpf__load(skel);
	if (!err && !skel->bss)
		err = -EOPNOTSUPP;	/* .bss not mmap()able: too old */
	if (!err)
		err = kvmlat_bpf__attach(skel);
	if (err) {
		kvmlat_bpf__destroy(skel);
		return err < 0 ? err : -EINVAL;
	}
	l->skel = skel;
	l->attached = how;
	return 0;
}

int kvmw_lat_open(struct kvmw_lat **out, enum kvmw_lat_attach how)
{
	struct kvmw_lat *l;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (how != KVMW_LAT_ATTACH_AUTO && how != KVMW_LAT_ATTACH_BTF &&
	    how != KVMW_LAT_ATTACH_TRACEPOINT)
		return -EINVAL;

	kvmw_lat_setup_print();
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;

	err = -EOPNOTSUPP;
	if (how != KVMW_LAT_ATTACH_TRACEPOINT)
		err = kvmw_lat_try(l, KVMW_LAT_ATTACH_BTF);
	if (err && how != KVMW_LAT_ATTACH_BTF) {
		kvmw_lat_ensure_tracefs();
		err = kvmw_lat_try(l, KVMW_LAT_ATTACH_TRACEPOINT);
	}
	if (err) {
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

enum kvmw_lat_attach kvmw_lat_attached(const struct kvmw_lat *l)
{
	return l ? l->attached : KVMW_LAT_ATTACH_AUTO;
}

/* Copy a word that the program may be writing (no tearing: aligned). */
static unsigned long long kvmw_lat_read64(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static unsigned int kvmw_lat_read32(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int kvmw_lat_foreach(struct kvmw_lat *l, unsigned int tgid,
		     void (*cb)(const struct kvmw_lat_stat *s, void *arg),
		     void *arg)
{
	struct kvmlat_bpf__bss *bss;
	unsigned int slot, i;
	int calls = 0;

	if (!l || !cb)
		return -EINVAL;
	bss = l->skel->bss;

	for (slot = 0; slot < KVMLAT_MAX_VCPUS; slot++) {
		const struct kvmlat_vcpu *v = &bss->kvmlat_vcpus[slot];
		unsigned int tid, nr, pending, owner;

		/* tgid is written last: 0 means free or being set up. */
		owner = kvmw_lat_read32(&v->tgid);
		if (!owner || (tgid && owner != tgid))
			continue;
		tid = v->tid;
		nr = kvmw_lat_read32(&v->nr_reasons);
		if (nr > KVMLAT_REASONS)
			nr = KVMLAT_REASONS;
		pending = kvmw_lat_read32(&v->pending);

		for (i = 0; i < nr; i++) {
			const struct kvmlat_entry *e =
				&bss->kvmlat_entries[slot][i];
			struct kvmw_lat_stat s = {
				.tgid = owner,
				.tid = tid,
				.vcpu_id = v->vcpu_id,
				.reason = e->reason,
			};
			unsigned int b;

			s.count = kvmw_lat_read64(&e->count);
			s.in_flight = pending == i + 1;
			s.total_ns = kvmw_lat_read64(&e->total_ns);
			s.min_ns = kvmw_lat_read64(&e->min_ns);
			s.max_ns = kvmw_lat_read64(&e->max_ns);
			if (s.min_ns == ~0ULL)
				s.min_ns = 0;
			for (b = 0; b < KVMW_LAT_BUCKETS; b++)
				s.hist[b] = kvmw_lat_read64(&e->hist[b]);
			cb(&s, arg);
			calls++;
		}
	}
	return calls;
}

unsigned long long kvmw_lat_dropped(struct kvmw_lat *l)
{
	unsigned long long n = 0;
	unsigned int i;

	if (!l)
		return 0;
	for (i = 0; i < KVMLAT_DROP_NR; i++)
		n += kvmw_lat_read64(&l->skel->bss->kvmlat_drops[i]);
	return n;
}

void kvmw_lat_close(struct kvmw_lat *l)
{
	if (!l)
		return;
	kvmlat_bpf__destroy(l->skel);
	free(l);
}
