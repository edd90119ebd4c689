/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output of the list and stat commands, as a table or as JSON. Works on
 * plain structs only (no device access), so it is tested on fixtures.
 */
#ifndef KVMW_FORMAT_H
#define KVMW_FORMAT_H

#include <stdio.h>

#include "libkvmwarden.h"

struct kvmw_stat_opts {
	/*
	 * Reasons shown per VM (or vCPU) in the table, in the TOP REASONS
	 * column and in the reason tables; 0: one line per VM and no reason
	 * tables. JSON always has them all.
	 */
	unsigned int top;
	/* Seconds between the two samples; 0 when there is no rate. */
	double interval;
	/*
	 * The detail lines under each VM: categories, time, faults,
	 * scheduler and memory (stat -l).
	 */
	bool detail;
};

/*
 * Version of the JSON documents of list and stat, described by
 * kvmwarden-stat.schema.json and kvmwarden-list.schema.json: bumped when
 * a key changes meaning or goes away (added keys keep it).
 */
#define KVMW_JSON_SCHEMA_VERSION	1

/* The functions return 0 or -EIO (write error on @f). */
int kvmw_print_list_table(FILE *f, const struct kvmw_snapshot *snap);
int kvmw_print_list_json(FILE *f, const struct kvmw_snapshot *snap);

int kvmw_print_stat_table(FILE *f, const struct kvmw_snapshot *cur,
			  const struct kvmw_delta_vm *rows, size_t nr,
			  const struct kvmw_stat_opts *opts);
int kvmw_print_stat_json(FILE *f, const struct kvmw_snapshot *cur,
			 const struct kvmw_delta_vm *rows, size_t nr,
			 const struct kvmw_stat_opts *opts);
/*
 * stat -v: the VM of @row, then a table of its vCPUs (exits, entries and
 * times) and each vCPU's reason table.
 */
int kvmw_print_stat_vcpus(FILE *f, const struct kvmw_snapshot *cur,
			  const struct kvmw_delta_vm *row,
			  const struct kvmw_stat_opts *opts);

/* Room for any kvmw_fmt_ns() text ("18446744074s") and its NUL. */
/* One VM of budget show. */
struct kvmw_budget_row {
	const struct kvmw_vm *vm;
	/* As read back (KVMW_BUDGET_OFF: no budget). */
	struct kvmw_budget_cfg cfg;
	/* Its statistics (stats.known false: not measured). */
	struct kvmw_budget_stats stats;
	/* Gone between the snapshot and the read. */
	bool gone;
};

int kvmw_print_budget_table(FILE *f, const struct kvmw_budget_row *rows,
			    size_t nr);
int kvmw_print_budget_json(FILE *f, const struct kvmw_budget_row *rows,
			   size_t nr);

/* A VM name for a table: "-" for none, unprintable bytes as '?'. */
void kvmw_name_for_tty(const char *in, char out[KVMW_VM_NAME_MAX]);

#define KVMW_NS_BUF_LEN	16

/*
 * A duration for a table: "999ns", "1.02us", "16.4us", "102ms", "2.15s",
 * three significant digits from 1 us up. Returns @buf.
 */
const char *kvmw_fmt_ns(__u64 ns, char buf[KVMW_NS_BUF_LEN]);

/*
 * Copies a comm for a terminal: at most 16 bytes, up to the first NUL,
 * bytes outside printable ASCII replaced by '?', "-" when empty.
 */
void kvmw_comm_for_tty(const __u8 comm[16], char out[17]);

#endif /* KVMW_FORMAT_H */
