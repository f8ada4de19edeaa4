/* SPDX-License-Identifier: MIT */
/*
 * bench_format.c - write and read back synthetic records shaped like a
 * real open/read workload, and print events/s and bytes/event.
 *
 *   build/bench/bench_format [MILLIONS] [ZSTD_LEVEL] [CHUNK_KIB] [mixed]
 *
 * Records: TT_REC_OPEN (struct tt_file_op + absolute path) and TT_REC_RW
 * (struct tt_rw + name), half each, with the repetition real traces have
 * (400 paths, 8 commands, 16 processes of which 3 busy), timestamps
 * 200-600 ns apart.  Default profile "workload": each process walks its
 * own list of files, an open then the reads of that file.  Profile
 * "mixed": every field drawn independently at random from the same pools,
 * a harder case for the compressor.  Three runs; medians printed.
 * Goals: read+decode >= 20 M events/s, write >= 5 M events/s,
 * <= 8 bytes/event.
 */
#include <dirent.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tape.h"
#include "tt_events.h"

#define NPATHS 400
#define RUNS   3

#define NPROCS 16

struct gen {
	uint64_t s, ts;
	bool mixed;	    /* every field drawn independently (harder) */
	bool pending_rw;    /* workload: the read that follows an open */
	uint32_t who, file; /* workload: the last open */
	uint32_t cursor[NPROCS];
	char paths[NPATHS][96];
	uint16_t path_len[NPATHS];
	uint8_t body[512];
};

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static const char *const dirs[] = {
	"/usr/lib/x86_64-linux-gnu/", "/etc/",	   "/proc/self/",
	"/home/alice/src/project/",   "/var/log/", "/tmp/",
	"/usr/share/locale/"};
static const char *const comms[] = {
	"bash", "cat", "python3", "nginx", "systemd-journal",
	"make", "cc1", "git"};

static void gen_init(struct gen *g, bool mixed)
{
	memset(g, 0, sizeof(*g));
	g->mixed = mixed;
	g->s = 42;
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now); /* like the recorder's stamps */
	g->ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	for (int i = 0; i < NPATHS; i++) {
		const char *d = dirs[rnd(g) % 7];
		int n = snprintf(g->paths[i], sizeof(g->paths[i]),
				 "%sfile%llu%s", d,
				 (unsigned long long)(rnd(g) % 100000),
				 i % 3 ? ".so.6" : "");
		g->path_len[i] = (uint16_t)(n + 1);
	}
}

/* Skewed choice: 7 in 8 from a small hot set (favouring its first
 * entries), the rest from all N, like real hot and cold files. */
static uint32_t skewed(struct gen *g, uint32_t n)
{
	if (rnd(g) % 8 == 0)
		return (uint32_t)(rnd(g) % n);
	uint64_t a = rnd(g) % 64, b = rnd(g) % 64;
	return (uint32_t)(a < b ? a : b);
}

static void fill_task(struct gen *g, struct tt_task *t, uint32_t who)
{
	t->pid = 1000 + who * 37;
	t->tid = t->pid + (rnd(g) % 16 == 0 ? 1 : 0);
	t->uid = who % 3 ? 1000 : 0;
	strncpy(t->comm, comms[who % 8], TT_COMM_LEN - 1);
}

/*
 * Workload profile: 16 processes (3 of them busy), each walking its own
 * list of files in a loop (now and then jumping elsewhere): an open, then
 * the reads of that file through the returned fd.
 */
static void workload_pick(struct gen *g, uint32_t *who, uint32_t *p, bool *open)
{
	if (g->pending_rw) {
		g->pending_rw = false;
		*who = g->who;
		*p = g->file;
		*open = false;
		return;
	}
	*who = (uint32_t)(rnd(g) % 16 < 12 ? rnd(g) % 3 : rnd(g) % NPROCS);
	uint32_t nfiles = 4 + *who % 21;
	uint32_t *cur = &g->cursor[*who];
	*cur = rnd(g) % 10 ? (*cur + 1) % nfiles : (uint32_t)(rnd(g) % nfiles);
	*p = (*who * 53 + *cur * 7) % NPATHS;
	*open = true;
	g->pending_rw = true;
	g->who = *who;
	g->file = *p;
}

