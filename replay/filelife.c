/* SPDX-License-Identifier: MIT */
/*
 * filelife.c - `tracetape filelife`: files created and deleted within the
 * tape, with their age, as libbpf-tools filelife prints them.
 *
 * A creation is a successful open whose file->f_mode has FMODE_CREATED
 * (the recorder reads it at open exit), so opening an existing file with
 * O_CREAT is not one.  Pending creations are kept by resolved absolute
 * path; a successful unlink of that path prints a row (the deleting
 * process, as the live tool does) and forgets it; a rename moves it (and
 * everything pending under a renamed directory).  --all also lists what
 * was created and never deleted, and deletions whose creation the tape
 * does not hold.
 */
#include "replay.h"
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define FL_PATH_MAX	   4096
#define FL_AT_REMOVEDIR	   0x200 /* unlinkat flag: an rmdir */
#define FL_RENAME_EXCHANGE 0x2

struct filelife_opts {
	uint64_t pid;	/* 0 = all: the creating process, as the live tool */
	bool full_path; /* -F */
	bool all;	/* --all */
};

/* A file created in the tape and not yet deleted. */
struct fl_pending {
	uint64_t ts;
	uint64_t seq; /* creation order, for --all's listing */
	struct tt_task task;
};

struct filelife {
	struct filelife_opts o;
	struct strmap *pending; /* resolved path -> struct fl_pending */
	uint64_t seq;
	bool header_done;
};

enum fl_status {
	FL_DELETED,
	FL_NOT_DELETED,
	FL_CREATION_UNKNOWN,
	FL_REPLACED, /* a rename put another file over it */
};

static const char *const status_names[] = {"deleted", "not_deleted",
					   "creation_not_recorded", "replaced"};
static const char *const status_marks[] = {"", " (not deleted)",
					   " (creation not recorded)",
					   " (replaced by rename)"};

