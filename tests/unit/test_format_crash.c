/* SPDX-License-Identifier: MIT */
/*
 * test_format_crash.c - what a writer killed with SIGKILL leaves, at the
 * moments tests/e2e/killtest.sh found that mattered: during the write(2)
 * of a segment's metadata chunk (the kernel cuts a large write short at
 * a page when a fatal signal is pending), between creating a segment
 * file and its first write, and between a retention MANIFEST line and
 * the unlink.  Every such tape must read: at least one record, and
 * damage only where something was really lost.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "test_format_util.h"

#define PAGE 4096u

/* Metadata as big as a recorder's process snapshot, and about as hard
 * to compress: its chunk spans several pages. */
static int big_metadata(struct tape_writer *w, void *ctx)
{
	(void)ctx;
	static uint8_t body[24000];
	uint64_t s = 42;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)mix64(&s);
	return tape_writer_append(w, TT_REC_PROC, now_boot_ns(), body,
				  sizeof(body));
}

/* Append N open records stamped BASE, BASE+1us, ...; 0 or the error. */
static int write_n_events(struct tape_writer *w, uint64_t n, uint64_t base)
{
	uint8_t body[80];
	int rc = 0;
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint32_t len = body_for(i, body);
		rc = tape_writer_append(w, TT_REC_OPEN, base + i * 1000, body,
					len);
	}
	return rc;
}

/*
 * In a child: open a tape with big metadata, write events, rotate
 * ROTATIONS times, flush, and die by SIGKILL, as the recorder does when
 * killed.  The last segment stays *.partial.
 */
static void killed_writer(int rotations)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct tape_writer_opts o = {.sz = sizeof(o),
					     .on_segment_start = big_metadata};
		struct tape_writer *w = NULL;
		if (tape_writer_open(&w, tape, &o, NULL))
			_exit(1);
		uint64_t base = now_boot_ns() + 1000000000ull;
		if (write_n_events(w, 200, base))
			_exit(1);
		for (int i = 0; i < rotations; i++)
			if (tape_writer_rotate(w))
				_exit(1);
		tape_writer_flush(w);
		raise(SIGKILL);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* The first block of segment bytes B: where it ends. */
static uint64_t first_block_end(const uint8_t *b, size_t len)
{
	assert_true(len >= 64 + 40);
	assert_int_equal(tt_get32(b + 64), TT_BLOCK_MAGIC);
	return 64 + 40 + tt_get32(b + 64 + 8) + tt_get64(b + 64 + 16);
}

/* Read the tape; count records and TT_REC_SEGMENT records; damage. */
struct crash_read {
	int open_rc;
	uint64_t records, segment_records;
	size_t damage;
	uint16_t first_type;
};

static struct crash_read read_crashed(const char *path)
{
	struct crash_read c = {0};
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	struct tape_reader_opts o = {.sz = sizeof(o), .file_order = true};
	c.open_rc = tape_reader_open(&r, path, &o, err);
	if (c.open_rc)
		return c;
	struct tape_record rec;
	while (tape_reader_next(r, &rec) == 1) {
		if (!c.records++)
			c.first_type = rec.type;
		c.segment_records += rec.type == TT_REC_SEGMENT;
	}
	c.damage = tape_reader_damage(r, NULL);
	tape_reader_close(r);
	return c;
}

/*
 * Cut segment SEG of the killed tape at every page boundary (where a
 * SIGKILL can cut a write(2) short) and at odd offsets in between: the
 * tape must still give WANT_SEGMENT_RECORDS TT_REC_SEGMENT records, and
 * report the cut unless it falls on the end of a block.
 */
static void cut_everywhere(const char *seg, uint64_t want_segment_records)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", tape, seg);
	size_t len;
	uint8_t *b = get_file(path, &len);
	uint64_t first = first_block_end(b, len);
	assert_true(len > 3 * PAGE); /* the metadata spans pages */
	int cuts = 0;
	for (uint64_t at = PAGE; at < len;
	     at += at % PAGE ? PAGE - at % PAGE : 997) {
		put_file(path, b, at);
		struct crash_read c = read_crashed(tape);
		assert_int_equal(c.open_rc, 0);
		assert_int_equal(c.segment_records, want_segment_records);
		assert_int_equal(c.first_type, TT_REC_SEGMENT);
		if (at > first)
			assert_true(c.damage >= 1); /* mid-block: reported */
		cuts++;
	}
	assert_true(cuts >= 6);
	/* Why: the header and the first record went out in one write(2)
	 * inside the first page, which a SIGKILL cannot cut. */
	assert_true(first <= PAGE);
	put_file(path, b, len);
	free(b);
}

/* Killed while writing the first segment's metadata (recorder start-up):
 * before the fix, a cut at 4096 left a header and a cut chunk, zero
 * records, and `tracetape verify` called the tape unreadable. */
static void test_kill_during_first_metadata_write(void **state)
{
	(void)state;
	killed_writer(0);
	struct crash_read whole = read_crashed(tape);
	assert_int_equal(whole.open_rc, 0);
	assert_int_equal(whole.damage, 0);
	assert_int_equal(whole.records,
			 1 + 1 + 200); /* SEGMENT, PROC, events */
	cut_everywhere("seg-000001.tt.partial", 1);
}

/* The same at a rotation: the new segment's cut metadata chunk loses
 * only itself; the finished segments are whole. */
static void test_kill_during_metadata_write_after_rotation(void **state)
{
	(void)state;
	killed_writer(2);
	cut_everywhere("seg-000003.tt.partial", 3);
}

/*
 * Killed while closing a segment: after its footer, before the rename
 * (the fsync between them takes milliseconds), and after the rename,
 * before the MANIFEST "close" line.  Both read whole, without damage;
 * the first one through its footer although it is still *.partial.
 */
