/* SPDX-License-Identifier: MIT */
/*
 * test_replay_execsnoop.c - tracetape execsnoop and bashreadline against
 * golden output: every flag, zones, windows, JSON, hostile strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

static void write_tape(struct fixture *fx)
{
	static const char *const ls[] = {"ls", "-l", "/tmp", NULL};
	static const char *const py[] = {"python3", "-c", "print(\"hi\")",
					 NULL};
	static const char *const bad[] = {"nope", "--flag", NULL};
	static const char *const tar[] = {"tar", "czf", "out.tgz", "dir one",
					  NULL};
	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, -5 * 3600); /* UTC-05:00 */
	fx_exec(fx, T0 + 250 * MS, fx_task(500, 500, 0, "ls"), 400, 0,
		"/bin/ls", ls);
	fx_exec(fx, T0 + 1500 * MS, fx_task(501, 501, 1000, "python3"), 400, 0,
		"/usr/bin/python3", py);
	fx_exec(fx, T0 + 2000 * MS, fx_task(502, 502, 1000, "bash"), 400, -2,
		"/usr/bin/nope", bad);
	fx_exec(fx, T0 + 3750 * MS, fx_task(503, 503, 1000, "tar"), 401, 0,
		"/bin/tar", tar);
	fx_readline(fx, T0 + 100 * MS, fx_task(400, 400, 1000, "bash"),
		    "ls -l /tmp");
	fx_readline(fx, T0 + 3700 * MS, fx_task(401, 401, 0, "bash"),
		    "tar czf out.tgz 'dir one'");
	fx_readline(fx, T0 + 5000 * MS, fx_task(400, 400, 1000, "bash"),
		    "echo \x1b[31mred\t!");
	fx_close(fx);
}

#define HDR "PCOMM            PID    PPID   RET ARGS\n"
/* ARGS starts with the filename passed to execve, as the live tool's
 * (it reads that in argv[0]'s place). */
#define E1 "ls               500    400      0 /bin/ls -l /tmp \n"
#define E2                                                                     \
	"python3          501    400      0 /usr/bin/python3 -c "              \
	"print(\"hi\") \n"
#define E3 "bash             502    400     -2 /usr/bin/nope --flag \n"
#define E4 "tar              503    401      0 /bin/tar czf out.tgz dir one \n"

struct run_case {
	replay_entry_fn entry;
	const char *name;
	const char *args[6];
	const char *expect;
};

static void check_cases(const struct run_case *cases, size_t n)
{
	struct fixture fx;
	write_tape(&fx);
	for (size_t i = 0; i < n; i++) {
		const char *const *a = cases[i].args;
		int rc = fx_run(&fx, cases[i].entry, cases[i].name, a[0], a[1],
				a[2], a[3], a[4], a[5]);
		if (rc != 0 || strcmp(fx.out, cases[i].expect) != 0)
			fprintf(stderr,
				"case %zu: rc %d\n--- got:\n%s--- want:\n%s"
				"--- stderr:\n%s",
				i, rc, fx.out, cases[i].expect, fx.err);
		assert_int_equal(rc, 0);
		assert_string_equal(fx.out, cases[i].expect);
		assert_string_equal(fx.err, "");
	}
	fx_cleanup(&fx);
}

static void test_execsnoop(void **state)
{
	(void)state;
	replay_entry_fn e = execsnoop_main;
	const char *x = "execsnoop";
	const struct run_case cases[] = {
		{e, x, {NULL}, HDR E1 E2 E4},
		{e, x, {"-x", NULL}, HDR E1 E2 E3 E4},
		{e,
		 x,
		 {"-T", NULL},
		 "TIME     " HDR "01:00:00 " E1 "01:00:01 " E2 "01:00:03 " E4},
		{e,
		 x,
		 {"-T", "--utc", NULL},
		 "TIME     " HDR "06:00:00 " E1 "06:00:01 " E2 "06:00:03 " E4},
		{e,
		 x,
		 {"-t", NULL},
		 "TIME(s)  " HDR "0.250   " E1 "1.500   " E2 "3.750   " E4},
		/* -t counts from the window's start */
		{e,
		 x,
		 {"-t", "--since", "+1s", NULL},
		 "TIME(s)  " HDR "0.500   " E2 "2.750   " E4},
		/* the live tool's UID column: header "%-6s ", value "%-6d" */
		{e, x, {"-U", "-u", "0", NULL}, "UID    " HDR "0     " E1},
		{e, x, {"-u", "1000", "-x", NULL}, HDR E2 E3 E4},
		{e, x, {"-n", "py", NULL}, HDR E2},
		{e, x, {"-n", "a", "-x", NULL}, HDR E3 E4},
		{e, x, {"-l", "dir one", NULL}, HDR E4},
		{e, x, {"-l", "flag", "-x", NULL}, HDR E3},
		/* -l looks at the arguments, not the comm */
		{e, x, {"-l", "bash", "-x", NULL}, HDR},
		{e,
		 x,
		 {"-q", NULL},
		 HDR "ls               500    400      0 \"/bin/ls\" \"-l\" "
		     "\"/tmp\" \n"
		     "python3          501    400      0 \"/usr/bin/python3\" "
		     "\"-c\" "
		     "\"print(\\\"hi\\\")\" \n"
		     "tar              503    401      0 \"/bin/tar\" \"czf\" "
		     "\"out.tgz\" \"dir one\" \n"},
		{e,
		 x,
		 {"--max-args", "2", NULL},
		 HDR "ls               500    400      0 /bin/ls -l  ...\n"
		     "python3          501    400      0 /usr/bin/python3 -c  "
		     "...\n"
		     "tar              503    401      0 /bin/tar czf  ...\n"},
		{e, x, {"--until", "+1s", NULL}, HDR E1},
		{e,
		 x,
		 {"--since", "01:00:01", "--until", "01:00:02.5", NULL},
		 HDR E2},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_execsnoop_json(void **state)
{
	(void)state;
	struct fixture fx;
	write_tape(&fx);
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", "--json",
				"-x", "-u", "1000", "-n", "bash", NULL),
			 0);
	assert_string_equal(
		fx.out,
		"{\"ts_ns\":4000000000,\"time\":\"2026-11-25T01:00:02.000000000"
		"-05:00\",\"type\":\"exec\",\"pid\":502,\"tid\":502,\"ppid\":"
		"400,\"uid\":1000,\"comm\":\"bash\",\"ret\":-2,\"filename\":"
		"\"/usr/bin/nope\",\"args\":[\"nope\",\"--flag\"],"
		"\"truncated\":false}\n");
	fx_cleanup(&fx);
}

