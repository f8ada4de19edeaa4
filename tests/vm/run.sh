#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the recorder on a second kernel: Debian's 6.1 cloud kernel, booted
# under QEMU (TCG) with an initramfs holding busybox, the static recorder,
# a static copy of the e2e workload and a probe check.  The VM records the
# workload, sends the tapes back over a serial port, and this script checks
# them on the host with build/tracetape and tests/e2e/check.py.
#
# usage: tests/vm/run.sh [BUILD]   (as root; BUILD, default build, is
#                                  relative to the repository root)
#
# Prints PASS/FAIL/INFO lines; exits 1 on a failure, 0 with a SKIP line when
# QEMU or the kernel package cannot be obtained.  Cache: BUILD/vm (the
# extracted kernel and busybox stay there, so reruns do not download).
# Environment: VM_TIMEOUT (seconds for the VM, default 600), VM_SMP (CPUs,
# default 2), VM_REFRESH=1 (fetch the newest kernel again), VM_ICOUNT=1
# (guest time = instructions executed: repeatable loop ratios).  Each run's
# files stay in BUILD/vm/work until the next run.  See docs/TESTING-VM.md.
set -u
export DEBIAN_FRONTEND=noninteractive

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${1:-build}
VM=$BUILD/vm
WORK=$VM/work
T0=$(date +%s.%N)
FAILED=0

