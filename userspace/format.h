/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output of the list and stat commands, as a table or as JSON. Works on
 * plain structs only (no device access), so it is tested on fixtures.
 */
#ifndef KVMW_FORMAT_H
#define KVMW_FORMAT_H

#include <stdio.h>

#include "stats.h"

struct kvmw_stat_opts {
	/* Reasons shown per VM in the table (JSON always has them all). */
	unsigned int top;
	/* Seconds between the two samples; 0 when there is no rate. */
	double interval;
};

/* The functions return 0, -ENOMEM or -EIO (write error on @f). */
int kvmw_print_list_table(FILE *f, const struct kvmw_vm_info *vms,
			  size_t nr);
int kvmw_print_list_json(FILE *f, const struct kvmw_handshake *hs,
			 const struct kvmw_vm_info *vms, size_t nr);

int kvmw_print_stat_table(FILE *f, const struct kvmw_sample *cur,
			  const struct kvmw_stat_row *rows, size_t nr,
			  const struct kvmw_stat_opts *opts);
int kvmw_print_stat_json(FILE *f, const struct kvmw_sample *cur,
			 const struct kvmw_stat_row *rows, size_t nr,
			 const struct kvmw_stat_opts *opts);

/*
 * Copies a comm for a terminal: at most 16 bytes, up to the first NUL,
 * bytes outside printable ASCII replaced by '?', "-" when empty.
 */
void kvmw_comm_for_tty(const __u8 comm[16], char out[17]);

#endif /* KVMW_FORMAT_H */
