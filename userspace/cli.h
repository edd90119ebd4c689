/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvmwarden command line: global options, the command table and the
 * helpers the commands share.
 *
 * Adding a command (top, budget, numa, events, export, record, report):
 * write cmd_NAME.c with a run and a usage function, declare them below and
 * add a line to the table in cli.c.
 */
#ifndef KVMW_CLI_H
#define KVMW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "compiler.h"
#include "libkvmwarden.h"

struct kvmw_dev;
struct kvmw_dev_ops;

/* Exit codes, documented in --help. */
#define KVMW_EXIT_OK		0
#define KVMW_EXIT_RUNTIME	1
#define KVMW_EXIT_USAGE		2
/* The VM named is not tracked, or gone. */
#define KVMW_EXIT_NO_VM		3
/* Not allowed: needs root / CAP_SYS_ADMIN, or the device's permissions. */
#define KVMW_EXIT_PERM		4

/* Returned by the commands' parsers when the command should go on. */
#define KVMW_CONTINUE		(-1)

/* Longest interval accepted by -i, in seconds (one day). */
#define KVMW_MAX_INTERVAL	86400.0

struct kvmw_ctx {
	const char *prog;
	const char *device;
	/* Where the VMMs' command lines are read (/proc; tests: a fake). */
	const char *proc;
	/* NULL for the real system calls; tests put a fake here. */
	const struct kvmw_dev_ops *ops;
	FILE *out;
	FILE *err;
};

struct kvmw_cmd {
	const char *name;
	const char *summary;
	/* argv[0] is the command name. Returns a KVMW_EXIT_* code. */
	int (*run)(struct kvmw_ctx *ctx, int argc, char **argv);
	void (*usage)(FILE *f);
};

/*
 * Runs the command line; returns the exit code. @ops is NULL for the real
 * device. Usable more than once per process (tests call it repeatedly).
 */
int kvmw_main(int argc, char **argv, FILE *out, FILE *err,
	      const struct kvmw_dev_ops *ops);

/* Argument parsers: 0 on success, -EINVAL on a bad value. */
int kvmw_parse_interval(const char *s, double *sec);
int kvmw_parse_uint(const char *s, unsigned long max, unsigned long *v);
/* A VM id: decimal, or hexadecimal with 0x; never 0. */
int kvmw_parse_vmid(const char *s, __u64 *id);

/* Prints "prog: <message>" and the hint to run CMD --help. */
int kvmw_usage_error(struct kvmw_ctx *ctx, const char *cmd,
		     const char *fmt, ...) __printf(3, 4);
/* Prints "prog: <message>" to ctx->err. */
void kvmw_error(struct kvmw_ctx *ctx, const char *fmt, ...) __printf(2, 3);

/*
 * Reports an error from getopt_long() for @cmd (bad option, missing
 * argument). Returns KVMW_EXIT_USAGE.
 */
int kvmw_getopt_error(struct kvmw_ctx *ctx, const char *cmd, int c,
		      char **argv);

/*
 * Opens the data source (the device) with KVMW_SRC_* @flags; on error
 * prints what went wrong and how to fix it (modprobe, permissions, API
 * version) and returns its KVMW_EXIT_* code (0 when open).
 */
int kvmw_open_source_flags(struct kvmw_ctx *ctx, struct kvmw_source *src,
			   unsigned int flags);

/*
 * The one VM of @snap that @arg names (see kvmw_vm_ref_parse()); prints
 * why not on ctx->err: not tracked or gone (KVMW_EXIT_NO_VM), several
 * match (listed; KVMW_EXIT_USAGE), a bad reference (KVMW_EXIT_USAGE).
 * Returns 0 with *@vm set, or the exit code.
 */
int kvmw_resolve_vm(struct kvmw_ctx *ctx, const char *cmd,
		    const struct kvmw_snapshot *snap, const char *arg,
		    const struct kvmw_vm **vm);
