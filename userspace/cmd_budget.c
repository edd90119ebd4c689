// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden budget: set, show and clear a VM's exit budget
 * (Documentation/budgets.rst). The subcommands are a table, like the
 * commands: a new one is a function and a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"

struct budget_sub {
	const char *name;
	const char *synopsis;
	int (*run)(struct kvmw_ctx *ctx, int argc, char **argv);
};

static int budget_set_cmd(struct kvmw_ctx *ctx, int argc, char **argv);
static int budget_show_cmd(struct kvmw_ctx *ctx, int argc, char **argv);
static int budget_clear_cmd(struct kvmw_ctx *ctx, int argc, char **argv);
static int budget_default_cmd(struct kvmw_ctx *ctx, int argc, char **argv);

static const struct budget_sub subs[] = {
	{ "set", "set VM --rate R [OPTIONS]\n"
		 "       kvmwarden budget set VM --bucket CATS:RATE[:BURST[:CREDIT]]... [OPTIONS]",
	  budget_set_cmd },
	{ "show", "show [VM...] [--json]", budget_show_cmd },
	{ "clear", "clear VM", budget_clear_cmd },
	{ "default", "default set SLOT [--comm NAME] [--cgroup DIR] [OPTIONS]\n"
		     "       kvmwarden budget default show [SLOT...] | clear SLOT",
	  budget_default_cmd },
};

void kvmw_usage_budget(FILE *f)
{
	size_t i;

	fputs("Usage:", f);
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		fprintf(f, "%s kvmwarden budget %s\n", i ? "      " : "",
			subs[i].synopsis);
	fputs("\n"
	      "Limit a VM's exits per second (token buckets; needs root). set replaces\n"
	      "the whole budget. VM: id (3), pid:PID, name:NAME, uuid:UUID or a name.\n"
	      "default: what new VMs get, by VMM name and/or cgroup (lowest slot wins).\n"
	      "\n"
	      "  -m, --mode MODE      audit (count only) or throttle (default)\n"
	      "  -r, --rate R         exits per second: 500, 20k, 1.5M (1 to 1G)\n"
	      "  -b, --burst B        bucket size in exits (default RATE/10)\n"
	      "  -c, --credit C       one-time boot credit in exits (default 0)\n"
	      "  -C, --categories L   io,msr,... or default (all but halt, interrupt)\n"
	      "  -B, --bucket SPEC    CATS:RATE[:BURST[:CREDIT]], up to 4 (not with -rbcC)\n"
	      "  -p, --max-park DUR   longest park, 1us to 1s (default 100ms)\n"
	      "  -g, --guard PCT[/W]  guard: parked > PCT% of W (default 90/1s; 100: off)\n"
	      "  -a, --guard-audit    fall back to audit mode when the guard trips\n"
	      "  -j, --json           show: one JSON document\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden budget set web1 --mode audit --rate 20k   size it first\n"
	      "  kvmwarden budget show web1                          overruns, would park\n"
	      "  kvmwarden budget set web1 --rate 20k --burst 40k    then throttle\n"
	      "  kvmwarden budget set pid:4242 -B io:20k -B msr:5k\n"
	      "  kvmwarden budget clear 3\n"
	      "  kvmwarden budget default set 0 --comm qemu-system-x86 --rate 50k\n"
	      "\n"
	      "Exit status: 0 ok, 1 error, 2 usage or bad value, 3 VM not found,\n"
	      "4 permission denied. Details: kvmwarden(8).\n", f);
}

