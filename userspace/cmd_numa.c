// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden numa: set, show and clear a VM's NUMA placement policy
 * (Documentation/numa.rst): pin its vCPU threads to nodes, or let them
 * follow the VM's memory.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/* JSON document version of "numa show --json". */
#define NUMA_JSON_SCHEMA_VERSION	1
#define MSEC				1000000ULL

struct numa_sub {
	const char *name;
	const char *synopsis;
	int (*run)(struct kvmw_ctx *ctx, int argc, char **argv);
};

static int numa_set_cmd(struct kvmw_ctx *ctx, int argc, char **argv);
static int numa_show_cmd(struct kvmw_ctx *ctx, int argc, char **argv);
static int numa_clear_cmd(struct kvmw_ctx *ctx, int argc, char **argv);

static const struct numa_sub subs[] = {
	{ "set", "set VM pin NODES\n"
		 "       kvmwarden numa set VM follow [--threshold PCT] [--margin PCT] [--passes N]\n"
		 "                                    [--dwell DUR] [--interval DUR] [--strict]",
	  numa_set_cmd },
	{ "show", "show [VM...] [--json]", numa_show_cmd },
	{ "clear", "clear VM", numa_clear_cmd },
};

void kvmw_usage_numa(FILE *f)
{
	size_t i;

	fputs("Usage:", f);
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		fprintf(f, "%s kvmwarden numa %s\n", i ? "      " : "",
			subs[i].synopsis);
	fputs("\n"
	      "Place a VM's vCPU threads (needs root). pin: on the CPUs of NODES\n"
	      "(\"1\", \"0-1\", \"0,2\"), within the affinity they already have. follow: on\n"
	      "the node holding most of the VM's memory, with hysteresis. set replaces\n"
	      "the policy; clear gives every thread back its own affinity.\n"
	      "VM: id (3), pid:PID, name:NAME, uuid:UUID or a name.\n"
	      "\n"
	      "  -t, --threshold PCT  follow: fine while PCT% of memory is local (default 90)\n"
	      "  -M, --margin PCT     follow: move only to a node PCT points ahead (default 20)\n"
	      "  -n, --passes N       follow: passes a move must stay due (default 3)\n"
	      "  -d, --dwell DUR      follow: no move sooner after the last (default 60s)\n"
	      "  -i, --interval DUR   follow: time between passes, 10ms to 60s (default 1s)\n"
	      "  -s, --strict         follow: move every vCPU thread or none\n"
	      "  -j, --json           show: one JSON document\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden numa set web1 pin 1          vCPUs of web1 on node 1\n"
	      "  kvmwarden numa set pid:4242 follow --dwell 300s\n"
	      "  kvmwarden numa show                    policy, node, local memory, moves\n"
	      "  kvmwarden numa clear web1\n"
	      "\n"
	      "Exit status: 0 ok, 1 error, 2 usage or bad value, 3 VM not found,\n"
	      "4 permission denied. Details: kvmwarden(8).\n", f);
}

int kvmw_cmd_numa(struct kvmw_ctx *ctx, int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return kvmw_usage_error(ctx, "numa",
					"no subcommand (set, show, clear)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		kvmw_usage_numa(ctx->out);
		return KVMW_EXIT_OK;
	}
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(ctx, argc - 1, argv + 1);
	return kvmw_usage_error(ctx, "numa", "unknown subcommand '%s'",
				argv[1]);
}

/* The error of a placement operation on VM @vm_id, as an exit code. */
static int numa_error(struct kvmw_ctx *ctx, const char *what, __u64 vm_id,
		      __u32 flags, int err)
{
	switch (err) {
	case -EPERM:
		kvmw_error(ctx, "%s VM %" PRIu64 ": permission denied: needs root (CAP_SYS_ADMIN)",
			   what, (uint64_t)vm_id);
		return KVMW_EXIT_PERM;
	case -EBADF:
		kvmw_error(ctx, "%s VM %" PRIu64 ": %s is open read-only; placement needs it opened for writing",
			   what, (uint64_t)vm_id, ctx->device);
		return KVMW_EXIT_PERM;
	case -ENOENT:
		kvmw_error(ctx, "%s VM %" PRIu64 ": the VM is gone", what,
			   (uint64_t)vm_id);
		return KVMW_EXIT_NO_VM;
	case -EINVAL:
		kvmw_error(ctx, "%s VM %" PRIu64 ": the kernel module rejected it (EINVAL: a node without CPUs or beyond the host's, or a vCPU thread whose affinity allows none of the nodes' CPUs); nothing changed",
			   what, (uint64_t)vm_id);
		return KVMW_EXIT_RUNTIME;
	case -EOPNOTSUPP:
	case -ENOTTY:
		if (flags & KVMW_NUMA_F_ALL_THREADS)
			kvmw_error(ctx, "%s VM %" PRIu64 ": the kernel module cannot place the VMM's other threads",
				   what, (uint64_t)vm_id);
		else
			kvmw_error(ctx, "%s VM %" PRIu64 ": the kernel module has no NUMA placement (feature 'numa_place')",
				   what, (uint64_t)vm_id);
		return KVMW_EXIT_RUNTIME;
	default:
		kvmw_error(ctx, "%s VM %" PRIu64 ": %s", what, (uint64_t)vm_id,
			   strerror(-err));
		return KVMW_EXIT_RUNTIME;
	}
}

