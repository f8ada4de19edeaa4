/* SPDX-License-Identifier: MIT */
/*
 * history.c - `tracetape history`: per bash session, each typed command
 * and what it caused.
 *
 * A session is a bash process that returned lines from readline
 * (TT_REC_READLINE).  A line opens a command; the next line of the same
 * bash closes it.  A process forked by the bash while a command is open
 * belongs to that command, and so do its descendants, for as long as
 * they live (a background job keeps reporting to the command that
 * started it).  What the bash itself does between two prompts (its
 * redirections, builtins) belongs to the open command too.
 *
 * For each command we keep its execs (argv, pid, depth in the process
 * tree, exit status) and count the files it opened, wrote and deleted.
 * The session's terminal comes from the TT_REC_TTY the recorder writes
 * with every line (same ts); tapes from before that record say nothing
 * of it, which is "unknown", not "none".
 * Output is one block per session, printed at the end: commands and
 * execs are held in memory, which grows with the number of commands and
 * execs, not with the number of file events.
 */
#include "replay.h"
#include "strmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HIST_ARGV_MAX	 4096
#define HIST_ARGV_COLUMN 44 /* exit status column of the exec lines */
#define HIST_TTY_MAX	 80 /* bytes kept of a terminal name, NUL included */

/* A bash's terminal as its last TT_REC_TTY gave it. */
struct hist_tty {
	bool known;		 /* a TT_REC_TTY was seen */
	char name[HIST_TTY_MAX]; /* "pts/3"; "" = no controlling terminal */
};

struct hist_exec {
	uint64_t ts;
	uint32_t pid, depth;
	int64_t ret; /* 0, or -errno of a failed exec */
	char *args;  /* argv, NUL-separated (at most HIST_ARGV_MAX) */
	size_t args_len;
	bool truncated; /* the recorder (or we) cut argv */
	bool exited;	/* exit_code is known */
	bool replaced;	/* the same process exec'd again later */
	int32_t exit_code;
};

struct hist_cmd {
	uint64_t ts;
	char *line;
	struct hist_exec *execs;
	size_t nexecs, cap;
	uint64_t opened, written, deleted;
};

struct hist_session {
	uint32_t pid, uid;
	uint64_t first_ts;
	bool exited;
	int32_t exit_code;
	uint64_t exit_ts;
	struct hist_cmd *cmds;
	size_t ncmds, cap;
	bool open;  /* cmds[ncmds - 1] is still the current command */
	bool execd; /* bash replaced itself by a successful exec */
	uint64_t exec_ts;
	struct hist_tty tty;
};

/* A process working for a command. */
struct hist_owner {
	uint32_t sess, cmd; /* indexes */
	uint32_t depth;	    /* 1 = forked by the session's bash */
	uint32_t last_exec; /* index + 1 in the command's execs, 0 = none */
};

/* Key of the "already counted" set: one file per command per kind. */
struct hist_seen_key {
	uint32_t sess, cmd;
	uint64_t dev, ino;
	uint32_t kind; /* 'o' opened, 'w' written */
	uint32_t pad;
};

struct history {
	uint64_t pid; /* -p: one session */
	struct hist_session *sessions;
	size_t nsessions, cap;
	struct strmap *live;   /* bash pid -> uint32 session index + 1 */
	struct strmap *owners; /* pid -> struct hist_owner */
	struct strmap *seen;   /* struct hist_seen_key -> nothing */
	struct strmap *ttys;   /* pid -> struct hist_tty, no session yet */
	bool oom;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*v, n * elem);
	if (!p)
		return -1;
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*v = p;
	*cap = n;
	return 0;
}

/* An exec's argv as one shell-quoted line. */
static void quote_argv(const struct hist_exec *e, char *out, size_t size)
{
	replay_argv_shell_join(e->args, e->args_len, out, size);
}

/*
 * Keep a copy of EX's argv (the filename when argv is absent), cut at a
 * string boundary to HIST_ARGV_MAX bytes.  Returns -1 when out of memory.
 */
