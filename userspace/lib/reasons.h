/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names of hardware VM-exit reasons.
 *
 * The names come from the kernel's own tables in the UAPI headers
 * <asm/vmx.h> (VMX_EXIT_REASONS) and <asm/svm.h> (SVM_EXIT_REASONS); this
 * file never carries a list of its own.
 */
#ifndef KVMW_REASONS_H
#define KVMW_REASONS_H

#include <stddef.h>
#include <linux/types.h>

struct kvmw_reason_name {
	__u32 code;
	const char *name;
};

/* Big enough for the name of an unknown code ("0xffffffff") and a NUL. */
#define KVMW_REASON_BUF_LEN	16

/*
 * Look up the kernel's name of @code for @vendor (KVMW_VENDOR_*). Returns
 * NULL when the code is not in the vendor's table or the vendor is unknown.
 * KVMW_REASON_UNDECODED gives "UNDECODED" whatever the vendor.
 */
const char *kvmw_reason_lookup(unsigned int vendor, __u32 code);

/*
 * Like kvmw_reason_lookup() but never fails: an unknown code is formatted
 * as its number ("0x1234") into @buf, which is returned.
 */
const char *kvmw_reason_name(unsigned int vendor, __u32 code,
			     char buf[KVMW_REASON_BUF_LEN]);

/* The vendor's table (for tests and for listing); 0 for an unknown vendor. */
size_t kvmw_reason_table(unsigned int vendor,
			 const struct kvmw_reason_name **table);

/* "vmx", "svm" or "unknown". */
const char *kvmw_vendor_name(unsigned int vendor);

#endif /* KVMW_REASONS_H */
