/* SPDX-License-Identifier: MIT */
/*
 * diff_argv.h - how diff and history put processes into words: an
 * argument vector as one line a shell would read back the same way
 * (diff keys keep "a b" apart from "a" "b"), a wait(2) status and an
 * errno as text.
 */
#ifndef DIFF_ARGV_H
#define DIFF_ARGV_H

#include <stddef.h>

/*
 * Join the NUL-terminated strings in ARGS (LEN bytes; a last string
 * without its NUL is left out) with spaces, each quoted if a shell would
 * need it: in double quotes when that needs no backslash ("it's"), else
 * in single quotes with '\'' for a quote.  Writes at most SIZE bytes
 * with the NUL (cutting the line); returns the length written.
 */
size_t argv_shell_join(const char *args, size_t len, char *out, size_t size);

/* "exit 1", "killed by SIGKILL", "... (core dumped)" from a wait(2) status. */
void wait_status_text(int status, char *out, size_t size);

/* "ENOENT" for -ENOENT (RET is a negative errno); "error N" if unknown. */
const char *errno_text(long long ret, char *buf, size_t size);

#endif /* DIFF_ARGV_H */
