// SPDX-License-Identifier: MIT
/*
 * options.c - parse tracetape-record's command line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "redact.h"

static const char usage_text[] =
	"usage: tracetape-record [OPTIONS] [-- COMMAND [ARG...]]\n"
	"\n"
	"Record file and command activity into a tape (run as root).\n"
	"\n"
	"  -o DIR               tape directory (default "
	"./tape-HOST-yyyymmddThhmmss)\n"
	"  -d SECONDS           stop after this long\n"
	"  -p PID               trace only this process (repeatable)\n"
	"  -u UID               trace only this user\n"
	"  --comm NAME          trace only tasks with this name\n"
	"  -e LIST              probe groups: open,rw,life,exec,bash "
	"(default all)\n"
	"  --bash PATH          bash binary for readline (default /bin/bash)\n"
	"  --segment-size SIZE  rotate segments at SIZE (default 64M)\n"
	"  --segment-time SECS  rotate segments after SECS\n"
	"  --max-segments N     keep only the newest N segments\n"
	"  --zstd-level N       compression level (default 3)\n"
	"  --flush-interval MS  write a chunk at least this often "
	"(default 1000)\n"
	"  --ring-size SIZE     BPF ring buffer size, a power of two, "
	"64K..1G (default 16M)\n"
	"  --mechanism M        hook file system calls with auto (default),\n"
	"                       fexit, tracepoint or raw_tp\n"
	"  --redact LIST        never write args (exec arguments after\n"
	"                       argv[0]) and/or lines (bash lines)\n"
	"  --redact-regex RE    mask what RE (POSIX extended) matches in\n"
	"                       exec arguments and bash lines\n"
	"  -q                   no status line, no summary\n"
	"  -h, --help           this help\n"
	"  --version            print the version\n"
	"\n"
	"With -- COMMAND the recorder runs COMMAND, traces it and its\n"
	"children, stops when it exits and exits with its status.\n";

enum {
	OPT_COMM = 0x100,
	OPT_BASH,
	OPT_SEGMENT_SIZE,
	OPT_SEGMENT_TIME,
	OPT_MAX_SEGMENTS,
	OPT_ZSTD_LEVEL,
	OPT_FLUSH_INTERVAL,
	OPT_RING_SIZE,
	OPT_MECHANISM,
	OPT_REDACT,
	OPT_REDACT_REGEX,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{"comm", required_argument, NULL, OPT_COMM},
	{"bash", required_argument, NULL, OPT_BASH},
	{"segment-size", required_argument, NULL, OPT_SEGMENT_SIZE},
	{"segment-time", required_argument, NULL, OPT_SEGMENT_TIME},
	{"max-segments", required_argument, NULL, OPT_MAX_SEGMENTS},
	{"zstd-level", required_argument, NULL, OPT_ZSTD_LEVEL},
	{"flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL},
	{"ring-size", required_argument, NULL, OPT_RING_SIZE},
	{"mechanism", required_argument, NULL, OPT_MECHANISM},
	{"redact", required_argument, NULL, OPT_REDACT},
	{"redact-regex", required_argument, NULL, OPT_REDACT_REGEX},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static const struct {
	const char *name;
	unsigned bit;
} group_names[] = {
	{"open", REC_GROUP_OPEN}, {"rw", REC_GROUP_RW},
	{"life", REC_GROUP_LIFE}, {"exec", REC_GROUP_EXEC},
	{"bash", REC_GROUP_BASH},
};

#define NGROUPS (sizeof(group_names) / sizeof(group_names[0]))

static int bad_value(const char *opt, const char *value, const char *want)
{
	fprintf(stderr, "tracetape-record: %s '%s': %s\n", opt, value, want);
	return -1;
}

/* "64M" -> 67108864.  Suffixes K, M, G (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0))
		return -1;
	*out = v;
	return 0;
}

static int parse_groups(const char *list, unsigned *bits)
{
	char buf[256];
	char *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	*bits = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (!strcasecmp(tok, "all")) {
			*bits |= REC_GROUP_ALL;
			continue;
		}
		for (i = 0; i < NGROUPS; i++) {
			if (!strcasecmp(tok, group_names[i].name))
				break;
		}
		if (i == NGROUPS)
			return -1;
		*bits |= group_names[i].bit;
	}
	return *bits ? 0 : -1;
}

void rec_groups_name(unsigned bits, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < NGROUPS; i++) {
		if (!(bits & group_names[i].bit))
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0,
				 "%s%s", used ? "," : "", group_names[i].name);
	}
}

static const char *const mechanism_names[] = {
	[REC_MECH_AUTO] = "auto",
	[REC_MECH_FEXIT] = "fexit",
	[REC_MECH_TRACEPOINT] = "tracepoint",
	[REC_MECH_RAW_TP] = "raw_tp",
};

const char *rec_mechanism_name(enum rec_mechanism m)
{
	return mechanism_names[m];
}

static int parse_mechanism(const char *arg, enum rec_mechanism *m)
{
	for (size_t i = 0;
	     i < sizeof(mechanism_names) / sizeof(*mechanism_names); i++) {
		if (!strcmp(arg, mechanism_names[i])) {
			*m = i;
			return 0;
		}
	}
	return -1;
}

/* "args,lines" into REDACT_* bits; -1 on an unknown word. */
static int parse_redact(const char *arg, unsigned *bits)
{
	char buf[64], *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	*bits = 0;
	for (char *w = strtok_r(buf, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "args"))
			*bits |= REDACT_ARGS;
		else if (!strcmp(w, "lines"))
			*bits |= REDACT_LINES;
		else
			return -1;
	}
	return *bits ? 0 : -1;
}

