// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device layer against a fake module: handshake, E2BIG retry loops
 * with growing answers, ENOENT, broken answers, and the whole command
 * line on top of the fake.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "json_check.h"
#include "kvmw_dev.h"
#include "tap.h"

static void test_open(void)
{
	struct fake_dev f;
	struct kvmw_dev dev;

	fake_init(&f);
	CHECK(kvmw_dev_open(&dev, "fake", &f.ops) == 0 && dev.fd == 42,
	      "open and handshake");
	CHECK(dev.hs.api_version == KVMW_API_VERSION &&
	      dev.hs.vendor == KVMW_VENDOR_VMX, "handshake answer kept");
	kvmw_dev_close(&dev);
	CHECK(f.opens == 1 && f.closes == 1, "closed once");

	f.hs.api_version = KVMW_API_VERSION + 1;
	CHECK(kvmw_dev_open(&dev, "fake", &f.ops) == -EPROTONOSUPPORT &&
	      dev.hs.api_version == KVMW_API_VERSION + 1,
	      "API mismatch detected, module's version reported");
	CHECK(f.closes == 2 && dev.fd == -1, "closed after a mismatch");

	f.open_err = -ENOENT;
	CHECK(kvmw_dev_open(&dev, "fake", &f.ops) == -ENOENT,
	      "open error passed up");
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

static void test_list(void)
{
	struct kvmw_vm_info *vms;
	struct kvmw_dev dev;
	struct fake_dev f;
	size_t nr, i;
	bool ok;

	fake_init(&f);
	kvmw_dev_open(&dev, "fake", &f.ops);
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == 0 && nr == 0 && !vms,
	      "empty list");

	for (i = 0; i < 5; i++)
		fake_add_vm(&f, 10 + i, 100 + i, "qemu", 2);
	f.list_calls = 0;
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == 0 && nr == 5,
	      "list of 5 VMs");
	CHECK(f.list_calls == 2, "query then read (%u calls)", f.list_calls);
	ok = vms != NULL;
	for (i = 0; ok && i < nr; i++)
		ok = vms[i].vm_id == 10 + i && vms[i].vmm_pid == 100 + i &&
		     vms[i].nr_vcpus == 2 && !strcmp((char *)vms[i].comm, "qemu");
	CHECK(ok, "VM summaries copied");
	free(vms);

	/* The list grows by 10 VMs on each call, 5 times: retries. */
	f.grow_list = 5;
	f.grow_by = 10;
	f.list_calls = 0;
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == 0 && nr == f.nr_vms,
	      "growing list read whole (%zu VMs)", nr);
	CHECK(f.list_calls > 2 && f.list_calls < KVMW_DEV_MAX_TRIES,
	      "retried with headroom (%u calls)", f.list_calls);
	CHECK(vms && vms[nr - 1].vm_id == f.vms[f.nr_vms - 1].vm.vm_id,
	      "newest VM included");
	free(vms);

	f.list_query_ok = true;
	f.list_calls = 0;
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == 0 && nr == f.nr_vms &&
	      f.list_calls == 2, "a query that succeeds also works");
	free(vms);

	f.always_short = true;
	f.list_query_ok = false;
	f.list_calls = 0;
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == -EAGAIN && !vms &&
	      f.list_calls == KVMW_DEV_MAX_TRIES,
	      "endless growth gives EAGAIN after %d tries", KVMW_DEV_MAX_TRIES);
	f.always_short = false;

	f.lie_e2big = true;
	CHECK(kvmw_dev_list_vms(&dev, &vms, &nr) == -EPROTO,
	      "E2BIG although it fits gives EPROTO");
	f.lie_e2big = false;

	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	kvmw_dev_close(&dev);
	fake_free(&f);
}

