/* SPDX-License-Identifier: MIT */
/*
 * decode.c - turn record bodies into checked views: fixed part copied
 * (shorter, older bodies zero-filled), strings located and bounded so an
 * analysis never reads past a body, whatever the tape claims.
 */
#include <string.h>

#include "replay.h"

/*
 * The string of LEN bytes (NUL included) at *off in REC's body, or
 * FALLBACK when absent, overlong or not NUL-terminated.  Advances *off
 * past it either way, so later strings stay where the writer put them.
 */
static const char *take_string(const struct tape_record *rec, size_t *off,
			       size_t len, const char *fallback)
{
	size_t at = *off;
	*off += len;
	if (len == 0 || at > rec->len || len > rec->len - at)
		return fallback;
	const char *s = (const char *)rec->body + at;
	if (s[len - 1] != '\0')
		return fallback;
	return s;
}

/* Like take_string for a blob of several NUL-terminated strings; sets
 * *got to the bytes present (the blob may be cut by a short body). */
static const char *take_blob(const struct tape_record *rec, size_t *off,
			     size_t len, size_t *got)
{
	size_t at = *off;
	*off += len;
	*got = 0;
	if (len == 0 || at >= rec->len)
		return NULL;
	*got = len <= rec->len - at ? len : rec->len - at;
	return (const char *)rec->body + at;
}

int replay_decode_file_op(const struct tape_record *rec,
			  struct replay_file_op *op)
{
	if (rec->len < sizeof(struct tt_task))
		return -1;
	tape_rec_fixed(rec, &op->f, sizeof(op->f));
	size_t off = sizeof(op->f);
	op->path = take_string(rec, &off, op->f.path_len, "");
	op->dir = take_blob(rec, &off, op->f.dir_len, &op->dir_len);
	op->path2 = take_string(rec, &off, op->f.path2_len, "");
	op->dir2 = take_blob(rec, &off, op->f.dir2_len, &op->dir2_len);
	return 0;
}

int replay_decode_rw(const struct tape_record *rec, struct replay_rw *rw)
{
	if (rec->len < sizeof(struct tt_task))
		return -1;
	tape_rec_fixed(rec, &rw->f, sizeof(rw->f));
	size_t off = sizeof(rw->f);
	rw->name = take_string(rec, &off, rw->f.name_len, "");
	return 0;
}

int replay_decode_exec(const struct tape_record *rec, struct replay_exec *ex)
{
	if (rec->len < sizeof(struct tt_task))
		return -1;
	tape_rec_fixed(rec, &ex->f, sizeof(ex->f));
	size_t off = sizeof(ex->f);
	ex->filename = take_string(rec, &off, ex->f.filename_len, "");
	ex->args = take_blob(rec, &off, ex->f.args_len, &ex->args_len);
	return 0;
}

int replay_decode_readline(const struct tape_record *rec,
			   struct replay_readline *rl)
{
	if (rec->len < sizeof(struct tt_task))
		return -1;
	tape_rec_fixed(rec, &rl->f, sizeof(rl->f));
	size_t off = sizeof(rl->f);
	rl->line = take_string(rec, &off, rl->f.line_len, "");
	return 0;
}

const char *replay_next_string(const char *buf, size_t len, size_t *pos)
{
	if (!buf || *pos >= len)
		return NULL;
	const char *s = buf + *pos;
	const char *nul = memchr(s, '\0', len - *pos);
	if (!nul)
		return NULL;
	*pos = (size_t)(nul - buf) + 1;
	return s;
}

const struct tt_task *replay_record_task(const struct tape_record *rec)
{
	switch (rec->type) {
	case TT_REC_OPEN:
	case TT_REC_RW:
	case TT_REC_UNLINK:
	case TT_REC_RENAME:
	case TT_REC_EXEC:
	case TT_REC_FORK:
	case TT_REC_EXIT:
	case TT_REC_READLINE:
	case TT_REC_TTY:
		break;
	default:
		return NULL;
	}
	if (rec->len < sizeof(struct tt_task))
		return NULL;
	/* Bodies are 8-byte aligned and tt_task needs 4: read in place. */
	return (const struct tt_task *)rec->body;
}

void replay_task_comm(const struct tt_task *t, char out[TT_COMM_LEN + 1])
{
	memcpy(out, t->comm, TT_COMM_LEN);
	out[TT_COMM_LEN] = '\0';
}

/* ---- paths ------------------------------------------------------- */

/* Appends to a bounded buffer while counting the length needed. */
struct pathbuf {
	char *out;
	size_t size, len;
};

static void pb_put(struct pathbuf *pb, const char *s, size_t n)
{
	if (pb->len < pb->size) {
		size_t room = pb->size - pb->len;
		memcpy(pb->out + pb->len, s, n < room ? n : room);
	}
	pb->len += n;
}

/* Drop the last component ("/a/b" -> "/a", "/a" -> "/"). */
static void pb_pop(struct pathbuf *pb, size_t root_len)
{
	size_t keep = pb->len;
	while (keep > root_len && (keep > pb->size || pb->out[keep - 1] != '/'))
		keep--;
	if (keep > root_len)
		keep--; /* the slash before the component */
	pb->len = keep < root_len ? root_len : keep;
}

/* A relative path that is only ".." components so far ("..", "../..")? */
static bool ends_with_dotdot(const struct pathbuf *pb)
{
	size_t n = pb->len;
	if (n < 2 || n > pb->size)
		return false;
	return pb->out[n - 1] == '.' && pb->out[n - 2] == '.' &&
	       (n == 2 || pb->out[n - 3] == '/');
}

