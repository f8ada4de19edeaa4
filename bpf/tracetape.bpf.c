// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tracetape.bpf.c - the kernel side of tracetape-record.
 *
 * Every program builds one record exactly as it will lie on the tape
 * (struct tt_rec_hdr, body, zero padding to 8 bytes) in a per-CPU scratch
 * buffer, behind the records already staged there; a CPU's staged records
 * go to the ring buffer together, in one bpf_ringbuf_output() (see
 * STAGE_FLUSH).  The recorder appends the samples unchanged.
 *
 * The file system calls are hooked in one of two ways, chosen by the
 * recorder at run time: one sys_exit tracepoint program for every call
 * (tp_btf, or raw_tp; works on kernels without kprobes or fentry), or,
 * where the kernel allows fexit, one fexit program per call on its
 * syscall function.  Both read the arguments from the saved user
 * registers, still intact at exit, so no enter->exit map is needed.
 * sched_process_exec/fork/exit serve the process tree and a uretprobe on
 * bash's readline the command lines.
 *
 * Tracepoint programs run with preemption disabled, so the per-CPU
 * scratch buffer cannot be reused under our feet by another program on the
 * same CPU (the kernel also refuses to recurse into the same program); the
 * flush timer can interrupt them, hence the compare-and-swap on the stage.
 * fexit programs may be preempted: they claim a second per-CPU buffer
 * (see run_ctx).  The uretprobe may be preempted too: it reserves its
 * record in the ring.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tt_events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Scratch buffer: offsets are masked with SCRATCH_MASK and no single copy
 * is longer than SCRATCH_MASK + 1, so every access stays inside. */
#define SCRATCH_SIZE  65536
#define SCRATCH_MASK  0x7fff
#define PATH_MAX_LEN  4096
#define NAME_BUF      256
#define DIR_MAX_LEN   8192 /* bytes of a dir string before it is cut */
#define DIR_MAX_STEPS 2048 /* components plus mount crossings walked */
#define EXEC_ARGS_MAX 32768
#define EXEC_ARGV_MAX 64 /* failed exec: argv pointers read */
#define LINE_MAX_LEN  16384

/* tt_file_op.reserved bits: the dir (1) or dir2 (2) was cut short. */
#define TT_FILE_DIR_TRUNCATED  0x1
#define TT_FILE_DIR2_TRUNCATED 0x2

/* State of a walk from a dentry up to the root (see put_dir). */
struct dir_walk {
	struct dentry *dentry;
	struct mount *mnt;
	__u32 off;    /* where the next component goes in buf */
	__u32 start;  /* where the walk began */
	__u32 done;   /* reached the root */
	__u32 staged; /* the record is built in the stage */
};

/*
 * Records are built in a CPU's scratch buffer at the end of the records
 * already staged there, and handed to the ring buffer in batches: one
 * bpf_ringbuf_output() takes a spinlock with interrupts off, which costs
 * more than building a record on a paravirtualised host.  A batch goes
 * out when STAGE_FLUSH bytes wait, or STAGE_FLUSH_NS after its first
 * record (a per-CPU timer), whichever comes first.
 */
#define CLOCK_BOOTTIME_ID 7   /* <linux/time.h> CLOCK_BOOTTIME */
#define HEAD_SIZE	  256 /* bytes of a kernel object read_head copies */
#define STAGE_FLUSH	  8192
#define STAGE_FLUSH_NS	  4000000
#define BUF_SIZE	  (2 * SCRATCH_SIZE) /* stage + one largest record */

struct scratch {
	__u8 buf[BUF_SIZE];
	/* staged records: count << 32 | bytes; changed by compare-and-swap
	 * only, as the flush timer may interrupt a program on this CPU */
	__u64 stage;
	__u64 stage_at_build; /* stage when the record being built began */
	/* Kept in the map value rather than on the stack: the verifier
	 * then sees an unknown (masked) offset in every loop step, and
	 * checks the step once instead of once per possible offset. */
	struct dir_walk walk;
	__u64 emitted; /* records this CPU emitted: paces ring queries */
	/* the last answer of the traced-set lookup on this CPU */
	__u64 cached_gen;
	__u32 cached_tgid;
	__u32 cached_traced;
	/* The tt_rw record staged last on this CPU (see merge_rw): the
	 * stage right after it and where it begins, and what it counts. */
	__u64 rw_stage;
	__u64 rw_at;
	__u64 rw_file;
	__s64 rw_fd;
	__u32 rw_tid;
	__u32 rw_kind; /* syscall | TT_RW_WRITE_KIND for writes */
	/* set while merge_rw changes a staged record: the flush timer
	 * then waits rather than send it half-updated */
	__u32 updating;
	/* RUN_PREEMPTIBLE buffers: 1 while a program builds in it (64
	 * bits: the compare-and-swap of BPF's base instruction set) */
	__u64 claimed;
	/* the head of a struct file or inode, read in one call (see
	 * read_head); room for an 8-byte field at any offset below */
	__u8 head[HEAD_SIZE + 8];
};

/* The per-CPU flush timers (tp_btf programs only: the kernel refuses
 * maps holding timers to raw_tp and uprobe programs). */
struct flush_timer {
	struct bpf_timer timer;
	__u32 ready;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized: one per CPU */
	__type(key, __u32);
	__type(value, struct flush_timer);
} flush_timers SEC(".maps");

/* One scratch buffer per CPU, indexed by CPU number (a per-CPU array
 * value may not exceed 32 KiB); the recorder sets max_entries to the
 * number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the recorder */
} events SEC(".maps");

/* Failed ring buffer writes, per CPU: the recorder turns them into
 * TT_REC_LOSS records. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Thread group ids to trace (-p, and the -- COMMAND tree). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

/*
 * Kernel pointers that come out of maps or bpf_probe_read are plain numbers
 * to the verifier, so their fields are read with BPF_CORE_READ (one
 * bpf_probe_read_kernel each).  The bpf_rdonly_cast kfunc would allow
 * direct loads but exists only from Linux 6.2: the recorder must load on
 * older kernels too (Debian 12's 6.1 is checked by tests/vm/run.sh).
 */

/*
 * Bumped whenever the traced set changes (by BPF here and by the recorder
 * through the skeleton's bss): a per-CPU cached lookup is valid only for
 * the generation it was made in.
 */
__u64 traced_gen = 1;

