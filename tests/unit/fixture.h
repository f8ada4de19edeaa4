/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - what the replay tests share: build small tapes with the
 * format library's writer (a builder per record type), run an analysis
 * with its output captured, damage a tape, compare with golden files.
 *
 *     struct fixture fx;
 *     fx_open(&fx);                       a tape in a fresh temp dir
 *     fx_clock(&fx, ts, realtime, off);   anchors, then events:
 *     fx_open_rec(&fx, ts, task, ret, flags, mode, "path", NULL);
 *     fx_close(&fx);
 *     rc = fx_run(&fx, opensnoop_main, "opensnoop", "-T", NULL);
 *     ... fx.out, fx.err ...
 *     fx_cleanup(&fx);
 *
 * Everything is static inline so each test file includes it alone.
 */
#ifndef TT_TEST_FIXTURE_H
#define TT_TEST_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"

#define FX_SEC 1000000000ull
/* 2026-11-25T06:00:00Z */
#define FX_REALTIME_BASE (1795586400ull * FX_SEC)
#define FX_BOOT_BASE                                                           \
	(2ull * FX_SEC) /* below any real uptime: the writer stamps its        \
			   segment record with the real boot clock */

/* Shorthands: the first timestamp of a test tape, a millisecond, and
 * the device of the test disk (8:1). */
#define T0  FX_BOOT_BASE
#define MS  (FX_SEC / 1000)
#define DEV ((8ull << 20) | 1)

struct fixture {
	char dir[128];
	struct tape_writer *w;
	char *out, *err; /* of the last fx_run */
	size_t out_len, err_len;
};

static inline void fx_fail(const char *what)
{
	fprintf(stderr, "fixture: %s\n", what);
	abort();
}

static inline void fx_open_opts(struct fixture *fx,
				const struct tape_writer_opts *opts)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/tt-test-XXXXXX");
	if (!mkdtemp(fx->dir))
		fx_fail("mkdtemp failed");
	char err[TAPE_ERRLEN];
	char tape[192];
	snprintf(tape, sizeof(tape), "%s/tape", fx->dir);
	if (tape_writer_open(&fx->w, tape, opts, err) < 0)
		fx_fail(err);
}

static inline void fx_open(struct fixture *fx)
{
	fx_open_opts(fx, NULL);
}

static inline const char *fx_tape(struct fixture *fx)
{
	static char tape[192];
	snprintf(tape, sizeof(tape), "%s/tape", fx->dir);
	return tape;
}

static inline void fx_append(struct fixture *fx, uint16_t type, uint64_t ts,
			     const void *body, uint32_t len)
{
	if (tape_writer_append(fx->w, type, ts, body, len) < 0)
		fx_fail(tape_writer_error(fx->w));
}

static inline void fx_close(struct fixture *fx)
{
	if (tape_writer_close(fx->w) < 0)
		fx_fail("tape_writer_close failed");
	fx->w = NULL;
}

/* Body builder: fixed part then strings. */
struct fx_body {
	char buf[65536];
	size_t len;
};

static inline void fxb_put(struct fx_body *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->buf))
		fx_fail("record body too big for the fixture");
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

/* A string with its NUL; returns the length counted. */
static inline uint16_t fxb_str(struct fx_body *b, const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s) + 1;
	fxb_put(b, s, n);
	return (uint16_t)n;
}

static inline struct tt_task fx_task(uint32_t pid, uint32_t tid, uint32_t uid,
				     const char *comm)
{
	struct tt_task t;
	memset(&t, 0, sizeof(t));
	t.pid = pid;
	t.tid = tid;
	t.uid = uid;
	strncpy(t.comm, comm, TT_COMM_LEN);
	return t;
}

static inline void fx_clock(struct fixture *fx, uint64_t boot,
			    uint64_t realtime, int32_t utc_offset)
{
	struct tt_clock c = {.boottime_ns = boot,
			     .monotonic_ns = boot - FX_SEC,
			     .realtime_ns = realtime,
			     .utc_offset = utc_offset};
	fx_append(fx, TT_REC_CLOCK, boot, &c, sizeof(c));
}

/* Leaf-first dir blob from "/a/b" ("b\0a\0"); "/" gives "\0". */
static inline size_t fx_dir_blob(const char *abs, char *out, size_t size)
{
	size_t n = 0;
	const char *end = abs + strlen(abs);
	while (end > abs) {
		while (end > abs && end[-1] == '/')
			end--;
		const char *start = end;
		while (start > abs && start[-1] != '/')
			start--;
		if (start == end)
			break;
		size_t k = (size_t)(end - start);
		if (n + k + 1 > size)
			fx_fail("dir too long");
		memcpy(out + n, start, k);
		out[n + k] = '\0';
		n += k + 1;
		end = start;
	}
	if (n == 0) {
		out[0] = '\0';
		n = 1;
	}
	return n;
}

