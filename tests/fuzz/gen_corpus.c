/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c - write the fuzzer's seed segments into DIR:
 *   cc -Iformat -Ibpf tests/fuzz/gen_corpus.c build/libtape.a -lzstd
 *   ./a.out tests/fuzz/corpus
 * Seeds: a finished multi-chunk segment with every record type; the same
 * cut inside its last chunk; one with out-of-order timestamps across
 * chunks; a segment that is only its header.  Each starts with the
 * harness's mode byte; the -fixcrc variants ask it to repair checksums.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tape.h"
#include "tt_events.h"

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "gen_corpus: %s: %s\n", what, msg);
	exit(1);
}

/* Seeds start with the harness's mode byte (see fuzz_reader.c); mode 4
 * seeds carry a MANIFEST (length byte, text) before the segment, mode 8
 * seeds three bytes of reader options. */
static void copy_cut(const char *from, const char *to, long cut, int mode)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	if (!in || !out)
		die(from, "cannot copy");
	fseek(in, 0, SEEK_END);
	long size = ftell(in);
	rewind(in);
	if (cut <= 0 || cut > size)
		cut = size;
	char *buf = malloc((size_t)size);
	if (fread(buf, 1, (size_t)size, in) != (size_t)size)
		die(from, "short read");
	fputc(mode, out);
	if (mode & 4) {
		static const char m[] = "tracetape-manifest 1\nopen 1 "
					"seg-000001.tt.partial\nclose 1 "
					"seg-000001.tt 1 2 3 4\nopen 2 x\n";
		fputc((int)sizeof(m) - 1, out);
		fwrite(m, 1, sizeof(m) - 1, out);
	}
	if (mode & 8) {
		fputc(0, out);
		fputc(0, out);
		fputc(2 * 100 + 0, out);
	}
	fwrite(buf, 1, (size_t)cut, out);
	free(buf);
	fclose(in);
	fclose(out);
}

static void write_tape(const char *dir, int jitter)
{
	struct tape_writer_opts o = {.sz = sizeof(o), .chunk_size = 4096};
	struct tape_writer *w;
	char err[TAPE_ERRLEN];
	if (tape_writer_open(&w, dir, &o, err))
		die(dir, err);
	static const char host[] = "hostname=fuzz\0kernel=6.18\0cpus=2";
	tape_writer_append(w, TT_REC_HOST, 1, host, sizeof(host));
	struct tt_clock ck = {2, 2, 1700000000000000000ull, 0, 0};
	tape_writer_append(w, TT_REC_CLOCK, 2, &ck, sizeof(ck));
	for (int i = 0; i < 300; i++) {
		uint8_t body[sizeof(struct tt_file_op) + 32] = {0};
		struct tt_file_op *op = (void *)body;
		op->task.pid = 100 + (unsigned)i % 5;
		memcpy(op->task.comm, "cat", 4);
		op->syscall = TT_SYS_OPENAT;
		op->path_len = 12;
		memcpy(body + sizeof(*op), "/etc/passwd", 12);
		uint64_t ts = 1000 + (uint64_t)i * 100;
		if (jitter && i % 3 == 0)
			ts -= 250;
		tape_writer_append(w, i % 2 ? TT_REC_OPEN : TT_REC_RW, ts, body,
				   sizeof(*op) + 12);
	}
	tape_writer_append(w, 0x0abc, 99999, "unknown", 7);
	if (tape_writer_close(w))
		die(dir, "close failed");
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage", "gen_corpus OUTDIR");
	char tmp[] = "/tmp/tt-corpus-XXXXXX", dir[64], seg[128], out[512];
	if (!mkdtemp(tmp))
		die(tmp, "mkdtemp");
	for (int jitter = 0; jitter < 2; jitter++) {
		snprintf(dir, sizeof(dir), "%s/t%d", tmp, jitter);
		write_tape(dir, jitter);
		snprintf(seg, sizeof(seg), "%s/seg-000001.tt", dir);
		snprintf(out, sizeof(out), "%s/seed-%s.tt", argv[1],
			 jitter ? "jitter" : "finished");
		copy_cut(seg, out, 0, 0);
		snprintf(out, sizeof(out), "%s/seed-%s-fixcrc.tt", argv[1],
			 jitter ? "jitter" : "finished");
		copy_cut(seg, out, 0, 2);
	}
	snprintf(seg, sizeof(seg), "%s/t0/seg-000001.tt", tmp);
	snprintf(out, sizeof(out), "%s/seed-truncated.tt", argv[1]);
	copy_cut(seg, out, 2500, 1);
	snprintf(out, sizeof(out), "%s/seed-truncated-fixcrc.tt", argv[1]);
	copy_cut(seg, out, 2500, 3);
	snprintf(out, sizeof(out), "%s/seed-dir-manifest.tt", argv[1]);
	copy_cut(seg, out, 0, 4 | 2);
	snprintf(out, sizeof(out), "%s/seed-window.tt", argv[1]);
	copy_cut(seg, out, 0, 8 | 2);
	snprintf(out, sizeof(out), "%s/seed-header-only.tt", argv[1]);
	copy_cut(seg, out, 64, 0);
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
