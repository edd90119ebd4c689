// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit budgets in libkvmwarden and the CLI: the parsers and formatters,
 * the UAPI's limits, naming VMs (ids, pids, names and uuids from a fake
 * /proc), the budget statistics of a snapshot, and "kvmwarden budget"
 * against the fake module (values sent, errors, exit codes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "helpers.h"
#include "json_check.h"
#include "tap.h"

static void test_count(void)
{
	static const struct {
		const char *s;
		__u64 v;
	} good[] = {
		{ "0", 0 }, { "20k", 20000 }, { "20K", 20000 },
		{ "1.5M", 1500000 }, { "1G", 1000000000 }, { ".5k", 500 },
		{ "1.25k", 1250 }, { "4294967296", 4294967296ULL },
		{ "007", 7 },
	};
	static const char * const bad[] = {
		"", "k", "1.2345k", "1.5", "-1", "+1", "1e3", "1.", "1..5",
		"1kk", "1 k", "0x10", "20m", "18446744073709551616",
		"99999999999999999999999999",
	};
	size_t i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		v = 12345;
		CHECK(!kvmw_parse_count(good[i].s, 0, ~0ULL, &v) &&
		      v == good[i].v, "count '%s' is %llu", good[i].s,
		      (unsigned long long)good[i].v);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(kvmw_parse_count(bad[i], 0, ~0ULL, &v) == -EINVAL,
		      "count '%s' is rejected", bad[i]);
	CHECK(kvmw_parse_count("0", 1, 10, &v) == -EINVAL, "below min");
	CHECK(kvmw_parse_count("11", 1, 10, &v) == -EINVAL, "above max");
	CHECK(!kvmw_parse_count("1G", 1, KVMW_BUDGET_MAX_RATE, &v) &&
	      v == KVMW_BUDGET_MAX_RATE, "the largest rate");
	CHECK(kvmw_parse_count("1.000000001G", 1, KVMW_BUDGET_MAX_RATE, &v),
	      "one above the largest rate");
}

static void test_duration(void)
{
	static const struct {
		const char *s;
		__u64 ns;
	} good[] = {
		{ "100ms", 100000000 }, { "1s", 1000000000 },
		{ "1.5s", 1500000000 }, { "250us", 250000 }, { "7ns", 7 },
		{ "0.001s", 1000000 }, { "60s", 60000000000ULL },
	};
	static const char * const bad[] = {
		"100", "1m", "ms", "1.5ns", "-1s", "1 s", "1sec", "",
	};
	size_t i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(!kvmw_parse_duration(good[i].s, 0, ~0ULL, &v) &&
		      v == good[i].ns, "duration '%s'", good[i].s);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(kvmw_parse_duration(bad[i], 0, ~0ULL, &v) == -EINVAL,
		      "duration '%s' is rejected", bad[i]);
	CHECK(kvmw_parse_duration("2s", 0, KVMW_BUDGET_MAX_PARK_NS, &v) ==
	      -EINVAL, "duration above max");
}

static void test_categories_parse(void)
{
	char bad[32], buf[128];
	__u64 m = 1;

	CHECK(!kvmw_parse_categories("default", &m, bad, sizeof(bad)) && !m,
	      "'default' is 0 (KVMW_BUDGET_DEFAULT_SCOPE)");
	CHECK(!kvmw_parse_categories("io,msr", &m, bad, sizeof(bad)) &&
	      m == ((1ULL << KVMW_CAT_IO) | (1ULL << KVMW_CAT_MSR)),
	      "io,msr");
	CHECK(!kvmw_parse_categories("other", &m, bad, sizeof(bad)) &&
	      m == 1ULL << KVMW_CAT_OTHER, "other, the last category");
	CHECK(kvmw_parse_categories("io,bogus", &m, bad, sizeof(bad)) ==
	      -EINVAL && !strcmp(bad, "bogus"), "unknown category named");
	CHECK(kvmw_parse_categories("io,io", &m, bad, sizeof(bad)) == -EINVAL,
	      "a category twice");
	CHECK(kvmw_parse_categories("io,", &m, bad, sizeof(bad)) == -EINVAL,
	      "empty name at the end");
	CHECK(kvmw_parse_categories(",io", &m, bad, sizeof(bad)) == -EINVAL,
	      "empty name at the start");
	CHECK(kvmw_parse_categories("io,default", &m, bad, sizeof(bad)) ==
	      -EINVAL, "default only alone");
	CHECK(kvmw_parse_categories("IO", &m, bad, sizeof(bad)) == -EINVAL,
	      "names are lower case");
	CHECK_STR(kvmw_fmt_categories(buf, sizeof(buf), 0), "default",
		  "0 is printed as default");
	CHECK_STR(kvmw_fmt_categories(buf, sizeof(buf),
				      (1ULL << KVMW_CAT_MSR) |
				      (1ULL << KVMW_CAT_IO)),
		  "io,msr", "categories printed in their order");
	CHECK(!kvmw_parse_categories(kvmw_fmt_categories(buf, sizeof(buf),
				     KVMW_BUDGET_DEFAULT_SCOPE),
				     &m, bad, sizeof(bad)) &&
	      m == KVMW_BUDGET_DEFAULT_SCOPE &&
	      !strstr(buf, "halt") && !strstr(buf, "interrupt"),
	      "the default scope spelled out round-trips, without halt and interrupt");
}

static void test_format_values(void)
{
	static const struct {
		__u64 v;
		const char *s;
	} counts[] = {
		{ 0, "0" }, { 999, "999" }, { 1000, "1k" }, { 1500, "1.5k" },
		{ 1234, "1234" }, { 20000, "20k" }, { 1500000, "1.5M" },
		{ 1000000000, "1G" }, { 4294967296ULL, "4294967296" },
		{ 1010, "1.01k" },
	}, durs[] = {
		{ 0, "0ns" }, { 7, "7ns" }, { 1000, "1us" },
		{ 100000000, "100ms" }, { 1500000000, "1.5s" },
		{ 1234567, "1234.567us" }, { 60000000000ULL, "60s" },
	};
	char buf[32];
	size_t i;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		CHECK_STR(kvmw_fmt_count(buf, sizeof(buf), counts[i].v),
			  counts[i].s, "count formatted");
		CHECK(!kvmw_parse_count(buf, 0, ~0ULL, &v) && v == counts[i].v,
		      "count '%s' round-trips", buf);
	}
	for (i = 0; i < ARRAY_SIZE(durs); i++) {
		CHECK_STR(kvmw_fmt_duration(buf, sizeof(buf), durs[i].v),
			  durs[i].s, "duration formatted");
		CHECK(!kvmw_parse_duration(buf, 0, ~0ULL, &v) &&
		      v == durs[i].v, "duration '%s' round-trips", buf);
	}
}

