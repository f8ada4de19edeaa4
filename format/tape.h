/* SPDX-License-Identifier: MIT */
/*
 * tape.h - write and read tracetape tapes.
 *
 * A tape is a directory of segment files plus a MANIFEST.  A segment is a
 * header followed by blocks; event records are batched into chunks, each
 * compressed as one complete zstd frame with its own checksum, so damage
 * to one chunk loses that chunk only.  docs/FORMAT.md is the byte-level
 * specification; bpf/tt_events.h the record layouts.
 *
 * Errors: every function that can fail returns 0 (or a count) on success
 * and a negative TAPE_E_* code on failure.  tape_strerror() turns a code
 * into words; tape_writer_error() / tape_reader_error() give the full
 * message of the last failure, naming the file and what to do.
 *
 * Objects are explicit; there is no global state.  A writer or reader is
 * used by one thread at a time.
 */
#ifndef TAPE_H
#define TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAPE_VERSION_MAJOR 1
#define TAPE_VERSION_MINOR 0

enum tape_error {
	TAPE_OK = 0,
	TAPE_E_IO = -1,	     /* a system call failed (errno in the message) */
	TAPE_E_NOTTAPE = -2, /* the path is not a tape or a segment */
	TAPE_E_VERSION = -3, /* written by a newer major version */
	TAPE_E_CORRUPT = -4, /* damage that stops reading */
	TAPE_E_NOMEM = -5,
	TAPE_E_EXISTS = -6,  /* writer: directory exists and is not empty */
	TAPE_E_INVAL = -7,   /* bad argument */
	TAPE_E_EMPTY = -8,   /* reader: a tape with no segments */
	TAPE_E_ZSTD = -9,    /* compression failed */
	TAPE_E_TOOBIG = -10, /* a record larger than TAPE_MAX_RECORD */
};

/* Records up to this size are accepted (body bytes). */
#define TAPE_MAX_RECORD (64u << 20)

/* Size of the message buffers passed to the *_open functions. */
#define TAPE_ERRLEN 512

const char *tape_strerror(int err);

/* A record as the reader hands it out. */
struct tape_record {
	uint16_t type; /* enum tt_rec_type */
	uint16_t flags;
	uint32_t len;	  /* body bytes */
	uint64_t ts;	  /* boot-clock nanoseconds */
	const void *body; /* 8-byte aligned; valid until the next call */
	uint32_t segment; /* index into tape_reader_segments() */
};

/* ------------------------------------------------------------------ */
/* Writer                                                               */

struct tape_writer;

/*
 * Called after each segment is opened (the first one too), before any
 * other record goes into it, so that the caller writes the metadata that
 * makes the segment replay alone (host, options, probes, clock anchor,
 * snapshots).  A non-zero return fails the append/rotate that caused it.
 */
typedef int (*tape_segment_start_fn)(struct tape_writer *w, void *ctx);

struct tape_writer_opts {
	size_t sz;		  /* sizeof(struct tape_writer_opts) */
	uint64_t segment_size;	  /* rotate when a segment passes this many
				     bytes on disk; 0 = 64 MiB */
	uint64_t segment_time_ns; /* rotate when a record's ts is this far
				     past the segment's first; 0 = never */
	uint32_t max_segments;	  /* keep only the newest N; 0 = all */
	int zstd_level;		  /* 0 = 3 */
	uint32_t chunk_size;	  /* end a chunk at this many raw bytes;
				     0 = 2 MiB */
	tape_segment_start_fn on_segment_start;
	void *ctx;
	/* appended: ts of the first segment's TT_REC_SEGMENT record; 0 =
	 * CLOCK_BOOTTIME now (a recorder).  A tape written from another
	 * one (tracetape slice) gives the time its records start at. */
	uint64_t first_ts;
};

/*
 * Create the tape directory DIR (mode 0700; it may exist if empty) and
 * open its first segment.  On failure *out is NULL and err (if not NULL)
 * holds a message of up to TAPE_ERRLEN bytes.
 */
int tape_writer_open(struct tape_writer **out, const char *dir,
		     const struct tape_writer_opts *opts, char *err);

/* Append one record.  Rotates first when size or time says so. */
int tape_writer_append(struct tape_writer *w, uint16_t type, uint64_t ts,
		       const void *body, uint32_t len);

/*
 * Append records already framed as on the tape (struct tt_rec_hdr, body,
 * padding), such as the BPF programs emit.  LEN is their total size.
 */
