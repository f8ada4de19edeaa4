#!/bin/bash
# smoke.sh BUILD SECONDS - run the tape reader fuzzer for SECONDS on a
# copy of the seed corpus; fail if it finds a crash, a leak or a timeout.
set -euo pipefail
BUILD=${1:-build}
SECONDS_TO_RUN=${2:-60}
FUZZER=$BUILD/fuzz/fuzz_reader
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$FUZZER" ] || { echo "smoke: $FUZZER not built: run make fuzz" >&2; exit 2; }
work=$(mktemp -d /tmp/tt-fuzz-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$here"/corpus/* "$work"/ 2>/dev/null || true
echo "fuzz-smoke: $FUZZER for ${SECONDS_TO_RUN}s on $(ls "$work" | wc -l) seeds"
if ! "$FUZZER" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 \
	-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/" \
	-print_final_stats=1 "$work" 2>"$work/log.txt"; then
	tail -60 "$work/log.txt" >&2
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$a" ] && cp "$a" "$BUILD/fuzz/" && echo "fuzz-smoke: reproducer saved as $BUILD/fuzz/$(basename "$a")" >&2
	done
	echo "fuzz-smoke: FAILED" >&2
	exit 1
fi
grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/log.txt" || true
echo "fuzz-smoke: passed (no crash in ${SECONDS_TO_RUN}s)"
