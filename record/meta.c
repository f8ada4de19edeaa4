// SPDX-License-Identifier: MIT
/*
 * meta.c - metadata records: host identity, recorder options, probes,
 * clock anchors and snapshots of processes, mounts and users, written at
 * the start of every segment so that any one segment replays alone.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "meta.h"
#include "tape.h"
#include "tt_events.h"

/* A growing record body. */
struct body {
	char *data;
	size_t len, cap;
	bool failed;
};

static void body_put(struct body *b, const void *src, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, src, n);
	b->len += n;
}

/* Append "key=value\0"; control characters in VALUE become spaces. */
static void kv(struct body *b, const char *key, const char *value)
{
	size_t start;

	body_put(b, key, strlen(key));
	body_put(b, "=", 1);
	start = b->len;
	body_put(b, value, strlen(value) + 1);
	for (size_t i = start; !b->failed && i + 1 < b->len; i++) {
		if ((unsigned char)b->data[i] < 0x20)
			b->data[i] = ' ';
	}
}

static void kvf(struct body *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kvf(struct body *b, const char *key, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	kv(b, key, value);
}

static int body_write(struct tape_writer *w, uint16_t type, struct body *b)
{
	int rc;

	if (b->failed) {
		free(b->data);
		return TAPE_E_NOMEM;
	}
	rc = tape_writer_append(w, type, meta_boot_ns(), b->data, b->len);
	free(b->data);
	memset(b, 0, sizeof(*b));
	return rc;
}

uint64_t meta_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Whole (small) file into BUF, trailing newline dropped; "" on failure. */
static const char *read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return buf;
}

/* The time zone's name: $TZ, /etc/timezone, or the /etc/localtime link. */
static void timezone_name(char *buf, size_t size)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX];
	ssize_t n;

	if (tz && *tz) {
		snprintf(buf, size, "%s", tz[0] == ':' ? tz + 1 : tz);
		return;
	}
	read_small("/etc/timezone", buf, size);
	if (*buf)
		return;
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		const char *z;

		link[n] = 0;
		z = strstr(link, "zoneinfo/");
		z = z ? z + 9 : link;
		if (strlen(z) < size)
			memcpy(buf, z, strlen(z) + 1);
		else
			snprintf(buf, size, "UTC");
		return;
	}
	snprintf(buf, size, "UTC");
}

static long utc_offset_now(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return tm.tm_gmtoff;
}

static int write_host(struct tape_writer *w)
{
	struct body b = {0};
	struct utsname u;
	char buf[256], host[256];

	uname(&u);
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = 0;
	kv(&b, "hostname", host);
	kv(&b, "machine_id", read_small("/etc/machine-id", buf, sizeof(buf)));
	kv(&b, "boot_id",
	   read_small("/proc/sys/kernel/random/boot_id", buf, sizeof(buf)));
	kv(&b, "kernel", u.release);
	kv(&b, "kernel_version", u.version);
	kv(&b, "arch", u.machine);
	kvf(&b, "cpus", "%d", get_nprocs_conf());
	timezone_name(buf, sizeof(buf));
	kv(&b, "timezone", buf);
	kvf(&b, "utc_offset", "%ld", utc_offset_now());
	return body_write(w, TT_REC_HOST, &b);
}

/* One argument of the recorder's own command line: COMMAND_ARG when it
 * is an argument of -- COMMAND (after COMMAND itself). */
static void put_redacted_arg(struct body *b, const struct redactor *r,
			     const char *arg, bool command_arg)
{
	char *out;
	size_t n;

	if (!r || !redactor_active(r)) {
		body_put(b, arg, strlen(arg));
		return;
	}
	out = malloc(redact_room(strlen(arg) + 1));
	if (!out) {
		b->failed = true;
		return;
	}
	n = redact_string(r, arg, command_arg && (r->what & REDACT_ARGS), out);
	body_put(b, out, n - 1);
	free(out);
}

/* Replace the argv at B->data + AT (to the end) by its redacted form. */
static void redact_body_args(struct body *b, size_t at,
			     const struct redactor *r)
{
	char *out;

	if (b->failed || !r || !redactor_active(r))
		return;
	out = malloc(redact_room(b->len - at));
	if (!out) {
		b->failed = true;
		return;
	}
	size_t n = redact_args(r, b->data + at, b->len - at, out);
	b->len = at;
	body_put(b, out, n);
	free(out);
}