/* A percentage 1 to 100 of option @opt. */
static int parse_pct(struct kvmw_ctx *ctx, const char *opt, const char *arg,
		     __u32 *v)
{
	__u64 x;

	if (kvmw_parse_count(arg, 1, 100, &x))
		return kvmw_usage_error(ctx, "numa",
					"bad %s '%s' (percent, 1 to 100)", opt,
					arg);
	*v = (__u32)x;
	return KVMW_CONTINUE;
}

/* A duration of whole milliseconds from @min_ms to @max_ms. */
static int parse_ms(struct kvmw_ctx *ctx, const char *opt, const char *arg,
		    __u32 min_ms, __u32 max_ms, __u32 *v)
{
	__u64 ns;

	if (kvmw_parse_duration(arg, min_ms * MSEC, max_ms * MSEC, &ns) ||
	    ns % MSEC)
		return kvmw_usage_error(ctx, "numa",
					"bad %s '%s' (whole ms, %u ms to %u s)",
					opt, arg, min_ms, max_ms / 1000);
	*v = (__u32)(ns / MSEC);
	return KVMW_CONTINUE;
}

/* VM, then the policy, then (pin) the nodes. */
static int set_positional(struct kvmw_ctx *ctx, const char *arg,
			  struct kvmw_numa_cfg *cfg, const char **vm,
			  bool *have_nodes)
{
	if (!*vm) {
		*vm = arg;
	} else if (!cfg->policy) {
		if (!strcmp(arg, "pin"))
			cfg->policy = KVMW_NUMA_PIN;
		else if (!strcmp(arg, "follow"))
			cfg->policy = KVMW_NUMA_FOLLOW;
		else
			return kvmw_usage_error(ctx, "numa",
						"unknown policy '%s' (pin or follow; 'numa clear' removes one)",
						arg);
	} else if (cfg->policy == KVMW_NUMA_PIN && !*have_nodes) {
		if (kvmw_parse_nodelist(arg, cfg->nodes))
			return kvmw_usage_error(ctx, "numa",
						"bad node list '%s' (e.g. 1, 0-1, 0,2; below %u)",
						arg, KVMW_NUMA_MAX_NODES);
		*have_nodes = true;
	} else {
		return kvmw_usage_error(ctx, "numa", "unexpected argument '%s'",
					arg);
	}
	return KVMW_CONTINUE;
}

