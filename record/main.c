// SPDX-License-Identifier: MIT
/*
 * main.c - tracetape-record: attach the probes, write the tape, stop on
 * a signal, after -d, or when the traced COMMAND exits.
 *
 * Exit codes (also in docs/tracetape-record.1):
 *   0  recorded and closed the tape
 *   1  recording stopped on an error (write error, disk full); the tape
 *      on disk is closed and readable up to that point
 *   2  usage error
 *   3  could not start: no BTF, no permission, BPF load failure, bad
 *      output directory
 *   with -- COMMAND: COMMAND's exit status (128+N if a signal N killed
 *   it, 127 if it could not be run) unless recording itself failed
 */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "meta.h"
#include "options.h"
#include "privs.h"
#include "probes.h"
#include "pump.h"
#include "tape.h"
#include "tt_events.h"

enum {
	EXIT_RECORD_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_SETUP = 3,
	EXIT_CANNOT_RUN = 127,
};

struct child {
	pid_t pid; /* 0: no COMMAND */
	int go_fd; /* write end of the start handshake */
	int status;
	bool exited;
	sigset_t parent_mask; /* the mask to restore in COMMAND */
};

/* ./tape-HOST-yyyymmddThhmmss (UTC). */
static void default_dir(char *buf, size_t size)
{
	char host[256] = "host";
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = 0;
	gmtime_r(&now, &tm);
	snprintf(buf, size, "./tape-%s-%04d%02d%02dT%02d%02d%02d", host,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}

/* Refuse an existing, non-empty directory before anything is attached. */
static int check_out_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return 0; /* missing: the writer creates it (and says why not)
			   */
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			fprintf(stderr,
				"tracetape-record: %s: directory exists and is "
				"not empty; choose a new directory with -o or "
				"remove this one\n",
				dir);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* -p PIDs must name live processes. */
static int check_pids(const struct rec_opts *o)
{
	for (int i = 0; i < o->npids; i++) {
		if (kill(o->pids[i], 0) && errno == ESRCH) {
			fprintf(stderr,
				"tracetape-record: -p %u: no such process; "
				"check the pid with ps\n",
				o->pids[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * Fork COMMAND, held until child_release() so that it is in the traced
 * set before it runs a single instruction of its own.
 */
static int child_spawn(struct child *c, char **argv, const sigset_t *mask)
{
	int fds[2];

	memset(c, 0, sizeof(*c));
	c->parent_mask = *mask;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		struct pollfd go = {.fd = fds[0], .events = POLLIN};

		close(fds[1]);
		sigprocmask(SIG_SETMASK, &c->parent_mask, NULL);
		/* Wait with poll(), not read(): the child is already traced
		 * and poll is not a recorded system call, so the tape holds
		 * nothing of the recorder's own hand-over.  A byte means go;
		 * a hang-up alone means the recorder gave up. */
		while (poll(&go, 1, -1) < 0 && errno == EINTR)
			;
		if (!(go.revents & POLLIN))
			_exit(EXIT_CANNOT_RUN);
		execvp(argv[0], argv);
		fprintf(stderr, "tracetape-record: cannot run %s: %s\n",
			argv[0], strerror(errno));
		_exit(EXIT_CANNOT_RUN);
	}
	close(fds[0]);
	c->go_fd = fds[1];
	return 0;
}

static void child_release(struct child *c)
{
	if (c->pid > 0 && c->go_fd >= 0) {
		if (write(c->go_fd, "g", 1) != 1)
			perror("tracetape-record: starting the command");
		close(c->go_fd);
		c->go_fd = -1;
	}
}

/* Called on setup failure: the held child exits without running. */
static void child_abort(struct child *c)
{
	if (c->pid > 0) {
		close(c->go_fd);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
}

static int child_exit_code(const struct child *c)
{
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return EXIT_RECORD_FAILED;
}

static void human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = n;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static void print_status(const struct pump_stats *st, uint64_t prev_events,
			 double dt)
{
	char bytes[32];

	human_bytes(st->writer.disk_bytes, bytes, sizeof(bytes));
	fprintf(stderr,
		"\r\033[Ktracetape-record: %.0f events/s  lost %llu  %s "
		"on disk  %s",
		(st->events - prev_events) / (dt > 0 ? dt : 1),
		(unsigned long long)st->lost, bytes, st->writer.current);
	fflush(stderr);
}

static void print_summary(const struct pump_stats *st, double secs,
			  const char *dir)
{
	static const char *const names[16] = {
		[TT_REC_OPEN] = "open",	    [TT_REC_RW] = "rw",
		[TT_REC_UNLINK] = "unlink", [TT_REC_RENAME] = "rename",
		[TT_REC_EXEC] = "exec",	    [TT_REC_FORK] = "fork",
		[TT_REC_EXIT] = "exit",	    [TT_REC_READLINE] = "readline",
		[TT_REC_TTY] = "tty",
	};
	char disk[32], raw[32];

	human_bytes(st->writer.disk_bytes, disk, sizeof(disk));
	human_bytes(st->writer.raw_bytes, raw, sizeof(raw));
	fprintf(stderr, "\r\033[Ktracetape-record: %s: %llu events in %.1f s",
		dir, (unsigned long long)st->events, secs);
	for (int i = 0; i < 16; i++) {
		if (names[i] && st->by_type[i])
			fprintf(stderr, ", %s %llu", names[i],
				(unsigned long long)st->by_type[i]);
	}
	fprintf(stderr,
		"\ntracetape-record: lost %llu, %s on disk (%s raw, ratio "
		"%.1fx), %u segment(s)\n",
		(unsigned long long)st->lost, disk, raw,
		st->writer.disk_bytes
			? (double)st->writer.raw_bytes / st->writer.disk_bytes
			: 0.0,
		st->writer.segments);
}

/* Bytes of the files in DIR. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t total = 0;

	while (d && (de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 &&
		    S_ISREG(st.st_mode))
			total += st.st_size;
	}
	if (d)
		closedir(d);
	return total;
}

static double now_s(void)
{
	return meta_boot_ns() / 1e9;
}

/*
 * Wait for the end: SIGINT/SIGTERM, the duration, COMMAND's exit, or a
 * write error; refresh the status line each second meanwhile.
 */
static void wait_for_end(const struct rec_opts *o, struct pump *pump,
			 struct child *c, const sigset_t *sigs, bool status)
{
	double start = now_s(), last = start, grace_until = 0;
	uint64_t prev_events = 0;

	for (;;) {
		struct timespec timeout = {0, 200000000};
		siginfo_t si;
		int sig = sigtimedwait(sigs, &si, &timeout);
		struct pump_stats st;

		if ((sig == SIGINT || sig == SIGTERM) &&
		    (c->pid <= 0 || c->exited || grace_until))
			return;
		if (sig == SIGINT || sig == SIGTERM) {
			/* let COMMAND end (and its end be recorded) first:
			 * pass on a signal sent to us alone (a terminal's
			 * Ctrl-C already reached the whole process group) */
			if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
				kill(c->pid, sig);
			grace_until = now_s() + 2.0;
		}
		if (grace_until && now_s() >= grace_until)
			return;
		if (sig == SIGCHLD && c->pid > 0 &&
		    waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
			c->exited = true;
			return;
		}
		if (o->duration_s > 0 && now_s() - start >= o->duration_s)
			return;
		if (pump_failed(pump))
			return;
		if (status && now_s() - last >= 1.0) {
			pump_stats(pump, &st);
			print_status(&st, prev_events, now_s() - last);
			prev_events = st.events;
			last = now_s();
		}
	}
}

struct recorder {
	struct rec_opts opts;
	char dir[4096];
	struct probes probes;
	struct meta_ctx meta;
	struct redactor redact;
	struct tape_writer *writer;
	struct pump *pump;
	struct child child;
	int prog_fds[64]; /* the loaded BPF programs (pump: skipped runs) */
};

static int open_tape(struct recorder *r)
{
	const struct rec_opts *o = &r->opts;
	struct tape_writer_opts wo = {
		.sz = sizeof(wo),
		.segment_size = o->segment_size,
		.segment_time_ns = o->segment_time_s * 1e9,
		.max_segments = o->max_segments,
		.zstd_level = o->zstd_level,
		.on_segment_start = meta_segment_start,
		.ctx = &r->meta,
	};
	char err[TAPE_ERRLEN];
	int rc;

	r->meta.opts = o;
	r->meta.probes = &r->probes;
	r->meta.out_dir = r->dir;
	r->meta.redact = &r->redact;
	rc = tape_writer_open(&r->writer, r->dir, &wo, err);
	if (rc)
		fprintf(stderr, "tracetape-record: %s\n", err);
	return rc;
}

static int setup(struct recorder *r, const sigset_t *old_mask)
{
	struct pump_config pc;
	int err;

	if (check_out_dir(r->dir) || check_pids(&r->opts))
		return -1;
	if (r->opts.command &&
	    child_spawn(&r->child, r->opts.command, old_mask)) {
		fprintf(stderr, "tracetape-record: cannot fork: %s\n",
			strerror(errno));
		return -1;
	}
	if (probes_start(&r->probes, &r->opts))
		return -1;
	if (r->child.pid > 0 && probes_trace_pid(&r->probes, r->child.pid)) {
		fprintf(stderr,
			"tracetape-record: cannot add pid %d to the traced "
			"set: %s\n",
			r->child.pid, strerror(errno));
		return -1;
	}
	if (open_tape(r))
		return -1;
	/* attached and open: from here on only our descriptors are used */
	if (privs_drop())
		fprintf(stderr,
			"tracetape-record: warning: cannot drop capabilities "
			"(%s); recording goes on with them\n",
			strerror(errno));
	pc = (struct pump_config){
		.ring_fd = probes_ring_fd(&r->probes),
		.lost_fd = probes_lost_fd(&r->probes),
		.prog_fds = r->prog_fds,
		.nprogs = probes_prog_fds(&r->probes, r->prog_fds,
					  sizeof(r->prog_fds) /
						  sizeof(r->prog_fds[0])),
		.ncpus = r->probes.ncpus,
		.flush_interval_ms = r->opts.flush_interval_ms,
		.writer = r->writer,
		.redact = &r->redact,
	};
	err = pump_start(&r->pump, &pc);
	if (err) {
		fprintf(stderr,
			"tracetape-record: cannot start the drain "
			"threads: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

static void teardown_after_failed_setup(struct recorder *r)
{
	child_abort(&r->child);
	if (r->writer)
		tape_writer_close(r->writer);
	probes_stop(&r->probes);
}

/* Stop the probes, drain the rest, close the tape.  0 or -1. */
static int finish(struct recorder *r, bool show, double secs)
{
	struct pump_stats st;
	int rc, close_rc;

	probes_detach(&r->probes);
	/* records still staged per CPU go out on their flush timers (4 ms) */
	nanosleep(&(struct timespec){0, 20000000}, NULL);
	rc = pump_stop(r->pump);
	pump_stats(r->pump, &st);
	close_rc = tape_writer_close(r->writer);
	if (rc)
		fprintf(stderr, "tracetape-record: recording stopped: %s\n",
			pump_error(r->pump));
	else if (close_rc)
		fprintf(stderr, "tracetape-record: closing %s: %s\n", r->dir,
			tape_strerror(close_rc));
	if (show) {
		st.writer.disk_bytes = dir_bytes(r->dir); /* footers included */
		print_summary(&st, secs, r->dir);
	}
	if (st.lost)
		fprintf(stderr,
			"tracetape-record: warning: %llu events lost (ring "
			"buffer full); try a larger --ring-size\n",
			(unsigned long long)st.lost);
	pump_free(r->pump);
	probes_stop(&r->probes);
	return rc || close_rc ? -1 : 0;
}

/* --redact and --redact-regex; -1 with a message on a bad regex. */
static int init_redactor(struct redactor *red, const struct rec_opts *o)
{
	char err[256];

	if (redactor_init(red, o->redact, o->redact_regex, err, sizeof(err))) {
		fprintf(stderr,
			"tracetape-record: --redact-regex '%s': %s; give a "
			"POSIX extended regular expression\n",
			o->redact_regex, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct recorder r = {0};
	sigset_t sigs, old_mask;
	bool show;
	double start;
	int rc = rec_opts_parse(&r.opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (init_redactor(&r.redact, &r.opts))
		return EXIT_USAGE;
	if (r.opts.out_dir)
		snprintf(r.dir, sizeof(r.dir), "%s", r.opts.out_dir);
	else
		default_dir(r.dir, sizeof(r.dir));
	show = !r.opts.quiet && isatty(STDERR_FILENO);

	/* signals are taken synchronously in wait_for_end; every thread
	 * created from here on inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &sigs, &old_mask);
	if (setup(&r, &old_mask)) {
		teardown_after_failed_setup(&r);
		redactor_free(&r.redact);
		return EXIT_SETUP;
	}
	start = now_s();
	child_release(&r.child);
	wait_for_end(&r.opts, r.pump, &r.child, &sigs, show);
	rc = finish(&r, show, now_s() - start);
	redactor_free(&r.redact);
	if (r.child.pid > 0 && !r.child.exited) {
		/* stopped by a signal or -d: the command goes on untraced */
		if (waitpid(r.child.pid, &r.child.status, WNOHANG) ==
		    r.child.pid)
			r.child.exited = true;
	}
	if (rc)
		return EXIT_RECORD_FAILED;
	if (r.child.pid > 0 && r.child.exited)
		return child_exit_code(&r.child);
	return 0;
}
