/* SPDX-License-Identifier: MIT */
/*
 * output.c - what every analysis prints with: time formats, escaping of
 * untrusted strings for terminals and for JSON, a one-line JSON writer.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"

#define NSEC_PER_SEC  1000000000LL
#define UNSEC_PER_SEC UINT64_C(1000000000)

/* Wall-clock seconds + nanoseconds of TS under CK, shifted to local time
 * by the anchor's utc_offset unless UTC. */
static void wall_parts(const struct replay_clock *ck, bool utc, uint64_t ts,
		       int64_t *sec, long *nsec, int32_t *offset)
{
	int64_t delta = (int64_t)(ts - ck->boottime_ns);
	int64_t real = (int64_t)ck->realtime_ns + delta;
	*offset = utc ? 0 : ck->utc_offset;
	real += (int64_t)*offset * NSEC_PER_SEC;
	int64_t s = real / NSEC_PER_SEC;
	int64_t ns = real % NSEC_PER_SEC;
	if (ns < 0) {
		ns += NSEC_PER_SEC;
		s--;
	}
	*sec = s;
	*nsec = (long)ns;
}

static void boot_relative(uint64_t ts, char *out, size_t n)
{
	snprintf(out, n, "boot+%" PRIu64 ".%09" PRIu64, ts / UNSEC_PER_SEC,
		 ts % UNSEC_PER_SEC);
}

void replay_fmt_iso_clock(const struct replay_clock *ck, bool utc, uint64_t ts,
			  char out[REPLAY_ISO_LEN])
{
	if (!ck->valid) {
		boot_relative(ts, out, REPLAY_ISO_LEN);
		return;
	}
	int64_t sec;
	long nsec;
	int32_t off;
	wall_parts(ck, utc, ts, &sec, &nsec, &off);
	char sign = off < 0 ? '-' : '+';
	int32_t aoff = off < 0 ? -off : off;
	/* One calendar conversion per second of output, not per event. */
	static int64_t cached_sec = INT64_MIN;
	static char date[32];
	if (sec != cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	snprintf(out, REPLAY_ISO_LEN, "%s.%09ld%c%02d:%02d", date, nsec, sign,
		 (int)(aoff / 3600 % 100), (int)(aoff % 3600 / 60));
}

void replay_fmt_iso(struct replay *rp, uint64_t ts, char out[REPLAY_ISO_LEN])
{
	struct replay_clock ck = replay_clock_at(rp, ts);
	replay_fmt_iso_clock(&ck, rp->utc, ts, out);
}

void replay_fmt_hms(struct replay *rp, uint64_t ts, char out[REPLAY_HMS_LEN])
{
	struct replay_clock ck = replay_clock_at(rp, ts);
	if (!ck.valid) {
		/* No anchor: seconds since boot keep the column readable. */
		snprintf(out, REPLAY_HMS_LEN, "%" PRIu64 ".%03" PRIu64,
			 ts / UNSEC_PER_SEC, ts % UNSEC_PER_SEC / 1000000);
		return;
	}
	int64_t sec;
	long nsec;
	int32_t off;
	wall_parts(&ck, rp->utc, ts, &sec, &nsec, &off);
	/* Millions of events share a second: format each second once.
	 * The key is the local second itself, so any replay may share. */
	static int64_t cached_sec = INT64_MIN;
	static char cached[REPLAY_HMS_LEN];
	if (sec != cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%H:%M:%S", &tm);
		cached_sec = sec;
	}
	memcpy(out, cached, REPLAY_HMS_LEN);
}

/* Length of a valid UTF-8 sequence at S (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
	int n;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Escape of byte C for a terminal into OUT (5 bytes); 0 if it passes. */
static int text_escape_byte(unsigned char c, char out[5])
{
	switch (c) {
	case '\n':
		memcpy(out, "\\n", 3);
		return 2;
	case '\t':
		memcpy(out, "\\t", 3);
		return 2;
	case '\r':
		memcpy(out, "\\r", 3);
		return 2;
	case '\\':
		memcpy(out, "\\\\", 3);
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(out, 5, "\\x%02x", c);
		return 4;
	}
	return 0;
}

/*
 * Escape of the character at S for a terminal into OUT (up to 8 bytes +
 * NUL); returns its length, or 0 when the USED bytes pass unchanged.
 * Invalid UTF-8 bytes and C1 controls (U+0080..U+009F: 8-bit CSI and
 * friends) are escaped too: tapes come from untrusted hosts.
 */
static int text_escape_at(const char *s, char out[9], int *used)
{
	const unsigned char *u = (const unsigned char *)s;
	*used = 1;
	if (u[0] < 0x80)
		return text_escape_byte(u[0], out);
	int n = utf8_len(u);
	if (n == 0) {
		snprintf(out, 9, "\\x%02x", u[0]);
		return 4;
	}
	*used = n;
	if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0) {
		snprintf(out, 9, "\\x%02x\\x%02x", u[0], u[1]);
		return 8;
	}
	return 0;
}