static void good_cfg(struct kvmw_budget_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = KVMW_BUDGET_THROTTLE;
	c->nr_buckets = 1;
	c->b[0].rate = 1000;
	c->b[0].burst = 100;
}

/* The module's checks (kmod/kvmw_budget.c), one value at a time. */
static void test_check(void)
{
	struct kvmw_budget_cfg c;
	char why[160];
	int i;

	good_cfg(&c);
	CHECK(!kvmw_budget_check(&c, why, sizeof(why)), "a good budget");
	memset(&c, 0, sizeof(c));
	CHECK(!kvmw_budget_check(&c, why, sizeof(why)), "off without buckets");
	for (i = 0; ; i++) {
		good_cfg(&c);
		switch (i) {
		case 0: c.mode = 3; break;
		case 1: c.nr_buckets = 0; break;
		case 2: c.nr_buckets = KVMW_BUDGET_MAX_BUCKETS + 1; break;
		case 3: c.b[0].rate = 0; break;
		case 4: c.b[0].rate = KVMW_BUDGET_MAX_RATE + 1; break;
		case 5: c.b[0].burst = 0; break;
		case 6: c.b[0].burst = KVMW_BUDGET_MAX_BURST + 1; break;
		case 7: c.b[0].credit = KVMW_BUDGET_MAX_BURST + 1; break;
		case 8: c.b[0].categories = 1ULL << KVMW_NR_CATEGORIES; break;
		case 9: /* two buckets sharing a category */
			c.nr_buckets = 2;
			c.b[0].categories = 1ULL << KVMW_CAT_IO;
			c.b[1] = c.b[0];
			c.b[1].categories |= 1ULL << KVMW_CAT_MSR;
			break;
		case 10: /* the default scope overlaps io */
			c.nr_buckets = 2;
			c.b[1] = c.b[0];
			c.b[1].categories = 1ULL << KVMW_CAT_IO;
			break;
		case 11: c.max_park_ns = KVMW_BUDGET_MAX_PARK_NS + 1; break;
		case 12: c.max_park_ns = 999; break;
		case 13: c.guard_window_ns = KVMW_BUDGET_MIN_WINDOW_NS - 1;
			break;
		case 14: c.guard_window_ns = KVMW_BUDGET_MAX_WINDOW_NS + 1;
			break;
		case 15: c.guard_pct = 101; break;
		case 16: c.tripped = true; break;
		case 17: c.mode = KVMW_BUDGET_OFF; break;
		case 18: c.b[0].rate = 9; c.max_park_ns = 100000000; break;
		case 19: c.b[0].rate = 1; break;	/* default park */
		case 20: memset(&c, 0, sizeof(c)); c.guard_audit = true; break;
		case 21: c.rule = 1; break;
		default: goto done;
		}
		why[0] = '\0';
		CHECK(kvmw_budget_check(&c, why, sizeof(why)) == -EINVAL &&
		      why[0], "invalid budget %d rejected: %s", i, why);
	}
done:
	good_cfg(&c);
	c.b[0].rate = 1;
	c.max_park_ns = KVMW_BUDGET_MAX_PARK_NS;
	CHECK(!kvmw_budget_check(&c, why, sizeof(why)),
	      "1/s with a 1 s park holds");
	good_cfg(&c);
	c.nr_buckets = KVMW_BUDGET_MAX_BUCKETS;
	c.b[0].categories = 1ULL << KVMW_CAT_IO;
	c.b[1] = c.b[0];
	c.b[1].categories = 1ULL << KVMW_CAT_MSR;
	c.b[2] = c.b[0];
	c.b[2].categories = 1ULL << KVMW_CAT_HALT;
	c.b[3] = c.b[0];
	c.b[3].categories = 1ULL << KVMW_CAT_CPUID;
	c.guard_pct = 100;
	c.guard_window_ns = KVMW_BUDGET_MAX_WINDOW_NS;
	CHECK(!kvmw_budget_check(&c, why, sizeof(why)),
	      "four disjoint buckets, guard off, longest window");
}

