// SPDX-License-Identifier: MIT
/*
 * probes.c - load tracetape.bpf.c through its skeleton and attach it.
 *
 * The file system calls are hooked in one of three ways, tried in this
 * order (--mechanism auto): fexit programs on the syscall functions
 * (__x64_sys_*: they run only for the calls wanted, where the kernel
 * allows fexit), one tp_btf program on the sys_exit tracepoint (direct,
 * cheap register loads), the same as raw_tp.  A way that does not load or
 * attach falls back to the next, and the tape's probe records say which
 * one was used and why the better ones were not.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes.h"
#include "tracetape.skel.h"

static bool libbpf_debug;

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!libbpf_debug && level != LIBBPF_WARN)
		return 0;
	if (!libbpf_debug)
		return 0; /* our own messages say what failed */
	return vfprintf(stderr, fmt, ap);
}

static struct probe_status *add_status(struct probes *p, const char *name,
				       const char *mechanism)
{
	struct probe_status *s = &p->status[p->nstatus++];

	memset(s, 0, sizeof(*s));
	s->name = name;
	snprintf(s->mechanism, sizeof(s->mechanism), "%s", mechanism);
	return s;
}

static void set_result(struct probe_status *s, int err, const char *why)
{
	s->attached = err == 0;
	if (err)
		snprintf(s->error, sizeof(s->error), "%s: %s", why,
			 strerror(err < 0 ? -err : err));
}

/*
 * Batching flushes each CPU's stage from a BPF timer pinned to that CPU
 * (BPF_F_TIMER_CPU_PIN, Linux 6.7).  Older kernels refuse the flag at run
 * time (the timer never fires, so staged events would sit unflushed):
 * there, every record goes straight to the ring buffer.
 */
static bool kernel_has_pinned_timers(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
}

/* How the file system calls are hooked, best first. */
enum hook {
	HOOK_FEXIT,
	HOOK_TP_BTF,
	HOOK_RAW_TP,
	HOOK_NONE,
};

static const char *const hook_names[] = {"fexit", "tp_btf:sys_exit",
					 "raw_tp:sys_exit"};

#define SYSCALL_GROUPS                                                         \
	(REC_GROUP_OPEN | REC_GROUP_RW | REC_GROUP_LIFE | REC_GROUP_EXEC)

/* The fexit programs (fexit_FUNC in tracetape.bpf.c, on __x64_sys_FUNC)
 * and their groups. */
static const struct {
	const char *func;
	unsigned group;
} fexit_calls[] = {
	{"open", REC_GROUP_OPEN},
	{"openat", REC_GROUP_OPEN},
	{"openat2", REC_GROUP_OPEN},
	{"creat", REC_GROUP_OPEN},
	{"read", REC_GROUP_RW},
	{"write", REC_GROUP_RW},
	{"pread64", REC_GROUP_RW},
	{"pwrite64", REC_GROUP_RW},
	{"readv", REC_GROUP_RW},
	{"writev", REC_GROUP_RW},
	{"preadv", REC_GROUP_RW},
	{"pwritev", REC_GROUP_RW},
	{"preadv2", REC_GROUP_RW},
	{"pwritev2", REC_GROUP_RW},
	{"sendfile64", REC_GROUP_RW},
	{"splice", REC_GROUP_RW},
	{"copy_file_range", REC_GROUP_RW},
	{"unlink", REC_GROUP_LIFE},
	{"unlinkat", REC_GROUP_LIFE},
	{"rmdir", REC_GROUP_LIFE},
	{"rename", REC_GROUP_LIFE},
	{"renameat", REC_GROUP_LIFE},
	{"renameat2", REC_GROUP_LIFE},
	{"execve", REC_GROUP_EXEC},
	{"execveat", REC_GROUP_EXEC},
};
#define NFEXIT (sizeof(fexit_calls) / sizeof(fexit_calls[0]))

/* The program fexit_CALL of the object, or NULL. */
static struct bpf_program *fexit_prog(struct tracetape_bpf *skel, size_t i)
{
	char name[64];

