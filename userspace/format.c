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
static bool has_lat(const struct kvmw_host *hs)
{
	return hs->features & KVMW_FEAT_LATENCY;
}

/* ... and tells the VMM's time (user_ns) apart from the overhead. */
static bool has_user(const struct kvmw_host *hs)
{
	return has_lat(hs) && (hs->features & KVMW_FEAT_USER_EXITS);
}

/* The module counts nested page faults (the VER2 vCPU fields). */
static bool has_faults(const struct kvmw_host *hs)
{
	return hs->features & KVMW_FEAT_FAULTS;
}

/* The module sees the vCPU threads' scheduling (the VER3 vCPU fields). */
static bool has_sched(const struct kvmw_host *hs)
{
	return hs->features & KVMW_FEAT_SCHED;
}

/* The module samples where the VMs' memory lives (struct kvmw_vm_mem). */
static bool has_mem(const struct kvmw_host *hs)
{
	return hs->features & KVMW_FEAT_MEM_NUMA;
}

static int finish(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

void kvmw_name_for_tty(const char *in, char out[KVMW_VM_NAME_MAX])
{
	size_t i;

	if (!in[0]) {
		strcpy(out, "-");
		return;
	}
	for (i = 0; i < KVMW_VM_NAME_MAX - 1 && in[i]; i++)
		out[i] = in[i] > 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static const char *state(const struct kvmw_vm *vm)
{
	return vm->gone ? "gone" : "live";
}

int kvmw_print_list_table(FILE *f, const struct kvmw_snapshot *snap)
{
	const struct kvmw_vm *vms = snap->vms;
	size_t i, nr = snap->nr_vms;
	char comm[COMM_LEN + 1];

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
	char name[KVMW_VM_NAME_MAX];

	fprintf(f, "%6s %8s  %-16s %-12s %5s %14s  %s\n",
		"VMID", "PID", "COMM", "NAME", "VCPUS", "EXITS", "STATE");
	for (i = 0; i < nr; i++) {
		const struct kvmw_vm *vm = &vms[i];

		kvmw_comm_for_tty(vm->comm, comm);
		kvmw_name_for_tty(vm->name, name);
		fprintf(f, "%6" PRIu64 " %8u  %-16s %-12s %5u %14" PRIu64 "  %s\n",
			(uint64_t)vm->vm_id, vm->pid, comm, name,
			vm->nr_vcpus, (uint64_t)vm->exits, state(vm));
	}
	return finish(f);
}

static void json_header(struct kvmw_json *j, const struct kvmw_host *hs)
{
	unsigned int bit;

	kvmw_json_kv_u64(j, "schema_version", KVMW_JSON_SCHEMA_VERSION);
	kvmw_json_key(j, "source");
	kvmw_json_string(j, hs->source ? hs->source : "unknown");
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
static void json_vm_fields(struct kvmw_json *j, const struct kvmw_vm *vm)
{
	kvmw_json_kv_u64(j, "vm_id", vm->vm_id);
	kvmw_json_kv_u64(j, "vmm_pid", vm->pid);
	kvmw_json_key(j, "comm");
	kvmw_json_string_n(j, (const char *)vm->comm, COMM_LEN);
	kvmw_json_key(j, "name");
	if (vm->name[0])
		kvmw_json_string(j, vm->name);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "vendor");
	kvmw_json_string(j, kvmw_vendor_name(vm->vendor));
	kvmw_json_kv_u64(j, "nr_vcpus", vm->nr_vcpus);
	kvmw_json_kv_u64(j, "exits", vm->exits);
	kvmw_json_kv_u64(j, "entries", vm->entries);
	kvmw_json_kv_u64(j, "first_seen_ns", vm->first_seen_ns);
	kvmw_json_kv_u64(j, "gone_ns", vm->gone_ns);
	kvmw_json_key(j, "no_lifetime");
	kvmw_json_bool(j, vm->no_lifetime);
}

int kvmw_print_list_json(FILE *f, const struct kvmw_snapshot *snap)
{
	struct kvmw_json j;
	size_t i;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	json_header(&j, &snap->host);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < snap->nr_vms; i++) {
		kvmw_json_begin_object(&j);
		json_vm_fields(&j, &snap->vms[i]);
		kvmw_json_key(&j, "gone");
		kvmw_json_bool(&j, snap->vms[i].gone);
		kvmw_json_end_object(&j);
	}
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j) ? -EIO : 0;
}

/* "CPUID 81.2%, HLT 10.1%" for the @top largest reasons of a VM. */
static void print_top_reasons(FILE *f, const struct kvmw_vm *vm,
			      unsigned int top)
{
	const struct kvmw_unit *u = &vm->total;
	char buf[KVMW_REASON_BUF_LEN];
	size_t i;

	if (!u->nr_reasons || !u->reason_exits)
		fputc('-', f);
	for (i = 0; i < u->nr_reasons && i < top && u->reason_exits; i++)
		fprintf(f, "%s%s %.1f%%", i ? ", " : "",
			kvmw_reason_name(vm->vendor, u->reasons[i].code, buf),
			u->reasons[i].share_pct.v);
}

/*
 * "categories: cpuid 81.2%, halt 10.0%" on a line of its own under the
 * VM's row, aligned with COMM: every category with exits, largest first.
 * Nothing when the VM has no exits.
 */
static void print_categories(FILE *f, const struct kvmw_unit *u)
{
	const __u64 *c = u->categories;
	unsigned int order[KVMW_NR_CATEGORIES], i, k, n = 0;

	/* Shown largest first, stable in enum order (insertion sort). */
	for (i = 0; i < KVMW_NR_CATEGORIES; i++) {
		if (!c[i])
			continue;
		for (k = n; k > 0 && c[order[k - 1]] < c[i]; k--)
			order[k] = order[k - 1];
		order[k] = i;
		n++;
	}
	if (!n)
		return;
	fprintf(f, "%17s%s", "", "categories:");
	for (i = 0; i < n; i++)
		fprintf(f, "%s %s %.1f%%", i ? "," : "",
			kvmw_category_name(order[i]),
			u->categories_pct[order[i]].v);
	fputc('\n', f);
}

/*
 * "time: guest 1.50s, exits 138ms (overhead 1.83ms, idle 136ms,
 * userspace 400us), overhead 0.11%" under a VM's row: where its vCPUs'
 * time went. Only when the module measures it.
 */
