/* SPDX-License-Identifier: MIT */
/*
 * filetop.c - `tracetape filetop`: reads and writes per thread and file,
 * printed as libbpf-tools filetop prints them, from TT_REC_RW records.
 *
 * Without INTERVAL one table covers the whole window.  With INTERVAL the
 * window is cut into INTERVAL seconds of recorded time, counted from the
 * window's start, and each slice gets its own table headed by the
 * recorded clock time and the load average sampled last at or before the
 * slice's end, as the live tool's screen shows them.
 *
 * The hot path is one hash lookup per record: the table is keyed by
 * (tid, dev, ino), allocates nothing once it has grown to the largest
 * slice, and is emptied between slices by clearing its small index.
 */
#include "replay.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILETOP_ROWS_DEFAULT 20
#define FILETOP_ROWS_MAX     10240 /* the live tool's cap */

enum filetop_sort {
	SORT_ALL,
	SORT_READS,
	SORT_WRITES,
	SORT_RBYTES,
	SORT_WBYTES
};

static const char *const sort_names[] = {"all", "reads", "writes", "rbytes",
					 "wbytes"};

struct filetop_opts {
	bool all_files; /* -a: sockets, pipes, devices too */
	enum filetop_sort sort;
	uint64_t rows;
	uint64_t pid;	      /* 0 = all */
	uint64_t interval_ns; /* 0 = one table for the window */
	uint64_t count;	      /* tables to print; 0 = no limit */
};

/* One (thread, file) in the current slice. */
struct ft_entry {
	uint64_t dev, ino;
	uint64_t reads, writes, rbytes, wbytes;
	uint32_t tid, pid, uid;
	uint32_t name_off;
	char type; /* 'R' regular, 'S' socket, 'O' other */
	char comm[TT_COMM_LEN + 1];
};

/*
 * An index slot: 8 bytes, so the probed index stays in the L1 cache
 * while the entries it points to sit densely in their own array.
 */
struct ft_slot {
	uint32_t tag; /* high bits of the hash */
	uint32_t idx; /* entry index + 1; 0 = empty */
};

struct ft_table {
	struct ft_slot *index;
	size_t nslots; /* power of two, at least twice the entries */
	struct ft_entry *entries;
	size_t used, cap;
	char *names; /* dentry names of this slice, NUL-separated */
	size_t names_len, names_cap;
};

struct filetop {
	struct filetop_opts o;
	struct ft_table t;
	uint64_t origin;    /* boot ns where slice 0 starts */
	uint64_t slice_end; /* boot ns where the current slice ends */
	uint64_t last_ts;   /* newest record seen */
	uint64_t printed;   /* tables printed */
	bool have_loadavg;
	struct tt_loadavg load;
	bool started;
};

/* ------------------------------------------------------------------ */
/* The (tid, dev, ino) table                                           */