/* Set by the recorder before load: the verifier prunes what is off. */
const volatile __u32 self_tgid = 0;
const volatile bool filter_uid = false;
const volatile __u32 target_uid = 0;
const volatile bool filter_comm = false;
/* NUL-padded by the recorder; aligned to compare it 8 bytes at a time */
const volatile char target_comm[TT_COMM_LEN] __attribute__((aligned(8))) = {};
const volatile bool filter_pids = false;
const volatile bool follow_children = false;
const volatile bool enable_open = true;
const volatile bool enable_rw = true;
const volatile bool enable_life = true;
const volatile bool enable_exec = true;
const volatile __u64 wakeup_bytes = 4 << 20;
/* batch records per CPU (tp_btf only: needs the flush timers) */
const volatile bool use_stage = false;
/* possible CPUs: scratch_map holds two buffers per CPU (see run_ctx) */
const volatile __u32 nr_cpus = 1;

/* x86_64 system call numbers. */
enum {
	NR_read = 0,
	NR_write = 1,
	NR_open = 2,
	NR_pread64 = 17,
	NR_pwrite64 = 18,
	NR_readv = 19,
	NR_writev = 20,
	NR_sendfile = 40,
	NR_execve = 59,
	NR_rename = 82,
	NR_rmdir = 84,
	NR_creat = 85,
	NR_unlink = 87,
	NR_openat = 257,
	NR_unlinkat = 263,
	NR_renameat = 264,
	NR_splice = 275,
	NR_preadv = 295,
	NR_pwritev = 296,
	NR_renameat2 = 316,
	NR_execveat = 322,
	NR_copy_file_range = 326,
	NR_preadv2 = 327,
	NR_pwritev2 = 328,
	NR_openat2 = 437,
};

/* The arguments and result of one system call, taken at its exit. */
struct sys_call {
	long nr;
	long ret;
	unsigned long arg[6];
};

/*
 * How the running program may use its CPU's scratch buffer.  Tracepoint
 * programs run with preemption off: nothing else builds a record on the
 * CPU meanwhile (but the flush timer may interrupt them).  fexit programs
 * may be preempted, and a program of another task on the same CPU may
 * then start: they use a second scratch buffer per CPU, claimed for the
 * whole program (see claim_scratch), and send records straight out.
 */
enum run_ctx {
	RUN_STAGED,	 /* tp_btf: preemption off, may batch (use_stage) */
	RUN_DIRECT,	 /* raw_tp: preemption off, straight to the ring */
	RUN_PREEMPTIBLE, /* fexit: own claimed buffer, straight to the ring */
};

static __always_inline bool is_staged(enum run_ctx rc)
{
	return rc == RUN_STAGED && use_stage;
}

static __always_inline struct scratch *scratch(enum run_ctx rc)
{
	__u32 key = bpf_get_smp_processor_id();

	if (rc == RUN_PREEMPTIBLE)
		key += nr_cpus;
	return bpf_map_lookup_elem(&scratch_map, &key);
}

/* Where the record being built lies: after the staged ones, or at 0. */
static __always_inline __u8 *record_buf(struct scratch *s, bool staged)
{
	return staged ? s->buf + ((__u32)s->stage_at_build & (STAGE_FLUSH - 1))
		      : s->buf;
}

static __always_inline void flush_stage(struct scratch *s);

/*
 * Start a record: the buffer to build it in.  STAGED is a constant true
 * in tp_btf programs and false elsewhere (direct output).
 */
static __always_inline __u8 *begin_record(enum run_ctx rc)
{
	struct scratch *s = scratch(rc);
	bool staged = is_staged(rc);

	if (!s)
		return NULL;
	if (staged) {
		if ((__u32)s->stage >= STAGE_FLUSH)
			flush_stage(s); /* not expected: flushed on commit */
		s->stage_at_build = s->stage;
	}
	s->walk.staged = staged;
	return record_buf(s, staged);
}

static __always_inline struct dir_walk *scratch_walk(enum run_ctx rc)
{
	struct scratch *s = scratch(rc);

	return s ? &s->walk : NULL;
}

static __always_inline void count_loss(__u64 records)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	/* atomic: a preemptible program may share the counter */
	if (n)
		__sync_fetch_and_add(n, records);
}

/* task->comm is NUL-padded too (the kernel sets it with strscpy_pad), so
 * two 8-byte compares tell equality without a helper call. */
static __always_inline bool comm_matches(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const __u64 *comm = (const __u64 *)task->comm;
	const volatile __u64 *want = (const volatile __u64 *)target_comm;

	return comm[0] == want[0] && comm[1] == want[1];
}

/*
 * Is TGID in the traced set?  A hash lookup per system call is a good
 * part of the hot path, so the last answer is kept per CPU: a busy
 * process asks again and again on the same CPU.
 */
static __always_inline bool is_traced(__u32 tgid, enum run_ctx rc)
{
	struct scratch *s = scratch(rc);
	__u64 gen = traced_gen;
	bool found;

	if (s && s->cached_tgid == tgid && s->cached_gen == gen)
		return s->cached_traced;
	found = bpf_map_lookup_elem(&traced, &tgid) != NULL;
	if (s) {
		s->cached_tgid = tgid;
		s->cached_gen = gen;
		s->cached_traced = found;
	}
	return found;
}

/* Does the current task pass the filters?  Cheapest checks first. */
static __always_inline bool wanted_in(bool cache, enum run_ctx rc)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == self_tgid)
		return false;
	if (filter_uid && (__u32)bpf_get_current_uid_gid() != target_uid)
		return false;
	if (filter_pids &&
	    !(cache ? is_traced(tgid, rc)
		    : bpf_map_lookup_elem(&traced, &tgid) != NULL))
		return false;
	if (filter_comm && !comm_matches())
		return false;
	return true;
}

#define wanted(rc) wanted_in(true, rc)

/*
 * Who is running, read straight from the task (plain loads: cheaper than
 * the pid, uid and comm helpers, which are calls each).  The kernel keeps
 * comm NUL-padded (set with strscpy_pad), so two 8-byte loads copy it.
 */
static __always_inline void fill_task(struct tt_task *t)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const __u64 *comm = (const __u64 *)task->comm;
	__u64 *out = (__u64 *)t->comm;

	t->pid = task->tgid;
	t->tid = task->pid;
	t->uid = task->cred->uid.val;
	t->reserved = 0;
	out[0] = comm[0];
	out[1] = comm[1];
}

/* Ring buffer flags: wake the recorder only when the ring is filling up
 * (it drains on a short timer otherwise).  Asking the ring how full it is
 * touches a shared cache line, so it is done for every 32nd output. */
