/* SPDX-License-Identifier: MIT */
/*
 * test_format_damage.c - the reader against damaged segments: truncation
 * at every byte of the last chunk and the footer, seeded random byte
 * flips, bad record framing inside a good chunk, garbage between blocks.
 * It must never crash, must say exactly what it lost, and must read
 * everything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_format_util.h"

/* A small finished segment and what its footer says about it. */
struct layout {
	uint8_t *bytes;
	size_t size;
	uint64_t index_off;
	size_t nchunks;
	uint64_t off[64], nrec[64];
	uint64_t total;
};

static void make_segment(struct layout *l, uint64_t nrecords)
{
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	struct tape_writer *w = NULL;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_writer_open(&w, tape, &o, err), 0);
	uint64_t base = now_boot_ns() + 1000000000ull;
	uint8_t body[80];
	for (uint64_t i = 0; i < nrecords; i++) {
		uint32_t len = body_for(i, body);
		assert_int_equal(tape_writer_append(w, TT_REC_OPEN,
						    base + i * 1000, body, len),
				 0);
	}
	assert_int_equal(tape_writer_close(w), 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tape);
	l->bytes = get_file(path, &l->size);
	const uint8_t *t = l->bytes + l->size - TT_TRAILER_SIZE;
	l->index_off = tt_get64(t);
	l->nchunks = tt_get64(t + 8);
	l->total = tt_get64(t + 16);
	assert_true(l->nchunks >= 3 && l->nchunks <= 64);
	const uint8_t *idx = l->bytes + l->index_off + TT_BLOCK_HDR_SIZE;
	for (size_t i = 0; i < l->nchunks; i++) {
		l->off[i] = tt_get64(idx + i * TT_INDEX_ENTRY_SIZE);
		l->nrec[i] = tt_get32(idx + i * TT_INDEX_ENTRY_SIZE + 32);
	}
	l->off[l->nchunks] = l->index_off;
}

/* Read SEGMENT fully; return records, damage list copied out. */
static struct read_result read_file(const char *path)
{
	return read_tape(path, NULL, 0);
}

static bool has_chunk_damage(const char *path, int64_t seq, uint64_t lost)
{
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	if (tape_reader_open(&r, path, NULL, err))
		return false;
	struct tape_record rec;
	while (tape_reader_next(r, &rec) == 1)
		;
	const struct tape_damage *d;
	size_t n = tape_reader_damage(r, &d);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= d[i].chunk_seq == seq && d[i].records_lost == lost &&
			 strstr(d[i].segment, path) && d[i].what[0];
	tape_reader_close(r);
	return found;
}

static void test_truncate_every_offset(void **state)
{
	(void)state;
	struct layout l;
	make_segment(&l, 500);
	size_t last = l.nchunks - 1;
	uint64_t before_last = l.total - l.nrec[last];
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt.partial", tmp);
	for (uint64_t cut = l.off[last]; cut < l.size; cut++) {
		put_file(path, l.bytes, cut);
		struct read_result res = read_file(path);
		assert_int_equal(res.open_rc, 0);
		assert_int_equal(res.next_rc, 0);
		uint64_t want = cut < l.index_off ? before_last : l.total;
		if (res.records != want)
			fail_msg("cut at %llu: %llu records, want %llu",
				 (unsigned long long)cut,
				 (unsigned long long)res.records,
				 (unsigned long long)want);
		bool at_boundary =
			cut == l.off[last] || cut == l.index_off ||
			cut >= l.index_off + TT_BLOCK_HDR_SIZE +
					l.nchunks * TT_INDEX_ENTRY_SIZE;
		if (at_boundary != (res.damage == 0))
			fail_msg("cut at %llu: %zu damage reports",
				 (unsigned long long)cut, res.damage);
		/* Once its header is whole, the lost chunk is named. */
		if (cut >= l.off[last] + TT_BLOCK_HDR_SIZE +
				    TT_CHUNK_EXT_SIZE &&
		    cut < l.index_off)
			assert_true(has_chunk_damage(path, (int64_t)last,
						     l.nrec[last]));
	}
	/* A finished name without its footer says so as well. */
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tmp);
	put_file(path, l.bytes, l.off[last] + 100);
	struct read_result res = read_file(path);
	assert_int_equal(res.records, before_last);
	assert_int_equal(res.damage, 2); /* footer missing + truncation */
	free(l.bytes);
}

static size_t region_of(const struct layout *l, uint64_t off)
{
	for (size_t i = 0; i < l->nchunks; i++)
		if (off >= l->off[i] && off < l->off[i + 1])
			return i;
	return SIZE_MAX;
}

