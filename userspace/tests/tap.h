/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal TAP producer for the kvmwarden unit tests.
 */
#ifndef KVMW_TAP_H
#define KVMW_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

void tap_check(bool ok, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);
void tap_check_str(const char *got, const char *want, const char *file,
		   int line, const char *what);
void tap_check_u64(uint64_t got, uint64_t want, const char *file, int line,
		   const char *what);
void tap_diag(const char *fmt, ...) __printf(1, 2);
/* A check that cannot run on this machine: "ok N - what # SKIP why". */
void tap_skip(const char *what, const char *why);
/* Prints the plan and the summary line; returns the exit code. */
int tap_done(void);

#define CHECK(cond, ...)	tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_STR(got, want, what) \
	tap_check_str((got), (want), __FILE__, __LINE__, (what))
#define CHECK_U64(got, want, what) \
	tap_check_u64((got), (want), __FILE__, __LINE__, (what))

/* The test groups (one per file). */
void test_reasons(void);
void test_categories(void);
void test_json(void);
void test_stats(void);
void test_latency(void);
void test_faults(void);
void test_sched(void);
void test_events(void);
void test_args(void);
void test_format(void);
void test_dev(void);
void test_stats_dev(void);
void test_schema(void);
void test_budget(void);
void test_numa(void);

#endif /* KVMW_TAP_H */
