// SPDX-License-Identifier: GPL-2.0-only
/*
 * NUMA placement in libkvmwarden: control through the data source, the
 * UAPI's limits checked before anything is sent, and node lists as Linux
 * writes them ("0-3,8").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "libkvmwarden.h"

int kvmw_numa_get(struct kvmw_source *src, __u64 vm_id,
		  struct kvmw_numa_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!src->ops->numa_get)
		return -ENOTSUP;
	return src->ops->numa_get(src, vm_id, cfg);
}

int kvmw_numa_set(struct kvmw_source *src, __u64 vm_id,
		  const struct kvmw_numa_cfg *cfg)
{
	if (!src->ops->numa_set)
		return -ENOTSUP;
	return src->ops->numa_set(src, vm_id, cfg);
}

int kvmw_numa_clear(struct kvmw_source *src, __u64 vm_id)
{
	struct kvmw_numa_cfg none;

	memset(&none, 0, sizeof(none));
	none.policy = KVMW_NUMA_NONE;
	return kvmw_numa_set(src, vm_id, &none);
}

static bool nodes_empty(const __u64 *nodes)
{
	unsigned int i;

	for (i = 0; i < KVMW_NUMA_NODE_WORDS; i++)
		if (nodes[i])
			return false;
	return true;
}

#define WHY(...) (snprintf(why, len, __VA_ARGS__), -EINVAL)

int kvmw_numa_check(const struct kvmw_numa_cfg *cfg, char *why, size_t len)
{
	bool follow = cfg->policy == KVMW_NUMA_FOLLOW;

	if (len)
		why[0] = '\0';
	if (cfg->policy != KVMW_NUMA_NONE && cfg->policy != KVMW_NUMA_PIN &&
	    !follow)
		return WHY("unknown policy %u", cfg->policy);
	if (cfg->flags & ~KVMW_NUMA_F_ALL)
		return WHY("unknown flags 0x%x", cfg->flags & ~KVMW_NUMA_F_ALL);
	if (cfg->policy == KVMW_NUMA_NONE && cfg->flags)
		return WHY("no flags without a policy");
	if (cfg->policy == KVMW_NUMA_PIN && nodes_empty(cfg->nodes))
		return WHY("pin needs at least one node");
	if (cfg->policy != KVMW_NUMA_PIN && !nodes_empty(cfg->nodes))
		return WHY("nodes are for pin only");
	if (!follow && (cfg->threshold_pct || cfg->margin_pct ||
			cfg->passes || cfg->dwell_ms || cfg->interval_ms))
		return WHY("threshold, margin, passes, dwell and interval are for follow only");
	if (cfg->threshold_pct > 100)
		return WHY("threshold %u%% above 100%%", cfg->threshold_pct);
	if (cfg->margin_pct > 100)
		return WHY("margin %u points above 100", cfg->margin_pct);
	if (cfg->passes > KVMW_NUMA_MAX_PASSES)
		return WHY("passes %u above %u", cfg->passes,
			   KVMW_NUMA_MAX_PASSES);
	if (cfg->dwell_ms > KVMW_NUMA_MAX_DWELL_MS)
		return WHY("dwell %u ms above %u ms", cfg->dwell_ms,
			   KVMW_NUMA_MAX_DWELL_MS);
	if (cfg->interval_ms && (cfg->interval_ms < KVMW_NUMA_MIN_INTERVAL_MS ||
				 cfg->interval_ms > KVMW_NUMA_MAX_INTERVAL_MS))
		return WHY("interval %u ms outside %u ms to %u ms",
			   cfg->interval_ms, KVMW_NUMA_MIN_INTERVAL_MS,
			   KVMW_NUMA_MAX_INTERVAL_MS);
	return 0;
}

const char *kvmw_numa_policy_name(__u32 policy)
{
	switch (policy) {
	case KVMW_NUMA_NONE:
		return "none";
	case KVMW_NUMA_PIN:
		return "pin";
	case KVMW_NUMA_FOLLOW:
		return "follow";
	}
	return NULL;
}

const char *kvmw_numa_cause_name(__u32 cause)
{
	static const char * const names[] = {
		[KVMW_NUMA_CAUSE_SET] = "set",
		[KVMW_NUMA_CAUSE_FOLLOW] = "follow",
		[KVMW_NUMA_CAUSE_NEW_VCPU] = "new_vcpu",
		[KVMW_NUMA_CAUSE_CLEAR] = "clear",
		[KVMW_NUMA_CAUSE_GONE] = "gone",
		[KVMW_NUMA_CAUSE_UNLOAD] = "unload",
		[KVMW_NUMA_CAUSE_AFFINITY] = "affinity",
	};

	return cause < ARRAY_SIZE(names) ? names[cause] : NULL;
}

/* A node number of up to 4 digits at *@s; advances *@s. 0 or -EINVAL. */
static int parse_node(const char **s, unsigned int *node)
{
	unsigned int v = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 5) {
		v = v * 10 + (unsigned int)(**s - '0');
		(*s)++;
		digits++;
	}
	if (!digits || digits > 4 || v >= KVMW_NUMA_MAX_NODES)
		return -EINVAL;
	*node = v;
	return 0;
}

int kvmw_parse_nodelist(const char *s, __u64 *nodes)
{
	unsigned int lo, hi, n;
	int have_last = 0;
	unsigned int last = 0;

	memset(nodes, 0, KVMW_NUMA_NODE_WORDS * sizeof(*nodes));
	if (!*s)
		return -EINVAL;
	for (;;) {
		if (parse_node(&s, &lo))
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s++;
			if (parse_node(&s, &hi) || hi < lo)
				return -EINVAL;
		}
		/* Ascending and without overlap, as the kernel prints them. */
		if (have_last && lo <= last)
			return -EINVAL;
		for (n = lo; n <= hi; n++)
			nodes[n / 64] |= 1ULL << (n % 64);
		last = hi;
		have_last = 1;
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

char *kvmw_fmt_nodelist(char *buf, size_t len, const __u64 *nodes,
			size_t nr_words)
{
	size_t nbits = nr_words * 64, n = 0, used = 0;
	const char *sep = "";
	int w;

	if (!len)
		return buf;
	buf[0] = '\0';
	while (n < nbits) {
		size_t lo, hi;

		if (!(nodes[n / 64] & (1ULL << (n % 64)))) {
			n++;
			continue;
		}
		lo = n;
		while (n + 1 < nbits && (nodes[(n + 1) / 64] &
					 (1ULL << ((n + 1) % 64))))
			n++;
		hi = n++;
		if (hi == lo)
			w = snprintf(buf + used, len - used, "%s%zu", sep, lo);
		else
			w = snprintf(buf + used, len - used, "%s%zu-%zu", sep,
				     lo, hi);
		if (w < 0 || (size_t)w >= len - used) {
			/* Whole entries only. */
			buf[used] = '\0';
			return buf;
		}
		used += (size_t)w;
		sep = ",";
	}
	return buf;
}
