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
			    const struct kvmw_stat_row *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1 };
	struct buf b;
	int ret;

	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->cur, rows, nr, &opts);
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
	free(b.s);

	opts.top = 0;
	opts.interval = 0;
	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->cur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0 && !strstr(b.s, "TOP REASONS") && !strstr(b.s, "%") &&
	      !strstr(b.s, "categories"),
	      "-n 0: no reasons column, no categories line");
	free(b.s);

	buf_open(&b);
	ret = kvmw_print_stat_table(b.f, &fx->cur, rows, 0, &opts);
	buf_close(&b);
	CHECK(ret == 0 && !strcmp(b.s, "No VMs tracked.\n"),
	      "empty stat table");
	free(b.s);
}

static size_t count_of(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

static void test_stat_json(struct fixture *fx,
			   const struct kvmw_stat_row *rows, size_t nr)
{
	struct kvmw_stat_opts opts = { .top = 1, .interval = 1 };
	static const char * const keys[] = {
		"\"api_version\": 1", "\"vendor\": \"vmx\"",
		"\"features\": [\n    \"exit_counts\",\n    \"reason_vmx\",\n    \"vm_lifetime\"\n  ]",
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
	};
	struct buf b;
	size_t i;
	int ret;

	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->cur, rows, nr, &opts);
	buf_close(&b);
	CHECK(ret == 0, "stat JSON printed");
	CHECK(json_valid(b.s, b.len), "stat JSON is valid");
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		CHECK(strstr(b.s, keys[i]), "stat JSON has expected text #%zu",
		      i);
		if (!strstr(b.s, keys[i]))
			tap_diag("missing: %s", keys[i]);
	}
	CHECK(strstr(b.s, "\"name\": \"EPT_VIOLATION\""),
	      "JSON lists all reasons whatever -n");
	CHECK_U64(count_of(b.s, "\"categories\": ["), 4 + 5,
		  "categories for each of the 4 VMs and 5 vCPUs");
	CHECK_U64(count_of(b.s, "\"name\": \"ipi_apic\""), 4 + 5,
		  "every category listed, zeros included");
	free(b.s);

	opts.interval = 0;
	buf_open(&b);
	ret = kvmw_print_stat_json(b.f, &fx->cur, rows, 0, &opts);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len) &&
	      strstr(b.s, "\"vms\": []") && strstr(b.s, "\"interval_sec\": null"),
	      "stat JSON without VMs or interval");
	free(b.s);
}

static void test_list(struct fixture *fx)
{
	struct kvmw_vm_info infos[3];
	struct kvmw_handshake hs = fx->cur.hs;
	struct buf b;
	size_t i;
	int ret;

	for (i = 0; i < 3; i++)
		infos[i] = fx->cur.vms[i].vm;

	buf_open(&b);
	ret = kvmw_print_list_table(b.f, infos, 3);
	buf_close(&b);
	CHECK(ret == 0 && strstr(b.s, "STATE"), "list table printed");
	check_line(b.s, "1", "4242  qemu-system-x86      2           1000  live",
		   "list");
	check_line(b.s, "2", "gone", "list gone VM");
	free(b.s);

	hs.features |= 1ULL << 40;
	hs.untracked_exits = 3;
	buf_open(&b);
	ret = kvmw_print_list_json(b.f, &hs, infos, 3);
	buf_close(&b);
	CHECK(ret == 0 && json_valid(b.s, b.len), "list JSON is valid");
	CHECK(strstr(b.s, "\"bit40\"") && strstr(b.s, "\"untracked_exits\": 3"),
	      "unknown feature bits and untracked exits shown");
	CHECK(strstr(b.s, "\"vm_id\": 3") && strstr(b.s, "\"gone\": true"),
	      "list JSON has the VMs");
	free(b.s);

	buf_open(&b);
	ret = kvmw_print_list_table(b.f, infos, 0);
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
	struct kvmw_stat_row *rows;
	struct fixture fx;
	size_t nr;

	tap_diag("format");
	fixture_build(&fx);
	CHECK(kvmw_stat_rows(&fx.prev, &fx.cur, &rows, &nr) == 0 && nr == 4,
	      "fixture has 4 rows");
	test_stat_table(&fx, rows, nr);
	test_stat_json(&fx, rows, nr);
	test_list(&fx);
	test_comm();
	free(rows);
	fixture_free(&fx);
}
