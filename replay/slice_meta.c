/* SPDX-License-Identifier: MIT */
/*
 * slice_meta.c - what `tracetape slice` remembers of the source's
 * metadata, and the metadata it writes at the start of each of its own
 * segments (FORMAT.md §2): HOST, OPTIONS (the source's, plus slice_*
 * keys saying what this tape was cut from), PROBE, a clock anchor, a
 * load sample, the process snapshot (kept processes and their
 * ancestors), MOUNT and USER.
 *
 * The clock anchor written is the latest anchor of the source carried
 * forward to the segment's start (the same boot -> wall mapping, which
 * is what every analysis of the source applies to those times), so that
 * the slice starts at its window and not at an older anchor.
 */
#include <stdlib.h>
#include <string.h>

#include "slice.h"
#include "state.h"

#define OPTIONS_MAX (256u << 10)
#define SLICE_KEY   "slice_"

/* ---- small helpers ----------------------------------------------- */

static int body_set(struct slice_body *b, const void *data, uint32_t len)
{
	void *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	if (len)
		memcpy(copy, data, len);
	free(b->data);
	b->data = copy;
	b->len = len;
	return 0;
}

static int bodies_add(struct slice_bodies *l, const struct tape_record *rec)
{
	if (l->fresh) {
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i].data);
		l->n = 0;
		l->fresh = false;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct slice_body *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	struct slice_body *b = &l->v[l->n];
	b->data = NULL;
	if (body_set(b, rec->body, rec->len) < 0)
		return -1;
	l->n++;
	return 0;
}

static void bodies_free(struct slice_bodies *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].data);
	free(l->v);
}

void slice_free(struct slice *s)
{
	if (!s)
		return;
	free(s->src_segment_size);
	free(s->host.data);
	free(s->options.data);
	free(s->last_clock.data);
	free(s->last_load.data);
	bodies_free(&s->probes);
	bodies_free(&s->mounts);
	bodies_free(&s->users);
	slice_procs_free(s->procs);
	free(s);
}

/* ---- taking the source's metadata -------------------------------- */

bool slice_meta_type(uint16_t type)
{
	switch (type) {
	case TT_REC_SEGMENT:
	case TT_REC_HOST:
	case TT_REC_OPTIONS:
	case TT_REC_PROBE:
	case TT_REC_CLOCK:
	case TT_REC_LOADAVG:
	case TT_REC_PROC:
	case TT_REC_MOUNT:
	case TT_REC_USER:
		return true;
	}
	return false;
}

void slice_meta_phase_end(struct slice *s)
{
	if (!s->in_phase)
		return;
	s->in_phase = false;
	slice_procs_snapshot_end(s->procs);
}

static void phase_begin(struct slice *s, const struct tape_record *rec)
{
	slice_meta_phase_end(s);
	s->in_phase = true;
	s->phase_seg = rec->segment;
	s->probes.fresh = s->mounts.fresh = s->users.fresh = true;
	slice_procs_snapshot_begin(s->procs);
}

bool slice_meta_in_phase(const struct slice *s, const struct tape_record *rec)
{
	return s->in_phase && rec->segment == s->phase_seg;
}

static int take_metadata(struct slice *s, const struct tape_record *rec)
{
	switch (rec->type) {
	case TT_REC_HOST:
		return body_set(&s->host, rec->body, rec->len);
	case TT_REC_OPTIONS:
		return body_set(&s->options, rec->body, rec->len);
	case TT_REC_PROBE:
		return bodies_add(&s->probes, rec);
	case TT_REC_MOUNT:
		return bodies_add(&s->mounts, rec);
	case TT_REC_USER:
		return bodies_add(&s->users, rec);
	case TT_REC_CLOCK:
		if (rec->len >= offsetof(struct tt_clock, utc_offset)) {
			tape_rec_fixed(rec, &s->clock, sizeof(s->clock));
			s->have_clock = true;
		}
		return 0;
	case TT_REC_LOADAVG:
		tape_rec_fixed(rec, &s->load, sizeof(s->load));
		s->have_load = true;
		return 0;
	}
	return 0;
}

int slice_meta_take(struct slice *s, const struct tape_record *rec)
{
	if (rec->type == TT_REC_SEGMENT)
		phase_begin(s, rec);
	else if (slice_meta_in_phase(s, rec) && !slice_meta_type(rec->type))
		slice_meta_phase_end(s);
	if (take_metadata(s, rec) < 0)
		return -1;
	return slice_procs_update(s->procs, rec);
}

/* ---- repeats ----------------------------------------------------- */

static bool same_as(const struct slice_body *last, uint64_t last_ts,
		    const struct tape_record *rec)
{
	return last->data && last_ts == rec->ts && last->len == rec->len &&
	       memcmp(last->data, rec->body, rec->len) == 0;
}

/* Remember a clock anchor or load sample as the last one written. */
static void note_written(struct slice *s, uint16_t type, uint64_t ts,
			 const void *body, uint32_t len)
{
	if (type == TT_REC_CLOCK && body_set(&s->last_clock, body, len) == 0)
		s->last_clock_ts = ts;
	if (type == TT_REC_LOADAVG && body_set(&s->last_load, body, len) == 0)
		s->last_load_ts = ts;
}

bool slice_meta_is_repeat(struct slice *s, const struct tape_record *rec)
{
	if (rec->type == TT_REC_CLOCK &&
	    same_as(&s->last_clock, s->last_clock_ts, rec))
		return true;
	if (rec->type == TT_REC_LOADAVG &&
	    same_as(&s->last_load, s->last_load_ts, rec))
		return true;
	note_written(s, rec->type, rec->ts, rec->body, rec->len);
	return false;
}

