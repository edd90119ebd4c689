// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table and JSON output of the list and stat commands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "format.h"
#include "libkvmwarden.h"

#define COMM_LEN	16

/* Indentation of the lines under a VM's row: aligned with COMM. */
#define SUB_INDENT	17

/* Width of a latency cell in the reason tables. */
#define NS_W		8

void kvmw_comm_for_tty(const __u8 comm[COMM_LEN], char out[COMM_LEN + 1])
{
	size_t i;

	for (i = 0; i < COMM_LEN && comm[i]; i++)
		out[i] = comm[i] >= 0x20 && comm[i] < 0x7f ? comm[i] : '?';
	out[i] = '\0';
	if (!i)
		strcpy(out, "-");
}

const char *kvmw_fmt_ns(__u64 ns, char buf[KVMW_NS_BUF_LEN])
{
	static const struct {
		double div;
		const char *unit;
	} units[] = {
		{ 1e3, "us" },
		{ 1e6, "ms" },
		{ 1e9, "s" },
	};
	unsigned int i;
	double v = 0;

	if (ns < 1000) {
		snprintf(buf, KVMW_NS_BUF_LEN, "%uns", (unsigned int)ns);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		v = (double)ns / units[i].div;
		/* 999.7 us is 1.00ms, not "1000us". */
		if (v < 999.5 || i == ARRAY_SIZE(units) - 1)
			break;
	}
	snprintf(buf, KVMW_NS_BUF_LEN, "%.*f%s",
		 v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, units[i].unit);
	return buf;
}

/* The module measures exit latencies and vCPU times. */
static bool has_lat(const struct kvmw_handshake *hs)
{
	return hs->features & KVMW_FEAT_LATENCY;
}

/* ... and tells the VMM's time (user_ns) apart from the overhead. */
static bool has_user(const struct kvmw_handshake *hs)
{
	return has_lat(hs) && (hs->features & KVMW_FEAT_USER_EXITS);
}

/* The module counts nested page faults (the VER2 vCPU fields). */
static bool has_faults(const struct kvmw_handshake *hs)
{
	return hs->features & KVMW_FEAT_FAULTS;
}

/* The module sees the vCPU threads' scheduling (the VER3 vCPU fields). */
static bool has_sched(const struct kvmw_handshake *hs)
{
	return hs->features & KVMW_FEAT_SCHED;
}

/* The module samples where the VMs' memory lives (struct kvmw_vm_mem). */
static bool has_mem(const struct kvmw_handshake *hs)
{
	return hs->features & KVMW_FEAT_MEM_NUMA;
}

static int finish(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

static unsigned int vm_vendor(const struct kvmw_vm_info *vm,
			      const struct kvmw_handshake *hs)
{
	return vm->vendor ? vm->vendor : hs->vendor;
}

static const char *state(const struct kvmw_vm_info *vm)
{
	return vm->flags & KVMW_VM_F_GONE ? "gone" : "live";
}

int kvmw_print_list_table(FILE *f, const struct kvmw_vm_info *vms, size_t nr)
{
	char comm[COMM_LEN + 1];
	size_t i;

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
	fprintf(f, "%6s %8s  %-16s %5s %14s  %s\n",
		"VMID", "PID", "COMM", "VCPUS", "EXITS", "STATE");
	for (i = 0; i < nr; i++) {
		const struct kvmw_vm_info *vm = &vms[i];

		kvmw_comm_for_tty(vm->comm, comm);
		fprintf(f, "%6" PRIu64 " %8u  %-16s %5u %14" PRIu64 "  %s\n",
			(uint64_t)vm->vm_id, vm->vmm_pid, comm, vm->nr_vcpus,
			(uint64_t)vm->exits, state(vm));
	}
	return finish(f);
}

static void json_header(struct kvmw_json *j, const struct kvmw_handshake *hs)
{
	unsigned int bit;

	kvmw_json_kv_u64(j, "api_version", hs->api_version);
	kvmw_json_key(j, "vendor");
	kvmw_json_string(j, kvmw_vendor_name(hs->vendor));
	kvmw_json_key(j, "features");
	kvmw_json_begin_array(j);
	for (bit = 0; bit < 64; bit++) {
		char name[16];

		if (!(hs->features & (1ULL << bit)))
			continue;
		if (kvmw_feature_name(1ULL << bit)) {
			kvmw_json_string(j, kvmw_feature_name(1ULL << bit));
		} else {
			snprintf(name, sizeof(name), "bit%u", bit);
			kvmw_json_string(j, name);
		}
	}
	kvmw_json_end_array(j);
	kvmw_json_kv_u64(j, "features_mask", hs->features);
	kvmw_json_kv_u64(j, "untracked_exits", hs->untracked_exits);
}

/* The fields shared by list and stat. */
static void json_vm_fields(struct kvmw_json *j, const struct kvmw_vm_info *vm,
			   const struct kvmw_handshake *hs)
{
	kvmw_json_kv_u64(j, "vm_id", vm->vm_id);
	kvmw_json_kv_u64(j, "vmm_pid", vm->vmm_pid);
	kvmw_json_key(j, "comm");
	kvmw_json_string_n(j, (const char *)vm->comm, COMM_LEN);
	kvmw_json_key(j, "vendor");
	kvmw_json_string(j, kvmw_vendor_name(vm_vendor(vm, hs)));
	kvmw_json_kv_u64(j, "nr_vcpus", vm->nr_vcpus);
	kvmw_json_kv_u64(j, "exits", vm->exits);
	kvmw_json_kv_u64(j, "entries", vm->entries);
	kvmw_json_kv_u64(j, "first_seen_ns", vm->first_seen_ns);
	kvmw_json_kv_u64(j, "gone_ns", vm->gone_ns);
	kvmw_json_key(j, "no_lifetime");
	kvmw_json_bool(j, vm->flags & KVMW_VM_F_NO_LIFETIME);
}

int kvmw_print_list_json(FILE *f, const struct kvmw_handshake *hs,
			 const struct kvmw_vm_info *vms, size_t nr)
{
	struct kvmw_json j;
	size_t i;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	json_header(&j, hs);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < nr; i++) {
		kvmw_json_begin_object(&j);
		json_vm_fields(&j, &vms[i], hs);
		kvmw_json_key(&j, "gone");
		kvmw_json_bool(&j, vms[i].flags & KVMW_VM_F_GONE);
		kvmw_json_end_object(&j);
	}
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j) ? -EIO : 0;
}

/* "CPUID 81.2%, HLT 10.1%" for the @top largest reasons of a VM. */
static int print_top_reasons(FILE *f, const struct kvmw_vm_snap *snap,
			     unsigned int vendor, unsigned int top)
{
	struct kvmw_reason_total *t;
	char buf[KVMW_REASON_BUF_LEN];
	__u64 denom;
	size_t n, i;
	int ret;

	ret = kvmw_reason_totals(snap, KVMW_ALL_VCPUS, &t, &n);
	if (ret)
		return ret;
	denom = kvmw_reason_denominator(snap, KVMW_ALL_VCPUS);
	if (!n || !denom)
		fputc('-', f);
	for (i = 0; i < n && i < top && denom; i++) {
		fprintf(f, "%s%s %.1f%%", i ? ", " : "",
			kvmw_reason_name(vendor, t[i].code, buf),
			100.0 * (double)t[i].count / (double)denom);
	}
	free(t);
	return 0;
}

/*
 * "categories: cpuid 81.2%, halt 10.0%" on a line of its own under the
 * VM's row, aligned with COMM: every category with exits, largest first.
 * Nothing when the VM has no exits.
 */
