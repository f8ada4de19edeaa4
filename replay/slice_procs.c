/* SPDX-License-Identifier: MIT */
/*
 * slice_procs.c - the process table of `tracetape slice`: see slice.h.
 *
 * Memory: one entry per live process (pid_max bounds it); exited
 * processes stay EXITED_KEEP_NS of tape time, so that records the
 * recorder wrote a little after the exit (read/write sums flushed late)
 * are still attributed, then leave.
 */
#include <stdlib.h>
#include <string.h>

#include "slice.h"

#define BUCKETS	       4096u
#define ANCESTRY_MAX   64 /* ppid links followed; more means a loop */
#define EXITED_KEEP_NS (10ull * 1000000000ull)
#define REUSE_SLACK_NS (1000000000ull) /* start times closer: same proc */

struct sproc {
	struct sproc *next;
	uint32_t pid, ppid;
	uint64_t start_ts;
	uint64_t exit_ts; /* 0 = alive */
	bool kept;	  /* sticky: chosen, or a descendant with --tree */
	bool seen;	  /* listed by the snapshot being read */
	bool emit;	  /* marked for the snapshot being written */
	void *body;	  /* a TT_REC_PROC body */
	uint32_t len;
};

struct slice_procs {
	struct sproc *buckets[BUCKETS];
	size_t n;
	uint32_t pids[SLICE_PIDS_MAX];
	size_t npids;
	bool tree;
	const char *comm;
	bool dirty;	   /* entries added since kept flags were worked out */
	bool in_snapshot;  /* between snapshot_begin and _end */
	bool snapshot_any; /* the snapshot listed at least one process */
	uint64_t now_ts;
	uint64_t last_sweep_ts;
};

struct slice_procs *slice_procs_new(const uint32_t *pids, size_t npids,
				    bool tree, const char *comm)
{
	struct slice_procs *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->npids = npids < SLICE_PIDS_MAX ? npids : SLICE_PIDS_MAX;
	memcpy(sp->pids, pids, sp->npids * sizeof(*pids));
	sp->tree = tree;
	sp->comm = comm;
	return sp;
}

static void sproc_free(struct sproc *p)
{
	free(p->body);
	free(p);
}

void slice_procs_free(struct slice_procs *sp)
{
	if (!sp)
		return;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct sproc *p = sp->buckets[b], *next;
		for (; p; p = next) {
			next = p->next;
			sproc_free(p);
		}
	}
	free(sp);
}

static struct sproc **slot_of(struct slice_procs *sp, uint32_t pid)
{
	struct sproc **pp = &sp->buckets[(pid * 2654435761u) % BUCKETS];
	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static struct sproc *find(struct slice_procs *sp, uint32_t pid)
{
	return *slot_of(sp, pid);
}

static struct sproc *get_or_add(struct slice_procs *sp, uint32_t pid)
{
	struct sproc **pp = slot_of(sp, pid);
	if (*pp)
		return *pp;
	struct sproc *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	*pp = p;
	sp->n++;
	sp->dirty = true;
	return p;
}

/* Remove every entry for which GONE says so. */
static void remove_if(struct slice_procs *sp,
		      bool (*gone)(const struct slice_procs *sp,
				   const struct sproc *p))
{
	for (size_t b = 0; b < BUCKETS; b++) {
		struct sproc **pp = &sp->buckets[b];
		while (*pp) {
			struct sproc *p = *pp;
			if (!gone(sp, p)) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			sproc_free(p);
			sp->n--;
		}
	}
}

static bool chosen(const struct slice_procs *sp, uint32_t pid)
{
	for (size_t i = 0; i < sp->npids; i++)
		if (sp->pids[i] == pid)
			return true;
	return false;
}

/* Kept: chosen, marked before, or (--tree) a kept ancestor. */
static bool work_out_kept(struct slice_procs *sp, struct sproc *p)
{
	struct sproc *q = p;
	bool kept = false;
	for (int depth = 0; q && depth < ANCESTRY_MAX; depth++) {
		if (q->kept || chosen(sp, q->pid)) {
			kept = true;
			break;
		}
		if (!sp->tree || !q->ppid || q->ppid == q->pid)
			break;
		q = find(sp, q->ppid);
	}
	p->kept = kept;
	return kept;
}

static void refresh_kept(struct slice_procs *sp)
{
	if (!sp->dirty)
		return;
	sp->dirty = false;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sproc *p = sp->buckets[b]; p; p = p->next)
			work_out_kept(sp, p);
}

