// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events as lines of text or JSON (see events.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "compiler.h"
#include "events.h"
#include "format.h"
#include "json.h"

/* The final totals of VM_GONE: where, name, a time or a count. */
static const struct {
	size_t off;
	const char *text;
	const char *json;
	bool ns;
	__u64 feature;	/* 0: always measured */
} gone_totals[] = {
#define T(m)	offsetof(struct kvmw_ev_totals, m)
	{ T(exits), "exits", "exits", false, 0 },
	{ T(entries), "entries", "entries", false, 0 },
	{ T(guest_ns), "guest", "guest_ns", true,
	  KVMW_FEAT_LATENCY },
	{ T(overhead_ns), "overhead", "overhead_ns", true,
	  KVMW_FEAT_LATENCY },
	{ T(idle_ns), "idle", "idle_ns", true,
	  KVMW_FEAT_LATENCY },
	{ T(user_ns), "user", "user_ns", true,
	  KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS },
	{ T(faults), "faults", "faults", false,
	  KVMW_FEAT_FAULTS },
	{ T(untimed_exits), "untimed", "untimed_exits", false,
	  KVMW_FEAT_LATENCY },
#undef T
};

static __u64 total(const struct kvmw_ev *ev, unsigned int i)
{
	return *(const __u64 *)((const char *)&ev->totals + gone_totals[i].off);
}

static bool measured(__u64 features, __u64 need)
{
	return (features & need) == need;
}

static bool is_budget(__u32 type)
{
	return type >= KVMW_EV_BUDGET_SET && type <= KVMW_EV_THROTTLE_END;
}

/* The vCPU whose thread an event names: the guard's and the first park. */
static bool names_vcpu(__u32 type)
{
	return type == KVMW_EV_BUDGET_GUARD || type == KVMW_EV_THROTTLE_START;
}

/* The window numbers: the guard's and the end of throttling. */
static bool has_window(__u32 type)
{
	return type == KVMW_EV_BUDGET_GUARD || type == KVMW_EV_THROTTLE_END;
}

static void print_budget_text(FILE *f, const struct kvmw_ev *ev)
{
	const struct kvmw_ev_budget *b = &ev->budget;
	const char *mode = kvmw_budget_mode_name(b->mode);
	char cats[128], t1[KVMW_NS_BUF_LEN], t2[KVMW_NS_BUF_LEN];

	if (names_vcpu(ev->type))
		fprintf(f, " vcpu=%u tid=%u", ev->vcpu_id, ev->tid);
	if (mode)
		fprintf(f, " mode=%s", mode);
	else
		fprintf(f, " mode=%u", b->mode);
	fprintf(f, " buckets=%u categories=%s rate=%" PRIu64 " burst=%" PRIu64,
		b->nr_buckets, kvmw_fmt_categories(cats, sizeof(cats),
						   b->categories),
		(uint64_t)b->rate, (uint64_t)b->burst);
	if (b->rule)
		fprintf(f, " default_rule=%u", b->rule - 1);
	if (has_window(ev->type))
		fprintf(f, " parked=%s window=%s", kvmw_fmt_ns(b->parked_ns, t1),
			kvmw_fmt_ns(b->window_ns, t2));
}

static void print_budget_json(struct kvmw_json *j, const struct kvmw_ev *ev)
{
	const struct kvmw_ev_budget *b = &ev->budget;
	const char *mode = kvmw_budget_mode_name(b->mode);
	char cats[128];

	kvmw_json_key(j, "budget");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "mode");
	if (mode)
		kvmw_json_string(j, mode);
	else
		kvmw_json_null(j);
	kvmw_json_kv_u64(j, "nr_buckets", b->nr_buckets);
	kvmw_json_key(j, "categories");
	kvmw_json_string(j, kvmw_fmt_categories(cats, sizeof(cats),
						b->categories));
	kvmw_json_kv_u64(j, "rate", b->rate);
	kvmw_json_kv_u64(j, "burst", b->burst);
	kvmw_json_key(j, "default_rule");
	if (b->rule)
		kvmw_json_u64(j, b->rule - 1);
	else
		kvmw_json_null(j);
	if (has_window(ev->type)) {
		kvmw_json_kv_u64(j, "parked_ns", b->parked_ns);
		kvmw_json_kv_u64(j, "window_ns", b->window_ns);
	}
	kvmw_json_end_object(j);
}

