// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table and JSON output of list and stat, from the fixture (plain
 * structs, no device).
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "helpers.h"
#include "json_check.h"
#include "tap.h"

struct buf {
	char *s;
	size_t len;
	FILE *f;
};

static void buf_open(struct buf *b)
{
	b->s = NULL;
	b->len = 0;
	b->f = open_memstream(&b->s, &b->len);
	if (!b->f)
		abort();
}

static void buf_close(struct buf *b)
{
	fclose(b->f);
	b->f = NULL;
}

/* The line of the table that starts with VM id @id. */
static char *line_of(const char *table, const char *id)
{
	const char *p = table;
	size_t n = strlen(id);

	while (p && *p) {
		const char *q = p + strspn(p, " ");
		const char *nl = strchr(p, '\n');

		if (!strncmp(q, id, n) && q[n] == ' ')
			return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl ? nl + 1 : NULL;
	}
	return strdup("");
}

static void check_line(const char *table, const char *id, const char *has,
		       const char *what)
{
	char *line = line_of(table, id);

	CHECK(strstr(line, has), "%s: VM %s line has '%s'", what, id, has);
	if (!strstr(line, has))
		tap_diag("line: '%s'", line);
	free(line);
}

static void test_stat_table(struct fixture *fx,
			    const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	struct buf b;
	int ret;

	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0, "stat table printed");
	CHECK(!strncmp(b.s, "  VMID", 6) && strstr(b.s, "EXITS/s") &&
	      strstr(b.s, "TOP REASONS"), "stat table header");
	check_line(b.s, "1", "qemu-system-x86", "stat");
	check_line(b.s, "1", "CPUID 81.2%, HLT 10.0%, EPT_VIOLATION 5.0%",
		   "top 3 reasons with shares");
	check_line(b.s, "1", "1000", "total exits");
	check_line(b.s, "1", "500.0", "exits/s");
	check_line(b.s, "1", "live", "state");
	check_line(b.s, "2", "a\"b\\c??????xyzwv ", "comm made safe for a tty");
	check_line(b.s, "2", "gone", "gone VM");
	check_line(b.s, "2", "0x1234 60.0%, UNDECODED 40.0%",
		   "unknown code as number, UNDECODED");
	check_line(b.s, "3", "npf 74.8%, hlt 24.9%, invalid_guest_state 0.2%",
		   "SVM names");
	check_line(b.s, "3", "401.0", "new VM rate");
	check_line(b.s, "4", "short-lived", "vanished VM still shown");
	check_line(b.s, "4", " - ", "vanished VM: unknown rate");
	CHECK(strstr(b.s, "EPT_VIOLATION 5.0%\n                 categories: "
		      "cpuid 81.2%, halt 10.0%, npf 5.0%, io 3.8%\n"),
	      "VMX categories on a line under the VM, largest first");
	CHECK(strstr(b.s, "UNDECODED 40.0%\n                 categories: "
		      "other 100.0%\n"),
	      "unknown and undecoded reasons are other");
	CHECK(strstr(b.s, "invalid_guest_state 0.2%\n                 "
		      "categories: npf 74.8%, halt 24.9%, other 0.2%\n"),
	      "SVM categories with the same names as VMX");
	CHECK(strstr(b.s, "categories: interrupt 100.0%\n"),
	      "external interrupt is interrupt");
	CHECK(!strchr(b.s, '\x1b') && !strchr(b.s, '\t'),
	      "no control characters reach the terminal");
	check_has(b.s, "io 3.8%\n                 time: guest 1.50s, exits 138ms "
		  "(overhead 1.83ms, idle 136ms, userspace 400us), overhead 0.11%\n",
		  "VM time line: guest, exits split, overhead %");
	check_has(b.s, "other 0.2%\n                 time: guest 400ms, exits 3.29s "
		  "(overhead 900us, idle 3.29s, userspace 0ns), overhead 0.02%, "
		  "untimed exits 1\n", "untimed exits on the time line");
	check_has(b.s, "time: guest 0ns, exits 0ns (overhead 0ns, idle 0ns, "
		  "userspace 0ns), overhead -\n",
		  "no time measured: overhead % is -");
	check_has(b.s, "\nVM 1 (qemu-system-x86): exits by reason\n"
		  "  REASON        CATEGORY         COUNT  SHARE     MEAN      MIN"
		  "      P50      P90      P99    P99.9      MAX  USER%     USER"
		  "  NOTE\n"
		  "  CPUID         cpuid              812  81.2%   1.68us   1.05us"
		  "   2.05us   2.05us   4.10us   20.0us   20.0us      -        -\n"
		  "  HLT           halt               100  10.0%   1.37ms   70.0us"
		  "   2.00ms   2.00ms   2.00ms   2.00ms   2.00ms      -        -"
		  "  idle\n"
		  "  EPT_VIOLATION npf                 50   5.0%   5.00us   4.20us"
		  "   7.90us   7.90us   7.90us   7.90us   7.90us      -        -\n"
		  "  (1 more reason: 38 exits, 3.8%; -n 4 shows all)\n",
		  "VM 1 reason table: vCPUs merged, top 3, the rest summed");
	check_has(b.s, "  hlt                 halt               100  24.9%   33.3ms"
		  "   2.50ms   4.19ms   4.19ms    3.00s    3.00s    3.00s      -"
		  "        -  idle\n",
		  "SVM hlt: p99 in the open-ended bucket shows the max");
	check_has(b.s, "  invalid_guest_state other                1   0.2%"
		  "        -        -        -        -        -        -        -"
		  "      -        -  untimed\n", "untimed reason: no latency");
	check_has(b.s, "  0x1234    other                6  60.0%        -        -",
		  "nothing timed: - in the latency columns");
	check_has(b.s, "\nVM 4 (short-lived): exits by reason\n",
		  "vanished VM's reason table");
	CHECK(!strstr(b.s, "factor of 2") && !strstr(b.s, "\nLatency:"),
	      "no explanation under the tables (kvmwarden(8) has it)");
	CHECK(!strstr(b.s, "userspace -") && !strstr(b.s, "not measured"),
	      "latency and user_exits features: nothing marked missing");
	free(b.s);

	opts.top = 5;
	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	check_has(b.s, "  IO_INSTRUCTION io                  38   3.8%   16.3us"
		  "   8.50us   16.4us   50.0us   50.0us   50.0us   50.0us 100.0%"
		  "    400us  user\n",
		  "-n 5: IO row with its userspace share and time");
	CHECK(!strstr(b.s, "more reason"), "-n 5: every reason shown");
	free(b.s);

	opts.top = 0;
	opts.interval = 0;
	opts.detail = false;
	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0 && !strstr(b.s, "TOP REASONS") && count_of(b.s, "%") == 1 &&
	      !strstr(b.s, "categories") && !strstr(b.s, "time:") &&
	      !strstr(b.s, "by reason") && !strstr(b.s, "Latency"),
	      "-n 0: one line per VM, no reason tables");
	free(b.s);

	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, 0, &opts);
	buf_close(&b);
	CHECK(ret == 0 && !strcmp(b.s, "No VMs tracked.\n"),
	      "empty stat table");
	free(b.s);
}

