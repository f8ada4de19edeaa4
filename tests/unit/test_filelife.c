/* SPDX-License-Identifier: MIT */
/*
 * test_filelife.c - tracetape filelife: creations paired with deletions
 * through relative paths, renames of files and of directories, rename
 * over a pending file, failed calls and rmdir ignored; -p, -F, --all,
 * --json, --utc, windows and losses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

#define AT_REMOVEDIR 0x200

/*
 * Anchor: T0 is 06:00:00 UTC, host +01:00.  Expected pairs (deleter,
 * age):  /tmp/cc1.s gcc 0.80, /tmp/a.txt rm 1.50, /tmp/b.txt rm 1.00,
 * /tmp/t2 sh 1.90 (created as /tmp/t1), /srv/app/data/x.json python 2.20,
 * /work/build.old/obj/foo.o rm 2.20.
 */
static void write_tape(struct fixture *fx)
{
	struct tt_task sh = fx_task(10, 10, 1000, "sh");
	struct tt_task gcc = fx_task(20, 20, 1000, "gcc");
	struct tt_task rm = fx_task(30, 30, 1000, "rm");
	struct tt_task py = fx_task(40, 41, 1000, "python3");
	struct tt_task make = fx_task(50, 50, 1000, "make");
	struct tt_task mv = fx_task(51, 51, 1000, "mv");
	struct tt_task creat = fx_task(60, 60, 0, "creat-test");

	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	fx_open_ino(fx, T0 + 100 * MS, sh, 3, 21, true, "a.txt", "/tmp");
	fx_open_ino(fx, T0 + 150 * MS, sh, 4, 22, false, "/etc/passwd", NULL);
	/* O_CREAT on a file that exists: not a creation */
	fx_open_ino(fx, T0 + 160 * MS, sh, 5, 23, false, "/tmp/existing", NULL);
	fx_open_ino(fx, T0 + 200 * MS, sh, 6, 24, true, "../b.txt", "/tmp/sub");
	fx_open_ino(fx, T0 + 400 * MS, gcc, 3, 25, true, "/tmp/cc1.s", NULL);
	fx_open_ino(fx, T0 + 500 * MS, py, 3, 26, true, "tmp/x.tmp",
		    "/srv/app");
	fx_rename(fx, T0 + 700 * MS, py, 0, 0, "/srv/app/tmp/x.tmp", NULL,
		  "data/x.json", "/srv/app");
	fx_open_ino(fx, T0 + 800 * MS, make, 3, 27, true, "obj/foo.o",
		    "/work/build");
	fx_rename(fx, T0 + 900 * MS, mv, 0, 0, "build", "/work", "build.old",
		  "/work");
	fx_unlink(fx, T0 + 1000 * MS, gcc, -2, TT_SYS_UNLINK, 0, "/tmp/cc1.sx",
		  NULL);
	fx_unlink(fx, T0 + 1200 * MS, gcc, 0, TT_SYS_UNLINK, 0, "/tmp/cc1.s",
		  NULL);
	fx_open_ino(fx, T0 + 1210 * MS, creat, 3, 28, true, "/tmp/t1", NULL);
	fx_open_ino(fx, T0 + 1220 * MS, creat, 4, 29, true, "/tmp/t2", NULL);
	fx_open_ino(fx, T0 + 1230 * MS, creat, 5, 30, true, "/tmp/keep", NULL);
	fx_unlink(fx, T0 + 1200 * MS + 1, rm, 0, TT_SYS_UNLINKAT, 0, "b.txt",
		  "/tmp");
	fx_rename(fx, T0 + 1500 * MS, sh, 0, 0, "/tmp/t1", NULL, "/tmp/t2",
		  NULL);
	fx_unlink(fx, T0 + 1600 * MS, rm, 0, TT_SYS_UNLINK, 0, "a.txt", "/tmp");
	fx_unlink(fx, T0 + 2000 * MS, rm, 0, TT_SYS_UNLINK, 0,
		  "/var/log/old.log", NULL);
	fx_unlink(fx, T0 + 2700 * MS, py, 0, TT_SYS_UNLINK, 0,
		  "/srv/app/data/x.json", NULL);
	fx_unlink(fx, T0 + 3000 * MS, rm, 0, TT_SYS_UNLINKAT, 0, "obj/foo.o",
		  "/work/build.old");
	fx_unlink(fx, T0 + 3050 * MS, rm, 0, TT_SYS_UNLINKAT, AT_REMOVEDIR,
		  "obj", "/work/build.old");
	fx_unlink(fx, T0 + 3060 * MS, rm, 0, TT_SYS_RMDIR, 0, "/work/build.old",
		  NULL);
	fx_unlink(fx, T0 + 3110 * MS, sh, 0, TT_SYS_UNLINK, 0, "/tmp/t2", NULL);
	fx_close(fx);
}