static void test_ref_parse(void)
{
	struct kvmw_vm_ref r;

	CHECK(!kvmw_vm_ref_parse("3", &r) && r.kind == KVMW_REF_ID &&
	      r.id == 3, "3 is VM id 3");
	CHECK(!kvmw_vm_ref_parse("0x10", &r) && r.kind == KVMW_REF_ID &&
	      r.id == 16, "0x10 is VM id 16");
	CHECK(!kvmw_vm_ref_parse("id:5", &r) && r.kind == KVMW_REF_ID &&
	      r.id == 5, "id:5");
	CHECK(!kvmw_vm_ref_parse("pid:4242", &r) && r.kind == KVMW_REF_PID &&
	      r.pid == 4242, "pid:4242");
	CHECK(!kvmw_vm_ref_parse("name:42", &r) && r.kind == KVMW_REF_NAME &&
	      !strcmp(r.name, "42"), "name:42, a name made of digits");
	CHECK(!kvmw_vm_ref_parse("web1", &r) && r.kind == KVMW_REF_NAME &&
	      !strcmp(r.name, "web1"), "web1 is a name");
	CHECK(!kvmw_vm_ref_parse("uuid:ab-cd", &r) &&
	      r.kind == KVMW_REF_UUID && !strcmp(r.name, "ab-cd"), "uuid:");
	CHECK(kvmw_vm_ref_parse("0", &r), "0 is no VM id");
	CHECK(kvmw_vm_ref_parse("12x", &r), "12x is neither id nor name");
	CHECK(kvmw_vm_ref_parse("pid:0", &r), "pid:0");
	CHECK(kvmw_vm_ref_parse("pid:x", &r), "pid:x");
	CHECK(kvmw_vm_ref_parse("pid:4294967296", &r), "pid too large");
	CHECK(kvmw_vm_ref_parse("name:", &r), "empty name");
	CHECK(kvmw_vm_ref_parse("", &r), "empty argument");
}

#define LONG_NAME	"n123456789" "0123456789" "0123456789" "0123456789" \
			"0123456789" "0123456789" "0123456789" "0123456789" \
			"0123456789" "0123456789"

/* A fake /proc: PID/cmdline for a few VMMs. */
struct fake_proc {
	char dir[64];
};

static void proc_add(struct fake_proc *p, unsigned int pid, const char *args,
		     size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", p->dir, pid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%u/cmdline", p->dir, pid);
	f = fopen(path, "w");
	if (!f || fwrite(args, 1, len, f) != len || fclose(f))
		abort();
}

#define PROC_ADD(p, pid, lit)	proc_add(p, pid, lit, sizeof(lit) - 1)

static void proc_init(struct fake_proc *p)
{
	strcpy(p->dir, "/tmp/kvmw_proc.XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	PROC_ADD(p, 4242, "qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-uuid\0"
		 "0B9C36B2-6A8E-4C36-9D55-0123456789AB\0-m\0512\0");
	PROC_ADD(p, 4243, "qemu\0-name\0db\0");
	PROC_ADD(p, 4244, "qemu\0--name\0a,,b,process=x\0");
	PROC_ADD(p, 4245, "qemu\0-name\0process=p,guest=g2\0");
	/* No -name, a -name without value, two VMs of one process. */
	PROC_ADD(p, 4246, "qemu\0-m\0512\0");
	PROC_ADD(p, 4247, "qemu\0-name");
	PROC_ADD(p, 4248, "qemu\0-name\0twins\0");
	/* Another VMM with the same name as 4243. */
	PROC_ADD(p, 4249, "qemu\0-name\0guest=db\0");
	/* A name longer than a snapshot keeps (100 bytes). */
	PROC_ADD(p, 4250, "qemu\0-name\0" LONG_NAME "\0");
}

static void proc_free(struct fake_proc *p)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd))
		tap_diag("could not remove %s", p->dir);
}