static int keep_argv(struct hist_exec *e, const struct replay_exec *ex)
{
	const char *src = ex->args;
	size_t len = ex->args_len;

	if (!len || !src) {
		src = ex->filename;
		len = strlen(src) + 1;
	}
	if (len > HIST_ARGV_MAX) {
		len = HIST_ARGV_MAX;
		while (len && src[len - 1] != '\0')
			len--;
		e->truncated = true;
	}
	e->args = malloc(len ? len : 1);
	if (!e->args)
		return -1;
	memcpy(e->args, src, len);
	e->args_len = len;
	return 0;
}

static void format_errno(int64_t ret, char *out, size_t size)
{
	char buf[32];

	snprintf(out, size, "exec failed: %s",
		 replay_errno_name(ret, buf, sizeof(buf)));
}

static uint32_t *live_session(struct history *h, uint32_t pid)
{
	return strmap_find(h->live, &pid, sizeof(pid));
}

static struct hist_owner *owner_of(struct history *h, uint32_t pid)
{
	return strmap_find(h->owners, &pid, sizeof(pid));
}

/*
 * Who a process works for: the session's own bash (depth 0) or a
 * descendant.  Fills *out; false when the process is no command's.
 */
static bool attribute(struct history *h, uint32_t pid, struct hist_owner *out)
{
	uint32_t *s = live_session(h, pid);
	struct hist_owner *o;

	if (s) {
		struct hist_session *sess = &h->sessions[*s - 1];

		if (!sess->open)
			return false;
		*out = (struct hist_owner){*s - 1, (uint32_t)sess->ncmds - 1, 0,
					   0};
		return true;
	}
	o = owner_of(h, pid);
	if (o)
		*out = *o;
	return o != NULL;
}

