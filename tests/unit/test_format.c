/* SPDX-License-Identifier: MIT */
/*
 * test_format.c - the tape format: round trips of every record type,
 * rotation, retention, ordering, big records, time windows, evolution
 * (unknown types, newer versions) and bad input.
 * Damage (truncation, byte flips) is in test_format_damage.c.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "test_format_util.h"

uint32_t tt_crc32c_portable(uint32_t crc, const void *buf, size_t len);

static struct tape_writer *open_writer(const struct tape_writer_opts *o)
{
	struct tape_writer *w = NULL;
	char err[TAPE_ERRLEN];
	int rc = tape_writer_open(&w, tape, o, err);
	if (rc)
		fail_msg("tape_writer_open: %d %s", rc, err);
	return w;
}

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(tt_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(tt_crc32c_portable(0, "123456789", 9), 0xE3069283u);
	/* Chaining equals one pass; both implementations agree. */
	uint8_t buf[1000];
	uint64_t s = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)mix64(&s);
	for (size_t n = 0; n + 3 <= sizeof(buf); n += 37) {
		uint32_t one = tt_crc32c(0, buf + 3, n);
		assert_int_equal(one, tt_crc32c_portable(0, buf + 3, n));
		uint32_t two = tt_crc32c(tt_crc32c(0, buf + 3, n / 2),
					 buf + 3 + n / 2, n - n / 2);
		assert_int_equal(one, two);
	}
}

/* ---- round trip of every record type --------------------------- */

struct sample {
	uint16_t type;
	uint8_t body[512];
	uint32_t len;
};

static uint32_t with_strings(uint8_t *body, const void *fixed, size_t flen,
			     const char *const *strs, const size_t *slens,
			     size_t n)
{
	memcpy(body, fixed, flen);
	size_t off = flen;
	for (size_t i = 0; i < n; i++) {
		memcpy(body + off, strs[i], slens[i]);
		off += slens[i];
	}
	return (uint32_t)off;
}

