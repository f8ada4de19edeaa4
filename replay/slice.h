/* SPDX-License-Identifier: MIT */
/*
 * slice.h - the process table of `tracetape slice` (replay/slice_procs.c):
 * which processes a slice keeps, and the TT_REC_PROC snapshot it writes
 * at the start of each of its segments.
 *
 * The table holds every process known alive as a TT_REC_PROC body, kept
 * up to date from the source's snapshots and its fork, exec and exit
 * records.  A process is kept when -p named it, or, with --tree, when
 * one of its ancestors is kept (by the ppid links of the snapshots and
 * the forks read so far).
 */
#ifndef REPLAY_SLICE_H
#define REPLAY_SLICE_H

#include "replay.h"
#include "when.h"

#define SLICE_PIDS_MAX 64
/* The format library's smallest segment size (--segment-size). */
#define SLICE_SEGMENT_MIN (64u << 10)

struct slice_procs;

/* PIDS (NPIDS of them, 0 = no pid filter), TREE: --tree, COMM: --comm
 * or NULL.  NULL when out of memory. */
struct slice_procs *slice_procs_new(const uint32_t *pids, size_t npids,
				    bool tree, const char *comm);
void slice_procs_free(struct slice_procs *sp);

/* A new snapshot begins (a source segment's metadata): processes it
 * does not list are gone once slice_procs_snapshot_end() is called. */
void slice_procs_snapshot_begin(struct slice_procs *sp);
void slice_procs_snapshot_end(struct slice_procs *sp);

/* Take in a record: TT_REC_PROC, FORK, EXEC, EXIT; others are ignored.
 * Returns -1 when out of memory. */
int slice_procs_update(struct slice_procs *sp, const struct tape_record *rec);

/* Whether the slice keeps the events of process PID (pid filter only). */
bool slice_procs_keeps(struct slice_procs *sp, uint32_t pid);

/*
 * Call EMIT with a TT_REC_PROC body for each process alive that the
 * slice keeps (pid and comm filters), and for each of their ancestors,
 * in pid order.  A non-zero EMIT result stops and is returned.
 */
int slice_procs_snapshot(struct slice_procs *sp,
			 int (*emit)(const void *body, uint32_t len, void *ctx),
			 void *ctx);

/* ---- the slice being written (replay/slice.c, slice_meta.c) -------- */

/* A copied record body. */
struct slice_body {
	void *data;
	uint32_t len;
};

/* A list of bodies: the probes, mounts or users of the latest snapshot. */
struct slice_bodies {
	struct slice_body *v;
	size_t n, cap;
	bool fresh; /* a new source segment began: the next one replaces */
};

struct slice {
	/* options */
	struct replay_common common;
	const char *out;
	uint32_t pids[SLICE_PIDS_MAX];
	size_t npids;
	bool tree;
	const char *comm;
	uint64_t segment_size; /* 0 = as the source */

	/* the source */
	struct replay_when_ctx when;
	uint64_t since, until; /* boot ns, 0 = open */
	uint64_t read_from;    /* start of the segment holding since */
	char tape_id[33];      /* hex, "" = unknown */
	char *src_segment_size;

	/* what the source's metadata said last */
	struct slice_body host, options;
	struct slice_bodies probes, mounts, users;
	bool have_clock, have_load;
	struct tt_clock clock;
	struct tt_loadavg load;
	bool in_phase; /* reading a source segment's metadata */
	uint32_t phase_seg;
	struct slice_procs *procs;

	/* the slice */
	struct tape_writer *w;
	bool started;	  /* the writer is open (start_slice) */
	uint64_t next_ts; /* time of the metadata of the next segment */
	struct slice_body last_clock, last_load; /* as written, with ts */
	uint64_t last_clock_ts, last_load_ts;
	uint64_t written, events, losses;
};

/* The options (replay/slice_opts.c): 0, or a usage error's exit code. */
int slice_parse_args(struct slice *s, int argc, char **argv,
		     const struct replay_env *env);
void slice_usage(FILE *f);

/* OUT must be new or an empty directory: 0, or an exit code after
 * saying so. */
int slice_check_out(const struct slice *s, const struct replay_env *env);

/* After the options: read what the window needs from the source (its
 * start, first anchor, segments, tape id).  0 or an exit code. */
int slice_prepare(struct slice *s, const struct replay_env *env);
void slice_free(struct slice *s);

/* Take in a source record (any, in or before the window): metadata,
 * processes.  -1 when out of memory. */
int slice_meta_take(struct slice *s, const struct tape_record *rec);

/* TYPE is metadata a segment opens with (TT_REC_SEGMENT .. USER, clock
 * anchors and load samples included). */
bool slice_meta_type(uint16_t type);

/* REC is part of a source segment's opening metadata. */
bool slice_meta_in_phase(const struct slice *s, const struct tape_record *rec);

/* The source segment's metadata is over (before the slice starts). */
void slice_meta_phase_end(struct slice *s);

/* REC (a clock anchor or load sample) repeats the last one written. */
bool slice_meta_is_repeat(struct slice *s, const struct tape_record *rec);

/* Anchor C moved to boot time TS: the same boot -> wall mapping. */
struct tt_clock slice_meta_carried_clock(const struct tt_clock *c, uint64_t ts);

/* Write the metadata of a new segment of the slice, at time TS. */
int slice_write_metadata(struct slice *s, struct tape_writer *w, uint64_t ts);

#endif /* REPLAY_SLICE_H */
