// SPDX-License-Identifier: MIT
/*
 * probecheck.bpf.c - one tiny program per attach mechanism the recorder
 * could upgrade to (fentry/fexit, kprobe/kretprobe, LSM), each counting its
 * hits in its own slot of an array.  tests/vm/probecheck.c loads them one
 * at a time so a refusal of one mechanism does not hide the others.
 *
 * The programs read nothing from their context: the question is only
 * whether the kernel loads, attaches and fires them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* slot numbers: the loader's table in probecheck.c uses the same order */
enum slot {
	SLOT_FENTRY_VFS_READ,
	SLOT_FEXIT_VFS_WRITE,
	SLOT_FENTRY_VFS_OPEN,
	SLOT_KPROBE_VFS_READ,
	SLOT_KRETPROBE_VFS_WRITE,
	SLOT_LSM_FILE_OPEN,
	SLOT_COUNT
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("fentry/vfs_read")
int BPF_PROG(fentry_vfs_read)
{
	count(SLOT_FENTRY_VFS_READ);
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(fexit_vfs_write)
{
	count(SLOT_FEXIT_VFS_WRITE);
	return 0;
}

SEC("fentry/vfs_open")
int BPF_PROG(fentry_vfs_open)
{
	count(SLOT_FENTRY_VFS_OPEN);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(kprobe_vfs_read)
{
	count(SLOT_KPROBE_VFS_READ);
	return 0;
}

SEC("kretprobe/vfs_write")
int BPF_KRETPROBE(kretprobe_vfs_write)
{
	count(SLOT_KRETPROBE_VFS_WRITE);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open)
{
	count(SLOT_LSM_FILE_OPEN);
	return 0;
}