int kvmw_cmd_budget(struct kvmw_ctx *ctx, int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return kvmw_usage_error(ctx, "budget",
					"no subcommand (set, show, clear)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		kvmw_usage_budget(ctx->out);
		return KVMW_EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(ctx, argc - 1, argv + 1);
	return kvmw_usage_error(ctx, "budget", "unknown subcommand '%s'",
				argv[1]);
}

/* The error of a budget operation on VM @vm_id, as an exit code. */
static int budget_error(struct kvmw_ctx *ctx, const char *what, __u64 vm_id,
			int err)
{
	switch (err) {
	case -EPERM:
		kvmw_error(ctx, "%s VM %" PRIu64 ": permission denied: needs root (CAP_SYS_ADMIN)",
			   what, (uint64_t)vm_id);
		return KVMW_EXIT_PERM;
	case -EBADF:
		kvmw_error(ctx, "%s VM %" PRIu64 ": %s is open read-only; budgets need it opened for writing",
			   what, (uint64_t)vm_id, ctx->device);
		return KVMW_EXIT_PERM;
	case -ENOENT:
		kvmw_error(ctx, "%s VM %" PRIu64 ": the VM is gone", what,
			   (uint64_t)vm_id);
		return KVMW_EXIT_NO_VM;
	case -EINVAL:
		kvmw_error(ctx, "%s VM %" PRIu64 ": the kernel module rejected a value (EINVAL); nothing changed",
			   what, (uint64_t)vm_id);
		return KVMW_EXIT_RUNTIME;
	case -ENOTSUP:
	case -ENOTTY:
		kvmw_error(ctx, "%s VM %" PRIu64 ": the kernel module has no exit budgets (feature 'budget')",
			   what, (uint64_t)vm_id);
		return KVMW_EXIT_RUNTIME;
	default:
		kvmw_error(ctx, "%s VM %" PRIu64 ": %s", what, (uint64_t)vm_id,
			   strerror(-err));
		return KVMW_EXIT_RUNTIME;
	}
}

/* One bucket of --bucket CATS:RATE[:BURST[:CREDIT]]. */
static int parse_bucket(struct kvmw_ctx *ctx, const char *arg,
			struct kvmw_budget_bucket_cfg *b, bool *burst_given)
{
	char *field[4] = { NULL }, spec[256], *p = spec, bad[32];
	unsigned int n = 0;

	if (strlen(arg) >= sizeof(spec))
		return kvmw_usage_error(ctx, "budget", "--bucket too long");
	strcpy(spec, arg);

	while (n < 4) {
		field[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p || n < 2)
		return kvmw_usage_error(ctx, "budget",
					"bad --bucket: CATS:RATE[:BURST[:CREDIT]]");
	if (kvmw_parse_categories(field[0], &b->categories, bad, sizeof(bad)))
		return kvmw_usage_error(ctx, "budget",
					"unknown category '%s' in --bucket",
					bad);
	if (kvmw_parse_count(field[1], 1, KVMW_BUDGET_MAX_RATE, &b->rate))
		return kvmw_usage_error(ctx, "budget",
					"bad rate '%s' (exits/s, 1 to 1G)",
					field[1]);
	if (field[2] && kvmw_parse_count(field[2], 1, KVMW_BUDGET_MAX_BURST,
					 &b->burst))
		return kvmw_usage_error(ctx, "budget",
					"bad burst '%s' (1 to %llu)", field[2],
					(unsigned long long)KVMW_BUDGET_MAX_BURST);
	*burst_given = field[2];
	if (field[3] && kvmw_parse_count(field[3], 0, KVMW_BUDGET_MAX_BURST,
					 &b->credit))
		return kvmw_usage_error(ctx, "budget",
					"bad credit '%s' (0 to %llu)", field[3],
					(unsigned long long)KVMW_BUDGET_MAX_BURST);
	return KVMW_CONTINUE;
}

static const struct option set_options[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "rate", required_argument, NULL, 'r' },
	{ "burst", required_argument, NULL, 'b' },
	{ "credit", required_argument, NULL, 'c' },
	{ "categories", required_argument, NULL, 'C' },
	{ "bucket", required_argument, NULL, 'B' },
	{ "max-park", required_argument, NULL, 'p' },
	{ "guard", required_argument, NULL, 'g' },
	{ "guard-audit", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_budget_parse_set(struct kvmw_ctx *ctx, int argc, char **argv,
			  struct kvmw_budget_cfg *cfg, const char **vm)
{
	struct kvmw_budget_bucket_cfg one = { 0 };
	bool burst_given[KVMW_BUDGET_MAX_BUCKETS] = { false };
	bool one_used = false, one_burst = false;
	char bad[32], why[160], guard[64], *slash;
	unsigned int i;
	__u64 v;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = KVMW_BUDGET_THROTTLE;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:r:b:c:C:B:p:g:ah",
				set_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (kvmw_parse_budget_mode(optarg, &cfg->mode) ||
			    cfg->mode == KVMW_BUDGET_OFF)
				return kvmw_usage_error(ctx, "budget",
							"bad mode '%s' (audit or throttle; 'budget clear' removes a budget)",
							optarg);
			break;
		case 'r':
			one_used = true;
			if (kvmw_parse_count(optarg, 1, KVMW_BUDGET_MAX_RATE,
					     &one.rate))
				return kvmw_usage_error(ctx, "budget",
							"bad rate '%s' (exits/s, 1 to 1G)",
							optarg);
			break;
		case 'b':
			one_used = true;
			one_burst = true;
			if (kvmw_parse_count(optarg, 1, KVMW_BUDGET_MAX_BURST,
					     &one.burst))
				return kvmw_usage_error(ctx, "budget",
							"bad burst '%s' (1 to %llu)",
							optarg,
							(unsigned long long)KVMW_BUDGET_MAX_BURST);
			break;
		case 'c':
			one_used = true;
			if (kvmw_parse_count(optarg, 0, KVMW_BUDGET_MAX_BURST,
					     &one.credit))
				return kvmw_usage_error(ctx, "budget",
							"bad credit '%s' (0 to %llu)",
							optarg,
							(unsigned long long)KVMW_BUDGET_MAX_BURST);
			break;
		case 'C':
			one_used = true;
			if (kvmw_parse_categories(optarg, &one.categories,
						  bad, sizeof(bad)))
				return kvmw_usage_error(ctx, "budget",
							"unknown category '%s' (see kvmwarden(8))",
							bad);
			break;
		case 'B':
			if (cfg->nr_buckets == KVMW_BUDGET_MAX_BUCKETS)
				return kvmw_usage_error(ctx, "budget",
							"at most %u buckets",
							KVMW_BUDGET_MAX_BUCKETS);
			rc = parse_bucket(ctx, optarg,
					  &cfg->b[cfg->nr_buckets],
					  &burst_given[cfg->nr_buckets]);
			if (rc != KVMW_CONTINUE)
				return rc;
			cfg->nr_buckets++;
			break;
		case 'p':
			if (kvmw_parse_duration(optarg, 1000,
						KVMW_BUDGET_MAX_PARK_NS,
						&cfg->max_park_ns))
				return kvmw_usage_error(ctx, "budget",
							"bad max park '%s' (1us to 1s, e.g. 100ms)",
							optarg);
			break;
		case 'g':
			if (strlen(optarg) >= sizeof(guard))
				return kvmw_usage_error(ctx, "budget",
							"--guard too long");
			strcpy(guard, optarg);
			slash = strchr(guard, '/');
			if (slash) {
				*slash = '\0';
				if (kvmw_parse_duration(slash + 1,
							KVMW_BUDGET_MIN_WINDOW_NS,
							KVMW_BUDGET_MAX_WINDOW_NS,
							&cfg->guard_window_ns))
					return kvmw_usage_error(ctx, "budget",
								"bad guard window '%s' (10ms to 60s)",
								slash + 1);
			}
			if (kvmw_parse_count(guard, 1, 100, &v))
				return kvmw_usage_error(ctx, "budget",
							"bad guard share '%s' (percent, 1 to 100)",
							guard);
			cfg->guard_pct = (__u32)v;
			break;
		case 'a':
			cfg->guard_audit = true;
			break;
		case 'h':
			kvmw_usage_budget(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "budget", c, argv);
		}
	}
	if (optind >= argc)
		return kvmw_usage_error(ctx, "budget", "no VM given");
	if (optind + 1 < argc)
		return kvmw_usage_error(ctx, "budget",
					"unexpected argument '%s'",
					argv[optind + 1]);
	*vm = argv[optind];
	if (one_used && cfg->nr_buckets)
		return kvmw_usage_error(ctx, "budget",
					"--bucket and --rate/--burst/--credit/--categories do not mix");
	if (one_used) {
		if (!one.rate)
			return kvmw_usage_error(ctx, "budget",
						"no --rate given");
		cfg->b[0] = one;
		burst_given[0] = one_burst;
		cfg->nr_buckets = 1;
	}
	if (!cfg->nr_buckets)
		return kvmw_usage_error(ctx, "budget",
					"no budget given: --rate R or --bucket CATS:RATE");
	/* Default burst: a tenth of a second's worth. */
	for (i = 0; i < cfg->nr_buckets; i++)
		if (!burst_given[i])
			cfg->b[i].burst = cfg->b[i].rate >= 10 ?
					  cfg->b[i].rate / 10 : 1;
	if (kvmw_budget_check(cfg, why, sizeof(why)))
		return kvmw_usage_error(ctx, "budget", "bad budget: %s", why);
	return KVMW_CONTINUE;
}

/* "throttle, default 20k/s burst 2k, ..." on one line. */
static void print_cfg(FILE *f, const struct kvmw_budget_cfg *cfg)
{
	char a[96], b[32], c[32], d[32];
	unsigned int i;

	fprintf(f, "%s", kvmw_budget_mode_name(cfg->mode) ?: "?");
	for (i = 0; i < cfg->nr_buckets; i++)
		fprintf(f, "%s %s %s/s burst %s credit %s", i ? ";" : ",",
			kvmw_fmt_categories(a, sizeof(a), cfg->b[i].categories),
			kvmw_fmt_count(b, sizeof(b), cfg->b[i].rate),
			kvmw_fmt_count(c, sizeof(c), cfg->b[i].burst),
			kvmw_fmt_count(d, sizeof(d), cfg->b[i].credit));
}

static int budget_set_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_budget_cfg cfg;
	struct kvmw_source src;
	const char *arg;
	__u64 vm_id;
	int rc;

	rc = kvmw_budget_parse_set(ctx, argc, argv, &cfg, &arg);
	if (rc != KVMW_CONTINUE)
		return rc;
	rc = kvmw_open_vm(ctx, "budget", arg, KVMW_SRC_CONTROL, &src, &vm_id);
	if (rc)
		return rc;
	rc = kvmw_budget_set(&src, vm_id, &cfg);
	kvmw_source_close(&src);
	if (rc)
		return budget_error(ctx, "set budget of", vm_id, rc);
	fprintf(ctx->out, "VM %" PRIu64 ": budget set: ", (uint64_t)vm_id);
	print_cfg(ctx->out, &cfg);
	fputc('\n', ctx->out);
	return KVMW_EXIT_OK;
}