char *replay_text_escape(const char *s, char *out, size_t outsz)
{
	size_t o = 0;
	if (!outsz)
		return out;
	while (s && *s) {
		char esc[9];
		int used;
		int n = text_escape_at(s, esc, &used);
		const char *src = n ? esc : s;
		size_t len = n ? (size_t)n : (size_t)used;
		if (o + len >= outsz)
			break;
		memcpy(out + o, src, len);
		o += len;
		s += used;
	}
	out[o] = '\0';
	return out;
}

void replay_text_write(FILE *f, const char *s)
{
	const char *run = s;
	while (s && *s) {
		char esc[9];
		int used;
		int n = text_escape_at(s, esc, &used);
		if (n) {
			fwrite_unlocked(run, 1, (size_t)(s - run), f);
			fwrite_unlocked(esc, 1, (size_t)n, f);
			run = s + used;
		}
		s += used;
	}
	if (run)
		fputs_unlocked(run, f);
}

/* JSON escape of the character at P into OUT; 0 when it passes as is
 * (*USED bytes).  See replay_json_string(). */
static int json_escape_at(const unsigned char *p, char out[8], int *used)
{
	unsigned char c = p[0];
	*used = 1;
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c == '\n' || c == '\t') {
		out[0] = '\\';
		out[1] = c == '\n' ? 'n' : 't';
		return 2;
	}
	if (c < 0x20 || c == 0x7f)
		return snprintf(out, 8, "\\u%04x", c);
	if (c < 0x80)
		return 0;
	int n = utf8_len(p);
	if (n == 0) /* not UTF-8: keep the byte's value visible */
		return snprintf(out, 8, "\\u%04x", c);
	*used = n;
	if (n == 2 && c == 0xc2 && p[1] < 0xa0) /* C1 control */
		return snprintf(out, 8, "\\u%04x", p[1]);
	return 0;
}

void replay_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *run = p;
	putc_unlocked('"', f);
	while (*p) {
		char esc[8];
		int used;
		int n = json_escape_at(p, esc, &used);
		if (n) {
			fwrite_unlocked(run, 1, (size_t)(p - run), f);
			fwrite_unlocked(esc, 1, (size_t)n, f);
			run = p + used;
		}
		p += used;
	}
	fwrite_unlocked(run, 1, (size_t)(p - run), f);
	putc_unlocked('"', f);
}

void replay_json_begin(struct replay_json *j, FILE *f)
{
	j->f = f;
	j->n = 0;
	putc_unlocked('{', f);
}

void replay_json_key(struct replay_json *j, const char *key)
{
	if (j->n++)
		putc_unlocked(',', j->f);
	replay_json_string(j->f, key);
	putc_unlocked(':', j->f);
}

/* Decimal digits of U at the end of BUF[24]; returns the first. */
static char *u64_digits(uint64_t u, char buf[24])
{
	char *p = buf + 24;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return p;
}

void replay_json_str(struct replay_json *j, const char *key, const char *v)
{
	replay_json_key(j, key);
	replay_json_string(j->f, v);
}