static void run_golden(const char *golden, ...)
{
	va_list ap;
	va_start(ap, golden);
	bool ok = fx_golden_fresh(write_tape, filelife_main, "filelife", golden,
				  ap);
	va_end(ap);
	assert_true(ok);
}

static void test_default(void **state)
{
	(void)state;
	run_golden("filelife_default.txt", NULL);
}

static void test_full_path_all(void **state)
{
	(void)state;
	run_golden("filelife_full_all.txt", "-F", "--all", NULL);
}

static void test_pid_filter_is_creator(void **state)
{
	(void)state;
	/* python3 created and deleted x.json; make created foo.o */
	run_golden("filelife_pid.txt", "-p", "50", "--full-path", NULL);
}

static void test_utc_and_window(void **state)
{
	(void)state;
	run_golden("filelife_utc_window.txt", "--utc", "--since", "06:00:00.3",
		   "--until", "+3s", NULL);
}

static void test_json(void **state)
{
	(void)state;
	run_golden("filelife_json.txt", "--json", "--all", NULL);
}

/*
 * renameat2(RENAME_EXCHANGE): x1 (created at 0.1 s) and x2 (0.2 s) swap;
 * deleting x1 at 1.0 s deletes the file created as x2 (age 0.80).  Then
 * y (0.3 s) is exchanged with z, which the tape never saw created:
 * deleting z at 2.0 s ends y's life (1.70); deleting y finds nothing.
 */
static void test_rename_exchange(void **state)
{
	struct fixture fx;
	struct tt_task t = fx_task(70, 70, 0, "swapper");
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_open_ino(&fx, T0 + 100 * MS, t, 3, 1, true, "/d/x1", NULL);
	fx_open_ino(&fx, T0 + 200 * MS, t, 4, 2, true, "/d/x2", NULL);
	fx_open_ino(&fx, T0 + 300 * MS, t, 5, 3, true, "/d/y", NULL);
	fx_rename(&fx, T0 + 500 * MS, t, 0, 2, "/d/x1", NULL, "/d/x2", NULL);
	fx_rename(&fx, T0 + 600 * MS, t, 0, 2, "/d/y", NULL, "/d/z", NULL);
	fx_unlink(&fx, T0 + 1000 * MS, t, 0, TT_SYS_UNLINK, 0, "/d/x1", NULL);
	fx_unlink(&fx, T0 + 2000 * MS, t, 0, TT_SYS_UNLINK, 0, "/d/z", NULL);
	fx_unlink(&fx, T0 + 2100 * MS, t, 0, TT_SYS_UNLINK, 0, "/d/y", NULL);
	fx_close(&fx);
	assert_int_equal(
		fx_run(&fx, filelife_main, "filelife", "-F", "--all", NULL), 0);
	assert_string_equal(fx.err, "");
	assert_true(golden_match("filelife_exchange.txt", fx.out));
	fx_cleanup(&fx);
}

static void test_loss_and_bad_args(void **state)
{
	struct fixture fx;
	struct tt_task sh = fx_task(10, 10, 0, "sh");
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_open_ino(&fx, T0 + MS, sh, 3, 5, true, "/tmp/x", NULL);
	fx_loss(&fx, T0 + 2 * MS, 0, 3, T0);
	fx_unlink(&fx, T0 + 3 * MS, sh, 0, TT_SYS_UNLINK, 0, "/tmp/x", NULL);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, filelife_main, "filelife", NULL), 0);
	assert_true(golden_match("filelife_loss.txt", fx.out));
	assert_non_null(strstr(fx.err, "3 events were lost"));
	assert_int_equal(
		fx_run(&fx, filelife_main, "filelife", "-p", "abc", NULL), 2);
	assert_non_null(strstr(fx.err, "-p PID must be a process id"));
	assert_int_equal(fx_run(&fx, filelife_main, "filelife", "extra", NULL),
			 2);
	assert_int_equal(fx_run(&fx, filelife_main, "filelife", "-x", NULL), 2);
	assert_non_null(strstr(fx.err, "filelife: unknown option '-x'"));
	assert_int_equal(fx_run(&fx, filelife_main, "filelife", "--help", NULL),
			 0);
	assert_non_null(strstr(fx.out, "usage: tracetape filelife"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_full_path_all),
		cmocka_unit_test(test_pid_filter_is_creator),
		cmocka_unit_test(test_utc_and_window),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_rename_exchange),
		cmocka_unit_test(test_loss_and_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