static void print_time_line(FILE *f, const struct kvmw_times *tp,
			    const struct kvmw_host *hs)
{
	char guest[KVMW_NS_BUF_LEN], exits[KVMW_NS_BUF_LEN];
	char ovh[KVMW_NS_BUF_LEN], idle[KVMW_NS_BUF_LEN];
	char user[KVMW_NS_BUF_LEN];
	const struct kvmw_times t = *tp;

	if (has_user(hs))
		kvmw_fmt_ns(t.user_ns, user);
	else
		strcpy(user, "-");
	fprintf(f, "%*stime: guest %s, exits %s (overhead %s, idle %s, userspace %s), overhead ",
		SUB_INDENT, "", kvmw_fmt_ns(t.guest_ns, guest),
		kvmw_fmt_ns(t.exit_ns, exits), kvmw_fmt_ns(t.overhead_ns, ovh),
		kvmw_fmt_ns(t.idle_ns, idle), user);
	if (t.overhead_pct.ok)
		fprintf(f, "%.2f%%", t.overhead_pct.v);
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
	if (ns == KVMW_HIST_INF)
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
static void print_fault_line(FILE *f, const struct kvmw_faults *ft,
			     unsigned int nr_nodes)
{
	static const char * const kinds[] = {
		"write", "fetch", "present", "mmio",
	};
	const struct kvmw_opt *pcts[] = {
		&ft->write_pct, &ft->fetch_pct, &ft->present_pct, &ft->mmio_pct,
	};
	char buf[KVMW_NS_BUF_LEN];
	unsigned int k;

	fprintf(f, "%*sfaults: %" PRIu64, SUB_INDENT, "", (uint64_t)ft->count);
	if (!ft->count) {
		fputc('\n', f);
		return;
	}
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		fprintf(f, "%s%s %.1f%%", k ? ", " : " (", kinds[k],
			pcts[k]->v);
	fputs("), latency ", f);
	if (ft->mean_ns.ok) {
		fprintf(f, "mean %s",
			kvmw_fmt_ns((__u64)(ft->mean_ns.v + 0.5), buf));
		fprintf(f, ", P50 %s", ns_cell(ft->pct[KVMW_P50].bucket >= 0,
					       ft->pct[KVMW_P50].hi, buf));
		fprintf(f, ", P99 %s", ns_cell(ft->pct[KVMW_P99].bucket >= 0,
					       ft->pct[KVMW_P99].hi, buf));
		fprintf(f, ", max %s", kvmw_fmt_ns(ft->lat_max_ns, buf));
	} else {
		fputc('-', f);
	}
	fputs("; nodes:", f);
	for (k = 0; k < nr_nodes; k++) {
		if (!ft->node[k])
			continue;
		fprintf(f, " %u: %" PRIu64 " (%.1f%%),", k,
			(uint64_t)ft->node[k], ft->node_pct[k]);
	}
	fprintf(f, " unknown: %" PRIu64, (uint64_t)ft->node_unknown);
	if (ft->dominant_node >= 0)
		fprintf(f, "; %.1f%% on node %d", ft->dominant_node_pct.v,
			ft->dominant_node);
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
static void print_sched_line(FILE *f, const struct kvmw_sched *sc,
			     unsigned int nr_nodes)
{
	char buf[KVMW_NS_BUF_LEN];
	unsigned int k, n = 0;

	fprintf(f, "%*ssched: run-queue delay %s (steal ", SUB_INDENT, "",
		kvmw_fmt_ns(sc->rq_delay_ns, buf));
	if (sc->steal_pct.ok)
		fprintf(f, "%.2f%%", sc->steal_pct.v);
	else
		fputc('-', f);
	fprintf(f, "), %" PRIu64 " wait%s", (uint64_t)sc->rq_delay_count,
		sc->rq_delay_count == 1 ? "" : "s");
	if (sc->mean_ns.ok) {
		fprintf(f, ", mean %s",
			kvmw_fmt_ns((__u64)(sc->mean_ns.v + 0.5), buf));
		fprintf(f, ", P99 %s", ns_cell(sc->pct[KVMW_P99].bucket >= 0,
					       sc->pct[KVMW_P99].hi, buf));
		fprintf(f, ", max %s", kvmw_fmt_ns(sc->rq_delay_max_ns, buf));
	}
	fprintf(f, "; preemptions %" PRIu64 ", sleeps %" PRIu64
		", migrations %" PRIu64 " (cross-node %" PRIu64 "); run time:",
		(uint64_t)sc->preemptions, (uint64_t)sc->sleeps,
		(uint64_t)sc->migrations, (uint64_t)sc->node_migrations);
	for (k = 0; k < nr_nodes; k++) {
		if (!sc->run_node_ns[k])
			continue;
		fprintf(f, "%s node %u %.1f%%", n++ ? "," : "", k,
			sc->run_node_pct[k]);
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
static void print_mem_line(FILE *f, const struct kvmw_vm *vm,
			   const struct kvmw_host *hs)
{
	const struct kvmw_mem *m = &vm->mem;
	unsigned int k, n = 0;

	fprintf(f, "%*smemory: ", SUB_INDENT, "");
	if (!m->passes) {
		fputs("no complete sampling pass yet\n", f);
		return;
	}
	fprintf(f, "%" PRIu64 " pages, ~%" PRIu64 " resident (%" PRIu64
		" of %" PRIu64 " samples, stride %" PRIu64 ", %" PRIu64
		" pass%s):", (uint64_t)m->pages,
		(uint64_t)(m->resident * m->stride), (uint64_t)m->resident,
		(uint64_t)m->sampled, (uint64_t)m->stride,
		(uint64_t)m->passes, m->passes == 1 ? "" : "es");
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!m->node[k])
			continue;
		fprintf(f, "%s node %u ~%" PRIu64 " (%.1f%%)", n++ ? "," : "",
			k, (uint64_t)(m->node[k] * m->stride), m->node_pct[k]);
	}
	if (m->node_unknown)
		fprintf(f, "%s unknown ~%" PRIu64 " (%.1f%%)", n++ ? "," : "",
			(uint64_t)(m->node_unknown * m->stride),
			m->unknown_pct.v);
	if (!n)
		fputs(" none resident", f);
	fputs("; remote ", f);
	if (has_sched(hs) && m->remote_pct.ok)
		fprintf(f, "%.1f%% (home node %d)", m->remote_pct.v,
			vm->total.sched.home_node);
	else
		fputc('-', f);
	fputc('\n', f);
}

/*
 * "budget: throttle, tokens 0/1500 (bucket 1/2), debt 12, overruns 100,
 * parks 90, parked 1.20s, would park 0ns" for a VM with a budget.
 */
static void print_budget_line(FILE *f, const struct kvmw_raw_stats *raw,
			      const struct kvmw_vm *vm)
{
	struct kvmw_budget_stats bs;
	char a[KVMW_NS_BUF_LEN], b[KVMW_NS_BUF_LEN];
	const char *mode;
	unsigned int k;

	kvmw_vm_budget_stats(raw, vm, &bs);
	if (!bs.known || bs.mode == KVMW_BUDGET_OFF)
		return;
	mode = kvmw_budget_mode_name(bs.mode);
	fprintf(f, "%*sbudget: %s%s, tokens", SUB_INDENT, "", mode ? mode : "?",
		bs.tripped ? " (guard tripped)" : "");
	for (k = 0; k < KVMW_BUDGET_MAX_BUCKETS; k++)
		fprintf(f, "%s%" PRIu64, k ? "/" : " ", (uint64_t)bs.tokens[k]);
	fputs(", debt", f);
	for (k = 0; k < KVMW_BUDGET_MAX_BUCKETS; k++)
		fprintf(f, "%s%" PRIu64, k ? "/" : " ", (uint64_t)bs.debt[k]);
	fprintf(f, ", charged %" PRIu64 ", overruns %" PRIu64 ", parks %" PRIu64
		", parked %s, would park %s\n", (uint64_t)bs.charged,
		(uint64_t)bs.overruns, (uint64_t)bs.parks,
		kvmw_fmt_ns(bs.parked_ns, a), kvmw_fmt_ns(bs.would_park_ns, b));
}

/* A VM's budget state in stat --json: null when not measured. */
static void json_budget_state(struct kvmw_json *j,
			      const struct kvmw_raw_stats *raw,
			      const struct kvmw_vm *vm)
{
	struct kvmw_budget_stats bs;
	const char *mode;

	kvmw_vm_budget_stats(raw, vm, &bs);
	kvmw_json_key(j, "budget");
	if (!bs.known) {
		kvmw_json_null(j);
		return;
	}
	mode = kvmw_budget_mode_name(bs.mode);
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "mode");
	kvmw_json_string(j, mode ? mode : "unknown");
	kvmw_json_key(j, "tripped");
	kvmw_json_bool(j, bs.tripped);
	kvmw_json_key(j, "tokens");
	kvmw_json_u64_array(j, bs.tokens, KVMW_BUDGET_MAX_BUCKETS);
	kvmw_json_key(j, "debt");
	kvmw_json_u64_array(j, bs.debt, KVMW_BUDGET_MAX_BUCKETS);
	kvmw_json_kv_u64(j, "charged", bs.charged);
	kvmw_json_kv_u64(j, "overruns", bs.overruns);
	kvmw_json_kv_u64(j, "parks", bs.parks);
	kvmw_json_kv_u64(j, "parked_ns", bs.parked_ns);
	kvmw_json_kv_u64(j, "would_park_ns", bs.would_park_ns);
	kvmw_json_end_object(j);
}

/*
 * The VM table: a row per VM, with its categories, time, faults,
 * scheduler and memory lines under it.
 */
static void print_vm_rows(FILE *f, const struct kvmw_snapshot *cur,
			  const struct kvmw_delta_vm *rows, size_t nr,
			  const struct kvmw_stat_opts *opts)
{
	const struct kvmw_host *hs = &cur->host;
	char comm[COMM_LEN + 1], name[KVMW_VM_NAME_MAX];
	size_t i;

	fprintf(f, "%6s %8s  %-16s %-12s %5s %-5s %14s %12s %6s",
		"VMID", "PID", "COMM", "NAME", "VCPUS", "STATE", "EXITS",
		"EXITS/s", "OVH%");
	if (opts->top)
		fputs("  TOP REASONS", f);
	fputc('\n', f);
	for (i = 0; i < nr; i++) {
		const struct kvmw_vm *vm = rows[i].vm;

		kvmw_comm_for_tty(vm->comm, comm);
		kvmw_name_for_tty(vm->name, name);
		fprintf(f, "%6" PRIu64 " %8u  %-16s %-12s %5u %-5s %14" PRIu64,
			(uint64_t)vm->vm_id, vm->pid, comm, name, vm->nr_vcpus,
			rows[i].gone ? "gone" : "live", (uint64_t)vm->exits);
		if (rows[i].exits_per_sec.ok)
			fprintf(f, " %12.1f", rows[i].exits_per_sec.v);
		else
			fprintf(f, " %12s", "-");
		if (has_lat(hs) && vm->total.times.overhead_pct.ok)
			fprintf(f, " %6.2f", vm->total.times.overhead_pct.v);
		else
			fprintf(f, " %6s", "-");
		if (opts->top) {
			fputs("  ", f);
			print_top_reasons(f, vm, opts->top);
		}
		fputc('\n', f);
		if (!opts->detail)
			continue;
		print_categories(f, &vm->total);
		if (has_lat(hs))
			print_time_line(f, &vm->total.times, hs);
		if (has_faults(hs))
			print_fault_line(f, &vm->total.faults, hs->nr_nodes);
		if (has_sched(hs))
			print_sched_line(f, &vm->total.sched, hs->nr_nodes);
		if (has_mem(hs))
			print_mem_line(f, vm, hs);
		print_budget_line(f, &cur->raw, vm);
	}
}

/*
 * What the time after a reason's exits was, as words: "idle" (halt
 * category), "user" (some exits returned to the VMM), "untimed".
 */
static void reason_note(const struct kvmw_reason *r, bool user, char *buf,
			size_t size)
{
	const char *words[3];
	unsigned int n = 0, i;
	size_t len = 0;

	if (r->idle)
		words[n++] = "idle";
	if (user && r->lat.user_count)
		words[n++] = "user";
	if (r->flags & KVMW_R_UNTIMED)
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

/* A share for a table: "81.2%", or "-". */
static const char *pct_cell(const struct kvmw_opt *o, char buf[16])
{
	if (!o->ok)
		return "-";
	snprintf(buf, 16, "%.1f%%", o->v);
	return buf;
}

static void print_reason_row(FILE *f, const struct kvmw_reason *r,
			     unsigned int vendor, int w,
			     const struct kvmw_host *hs)
{
	char name[KVMW_REASON_BUF_LEN], buf[KVMW_NS_BUF_LEN], pct[16];
	const struct kvmw_lat *l = &r->lat;
	bool user = has_user(hs) && l->user_count;
	char note[32];
	unsigned int k;

	fprintf(f, "  %-*s %-9s %12" PRIu64 " %6s", w,
		kvmw_reason_name(vendor, r->code, name),
		kvmw_category_name(r->category), (uint64_t)r->count,
		pct_cell(&r->share_pct, pct));
	if (has_lat(hs)) {
		bool timed = l->mean_ns.ok;

		fprintf(f, " %*s", NS_W,
			ns_cell(timed, (__u64)(l->mean_ns.v + 0.5), buf));
		fprintf(f, " %*s", NS_W, ns_cell(timed, l->min_ns, buf));
		for (k = 0; k < KVMW_NR_PCTS; k++)
			fprintf(f, " %*s", NS_W,
				ns_cell(l->pct[k].bucket >= 0, l->pct[k].hi,
					buf));
		fprintf(f, " %*s", NS_W, ns_cell(timed, l->max_ns, buf));
		fprintf(f, " %6s %*s",
			user ? pct_cell(&l->user_pct, pct) : "-", NS_W,
			ns_cell(user, l->user_ns, buf));
	}
	reason_note(r, has_user(hs), note, sizeof(note));
	if (*note)
		fprintf(f, "  %s", note);
	fputc('\n', f);
}

/*
 * The table of the @top largest reasons of @u (a VM's total or a vCPU)
 * under the title line @title: count, share, category, latency figures
 * and what the time after the exits was.
 */
static void print_reason_table(FILE *f, const char *title,
			       const struct kvmw_unit *u, unsigned int vendor,
			       unsigned int top, const struct kvmw_host *hs)
{
	char name[KVMW_REASON_BUF_LEN];
	size_t n = u->nr_reasons, i, shown;
	__u64 rest = 0;
	int w = 6;

	fprintf(f, "\n%s: ", title);
	if (!n) {
		fputs("no exits\n", f);
		return;
	}
	fputs("exits by reason\n", f);
	shown = n < top ? n : top;
	for (i = 0; i < shown; i++) {
		int len = strlen(kvmw_reason_name(vendor, u->reasons[i].code,
						  name));

		if (len > w)
			w = len;
	}
	print_reason_header(f, w, has_lat(hs));
	for (i = 0; i < shown; i++)
		print_reason_row(f, &u->reasons[i], vendor, w, hs);
	for (i = shown; i < n; i++)
		rest += u->reasons[i].count;
	if (shown < n)
		fprintf(f, "  (%zu more reason%s: %" PRIu64 " exits, %.1f%%; -n %zu shows all)\n",
			n - shown, n - shown == 1 ? "" : "s", (uint64_t)rest,
			kvmw_share(rest, u->reason_exits).v, n);
}

int kvmw_print_stat_table(FILE *f, const struct kvmw_snapshot *cur,
			  const struct kvmw_delta_vm *rows, size_t nr,
			  const struct kvmw_stat_opts *opts)
{
	char comm[COMM_LEN + 1], title[64];
	size_t i;

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
	print_vm_rows(f, cur, rows, nr, opts);
	for (i = 0; i < nr && opts->top; i++) {
		const struct kvmw_vm *vm = rows[i].vm;

		kvmw_comm_for_tty(vm->comm, comm);
		snprintf(title, sizeof(title), "VM %" PRIu64 " (%s)",
			 (uint64_t)vm->vm_id, comm);
		print_reason_table(f, title, &vm->total, vm->vendor, opts->top,
				   &cur->host);
	}
	return finish(f);
}

/* The vCPUs of a VM, one row each. */
static void print_vcpu_rows(FILE *f, const struct kvmw_vm *vm,
			    const struct kvmw_host *hs)
{
	char guest[KVMW_NS_BUF_LEN], ovh[KVMW_NS_BUF_LEN];
	char idle[KVMW_NS_BUF_LEN], user[KVMW_NS_BUF_LEN];
	char pct[16];
	size_t i;

	fprintf(f, "\n%6s %8s %14s %14s", "VCPU", "TID", "EXITS", "ENTRIES");
	if (has_lat(hs))
		fprintf(f, " %*s %*s %9s %*s %*s %8s", NS_W, "GUEST", NS_W + 1,
			"OVERHEAD", "OVERHEAD%", NS_W, "IDLE", NS_W, "USER",
			"UNTIMED");
	fputc('\n', f);
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_vcpu *v = &vm->vcpus[i];
		const struct kvmw_times *t = &v->u.times;

		fprintf(f, "%6u %8u %14" PRIu64 " %14" PRIu64, v->vcpu_id,
			v->tid, (uint64_t)v->u.exits, (uint64_t)v->u.entries);
		if (has_lat(hs)) {
			if (t->overhead_pct.ok)
				snprintf(pct, sizeof(pct), "%.2f%%",
					 t->overhead_pct.v);
			else
				strcpy(pct, "-");
			fprintf(f, " %*s %*s %9s %*s %*s %8" PRIu64, NS_W,
				kvmw_fmt_ns(t->guest_ns, guest), NS_W + 1,
				kvmw_fmt_ns(t->overhead_ns, ovh), pct, NS_W,
				kvmw_fmt_ns(t->idle_ns, idle), NS_W,
				ns_cell(has_user(hs), t->user_ns, user),
				(uint64_t)t->untimed_exits);
		}
		fputc('\n', f);
	}
}

/*
 * The faults of a VM's vCPUs, one row each: counts by kind, mean and max
 * latency and a column per node that has faults in the VM.
 */
static void print_vcpu_faults(FILE *f, const struct kvmw_vm *vm,
			      unsigned int nr_nodes)
{
	char mean[KVMW_NS_BUF_LEN], max[KVMW_NS_BUF_LEN], name[16];
	const struct kvmw_faults *all = &vm->total.faults;
	unsigned int k;
	size_t i;

	fprintf(f, "\n%6s %12s %12s %12s %12s %12s %*s %*s", "VCPU", "FAULTS",
		"WRITE", "FETCH", "PRESENT", "MMIO", NS_W, "MEAN", NS_W,
		"MAX");
	for (k = 0; k < nr_nodes; k++) {
		if (!all->node[k])
			continue;
		snprintf(name, sizeof(name), "NODE%u", k);
		fprintf(f, " %10s", name);
	}
	fprintf(f, " %10s\n", "UNKNOWN");
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_faults *ft = &vm->vcpus[i].u.faults;
		bool timed = ft->mean_ns.ok;

		fprintf(f, "%6u %12" PRIu64 " %12" PRIu64 " %12" PRIu64
			" %12" PRIu64 " %12" PRIu64 " %*s %*s",
			vm->vcpus[i].vcpu_id, (uint64_t)ft->count,
			(uint64_t)ft->write, (uint64_t)ft->fetch,
			(uint64_t)ft->present, (uint64_t)ft->mmio, NS_W,
			ns_cell(timed, (__u64)(ft->mean_ns.v + 0.5), mean),
			NS_W, ns_cell(timed, ft->lat_max_ns, max));
		for (k = 0; k < nr_nodes; k++) {
			if (all->node[k])
				fprintf(f, " %10" PRIu64,
					(uint64_t)ft->node[k]);
		}
		fprintf(f, " %10" PRIu64 "\n", (uint64_t)ft->node_unknown);
	}
}

