/* SPDX-License-Identifier: MIT */
/*
 * test_replay_framework.c - the shared parts of replay: path resolution,
 * --since/--until parsing, the clock mapping, the process table, user
 * names, escaping, damage and partial segments, info and verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <time.h>

#include "fixture.h"
#include "when.h"

/* ---- paths ------------------------------------------------------- */

static void check_resolve(const char *dir_abs, const char *path,
			  const char *want)
{
	char blob[256], out[256];
	size_t n = dir_abs ? fx_dir_blob(dir_abs, blob, sizeof(blob)) : 0;
	size_t len = replay_resolve_path(dir_abs ? blob : NULL, n, path, out,
					 sizeof(out));
	if (strcmp(out, want))
		fprintf(stderr, "resolve(%s, %s) = %s, want %s\n",
			dir_abs ? dir_abs : "NULL", path, out, want);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
}

static void test_resolve_path(void **state)
{
	(void)state;
	check_resolve("/home/alice", "x.txt", "/home/alice/x.txt");
	check_resolve("/home/alice", "./a//b/./c", "/home/alice/a/b/c");
	check_resolve("/home/alice", "../../../../etc", "/etc");
	check_resolve("/home/alice", "..", "/home");
	check_resolve("/home/alice", ".", "/home/alice");
	check_resolve("/home/alice", "", "/home/alice");
	check_resolve("/", "tmp/x", "/tmp/x");
	check_resolve("/srv", "/abs//path/../p", "/abs/p");
	check_resolve(NULL, "/a/./b/", "/a/b");
	check_resolve(NULL, "/", "/");
	check_resolve(NULL, "rel/./x", "rel/x");
	check_resolve(NULL, "../x", "../x");
	check_resolve(NULL, "../../x/../y", "../../y");
	check_resolve(NULL, "a/../../b", "../b");
	check_resolve(NULL, "a/..", ".");
	check_resolve(NULL, ".", ".");
	/* truncation: the length needed is still returned */
	char small[8];
	size_t need = replay_resolve_path(NULL, 0, "/abcdef/ghijkl", small,
					  sizeof(small));
	assert_int_equal(need, 14);
	assert_string_equal(small, "/abcdef");
	char blob[64], out[64];
	size_t n = fx_dir_blob("/a/b", blob, sizeof(blob));
	assert_int_equal(n, 4);
	assert_memory_equal(blob, "b\0a\0", 4);
	replay_dir_path(blob, n, out, sizeof(out));
	assert_string_equal(out, "/a/b");
	replay_dir_path("\0", 1, out, sizeof(out));
	assert_string_equal(out, "/");
	/* a mount root read as "/" among the components */
	replay_dir_path("b\0/\0a\0", 6, out, sizeof(out));
	assert_string_equal(out, "/a/b");
	replay_resolve_path("..\0b\0a\0", 7, "x", out, sizeof(out));
	assert_string_equal(out, "/a/x");
}

/* ---- --since / --until ------------------------------------------- */

static void test_parse_when(void **state)
{
	(void)state;
	struct replay_when_ctx w = {
		.clock = {.boottime_ns = T0,
			  .realtime_ns = FX_REALTIME_BASE,
			  .utc_offset = 3600,
			  .valid = true},
		.tape_start_ts = T0 - FX_SEC, /* 06:59:59 host time */
	};
	const char *why = NULL;
	uint64_t ts;
	struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{"+30s", T0 + 29 * FX_SEC},
		{"30", T0 + 29 * FX_SEC},
		{"+1.5s", T0 - FX_SEC + 1500 * MS},
		{"+2m", T0 + 119 * FX_SEC},
		{"+1h", T0 + 3599 * FX_SEC},
		{"+250ms", T0 - FX_SEC + 250 * MS},
		{"07:00:00", T0},
		{"07:00", T0},
		{"07:00:01.25", T0 + 1250 * MS},
		{"2026-11-25 07:00:10", T0 + 10 * FX_SEC},
		{"2026-11-25T07:00:10", T0 + 10 * FX_SEC},
		{"2026-11-25T06:00:10Z", T0 + 10 * FX_SEC},
		{"2026-11-25T09:00:10+03:00", T0 + 10 * FX_SEC},
		{"2026-11-25T01:00:10-0500", T0 + 10 * FX_SEC},
		{"2026-11-25", 1}, /* before the tape: clamped */
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = replay_parse_when(ok[i].s, &w, &ts, &why);
		if (rc || ts != ok[i].want)
			fprintf(stderr, "%s: rc %d ts %llu want %llu\n",
				ok[i].s, rc, (unsigned long long)ts,
				(unsigned long long)ok[i].want);
		assert_int_equal(rc, 0);
		assert_int_equal(ts, ok[i].want);
	}
	w.utc = true;
	assert_int_equal(replay_parse_when("06:00:05", &w, &ts, &why), 0);
	assert_int_equal(ts, T0 + 5 * FX_SEC);
	const char *bad[] = {"",
			     "abc",
			     "+",
			     "+5x",
			     "25:00",
			     "2026-13-01",
			     "07:00:00 junk",
			     "+1.s",
			     "2026-11-25T07:00+1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(replay_parse_when(bad[i], &w, &ts, &why), -1);
		assert_non_null(why);
	}
	/* Without an anchor only offsets work, and the reason says so. */
	w.clock.valid = false;
	assert_int_equal(replay_parse_when("+5s", &w, &ts, &why), 0);
	assert_int_equal(replay_parse_when("07:00", &w, &ts, &why), -1);
	assert_non_null(strstr(why, "no clock anchor"));
}

