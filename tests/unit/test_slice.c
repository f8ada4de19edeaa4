/* SPDX-License-Identifier: MIT */
/*
 * test_slice.c - tracetape slice: windows, process filters, --tree,
 * metadata in every segment, filtered snapshots, losses, slices of
 * slices, damaged sources and an OUT that exists.
 *
 * Slices are read back record by record with the format library's
 * reader and compared with what the source tape holds, and analyses
 * are run on them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"

/* ---- reading a tape back ----------------------------------------- */

struct rec_copy {
	uint16_t type;
	uint64_t ts;
	uint32_t len;
	char *body;
	uint32_t segment;
};

struct recs {
	struct rec_copy *v;
	size_t n;
};

static struct recs read_all(const char *tape)
{
	struct recs rs = {NULL, 0};
	struct tape_reader *r = NULL;
	char err[TAPE_ERRLEN];
	struct tape_reader_opts o = {.sz = sizeof(o)};
	if (tape_reader_open(&r, tape, &o, err) < 0)
		fx_fail(err);
	struct tape_record rec;
	size_t cap = 0;
	while (tape_reader_next(r, &rec) > 0) {
		if (rs.n == cap) {
			cap = cap ? 2 * cap : 64;
			rs.v = realloc(rs.v, cap * sizeof(*rs.v));
		}
		struct rec_copy *c = &rs.v[rs.n++];
		c->type = rec.type;
		c->ts = rec.ts;
		c->len = rec.len;
		c->segment = rec.segment;
		c->body = malloc(rec.len + 1);
		memcpy(c->body, rec.body, rec.len);
	}
	tape_reader_close(r);
	return rs;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].body);
	free(rs->v);
}

static size_t count_type(const struct recs *rs, uint16_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n; i++)
		n += rs->v[i].type == type;
	return n;
}

static bool is_event(uint16_t type)
{
	return type < TT_REC_HOST;
}

static const struct tt_task *task_of(const struct rec_copy *c)
{
	struct tape_record rec = {
		.type = c->type, .len = c->len, .body = c->body};
	return replay_record_task(&rec);
}

/* Value of KEY in the first OPTIONS record, or NULL. */
static const char *option(const struct recs *rs, const char *key)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->v[i].type != TT_REC_OPTIONS)
			continue;
		struct tape_record rec = {.type = TT_REC_OPTIONS,
					  .len = rs->v[i].len,
					  .body = rs->v[i].body};
		return tape_rec_kv(&rec, key);
	}
	return NULL;
}