/* ---- writing a segment's metadata -------------------------------- */

struct kv_out {
	char *buf;
	size_t len, cap;
};

static void kv_put(struct kv_out *o, const char *key, const char *value)
{
	size_t need = strlen(key) + 1 + strlen(value) + 1;
	if (o->len + need > o->cap)
		return; /* bounded; the source's own keys come first */
	o->len += (size_t)snprintf(o->buf + o->len, need, "%s=%s", key, value) +
		  1;
}

static void kv_put_u64(struct kv_out *o, const char *key, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	kv_put(o, key, num);
}

static void kv_put_time(struct kv_out *o, const struct slice *s,
			const char *key, uint64_t ts)
{
	char iso[REPLAY_ISO_LEN];
	replay_fmt_iso_clock(&s->when.clock, s->common.utc, ts, iso);
	kv_put(o, key, iso);
}

/* The source's options without its slice_* keys (a slice of a slice
 * says what it was cut from itself). */
static void kv_copy_source(struct kv_out *o, const struct slice_body *src)
{
	size_t pos = 0;
	const char *kv;
	while ((kv = replay_next_string(src->data, src->len, &pos))) {
		size_t n = strlen(kv) + 1;
		if (!strncmp(kv, SLICE_KEY, strlen(SLICE_KEY)) ||
		    o->len + n > o->cap)
			continue;
		memcpy(o->buf + o->len, kv, n);
		o->len += n;
	}
}

static void kv_slice_keys(struct kv_out *o, const struct slice *s)
{
	kv_put(o, "slice_of", s->tape_id[0] ? s->tape_id : "unknown");
	kv_put(o, "slice_path", s->common.tape);
	if (s->since) {
		kv_put_u64(o, "slice_since", s->since);
		kv_put_time(o, s, "slice_since_time", s->since);
	}
	if (s->until) {
		kv_put_u64(o, "slice_until", s->until);
		kv_put_time(o, s, "slice_until_time", s->until);
	}
	for (size_t i = 0; i < s->npids; i++)
		kv_put_u64(o, "slice_pid", s->pids[i]);
	if (s->tree)
		kv_put(o, "slice_tree", "1");
	if (s->comm)
		kv_put(o, "slice_comm", s->comm);
}

static int write_options(struct slice *s, struct tape_writer *w, uint64_t ts)
{
	struct kv_out o = {.cap = OPTIONS_MAX};
	o.buf = malloc(o.cap);
	if (!o.buf)
		return TAPE_E_NOMEM;
	/* The slice's own keys first: they must fit whatever the source's
	 * options hold. */
	kv_slice_keys(&o, s);
	if (s->options.data)
		kv_copy_source(&o, &s->options);
	int rc = tape_writer_append(w, TT_REC_OPTIONS, ts, o.buf,
				    (uint32_t)o.len);
	free(o.buf);
	return rc;
}

/* The latest anchor moved to TS: the same boot -> wall mapping. */
struct tt_clock slice_meta_carried_clock(const struct tt_clock *c, uint64_t ts)
{
	struct tt_clock k = *c;
	uint64_t delta = ts - c->boottime_ns; /* modulo 2^64: either way */
	k.boottime_ns = ts;
	k.monotonic_ns = c->monotonic_ns + delta;
	k.realtime_ns = c->realtime_ns + delta;
	return k;
}

static int append_noted(struct slice *s, struct tape_writer *w, uint16_t type,
			uint64_t ts, const void *body, uint32_t len)
{
	int rc = tape_writer_append(w, type, ts, body, len);
	if (!rc)
		note_written(s, type, ts, body, len);
	return rc;
}

static int append_all(struct tape_writer *w, uint16_t type, uint64_t ts,
		      const struct slice_bodies *l)
{
	int rc = 0;
	for (size_t i = 0; i < l->n && !rc; i++)
		rc = tape_writer_append(w, type, ts, l->v[i].data, l->v[i].len);
	return rc;
}

struct emit_ctx {
	struct tape_writer *w;
	uint64_t ts;
};

static int emit_proc(const void *body, uint32_t len, void *ctx)
{
	struct emit_ctx *e = ctx;
	return tape_writer_append(e->w, TT_REC_PROC, e->ts, body, len);
}

int slice_write_metadata(struct slice *s, struct tape_writer *w, uint64_t ts)
{
	int rc = 0;
	if (s->host.data)
		rc = tape_writer_append(w, TT_REC_HOST, ts, s->host.data,
					s->host.len);
	if (!rc)
		rc = write_options(s, w, ts);
	if (!rc)
		rc = append_all(w, TT_REC_PROBE, ts, &s->probes);
	if (!rc && s->have_clock) {
		struct tt_clock k = slice_meta_carried_clock(&s->clock, ts);
		rc = append_noted(s, w, TT_REC_CLOCK, ts, &k, sizeof(k));
	}
	if (!rc && s->have_load)
		rc = append_noted(s, w, TT_REC_LOADAVG, ts, &s->load,
				  sizeof(s->load));
	struct emit_ctx e = {w, ts};
	if (!rc)
		rc = slice_procs_snapshot(s->procs, emit_proc, &e);
	if (!rc)
		rc = append_all(w, TT_REC_MOUNT, ts, &s->mounts);
	if (!rc)
		rc = append_all(w, TT_REC_USER, ts, &s->users);
	return rc;
}
