// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event stream: decoding records (longer ones, other versions,
 * malformed ones), the text and JSON lines of every type (unknown ones,
 * lost events, totals of a module without some features), and the events
 * command on the fake module: -n, --timeout, SIGINT/SIGTERM, read errors,
 * reads of one record at a time and usage errors.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "helpers.h"
#include "kvmw_dev.h"
#include "json_check.h"
#include "tap.h"

#include <kvmwarden/categories.h>

#define NS	1000000000ULL

static struct kvmw_event ev_make(__u16 type, __u64 seq, __u64 time_ns,
				 __u64 vm_id)
{
	struct kvmw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.size = sizeof(ev);
	ev.version = KVMW_EVENT_VERSION;
	ev.type = type;
	ev.seq = seq;
	ev.time_ns = time_ns;
	ev.vm_id = vm_id;
	ev.vmm_pid = 4242;
	return ev;
}

static struct kvmw_event ev_gone(void)
{
	struct kvmw_event ev = ev_make(KVMW_EVENT_VM_GONE, 9,
				       20 * NS + 1500, 3);

	ev.lost = 5;
	ev.nr_vcpus = 2;
	ev.data[KVMW_EVENT_GONE_EXITS] = 1000;
	ev.data[KVMW_EVENT_GONE_ENTRIES] = 999;
	ev.data[KVMW_EVENT_GONE_GUEST_NS] = 1500000000;
	ev.data[KVMW_EVENT_GONE_OVERHEAD_NS] = 1834000;
	ev.data[KVMW_EVENT_GONE_IDLE_NS] = 135900000;
	ev.data[KVMW_EVENT_GONE_USER_NS] = 400000;
	ev.data[KVMW_EVENT_GONE_FAULTS] = 50;
	ev.data[KVMW_EVENT_GONE_UNTIMED] = 1;
	return ev;
}

/*
 * The stream of the tests: VM 3 appears and gets a second vCPU, an
 * event of a type this tool does not know, 5 events lost, VM 3 goes;
 * VM 4 appears in a longer record (a newer module), a record of another
 * version, VM 5 appears.
 */
static void push_stream(struct fake_dev *f)
{
	unsigned char big[sizeof(struct kvmw_event) + 16];
	struct kvmw_event ev;

	ev = ev_make(KVMW_EVENT_VM_NEW, 1, 12 * NS + 345678901, 3);
	ev.tid = 4250;
	ev.nr_vcpus = 1;
	fake_push_event(f, &ev);
	ev = ev_make(KVMW_EVENT_VCPU_NEW, 2, 12 * NS + 500000000, 3);
	ev.vcpu_id = 1;
	ev.tid = 4251;
	ev.nr_vcpus = 2;
	fake_push_event(f, &ev);
	ev = ev_make(99, 3, 13 * NS, 3);
	ev.data[0] = 77;
	ev.data[7] = 88;
	fake_push_event(f, &ev);
	ev = ev_gone();
	fake_push_event(f, &ev);

	ev = ev_make(KVMW_EVENT_VM_NEW, 10, 21 * NS, 4);
	ev.size = sizeof(big);
	ev.tid = 4300;
	ev.nr_vcpus = 1;
	memcpy(big, &ev, sizeof(ev));
	memset(big + sizeof(ev), 0xff, sizeof(big) - sizeof(ev));
	fake_push_raw(f, big, sizeof(big));

	ev = ev_make(KVMW_EVENT_VM_NEW, 11, 22 * NS, 99);
	ev.version = KVMW_EVENT_VERSION + 1;
	fake_push_event(f, &ev);

	ev = ev_make(KVMW_EVENT_VM_NEW, 12, 23 * NS, 5);
	ev.tid = 4400;
	ev.nr_vcpus = 1;
	fake_push_event(f, &ev);
}

