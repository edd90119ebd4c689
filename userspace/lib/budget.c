// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit budgets in libkvmwarden: control through the data source, the
 * UAPI's limits checked before anything is sent, the parsers and
 * formatters of rates, durations and categories shared by the command
 * line and the tests, and the budget statistics of a snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "libkvmwarden.h"

#define NSEC			1000000000ULL
/* Shortest max_park_ns the module accepts (not 0, which is the default). */
#define MIN_PARK_NS		1000ULL
#define ALL_CATEGORIES		((1ULL << KVMW_NR_CATEGORIES) - 1)

int kvmw_budget_get(struct kvmw_source *src, __u64 vm_id,
		    struct kvmw_budget_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!src->ops->budget_get)
		return -ENOTSUP;
	return src->ops->budget_get(src, vm_id, cfg);
}

int kvmw_budget_set(struct kvmw_source *src, __u64 vm_id,
		    const struct kvmw_budget_cfg *cfg)
{
	if (!src->ops->budget_set)
		return -ENOTSUP;
	return src->ops->budget_set(src, vm_id, cfg);
}

int kvmw_budget_default_get(struct kvmw_source *src, __u32 slot,
			    struct kvmw_budget_default_cfg *d)
{
	memset(d, 0, sizeof(*d));
	if (!src->ops->budget_default_get)
		return -ENOTSUP;
	return src->ops->budget_default_get(src, slot, d);
}

int kvmw_budget_default_set(struct kvmw_source *src, __u32 slot,
			    const struct kvmw_budget_default_cfg *d)
{
	if (!src->ops->budget_default_set)
		return -ENOTSUP;
	return src->ops->budget_default_set(src, slot, d);
}

int kvmw_budget_default_clear(struct kvmw_source *src, __u32 slot)
{
	struct kvmw_budget_default_cfg d;

	memset(&d, 0, sizeof(d));
	d.cgroup_fd = -1;
	d.budget.mode = KVMW_BUDGET_OFF;
	return kvmw_budget_default_set(src, slot, &d);
}

int kvmw_budget_clear(struct kvmw_source *src, __u64 vm_id)
{
	struct kvmw_budget_cfg off;

	memset(&off, 0, sizeof(off));
	off.mode = KVMW_BUDGET_OFF;
	return kvmw_budget_set(src, vm_id, &off);
}

const char *kvmw_budget_mode_name(__u32 mode)
{
	switch (mode) {
	case KVMW_BUDGET_OFF:
		return "off";
	case KVMW_BUDGET_AUDIT:
		return "audit";
	case KVMW_BUDGET_THROTTLE:
		return "throttle";
	default:
		return NULL;
	}
}

