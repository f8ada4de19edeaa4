/* SPDX-License-Identifier: MIT */
/*
 * test_filetop.c - tracetape filetop: complete outputs for every flag,
 * intervals with their load average, time zones, losses, and exact
 * byte and call sums checked against the numbers the tape was built
 * from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

/*
 * Anchor: T0 is 2026-11-25 06:00:00 UTC, host zone +01:00 (07:00:00).
 * Slice 0 [T0, T0+1s): cat (tid 100) reads passwd twice over two
 * records, its thread "worker" (tid 101) writes data.bin, nginx writes a
 * socket, a pipe is read.  Slice 1 [T0+1s, T0+2s): dd writes out.img.
 * Slice 2 is empty; slice 3 [T0+3s, T0+4s): cat reads passwd again.
 */
static void write_tape(struct fixture *fx, bool with_loadavg)
{
	struct tt_task cat = fx_task(100, 100, 1000, "cat");
	struct tt_task worker = fx_task(100, 101, 1000, "worker");
	struct tt_task nginx = fx_task(200, 200, 33, "nginx");
	struct tt_task dd = fx_task(300, 300, 0, "dd");

	fx_open(fx);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	if (with_loadavg)
		fx_loadavg(fx, T0, 10, 20, 30, 2, 345, 6789);
	fx_rw(fx, T0 + 100 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 3,
	      3 * 4096 + 10, 0, 0);
	fx_rw(fx, T0 + 200 * MS, worker, DEV, 12, S_IFREG | 0600, "data.bin", 0,
	      0, 5, 10 * 1024);
	fx_rw(fx, T0 + 300 * MS, nginx, 9, 77, S_IFSOCK | 0777, "TCP", 0, 0, 7,
	      7000);
	fx_rw(fx, T0 + 400 * MS, cat, 12, 78, S_IFIFO | 0600, "pipe:[78]", 2,
	      300, 0, 0);
	fx_rw(fx, T0 + 500 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 1, 100,
	      0, 0);
	if (with_loadavg)
		fx_loadavg(fx, T0 + FX_SEC, 150, 120, 101, 3, 350, 6800);
	fx_rw(fx, T0 + 1500 * MS, dd, DEV, 13, S_IFREG | 0644, "out.img", 1,
	      512, 100, 100ull << 20);
	fx_rw(fx, T0 + 3200 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 9,
	      9 * 1024, 0, 0);
	fx_close(fx);
}

static void check_golden(struct fixture *fx, const char *golden, int rc)
{
	assert_true(fx_golden_ok(fx, golden, rc));
}

static void test_whole_tape_default(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_default.txt",
		     fx_run(&fx, filetop_main, "filetop", NULL));
	fx_cleanup(&fx);
}

static void test_all_files_sorted_by_writes(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_all_writes.txt",
		     fx_run(&fx, filetop_main, "filetop", "-a", "-s", "writes",
			    NULL));
	fx_cleanup(&fx);
}

static void test_sort_keys_rows_pid(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_reads_r2.txt",
		     fx_run(&fx, filetop_main, "filetop", "--all", "--sort",
			    "reads", "-r", "2", NULL));
	check_golden(&fx, "filetop_rbytes_pid.txt",
		     fx_run(&fx, filetop_main, "filetop", "-a", "-s", "rbytes",
			    "-p", "100", NULL));
	check_golden(&fx, "filetop_wbytes.txt",
		     fx_run(&fx, filetop_main, "filetop", "-s", "wbytes", "-C",
			    NULL));
	fx_cleanup(&fx);
}

/* Slices of 1 s: empty ones too, each with its load average. */
static void test_intervals(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_interval.txt",
		     fx_run(&fx, filetop_main, "filetop", "1", "-a", NULL));
	check_golden(&fx, "filetop_interval_count.txt",
		     fx_run(&fx, filetop_main, "filetop", "1", "2", NULL));
	check_golden(&fx, "filetop_interval_utc.txt",
		     fx_run(&fx, filetop_main, "filetop", "2", "--utc", NULL));
	fx_cleanup(&fx);
}

static void test_no_loadavg(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, false);
	check_golden(
		&fx, "filetop_no_loadavg.txt",
		fx_run(&fx, filetop_main, "filetop", "--until", "+1s", NULL));
	fx_cleanup(&fx);
}

