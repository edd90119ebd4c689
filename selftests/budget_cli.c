// SPDX-License-Identifier: GPL-2.0
/*
 * budget_cli - the real "kvmwarden budget" command line (the binary in
 * PATH) against the module, checked through KVMW_IOC_BUDGET_GET.
 *
 * by_id: a throttle budget set by VM id is in force with exactly the
 *	values asked for, "budget show --json" says the same, the CPUID
 *	storm's rate drops to the budget, and "budget clear" removes it
 *	(no more parks).
 * by_pid: two buckets and every option, set by pid:PID in audit mode.
 * by_name: a VMM started with "-name guest=NAME,..." (this program
 *	re-executed) is found by NAME and name:NAME, and list, stat and
 *	budget show carry its name.
 * bad_values: every invalid value exits 2 and changes nothing; an unknown
 *	VM exits 3.
 * non_root: a caller without CAP_SYS_ADMIN (uid 65534) gets the
 *	permission message and exit 4, with the device readable and
 *	writable by everyone as without; nothing changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "cli_run.h"
#include "kvmw_util.h"
#include <kvmwarden/categories.h>

#define BATCH		50
#define NSEC		1000000000ULL
/* The CLI's exit codes (kvmwarden --help). */
#define EXIT_USAGE	2
#define EXIT_NO_VM	3
#define EXIT_PERM	4
/* The argument that makes this program a VMM for by_name. */
#define CHILD_ARG	"--budget-cli-vmm"

/* How long this test's CLI runs took (the test's time is mostly theirs). */
static void log_runs(struct __test_metadata *_metadata)
{
	TH_LOG("%u CLI runs, %.0f ms each", cli_runs,
	       cli_runs ? (double)cli_run_ns / cli_runs / 1e6 : 0.0);
}

/* The number after "@key": in @doc from @from on, or ~0 when absent. */
static uint64_t json_num(const char *doc, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(doc, pat);
	if (!p)
		return ~0ULL;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return ~0ULL;
	return strtoull(p, NULL, 10);
}

static double spin_rate(struct kvm_vcpu *vcpu, uint64_t ns)
{
	uint64_t n0, n1, t0, t1;

	if (util_cpuid_exits(vcpu, &n0))
		return -1;
	t0 = util_now_ns();
	util_sleep_ns(ns);
	if (util_cpuid_exits(vcpu, &n1))
		return -1;
	t1 = util_now_ns();
	return (double)(n1 - n0) * NSEC / (t1 - t0);
}

/* A VM with one vCPU storming CPUID; NULL on failure. */
static struct kvm_vm *storm_start(struct kvm_vcpu **vcpu)
{
	struct vm_opts opts = {};
	struct kvm_vm *vm;
	uint64_t t0;

	vm = vm_create(&opts);
	if (!vm)
		return NULL;
	*vcpu = vcpu_add(vm);
	if (!*vcpu || vcpu_load_prog(*vcpu, GUEST_PROG_CPUID_SPIN, BATCH) ||
	    vcpu_start(*vcpu))
		goto fail;
	t0 = util_now_ns();
	while (vcpu_spin_batches(*vcpu) < 2) {
		if (util_now_ns() > t0 + 30 * NSEC || vcpu_finished(*vcpu))
			goto fail;
		usleep(1000);
	}
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

/* The module's id of the VM of process @pid. */
static int vm_id_of_pid(pid_t pid, uint64_t *id)
{
	const struct kvmw_vm *v;
	struct kvmw_snapshot s;
	struct kvmw_source src;
	int ret;

	ret = kvmw_src_open(&src);
	if (ret)
		return ret;
	ret = kvmw_take_vmm(&src, pid, NULL, 0, &s, &v);
	if (!ret)
		*id = v->vm_id;
	kvmw_snapshot_free(&s);
	kvmw_source_close(&src);
	return ret;
}

/* budget_parks of the vCPUs of VM @id (~0 when not described). */
static uint64_t vm_parks(uint64_t id)
{
	const struct kvmw_vm *v;
	struct kvmw_snapshot s;
	struct kvmw_source src;
	uint64_t parks = ~0ULL;
	size_t i, k;

	if (kvmw_src_open(&src))
		return parks;
	if (!kvmw_take_vm(&src, id, &s, &v)) {
		for (i = 0; i < s.raw.nr; i++) {
			const struct kvmw_stat_info *in = &s.raw.infos[i];

			if (in->scope != KVMW_REC_VCPU ||
			    strcmp(in->name, "budget_parks"))
				continue;
			parks = 0;
			for (k = 0; k < v->nr_vcpus_detail; k++)
				parks += v->vcpus[k].values[in->offset];
		}
		kvmw_snapshot_free(&s);
	}
	kvmw_source_close(&src);
	return parks;
}

/*
 * The VMM of by_name: a CPUID storm in a VM until stdin closes. Says
 * "ready" on stdout once the guest runs.
 */
static int vmm_main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	ssize_t n;
	char c;

