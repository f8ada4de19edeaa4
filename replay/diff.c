/* SPDX-License-Identifier: MIT */
/*
 * diff.c - `tracetape diff A B`: what changed between two recordings.
 *
 * Each tape is replayed once through the ordinary driver into a summary:
 * hash maps keyed by strings with pids and timestamps left out (and, with
 * --normalize, volatile parts of names folded), so memory grows with the
 * number of distinct keys, not with the number of events.  The two
 * summaries are then compared key by key.  Sections:
 *
 *   opens     count of opens per (comm, path, result)
 *   files     calls and bytes read and written per (comm, file)
 *   life      files created, deleted and renamed per (comm, path)
 *   exec      execs per (argv, outcome: exit status or errno)
 *   commands  lines typed into bash
 *
 * The exit status is diff(1)'s: 0 no difference, 1 differences, 2
 * trouble, so that a CI job can gate on it.
 */
#include "replay.h"
#include "strmap.h"
#include "diff_norm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIFF_KEY_MAX  8192
#define DIFF_PATH_MAX 4096

enum diff_section {
	SEC_OPENS,
	SEC_FILES,
	SEC_LIFE,
	SEC_EXEC,
	SEC_COMMANDS,
	SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {"opens", "files", "life",
						     "exec", "commands"};

/* What each section's key fields are, for the report. */
static const char *const section_titles[SEC_COUNT] = {
	"opens: count per comm, path, result",
	"files: calls and bytes read and written per comm, file",
	"life: files created, deleted and renamed per event, comm, path",
	"exec: count per argv, outcome", "commands: lines typed into bash"};

static const char *const section_fields[SEC_COUNT][3] = {
	{"comm", "path", "result"},
	{"comm", "file", NULL},
	{"event", "comm", "path"},
	{"argv", "outcome", NULL},
	{"line", NULL, NULL}};

struct diff_opts {
	unsigned sections; /* bit per enum diff_section */
	const char *name;  /* -n: only processes with this comm */
	bool tree;	   /* --tree: and their descendants */
	bool normalize;
	uint64_t min_count, min_bytes;
};

/* The value kept per key. */
struct diff_val {
	uint64_t count;
	uint64_t reads, writes, rbytes, wbytes;
};

/* One tape's summary. */
struct diff_side {
	const char *label; /* "A" or "B" */
	const char *path;
	const struct diff_opts *o;
	struct strmap *sec[SEC_COUNT];
	struct strmap *inodes; /* (dev, ino) -> char * resolved path */
	struct strmap *procs;  /* pid -> struct diff_proc */
	uint64_t events, first_ts, last_ts;
	char first_time[REPLAY_ISO_LEN], last_time[REPLAY_ISO_LEN];
	uint64_t lost, damaged, damaged_records;
	bool oom;
};

/* A live process: in -n scope?  and the exec key awaiting its exit. */
struct diff_proc {
	bool in_scope;
	char *exec_argv; /* normalised argv of its last successful exec */
};

/* ------------------------------------------------------------------ */
/* Keys                                                                 */

/* A key under construction: fields joined by NUL bytes. */
struct key {
	char buf[DIFF_KEY_MAX];
	size_t len;
};

/* An empty key (the buffer is left as it is: zeroing 8 KiB per event
 * would cost more than the rest of the key's work). */
static void key_reset(struct key *k)
{
	k->len = 0;
	k->buf[0] = '\0';
}

static void key_add(struct key *k, const char *s, size_t len)
{
	if (k->len && k->len < sizeof(k->buf))
		k->buf[k->len++] = '\0';
	if (len > sizeof(k->buf) - 1 - k->len)
		len = sizeof(k->buf) - 1 - k->len;
	memcpy(k->buf + k->len, s, len);
	k->len += len;
	k->buf[k->len] = '\0';
}

static void key_str(struct key *k, const char *s)
{
	key_add(k, s, strlen(s));
}

/* A name, folded with --normalize. */
static void key_name(struct key *k, const struct diff_opts *o, const char *s)
{
	char folded[DIFF_KEY_MAX];
	size_t n;

	if (!o->normalize) {
		key_str(k, s);
		return;
	}
	n = diff_normalize(s, strlen(s), folded, sizeof(folded));
	key_add(k, folded, n < sizeof(folded) ? n : sizeof(folded) - 1);
}

static struct diff_val *side_val(struct diff_side *s, enum diff_section sec,
				 const struct key *k)
{
	struct diff_val *v = strmap_get(s->sec[sec], k->buf, k->len, NULL);

	if (!v)
		s->oom = true;
	return v;
}

static void count_key(struct diff_side *s, enum diff_section sec,
		      const struct key *k)
{
	struct diff_val *v = side_val(s, sec, k);

	if (v)
		v->count++;
}

/* ------------------------------------------------------------------ */
/* Scope (-n NAME [--tree]) and process bookkeeping                    */

static struct diff_proc *proc_get(struct diff_side *s, uint32_t pid)
{
	struct diff_proc *p = strmap_get(s->procs, &pid, sizeof(pid), NULL);

