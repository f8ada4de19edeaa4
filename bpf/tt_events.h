/* SPDX-License-Identifier: MIT */
/*
 * tt_events.h - the record layouts of a tape, shared by the BPF programs
 * (bpf/), the recorder (record/), the format library (format/) and the
 * analyses (replay/).  docs/FORMAT.md describes the same bytes in prose.
 *
 * Every record on a tape is
 *
 *     struct tt_rec_hdr   16 bytes: type, flags, body length, timestamp
 *     body                body_len bytes, laid out as below per type
 *     padding             zero bytes up to the next multiple of 8
 *
 * All integers are little-endian.  Structures are only ever extended at
 * their end; a reader must accept a body longer than the structure it
 * knows (ignore the tail) and treat a shorter one as "field absent".
 *
 * Strings after a fixed part are NUL-terminated; each has a length field
 * in the fixed part counting its bytes including the NUL (0 = absent).
 * Strings follow the fixed part back to back in the order the length
 * fields are declared.
 */
#ifndef TT_EVENTS_H
#define TT_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TT_COMM_LEN 16

/* Record types.  1..0x0fff are kernel events, 0x1000..0x1fff metadata. */
enum tt_rec_type {
	TT_REC_OPEN = 1,     /* struct tt_file_op: open/openat/openat2/creat */
	TT_REC_RW = 2,	     /* struct tt_rw: read/write calls on one file */
	TT_REC_UNLINK = 3,   /* struct tt_file_op: unlink/unlinkat/rmdir */
	TT_REC_RENAME = 4,   /* struct tt_file_op: rename/renameat/renameat2 */
	TT_REC_EXEC = 5,     /* struct tt_exec: execve/execveat, ok or failed */
	TT_REC_FORK = 6,     /* struct tt_fork: a new process */
	TT_REC_EXIT = 7,     /* struct tt_exit: a process ended */
	TT_REC_READLINE = 8, /* struct tt_readline: a line typed into bash */
	TT_REC_TTY = 9,	     /* struct tt_tty: a task's controlling terminal */

	TT_REC_HOST = 0x1000, /* key=value strings: host identity */
	TT_REC_OPTIONS =
		0x1001, /* key=value strings: recorder version, options */
	TT_REC_PROBE =
		0x1002, /* key=value strings: one probe and its mechanism */
	TT_REC_CLOCK = 0x1003,	 /* struct tt_clock: clock anchor */
	TT_REC_LOSS = 0x1004,	 /* struct tt_loss: events lost on one CPU */
	TT_REC_LOADAVG = 0x1005, /* struct tt_loadavg: /proc/loadavg sample */
	TT_REC_PROC = 0x1006,	 /* struct tt_proc: process alive at snapshot */
	TT_REC_MOUNT = 0x1007,	 /* struct tt_mount: one mount point */
	TT_REC_USER = 0x1008,	 /* struct tt_user: uid -> user name */
	TT_REC_SEGMENT =
		0x1009, /* struct tt_segment_start: first record of a segment */
};

/* Header of every record. */
struct tt_rec_hdr {
	__u16 type;	/* enum tt_rec_type; unknown types are skipped */
	__u16 flags;	/* reserved, 0 */
	__u32 body_len; /* bytes of body that follow (without padding) */
	__u64 ts;	/* CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns) */
};

/* Who did it: the calling thread at the time of the event. */
struct tt_task {
	__u32 pid; /* thread group id (what ps calls PID) */
	__u32 tid; /* thread id */
	__u32 uid; /* real uid */
	__u32 reserved;
	char comm[TT_COMM_LEN]; /* thread name, NUL-padded */
};