static int budget_clear_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_source src;
	__u64 vm_id;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		kvmw_usage_budget(ctx->out);
		return KVMW_EXIT_OK;
	}
	if (argc != 2)
		return kvmw_usage_error(ctx, "budget",
					argc < 2 ? "no VM given" :
					"clear takes one VM");
	rc = kvmw_open_vm(ctx, "budget", argv[1], KVMW_SRC_CONTROL, &src,
			  &vm_id);
	if (rc)
		return rc;
	rc = kvmw_budget_clear(&src, vm_id);
	kvmw_source_close(&src);
	if (rc)
		return budget_error(ctx, "clear budget of", vm_id, rc);
	fprintf(ctx->out, "VM %" PRIu64 ": budget cleared\n",
		(uint64_t)vm_id);
	return KVMW_EXIT_OK;
}

static const struct option show_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int budget_show_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_budget_row *rows = NULL;
	const struct kvmw_vm **vms = NULL;
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	size_t nr = 0, i;
	bool json = false;
	int c, rc, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", show_options,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			kvmw_usage_budget(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "budget", c, argv);
		}
	}
	rc = kvmw_open_source_flags(ctx, &src, 0);
	if (rc)
		return rc;
	ret = kvmw_snapshot_take(&src, NULL, 0, true, &snap);
	if (ret) {
		kvmw_dev_error(ctx, "snapshot", ret);
		kvmw_source_close(&src);
		return KVMW_EXIT_RUNTIME;
	}
	kvmw_snapshot_names(&snap, ctx->proc);
	rows = calloc(snap.nr_vms + 1, sizeof(*rows));
	if (!rows) {
		kvmw_error(ctx, "out of memory");
		rc = KVMW_EXIT_RUNTIME;
		goto out;
	}
	vms = calloc(snap.nr_vms + 1, sizeof(*vms));
	if (!vms) {
		kvmw_error(ctx, "out of memory");
		rc = KVMW_EXIT_RUNTIME;
		goto out;
	}
	rc = kvmw_resolve_vms(ctx, "budget", &snap, argv + optind,
			      (size_t)(argc - optind), vms, &nr);
	if (rc)
		goto out;
	for (i = 0; i < nr; i++)
		rows[i].vm = vms[i];
	for (i = 0; i < nr; i++) {
		ret = kvmw_budget_get(&src, rows[i].vm->vm_id, &rows[i].cfg);
		/* Gone since the snapshot: shown without a budget. */
		if (ret == -ENOENT) {
			rows[i].gone = true;
		} else if (ret) {
			rc = budget_error(ctx, "read budget of",
					  rows[i].vm->vm_id, ret);
			goto out;
		}
		kvmw_vm_budget_stats(&snap.raw, rows[i].vm, &rows[i].stats);
	}
	if (json)
		ret = kvmw_print_budget_json(ctx->out, rows, nr);
	else
		ret = kvmw_print_budget_table(ctx->out, rows, nr);
	rc = ret ? KVMW_EXIT_RUNTIME : KVMW_EXIT_OK;