static size_t make_samples(struct sample *s)
{
	size_t n = 0;
	struct tt_task task = {4242, 4243, 1000, 0, "cat"};
	struct tt_file_op op = {.task = task,
				.ret = 3,
				.dev = 0x800001,
				.ino = 1234,
				.flags = 0x241,
				.mode = 0644,
				.fmode = TT_FMODE_CREATED,
				.dirfd = TT_AT_FDCWD,
				.syscall = TT_SYS_OPENAT,
				.path_len = 6,
				.dir_len = 10};
	const char *op_s[] = {"x.txt", "tmp\0home\0"};
	size_t op_l[] = {6, 10};
	s[n].type = TT_REC_OPEN;
	s[n].len = with_strings(s[n].body, &op, sizeof(op), op_s, op_l, 2);
	n++;
	op.syscall = TT_SYS_UNLINKAT;
	s[n].type = TT_REC_UNLINK;
	s[n].len = with_strings(s[n].body, &op, sizeof(op), op_s, op_l, 2);
	n++;
	struct tt_file_op rn = op;
	rn.syscall = TT_SYS_RENAMEAT2;
	rn.path2_len = 4;
	rn.dir2_len = 1;
	const char *rn_s[] = {"x.txt", "tmp\0home\0", "new", ""};
	size_t rn_l[] = {6, 10, 4, 1};
	s[n].type = TT_REC_RENAME;
	s[n].len = with_strings(s[n].body, &rn, sizeof(rn), rn_s, rn_l, 4);
	n++;
	struct tt_rw rw = {.task = task,
			   .dev = 1,
			   .ino = 2,
			   .rbytes = 4096,
			   .wbytes = 17,
			   .reads = 2,
			   .writes = 1,
			   .fd = 3,
			   .i_mode = 0100644,
			   .syscall = TT_SYS_READ,
			   .name_len = 7};
	const char *rw_s[] = {"passwd"};
	size_t rw_l[] = {7};
	s[n].type = TT_REC_RW;
	s[n].len = with_strings(s[n].body, &rw, sizeof(rw), rw_s, rw_l, 1);
	n++;
	struct tt_exec ex = {.task = task,
			     .ret = 0,
			     .ppid = 1,
			     .argc = 2,
			     .args_len = 11,
			     .filename_len = 9,
			     .syscall = TT_SYS_EXECVE};
	const char *ex_s[] = {"/bin/ls", "ls\0-la\0/tmp"};
	size_t ex_l[] = {9, 11};
	ex_s[0] = "/bin/ls\0";
	s[n].type = TT_REC_EXEC;
	s[n].len = with_strings(s[n].body, &ex, sizeof(ex), ex_s, ex_l, 2);
	n++;
	struct tt_fork fk = {.task = task, .child_pid = 5000};
	s[n].type = TT_REC_FORK;
	memcpy(s[n].body, &fk, sizeof(fk));
	s[n++].len = sizeof(fk);
	struct tt_exit et = {.task = task, .exit_code = 256};
	s[n].type = TT_REC_EXIT;
	memcpy(s[n].body, &et, sizeof(et));
	s[n++].len = sizeof(et);
	struct tt_readline rl = {.task = task, .line_len = 8};
	const char *rl_s[] = {"ls -la\n"};
	size_t rl_l[] = {8};
	s[n].type = TT_REC_READLINE;
	s[n].len = with_strings(s[n].body, &rl, sizeof(rl), rl_s, rl_l, 1);
	n++;
	static const char host[] = "hostname=box\0machine_id=abc\0boot_id="
				   "def\0kernel=6.18.0\0cpus=2\0timezone=UTC";
	s[n].type = TT_REC_HOST;
	memcpy(s[n].body, host, sizeof(host));
	s[n++].len = sizeof(host);
	static const char opts[] = "version=0.1.0\0flush_ms=1000";
	s[n].type = TT_REC_OPTIONS;
	memcpy(s[n].body, opts, sizeof(opts));
	s[n++].len = sizeof(opts);
	static const char probe[] = "name=openat\0mechanism=tracepoint\0"
				    "attached=1";
	s[n].type = TT_REC_PROBE;
	memcpy(s[n].body, probe, sizeof(probe));
	s[n++].len = sizeof(probe);
	struct tt_clock ck = {1, 2, 1700000000000000000ull, 3600, 0};
	s[n].type = TT_REC_CLOCK;
	memcpy(s[n].body, &ck, sizeof(ck));
	s[n++].len = sizeof(ck);
	struct tt_loss ls = {1, 0, 77, 5};
	s[n].type = TT_REC_LOSS;
	memcpy(s[n].body, &ls, sizeof(ls));
	s[n++].len = sizeof(ls);
	struct tt_loadavg la = {12, 34, 56, 2, 300, 9999};
	s[n].type = TT_REC_LOADAVG;
	memcpy(s[n].body, &la, sizeof(la));
	s[n++].len = sizeof(la);
	struct tt_proc pr = {.pid = 1,
			     .ppid = 0,
			     .uid = 0,
			     .argc = 1,
			     .start_ts = 5,
			     .comm = "init",
			     .exe_len = 11,
			     .args_len = 11};
	const char *pr_s[] = {"/sbin/init", "/sbin/init"};
	size_t pr_l[] = {11, 11};
	s[n].type = TT_REC_PROC;
	s[n].len = with_strings(s[n].body, &pr, sizeof(pr), pr_s, pr_l, 2);
	n++;
	struct tt_mount mt = {.dev = 0x800001,
			      .point_len = 2,
			      .fstype_len = 5,
			      .source_len = 10};
	const char *mt_s[] = {"/", "ext4", "/dev/sda1"};
	size_t mt_l[] = {2, 5, 10};
	s[n].type = TT_REC_MOUNT;
	s[n].len = with_strings(s[n].body, &mt, sizeof(mt), mt_s, mt_l, 3);
	n++;
	struct tt_user us = {.uid = 1000, .name_len = 6};
	const char *us_s[] = {"alice"};
	size_t us_l[] = {6};
	s[n].type = TT_REC_USER;
	s[n].len = with_strings(s[n].body, &us, sizeof(us), us_s, us_l, 1);
	n++;
	s[n].type = 0x0777; /* unknown to this reader: passed through */
	memcpy(s[n].body, "future", 6);
	s[n++].len = 6;
	s[n].type = TT_REC_FORK; /* an empty body is legal */
	s[n++].len = 0;
	return n;
}