/* Which system call produced a record (tt_file_op, tt_rw, tt_exec). */
enum tt_syscall {
	TT_SYS_OPEN = 1,
	TT_SYS_OPENAT,
	TT_SYS_OPENAT2,
	TT_SYS_CREAT,
	TT_SYS_READ,
	TT_SYS_WRITE,
	TT_SYS_PREAD64,
	TT_SYS_PWRITE64,
	TT_SYS_READV,
	TT_SYS_WRITEV,
	TT_SYS_PREADV,
	TT_SYS_PWRITEV,
	TT_SYS_PREADV2,
	TT_SYS_PWRITEV2,
	TT_SYS_UNLINK,
	TT_SYS_UNLINKAT,
	TT_SYS_RMDIR,
	TT_SYS_RENAME,
	TT_SYS_RENAMEAT,
	TT_SYS_RENAMEAT2,
	TT_SYS_EXECVE,
	TT_SYS_EXECVEAT,
	/* file-to-file copies: two tt_rw records, a read on the in file
	 * and a write on the out file (appended: values above are fixed) */
	TT_SYS_COPY_FILE_RANGE,
	TT_SYS_SENDFILE,
	TT_SYS_SPLICE,
};

#define TT_AT_FDCWD	 (-100)
#define TT_FMODE_CREATED 0x100000u /* file->f_mode bit: open created it */

/*
 * An operation on a path: TT_REC_OPEN, TT_REC_UNLINK, TT_REC_RENAME.
 * Strings after the fixed part, in this order:
 *   path   the path as the program passed it
 *   dir    when path is relative: the absolute directory it was resolved
 *          against (dirfd or cwd), as its components leaf first, each
 *          NUL-terminated ("b\0a\0" means /a/b); dir_len 1 ("\0") is "/"
 *   path2  rename only: the new path as passed
 *   dir2   rename only: as dir, for path2
 */
struct tt_file_op {
	struct tt_task task;
	__s64 ret;     /* fd (open) or 0, or -errno */
	__u64 dev;     /* open ok: kernel dev_t of the file (major<<20|minor) */
	__u64 ino;     /* open ok: inode number */
	__u32 flags;   /* open flags, unlinkat/renameat2 flags */
	__u32 mode;    /* open mode argument */
	__u32 fmode;   /* open ok: file->f_mode (TT_FMODE_CREATED) */
	__s32 dirfd;   /* dirfd argument, TT_AT_FDCWD for the cwd */
	__s32 dirfd2;  /* rename: newdirfd */
	__u16 syscall; /* enum tt_syscall */
	__u16 path_len;	 /* bytes of path incl. NUL */
	__u16 dir_len;	 /* bytes of dir, 0 when path is absolute or unknown */
	__u16 path2_len; /* rename: bytes of path2 */
	__u16 dir2_len;	 /* rename: bytes of dir2 */
	__u16 reserved;	 /* TT_FILE_DIR*_TRUNCATED bits */
};

/* tt_file_op.reserved bits: the directory walk was cut short (deeper than
 * the recorder walks), so dir / dir2 hold only the leaf-most components
 * and the resolved path is not complete. */
#define TT_FILE_DIR_TRUNCATED  0x1
#define TT_FILE_DIR2_TRUNCATED 0x2

/*
 * Reads and writes on one open file by one thread.  A record may sum
 * several calls (reads + writes > 1).  Failed calls are not counted.
 * Strings after the fixed part: name, the file's dentry name.
 */
struct tt_rw {
	struct tt_task task;
	__u64 dev;	/* kernel dev_t of the file's superblock */
	__u64 ino;	/* inode number */
	__u64 rbytes;	/* bytes read (sum of return values) */
	__u64 wbytes;	/* bytes written */
	__u32 reads;	/* successful read calls */
	__u32 writes;	/* successful write calls */
	__s32 fd;	/* descriptor used */
	__u16 i_mode;	/* inode mode: S_IFREG, S_IFSOCK, ... */
	__u16 syscall;	/* enum tt_syscall of the last call summed */
	__u16 name_len; /* bytes of name incl. NUL */
	__u16 reserved[3];
};

/*
 * A program execution.  ret 0: the exec succeeded and task is the new
 * image (comm already the new one).  ret < 0: failed, task is the caller.
 * Strings: filename (as passed to execve), then args: argv[0..argc-1]
 * back to back, each NUL-terminated (args_len bytes in all).
 */
#define TT_EXEC_TRUNCATED 0x1 /* argv was longer than the recorder reads */
struct tt_exec {
	struct tt_task task;
	__s64 ret;
	__u32 ppid;	    /* parent's thread group id */
	__u32 argc;	    /* number of strings in args */
	__u32 args_len;	    /* bytes of args */
	__u16 filename_len; /* bytes of filename incl. NUL */
	__u16 syscall;	    /* enum tt_syscall */
	__u32 flags;	    /* TT_EXEC_* */
	__u32 reserved;
};