/* A slice's directory under the fixture's. */
static const char *out_path(struct fixture *fx, const char *name)
{
	static char path[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", fx->dir, name);
	return path[k];
}

/* ---- building sources -------------------------------------------- */

static void proc_rec(struct fixture *fx, uint64_t ts, uint32_t pid,
		     uint32_t ppid, const char *comm, const char *exe)
{
	struct fx_body b = {.len = 0};
	struct tt_proc p;
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = ppid;
	p.start_ts = FX_SEC;
	memcpy(p.comm, comm, strnlen(comm, TT_COMM_LEN - 1));
	p.exe_len = (uint16_t)(strlen(exe) + 1);
	p.argc = 1;
	p.args_len = (uint32_t)strlen(comm) + 1;
	fxb_put(&b, &p, sizeof(p));
	fxb_str(&b, exe);
	fxb_str(&b, comm);
	fx_append(fx, TT_REC_PROC, ts, b.buf, (uint32_t)b.len);
}

static void mount_rec(struct fixture *fx, uint64_t ts)
{
	struct fx_body b = {.len = 0};
	struct tt_mount m = {
		.dev = DEV, .point_len = 2, .fstype_len = 5, .source_len = 10};
	fxb_put(&b, &m, sizeof(m));
	fxb_str(&b, "/");
	fxb_str(&b, "ext4");
	fxb_str(&b, "/dev/sda1");
	fx_append(fx, TT_REC_MOUNT, ts, b.buf, (uint32_t)b.len);
}

/* The metadata a recorder writes, at T0: host, options, a probe, an
 * anchor (UTC), processes 1 <- 50 <- 100 and 1 <- 200, a mount, users. */
static void metadata(struct fixture *fx)
{
	static const char *const host[] = {"hostname=testhost", "cpus=2", NULL};
	static const char *const opts[] = {"version=0.1.0", "argv=rec",
					   "segment_size=1048576", NULL};
	static const char *const probe[] = {
		"name=opens", "mechanism=tracepoint:x:y", "attached=1", NULL};
	fx_kv(fx, TT_REC_HOST, T0, host);
	fx_kv(fx, TT_REC_OPTIONS, T0, opts);
	fx_kv(fx, TT_REC_PROBE, T0, probe);
	fx_clock(fx, T0, FX_REALTIME_BASE, 0);
	proc_rec(fx, T0, 1, 0, "init", "/sbin/init");
	proc_rec(fx, T0, 50, 1, "sshd", "/usr/sbin/sshd");
	proc_rec(fx, T0, 100, 50, "bash", "/bin/bash");
	proc_rec(fx, T0, 200, 1, "cron", "/usr/sbin/cron");
	proc_rec(fx, T0, 300, 100, "sleep", "/bin/sleep");
	mount_rec(fx, T0);
	fx_user(fx, T0, 0, "root");
	fx_user(fx, T0, 1000, "alice");
}

static struct tt_task bash_task(void)
{
	return fx_task(100, 100, 1000, "bash");
}

static struct tt_task cron_task(void)
{
	return fx_task(200, 200, 0, "cron");
}

/* Opens every 100 ms from T0+100ms to T0+900ms, alternating between
 * bash (100) and cron (200); /w/N names each. */
static void write_basic(struct fixture *fx)
{
	fx_open(fx);
	metadata(fx);
	for (int i = 1; i <= 9; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/w/%d", i);
		fx_open_rec(fx, T0 + (uint64_t)i * 100 * MS,
			    i % 2 ? bash_task() : cron_task(), 3, 0, 0, path,
			    NULL);
	}
	fx_close(fx);
}

/* Slice FX's tape into OUT with the arguments after it. */
#define slice(fx, out, ...)                                                    \
	fx_run(fx, slice_main, "slice", "-o", out, __VA_ARGS__, NULL)

/* ---- tests ------------------------------------------------------- */

static void test_window(void **state)
{
	(void)state;
	struct fixture fx;
	write_basic(&fx);
	const char *out = out_path(&fx, "win");
	/* +0.3 .. +0.6 from the tape's first record (T0): 3 events, the
	 * bounds included */
	int rc = slice(&fx, out, "--since", "+0.3", "--until", "+0.6", NULL);
	if (rc)
		fprintf(stderr, "%s", fx.err);
	assert_int_equal(rc, 0);
	assert_string_equal(fx.err, "");
	struct recs rs = read_all(out);
	size_t events = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (!is_event(rs.v[i].type))
			continue;
		events++;
		assert_true(rs.v[i].ts >= T0 + 300 * MS);
		assert_true(rs.v[i].ts <= T0 + 600 * MS);
	}
	assert_int_equal(events, 4);
	/* the slice starts at its window: every record at or after it */
	assert_int_equal(rs.v[0].type, TT_REC_SEGMENT);
	assert_int_equal(rs.v[0].ts, T0 + 300 * MS);
	/* and ends at it: the anchor in force, stamped with its end */
	assert_int_equal(rs.v[rs.n - 1].type, TT_REC_CLOCK);
	assert_int_equal(rs.v[rs.n - 1].ts, T0 + 600 * MS);
	assert_string_equal(option(&rs, "slice_since"), "2300000000");
	assert_string_equal(option(&rs, "slice_until"), "2600000000");
	assert_string_equal(option(&rs, "slice_since_time"),
			    "2026-11-25T06:00:00.300000000+00:00");
	recs_free(&rs);

	/* opensnoop on the slice prints what it prints on the window */
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "-T",
				"--since", "+0.3", "--until", "+0.6", NULL),
			 0);
	char *want = strdup(fx.out);
	assert_int_equal(
		fx_run_on(&fx, opensnoop_main, "opensnoop", out, "-T", NULL),
		0);
	assert_string_equal(fx.out, want);
	assert_non_null(strstr(want, "/w/3\n"));
	assert_non_null(strstr(want, "/w/6\n"));
	assert_null(strstr(want, "/w/7\n"));
	free(want);
	fx_cleanup(&fx);
}

