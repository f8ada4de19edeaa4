/* SPDX-License-Identifier: MIT */
/*
 * dump.c - `tracetape dump`: every record, one line each.  Text is for
 * people; --json is a stable schema (docs/tracetape-dump.1) that tests
 * and scripts depend on: fields are named as in bpf/tt_events.h.
 */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "replay.h"

/* One line of output, text ("key=value ...") or JSON, field by field. */
struct line {
	struct replay_json j;
	bool json;
	FILE *f;
};

static void put_quoted(FILE *f, const char *s)
{
	putc_unlocked('"', f);
	for (const char *run = s;; s++) {
		if (*s == '"' || *s == '\0') {
			char esc[PATH_MAX];
			size_t n = (size_t)(s - run);
			/* Escape the run in pieces that fit the buffer. */
			while (n) {
				char piece[1024];
				size_t k = n < sizeof(piece) - 1
						   ? n
						   : sizeof(piece) - 1;
				memcpy(piece, run, k);
				piece[k] = '\0';
				fputs_unlocked(replay_text_escape(piece, esc,
								  sizeof(esc)),
					       f);
				run += k;
				n -= k;
			}
			if (*s == '\0')
				break;
			fputs_unlocked("\\\"", f);
			run = s + 1;
		}
	}
	putc_unlocked('"', f);
}

static void l_key(struct line *l, const char *key)
{
	if (l->json) {
		replay_json_key(&l->j, key);
		return;
	}
	fprintf(l->f, " %s=", key);
}

static void l_str(struct line *l, const char *key, const char *v)
{
	if (l->json) {
		replay_json_str(&l->j, key, v);
		return;
	}
	l_key(l, key);
	put_quoted(l->f, v ? v : "");
}

static void l_int(struct line *l, const char *key, int64_t v)
{
	if (l->json)
		replay_json_int(&l->j, key, v);
	else
		fprintf(l->f, " %s=%" PRId64, key, v);
}

static void l_uint(struct line *l, const char *key, uint64_t v)
{
	if (l->json)
		replay_json_uint(&l->j, key, v);
	else
		fprintf(l->f, " %s=%" PRIu64, key, v);
}

static void l_bool(struct line *l, const char *key, bool v)
{
	if (l->json)
		replay_json_bool(&l->j, key, v);
	else
		fprintf(l->f, " %s=%s", key, v ? "true" : "false");
}

/* NUL-separated strings as an array. */
static void l_strings(struct line *l, const char *key, const char *buf,
		      size_t len)
{
	l_key(l, key);
	putc_unlocked('[', l->f);
	size_t pos = 0;
	const char *s;
	for (int n = 0; (s = replay_next_string(buf, len, &pos)); n++) {
		if (n)
			putc_unlocked(',', l->f);
		if (l->json)
			replay_json_string(l->f, s);
		else
			put_quoted(l->f, s);
	}
	putc_unlocked(']', l->f);
}

static void l_task(struct line *l, const struct tt_task *t)
{
	char comm[TT_COMM_LEN + 1];
	replay_task_comm(t, comm);
	l_uint(l, "pid", t->pid);
	l_uint(l, "tid", t->tid);
	l_uint(l, "uid", t->uid);
	l_str(l, "comm", comm);
}

static void line_begin(struct line *l, struct replay *rp,
		       const struct tape_record *rec, const char *type)
{
	l->f = rp->out;
	l->json = rp->json;
	if (l->json) {
		replay_json_begin(&l->j, l->f);
		replay_json_time(&l->j, rp, rec->ts);
		replay_json_str(&l->j, "type", type);
		return;
	}
	char iso[REPLAY_ISO_LEN];
	replay_fmt_iso(rp, rec->ts, iso);
	fprintf(l->f, "%s %-8s ts_ns=%" PRIu64, iso, type, rec->ts);
}

static void line_end(struct line *l)
{
	if (l->json)
		replay_json_end(&l->j);
	else
		putc_unlocked('\n', l->f);
}

/* ---- per type ---------------------------------------------------- */