	snprintf(name, sizeof(name), "fexit_%s", fexit_calls[i].func);
	return bpf_object__find_program_by_name(skel->obj, name);
}

static void configure(struct tracetape_bpf *skel, const struct rec_opts *o,
		      int ncpus, enum hook hook)
{
	unsigned g = o->groups;
	bool sys_exit = g & SYSCALL_GROUPS;

	skel->rodata->self_tgid = getpid();
	skel->rodata->filter_uid = o->filter_uid;
	skel->rodata->target_uid = o->uid;
	if (o->comm) {
		skel->rodata->filter_comm = true;
		strncpy((char *)skel->rodata->target_comm, o->comm,
			sizeof(skel->rodata->target_comm) - 1);
	}
	skel->rodata->filter_pids = o->npids > 0 || o->command;
	skel->rodata->follow_children = o->command != NULL;
	skel->rodata->enable_open = g & REC_GROUP_OPEN;
	skel->rodata->enable_rw = g & REC_GROUP_RW;
	skel->rodata->enable_life = g & REC_GROUP_LIFE;
	skel->rodata->enable_exec = g & REC_GROUP_EXEC;
	/* wake the drain thread early when a quarter of the ring is used */
	skel->rodata->wakeup_bytes = o->ring_size / 4;

	bpf_map__set_max_entries(skel->maps.events, o->ring_size);
	/* two scratch buffers per CPU: tracepoints, fexit (see run_ctx) */
	skel->rodata->nr_cpus = ncpus;
	bpf_map__set_max_entries(skel->maps.scratch_map, 2 * ncpus);
	bpf_map__set_max_entries(skel->maps.flush_timers, ncpus);
	/* batching needs the flush timers, which raw_tp may not use; the
	 * fexit programs never batch, the tp_btf sched programs may */
	skel->rodata->use_stage = hook != HOOK_RAW_TP &&
				  kernel_has_pinned_timers() &&
				  !getenv("TRACETAPE_NO_BATCH");
	bpf_program__set_autoload(skel->progs.sys_exit_btf,
				  sys_exit && hook == HOOK_TP_BTF);
	bpf_program__set_autoload(skel->progs.sys_exit_raw,
				  sys_exit && hook == HOOK_RAW_TP);
	for (size_t i = 0; i < NFEXIT; i++)
		bpf_program__set_autoload(fexit_prog(skel, i),
					  hook == HOOK_FEXIT &&
						  (g & fexit_calls[i].group));
	bpf_program__set_autoload(skel->progs.sched_exec, g & REC_GROUP_EXEC);
	bpf_program__set_autoload(skel->progs.bash_readline,
				  g & REC_GROUP_BASH);
}

static int load(struct probes *p, const struct rec_opts *o, enum hook hook)
{
	int err;

	p->skel = tracetape_bpf__open();
	if (!p->skel)
		return -errno;
	configure(p->skel, o, p->ncpus, hook);
	err = tracetape_bpf__load(p->skel);
	if (err) {
		tracetape_bpf__destroy(p->skel);
		p->skel = NULL;
	}
	return err;
}

static void explain_load_error(int err)
{
	if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
		fprintf(stderr,
			"tracetape-record: loading the BPF programs was "
			"refused (%s): run as root, or give the binary "
			"CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE\n",
			strerror(-err));
	else
		fprintf(stderr,
			"tracetape-record: the kernel refused the BPF "
			"programs (%s); rerun with TRACETAPE_DEBUG=1 to see "
			"the verifier's log\n",
			strerror(err < 0 ? -err : err));
}

/* Attach one program and note the result as probe NAME. */
static struct bpf_link *attach(struct probes *p, struct bpf_program *prog,
			       const char *name, const char *mechanism)
{
	struct probe_status *s = add_status(p, name, mechanism);
	struct bpf_link *link = bpf_program__attach(prog);

	set_result(s, link ? 0 : -errno, "attach failed");
	return link;
}