say() { echo "== $*"; }
pass() { echo "PASS  vm: $*"; }
info() { echo "INFO  vm: $*"; }
skip() {
	echo "SKIP  vm: $*"
	exit 0
}
fail() {
	echo "FAIL  vm: $*"
	FAILED=1
}
die() {
	fail "$*"
	exit 1
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (apt-get for QEMU and the kernel package): run 'sudo bash tests/vm/run.sh'"
fi

# ---- 1. QEMU and cpio from Debian -----------------------------------
apt_install() {
	apt-get install -y -q --no-install-recommends "$@" >"$VM/apt.log" 2>&1 ||
		{ apt-get update -q >>"$VM/apt.log" 2>&1 &&
			apt-get install -y -q --no-install-recommends "$@" \
				>>"$VM/apt.log" 2>&1; }
}

mkdir -p "$VM"
t=$(date +%s.%N)
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null; then
	say "installing qemu-system-x86 and cpio"
	apt_install qemu-system-x86 cpio ||
		skip "apt-get install qemu-system-x86 cpio failed (see $VM/apt.log)"
fi
for tool in qemu-system-x86_64 cpio python3 clang cc; do
	command -v $tool >/dev/null || die "$tool not found (make deps; apt-get install qemu-system-x86 cpio)"
done
info "packages ready in $(since "$t") s"

# ---- 2. busybox-static and the 6.1 kernel, extracted into the cache -------
# Both are fetched with `apt-get download` and unpacked under BUILD/vm, so
# the host's own busybox (if any) and /boot are left alone.
fetch_deb() { # PACKAGE DEST: extract PACKAGE's files into DEST
	local pkg=$1 dest=$2 dl=$VM/dl
	rm -rf "$dl" "$dest" && mkdir -p "$dl" || return 1
	(cd "$dl" && apt-get download -q "$pkg") >>"$VM/apt.log" 2>&1 ||
		{ apt-get update -q >>"$VM/apt.log" 2>&1 &&
			(cd "$dl" && apt-get download -q "$pkg") >>"$VM/apt.log" 2>&1; } ||
		return 1
	dpkg-deb -x "$dl"/*.deb "$dest" && rm -rf "$dl"
}

newest_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' |
		awk '{ print $1 }' | sort -V | tail -n 1
}

t=$(date +%s.%N)
BUSYBOX=$VM/busybox/bin/busybox
if [ ! -x "$BUSYBOX" ]; then
	say "fetching busybox-static"
	fetch_deb busybox-static "$VM/busybox" ||
		skip "apt-get download busybox-static failed (see $VM/apt.log)"
fi
KDIR=$VM/kernel
if [ "${VM_REFRESH:-0}" = 1 ] || [ ! -s "$KDIR/vmlinuz" ]; then
	pkg=$(newest_kernel)
	if [ -z "$pkg" ]; then
		apt-get update -q >>"$VM/apt.log" 2>&1
		pkg=$(newest_kernel)
	fi
	[ -n "$pkg" ] ||
		skip "no linux-image-6.1.0-*-cloud-amd64-unsigned in apt-cache search (is bookworm in sources.list?)"
	say "fetching $pkg"
	fetch_deb "$pkg" "$VM/kpkg" ||
		skip "apt-get download $pkg failed (see $VM/apt.log)"
	rm -rf "$KDIR" && mkdir -p "$KDIR"
	cp "$VM"/kpkg/boot/vmlinuz-* "$KDIR/vmlinuz" &&
		cp "$VM"/kpkg/boot/config-* "$KDIR/config" ||
		die "$pkg holds no boot/vmlinuz-* or boot/config-*"
	echo "$pkg" >"$KDIR/package"
	rm -rf "$VM/kpkg" # the modules are not needed: all we use is built in
fi
info "kernel package $(cat "$KDIR/package") ready in $(since "$t") s"
# what the package's build configuration says about the attach mechanisms
for opt in DEBUG_INFO_BTF KPROBES KPROBE_EVENTS FUNCTION_TRACER \
	DYNAMIC_FTRACE_WITH_DIRECT_CALLS FPROBE BPF_LSM LSM; do
	info "config $(grep -E "^(# )?CONFIG_$opt[ =]" "$KDIR/config" || echo "CONFIG_$opt absent")"
done

# ---- 3. the binaries: static recorder, static workload, probe check ------
t=$(date +%s.%N)
say "building the static recorder, tracetape and the VM's helpers"
make -s BUILD="$BUILD" "$BUILD/tracetape" static >"$VM/make.log" 2>&1 ||
	die "make BUILD=$BUILD $BUILD/tracetape static failed: $(tail -n 5 "$VM/make.log")"
REC=$BUILD/tracetape-record-static
TT=$BUILD/tracetape
ldd "$REC" 2>&1 | grep -q "not a dynamic executable" ||
	die "$REC is dynamically linked; 'make static' should build it with -static"
HELPERS=$VM/helpers
mkdir -p "$HELPERS"
cc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	tests/e2e/workload.c -o "$HELPERS/workload" ||
	die "cannot build a static tests/e2e/workload.c"
cc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	tests/e2e/loop.c -o "$HELPERS/loop" ||
	die "cannot build a static tests/e2e/loop.c"
cc -static -O2 -std=gnu11 -Wall -Wextra -Werror \
	tests/vm/compat.c -o "$HELPERS/compat" ||
	die "cannot build a static tests/vm/compat.c"
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$BUILD/bpf" \
	-c tests/vm/probecheck.bpf.c -o "$HELPERS/probecheck.bpf.o" ||
	die "cannot build tests/vm/probecheck.bpf.c (needs $BUILD/bpf/vmlinux.h from make)"
cc -static -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	tests/vm/probecheck.c -o "$HELPERS/probecheck" -lbpf -lelf -lz -lzstd ||
	die "cannot build a static tests/vm/probecheck.c (needs libbpf-dev libelf-dev zlib1g-dev libzstd-dev)"
info "binaries built in $(since "$t") s"

# ---- 4. the initramfs ------------------------------------------------------
copy_with_libs() { # BINARY ROOTDIR: the binary and its shared libraries
	local bin=$1 root=$2 lib
	mkdir -p "$root$(dirname "$bin")" && cp -L "$bin" "$root$bin" || return 1
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
}

build_initramfs() {
	local r=$WORK/root applet
	rm -rf "$r" && mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root} || return 1
	cp "$BUSYBOX" "$r/bin/busybox" || return 1
	# every applet (sh, mount, tar, base64, poweroff, true...) as a link;
	# the workload execs /bin/true, which busybox answers by its name.
	# One python3 instead of ~270 ln processes (forks are slow here).
	"$BUSYBOX" --list-full | python3 -c '
import os, sys
root = sys.argv[1]
for applet in sys.stdin.read().split():
    link = os.path.join(root, applet)
    if not os.path.lexists(link):
        os.symlink("/bin/busybox", link)
' "$r" || return 1
	# bash with its libraries, so the readline uretprobe has a target
	copy_with_libs /bin/bash "$r" || return 1
	cp "$REC" "$r/bin/tracetape-record" &&
		cp "$HELPERS/workload" "$HELPERS/loop" "$HELPERS/compat" "$HELPERS/probecheck" "$r/bin/" &&
		cp "$HELPERS/probecheck.bpf.o" "$r/probecheck.bpf.o" &&
		cp tests/vm/init.sh "$r/init" && chmod 755 "$r/init" || return 1
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	echo "root:x:0:" >"$r/etc/group"
	echo "0123456789abcdef0123456789abcdef" >"$r/etc/machine-id"
	echo "Etc/UTC" >"$r/etc/timezone"
	(cd "$r" && find . | cpio -o -H newc --quiet) >"$WORK/initrd.cpio"
}

t=$(date +%s.%N)
rm -rf "$WORK" && mkdir -p "$WORK"
build_initramfs || die "cannot build the initramfs in $WORK/root"
info "initramfs $(du -k "$WORK/initrd.cpio" | cut -f1) KiB built in $(since "$t") s"

# ---- 5. boot 6.1 under TCG; the VM powers itself off ----------------------
t=$(date +%s.%N)
say "booting $(cat "$KDIR/package") under QEMU (TCG); console in $WORK/console.log"
# VM_ICOUNT=1: guest time counts executed instructions (one per ns), so the
# loop timings below compare the work each mechanism adds, repeatably
ICOUNT=()
PROFILE_ARG=
if [ "${VM_ICOUNT:-0}" = 1 ]; then
	ICOUNT=(-icount shift=0,sleep=off)
	PROFILE_ARG=" ttvm_profile"
fi
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg "${ICOUNT[@]}" -cpu max \
	-m 1024 -smp "${VM_SMP:-2}" -nodefaults -display none -no-reboot \
	-kernel "$KDIR/vmlinuz" -initrd "$WORK/initrd.cpio" \
	-append "console=ttyS0 panic=-1 quiet loglevel=1$PROFILE_ARG" \
	-serial "file:$WORK/console.log" -serial "file:$WORK/results.log" \
	>"$WORK/qemu.log" 2>&1
qrc=$?
info "VM ran $(since "$t") s (qemu exit $qrc)"
[ $qrc -eq 124 ] && fail "the VM did not power off within ${VM_TIMEOUT:-600} s"
tr -d '\r' <"$WORK/results.log" >"$WORK/results.txt" 2>/dev/null
if ! grep -q '^TTVM-DONE$' "$WORK/results.txt"; then
	echo "---- last lines of the console ($WORK/console.log)"
	tail -n 30 "$WORK/console.log" 2>/dev/null
	echo "---- qemu ($WORK/qemu.log)"
	tail -n 10 "$WORK/qemu.log"
	die "the VM did not send its results (no TTVM-DONE in $WORK/results.log)"
fi

# ---- 6. what the VM said ---------------------------------------------------
sed -n 's/^TTVM-INFO /INFO  vm: /p' "$WORK/results.txt"
sed -n 's/^TTVM-PROBECHECK probe /INFO  vm: probecheck /p' "$WORK/results.txt"
grep -q '^TTVM-INFO kernel 6\.1\.' "$WORK/results.txt" &&
	pass "the VM runs kernel 6.1" ||
	fail "the VM does not run 6.1: $(grep '^TTVM-INFO kernel' "$WORK/results.txt")"
grep -q '^TTVM-INFO btf /sys/kernel/btf/vmlinux present$' "$WORK/results.txt" &&
	pass "the kernel has BTF" || fail "the kernel has no /sys/kernel/btf/vmlinux"

OUT=$WORK/out
mkdir -p "$OUT"
sed -n '/^TTVM-BEGIN-TAR$/,/^TTVM-END-TAR$/p' "$WORK/results.txt" |
	sed '1d;$d' | base64 -d | tar -C "$OUT" -xf - ||
	die "cannot decode the tapes sent between TTVM-BEGIN-TAR and TTVM-END-TAR in $WORK/results.log"

# The lines of a recorder's libbpf output that say why loading failed:
# unresolved kernel symbols, libbpf's failure lines, and the last lines of
# each verifier log (the rejected instruction and the verifier's reason).
summarize_load_errors() { # ERRFILE
	awk '
	/-- BEGIN PROG LOAD LOG --/ { inlog = 1; n = 0; next }
	inlog && /-- END PROG LOAD LOG --/ {
		inlog = 0
		print "      verifier log, last lines:"
		for (i = (n > 4 ? n - 4 : 0); i < n; i++)
			print "        " tail[i % 4]
		next
	}
	inlog { if ($0 !~ /^processed /) tail[n++ % 4] = $0; next }
	/not found in kernel|failed to|load failed|relo .*(fail|poison)/ {
		print "      " $0
	}' "$1" | head -n 40
}

check_tape() { # NAME MECHANISM: the tape /out/tape-NAME must use MECHANISM
	local name=$1 mech=$2 rc
	local tape=$OUT/tape-$name expect=$OUT/expect-$name.json
	local err=$OUT/record-$name.err
	rc=$(sed -n "s/^TTVM-RC record-$name //p" "$WORK/results.txt")
	if [ "$rc" = 0 ]; then
		pass "$name: tracetape-record -- workload exited 0 on 6.1"
	else
		fail "$name: tracetape-record exited ${rc:-?} on 6.1; its messages:"
		grep -E '^tracetape-record' "$err" | head -n 10 | sed 's/^/      /'
		summarize_load_errors "$err"
		echo "      (all of it: $err)"
	fi
	grep 'tracetape-record: warning' "$err" | sed 's/^/INFO  vm: /'
	[ -d "$tape" ] || {
		fail "$name: no tape came back"
		return
	}
	if "$TT" verify "$tape" >"$WORK/$name.verify" 2>&1; then
		pass "$name: tracetape verify exits 0"
	else
		fail "$name: tracetape verify failed: $(tail -n 3 "$WORK/$name.verify")"
	fi
	"$TT" info "$tape" >"$WORK/$name.info" 2>&1 ||
		fail "$name: tracetape info failed: $(tail -n 3 "$WORK/$name.info")"
	grep -E '^kernel ' "$WORK/$name.info" | sed "s/^/INFO  vm: $name /"
	sed -n '/^probes /,/^events /p' "$WORK/$name.info" | sed '1d;$d' \
		>"$WORK/$name.probes"
	sed "s/^ */INFO  vm: $name probe /" "$WORK/$name.probes"
	local nprobes unattached
	nprobes=$(wc -l <"$WORK/$name.probes")
	unattached=$(awk '$3 != "attached"' "$WORK/$name.probes" | wc -l)
	if [ "$nprobes" -gt 0 ] && [ "$unattached" -eq 0 ]; then
		pass "$name: tracetape info lists $nprobes probes with their mechanisms, all attached"
	else
		fail "$name: tracetape info lists $nprobes probes, $unattached not attached"
	fi
	if python3 tests/e2e/check.py --tracetape "$TT" --tape "$tape" \
		--expect "$expect" --mechanism "$mech" >"$WORK/$name.check" 2>&1; then
		pass "$name: tests/e2e/check.py (opens, read/write counts, lifetimes, rename, execs, probes, losses, mechanism $mech)"
	else
		cat "$WORK/$name.check"
		fail "$name: tests/e2e/check.py failed (output above)"
	fi
}

say "checking the tapes recorded on 6.1"
check_tape auto fexit # the upgrade: 6.1 allows fexit
check_tape tracepoint tp_btf
check_tape rawtp raw_tp

# A 32-bit system call (i386 getpid, 20, with rdi = 1) must not be read as
# x86_64's writev(1, ...) by the sys_exit program.
compat_out=$(cat "$OUT/compat.out" 2>/dev/null)
case "$compat_out" in
"compat getpid "*)
	cpid=$(echo "$compat_out" | awk '{ print $3 }')
	bogus=$("$TT" dump --json "$OUT/tape-compat" | python3 -c '
import json, sys
pid = int(sys.argv[1])
print(sum(1 for l in sys.stdin for r in [json.loads(l)]
          if r["type"] == "rw" and r.get("pid") == pid
          and r.get("syscall") == "writev"))' "$cpid")
	# its printf is a real write(1, ...): only a writev would be bogus
	if [ "$bogus" = 0 ]; then
		pass "compat: a 32-bit getpid (int \$0x80, rdi 1) was not recorded as writev(1) (tp_btf)"
	else
		fail "compat: $bogus writev records of pid $cpid, whose only writev-numbered call was a 32-bit getpid"
	fi
	;;
*) fail "compat: tests/vm/compat printed '$compat_out' (IA32 emulation missing on 6.1?)" ;;
esac

