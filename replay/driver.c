/* SPDX-License-Identifier: MIT */
/*
 * driver.c - the loop every analysis shares: open the tape, find its
 * start and first clock anchor, turn --since/--until into boot time,
 * stream records through the shared state to the analysis, then report
 * losses and damage in the window.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "when.h"

/* Metadata sits at a segment's start; give up looking for an anchor
 * after this many records. */
#define PRESCAN_RECORDS 100000

struct tape_reader *replay_open_reader(const char *path,
				       const struct tape_reader_opts *opts,
				       const struct replay_env *env)
{
	struct tape_reader *r = NULL;
	char err[TAPE_ERRLEN] = "";
	int rc = tape_reader_open(&r, path, opts, err);
	if (rc >= 0 && r)
		return r;
	if (!err[0])
		snprintf(err, sizeof(err), "%s: %s", path, tape_strerror(rc));
	if (strstr(err, path))
		fprintf(env->err, "%s: %s\n", env->prog, err);
	else
		fprintf(env->err, "%s: %s: %s\n", env->prog, path, err);
	return NULL;
}

static void read_error(struct tape_reader *r, const char *path,
		       const struct replay_env *env)
{
	const char *msg = tape_reader_error(r);
	if (!msg || !*msg)
		msg = "cannot read on";
	if (strstr(msg, path))
		fprintf(env->err, "%s: %s\n", env->prog, msg);
	else
		fprintf(env->err, "%s: %s: %s\n", env->prog, path, msg);
}

/*
 * Where reading may start for a window beginning at SINCE: the start of
 * the last segment that begins at or before it.  Every segment opens
 * with the metadata that rebuilds the shared state (clock anchor,
 * process and user snapshots), so earlier segments can be skipped
 * without losing it, and a late window does not read the whole tape.
 */
static uint64_t seek_start(struct tape_reader *r, uint64_t since)
{
	const struct tape_segment_info *s;
	size_t n = tape_reader_segments(r, &s);
	uint64_t start = 0;
	for (size_t i = 0; since && i < n; i++)
		if (s[i].first_ts && s[i].first_ts <= since &&
		    s[i].first_ts > start)
			start = s[i].first_ts;
	return start;
}

/* The first records: the tape's start and its first clock anchor. */
static int prescan(const struct replay_common *c, const struct replay_env *env,
		   void (*on_record)(const struct tape_record *, void *),
		   void *ctx, struct replay_plan *p, struct tape_reader **out)
{
	struct tape_reader_opts o = {.sz = sizeof(o)};
	struct tape_reader *r = replay_open_reader(c->tape, &o, env);
	if (!r)
		return REPLAY_EXIT_TROUBLE;
	struct tape_record rec;
	int rc;
	for (long n = 0; n < PRESCAN_RECORDS; n++) {
		rc = tape_reader_next(r, &rec);
		if (rc <= 0)
			break;
		if (!n)
			p->when.tape_start_ts = rec.ts;
		if (on_record)
			on_record(&rec, ctx);
		if (rec.type == TT_REC_CLOCK &&
		    replay_clock_from_record(&rec, &p->when.clock))
			break;
	}
	if (rc < 0) {
		read_error(r, c->tape, env);
		tape_reader_close(r);
		return REPLAY_EXIT_TROUBLE;
	}
	*out = r;
	return 0;
}

static int parse_window(const struct replay_common *c,
			const struct replay_env *env, struct replay_plan *p)
{
	const struct replay_when_ctx *w = &p->when;
	const char *why = NULL;
	if (c->since && replay_parse_when(c->since, w, &p->since_ts, &why))
		return replay_usage_error(env, c->analysis, "--since %s: %s",
					  c->since, why);
	if (c->until && replay_parse_when(c->until, w, &p->until_ts, &why))
		return replay_usage_error(env, c->analysis, "--until %s: %s",
					  c->until, why);
	if (c->duration_ns) {
		uint64_t start = p->since_ts ? p->since_ts : w->tape_start_ts;
		uint64_t end = start + c->duration_ns;
		if (!p->until_ts || end < p->until_ts)
			p->until_ts = end;
	}
	if (p->since_ts && p->until_ts && p->until_ts < p->since_ts)
		return replay_usage_error(env, c->analysis,
					  "--until %s is before --since %s",
					  c->until, c->since);
	return 0;
}

int replay_plan(const struct replay_common *c, const struct replay_env *env,
		void (*on_record)(const struct tape_record *rec, void *ctx),
		void *ctx, struct replay_plan *p)
{
	struct tape_reader *r = NULL;
	const struct tape_segment_info *s;
	int rc;

	memset(p, 0, sizeof(*p));
	p->when.utc = c->utc;
	rc = prescan(c, env, on_record, ctx, p, &r);
	if (rc)
		return rc;
	rc = parse_window(c, env, p);
	if (!rc) {
		p->read_from = seek_start(r, p->since_ts);
		if (tape_reader_segments(r, &s) && s[0].have_tape_id)
			for (int i = 0; i < 16; i++)
				snprintf(p->tape_id + 2 * i, 3, "%02x",
					 s[0].tape_id[i]);
	}
	tape_reader_close(r);
	return rc;
}