static void test_pid(void **state)
{
	(void)state;
	struct fixture fx;
	write_basic(&fx);
	const char *out = out_path(&fx, "pid");
	assert_int_equal(slice(&fx, out, "-p", "100", NULL, NULL, NULL), 0);
	struct recs rs = read_all(out);
	size_t events = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (!is_event(rs.v[i].type))
			continue;
		events++;
		assert_int_equal(task_of(&rs.v[i])->pid, 100);
	}
	assert_int_equal(events, 5); /* /w/1, 3, 5, 7, 9 */
	assert_string_equal(option(&rs, "slice_pid"), "100");
	recs_free(&rs);

	assert_int_equal(
		fx_run(&fx, opensnoop_main, "opensnoop", "-p", "100", NULL), 0);
	char *want = strdup(fx.out);
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop", out, NULL),
			 0);
	assert_string_equal(fx.out, want);
	free(want);

	/* -p twice: both processes */
	out = out_path(&fx, "pids");
	assert_int_equal(slice(&fx, out, "-p", "100", "-p", "200"), 0);
	rs = read_all(out);
	size_t both = 0;
	for (size_t i = 0; i < rs.n; i++)
		both += is_event(rs.v[i].type);
	assert_int_equal(both, 9);
	recs_free(&rs);

	/* --comm: the tasks named cron */
	out = out_path(&fx, "comm");
	assert_int_equal(slice(&fx, out, "--comm", "cron", NULL, NULL, NULL),
			 0);
	rs = read_all(out);
	size_t cron = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (is_event(rs.v[i].type)) {
			assert_int_equal(task_of(&rs.v[i])->pid, 200);
			cron++;
		}
	assert_int_equal(cron, 4);
	recs_free(&rs);
	fx_cleanup(&fx);
}

/* bash (100) forks 101 in the window, 101 forks 102; 300 is bash's
 * child by the snapshot; cron (200) does the same things. */
static void write_tree(struct fixture *fx)
{
	fx_open(fx);
	metadata(fx);
	fx_open_rec(fx, T0 + 100 * MS, bash_task(), 3, 0, 0, "/t/bash", NULL);
	fx_fork(fx, T0 + 200 * MS, bash_task(), 101);
	fx_fork(fx, T0 + 210 * MS, cron_task(), 201);
	static const char *const make[] = {"make", NULL};
	fx_exec(fx, T0 + 300 * MS, fx_task(101, 101, 1000, "make"), 100, 0,
		"/usr/bin/make", make);
	fx_fork(fx, T0 + 400 * MS, fx_task(101, 101, 1000, "make"), 102);
	fx_open_rec(fx, T0 + 500 * MS, fx_task(102, 102, 1000, "make"), 3, 0, 0,
		    "/t/grandchild", NULL);
	fx_open_rec(fx, T0 + 510 * MS, fx_task(201, 201, 0, "cron"), 3, 0, 0,
		    "/t/cronchild", NULL);
	fx_open_rec(fx, T0 + 520 * MS, fx_task(300, 300, 1000, "sleep"), 3, 0,
		    0, "/t/snapshotchild", NULL);
	fx_exit(fx, T0 + 600 * MS, fx_task(102, 102, 1000, "make"), 0);
	fx_close(fx);
}

