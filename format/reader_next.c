/* SPDX-License-Identifier: MIT */
/*
 * reader_next.c - decode chunks and hand out records in time order.
 *
 * Chunks are loaded in stored order.  A record is handed out once no
 * chunk not yet loaded can hold an earlier one (chunk->wait_ts, planned
 * from the index and bounded by the reorder window).  Usually one chunk
 * is live and its records are already sorted, so a record costs a few
 * loads and compares: no allocation, no copy.  A chunk that is not
 * sorted gets a (ts, offset) array sorted once; overlapping chunks are
 * merged by picking the smallest head among the live ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "reader_internal.h"

static int seg_fd(struct tape_reader *r, uint32_t seg)
{
	if (r->fd >= 0 && r->fd_seg == seg)
		return r->fd;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = open(r->segs[seg].path, O_RDONLY | O_CLOEXEC);
	r->fd_seg = seg;
	return r->fd;
}

static void chunk_lost(struct tape_reader *r, const struct rd_chunk *c,
		       uint64_t length, const char *why)
{
	char range[80];
	rd_fmt_range(r, c->seg, c->min_ts, c->max_ts, range, sizeof(range));
	rd_damage(r, r->segs[c->seg].path, c->offset, length,
		  (int64_t)c->chunk_seq, c->nrecords, c->min_ts, c->max_ts,
		  "chunk %llu at offset %llu: %s; %u records (%s) lost",
		  (unsigned long long)c->chunk_seq,
		  (unsigned long long)c->offset, why, c->nrecords, range);
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	/* Round up a little, not to a power of two: a 1 MiB chunk would
	 * otherwise take 2 MiB in each of up to RD_MAX_LIVE slots. */
	size_t n = (need + 65535) & ~(size_t)65535;
	void *p = malloc(n * elem); /* old contents are not needed */
	if (!p)
		return -1;
	free(*buf);
	*buf = p;
	*cap = n;
	return 0;
}

/* Read the chunk's stored payload into r->cbuf.  Returns its length or
 * -1 after reporting damage. */
static int64_t read_payload(struct tape_reader *r, struct rd_chunk *c,
			    struct block_hdr *bh)
{
	uint64_t size = r->segs[c->seg].size;
	int fd = seg_fd(r, c->seg);
	if (fd < 0) {
		chunk_lost(r, c, 0, strerror(errno));
		return -1;
	}
	int h = rd_block_header(r, fd, c->offset, size, bh);
	if (h != 0 || bh->type != TT_BLOCK_CHUNK ||
	    bh->ext_len < TT_CHUNK_EXT_SIZE) {
		chunk_lost(r, c, 0,
			   h == -2 ? "read error" : "block header damaged");
		return -1;
	}
	/* The block's own header is authoritative (the index may be old). */
	c->chunk_seq = tt_get64(bh->ext);
	c->nrecords = tt_get32(bh->ext + 24);
	uint32_t flags = tt_get32(bh->ext + 28);
	if (flags & ~TT_CHUNK_F_KNOWN) {
		char why[96];
		snprintf(why, sizeof(why),
			 "encoded with features 0x%x this reader lacks: "
			 "upgrade tracetape",
			 flags & ~TT_CHUNK_F_KNOWN);
		chunk_lost(r, c, 0, why);
		return -1;
	}
	c->ts_delta = flags & TT_CHUNK_F_TS_DELTA;
	c->sorted = flags & TT_CHUNK_F_SORTED;
	uint64_t body = c->offset + TT_BLOCK_HDR_SIZE + bh->ext_len;
	if (bh->payload_len > size - body) {
		chunk_lost(r, c, size - c->offset,
			   "truncated (ends past the end of the file)");
		return -1;
	}
	if (bh->raw_len > TT_MAX_CHUNK_RAW) {
		chunk_lost(r, c, 0, "impossible raw length");
		return -1;
	}
	uint64_t block = body + bh->payload_len - c->offset;
	if (grow((void **)&r->cbuf, &r->ccap, bh->payload_len + 1, 1) < 0) {
		chunk_lost(r, c, block, "out of memory");
		return -1;
	}
	if (rd_pread(fd, r->cbuf, bh->payload_len, body) !=
	    (ssize_t)bh->payload_len) {
		chunk_lost(r, c, block, "read error");
		return -1;
	}
	if (tt_crc32c(0, r->cbuf, bh->payload_len) != bh->payload_crc) {
		chunk_lost(r, c, block, "checksum mismatch");
		return -1;
	}
	return (int64_t)block;
}

