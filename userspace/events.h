/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events of a source's stream (struct kvmw_ev of libkvmwarden) as lines
 * of text or JSON. No source access here.
 */
#ifndef KVMW_EVENTS_H
#define KVMW_EVENTS_H

#include <stdbool.h>
#include <stdio.h>

#include "libkvmwarden.h"

/*
 * One event as a line: text ("12.345678 vm_new seq=1 vm=3 pid=4242 ...")
 * or a JSON object on one line. VM_GONE has the VM's final totals; those
 * the module does not measure (per @features, KVMW_FEAT_*) are "-" or
 * null. An unknown type is printed by number with its raw data. Returns
 * 0 or -EIO.
 */
int kvmw_print_event(FILE *f, const struct kvmw_ev *ev, __u64 features,
		     bool json);

/* "lost N events" (or its JSON line) for a record with ev->lost > 0. */
int kvmw_print_events_lost(FILE *f, const struct kvmw_ev *ev, bool json);

#endif /* KVMW_EVENTS_H */