static void test_ident(struct fake_proc *p)
{
	static const struct {
		unsigned int pid;
		const char *name;
	} names[] = {
		{ 4242, "web1" }, { 4243, "db" }, { 4244, "a,b" },
		{ 4245, "g2" }, { 4246, "" }, { 4247, "" },
	};
	char name[KVMW_VM_NAME_MAX], uuid[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		CHECK(!kvmw_vmm_ident(p->dir, names[i].pid, name, sizeof(name),
				      uuid, sizeof(uuid)) &&
		      !strcmp(name, names[i].name),
		      "pid %u is named '%s'", names[i].pid, names[i].name);
	kvmw_vmm_ident(p->dir, 4242, name, sizeof(name), uuid, sizeof(uuid));
	CHECK_STR(uuid, "0B9C36B2-6A8E-4C36-9D55-0123456789AB", "-uuid read");
	CHECK(kvmw_vmm_ident(p->dir, 1, name, sizeof(name), uuid,
			     sizeof(uuid)) == -ENOENT && !name[0],
	      "no such process: -ENOENT");
}

/* VMs 1..8 of the fake /proc's VMMs. */
static void make_snap(struct kvmw_snapshot *s)
{
	static const struct {
		__u64 id;
		__u32 pid;
		bool gone;
	} vms[] = {
		{ 1, 4242, false }, { 2, 4243, false }, { 3, 4244, false },
		{ 4, 4248, false }, { 5, 4248, false }, { 6, 4249, false },
		{ 7, 4245, true }, { 8, 4246, false }, { 9, 4250, false },
	};
	size_t i;

	memset(s, 0, sizeof(*s));
	s->vms = calloc(ARRAY_SIZE(vms), sizeof(*s->vms));
	if (!s->vms)
		abort();
	s->nr_vms = ARRAY_SIZE(vms);
	for (i = 0; i < ARRAY_SIZE(vms); i++) {
		s->vms[i].vm_id = vms[i].id;
		s->vms[i].pid = vms[i].pid;
		s->vms[i].gone = vms[i].gone;
	}
}

static size_t resolve(const struct kvmw_snapshot *s, const char *proc,
		      const char *arg, __u64 *first)
{
	const struct kvmw_vm *out[4];
	struct kvmw_vm_ref r;
	size_t n;

	if (kvmw_vm_ref_parse(arg, &r))
		return 99;
	n = kvmw_vm_resolve(s, proc, &r, out, ARRAY_SIZE(out));
	*first = n ? out[0]->vm_id : 0;
	return n;
}

static void test_resolve(struct fake_proc *p)
{
	struct kvmw_snapshot s;
	__u64 id;

	make_snap(&s);
	CHECK(resolve(&s, p->dir, "3", &id) == 1 && id == 3, "by id");
	CHECK(resolve(&s, p->dir, "7", &id) == 1 && id == 7,
	      "by id: a gone VM is found (and refused by the CLI)");
	CHECK(resolve(&s, p->dir, "99", &id) == 0, "unknown id");
	CHECK(resolve(&s, p->dir, "pid:4242", &id) == 1 && id == 1, "by pid");
	CHECK(resolve(&s, p->dir, "pid:4248", &id) == 2,
	      "a pid with two VMs matches both");
	CHECK(resolve(&s, p->dir, "pid:4245", &id) == 0,
	      "by pid: only live VMs");
	CHECK(resolve(&s, p->dir, "web1", &id) == 1 && id == 1, "by name");
	CHECK(resolve(&s, p->dir, "name:web1", &id) == 1 && id == 1,
	      "by name:");
	CHECK(resolve(&s, p->dir, "a,b", &id) == 1 && id == 3,
	      "a name with an escaped comma");
	CHECK(resolve(&s, p->dir, "db", &id) == 2,
	      "a name two VMMs share matches both");
	CHECK(resolve(&s, p->dir, "g2", &id) == 0, "by name: only live VMs");
	CHECK(resolve(&s, p->dir, "nosuch", &id) == 0, "unknown name");
	CHECK(resolve(&s, p->dir, "uuid:0b9c36b2-6a8e-4c36-9d55-0123456789ab",
		      &id) == 1 && id == 1, "by uuid, any case");
	CHECK(resolve(&s, p->dir, "uuid:0b9c36b2", &id) == 0,
	      "a uuid matches whole");
	CHECK(resolve(&s, p->dir, LONG_NAME, &id) == 1 && id == 9,
	      "a 100-byte name resolves whole");
	kvmw_snapshot_names(&s, p->dir);
	CHECK(!strcmp(s.vms[0].name, "web1") && !s.vms[6].name[0] &&
	      !s.vms[7].name[0], "names of live VMs only");
	CHECK(strlen(s.vms[8].name) == KVMW_VM_NAME_MAX - 1 &&
	      !strncmp(s.vms[8].name, LONG_NAME, KVMW_VM_NAME_MAX - 1),
	      "a long name is cut in the snapshot");
	kvmw_snapshot_free(&s);
}

/* The budget statistics of a snapshot, by their names. */
static void test_stats_of(void)
{
	static const char * const vm_names[] = {
		"budget_mode", "budget_tripped", "budget_tokens", "budget_debt",
	};
	static const __u32 vm_counts[] = { 1, 1, 4, 4 };
	static const char * const vcpu_names[] = {
		"budget_charged", "budget_overruns", "budget_parks",
		"budget_parked_time", "budget_would_park_time",
	};
	struct kvmw_stat_info infos[9];
	__u64 vmv[10] = { KVMW_BUDGET_THROTTLE, 1, 5, 6, 0, 0, 0, 7, 0, 0 };
	__u64 v0[5] = { 100, 10, 5, 1000, 0 }, v1[5] = { 50, 1, 2, 500, 3 };
	struct kvmw_budget_stats bs;
	struct kvmw_snapshot s;
	struct kvmw_vcpu vcpus[2];
	struct kvmw_vm vm;
	__u32 off = 0;
	size_t i;

	memset(infos, 0, sizeof(infos));
	for (i = 0; i < 4; i++) {
		snprintf(infos[i].name, sizeof(infos[i].name), "%s",
			 vm_names[i]);
		infos[i].scope = KVMW_REC_VM;
		infos[i].offset = off;
		infos[i].count = vm_counts[i];
		off += vm_counts[i];
	}
	for (i = 0; i < 5; i++) {
		snprintf(infos[4 + i].name, sizeof(infos[4 + i].name), "%s",
			 vcpu_names[i]);
		infos[4 + i].scope = KVMW_REC_VCPU;
		infos[4 + i].offset = i;
		infos[4 + i].count = 1;
	}
	memset(&s, 0, sizeof(s));
	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	s.raw.infos = infos;
	s.raw.nr = ARRAY_SIZE(infos);
	vm.values = vmv;
	vm.vcpus = vcpus;
	vm.nr_vcpus_detail = 2;
	vcpus[0].values = v0;
	vcpus[1].values = v1;
	kvmw_vm_budget_stats(&s.raw, &vm, &bs);
	CHECK(bs.known && bs.mode == KVMW_BUDGET_THROTTLE && bs.tripped == 1 &&
	      bs.tokens[0] == 5 && bs.tokens[1] == 6 && bs.debt[1] == 7 &&
	      bs.charged == 150 && bs.overruns == 11 && bs.parks == 7 &&
	      bs.parked_ns == 1500 && bs.would_park_ns == 3,
	      "budget statistics: the VM's, and the vCPUs' added up");
	s.raw.nr = 8;	/* budget_would_park_time not described */
	kvmw_vm_budget_stats(&s.raw, &vm, &bs);
	CHECK(!bs.known && !bs.charged, "a missing statistic: not measured");
	s.raw.nr = ARRAY_SIZE(infos);
	infos[2].count = 2;
	kvmw_vm_budget_stats(&s.raw, &vm, &bs);
	CHECK(!bs.known, "tokens not per bucket: not measured");
	infos[2].count = 4;
	vm.values = NULL;
	kvmw_vm_budget_stats(&s.raw, &vm, &bs);
	CHECK(!bs.known, "no values (not self-describing): not measured");
}

/* A source that cannot control VMs says so. */
static void test_no_control(void)
{
	static const struct kvmw_source_ops ops = { .name = "read-only" };
	struct kvmw_source src = { .ops = &ops };
	struct kvmw_budget_cfg cfg;

	good_cfg(&cfg);
	CHECK(kvmw_budget_get(&src, 1, &cfg) == -ENOTSUP && !cfg.nr_buckets,
	      "budget_get without the operation: -ENOTSUP, nothing read");
	good_cfg(&cfg);
	CHECK(kvmw_budget_set(&src, 1, &cfg) == -ENOTSUP &&
	      kvmw_budget_clear(&src, 1) == -ENOTSUP,
	      "budget_set and clear without the operation: -ENOTSUP");
}

/* A fake module with budgets and VMs of the fake /proc's VMMs. */
static void fake_budget_init(struct fake_dev *f)
{
	fake_init(f);
	f->hs.features |= KVMW_FEAT_BUDGET;
	fake_add_vm(f, 1, 4242, "qemu", 1);
	fake_add_vm(f, 2, 4243, "qemu", 1);
	fake_add_vm(f, 4, 4248, "qemu", 1);
	fake_add_vm(f, 5, 4248, "qemu", 1);
	fake_add_vm(f, 6, 4249, "qemu", 1);
	fake_add_vm(f, 8, 4246, "qemu", 1);
}

static void test_cli_set(struct fake_proc *p)
{
	const struct kvmw_budget *b;
	struct fake_dev f;
	struct run r;

	fake_budget_init(&f);
	b = &f.budgets[0];
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "web1",
		"--rate", "20k", NULL);
	CHECK(r.rc == 0 && f.budget_sets == 1 &&
	      (f.open_flags & O_ACCMODE) == O_RDWR,
	      "set by name: one BUDGET_SET on a device opened for writing");
	CHECK(b->mode == KVMW_BUDGET_THROTTLE && b->nr_buckets == 1 &&
	      !b->buckets[0].categories && b->buckets[0].rate == 20000 &&
	      b->buckets[0].burst == 2000 && !b->buckets[0].credit &&
	      !b->max_park_ns && !b->guard_window_ns && !b->guard_pct &&
	      !b->flags && !b->reserved && !b->tripped,
	      "defaults: throttle, default scope, burst a tenth of the rate, the module's defaults");
	check_has(r.out, "VM 1: budget set: throttle, default 20k/s burst 2k",
		  "set says what it set");
	run_free(&r);

	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "pid:4243",
		"--mode", "audit", "-B", "io,mmio:1.5k:300:2k", "-B", "msr:5k",
		"--max-park", "250ms", "--guard", "50/2s", "--guard-audit",
		NULL);
	b = &f.budgets[1];
	CHECK(r.rc == 0 && b->mode == KVMW_BUDGET_AUDIT &&
	      b->flags == KVMW_BUDGET_F_GUARD_AUDIT && b->nr_buckets == 2 &&
	      b->buckets[0].categories ==
	      ((1ULL << KVMW_CAT_IO) | (1ULL << KVMW_CAT_MMIO)) &&
	      b->buckets[0].rate == 1500 && b->buckets[0].burst == 300 &&
	      b->buckets[0].credit == 2000 &&
	      b->buckets[1].categories == 1ULL << KVMW_CAT_MSR &&
	      b->buckets[1].rate == 5000 && b->buckets[1].burst == 500 &&
	      b->max_park_ns == 250000000 &&
	      b->guard_window_ns == 2000000000 && b->guard_pct == 50,
	      "every option, two buckets, by pid");
	run_free(&r);

	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "2", "-r",
		"1k", "-b", "10", "-c", "5", "-C", "cpuid", "-g", "100", NULL);
	CHECK(r.rc == 0 && b->nr_buckets == 1 &&
	      b->buckets[0].categories == 1ULL << KVMW_CAT_CPUID &&
	      b->buckets[0].rate == 1000 && b->buckets[0].burst == 10 &&
	      b->buckets[0].credit == 5 && b->guard_pct == 100 &&
	      !b->guard_window_ns && !b->flags,
	      "short options, by id; set replaces the whole budget");
	run_free(&r);

	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "clear", "db", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "2 VMs match") &&
	      strstr(r.err, "VM 2 (pid 4243, name db)"),
	      "an ambiguous name: exit 2, the VMs listed");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "clear", "pid:4243",
		NULL);
	CHECK(r.rc == 0 && f.budgets[1].mode == KVMW_BUDGET_OFF &&
	      !f.budgets[1].nr_buckets && !f.budgets[1].flags,
	      "clear: mode off, nothing else");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "pid:4248",
		"--rate", "1k", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "VM 4 (pid 4248") &&
	      strstr(r.err, "VM 5 (pid 4248"),
	      "a pid with two VMs: exit 2, both listed");
	run_free(&r);
	CHECK(f.opens == f.closes, "device closed after every command");
	fake_free(&f);
}

