/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running the kvmwarden command line from a selftest: the installed
 * binary (the test VM's /bin/kvmwarden), its exit code and its output.
 */
#ifndef KVMW_CLI_RUN_H
#define KVMW_CLI_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CLI_OUT_MAX	65536

struct cli_run {
	/* Exit code, or 128 + the signal that ended it. */
	int status;
	/* Standard output and error, NUL-terminated, cut at CLI_OUT_MAX - 1. */
	char out[CLI_OUT_MAX];
	char err[CLI_OUT_MAX];
};

/* Runs so far in this process and the wall time they took (ns). */
extern unsigned int cli_runs;
extern uint64_t cli_run_ns;

/*
 * Runs "kvmwarden ARGS..." (NULL-terminated, at most 30) as user @uid
 * (0: as this process is), reading both outputs as they come. Returns 0
 * with c->status set, or -errno when it could not run.
 */
int cli_run(struct cli_run *c, uid_t uid, ...) __attribute__((sentinel));

#endif /* KVMW_CLI_RUN_H */