static void check_samples(const struct sample *s, size_t n, uint64_t base,
			  size_t copies)
{
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	struct tape_reader_opts ro = {.sz = sizeof(ro), .file_order = true};
	assert_int_equal(tape_reader_open(&r, tape, &ro, err), 0);
	struct tape_record rec;
	size_t seen = 0;
	int rc;
	while ((rc = tape_reader_next(r, &rec)) == 1) {
		assert_int_equal((uintptr_t)rec.body % 8, 0);
		if (rec.type == TT_REC_SEGMENT || rec.ts < base)
			continue;
		const struct sample *want = &s[seen % n];
		assert_int_equal(rec.type, want->type);
		assert_int_equal(rec.ts, base + seen);
		assert_int_equal(rec.len, want->len);
		assert_memory_equal(rec.body, want->body, want->len);
		seen++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(seen, n * copies);
	assert_int_equal(tape_reader_damage(r, NULL), 0);
	tape_reader_close(r);
}

static void test_roundtrip_all_types(void **state)
{
	(void)state;
	static struct sample s[32];
	size_t n = make_samples(s);
	struct tape_writer *w = open_writer(NULL);
	uint64_t base = now_boot_ns() + 1000000000ull;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tape_writer_append(w, s[i].type, base + i,
						    s[i].body, s[i].len),
				 0);
	/* The same records again, framed as the BPF side emits them. */
	struct seg_builder raw = {0};
	for (size_t i = 0; i < n; i++)
		frame_rec(&raw, s[i].type, base + n + i, s[i].body, s[i].len);
	assert_int_equal(tape_writer_append_framed(w, raw.buf, raw.len), 0);
	free(raw.buf);
	assert_int_equal(tape_writer_close(w), 0);
	check_samples(s, n, base, 2);
}

static void test_record_helpers(void **state)
{
	(void)state;
	static struct sample s[32];
	make_samples(s);
	struct tape_record rec = {
		.type = s[0].type, .len = s[0].len, .body = s[0].body};
	struct tt_file_op op;
	tape_rec_fixed(&rec, &op, sizeof(op));
	uint16_t lens[] = {op.path_len, op.dir_len, op.path2_len, op.dir2_len};
	assert_string_equal(tape_rec_string(&rec, sizeof(op), lens, 4, 0),
			    "x.txt");
	assert_string_equal(tape_rec_string(&rec, sizeof(op), lens, 4, 1),
			    "tmp");
	assert_null(tape_rec_string(&rec, sizeof(op), lens, 4, 2)); /* 0 */
	assert_null(tape_rec_string(&rec, sizeof(op), lens, 4, 7));
	uint16_t too_long[] = {200};
	assert_null(tape_rec_string(&rec, sizeof(op), too_long, 1, 0));
	uint16_t no_nul[] = {5}; /* "x.txt" without its NUL */
	assert_null(tape_rec_string(&rec, sizeof(op), no_nul, 1, 0));

	/* A shorter (older) body: the missing tail reads as zero. */
	struct tape_record shortrec = {.len = 8, .body = s[0].body};
	memset(&op, 0xff, sizeof(op));
	tape_rec_fixed(&shortrec, &op, sizeof(op));
	assert_int_equal(op.task.pid, 4242);
	assert_int_equal(op.ino, 0);

	struct tape_record host = {.len = s[8].len, .body = s[8].body};
	assert_string_equal(tape_rec_kv(&host, "hostname"), "box");
	assert_string_equal(tape_rec_kv(&host, "timezone"), "UTC");
	assert_string_equal(tape_rec_kv(&host, "cpus"), "2");
	assert_null(tape_rec_kv(&host, "host"));
	assert_null(tape_rec_kv(&host, "nope"));
	/* An unterminated last pair is not read past the body. */
	struct tape_record cut = {.len = 7, .body = "a=1\0b=2"};
	assert_string_equal(tape_rec_kv(&cut, "a"), "1");
	assert_null(tape_rec_kv(&cut, "b"));
}

/* ---- volume, rotation, retention -------------------------------- */

/* Write N synthetic records, ts = base + i * step. */
static void write_n(struct tape_writer *w, uint64_t n, uint64_t base,
		    uint64_t step)
{
	uint8_t body[80];
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = body_for(i, body);
		int rc = tape_writer_append(w, TT_REC_OPEN, base + i * step,
					    body, len);
		if (rc)
			fail_msg("append %llu: %s", (unsigned long long)i,
				 tape_writer_error(w));
	}
}

/* Every synthetic record 0..n-1 exactly once (checksum of indexes),
 * bodies intact, in time order. */
static void check_synthetic(const char *path, uint64_t first, uint64_t n)
{
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, path, NULL, err), 0);
	struct tape_record rec;
	uint64_t count = 0, sum = 0, prev = 0, idx = 0;
	int rc;
	while ((rc = tape_reader_next(r, &rec)) == 1) {
		if (rec.type != TT_REC_OPEN)
			continue;
		assert_true(body_ok(&rec, &idx));
		assert_true(rec.ts >= prev);
		prev = rec.ts;
		count++;
		sum += idx;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(count, n);
	assert_int_equal(sum, (first + first + n - 1) * n / 2);
	assert_int_equal(tape_reader_damage(r, NULL), 0);
	tape_reader_close(r);
}

