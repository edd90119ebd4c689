// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden events: follow the module's event stream (VMs and vCPUs
 * appearing, VMs going away with their final totals), one line per
 * event.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"

/* Events taken from the source at a time. */
#define EVENTS_PER_READ	64
/* Largest -n. */
#define MAX_COUNT	(1UL << 62)

void kvmw_usage_events(FILE *f)
{
	fputs("Usage: kvmwarden events [--json] [-n COUNT] [--timeout SEC]\n"
	      "\n"
	      "Follows the kernel module's event stream ('events' feature) from\n"
	      "now on and prints one line per event:\n"
	      "\n"
	      "  TIME vm_new   seq=N vm=ID pid=PID tid=TID vcpus=N\n"
	      "  TIME vcpu_new seq=N vm=ID pid=PID vcpu=N tid=TID vcpus=N\n"
	      "  TIME vm_gone  seq=N vm=ID pid=PID vcpus=N exits=N entries=N\n"
	      "                guest=T overhead=T idle=T user=T faults=N untimed=N\n"
	      "  TIME budget_set|budget_clear|budget_guard|throttle_start|throttle_end\n"
	      "                seq=N vm=ID pid=PID [vcpu=N tid=TID] mode=M buckets=N\n"
	      "                categories=L rate=R burst=B [default_rule=S]\n"
	      "                [parked=T window=T]\n"
	      "\n"
	      "TIME is CLOCK_BOOTTIME in seconds (as /proc/uptime); seq numbers\n"
	      "the module's events from 1. vm_new: a VM's first vCPU ran;\n"
	      "vcpu_new: another of its vCPUs did; vm_gone: the VM was found\n"
	      "destroyed, with its final totals ('-' for what the module does not\n"
	      "measure). Budget events (Documentation/budgets.rst) show the first\n"
	      "bucket; budget_guard and throttle_start name the vCPU parked,\n"
	      "budget_guard and throttle_end the time parked and the window. An\n"
	      "event type this tool does not know is printed as type=N and\n"
	      "skipped. The module keeps the last 4096 events for each reader: a\n"
	      "reader that falls further behind loses the oldest, and a line\n"
	      "'lost N events' says so before the next event.\n"
	      "Records of another record version are skipped with a warning.\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json         one JSON object per line (JSON lines): seq,\n"
	      "                     time_ns, type (null when unknown), type_code,\n"
	      "                     vm_id, vmm_pid, vcpu_id, tid, nr_vcpus, lost;\n"
	      "                     vm_gone: \"totals\" {exits, entries, guest_ns,\n"
	      "                     overhead_ns, idle_ns, user_ns, faults,\n"
	      "                     untimed_exits}; budget events: \"budget\" {mode,\n"
	      "                     nr_buckets, categories, rate, burst,\n"
	      "                     default_rule, [parked_ns, window_ns]};\n"
	      "                     unknown types: \"data\"; lost\n"
	      "                     events: {\"type\": \"lost\", \"lost\": N,\n"
	      "                     \"before_seq\": S}\n"
	      "  -n, --count COUNT  exit after COUNT events (lost lines do not\n"
	      "                     count; default: no limit)\n"
	      "  -t, --timeout SEC  exit after SEC seconds, decimals allowed (0:\n"
	      "                     only what is queued now)\n"
	      "  -h, --help         show this help\n"
	      "\n"
	      "Stops cleanly on SIGINT (Ctrl-C) or SIGTERM. Exit status: 0 when\n"
	      "stopped by -n, --timeout or a signal; 1 on an error (no device,\n"
	      "no 'events' feature, read error, malformed record); 2 on a usage\n"
	      "error.\n"
	      "\n"
	      "Examples:\n"
	      "  kvmwarden events\n"
	      "  kvmwarden events -n 1 --timeout 60     wait up to 60 s for one event\n"
	      "  kvmwarden events --json | jq -c 'select(.type == \"vm_gone\") | .totals'\n"
	      "  kvmwarden events -t 3600 >events.log   an hour of events into a file\n",
	      f);
}

static const struct option events_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "count", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int kvmw_events_parse(struct kvmw_ctx *ctx, int argc, char **argv,
		      struct kvmw_events_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->timeout = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jn:t:h", events_options,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'n':
			if (kvmw_parse_uint(optarg, MAX_COUNT, &a->count) ||
			    !a->count)
				return kvmw_usage_error(ctx, "events",
							"bad count '%s' (1 or more)",
							optarg);
			break;
		case 't':
			if (kvmw_parse_interval(optarg, &a->timeout))
				return kvmw_usage_error(ctx, "events",
							"bad timeout '%s' (seconds, 0 to %.0f)",
							optarg,
							KVMW_MAX_INTERVAL);
			break;
		case 'h':
			kvmw_usage_events(ctx->out);
			return KVMW_EXIT_OK;
		default:
			return kvmw_getopt_error(ctx, "events", c, argv);
		}
	}
	if (optind < argc)
		return kvmw_usage_error(ctx, "events",
					"unexpected argument '%s'",
					argv[optind]);
	return KVMW_CONTINUE;
}

/* The signal that asked us to stop, 0 while none did. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT and SIGTERM stop the loop; restored afterwards. */
struct stop_signals {
	struct sigaction old_int, old_term;
	sigset_t old_mask;
	/* The mask while waiting: the old one with both let through. */
	sigset_t wait_mask;
};

