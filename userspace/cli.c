// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden command line: global options, command dispatch and the helpers
 * shared by the commands.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libkvmwarden.h"

static int cmd_help(struct kvmw_ctx *ctx, int argc, char **argv);
static void usage_help(FILE *f);

static const struct kvmw_cmd commands[] = {
	{ "list", "list the VMs kvmwarden tracks",
	  kvmw_cmd_list, kvmw_usage_list },
	{ "stat", "exits, reasons, latencies, faults, scheduling, memory per VM",
	  kvmw_cmd_stat, kvmw_usage_stat },
	{ "events", "follow VMs and vCPUs appearing and VMs going away",
	  kvmw_cmd_events, kvmw_usage_events },
	{ "budget", "set, show or clear a VM's exit budget",
	  kvmw_cmd_budget, kvmw_usage_budget },
	{ "numa", "pin a VM's vCPUs to NUMA nodes or let them follow its memory",
	  kvmw_cmd_numa, kvmw_usage_numa },
	{ "exporter", "serve Prometheus metrics over HTTP or write a textfile",
	  kvmw_cmd_exporter, kvmw_usage_exporter },
	{ "help", "show this help, or the help of a command",
	  cmd_help, usage_help },
};

#define NR_COMMANDS	ARRAY_SIZE(commands)

static void usage_main(FILE *f)
{
	size_t i;

	fputs("Usage: kvmwarden [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
	      "       kvmwarden --help | --version\n"
	      "\n"
	      "Count KVM VM exits per VM, per vCPU and per hardware exit reason,\n"
	      "as recorded by the kvmwarden kernel module (" KVMW_DEVICE_PATH ").\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Global options:\n"
	      "  -d, --device PATH  kvmwarden device (default " KVMW_DEVICE_PATH ")\n"
	      "      --proc DIR     where VMM command lines are read (default /proc)\n"
	      "  -h, --help         show this help; after a command, its help\n"
	      "  -V, --version      show the version and the UAPI version\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden list                    VMs with their VMM pid and exits\n"
	      "  kvmwarden stat                    exits/s over 1 s, top 3 reasons\n"
	      "  kvmwarden stat -i 5 -n 5 3        VM 3 only, 5 s interval, top 5\n"
	      "  kvmwarden stat -l                 with time, faults, steal, memory\n"
	      "  kvmwarden stat -v 3               VM 3 per vCPU\n"
	      "  kvmwarden stat -i 0 --json | jq '.vms[] | {vm_id, exits}'\n"
	      "  kvmwarden events                  VMs and vCPUs coming and going\n"
	      "  kvmwarden events --json -n 1      the next event as a JSON line\n"
	      "  kvmwarden budget set web1 --rate 20k   throttle VM web1 to 20k exits/s\n"
	      "  kvmwarden numa set web1 pin 1     run web1's vCPUs on node 1 only\n"
	      "  kvmwarden exporter                Prometheus metrics on 127.0.0.1:9798\n"
	      "  kvmwarden stat --help             options of stat\n"
	      "\n"
	      "A VM is named by its id (3), VMM pid (pid:4242) or QEMU -name\n"
	      "(web1, name:web1); see kvmwarden(8).\n"
	      "\n"
	      "Exit status:\n"
	      "  0  success\n"
	      "  1  runtime error (device missing: load the module with\n"
	      "     'modprobe kvmwarden'; API version mismatch; feature missing\n"
	      "     in the module; I/O error)\n"
	      "  2  usage error (unknown command or option, bad argument,\n"
	      "     a VM name that matches several VMs)\n"
	      "  3  VM not found (not tracked, or gone)\n"
	      "  4  permission denied (needs root / CAP_SYS_ADMIN)\n"
	      "\n"
	      "The output is explained in kvmwarden(8).\n", f);
}

static void usage_help(FILE *f)
{
	fputs("Usage: kvmwarden help [COMMAND]\n"
	      "\n"
	      "Shows the help of kvmwarden, or of COMMAND.\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden help\n"
	      "  kvmwarden help stat\n", f);
}

static const struct kvmw_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	}
	return NULL;
}

static int cmd_help(struct kvmw_ctx *ctx, int argc, char **argv)
{
	const struct kvmw_cmd *cmd;

	if (argc < 2) {
		usage_main(ctx->out);
		return KVMW_EXIT_OK;
	}
	if (argc > 2)
		return kvmw_usage_error(ctx, "help", "too many arguments");
	cmd = find_command(argv[1]);
	if (!cmd)
		return kvmw_usage_error(ctx, NULL, "unknown command '%s'",
					argv[1]);
	cmd->usage(ctx->out);
	return KVMW_EXIT_OK;
}