/* Full path of shared library NAME in the usual directories. */
static int find_library(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu",
		"/usr/lib/x86_64-linux-gnu",
		"/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu",
		"/lib64",
		"/usr/lib64",
		"/lib",
		"/usr/lib",
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, size, "%s/%s", dirs[i], name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* The libreadline bash links dynamically, if it does (DT_NEEDED). */
static int find_needed_readline(const char *bin, char *out, size_t size)
{
	int fd = open(bin, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	int found = -1;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn)) && found) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize;
		     i++) {
			GElf_Dyn dyn;
			const char *lib;

			if (!gelf_getdyn(data, i, &dyn) ||
			    dyn.d_tag != DT_NEEDED)
				continue;
			lib = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (lib && !strncmp(lib, "libreadline.so", 14)) {
				found = find_library(lib, out, size);
				break;
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

/* uprobes need the uprobe PMU, or tracefs for the legacy interface. */
static void ensure_tracefs(void)
{
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) == 0)
		return;
	if (access("/sys/kernel/tracing/uprobe_events", F_OK) == 0)
		return;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    errno != EBUSY)
		fprintf(stderr,
			"tracetape-record: warning: cannot mount tracefs on "
			"/sys/kernel/tracing: %s\n",
			strerror(errno));
}

/* Try readline_internal_teardown, then readline, in BIN. */
static struct bpf_link *attach_readline_in(struct probes *p, const char *bin,
					   int *err, char *mech, size_t size)
{
	static const char *const funcs[] = {"readline_internal_teardown",
					    "readline"};
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = true);
	struct bpf_link *link = NULL;

	for (size_t i = 0; i < 2 && !link; i++) {
		uo.func_name = funcs[i];
		link = bpf_program__attach_uprobe_opts(
			p->skel->progs.bash_readline, -1, bin, 0, &uo);
		*err = link ? 0 : -errno;
		snprintf(mech, size, "uretprobe:%s:%s", bin, funcs[i]);
	}
	return link;
}

static void attach_bash(struct probes *p, const char *bash)
{
	char mech[320], lib[256];
	struct bpf_link *link;
	struct probe_status *s;
	int err;

	ensure_tracefs();
	link = attach_readline_in(p, bash, &err, mech, sizeof(mech));
	if (!link && find_needed_readline(bash, lib, sizeof(lib)) == 0)
		link = attach_readline_in(p, lib, &err, mech, sizeof(mech));
	s = add_status(p, "bash", mech);
	set_result(s, err, bash);
	if (err == -ENOENT && access(bash, R_OK) == 0)
		snprintf(s->error, sizeof(s->error),
			 "%s: no readline_internal_teardown or readline "
			 "symbol in it or in a libreadline it links; give "
			 "bash's path with --bash",
			 bash);
	p->skel->links.bash_readline = link;
}

/* "fexit:__x64_sys_a,__x64_sys_b" for the fexit programs of GROUP. */
static void fexit_mechanism(unsigned group, char *buf, size_t size)
{
	size_t used = snprintf(buf, size, "fexit:");

	for (size_t i = 0; i < NFEXIT && used < size; i++)
		if (fexit_calls[i].group == group)
			used += snprintf(buf + used, size - used,
					 "%s__x64_sys_%s",
					 buf[used - 1] == ':' ? "" : ",",
					 fexit_calls[i].func);
}

/*
 * Attach every loaded fexit program.  All or nothing: on a failure the
 * links made so far are undone, WHY says which one failed, and the
 * caller falls back to the sys_exit tracepoint.
 */
static int attach_fexit(struct probes *p, unsigned groups, char *why,
			size_t size)
{
	for (size_t i = 0; i < NFEXIT; i++) {
		struct bpf_link *link;

		if (!(groups & fexit_calls[i].group))
			continue;
		link = bpf_program__attach(fexit_prog(p->skel, i));
		if (!link || p->nlinks == PROBES_LINKS) {
			int err = link ? -E2BIG : -errno;

			bpf_link__destroy(link);
			snprintf(why, size, "attach to __x64_sys_%s: %s",
				 fexit_calls[i].func, strerror(-err));
			while (p->nlinks > 0)
				bpf_link__destroy(p->links[--p->nlinks]);
			return err;
		}
		p->links[p->nlinks++] = link;
	}
	return 0;
}

