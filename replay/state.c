/* SPDX-License-Identifier: MIT */
/*
 * state.c - what the driver remembers while a tape streams past, so that
 * analyses stay short: processes, user names, the clock anchor in force
 * and the losses in the window.
 *
 * Memory is bounded whatever the tape's size: the process table has a
 * fixed number of slots, exited processes leave it a few seconds (of
 * tape time) after their exit, and when it still fills up the processes
 * not heard of for the longest time go first.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"

#define PROC_SLOTS     (1u << 16) /* power of two */
#define PROC_MAX       (PROC_SLOTS / 2)
#define USER_SLOTS     (1u << 12)
#define EXITED_KEEP_NS (5ull * 1000000000ull)
#define SWEEP_EVERY_NS (1000000000ull)
#define UNKNOWN_UID    ((uint32_t)-1)
#define CLOCK_RECENT   256 /* anchors remembered for earlier events */

struct proc_slot {
	bool used;
	struct replay_proc p;
};

struct user_slot {
	bool used;
	uint32_t uid;
	char *name;
};

struct replay_state {
	bool keep_procs;
	struct proc_slot *procs; /* PROC_SLOTS, linear probing */
	uint32_t nprocs;
	uint64_t last_sweep_ts;
	uint64_t now_ts;

	struct user_slot users[USER_SLOTS];
	uint32_t nusers;

	struct replay_clock first_clock; /* the tape's first anchor */
	struct replay_clock clock;	 /* the latest anchor seen */
	/* The latest anchors, oldest first from recent_next: times of
	 * earlier events (filelife's creations) use the one before them. */
	struct replay_clock recent[CLOCK_RECENT];
	uint32_t recent_next, nrecent;

	uint64_t lost, loss_records;
	struct replay_loss losses[REPLAY_LOSS_KEEP];
	size_t nlosses;

	bool window_entered; /* a record of the window was taken in */
	bool have_loadavg;   /* load_before is a sample before the window */
	struct tt_loadavg load_before;
};

static uint32_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

struct replay_state *replay_state_new(bool keep_procs)
{
	struct replay_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->keep_procs = keep_procs;
	if (keep_procs) {
		st->procs = calloc(PROC_SLOTS, sizeof(*st->procs));
		if (!st->procs) {
			free(st);
			return NULL;
		}
	}
	return st;
}

static void proc_free_strings(struct replay_proc *p)
{
	free(p->exe);
	free(p->args);
	p->exe = p->args = NULL;
}

void replay_state_free(struct replay_state *st)
{
	if (!st)
		return;
	if (st->procs) {
		for (uint32_t i = 0; i < PROC_SLOTS; i++)
			if (st->procs[i].used)
				proc_free_strings(&st->procs[i].p);
		free(st->procs);
	}
	for (uint32_t i = 0; i < USER_SLOTS; i++)
		free(st->users[i].name);
	free(st);
}

/* ---- process table ----------------------------------------------- */

static struct proc_slot *proc_find(struct replay_state *st, uint32_t pid)
{
	uint32_t mask = PROC_SLOTS - 1;
	for (uint32_t i = hash32(pid) & mask;; i = (i + 1) & mask) {
		struct proc_slot *s = &st->procs[i];
		if (!s->used)
			return NULL;
		if (s->p.pid == pid)
			return s;
	}
}

/* Remove slot I, shifting later members of its probe run back so that
 * lookups never stop early (no tombstones). */
