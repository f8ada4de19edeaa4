/* SPDX-License-Identifier: MIT */
/*
 * test_format_util.h - helpers shared by the format tests: temporary
 * directories, deterministic record bodies, reading a tape to the end,
 * and building segment files by hand (to plant damage or new types).
 */
#ifndef TEST_FORMAT_UTIL_H
#define TEST_FORMAT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "tape.h"
#include "tape_internal.h"
#include "tt_events.h"

static inline uint64_t now_boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory; the tape goes to DIR/tape. */
static inline void make_tmp(char *dir, size_t len, char *tape, size_t tlen)
{
	snprintf(dir, len, "/tmp/tt-format-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(tape, tlen, "%s/tape", dir);
}

/*
 * The current test's temporary directory and the tape path inside it:
 * made by tmp_setup() and removed by tmp_teardown(), the cmocka setup
 * and teardown of every format test.
 */
static char tmp[256], tape[300];

static inline int tmp_setup(void **state)
{
	(void)state;
	make_tmp(tmp, sizeof(tmp), tape, sizeof(tape));
	return 0;
}

static inline int tmp_teardown(void **state)
{
	(void)state;
	rm_rf(tmp);
	return 0;
}

/* splitmix64: a deterministic stream for bodies and jitter. */
static inline uint64_t mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Body of synthetic record I: its index in the first 8 bytes, then a
 * pattern; 8..71 bytes long. */
static inline uint32_t body_for(uint64_t i, uint8_t *buf)
{
	uint32_t len = 8 + (uint32_t)(i * 7 % 64);
	memcpy(buf, &i, 8);
	for (uint32_t k = 8; k < len; k++)
		buf[k] = (uint8_t)(i + k);
	return len;
}

static inline int body_ok(const struct tape_record *rec, uint64_t *idx)
{
	uint8_t want[80];
	if (rec->len < 8)
		return 0;
	memcpy(idx, rec->body, 8);
	uint32_t len = body_for(*idx, want);
	return len == rec->len && memcmp(want, rec->body, len) == 0;
}

/* Read every record; count those of TYPE (0 = all but TT_REC_SEGMENT);
 * check time order unless file order was asked for. */
struct read_result {
	int open_rc, next_rc;
	uint64_t records, typed, out_of_order;
	size_t damage;
	char err[TAPE_ERRLEN];
};

static inline struct read_result
read_tape(const char *path, const struct tape_reader_opts *o, uint16_t type)
{
	struct read_result res = {0};
	struct tape_reader *r;
	res.open_rc = tape_reader_open(&r, path, o, res.err);
	if (res.open_rc)
		return res;
	struct tape_record rec;
	uint64_t prev = 0;
	while ((res.next_rc = tape_reader_next(r, &rec)) == 1) {
		res.records++;
		if (type ? rec.type == type : rec.type != TT_REC_SEGMENT)
			res.typed++;
		if (rec.ts < prev)
			res.out_of_order++;
		prev = rec.ts;
	}
	res.damage = tape_reader_damage(r, NULL);
	tape_reader_close(r);
	return res;
}

/* Replace PATH by a new file (unlink, not O_TRUNC: ext4 flushes a file
 * truncated and rewritten on close, which made the damage tests wait on
 * the disk). */
static inline void put_file(const char *path, const void *buf, size_t len)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		perror(path);
		abort();
	}
	close(fd);
}

static inline uint8_t *get_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		abort();
	}
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		abort();
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* ---- building segments by hand ---------------------------------- */

struct seg_builder {
	uint8_t *buf;
	size_t len, cap;
};

