/* SPDX-License-Identifier: MIT */
/*
 * replay.h - the analyzer framework: the interface every analysis
 * implements and the shared state the driver keeps for them.
 *
 * An analysis is one file, replay/<name>.c, with one entry point listed
 * in the command table of replay/main.c:
 *
 *     int opensnoop_main(int argc, char **argv, const struct replay_env *env);
 *
 * The entry point parses its own options with getopt_long(), letting
 * replay_common_option() take the options every analysis shares
 * (--json --since --until --utc --help), then hands the driver a
 * struct replay_ops: a per-record callback and a finish function.  The
 * driver opens the tape, keeps the shared state up to date (processes,
 * users, clock, losses, damage), calls the callback for every record in
 * the time window, calls finish, prints loss and damage warnings and
 * returns the exit code.
 *
 *     static int on_record(struct replay *rp, const struct tape_record *rec,
 *                          void *ctx) { ... return 0; }
 *     ...
 *     struct replay_ops ops = { .on_record = on_record, .ctx = &my };
 *     return replay_run_main(&common, argc, argv, "opensnoop", usage,
 *                            &ops, env);    (--help, TAPE, replay_run)
 *
 * All output goes to env->out (results) and env->err (warnings, errors),
 * so tests capture it with open_memstream().  An analysis that keeps
 * state per name (path, argv, pid) uses the map in strmap.h.
 *
 * This header is append-only: other analyses are written against it.
 */
#ifndef REPLAY_H
#define REPLAY_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tape.h"
#include "tt_events.h"

/* Exit codes of tracetape (docs/tracetape.1). */
enum {
	REPLAY_EXIT_OK = 0,
	REPLAY_EXIT_FINDINGS = 1, /* verify: damaged; diff: differences */
	REPLAY_EXIT_TROUBLE = 2,  /* bad usage, unreadable tape */
};

/* Where an analysis writes.  Passed to every entry point. */
struct replay_env {
	FILE *out;	  /* results (stdout) */
	FILE *err;	  /* warnings and errors (stderr) */
	const char *prog; /* "tracetape", for messages */
};

/* ------------------------------------------------------------------ */
/* Command table                                                        */

typedef int (*replay_entry_fn)(int argc, char **argv,
			       const struct replay_env *env);

struct replay_command {
	const char *name;      /* "opensnoop" */
	const char *summary;   /* one line for `tracetape --help` */
	replay_entry_fn entry; /* argv[0] is the analysis name */
};

/* Entry points (one per replay/<name>.c). */
int dump_main(int argc, char **argv, const struct replay_env *env);
int info_main(int argc, char **argv, const struct replay_env *env);
int verify_main(int argc, char **argv, const struct replay_env *env);
int opensnoop_main(int argc, char **argv, const struct replay_env *env);
int execsnoop_main(int argc, char **argv, const struct replay_env *env);
int bashreadline_main(int argc, char **argv, const struct replay_env *env);
int filetop_main(int argc, char **argv, const struct replay_env *env);
int filelife_main(int argc, char **argv, const struct replay_env *env);
int history_main(int argc, char **argv, const struct replay_env *env);
int diff_main(int argc, char **argv, const struct replay_env *env);

/* ------------------------------------------------------------------ */
/* Common options                                                       */

struct replay_common {
	const char *tape;     /* first positional argument */
	const char *since;    /* --since as given, NULL if absent */
	const char *until;    /* --until as given */
	bool json;	      /* --json: one JSON object per line */
	bool utc;	      /* --utc: times in UTC, not the host's zone */
	bool help;	      /* --help was given */
	const char *analysis; /* set by replay_common_finish(), for messages */
	uint64_t duration_ns; /* > 0: the window ends this long after its
				 start (opensnoop -d); set by the analysis */
};

/* Option codes of the common long options (outside the char range). */
enum {
	REPLAY_OPT_JSON = 0x1000,
	REPLAY_OPT_SINCE,
	REPLAY_OPT_UNTIL,
	REPLAY_OPT_UTC,
	REPLAY_OPT_HELP,
};

/* Put these first in an analysis' struct option array. */
#define REPLAY_COMMON_LONGOPTS                                                 \
	{"json", no_argument, NULL, REPLAY_OPT_JSON},                          \
		{"since", required_argument, NULL, REPLAY_OPT_SINCE},          \
		{"until", required_argument, NULL, REPLAY_OPT_UNTIL},          \
		{"utc", no_argument, NULL, REPLAY_OPT_UTC},                    \
	{                                                                      \
		"help", no_argument, NULL, REPLAY_OPT_HELP                     \
	}