void rec_redact_name(unsigned bits, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", bits & REDACT_ARGS ? "args" : "",
		 (bits & REDACT_ARGS) && (bits & REDACT_LINES) ? "," : "",
		 bits & REDACT_LINES ? "lines" : "");
}

static void set_defaults(struct rec_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->groups = REC_GROUP_ALL;
	o->bash_path = "/bin/bash";
	o->segment_size = 64ull << 20;
	o->zstd_level = 3;
	o->flush_interval_ms = 1000;
	o->ring_size = 16ull << 20;
	o->argc = argc;
	o->argv = argv;
}

/* One option with its value; returns 0 or -1 (message printed). */
static int apply_option(struct rec_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'o':
		o->out_dir = arg;
		return 0;
	case 'd':
		if (parse_seconds(arg, &o->duration_s))
			return bad_value("-d", arg, "want seconds > 0");
		return 0;
	case 'p':
		if (parse_uint(arg, 0x7fffffff, &v) || v == 0)
			return bad_value("-p", arg, "want a process id");
		if (o->npids == REC_MAX_PIDS)
			return bad_value("-p", arg, "at most 64 pids");
		o->pids[o->npids++] = v;
		return 0;
	case 'u':
		if (parse_uint(arg, 0xfffffffe, &v))
			return bad_value("-u", arg, "want a numeric uid");
		o->filter_uid = true;
		o->uid = v;
		return 0;
	case 'e':
		if (parse_groups(arg, &o->groups))
			return bad_value(
				"-e", arg,
				"want a list of open,rw,life,exec,bash");
		return 0;
	case OPT_COMM:
		if (strlen(arg) == 0 || strlen(arg) > 15)
			return bad_value("--comm", arg,
					 "want a task name of 1-15 characters");
		o->comm = arg;
		return 0;
	case OPT_BASH:
		o->bash_path = arg;
		return 0;
	case OPT_SEGMENT_SIZE:
		/* the format library's smallest segment (format/writer.c) */
		if (parse_size(arg, &o->segment_size) ||
		    o->segment_size < (64u << 10))
			return bad_value("--segment-size", arg,
					 "want a size like 64M (at least 64K)");
		return 0;
	case OPT_SEGMENT_TIME:
		if (parse_seconds(arg, &o->segment_time_s))
			return bad_value("--segment-time", arg,
					 "want seconds > 0");
		return 0;
	case OPT_MAX_SEGMENTS:
		if (parse_uint(arg, 1000000, &v) || v == 0)
			return bad_value("--max-segments", arg,
					 "want a count >= 1");
		o->max_segments = v;
		return 0;
	case OPT_ZSTD_LEVEL:
		if (parse_uint(arg, 22, &v) || v == 0)
			return bad_value("--zstd-level", arg, "want 1..22");
		o->zstd_level = v;
		return 0;
	case OPT_FLUSH_INTERVAL:
		if (parse_uint(arg, 3600000, &v) || v < 10)
			return bad_value("--flush-interval", arg,
					 "want milliseconds, 10..3600000");
		o->flush_interval_ms = v;
		return 0;
	case OPT_RING_SIZE:
		/* the BPF side hands over batches of up to 8 KiB (and exec
		 * records up to ~40 KiB): smaller rings would drop them */
		if (parse_size(arg, &v) || v < (64u << 10) ||
		    v > (1ull << 30) || (v & (v - 1)))
			return bad_value("--ring-size", arg,
					 "want a power of two, 64K..1G");
		o->ring_size = v;
		return 0;
	case OPT_REDACT:
		if (parse_redact(arg, &o->redact))
			return bad_value("--redact", arg,
					 "want a list of args,lines");
		return 0;
	case OPT_REDACT_REGEX:
		if (!*arg)
			return bad_value("--redact-regex", arg,
					 "want a POSIX extended regex");
		o->redact_regex = arg;
		return 0;
	case OPT_MECHANISM:
		if (parse_mechanism(arg, &o->mechanism))
			return bad_value("--mechanism", arg,
					 "want auto, fexit, tracepoint or "
					 "raw_tp");
		return 0;
	}
	return -1;
}

int rec_opts_parse(struct rec_opts *o, int argc, char **argv)
{
	int c;

	set_defaults(o, argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:d:p:u:e:qh", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case OPT_VERSION:
			printf("tracetape-record %s\n", TT_VERSION);
			return 1;
		case '?':
			fputs("Try 'tracetape-record --help'.\n", stderr);
			return -1;
		default:
			if (apply_option(o, c, optarg))
				return -1;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0) {
			fprintf(stderr,
				"tracetape-record: unexpected argument '%s'; "
				"put a command to run after --\n",
				argv[optind]);
			return -1;
		}
		o->command = &argv[optind];
	}
	return 0;
}