/* ---- clock mapping ----------------------------------------------- */

static void test_clock_anchors(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	/* An event before the first anchor uses the first anchor. */
	fx_readline(&fx, T0 - 500 * MS, fx_task(1, 1, 0, "bash"), "early");
	fx_clock(&fx, T0, FX_REALTIME_BASE, 3600);
	fx_readline(&fx, T0 + FX_SEC, fx_task(1, 1, 0, "bash"), "first");
	/* The host's zone changes (DST): later events use the new offset;
	 * the realtime step (NTP) is honoured too. */
	fx_clock(&fx, T0 + 10 * FX_SEC, FX_REALTIME_BASE + 70 * FX_SEC, 7200);
	fx_readline(&fx, T0 + 11 * FX_SEC, fx_task(1, 1, 0, "bash"), "after");
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline", NULL),
			 0);
	assert_string_equal(fx.out, "TIME      PID     COMMAND\n"
				    "06:59:59  1       early\n"
				    "07:00:01  1       first\n"
				    "08:01:11  1       after\n");
	/* The analyst's zone plays no part. */
	char *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline", NULL),
			 0);
	assert_non_null(strstr(fx.out, "07:00:01  1       first\n"));
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	free(old_tz);
	tzset();
	assert_int_equal(
		fx_run(&fx, bashreadline_main, "bashreadline", "--utc", NULL),
		0);
	assert_string_equal(fx.out, "TIME      PID     COMMAND\n"
				    "05:59:59  1       early\n"
				    "06:00:01  1       first\n"
				    "06:01:11  1       after\n");
	fx_cleanup(&fx);
}

/* Times of earlier events, asked later (as filelife does for a
 * creation): the anchor before each event, not the latest one. */
static int earlier_times(struct replay *rp, const struct tape_record *rec,
			 void *ctx)
{
	(void)ctx;
	if (rec->type != TT_REC_READLINE)
		return 0;
	char a[REPLAY_HMS_LEN], b[REPLAY_HMS_LEN];
	replay_fmt_hms(rp, rec->ts - 6 * FX_SEC, a);
	replay_fmt_hms(rp, rec->ts, b);
	fprintf(rp->out, "%s %s\n", a, b);
	return 0;
}

static int earlier_entry(int argc, char **argv, const struct replay_env *env)
{
	(void)argc;
	struct replay_common c = {.tape = argv[1]};
	struct replay_ops ops = {.on_record = earlier_times};
	return replay_run(&c, &ops, env);
}

static void test_clock_earlier_events(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 3600);
	fx_clock(&fx, T0 + 10 * FX_SEC, FX_REALTIME_BASE + 10 * FX_SEC, 7200);
	fx_readline(&fx, T0 + 12 * FX_SEC, fx_task(1, 1, 0, "bash"), "x");
	fx_clock(&fx, T0 + 20 * FX_SEC, FX_REALTIME_BASE + 20 * FX_SEC, 0);
	fx_readline(&fx, T0 + 21 * FX_SEC, fx_task(1, 1, 0, "bash"), "y");
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, earlier_entry, "earlier", NULL), 0);
	assert_string_equal(fx.out, "07:00:06 08:00:12\n"
				    "08:00:15 06:00:21\n");
	fx_cleanup(&fx);
}

static void test_no_anchor(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_readline(&fx, T0 + 1500 * MS, fx_task(1, 1, 0, "bash"), "x");
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline", NULL),
			 0);
	/* seconds since boot keep the column readable */
	assert_string_equal(fx.out, "TIME      PID     COMMAND\n"
				    "3.500     1       x\n");
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline",
				"--since", "07:00", NULL),
			 2);
	assert_non_null(strstr(fx.err, "no clock anchor"));
	fx_cleanup(&fx);
}

/* ---- numbers in options ------------------------------------------ */

