#!/bin/bash
# SPDX-License-Identifier: MIT
# Overhead of tracetape-record (all probes) on the open+read+close loop:
# untraced (A) and recorded (B) runs interleaved, medians and their ratio,
# and the events the recorder lost.
#
# usage: tests/e2e/perf.sh BUILD_DIR [ROUNDS] [ITERATIONS]   (as root)
set -eu
BUILD=${1:-build}
ROUNDS=${2:-7}
ITER=${3:-300000}
[ "$(id -u)" -eq 0 ] || { echo "perf.sh: needs root" >&2; exit 1; }
TMP=$(mktemp -d /tmp/tracetape-perf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
echo "tracetape perf loop" >"$TMP/small.txt"
LOOP="$BUILD/tests/loop"
"$LOOP" "$TMP/small.txt" 50000 >/dev/null # warm up
a=() b=() lost=0
for r in $(seq "$ROUNDS"); do
	a+=("$("$LOOP" "$TMP/small.txt" "$ITER")")
	"$BUILD/tracetape-record" -q -o "$TMP/tape$r" \
		-- "$LOOP" "$TMP/small.txt" "$ITER" >"$TMP/b.out" 2>"$TMP/b.err"
	b+=("$(cat "$TMP/b.out")")
	l=$(grep -o '[0-9]* events lost' "$TMP/b.err" | cut -d' ' -f1 || true)
	lost=$((lost + ${l:-0}))
	echo "round $r: untraced ${a[-1]} ns/iter, recorded ${b[-1]} ns/iter, tape $(du -sk "$TMP/tape$r" | cut -f1) KiB"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${a[@]}")
mb=$(median "${b[@]}")
echo "median untraced $ma ns/iter, recorded $mb ns/iter, ratio $(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.3f", b/a}'), lost $lost"
