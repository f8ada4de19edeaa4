/* SPDX-License-Identifier: MIT */
/*
 * probes.h - load the BPF programs, attach them, report what attached.
 */
#ifndef RECORD_PROBES_H
#define RECORD_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

struct tracetape_bpf;

/* One probe as the tape's TT_REC_PROBE records describe it. */
struct probe_status {
	const char *name;    /* opens, rw, life, exec, exec_failed, ... */
	char mechanism[512]; /* e.g. tp_btf:sys_exit */
	bool attached;
	char error[256]; /* why not, when !attached */
	char note[256];	 /* e.g. why the fexit upgrade was not used */
};

#define PROBES_MAX   12
#define PROBES_LINKS 32

struct bpf_link;

struct probes {
	struct tracetape_bpf *skel;
	struct bpf_link *links[PROBES_LINKS]; /* fexit links, not in skel */
	int nlinks;
	struct probe_status status[PROBES_MAX];
	int nstatus;
	int ncpus;
};

/*
 * Open, configure (filters from OPTS, the recorder's own tgid) and load
 * the BPF object, then attach every selected program.  The file system
 * calls are hooked as OPTS->mechanism says: with AUTO, fexit programs on
 * the syscall functions where the kernel loads and attaches them, else
 * the sys_exit tracepoint.  Returns 0 when at least the object loaded; a
 * probe that cannot attach is a warning and a status entry.  -1 on a
 * fatal error (message printed).
 */
int probes_start(struct probes *p, const struct rec_opts *opts);

/* Add a process to the traced set (-p, -- COMMAND). */
int probes_trace_pid(struct probes *p, pid_t pid);

/* File descriptors of the loaded programs, into FDS (room for MAX).
 * Returns how many. */
int probes_prog_fds(const struct probes *p, int *fds, int max);

/* File descriptor of the ring buffer map, and of the loss counter map. */
int probes_ring_fd(const struct probes *p);
int probes_lost_fd(const struct probes *p);

/* Detach every program (the maps stay: the ring can still be drained). */
void probes_detach(struct probes *p);

void probes_stop(struct probes *p);

#endif /* RECORD_PROBES_H */
