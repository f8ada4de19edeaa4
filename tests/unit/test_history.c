/* SPDX-License-Identifier: MIT */
/*
 * test_history.c - tracetape history: two bash sessions; commands with
 * pipelines, grandchildren, an exec chain, a failed exec, a signal, a
 * background job outliving its prompt, the bash's own redirection; file
 * counts per command; -p, --json, --utc, and a lost-fork fallback.
 * Session 1's lines come with TT_REC_TTY records (pts/3), session 2's
 * without (a tape from before them); test_tty covers the other cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#define EXITED(code) ((code) << 8)
#define PTS(n)	     ((136ull << 20) | (n)) /* dev_t of /dev/pts/N */

/* A line typed on /dev/pts/3: the recorder's TTY record, then the line. */
static void typed_on_pts3(struct fixture *fx, uint64_t ts, struct tt_task bash,
			  const char *line)
{
	fx_tty(fx, ts, bash, PTS(3), "pts/3");
	fx_readline(fx, ts, bash, line);
}

static const struct tt_task *bash1(void)
{
	static struct tt_task t;

	t = fx_task(1000, 1000, 1000, "bash");
	return &t;
}

/* Session 1 (alice): ls; a pipeline with a compiler; rm and a killed
 * sleep; a script that cannot run; exit. */
static void session_one(struct fixture *fx)
{
	struct tt_task bash = *bash1();
	struct tt_task ls = fx_task(1001, 1001, 1000, "ls");
	struct tt_task make = fx_task(1002, 1002, 1000, "make");
	struct tt_task tee = fx_task(1003, 1003, 1000, "tee");
	struct tt_task sh = fx_task(1004, 1004, 1000, "sh");
	struct tt_task cc = fx_task(1004, 1004, 1000, "cc");
	struct tt_task rm = fx_task(1005, 1005, 1000, "rm");
	struct tt_task sleep = fx_task(1006, 1006, 1000, "sleep");
	struct tt_task child = fx_task(1007, 1007, 1000, "bash");
	static const char *const ls_argv[] = {"ls", "-l", "/tmp", NULL};
	static const char *const make_argv[] = {"make", NULL};
	static const char *const tee_argv[] = {"tee", "log", NULL};
	static const char *const sh_argv[] = {"/bin/sh", "-c", "cc -c foo.c",
					      NULL};
	static const char *const cc_argv[] = {"cc", "-c", "foo.c", NULL};
	static const char *const rm_argv[] = {"rm", "log", NULL};
	static const char *const sleep_argv[] = {"sleep", "100", NULL};
	static const char *const script_argv[] = {"./script.sh", NULL};

	typed_on_pts3(fx, T0 + 1000 * MS, bash, "ls -l /tmp");
	fx_fork(fx, T0 + 1001 * MS, bash, 1001);
	fx_exec(fx, T0 + 1002 * MS, ls, 1000, 0, "/usr/bin/ls", ls_argv);
	fx_open_ino(fx, T0 + 1003 * MS, ls, 3, 5, false, "/etc/ld.so.cache",
		    NULL);
	fx_open_ino(fx, T0 + 1004 * MS, ls, 3, 6, false, "/lib/libc.so.6",
		    NULL);
	fx_open_ino(fx, T0 + 1005 * MS, ls, 3, 5, false, "/etc/ld.so.cache",
		    NULL);
	fx_open_ino(fx, T0 + 1006 * MS, ls, 3, 7, false, "/tmp", NULL);
	fx_rw(fx, T0 + 1007 * MS, ls, 5, 3, S_IFCHR | 0620, "0", 0, 0, 2, 300);
	fx_exit(fx, T0 + 1010 * MS, ls, EXITED(0));

	typed_on_pts3(fx, T0 + 2000 * MS, bash, "make | tee log");
	fx_fork(fx, T0 + 2001 * MS, bash, 1002);
	fx_fork(fx, T0 + 2001 * MS + 1, bash, 1003);
	fx_exec(fx, T0 + 2002 * MS, make, 1000, 0, "/usr/bin/make", make_argv);
	fx_exec(fx, T0 + 2003 * MS, tee, 1000, 0, "/usr/bin/tee", tee_argv);
	fx_open_ino(fx, T0 + 2004 * MS, tee, 3, 21, true, "log", "/home/alice");
	fx_fork(fx, T0 + 2005 * MS, make, 1004);
	fx_exec(fx, T0 + 2006 * MS, sh, 1002, 0, "/bin/sh", sh_argv);
	fx_exec(fx, T0 + 2007 * MS, cc, 1002, 0, "/usr/bin/cc", cc_argv);
	fx_open_ino(fx, T0 + 2008 * MS, cc, 3, 30, false, "foo.c",
		    "/home/alice");
	fx_open_ino(fx, T0 + 2009 * MS, cc, 4, 20, true, "foo.o",
		    "/home/alice");
	fx_rw(fx, T0 + 2010 * MS, cc, DEV, 20, S_IFREG | 0644, "foo.o", 0, 0, 1,
	      100);
	fx_rw(fx, T0 + 2011 * MS, cc, DEV, 20, S_IFREG | 0644, "foo.o", 0, 0, 3,
	      900);
	fx_exit(fx, T0 + 2012 * MS, cc, EXITED(1));
	fx_rw(fx, T0 + 2013 * MS, tee, DEV, 21, S_IFREG | 0644, "log", 0, 0, 1,
	      40);
	fx_exit(fx, T0 + 2014 * MS, make, EXITED(2));
	fx_exit(fx, T0 + 2015 * MS, tee, EXITED(0));

	typed_on_pts3(fx, T0 + 3000 * MS, bash, "rm log; sleep 100");
	fx_fork(fx, T0 + 3001 * MS, bash, 1005);
	fx_exec(fx, T0 + 3002 * MS, rm, 1000, 0, "/usr/bin/rm", rm_argv);
	fx_unlink(fx, T0 + 3003 * MS, rm, 0, TT_SYS_UNLINKAT, 0, "log",
		  "/home/alice");
	fx_exit(fx, T0 + 3004 * MS, rm, EXITED(0));
	fx_fork(fx, T0 + 3005 * MS, bash, 1006);
	fx_exec(fx, T0 + 3006 * MS, sleep, 1000, 0, "/usr/bin/sleep",
		sleep_argv);
	fx_exit(fx, T0 + 3900 * MS, sleep, 9);

	typed_on_pts3(fx, T0 + 4000 * MS, bash, "./script.sh");
	fx_fork(fx, T0 + 4001 * MS, bash, 1007);
	fx_exec(fx, T0 + 4002 * MS, child, 1000, -13, "./script.sh",
		script_argv);
	fx_exit(fx, T0 + 4003 * MS, child, EXITED(126));

	typed_on_pts3(fx, T0 + 5000 * MS, bash, "exit");
	fx_exit(fx, T0 + 5001 * MS, bash, EXITED(0));
}