/* The status entries of the groups hooked at the system calls. */
static void syscall_statuses(struct probes *p, unsigned g, enum hook hook,
			     bool attached, const char *note)
{
	static const struct {
		unsigned bit;
		const char *name;
	} groups[] = {{REC_GROUP_OPEN, "opens"},
		      {REC_GROUP_RW, "rw"},
		      {REC_GROUP_LIFE, "life"},
		      {REC_GROUP_EXEC, "exec_failed"}};
	char mech[512];

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		struct probe_status *s;

		if (!(g & groups[i].bit))
			continue;
		if (hook == HOOK_FEXIT)
			fexit_mechanism(groups[i].bit, mech, sizeof(mech));
		else
			snprintf(mech, sizeof(mech), "%s", hook_names[hook]);
		s = add_status(p, groups[i].name, mech);
		/* with sys_exit, the groups share its program's fate */
		set_result(s, attached ? 0 : EINVAL, "sys_exit did not attach");
		snprintf(s->note, sizeof(s->note), "%s", note);
	}
}

/* Attach the sys_exit program (tp_btf or raw_tp) for groups G. */
static void attach_sys_exit(struct probes *p, unsigned g, enum hook hook,
			    const char *note)
{
	struct tracetape_bpf *sk = p->skel;
	bool btf = hook == HOOK_TP_BTF;
	struct probe_status *s = add_status(p, "syscalls", hook_names[hook]);
	struct bpf_link *link = bpf_program__attach(
		btf ? sk->progs.sys_exit_btf : sk->progs.sys_exit_raw);

	set_result(s, link ? 0 : -errno, "attach failed");
	snprintf(s->note, sizeof(s->note), "%s", note);
	if (btf)
		sk->links.sys_exit_btf = link;
	else
		sk->links.sys_exit_raw = link;
	syscall_statuses(p, g, hook, link != NULL, note);
}

/*
 * Attach everything but the fexit programs (attached, when HOOK is
 * fexit, by attach_fexit already).  NOTE says why a better hook for
 * the system calls was not used ("" when none was tried).
 */
static void attach_all(struct probes *p, const struct rec_opts *o,
		       enum hook hook, const char *note)
{
	struct tracetape_bpf *sk = p->skel;
	unsigned g = o->groups;

	if (g & SYSCALL_GROUPS) {
		if (hook == HOOK_FEXIT)
			syscall_statuses(p, g, hook, true, note);
		else
			attach_sys_exit(p, g, hook, note);
	}
	if (g & REC_GROUP_EXEC)
		sk->links.sched_exec = attach(p, sk->progs.sched_exec, "exec",
					      "tp_btf:sched_process_exec");
	sk->links.sched_fork = attach(p, sk->progs.sched_fork, "fork",
				      "tp_btf:sched_process_fork");
	sk->links.sched_exit = attach(p, sk->progs.sched_exit, "exit",
				      "tp_btf:sched_process_exit");
	if (g & REC_GROUP_BASH)
		attach_bash(p, o->bash_path);
}

/* Root, or CAP_BPF and CAP_PERFMON in the effective set. */
static bool has_bpf_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {0};
	const int cap_perfmon = 38, cap_bpf = 39; /* newer than some headers */

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return (data[1].effective & (1u << (cap_perfmon - 32))) &&
	       (data[1].effective & (1u << (cap_bpf - 32)));
}

static int check_environment(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fprintf(stderr,
			"tracetape-record: /sys/kernel/btf/vmlinux: %s: this "
			"kernel has no BTF; tracetape-record needs a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y\n",
			strerror(errno));
		return -1;
	}
	if (!has_bpf_caps()) {
		fprintf(stderr,
			"tracetape-record: not root and missing CAP_BPF or "
			"CAP_PERFMON: run as root (sudo), or give the binary "
			"the capabilities: setcap "
			"cap_bpf,cap_perfmon,cap_sys_resource+ep "
			"tracetape-record\n");
		return -1;
	}
	return 0;
}