static void print_categories(FILE *f, const struct kvmw_vm_snap *snap,
			     unsigned int vendor)
{
	__u64 c[KVMW_NR_CATEGORIES], denom = 0;
	unsigned int order[KVMW_NR_CATEGORIES], i, k, n = 0;

	kvmw_category_totals(snap, KVMW_ALL_VCPUS, vendor, c);
	/* Insertion sort by count, largest first, stable in enum order. */
	for (i = 0; i < KVMW_NR_CATEGORIES; i++) {
		if (!c[i])
			continue;
		denom += c[i];
		for (k = n; k > 0 && c[order[k - 1]] < c[i]; k--)
			order[k] = order[k - 1];
		order[k] = i;
		n++;
	}
	if (!denom)
		return;
	fprintf(f, "%17s%s", "", "categories:");
	for (i = 0; i < n; i++)
		fprintf(f, "%s %s %.1f%%", i ? "," : "",
			kvmw_category_name(order[i]),
			100.0 * (double)c[order[i]] / (double)denom);
	fputc('\n', f);
}

/*
 * "time: guest 1.50s, exits 138ms (overhead 1.83ms, idle 136ms,
 * userspace 400us), overhead 0.11%" under a VM's row: where its vCPUs'
 * time went. Only when the module measures it.
 */
static void print_time_line(FILE *f, const struct kvmw_vm_snap *snap,
			    const struct kvmw_handshake *hs)
{
	char guest[KVMW_NS_BUF_LEN], exits[KVMW_NS_BUF_LEN];
	char ovh[KVMW_NS_BUF_LEN], idle[KVMW_NS_BUF_LEN];
	char user[KVMW_NS_BUF_LEN];
	struct kvmw_times t;
	double pct;

	kvmw_times(snap, KVMW_ALL_VCPUS, &t);
	if (has_user(hs))
		kvmw_fmt_ns(t.user_ns, user);
	else
		strcpy(user, "-");
	fprintf(f, "%*stime: guest %s, exits %s (overhead %s, idle %s, userspace %s), overhead ",
		SUB_INDENT, "", kvmw_fmt_ns(t.guest_ns, guest),
		kvmw_fmt_ns(t.exit_ns, exits), kvmw_fmt_ns(t.overhead_ns, ovh),
		kvmw_fmt_ns(t.idle_ns, idle), user);
	if (kvmw_overhead_pct(&t, &pct))
		fprintf(f, "%.2f%%", pct);
	else
		fputc('-', f);
	if (t.untimed_exits)
		fprintf(f, ", untimed exits %" PRIu64,
			(uint64_t)t.untimed_exits);
	fputc('\n', f);
}

/* A latency cell: "-" when there is nothing to show. */
static const char *ns_cell(bool ok, __u64 ns, char buf[KVMW_NS_BUF_LEN])
{
	if (!ok)
		return "-";
	if (ns == KVMW_LAT_INF)
		return "inf";
	return kvmw_fmt_ns(ns, buf);
}

/*
 * "faults: 1200 (write 40.0%, fetch 5.0%, present 10.0%, mmio 0.0%),
 * latency mean 6.30us, P50 8.19us, P99 65.5us, max 80.0us; nodes:
 * 0: 900 (75.0%), 1: 250 (25.0%), unknown: 50; 75.0% on node 0" under a
 * VM's row: its vCPUs' nested page faults. Node shares are of the faults
 * whose node is known. Only when the module counts faults.
 */
static void print_fault_line(FILE *f, const struct kvmw_vm_snap *snap)
{
	static const char * const kinds[] = {
		"write", "fetch", "present", "mmio",
	};
	char buf[KVMW_NS_BUF_LEN];
	struct kvmw_faults ft;
	struct kvmw_pct p;
	__u64 n[ARRAY_SIZE(kinds)];
	unsigned int k;
	double d = 0;
	int node;

	kvmw_faults(snap, KVMW_ALL_VCPUS, &ft);
	fprintf(f, "%*sfaults: %" PRIu64, SUB_INDENT, "", (uint64_t)ft.faults);
	if (!ft.faults) {
		fputc('\n', f);
		return;
	}
	n[0] = ft.write;
	n[1] = ft.fetch;
	n[2] = ft.present;
	n[3] = ft.mmio;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		kvmw_share(n[k], ft.faults, &d);
		fprintf(f, "%s%s %.1f%%", k ? ", " : " (", kinds[k], d);
	}
	fputs("), latency ", f);
	if (kvmw_fault_lat_mean(&ft, &d)) {
		fprintf(f, "mean %s", kvmw_fmt_ns((__u64)(d + 0.5), buf));
		kvmw_fault_percentile(&ft, 500000, &p);
		fprintf(f, ", P50 %s", ns_cell(p.bucket >= 0, p.hi, buf));
		kvmw_fault_percentile(&ft, 990000, &p);
		fprintf(f, ", P99 %s", ns_cell(p.bucket >= 0, p.hi, buf));
		fprintf(f, ", max %s", kvmw_fmt_ns(ft.lat_max_ns, buf));
	} else {
		fputc('-', f);
	}
	fputs("; nodes:", f);
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!ft.node[k])
			continue;
		kvmw_share(ft.node[k], ft.located, &d);
		fprintf(f, " %u: %" PRIu64 " (%.1f%%),", k,
			(uint64_t)ft.node[k], d);
	}
	fprintf(f, " unknown: %" PRIu64, (uint64_t)ft.node_unknown);
	node = kvmw_fault_dominant_node(&ft, &d);
	if (node >= 0)
		fprintf(f, "; %.1f%% on node %d", d, node);
	fputc('\n', f);
}

/*
 * "sched: run-queue delay 3.00ms (steal 0.18%), 120 waits, mean 25.0us,
 * P99 100us, max 100us; preemptions 45, sleeps 75, migrations 15
 * (cross-node 3); run time: node 0 71.4%, node 1 28.6%" under a VM's row:
 * its vCPU threads as the host scheduler saw them inside KVM_RUN. Steal
 * needs the vCPUs' wall time (latency feature). Only when the module
 * has the sched feature.
 */
static void print_sched_line(FILE *f, const struct kvmw_vm_snap *snap,
			     const struct kvmw_handshake *hs)
{
	char buf[KVMW_NS_BUF_LEN];
	struct kvmw_sched sc;
	struct kvmw_pct p;
	unsigned int k, n = 0;
	double d = 0;

	kvmw_sched(snap, KVMW_ALL_VCPUS, &sc);
	fprintf(f, "%*ssched: run-queue delay %s (steal ", SUB_INDENT, "",
		kvmw_fmt_ns(sc.rq_delay_ns, buf));
	if (has_lat(hs) && kvmw_steal_pct(&sc, &d))
		fprintf(f, "%.2f%%", d);
	else
		fputc('-', f);
	fprintf(f, "), %" PRIu64 " wait%s", (uint64_t)sc.rq_delay_count,
		sc.rq_delay_count == 1 ? "" : "s");
	if (kvmw_sched_wait_mean(&sc, &d)) {
		fprintf(f, ", mean %s", kvmw_fmt_ns((__u64)(d + 0.5), buf));
		kvmw_sched_percentile(&sc, 990000, &p);
		fprintf(f, ", P99 %s", ns_cell(p.bucket >= 0, p.hi, buf));
		fprintf(f, ", max %s", kvmw_fmt_ns(sc.rq_delay_max_ns, buf));
	}
	fprintf(f, "; preemptions %" PRIu64 ", sleeps %" PRIu64
		", migrations %" PRIu64 " (cross-node %" PRIu64 "); run time:",
		(uint64_t)sc.preemptions, (uint64_t)sc.sleeps,
		(uint64_t)sc.migrations, (uint64_t)sc.node_migrations);
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!sc.run_node_ns[k])
			continue;
		kvmw_share(sc.run_node_ns[k], sc.run_ns, &d);
		fprintf(f, "%s node %u %.1f%%", n++ ? "," : "", k, d);
	}
	if (!n)
		fputs(" -", f);
	fputc('\n', f);
}