	if (!p)
		s->oom = true;
	return p;
}

static void proc_forget(struct diff_side *s, uint32_t pid)
{
	struct diff_proc *p = strmap_find(s->procs, &pid, sizeof(pid));

	if (!p)
		return;
	free(p->exec_argv);
	strmap_remove(s->procs, &pid, sizeof(pid));
}

/* Comm holds at most 15 characters: a longer NAME matches by prefix. */
static bool comm_is(const struct tt_task *t, const char *name)
{
	char comm[TT_COMM_LEN + 1];

	replay_task_comm(t, comm);
	if (strlen(name) >= TT_COMM_LEN - 1)
		return strncmp(comm, name, TT_COMM_LEN - 1) == 0;
	return strcmp(comm, name) == 0;
}

/* Is the event of task T inside -n / --tree scope? */
static bool in_scope(struct diff_side *s, const struct tt_task *t)
{
	struct diff_proc *p;

	if (!s->o->name)
		return true;
	if (comm_is(t, s->o->name)) {
		if (s->o->tree && (p = proc_get(s, t->pid)) != NULL)
			p->in_scope = true;
		return true;
	}
	if (!s->o->tree)
		return false;
	p = strmap_find(s->procs, &t->pid, sizeof(t->pid));
	return p && p->in_scope;
}

/* ------------------------------------------------------------------ */
/* Taking in records                                                    */

static void remember_inode(struct diff_side *s, uint64_t dev, uint64_t ino,
			   const char *path)
{
	uint64_t k[2] = {dev, ino};
	char **v = strmap_get(s->inodes, k, sizeof(k), NULL);
	char *copy = strdup(path);

	if (!v || !copy) {
		free(copy);
		s->oom = true;
		return;
	}
	free(*v);
	*v = copy;
}

static void take_open(struct diff_side *s, const struct replay_file_op *op,
		      const char *path)
{
	char comm[TT_COMM_LEN + 1], ebuf[32];
	struct key k;
	bool ok = op->f.ret >= 0;

	replay_task_comm(&op->f.task, comm);
	if (ok)
		remember_inode(s, op->f.dev, op->f.ino, path);
	key_reset(&k);
	key_str(&k, comm);
	key_name(&k, s->o, path);
	key_str(&k,
		ok ? "ok" : replay_errno_name(op->f.ret, ebuf, sizeof(ebuf)));
	count_key(s, SEC_OPENS, &k);
	if (ok && (op->f.fmode & TT_FMODE_CREATED)) {
		key_reset(&k);
		key_str(&k, "created");
		key_str(&k, comm);
		key_name(&k, s->o, path);
		count_key(s, SEC_LIFE, &k);
	}
}

static void take_life(struct diff_side *s, const char *event,
		      const struct tt_task *t, const char *path,
		      const char *path2)
{
	char comm[TT_COMM_LEN + 1], both[2 * DIFF_PATH_MAX + 8];
	struct key k;

	replay_task_comm(t, comm);
	key_reset(&k);
	key_str(&k, event);
	key_str(&k, comm);
	if (path2) {
		snprintf(both, sizeof(both), "%s -> %s", path, path2);
		key_name(&k, s->o, both);
	} else {
		key_name(&k, s->o, path);
	}
	count_key(s, SEC_LIFE, &k);
}

static void take_file_op(struct diff_side *s, const struct tape_record *rec)
{
	struct replay_file_op op;
	char path[DIFF_PATH_MAX], path2[DIFF_PATH_MAX];

	if (replay_decode_file_op(rec, &op) < 0 || !in_scope(s, &op.f.task))
		return;
	replay_resolve_path(op.dir, op.dir_len, op.path, path, sizeof(path));
	if (rec->type == TT_REC_OPEN) {
		if (s->o->sections &
		    (1u << SEC_OPENS | 1u << SEC_FILES | 1u << SEC_LIFE))
			take_open(s, &op, path);
		return;
	}
	if (op.f.ret != 0)
		return;
	if (rec->type == TT_REC_UNLINK) {
		bool dir = op.f.syscall == TT_SYS_RMDIR ||
			   (op.f.syscall == TT_SYS_UNLINKAT &&
			    (op.f.flags & 0x200));

		take_life(s, dir ? "rmdir" : "deleted", &op.f.task, path, NULL);
		return;
	}
	replay_resolve_path(op.dir2, op.dir2_len, op.path2, path2,
			    sizeof(path2));
	take_life(s, "renamed", &op.f.task, path, path2);
}

/* PREFIX then NAME into OUT (SIZE bytes), cut to fit. */
static void join2(char *out, size_t size, const char *prefix, const char *name)
{
	size_t a = strlen(prefix), b = strlen(name);

	if (a > size - 1)
		a = size - 1;
	if (b > size - 1 - a)
		b = size - 1 - a;
	memcpy(out, prefix, a);
	memcpy(out + a, name, b);
	out[a + b] = '\0';
}

/* The file of a read/write record: its path when an open named it. */
static void rw_file(struct diff_side *s, const struct replay_rw *rw, char *out,
		    size_t size)
{
	uint64_t k[2] = {rw->f.dev, rw->f.ino};
	char **known = strmap_find(s->inodes, k, sizeof(k));
	uint16_t mode = rw->f.i_mode;

	if (S_ISSOCK(mode))
		join2(out, size, "socket:", rw->name);
	else if (S_ISFIFO(mode))
		join2(out, size, "pipe:", rw->name);
	else if (known)
		join2(out, size, "", *known);
	else
		join2(out, size, S_ISREG(mode) ? "" : "other:", rw->name);
}

static void take_rw(struct diff_side *s, const struct tape_record *rec)
{
	struct replay_rw rw;
	char comm[TT_COMM_LEN + 1], file[DIFF_PATH_MAX + 16];
	struct key k;
	struct diff_val *v;

	if (replay_decode_rw(rec, &rw) < 0 || !in_scope(s, &rw.f.task))
		return;
	replay_task_comm(&rw.f.task, comm);
	rw_file(s, &rw, file, sizeof(file));
	key_reset(&k);
	key_str(&k, comm);
	key_name(&k, s->o, file);
	v = side_val(s, SEC_FILES, &k);
	if (!v)
		return;
	v->reads += rw.f.reads;
	v->writes += rw.f.writes;
	v->rbytes += rw.f.rbytes;
	v->wbytes += rw.f.wbytes;
}

/* argv as one shell-quoted line (the filename when argv is absent). */
static void join_args(const struct replay_exec *ex, char *out, size_t size)
{
	if (!replay_argv_shell_join(ex->args, ex->args_len, out, size))
		snprintf(out, size, "%s", ex->filename);
}

static void count_exec(struct diff_side *s, const char *argv,
		       const char *outcome)
{
	struct key k;

	key_reset(&k);
	key_str(&k, argv);
	key_str(&k, outcome);
	count_key(s, SEC_EXEC, &k);
}

/*
 * A failed exec is counted at once with its errno; a successful one when
 * its process exits, with the exit status ("exit 0"), or at the end as
 * "running".
 */
static void take_exec(struct diff_side *s, const struct tape_record *rec)
{
	struct replay_exec ex;
	char argv[DIFF_KEY_MAX], folded[DIFF_KEY_MAX], ebuf[32];
	struct diff_proc *p;

	if (replay_decode_exec(rec, &ex) < 0 || !in_scope(s, &ex.f.task))
		return;
	join_args(&ex, argv, sizeof(argv));
	if (s->o->normalize) {
		diff_normalize(argv, strlen(argv), folded, sizeof(folded));
		memcpy(argv, folded, sizeof(argv));
	}
	if (ex.f.ret < 0) {
		count_exec(s, argv,
			   replay_errno_name(ex.f.ret, ebuf, sizeof(ebuf)));
		return;
	}
	p = proc_get(s, ex.f.task.pid);
	if (!p)
		return;
	if (p->exec_argv) /* exec'd again before exiting */
		count_exec(s, p->exec_argv, "exec'd again");
	free(p->exec_argv);
	p->exec_argv = strdup(argv);
	if (!p->exec_argv)
		s->oom = true;
}

static void take_exit(struct diff_side *s, const struct tape_record *rec)
{
	struct tt_exit x;
	struct diff_proc *p;
	char outcome[64];

	tape_rec_fixed(rec, &x, sizeof(x));
	p = strmap_find(s->procs, &x.task.pid, sizeof(x.task.pid));
	if (!p)
		return;
	if (p->exec_argv) {
		replay_wait_status_text(x.exit_code, outcome, sizeof(outcome));
		count_exec(s, p->exec_argv, outcome);
	}
	proc_forget(s, x.task.pid);
}

/* A new process; with --tree, a child of a process in scope is in it. */
static void take_fork(struct diff_side *s, const struct tape_record *rec)
{
	struct tt_fork f;
	struct diff_proc *child, *stale;

	tape_rec_fixed(rec, &f, sizeof(f));
	/* A new process: an earlier one of that pid is gone, its exit lost. */
	stale = strmap_find(s->procs, &f.child_pid, sizeof(f.child_pid));
	if (stale && stale->exec_argv)
		count_exec(s, stale->exec_argv, "no exit seen");
	proc_forget(s, f.child_pid);
	if (!s->o->tree || !in_scope(s, &f.task))
		return;
	child = proc_get(s, f.child_pid);
	if (child)
		child->in_scope = true;
}

static void take_readline(struct diff_side *s, const struct tape_record *rec)
{
	struct replay_readline rl;
	struct key k;

	if (replay_decode_readline(rec, &rl) < 0 || !in_scope(s, &rl.f.task))
		return;
	key_reset(&k);
	key_name(&k, s->o, rl.line);
	count_key(s, SEC_COMMANDS, &k);
}

static void note_time(struct diff_side *s, struct replay *rp, uint64_t ts)
{
	if (!s->first_ts) {
		s->first_ts = ts;
		replay_fmt_iso(rp, ts, s->first_time);
	}
	s->last_ts = ts;
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct diff_side *s = ctx;

	if (rec->type >= 0x1000)
		return 0;
	note_time(s, rp, rec->ts);
	s->events++;
	switch (rec->type) {
	case TT_REC_OPEN:
	case TT_REC_UNLINK:
	case TT_REC_RENAME:
		take_file_op(s, rec);
		break;
	case TT_REC_RW:
		if (s->o->sections & (1u << SEC_FILES))
			take_rw(s, rec);
		break;
	case TT_REC_EXEC:
		take_exec(s, rec);
		break;
	case TT_REC_FORK:
		take_fork(s, rec);
		break;
	case TT_REC_EXIT:
		take_exit(s, rec);
		break;
	case TT_REC_READLINE:
		take_readline(s, rec);
		break;
	}
	if (s->oom) {
		fprintf(rp->err,
			"tracetape diff: %s: out of memory summarising the "
			"tape; narrow the window with --since/--until or "
			"scope with -n\n",
			rp->tape);
		return REPLAY_EXIT_TROUBLE;
	}
	return 0;
}

/* Execs still running at the end, then losses and damage. */
static int finish(struct replay *rp, void *ctx)
{
	struct diff_side *s = ctx;
	struct strmap_entry *e = strmap_entries(s->procs);
	size_t n = strmap_count(s->procs);
	const struct tape_damage *d;

	for (size_t i = 0; e && i < n; i++) {
		struct diff_proc *p = e[i].value;

		if (p->exec_argv)
			count_exec(s, p->exec_argv, "running");
	}
	free(e);
	if (s->last_ts)
		replay_fmt_iso(rp, s->last_ts, s->last_time);
	s->lost = replay_lost_events(rp);
	n = tape_reader_damage(rp->reader, &d);
	for (size_t i = 0; i < n; i++) {
		if (!replay_damage_in_window(rp, &d[i]))
			continue;
		s->damaged++;
		s->damaged_records += d[i].records_lost;
	}
	return s->oom ? REPLAY_EXIT_TROUBLE : REPLAY_EXIT_OK;
}

static int side_init(struct diff_side *s, const char *label, const char *path,
		     const struct diff_opts *o)
{
	s->label = label;
	s->path = path;
	s->o = o;
	for (int i = 0; i < SEC_COUNT; i++)
		if (!(s->sec[i] = strmap_new(sizeof(struct diff_val))))
			return -1;
	s->inodes = strmap_new(sizeof(char *));
	s->procs = strmap_new(sizeof(struct diff_proc));
	return s->inodes && s->procs ? 0 : -1;
}

static void free_values(struct strmap *m, size_t offset)
{
	struct strmap_entry *e;
	size_t n;

	if (!m)
		return;
	n = strmap_count(m);
	e = strmap_entries(m);
	for (size_t i = 0; e && i < n; i++)
		free(*(char **)((char *)e[i].value + offset));
	free(e);
}

static void side_free(struct diff_side *s)
{
	for (int i = 0; i < SEC_COUNT; i++)
		strmap_free(s->sec[i]);
	free_values(s->inodes, 0);
	strmap_free(s->inodes);
	free_values(s->procs, offsetof(struct diff_proc, exec_argv));
	strmap_free(s->procs);
}

/*
 * Summarise one tape through the driver.  Its own loss and damage
 * warnings are turned off: the report names the tape they concern.
 */
static int summarise(struct diff_side *s, const struct replay_common *c,
		     const struct replay_env *env)
{
	struct replay_common one = *c;
	struct replay_ops ops = {.on_record = on_record,
				 .finish = finish,
				 .ctx = s,
				 .flags = REPLAY_F_NO_WARNINGS |
					  REPLAY_F_NO_PROCS};

	one.tape = s->path;
	one.json = false;
	return replay_run(&one, &ops, env);
}

/* ------------------------------------------------------------------ */
/* Comparing                                                            */

/* One difference to report. */
struct diff_row {
	enum diff_section sec;
	const char *key;
	size_t len;
	struct diff_val a, b;
	uint64_t weight; /* size of the change, for ordering */
};

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* Does the change from A to B pass the thresholds? */
static bool is_difference(const struct diff_opts *o, enum diff_section sec,
			  const struct diff_val *a, const struct diff_val *b,
			  uint64_t *weight)
{
	uint64_t calls, bytes;

	if (sec != SEC_FILES) {
		*weight = absdiff(a->count, b->count);
		return *weight && *weight >= o->min_count;
	}
	calls = absdiff(a->reads, b->reads) + absdiff(a->writes, b->writes);
	bytes = absdiff(a->rbytes, b->rbytes) + absdiff(a->wbytes, b->wbytes);
	*weight = bytes ? bytes : calls;
	return (calls && calls >= o->min_count) ||
	       (bytes && bytes >= o->min_bytes);
}

static int by_weight(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c;

	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

struct diff_rows {
	struct diff_row *v;
	size_t n, cap;
	size_t per_sec[SEC_COUNT];
};

static int add_row(struct diff_rows *r, const struct diff_row *row)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct diff_row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *row;
	r->per_sec[row->sec]++;
	return 0;
}

/* Keys of FROM, looked up in OTHER.  ONLY_MISSING: keys OTHER lacks. */
static int compare_map(const struct diff_opts *o, enum diff_section sec,
		       struct strmap *from, struct strmap *other,
		       bool from_is_a, bool only_missing, struct diff_rows *r)
{
	size_t n = strmap_count(from);
	struct strmap_entry *e = strmap_entries(from);
	int err = 0;

	if (n && !e)
		return -1;
	for (size_t i = 0; i < n && !err; i++) {
		const struct diff_val zero = {0};
		const struct diff_val *mine = e[i].value;
		const struct diff_val *theirs =
			strmap_find(other, e[i].key, e[i].len);
		struct diff_row row = {
			.sec = sec, .key = e[i].key, .len = e[i].len};

		if (only_missing && theirs)
			continue;
		if (!theirs)
			theirs = &zero;
		row.a = from_is_a ? *mine : *theirs;
		row.b = from_is_a ? *theirs : *mine;
		if (is_difference(o, sec, &row.a, &row.b, &row.weight))
			err = add_row(r, &row);
	}
	free(e);
	return err;
}

static int compare(const struct diff_opts *o, struct diff_side *a,
		   struct diff_side *b, struct diff_rows *r)
{
	for (int sec = 0; sec < SEC_COUNT; sec++) {
		if (!(o->sections & (1u << sec)))
			continue;
		if (compare_map(o, sec, a->sec[sec], b->sec[sec], true, false,
				r) ||
		    compare_map(o, sec, b->sec[sec], a->sec[sec], false, true,
				r))
			return -1;
	}
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), by_weight);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Report                                                               */