static void test_parse_range(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(replay_parse_range("1", 1, 10, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(replay_parse_range("10", 1, 10, &v), 0);
	assert_int_equal(v, 10);
	/* out of range, not a number, signs, blanks: *out stays */
	const char *bad[] = {"0",  "11", "",   "x",   "-1",
			     "+1", " 1", "1 ", "1e3", "99999999999999999999",
			     NULL};
	for (const char **b = bad; *b; b++)
		assert_int_equal(replay_parse_range(*b, 1, 10, &v), -1);
	assert_int_equal(v, 10);
	assert_int_equal(
		replay_parse_range("18446744073709551615", 0, UINT64_MAX, &v),
		0);
	assert_true(v == UINT64_MAX);
}

/* ---- stopping early and the load before the window ------------- */

/* Prints each typed line; "stop" ends the replay. */
static int print_until_stop(struct replay *rp, const struct tape_record *rec,
			    void *ctx)
{
	(void)ctx;
	struct replay_readline rl;
	if (rec->type != TT_REC_READLINE || replay_decode_readline(rec, &rl))
		return 0;
	fprintf(rp->out, "%s\n", rl.line);
	return strcmp(rl.line, "stop") == 0 ? REPLAY_STOP : 0;
}

static int finish_findings(struct replay *rp, void *ctx)
{
	(void)ctx;
	fputs("finish\n", rp->out);
	return REPLAY_EXIT_FINDINGS;
}

static int stop_entry(int argc, char **argv, const struct replay_env *env)
{
	(void)argc;
	struct replay_common c = {.tape = argv[1]};
	struct replay_ops ops = {.on_record = print_until_stop,
				 .finish = finish_findings};
	return replay_run(&c, &ops, env);
}

/* REPLAY_STOP: no more records, finish runs and gives the exit code,
 * a loss after the stop is not read (so not warned about). */
static void test_stop_early(void **state)
{
	(void)state;
	struct fixture fx;
	struct tt_task bash = fx_task(1, 1, 0, "bash");
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_readline(&fx, T0 + 1 * MS, bash, "a");
	fx_readline(&fx, T0 + 2 * MS, bash, "stop");
	fx_readline(&fx, T0 + 3 * MS, bash, "never");
	fx_loss(&fx, T0 + 4 * MS, 0, 7, T0);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, stop_entry, "stop", NULL),
			 REPLAY_EXIT_FINDINGS);
	assert_string_equal(fx.out, "a\nstop\nfinish\n");
	assert_string_equal(fx.err, "");
	fx_cleanup(&fx);
}

/* At the window's start: the load sample before it, or "none". */
static int print_load_before(struct replay *rp, void *ctx)
{
	(void)ctx;
	struct tt_loadavg l;
	if (replay_loadavg_before_window(rp, &l))
		fprintf(rp->out, "%u %u\n", l.load1, l.last_pid);
	else
		fputs("none\n", rp->out);
	return 0;
}

static int load_entry(int argc, char **argv, const struct replay_env *env)
{
	struct replay_common c = {.tape = argv[1],
				  .since = argc > 2 ? argv[2] : NULL};
	struct replay_ops ops = {.start = print_load_before};
	return replay_run(&c, &ops, env);
}

static void test_load_before_window(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_loadavg(&fx, T0 + 100 * MS, 10, 0, 0, 1, 100, 501);
	fx_loadavg(&fx, T0 + 1100 * MS, 20, 0, 0, 1, 100, 502);
	fx_readline(&fx, T0 + 1500 * MS, fx_task(1, 1, 0, "bash"), "x");
	fx_loadavg(&fx, T0 + 2100 * MS, 30, 0, 0, 1, 100, 503);
	fx_close(&fx);
	/* no --since: nothing comes before the window */
	assert_int_equal(fx_run(&fx, load_entry, "load", NULL), 0);
	assert_string_equal(fx.out, "none\n");
	/* the latest sample before the start, not one inside the window */
	assert_int_equal(fx_run(&fx, load_entry, "load", "+1200ms", NULL), 0);
	assert_string_equal(fx.out, "20 502\n");
	assert_int_equal(fx_run(&fx, load_entry, "load", "+1100ms", NULL), 0);
	assert_string_equal(fx.out, "10 501\n");
	assert_int_equal(fx_run(&fx, load_entry, "load", "+50ms", NULL), 0);
	assert_string_equal(fx.out, "none\n");
	fx_cleanup(&fx);
}

/* ---- process table and users ------------------------------------- */

struct probe_ctx {
	char log[4096];
};

static int probe_procs(struct replay *rp, const struct tape_record *rec,
		       void *ctx)
{
	struct probe_ctx *p = ctx;
	if (rec->type != TT_REC_READLINE)
		return 0;
	struct replay_readline rl;
	replay_decode_readline(rec, &rl);
	uint32_t pid = (uint32_t)atoi(rl.line);
	const struct replay_proc *pr = replay_proc_get(rp, pid);
	char line[512];
	if (!pr)
		snprintf(line, sizeof(line), "%u: unknown\n", pid);
	else
		snprintf(line, sizeof(line),
			 "%u: ppid %u uid %d comm %s exe %s args %s start %llu "
			 "exit %llu code %d user %s\n",
			 pid, pr->ppid, (int)pr->uid, pr->comm,
			 pr->exe ? pr->exe : "-", pr->args ? pr->args : "-",
			 (unsigned long long)pr->start_ts,
			 (unsigned long long)pr->exit_ts, pr->exit_code,
			 replay_user_name(rp, pr->uid)
				 ? replay_user_name(rp, pr->uid)
				 : "-");
	strncat(p->log, line, sizeof(p->log) - strlen(p->log) - 1);
	return 0;
}