static bool before_window(const struct replay *rp, uint64_t ts)
{
	return rp->since_ts && ts < rp->since_ts;
}

static bool after_window(const struct replay *rp, uint64_t ts)
{
	return rp->until_ts && ts > rp->until_ts;
}

/* ---- warnings ---------------------------------------------------- */

static void warn_losses_text(struct replay *rp, const struct replay_env *env)
{
	struct replay_state *st = rp->state;
	uint64_t lost = replay_state_lost(st);
	if (!lost)
		return;
	const struct replay_loss *l;
	size_t n = replay_state_losses(st, &l);
	fprintf(env->err,
		"%s: warning: %" PRIu64 " events were lost while recording "
		"inside this window (ring buffer full); the output above "
		"misses them:\n",
		env->prog, lost);
	for (size_t i = 0; i < n; i++) {
		char from[REPLAY_ISO_LEN], to[REPLAY_ISO_LEN];
		replay_fmt_iso(rp, l[i].since_ts ? l[i].since_ts : l[i].ts,
			       from);
		replay_fmt_iso(rp, l[i].ts, to);
		fprintf(env->err,
			"%s: warning:   %" PRIu64 " lost on CPU %" PRIu32
			" between %s and %s\n",
			env->prog, l[i].count, l[i].cpu, from, to);
	}
	uint64_t more = replay_state_loss_records(st) - n;
	if (more)
		fprintf(env->err,
			"%s: warning:   and %" PRIu64 " more loss records "
			"(tracetape dump --json lists them all)\n",
			env->prog, more);
}

static void warn_losses_json(struct replay *rp)
{
	const struct replay_loss *l;
	size_t n = replay_state_losses(rp->state, &l);
	for (size_t i = 0; i < n; i++) {
		struct replay_json j;
		replay_json_begin(&j, rp->out);
		replay_json_str(&j, "type", "warning");
		replay_json_str(&j, "warning", "loss");
		replay_json_time(&j, rp, l[i].ts);
		replay_json_uint(&j, "cpu", l[i].cpu);
		replay_json_uint(&j, "count", l[i].count);
		replay_json_uint(&j, "since_ts_ns", l[i].since_ts);
		replay_json_end(&j);
	}
	uint64_t more = replay_state_loss_records(rp->state) - n;
	if (more) {
		struct replay_json j;
		replay_json_begin(&j, rp->out);
		replay_json_str(&j, "type", "warning");
		replay_json_str(&j, "warning", "loss");
		replay_json_uint(&j, "count", replay_state_lost(rp->state));
		replay_json_uint(&j, "more_records", more);
		replay_json_end(&j);
	}
}

bool replay_damage_in_window(const struct replay *rp,
			     const struct tape_damage *d)
{
	if (!d->first_ts && !d->last_ts)
		return true;
	if (rp->until_ts && d->first_ts > rp->until_ts)
		return false;
	if (rp->since_ts && d->last_ts && d->last_ts < rp->since_ts)
		return false;
	return true;
}

static void warn_damage_one(struct replay *rp, const struct replay_env *env,
			    const struct tape_damage *d, bool json)
{
	char from[REPLAY_ISO_LEN] = "", to[REPLAY_ISO_LEN] = "";
	if (d->first_ts)
		replay_fmt_iso(rp, d->first_ts, from);
	if (d->last_ts)
		replay_fmt_iso(rp, d->last_ts, to);
	if (json) {
		struct replay_json j;
		replay_json_begin(&j, rp->out);
		replay_json_str(&j, "type", "warning");
		replay_json_str(&j, "warning", "damage");
		replay_json_damage(&j, d);
		replay_json_str(&j, "first_time", from);
		replay_json_str(&j, "last_time", to);
		replay_json_str(&j, "what", d->what);
		replay_json_end(&j);
		return;
	}
	/* The reader's message already names the chunk and offset. */
	fprintf(env->err, "%s: warning: damaged tape: ", env->prog);
	replay_text_write(env->err, d->segment);
	fputs(": ", env->err);
	replay_text_write(env->err, d->what);
	if (from[0] && to[0])
		fprintf(env->err, " [%s .. %s]", from, to);
	fputs("; the output misses what was there", env->err);
	fputc('\n', env->err);
}

static void warn_damage(struct replay *rp, const struct replay_env *env,
			bool json)
{
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	for (size_t i = 0; i < n; i++) {
		if (!replay_damage_in_window(rp, &d[i]))
			continue;
		warn_damage_one(rp, env, &d[i], false);
		if (json)
			warn_damage_one(rp, env, &d[i], true);
	}
}

/* ---- the loop ---------------------------------------------------- */

/*
 * Not one record and not one segment header readable: this is no tape
 * to replay (a tape whose chunks are all damaged still is one: the
 * damage warning says what was lost; with REPLAY_F_NEED_RECORDS it is
 * trouble too).
 */
