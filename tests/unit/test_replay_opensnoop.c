/* SPDX-License-Identifier: MIT */
/*
 * test_replay_opensnoop.c - tracetape opensnoop against golden output:
 * every flag, the time zone of the recording host, --utc, windows,
 * losses, hostile strings, usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

/*
 * Five opens; the host is at UTC+01:00 and the anchor says T0 is
 * 2026-11-25 06:00:00 UTC, i.e. 07:00:00 host time.
 */
static void write_tape(struct fixture *fx, bool with_loss)
{
	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	fx_open_rec(fx, T0 + 500 * MS, fx_task(100, 100, 0, "cat"), 3, 0, 0,
		    "/etc/passwd", NULL);
	fx_open_rec(fx, T0 + 1200 * MS, fx_task(200, 201, 1000, "python3"), 4,
		    0101, 0644, "data/x.txt", "/home/alice");
	fx_open_rec(fx, T0 + 2000 * MS, fx_task(100, 100, 0, "cat"), -2, 0, 0,
		    "/nonexistent", NULL);
	if (with_loss)
		fx_loss(fx, T0 + 2500 * MS, 1, 17, T0 + 2000 * MS);
	fx_open_rec(fx, T0 + 3000 * MS, fx_task(300, 300, 1000, "mainloop"), 5,
		    02000000, 0, "../lib/./libz.so", "/usr/bin");
	fx_open_rec(fx, T0 + 65000 * MS, fx_task(200, 202, 1000, "python3"),
		    -13, 01, 0, "/tmp/y", NULL);
	fx_close(fx);
}

#define HDR "PID    COMM              FD ERR PATH\n"
#define L1  "100    cat                3   0 /etc/passwd\n"
#define L2  "200    python3            4   0 data/x.txt\n"
#define L3  "100    cat               -1   2 /nonexistent\n"
#define L4  "300    mainloop           5   0 ../lib/./libz.so\n"
#define L5  "200    python3           -1  13 /tmp/y\n"

struct run_case {
	const char *args[6];
	const char *expect;
};

static void check_cases(const struct run_case *cases, size_t n)
{
	struct fixture fx;
	write_tape(&fx, false);
	for (size_t i = 0; i < n; i++) {
		const char *const *a = cases[i].args;
		int rc = fx_run(&fx, opensnoop_main, "opensnoop", a[0], a[1],
				a[2], a[3], a[4], a[5]);
		if (rc != 0 || strcmp(fx.out, cases[i].expect) != 0)
			fprintf(stderr,
				"case %zu (%s %s): rc %d\n--- got:\n%s--- "
				"want:\n%s--- stderr:\n%s",
				i, a[0] ? a[0] : "", a[1] ? a[1] : "", rc,
				fx.out, cases[i].expect, fx.err);
		assert_int_equal(rc, 0);
		assert_string_equal(fx.out, cases[i].expect);
		assert_string_equal(fx.err, "");
	}
	fx_cleanup(&fx);
}

