/* SPDX-License-Identifier: MIT */
/*
 * reader.c - open a tape: find its segments (MANIFEST and directory
 * listing), check their headers, and learn their chunks from the footer
 * index or, when there is none, by scanning block headers.
 *
 * Every length read off disk is checked against the file size before it
 * sizes an allocation or a read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader_internal.h"

#define MANIFEST_MAX  (16u << 20) /* ~250k segments of lines */
#define RESYNC_WINDOW 65536

ssize_t rd_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got,
				  (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void fmt_wall(char *buf, size_t len, uint64_t wall_ns)
{
	time_t t = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%d", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(wall_ns % 1000000000 / 100000000));
}

void rd_fmt_range(const struct tape_reader *r, uint32_t seg, uint64_t from,
		  uint64_t to, char *buf, size_t len)
{
	char a[32], b[32];
	const struct rd_anchor *an =
		r->anchors && seg < r->nsegs ? &r->anchors[seg] : NULL;
	if (!an || !an->realtime_ns) {
		tt_fmt_ts(a, sizeof(a), from);
		tt_fmt_ts(b, sizeof(b), to);
		snprintf(buf, len, "boot clock %s-%s", a, b);
		return;
	}
	/* wall = realtime + (ts - boottime), in signed arithmetic */
	fmt_wall(a, sizeof(a),
		 an->realtime_ns +
			 (uint64_t)((int64_t)(from - an->boottime_ns)));
	fmt_wall(b, sizeof(b),
		 an->realtime_ns + (uint64_t)((int64_t)(to - an->boottime_ns)));
	snprintf(buf, len, "%s-%s UTC", a, b);
}

static const char *own(struct tape_reader *r, const char *s)
{
	char **p = realloc(r->owned, (r->nowned + 1) * sizeof(*p));
	if (!p)
		return s;
	r->owned = p;
	char *copy = strdup(s);
	if (!copy)
		return s;
	r->owned[r->nowned++] = copy;
	return copy;
}

void rd_damage(struct tape_reader *r, const char *segment, uint64_t offset,
	       uint64_t length, int64_t chunk_seq, uint64_t lost,
	       uint64_t first_ts, uint64_t last_ts, const char *fmt, ...)
{
	if (r->ndamage >= RD_MAX_DAMAGE)
		return;
	if (r->ndamage == r->damage_cap) {
		size_t n = r->damage_cap ? 2 * r->damage_cap : 16;
		void *p = realloc(r->damage, n * sizeof(*r->damage));
		if (!p)
			return;
		r->damage = p;
		r->damage_cap = n;
	}
	struct tape_damage *d = &r->damage[r->ndamage++];
	*d = (struct tape_damage){segment, offset,   length, chunk_seq,
				  lost,	   first_ts, last_ts};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->what, sizeof(d->what), fmt, ap);
	va_end(ap);
	snprintf(r->msg, sizeof(r->msg),
		 "%s: %s; run `tracetape verify` for the full list", segment,
		 d->what);
}

int rd_block_header(struct tape_reader *r, int fd, uint64_t off, uint64_t size,
		    struct block_hdr *bh)
{
	uint8_t h[TT_BLOCK_HDR_SIZE];
	if (off > size || size - off < TT_BLOCK_HDR_SIZE)
		return -1;
	ssize_t n = rd_pread(fd, h, sizeof(h), off);
	if (n < 0)
		return -2;
	if (n != (ssize_t)sizeof(h) || tt_get32(h) != TT_BLOCK_MAGIC)
		return -1;
	bh->type = tt_get16(h + 4);
	bh->flags = tt_get16(h + 6);
	bh->ext_len = tt_get32(h + 8);
	bh->payload_len = tt_get64(h + 16);
	bh->raw_len = tt_get64(h + 24);
	bh->payload_crc = tt_get32(h + 32);
	bh->ext = r->ext;
	if (bh->ext_len > TT_MAX_EXT_LEN ||
	    bh->ext_len > size - off - TT_BLOCK_HDR_SIZE)
		return -1;
	n = rd_pread(fd, r->ext, bh->ext_len, off + TT_BLOCK_HDR_SIZE);
	if (n < 0)
		return -2;
	if (n != (ssize_t)bh->ext_len)
		return -1;
	uint32_t crc = tt_crc32c(0, h, TT_BLOCK_HDR_CRC);
	crc = tt_crc32c(crc, r->ext, bh->ext_len);
	return crc == tt_get32(h + 36) ? 0 : -1;
}

