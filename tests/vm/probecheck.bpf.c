// SPDX-License-Identifier: MIT
/*
 * probecheck.bpf.c - one tiny program per attach mechanism the recorder
 * could upgrade to (fentry/fexit, kprobe/kretprobe, LSM), each counting its
 * hits in its own slot of an array.  tests/vm/probecheck.c loads them one
 * at a time so a refusal of one mechanism does not hide the others.
 *
 * The programs read nothing from their context: the question is only
 * whether the kernel loads, attaches and fires them.  Two more programs
 * (tp_btf sys_enter) start a bpf_timer once, with BPF_F_TIMER_CPU_PIN
 * (kernel 6.7+) and with flags 0, and note what bpf_timer_start returned
 * and whether the callback ran: the recorder's per-CPU flush relies on it.
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
	SLOT_TIMER_PIN,	    /* callbacks of a timer started CPU-pinned */
	SLOT_TIMER_PLAIN,   /* callbacks of a timer started with flags 0 */
	SLOT_TIMER_PIN_RET, /* bpf_timer_start's return value + RET_BIAS */
	SLOT_TIMER_PLAIN_RET,
	SLOT_COUNT
};

/* a stored return value is ret + RET_BIAS, so 0 means "never called" */
#define RET_BIAS 1000

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

struct timer_elem {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct timer_elem);
} timers SEC(".maps");

__u64 timer_armed;

static int on_pinned_timer(void *map, __u32 *key, struct timer_elem *e)
{
	count(SLOT_TIMER_PIN);
	return 0;
}

static int on_plain_timer(void *map, __u32 *key, struct timer_elem *e)
{
	count(SLOT_TIMER_PLAIN);
	return 0;
}

/* Arms the one timer on the first system call seen; notes the result. */
static __always_inline void start_timer_once(bool pinned)
{
	__u32 key = 0, ret_slot;
	struct timer_elem *e = bpf_map_lookup_elem(&timers, &key);
	__u64 *ret_out;
	long ret;

	if (!e || __sync_val_compare_and_swap(&timer_armed, 0, 1) != 0)
		return;
	bpf_timer_init(&e->timer, &timers, 1 /* CLOCK_MONOTONIC */);
	if (pinned) {
		bpf_timer_set_callback(&e->timer, on_pinned_timer);
		ret = bpf_timer_start(&e->timer, 1000000, BPF_F_TIMER_CPU_PIN);
		ret_slot = SLOT_TIMER_PIN_RET;
	} else {
		bpf_timer_set_callback(&e->timer, on_plain_timer);
		ret = bpf_timer_start(&e->timer, 1000000, 0);
		ret_slot = SLOT_TIMER_PLAIN_RET;
	}
	ret_out = bpf_map_lookup_elem(&hits, &ret_slot);
	if (ret_out)
		*ret_out = ret + RET_BIAS;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(timer_pinned)
{
	start_timer_once(true);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(timer_plain)
{
	start_timer_once(false);
	return 0;
}
