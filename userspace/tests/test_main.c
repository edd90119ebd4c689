// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit test runner: TAP on stdout, then "N passed, N failed".
 *
 *   kvmw_tests                   run every test
 *   kvmw_tests --fixture WHICH   print the fixture as list-table,
 *                                list-json, stat-table, stat-json or
 *                                stat-vcpus
 *   kvmw_tests --fake-cli N ARG...  run `kvmwarden ARG...` against a
 *                                fake module with one VM of N vCPUs
 *                                and every feature (fake_add_big_vm()),
 *                                output on stdout: for instruction
 *                                counts (valgrind --tool=callgrind)
 *   kvmw_tests --fake-cli-stats N ARG...  the same through the
 *                                self-describing statistics
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "helpers.h"
#include "tap.h"

/* tests/test_exporter.c */
void test_exporter(void);
int exporter_fixture_print(FILE *f, const char *which);
int exporter_bench(int argc, char **argv);

/* The command line on a fake module with one VM of many vCPUs. */
static int fake_cli(int argc, char **argv, __u64 features)
{
	static struct fake_dev f;
	int ret;

	fake_init(&f);
	f.hs.features = FEAT_ALL | features;
	fake_add_big_vm(&f, 1, strtoul(argv[0], NULL, 0));
	argv[0] = "kvmwarden";
	ret = kvmw_main(argc, argv, stdout, stderr, &f.ops);
	fake_free(&f);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--fake-cli"))
		return fake_cli(argc - 2, argv + 2, KVMW_FEAT_SNAPSHOT_ALL);
	if (argc >= 3 && !strcmp(argv[1], "--fake-cli-stats"))
		return fake_cli(argc - 2, argv + 2, KVMW_FEAT_STATS);
	if (argc >= 2 && !strcmp(argv[1], "--exporter-bench"))
		return exporter_bench(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "--exporter-fixture"))
		return exporter_fixture_print(stdout, argv[2]) ? 1 : 0;
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
	test_stats_dev();
	test_events();
	test_budget();
	test_numa();
	test_schema();
	test_exporter();
	return tap_done();
}
