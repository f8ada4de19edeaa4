/* SPDX-License-Identifier: MIT */
/*
 * diff_argv.h - an argument vector as one line a shell would read back
 * the same way.  Used by diff (keys that keep "a b" apart from "a" "b")
 * and by history (exec lines).
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

#endif /* DIFF_ARGV_H */