/* A CPU or node number, "-" before the first sighting. */
static const char *cpu_cell(__u32 v, char buf[16])
{
	if (v == KVMW_NONE)
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
static void print_vcpu_sched(FILE *f, const struct kvmw_vm *vm,
			     unsigned int nr_nodes)
{
	char rq[KVMW_NS_BUF_LEN], mean[KVMW_NS_BUF_LEN], max[KVMW_NS_BUF_LEN];
	char cpu[16], node[16], steal[16], name[16];
	const struct kvmw_sched *all = &vm->total.sched;
	unsigned int k;
	size_t i;

	fprintf(f, "\n%6s %7s %8s %*s %7s %10s %*s %*s %10s %10s %10s %10s",
		"VCPU", "LASTCPU", "LASTNODE", NS_W, "RQDELAY", "STEAL%",
		"WAITS", NS_W, "MEAN", NS_W, "MAX", "PREEMPT", "SLEEPS",
		"MIGR", "XNODE");
	for (k = 0; k < nr_nodes; k++) {
		if (!all->run_node_ns[k])
			continue;
		snprintf(name, sizeof(name), "NODE%u%%", k);
		fprintf(f, " %7s", name);
	}
	fputc('\n', f);
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_vcpu *v = &vm->vcpus[i];
		const struct kvmw_sched *sc = &v->u.sched;
		bool waited = sc->mean_ns.ok;

		if (sc->steal_pct.ok)
			snprintf(steal, sizeof(steal), "%.2f%%",
				 sc->steal_pct.v);
		else
			strcpy(steal, "-");
		fprintf(f, "%6u %7s %8s %*s %7s %10" PRIu64 " %*s %*s %10"
			PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64,
			v->vcpu_id, cpu_cell(v->last_cpu, cpu),
			cpu_cell(v->last_node, node), NS_W,
			kvmw_fmt_ns(sc->rq_delay_ns, rq), steal,
			(uint64_t)sc->rq_delay_count, NS_W,
			ns_cell(waited, (__u64)(sc->mean_ns.v + 0.5), mean),
			NS_W, ns_cell(waited, sc->rq_delay_max_ns, max),
			(uint64_t)sc->preemptions, (uint64_t)sc->sleeps,
			(uint64_t)sc->migrations,
			(uint64_t)sc->node_migrations);
		for (k = 0; k < nr_nodes; k++) {
			struct kvmw_opt o;

			if (!all->run_node_ns[k])
				continue;
			o.ok = sc->run_ns;
			o.v = sc->run_node_pct[k];
			fprintf(f, " %7s", pct_cell(&o, name));
		}
		fputc('\n', f);
	}
}