/* The hooks --mechanism allows, best first, ending with HOOK_NONE. */
static const enum hook hook_order[][4] = {
	[REC_MECH_AUTO] = {HOOK_FEXIT, HOOK_TP_BTF, HOOK_RAW_TP, HOOK_NONE},
	[REC_MECH_FEXIT] = {HOOK_FEXIT, HOOK_NONE},
	[REC_MECH_TRACEPOINT] = {HOOK_TP_BTF, HOOK_RAW_TP, HOOK_NONE},
	[REC_MECH_RAW_TP] = {HOOK_RAW_TP, HOOK_NONE},
};

/*
 * Load (and for fexit, attach) with the best hook the kernel takes.
 * NOTE collects why the better ones failed.  Returns the hook used, or
 * HOOK_NONE with *ERR set.
 */
static enum hook load_best(struct probes *p, const struct rec_opts *o,
			   char *note, size_t size, int *err)
{
	const enum hook *order = hook_order[o->mechanism];
	size_t used = 0;

	for (int i = 0; order[i] != HOOK_NONE; i++) {
		char why[200] = "";

		*err = load(p, o, order[i]);
		if (*err)
			snprintf(why, sizeof(why), "load refused: %s",
				 strerror(*err < 0 ? -*err : *err));
		else if (order[i] == HOOK_FEXIT)
			*err = attach_fexit(p, o->groups, why, sizeof(why));
		if (!*err)
			return order[i];
		probes_stop(p);
		if (used < size)
			used += snprintf(note + used, size - used, "%s%s %s",
					 used ? "; " : "", hook_names[order[i]],
					 why);
	}
	return HOOK_NONE;
}

int probes_start(struct probes *p, const struct rec_opts *o)
{
	char note[256] = "";
	enum hook hook;
	int err = 0;

	memset(p, 0, sizeof(*p));
	libbpf_debug = getenv("TRACETAPE_DEBUG") != NULL;
	libbpf_set_print(print_libbpf);
	if (check_environment())
		return -1;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		fprintf(stderr, "tracetape-record: cannot count the CPUs "
				"(/sys/devices/system/cpu/possible)\n");
		return -1;
	}
	hook = load_best(p, o, note, sizeof(note), &err);
	if (hook == HOOK_NONE) {
		if (o->mechanism == REC_MECH_FEXIT)
			fprintf(stderr,
				"tracetape-record: --mechanism fexit: %s; this "
				"kernel does not allow fexit on the system "
				"call functions: use --mechanism auto\n",
				note);
		else
			explain_load_error(err);
		return -1;
	}
	for (int i = 0; i < o->npids; i++)
		probes_trace_pid(p, o->pids[i]);
	attach_all(p, o, hook, note);
	for (int i = 0; i < p->nstatus; i++) {
		if (!p->status[i].attached)
			fprintf(stderr,
				"tracetape-record: warning: probe %s (%s) not "
				"attached: %s; recording goes on without it\n",
				p->status[i].name, p->status[i].mechanism,
				p->status[i].error);
	}
	return 0;
}

int probes_trace_pid(struct probes *p, pid_t pid)
{
	__u32 key = pid;
	__u8 one = 1;
	int err = bpf_map_update_elem(bpf_map__fd(p->skel->maps.traced), &key,
				      &one, BPF_ANY);

	/* invalidate the per-CPU cached answers of the BPF side */
	__atomic_fetch_add(&p->skel->data->traced_gen, 1, __ATOMIC_SEQ_CST);
	return err;
}

int probes_ring_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

int probes_prog_fds(const struct probes *p, int *fds, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, p->skel->obj)
	{
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && n < max)
			fds[n++] = fd;
	}
	return n;
}

int probes_lost_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.lost);
}

void probes_detach(struct probes *p)
{
	while (p->nlinks > 0)
		bpf_link__destroy(p->links[--p->nlinks]);
	if (p->skel)
		tracetape_bpf__detach(p->skel);
}

void probes_stop(struct probes *p)
{
	while (p->nlinks > 0)
		bpf_link__destroy(p->links[--p->nlinks]);
	if (p->skel)
		tracetape_bpf__destroy(p->skel);
	p->skel = NULL;
}
