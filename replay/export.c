/* SPDX-License-Identifier: MIT */
/*
 * export.c - `tracetape export --format FORMAT TAPE`: a tape turned into
 * files other tools load.  This file parses the options, opens -o and
 * hands over to the writer of the format: export_chrome.c (Chrome trace
 * / Perfetto), export_openmetrics.c (promtool backfill), export_csv.c;
 * export_decode.c decodes records once for all of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"

static const char *const format_names[] = {
	[EXPORT_CHROME] = "chrome",
	[EXPORT_OPENMETRICS] = "openmetrics",
	[EXPORT_CSV] = "csv",
};

/* ---- options ----------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tracetape export --format FORMAT TAPE [OPTIONS]\n\n"
		"The tape as files other tools load.  FORMAT is one of:\n"
		"  chrome       Chrome trace event JSON, for ui.perfetto.dev "
		"and chrome://tracing\n"
		"  openmetrics  counters every --step seconds, for promtool "
		"tsdb\n"
		"               create-blocks-from openmetrics\n"
		"  csv          one line per event (RFC 4180), with a header "
		"line\n\n"
		"Options:\n"
		"  -f, --format=FORMAT  chrome, openmetrics or csv (needed)\n"
		"  -o, --output=FILE    write to FILE instead of stdout\n"
		"      --step=SECONDS   openmetrics: sample every SECONDS of "
		"the tape's time\n"
		"                       (default 10)\n"
		"      --top=N          openmetrics: the N busiest commands "
		"get "
		"their own\n"
		"                       comm label, the rest comm=\"other\" "
		"(default 10)\n"
		"      --rw=HOW         chrome: reads and writes as "
		"\"counter\" tracks of\n"
		"                       bytes per process (default), "
		"\"instant\" events\n"
		"                       per file, or \"both\"\n"
		"      --since, --until, --utc, --help as below (--json does "
		"not apply)\n"
		"\n%s",
		replay_common_help);
}

static int parse_format(const char *s, enum export_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(*format_names);
	     i++)
		if (!strcmp(s, format_names[i])) {
			*out = (enum export_format)i;
			return 0;
		}
	return -1;
}

static int parse_rw(const char *s, unsigned *out)
{
	if (!strcmp(s, "counter"))
		*out = EXPORT_RW_COUNTER;
	else if (!strcmp(s, "instant"))
		*out = EXPORT_RW_INSTANT;
	else if (!strcmp(s, "both"))
		*out = EXPORT_RW_COUNTER | EXPORT_RW_INSTANT;
	else
		return -1;
	return 0;
}

/* What the options said, and which format-bound ones were given. */
struct parsed {
	bool format, step, top, rw;
};

static int take_option(const struct replay_env *env, int opt,
		       struct export_opts *o, struct parsed *p)
{
	uint64_t secs;
	switch (opt) {
	case 'f':
		p->format = true;
		if (parse_format(optarg, &o->format))
			return replay_usage_error(
				env, "export",
				"--format: '%s' is not a format: chrome, "
				"openmetrics or csv",
				optarg);
		return 0;
	case 'o':
		o->output = optarg;
		return 0;
	case 's':
		p->step = true;
		if (replay_parse_range(optarg, 1, 366ull * 86400, &secs))
			return replay_usage_error(
				env, "export",
				"--step: invalid value '%s': whole seconds, "
				"1 or more",
				optarg);
		o->step_ns = secs * 1000000000ull;
		return 0;
	case 't':
		p->top = true;
		if (replay_parse_range(optarg, 0, EXPORT_TOP_MAX, &o->top))
			return replay_usage_error(
				env, "export",
				"--top: invalid value '%s': 0 to %d", optarg,
				EXPORT_TOP_MAX);
		return 0;
	case 'r':
		p->rw = true;
		if (parse_rw(optarg, &o->rw))
			return replay_usage_error(
				env, "export",
				"--rw: '%s' is not counter, instant or both",
				optarg);
		return 0;
	}
	return -1;
}

