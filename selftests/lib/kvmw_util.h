/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers around /dev/kvmwarden (include/uapi/linux/kvmwarden.h), hardware
 * exit reason codes, and kernel module loading for the selftests.
 */
#ifndef KVMW_SELFTEST_KVMW_UTIL_H
#define KVMW_SELFTEST_KVMW_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uapi/linux/kvmwarden.h>

#include "libkvmwarden.h"

#include "kvm_util.h"

#define KVMW_SYSFS_DEV		"/sys/class/misc/kvmwarden/dev"
#define KVMW_MODULE_NAME	"kvmwarden"
#define KVMW_MODULE_DEFAULT	"/lib/kvmwarden/kvmwarden.ko"

/* Exit kinds the tests count, mapped to each vendor's reason code. */
enum exit_kind {
	EXIT_KIND_CPUID,
	EXIT_KIND_HLT,
	EXIT_KIND_IO,
	EXIT_KIND_MSR_READ,	/* SVM: same code as MSR_WRITE */
	EXIT_KIND_MSR_WRITE,
	EXIT_KIND_HYPERCALL,
	EXIT_KIND_NPF,		/* SVM NPF, VMX EPT violation */
	EXIT_KIND_NPF_MMIO,	/* VMX EPT misconfig; none on SVM */
	EXIT_KIND_INTR,		/* external interrupt */
	EXIT_NR_KINDS,
};

#define REASON_NONE	0xffffffffU

uint32_t exit_reason_code(enum kvm_vendor vendor, enum exit_kind kind);
/* libkvmwarden's name of a reason code (its one table), "?" if unknown. */
const char *exit_reason_name(enum kvm_vendor vendor, uint32_t reason);

int kvmw_open(void);
int kvmw_ensure_devnode(const char *node, const char *sysfs_dev,
			int timeout_ms);

/*
 * The tests read kvmwarden's numbers as every other consumer does:
 * through libkvmwarden's device source and its model (userspace/lib).
 */
int kvmw_src_open(struct kvmw_source *src);
int kvmw_test_src(struct kvmw_source *src, uint64_t features,
		  const char *what, char *why, size_t size);
int kvmw_src_info(struct kvmw_source *src);
int kvmw_take(struct kvmw_source *src, struct kvmw_snapshot *snap);
int kvmw_take_vm(struct kvmw_source *src, uint64_t vm_id,
		 struct kvmw_snapshot *snap, const struct kvmw_vm **vm);
int kvmw_take_vmm(struct kvmw_source *src, pid_t pid, const pid_t *tids,
		  int nr_tids, struct kvmw_snapshot *snap,
		  const struct kvmw_vm **vm);
int kvmw_take_kvm_vm(struct kvmw_source *src, struct kvm_vm *vm,
		     struct kvmw_snapshot *snap, const struct kvmw_vm **out);
int kvmw_take_vcpu(struct kvmw_source *src, struct kvm_vcpu *vcpu,
		   struct kvmw_snapshot *snap, const struct kvmw_vcpu **out);
uint64_t kvmw_vcpu_count(const struct kvmw_vm *vm, uint32_t vcpu_id,
			 uint32_t reason);

/*
 * API 1 (KVMW_IOC_LIST_VMS, KVMW_IOC_VM_SNAPSHOT) as it is: only for the
 * tests whose subject is that ABI (uapi, fuzz_uapi, stats, which checks
 * the statistics against it) and for scale until it moves to the model.
 * They go with the v1 ioctls. The array queries are libkvmwarden's.
 */

/**
 * struct kvmw_snap - a KVMW_IOC_VM_SNAPSHOT answer
 * @hdr: the ioctl argument as returned (hdr.vm: the VM's summary)
 * @vcpus: hdr.nr_vcpus vCPUs
 * @reasons: hdr.nr_reasons (vCPU, reason) counts
 */
struct kvmw_snap {
	struct kvmw_vm_snapshot hdr;
	struct kvmw_vcpu_info *vcpus;
	struct kvmw_reason_stat *reasons;
};

int kvmw_handshake(int fd, struct kvmw_handshake *hs);
int kvmw_list_vms(int fd, struct kvmw_vm_info **vms, uint32_t *nr);
int kvmw_snapshot(int fd, uint64_t vm_id, struct kvmw_snap *s);
void kvmw_snap_free(struct kvmw_snap *s);
int kvmw_snap_vcpu_by_tid(const struct kvmw_snap *s, pid_t tid);
uint64_t kvmw_snap_count(const struct kvmw_snap *s, int vcpu_index,
			 uint32_t reason);
int kvmw_find_vm(int fd, pid_t pid, const pid_t *tids, int nr_tids,
		 struct kvmw_snap *s);
int kvmw_find_kvm_vm(int fd, struct kvm_vm *vm, struct kvmw_snap *s);
int kvmw_test_open(uint64_t features, const char *what, char *why,
		   size_t size);

int module_load(const char *path, const char *params);
int module_unload(const char *name, int timeout_ms);
bool module_loaded(const char *name);
void module_name_from_path(const char *path, char *name, size_t size);
const char *kvmw_module_path(void);

bool kvm_backend_is_hw(void);
int sysctl_write(const char *path, const char *val, char *old, size_t size);

/* Small helpers shared by the test programs. */
double util_now_ms(void);
void util_sleep_ms(int ms);
uint64_t util_now_ns(void);
void util_sleep_ns(uint64_t ns);
struct kvm_vcpu;
int util_cpuid_exits(struct kvm_vcpu *vcpu, uint64_t *n);
int util_budget_set(int fd, struct kvmw_budget *b);
int util_budget_get(int fd, uint64_t vm_id, struct kvmw_budget *b);
int util_write_str(const char *path, const char *val);
int util_read_str(const char *path, char *buf, size_t size);

#endif /* KVMW_SELFTEST_KVMW_UTIL_H */