int kvmw_print_stat_vcpus(FILE *f, const struct kvmw_snapshot *cur,
			  const struct kvmw_delta_vm *row,
			  const struct kvmw_stat_opts *opts)
{
	const struct kvmw_host *hs = &cur->host;
	const struct kvmw_vm *vm = row->vm;
	char title[64];
	size_t i;

	print_vm_rows(f, cur, row, 1, opts);
	print_vcpu_rows(f, vm, hs);
	if (opts->detail && has_faults(hs))
		print_vcpu_faults(f, vm, hs->nr_nodes);
	if (opts->detail && has_sched(hs))
		print_vcpu_sched(f, vm, hs->nr_nodes);
	for (i = 0; i < vm->nr_vcpus_detail && opts->top; i++) {
		snprintf(title, sizeof(title), "VM %" PRIu64 " vCPU %u (tid %u)",
			 (uint64_t)vm->vm_id, vm->vcpus[i].vcpu_id,
			 vm->vcpus[i].tid);
		print_reason_table(f, title, &vm->vcpus[i].u, vm->vendor,
				   opts->top, hs);
	}
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
	if (p->hi == KVMW_HIST_INF)
		kvmw_json_null(j);
	else
		kvmw_json_u64(j, p->hi);
	kvmw_json_end_object(j);
}