static const char stream_text[] =
	"12.345678 vm_new seq=1 vm=3 pid=4242 tid=4250 vcpus=1\n"
	"12.500000 vcpu_new seq=2 vm=3 pid=4242 vcpu=1 tid=4251 vcpus=2\n"
	"13.000000 type=99 seq=3 vm=3 pid=4242 (unknown event type, skipped)\n"
	"lost 5 events\n"
	"20.000001 vm_gone seq=9 vm=3 pid=4242 vcpus=2 exits=1000 entries=999 "
	"guest=1.50s overhead=1.83ms idle=136ms user=400us faults=50 untimed=1\n"
	"21.000000 vm_new seq=10 vm=4 pid=4242 tid=4300 vcpus=1\n"
	"23.000000 vm_new seq=12 vm=5 pid=4242 tid=4400 vcpus=1\n";

static const char stream_json[] =
	"{\"seq\":1,\"time_ns\":12345678901,\"type\":\"vm_new\",\"type_code\":1,\"vm_id\":3,\"vmm_pid\":4242,\"vcpu_id\":0,\"tid\":4250,\"nr_vcpus\":1,\"lost\":0}\n"
	"{\"seq\":2,\"time_ns\":12500000000,\"type\":\"vcpu_new\",\"type_code\":3,\"vm_id\":3,\"vmm_pid\":4242,\"vcpu_id\":1,\"tid\":4251,\"nr_vcpus\":2,\"lost\":0}\n"
	"{\"seq\":3,\"time_ns\":13000000000,\"type\":null,\"type_code\":99,\"vm_id\":3,\"vmm_pid\":4242,\"vcpu_id\":0,\"tid\":0,\"nr_vcpus\":0,\"lost\":0,\"data\":[77,0,0,0,0,0,0,88]}\n"
	"{\"type\":\"lost\",\"lost\":5,\"before_seq\":9}\n"
	"{\"seq\":9,\"time_ns\":20000001500,\"type\":\"vm_gone\",\"type_code\":2,\"vm_id\":3,\"vmm_pid\":4242,\"vcpu_id\":0,\"tid\":0,\"nr_vcpus\":2,\"lost\":5,\"totals\":{\"exits\":1000,\"entries\":999,\"guest_ns\":1500000000,\"overhead_ns\":1834000,\"idle_ns\":135900000,\"user_ns\":400000,\"faults\":50,\"untimed_exits\":1}}\n"
	"{\"seq\":10,\"time_ns\":21000000000,\"type\":\"vm_new\",\"type_code\":1,\"vm_id\":4,\"vmm_pid\":4242,\"vcpu_id\":0,\"tid\":4300,\"nr_vcpus\":1,\"lost\":0}\n"
	"{\"seq\":12,\"time_ns\":23000000000,\"type\":\"vm_new\",\"type_code\":1,\"vm_id\":5,\"vmm_pid\":4242,\"vcpu_id\":0,\"tid\":4400,\"nr_vcpus\":1,\"lost\":0}\n";

static void check_out(const struct run *r, const char *want, const char *what)
{
	CHECK(r->out && !strcmp(r->out, want), "%s", what);
	if (!r->out || strcmp(r->out, want))
		tap_diag("got:\n%s\nwant:\n%s", r->out ? r->out : "(null)",
			 want);
}

