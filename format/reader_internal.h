/* SPDX-License-Identifier: MIT */
/*
 * reader_internal.h - the reader's state, shared by reader.c (finding
 * segments, reading or rebuilding their indexes) and reader_next.c
 * (loading chunks and handing out records in time order).
 */
#ifndef READER_INTERNAL_H
#define READER_INTERNAL_H

#include <stdbool.h>
#include <zstd.h>

#include "tape_internal.h"

/* Reorder bounds: chunks decoded at once, and their raw bytes. */
#define RD_MAX_LIVE	  64
#define RD_MAX_LIVE_BYTES (512ull << 20)
#define RD_MAX_DAMAGE	  100000

/* One chunk as known from an index (footer or rebuilt by scanning). */
struct rd_chunk {
	uint64_t offset; /* of its block header in the segment */
	uint64_t chunk_seq, min_ts, max_ts, raw_len;
	uint64_t wait_ts; /* smallest ts still expected from here on */
	uint32_t seg, nrecords;
	bool ts_delta, sorted; /* set when loaded, from the chunk flags */
};

struct rd_sortent {
	uint64_t ts;
	uint32_t off;
	uint32_t pad;
};

/* A decoded chunk whose records are being handed out. */
struct rd_slot {
	uint8_t *buf;
	size_t cap, len;	  /* len: end of the last well-framed record */
	struct rd_sortent *order; /* only when the chunk was not sorted */
	size_t order_cap, n, pos, off;
	size_t ci;	  /* index of its chunk in tape_reader.chunks */
	size_t charged;	  /* bytes counted in tape_reader.live_bytes */
	uint64_t prev_ts; /* stored order: ts of the record before off */
	bool delta;	  /* stored order: ts fields are still deltas */
	bool use_order, in_use;
	uint64_t head_ts, load_no;
	uint32_t seg;
};

struct block_hdr {
	uint16_t type, flags;
	uint32_t ext_len;
	uint64_t payload_len, raw_len;
	uint32_t payload_crc;
	const uint8_t *ext; /* points into the reader's ext buffer */
};

struct tape_reader {
	struct tape_reader_opts opts;
	char *path;

	struct tape_segment_info *segs;
	size_t nsegs, segs_cap;
	struct rd_anchor { /* per segment, from its header: 0 if unknown */
		uint64_t realtime_ns, boottime_ns;
	} * anchors;
	uint8_t tape_id[16];
	bool have_tape_id;

	struct rd_chunk *chunks;
	size_t nchunks, chunks_cap, next;

	struct rd_slot slots[RD_MAX_LIVE];
	struct rd_slot *solo; /* fast path: see plan_solo() */
	uint64_t solo_bound;
	uint32_t live[RD_MAX_LIVE];
	size_t nlive;
	uint64_t live_bytes, loads;

	int fd;
	uint32_t fd_seg;
	ZSTD_DCtx *dctx;
	uint8_t *cbuf; /* stored payload */
	size_t ccap;
	uint8_t ext[TT_MAX_EXT_LEN];

	struct tape_damage *damage;
	size_t ndamage, damage_cap;
	char **owned; /* strings damage entries point to */
	size_t nowned;

	uint64_t last_ts;
	uint64_t out_of_order;
	char msg[TAPE_ERRLEN];
};

void rd_damage(struct tape_reader *r, const char *segment, uint64_t offset,
	       uint64_t length, int64_t chunk_seq, uint64_t lost,
	       uint64_t first_ts, uint64_t last_ts, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));

/* Read and check the block header at OFF (ext into r->ext).
 * 0: good; -1: not a valid header; -2: read error. */
int rd_block_header(struct tape_reader *r, int fd, uint64_t off, uint64_t size,
		    struct block_hdr *bh);

ssize_t rd_pread(int fd, void *buf, size_t len, uint64_t off);

/* "HH:MM:SS.d-HH:MM:SS.d UTC" for boot-clock times in segment SEG, using
 * the clock pair of its header; boot seconds when it has none. */
void rd_fmt_range(const struct tape_reader *r, uint32_t seg, uint64_t from,
		  uint64_t to, char *buf, size_t len);

#endif /* READER_INTERNAL_H */
