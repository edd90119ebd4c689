// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit test runner: TAP on stdout, then "N passed, N failed".
 *
 *   kvmw_tests                   run every test
 *   kvmw_tests --fixture WHICH   print the fixture as list-table,
 *                                list-json, stat-table, stat-json or
 *                                stat-vcpus
 */
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "tap.h"

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--fixture"))
		return fixture_print(argv[2]) ? 1 : 0;
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--fixture WHICH]\n", argv[0]);
		return 2;
	}

	puts("TAP version 13");
	test_reasons();
	test_categories();
	test_json();
	test_stats();
	test_latency();
	test_faults();
	test_sched();
	test_args();
	test_format();
	test_dev();
	test_events();
	test_schema();
	return tap_done();
}
