// SPDX-License-Identifier: GPL-2.0
/*
 * kvmw-feature: GUP_FAST_ONLY
 * kvmw-needs: get_user_page_fast_only() and page_folio()
 *
 * kmod/kvmw_kvm.c finds the NUMA node of a VMM page with the lockless GUP
 * walk only (it runs where it must not sleep) and tells the VMM's own
 * pages from the shared zero pages by their folio's mapping.
 */
#include <linux/mm.h>

static_assert(__same_type(&get_user_page_fast_only,
			  bool (*)(unsigned long addr, unsigned int gup_flags,
				   struct page **pagep)));

static bool __maybe_unused kvmw_probe_owned(struct page *page)
{
	return READ_ONCE(page_folio(page)->mapping);
}
