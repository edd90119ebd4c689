// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden list: the VMs the module tracks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cli.h"
#include "format.h"

void kvmw_usage_list(FILE *f)
{
	fputs("Usage: kvmwarden list [--json]\n"
	      "\n"
	      "Lists the VMs the module tracks, one per line: VM id (decimal),\n"
	      "VMM pid, VMM command name, vCPUs seen, total exits and state\n"
	      "(live, or gone: destroyed but its numbers are still kept).\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json   one JSON document instead of a table\n"
	      "  -h, --help   show this help\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden list\n"
	      "  kvmwarden list --json | jq '.vms[] | select(.gone | not) | .vm_id'\n",
	      f);
}

static const struct option list_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_cmd_list(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_snapshot snap;
	struct kvmw_source src;
	bool json = false;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", list_options,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			kvmw_usage_list(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "list", c, argv);
		}
	}
	if (optind < argc)
		return kvmw_usage_error(ctx, "list", "unexpected argument '%s'",
					argv[optind]);

	ret = kvmw_open_source_flags(ctx, &src, 0);
	if (ret)
		return ret;
	ret = kvmw_snapshot_take(&src, NULL, 0, false, &snap);
	kvmw_source_close(&src);
	if (ret) {
		kvmw_dev_error(ctx, "list VMs", ret);
		return KVMW_EXIT_RUNTIME;
	}
	kvmw_snapshot_names(&snap, ctx->proc);
	if (json)
		ret = kvmw_print_list_json(ctx->out, &snap);
	else
		ret = kvmw_print_list_table(ctx->out, &snap);
	kvmw_warn_untracked(ctx, &snap.host);
	kvmw_snapshot_free(&snap);
	if (ret == -ENOMEM) {
		kvmw_error(ctx, "out of memory");
		return KVMW_EXIT_RUNTIME;
	}
	/* Write errors are reported by kvmw_main(). */
	return ret ? KVMW_EXIT_RUNTIME : KVMW_EXIT_OK;
}