static void test_snapshot(void)
{
	struct kvmw_vm_snap snap;
	struct kvmw_dev dev;
	struct fake_dev f;
	struct kvmw_sample s;

	fake_init(&f);
	kvmw_dev_open(&dev, "fake", &f.ops);
	fake_add_vm(&f, 7, 700, "qemu-a", 3);
	fake_add_vm(&f, 8, 800, "qemu-b", 0);

	CHECK(kvmw_dev_vm_snapshot(&dev, 7, &snap) == 0, "snapshot of VM 7");
	CHECK(snap.nr_vcpus == 3 && snap.nr_reasons == 6 &&
	      snap.vm.vm_id == 7 && snap.vm.exits == 81 + 82 + 80 + 60,
	      "vCPUs, reasons and summary copied");
	CHECK(snap.vcpus[2].first_reason == 4 && snap.reasons[5].vcpu_index == 2,
	      "cross references kept");
	kvmw_vm_snap_free(&snap);

	CHECK(kvmw_dev_vm_snapshot(&dev, 8, &snap) == 0 && snap.nr_vcpus == 0,
	      "VM without vCPUs yet");
	kvmw_vm_snap_free(&snap);

	f.grow_vcpus = 3;
	f.grow_by = 8;
	f.snap_calls = 0;
	CHECK(kvmw_dev_vm_snapshot(&dev, 7, &snap) == 0 &&
	      snap.nr_vcpus == f.vms[0].nr_vcpus && snap.nr_vcpus == 27,
	      "growing VM read whole (%u vCPUs)", snap.nr_vcpus);
	CHECK(f.snap_calls > 2, "retried (%u calls)", f.snap_calls);
	CHECK(kvmw_vm_snap_check(&snap) == 0, "consistent snapshot");
	kvmw_vm_snap_free(&snap);

	f.always_short = true;
	CHECK(kvmw_dev_vm_snapshot(&dev, 7, &snap) == -EAGAIN && !snap.vcpus,
	      "snapshot growing forever gives EAGAIN");
	f.always_short = false;

	CHECK(kvmw_dev_vm_snapshot(&dev, 99, &snap) == -ENOENT &&
	      !snap.vcpus && !snap.reasons, "unknown VM gives ENOENT");

	/* A module that breaks the cross references is caught. */
	f.vms[0].reasons[0].vcpu_index = 2;
	CHECK(kvmw_dev_vm_snapshot(&dev, 7, &snap) == -EPROTO && !snap.vcpus,
	      "bad vcpu_index gives EPROTO");
	f.vms[0].reasons[0].vcpu_index = 0;
	f.vms[0].vcpus[1].first_reason = 100;
	CHECK(kvmw_dev_vm_snapshot(&dev, 7, &snap) == -EPROTO,
	      "reason range out of the array gives EPROTO");
	f.vms[0].vcpus[1].first_reason = 2;

	CHECK(kvmw_sample_take(&dev, NULL, 0, &s) == 0 && s.nr_vms == 2 &&
	      s.vms[0].vm.vm_id == 7 && s.vms[1].vm.vm_id == 8,
	      "sample of all VMs, sorted");
	kvmw_sample_free(&s);
	{
		__u64 ids[] = { 8, 1234 };

		CHECK(kvmw_sample_take(&dev, ids, 2, &s) == 0 &&
		      s.nr_vms == 1 && s.vms[0].vm.vm_id == 8,
		      "sample of chosen VMs");
		kvmw_sample_free(&s);
	}
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	kvmw_dev_close(&dev);
	fake_free(&f);
}

