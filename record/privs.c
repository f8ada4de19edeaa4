// SPDX-License-Identifier: MIT
/*
 * privs.c - drop capabilities after attaching (see privs.h).
 *
 * Raw capget/capset and prctl rather than libcap: three system calls do
 * not justify a dependency of the static recorder.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

/* The highest capability number this kernel knows. */
static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = 40; /* CAP_CHECKPOINT_RESTORE, Linux 5.9 */

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 40;
		fclose(f);
	}
	return n;
}

/* Everything but the kept capability out of the bounding set, so that
 * nothing the process might exec later regains it.  Needs CAP_SETPCAP:
 * without it (file capabilities instead of root) the set stays. */
static void drop_bounding(void)
{
	int last = last_cap();

	for (int cap = 0; cap <= last; cap++) {
		if (cap == PRIVS_KEPT_CAP)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EPERM)
			return;
	}
}

int privs_drop(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const __u32 keep = 1u << PRIVS_KEPT_CAP; /* in data[0]: cap < 32 */

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	drop_bounding();
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	data[0].effective &= keep;
	data[0].permitted &= keep;
	data[0].inheritable = 0;
	data[1].effective = data[1].permitted = data[1].inheritable = 0;
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}
