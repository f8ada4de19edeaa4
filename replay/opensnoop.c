/* SPDX-License-Identifier: MIT */
/*
 * opensnoop.c - `tracetape opensnoop`: the opens of a tape, printed as
 * libbpf-tools opensnoop prints them (same flags, columns and widths),
 * with TIME from the recorded timestamps.
 *
 * Replay speed matters here (millions of opens): lines are built with
 * replay_buf, not printf, and the process table is not kept.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct opensnoop {
	bool timestamp;	  /* -T */
	bool print_uid;	  /* -U */
	bool extended;	  /* -e */
	bool full_path;	  /* -F */
	bool failed;	  /* -x */
	uint64_t pid;	  /* -p, 0 = all */
	uint64_t tid;	  /* -t */
	uint64_t uid;	  /* -u, UINT64_MAX = all */
	const char *name; /* -n: substring of comm */
};

static bool wanted(const struct opensnoop *o, const struct tt_file_op *f,
		   const char *comm)
{
	if (o->failed && f->ret >= 0)
		return false;
	if (o->pid && f->task.pid != o->pid)
		return false;
	if (o->tid && f->task.tid != o->tid)
		return false;
	if (o->uid != UINT64_MAX && f->task.uid != o->uid)
		return false;
	if (o->name && !strstr(comm, o->name))
		return false;
	return true;
}

/* The live tool prints "n/a" for a mode the call did not use. */
static bool mode_used(const struct tt_file_op *f)
{
	return f->mode != 0 || (f->flags & O_CREAT) ||
	       (f->flags & O_TMPFILE) == O_TMPFILE;
}

static void print_header(const struct opensnoop *o, FILE *out)
{
	if (o->timestamp)
		fprintf(out, "%-8s ", "TIME");
	if (o->print_uid)
		fprintf(out, "%-7s ", "UID");
	fprintf(out, "%-6s %-16s %3s %3s ", "PID", "COMM", "FD", "ERR");
	if (o->extended)
		fprintf(out, "%-8s %-5s ", "FLAGS", "MODE");
	fprintf(out, "PATH\n");
}

static void print_text(struct opensnoop *o, struct replay *rp,
		       const struct tape_record *rec,
		       const struct replay_file_op *op, const char *comm,
		       const char *path)
{
	const struct tt_file_op *f = &op->f;
	struct replay_buf *b = rp->buf;
	if (o->timestamp) {
		char hms[REPLAY_HMS_LEN];
		replay_fmt_hms(rp, rec->ts, hms);
		replay_buf_str(b, hms, 8, true);
		replay_buf_char(b, ' ');
	}
	if (o->print_uid) {
		replay_buf_int(b, (int32_t)f->task.uid, 7, true);
		replay_buf_char(b, ' ');
	}
	replay_buf_int(b, (int32_t)f->task.pid, 6, true);
	replay_buf_char(b, ' ');
	replay_buf_str(b, comm, 16, true);
	replay_buf_char(b, ' ');
	replay_buf_int(b, f->ret >= 0 ? (int32_t)f->ret : -1, 3, false);
	replay_buf_char(b, ' ');
	replay_buf_int(b, f->ret >= 0 ? 0 : (int32_t)-f->ret, 3, false);
	replay_buf_char(b, ' ');
	if (o->extended) {
		replay_buf_octal(b, f->flags, 8);
		if (mode_used(f)) {
			replay_buf_char(b, ' ');
			replay_buf_octal(b, f->mode, 4);
			replay_buf_char(b, ' ');
		} else {
			replay_buf_raw(b, " n/a  ", 6);
		}
	}
	replay_buf_str(b, path, 0, false);
	replay_buf_char(b, '\n');
}

static void print_json(struct replay *rp, const struct tape_record *rec,
		       const struct replay_file_op *op, const char *comm,
		       const char *full)
{
	const struct tt_file_op *f = &op->f;
	struct replay_json j;
	replay_json_begin(&j, rp->out);
	replay_json_time(&j, rp, rec->ts);
	replay_json_str(&j, "type", "open");
	replay_json_uint(&j, "pid", f->task.pid);
	replay_json_uint(&j, "tid", f->task.tid);
	replay_json_uint(&j, "uid", f->task.uid);
	replay_json_str(&j, "comm", comm);
	replay_json_int(&j, "fd", f->ret >= 0 ? f->ret : -1);
	replay_json_int(&j, "err", f->ret >= 0 ? 0 : -f->ret);
	replay_json_uint(&j, "flags", f->flags);
	replay_json_uint(&j, "mode", f->mode);
	replay_json_str(&j, "syscall", replay_syscall_name(f->syscall));
	replay_json_str(&j, "path", op->path);
	replay_json_str(&j, "full", full);
	replay_json_end(&j);
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct opensnoop *o = ctx;
	struct replay_file_op op;
	if (rec->type != TT_REC_OPEN || replay_decode_file_op(rec, &op) < 0)
		return 0;
	char comm[TT_COMM_LEN + 1];
	replay_task_comm(&op.f.task, comm);
	if (!wanted(o, &op.f, comm))
		return 0;
	char full[PATH_MAX * 2];
	const char *path = op.path;
	if (o->full_path || rp->json) {
		replay_resolve_path(op.dir, op.dir_len, op.path, full,
				    sizeof(full));
		if (o->full_path)
			path = full;
	}
	if (rp->json)
		print_json(rp, rec, &op, comm, full);
	else
		print_text(o, rp, rec, &op, comm, path);
	return 0;
}

