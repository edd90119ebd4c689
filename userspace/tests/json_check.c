// SPDX-License-Identifier: GPL-2.0-only
/*
 * Strict recursive-descent JSON checker for the tests.
 */
#include <string.h>

#include "json_check.h"

struct parser {
	const unsigned char *s;
	size_t len, pos;
	int depth;
};

static bool value(struct parser *p);

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) &&
	       p->s[p->pos])
		p->pos++;
}

static bool peek(struct parser *p, unsigned char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return false;
	p->pos += n;
	return true;
}

static bool is_digit(struct parser *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static bool number(struct parser *p)
{
	if (peek(p, '-'))
		p->pos++;
	if (peek(p, '0')) {
		p->pos++;
	} else {
		if (!is_digit(p))
			return false;
		while (is_digit(p))
			p->pos++;
	}
	if (peek(p, '.')) {
		p->pos++;
		if (!is_digit(p))
			return false;
		while (is_digit(p))
			p->pos++;
	}
	if (peek(p, 'e') || peek(p, 'E')) {
		p->pos++;
		if (peek(p, '+') || peek(p, '-'))
			p->pos++;
		if (!is_digit(p))
			return false;
		while (is_digit(p))
			p->pos++;
	}
	return true;
}

/* Length of a valid UTF-8 sequence at the position, 0 if invalid. */
static size_t utf8(struct parser *p)
{
	const unsigned char *c = p->s + p->pos;
	size_t avail = p->len - p->pos, n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c[0] < 0x80)
		return 1;
	if (c[0] >= 0xc2 && c[0] <= 0xdf)
		n = 2;
	else if (c[0] >= 0xe0 && c[0] <= 0xef)
		n = 3;
	else if (c[0] >= 0xf0 && c[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (c[0] == 0xe0)
		lo = 0xa0;
	if (c[0] == 0xed)
		hi = 0x9f;
	if (c[0] == 0xf0)
		lo = 0x90;
	if (c[0] == 0xf4)
		hi = 0x8f;
	if (avail < n || c[1] < lo || c[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (c[i] < 0x80 || c[i] > 0xbf)
			return 0;
	}
	return n;
}

static bool string(struct parser *p)
{
	size_t n, i;

	if (!peek(p, '"'))
		return false;
	p->pos++;
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if (c == '"') {
			p->pos++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			p->pos++;
			if (p->pos >= p->len)
				return false;
			c = p->s[p->pos];
			if (c == 'u') {
				for (i = 1; i <= 4; i++) {
					if (p->pos + i >= p->len ||
					    !strchr("0123456789abcdefABCDEF",
						    p->s[p->pos + i]) ||
					    !p->s[p->pos + i])
						return false;
				}
				p->pos += 5;
				continue;
			}
			if (!c || !strchr("\"\\/bfnrt", c))
				return false;
			p->pos++;
			continue;
		}
		n = utf8(p);
		if (!n)
			return false;
		p->pos += n;
	}
	return false;
}

static bool container(struct parser *p, unsigned char open,
		      unsigned char close, bool object)
{
	if (!peek(p, open) || ++p->depth > 64)
		return false;
	p->pos++;
	skip_ws(p);
	if (peek(p, close)) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		skip_ws(p);
		if (object) {
			if (!string(p))
				return false;
			skip_ws(p);
			if (!peek(p, ':'))
				return false;
			p->pos++;
		}
		if (!value(p))
			return false;
		skip_ws(p);
		if (peek(p, ',')) {
			p->pos++;
			continue;
		}
		if (peek(p, close)) {
			p->pos++;
			p->depth--;
			return true;
		}
		return false;
	}
}

static bool value(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return false;
	switch (p->s[p->pos]) {
	case '{':
		return container(p, '{', '}', true);
	case '[':
		return container(p, '[', ']', false);
	case '"':
		return string(p);
	case 't':
		return literal(p, "true");
	case 'f':
		return literal(p, "false");
	case 'n':
		return literal(p, "null");
	default:
		return number(p);
	}
}

bool json_valid(const char *s, size_t len)
{
	struct parser p = { (const unsigned char *)s, len, 0, 0 };

	if (!value(&p))
		return false;
	skip_ws(&p);
	return p.pos == p.len;
}
