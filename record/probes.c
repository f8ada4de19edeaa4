// SPDX-License-Identifier: MIT
/*
 * probes.c - load tracetape.bpf.c through its skeleton and attach it.
 *
 * The sys_exit program is tried as tp_btf first (direct, cheap register
 * loads) and as raw_tp when tp_btf does not load.  Every probe's outcome
 * is kept in struct probe_status so the tape says what was recorded and
 * how.
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

static void configure(struct tracetape_bpf *skel, const struct rec_opts *o,
		      int ncpus, bool btf_sys_exit)
{
	unsigned g = o->groups;
	bool sys_exit = g & (REC_GROUP_OPEN | REC_GROUP_RW | REC_GROUP_LIFE |
			     REC_GROUP_EXEC);

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
	bpf_map__set_max_entries(skel->maps.scratch_map, ncpus);
	bpf_map__set_max_entries(skel->maps.flush_timers, ncpus);
	/* batching needs the flush timers, which only tp_btf may use */
	skel->rodata->use_stage = btf_sys_exit && kernel_has_pinned_timers() &&
				  !getenv("TRACETAPE_NO_BATCH");
	bpf_program__set_autoload(skel->progs.sys_exit_btf,
				  sys_exit && btf_sys_exit);
	bpf_program__set_autoload(skel->progs.sys_exit_raw,
				  sys_exit && !btf_sys_exit);
	bpf_program__set_autoload(skel->progs.sched_exec, g & REC_GROUP_EXEC);
	bpf_program__set_autoload(skel->progs.bash_readline,
				  g & REC_GROUP_BASH);
}

static int load(struct probes *p, const struct rec_opts *o, bool btf)
{
	int err;

	p->skel = tracetape_bpf__open();
	if (!p->skel)
		return -errno;
	configure(p->skel, o, p->ncpus, btf);
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

static void attach_all(struct probes *p, const struct rec_opts *o, bool btf)
{
	struct tracetape_bpf *sk = p->skel;
	unsigned g = o->groups;
	const char *sys_exit = btf ? "tp_btf:sys_exit" : "raw_tp:sys_exit";
	struct bpf_program *prog =
		btf ? sk->progs.sys_exit_btf : sk->progs.sys_exit_raw;
	struct bpf_link *link = NULL;

	if (g &
	    (REC_GROUP_OPEN | REC_GROUP_RW | REC_GROUP_LIFE | REC_GROUP_EXEC)) {
		struct probe_status *s = add_status(p, "syscalls", sys_exit);

		link = bpf_program__attach(prog);
		set_result(s, link ? 0 : -errno, "attach failed");
		if (btf)
			sk->links.sys_exit_btf = link;
		else
			sk->links.sys_exit_raw = link;
	}
	/* the groups riding on sys_exit share its fate */
	static const struct {
		unsigned bit;
		const char *name;
	} on_sys_exit[] = {{REC_GROUP_OPEN, "opens"},
			   {REC_GROUP_RW, "rw"},
			   {REC_GROUP_LIFE, "life"},
			   {REC_GROUP_EXEC, "exec_failed"}};
	for (size_t i = 0; i < 4; i++) {
		if (!(g & on_sys_exit[i].bit))
			continue;
		struct probe_status *s =
			add_status(p, on_sys_exit[i].name, sys_exit);
		set_result(s, link ? 0 : EINVAL, "sys_exit did not attach");
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

int probes_start(struct probes *p, const struct rec_opts *o)
{
	bool btf = true;
	int err;

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
	/* TRACETAPE_SYS_EXIT=raw_tp tests the fallback on kernels where
	 * tp_btf would load */
	const char *mech = getenv("TRACETAPE_SYS_EXIT");

	if (mech && !strcmp(mech, "raw_tp"))
		err = -1;
	else
		err = load(p, o, true);
	if (err) {
		btf = false;
		err = load(p, o, false);
	}
	if (err) {
		explain_load_error(err);
		return -1;
	}
	for (int i = 0; i < o->npids; i++)
		probes_trace_pid(p, o->pids[i]);
	attach_all(p, o, btf);
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

int probes_lost_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.lost);
}

void probes_stop(struct probes *p)
{
	if (p->skel)
		tracetape_bpf__destroy(p->skel);
	p->skel = NULL;
}