static void test_tree(void **state)
{
	(void)state;
	struct fixture fx;
	write_tree(&fx);
	const char *out = out_path(&fx, "tree");
	assert_int_equal(slice(&fx, out, "-p", "100", "--tree", NULL, NULL), 0);
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop", out, NULL),
			 0);
	assert_non_null(strstr(fx.out, "/t/bash\n"));
	assert_non_null(strstr(fx.out, "/t/grandchild\n"));
	assert_non_null(strstr(fx.out, "/t/snapshotchild\n"));
	assert_null(strstr(fx.out, "/t/cronchild"));
	struct recs rs = read_all(out);
	assert_int_equal(count_type(&rs, TT_REC_FORK), 2);
	assert_int_equal(count_type(&rs, TT_REC_EXEC), 1);
	assert_int_equal(count_type(&rs, TT_REC_EXIT), 1);
	recs_free(&rs);

	/* execsnoop names make's parent from the slice alone */
	assert_int_equal(fx_run_on(&fx, execsnoop_main, "execsnoop", out, NULL),
			 0);
	assert_non_null(strstr(fx.out, "make             101    100 "));

	/* without --tree only bash's own events, and its forks */
	out = out_path(&fx, "notree");
	assert_int_equal(slice(&fx, out, "-p", "100", NULL, NULL, NULL), 0);
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop", out, NULL),
			 0);
	assert_non_null(strstr(fx.out, "/t/bash\n"));
	assert_null(strstr(fx.out, "/t/grandchild"));
	rs = read_all(out);
	assert_int_equal(count_type(&rs, TT_REC_FORK), 1);
	recs_free(&rs);
	fx_cleanup(&fx);
}

/* The PROC records of the first segment of the slice, as pids. */
static size_t snapshot_pids(const struct recs *rs, uint32_t *pids, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n && rs->v[i].segment == 0; i++) {
		if (rs->v[i].type != TT_REC_PROC || n == max)
			continue;
		struct tt_proc p;
		memcpy(&p, rs->v[i].body, sizeof(p));
		pids[n++] = p.pid;
	}
	return n;
}

static void test_snapshot_filtered(void **state)
{
	(void)state;
	struct fixture fx;
	write_tree(&fx);
	uint32_t pids[16];
	const char *out = out_path(&fx, "snap");
	assert_int_equal(slice(&fx, out, "-p", "100", NULL, NULL, NULL), 0);
	struct recs rs = read_all(out);
	/* bash and its ancestors, in pid order; not cron, not sleep */
	assert_int_equal(snapshot_pids(&rs, pids, 16), 3);
	assert_int_equal(pids[0], 1);
	assert_int_equal(pids[1], 50);
	assert_int_equal(pids[2], 100);
	/* mounts and users whole */
	assert_int_equal(count_type(&rs, TT_REC_MOUNT), 1);
	assert_int_equal(count_type(&rs, TT_REC_USER), 2);
	recs_free(&rs);

	/* --tree adds the snapshot's descendants (sleep, 300) */
	out = out_path(&fx, "snaptree");
	assert_int_equal(slice(&fx, out, "-p", "100", "--tree", NULL, NULL), 0);
	rs = read_all(out);
	assert_int_equal(snapshot_pids(&rs, pids, 16), 4);
	assert_int_equal(pids[3], 300);
	recs_free(&rs);

	/* no filter: every process */
	out = out_path(&fx, "snapall");
	assert_int_equal(slice(&fx, out, NULL, NULL, NULL, NULL, NULL), 0);
	rs = read_all(out);
	assert_int_equal(snapshot_pids(&rs, pids, 16), 5);
	recs_free(&rs);

	/* a window after the forks: the children are in the snapshot */
	out = out_path(&fx, "snaplate");
	assert_int_equal(
		slice(&fx, out, "-p", "100", "--tree", "--since", "+0.45"), 0);
	rs = read_all(out);
	size_t n = snapshot_pids(&rs, pids, 16);
	assert_int_equal(n, 6); /* 1 50 100 101 102 300 */
	assert_int_equal(pids[3], 101);
	assert_int_equal(pids[4], 102);
	recs_free(&rs);
	fx_cleanup(&fx);
}