static void dump_file_op(struct line *l, const struct replay_file_op *op)
{
	char dir[PATH_MAX], full[PATH_MAX];
	const struct tt_file_op *f = &op->f;
	l_task(l, &f->task);
	l_int(l, "ret", f->ret);
	l_uint(l, "dev", f->dev);
	l_uint(l, "ino", f->ino);
	l_uint(l, "flags", f->flags);
	l_uint(l, "mode", f->mode);
	l_uint(l, "fmode", f->fmode);
	l_int(l, "dirfd", f->dirfd);
	l_int(l, "dirfd2", f->dirfd2);
	l_str(l, "syscall", replay_syscall_name(f->syscall));
	l_str(l, "path", op->path);
	if (op->dir)
		replay_dir_path(op->dir, op->dir_len, dir, sizeof(dir));
	l_str(l, "dir", op->dir ? dir : "");
	l_str(l, "path2", op->path2);
	if (op->dir2)
		replay_dir_path(op->dir2, op->dir2_len, dir, sizeof(dir));
	l_str(l, "dir2", op->dir2 ? dir : "");
	replay_resolve_path(op->dir, op->dir_len, op->path, full, sizeof(full));
	l_str(l, "full", op->path[0] ? full : "");
	replay_resolve_path(op->dir2, op->dir2_len, op->path2, full,
			    sizeof(full));
	l_str(l, "full2", op->path2[0] ? full : "");
	l_bool(l, "created", (f->fmode & TT_FMODE_CREATED) != 0);
}

static void dump_rw(struct line *l, const struct replay_rw *rw)
{
	const struct tt_rw *f = &rw->f;
	l_task(l, &f->task);
	l_uint(l, "dev", f->dev);
	l_uint(l, "ino", f->ino);
	l_uint(l, "rbytes", f->rbytes);
	l_uint(l, "wbytes", f->wbytes);
	l_uint(l, "reads", f->reads);
	l_uint(l, "writes", f->writes);
	l_int(l, "fd", f->fd);
	l_uint(l, "i_mode", f->i_mode);
	l_str(l, "syscall", replay_syscall_name(f->syscall));
	l_str(l, "name", rw->name);
}

static void dump_exec(struct line *l, const struct replay_exec *ex)
{
	const struct tt_exec *f = &ex->f;
	l_task(l, &f->task);
	l_int(l, "ret", f->ret);
	l_uint(l, "ppid", f->ppid);
	l_uint(l, "argc", f->argc);
	l_str(l, "syscall", replay_syscall_name(f->syscall));
	l_str(l, "filename", ex->filename);
	l_strings(l, "args", ex->args, ex->args_len);
	l_bool(l, "truncated", (f->flags & TT_EXEC_TRUNCATED) != 0);
}

static void dump_kv(struct line *l, const struct tape_record *rec)
{
	l_key(l, "kv");
	if (l->json)
		putc_unlocked('{', l->f);
	size_t pos = 0;
	const char *s;
	for (int n = 0; (s = replay_next_string(rec->body, rec->len, &pos));
	     n++) {
		const char *eq = strchr(s, '=');
		char key[256];
		size_t kl = eq ? (size_t)(eq - s) : strlen(s);
		if (kl >= sizeof(key))
			kl = sizeof(key) - 1;
		memcpy(key, s, kl);
		key[kl] = '\0';
		const char *val = eq ? eq + 1 : "";
		if (l->json) {
			if (n)
				putc_unlocked(',', l->f);
			replay_json_string(l->f, key);
			putc_unlocked(':', l->f);
			replay_json_string(l->f, val);
		} else {
			if (n)
				putc_unlocked(',', l->f);
			put_quoted(l->f, key);
			putc_unlocked('=', l->f);
			put_quoted(l->f, val);
		}
	}
	if (l->json)
		putc_unlocked('}', l->f);
}

static void dump_clock(struct line *l, const struct tape_record *rec)
{
	struct tt_clock c;
	tape_rec_fixed(rec, &c, sizeof(c));
	l_uint(l, "boottime_ns", c.boottime_ns);
	l_uint(l, "monotonic_ns", c.monotonic_ns);
	l_uint(l, "realtime_ns", c.realtime_ns);
	l_int(l, "utc_offset", c.utc_offset);
}

static void dump_loss(struct line *l, const struct tape_record *rec)
{
	struct tt_loss x;
	tape_rec_fixed(rec, &x, sizeof(x));
	l_uint(l, "cpu", x.cpu);
	l_uint(l, "cause", x.cause);
	l_uint(l, "count", x.count);
	l_uint(l, "since_ts_ns", x.since_ts);
}

