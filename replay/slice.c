/* SPDX-License-Identifier: MIT */
/*
 * slice.c - `tracetape slice TAPE -o OUT`: a smaller tape holding the
 * events of a time window and of chosen processes, with the metadata
 * each of its segments needs to replay alone, so that it can travel
 * with a bug report.
 *
 * The source is read in time order from the start of the segment that
 * holds the window's start (its metadata rebuilds what was known then).
 * Source metadata (host, options, probes, snapshots) is remembered, not
 * copied: every segment of the slice starts with the metadata as known
 * at that moment (see slice_meta.c), the process snapshot cut down to
 * the kept processes and their ancestors.  Clock anchors and load
 * samples of the window are copied, loss records of the window all of
 * them (a loss is not per process).
 *
 * The writer is opened when the slice starts (at the window's first
 * event, or at its end when it holds none), with first_ts = the slice's
 * start, so its first segment begins at the window's time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slice.h"
#include "state.h"
#include "when.h"

/* Below this --segment-size, chunks are an eighth of a segment. */
#define CHUNKS_FROM (16ull << 20)

/* replay_plan's look at the source's first records: its segment_size
 * option (the slice rotates like its source). */
static void take_segment_size(const struct tape_record *rec, void *ctx)
{
	struct slice *s = ctx;
	if (rec->type == TT_REC_OPTIONS && !s->src_segment_size) {
		const char *v = tape_rec_kv(rec, "segment_size");
		s->src_segment_size = strdup(v ? v : "");
	}
}

int slice_prepare(struct slice *s, const struct replay_env *env)
{
	struct replay_plan p;
	int rc = replay_plan(&s->common, env, take_segment_size, s, &p);
	if (rc)
		return rc;
	s->when = p.when;
	s->since = p.since_ts;
	s->until = p.until_ts;
	s->read_from = p.read_from;
	memcpy(s->tape_id, p.tape_id, sizeof(s->tape_id));
	uint64_t v;
	if (!s->segment_size && s->src_segment_size &&
	    replay_parse_u64(s->src_segment_size, &v) == 0 &&
	    v >= SLICE_SEGMENT_MIN)
		s->segment_size = v;
	s->procs = slice_procs_new(s->pids, s->npids, s->tree, s->comm);
	if (!s->procs) {
		fprintf(env->err, "%s: out of memory\n", env->prog);
		return REPLAY_EXIT_TROUBLE;
	}
	return 0;
}

/* ---- writing ----------------------------------------------------- */

static int on_segment_start(struct tape_writer *w, void *ctx)
{
	struct slice *s = ctx;
	return slice_write_metadata(s, w, s->next_ts);
}

static int writer_failed(struct slice *s, const struct replay_env *env)
{
	fprintf(env->err, "%s slice: %s\n", env->prog, tape_writer_error(s->w));
	return REPLAY_EXIT_TROUBLE;
}

/* Open the slice: its first segment starts at the window's start (or
 * the source's, when later), with the metadata known then. */
static int start_slice(struct slice *s, const struct replay_env *env)
{
	uint64_t ts = s->since > s->when.tape_start_ts ? s->since
						       : s->when.tape_start_ts;
	struct tape_writer_opts wo = {
		.sz = sizeof(wo),
		.segment_size = s->segment_size,
		/* segments rotate between chunks: several chunks each */
		.chunk_size = s->segment_size && s->segment_size < CHUNKS_FROM
				      ? (uint32_t)(s->segment_size / 8)
				      : 0,
		.on_segment_start = on_segment_start,
		.ctx = s,
		.first_ts = ts,
	};
	char err[TAPE_ERRLEN] = "";

	slice_meta_phase_end(s);
	s->started = true;
	s->next_ts = ts;
	if (tape_writer_open(&s->w, s->out, &wo, err) < 0) {
		fprintf(env->err, "%s slice: %s\n", env->prog, err);
		return REPLAY_EXIT_TROUBLE;
	}
	return 0;
}