static void test_columns_and_filters(void **state)
{
	(void)state;
	static const struct run_case cases[] = {
		{{NULL}, HDR L1 L2 L3 L4 L5},
		{{"-x", NULL}, HDR L3 L5},
		{{"--failed", NULL}, HDR L3 L5},
		{{"-p", "200", NULL}, HDR L2 L5},
		{{"--pid=100", NULL}, HDR L1 L3},
		{{"-t", "202", NULL}, HDR L5},
		{{"-u", "1000", NULL}, HDR L2 L4 L5},
		{{"-u", "0", NULL}, HDR L1 L3},
		/* -n must look at every event, not stop at a mismatch */
		{{"-n", "python", NULL}, HDR L2 L5},
		{{"-n", "main", NULL}, HDR L4},
		{{"-n", "nomatch", NULL}, HDR},
		{{"-x", "-u", "1000", NULL}, HDR L5},
		{{"-d", "2", NULL}, HDR L1 L2 L3},
		{{"-d", "1", NULL}, HDR L1},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_optional_columns(void **state)
{
	(void)state;
	static const struct run_case cases[] = {
		{{"-T", NULL},
		 "TIME     " HDR "07:00:00 " L1 "07:00:01 " L2 "07:00:02 " L3
		 "07:00:03 " L4 "07:01:05 " L5},
		{{"-T", "--utc", NULL},
		 "TIME     " HDR "06:00:00 " L1 "06:00:01 " L2 "06:00:02 " L3
		 "06:00:03 " L4 "06:01:05 " L5},
		{{"-U", "-p", "100", NULL},
		 "UID     " HDR "0       " L1 "0       " L3},
		{{"-TU", "-t", "202", NULL},
		 "TIME     UID     " HDR "07:01:05 1000    " L5},
		{{"-e", NULL},
		 "PID    COMM              FD ERR FLAGS    MODE  PATH\n"
		 "100    cat                3   0 00000000 n/a  /etc/passwd\n"
		 "200    python3            4   0 00000101 0644 data/x.txt\n"
		 "100    cat               -1   2 00000000 n/a  /nonexistent\n"
		 "300    mainloop           5   0 02000000 n/a  "
		 "../lib/./libz.so\n"
		 "200    python3           -1  13 00000001 n/a  /tmp/y\n"},
		{{"-F", NULL},
		 HDR L1
		 "200    python3            4   0 /home/alice/data/x.txt\n" L3
		 "300    mainloop           5   0 /usr/lib/libz.so\n" L5},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_time_windows(void **state)
{
	(void)state;
	static const struct run_case cases[] = {
		{{"--since", "+1s", "--until", "+3s", NULL}, HDR L2 L3 L4},
		{{"--since", "1.2", "--until", "2", NULL}, HDR L2 L3},
		{{"--since", "+1m", NULL}, HDR L5},
		{{"--until", "+0.5s", NULL}, HDR L1},
		/* host time of the tape's first day */
		{{"--since", "07:00:02", NULL}, HDR L3 L4 L5},
		{{"--since", "06:00:02", "--utc", NULL}, HDR L3 L4 L5},
		{{"--since", "2026-11-25 07:00:02", "--until", "07:00:03",
		  NULL},
		 HDR L3 L4},
		{{"--since", "2026-11-25T06:00:02Z", NULL}, HDR L3 L4 L5},
		{{"--since", "2026-11-25T08:00:02+02:00", NULL}, HDR L3 L4 L5},
		{{"--since", "2026-11-25 07:01", NULL}, HDR L5},
		{{"--until", "2026-11-24 23:00:00", NULL}, HDR},
	};
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_json(void **state)
{
	(void)state;
	struct fixture fx;
	write_tape(&fx, false);
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--json",
				"-p", "200", NULL),
			 0);
	assert_string_equal(
		fx.out,
		"{\"ts_ns\":3200000000,\"time\":\"2026-11-25T07:00:01.200000000"
		"+01:00\",\"type\":\"open\",\"pid\":200,\"tid\":201,\"uid\":"
		"1000,\"comm\":\"python3\",\"fd\":4,\"err\":0,\"flags\":65,"
		"\"mode\":420,\"syscall\":\"openat\",\"path\":\"data/x.txt\","
		"\"full\":\"/home/alice/data/x.txt\"}\n"
		"{\"ts_ns\":67000000000,\"time\":\"2026-11-25T07:01:05."
		"000000000"
		"+01:00\",\"type\":\"open\",\"pid\":200,\"tid\":202,\"uid\":"
		"1000,\"comm\":\"python3\",\"fd\":-1,\"err\":13,\"flags\":1,"
		"\"mode\":0,\"syscall\":\"openat\",\"path\":\"/tmp/y\","
		"\"full\":\"/tmp/y\"}\n");
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--json",
				"--utc", "-t", "202", NULL),
			 0);
	assert_non_null(strstr(fx.out, "\"time\":\"2026-11-25T06:01:05."
				       "000000000+00:00\""));
	fx_cleanup(&fx);
}

static void test_loss_warning(void **state)
{
	(void)state;
	struct fixture fx;
	write_tape(&fx, true);
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", NULL), 0);
	assert_string_equal(fx.out, HDR L1 L2 L3 L4 L5);
	assert_string_equal(
		fx.err,
		"tracetape: warning: 17 events were lost while recording "
		"inside this window (ring buffer full); the output above "
		"misses them:\n"
		"tracetape: warning:   17 lost on CPU 1 between "
		"2026-11-25T07:00:02.000000000+01:00 and "
		"2026-11-25T07:00:02.500000000+01:00\n");
	/* A window that ends before the loss has no warning. */
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--until",
				"+2s", NULL),
			 0);
	assert_string_equal(fx.out, HDR L1 L2 L3);
	assert_string_equal(fx.err, "");
	/* JSON: a warning object after the events. */
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--json",
				"-p", "300", NULL),
			 0);
	const char *warn = strstr(fx.out, "{\"type\":\"warning\"");
	assert_non_null(warn);
	assert_string_equal(warn,
			    "{\"type\":\"warning\",\"warning\":\"loss\","
			    "\"ts_ns\":4500000000,\"time\":\"2026-11-25T07:00:"
			    "02.500000000+01:00\",\"cpu\":1,\"count\":17,"
			    "\"since_ts_ns\":4000000000}\n");
	fx_cleanup(&fx);
}

