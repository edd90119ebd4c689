// SPDX-License-Identifier: GPL-2.0-only
/*
 * Streaming JSON writer (see json.h).
 */
#include <math.h>
#include <string.h>

#include "json.h"

/*
 * Output is gathered in the writer's buffer and handed to stdio in
 * blocks: a 1000-vCPU stat --json writes millions of small items, and a
 * stdio call each cost more than the JSON itself.
 */
static void flush(struct kvmw_json *j)
{
	if (j->len)
		fwrite(j->buf, 1, j->len, j->f);
	j->len = 0;
}

static void put_n(struct kvmw_json *j, const void *s, size_t n)
{
	if (n > sizeof(j->buf) - j->len) {
		flush(j);
		if (n >= sizeof(j->buf)) {
			fwrite(s, 1, n, j->f);
			return;
		}
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void put_c(struct kvmw_json *j, char c)
{
	if (j->len == sizeof(j->buf))
		flush(j);
	j->buf[j->len++] = c;
}

static void put_s(struct kvmw_json *j, const char *s)
{
	put_n(j, s, strlen(s));
}

/* @v in decimal into the end of @buf; returns where it starts. */
static char *u64_str(__u64 v, char buf[24])
{
	char *p = buf + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void put_u64(struct kvmw_json *j, __u64 v)
{
	char buf[24], *p = u64_str(v, buf);

	put_n(j, p, buf + sizeof(buf) - p);
}

void kvmw_json_init(struct kvmw_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void newline_indent(struct kvmw_json *j)
{
	/* A newline and two spaces per level, up to KVMW_JSON_MAX_DEPTH. */
	static const char nl[] = "\n"
		"                                "
		"                                ";

	_Static_assert(sizeof(nl) - 2 >= 2 * KVMW_JSON_MAX_DEPTH,
		       "indentation for every level");
	if (j->pretty)
		put_n(j, nl, 1 + 2 * j->depth);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct kvmw_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->has_items[j->depth - 1])
		put_c(j, ',');
	j->has_items[j->depth - 1] = true;
	newline_indent(j);
}

static void begin(struct kvmw_json *j, char c)
{
	before_item(j);
	put_c(j, c);
	if (j->depth >= KVMW_JSON_MAX_DEPTH) {
		j->error = true;
		return;
	}
	j->has_items[j->depth++] = false;
}

static void end(struct kvmw_json *j, char c)
{
	if (j->depth == 0 || j->after_key) {
		j->error = true;
		return;
	}
	j->depth--;
	if (j->has_items[j->depth])
		newline_indent(j);
	put_c(j, c);
}

void kvmw_json_begin_object(struct kvmw_json *j)
{
	begin(j, '{');
}

void kvmw_json_end_object(struct kvmw_json *j)
{
	end(j, '}');
}

void kvmw_json_begin_array(struct kvmw_json *j)
{
	begin(j, '[');
}

void kvmw_json_end_array(struct kvmw_json *j)
{
	end(j, ']');
}

/*
 * Length of the valid UTF-8 sequence at @s (at most @len bytes long), or 0
 * when @s does not start one. Overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/* The escape of a byte that cannot stand as it is; NULL if it can. */
static const char *escape(unsigned char c, char buf[8])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	memcpy(buf, "\\u00", 4);
	buf[4] = hex[c >> 4];
	buf[5] = hex[c & 15];
	buf[6] = '\0';
	return buf;
}

static void write_string(struct kvmw_json *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, n;
	const char *e;
	char buf[8];

	put_c(j, '"');
	/* Bytes that stand as they are go out in runs. */
	while (i < len && s[i]) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			n = utf8_len(s + i, len - i);
			if (n) {
				i += n;
				continue;
			}
			e = "\\ufffd";
		} else {
			e = escape(c, buf);
			if (!e) {
				i++;
				continue;
			}
		}
		put_n(j, s + run, i - run);
		put_s(j, e);
		run = ++i;
	}
	put_n(j, s + run, i - run);
	put_c(j, '"');
}

void kvmw_json_write_string(FILE *f, const char *s, size_t len)
{
	struct kvmw_json j;

	kvmw_json_init(&j, f, false);
	write_string(&j, s, len);
	flush(&j);
}

void kvmw_json_key(struct kvmw_json *j, const char *key)
{
	if (j->after_key || j->depth == 0)
		j->error = true;
	before_item(j);
	write_string(j, key, strlen(key));
	put_s(j, j->pretty ? ": " : ":");
	j->after_key = true;
}

void kvmw_json_string_n(struct kvmw_json *j, const char *s, size_t len)
{
	before_item(j);
	write_string(j, s, len);
}

void kvmw_json_string(struct kvmw_json *j, const char *s)
{
	kvmw_json_string_n(j, s, strlen(s));
}

void kvmw_json_u64(struct kvmw_json *j, __u64 v)
{
	before_item(j);
	put_u64(j, v);
}

void kvmw_json_kv_u64(struct kvmw_json *j, const char *key, __u64 v)
{
	kvmw_json_key(j, key);
	kvmw_json_u64(j, v);
}

void kvmw_json_double(struct kvmw_json *j, double v)
{
	/* The largest finite double has 309 digits before the point. */
	char buf[384];
	int n;

	if (!isfinite(v)) {
		kvmw_json_null(j);
		return;
	}
	before_item(j);
	n = snprintf(buf, sizeof(buf), "%.3f", v);
	put_n(j, buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0);
}

void kvmw_json_u64_array(struct kvmw_json *j, const __u64 *v, size_t n)
{
	size_t i;

	before_item(j);
	put_c(j, '[');
	for (i = 0; i < n; i++) {
		if (i)
			put_s(j, j->pretty ? ", " : ",");
		put_u64(j, v[i]);
	}
	put_c(j, ']');
}

void kvmw_json_bool(struct kvmw_json *j, bool v)
{
	before_item(j);
	put_s(j, v ? "true" : "false");
}

void kvmw_json_null(struct kvmw_json *j)
{
	before_item(j);
	put_s(j, "null");
}

int kvmw_json_finish(struct kvmw_json *j)
{
	put_c(j, '\n');
	flush(j);
	if (j->error || j->depth || j->after_key || ferror(j->f))
		return -1;
	return 0;
}