static void test_cli_errors(struct fake_proc *p)
{
	static const struct {
		int err, rc;
		const char *msg;
	} errs[] = {
		{ -EPERM, 4, "permission denied: needs root (CAP_SYS_ADMIN)" },
		{ -EINVAL, 1, "rejected a value (EINVAL); nothing changed" },
		{ -ENOENT, 3, "the VM is gone" },
		{ -EIO, 1, "Input/output error" },
	};
	static const char * const bad[][3] = {
		{ "--rate", "0" }, { "--rate", "5" }, { "--rate", "2G" },
		{ "--rate", "1k", "--burst=0" }, { "--rate", "1k", "--mode=off" },
		{ "--rate", "1k", "--guard=0" }, { "--rate", "1k", "--guard=50/1ms" },
		{ "--rate", "1k", "--max-park=999ns" }, { "--burst", "1" },
		{ "-B", "io" }, { "-B", "io:1k:1:1:1" }, { "-B", "bogus:1k" },
		{ "-B", "io:1k", "-r1k" }, { "--rate", "1k", "--nosuch" },
		{ "--rate" }, { "-B", "default:1k", "-Bio:1k" },
	};
	struct fake_dev f;
	struct run r;
	size_t i;

	fake_budget_init(&f);
	for (i = 0; i < ARRAY_SIZE(errs); i++) {
		f.budget_err = errs[i].err;
		run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "1",
			"--rate", "1k", NULL);
		CHECK(r.rc == errs[i].rc && strstr(r.err, errs[i].msg),
		      "set failing with %s: exit %d, '%s'",
		      strerror(-errs[i].err), errs[i].rc, errs[i].msg);
		run_free(&r);
	}
	f.budget_err = 0;
	f.budget_sets = 0;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		run_cli(&r, &f.ops, "budget", "set", "1", bad[i][0], bad[i][1],
			bad[i][2], NULL);
		CHECK(r.rc == 2 && strstr(r.err, "Try 'kvmwarden budget --help'"),
		      "bad value %zu (%s %s %s): usage error", i, bad[i][0],
		      bad[i][1] ? bad[i][1] : "", bad[i][2] ? bad[i][2] : "");
		run_free(&r);
	}
	CHECK(f.budget_sets == 0, "bad values never reach the module");
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "nosuch",
		"--rate", "1k", NULL);
	CHECK(r.rc == 3 && strstr(r.err, "not found"), "unknown name: exit 3");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "set", "77", "--rate", "1k", NULL);
	CHECK(r.rc == 3, "unknown id: exit 3");
	run_free(&r);
	f.vms[0].vm.flags |= KVMW_VM_F_GONE;
	run_cli(&r, &f.ops, "budget", "clear", "1", NULL);
	CHECK(r.rc == 3 && strstr(r.err, "is gone"), "gone VM: exit 3");
	run_free(&r);
	f.vms[0].vm.flags &= ~KVMW_VM_F_GONE;
	f.open_err = -EACCES;
	run_cli(&r, &f.ops, "budget", "clear", "1", NULL);
	CHECK(r.rc == 4 && strstr(r.err, "needs root"),
	      "device not accessible: exit 4");
	run_free(&r);
	f.open_err = 0;
	f.hs.features &= ~KVMW_FEAT_BUDGET;
	run_cli(&r, &f.ops, "budget", "set", "1", "--rate", "1k", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "no exit budgets"),
	      "a module without budgets: exit 1");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", NULL);
	CHECK(r.rc == 2, "no subcommand");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "frob", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "unknown subcommand 'frob'"),
	      "unknown subcommand");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "clear", NULL);
	CHECK(r.rc == 2, "clear without VM");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "--help", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "Examples:") &&
	      strstr(r.out, "4 permission denied"), "budget --help");
	run_free(&r);
	CHECK(f.opens == f.closes, "device closed after every command");
	fake_free(&f);
}