static void test_hostile_strings(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_open_rec(&fx, T0 + 1, fx_task(1, 1, 0, "ev\x1b]0;x\x07il"), -2, 0, 0,
		    "/tmp/a\nb\x1b[2J\\c\"d\x7f\xc3\xa9\xff\xc2\x9b", NULL);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", NULL), 0);
	assert_string_equal(fx.out,
			    HDR "1      ev\\x1b]0;x\\x07il  -1   2 "
				"/tmp/a\\nb\\x1b[2J\\\\c\"d\\x7f\xc3\xa9\\xff"
				"\\xc2\\x9b\n");
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "--json", NULL), 0);
	assert_non_null(strstr(fx.out, "\"comm\":\"ev\\u001b]0;x\\u0007il\""));
	assert_non_null(strstr(fx.out, "\"path\":\"/tmp/a\\nb\\u001b[2J\\\\c"
				       "\\\"d\\u007f\xc3\xa9\\u00ff\\u009b\""));
	fx_cleanup(&fx);
}

static void test_usage_errors(void **state)
{
	(void)state;
	struct fixture fx;
	write_tape(&fx, false);
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "-p", "abc", NULL), 2);
	assert_string_equal(fx.out, "");
	assert_string_equal(fx.err, "tracetape opensnoop: -p: invalid value "
				    "'abc' (see tracetape opensnoop --help)\n");
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "--bogus", NULL), 2);
	assert_non_null(strstr(fx.err, "unknown option '--bogus'"));
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--since",
				"yesterday", NULL),
			 2);
	assert_non_null(strstr(fx.err, "--since yesterday: not a time"));
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--since",
				"+3s", "--until", "+1s", NULL),
			 2);
	assert_non_null(strstr(fx.err, "is before --since"));
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "--full-path"));
	/* Not a tape: one line naming the path, exit 2, no header. */
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop",
				   "/nonexistent/tape", NULL),
			 2);
	assert_string_equal(fx.out, "");
	assert_non_null(strstr(fx.err, "/nonexistent/tape"));
	assert_null(strchr(fx.err, '\n') + 1 < fx.err + strlen(fx.err)
			    ? (void *)1
			    : NULL);
	fx_cleanup(&fx);
}

static void test_not_a_tape(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_close(&fx);
	char empty[256], junk[256];
	snprintf(empty, sizeof(empty), "%s/empty", fx.dir);
	snprintf(junk, sizeof(junk), "%s/junk.tt", fx.dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	FILE *f = fopen(junk, "w");
	fputs("this is not a tape\n", f);
	fclose(f);
	const char *paths[] = {empty, junk};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop",
					   paths[i], NULL),
				 2);
		assert_string_equal(fx.out, "");
		assert_non_null(strstr(fx.err, paths[i]));
		/* one line */
		assert_ptr_equal(strchr(fx.err, '\n'),
				 fx.err + strlen(fx.err) - 1);
	}
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_and_filters),
		cmocka_unit_test(test_optional_columns),
		cmocka_unit_test(test_time_windows),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_loss_warning),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_not_a_tape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
