/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event stream of /dev/kvmwarden (struct kvmw_event records read()
 * from the device): decoding the records as the UAPI says and printing
 * them as lines of text or JSON. No device access here.
 */
#ifndef KVMW_EVENTS_H
#define KVMW_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/kvmwarden.h>

/*
 * Decodes the record at @buf, of which @len bytes were read. Records are
 * as long as their @size says, at least KVMW_EVENT_SIZE_VER0: a longer
 * one (a newer module appended fields) is read for the fields this tool
 * knows, the rest skipped. Fills *ev (zeroed beyond what the record
 * has), sets *known to whether its version is KVMW_EVENT_VERSION (a
 * record of another version has an unknown layout: only its size and
 * version are meaningful, it is to be skipped) and returns the bytes
 * the record takes. Returns -EPROTO when no whole, well-formed record
 * starts at @buf (truncated, size below VER0 or beyond @len).
 */
ssize_t kvmw_event_decode(const void *buf, size_t len, struct kvmw_event *ev,
			  bool *known);

/* "vm_new", "vm_gone", "vcpu_new"; NULL for a type this tool does not know. */
const char *kvmw_event_type_name(__u16 type);

/*
 * One event as a line: text ("12.345678 vm_new seq=1 vm=3 pid=4242 ...")
 * or a JSON object on one line. VM_GONE has the VM's final totals; those
 * the module does not measure (per @features, KVMW_FEAT_*) are "-" or
 * null. An unknown type is printed by number with its raw data. Returns
 * 0 or -EIO.
 */
int kvmw_print_event(FILE *f, const struct kvmw_event *ev, __u64 features,
		     bool json);

/* "lost N events" (or its JSON line) for a record with ev->lost > 0. */
int kvmw_print_events_lost(FILE *f, const struct kvmw_event *ev, bool json);

#endif /* KVMW_EVENTS_H */
