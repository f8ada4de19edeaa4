/* SPDX-License-Identifier: MIT */
/*
 * export_chrome.c - `tracetape export --format chrome`: the Chrome trace
 * event format (a JSON object with a "traceEvents" array), which
 * ui.perfetto.dev and chrome://tracing load.
 *
 * Time: "ts" is microseconds (with nanoseconds as three decimals) since
 * the tape's first record, also under --since, so windows of one tape
 * line up; "otherData" names that record's boot time and wall clock.
 *
 * What becomes what:
 *   - processes and threads are named by "M" events (process_name: the
 *     command; thread_name: the thread's comm), written before a pid's
 *     or tid's first event and again when an exec or prctl renames it;
 *   - a process whose start (fork, else exec) and exit are both on the
 *     tape is one complete "X" event across its life, named by its
 *     command, with its command line and exit status; other exits are
 *     instants;
 *   - opens, unlinks, renames, execs, forks and bash lines are
 *     thread-scoped instants named "open /etc/passwd" and so on: the
 *     path in the name makes the timeline searchable by path in
 *     Perfetto; the details are in args;
 *   - reads and writes (--rw counter, the default) are counter tracks of
 *     the bytes a process has read and written so far.  Records sum the
 *     calls of a short quantum, so instants per record would be a dense
 *     row of marks of no readable size whose times are the recorder's
 *     flushes; a cumulative counter shows how much and when at a
 *     glance, its slope is the throughput.  --rw instant (or both)
 *     adds one instant per record with the file, for detail;
 *   - losses are global instants "lost N events" at the time the
 *     recorder noticed, damage global instants at the first record lost
 *     (time 0 when unknown): a viewer sees the gap across all tracks.
 *
 * Memory is bounded: per live process a few counters (dropped at its
 * exit), a fixed table of thread names; events stream straight out.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "strmap.h"

#ifndef TT_VERSION
#define TT_VERSION "unknown"
#endif

/* Thread names remembered (direct-mapped by tid: a collision only
 * repeats a thread_name event). */
#define THREAD_SLOTS (1u << 16)
#define ARGV_MAX     (256u << 10)
#define NAME_MAX_LEN (EXPORT_PATH_MAX * 2 + 32)

struct proc_info {
	uint64_t exec_ts; /* first exec on the tape, 0 = none */
	uint64_t rbytes, wbytes;
	char name[TT_COMM_LEN + 1]; /* as the last process_name said */
};

struct thread_slot {
	uint32_t tid;
	bool used;
	char comm[TT_COMM_LEN + 1];
};

struct chrome {
	unsigned rw;
	uint64_t origin; /* boot ns of ts 0 */
	uint64_t written;
	FILE *f;
	struct strmap *procs; /* pid -> struct proc_info */
	struct export_files *files;
	struct thread_slot *threads;
	struct export_event ev;
	/* the last TT_REC_TTY, for the readline that follows it */
	uint32_t tty_tid;
	uint64_t tty_ts;
	char tty[64];
	char name[NAME_MAX_LEN];
	char shown[NAME_MAX_LEN]; /* name escaped for display */
	char argv[ARGV_MAX];
};

/* ---- event writing ----------------------------------------------- */

/* KEY: nanoseconds NS as microseconds with three decimals. */
static void put_us(struct replay_json *j, const char *key, int64_t ns)
{
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	replay_json_key(j, key);
	fprintf(j->f, "%s%" PRIu64 ".%03u", ns < 0 ? "-" : "", a / 1000,
		(unsigned)(a % 1000));
}

static int64_t rel(const struct chrome *x, uint64_t ts)
{
	return (int64_t)(ts - x->origin);
}

/* An event's common fields; TID < 0 leaves tid out ("C" events are per
 * process), and "M" events have no ts. */
static void ev_begin(struct chrome *x, struct replay_json *j, const char *ph,
		     const char *name, const char *cat, uint64_t ts,
		     uint32_t pid, int64_t tid)
{
	fputs_unlocked(x->written++ ? "," : "", x->f);
	replay_json_begin(j, x->f);
	/* Names are for display: control characters and bytes that are
	 * not UTF-8 shown as \n or \xHH text, so that no \u escape
	 * reaches the viewer's tokenizer (older Perfetto ones reject
	 * them outside args); args keep the exact strings. */
	replay_json_str(j, "name",
			replay_text_escape(name, x->shown, sizeof(x->shown)));
	if (cat)
		replay_json_str(j, "cat", cat);
	replay_json_str(j, "ph", ph);
	if (*ph != 'M')
		put_us(j, "ts", rel(x, ts));
	replay_json_uint(j, "pid", pid);
	if (tid >= 0)
		replay_json_uint(j, "tid", (uint64_t)tid);
}

