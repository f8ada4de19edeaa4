/* SPDX-License-Identifier: MIT */
/*
 * export_csv.c - `tracetape export --format csv`: one line per event
 * record, loss record and piece of damage, after a header line.
 *
 * RFC 4180: lines end with CRLF; a field holding a comma, a double
 * quote, CR or LF is put in double quotes with its quotes doubled.
 * Fields carry the recorded bytes unchanged (a path with a newline
 * stays one field): a CSV is data for a CSV reader, not for a
 * terminal, so nothing is escaped the way the text analyses escape.
 * Columns that do not apply to a type are empty.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

static const char header[] =
	"time,ts_ns,type,pid,tid,uid,comm,syscall,ret,path,bytes_read,"
	"bytes_written,reads,writes,argv,line,path2,lost,cpu,detail\r\n";

/* argv joined, at most this long (the recorder reads up to 128 KiB). */
#define ARGV_MAX (256u << 10)

struct csv {
	char *argv; /* ARGV_MAX bytes */
	struct export_files *files;
	struct export_event ev;
};

void export_csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs_unlocked(s, f);
		return;
	}
	putc_unlocked('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc_unlocked('"', f);
		putc_unlocked(*s, f);
	}
	putc_unlocked('"', f);
}

/* One line, column by column. */
struct row {
	FILE *f;
	int n;
};

static void col(struct row *r, const char *s)
{
	if (r->n++)
		putc_unlocked(',', r->f);
	export_csv_field(r->f, s);
}

static void col_uint(struct row *r, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	col(r, buf);
}

static void col_int(struct row *r, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	col(r, buf);
}

/* N empty columns. */
static void skip(struct row *r, int n)
{
	while (n-- > 0)
		col(r, "");
}

static void row_end(struct row *r)
{
	fputs_unlocked("\r\n", r->f);
}

/* time, ts_ns, type: the start of every line. */
static void row_begin(struct row *r, struct replay *rp, uint64_t ts,
		      const char *type)
{
	char iso[REPLAY_ISO_LEN];
	r->f = rp->out;
	r->n = 0;
	if (ts) {
		replay_fmt_iso(rp, ts, iso);
		col(r, iso);
		col_uint(r, ts);
	} else {
		skip(r, 2);
	}
	col(r, type);
}

static bool is_rw(const struct export_event *ev)
{
	return ev->type == TT_REC_RW;
}

static void put_event(struct csv *x, struct replay *rp,
		      const struct export_event *ev)
{
	struct row r;
	row_begin(&r, rp, ev->ts, replay_type_name(ev->type));
	col_uint(&r, ev->task.pid);
	col_uint(&r, ev->task.tid);
	col_uint(&r, ev->task.uid);
	col(&r, ev->comm);
	col(&r, ev->syscall);
	if (ev->has_ret)
		col_int(&r, ev->ret);
	else
		skip(&r, 1);
	col(&r, ev->path);
	if (is_rw(ev)) {
		col_uint(&r, ev->rbytes);
		col_uint(&r, ev->wbytes);
		col_uint(&r, ev->reads);
		col_uint(&r, ev->writes);
	} else {
		skip(&r, 4);
	}
	if (ev->type == TT_REC_EXEC) {
		replay_argv_shell_join(ev->args, ev->args_len, x->argv,
				       ARGV_MAX);
		col(&r, x->argv);
	} else {
		skip(&r, 1);
	}
	col(&r, ev->line ? ev->line : "");
	col(&r, ev->path2);
	skip(&r, 2);					/* lost, cpu */
	col(&r, ev->truncated ? "argv truncated" : ""); /* detail */
	row_end(&r);
}

static void put_loss(struct replay *rp, uint64_t ts, const struct tt_loss *l)
{
	struct row r;
	row_begin(&r, rp, ts, "loss");
	skip(&r, 14); /* pid .. path2 */
	col_uint(&r, l->count);
	if (l->cpu == TT_LOSS_CPU_ANY)
		skip(&r, 1);
	else
		col_uint(&r, l->cpu);
	col(&r, l->cause == TT_LOSS_SKIPPED ? "skipped probe runs"
					    : "ring buffer full");
	row_end(&r);
}

static int on_record(struct replay *rp, const struct tape_record *rec,
		     void *ctx)
{
	struct csv *x = ctx;
	struct tt_loss l;
	if (export_decode(rec, &x->ev, x->files) == 0)
		put_event(x, rp, &x->ev);
	else if (export_decode_loss(rec, &l) && l.count)
		put_loss(rp, rec->ts, &l);
	return 0;
}

static int start(struct replay *rp, void *ctx)
{
	(void)ctx;
	fputs(header, rp->out);
	return 0;
}

/* Damage is known once the reader has met it: lines at the end, timed
 * by the first record lost when the chunk header said. */
static int finish(struct replay *rp, void *ctx)
{
	(void)ctx;
	const struct tape_damage *d;
	size_t n = tape_reader_damage(rp->reader, &d);
	for (size_t i = 0; i < n; i++) {
		if (!replay_damage_in_window(rp, &d[i]))
			continue;
		struct row r;
		row_begin(&r, rp, d[i].first_ts, "damage");
		skip(&r, 6); /* pid .. ret */
		col(&r, d[i].segment);
		skip(&r, 7); /* bytes_read .. path2 */
		col_uint(&r, d[i].records_lost);
		skip(&r, 1);
		col(&r, d[i].what);
		row_end(&r);
	}
	return REPLAY_EXIT_OK;
}

int export_csv(struct replay_common *c, const struct export_opts *o,
	       const struct replay_env *env)
{
	(void)o;
	struct csv *x = malloc(sizeof(*x));
	char *argv = malloc(ARGV_MAX);
	struct export_files *files = export_files_new();
	int rc = REPLAY_EXIT_TROUBLE;
	if (x && argv && files) {
		x->argv = argv;
		x->files = files;
		struct replay_ops ops = {
			.start = start,
			.on_record = on_record,
			.finish = finish,
			.ctx = x,
			.flags = REPLAY_F_NO_PROCS | REPLAY_F_NEED_RECORDS,
		};
		c->analysis = "export";
		rc = replay_run(c, &ops, env);
	} else {
		fprintf(env->err, "%s export: out of memory\n", env->prog);
	}
	export_files_free(files);
	free(argv);
	free(x);
	return rc;
}
