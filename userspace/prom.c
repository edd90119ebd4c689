// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition format (0.0.4) of a kvmwarden snapshot.
 *
 * Families come from the module's self-describing statistics: each
 * statistic of the vm, vcpu and reason scopes is one family, its name
 * made by the rule in metric_base() (ns -> _seconds, pages -> _bytes,
 * counters _total, a reason statistic "reason_NAME") unless the table
 * names[] says otherwise. Per VM, a vcpu statistic is the sum over the
 * VM's vCPUs (counters, histograms, node arrays), the largest value of
 * a gauge, or the smallest non-zero one of a gauge named *_min; a
 * statistic in unit "id" (last_cpu) has no VM value and is only shown
 * per vCPU. Reason statistics are added up the same way per VM and
 * reason code. Histograms are classic cumulative ones: bucket b of the
 * layout of <kvmwarden/hist.h> holds the integers [lo, hi) ns, so its
 * le is hi - 1 ns, exactly; the last bucket is +Inf.
 *
 * Around them: kvmwarden_up, the scrape duration, the tool's version
 * and the module's API, one kvmwarden_vm_info per VM (pid, name, uuid,
 * comm), exits per category, and resident memory in bytes per node
 * (samples x stride x page size) from the model.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "prom.h"

/* Names and links the rule of metric_base() does not give. */
struct prom_name {
	enum kvmw_rec_scope scope;
	const char *stat;
	/* After "kvmwarden_vm_" / "kvmwarden_vcpu_"; NULL: by the rule. */
	const char *metric;
	/* A histogram: the counter of the same scope that is its _sum. */
	const char *sum;
	/* Not a family of its own (it is another family's _sum). */
	bool skip;
	const char *help;
};

static const struct prom_name names[] = {
	{ KVMW_REC_REASON, "exits", "exits", NULL, false,
	  "VM exits by hardware exit reason" },
	{ KVMW_REC_REASON, "latency_hist", "exit_latency_seconds", "latency",
	  false, "time from a VM exit to the vCPU's next guest entry" },
	{ KVMW_REC_REASON, "latency", NULL, NULL, true, NULL },
	{ KVMW_REC_REASON, "latency_min", "exit_latency_min_seconds", NULL,
	  false, "shortest exit latency" },
	{ KVMW_REC_REASON, "latency_max", "exit_latency_max_seconds", NULL,
	  false, "longest exit latency" },
	{ KVMW_REC_REASON, "user_exits", "exits_to_userspace", NULL, false,
	  "timed exits that returned to the VMM (userspace)" },
	{ KVMW_REC_REASON, "user_time", "exit_userspace_seconds", NULL, false,
	  "time in the VMM after exits that returned to userspace" },
	{ KVMW_REC_VCPU, "exits", "exits_all", NULL, false,
	  "VM exits of every reason, overflow exits included" },
	{ KVMW_REC_VCPU, "fault_time_hist", "fault_latency_seconds",
	  "fault_time", false,
	  "time from a nested page fault to the vCPU's next guest entry" },
	{ KVMW_REC_VCPU, "fault_time", NULL, NULL, true, NULL },
	{ KVMW_REC_VCPU, "fault_time_max", "fault_latency_max_seconds", NULL,
	  false, "longest nested page fault latency" },
	{ KVMW_REC_VCPU, "rq_delay_hist", "run_queue_delay_seconds",
	  "rq_delay", false,
	  "run-queue waits of the vCPU threads inside KVM_RUN (steal)" },
	{ KVMW_REC_VCPU, "rq_delay", NULL, NULL, true, NULL },
	{ KVMW_REC_VCPU, "run_time_node", "run_seconds", NULL, false,
	  "time the vCPU threads ran inside KVM_RUN, by NUMA node" },
	{ KVMW_REC_VM, "mem_pages", "memory_bytes", NULL, false,
	  "guest memory in the memslots at the last sampling pass" },
};

static const struct prom_name *name_of(const struct kvmw_stat_info *si)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].scope == si->scope &&
		    !strcmp(names[i].stat, si->name))
			return &names[i];
	return NULL;
}

/* The sanitized name with @cut removed from its end, into @buf. */
static void base_name(char *buf, size_t len, const char *name,
		      const char *cut)
{
	size_t n = strlen(name), c = strlen(cut), i;

	if (n > c && !strcmp(name + n - c, cut))
		n -= c;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		buf[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '_' ? ch : '_';
	}
	buf[n] = '\0';
}