/* "args":{ ... }: fields go to A until args_end(). */
static void args_begin(struct replay_json *j, struct replay_json *a)
{
	replay_json_key(j, "args");
	replay_json_begin(a, j->f);
}

static void args_end(struct replay_json *a)
{
	putc_unlocked('}', a->f);
}

static void instant(struct chrome *x, struct replay_json *j, const char *name,
		    const char *cat, const struct export_event *ev)
{
	ev_begin(x, j, "i", name, cat, ev->ts, ev->task.pid, ev->task.tid);
	replay_json_str(j, "s", "t");
}

/* ---- names ------------------------------------------------------- */

static void name_event(struct chrome *x, const char *what, uint32_t pid,
		       uint32_t tid, const char *name)
{
	struct replay_json j, a;
	ev_begin(x, &j, "M", what, NULL, 0, pid, tid);
	args_begin(&j, &a);
	replay_json_str(&a, "name", name);
	args_end(&a);
	replay_json_end(&j);
}

/* Name process PID NAME unless that is its name already. */
static void name_process(struct chrome *x, struct proc_info *pi, uint32_t pid,
			 const char *name)
{
	if (!strcmp(pi->name, name))
		return;
	snprintf(pi->name, sizeof(pi->name), "%s", name);
	name_event(x, "process_name", pid, pid, name);
}

/* The process' entry, named on its first sight (from the table's comm
 * of the main thread when known, else this task's). */
static struct proc_info *see_process(struct chrome *x, struct replay *rp,
				     const struct export_event *ev)
{
	uint32_t pid = ev->task.pid;
	struct proc_info *pi = strmap_get(x->procs, &pid, sizeof(pid), NULL);
	if (pi && !pi->name[0]) {
		const struct replay_proc *p = replay_proc_get(rp, pid);
		name_process(x, pi, pid, p && p->comm[0] ? p->comm : ev->comm);
	}
	return pi;
}

static void see_thread(struct chrome *x, const struct export_event *ev)
{
	struct thread_slot *s = &x->threads[ev->task.tid % THREAD_SLOTS];
	if (s->used && s->tid == ev->task.tid && !strcmp(s->comm, ev->comm))
		return;
	s->used = true;
	s->tid = ev->task.tid;
	memcpy(s->comm, ev->comm, sizeof(s->comm));
	name_event(x, "thread_name", ev->task.pid, ev->task.tid, ev->comm);
}

/* ---- per type ---------------------------------------------------- */

/* "ret" and, for a failure, "error": "ENOENT". */
static void put_result(struct replay_json *a, int64_t ret)
{
	char buf[32];
	replay_json_int(a, "ret", ret);
	if (ret < 0)
		replay_json_str(a, "error",
				replay_errno_name(ret, buf, sizeof(buf)));
}

static void file_op(struct chrome *x, const struct export_event *ev)
{
	struct replay_json j, a;
	const char *kind = replay_type_name(ev->type);
	if (ev->type == TT_REC_RENAME)
		snprintf(x->name, sizeof(x->name), "rename %s -> %s", ev->path,
			 ev->path2);
	else
		snprintf(x->name, sizeof(x->name), "%s %s", kind, ev->path);
	instant(x, &j, x->name, kind, ev);
	args_begin(&j, &a);
	replay_json_str(&a, "path", ev->path);
	if (ev->type == TT_REC_RENAME)
		replay_json_str(&a, "new_path", ev->path2);
	replay_json_str(&a, "syscall", ev->syscall);
	put_result(&a, ev->ret);
	if (ev->type == TT_REC_OPEN) {
		char oct[16];
		snprintf(oct, sizeof(oct), "%#o", ev->flags);
		replay_json_str(&a, "flags", oct);
		snprintf(oct, sizeof(oct), "%#o", ev->mode);
		replay_json_str(&a, "mode", oct);
		replay_json_bool(&a, "created", ev->created);
	}
	args_end(&a);
	replay_json_end(&j);
}

static void exec_event(struct chrome *x, const struct export_event *ev)
{
	struct replay_json j, a;
	snprintf(x->name, sizeof(x->name), "exec %s", ev->path);
	instant(x, &j, x->name, "exec", ev);
	args_begin(&j, &a);
	replay_json_str(&a, "filename", ev->path);
	replay_argv_shell_join(ev->args, ev->args_len, x->argv,
			       sizeof(x->argv));
	replay_json_str(&a, "argv", x->argv);
	put_result(&a, ev->ret);
	replay_json_uint(&a, "ppid", ev->ppid);
	replay_json_bool(&a, "truncated", ev->truncated);
	args_end(&a);
	replay_json_end(&j);
}