/* A new process (not a new thread): task is the parent. */
struct tt_fork {
	struct tt_task task;
	__u32 child_pid;
	__u32 reserved;
};

/* A process's main thread exited. */
struct tt_exit {
	struct tt_task task;
	__s32 exit_code; /* wait(2) status: code << 8 | signal */
	__u32 reserved;
};

/* A line returned by bash's readline.  String after: line. */
struct tt_readline {
	struct tt_task task;
	__u32 line_len; /* bytes of line incl. NUL */
	__u32 reserved;
};

/*
 * TT_REC_HOST, TT_REC_OPTIONS, TT_REC_PROBE bodies are a sequence of
 * NUL-terminated "key=value" strings.  Keys are documented in FORMAT.md.
 */

/* Clock anchor: the three clocks read back to back.  Record ts = boottime. */
struct tt_clock {
	__u64 boottime_ns;
	__u64 monotonic_ns;
	__u64 realtime_ns; /* nanoseconds since the Unix epoch, UTC */
	__s32 utc_offset;  /* host local time minus UTC, seconds, at realtime */
	__u32 reserved;
};

/* Events the kernel side could not hand over (ring buffer full). */
struct tt_loss {
	__u32 cpu;	/* TT_LOSS_CPU_ANY when not known per CPU */
	__u32 cause;	/* enum tt_loss_cause (0 on older tapes) */
	__u64 count;	/* events lost on this CPU in [since_ts, ts] */
	__u64 since_ts; /* boot ns of the previous loss check */
};

/* Why events were lost. */
enum tt_loss_cause {
	/* the BPF side could not hand records over: ring buffer full, or
	 * (fexit) its CPU's scratch buffer held by a preempted program */
	TT_LOSS_RING = 0,
	/* the kernel skipped a run of a program because that program was
	 * already running on the CPU (recursion protection: with fexit, a
	 * preempted run; bpf_prog_info.recursion_misses), per program */
	TT_LOSS_SKIPPED = 1,
};

#define TT_LOSS_CPU_ANY 0xffffffffu

/* /proc/loadavg, loads times 100. */
struct tt_loadavg {
	__u32 load1, load5, load15;
	__u32 nr_running, nr_threads;
	__u32 last_pid;
};

/* A process alive when the snapshot was taken. Strings: exe, then args. */
struct tt_proc {
	__u32 pid, ppid, uid;
	__u32 argc;
	__u64 start_ts; /* boot ns the process started */
	char comm[TT_COMM_LEN];
	__u16 exe_len; /* bytes of exe incl. NUL */
	__u16 reserved;
	__u32 args_len; /* bytes of args (argv NUL-separated) */
};

/* One mount.  Strings: mount point, fs type, source. */
struct tt_mount {
	__u64 dev; /* kernel dev_t (major<<20|minor) */
	__u16 point_len, fstype_len, source_len, reserved;
};

/* uid -> name.  String: name. */
struct tt_user {
	__u32 uid;
	__u16 name_len;
	__u16 reserved;
};

/* First record of every segment. */
struct tt_segment_start {
	__u64 segment_seq;   /* same as the segment header's */
	__u64 events_before; /* event records written to earlier segments */
};

/*
 * A task's controlling terminal (appended).  tracetape-record writes one
 * in front of every TT_REC_READLINE, with the same ts, so a replay knows
 * which terminal each bash line was typed on.  String after: tty, the
 * terminal's name as ps(1) shows it: "pts/3" for a pseudo-terminal,
 * else the kernel's name, "tty1", "ttyS0".  No controlling terminal:
 * tty_len 0 and dev 0.
 */
struct tt_tty {
	struct tt_task task;
	__u64 dev;     /* kernel dev_t of the terminal (major<<20|minor) */
	__u16 tty_len; /* bytes of tty incl. NUL; 0 = no terminal */
	__u16 reserved[3];
};

#endif /* TT_EVENTS_H */
