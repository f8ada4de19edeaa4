// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * hook.bpf.c - programs that do nothing, for measuring what merely having
 * a program on a hook costs (bench/suite.py, "floor" rows).  The recorder
 * cannot cost less than its hook does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The recorder's system call hook on kernels without fexit. */
SEC("tp_btf/sys_exit")
int BPF_PROG(empty_tp_btf_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

/* Its fexit counterpart for one call (where the kernel allows fexit). */
SEC("fexit/__x64_sys_openat")
int BPF_PROG(empty_fexit_openat, struct pt_regs *regs, long ret)
{
	return 0;
}
