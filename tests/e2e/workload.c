// SPDX-License-Identifier: MIT
/*
 * workload.c - a deterministic file and exec workload for the recorder's
 * end-to-end test.
 *
 * usage: workload WORKDIR EXPECT
 *
 * Creates WORKDIR (it must not exist), does a fixed list of opens, reads,
 * writes, in-kernel copies (copy_file_range, sendfile), creations,
 * deletions, a rename, a successful exec with long
 * arguments and a failing exec, and writes what it did to EXPECT as JSON
 * lines, for tests/e2e/check.py to compare with the tape.
 *
 * TT_WORKLOAD_VARIANT=b runs a variant that differs from the default run
 * in four known ways, for the end-to-end test of `tracetape diff`:
 *   - one more file opened (/etc/passwd, read-only, nothing read),
 *   - the "config file" /etc/hostname is missing: opened from inside a
 *     chroot into WORKDIR/sub, where no /etc exists, so the same path
 *     fails with ENOENT (a chroot, not a deletion: nothing else changes),
 *   - one pwrite64 of 400 bytes instead of 500 (the file size is the
 *     same: a later writev covers that range),
 *   - one argument of the long /bin/true exec changed (arg07 ends in q).
 * Nothing else: no extra files created, written or deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_ARGS    45
#define EXEC_ARG_LEN 120

static FILE *expect;
static char workdir[1024];
static int variant_b;

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One JSON line of expectation. */
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(expect, fmt, ap);
	va_end(ap);
	fputc('\n', expect);
}

static const char *result(long ret)
{
	static char buf[32];

	if (ret >= 0)
		return "\"ok\"";
	snprintf(buf, sizeof(buf), "%ld", ret);
	return buf;
}

/* Record an open's expectation and close what it opened. */
static void expect_open(const char *sys, const char *path, const char *full,
			long ret, int created)
{
	note("{\"kind\":\"open\",\"syscall\":\"%s\",\"path\":\"%s\","
	     "\"full\":\"%s\",\"result\":%s,\"created\":%s}",
	     sys, path, full, result(ret), created ? "true" : "false");
	if (ret >= 0)
		close(ret);
}

static long ret_or_errno(long r)
{
	return r < 0 ? -errno : r;
}