static void test_millions_rotation_by_size(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .segment_size = 512u << 10,
				     .chunk_size = 128 << 10};
	struct tape_writer *w = open_writer(&o);
	uint64_t n = 2000000, base = now_boot_ns() + 1000000000ull;
	write_n(w, n, base, 300);
	struct tape_writer_stats st;
	tape_writer_stats(w, &st);
	assert_int_equal(st.records, n + st.segments);
	assert_true(st.segments >= 5);
	assert_int_equal(tape_writer_close(w), 0);
	check_synthetic(tape, 0, n);

	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	const struct tape_segment_info *seg;
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	size_t ns = tape_reader_segments(r, &seg);
	assert_int_equal(ns, st.segments);
	uint64_t total = 0;
	for (size_t i = 0; i < ns; i++) {
		assert_int_equal(seg[i].seq, i + 1);
		assert_true(seg[i].has_footer);
		assert_false(seg[i].partial);
		/* at most one chunk past the limit */
		assert_true(seg[i].size < o.segment_size + (128 << 10));
		total += seg[i].records;
	}
	assert_int_equal(total, st.records);
	tape_reader_close(r);
}

static void test_rotation_by_time(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .segment_time_ns = 1000000000ull};
	struct tape_writer *w = open_writer(&o);
	uint64_t base = now_boot_ns() + 1000000000ull;
	write_n(w, 10000, base, 1000000); /* 10 s in 1 ms steps */
	assert_int_equal(tape_writer_close(w), 0);
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	const struct tape_segment_info *seg;
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	size_t ns = tape_reader_segments(r, &seg);
	assert_int_equal(ns, 10);
	for (size_t i = 1; i < ns; i++) /* first one starts at open time */
		assert_true(seg[i].last_ts - seg[i].first_ts < 1000000000ull);
	tape_reader_close(r);
	check_synthetic(tape, 0, 10000);
}

static int count_lines(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	if (f)
		fclose(f);
	return n;
}

static void test_retention(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .segment_time_ns = 1000000000ull,
				     .max_segments = 3};
	struct tape_writer *w = open_writer(&o);
	uint64_t base = now_boot_ns() + 1000000000ull;
	write_n(w, 10000, base, 1000000); /* 10 segments' worth */
	struct tape_writer_stats st;
	tape_writer_stats(w, &st);
	assert_int_equal(st.segments, 10);
	assert_int_equal(st.segments_deleted, 7);
	assert_int_equal(tape_writer_close(w), 0);

	char path[400];
	snprintf(path, sizeof(path), "%s/MANIFEST", tape);
	assert_int_equal(count_lines(path, "delete "), 7);
	assert_int_equal(count_lines(path, "close "), 10);
	assert_int_equal(count_lines(path, "tracetape-manifest 1"), 1);
	snprintf(path, sizeof(path), "%s/seg-000007.tt", tape);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/seg-000008.tt", tape);
	assert_int_equal(access(path, F_OK), 0);
	/* Segments 8..10 hold records 7000..9999: all there, no damage
	 * (deleted segments are expected to be missing). */
	check_synthetic(tape, 7000, 3000);
}

/* ---- ordering ---------------------------------------------------- */

static void test_reorder_window(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	struct tape_writer *w = open_writer(&o);
	uint64_t base = now_boot_ns() + 1000000000ull, s = 7;
	uint8_t body[80];
	uint64_t n = 50000;
	/* Per-CPU style: ts up to 2 ms late, over chunk boundaries too. */
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = body_for(i, body);
		uint64_t ts = base + i * 1000 + mix64(&s) % 2000000;
		assert_int_equal(
			tape_writer_append(w, TT_REC_OPEN, ts, body, len), 0);
	}
	assert_int_equal(tape_writer_close(w), 0);
	check_synthetic(tape, 0, n);

	/* file_order gives the records exactly as stored. */
	struct tape_reader_opts ro = {.sz = sizeof(ro), .file_order = true};
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, tape, &ro, err), 0);
	struct tape_record rec;
	uint64_t next = 0, idx = 0;
	while (tape_reader_next(r, &rec) == 1) {
		if (rec.type != TT_REC_OPEN)
			continue;
		assert_true(body_ok(&rec, &idx));
		assert_int_equal(idx, next);
		next++;
	}
	assert_int_equal(next, n);
	tape_reader_close(r);
}

/* Records from two "CPUs" in separate interleaved chunks. */
static void test_overlapping_chunks_merge(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	uint64_t base = now_boot_ns() + 1000000000ull;
	uint8_t body[80];
	uint64_t i = 0;
	for (int c = 0; c < 20; c++) {
		/* Chunk c covers [c*100, c*100+200) ms: overlaps the next. */
		for (int k = 0; k < 200; k++, i++) {
			uint32_t len = body_for(i, body);
			uint64_t ts = base + ((uint64_t)c * 100 + (uint64_t)k) *
						     1000000ull;
			assert_int_equal(tape_writer_append(w, TT_REC_OPEN, ts,
							    body, len),
					 0);
		}
		assert_int_equal(tape_writer_flush(w), 0);
	}
	assert_int_equal(tape_writer_close(w), 0);
	check_synthetic(tape, 0, i);
}