static void test_stat_json(struct fixture *fx,
			   const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 1, .interval = 1 };
	static const char * const keys[] = {
		"\"api_version\": 1", "\"vendor\": \"vmx\"",
		"\"features\": [\n    \"exit_counts\",\n    \"reason_vmx\",\n    \"vm_lifetime\",\n    \"latency\",\n    \"user_exits\",\n    \"faults\",\n    \"sched\",\n    \"mem_numa\"\n  ]",
		"\"interval_sec\": 1.000", "\"vm_id\": 1", "\"vmm_pid\": 4242",
		"\"comm\": \"qemu-system-x86\"", "\"nr_vcpus\": 2",
		"\"exits\": 1000", "\"exits_per_sec\": 500.000",
		"\"gone\": false", "\"gone\": true", "\"exits_per_sec\": null",
		"\"reasons\": [", "\"vcpus\": [", "\"vcpu_id\": 1",
		"\"tid\": 4251", "\"entries\": 1000",
		"\"code\": 10,\n          \"name\": \"CPUID\",\n          \"count\": 812",
		"\"name\": \"0x1234\"", "\"name\": \"UNDECODED\"",
		"\"name\": \"npf\"", "\"vendor\": \"svm\"",
		"\"categories\": [\n        {\n          \"name\": \"io\",\n          \"count\": 38\n        },\n        {\n          \"name\": \"mmio\",\n          \"count\": 0\n        },",
		"\"name\": \"cpuid\",\n          \"count\": 812",
		"\"name\": \"cpuid\",\n              \"count\": 650",
		"\"name\": \"cpuid\",\n              \"count\": 162",
		"\"name\": \"other\",\n          \"count\": 10",
		"\"name\": \"npf\",\n          \"count\": 300",
		"\"comm\": \"a\\\"b\\\\c\\n\\t\\u001b\\ufffd\xc3\xa9xyzwv\"",
		/* Latency description, then VM 1's CPUID over both vCPUs. */
		"\"latency\": {\n    \"measured\": true,\n    \"user_exits\": true,\n    \"hist\": {\n      \"type\": \"log2\",\n      \"sub_bits\": 0,\n      \"nr_buckets\": 32\n    },",
		"{\n  \"schema_version\": 1,\n  \"source\": \"device\",\n  \"api_version\": 1,",
		"\"vanished\": false,\n      \"overflow_exits\": 0,\n      \"reasons\": [",
		"\"p99_9_ns\": 0.999\n",
		"\"count\": 812,\n          \"category\": \"cpuid\",\n          \"share_pct\": 81.200,\n          \"idle\": false,\n          \"untimed\": false,\n          \"flags\": 0,\n          \"latency\": {\n            \"timed\": 812,\n            \"total_ns\": 1364000,\n            \"mean_ns\": 1679.803,\n            \"min_ns\": 1050,\n            \"max_ns\": 20000,\n            \"p50_ns\": {\n              \"bucket\": 10,\n              \"lo\": 1050,\n              \"hi\": 2048\n            },\n            \"p90_ns\": {\n              \"bucket\": 10,\n              \"lo\": 1050,\n              \"hi\": 2048\n            },\n            \"p99_ns\": {\n              \"bucket\": 11,\n              \"lo\": 2048,\n              \"hi\": 4096\n            },\n            \"p99_9_ns\": {\n              \"bucket\": 14,\n              \"lo\": 16384,\n              \"hi\": 20000\n            },\n            \"user_count\": 0,\n            \"user_ns\": 0,\n            \"user_pct\": 0.000,\n            \"hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 760, 47, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n          }",
		"\"name\": \"HLT\",\n          \"count\": 100,\n          \"category\": \"halt\",\n          \"share_pct\": 10.000,\n          \"idle\": true,\n          \"untimed\": false,\n          \"flags\": 1,\n          \"latency\": {\n            \"timed\": 99,",
		"\"hist\": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
		"\"user_count\": 38,\n                \"user_ns\": 400000,\n                \"user_pct\": 100.000,",
		/* VM 1's time, then its vCPUs'. */
		"\"time\": {\n        \"guest_ns\": 1500000000,\n        \"exit_ns\": 138134000,\n        \"overhead_ns\": 1834000,\n        \"idle_ns\": 135900000,\n        \"user_ns\": 400000,\n        \"untimed_exits\": 0,\n        \"overhead_pct\": 0.112\n      }",
		"\"guest_ns\": 1000000000,\n            \"exit_ns\": 137285000,\n            \"overhead_ns\": 1385000,\n            \"idle_ns\": 135900000,\n            \"user_ns\": 0,\n            \"untimed_exits\": 0,\n            \"overhead_pct\": 0.122\n",
		"\"guest_ns\": 500000000,\n            \"exit_ns\": 849000,\n            \"overhead_ns\": 449000,\n            \"idle_ns\": 0,\n            \"user_ns\": 400000,\n            \"untimed_exits\": 0,\n            \"overhead_pct\": 0.090\n",
		/* VM 2: nothing timed; VM 3: bucket 31, an untimed reason. */
		"\"overhead_pct\": null",
		"\"timed\": 0,\n            \"total_ns\": 0,\n            \"mean_ns\": null,\n            \"min_ns\": null,\n            \"max_ns\": null,\n            \"p50_ns\": null,",
		"\"p99_9_ns\": {\n              \"bucket\": 31,\n              \"lo\": 2147483648,\n              \"hi\": 3000000000\n            }",
		"\"p90_ns\": {\n              \"bucket\": 21,\n              \"lo\": 2500000,\n              \"hi\": 4194304\n            }",
		"\"name\": \"invalid_guest_state\",\n          \"count\": 1,\n          \"category\": \"other\",\n          \"share_pct\": 0.249,\n          \"idle\": false,\n          \"untimed\": true,\n          \"flags\": 2,",
		"\"untimed_exits\": 1,\n        \"overhead_pct\": 0.024\n",
	};
	struct buf b;
	size_t i;
	int ret;

	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0, "stat JSON printed");
	CHECK(json_valid(b.s, b.len), "stat JSON is valid");
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		CHECK(strstr(b.s, keys[i]), "stat JSON has expected text #%zu",
		      i);
		if (!strstr(b.s, keys[i]))
			tap_diag("missing: %s", keys[i]);
	}
	CHECK(!strstr(b.s, "\"what\"") && !strstr(b.s, "\"percentiles\"") &&
	      !strstr(b.s, "\"percentile_factor\"") && !strstr(b.s, " of "),
	      "stat JSON has data, no explanations");
	CHECK(strstr(b.s, "\"name\": \"EPT_VIOLATION\""),
	      "JSON lists all reasons whatever -n");
	CHECK_U64(count_of(b.s, "\"categories\": ["), 4 + 5,
		  "categories for each of the 4 VMs and 5 vCPUs");
	CHECK_U64(count_of(b.s, "\"name\": \"ipi_apic\""), 4 + 5,
		  "every category listed, zeros included");
	CHECK_U64(count_of(b.s, "\"hist\": ["), 10 + 11 + 2 * (4 + 5),
		  "a histogram for each reason of the 4 VMs and the 5 vCPUs, and for their faults and run-queue waits");
	CHECK_U64(count_of(b.s, "\"time\": {"), 4 + 5,
		  "times for each of the 4 VMs and 5 vCPUs");
	free(b.s);

	opts.interval = 0;
	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->mcur, rows, 0, &opts);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len) &&
	      strstr(b.s, "\"vms\": []") && strstr(b.s, "\"interval_sec\": null"),
	      "stat JSON without VMs or interval");
	free(b.s);
}