out:
	free(vms);
	free(rows);
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return rc;
}

/* Host-wide default budgets: "budget default set|show|clear". */

#define CGROUP_ROOT	"/sys/fs/cgroup"

static int default_error(struct kvmw_ctx *ctx, const char *what, __u32 slot,
			 int err)
{
	switch (err) {
	case -EPERM:
		kvmw_error(ctx, "%s default budget %u: permission denied: needs root (CAP_SYS_ADMIN)",
			   what, slot);
		return KVMW_EXIT_PERM;
	case -EBADF:
		kvmw_error(ctx, "%s default budget %u: %s is open read-only, or the cgroup is not a cgroup v2 directory",
			   what, slot, ctx->device);
		return KVMW_EXIT_PERM;
	case -EINVAL:
		kvmw_error(ctx, "%s default budget %u: the kernel module rejected a value (EINVAL); nothing changed",
			   what, slot);
		return KVMW_EXIT_RUNTIME;
	case -ENOTSUP:
	case -ENOTTY:
		kvmw_error(ctx, "%s default budget %u: the kernel module has no default budgets (feature 'budget_default')",
			   what, slot);
		return KVMW_EXIT_RUNTIME;
	default:
		kvmw_error(ctx, "%s default budget %u: %s", what, slot,
			   strerror(-err));
		return KVMW_EXIT_RUNTIME;
	}
}