static int probe_entry(int argc, char **argv, const struct replay_env *env)
{
	static struct probe_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	/* argv: probe TAPE [SINCE] */
	struct replay_common c = {.tape = argv[1],
				  .since = argc > 2 ? argv[2] : NULL};
	struct replay_ops ops = {.on_record = probe_procs, .ctx = &ctx};
	int rc = replay_run(&c, &ops, env);
	fputs(ctx.log, env->out);
	return rc;
}

static void put_proc(struct fixture *fx, uint64_t ts, uint32_t pid,
		     uint32_t ppid, uint32_t uid, const char *comm,
		     const char *exe, const char *args, size_t args_len,
		     uint32_t argc)
{
	struct fx_body b = {.len = 0};
	struct tt_proc p;
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = ppid;
	p.uid = uid;
	p.argc = argc;
	p.start_ts = 1000;
	memcpy(p.comm, comm, strnlen(comm, sizeof(p.comm)));
	p.exe_len = (uint16_t)(strlen(exe) + 1);
	p.args_len = (uint32_t)args_len;
	fxb_put(&b, &p, sizeof(p));
	fxb_str(&b, exe);
	fxb_put(&b, args, args_len);
	fx_append(fx, TT_REC_PROC, ts, b.buf, (uint32_t)b.len);
}

static void ask(struct fixture *fx, uint64_t ts, uint32_t pid)
{
	char s[16];
	snprintf(s, sizeof(s), "%u", pid);
	fx_readline(fx, ts, fx_task(1, 1, 0, "probe"), s);
}

static void test_process_table(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	fx_user(&fx, T0, 1000, "alice");
	put_proc(&fx, T0, 100, 1, 1000, "bash", "/usr/bin/bash", "bash\0-i\0",
		 8, 2);
	ask(&fx, T0 + 1, 100);
	struct tt_fork fk = {.task = fx_task(100, 100, 1000, "bash"),
			     .child_pid = 200};
	fx_append(&fx, TT_REC_FORK, T0 + 10, &fk, sizeof(fk));
	ask(&fx, T0 + 11, 200);
	static const char *const argv[] = {"ls", "-l", NULL};
	fx_exec(&fx, T0 + 20, fx_task(200, 200, 1000, "ls"), 100, 0, "/bin/ls",
		argv);
	ask(&fx, T0 + 21, 200);
	struct tt_exit ex = {.task = fx_task(200, 200, 1000, "ls"),
			     .exit_code = 2 << 8};
	fx_append(&fx, TT_REC_EXIT, T0 + 30, &ex, sizeof(ex));
	ask(&fx, T0 + 31, 200);
	/* long after the exit the entry is gone (memory stays bounded) */
	ask(&fx, T0 + 20 * FX_SEC, 200);
	ask(&fx, T0 + 20 * FX_SEC, 999);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, probe_entry, "probe", NULL), 0);
	assert_string_equal(
		fx.out,
		"100: ppid 1 uid 1000 comm bash exe /usr/bin/bash args bash -i "
		"start 1000 exit 0 code 0 user alice\n"
		"200: ppid 100 uid 1000 comm bash exe /usr/bin/bash args bash "
		"-i start 2000000010 exit 0 code 0 user alice\n"
		"200: ppid 100 uid 1000 comm ls exe /bin/ls args ls -l start "
		"2000000010 exit 0 code 0 user alice\n"
		"200: ppid 100 uid 1000 comm ls exe /bin/ls args ls -l start "
		"2000000010 exit 2000000030 code 512 user alice\n"
		"200: unknown\n"
		"999: unknown\n");
	fx_cleanup(&fx);
}

