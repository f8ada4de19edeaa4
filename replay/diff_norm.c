/* SPDX-License-Identifier: MIT */
/*
 * diff_norm.c - fold volatile parts of names; the rules are in diff_norm.h.
 */
#include "diff_norm.h"

#include <stdbool.h>
#include <string.h>

/* An output buffer that counts what it could not hold. */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->len++)
		if (o->len + 1 < o->size)
			o->buf[o->len] = s[i];
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_lower(c) || is_upper(c);
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of a UUID at S (36), or 0. */
static size_t uuid_at(const char *s, size_t left)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (left < 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		if (shape[i] == '-' ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	if (left > 36 && is_alnum(s[36]))
		return 0;
	return 36;
}

/* Length of a "tmp" / ".tmp" temp-name at the start of a component, or 0. */
static size_t tmpname_at(const char *s, size_t left, size_t *prefix)
{
	size_t p = (left > 0 && s[0] == '.') ? 1 : 0;
	size_t i;

	if (left < p + 4 || strncmp(s + p, "tmp", 3) != 0)
		return 0;
	p += 3;
	if (s[p] == '.' || s[p] == '-' || s[p] == '_')
		p++;
	for (i = p; i < left && (is_alnum(s[i]) || s[i] == '_'); i++)
		;
	if (i - p < 6) /* "tmp.txt" is a name; mktemp adds 6 or more */
		return 0;
	*prefix = p;
	return i;
}

/*
 * Capitalised words ("Makefile", "CMakeLists", "README") have every
 * upper-case run either ending the token, or followed by two or more
 * lower-case letters; random letters break that quickly.
 */
static bool mixed_case_random(const char *s, size_t n)
{
	bool upper = false, lower = false;

	for (size_t i = 0; i < n; i++) {
		upper |= is_upper(s[i]);
		lower |= is_lower(s[i]);
	}
	if (!upper || !lower)
		return false;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t lowers = 0;

		/* the last letter of an upper-case run, not ending the token */
		if (!is_upper(s[i]) || is_upper(s[i + 1]))
			continue;
		for (size_t j = i + 1; j < n && is_lower(s[j]); j++)
			lowers++;
		if (lowers < 2)
			return true;
	}
	return false;
}

static bool looks_random(const char *s, size_t n)
{
	size_t digit_runs = 0;

	if (n < 6)
		return false;
	for (size_t i = 0; i < n; i++)
		if (is_digit(s[i]) && (i == 0 || !is_digit(s[i - 1])))
			digit_runs++;
	if (digit_runs >= 2)
		return true;
	return mixed_case_random(s, n);
}

/* Fold one alphanumeric token S[0..n). */
static void put_token(struct out *o, const char *s, size_t n)
{
	if (looks_random(s, n)) {
		put(o, "*", 1);
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;

		if (!is_digit(s[i])) {
			put(o, s + i, 1);
			i++;
			continue;
		}
		while (j < n && is_digit(s[j]))
			j++;
		put(o, "#", 1);
		i = j;
	}
}

size_t diff_normalize(const char *in, size_t len, char *out, size_t size)
{
	struct out o = {out, size, 0};
	bool component_start = true;
	size_t i = 0;

	while (i < len) {
		size_t n, prefix;

		if ((n = uuid_at(in + i, len - i)) != 0) {
			put(&o, "*", 1);
			i += n;
		} else if (component_start &&
			   (n = tmpname_at(in + i, len - i, &prefix)) != 0) {
			put(&o, in + i, prefix);
			put(&o, "*", 1);
			i += n;
		} else if (is_alnum(in[i])) {
			for (n = i; n < len && is_alnum(in[n]); n++)
				;
			put_token(&o, in + i, n - i);
			i = n;
		} else {
			put(&o, in + i, 1);
			i++;
		}
		component_start =
			i > 0 && (in[i - 1] == '/' || in[i - 1] == ' ');
	}
	if (size)
		out[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}