static void test_decode(void)
{
	unsigned char buf[2 * sizeof(struct kvmw_event)];
	struct kvmw_event ev = ev_make(KVMW_EVENT_VM_NEW, 7, 1, 2);
	struct kvmw_ev got;

	memcpy(buf, &ev, sizeof(ev));
	CHECK(kvmw_dev_event_decode(buf, sizeof(ev), &got) ==
	      KVMW_EVENT_SIZE_VER0 && got.known && got.seq == 7 &&
	      got.vm_id == 2 && got.type == KVMW_EV_VM_NEW && got.pid == 4242,
	      "a VER0 record: 120 bytes, every field");
	ev.size = sizeof(ev) + 8;
	memcpy(buf, &ev, sizeof(ev));
	memset(buf + sizeof(ev), 0xee, 8);
	CHECK(kvmw_dev_event_decode(buf, sizeof(ev) + 8, &got) ==
	      KVMW_EVENT_SIZE_VER0 + 8 && got.known && got.seq == 7,
	      "a longer record: its own size taken, known fields read");
	CHECK(kvmw_dev_event_decode(buf, sizeof(ev) + 7, &got) == -EPROTO,
	      "a record longer than what was read: EPROTO");
	ev.size = KVMW_EVENT_SIZE_VER0 - 8;
	memcpy(buf, &ev, sizeof(ev));
	CHECK(kvmw_dev_event_decode(buf, sizeof(ev), &got) == -EPROTO,
	      "a record shorter than VER0: EPROTO");
	CHECK(kvmw_dev_event_decode(buf, 7, &got) == -EPROTO,
	      "not even a header: EPROTO");
	ev.size = 200;
	ev.version = 2;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &ev, sizeof(ev));
	CHECK(kvmw_dev_event_decode(buf, 200, &got) == 200 && !got.known &&
	      got.version == 2 && got.seq == 0,
	      "another version: skipped whole, layout not trusted");
	ev = ev_gone();
	memcpy(buf, &ev, sizeof(ev));
	CHECK(kvmw_dev_event_decode(buf, sizeof(ev), &got) > 0 &&
	      got.type == KVMW_EV_VM_GONE && got.totals.exits == 1000 &&
	      got.totals.guest_ns == 1500000000 &&
	      got.totals.untimed_exits == 1 && got.lost == 5,
	      "vm_gone: the final totals in the model");
	CHECK(kvmw_ev_type_name(KVMW_EV_VM_NEW) &&
	      !strcmp(kvmw_ev_type_name(KVMW_EV_VM_GONE), "vm_gone") &&
	      !strcmp(kvmw_ev_type_name(KVMW_EV_BUDGET_SET), "budget_set") &&
	      !strcmp(kvmw_ev_type_name(KVMW_EV_THROTTLE_END),
		      "throttle_end") &&
	      !kvmw_ev_type_name(0) && !kvmw_ev_type_name(99) &&
	      !strcmp(kvmw_ev_type_name(KVMW_EV_NUMA_CLEAR), "numa_clear"),
	      "type names; 0 and 99 unknown");
}

/*
 * The budget events of one VM: set by default slot 2, throttled from its
 * vCPU 1, the guard trips into audit mode, throttling ends, cleared.
 */
static void push_budget(struct fake_dev *f)
{
	struct kvmw_event ev;

	ev = ev_make(KVMW_EVENT_BUDGET_SET, 1, 30 * NS, 6);
	ev.nr_vcpus = 2;
	ev.budget.mode = KVMW_BUDGET_THROTTLE;
	ev.budget.nr_buckets = 2;
	ev.budget.categories = 1ULL << KVMW_CAT_CPUID;
	ev.budget.rate = 200;
	ev.budget.burst = 20;
	ev.budget.rule = 3;
	fake_push_event(f, &ev);
	ev.type = KVMW_EVENT_BUDGET_THROTTLE_START;
	ev.seq = 2;
	ev.time_ns = 30 * NS + 1000000;
	ev.vcpu_id = 1;
	ev.tid = 4251;
	fake_push_event(f, &ev);
	ev.type = KVMW_EVENT_BUDGET_GUARD;
	ev.seq = 3;
	ev.time_ns = 31 * NS;
	ev.budget.mode = KVMW_BUDGET_AUDIT;
	ev.budget.parked_ns = 950000000;
	ev.budget.window_ns = NS;
	fake_push_event(f, &ev);
	ev.type = KVMW_EVENT_BUDGET_THROTTLE_END;
	ev.seq = 4;
	ev.time_ns = 33 * NS;
	ev.vcpu_id = 0;
	ev.tid = 0;
	ev.budget.parked_ns = 2 * NS;
	fake_push_event(f, &ev);
	ev = ev_make(KVMW_EVENT_BUDGET_CLEAR, 5, 34 * NS, 6);
	ev.budget.mode = KVMW_BUDGET_AUDIT;
	ev.budget.nr_buckets = 1;
	ev.budget.rate = 1000;
	ev.budget.burst = 100;
	fake_push_event(f, &ev);
}

