/* SPDX-License-Identifier: MIT */
/*
 * execsnoop.c - `tracetape execsnoop`: program executions, printed as
 * libbpf-tools execsnoop prints them, with the full argv the recorder
 * read from the new image (no 20-argument cut unless --max-args).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct execsnoop {
	bool time;	   /* -T: HH:MM:SS column */
	bool timestamp;	   /* -t: seconds since the window's start */
	bool fails;	   /* -x: failed execs too */
	bool quote;	   /* -q */
	bool print_uid;	   /* -U */
	uint64_t uid;	   /* -u, UINT64_MAX = all */
	uint64_t max_args; /* --max-args, 0 = all */
	const char *name;  /* -n: substring of comm */
	const char *line;  /* -l: substring of the command line */
	uint64_t start_ts;
};

/*
 * The ARGS column, as the live tool fills it: the filename passed to
 * execve first (where argv[0] would be), then argv[1..].  Iterate with
 * *I from 0; returns NULL at the end.  Strings cut short by the body
 * are not returned.
 */
static const char *next_shown_arg(const struct replay_exec *ex, uint32_t *i,
				  size_t *pos)
{
	const char *arg;
	if (*i == 0) {
		(*i)++;
		/* skip argv[0] */
		if (!replay_next_string(ex->args, ex->args_len, pos))
			*pos = ex->args_len;
		return ex->filename;
	}
	if (*i >= ex->f.argc)
		return NULL;
	arg = replay_next_string(ex->args, ex->args_len, pos);
	if (arg)
		(*i)++;
	return arg;
}

/* The ARGS column joined with spaces, for -l (bounded): the same
 * strings print_args() shows, so a match is always visible. */
static void join_args(const struct replay_exec *ex, char *out, size_t size)
{
	size_t pos = 0, n = 0;
	uint32_t i = 0;
	const char *arg;
	while ((arg = next_shown_arg(ex, &i, &pos))) {
		size_t k = strlen(arg);
		if (n + k + 2 > size)
			break;
		if (n)
			out[n++] = ' ';
		memcpy(out + n, arg, k);
		n += k;
	}
	out[n] = '\0';
}

static bool wanted(const struct execsnoop *o, const struct replay_exec *ex,
		   const char *comm)
{
	if (!o->fails && ex->f.ret < 0)
		return false;
	if (o->uid != UINT64_MAX && ex->f.task.uid != o->uid)
		return false;
	if (o->name && !strstr(comm, o->name))
		return false;
	if (o->line) {
		static char joined[1 << 17];
		join_args(ex, joined, sizeof(joined));
		if (!strstr(joined, o->line))
			return false;
	}
	return true;
}

static void print_header(const struct execsnoop *o, FILE *out)
{
	if (o->time)
		fprintf(out, "%-9s", "TIME");
	if (o->timestamp)
		fprintf(out, "%-8s ", "TIME(s)");
	if (o->print_uid)
		fprintf(out, "%-6s ", "UID");
	fprintf(out, "%-16s %-6s %-6s %3s %s\n", "PCOMM", "PID", "PPID", "RET",
		"ARGS");
}

/* One argument inside quotes: '"' escaped too, as the live -q does. */
static void put_quoted_arg(struct replay_buf *b, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		if (*s != '"')
			continue;
		char piece[4096];
		size_t n = (size_t)(s - run);
		while (n) {
			size_t k =
				n < sizeof(piece) - 1 ? n : sizeof(piece) - 1;
			memcpy(piece, run, k);
			piece[k] = '\0';
			replay_buf_str(b, piece, 0, false);
			run += k;
			n -= k;
		}
		replay_buf_raw(b, "\\\"", 2);
		run = s + 1;
	}
	replay_buf_str(b, run, 0, false);
}

static void print_args(const struct execsnoop *o, struct replay_buf *b,
		       const struct replay_exec *ex)
{
	size_t pos = 0;
	uint32_t i = 0;
	uint64_t shown = 0;
	const char *arg;
	bool more = (ex->f.flags & TT_EXEC_TRUNCATED) != 0;
	if (o->quote)
		replay_buf_char(b, '"');
	while ((arg = next_shown_arg(ex, &i, &pos))) {
		if (o->max_args && shown == o->max_args) {
			more = true;
			break;
		}
		shown++;
		if (!o->quote) {
			replay_buf_str(b, arg, 0, false);
			replay_buf_char(b, ' ');
			continue;
		}
		put_quoted_arg(b, arg);
		replay_buf_raw(b, "\" ", 2);
		/* the live tool opens the next quote before knowing */
		if (i < ex->f.argc)
			replay_buf_char(b, '"');
	}
	if (more)
		replay_buf_raw(b, " ...", 4);
}

static void print_text(struct execsnoop *o, struct replay *rp,
		       const struct tape_record *rec,
		       const struct replay_exec *ex, const char *comm)
{
	struct replay_buf *b = rp->buf;
	if (o->time) {
		char hms[REPLAY_HMS_LEN];
		replay_fmt_hms(rp, rec->ts, hms);
		replay_buf_str(b, hms, 8, true);
		replay_buf_char(b, ' ');
	}
	if (o->timestamp) {
		char secs[48];
		double d = rec->ts >= o->start_ts
				   ? (double)(rec->ts - o->start_ts) / 1e9
				   : 0.0;
		int n = snprintf(secs, sizeof(secs), "%-8.3f", d);
		replay_buf_raw(b, secs, (size_t)n);
	}
	if (o->print_uid)
		replay_buf_int(b, (int32_t)ex->f.task.uid, 6, true);
	replay_buf_str(b, comm, 16, true);
	replay_buf_char(b, ' ');
	replay_buf_int(b, (int32_t)ex->f.task.pid, 6, true);
	replay_buf_char(b, ' ');
	replay_buf_int(b, (int32_t)ex->f.ppid, 6, true);
	replay_buf_char(b, ' ');
	replay_buf_int(b, ex->f.ret, 3, false);
	replay_buf_char(b, ' ');
	print_args(o, b, ex);
	replay_buf_char(b, '\n');
}