/* One record stamped an hour ahead (a clock glitch) must not stop the
 * chunks after it from being merged. */
static void test_outlier_does_not_stop_merging(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	uint64_t base = now_boot_ns() + 1000000000ull, ms = 1000000ull;
	uint8_t body[80];
	uint64_t i = 0;
	for (int c = 0; c < 5; c++) {
		for (int k = 0; k < 100; k++, i++) {
			uint32_t len = body_for(i, body);
			uint64_t ts =
				base + ((uint64_t)c * 90 + (uint64_t)k) * ms;
			if (c == 0 && k == 50)
				ts = base + 3600000ull * ms;
			assert_int_equal(tape_writer_append(w, TT_REC_OPEN, ts,
							    body, len),
					 0);
		}
		assert_int_equal(tape_writer_flush(w), 0);
	}
	assert_int_equal(tape_writer_close(w), 0);
	struct read_result res = read_tape(tape, NULL, TT_REC_OPEN);
	assert_int_equal(res.typed, 500);
	assert_int_equal(res.out_of_order, 0);
}

/* ---- big records ------------------------------------------------- */

static void test_big_records(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	uint64_t base = now_boot_ns() + 1000000000ull;
	uint32_t sizes[] = {1u << 20, (1u << 20) + 3, 9u << 20, 100};
	uint8_t *big = malloc(9u << 20);
	uint64_t s = 3;
	for (size_t i = 0; i < (9u << 20); i++)
		big[i] = (uint8_t)(i % 251 == 0 ? mix64(&s) : i);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(tape_writer_append(w, TT_REC_EXEC, base + i,
						    big, sizes[i]),
				 0);
	assert_int_equal(tape_writer_append(w, TT_REC_EXEC, base + 9, big,
					    TAPE_MAX_RECORD + 1),
			 TAPE_E_TOOBIG);
	assert_non_null(strstr(tape_writer_error(w), "TAPE_MAX_RECORD"));
	assert_int_equal(tape_writer_close(w), 0); /* TOOBIG is not sticky */

	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	struct tape_record rec;
	size_t k = 0;
	while (tape_reader_next(r, &rec) == 1) {
		if (rec.type != TT_REC_EXEC)
			continue;
		assert_true(k < 4);
		assert_int_equal(rec.len, sizes[k]);
		assert_memory_equal(rec.body, big, sizes[k]);
		k++;
	}
	assert_int_equal(k, 4);
	tape_reader_close(r);
	free(big);
}

/* ---- time windows ------------------------------------------------ */

/* Flip one byte of the payload of segment 1's first chunk of events:
 * chunk 1 (chunk 0 holds only the TT_REC_SEGMENT record). */
static void damage_first_chunk(void)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	size_t len;
	uint8_t *b = get_file(path, &len);
	uint64_t chunk1 = 64 + 40 + 48 + tt_get64(b + 64 + 16);
	assert_true(chunk1 + 40 + 48 + 10 < len);
	b[chunk1 + 40 + 48 + 10] ^= 0x55;
	put_file(path, b, len);
	free(b);
}

static void test_since_until(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 8192};
	struct tape_writer *w = open_writer(&o);
	uint64_t base = now_boot_ns() + 1000000000ull;
	write_n(w, 100000, base, 1000);
	assert_int_equal(tape_writer_close(w), 0);
	damage_first_chunk();

	struct tape_reader_opts ro = {.sz = sizeof(ro),
				      .since_ts = base + 30000000,
				      .until_ts = base + 60000000 - 1};
	struct read_result res = read_tape(tape, &ro, TT_REC_OPEN);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.typed, 30000);
	assert_int_equal(res.out_of_order, 0);
	/* The index let the reader skip chunk 1: its damage went unseen. */
	assert_int_equal(res.damage, 0);
	/* Reading everything meets it. */
	res = read_tape(tape, NULL, TT_REC_OPEN);
	assert_int_equal(res.damage, 1);
	assert_true(res.typed < 100000 && res.typed > 99000);
}

/* ---- evolution --------------------------------------------------- */