static int add_chunk(struct tape_reader *r, const struct rd_chunk *c)
{
	if (r->nchunks == r->chunks_cap) {
		size_t n = r->chunks_cap ? 2 * r->chunks_cap : 64;
		void *p = realloc(r->chunks, n * sizeof(*r->chunks));
		if (!p)
			return TAPE_E_NOMEM;
		r->chunks = p;
		r->chunks_cap = n;
	}
	r->chunks[r->nchunks++] = *c;
	return 0;
}

/* Chunk fields from a CHUNK block's extension. */
static void chunk_from_ext(struct rd_chunk *c, const uint8_t *ext)
{
	c->chunk_seq = tt_get64(ext);
	c->min_ts = tt_get64(ext + 8);
	c->max_ts = tt_get64(ext + 16);
	c->nrecords = tt_get32(ext + 24);
}

/* The footer: trailer -> INDEX block -> entries.  0 if it was used. */
static int read_footer(struct tape_reader *r, uint32_t si, int fd,
		       uint64_t size, uint64_t start)
{
	uint8_t t[TT_TRAILER_SIZE];
	if (size < start + TT_BLOCK_HDR_SIZE + TT_TRAILER_SIZE ||
	    rd_pread(fd, t, sizeof(t), size - TT_TRAILER_SIZE) !=
		    (ssize_t)sizeof(t) ||
	    memcmp(t + 28, TT_TRAILER_MAGIC, 4) != 0 ||
	    tt_crc32c(0, t, TT_TRAILER_CRC) != tt_get32(t + 24))
		return -1;
	uint64_t index_off = tt_get64(t), nchunks = tt_get64(t + 8);
	uint64_t records = tt_get64(t + 16);
	struct block_hdr bh;
	uint64_t end = size - TT_TRAILER_SIZE;
	if (index_off < start || index_off > end ||
	    rd_block_header(r, fd, index_off, end, &bh) != 0 ||
	    bh.type != TT_BLOCK_INDEX ||
	    nchunks > (end - index_off) / TT_INDEX_ENTRY_SIZE ||
	    bh.payload_len != nchunks * TT_INDEX_ENTRY_SIZE ||
	    index_off + TT_BLOCK_HDR_SIZE + bh.ext_len + bh.payload_len != end)
		return -1;
	uint8_t *idx = malloc(bh.payload_len ? bh.payload_len : 1);
	if (!idx)
		return TAPE_E_NOMEM;
	int rc = -1;
	if (rd_pread(fd, idx, bh.payload_len,
		     index_off + TT_BLOCK_HDR_SIZE + bh.ext_len) !=
		    (ssize_t)bh.payload_len ||
	    tt_crc32c(0, idx, bh.payload_len) != bh.payload_crc)
		goto out;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < nchunks; i++) {
		const uint8_t *e = idx + i * TT_INDEX_ENTRY_SIZE;
		uint64_t off = tt_get64(e);
		if (off < start || off > index_off ||
		    index_off - off < TT_BLOCK_HDR_SIZE + TT_CHUNK_EXT_SIZE ||
		    tt_get64(e + 40) > TT_MAX_CHUNK_RAW)
			goto out;
		sum += tt_get32(e + 32);
	}
	if (sum != records)
		goto out;
	size_t first = r->nchunks;
	for (uint64_t i = 0; i < nchunks; i++) {
		const uint8_t *e = idx + i * TT_INDEX_ENTRY_SIZE;
		struct rd_chunk c = {.offset = tt_get64(e),
				     .chunk_seq = tt_get64(e + 8),
				     .min_ts = tt_get64(e + 16),
				     .max_ts = tt_get64(e + 24),
				     .nrecords = tt_get32(e + 32),
				     .raw_len = tt_get64(e + 40),
				     .seg = si};
		if ((rc = add_chunk(r, &c))) {
			r->nchunks = first;
			goto out;
		}
	}
	rc = 0;