static void test_window(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_window.txt",
		     fx_run(&fx, filetop_main, "filetop", "--since", "+1s",
			    "--until", "07:00:02", "-a", NULL));
	fx_cleanup(&fx);
}

/* Seeking past a sample: the first heading shows it, not N/A. */
static void test_load_before_window(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "1", "1",
				"--since", "+1200ms", NULL),
			 0);
	assert_string_equal(fx.err, "");
	assert_true(strncmp(fx.out,
			    "07:00:02 loadavg: 1.50 1.20 1.01 3/350 6800\n\n",
			    45) == 0);
	assert_non_null(strstr(fx.out, "out.img"));
	fx_cleanup(&fx);
}

/* With COUNT, reading stops after the last table: a loss later on does
 * not concern it; without the cut it is warned about. */
static void test_count_stops_reading(void **state)
{
	struct fixture fx;
	struct tt_task cat = fx_task(100, 100, 1000, "cat");
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_rw(&fx, T0 + 100 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 1, 10,
	      0, 0);
	fx_rw(&fx, T0 + 1100 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 1,
	      10, 0, 0);
	/* ends the second table */
	fx_rw(&fx, T0 + 2600 * MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 1,
	      10, 0, 0);
	fx_loss(&fx, T0 + 2700 * MS, 1, 42, T0 + 2 * FX_SEC);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "1", "2", NULL),
			 0);
	assert_string_equal(fx.err, "");
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "1", "3", NULL),
			 0);
	assert_non_null(strstr(fx.err, "42 events were lost"));
	fx_cleanup(&fx);
}

static void test_json(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, true);
	check_golden(&fx, "filetop_json.txt",
		     fx_run(&fx, filetop_main, "filetop", "--json", "2", "-a",
			    NULL));
	/* The exact sums the tape was built from. */
	assert_non_null(strstr(fx.out, "\"tid\":100,\"pid\":100,\"uid\":1000,"
				       "\"comm\":\"cat\",\"reads\":4,"
				       "\"writes\":0,\"rbytes\":12398,"));
	assert_non_null(strstr(fx.out, "\"wbytes\":104857600,"));
	fx_cleanup(&fx);
}

/* Losses in the window are reported on stderr after the table. */
static void test_loss_warning(void **state)
{
	struct fixture fx;
	struct tt_task cat = fx_task(100, 100, 1000, "cat");
	(void)state;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_rw(&fx, T0 + MS, cat, DEV, 11, S_IFREG | 0644, "passwd", 1, 1024, 0,
	      0);
	fx_loss(&fx, T0 + 2 * MS, 1, 42, T0);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", NULL), 0);
	assert_true(golden_match("filetop_loss.txt", fx.out));
	assert_true(golden_match("filetop_loss.err", fx.err));
	fx_cleanup(&fx);
}

/*
 * A damaged chunk: the rest is still counted, and the damage is named
 * on stderr.  Chunks of about 4 KiB hold ~45 records each.
 */
static void test_damage_warning(void **state)
{
	struct fixture fx;
	struct tt_task cat = fx_task(100, 100, 1000, "cat");
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	uint64_t reads = 0;
	const char *p;
	(void)state;
	fx_open_opts(&fx, &o);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	for (int i = 0; i < 1000; i++)
		fx_rw(&fx, T0 + (uint64_t)i * MS, cat, DEV, 11, S_IFREG | 0644,
		      "passwd", 1, 1, 0, 0);
	fx_close(&fx);
	fx_damage(&fx, 0.5);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "--json", NULL),
			 0);
	p = strstr(fx.out, "\"reads\":");
	assert_non_null(p);
	reads = strtoull(p + 8, NULL, 10);
	/* one chunk or two lost, not everything */
	assert_true(reads < 1000);
	assert_true(reads >= 900);
	assert_non_null(strstr(fx.err, "warning: damaged tape: "));
	assert_non_null(strstr(fx.out, "\"warning\":\"damage\""));
	fx_cleanup(&fx);
}

/* The unsigned number after "KEY": in LINE; fails the test if absent. */
static uint64_t json_u64(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 10);
}

/*
 * The oracle test: 20000 pseudo-random records over 40 threads x 8
 * files and 10 one-second slices; the sums the test computed itself must
 * come back exactly, per slice and per (thread, file), and nothing else.
 */