/* Many short-lived processes: the table stays bounded and correct. */
static void test_process_table_bounded(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	uint64_t ts = T0;
	for (uint32_t pid = 1000; pid < 200000; pid++) {
		struct tt_fork fk = {.task = fx_task(1, 1, 0, "init"),
				     .child_pid = pid};
		fx_append(&fx, TT_REC_FORK, ts += 100 * 1000, &fk, sizeof(fk));
		struct tt_exit ex = {.task = fx_task(pid, pid, 0, "x")};
		fx_append(&fx, TT_REC_EXIT, ts += 100 * 1000, &ex, sizeof(ex));
	}
	/* live processes never seen exiting, more than the table holds */
	for (uint32_t pid = 300000; pid < 400000; pid++) {
		struct tt_fork fk = {.task = fx_task(1, 1, 0, "init"),
				     .child_pid = pid};
		fx_append(&fx, TT_REC_FORK, ts += 1000, &fk, sizeof(fk));
	}
	ask(&fx, ts + 1, 399999);
	ask(&fx, ts + 1, 1000);
	fx_close(&fx);
	assert_int_equal(fx_run(&fx, probe_entry, "probe", NULL), 0);
	assert_non_null(strstr(fx.out, "399999: ppid 1 uid 0 comm init"));
	assert_non_null(strstr(fx.out, "1000: unknown"));
	fx_cleanup(&fx);
}

/* ---- windows that start in a later segment ------------------------ */

struct seg_ctx {
	struct fixture *fx;
	uint64_t ts; /* stamp of the metadata: the next event's time */
	int segments;
};

/* What the recorder does at each segment start: anchor and snapshot.
 * Each segment's anchor has its own offset so the test sees which one
 * was used. */
static int seg_meta(struct tape_writer *w, void *ctx)
{
	struct seg_ctx *sc = ctx;
	sc->fx->w = w;
	int32_t offset = 3600 * ++sc->segments;
	fx_clock(sc->fx, sc->ts, FX_REALTIME_BASE + (sc->ts - T0), offset);
	put_proc(sc->fx, sc->ts, 100, 1, 1000, "daemon", "/usr/sbin/daemon",
		 "daemon\0--serve\0", 15, 2);
	fx_user(sc->fx, sc->ts, 1000, "alice");
	return 0;
}

static void test_seek_to_segment(void **state)
{
	(void)state;
	struct fixture fx;
	struct seg_ctx sc = {.fx = &fx, .ts = T0};
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .segment_time_ns = 10 * FX_SEC,
				     .on_segment_start = seg_meta,
				     .ctx = &sc};
	/* The first segment opens inside fx_open_opts, stamped with the
	 * real boot clock; our events start at T0. */
	fx_open_opts(&fx, &o);
	for (int i = 0; i < 36; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/f/%02d", i);
		sc.ts = T0 + (uint64_t)i * FX_SEC + 500 * MS;
		fx_open_rec(&fx, sc.ts, fx_task(100, 100, 1000, "daemon"), 3, 0,
			    0, path, NULL);
	}
	ask(&fx, T0 + 35 * FX_SEC + 600 * MS, 100);
	fx_close(&fx);
	assert_true(sc.segments >= 4);
	/* --since in the last segment: same lines as a full scan would
	 * give, times from that segment's anchor (offset 4 h). */
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "-T",
				"--since", "+33s", NULL),
			 0);
	assert_string_equal(fx.out,
			    "TIME     PID    COMM              FD ERR PATH\n"
			    "10:00:33 100    daemon             3   0 /f/33\n"
			    "10:00:34 100    daemon             3   0 /f/34\n"
			    "10:00:35 100    daemon             3   0 /f/35\n");
	/* the process table is rebuilt from that segment's snapshot */
	assert_int_equal(fx_run(&fx, probe_entry, "probe", "+33s", NULL), 0);
	assert_string_equal(fx.out,
			    "100: ppid 1 uid 1000 comm daemon exe "
			    "/usr/sbin/daemon args daemon --serve start 1000 "
			    "exit 0 code 0 user alice\n");
	fx_cleanup(&fx);
}

/* ---- hostile records -------------------------------------------- */

/* Lengths that point past the body, missing NULs, short bodies, huge
 * counts: every analysis must read only inside the body (ASan checks)
 * and still print the sane records around them. */