static void test_cli_show(struct fake_proc *p)
{
	struct fake_dev f;
	struct run r;

	fake_budget_init(&f);
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "set", "web1",
		"-B", "io:20k", "-B", "msr:5k:1k:300", NULL);
	run_free(&r);
	f.budgets[0].tripped = 1;
	f.budgets[0].rule = 3;
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "show", NULL);
	CHECK(r.rc == 0 && f.budget_gets == 6, "show: every live VM read");
	check_has(r.out, "VM 1 pid 4242 name web1: throttle, max park 100ms, guard 90% of 1s, from default rule 2, TRIPPED",
		  "show: the settings");
	check_has(r.out, "  2   msr                                  5k         1k        300          -          -",
		  "show: a bucket row, tokens not measured");
	check_has(r.out, "VM 2 pid 4243 name db: no budget",
		  "show: a VM without a budget");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "budget", "show", "--json",
		"web1", NULL);
	CHECK(r.rc == 0 && json_valid(r.out, r.out_len), "show --json: JSON");
	check_has(r.out, "\"name\": \"web1\"", "show --json: the name");
	check_has(r.out, "\"categories\": [\n            \"msr\"\n          ],\n          \"categories_mask\": 64,\n          \"rate\": 5000,\n          \"burst\": 1000,\n          \"credit\": 300,\n          \"tokens\": null,",
		  "show --json: a bucket");
	check_has(r.out, "\"tripped\": true,\n      \"default_rule\": 2,",
		  "show --json: tripped, the default rule");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "list", NULL);
	check_has(r.out, "4242  qemu             web1", "list: the name");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "list", "--json", NULL);
	check_has(r.out, "\"name\": \"web1\"", "list --json: the name");
	check_has(r.out, "\"name\": null", "list --json: no name: null");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "stat", "-i", "0", "web1", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "web1") &&
	      !strstr(r.out, "\n     2 "), "stat by name: that VM only");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "stat", "-i", "0", "nosuch",
		NULL);
	CHECK(r.rc == 3, "stat of an unknown name: exit 3");
	run_free(&r);
	run_cli(&r, &f.ops, "--proc", p->dir, "stat", "-i", "0", "-v", "db",
		NULL);
	CHECK(r.rc == 2, "stat -v of an ambiguous name: exit 2");
	run_free(&r);
	fake_free(&f);
}