static __always_inline __u64 wakeup_flags(struct scratch *s)
{
	if ((s->emitted++ & 31) == 0 &&
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Hand the staged records of S to the ring buffer.  Claims them with a
 * compare-and-swap first, so that the flush timer and a program on the
 * same CPU never both send them.
 */
static __always_inline void flush_stage(struct scratch *s)
{
	__u64 cur = s->stage;
	__u32 len = (__u32)cur & (BUF_SIZE - 1);

	if (!len || __sync_val_compare_and_swap(&s->stage, cur, 0) != cur)
		return;
	/* merge_rw must not match a later stage that happens to reach the
	 * same count and bytes */
	s->rw_stage = 0;
	if (bpf_ringbuf_output(&events, s->buf, len, wakeup_flags(s)))
		count_loss(cur >> 32);
}

#define FLUSH_RETRY_NS 100000

static int on_flush_timer(void *map, __u32 *key, struct flush_timer *ft)
{
	struct scratch *s = scratch(RUN_STAGED);

	/* the timer is pinned to its CPU: flush only that CPU's stage */
	if (!s || *key != bpf_get_smp_processor_id())
		return 0;
	if (s->updating) /* it interrupted merge_rw: come back soon */
		bpf_timer_start(&ft->timer, FLUSH_RETRY_NS,
				BPF_F_TIMER_CPU_PIN);
	else
		flush_stage(s);
	return 0;
}

static __always_inline void arm_flush_timer(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct flush_timer *ft = bpf_map_lookup_elem(&flush_timers, &cpu);

	if (!ft)
		return;
	if (!ft->ready) {
		bpf_timer_init(&ft->timer, &flush_timers, CLOCK_BOOTTIME_ID);
		bpf_timer_set_callback(&ft->timer, on_flush_timer);
		ft->ready = 1;
	}
	bpf_timer_start(&ft->timer, STAGE_FLUSH_NS, BPF_F_TIMER_CPU_PIN);
}

/*
 * Finish the record in BUF (header at 0, BODY_LEN body bytes written):
 * add it to the CPU's stage (STAGED) or hand it to the ring buffer.
 */
static __always_inline void emit(__u8 *buf, __u16 type, __u32 body_len,
				 enum run_ctx rc)
{
	struct tt_rec_hdr *hdr = (void *)buf;
	struct scratch *s = scratch(rc);
	bool staged = is_staged(rc);
	__u32 used = sizeof(*hdr) + body_len;
	__u32 size = (used + 7) & ~7u;
	__u64 old, new;

	if (!s || size >= SCRATCH_SIZE)
		return;
	size &= SCRATCH_SIZE -
		1; /* the same value, a bound the verifier sees */
	if (used < size) {
		/* zero the padding: keep the record's bytes of its last
		 * 8-byte word (little-endian: the low ones), clear the rest */
		__u64 *last =
			(__u64 *)(buf + ((size - 8) & (SCRATCH_SIZE - 1)));

		*last &= (1ull << ((used & 7) * 8)) - 1;
	}
	hdr->type = type;
	hdr->flags = 0;
	hdr->body_len = body_len;
	hdr->ts = bpf_ktime_get_boot_ns();
	if (staged) {
		old = s->stage_at_build;
		new = old + (1ull << 32) + size;
		if (__sync_val_compare_and_swap(&s->stage, old, new) == old) {
			if ((__u32)old == 0)
				arm_flush_timer();
			if ((__u32) new >= STAGE_FLUSH)
				flush_stage(s);
			return;
		}
		/* the timer flushed meanwhile: this record goes alone */
	}
	if (bpf_ringbuf_output(&events, buf, size, wakeup_flags(s)))
		count_loss(1);
}

/* The struct file behind descriptor FD of the current task, or NULL. */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(
		&f, sizeof(f),
		(void *)((unsigned long)fdt->fd + fd * sizeof(f)));
	return f;
}

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
}

/* bpf_loop callback: one step up, crossing a mount point if needed.
 * CTX points to the program's enum run_ctx. */