static char change_sign(const struct diff_row *row)
{
	bool in_a = row->a.count || row->a.reads || row->a.writes;
	bool in_b = row->b.count || row->b.reads || row->b.writes;

	if (in_a && in_b)
		return '~';
	return in_b ? '+' : '-';
}

static const char *change_name(char sign)
{
	return sign == '+' ? "added" : sign == '-' ? "removed" : "changed";
}

/* The NUL-separated fields of a key, one by one. */
static const char *key_field(const struct diff_row *row, size_t *pos)
{
	const char *f;

	if (*pos > row->len)
		return NULL;
	f = row->key + *pos;
	*pos += strlen(f) + 1;
	return f;
}

/* "       1 -> 3        (+2)" ; PAD: pad the delta for a key to follow. */
static void text_delta(FILE *f, const char *what, uint64_t a, uint64_t b,
		       bool pad)
{
	char d[32];

	snprintf(d, sizeof(d), "(%s%" PRIu64 ")", b >= a ? "+" : "-",
		 absdiff(a, b));
	fprintf(f, "%s%8" PRIu64 " -> %-8" PRIu64 " %-*s", what, a, b,
		pad ? 10 : 0, d);
}

static void text_key(FILE *f, const struct diff_row *row)
{
	size_t pos = 0;
	const char *field;
	bool first = true;

	while ((field = key_field(row, &pos)) != NULL) {
		fputs(first ? "" : "  ", f);
		replay_text_write(f, *field ? field : "\"\"");
		first = false;
	}
}