out:
	free(idx);
	return rc;
}

/* Does the block header at H (AVAIL bytes in memory, at file offset
 * POS) verify?  1 yes, 0 no, -1 it does not fit in memory: read it. */
static int header_in(const uint8_t *h, size_t avail, uint64_t pos,
		     uint64_t size)
{
	if (avail < TT_BLOCK_HDR_SIZE)
		return -1;
	uint32_t ext_len = tt_get32(h + 8);
	if (ext_len > TT_MAX_EXT_LEN || size - pos < TT_BLOCK_HDR_SIZE ||
	    ext_len > size - pos - TT_BLOCK_HDR_SIZE)
		return 0;
	if (avail - TT_BLOCK_HDR_SIZE < ext_len)
		return -1;
	uint32_t crc = tt_crc32c(0, h, TT_BLOCK_HDR_CRC);
	crc = tt_crc32c(crc, h + TT_BLOCK_HDR_SIZE, ext_len);
	return crc == tt_get32(h + 36);
}

/* First offset >= FROM where a block header verifies, or SIZE.  Most
 * candidates are checked in the window already read. */
static uint64_t resync(struct tape_reader *r, int fd, uint64_t from,
		       uint64_t size)
{
	uint8_t win[RESYNC_WINDOW];
	uint8_t magic[4];
	tt_put32(magic, TT_BLOCK_MAGIC);
	while (from + TT_BLOCK_HDR_SIZE <= size) {
		ssize_t n = rd_pread(fd, win, sizeof(win), from);
		if (n < 4)
			break;
		for (ssize_t i = 0; i + 4 <= n; i++) {
			if (memcmp(win + i, magic, 4) != 0)
				continue;
			uint64_t pos = from + (uint64_t)i;
			int v = header_in(win + i, (size_t)(n - i), pos, size);
			struct block_hdr bh;
			if (v == 1 ||
			    (v < 0 &&
			     rd_block_header(r, fd, pos, size, &bh) == 0))
				return pos;
		}
		from += (uint64_t)n - 3;
	}
	return size;
}

static void damage_truncated(struct tape_reader *r, uint32_t si,
			     const char *path, uint64_t off, uint64_t size,
			     const struct block_hdr *bh)
{
	if (bh && bh->type == TT_BLOCK_CHUNK &&
	    bh->ext_len >= TT_CHUNK_EXT_SIZE) {
		struct rd_chunk c;
		char range[80];
		chunk_from_ext(&c, bh->ext);
		rd_fmt_range(r, si, c.min_ts, c.max_ts, range, sizeof(range));
		rd_damage(r, path, off, size - off, (int64_t)c.chunk_seq,
			  c.nrecords, c.min_ts, c.max_ts,
			  "truncated: chunk %llu at offset %llu ends past the "
			  "end of the file; %u records (%s) lost",
			  (unsigned long long)c.chunk_seq,
			  (unsigned long long)off, c.nrecords, range);
		return;
	}
	rd_damage(r, path, off, size - off, -1, 0, 0, 0,
		  "truncated: %llu bytes at offset %llu are an incomplete "
		  "block (the writer stopped mid-write)",
		  (unsigned long long)(size - off), (unsigned long long)off);
}

/* Does the tail at OFF look like a block header the writer did not
 * finish: too short for a magic, or a magic and a header or extension cut
 * by the end of the file? */