enum conv { CONV_NONE, CONV_SECONDS, CONV_BYTES };

static enum conv conv_of(const struct kvmw_stat_info *si)
{
	if (!strcmp(si->unit, "ns") || !strcmp(si->unit, "boottime_ns"))
		return CONV_SECONDS;
	if (!strcmp(si->unit, "pages"))
		return CONV_BYTES;
	return CONV_NONE;
}

/*
 * The family's name after "kvmwarden_vm_" or "kvmwarden_vcpu_", without
 * _total: from the table, or "[reason_]NAME" with a unit suffix.
 */
static void metric_base(char *buf, size_t len, const struct kvmw_stat_info *si,
			const struct prom_name *pn)
{
	const char *pre = si->scope == KVMW_REC_REASON ? "reason_" : "";
	char b[KVMW_STAT_NAME_MAX];

	if (pn && pn->metric) {
		snprintf(buf, len, "%s", pn->metric);
		return;
	}
	if (!strcmp(si->unit, "ns")) {
		base_name(b, sizeof(b), si->name, "_time");
		snprintf(buf, len, "%s%s_seconds", pre, b);
	} else if (!strcmp(si->unit, "boottime_ns")) {
		base_name(b, sizeof(b), si->name, "_time");
		snprintf(buf, len, "%s%s_boottime_seconds", pre, b);
	} else if (!strcmp(si->unit, "pages")) {
		base_name(b, sizeof(b), si->name, "_pages");
		snprintf(buf, len, "%s%s_bytes", pre, b);
	} else {
		base_name(b, sizeof(b), si->name, "");
		snprintf(buf, len, "%s%s", pre, b);
	}
}

/* Writing ------------------------------------------------------------ */

struct label {
	const char *k;
	const char *v;
};

#define MAX_LABELS	8

struct pw {
	FILE *f;
	const struct kvmw_prom_opts *o;
	unsigned long page_size;
};

/* A label value: \ " and newline escaped, invalid UTF-8 as '?'. */
static void put_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int n = 0, i;

		if (*p < 0x80) {
			if (*p == '\\')
				fputs("\\\\", f);
			else if (*p == '"')
				fputs("\\\"", f);
			else if (*p == '\n')
				fputs("\\n", f);
			else
				fputc(*p, f);
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		for (i = 1; n && i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		/* Overlong 3-byte forms, surrogates, above U+10FFFF. */
		if (n == 2 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
			       (p[0] == 0xed && p[1] >= 0xa0)))
			n = 0;
		if (n == 3 && ((p[0] == 0xf0 && p[1] < 0x90) ||
			       (p[0] == 0xf4 && p[1] >= 0x90)))
			n = 0;
		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, n + 1, f);
		p += n + 1;
	}
}

/* HELP text: \ and newline escaped. */
static void put_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(struct pw *w, const char *name, const char *type,
		   const char *help)
{
	fprintf(w->f, "# HELP %s ", name);
	put_help(w->f, help);
	fprintf(w->f, "\n# TYPE %s %s\n", name, type);
}

static void sample(struct pw *w, const char *name, const char *suffix,
		   const struct label *l, size_t nl, const char *k,
		   const char *v, const char *value)
{
	size_t i;
	bool any = nl || k;

	fprintf(w->f, "%s%s", name, suffix);
	if (any)
		fputc('{', w->f);
	for (i = 0; i < nl; i++) {
		fprintf(w->f, "%s%s=\"", i ? "," : "", l[i].k);
		put_label_value(w->f, l[i].v);
		fputc('"', w->f);
	}
	if (k) {
		fprintf(w->f, "%s%s=\"", nl ? "," : "", k);
		put_label_value(w->f, v);
		fputc('"', w->f);
	}
	if (any)
		fputc('}', w->f);
	fprintf(w->f, " %s\n", value);
}

#define VAL_LEN	48

static const char *fmt_u64(char *buf, __u64 v)
{
	snprintf(buf, VAL_LEN, "%llu", (unsigned long long)v);
	return buf;
}

