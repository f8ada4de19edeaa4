/* SPDX-License-Identifier: MIT */
/*
 * test_replay_tty.c - TT_REC_TTY, the controlling terminal the recorder
 * writes in front of every readline line: its name and task in the
 * decoder, and tracetape dump's text and --json for a terminal, none, a
 * name that is not a string and a body too short to hold a task.
 * (tracetape history's use of it is in test_history.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#define PTS3 ((136ull << 20) | 3) /* dev_t of /dev/pts/3 */

static void test_decode_names_the_type_and_task(void **state)
{
	struct {
		struct tt_tty t;
		char name[8];
	} body;
	struct tape_record rec = {.type = TT_REC_TTY, .body = &body};
	const struct tt_task *task;

	(void)state;
	memset(&body, 0, sizeof(body));
	body.t.task = fx_task(4242, 4243, 1000, "bash");
	body.t.tty_len = 6;
	memcpy(body.name, "pts/3", 6);
	rec.len = sizeof(body.t) + 6;
	assert_string_equal(replay_type_name(TT_REC_TTY), "tty");
	task = replay_record_task(&rec);
	assert_non_null(task);
	assert_ptr_equal(task, &body.t.task);
	assert_int_equal(task->pid, 4242);
	assert_int_equal(task->tid, 4243);
	rec.len = sizeof(struct tt_task) - 1; /* too short for a task */
	assert_null(replay_record_task(&rec));
}

/*
 * Four TTY records: bash on pts/3 (with its line), a task without a
 * terminal, a name whose length runs past the body, a body shorter than
 * a task.
 */
static void write_tty_tape(struct fixture *fx)
{
	struct tt_task bash = fx_task(4242, 4242, 1000, "bash");
	struct tt_tty bad;
	static const char stub[16];

	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 0);
	fx_tty(fx, T0 + 100 * MS, bash, PTS3, "pts/3");
	fx_readline(fx, T0 + 100 * MS, bash, "make");
	fx_tty(fx, T0 + 200 * MS, fx_task(7, 7, 0, "cron"), 0, NULL);
	memset(&bad, 0, sizeof(bad));
	bad.task = fx_task(8, 8, 0, "x");
	bad.dev = 5;
	bad.tty_len = 9; /* no string follows */
	fx_append(fx, TT_REC_TTY, T0 + 300 * MS, &bad, sizeof(bad));
	fx_append(fx, TT_REC_TTY, T0 + 400 * MS, stub, sizeof(stub));
	fx_close(fx);
}

/* Windows leave out the writer's segment record: it has the real time. */
static void test_dump_text(void **state)
{
	struct fixture fx;

	(void)state;
	write_tty_tape(&fx);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--since", "+0.1s",
				"--until", "+0.5s", NULL),
			 0);
	assert_string_equal(
		fx.out,
		"2026-11-25T06:00:00.100000000+00:00 tty      "
		"ts_ns=2100000000 pid=4242 tid=4242 uid=1000 comm=\"bash\" "
		"dev=142606339 tty=\"pts/3\"\n"
		"2026-11-25T06:00:00.100000000+00:00 readline "
		"ts_ns=2100000000 pid=4242 tid=4242 uid=1000 comm=\"bash\" "
		"line=\"make\"\n"
		"2026-11-25T06:00:00.200000000+00:00 tty      "
		"ts_ns=2200000000 pid=7 tid=7 uid=0 comm=\"cron\" dev=0 "
		"tty=\"\"\n"
		"2026-11-25T06:00:00.300000000+00:00 tty      "
		"ts_ns=2300000000 pid=8 tid=8 uid=0 comm=\"x\" dev=5 tty=\"\"\n"
		"2026-11-25T06:00:00.400000000+00:00 unknown  "
		"ts_ns=2400000000 rec_type=9 len=16\n");
	assert_string_equal(fx.err, "");
	fx_cleanup(&fx);
}

static void test_dump_json(void **state)
{
	struct fixture fx;

	(void)state;
	write_tty_tape(&fx);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--json", "--since",
				"+0.1s", "--until", "+0.2s", NULL),
			 0);
	assert_string_equal(
		fx.out,
		"{\"ts_ns\":2100000000,\"time\":\"2026-11-25T06:00:00.100000000"
		"+00:00\",\"type\":\"tty\",\"pid\":4242,\"tid\":4242,\"uid\":"
		"1000,\"comm\":\"bash\",\"dev\":142606339,\"tty\":\"pts/3\"}\n"
		"{\"ts_ns\":2100000000,\"time\":\"2026-11-25T06:00:00.100000000"
		"+00:00\",\"type\":\"readline\",\"pid\":4242,\"tid\":4242,"
		"\"uid\":1000,\"comm\":\"bash\",\"line\":\"make\"}\n"
		"{\"ts_ns\":2200000000,\"time\":\"2026-11-25T06:00:00.200000000"
		"+00:00\",\"type\":\"tty\",\"pid\":7,\"tid\":7,\"uid\":0,"
		"\"comm\":\"cron\",\"dev\":0,\"tty\":\"\"}\n");
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_names_the_type_and_task),
		cmocka_unit_test(test_dump_text),
		cmocka_unit_test(test_dump_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