static void test_cli_on_fake(void)
{
	struct fake_dev f;
	struct run r;

	fake_init(&f);
	fake_add_vm(&f, 1, 4242, "qemu-system-x86", 2);
	fake_add_vm(&f, 2, 4343, "qemu\"evil\n", 1);
	f.vms[1].vm.flags = KVMW_VM_F_GONE;

	run_cli(&r, &f.ops, "list", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "qemu-system-x86") &&
	      strstr(r.out, "qemu\"evil?") && strstr(r.out, "gone"),
	      "list on the fake module");
	run_free(&r);

	run_cli(&r, &f.ops, "list", "--json", NULL);
	CHECK(r.rc == 0 && json_valid(r.out, r.out_len) &&
	      strstr(r.out, "\"comm\": \"qemu\\\"evil\\n\""),
	      "list --json on the fake module");
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "CPUID 80.1%, HLT 19.9%"),
	      "stat -i 0 on the fake module");
	if (r.rc)
		tap_diag("stderr: %s", r.err);
	run_free(&r);
	run_cli(&r, &f.ops, "stat", "-i", "0", NULL);
	CHECK(r.rc == 0 && count_of(r.out, "\n") == 1 + 2 + 2 * 5 &&
	      !strstr(r.out, "categories:") && !strstr(r.out, "time:"),
	      "stat is concise: a row per VM, then 2 reasons per VM, no prose");
	run_free(&r);
	run_cli(&r, &f.ops, "stat", "-i", "0", "--long", NULL);
	CHECK(r.rc == 0 && count_of(r.out, "categories:") == 2,
	      "stat --long: the categories line under each VM");
	run_free(&r);

	f.tick = 50;
	run_cli(&r, &f.ops, "stat", "-i", "0.01", "--json", NULL);
	CHECK(r.rc == 0 && json_valid(r.out, r.out_len),
	      "stat --json with an interval: valid JSON");
	CHECK(!strstr(r.out, "\"exits_per_sec\": null") &&
	      strstr(r.out, "\"exits_per_sec\": "),
	      "rates present for every VM");
	run_free(&r);
	f.tick = 0;

	run_cli(&r, &f.ops, "stat", "-i", "0", "2", "0x1", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "qemu-system-x86") &&
	      strstr(r.out, "qemu\"evil?"), "stat of chosen VMs");
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "1", "99", NULL);
	CHECK(r.rc == 3 && strstr(r.err, "VM 99: not tracked") &&
	      strstr(r.out, "qemu-system-x86"),
	      "unknown VM: error, exit 3, the others still shown");
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "-v", "1", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "qemu-system-x86") &&
	      !strstr(r.out, "qemu\"evil") &&
	      strstr(r.out, "\n  VCPU      TID          EXITS        ENTRIES\n"
			    "     0     4243 ") &&
	      strstr(r.out, "\n     1     4244            101            101\n") &&
	      strstr(r.out, "\nVM 1 vCPU 1 (tid 4244): exits by reason\n") &&
	      !strstr(r.out, "OVERHEAD") && !strstr(r.out, "MEAN"),
	      "stat -v 1: vCPU table and per-vCPU reasons, no latency");
	if (r.rc)
		tap_diag("stderr: %s", r.err);
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "-v", "99", NULL);
	CHECK(r.rc == 3 && strstr(r.err, "VM 99: not tracked") && !r.out_len,
	      "stat -v of an unknown VM: error, exit 3");
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "--json", "-v", "2", NULL);
	CHECK(r.rc == 0 && json_valid(r.out, r.out_len) &&
	      strstr(r.out, "\"vm_id\": 2") && !strstr(r.out, "\"vm_id\": 1") &&
	      strstr(r.out, "\"vcpus\": ["), "stat -v --json: the one VM");
	run_free(&r);

	f.hs.untracked_exits = 12;
	run_cli(&r, &f.ops, "stat", "-i", "0", NULL);
	CHECK(r.rc == 0 && strstr(r.err, "12 exits could not be accounted"),
	      "untracked exits are warned about");
	run_free(&r);

	f.hs.api_version = 2;
	run_cli(&r, &f.ops, "list", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "API version mismatch") &&
	      strstr(r.err, "version 2"), "API mismatch: clear message, exit 1");
	run_free(&r);
	f.hs.api_version = KVMW_API_VERSION;

	f.open_err = -EACCES;
	run_cli(&r, &f.ops, "list", NULL);
	CHECK(r.rc == 4 && strstr(r.err, "needs root"),
	      "permission denied: exit 4");
	run_free(&r);
	f.open_err = 0;

	CHECK(f.opens == f.closes, "device closed after every command");
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