static void test_stat_vcpus(struct fixture *fx,
			    const struct kvmw_delta_vm *rows)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	struct buf b;
	int ret;

	buf_open(&b);
	ret = kvmw_print_stat_vcpus(b.f, &fx->mcur, &rows[0], &opts);
	buf_close(&b);
	CHECK(ret == 0, "stat -v printed");
	check_line(b.s, "1", "qemu-system-x86", "stat -v: the VM's row");
	CHECK(!strstr(b.s, "qemu-kvm") && !strstr(b.s, "short-lived"),
	      "stat -v: no other VM");
	check_has(b.s, "\n  VCPU      TID          EXITS        ENTRIES    GUEST"
		  "  OVERHEAD OVERHEAD%     IDLE     USER  UNTIMED\n"
		  "     0     4250            800            800    1.00s"
		  "    1.39ms     0.12%    136ms      0ns        0\n"
		  "     1     4251            200            200    500ms"
		  "     449us     0.09%      0ns    400us        0\n",
		  "vCPU table: exits, entries, guest, overhead and %, idle, user");
	check_has(b.s, "\nVM 1 vCPU 0 (tid 4250): exits by reason\n"
		  "  REASON        CATEGORY         COUNT  SHARE     MEAN      MIN"
		  "      P50      P90      P99    P99.9      MAX  USER%     USER"
		  "  NOTE\n"
		  "  CPUID         cpuid              650  81.2%   1.75us   1.10us"
		  "   2.05us   2.05us   4.10us   20.0us   20.0us      -        -\n",
		  "vCPU 0 reason table: its own CPUID figures");
	check_has(b.s, "\nVM 1 vCPU 1 (tid 4251): exits by reason\n",
		  "vCPU 1 reason table");
	check_has(b.s, "  CPUID          cpuid              162  81.0%   1.41us"
		  "   1.05us   2.05us   2.05us   2.60us   2.60us   2.60us      -"
		  "        -\n"
		  "  IO_INSTRUCTION io                  38  19.0%   16.3us   8.50us"
		  "   16.4us   50.0us   50.0us   50.0us   50.0us 100.0%    400us"
		  "  user\n", "vCPU 1 rows: CPUID, IO to userspace");
	CHECK(!strstr(b.s, "factor of 2"), "stat -v: no footer");
	free(b.s);

	opts.top = 0;
	buf_open(&b);
	ret = kvmw_print_stat_vcpus(b.f, &fx->mcur, &rows[0], &opts);
	buf_close(&b);
	CHECK(ret == 0 && strstr(b.s, "OVERHEAD%") &&
	      !strstr(b.s, "by reason"), "stat -v -n 0: vCPU table only");
	free(b.s);
}