static bool nothing_readable(struct replay *rp, const struct replay_env *env,
			     uint64_t records, unsigned flags)
{
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	if (records || !n)
		return false;
	const struct tape_segment_info *s;
	size_t ns = tape_reader_segments(rp->reader, &s);
	for (size_t i = 0; i < ns && !(flags & REPLAY_F_NEED_RECORDS); i++)
		if (s[i].version_major)
			return false;
	fprintf(env->err, "%s: %s: no readable records: ", env->prog, rp->tape);
	replay_text_write(env->err, d[0].segment);
	fputs(": ", env->err);
	replay_text_write(env->err, d[0].what);
	fputs(" (tracetape verify lists all damage)\n", env->err);
	return true;
}

/* Call the analysis' start hook once, before its first record. */
static int start_once(struct replay *rp, const struct replay_ops *ops,
		      bool *started)
{
	if (*started)
		return 0;
	*started = true;
	return ops->start ? ops->start(rp, ops->ctx) : 0;
}

/*
 * Stream the records.  Returns 0 (also after REPLAY_STOP), a non-zero
 * callback result, or -1 when reading failed (the error is printed).
 * *STARTED tells whether the analysis began printing (so finish must
 * run).
 */
static int stream(struct replay *rp, const struct replay_ops *ops,
		  const struct replay_env *env, bool *started)
{
	bool ordered = !(ops->flags & REPLAY_F_FILE_ORDER);
	struct tape_record rec;
	uint64_t records = 0;
	int rc, stop;
	while ((rc = tape_reader_next(rp->reader, &rec)) > 0) {
		records++;
		bool late = after_window(rp, rec.ts);
		if (ordered && late)
			break;
		bool in = !late && !before_window(rp, rec.ts);
		replay_state_update(rp->state, &rec, in);
		if (!in || !ops->on_record)
			continue;
		if ((stop = start_once(rp, ops, started)) ||
		    (stop = ops->on_record(rp, &rec, ops->ctx)))
			return stop == REPLAY_STOP ? 0 : stop;
	}
	if (rc < 0) {
		read_error(rp->reader, rp->tape, env);
		return -1;
	}
	/* verify judges damage itself */
	if (!(ops->flags & REPLAY_F_NO_WARNINGS) &&
	    nothing_readable(rp, env, records, ops->flags))
		return -1;
	return start_once(rp, ops, started);
}

static void warn_all(struct replay *rp, const struct replay_common *c,
		     const struct replay_ops *ops, const struct replay_env *env)
{
	if (ops->flags & REPLAY_F_NO_WARNINGS)
		return;
	bool json_warn = c->json && !(ops->flags & REPLAY_F_NO_JSON_WARNINGS);
	if (json_warn)
		warn_losses_json(rp);
	warn_losses_text(rp, env);
	warn_damage(rp, env, json_warn);
}

/* Stream, finish, warn: the exit code. */
static int replay_records(struct replay *rp, const struct replay_common *c,
			  const struct replay_ops *ops,
			  const struct replay_env *env)
{
	bool started = false;
	int rc = REPLAY_EXIT_OK;
	int streamed = stream(rp, ops, env, &started);
	/* Nothing printed yet and reading failed: the error says it all. */
	if (started) {
		int fin = ops->finish ? ops->finish(rp, ops->ctx)
				      : REPLAY_EXIT_OK;
		if (rp->buf)
			replay_buf_flush(rp->buf);
		rc = streamed > 0 ? streamed : fin;
		warn_all(rp, c, ops, env);
	}
	fflush(env->out);
	return streamed < 0 ? REPLAY_EXIT_TROUBLE : rc;
}

int replay_run(const struct replay_common *c, const struct replay_ops *ops,
	       const struct replay_env *env)
{
	struct replay_plan p;
	int rc = replay_plan(c, env, NULL, NULL, &p);
	if (rc)
		return rc;
	struct replay rp = {
		.out = env->out,
		.err = env->err,
		.json = c->json,
		.utc = c->utc,
		.tape = c->tape,
		.tape_start_ts = p.when.tape_start_ts,
		.since_ts = p.since_ts,
		.until_ts = p.until_ts,
	};
	struct tape_reader_opts o = {
		.sz = sizeof(o),
		.since_ts = p.read_from,
		.until_ts = rp.until_ts,
		.file_order = (ops->flags & REPLAY_F_FILE_ORDER) != 0,
	};
	rp.reader = replay_open_reader(c->tape, &o, env);
	if (!rp.reader)
		return REPLAY_EXIT_TROUBLE;
	rp.state = replay_state_new(!(ops->flags & REPLAY_F_NO_PROCS));
	if (ops->flags & REPLAY_F_BUFFERED)
		rp.buf = replay_buf_new(env->out);
	if (!rp.state || (!rp.buf && (ops->flags & REPLAY_F_BUFFERED))) {
		fprintf(env->err, "%s: out of memory\n", env->prog);
		rc = REPLAY_EXIT_TROUBLE;
	} else {
		replay_state_set_first_clock(rp.state, &p.when.clock);
		rc = replay_records(&rp, c, ops, env);
	}
	replay_buf_free(rp.buf);
	replay_state_free(rp.state);
	tape_reader_close(rp.reader);
	return rc;
}