/* The quantiles of kvmw_pcts, by their keys. */
static void json_pcts(struct kvmw_json *j, const struct kvmw_pct *pct)
{
	unsigned int k;

	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		json_pct_value(j, &pct[k]);
	}
}

/* A key and an optional number, null when there is none. */
static void json_kv_opt(struct kvmw_json *j, const char *key,
			const struct kvmw_opt *o)
{
	kvmw_json_key(j, key);
	if (o->ok)
		kvmw_json_double(j, o->v);
	else
		kvmw_json_null(j);
}

/* A key and a number, or null when @ok is false. */
static void json_kv_u64_or_null(struct kvmw_json *j, const char *key, bool ok,
				__u64 v)
{
	kvmw_json_key(j, key);
	if (ok)
		kvmw_json_u64(j, v);
	else
		kvmw_json_null(j);
}

static void json_hist(struct kvmw_json *j, const struct kvmw_hist *h)
{
	kvmw_json_key(j, "hist");
	kvmw_json_u64_array(j, h->buckets, h->nr_buckets);
}

/* "latency" of a reason; null when the source does not measure it. */
static void json_lat(struct kvmw_json *j, const struct kvmw_lat *l,
		     const struct kvmw_host *hs)
{
	bool user = has_user(hs);

	kvmw_json_key(j, "latency");
	if (!has_lat(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "timed", l->timed);
	kvmw_json_kv_u64(j, "total_ns", l->total_ns);
	json_kv_opt(j, "mean_ns", &l->mean_ns);
	json_kv_u64_or_null(j, "min_ns", l->timed, l->min_ns);
	json_kv_u64_or_null(j, "max_ns", l->timed, l->max_ns);
	json_pcts(j, l->pct);
	json_kv_u64_or_null(j, "user_count", user, l->user_count);
	json_kv_u64_or_null(j, "user_ns", user, l->user_ns);
	json_kv_opt(j, "user_pct", &l->user_pct);
	json_hist(j, &l->hist);
	kvmw_json_end_object(j);
}

/*
 * The generic part: "stats" of a record, every statistic the source
 * described for @scope by its name, a number or (per node, histogram)
 * an array; null without a self-describing source or values.
 */
static void json_raw(struct kvmw_json *j, const struct kvmw_raw_stats *raw,
		     enum kvmw_rec_scope scope, const __u64 *values)
{
	size_t i;

	kvmw_json_key(j, "stats");
	if (!raw->nr || !values) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	for (i = 0; i < raw->nr; i++) {
		const struct kvmw_stat_info *s = &raw->infos[i];

		if (s->scope != scope)
			continue;
		kvmw_json_key(j, s->name);
		if (s->count == 1 && !s->per_node &&
		    s->kind != KVMW_KIND_HISTOGRAM)
			kvmw_json_u64(j, values[s->offset]);
		else
			kvmw_json_u64_array(j, &values[s->offset], s->count);
	}
	kvmw_json_end_object(j);
}

static void json_reasons(struct kvmw_json *j, const struct kvmw_unit *u,
			 unsigned int vendor, const struct kvmw_host *hs,
			 const struct kvmw_raw_stats *raw)
{
	char buf[KVMW_REASON_BUF_LEN];
	size_t i;

	kvmw_json_key(j, "reasons");
	kvmw_json_begin_array(j);
	for (i = 0; i < u->nr_reasons; i++) {
		const struct kvmw_reason *r = &u->reasons[i];

		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "code", r->code);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, kvmw_reason_name(vendor, r->code, buf));
		kvmw_json_kv_u64(j, "count", r->count);
		kvmw_json_key(j, "category");
		kvmw_json_string(j, kvmw_category_name(r->category));
		json_kv_opt(j, "share_pct", &r->share_pct);
		kvmw_json_key(j, "idle");
		kvmw_json_bool(j, r->idle);
		kvmw_json_key(j, "untimed");
		kvmw_json_bool(j, r->flags & KVMW_R_UNTIMED);
		kvmw_json_kv_u64(j, "flags", r->flags);
		json_lat(j, &r->lat, hs);
		json_raw(j, raw, KVMW_REC_REASON, r->values);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
}

/*
 * "time" of a vCPU, or of all vCPUs of a VM: where the time went, with
 * the overhead percentage. null when the source does not measure it.
 */