/*
 * An older module: no latency feature (the VER1 fields are 0) and no
 * faults, sched or mem_numa feature (nor the VER2 and VER3 fields).
 */
static void test_no_latency(struct fixture *fx,
			    const struct kvmw_delta_vm *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1, .detail = true };
	__u64 features = fx->cur.hs.features;
	struct buf b;
	int ret;

	fx->cur.hs.features &= ~(KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS |
				 KVMW_FEAT_FAULTS | KVMW_FEAT_SCHED |
				 KVMW_FEAT_MEM_NUMA);
	fixture_model(fx);
	rows = fx->rows;
	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0, "no latency: table printed");
	check_has(b.s, "\nVM 1 (qemu-system-x86): exits by reason\n"
		  "  REASON        CATEGORY         COUNT  SHARE  NOTE\n"
		  "  CPUID         cpuid              812  81.2%\n"
		  "  HLT           halt               100  10.0%  idle\n",
		  "no latency: reason table without latency columns");
	CHECK(!strstr(b.s, "MEAN") && !strstr(b.s, "P99") &&
	      !strstr(b.s, "time:") && !strstr(b.s, "user"),
	      "no latency: no latency column, time line or user note");
	check_has(b.s, "500.0      -  CPUID 81.2%",
		  "no latency: overhead % unknown, not 0");
	free(b.s);

	buf_open(&b);
	ret = kvmw_print_stat_vcpus(b.f, &fx->mcur, &rows[0], &opts);
	buf_close(&b);
	check_has(b.s, "\n  VCPU      TID          EXITS        ENTRIES\n"
		  "     0     4250            800            800\n",
		  "no latency: vCPU table without times");
	CHECK(!strstr(b.s, "OVERHEAD"), "no latency: no overhead column");
	free(b.s);

	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len), "no latency: valid JSON");
	CHECK(strstr(b.s, "\"measured\": false") &&
	      !strstr(b.s, "\"hist\": [") && !strstr(b.s, "\"time\": {") &&
	      count_of(b.s, "\"latency\": null") == 10 + 11 &&
	      count_of(b.s, "\"time\": null") == 4 + 5,
	      "no latency: JSON latency and time are null");
	free(b.s);

	/* Latency but no user exits: user time unknown, not 0. */
	fx->cur.hs.features = features &
			      ~(KVMW_FEAT_USER_EXITS | KVMW_FEAT_FAULTS |
				KVMW_FEAT_SCHED | KVMW_FEAT_MEM_NUMA);
	fixture_model(fx);
	rows = fx->rows;
	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	check_has(b.s, "(overhead 1.83ms, idle 136ms, userspace -), overhead 0.11%\n",
		  "no user exits: userspace time is -");
	free(b.s);
	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->mcur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len) &&
	      strstr(b.s, "\"user_exits\": false") &&
	      strstr(b.s, "\"user_count\": null") &&
	      strstr(b.s, "\"user_ns\": null") && strstr(b.s, "\"timed\": 812"),
	      "no user exits: JSON user fields null, latency kept");
	free(b.s);
	fx->cur.hs.features = features;
	fixture_model(fx);
	rows = fx->rows;
}