/*
 * "memory: 262144 pages, ~192000 resident (3000 of 4096 samples, stride
 * 64, 5 passes): node 0 ~144000 (75.0%), node 1 ~48000 (25.0%); remote
 * 25.0% (home node 0)" under a VM's row: where its memory lives, from
 * the module's last complete sampling pass. Page counts are estimates,
 * samples times the stride; shares are of the resident samples. Only
 * when the module has the mem_numa feature.
 */
static void print_mem_line(FILE *f, const struct kvmw_vm_snap *snap,
			   const struct kvmw_handshake *hs)
{
	const struct kvmw_vm_mem *m = &snap->mem;
	__u64 resident = kvmw_mem_resident(m);
	unsigned int k, n = 0;
	double d = 0;
	int home;

	fprintf(f, "%*smemory: ", SUB_INDENT, "");
	if (!m->passes) {
		fputs("no complete sampling pass yet\n", f);
		return;
	}
	fprintf(f, "%" PRIu64 " pages, ~%" PRIu64 " resident (%" PRIu64
		" of %" PRIu64 " samples, stride %" PRIu64 ", %" PRIu64
		" pass%s):", (uint64_t)m->pages,
		(uint64_t)(resident * m->stride), (uint64_t)resident,
		(uint64_t)m->sampled, (uint64_t)m->stride,
		(uint64_t)m->passes, m->passes == 1 ? "" : "es");
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!m->node[k])
			continue;
		kvmw_share(m->node[k], resident, &d);
		fprintf(f, "%s node %u ~%" PRIu64 " (%.1f%%)", n++ ? "," : "",
			k, (uint64_t)(m->node[k] * m->stride), d);
	}
	if (m->node_unknown) {
		kvmw_share(m->node_unknown, resident, &d);
		fprintf(f, "%s unknown ~%" PRIu64 " (%.1f%%)", n++ ? "," : "",
			(uint64_t)(m->node_unknown * m->stride), d);
	}
	if (!n)
		fputs(" none resident", f);
	fputs("; remote ", f);
	if (has_sched(hs) && kvmw_remote_pct(snap, &home, &d))
		fprintf(f, "%.1f%% (home node %d)", d, home);
	else
		fputc('-', f);
	fputc('\n', f);
}

/*
 * The VM table: a row per VM, with its categories, time, faults,
 * scheduler and memory lines under it.
 */
static int print_vm_rows(FILE *f, const struct kvmw_sample *cur,
			 const struct kvmw_stat_row *rows, size_t nr,
			 const struct kvmw_stat_opts *opts)
{
	char comm[COMM_LEN + 1];
	size_t i;
	int ret;

	fprintf(f, "%6s %8s  %-16s %5s %-5s %14s %12s",
		"VMID", "PID", "COMM", "VCPUS", "STATE", "EXITS", "EXITS/s");
	if (opts->top)
		fputs("  TOP REASONS", f);
	fputc('\n', f);
	for (i = 0; i < nr; i++) {
		const struct kvmw_vm_info *vm = &rows[i].snap->vm;

		kvmw_comm_for_tty(vm->comm, comm);
		fprintf(f, "%6" PRIu64 " %8u  %-16s %5u %-5s %14" PRIu64,
			(uint64_t)vm->vm_id, vm->vmm_pid, comm, vm->nr_vcpus,
			rows[i].gone ? "gone" : "live", (uint64_t)vm->exits);
		if (rows[i].has_rate)
			fprintf(f, " %12.1f", rows[i].exits_per_sec);
		else
			fprintf(f, " %12s", "-");
		if (opts->top) {
			fputs("  ", f);
			ret = print_top_reasons(f, rows[i].snap,
						vm_vendor(vm, &cur->hs),
						opts->top);
			if (ret)
				return ret;
		}
		fputc('\n', f);
		if (!opts->top)
			continue;
		print_categories(f, rows[i].snap, vm_vendor(vm, &cur->hs));
		if (has_lat(&cur->hs))
			print_time_line(f, rows[i].snap, &cur->hs);
		if (has_faults(&cur->hs))
			print_fault_line(f, rows[i].snap);
		if (has_sched(&cur->hs))
			print_sched_line(f, rows[i].snap, &cur->hs);
		if (has_mem(&cur->hs))
			print_mem_line(f, rows[i].snap, &cur->hs);
	}
	return 0;
}

/*
 * What the time after a reason's exits was, as words: "idle" (halt
 * category), "user" (some exits returned to the VMM), "untimed".
 */
static void reason_note(const struct kvmw_reason_total *t,
			unsigned int vendor, bool user, char *buf,
			size_t size)
{
	const char *words[3];
	unsigned int n = 0, i;
	size_t len = 0;

	if ((t->lat.flags & KVMW_REASON_F_IDLE) ||
	    kvmw_reason_category(vendor, t->code) == KVMW_CAT_HALT)
		words[n++] = "idle";
	if (user && t->lat.user_count)
		words[n++] = "user";
	if (t->lat.flags & KVMW_REASON_F_UNTIMED)
		words[n++] = "untimed";
	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? "," : "",
				words[i]);
}

static void print_reason_header(FILE *f, int w, bool lat)
{
	unsigned int k;

	fprintf(f, "  %-*s %-9s %12s %6s", w, "REASON", "CATEGORY", "COUNT",
		"SHARE");
	if (lat) {
		fprintf(f, " %*s %*s", NS_W, "MEAN", NS_W, "MIN");
		for (k = 0; k < KVMW_NR_PCTS; k++)
			fprintf(f, " %*s", NS_W, kvmw_pcts[k].name);
		fprintf(f, " %*s %6s %*s", NS_W, "MAX", "USER%", NS_W, "USER");
	}
	fputs("  NOTE\n", f);
}

static void print_reason_row(FILE *f, const struct kvmw_reason_total *t,
			     unsigned int vendor, __u64 denom, int w,
			     const struct kvmw_handshake *hs)
{
	char name[KVMW_REASON_BUF_LEN], buf[KVMW_NS_BUF_LEN], pct[16];
	const struct kvmw_lat *l = &t->lat;
	bool user = has_user(hs) && l->user_count;
	struct kvmw_pct p;
	char note[32];
	unsigned int k;
	double mean;

	if (denom)
		snprintf(pct, sizeof(pct), "%.1f%%",
			 100.0 * (double)t->count / (double)denom);
	else
		strcpy(pct, "-");
	fprintf(f, "  %-*s %-9s %12" PRIu64 " %6s", w,
		kvmw_reason_name(vendor, t->code, name),
		kvmw_category_name(kvmw_reason_category(vendor, t->code)),
		(uint64_t)t->count, pct);
	if (has_lat(hs)) {
		bool timed = kvmw_lat_mean(l, &mean);

		fprintf(f, " %*s", NS_W,
			ns_cell(timed, (__u64)(mean + 0.5), buf));
		fprintf(f, " %*s", NS_W, ns_cell(timed, l->min_ns, buf));
		for (k = 0; k < KVMW_NR_PCTS; k++) {
			kvmw_lat_percentile(l, kvmw_pcts[k].ppm, &p);
			fprintf(f, " %*s", NS_W,
				ns_cell(p.bucket >= 0, p.hi, buf));
		}
		fprintf(f, " %*s", NS_W, ns_cell(timed, l->max_ns, buf));
		if (user && l->timed)
			snprintf(pct, sizeof(pct), "%.1f%%",
				 100.0 * (double)l->user_count /
				 (double)l->timed);
		else
			strcpy(pct, "-");
		fprintf(f, " %6s %*s", pct, NS_W,
			ns_cell(user, l->user_ns, buf));
	}
	reason_note(t, vendor, has_user(hs), note, sizeof(note));
	if (*note)
		fprintf(f, "  %s", note);
	fputc('\n', f);
}

