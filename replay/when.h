/* SPDX-License-Identifier: MIT */
/* when.h - parse --since / --until values (replay/when.c). */
#ifndef REPLAY_WHEN_H
#define REPLAY_WHEN_H

#include "replay.h"

struct replay_when_ctx {
	struct replay_clock clock; /* the tape's first anchor */
	uint64_t tape_start_ts;	   /* boot ns of the first record */
	bool utc;		   /* zone-less times are UTC, not host */
};

/*
 * S is "+30s" / "+2m" / "+1h" / "90" (from the tape's start), "HH:MM[:SS]"
 * (on the tape's first day), "YYYY-MM-DD[ HH:MM[:SS[.frac]]]" or ISO-8601
 * with an optional zone (Z, +HH:MM).  Zone-less times are in the
 * recording host's zone (its anchor's utc_offset) unless UTC.  Returns 0
 * and *BOOT_NS, or -1 with *WHY saying what is wrong.
 */
int replay_parse_when(const char *s, const struct replay_when_ctx *ctx,
		      uint64_t *boot_ns, const char **why);

/* What a replay learns before reading the window (replay/driver.c). */
struct replay_plan {
	struct replay_when_ctx when; /* tape start, first anchor, utc */
	uint64_t since_ts, until_ts; /* the window, boot ns; 0 = open */
	/* where reading may start: the start of the last segment that
	 * begins at or before since_ts (its metadata rebuilds the state) */
	uint64_t read_from;
	char tape_id[33]; /* the first segment's, hex; "" = unknown */
};

/*
 * Read the start of C->tape (its first records up to the first clock
 * anchor: the first segment's metadata), then turn C's --since, --until
 * and duration into the window.  ON_RECORD, when set, sees each record
 * read on the way.  replay_run does this itself; tools that read a tape
 * their own way (slice) call it.  0, or an exit code (message printed).
 */
int replay_plan(const struct replay_common *c, const struct replay_env *env,
		void (*on_record)(const struct tape_record *rec, void *ctx),
		void *ctx, struct replay_plan *p);

#endif /* REPLAY_WHEN_H */