static int parse_slot(struct kvmw_ctx *ctx, const char *arg, __u32 *slot)
{
	__u64 v;

	if (kvmw_parse_count(arg, 0, KVMW_BUDGET_MAX_DEFAULTS - 1, &v))
		return kvmw_usage_error(ctx, "budget",
					"bad slot '%s' (0 to %u)", arg,
					KVMW_BUDGET_MAX_DEFAULTS - 1);
	*slot = (__u32)v;
	return KVMW_CONTINUE;
}

/* The value of option @name in argv[*i] ("--name V" or "--name=V"). */
static const char *take_opt(char **argv, int argc, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int default_set(struct kvmw_ctx *ctx, int argc, char **argv)
{
	const char *comm = NULL, *cgroup = NULL, *slot_arg, *v;
	struct kvmw_budget_default_cfg d;
	char path[4096], **rest;
	struct kvmw_source src;
	int i, nrest = 0, rc;
	__u32 slot = 0;

	/* --comm and --cgroup are default set's own; the rest is set's. */
	rest = calloc(argc + 1, sizeof(*rest));
	if (!rest) {
		kvmw_error(ctx, "out of memory");
		return KVMW_EXIT_RUNTIME;
	}
	for (i = 0; i < argc; i++) {
		v = i ? take_opt(argv, argc, &i, "--comm") : NULL;
		if (v) {
			comm = v;
			continue;
		}
		v = i ? take_opt(argv, argc, &i, "--cgroup") : NULL;
		if (v) {
			cgroup = v;
			continue;
		}
		rest[nrest++] = argv[i];
	}
	memset(&d, 0, sizeof(d));
	d.cgroup_fd = -1;
	rc = kvmw_budget_parse_set(ctx, nrest, rest, &d.budget, &slot_arg);
	if (rc == KVMW_CONTINUE)
		rc = parse_slot(ctx, slot_arg, &slot);
	free(rest);
	if (rc != KVMW_CONTINUE)
		return rc;
	if (comm && (!comm[0] || strlen(comm) >= sizeof(d.comm)))
		return kvmw_usage_error(ctx, "budget",
					"bad --comm '%s' (1 to 15 characters, as /proc/PID/comm)",
					comm);
	if (comm)
		strcpy(d.comm, comm);
	if (cgroup) {
		snprintf(path, sizeof(path), "%s%s%s",
			 cgroup[0] == '/' ? "" : CGROUP_ROOT,
			 cgroup[0] == '/' ? "" : "/", cgroup);
		d.cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d.cgroup_fd < 0) {
			kvmw_error(ctx, "cgroup %s: %s", path, strerror(errno));
			return KVMW_EXIT_RUNTIME;
		}
	}
	rc = kvmw_open_source_flags(ctx, &src, KVMW_SRC_CONTROL);
	if (rc)
		goto out;
	rc = kvmw_budget_default_set(&src, slot, &d);
	kvmw_source_close(&src);
	if (rc) {
		rc = default_error(ctx, "set", slot, rc);
		goto out;
	}
	fprintf(ctx->out, "default budget %u set: comm %s, cgroup %s: ", slot,
		comm ? comm : "any", cgroup ? path : "any");
	print_cfg(ctx->out, &d.budget);
	fputc('\n', ctx->out);
	rc = KVMW_EXIT_OK;
out:
	if (d.cgroup_fd >= 0)
		close(d.cgroup_fd);
	return rc;
}

