// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden test oracle: userspace side of exitcount.bpf.c.
 *
 * Loads the exit counting program through its skeleton and reads its maps
 * back for the selftests. Linked statically into test binaries that run in
 * a minimal (busybox) VM, so it depends on nothing but libbpf, libelf and
 * zlib, and mounts tracefs itself when nobody did.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/kvmwarden.h>

#include "exitcount.h"
#include "exitcount.skel.h"
#include "oracle.h"

static_assert(sizeof(struct exitcount_key) == 16, "exitcount_key has holes");
static_assert(sizeof(struct exitcount_val) == 8, "exitcount_val size");

struct kvmw_oracle {
	struct exitcount_bpf *skel;
	int counts_fd;
	int drops_fd;
};

static int libbpf_print_all(enum libbpf_print_level level, const char *fmt,
			    va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static void setup_libbpf_print(void)
{
	const char *debug = getenv("KVMW_BPF_DEBUG");

	if (debug && !strcmp(debug, "1"))
		libbpf_set_print(libbpf_print_all);
	else
		libbpf_set_print(NULL);
}

/*
 * libbpf finds tracepoint ids in tracefs, through debugfs when that is
 * mounted, else at /sys/kernel/tracing. A bare VM may have mounted
 * neither: mount tracefs then. A failure only shows later, at attach.
 */
static void ensure_tracefs(void)
{
	if (!access("/sys/kernel/debug/tracing", F_OK) ||
	    !access("/sys/kernel/tracing/events", F_OK))
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    getenv("KVMW_BPF_DEBUG"))
		fprintf(stderr, "kvmw_oracle: mounting tracefs: %s\n",
			strerror(errno));
}

int kvmw_oracle_open(struct kvmw_oracle **out)
{
	struct kvmw_oracle *o;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;

	setup_libbpf_print();
	ensure_tracefs();

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;

	o->skel = exitcount_bpf__open();
	if (!o->skel) {
		err = errno ? -errno : -EINVAL;
		goto err_free;
	}

	err = exitcount_bpf__load(o->skel);
	if (err)
		goto err_destroy;

	err = exitcount_bpf__attach(o->skel);
	if (err)
		goto err_destroy;

	o->counts_fd = bpf_map__fd(o->skel->maps.exit_counts);
	o->drops_fd = bpf_map__fd(o->skel->maps.exit_drops);
	*out = o;
	return 0;

err_destroy:
	exitcount_bpf__destroy(o->skel);
err_free:
	free(o);
	return err < 0 ? err : -EINVAL;
}

/*
 * Walk the count map, calling fn for every entry of tgid. Entries are
 * never deleted, so the walk cannot restart; a key inserted meanwhile may
 * or may not be seen. Returns the number of entries of tgid or -errno.
 */
static int walk_tgid(struct kvmw_oracle *o, unsigned int tgid,
		     void (*fn)(const struct exitcount_key *key, __u64 count,
				void *arg),
		     void *arg)
{
	struct exitcount_key key, next;
	struct exitcount_key *prev = NULL;
	struct exitcount_val val;
	int nr = 0;
	int err;

	if (!o)
		return -EINVAL;

	for (;;) {
		err = bpf_map_get_next_key(o->counts_fd, prev, &next);
		if (err == -ENOENT)
			break;
		if (err)
			return err;
		key = next;
		prev = &key;

		if (key.tgid != tgid)
			continue;
		err = bpf_map_lookup_elem(o->counts_fd, &key, &val);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		fn(&key, val.count, arg);
		nr++;
	}
	return nr;
}

struct count_arg {
	unsigned int tid;
	unsigned int reason;
	unsigned long long sum;
};

static void count_cb(const struct exitcount_key *key, __u64 count, void *arg)
{
	struct count_arg *c = arg;

	if (key->tid == c->tid && key->reason == c->reason)
		c->sum += count;
}

unsigned long long kvmw_oracle_count(struct kvmw_oracle *o, unsigned int tgid,
				     unsigned int tid, unsigned int reason)
{
	struct count_arg c = { .tid = tid, .reason = reason };

	if (walk_tgid(o, tgid, count_cb, &c) < 0)
		return 0;
	return c.sum;
}

struct foreach_arg {
	void (*cb)(unsigned int tid, unsigned int vcpu_id, unsigned int reason,
		   unsigned long long count, void *arg);
	void *arg;
};

static void foreach_cb(const struct exitcount_key *key, __u64 count,
		       void *arg)
{
	struct foreach_arg *f = arg;

	f->cb(key->tid, key->vcpu_id, key->reason, count, f->arg);
}

int kvmw_oracle_foreach(struct kvmw_oracle *o, unsigned int tgid,
			void (*cb)(unsigned int tid, unsigned int vcpu_id,
				   unsigned int reason,
				   unsigned long long count, void *arg),
			void *arg)
{
	struct foreach_arg f = { .cb = cb, .arg = arg };

	if (!cb)
		return -EINVAL;
	return walk_tgid(o, tgid, foreach_cb, &f);
}

unsigned long long kvmw_oracle_dropped(struct kvmw_oracle *o)
{
	__u32 slot = EXITCOUNT_DROP_INSERT;
	__u64 dropped = 0;

	if (!o || bpf_map_lookup_elem(o->drops_fd, &slot, &dropped))
		return 0;
	return dropped;
}

void kvmw_oracle_close(struct kvmw_oracle *o)
{
	if (!o)
		return;
	exitcount_bpf__destroy(o->skel);
	free(o);
}
