/* SPDX-License-Identifier: MIT */
/*
 * test_replay_cli.c - the tracetape binary itself: --help, --version,
 * the command table, usage errors, and `tracetape record` handing its
 * arguments to tracetape-record found next to the binary or in PATH.
 * `make unit` builds build/tracetape first; it is found next to this
 * test's directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/wait.h>

#include "fixture.h"

static char tracetape[PATH_MAX];

/* ../tracetape relative to this test binary (build/tests/test_x). */
static int find_tracetape(void **state)
{
	(void)state;
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(tracetape, sizeof(tracetape), "%s/tracetape", self);
	if (access(tracetape, X_OK) != 0) {
		fprintf(stderr, "%s not built: run make unit\n", tracetape);
		return -1;
	}
	return 0;
}

/* Run a shell command; its stdout+stderr in *OUT (caller frees). */
static int run(char **out, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 16, len = 0;
	*out = calloc(1, cap);
	size_t k;
	while ((k = fread(*out + len, 1, cap - len - 1, p)) > 0)
		len += k;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_help_and_version(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run(&out, "%s --help", tracetape), 0);
	const char *names[] = {"opensnoop", "execsnoop", "bashreadline",
			       "info",	    "verify",	 "dump"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(strstr(out, names[i]));
	assert_non_null(strstr(out, "Exit status"));
	free(out);
	assert_int_equal(run(&out, "%s --version", tracetape), 0);
	assert_string_equal(out,
			    "tracetape " TT_VERSION " (tape format 1.0)\n");
	free(out);
	assert_int_equal(run(&out, "%s opensnoop --help", tracetape), 0);
	assert_non_null(strstr(out, "Usage: tracetape opensnoop TAPE"));
	free(out);
}

static void test_usage_errors(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run(&out, "%s", tracetape), 2);
	assert_non_null(strstr(out, "Usage:"));
	free(out);
	assert_int_equal(run(&out, "%s nosuch /tmp", tracetape), 2);
	assert_string_equal(out, "tracetape: 'nosuch' is not an analysis; "
				 "tracetape --help lists them\n");
	free(out);
	assert_int_equal(run(&out, "%s opensnoop", tracetape), 2);
	assert_string_equal(out, "tracetape opensnoop: missing TAPE: give a "
				 "tape directory or a segment file (see "
				 "tracetape opensnoop --help)\n");
	free(out);
	assert_int_equal(run(&out, "%s dump /nonexistent/tape", tracetape), 2);
	assert_non_null(strstr(out, "/nonexistent/tape"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}

/* A TAPE given before or after the options, as with the live tools. */
static void test_positional_anywhere(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, FX_BOOT_BASE, FX_REALTIME_BASE, 0);
	fx_open_rec(&fx, FX_BOOT_BASE + 1, fx_task(5, 5, 0, "cat"), 3, 0, 0,
		    "/etc/hosts", NULL);
	fx_close(&fx);
	char *a, *b;
	assert_int_equal(run(&a, "%s opensnoop %s -T", tracetape, fx_tape(&fx)),
			 0);
	assert_int_equal(run(&b, "%s opensnoop -T %s", tracetape, fx_tape(&fx)),
			 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "06:00:00 5      cat                3   0 "
				  "/etc/hosts\n"));
	free(a);
	free(b);
	fx_cleanup(&fx);
}

static void test_record_dispatch(void **state)
{
	(void)state;
	char dir[] = "/tmp/tt-cli-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *out;
	assert_int_equal(run(&out, "cp %s %s/tracetape", tracetape, dir), 0);
	free(out);
	/* Not found next to the binary nor in PATH: a clear error. */
	assert_int_equal(
		run(&out, "PATH=/nonexistent %s/tracetape record -o x", dir),
		2);
	char want[512];
	snprintf(want, sizeof(want),
		 "tracetape: tracetape-record not found next to %s or in "
		 "PATH: build it with make or install the tracetape package\n",
		 dir);
	assert_string_equal(out, want);
	free(out);
	/* Next to the binary: run with the arguments as given. */
	assert_int_equal(
		run(&out,
		    "printf '#!/bin/sh\\necho \"rec:$0:$*\"\\nexit 7\\n' "
		    "> %s/tracetape-record && chmod +x "
		    "%s/tracetape-record",
		    dir, dir),
		0);
	free(out);
	assert_int_equal(run(&out,
			     "PATH=/nonexistent %s/tracetape record -o 'a b' "
			     "-d 5",
			     dir),
			 7);
	snprintf(want, sizeof(want), "rec:%s/tracetape-record:-o a b -d 5\n",
		 dir);
	assert_string_equal(out, want);
	free(out);
	/* Only in PATH. */
	char sub[64];
	snprintf(sub, sizeof(sub), "%s/bin", dir);
	assert_int_equal(run(&out,
			     "mkdir %s && mv %s/tracetape-record %s/ && "
			     "PATH=%s %s/tracetape record --version",
			     sub, dir, sub, sub, dir),
			 7);
	assert_non_null(strstr(out, "rec:"));
	assert_non_null(strstr(out, ":--version\n"));
	free(out);
	assert_int_equal(run(&out, "rm -rf %s", dir), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_positional_anywhere),
		cmocka_unit_test(test_record_dispatch),
	};
	return cmocka_run_group_tests(tests, find_tracetape, NULL);
}