/*
 * The table of the @top largest reasons of @snap (all vCPUs, or the vCPU
 * at index @vcpu) under the title line @title: count, share, category,
 * latency figures and what the time after the exits was.
 */
static int print_reason_table(FILE *f, const char *title,
			      const struct kvmw_vm_snap *snap, size_t vcpu,
			      unsigned int vendor, unsigned int top,
			      const struct kvmw_handshake *hs)
{
	char name[KVMW_REASON_BUF_LEN];
	struct kvmw_reason_total *t;
	__u64 denom, rest = 0;
	size_t n, i, shown;
	int w = 6, ret;

	ret = kvmw_reason_totals(snap, vcpu, &t, &n);
	if (ret)
		return ret;
	denom = kvmw_reason_denominator(snap, vcpu);
	fprintf(f, "\n%s: ", title);
	if (!n) {
		fputs("no exits\n", f);
		free(t);
		return 0;
	}
	fputs("exits by reason\n", f);
	shown = n < top ? n : top;
	for (i = 0; i < shown; i++) {
		int len = strlen(kvmw_reason_name(vendor, t[i].code, name));

		if (len > w)
			w = len;
	}
	print_reason_header(f, w, has_lat(hs));
	for (i = 0; i < shown; i++)
		print_reason_row(f, &t[i], vendor, denom, w, hs);
	for (i = shown; i < n; i++)
		rest += t[i].count;
	if (shown < n)
		fprintf(f, "  (%zu more reason%s: %" PRIu64 " exits, %.1f%%; -n %zu shows all)\n",
			n - shown, n - shown == 1 ? "" : "s", (uint64_t)rest,
			denom ? 100.0 * (double)rest / (double)denom : 0.0, n);
	free(t);
	return 0;
}

/* What the columns of the reason tables mean, once under them. */
static void print_reason_footer(FILE *f, const struct kvmw_handshake *hs)
{
	if (!has_lat(hs)) {
		fputs("\nLatency: not measured by this kernel module (no 'latency' feature).\n",
		      f);
		return;
	}
	fputs("\nLatency: from an exit to the vCPU's next guest entry. P50-P99.9 come\n"
	      "from log2 histograms: each is the upper end of the bucket holding the\n"
	      "percentile, capped at MAX. Buckets are a factor of 2 wide, so the true\n"
	      "value is at most the one shown and at least half of it (from 2.15s up\n"
	      "the last bucket is open: up to MAX). USER%: share of the timed exits\n"
	      "that returned to the VMM; USER: their time in userspace, part of the\n"
	      "latency. idle: halt-category exits, whose time is idle, not overhead.\n"
	      "untimed: counted but not timed. Overhead % = overhead / (guest + exits).\n",
	      f);
	if (!has_user(hs))
		fputs("userspace -: the module does not see returns to userspace (no\n"
		      "'user_exits' feature); the VMM's time counts as overhead.\n",
		      f);
}

/* What the faults line and table mean, when the module counts faults. */
static void print_fault_footer(FILE *f, const struct kvmw_handshake *hs)
{
	if (!has_faults(hs))
		return;
	fputs("\nFaults: nested page faults (EPT violations, NPF) handled by KVM's MMU.\n"
	      "write, fetch, present (on a present entry: permission faults) and\n"
	      "mmio are shares of the faults. Latency: from the fault to the vCPU's\n"
	      "next guest entry; P50 and P99 are the upper ends of their log2\n"
	      "histogram buckets, capped at the max: the true value is at most the\n"
	      "one shown and at least half of it. Node shares are of the faults\n"
	      "whose backing page was found on a node; unknown: MMIO, no memslot,\n"
	      "not mapped by the next entry or node >= 16.\n",
	      f);
}

/* What the sched and memory lines and tables mean, with the features. */
static void print_sched_footer(FILE *f, const struct kvmw_handshake *hs)
{
	if (has_sched(hs))
		fputs("\nSched: the vCPU threads as the host scheduler saw them inside KVM_RUN.\n"
		      "Run-queue delay: time runnable but not running (after a wakeup or a\n"
		      "preemption); steal = run-queue delay / (guest + exits), the vCPUs'\n"
		      "wall time ('-' without the 'latency' feature); P99: the upper end of\n"
		      "its log2 bucket, capped at the max (at most 2x the true value).\n"
		      "Preemptions: switched out while runnable; sleeps: blocked (HLT...).\n"
		      "Run time: share of the vCPUs' run time on each NUMA node.\n",
		      f);
	if (has_mem(hs))
		fputs("\nMemory: resident guest pages per NUMA node from the module's last\n"
		      "complete sampling pass of the memslots: ~pages = samples x stride\n"
		      "(an estimate), shares are of the resident samples; unknown: node >= 16.\n"
		      "Remote = share of the resident memory NOT on the home node, the node\n"
		      "where the VM's vCPUs ran longest (run times added over its vCPUs);\n"
		      "'-' without the 'sched' feature or before any vCPU ran.\n",
		      f);
}

int kvmw_print_stat_table(FILE *f, const struct kvmw_sample *cur,
			  const struct kvmw_stat_row *rows, size_t nr,
			  const struct kvmw_stat_opts *opts)
{
	char comm[COMM_LEN + 1], title[64];
	bool tables = false;
	size_t i;
	int ret;

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
	ret = print_vm_rows(f, cur, rows, nr, opts);
	if (ret)
		return ret;
	for (i = 0; i < nr && opts->top; i++) {
		const struct kvmw_vm_snap *snap = rows[i].snap;

		kvmw_comm_for_tty(snap->vm.comm, comm);
		snprintf(title, sizeof(title), "VM %" PRIu64 " (%s)",
			 (uint64_t)snap->vm.vm_id, comm);
		ret = print_reason_table(f, title, snap, KVMW_ALL_VCPUS,
					 vm_vendor(&snap->vm, &cur->hs),
					 opts->top, &cur->hs);
		if (ret)
			return ret;
		tables = true;
	}
	if (tables) {
		print_reason_footer(f, &cur->hs);
		print_fault_footer(f, &cur->hs);
		print_sched_footer(f, &cur->hs);
	}
	return finish(f);
}