/* Latencies through the device: a current and an older module. */
static void test_latency_fields(void)
{
	struct kvmw_reason_stat *r;
	struct kvmw_vm_snap *v;
	struct fake_dev f;
	struct run run;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS;
	v = fake_add_vm(&f, 5, 500, "qemu", 1);
	/* CPUID: 80 exits, 79 timed; HLT: 20, all timed. */
	r = &v->reasons[0];
	r->lat_total_ns = 79 * 1500;
	r->lat_min_ns = 1200;
	r->lat_max_ns = 1900;
	r->hist[10] = 79;
	r = &v->reasons[1];
	r->flags = KVMW_REASON_F_IDLE;
	r->lat_total_ns = 20 * 1000000;
	r->lat_min_ns = 1000000;
	r->lat_max_ns = 1000000;
	r->hist[19] = 20;
	v->vcpus[0].guest_ns = 1000000000;
	v->vcpus[0].exit_ns = 79 * 1500 + 20 * 1000000;
	v->vcpus[0].idle_ns = 20 * 1000000;
	v->vcpus[0].overhead_ns = 79 * 1500;

	run_cli(&run, &f.ops, "stat", "-i", "0", "-l", NULL);
	CHECK(run.rc == 0 &&
	      strstr(run.out, "time: guest 1.00s, exits 20.1ms (overhead 118us, idle 20.0ms, userspace 0ns), overhead 0.01%\n") &&
	      strstr(run.out, "  CPUID  cpuid               80  80.0%   1.50us   1.20us   1.90us"),
	      "latency fields read through the device");
	run_free(&run);

	/* An older module fills only the VER0 part and zeroes the rest. */
	f.hs.features &= ~(KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS);
	f.vcpu_size = KVMW_VCPU_INFO_SIZE_VER0;
	f.reason_size = KVMW_REASON_STAT_SIZE_VER0;
	run_cli(&run, &f.ops, "stat", "-i", "0", "--json", NULL);
	CHECK(run.rc == 0 && json_valid(run.out, run.out_len) &&
	      strstr(run.out, "\"latency\": null") &&
	      strstr(run.out, "\"time\": null") &&
	      strstr(run.out, "\"measured\": false") &&
	      !strstr(run.out, "\"hist\": ["),
	      "older module: no latency in the JSON");
	run_free(&run);
	run_cli(&run, &f.ops, "stat", "-i", "0", NULL);
	CHECK(run.rc == 0 && strstr(run.out, "      -  CPUID") &&
	      !strstr(run.out, "MEAN") && !strstr(run.out, "time:"),
	      "older module: no latency in the table");
	run_free(&run);
	CHECK(f.bad_requests == 0, "latency reads followed the UAPI rules");
	fake_free(&f);
}

/* Two snapshots hold the same bytes. */
static bool snap_equal(const struct kvmw_vm_snap *a,
		       const struct kvmw_vm_snap *b)
{
	return !memcmp(&a->vm, &b->vm, sizeof(a->vm)) &&
	       !memcmp(&a->mem, &b->mem, sizeof(a->mem)) &&
	       a->nr_vcpus == b->nr_vcpus && a->nr_reasons == b->nr_reasons &&
	       (!a->nr_vcpus || !memcmp(a->vcpus, b->vcpus,
					a->nr_vcpus * sizeof(*a->vcpus))) &&
	       (!a->nr_reasons || !memcmp(a->reasons, b->reasons,
					  a->nr_reasons * sizeof(*a->reasons)));
}

/* Three VMs, not in vm_id order, one without vCPUs, one with memory. */
static void fake_three(struct fake_dev *f)
{
	struct kvmw_vm_snap *v;

	fake_init(f);
	f->hs.features |= KVMW_FEAT_SNAPSHOT_ALL | KVMW_FEAT_MEM_NUMA |
			  KVMW_FEAT_SCHED;
	v = fake_add_vm(f, 9, 900, "qemu-9", 2);
	v->vcpus[1].rq_delay_ns = 123456;
	v->vcpus[1].run_node_ns[1] = 5000;
	v->mem.pages = 1024;
	v->mem.stride = 4;
	v->mem.sampled = 256;
	v->mem.unmapped = 56;
	v->mem.passes = 3;
	v->mem.node[0] = 150;
	v->mem.node[1] = 50;
	fake_add_vm(f, 3, 300, "qemu-3", 0);
	v = fake_add_vm(f, 5, 500, "qemu-5", 3);
	/* A vCPU with a single reason shifts the others' indices. */
	v->nr_reasons--;
	v->vcpus[2].nr_reasons--;
	v->vcpus[2].exits -= 20;
	v->vm.exits -= 20;
}