static bool is_numa(__u32 type)
{
	return type >= KVMW_EV_NUMA_MOVE && type <= KVMW_EV_NUMA_CLEAR;
}

/* A node number, or "-" for KVMW_NUMA_NODE_NONE. */
static void print_node(FILE *f, const char *key, __u32 node)
{
	if (node == KVMW_NUMA_NODE_NONE)
		fprintf(f, " %s=-", key);
	else
		fprintf(f, " %s=%u", key, node);
}

static void print_numa_text(FILE *f, const struct kvmw_ev *ev)
{
	const struct kvmw_ev_numa *n = &ev->numa;
	const char *pol = kvmw_numa_policy_name(n->policy);
	const char *cause = kvmw_numa_cause_name(n->cause);
	char nodes[128];

	if (ev->type == KVMW_EV_NUMA_MOVE || ev->type == KVMW_EV_NUMA_CONFLICT)
		fprintf(f, " tid=%u", ev->tid);
	if (pol)
		fprintf(f, " policy=%s", pol);
	else
		fprintf(f, " policy=%u", n->policy);
	if (n->flags & KVMW_NUMA_F_STRICT)
		fputs(" strict", f);
	if (cause)
		fprintf(f, " cause=%s", cause);
	else
		fprintf(f, " cause=%u", n->cause);
	print_node(f, "from", n->from_node);
	print_node(f, "to", n->to_node);
	fprintf(f, " nodes=%s local=%.1f%% moves=%" PRIu64,
		n->nodes ? kvmw_fmt_nodelist(nodes, sizeof(nodes), &n->nodes, 1) :
		"-", n->local_pml / 10.0, (uint64_t)n->moves);
}

static void json_node(struct kvmw_json *j, const char *key, __u32 node)
{
	kvmw_json_key(j, key);
	if (node == KVMW_NUMA_NODE_NONE)
		kvmw_json_null(j);
	else
		kvmw_json_u64(j, node);
}

static void print_numa_json(struct kvmw_json *j, const struct kvmw_ev *ev)
{
	const struct kvmw_ev_numa *n = &ev->numa;
	const char *pol = kvmw_numa_policy_name(n->policy);
	const char *cause = kvmw_numa_cause_name(n->cause);
	unsigned int b;

	kvmw_json_key(j, "numa");
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "policy");
	if (pol)
		kvmw_json_string(j, pol);
	else
		kvmw_json_null(j);
	kvmw_json_key(j, "strict");
	kvmw_json_bool(j, n->flags & KVMW_NUMA_F_STRICT);
	kvmw_json_key(j, "cause");
	if (cause)
		kvmw_json_string(j, cause);
	else
		kvmw_json_null(j);
	json_node(j, "from_node", n->from_node);
	json_node(j, "to_node", n->to_node);
	kvmw_json_key(j, "nodes");
	kvmw_json_begin_array(j);
	for (b = 0; b < 64; b++)
		if (n->nodes & (1ULL << b))
			kvmw_json_u64(j, b);
	kvmw_json_end_array(j);
	kvmw_json_kv_u64(j, "local_permille", n->local_pml);
	kvmw_json_kv_u64(j, "moves", n->moves);
	kvmw_json_end_object(j);
}