/* The vCPUs of a VM, one row each. */
static void print_vcpu_rows(FILE *f, const struct kvmw_vm_snap *snap,
			    const struct kvmw_handshake *hs)
{
	char guest[KVMW_NS_BUF_LEN], ovh[KVMW_NS_BUF_LEN];
	char idle[KVMW_NS_BUF_LEN], user[KVMW_NS_BUF_LEN];
	char pct[16];
	struct kvmw_times t;
	double d;
	size_t i;

	fprintf(f, "\n%6s %8s %14s %14s", "VCPU", "TID", "EXITS", "ENTRIES");
	if (has_lat(hs))
		fprintf(f, " %*s %*s %9s %*s %*s %8s", NS_W, "GUEST", NS_W + 1,
			"OVERHEAD", "OVERHEAD%", NS_W, "IDLE", NS_W, "USER",
			"UNTIMED");
	fputc('\n', f);
	for (i = 0; i < snap->nr_vcpus; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		fprintf(f, "%6u %8u %14" PRIu64 " %14" PRIu64, v->vcpu_id,
			v->tid, (uint64_t)v->exits, (uint64_t)v->entries);
		if (has_lat(hs)) {
			kvmw_times(snap, i, &t);
			if (kvmw_overhead_pct(&t, &d))
				snprintf(pct, sizeof(pct), "%.2f%%", d);
			else
				strcpy(pct, "-");
			fprintf(f, " %*s %*s %9s %*s %*s %8" PRIu64, NS_W,
				kvmw_fmt_ns(t.guest_ns, guest), NS_W + 1,
				kvmw_fmt_ns(t.overhead_ns, ovh), pct, NS_W,
				kvmw_fmt_ns(t.idle_ns, idle), NS_W,
				ns_cell(has_user(hs), t.user_ns, user),
				(uint64_t)t.untimed_exits);
		}
		fputc('\n', f);
	}
}

/*
 * The faults of a VM's vCPUs, one row each: counts by kind, mean and max
 * latency and a column per node that has faults in the VM.
 */
static void print_vcpu_faults(FILE *f, const struct kvmw_vm_snap *snap)
{
	char mean[KVMW_NS_BUF_LEN], max[KVMW_NS_BUF_LEN], name[16];
	struct kvmw_faults all, ft;
	unsigned int k;
	double d = 0;
	size_t i;

	kvmw_faults(snap, KVMW_ALL_VCPUS, &all);
	fprintf(f, "\n%6s %12s %12s %12s %12s %12s %*s %*s", "VCPU", "FAULTS",
		"WRITE", "FETCH", "PRESENT", "MMIO", NS_W, "MEAN", NS_W,
		"MAX");
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!all.node[k])
			continue;
		snprintf(name, sizeof(name), "NODE%u", k);
		fprintf(f, " %10s", name);
	}
	fprintf(f, " %10s\n", "UNKNOWN");
	for (i = 0; i < snap->nr_vcpus; i++) {
		bool timed;

		kvmw_faults(snap, i, &ft);
		timed = kvmw_fault_lat_mean(&ft, &d);
		fprintf(f, "%6u %12" PRIu64 " %12" PRIu64 " %12" PRIu64
			" %12" PRIu64 " %12" PRIu64 " %*s %*s",
			snap->vcpus[i].vcpu_id, (uint64_t)ft.faults,
			(uint64_t)ft.write, (uint64_t)ft.fetch,
			(uint64_t)ft.present, (uint64_t)ft.mmio, NS_W,
			ns_cell(timed, (__u64)(d + 0.5), mean), NS_W,
			ns_cell(timed, ft.lat_max_ns, max));
		for (k = 0; k < KVMW_MAX_NODES; k++) {
			if (all.node[k])
				fprintf(f, " %10" PRIu64, (uint64_t)ft.node[k]);
		}
		fprintf(f, " %10" PRIu64 "\n", (uint64_t)ft.node_unknown);
	}
}

/* A CPU or node number, "-" before the first sighting. */
static const char *cpu_cell(__u32 v, char buf[16])
{
	if (v == KVMW_CPU_NONE)
		return "-";
	snprintf(buf, 16, "%u", v);
	return buf;
}

/*
 * The scheduler figures of a VM's vCPUs, one row each: last CPU and
 * node, run-queue delay and steal, waits, mean and max wait, preemptions,
 * sleeps, migrations, cross-node ones and a run-time share column per
 * node on which the VM ran.
 */
static void print_vcpu_sched(FILE *f, const struct kvmw_vm_snap *snap,
			     const struct kvmw_handshake *hs)
{
	char rq[KVMW_NS_BUF_LEN], mean[KVMW_NS_BUF_LEN], max[KVMW_NS_BUF_LEN];
	char cpu[16], node[16], steal[16], name[16];
	struct kvmw_sched all, sc;
	unsigned int k;
	double d = 0;
	size_t i;

	kvmw_sched(snap, KVMW_ALL_VCPUS, &all);
	fprintf(f, "\n%6s %7s %8s %*s %7s %10s %*s %*s %10s %10s %10s %10s",
		"VCPU", "LASTCPU", "LASTNODE", NS_W, "RQDELAY", "STEAL%",
		"WAITS", NS_W, "MEAN", NS_W, "MAX", "PREEMPT", "SLEEPS",
		"MIGR", "XNODE");
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!all.run_node_ns[k])
			continue;
		snprintf(name, sizeof(name), "NODE%u%%", k);
		fprintf(f, " %7s", name);
	}
	fputc('\n', f);
	for (i = 0; i < snap->nr_vcpus; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];
		bool waited;

		kvmw_sched(snap, i, &sc);
		if (has_lat(hs) && kvmw_steal_pct(&sc, &d))
			snprintf(steal, sizeof(steal), "%.2f%%", d);
		else
			strcpy(steal, "-");
		waited = kvmw_sched_wait_mean(&sc, &d);
		fprintf(f, "%6u %7s %8s %*s %7s %10" PRIu64 " %*s %*s %10"
			PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64,
			v->vcpu_id, cpu_cell(v->last_cpu, cpu),
			cpu_cell(v->last_node, node), NS_W,
			kvmw_fmt_ns(sc.rq_delay_ns, rq), steal,
			(uint64_t)sc.rq_delay_count, NS_W,
			ns_cell(waited, (__u64)(d + 0.5), mean), NS_W,
			ns_cell(waited, sc.rq_delay_max_ns, max),
			(uint64_t)sc.preemptions, (uint64_t)sc.sleeps,
			(uint64_t)sc.migrations, (uint64_t)sc.node_migrations);
		for (k = 0; k < KVMW_MAX_NODES; k++) {
			if (!all.run_node_ns[k])
				continue;
			if (kvmw_share(sc.run_node_ns[k], sc.run_ns, &d))
				snprintf(name, sizeof(name), "%.1f%%", d);
			else
				strcpy(name, "-");
			fprintf(f, " %7s", name);
		}
		fputc('\n', f);
	}
}

int kvmw_print_stat_vcpus(FILE *f, const struct kvmw_sample *cur,
			  const struct kvmw_stat_row *row,
			  const struct kvmw_stat_opts *opts)
{
	const struct kvmw_vm_snap *snap = row->snap;
	unsigned int vendor = vm_vendor(&snap->vm, &cur->hs);
	char title[64];
	size_t i;
	int ret;

	ret = print_vm_rows(f, cur, row, 1, opts);
	if (ret)
		return ret;
	print_vcpu_rows(f, snap, &cur->hs);
	if (has_faults(&cur->hs))
		print_vcpu_faults(f, snap);
	if (has_sched(&cur->hs))
		print_vcpu_sched(f, snap, &cur->hs);
	for (i = 0; i < snap->nr_vcpus && opts->top; i++) {
		snprintf(title, sizeof(title), "VM %" PRIu64 " vCPU %u (tid %u)",
			 (uint64_t)snap->vm.vm_id, snap->vcpus[i].vcpu_id,
			 snap->vcpus[i].tid);
		ret = print_reason_table(f, title, snap, i, vendor, opts->top,
					 &cur->hs);
		if (ret)
			return ret;
	}
	/* Under the reason tables, or to say why the times are missing. */
	if ((opts->top && snap->nr_vcpus) || !has_lat(&cur->hs))
		print_reason_footer(f, &cur->hs);
	print_fault_footer(f, &cur->hs);
	print_sched_footer(f, &cur->hs);
	return finish(f);
}

