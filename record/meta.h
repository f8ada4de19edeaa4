/* SPDX-License-Identifier: MIT */
/*
 * meta.h - the metadata records that make a segment replay alone (host,
 * options, probes, clock anchors, process/mount/user snapshots) and the
 * periodic ones (clock, loadavg).
 */
#ifndef RECORD_META_H
#define RECORD_META_H

#include <stdint.h>

#include "options.h"
#include "probes.h"
#include "redact.h"

struct tape_writer;

/* What the segment-start callback needs. */
struct meta_ctx {
	const struct rec_opts *opts;
	const struct probes *probes;
	const char *out_dir;
	const struct redactor *redact; /* applied to argv in snapshots */
};

/* CLOCK_BOOTTIME now, in nanoseconds. */
uint64_t meta_boot_ns(void);

/* tape_writer_opts.on_segment_start: CTX is a struct meta_ctx. */
int meta_segment_start(struct tape_writer *w, void *ctx);

int meta_write_clock(struct tape_writer *w);
int meta_write_loadavg(struct tape_writer *w);

#endif /* RECORD_META_H */