static void json_times(struct kvmw_json *j, const struct kvmw_times *t,
		       const struct kvmw_host *hs)
{
	kvmw_json_key(j, "time");
	if (!has_lat(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "guest_ns", t->guest_ns);
	kvmw_json_kv_u64(j, "exit_ns", t->exit_ns);
	kvmw_json_kv_u64(j, "overhead_ns", t->overhead_ns);
	kvmw_json_kv_u64(j, "idle_ns", t->idle_ns);
	json_kv_u64_or_null(j, "user_ns", has_user(hs), t->user_ns);
	kvmw_json_kv_u64(j, "untimed_exits", t->untimed_exits);
	json_kv_opt(j, "overhead_pct", &t->overhead_pct);
	kvmw_json_end_object(j);
}

/* A node's key: its number. */
static void json_node_key(struct kvmw_json *j, unsigned int k)
{
	char key[16];

	snprintf(key, sizeof(key), "%u", k);
	kvmw_json_key(j, key);
}

static void json_kv_node(struct kvmw_json *j, const char *key, int node)
{
	json_kv_u64_or_null(j, key, node >= 0, node);
}

/*
 * "faults" of a vCPU, or of all vCPUs of a VM: nested page faults by
 * kind, their latency and the nodes of their pages ("nodes" lists the
 * nodes with faults, by number, and "unknown"). null when the source
 * does not count them.
 */
static void json_faults(struct kvmw_json *j, const struct kvmw_faults *ft,
			const struct kvmw_host *hs)
{
	unsigned int k;

	kvmw_json_key(j, "faults");
	if (!has_faults(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "count", ft->count);
	kvmw_json_kv_u64(j, "write", ft->write);
	kvmw_json_kv_u64(j, "fetch", ft->fetch);
	kvmw_json_kv_u64(j, "present", ft->present);
	kvmw_json_kv_u64(j, "mmio", ft->mmio);
	json_kv_opt(j, "write_pct", &ft->write_pct);
	json_kv_opt(j, "fetch_pct", &ft->fetch_pct);
	json_kv_opt(j, "present_pct", &ft->present_pct);
	json_kv_opt(j, "mmio_pct", &ft->mmio_pct);
	kvmw_json_kv_u64(j, "timed", ft->timed);
	kvmw_json_kv_u64(j, "total_ns", ft->lat_total_ns);
	json_kv_opt(j, "mean_ns", &ft->mean_ns);
	json_kv_u64_or_null(j, "max_ns", ft->timed, ft->lat_max_ns);
	json_pcts(j, ft->pct);
	json_hist(j, &ft->hist);
	kvmw_json_key(j, "nodes");
	kvmw_json_begin_object(j);
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!ft->node[k])
			continue;
		json_node_key(j, k);
		kvmw_json_u64(j, ft->node[k]);
	}
	kvmw_json_kv_u64(j, "unknown", ft->node_unknown);
	kvmw_json_end_object(j);
	kvmw_json_kv_u64(j, "located", ft->located);
	json_kv_node(j, "dominant_node", ft->dominant_node);
	json_kv_opt(j, "dominant_node_pct", &ft->dominant_node_pct);
	kvmw_json_key(j, "node_pct");
	kvmw_json_begin_object(j);
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!ft->node[k])
			continue;
		json_node_key(j, k);
		kvmw_json_double(j, ft->node_pct[k]);
	}
	kvmw_json_end_object(j);
	kvmw_json_end_object(j);
}

/*
 * "sched" of a vCPU (@v) or of all vCPUs of a VM (@v NULL): run-queue
 * delay with its histogram and percentiles, steal, preemptions, sleeps,
 * migrations and run time per node; a vCPU also has its last CPU and
 * node. null when the source does not see the scheduler.
 */
static void json_sched(struct kvmw_json *j, const struct kvmw_sched *sc,
		       const struct kvmw_vcpu *v, const struct kvmw_host *hs)
{
	unsigned int k;

	kvmw_json_key(j, "sched");
	if (!has_sched(hs)) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	if (v) {
		json_kv_u64_or_null(j, "last_cpu", v->last_cpu != KVMW_NONE,
				    v->last_cpu);
		json_kv_u64_or_null(j, "last_node", v->last_node != KVMW_NONE,
				    v->last_node);
	}
	kvmw_json_kv_u64(j, "rq_delay_ns", sc->rq_delay_ns);
	kvmw_json_kv_u64(j, "rq_delay_count", sc->rq_delay_count);
	kvmw_json_kv_u64(j, "rq_delay_max_ns", sc->rq_delay_max_ns);
	json_kv_opt(j, "rq_delay_mean_ns", &sc->mean_ns);
	json_kv_u64_or_null(j, "wall_ns", has_lat(hs), sc->wall_ns);
	json_kv_opt(j, "steal_pct", &sc->steal_pct);
	json_pcts(j, sc->pct);
	json_hist(j, &sc->hist);
	kvmw_json_kv_u64(j, "preemptions", sc->preemptions);
	kvmw_json_kv_u64(j, "sleeps", sc->sleeps);
	kvmw_json_kv_u64(j, "migrations", sc->migrations);
	kvmw_json_kv_u64(j, "node_migrations", sc->node_migrations);
	kvmw_json_kv_u64(j, "run_ns", sc->run_ns);
	kvmw_json_key(j, "run_node_ns");
	kvmw_json_begin_object(j);
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!sc->run_node_ns[k])
			continue;
		json_node_key(j, k);
		kvmw_json_u64(j, sc->run_node_ns[k]);
	}
	kvmw_json_end_object(j);
	kvmw_json_key(j, "run_node_pct");
	kvmw_json_begin_object(j);
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!sc->run_node_ns[k])
			continue;
		json_node_key(j, k);
		kvmw_json_double(j, sc->run_node_pct[k]);
	}
	kvmw_json_end_object(j);
	json_kv_node(j, "home_node", sc->home_node);
	json_kv_opt(j, "home_node_pct", &sc->home_node_pct);
	kvmw_json_end_object(j);
}

/* One node of "mem": its samples, the page estimate and the share. */
static void json_mem_node(struct kvmw_json *j, const struct kvmw_mem *m,
			  __u64 n, double pct)
{
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "samples", n);
	kvmw_json_kv_u64(j, "pages_est", n * m->stride);
	kvmw_json_key(j, "pct");
	kvmw_json_double(j, pct);
	kvmw_json_end_object(j);
}

/*
 * "mem" of a VM: the source's last complete sampling pass as it gave
 * it, the resident samples per node with page estimates and shares, and
 * the remote ratio. null when the source does not sample memory.
 */
static void json_mem(struct kvmw_json *j, const struct kvmw_vm *vm,
		     const struct kvmw_host *hs)
{
	const struct kvmw_mem *m = &vm->mem;
	unsigned int k;

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
	kvmw_json_u64_array(j, m->node, hs->nr_nodes);
	kvmw_json_kv_u64(j, "resident_samples", m->resident);
	kvmw_json_kv_u64(j, "resident_pages_est", m->resident * m->stride);
	kvmw_json_key(j, "nodes");
	kvmw_json_begin_object(j);
	for (k = 0; k < hs->nr_nodes; k++) {
		if (!m->node[k])
			continue;
		json_node_key(j, k);
		json_mem_node(j, m, m->node[k], m->node_pct[k]);
	}
	if (m->node_unknown) {
		kvmw_json_key(j, "unknown");
		json_mem_node(j, m, m->node_unknown, m->unknown_pct.v);
	}
	kvmw_json_end_object(j);
	json_kv_node(j, "home_node",
		     has_sched(hs) ? vm->total.sched.home_node : -1);
	json_kv_opt(j, "remote_pct", &m->remote_pct);
	kvmw_json_end_object(j);
}

