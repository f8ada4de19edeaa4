#!/bin/bash
# The main job: replay a bundled sample tape with a few analyses (no root
# needed).  As root, with DEMO_RECORD=1, it also records a short live tape
# of a small workload first and replays that.
set -euo pipefail
BUILD=${1:-build}
TT=$BUILD/tracetape
[ -x "$TT" ] || { echo "demo: $TT not built: run make first" >&2; exit 2; }
sample=samples/bash-session
[ -d "$sample" ] || sample=$(ls -d samples/*/ | head -1)

run() { echo; echo "\$ tracetape $*"; "$TT" "$@"; }

run info "$sample"
run opensnoop "$sample" -T | head -25
run execsnoop "$sample" -T | head -15
run bashreadline "$sample"
for a in filetop filelife history; do
	if "$TT" "$a" --help >/dev/null 2>&1; then
		run "$a" "$sample" | head -30
	fi
done
run verify "$sample"

if [ "${DEMO_RECORD:-0}" = 1 ] && [ "$(id -u)" = 0 ]; then
	tape=$(mktemp -d /tmp/tracetape-demo.XXXXXX)/tape
	echo; echo "\$ tracetape record -o $tape -- sh -c 'ls /etc >/dev/null; cat /etc/hostname'"
	"$TT" record -q -o "$tape" -- sh -c 'ls /etc >/dev/null; cat /etc/hostname'
	run opensnoop "$tape"
	run execsnoop "$tape"
fi