/*
 * Session 2 (uid 4242, no name on the tape): vim still running at the
 * end; a background sleep that exits after the next prompt; a
 * redirection done by bash itself; an exec whose fork record is lost.
 */
static void session_two(struct fixture *fx)
{
	struct tt_task bash = fx_task(2000, 2000, 4242, "bash");
	struct tt_task vim = fx_task(2001, 2001, 4242, "vim");
	struct tt_task sleep = fx_task(2002, 2002, 4242, "sleep");
	struct tt_task cat = fx_task(2003, 2003, 4242, "cat");
	static const char *const vim_argv[] = {"vim", "my notes.txt", NULL};
	static const char *const sleep_argv[] = {"sleep", "5", NULL};
	static const char *const cat_argv[] = {"cat", "out.txt", NULL};

	fx_readline(fx, T0 + 2500 * MS, bash, "vim 'my notes.txt'");
	fx_fork(fx, T0 + 2501 * MS, bash, 2001);
	fx_exec(fx, T0 + 2502 * MS, vim, 2000, 0, "/usr/bin/vim", vim_argv);
	fx_readline(fx, T0 + 2600 * MS, bash, "sleep 5 &");
	fx_fork(fx, T0 + 2601 * MS, bash, 2002);
	fx_exec(fx, T0 + 2602 * MS, sleep, 2000, 0, "/usr/bin/sleep",
		sleep_argv);
	fx_readline(fx, T0 + 2800 * MS, bash, "echo hi > out.txt");
	fx_open_ino(fx, T0 + 2801 * MS, bash, 3, 40, true, "out.txt", "/root");
	fx_rw(fx, T0 + 2802 * MS, bash, DEV, 40, S_IFREG | 0644, "out.txt", 0,
	      0, 1, 3);
	fx_readline(fx, T0 + 2900 * MS, bash, "cat out.txt");
	/* no fork record: the exec's ppid ties cat to the command */
	fx_exec(fx, T0 + 2902 * MS, cat, 2000, 0, "/usr/bin/cat", cat_argv);
	fx_exit(fx, T0 + 2903 * MS, cat, EXITED(0));
	fx_exit(fx, T0 + 7602 * MS, sleep, EXITED(0));
}