static void text_files_row(FILE *f, const struct diff_row *row)
{
	static const char *const names[] = {"reads", "writes", "rbytes",
					    "wbytes"};
	const uint64_t a[] = {row->a.reads, row->a.writes, row->a.rbytes,
			      row->a.wbytes};
	const uint64_t b[] = {row->b.reads, row->b.writes, row->b.rbytes,
			      row->b.wbytes};

	fprintf(f, "%c ", change_sign(row));
	text_key(f, row);
	fputc('\n', f);
	for (int i = 0; i < 4; i++) {
		char label[16];

		if (a[i] == b[i])
			continue;
		snprintf(label, sizeof(label), "    %-6s", names[i]);
		text_delta(f, label, a[i], b[i], false);
		fputc('\n', f);
	}
}

static void text_row(FILE *f, const struct diff_row *row)
{
	if (row->sec == SEC_FILES) {
		text_files_row(f, row);
		return;
	}
	fprintf(f, "%c", change_sign(row));
	text_delta(f, "", row->a.count, row->b.count, true);
	text_key(f, row);
	fputc('\n', f);
}

static void text_side(FILE *f, const char *mark, const struct diff_side *s)
{
	fprintf(f, "%s %s ", mark, s->label);
	replay_text_write(f, s->path);
	if (s->first_ts)
		fprintf(f, "  %s .. %s", s->first_time, s->last_time);
	fprintf(f, "  %" PRIu64 " event%s\n", s->events,
		s->events == 1 ? "" : "s");
}