/* Many opens in small chunks and segments. */
static void write_many(struct fixture *fx, uint32_t chunk_size)
{
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = chunk_size};
	fx_open_opts(fx, &o);
	metadata(fx);
	for (int i = 0; i < 600; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/many/%03d", i);
		fx_open_rec(fx, T0 + 10 * MS + (uint64_t)i * MS,
			    i % 3 ? bash_task() : cron_task(), 3, 0, 0, path,
			    NULL);
	}
	fx_close(fx);
}

/* The lines of S after its first (the header). */
static const char *after_header(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl ? nl + 1 : s;
}

/* Opens by bash and cron with paths that do not compress much, enough
 * for several 64 KiB segments. */
static void write_big(struct fixture *fx)
{
	uint64_t x = 88172645463325252ull;
	fx_open(fx);
	metadata(fx);
	for (int i = 0; i < 10000; i++) {
		char path[80];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		snprintf(path, sizeof(path), "/big/%016llx%016llx",
			 (unsigned long long)x, (unsigned long long)(x * 31));
		fx_open_rec(fx, T0 + 10 * MS + (uint64_t)i * MS,
			    i % 4 ? bash_task() : cron_task(), 3, 0, 0, path,
			    NULL);
	}
	fx_close(fx);
}

static void test_every_segment_alone(void **state)
{
	(void)state;
	struct fixture fx;
	write_big(&fx);
	const char *out = out_path(&fx, "segs");
	assert_int_equal(
		slice(&fx, out, "-p", "100", "--segment-size", "65536", NULL),
		0);
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "-T", "-p",
				"100", NULL),
			 0);
	char *want = strdup(fx.out);

	/* opensnoop on each segment alone, in turn, prints the same */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls %s/seg-*.tt", out);
	FILE *ls = popen(cmd, "r");
	char seg[400];
	char *got = NULL;
	size_t got_len = 0, segs = 0;
	FILE *acc = open_memstream(&got, &got_len);
	while (fgets(seg, sizeof(seg), ls)) {
		seg[strcspn(seg, "\n")] = '\0';
		segs++;
		assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop",
					   seg, "-T", NULL),
				 0);
		assert_string_equal(fx.err, "");
		fputs(segs == 1 ? fx.out : after_header(fx.out), acc);
		/* and info names the host and the source */
		assert_int_equal(fx_run_on(&fx, info_main, "info", seg, NULL),
				 0);
		assert_non_null(strstr(fx.out, "host        testhost\n"));
		assert_non_null(strstr(fx.out, "slice_of="));
		assert_non_null(strstr(fx.out, "slice_pid=100"));
		struct recs rs = read_all(seg);
		assert_int_equal(count_type(&rs, TT_REC_CLOCK), 1);
		assert_int_equal(count_type(&rs, TT_REC_USER), 2);
		assert_int_equal(count_type(&rs, TT_REC_MOUNT), 1);
		assert_int_equal(count_type(&rs, TT_REC_PROBE), 1);
		assert_true(count_type(&rs, TT_REC_PROC) == 3);
		recs_free(&rs);
	}
	pclose(ls);
	fclose(acc);
	if (segs < 3) {
		snprintf(cmd, sizeof(cmd), "ls -l %s >&2", out);
		assert_int_equal(system(cmd), 0);
	}
	assert_true(segs >= 3);
	assert_string_equal(got, want);
	free(got);
	free(want);

	assert_int_equal(fx_run_on(&fx, verify_main, "verify", out, NULL), 0);
	fx_cleanup(&fx);
}

