/* SPDX-License-Identifier: MIT */
/*
 * tape_internal.h - on-disk constants and byte helpers shared by the
 * writer and the reader.  docs/FORMAT.md is the prose of these numbers.
 */
#ifndef TAPE_INTERNAL_H
#define TAPE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tape.h"

/* Segment header (64 bytes). */
#define TT_SEG_MAGIC	   "TTAPE\0\r\n"
#define TT_SEG_MAGIC_LEN   8
#define TT_SEG_HEADER_SIZE 64
#define TT_SEG_HEADER_CRC  60 /* CRC covers bytes 0..59 */

/* Block header (40 bytes), then ext_len bytes of extension, then payload. */
#define TT_BLOCK_MAGIC	  0x4B425454u /* "TTBK" in file byte order */
#define TT_BLOCK_HDR_SIZE 40
#define TT_BLOCK_HDR_CRC  36 /* CRC covers bytes 0..35, then the ext */
#define TT_BLOCK_CHUNK	  1
#define TT_BLOCK_INDEX	  2
#define TT_BLOCK_F_ZSTD	  0x1 /* payload is one zstd frame */
#define TT_MAX_EXT_LEN	  65536

/* CHUNK extension (48 bytes). */
#define TT_CHUNK_EXT_SIZE 48
/* Chunk flags (ext bytes 28..31).  Every bit changes how the records
 * must be decoded, so a reader refuses a chunk with a bit it does not
 * know. */
#define TT_CHUNK_F_TS_DELTA 0x1u /* record ts = difference from previous */
#define TT_CHUNK_F_SORTED   0x2u /* records are in non-decreasing ts order */
#define TT_CHUNK_F_KNOWN    (TT_CHUNK_F_TS_DELTA | TT_CHUNK_F_SORTED)

/* INDEX entry (48 bytes) and trailer (32 bytes). */
#define TT_INDEX_ENTRY_SIZE 48
#define TT_TRAILER_SIZE	    32
#define TT_TRAILER_CRC	    24 /* CRC covers bytes 0..23 */
#define TT_TRAILER_MAGIC    "TTND"

#define TT_REC_HDR_SIZE 16

/* No chunk holds more raw bytes than one maximal record plus slack. */
#define TT_MAX_CHUNK_RAW ((uint64_t)TAPE_MAX_RECORD + 65536)
/* Writers clamp chunk_size into this range. */
#define TT_MIN_CHUNK_SIZE 4096u
#define TT_MAX_CHUNK_SIZE (64u << 20)

/* CRC-32C (Castagnoli).  Chain calls by passing the previous result;
 * start with 0. */
uint32_t tt_crc32c(uint32_t crc, const void *buf, size_t len);

static inline uint64_t tt_pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static inline void tt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void tt_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tt_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t tt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t tt_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4); /* x86/ARM little-endian hosts; see FORMAT.md */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t tt_get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Boot-clock nanoseconds as "SECONDS.MICROS" for messages. */
void tt_fmt_ts(char *buf, size_t len, uint64_t ns);

#endif /* TAPE_INTERNAL_H */