static void text_warnings(const struct replay_env *env,
			  const struct diff_side *s)
{
	FILE *f = env->out;

	if (s->lost)
		fprintf(f,
			"warning: %s lost %" PRIu64 " events while recording "
			"(ring buffer full) in the compared window: a "
			"difference may come from the loss\n",
			s->label, s->lost);
	if (s->damaged) {
		fprintf(f,
			"warning: %s is damaged: %" PRIu64 " unreadable "
			"part%s in the compared window",
			s->label, s->damaged, s->damaged == 1 ? "" : "s");
		if (s->damaged_records)
			fprintf(f, " (%" PRIu64 " records lost)",
				s->damaged_records);
		fprintf(f, ": a difference may come from the damage "
			   "(tracetape verify tells more)\n");
	}
}

static void text_summary(FILE *f, const struct diff_opts *o,
			 const struct diff_rows *r)
{
	bool first = true;

	fprintf(f, "%zu difference%s", r->n, r->n == 1 ? "" : "s");
	for (int sec = 0; sec < SEC_COUNT; sec++) {
		if (!(o->sections & (1u << sec)))
			continue;
		fprintf(f, "%s%s %zu", first ? ": " : ", ", section_names[sec],
			r->per_sec[sec]);
		first = false;
	}
	fputc('\n', f);
}

