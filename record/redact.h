/* SPDX-License-Identifier: MIT */
/*
 * redact.h - remove secrets from command lines before they reach disk
 * (--redact, --redact-regex).
 *
 * What is redacted: the arguments of exec records (successful and failed)
 * and of the process snapshots, and the lines typed into bash.  Each
 * redacted piece becomes REDACTED_MARK; argument counts stay, so that
 * execsnoop still shows how many arguments a command had.  Paths (opens,
 * exec filenames, argv[0] under --redact args) are kept: they are what
 * the file analyses are about.
 */
#ifndef RECORD_REDACT_H
#define RECORD_REDACT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDACTED_MARK "***"

/* --redact WHAT bits. */
enum redact_what {
	REDACT_ARGS = 1 << 0,  /* every exec argument after argv[0] */
	REDACT_LINES = 1 << 1, /* every bash line, whole */
};

struct redactor {
	unsigned what; /* enum redact_what bits */
	bool have_regex;
	regex_t regex; /* --redact-regex: each match becomes the mark */
};

/*
 * Set R up for WHAT and REGEX (POSIX extended, or NULL).  Returns 0, or
 * -1 with a message naming the problem in ERR (the regex's error).
 */
int redactor_init(struct redactor *r, unsigned what, const char *regex,
		  char *err, size_t errlen);
void redactor_free(struct redactor *r);

/* Does R change anything? */
bool redactor_active(const struct redactor *r);

/* The most a redacted record can grow: OUT needs this much room for a
 * record of LEN bytes. */
size_t redact_room(size_t len);

/*
 * Copy the framed record REC (LEN bytes: header, body, padding) into OUT,
 * redacted when it is an exec or readline record.  Returns the framed
 * length written (padding zeroed), at most redact_room(LEN).
 */
size_t redact_record(const struct redactor *r, const uint8_t *rec, size_t len,
		     uint8_t *out);

/*
 * One NUL-terminated string S into OUT (redact_room(strlen(S) + 1)
 * bytes): the mark when WHOLE, else with the regex's matches masked.
 * Returns the bytes written with the NUL.
 */
size_t redact_string(const struct redactor *r, const char *s, bool whole,
		     char *out);

/*
 * Redact the NUL-separated argument strings ARGS[0..LEN) (argv as in
 * /proc/PID/cmdline) into OUT, which has redact_room(LEN) bytes.
 * Returns the new length.
 */
size_t redact_args(const struct redactor *r, const char *args, size_t len,
		   char *out);

#endif /* RECORD_REDACT_H */