static void test_malformed_records(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 0);
	uint64_t ts = T0;
	struct tt_file_op f;
	memset(&f, 0, sizeof(f));
	f.task = fx_task(1, 1, 0, "bad");
	f.syscall = 999;
	f.path_len = 60000; /* past the body */
	f.dir_len = 60000;
	f.path2_len = 3;
	fx_append(&fx, TT_REC_OPEN, ++ts, &f, sizeof(f));
	f.path_len = 4; /* no NUL at the end */
	char body[sizeof(f) + 4];
	memcpy(body, &f, sizeof(f));
	memcpy(body + sizeof(f), "abcd", 4);
	fx_append(&fx, TT_REC_OPEN, ++ts, body, sizeof(body));
	fx_append(&fx, TT_REC_RENAME, ++ts, body, sizeof(body));
	struct tt_exec e;
	memset(&e, 0, sizeof(e));
	e.task = fx_task(2, 2, 0, "bad");
	e.argc = 1000000;
	e.args_len = 0xffffffffu;
	e.filename_len = 2;
	char eb[sizeof(e) + 4];
	memcpy(eb, &e, sizeof(e));
	memcpy(eb + sizeof(e), "x\0ab", 4); /* last arg without NUL */
	fx_append(&fx, TT_REC_EXEC, ++ts, eb, sizeof(eb));
	struct tt_readline rl;
	memset(&rl, 0, sizeof(rl));
	rl.task = fx_task(3, 3, 0, "bash");
	rl.line_len = 0xffffffffu;
	fx_append(&fx, TT_REC_READLINE, ++ts, &rl, sizeof(rl));
	/* short bodies of every type, and empty ones */
	static const char zeros[24];
	for (uint16_t t = TT_REC_OPEN; t <= TT_REC_READLINE; t++) {
		fx_append(&fx, t, ++ts, zeros, sizeof(zeros));
		fx_append(&fx, t, ++ts, zeros, 0);
	}
	for (uint16_t t = TT_REC_HOST; t <= TT_REC_SEGMENT + 1; t++) {
		fx_append(&fx, t, ++ts, "k=v", 3); /* no NUL */
		fx_append(&fx, t, ++ts, zeros, 0);
	}
	struct tt_user u = {.uid = 5, .name_len = 40000};
	fx_append(&fx, TT_REC_USER, ++ts, &u, sizeof(u));
	struct tt_proc p;
	memset(&p, 0, sizeof(p));
	p.pid = 7;
	p.exe_len = 50000;
	p.args_len = 50000;
	fx_append(&fx, TT_REC_PROC, ++ts, &p, sizeof(p));
	struct tt_loss l = {.cpu = 0xffffffffu, .count = 3};
	fx_append(&fx, TT_REC_LOSS, ++ts, &l, sizeof(l));
	fx_open_rec(&fx, ++ts, fx_task(9, 9, 0, "good"), 3, 0, 0, "/ok", NULL);
	fx_close(&fx);

	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", NULL), 0);
	assert_non_null(strstr(fx.out, "good               3   0 /ok\n"));
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "--json", "-F", NULL),
		0);
	/* argv cut inside its last string: only the filename shown */
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", NULL), 0);
	assert_non_null(
		strstr(fx.out, "\nbad              2      0        0 x \n"));
	assert_int_equal(fx_run(&fx, execsnoop_main, "execsnoop", "-q", "-l",
				"ab", NULL),
			 0);
	assert_null(strstr(fx.out, "bad"));
	assert_int_equal(
		fx_run(&fx, execsnoop_main, "execsnoop", "--json", NULL), 0);
	assert_int_equal(fx_run(&fx, bashreadline_main, "bashreadline", NULL),
			 0);
	assert_int_equal(fx_run(&fx, dump_main, "dump", NULL), 0);
	assert_int_equal(fx_run(&fx, dump_main, "dump", "--json", NULL), 0);
	assert_non_null(strstr(fx.out, "\"path\":\"/ok\""));
	assert_int_equal(fx_run(&fx, info_main, "info", NULL), 0);
	/* a CPU number no machine has still counts */
	assert_non_null(strstr(fx.out, "lost        3 events"));
	assert_non_null(strstr(fx.out, "  CPU ?     3 lost in 1 loss records"));
	assert_int_equal(fx_run(&fx, info_main, "info", "--json", NULL), 0);
	assert_int_equal(fx_run(&fx, verify_main, "verify", NULL), 0);
	assert_int_equal(fx_run(&fx, probe_entry, "probe", NULL), 0);
	fx_cleanup(&fx);
}

/* ---- escaping ---------------------------------------------------- */

static void test_escaping(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	replay_json_string(f, "a\"b\\c\n\r\t\x01\x1f\x7f\xc3\xa9\xe2\x82\xac"
			      "\xf0\x9f\x98\x80\xff\xc0\xaf\xed\xa0\x80\xc2"
			      "\x85");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u000d\\t\\u0001\\u001f"
				 "\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				 "\\u00ff\\u00c0\\u00af\\u00ed\\u00a0\\u0080"
				 "\\u0085\"");
	free(buf);
	char out[64];
	replay_text_escape("a\tb\\\x1b\xc3\xa9\xc2\x9b\xfe", out, sizeof(out));
	assert_string_equal(out, "a\\tb\\\\\\x1b\xc3\xa9\\xc2\\x9b\\xfe");
	/* truncation never splits an escape */
	replay_text_escape("abc\x1b", out, 6);
	assert_string_equal(out, "abc");
}

/* ---- damage, partial segments, info, verify ----------------------- */