static int start(struct replay *rp, void *ctx)
{
	if (!rp->json)
		print_header(ctx, rp->out);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape opensnoop TAPE [OPTIONS]\n\n"
		"Files opened, as libbpf-tools opensnoop showed them live.\n\n"
		"Options:\n"
		"  -T, --timestamp        print a TIME column (recorded time)\n"
		"  -U, --print-uid        print a UID column\n"
		"  -e, --extended-fields  print FLAGS and MODE columns\n"
		"  -F, --full-path        print the resolved absolute path\n"
		"  -x, --failed           failed opens only\n"
		"  -p, --pid=PID          this process only\n"
		"  -t, --tid=TID          this thread only\n"
		"  -u, --uid=UID          this user only\n"
		"  -n, --name=NAME        commands whose name contains NAME\n"
		"  -d, --duration=SECONDS the first SECONDS of the window\n"
		"\n%s",
		replay_common_help);
}

/* Value of a numeric option; a usage error otherwise. */
static int number_arg(const struct replay_env *env, char opt, const char *arg,
		      bool allow_zero, uint64_t max, uint64_t *out)
{
	if (replay_parse_range(arg, allow_zero ? 0 : 1, max, out))
		return replay_usage_error(env, "opensnoop",
					  "-%c: invalid value '%s'", opt, arg);
	return 0;
}

static int parse_args(int argc, char **argv, const struct replay_env *env,
		      struct opensnoop *o, struct replay_common *c)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"timestamp", no_argument, NULL, 'T'},
		{"print-uid", no_argument, NULL, 'U'},
		{"extended-fields", no_argument, NULL, 'e'},
		{"full-path", no_argument, NULL, 'F'},
		{"failed", no_argument, NULL, 'x'},
		{"pid", required_argument, NULL, 'p'},
		{"tid", required_argument, NULL, 't'},
		{"uid", required_argument, NULL, 'u'},
		{"name", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	int opt, rc = 0;
	uint64_t secs = 0;
	replay_getopt_reset();
	while (!rc && (opt = getopt_long(argc, argv, ":TUeFxp:t:u:n:d:h",
					 longopts, NULL)) != -1) {
		if (replay_common_option(c, opt, optarg))
			continue;
		switch (opt) {
		case 'T':
			o->timestamp = true;
			break;
		case 'U':
			o->print_uid = true;
			break;
		case 'e':
			o->extended = true;
			break;
		case 'F':
			o->full_path = true;
			break;
		case 'x':
			o->failed = true;
			break;
		case 'p':
			rc = number_arg(env, 'p', optarg, false, INT_MAX,
					&o->pid);
			break;
		case 't':
			rc = number_arg(env, 't', optarg, false, INT_MAX,
					&o->tid);
			break;
		case 'u':
			rc = number_arg(env, 'u', optarg, true, UINT32_MAX - 1,
					&o->uid);
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'd':
			rc = number_arg(env, 'd', optarg, false,
					UINT64_MAX / 1000000000u, &secs);
			c->duration_ns = secs * 1000000000u;
			break;
		default:
			rc = replay_option_error(env, "opensnoop", opt, argv);
		}
	}
	return rc;
}

int opensnoop_main(int argc, char **argv, const struct replay_env *env)
{
	struct opensnoop o = {.uid = UINT64_MAX};
	struct replay_common c = {0};
	int rc = parse_args(argc, argv, env, &o, &c);
	if (rc)
		return rc;
	struct replay_ops ops = {
		.start = start,
		.on_record = on_record,
		.ctx = &o,
		.flags = REPLAY_F_NO_PROCS | REPLAY_F_NEED_RECORDS |
			 REPLAY_F_BUFFERED,
	};
	return replay_run_main(&c, argc, argv, "opensnoop", usage, &ops, env);
}