static void test_execsnoop_truncated_and_hostile(void **state)
{
	(void)state;
	struct fixture fx;
	static const char *const argv[] = {"sh", "-c", "printf '\x1b[2J'\n",
					   NULL};
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_exec(&fx, T0 + 1, fx_task(9, 9, 0, "s\x1bh"), 1, 0, "/bin/sh", argv);
	fx_exec_flags(&fx, T0 + 2, fx_task(10, 10, 0, "sh"), 1, 0, "/bin/sh",
		      argv + 1, TT_EXEC_TRUNCATED);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", NULL), 0);
	assert_string_equal(fx.out, HDR
			    "s\\x1bh           9      1        0 /bin/sh -c "
			    "printf '\\x1b[2J'\\n \n"
			    "sh               10     1        0 /bin/sh "
			    "printf '\\x1b[2J'\\n  ...\n");
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", "--json",
				"-n", "sh", NULL),
			 0);
	assert_non_null(strstr(fx.out, "\"truncated\":true}"));
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", "-q", "-n",
				"\x1b", NULL),
			 0);
	assert_string_equal(fx.out, HDR
			    "s\\x1bh           9      1        0 \"/bin/sh\" "
			    "\"-c\" \"printf '\\x1b[2J'\\n\" \n");
	fx_cleanup(&fx);
}

#define RHDR "TIME      PID     COMMAND\n"

static void test_bashreadline(void **state)
{
	(void)state;
	replay_entry_fn e = bashreadline_main;
	const char *b = "bashreadline";
	const struct run_case cases[] = {
		{e,
		 b,
		 {NULL},
		 RHDR "01:00:00  400     ls -l /tmp\n"
		      "01:00:03  401     tar czf out.tgz 'dir one'\n"
		      "01:00:05  400     echo \\x1b[31mred\\t!\n"},
		{e,
		 b,
		 {"--utc", NULL},
		 RHDR "06:00:00  400     ls -l /tmp\n"
		      "06:00:03  401     tar czf out.tgz 'dir one'\n"
		      "06:00:05  400     echo \\x1b[31mred\\t!\n"},
		{e,
		 b,
		 {"-p", "401", NULL},
		 RHDR "01:00:03  401     tar czf out.tgz 'dir one'\n"},
		{e,
		 b,
		 {"-u", "1000", "--since", "+1s", NULL},
		 RHDR "01:00:05  400     echo \\x1b[31mred\\t!\n"},
		{e,
		 b,
		 {"--until", "+3.7s", NULL},
		 RHDR "01:00:00  400     ls -l /tmp\n"
		      "01:00:03  401     tar czf out.tgz 'dir one'\n"},
		{e,
		 b,
		 {"--json", "-p", "401", NULL},
		 "{\"ts_ns\":5700000000,\"time\":\"2026-11-25T01:00:03."
		 "700000000-05:00\",\"type\":\"readline\",\"pid\":401,\"tid\":"
		 "401,\"uid\":0,\"comm\":\"bash\",\"line\":\"tar czf out.tgz "
		 "'dir one'\"}\n"},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_usage(void **state)
{
	(void)state;
	struct fixture fx;
	write_tape(&fx);
	assert_int_equal(
		fx_run(&fx, execsnoop_main, "execsnoop", "-u", "x", NULL), 2);
	assert_string_equal(fx.err, "tracetape execsnoop: -u: invalid UID 'x' "
				    "(see tracetape execsnoop --help)\n");
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", "--max-args",
				"0", NULL),
			 2);
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline", "-p",
				"-5", NULL),
			 2);
	assert_int_equal(
		fx_run(&fx, execsnoop_main, "execsnoop", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "--max-args"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_execsnoop),
		cmocka_unit_test(test_execsnoop_json),
		cmocka_unit_test(test_execsnoop_truncated_and_hostile),
		cmocka_unit_test(test_bashreadline),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
