/* SPDX-License-Identifier: MIT */
/* opts.c - the options every analysis shares, and usage errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

const char replay_common_help[] =
	"Common options:\n"
	"      --json         one JSON object per line instead of columns\n"
	"      --since WHEN   start of the window: \"2026-11-25 06:10:00\",\n"
	"                     \"06:10:00\" (the tape's first day), ISO-8601,\n"
	"                     or an offset from the tape's start: +30s, +2m, "
	"90\n"
	"      --until WHEN   end of the window, same forms\n"
	"      --utc          times in UTC instead of the recording host's "
	"zone\n"
	"      --help         this text\n";

void replay_getopt_reset(void)
{
	/* glibc: 0 re-initialises getopt completely (GNU extension). */
	optind = 0;
	opterr = 0;
}

int replay_common_option(struct replay_common *c, int opt, const char *arg)
{
	switch (opt) {
	case REPLAY_OPT_JSON:
		c->json = true;
		return 1;
	case REPLAY_OPT_SINCE:
		c->since = arg;
		return 1;
	case REPLAY_OPT_UNTIL:
		c->until = arg;
		return 1;
	case REPLAY_OPT_UTC:
		c->utc = true;
		return 1;
	case REPLAY_OPT_HELP:
	case 'h':
		c->help = true;
		return 1;
	}
	return 0;
}

int replay_usage_error(const struct replay_env *env, const char *analysis,
		       const char *fmt, ...)
{
	va_list ap;
	fprintf(env->err, "%s %s: ", env->prog, analysis ? analysis : "");
	va_start(ap, fmt);
	vfprintf(env->err, fmt, ap);
	va_end(ap);
	fprintf(env->err, " (see %s %s --help)\n", env->prog,
		analysis ? analysis : "");
	return REPLAY_EXIT_TROUBLE;
}

int replay_option_error(const struct replay_env *env, const char *analysis,
			int opt, char **argv)
{
	const char *given = optind > 0 ? argv[optind - 1] : "";
	if (opt == ':')
		return replay_usage_error(env, analysis,
					  "option '%s' needs a value", given);
	return replay_usage_error(env, analysis, "unknown option '%s'", given);
}

int replay_common_args(struct replay_common *c, int argc, char **argv,
		       const char *analysis, const struct replay_env *env)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	int opt;
	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
		if (!replay_common_option(c, opt, optarg))
			return replay_option_error(env, analysis, opt, argv);
	return 0;
}

int replay_run_main(struct replay_common *c, int argc, char **argv,
		    const char *analysis, void (*usage)(FILE *out),
		    const struct replay_ops *ops, const struct replay_env *env)
{
	if (c->help) {
		usage(env->out);
		return REPLAY_EXIT_OK;
	}
	int rc = replay_common_finish(c, argc, argv, analysis, env);
	return rc ? rc : replay_run(c, ops, env);
}

int replay_common_finish(struct replay_common *c, int argc, char **argv,
			 const char *analysis, const struct replay_env *env)
{
	c->analysis = analysis;
	if (optind >= argc)
		return replay_usage_error(env, analysis,
					  "missing TAPE: give a tape "
					  "directory or a segment file");
	c->tape = argv[optind];
	if (optind + 1 < argc)
		return replay_usage_error(env, analysis,
					  "unexpected argument '%s'",
					  argv[optind + 1]);
	return 0;
}

int replay_parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;
	if (replay_parse_u64(s, &v) < 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int replay_parse_u64(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}
