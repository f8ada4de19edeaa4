/* SPDX-License-Identifier: MIT */
/*
 * bashreadline.c - `tracetape bashreadline`: every line typed into bash,
 * printed as libbpf-tools bashreadline prints them (TIME PID COMMAND).
 *
 * The live tool formats TIME with "%H:%m:%S" (month in the minutes'
 * place, a bug); replay prints the real minutes.
 */
#include <string.h>

#include "replay.h"

struct bashreadline {
	uint64_t pid; /* -p, 0 = all */
	uint64_t uid; /* -u, UINT64_MAX = all */
};

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct bashreadline *o = ctx;
	struct replay_readline rl;
	if (rec->type != TT_REC_READLINE ||
	    replay_decode_readline(rec, &rl) < 0)
		return 0;
	if (o->pid && rl.f.task.pid != o->pid)
		return 0;
	if (o->uid != UINT64_MAX && rl.f.task.uid != o->uid)
		return 0;
	if (rp->json) {
		char comm[TT_COMM_LEN + 1];
		replay_task_comm(&rl.f.task, comm);
		struct replay_json j;
		replay_json_begin(&j, rp->out);
		replay_json_time(&j, rp, rec->ts);
		replay_json_str(&j, "type", "readline");
		replay_json_uint(&j, "pid", rl.f.task.pid);
		replay_json_uint(&j, "tid", rl.f.task.tid);
		replay_json_uint(&j, "uid", rl.f.task.uid);
		replay_json_str(&j, "comm", comm);
		replay_json_str(&j, "line", rl.line);
		replay_json_end(&j);
		return 0;
	}
	char hms[REPLAY_HMS_LEN];
	replay_fmt_hms(rp, rec->ts, hms);
	replay_buf_str(rp->buf, hms, 9, true);
	replay_buf_char(rp->buf, ' ');
	replay_buf_int(rp->buf, (int32_t)rl.f.task.pid, 7, true);
	replay_buf_char(rp->buf, ' ');
	replay_buf_str(rp->buf, rl.line, 0, false);
	replay_buf_char(rp->buf, '\n');
	return 0;
}

static int start(struct replay *rp, void *ctx)
{
	(void)ctx;
	if (!rp->json)
		fprintf(rp->out, "%-9s %-7s %s\n", "TIME", "PID", "COMMAND");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape bashreadline TAPE [OPTIONS]\n\n"
		"Lines typed into bash, as libbpf-tools bashreadline showed "
		"them live.\n\n"
		"Options:\n"
		"  -p, --pid=PID   this shell only\n"
		"  -u, --uid=UID   this user's shells only\n"
		"\n%s",
		replay_common_help);
}

static int parse_args(int argc, char **argv, const struct replay_env *env,
		      struct bashreadline *o, struct replay_common *c)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"pid", required_argument, NULL, 'p'},
		{"uid", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	int opt, rc = 0;
	replay_getopt_reset();
	while (!rc && (opt = getopt_long(argc, argv, ":p:u:h", longopts,
					 NULL)) != -1) {
		if (replay_common_option(c, opt, optarg))
			continue;
		switch (opt) {
		case 'p':
			if (replay_parse_range(optarg, 1, UINT32_MAX, &o->pid))
				rc = replay_usage_error(env, "bashreadline",
							"-p: invalid PID '%s'",
							optarg);
			break;
		case 'u':
			if (replay_parse_range(optarg, 0, UINT32_MAX - 1,
					       &o->uid))
				rc = replay_usage_error(env, "bashreadline",
							"-u: invalid UID '%s'",
							optarg);
			break;
		default:
			rc = replay_option_error(env, "bashreadline", opt,
						 argv);
		}
	}
	return rc;
}

int bashreadline_main(int argc, char **argv, const struct replay_env *env)
{
	struct bashreadline o = {.uid = UINT64_MAX};
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
	return replay_run_main(&c, argc, argv, "bashreadline", usage, &ops,
			       env);
}