static void test_snapshot_all(void)
{
	struct kvmw_vm_snap *all, one;
	struct kvmw_sample s;
	struct kvmw_dev dev;
	struct fake_dev f;
	size_t nr, i;
	bool ok = true;

	fake_three(&f);
	kvmw_dev_open(&dev, "fake", &f.ops);
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == 0 && nr == 3,
	      "SNAPSHOT_ALL: 3 VMs");
	CHECK(f.all_calls == 2 && f.snap_calls == 0 && f.list_calls == 0,
	      "one query, one read (%u calls)", f.all_calls);
	CHECK(nr == 3 && all[0].vm.vm_id == 9 && all[1].vm.vm_id == 3 &&
	      all[2].vm.vm_id == 5, "VMs in the module's order");
	CHECK(nr == 3 && all[2].nr_vcpus == 3 && all[2].nr_reasons == 5 &&
	      all[2].vcpus[2].first_reason == 4 &&
	      all[2].reasons[4].vcpu_index == 2 && all[1].nr_vcpus == 0,
	      "indices rebased to each VM's own arrays");
	for (i = 0; i < nr; i++) {
		CHECK(kvmw_dev_vm_snapshot(&dev, all[i].vm.vm_id, &one) == 0,
		      "VM_SNAPSHOT of VM %llu",
		      (unsigned long long)all[i].vm.vm_id);
		ok = snap_equal(&all[i], &one);
		CHECK(ok, "VM %llu: SNAPSHOT_ALL gives the same bytes as VM_SNAPSHOT",
		      (unsigned long long)all[i].vm.vm_id);
		kvmw_vm_snap_free(&one);
	}
	CHECK(nr == 3 && all[0].mem.stride == 4 && all[0].mem.node[1] == 50 &&
	      all[0].vcpus[1].rq_delay_ns == 123456,
	      "memory and scheduler fields copied");
	for (i = 0; i < nr; i++)
		kvmw_vm_snap_free(&all[i]);
	free(all);

	f.grow_vcpus = 3;
	f.grow_by = 8;
	f.all_calls = 0;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == 0 && nr == 3 &&
	      all[0].nr_vcpus == 26 && f.all_calls > 2 &&
	      f.all_calls < KVMW_DEV_MAX_TRIES,
	      "growing answer: retried with headroom (%u calls)", f.all_calls);
	for (i = 0; i < nr; i++)
		kvmw_vm_snap_free(&all[i]);
	free(all);

	f.always_short = true;
	f.all_calls = 0;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == -EAGAIN && !all &&
	      !nr && f.all_calls == KVMW_DEV_MAX_TRIES,
	      "answer growing forever: EAGAIN");
	f.always_short = false;
	f.lie_e2big = true;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == -EPROTO && !all,
	      "E2BIG although it fits: EPROTO");
	f.lie_e2big = false;

	/* A reason carrying the index of another VM's vCPU. */
	f.vms[2].reasons[0].vcpu_index = 1;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == -EPROTO && !all,
	      "cross reference into another vCPU: EPROTO");
	f.vms[2].reasons[0].vcpu_index = 0;
	f.vms[0].vcpus[0].vm_id = 5;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == -EPROTO && !all,
	      "vCPU naming another VM: EPROTO");
	f.vms[0].vcpus[0].vm_id = 9;
	f.vms[0].vm.nr_vcpus = 200;
	CHECK(kvmw_dev_snapshot_all(&dev, &all, &nr) == -EPROTO && !all,
	      "vCPU range out of the answer: EPROTO");
	f.vms[0].vm.nr_vcpus = 2;

	f.all_calls = 0;
	f.list_calls = 0;
	f.snap_calls = 0;
	CHECK(kvmw_sample_take(&dev, NULL, 0, &s) == 0 && s.nr_vms == 3 &&
	      s.vms[0].vm.vm_id == 3 && s.vms[1].vm.vm_id == 5 &&
	      s.vms[2].vm.vm_id == 9, "sample from SNAPSHOT_ALL, sorted");
	CHECK(f.all_calls == 2 && !f.list_calls && !f.snap_calls,
	      "sample: no LIST_VMS nor VM_SNAPSHOT with the feature");
	kvmw_sample_free(&s);
	{
		__u64 ids[] = { 9, 77, 3 };

		CHECK(kvmw_sample_take(&dev, ids, 3, &s) == 0 &&
		      s.nr_vms == 2 && s.vms[0].vm.vm_id == 3 &&
		      s.vms[1].vm.vm_id == 9, "sample of chosen VMs");
		kvmw_sample_free(&s);
		ids[0] = 77;
		ids[2] = 78;
		CHECK(kvmw_sample_take(&dev, ids, 3, &s) == 0 &&
		      s.nr_vms == 0 && !s.vms, "sample of absent VMs: empty");
		kvmw_sample_free(&s);
	}

	/* Without the feature: the other path, same sample. */
	f.hs.features &= ~KVMW_FEAT_SNAPSHOT_ALL;
	f.all_calls = 0;
	CHECK(kvmw_sample_take(&dev, NULL, 0, &s) == 0 && s.nr_vms == 3 &&
	      !f.all_calls && f.snap_calls == 2 + 1 + 2,
	      "old module: LIST_VMS and a VM_SNAPSHOT per VM");
	kvmw_sample_free(&s);
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	kvmw_dev_close(&dev);
	fake_free(&f);
}

