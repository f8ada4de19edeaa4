// SPDX-License-Identifier: MIT
/*
 * loop.c - the open+read+close loop the recorder's overhead is measured
 * on (tests/e2e/perf.sh).
 *
 * usage: loop FILE [ITERATIONS]
 *
 * Prints nanoseconds per iteration twice: wall clock, and CPU time of the
 * process (less disturbed when other work shares the machine).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 200000;
	char buf[4096];
	double start, cpu_start;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: loop FILE [ITERATIONS]\n");
		return 2;
	}
	start = now_ns(CLOCK_MONOTONIC);
	cpu_start = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
	}
	printf("%.1f %.1f\n", (now_ns(CLOCK_MONOTONIC) - start) / n,
	       (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / n);
	return 0;
}