static void test_losses(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx);
	metadata(&fx);
	fx_loss(&fx, T0 + 100 * MS, 0, 5, T0);
	fx_open_rec(&fx, T0 + 200 * MS, bash_task(), 3, 0, 0, "/l/a", NULL);
	fx_loss(&fx, T0 + 400 * MS, 1, 7, T0 + 300 * MS);
	fx_open_rec(&fx, T0 + 500 * MS, cron_task(), 3, 0, 0, "/l/b", NULL);
	fx_loss(&fx, T0 + 800 * MS, 0, 11, T0 + 700 * MS);
	fx_close(&fx);
	const char *out = out_path(&fx, "loss");
	assert_int_equal(
		slice(&fx, out, "-p", "200", "--since", "+0.3", "--until"),
		2); /* --until without its value */
	assert_int_equal(slice(&fx, out, "-p", "200", "--since", "+0.3",
			       "--until", "+0.6"),
			 0);
	struct recs rs = read_all(out);
	assert_int_equal(count_type(&rs, TT_REC_LOSS), 1);
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].type == TT_REC_LOSS) {
			struct tt_loss l;
			memcpy(&l, rs.v[i].body, sizeof(l));
			assert_int_equal(l.count, 7);
			assert_int_equal(l.cpu, 1);
		}
	recs_free(&rs);
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop", out, NULL),
			 0);
	assert_non_null(strstr(fx.out, "/l/b\n"));
	assert_non_null(strstr(fx.err, "warning: 7 events were lost"));
	fx_cleanup(&fx);
}

static bool same_record(const struct rec_copy *a, const struct rec_copy *b)
{
	return a->type == b->type && a->ts == b->ts && a->len == b->len &&
	       memcmp(a->body, b->body, a->len) == 0;
}

static void test_slice_of_slice(void **state)
{
	(void)state;
	struct fixture fx;
	write_tree(&fx);
	const char *one = out_path(&fx, "one");
	const char *two = out_path(&fx, "two");
	/* absolute times: relative ones count from each tape's start */
	assert_int_equal(slice(&fx, one, "-p", "100", "--tree", "--since",
			       "2026-11-25T06:00:00.15Z"),
			 0);
	assert_int_equal(fx_run_on(&fx, slice_main, "slice", one, "-o", two,
				   "-p", "100", "--tree", "--since",
				   "2026-11-25T06:00:00.15Z", NULL),
			 0);
	struct recs a = read_all(one), b = read_all(two);
	assert_int_equal(a.n, b.n);
	size_t options = 0;
	for (size_t i = 0; i < a.n; i++) {
		if (a.v[i].type == TT_REC_OPTIONS) {
			/* only the source named differs */
			assert_int_equal(b.v[i].type, TT_REC_OPTIONS);
			options++;
			continue;
		}
		if (!same_record(&a.v[i], &b.v[i]))
			fprintf(stderr, "record %zu differs: type %u vs %u\n",
				i, a.v[i].type, b.v[i].type);
		assert_true(same_record(&a.v[i], &b.v[i]));
	}
	assert_int_equal(options, 1);
	assert_string_equal(option(&b, "slice_path"), one);
	assert_string_equal(option(&b, "slice_since"),
			    option(&a, "slice_since"));
	assert_string_equal(option(&b, "version"), "0.1.0");
	recs_free(&a);
	recs_free(&b);
	fx_cleanup(&fx);
}

static void test_damaged_source(void **state)
{
	(void)state;
	struct fixture fx;
	write_many(&fx, 4096);
	fx_damage(&fx, 0.5);
	const char *out = out_path(&fx, "dmg");
	int rc = slice(&fx, out, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(fx.err, "tracetape slice: warning: damaged "
				       "source: "));
	assert_non_null(strstr(fx.err, fx_segment(&fx)));
	/* read past the damage: the first and the last open are there */
	assert_int_equal(fx_run_on(&fx, opensnoop_main, "opensnoop", out, NULL),
			 0);
	assert_non_null(strstr(fx.out, "/many/000\n"));
	assert_non_null(strstr(fx.out, "/many/599\n"));
	size_t lines = 0;
	for (const char *p = fx.out; *p; p++)
		lines += *p == '\n';
	assert_true(lines > 300 && lines < 601);
	/* the slice itself is whole */
	assert_int_equal(fx_run_on(&fx, verify_main, "verify", out, NULL), 0);

	/* a window away from the damage: clean, exit 0 */
	out = out_path(&fx, "dmg-early");
	rc = slice(&fx, out, "--until", "+0.05", NULL, NULL, NULL);
	assert_int_equal(rc, 0);
	assert_string_equal(fx.err, "");
	fx_cleanup(&fx);
}

