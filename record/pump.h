/* SPDX-License-Identifier: MIT */
/*
 * pump.h - move records from the BPF ring buffer to the tape.
 *
 * Two threads: the drain thread empties the ring buffer every 10 ms (or
 * sooner when the BPF side forces a wakeup) into batch buffers; the
 * writer thread appends batches to the tape, compresses, flushes at
 * least every flush interval and adds the periodic records (loss, clock,
 * loadavg).  So the drain path never waits for zstd.
 */
#ifndef RECORD_PUMP_H
#define RECORD_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "tape.h"

struct pump;
struct tape_writer;

struct redactor;

struct pump_config {
	int ring_fd; /* BPF ring buffer map */
	int lost_fd; /* per-CPU loss counter map */
	/* the loaded programs, whose runs the kernel skipped are counted
	 * as losses too (recursion_misses) */
	const int *prog_fds;
	int nprogs;
	/* exec and readline records are rewritten by it before they are
	 * queued, when it is active (NULL: records go out as they came) */
	const struct redactor *redact;
	int ncpus;
	uint32_t flush_interval_ms;
	struct tape_writer *writer;
};

/* Counters for the status line and the summary. */
struct pump_stats {
	uint64_t events;      /* records drained from the ring */
	uint64_t by_type[16]; /* per enum tt_rec_type (1..15) */
	uint64_t lost;	      /* events the kernel side could not hand over */
	bool failed;	      /* writing stopped on an error */
	struct tape_writer_stats writer; /* as of the writer's last step */
};

int pump_start(struct pump **out, const struct pump_config *cfg);

void pump_stats(struct pump *p, struct pump_stats *st);

/* Has the writer met an error (disk full, ...)?  Message in pump_error. */
bool pump_failed(struct pump *p);
const char *pump_error(struct pump *p);

/*
 * Drain what is left, write the final loss and clock records, stop both
 * threads.  The tape writer is not closed (the caller does).  Returns 0 or
 * the writer's first error.
 */
int pump_stop(struct pump *p);

void pump_free(struct pump *p);

#endif /* RECORD_PUMP_H */