bool slice_procs_keeps(struct slice_procs *sp, uint32_t pid)
{
	refresh_kept(sp);
	const struct sproc *p = find(sp, pid);
	return p ? p->kept : chosen(sp, pid);
}

/* ---- snapshots --------------------------------------------------- */

void slice_procs_snapshot_begin(struct slice_procs *sp)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sproc *p = sp->buckets[b]; p; p = p->next)
			p->seen = false;
	sp->in_snapshot = true;
	sp->snapshot_any = false;
}

static bool unseen(const struct slice_procs *sp, const struct sproc *p)
{
	(void)sp;
	return !p->seen;
}

void slice_procs_snapshot_end(struct slice_procs *sp)
{
	/* A segment whose snapshot is missing (damage, a test tape) says
	 * nothing about who died. */
	if (sp->in_snapshot && sp->snapshot_any)
		remove_if(sp, unseen);
	sp->in_snapshot = false;
}

/* ---- bodies ------------------------------------------------------ */

static int set_body(struct sproc *p, const struct tt_proc *fixed,
		    const char *exe, size_t exe_len, const char *args,
		    size_t args_len)
{
	size_t len = sizeof(*fixed) + exe_len + args_len;
	char *b = malloc(len);
	if (!b)
		return -1;
	memcpy(b, fixed, sizeof(*fixed));
	if (exe_len)
		memcpy(b + sizeof(*fixed), exe, exe_len);
	if (args_len)
		memcpy(b + sizeof(*fixed) + exe_len, args, args_len);
	free(p->body);
	p->body = b;
	p->len = (uint32_t)len;
	return 0;
}

static void body_fixed(const struct sproc *p, struct tt_proc *out)
{
	memset(out, 0, sizeof(*out));
	if (p->body)
		memcpy(out, p->body,
		       p->len < sizeof(*out) ? p->len : sizeof(*out));
}

static bool same_process(const struct sproc *p, uint64_t start_ts)
{
	if (!p->start_ts || !start_ts)
		return true;
	uint64_t d = p->start_ts > start_ts ? p->start_ts - start_ts
					    : start_ts - p->start_ts;
	return d < REUSE_SLACK_NS;
}

static int on_proc(struct slice_procs *sp, const struct tape_record *rec)
{
	struct tt_proc f;
	if (rec->len < offsetof(struct tt_proc, exe_len))
		return 0;
	tape_rec_fixed(rec, &f, sizeof(f));
	struct sproc *p = get_or_add(sp, f.pid);
	if (!p)
		return -1;
	if (!same_process(p, f.start_ts))
		p->kept = false; /* the pid was reused */
	p->ppid = f.ppid;
	p->start_ts = f.start_ts;
	p->exit_ts = 0;
	p->seen = true;
	sp->snapshot_any = true;
	sp->dirty = true;
	char *b = malloc(rec->len);
	if (!b)
		return -1;
	memcpy(b, rec->body, rec->len);
	free(p->body);
	p->body = b;
	p->len = rec->len;
	return 0;
}

static int on_fork(struct slice_procs *sp, const struct tape_record *rec)
{
	struct tt_fork f;
	if (rec->len < sizeof(f))
		return 0;
	tape_rec_fixed(rec, &f, sizeof(f));
	struct sproc *parent = find(sp, f.task.pid);
	bool parent_kept =
		parent ? work_out_kept(sp, parent) : chosen(sp, f.task.pid);
	struct tt_proc fixed;
	const char *strings = NULL;
	size_t strings_len = 0;
	if (parent && parent->body && parent->len > sizeof(fixed)) {
		strings = (const char *)parent->body + sizeof(fixed);
		strings_len = parent->len - sizeof(fixed);
	}
	if (parent)
		body_fixed(parent, &fixed);
	else
		memset(&fixed, 0, sizeof(fixed));
	struct sproc *c = get_or_add(sp, f.child_pid);
	if (!c)
		return -1;
	fixed.pid = f.child_pid;
	fixed.ppid = f.task.pid;
	fixed.uid = f.task.uid;
	fixed.start_ts = rec->ts;
	memcpy(fixed.comm, f.task.comm, TT_COMM_LEN);
	/* The parent's exe and args, as the child has them until exec. */
	if (set_body(c, &fixed, strings, strings_len, NULL, 0) < 0)
		return -1;
	c->ppid = f.task.pid;
	c->start_ts = rec->ts;
	c->exit_ts = 0;
	c->seen = true;
	c->kept = chosen(sp, c->pid) || (sp->tree && parent_kept);
	return 0;
}