static const char budget_text[] =
	"30.000000 budget_set seq=1 vm=6 pid=4242 mode=throttle buckets=2 "
	"categories=cpuid rate=200 burst=20 default_rule=2\n"
	"30.001000 throttle_start seq=2 vm=6 pid=4242 vcpu=1 tid=4251 "
	"mode=throttle buckets=2 categories=cpuid rate=200 burst=20 "
	"default_rule=2\n"
	"31.000000 budget_guard seq=3 vm=6 pid=4242 vcpu=1 tid=4251 "
	"mode=audit buckets=2 categories=cpuid rate=200 burst=20 "
	"default_rule=2 parked=950ms window=1.00s\n"
	"33.000000 throttle_end seq=4 vm=6 pid=4242 mode=audit buckets=2 "
	"categories=cpuid rate=200 burst=20 default_rule=2 parked=2.00s "
	"window=1.00s\n"
	"34.000000 budget_clear seq=5 vm=6 pid=4242 mode=audit buckets=1 "
	"categories=default rate=1000 burst=100\n";

static const char budget_json_guard[] =
	"{\"seq\":3,\"time_ns\":31000000000,\"type\":\"budget_guard\",\"type_code\":6,\"vm_id\":6,\"vmm_pid\":4242,\"vcpu_id\":1,\"tid\":4251,\"nr_vcpus\":2,\"lost\":0,\"budget\":{\"mode\":\"audit\",\"nr_buckets\":2,\"categories\":\"cpuid\",\"rate\":200,\"burst\":20,\"default_rule\":2,\"parked_ns\":950000000,\"window_ns\":1000000000}}\n";

static void test_budget_events(void)
{
	struct fake_dev f;
	struct kvmw_ev got;
	struct run r;
	char *line;
	int n = 0;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_EVENTS | KVMW_FEAT_BUDGET;
	push_budget(&f);
	CHECK(kvmw_dev_event_decode(f.ev_buf + 2 * sizeof(struct kvmw_event),
				    sizeof(struct kvmw_event), &got) > 0 &&
	      got.type == KVMW_EV_BUDGET_GUARD && got.vcpu_id == 1 &&
	      got.budget.mode == KVMW_BUDGET_AUDIT &&
	      got.budget.parked_ns == 950000000 &&
	      got.budget.window_ns == NS && got.budget.rule == 3 &&
	      got.budget.rate == 200 && got.budget.nr_buckets == 2,
	      "budget_guard: the payload in the model");
	run_cli(&r, &f.ops, "events", "-n", "5", NULL);
	CHECK(r.rc == 0, "events -n 5 of budget events: exit 0");
	check_out(&r, budget_text, "events: the budget events as text");
	run_free(&r);
	f.ev_pos = 0;
	run_cli(&r, &f.ops, "events", "--json", "-n", "5", NULL);
	CHECK(r.rc == 0, "events --json of budget events: exit 0");
	for (line = r.out; line && *line; line = strchr(line, '\n') + 1, n++)
		if (!json_valid(line, strchr(line, '\n') - line))
			break;
	CHECK(line && !*line && n == 5, "5 budget events, valid JSON lines");
	CHECK(r.out && strstr(r.out, budget_json_guard),
	      "budget_guard as JSON: payload, default rule, window");
	if (!r.out || !strstr(r.out, budget_json_guard))
		tap_diag("got:\n%s", r.out ? r.out : "(null)");
	CHECK(r.out && strstr(r.out, "\"type\":\"budget_clear\"") &&
	      strstr(r.out, "\"default_rule\":null}}"),
	      "budget_clear as JSON: set per VM, no window");
	run_free(&r);
	fake_free(&f);
}