static void test_kill_while_closing_a_segment(void **state)
{
	(void)state;
	killed_writer(1); /* seg-000001.tt closed, seg-000002.tt.partial */
	char from[400], to[400], manifest[400];
	snprintf(from, sizeof(from), "%s/seg-000002.tt.partial", tape);
	assert_int_equal(unlink(from), 0); /* not created yet */
	snprintf(manifest, sizeof(manifest), "%s/MANIFEST", tape);
	static const char opened[] = "tracetape-manifest 1\n"
				     "open 1 seg-000001.tt.partial\n";
	put_file(manifest, opened, sizeof(opened) - 1);
	for (int renamed = 0; renamed < 2; renamed++) {
		snprintf(from, sizeof(from), "%s/seg-000001.tt%s", tape,
			 renamed ? ".partial" : "");
		snprintf(to, sizeof(to), "%s/seg-000001.tt%s", tape,
			 renamed ? "" : ".partial");
		assert_int_equal(rename(from, to), 0);
		struct crash_read c = read_crashed(tape);
		assert_int_equal(c.open_rc, 0);
		assert_int_equal(c.damage, 0);
		assert_int_equal(c.records, 1 + 1 + 200);
		struct tape_reader *r;
		char err[TAPE_ERRLEN];
		const struct tape_segment_info *s;
		assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
		assert_int_equal(tape_reader_segments(r, &s), 1);
		assert_true(s[0].has_footer);
		assert_int_equal(s[0].partial, !renamed);
		tape_reader_close(r);
	}
}

/* Killed between creating seg-N.tt.partial and its first write(2): an
 * empty newest segment.  Nothing was in it, so nothing is lost. */
static void test_empty_newest_partial_is_not_damage(void **state)
{
	(void)state;
	killed_writer(1);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000003.tt.partial", tape);
	put_file(path, "", 0);
	struct crash_read c = read_crashed(tape);
	assert_int_equal(c.open_rc, 0);
	assert_int_equal(c.damage, 0);
	assert_int_equal(c.segment_records, 2);
	assert_int_equal(c.records, 2 + 2 + 200);

	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, tape, NULL, err), 0);
	const struct tape_segment_info *s;
	assert_int_equal(tape_reader_segments(r, &s), 3);
	assert_true(s[2].partial);
	assert_int_equal(s[2].size, 0);
	assert_int_equal(s[2].records, 0);
	tape_reader_close(r);
}

/* An empty segment that is not the newest was not left by a kill (the
 * writer had gone on): that stays damage. */
static void test_empty_older_segment_is_damage(void **state)
{
	(void)state;
	killed_writer(1);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/seg-000001.tt.partial", tape);
	put_file(path, "", 0);
	struct crash_read c = read_crashed(tape);
	assert_int_equal(c.open_rc, 0);
	assert_int_equal(c.damage, 1);
	assert_int_equal(c.segment_records, 1);
}

/* Killed before the first segment's first write: no segment yet.  The
 * open fails as for an empty directory, with a message that says so. */
static void test_only_segment_empty_is_no_segment_yet(void **state)
{
	(void)state;
	assert_int_equal(mkdir(tape, 0700), 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/MANIFEST", tape);
	put_file(path, "tracetape-manifest 1\n", 21);
	snprintf(path, sizeof(path), "%s/seg-000001.tt.partial", tape);
	put_file(path, "", 0);
	const char *paths[] = {tape, path};
	for (size_t i = 0; i < 2; i++) {
		struct tape_reader *r = NULL;
		char err[TAPE_ERRLEN];
		assert_int_equal(tape_reader_open(&r, paths[i], NULL, err),
				 TAPE_E_EMPTY);
		assert_null(r);
		assert_non_null(strstr(err, "no segment written yet"));
		assert_non_null(strstr(err, "seg-000001.tt.partial is empty"));
	}
}

/*
 * Retention writes "delete N" to the MANIFEST before it unlinks seg-N:
 * killed in between, the segment is still there and read, never missing
 * and reported lost.  The unlink is made to fail (a directory sits where
 * seg-000001.tt was) to see which of the two came first.
 */
static void test_retention_logs_delete_before_unlinking(void **state)
{
	(void)state;
	struct tape_writer_opts o = {.sz = sizeof(o), .max_segments = 2};
	struct tape_writer *w = NULL;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_writer_open(&w, tape, &o, err), 0);
	uint64_t base = now_boot_ns() + 1000000000ull;
	assert_int_equal(write_n_events(w, 10, base), 0);
	assert_int_equal(tape_writer_rotate(w), 0);
	char path[400], manifest[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	char inside[500];
	snprintf(inside, sizeof(inside), "%s/x", path);
	assert_int_equal(mkdir(inside, 0700), 0);
	assert_int_equal(tape_writer_rotate(w), TAPE_E_IO); /* EISDIR */
	assert_non_null(strstr(tape_writer_error(w), "seg-000001.tt"));
	tape_writer_close(w);
	snprintf(manifest, sizeof(manifest), "%s/MANIFEST", tape);
	size_t len;
	char *text = (char *)get_file(manifest, &len);
	text[len] = '\0';
	assert_non_null(strstr(text, "delete 1 seg-000001.tt\n"));
	free(text);
	rmdir(inside);
	rmdir(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kill_during_first_metadata_write),
		T(test_kill_during_metadata_write_after_rotation),
		T(test_kill_while_closing_a_segment),
		T(test_empty_newest_partial_is_not_damage),
		T(test_empty_older_segment_is_damage),
		T(test_only_segment_empty_is_no_segment_yet),
		T(test_retention_logs_delete_before_unlinking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