/* One record into g->body; returns its type and sets *len. */
static uint16_t next_record(struct gen *g, uint32_t *len)
{
	memset(g->body, 0, sizeof(struct tt_file_op) + 8);
	uint32_t p, who;
	bool open;
	g->ts += 200 + rnd(g) % 400;
	if (g->mixed) {
		p = skewed(g, NPATHS);
		who = (uint32_t)(rnd(g) % 16 < 12 ? rnd(g) % 3 : rnd(g) % 16);
		open = rnd(g) % 2;
	} else {
		workload_pick(g, &who, &p, &open);
	}
	if (open) {
		struct tt_file_op *op = (void *)g->body;
		fill_task(g, &op->task, who);
		op->ret = g->mixed ? 3 + (int64_t)(rnd(g) % 4) : 3 + who % 4;
		op->dev = 0x800001;
		op->ino = 100000 + p;
		op->flags = 0x80000;
		op->dirfd = TT_AT_FDCWD;
		op->syscall = TT_SYS_OPENAT;
		op->path_len = g->path_len[p];
		memcpy(g->body + sizeof(*op), g->paths[p], op->path_len);
		*len = sizeof(*op) + op->path_len;
		return TT_REC_OPEN;
	}
	struct tt_rw *rw = (void *)g->body;
	fill_task(g, &rw->task, who);
	rw->dev = 0x800001;
	rw->ino = 100000 + p;
	if (g->mixed) {
		rw->rbytes =
			rnd(g) % 4 ? 4096 * (1 + rnd(g) % 4) : rnd(g) % 100000;
		rw->reads = 1 + (uint32_t)(rnd(g) % 3);
		rw->fd = 3 + (int32_t)(rnd(g) % 4);
	} else { /* the whole file, in 64 KiB reads, plus the EOF read */
		rw->rbytes = 1000 + (uint64_t)p * 997 % 300000;
		rw->reads = (uint32_t)(rw->rbytes / 65536) + 2;
		rw->fd = 3 + (int32_t)(who % 4);
	}
	rw->i_mode = 0100644;
	rw->syscall = TT_SYS_READ;
	const char *base = strrchr(g->paths[p], '/') + 1;
	rw->name_len = (uint16_t)(strlen(base) + 1);
	memcpy(g->body + sizeof(*rw), base, rw->name_len);
	*len = sizeof(*rw) + rw->name_len;
	return TT_REC_RW;
}

/*
 * CPU time of this (single-threaded) process: the machines these run on
 * are shared and busy, and wall time then measures the neighbours.  The
 * figures are "events per second of one core".  Wall time is printed too.
 */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

struct result {
	double write_eps, read_eps, bytes_per_event, raw_per_event;
	double write_wall_eps, read_wall_eps;
};