static void test_stream(void)
{
	struct fake_dev f;
	struct run r;
	char *line;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_EVENTS | KVMW_FEAT_LATENCY |
			 KVMW_FEAT_USER_EXITS | KVMW_FEAT_FAULTS;
	push_stream(&f);
	run_cli(&r, &f.ops, "events", "-n", "6", NULL);
	CHECK(r.rc == 0, "events -n 6: exit 0");
	check_out(&r, stream_text, "events: a line per event, lost and unknown types");
	CHECK(count_of(r.err, "skipping event records of version 2") == 1,
	      "another version: warned about once");
	run_free(&r);

	/* Without -n: the queue runs dry, then SIGTERM arrives. */
	f.ev_pos = 0;
	run_cli(&r, &f.ops, "events", "--json", NULL);
	CHECK(r.rc == 0, "events --json stopped by SIGTERM: exit 0");
	check_out(&r, stream_json, "events --json: one JSON object per line");
	for (line = r.out; line && *line; line = strchr(line, '\n') + 1)
		if (!json_valid(line, strchr(line, '\n') - line))
			break;
	CHECK(line && !*line, "every JSON line is valid JSON");
	run_free(&r);

	/* One record per read(): the same lines. */
	f.ev_pos = 0;
	f.ev_read_max = sizeof(struct kvmw_event) + 16;
	f.reads = 0;
	f.ev_signal = SIGINT;
	run_cli(&r, &f.ops, "events", NULL);
	CHECK(r.rc == 0 && f.reads >= 6, "stopped by SIGINT: exit 0 (%u reads)",
	      f.reads);
	check_out(&r, stream_text, "record by record: the same lines");
	run_free(&r);
	f.ev_read_max = 0;
	f.ev_signal = 0;

	f.ev_pos = 0;
	run_cli(&r, &f.ops, "events", "-n", "2", NULL);
	CHECK(r.rc == 0 && r.out && !strncmp(r.out, stream_text, r.out_len) &&
	      count_of(r.out, "\n") == 2, "-n 2: the first two events only");
	run_free(&r);

	/* Totals the module does not measure are not shown as 0. */
	f.hs.features &= ~(KVMW_FEAT_LATENCY | KVMW_FEAT_USER_EXITS |
			   KVMW_FEAT_FAULTS);
	f.ev_pos = 0;
	run_cli(&r, &f.ops, "events", "-n", "4", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "vcpus=2 exits=1000 entries=999 guest=- overhead=- idle=- user=- faults=- untimed=-\n"),
	      "older module: vm_gone without times and faults");
	run_free(&r);
	f.ev_pos = 0;
	run_cli(&r, &f.ops, "events", "--json", "-n", "4", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "\"totals\":{\"exits\":1000,\"entries\":999,\"guest_ns\":null,\"overhead_ns\":null,\"idle_ns\":null,\"user_ns\":null,\"faults\":null,\"untimed_exits\":null}}\n"),
	      "older module: JSON totals null");
	run_free(&r);
	CHECK(f.opens == f.closes, "device closed after every run");
	fake_free(&f);
}

