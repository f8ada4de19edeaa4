/* SPDX-License-Identifier: MIT */
/*
 * export.h - `tracetape export`: what replay/export.c (options, decoding)
 * shares with the three writers, export_chrome.c, export_openmetrics.c
 * and export_csv.c.
 *
 * Every writer is a replay analysis like the others (a struct
 * replay_ops run by replay_run()), writing to env->out, which export.c
 * points at the -o file or stdout.  Loss and damage are part of every
 * format's data: the driver's warnings on stderr come too.
 */
#ifndef REPLAY_EXPORT_H
#define REPLAY_EXPORT_H

#include <limits.h>

#include "replay.h"

enum export_format {
	EXPORT_CHROME,
	EXPORT_OPENMETRICS,
	EXPORT_CSV,
};

/* chrome --rw: how reads and writes show. */
enum {
	EXPORT_RW_COUNTER = 0x1, /* cumulative bytes per process, "C" */
	EXPORT_RW_INSTANT = 0x2, /* one instant per record, with the file */
};

#define EXPORT_STEP_DEFAULT_NS (10ull * 1000000000ull)
#define EXPORT_TOP_DEFAULT     10
#define EXPORT_TOP_MAX	       1000

struct export_opts {
	enum export_format format;
	const char *output; /* -o FILE; NULL = stdout */
	uint64_t step_ns;   /* openmetrics: sample period */
	uint64_t top;	    /* openmetrics: comms with their own label */
	unsigned rw;	    /* chrome: EXPORT_RW_* bits */
};

/* Room for a resolved path (the recorder's paths are at most 4 KiB,
 * the directory walk adds as much again). */
#define EXPORT_PATH_MAX (2 * PATH_MAX)

/*
 * One event record (types TT_REC_OPEN .. TT_REC_TTY), decoded once for
 * every format.  Strings point into the record or into the struct and
 * are valid until the next record.
 */
struct export_event {
	uint16_t type;
	uint64_t ts;
	struct tt_task task;
	char comm[TT_COMM_LEN + 1];
	const char *syscall; /* "openat"; "" for fork, exit, readline, tty */
	bool has_ret;
	int64_t ret; /* open: fd or -errno; exec, unlink, rename: 0 or
			-errno; fork: the child's pid; exit: wait status */
	/* open, unlink, rename: resolved absolute path; exec: the filename
	 * passed to execve; rw: the path of the open that returned the file
	 * (see struct export_files), else its name (the dentry: the
	 * recorder does not walk the path on reads); tty: the terminal
	 * ("pts/3") */
	char path[EXPORT_PATH_MAX];
	char path2[EXPORT_PATH_MAX]; /* rename: the new path, resolved */
	uint32_t flags, mode;	     /* open */
	bool created;		     /* open: FMODE_CREATED */
	uint64_t dev, ino;	     /* open (when it succeeded), rw */
	uint64_t rbytes, wbytes;     /* rw */
	uint32_t reads, writes;
	uint16_t i_mode;
	const char *args; /* exec: argv, NUL-separated, args_len bytes */
	size_t args_len;
	uint32_t ppid;	  /* exec */
	bool truncated;	  /* exec: argv longer than the recorder read */
	const char *line; /* readline */
};

/*
 * The paths files were opened under, by (dev, inode), so that reads and
 * writes name the whole path, not only the file's name.  The path is the
 * one of the latest successful open of that inode in the window (a
 * rename or link after it is not followed).  Memory is bounded: past
 * EXPORT_FILES_MAX inodes the table starts afresh.
 */
#define EXPORT_FILES_MAX 65536
struct export_files;
struct export_files *export_files_new(void);
void export_files_free(struct export_files *ft);

/*
 * Fill EV from REC; -1 for records that are not events, or too short.
 * FILES (may be NULL) learns from opens and names the files of rw.
 */
int export_decode(const struct tape_record *rec, struct export_event *ev,
		  struct export_files *files);

/* A TT_REC_LOSS body; false when too short. */
bool export_decode_loss(const struct tape_record *rec, struct tt_loss *out);

/* Writers: parse nothing, run the replay, return the exit code. */
int export_chrome(struct replay_common *c, const struct export_opts *o,
		  const struct replay_env *env);
int export_openmetrics(struct replay_common *c, const struct export_opts *o,
		       const struct replay_env *env);
int export_csv(struct replay_common *c, const struct export_opts *o,
	       const struct replay_env *env);

/*
 * OpenMetrics label value of S: '\\', '"' and newline escaped as the
 * spec says, bytes that are not UTF-8 replaced by U+FFFD (a label must
 * be UTF-8).  Writes at most SIZE bytes with the NUL; returns OUT.
 */
char *export_om_label(const char *s, char *out, size_t size);

/* Write S as one RFC 4180 CSV field: in double quotes (doubled inside)
 * when it holds a comma, a quote, CR or LF; as is otherwise. */
void export_csv_field(FILE *f, const char *s);

#endif /* REPLAY_EXPORT_H */