static void report_text(const struct replay_env *env, const struct diff_opts *o,
			const struct diff_side *a, const struct diff_side *b,
			const struct diff_rows *r)
{
	FILE *f = env->out;
	int shown = -1;

	text_side(f, "---", a);
	text_side(f, "+++", b);
	text_warnings(env, a);
	text_warnings(env, b);
	for (size_t i = 0; i < r->n; i++) {
		const struct diff_row *row = &r->v[i];

		if ((int)row->sec != shown) {
			shown = (int)row->sec;
			fprintf(f, "\n%s (%zu):\n", section_titles[row->sec],
				r->per_sec[row->sec]);
		}
		text_row(f, row);
	}
	fputc('\n', f);
	text_summary(f, o, r);
}

static void json_side(FILE *f, const struct diff_side *s)
{
	struct replay_json j;

	replay_json_begin(&j, f);
	replay_json_str(&j, "type", "tape");
	replay_json_str(&j, "side", s->label);
	replay_json_str(&j, "path", s->path);
	replay_json_uint(&j, "events", s->events);
	if (s->first_ts) {
		replay_json_uint(&j, "first_ts_ns", s->first_ts);
		replay_json_str(&j, "first_time", s->first_time);
		replay_json_uint(&j, "last_ts_ns", s->last_ts);
		replay_json_str(&j, "last_time", s->last_time);
	}
	replay_json_uint(&j, "lost", s->lost);
	replay_json_uint(&j, "damaged", s->damaged);
	replay_json_uint(&j, "damaged_records", s->damaged_records);
	replay_json_end(&j);
	if (!s->lost && !s->damaged)
		return;
	replay_json_begin(&j, f);
	replay_json_str(&j, "type", "warning");
	replay_json_str(&j, "warning", s->lost ? "loss" : "damage");
	replay_json_str(&j, "side", s->label);
	replay_json_str(&j, "message",
			"events are missing from this tape in the compared "
			"window: a difference may come from them");
	replay_json_end(&j);
}

