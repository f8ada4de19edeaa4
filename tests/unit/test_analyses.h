/* SPDX-License-Identifier: MIT */
/*
 * test_analyses.h - what the filetop, filelife, history and diff tests
 * share on top of fixture.h: builders for the records fixture.h lacks
 * (rw, unlink, rename, fork, exit, loadavg, a creating open) and golden
 * files.
 *
 * Golden files live in tests/unit/golden/ and hold a complete expected
 * output.  TT_UPDATE_GOLDEN=1 rewrites them from the actual output; read
 * every rewritten file by eye before committing it.
 */
#ifndef TT_TEST_ANALYSES_H
#define TT_TEST_ANALYSES_H

#include <sys/stat.h>

#include "fixture.h"

#define GOLDEN_DIR "tests/unit/golden/"

/* Reads and writes by TASK on file (DEV, INO) of type MODE named NAME. */
static inline void fx_rw(struct fixture *fx, uint64_t ts, struct tt_task task,
			 uint64_t dev, uint64_t ino, uint16_t mode,
			 const char *name, uint32_t reads, uint64_t rbytes,
			 uint32_t writes, uint64_t wbytes)
{
	struct fx_body b = {.len = 0};
	struct tt_rw r;

	memset(&r, 0, sizeof(r));
	r.task = task;
	r.dev = dev;
	r.ino = ino;
	r.i_mode = mode;
	r.reads = reads;
	r.rbytes = rbytes;
	r.writes = writes;
	r.wbytes = wbytes;
	r.fd = 3;
	r.syscall = writes ? TT_SYS_WRITE : TT_SYS_READ;
	r.name_len = (uint16_t)(strlen(name) + 1);
	fxb_put(&b, &r, sizeof(r));
	fxb_str(&b, name);
	fx_append(fx, TT_REC_RW, ts, b.buf, (uint32_t)b.len);
}

/* An open that returns fd RET on inode INO; CREATED sets FMODE_CREATED. */
static inline void fx_open_ino(struct fixture *fx, uint64_t ts,
			       struct tt_task task, int64_t ret, uint64_t ino,
			       bool created, const char *path, const char *dir)
{
	struct tt_file_op f;

	memset(&f, 0, sizeof(f));
	f.task = task;
	f.ret = ret;
	f.flags = created ? 0101 : 0; /* O_CREAT | O_WRONLY */
	f.mode = 0644;
	f.dirfd = TT_AT_FDCWD;
	f.syscall = TT_SYS_OPENAT;
	if (ret >= 0) {
		f.dev = (8u << 20) | 1;
		f.ino = ino;
		f.fmode = created ? TT_FMODE_CREATED : 0;
	}
	fx_file_op(fx, TT_REC_OPEN, ts, &f, path, dir, NULL, NULL);
}

static inline void fx_unlink(struct fixture *fx, uint64_t ts,
			     struct tt_task task, int64_t ret, uint16_t syscall,
			     uint32_t flags, const char *path, const char *dir)
{
	struct tt_file_op f;

	memset(&f, 0, sizeof(f));
	f.task = task;
	f.ret = ret;
	f.flags = flags;
	f.dirfd = TT_AT_FDCWD;
	f.syscall = syscall;
	fx_file_op(fx, TT_REC_UNLINK, ts, &f, path, dir, NULL, NULL);
}

static inline void fx_rename(struct fixture *fx, uint64_t ts,
			     struct tt_task task, int64_t ret, uint32_t flags,
			     const char *path, const char *dir,
			     const char *path2, const char *dir2)
{
	struct tt_file_op f;

	memset(&f, 0, sizeof(f));
	f.task = task;
	f.ret = ret;
	f.flags = flags;
	f.dirfd = TT_AT_FDCWD;
	f.dirfd2 = TT_AT_FDCWD;
	f.syscall = flags ? TT_SYS_RENAMEAT2 : TT_SYS_RENAME;
	fx_file_op(fx, TT_REC_RENAME, ts, &f, path, dir, path2, dir2);
}

