// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden stat: per-VM exits, exits per second, top exit reasons, exit
 * categories, exit latencies, where the vCPUs' time went and nested page
 * faults; -v: one VM per vCPU.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "format.h"

#define DEFAULT_INTERVAL	1.0
#define DEFAULT_TOP		3
#define MAX_TOP			1000

void kvmw_usage_stat(FILE *f)
{
	fputs("Usage: kvmwarden stat [-i SEC] [-n TOP] [-l] [--json] [VM...]\n"
	      "       kvmwarden stat -v VM [-i SEC] [-n TOP] [-l] [--json]\n"
	      "\n"
	      "Exits per VM: totals, exits/s over SEC, overhead % and the TOP\n"
	      "reasons, then a table per VM of its TOP reasons with their exit\n"
	      "latency (mean, min, P50-P99.9, max). Columns and figures are\n"
	      "explained in kvmwarden(8). VM: an id (3), pid:PID, name:NAME or\n"
	      "a name (QEMU -name).\n"
	      "\n"
	      "  -i, --interval SEC  seconds between the samples (default 1; 0: no rate)\n"
	      "  -n, --top N         reasons per VM or vCPU (default 3; 0: none)\n"
	      "  -l, --long          add lines per VM: categories, time, faults,\n"
	      "                      scheduler (steal), memory (remote %) and budget\n"
	      "  -v, --vcpus VM      VM per vCPU\n"
	      "  -j, --json          one JSON document with everything (schema:\n"
	      "                      kvmwarden-stat.schema.json)\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden stat -i 0 -n 10 3          VM 3 now, 10 reasons\n"
	      "  kvmwarden stat -l -v 3               VM 3 per vCPU, all lines\n"
	      "  kvmwarden stat --json | jq '.vms[] | {vm_id, steal: .sched.steal_pct}'\n",
	      f);
}

static const struct option stat_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "vcpus", required_argument, NULL, 'v' },
	{ "long", no_argument, NULL, 'l' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_stat_parse(struct kvmw_ctx *ctx, int argc, char **argv,
		    struct kvmw_stat_args *a)
{
	const char *vcpus_arg = NULL;
	struct kvmw_vm_ref ref;
	unsigned long top;
	__u64 vcpus_id = 0;
	int c, i;

	memset(a, 0, sizeof(*a));
	a->interval = DEFAULT_INTERVAL;
	a->top = DEFAULT_TOP;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:n:v:ljh", stat_options,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			if (kvmw_parse_interval(optarg, &a->interval))
				return kvmw_usage_error(ctx, "stat",
							"bad interval '%s' (seconds, 0 to %.0f)",
							optarg,
							KVMW_MAX_INTERVAL);
			break;
		case 'n':
			if (kvmw_parse_uint(optarg, MAX_TOP, &top))
				return kvmw_usage_error(ctx, "stat",
							"bad number of reasons '%s' (0 to %d)",
							optarg, MAX_TOP);
			a->top = top;
			break;
		case 'v':
			if (kvmw_vm_ref_parse(optarg, &ref))
				return kvmw_usage_error(ctx, "stat",
							"bad VM '%s' (an id, pid:PID, name:NAME or a name)",
							optarg);
			vcpus_arg = optarg;
			vcpus_id = ref.id;
			a->vcpus = true;
			break;
		case 'l':
			a->detail = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			kvmw_usage_stat(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "stat", c, argv);
		}
	}
	if (a->vcpus && optind < argc)
		return kvmw_usage_error(ctx, "stat",
					"--vcpus shows one VM: unexpected VM id '%s'",
					argv[optind]);
	if (optind >= argc && !a->vcpus)
		return KVMW_CONTINUE;

	a->ids = calloc(a->vcpus ? 1 : argc - optind, sizeof(*a->ids));
	a->refs = calloc(a->vcpus ? 1 : argc - optind, sizeof(*a->refs));
	if (!a->ids || !a->refs) {
		kvmw_stat_args_free(a);
		kvmw_error(ctx, "out of memory");
		return KVMW_EXIT_RUNTIME;
	}
	if (a->vcpus && ref.kind == KVMW_REF_ID)
		a->ids[a->nr_ids++] = vcpus_id;
	else if (a->vcpus)
		a->refs[a->nr_refs++] = (char *)vcpus_arg;
	for (i = optind; i < argc; i++) {
		size_t k;

		if (kvmw_vm_ref_parse(argv[i], &ref)) {
			kvmw_stat_args_free(a);
			return kvmw_usage_error(ctx, "stat",
						"bad VM id '%s'", argv[i]);
		}
		if (ref.kind != KVMW_REF_ID) {
			a->refs[a->nr_refs++] = argv[i];
			continue;
		}
		for (k = 0; k < a->nr_ids && a->ids[k] != ref.id; k++)
			;
		if (k == a->nr_ids)
			a->ids[a->nr_ids++] = ref.id;
	}
	return KVMW_CONTINUE;
}