static void json_counts(struct replay_json *j, const char *key,
			const struct diff_val *v)
{
	replay_json_key(j, key);
	fprintf(j->f,
		"{\"reads\":%" PRIu64 ",\"writes\":%" PRIu64
		",\"rbytes\":%" PRIu64 ",\"wbytes\":%" PRIu64 "}",
		v->reads, v->writes, v->rbytes, v->wbytes);
}

static void json_row(FILE *f, const struct diff_row *row)
{
	struct replay_json j;
	size_t pos = 0;
	const char *field;

	replay_json_begin(&j, f);
	replay_json_str(&j, "type", "difference");
	replay_json_str(&j, "section", section_names[row->sec]);
	replay_json_str(&j, "change", change_name(change_sign(row)));
	for (int i = 0; i < 3 && (field = key_field(row, &pos)); i++)
		if (section_fields[row->sec][i])
			replay_json_str(&j, section_fields[row->sec][i], field);
	if (row->sec == SEC_FILES) {
		json_counts(&j, "a", &row->a);
		json_counts(&j, "b", &row->b);
	} else {
		replay_json_uint(&j, "a", row->a.count);
		replay_json_uint(&j, "b", row->b.count);
		replay_json_int(&j, "delta",
				(int64_t)row->b.count - (int64_t)row->a.count);
	}
	replay_json_end(&j);
}

static void report_json(const struct replay_env *env, const struct diff_opts *o,
			const struct diff_side *a, const struct diff_side *b,
			const struct diff_rows *r)
{
	struct replay_json j;

	json_side(env->out, a);
	json_side(env->out, b);
	for (size_t i = 0; i < r->n; i++)
		json_row(env->out, &r->v[i]);
	replay_json_begin(&j, env->out);
	replay_json_str(&j, "type", "summary");
	replay_json_uint(&j, "differences", r->n);
	for (int sec = 0; sec < SEC_COUNT; sec++)
		if (o->sections & (1u << sec))
			replay_json_uint(&j, section_names[sec],
					 r->per_sec[sec]);
	replay_json_end(&j);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static const char usage_text[] =
	"usage: tracetape diff A B [OPTIONS]\n"
	"What changed between two tapes, with pids and times left out.\n"
	"Exit status: 0 no difference, 1 differences, 2 trouble.\n"
	"  --by LIST          sections, comma-separated: opens, files, life,\n"
	"                     exec, commands (default all)\n"
	"  -n, --name COMM    only processes whose comm is COMM\n"
	"      --tree         with -n: their descendants too\n"
	"      --normalize    fold temp-file suffixes, numbers, UUIDs in "
	"names\n"
	"      --min-count N  hide count changes smaller than N (default 1)\n"
	"      --min-bytes N  hide byte changes smaller than N (default 1)\n"
	"  --since/--until apply to each tape (e.g. +10s from its start)\n";

enum {
	OPT_BY = 0x2000,
	OPT_TREE,
	OPT_NORMALIZE,
	OPT_MIN_COUNT,
	OPT_MIN_BYTES,
};

static int parse_sections(const char *arg, unsigned *out)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	*out = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = -1;

		for (int i = 0; i < SEC_COUNT; i++)
			if (strcmp(tok, section_names[i]) == 0)
				found = i;
		if (found < 0)
			return -1;
		*out |= 1u << found;
	}
	return *out ? 0 : -1;
}