void kvmw_error(struct kvmw_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
}

int kvmw_usage_error(struct kvmw_ctx *ctx, const char *cmd,
		     const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "%s: ", ctx->prog);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fprintf(ctx->err, "\nTry '%s%s%s --help'.\n", ctx->prog,
		cmd ? " " : "", cmd ? cmd : "");
	return KVMW_EXIT_USAGE;
}

int kvmw_getopt_error(struct kvmw_ctx *ctx, const char *cmd, int c,
		      char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *opt = arg;

	/* For a short option the element may hold several of them. */
	if (strncmp(arg, "--", 2) && optopt)
		opt = shortopt;
	if (c == ':')
		return kvmw_usage_error(ctx, cmd,
					"option '%s' needs an argument", opt);
	return kvmw_usage_error(ctx, cmd, "unknown option '%s'", opt);
}

int kvmw_parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long long n;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

int kvmw_parse_interval(const char *s, double *sec)
{
	const char *dot = strchr(s, '.');
	double v;
	char *end;

	/* Plain decimal only: no sign, exponent, hex, inf or nan. */
	if (strspn(s, "0123456789.") != strlen(s) ||
	    strspn(s, ".") == strlen(s) || (dot && strchr(dot + 1, '.')))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v > KVMW_MAX_INTERVAL)
		return -EINVAL;
	*sec = v;
	return 0;
}

int kvmw_parse_vmid(const char *s, __u64 *id)
{
	const char *digits = "0123456789";
	unsigned long long n;
	int base = 10;
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		s += 2;
		base = 16;
		digits = "0123456789abcdefABCDEF";
	}
	if (!*s || strspn(s, digits) != strlen(s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, base);
	if (errno || *end || !n)
		return -EINVAL;
	*id = n;
	return 0;
}

void kvmw_dev_error(struct kvmw_ctx *ctx, const char *what, int err)
{
	switch (err) {
	case -EPROTO:
		kvmw_error(ctx, "%s: malformed answer from the kernel module (UAPI contract broken)",
			   what);
		break;
	case -EAGAIN:
		kvmw_error(ctx, "%s: the kernel kept growing the answer; try again",
			   what);
		break;
	case -ENOTTY:
		kvmw_error(ctx, "%s: %s is not a kvmwarden device",
			   what, ctx->device);
		break;
	case -EPROTONOSUPPORT:
		kvmw_error(ctx, "%s: the kernel module changed its API version; this tool speaks version %u",
			   what, KVMW_API_VERSION);
		break;
	default:
		kvmw_error(ctx, "%s: %s", what, strerror(-err));
		break;
	}
}

int kvmw_open_source_flags(struct kvmw_ctx *ctx, struct kvmw_source *src,
			   unsigned int flags)
{
	int ret = kvmw_source_open_flags(src, &kvmw_source_dev, ctx->device,
					 ctx->ops, flags);

	switch (ret) {
	case 0:
		break;
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		kvmw_error(ctx, "%s: %s; is the kernel module loaded? Try 'modprobe kvmwarden'",
			   ctx->device, strerror(-ret));
		break;
	case -EACCES:
	case -EPERM:
		kvmw_error(ctx, "%s: %s; kvmwarden needs root (or access to the device)",
			   ctx->device, strerror(-ret));
		return KVMW_EXIT_PERM;
	case -EPROTONOSUPPORT:
		kvmw_error(ctx, "%s: API version mismatch: the kernel module speaks version %u, this tool speaks version %u; install a matching module and tool",
			   ctx->device, src->host.api_version, KVMW_API_VERSION);
		break;
	default:
		kvmw_dev_error(ctx, "handshake", ret);
		break;
	}
	return ret ? KVMW_EXIT_RUNTIME : 0;
}

/* "VM 3 (pid 4242, name web1)" */
static void vm_label(const struct kvmw_vm *vm, char *buf, size_t len)
{
	if (vm->name[0])
		snprintf(buf, len, "VM %llu (pid %u, name %s%s)",
			 (unsigned long long)vm->vm_id, vm->pid, vm->name,
			 vm->gone ? ", gone" : "");
	else
		snprintf(buf, len, "VM %llu (pid %u%s)",
			 (unsigned long long)vm->vm_id, vm->pid,
			 vm->gone ? ", gone" : "");
}

