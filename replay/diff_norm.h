/* SPDX-License-Identifier: MIT */
/*
 * diff_norm.h - fold the volatile parts of names so that two runs of the
 * same workload compare equal (`tracetape diff --normalize`).
 *
 * Rules, applied left to right to a path, an argv line or a typed command:
 *   1. a UUID (8-4-4-4-12 hex digits)                     -> "*"
 *   2. "tmp" or ".tmp" starting a path component, and the
 *      6 or more letters, digits and '_' after it (mktemp,
 *      Python's tempfile; one '.', '-' or '_' right after "tmp"
 *      is kept)                                            -> "tmp*"
 *   3. a run of letters and digits that looks random:
 *      6 or more characters with two or more separate runs of
 *      digits ("k2j3l9"), or with upper and lower case mixed
 *      other than as capitalised words ("aBcDeF", not
 *      "Makefile" or "CMakeLists")                         -> "*"
 *   4. any other run of digits (pids, counters, versions)  -> "#"
 * So "/tmp/tmp.Xa9bQz" becomes "/tmp/tmp.*", "out-1234.log" "out-#.log" and
 * "/proc/4711/stat" becomes "/proc/#/stat".  Both sides of a diff are
 * folded the same way, so a fold can merge names but never invent a
 * difference.
 */
#ifndef DIFF_NORM_H
#define DIFF_NORM_H

#include <stddef.h>

/*
 * Write the folded form of IN (LEN bytes) to OUT (SIZE bytes, always
 * NUL-terminated when SIZE > 0).  Returns the length of the folded form;
 * when that is >= SIZE the output was truncated.
 */
size_t diff_normalize(const char *in, size_t len, char *out, size_t size);

#endif /* DIFF_NORM_H */