static void proc_remove_at(struct replay_state *st, uint32_t i)
{
	uint32_t mask = PROC_SLOTS - 1;
	proc_free_strings(&st->procs[i].p);
	st->procs[i].used = false;
	st->nprocs--;
	for (uint32_t j = (i + 1) & mask; st->procs[j].used;
	     j = (j + 1) & mask) {
		uint32_t home = hash32(st->procs[j].p.pid) & mask;
		/* Move j to the hole i when home is not in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j)
				    : (home > i || home <= j);
		if (stays)
			continue;
		st->procs[i] = st->procs[j];
		st->procs[j].used = false;
		i = j;
	}
}

/* Drop processes matching the age rule; returns how many are left. */
static uint32_t proc_sweep(struct replay_state *st, uint64_t idle_ns)
{
	uint64_t now = st->now_ts;
	for (uint32_t i = 0; i < PROC_SLOTS; i++) {
		struct proc_slot *s = &st->procs[i];
		while (s->used) {
			const struct replay_proc *p = &s->p;
			bool gone = p->exit_ts && now > p->exit_ts &&
				    now - p->exit_ts > EXITED_KEEP_NS;
			bool idle = idle_ns != UINT64_MAX &&
				    now - p->seen_ts >= idle_ns;
			if (!gone && !idle)
				break;
			/* The shift may bring another entry into slot i. */
			proc_remove_at(st, i);
		}
	}
	return st->nprocs;
}

/* Make room when full: exited first, then the longest idle. */
static void proc_make_room(struct replay_state *st)
{
	static const uint64_t idle_steps[] = {
		UINT64_MAX,	600000000000ull, 60000000000ull,
		10000000000ull, 1000000000ull,	 0,
	};
	for (size_t k = 0; k < sizeof(idle_steps) / sizeof(idle_steps[0]); k++)
		if (proc_sweep(st, idle_steps[k]) < PROC_MAX * 3 / 4)
			return;
}

static struct replay_proc *proc_get_or_add(struct replay_state *st,
					   uint32_t pid)
{
	struct proc_slot *s = proc_find(st, pid);
	if (s)
		return &s->p;
	if (st->nprocs >= PROC_MAX)
		proc_make_room(st);
	uint32_t mask = PROC_SLOTS - 1;
	uint32_t i = hash32(pid) & mask;
	while (st->procs[i].used)
		i = (i + 1) & mask;
	s = &st->procs[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->p.pid = pid;
	s->p.uid = UNKNOWN_UID;
	s->p.seen_ts = st->now_ts;
	st->nprocs++;
	return &s->p;
}

static char *dup_bounded(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ARGS (argc NUL-separated strings) joined with spaces, bounded. */
static char *join_args(const char *args, size_t len)
{
	if (!args || !len)
		return NULL;
	size_t n = len < REPLAY_PROC_ARGS_MAX ? len : REPLAY_PROC_ARGS_MAX;
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, args, n);
	d[n] = '\0';
	while (n > 0 && d[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (d[i] == '\0')
			d[i] = ' ';
	return d;
}

static void proc_set_strings(struct replay_proc *p, const char *exe,
			     const char *args, size_t args_len)
{
	proc_free_strings(p);
	if (exe && *exe)
		p->exe = dup_bounded(exe, 4096);
	p->args = join_args(args, args_len);
}

/* Note task T as seen now; returns its process' entry. */
static struct replay_proc *proc_from_task(struct replay_state *st,
					  const struct tt_task *t)
{
	struct replay_proc *p = proc_get_or_add(st, t->pid);
	p->seen_ts = st->now_ts;
	p->uid = t->uid;
	/* A thread's comm may differ from its process': the main one's
	 * wins, others only fill a blank. */
	if (t->tid == t->pid || !p->comm[0]) {
		memcpy(p->comm, t->comm, TT_COMM_LEN - 1);
		p->comm[TT_COMM_LEN - 1] = '\0';
	}
	return p;
}

static void proc_on_fork(struct replay_state *st, const struct tape_record *rec)
{
	struct tt_fork f;
	tape_rec_fixed(rec, &f, sizeof(f));
	struct replay_proc *c = proc_get_or_add(st, f.child_pid);
	/* The pid may be reused: start the child afresh. */
	proc_free_strings(c);
	c->ppid = f.task.pid;
	c->uid = f.task.uid;
	memcpy(c->comm, f.task.comm, TT_COMM_LEN - 1);
	c->comm[TT_COMM_LEN - 1] = '\0';
	c->start_ts = rec->ts;
	c->exit_ts = 0;
	c->exit_code = 0;
	c->seen_ts = rec->ts;
	/* Looked up after the insertion, which may have moved entries. */
	struct proc_slot *ps = proc_find(st, f.task.pid);
	const struct replay_proc *parent = ps ? &ps->p : NULL;
	if (parent && parent != c) {
		if (parent->exe)
			c->exe = dup_bounded(parent->exe, 4096);
		if (parent->args)
			c->args =
				dup_bounded(parent->args, REPLAY_PROC_ARGS_MAX);
	}
}

/* P is the entry of the task that heads REC (from proc_from_task). */
static void proc_on_exec(struct replay_proc *p, const struct tape_record *rec)
{
	struct replay_exec ex;
	if (replay_decode_exec(rec, &ex) < 0 || ex.f.ret != 0)
		return;
	if (ex.f.ppid)
		p->ppid = ex.f.ppid;
	proc_set_strings(p, ex.filename, ex.args, ex.args_len);
}

static void proc_on_exit(struct replay_proc *p, const struct tape_record *rec)
{
	struct tt_exit e;
	tape_rec_fixed(rec, &e, sizeof(e));
	p->exit_ts = rec->ts ? rec->ts : 1;
	p->exit_code = e.exit_code;
}

static void proc_on_snapshot(struct replay_state *st,
			     const struct tape_record *rec)
{
	struct tt_proc sp;
	if (rec->len < offsetof(struct tt_proc, comm))
		return;
	tape_rec_fixed(rec, &sp, sizeof(sp));
	struct replay_proc *p = proc_get_or_add(st, sp.pid);
	p->ppid = sp.ppid;
	p->uid = sp.uid;
	memcpy(p->comm, sp.comm, TT_COMM_LEN - 1);
	p->comm[TT_COMM_LEN - 1] = '\0';
	p->start_ts = sp.start_ts;
	p->seen_ts = rec->ts;
	size_t off = sizeof(sp);
	const char *exe = NULL, *args = NULL;
	size_t args_len = 0;
	if (sp.exe_len && off + sp.exe_len <= rec->len) {
		exe = (const char *)rec->body + off;
		if (exe[sp.exe_len - 1] != '\0')
			exe = NULL;
	}
	off += sp.exe_len;
	if (sp.args_len && off < rec->len) {
		args = (const char *)rec->body + off;
		args_len = rec->len - off < sp.args_len ? rec->len - off
							: sp.args_len;
	}
	proc_set_strings(p, exe, args, args_len);
}

const struct replay_proc *replay_proc_get(struct replay *rp, uint32_t pid)
{
	if (!rp->state || !rp->state->procs)
		return NULL;
	struct proc_slot *s = proc_find(rp->state, pid);
	return s ? &s->p : NULL;
}

/* ---- users ------------------------------------------------------- */

static void user_add(struct replay_state *st, const struct tape_record *rec)
{
	struct tt_user u;
	if (rec->len < sizeof(u))
		return;
	tape_rec_fixed(rec, &u, sizeof(u));
	const char *name = (const char *)rec->body + sizeof(u);
	if (!u.name_len || u.name_len > rec->len - sizeof(u) ||
	    name[u.name_len - 1] != '\0')
		return;
	uint32_t mask = USER_SLOTS - 1;
	uint32_t i = hash32(u.uid) & mask;
	while (st->users[i].used && st->users[i].uid != u.uid)
		i = (i + 1) & mask;
	struct user_slot *s = &st->users[i];
	if (!s->used) {
		/* Keep a free slot so lookups end; beyond that, ignore. */
		if (st->nusers + 1 >= USER_SLOTS)
			return;
		s->used = true;
		s->uid = u.uid;
		st->nusers++;
	} else if (s->name && strcmp(s->name, name) == 0) {
		return; /* every segment repeats the snapshot */
	}
	free(s->name);
	s->name = dup_bounded(name, 256);
}

const char *replay_user_name(struct replay *rp, uint32_t uid)
{
	struct replay_state *st = rp->state;
	if (!st)
		return NULL;
	uint32_t mask = USER_SLOTS - 1;
	for (uint32_t i = hash32(uid) & mask; st->users[i].used;
	     i = (i + 1) & mask)
		if (st->users[i].uid == uid)
			return st->users[i].name;
	return NULL;
}

/* ---- clock ------------------------------------------------------- */

bool replay_clock_from_record(const struct tape_record *rec,
			      struct replay_clock *ck)
{
	struct tt_clock c;
	if (rec->len < offsetof(struct tt_clock, utc_offset))
		return false;
	tape_rec_fixed(rec, &c, sizeof(c));
	ck->boottime_ns = c.boottime_ns;
	ck->realtime_ns = c.realtime_ns;
	ck->utc_offset = c.utc_offset;
	ck->valid = true;
	return true;
}

void replay_state_set_first_clock(struct replay_state *st,
				  const struct replay_clock *ck)
{
	st->first_clock = *ck;
}

struct replay_clock replay_clock_at(struct replay *rp, uint64_t ts)
{
	struct replay_state *st = rp->state;
	if (st->clock.valid && st->clock.boottime_ns <= ts)
		return st->clock;
	/* An earlier event: the newest remembered anchor before it. */
	for (uint32_t k = 1; k <= st->nrecent; k++) {
		uint32_t i =
			(st->recent_next + CLOCK_RECENT - k) % CLOCK_RECENT;
		if (st->recent[i].boottime_ns <= ts)
			return st->recent[i];
	}
	if (st->first_clock.valid)
		return st->first_clock;
	return st->clock;
}

static void clock_add(struct replay_state *st, const struct replay_clock *ck)
{
	st->clock = *ck;
	if (!st->first_clock.valid)
		st->first_clock = *ck;
	st->recent[st->recent_next] = *ck;
	st->recent_next = (st->recent_next + 1) % CLOCK_RECENT;
	if (st->nrecent < CLOCK_RECENT)
		st->nrecent++;
}

/* ---- losses ------------------------------------------------------ */

static void loss_add(struct replay_state *st, const struct tape_record *rec)
{
	struct tt_loss l;
	if (rec->len < offsetof(struct tt_loss, since_ts))
		return;
	tape_rec_fixed(rec, &l, sizeof(l));
	if (l.count == 0)
		return;
	st->lost += l.count;
	st->loss_records++;
	if (st->nlosses < REPLAY_LOSS_KEEP)
		st->losses[st->nlosses++] = (struct replay_loss){
			.ts = rec->ts,
			.since_ts = l.since_ts,
			.count = l.count,
			.cpu = l.cpu,
		};
}

uint64_t replay_state_lost(const struct replay_state *st)
{
	return st->lost;
}

uint64_t replay_state_loss_records(const struct replay_state *st)
{
	return st->loss_records;
}

size_t replay_state_losses(const struct replay_state *st,
			   const struct replay_loss **list)
{
	*list = st->losses;
	return st->nlosses;
}

uint64_t replay_lost_events(const struct replay *rp)
{
	return rp->state ? rp->state->lost : 0;
}

/* ---- the update -------------------------------------------------- */

static void procs_update(struct replay_state *st, const struct tape_record *rec)
{
	const struct tt_task *t = replay_record_task(rec);
	/* One lookup serves the task and its exec or exit below (a fork
	 * inserts the child, which may move entries: it looks up again). */
	struct replay_proc *p = t ? proc_from_task(st, t) : NULL;
	switch (rec->type) {
	case TT_REC_FORK:
		if (rec->len >= sizeof(struct tt_fork))
			proc_on_fork(st, rec);
		break;
	case TT_REC_EXEC:
		if (p)
			proc_on_exec(p, rec);
		break;
	case TT_REC_EXIT:
		if (p && rec->len >= sizeof(struct tt_exit))
			proc_on_exit(p, rec);
		break;
	case TT_REC_PROC:
		proc_on_snapshot(st, rec);
		break;
	}
	if (rec->ts - st->last_sweep_ts > SWEEP_EVERY_NS &&
	    rec->ts > st->last_sweep_ts) {
		proc_sweep(st, UINT64_MAX);
		st->last_sweep_ts = rec->ts;
	}
}

void replay_state_update(struct replay_state *st, const struct tape_record *rec,
			 bool in_window)
{
	if (rec->ts > st->now_ts)
		st->now_ts = rec->ts;
	if (in_window)
		st->window_entered = true;
	if (st->keep_procs)
		procs_update(st, rec);
	switch (rec->type) {
	case TT_REC_CLOCK: {
		struct replay_clock ck;
		if (replay_clock_from_record(rec, &ck))
			clock_add(st, &ck);
		break;
	}
	case TT_REC_USER:
		user_add(st, rec);
		break;
	case TT_REC_LOSS:
		if (in_window)
			loss_add(st, rec);
		break;
	case TT_REC_LOADAVG:
		if (st->window_entered)
			break;
		tape_rec_fixed(rec, &st->load_before, sizeof(st->load_before));
		st->have_loadavg = true;
		break;
	}
}

bool replay_loadavg_before_window(const struct replay *rp,
				  struct tt_loadavg *out)
{
	if (!rp->state->have_loadavg)
		return false;
	*out = rp->state->load_before;
	return true;
}