/* A file_op record: DIR is an absolute directory ("/a/b") or NULL. */
static inline void fx_file_op(struct fixture *fx, uint16_t type, uint64_t ts,
			      const struct tt_file_op *fixed, const char *path,
			      const char *dir, const char *path2,
			      const char *dir2)
{
	struct fx_body b = {.len = 0};
	struct tt_file_op f = *fixed;
	char d1[4096], d2[4096];
	size_t d1n = dir ? fx_dir_blob(dir, d1, sizeof(d1)) : 0;
	size_t d2n = dir2 ? fx_dir_blob(dir2, d2, sizeof(d2)) : 0;
	f.path_len = path ? (uint16_t)(strlen(path) + 1) : 0;
	f.dir_len = (uint16_t)d1n;
	f.path2_len = path2 ? (uint16_t)(strlen(path2) + 1) : 0;
	f.dir2_len = (uint16_t)d2n;
	fxb_put(&b, &f, sizeof(f));
	fxb_str(&b, path);
	fxb_put(&b, d1, d1n);
	fxb_str(&b, path2);
	fxb_put(&b, d2, d2n);
	fx_append(fx, type, ts, b.buf, (uint32_t)b.len);
}

/* The fixed part of a file_op by TASK returning RET, relative to the
 * working directory. */
static inline struct tt_file_op fx_file_fixed(struct tt_task task, int64_t ret,
					      uint16_t syscall, uint32_t flags)
{
	struct tt_file_op f;
	memset(&f, 0, sizeof(f));
	f.task = task;
	f.ret = ret;
	f.flags = flags;
	f.dirfd = TT_AT_FDCWD;
	f.syscall = syscall;
	return f;
}

/* An openat returning fd RET on inode INO of the test disk (when RET
 * is an fd) with file mode bits FMODE (TT_FMODE_*). */
static inline void fx_open_full(struct fixture *fx, uint64_t ts,
				struct tt_task task, int64_t ret,
				uint32_t flags, uint32_t mode, uint64_t ino,
				uint32_t fmode, const char *path,
				const char *dir)
{
	struct tt_file_op f = fx_file_fixed(task, ret, TT_SYS_OPENAT, flags);
	f.mode = mode;
	if (ret >= 0) {
		f.dev = DEV;
		f.ino = ino;
		f.fmode = fmode;
	}
	fx_file_op(fx, TT_REC_OPEN, ts, &f, path, dir, NULL, NULL);
}

/* An openat by TASK returning RET, path relative to DIR or absolute. */
static inline void fx_open_rec(struct fixture *fx, uint64_t ts,
			       struct tt_task task, int64_t ret, uint32_t flags,
			       uint32_t mode, const char *path, const char *dir)
{
	fx_open_full(fx, ts, task, ret, flags, mode, 1000 + (uint64_t)ret, 0,
		     path, dir);
}

/* An open that returns fd RET on inode INO; CREATED: O_CREAT|O_WRONLY
 * and FMODE_CREATED. */
static inline void fx_open_ino(struct fixture *fx, uint64_t ts,
			       struct tt_task task, int64_t ret, uint64_t ino,
			       bool created, const char *path, const char *dir)
{
	fx_open_full(fx, ts, task, ret, created ? 0101 : 0, 0644, ino,
		     created ? TT_FMODE_CREATED : 0, path, dir);
}

static inline void fx_unlink(struct fixture *fx, uint64_t ts,
			     struct tt_task task, int64_t ret, uint16_t syscall,
			     uint32_t flags, const char *path, const char *dir)
{
	struct tt_file_op f = fx_file_fixed(task, ret, syscall, flags);
	fx_file_op(fx, TT_REC_UNLINK, ts, &f, path, dir, NULL, NULL);
}

static inline void fx_rename(struct fixture *fx, uint64_t ts,
			     struct tt_task task, int64_t ret, uint32_t flags,
			     const char *path, const char *dir,
			     const char *path2, const char *dir2)
{
	struct tt_file_op f = fx_file_fixed(
		task, ret, flags ? TT_SYS_RENAMEAT2 : TT_SYS_RENAME, flags);
	f.dirfd2 = TT_AT_FDCWD;
	fx_file_op(fx, TT_REC_RENAME, ts, &f, path, dir, path2, dir2);
}