static void test_single_byte_flips(void **state)
{
	(void)state;
	struct layout l;
	make_segment(&l, 1000);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt", tmp);
	uint8_t *copy = malloc(l.size);
	uint64_t s = 12345;
	for (int trial = 0; trial < 600; trial++) {
		uint64_t off = mix64(&s) % l.size;
		uint8_t x = (uint8_t)(mix64(&s) % 255 + 1);
		memcpy(copy, l.bytes, l.size);
		copy[off] ^= x;
		put_file(path, copy, l.size);
		struct read_result res = read_file(path);
		size_t k = region_of(&l, off);
		if (off < 8) {
			assert_int_equal(res.open_rc, TAPE_E_NOTTAPE);
		} else if (off < TT_SEG_HEADER_SIZE || k == SIZE_MAX) {
			/* header or footer: reported, nothing lost */
			assert_int_equal(res.open_rc, 0);
			assert_int_equal(res.records, l.total);
			assert_true(res.damage >= 1);
		} else {
			if (res.records != l.total - l.nrec[k])
				fail_msg("flip at %llu (chunk %zu): %llu "
					 "records",
					 (unsigned long long)off, k,
					 (unsigned long long)res.records);
			assert_int_equal(res.damage, 1);
			assert_true(
				has_chunk_damage(path, (int64_t)k, l.nrec[k]));
		}
	}
	free(copy);
	free(l.bytes);
}

static void test_random_mangling(void **state)
{
	(void)state;
	struct layout l;
	make_segment(&l, 1000);
	char path[400];
	snprintf(path, sizeof(path), "%s/seg-000001.tt.partial", tmp);
	uint8_t *copy = malloc(l.size + 4096);
	uint64_t s = 777;
	for (int trial = 0; trial < 600; trial++) {
		memcpy(copy, l.bytes, l.size);
		size_t len = l.size;
		int flips = 1 + (int)(mix64(&s) % 16);
		for (int f = 0; f < flips; f++)
			copy[mix64(&s) % len] = (uint8_t)mix64(&s);
		switch (mix64(&s) % 4) {
		case 0: /* cut short */
			len = mix64(&s) % len;
			break;
		case 1: /* garbage appended */
			for (int g = 0; g < 4096; g++)
				copy[len + (size_t)g] = (uint8_t)mix64(&s);
			len += mix64(&s) % 4096;
			break;
		default:
			break;
		}
		put_file(path, copy, len);
		struct read_result res = read_file(path);
		if (res.open_rc == 0) {
			assert_int_equal(res.next_rc, 0);
			assert_true(res.records <= l.total);
		} else {
			assert_true(res.open_rc == TAPE_E_NOTTAPE ||
				    res.open_rc == TAPE_E_VERSION);
			assert_true(res.err[0] != '\0');
		}
	}
	free(copy);
	free(l.bytes);
}

/* A chunk whose checksum is good but whose last record claims more
 * bytes than the chunk has (a writer bug): earlier records are kept.
 * Both ways of reading a chunk: a checking pass first (flags 0), and
 * checking while handing out (SORTED, with delta timestamps). */
static void bad_framing(uint32_t flags)
{
	struct seg_builder seg = {0}, raw = {0};
	sb_header(&seg, 1, 0, 1);
	bool delta = flags & TT_CHUNK_F_TS_DELTA;
	for (int k = 0; k < 5; k++)
		frame_rec(&raw, TT_REC_FORK, delta && k ? 1 : 100 + (uint64_t)k,
			  "12345678", 8);
	uint8_t h[16];
	tt_put16(h, TT_REC_FORK);
	tt_put16(h + 2, 0);
	tt_put32(h + 4, 1000); /* runs past the chunk end */
	tt_put64(h + 8, delta ? 2 : 106);
	sb_put(&raw, h, 16);
	sb_put(&raw, "short", 5);
	sb_chunk_flags(&seg, 0, 100, 106, 9, flags, raw.buf, raw.len);
	raw.len = 0;
	frame_rec(&raw, TT_REC_FORK, 200, "abc", 3);
	sb_chunk(&seg, 1, 200, 200, 1, raw.buf, raw.len);
	char path[400];
	put_partial(path, tmp, &seg);
	struct read_result res = read_file(path);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.records, 6);
	assert_int_equal(res.out_of_order, 0);
	assert_int_equal(res.damage, 1);
	assert_true(has_chunk_damage(path, 0, 4)); /* 9 claimed, 5 read */
	/* The timestamps came back absolute, in order. */
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, path, NULL, err), 0);
	struct tape_record rec;
	uint64_t want[] = {100, 101, 102, 103, 104, 200};
	for (int k = 0; k < 6; k++) {
		assert_int_equal(tape_reader_next(r, &rec), 1);
		assert_int_equal(rec.ts, want[k]);
	}
	tape_reader_close(r);
	free(seg.buf);
	free(raw.buf);
}

