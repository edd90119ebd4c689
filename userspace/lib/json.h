/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer.
 *
 * Strings are written as valid UTF-8 JSON whatever bytes they hold: the
 * characters JSON requires are escaped, control characters become \uXXXX
 * and bytes that are not part of a valid UTF-8 sequence become U+FFFD, so
 * the output always parses (a VMM's comm can hold anything).
 *
 * A writer gathers its output and hands it to the stream in blocks, the
 * rest at kvmw_json_finish(): write nothing else to the stream between
 * kvmw_json_init() and kvmw_json_finish().
 */
#ifndef KVMW_JSON_H
#define KVMW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define KVMW_JSON_MAX_DEPTH	32

struct kvmw_json {
	FILE *f;
	/* Output not handed to @f yet: kvmw_json_finish() does. */
	char buf[4096];
	size_t len;
	bool pretty;
	bool after_key;		/* a key was written, its value comes next */
	bool error;		/* misuse (nesting) seen */
	unsigned int depth;
	bool has_items[KVMW_JSON_MAX_DEPTH];
};

void kvmw_json_init(struct kvmw_json *j, FILE *f, bool pretty);

void kvmw_json_begin_object(struct kvmw_json *j);
void kvmw_json_end_object(struct kvmw_json *j);
void kvmw_json_begin_array(struct kvmw_json *j);
void kvmw_json_end_array(struct kvmw_json *j);

void kvmw_json_key(struct kvmw_json *j, const char *key);
void kvmw_json_string(struct kvmw_json *j, const char *s);
/* At most @len bytes of @s, stopping early at a NUL. */
void kvmw_json_string_n(struct kvmw_json *j, const char *s, size_t len);
void kvmw_json_u64(struct kvmw_json *j, __u64 v);
/* A key and its number. */
void kvmw_json_kv_u64(struct kvmw_json *j, const char *key, __u64 v);
/* Non-finite values are written as null (JSON has no NaN or Infinity). */
void kvmw_json_double(struct kvmw_json *j, double v);
void kvmw_json_bool(struct kvmw_json *j, bool v);
/* An array of numbers on one line, even when pretty: "[1, 0, 7]". */
void kvmw_json_u64_array(struct kvmw_json *j, const __u64 *v, size_t n);
void kvmw_json_null(struct kvmw_json *j);

/*
 * Ends the document with a newline and writes out what is left. Returns
 * 0, or -1 when the nesting was wrong or the stream had an error.
 */
int kvmw_json_finish(struct kvmw_json *j);

/* Writes @len bytes of @s as a quoted JSON string (stops at a NUL). */
void kvmw_json_write_string(FILE *f, const char *s, size_t len);

#endif /* KVMW_JSON_H */