/* An exec: ARGV NULL-terminated; FLAGS TT_EXEC_*. */
static inline void fx_exec_flags(struct fixture *fx, uint64_t ts,
				 struct tt_task task, uint32_t ppid,
				 int64_t ret, const char *filename,
				 const char *const *argv, uint32_t flags)
{
	struct fx_body b = {.len = 0};
	struct tt_exec e;
	memset(&e, 0, sizeof(e));
	e.task = task;
	e.ret = ret;
	e.ppid = ppid;
	e.syscall = TT_SYS_EXECVE;
	e.flags = flags;
	e.filename_len = (uint16_t)(strlen(filename) + 1);
	for (const char *const *a = argv; *a; a++) {
		e.argc++;
		e.args_len += (uint32_t)strlen(*a) + 1;
	}
	fxb_put(&b, &e, sizeof(e));
	fxb_str(&b, filename);
	for (const char *const *a = argv; *a; a++)
		fxb_str(&b, *a);
	fx_append(fx, TT_REC_EXEC, ts, b.buf, (uint32_t)b.len);
}

static inline void fx_exec(struct fixture *fx, uint64_t ts, struct tt_task task,
			   uint32_t ppid, int64_t ret, const char *filename,
			   const char *const *argv)
{
	fx_exec_flags(fx, ts, task, ppid, ret, filename, argv, 0);
}

static inline void fx_readline(struct fixture *fx, uint64_t ts,
			       struct tt_task task, const char *line)
{
	struct fx_body b = {.len = 0};
	struct tt_readline r;
	memset(&r, 0, sizeof(r));
	r.task = task;
	r.line_len = (uint32_t)strlen(line) + 1;
	fxb_put(&b, &r, sizeof(r));
	fxb_str(&b, line);
	fx_append(fx, TT_REC_READLINE, ts, b.buf, (uint32_t)b.len);
}

/* A TT_REC_TTY: TTY NULL for a task without a controlling terminal (the
 * recorder writes one with the same ts in front of each readline). */
static inline void fx_tty(struct fixture *fx, uint64_t ts, struct tt_task task,
			  uint64_t dev, const char *tty)
{
	struct fx_body b = {.len = 0};
	struct tt_tty t;
	memset(&t, 0, sizeof(t));
	t.task = task;
	t.dev = tty ? dev : 0;
	t.tty_len = tty ? (uint16_t)(strlen(tty) + 1) : 0;
	fxb_put(&b, &t, sizeof(t));
	fxb_str(&b, tty);
	fx_append(fx, TT_REC_TTY, ts, b.buf, (uint32_t)b.len);
}

static inline void fx_loss(struct fixture *fx, uint64_t ts, uint32_t cpu,
			   uint64_t count, uint64_t since)
{
	struct tt_loss l = {.cpu = cpu, .count = count, .since_ts = since};
	fx_append(fx, TT_REC_LOSS, ts, &l, sizeof(l));
}

/* key=value strings, NULL-terminated list. */
static inline void fx_kv(struct fixture *fx, uint16_t type, uint64_t ts,
			 const char *const *kv)
{
	struct fx_body b = {.len = 0};
	for (; *kv; kv++)
		fxb_str(&b, *kv);
	fx_append(fx, type, ts, b.buf, (uint32_t)b.len);
}

static inline void fx_user(struct fixture *fx, uint64_t ts, uint32_t uid,
			   const char *name)
{
	struct fx_body b = {.len = 0};
	struct tt_user u = {.uid = uid,
			    .name_len = (uint16_t)(strlen(name) + 1)};
	fxb_put(&b, &u, sizeof(u));
	fxb_str(&b, name);
	fx_append(fx, TT_REC_USER, ts, b.buf, (uint32_t)b.len);
}

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
 * Run analysis ENTRY with arguments (NULL-terminated; the tape path is
 * put after the analysis name).  Output and errors land in fx->out and
 * fx->err; returns the exit code.
 */
static inline int fx_runv(struct fixture *fx, replay_entry_fn entry,
			  const char *name, const char *tape, va_list ap)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)name;
	argv[argc++] = (char *)tape;
	const char *a;
	while ((a = va_arg(ap, const char *)) && argc < 63)
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	free(fx->out);
	free(fx->err);
	fx->out = fx->err = NULL;
	FILE *out = open_memstream(&fx->out, &fx->out_len);
	FILE *err = open_memstream(&fx->err, &fx->err_len);
	struct replay_env env = {.out = out, .err = err, .prog = "tracetape"};
	int rc = entry(argc, argv, &env);
	fclose(out);
	fclose(err);
	return rc;
}

