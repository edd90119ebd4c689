// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit reason names: known codes of both vendors, unknown codes, and the
 * kernel tables themselves (non-empty, unique names and codes).
 */
#include <stdio.h>
#include <string.h>

#include <linux/kvmwarden.h>

#include "reasons.h"
#include "tap.h"

static void check_name(unsigned int vendor, __u32 code, const char *want)
{
	char buf[KVMW_REASON_BUF_LEN], what[80];

	snprintf(what, sizeof(what), "%s code 0x%x is %s",
		 kvmw_vendor_name(vendor), code, want);
	CHECK_STR(kvmw_reason_name(vendor, code, buf), want, what);
}

static void check_table(unsigned int vendor, size_t min_entries)
{
	const struct kvmw_reason_name *t;
	size_t n, i, k;
	bool names_ok = true, unique_names = true, unique_codes = true;

	n = kvmw_reason_table(vendor, &t);
	CHECK(n >= min_entries, "%s table has %zu entries (>= %zu)",
	      kvmw_vendor_name(vendor), n, min_entries);
	for (i = 0; i < n; i++) {
		if (!t[i].name || !t[i].name[0]) {
			names_ok = false;
			tap_diag("%s entry %zu has no name",
				 kvmw_vendor_name(vendor), i);
			continue;
		}
		for (k = i + 1; k < n; k++) {
			if (t[k].name && !strcmp(t[i].name, t[k].name)) {
				unique_names = false;
				tap_diag("name %s twice", t[i].name);
			}
			if (t[i].code == t[k].code) {
				unique_codes = false;
				tap_diag("code 0x%x twice", t[i].code);
			}
		}
		/* The lookup finds every entry under its own name. */
		if (kvmw_reason_lookup(vendor, t[i].code) != t[i].name)
			unique_codes = false;
	}
	CHECK(names_ok, "%s: every entry has a non-empty name",
	      kvmw_vendor_name(vendor));
	CHECK(unique_names, "%s: names are unique", kvmw_vendor_name(vendor));
	CHECK(unique_codes, "%s: codes are unique", kvmw_vendor_name(vendor));
}

void test_reasons(void)
{
	const struct kvmw_reason_name *t;
	char buf[KVMW_REASON_BUF_LEN];

	tap_diag("reasons");
	/* VMX basic exit reasons (Intel SDM vol. 3, appendix C). */
	check_name(KVMW_VENDOR_VMX, 0, "EXCEPTION_NMI");
	check_name(KVMW_VENDOR_VMX, 1, "EXTERNAL_INTERRUPT");
	check_name(KVMW_VENDOR_VMX, 10, "CPUID");
	check_name(KVMW_VENDOR_VMX, 12, "HLT");
	check_name(KVMW_VENDOR_VMX, 30, "IO_INSTRUCTION");
	check_name(KVMW_VENDOR_VMX, 31, "MSR_READ");
	check_name(KVMW_VENDOR_VMX, 48, "EPT_VIOLATION");
	check_name(KVMW_VENDOR_VMX, 49, "EPT_MISCONFIG");
	/* SVM exit codes (AMD APM vol. 2, appendix C). */
	check_name(KVMW_VENDOR_SVM, 0x000, "read_cr0");
	check_name(KVMW_VENDOR_SVM, 0x04e, "PF excp");
	check_name(KVMW_VENDOR_SVM, 0x060, "interrupt");
	check_name(KVMW_VENDOR_SVM, 0x072, "cpuid");
	check_name(KVMW_VENDOR_SVM, 0x078, "hlt");
	check_name(KVMW_VENDOR_SVM, 0x07b, "io");
	check_name(KVMW_VENDOR_SVM, 0x07c, "msr");
	check_name(KVMW_VENDOR_SVM, 0x400, "npf");
	check_name(KVMW_VENDOR_SVM, 0xffffffff, "invalid_guest_state");

	/* The vendor matters: VMX's CPUID number is no SVM exit code. */
	check_name(KVMW_VENDOR_SVM, 10, "0xa");
	check_name(KVMW_VENDOR_VMX, 0x72, "0x72");

	/* Unknown codes are shown as numbers, never dropped. */
	check_name(KVMW_VENDOR_VMX, 0x1234, "0x1234");
	check_name(KVMW_VENDOR_SVM, 0x1234, "0x1234");
	check_name(KVMW_VENDOR_VMX, 0xffffffff, "0xffffffff");
	check_name(KVMW_VENDOR_VMX, 0x10000 | 10, "0x1000a");
	check_name(KVMW_VENDOR_UNKNOWN, 10, "0xa");
	check_name(7, 10, "0xa");
	CHECK(!kvmw_reason_lookup(KVMW_VENDOR_VMX, 0x1234),
	      "lookup of an unknown code gives NULL");

	/* Undecoded exits, whatever the vendor. */
	check_name(KVMW_VENDOR_VMX, KVMW_REASON_UNDECODED, "UNDECODED");
	check_name(KVMW_VENDOR_SVM, KVMW_REASON_UNDECODED, "UNDECODED");
	check_name(KVMW_VENDOR_UNKNOWN, KVMW_REASON_UNDECODED, "UNDECODED");

	/* The tables of the kernel headers. */
	check_table(KVMW_VENDOR_VMX, 50);
	check_table(KVMW_VENDOR_SVM, 90);
	CHECK(kvmw_reason_table(KVMW_VENDOR_UNKNOWN, &t) == 0 && !t,
	      "no table for an unknown vendor");
	CHECK(kvmw_reason_lookup(KVMW_VENDOR_SVM, KVMW_REASON_UNDECODED) &&
	      strcmp(kvmw_reason_name(KVMW_VENDOR_SVM, 0xfffffffd, buf),
		     "0xfffffffd") == 0,
	      "codes next to UNDECODED are numbers");

	CHECK_STR(kvmw_vendor_name(KVMW_VENDOR_VMX), "vmx", "vendor vmx");
	CHECK_STR(kvmw_vendor_name(KVMW_VENDOR_SVM), "svm", "vendor svm");
	CHECK_STR(kvmw_vendor_name(0), "unknown", "vendor 0 is unknown");
}
