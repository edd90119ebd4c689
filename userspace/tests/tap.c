// SPDX-License-Identifier: GPL-2.0-only
/*
 * Minimal TAP output: one "ok"/"not ok" line per check, the plan at the
 * end, then the summary line "N passed, N failed" (", N skipped" when
 * a check could not run here).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static unsigned int nr_run, nr_failed, nr_skipped;

static void vreport(bool ok, const char *file, int line, const char *fmt,
		    va_list ap)
{
	char desc[160], *p;

	nr_run++;
	if (!ok)
		nr_failed++;

	vsnprintf(desc, sizeof(desc), fmt, ap);
	/* One line per test point, whatever the description holds. */
	for (p = desc; *p; p++) {
		if (*p == '\n' || *p == '#')
			*p = ' ';
	}
	printf("%sok %u - %s\n", ok ? "" : "not ", nr_run, desc);
	if (!ok)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
}

void tap_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ok, file, line, fmt, ap);
	va_end(ap);
}

static void report(bool ok, const char *file, int line, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ok, file, line, fmt, ap);
	va_end(ap);
}

void tap_check_str(const char *got, const char *want, const char *file,
		   int line, const char *what)
{
	bool ok = got && want && !strcmp(got, want);

	report(ok, file, line, "%s", what);
	if (!ok)
		printf("#   got '%s', want '%s'\n", got ? got : "(null)",
		       want ? want : "(null)");
}

void tap_check_u64(uint64_t got, uint64_t want, const char *file, int line,
		   const char *what)
{
	report(got == want, file, line, "%s", what);
	if (got != want)
		printf("#   got %llu, want %llu\n", (unsigned long long)got,
		       (unsigned long long)want);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void tap_skip(const char *what, const char *why)
{
	nr_run++;
	nr_skipped++;
	printf("ok %u - %s # SKIP %s\n", nr_run, what, why);
	fflush(stdout);
}

int tap_done(void)
{
	printf("1..%u\n", nr_run);
	if (nr_skipped)
		printf("%u passed, %u failed, %u skipped\n",
		       nr_run - nr_failed - nr_skipped, nr_failed, nr_skipped);
	else
		printf("%u passed, %u failed\n", nr_run - nr_failed,
		       nr_failed);
	return nr_failed ? 1 : 0;
}
