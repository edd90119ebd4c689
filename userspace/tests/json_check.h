/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict JSON syntax checker (RFC 8259, UTF-8 text) for the tests.
 */
#ifndef KVMW_JSON_CHECK_H
#define KVMW_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when @len bytes at @s are exactly one JSON value (plus spaces). */
bool json_valid(const char *s, size_t len);

#endif /* KVMW_JSON_CHECK_H */