static void fork_event(struct chrome *x, const struct export_event *ev)
{
	struct replay_json j, a;
	snprintf(x->name, sizeof(x->name), "fork %" PRId64, ev->ret);
	instant(x, &j, x->name, "process", ev);
	args_begin(&j, &a);
	replay_json_int(&a, "child_pid", ev->ret);
	args_end(&a);
	replay_json_end(&j);
}

/* When the process' life began on the tape, or 0. */
static uint64_t start_on_tape(const struct chrome *x,
			      const struct replay_proc *p,
			      const struct proc_info *pi)
{
	if (p && p->start_ts >= x->origin && p->start_ts)
		return p->start_ts;
	return pi ? pi->exec_ts : 0;
}

/* A process' life as one "X" event; an instant when it began before
 * the tape (or before a loss hid its start). */
static void exit_event(struct chrome *x, struct replay *rp,
		       const struct export_event *ev, struct proc_info *pi)
{
	struct replay_json j, a;
	char status[64];
	const struct replay_proc *p = replay_proc_get(rp, ev->task.pid);
	uint64_t start = start_on_tape(x, p, pi);
	replay_wait_status_text((int)ev->ret, status, sizeof(status));
	if (start && start <= ev->ts) {
		ev_begin(x, &j, "X", p && p->comm[0] ? p->comm : ev->comm,
			 "process", start, ev->task.pid, ev->task.pid);
		put_us(&j, "dur", (int64_t)(ev->ts - start));
	} else {
		snprintf(x->name, sizeof(x->name), "exit (%s)", status);
		instant(x, &j, x->name, "process", ev);
	}
	args_begin(&j, &a);
	replay_json_str(&a, "status", status);
	replay_json_int(&a, "exit_code", ev->ret);
	if (p && p->ppid)
		replay_json_uint(&a, "ppid", p->ppid);
	if (p && p->args)
		replay_json_str(&a, "cmdline", p->args);
	args_end(&a);
	replay_json_end(&j);
}

static void readline_event(struct chrome *x, const struct export_event *ev)
{
	struct replay_json j, a;
	snprintf(x->name, sizeof(x->name), "readline %s", ev->line);
	instant(x, &j, x->name, "readline", ev);
	args_begin(&j, &a);
	replay_json_str(&a, "line", ev->line);
	/* the recorder writes the terminal just before the line */
	if (x->tty_tid == ev->task.tid && x->tty_ts == ev->ts)
		replay_json_str(&a, "tty", x->tty);
	args_end(&a);
	replay_json_end(&j);
}

static const char *file_type(uint16_t mode)
{
	if (S_ISREG(mode))
		return "regular";
	if (S_ISSOCK(mode))
		return "socket";
	return "other";
}

static void rw_counter(struct chrome *x, const struct export_event *ev,
		       struct proc_info *pi)
{
	struct replay_json j, a;
	pi->rbytes += ev->rbytes;
	pi->wbytes += ev->wbytes;
	ev_begin(x, &j, "C", "bytes", "rw", ev->ts, ev->task.pid, -1);
	args_begin(&j, &a);
	replay_json_uint(&a, "read", pi->rbytes);
	replay_json_uint(&a, "written", pi->wbytes);
	args_end(&a);
	replay_json_end(&j);
}

static void rw_instant(struct chrome *x, const struct export_event *ev)
{
	struct replay_json j, a;
	const char *verb = ev->rbytes && ev->wbytes ? "read+write"
			   : ev->wbytes		    ? "write"
						    : "read";
	snprintf(x->name, sizeof(x->name), "%s %s", verb, ev->path);
	instant(x, &j, x->name, "rw", ev);
	args_begin(&j, &a);
	replay_json_str(&a, "file", ev->path);
	replay_json_str(&a, "type", file_type(ev->i_mode));
	replay_json_uint(&a, "bytes_read", ev->rbytes);
	replay_json_uint(&a, "bytes_written", ev->wbytes);
	replay_json_uint(&a, "reads", ev->reads);
	replay_json_uint(&a, "writes", ev->writes);
	args_end(&a);
	replay_json_end(&j);
}

static void loss_event(struct chrome *x, uint64_t ts, const struct tt_loss *l)
{
	struct replay_json j, a;
	snprintf(x->name, sizeof(x->name), "lost %" PRIu64 " events",
		 (uint64_t)l->count);
	ev_begin(x, &j, "i", x->name, "loss", ts, 0, 0);
	replay_json_str(&j, "s", "g");
	args_begin(&j, &a);
	replay_json_uint(&a, "count", l->count);
	if (l->cpu != TT_LOSS_CPU_ANY)
		replay_json_uint(&a, "cpu", l->cpu);
	if (l->since_ts)
		put_us(&a, "since_us", rel(x, l->since_ts));
	replay_json_str(&a, "cause",
			l->cause == TT_LOSS_SKIPPED ? "skipped probe runs"
						    : "ring buffer full");
	args_end(&a);
	replay_json_end(&j);
}