static void test_unknown_block_type_skipped(void **state)
{
	(void)state;
	uint64_t base = now_boot_ns();
	struct seg_builder seg = {0}, raw = {0};
	sb_header(&seg, 1, 7, 1); /* a newer minor: read */
	for (int c = 0; c < 3; c++) {
		raw.len = 0;
		for (int k = 0; k < 10; k++)
			frame_rec(&raw, c == 1 ? 0x0999 : TT_REC_FORK,
				  base + (uint64_t)(c * 10 + k), "abcdefgh", 8);
		sb_chunk(&seg, (uint64_t)c, base + (uint64_t)c * 10,
			 base + (uint64_t)c * 10 + 9, 10, raw.buf, raw.len);
		uint8_t ext[12] = "future ext";
		sb_block(&seg, 0x77, 0, ext, sizeof(ext), "payload!", 8, 8);
	}
	mkdir(tape, 0700);
	char path[400];
	put_partial(path, tape, &seg);
	struct read_result res = read_tape(tape, NULL, 0);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.records, 30);
	assert_int_equal(res.out_of_order, 0);
	res = read_tape(tape, NULL, 0x0999); /* unknown record type */
	assert_int_equal(res.typed, 10);
	/* No MANIFEST is reported, but is not fatal. */
	assert_int_equal(res.damage, 1);
	free(seg.buf);
	free(raw.buf);
}

static void test_newer_major_refused(void **state)
{
	(void)state;
	struct seg_builder seg = {0};
	sb_header(&seg, 2, 3, 1);
	mkdir(tape, 0700);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	put_file(path, seg.buf, seg.len);
	free(seg.buf);
	struct read_result res = read_tape(tape, NULL, 0);
	assert_int_equal(res.open_rc, TAPE_E_VERSION);
	assert_non_null(strstr(res.err, "seg-000001.tt: written by tracetape "
					"format version 2.3; this reader knows "
					"1.x: upgrade tracetape"));
	res = read_tape(path, NULL, 0); /* the segment alone, too */
	assert_int_equal(res.open_rc, TAPE_E_VERSION);
}

/* A chunk encoded with a feature this reader lacks is reported, with the
 * advice to upgrade, and the chunks around it are still read. */
static void test_unknown_chunk_flags(void **state)
{
	(void)state;
	struct seg_builder seg = {0}, raw = {0};
	sb_header(&seg, 1, 1, 1);
	frame_rec(&raw, TT_REC_FORK, 100, "12345678", 8);
	sb_chunk(&seg, 0, 100, 100, 1, raw.buf, raw.len);
	uint8_t ext[48] = {0};
	tt_put64(ext, 1);
	tt_put32(ext + 24, 1);
	tt_put32(ext + 28, 0x100); /* a future encoding */
	sb_block(&seg, TT_BLOCK_CHUNK, 0, ext, 48, raw.buf, raw.len, raw.len);
	sb_chunk(&seg, 2, 100, 100, 1, raw.buf, raw.len);
	char path[400];
	put_partial(path, tmp, &seg);
	int n;
	struct tape_reader *r = open_and_count(path, &n);
	assert_int_equal(n, 2);
	const struct tape_damage *d;
	assert_int_equal(tape_reader_damage(r, &d), 1);
	assert_int_equal(d[0].chunk_seq, 1);
	assert_non_null(strstr(d[0].what, "upgrade tracetape"));
	tape_reader_close(r);
	free(seg.buf);
	free(raw.buf);
}

/* ---- bad input --------------------------------------------------- */

static void test_bad_input(void **state)
{
	(void)state;
	struct read_result res;
	mkdir(tape, 0700);
	res = read_tape(tape, NULL, 0);
	assert_int_equal(res.open_rc, TAPE_E_EMPTY);
	assert_non_null(strstr(res.err, "no segments (seg-*.tt): not a tape, "
					"or the recorder never started"));

	char path[400];
	snprintf(path, sizeof(path), "%s/notes.txt", tmp);
	put_file(path,
		 "hello, this is not a tape at all......................"
		 "..............",
		 69);
	res = read_tape(path, NULL, 0);
	assert_int_equal(res.open_rc, TAPE_E_NOTTAPE);
	assert_non_null(strstr(res.err, "notes.txt: not a tracetape segment"));

	snprintf(path, sizeof(path), "%s/missing", tmp);
	res = read_tape(path, NULL, 0);
	assert_int_equal(res.open_rc, TAPE_E_IO);
	assert_non_null(strstr(res.err, "No such file or directory"));

	/* A segment file in a tape directory that is junk: reported. */
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	put_file(path, "junk", 4);
	res = read_tape(tape, NULL, 0);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.records, 0);
	assert_true(res.damage >= 1);

	struct tape_writer *w;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_writer_open(&w, tape, NULL, err), TAPE_E_EXISTS);
	assert_null(w);
	assert_non_null(strstr(err, "not empty"));
}

