/* SPDX-License-Identifier: MIT */
/*
 * state.h - the driver's private shared state (replay/state.c).
 * Analyses use the accessors in replay.h instead.
 */
#ifndef REPLAY_STATE_H
#define REPLAY_STATE_H

#include "replay.h"

/* Loss records kept one by one for the warnings; more are only summed. */
#define REPLAY_LOSS_KEEP 64

struct replay_state *replay_state_new(bool keep_procs);
void replay_state_free(struct replay_state *st);

/* The first anchor of the tape, for records before any anchor. */
void replay_state_set_first_clock(struct replay_state *st,
				  const struct replay_clock *ck);

/* Take in one record (any type).  IN_WINDOW: count its losses. */
void replay_state_update(struct replay_state *st, const struct tape_record *rec,
			 bool in_window);

/* Losses in the window. */
uint64_t replay_state_lost(const struct replay_state *st);
uint64_t replay_state_loss_records(const struct replay_state *st);
size_t replay_state_losses(const struct replay_state *st,
			   const struct replay_loss **list);

/* Decode a TT_REC_CLOCK body; false when too short. */
bool replay_clock_from_record(const struct tape_record *rec,
			      struct replay_clock *ck);

#endif /* REPLAY_STATE_H */
