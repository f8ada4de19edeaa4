/* SPDX-License-Identifier: MIT */
/*
 * writer.c - append records to a tape: chunks -> zstd frames -> blocks
 * -> segments, with rotation, retention and a MANIFEST.
 *
 * Everything is append-only.  A block is built in memory and handed to
 * write(2) whole, so a crash leaves at most one half-written block at
 * the end of a *.partial segment, which the reader reports as a
 * truncation and steps over.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "tape_internal.h"
#include "tt_events.h"

#define DEFAULT_SEGMENT_SIZE (64ull << 20)
#define DEFAULT_CHUNK_SIZE   (2u << 20)
#define MIN_SEGMENT_SIZE     (64u << 10)
#define DEFAULT_ZSTD_LEVEL   3
#define CHUNK_PREFIX	     (TT_BLOCK_HDR_SIZE + TT_CHUNK_EXT_SIZE)
#define HEAD_ROOM	     TT_SEG_HEADER_SIZE /* w->out: room for a header */

struct finished_segment {
	uint64_t seq;
	uint64_t bytes;
};

struct tape_writer {
	char *dir;
	int dirfd;
	int manifest_fd;
	int seg_fd;
	struct tape_writer_opts opts;
	uint8_t tape_id[16];
	ZSTD_CCtx *cctx;

	/* The open segment. */
	uint64_t seg_seq;
	char seg_name[64]; /* final name; on disk with ".partial" */
	uint64_t seg_bytes;
	bool seg_has_first;
	uint64_t seg_first_ts; /* of the first caller record: rotation */
	uint64_t seg_min_ts, seg_max_ts, seg_records;
	uint64_t chunk_seq;
	uint8_t *index; /* INDEX entries of this segment, serialised */
	size_t index_len, index_cap;

	/* The chunk being filled. */
	uint8_t *raw;
	size_t raw_len, raw_cap;
	uint64_t c_min, c_max, c_first, c_last;
	uint32_t c_nrec;
	bool c_sorted;

	uint8_t *out; /* block being written: prefix + compressed payload */
	size_t out_cap;

	struct finished_segment *done; /* oldest first, for retention */
	size_t ndone, done_cap;

	bool in_callback;
	uint64_t last_ts;
	uint64_t events_total; /* event (non-metadata) records */
	int err;	       /* sticky: the first I/O or zstd failure */
	char msg[TAPE_ERRLEN];
	struct tape_writer_stats st;
};