static bool cut_block(int fd, uint64_t off, uint64_t size)
{
	uint8_t h[TT_BLOCK_HDR_SIZE];
	uint64_t left = size - off;
	if (left < 4)
		return true;
	size_t want = left < sizeof(h) ? (size_t)left : sizeof(h);
	if (rd_pread(fd, h, want, off) != (ssize_t)want ||
	    tt_get32(h) != TT_BLOCK_MAGIC)
		return false;
	uint32_t ext_len = tt_get32(h + 8);
	return left < TT_BLOCK_HDR_SIZE || (ext_len <= TT_MAX_EXT_LEN &&
					    ext_len > left - TT_BLOCK_HDR_SIZE);
}

/* No usable footer: walk the blocks, stepping over damage. */
static int scan_segment(struct tape_reader *r, uint32_t si, int fd,
			uint64_t size, uint64_t start)
{
	const char *path = r->segs[si].path;
	uint64_t off = start;
	while (off < size) {
		struct block_hdr bh;
		int h = rd_block_header(r, fd, off, size, &bh);
		if (h == -2)
			return TAPE_E_IO;
		if (h < 0) {
			uint64_t next = resync(r, fd, off + 1, size);
			if (next == size && cut_block(fd, off, size)) {
				damage_truncated(r, si, path, off, size, NULL);
				break;
			}
			rd_damage(r, path, off, next - off, -1, 0, 0, 0,
				  "%llu unreadable bytes at offset %llu (bad "
				  "block header); skipped to %s",
				  (unsigned long long)(next - off),
				  (unsigned long long)off,
				  next < size ? "the next good block"
					      : "the end of the file");
			off = next;
			continue;
		}
		uint64_t body = off + TT_BLOCK_HDR_SIZE + bh.ext_len;
		if (bh.payload_len > size - body) {
			damage_truncated(r, si, path, off, size, &bh);
			break;
		}
		if (bh.type == TT_BLOCK_INDEX)
			break; /* the footer: the trailer follows */
		if (bh.type == TT_BLOCK_CHUNK) {
			struct rd_chunk c = {.offset = off,
					     .raw_len = bh.raw_len,
					     .seg = si};
			if (bh.ext_len >= TT_CHUNK_EXT_SIZE)
				chunk_from_ext(&c, bh.ext);
			int rc = add_chunk(r, &c);
			if (rc)
				return rc;
		}
		off = body + bh.payload_len;
	}
	return 0;
}

static void segment_totals(struct tape_reader *r, uint32_t si, size_t first)
{
	struct tape_segment_info *s = &r->segs[si];
	for (size_t i = first; i < r->nchunks; i++) {
		const struct rd_chunk *c = &r->chunks[i];
		if (s->chunks == 0 || c->min_ts < s->first_ts)
			s->first_ts = c->min_ts;
		if (s->chunks == 0 || c->max_ts > s->last_ts)
			s->last_ts = c->max_ts;
		s->chunks++;
		s->records += c->nrecords;
	}
}

/*
 * The newest segment is a *.partial with no byte in it: the writer was
 * stopped between creating it and its first write(2), which puts the
 * header and a first record in place at once.  Nothing was in it, so
 * nothing is lost: not damage (FORMAT.md section 13).
 */
static bool never_written(const struct tape_reader *r, uint32_t si)
{
	const struct tape_segment_info *s = &r->segs[si];
	return s->partial && s->size == 0 && si + 1 == r->nsegs;
}

/* The 64-byte header: magic, version, size, sequence, tape id.  0: read
 * the blocks; 1: skip the segment; < 0: fail the open. */
