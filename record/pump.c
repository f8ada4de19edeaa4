// SPDX-License-Identifier: MIT
/*
 * pump.c - drain thread and writer thread (see pump.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "meta.h"
#include "redact.h"
#include "pump.h"
#include "tape.h"
#include "tt_events.h"

#define BATCH_CAP	 (1u << 20)
#define MAX_QUEUED	 64 /* batches; beyond, the drain thread waits */
#define DRAIN_POLL_MS	 10
#define LOADAVG_EVERY_NS 1000000000ull
#define CLOCK_EVERY_NS	 10000000000ull

struct batch {
	struct batch *next;
	size_t len;
	uint8_t data[BATCH_CAP];
};

struct pump {
	struct pump_config cfg;
	struct ring_buffer *rb;
	pthread_t drain_thread, writer_thread;

	pthread_mutex_t lock;
	pthread_cond_t wake_writer, wake_drain;
	struct batch *queue_head, *queue_tail;
	int queued;
	struct batch *spare; /* one free batch kept for reuse */
	bool drain_done;     /* the drain thread has queued its last batch */

	struct batch *cur; /* drain thread only */
	atomic_bool stop;

	_Atomic uint64_t events;
	_Atomic uint64_t by_type[16];
	_Atomic uint64_t lost;
	atomic_bool failed;
	int first_error;
	char error[TAPE_ERRLEN + 64];

	struct tape_writer_stats wstats; /* under lock: copy for others */

	uint64_t *lost_seen;   /* writer thread: per CPU counter last read */
	uint64_t *lost_now;    /* writer thread: room for the counters now */
	uint64_t skipped_seen; /* writer thread: recursion misses last read */
	uint64_t loss_checked_ts;
};

static struct batch *batch_get(struct pump *p)
{
	struct batch *b;

	pthread_mutex_lock(&p->lock);
	b = p->spare;
	p->spare = NULL;
	pthread_mutex_unlock(&p->lock);
	if (!b)
		b = malloc(sizeof(*b));
	if (b) {
		b->len = 0;
		b->next = NULL;
	}
	return b;
}

static void batch_put_back(struct pump *p, struct batch *b)
{
	pthread_mutex_lock(&p->lock);
	if (!p->spare) {
		p->spare = b;
		b = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	free(b);
}

/* Hand the current batch to the writer; waits while the queue is full
 * (the ring then fills and the kernel side counts losses). */
static void queue_current(struct pump *p)
{
	struct batch *b = p->cur;

	if (!b || b->len == 0)
		return;
	p->cur = NULL;
	pthread_mutex_lock(&p->lock);
	while (p->queued >= MAX_QUEUED && !atomic_load(&p->failed))
		pthread_cond_wait(&p->wake_drain, &p->lock);
	if (p->queue_tail)
		p->queue_tail->next = b;
	else
		p->queue_head = b;
	p->queue_tail = b;
	p->queued++;
	pthread_cond_signal(&p->wake_writer);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Length of the framed records at the start of a ring buffer sample (a
 * batch from one CPU, or one record with unused room after it, ended by
 * a zero header), counting them by type into P.  Counts are summed
 * locally and published once per sample: a sample holds many records,
 * and an atomic add per record would cost more than the walk itself.
 */
static size_t framed_prefix(struct pump *p, const uint8_t *data, size_t size)
{
	uint64_t by_type[16] = {0}, events = 0;
	size_t off = 0;

	while (off + sizeof(struct tt_rec_hdr) <= size) {
		const struct tt_rec_hdr *hdr = (const void *)(data + off);
		size_t len =
			sizeof(*hdr) + (((size_t)hdr->body_len + 7) & ~7ul);

		if (hdr->type == 0 || off + len > size)
			break;
		events++;
		if (hdr->type < 16)
			by_type[hdr->type]++;
		off += len;
	}
	atomic_fetch_add_explicit(&p->events, events, memory_order_relaxed);
	for (int i = 0; i < 16; i++)
		if (by_type[i])
			atomic_fetch_add_explicit(&p->by_type[i], by_type[i],
						  memory_order_relaxed);
	return off;
}

/* Make room for SIZE more bytes in the current batch; -ENOMEM or 0. */
static int batch_room(struct pump *p, size_t size)
{
	if (p->cur && p->cur->len + size > BATCH_CAP)
		queue_current(p);
	if (!p->cur)
		p->cur = batch_get(p);
	return p->cur ? 0 : -ENOMEM;
}

/* The records of a sample one by one through the redactor (--redact). */
static int copy_redacted(struct pump *p, const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		const struct tt_rec_hdr *h = (const void *)(data + off);
		size_t len = sizeof(*h) + (((size_t)h->body_len + 7) & ~7ul);

		if (redact_room(len) > BATCH_CAP)
			return 0; /* cannot be: records are at most ~40 KiB */
		if (batch_room(p, redact_room(len)))
			return -ENOMEM;
		p->cur->len += redact_record(p->cfg.redact, data + off, len,
					     p->cur->data + p->cur->len);
		off += len;
	}
	return 0;
}

/* ring_buffer callback: copy the records out (ring pages are read-only). */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct pump *p = ctx;

	if (size > BATCH_CAP)
		return 0;
	if (p->cfg.redact && redactor_active(p->cfg.redact)) {
		size = framed_prefix(p, data, size);
		return copy_redacted(p, data, size);
	}
	if (batch_room(p, size))
		return -ENOMEM;
	size = framed_prefix(p, data, size);
	memcpy(p->cur->data + p->cur->len, data, size);
	p->cur->len += size;
	return 0;
}

