// SPDX-License-Identifier: GPL-2.0-only
/*
 * NUMA placement in libkvmwarden and the CLI: node lists, the UAPI's
 * limits, the NUMA events, and "kvmwarden numa" against the fake module
 * (values sent, errors, exit codes, show and its JSON).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "helpers.h"
#include "json_check.h"
#include "tap.h"

static void test_nodelist(void)
{
	static const struct {
		const char *s;
		__u64 w0, w1, w15;
	} good[] = {
		{ "0", 1, 0, 0 }, { "1", 2, 0, 0 }, { "0-1", 3, 0, 0 },
		{ "0,2", 5, 0, 0 }, { "0-2,5", 0x27, 0, 0 },
		{ "63-64", 1ULL << 63, 1, 0 }, { "64", 0, 1, 0 },
		{ "1023", 0, 0, 1ULL << 63 }, { "007", 0x80, 0, 0 },
		{ "0-127", ~0ULL, ~0ULL, 0 },
	};
	static const char * const bad[] = {
		"", ",", "1,", ",1", "a", "1-", "-1", "2-1", "1,1", "2,1",
		"0-2,1", "1024", "99999", "1 ", " 1", "1;2", "0x1", "1--2",
		"1-2-3",
	};
	__u64 nodes[KVMW_NUMA_NODE_WORDS];
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(!kvmw_parse_nodelist(good[i].s, nodes) &&
		      nodes[0] == good[i].w0 && nodes[1] == good[i].w1 &&
		      nodes[15] == good[i].w15,
		      "node list '%s'", good[i].s);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(kvmw_parse_nodelist(bad[i], nodes) == -EINVAL,
		      "node list '%s' is rejected", bad[i]);

	kvmw_parse_nodelist("0-2,5,7-8,63-65,1023", nodes);
	CHECK_STR(kvmw_fmt_nodelist(buf, sizeof(buf), nodes,
				    KVMW_NUMA_NODE_WORDS),
		  "0-2,5,7-8,63-65,1023", "node list written back");
	memset(nodes, 0, sizeof(nodes));
	CHECK_STR(kvmw_fmt_nodelist(buf, sizeof(buf), nodes,
				    KVMW_NUMA_NODE_WORDS), "",
		  "no node: empty");
	kvmw_parse_nodelist("0,2,4,6,8", nodes);
	CHECK_STR(kvmw_fmt_nodelist(buf, 5, nodes, 1), "0,2",
		  "truncated at whole entries");
}

static void test_check(void)
{
	struct kvmw_numa_cfg c;
	char why[160];

	memset(&c, 0, sizeof(c));
	CHECK(!kvmw_numa_check(&c, why, sizeof(why)), "none is fine");
	c.policy = KVMW_NUMA_PIN;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL &&
	      strstr(why, "at least one node"), "pin without nodes");
	c.nodes[3] = 1;
	CHECK(!kvmw_numa_check(&c, why, sizeof(why)), "pin node 192");
	c.dwell_ms = 5;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL &&
	      strstr(why, "follow only"), "follow parameters with pin");
	memset(&c, 0, sizeof(c));
	c.policy = KVMW_NUMA_FOLLOW;
	c.nodes[0] = 1;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "nodes with follow");
	c.nodes[0] = 0;
	c.threshold_pct = 101;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "threshold above 100");
	c.threshold_pct = 100;
	c.interval_ms = KVMW_NUMA_MIN_INTERVAL_MS - 1;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "interval below the minimum");
	c.interval_ms = KVMW_NUMA_MAX_INTERVAL_MS;
	c.passes = KVMW_NUMA_MAX_PASSES;
	c.dwell_ms = KVMW_NUMA_MAX_DWELL_MS;
	c.margin_pct = 100;
	c.flags = KVMW_NUMA_F_ALL;
	CHECK(!kvmw_numa_check(&c, why, sizeof(why)), "every limit");
	c.passes++;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "passes above the maximum");
	c.passes = 1;
	c.flags = 4;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "unknown flag");
	memset(&c, 0, sizeof(c));
	c.flags = KVMW_NUMA_F_STRICT;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "flags without a policy");
	c.flags = 0;
	c.policy = 3;
	CHECK(kvmw_numa_check(&c, why, sizeof(why)) == -EINVAL,
	      "unknown policy");
	CHECK_STR(kvmw_numa_policy_name(KVMW_NUMA_FOLLOW), "follow",
		  "policy name");
	CHECK(!kvmw_numa_policy_name(3) && !kvmw_numa_cause_name(0) &&
	      !kvmw_numa_cause_name(8), "unknown names: NULL");
	CHECK_STR(kvmw_numa_cause_name(KVMW_NUMA_CAUSE_AFFINITY), "affinity",
		  "cause name");
}

static void fake_numa_init(struct fake_dev *f)
{
	fake_init(f);
	f->hs.features |= KVMW_FEAT_NUMA_PLACE;
	fake_add_vm(f, 1, 4242, "qemu", 2);
	fake_add_vm(f, 2, 4243, "qemu", 1);
	f->numa_state.cur_node = KVMW_NUMA_NODE_NONE;
	f->numa_state.numa_balancing = 1;
	f->numa_state.max_moves_per_min = 6;
}

static void test_cli_set(void)
{
	const struct kvmw_numa_policy *p;
	struct fake_dev f;
	struct run r;

	fake_numa_init(&f);
	p = &f.numa[0];
	run_cli(&r, &f.ops, "numa", "set", "1", "pin", "1", NULL);
	CHECK(r.rc == 0 && f.numa_sets == 1 &&
	      (f.open_flags & O_ACCMODE) == O_RDWR,
	      "pin: one NUMA_SET on a device opened for writing");
	CHECK(p->policy == KVMW_NUMA_PIN && p->nodes == 2 && !p->flags &&
	      !p->nr_node_words && !p->nodes_ptr && !p->threshold_pct &&
	      !p->dwell_ms && !p->interval_ms && !p->passes &&
	      !p->margin_pct && p->vm_id == 1,
	      "pin 1: node 1, no extra words, nothing else");
	check_has(r.out, "VM 1: NUMA policy set: pin 1", "set says it");
	run_free(&r);

	run_cli(&r, &f.ops, "numa", "set", "pid:4242", "--strict", "follow",
		"--threshold", "80", "-M", "30", "--passes", "5", "--dwell",
		"300s", "-i", "250ms", NULL);
	CHECK(r.rc == 0 && p->policy == KVMW_NUMA_FOLLOW &&
	      p->flags == KVMW_NUMA_F_STRICT && !p->nodes &&
	      p->threshold_pct == 80 && p->margin_pct == 30 &&
	      p->passes == 5 && p->dwell_ms == 300000 &&
	      p->interval_ms == 250,
	      "follow with every option, by pid, options anywhere");
	run_free(&r);

	run_cli(&r, &f.ops, "numa", "set", "2", "pin", "0-1,3", NULL);
	CHECK(r.rc == 0 && f.numa[1].nodes == 0xb,
	      "pin of a node list");
	run_free(&r);
	run_cli(&r, &f.ops, "numa", "set", "2", "pin", "70", NULL);
	CHECK(r.rc == 1 && f.numa[1].nodes == 0xb &&
	      strstr(r.err, "rejected it (EINVAL") &&
	      strstr(r.err, "nothing changed"),
	      "a node the host lacks: the module's EINVAL, exit 1");
	run_free(&r);

	run_cli(&r, &f.ops, "numa", "clear", "1", NULL);
	CHECK(r.rc == 0 && p->policy == KVMW_NUMA_NONE && !p->flags &&
	      !p->nodes && !p->threshold_pct,
	      "clear: policy none, nothing else");
	check_has(r.out, "affinity restored", "clear says it");
	run_free(&r);
	CHECK(!f.bad_requests && f.opens == f.closes,
	      "no request broke the UAPI; device closed every time");
	fake_free(&f);
}

static void test_cli_errors(void)
{
	static const struct {
		int err, rc;
		const char *msg;
	} errs[] = {
		{ -EPERM, 4, "permission denied: needs root (CAP_SYS_ADMIN)" },
		{ -EBADF, 4, "open read-only" },
		{ -ENOENT, 3, "the VM is gone" },
		{ -EOPNOTSUPP, 1, "no NUMA placement" },
		{ -EIO, 1, "Input/output error" },
	};
	static const char * const bad[][6] = {
		{ "1" }, { "1", "stay" }, { "1", "pin" }, { "1", "pin", "2-1" },
		{ "1", "pin", "1", "2" }, { "1", "pin", "1", "--dwell", "1s" },
		{ "1", "follow", "-t", "0" }, { "1", "follow", "-t", "101" },
		{ "1", "follow", "-M", "x" }, { "1", "follow", "-n", "0" },
		{ "1", "follow", "-n", "1001" },
		{ "1", "follow", "--dwell", "1.5ms" },
		{ "1", "follow", "--dwell", "2d" },
		{ "1", "follow", "-i", "5ms" }, { "1", "follow", "-i", "61s" },
		{ "1", "follow", "--bogus" }, { "1", "follow", "-t" },
		{ "pin", "1" },
	};
	struct fake_dev f;
	struct run r;
	size_t i;

	fake_numa_init(&f);
	for (i = 0; i < ARRAY_SIZE(errs); i++) {
		f.numa_err = errs[i].err;
		run_cli(&r, &f.ops, "numa", "set", "1", "pin", "0", NULL);
		CHECK(r.rc == errs[i].rc && strstr(r.err, errs[i].msg),
		      "module error %d: exit %d, '%s'", errs[i].err,
		      errs[i].rc, errs[i].msg);
		run_free(&r);
	}
	f.numa_err = -EOPNOTSUPP;
	run_cli(&r, &f.ops, "numa", "set", "1", "--all-threads", "pin", "0",
		NULL);
	CHECK(r.rc == 1 && strstr(r.err, "cannot place the VMM's other threads"),
	      "--all-threads refused by the module: said so");
	run_free(&r);
	f.numa_err = 0;
	f.numa_sets = 0;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char * const *a = bad[i];

		run_cli(&r, &f.ops, "numa", "set", a[0], a[1], a[2], a[3],
			a[4], a[5], NULL);
		CHECK(r.rc == 2 && f.numa_sets == 0 && r.err_len,
		      "usage error, nothing sent: set %s %s %s %s",
		      a[0], a[1] ? a[1] : "", a[2] ? a[2] : "",
		      a[3] ? a[3] : "");
		run_free(&r);
	}
	run_cli(&r, &f.ops, "numa", "set", "9", "pin", "0", NULL);
	CHECK(r.rc == 3 && f.numa_sets == 0, "an unknown VM: exit 3");
	run_free(&r);
	run_cli(&r, &f.ops, "numa", "clear", NULL);
	CHECK(r.rc == 2, "clear without a VM: exit 2");
	run_free(&r);
	run_cli(&r, &f.ops, "numa", "move", NULL);
	CHECK(r.rc == 2, "unknown subcommand: exit 2");
	run_free(&r);
	f.hs.features &= ~KVMW_FEAT_NUMA_PLACE;
	run_cli(&r, &f.ops, "numa", "set", "1", "pin", "0", NULL);
	CHECK(r.rc == 1 && f.numa_sets == 0 &&
	      strstr(r.err, "feature 'numa_place'"),
	      "a module without placement: nothing sent, said so");
	run_free(&r);
	fake_free(&f);
}

static void test_cli_show(void)
{
	struct fake_dev f;
	struct run r;

	fake_numa_init(&f);
	run_cli(&r, &f.ops, "numa", "set", "1", "pin", "0-1", "--strict",
		NULL);
	run_free(&r);
	f.numa_state.cur_node = KVMW_NUMA_NODE_NONE;
	f.numa_state.local_pml = 987;
	f.numa_state.moves = 3;
	f.numa_state.suppressed_dwell = 4;
	f.numa_state.suppressed_hysteresis = 5;
	f.numa_state.suppressed_rate = 6;
	f.numa_state.suppressed_conflict = 7;
	f.numa_state.nr_threads = 2;
	f.numa_state.nr_placed = 1;
	f.numa_state.ran_nodes = 3;
	f.numa_state.last_move_ns = 123456789;
	run_cli(&r, &f.ops, "numa", "show", NULL);
	CHECK(r.rc == 0 && f.numa_gets == 2, "show: every live VM read");
	check_has(r.out, "     1 -                pin      0-1          -    98.7       3 4/5/6/7         1/2 0-1 strict",
		  "show: a pinned VM's row");
	check_has(r.out, "automatic NUMA balancing: on; follow moves at most 6 per minute",
		  "show: NUMA balancing and the rate limit");
	run_free(&r);

	run_cli(&r, &f.ops, "numa", "show", "--json", "1", NULL);
	CHECK(r.rc == 0 && json_valid(r.out, r.out_len) && f.numa_gets == 3,
	      "show --json of one VM: JSON");
	check_has(r.out, "\"policy\": \"pin\",\n      \"strict\": true,\n      \"all_threads\": false,\n      \"nodes\": [0, 1],",
		  "show --json: policy and nodes");
	check_has(r.out, "\"current_node\": null,\n      \"ran_nodes\": [0, 1],\n      \"local_permille\": 987,\n      \"moves\": 3,",
		  "show --json: where it is");
	check_has(r.out, "\"last_move_boottime_ns\": 123456789,\n      \"numa_balancing\": 1,",
		  "show --json: last move, balancing");
	run_free(&r);
	f.vms[1].vm.flags |= KVMW_VM_F_GONE;
	run_cli(&r, &f.ops, "numa", "show", "2", NULL);
	CHECK(r.rc == 3, "show of a VM gone: exit 3");
	run_free(&r);
	fake_free(&f);
}

static void test_numa_events(void)
{
	struct kvmw_event ev;
	struct fake_dev f;
	struct run r;

	fake_numa_init(&f);
	f.hs.features |= KVMW_FEAT_EVENTS;
	memset(&ev, 0, sizeof(ev));
	ev.size = sizeof(ev);
	ev.version = KVMW_EVENT_VERSION;
	ev.type = KVMW_EVENT_NUMA_MOVE;
	ev.seq = 1;
	ev.vm_id = 1;
	ev.vmm_pid = 4242;
	ev.tid = 4250;
	ev.numa.policy = KVMW_NUMA_FOLLOW;
	ev.numa.cause = KVMW_NUMA_CAUSE_FOLLOW;
	ev.numa.tid = 4250;
	ev.numa.from_node = 0;
	ev.numa.to_node = 1;
	ev.numa.local_pml = 950;
	ev.numa.nodes = 2;
	ev.numa.moves = 7;
	fake_push_event(&f, &ev);
	run_cli(&r, &f.ops, "events", "--json", "-n", "1", NULL);
	CHECK(r.rc == 0, "events: a NUMA move read");
	check_has(r.out, "\"type\":\"numa_move\"", "events: its name");
	check_has(r.out, "\"cause\":\"follow\"", "events: the cause");
	check_has(r.out, "\"from_node\":0,\"to_node\":1", "events: the nodes");
	run_free(&r);
	fake_free(&f);
}

/* Every option of numa set in --help and the man page. */
static void test_docs(void)
{
	static const char * const opts[] = {
		"--threshold", "--margin", "--passes", "--dwell", "--interval",
		"--strict", "--json",
	};
	char *man = read_source_file("kvmwarden.8");
	char want[64];
	struct run r;
	size_t i;

	run_cli(&r, NULL, "numa", "--help", NULL);
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		check_has(r.out, opts[i], "numa --help documents the option");
		/* The man page escapes every dash (none inside these). */
		snprintf(want, sizeof(want), "\\-\\-%s", opts[i] + 2);
		check_has(man, want, "kvmwarden(8) documents the option");
	}
	CHECK(count_of(r.out, "\n") <= 32, "numa --help is short (%zu lines)",
	      count_of(r.out, "\n"));
	run_free(&r);
	check_has(man, ".SH NUMA PLACEMENT", "kvmwarden(8): a NUMA section");
	check_has(man, ".B numa set", "kvmwarden(8): numa set");
	run_cli(&r, NULL, "--help", NULL);
	check_has(r.out, "numa     pin a VM's vCPUs", "--help lists numa");
	run_free(&r);
	free(man);
}

void test_numa(void)
{
	test_nodelist();
	test_check();
	test_cli_set();
	test_cli_errors();
	test_cli_show();
	test_numa_events();
	test_docs();
}
