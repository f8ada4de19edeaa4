/* SPDX-License-Identifier: MIT */
/*
 * openloop - the open+read+close loop of DESIGN.md section 6, the workload
 * every recorder-overhead figure is measured on.
 *
 *   openloop [-n ITERATIONS] [-w] [-t SECONDS] FILE
 *
 * Each iteration opens FILE, reads up to 4 KiB from it (or with -w writes
 * 512 bytes to it), and closes it.  Prints "ITERATIONS NS_PER_ITERATION".
 * With -t it runs for SECONDS instead of a fixed count (sustained load).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int one_iteration(const char *path, int do_write, char *buf)
{
	int fd = open(path, do_write ? O_WRONLY : O_RDONLY);

	if (fd < 0)
		return -1;
	ssize_t n = do_write ? write(fd, buf, 512) : read(fd, buf, 4096);
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	long iterations = 200000;
	double seconds = 0;
	int do_write = 0, opt;
	static char buf[4096];

	while ((opt = getopt(argc, argv, "n:t:w")) != -1) {
		switch (opt) {
		case 'n':
			iterations = atol(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'w':
			do_write = 1;
			break;
		default:
			fprintf(stderr,
				"usage: openloop [-n N] [-w] [-t S] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: openloop [-n N] [-w] [-t S] FILE\n");
		return 2;
	}
	const char *path = argv[optind];
	memset(buf, 'x', sizeof(buf));
	uint64_t start = now_ns(), deadline = start + (uint64_t)(seconds * 1e9);
	long done = 0;
	for (;;) {
		if (seconds > 0 ? (done % 1024 == 0 && now_ns() >= deadline)
				: done >= iterations)
			break;
		if (one_iteration(path, do_write, buf) < 0) {
			fprintf(stderr, "openloop: %s: %m\n", path);
			return 1;
		}
		done++;
	}
	uint64_t elapsed = now_ns() - start;
	printf("%ld %.1f\n", done, done ? (double)elapsed / (double)done : 0.0);
	return 0;
}