static int check_header(struct tape_reader *r, uint32_t si, int fd,
			uint64_t size, bool single, uint64_t *start, char *err)
{
	struct tape_segment_info *s = &r->segs[si];
	uint8_t h[TT_SEG_HEADER_SIZE];
	if (never_written(r, si))
		return 1;
	if (size < TT_SEG_HEADER_SIZE ||
	    rd_pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, TT_SEG_MAGIC, TT_SEG_MAGIC_LEN) != 0) {
		if (single) {
			snprintf(err, TAPE_ERRLEN,
				 "%s: not a tracetape segment (no TTAPE "
				 "magic): give a tape directory or a "
				 "seg-*.tt file",
				 s->path);
			return TAPE_E_NOTTAPE;
		}
		rd_damage(r, s->path, 0, size, -1, 0, 0, 0,
			  size < TT_SEG_HEADER_SIZE
				  ? "only %llu bytes: the segment header was "
				    "never completely written"
				  : "%llu bytes without a TTAPE header: not a "
				    "segment, skipped",
			  (unsigned long long)size);
		return 1;
	}
	bool crc_ok = tt_crc32c(0, h, TT_SEG_HEADER_CRC) == tt_get32(h + 60);
	*start = TT_SEG_HEADER_SIZE;
	if (!crc_ok) {
		/* The version fields are suspect too: read as 1.x. */
		s->version_major = TAPE_VERSION_MAJOR;
		rd_damage(r, s->path, 0, TT_SEG_HEADER_SIZE, -1, 0, 0, 0,
			  "segment header checksum mismatch; reading the "
			  "blocks anyway");
		return 0;
	}
	s->version_major = tt_get16(h + 8);
	s->version_minor = tt_get16(h + 10);
	if (s->version_major > TAPE_VERSION_MAJOR) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: written by tracetape format version %u.%u; this "
			 "reader knows %u.x: upgrade tracetape",
			 s->path, s->version_major, s->version_minor,
			 TAPE_VERSION_MAJOR);
		return TAPE_E_VERSION;
	}
	uint32_t hsize = tt_get32(h + 12);
	if (hsize >= TT_SEG_HEADER_SIZE && hsize <= size)
		*start = hsize; /* a newer minor may have a longer header */
	r->anchors[si].realtime_ns = tt_get64(h + 40);
	r->anchors[si].boottime_ns = tt_get64(h + 48);
	uint64_t seq = tt_get64(h + 16);
	if (s->seq && seq != s->seq)
		rd_damage(r, s->path, 16, 8, -1, 0, 0, 0,
			  "header says segment %llu, the file name %llu",
			  (unsigned long long)seq, (unsigned long long)s->seq);
	s->seq = seq;
	memcpy(s->tape_id, h + 24, 16);
	s->have_tape_id = true;
	if (!r->have_tape_id) {
		memcpy(r->tape_id, h + 24, 16);
		r->have_tape_id = true;
	} else if (memcmp(r->tape_id, h + 24, 16) != 0) {
		rd_damage(r, s->path, 24, 16, -1, 0, 0, 0,
			  "belongs to a different tape (tape id differs "
			  "from the first segment's); read anyway");
	}
	return 0;
}

static int open_fail(char *err, const char *path, const char *what)
{
	int e = errno;
	snprintf(err, TAPE_ERRLEN, "%s: cannot %s: %s%s", path, what,
		 strerror(e),
		 e == EACCES || e == EPERM
			 ? " (read permission needed: run as the tape's "
			   "owner or copy the tape)"
			 : "");
	return TAPE_E_IO;
}

static int load_segment(struct tape_reader *r, uint32_t si, bool single,
			char *err)
{
	struct tape_segment_info *s = &r->segs[si];
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return open_fail(err, s->path, "open the segment");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int rc = open_fail(err, s->path, "stat the segment");
		close(fd);
		return rc;
	}
	s->size = (uint64_t)st.st_size;
	uint64_t start = TT_SEG_HEADER_SIZE;
	int rc = check_header(r, si, fd, s->size, single, &start, err);
	if (rc) {
		close(fd);
		return rc < 0 ? rc : 0;
	}
	size_t first = r->nchunks;
	rc = read_footer(r, si, fd, s->size, start);
	s->has_footer = rc == 0;
	if (rc == -1) {
		if (!s->partial)
			rd_damage(r, s->path,
				  s->size >= TT_TRAILER_SIZE
					  ? s->size - TT_TRAILER_SIZE
					  : 0,
				  0, -1, 0, 0, 0,
				  "footer missing or damaged in a finished "
				  "segment; index rebuilt by scanning");
		rc = scan_segment(r, si, fd, s->size, start);
	}
	close(fd);
	if (rc == TAPE_E_IO)
		return open_fail(err, s->path, "read the segment");
	if (rc < 0) {
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", s->path);
		return rc;
	}
	segment_totals(r, si, first);
	return 0;
}