static void test_permission_denied(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	write_n(w, 100, now_boot_ns(), 1000);
	assert_int_equal(tape_writer_close(w), 0);
	chmod(tape, 0);
	if (geteuid() != 0) {
		struct read_result res = read_tape(tape, NULL, 0);
		assert_int_equal(res.open_rc, TAPE_E_IO);
		assert_non_null(strstr(res.err, "Permission denied"));
		chmod(tape, 0700);
		return;
	}
	/* root ignores modes: check as "nobody" in a child process. */
	fprintf(stderr, "note: running as root; checking the permission "
			"error as uid 65534 in a child\n");
	chmod(tmp, 0755);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		struct read_result res = read_tape(tape, NULL, 0);
		_exit(res.open_rc == TAPE_E_IO &&
				      strstr(res.err, "Permission denied") &&
				      strstr(res.err, tape)
			      ? 0
			      : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	chmod(tape, 0700);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		skip(); /* loudly: the note above says why */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A writer that dies without closing: the *.partial is read, nothing
 * flushed is lost, nothing is reported as damage. */
static void test_partial_segment(void **state)
{
	(void)state;
	uint64_t base = now_boot_ns() + 1000000000ull;
	pid_t pid = fork();
	if (pid == 0) {
		struct tape_writer *w = NULL;
		if (tape_writer_open(&w, tape, NULL, NULL))
			_exit(1);
		write_n(w, 5000, base, 1000);
		tape_writer_flush(w);
		write_n(w, 10, base + 10000000, 1000); /* never flushed */
		raise(SIGKILL);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	check_synthetic(tape, 0, 5000);
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	const struct tape_segment_info *seg;
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	assert_int_equal(tape_reader_segments(r, &seg), 1);
	assert_true(seg[0].partial);
	assert_false(seg[0].has_footer);
	assert_non_null(strstr(seg[0].path, "seg-000001.tt.partial"));
	tape_reader_close(r);
}

/* A write error (here: the file size limit, like a full disk) stops the
 * writer with a message naming the file; what was written stays
 * readable. */
static void test_write_error(void **state)
{
	(void)state;
	uint64_t base = now_boot_ns() + 1000000000ull;
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = {300000, 300000};
		setrlimit(RLIMIT_FSIZE, &rl);
		struct tape_writer_opts o = {.sz = sizeof(o),
					     .chunk_size = 16384};
		struct tape_writer *w = NULL;
		if (tape_writer_open(&w, tape, &o, NULL))
			_exit(1);
		uint8_t body[80];
		int rc = 0;
		uint64_t s = 9;
		for (uint64_t i = 0; i < 1000000 && !rc; i++) {
			uint32_t len = body_for(i, body);
			body[8] = (uint8_t)mix64(&s); /* hard to compress */
			body[9] = (uint8_t)mix64(&s);
			rc = tape_writer_append(w, TT_REC_OPEN, base + i * 1000,
						body, len);
		}
		const char *msg = tape_writer_error(w);
		int ok = rc == TAPE_E_IO &&
			 strstr(msg, "seg-000001.tt.partial") &&
			 strstr(msg, "File too large");
		/* sticky: later calls fail the same way */
		ok = ok && tape_writer_append(w, 1, 1, "x", 1) == TAPE_E_IO;
		ok = ok && tape_writer_close(w) == TAPE_E_IO;
		_exit(ok ? 0 : 2);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct read_result res = read_tape(tape, NULL, TT_REC_OPEN);
	assert_int_equal(res.open_rc, 0);
	assert_true(res.typed > 1000);
	assert_int_equal(res.out_of_order, 0);
	/* The half-written last block was cut off by the writer: the
	 * segment ends on a block boundary and reads without damage. */
	assert_int_equal(res.damage, 0);
}

static void test_manifest_names_missing_segment(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	uint64_t base = now_boot_ns() + 1000000000ull;
	write_n(w, 100, base, 1000);
	assert_int_equal(tape_writer_rotate(w), 0);
	write_n(w, 100, base + 1000000, 1000);
	assert_int_equal(tape_writer_close(w), 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	assert_int_equal(unlink(path), 0);
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	const struct tape_damage *d;
	assert_int_equal(tape_reader_damage(r, &d), 1);
	assert_non_null(strstr(d[0].segment, "seg-000001.tt"));
	assert_non_null(strstr(d[0].what, "listed in MANIFEST but missing"));
	tape_reader_close(r);
}

static void test_file_modes_and_symlink(void **state)
{
	(void)state;
	struct tape_writer *w = open_writer(NULL);
	write_n(w, 10, now_boot_ns(), 1000);
	assert_int_equal(tape_writer_rotate(w), 0);
	assert_int_equal(tape_writer_close(w), 0);
	struct stat st;
	assert_int_equal(stat(tape, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	const char *files[] = {"MANIFEST", "seg-000001.tt", "seg-000002.tt"};
	for (size_t i = 0; i < 3; i++) {
		char path[400];
		snprintf(path, sizeof(path), "%s/%s", tape, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}
	/* A symlink planted where the tape should go is not followed. */
	char link[400], target[400];
	snprintf(target, sizeof(target), "%s/elsewhere", tmp);
	snprintf(link, sizeof(link), "%s/link", tmp);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	char err[TAPE_ERRLEN];
	assert_true(tape_writer_open(&w, link, NULL, err) < 0);
	assert_null(w);
	assert_non_null(strstr(err, "link"));
	char manifest[500];
	snprintf(manifest, sizeof(manifest), "%s/MANIFEST", target);
	assert_int_equal(access(manifest, F_OK), -1);
}

static int segment_cb_calls;

static int on_start(struct tape_writer *w, void *ctx)
{
	(void)ctx;
	segment_cb_calls++;
	static const char host[] = "hostname=test";
	return tape_writer_append(w, TT_REC_HOST, now_boot_ns(), host,
				  sizeof(host));
}

static void test_segment_start_records(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o),
				     .on_segment_start = on_start};
	segment_cb_calls = 0;
	struct tape_writer *w = open_writer(&o);
	uint64_t base = now_boot_ns() + 1000000000ull;
	write_n(w, 10, base, 1000);
	assert_int_equal(tape_writer_rotate(w), 0);
	write_n(w, 10, base + 100000, 1000);
	assert_int_equal(tape_writer_close(w), 0);
	assert_int_equal(segment_cb_calls, 2);

	struct tape_reader_opts ro = {.sz = sizeof(ro), .file_order = true};
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, tape, &ro, err), 0);
	struct tape_record rec;
	uint16_t types[4];
	size_t k = 0;
	uint64_t seq_seen = 0;
	while (tape_reader_next(r, &rec) == 1) {
		if (rec.type == TT_REC_OPEN)
			continue;
		if (k < 4)
			types[k] = rec.type;
		k++;
		if (rec.type == TT_REC_SEGMENT) {
			struct tt_segment_start ss;
			tape_rec_fixed(&rec, &ss, sizeof(ss));
			assert_int_equal(ss.segment_seq, ++seq_seen);
			assert_int_equal(ss.events_before,
					 seq_seen == 1 ? 0 : 10);
		}
	}
	assert_int_equal(k, 4);
	assert_int_equal(types[0], TT_REC_SEGMENT);
	assert_int_equal(types[1], TT_REC_HOST);
	assert_int_equal(types[2], TT_REC_SEGMENT);
	assert_int_equal(types[3], TT_REC_HOST);
	tape_reader_close(r);
}

/* opts.first_ts stamps the first segment's SEGMENT record (a tape made
 * from another one starts at its records' time, not at the clock now). */
static void test_first_ts(void **state)
{
	(void)state;
	const uint64_t start = 5000000000ull; /* boot + 5 s: long past */
	struct tape_writer_opts o = {.sz = sizeof(o), .first_ts = start};
	struct tape_writer *w = open_writer(&o);
	write_n(w, 3, start + 1000, 1000);
	assert_int_equal(tape_writer_close(w), 0);

	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	struct tape_record rec;
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	assert_int_equal(tape_reader_next(r, &rec), 1);
	assert_int_equal(rec.type, TT_REC_SEGMENT);
	assert_int_equal(rec.ts, start);
	tape_reader_close(r);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e >= -10; e--)
		assert_null(strstr(tape_strerror(e), "unknown"));
	assert_non_null(strstr(tape_strerror(-99), "unknown"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_crc32c),
		T(test_roundtrip_all_types),
		T(test_record_helpers),
		T(test_millions_rotation_by_size),
		T(test_rotation_by_time),
		T(test_retention),
		T(test_reorder_window),
		T(test_overlapping_chunks_merge),
		T(test_outlier_does_not_stop_merging),
		T(test_big_records),
		T(test_since_until),
		T(test_unknown_block_type_skipped),
		T(test_newer_major_refused),
		T(test_unknown_chunk_flags),
		T(test_bad_input),
		T(test_permission_denied),
		T(test_partial_segment),
		T(test_write_error),
		T(test_manifest_names_missing_segment),
		T(test_segment_start_records),
		T(test_first_ts),
		T(test_file_modes_and_symlink),
		T(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