static void write_tape(struct fixture *fx)
{
	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	fx_user(fx, T0, 1000, "alice");
	/* a process outside any session: ignored */
	fx_open_ino(fx, T0 + 10 * MS, fx_task(5, 5, 0, "cron"), 3, 99, true,
		    "/var/run/cron.pid", NULL);
	session_one(fx);
	session_two(fx);
	fx_close(fx);
}

static void run_golden(const char *golden, ...)
{
	va_list ap;
	va_start(ap, golden);
	bool ok = fx_golden_fresh(write_tape, history_main, "history", golden,
				  ap);
	va_end(ap);
	assert_true(ok);
}

static void test_default(void **state)
{
	(void)state;
	run_golden("history_default.txt", NULL);
}

static void test_one_session_utc(void **state)
{
	(void)state;
	run_golden("history_pid_utc.txt", "-p", "2000", "--utc", NULL);
}

static void test_json(void **state)
{
	(void)state;
	run_golden("history_json.txt", "--json", NULL);
}

static void test_window(void **state)
{
	(void)state;
	/* from the third prompt of session 1 on */
	run_golden("history_window.txt", "--since", "+3s", "--until", "+4.5s",
		   NULL);
}

/* Cut argv, quotes and control characters, a core dump, an empty arg. */
static void test_argv_rendering(void **state)
{
	struct fixture fx;
	struct tt_task bash = fx_task(300, 300, 0, "bash");
	struct tt_task echo = fx_task(301, 301, 0, "printf");
	static const char *const argv[] = {"printf", "it's", "a\tb\x1b[31m", "",
					   NULL};
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_readline(&fx, T0 + MS, bash, "printf \"it's\" $'a\\tb' ''");
	fx_fork(&fx, T0 + 2 * MS, bash, 301);
	fx_exec_flags(&fx, T0 + 3 * MS, echo, 300, 0, argv[0], argv,
		      TT_EXEC_TRUNCATED);
	fx_exit(&fx, T0 + 4 * MS, echo, 11 | 0x80);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, history_main, "history", NULL), 0);
	assert_true(golden_match("history_argv.txt", fx.out));
	assert_int_equal(fx_run(&fx, history_main, "history", "--json", NULL),
			 0);
	assert_true(golden_match("history_argv.json", fx.out));
	fx_cleanup(&fx);
}

/*
 * `exec nosuch` fails and bash goes on; `exec ls` replaces bash: the
 * session ends and ls's exit is the last thing shown.
 */
static void test_exec_at_prompt(void **state)
{
	struct fixture fx;
	struct tt_task bash = fx_task(400, 400, 0, "bash");
	struct tt_task ls = fx_task(400, 400, 0, "ls");
	static const char *const nosuch[] = {"nosuch", NULL};
	static const char *const ls_argv[] = {"ls", NULL};
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_readline(&fx, T0 + 1 * MS, bash, "exec nosuch");
	fx_exec(&fx, T0 + 2 * MS, bash, 1, -2, "/usr/bin/nosuch", nosuch);
	fx_readline(&fx, T0 + 3 * MS, bash, "exec ls");
	fx_exec(&fx, T0 + 4 * MS, ls, 1, 0, "/usr/bin/ls", ls_argv);
	fx_open_ino(&fx, T0 + 5 * MS, ls, 3, 9, false, "/etc/passwd", NULL);
	fx_exit(&fx, T0 + 6 * MS, ls, 0);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, history_main, "history", NULL), 0);
	assert_true(golden_match("history_exec_prompt.txt", fx.out));
	fx_cleanup(&fx);
}

/*
 * The terminal in every form a TT_REC_TTY can give it: none (tty_len 0),
 * a record stored after its line (a chunk boundary between them), a
 * name that is not a string (left unknown), control characters
 * (escaped), a bash that never typed a line (no session), and -p.
 */