static int add_segment(struct tape_reader *r, const char *path, uint64_t seq,
		       bool partial)
{
	if (r->nsegs == r->segs_cap) {
		size_t n = r->segs_cap ? 2 * r->segs_cap : 16;
		void *p = realloc(r->segs, n * sizeof(*r->segs));
		if (!p)
			return TAPE_E_NOMEM;
		r->segs = p;
		r->segs_cap = n;
	}
	char *copy = strdup(path);
	if (!copy)
		return TAPE_E_NOMEM;
	r->segs[r->nsegs++] = (struct tape_segment_info){
		.path = copy, .seq = seq, .partial = partial};
	return 0;
}

/* "seg-NNNNNN.tt" or "seg-NNNNNN.tt.partial" (6+ digits): its number. */
static bool segment_name(const char *name, uint64_t *seq, bool *partial)
{
	if (strncmp(name, "seg-", 4) != 0)
		return false;
	const char *p = name + 4;
	uint64_t v = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (digits < 6)
		return false;
	if (strcmp(p, ".tt") == 0)
		*partial = false;
	else if (strcmp(p, ".tt.partial") == 0)
		*partial = true;
	else
		return false;
	*seq = v;
	return true;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct tape_segment_info *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (int)x->partial - (int)y->partial; /* finished first */
}

struct manifest_entry {
	uint64_t seq;
	bool deleted;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct manifest_entry *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool have_seq(const struct tape_reader *r, uint64_t seq)
{
	size_t lo = 0, hi = r->nsegs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->segs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nsegs && r->segs[lo].seq == seq;
}

/* Parse MANIFEST lines into ENTRIES; unknown lines are ignored. */
static size_t parse_manifest(char *text, struct manifest_entry *entries,
			     size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char verb[16];
		unsigned long long seq;
		if (sscanf(line, "%15s %llu", verb, &seq) != 2)
			continue;
		bool del = strcmp(verb, "delete") == 0;
		if (!del && strcmp(verb, "open") && strcmp(verb, "close"))
			continue;
		entries[n].seq = seq;
		entries[n].deleted = del;
		n++;
	}
	return n;
}

/* Report segments the MANIFEST names that are neither here nor deleted. */
static void check_manifest(struct tape_reader *r, int dfd)
{
	int fd = openat(dfd, "MANIFEST", O_RDONLY | O_CLOEXEC);
	char path[4200];
	snprintf(path, sizeof(path), "%s/MANIFEST", r->path);
	if (fd < 0) {
		rd_damage(r, own(r, path), 0, 0, -1, 0, 0, 0,
			  "MANIFEST missing (%s); segments found by listing "
			  "the directory",
			  strerror(errno));
		return;
	}
	struct stat st;
	char *text = NULL;
	if (fstat(fd, &st) == 0 && st.st_size <= MANIFEST_MAX)
		text = calloc(1, (size_t)st.st_size + 1);
	ssize_t n = text ? rd_pread(fd, text, (size_t)st.st_size, 0) : -1;
	close(fd);
	if (n < 0) {
		free(text);
		rd_damage(r, own(r, path), 0, 0, -1, 0, 0, 0,
			  "MANIFEST unreadable or over %u MiB; not checked",
			  MANIFEST_MAX >> 20);
		return;
	}
	text[n] = '\0';
	if (strncmp(text, "tracetape-manifest ", 19) != 0)
		rd_damage(r, own(r, path), 0, 0, -1, 0, 0, 0,
			  "first line is not \"tracetape-manifest 1\"");
	size_t max = (size_t)n / 8 + 1;
	struct manifest_entry *e = calloc(max, sizeof(*e));
	size_t ne = e ? parse_manifest(text, e, max) : 0;
	free(text);
	qsort(e, ne, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < ne;) {
		size_t j = i;
		bool deleted = false;
		for (; j < ne && e[j].seq == e[i].seq; j++)
			deleted |= e[j].deleted;
		if (!deleted && !have_seq(r, e[i].seq)) {
			snprintf(path, sizeof(path), "%s/seg-%06llu.tt",
				 r->path, (unsigned long long)e[i].seq);
			rd_damage(r, own(r, path), 0, 0, -1, 0, 0, 0,
				  "listed in MANIFEST but missing (segment "
				  "%llu): its records are lost",
				  (unsigned long long)e[i].seq);
		}
		i = j;
	}
	free(e);
}