static const struct option set_options[] = {
	{ "threshold", required_argument, NULL, 't' },
	{ "margin", required_argument, NULL, 'M' },
	{ "passes", required_argument, NULL, 'n' },
	{ "dwell", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "strict", no_argument, NULL, 's' },
	{ "all-threads", no_argument, NULL, 'A' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_numa_parse_set(struct kvmw_ctx *ctx, int argc, char **argv,
			struct kvmw_numa_cfg *cfg, const char **vm)
{
	bool follow_opt = false, have_nodes = false;
	char why[160];
	__u64 v;
	int c, rc = KVMW_CONTINUE;

	memset(cfg, 0, sizeof(*cfg));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:t:M:n:d:i:sAh", set_options,
				NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* A positional argument: take it, go on after it. */
			rc = set_positional(ctx, argv[optind++], cfg, vm,
					    &have_nodes);
			if (rc != KVMW_CONTINUE)
				return rc;
			continue;
		}
		switch (c) {
		case 't':
			follow_opt = true;
			rc = parse_pct(ctx, "threshold", optarg,
				       &cfg->threshold_pct);
			break;
		case 'M':
			follow_opt = true;
			rc = parse_pct(ctx, "margin", optarg, &cfg->margin_pct);
			break;
		case 'n':
			follow_opt = true;
			if (kvmw_parse_count(optarg, 1, KVMW_NUMA_MAX_PASSES,
					     &v))
				return kvmw_usage_error(ctx, "numa",
							"bad passes '%s' (1 to %u)",
							optarg,
							KVMW_NUMA_MAX_PASSES);
			cfg->passes = (__u32)v;
			break;
		case 'd':
			follow_opt = true;
			rc = parse_ms(ctx, "dwell", optarg, 1,
				      KVMW_NUMA_MAX_DWELL_MS, &cfg->dwell_ms);
			break;
		case 'i':
			follow_opt = true;
			rc = parse_ms(ctx, "interval", optarg,
				      KVMW_NUMA_MIN_INTERVAL_MS,
				      KVMW_NUMA_MAX_INTERVAL_MS,
				      &cfg->interval_ms);
			break;
		case 's':
			cfg->flags |= KVMW_NUMA_F_STRICT;
			break;
		case 'A':
			cfg->flags |= KVMW_NUMA_F_ALL_THREADS;
			break;
		case 'h':
			kvmw_usage_numa(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "numa", c, argv);
		}
		if (rc != KVMW_CONTINUE)
			return rc;
	}
	if (!*vm)
		return kvmw_usage_error(ctx, "numa", "no VM given");
	if (!cfg->policy)
		return kvmw_usage_error(ctx, "numa",
					"no policy given (pin NODES or follow)");
	if (cfg->policy == KVMW_NUMA_PIN && !have_nodes)
		return kvmw_usage_error(ctx, "numa",
					"pin needs NODES (e.g. 1, 0-1)");
	if (follow_opt && cfg->policy != KVMW_NUMA_FOLLOW)
		return kvmw_usage_error(ctx, "numa",
					"--threshold, --margin, --passes, --dwell and --interval are for follow");
	if (kvmw_numa_check(cfg, why, sizeof(why)))
		return kvmw_usage_error(ctx, "numa", "%s", why);
	return KVMW_CONTINUE;
}

/* "pin 0-1", "follow" as set, for messages. */
static void describe(char *buf, size_t len, const struct kvmw_numa_cfg *cfg)
{
	char nodes[256];
	const char *name = kvmw_numa_policy_name(cfg->policy);

	if (cfg->policy == KVMW_NUMA_PIN)
		snprintf(buf, len, "pin %s%s",
			 kvmw_fmt_nodelist(nodes, sizeof(nodes), cfg->nodes,
					   KVMW_NUMA_NODE_WORDS),
			 cfg->flags & KVMW_NUMA_F_STRICT ? ", strict" : "");
	else
		snprintf(buf, len, "%s%s", name ? name : "unknown",
			 cfg->flags & KVMW_NUMA_F_STRICT ? ", strict" : "");
}

static int numa_set_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_numa_cfg cfg;
	struct kvmw_source src;
	const char *vm = NULL;
	char what[300];
	__u64 vm_id;
	int rc;

	rc = kvmw_numa_parse_set(ctx, argc, argv, &cfg, &vm);
	if (rc != KVMW_CONTINUE)
		return rc;
	rc = kvmw_open_vm(ctx, "numa", vm, KVMW_SRC_CONTROL, &src, &vm_id);
	if (rc)
		return rc;
	rc = kvmw_numa_set(&src, vm_id, &cfg);
	kvmw_source_close(&src);
	if (rc)
		return numa_error(ctx, "place", vm_id, cfg.flags, rc);
	describe(what, sizeof(what), &cfg);
	fprintf(ctx->out, "VM %" PRIu64 ": NUMA policy set: %s\n",
		(uint64_t)vm_id, what);
	return KVMW_EXIT_OK;
}

static int numa_clear_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_source src;
	__u64 vm_id;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		kvmw_usage_numa(ctx->out);
		return KVMW_EXIT_OK;
	}
	if (argc != 2)
		return kvmw_usage_error(ctx, "numa",
					argc < 2 ? "no VM given" :
					"clear takes one VM");
	rc = kvmw_open_vm(ctx, "numa", argv[1], KVMW_SRC_CONTROL, &src,
			  &vm_id);
	if (rc)
		return rc;
	rc = kvmw_numa_clear(&src, vm_id);
	kvmw_source_close(&src);
	if (rc)
		return numa_error(ctx, "clear NUMA policy of", vm_id, 0, rc);
	fprintf(ctx->out, "VM %" PRIu64 ": NUMA policy cleared, affinity restored\n",
		(uint64_t)vm_id);
	return KVMW_EXIT_OK;
}

