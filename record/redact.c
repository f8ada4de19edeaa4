// SPDX-License-Identifier: MIT
/*
 * redact.c - rewrite exec and readline records without their secrets.
 *
 * The BPF side frames records exactly as the tape stores them, so a
 * redacted record is rebuilt here: fixed part copied, strings rewritten,
 * lengths and header fixed, padding zeroed.
 */
#include <string.h>

#include "redact.h"
#include "tt_events.h"

#define MARK_LEN (sizeof(REDACTED_MARK) - 1)

int redactor_init(struct redactor *r, unsigned what, const char *regex,
		  char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->what = what;
	if (!regex)
		return 0;
	rc = regcomp(&r->regex, regex, REG_EXTENDED);
	if (rc) {
		regerror(rc, &r->regex, err, errlen);
		return -1;
	}
	r->have_regex = true;
	return 0;
}

void redactor_free(struct redactor *r)
{
	if (r->have_regex)
		regfree(&r->regex);
	r->have_regex = false;
}

bool redactor_active(const struct redactor *r)
{
	return r->what || r->have_regex;
}

/* A match can be one byte long and becomes MARK_LEN bytes. */
size_t redact_room(size_t len)
{
	return len * (MARK_LEN + 1) + 64;
}

/* The NUL-terminated S into OUT with each regex match masked; returns the
 * bytes written with the NUL. */
static size_t put_masked(const struct redactor *r, const char *s, char *out)
{
	size_t n = 0;
	regmatch_t m;
	int flags = 0;

	while (r->have_regex && *s && !regexec(&r->regex, s, 1, &m, flags)) {
		memcpy(out + n, s, m.rm_so);
		n += m.rm_so;
		memcpy(out + n, REDACTED_MARK, MARK_LEN);
		n += MARK_LEN;
		if (m.rm_eo == m.rm_so) { /* empty match: keep a byte, go on */
			if (!s[m.rm_eo])
				break;
			out[n++] = s[m.rm_eo];
			m.rm_eo++;
		}
		s += m.rm_eo;
		flags = REG_NOTBOL;
	}
	size_t rest = strlen(s) + 1;
	memcpy(out + n, s, rest);
	return n + rest;
}

size_t redact_string(const struct redactor *r, const char *s, bool whole,
		     char *out)
{
	if (whole) {
		memcpy(out, REDACTED_MARK, sizeof(REDACTED_MARK));
		return sizeof(REDACTED_MARK);
	}
	return put_masked(r, s, out);
}

size_t redact_args(const struct redactor *r, const char *args, size_t len,
		   char *out)
{
	size_t in = 0, n = 0;

	for (int i = 0; in < len; i++) {
		const char *s = args + in;
		size_t slen = strnlen(s, len - in);

		if (slen == len - in) /* unterminated tail: keep it cut */
			break;
		n += redact_string(r, s, i > 0 && (r->what & REDACT_ARGS),
				   out + n);
		in += slen + 1;
	}
	return n;
}

/* Header and fixed part of REC into OUT; returns where the strings go. */
static size_t copy_fixed(const uint8_t *rec, size_t fixed, uint8_t *out)
{
	memcpy(out, rec, sizeof(struct tt_rec_hdr) + fixed);
	return sizeof(struct tt_rec_hdr) + fixed;
}

/* Set the body length of the record in OUT (END bytes long so far) and
 * zero its padding; returns the framed length. */
static size_t finish(uint8_t *out, size_t end)
{
	struct tt_rec_hdr *h = (struct tt_rec_hdr *)out;
	size_t framed = (end + 7) & ~(size_t)7;

	h->body_len = end - sizeof(*h);
	memset(out + end, 0, framed - end);
	return framed;
}

static size_t redact_exec(const struct redactor *r, const uint8_t *rec,
			  size_t body, uint8_t *out)
{
	struct tt_exec e;
	size_t at, strs = sizeof(struct tt_rec_hdr) + sizeof(e);

	memcpy(&e, rec + sizeof(struct tt_rec_hdr), sizeof(e));
	if (body < sizeof(e) + e.filename_len + e.args_len)
		return 0; /* malformed: the caller copies it as is */
	at = copy_fixed(rec, sizeof(e), out);
	memcpy(out + at, rec + strs, e.filename_len);
	at += e.filename_len;
	e.args_len = redact_args(r, (const char *)rec + strs + e.filename_len,
				 e.args_len, (char *)out + at);
	at += e.args_len;
	memcpy(out + sizeof(struct tt_rec_hdr), &e, sizeof(e));
	return finish(out, at);
}

static size_t redact_readline(const struct redactor *r, const uint8_t *rec,
			      size_t body, uint8_t *out)
{
	struct tt_readline l;
	size_t at, strs = sizeof(struct tt_rec_hdr) + sizeof(l);
	const char *line = (const char *)rec + strs;

	memcpy(&l, rec + sizeof(struct tt_rec_hdr), sizeof(l));
	if (!l.line_len || body < sizeof(l) + l.line_len ||
	    line[l.line_len - 1] != 0)
		return 0;
	at = copy_fixed(rec, sizeof(l), out);
	l.line_len = redact_string(r, line, r->what & REDACT_LINES,
				   (char *)out + at);
	at += l.line_len;
	memcpy(out + sizeof(struct tt_rec_hdr), &l, sizeof(l));
	return finish(out, at);
}

size_t redact_record(const struct redactor *r, const uint8_t *rec, size_t len,
		     uint8_t *out)
{
	const struct tt_rec_hdr *h = (const struct tt_rec_hdr *)rec;
	size_t n = 0;

	if (h->type == TT_REC_EXEC && h->body_len >= sizeof(struct tt_exec))
		n = redact_exec(r, rec, h->body_len, out);
	else if (h->type == TT_REC_READLINE &&
		 h->body_len >= sizeof(struct tt_readline))
		n = redact_readline(r, rec, h->body_len, out);
	if (n)
		return n;
	memcpy(out, rec, len);
	return len;
}
