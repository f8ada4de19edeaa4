/* SPDX-License-Identifier: MIT */
/*
 * options.h - tracetape-record's command line.
 */
#ifndef RECORD_OPTIONS_H
#define RECORD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define REC_MAX_PIDS 64

/* Probe groups selectable with -e. */
enum rec_group {
	REC_GROUP_OPEN = 1 << 0,
	REC_GROUP_RW = 1 << 1,
	REC_GROUP_LIFE = 1 << 2,
	REC_GROUP_EXEC = 1 << 3,
	REC_GROUP_BASH = 1 << 4,
	REC_GROUP_ALL = 0x1f,
};

/*
 * How the file system calls are hooked (--mechanism).  AUTO tries fexit
 * on the syscall functions, then the sys_exit tracepoint as tp_btf, then
 * as raw_tp; the others try only what they name (TRACEPOINT: tp_btf, then
 * raw_tp).
 */
enum rec_mechanism {
	REC_MECH_AUTO,
	REC_MECH_FEXIT,
	REC_MECH_TRACEPOINT,
	REC_MECH_RAW_TP,
};

struct rec_opts {
	const char *out_dir; /* NULL: default name */
	double duration_s;   /* -d, 0 = until stopped */
	uint32_t pids[REC_MAX_PIDS];
	int npids;
	bool filter_uid;
	uint32_t uid;
	const char *comm;
	unsigned groups; /* enum rec_group bits */
	const char *bash_path;
	uint64_t segment_size;
	double segment_time_s;
	uint32_t max_segments;
	int zstd_level;
	uint32_t flush_interval_ms;
	uint64_t ring_size;
	enum rec_mechanism mechanism;
	unsigned redact;	  /* enum redact_what bits (redact.h) */
	const char *redact_regex; /* --redact-regex, or NULL */
	bool quiet;
	char **command; /* -- COMMAND [ARG...], NULL-terminated, or NULL */
	int argc;	/* the recorder's own argv, for the tape */
	char **argv;
};

/*
 * Parse ARGV into OPTS.  Returns 0 to go on, 1 when the run is over
 * (--help, --version printed), -1 on a usage error (message printed).
 */
int rec_opts_parse(struct rec_opts *opts, int argc, char **argv);

/* "args,lines" for the --redact bits in BITS, into BUF. */
void rec_redact_name(unsigned bits, char *buf, size_t size);

/* "auto", "fexit", "tracepoint" or "raw_tp". */
const char *rec_mechanism_name(enum rec_mechanism m);

/* "open,rw" for the groups in BITS, into BUF. */
void rec_groups_name(unsigned bits, char *buf, size_t size);

#endif /* RECORD_OPTIONS_H */