static void dump_loadavg(struct line *l, const struct tape_record *rec)
{
	struct tt_loadavg x;
	tape_rec_fixed(rec, &x, sizeof(x));
	l_uint(l, "load1", x.load1);
	l_uint(l, "load5", x.load5);
	l_uint(l, "load15", x.load15);
	l_uint(l, "nr_running", x.nr_running);
	l_uint(l, "nr_threads", x.nr_threads);
	l_uint(l, "last_pid", x.last_pid);
}

/* Strings after a metadata struct, located like take_string() does. */
static const char *meta_string(const struct tape_record *rec, size_t *off,
			       size_t len)
{
	size_t at = *off;
	*off += len;
	if (len == 0 || at > rec->len || len > rec->len - at)
		return "";
	const char *s = (const char *)rec->body + at;
	return s[len - 1] == '\0' ? s : "";
}

static void dump_proc(struct line *l, const struct tape_record *rec)
{
	struct tt_proc p;
	char comm[TT_COMM_LEN + 1];
	tape_rec_fixed(rec, &p, sizeof(p));
	memcpy(comm, p.comm, TT_COMM_LEN);
	comm[TT_COMM_LEN] = '\0';
	l_uint(l, "pid", p.pid);
	l_uint(l, "ppid", p.ppid);
	l_uint(l, "uid", p.uid);
	l_str(l, "comm", comm);
	l_uint(l, "argc", p.argc);
	l_uint(l, "start_ts", p.start_ts);
	size_t off = sizeof(p);
	l_str(l, "exe", meta_string(rec, &off, p.exe_len));
	const char *args = NULL;
	size_t args_len = 0;
	if (p.args_len && off < rec->len) {
		args = (const char *)rec->body + off;
		args_len = rec->len - off < p.args_len ? rec->len - off
						       : p.args_len;
	}
	l_strings(l, "args", args, args_len);
}

static void dump_mount(struct line *l, const struct tape_record *rec)
{
	struct tt_mount m;
	tape_rec_fixed(rec, &m, sizeof(m));
	size_t off = sizeof(m);
	l_uint(l, "dev", m.dev);
	l_str(l, "point", meta_string(rec, &off, m.point_len));
	l_str(l, "fstype", meta_string(rec, &off, m.fstype_len));
	l_str(l, "source", meta_string(rec, &off, m.source_len));
}

static void dump_user(struct line *l, const struct tape_record *rec)
{
	struct tt_user u;
	tape_rec_fixed(rec, &u, sizeof(u));
	size_t off = sizeof(u);
	l_uint(l, "uid", u.uid);
	l_str(l, "name", meta_string(rec, &off, u.name_len));
}

static void dump_segment(struct line *l, const struct tape_record *rec)
{
	struct tt_segment_start s;
	tape_rec_fixed(rec, &s, sizeof(s));
	l_uint(l, "segment_seq", s.segment_seq);
	l_uint(l, "events_before", s.events_before);
}

/* A terminal: "" when the task had none (tty_len 0) or the name is bad. */
static void dump_tty(struct line *l, const struct tape_record *rec,
		     const struct tt_tty *t)
{
	size_t off = sizeof(*t);
	l_task(l, &t->task);
	l_uint(l, "dev", t->dev);
	l_str(l, "tty", meta_string(rec, &off, t->tty_len));
}

static void dump_unknown(struct line *l, const struct tape_record *rec)
{
	l_uint(l, "rec_type", rec->type);
	l_uint(l, "len", rec->len);
}

