#!/bin/bash
# SPDX-License-Identifier: MIT
# Overhead of tracetape-record (all probes) on the open+read+close loop:
# untraced (A) and recorded (B) runs interleaved, medians of wall-clock and
# CPU-time ns per iteration, their ratios, and the events lost.
#
# usage: tests/e2e/perf.sh BUILD_DIR [ROUNDS] [ITERATIONS] [RECORDER OPTS]
#   (as root).  RECORDER OPTS default to "-- " mode: the loop is the
#   recorder's COMMAND; pass e.g. "-e open" to measure one group.
#   READS=8 (environment) reads the file 8 times per open, SIZE (default
#   512) bytes each, from a 64 KiB file: runs of reads on one descriptor.
#   STATS=1 adds one recorded run with kernel.bpf_stats_enabled=1 and
#   prints each program's run time per invocation over a 2 s window (the
#   averages include every other process's system calls, which mostly take
#   the cheap "not ours" path; the kernel's clock reads for the statistics
#   add a floor of roughly 100 ns per invocation on kvm-clock).
#   PROFILE=1 adds one recorded run of the loop under `perf record -g`
#   (software cpu-clock: this VM has no hardware counters) and prints what
#   share of the loop's samples the sys_exit path takes, and its parts.
set -eu
BUILD=${1:-build}
ROUNDS=${2:-9}
ITER=${3:-300000}
shift $(($# < 3 ? $# : 3))
[ "$(id -u)" -eq 0 ] || { echo "perf.sh: needs root" >&2; exit 1; }
TMP=$(mktemp -d /tmp/tracetape-perf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
echo "tracetape perf loop" >"$TMP/small.txt"
LOOP="$BUILD/tests/loop"
READS=${READS:-1}
if [ "$READS" -gt 1 ]; then
	head -c 65536 /dev/zero >"$TMP/small.txt"
	LOOP_READS="$READS ${SIZE:-512}"
else
	LOOP_READS=""
fi
# CHRT="chrt -f 50" runs the loop as a real-time task, so that other work
# on the machine does not preempt it (the recorder stays normal priority)
CHRT=${CHRT:-}
"$LOOP" "$TMP/small.txt" 50000 >/dev/null # warm up
aw=() ac=() bw=() bc=() lost=0 bytes=0 events=0
for r in $(seq "$ROUNDS"); do
	read -r w c < <($CHRT "$LOOP" "$TMP/small.txt" "$ITER" $LOOP_READS)
	aw+=("$w") ac+=("$c")
	"$BUILD/tracetape-record" -q -o "$TMP/tape$r" "$@" \
		-- $CHRT "$LOOP" "$TMP/small.txt" "$ITER" $LOOP_READS >"$TMP/b.out" 2>"$TMP/b.err"
	read -r w c <"$TMP/b.out"
	bw+=("$w") bc+=("$c")
	l=$("$BUILD/tracetape" dump --json "$TMP/tape$r" |
		python3 -c 'import json,sys; print(sum(json.loads(l).get("count",0) for l in sys.stdin if "\"loss\"" in l))')
	lost=$((lost + l))
	echo "round $r: untraced ${aw[-1]} wall ${ac[-1]} cpu ns/iter; recorded ${bw[-1]} wall ${bc[-1]} cpu; lost $l; tape $(du -sk "$TMP/tape$r" | cut -f1) KiB"
	rm -rf "$TMP/tape$r"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b/a}'; }
maw=$(median "${aw[@]}") mac=$(median "${ac[@]}")
mbw=$(median "${bw[@]}") mbc=$(median "${bc[@]}")
echo "median wall: untraced $maw, recorded $mbw ns/iter, ratio $(ratio "$maw" "$mbw")"
echo "median cpu:  untraced $mac, recorded $mbc ns/iter, ratio $(ratio "$mac" "$mbc")"
echo "lost events in all rounds: $lost"

# The recorder's programs: those loaded after IDS_BEFORE, by name.
prog_stats() {
	bpftool prog show -j | IDS_BEFORE="$1" python3 -c '
import json, os, sys
old = set(map(int, os.environ["IDS_BEFORE"].split()))
for p in json.load(sys.stdin):
    if p["id"] not in old and p.get("run_cnt"):
        print(p["name"], p["run_time_ns"], p["run_cnt"])'
}

if [ "${STATS:-0}" = 1 ]; then
	was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -q kernel.bpf_stats_enabled=1
	before=$(bpftool prog show -j | python3 -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))')
	"$BUILD/tracetape-record" -q -o "$TMP/tape-stats" "$@" \
		-- $CHRT "$LOOP" "$TMP/small.txt" $((ITER * 10)) $LOOP_READS >/dev/null 2>&1 &
	rec=$!
	sleep 1
	prog_stats "$before" >"$TMP/s1"
	sleep 2
	prog_stats "$before" >"$TMP/s2"
	wait "$rec" || true
	sysctl -q kernel.bpf_stats_enabled="$was"
	echo "bpf_stats over 2 s (program, ns per invocation, invocations):"
	python3 - "$TMP/s1" "$TMP/s2" <<'PY'
import sys
def load(path):
    return {l.split()[0]: tuple(map(int, l.split()[1:])) for l in open(path)}
a, b = load(sys.argv[1]), load(sys.argv[2])
for name in sorted(b):
    if name in a and b[name][1] > a[name][1]:
        dt, dc = b[name][0] - a[name][0], b[name][1] - a[name][1]
        print("  %-16s %7.1f ns %10d" % (name, dt / dc, dc))
PY
fi

if [ "${PROFILE:-0}" = 1 ]; then
	"$BUILD/tracetape-record" -q -o "$TMP/tape-prof" "$@" -- \
		perf record -q -F 10000 -g -o "$TMP/perf.data" -- \
		$CHRT "$LOOP" "$TMP/small.txt" "$ITER" $LOOP_READS >/dev/null 2>&1
	perf report -i "$TMP/perf.data" --children --sort sym --stdio -g none \
		2>/dev/null >"$TMP/perf.txt"
	echo "share of the loop's samples (inclusive, then self):"
	python3 - "$TMP/perf.txt" <<'PY'
import re, sys
rows = {}
for m in re.finditer(r"^\s+([\d.]+)%\s+([\d.]+)%\s+\[k\]\s+(\S+)",
                     open(sys.argv[1]).read(), re.M):
    rows[m.group(3)] = (float(m.group(1)), float(m.group(2)))
parts = ["syscall_exit_work", "bpf_trace_run2"]
parts += sorted(k for k in rows if k.startswith("bpf_prog_"))
parts += ["ktime_get_boot_fast_ns", "bpf_ringbuf_output",
          "bpf_probe_read_user_str", "bpf_probe_read_kernel_str",
          "bpf_probe_read_kernel", "bpf_get_current_comm",
          "bpf_get_current_uid_gid", "bpf_timer_start"]
for name in parts:
    if name in rows:
        print("  %-40s %6.2f%% %6.2f%%" % ((name,) + rows[name]))
PY
fi
