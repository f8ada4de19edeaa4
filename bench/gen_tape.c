/* SPDX-License-Identifier: MIT */
/*
 * gen_tape.c - write a synthetic tape for replay benchmarks:
 *
 *     build/bench/gen_tape DIR EVENTS
 *
 * Like the open+read+close loop the recorder sees: per iteration one
 * openat record (relative path, cwd known) and one rw record, from a few
 * processes, with a clock anchor every second of tape time and the
 * metadata a recorder writes at each segment's start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"

#define NSEC 1000000000ull

struct gen {
	struct tape_writer *w;
	uint64_t ts;
	uint64_t realtime0, boot0;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_tape: %s\n", what);
	exit(2);
}

static void append(struct gen *g, uint16_t type, const void *body, size_t len)
{
	if (tape_writer_append(g->w, type, g->ts, body, (uint32_t)len) < 0)
		die(tape_writer_error(g->w));
}

static void put_clock(struct gen *g)
{
	struct tt_clock c = {
		.boottime_ns = g->ts,
		.monotonic_ns = g->ts,
		.realtime_ns = g->realtime0 + (g->ts - g->boot0),
		.utc_offset = 0,
	};
	append(g, TT_REC_CLOCK, &c, sizeof(c));
}

static int on_segment(struct tape_writer *w, void *ctx)
{
	struct gen *g = ctx;
	g->w = w;
	static const char host[] = "hostname=bench\0kernel=6.18.0\0";
	append(g, TT_REC_HOST, host, sizeof(host) - 1);
	put_clock(g);
	return 0;
}

static struct tt_task task_of(uint64_t i)
{
	struct tt_task t;
	memset(&t, 0, sizeof(t));
	t.pid = 1000 + (uint32_t)(i % 4);
	t.tid = t.pid;
	t.uid = 1000;
	snprintf(t.comm, sizeof(t.comm), "openloop%u", (unsigned)(i % 4));
	return t;
}

static void put_open(struct gen *g, uint64_t i)
{
	char body[512];
	static const char dir[] = "work\0home\0"; /* /home/work */
	char path[64];
	int plen = snprintf(path, sizeof(path), "data/file-%04u.txt",
			    (unsigned)(i % 1000)) +
		   1;
	struct tt_file_op f;
	memset(&f, 0, sizeof(f));
	f.task = task_of(i);
	f.ret = 3;
	f.dev = 8u << 20 | 1;
	f.ino = 5000 + i % 1000;
	f.flags = 0;
	f.dirfd = TT_AT_FDCWD;
	f.syscall = TT_SYS_OPENAT;
	f.path_len = (uint16_t)plen;
	f.dir_len = sizeof(dir) - 1;
	memcpy(body, &f, sizeof(f));
	memcpy(body + sizeof(f), path, (size_t)plen);
	memcpy(body + sizeof(f) + plen, dir, sizeof(dir) - 1);
	append(g, TT_REC_OPEN, body,
	       sizeof(f) + (size_t)plen + sizeof(dir) - 1);
}

static void put_rw(struct gen *g, uint64_t i)
{
	char body[256];
	char name[32];
	int nlen = snprintf(name, sizeof(name), "file-%04u.txt",
			    (unsigned)(i % 1000)) +
		   1;
	struct tt_rw r;
	memset(&r, 0, sizeof(r));
	r.task = task_of(i);
	r.dev = 8u << 20 | 1;
	r.ino = 5000 + i % 1000;
	r.rbytes = 4096;
	r.reads = 1;
	r.fd = 3;
	r.i_mode = 0100644;
	r.syscall = TT_SYS_READ;
	r.name_len = (uint16_t)nlen;
	memcpy(body, &r, sizeof(r));
	memcpy(body + sizeof(r), name, (size_t)nlen);
	append(g, TT_REC_RW, body, sizeof(r) + (size_t)nlen);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_tape DIR EVENTS\n");
		return 2;
	}
	uint64_t events = strtoull(argv[2], NULL, 10);
	struct gen g = {.realtime0 = 1795586400ull * NSEC};
	/* Stamp events after the writer's own segment record (real boot
	 * clock) so the tape reads in order. */
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	g.boot0 = g.ts =
		(uint64_t)now.tv_sec * NSEC + (uint64_t)now.tv_nsec + NSEC;
	struct tape_writer_opts o = {
		.sz = sizeof(o), .on_segment_start = on_segment, .ctx = &g};
	char err[TAPE_ERRLEN];
	if (tape_writer_open(&g.w, argv[1], &o, err) < 0)
		die(err);
	uint64_t last_clock = g.ts;
	for (uint64_t i = 0; i < events; i++) {
		g.ts += 3000; /* 3 us per event, like the loop */
		if (g.ts - last_clock >= NSEC) {
			put_clock(&g);
			last_clock = g.ts;
		}
		if (i % 2 == 0)
			put_open(&g, i / 2);
		else
			put_rw(&g, i / 2);
	}
	if (tape_writer_close(g.w) < 0)
		die("close failed");
	return 0;
}