/* Options that belong to another format are a mistake worth naming. */
static int check_combination(const struct replay_env *env,
			     const struct replay_common *c,
			     const struct export_opts *o,
			     const struct parsed *p)
{
	if (!p->format)
		return replay_usage_error(env, "export",
					  "--format is needed: chrome, "
					  "openmetrics or csv");
	if (c->json)
		return replay_usage_error(env, "export",
					  "--json does not apply: the format "
					  "is chosen with --format");
	if ((p->step || p->top) && o->format != EXPORT_OPENMETRICS)
		return replay_usage_error(env, "export",
					  "--step and --top apply to --format "
					  "openmetrics only");
	if (p->rw && o->format != EXPORT_CHROME)
		return replay_usage_error(env, "export",
					  "--rw applies to --format chrome "
					  "only");
	return 0;
}

static int parse_args(int argc, char **argv, const struct replay_env *env,
		      struct export_opts *o, struct replay_common *c,
		      struct parsed *p)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"step", required_argument, NULL, 's'},
		{"top", required_argument, NULL, 't'},
		{"rw", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	int opt, rc = 0;
	replay_getopt_reset();
	/* -s, -t, -r exist as long options only (getopt hands them over
	 * by the same codes) */
	while (!rc && (opt = getopt_long(argc, argv, ":f:o:h", longopts,
					 NULL)) != -1) {
		if (replay_common_option(c, opt, optarg))
			continue;
		rc = take_option(env, opt, o, p);
		if (rc < 0)
			rc = replay_option_error(env, "export", opt, argv);
	}
	return rc;
}

/* ---- output ------------------------------------------------------ */

static FILE *open_output(const char *path, const struct replay_env *env)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(env->err,
			"%s export: %s: cannot create the output file: %s "
			"(check that its directory exists and is "
			"writable)\n",
			env->prog, path, strerror(errno));
	return f;
}

/* Flush and close OUT; a write error becomes exit 2 with a message. */
static int close_output(FILE *out, const struct export_opts *o, int rc,
			const struct replay_env *env)
{
	const char *name = o->output ? o->output : "standard output";
	bool bad = fflush(out) != 0 || ferror(out);
	int err = errno;
	if (o->output && fclose(out) != 0 && !bad) {
		bad = true;
		err = errno;
	}
	if (bad) {
		fprintf(env->err,
			"%s export: %s: writing failed: %s (is the disk "
			"full?)\n",
			env->prog, name, strerror(err));
		rc = REPLAY_EXIT_TROUBLE;
	}
	/* Half a file is worse than none: a failed export leaves none. */
	if (rc == REPLAY_EXIT_TROUBLE && o->output)
		unlink(o->output);
	return rc;
}

static int run_format(struct replay_common *c, const struct export_opts *o,
		      const struct replay_env *env)
{
	switch (o->format) {
	case EXPORT_CHROME:
		return export_chrome(c, o, env);
	case EXPORT_OPENMETRICS:
		return export_openmetrics(c, o, env);
	case EXPORT_CSV:
		return export_csv(c, o, env);
	}
	return REPLAY_EXIT_TROUBLE;
}

int export_main(int argc, char **argv, const struct replay_env *env)
{
	struct export_opts o = {
		.format = EXPORT_CSV,
		.step_ns = EXPORT_STEP_DEFAULT_NS,
		.top = EXPORT_TOP_DEFAULT,
		.rw = EXPORT_RW_COUNTER,
	};
	struct replay_common c = {0};
	struct parsed p = {0};
	int rc = parse_args(argc, argv, env, &o, &c, &p);
	if (rc)
		return rc;
	if (c.help) {
		usage(env->out);
		return REPLAY_EXIT_OK;
	}
	rc = replay_common_finish(&c, argc, argv, "export", env);
	if (!rc)
		rc = check_combination(env, &c, &o, &p);
	if (rc)
		return rc;
	struct replay_env oenv = *env;
	if (o.output && !(oenv.out = open_output(o.output, env)))
		return REPLAY_EXIT_TROUBLE;
	rc = run_format(&c, &o, &oenv);
	return close_output(oenv.out, &o, rc, env);
}