/* Append REC to the slice (starting it first if need be). */
static int put(struct slice *s, const struct tape_record *rec,
	       const struct replay_env *env)
{
	int rc;
	if (!s->started && (rc = start_slice(s, env)))
		return rc;
	if (slice_meta_is_repeat(s, rec))
		return 0;
	s->next_ts = rec->ts;
	if (tape_writer_append(s->w, rec->type, rec->ts, rec->body, rec->len) <
	    0)
		return writer_failed(s, env);
	s->written++;
	if (rec->type < TT_REC_HOST)
		s->events++;
	else if (rec->type == TT_REC_LOSS)
		s->losses++;
	return 0;
}

/* ---- choosing ---------------------------------------------------- */

static bool comm_ok(const struct slice *s, const struct tt_task *t)
{
	return !s->comm || strncmp(t->comm, s->comm, TT_COMM_LEN) == 0;
}

/* An event record: does the slice keep it? */
static bool keep_event(struct slice *s, const struct tape_record *rec)
{
	const struct tt_task *t = replay_record_task(rec);
	if (!t)
		return !s->npids && !s->comm; /* whose it is, unknown */
	if (!comm_ok(s, t))
		return false;
	if (!s->npids || slice_procs_keeps(s->procs, t->pid))
		return true;
	if (rec->type == TT_REC_FORK && rec->len >= sizeof(struct tt_fork)) {
		struct tt_fork f;
		tape_rec_fixed(rec, &f, sizeof(f));
		return slice_procs_keeps(s->procs, f.child_pid);
	}
	return false;
}

/* What to do with REC once the state has taken it in. */
static int route(struct slice *s, const struct tape_record *rec,
		 const struct replay_env *env)
{
	switch (rec->type) {
	case TT_REC_SEGMENT:
	case TT_REC_HOST:
	case TT_REC_OPTIONS:
	case TT_REC_PROBE:
	case TT_REC_PROC:
	case TT_REC_MOUNT:
	case TT_REC_USER:
		return 0; /* each segment of the slice writes its own */
	case TT_REC_CLOCK:
	case TT_REC_LOADAVG:
		/* Before the slice starts, its metadata carries them. */
		if (!s->started)
			return 0;
		return put(s, rec, env);
	case TT_REC_LOSS:
		return put(s, rec, env);
	}
	if (rec->type >= TT_REC_HOST)
		return put(s, rec, env); /* newer metadata: keep it */
	return keep_event(s, rec) ? put(s, rec, env) : 0;
}

/*
 * With --until, end the slice at END (the window's end, or the source's
 * when it ends first) with the clock anchor and load sample in force
 * then: analyses that print the window's end (filetop's heading, info's
 * span) see the window whole, not only up to its last event.
 */
static int close_window(struct slice *s, uint64_t end,
			const struct replay_env *env)
{
	if (!s->until || !end)
		return 0;
	struct tape_record rec = {.ts = end};
	struct tt_clock k;
	int rc = 0;
	if (s->have_clock) {
		k = slice_meta_carried_clock(&s->clock, end);
		rec.type = TT_REC_CLOCK;
		rec.body = &k;
		rec.len = sizeof(k);
		rc = put(s, &rec, env);
	}
	if (!rc && s->have_load) {
		rec.type = TT_REC_LOADAVG;
		rec.body = &s->load;
		rec.len = sizeof(s->load);
		rc = put(s, &rec, env);
	}
	return rc;
}

static bool in_window(const struct slice *s, uint64_t ts)
{
	return !(s->since && ts < s->since) && !(s->until && ts > s->until);
}

/* ---- the run ----------------------------------------------------- */