static long sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {.flags = flags, .mode = 0};

	return ret_or_errno(
		syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

static void full_path(char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", workdir, rel);
}

/*
 * Open /etc/hostname as seen from a root without /etc: chroot into SUB_FD,
 * open, then back to the real root by climbing from WD_FD (outside the
 * chroot) with "..", which opens nothing that the tape would show.
 */
static long open_hostname_chrooted(int wd_fd, int sub_fd)
{
	struct stat here, up;
	long r;

	if (fchdir(sub_fd) || chroot("."))
		die("variant b: chroot into WORKDIR/sub (needs root)");
	r = ret_or_errno(syscall(SYS_open, "/etc/hostname", O_RDONLY));
	if (fchdir(wd_fd))
		die("variant b: fchdir out of the chroot");
	for (;;) {
		if (stat(".", &here) || stat("..", &up))
			die("variant b: stat while leaving the chroot");
		if (here.st_dev == up.st_dev && here.st_ino == up.st_ino)
			break;
		if (chdir(".."))
			die("variant b: chdir .. while leaving the chroot");
	}
	if (chroot(".") || chdir(workdir))
		die("variant b: back to the real root");
	return r;
}

static void do_opens(int wd_fd, int sub_fd)
{
	char full[2048], missing[2048];
	long r;

	if (variant_b)
		r = open_hostname_chrooted(wd_fd, sub_fd);
	else
		r = ret_or_errno(syscall(SYS_open, "/etc/hostname", O_RDONLY));
	expect_open("open", "/etc/hostname", "/etc/hostname", r, 0);
	if (variant_b) {
		r = ret_or_errno(syscall(SYS_open, "/etc/passwd", O_RDONLY));
		expect_open("open", "/etc/passwd", "/etc/passwd", r, 0);
	}

	full_path(missing, sizeof(missing), "nope.txt");
	r = ret_or_errno(syscall(SYS_open, missing, O_RDONLY));
	expect_open("open", missing, missing, r, 0);

	full_path(full, sizeof(full), "data.bin");
	r = ret_or_errno(
		syscall(SYS_openat, AT_FDCWD, "sub/../data.bin", O_RDONLY));
	expect_open("openat", "sub/../data.bin", full, r, 0);

	full_path(full, sizeof(full), "sub/missing.txt");
	r = ret_or_errno(syscall(SYS_openat, sub_fd, "missing.txt", O_RDONLY));
	expect_open("openat", "missing.txt", full, r, 0);

	full_path(full, sizeof(full), "data.bin");
	r = sys_openat2(wd_fd, "data.bin", O_RDONLY);
	expect_open("openat2", "data.bin", full, r, 0);

	full_path(full, sizeof(full), "sub/absent2.txt");
	r = sys_openat2(sub_fd, "absent2.txt", O_RDONLY);
	expect_open("openat2", "absent2.txt", full, r, 0);

	full_path(full, sizeof(full), "sub/made-by-creat.txt");
	r = ret_or_errno(syscall(SYS_creat, "sub/made-by-creat.txt", 0644));
	expect_open("creat", "sub/made-by-creat.txt", full, r, 1);

	/* O_CREAT on a file that exists: not a creation */
	full_path(full, sizeof(full), "data.bin");
	r = ret_or_errno(syscall(SYS_openat, wd_fd, "data.bin",
				 O_WRONLY | O_CREAT, 0644));
	expect_open("openat", "data.bin", full, r, 0);
}

static void expect_rw(const char *name, const char *sys, long bytes, int calls)
{
	note("{\"kind\":\"rw\",\"name\":\"%s\",\"syscall\":\"%s\","
	     "\"bytes\":%ld,\"calls\":%d}",
	     name, sys, bytes, calls);
}

static void must(long got, long want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "workload: %s returned %ld, wanted %ld (%s)\n",
			what, got, want, strerror(errno));
		exit(1);
	}
}