int kvmw_parse_budget_mode(const char *s, __u32 *mode)
{
	__u32 m;

	for (m = KVMW_BUDGET_OFF; m <= KVMW_BUDGET_THROTTLE; m++) {
		if (!strcmp(s, kvmw_budget_mode_name(m))) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}

int kvmw_budget_check(const struct kvmw_budget_cfg *cfg, char *why,
		      size_t len)
{
	__u64 park = cfg->max_park_ns ? cfg->max_park_ns :
		     KVMW_BUDGET_DEF_PARK_NS;
	__u64 seen = 0;
	char a[32], b[16], c[16];
	unsigned int i;

#define BAD(...) do { snprintf(why, len, __VA_ARGS__); return -EINVAL; } while (0)
	if (cfg->tripped || cfg->rule)
		BAD("tripped and rule are read-only");
	if (cfg->mode == KVMW_BUDGET_OFF) {
		if (cfg->nr_buckets || cfg->guard_audit)
			BAD("mode off takes no buckets and no guard");
		return 0;
	}
	if (!kvmw_budget_mode_name(cfg->mode))
		BAD("unknown mode %u", cfg->mode);
	if (!cfg->nr_buckets)
		BAD("no bucket: give a rate");
	if (cfg->nr_buckets > KVMW_BUDGET_MAX_BUCKETS)
		BAD("%u buckets: at most %u", cfg->nr_buckets,
		    KVMW_BUDGET_MAX_BUCKETS);
	if (cfg->max_park_ns > KVMW_BUDGET_MAX_PARK_NS ||
	    (cfg->max_park_ns && cfg->max_park_ns < MIN_PARK_NS))
		BAD("max park %s: from %s to %s",
		    kvmw_fmt_duration(a, sizeof(a), cfg->max_park_ns),
		    kvmw_fmt_duration(b, sizeof(b), MIN_PARK_NS),
		    kvmw_fmt_duration(c, sizeof(c), KVMW_BUDGET_MAX_PARK_NS));
	if (cfg->guard_window_ns &&
	    (cfg->guard_window_ns < KVMW_BUDGET_MIN_WINDOW_NS ||
	     cfg->guard_window_ns > KVMW_BUDGET_MAX_WINDOW_NS))
		BAD("guard window %s: from %s to %s",
		    kvmw_fmt_duration(a, sizeof(a), cfg->guard_window_ns),
		    kvmw_fmt_duration(b, sizeof(b), KVMW_BUDGET_MIN_WINDOW_NS),
		    kvmw_fmt_duration(c, sizeof(c), KVMW_BUDGET_MAX_WINDOW_NS));
	if (cfg->guard_pct > 100)
		BAD("guard %u%%: at most 100%%", cfg->guard_pct);
	for (i = 0; i < cfg->nr_buckets; i++) {
		const struct kvmw_budget_bucket_cfg *q = &cfg->b[i];
		__u64 scope = q->categories ? q->categories :
			      KVMW_BUDGET_DEFAULT_SCOPE;

		if (q->categories & ~ALL_CATEGORIES)
			BAD("bucket %u: unknown categories 0x%llx", i + 1,
			    (unsigned long long)(q->categories &
						 ~ALL_CATEGORIES));
		if (!q->rate || q->rate > KVMW_BUDGET_MAX_RATE)
			BAD("bucket %u: rate %llu: from 1 to %s per second",
			    i + 1, (unsigned long long)q->rate,
			    kvmw_fmt_count(a, sizeof(a), KVMW_BUDGET_MAX_RATE));
		/* A token must refill within one park, or it cannot hold. */
		if (q->rate * park < NSEC)
			BAD("bucket %u: rate %llu/s refills less than one exit per max park (%s): raise the rate or --max-park",
			    i + 1, (unsigned long long)q->rate,
			    kvmw_fmt_duration(a, sizeof(a), park));
		if (!q->burst || q->burst > KVMW_BUDGET_MAX_BURST)
			BAD("bucket %u: burst %llu: from 1 to %llu", i + 1,
			    (unsigned long long)q->burst,
			    (unsigned long long)KVMW_BUDGET_MAX_BURST);
		if (q->credit > KVMW_BUDGET_MAX_BURST)
			BAD("bucket %u: credit %llu: at most %llu", i + 1,
			    (unsigned long long)q->credit,
			    (unsigned long long)KVMW_BUDGET_MAX_BURST);
		if (scope & seen)
			BAD("bucket %u: categories %s are already in another bucket",
			    i + 1, kvmw_fmt_categories(a, sizeof(a),
						       scope & seen));
		seen |= scope;
	}
#undef BAD
	return 0;
}

/*
 * A decimal number with an optional fraction, times @mult: the value if
 * it is a whole number. Returns the length parsed, or -EINVAL.
 */
static int parse_decimal(const char *s, unsigned __int128 *num,
			 unsigned __int128 *den)
{
	unsigned __int128 n = 0, d = 1;
	bool dot = false, digit = false;
	int i;

	for (i = 0; s[i]; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			break;
		digit = true;
		/* 24 significant digits are plenty for 64-bit values. */
		if (n >= (unsigned __int128)1 << 100 || d >= (__u64)1 << 60)
			return -EINVAL;
		n = n * 10 + (s[i] - '0');
		if (dot)
			d *= 10;
	}
	if (!digit || (i && s[i - 1] == '.'))
		return -EINVAL;
	*num = n;
	*den = d;
	return i;
}

static int scaled(const char *s, const char *const *units,
		  const __u64 *mults, size_t nr_units, bool unit_needed,
		  __u64 min, __u64 max, __u64 *v)
{
	unsigned __int128 n, d, r;
	__u64 mult = 0;
	size_t k;
	int len;

	len = parse_decimal(s, &n, &d);
	if (len < 0)
		return -EINVAL;
	if (!s[len] && !unit_needed)
		mult = 1;
	for (k = 0; !mult && k < nr_units; k++)
		if (!strcmp(s + len, units[k]))
			mult = mults[k];
	if (!mult)
		return -EINVAL;
	n *= mult;
	if (n % d)
		return -EINVAL;
	r = n / d;
	if (r < min || r > max)
		return -EINVAL;
	*v = (__u64)r;
	return 0;
}

int kvmw_parse_count(const char *s, __u64 min, __u64 max, __u64 *v)
{
	static const char * const units[] = { "k", "K", "M", "G" };
	static const __u64 mults[] = { 1000, 1000, 1000000, 1000000000 };

	return scaled(s, units, mults, ARRAY_SIZE(units), false, min, max, v);
}

int kvmw_parse_duration(const char *s, __u64 min, __u64 max, __u64 *ns)
{
	static const char * const units[] = { "ns", "us", "ms", "s" };
	static const __u64 mults[] = { 1, 1000, 1000000, NSEC };

	return scaled(s, units, mults, ARRAY_SIZE(units), true, min, max, ns);
}

int kvmw_parse_categories(const char *s, __u64 *mask, char *bad, size_t len)
{
	__u64 m = 0;
	const char *p = s;

	if (!strcmp(s, "default")) {
		*mask = 0;
		return 0;
	}
	do {
		size_t n = strcspn(p, ",");
		__u32 c;

		for (c = 0; c < KVMW_NR_CATEGORIES; c++) {
			const char *name = kvmw_category_name(c);

			if (strlen(name) == n && !strncmp(p, name, n))
				break;
		}
		if (c == KVMW_NR_CATEGORIES || (m & (1ULL << c))) {
			snprintf(bad, len, "%.*s", (int)n, p);
			return -EINVAL;
		}
		m |= 1ULL << c;
		p += n;
	} while (*p++ == ',');
	*mask = m;
	return 0;
}

/* @v / @unit with at most @dec decimals, trailing zeros dropped. */
static bool fmt_exact(char *buf, size_t len, __u64 v, __u64 unit,
		      unsigned int dec, const char *suffix)
{
	__u64 step = unit, whole = v / unit, frac;
	unsigned int d;
	char f[24];

	for (d = 0; d < dec && step % 10 == 0; d++)
		step /= 10;
	if (v % step)
		return false;
	frac = (v % unit) / step;
	if (!frac) {
		snprintf(buf, len, "%llu%s", (unsigned long long)whole, suffix);
		return true;
	}
	snprintf(f, sizeof(f), "%0*llu", (int)d, (unsigned long long)frac);
	for (d = strlen(f); d > 1 && f[d - 1] == '0'; d--)
		f[d - 1] = '\0';
	snprintf(buf, len, "%llu.%s%s", (unsigned long long)whole, f, suffix);
	return true;
}

char *kvmw_fmt_count(char *buf, size_t len, __u64 v)
{
	static const __u64 mults[] = { 1000000000, 1000000, 1000 };
	static const char * const units[] = { "G", "M", "k" };
	size_t k;

	for (k = 0; k < ARRAY_SIZE(mults); k++)
		if (v >= mults[k] &&
		    fmt_exact(buf, len, v, mults[k], 2, units[k]))
			return buf;
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

char *kvmw_fmt_duration(char *buf, size_t len, __u64 ns)
{
	static const __u64 mults[] = { NSEC, 1000000, 1000 };
	static const char * const units[] = { "s", "ms", "us" };
	size_t k;

	for (k = 0; k < ARRAY_SIZE(mults); k++)
		if (ns >= mults[k] &&
		    fmt_exact(buf, len, ns, mults[k], 3, units[k]))
			return buf;
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

char *kvmw_fmt_categories(char *buf, size_t len, __u64 mask)
{
	size_t n = 0;
	__u32 c;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, len, "default");
		return buf;
	}
	for (c = 0; c < 64; c++) {
		const char *name;

		if (!(mask & (1ULL << c)))
			continue;
		name = kvmw_category_name(c);
		if (n < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      name ? name : "?");
	}
	return buf;
}

/* The statistic @name of @scope of @snap, or NULL. */
static const struct kvmw_stat_info *raw_find(const struct kvmw_raw_stats *raw,
					     enum kvmw_rec_scope scope,
					     const char *name)
{
	size_t i;

	for (i = 0; i < raw->nr; i++) {
		const struct kvmw_stat_info *in = &raw->infos[i];

		if (in->scope == scope && !strcmp(in->name, name))
			return in;
	}
	return NULL;
}

void kvmw_vm_budget_stats(const struct kvmw_raw_stats *raw,
			  const struct kvmw_vm *vm,
			  struct kvmw_budget_stats *bs)
{
	static const char * const vcpu_names[] = {
		"budget_charged", "budget_overruns", "budget_parks",
		"budget_parked_time", "budget_would_park_time",
	};
	__u64 *vcpu_vals[] = {
		&bs->charged, &bs->overruns, &bs->parks, &bs->parked_ns,
		&bs->would_park_ns,
	};
	const struct kvmw_stat_info *mode, *tripped, *tokens, *debt, *in;
	size_t i, k;

	memset(bs, 0, sizeof(*bs));
	if (!vm->values)
		return;
	mode = raw_find(raw, KVMW_REC_VM, "budget_mode");
	tripped = raw_find(raw, KVMW_REC_VM, "budget_tripped");
	tokens = raw_find(raw, KVMW_REC_VM, "budget_tokens");
	debt = raw_find(raw, KVMW_REC_VM, "budget_debt");
	if (!mode || !tripped || !tokens || !debt || mode->count != 1 ||
	    tripped->count != 1 || tokens->count != KVMW_BUDGET_MAX_BUCKETS ||
	    debt->count != KVMW_BUDGET_MAX_BUCKETS)
		return;
	for (k = 0; k < ARRAY_SIZE(vcpu_names); k++) {
		in = raw_find(raw, KVMW_REC_VCPU, vcpu_names[k]);
		if (!in || in->count != 1) {
			memset(bs, 0, sizeof(*bs));
			return;
		}
		for (i = 0; i < vm->nr_vcpus_detail; i++)
			if (vm->vcpus[i].values)
				*vcpu_vals[k] += vm->vcpus[i].values[in->offset];
	}
	bs->known = true;
	bs->mode = vm->values[mode->offset];
	bs->tripped = vm->values[tripped->offset];
	for (k = 0; k < KVMW_BUDGET_MAX_BUCKETS; k++) {
		bs->tokens[k] = vm->values[tokens->offset + k];
		bs->debt[k] = vm->values[debt->offset + k];
	}
}