/* All three key fields folded, then murmur3's finaliser. */
static uint64_t ft_hash(uint32_t tid, uint64_t dev, uint64_t ino)
{
	uint64_t h = ino ^ (dev << 24) ^ ((uint64_t)tid << 40) ^ (tid >> 24);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static int ft_table_init(struct ft_table *t)
{
	t->nslots = 1024;
	t->index = calloc(t->nslots, sizeof(*t->index));
	t->cap = t->nslots / 2;
	t->entries = malloc(t->cap * sizeof(*t->entries));
	return t->index && t->entries ? 0 : -1;
}

static void ft_table_free(struct ft_table *t)
{
	free(t->index);
	free(t->entries);
	free(t->names);
}

/* Forget every entry (next slice); keeps the memory. */
static void ft_table_clear(struct ft_table *t)
{
	memset(t->index, 0, t->nslots * sizeof(*t->index));
	t->used = 0;
	t->names_len = 0;
}

static void ft_index_put(struct ft_slot *index, size_t nslots, uint64_t h,
			 uint32_t idx)
{
	size_t i = h & (nslots - 1);

	while (index[i].idx)
		i = (i + 1) & (nslots - 1);
	index[i].tag = (uint32_t)(h >> 32);
	index[i].idx = idx;
}

/* Double the index and the entry array. */
static int ft_table_grow(struct ft_table *t)
{
	size_t n = t->nslots * 2;
	struct ft_slot *index = calloc(n, sizeof(*index));
	struct ft_entry *entries =
		index ? realloc(t->entries, n / 2 * sizeof(*entries)) : NULL;

	if (!entries) {
		free(index);
		return -1;
	}
	t->entries = entries;
	t->cap = n / 2;
	for (size_t k = 0; k < t->used; k++) {
		const struct ft_entry *e = &entries[k];

		ft_index_put(index, n, ft_hash(e->tid, e->dev, e->ino),
			     (uint32_t)k + 1);
	}
	free(t->index);
	t->index = index;
	t->nslots = n;
	return 0;
}

static int ft_add_name(struct ft_table *t, const char *name, uint32_t *off)
{
	size_t len = strlen(name) + 1;

	if (t->names_len + len > t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap * 2 : 65536;
		char *p;

		while (cap < t->names_len + len)
			cap *= 2;
		p = realloc(t->names, cap);
		if (!p)
			return -1;
		t->names = p;
		t->names_cap = cap;
	}
	memcpy(t->names + t->names_len, name, len);
	*off = (uint32_t)t->names_len;
	t->names_len += len;
	return 0;
}

static char file_type(uint16_t mode)
{
	if (S_ISREG(mode))
		return 'R';
	if (S_ISSOCK(mode))
		return 'S';
	return 'O';
}

/* A new entry for F (hash H); its name comes from REC.  NULL: OOM. */
static struct ft_entry *ft_insert(struct ft_table *t, const struct tt_rw *f,
				  uint64_t h, const struct tape_record *rec)
{
	struct replay_rw rw;
	struct ft_entry *e;

	if (t->used == t->cap && ft_table_grow(t) < 0)
		return NULL;
	e = &t->entries[t->used];
	memset(e, 0, sizeof(*e));
	if (replay_decode_rw(rec, &rw) < 0)
		rw.name = "";
	if (ft_add_name(t, rw.name, &e->name_off) < 0)
		return NULL;
	e->tid = f->task.tid;
	e->pid = f->task.pid;
	e->uid = f->task.uid;
	e->dev = f->dev;
	e->ino = f->ino;
	e->type = file_type(f->i_mode);
	replay_task_comm(&f->task, e->comm);
	t->used++;
	ft_index_put(t->index, t->nslots, h, (uint32_t)t->used);
	return e;
}

/* The entry for F's (tid, dev, ino), created on first sight; NULL: OOM. */
static struct ft_entry *ft_lookup(struct ft_table *t, const struct tt_rw *f,
				  const struct tape_record *rec)
{
	uint64_t h = ft_hash(f->task.tid, f->dev, f->ino);
	uint32_t tag = (uint32_t)(h >> 32);
	size_t mask = t->nslots - 1;

	for (size_t i = h & mask; t->index[i].idx; i = (i + 1) & mask) {
		struct ft_entry *e;

		if (t->index[i].tag != tag)
			continue;
		e = &t->entries[t->index[i].idx - 1];
		if (e->ino == f->ino && e->tid == f->task.tid &&
		    e->dev == f->dev)
			return e;
	}
	return ft_insert(t, f, h, rec);
}

/* ------------------------------------------------------------------ */
/* Printing a table                                                    */

static uint64_t sort_value(const struct ft_entry *e, enum filetop_sort by)
{
	switch (by) {
	case SORT_READS:
		return e->reads;
	case SORT_WRITES:
		return e->writes;
	case SORT_RBYTES:
		return e->rbytes;
	case SORT_WBYTES:
		return e->wbytes;
	default:
		return e->reads + e->writes + e->rbytes + e->wbytes;
	}
}

/* Largest first; ties by tid, then file, so output is reproducible. */
static int compare_entries(const void *a, const void *b, void *ctx)
{
	const struct ft_entry *x = *(const struct ft_entry *const *)a;
	const struct ft_entry *y = *(const struct ft_entry *const *)b;
	enum filetop_sort by = *(const enum filetop_sort *)ctx;
	uint64_t vx = sort_value(x, by), vy = sort_value(y, by);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* The slice's entries sorted for printing; *n set.  NULL: none or OOM. */
static struct ft_entry **sorted_entries(struct filetop *ft, size_t *n)
{
	struct ft_table *t = &ft->t;
	struct ft_entry **v;
	size_t k = 0;

	*n = 0;
	if (!t->used)
		return NULL;
	v = malloc(t->used * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < t->used; i++)
		v[k++] = &t->entries[i];
	qsort_r(v, k, sizeof(*v), compare_entries, &ft->o.sort);
	*n = k;
	return v;
}

/* "0.10 0.20 0.30 2/345 6789", as /proc/loadavg reads. */
static void format_loadavg(const struct tt_loadavg *l, char *out, size_t size)
{
	snprintf(out, size, "%u.%02u %u.%02u %u.%02u %u/%u %u", l->load1 / 100,
		 l->load1 % 100, l->load5 / 100, l->load5 % 100,
		 l->load15 / 100, l->load15 % 100, l->nr_running, l->nr_threads,
		 l->last_pid);
}

/*
 * The live tool prints "%8s loadavg: %s\n" with the raw /proc/loadavg
 * contents, which end in a newline: hence the empty line after it.
 */
static void print_text_header(struct filetop *ft, struct replay *rp,
			      uint64_t ts)
{
	char hms[REPLAY_HMS_LEN], load[96];

	replay_fmt_hms(rp, ts, hms);
	if (ft->have_loadavg)
		format_loadavg(&ft->load, load, sizeof(load));
	else
		snprintf(load, sizeof(load), "N/A (not recorded)");
	fprintf(rp->out, "%8s loadavg: %s\n\n", hms, load);
	fprintf(rp->out, "%-7s %-16s %-6s %-6s %-7s %-7s %1s %s\n", "TID",
		"COMM", "READS", "WRITES", "R_Kb", "W_Kb", "T", "FILE");
}

static void print_text_row(struct filetop *ft, struct replay *rp,
			   const struct ft_entry *e)
{
	char comm[4 * TT_COMM_LEN + 1];

	replay_text_escape(e->comm, comm, sizeof(comm));
	fprintf(rp->out, "%-7u %-16s %-6llu %-6llu %-7llu %-7llu %c ", e->tid,
		comm, (unsigned long long)e->reads,
		(unsigned long long)e->writes,
		(unsigned long long)(e->rbytes / 1024),
		(unsigned long long)(e->wbytes / 1024), e->type);
	replay_text_write(rp->out, ft->t.names + e->name_off);
	fputc('\n', rp->out);
}

static void json_loadavg(struct replay_json *j, const struct tt_loadavg *l)
{
	replay_json_key(j, "loadavg");
	fprintf(j->f, "[%u.%02u,%u.%02u,%u.%02u]", l->load1 / 100,
		l->load1 % 100, l->load5 / 100, l->load5 % 100, l->load15 / 100,
		l->load15 % 100);
	replay_json_uint(j, "nr_running", l->nr_running);
	replay_json_uint(j, "nr_threads", l->nr_threads);
	replay_json_uint(j, "last_pid", l->last_pid);
}

static void print_json_header(struct filetop *ft, struct replay *rp,
			      uint64_t ts)
{
	struct replay_json j;

	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "interval");
	replay_json_uint(&j, "interval", ft->printed);
	replay_json_time(&j, rp, ts);
	if (ft->have_loadavg)
		json_loadavg(&j, &ft->load);
	replay_json_end(&j);
}

static void print_json_row(struct filetop *ft, struct replay *rp,
			   const struct ft_entry *e, uint64_t ts)
{
	struct replay_json j;
	char type[2] = {e->type, '\0'};

	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "file");
	replay_json_uint(&j, "interval", ft->printed);
	replay_json_time(&j, rp, ts);
	replay_json_uint(&j, "tid", e->tid);
	replay_json_uint(&j, "pid", e->pid);
	replay_json_uint(&j, "uid", e->uid);
	replay_json_str(&j, "comm", e->comm);
	replay_json_uint(&j, "reads", e->reads);
	replay_json_uint(&j, "writes", e->writes);
	replay_json_uint(&j, "rbytes", e->rbytes);
	replay_json_uint(&j, "wbytes", e->wbytes);
	replay_json_str(&j, "file_type", type);
	replay_json_uint(&j, "dev", e->dev);
	replay_json_uint(&j, "ino", e->ino);
	replay_json_str(&j, "file", ft->t.names + e->name_off);
	replay_json_end(&j);
}