rc=$(sed -n "s/^TTVM-RC record-parallel //p" "$WORK/results.txt")
[ "$rc" = 0 ] || fail "parallel: tracetape-record --mechanism fexit exited ${rc:-?}: $(head -c 300 "$OUT/record-parallel.err")"
if python3 tests/e2e/check.py --tracetape "$TT" \
	--parallel-tape "$OUT/tape-parallel" --parallel 4 3000 \
	--parallel-file /tmp/parallel.txt --counted-loss >"$WORK/parallel.check" 2>&1; then
	pass "parallel: $(grep -o 'parallel accounting: .*' "$WORK/parallel.check")"
else
	cat "$WORK/parallel.check"
	fail "parallel: four loops under fexit: calls neither on the tape nor counted lost"
fi

# Loop timings (TCG: emulated work, not real time): median ns per
# iteration of the rounds, and the ratio to untraced.
python3 - "$WORK/results.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    if line.startswith("TTVM-LOOP "):
        f = line.split()
        if len(f) >= 3:
            runs.setdefault(f[1], []).append(float(f[2]))
base = statistics.median(runs.get("untraced", [0])) or None
for m, v in runs.items():
    med = statistics.median(v)
    ratio = " ratio %.2f" % (med / base) if base else ""
    print("INFO  vm: loop (TCG) %-10s median %.0f ns/iter over %d rounds%s"
          % (m, med, len(v), ratio))
# VM_ICOUNT=1: one run per mechanism and probe group, in instructions
for line in open(sys.argv[1]):
    f = line.split()
    if line.startswith("TTVM-PROFILE ") and len(f) >= 3 and base:
        print("INFO  vm: profile %-36s %6.0f instructions/iteration, "
              "+%5.0f over untraced (ratio %.3f)"
              % (f[1].replace(":", " "), float(f[2]), float(f[2]) - base,
                 float(f[2]) / base))
PY

info "total $(since "$T0") s"
if [ $FAILED -ne 0 ]; then
	echo "vm test FAILED (files in $WORK)"
	exit 1
fi
echo "vm test passed"
