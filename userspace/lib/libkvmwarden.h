/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libkvmwarden: the one userspace model of kvmwarden's numbers, for the
 * command line tool and every other consumer (top, exporter, record).
 */
#ifndef LIBKVMWARDEN_H
#define LIBKVMWARDEN_H

#include <stddef.h>
#include <linux/types.h>

#include "json.h"
#include "kvmw_dev.h"
#include "reasons.h"
#include "sample.h"
#include "stats.h"

/* The version of the tools and library: the top-level VERSION file. */
const char *kvmw_version(void);

/* A feature bit of the module and its name, as "features" shows it. */
struct kvmw_feature {
	__u64 bit;
	const char *name;
};

/* The table of known features, in bit order; returns its length. */
size_t kvmw_features(const struct kvmw_feature **table);
/* The name of feature @bit (one bit), NULL when unknown. */
const char *kvmw_feature_name(__u64 bit);

#endif /* LIBKVMWARDEN_H */