/* The library's read_events: batches, order, errors, feature. */
static void test_source(void)
{
	struct kvmw_ev evs[3];
	struct kvmw_source src;
	struct kvmw_event ev;
	struct fake_dev f;
	size_t nr, got = 0;
	sigset_t mask;
	int ret, calls = 0;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	fake_init(&f);
	CHECK(kvmw_source_open(&src, &kvmw_source_dev, "fake", &f.ops) == 0 &&
	      kvmw_source_read_events(&src, evs, 3, &nr, 0, &mask) ==
	      -EOPNOTSUPP && nr == 0,
	      "source without the events feature: EOPNOTSUPP");
	kvmw_source_close(&src);

	f.hs.features |= KVMW_FEAT_EVENTS;
	push_stream(&f);
	kvmw_source_open(&src, &kvmw_source_dev, "fake", &f.ops);
	CHECK(!strcmp(src.ops->name, "device"), "the device source");
	/* 7 records (one of another version) in batches of at most 3. */
	do {
		ret = kvmw_source_read_events(&src, evs, 3, &nr, 0, &mask);
		if (ret || nr > 3)
			break;
		if (!got && nr)
			CHECK(evs[0].known && evs[0].type == KVMW_EV_VM_NEW &&
			      evs[0].seq == 1 && evs[0].tid == 4250,
			      "first event decoded into the model");
		got += nr;
		calls++;
	} while (nr && calls < 10);
	CHECK(ret == 0 && got == 7 && calls >= 3,
	      "7 records in batches of 3 (%zu in %d calls)", got, calls);
	CHECK(f.reads == 1, "one read() for all of them (%u)", f.reads);

	/* A good record, then a short one: the good one first. */
	ev = ev_make(KVMW_EVENT_VM_NEW, 20, NS, 1);
	fake_push_event(&f, &ev);
	ev.size = 60;
	fake_push_raw(&f, &ev, 60);
	ret = kvmw_source_read_events(&src, evs, 3, &nr, 0, &mask);
	CHECK(ret == 0 && nr == 1 && evs[0].seq == 20,
	      "malformed record: the good one before it comes first");
	ret = kvmw_source_read_events(&src, evs, 3, &nr, 0, &mask);
	CHECK(ret == -EPROTO && nr == 0, "then EPROTO");

	f.ev_eof = true;
	ret = kvmw_source_read_events(&src, evs, 3, &nr, 0, &mask);
	CHECK(ret == -EPIPE && nr == 0, "read() returning 0: EPIPE");
	kvmw_source_close(&src);
	CHECK(f.opens == f.closes, "source closed the device");
	fake_free(&f);
}

static void test_errors(void)
{
	struct sigaction sa, int_before, term_before;
	sigset_t mask, mask_before;
	struct kvmw_event ev;
	struct fake_dev f;
	struct run r;

	sigaction(SIGINT, NULL, &int_before);
	sigaction(SIGTERM, NULL, &term_before);
	sigprocmask(SIG_SETMASK, NULL, &mask_before);
	fake_init(&f);
	run_cli(&r, &f.ops, "events", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "no event stream (no 'events' feature)") &&
	      !r.out_len, "module without events: exit 1, said why");
	run_free(&r);
	f.hs.features |= KVMW_FEAT_EVENTS;

	/* Nothing comes: --timeout ends it. */
	f.polls = 0;
	run_cli(&r, &f.ops, "events", "--timeout", "0.05", NULL);
	CHECK(r.rc == 0 && !r.out_len && !r.err_len && f.polls >= 1,
	      "--timeout 0.05 without events: exit 0, no output");
	run_free(&r);
	ev = ev_make(KVMW_EVENT_VM_NEW, 1, NS, 1);
	fake_push_event(&f, &ev);
	run_cli(&r, &f.ops, "events", "--timeout", "0", NULL);
	CHECK(r.rc == 0 && !strcmp(r.out, "1.000000 vm_new seq=1 vm=1 pid=4242 tid=0 vcpus=0\n"),
	      "--timeout 0: what is queued, then exit 0");
	run_free(&r);

	/* A spurious EAGAIN is no error; EIO is. */
	f.ev_pos = 0;
	f.ev_read_err = -EAGAIN;
	run_cli(&r, &f.ops, "events", "-n", "1", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "vm_new seq=1"),
	      "EAGAIN from read(): retried");
	run_free(&r);
	f.ev_pos = 0;
	f.ev_read_err = -EIO;
	run_cli(&r, &f.ops, "events", "-n", "1", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "read events: Input/output error"),
	      "EIO from read(): exit 1");
	run_free(&r);

	/* The stream ends. */
	f.ev_pos = f.ev_len;
	f.ev_eof = true;
	run_cli(&r, &f.ops, "events", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "read events: the event stream ended"),
	      "read() returning 0: the stream ended, exit 1");
	run_free(&r);
	f.ev_eof = false;

	/* A record shorter than VER0 after a good one. */
	f.ev_pos = 0;
	ev.size = 60;
	ev.seq = 2;
	fake_push_raw(&f, &ev, 60);
	run_cli(&r, &f.ops, "events", NULL);
	CHECK(r.rc == 1 && strstr(r.err, "malformed event record") &&
	      !strcmp(r.out, "1.000000 vm_new seq=1 vm=1 pid=4242 tid=0 vcpus=0\n"),
	      "malformed record: the good one printed, then exit 1");
	run_free(&r);
	CHECK(f.opens == f.closes, "device closed after every run");
	fake_free(&f);

	/*
	 * The handlers and the mask are as before the command (a shell
	 * may have started the tests with SIGINT ignored: compare, do not
	 * assume SIG_DFL).
	 */
	sigaction(SIGINT, NULL, &sa);
	CHECK(sa.sa_handler == int_before.sa_handler, "SIGINT handler restored");
	sigaction(SIGTERM, NULL, &sa);
	CHECK(sa.sa_handler == term_before.sa_handler,
	      "SIGTERM handler restored");
	sigprocmask(SIG_SETMASK, NULL, &mask);
	CHECK(sigismember(&mask, SIGINT) == sigismember(&mask_before, SIGINT) &&
	      sigismember(&mask, SIGTERM) ==
	      sigismember(&mask_before, SIGTERM),
	      "signal mask restored");
}

