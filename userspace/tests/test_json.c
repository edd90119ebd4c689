// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON writer: string escaping (including bytes that are not UTF-8),
 * structure and separators, numbers, and the strict checker used by the
 * other tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_check.h"
#include "tap.h"

/* kvmw_json_write_string() of @len bytes of @in, compared with @want. */
static void check_escape(const char *in, size_t len, const char *want,
			 const char *what)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	kvmw_json_write_string(f, in, len);
	fclose(f);
	CHECK_STR(buf, want, what);
	CHECK(json_valid(buf, n), "%s: output is valid JSON", what);
	free(buf);
}

/* Builds a document with @fn in compact form and compares it. */
static void check_doc(void (*fn)(struct kvmw_json *j), bool pretty,
		      const char *want, const char *what)
{
	struct kvmw_json j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int ret;

	kvmw_json_init(&j, f, pretty);
	fn(&j);
	ret = kvmw_json_finish(&j);
	fclose(f);
	CHECK(ret == 0, "%s: finish ok", what);
	if (want)
		CHECK_STR(buf, want, what);
	CHECK(json_valid(buf, n), "%s: valid JSON", what);
	free(buf);
}

static void doc_nested(struct kvmw_json *j)
{
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "a");
	kvmw_json_u64(j, 1);
	kvmw_json_key(j, "b");
	kvmw_json_begin_array(j);
	kvmw_json_u64(j, 2);
	kvmw_json_begin_object(j);
	kvmw_json_end_object(j);
	kvmw_json_begin_array(j);
	kvmw_json_end_array(j);
	kvmw_json_null(j);
	kvmw_json_bool(j, true);
	kvmw_json_bool(j, false);
	kvmw_json_end_array(j);
	kvmw_json_key(j, "c\"");
	kvmw_json_string(j, "x");
	kvmw_json_end_object(j);
}

static void doc_numbers(struct kvmw_json *j)
{
	kvmw_json_begin_array(j);
	kvmw_json_u64(j, 0);
	kvmw_json_u64(j, 18446744073709551615ULL);
	kvmw_json_double(j, 1234.5);
	kvmw_json_double(j, 0.0);
	kvmw_json_double(j, NAN);
	kvmw_json_double(j, INFINITY);
	kvmw_json_double(j, -INFINITY);
	kvmw_json_end_array(j);
}

static void doc_string_n(struct kvmw_json *j)
{
	kvmw_json_begin_array(j);
	kvmw_json_string_n(j, "abcdef", 3);
	kvmw_json_string_n(j, "ab\0cd", 5);
	kvmw_json_end_array(j);
}

static void doc_u64_array(struct kvmw_json *j)
{
	static const __u64 v[] = { 1, 0, 18446744073709551615ULL };

	kvmw_json_begin_object(j);
	kvmw_json_key(j, "h");
	kvmw_json_u64_array(j, v, 3);
	kvmw_json_key(j, "e");
	kvmw_json_u64_array(j, v, 0);
	kvmw_json_end_object(j);
}

static int finish_of(void (*fn)(struct kvmw_json *j))
{
	struct kvmw_json j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int ret;

	kvmw_json_init(&j, f, false);
	fn(&j);
	ret = kvmw_json_finish(&j);
	fclose(f);
	free(buf);
	return ret;
}

static void bad_unclosed(struct kvmw_json *j)
{
	kvmw_json_begin_object(j);
}

static void bad_close(struct kvmw_json *j)
{
	kvmw_json_end_array(j);
}

static void bad_dangling_key(struct kvmw_json *j)
{
	kvmw_json_begin_object(j);
	kvmw_json_key(j, "k");
	kvmw_json_end_object(j);
}

static void test_checker(void)
{
	static const char * const good[] = {
		"{}", "[]", "0", "-1.5e+3", "\"\\u00e9\"", " [1, {\"a\": null}] ",
		"\"\xc3\xa9\"", "true",
	};
	static const char * const bad[] = {
		"", "{", "[1,]", "{\"a\"}", "01", "1.", "\"\x01\"",
		"\"\xff\"", "\"\\x\"", "nul", "[1] 2", "{'a': 1}", "NaN",
		"\"\xed\xa0\x80\"",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(json_valid(good[i], strlen(good[i])),
		      "checker accepts good #%zu", i);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(!json_valid(bad[i], strlen(bad[i])),
		      "checker rejects bad #%zu", i);
}

void test_json(void)
{
	tap_diag("json");
	test_checker();

	check_escape("plain", 5, "\"plain\"", "plain string");
	check_escape("", 0, "\"\"", "empty string");
	check_escape("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"", "quote and backslash");
	check_escape("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"",
		     "short escapes");
	check_escape("\x01\x1f\x1b\x7f", 4, "\"\\u0001\\u001f\\u001b\\u007f\"",
		     "control characters as \\u00XX");
	check_escape("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"",
		     "valid 2-byte UTF-8 kept");
	check_escape("\xe2\x82\xac\xf0\x9f\x90\xa7", 7,
		     "\"\xe2\x82\xac\xf0\x9f\x90\xa7\"",
		     "valid 3- and 4-byte UTF-8 kept");
	check_escape("a\377b", 3, "\"a\\ufffdb\"",
		     "invalid byte becomes U+FFFD");
	check_escape("\xc3", 1, "\"\\ufffd\"", "truncated sequence");
	check_escape("\xc3(", 2, "\"\\ufffd(\"", "bad continuation byte");
	check_escape("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"", "overlong form");
	check_escape("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"",
		     "UTF-16 surrogate");
	check_escape("\xf4\x90\x80\x80", 4,
		     "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "above U+10FFFF");
	check_escape("\xe2\x82", 2, "\"\\ufffd\\ufffd\"",
		     "sequence cut by the length");
	check_escape("ab\0cd", 5, "\"ab\"", "stops at NUL");
	check_escape("abcdef", 4, "\"abcd\"", "stops at length");

	check_doc(doc_nested, false,
		  "{\"a\":1,\"b\":[2,{},[],null,true,false],\"c\\\"\":\"x\"}\n",
		  "compact nesting and separators");
	check_doc(doc_nested, true, NULL, "pretty nesting");
	check_doc(doc_numbers, false,
		  "[0,18446744073709551615,1234.500,0.000,null,null,null]\n",
		  "numbers; non-finite doubles are null");
	check_doc(doc_string_n, false, "[\"abc\",\"ab\"]\n",
		  "string_n bounds");
	check_doc(doc_u64_array, false,
		  "{\"h\":[1,0,18446744073709551615],\"e\":[]}\n",
		  "compact number array");
	check_doc(doc_u64_array, true,
		  "{\n  \"h\": [1, 0, 18446744073709551615],\n  \"e\": []\n}\n",
		  "pretty number array on one line");

	CHECK(finish_of(bad_unclosed) == -1, "unclosed object is an error");
	CHECK(finish_of(bad_close) == -1, "stray close is an error");
	CHECK(finish_of(bad_dangling_key) == -1, "key without value is an error");
}