/* Text for an analysis' --help listing the common options. */
extern const char replay_common_help[];

/*
 * Reset getopt for a new parse (entry points may run several times in
 * one process, as in the tests).  Call before the getopt_long() loop.
 */
void replay_getopt_reset(void);

/*
 * Take OPT (a getopt_long() result) if it is a common option (-h counts
 * as --help where the analysis' optstring lists it).  Returns 1 when
 * taken, 0 when not a common option.
 */
int replay_common_option(struct replay_common *c, int opt, const char *arg);

/*
 * After the getopt loop: take the TAPE positional (argv[optind]).
 * Returns 0, or prints a usage error naming the analysis to env->err
 * and returns REPLAY_EXIT_TROUBLE (no TAPE, or extra arguments).
 */
int replay_common_finish(struct replay_common *c, int argc, char **argv,
			 const char *analysis, const struct replay_env *env);

/*
 * The whole option parse of an analysis with no options of its own:
 * the common ones and -h.  Returns 0 or a usage error's exit code.
 */
int replay_common_args(struct replay_common *c, int argc, char **argv,
		       const char *analysis, const struct replay_env *env);

/*
 * How most entry points end, after their getopt loop: with --help print
 * USAGE to env->out and return REPLAY_EXIT_OK; else take TAPE
 * (replay_common_finish) and return replay_run(C, OPS, ENV).
 */
struct replay_ops;
int replay_run_main(struct replay_common *c, int argc, char **argv,
		    const char *analysis, void (*usage)(FILE *out),
		    const struct replay_ops *ops, const struct replay_env *env);

/*
 * Print "tracetape ANALYSIS: MESSAGE ... see tracetape ANALYSIS --help"
 * to env->err and return REPLAY_EXIT_TROUBLE.  For bad option values.
 */