static int fail(struct tape_writer *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct tape_writer *w, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* A failure after which the tape must not grow: remembered for good. */
static int fail_io(struct tape_writer *w, const char *file, const char *what,
		   int errnum)
{
	int code = TAPE_E_IO;
	fail(w, code,
	     "%s/%s: %s failed: %s; the tape is readable up to here; free "
	     "space or fix permissions and record again",
	     w->dir, file, what, strerror(errnum));
	if (!w->err)
		w->err = code;
	return code;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*buf, n);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static uint64_t boottime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t realtime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int manifest_line(struct tape_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int manifest_line(struct tape_writer *w, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return fail(w, TAPE_E_INVAL, "%s/MANIFEST: line too long",
			    w->dir);
	if (write_all(w->manifest_fd, line, (size_t)n) < 0)
		return fail_io(w, "MANIFEST", "write", errno);
	return 0;
}

/* Fill a block header; its CRC covers bytes 0..35 and then EXT. */
static void block_header(uint8_t *h, uint16_t type, uint16_t flags,
			 const uint8_t *ext, uint32_t ext_len,
			 uint64_t payload_len, uint64_t raw_len,
			 uint32_t payload_crc)
{
	tt_put32(h, TT_BLOCK_MAGIC);
	tt_put16(h + 4, type);
	tt_put16(h + 6, flags);
	tt_put32(h + 8, ext_len);
	tt_put32(h + 12, 0);
	tt_put64(h + 16, payload_len);
	tt_put64(h + 24, raw_len);
	tt_put32(h + 32, payload_crc);
	uint32_t crc = tt_crc32c(0, h, TT_BLOCK_HDR_CRC);
	tt_put32(h + 36, tt_crc32c(crc, ext, ext_len));
}

static void index_entry(uint8_t *e, uint64_t offset, uint64_t seq,
			uint64_t min_ts, uint64_t max_ts, uint32_t nrec,
			uint32_t flags, uint64_t raw_len)
{
	tt_put64(e, offset);
	tt_put64(e + 8, seq);
	tt_put64(e + 16, min_ts);
	tt_put64(e + 24, max_ts);
	tt_put32(e + 32, nrec);
	tt_put32(e + 36, flags);
	tt_put64(e + 40, raw_len);
}

static int segment_write(struct tape_writer *w, const void *buf, size_t len)
{
	char name[80];
	if (write_all(w->seg_fd, buf, len) < 0) {
		int saved = errno;
		/* Cut off the torn block (a full disk wrote part of it) so the
		 * segment ends on a block boundary: the reader then finds
		 * every chunk complete, not a damaged tail. */
		if (ftruncate(w->seg_fd, (off_t)w->seg_bytes) < 0) {
			/* Nothing more to try: the reader reports the tail. */
		}
		snprintf(name, sizeof(name), "%s.partial", w->seg_name);
		return fail_io(w, name, "write", saved);
	}
	w->seg_bytes += len;
	w->st.written_bytes += len;
	return 0;
}

/*
 * Store each record's ts as the difference from the previous record's
 * (modulo 2^64).  Neighbouring timestamps share their high bytes, so
 * the differences are small numbers zstd compresses well: about 10%
 * smaller and 30% faster both ways on open/read traces.
 */
static void delta_encode_ts(uint8_t *raw, size_t len)
{
	uint64_t prev = 0;
	for (size_t off = 0; off < len;) {
		uint64_t ts = tt_get64(raw + off + 8);
		tt_put64(raw + off + 8, ts - prev);
		prev = ts;
		off += TT_REC_HDR_SIZE + tt_pad8(tt_get32(raw + off + 4));
	}
}

/*
 * End the current chunk: compress, write one CHUNK block, index it.
 * HEAD, when not NULL, is the segment header: it goes to disk in the
 * same write(2) as the block (see open_segment).
 */
static int write_chunk(struct tape_writer *w, const uint8_t *head)
{
	if (w->err)
		return w->err;
	if (w->raw_len == 0)
		return 0;
	delta_encode_ts(w->raw, w->raw_len);
	size_t bound = ZSTD_compressBound(w->raw_len);
	if (grow(&w->out, &w->out_cap, HEAD_ROOM + CHUNK_PREFIX + bound) < 0 ||
	    grow(&w->index, &w->index_cap, w->index_len + TT_INDEX_ENTRY_SIZE) <
		    0)
		return fail(w, TAPE_E_NOMEM, "%s: out of memory for a chunk",
			    w->dir);
	uint8_t *block = w->out + HEAD_ROOM;
	size_t csize = ZSTD_compress2(w->cctx, block + CHUNK_PREFIX, bound,
				      w->raw, w->raw_len);
	if (ZSTD_isError(csize)) {
		w->err = TAPE_E_ZSTD;
		return fail(w, TAPE_E_ZSTD, "%s/%s.partial: zstd: %s", w->dir,
			    w->seg_name, ZSTD_getErrorName(csize));
	}
	uint8_t *ext = block + TT_BLOCK_HDR_SIZE;
	tt_put64(ext, w->chunk_seq);
	tt_put64(ext + 8, w->c_min);
	tt_put64(ext + 16, w->c_max);
	tt_put32(ext + 24, w->c_nrec);
	uint32_t flags =
		TT_CHUNK_F_TS_DELTA | (w->c_sorted ? TT_CHUNK_F_SORTED : 0);
	tt_put32(ext + 28, flags);
	tt_put64(ext + 32, w->c_first);
	tt_put64(ext + 40, 0);
	block_header(block, TT_BLOCK_CHUNK, TT_BLOCK_F_ZSTD, ext,
		     TT_CHUNK_EXT_SIZE, csize, w->raw_len,
		     tt_crc32c(0, block + CHUNK_PREFIX, csize));
	const uint8_t *from = block;
	size_t len = CHUNK_PREFIX + csize;
	if (head) {
		memcpy(w->out, head, HEAD_ROOM);
		from = w->out;
		len += HEAD_ROOM;
	}
	uint64_t offset = w->seg_bytes + (head ? HEAD_ROOM : 0);
	int rc = segment_write(w, from, len);
	if (rc)
		return rc;
	index_entry(w->index + w->index_len, offset, w->chunk_seq, w->c_min,
		    w->c_max, w->c_nrec, flags, w->raw_len);
	w->index_len += TT_INDEX_ENTRY_SIZE;
	w->chunk_seq++;
	w->st.chunks++;
	w->raw_len = 0;
	w->c_nrec = 0;
	return 0;
}

static int end_chunk(struct tape_writer *w)
{
	return write_chunk(w, NULL);
}

/* Copy one framed record into the chunk, ending chunks around it. */
static int add_record(struct tape_writer *w, uint16_t type, uint16_t flags,
		      uint64_t ts, const void *body, uint32_t len)
{
	size_t framed = TT_REC_HDR_SIZE + tt_pad8(len);
	int rc;
	if (w->raw_len && w->raw_len + framed > w->opts.chunk_size &&
	    (rc = end_chunk(w)))
		return rc;
	if (grow(&w->raw, &w->raw_cap, w->raw_len + framed) < 0)
		return fail(w, TAPE_E_NOMEM,
			    "%s: out of memory for a %u-byte record", w->dir,
			    len);
	uint8_t *p = w->raw + w->raw_len;
	tt_put16(p, type);
	tt_put16(p + 2, flags);
	tt_put32(p + 4, len);
	tt_put64(p + 8, ts);
	if (len)
		memcpy(p + TT_REC_HDR_SIZE, body, len);
	memset(p + TT_REC_HDR_SIZE + len, 0, framed - TT_REC_HDR_SIZE - len);
	w->raw_len += framed;

	if (w->c_nrec == 0) {
		w->c_min = w->c_max = w->c_first = ts;
		w->c_sorted = true;
	} else {
		w->c_sorted &= ts >= w->c_last;
		w->c_min = ts < w->c_min ? ts : w->c_min;
		w->c_max = ts > w->c_max ? ts : w->c_max;
	}
	w->c_last = ts;
	w->c_nrec++;
	if (w->seg_records == 0) {
		w->seg_min_ts = w->seg_max_ts = ts;
	} else {
		w->seg_min_ts = ts < w->seg_min_ts ? ts : w->seg_min_ts;
		w->seg_max_ts = ts > w->seg_max_ts ? ts : w->seg_max_ts;
	}
	w->seg_records++;
	w->st.records++;
	w->st.raw_bytes += framed;
	if (type < TT_REC_HOST)
		w->events_total++;
	w->last_ts = ts;
	/* A record bigger than a chunk travels alone. */
	if (w->raw_len >= w->opts.chunk_size)
		return end_chunk(w);
	return 0;
}

/* INDEX block and trailer: what lets a reader seek without scanning. */
static int write_footer(struct tape_writer *w)
{
	uint8_t hdr[TT_BLOCK_HDR_SIZE];
	uint8_t trailer[TT_TRAILER_SIZE];
	uint64_t index_offset = w->seg_bytes;
	uint64_t nchunks = w->index_len / TT_INDEX_ENTRY_SIZE;
	block_header(hdr, TT_BLOCK_INDEX, 0, NULL, 0, w->index_len,
		     w->index_len, tt_crc32c(0, w->index, w->index_len));
	tt_put64(trailer, index_offset);
	tt_put64(trailer + 8, nchunks);
	tt_put64(trailer + 16, w->seg_records);
	tt_put32(trailer + 24, tt_crc32c(0, trailer, TT_TRAILER_CRC));
	memcpy(trailer + 28, TT_TRAILER_MAGIC, 4);
	int rc = segment_write(w, hdr, sizeof(hdr));
	if (!rc && w->index_len)
		rc = segment_write(w, w->index, w->index_len);
	if (!rc)
		rc = segment_write(w, trailer, sizeof(trailer));
	return rc;
}

static int delete_oldest(struct tape_writer *w)
{
	struct finished_segment old = w->done[0];
	memmove(w->done, w->done + 1, (w->ndone - 1) * sizeof(*w->done));
	w->ndone--;
	char name[64];
	snprintf(name, sizeof(name), "seg-%06llu.tt",
		 (unsigned long long)old.seq);
	/* Say it before doing it: killed in between, the tape then holds a
	 * segment the MANIFEST calls deleted (read all the same), never a
	 * deleted one the reader would report as lost. */
	int rc = manifest_line(w, "delete %llu %s\n",
			       (unsigned long long)old.seq, name);
	if (rc)
		return rc;
	if (unlinkat(w->dirfd, name, 0) < 0 && errno != ENOENT)
		return fail_io(w, name, "unlink (retention)", errno);
	w->st.segments_deleted++;
	return 0;
}

/* Footer, fsync, rename *.partial -> *.tt, fsync dir, MANIFEST close. */
static int close_segment(struct tape_writer *w)
{
	char partial[80];
	snprintf(partial, sizeof(partial), "%s.partial", w->seg_name);
	int rc = end_chunk(w);
	if (!rc)
		rc = write_footer(w);
	if (!rc && fsync(w->seg_fd) < 0)
		rc = fail_io(w, partial, "fsync", errno);
	close(w->seg_fd);
	w->seg_fd = -1;
	if (rc)
		return rc;
	if (renameat(w->dirfd, partial, w->dirfd, w->seg_name) < 0)
		return fail_io(w, partial, "rename", errno);
	if (fsync(w->dirfd) < 0)
		return fail_io(w, ".", "fsync", errno);
	if (w->ndone == w->done_cap) {
		size_t n = w->done_cap ? 2 * w->done_cap : 16;
		void *p = realloc(w->done, n * sizeof(*w->done));
		if (!p)
			return fail(w, TAPE_E_NOMEM, "%s: out of memory",
				    w->dir);
		w->done = p;
		w->done_cap = n;
	}
	w->done[w->ndone++] =
		(struct finished_segment){w->seg_seq, w->seg_bytes};
	return manifest_line(w, "close %llu %s %llu %llu %llu %llu\n",
			     (unsigned long long)w->seg_seq, w->seg_name,
			     (unsigned long long)w->seg_min_ts,
			     (unsigned long long)w->seg_max_ts,
			     (unsigned long long)w->seg_records,
			     (unsigned long long)w->seg_bytes);
}

static void segment_header(const struct tape_writer *w,
			   uint8_t h[static TT_SEG_HEADER_SIZE])
{
	memset(h, 0, TT_SEG_HEADER_SIZE);
	memcpy(h, TT_SEG_MAGIC, TT_SEG_MAGIC_LEN);
	tt_put16(h + 8, TAPE_VERSION_MAJOR);
	tt_put16(h + 10, TAPE_VERSION_MINOR);
	tt_put32(h + 12, TT_SEG_HEADER_SIZE);
	tt_put64(h + 16, w->seg_seq);
	memcpy(h + 24, w->tape_id, 16);
	tt_put64(h + 40, realtime_now());
	tt_put64(h + 48, boottime_now());
	tt_put32(h + 56, 0);
	tt_put32(h + 60, tt_crc32c(0, h, TT_SEG_HEADER_CRC));
}

/*
 * Open segment seq+1, write its header and TT_REC_SEGMENT (stamped TS),
 * then let the caller add its metadata.
 *
 * The header and a first chunk holding only TT_REC_SEGMENT go to disk in
 * one write(2) of about 200 bytes, inside the file's first page.  A
 * SIGKILL can cut a large write(2) short (the kernel stops copying at a
 * page when a fatal signal is pending) but not this one: a killed writer
 * leaves a segment that is empty or holds at least one record, never one
 * that is only a header, or a header and a cut metadata chunk, that no
 * reader could get a record out of (FORMAT.md section 13).
 */
static int open_segment(struct tape_writer *w, uint64_t ts)
{
	char partial[80];
	w->seg_seq++;
	snprintf(w->seg_name, sizeof(w->seg_name), "seg-%06llu.tt",
		 (unsigned long long)w->seg_seq);
	snprintf(partial, sizeof(partial), "%s.partial", w->seg_name);
	w->seg_fd = openat(w->dirfd, partial,
			   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			   0600);
	if (w->seg_fd < 0)
		return fail_io(w, partial, "create", errno);
	w->seg_bytes = 0;
	w->seg_has_first = false;
	w->seg_records = 0;
	w->chunk_seq = 0;
	w->index_len = 0;
	w->st.segments++;
	snprintf(w->st.current, sizeof(w->st.current), "%s", partial);
	uint8_t head[TT_SEG_HEADER_SIZE];
	segment_header(w, head);
	struct tt_segment_start start = {w->seg_seq, w->events_total};
	int rc = add_record(w, TT_REC_SEGMENT, 0, ts, &start, sizeof(start));
	if (!rc)
		rc = write_chunk(w, head);
	if (!rc)
		rc = manifest_line(w, "open %llu %s\n",
				   (unsigned long long)w->seg_seq, partial);
	while (!rc && w->opts.max_segments && w->ndone &&
	       w->ndone + 1 > w->opts.max_segments)
		rc = delete_oldest(w);
	if (rc || !w->opts.on_segment_start)
		return rc;
	w->in_callback = true;
	rc = w->opts.on_segment_start(w, w->opts.ctx);
	w->in_callback = false;
	if (rc)
		return fail(w, rc < 0 ? rc : TAPE_E_INVAL,
			    "%s/%s: on_segment_start callback failed (%d)",
			    w->dir, partial, rc);
	return 0;
}

static int rotate_to(struct tape_writer *w, uint64_t ts)
{
	if (w->err)
		return w->err;
	int rc = close_segment(w);
	if (!rc)
		rc = open_segment(w, ts);
	return rc;
}

int tape_writer_rotate(struct tape_writer *w)
{
	if (!w)
		return TAPE_E_INVAL;
	if (w->in_callback)
		return fail(w, TAPE_E_INVAL,
			    "%s: tape_writer_rotate called from "
			    "on_segment_start",
			    w->dir);
	return rotate_to(w, w->st.records ? w->last_ts : boottime_now());
}

/* Rotate before a record of time TS when size or time says so. */
static int maybe_rotate(struct tape_writer *w, uint64_t ts)
{
	if (w->in_callback)
		return 0;
	bool by_size = w->seg_bytes >= w->opts.segment_size;
	bool by_time = w->opts.segment_time_ns && w->seg_has_first &&
		       ts > w->seg_first_ts &&
		       ts - w->seg_first_ts >= w->opts.segment_time_ns;
	if (by_size || by_time) {
		int rc = rotate_to(w, ts);
		if (rc)
			return rc;
	}
	if (!w->seg_has_first) {
		w->seg_has_first = true;
		w->seg_first_ts = ts;
	}
	return 0;
}

int tape_writer_append(struct tape_writer *w, uint16_t type, uint64_t ts,
		       const void *body, uint32_t len)
{
	if (!w || (len && !body))
		return TAPE_E_INVAL;
	if (w->err)
		return w->err;
	if (len > TAPE_MAX_RECORD)
		return fail(w, TAPE_E_TOOBIG,
			    "%s: record of type %u is %u bytes; the limit is "
			    "%u (TAPE_MAX_RECORD): split it",
			    w->dir, type, len, TAPE_MAX_RECORD);
	int rc = maybe_rotate(w, ts);
	if (rc)
		return rc;
	return add_record(w, type, 0, ts, body, len);
}

int tape_writer_append_framed(struct tape_writer *w, const void *recs,
			      size_t len)
{
	if (!w || (len && !recs))
		return TAPE_E_INVAL;
	const uint8_t *p = recs;
	size_t off = 0;
	while (off < len) {
		if (len - off < TT_REC_HDR_SIZE)
			return fail(w, TAPE_E_INVAL,
				    "%s: framed records: %zu stray bytes at "
				    "offset %zu (need a 16-byte header)",
				    w->dir, len - off, off);
		const uint8_t *h = p + off;
		uint32_t body_len = tt_get32(h + 4);
		if (body_len > len - off - TT_REC_HDR_SIZE)
			return fail(w, TAPE_E_INVAL,
				    "%s: framed record at offset %zu claims "
				    "%u body bytes, only %zu follow",
				    w->dir, off, body_len,
				    len - off - TT_REC_HDR_SIZE);
		if (w->err)
			return w->err;
		if (body_len > TAPE_MAX_RECORD)
			return fail(w, TAPE_E_TOOBIG,
				    "%s: framed record of %u bytes exceeds "
				    "TAPE_MAX_RECORD",
				    w->dir, body_len);
		uint64_t ts = tt_get64(h + 8);
		int rc = maybe_rotate(w, ts);
		if (!rc)
			rc = add_record(w, tt_get16(h), tt_get16(h + 2), ts,
					h + TT_REC_HDR_SIZE, body_len);
		if (rc)
			return rc;
		size_t step = TT_REC_HDR_SIZE + tt_pad8(body_len);
		off += step < len - off ? step : len - off;
	}
	return 0;
}

int tape_writer_flush(struct tape_writer *w)
{
	if (!w)
		return TAPE_E_INVAL;
	return end_chunk(w);
}

static int normalise_opts(struct tape_writer_opts *o,
			  const struct tape_writer_opts *in)
{
	memset(o, 0, sizeof(*o));
	if (in) {
		size_t n = in->sz < sizeof(*o) ? in->sz : sizeof(*o);
		if (n < sizeof(size_t))
			return -1;
		memcpy(o, in, n);
	}
	o->sz = sizeof(*o);
	if (!o->segment_size)
		o->segment_size = DEFAULT_SEGMENT_SIZE;
	/* Below this a segment would hold little more than its metadata. */
	if (o->segment_size < MIN_SEGMENT_SIZE)
		o->segment_size = MIN_SEGMENT_SIZE;
	if (!o->chunk_size)
		o->chunk_size = DEFAULT_CHUNK_SIZE;
	if (o->chunk_size < TT_MIN_CHUNK_SIZE)
		o->chunk_size = TT_MIN_CHUNK_SIZE;
	if (o->chunk_size > TT_MAX_CHUNK_SIZE)
		o->chunk_size = TT_MAX_CHUNK_SIZE;
	if (!o->zstd_level)
		o->zstd_level = DEFAULT_ZSTD_LEVEL;
	return 0;
}

/* Make DIR (0700) or accept it if it is an empty directory. */
static int open_tape_dir(struct tape_writer *w, char *err)
{
	if (mkdir(w->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: cannot create the tape directory: %s", w->dir,
			 strerror(errno));
		return TAPE_E_IO;
	}
	w->dirfd =
		open(w->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (w->dirfd < 0) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: cannot open the tape directory: %s%s", w->dir,
			 strerror(errno),
			 errno == ELOOP || errno == ENOTDIR
				 ? " (a symlink or not a directory)"
				 : "");
		return TAPE_E_IO;
	}
	/* An empty directory made beforehand gets the tape's 0700 too; if
	 * it belongs to someone else, its owner chose its mode. */
	(void)!fchmod(w->dirfd, 0700);
	w->manifest_fd = openat(w->dirfd, "MANIFEST",
				O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
					O_NOFOLLOW | O_CLOEXEC,
				0600);
	if (w->manifest_fd < 0) {
		int e = errno;
		snprintf(err, TAPE_ERRLEN,
			 e == EEXIST ? "%s: already holds a tape (MANIFEST "
				       "exists): choose a new directory"
				     : "%s: cannot create MANIFEST: %s",
			 w->dir, strerror(e));
		return e == EEXIST ? TAPE_E_EXISTS : TAPE_E_IO;
	}
	return 0;
}

static int setup_zstd(struct tape_writer *w)
{
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx)
		return -1;
	size_t r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel,
					  w->opts.zstd_level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
	/* Our payload CRC covers the stored bytes; see FORMAT.md. */
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0);
	return ZSTD_isError(r) ? -1 : 0;
}

