#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the test VM built by tests/vm/run.sh (busybox sh, PID 1).
#
# Records the e2e workload with the static recorder on the VM's kernel and
# sends everything back on the second serial port (ttyS1), which the kernel
# does not write to, so its messages cannot break the lines:
#   TTVM-INFO <fact>            kernel facts (one per line)
#   TTVM-PROBECHECK <line>      output of probecheck (attach mechanisms)
#   TTVM-RC <name> <status>     exit status of each recording
#   TTVM-BEGIN-TAR / TTVM-END-TAR   base64 of a tar of /out between them
#   TTVM-DONE                   the last line: everything was sent
# Then powers off.  The console (ttyS0) shows the same steps for a human.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing
mount -t debugfs nodev /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
mount -t securityfs securityfs /sys/kernel/security
echo 1 >/proc/sys/kernel/printk # keep kernel chatter off the console
ulimit -l unlimited             # older kernels charge BPF maps to memlock

OUT=/dev/ttyS1
[ -c "$OUT" ] || OUT=/dev/console
stty -F "$OUT" raw -echo 2>/dev/null

send() { echo "$*" >"$OUT"; }
info() {
	echo "tracetape-vm: $*"
	send "TTVM-INFO $*"
}

info "kernel $(uname -r)"
if [ -r /sys/kernel/btf/vmlinux ]; then
	info "btf /sys/kernel/btf/vmlinux present"
else
	info "btf /sys/kernel/btf/vmlinux MISSING"
fi
for f in kprobe_events uprobe_events available_filter_functions; do
	if [ -e "/sys/kernel/tracing/$f" ]; then
		info "tracefs $f present"
	else
		info "tracefs $f MISSING"
	fi
done
for fn in vfs_read vfs_write vfs_open; do
	if grep -q "^$fn\$" /sys/kernel/tracing/available_filter_functions 2>/dev/null; then
		info "ftrace can hook $fn"
	else
		info "ftrace cannot hook $fn"
	fi
done
info "lsm $(cat /sys/kernel/security/lsm 2>/dev/null || echo unknown)"

echo "tracetape-vm: probecheck"
/bin/probecheck /probecheck.bpf.o 2>&1 | while IFS= read -r line; do
	echo "  $line"
	send "TTVM-PROBECHECK $line"
done

mkdir -p /out
echo "hello from the tracetape vm" >/etc/hostname

# The same workload three ways: --mechanism auto (fexit, where this
# kernel allows it), tracepoint (tp_btf sys_exit), raw_tp (the fallback).
record() { # NAME MECHANISM
	echo "tracetape-vm: recording the workload (--mechanism $2)"
	TRACETAPE_DEBUG=1 /bin/tracetape-record -q --mechanism "$2" \
		-o "/out/tape-$1" -- /bin/workload "/work-$1" \
		"/out/expect-$1.json" 2>"/out/record-$1.err"
	send "TTVM-RC record-$1 $?"
}
record auto auto
record tracepoint tracepoint
record rawtp raw_tp

# A 32-bit system call, recorded with the sys_exit tracepoint (the host
# checks that it left no file record).
echo "tracetape-vm: a 32-bit system call (--mechanism tracepoint)"
/bin/tracetape-record -q --mechanism tracepoint -o /out/tape-compat \
	-- /bin/compat >/out/compat.out 2>/out/record-compat.err

# Four loops at once under fexit: its programs may be preempted, and what
# they miss must be counted (checked on the host: on the tape + lost =
# every call).
echo "tracetape-vm: four loops at once (--mechanism fexit)"
echo "tracetape vm parallel" >/tmp/parallel.txt
/bin/tracetape-record -q --mechanism fexit -o /out/tape-parallel -- sh -c \
	"for i in 1 2 3 4; do /bin/loop /tmp/parallel.txt 3000 >/dev/null & done; wait" \
	2>/out/record-parallel.err
send "TTVM-RC record-parallel $?"

# The open+read+close loop untraced and under each mechanism, interleaved.
# Under TCG these are emulated instructions, not a real machine's time:
# the ratios only say how much work each mechanism adds.
echo "tracetape-vm: loop timings"
echo "tracetape vm loop" >/tmp/small.txt
/bin/loop /tmp/small.txt 2000 >/dev/null
for round in 1 2 3; do
	send "TTVM-LOOP untraced $(/bin/loop /tmp/small.txt 20000)"
	for m in fexit tracepoint; do
		/bin/tracetape-record -q --mechanism $m -o "/tmp/loop-$m-$round" \
			-- /bin/loop /tmp/small.txt 20000 >/tmp/loop.out 2>/dev/null
		send "TTVM-LOOP $m $(cat /tmp/loop.out)"
		rm -rf "/tmp/loop-$m-$round"
	done
done

# VM_ICOUNT=1 (kernel argument ttvm_profile): guest time is instructions,
# so one run per configuration is exact; the groups one by one show what
# each costs on top of the hook (-e exec records nothing of the loop).
if grep -q ttvm_profile /proc/cmdline; then
	echo "tracetape-vm: profile (instructions per iteration)"
	for m in fexit tracepoint; do
		for g in exec open rw open,rw,life,exec,bash; do
			/bin/tracetape-record -q --mechanism $m -e $g -o /tmp/prof \
				-- /bin/loop /tmp/small.txt 20000 >/tmp/loop.out 2>/dev/null
			send "TTVM-PROFILE $m:-e:$g $(cat /tmp/loop.out)"
			rm -rf /tmp/prof
		done
	done
fi

echo "tracetape-vm: sending /out"
send "TTVM-BEGIN-TAR"
tar -C /out -cf - . | base64 >"$OUT"
send "TTVM-END-TAR"
send "TTVM-DONE"
sync
poweroff -f