static int run_once(uint64_t n, int level, uint32_t chunk, bool mixed,
		    struct result *res)
{
	char tmp[] = "/tmp/tt-bench-XXXXXX", tape[64];
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(tape, sizeof(tape), "%s/tape", tmp);
	static struct gen g;
	gen_init(&g, mixed);
	struct tape_writer_opts o = {
		.sz = sizeof(o), .zstd_level = level, .chunk_size = chunk};
	struct tape_writer *w;
	char err[TAPE_ERRLEN];
	if (tape_writer_open(&w, tape, &o, err)) {
		fprintf(stderr, "bench_format: %s\n", err);
		return -1;
	}
	double t0 = cpu_s(), w0 = wall_s();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len;
		uint16_t type = next_record(&g, &len);
		if (tape_writer_append(w, type, g.ts, g.body, len)) {
			fprintf(stderr, "bench_format: %s\n",
				tape_writer_error(w));
			return -1;
		}
	}
	struct tape_writer_stats st;
	tape_writer_stats(w, &st);
	if (tape_writer_close(w)) {
		fprintf(stderr, "bench_format: close failed\n");
		return -1;
	}
	double t1 = cpu_s(), w1 = wall_s();

	struct tape_reader *r;
	if (tape_reader_open(&r, tape, NULL, err)) {
		fprintf(stderr, "bench_format: %s\n", err);
		return -1;
	}
	struct tape_record rec;
	uint64_t got = 0, sum = 0;
	while (tape_reader_next(r, &rec) == 1) {
		got++;
		sum += rec.len + *(const uint32_t *)rec.body; /* touch */
	}
	double t2 = cpu_s(), w2 = wall_s();
	tape_reader_close(r);

	struct stat sb;
	char seg[128];
	uint64_t disk = 0;
	for (uint32_t i = 1; i <= st.segments; i++) {
		snprintf(seg, sizeof(seg), "%s/seg-%06u.tt", tape, i);
		if (stat(seg, &sb) == 0)
			disk += (uint64_t)sb.st_size;
	}
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (got != n + st.segments) {
		fprintf(stderr, "bench_format: read %llu records, wrote %llu\n",
			(unsigned long long)got,
			(unsigned long long)(n + st.segments));
		return -1;
	}
	res->write_eps = (double)n / (t1 - t0);
	res->read_eps = (double)got / (t2 - t1);
	res->write_wall_eps = (double)n / (w1 - w0);
	res->read_wall_eps = (double)got / (w2 - w1);
	res->bytes_per_event = (double)disk / (double)n;
	res->raw_per_event = (double)st.raw_bytes / (double)n;
	return sum == 0; /* keeps the touch loop honest */
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

int main(int argc, char **argv)
{
	if (argc > 1 && atof(argv[1]) <= 0) {
		fprintf(stderr, "usage: bench_format [MILLIONS [ZSTD_LEVEL "
				"[CHUNK_KIB [mixed]]]]  (defaults: 5, 3, "
				"the writer's default chunk)\n");
		return 2;
	}
	double millions = argc > 1 ? atof(argv[1]) : 5;
	int level = argc > 2 ? atoi(argv[2]) : 0;
	uint32_t chunk = argc > 3 ? (uint32_t)atoi(argv[3]) * 1024 : 0;
	bool mixed = argc > 4 && strcmp(argv[4], "mixed") == 0;
	uint64_t n = (uint64_t)(millions * 1e6);
	double w[RUNS], r[RUNS], b[RUNS], ww[RUNS], rw[RUNS], raw = 0;
	for (int i = 0; i < RUNS; i++) {
		struct result res;
		if (run_once(n, level, chunk, mixed, &res))
			return 1;
		w[i] = res.write_eps;
		r[i] = res.read_eps;
		b[i] = res.bytes_per_event;
		ww[i] = res.write_wall_eps;
		rw[i] = res.read_wall_eps;
		raw = res.raw_per_event;
	}
	printf("bench_format: %llu events, profile %s (%.1f raw bytes/event), "
	       "zstd level %d, chunk %u KiB, median of %d runs\n",
	       (unsigned long long)n, mixed ? "mixed" : "workload", raw,
	       level ? level : 3, chunk ? chunk / 1024 : 2048, RUNS);
	double mw = median(w), mr = median(r), mb = median(b);
	printf("  write:       %6.2f M events/s per core (goal >= 5)   %s  "
	       "[wall %.2f]\n",
	       mw / 1e6, mw >= 5e6 ? "ok" : "MISSED", median(ww) / 1e6);
	printf("  read+decode: %6.2f M events/s per core (goal >= 20)  %s  "
	       "[wall %.2f]\n",
	       mr / 1e6, mr >= 20e6 ? "ok" : "MISSED", median(rw) / 1e6);
	printf("  on disk:     %6.2f bytes/event (goal <= 8)   %s\n", mb,
	       mb <= 8 ? "ok" : "MISSED");
	return 0;
}