/* ---- a source in several segments, each opening with metadata ----- */

struct rec_source {
	uint64_t now;	   /* ts of the record being appended */
	bool child_forked; /* 101 is alive: the snapshot lists it */
};

static void w_append(struct tape_writer *w, uint16_t type, uint64_t ts,
		     const void *body, uint32_t len)
{
	if (tape_writer_append(w, type, ts, body, len) < 0)
		fx_fail(tape_writer_error(w));
}

static void w_proc(struct tape_writer *w, uint64_t ts, uint32_t pid,
		   uint32_t ppid, const char *comm)
{
	struct {
		struct tt_proc p;
		char strings[16];
	} b;
	memset(&b, 0, sizeof(b));
	b.p.pid = pid;
	b.p.ppid = ppid;
	b.p.start_ts = FX_SEC;
	memcpy(b.p.comm, comm, strnlen(comm, TT_COMM_LEN - 1));
	w_append(w, TT_REC_PROC, ts, &b, sizeof(b.p));
}

/* What a recorder writes at each segment's start. */
static int source_segment_start(struct tape_writer *w, void *ctx)
{
	struct rec_source *src = ctx;
	uint64_t ts = src->now;
	static const char host[] = "hostname=seghost";
	static const char opts[] = "version=0.1.0";
	w_append(w, TT_REC_HOST, ts, host, sizeof(host));
	w_append(w, TT_REC_OPTIONS, ts, opts, sizeof(opts));
	struct tt_clock c = {.boottime_ns = ts,
			     .monotonic_ns = ts,
			     .realtime_ns = FX_REALTIME_BASE + (ts - T0),
			     .utc_offset = 0};
	w_append(w, TT_REC_CLOCK, ts, &c, sizeof(c));
	w_proc(w, ts, 1, 0, "init");
	w_proc(w, ts, 100, 1, "bash");
	w_proc(w, ts, 200, 1, "cron");
	if (src->child_forked)
		w_proc(w, ts, 101, 100, "make");
	return 0;
}

static void write_segmented(struct fixture *fx, struct rec_source *src)
{
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .segment_time_ns = 300 * MS,
				     .on_segment_start = source_segment_start,
				     .ctx = src};
	memset(src, 0, sizeof(*src));
	src->now = T0;
	fx_open_opts(fx, &o);
	for (int i = 0; i < 40; i++) {
		uint64_t ts = T0 + 50 * MS + (uint64_t)i * 50 * MS;
		char path[32];
		src->now = ts;
		if (i == 10) {
			fx_fork(fx, ts, bash_task(), 101);
			src->child_forked = true;
			continue;
		}
		snprintf(path, sizeof(path), "/seg/%02d", i);
		fx_open_rec(fx, ts,
			    i > 10 && i % 2 ? fx_task(101, 101, 1000, "make")
			    : i % 3	    ? bash_task()
					    : cron_task(),
			    3, 0, 0, path, NULL);
	}
	fx_close(fx);
}