static long dir_step(__u32 i, void *ctx)
{
	struct scratch *s = scratch(*(enum run_ctx *)ctx);
	struct dentry *dentry, *root, *parent;
	struct dir_walk *w;
	struct mount *mnt;
	__u8 *buf;
	long n;

	if (!s)
		return 1;
	w = &s->walk;
	buf = record_buf(s, w->staged);
	dentry = w->dentry;
	mnt = w->mnt;
	root = BPF_CORE_READ(mnt, mnt.mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || !up) {
			w->done = 1;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (w->off - w->start > DIR_MAX_LEN - NAME_BUF)
		return 1;
	n = bpf_probe_read_kernel_str(buf + (w->off & SCRATCH_MASK), NAME_BUF,
				      BPF_CORE_READ(dentry, d_name.name));
	if (n <= 0)
		return 1;
	w->off += n;
	w->dentry = parent;
	return 0;
}

/*
 * Write the absolute path of DENTRY (on mount VFSMNT) at BUF + OFF as its
 * components leaf first, each NUL-terminated; "/" is one lone NUL.
 * Returns the bytes written; sets *TRUNCATED when the walk was cut short.
 */
static __always_inline __u32 put_dir(__u8 *buf, __u32 off,
				     struct dentry *dentry,
				     struct vfsmount *vfsmnt, bool *truncated,
				     enum run_ctx rc)
{
	struct dir_walk *w = scratch_walk(rc);
	__u32 end;

	if (!w)
		return 0;
	w->dentry = dentry;
	w->mnt = real_mount(vfsmnt);
	w->off = off;
	w->start = off;
	w->done = 0;
	bpf_loop(DIR_MAX_STEPS, dir_step, &rc, 0);
	*truncated = !w->done;
	end = w->off;
	if (end <= off) {
		buf[off & SCRATCH_MASK] = 0;
		return 1;
	}
	return end - off;
}

/* The directory a relative path given with DIRFD is resolved against. */
static __always_inline __u32 put_dirfd_dir(__u8 *buf, __u32 off, long dirfd,
					   bool *truncated, enum run_ctx rc)
{
	struct dentry *dentry;
	struct vfsmount *mnt;

	if ((int)dirfd == TT_AT_FDCWD) {
		struct task_struct *task = bpf_get_current_task_btf();

		dentry = task->fs->pwd.dentry;
		mnt = task->fs->pwd.mnt;
	} else {
		struct file *f = fd_file(dirfd);

		if (!f)
			return 0;
		dentry = BPF_CORE_READ(f, f_path.dentry);
		mnt = BPF_CORE_READ(f, f_path.mnt);
	}
	if (!dentry || !mnt)
		return 0;
	return put_dir(buf, off, dentry, mnt, truncated, rc);
}

/* Copy a user path string; returns its length with the NUL, 0 if none. */
static __always_inline __u32 put_user_path(__u8 *buf, __u32 off,
					   const char *upath)
{
	long n = bpf_probe_read_user_str(buf + (off & SCRATCH_MASK),
					 PATH_MAX_LEN, upath);
	return n > 0 ? n : 0;
}

/*
 * Path (and its dir when relative) of a file operation at BUF + *OFF.
 * Returns the path length; *DIR_LEN gets the dir length, and
 * TRUNCATED_BIT is set in *FLAGS when the dir walk was cut short.
 */
static __always_inline __u16 put_path_and_dir(__u8 *buf, __u32 *off,
					      const char *upath, long dirfd,
					      __u16 *dir_len, __u16 *flags,
					      __u16 truncated_bit,
					      enum run_ctx rc)
{
	__u32 path_len = put_user_path(buf, *off, upath);
	char first = buf[*off & SCRATCH_MASK];

	*off += path_len;
	*dir_len = 0;
	if (path_len > 1 && first != '/') {
		bool truncated = false;

		*dir_len = put_dirfd_dir(buf, *off, dirfd, &truncated, rc);
		*off += *dir_len;
		if (truncated)
			*flags |= truncated_bit;
	}
	return path_len;
}

/*
 * What the records say about an open file.  Each bpf_probe_read_kernel
 * costs a call and fault-handling set-up, so instead of one call per
 * field, the head of the struct file and of its inode are copied whole
 * (read_head) and the fields picked out at their CO-RE offsets: 3 calls
 * (file, inode, superblock) instead of 7.
 */
struct file_facts {
	struct dentry *dentry;
	__u64 dev, ino;
	__u32 f_mode;
	__u16 i_mode;
};

/* Copy the first END bytes of OBJ into S->head; false when END is past
 * HEAD_SIZE (a kernel whose layout puts a field further) or the read
 * failed: the caller then reads field by field. */
static __always_inline bool read_head(struct scratch *s, const void *obj,
				      __u32 end)
{
	if (end == 0 || end > HEAD_SIZE)
		return false;
	return bpf_probe_read_kernel(s->head, end, obj) == 0;
}

#define HEAD_AT(s, type, off) (*(type *)((s)->head + ((off) & (HEAD_SIZE - 1))))
#define MAX2(a, b)	      ((a) > (b) ? (a) : (b))

static __always_inline void file_facts(struct scratch *s, struct file *f,
				       struct file_facts *ff)
{
	__u32 o_inode = bpf_core_field_offset(struct file, f_inode);
	__u32 o_mode = bpf_core_field_offset(struct file, f_mode);
	__u32 o_dentry = bpf_core_field_offset(f->f_path.dentry);
	__u32 i_mode = bpf_core_field_offset(struct inode, i_mode);
	__u32 i_sb = bpf_core_field_offset(struct inode, i_sb);
	__u32 i_ino = bpf_core_field_offset(struct inode, i_ino);
	struct inode *inode;
	struct super_block *sb;

	if (read_head(s, f, MAX2(MAX2(o_inode, o_mode), o_dentry) + 8)) {
		inode = HEAD_AT(s, struct inode *, o_inode);
		ff->f_mode = HEAD_AT(s, __u32, o_mode);
		ff->dentry = HEAD_AT(s, struct dentry *, o_dentry);
	} else {
		inode = BPF_CORE_READ(f, f_inode);
		ff->f_mode = BPF_CORE_READ(f, f_mode);
		ff->dentry = BPF_CORE_READ(f, f_path.dentry);
	}
	if (read_head(s, inode, MAX2(MAX2(i_mode, i_sb), i_ino) + 8)) {
		ff->i_mode = HEAD_AT(s, __u16, i_mode);
		sb = HEAD_AT(s, struct super_block *, i_sb);
		ff->ino = HEAD_AT(s, __u64, i_ino);
	} else {
		ff->i_mode = BPF_CORE_READ(inode, i_mode);
		sb = BPF_CORE_READ(inode, i_sb);
		ff->ino = BPF_CORE_READ(inode, i_ino);
	}
	ff->dev = BPF_CORE_READ(sb, s_dev);
}

static __always_inline struct tt_file_op *
new_file_op(__u8 *buf, const struct sys_call *c, __u16 sys)
{
	struct tt_file_op *op = (void *)(buf + sizeof(struct tt_rec_hdr));

	__builtin_memset(op, 0, sizeof(*op));
	fill_task(&op->task);
	op->ret = c->ret;
	op->syscall = sys;
	op->dirfd = TT_AT_FDCWD;
	op->dirfd2 = TT_AT_FDCWD;
	return op;
}

#define FILE_OP_START (sizeof(struct tt_rec_hdr) + sizeof(struct tt_file_op))

static __always_inline void on_open(const struct sys_call *c, enum run_ctx rc)
{
	__u8 *buf = begin_record(rc);
	struct tt_file_op *op;
	const char *upath;
	__u32 off = FILE_OP_START;

	if (!buf)
		return;
	switch (c->nr) {
	case NR_open:
		op = new_file_op(buf, c, TT_SYS_OPEN);
		upath = (const char *)c->arg[0];
		op->flags = c->arg[1];
		op->mode = c->arg[2];
		break;
	case NR_creat:
		op = new_file_op(buf, c, TT_SYS_CREAT);
		upath = (const char *)c->arg[0];
		op->flags = 01 | 0100 | 01000; /* O_WRONLY|O_CREAT|O_TRUNC */
		op->mode = c->arg[1];
		break;
	case NR_openat:
		op = new_file_op(buf, c, TT_SYS_OPENAT);
		op->dirfd = c->arg[0];
		upath = (const char *)c->arg[1];
		op->flags = c->arg[2];
		op->mode = c->arg[3];
		break;
	default: { /* openat2 */
		struct open_how how = {};

		op = new_file_op(buf, c, TT_SYS_OPENAT2);
		op->dirfd = c->arg[0];
		upath = (const char *)c->arg[1];
		bpf_probe_read_user(&how, sizeof(how), (void *)c->arg[2]);
		op->flags = how.flags;
		op->mode = how.mode;
		break;
	}
	}
	/* The kernel reads mode only with O_CREAT or O_TMPFILE; otherwise the
	 * argument is whatever the register held: record 0, not noise. */
	if (!(op->flags & (00000100 | 020000000)))
		op->mode = 0;
	op->path_len =
		put_path_and_dir(buf, &off, upath, op->dirfd, &op->dir_len,
				 &op->reserved, TT_FILE_DIR_TRUNCATED, rc);
	if (c->ret >= 0) {
		struct file *f = fd_file(c->ret);

		struct scratch *s = scratch(rc);

		if (f && s) {
			struct file_facts ff;

			file_facts(s, f, &ff);
			op->fmode = ff.f_mode;
			op->dev = ff.dev;
			op->ino = ff.ino;
		}
	}
	emit(buf, TT_REC_OPEN, off - sizeof(struct tt_rec_hdr), rc);
}

static __always_inline void on_unlink(const struct sys_call *c, enum run_ctx rc)
{
	__u8 *buf = begin_record(rc);
	struct tt_file_op *op;
	const char *upath;
	__u32 off = FILE_OP_START;

	if (!buf)
		return;
	if (c->nr == NR_unlinkat) {
		op = new_file_op(buf, c, TT_SYS_UNLINKAT);
		op->dirfd = c->arg[0];
		upath = (const char *)c->arg[1];
		op->flags = c->arg[2];
	} else {
		op = new_file_op(buf, c,
				 c->nr == NR_rmdir ? TT_SYS_RMDIR
						   : TT_SYS_UNLINK);
		upath = (const char *)c->arg[0];
	}
	op->path_len =
		put_path_and_dir(buf, &off, upath, op->dirfd, &op->dir_len,
				 &op->reserved, TT_FILE_DIR_TRUNCATED, rc);
	emit(buf, TT_REC_UNLINK, off - sizeof(struct tt_rec_hdr), rc);
}

static __always_inline void on_rename(const struct sys_call *c, enum run_ctx rc)
{
	__u8 *buf = begin_record(rc);
	struct tt_file_op *op;
	const char *from, *to;
	__u32 off = FILE_OP_START;

	if (!buf)
		return;
	if (c->nr == NR_rename) {
		op = new_file_op(buf, c, TT_SYS_RENAME);
		from = (const char *)c->arg[0];
		to = (const char *)c->arg[1];
	} else {
		op = new_file_op(buf, c,
				 c->nr == NR_renameat ? TT_SYS_RENAMEAT
						      : TT_SYS_RENAMEAT2);
		op->dirfd = c->arg[0];
		from = (const char *)c->arg[1];
		op->dirfd2 = c->arg[2];
		to = (const char *)c->arg[3];
		if (c->nr == NR_renameat2)
			op->flags = c->arg[4];
	}
	op->path_len =
		put_path_and_dir(buf, &off, from, op->dirfd, &op->dir_len,
				 &op->reserved, TT_FILE_DIR_TRUNCATED, rc);
	op->path2_len =
		put_path_and_dir(buf, &off, to, op->dirfd2, &op->dir2_len,
				 &op->reserved, TT_FILE_DIR2_TRUNCATED, rc);
	emit(buf, TT_REC_RENAME, off - sizeof(struct tt_rec_hdr), rc);
}

static __always_inline __u16 rw_syscall(long nr, bool *is_write)
{
	*is_write = false;
	switch (nr) {
	case NR_read:
		return TT_SYS_READ;
	case NR_pread64:
		return TT_SYS_PREAD64;
	case NR_readv:
		return TT_SYS_READV;
	case NR_preadv:
		return TT_SYS_PREADV;
	case NR_preadv2:
		return TT_SYS_PREADV2;
	}
	*is_write = true;
	switch (nr) {
	case NR_write:
		return TT_SYS_WRITE;
	case NR_pwrite64:
		return TT_SYS_PWRITE64;
	case NR_writev:
		return TT_SYS_WRITEV;
	case NR_pwritev:
		return TT_SYS_PWRITEV;
	default:
		return TT_SYS_PWRITEV2;
	}
}

#define RW_START	 (sizeof(struct tt_rec_hdr) + sizeof(struct tt_rw))
#define TT_RW_WRITE_KIND 0x10000

/*
 * Add a call to the tt_rw record staged last on this CPU when that record
 * counts the same thread, descriptor, open file, system call and
 * direction, and nothing was staged or flushed since: no new record, no
 * clock read, no name copy for a run of reads or writes (the record keeps
 * the time of the first call; the stage leaves within STAGE_FLUSH_NS).
 * The flush timer may interrupt this program: UPDATING keeps it from
 * sending the record half-changed, and the stage is checked again after
 * UPDATING is set, as the timer may have sent it just before.
 */
static __always_inline bool merge_rw(struct scratch *s, __u32 tid, long fd,
				     struct file *f, __u32 kind, long ret)
{
	__u64 cur = s->stage;
	struct tt_rw *rw;

	if (cur != s->rw_stage || (__u32)cur <= (__u32)s->rw_at ||
	    s->rw_tid != tid || s->rw_fd != fd || s->rw_file != (__u64)f ||
	    s->rw_kind != kind)
		return false;
	s->updating = 1;
	asm volatile("" ::: "memory");
	if (*(volatile __u64 *)&s->stage != cur) {
		s->updating = 0;
		return false;
	}
	rw = (void *)(s->buf + ((__u32)s->rw_at & (STAGE_FLUSH - 1)) +
		      sizeof(struct tt_rec_hdr));
	/* a struct file freed and reused for another open of another
	 * file (the thread may have run elsewhere meanwhile) */
	if (rw->ino != BPF_CORE_READ(f, f_inode, i_ino)) {
		s->updating = 0;
		return false;
	}
	if (kind & TT_RW_WRITE_KIND) {
		rw->wbytes += ret;
		rw->writes++;
	} else {
		rw->rbytes += ret;
		rw->reads++;
	}
	asm volatile("" ::: "memory");
	s->updating = 0;
	return true;
}

/* Remember the tt_rw record just staged, for merge_rw. */
static __always_inline void note_rw(struct scratch *s, __u32 tid, long fd,
				    struct file *f, __u32 kind)
{
	s->rw_stage = s->stage;
	s->rw_at = s->stage_at_build;
	s->rw_file = (__u64)f;
	s->rw_fd = fd;
	s->rw_tid = tid;
	s->rw_kind = kind;
}

/* One tt_rw record: RET bytes read or written through FD by system call SYS. */
static __always_inline void put_rw(long fd, long ret, __u16 sys, bool is_write,
				   enum run_ctx rc)
{
	struct file *f = fd_file(fd);
	__u32 kind = sys | (is_write ? TT_RW_WRITE_KIND : 0);
	struct scratch *s = scratch(rc);
	bool staged = is_staged(rc);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct file_facts ff;
	struct dentry *dentry;
	struct tt_rw *rw;
	__u8 *buf;
	long n;

	if (!f || !s)
		return;
	if (staged && merge_rw(s, tid, fd, f, kind, ret))
		return;
	buf = begin_record(rc);
	if (!buf)
		return;
	rw = (void *)(buf + sizeof(struct tt_rec_hdr));
	__builtin_memset(rw, 0, sizeof(*rw));
	fill_task(&rw->task);
	rw->syscall = sys;
	if (is_write) {
		rw->wbytes = ret;
		rw->writes = 1;
	} else {
		rw->rbytes = ret;
		rw->reads = 1;
	}
	rw->fd = fd;
	file_facts(s, f, &ff);
	rw->dev = ff.dev;
	rw->ino = ff.ino;
	rw->i_mode = ff.i_mode;
	dentry = ff.dentry; /* a local: CO-RE relocates kernel types only */
	n = bpf_probe_read_kernel_str(buf + RW_START, NAME_BUF,
				      BPF_CORE_READ(dentry, d_name.name));
	rw->name_len = n > 0 ? n : 0;
	emit(buf, TT_REC_RW, sizeof(*rw) + rw->name_len, rc);
	if (staged)
		note_rw(s, tid, fd, f, kind);
}

static __always_inline void on_rw(const struct sys_call *c, enum run_ctx rc)
{
	bool is_write;
	__u16 sys = rw_syscall(c->nr, &is_write);

	put_rw(c->arg[0], c->ret, sys, is_write, rc);
}

/*
 * A copy between two descriptors inside the kernel (copy_file_range,
 * sendfile, splice): a read of RET bytes on the in file and a write of
 * RET bytes on the out file, so that per-file counts see e.g. cp(1).
 */
static __always_inline void on_copy(const struct sys_call *c, enum run_ctx rc)
{
	long in = c->arg[0], out = c->arg[2];
	__u16 sys = c->nr == NR_splice ? TT_SYS_SPLICE : TT_SYS_COPY_FILE_RANGE;

	if (c->nr == NR_sendfile) {
		in = c->arg[1];
		out = c->arg[0];
		sys = TT_SYS_SENDFILE;
	}
	put_rw(in, c->ret, sys, false, rc);
	put_rw(out, c->ret, sys, true, rc);
}

#define EXEC_START (sizeof(struct tt_rec_hdr) + sizeof(struct tt_exec))

static __always_inline struct tt_exec *new_exec(__u8 *buf)
{
	struct tt_exec *e = (void *)(buf + sizeof(struct tt_rec_hdr));
	struct task_struct *task = bpf_get_current_task_btf();

	__builtin_memset(e, 0, sizeof(*e));
	fill_task(&e->task);
	e->ppid = task->real_parent->tgid;
	return e;
}

/* A failed execve/execveat: filename and argv from the caller's memory. */
static __always_inline void on_failed_exec(const struct sys_call *c,
					   enum run_ctx rc)
{
	__u8 *buf = begin_record(rc);
	const char *const *argv;
	const char *filename;
	struct tt_exec *e;
	__u32 off = EXEC_START;
	__u32 args_start;
	int i;

	if (!buf)
		return;
	e = new_exec(buf);
	e->ret = c->ret;
	if (c->nr == NR_execve) {
		e->syscall = TT_SYS_EXECVE;
		filename = (const char *)c->arg[0];
		argv = (const char *const *)c->arg[1];
	} else {
		e->syscall = TT_SYS_EXECVEAT;
		filename = (const char *)c->arg[1];
		argv = (const char *const *)c->arg[2];
	}
	e->filename_len = put_user_path(buf, off, filename);
	off += e->filename_len;
	args_start = off;
	for (i = 0; i < EXEC_ARGV_MAX; i++) {
		const char *arg = NULL;
		long n;

		if (!argv)
			break;
		bpf_probe_read_user(&arg, sizeof(arg), &argv[i]);
		if (!arg)
			break;
		if (off - args_start > EXEC_ARGS_MAX - PATH_MAX_LEN) {
			e->flags |= TT_EXEC_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(buf + (off & SCRATCH_MASK),
					    PATH_MAX_LEN, arg);
		if (n <= 0)
			break;
		off += n;
		e->argc++;
	}
	if (i == EXEC_ARGV_MAX)
		e->flags |= TT_EXEC_TRUNCATED;
	e->args_len = off - args_start;
	emit(buf, TT_REC_EXEC, off - sizeof(struct tt_rec_hdr), rc);
}

static __always_inline void dispatch(const struct sys_call *c, enum run_ctx rc)
{
	switch (c->nr) {
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		if (enable_open && wanted(rc))
			on_open(c, rc);
		break;
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64:
	case NR_readv:
	case NR_writev:
	case NR_preadv:
	case NR_pwritev:
	case NR_preadv2:
	case NR_pwritev2:
		if (enable_rw && c->ret > 0 && wanted(rc))
			on_rw(c, rc);
		break;
	case NR_sendfile:
	case NR_splice:
	case NR_copy_file_range:
		if (enable_rw && c->ret > 0 && wanted(rc))
			on_copy(c, rc);
		break;
	case NR_unlink:
	case NR_unlinkat:
	case NR_rmdir:
		if (enable_life && wanted(rc))
			on_unlink(c, rc);
		break;
	case NR_rename:
	case NR_renameat:
	case NR_renameat2:
		if (enable_life && wanted(rc))
			on_rename(c, rc);
		break;
	case NR_execve:
	case NR_execveat:
		if (enable_exec && c->ret < 0 && wanted(rc))
			on_failed_exec(c, rc);
		break;
	}
}

/*
 * Would DISPATCH record C (apart from the process filters)?  Used when an
 * fexit program finds its scratch buffer taken: the call is a loss only
 * if it would have been recorded.
 */
static __always_inline bool selected(const struct sys_call *c)
{
	switch (c->nr) {
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		return enable_open;
	case NR_unlink:
	case NR_unlinkat:
	case NR_rmdir:
	case NR_rename:
	case NR_renameat:
	case NR_renameat2:
		return enable_life;
	case NR_execve:
	case NR_execveat:
		return enable_exec && c->ret < 0;
	}
	return enable_rw && c->ret > 0;
}

/* Is NR one of ours?  Checked before anything else is read. */
static __always_inline bool interesting(long nr)
{
	switch (nr) {
	case NR_read ... NR_open:
	case NR_pread64 ... NR_writev:
	case NR_sendfile:
	case NR_execve:
	case NR_rename:
	case NR_rmdir:
	case NR_creat:
	case NR_unlink:
	case NR_openat:
	case NR_unlinkat:
	case NR_renameat:
	case NR_splice:
	case NR_preadv:
	case NR_pwritev:
	case NR_renameat2:
	case NR_execveat:
	case NR_copy_file_range:
	case NR_preadv2:
	case NR_pwritev2:
	case NR_openat2:
		return true;
	}
	return false;
}

/*
 * Is the current system call a 32-bit one (int $0x80 / compat task)?
 * Their numbers are i386's (2 is fork, 20 getpid), not the x86_64 ones
 * dispatch() knows, so the sys_exit programs skip them.  fexit programs
 * need no such check: compat calls enter through __ia32_sys_*.
 */
#define TT_TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */

static __always_inline bool compat_syscall(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!bpf_core_field_exists(task->thread_info.status))
		return false;
	return task->thread_info.status & TT_TS_COMPAT; /* a plain load */
}

/* The x86_64 system call arguments, from trusted (BTF) registers. */
static __always_inline void take_args(struct sys_call *c,
				      const struct pt_regs *regs)
{
	c->arg[0] = regs->di;
	c->arg[1] = regs->si;
	c->arg[2] = regs->dx;
	c->arg[3] = regs->r10;
	c->arg[4] = regs->r8;
	c->arg[5] = regs->r9;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs *regs, long ret)
{
	struct sys_call c;

	c.nr = regs->orig_ax;
	if (!interesting(c.nr) || compat_syscall())
		return 0;
	c.ret = ret;
	take_args(&c, regs);
	dispatch(&c, RUN_STAGED);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit_raw, struct pt_regs *regs, long ret)
{
	struct sys_call c;

	c.nr = BPF_CORE_READ(regs, orig_ax);
	if (!interesting(c.nr) || compat_syscall())
		return 0;
	c.ret = ret;
	c.arg[0] = BPF_CORE_READ(regs, di);
	c.arg[1] = BPF_CORE_READ(regs, si);
	c.arg[2] = BPF_CORE_READ(regs, dx);
	c.arg[3] = BPF_CORE_READ(regs, r10);
	c.arg[4] = BPF_CORE_READ(regs, r8);
	c.arg[5] = BPF_CORE_READ(regs, r9);
	dispatch(&c, RUN_DIRECT);
	return 0;
}

/*
 * The fexit upgrade: one program per system call, on the kernel's syscall
 * entry function (__x64_sys_NAME, whose only argument is the caller's
 * saved registers).  Each fires for its own system call only, instead of
 * the sys_exit tracepoint's run on every system call of every process.
 * The recorder loads these where the kernel allows fexit and falls back
 * to sys_exit otherwise.  fexit programs may be preempted, so each claims
 * its CPU's second scratch buffer first (RUN_PREEMPTIBLE); a program that
 * finds it taken (another task's program, preempted mid-record on this
 * CPU) counts the call as lost.
 */
static __always_inline bool claim_scratch(struct scratch *s)
{
	return __sync_val_compare_and_swap(&s->claimed, 0, 1) == 0;
}

static __always_inline int on_fexit(long nr, struct pt_regs *regs, long ret)
{
	struct scratch *s = scratch(RUN_PREEMPTIBLE);
	struct sys_call c;

	c.nr = nr;
	c.ret = ret;
	if (!s || !selected(&c))
		return 0;
	take_args(&c, regs);
	if (!claim_scratch(s)) {
		if (wanted_in(false, RUN_PREEMPTIBLE))
			count_loss(1);
		return 0;
	}
	dispatch(&c, RUN_PREEMPTIBLE);
	/* only programs on this CPU use S: ordering the compiler suffices */
	asm volatile("" ::: "memory");
	s->claimed = 0;
	return 0;
}

/* fexit_FUNC on __x64_sys_FUNC, the kernel function of system call NR */
#define FEXIT_SYSCALL_NR(func, nr)                                             \
	SEC("fexit/__x64_sys_" #func)                                          \
	int BPF_PROG(fexit_##func, struct pt_regs *regs, long ret)             \
	{                                                                      \
		return on_fexit(nr, regs, ret);                                \
	}
#define FEXIT_SYSCALL(name) FEXIT_SYSCALL_NR(name, NR_##name)

FEXIT_SYSCALL(open)
FEXIT_SYSCALL(openat)
FEXIT_SYSCALL(openat2)
FEXIT_SYSCALL(creat)
FEXIT_SYSCALL(read)
FEXIT_SYSCALL(write)
FEXIT_SYSCALL(pread64)
FEXIT_SYSCALL(pwrite64)
FEXIT_SYSCALL(readv)
FEXIT_SYSCALL(writev)
FEXIT_SYSCALL(preadv)
FEXIT_SYSCALL(pwritev)
FEXIT_SYSCALL(preadv2)
FEXIT_SYSCALL(pwritev2)
FEXIT_SYSCALL_NR(sendfile64, NR_sendfile) /* x86_64's sendfile is it */
FEXIT_SYSCALL(splice)
FEXIT_SYSCALL(copy_file_range)
FEXIT_SYSCALL(unlink)
FEXIT_SYSCALL(unlinkat)
FEXIT_SYSCALL(rmdir)
FEXIT_SYSCALL(rename)
FEXIT_SYSCALL(renameat)
FEXIT_SYSCALL(renameat2)
FEXIT_SYSCALL(execve)
FEXIT_SYSCALL(execveat)

/* Count the NUL-terminated strings in BUF[0..LEN): bpf_loop callback. */
struct count_ctx {
	__u32 start, len, count, last_end;
	enum run_ctx rc;
};

static long count_one(__u32 i, struct count_ctx *cc)
{
	struct scratch *s = scratch(cc->rc);
	__u8 *buf = s ? record_buf(s, s->walk.staged) : NULL;

	if (!buf || i >= cc->len)
		return 1;
	if (buf[(cc->start + i) & (SCRATCH_SIZE - 1)] == 0) {
		cc->count++;
		cc->last_end = i + 1;
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	const enum run_ctx rc = RUN_STAGED;
	struct mm_struct *mm;
	unsigned long arg_start, arg_end, len;
	struct tt_exec *e;
	__u32 off = EXEC_START;
	__u8 *buf;
	long n;

	if (!enable_exec || !wanted(rc))
		return 0;
	buf = begin_record(rc);
	if (!buf)
		return 0;
	e = new_exec(buf);
	/* execveat with a directory fd leaves its generated name in fdpath
	 * (execveat(AT_FDCWD, "/abs", ...) looks just like execve) */
	e->syscall = bprm->fdpath ? TT_SYS_EXECVEAT : TT_SYS_EXECVE;
	n = bpf_probe_read_kernel_str(buf + EXEC_START, PATH_MAX_LEN,
				      BPF_CORE_READ(bprm, filename));
	e->filename_len = n > 0 ? n : 0;
	off += e->filename_len;
	mm = BPF_CORE_READ(p, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > EXEC_ARGS_MAX) {
		len = EXEC_ARGS_MAX;
		e->flags |= TT_EXEC_TRUNCATED;
	}
	if (bpf_probe_read_user(buf + (off & SCRATCH_MASK), len,
				(void *)arg_start))
		len = 0;
	if (e->flags & TT_EXEC_TRUNCATED) {
		/* keep whole strings only, and count them */
		struct count_ctx cc = {.start = off, .len = len, .rc = rc};

		bpf_loop(EXEC_ARGS_MAX, count_one, &cc, 0);
		e->argc = cc.count;
		len = cc.last_end;
	} else {
		e->argc = BPF_CORE_READ(bprm, argc);
	}
	e->args_len = len;
	off += len;
	emit(buf, TT_REC_EXEC, off - sizeof(struct tt_rec_hdr), rc);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	const enum run_ctx rc = RUN_STAGED;
	__u32 child_pid = BPF_CORE_READ(child, pid);
	struct tt_fork *f;
	__u8 *buf;

	if (child_pid != BPF_CORE_READ(child, tgid))
		return 0; /* a new thread, not a new process */
	if (!wanted(rc))
		return 0;
	if (follow_children) {
		__u8 one = 1;

		bpf_map_update_elem(&traced, &child_pid, &one, BPF_ANY);
		__sync_fetch_and_add(&traced_gen, 1);
	}
	buf = begin_record(rc);
	if (!buf)
		return 0;
	f = (void *)(buf + sizeof(struct tt_rec_hdr));
	__builtin_memset(f, 0, sizeof(*f));
	fill_task(&f->task);
	f->child_pid = child_pid;
	emit(buf, TT_REC_FORK, sizeof(*f), rc);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *p)
{
	const enum run_ctx rc = RUN_STAGED;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct tt_exit *x;
	__u8 *buf;

	if (tgid != (__u32)id)
		return 0; /* a thread, not the process */
	if (!wanted(rc))
		return 0;
	if (filter_pids && bpf_map_delete_elem(&traced, &tgid) == 0)
		__sync_fetch_and_add(&traced_gen, 1);
	buf = begin_record(rc);
	if (!buf)
		return 0;
	x = (void *)(buf + sizeof(struct tt_rec_hdr));
	__builtin_memset(x, 0, sizeof(*x));
	fill_task(&x->task);
	x->exit_code = BPF_CORE_READ(task, exit_code);
	emit(buf, TT_REC_EXIT, sizeof(*x), rc);
	return 0;
}

#define LINE_START   (sizeof(struct tt_rec_hdr) + sizeof(struct tt_readline))
#define TTY_START    (sizeof(struct tt_rec_hdr) + sizeof(struct tt_tty))
#define TTY_NAME_LEN 64 /* struct tty_struct.name */
#define TTY_ROOM     72 /* "pts/" + the name after "pts" + NUL, padded */

/*
 * The controlling terminal's name as ps(1) shows it, at NAME (TTY_ROOM
 * zeroed bytes).  The kernel names a pseudo-terminal slave after its
 * driver and index, "pts3"; ps shows "pts/3".  Other names ("tty1",
 * "ttyS0") are the same in both.  Returns its bytes with the NUL, 0
 * when it cannot be read.
 */
static __always_inline __u32 put_tty_name(__u8 *name, struct tty_struct *tty)
{
	char drv[4];
	long n;

	n = bpf_probe_read_kernel_str(drv, sizeof(drv),
				      BPF_CORE_READ(tty, driver, name));
	if (n == 4 && drv[0] == 'p' && drv[1] == 't' && drv[2] == 's') {
		name[0] = 'p';
		name[1] = 't';
		name[2] = 's';
		name[3] = '/';
		n = bpf_probe_read_kernel_str(name + 4, TTY_NAME_LEN - 3,
					      &tty->name[3]);
		return n > 0 && n <= TTY_NAME_LEN - 3 ? n + 4 : 0;
	}
	n = bpf_probe_read_kernel_str(name, TTY_NAME_LEN, tty->name);
	return n > 0 && n <= TTY_NAME_LEN ? n : 0;
}

/*
 * A TT_REC_TTY record for the current task at HDR, stamped TS: its
 * controlling terminal (signal->tty), or none.  Returns the record's
 * framed bytes (header, body, padding), at most TTY_START + TTY_ROOM.
 */
static __always_inline __u32 put_tty(struct tt_rec_hdr *hdr, __u64 ts)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	struct tt_tty *t = (void *)(hdr + 1);
	__u8 *name = (__u8 *)hdr + TTY_START;
	__u32 len = 0;

	__builtin_memset(t, 0, sizeof(*t));
	__builtin_memset(name, 0, TTY_ROOM); /* the padding too */
	fill_task(&t->task);
	if (tty)
		len = put_tty_name(name, tty);
	if (len) /* tty_devnum(): the driver's first device + index */
		t->dev = (__u64)BPF_CORE_READ(tty, driver, major) << 20 |
			 (__u32)(BPF_CORE_READ(tty, driver, minor_start) +
				 BPF_CORE_READ(tty, index));
	t->tty_len = len;
	hdr->type = TT_REC_TTY;
	hdr->flags = 0;
	hdr->body_len = sizeof(*t) + len;
	hdr->ts = ts;
	return sizeof(*hdr) + ((sizeof(*t) + len + 7) & ~7u);
}

/*
 * One sample per line: a TT_REC_TTY (the terminal it was typed on), the
 * TT_REC_READLINE, then a zero header.  The terminal travels with every
 * line rather than once per bash: a segment must replay alone, and a
 * line's sample is lost or kept whole.
 */
SEC("uretprobe")
int BPF_KRETPROBE(bash_readline, const char *line)
{
	/* reserved in the ring directly: this program may be preempted, so
	 * it must not share the per-CPU scratch buffer; the recorder copies
	 * the framed records and stops at the zero header after them */
	const __u32 room =
		TTY_START + TTY_ROOM + LINE_START + LINE_MAX_LEN + 24;
	struct tt_rec_hdr *hdr, *rl;
	struct tt_readline *r;
	__u32 at, end;
	__u64 ts;
	long n;

	if (!line || !wanted_in(false, RUN_DIRECT))
		return 0;
	hdr = bpf_ringbuf_reserve(&events, room, 0);
	if (!hdr) {
		count_loss(1);
		return 0;
	}
	ts = bpf_ktime_get_boot_ns();
	at = put_tty(hdr, ts);
	if (at > TTY_START + TTY_ROOM) { /* cannot be: tells the verifier */
		bpf_ringbuf_discard(hdr, 0);
		return 0;
	}
	rl = (void *)((__u8 *)hdr + at);
	r = (void *)(rl + 1);
	__builtin_memset(r, 0, sizeof(*r));
	fill_task(&r->task);
	n = bpf_probe_read_user_str((__u8 *)rl + LINE_START, LINE_MAX_LEN,
				    line);
	if (n <= 0 || n > LINE_MAX_LEN) {
		bpf_ringbuf_discard(hdr, 0);
		return 0;
	}
	r->line_len = n;
	rl->type = TT_REC_READLINE;
	rl->flags = 0;
	rl->body_len = sizeof(*r) + n;
	rl->ts = ts;
	end = at + LINE_START + n;
	for (int i = 0; i < 24; i++) /* padding, then a zero header */
		((__u8 *)hdr)[end + i] = 0;
	bpf_ringbuf_submit(hdr, BPF_RB_NO_WAKEUP);
	return 0;
}
