/* SPDX-License-Identifier: MIT */
/*
 * main.c - `tracetape ANALYSIS TAPE [OPTIONS]`: the table of analyses,
 * --help, --version, and `tracetape record` handed on to tracetape-record.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"

#ifndef TT_VERSION
#define TT_VERSION "unknown"
#endif

/* One row per analysis; adding an analysis is one file and one row. */
static const struct replay_command commands[] = {
	{"opensnoop", "files opened, as libbpf-tools opensnoop showed them",
	 opensnoop_main},
	{"execsnoop", "programs executed, as libbpf-tools execsnoop",
	 execsnoop_main},
	{"bashreadline", "lines typed into bash, as libbpf-tools bashreadline",
	 bashreadline_main},
	{"filetop", "reads and writes per file, as libbpf-tools filetop",
	 filetop_main},
	{"filelife", "short-lived files, as libbpf-tools filelife",
	 filelife_main},
	{"history", "commands and the processes they started", history_main},
	{"diff", "what one tape did that another did not", diff_main},
	{"info", "host, recorder, probes, time span, losses and damage",
	 info_main},
	{"verify", "check every chunk; exit 0 clean, 1 damaged, 2 unreadable",
	 verify_main},
	{"dump", "every record, one line each (--json: a stable schema)",
	 dump_main},
	{"export",
	 "the tape for other tools: chrome (Perfetto), openmetrics, csv",
	 export_main},
	{"slice", "a smaller tape: a time window, chosen processes",
	 slice_main},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s ANALYSIS TAPE [OPTIONS]\n"
		"       %s record [RECORDER OPTIONS]   (runs "
		"tracetape-record, needs root)\n"
		"       %s --help | --version | ANALYSIS --help\n\n"
		"Replays a tape recorded by tracetape-record and shows what "
		"the live tools\nwould have shown.  TAPE is a tape directory "
		"or one segment file.\n\nAnalyses:\n",
		prog, prog, prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-13s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\n%s"
		"\nExit status: 0 ok; 1 verify found damage / diff found "
		"differences;\n2 bad usage or unreadable tape.  See "
		"tracetape(1).\n",
		replay_common_help);
}

/* Directory of the running binary, from /proc/self/exe. */
static int self_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	char *slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

static int run_recorder(int argc, char **argv, const char *prog)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	argv[0] = "tracetape-record";
	if (self_dir(dir, sizeof(dir)) == 0) {
		snprintf(path, sizeof(path), "%s/tracetape-record", dir);
		if (access(path, X_OK) == 0) {
			execv(path, argv);
			fprintf(stderr, "%s: cannot run %s: %s\n", prog, path,
				strerror(errno));
			return REPLAY_EXIT_TROUBLE;
		}
	} else {
		snprintf(dir, sizeof(dir),
			 "(unknown: /proc/self/exe "
			 "unreadable)");
	}
	(void)argc;
	execvp("tracetape-record", argv);
	fprintf(stderr,
		"%s: tracetape-record not found next to %s or in PATH: "
		"build it with make or install the tracetape package\n",
		prog, dir);
	return REPLAY_EXIT_TROUBLE;
}

int main(int argc, char **argv)
{
	struct replay_env env = {
		.out = stdout, .err = stderr, .prog = "tracetape"};
	if (argc < 2) {
		usage(stderr, env.prog);
		return REPLAY_EXIT_TROUBLE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		usage(stdout, env.prog);
		return REPLAY_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("tracetape %s (tape format %d.%d)\n", TT_VERSION,
		       TAPE_VERSION_MAJOR, TAPE_VERSION_MINOR);
		return REPLAY_EXIT_OK;
	}
	if (!strcmp(name, "record"))
		return run_recorder(argc - 1, argv + 1, env.prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].entry(argc - 1, argv + 1, &env);
	fprintf(stderr, "%s: '%s' is not an analysis; %s --help lists them\n",
		env.prog, name, env.prog);
	return REPLAY_EXIT_TROUBLE;
}