void replay_json_int(struct replay_json *j, const char *key, int64_t v)
{
	char buf[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = u64_digits(u, buf);
	if (v < 0)
		*--p = '-';
	replay_json_key(j, key);
	fwrite_unlocked(p, 1, (size_t)(buf + 24 - p), j->f);
}

void replay_json_uint(struct replay_json *j, const char *key, uint64_t v)
{
	char buf[24];
	char *p = u64_digits(v, buf);
	replay_json_key(j, key);
	fwrite_unlocked(p, 1, (size_t)(buf + 24 - p), j->f);
}

void replay_json_bool(struct replay_json *j, const char *key, bool v)
{
	replay_json_key(j, key);
	fputs_unlocked(v ? "true" : "false", j->f);
}

void replay_json_end(struct replay_json *j)
{
	fputs_unlocked("}\n", j->f);
}

void replay_json_time(struct replay_json *j, struct replay *rp, uint64_t ts)
{
	char iso[REPLAY_ISO_LEN];
	replay_fmt_iso(rp, ts, iso);
	replay_json_uint(j, "ts_ns", ts);
	replay_json_str(j, "time", iso);
}

void replay_json_task(struct replay_json *j, const struct tt_task *t)
{
	char comm[TT_COMM_LEN + 1];
	replay_task_comm(t, comm);
	replay_json_uint(j, "pid", t->pid);
	replay_json_uint(j, "tid", t->tid);
	replay_json_uint(j, "uid", t->uid);
	replay_json_str(j, "comm", comm);
}

/* ---- fast column output ------------------------------------------ */

struct replay_buf *replay_buf_new(FILE *f)
{
	struct replay_buf *b = malloc(sizeof(*b));
	if (b) {
		b->f = f;
		b->len = 0;
	}
	return b;
}

void replay_buf_flush(struct replay_buf *b)
{
	if (b->len)
		fwrite_unlocked(b->data, 1, b->len, b->f);
	b->len = 0;
}

void replay_buf_free(struct replay_buf *b)
{
	if (!b)
		return;
	replay_buf_flush(b);
	free(b);
}

/* Make room for N more bytes (N <= REPLAY_BUF_SIZE). */
static inline void buf_room(struct replay_buf *b, size_t n)
{
	if (b->len + n > REPLAY_BUF_SIZE)
		replay_buf_flush(b);
}

void replay_buf_char(struct replay_buf *b, char c)
{
	buf_room(b, 1);
	b->data[b->len++] = c;
}

void replay_buf_raw(struct replay_buf *b, const char *s, size_t n)
{
	while (n) {
		buf_room(b, 1);
		size_t room = REPLAY_BUF_SIZE - b->len;
		size_t k = n < room ? n : room;
		memcpy(b->data + b->len, s, k);
		b->len += k;
		s += k;
		n -= k;
	}
}

static void buf_pad(struct replay_buf *b, int n)
{
	static const char spaces[64] = "                                "
				       "                                ";
	while (n > 0) {
		int k = n < 64 ? n : 64;
		replay_buf_raw(b, spaces, (size_t)k);
		n -= k;
	}
}

void replay_buf_int(struct replay_buf *b, int64_t v, int width, bool left)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[sizeof(tmp) - 1 - n++] = '-';
	if (!left)
		buf_pad(b, width - n);
	replay_buf_raw(b, tmp + sizeof(tmp) - n, (size_t)n);
	if (left)
		buf_pad(b, width - n);
}

void replay_buf_octal(struct replay_buf *b, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + (v & 7));
		v >>= 3;
	} while (v);
	for (; n < width && n < (int)sizeof(tmp); n++)
		tmp[sizeof(tmp) - 1 - n] = '0';
	replay_buf_raw(b, tmp + sizeof(tmp) - n, (size_t)n);
}

/* Printable ASCII other than backslash passes a terminal unchanged. */
static inline bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/* Columns S takes once escaped (bytes, as printf counts them). */
static int escaped_cols(const char *s)
{
	int cols = 0;
	for (;;) {
		const char *run = s;
		while (plain_byte((unsigned char)*s))
			s++;
		cols += (int)(s - run);
		if (!*s)
			return cols;
		char esc[9];
		int used;
		int n = text_escape_at(s, esc, &used);
		cols += n ? n : used;
		s += used;
	}
}

void replay_buf_str(struct replay_buf *b, const char *s, int width, bool left)
{
	if (width > 0 && !left)
		buf_pad(b, width - escaped_cols(s));
	int cols = 0;
	for (;;) {
		/* Runs of plain bytes go in one copy. */
		const char *run = s;
		while (plain_byte((unsigned char)*s))
			s++;
		replay_buf_raw(b, run, (size_t)(s - run));
		cols += (int)(s - run);
		if (!*s)
			break;
		char esc[9];
		int used;
		int n = text_escape_at(s, esc, &used);
		replay_buf_raw(b, n ? esc : s, (size_t)(n ? n : used));
		cols += n ? n : used;
		s += used;
	}
	if (width > 0 && left)
		buf_pad(b, width - cols);
}

void replay_json_damage(struct replay_json *j, const struct tape_damage *d)
{
	replay_json_str(j, "segment", d->segment);
	replay_json_uint(j, "offset", d->offset);
	replay_json_uint(j, "length", d->length);
	replay_json_int(j, "chunk_seq", d->chunk_seq);
	replay_json_uint(j, "records_lost", d->records_lost);
	replay_json_uint(j, "first_ts_ns", d->first_ts);
	replay_json_uint(j, "last_ts_ns", d->last_ts);
}