static void test_list(struct fixture *fx)
{
	struct kvmw_snapshot empty;
	struct buf b;
	int ret;

	buf_open(&b);
	ret = kvmw_print_list_table(b.f, &fx->mcur);
	buf_close(&b);
	CHECK(ret == 0 && strstr(b.s, "STATE"), "list table printed");
	check_line(b.s, "1", "4242  qemu-system-x86  -                2           1000  live",
		   "list");
	check_line(b.s, "2", "gone", "list gone VM");
	free(b.s);

	fx->cur.hs.features |= 1ULL << 40;
	fx->cur.hs.untracked_exits = 3;
	fixture_model(fx);
	buf_open(&b);
	ret = kvmw_print_list_json(b.f, &fx->mcur);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len), "list JSON is valid");
	CHECK(strstr(b.s, "\"bit40\"") && strstr(b.s, "\"untracked_exits\": 3"),
	      "unknown feature bits and untracked exits shown");
	CHECK(strstr(b.s, "\"vm_id\": 3") && strstr(b.s, "\"gone\": true"),
	      "list JSON has the VMs");
	free(b.s);

	memset(&empty, 0, sizeof(empty));
	buf_open(&b);
	ret = kvmw_print_list_table(b.f, &empty);
	buf_close(&b);
	CHECK(ret == 0 && !strcmp(b.s, "No VMs tracked.\n"), "empty list");
	free(b.s);
}

static void test_comm(void)
{
	__u8 c1[16] = "qemu";
	__u8 c2[16] = { 0 };
	__u8 c3[16];
	char out[17];

	kvmw_comm_for_tty(c1, out);
	CHECK_STR(out, "qemu", "comm kept");
	kvmw_comm_for_tty(c2, out);
	CHECK_STR(out, "-", "empty comm is -");
	memset(c3, 'x', sizeof(c3));
	c3[3] = 0x9b;
	kvmw_comm_for_tty(c3, out);
	CHECK_STR(out, "xxx?xxxxxxxxxxxx", "comm without NUL, C1 byte");
}

void test_format(void)
{
	struct kvmw_delta_vm *rows;
	struct fixture fx;
	size_t nr;

	tap_diag("format");
	fixture_build(&fx);
	fixture_model(&fx);
	rows = fx.rows;
	nr = fx.nr_rows;
	CHECK(nr == 4,
	      "fixture has 4 rows");
	test_stat_table(&fx, rows, nr);
	test_stat_json(&fx, rows, nr);
	test_stat_vcpus(&fx, rows);
	test_no_latency(&fx, rows, nr);
	test_list(&fx);
	test_comm();
	fixture_free(&fx);
}