static void write_tty_tape(struct fixture *fx)
{
	struct tt_task nottyd = fx_task(500, 500, 0, "bash");
	struct tt_task late = fx_task(600, 600, 0, "bash");
	struct tt_task broken = fx_task(700, 700, 0, "bash");
	struct tt_task odd = fx_task(750, 750, 0, "bash");
	struct tt_task silent = fx_task(800, 800, 0, "bash");
	struct tt_tty bad;

	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 0);
	fx_user(fx, T0, 0, "root");
	fx_tty(fx, T0 + 1 * MS, nottyd, 0, NULL);
	fx_readline(fx, T0 + 1 * MS, nottyd, "ls");
	fx_readline(fx, T0 + 2 * MS, late, "late");
	fx_tty(fx, T0 + 2 * MS, late, PTS(7), "pts/7");
	memset(&bad, 0, sizeof(bad));
	bad.task = broken;
	bad.dev = PTS(8);
	bad.tty_len = 50; /* the body holds no such string */
	fx_append(fx, TT_REC_TTY, T0 + 3 * MS, &bad, sizeof(bad));
	fx_readline(fx, T0 + 3 * MS, broken, "broken");
	fx_tty(fx, T0 + 4 * MS, odd, 1, "tty\x1b[1m1");
	fx_readline(fx, T0 + 4 * MS, odd, "odd");
	fx_tty(fx, T0 + 5 * MS, silent, PTS(9), "pts/9");
	fx_exit(fx, T0 + 6 * MS, silent, 0);
	fx_close(fx);
}

static void test_tty(void **state)
{
	struct fixture fx;
	(void)state;
	write_tty_tape(&fx);
	assert_int_equal(fx_run(&fx, history_main, "history", NULL), 0);
	assert_true(golden_match("history_tty.txt", fx.out));
	assert_non_null(strstr(fx.out, "pid 500, user root (uid 0), no "
				       "controlling tty\n"));
	assert_non_null(strstr(fx.out, "pid 600, user root (uid 0), tty "
				       "pts/7\n"));
	assert_non_null(strstr(fx.out, "pid 700, user root (uid 0), tty "
				       "unknown (not recorded)\n"));
	assert_non_null(strstr(fx.out, "tty tty\\x1b[1m1\n"));
	assert_null(strstr(fx.out, "pid 800"));
	assert_int_equal(fx_run(&fx, history_main, "history", "--json", NULL),
			 0);
	assert_true(golden_match("history_tty.json", fx.out));
	assert_non_null(strstr(fx.out, "\"session_pid\":500,\"uid\":0,\"user\""
				       ":\"root\",\"tty\":\"\","));
	assert_non_null(strstr(fx.out, "\"session_pid\":700,\"uid\":0,\"user\""
				       ":\"root\",\"tty\":null,"));
	assert_int_equal(
		fx_run(&fx, history_main, "history", "-p", "600", NULL), 0);
	assert_non_null(strstr(fx.out, "pid 600, user root (uid 0), tty "
				       "pts/7\n"));
	assert_null(strstr(fx.out, "pid 500"));
	fx_cleanup(&fx);
}

static void test_no_session_and_loss(void **state)
{
	struct fixture fx;
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_open_ino(&fx, T0 + MS, fx_task(5, 5, 0, "cron"), 3, 9, false,
		    "/etc/crontab", NULL);
	fx_loss(&fx, T0 + 2 * MS, 1, 5, T0);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, history_main, "history", NULL), 0);
	assert_true(golden_match("history_empty.txt", fx.out));
	assert_non_null(strstr(fx.err, "5 events were lost"));
	assert_int_equal(fx_run(&fx, history_main, "history", "-p", "0", NULL),
			 2);
	assert_int_equal(fx_run(&fx, history_main, "history", "--pid", NULL),
			 2);
	assert_non_null(strstr(fx.err, "option '--pid' needs a value"));
	assert_int_equal(fx_run(&fx, history_main, "history", "--help", NULL),
			 0);
	assert_non_null(strstr(fx.out, "usage: tracetape history"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_one_session_utc),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_argv_rendering),
		cmocka_unit_test(test_exec_at_prompt),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_no_session_and_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