static void test_usage(void)
{
	struct fake_dev f;
	struct run r;

	fake_init(&f);
	f.hs.features |= KVMW_FEAT_EVENTS;
	run_cli(&r, &f.ops, "events", "-n", "0", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "bad count '0'"), "-n 0: usage error");
	run_free(&r);
	run_cli(&r, &f.ops, "events", "-n", "x", NULL);
	CHECK(r.rc == 2, "-n x: usage error");
	run_free(&r);
	run_cli(&r, &f.ops, "events", "--timeout", "-1", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "bad timeout '-1'"),
	      "--timeout -1: usage error");
	run_free(&r);
	run_cli(&r, &f.ops, "events", "3", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "unexpected argument '3'"),
	      "an argument: usage error");
	run_free(&r);
	run_cli(&r, &f.ops, "events", "--bogus", NULL);
	CHECK(r.rc == 2 && strstr(r.err, "unknown option '--bogus'"),
	      "unknown option: usage error");
	run_free(&r);
	CHECK(f.opens == 0, "usage errors never open the device");
	run_cli(&r, &f.ops, "events", "--help", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "Usage: kvmwarden events") &&
	      strstr(r.out, "Examples:") && strstr(r.out, "lost N events") &&
	      strstr(r.out, "SIGINT"), "events --help: usage and examples");
	run_free(&r);
	run_cli(&r, &f.ops, "--help", NULL);
	CHECK(r.rc == 0 && strstr(r.out, "  events   follow VMs") &&
	      strstr(r.out, "kvmwarden events --json -n 1"),
	      "global help lists events with an example");
	run_free(&r);
	fake_free(&f);
}

/* The real poll() and read() operations, on a pipe. */
static void test_sys_ops(void)
{
	const struct kvmw_dev_ops *ops = &kvmw_dev_sys_ops;
	char c = 0;
	sigset_t m;
	int p[2];

	if (pipe(p)) {
		CHECK(0, "pipe: %s", strerror(errno));
		return;
	}
	sigprocmask(SIG_SETMASK, NULL, &m);
	CHECK(ops->poll(NULL, p[0], 0, &m) == 0, "sys poll: empty pipe, timeout 0");
	CHECK(ops->poll(NULL, p[0], 20, &m) == 0, "sys poll: empty pipe, 20 ms");
	CHECK(write(p[1], "e", 1) == 1 && ops->poll(NULL, p[0], -1, &m) == 1,
	      "sys poll: readable");
	CHECK(ops->read(NULL, p[0], &c, 1) == 1 && c == 'e', "sys read");
	CHECK(ops->read(NULL, -1, &c, 1) == -EBADF, "sys read: -errno");
	close(p[0]);
	close(p[1]);
}

void test_events(void)
{
	tap_diag("events");
	test_sys_ops();
	test_decode();
	test_source();
	test_stream();
	test_budget_events();
	test_errors();
	test_usage();
}