static inline void fx_fork(struct fixture *fx, uint64_t ts,
			   struct tt_task parent, uint32_t child)
{
	struct tt_fork f;

	memset(&f, 0, sizeof(f));
	f.task = parent;
	f.child_pid = child;
	fx_append(fx, TT_REC_FORK, ts, &f, sizeof(f));
}

static inline void fx_exit(struct fixture *fx, uint64_t ts, struct tt_task task,
			   int32_t status)
{
	struct tt_exit x;

	memset(&x, 0, sizeof(x));
	x.task = task;
	x.exit_code = status;
	fx_append(fx, TT_REC_EXIT, ts, &x, sizeof(x));
}

static inline void fx_loadavg(struct fixture *fx, uint64_t ts, uint32_t l1,
			      uint32_t l5, uint32_t l15, uint32_t running,
			      uint32_t threads, uint32_t last_pid)
{
	struct tt_loadavg l = {l1, l5, l15, running, threads, last_pid};

	fx_append(fx, TT_REC_LOADAVG, ts, &l, sizeof(l));
}

/*
 * Damage the first segment of FX's closed tape: overwrite 32 bytes at
 * FRACTION of its size with 0xA5, as a bad disk block would.
 */
static inline void fx_damage(struct fixture *fx, double fraction)
{
	char path[512], cmd[700];
	unsigned char junk[32];
	FILE *f;
	long size;

	snprintf(cmd, sizeof(cmd), "ls %s/seg-*.tt 2>/dev/null | head -1",
		 fx_tape(fx));
	f = popen(cmd, "r");
	if (!f || !fgets(path, sizeof(path), f))
		fx_fail("fx_damage: no finished segment in the tape");
	pclose(f);
	path[strcspn(path, "\n")] = '\0';
	f = fopen(path, "r+b");
	if (!f)
		fx_fail("fx_damage: cannot open the segment");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	memset(junk, 0xa5, sizeof(junk));
	fseek(f, (long)((double)size * fraction), SEEK_SET);
	fwrite(junk, 1, sizeof(junk), f);
	fclose(f);
}

/* Whole contents of PATH (malloc'd, NUL-terminated) or NULL. */
static inline char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

/*
 * True when ACTUAL equals golden file NAME.  On a mismatch, prints a
 * unified diff (expected vs actual) to stderr.  With TT_UPDATE_GOLDEN=1
 * it writes ACTUAL to the golden file instead and reports a match.
 */
static inline bool golden_match(const char *name, const char *actual)
{
	char path[512], tmp[600], cmd[1400];
	const char *update = getenv("TT_UPDATE_GOLDEN");
	char *want;
	bool same;
	FILE *f;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (update && strcmp(update, "1") == 0) {
		f = fopen(path, "w");
		if (!f)
			fx_fail("cannot write a golden file: run from the "
				"repository root");
		fputs(actual ? actual : "", f);
		fclose(f);
		return true;
	}
	want = read_text_file(path);
	if (!want) {
		fprintf(stderr,
			"golden file %s is missing: run the test from the "
			"repository root, or create it with "
			"TT_UPDATE_GOLDEN=1 and check it by eye\n",
			path);
		return false;
	}
	same = strcmp(want, actual ? actual : "") == 0;
	if (!same) {
		snprintf(tmp, sizeof(tmp), "/tmp/tt-golden-actual-%d-%s",
			 (int)getpid(), name);
		f = fopen(tmp, "w");
		if (f) {
			fputs(actual ? actual : "", f);
			fclose(f);
			snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s' >&2",
				 path, tmp);
			if (system(cmd) == -1)
				fprintf(stderr, "(could not run diff)\n");
		}
		fprintf(stderr, "output differs from golden file %s\n", path);
	}
	free(want);
	return same;
}

#endif /* TT_TEST_ANALYSES_H */