/* A quantile: {"bucket": b, "lo": ns, "hi": ns}, null when none. */
static void json_pct_value(struct kvmw_json *j, const struct kvmw_pct *p)
{
	if (p->bucket < 0) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "bucket", p->bucket);
	kvmw_json_kv_u64(j, "lo", p->lo);
	kvmw_json_key(j, "hi");
	if (p->hi == KVMW_LAT_INF)
		kvmw_json_null(j);
	else
		kvmw_json_u64(j, p->hi);
	kvmw_json_end_object(j);
}

static void json_pct(struct kvmw_json *j, const struct kvmw_lat *l,
		     __u32 ppm)
{
	struct kvmw_pct p;

	kvmw_lat_percentile(l, ppm, &p);
	json_pct_value(j, &p);
}

/* "latency" of a reason; null when the module does not measure it. */
static void json_lat(struct kvmw_json *j, const struct kvmw_lat *l,
		     const struct kvmw_handshake *hs)
{
	bool user = has_user(hs);
	unsigned int k;
	double mean;

	kvmw_json_key(j, "latency");
	if (!has_lat(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "timed", l->timed);
	kvmw_json_kv_u64(j, "total_ns", l->total_ns);
	kvmw_json_key(j, "mean_ns");
	if (kvmw_lat_mean(l, &mean))
		kvmw_json_double(j, mean);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "min_ns");
	if (l->timed)
		kvmw_json_u64(j, l->min_ns);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "max_ns");
	if (l->timed)
		kvmw_json_u64(j, l->max_ns);
	else
		kvmw_json_null(j);
	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		json_pct(j, l, kvmw_pcts[k].ppm);
	}
	kvmw_json_key(j, "user_count");
	if (user)
		kvmw_json_u64(j, l->user_count);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "user_ns");
	if (user)
		kvmw_json_u64(j, l->user_ns);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "user_pct");
	if (user && l->timed)
		kvmw_json_double(j, 100.0 * (double)l->user_count /
				 (double)l->timed);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "hist");
	kvmw_json_u64_array(j, l->hist, KVMW_LAT_BUCKETS);
	kvmw_json_end_object(j);
}

static int json_reasons(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
			size_t vcpu, unsigned int vendor,
			const struct kvmw_handshake *hs)
{
	struct kvmw_reason_total *t;
	char buf[KVMW_REASON_BUF_LEN];
	__u32 cat;
	__u64 denom;
	size_t n, i;
	int ret;

	ret = kvmw_reason_totals(snap, vcpu, &t, &n);
	if (ret)
		return ret;
	denom = kvmw_reason_denominator(snap, vcpu);
	kvmw_json_key(j, "reasons");
	kvmw_json_begin_array(j);
	for (i = 0; i < n; i++) {
		cat = kvmw_reason_category(vendor, t[i].code);
		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "code", t[i].code);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, kvmw_reason_name(vendor, t[i].code, buf));
		kvmw_json_kv_u64(j, "count", t[i].count);
		kvmw_json_key(j, "category");
		kvmw_json_string(j, kvmw_category_name(cat));
		kvmw_json_key(j, "share_pct");
		if (denom)
			kvmw_json_double(j, 100.0 * (double)t[i].count /
					 (double)denom);
		else
			kvmw_json_null(j);
		kvmw_json_key(j, "idle");
		kvmw_json_bool(j, (t[i].lat.flags & KVMW_REASON_F_IDLE) ||
			       cat == KVMW_CAT_HALT);
		kvmw_json_key(j, "untimed");
		kvmw_json_bool(j, t[i].lat.flags & KVMW_REASON_F_UNTIMED);
		kvmw_json_kv_u64(j, "flags", t[i].lat.flags);
		json_lat(j, &t[i].lat, hs);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	free(t);
	return 0;
}

/*
 * "time" of a vCPU, or of all vCPUs of a VM: where the time went, with
 * the overhead percentage. null when the module does not measure it.
 */
static void json_times(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
		       size_t vcpu, const struct kvmw_handshake *hs)
{
	struct kvmw_times t;
	double pct;

	kvmw_json_key(j, "time");
	if (!has_lat(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_times(snap, vcpu, &t);
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "guest_ns", t.guest_ns);
	kvmw_json_kv_u64(j, "exit_ns", t.exit_ns);
	kvmw_json_kv_u64(j, "overhead_ns", t.overhead_ns);
	kvmw_json_kv_u64(j, "idle_ns", t.idle_ns);
	kvmw_json_key(j, "user_ns");
	if (has_user(hs))
		kvmw_json_u64(j, t.user_ns);
	else
		kvmw_json_null(j);
	kvmw_json_kv_u64(j, "untimed_exits", t.untimed_exits);
	kvmw_json_key(j, "overhead_pct");
	if (kvmw_overhead_pct(&t, &pct))
		kvmw_json_double(j, pct);
	else
		kvmw_json_null(j);
	kvmw_json_end_object(j);
}

/* A share in percent, null when there is nothing to share. */
static void json_share(struct kvmw_json *j, const char *key, __u64 part,
		       __u64 whole)
{
	double pct;

	kvmw_json_key(j, key);
	if (kvmw_share(part, whole, &pct))
		kvmw_json_double(j, pct);
	else
		kvmw_json_null(j);
}

/*
 * "faults" of a vCPU, or of all vCPUs of a VM: nested page faults by
 * kind, their latency and the nodes of their pages ("nodes" lists the
 * nodes with faults, by number, and "unknown"). null when the module
 * does not count them.
 */
static void json_faults(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
			size_t vcpu, const struct kvmw_handshake *hs)
{
	struct kvmw_faults ft;
	struct kvmw_pct p;
	char key[16];
	unsigned int k;
	double d;
	int node;

	kvmw_json_key(j, "faults");
	if (!has_faults(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_faults(snap, vcpu, &ft);
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "count", ft.faults);
	kvmw_json_kv_u64(j, "write", ft.write);
	kvmw_json_kv_u64(j, "fetch", ft.fetch);
	kvmw_json_kv_u64(j, "present", ft.present);
	kvmw_json_kv_u64(j, "mmio", ft.mmio);
	json_share(j, "write_pct", ft.write, ft.faults);
	json_share(j, "fetch_pct", ft.fetch, ft.faults);
	json_share(j, "present_pct", ft.present, ft.faults);
	json_share(j, "mmio_pct", ft.mmio, ft.faults);
	kvmw_json_kv_u64(j, "timed", ft.timed);
	kvmw_json_kv_u64(j, "total_ns", ft.lat_total_ns);
	kvmw_json_key(j, "mean_ns");
	if (kvmw_fault_lat_mean(&ft, &d))
		kvmw_json_double(j, d);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "max_ns");
	if (ft.timed)
		kvmw_json_u64(j, ft.lat_max_ns);
	else
		kvmw_json_null(j);
	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		kvmw_fault_percentile(&ft, kvmw_pcts[k].ppm, &p);
		json_pct_value(j, &p);
	}
	kvmw_json_key(j, "hist");
	kvmw_json_u64_array(j, ft.hist, KVMW_LAT_BUCKETS);
	kvmw_json_key(j, "nodes");
	kvmw_json_begin_object(j);
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!ft.node[k])
			continue;
		snprintf(key, sizeof(key), "%u", k);
		kvmw_json_key(j, key);
		kvmw_json_u64(j, ft.node[k]);
	}
	kvmw_json_kv_u64(j, "unknown", ft.node_unknown);
	kvmw_json_end_object(j);
	kvmw_json_kv_u64(j, "located", ft.located);
	node = kvmw_fault_dominant_node(&ft, &d);
	kvmw_json_key(j, "dominant_node");
	if (node >= 0)
		kvmw_json_u64(j, node);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "dominant_node_pct");
	if (node >= 0)
		kvmw_json_double(j, d);
	else
		kvmw_json_null(j);
	kvmw_json_end_object(j);
}