int kvmw_resolve_vm(struct kvmw_ctx *ctx, const char *cmd,
		    const struct kvmw_snapshot *snap, const char *arg,
		    const struct kvmw_vm **vm)
{
	const struct kvmw_vm *found[16];
	struct kvmw_vm_ref ref;
	char label[KVMW_VM_NAME_MAX + 64];
	size_t nr, i;

	if (kvmw_vm_ref_parse(arg, &ref))
		return kvmw_usage_error(ctx, cmd,
					"bad VM '%s' (an id, pid:PID, name:NAME or a name)",
					arg);
	nr = kvmw_vm_resolve(snap, ctx->proc, &ref, found,
			     ARRAY_SIZE(found));
	if (!nr) {
		kvmw_error(ctx, "VM '%s': not found (no %s); 'kvmwarden list' shows the VMs",
			   arg, ref.kind == KVMW_REF_ID ? "VM of that id is tracked" :
			   ref.kind == KVMW_REF_PID ? "live VM of that process" :
			   ref.kind == KVMW_REF_NAME ? "live VM of that name" :
			   "live VM of that uuid");
		return KVMW_EXIT_NO_VM;
	}
	if (nr > 1) {
		kvmw_error(ctx, "VM '%s': %zu VMs match; name one by its id:",
			   arg, nr);
		for (i = 0; i < nr && i < ARRAY_SIZE(found); i++) {
			vm_label(found[i], label, sizeof(label));
			fprintf(ctx->err, "  %s\n", label);
		}
		return KVMW_EXIT_USAGE;
	}
	if (found[0]->gone) {
		vm_label(found[0], label, sizeof(label));
		kvmw_error(ctx, "%s is gone", label);
		return KVMW_EXIT_NO_VM;
	}
	*vm = found[0];
	return 0;
}

int kvmw_resolve_vms(struct kvmw_ctx *ctx, const char *cmd,
		     const struct kvmw_snapshot *snap, char **args,
		     size_t nr_args, const struct kvmw_vm **vms, size_t *nr)
{
	size_t i, k;
	int rc;

	*nr = 0;
	if (!nr_args) {
		for (i = 0; i < snap->nr_vms; i++)
			if (!snap->vms[i].gone)
				vms[(*nr)++] = &snap->vms[i];
		return 0;
	}
	for (i = 0; i < nr_args; i++) {
		const struct kvmw_vm *vm;

		rc = kvmw_resolve_vm(ctx, cmd, snap, args[i], &vm);
		if (rc)
			return rc;
		for (k = 0; k < *nr && vms[k] != vm; k++)
			;
		if (k == *nr)
			vms[(*nr)++] = vm;
	}
	return 0;
}

int kvmw_open_vm(struct kvmw_ctx *ctx, const char *cmd, const char *arg,
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

void kvmw_warn_untracked(struct kvmw_ctx *ctx, const struct kvmw_host *host)
{
	if (host->untracked_exits)
		kvmw_error(ctx, "warning: %" PRIu64 " exits could not be accounted to a vCPU (the module ran out of records)",
			   (uint64_t)host->untracked_exits);
}

static const struct option main_options[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "proc", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_main(int argc, char **argv, FILE *out, FILE *err,
	      const struct kvmw_dev_ops *ops)
{
	struct kvmw_ctx ctx = {
		.prog = "kvmwarden",
		.device = KVMW_DEVICE_PATH,
		.proc = "/proc",
		.ops = ops,
		.out = out,
		.err = err,
	};
	const struct kvmw_cmd *cmd;
	int c, ret;

	/* optind = 0 makes glibc start afresh, for repeated calls. */
	optind = 0;
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:d:hV", main_options,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				return kvmw_usage_error(&ctx, NULL,
							"empty device path");
			ctx.device = optarg;
			break;
		case 'P':
			if (!*optarg)
				return kvmw_usage_error(&ctx, NULL,
							"empty /proc path");
			ctx.proc = optarg;
			break;
		case 'h':
			usage_main(out);
			return KVMW_EXIT_OK;
		case 'V':
			fprintf(out, "kvmwarden %s (UAPI version %u)\n",
				kvmw_version(), KVMW_API_VERSION);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(&ctx, NULL, c, argv);
		}
	}
	if (optind >= argc)
		return kvmw_usage_error(&ctx, NULL, "no command given");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return kvmw_usage_error(&ctx, NULL, "unknown command '%s'",
					argv[optind]);

	ret = cmd->run(&ctx, argc - optind, argv + optind);
	if (fflush(out) || ferror(out)) {
		kvmw_error(&ctx, "write error: %s", strerror(errno));
		if (ret == KVMW_EXIT_OK)
			ret = KVMW_EXIT_RUNTIME;
	}
	return ret;
}