/* Drop seg-N.tt.partial when seg-N.tt exists too (list sorted). */
static void drop_duplicates(struct tape_reader *r)
{
	size_t out = 0;
	for (size_t i = 0; i < r->nsegs; i++) {
		if (out && r->segs[out - 1].seq == r->segs[i].seq) {
			rd_damage(r, own(r, r->segs[i].path), 0, 0, -1, 0, 0, 0,
				  "ignored: the finished segment with the "
				  "same number is read instead");
			free((char *)r->segs[i].path);
			continue;
		}
		r->segs[out++] = r->segs[i];
	}
	r->nsegs = out;
}

static int collect_dir(struct tape_reader *r, char *err)
{
	int dfd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int rc = open_fail(err, r->path, "open the tape directory");
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	struct dirent *de;
	int rc = 0;
	char path[4200];
	while (!rc && (de = readdir(d))) {
		uint64_t seq;
		bool partial;
		if (!segment_name(de->d_name, &seq, &partial))
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->path, de->d_name);
		rc = add_segment(r, path, seq, partial);
	}
	if (rc) {
		closedir(d);
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", r->path);
		return rc;
	}
	if (r->nsegs == 0) {
		closedir(d);
		snprintf(err, TAPE_ERRLEN,
			 "%s: no segments (seg-*.tt): not a tape, or the "
			 "recorder never started",
			 r->path);
		return TAPE_E_EMPTY;
	}
	qsort(r->segs, r->nsegs, sizeof(*r->segs), cmp_seg);
	drop_duplicates(r);
	check_manifest(r, dirfd(d));
	closedir(d);
	return 0;
}

static int collect(struct tape_reader *r, char *err)
{
	struct stat st;
	if (stat(r->path, &st) < 0)
		return open_fail(err, r->path, "open the tape");
	if (S_ISDIR(st.st_mode))
		return collect_dir(r, err);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, TAPE_ERRLEN,
			 "%s: not a tape directory or a segment file", r->path);
		return TAPE_E_NOTTAPE;
	}
	const char *base = strrchr(r->path, '/');
	base = base ? base + 1 : r->path;
	uint64_t seq = 0;
	bool partial = false;
	if (!segment_name(base, &seq, &partial))
		partial = strstr(base, ".partial") != NULL;
	int rc = add_segment(r, r->path, 0, partial);
	if (rc)
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", r->path);
	return rc;
}

/*
 * Which chunks to wait for before handing out a record: see next().
 * A chunk is waited for from its min_ts, but never from further back
 * than the reorder window before the chunks stored ahead of it.  "Ahead"
 * is measured by their min_ts, not max_ts: one record stamped far in the
 * future must not switch merging off for the rest of the tape.
 */
static void plan_order(struct tape_reader *r)
{
	uint64_t w = r->opts.reorder_window_ns;
	uint64_t run_max = 0;
	for (size_t i = 0; i < r->nchunks; i++) {
		struct rd_chunk *c = &r->chunks[i];
		uint64_t floor = run_max > w ? run_max - w : 0;
		c->wait_ts = c->min_ts > floor ? c->min_ts : floor;
		if (c->min_ts > run_max)
			run_max = c->min_ts;
	}
	uint64_t m = UINT64_MAX;
	for (size_t i = r->nchunks; i-- > 0;) {
		if (r->chunks[i].wait_ts < m)
			m = r->chunks[i].wait_ts;
		r->chunks[i].wait_ts = m;
	}
}

