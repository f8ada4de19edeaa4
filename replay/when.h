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

#endif /* REPLAY_WHEN_H */