/* Refuse a directory that has entries besides "." and "..". */
static int check_empty_dir(const char *dir, char *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return 0; /* does not exist: mkdir will make it */
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: exists and is not a directory: choose another "
			 "tape path",
			 dir);
		return TAPE_E_EXISTS;
	}
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* open_tape_dir reports it */
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: directory is not empty: record into a new or "
			 "empty directory",
			 dir);
		return TAPE_E_EXISTS;
	}
	return 0;
}

int tape_writer_open(struct tape_writer **out, const char *dir,
		     const struct tape_writer_opts *opts, char *err)
{
	char scratch[TAPE_ERRLEN];
	if (!err)
		err = scratch;
	err[0] = '\0';
	if (!out || !dir || !*dir) {
		snprintf(err, TAPE_ERRLEN, "tape_writer_open: no directory");
		return TAPE_E_INVAL;
	}
	*out = NULL;
	struct tape_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir))) {
		free(w);
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", dir);
		return TAPE_E_NOMEM;
	}
	w->dirfd = w->manifest_fd = w->seg_fd = -1;
	int rc = TAPE_E_INVAL;
	if (normalise_opts(&w->opts, opts) < 0) {
		snprintf(err, TAPE_ERRLEN, "%s: opts.sz is not set", dir);
		goto fail;
	}
	if ((rc = check_empty_dir(dir, err)) || (rc = open_tape_dir(w, err)))
		goto fail;
	if (getrandom(w->tape_id, sizeof(w->tape_id), 0) !=
	    (ssize_t)sizeof(w->tape_id)) {
		rc = TAPE_E_IO;
		snprintf(err, TAPE_ERRLEN, "%s: getrandom: %s", dir,
			 strerror(errno));
		goto fail;
	}
	if (setup_zstd(w) < 0) {
		rc = TAPE_E_ZSTD;
		snprintf(err, TAPE_ERRLEN, "%s: cannot set up zstd (level %d)",
			 dir, w->opts.zstd_level);
		goto fail;
	}
	static const char head[] = "tracetape-manifest 1\n";
	if (write_all(w->manifest_fd, head, sizeof(head) - 1) < 0) {
		rc = TAPE_E_IO;
		snprintf(err, TAPE_ERRLEN, "%s/MANIFEST: write: %s", dir,
			 strerror(errno));
		goto fail;
	}
	if ((rc = open_segment(w, w->opts.first_ts ? w->opts.first_ts
						   : boottime_now()))) {
		snprintf(err, TAPE_ERRLEN, "%s", w->msg);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	w->err = rc;
	tape_writer_close(w);
	return rc;
}

int tape_writer_close(struct tape_writer *w)
{
	if (!w)
		return TAPE_E_INVAL;
	int rc = w->err;
	if (w->seg_fd >= 0) {
		if (!rc)
			rc = close_segment(w);
		else
			close(w->seg_fd); /* stays *.partial, readable */
	}
	if (w->manifest_fd >= 0) {
		if (!rc && fsync(w->manifest_fd) < 0)
			rc = fail_io(w, "MANIFEST", "fsync", errno);
		close(w->manifest_fd);
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	ZSTD_freeCCtx(w->cctx);
	free(w->raw);
	free(w->out);
	free(w->index);
	free(w->done);
	free(w->dir);
	free(w);
	return rc;
}

void tape_writer_stats(const struct tape_writer *w,
		       struct tape_writer_stats *st)
{
	if (!w || !st)
		return;
	*st = w->st;
	uint64_t disk = w->seg_fd >= 0 ? w->seg_bytes : 0;
	for (size_t i = 0; i < w->ndone; i++)
		disk += w->done[i].bytes;
	st->disk_bytes = disk;
}

const char *tape_writer_error(const struct tape_writer *w)
{
	return w ? w->msg : "no writer";
}