/* Event records: decoded, or shown as unknown when too short. */
static bool dump_event(struct line *l, struct replay *rp,
		       const struct tape_record *rec)
{
	const char *type = replay_type_name(rec->type);
	union {
		struct replay_file_op op;
		struct replay_rw rw;
		struct replay_exec ex;
		struct replay_readline rl;
		struct tt_fork fork;
		struct tt_exit exit;
		struct tt_tty tty;
	} u;
	switch (rec->type) {
	case TT_REC_OPEN:
	case TT_REC_UNLINK:
	case TT_REC_RENAME:
		if (replay_decode_file_op(rec, &u.op) < 0)
			return false;
		line_begin(l, rp, rec, type);
		dump_file_op(l, &u.op);
		return true;
	case TT_REC_RW:
		if (replay_decode_rw(rec, &u.rw) < 0)
			return false;
		line_begin(l, rp, rec, type);
		dump_rw(l, &u.rw);
		return true;
	case TT_REC_EXEC:
		if (replay_decode_exec(rec, &u.ex) < 0)
			return false;
		line_begin(l, rp, rec, type);
		dump_exec(l, &u.ex);
		return true;
	case TT_REC_READLINE:
		if (replay_decode_readline(rec, &u.rl) < 0)
			return false;
		line_begin(l, rp, rec, type);
		l_task(l, &u.rl.f.task);
		l_str(l, "line", u.rl.line);
		return true;
	case TT_REC_FORK:
		if (rec->len < sizeof(struct tt_task))
			return false;
		tape_rec_fixed(rec, &u.fork, sizeof(u.fork));
		line_begin(l, rp, rec, type);
		l_task(l, &u.fork.task);
		l_uint(l, "child_pid", u.fork.child_pid);
		return true;
	case TT_REC_EXIT:
		if (rec->len < sizeof(struct tt_task))
			return false;
		tape_rec_fixed(rec, &u.exit, sizeof(u.exit));
		line_begin(l, rp, rec, type);
		l_task(l, &u.exit.task);
		l_int(l, "exit_code", u.exit.exit_code);
		return true;
	case TT_REC_TTY:
		if (rec->len < sizeof(struct tt_task))
			return false;
		tape_rec_fixed(rec, &u.tty, sizeof(u.tty));
		line_begin(l, rp, rec, type);
		dump_tty(l, rec, &u.tty);
		return true;
	}
	return false;
}

static void dump_metadata(struct line *l, struct replay *rp,
			  const struct tape_record *rec)
{
	line_begin(l, rp, rec, replay_type_name(rec->type));
	switch (rec->type) {
	case TT_REC_HOST:
	case TT_REC_OPTIONS:
	case TT_REC_PROBE:
		dump_kv(l, rec);
		break;
	case TT_REC_CLOCK:
		dump_clock(l, rec);
		break;
	case TT_REC_LOSS:
		dump_loss(l, rec);
		break;
	case TT_REC_LOADAVG:
		dump_loadavg(l, rec);
		break;
	case TT_REC_PROC:
		dump_proc(l, rec);
		break;
	case TT_REC_MOUNT:
		dump_mount(l, rec);
		break;
	case TT_REC_USER:
		dump_user(l, rec);
		break;
	case TT_REC_SEGMENT:
		dump_segment(l, rec);
		break;
	default:
		dump_unknown(l, rec);
		break;
	}
}

static bool is_metadata(unsigned type)
{
	return type >= TT_REC_HOST && type <= TT_REC_SEGMENT;
}

static int dump_record(struct replay *rp, const struct tape_record *rec,
		       void *ctx)
{
	(void)ctx;
	struct line l;
	if (rec->type >= TT_REC_OPEN && rec->type <= TT_REC_TTY) {
		if (!dump_event(&l, rp, rec)) {
			line_begin(&l, rp, rec, "unknown");
			dump_unknown(&l, rec);
		}
	} else if (is_metadata(rec->type)) {
		dump_metadata(&l, rp, rec);
	} else {
		line_begin(&l, rp, rec, "unknown");
		dump_unknown(&l, rec);
	}
	line_end(&l);
	return 0;
}

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape dump TAPE [OPTIONS]\n\n"
		"Every record of the tape, one per line, in time order.\n\n"
		"Options:\n"
		"      --file-order   as stored, not merged by time\n\n%s",
		replay_common_help);
}

int dump_main(int argc, char **argv, const struct replay_env *env)
{
	enum { OPT_FILE_ORDER = 0x2000 };
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"file-order", no_argument, NULL, OPT_FILE_ORDER},
		{NULL, 0, NULL, 0},
	};
	struct replay_common c = {0};
	struct replay_ops ops = {
		.on_record = dump_record,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NO_JSON_WARNINGS |
			 REPLAY_F_NEED_RECORDS,
	};
	int opt;
	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (replay_common_option(&c, opt, optarg))
			continue;
		if (opt == OPT_FILE_ORDER) {
			ops.flags |= REPLAY_F_FILE_ORDER;
			continue;
		}
		return replay_option_error(env, "dump", opt, argv);
	}
	return replay_run_main(&c, argc, argv, "dump", dump_usage, &ops, env);
}