struct numa_row {
	const struct kvmw_vm *vm;
	struct kvmw_numa_cfg cfg;
	bool gone;
};

/* A node number, or "-" for none. */
static const char *node_str(char *buf, size_t len, __u32 node)
{
	if (node == KVMW_NUMA_NODE_NONE)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%u", node);
	return buf;
}

static const char *balancing_str(__u32 b)
{
	if (b == KVMW_NUMA_BALANCING_UNKNOWN)
		return "unknown";
	return b ? "on" : "off";
}

static void print_table(FILE *f, const struct numa_row *rows, size_t nr)
{
	char nodes[128], node[16], ran[128], sup[64];
	size_t i;

	fprintf(f, "%6s %-16s %-8s %-8s %5s %7s %7s %-15s %s\n", "VM",
		"NAME", "POLICY", "NODES", "NODE", "LOCAL%", "MOVES",
		"SUPPR d/h/r/c", "PLACED RAN");
	for (i = 0; i < nr; i++) {
		const struct numa_row *r = &rows[i];
		const struct kvmw_numa_cfg *c = &r->cfg;
		const char *pol = kvmw_numa_policy_name(c->policy);

		kvmw_fmt_nodelist(nodes, sizeof(nodes), c->nodes,
				  KVMW_NUMA_NODE_WORDS);
		kvmw_fmt_nodelist(ran, sizeof(ran), &c->ran_nodes, 1);
		snprintf(sup, sizeof(sup), "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64,
			 (uint64_t)c->suppressed_dwell,
			 (uint64_t)c->suppressed_hysteresis,
			 (uint64_t)c->suppressed_rate,
			 (uint64_t)c->suppressed_conflict);
		fprintf(f, "%6" PRIu64 " %-16.16s %-8s %-8s %5s ",
			(uint64_t)r->vm->vm_id,
			r->vm->name[0] ? r->vm->name : "-",
			r->gone ? "(gone)" : pol ? pol : "unknown",
			nodes[0] ? nodes : "-",
			node_str(node, sizeof(node), c->cur_node));
		if (c->policy == KVMW_NUMA_NONE || r->gone)
			fprintf(f, "%7s", "-");
		else
			fprintf(f, "%7.1f", c->local_pml / 10.0);
		fprintf(f, " %7" PRIu64 " %-15s %u/%u %s%s\n",
			(uint64_t)c->moves, sup, c->nr_placed, c->nr_threads,
			ran[0] ? ran : "-",
			c->flags & KVMW_NUMA_F_STRICT ? " strict" : "");
	}
	if (nr)
		fprintf(f, "automatic NUMA balancing: %s; follow moves at most %u per minute on this host\n",
			balancing_str(rows[0].cfg.numa_balancing),
			rows[0].cfg.max_moves_per_min);
}

/* The nodes of the mask @nodes as an array of numbers on one line. */
static void json_nodes(struct kvmw_json *j, const char *key,
		       const __u64 *nodes, size_t nr_words)
{
	__u64 list[KVMW_NUMA_MAX_NODES];
	size_t n, nr = 0;

	for (n = 0; n < nr_words * 64 && n < KVMW_NUMA_MAX_NODES; n++)
		if (nodes[n / 64] & (1ULL << (n % 64)))
			list[nr++] = n;
	kvmw_json_key(j, key);
	kvmw_json_u64_array(j, list, nr);
}