static void *drain_main(void *arg)
{
	struct pump *p = arg;

	while (!atomic_load(&p->stop)) {
		/* poll wakes early on a forced wakeup; consume picks up
		 * what was submitted without one */
		ring_buffer__poll(p->rb, DRAIN_POLL_MS);
		ring_buffer__consume(p->rb);
		queue_current(p);
	}
	ring_buffer__consume(p->rb);
	queue_current(p);
	pthread_mutex_lock(&p->lock);
	p->drain_done = true;
	pthread_cond_signal(&p->wake_writer);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void note_error(struct pump *p, int rc, const char *what)
{
	if (atomic_load(&p->failed))
		return;
	p->first_error = rc;
	snprintf(p->error, sizeof(p->error), "%s: %s", what,
		 tape_writer_error(p->cfg.writer));
	atomic_store(&p->failed, true);
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->wake_drain);
	pthread_mutex_unlock(&p->lock);
}

/* Runs of our programs the kernel skipped, summed over the programs. */
static uint64_t skipped_runs(const struct pump *p)
{
	uint64_t sum = 0;

	for (int i = 0; i < p->cfg.nprogs; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(p->cfg.prog_fds[i], &info, &len) ==
		    0)
			sum += info.recursion_misses;
	}
	return sum;
}

/* A TT_REC_LOSS (TT_LOSS_SKIPPED) when the skipped runs grew. */
static int write_skipped(struct pump *p, uint64_t now)
{
	uint64_t seen = skipped_runs(p);
	struct tt_loss l = {
		.cpu = TT_LOSS_CPU_ANY,
		.cause = TT_LOSS_SKIPPED,
		.since_ts = p->loss_checked_ts,
	};

	if (seen <= p->skipped_seen)
		return 0;
	l.count = seen - p->skipped_seen;
	p->skipped_seen = seen;
	atomic_fetch_add(&p->lost, l.count);
	return tape_writer_append(p->cfg.writer, TT_REC_LOSS, now, &l,
				  sizeof(l));
}

/* One TT_REC_LOSS per CPU whose counter moved since the last check, and
 * one for the program runs the kernel skipped. */
static int write_losses(struct pump *p)
{
	uint64_t now = meta_boot_ns();
	uint64_t *vals = p->lost_now;
	uint32_t zero = 0;
	int rc = 0;

	if (bpf_map_lookup_elem(p->cfg.lost_fd, &zero, vals) == 0) {
		for (int cpu = 0; cpu < p->cfg.ncpus && !rc; cpu++) {
			struct tt_loss l = {0};

			if (vals[cpu] == p->lost_seen[cpu])
				continue;
			l.cpu = cpu;
			l.count = vals[cpu] - p->lost_seen[cpu];
			l.since_ts = p->loss_checked_ts;
			p->lost_seen[cpu] = vals[cpu];
			atomic_fetch_add(&p->lost, l.count);
			rc = tape_writer_append(p->cfg.writer, TT_REC_LOSS, now,
						&l, sizeof(l));
		}
	}
	if (!rc)
		rc = write_skipped(p, now);
	p->loss_checked_ts = now;
	return rc;
}

/* Wait for a batch, the end, or DEADLINE (boot ns). */
static struct batch *next_batch(struct pump *p, uint64_t deadline, bool *end)
{
	struct batch *b;

	pthread_mutex_lock(&p->lock);
	while (!p->queue_head && !p->drain_done && meta_boot_ns() < deadline) {
		struct timespec ts;
		uint64_t wait = deadline - meta_boot_ns();

		if (wait > 100000000ull)
			wait = 100000000ull;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += wait;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&p->wake_writer, &p->lock, &ts);
	}
	b = p->queue_head;
	if (b) {
		p->queue_head = b->next;
		if (!p->queue_head)
			p->queue_tail = NULL;
		p->queued--;
		pthread_cond_signal(&p->wake_drain);
	}
	*end = !b && p->drain_done;
	pthread_mutex_unlock(&p->lock);
	return b;
}

/* Periodic work: flush, losses, loadavg, clock.  *_AT are next times. */
struct timers {
	uint64_t flush_at, loadavg_at, clock_at;
};