static void write_many(struct fixture *fx)
{
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	fx_open_opts(fx, &o);
	static const char *const host[] = {
		"hostname=web1", "kernel=6.18.0",	  "arch=x86_64",
		"cpus=2",	 "timezone=Europe/Paris", NULL};
	static const char *const opts[] = {"version=0.1.0",
					   "argv=tracetape-record -o t",
					   "events=all", NULL};
	static const char *const probe[] = {"name=sys_exit_openat",
					    "mechanism=tracepoint",
					    "attached=1", NULL};
	fx_kv(fx, TT_REC_HOST, T0, host);
	fx_kv(fx, TT_REC_OPTIONS, T0, opts);
	fx_kv(fx, TT_REC_PROBE, T0, probe);
	fx_clock(fx, T0, FX_REALTIME_BASE, 3600);
	char p[64];
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/f/%03d", i);
		fx_open_rec(fx, T0 + (uint64_t)i * 10 * MS,
			    fx_task(1, 1, 0, "x"), 3, 0, 0, p, NULL);
	}
	fx_loss(fx, T0 + 1000 * MS, 1, 5, T0 + 900 * MS);
	fx_loss(fx, T0 + 2000 * MS, 1, 6, T0 + 1900 * MS);
	fx_loss(fx, T0 + 2000 * MS, 0, 1, T0 + 1900 * MS);
	fx_close(fx);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_damage_and_verify(void **state)
{
	(void)state;
	struct fixture fx;
	write_many(&fx);
	assert_int_equal(fx_run(&fx, verify_main, "verify", NULL), 0);
	assert_non_null(strstr(fx.out, ": clean: 1 segments, "));
	const char *seg = fx_segment(&fx);
	long size = fx_file_size(seg);
	fx_flip_byte(seg, size / 2);

	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", NULL), 0);
	int lines = count_lines(fx.out);
	/* header + the opens outside the damaged chunk */
	assert_true(lines > 200 && lines < 301);
	assert_non_null(strstr(fx.out, "/f/000\n"));
	assert_non_null(strstr(fx.out, "/f/299\n"));
	assert_non_null(strstr(fx.err, "tracetape: warning: damaged tape: "));
	assert_non_null(strstr(fx.err, seg));

	/* --json: the damage as a warning object after the events */
	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "--json", NULL), 0);
	const char *w = strstr(fx.out, "{\"type\":\"warning\",\"warning\":"
				       "\"damage\",\"segment\":\"");
	assert_non_null(w);
	assert_null(strstr(w, "\"type\":\"open\""));
	/* a window away from the damage has no warning */
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "--until",
				"+0.1s", NULL),
			 0);
	assert_null(strstr(fx.err, "damaged"));

	assert_int_equal(fx_run(&fx, verify_main, "verify", NULL), 1);
	assert_non_null(strstr(fx.out, "DAMAGE "));
	assert_non_null(strstr(fx.out, ": damaged: 1 segments, "));
	assert_int_equal(fx_run(&fx, verify_main, "verify", "--json", NULL), 1);
	assert_non_null(strstr(fx.out, "{\"type\":\"damage\",\"segment\":"));
	assert_non_null(strstr(fx.out, "\"status\":\"damaged\""));

	/* Unreadable: the segment header itself destroyed. */
	for (long off = 0; off < 64; off++)
		fx_flip_byte(seg, off);
	int rc = fx_run(&fx, verify_main, "verify", NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(fx.out, ": unreadable: 1 segments, 0 records"));
	/* an analysis says there is nothing to replay and exits 2 */
	rc = fx_run(&fx, opensnoop_main, "opensnoop", NULL);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(fx.err, "no readable records: "));
	assert_non_null(strstr(fx.err, seg));
	fx_cleanup(&fx);
}

static void test_partial_segment(void **state)
{
	(void)state;
	struct fixture fx;
	write_many(&fx);
	const char *seg = fx_segment(&fx);
	long size = fx_file_size(seg);
	char partial[400], cmd[900];
	snprintf(partial, sizeof(partial), "%s/cut.tt.partial", fx.dir);
	snprintf(cmd, sizeof(cmd), "head -c %ld '%s' > '%s'", size * 2 / 3, seg,
		 partial);
	assert_int_equal(system(cmd), 0);
	int rc = fx_run_on(&fx, opensnoop_main, "opensnoop", partial, NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(fx.out, "/f/000\n"));
	assert_null(strstr(fx.out, "/f/299\n"));
	rc = fx_run_on(&fx, verify_main, "verify", partial, NULL);
	assert_true(rc == 0 || rc == 1);
	assert_non_null(strstr(fx.out, "partial"));
	/* cut inside its first chunk: nothing to replay, a one-line error */
	snprintf(cmd, sizeof(cmd), "head -c 100 '%s' > '%s'", seg, partial);
	assert_int_equal(system(cmd), 0);
	rc = fx_run_on(&fx, opensnoop_main, "opensnoop", partial, NULL);
	assert_int_equal(rc, 2);
	assert_string_equal(fx.out, "");
	assert_non_null(strstr(fx.err, "no readable records: "));
	assert_non_null(strstr(fx.err, partial));
	assert_ptr_equal(strchr(fx.err, '\n'), fx.err + strlen(fx.err) - 1);
	rc = fx_run_on(&fx, verify_main, "verify", partial, NULL);
	assert_int_equal(rc, 2);
	fx_cleanup(&fx);
}

