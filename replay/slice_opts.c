/* SPDX-License-Identifier: MIT */
/* slice_opts.c - the options of `tracetape slice` and the check of OUT. */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "slice.h"

void slice_usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape slice TAPE -o OUT [--since WHEN] "
		"[--until WHEN]\n"
		"                       [-p PID ...] [--tree] [--comm NAME]\n\n"
		"Write OUT, a new tape holding only the records of the window "
		"and of the\nchosen processes, with the metadata every segment "
		"needs to replay alone.\nAny analysis reads OUT like TAPE.\n\n"
		"  -o, --output OUT     the new tape directory (must not exist "
		"or be empty)\n"
		"  -p, --pid PID        keep this process' events (thread "
		"group id);\n"
		"                       repeat for several\n"
		"  -t, --tree           with -p: also their descendants\n"
		"  -c, --comm NAME      keep only tasks named NAME (exact, as "
		"comm)\n"
		"      --segment-size BYTES\n"
		"                       rotate OUT's segments at this size "
		"(default: as\n"
		"                       the source's segment_size option, "
		"else 64 MiB)\n"
		"      --since WHEN, --until WHEN, --utc\n"
		"                       the window, as for every analysis:\n\n"
		"%s\n"
		"Loss records inside the window are all kept: a loss is not "
		"per process.\nExit status: 0 written; 1 written, but the "
		"source is damaged in the\nwindow (the damage is listed on "
		"stderr); 2 trouble.\n",
		replay_common_help);
}

enum { OPT_SEGMENT_SIZE = 0x2000 };

static int add_pid(struct slice *s, const char *arg,
		   const struct replay_env *env)
{
	uint64_t v;
	if (replay_parse_range(arg, 1, UINT32_MAX, &v) < 0)
		return replay_usage_error(env, "slice",
					  "-p %s: not a process id", arg);
	if (s->npids == SLICE_PIDS_MAX)
		return replay_usage_error(env, "slice",
					  "-p: at most %d processes",
					  SLICE_PIDS_MAX);
	s->pids[s->npids++] = (uint32_t)v;
	return 0;
}

static int take_option(struct slice *s, int opt, const char *arg, char **argv,
		       const struct replay_env *env)
{
	uint64_t v;
	switch (opt) {
	case 'o':
		s->out = arg;
		return 0;
	case 'p':
		return add_pid(s, arg, env);
	case 't':
		s->tree = true;
		return 0;
	case 'c':
		if (!*arg || strlen(arg) >= TT_COMM_LEN)
			return replay_usage_error(
				env, "slice",
				"--comm '%s': a name of 1 to %d characters",
				arg, TT_COMM_LEN - 1);
		s->comm = arg;
		return 0;
	case OPT_SEGMENT_SIZE:
		if (replay_parse_range(arg, SLICE_SEGMENT_MIN, UINT64_MAX / 2,
				       &v) < 0)
			return replay_usage_error(
				env, "slice",
				"--segment-size %s: a number of bytes, at "
				"least %u",
				arg, SLICE_SEGMENT_MIN);
		s->segment_size = v;
		return 0;
	}
	if (replay_common_option(&s->common, opt, arg))
		return 0;
	return replay_option_error(env, "slice", opt, argv);
}

int slice_parse_args(struct slice *s, int argc, char **argv,
		     const struct replay_env *env)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"output", required_argument, NULL, 'o'},
		{"pid", required_argument, NULL, 'p'},
		{"tree", no_argument, NULL, 't'},
		{"comm", required_argument, NULL, 'c'},
		{"segment-size", required_argument, NULL, OPT_SEGMENT_SIZE},
		{NULL, 0, NULL, 0},
	};
	int opt, rc;
	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":ho:p:tc:", longopts, NULL)) !=
	       -1)
		if ((rc = take_option(s, opt, optarg, argv, env)))
			return rc;
	if (s->common.help)
		return 0;
	if ((rc = replay_common_finish(&s->common, argc, argv, "slice", env)))
		return rc;
	if (s->common.json)
		return replay_usage_error(env, "slice",
					  "--json does not apply: slice "
					  "writes a tape");
	if (!s->out)
		return replay_usage_error(env, "slice",
					  "missing -o OUT: the new tape's "
					  "directory");
	if (s->tree && !s->npids)
		return replay_usage_error(env, "slice",
					  "--tree needs -p PID: the "
					  "processes whose descendants to "
					  "keep");
	return 0;
}

/* ---- before reading ---------------------------------------------- */

/* OUT must be new or an empty directory: say so before any work. */
int slice_check_out(const struct slice *s, const struct replay_env *env)
{
	DIR *d = opendir(s->out);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR)
			goto exists;
		fprintf(env->err, "%s slice: %s: %s: give a new directory\n",
			env->prog, s->out, strerror(errno));
		return REPLAY_EXIT_TROUBLE;
	}
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	if (empty)
		return 0;
exists:
	fprintf(env->err,
		"%s slice: %s: exists and is not empty; slice never "
		"overwrites: give a new directory with -o, or remove this "
		"one\n",
		env->prog, s->out);
	return REPLAY_EXIT_TROUBLE;
}