/*
 * "categories": every category, in the stable order of enum kvmw_category,
 * with its exits (0 included), so a consumer always finds all of them.
 */
static void json_categories(struct kvmw_json *j, const struct kvmw_unit *u)
{
	unsigned int i;

	kvmw_json_key(j, "categories");
	kvmw_json_begin_array(j);
	for (i = 0; i < KVMW_NR_CATEGORIES; i++) {
		kvmw_json_begin_object(j);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, kvmw_category_name(i));
		kvmw_json_kv_u64(j, "count", u->categories[i]);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
}

/* What a VM and a vCPU have alike. */
static void json_unit(struct kvmw_json *j, const struct kvmw_unit *u,
		      const struct kvmw_vcpu *v, unsigned int vendor,
		      const struct kvmw_host *hs,
		      const struct kvmw_raw_stats *raw)
{
	json_reasons(j, u, vendor, hs, raw);
	json_categories(j, u);
	json_times(j, &u->times, hs);
	json_faults(j, &u->faults, hs);
	json_sched(j, &u->sched, v, hs);
}

static void json_stat_vm(struct kvmw_json *j, const struct kvmw_delta_vm *row,
			 const struct kvmw_host *hs,
			 const struct kvmw_raw_stats *raw)
{
	const struct kvmw_vm *vm = row->vm;
	size_t i;

	kvmw_json_begin_object(j);
	json_vm_fields(j, vm);
	json_kv_opt(j, "exits_per_sec", &row->exits_per_sec);
	kvmw_json_key(j, "gone");
	kvmw_json_bool(j, row->gone);
	kvmw_json_key(j, "vanished");
	kvmw_json_bool(j, row->vanished);
	kvmw_json_kv_u64(j, "overflow_exits", vm->total.overflow_exits);
	json_unit(j, &vm->total, NULL, vm->vendor, hs, raw);
	json_mem(j, vm, hs);
	json_budget_state(j, raw, vm);
	kvmw_json_key(j, "vcpus");
	kvmw_json_begin_array(j);
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_vcpu *v = &vm->vcpus[i];

		kvmw_json_begin_object(j);
		kvmw_json_kv_u64(j, "vcpu_id", v->vcpu_id);
		kvmw_json_kv_u64(j, "tid", v->tid);
		kvmw_json_kv_u64(j, "exits", v->u.exits);
		kvmw_json_kv_u64(j, "entries", v->u.entries);
		kvmw_json_kv_u64(j, "overflow_exits", v->u.overflow_exits);
		json_unit(j, &v->u, v, vm->vendor, hs, raw);
		json_raw(j, raw, KVMW_REC_VCPU, v->values);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	json_raw(j, raw, KVMW_REC_VM, vm->values);
	kvmw_json_end_object(j);
}

/* A histogram layout: {"type": "log2", "sub_bits": 0, "nr_buckets": 32}. */
static void json_hist_layout(struct kvmw_json *j, __u32 type, __u32 sub_bits,
			     __u32 nr_buckets)
{
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "type");
	kvmw_json_string(j, type == KVMW_HIST_LOGLIN ? "loglin" :
			 type == KVMW_HIST_LOG2 ? "log2" : "unknown");
	kvmw_json_kv_u64(j, "sub_bits", sub_bits);
	kvmw_json_kv_u64(j, "nr_buckets", nr_buckets);
	kvmw_json_end_object(j);
}

/*
 * "stats": the statistics a self-describing source described, null for
 * another source: what the "stats" of the records hold.
 */
static void json_raw_descs(struct kvmw_json *j, const struct kvmw_host *hs,
			   const struct kvmw_raw_stats *raw)
{
	size_t i;

	kvmw_json_key(j, "stats");
	if (!raw->nr) {
		kvmw_json_null(j);
		return;
	}
	kvmw_json_begin_object(j);
	kvmw_json_kv_u64(j, "nr_nodes", hs->nr_nodes);
	kvmw_json_key(j, "descriptors");
	kvmw_json_begin_array(j);
	for (i = 0; i < raw->nr; i++) {
		const struct kvmw_stat_info *s = &raw->infos[i];

		kvmw_json_begin_object(j);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, s->name);
		kvmw_json_key(j, "scope");
		kvmw_json_string(j, kvmw_rec_scope_name(s->scope));
		kvmw_json_key(j, "kind");
		kvmw_json_string(j, kvmw_stat_kind_name(s->kind));
		kvmw_json_key(j, "unit");
		kvmw_json_string(j, s->unit);
		kvmw_json_key(j, "per_node");
		kvmw_json_bool(j, s->per_node);
		kvmw_json_kv_u64(j, "count", s->count);
		kvmw_json_key(j, "hist");
		if (s->kind == KVMW_KIND_HISTOGRAM)
			json_hist_layout(j, s->hist_type, s->hist_sub_bits,
					 s->count);
		else
			kvmw_json_null(j);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	kvmw_json_end_object(j);
}

/*
 * What the source measures and how its histograms are laid out; what
 * the figures mean is in Documentation/kvmwarden-json.rst, not here.
 */
static void json_measured(struct kvmw_json *j, const struct kvmw_host *hs)
{
	unsigned int k;

	kvmw_json_key(j, "latency");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_lat(hs));
	kvmw_json_key(j, "user_exits");
	kvmw_json_bool(j, has_user(hs));
	kvmw_json_key(j, "hist");
	json_hist_layout(j, hs->hist_type, hs->hist_sub_bits, hs->hist_buckets);
	kvmw_json_key(j, "quantiles");
	kvmw_json_begin_object(j);
	for (k = 0; k < KVMW_NR_PCTS; k++) {
		kvmw_json_key(j, kvmw_pcts[k].key);
		kvmw_json_double(j, (double)kvmw_pcts[k].ppm / KVMW_PPM);
	}
	kvmw_json_end_object(j);
	kvmw_json_end_object(j);

	kvmw_json_key(j, "faults");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_faults(hs));
	kvmw_json_kv_u64(j, "max_nodes", hs->nr_nodes);
	kvmw_json_end_object(j);

	kvmw_json_key(j, "sched");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_sched(hs));
	kvmw_json_end_object(j);

	kvmw_json_key(j, "mem");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "measured");
	kvmw_json_bool(j, has_mem(hs));
	kvmw_json_end_object(j);
}

int kvmw_print_stat_json(FILE *f, const struct kvmw_snapshot *cur,
			 const struct kvmw_delta_vm *rows, size_t nr,
			 const struct kvmw_stat_opts *opts)
{
	struct kvmw_json j;
	size_t i;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	json_header(&j, &cur->host);
	kvmw_json_key(&j, "interval_sec");
	if (opts->interval > 0)
		kvmw_json_double(&j, opts->interval);
	else
		kvmw_json_null(&j);
	json_measured(&j, &cur->host);
	json_raw_descs(&j, &cur->host, &cur->raw);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < nr; i++)
		json_stat_vm(&j, &rows[i], &cur->host, &cur->raw);
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j) ? -EIO : 0;
}