static void test_bad_record_framing(void **state)
{
	(void)state;
	bad_framing(0);
}

static void test_bad_record_framing_sorted_delta(void **state)
{
	(void)state;
	bad_framing(TT_CHUNK_F_SORTED | TT_CHUNK_F_TS_DELTA);
}

/* Garbage between blocks, even with a fake magic in it: the reader
 * skips to the next block whose header checksum verifies. */
static void test_resync_after_garbage(void **state)
{
	(void)state;
	struct seg_builder seg = {0}, raw = {0};
	sb_header(&seg, 1, 0, 1);
	frame_rec(&raw, TT_REC_FORK, 100, "12345678", 8);
	sb_chunk(&seg, 0, 100, 100, 1, raw.buf, raw.len);
	uint64_t garbage_at = seg.len;
	uint8_t junk[100];
	memset(junk, 0x5a, sizeof(junk));
	tt_put32(junk + 20, TT_BLOCK_MAGIC);
	sb_put(&seg, junk, sizeof(junk));
	raw.len = 0;
	frame_rec(&raw, TT_REC_FORK, 200, "abc", 3);
	sb_chunk(&seg, 1, 200, 200, 1, raw.buf, raw.len);
	char path[400];
	put_partial(path, tmp, &seg);
	int n;
	struct tape_reader *r = open_and_count(path, &n);
	assert_int_equal(n, 2);
	const struct tape_damage *d;
	assert_int_equal(tape_reader_damage(r, &d), 1);
	assert_int_equal(d[0].offset, garbage_at);
	assert_int_equal(d[0].length, sizeof(junk));
	assert_non_null(strstr(tape_reader_error(r), "tracetape verify"));
	tape_reader_close(r);
	free(seg.buf);
	free(raw.buf);
}

/* Lengths off disk never size an allocation beyond the file. */
static void test_huge_lengths(void **state)
{
	(void)state;
	struct seg_builder seg = {0};
	sb_header(&seg, 1, 0, 1);
	uint8_t ext[48] = {0};
	tt_put32(ext + 24, 3);
	/* claims 2^60 stored bytes and 2^62 raw bytes, checksum valid */
	uint8_t h[40];
	tt_put32(h, TT_BLOCK_MAGIC);
	tt_put16(h + 4, TT_BLOCK_CHUNK);
	tt_put16(h + 6, TT_BLOCK_F_ZSTD);
	tt_put32(h + 8, 48);
	tt_put32(h + 12, 0);
	tt_put64(h + 16, 1ull << 60);
	tt_put64(h + 24, 1ull << 62);
	tt_put32(h + 32, 0);
	tt_put32(h + 36, tt_crc32c(tt_crc32c(0, h, 36), ext, 48));
	sb_put(&seg, h, 40);
	sb_put(&seg, ext, 48);
	sb_put(&seg, "tiny", 4);
	char path[400];
	put_partial(path, tmp, &seg);
	struct read_result res = read_file(path);
	assert_int_equal(res.open_rc, 0);
	assert_int_equal(res.records, 0);
	assert_int_equal(res.damage, 1);
	free(seg.buf);
}

/* A file full of block magics (none with a valid header) is read in one
 * pass: candidates are checked in memory, and it is called unreadable
 * bytes up to the end, not a truncation. */
static void test_flood_of_magics(void **state)
{
	(void)state;
	struct seg_builder seg = {0};
	sb_header(&seg, 1, 0, 1);
	uint8_t magic[4];
	tt_put32(magic, TT_BLOCK_MAGIC);
	for (int i = 0; i < (1 << 18); i++)
		sb_put(&seg, magic, 4);
	char path[400];
	put_partial(path, tmp, &seg);
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, path, NULL, err), 0);
	struct tape_record rec;
	assert_int_equal(tape_reader_next(r, &rec), 0);
	const struct tape_damage *d;
	assert_int_equal(tape_reader_damage(r, &d), 1);
	assert_int_equal(d[0].offset, 64);
	assert_int_equal(d[0].length, 1u << 20);
	assert_non_null(strstr(d[0].what, "the end of the file"));
	tape_reader_close(r);
	free(seg.buf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_truncate_every_offset),
		T(test_single_byte_flips),
		T(test_random_mangling),
		T(test_bad_record_framing),
		T(test_bad_record_framing_sorted_delta),
		T(test_flood_of_magics),
		T(test_resync_after_garbage),
		T(test_huge_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