static struct hist_cmd *cmd_of(struct history *h, const struct hist_owner *o)
{
	return &h->sessions[o->sess].cmds[o->cmd];
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

/* A new session takes the terminal its bash's TT_REC_TTY gave before. */
static void take_pending_tty(struct history *h, struct hist_session *s)
{
	struct hist_tty *t = strmap_find(h->ttys, &s->pid, sizeof(s->pid));

	if (!t)
		return;
	s->tty = *t;
	strmap_remove(h->ttys, &s->pid, sizeof(s->pid));
}

static struct hist_session *
new_session(struct history *h, const struct tt_readline *rl, uint64_t ts)
{
	uint32_t pid = rl->task.pid, *idx;
	struct hist_session *s;

	if (grow((void **)&h->sessions, &h->cap, h->nsessions + 1,
		 sizeof(*h->sessions)) < 0)
		return NULL;
	idx = strmap_get(h->live, &pid, sizeof(pid), NULL);
	if (!idx)
		return NULL;
	s = &h->sessions[h->nsessions++];
	*idx = (uint32_t)h->nsessions;
	s->pid = pid;
	s->uid = rl->task.uid;
	s->first_ts = ts;
	take_pending_tty(h, s);
	return s;
}

static int on_readline(struct history *h, const struct tape_record *rec)
{
	struct replay_readline rl;
	uint32_t *idx;
	struct hist_session *s;
	struct hist_cmd *c;

	if (replay_decode_readline(rec, &rl) < 0)
		return 0;
	if (h->pid && rl.f.task.pid != h->pid)
		return 0;
	idx = live_session(h, rl.f.task.pid);
	s = idx ? &h->sessions[*idx - 1] : new_session(h, &rl.f, rec->ts);
	if (!s || grow((void **)&s->cmds, &s->cap, s->ncmds + 1,
		       sizeof(*s->cmds)) < 0)
		return -1;
	c = &s->cmds[s->ncmds++];
	c->ts = rec->ts;
	c->line = strdup(rl.line);
	s->open = true;
	return c->line ? 0 : -1;
}

/*
 * A bash's terminal: to its session when it has one (the record may come
 * after the line it goes with when a chunk boundary fell between them),
 * else kept for the session its next line starts.  A name that is not
 * a proper string leaves the terminal unknown.
 */
static int on_tty(struct history *h, const struct tape_record *rec)
{
	struct tt_tty t;
	const char *name = "";
	struct hist_tty *dst;
	uint32_t *idx;

	if (rec->len < sizeof(struct tt_task))
		return 0;
	tape_rec_fixed(rec, &t, sizeof(t));
	if (h->pid && t.task.pid != h->pid)
		return 0;
	if (t.tty_len) {
		name = tape_rec_string(rec, sizeof(t), &t.tty_len, 1, 0);
		if (!name)
			return 0;
	}
	idx = live_session(h, t.task.pid);
	dst = idx ? &h->sessions[*idx - 1].tty
		  : strmap_get(h->ttys, &t.task.pid, sizeof(t.task.pid), NULL);
	if (!dst)
		return -1;
	dst->known = true;
	snprintf(dst->name, sizeof(dst->name), "%s", name);
	return 0;
}

static int on_fork(struct history *h, const struct tape_record *rec)
{
	struct tt_fork f;
	struct hist_owner parent, *child;

	tape_rec_fixed(rec, &f, sizeof(f));
	/* A new process: whatever an earlier one of that pid left (its
	 * exit lost) no longer applies. */
	strmap_remove(h->owners, &f.child_pid, sizeof(f.child_pid));
	if (!attribute(h, f.task.pid, &parent))
		return 0;
	child = strmap_get(h->owners, &f.child_pid, sizeof(f.child_pid), NULL);
	if (!child)
		return -1;
	*child = parent;
	child->depth = parent.depth + 1;
	child->last_exec = 0;
	return 0;
}

static int add_exec(struct history *h, struct hist_owner *o,
		    const struct tape_record *rec, const struct replay_exec *ex)
{
	struct hist_cmd *c = cmd_of(h, o);
	struct hist_exec *e;
	int err;

	if (grow((void **)&c->execs, &c->cap, c->nexecs + 1,
		 sizeof(*c->execs)) < 0)
		return -1;
	if (ex->f.ret == 0 && o->last_exec)
		c->execs[o->last_exec - 1].replaced = true;
	e = &c->execs[c->nexecs++];
	e->ts = rec->ts;
	e->pid = ex->f.task.pid;
	e->depth = o->depth;
	e->ret = ex->f.ret;
	err = keep_argv(e, ex);
	e->truncated |= (ex->f.flags & TT_EXEC_TRUNCATED) != 0;
	if (ex->f.ret == 0)
		o->last_exec = (uint32_t)c->nexecs;
	return err;
}

/*
 * `exec cmd` typed at the prompt.  A failed exec leaves bash as it was;
 * a successful one turns the session's bash into cmd: the session ends
 * and cmd carries on as a process of the command.
 */
static int session_exec(struct history *h, const struct tape_record *rec,
			const struct replay_exec *ex)
{
	uint32_t pid = ex->f.task.pid;
	struct hist_owner o, *stored;

	if (!attribute(h, pid, &o))
		return 0;
	if (ex->f.ret < 0)
		return add_exec(h, &o, rec, ex);
	stored = strmap_get(h->owners, &pid, sizeof(pid), NULL);
	if (!stored)
		return -1;
	*stored = o;
	strmap_remove(h->live, &pid, sizeof(pid));
	h->sessions[o.sess].open = false;
	h->sessions[o.sess].execd = true;
	h->sessions[o.sess].exec_ts = rec->ts;
	return add_exec(h, stored, rec, ex);
}

static int on_exec(struct history *h, const struct tape_record *rec)
{
	struct replay_exec ex;
	struct hist_owner o, *stored;
	uint32_t pid;

	if (replay_decode_exec(rec, &ex) < 0)
		return 0;
	pid = ex.f.task.pid;
	if (live_session(h, pid))
		return session_exec(h, rec, &ex);
	stored = owner_of(h, pid);
	if (!stored && attribute(h, ex.f.ppid, &o)) {
		/* The fork record is missing (lost, or before the window). */
		stored = strmap_get(h->owners, &pid, sizeof(pid), NULL);
		if (!stored)
			return -1;
		*stored = o;
		stored->depth = o.depth + 1;
		stored->last_exec = 0;
	}
	return stored ? add_exec(h, stored, rec, &ex) : 0;
}

static void on_exit_rec(struct history *h, const struct tape_record *rec)
{
	struct tt_exit x;
	uint32_t pid, *idx;
	struct hist_owner *o;

	tape_rec_fixed(rec, &x, sizeof(x));
	pid = x.task.pid;
	strmap_remove(h->ttys, &pid, sizeof(pid));
	idx = live_session(h, pid);
	if (idx) {
		struct hist_session *s = &h->sessions[*idx - 1];

		s->exited = true;
		s->exit_code = x.exit_code;
		s->exit_ts = rec->ts;
		s->open = false;
		strmap_remove(h->live, &pid, sizeof(pid));
	}
	o = owner_of(h, pid);
	if (!o)
		return;
	if (o->last_exec) {
		struct hist_exec *e = &cmd_of(h, o)->execs[o->last_exec - 1];

		e->exited = true;
		e->exit_code = x.exit_code;
	}
	strmap_remove(h->owners, &pid, sizeof(pid));
}

/* Count a file once per command and kind. */
static int count_file(struct history *h, const struct hist_owner *o,
		      uint64_t dev, uint64_t ino, uint32_t kind,
		      uint64_t *counter)
{
	struct hist_seen_key k = {o->sess, o->cmd, dev, ino, kind, 0};
	bool created;

	if (!strmap_get(h->seen, &k, sizeof(k), &created))
		return -1;
	if (created)
		(*counter)++;
	return 0;
}

static int on_file(struct history *h, const struct tape_record *rec)
{
	struct hist_owner o;
	const struct tt_task *task = replay_record_task(rec);

	if (!task || !attribute(h, task->pid, &o))
		return 0;
	if (rec->type == TT_REC_OPEN) {
		struct replay_file_op op;

		if (replay_decode_file_op(rec, &op) < 0 || op.f.ret < 0)
			return 0;
		return count_file(h, &o, op.f.dev, op.f.ino, 'o',
				  &cmd_of(h, &o)->opened);
	}
	if (rec->type == TT_REC_RW) {
		struct replay_rw rw;

		if (replay_decode_rw(rec, &rw) < 0 || !rw.f.writes ||
		    !S_ISREG(rw.f.i_mode))
			return 0;
		return count_file(h, &o, rw.f.dev, rw.f.ino, 'w',
				  &cmd_of(h, &o)->written);
	}
	struct replay_file_op op;

	if (replay_decode_file_op(rec, &op) == 0 && op.f.ret == 0 &&
	    op.f.syscall != TT_SYS_RMDIR &&
	    !(op.f.syscall == TT_SYS_UNLINKAT && (op.f.flags & 0x200)))
		cmd_of(h, &o)->deleted++;
	return 0;
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct history *h = ctx;
	int err = 0;

	switch (rec->type) {
	case TT_REC_READLINE:
		err = on_readline(h, rec);
		break;
	case TT_REC_TTY:
		err = on_tty(h, rec);
		break;
	case TT_REC_FORK:
		err = on_fork(h, rec);
		break;
	case TT_REC_EXEC:
		err = on_exec(h, rec);
		break;
	case TT_REC_EXIT:
		on_exit_rec(h, rec);
		break;
	case TT_REC_OPEN:
	case TT_REC_RW:
	case TT_REC_UNLINK:
		err = on_file(h, rec);
		break;
	}
	if (err) {
		fprintf(rp->err,
			"tracetape history: %s: out of memory holding the "
			"sessions; narrow the window with --since/--until "
			"or pick one session with -p\n",
			rp->tape);
		return REPLAY_EXIT_TROUBLE;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Text output                                                          */

static void exec_status(const struct hist_exec *e, char *out, size_t size)
{
	if (e->ret < 0)
		format_errno(e->ret, out, size);
	else if (e->replaced)
		snprintf(out, size, "exec'd again");
	else if (e->exited)
		replay_wait_status_text(e->exit_code, out, size);
	else
		snprintf(out, size, "still running at the end");
}

static void print_exec_text(struct replay *rp, const struct hist_exec *e)
{
	char when[REPLAY_ISO_LEN], line[2 * HIST_ARGV_MAX];
	char argv[8 * HIST_ARGV_MAX], status[64];
	int indent = e->depth > 1 ? 2 * (int)(e->depth - 1) : 0;
	int width;

	replay_fmt_iso(rp, e->ts, when);
	quote_argv(e, line, sizeof(line));
	replay_text_escape(line, argv, sizeof(argv));
	exec_status(e, status, sizeof(status));
	/* HH:MM:SS.mmm out of the ISO form */
	fprintf(rp->out, "           %.12s %7u  %*s", when + 11, e->pid, indent,
		"");
	width = HIST_ARGV_COLUMN - indent;
	fprintf(rp->out, "%-*s  %s%s\n", width > 0 ? width : 0, argv, status,
		e->truncated ? " (argv truncated)" : "");
}

static void print_cmd_text(struct replay *rp, const struct hist_cmd *c)
{
	char hms[REPLAY_HMS_LEN];

	replay_fmt_hms(rp, c->ts, hms);
	fprintf(rp->out, "  %8s $ ", hms);
	replay_text_write(rp->out, c->line);
	fputc('\n', rp->out);
	for (size_t i = 0; i < c->nexecs; i++)
		print_exec_text(rp, &c->execs[i]);
	fprintf(rp->out,
		"           files: %llu opened, %llu written, %llu deleted\n",
		(unsigned long long)c->opened, (unsigned long long)c->written,
		(unsigned long long)c->deleted);
}

static void print_user(struct replay *rp, uint32_t uid)
{
	const char *name = replay_user_name(rp, uid);

	if (name) {
		fputs("user ", rp->out);
		replay_text_write(rp->out, name);
		fprintf(rp->out, " (uid %u)", uid);
	} else {
		fprintf(rp->out, "uid %u (no name on the tape)", uid);
	}
}

static void print_tty(struct replay *rp, const struct hist_tty *t)
{
	if (!t->known) {
		fputs(", tty unknown (not recorded)\n", rp->out);
	} else if (!t->name[0]) {
		fputs(", no controlling tty\n", rp->out);
	} else {
		fputs(", tty ", rp->out);
		replay_text_write(rp->out, t->name);
		fputc('\n', rp->out);
	}
}

static void print_session_text(struct replay *rp, const struct hist_session *s)
{
	char from[REPLAY_ISO_LEN], status[64];

	replay_fmt_iso(rp, s->first_ts, from);
	fprintf(rp->out, "bash session pid %u, ", s->pid);
	print_user(rp, s->uid);
	print_tty(rp, &s->tty);
	fprintf(rp->out, "  first command %.10s %.8s, %zu command%s, ", from,
		from + 11, s->ncmds, s->ncmds == 1 ? "" : "s");
	if (s->exited) {
		char hms[REPLAY_HMS_LEN];

		replay_fmt_hms(rp, s->exit_ts, hms);
		replay_wait_status_text(s->exit_code, status, sizeof(status));
		fprintf(rp->out, "bash ended %s (%s)\n", hms, status);
	} else if (s->execd) {
		char hms[REPLAY_HMS_LEN];

		replay_fmt_hms(rp, s->exec_ts, hms);
		fprintf(rp->out, "bash replaced itself by exec %s\n", hms);
	} else {
		fprintf(rp->out, "bash still running at the end\n");
	}
	for (size_t i = 0; i < s->ncmds; i++)
		print_cmd_text(rp, &s->cmds[i]);
}

/* ------------------------------------------------------------------ */
/* JSON output: one object per command                                 */

/* The arguments as JSON strings separated by commas. */
static void json_args(FILE *f, const struct hist_exec *e)
{
	size_t pos = 0;
	const char *a;
	bool first = true;

	while ((a = replay_next_string(e->args, e->args_len, &pos)) != NULL) {
		if (!first)
			fputc(',', f);
		replay_json_string(f, a);
		first = false;
	}
}

static void json_exec(FILE *f, struct replay *rp, const struct hist_exec *e)
{
	char when[REPLAY_ISO_LEN], status[64];

	replay_fmt_iso(rp, e->ts, when);
	fprintf(f, "{\"ts_ns\":%llu,\"time\":", (unsigned long long)e->ts);
	replay_json_string(f, when);
	fprintf(f, ",\"pid\":%u,\"depth\":%u,\"argv\":[", e->pid, e->depth);
	json_args(f, e);
	fputc(']', f);
	fprintf(f, ",\"ret\":%lld,\"argv_truncated\":%s", (long long)e->ret,
		e->truncated ? "true" : "false");
	if (e->ret == 0 && e->exited && !e->replaced) {
		replay_wait_status_text(e->exit_code, status, sizeof(status));
		fprintf(f, ",\"wait_status\":%d,\"status\":", e->exit_code);
	} else {
		exec_status(e, status, sizeof(status));
		fprintf(f, ",\"status\":");
	}
	replay_json_string(f, status);
	fputc('}', f);
}

static void print_cmd_json(struct replay *rp, const struct hist_session *s,
			   const struct hist_cmd *c)
{
	struct replay_json j;
	const char *user = replay_user_name(rp, s->uid);

	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "command");
	replay_json_uint(&j, "session_pid", s->pid);
	replay_json_uint(&j, "uid", s->uid);
	if (user)
		replay_json_str(&j, "user", user);
	if (s->tty.known) {
		replay_json_str(&j, "tty", s->tty.name);
	} else {
		replay_json_key(&j, "tty");
		fputs("null", j.f);
	}
	replay_json_time(&j, rp, c->ts);
	replay_json_str(&j, "line", c->line);
	replay_json_uint(&j, "opened", c->opened);
	replay_json_uint(&j, "written", c->written);
	replay_json_uint(&j, "deleted", c->deleted);
	replay_json_key(&j, "execs");
	fputc('[', j.f);
	for (size_t i = 0; i < c->nexecs; i++) {
		if (i)
			fputc(',', j.f);
		json_exec(j.f, rp, &c->execs[i]);
	}
	fputc(']', j.f);
	replay_json_end(&j);
}

static int finish(struct replay *rp, void *ctx)
{
	struct history *h = ctx;

	if (!h->nsessions && !rp->json)
		fprintf(rp->out,
			"no bash session in the window: the tape holds no "
			"line read by bash's readline%s\n",
			h->pid ? " for that pid" : "");
	for (size_t i = 0; i < h->nsessions; i++) {
		const struct hist_session *s = &h->sessions[i];

		if (rp->json) {
			for (size_t k = 0; k < s->ncmds; k++)
				print_cmd_json(rp, s, &s->cmds[k]);
			continue;
		}
		if (i)
			fputc('\n', rp->out);
		print_session_text(rp, s);
	}
	return REPLAY_EXIT_OK;
}

static void history_free(struct history *h)
{
	for (size_t i = 0; i < h->nsessions; i++) {
		struct hist_session *s = &h->sessions[i];

		for (size_t k = 0; k < s->ncmds; k++) {
			for (size_t e = 0; e < s->cmds[k].nexecs; e++)
				free(s->cmds[k].execs[e].args);
			free(s->cmds[k].execs);
			free(s->cmds[k].line);
		}
		free(s->cmds);
	}
	free(h->sessions);
	strmap_free(h->live);
	strmap_free(h->owners);
	strmap_free(h->seen);
	strmap_free(h->ttys);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static const char usage_text[] =
	"usage: tracetape history TAPE [OPTIONS]\n"
	"Per bash session: each typed command, the programs it ran (argv,\n"
	"exit status, indented by process tree depth) and the number of\n"
	"files it opened, wrote and deleted.\n"
	"  -p, --pid PID      only the session of bash process PID\n";

int history_main(int argc, char **argv, const struct replay_env *env)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"pid", required_argument, NULL, 'p'},
		{0}};
	struct replay_common c = {0};
	struct history h = {0};
	struct replay_ops ops = {
		.on_record = on_record, .finish = finish, .ctx = &h};
	int opt, err;

	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
		if (replay_common_option(&c, opt, optarg))
			continue;
		if (opt != 'p')
			return replay_option_error(env, "history", opt, argv);
		if (replay_parse_range(optarg, 1, UINT32_MAX, &h.pid))
			return replay_usage_error(
				env, "history",
				"-p PID must be a process id, not '%s'",
				optarg);
	}
	if (c.help) {
		fprintf(env->out, "%s%s", usage_text, replay_common_help);
		return REPLAY_EXIT_OK;
	}
	err = replay_common_finish(&c, argc, argv, "history", env);
	if (err)
		return err;
	h.live = strmap_new(sizeof(uint32_t));
	h.owners = strmap_new(sizeof(struct hist_owner));
	h.seen = strmap_new(0);
	h.ttys = strmap_new(sizeof(struct hist_tty));
	if (h.live && h.owners && h.seen && h.ttys) {
		err = replay_run(&c, &ops, env);
	} else {
		fprintf(env->err, "tracetape history: out of memory\n");
		err = REPLAY_EXIT_TROUBLE;
	}
	history_free(&h);
	return err;
}