static int write_options(struct tape_writer *w, const struct meta_ctx *m)
{
	const struct rec_opts *o = m->opts;
	struct body b = {0};
	struct body args = {0};
	char groups[128];

	kv(&b, "version", TT_VERSION);
	for (int i = 0; i < o->argc; i++) {
		if (i)
			body_put(&args, " ", 1);
		put_redacted_arg(&args, m->redact, o->argv[i],
				 o->command && o->argv + i > o->command);
	}
	body_put(&args, "", 1);
	kv(&b, "argv", args.failed ? "" : args.data);
	free(args.data);
	kv(&b, "output", m->out_dir);
	rec_groups_name(o->groups, groups, sizeof(groups));
	kv(&b, "events", groups);
	kvf(&b, "duration", "%g", o->duration_s);
	for (int i = 0; i < o->npids; i++)
		kvf(&b, "pid", "%u", o->pids[i]);
	if (o->filter_uid)
		kvf(&b, "uid", "%u", o->uid);
	if (o->comm)
		kv(&b, "comm", o->comm);
	if (o->command)
		kv(&b, "command", o->command[0]);
	kv(&b, "bash", o->bash_path);
	kvf(&b, "segment_size", "%llu", (unsigned long long)o->segment_size);
	kvf(&b, "segment_time", "%g", o->segment_time_s);
	kvf(&b, "max_segments", "%u", o->max_segments);
	kvf(&b, "zstd_level", "%d", o->zstd_level);
	kvf(&b, "flush_interval_ms", "%u", o->flush_interval_ms);
	kvf(&b, "ring_size", "%llu", (unsigned long long)o->ring_size);
	kv(&b, "mechanism", rec_mechanism_name(o->mechanism));
	if (o->redact) {
		char what[32];

		rec_redact_name(o->redact, what, sizeof(what));
		kv(&b, "redact", what);
	}
	if (o->redact_regex)
		kv(&b, "redact_regex", o->redact_regex);
	return body_write(w, TT_REC_OPTIONS, &b);
}

static int write_probes(struct tape_writer *w, const struct probes *p)
{
	int rc = 0;

	for (int i = 0; i < p->nstatus && !rc; i++) {
		const struct probe_status *s = &p->status[i];
		struct body b = {0};

		kv(&b, "name", s->name);
		kv(&b, "mechanism", s->mechanism);
		kv(&b, "attached", s->attached ? "1" : "0");
		if (!s->attached)
			kv(&b, "error", s->error);
		if (s->note[0])
			kv(&b, "note", s->note);
		rc = body_write(w, TT_REC_PROBE, &b);
	}
	return rc;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

/* The three clocks read back to back; the tightest of a few tries. */
int meta_write_clock(struct tape_writer *w)
{
	struct tt_clock best = {0};
	uint64_t best_span = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		struct timespec b0, m, r, b1;
		uint64_t span;

		clock_gettime(CLOCK_BOOTTIME, &b0);
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_BOOTTIME, &b1);
		span = ts_ns(&b1) - ts_ns(&b0);
		if (span < best_span) {
			best_span = span;
			best.boottime_ns = ts_ns(&b0) + span / 2;
			best.monotonic_ns = ts_ns(&m);
			best.realtime_ns = ts_ns(&r);
		}
	}
	best.utc_offset = utc_offset_now();
	return tape_writer_append(w, TT_REC_CLOCK, best.boottime_ns, &best,
				  sizeof(best));
}

int meta_write_loadavg(struct tape_writer *w)
{
	char buf[256];
	double l1, l5, l15;
	unsigned running, threads, last;
	struct tt_loadavg la = {0};

	read_small("/proc/loadavg", buf, sizeof(buf));
	if (sscanf(buf, "%lf %lf %lf %u/%u %u", &l1, &l5, &l15, &running,
		   &threads, &last) != 6)
		return 0; /* no /proc: nothing to sample */
	la.load1 = l1 * 100 + 0.5;
	la.load5 = l5 * 100 + 0.5;
	la.load15 = l15 * 100 + 0.5;
	la.nr_running = running;
	la.nr_threads = threads;
	la.last_pid = last;
	return tape_writer_append(w, TT_REC_LOADAVG, meta_boot_ns(), &la,
				  sizeof(la));
}

/* Read all of a /proc file (cmdline can be long). */
static ssize_t read_all(const char *path, struct body *out)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		body_put(out, buf, n);
		total += n;
	}
	close(fd);
	return total;
}

/* ppid and start time (boot ns) from /proc/PID/stat. */
static int proc_stat(const char *pid, uint32_t *ppid, uint64_t *start_ns)
{
	char path[64], buf[1024];
	const char *p;
	unsigned long long start;
	int ppid_i;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	read_small(path, buf, sizeof(buf));
	p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (!p || sscanf(p + 2,
			 "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			 "%*d %*d %*d %*d %*d %*d %llu",
			 &ppid_i, &start) != 2)
		return -1;
	*ppid = ppid_i;
	*start_ns = start * (1000000000ull / sysconf(_SC_CLK_TCK));
	return 0;
}

static uint32_t proc_uid(const char *pid)
{
	char path[64], buf[4096];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	read_small(path, buf, sizeof(buf));
	p = strstr(buf, "\nUid:");
	return p ? strtoul(p + 5, NULL, 10) : 0;
}