/* Print the current slice as one table headed by time TS; then empty it. */
static int print_table(struct filetop *ft, struct replay *rp, uint64_t ts)
{
	size_t n;
	struct ft_entry **v = sorted_entries(ft, &n);

	if (!v && ft->t.used) {
		fprintf(rp->err,
			"tracetape filetop: %s: out of memory sorting "
			"%zu entries; try a shorter INTERVAL or -p\n",
			rp->tape, ft->t.used);
		return REPLAY_EXIT_TROUBLE;
	}
	if (n > ft->o.rows)
		n = ft->o.rows;
	if (rp->json)
		print_json_header(ft, rp, ts);
	else
		print_text_header(ft, rp, ts);
	for (size_t i = 0; i < n; i++) {
		if (rp->json)
			print_json_row(ft, rp, v[i], ts);
		else
			print_text_row(ft, rp, v[i]);
	}
	if (!rp->json)
		fputc('\n', rp->out);
	free(v);
	ft_table_clear(&ft->t);
	ft->printed++;
	return 0;
}

static bool count_reached(const struct filetop *ft)
{
	return ft->o.count && ft->printed >= ft->o.count;
}

/* ------------------------------------------------------------------ */
/* Replay callbacks                                                     */

static void start_slices(struct filetop *ft, struct replay *rp, uint64_t ts)
{
	ft->origin = rp->since_ts ? rp->since_ts : rp->tape_start_ts;
	if (!ft->origin || ft->origin > ts)
		ft->origin = ts;
	ft->slice_end = ft->origin + ft->o.interval_ns;
	ft->started = true;
}