static void print_text(FILE *f, const struct kvmw_ev *ev, __u64 features)
{
	const char *name = kvmw_ev_type_name(ev->type);
	char buf[KVMW_NS_BUF_LEN];
	unsigned int i;

	fprintf(f, "%" PRIu64 ".%06" PRIu64 " ",
		(uint64_t)(ev->time_ns / 1000000000ULL),
		(uint64_t)(ev->time_ns % 1000000000ULL / 1000));
	if (name)
		fputs(name, f);
	else
		fprintf(f, "type=%u", ev->type);
	fprintf(f, " seq=%" PRIu64 " vm=%" PRIu64 " pid=%u",
		(uint64_t)ev->seq, (uint64_t)ev->vm_id, ev->pid);
	switch (ev->type) {
	case KVMW_EV_VM_NEW:
		fprintf(f, " tid=%u vcpus=%u", ev->tid, ev->nr_vcpus);
		break;
	case KVMW_EV_VCPU_NEW:
		fprintf(f, " vcpu=%u tid=%u vcpus=%u", ev->vcpu_id, ev->tid,
			ev->nr_vcpus);
		break;
	case KVMW_EV_VM_GONE:
		fprintf(f, " vcpus=%u", ev->nr_vcpus);
		for (i = 0; i < ARRAY_SIZE(gone_totals); i++) {
			__u64 v = total(ev, i);

			fprintf(f, " %s=", gone_totals[i].text);
			if (!measured(features, gone_totals[i].feature))
				fputc('-', f);
			else if (gone_totals[i].ns)
				fputs(kvmw_fmt_ns(v, buf), f);
			else
				fprintf(f, "%" PRIu64, (uint64_t)v);
		}
		break;
	default:
		if (is_budget(ev->type))
			print_budget_text(f, ev);
		else if (is_numa(ev->type))
			print_numa_text(f, ev);
		else
			fputs(" (unknown event type, skipped)", f);
		break;
	}
	fputc('\n', f);
}

static void print_json(FILE *f, const struct kvmw_ev *ev, __u64 features)
{
	const char *name = kvmw_ev_type_name(ev->type);
	struct kvmw_json j;
	unsigned int i;

	kvmw_json_init(&j, f, false);
	kvmw_json_begin_object(&j);
	kvmw_json_kv_u64(&j, "seq", ev->seq);
	kvmw_json_kv_u64(&j, "time_ns", ev->time_ns);
	kvmw_json_key(&j, "type");
	if (name)
		kvmw_json_string(&j, name);
	else
		kvmw_json_null(&j);
	kvmw_json_kv_u64(&j, "type_code", ev->type);
	kvmw_json_kv_u64(&j, "vm_id", ev->vm_id);
	kvmw_json_kv_u64(&j, "vmm_pid", ev->pid);
	kvmw_json_kv_u64(&j, "vcpu_id", ev->vcpu_id);
	kvmw_json_kv_u64(&j, "tid", ev->tid);
	kvmw_json_kv_u64(&j, "nr_vcpus", ev->nr_vcpus);
	kvmw_json_kv_u64(&j, "lost", ev->lost);
	if (ev->type == KVMW_EV_VM_GONE) {
		kvmw_json_key(&j, "totals");
		kvmw_json_begin_object(&j);
		for (i = 0; i < ARRAY_SIZE(gone_totals); i++) {
			kvmw_json_key(&j, gone_totals[i].json);
			if (measured(features, gone_totals[i].feature))
				kvmw_json_u64(&j, total(ev, i));
			else
				kvmw_json_null(&j);
		}
		kvmw_json_end_object(&j);
	} else if (is_budget(ev->type)) {
		print_budget_json(&j, ev);
	} else if (is_numa(ev->type)) {
		print_numa_json(&j, ev);
	} else if (!name) {
		/* Unknown to this tool: the numbers as they came. */
		kvmw_json_key(&j, "data");
		kvmw_json_u64_array(&j, ev->data, ARRAY_SIZE(ev->data));
	}
	kvmw_json_end_object(&j);
	kvmw_json_finish(&j);
}

int kvmw_print_event(FILE *f, const struct kvmw_ev *ev, __u64 features,
		     bool json)
{
	if (json)
		print_json(f, ev, features);
	else
		print_text(f, ev, features);
	return ferror(f) ? -EIO : 0;
}

int kvmw_print_events_lost(FILE *f, const struct kvmw_ev *ev, bool json)
{
	struct kvmw_json j;

	if (!json) {
		fprintf(f, "lost %" PRIu64 " event%s\n", (uint64_t)ev->lost,
			ev->lost == 1 ? "" : "s");
		return ferror(f) ? -EIO : 0;
	}
	kvmw_json_init(&j, f, false);
	kvmw_json_begin_object(&j);
	kvmw_json_key(&j, "type");
	kvmw_json_string(&j, "lost");
	kvmw_json_kv_u64(&j, "lost", ev->lost);
	kvmw_json_kv_u64(&j, "before_seq", ev->seq);
	kvmw_json_end_object(&j);
	kvmw_json_finish(&j);
	return ferror(f) ? -EIO : 0;
}