static int write_proc(struct tape_writer *w, const char *pid,
		      const struct redactor *redact)
{
	struct tt_proc pr = {0};
	struct body b = {0};
	char path[64], exe[PATH_MAX], comm[64];
	ssize_t n;

	uint64_t start_ts;

	if (proc_stat(pid, &pr.ppid, &start_ts))
		return 0; /* gone meanwhile */
	pr.start_ts = start_ts;
	pr.pid = strtoul(pid, NULL, 10);
	pr.uid = proc_uid(pid);
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	read_small(path, comm, sizeof(comm));
	memcpy(pr.comm, comm, strnlen(comm, sizeof(pr.comm) - 1));
	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	pr.exe_len = n > 0 ? n + 1 : 0;
	body_put(&b, &pr, sizeof(pr));
	if (pr.exe_len)
		body_put(&b, exe, pr.exe_len);
	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	size_t args_at = b.len;
	n = read_all(path, &b);
	if (n > 0 && b.data[b.len - 1] != 0)
		body_put(&b, "", 1); /* cmdline rewritten without a NUL */
	redact_body_args(&b, args_at, redact);
	if (!b.failed) {
		struct tt_proc *fixed = (struct tt_proc *)b.data;

		fixed->args_len = b.len - args_at;
		for (size_t i = args_at; i < b.len; i++)
			fixed->argc += b.data[i] == 0;
	}
	return body_write(w, TT_REC_PROC, &b);
}

static int write_procs(struct tape_writer *w, const struct redactor *redact)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int rc = 0;

	if (!d)
		return 0;
	while (!rc && (de = readdir(d))) {
		if (isdigit((unsigned char)de->d_name[0]))
			rc = write_proc(w, de->d_name, redact);
	}
	closedir(d);
	return rc;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] &&
		    s[3]) {
			*out++ = (char)strtol((char[]){s[1], s[2], s[3], 0},
					      NULL, 8);
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = 0;
}

static int write_mount_line(struct tape_writer *w, char *line)
{
	unsigned major, minor;
	char point[4096], fstype[256], source[4096];
	struct tt_mount m = {0};
	struct body b = {0};
	const char *sep = strstr(line, " - ");

	if (!sep ||
	    sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, point) !=
		    3 ||
	    sscanf(sep + 3, "%255s %4095s", fstype, source) != 2)
		return 0;
	unescape(point);
	unescape(source);
	m.dev = ((uint64_t)major << 20) | minor;
	m.point_len = strlen(point) + 1;
	m.fstype_len = strlen(fstype) + 1;
	m.source_len = strlen(source) + 1;
	body_put(&b, &m, sizeof(m));
	body_put(&b, point, m.point_len);
	body_put(&b, fstype, m.fstype_len);
	body_put(&b, source, m.source_len);
	return body_write(w, TT_REC_MOUNT, &b);
}

/* Call WRITE_LINE on each line of PATH until one fails; a file that
 * cannot be opened is skipped (its records are optional). */
static int write_each_line(struct tape_writer *w, const char *path,
			   int (*write_line)(struct tape_writer *, char *))
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return 0;
	while (!rc && getline(&line, &cap, f) > 0)
		rc = write_line(w, line);
	free(line);
	fclose(f);
	return rc;
}

/* One /etc/passwd line "name:x:uid:..." as a TT_REC_USER. */
static int write_user_line(struct tape_writer *w, char *line)
{
	char *name = line, *colon = strchr(line, ':');
	char *uid_field = colon ? strchr(colon + 1, ':') : NULL;
	struct tt_user u = {0};
	struct body b = {0};

	if (!uid_field)
		return 0;
	*colon = 0;
	u.uid = strtoul(uid_field + 1, NULL, 10);
	u.name_len = strlen(name) + 1;
	body_put(&b, &u, sizeof(u));
	body_put(&b, name, u.name_len);
	return body_write(w, TT_REC_USER, &b);
}

int meta_segment_start(struct tape_writer *w, void *ctx)
{
	const struct meta_ctx *m = ctx;
	int rc;

	rc = write_host(w);
	if (!rc)
		rc = write_options(w, m);
	if (!rc)
		rc = write_probes(w, m->probes);
	if (!rc)
		rc = meta_write_clock(w);
	/* a load sample in every segment: replayed filetop's first heading
	 * has one even when its window starts right after a segment start */
	if (!rc)
		rc = meta_write_loadavg(w);
	if (!rc)
		rc = write_procs(w, m->redact);
	if (!rc)
		rc = write_each_line(w, "/proc/self/mountinfo",
				     write_mount_line);
	if (!rc)
		rc = write_each_line(w, "/etc/passwd", write_user_line);
	return rc;
}