/* Print every slice that ends at or before TS (empty ones too, as live). */
static int close_slices_before(struct filetop *ft, struct replay *rp,
			       uint64_t ts)
{
	while (ts >= ft->slice_end && !count_reached(ft)) {
		int err = print_table(ft, rp, ft->slice_end);

		if (err)
			return err;
		ft->slice_end += ft->o.interval_ns;
	}
	return 0;
}

/*
 * The hot path.  Only the fixed part is copied (a constant-size copy the
 * compiler inlines); the name is decoded when a new entry needs it.
 */
static int add_rw(struct filetop *ft, struct replay *rp,
		  const struct tape_record *rec)
{
	struct tt_rw f;
	struct ft_entry *e;

	if (rec->len >= sizeof(f))
		memcpy(&f, rec->body, sizeof(f));
	else if (rec->len >= sizeof(struct tt_task))
		tape_rec_fixed(rec, &f, sizeof(f));
	else
		return 0;
	if (ft->o.pid && f.task.pid != ft->o.pid)
		return 0;
	if (!ft->o.all_files && !S_ISREG(f.i_mode))
		return 0;
	e = ft_lookup(&ft->t, &f, rec);
	if (!e) {
		fprintf(rp->err,
			"tracetape filetop: %s: out of memory at %zu "
			"files in one interval; try a shorter "
			"INTERVAL or -p\n",
			rp->tape, ft->t.used);
		return REPLAY_EXIT_TROUBLE;
	}
	e->reads += f.reads;
	e->writes += f.writes;
	e->rbytes += f.rbytes;
	e->wbytes += f.wbytes;
	return 0;
}

