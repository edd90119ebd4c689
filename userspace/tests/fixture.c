// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fixture: two samples one second apart, built by hand (no device).
 *
 *  VM 1  qemu-system-x86 (VMX), live, 2 vCPUs: 1000 exits now, 500 a
 *        second ago; CPUID 812 of them (81.2%). Latencies: CPUID in
 *        buckets 10, 11 and 14 on both vCPUs, HLT (idle, one exit in
 *        flight), EPT_VIOLATION all in bucket 12, IO_INSTRUCTION all to
 *        userspace; guest 1 s and 0.5 s. Faults (2-node host): vCPU 0's
 *        50 EPT violations, 42 on node 0, 6 on node 1, 2 unknown; P50
 *        in bucket 11, P99 in bucket 12 (max 7 us); none on vCPU 1.
 *  VM 2  a comm full of awkward bytes (VMX), gone, an unknown reason
 *        0x1234 and undecoded exits; nothing timed.
 *  VM 3  qemu-kvm (SVM), live, appeared during the interval; an HLT in
 *        the last, open-ended bucket and an untimed reason. 300 NPF
 *        faults, 60 of them MMIO (node unknown), 60 on node 0, 180 on
 *        node 1.
 *  VM 4  in the first sample only: dropped by the module.
 *
 * Scheduler and memory (second sample only):
 *  VM 1  vCPU 0 waited 100 times for 2.6 ms (90 in bucket 14, 10 in
 *        bucket 16, max 100 us), ran 0.9 s on node 0 and 0.1 s on node
 *        1, last on CPU 3 (node 0); vCPU 1 waited 20 times for 0.4 ms
 *        (18 in bucket 14, 2 in bucket 15, max 40 us), ran 0.1 s on node
 *        0 and 0.3 s on node 1, last on CPU 5 (node 1). Home node 0
 *        (1.0 s of 1.4 s). Memory: 262144 pages, stride 64, 4096
 *        samples, 1096 unmapped, 2250 on node 0 and 750 on node 1:
 *        remote 750 / 3000 = 25%.
 *  VM 2  gone, never seen by the scheduler, no memory pass yet.
 *  VM 3  never waited, ran 0.4 s on node 1 (home), last on CPU 7.
 *        Memory: stride 32, 2700 samples on node 0, 1200 on node 1 and
 *        100 on a node >= 16: remote (2700 + 100) / 4000 = 70%.
 *
 * The module has the latency, user_exits, faults, sched and mem_numa
 * features; only the second sample carries latencies, faults, scheduler
 * and memory figures (the first one serves the rates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "helpers.h"
#include "libkvmwarden.h"

#define NS	1000000000ULL

static void vm1(struct kvmw_vm_snap *s, __u64 scale)
{
	bool lat = scale == 1;

	snap_init(s, 1, 4242, "qemu-system-x86", KVMW_VENDOR_VMX);
	snap_add_vcpu(s, 0, 4250);
	snap_add_reason(s, 10, 650 / scale);	/* CPUID */
	if (lat) {
		snap_set_lat(s, 1135000, 1100, 20000, 0, 0);
		snap_add_hist(s, 10, 600);
		snap_add_hist(s, 11, 45);
		snap_add_hist(s, 14, 5);
	}
	snap_add_reason(s, 12, 100 / scale);	/* HLT */
	if (lat) {
		/* 99 timed: the 100th is in flight. */
		snap_set_lat(s, 135900000, 70000, 2000000, 0, 0);
		snap_add_hist(s, 16, 9);
		snap_add_hist(s, 20, 90);
	}
	snap_add_reason(s, 48, 50 / scale);	/* EPT_VIOLATION */
	if (lat) {
		snap_set_lat(s, 250000, 4200, 7900, 0, 0);
		snap_add_hist(s, 12, 50);
		s->vcpus[0].guest_ns = NS;
		/* 30 x 3000 + 20 x 5500 ns. */
		snap_set_faults(s, 50, 20, 5, 10, 0, 200000, 7000);
		snap_add_fault_hist(s, 11, 30);
		snap_add_fault_hist(s, 12, 20);
		snap_add_fault_node(s, 0, 42);
		snap_add_fault_node(s, 1, 6);
		snap_add_fault_node(s, -1, 2);
	}
	snap_add_vcpu(s, 1, 4251);
	snap_add_reason(s, 10, 162 / scale);	/* CPUID */
	if (lat) {
		snap_set_lat(s, 229000, 1050, 2600, 0, 0);
		snap_add_hist(s, 10, 160);
		snap_add_hist(s, 11, 2);
	}
	snap_add_reason(s, 30, 38 / scale);	/* IO_INSTRUCTION */
	if (lat) {
		snap_set_lat(s, 620000, 8500, 50000, 38, 400000);
		snap_add_hist(s, 13, 30);
		snap_add_hist(s, 15, 8);
		s->vcpus[1].guest_ns = NS / 2;
	}
	if (!lat)
		return;
	/* 90 x 20 us + 10 x 80 us. */
	snap_set_sched(s, 0, 2600000, 100, 100000, 40, 60, 12, 2, 3, 0);
	snap_add_rq_hist(s, 0, 14, 90);
	snap_add_rq_hist(s, 0, 16, 10);
	s->vcpus[0].run_node_ns[0] = 900000000;
	s->vcpus[0].run_node_ns[1] = 100000000;
	/* 18 x 18 us + 36 us + 40 us. */
	snap_set_sched(s, 1, 400000, 20, 40000, 5, 15, 3, 1, 5, 1);
	snap_add_rq_hist(s, 1, 14, 18);
	snap_add_rq_hist(s, 1, 15, 2);
	s->vcpus[1].run_node_ns[0] = 100000000;
	s->vcpus[1].run_node_ns[1] = 300000000;
	s->mem.pages = 262144;
	s->mem.stride = 64;
	s->mem.sampled = 4096;
	s->mem.unmapped = 1096;
	s->mem.passes = 5;
	s->mem.pass_ns = 100500000000ULL;
	s->mem.node[0] = 2250;
	s->mem.node[1] = 750;
}

static void vm2(struct kvmw_vm_snap *s)
{
	/* Quote, backslash, newline, tab, ESC, an invalid byte, UTF-8. */
	snap_init(s, 2, 777, "a\"b\\c\n\t\x1b\xff\xc3\xa9xyzwvu", KVMW_VENDOR_VMX);
	snap_add_vcpu(s, 0, 778);
	snap_add_reason(s, 0x1234, 6);
	snap_add_reason(s, KVMW_REASON_UNDECODED, 4);
	s->vm.flags = KVMW_VM_F_GONE;
	s->vm.gone_ns = 5 * NS;
}

static void vm3(struct kvmw_vm_snap *s)
{
	snap_init(s, 3, 9000, "qemu-kvm", KVMW_VENDOR_SVM);
	snap_add_vcpu(s, 0, 9001);
	snap_add_reason(s, 0x400, 300);		/* npf */
	snap_set_lat(s, 900000, 2100, 4000, 0, 0);
	snap_add_hist(s, 11, 300);
	/* 200 x 1500 + 100 x 2500 ns. */
	snap_set_faults(s, 300, 150, 0, 30, 60, 550000, 3900);
	snap_add_fault_hist(s, 10, 200);
	snap_add_fault_hist(s, 11, 100);
	snap_add_fault_node(s, 0, 60);
	snap_add_fault_node(s, 1, 180);
	snap_add_fault_node(s, -1, 60);
	snap_add_reason(s, 0x78, 100);		/* hlt */
	/* 99 timed, one of them 3 s long: in the open-ended bucket. */
	snap_set_lat(s, 3294000000ULL, 2500000, 3000000000ULL, 0, 0);
	snap_add_hist(s, 21, 98);
	snap_add_hist(s, 31, 1);
	snap_add_reason(s, 0xffffffff, 1);	/* invalid_guest_state */
	s->reasons[s->nr_reasons - 1].flags = KVMW_REASON_F_UNTIMED;
	s->vcpus[0].untimed_exits = 1;
	s->vcpus[0].guest_ns = 400000000;
	snap_set_sched(s, 0, 0, 0, 0, 0, 30, 0, 0, 7, 1);
	s->vcpus[0].run_node_ns[1] = 400000000;
	s->mem.pages = 131072;
	s->mem.stride = 32;
	s->mem.sampled = 4096;
	s->mem.unmapped = 96;
	s->mem.node_unknown = 100;
	s->mem.passes = 1;
	s->mem.pass_ns = 100900000000ULL;
	s->mem.node[0] = 2700;
	s->mem.node[1] = 1200;
}

static void vm4(struct kvmw_vm_snap *s)
{
	snap_init(s, 4, 31337, "short-lived", KVMW_VENDOR_VMX);
	snap_add_vcpu(s, 0, 31338);
	snap_add_reason(s, 1, 9);		/* EXTERNAL_INTERRUPT */
}

static void hs_init(struct kvmw_handshake *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->size = sizeof(*hs);
	hs->api_version = KVMW_API_VERSION;
	hs->vendor = KVMW_VENDOR_VMX;
	hs->features = FEAT_ALL;
	hs->nr_reason_slots = 80;
}

void fixture_build(struct fixture *fx)
{
	struct kvmw_vm_snap *p, *c;

	memset(fx, 0, sizeof(*fx));
	hs_init(&fx->prev.hs);
	hs_init(&fx->cur.hs);
	fx->prev.t_ns = 100 * NS;
	fx->cur.t_ns = 101 * NS;

	p = calloc(3, sizeof(*p));
	c = calloc(3, sizeof(*c));
	if (!p || !c)
		abort();
	vm1(&p[0], 2);
	vm2(&p[1]);
	vm4(&p[2]);
	vm1(&c[0], 1);
	vm2(&c[1]);
	vm3(&c[2]);
	fx->prev.vms = p;
	fx->prev.nr_vms = 3;
	fx->cur.vms = c;
	fx->cur.nr_vms = 3;
	fx->cur.hs.nr_vms = 3;
}

void fixture_model(struct fixture *fx)
{
	free(fx->rows);
	kvmw_snapshot_free(&fx->mprev);
	kvmw_snapshot_free(&fx->mcur);
	model_of_sample(&fx->mprev, &fx->prev);
	model_of_sample(&fx->mcur, &fx->cur);
	if (kvmw_delta(&fx->mprev, &fx->mcur, &fx->rows, &fx->nr_rows))
		abort();
}

void fixture_free(struct fixture *fx)
{
	free(fx->rows);
	kvmw_snapshot_free(&fx->mprev);
	kvmw_snapshot_free(&fx->mcur);
	kvmw_sample_free(&fx->prev);
	kvmw_sample_free(&fx->cur);
}

/* One value of the statistics table as a JSON line. */
static void print_value(FILE *f, const struct kvmw_stat_def *d,
			const void *base,
			const struct kvmw_host *host, __u64 vm_id,
			long vcpu, long long reason)
{
	static const char * const scopes[] = {
		"host", "vm", "unit", "vcpu", "reason",
	};
	struct kvmw_json j;

	kvmw_json_init(&j, f, false);
	kvmw_json_begin_object(&j);
	kvmw_json_kv_u64(&j, "vm", vm_id);
	kvmw_json_key(&j, "vcpu");
	if (vcpu >= 0)
		kvmw_json_u64(&j, vcpu);
	else
		kvmw_json_null(&j);
	kvmw_json_key(&j, "reason");
	if (reason >= 0)
		kvmw_json_u64(&j, reason);
	else
		kvmw_json_null(&j);
	kvmw_json_key(&j, "scope");
	kvmw_json_string(&j, scopes[d->scope]);
	kvmw_json_key(&j, "name");
	kvmw_json_string(&j, d->name);
	kvmw_json_key(&j, "measured");
	kvmw_json_bool(&j, !d->feature || (host->features & d->feature));
	kvmw_json_key(&j, "value");
	kvmw_stat_json_value(&j, d, base, host->nr_nodes);
	kvmw_json_end_object(&j);
	kvmw_json_finish(&j);
}

/* Every number of the statistics table for @scope in @u's reasons. */
static void print_reasons(FILE *f, const struct kvmw_stat_def *t, size_t n,
			  const struct kvmw_unit *u,
			  const struct kvmw_host *host, __u64 vm_id, long vcpu)
{
	size_t i, k;

	for (k = 0; k < u->nr_reasons; k++)
		for (i = 0; i < n; i++)
			if (t[i].scope == KVMW_AT_REASON)
				print_value(f, &t[i], &u->reasons[k], host,
					    vm_id, vcpu, u->reasons[k].code);
}

/*
 * stat-values: every number of the statistics table for every VM, vCPU
 * and reason of the snapshot, one JSON line each, read generically
 * through the table as an exporter would.
 */
static void print_values(FILE *f, const struct kvmw_snapshot *snap)
{
	const struct kvmw_host *host = &snap->host;
	const struct kvmw_stat_def *t;
	size_t n = kvmw_stat_table(&t), i, v, k;

	for (i = 0; i < n; i++)
		if (t[i].scope == KVMW_AT_HOST)
			print_value(f, &t[i], host, host, 0, -1, -1);
	for (v = 0; v < snap->nr_vms; v++) {
		const struct kvmw_vm *vm = &snap->vms[v];

		for (i = 0; i < n; i++) {
			if (t[i].scope == KVMW_AT_VM)
				print_value(f, &t[i], vm, host, vm->vm_id, -1,
					    -1);
			else if (t[i].scope == KVMW_AT_UNIT)
				print_value(f, &t[i], &vm->total, host,
					    vm->vm_id, -1, -1);
		}
		print_reasons(f, t, n, &vm->total, host, vm->vm_id, -1);
		for (k = 0; k < vm->nr_vcpus_detail; k++) {
			const struct kvmw_vcpu *vc = &vm->vcpus[k];

			for (i = 0; i < n; i++) {
				if (t[i].scope == KVMW_AT_VCPU)
					print_value(f, &t[i], vc, host,
						    vm->vm_id, k, -1);
				else if (t[i].scope == KVMW_AT_UNIT)
					print_value(f, &t[i], &vc->u, host,
						    vm->vm_id, k, -1);
			}
			print_reasons(f, t, n, &vc->u, host, vm->vm_id, k);
		}
	}
}

/*
 * The model of the sample @s as a module with KVMW_FEAT_STATS gives it
 * through the device source: a fake module holding the same numbers,
 * describing its statistics in another order than the real module (and
 * without @drop, when not NULL).
 */
static void model_via_stats(struct kvmw_snapshot *m,
			    const struct kvmw_sample *s, const char *drop,
			    bool extra)
{
	struct kvmw_source src;
	struct fake_dev *f = calloc(1, sizeof(*f));
	size_t i;

	if (!f)
		abort();
	fake_init(f);
	f->hs = s->hs;
	f->hs.features |= KVMW_FEAT_STATS;
	f->stats_reverse = true;
	f->stats_drop = drop;
	f->stats_extra = extra;
	for (i = 0; i < s->nr_vms; i++)
		snap_copy(&f->vms[f->nr_vms++], &s->vms[i]);
	if (kvmw_source_open(&src, &kvmw_source_dev, "fake", &f->ops) ||
	    kvmw_snapshot_take(&src, NULL, 0, true, m))
		abort();
	/* Only the statistics were read: no snapshot ioctl. */
	if (f->snap_calls || f->all_calls || f->read_calls != 2)
		abort();
	m->t_ns = s->t_ns;
	kvmw_source_close(&src);
	fake_free(f);
	free(f);
}

/* Removes the suffix @sfx from @name if it is there. */
static bool suffix(char *name, const char *sfx)
{
	char *p = strstr(name, sfx);

	if (!p)
		return false;
	memmove(p, p + strlen(sfx), strlen(p + strlen(sfx)) + 1);
	return true;
}

int fixture_fprint(FILE *f, const char *which)
{
	struct kvmw_stat_opts opts = { .top = 3, .interval = 1.0 };
	const char *drop = NULL;
	struct fixture fx;
	bool stats, extra;
	char name[48];
	int ret = -1;

	snprintf(name, sizeof(name), "%s", which);
	which = name;
	fixture_build(&fx);
	/* "NAME-old": as an older module without any optional feature. */
	if (suffix(name, "-old")) {
		fx.cur.hs.features = KVMW_FEAT_EXIT_COUNTS |
				     KVMW_FEAT_REASON_VMX;
		fx.prev.hs.features = fx.cur.hs.features;
	}
	stats = suffix(name, "-stats");
	/* "NAME-extra-stats": the module describes throttle_time too. */
	extra = suffix(name, "-extra");
	/*
	 * "NAME-nofaults": without the faults feature; through the
	 * statistics, a module that announces it but does not describe
	 * fault_time_hist.
	 */
	if (suffix(name, "-nofaults")) {
		if (stats) {
			drop = "fault_time_hist";
		} else {
			fx.cur.hs.features &= ~KVMW_FEAT_FAULTS;
			fx.prev.hs.features &= ~KVMW_FEAT_FAULTS;
		}
	}
	if (stats) {
		/* "NAME-stats": through KVMW_IOC_STATS_READ. */
		model_via_stats(&fx.mprev, &fx.prev, drop, extra);
		model_via_stats(&fx.mcur, &fx.cur, drop, extra);
		if (kvmw_delta(&fx.mprev, &fx.mcur, &fx.rows, &fx.nr_rows))
			abort();
	} else {
		fixture_model(&fx);
	}
	if (!strcmp(which, "list-table"))
		ret = kvmw_print_list_table(f, &fx.mcur);
	else if (!strcmp(which, "list-json"))
		ret = kvmw_print_list_json(f, &fx.mcur);
	else if (!strcmp(which, "stat-table"))
		ret = kvmw_print_stat_table(f, &fx.mcur, fx.rows,
					    fx.nr_rows, &opts);
	else if (!strcmp(which, "stat-long")) {
		opts.detail = true;
		ret = kvmw_print_stat_table(f, &fx.mcur, fx.rows, fx.nr_rows,
					    &opts);
	} else if (!strcmp(which, "stat-json"))
		ret = kvmw_print_stat_json(f, &fx.mcur, fx.rows,
					   fx.nr_rows, &opts);
	else if (!strcmp(which, "stat-vcpus"))
		ret = kvmw_print_stat_vcpus(f, &fx.mcur, &fx.rows[0],
					    &opts);
	else if (!strcmp(which, "stat-values")) {
		print_values(f, &fx.mcur);
		ret = 0;
	}
	fixture_free(&fx);
	return ret;
}

int fixture_print(const char *which)
{
	return fixture_fprint(stdout, which);
}
