#!/bin/bash
# The main job: replay the bundled sample tapes with each analysis (no root
# needed).  As root, with DEMO_RECORD=1, it first records a short live tape
# of a small command and replays that too.
set -euo pipefail
BUILD=${1:-build}
TT=$BUILD/tracetape
[ -x "$TT" ] || { echo "demo: $TT not built: run make first" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Run one analysis, show its first MAX lines, fail the demo if it fails.
show() {
	local max=$1
	shift
	echo
	echo "\$ tracetape $*"
	"$TT" "$@" >"$out"
	head -n "$max" "$out"
	local n
	n=$(wc -l <"$out")
	if [ "$n" -gt "$max" ]; then echo "... ($((n - max)) more lines)"; fi
}

show 40 info samples/compile
show 15 opensnoop samples/compile -T
show 12 execsnoop samples/compile
show 12 filetop samples/compile -r 8
show 20 filelife samples/tmpfiles --all
show 20 bashreadline samples/bash-session
show 60 history samples/bash-session
show 5 verify samples/bash-session

if [ "${DEMO_RECORD:-0}" = 1 ] && [ "$(id -u)" = 0 ]; then
	tape=$(mktemp -d /tmp/tracetape-demo.XXXXXX)/tape
	echo
	echo "\$ tracetape record -q -o $tape -- sh -c 'ls /etc >/dev/null; cat /etc/hostname'"
	"$TT" record -q -o "$tape" -- sh -c 'ls /etc >/dev/null; cat /etc/hostname'
	show 20 opensnoop "$tape"
	show 10 execsnoop "$tape"
fi
