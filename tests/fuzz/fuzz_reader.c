/* SPDX-License-Identifier: MIT */
/*
 * fuzz_reader.c - libFuzzer target: the input is a segment file.  It is
 * written to a temporary file, opened with the tape reader and read to
 * the end, touching every record body and the record helpers, so that
 * any out-of-bounds access shows up under ASan.
 *
 * The first input byte is a mode, the rest the file.  Mode bit 0 picks
 * the file name: set -> seg-000001.tt.partial (no footer expected),
 * clear -> seg-000001.tt, so both paths are fuzzed.  Bit 1 asks the harness to
 * recompute every checksum it can find first, so that mutations reach the code
 * behind the CRC checks (record framing, zstd, ordering) instead of stopping at
 * "checksum mismatch".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tape.h"
#include "tape_internal.h"
#include "tt_events.h"

static char dir[64];

static void remove_dir(void)
{
	rmdir(dir);
}

static void write_input(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
		perror(path);
		abort();
	}
	close(fd);
}

/* Walk the blocks back to back and make their CRCs (and the segment
 * header's and trailer's) match what the mutated bytes say. */
static void fix_crcs(uint8_t *b, size_t size)
{
	if (size < TT_SEG_HEADER_SIZE)
		return;
	tt_put32(b + 60, tt_crc32c(0, b, TT_SEG_HEADER_CRC));
	uint64_t off = TT_SEG_HEADER_SIZE;
	while (size - off >= TT_BLOCK_HDR_SIZE) {
		uint8_t *h = b + off;
		uint64_t ext = tt_get32(h + 8), pay = tt_get64(h + 16);
		if (tt_get32(h) != TT_BLOCK_MAGIC ||
		    ext > size - off - TT_BLOCK_HDR_SIZE ||
		    pay > size - off - TT_BLOCK_HDR_SIZE - ext)
			break;
		uint8_t *e = h + TT_BLOCK_HDR_SIZE;
		tt_put32(h + 32, tt_crc32c(0, e + ext, pay));
		tt_put32(h + 36,
			 tt_crc32c(tt_crc32c(0, h, TT_BLOCK_HDR_CRC), e, ext));
		off += TT_BLOCK_HDR_SIZE + ext + pay;
	}
	if (size >= TT_SEG_HEADER_SIZE + TT_TRAILER_SIZE) {
		uint8_t *t = b + size - TT_TRAILER_SIZE;
		tt_put32(t + 24, tt_crc32c(0, t, TT_TRAILER_CRC));
	}
}

static uint64_t touch(const struct tape_record *rec)
{
	uint64_t sum = rec->ts + rec->type;
	const uint8_t *b = rec->body;
	for (uint32_t i = 0; i < rec->len; i++)
		sum += b[i];
	uint16_t lens[2] = {(uint16_t)(rec->len & 0xff), 3};
	sum += tape_rec_string(rec, 8, lens, 2, 1) != NULL;
	sum += tape_rec_kv(rec, "hostname") != NULL;
	uint8_t fixed[64];
	tape_rec_fixed(rec, fixed, sizeof(fixed));
	return sum + fixed[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/tt-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	char path[128];
	uint8_t mode = size ? data[0] : 0;
	if (size) {
		data++;
		size--;
	}
	char manifest[300] = "";
	if ((mode & 4) && size) {
		size_t n = data[0] < size - 1 ? data[0] : size - 1;
		snprintf(manifest, sizeof(manifest), "%s/MANIFEST", dir);
		write_input(manifest, data + 1, n);
		data += 1 + n;
		size -= 1 + n;
	}
	struct tape_reader_opts ro = {.sz = sizeof(ro)};
	if ((mode & 8) && size >= 3) {
		ro.since_ts = (uint64_t)data[0] << 24;
		ro.until_ts = (uint64_t)data[1] << 32;
		ro.file_order = data[2] & 1;
		ro.reorder_window_ns = (uint64_t)(data[2] >> 1) * 1000;
		data += 3;
		size -= 3;
	}
	bool partial = mode & 1;
	snprintf(path, sizeof(path), "%s/seg-000001.tt%s", dir,
		 partial ? ".partial" : "");
	if (size && (mode & 2)) {
		uint8_t *copy = malloc(size);
		memcpy(copy, data, size);
		fix_crcs(copy, size);
		write_input(path, copy, size);
		free(copy);
	} else {
		write_input(path, data, size);
	}

	struct tape_reader *r;
	char err[TAPE_ERRLEN];
	if (tape_reader_open(&r, manifest[0] ? dir : path, &ro, err) == 0) {
		struct tape_record rec;
		volatile uint64_t sink = 0;
		while (tape_reader_next(r, &rec) == 1)
			sink += touch(&rec);
		const struct tape_damage *d;
		size_t n = tape_reader_damage(r, &d);
		for (size_t i = 0; i < n; i++)
			sink += strlen(d[i].what) + strlen(d[i].segment);
		const struct tape_segment_info *s;
		n = tape_reader_segments(r, &s);
		for (size_t i = 0; i < n; i++)
			sink += s[i].records;
		(void)sink;
		tape_reader_close(r);
	}
	unlink(path);
	if (manifest[0])
		unlink(manifest);
	return 0;
}