/* data.bin: known byte counts through each read/write system call. */
static void do_rw(void)
{
	char buf[2000];
	struct iovec iov[2] = {{buf, 300}, {buf + 300, 200}};
	long pwrite_len = variant_b ? 400 : 500;
	int fd;

	char full[2048];

	full_path(full, sizeof(full), "data.bin");
	memset(buf, 'x', sizeof(buf));
	fd = syscall(SYS_openat, AT_FDCWD, "data.bin",
		     O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		die("create data.bin");
	note("{\"kind\":\"open\",\"syscall\":\"openat\",\"path\":"
	     "\"data.bin\",\"full\":\"%s\",\"result\":\"ok\","
	     "\"created\":true}",
	     full);
	for (int i = 0; i < 3; i++)
		must(syscall(SYS_write, fd, buf, 1000), 1000, "write");
	/* variant b: 400 bytes; the writev below covers 3000..4000 anyway */
	must(syscall(SYS_pwrite64, fd, buf, pwrite_len, 3000), pwrite_len,
	     "pwrite64");
	must(syscall(SYS_pwrite64, fd, buf, 500, 3500), 500, "pwrite64");
	must(syscall(SYS_writev, fd, iov, 2), 500, "writev");
	must(syscall(SYS_writev, fd, iov, 2), 500, "writev");
	close(fd);
	expect_rw("data.bin", "write", 3000, 3);
	expect_rw("data.bin", "pwrite64", 500 + pwrite_len, 2);
	expect_rw("data.bin", "writev", 1000, 2);

	fd = syscall(SYS_open, "data.bin", O_RDONLY);
	if (fd < 0)
		die("open data.bin");
	note("{\"kind\":\"open\",\"syscall\":\"open\",\"path\":"
	     "\"data.bin\",\"full\":\"%s\",\"result\":\"ok\","
	     "\"created\":false}",
	     full);
	must(syscall(SYS_read, fd, buf, 1000), 1000, "read");
	must(syscall(SYS_read, fd, buf, 1000), 1000, "read");
	must(syscall(SYS_pread64, fd, buf, 500, 0), 500, "pread64");
	must(syscall(SYS_pread64, fd, buf, 500, 500), 500, "pread64");
	must(syscall(SYS_readv, fd, iov, 2), 500, "readv");
	must(syscall(SYS_readv, fd, iov, 2), 500, "readv");
	lseek(fd, 0, SEEK_END);
	must(syscall(SYS_read, fd, buf, 1000), 0, "read at EOF");
	close(fd);
	expect_rw("data.bin", "read", 2000, 2);
	expect_rw("data.bin", "pread64", 1000, 2);
	expect_rw("data.bin", "readv", 1000, 2);
}

/* Open NAME for the copies below and note the open for check.py. */
static int open_noted(const char *name, int flags, int created)
{
	char full[2048];
	int fd = syscall(SYS_openat, AT_FDCWD, name, flags, 0644);

	if (fd < 0)
		die(name);
	full_path(full, sizeof(full), name);
	note("{\"kind\":\"open\",\"syscall\":\"openat\",\"path\":"
	     "\"%s\",\"full\":\"%s\",\"result\":\"ok\","
	     "\"created\":%s}",
	     name, full, created ? "true" : "false");
	return fd;
}

/*
 * Copies inside the kernel (what cp(1) does): each call counts as a read
 * on the in file and a write on the out file, RET bytes each.
 */
static void do_copies(void)
{
	int in = open_noted("data.bin", O_RDONLY, 0);
	int out = open_noted("copy.bin", O_CREAT | O_WRONLY | O_EXCL, 1);
	int sent;

	must(syscall(SYS_copy_file_range, in, NULL, out, NULL, 1500, 0), 1500,
	     "copy_file_range");
	must(syscall(SYS_copy_file_range, in, NULL, out, NULL, 1000, 0), 1000,
	     "copy_file_range");
	close(out);
	sent = open_noted("sent.bin", O_CREAT | O_WRONLY | O_EXCL, 1);
	must(syscall(SYS_sendfile, sent, in, NULL, 700), 700, "sendfile");
	close(sent);
	close(in);
	note("{\"kind\":\"rw\",\"name\":\"data.bin\",\"syscall\":"
	     "\"copy_file_range\",\"bytes\":2500,\"calls\":2,\"dir\":\"r\"}");
	note("{\"kind\":\"rw\",\"name\":\"copy.bin\",\"syscall\":"
	     "\"copy_file_range\",\"bytes\":2500,\"calls\":2,\"dir\":\"w\"}");
	note("{\"kind\":\"rw\",\"name\":\"data.bin\",\"syscall\":"
	     "\"sendfile\",\"bytes\":700,\"calls\":1,\"dir\":\"r\"}");
	note("{\"kind\":\"rw\",\"name\":\"sent.bin\",\"syscall\":"
	     "\"sendfile\",\"bytes\":700,\"calls\":1,\"dir\":\"w\"}");
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* CLOCK_BOOTTIME in seconds: the clock the tape's timestamps use. */
static double boot_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Files created and deleted after a known time (slept, and measured). */
static void do_lifetimes(int wd_fd)
{
	char full[2048];
	double t0, t1;
	int fd;

	fd = open("short.tmp", O_CREAT | O_WRONLY | O_EXCL, 0600);
	t0 = boot_s();
	if (fd < 0)
		die("create short.tmp");
	close(fd);
	sleep_s(0.2);
	if (unlink("short.tmp"))
		die("unlink short.tmp");
	t1 = boot_s();
	full_path(full, sizeof(full), "short.tmp");
	note("{\"kind\":\"life\",\"full\":\"%s\",\"age\":0.2,"
	     "\"measured\":%.6f}",
	     full, t1 - t0);

	fd = syscall(SYS_openat, wd_fd, "long.tmp", O_CREAT | O_WRONLY | O_EXCL,
		     0600);
	t0 = boot_s();
	if (fd < 0)
		die("create long.tmp");
	close(fd);
	sleep_s(1.1);
	if (unlinkat(wd_fd, "long.tmp", 0))
		die("unlink long.tmp");
	t1 = boot_s();
	full_path(full, sizeof(full), "long.tmp");
	note("{\"kind\":\"life\",\"full\":\"%s\",\"age\":1.1,"
	     "\"measured\":%.6f}",
	     full, t1 - t0);
}

static void do_rename(void)
{
	char from[2048], to[2048];
	int fd = open("before.txt", O_CREAT | O_WRONLY | O_EXCL, 0600);

	if (fd < 0)
		die("create before.txt");
	close(fd);
	if (syscall(SYS_rename, "before.txt", "sub/after.txt"))
		die("rename before.txt");
	full_path(from, sizeof(from), "before.txt");
	full_path(to, sizeof(to), "sub/after.txt");
	note("{\"kind\":\"rename\",\"full\":\"%s\",\"full2\":\"%s\"}", from,
	     to);
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return status;
}

/* /bin/true with 45 long arguments, then a program that does not exist. */
static void do_execs(void)
{
	static char args[EXEC_ARGS][EXEC_ARG_LEN + 1];
	char *argv[EXEC_ARGS + 2];
	char *bad_argv[] = {"/nonexistent/tracetape-prog", "arg-one", NULL};

	argv[0] = "/bin/true";
	for (int i = 0; i < EXEC_ARGS; i++) {
		int n = snprintf(args[i], sizeof(args[i]), "arg%02d-", i);

		memset(args[i] + n, 'a' + i % 26, EXEC_ARG_LEN - n);
		args[i][EXEC_ARG_LEN] = 0;
		if (variant_b && i == 7)
			args[i][EXEC_ARG_LEN - 1] = 'q';
		argv[i + 1] = args[i];
	}
	argv[EXEC_ARGS + 1] = NULL;
	if (run(argv) != 0)
		die("/bin/true failed");
	fprintf(expect, "{\"kind\":\"exec\",\"filename\":\"/bin/true\","
			"\"args\":[\"/bin/true\"");
	for (int i = 0; i < EXEC_ARGS; i++)
		fprintf(expect, ",\"%s\"", args[i]);
	fprintf(expect, "]}\n");

	run(bad_argv);
	note("{\"kind\":\"exec_failed\",\"filename\":\"%s\",\"ret\":%d,"
	     "\"args\":[\"%s\",\"%s\"]}",
	     bad_argv[0], -ENOENT, bad_argv[0], bad_argv[1]);
}

int main(int argc, char **argv)
{
	int wd_fd, sub_fd;

	if (argc != 3) {
		fprintf(stderr, "usage: workload WORKDIR EXPECT\n");
		return 2;
	}
	variant_b = getenv("TT_WORKLOAD_VARIANT") &&
		    !strcmp(getenv("TT_WORKLOAD_VARIANT"), "b");
	if (mkdir(argv[1], 0755))
		die(argv[1]);
	if (!realpath(argv[1], workdir))
		die("realpath");
	expect = fopen(argv[2], "w");
	if (!expect)
		die(argv[2]);
	if (chdir(workdir) || mkdir("sub", 0755))
		die("chdir/mkdir sub");
	wd_fd = open(".", O_RDONLY | O_DIRECTORY);
	sub_fd = open("sub", O_RDONLY | O_DIRECTORY);
	if (wd_fd < 0 || sub_fd < 0)
		die("open directories");
	note("{\"kind\":\"workdir\",\"path\":\"%s\"}", workdir);
	do_rw();
	do_copies();
	do_opens(wd_fd, sub_fd);
	do_lifetimes(wd_fd);
	do_rename();
	do_execs();
	if (fclose(expect))
		die(argv[2]);
	return 0;
}