static int stop_signals_install(struct stop_signals *s)
{
	struct sigaction sa;
	sigset_t block;

	stop_signal = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	/*
	 * Blocked except while waiting in ppoll(): a signal between the
	 * check of stop_signal and the wait cannot be missed.
	 */
	if (sigprocmask(SIG_BLOCK, &block, &s->old_mask))
		return -errno;
	s->wait_mask = s->old_mask;
	sigdelset(&s->wait_mask, SIGINT);
	sigdelset(&s->wait_mask, SIGTERM);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the wait must return. */
	sigaction(SIGINT, &sa, &s->old_int);
	sigaction(SIGTERM, &sa, &s->old_term);
	return 0;
}

static void stop_signals_restore(struct stop_signals *s)
{
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGTERM, &s->old_term, NULL);
	sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* Milliseconds until @deadline (rounded up), 0 when past, -1: none. */
static int wait_ms(__u64 deadline)
{
	__u64 now = kvmw_now_ns(), ms;

	if (!deadline)
		return -1;
	if (now >= deadline)
		return 0;
	ms = (deadline - now + 999999) / 1000000;
	return ms > 1000000 ? 1000000 : (int)ms;
}

struct events_state {
	struct kvmw_ctx *ctx;
	const struct kvmw_events_args *a;
	__u64 features;
	unsigned long printed;
	/* Versions warned about, so that the warning comes once each. */
	__u16 warned[8];
	unsigned int nr_warned;
};

static void warn_version(struct events_state *st, __u16 version)
{
	unsigned int i;

	for (i = 0; i < st->nr_warned; i++) {
		if (st->warned[i] == version)
			return;
	}
	if (st->nr_warned < ARRAY_SIZE(st->warned))
		st->warned[st->nr_warned++] = version;
	kvmw_error(st->ctx, "warning: skipping event records of version %u (a layout this tool does not read)",
		   version);
}

/*
 * Prints @nr events. Returns 0, 1 when the count is reached, or -EIO (a
 * write error).
 */
static int handle_events(struct events_state *st, const struct kvmw_ev *evs,
			 size_t nr)
{
	const struct kvmw_events_args *a = st->a;
	size_t i;
	int ret;

	for (i = 0; i < nr; i++) {
		const struct kvmw_ev *ev = &evs[i];

		if (!ev->known) {
			warn_version(st, ev->version);
			continue;
		}
		if (ev->lost) {
			ret = kvmw_print_events_lost(st->ctx->out, ev, a->json);
			if (ret)
				return ret;
		}
		ret = kvmw_print_event(st->ctx->out, ev, st->features, a->json);
		if (ret)
			return ret;
		if (a->count && ++st->printed >= a->count)
			return 1;
	}
	/* Lines go out as the events come, also into a pipe. */
	return fflush(st->ctx->out) ? -EIO : 0;
}

static int follow(struct events_state *st, struct kvmw_source *src,
		  const sigset_t *wait_mask)
{
	int rc = KVMW_EXIT_RUNTIME, ret;
	__u64 deadline = 0;
	struct kvmw_ev *evs;
	size_t nr;

	evs = calloc(EVENTS_PER_READ, sizeof(*evs));
	if (!evs) {
		kvmw_error(st->ctx, "out of memory");
		return KVMW_EXIT_RUNTIME;
	}
	if (st->a->timeout >= 0)
		deadline = kvmw_now_ns() + (__u64)(st->a->timeout * 1e9) + 1;
	for (;;) {
		if (stop_signal)
			goto done;
		ret = kvmw_source_read_events(src, evs, EVENTS_PER_READ, &nr,
					      wait_ms(deadline), wait_mask);
		if (ret == -EPIPE) {
			kvmw_error(st->ctx, "read events: the event stream ended");
			goto out;
		}
		if (ret == -EPROTO) {
			kvmw_error(st->ctx, "read events: malformed event record (UAPI contract broken)");
			goto out;
		}
		if (ret && ret != -EINTR) {
			kvmw_dev_error(st->ctx, "read events", ret);
			goto out;
		}
		ret = handle_events(st, evs, nr);
		/* Write errors are reported by kvmw_main(). */
		if (ret < 0)
			goto out;
		if (ret == 1 || (deadline && kvmw_now_ns() >= deadline))
			goto done;
	}
done:
	rc = KVMW_EXIT_OK;
out:
	free(evs);
	return rc;
}

int kvmw_cmd_events(struct kvmw_ctx *ctx, int argc, char **argv)
{
	struct kvmw_events_args a;
	struct events_state st;
	struct stop_signals sig;
	struct kvmw_source src;
	int ret;

	ret = kvmw_events_parse(ctx, argc, argv, &a);
	if (ret != KVMW_CONTINUE)
		return ret;
	ret = kvmw_open_source_flags(ctx, &src, 0);
	if (ret)
		return ret;
	if (!(src.host.features & KVMW_FEAT_EVENTS)) {
		kvmw_error(ctx, "%s: this kernel module has no event stream (no 'events' feature); update the module",
			   ctx->device);
		kvmw_source_close(&src);
		return KVMW_EXIT_RUNTIME;
	}
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.a = &a;
	st.features = src.host.features;
	ret = stop_signals_install(&sig);
	if (ret) {
		kvmw_dev_error(ctx, "signals", ret);
		kvmw_source_close(&src);
		return KVMW_EXIT_RUNTIME;
	}
	ret = follow(&st, &src, &sig.wait_mask);
	stop_signals_restore(&sig);
	kvmw_source_close(&src);
	return ret;
}