/* Decompress (or copy) the payload into slot S. */
static int decode_payload(struct tape_reader *r, struct rd_chunk *c,
			  const struct block_hdr *bh, struct rd_slot *s,
			  uint64_t block)
{
	if (grow((void **)&s->buf, &s->cap, bh->raw_len + 8, 1) < 0) {
		chunk_lost(r, c, block, "out of memory");
		return -1;
	}
	if (!(bh->flags & TT_BLOCK_F_ZSTD)) {
		if (bh->raw_len != bh->payload_len) {
			chunk_lost(r, c, block, "raw and stored sizes differ");
			return -1;
		}
		memcpy(s->buf, r->cbuf, bh->payload_len);
		s->len = bh->raw_len;
		return 0;
	}
	unsigned long long fcs =
		ZSTD_getFrameContentSize(r->cbuf, bh->payload_len);
	if (fcs != bh->raw_len) {
		chunk_lost(r, c, block, "zstd frame size disagrees");
		return -1;
	}
	size_t n = ZSTD_decompressDCtx(r->dctx, s->buf, bh->raw_len, r->cbuf,
				       bh->payload_len);
	if (ZSTD_isError(n) || n != bh->raw_len) {
		char why[96];
		snprintf(why, sizeof(why), "zstd: %s",
			 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short");
		chunk_lost(r, c, block, why);
		return -1;
	}
	s->len = n;
	return 0;
}

static void framing_damage(struct tape_reader *r, const struct rd_chunk *c,
			   size_t n, size_t off)
{
	uint64_t lost = c->nrecords > n ? c->nrecords - n : 0;
	rd_damage(r, r->segs[c->seg].path, c->offset, 0, (int64_t)c->chunk_seq,
		  lost, 0, 0,
		  "chunk %llu: record %zu at chunk offset %zu runs past the "
		  "chunk end; the rest of the chunk (%llu records) is lost",
		  (unsigned long long)c->chunk_seq, n, off,
		  (unsigned long long)lost);
}

/* Check the record framing; count records; is the chunk sorted? */
static bool frame_records(struct tape_reader *r, const struct rd_chunk *c,
			  struct rd_slot *s)
{
	const uint8_t *b = s->buf;
	size_t off = 0, n = 0, len = s->len;
	uint64_t prev = 0;
	bool sorted = true;
	bool delta = c->ts_delta;
	while (off < len) {
		if (len - off < TT_REC_HDR_SIZE ||
		    tt_get32(b + off + 4) > len - off - TT_REC_HDR_SIZE) {
			framing_damage(r, c, n, off);
			break;
		}
		uint64_t ts = tt_get64(b + off + 8);
		if (delta) { /* back to absolute, in place */
			ts += prev;
			tt_put64(s->buf + off + 8, ts);
		}
		sorted &= ts >= prev;
		prev = ts;
		n++;
		uint64_t step =
			TT_REC_HDR_SIZE + tt_pad8(tt_get32(b + off + 4));
		off = step < len - off ? off + step : len;
	}
	s->len = off < len ? off : len;
	s->n = n;
	return sorted;
}

static int cmp_sortent(const void *a, const void *b)
{
	const struct rd_sortent *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int build_order(struct rd_slot *s)
{
	if (grow((void **)&s->order, &s->order_cap, s->n, sizeof(*s->order)) <
	    0)
		return -1;
	size_t off = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->order[i].ts = tt_get64(s->buf + off + 8);
		s->order[i].off = (uint32_t)off;
		off += TT_REC_HDR_SIZE + tt_pad8(tt_get32(s->buf + off + 4));
	}
	qsort(s->order, s->n, sizeof(*s->order), cmp_sortent);
	return 0;
}

static inline const uint8_t *slot_head(const struct rd_slot *s)
{
	return s->buf + (s->use_order ? s->order[s->pos].off : s->off);
}

static inline bool slot_done(const struct rd_slot *s)
{
	return s->use_order ? s->pos >= s->n : s->off >= s->len;
}

/*
 * Records of a chunk handed out in stored order are checked as they are
 * reached, not in a pass of their own: the record at s->off must fit in
 * the chunk, and its ts may be a delta from the previous one.  Returns
 * false when the chunk is done (or the rest of it is damaged).
 */
static inline bool seq_head(struct tape_reader *r, struct rd_slot *s)
{
	size_t off = s->off, len = s->len;
	if (off >= len)
		return false;
	const uint8_t *h = s->buf + off;
	if (len - off < TT_REC_HDR_SIZE ||
	    tt_get32(h + 4) > len - off - TT_REC_HDR_SIZE) {
		framing_damage(r, &r->chunks[s->ci], s->n, off);
		s->len = off;
		return false;
	}
	uint64_t ts = tt_get64(h + 8);
	s->head_ts = s->delta ? s->prev_ts + ts : ts;
	return true;
}

static inline void seq_advance(struct tape_reader *r, struct rd_slot *s)
{
	const uint8_t *h = s->buf + s->off;
	size_t step = TT_REC_HDR_SIZE + tt_pad8(tt_get32(h + 4));
	s->off = step < s->len - s->off ? s->off + step : s->len;
	s->prev_ts = s->head_ts;
	s->n++;
	seq_head(r, s);
}

static inline void slot_advance(struct tape_reader *r, struct rd_slot *s)
{
	if (!s->use_order) {
		seq_advance(r, s);
		return;
	}
	s->pos++;
	if (s->pos < s->n)
		s->head_ts = s->order[s->pos].ts;
}

static struct rd_slot *free_slot(struct tape_reader *r, uint32_t *idx)
{
	for (uint32_t i = 0; i < RD_MAX_LIVE; i++) {
		if (!r->slots[i].in_use) {
			*idx = i;
			return &r->slots[i];
		}
	}
	return NULL;
}

/*
 * A chunk the writer marked sorted (or one read in file order) is
 * checked record by record as it is handed out.  Any other gets a pass
 * that checks its framing, makes its ts absolute and tells if it is
 * sorted after all; if not, it is handed out through a (ts, offset)
 * array sorted once.  Returns false if the chunk is lost.
 */
static bool order_unsorted(struct tape_reader *r, struct rd_chunk *c,
			   struct rd_slot *s, uint64_t block)
{
	bool sorted = frame_records(r, c, s);
	s->delta = false; /* frame_records made the ts absolute */
	if (sorted) {
		s->n = 0; /* counted again as they are handed out */
		return true;
	}
	if (build_order(s) < 0) {
		chunk_lost(r, c, block, "out of memory");
		return false;
	}
	s->use_order = true;
	return true;
}

/* Decode chunk CI into a free slot and make it live (unless damaged). */
static void load_chunk(struct tape_reader *r, size_t ci)
{
	struct rd_chunk *c = &r->chunks[ci];
	struct block_hdr bh;
	uint32_t idx = 0;
	struct rd_slot *s = free_slot(r, &idx);
	if (!s) /* need_next_chunk keeps a slot free: cannot happen */
		return;
	int64_t block = read_payload(r, c, &bh);
	if (block < 0 || decode_payload(r, c, &bh, s, (uint64_t)block))
		return;
	s->use_order = false;
	s->off = s->pos = s->n = 0;
	s->prev_ts = 0;
	s->ci = ci;
	s->delta = c->ts_delta;
	if (!c->sorted && !r->opts.file_order &&
	    !order_unsorted(r, c, s, (uint64_t)block))
		return;
	if (s->use_order) {
		if (s->n == 0)
			return;
		s->head_ts = s->order[0].ts;
	} else if (!seq_head(r, s)) {
		return;
	}
	s->seg = c->seg;
	s->load_no = r->loads++;
	s->in_use = true;
	r->live[r->nlive++] = idx;
	s->charged = s->cap;
	r->live_bytes += s->charged;
}

/* Free the slots whose records have all been handed out.  Their buffers
 * stay allocated for the next chunk. */
static void release_done(struct tape_reader *r)
{
	for (size_t i = 0; i < r->nlive;) {
		struct rd_slot *s = &r->slots[r->live[i]];
		if (!slot_done(s)) {
			i++;
			continue;
		}
		s->in_use = false;
		r->live_bytes -= s->charged;
		if (s->cap > (16u << 20)) { /* do not keep a huge one */
			free(s->buf);
			s->buf = NULL;
			s->cap = 0;
		}
		r->live[i] = r->live[--r->nlive];
	}
}

static struct rd_slot *earliest(struct tape_reader *r)
{
	struct rd_slot *best = NULL;
	for (size_t i = 0; i < r->nlive; i++) {
		struct rd_slot *s = &r->slots[r->live[i]];
		if (!best || s->head_ts < best->head_ts ||
		    (s->head_ts == best->head_ts && s->load_no < best->load_no))
			best = s;
	}
	return best;
}

/* Must the next chunk be decoded before BEST's head is handed out? */
static bool need_next_chunk(const struct tape_reader *r,
			    const struct rd_slot *best)
{
	if (r->next >= r->nchunks)
		return false;
	if (!best)
		return true;
	if (r->opts.file_order || r->nlive >= RD_MAX_LIVE ||
	    r->live_bytes >= RD_MAX_LIVE_BYTES)
		return false;
	return best->head_ts > r->chunks[r->next].wait_ts;
}

static inline void fill_record(struct tape_reader *r, struct tape_record *rec,
			       const struct rd_slot *s, const uint8_t *h,
			       uint64_t ts)
{
	rec->type = tt_get16(h);
	rec->flags = tt_get16(h + 2);
	rec->len = tt_get32(h + 4);
	rec->ts = ts;
	rec->body = h + TT_REC_HDR_SIZE;
	rec->segment = s->seg;
	if (ts < r->last_ts)
		r->out_of_order++;
	else
		r->last_ts = ts;
}

/* Is TS inside the window the reader was opened with (until 0 = none)? */
static inline bool in_window(const struct tape_reader *r, uint64_t ts)
{
	return ts >= r->opts.since_ts &&
	       (!r->opts.until_ts || ts <= r->opts.until_ts);
}

/*
 * After a record came from the only live chunk, and that chunk is in
 * stored order, the next ones can come straight from it for as long as
 * no other chunk could hold an earlier record: remember that bound.
 */
static void plan_solo(struct tape_reader *r, struct rd_slot *s)
{
	r->solo = NULL;
	if (r->nlive != 1 || s->use_order || slot_done(s))
		return;
	r->solo = s;
	r->solo_bound = r->next < r->nchunks && !r->opts.file_order
				? r->chunks[r->next].wait_ts
				: UINT64_MAX;
}

int tape_reader_next(struct tape_reader *r, struct tape_record *rec)
{
	if (!r || !rec)
		return TAPE_E_INVAL;
	struct rd_slot *solo = r->solo;
	if (solo && solo->off < solo->len) { /* the common case */
		uint64_t ts = solo->head_ts;
		if (ts <= r->solo_bound && in_window(r, ts)) {
			const uint8_t *h = solo->buf + solo->off;
			seq_advance(r, solo);
			fill_record(r, rec, solo, h, ts);
			return 1;
		}
	}
	r->solo = NULL;
	for (;;) {
		release_done(r);
		struct rd_slot *best = earliest(r);
		if (need_next_chunk(r, best)) {
			load_chunk(r, r->next++);
			continue;
		}
		if (!best)
			return 0;
		const uint8_t *h = slot_head(best);
		uint64_t ts = best->head_ts;
		slot_advance(r, best);
		if (!in_window(r, ts))
			continue;
		fill_record(r, rec, best, h, ts);
		plan_solo(r, best);
		return 1;
	}
}
