/* SPDX-License-Identifier: MIT */
/*
 * privs.h - give up the privileges recording no longer needs.
 */
#ifndef RECORD_PRIVS_H
#define RECORD_PRIVS_H

/*
 * Once the probes are attached and the tape is open, everything the
 * recorder still does works on descriptors it holds (BPF maps, the ring
 * buffer, the tape directory) or on files any process may read; the one
 * exception is /proc/PID/exe of other users' processes in the snapshots of
 * later segments, which needs CAP_SYS_PTRACE.  So the calling thread, and
 * every thread it creates afterwards, keeps CAP_SYS_PTRACE (when it had
 * it) and nothing else: effective, permitted, inheritable, ambient and
 * bounding sets, with no_new_privs set.
 *
 * Call before starting threads (capabilities are per thread).  Returns 0,
 * or -1 with errno when the capability sets could not be reduced (the
 * bounding set is reduced only when CAP_SETPCAP allows it).
 */
int privs_drop(void);

/* The capability privs_drop() keeps. */
#define PRIVS_KEPT_CAP 19 /* CAP_SYS_PTRACE */

#endif /* RECORD_PRIVS_H */