/* One row to print. */
struct fl_row {
	enum fl_status status;
	uint64_t ts; /* deletion (or creation when not deleted) */
	const struct tt_task *task;	  /* who deleted (or created) */
	const struct fl_pending *created; /* NULL when unknown */
	const char *path;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static void print_header(struct filelife *fl, struct replay *rp)
{
	if (fl->header_done || rp->json)
		return;
	fprintf(rp->out, "%-8s %-6s %-16s %-7s %s\n", "TIME", "PID", "COMM",
		"AGE(s)", "FILE");
	fl->header_done = true;
}

static void print_text_row(struct filelife *fl, struct replay *rp,
			   const struct fl_row *r)
{
	char hms[REPLAY_HMS_LEN], comm[TT_COMM_LEN + 1];
	char ecomm[4 * TT_COMM_LEN + 1], age[32];

	replay_fmt_hms(rp, r->ts, hms);
	replay_task_comm(r->task, comm);
	replay_text_escape(comm, ecomm, sizeof(ecomm));
	if (r->status == FL_CREATION_UNKNOWN)
		snprintf(age, sizeof(age), "?");
	else if (r->status == FL_NOT_DELETED)
		snprintf(age, sizeof(age), "-");
	else
		snprintf(age, sizeof(age), "%.2f",
			 (double)(r->ts - r->created->ts) / 1e9);
	fprintf(rp->out, "%-8s %-6u %-16s %-7s ", hms, r->task->pid, ecomm,
		age);
	replay_text_write(rp->out,
			  fl->o.full_path ? r->path : base_name(r->path));
	fprintf(rp->out, "%s\n", status_marks[r->status]);
}

static void print_json_row(struct replay *rp, const struct fl_row *r)
{
	struct replay_json j;
	char comm[TT_COMM_LEN + 1];

	replay_json_begin(&j, rp->out);
	replay_json_str(&j, "type", "filelife");
	replay_json_time(&j, rp, r->ts);
	replay_json_task(&j, r->task);
	replay_json_str(&j, "status", status_names[r->status]);
	if (r->created && r->status != FL_NOT_DELETED) {
		uint64_t age = r->ts - r->created->ts;

		replay_json_uint(&j, "age_ns", age);
		replay_json_key(&j, "age_s");
		fprintf(j.f, "%.9f", (double)age / 1e9);
	}
	if (r->created) {
		char iso[REPLAY_ISO_LEN];

		replay_fmt_iso(rp, r->created->ts, iso);
		replay_json_uint(&j, "created_ts_ns", r->created->ts);
		replay_json_str(&j, "created_time", iso);
		replay_json_uint(&j, "creator_pid", r->created->task.pid);
		replay_task_comm(&r->created->task, comm);
		replay_json_str(&j, "creator_comm", comm);
	}
	replay_json_str(&j, "file", base_name(r->path));
	replay_json_str(&j, "path", r->path);
	replay_json_end(&j);
}

static void print_row(struct filelife *fl, struct replay *rp,
		      const struct fl_row *r)
{
	print_header(fl, rp);
	if (rp->json)
		print_json_row(rp, r);
	else
		print_text_row(fl, rp, r);
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

static int out_of_memory(struct replay *rp)
{
	fprintf(rp->err,
		"tracetape filelife: %s: out of memory tracking created "
		"files; narrow the window with --since/--until or use -p\n",
		rp->tape);
	return REPLAY_EXIT_TROUBLE;
}

static size_t resolve(const char *dir, size_t dir_len, const char *path,
		      char out[FL_PATH_MAX])
{
	size_t n = replay_resolve_path(dir, dir_len, path, out, FL_PATH_MAX);

	return n < FL_PATH_MAX ? n : FL_PATH_MAX - 1;
}

static int on_open(struct filelife *fl, struct replay *rp,
		   const struct tape_record *rec,
		   const struct replay_file_op *op)
{
	char path[FL_PATH_MAX];
	size_t len;
	struct fl_pending *p;

	if (op->f.ret < 0 || !(op->f.fmode & TT_FMODE_CREATED))
		return 0;
	if (fl->o.pid && op->f.task.pid != fl->o.pid)
		return 0;
	len = resolve(op->dir, op->dir_len, op->path, path);
	p = strmap_get(fl->pending, path, len, NULL);
	if (!p)
		return out_of_memory(rp);
	p->ts = rec->ts;
	p->seq = fl->seq++;
	p->task = op->f.task;
	return 0;
}

static int on_unlink(struct filelife *fl, struct replay *rp,
		     const struct tape_record *rec,
		     const struct replay_file_op *op)
{
	char path[FL_PATH_MAX];
	size_t len;
	struct fl_pending *p, copy;
	struct fl_row r = {.ts = rec->ts, .task = &op->f.task, .path = path};

	if (op->f.ret != 0 || op->f.syscall == TT_SYS_RMDIR ||
	    (op->f.syscall == TT_SYS_UNLINKAT &&
	     (op->f.flags & FL_AT_REMOVEDIR)))
		return 0;
	len = resolve(op->dir, op->dir_len, op->path, path);
	p = strmap_find(fl->pending, path, len);
	if (p) {
		copy = *p;
		strmap_remove(fl->pending, path, len);
		r.status = FL_DELETED;
		r.created = &copy;
		print_row(fl, rp, &r);
	} else if (fl->o.all && (!fl->o.pid || op->f.task.pid == fl->o.pid)) {
		r.status = FL_CREATION_UNKNOWN;
		print_row(fl, rp, &r);
	}
	return 0;
}

/* Move the pending entry at FROM (if any) to TO. */
static int move_pending(struct filelife *fl, struct replay *rp,
			const char *from, size_t from_len, const char *to,
			size_t to_len)
{
	struct fl_pending *p = strmap_find(fl->pending, from, from_len);
	struct fl_pending copy, *q;

	if (!p)
		return 0;
	copy = *p;
	strmap_remove(fl->pending, from, from_len);
	q = strmap_get(fl->pending, to, to_len, NULL);
	if (!q)
		return out_of_memory(rp);
	*q = copy;
	return 0;
}

static bool is_below(const struct strmap_entry *e, const char *dir,
		     size_t dir_len)
{
	return e->len > dir_len && e->key[dir_len] == '/' &&
	       memcmp(e->key, dir, dir_len) == 0;
}

/*
 * A renamed directory carries the pending files below it along.  The
 * keys to move are copied out first: moving changes the map.
 */
static int move_children(struct filelife *fl, struct replay *rp,
			 const char *from, size_t from_len, const char *to,
			 size_t to_len)
{
	size_t n = strmap_count(fl->pending), k = 0;
	struct strmap_entry *all = strmap_entries(fl->pending);
	char **keys = all ? calloc(n, sizeof(*keys)) : NULL;
	char dst[FL_PATH_MAX];
	int err = 0;

	if (!keys) {
		free(all);
		return n ? out_of_memory(rp) : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (is_below(&all[i], from, from_len))
			keys[k++] = strdup(all[i].key);
	free(all);
	for (size_t i = 0; i < k; i++) {
		int m = keys[i] ? snprintf(dst, sizeof(dst), "%.*s%s",
					   (int)to_len, to, keys[i] + from_len)
				: -1;

		if (m < 0)
			err = out_of_memory(rp);
		else if (!err && (size_t)m < sizeof(dst))
			err = move_pending(fl, rp, keys[i], strlen(keys[i]),
					   dst, (size_t)m);
		free(keys[i]);
	}
	free(keys);
	return err;
}

/* RENAME_EXCHANGE: the two paths swap whatever is pending at them. */
static int swap_pending(struct filelife *fl, struct replay *rp, const char *a,
			size_t a_len, const char *b, size_t b_len)
{
	struct fl_pending *pa = strmap_find(fl->pending, a, a_len);
	struct fl_pending *pb = strmap_find(fl->pending, b, b_len);
	struct fl_pending tmp;

	if (pa && pb) {
		tmp = *pa;
		*pa = *pb;
		*pb = tmp;
		return 0;
	}
	if (pa)
		return move_pending(fl, rp, a, a_len, b, b_len);
	if (pb)
		return move_pending(fl, rp, b, b_len, a, a_len);
	return 0;
}

/* A rename over a pending file ends that file's life. */
static void replaced(struct filelife *fl, struct replay *rp,
		     const struct tape_record *rec,
		     const struct replay_file_op *op, const char *to,
		     size_t to_len)
{
	struct fl_pending *over = strmap_find(fl->pending, to, to_len);
	struct fl_pending copy;
	struct fl_row r = {.status = FL_REPLACED,
			   .ts = rec->ts,
			   .task = &op->f.task,
			   .created = &copy,
			   .path = to};

	if (!over)
		return;
	copy = *over;
	strmap_remove(fl->pending, to, to_len);
	if (fl->o.all)
		print_row(fl, rp, &r);
}

static int on_rename(struct filelife *fl, struct replay *rp,
		     const struct tape_record *rec,
		     const struct replay_file_op *op)
{
	char from[FL_PATH_MAX], to[FL_PATH_MAX];
	size_t from_len, to_len;

	if (op->f.ret != 0)
		return 0;
	from_len = resolve(op->dir, op->dir_len, op->path, from);
	to_len = resolve(op->dir2, op->dir2_len, op->path2, to);
	if (op->f.flags & FL_RENAME_EXCHANGE)
		return swap_pending(fl, rp, from, from_len, to, to_len);
	replaced(fl, rp, rec, op, to, to_len);
	if (strmap_find(fl->pending, from, from_len))
		return move_pending(fl, rp, from, from_len, to, to_len);
	return move_children(fl, rp, from, from_len, to, to_len);
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct filelife *fl = ctx;
	struct replay_file_op op;

	if (rec->type != TT_REC_OPEN && rec->type != TT_REC_UNLINK &&
	    rec->type != TT_REC_RENAME)
		return 0;
	if (replay_decode_file_op(rec, &op) < 0)
		return 0;
	switch (rec->type) {
	case TT_REC_OPEN:
		return on_open(fl, rp, rec, &op);
	case TT_REC_UNLINK:
		return on_unlink(fl, rp, rec, &op);
	default:
		return on_rename(fl, rp, rec, &op);
	}
}

static int by_creation(const void *a, const void *b)
{
	const struct fl_pending *x = ((const struct strmap_entry *)a)->value;
	const struct fl_pending *y = ((const struct strmap_entry *)b)->value;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --all: what was created and is still there at the window's end. */
static int finish(struct replay *rp, void *ctx)
{
	struct filelife *fl = ctx;
	size_t n = strmap_count(fl->pending);
	struct strmap_entry *all;

	print_header(fl, rp);
	if (!fl->o.all || !n)
		return REPLAY_EXIT_OK;
	all = strmap_entries(fl->pending);
	if (!all)
		return out_of_memory(rp);
	qsort(all, n, sizeof(*all), by_creation);
	for (size_t i = 0; i < n; i++) {
		const struct fl_pending *p = all[i].value;
		struct fl_row r = {.status = FL_NOT_DELETED,
				   .ts = p->ts,
				   .task = &p->task,
				   .created = p,
				   .path = all[i].key};

		print_row(fl, rp, &r);
	}
	free(all);
	return REPLAY_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static const char usage_text[] =
	"usage: tracetape filelife TAPE [OPTIONS]\n"
	"Files created and deleted within the tape, with their age, as\n"
	"libbpf-tools filelife (TIME is the deletion, PID/COMM the deleter).\n"
	"  -p, --pid PID      only files created by process PID\n"
	"  -F, --full-path    print the resolved absolute path, not the name\n"
	"      --all          also files never deleted, deletions whose\n"
	"                     creation is not on the tape, files replaced by\n"
	"                     a rename\n";

enum { OPT_ALL = 0x2000 };

int filelife_main(int argc, char **argv, const struct replay_env *env)
{
	static const struct option longopts[] = {
		REPLAY_COMMON_LONGOPTS,
		{"pid", required_argument, NULL, 'p'},
		{"full-path", no_argument, NULL, 'F'},
		{"all", no_argument, NULL, OPT_ALL},
		{0}};
	struct replay_common c = {0};
	struct filelife fl = {0};
	struct replay_ops ops = {.on_record = on_record,
				 .finish = finish,
				 .ctx = &fl,
				 .flags = REPLAY_F_NO_PROCS};
	int opt, err;

	replay_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":p:Fh", longopts, NULL)) != -1) {
		if (replay_common_option(&c, opt, optarg))
			continue;
		switch (opt) {
		case 'p':
			if (replay_parse_range(optarg, 1, UINT32_MAX,
					       &fl.o.pid))
				return replay_usage_error(
					env, "filelife",
					"-p PID must be a process id, not "
					"'%s'",
					optarg);
			break;
		case 'F':
			fl.o.full_path = true;
			break;
		case OPT_ALL:
			fl.o.all = true;
			break;
		default:
			return replay_option_error(env, "filelife", opt, argv);
		}
	}
	if (c.help) {
		fprintf(env->out, "%s%s", usage_text, replay_common_help);
		return REPLAY_EXIT_OK;
	}
	err = replay_common_finish(&c, argc, argv, "filelife", env);
	if (err)
		return err;
	fl.pending = strmap_new(sizeof(struct fl_pending));
	if (!fl.pending) {
		fprintf(env->err, "tracetape filelife: out of memory\n");
		return REPLAY_EXIT_TROUBLE;
	}
	err = replay_run(&c, &ops, env);
	strmap_free(fl.pending);
	return err;
}
