/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers in the kernel's spelling, for the userspace tools.
 */
#ifndef KVMW_COMPILER_H
#define KVMW_COMPILER_H

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif

#endif /* KVMW_COMPILER_H */
