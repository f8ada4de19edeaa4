/* SPDX-License-Identifier: MIT */
/*
 * export_decode.c - event records decoded once for every export format
 * (struct export_event), and the table of paths files were opened under
 * that lets reads and writes name their file's path.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "strmap.h"

/* ---- files ------------------------------------------------------- */

struct export_files {
	struct strmap *paths; /* (dev, ino) -> char * (malloc'd path) */
};

struct file_key {
	uint64_t dev, ino;
};

struct export_files *export_files_new(void)
{
	struct export_files *ft = calloc(1, sizeof(*ft));
	if (ft && !(ft->paths = strmap_new(sizeof(char *)))) {
		free(ft);
		ft = NULL;
	}
	return ft;
}

/* Free the paths and their map. */
static void files_drop(struct export_files *ft)
{
	struct strmap_entry *e = strmap_entries(ft->paths);
	size_t n = strmap_count(ft->paths);
	for (size_t i = 0; e && i < n; i++)
		free(*(char **)e[i].value);
	free(e);
	strmap_free(ft->paths);
	ft->paths = NULL;
}

void export_files_free(struct export_files *ft)
{
	if (!ft)
		return;
	if (ft->paths)
		files_drop(ft);
	free(ft);
}

/* Remember where a successful open found its inode. */
static void files_note(struct export_files *ft, const struct export_event *ev)
{
	if (!ft || !ft->paths || ev->ret < 0 || !ev->ino || ev->path[0] != '/')
		return;
	if (strmap_count(ft->paths) >= EXPORT_FILES_MAX) {
		/* start afresh (NULL when out of memory: no more paths) */
		files_drop(ft);
		ft->paths = strmap_new(sizeof(char *));
	}
	struct file_key k = {ev->dev, ev->ino};
	char *path = strdup(ev->path);
	char **slot =
		ft->paths ? strmap_get(ft->paths, &k, sizeof(k), NULL) : NULL;
	if (!path || !slot) {
		free(path);
		return;
	}
	free(*slot);
	*slot = path;
}

static const char *files_path(const struct export_files *ft, uint64_t dev,
			      uint64_t ino)
{
	struct file_key k = {dev, ino};
	char **slot =
		ft && ft->paths ? strmap_find(ft->paths, &k, sizeof(k)) : NULL;
	return slot ? *slot : NULL;
}

/* ---- decoding ---------------------------------------------------- */

static void decode_file_op(const struct tape_record *rec,
			   struct export_event *ev)
{
	struct replay_file_op op;
	replay_decode_file_op(rec, &op);
	ev->task = op.f.task;
	ev->syscall = replay_syscall_name(op.f.syscall);
	ev->has_ret = true;
	ev->ret = op.f.ret;
	ev->flags = op.f.flags;
	ev->mode = op.f.mode;
	ev->created = rec->type == TT_REC_OPEN &&
		      (op.f.fmode & TT_FMODE_CREATED) != 0;
	ev->dev = op.f.dev;
	ev->ino = op.f.ino;
	if (op.path[0])
		replay_resolve_path(op.dir, op.dir_len, op.path, ev->path,
				    sizeof(ev->path));
	if (op.path2[0])
		replay_resolve_path(op.dir2, op.dir2_len, op.path2, ev->path2,
				    sizeof(ev->path2));
}

static void decode_rw(const struct tape_record *rec, struct export_event *ev,
		      const struct export_files *files)
{
	struct replay_rw rw;
	replay_decode_rw(rec, &rw);
	const char *path = files_path(files, rw.f.dev, rw.f.ino);
	ev->dev = rw.f.dev;
	ev->ino = rw.f.ino;
	ev->task = rw.f.task;
	ev->syscall = replay_syscall_name(rw.f.syscall);
	ev->rbytes = rw.f.rbytes;
	ev->wbytes = rw.f.wbytes;
	ev->reads = rw.f.reads;
	ev->writes = rw.f.writes;
	ev->i_mode = rw.f.i_mode;
	snprintf(ev->path, sizeof(ev->path), "%s", path ? path : rw.name);
}

static void decode_exec(const struct tape_record *rec, struct export_event *ev)
{
	struct replay_exec ex;
	replay_decode_exec(rec, &ex);
	ev->task = ex.f.task;
	ev->syscall = replay_syscall_name(ex.f.syscall);
	ev->has_ret = true;
	ev->ret = ex.f.ret;
	ev->ppid = ex.f.ppid;
	ev->args = ex.args;
	ev->args_len = ex.args_len;
	ev->truncated = (ex.f.flags & TT_EXEC_TRUNCATED) != 0;
	snprintf(ev->path, sizeof(ev->path), "%s", ex.filename);
}

/* The small records: fork, exit, readline, tty. */
static void decode_other(const struct tape_record *rec, struct export_event *ev)
{
	switch (rec->type) {
	case TT_REC_FORK: {
		struct tt_fork f;
		tape_rec_fixed(rec, &f, sizeof(f));
		ev->task = f.task;
		ev->has_ret = true;
		ev->ret = f.child_pid;
		break;
	}
	case TT_REC_EXIT: {
		struct tt_exit x;
		tape_rec_fixed(rec, &x, sizeof(x));
		ev->task = x.task;
		ev->has_ret = true;
		ev->ret = x.exit_code;
		break;
	}
	case TT_REC_READLINE: {
		struct replay_readline rl;
		replay_decode_readline(rec, &rl);
		ev->task = rl.f.task;
		ev->line = rl.line;
		break;
	}
	case TT_REC_TTY: {
		struct tt_tty t;
		tape_rec_fixed(rec, &t, sizeof(t));
		ev->task = t.task;
		const char *tty =
			tape_rec_string(rec, sizeof(t), &t.tty_len, 1, 0);
		snprintf(ev->path, sizeof(ev->path), "%s", tty ? tty : "");
		break;
	}
	}
}

int export_decode(const struct tape_record *rec, struct export_event *ev,
		  struct export_files *files)
{
	if (rec->type < TT_REC_OPEN || rec->type > TT_REC_TTY ||
	    rec->len < sizeof(struct tt_task))
		return -1;
	ev->type = rec->type;
	ev->ts = rec->ts;
	ev->syscall = "";
	ev->has_ret = false;
	ev->ret = 0;
	ev->path[0] = ev->path2[0] = '\0';
	ev->flags = ev->mode = 0;
	ev->created = false;
	ev->dev = ev->ino = 0;
	ev->rbytes = ev->wbytes = 0;
	ev->reads = ev->writes = 0;
	ev->i_mode = 0;
	ev->args = NULL;
	ev->args_len = 0;
	ev->ppid = 0;
	ev->truncated = false;
	ev->line = NULL;
	switch (rec->type) {
	case TT_REC_OPEN:
		decode_file_op(rec, ev);
		files_note(files, ev);
		break;
	case TT_REC_UNLINK:
	case TT_REC_RENAME:
		decode_file_op(rec, ev);
		break;
	case TT_REC_RW:
		decode_rw(rec, ev, files);
		break;
	case TT_REC_EXEC:
		decode_exec(rec, ev);
		break;
	default:
		decode_other(rec, ev);
	}
	replay_task_comm(&ev->task, ev->comm);
	return 0;
}

bool export_decode_loss(const struct tape_record *rec, struct tt_loss *out)
{
	if (rec->type != TT_REC_LOSS ||
	    rec->len < offsetof(struct tt_loss, since_ts))
		return false;
	tape_rec_fixed(rec, out, sizeof(*out));
	return true;
}
