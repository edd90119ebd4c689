// SPDX-License-Identifier: GPL-2.0-only
/*
 * libkvmwarden: its version and the names of the module's features.
 */
#include "compiler.h"
#include "libkvmwarden.h"

#ifndef KVMW_VERSION
#error "KVMW_VERSION comes from the top-level VERSION file (see Makefile)"
#endif

const char *kvmw_version(void)
{
	return KVMW_VERSION;
}

/* Next to the feature bits: one line per KVMW_FEAT_* of the UAPI header. */
static const struct kvmw_feature kvmw_feature_table[] = {
	{ KVMW_FEAT_EXIT_COUNTS,	"exit_counts" },
	{ KVMW_FEAT_REASON_SVM,		"reason_svm" },
	{ KVMW_FEAT_REASON_VMX,		"reason_vmx" },
	{ KVMW_FEAT_VM_LIFETIME,	"vm_lifetime" },
	{ KVMW_FEAT_LATENCY,		"latency" },
	{ KVMW_FEAT_USER_EXITS,		"user_exits" },
	{ KVMW_FEAT_FAULTS,		"faults" },
	{ KVMW_FEAT_SCHED,		"sched" },
	{ KVMW_FEAT_MEM_NUMA,		"mem_numa" },
	{ KVMW_FEAT_EVENTS,		"events" },
	{ KVMW_FEAT_SNAPSHOT_ALL,	"snapshot_all" },
	{ KVMW_FEAT_STATS,		"stats" },
	{ KVMW_FEAT_BUDGET,		"budget" },
	{ KVMW_FEAT_BUDGET_DEFAULT,	"budget_default" },
};

size_t kvmw_features(const struct kvmw_feature **table)
{
	*table = kvmw_feature_table;
	return ARRAY_SIZE(kvmw_feature_table);
}

const char *kvmw_feature_name(__u64 bit)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kvmw_feature_table); i++) {
		if (kvmw_feature_table[i].bit == bit)
			return kvmw_feature_table[i].name;
	}
	return NULL;
}