static inline int fx_run(struct fixture *fx, replay_entry_fn entry,
			 const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	int rc = fx_runv(fx, entry, name, fx_tape(fx), ap);
	va_end(ap);
	return rc;
}

/* As fx_run with an explicit TAPE path. */
static inline int fx_run_on(struct fixture *fx, replay_entry_fn entry,
			    const char *name, const char *tape, ...)
{
	va_list ap;
	va_start(ap, tape);
	int rc = fx_runv(fx, entry, name, tape, ap);
	va_end(ap);
	return rc;
}

static inline void fx_cleanup(struct fixture *fx)
{
	if (fx->w)
		tape_writer_close(fx->w);
	free(fx->out);
	free(fx->err);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fixture: could not remove %s\n", fx->dir);
}

/* The single segment file of the tape (first match of seg-*), or "". */
static inline const char *fx_segment(struct fixture *fx)
{
	static char path[320];
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls %s/tape/seg-* 2>/dev/null | head -1",
		 fx->dir);
	FILE *p = popen(cmd, "r");
	path[0] = '\0';
	if (p) {
		if (!fgets(path, sizeof(path), p))
			path[0] = '\0';
		pclose(p);
	}
	path[strcspn(path, "\n")] = '\0';
	return path;
}

/* Flip the bits of one byte at OFFSET of FILE (to damage it). */
static inline void fx_flip_byte(const char *file, long offset)
{
	FILE *f = fopen(file, "r+b");
	if (!f)
		fx_fail("cannot open the segment to damage it");
	if (fseek(f, offset, SEEK_SET) != 0)
		fx_fail("seek failed");
	int c = fgetc(f);
	if (c == EOF)
		fx_fail("offset past the end");
	fseek(f, offset, SEEK_SET);
	fputc(c ^ 0xff, f);
	fclose(f);
}

static inline long fx_file_size(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/*
 * Damage the first segment of FX's closed tape: overwrite 32 bytes at
 * FRACTION of its size with 0xA5, as a bad disk block would.
 */
static inline void fx_damage(struct fixture *fx, double fraction)
{
	const char *seg = fx_segment(fx);
	long size = fx_file_size(seg);
	unsigned char junk[32];
	FILE *f;

	if (!seg[0] || size < 0)
		fx_fail("fx_damage: no finished segment in the tape");
	f = fopen(seg, "r+b");
	if (!f)
		fx_fail("fx_damage: cannot open the segment");
	memset(junk, 0xa5, sizeof(junk));
	fseek(f, (long)((double)size * fraction), SEEK_SET);
	fwrite(junk, 1, sizeof(junk), f);
	fclose(f);
}

/* ---- golden files ------------------------------------------------ */

/*
 * Golden files live in tests/unit/golden/ and hold a complete expected
 * output.  TT_UPDATE_GOLDEN=1 rewrites them from the actual output; read
 * every rewritten file by eye before committing it.
 */
#define GOLDEN_DIR "tests/unit/golden/"

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

/*
 * True when an analysis run exited RC 0, wrote nothing to stderr and
 * wrote golden file GOLDEN to stdout; says on stderr what was wrong.
 */
static inline bool fx_golden_ok(const struct fixture *fx, const char *golden,
				int rc)
{
	if (rc != 0)
		fprintf(stderr, "%s: exit code %d, expected 0\n", golden, rc);
	if (fx->err && fx->err[0])
		fprintf(stderr, "%s: unexpected stderr:\n%s", golden, fx->err);
	return golden_match(golden, fx->out) && rc == 0 &&
	       !(fx->err && fx->err[0]);
}

/* Run ENTRY (NAME TAPE, then the arguments in AP) on FX's tape and check
 * it with fx_golden_ok(). */
static inline bool fx_golden_runv(struct fixture *fx, replay_entry_fn entry,
				  const char *name, const char *golden,
				  va_list ap)
{
	int rc = fx_runv(fx, entry, name, fx_tape(fx), ap);
	return fx_golden_ok(fx, golden, rc);
}

/*
 * Write a fresh tape with WRITE_TAPE, run ENTRY on it with the arguments
 * in AP, check the run with fx_golden_ok() and remove the tape.
 */
static inline bool fx_golden_fresh(void (*write_tape)(struct fixture *),
				   replay_entry_fn entry, const char *name,
				   const char *golden, va_list ap)
{
	struct fixture fx;
	write_tape(&fx);
	bool ok = fx_golden_runv(&fx, entry, name, golden, ap);
	fx_cleanup(&fx);
	return ok;
}

#endif /* TT_TEST_FIXTURE_H */