static int default_clear(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_source src;
	__u32 slot = 0;
	int rc;

	if (argc != 2)
		return kvmw_usage_error(ctx, "budget",
					argc < 2 ? "no slot given" :
					"default clear takes one slot");
	rc = parse_slot(ctx, argv[1], &slot);
	if (rc != KVMW_CONTINUE)
		return rc;
	rc = kvmw_open_source_flags(ctx, &src, KVMW_SRC_CONTROL);
	if (rc)
		return rc;
	rc = kvmw_budget_default_clear(&src, slot);
	kvmw_source_close(&src);
	if (rc)
		return default_error(ctx, "clear", slot, rc);
	fprintf(ctx->out, "default budget %u cleared\n", slot);
	return KVMW_EXIT_OK;
}

/* The cgroup directory of id (inode) @id under CGROUP_ROOT, found by nftw. */
static __u64 cg_want;
static char cg_found[4096];

static int cg_visit(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && (__u64)st->st_ino == cg_want) {
		snprintf(cg_found, sizeof(cg_found), "%s", path);
		return 1;
	}
	return 0;
}

static const char *cgroup_path(__u64 id)
{
	cg_want = id;
	cg_found[0] = '\0';
	if (nftw(CGROUP_ROOT, cg_visit, 16, FTW_PHYS) != 1)
		return NULL;
	return cg_found;
}

static void default_json(struct kvmw_json *j, __u32 slot,
			 const struct kvmw_budget_default_cfg *d)
{
	const struct kvmw_budget_cfg *cfg = &d->budget;
	const char *mode = kvmw_budget_mode_name(cfg->mode);
	const char *cg = d->cgroup_id ? cgroup_path(d->cgroup_id) : NULL;
	unsigned int k, c;

	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "slot", slot);
	kvmw_json_key(j, "comm");
	if (d->comm[0])
		kvmw_json_string(j, d->comm);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "cgroup_id");
	if (d->cgroup_id)
		kvmw_json_u64(j, d->cgroup_id);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "cgroup");
	if (cg)
		kvmw_json_string(j, cg);
	else
		kvmw_json_null(j);
	kvmw_json_kv_u64(j, "matched", d->matched);
	kvmw_json_key(j, "mode");
	kvmw_json_string(j, mode ? mode : "unknown");
	kvmw_json_key(j, "guard_audit");
	kvmw_json_bool(j, cfg->guard_audit);
	kvmw_json_kv_u64(j, "max_park_ns", cfg->max_park_ns);
	kvmw_json_kv_u64(j, "guard_window_ns", cfg->guard_window_ns);
	kvmw_json_kv_u64(j, "guard_pct", cfg->guard_pct);
	kvmw_json_key(j, "buckets");
	kvmw_json_begin_array(j);
	for (k = 0; k < cfg->nr_buckets; k++) {
		const struct kvmw_budget_bucket_cfg *q = &cfg->b[k];
		__u64 scope = q->categories ? q->categories :
			      KVMW_BUDGET_DEFAULT_SCOPE;

		kvmw_json_begin_object(j);
		kvmw_json_key(j, "categories");
		kvmw_json_begin_array(j);
		for (c = 0; c < KVMW_NR_CATEGORIES; c++)
			if (scope & (1ULL << c))
				kvmw_json_string(j, kvmw_category_name(c));
		kvmw_json_end_array(j);
		kvmw_json_kv_u64(j, "categories_mask", q->categories);
		kvmw_json_kv_u64(j, "rate", q->rate);
		kvmw_json_kv_u64(j, "burst", q->burst);
		kvmw_json_kv_u64(j, "credit", q->credit);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	kvmw_json_end_object(j);
}

