// SPDX-License-Identifier: MIT
/*
 * loop.c - the open+read+close loop the recorder's overhead is measured
 * on (tests/e2e/perf.sh).
 *
 * usage: loop FILE [ITERATIONS [READS [SIZE]]]
 *
 * Each iteration opens FILE, reads it READS times (default 1) SIZE bytes
 * at a time (default 4096), and closes it.  READS > 1 measures runs of
 * reads on one descriptor (which the recorder sums into one record).
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
	long reads = argc > 3 ? atol(argv[3]) : 1;
	long size = argc > 4 ? atol(argv[4]) : 4096;
	char buf[65536];
	double start, cpu_start;

	if (argc < 2 || n <= 0 || reads <= 0 || size <= 0 ||
	    size > (long)sizeof(buf)) {
		fprintf(stderr,
			"usage: loop FILE [ITERATIONS [READS [SIZE]]] (SIZE "
			"1..%zu)\n",
			sizeof(buf));
		return 2;
	}
	start = now_ns(CLOCK_MONOTONIC);
	cpu_start = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY);

		if (fd < 0) {
			perror(argv[1]);
			return 1;
		}
		for (long r = 0; r < reads; r++) {
			if (read(fd, buf, size) < 0) {
				perror(argv[1]);
				return 1;
			}
		}
		close(fd);
	}
	printf("%.1f %.1f\n", (now_ns(CLOCK_MONOTONIC) - start) / n,
	       (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / n);
	return 0;
}