/* ---- the replay -------------------------------------------------- */

static void event(struct chrome *x, struct replay *rp,
		  const struct export_event *ev)
{
	if (ev->type == TT_REC_TTY) {
		x->tty_tid = ev->task.tid;
		x->tty_ts = ev->ts;
		snprintf(x->tty, sizeof(x->tty), "%.63s", ev->path);
		return;
	}
	struct proc_info *pi = see_process(x, rp, ev);
	see_thread(x, ev);
	switch (ev->type) {
	case TT_REC_OPEN:
	case TT_REC_UNLINK:
	case TT_REC_RENAME:
		file_op(x, ev);
		break;
	case TT_REC_EXEC:
		exec_event(x, ev);
		if (ev->ret == 0 && pi) {
			if (!pi->exec_ts)
				pi->exec_ts = ev->ts;
			name_process(x, pi, ev->task.pid, ev->comm);
		}
		break;
	case TT_REC_FORK:
		fork_event(x, ev);
		break;
	case TT_REC_EXIT:
		exit_event(x, rp, ev, pi);
		strmap_remove(x->procs, &ev->task.pid, sizeof(ev->task.pid));
		break;
	case TT_REC_READLINE:
		readline_event(x, ev);
		break;
	case TT_REC_RW:
		if ((x->rw & EXPORT_RW_COUNTER) && pi)
			rw_counter(x, ev, pi);
		if (x->rw & EXPORT_RW_INSTANT)
			rw_instant(x, ev);
		break;
	}
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct chrome *x = ctx;
	struct tt_loss l;
	if (export_decode(rec, &x->ev, x->files) == 0)
		event(x, rp, &x->ev);
	else if (export_decode_loss(rec, &l) && l.count)
		loss_event(x, rec->ts, &l);
	return 0;
}

static int start(struct replay *rp, void *ctx)
{
	struct chrome *x = ctx;
	char iso[REPLAY_ISO_LEN];
	struct replay_json j;
	x->f = rp->out;
	x->origin = rp->tape_start_ts;
	replay_fmt_iso(rp, x->origin, iso);
	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":", x->f);
	replay_json_begin(&j, x->f);
	replay_json_str(&j, "exporter", "tracetape " TT_VERSION);
	replay_json_str(&j, "tape", rp->tape);
	replay_json_str(&j, "ts_unit",
			"microseconds since the tape's first record");
	replay_json_uint(&j, "ts_zero_boot_ns", x->origin);
	replay_json_str(&j, "ts_zero_time", iso);
	fputs("},\"traceEvents\":[\n", x->f);
	return 0;
}

static void damage_event(struct chrome *x, const struct tape_damage *d)
{
	struct replay_json j, a;
	snprintf(x->name, sizeof(x->name),
		 "damaged tape: %" PRIu64 " records lost", d->records_lost);
	ev_begin(x, &j, "i", x->name, "damage",
		 d->first_ts ? d->first_ts : x->origin, 0, 0);
	replay_json_str(&j, "s", "g");
	args_begin(&j, &a);
	replay_json_damage(&a, d);
	replay_json_str(&a, "what", d->what);
	args_end(&a);
	replay_json_end(&j);
}

static int finish(struct replay *rp, void *ctx)
{
	struct chrome *x = ctx;
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	for (size_t i = 0; i < n; i++)
		if (replay_damage_in_window(rp, &d[i]))
			damage_event(x, &d[i]);
	fputs("]}\n", x->f);
	return REPLAY_EXIT_OK;
}

int export_chrome(struct replay_common *c, const struct export_opts *o,
		  const struct replay_env *env)
{
	struct chrome *x = calloc(1, sizeof(*x));
	int rc = REPLAY_EXIT_TROUBLE;
	if (x) {
		x->rw = o->rw;
		x->procs = strmap_new(sizeof(struct proc_info));
		x->threads = calloc(THREAD_SLOTS, sizeof(*x->threads));
		x->files = export_files_new();
	}
	if (x && x->procs && x->threads && x->files) {
		struct replay_ops ops = {
			.start = start,
			.on_record = on_record,
			.finish = finish,
			.ctx = x,
			.flags = REPLAY_F_NEED_RECORDS,
		};
		c->analysis = "export";
		rc = replay_run(c, &ops, env);
	} else {
		fprintf(env->err, "%s export: out of memory\n", env->prog);
	}
	if (x) {
		strmap_free(x->procs);
		free(x->threads);
		export_files_free(x->files);
	}
	free(x);
	return rc;
}