/* Every option of budget set in --help and the man page, exit codes too. */
/* budget default set|show|clear against the fake module. */
static void test_cli_default(void)
{
	const struct kvmw_budget_default *d;
	const struct kvmw_budget *b;
	struct fake_dev f;
	char dir[] = "/tmp/kvmw-cg-XXXXXX";
	struct run r;

	fake_budget_init(&f);
	f.hs.features |= KVMW_FEAT_BUDGET_DEFAULT;
	d = &f.defaults[3];
	b = &f.default_budgets[3];
	run_cli(&r, &f.ops, "budget", "default", "set", "3", "--comm",
		"qemu-system-x86", "--mode", "audit", "--rate", "50k", NULL);
	CHECK(r.rc == 0 && (f.open_flags & O_ACCMODE) == O_RDWR &&
	      !strcmp(d->comm, "qemu-system-x86") && d->cgroup_fd == -1 &&
	      b->mode == KVMW_BUDGET_AUDIT && !b->vm_id &&
	      b->nr_buckets == 1 && b->buckets[0].rate == 50000 &&
	      b->buckets[0].burst == 5000,
	      "default set: slot 3, comm, any cgroup, the budget");
	check_has(r.out, "default budget 3 set: comm qemu-system-x86, cgroup any: audit, default 50k/s",
		  "default set says what it set");
	run_free(&r);

	CHECK(mkdtemp(dir) != NULL, "a directory for --cgroup");
	run_cli(&r, &f.ops, "budget", "default", "set", "0", "-B", "io:1k",
		"--cgroup", dir, NULL);
	CHECK(r.rc == 0 && f.defaults[0].cgroup_fd >= 0 &&
	      !f.defaults[0].comm[0] &&
	      f.default_budgets[0].buckets[0].categories ==
	      1ULL << KVMW_CAT_IO,
	      "default set --cgroup DIR: an fd of the directory, any comm");
	run_free(&r);
	rmdir(dir);
	run_cli(&r, &f.ops, "budget", "default", "set", "1", "--cgroup",
		"/nonexistent-kvmw", "--rate", "1k", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "cgroup /nonexistent-kvmw"),
	      "a cgroup that does not open: exit 1, named");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "default", "set", "8", "--rate", "1k",
		NULL);
	CHECK(r.rc == 2 && strstr(r.err, "bad slot '8'"), "slot 8: exit 2");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "default", "set", "2", "--comm",
		"0123456789abcdef", "--rate", "1k", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "bad --comm"),
	      "a comm of 16 characters: exit 2");
	run_free(&r);
	CHECK(!f.defaults[2].size && !f.defaults[1].size,
	      "nothing set by the bad calls");

	f.defaults[3].matched = 7;
	run_cli(&r, &f.ops, "budget", "default", "show", NULL);
	CHECK(r.rc == 0 && (f.open_flags & O_ACCMODE) == O_RDONLY,
	      "default show: read-only");
	check_has(r.out, "slot 3: comm qemu-system-x86, cgroup any, matched 7: audit",
		  "default show: a slot with its match count");
	check_has(r.out, "slot 0: comm any, cgroup id ",
		  "default show: a cgroup not under /sys/fs/cgroup by id");
	check_has(r.out, "slot 7: empty", "default show: an empty slot");
	run_free(&r);
	run_cli(&r, &f.ops, "budget", "default", "show", "3", "--json", NULL);
	CHECK(r.rc == 0 && r.out && json_valid(r.out, strlen(r.out)) &&
	      strstr(r.out, "\"slot\": 3") &&
	      strstr(r.out, "\"comm\": \"qemu-system-x86\"") &&
	      strstr(r.out, "\"matched\": 7") &&
	      strstr(r.out, "\"rate\": 50000") && !strstr(r.out, "\"slot\": 0"),
	      "default show 3 --json: valid, that slot only");
	run_free(&r);

	run_cli(&r, &f.ops, "budget", "default", "clear", "3", NULL);
	CHECK(r.rc == 0 && f.default_budgets[3].mode == KVMW_BUDGET_OFF &&
	      !f.defaults[3].comm[0] && f.defaults[3].cgroup_fd == -1,
	      "default clear: mode off, no match");
	run_free(&r);
	f.budget_err = -EPERM;
	run_cli(&r, &f.ops, "budget", "default", "clear", "3", NULL);
	CHECK(r.rc == 4 && strstr(r.err, "needs root"),
	      "default clear without CAP_SYS_ADMIN: exit 4");
	run_free(&r);
	f.budget_err = 0;
	f.hs.features &= ~KVMW_FEAT_BUDGET_DEFAULT;
	run_cli(&r, &f.ops, "budget", "default", "show", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "no default budgets"),
	      "a module without default budgets: exit 1");
	run_free(&r);
	CHECK(f.opens == f.closes, "device closed after every command");
	fake_free(&f);
}