static void run_timers(struct pump *p, struct timers *t)
{
	struct tape_writer *w = p->cfg.writer;
	uint64_t now = meta_boot_ns();
	int rc = 0;

	if (now >= t->loadavg_at) {
		rc = meta_write_loadavg(w);
		t->loadavg_at = now + LOADAVG_EVERY_NS;
	}
	if (!rc && now >= t->clock_at) {
		rc = meta_write_clock(w);
		t->clock_at = now + CLOCK_EVERY_NS;
	}
	if (!rc && now >= t->flush_at) {
		rc = write_losses(p);
		if (!rc)
			rc = tape_writer_flush(w);
		t->flush_at = now + p->cfg.flush_interval_ms * 1000000ull;
	}
	if (rc)
		note_error(p, rc, "writing the tape");
}

static uint64_t earliest(const struct timers *t)
{
	uint64_t m = t->flush_at;

	if (t->loadavg_at < m)
		m = t->loadavg_at;
	if (t->clock_at < m)
		m = t->clock_at;
	return m;
}

/* The writer belongs to this thread: others read a copy of its stats. */
static void publish_stats(struct pump *p)
{
	struct tape_writer_stats st;

	tape_writer_stats(p->cfg.writer, &st);
	pthread_mutex_lock(&p->lock);
	p->wstats = st;
	pthread_mutex_unlock(&p->lock);
}

static void *writer_main(void *arg)
{
	struct pump *p = arg;
	uint64_t now = meta_boot_ns();
	struct timers t = {
		.flush_at = now + p->cfg.flush_interval_ms * 1000000ull,
		.loadavg_at = now,
		.clock_at = now + CLOCK_EVERY_NS,
	};
	bool end = false;

	while (!end) {
		struct batch *b = next_batch(p, earliest(&t), &end);

		if (b) {
			if (!atomic_load(&p->failed)) {
				int rc = tape_writer_append_framed(
					p->cfg.writer, b->data, b->len);
				if (rc)
					note_error(p, rc, "writing the tape");
			}
			batch_put_back(p, b);
		}
		if (!atomic_load(&p->failed))
			run_timers(p, &t);
		publish_stats(p);
	}
	if (!atomic_load(&p->failed)) {
		int rc = write_losses(p);

		if (!rc)
			rc = meta_write_clock(p->cfg.writer);
		if (rc)
			note_error(p, rc, "writing the tape");
	}
	publish_stats(p);
	return NULL;
}

int pump_start(struct pump **out, const struct pump_config *cfg)
{
	struct pump *p = calloc(1, sizeof(*p));
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->lost_seen = calloc(cfg->ncpus, sizeof(uint64_t));
	p->lost_now = calloc(cfg->ncpus, sizeof(uint64_t));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake_writer, NULL);
	pthread_cond_init(&p->wake_drain, NULL);
	p->loss_checked_ts = meta_boot_ns();
	/* misses before the recording started are not ours to report */
	p->skipped_seen = skipped_runs(p);
	p->rb = ring_buffer__new(cfg->ring_fd, on_sample, p, NULL);
	if (!p->rb || !p->lost_seen || !p->lost_now) {
		err = p->rb ? -ENOMEM : -errno;
		pump_free(p);
		return err;
	}
	err = pthread_create(&p->writer_thread, NULL, writer_main, p);
	if (!err) {
		err = pthread_create(&p->drain_thread, NULL, drain_main, p);
		if (err) {
			pthread_mutex_lock(&p->lock);
			p->drain_done = true;
			pthread_mutex_unlock(&p->lock);
			pthread_join(p->writer_thread, NULL);
		}
	}
	if (err) {
		pump_free(p);
		return -err;
	}
	*out = p;
	return 0;
}

void pump_stats(struct pump *p, struct pump_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->events = atomic_load_explicit(&p->events, memory_order_relaxed);
	for (int i = 0; i < 16; i++)
		st->by_type[i] = atomic_load_explicit(&p->by_type[i],
						      memory_order_relaxed);
	st->lost = atomic_load(&p->lost);
	st->failed = atomic_load(&p->failed);
	pthread_mutex_lock(&p->lock);
	st->writer = p->wstats;
	pthread_mutex_unlock(&p->lock);
}

bool pump_failed(struct pump *p)
{
	return atomic_load(&p->failed);
}

const char *pump_error(struct pump *p)
{
	return p->error;
}

int pump_stop(struct pump *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->drain_thread, NULL);
	pthread_join(p->writer_thread, NULL);
	return p->first_error;
}

void pump_free(struct pump *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	while (p->queue_head) {
		struct batch *b = p->queue_head;

		p->queue_head = b->next;
		free(b);
	}
	free(p->cur);
	free(p->spare);
	free(p->lost_seen);
	free(p->lost_now);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake_writer);
	pthread_cond_destroy(&p->wake_drain);
	free(p);
}