static void test_segmented_source(void **state)
{
	(void)state;
	struct fixture fx;
	struct rec_source src;
	write_segmented(&fx, &src);
	const char *out = out_path(&fx, "late");
	/* the window starts in a later segment of the source */
	assert_int_equal(
		slice(&fx, out, "-p", "100", "--tree", "--since", "+1.2"), 0);
	struct recs rs = read_all(out);
	uint32_t pids[16];
	size_t n = snapshot_pids(&rs, pids, 16);
	/* init, bash, and make (forked before the window, from the
	 * source segment's snapshot and the fork) */
	assert_int_equal(n, 3);
	assert_int_equal(pids[2], 101);
	recs_free(&rs);
	assert_int_equal(fx_run(&fx, opensnoop_main, "opensnoop", "-T",
				"--since", "+1.2", NULL),
			 0);
	char *all = strdup(fx.out);
	assert_int_equal(
		fx_run_on(&fx, opensnoop_main, "opensnoop", out, "-T", NULL),
		0);
	/* every line of the slice is a line of the source's window, and
	 * the slice has bash's and make's lines, not cron's */
	size_t lines = 0;
	for (char *l = fx.out, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
		*nl = '\0';
		assert_non_null(strstr(all, l));
		assert_null(strstr(l, "cron"));
		lines++;
	}
	/* header; from i = 23 on: 9 by make (odd i), 5 by bash */
	assert_int_equal(lines, 1 + 9 + 5);
	free(all);
	assert_int_equal(fx_run_on(&fx, info_main, "info", out, NULL), 0);
	assert_non_null(strstr(fx.out, "host        seghost\n"));
	fx_cleanup(&fx);
}

static void test_out_exists(void **state)
{
	(void)state;
	struct fixture fx;
	write_basic(&fx);
	const char *out = out_path(&fx, "taken");
	mkdir(out, 0700);
	char file[300];
	snprintf(file, sizeof(file), "%s/keep", out);
	FILE *f = fopen(file, "w");
	fputs("mine\n", f);
	fclose(f);
	assert_int_equal(slice(&fx, out, NULL, NULL, NULL, NULL, NULL), 2);
	assert_non_null(strstr(fx.err, out));
	assert_non_null(strstr(fx.err, "exists and is not empty"));
	assert_string_equal(fx.out, "");
	char *kept = read_text_file(file);
	assert_string_equal(kept, "mine\n");
	free(kept);
	/* the source itself is such a directory */
	assert_int_equal(slice(&fx, fx_tape(&fx), NULL, NULL, NULL, NULL, NULL),
			 2);
	/* an empty directory is fine */
	out = out_path(&fx, "empty");
	mkdir(out, 0700);
	assert_int_equal(slice(&fx, out, NULL, NULL, NULL, NULL, NULL), 0);
	fx_cleanup(&fx);
}

static void test_usage(void **state)
{
	(void)state;
	struct fixture fx;
	write_basic(&fx);
	assert_int_equal(fx_run(&fx, slice_main, "slice", NULL), 2);
	assert_non_null(strstr(fx.err, "missing -o OUT"));
	assert_int_equal(fx_run(&fx, slice_main, "slice", "-o",
				out_path(&fx, "x"), "--tree", NULL),
			 2);
	assert_non_null(strstr(fx.err, "--tree needs -p"));
	assert_int_equal(fx_run(&fx, slice_main, "slice", "-o",
				out_path(&fx, "x"), "-p", "abc", NULL),
			 2);
	assert_int_equal(fx_run(&fx, slice_main, "slice", "-o",
				out_path(&fx, "x"), "--since", "yesterday",
				NULL),
			 2);
	assert_non_null(strstr(fx.err, "--since yesterday"));
	assert_int_equal(fx_run(&fx, slice_main, "slice", "--help", NULL), 0);
	assert_non_null(strstr(fx.out, "Usage: tracetape slice"));
	fx_cleanup(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_snapshot_filtered),
		cmocka_unit_test(test_every_segment_alone),
		cmocka_unit_test(test_losses),
		cmocka_unit_test(test_slice_of_slice),
		cmocka_unit_test(test_damaged_source),
		cmocka_unit_test(test_segmented_source),
		cmocka_unit_test(test_out_exists),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