void kvmw_stat_args_free(struct kvmw_stat_args *a)
{
	free(a->ids);
	free(a->refs);
	a->ids = NULL;
	a->refs = NULL;
	a->nr_ids = 0;
	a->nr_refs = 0;
}

/*
 * Turns the VMs named by pid, name or uuid into ids (a->ids has room for
 * every argument). Returns 0 or an exit code.
 */
static int resolve_refs(struct kvmw_ctx *ctx, struct kvmw_source *src,
			struct kvmw_stat_args *a)
{
	struct kvmw_snapshot snap;
	size_t i, k;
	int ret, rc = 0;

	if (!a->nr_refs)
		return 0;
	ret = kvmw_snapshot_take(src, NULL, 0, false, &snap);
	if (ret) {
		kvmw_dev_error(ctx, "list VMs", ret);
		return KVMW_EXIT_RUNTIME;
	}
	kvmw_snapshot_names(&snap, ctx->proc);
	for (i = 0; i < a->nr_refs && !rc; i++) {
		const struct kvmw_vm *vm;

		rc = kvmw_resolve_vm(ctx, "stat", &snap, a->refs[i], &vm);
		if (rc)
			break;
		for (k = 0; k < a->nr_ids && a->ids[k] != vm->vm_id; k++)
			;
		if (k == a->nr_ids)
			a->ids[a->nr_ids++] = vm->vm_id;
	}
	kvmw_snapshot_free(&snap);
	return rc;
}

static void sleep_sec(double sec)
{
	struct timespec ts;

	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - floor(sec)) * 1e9);
	if (ts.tv_nsec > 999999999)
		ts.tv_nsec = 999999999;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Reports requested VMs that are in no sample. Returns how many. */
static size_t report_missing(struct kvmw_ctx *ctx,
			     const struct kvmw_stat_args *a,
			     const struct kvmw_delta_vm *rows, size_t nr)
{
	size_t i, k, missing = 0;

	for (i = 0; i < a->nr_ids; i++) {
		for (k = 0; k < nr && rows[k].vm->vm_id != a->ids[i]; k++)
			;
		if (k == nr) {
			kvmw_error(ctx, "VM %" PRIu64 ": not tracked",
				   (uint64_t)a->ids[i]);
			missing++;
		}
	}
	return missing;
}

int kvmw_cmd_stat(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_snapshot prev, cur;
	struct kvmw_stat_opts opts;
	struct kvmw_stat_args a;
	struct kvmw_delta_vm *rows = NULL;
	int ret, rc = KVMW_EXIT_RUNTIME;
	struct kvmw_source src;
	bool have_prev;
	size_t nr = 0;

	ret = kvmw_stat_parse(ctx, argc, argv, &a);
	if (ret != KVMW_CONTINUE)
		return ret;
	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
	have_prev = a.interval > 0;

	rc = kvmw_open_source_flags(ctx, &src, 0);
	if (rc)
		goto out;
	rc = resolve_refs(ctx, &src, &a);
	if (rc)
		goto out_close;
	rc = KVMW_EXIT_RUNTIME;
	if (have_prev) {
		ret = kvmw_snapshot_take(&src, a.ids, a.nr_ids, true, &prev);
		if (ret) {
			kvmw_dev_error(ctx, "snapshot", ret);
			goto out_close;
		}
		sleep_sec(a.interval);
	}
	ret = kvmw_snapshot_take(&src, a.ids, a.nr_ids, true, &cur);
	if (ret) {
		kvmw_dev_error(ctx, "snapshot", ret);
		goto out_close;
	}
	kvmw_snapshot_names(&cur, ctx->proc);
	ret = kvmw_delta(have_prev ? &prev : NULL, &cur, &rows, &nr);
	if (ret) {
		kvmw_error(ctx, "out of memory");
		goto out_close;
	}

	opts.top = a.top;
	opts.interval = a.interval;
	opts.detail = a.detail;
	if (a.json)
		ret = kvmw_print_stat_json(ctx->out, &cur, rows, nr, &opts);
	else if (a.vcpus)
		/* Only the VM asked for was sampled; none if it is gone. */
		ret = nr ? kvmw_print_stat_vcpus(ctx->out, &cur, &rows[0],
						 &opts) : 0;
	else
		ret = kvmw_print_stat_table(ctx->out, &cur, rows, nr, &opts);
	kvmw_warn_untracked(ctx, &cur.host);
	/* Write errors are reported by kvmw_main(). */
	if (ret)
		rc = KVMW_EXIT_RUNTIME;
	else
		rc = report_missing(ctx, &a, rows, nr) ? KVMW_EXIT_NO_VM :
		     KVMW_EXIT_OK;
out_close:
	kvmw_source_close(&src);
out:
	free(rows);
	kvmw_snapshot_free(&prev);
	kvmw_snapshot_free(&cur);
	kvmw_stat_args_free(&a);
	return rc;
}