/* A key and a number, or null when @ok is false. */
static void json_kv_double_or_null(struct kvmw_json *j, const char *key,
				   bool ok, double v)
{
	kvmw_json_key(j, key);
	if (ok)
		kvmw_json_double(j, v);
	else
		kvmw_json_null(j);
}

static void json_kv_node(struct kvmw_json *j, const char *key, int node)
{
	kvmw_json_key(j, key);
	if (node >= 0)
		kvmw_json_u64(j, node);
	else
		kvmw_json_null(j);
}

/* A CPU or node number of struct kvmw_vcpu_info, null before a sighting. */
static void json_kv_cpu(struct kvmw_json *j, const char *key, __u32 v)
{
	kvmw_json_key(j, key);
	if (v == KVMW_CPU_NONE)
		kvmw_json_null(j);
	else
		kvmw_json_u64(j, v);
}

/*
 * "sched" of a vCPU, or of all vCPUs of a VM: run-queue delay with its
 * histogram and percentiles, steal, preemptions, sleeps, migrations and
 * run time per node; a vCPU also has its last CPU and node. null when
 * the module does not see the scheduler.
 */
static void json_sched(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
		       size_t vcpu, const struct kvmw_handshake *hs)
{
	struct kvmw_sched sc;
	struct kvmw_pct p;
	unsigned int k;
	char key[16];
	double d = 0;
	bool ok;
	int node;

	kvmw_json_key(j, "sched");
	if (!has_sched(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_sched(snap, vcpu, &sc);
	kvmw_json_begin_object(j);
	if (vcpu != KVMW_ALL_VCPUS && vcpu < snap->nr_vcpus) {
		json_kv_cpu(j, "last_cpu", snap->vcpus[vcpu].last_cpu);
		json_kv_cpu(j, "last_node", snap->vcpus[vcpu].last_node);
	}
	kvmw_json_kv_u64(j, "rq_delay_ns", sc.rq_delay_ns);
	kvmw_json_kv_u64(j, "rq_delay_count", sc.rq_delay_count);
	kvmw_json_kv_u64(j, "rq_delay_max_ns", sc.rq_delay_max_ns);
	ok = kvmw_sched_wait_mean(&sc, &d);
	json_kv_double_or_null(j, "rq_delay_mean_ns", ok, d);
	kvmw_json_key(j, "wall_ns");
	if (has_lat(hs))
		kvmw_json_u64(j, sc.wall_ns);
	else
		kvmw_json_null(j);
	ok = has_lat(hs) && kvmw_steal_pct(&sc, &d);
	json_kv_double_or_null(j, "steal_pct", ok, d);
	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		kvmw_sched_percentile(&sc, kvmw_pcts[k].ppm, &p);
		json_pct_value(j, &p);
	}
	kvmw_json_key(j, "hist");
	kvmw_json_u64_array(j, sc.hist, KVMW_LAT_BUCKETS);
	kvmw_json_kv_u64(j, "preemptions", sc.preemptions);
	kvmw_json_kv_u64(j, "sleeps", sc.sleeps);
	kvmw_json_kv_u64(j, "migrations", sc.migrations);
	kvmw_json_kv_u64(j, "node_migrations", sc.node_migrations);
	kvmw_json_kv_u64(j, "run_ns", sc.run_ns);
	kvmw_json_key(j, "run_node_ns");
	kvmw_json_begin_object(j);
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!sc.run_node_ns[k])
			continue;
		snprintf(key, sizeof(key), "%u", k);
		kvmw_json_kv_u64(j, key, sc.run_node_ns[k]);
	}
	kvmw_json_end_object(j);
	kvmw_json_key(j, "run_node_pct");
	kvmw_json_begin_object(j);
	for (k = 0; k < KVMW_MAX_NODES; k++) {
		if (!sc.run_node_ns[k])
			continue;
		snprintf(key, sizeof(key), "%u", k);
		kvmw_share(sc.run_node_ns[k], sc.run_ns, &d);
		kvmw_json_key(j, key);
		kvmw_json_double(j, d);
	}
	kvmw_json_end_object(j);
	node = kvmw_sched_home_node(&sc, &d);
	json_kv_node(j, "home_node", node);
	json_kv_double_or_null(j, "home_node_pct", node >= 0, d);
	kvmw_json_end_object(j);
}

/*
 * "mem" of a VM: the module's last complete sampling pass as it gave it,
 * the resident samples per node with page estimates and shares, and the
 * remote ratio (kvmw_remote_pct()). null when the module does not sample
 * memory.
 */