	vm = storm_start(&vcpu);
	if (!vm)
		return 1;
	if (write(1, "ready\n", 6) != 6)
		return 1;
	do
		n = read(0, &c, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	vcpu_spin_stop(vcpu);
	vcpu_join(vcpu);
	vm_destroy(vm);
	return 0;
}

FIXTURE(cli) {
	int dev;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t vm_id;
	char id[24];
	char why[128];
};

FIXTURE_SETUP(cli)
{
	struct kvmw_budget off;

	self->vm = NULL;
	self->dev = kvmw_test_open(KVMW_FEAT_BUDGET | KVMW_FEAT_EXIT_COUNTS,
				   "exit budgets", self->why,
				   sizeof(self->why));
	if (self->why[0])
		return;
	ASSERT_LE(0, self->dev);
	self->vm = storm_start(&self->vcpu);
	ASSERT_NE(NULL, self->vm);
	ASSERT_EQ(0, vm_id_of_pid(getpid(), &self->vm_id));
	/* Without a budget, whatever default budget the host may have. */
	memset(&off, 0, sizeof(off));
	off.size = sizeof(off);
	off.vm_id = self->vm_id;
	ASSERT_EQ(0, ioctl(self->dev, KVMW_IOC_BUDGET_SET, &off));
	snprintf(self->id, sizeof(self->id), "%llu",
		 (unsigned long long)self->vm_id);
}

FIXTURE_TEARDOWN(cli)
{
	if (self->vm) {
		vcpu_spin_stop(self->vcpu);
		vcpu_join(self->vcpu);
		vm_destroy(self->vm);
	}
	if (self->dev >= 0)
		close(self->dev);
}

TEST_F(cli, by_id)
{
	char rate[24], burst[24];
	struct kvmw_budget b;
	struct cli_run *c = malloc(sizeof(*c));
	double alone, budgeted;
	uint64_t r, parks;

	ASSERT_NE(NULL, c);
	if (self->why[0])
		SKIP(return, "%s", self->why);
	alone = spin_rate(self->vcpu, NSEC / 2);
	ASSERT_LT(100, alone);
	/* A quarter of the storm, at least 10/s (one token per park). */
	r = (uint64_t)(alone / 4) > 10 ? (uint64_t)(alone / 4) : 10;
	snprintf(rate, sizeof(rate), "%llu", (unsigned long long)r);
	snprintf(burst, sizeof(burst), "%llu", (unsigned long long)(r / 20 + 1));

	ASSERT_EQ(0, cli_run(c, 0, "budget", "set", self->id, "--mode",
			 "throttle", "--rate", rate, "--burst", burst,
			 "--categories", "cpuid", "--max-park", "100ms",
			 "--guard", "100", NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->out, "budget set"));

	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_THROTTLE, b.mode);
	EXPECT_EQ(0, b.flags);
	EXPECT_EQ(1, b.nr_buckets);
	EXPECT_EQ(1ULL << KVMW_CAT_CPUID, b.buckets[0].categories);
	EXPECT_EQ(r, b.buckets[0].rate);
	EXPECT_EQ(r / 20 + 1, b.buckets[0].burst);
	EXPECT_EQ(0, b.buckets[0].credit);
	EXPECT_EQ(100000000, b.max_park_ns);
	EXPECT_EQ(100, b.guard_pct);
	EXPECT_EQ(0, b.tripped);

