// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit reason names, built from the kernel's UAPI tables.
 *
 * <asm/svm.h> names the exception intercepts as SVM_EXIT_EXCP_BASE +
 * DE_VECTOR etc.; the *_VECTOR constants come from <asm/kvm.h>, so that
 * header must come first.
 */
#include <stdio.h>

#include <asm/kvm.h>
#include <asm/svm.h>
#include <asm/vmx.h>
#include <linux/kvmwarden.h>

#include "compiler.h"
#include "reasons.h"

static const struct kvmw_reason_name vmx_names[] = {
	VMX_EXIT_REASONS
};

/* SVM_EXIT_ERR is -1 in the header: it becomes 0xffffffff here. */
static const struct kvmw_reason_name svm_names[] = {
	SVM_EXIT_REASONS
};

size_t kvmw_reason_table(unsigned int vendor,
			 const struct kvmw_reason_name **table)
{
	switch (vendor) {
	case KVMW_VENDOR_VMX:
		*table = vmx_names;
		return ARRAY_SIZE(vmx_names);
	case KVMW_VENDOR_SVM:
		*table = svm_names;
		return ARRAY_SIZE(svm_names);
	default:
		*table = NULL;
		return 0;
	}
}

const char *kvmw_reason_lookup(unsigned int vendor, __u32 code)
{
	const struct kvmw_reason_name *table;
	size_t i, n;

	if (code == KVMW_REASON_UNDECODED)
		return "UNDECODED";

	/* The tables hold about a hundred entries: a linear scan is fine. */
	n = kvmw_reason_table(vendor, &table);
	for (i = 0; i < n; i++) {
		if (table[i].code == code)
			return table[i].name;
	}
	return NULL;
}

const char *kvmw_reason_name(unsigned int vendor, __u32 code,
			     char buf[KVMW_REASON_BUF_LEN])
{
	const char *name = kvmw_reason_lookup(vendor, code);

	if (name)
		return name;
	snprintf(buf, KVMW_REASON_BUF_LEN, "0x%x", code);
	return buf;
}

const char *kvmw_vendor_name(unsigned int vendor)
{
	switch (vendor) {
	case KVMW_VENDOR_VMX:
		return "vmx";
	case KVMW_VENDOR_SVM:
		return "svm";
	default:
		return "unknown";
	}
}