static void print_json(struct replay *rp, const struct tape_record *rec,
		       const struct replay_exec *ex, const char *comm)
{
	struct replay_json j;
	replay_json_begin(&j, rp->out);
	replay_json_time(&j, rp, rec->ts);
	replay_json_str(&j, "type", "exec");
	replay_json_uint(&j, "pid", ex->f.task.pid);
	replay_json_uint(&j, "tid", ex->f.task.tid);
	replay_json_uint(&j, "ppid", ex->f.ppid);
	replay_json_uint(&j, "uid", ex->f.task.uid);
	replay_json_str(&j, "comm", comm);
	replay_json_int(&j, "ret", ex->f.ret);
	replay_json_str(&j, "filename", ex->filename);
	replay_json_key(&j, "args");
	putc('[', rp->out);
	size_t pos = 0;
	const char *arg;
	for (uint32_t n = 0;
	     n < ex->f.argc &&
	     (arg = replay_next_string(ex->args, ex->args_len, &pos));
	     n++) {
		if (n)
			putc(',', rp->out);
		replay_json_string(rp->out, arg);
	}
	putc(']', rp->out);
	replay_json_bool(&j, "truncated",
			 (ex->f.flags & TT_EXEC_TRUNCATED) != 0);
	replay_json_end(&j);
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct execsnoop *o = ctx;
	struct replay_exec ex;
	if (rec->type != TT_REC_EXEC || replay_decode_exec(rec, &ex) < 0)
		return 0;
	char comm[TT_COMM_LEN + 1];
	replay_task_comm(&ex.f.task, comm);
	if (!wanted(o, &ex, comm))
		return 0;
	if (rp->json)
		print_json(rp, rec, &ex, comm);
	else
		print_text(o, rp, rec, &ex, comm);
	return 0;
}

static int start(struct replay *rp, void *ctx)
{
	struct execsnoop *o = ctx;
	o->start_ts = rp->since_ts ? rp->since_ts : rp->tape_start_ts;
	if (!rp->json)
		print_header(o, rp->out);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape execsnoop TAPE [OPTIONS]\n\n"
		"Programs executed, as libbpf-tools execsnoop showed them "
		"live.\n\n"
		"Options:\n"
		"  -T, --time           print a TIME column (HH:MM:SS)\n"
		"  -t, --timestamp      print seconds since the window's "
		"start\n"
		"  -x, --fails          failed execs too\n"
		"  -u, --uid=UID        this user only\n"
		"  -U, --print-uid      print a UID column\n"
		"  -q, --quote          put \"quotemarks\" around arguments\n"
		"  -n, --name=NAME      commands whose name contains NAME\n"
		"  -l, --line=LINE      commands whose arguments contain LINE\n"
		"      --max-args=N     print at most N arguments (default: "
		"all)\n"
		"\n%s",
		replay_common_help);
}

static int parse_args(int argc, char **argv, const struct replay_env *env,
		      struct execsnoop *o, struct replay_common *c)
{
	enum { OPT_MAX_ARGS = 0x2000 };
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"time", no_argument, NULL, 'T'},
		{"timestamp", no_argument, NULL, 't'},
		{"fails", no_argument, NULL, 'x'},
		{"uid", required_argument, NULL, 'u'},
		{"print-uid", no_argument, NULL, 'U'},
		{"quote", no_argument, NULL, 'q'},
		{"name", required_argument, NULL, 'n'},
		{"line", required_argument, NULL, 'l'},
		{"max-args", required_argument, NULL, OPT_MAX_ARGS},
		{NULL, 0, NULL, 0},
	};
	int opt, rc = 0;
	replay_getopt_reset();
	while (!rc && (opt = getopt_long(argc, argv, ":TtxUqu:n:l:h", longopts,
					 NULL)) != -1) {
		if (replay_common_option(c, opt, optarg))
			continue;
		switch (opt) {
		case 'T':
			o->time = true;
			break;
		case 't':
			o->timestamp = true;
			break;
		case 'x':
			o->fails = true;
			break;
		case 'U':
			o->print_uid = true;
			break;
		case 'q':
			o->quote = true;
			break;
		case 'u':
			if (replay_parse_range(optarg, 0, UINT32_MAX - 1,
					       &o->uid))
				rc = replay_usage_error(env, "execsnoop",
							"-u: invalid UID '%s'",
							optarg);
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'l':
			o->line = optarg;
			break;
		case OPT_MAX_ARGS:
			if (replay_parse_range(optarg, 1, UINT64_MAX,
					       &o->max_args))
				rc = replay_usage_error(
					env, "execsnoop",
					"--max-args: invalid value '%s'",
					optarg);
			break;
		default:
			rc = replay_option_error(env, "execsnoop", opt, argv);
		}
	}
	return rc;
}

int execsnoop_main(int argc, char **argv, const struct replay_env *env)
{
	struct execsnoop o = {.uid = UINT64_MAX};
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
	return replay_run_main(&c, argc, argv, "execsnoop", usage, &ops, env);
}
