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
#include "sample.h"
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
	CHECK(r.rc == 1 && strstr(r.err, "VM 99: not tracked") &&
	      strstr(r.out, "qemu-system-x86"),
	      "unknown VM: error, exit 1, the others still shown");
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "-v", "1", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "qemu-system-x86") &&
	      !strstr(r.out, "qemu\"evil") &&
	      strstr(r.out, "\n  VCPU      TID          EXITS        ENTRIES\n"
			    "     0     4243 ") &&
	      strstr(r.out, "\n     1     4244            101            101\n") &&
	      strstr(r.out, "\nVM 1 vCPU 1 (tid 4244): exits by reason\n") &&
	      strstr(r.out, "not measured"),
	      "stat -v 1: vCPU table and per-vCPU reasons, no latency");
	if (r.rc)
		tap_diag("stderr: %s", r.err);
	run_free(&r);

	run_cli(&r, &f.ops, "stat", "-i", "0", "-v", "99", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "VM 99: not tracked") && !r.out_len,
	      "stat -v of an unknown VM: error, exit 1");
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
	CHECK(r.rc == 1 && strstr(r.err, "needs root"), "permission denied");
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

	run_cli(&run, &f.ops, "stat", "-i", "0", NULL);
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
	CHECK(run.rc == 0 && strstr(run.out, "not measured") &&
	      !strstr(run.out, "MEAN") && !strstr(run.out, "time:"),
	      "older module: no latency in the table");
	run_free(&run);
	CHECK(f.bad_requests == 0, "latency reads followed the UAPI rules");
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
}
