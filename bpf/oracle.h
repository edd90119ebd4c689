/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmwarden test oracle: an independent count of KVM exits made by a BPF
 * program on the kvm:kvm_exit tracepoint (exitcount.bpf.c), for the
 * selftests to compare the kernel module's numbers with.
 *
 * Counting starts at kvmw_oracle_open() and covers every VM on the host.
 * Needs root (CAP_BPF + CAP_PERFMON), kernel BTF including the kvm module's
 * (/sys/kernel/btf/kvm: the kvm module must be loaded first) and tracefs;
 * kvmw_oracle_open() mounts tracefs on /sys/kernel/tracing when neither it
 * nor debugfs is mounted.
 *
 * Link: liboracle.a -lbpf -lelf -lz
 */
#ifndef __KVMW_ORACLE_H
#define __KVMW_ORACLE_H

#ifdef __cplusplus
extern "C" {
#endif

struct kvmw_oracle;

/* Open the skeleton, load and attach the program: 0 or -errno. */
int kvmw_oracle_open(struct kvmw_oracle **out);

/*
 * Exits seen for this vCPU thread (tgid, tid) and raw reason (VMX basic
 * exit reason or SVM exit code), summed over vCPU ids: 0 if none, or on
 * error.
 */
unsigned long long kvmw_oracle_count(struct kvmw_oracle *o, unsigned int tgid,
				     unsigned int tid, unsigned int reason);

/*
 * Call cb for every (tid, vcpu_id, reason, count) counted for this tgid;
 * returns the number of entries or -errno.
 */
int kvmw_oracle_foreach(struct kvmw_oracle *o, unsigned int tgid,
			void (*cb)(unsigned int tid, unsigned int vcpu_id,
				   unsigned int reason,
				   unsigned long long count, void *arg),
			void *arg);

/* Number of updates dropped because the map was full. */
unsigned long long kvmw_oracle_dropped(struct kvmw_oracle *o);

/* Detach, unload and free; NULL is allowed. */
void kvmw_oracle_close(struct kvmw_oracle *o);

#ifdef __cplusplus
}
#endif

#endif /* __KVMW_ORACLE_H */