static void take_loadavg(struct filetop *ft, const struct tape_record *rec)
{
	tape_rec_fixed(rec, &ft->load, sizeof(ft->load));
	ft->have_loadavg = true;
}

/*
 * Only events and load samples move the clock: other metadata (segment
 * starts, anchors) may be stamped outside the events' span.
 */
static bool moves_clock(const struct tape_record *rec)
{
	return rec->type < 0x1000 || rec->type == TT_REC_LOADAVG;
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct filetop *ft = ctx;
	int err;

	if (!moves_clock(rec))
		return 0;
	if (ft->o.interval_ns) {
		if (!ft->started)
			start_slices(ft, rp, rec->ts);
		/* A sample taken exactly at a slice's end belongs to it. */
		if (rec->type == TT_REC_LOADAVG && rec->ts == ft->slice_end)
			take_loadavg(ft, rec);
		err = close_slices_before(ft, rp, rec->ts);
		if (err)
			return err;
		if (count_reached(ft)) /* COUNT tables printed: done */
			return REPLAY_STOP;
	}
	ft->last_ts = rec->ts;
	if (rec->type == TT_REC_RW)
		return add_rw(ft, rp, rec);
	if (rec->type == TT_REC_LOADAVG)
		take_loadavg(ft, rec);
	return 0;
}

/* The first heading shows the last sample before the window, if any. */
static int start(struct replay *rp, void *ctx)
{
	struct filetop *ft = ctx;

	ft->have_loadavg = replay_loadavg_before_window(rp, &ft->load);
	return 0;
}

/*
 * The last table covers data up to the window's end, or up to the last
 * record when the window is open-ended; its heading says so.
 */
static int finish(struct replay *rp, void *ctx)
{
	struct filetop *ft = ctx;
	uint64_t end = ft->last_ts;

	if (rp->until_ts && rp->until_ts < UINT64_MAX &&
	    (!end || rp->until_ts > end))
		end = rp->until_ts;
	if (!end) /* no event in the window */
		end = rp->since_ts ? rp->since_ts : rp->tape_start_ts;
	if (ft->o.interval_ns) {
		if (!ft->started || count_reached(ft))
			return REPLAY_EXIT_OK;
		if (end > ft->slice_end)
			end = ft->slice_end;
	}
	return print_table(ft, rp, end);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static const char usage_text[] =
	"usage: tracetape filetop TAPE [INTERVAL [COUNT]] [OPTIONS]\n"
	"Reads and writes per thread and file, as libbpf-tools filetop.\n"
	"Without INTERVAL one table covers the whole window; with it, one\n"
	"table per INTERVAL seconds of recorded time (at most COUNT).\n"
	"  -a, --all          include special files (sockets, pipes, devices)\n"
	"  -s, --sort KEY     all (default), reads, writes, rbytes, wbytes\n"
	"  -r, --rows N       rows per table (default 20, at most 10240)\n"
	"  -p, --pid PID      only process PID\n"
	"  -C, --noclear      accepted for the live tool's habit; replay "
	"never clears\n";

static int parse_sort(const char *arg, enum filetop_sort *out)
{
	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]);
	     i++) {
		if (strcmp(arg, sort_names[i]) == 0) {
			*out = (enum filetop_sort)i;
			return 0;
		}
	}
	return -1;
}