static int stream(struct slice *s, struct tape_reader *r,
		  const struct replay_env *env)
{
	struct tape_record rec;
	uint64_t last_ts = 0;
	int rc;
	while ((rc = tape_reader_next(r, &rec)) > 0) {
		if (s->until && rec.ts > s->until)
			break; /* rc 1: the source goes on past the window */
		last_ts = rec.ts > last_ts ? rec.ts : last_ts;
		if (slice_meta_take(s, &rec) < 0) {
			fprintf(env->err, "%s slice: out of memory\n",
				env->prog);
			return REPLAY_EXIT_TROUBLE;
		}
		if (!in_window(s, rec.ts))
			continue;
		/* The slice's first metadata shows the state at its start:
		 * once the source's metadata before the first event of
		 * the window is taken in, not later. */
		if (!s->started && !slice_meta_type(rec.type) &&
		    (rc = start_slice(s, env)))
			return rc;
		if ((rc = route(s, &rec, env)))
			return rc;
	}
	if (rc < 0) {
		fprintf(env->err, "%s slice: %s: %s\n", env->prog,
			s->common.tape, tape_reader_error(r));
		return REPLAY_EXIT_TROUBLE;
	}
	if (!s->started && (rc = start_slice(s, env)))
		return rc;
	return close_window(s, rc > 0 ? s->until : last_ts, env);
}

/* Damage of the source inside the window, on stderr: how many. */
static size_t report_damage(struct slice *s, struct tape_reader *r,
			    const struct replay_env *env)
{
	struct replay rp = {.since_ts = s->since, .until_ts = s->until};
	const struct tape_damage *d;
	size_t n = tape_reader_damage(r, &d), found = 0;
	for (size_t i = 0; i < n; i++) {
		if (!replay_damage_in_window(&rp, &d[i]))
			continue;
		found++;
		fprintf(env->err,
			"%s slice: warning: damaged source: ", env->prog);
		replay_text_write(env->err, d[i].segment);
		fputs(": ", env->err);
		replay_text_write(env->err, d[i].what);
		fprintf(env->err,
			"; the slice misses what was there (%" PRIu64
			" records known lost)\n",
			d[i].records_lost);
	}
	return found;
}

/* Bytes of the files in directory DIR. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	uint64_t sum = 0;
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d)))
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	if (d)
		closedir(d);
	return sum;
}

static void summary(const struct slice *s, uint32_t segments,
		    const struct replay_env *env)
{
	fprintf(env->out,
		"%s: %" PRIu64 " events, %" PRIu64 " loss records, %" PRIu32
		" segments, %" PRIu64 " bytes\n",
		s->out, s->events, s->losses, segments, dir_bytes(s->out));
}

static int slice_run(struct slice *s, const struct replay_env *env)
{
	struct tape_reader_opts o = {
		.sz = sizeof(o), .since_ts = s->read_from,
		/* no until_ts: the first record past the window tells that
		 * the source goes on (close_window) */
	};
	struct tape_reader *r = replay_open_reader(s->common.tape, &o, env);
	if (!r)
		return REPLAY_EXIT_TROUBLE;
	int rc = stream(s, r, env);
	if (s->w) {
		struct tape_writer_stats st;
		tape_writer_stats(s->w, &st);
		if (tape_writer_close(s->w) < 0 && !rc) {
			fprintf(env->err,
				"%s slice: %s: closing the slice failed\n",
				env->prog, s->out);
			rc = REPLAY_EXIT_TROUBLE;
		}
		if (!rc)
			summary(s, st.segments, env);
	}
	if (report_damage(s, r, env) && !rc)
		rc = REPLAY_EXIT_FINDINGS;
	tape_reader_close(r);
	return rc;
}

int slice_main(int argc, char **argv, const struct replay_env *env)
{
	struct slice *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(env->err, "%s: out of memory\n", env->prog);
		return REPLAY_EXIT_TROUBLE;
	}
	int rc = slice_parse_args(s, argc, argv, env);
	if (!rc && s->common.help)
		slice_usage(env->out);
	else if (!rc && !(rc = slice_check_out(s, env)))
		rc = slice_prepare(s, env);
	if (!rc && !s->common.help)
		rc = slice_run(s, env);
	slice_free(s);
	return rc;
}
