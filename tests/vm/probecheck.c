// SPDX-License-Identifier: MIT
/*
 * probecheck.c - which attach mechanisms does this kernel allow?
 *
 * usage: probecheck PROBECHECK_BPF_O
 *
 * Loads each program of probecheck.bpf.o on its own (fentry/fexit on
 * vfs_read/vfs_write/vfs_open, kprobe/kretprobe, LSM), attaches it, does a
 * little file I/O to make it fire, and prints one line per program:
 *
 *   probe fentry/vfs_read: load ok, attach ok, fired 4 times
 *   probe kprobe/vfs_read: load FAILED (-1: Operation not permitted)
 *
 * libbpf's own warnings (verifier log, attach errors) are printed above
 * the line they explain.  Exit status 0 means every
 * program was tried, whatever the kernel answered; 2 means the object could
 * not be opened at all.  tests/vm/run.sh runs it inside the 6.1 VM.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* a program, the slot of probecheck.bpf.c's hits array it counts in, and
 * for the timer programs the slot of bpf_timer_start's return value */
struct program {
	const char *name;
	__u32 slot;
	int ret_slot; /* -1: not a timer program */
};

/* slots: enum slot in probecheck.bpf.c */
static const struct program programs[] = {
	{"fentry_vfs_read", 0, -1},	{"fexit_vfs_write", 1, -1},
	{"fentry_vfs_open", 2, -1},	{"kprobe_vfs_read", 3, -1},
	{"kretprobe_vfs_write", 4, -1}, {"lsm_file_open", 5, -1},
	{"timer_pinned", 6, 8},		{"timer_plain", 7, 9},
};

#define RET_BIAS 1000 /* as in probecheck.bpf.c */

#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static int print_warnings(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	/* libbpf's messages already start with "libbpf: " */
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stdout, fmt, ap);
}

/* Opens, reads and writes a scratch file: enough to fire every program. */
static void make_file_io(void)
{
	const char *path = "/tmp/probecheck.tmp";
	char buf[64] = "probecheck\n";
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);

	if (fd < 0) {
		printf("probecheck: cannot create %s: %s (make /tmp "
		       "writable)\n",
		       path, strerror(errno));
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (pwrite(fd, buf, 11, 0) != 11 || pread(fd, buf, 11, 0) != 11)
			printf("probecheck: I/O on %s failed: %s\n", path,
			       strerror(errno));
	}
	close(fd);
	unlink(path);
}

static __u64 read_hits(struct bpf_object *obj, __u32 slot)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "hits");
	__u64 n = 0;

	if (!map || bpf_map_lookup_elem(bpf_map__fd(map), &slot, &n))
		return 0;
	return n;
}

/* What bpf_timer_start returned, and whether the callback ran. */
static void report_timer(struct bpf_object *obj, const char *sec,
			 const struct program *p)
{
	__u64 ret;

	nanosleep(&(struct timespec){0, 50000000}, NULL); /* timer: 1 ms */
	ret = read_hits(obj, p->ret_slot);
	if (!ret) {
		printf("probe %s (%s): load ok, attach ok, never ran\n", sec,
		       p->name);
		return;
	}
	printf("probe %s (%s): load ok, attach ok, bpf_timer_start returned "
	       "%lld, callback ran %llu times\n",
	       sec, p->name, (long long)ret - RET_BIAS,
	       (unsigned long long)read_hits(obj, p->slot));
}

/* Keeps only programs[slot] for loading, so other refusals do not matter. */
static void load_only(struct bpf_object *obj, size_t slot)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog),
							programs[slot].name));
	}
}

static void try_program(const char *path, size_t slot)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_link *link;
	const char *sec;
	int err;

	if (!obj) {
		printf("probe %s: cannot open %s: %s\n", programs[slot].name,
		       path, strerror(errno));
		return;
	}
	prog = bpf_object__find_program_by_name(obj, programs[slot].name);
	sec = prog ? bpf_program__section_name(prog) : programs[slot].name;
	load_only(obj, slot);
	err = bpf_object__load(obj);
	if (err) {
		printf("probe %s: load FAILED (%d: %s)\n", sec, err,
		       strerror(-err));
		goto out;
	}
	link = bpf_program__attach(prog);
	if (!link) {
		err = -errno;
		printf("probe %s: load ok, attach FAILED (%d: %s)\n", sec, err,
		       strerror(-err));
		goto out;
	}
	make_file_io();
	if (programs[slot].ret_slot >= 0)
		report_timer(obj, sec, &programs[slot]);
	else
		printf("probe %s: load ok, attach ok, fired %llu times\n", sec,
		       (unsigned long long)read_hits(obj, programs[slot].slot));
	bpf_link__destroy(link);
out:
	bpf_object__close(obj);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: probecheck PROBECHECK_BPF_O\n");
		return 2;
	}
	if (access(argv[1], R_OK)) {
		fprintf(stderr,
			"probecheck: cannot read %s: %s (build it with "
			"tests/vm/run.sh)\n",
			argv[1], strerror(errno));
		return 2;
	}
	libbpf_set_print(print_warnings);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < NPROGRAMS; i++)
		try_program(argv[1], i);
	return 0;
}