static void test_info(void **state)
{
	(void)state;
	struct fixture fx;
	write_many(&fx);
	assert_int_equal(fx_run(&fx, info_main, "info", NULL), 0);
	const char *want[] = {
		"host        web1\n",
		"kernel      6.18.0 x86_64, 2 CPUs\n",
		"timezone    Europe/Paris\n",
		"recorder    tracetape-record 0.1.0\n",
		"command     tracetape-record -o t\n",
		"options     version=0.1.0 events=all\n",
		"start       2026-11-25T07:00:00.000000000+01:00\n",
		"probes      1\n  sys_exit_openat  tracepoint  attached\n",
		"events      300 (and ",
		"  open       300\n",
		"lost        12 events",
		"  CPU 0     1 lost in 1 loss records, between "
		"2026-11-25T07:00:01.900000000+01:00 and "
		"2026-11-25T07:00:02.000000000+01:00\n",
		"  CPU 1     11 lost in 2 loss records, between "
		"2026-11-25T07:00:00.900000000+01:00 and "
		"2026-11-25T07:00:02.000000000+01:00\n",
		"damage      none found\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(fx.out, want[i]))
			fprintf(stderr, "missing: %s\nin:\n%s", want[i],
				fx.out);
		assert_non_null(strstr(fx.out, want[i]));
	}
	assert_string_equal(fx.err, "");
	assert_int_equal(fx_run(&fx, info_main, "info", "--json", NULL), 0);
	assert_int_equal(count_lines(fx.out), 1);
	assert_non_null(strstr(fx.out, "\"host\":{\"hostname\":\"web1\","));
	assert_non_null(strstr(fx.out, "\"probes\":[{\"name\":\"sys_exit_"
				       "openat\",\"mechanism\":\"tracepoint\","
				       "\"attached\":\"1\"}]"));
	assert_non_null(strstr(fx.out, "\"lost\":12,\"lost_per_cpu\":[{"
				       "\"cpu\":0,\"count\":1,\"records\":1"));
	assert_non_null(strstr(fx.out, "\"open\":300,"));
	fx_cleanup(&fx);
}

/* A loss of program runs the kernel skipped (fexit, preempted) is told
 * apart from ring buffer losses, and a probe's note is shown. */
static void test_info_skipped_runs(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	static const char *const probe[] = {
		"name=opens", "mechanism=tp_btf:sys_exit", "attached=1",
		"note=fexit load refused: Operation not permitted", NULL};
	fx_kv(&fx, TT_REC_PROBE, T0, probe);
	fx_clock(&fx, T0, FX_REALTIME_BASE, 3600);
	fx_open_rec(&fx, T0 + MS, fx_task(1, 1, 0, "x"), 3, 0, 0, "/f", NULL);
	fx_loss(&fx, T0 + 1000 * MS, 1, 5, T0);
	struct tt_loss skipped = {.cpu = TT_LOSS_CPU_ANY,
				  .cause = TT_LOSS_SKIPPED,
				  .count = 4,
				  .since_ts = T0 + 500 * MS};
	fx_append(&fx, TT_REC_LOSS, T0 + 1500 * MS, &skipped, sizeof(skipped));
	fx_close(&fx);

	assert_int_equal(fx_run(&fx, info_main, "info", NULL), 0);
	assert_non_null(strstr(fx.out, "  opens  tp_btf:sys_exit  attached "
				       "(fexit load refused: Operation not "
				       "permitted)\n"));
	assert_non_null(strstr(fx.out, "lost        9 events (ring buffer "
				       "full, probe runs skipped on the "
				       "recording host"));
	assert_non_null(strstr(fx.out, "  CPU 1     5 lost in 1 loss records"));
	assert_non_null(strstr(fx.out, "  skipped   4 probe runs skipped by "
				       "the kernel"));
	assert_null(strstr(fx.out, "CPU ?"));
	assert_int_equal(fx_run(&fx, info_main, "info", "--json", NULL), 0);
	assert_non_null(strstr(fx.out, "\"lost\":9,\"lost_per_cpu\":[{"
				       "\"cpu\":1,\"count\":5,"));
	assert_non_null(strstr(fx.out, "],\"lost_skipped\":4"));
	assert_non_null(strstr(fx.out, "\"note\":\"fexit load refused"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_parse_when),
		cmocka_unit_test(test_clock_anchors),
		cmocka_unit_test(test_clock_earlier_events),
		cmocka_unit_test(test_no_anchor),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_stop_early),
		cmocka_unit_test(test_load_before_window),
		cmocka_unit_test(test_process_table),
		cmocka_unit_test(test_process_table_bounded),
		cmocka_unit_test(test_seek_to_segment),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_damage_and_verify),
		cmocka_unit_test(test_partial_segment),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_skipped_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
