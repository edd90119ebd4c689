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
	fputs("Usage: kvmwarden stat [-i INTERVAL] [-n TOP] [--json] [VMID...]\n"
	      "       kvmwarden stat -v VMID [-i INTERVAL] [-n TOP] [--json]\n"
	      "\n"
	      "Per VM: VMM pid and command name, vCPUs, state, total exits,\n"
	      "exits per second and the TOP exit reasons with their share of the\n"
	      "VM's exits (since the VM was first seen), then a line with the\n"
	      "VM's exit categories (io, mmio, halt, interrupt, ipi_apic, npf,\n"
	      "msr, cpuid, cr_dr, hypercall, pause, exception, other: the same\n"
	      "on Intel and AMD) and their shares, and a line with where its\n"
	      "vCPUs' time went: in the guest, or after exits as overhead (the\n"
	      "host handling them), idle (after halt-category exits: HLT, MWAIT)\n"
	      "or userspace (in the VMM); overhead % = overhead / (guest + exits).\n"
	      "The rate comes from two snapshots INTERVAL seconds apart. Without\n"
	      "VMID, all tracked VMs; a VMID is decimal or 0x-prefixed\n"
	      "hexadecimal, as 'list' shows it.\n"
	      "\n"
	      "A third line under each VM has its nested page faults (EPT\n"
	      "violations and NPF handled by KVM's MMU, 'faults' feature): their\n"
	      "number and the shares that were writes, instruction fetches, on a\n"
	      "present entry (permission faults) and MMIO; their latency from the\n"
	      "fault to the next guest entry: mean, P50 and P99 (coarse by a\n"
	      "factor of 2, as below) and max; and the NUMA nodes of the faulting\n"
	      "pages: faults per node (nodes with faults only) with their share\n"
	      "of the faults whose node was found, faults of unknown node (MMIO,\n"
	      "no memslot, not mapped yet, node >= 16) and the share of the\n"
	      "dominant node.\n"
	      "\n"
	      "With the 'sched' feature a line follows with the vCPU threads as\n"
	      "the host scheduler saw them inside KVM_RUN: run-queue delay (time\n"
	      "runnable but not running, after a wakeup or a preemption) in total\n"
	      "and as steal = run-queue delay / (guest + exits), the share of the\n"
	      "vCPUs' wall time spent waiting for a CPU (needs 'latency'); the\n"
	      "number of waits, mean, P99 (coarse, as below) and max wait;\n"
	      "preemptions (switched out while runnable), sleeps (blocked: HLT),\n"
	      "migrations to another CPU and how many crossed NUMA nodes; and the\n"
	      "share of the run time on each node.\n"
	      "\n"
	      "With the 'mem_numa' feature a line follows with where the VM's\n"
	      "memory lives, from the module's last complete sampling pass of the\n"
	      "memslots: guest pages, an estimate of the resident pages (samples\n"
	      "x stride) in total and per NUMA node with their shares of the\n"
	      "resident samples (unknown: node >= 16), and the remote ratio: the\n"
	      "share of the resident memory NOT on the home node, the node where\n"
	      "the VM's vCPUs ran longest (run times added over all its vCPUs, so\n"
	      "each weighs by how long it ran; '-' without 'sched').\n"
	      "\n"
	      "Then a table per VM of its TOP reasons: category, count, share and\n"
	      "the latency of the exits, from the exit to the vCPU's next guest\n"
	      "entry: MEAN, MIN, P50, P90, P99, P99.9 and MAX; USER% is the share\n"
	      "of the exits that returned to the VMM and USER their time there\n"
	      "(part of the latency); NOTE says idle (halt category: idle time,\n"
	      "not overhead), user or untimed (counted, not timed).\n"
	      "\n"
	      "Percentiles are coarse: the module keeps a log2 histogram per\n"
	      "reason (bucket b holds [2^b, 2^(b+1)) ns; the last, from 2^31 ns\n"
	      "= 2.15s, is open), so a percentile is known to a factor of 2 only.\n"
	      "The table shows the upper end of its bucket, capped at the exact\n"
	      "MAX: the true value is at most the one shown and at least half of\n"
	      "it. JSON gives both ends, \"p99_ns\": {\"bucket\": 10, \"lo\": 1024,\n"
	      "\"hi\": 2048} (lo <= p99 <= hi, narrowed to the exact min and max),\n"
	      "and the histograms (\"hist\", 32 buckets).\n"
	      "\n"
	      "A kernel module without latency accounting (no 'latency' feature)\n"
	      "gives no times: the time line and the latency columns are left out\n"
	      "and JSON has null for them. Likewise without fault counting (no\n"
	      "'faults' feature): no faults line or table, \"faults\": null; and\n"
	      "without 'sched' or 'mem_numa': no such line, \"sched\": null,\n"
	      "\"mem\": null.\n"
	      "\n"
	      "Options:\n"
	      "  -i, --interval SEC  seconds between snapshots, decimals allowed\n"
	      "                      (default 1; 0: totals only, no rate)\n"
	      "  -n, --top N         reasons shown per VM (or vCPU), in TOP REASONS\n"
	      "                      and in the reason tables (default 3; 0: one\n"
	      "                      line per VM, no reason tables). JSON always\n"
	      "                      lists all reasons and all categories.\n"
	      "  -v, --vcpus VMID    show VM VMID per vCPU: a row per vCPU with\n"
	      "                      exits, entries, guest time, overhead and\n"
	      "                      overhead %, idle and user time and untimed\n"
	      "                      exits, a row per vCPU with its faults\n"
	      "                      (write, fetch, present, mmio, mean and max\n"
	      "                      latency, per node), a row per vCPU with its\n"
	      "                      scheduler figures (last CPU and node,\n"
	      "                      run-queue delay, steal, waits, mean and max\n"
	      "                      wait, preemptions, sleeps, migrations,\n"
	      "                      cross-node ones, run time share per node),\n"
	      "                      then a reason table per vCPU\n"
	      "  -j, --json          one JSON document, with per-vCPU detail; a\n"
	      "                      \"faults\" object per VM and vCPU: counts,\n"
	      "                      shares, latency (\"hist\", percentiles as\n"
	      "                      {bucket, lo, hi}), \"nodes\" {\"0\": N, ...,\n"
	      "                      \"unknown\": N}, dominant node; a \"sched\"\n"
	      "                      object per VM and vCPU (rq_delay_*, steal_pct,\n"
	      "                      percentiles, \"hist\", preemptions, sleeps,\n"
	      "                      migrations, run_node_ns, home_node) and a\n"
	      "                      \"mem\" object per VM (the raw pass, nodes\n"
	      "                      with samples, pages_est, pct, remote_pct)\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden stat\n"
	      "  kvmwarden stat -i 0                       totals now, no waiting\n"
	      "  kvmwarden stat -i 0.5 -n 5 1 0x2          VMs 1 and 2\n"
	      "  kvmwarden stat -i 0 -n 20 3               20 reasons of VM 3\n"
	      "  kvmwarden stat -v 3 -n 10                 VM 3 per vCPU\n"
	      "  kvmwarden stat --json | jq '.vms[].reasons[0].name'\n"
	      "  kvmwarden stat --json | jq '.vms[] | {vm_id, pct: .time.overhead_pct}'\n"
	      "  kvmwarden stat -i 0 --json 3 |\n"
	      "    jq '.vms[0].reasons[] | {name, p99_max: .latency.p99_ns.hi}'\n"
	      "  kvmwarden stat --json | jq '.vms[].categories[] | select(.name == \"io\")'\n"
	      "  kvmwarden stat -i 0 --json |\n"
	      "    jq '.vms[] | {vm_id, nodes: .faults.nodes, p99: .faults.p99_ns.hi}'\n"
	      "  kvmwarden stat -i 0 --json |\n"
	      "    jq '.vms[] | {vm_id, steal: .sched.steal_pct, remote: .mem.remote_pct}'\n",
	      f);
}

