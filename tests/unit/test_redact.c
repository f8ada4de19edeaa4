/* SPDX-License-Identifier: MIT */
/*
 * test_redact.c - the recorder's --redact and --redact-regex
 * (record/redact.c): exec and readline records rebuilt without their
 * secrets, lengths and padding right, other records untouched, and the
 * regex corner cases (empty matches, anchors, several matches).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "redact.h"
#include "tt_events.h"

/* A framed record: header, BODY (LEN bytes), zero padding. */
static size_t frame(uint8_t *out, uint16_t type, const void *body, size_t len)
{
	struct tt_rec_hdr h = {.type = type, .body_len = len, .ts = 12345};
	size_t framed = (sizeof(h) + len + 7) & ~(size_t)7;

	memset(out, 0, framed);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), body, len);
	return framed;
}

/* An exec record of FILENAME and the NUL-separated ARGS (LEN bytes). */
static size_t exec_rec(uint8_t *out, const char *filename, const char *args,
		       size_t len, uint32_t argc)
{
	uint8_t body[1024];
	struct tt_exec e = {.argc = argc, .args_len = len, .ret = 0};
	size_t flen = strlen(filename) + 1;

	e.filename_len = flen;
	e.task.pid = 7;
	memcpy(body, &e, sizeof(e));
	memcpy(body + sizeof(e), filename, flen);
	memcpy(body + sizeof(e) + flen, args, len);
	return frame(out, TT_REC_EXEC, body, sizeof(e) + flen + len);
}

static size_t line_rec(uint8_t *out, const char *line)
{
	uint8_t body[512];
	struct tt_readline l = {.line_len = strlen(line) + 1};

	memcpy(body, &l, sizeof(l));
	memcpy(body + sizeof(l), line, l.line_len);
	return frame(out, TT_REC_READLINE, body, sizeof(l) + l.line_len);
}

/* The args of the redacted exec record in OUT (N framed bytes). */
static const char *args_of(const uint8_t *out, size_t n, struct tt_exec *e)
{
	const struct tt_rec_hdr *h = (const void *)out;

	memcpy(e, out + sizeof(*h), sizeof(*e));
	assert_int_equal(n, (sizeof(*h) + h->body_len + 7) & ~(size_t)7);
	assert_int_equal(h->body_len,
			 sizeof(*e) + e->filename_len + e->args_len);
	for (size_t i = sizeof(*h) + h->body_len; i < n; i++)
		assert_int_equal(out[i], 0); /* padding zeroed */
	return (const char *)out + sizeof(*h) + sizeof(*e) + e->filename_len;
}

static void test_args_whole(void **state)
{
	static const char args[] = "mysql\0-uroot\0-phunter2\0db";
	uint8_t in[1024], out[4096];
	struct redactor r;
	struct tt_exec e;
	char err[64];
	size_t n;

	(void)state;
	assert_int_equal(redactor_init(&r, REDACT_ARGS, NULL, err, 64), 0);
	n = redact_record(&r, in,
			  exec_rec(in, "/usr/bin/mysql", args, sizeof(args), 4),
			  out);
	const char *a = args_of(out, n, &e);
	assert_int_equal(e.argc, 4);
	assert_int_equal(e.args_len, sizeof("mysql\0***\0***\0***"));
	assert_memory_equal(a, "mysql\0***\0***\0***", e.args_len);
	assert_string_equal((const char *)out + sizeof(struct tt_rec_hdr) +
				    sizeof(e),
			    "/usr/bin/mysql"); /* the filename stays */
	assert_int_equal(((struct tt_rec_hdr *)out)->ts, 12345);
	redactor_free(&r);
}

static void test_regex_masks_matches_only(void **state)
{
	static const char args[] = "curl\0-u\0user:pw=s3cr3t\0pw=x pw=y";
	uint8_t in[1024], out[4096];
	struct redactor r;
	struct tt_exec e;
	char err[64];
	size_t n;

	(void)state;
	assert_int_equal(redactor_init(&r, 0, "pw=[^ ]*", err, 64), 0);
	assert_true(redactor_active(&r));
	n = redact_record(
		&r, in, exec_rec(in, "/bin/curl", args, sizeof(args), 4), out);
	const char *a = args_of(out, n, &e);
	static const char want[] = "curl\0-u\0user:***\0*** ***";
	assert_int_equal(e.args_len, sizeof(want));
	assert_memory_equal(a, want, sizeof(want));
	redactor_free(&r);
}

static void test_regex_corner_cases(void **state)
{
	struct redactor r;
	char out[256], err[64];

	(void)state;
	/* an empty match must not loop: every position gets a mark */
	assert_int_equal(redactor_init(&r, 0, "x*", err, 64), 0);
	redact_string(&r, "ab", false, out);
	assert_string_equal(out, "***a***b");
	redactor_free(&r);
	/* ^ anchors at the start of the string only, not after a match */
	assert_int_equal(redactor_init(&r, 0, "^a", err, 64), 0);
	redact_string(&r, "aaa", false, out);
	assert_string_equal(out, "***aa");
	redactor_free(&r);
	/* a bad regex is refused with the library's reason */
	assert_int_equal(redactor_init(&r, 0, "(", err, 64), -1);
	assert_true(strlen(err) > 0);
}

static void test_lines(void **state)
{
	uint8_t in[512], out[2048];
	struct redactor r;
	char err[64];
	size_t n;

	(void)state;
	assert_int_equal(redactor_init(&r, REDACT_LINES, NULL, err, 64), 0);
	n = redact_record(&r, in, line_rec(in, "export TOKEN=abc"), out);
	assert_int_equal(n, (16 + sizeof(struct tt_readline) + 4 + 7) & ~7ul);
	assert_int_equal(((struct tt_readline *)(out + 16))->line_len, 4);
	assert_string_equal((char *)out + 16 + sizeof(struct tt_readline),
			    "***");
	redactor_free(&r);
	/* the regex alone masks inside the line */
	assert_int_equal(redactor_init(&r, 0, "TOKEN=[a-z]+", err, 64), 0);
	n = redact_record(&r, in, line_rec(in, "export TOKEN=abc; ls"), out);
	assert_string_equal((char *)out + 16 + sizeof(struct tt_readline),
			    "export ***; ls");
	assert_int_equal(((struct tt_rec_hdr *)out)->body_len,
			 sizeof(struct tt_readline) + sizeof("export ***; ls"));
	redactor_free(&r);
}

/* Other records, and malformed ones, are copied byte for byte. */
static void test_others_untouched(void **state)
{
	uint8_t in[512], out[2048];
	struct redactor r;
	char err[64];
	size_t len, n;
	struct tt_fork f = {.child_pid = 9};

	(void)state;
	assert_int_equal(redactor_init(&r, REDACT_ARGS | REDACT_LINES, "secret",
				       err, 64),
			 0);
	len = frame(in, TT_REC_FORK, &f, sizeof(f));
	n = redact_record(&r, in, len, out);
	assert_int_equal(n, len);
	assert_memory_equal(in, out, len);
	/* a line without its NUL inside the body: not rewritten */
	len = line_rec(in, "a secret");
	((struct tt_readline *)(in + 16))->line_len = 200;
	n = redact_record(&r, in, len, out);
	assert_int_equal(n, len);
	assert_memory_equal(in, out, len);
	redactor_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_whole),
		cmocka_unit_test(test_regex_masks_matches_only),
		cmocka_unit_test(test_regex_corner_cases),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_others_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