/*
 * The VMs that @nr_args references @args name, each once, in order, or
 * every live VM of @snap when there are none, into @vms (room for
 * snap->nr_vms entries), *@nr of them. Returns 0 or an exit code as
 * kvmw_resolve_vm().
 */
int kvmw_resolve_vms(struct kvmw_ctx *ctx, const char *cmd,
		     const struct kvmw_snapshot *snap, char **args,
		     size_t nr_args, const struct kvmw_vm **vms, size_t *nr);
/*
 * Opens the source with KVMW_SRC_* @flags and finds the one VM @arg
 * names (a summary snapshot, names from ctx->proc). Returns 0 with the
 * source open and *@vm_id set, or an exit code (source closed).
 */
int kvmw_open_vm(struct kvmw_ctx *ctx, const char *cmd, const char *arg,
		 unsigned int flags, struct kvmw_source *src, __u64 *vm_id);

/* Prints a device error other than at open time. */
void kvmw_dev_error(struct kvmw_ctx *ctx, const char *what, int err);

/* Warns on ctx->err when the module lost exits (capacity problem). */
void kvmw_warn_untracked(struct kvmw_ctx *ctx, const struct kvmw_host *host);

/* The commands. */
int kvmw_cmd_list(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_list(FILE *f);
int kvmw_cmd_stat(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_stat(FILE *f);
int kvmw_cmd_events(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_events(FILE *f);
int kvmw_cmd_budget(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_budget(FILE *f);
int kvmw_cmd_numa(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_numa(FILE *f);
int kvmw_cmd_exporter(struct kvmw_ctx *ctx, int argc, char **argv);
void kvmw_usage_exporter(FILE *f);

/* Options of the stat command, split from running it for the tests. */
struct kvmw_stat_args {
	double interval;
	unsigned int top;
	bool json;
	/* -l: the detail lines under each VM. */
	bool detail;
	/* -v VMID: that VM per vCPU; it is then the one entry of @ids. */
	bool vcpus;
	__u64 *ids;
	size_t nr_ids;
	/* VMs named otherwise than by id, resolved once the source is open. */
	char **refs;
	size_t nr_refs;
};

void kvmw_stat_args_free(struct kvmw_stat_args *a);

/*
 * Parses stat's arguments into @a (kvmw_stat_args_free()); VMs named by
 * id go to @ids, the others to @refs. Returns KVMW_CONTINUE, or
 * an exit code when done (help printed, usage error).
 */
int kvmw_stat_parse(struct kvmw_ctx *ctx, int argc, char **argv,
		    struct kvmw_stat_args *a);

/* Options of the events command. */
struct kvmw_events_args {
	bool json;
	/* Events to print before exiting; 0: no limit. */
	unsigned long count;
	/* Seconds before exiting; < 0: no limit. */
	double timeout;
};

/*
 * Parses budget set's arguments (argv[0] "set") into @cfg, checked
 * against the UAPI's limits, and the VM argument into @vm. Returns
 * KVMW_CONTINUE, or an exit code when done (help, usage error).
 */
int kvmw_budget_parse_set(struct kvmw_ctx *ctx, int argc, char **argv,
			  struct kvmw_budget_cfg *cfg, const char **vm);

/*
 * Parses numa set's arguments (argv[0] "set": VM, policy, nodes,
 * options) into @cfg, checked against the UAPI's limits, and the VM
 * argument into @vm (NULL on entry). Returns KVMW_CONTINUE, or an exit
 * code when done (help, usage error).
 */
int kvmw_numa_parse_set(struct kvmw_ctx *ctx, int argc, char **argv,
			struct kvmw_numa_cfg *cfg, const char **vm);

/* Parses events' arguments, as kvmw_stat_parse(). */
int kvmw_events_parse(struct kvmw_ctx *ctx, int argc, char **argv,
		      struct kvmw_events_args *a);

#endif /* KVMW_CLI_H */