/* The text after @key, or "" (JSON: the part that must not differ). */
static const char *after(const char *s, const char *key)
{
	const char *p = s ? strstr(s, key) : NULL;

	return p ? p : "";
}

/* The command line gives the same output with and without SNAPSHOT_ALL. */
static void test_snapshot_all_cli(void)
{
	static const char * const cmds[][7] = {
		{ "stat", "-i", "0", NULL },
		{ "stat", "-i", "0", "-n", "10", NULL },
		{ "stat", "-i", "0", "--json", NULL },
		{ "stat", "-i", "0", "-v", "5", NULL },
		{ "stat", "-i", "0", "-v", "9", "--json", NULL },
		{ "stat", "-i", "0", "9", "3", NULL },
	};
	struct fake_dev f;
	struct run a, b;
	size_t i;

	fake_three(&f);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		const char * const *c = cmds[i];
		bool json;

		f.hs.features |= KVMW_FEAT_SNAPSHOT_ALL;
		f.all_calls = 0;
		run_cli(&a, &f.ops, c[0], c[1], c[2], c[3], c[4], c[5], c[6], NULL);
		CHECK(a.rc == 0 && f.all_calls == 2,
		      "%s %s %s %s: SNAPSHOT_ALL used", c[0], c[1], c[2],
		      c[3] ? c[3] : "");
		f.hs.features &= ~KVMW_FEAT_SNAPSHOT_ALL;
		f.all_calls = 0;
		run_cli(&b, &f.ops, c[0], c[1], c[2], c[3], c[4], c[5], c[6], NULL);
		json = strstr(a.out, "\"vms\": [") != NULL;
		/* Only the feature list may differ. */
		CHECK(b.rc == 0 && !f.all_calls && a.out_len > 100 &&
		      !strcmp(json ? after(a.out, "\"untracked_exits\"") : a.out,
			      json ? after(b.out, "\"untracked_exits\"") : b.out),
		      "command %zu: the same output through the per-VM fallback",
		      i);
		if (a.out_len && b.out_len &&
		    strcmp(after(a.out, "\"vms\""), after(b.out, "\"vms\"")))
			tap_diag("with:\n%s\nwithout:\n%s", a.out, b.out);
		run_free(&a);
		run_free(&b);
	}
	CHECK(f.bad_requests == 0, "every request followed the UAPI rules");
	fake_free(&f);
}

void test_dev(void)
{
	tap_diag("device layer (fake module)");
	test_open();
	test_list();
	test_snapshot();
	test_cli_on_fake();
	test_latency_fields();
	test_snapshot_all();
	test_snapshot_all_cli();
}