static int parse_positive(const struct replay_env *env, const char *what,
			  const char *arg, uint64_t *out)
{
	if (replay_parse_range(arg, 1, UINT64_MAX, out))
		return replay_usage_error(env, "filetop",
					  "%s must be a whole number above 0, "
					  "not '%s'",
					  what, arg);
	return 0;
}

/* One option: 0, an exit code after a usage error, or -1 when OPT is
 * none of filetop's. */
static int parse_option(struct filetop_opts *o, int opt, const char *arg,
			const struct replay_env *env)
{
	switch (opt) {
	case 'a':
		o->all_files = true;
		return 0;
	case 'C':
		return 0;
	case 's':
		if (parse_sort(arg, &o->sort) < 0)
			return replay_usage_error(
				env, "filetop",
				"unknown sort key '%s' (all, reads, writes, "
				"rbytes, wbytes)",
				arg);
		return 0;
	case 'r':
		if (parse_positive(env, "-r ROWS", arg, &o->rows))
			return REPLAY_EXIT_TROUBLE;
		if (o->rows > FILETOP_ROWS_MAX)
			o->rows = FILETOP_ROWS_MAX;
		return 0;
	case 'p':
		return parse_positive(env, "-p PID", arg, &o->pid);
	default:
		return -1; /* not an option of filetop */
	}
}

/* TAPE [INTERVAL [COUNT]]: takes INTERVAL and COUNT, leaves TAPE. */
static int parse_positionals(struct filetop_opts *o, int *argc, char **argv,
			     const struct replay_env *env)
{
	int extra = *argc - optind - 1;
	uint64_t secs;

	if (extra > 2)
		return replay_usage_error(env, "filetop",
					  "too many arguments: '%s'",
					  argv[optind + 3]);
	if (extra >= 1) {
		if (parse_positive(env, "INTERVAL", argv[optind + 1], &secs))
			return REPLAY_EXIT_TROUBLE;
		if (secs > UINT64_MAX / 1000000000ull)
			return replay_usage_error(env, "filetop",
						  "INTERVAL '%s' is too large",
						  argv[optind + 1]);
		o->interval_ns = secs * 1000000000ull;
	}
	if (extra == 2 &&
	    parse_positive(env, "COUNT", argv[optind + 2], &o->count))
		return REPLAY_EXIT_TROUBLE;
	if (extra > 0)
		*argc -= extra;
	return 0;
}

int filetop_main(int argc, char **argv, const struct replay_env *env)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"all", no_argument, NULL, 'a'},
		{"sort", required_argument, NULL, 's'},
		{"rows", required_argument, NULL, 'r'},
		{"pid", required_argument, NULL, 'p'},
		{"noclear", no_argument, NULL, 'C'},
		{0}};
	struct replay_common c = {0};
	struct filetop ft = {.o = {.rows = FILETOP_ROWS_DEFAULT}};
	struct replay_ops ops = {.start = start,
				 .on_record = on_record,
				 .finish = finish,
				 .ctx = &ft,
				 .flags = REPLAY_F_NO_PROCS};
	int opt, err;

	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":as:r:p:Ch", longopts, NULL)) !=
	       -1) {
		if (replay_common_option(&c, opt, optarg))
			continue;
		err = parse_option(&ft.o, opt, optarg, env);
		if (err < 0)
			return replay_option_error(env, "filetop", opt, argv);
		if (err)
			return err;
	}
	if (c.help) {
		fprintf(env->out, "%s%s", usage_text, replay_common_help);
		return REPLAY_EXIT_OK;
	}
	err = parse_positionals(&ft.o, &argc, argv, env);
	if (!err)
		err = replay_common_finish(&c, argc, argv, "filetop", env);
	if (err)
		return err;
	if (ft_table_init(&ft.t) < 0) {
		fprintf(env->err, "tracetape filetop: out of memory\n");
		return REPLAY_EXIT_TROUBLE;
	}
	err = replay_run(&c, &ops, env);
	ft_table_free(&ft.t);
	return err;
}