/* Keep only chunks that can hold records in [since, until]. */
static void select_window(struct tape_reader *r)
{
	uint64_t since = r->opts.since_ts, until = r->opts.until_ts;
	if (!since && !until)
		return;
	size_t out = 0;
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct rd_chunk *c = &r->chunks[i];
		if ((since && c->max_ts < since) ||
		    (until && c->min_ts > until))
			continue;
		r->chunks[out++] = *c;
	}
	r->nchunks = out;
}

static int normalise_opts(struct tape_reader_opts *o,
			  const struct tape_reader_opts *in)
{
	memset(o, 0, sizeof(*o));
	if (in) {
		size_t n = in->sz < sizeof(*o) ? in->sz : sizeof(*o);
		if (n < sizeof(size_t))
			return -1;
		memcpy(o, in, n);
	}
	o->sz = sizeof(*o);
	if (!o->reorder_window_ns)
		o->reorder_window_ns = 1000000000ull;
	return 0;
}

int tape_reader_open(struct tape_reader **out, const char *path,
		     const struct tape_reader_opts *opts, char *err)
{
	char scratch[TAPE_ERRLEN];
	if (!err)
		err = scratch;
	err[0] = '\0';
	if (!out || !path || !*path) {
		snprintf(err, TAPE_ERRLEN, "tape_reader_open: no path");
		return TAPE_E_INVAL;
	}
	*out = NULL;
	struct tape_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", path);
		return TAPE_E_NOMEM;
	}
	r->fd = -1;
	int rc = TAPE_E_INVAL;
	if (normalise_opts(&r->opts, opts) < 0) {
		snprintf(err, TAPE_ERRLEN, "%s: opts.sz is not set", path);
		goto fail;
	}
	if ((rc = collect(r, err)))
		goto fail;
	bool single = r->nsegs == 1 && strcmp(r->segs[0].path, path) == 0;
	if (!(r->anchors = calloc(r->nsegs, sizeof(*r->anchors)))) {
		rc = TAPE_E_NOMEM;
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", path);
		goto fail;
	}
	for (size_t i = 0; i < r->nsegs; i++)
		if ((rc = load_segment(r, (uint32_t)i, single, err)))
			goto fail;
	if (r->nsegs == 1 && never_written(r, 0)) {
		rc = TAPE_E_EMPTY;
		snprintf(err, TAPE_ERRLEN,
			 "%s: no segment written yet: %s is empty (the "
			 "recorder was stopped before it wrote anything)",
			 path, r->segs[0].path);
		goto fail;
	}
	if (!(r->dctx = ZSTD_createDCtx())) {
		rc = TAPE_E_NOMEM;
		snprintf(err, TAPE_ERRLEN, "%s: out of memory", path);
		goto fail;
	}
	select_window(r);
	plan_order(r);
	*out = r;
	return 0;
fail:
	tape_reader_close(r);
	return rc;
}

void tape_reader_close(struct tape_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < RD_MAX_LIVE; i++) {
		free(r->slots[i].buf);
		free(r->slots[i].order);
	}
	for (size_t i = 0; i < r->nsegs; i++)
		free((char *)r->segs[i].path);
	for (size_t i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	ZSTD_freeDCtx(r->dctx);
	free(r->owned);
	free(r->anchors);
	free(r->segs);
	free(r->chunks);
	free(r->cbuf);
	free(r->damage);
	free(r->path);
	free(r);
}

const char *tape_reader_error(const struct tape_reader *r)
{
	return r ? r->msg : "no reader";
}

size_t tape_reader_damage(const struct tape_reader *r,
			  const struct tape_damage **list)
{
	if (list)
		*list = r ? r->damage : NULL;
	return r ? r->ndamage : 0;
}

size_t tape_reader_segments(const struct tape_reader *r,
			    const struct tape_segment_info **list)
{
	if (list)
		*list = r ? r->segs : NULL;
	return r ? r->nsegs : 0;
}