/* @ns as seconds, exactly: "0.0000015", "12", "3.25". */
static const char *fmt_seconds(char *buf, __u64 ns)
{
	size_t n;

	n = snprintf(buf, VAL_LEN, "%llu.%09llu",
		     (unsigned long long)(ns / 1000000000ULL),
		     (unsigned long long)(ns % 1000000000ULL));
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

static const char *fmt_value(struct pw *w, char *buf, enum conv c, __u64 v)
{
	if (c == CONV_SECONDS)
		return fmt_seconds(buf, v);
	if (c == CONV_BYTES) {
		/* Saturate rather than wrap. */
		if (v > ULLONG_MAX / w->page_size)
			return fmt_u64(buf, ULLONG_MAX);
		return fmt_u64(buf, v * w->page_size);
	}
	return fmt_u64(buf, v);
}

/* Per-VM sums ---------------------------------------------------------- */

struct agg_reason {
	__u32 code;
	unsigned int category;
	__u64 *v;
};

struct agg_vm {
	const struct kvmw_vm *vm;
	char id[24];
	char name[KVMW_VM_NAME_MAX];
	char uuid[64];
	/* The vCPUs' values added up, nr_values[KVMW_REC_VCPU]. */
	__u64 *v;
	struct agg_reason *r;
	size_t nr_r;
	/* The first labels of its series: vm_id, vm. */
	struct label l[2];
};

enum agg_how { AGG_SUM, AGG_MAX, AGG_MIN, AGG_NONE };

static enum agg_how agg_of(const struct kvmw_stat_info *si)
{
	size_t n = strlen(si->name);

	if (si->kind == KVMW_KIND_COUNTER || si->kind == KVMW_KIND_HISTOGRAM ||
	    si->per_node)
		return AGG_SUM;
	if (!strcmp(si->unit, "id") || si->kind == KVMW_KIND_UNKNOWN)
		return AGG_NONE;
	if (n > 4 && !strcmp(si->name + n - 4, "_min"))
		return AGG_MIN;
	return AGG_MAX;
}

static void agg_add(const struct kvmw_raw_stats *raw, enum kvmw_rec_scope sc,
		    __u64 *acc, const __u64 *v, bool first)
{
	size_t i;
	__u32 k;

	for (i = 0; i < raw->nr; i++) {
		const struct kvmw_stat_info *si = &raw->infos[i];
		enum agg_how how;

		if (si->scope != sc)
			continue;
		how = agg_of(si);
		for (k = si->offset; k < si->offset + si->count; k++) {
			__u64 *a = &acc[k];

			switch (how) {
			case AGG_SUM:
				*a += v[k];
				break;
			case AGG_MAX:
				if (first || v[k] > *a)
					*a = v[k];
				break;
			case AGG_MIN:
				if (v[k] && (!*a || v[k] < *a))
					*a = v[k];
				break;
			case AGG_NONE:
				break;
			}
		}
	}
}

static struct agg_reason *agg_reason(struct agg_vm *a, __u32 code,
				     unsigned int category, size_t nr_values)
{
	struct agg_reason *r;
	size_t i;

	for (i = 0; i < a->nr_r; i++)
		if (a->r[i].code == code)
			return &a->r[i];
	r = realloc(a->r, (a->nr_r + 1) * sizeof(*r));
	if (!r)
		return NULL;
	a->r = r;
	r = &a->r[a->nr_r];
	r->code = code;
	r->category = category;
	r->v = calloc(nr_values ? nr_values : 1, sizeof(*r->v));
	if (!r->v)
		return NULL;
	a->nr_r++;
	return r;
}

static int cmp_reason(const void *x, const void *y)
{
	const struct agg_reason *a = x, *b = y;

	return a->code < b->code ? -1 : a->code > b->code;
}

static int agg_build(struct agg_vm *a, const struct kvmw_snapshot *snap,
		     const struct kvmw_vm *vm, const char *proc)
{
	const struct kvmw_raw_stats *raw = &snap->raw;
	size_t nv = raw->nr_values[KVMW_REC_VCPU];
	size_t nr = raw->nr_values[KVMW_REC_REASON];
	size_t i, k;

	memset(a, 0, sizeof(*a));
	a->vm = vm;
	snprintf(a->id, sizeof(a->id), "%llu", (unsigned long long)vm->vm_id);
	if (!vm->gone && vm->pid &&
	    kvmw_vmm_ident(proc, vm->pid, a->name, sizeof(a->name), a->uuid,
			   sizeof(a->uuid)))
		a->name[0] = a->uuid[0] = '\0';
	a->l[0] = (struct label){ "vm_id", a->id };
	a->l[1] = (struct label){ "vm", a->name };
	a->v = calloc(nv ? nv : 1, sizeof(*a->v));
	if (!a->v)
		return -ENOMEM;
	if (!raw->nr)
		return 0;
	for (i = 0; i < vm->nr_vcpus_detail; i++) {
		const struct kvmw_vcpu *c = &vm->vcpus[i];

		if (c->values)
			agg_add(raw, KVMW_REC_VCPU, a->v, c->values, !i);
		for (k = 0; k < c->u.nr_reasons; k++) {
			const struct kvmw_reason *r = &c->u.reasons[k];
			struct agg_reason *ar;
			bool first;

			if (!r->values)
				continue;
			first = true;
			for (size_t j = 0; j < a->nr_r; j++)
				if (a->r[j].code == r->code)
					first = false;
			ar = agg_reason(a, r->code, r->category, nr);
			if (!ar)
				return -ENOMEM;
			agg_add(raw, KVMW_REC_REASON, ar->v, r->values, first);
		}
	}
	qsort(a->r, a->nr_r, sizeof(*a->r), cmp_reason);
	return 0;
}

static void agg_free(struct agg_vm *a)
{
	size_t i;

	for (i = 0; i < a->nr_r; i++)
		free(a->r[i].v);
	free(a->r);
	free(a->v);
}

/* Families from the descriptors ---------------------------------------- */

/* The statistic @name of @scope, or NULL. */
static const struct kvmw_stat_info *find_info(const struct kvmw_raw_stats *raw,
					      enum kvmw_rec_scope scope,
					      const char *name)
{
	size_t i;

	for (i = 0; i < raw->nr; i++)
		if (raw->infos[i].scope == scope &&
		    !strcmp(raw->infos[i].name, name))
			return &raw->infos[i];
	return NULL;
}

/*
 * The series of statistic @si in the values @v of one VM, vCPU or
 * reason (labels @l): one sample, one per node or index, or the
 * histogram's buckets, _sum (from @sum) and _count.
 */
static void stat_series(struct pw *w, const char *name,
			const struct kvmw_stat_info *si,
			const struct kvmw_stat_info *sum, const __u64 *v,
			const struct label *l, size_t nl)
{
	enum conv c = conv_of(si);
	char val[VAL_LEN], key[24];
	__u64 cum = 0;
	__u32 k;

	if (si->kind == KVMW_KIND_HISTOGRAM) {
		for (k = 0; k < si->count; k++) {
			__u64 hi = kvmw_hist_hi(si->hist_type, si->hist_sub_bits,
						k, si->count);

			cum += v[si->offset + k];
			if (hi == ~0ULL)
				snprintf(key, sizeof(key), "+Inf");
			else if (c == CONV_SECONDS)
				fmt_seconds(key, hi - 1);
			else
				fmt_u64(key, hi - 1);
			sample(w, name, "_bucket", l, nl, "le", key,
			       fmt_u64(val, cum));
		}
		if (sum)
			sample(w, name, "_sum", l, nl, NULL, NULL,
			       fmt_value(w, val, c, v[sum->offset]));
		sample(w, name, "_count", l, nl, NULL, NULL, fmt_u64(val, cum));
		return;
	}
	if (si->count == 1 && !si->per_node) {
		sample(w, name, "", l, nl, NULL, NULL,
		       fmt_value(w, val, c, v[si->offset]));
		return;
	}
	for (k = 0; k < si->count; k++) {
		snprintf(key, sizeof(key), "%u", k);
		sample(w, name, "", l, nl, si->per_node ? "node" : "index", key,
		       fmt_value(w, val, c, v[si->offset + k]));
	}
}

static bool hist_layout_known(const struct kvmw_stat_info *si)
{
	return si->count &&
	       (si->hist_type == KVMW_HIST_LOG2 ||
		si->hist_type == KVMW_HIST_LOGLIN);
}

static const char *type_of(const struct kvmw_stat_info *si)
{
	switch (si->kind) {
	case KVMW_KIND_COUNTER:
		return "counter";
	case KVMW_KIND_GAUGE:
		return "gauge";
	case KVMW_KIND_HISTOGRAM:
		return "histogram";
	default:
		return "untyped";
	}
}

static void stat_family(struct pw *w, const struct kvmw_snapshot *snap,
			struct agg_vm *aggs, const struct kvmw_stat_info *si,
			bool per_vcpu)
{
	const struct kvmw_raw_stats *raw = &snap->raw;
	const struct prom_name *pn = name_of(si);
	const struct kvmw_stat_info *sum = NULL;
	char base[96], name[128], help[192], cpu[16], rn[KVMW_REASON_BUF_LEN];
	struct label l[MAX_LABELS];
	size_t i, j, k;

	if (pn && pn->skip)
		return;
	if (si->kind == KVMW_KIND_HISTOGRAM && !hist_layout_known(si))
		return;
	if (si->offset + si->count > raw->nr_values[si->scope])
		return;
	if (!per_vcpu && si->scope != KVMW_REC_VM && agg_of(si) == AGG_NONE)
		return;
	if (per_vcpu && si->scope == KVMW_REC_VM)
		return;
	if (pn && pn->sum) {
		sum = find_info(raw, si->scope, pn->sum);
		if (sum && sum->count != 1)
			sum = NULL;
	}
	metric_base(base, sizeof(base), si, pn);
	snprintf(name, sizeof(name), "kvmwarden_%s_%s%s",
		 per_vcpu ? "vcpu" : "vm", base,
		 si->kind == KVMW_KIND_COUNTER ? "_total" : "");
	if (pn && pn->help)
		snprintf(help, sizeof(help), "%s", pn->help);
	else
		snprintf(help, sizeof(help), "module statistic %s (%s, %s)",
			 si->name, kvmw_rec_scope_name(si->scope), si->unit);
	if (!per_vcpu && si->scope != KVMW_REC_VM)
		snprintf(help + strlen(help), sizeof(help) - strlen(help),
			 "%s", agg_of(si) == AGG_SUM ? ", over the VM's vCPUs" :
			 agg_of(si) == AGG_MIN ? ", smallest of the vCPUs'" :
			 ", largest of the vCPUs'");
	family(w, name, type_of(si), help);

	for (i = 0; i < snap->nr_vms; i++) {
		const struct agg_vm *a = &aggs[i];
		const struct kvmw_vm *vm = a->vm;

		l[0] = a->l[0];
		l[1] = a->l[1];
		if (si->scope == KVMW_REC_VM) {
			if (vm->values)
				stat_series(w, name, si, sum, vm->values, l, 2);
			continue;
		}
		if (!per_vcpu) {
			if (si->scope == KVMW_REC_VCPU) {
				if (vm->nr_vcpus_detail)
					stat_series(w, name, si, sum, a->v, l, 2);
				continue;
			}
			for (k = 0; k < a->nr_r; k++) {
				l[2] = (struct label){ "reason",
					kvmw_reason_name(vm->vendor, a->r[k].code,
							 rn) };
				l[3] = (struct label){ "category",
					kvmw_category_name(a->r[k].category) };
				stat_series(w, name, si, sum, a->r[k].v, l, 4);
			}
			continue;
		}
		for (j = 0; j < vm->nr_vcpus_detail; j++) {
			const struct kvmw_vcpu *c = &vm->vcpus[j];

			snprintf(cpu, sizeof(cpu), "%u", c->vcpu_id);
			l[2] = (struct label){ "vcpu", cpu };
			if (si->scope == KVMW_REC_VCPU) {
				if (c->values)
					stat_series(w, name, si, sum, c->values,
						    l, 3);
				continue;
			}
			for (k = 0; k < c->u.nr_reasons; k++) {
				const struct kvmw_reason *r = &c->u.reasons[k];

				if (!r->values)
					continue;
				l[3] = (struct label){ "reason",
					kvmw_reason_name(vm->vendor, r->code,
							 rn) };
				l[4] = (struct label){ "category",
					kvmw_category_name(r->category) };
				stat_series(w, name, si, sum, r->values, l, 5);
			}
		}
	}
}

/* Families from the model ------------------------------------------- */

static void host_families(struct pw *w, const struct kvmw_snapshot *snap,
			  __u64 scrape_ns)
{
	char val[VAL_LEN], api[16];
	const struct kvmw_host *h = snap ? &snap->host : NULL;
	struct label l[4];

	family(w, "kvmwarden_up", "gauge",
	       "1 when the kvmwarden module could be read");
	sample(w, "kvmwarden_up", "", NULL, 0, NULL, NULL, snap ? "1" : "0");
	family(w, "kvmwarden_scrape_duration_seconds", "gauge",
	       "time taken to read the module for this scrape");
	sample(w, "kvmwarden_scrape_duration_seconds", "", NULL, 0, NULL, NULL,
	       fmt_seconds(val, scrape_ns));
	family(w, "kvmwarden_info", "gauge",
	       "the exporter's version, the module's API and the host's vendor");
	snprintf(api, sizeof(api), "%u", h ? h->api_version : 0);
	l[0] = (struct label){ "version", kvmw_version() };
	l[1] = (struct label){ "api_version", h ? api : "" };
	l[2] = (struct label){ "source", h && h->source ? h->source : "" };
	l[3] = (struct label){ "vendor", h ? kvmw_vendor_name(h->vendor) : "" };
	sample(w, "kvmwarden_info", "", l, 4, NULL, NULL, "1");
	if (!h)
		return;
	family(w, "kvmwarden_feature", "gauge",
	       "features (capabilities) the module announces, one series each");
	for (unsigned int b = 0; b < 64; b++) {
		const char *fn = kvmw_feature_name(1ULL << b);

		if (fn && (h->features & (1ULL << b)))
			sample(w, "kvmwarden_feature", "", NULL, 0, "name", fn,
			       "1");
	}
	family(w, "kvmwarden_vms", "gauge", "VMs tracked, gone ones included");
	sample(w, "kvmwarden_vms", "", NULL, 0, NULL, NULL,
	       fmt_u64(val, snap->nr_vms));
	family(w, "kvmwarden_untracked_exits_total", "counter",
	       "exits the module could not account to a vCPU (capacity)");
	sample(w, "kvmwarden_untracked_exits_total", "", NULL, 0, NULL, NULL,
	       fmt_u64(val, h->untracked_exits));
}

static void model_families(struct pw *w, const struct kvmw_snapshot *snap,
			   struct agg_vm *aggs)
{
	const struct kvmw_raw_stats *raw = &snap->raw;
	char val[VAL_LEN], pid[16], node[16], rn[KVMW_REASON_BUF_LEN];
	struct label l[MAX_LABELS];
	size_t i, k;

	family(w, "kvmwarden_vm_info", "gauge",
	       "a VM's VMM process and names; 1 for every VM");
	for (i = 0; i < snap->nr_vms; i++) {
		const struct agg_vm *a = &aggs[i];
		char comm[sizeof(a->vm->comm) + 1];

		memcpy(comm, a->vm->comm, sizeof(a->vm->comm));
		comm[sizeof(a->vm->comm)] = '\0';
		snprintf(pid, sizeof(pid), "%u", a->vm->pid);
		l[0] = a->l[0];
		l[1] = a->l[1];
		l[2] = (struct label){ "pid", pid };
		l[3] = (struct label){ "comm", comm };
		l[4] = (struct label){ "uuid", a->uuid };
		l[5] = (struct label){ "gone", a->vm->gone ? "1" : "0" };
		sample(w, "kvmwarden_vm_info", "", l, 6, NULL, NULL, "1");
	}

	family(w, "kvmwarden_vm_category_exits_total", "counter",
	       "VM exits by vendor-neutral category (overflow exits as other)");
	for (i = 0; i < snap->nr_vms; i++) {
		const struct kvmw_vm *vm = aggs[i].vm;

		if (!vm->nr_vcpus_detail)
			continue;
		for (k = 0; k < KVMW_NR_CATEGORIES; k++)
			sample(w, "kvmwarden_vm_category_exits_total", "",
			       aggs[i].l, 2, "category", kvmw_category_name(k),
			       fmt_u64(val, vm->total.categories[k]));
	}

	/* Without self-describing statistics: the exits of the model. */
	if (!raw->nr) {
		family(w, "kvmwarden_vm_exits_total", "counter",
		       "VM exits by hardware exit reason");
		for (i = 0; i < snap->nr_vms; i++) {
			const struct kvmw_vm *vm = aggs[i].vm;

			for (k = 0; k < vm->total.nr_reasons; k++) {
				const struct kvmw_reason *r =
					&vm->total.reasons[k];

				l[0] = aggs[i].l[0];
				l[1] = aggs[i].l[1];
				l[2] = (struct label){ "reason",
					kvmw_reason_name(vm->vendor, r->code,
							 rn) };
				l[3] = (struct label){ "category",
					kvmw_category_name(r->category) };
				sample(w, "kvmwarden_vm_exits_total", "", l, 4,
				       NULL, NULL, fmt_u64(val, r->count));
			}
		}
	}

	if (!(snap->host.features & KVMW_FEAT_MEM_NUMA))
		return;
	family(w, "kvmwarden_vm_memory_resident_bytes", "gauge",
	       "resident guest memory by NUMA node, estimated from the last "
	       "sampling pass (samples x stride x page size)");
	for (i = 0; i < snap->nr_vms; i++) {
		const struct kvmw_mem *m = &aggs[i].vm->mem;
		__u64 per = m->stride * w->page_size;

		if (!m->passes || !m->node)
			continue;
		for (k = 0; k <= snap->host.nr_nodes; k++) {
			__u64 s = k < snap->host.nr_nodes ? m->node[k] :
				  m->node_unknown;

			if (k < snap->host.nr_nodes)
				snprintf(node, sizeof(node), "%zu", k);
			else
				snprintf(node, sizeof(node), "unknown");
			sample(w, "kvmwarden_vm_memory_resident_bytes", "",
			       aggs[i].l, 2, "node", node,
			       fmt_u64(val, per && s > ULLONG_MAX / per ?
				       ULLONG_MAX : s * per));
		}
	}
}

int kvmw_prom_write(FILE *f, const struct kvmw_snapshot *snap,
		    const struct kvmw_prom_opts *o, __u64 scrape_ns)
{
	struct pw w = { .f = f, .o = o, .page_size = o->page_size };
	struct agg_vm *aggs = NULL;
	size_t i, nr = 0;
	int ret = 0;

	if (!w.page_size) {
		long ps = sysconf(_SC_PAGESIZE);

		w.page_size = ps > 0 ? (unsigned long)ps : 4096;
	}
	host_families(&w, snap, scrape_ns);
	if (!snap)
		goto out;
	aggs = calloc(snap->nr_vms ? snap->nr_vms : 1, sizeof(*aggs));
	if (!aggs)
		return -ENOMEM;
	for (nr = 0; nr < snap->nr_vms; nr++) {
		ret = agg_build(&aggs[nr], snap, &snap->vms[nr], o->proc);
		if (ret) {
			nr++;
			goto out;
		}
	}
	model_families(&w, snap, aggs);
	for (i = 0; i < snap->raw.nr; i++)
		stat_family(&w, snap, aggs, &snap->raw.infos[i], false);
	if (o->per_vcpu)
		for (i = 0; i < snap->raw.nr; i++)
			stat_family(&w, snap, aggs, &snap->raw.infos[i], true);
out:
	for (i = 0; i < nr; i++)
		agg_free(&aggs[i]);
	free(aggs);
	if (!ret && (fflush(f) || ferror(f)))
		ret = -EIO;
	return ret;
}

int kvmw_prom_scrape(struct kvmw_source *src, const struct kvmw_prom_opts *o,
		     char **buf, size_t *len)
{
	struct kvmw_snapshot snap;
	__u64 t0 = kvmw_now_ns();
	bool ok;
	FILE *f;
	int ret;

	*buf = NULL;
	*len = 0;
	ok = !kvmw_snapshot_take(src, NULL, 0, true, &snap);
	f = open_memstream(buf, len);
	if (!f) {
		if (ok)
			kvmw_snapshot_free(&snap);
		return -ENOMEM;
	}
	ret = kvmw_prom_write(f, ok ? &snap : NULL, o, kvmw_now_ns() - t0);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ok)
		kvmw_snapshot_free(&snap);
	if (ret) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return ret;
}

int kvmw_prom_textfile(struct kvmw_source *src,
		       const struct kvmw_prom_opts *o, const char *path)
{
	size_t plen = strlen(path), len, done = 0;
	char *tmp, *buf;
	int fd, ret;

	tmp = malloc(plen + 16);
	if (!tmp)
		return -ENOMEM;
	/* node_exporter reads *.prom only: the temporary name is not one. */
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	ret = kvmw_prom_scrape(src, o, &buf, &len);
	if (ret) {
		free(tmp);
		return ret;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += n;
	}
	/* Readable by the collector, like a file written with umask 022. */
	if (!ret && fchmod(fd, 0644))
		ret = -errno;
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
out:
	free(buf);
	free(tmp);
	return ret;
}
