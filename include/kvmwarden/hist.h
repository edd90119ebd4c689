/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmwarden: histogram layouts, the single home of "which bucket does a
 * value go to" and "what range does a bucket cover".
 *
 * A histogram's layout is described with the statistic (its type, its
 * sub-bucket bits and its number of buckets), not fixed by the ABI; the
 * kernel module, the BPF programs, the library and the tests all map
 * values to buckets and buckets to ranges with these functions. No libc:
 * only <linux/types.h> and compiler builtins, everything static inline.
 *
 * Layouts (values are unsigned 64-bit, usually nanoseconds):
 *
 *  KVMW_HIST_LOG2: bucket 0 holds [0, 2), bucket b (b >= 1) holds
 *	[2^b, 2^(b+1)); the last bucket also holds everything above. A
 *	percentile is known to a factor of 2.
 *
 *  KVMW_HIST_LOGLIN with s sub-bucket bits (S = 2^s): every power of two
 *	is split into S equal sub-buckets. Values below S have a bucket of
 *	their own (bucket v holds [v, v+1)); a value v >= S with
 *	e = floor(log2(v)) goes to bucket (e - s) * S + (v >> (e - s)),
 *	which holds [m * 2^(e-s), (m+1) * 2^(e-s)) with m = v >> (e - s) in
 *	[S, 2S). A bucket is at most 1/S of its lower bound wide (25% for
 *	s = 2): a percentile reported as the bucket's upper bound is at
 *	most 25% high, as its midpoint at most 12.5% off. The last bucket
 *	also holds everything above.
 */
#ifndef _KVMWARDEN_HIST_H
#define _KVMWARDEN_HIST_H

#include <linux/types.h>

#define KVMW_HIST_LOG2		1
#define KVMW_HIST_LOGLIN	2

/* floor(log2(v)) for v >= 1 */
static inline unsigned int kvmw_ilog2_u64(__u64 v)
{
	return 63 - (unsigned int)__builtin_clzll(v);
}

/* Bucket of @v in a KVMW_HIST_LOG2 layout of @nr buckets. */
static inline unsigned int kvmw_hist_log2_bucket(__u64 v, unsigned int nr)
{
	unsigned int b = kvmw_ilog2_u64(v | 1);

	return b < nr ? b : nr - 1;
}

/* Bucket of @v in a KVMW_HIST_LOGLIN layout with @s sub-bits, @nr buckets. */
static inline unsigned int kvmw_hist_loglin_bucket(__u64 v, unsigned int s,
						   unsigned int nr)
{
	unsigned int e, b;

	if (v < (1ULL << s))
		return v < nr ? (unsigned int)v : nr - 1;
	e = kvmw_ilog2_u64(v);
	b = ((e - s) << s) + (unsigned int)(v >> (e - s));
	return b < nr ? b : nr - 1;
}

/* Bucket of @v in the layout (@type, @s, @nr); 0 for an unknown type. */
static inline unsigned int kvmw_hist_bucket(__u32 type, unsigned int s,
					    unsigned int nr, __u64 v)
{
	if (type == KVMW_HIST_LOG2)
		return kvmw_hist_log2_bucket(v, nr);
	if (type == KVMW_HIST_LOGLIN)
		return kvmw_hist_loglin_bucket(v, s, nr);
	return 0;
}

/* Smallest value of bucket @b (@b < @nr). */
static inline __u64 kvmw_hist_lo(__u32 type, unsigned int s, unsigned int b)
{
	unsigned int e;

	if (type == KVMW_HIST_LOG2)
		return b ? 1ULL << b : 0;
	if (type != KVMW_HIST_LOGLIN || b < (1U << s))
		return b;
	e = (b >> s) + s - 1;
	return (__u64)((b & ((1U << s) - 1)) + (1U << s)) << (e - s);
}

/*
 * One past the largest value of bucket @b of @nr: the next bucket's lower
 * bound, or ~0 (no bound) for the last bucket, which is open-ended.
 */
static inline __u64 kvmw_hist_hi(__u32 type, unsigned int s, unsigned int b,
				 unsigned int nr)
{
	if (b + 1 >= nr)
		return ~0ULL;
	return kvmw_hist_lo(type, s, b + 1);
}

#endif /* _KVMWARDEN_HIST_H */