	ASSERT_EQ(0, cli_run(c, 0, "budget", "show", self->id, "--json", NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_EQ('{', c->out[0]);
	EXPECT_NE(NULL, strstr(c->out, "\"mode\": \"throttle\""));
	EXPECT_NE(NULL, strstr(c->out, "\"categories\": [\n            \"cpuid\"\n          ]"))
		TH_LOG("%s", c->out);
	EXPECT_EQ(self->vm_id, json_num(c->out, "vm_id"));
	EXPECT_EQ((uint64_t)getpid(), json_num(c->out, "vmm_pid"));
	EXPECT_EQ(r, json_num(c->out, "rate"));
	EXPECT_EQ(r / 20 + 1, json_num(c->out, "burst"));
	EXPECT_EQ(100000000, json_num(c->out, "max_park_ns"));
	EXPECT_EQ(100, json_num(c->out, "guard_pct"));
	/* Measured: the counters are numbers, not null. */
	EXPECT_NE(~0ULL, json_num(c->out, "charged"));
	EXPECT_NE(~0ULL, json_num(c->out, "parks"));

	/* The storm now holds to the budget (burst and slack aside). */
	budgeted = spin_rate(self->vcpu, NSEC);
	TH_LOG("storm %.0f/s alone, %.0f/s under a budget of %llu/s", alone,
	       budgeted, (unsigned long long)r);
	EXPECT_GT(r * 1.15 + 5, budgeted);
	EXPECT_LT(budgeted, alone * 0.6);

	/* stat shows it. */
	ASSERT_EQ(0, cli_run(c, 0, "stat", "-i", "0", "-l", self->id, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->out, "budget: throttle")) TH_LOG("%s", c->out);
	/* What an operator sees, for the record. */
	ASSERT_EQ(0, cli_run(c, 0, "budget", "show", self->id, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->out, "throttle, max park 100ms, guard off"));
	TH_LOG("budget show:\n%s", c->out);

	ASSERT_EQ(0, cli_run(c, 0, "budget", "clear", self->id, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	EXPECT_EQ(0, b.nr_buckets);
	/* No park after the clear. */
	parks = vm_parks(self->vm_id);
	ASSERT_NE(~0ULL, parks);
	util_sleep_ns(NSEC / 4);
	EXPECT_EQ(parks, vm_parks(self->vm_id));
	ASSERT_EQ(0, cli_run(c, 0, "budget", "show", self->id, "--json", NULL));
	EXPECT_EQ(0, c->status);
	EXPECT_NE(NULL, strstr(c->out, "\"mode\": \"off\""));
	log_runs(_metadata);
	free(c);
}

TEST_F(cli, by_pid)
{
	struct cli_run *c = malloc(sizeof(*c));
	struct kvmw_budget b;
	char pid[32];

	ASSERT_NE(NULL, c);
	if (self->why[0])
		SKIP(return, "%s", self->why);
	snprintf(pid, sizeof(pid), "pid:%d", getpid());
	ASSERT_EQ(0, cli_run(c, 0, "budget", "set", pid, "--mode", "audit",
			 "--bucket", "io,mmio:20k", "--bucket",
			 "msr,cpuid:1.5k:300:2k", "--max-park", "250ms",
			 "--guard", "50/2s", "--guard-audit", NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(KVMW_BUDGET_F_GUARD_AUDIT, b.flags);
	EXPECT_EQ(2, b.nr_buckets);
	EXPECT_EQ((1ULL << KVMW_CAT_IO) | (1ULL << KVMW_CAT_MMIO),
		  b.buckets[0].categories);
	EXPECT_EQ(20000, b.buckets[0].rate);
	EXPECT_EQ(2000, b.buckets[0].burst);	/* a tenth of the rate */
	EXPECT_EQ(0, b.buckets[0].credit);
	EXPECT_EQ((1ULL << KVMW_CAT_MSR) | (1ULL << KVMW_CAT_CPUID),
		  b.buckets[1].categories);
	EXPECT_EQ(1500, b.buckets[1].rate);
	EXPECT_EQ(300, b.buckets[1].burst);
	/* Credit left: the storm's CPUIDs may have spent some already. */
	EXPECT_GE(2000, b.buckets[1].credit);
	EXPECT_EQ(250000000, b.max_park_ns);
	EXPECT_EQ(2000000000, b.guard_window_ns);
	EXPECT_EQ(50, b.guard_pct);

	ASSERT_EQ(0, cli_run(c, 0, "budget", "show", pid, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->out, "audit, max park 250ms, guard 50% of 2s then audit"))
		TH_LOG("%s", c->out);
	EXPECT_NE(NULL, strstr(c->out, "io,mmio"));
	ASSERT_EQ(0, cli_run(c, 0, "budget", "clear", pid, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	log_runs(_metadata);
	free(c);
}

TEST_F(cli, by_name)
{
	struct cli_run *c = malloc(sizeof(*c));
	char name[64], ref[80], nameopt[96], ready[8] = { 0 };
	int in[2], out[2], st;
	struct kvmw_budget b;
	uint64_t id;
	pid_t pid;

	ASSERT_NE(NULL, c);
	if (self->why[0])
		SKIP(return, "%s", self->why);
	snprintf(name, sizeof(name), "kvmw-cli-%d", getpid());
	snprintf(nameopt, sizeof(nameopt), "guest=%s,debug-threads=on", name);
	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, pipe(out));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/proc/self/exe", "budget_cli", CHILD_ARG, "-name",
		      nameopt, "-uuid", "0b9c36b2-6a8e-4c36-9d55-0123456789ab",
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	EXPECT_EQ(6, read(out[0], ready, 6));
	EXPECT_STREQ("ready\n", ready);
	if (!strcmp(ready, "ready\n")) {
		ASSERT_EQ(0, vm_id_of_pid(pid, &id));
		ASSERT_EQ(0, cli_run(c, 0, "budget", "set", name, "--rate",
				 "100k", "--burst", "1M", NULL));
		EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
		ASSERT_EQ(0, util_budget_get(self->dev, id, &b));
		EXPECT_EQ(KVMW_BUDGET_THROTTLE, b.mode);
		EXPECT_EQ(1, b.nr_buckets);
		EXPECT_EQ(0, b.buckets[0].categories);
		EXPECT_EQ(100000, b.buckets[0].rate);
		EXPECT_EQ(1000000, b.buckets[0].burst);
		/* The other VM (this process's) is untouched. */
		ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
		EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);

		snprintf(ref, sizeof(ref), "name:%s", name);
		ASSERT_EQ(0, cli_run(c, 0, "budget", "show", ref, "--json",
				 NULL));
		EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
		EXPECT_EQ(id, json_num(c->out, "vm_id"));
		EXPECT_NE(NULL, strstr(c->out, name));
		EXPECT_EQ(100000, json_num(c->out, "rate"));
		ASSERT_EQ(0, cli_run(c, 0, "budget", "show",
				 "uuid:0B9C36B2-6A8E-4C36-9D55-0123456789AB",
				 NULL));
		EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
		EXPECT_NE(NULL, strstr(c->out, name));

		ASSERT_EQ(0, cli_run(c, 0, "list", "--json", NULL));
		snprintf(ref, sizeof(ref), "\"name\": \"%s\"", name);
		EXPECT_NE(NULL, strstr(c->out, ref)) TH_LOG("%s", c->out);
		ASSERT_EQ(0, cli_run(c, 0, "stat", "-i", "0", "--json", name,
				 NULL));
		EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
		EXPECT_NE(NULL, strstr(c->out, ref));
		EXPECT_NE(NULL, strstr(c->out, "\"budget\": {"));

		ASSERT_EQ(0, cli_run(c, 0, "budget", "clear", name, NULL));
		EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
		ASSERT_EQ(0, util_budget_get(self->dev, id, &b));
		EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	}
	close(in[1]);
	close(out[0]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* Gone with its VMM: not found any more. */
	ASSERT_EQ(0, cli_run(c, 0, "budget", "show", name, NULL));
	EXPECT_EQ(EXIT_NO_VM, c->status) TH_LOG("%s", c->err);
	log_runs(_metadata);
	free(c);
}

TEST_F(cli, bad_values)
{
	/* A few limits of the UAPI; the unit tests have every one. */
	static const char * const bad[][4] = {
		{ "--rate", "0" },
		{ "--rate", "5" },		/* < 1 token per 100 ms park */
		{ "--rate", "1k", "--burst", "5G" },
		{ "--rate", "1k", "--categories", "io,bogus" },
		{ "--rate", "1k", "--guard", "50/5ms" },
		{ "--bucket", "default:1k", "--bucket", "msr:1k" },
	};
	struct cli_run *c = malloc(sizeof(*c));
	struct kvmw_budget b;
	unsigned int i;

	ASSERT_NE(NULL, c);
	if (self->why[0])
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, cli_run(c, 0, "budget", "set", self->id, "--mode", "audit",
			 "--rate", "1M", "--burst", "1000", NULL));
	ASSERT_EQ(0, c->status) TH_LOG("%s", c->err);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(0, cli_run(c, 0, "budget", "set", self->id, bad[i][0],
				 bad[i][1], bad[i][2], bad[i][3], NULL));
		EXPECT_EQ(EXIT_USAGE, c->status) TH_LOG("case %u: %s", i,
							c->err);
		EXPECT_NE(NULL, strstr(c->err, "kvmwarden: ")) TH_LOG("case %u", i);
		ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
		EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode) TH_LOG("case %u", i);
		EXPECT_EQ(1, b.nr_buckets) TH_LOG("case %u", i);
		EXPECT_EQ(1000000, b.buckets[0].rate) TH_LOG("case %u", i);
		EXPECT_EQ(1000, b.buckets[0].burst) TH_LOG("case %u", i);
	}
	/* Five buckets. */
	ASSERT_EQ(0, cli_run(c, 0, "budget", "set", self->id, "-B", "io:1k",
			 "-B", "msr:1k", "-B", "cpuid:1k", "-B", "npf:1k",
			 "-B", "mmio:1k", NULL));
	EXPECT_EQ(EXIT_USAGE, c->status);
	/* Unknown VMs. */
	ASSERT_EQ(0, cli_run(c, 0, "budget", "set", "999999999", "--rate", "1k",
			 NULL));
	EXPECT_EQ(EXIT_NO_VM, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->err, "not found"));
	ASSERT_EQ(0, cli_run(c, 0, "budget", "clear", "pid:1", NULL));
	EXPECT_EQ(EXIT_NO_VM, c->status) TH_LOG("%s", c->err);
	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_AUDIT, b.mode);
	EXPECT_EQ(1000000, b.buckets[0].rate);
	log_runs(_metadata);
	free(c);
}

TEST_F(cli, non_root)
{
	struct cli_run *c = malloc(sizeof(*c));
	struct kvmw_budget b;
	struct stat st;

	ASSERT_NE(NULL, c);
	if (self->why[0])
		SKIP(return, "%s", self->why);
	/* The device's permissions keep others out. */
	ASSERT_EQ(0, cli_run(c, 65534, "budget", "set", self->id, "--rate",
			 "1k", NULL));
	EXPECT_EQ(EXIT_PERM, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->err, "needs root")) TH_LOG("%s", c->err);

	/* Open to everyone, the module still wants CAP_SYS_ADMIN. */
	ASSERT_EQ(0, stat(KVMW_DEVICE_PATH, &st));
	ASSERT_EQ(0, chmod(KVMW_DEVICE_PATH, 0666));
	ASSERT_EQ(0, cli_run(c, 65534, "budget", "set", self->id, "--rate",
			 "1k", NULL));
	EXPECT_EQ(EXIT_PERM, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->err, "permission denied: needs root (CAP_SYS_ADMIN)"))
		TH_LOG("%s", c->err);
	ASSERT_EQ(0, cli_run(c, 65534, "budget", "clear", self->id, NULL));
	EXPECT_EQ(EXIT_PERM, c->status) TH_LOG("%s", c->err);
	/* Reading needs no privilege. */
	ASSERT_EQ(0, cli_run(c, 65534, "budget", "show", self->id, NULL));
	EXPECT_EQ(0, c->status) TH_LOG("%s", c->err);
	EXPECT_NE(NULL, strstr(c->out, "no budget"));
	ASSERT_EQ(0, chmod(KVMW_DEVICE_PATH, st.st_mode & 07777));

	ASSERT_EQ(0, util_budget_get(self->dev, self->vm_id, &b));
	EXPECT_EQ(KVMW_BUDGET_OFF, b.mode);
	log_runs(_metadata);
	free(c);
}

static uint64_t start_ns;

/* How long the whole program took (make check's time budget). */
static void report_time(void)
{
	printf("# budget_cli: %.1f s\n", (double)(util_now_ns() - start_ns) / NSEC);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], CHILD_ARG))
		return vmm_main();
	start_ns = util_now_ns();
	atexit(report_time);
	return test_harness_run(argc, argv);
}