static int on_exec(struct slice_procs *sp, const struct tape_record *rec)
{
	struct replay_exec ex;
	if (replay_decode_exec(rec, &ex) < 0 || ex.f.ret != 0)
		return 0;
	struct sproc *p = get_or_add(sp, ex.f.task.pid);
	if (!p)
		return -1;
	struct tt_proc fixed;
	body_fixed(p, &fixed);
	fixed.pid = ex.f.task.pid;
	if (ex.f.ppid)
		fixed.ppid = p->ppid = ex.f.ppid;
	fixed.uid = ex.f.task.uid;
	fixed.argc = ex.f.argc;
	memcpy(fixed.comm, ex.f.task.comm, TT_COMM_LEN);
	size_t exe_len = ex.filename[0] ? strlen(ex.filename) + 1 : 0;
	fixed.exe_len = (uint16_t)exe_len;
	fixed.args_len = (uint32_t)ex.args_len;
	p->seen = true;
	return set_body(p, &fixed, ex.filename, exe_len, ex.args, ex.args_len);
}

static bool exited_long_ago(const struct slice_procs *sp, const struct sproc *p)
{
	return p->exit_ts && sp->now_ts > p->exit_ts &&
	       sp->now_ts - p->exit_ts > EXITED_KEEP_NS;
}

static void on_exit_rec(struct slice_procs *sp, const struct tape_record *rec)
{
	const struct tt_task *t = replay_record_task(rec);
	struct sproc *p = t ? find(sp, t->pid) : NULL;
	if (p)
		p->exit_ts = rec->ts ? rec->ts : 1;
}

int slice_procs_update(struct slice_procs *sp, const struct tape_record *rec)
{
	if (rec->ts > sp->now_ts)
		sp->now_ts = rec->ts;
	if (sp->now_ts - sp->last_sweep_ts > EXITED_KEEP_NS) {
		remove_if(sp, exited_long_ago);
		sp->last_sweep_ts = sp->now_ts;
	}
	switch (rec->type) {
	case TT_REC_PROC:
		return on_proc(sp, rec);
	case TT_REC_FORK:
		return on_fork(sp, rec);
	case TT_REC_EXEC:
		return on_exec(sp, rec);
	case TT_REC_EXIT:
		on_exit_rec(sp, rec);
		return 0;
	}
	return 0;
}

/* ---- the snapshot written ---------------------------------------- */

static bool comm_matches(const struct slice_procs *sp, const struct sproc *p)
{
	if (!sp->comm)
		return true;
	struct tt_proc f;
	body_fixed(p, &f);
	return strncmp(f.comm, sp->comm, TT_COMM_LEN) == 0;
}

/* Mark P and its ancestors for the snapshot. */
static void mark_with_ancestors(struct slice_procs *sp, struct sproc *p)
{
	for (int depth = 0; p && !p->emit && depth < ANCESTRY_MAX; depth++) {
		p->emit = true;
		if (!p->ppid || p->ppid == p->pid)
			break;
		p = find(sp, p->ppid);
	}
}

static int by_pid(const void *a, const void *b)
{
	const struct sproc *x = *(const struct sproc *const *)a;
	const struct sproc *y = *(const struct sproc *const *)b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int slice_procs_snapshot(struct slice_procs *sp,
			 int (*emit)(const void *body, uint32_t len, void *ctx),
			 void *ctx)
{
	refresh_kept(sp);
	bool by_pid_filter = sp->npids > 0;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sproc *p = sp->buckets[b]; p; p = p->next)
			p->emit = false;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sproc *p = sp->buckets[b]; p; p = p->next)
			if (!p->exit_ts && p->body &&
			    (!by_pid_filter || p->kept) && comm_matches(sp, p))
				mark_with_ancestors(sp, p);
	struct sproc **list = calloc(sp->n ? sp->n : 1, sizeof(*list));
	if (!list)
		return -1;
	size_t n = 0;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sproc *p = sp->buckets[b]; p; p = p->next)
			if (p->emit && !p->exit_ts && p->body)
				list[n++] = p;
	qsort(list, n, sizeof(*list), by_pid);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = emit(list[i]->body, list[i]->len, ctx);
	free(list);
	return rc;
}
