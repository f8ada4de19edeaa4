// SPDX-License-Identifier: MIT
/*
 * attach.c - load a BPF object, attach one program of it by name, and
 * hold it attached until SIGINT or SIGTERM.  Prints "attached" on stdout
 * once the program is in place.  For bench/suite.py's floor rows.
 *
 * usage: attach OBJECT PROGRAM
 * exit: 0 after a signal, 1 when the object or the program cannot be
 * loaded or attached (the reason on stderr).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Load OBJ with only PROG enabled; NULL and a message on failure. */
static struct bpf_object *load_one(const char *path, const char *name,
				   struct bpf_program **out)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;

	if (!obj) {
		fprintf(stderr, "attach: %s: cannot open: %s\n", path,
			strerror(errno));
		return NULL;
	}
	*out = NULL;
	bpf_object__for_each_program(prog, obj)
	{
		bool it = strcmp(bpf_program__name(prog), name) == 0;

		bpf_program__set_autoload(prog, it);
		if (it)
			*out = prog;
	}
	if (!*out) {
		fprintf(stderr, "attach: %s: no program named %s\n", path,
			name);
	} else if (bpf_object__load(obj)) {
		fprintf(stderr, "attach: %s: the kernel refused %s: %s\n", path,
			name, strerror(errno));
	} else {
		return obj;
	}
	bpf_object__close(obj);
	return NULL;
}

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_link *link;

	if (argc != 3) {
		fprintf(stderr, "usage: attach OBJECT PROGRAM\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	obj = load_one(argv[1], argv[2], &prog);
	if (!obj)
		return 1;
	link = bpf_program__attach(prog);
	if (!link) {
		fprintf(stderr, "attach: cannot attach %s: %s\n", argv[2],
			strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
