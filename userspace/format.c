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
#include "json.h"
#include "reasons.h"

#define COMM_LEN	16

static const char * const feature_names[] = {
	"exit_counts",		/* KVMW_FEAT_EXIT_COUNTS */
	"reason_svm",		/* KVMW_FEAT_REASON_SVM */
	"reason_vmx",		/* KVMW_FEAT_REASON_VMX */
	"vm_lifetime",		/* KVMW_FEAT_VM_LIFETIME */
};

void kvmw_comm_for_tty(const __u8 comm[COMM_LEN], char out[COMM_LEN + 1])
{
	size_t i;

	for (i = 0; i < COMM_LEN && comm[i]; i++)
		out[i] = comm[i] >= 0x20 && comm[i] < 0x7f ? comm[i] : '?';
	out[i] = '\0';
	if (!i)
		strcpy(out, "-");
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

	kvmw_json_key(j, "api_version");
	kvmw_json_u64(j, hs->api_version);
	kvmw_json_key(j, "vendor");
	kvmw_json_string(j, kvmw_vendor_name(hs->vendor));
	kvmw_json_key(j, "features");
	kvmw_json_begin_array(j);
	for (bit = 0; bit < 64; bit++) {
		char name[16];

		if (!(hs->features & (1ULL << bit)))
			continue;
		if (bit < ARRAY_SIZE(feature_names)) {
			kvmw_json_string(j, feature_names[bit]);
		} else {
			snprintf(name, sizeof(name), "bit%u", bit);
			kvmw_json_string(j, name);
		}
	}
	kvmw_json_end_array(j);
	kvmw_json_key(j, "features_mask");
	kvmw_json_u64(j, hs->features);
	kvmw_json_key(j, "untracked_exits");
	kvmw_json_u64(j, hs->untracked_exits);
}

/* The fields shared by list and stat. */
static void json_vm_fields(struct kvmw_json *j, const struct kvmw_vm_info *vm,
			   const struct kvmw_handshake *hs)
{
	kvmw_json_key(j, "vm_id");
	kvmw_json_u64(j, vm->vm_id);
	kvmw_json_key(j, "vmm_pid");
	kvmw_json_u64(j, vm->vmm_pid);
	kvmw_json_key(j, "comm");
	kvmw_json_string_n(j, (const char *)vm->comm, COMM_LEN);
	kvmw_json_key(j, "vendor");
	kvmw_json_string(j, kvmw_vendor_name(vm_vendor(vm, hs)));
	kvmw_json_key(j, "nr_vcpus");
	kvmw_json_u64(j, vm->nr_vcpus);
	kvmw_json_key(j, "exits");
	kvmw_json_u64(j, vm->exits);
	kvmw_json_key(j, "entries");
	kvmw_json_u64(j, vm->entries);
	kvmw_json_key(j, "first_seen_ns");
	kvmw_json_u64(j, vm->first_seen_ns);
	kvmw_json_key(j, "gone_ns");
	kvmw_json_u64(j, vm->gone_ns);
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

int kvmw_print_stat_table(FILE *f, const struct kvmw_sample *cur,
			  const struct kvmw_stat_row *rows, size_t nr,
			  const struct kvmw_stat_opts *opts)
{
	char comm[COMM_LEN + 1];
	size_t i;
	int ret;

	if (!nr) {
		fputs("No VMs tracked.\n", f);
		return finish(f);
	}
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
		if (opts->top)
			print_categories(f, rows[i].snap,
					 vm_vendor(vm, &cur->hs));
	}
	return finish(f);
}

static int json_reasons(struct kvmw_json *j, const struct kvmw_vm_snap *snap,
			size_t vcpu, unsigned int vendor)
{
	struct kvmw_reason_total *t;
	char buf[KVMW_REASON_BUF_LEN];
	size_t n, i;
	int ret;

	ret = kvmw_reason_totals(snap, vcpu, &t, &n);
	if (ret)
		return ret;
	kvmw_json_key(j, "reasons");
	kvmw_json_begin_array(j);
	for (i = 0; i < n; i++) {
		kvmw_json_begin_object(j);
		kvmw_json_key(j, "code");
		kvmw_json_u64(j, t[i].code);
		kvmw_json_key(j, "name");
		kvmw_json_string(j, kvmw_reason_name(vendor, t[i].code, buf));
		kvmw_json_key(j, "count");
		kvmw_json_u64(j, t[i].count);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	free(t);
	return 0;
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
		kvmw_json_key(j, "count");
		kvmw_json_u64(j, c[i]);
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
	ret = json_reasons(j, snap, KVMW_ALL_VCPUS, vendor);
	if (ret)
		return ret;
	json_categories(j, snap, KVMW_ALL_VCPUS, vendor);
	kvmw_json_key(j, "vcpus");
	kvmw_json_begin_array(j);
	for (i = 0; i < snap->nr_vcpus; i++) {
		const struct kvmw_vcpu_info *v = &snap->vcpus[i];

		kvmw_json_begin_object(j);
		kvmw_json_key(j, "vcpu_id");
		kvmw_json_u64(j, v->vcpu_id);
		kvmw_json_key(j, "tid");
		kvmw_json_u64(j, v->tid);
		kvmw_json_key(j, "exits");
		kvmw_json_u64(j, v->exits);
		kvmw_json_key(j, "entries");
		kvmw_json_u64(j, v->entries);
		kvmw_json_key(j, "overflow_exits");
		kvmw_json_u64(j, v->overflow_exits);
		ret = json_reasons(j, snap, i, vendor);
		if (ret)
			return ret;
		json_categories(j, snap, i, vendor);
		kvmw_json_end_object(j);
	}
	kvmw_json_end_array(j);
	kvmw_json_end_object(j);
	return 0;
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
