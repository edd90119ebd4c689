/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kvmwarden BPF latency backend: per (VMM process, vCPU thread, vCPU id,
 * hardware exit reason) the exits counted and the host time from each
 * exit to the next entry of that vCPU, measured without the kernel module
 * by kvmlat.bpf.c (Documentation/bpf.rst).
 *
 * Accounting starts at kvmw_lat_open() and covers every VM on the host.
 * Needs root (CAP_BPF + CAP_PERFMON), the kernel's BTF including the kvm
 * module's, and, to decode reasons on the tp_btf attachment, the vendor
 * module's (kvm_amd or kvm_intel: load it first).
 *
 * Link: liboracle.a -lbpf -lelf -lz
 */
#ifndef __KVMW_LATENCY_H
#define __KVMW_LATENCY_H

#include <linux/kvmwarden.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kvmw_lat;

/* How the program attaches to kvm_exit and kvm_entry. */
enum kvmw_lat_attach {
	/* tp_btf when the kernel offers it, else classic tracepoints. */
	KVMW_LAT_ATTACH_AUTO = 0,
	/* tp_btf (raw tracepoints with BTF arguments) only. */
	KVMW_LAT_ATTACH_BTF,
	/* Classic tracepoints (tp/kvm/kvm_exit, tp/kvm/kvm_entry) only. */
	KVMW_LAT_ATTACH_TRACEPOINT,
};

/**
 * struct kvmw_lat_stat - one (vCPU, reason) as the BPF program saw it
 * @tgid: VMM process id (initial pid namespace)
 * @tid: vCPU thread id
 * @vcpu_id: KVM vCPU id
 * @reason: VMX basic exit reason, SVM exit code, or KVMW_REASON_UNDECODED
 * @count: exits counted
 * @in_flight: 1 if the vCPU's last exit had this reason and its next
 *	entry has not happened (yet), else 0
 * @total_ns: sum of the exit-to-next-entry times of the timed exits, in
 *	ns of bpf_ktime_get_ns() (CLOCK_MONOTONIC)
 * @min_ns: shortest of them (0 when none was timed)
 * @max_ns: longest of them
 * @hist: timed exits per KVMW_LAT_BUCKETS log2 bucket of ns; the sum is
 *	@count - @in_flight for a vCPU seen from its first exit on
 */
struct kvmw_lat_stat {
	unsigned int tgid;
	unsigned int tid;
	unsigned int vcpu_id;
	unsigned int reason;
	unsigned long long count;
	unsigned long long in_flight;
	unsigned long long total_ns;
	unsigned long long min_ns;
	unsigned long long max_ns;
	unsigned long long hist[KVMW_LAT_BUCKETS];
};

/* Open, load and attach: 0 or -errno. */
int kvmw_lat_open(struct kvmw_lat **out, enum kvmw_lat_attach how);

/* The attachment in use: KVMW_LAT_ATTACH_BTF or _TRACEPOINT. */
enum kvmw_lat_attach kvmw_lat_attached(const struct kvmw_lat *l);

/*
 * Call cb for every (vCPU, reason) of process tgid (all processes when
 * tgid is 0). Reads the program's memory-mapped tables: figures of a
 * running vCPU may be mid-update. Returns the number of calls or -errno.
 */
int kvmw_lat_foreach(struct kvmw_lat *l, unsigned int tgid,
		     void (*cb)(const struct kvmw_lat_stat *s, void *arg),
		     void *arg);

/* Exits not accounted: no free vCPU slot or reason entry. */
unsigned long long kvmw_lat_dropped(struct kvmw_lat *l);

/* Detach, unload and free; NULL is allowed. */
void kvmw_lat_close(struct kvmw_lat *l);

#ifdef __cplusplus
}
#endif

#endif /* __KVMW_LATENCY_H */