static void test_exact_sums_random(void **state)
{
	enum { SLICES = 10, TIDS = 40, FILES = 8, RECORDS = 20000 };
	static uint64_t want[SLICES][TIDS][FILES][4];
	static bool seen[SLICES][TIDS][FILES];
	struct fixture fx;
	uint64_t x = 42, rows = 0;
	char *line, *save = NULL;
	(void)state;
	memset(want, 0, sizeof(want));
	memset(seen, 0, sizeof(seen));
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	for (int i = 0; i < RECORDS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		int tid = (int)((x >> 20) % TIDS),
		    file = (int)((x >> 30) % FILES);
		uint64_t ts = T0 + (uint64_t)i * (SLICES * FX_SEC / RECORDS);
		int slice = (int)((ts - T0) / FX_SEC);
		uint32_t reads = (uint32_t)(x >> 40) % 4,
			 writes = (x >> 44) % 3;
		uint64_t rb = reads * ((x >> 48) % 70000), wb = writes * 4099;
		char name[16];

		snprintf(name, sizeof(name), "f%d", file);
		fx_rw(&fx, ts, fx_task(500, 1000 + (uint32_t)tid, 0, "w"), DEV,
		      100 + (uint64_t)file, S_IFREG | 0644, name, reads, rb,
		      writes, wb);
		want[slice][tid][file][0] += reads;
		want[slice][tid][file][1] += writes;
		want[slice][tid][file][2] += rb;
		want[slice][tid][file][3] += wb;
		seen[slice][tid][file] = true;
	}
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "1", "--json",
				"-r", "10240", NULL),
			 0);
	for (line = strtok_r(fx.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "\"type\":\"file\""))
			continue;
		uint64_t slice = json_u64(line, "interval");
		uint64_t tid = json_u64(line, "tid") - 1000;
		uint64_t file = json_u64(line, "ino") - 100;

		assert_true(slice < SLICES && tid < TIDS && file < FILES);
		assert_true(seen[slice][tid][file]);
		seen[slice][tid][file] = false; /* each key once per slice */
		assert_int_equal(json_u64(line, "reads"),
				 want[slice][tid][file][0]);
		assert_int_equal(json_u64(line, "writes"),
				 want[slice][tid][file][1]);
		assert_int_equal(json_u64(line, "rbytes"),
				 want[slice][tid][file][2]);
		assert_int_equal(json_u64(line, "wbytes"),
				 want[slice][tid][file][3]);
		rows++;
	}
	for (int sl = 0; sl < SLICES; sl++)
		for (int t = 0; t < TIDS; t++)
			for (int f = 0; f < FILES; f++)
				assert_false(seen[sl][t][f]);
	assert_true(rows > SLICES * TIDS * FILES / 2);
	fx_cleanup(&fx);
}

static void test_bad_arguments(void **state)
{
	struct fixture fx;
	(void)state;
	write_tape(&fx, false);
	assert_int_equal(
		fx_run(&fx, filetop_main, "filetop", "-s", "size", NULL), 2);
	assert_non_null(strstr(fx.err, "unknown sort key 'size'"));
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "0", NULL), 2);
	assert_non_null(strstr(fx.err, "INTERVAL must be"));
	assert_int_equal(
		fx_run(&fx, filetop_main, "filetop", "1", "2", "3", NULL), 2);
	assert_non_null(strstr(fx.err, "too many arguments"));
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "-r", "x", NULL),
			 2);
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "--bogus", NULL),
			 2);
	assert_non_null(strstr(fx.err, "unknown option '--bogus'"));
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "-r", NULL), 2);
	assert_non_null(strstr(fx.err, "option '-r' needs a value"));
	assert_int_equal(fx_run_on(&fx, filetop_main, "filetop",
				   "/nonexistent/tape", NULL),
			 2);
	assert_non_null(strstr(fx.err, "/nonexistent/tape"));
	assert_int_equal(fx_run(&fx, filetop_main, "filetop", "--help", NULL),
			 0);
	assert_non_null(strstr(fx.out, "usage: tracetape filetop"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_tape_default),
		cmocka_unit_test(test_all_files_sorted_by_writes),
		cmocka_unit_test(test_sort_keys_rows_pid),
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_no_loadavg),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_load_before_window),
		cmocka_unit_test(test_count_stops_reading),
		cmocka_unit_test(test_loss_warning),
		cmocka_unit_test(test_damage_warning),
		cmocka_unit_test(test_exact_sums_random),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