static int print_json(FILE *f, const struct numa_row *rows, size_t nr)
{
	struct kvmw_json j;
	size_t i;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	kvmw_json_kv_u64(&j, "schema_version", NUMA_JSON_SCHEMA_VERSION);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < nr; i++) {
		const struct numa_row *r = &rows[i];
		const struct kvmw_numa_cfg *c = &r->cfg;
		const char *pol = kvmw_numa_policy_name(c->policy);

		kvmw_json_begin_object(&j);
		kvmw_json_kv_u64(&j, "vm_id", r->vm->vm_id);
		kvmw_json_kv_u64(&j, "vmm_pid", r->vm->pid);
		kvmw_json_key(&j, "name");
		if (r->vm->name[0])
			kvmw_json_string(&j, r->vm->name);
		else
			kvmw_json_null(&j);
		kvmw_json_key(&j, "gone");
		kvmw_json_bool(&j, r->gone);
		kvmw_json_key(&j, "policy");
		kvmw_json_string(&j, pol ? pol : "unknown");
		kvmw_json_key(&j, "strict");
		kvmw_json_bool(&j, c->flags & KVMW_NUMA_F_STRICT);
		kvmw_json_key(&j, "all_threads");
		kvmw_json_bool(&j, c->flags & KVMW_NUMA_F_ALL_THREADS);
		json_nodes(&j, "nodes", c->nodes, KVMW_NUMA_NODE_WORDS);
		kvmw_json_kv_u64(&j, "threshold_pct", c->threshold_pct);
		kvmw_json_kv_u64(&j, "margin_pct", c->margin_pct);
		kvmw_json_kv_u64(&j, "passes", c->passes);
		kvmw_json_kv_u64(&j, "dwell_ms", c->dwell_ms);
		kvmw_json_kv_u64(&j, "interval_ms", c->interval_ms);
		kvmw_json_key(&j, "current_node");
		if (c->cur_node == KVMW_NUMA_NODE_NONE)
			kvmw_json_null(&j);
		else
			kvmw_json_u64(&j, c->cur_node);
		json_nodes(&j, "ran_nodes", &c->ran_nodes, 1);
		kvmw_json_kv_u64(&j, "local_permille", c->local_pml);
		kvmw_json_kv_u64(&j, "moves", c->moves);
		kvmw_json_key(&j, "suppressed");
		kvmw_json_begin_object(&j);
		kvmw_json_kv_u64(&j, "dwell", c->suppressed_dwell);
		kvmw_json_kv_u64(&j, "hysteresis", c->suppressed_hysteresis);
		kvmw_json_kv_u64(&j, "rate", c->suppressed_rate);
		kvmw_json_kv_u64(&j, "conflict", c->suppressed_conflict);
		kvmw_json_end_object(&j);
		kvmw_json_kv_u64(&j, "threads", c->nr_threads);
		kvmw_json_kv_u64(&j, "threads_placed", c->nr_placed);
		kvmw_json_key(&j, "last_move_boottime_ns");
		if (c->last_move_ns)
			kvmw_json_u64(&j, c->last_move_ns);
		else
			kvmw_json_null(&j);
		kvmw_json_key(&j, "numa_balancing");
		if (c->numa_balancing == KVMW_NUMA_BALANCING_UNKNOWN)
			kvmw_json_null(&j);
		else
			kvmw_json_u64(&j, c->numa_balancing);
		kvmw_json_kv_u64(&j, "max_moves_per_min",
				 c->max_moves_per_min);
		kvmw_json_end_object(&j);
	}
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j);
}

static const struct option show_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int numa_show_cmd(struct kvmw_ctx *ctx, int argc, char **argv)
{
	const struct kvmw_vm **vms = NULL;
	struct numa_row *rows = NULL;
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
			kvmw_usage_numa(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "numa", c, argv);
		}
	}
	rc = kvmw_open_source_flags(ctx, &src, 0);
	if (rc)
		return rc;
	ret = kvmw_snapshot_take(&src, NULL, 0, false, &snap);
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
	rc = kvmw_resolve_vms(ctx, "numa", &snap, argv + optind,
			      (size_t)(argc - optind), vms, &nr);
	if (rc)
		goto out;
	for (i = 0; i < nr; i++)
		rows[i].vm = vms[i];
	for (i = 0; i < nr; i++) {
		ret = kvmw_numa_get(&src, rows[i].vm->vm_id, &rows[i].cfg);
		/* Gone since the snapshot: shown without a policy. */
		if (ret == -ENOENT) {
			rows[i].gone = true;
			rows[i].cfg.cur_node = KVMW_NUMA_NODE_NONE;
			rows[i].cfg.numa_balancing =
				KVMW_NUMA_BALANCING_UNKNOWN;
		} else if (ret) {
			rc = numa_error(ctx, "read NUMA policy of",
					rows[i].vm->vm_id, 0, ret);
			goto out;
		}
	}
	if (json)
		ret = print_json(ctx->out, rows, nr);
	else
		print_table(ctx->out, rows, nr);
	rc = ret ? KVMW_EXIT_RUNTIME : KVMW_EXIT_OK;
out:
	free(vms);
	free(rows);
	kvmw_snapshot_free(&snap);
	kvmw_source_close(&src);
	return rc;
}