/* Budget show */

static void budget_row_head(FILE *f, const struct kvmw_budget_row *r)
{
	char name[KVMW_VM_NAME_MAX];

	kvmw_name_for_tty(r->vm->name, name);
	fprintf(f, "VM %" PRIu64 " pid %u name %s: ", (uint64_t)r->vm->vm_id,
		r->vm->pid, name);
}

int kvmw_print_budget_table(FILE *f, const struct kvmw_budget_row *rows,
			    size_t nr)
{
	char a[96], b[32], c[32], d[32], e[32];
	size_t i;
	unsigned int k;

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
	for (i = 0; i < nr; i++) {
		const struct kvmw_budget_row *r = &rows[i];
		const struct kvmw_budget_cfg *cfg = &r->cfg;
		const struct kvmw_budget_stats *bs = &r->stats;
		const char *mode = kvmw_budget_mode_name(cfg->mode);

		budget_row_head(f, r);
		if (r->gone) {
			fputs("gone\n", f);
			continue;
		}
		if (cfg->mode == KVMW_BUDGET_OFF) {
			fputs("no budget\n", f);
			continue;
		}
		fprintf(f, "%s, max park %s, guard ", mode ? mode : "?",
			kvmw_fmt_duration(a, sizeof(a), cfg->max_park_ns));
		if (cfg->guard_pct >= 100)
			fputs("off", f);
		else
			fprintf(f, "%u%% of %s%s", cfg->guard_pct,
				kvmw_fmt_duration(b, sizeof(b),
						  cfg->guard_window_ns),
				cfg->guard_audit ? " then audit" : "");
		if (cfg->rule)
			fprintf(f, ", from default rule %u", cfg->rule - 1);
		fprintf(f, "%s\n", cfg->tripped ?
			", TRIPPED (running in audit mode)" : "");
		fprintf(f, "  %-3s %-28s %10s %10s %10s %10s %10s\n", "#",
			"CATEGORIES", "RATE/s", "BURST", "CREDIT", "TOKENS",
			"DEBT");
		for (k = 0; k < cfg->nr_buckets; k++) {
			fprintf(f, "  %-3u %-28s %10s %10s %10s", k + 1,
				kvmw_fmt_categories(a, sizeof(a),
						    cfg->b[k].categories),
				kvmw_fmt_count(b, sizeof(b), cfg->b[k].rate),
				kvmw_fmt_count(c, sizeof(c), cfg->b[k].burst),
				kvmw_fmt_count(d, sizeof(d),
					       cfg->b[k].credit));
			if (bs->known)
				fprintf(f, " %10" PRIu64 " %10" PRIu64 "\n",
					(uint64_t)bs->tokens[k],
					(uint64_t)bs->debt[k]);
			else
				fprintf(f, " %10s %10s\n", "-", "-");
		}
		if (bs->known)
			fprintf(f, "  charged %" PRIu64 ", overruns %" PRIu64
				", parks %" PRIu64 ", parked %s, would park %s\n",
				(uint64_t)bs->charged, (uint64_t)bs->overruns,
				(uint64_t)bs->parks,
				kvmw_fmt_ns(bs->parked_ns, d),
				kvmw_fmt_ns(bs->would_park_ns, e));
	}
	return finish(f);
}

static void json_u64_or_null(struct kvmw_json *j, const char *key, bool ok,
			     __u64 v)
{
	kvmw_json_key(j, key);
	if (ok)
		kvmw_json_u64(j, v);
	else
		kvmw_json_null(j);
}

int kvmw_print_budget_json(FILE *f, const struct kvmw_budget_row *rows,
			   size_t nr)
{
	struct kvmw_json j;
	size_t i;
	unsigned int k, c;

	kvmw_json_init(&j, f, true);
	kvmw_json_begin_object(&j);
	kvmw_json_kv_u64(&j, "schema_version", KVMW_JSON_SCHEMA_VERSION);
	kvmw_json_key(&j, "vms");
	kvmw_json_begin_array(&j);
	for (i = 0; i < nr; i++) {
		const struct kvmw_budget_row *r = &rows[i];
		const struct kvmw_budget_cfg *cfg = &r->cfg;
		const struct kvmw_budget_stats *bs = &r->stats;
		const char *mode = kvmw_budget_mode_name(cfg->mode);

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
		kvmw_json_key(&j, "mode");
		kvmw_json_string(&j, mode ? mode : "unknown");
		kvmw_json_key(&j, "guard_audit");
		kvmw_json_bool(&j, cfg->guard_audit);
		kvmw_json_key(&j, "tripped");
		kvmw_json_bool(&j, cfg->tripped);
		kvmw_json_key(&j, "default_rule");
		if (cfg->rule)
			kvmw_json_u64(&j, cfg->rule - 1);
		else
			kvmw_json_null(&j);
		kvmw_json_kv_u64(&j, "max_park_ns", cfg->max_park_ns);
		kvmw_json_kv_u64(&j, "guard_window_ns", cfg->guard_window_ns);
		kvmw_json_kv_u64(&j, "guard_pct", cfg->guard_pct);
		kvmw_json_key(&j, "buckets");
		kvmw_json_begin_array(&j);
		for (k = 0; k < cfg->nr_buckets; k++) {
			const struct kvmw_budget_bucket_cfg *q = &cfg->b[k];
			__u64 scope = q->categories ? q->categories :
				      KVMW_BUDGET_DEFAULT_SCOPE;

			kvmw_json_begin_object(&j);
			kvmw_json_key(&j, "default_scope");
			kvmw_json_bool(&j, !q->categories);
			kvmw_json_key(&j, "categories");
			kvmw_json_begin_array(&j);
			for (c = 0; c < KVMW_NR_CATEGORIES; c++)
				if (scope & (1ULL << c))
					kvmw_json_string(&j,
							 kvmw_category_name(c));
			kvmw_json_end_array(&j);
			kvmw_json_kv_u64(&j, "categories_mask", q->categories);
			kvmw_json_kv_u64(&j, "rate", q->rate);
			kvmw_json_kv_u64(&j, "burst", q->burst);
			kvmw_json_kv_u64(&j, "credit", q->credit);
			json_u64_or_null(&j, "tokens", bs->known, bs->tokens[k]);
			json_u64_or_null(&j, "debt", bs->known, bs->debt[k]);
			kvmw_json_end_object(&j);
		}
		kvmw_json_end_array(&j);
		json_u64_or_null(&j, "charged", bs->known, bs->charged);
		json_u64_or_null(&j, "overruns", bs->known, bs->overruns);
		json_u64_or_null(&j, "parks", bs->known, bs->parks);
		json_u64_or_null(&j, "parked_ns", bs->known, bs->parked_ns);
		json_u64_or_null(&j, "would_park_ns", bs->known,
				 bs->would_park_ns);
		kvmw_json_end_object(&j);
	}
	kvmw_json_end_array(&j);
	kvmw_json_end_object(&j);
	return kvmw_json_finish(&j) ? -EIO : 0;
}