int replay_usage_error(const struct replay_env *env, const char *analysis,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The usage error for a getopt_long() result no case took: ':' (a value
 * is missing; start the optstring with ':') or anything else (an
 * unknown option).  Printed as by replay_usage_error(), naming the
 * argument; returns REPLAY_EXIT_TROUBLE.
 */
int replay_option_error(const struct replay_env *env, const char *analysis,
			int opt, char **argv);

/* Parse a whole decimal number into *out; 0 or -1 (not a number). */
int replay_parse_u64(const char *s, uint64_t *out);

/* Like replay_parse_u64() for a number from LO to HI (a pid, a uid, a
 * count); -1 leaves *OUT alone. */
int replay_parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* ------------------------------------------------------------------ */
/* Shared state                                                         */

/* What the driver knows about one process. */
struct replay_proc {
	uint32_t pid;
	uint32_t ppid;		/* 0 = unknown */
	uint32_t uid;		/* (uint32_t)-1 = unknown */
	char comm[TT_COMM_LEN]; /* NUL-terminated */
	char *exe;		/* NULL = unknown; heap, owned by the table */
	char *args;		/* argv joined with spaces, NULL = unknown;
				   at most REPLAY_PROC_ARGS_MAX bytes */
	uint64_t start_ts; /* boot ns, 0 = unknown (alive before the tape) */
	uint64_t exit_ts;  /* boot ns of the exit record, 0 = still alive */
	int32_t exit_code; /* wait(2) status when exit_ts != 0 */
	uint64_t seen_ts;  /* boot ns of the last record naming this pid */
};

#define REPLAY_PROC_ARGS_MAX 1024

/* A clock anchor in force: boot ns -> wall clock. */
struct replay_clock {
	uint64_t boottime_ns;
	uint64_t realtime_ns;
	int32_t utc_offset; /* seconds east of UTC on the recording host */
	bool valid;	    /* false: the tape has no anchor at all */
};

/* One loss record inside the replayed window. */
struct replay_loss {
	uint64_t ts;	   /* when the recorder noticed */
	uint64_t since_ts; /* start of the interval the count covers */
	uint64_t count;
	uint32_t cpu;
};

struct replay_state;

/*
 * The replay in progress, as an analysis sees it.  Fields are read-only
 * for analyses.
 */
struct replay {
	FILE *out;
	FILE *err;
	bool json;
	bool utc;
	const char *tape;	/* path as given */
	uint64_t tape_start_ts; /* boot ns of the tape's first record */
	uint64_t since_ts;	/* window in boot ns; 0 = open */
	uint64_t until_ts;
	struct tape_reader *reader;
	struct replay_state *state; /* private to the driver */
	struct replay_buf *buf;	    /* over out, with REPLAY_F_BUFFERED */
};

/*
 * The process PID as known at the current record, or NULL.  The
 * pointer is valid until the next callback.
 */
const struct replay_proc *replay_proc_get(struct replay *rp, uint32_t pid);

/* User name of UID from the tape's TT_REC_USER records, or NULL. */
const char *replay_user_name(struct replay *rp, uint32_t uid);

/* The clock anchor that maps TS (nearest preceding, else the first). */
struct replay_clock replay_clock_at(struct replay *rp, uint64_t ts);

/* Total lost events and loss records seen in the window so far. */
uint64_t replay_lost_events(const struct replay *rp);

/*
 * The last TT_REC_LOADAVG sample read before the window began: records
 * before --since reach the shared state, not the analysis.  False when
 * there was none.  Reading starts at the segment holding the window's
 * start and segment metadata carries no sample, so a window starting
 * within one recorder sampling period (1 s) of a segment start misses
 * the sample taken at the end of the previous segment.
 */
bool replay_loadavg_before_window(const struct replay *rp,
				  struct tt_loadavg *out);

/* ------------------------------------------------------------------ */
/* Driver                                                               */

struct replay_ops {
	/*
	 * Called for every record inside the window, in time order, after
	 * the shared state has taken it in.  REPLAY_STOP ends the replay
	 * early (finish still runs, its result is the exit code; warnings
	 * cover what was read); any other non-zero return stops the
	 * replay and becomes the exit code.
	 */
	int (*on_record)(struct replay *rp, const struct tape_record *rec,
			 void *ctx);
	/* Called once at the end (also on an empty window; not when the
	 * tape turned out unreadable before start).  Returns the exit
	 * code (REPLAY_EXIT_OK normally).  May be NULL. */
	int (*finish)(struct replay *rp, void *ctx);
	void *ctx;
	unsigned flags; /* REPLAY_F_* */
	/* Called once before the first record of the window is passed
	 * (or before finish when the window is empty): headers go here,
	 * so an unreadable tape prints none.  May be NULL. */
	int (*start)(struct replay *rp, void *ctx);
};

/*
 * An on_record result: the analysis has all it wants (filetop's COUNT
 * tables are printed); stop reading, finish and exit as usual.  Not an
 * exit code.
 */
#define REPLAY_STOP 0x100

/* Do not keep the process table (faster when the analysis needs none). */
#define REPLAY_F_NO_PROCS 0x1
/* Do not print JSON warning objects to out (dump prints loss records). */
#define REPLAY_F_NO_JSON_WARNINGS 0x2
/* Records in file order, not merged by time (verify, dump --file-order). */
#define REPLAY_F_FILE_ORDER 0x4
/* Print no loss or damage warnings: the analysis reports them (info). */
#define REPLAY_F_NO_WARNINGS 0x8
/*
 * Exit 2 with a one-line error when the tape is damaged and not one
 * record could be read (say a *.partial cut inside its first chunk).
 * Without it only a tape with no readable segment header is trouble and
 * an all-damaged tape replays as empty, with the damage warning.
 */
#define REPLAY_F_NEED_RECORDS 0x10
/*
 * Give the analysis rp->buf, a replay_buf over out for its lines (see
 * "Fast column output"); the driver flushes it after finish, before its
 * warnings, and frees it.  What goes straight to out (headers in start)
 * must come before the first buffered line or after finish.
 */
#define REPLAY_F_BUFFERED 0x20

/*
 * Open C->tape, replay it through OPS, print warnings.  Returns the exit
 * code: the finish result, or REPLAY_EXIT_TROUBLE when the tape cannot
 * be read (the one-line error is on env->err).
 */
int replay_run(const struct replay_common *c, const struct replay_ops *ops,
	       const struct replay_env *env);

/*
 * Open a tape reader over PATH with a one-line error on env->err on
 * failure ("tracetape: PATH: problem").  Returns NULL on failure.
 */
struct tape_reader *replay_open_reader(const char *path,
				       const struct tape_reader_opts *opts,
				       const struct replay_env *env);

/* ------------------------------------------------------------------ */
/* Decoding records                                                     */

/* A TT_REC_OPEN / UNLINK / RENAME record, decoded. */
struct replay_file_op {
	struct tt_file_op f;
	const char *path; /* as passed; "" when absent */
	const char *dir;  /* leaf-first components, dir_len bytes, or NULL */
	size_t dir_len;
	const char *path2; /* rename target, "" when absent */
	const char *dir2;
	size_t dir2_len;
};
/* Returns 0, or -1 when the body is too short to hold the fixed part. */
int replay_decode_file_op(const struct tape_record *rec,
			  struct replay_file_op *op);

struct replay_rw {
	struct tt_rw f;
	const char *name; /* dentry name, "" when absent */
};
int replay_decode_rw(const struct tape_record *rec, struct replay_rw *rw);

struct replay_exec {
	struct tt_exec f;
	const char *filename; /* "" when absent */
	const char *args;     /* argc NUL-terminated strings, args_len bytes */
	size_t args_len;      /* bytes of args actually present */
};
int replay_decode_exec(const struct tape_record *rec, struct replay_exec *ex);

/*
 * Iterate over NUL-separated strings: *pos starts at 0; returns the next
 * string or NULL at the end.  A last string without its NUL is not
 * returned (it may be cut).
 */
const char *replay_next_string(const char *buf, size_t len, size_t *pos);

struct replay_readline {
	struct tt_readline f;
	const char *line; /* "" when absent */
};
int replay_decode_readline(const struct tape_record *rec,
			   struct replay_readline *rl);

/* The task of an event record (types 1..0x0fff with a task), or NULL;
 * it points into REC's body. */
const struct tt_task *replay_record_task(const struct tape_record *rec);

/* The comm of a task, NUL-terminated (comm may fill all 16 bytes). */
void replay_task_comm(const struct tt_task *t, char out[TT_COMM_LEN + 1]);

/*
 * Build the absolute path of PATH resolved against DIR (leaf-first
 * components, DIR_LEN bytes as in struct tt_file_op), normalised: "."
 * and empty components dropped, ".." removes one component (never above
 * "/").  An absolute PATH ignores DIR.  A relative PATH without DIR
 * stays relative (normalised).  Writes at most OUTSZ bytes with the NUL;
 * returns the length it needed (like snprintf).
 */
size_t replay_resolve_path(const char *dir, size_t dir_len, const char *path,
			   char *out, size_t outsz);

/* DIR (leaf-first components) as an absolute path "/a/b"; like above. */
size_t replay_dir_path(const char *dir, size_t dir_len, char *out,
		       size_t outsz);

/* Name of an enum tt_syscall ("openat"), or "unknown". */
const char *replay_syscall_name(unsigned sc);

/* Name of a record type as dump prints it ("open", "unknown"). */
const char *replay_type_name(unsigned type);

/* ------------------------------------------------------------------ */
/* Output                                                               */

/* Sizes of the time buffers below. */
#define REPLAY_HMS_LEN 16
#define REPLAY_ISO_LEN 48

/* "%H:%M:%S" of TS in the host's zone (or UTC with --utc). */
void replay_fmt_hms(struct replay *rp, uint64_t ts, char out[REPLAY_HMS_LEN]);

/* "2026-11-25T06:12:01.123456789+01:00" of TS (host zone, or UTC). */
void replay_fmt_iso(struct replay *rp, uint64_t ts, char out[REPLAY_ISO_LEN]);

/*
 * Like replay_fmt_iso with an explicit clock and offset; used where no
 * replay is running (info's pre-scan).  No anchor prints "boot+S.NNN".
 */
void replay_fmt_iso_clock(const struct replay_clock *ck, bool utc, uint64_t ts,
			  char out[REPLAY_ISO_LEN]);

/*
 * Escape S for a terminal: control characters, DEL and backslash become
 * \n \t \\ or \xHH; other bytes (UTF-8 included) pass.  Writes at most
 * OUTSZ bytes with the NUL (truncating); returns OUT.
 */
char *replay_text_escape(const char *s, char *out, size_t outsz);

/* Write S to F escaped as above. */
void replay_text_write(FILE *f, const char *s);

/* Write S to F as a JSON string with quotes (control chars as \uXXXX,
 * invalid UTF-8 bytes as \u00XX so the output is always valid JSON). */
void replay_json_string(FILE *f, const char *s);

/*
 * A JSON object written field by field on one line:
 *     struct replay_json j; replay_json_begin(&j, f);
 *     replay_json_str(&j, "path", p); replay_json_end(&j);  -> {...}\n
 */
struct replay_json {
	FILE *f;
	int n; /* fields written */
};
void replay_json_begin(struct replay_json *j, FILE *f);
void replay_json_key(struct replay_json *j, const char *key);
void replay_json_str(struct replay_json *j, const char *key, const char *v);
void replay_json_int(struct replay_json *j, const char *key, int64_t v);
void replay_json_uint(struct replay_json *j, const char *key, uint64_t v);
void replay_json_bool(struct replay_json *j, const char *key, bool v);
void replay_json_end(struct replay_json *j);

/* "ts_ns" and "time" fields for TS, as dump writes them. */
void replay_json_time(struct replay_json *j, struct replay *rp, uint64_t ts);

/* "pid","tid","uid","comm" of a task. */
void replay_json_task(struct replay_json *j, const struct tt_task *t);

/* ------------------------------------------------------------------ */
/* Fast column output (appended)                                        */

/*
 * A write buffer for analyses that print millions of lines: printf's
 * cost per field dominates replay otherwise.  Fields are formatted like
 * printf's "%-6d" / "%3d" / "%-16s"; strings are escaped as by
 * replay_text_escape().  The buffer writes through to F when full and
 * on replay_buf_flush().
 */
#define REPLAY_BUF_SIZE (256u << 10)
struct replay_buf {
	FILE *f;
	size_t len;
	char data[REPLAY_BUF_SIZE];
};
/* Allocate a buffer writing to F; NULL when out of memory. */
struct replay_buf *replay_buf_new(FILE *f);
/* Flush and free. */
void replay_buf_free(struct replay_buf *b);
void replay_buf_flush(struct replay_buf *b);
void replay_buf_char(struct replay_buf *b, char c);
/* Raw bytes, no escaping (for text the analysis made itself). */
void replay_buf_raw(struct replay_buf *b, const char *s, size_t n);
/* Signed integer in WIDTH columns, left-aligned when LEFT ("%-6d"). */
void replay_buf_int(struct replay_buf *b, int64_t v, int width, bool left);
/* Octal, zero-padded to WIDTH ("%08o"). */
void replay_buf_octal(struct replay_buf *b, uint64_t v, int width);
/* S escaped, padded to WIDTH columns (0 = none), left when LEFT. */
void replay_buf_str(struct replay_buf *b, const char *s, int width, bool left);

/* ------------------------------------------------------------------ */
/* Damage (appended)                                                    */

/*
 * Whether damage D (from tape_reader_damage(rp->reader)) overlaps the
 * replayed window; damage of unknown time always does.  The driver warns
 * about these; an analysis that reports damage itself (diff) counts the
 * same ones.
 */
bool replay_damage_in_window(const struct replay *rp,
			     const struct tape_damage *d);

/*
 * The fields every JSON account of damage D shares, in this order:
 * "segment", "offset", "length", "chunk_seq", "records_lost",
 * "first_ts_ns", "last_ts_ns" (warnings, info, verify).
 */
void replay_json_damage(struct replay_json *j, const struct tape_damage *d);

/* ------------------------------------------------------------------ */
/* Processes in words (appended; replay/words.c)                        */

/*
 * Join the NUL-terminated strings in ARGS (LEN bytes; a last string
 * without its NUL is left out) with spaces, each quoted if a shell would
 * need it, so the line reads back as the same argv ("a b" stays apart
 * from "a" "b"): in double quotes when that needs no backslash ("it's"),
 * else in single quotes with '\'' for a quote.  Writes at most SIZE
 * bytes with the NUL (cutting the line); returns the length written.
 */
size_t replay_argv_shell_join(const char *args, size_t len, char *out,
			      size_t size);

/* "exit 1", "killed by SIGKILL", "... (core dumped)" from a wait(2)
 * status. */
void replay_wait_status_text(int status, char *out, size_t size);

/* "ENOENT" for -ENOENT (RET is a negative errno); else "error N" written
 * to BUF (SIZE bytes).  Returns the name or BUF. */
const char *replay_errno_name(long long ret, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Exports (appended; replay/export*.c)                                 */

/* `tracetape export --format chrome|openmetrics|csv TAPE`. */
int export_main(int argc, char **argv, const struct replay_env *env);

/* ------------------------------------------------------------------ */
/* Slices (appended; replay/slice*.c)                                   */

/* `tracetape slice TAPE -o OUT [--since] [--until] [-p PID] [--tree]`. */
int slice_main(int argc, char **argv, const struct replay_env *env);

#endif /* REPLAY_H */
