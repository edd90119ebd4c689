// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden budget: set, show and clear a VM's exit budget
 * (Documentation/budgets.rst). The subcommands are a table, like the
 * commands: a new one is a function and a line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

static const struct budget_sub subs[] = {
	{ "set", "set VM --rate R [OPTIONS]\n"
		 "       kvmwarden budget set VM --bucket CATS:RATE[:BURST[:CREDIT]]... [OPTIONS]",
	  budget_set_cmd },
	{ "show", "show [VM...] [--json]", budget_show_cmd },
	{ "clear", "clear VM", budget_clear_cmd },
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

/* Opens the device and finds the one VM @arg names (summaries only). */
static int open_vm(struct kvmw_ctx *ctx, const char *cmd, const char *arg,
		   unsigned int flags, struct kvmw_source *src, __u64 *vm_id)
{
	const struct kvmw_vm *vm;
	struct kvmw_snapshot snap;
	int rc;

	rc = kvmw_open_source_flags(ctx, src, flags);
	if (rc)
		return rc;
	rc = kvmw_snapshot_take(src, NULL, 0, false, &snap);
	if (rc) {
		kvmw_dev_error(ctx, "list VMs", rc);
		kvmw_source_close(src);
		return KVMW_EXIT_RUNTIME;
	}
	kvmw_snapshot_names(&snap, ctx->proc);
	rc = kvmw_resolve_vm(ctx, cmd, &snap, arg, &vm);
	if (!rc)
		*vm_id = vm->vm_id;
	kvmw_snapshot_free(&snap);
	if (rc)
		kvmw_source_close(src);
	return rc;
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
	rc = open_vm(ctx, "budget", arg, KVMW_SRC_CONTROL, &src, &vm_id);
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
	rc = open_vm(ctx, "budget", argv[1], KVMW_SRC_CONTROL, &src, &vm_id);
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
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	size_t nr = 0, i, k;
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
	if (optind < argc) {
		for (i = optind; i < (size_t)argc; i++) {
			const struct kvmw_vm *vm;

			rc = kvmw_resolve_vm(ctx, "budget", &snap, argv[i],
					     &vm);
			if (rc)
				goto out;
			for (k = 0; k < nr && rows[k].vm != vm; k++)
				;
			if (k == nr)
				rows[nr++].vm = vm;
		}
	} else {
		for (i = 0; i < snap.nr_vms; i++)
			if (!snap.vms[i].gone)
				rows[nr++].vm = &snap.vms[i];
	}
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
	free(rows);
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return rc;
}