int tape_writer_append_framed(struct tape_writer *w, const void *recs,
			      size_t len);

/* End the current chunk as a complete zstd frame and write it out. */
int tape_writer_flush(struct tape_writer *w);

/* Close the current segment (footer, rename) and open the next one. */
int tape_writer_rotate(struct tape_writer *w);

/*
 * Flush, close the last segment and free W.  Returns the first error the
 * writer met, if any (the tape on disk is readable either way).
 */
int tape_writer_close(struct tape_writer *w);

struct tape_writer_stats {
	uint64_t records;	   /* all records appended */
	uint64_t raw_bytes;	   /* framed record bytes before compression */
	uint64_t disk_bytes;	   /* bytes in segments still on disk */
	uint64_t written_bytes;	   /* all bytes ever written, deleted too */
	uint32_t segments;	   /* segments opened so far */
	uint32_t segments_deleted; /* removed by max_segments */
	uint64_t chunks;
	char current[256]; /* file name of the open segment */
};
void tape_writer_stats(const struct tape_writer *w,
		       struct tape_writer_stats *st);

/* Full message of the last failure. */
const char *tape_writer_error(const struct tape_writer *w);

/* ------------------------------------------------------------------ */
/* Reader                                                               */

struct tape_reader;

struct tape_reader_opts {
	size_t sz;	   /* sizeof(struct tape_reader_opts) */
	uint64_t since_ts; /* skip records before (boot ns); 0 = start */
	uint64_t until_ts; /* stop after (boot ns); 0 = end */
	uint64_t reorder_window_ns; /* merge window; 0 = 1 s */
	bool file_order;	    /* true: no reordering, as stored */
};

/*
 * Open PATH: a tape directory or one segment file (finished or
 * .partial).  Segments are found through the MANIFEST and by listing the
 * directory.  Damage met while opening does not fail the open; it is
 * reported through tape_reader_damage().
 */
int tape_reader_open(struct tape_reader **out, const char *path,
		     const struct tape_reader_opts *opts, char *err);

/*
 * Next record in timestamp order.  Returns 1 and fills REC, 0 at the
 * end, or a negative code when reading cannot go on (damage is not such
 * a case: damaged chunks are skipped and reported).
 */
int tape_reader_next(struct tape_reader *r, struct tape_record *rec);

void tape_reader_close(struct tape_reader *r);

const char *tape_reader_error(const struct tape_reader *r);

/* One piece of damage found so far. */
struct tape_damage {
	const char *segment;   /* file path */
	uint64_t offset;       /* byte offset in the file where it starts */
	uint64_t length;       /* bytes that could not be read (0 = unknown) */
	int64_t chunk_seq;     /* chunk sequence number, -1 if unknown */
	uint64_t records_lost; /* records known lost (from the chunk header) */
	uint64_t first_ts, last_ts; /* time range lost, 0 if unknown */
	char what[160];		    /* what was wrong */
};
size_t tape_reader_damage(const struct tape_reader *r,
			  const struct tape_damage **list);

struct tape_segment_info {
	const char *path;
	uint64_t seq;		    /* segment sequence number */
	bool partial;		    /* *.partial: the writer did not close it */
	bool has_footer;	    /* index read from the footer */
	uint64_t size;		    /* bytes */
	uint64_t first_ts, last_ts; /* from the index (0 until known) */
	uint64_t chunks, records;
	uint16_t version_major, version_minor;
	/* appended: the header's tape_id, once the header was read */
	bool have_tape_id;
	uint8_t tape_id[16];
};
size_t tape_reader_segments(const struct tape_reader *r,
			    const struct tape_segment_info **list);

/* ------------------------------------------------------------------ */
/* Record helpers                                                       */

/*
 * The Nth string (from 0) after a record's fixed part of FIXED bytes,
 * given the lengths in LENS[0..n-1].  Returns NULL when the body is too
 * short or the string is absent (length 0) or not NUL-terminated.
 */
const char *tape_rec_string(const struct tape_record *rec, size_t fixed,
			    const uint16_t *lens, size_t nlens, size_t n);

/*
 * Copy the fixed part of a record body into DST (SIZE bytes), zeroing
 * what the body does not have (an older, shorter layout).
 */
void tape_rec_fixed(const struct tape_record *rec, void *dst, size_t size);

/* Value of KEY in a key=value record body, or NULL. */
const char *tape_rec_kv(const struct tape_record *rec, const char *key);

#endif /* TAPE_H */