static inline void sb_put(struct seg_builder *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->buf = realloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline void sb_header(struct seg_builder *b, uint16_t major,
			     uint16_t minor, uint64_t seq)
{
	uint8_t h[64] = {0};
	memcpy(h, TT_SEG_MAGIC, 8);
	tt_put16(h + 8, major);
	tt_put16(h + 10, minor);
	tt_put32(h + 12, 64);
	tt_put64(h + 16, seq);
	memset(h + 24, 0xab, 16);
	tt_put32(h + 60, tt_crc32c(0, h, 60));
	sb_put(b, h, 64);
}

static inline void sb_block(struct seg_builder *b, uint16_t type,
			    uint16_t flags, const uint8_t *ext,
			    uint32_t ext_len, const void *payload,
			    uint64_t payload_len, uint64_t raw_len)
{
	uint8_t h[40];
	tt_put32(h, TT_BLOCK_MAGIC);
	tt_put16(h + 4, type);
	tt_put16(h + 6, flags);
	tt_put32(h + 8, ext_len);
	tt_put32(h + 12, 0);
	tt_put64(h + 16, payload_len);
	tt_put64(h + 24, raw_len);
	tt_put32(h + 32, tt_crc32c(0, payload, payload_len));
	tt_put32(h + 36, tt_crc32c(tt_crc32c(0, h, 36), ext, ext_len));
	sb_put(b, h, 40);
	sb_put(b, ext, ext_len);
	sb_put(b, payload, payload_len);
}

/* A CHUNK block holding RAW (framed records) compressed with zstd, with
 * chunk FLAGS (TT_CHUNK_F_*). */
static inline void sb_chunk_flags(struct seg_builder *b, uint64_t seq,
				  uint64_t min_ts, uint64_t max_ts,
				  uint32_t nrec, uint32_t flags,
				  const void *raw, size_t raw_len)
{
	uint8_t ext[48] = {0};
	tt_put64(ext, seq);
	tt_put64(ext + 8, min_ts);
	tt_put64(ext + 16, max_ts);
	tt_put32(ext + 24, nrec);
	tt_put32(ext + 28, flags);
	tt_put64(ext + 32, min_ts);
	size_t cap = ZSTD_compressBound(raw_len);
	void *z = malloc(cap);
	size_t zn = ZSTD_compress(z, cap, raw, raw_len, 1);
	sb_block(b, TT_BLOCK_CHUNK, TT_BLOCK_F_ZSTD, ext, 48, z, zn, raw_len);
	free(z);
}

static inline void sb_chunk(struct seg_builder *b, uint64_t seq,
			    uint64_t min_ts, uint64_t max_ts, uint32_t nrec,
			    const void *raw, size_t raw_len)
{
	sb_chunk_flags(b, seq, min_ts, max_ts, nrec, 0, raw, raw_len);
}

/* Append one framed record to RAW. */
static inline void frame_rec(struct seg_builder *raw, uint16_t type,
			     uint64_t ts, const void *body, uint32_t len)
{
	uint8_t h[16];
	static const uint8_t zero[8];
	tt_put16(h, type);
	tt_put16(h + 2, 0);
	tt_put32(h + 4, len);
	tt_put64(h + 8, ts);
	sb_put(raw, h, 16);
	sb_put(raw, body, len);
	sb_put(raw, zero, tt_pad8(len) - len);
}

/* Write SEG as DIR/seg-000001.tt.partial (a segment whose writer never
 * finished); PATH gets its name. */
static inline void put_partial(char path[static 400], const char *dir,
			       const struct seg_builder *seg)
{
	snprintf(path, 400, "%s/seg-000001.tt.partial", dir);
	put_file(path, seg->buf, seg->len);
}

/* Open PATH, read it to the end and return the reader, still open so
 * its damage list can be looked at; *N gets the records handed out. */
static inline struct tape_reader *open_and_count(const char *path, int *n)
{
	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	assert_int_equal(tape_reader_open(&r, path, NULL, err), 0);
	struct tape_record rec;
	*n = 0;
	while (tape_reader_next(r, &rec) == 1)
		(*n)++;
	return r;
}

#endif /* TEST_FORMAT_UTIL_H */