/* Add one component, applying "." and "..". */
static void pb_component(struct pathbuf *pb, const char *c, size_t n,
			 size_t root_len)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		if (root_len == 0 && ends_with_dotdot(pb))
			pb_put(pb, "/..", 3); /* "../.." stays */
		else if (pb->len > root_len)
			pb_pop(pb, root_len);
		else if (root_len == 0)
			pb_put(pb, "..", 2);
		return;
	}
	if (pb->len > root_len || (root_len == 0 && pb->len > 0))
		pb_put(pb, "/", 1);
	pb_put(pb, c, n);
}

/* Add every component of slash-separated S (N bytes). */
static void pb_components_n(struct pathbuf *pb, const char *s, size_t n,
			    size_t root_len)
{
	const char *end = s + n;
	while (s < end) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		size_t k = slash ? (size_t)(slash - s) : (size_t)(end - s);
		pb_component(pb, s, k, root_len);
		s += k;
		if (s < end)
			s++; /* the slash */
	}
}

static void pb_components(struct pathbuf *pb, const char *s, size_t root_len)
{
	pb_components_n(pb, s, strlen(s), root_len);
}

/* Add DIR's leaf-first components, root end first. */
static void pb_dir(struct pathbuf *pb, const char *dir, size_t dir_len)
{
	/* Walk backwards: the last string is the top-level directory. */
	size_t end = dir_len;
	while (end > 0 && dir[end - 1] == '\0')
		end--; /* trailing NULs: the last component's terminator */
	while (end > 0) {
		size_t start = end;
		while (start > 0 && dir[start - 1] != '\0')
			start--;
		/* A name has no slash, but a mount root may read as "/":
		 * split on slashes so that never doubles one. */
		pb_components_n(pb, dir + start, end - start, 1);
		end = start;
		while (end > 0 && dir[end - 1] == '\0')
			end--;
	}
}

static size_t pb_finish(struct pathbuf *pb)
{
	if (pb->size) {
		size_t nul = pb->len < pb->size ? pb->len : pb->size - 1;
		pb->out[nul] = '\0';
	}
	return pb->len;
}

size_t replay_dir_path(const char *dir, size_t dir_len, char *out, size_t outsz)
{
	struct pathbuf pb = {out, outsz, 0};
	pb_put(&pb, "/", 1);
	if (dir)
		pb_dir(&pb, dir, dir_len);
	return pb_finish(&pb);
}

size_t replay_resolve_path(const char *dir, size_t dir_len, const char *path,
			   char *out, size_t outsz)
{
	struct pathbuf pb = {out, outsz, 0};
	size_t root_len = 0;
	if (!path)
		path = "";
	if (path[0] == '/' || dir) {
		pb_put(&pb, "/", 1);
		root_len = 1;
	}
	if (path[0] != '/' && dir)
		pb_dir(&pb, dir, dir_len);
	pb_components(&pb, path, root_len);
	if (pb.len == 0)
		pb_put(&pb, ".", 1);
	return pb_finish(&pb);
}

/* ---- names ------------------------------------------------------- */

const char *replay_syscall_name(unsigned sc)
{
	static const char *const names[] = {
		[TT_SYS_OPEN] = "open",
		[TT_SYS_OPENAT] = "openat",
		[TT_SYS_OPENAT2] = "openat2",
		[TT_SYS_CREAT] = "creat",
		[TT_SYS_READ] = "read",
		[TT_SYS_WRITE] = "write",
		[TT_SYS_PREAD64] = "pread64",
		[TT_SYS_PWRITE64] = "pwrite64",
		[TT_SYS_READV] = "readv",
		[TT_SYS_WRITEV] = "writev",
		[TT_SYS_PREADV] = "preadv",
		[TT_SYS_PWRITEV] = "pwritev",
		[TT_SYS_PREADV2] = "preadv2",
		[TT_SYS_PWRITEV2] = "pwritev2",
		[TT_SYS_UNLINK] = "unlink",
		[TT_SYS_UNLINKAT] = "unlinkat",
		[TT_SYS_RMDIR] = "rmdir",
		[TT_SYS_RENAME] = "rename",
		[TT_SYS_RENAMEAT] = "renameat",
		[TT_SYS_RENAMEAT2] = "renameat2",
		[TT_SYS_EXECVE] = "execve",
		[TT_SYS_EXECVEAT] = "execveat",
		[TT_SYS_COPY_FILE_RANGE] = "copy_file_range",
		[TT_SYS_SENDFILE] = "sendfile",
		[TT_SYS_SPLICE] = "splice",
	};
	if (sc < sizeof(names) / sizeof(names[0]) && names[sc])
		return names[sc];
	return "unknown";
}

const char *replay_type_name(unsigned type)
{
	switch (type) {
	case TT_REC_OPEN:
		return "open";
	case TT_REC_RW:
		return "rw";
	case TT_REC_UNLINK:
		return "unlink";
	case TT_REC_RENAME:
		return "rename";
	case TT_REC_EXEC:
		return "exec";
	case TT_REC_FORK:
		return "fork";
	case TT_REC_EXIT:
		return "exit";
	case TT_REC_READLINE:
		return "readline";
	case TT_REC_TTY:
		return "tty";
	case TT_REC_HOST:
		return "host";
	case TT_REC_OPTIONS:
		return "options";
	case TT_REC_PROBE:
		return "probe";
	case TT_REC_CLOCK:
		return "clock";
	case TT_REC_LOSS:
		return "loss";
	case TT_REC_LOADAVG:
		return "loadavg";
	case TT_REC_PROC:
		return "proc";
	case TT_REC_MOUNT:
		return "mount";
	case TT_REC_USER:
		return "user";
	case TT_REC_SEGMENT:
		return "segment";
	}
	return "unknown";
}