static const struct option stat_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "vcpus", required_argument, NULL, 'v' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_stat_parse(struct kvmw_ctx *ctx, int argc, char **argv,
		    struct kvmw_stat_args *a)
{
	unsigned long top;
	__u64 vcpus_id = 0;
	int c, i;

	memset(a, 0, sizeof(*a));
	a->interval = DEFAULT_INTERVAL;
	a->top = DEFAULT_TOP;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:n:v:jh", stat_options,
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
			if (kvmw_parse_vmid(optarg, &vcpus_id))
				return kvmw_usage_error(ctx, "stat",
							"bad VM id '%s'",
							optarg);
			a->vcpus = true;
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
	if (!a->ids) {
		kvmw_error(ctx, "out of memory");
		return KVMW_EXIT_RUNTIME;
	}
	if (a->vcpus)
		a->ids[a->nr_ids++] = vcpus_id;
	for (i = optind; i < argc; i++) {
		__u64 id;
		size_t k;

		if (kvmw_parse_vmid(argv[i], &id)) {
			free(a->ids);
			a->ids = NULL;
			a->nr_ids = 0;
			return kvmw_usage_error(ctx, "stat",
						"bad VM id '%s'", argv[i]);
		}
		for (k = 0; k < a->nr_ids && a->ids[k] != id; k++)
			;
		if (k == a->nr_ids)
			a->ids[a->nr_ids++] = id;
	}
	return KVMW_CONTINUE;
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

	if (kvmw_open_source(ctx, &src))
		goto out;
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
	ret = kvmw_delta(have_prev ? &prev : NULL, &cur, &rows, &nr);
	if (ret) {
		kvmw_error(ctx, "out of memory");
		goto out_close;
	}

	opts.top = a.top;
	opts.interval = a.interval;
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
	rc = ret || report_missing(ctx, &a, rows, nr) ?
		KVMW_EXIT_RUNTIME : KVMW_EXIT_OK;
out_close:
	kvmw_source_close(&src);
out:
	free(rows);
	kvmw_snapshot_free(&prev);
	kvmw_snapshot_free(&cur);
	free(a.ids);
	return rc;
}