static void json_mem(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
		     const struct kvmw_handshake *hs)
{
	const struct kvmw_vm_mem *m = &snap->mem;
	__u64 resident = kvmw_mem_resident(m);
	unsigned int k;
	char key[16];
	double d = 0;
	int home = -1;
	bool ok;

	kvmw_json_key(j, "mem");
	if (!has_mem(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "pages", m->pages);
	kvmw_json_kv_u64(j, "stride", m->stride);
	kvmw_json_kv_u64(j, "sampled", m->sampled);
	kvmw_json_kv_u64(j, "unmapped", m->unmapped);
	kvmw_json_kv_u64(j, "node_unknown", m->node_unknown);
	kvmw_json_kv_u64(j, "passes", m->passes);
	kvmw_json_kv_u64(j, "pass_ns", m->pass_ns);
	kvmw_json_key(j, "node");
	kvmw_json_u64_array(j, m->node, KVMW_MAX_NODES);
	kvmw_json_kv_u64(j, "resident_samples", resident);
	kvmw_json_kv_u64(j, "resident_pages_est", resident * m->stride);
	kvmw_json_key(j, "nodes");
	kvmw_json_begin_object(j);
	for (k = 0; k <= KVMW_MAX_NODES; k++) {
		__u64 n = k < KVMW_MAX_NODES ? m->node[k] : m->node_unknown;

		if (!n)
			continue;
		if (k < KVMW_MAX_NODES)
			snprintf(key, sizeof(key), "%u", k);
		else
			strcpy(key, "unknown");
		kvmw_json_key(j, key);
		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "samples", n);
		kvmw_json_kv_u64(j, "pages_est", n * m->stride);
		json_share(j, "pct", n, resident);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_object(j);
	ok = has_sched(hs) && kvmw_remote_pct(snap, &home, &d);
	json_kv_node(j, "home_node", has_sched(hs) ? home : -1);
	json_kv_double_or_null(j, "remote_pct", ok, d);
	kvmw_json_end_object(j);
}

/*
 * "categories": every category, in the stable order of enum kvmw_category,
 * with its exits (0 included), so a consumer always finds all of them.
 */
static void json_categories(struct kvmw_json *j,
			    const struct kvmw_vm_snap *snap, size_t vcpu,
			    unsigned int vendor)
{
	__u64 c[KVMW_NR_CATEGORIES];
	unsigned int i;

	kvmw_category_totals(snap, vcpu, vendor, c);
	kvmw_json_key(j, "categories");
	kvmw_json_begin_array(j);
	for (i = 0; i < KVMW_NR_CATEGORIES; i++) {
		kvmw_json_begin_object(j);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, kvmw_category_name(i));
		kvmw_json_kv_u64(j, "count", c[i]);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
}

static int json_stat_vm(struct kvmw_json *j, const struct kvmw_stat_row *row,
			const struct kvmw_handshake *hs)
{
	const struct kvmw_vm_snap *snap = row->snap;
	unsigned int vendor = vm_vendor(&snap->vm, hs);
	size_t i;
	int ret;

	kvmw_json_begin_object(j);
	json_vm_fields(j, &snap->vm, hs);
	kvmw_json_key(j, "exits_per_sec");
	if (row->has_rate)
		kvmw_json_double(j, row->exits_per_sec);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "gone");
	kvmw_json_bool(j, row->gone);
	kvmw_json_key(j, "vanished");
	kvmw_json_bool(j, row->vanished);
	ret = json_reasons(j, snap, KVMW_ALL_VCPUS, vendor, hs);
	if (ret)
		return ret;
	json_categories(j, snap, KVMW_ALL_VCPUS, vendor);
	json_times(j, snap, KVMW_ALL_VCPUS, hs);
	json_faults(j, snap, KVMW_ALL_VCPUS, hs);
	json_sched(j, snap, KVMW_ALL_VCPUS, hs);
	json_mem(j, snap, hs);
	kvmw_json_key(j, "vcpus");
	kvmw_json_begin_array(j);
	for (i = 0; i < snap->nr_vcpus; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "vcpu_id", v->vcpu_id);
		kvmw_json_kv_u64(j, "tid", v->tid);
		kvmw_json_kv_u64(j, "exits", v->exits);
		kvmw_json_kv_u64(j, "entries", v->entries);
		kvmw_json_kv_u64(j, "overflow_exits", v->overflow_exits);
		ret = json_reasons(j, snap, i, vendor, hs);
		if (ret)
			return ret;
		json_categories(j, snap, i, vendor);
		json_times(j, snap, i, hs);
		json_faults(j, snap, i, hs);
		json_sched(j, snap, i, hs);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	kvmw_json_end_object(j);
	return 0;
}

/*
 * "latency": whether the figures are measured and how to read the
 * histograms and percentiles, for the consumer.
 */
static void json_lat_info(struct kvmw_json *j, const struct kvmw_handshake *hs)
{
	unsigned int k;

	kvmw_json_key(j, "latency");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_lat(hs));
	kvmw_json_key(j, "user_exits");
	kvmw_json_bool(j, has_user(hs));
	kvmw_json_kv_u64(j, "buckets", KVMW_LAT_BUCKETS);
	kvmw_json_key(j, "hist");
	kvmw_json_string(j, "exits per log2 bucket of ns: bucket 0 [0, 2), bucket b [2^b, 2^(b+1)), bucket 31 [2^31, inf)");
	kvmw_json_key(j, "quantiles");
	kvmw_json_begin_object(j);
	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		kvmw_json_double(j, (double)kvmw_pcts[k].ppm / KVMW_PPM);
	}
	kvmw_json_end_object(j);
	kvmw_json_kv_u64(j, "percentile_factor", 2);
	kvmw_json_key(j, "percentiles");
	kvmw_json_string(j, "{bucket, lo, hi}: lo <= value <= hi, the bounds of the log2 bucket holding the quantile (the smallest whose cumulative count reaches ceil(q * timed)) narrowed to [min_ns, max_ns]; coarse by a factor of 2: hi <= 2 * lo for buckets 1 to 30; hi is max_ns in bucket 31");
	kvmw_json_end_object(j);
}

/* "faults": whether they are counted and how to read their figures. */
static void json_fault_info(struct kvmw_json *j,
			    const struct kvmw_handshake *hs)
{
	kvmw_json_key(j, "faults");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_faults(hs));
	kvmw_json_kv_u64(j, "max_nodes", KVMW_MAX_NODES);
	kvmw_json_key(j, "what");
	kvmw_json_string(j, "nested page faults (EPT violations, NPF) handled by KVM's MMU; write, fetch, present (permission faults) and mmio count some of them; latency from the fault to the vCPU's next guest entry");
	kvmw_json_key(j, "percentiles");
	kvmw_json_string(j, "as in \"latency\", from the fault histogram, narrowed to max_ns only (there is no fault minimum)");
	kvmw_json_key(j, "nodes");
	kvmw_json_string(j, "faults per NUMA node of the backing page, nodes without faults left out; unknown: MMIO, no memslot, not mapped by the next entry or node >= max_nodes; located is the sum of the nodes and dominant_node_pct a share of it");
	kvmw_json_end_object(j);
}

/* "sched" and "mem": whether they are measured and how to read them. */
static void json_sched_mem_info(struct kvmw_json *j,
				const struct kvmw_handshake *hs)
{
	kvmw_json_key(j, "sched");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_sched(hs));
	kvmw_json_key(j, "what");
	kvmw_json_string(j, "the vCPU threads as the host scheduler saw them inside KVM_RUN: rq_delay = time runnable but not running (after a wakeup or a preemption), preemptions = switched out while runnable, sleeps = blocked, migrations to another CPU and node_migrations to another NUMA node, run_node_ns = time run on each node (nodes without run time left out)");
	kvmw_json_key(j, "steal_pct");
	kvmw_json_string(j, "rq_delay_ns / wall_ns * 100, wall_ns = guest_ns + exit_ns of the vCPUs (null without the latency feature)");
	kvmw_json_key(j, "percentiles");
	kvmw_json_string(j, "as in \"latency\", from the rq_delay histogram, narrowed to rq_delay_max_ns only");
	kvmw_json_key(j, "home_node");
	kvmw_json_string(j, "the node with the most run time, run times added over the vCPUs; the lowest on a tie");
	kvmw_json_end_object(j);

	kvmw_json_key(j, "mem");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_mem(hs));
	kvmw_json_key(j, "what");
	kvmw_json_string(j, "resident guest memory per NUMA node from the module's last complete sampling pass of the memslots: pages_est = samples * stride, pct = share of resident_samples (the samples on a node, unknown = on a node >= 16, unmapped ones excluded); all 0 before the first pass (passes 0)");
	kvmw_json_key(j, "remote_pct");
	kvmw_json_string(j, "(resident_samples - samples on home_node) / resident_samples * 100: the share of the resident memory not on the node where the VM's vCPUs ran longest (sched home_node); null without the sched feature or before any run time was seen");
	kvmw_json_end_object(j);
}

int kvmw_print_stat_json(FILE *f, const struct kvmw_sample *cur,
			 const struct kvmw_stat_row *rows, size_t nr,
			 const struct kvmw_stat_opts *opts)
{
	struct kvmw_json j;
	size_t i;
	int ret;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	json_header(&j, &cur->hs);
	kvmw_json_key(&j, "interval_sec");
	if (opts->interval > 0)
		kvmw_json_double(&j, opts->interval);
	else
		kvmw_json_null(&j);
	json_lat_info(&j, &cur->hs);
	json_fault_info(&j, &cur->hs);
	json_sched_mem_info(&j, &cur->hs);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < nr; i++) {
		ret = json_stat_vm(&j, &rows[i], &cur->hs);
		if (ret)
			return ret;
	}
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j) ? -EIO : 0;
}
