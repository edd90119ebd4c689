// SPDX-License-Identifier: GPL-2.0-only
/*
 * Streaming JSON writer (see json.h).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void kvmw_json_init(struct kvmw_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void newline_indent(struct kvmw_json *j)
{
	unsigned int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
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
		fputc(',', j->f);
	j->has_items[j->depth - 1] = true;
	newline_indent(j);
}

static void begin(struct kvmw_json *j, char c)
{
	before_item(j);
	fputc(c, j->f);
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
	fputc(c, j->f);
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

void kvmw_json_write_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	fputc('"', f);
	while (i < len && s[i]) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			n = utf8_len(s + i, len - i);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

void kvmw_json_key(struct kvmw_json *j, const char *key)
{
	if (j->after_key || j->depth == 0)
		j->error = true;
	before_item(j);
	kvmw_json_write_string(j->f, key, strlen(key));
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void kvmw_json_string_n(struct kvmw_json *j, const char *s, size_t len)
{
	before_item(j);
	kvmw_json_write_string(j->f, s, len);
}

void kvmw_json_string(struct kvmw_json *j, const char *s)
{
	kvmw_json_string_n(j, s, strlen(s));
}

void kvmw_json_u64(struct kvmw_json *j, __u64 v)
{
	before_item(j);
	fprintf(j->f, "%" PRIu64, (uint64_t)v);
}

void kvmw_json_kv_u64(struct kvmw_json *j, const char *key, __u64 v)
{
	kvmw_json_key(j, key);
	kvmw_json_u64(j, v);
}

void kvmw_json_double(struct kvmw_json *j, double v)
{
	if (!isfinite(v)) {
		kvmw_json_null(j);
		return;
	}
	before_item(j);
	fprintf(j->f, "%.3f", v);
}

void kvmw_json_u64_array(struct kvmw_json *j, const __u64 *v, size_t n)
{
	size_t i;

	before_item(j);
	fputc('[', j->f);
	for (i = 0; i < n; i++)
		fprintf(j->f, "%s%" PRIu64, !i ? "" : j->pretty ? ", " : ",",
			(uint64_t)v[i]);
	fputc(']', j->f);
}

void kvmw_json_bool(struct kvmw_json *j, bool v)
{
	before_item(j);
	fputs(v ? "true" : "false", j->f);
}

void kvmw_json_null(struct kvmw_json *j)
{
	before_item(j);
	fputs("null", j->f);
}

int kvmw_json_finish(struct kvmw_json *j)
{
	fputc('\n', j->f);
	if (j->error || j->depth || j->after_key || ferror(j->f))
		return -1;
	return 0;
}
