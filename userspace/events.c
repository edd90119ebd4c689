// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event records: decoding and output (see events.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "compiler.h"
#include "events.h"
#include "format.h"
#include "json.h"

_Static_assert(offsetof(struct kvmw_event, type) + sizeof(__u16) == 8,
	       "size, version and type make the first 8 bytes of a record");

ssize_t kvmw_event_decode(const void *buf, size_t len, struct kvmw_event *ev,
			  bool *known)
{
	struct kvmw_event head;
	size_t n;

	memset(ev, 0, sizeof(*ev));
	*known = false;
	/* size, version and type are where they are in every version. */
	if (len < offsetof(struct kvmw_event, seq))
		return -EPROTO;
	memcpy(&head, buf, offsetof(struct kvmw_event, seq));
	if (head.size < KVMW_EVENT_SIZE_VER0 || head.size > len)
		return -EPROTO;
	if (head.version != KVMW_EVENT_VERSION) {
		ev->size = head.size;
		ev->version = head.version;
		ev->type = head.type;
		return head.size;
	}
	n = head.size < sizeof(*ev) ? head.size : sizeof(*ev);
	memcpy(ev, buf, n);
	*known = true;
	return head.size;
}

const char *kvmw_event_type_name(__u16 type)
{
	switch (type) {
	case KVMW_EVENT_VM_NEW:
		return "vm_new";
	case KVMW_EVENT_VM_GONE:
		return "vm_gone";
	case KVMW_EVENT_VCPU_NEW:
		return "vcpu_new";
	default:
		return NULL;
	}
}

/* The final totals of VM_GONE: data[] index, name, a time or a count. */
static const struct {
	unsigned int idx;
	const char *text;
	const char *json;
	bool ns;
	__u64 feature;	/* 0: always measured */
} gone_totals[] = {
	{ KVMW_EVENT_GONE_EXITS, "exits", "exits", false, 0 },
	{ KVMW_EVENT_GONE_ENTRIES, "entries", "entries", false, 0 },
	{ KVMW_EVENT_GONE_GUEST_NS, "guest", "guest_ns", true,
	  KVMW_FEAT_LATENCY },
	{ KVMW_EVENT_GONE_OVERHEAD_NS, "overhead", "overhead_ns", true,
	  KVMW_FEAT_LATENCY },
	{ KVMW_EVENT_GONE_IDLE_NS, "idle", "idle_ns", true,
	  KVMW_FEAT_LATENCY },
	{ KVMW_EVENT_GONE_USER_NS, "user", "user_ns", true,
	  KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS },
	{ KVMW_EVENT_GONE_FAULTS, "faults", "faults", false,
	  KVMW_FEAT_FAULTS },
	{ KVMW_EVENT_GONE_UNTIMED, "untimed", "untimed_exits", false,
	  KVMW_FEAT_LATENCY },
};

static bool measured(__u64 features, __u64 need)
{
	return (features & need) == need;
}

static void print_text(FILE *f, const struct kvmw_event *ev, __u64 features)
{
	const char *name = kvmw_event_type_name(ev->type);
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
		(uint64_t)ev->seq, (uint64_t)ev->vm_id, ev->vmm_pid);
	switch (ev->type) {
	case KVMW_EVENT_VM_NEW:
		fprintf(f, " tid=%u vcpus=%u", ev->tid, ev->nr_vcpus);
		break;
	case KVMW_EVENT_VCPU_NEW:
		fprintf(f, " vcpu=%u tid=%u vcpus=%u", ev->vcpu_id, ev->tid,
			ev->nr_vcpus);
		break;
	case KVMW_EVENT_VM_GONE:
		fprintf(f, " vcpus=%u", ev->nr_vcpus);
		for (i = 0; i < ARRAY_SIZE(gone_totals); i++) {
			__u64 v = ev->data[gone_totals[i].idx];

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
		fputs(" (unknown event type, skipped)", f);
		break;
	}
	fputc('\n', f);
}

static void print_json(FILE *f, const struct kvmw_event *ev, __u64 features)
{
	const char *name = kvmw_event_type_name(ev->type);
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
	kvmw_json_kv_u64(&j, "vmm_pid", ev->vmm_pid);
	kvmw_json_kv_u64(&j, "vcpu_id", ev->vcpu_id);
	kvmw_json_kv_u64(&j, "tid", ev->tid);
	kvmw_json_kv_u64(&j, "nr_vcpus", ev->nr_vcpus);
	kvmw_json_kv_u64(&j, "lost", ev->lost);
	if (ev->type == KVMW_EVENT_VM_GONE) {
		kvmw_json_key(&j, "totals");
		kvmw_json_begin_object(&j);
		for (i = 0; i < ARRAY_SIZE(gone_totals); i++) {
			kvmw_json_key(&j, gone_totals[i].json);
			if (measured(features, gone_totals[i].feature))
				kvmw_json_u64(&j, ev->data[gone_totals[i].idx]);
			else
				kvmw_json_null(&j);
		}
		kvmw_json_end_object(&j);
	} else if (!name) {
		/* Unknown to this tool: the numbers as they came. */
		kvmw_json_key(&j, "data");
		kvmw_json_u64_array(&j, ev->data, ARRAY_SIZE(ev->data));
	}
	kvmw_json_end_object(&j);
	kvmw_json_finish(&j);
}

int kvmw_print_event(FILE *f, const struct kvmw_event *ev, __u64 features,
		     bool json)
{
	if (json)
		print_json(f, ev, features);
	else
		print_text(f, ev, features);
	return ferror(f) ? -EIO : 0;
}

int kvmw_print_events_lost(FILE *f, const struct kvmw_event *ev, bool json)
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