static void default_text(FILE *f, __u32 slot,
			 const struct kvmw_budget_default_cfg *d)
{
	const char *cg;

	if (d->budget.mode == KVMW_BUDGET_OFF) {
		fprintf(f, "slot %u: empty\n", slot);
		return;
	}
	fprintf(f, "slot %u: comm %s, cgroup ", slot,
		d->comm[0] ? d->comm : "any");
	if (!d->cgroup_id) {
		fputs("any", f);
	} else {
		cg = cgroup_path(d->cgroup_id);
		if (cg)
			fprintf(f, "%s", cg);
		else
			fprintf(f, "id %" PRIu64, (uint64_t)d->cgroup_id);
	}
	fprintf(f, ", matched %" PRIu64 ": ", (uint64_t)d->matched);
	print_cfg(f, &d->budget);
	fputc('\n', f);
}

static int default_show(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_budget_default_cfg d;
	__u32 slots[KVMW_BUDGET_MAX_DEFAULTS], nr = 0, i;
	struct kvmw_source src;
	struct kvmw_json j;
	bool json = false;
	int c, rc, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", show_options,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			kvmw_usage_budget(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "budget", c, argv);
		}
	}
	if (argc - optind > KVMW_BUDGET_MAX_DEFAULTS)
		return kvmw_usage_error(ctx, "budget", "too many slots");
	for (i = optind; i < (__u32)argc; i++) {
		rc = parse_slot(ctx, argv[i], &slots[nr++]);
		if (rc != KVMW_CONTINUE)
			return rc;
	}
	if (!nr)
		for (nr = 0; nr < KVMW_BUDGET_MAX_DEFAULTS; nr++)
			slots[nr] = nr;
	rc = kvmw_open_source_flags(ctx, &src, 0);
	if (rc)
		return rc;
	if (json) {
		kvmw_json_init(&j, ctx->out, true);
		kvmw_json_begin_object(&j);
		kvmw_json_kv_u64(&j, "schema_version",
				 KVMW_JSON_SCHEMA_VERSION);
		kvmw_json_key(&j, "defaults");
		kvmw_json_begin_array(&j);
	}
	rc = KVMW_EXIT_OK;
	for (i = 0; i < nr; i++) {
		ret = kvmw_budget_default_get(&src, slots[i], &d);
		if (ret) {
			rc = default_error(ctx, "read", slots[i], ret);
			break;
		}
		if (json)
			default_json(&j, slots[i], &d);
		else
			default_text(ctx->out, slots[i], &d);
	}
	if (json) {
		kvmw_json_end_array(&j);
		kvmw_json_end_object(&j);
		if (kvmw_json_finish(&j) && !rc)
			rc = KVMW_EXIT_RUNTIME;
	}
	kvmw_source_close(&src);
	return rc;
}

static int budget_default_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return kvmw_usage_error(ctx, "budget",
					"no default subcommand (set, show, clear)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		kvmw_usage_budget(ctx->out);
		return KVMW_EXIT_OK;
	}
	if (!strcmp(argv[1], "set"))
		return default_set(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return default_show(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "clear"))
		return default_clear(ctx, argc - 1, argv + 1);
	return kvmw_usage_error(ctx, "budget",
				"unknown default subcommand '%s'", argv[1]);
}