/* One option: 0, an exit code after a usage error, or -1 when OPT is
 * none of diff's. */
static int parse_option(struct diff_opts *o, int opt, const char *arg,
			const struct replay_env *env)
{
	switch (opt) {
	case OPT_BY:
		if (parse_sections(arg, &o->sections) < 0)
			return replay_usage_error(
				env, "diff",
				"--by '%s': expected a comma-separated list "
				"of opens, files, life, exec, commands",
				arg);
		return 0;
	case 'n':
		o->name = arg;
		return 0;
	case OPT_TREE:
		o->tree = true;
		return 0;
	case OPT_NORMALIZE:
		o->normalize = true;
		return 0;
	case OPT_MIN_COUNT:
	case OPT_MIN_BYTES:
		if (replay_parse_u64(arg, opt == OPT_MIN_COUNT
						  ? &o->min_count
						  : &o->min_bytes) < 0)
			return replay_usage_error(
				env, "diff", "%s '%s': expected a number",
				opt == OPT_MIN_COUNT ? "--min-count"
						     : "--min-bytes",
				arg);
		return 0;
	default:
		return -1; /* not an option of diff */
	}
}

static int parse_args(int argc, char **argv, const struct replay_env *env,
		      struct replay_common *c, struct diff_opts *o,
		      const char **tape_b)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"by", required_argument, NULL, OPT_BY},
		{"name", required_argument, NULL, 'n'},
		{"tree", no_argument, NULL, OPT_TREE},
		{"normalize", no_argument, NULL, OPT_NORMALIZE},
		{"min-count", required_argument, NULL, OPT_MIN_COUNT},
		{"min-bytes", required_argument, NULL, OPT_MIN_BYTES},
		{0}};
	int opt, err;

	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		if (replay_common_option(c, opt, optarg))
			continue;
		err = parse_option(o, opt, optarg, env);
		if (err < 0)
			return replay_option_error(env, "diff", opt, argv);
		if (err)
			return err;
	}
	if (c->help) {
		fprintf(env->out, "%s%s", usage_text, replay_common_help);
		return -1;
	}
	if (o->tree && !o->name)
		return replay_usage_error(env, "diff",
					  "--tree needs -n NAME: the program "
					  "whose descendants to compare");
	if (argc - optind != 2)
		return replay_usage_error(env, "diff",
					  "expected two tapes, A and B");
	*tape_b = argv[optind + 1];
	/* Leaves A as the single positional the common parser wants. */
	return replay_common_finish(c, argc - 1, argv, "diff", env);
}

static int run_diff(const struct replay_common *c, const struct diff_opts *o,
		    const char *tape_b, const struct replay_env *env)
{
	struct diff_side a = {0}, b = {0};
	struct diff_rows rows = {0};
	int rc;

	if (side_init(&a, "A", c->tape, o) || side_init(&b, "B", tape_b, o)) {
		fprintf(env->err, "tracetape diff: out of memory\n");
		rc = REPLAY_EXIT_TROUBLE;
		goto out;
	}
	rc = summarise(&a, c, env);
	if (!rc)
		rc = summarise(&b, c, env);
	if (rc)
		goto out;
	if (compare(o, &a, &b, &rows) < 0) {
		fprintf(env->err, "tracetape diff: out of memory comparing "
				  "the tapes; raise --min-count or scope "
				  "with -n\n");
		rc = REPLAY_EXIT_TROUBLE;
		goto out;
	}
	if (c->json)
		report_json(env, o, &a, &b, &rows);
	else
		report_text(env, o, &a, &b, &rows);
	fflush(env->out);
	rc = rows.n ? REPLAY_EXIT_FINDINGS : REPLAY_EXIT_OK;
out:
	free(rows.v);
	side_free(&a);
	side_free(&b);
	return rc;
}

int diff_main(int argc, char **argv, const struct replay_env *env)
{
	struct replay_common c = {0};
	struct diff_opts o = {.sections = (1u << SEC_COUNT) - 1,
			      .min_count = 1,
			      .min_bytes = 1};
	const char *tape_b = NULL;
	int rc = parse_args(argc, argv, env, &c, &o, &tape_b);

	if (rc)
		return rc < 0 ? REPLAY_EXIT_OK : rc;
	return run_diff(&c, &o, tape_b, env);
}