static void test_budget_docs(void)
{
	static const char * const opts[] = {
		"--mode", "--rate", "--burst", "--credit", "--categories",
		"--bucket", "--max-park", "--guard", "--guard-audit", "--json",
	};
	char *man = read_source_file("kvmwarden.8");
	char want[64], *p;
	struct run r;
	size_t i;

	run_cli(&r, NULL, "budget", "--help", NULL);
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		check_has(r.out, opts[i], "budget --help documents the option");
		/* The man page escapes every dash. */
		snprintf(want, sizeof(want), "\\-\\-%s", opts[i] + 2);
		for (p = want + 4; *p; p++)
			if (*p == '-')
				break;
		if (*p) {
			memmove(p + 1, p, strlen(p) + 1);
			*p = '\\';
		}
		check_has(man, want, "kvmwarden(8) documents the option");
	}
	CHECK(count_of(r.out, "\n") <= 32, "budget --help is short (%zu lines)",
	      count_of(r.out, "\n"));
	run_free(&r);
	check_has(man, ".B 3\nVM not found", "kvmwarden(8): exit status 3");
	check_has(man, ".B 4\nPermission denied", "kvmwarden(8): exit status 4");
	check_has(man, ".BI pid: PID", "kvmwarden(8): naming a VM by pid");
	check_has(man, "kvmwarden\\-budget.schema.json",
		  "kvmwarden(8): the budget schema");
	run_cli(&r, NULL, "--help", NULL);
	check_has(r.out, "3  VM not found", "--help: exit status 3");
	check_has(r.out, "4  permission denied", "--help: exit status 4");
	check_has(r.out, "budget   set, show or clear", "--help lists budget");
	run_free(&r);
	free(man);
}

void test_budget(void)
{
	struct fake_proc p;

	tap_diag("budgets and VM names");
	test_count();
	test_duration();
	test_categories_parse();
	test_format_values();
	test_check();
	test_ref_parse();
	proc_init(&p);
	test_ident(&p);
	test_resolve(&p);
	test_stats_of();
	test_no_control();
	test_cli_set(&p);
	test_cli_errors(&p);
	test_cli_show(&p);
	test_cli_default();
	proc_free(&p);
	test_budget_docs();
}
