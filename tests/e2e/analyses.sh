#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end test of every replay analysis on tapes recorded for real:
# the deterministic workload (tests/e2e/workload.c) twice and once as
# variant b (known differences for diff), and an interactive bash under tmux
# typing known lines, then the same lines plus one. tests/e2e/analyses.py
# then runs opensnoop, filetop, filelife, execsnoop, bashreadline, history,
# info, verify, dump, diff, export and slice on them and compares with what
# was done (export --format openmetrics also through promtool).
#
# usage: tests/e2e/analyses.sh BUILD_DIR      (as root; KEEP=1 keeps the tapes)
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "##########################################################"
	echo "# analyses e2e SKIPPED: tracetape-record needs root (BPF). #"
	echo "# Run 'sudo bash tests/e2e/analyses.sh build' to run it.   #"
	echo "##########################################################"
	exit 0
fi

fail() {
	echo "analyses e2e FAILED: $*" >&2
	exit 1
}

for bin in tracetape tracetape-record tests/workload; do
	[ -x "$BUILD/$bin" ] || fail "$BUILD/$bin missing: run 'make all' first"
done
for tool in python3 tmux dd; do
	command -v $tool >/dev/null || fail "$tool not installed (make deps)"
done

TMP=$(mktemp -d /tmp/tracetape-analyses.XXXXXX)
# A tmux server of our own: never touches the user's sessions or run.sh's.
SOCK=tt-analyses-$$
SESSION=tt-analyses
PROMPT='tt-prompt> '
tmx() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() {
	tmx kill-server 2>/dev/null
	# the server leaves its socket behind when the last session ends
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
# promtool checks the openmetrics export (tracetape export): Debian's
# prometheus package has it.  When promtool is not on the PATH,
# take it alone out of the package into BUILD/e2e
# rather than installing it: the package would start a Prometheus server.
find_promtool() {
	command -v promtool && return 0
	local dir=$BUILD/e2e/prometheus
	[ -x "$dir/usr/bin/promtool" ] && { echo "$dir/usr/bin/promtool"; return 0; }
	mkdir -p "$dir" || return 1
	(cd "$dir" && { apt-get download -q prometheus ||
		{ apt-get update -q && apt-get download -q prometheus; }; } &&
		dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb) \
		>"$TMP/promtool-apt.log" 2>&1 &&
		[ -x "$dir/usr/bin/promtool" ] && echo "$dir/usr/bin/promtool"
}
PROMTOOL=$(find_promtool)
if [ -n "$PROMTOOL" ]; then
	echo "promtool for the openmetrics export: $PROMTOOL"
else
	echo "SKIP  promtool: not installed, and apt-get download prometheus" \
		"failed (see $TMP/promtool-apt.log): the openmetrics export" \
		"is checked without promtool"
fi

# A private copy of the binaries: a rebuild during the run cannot change them.
mkdir "$TMP/bin"
cp "$BUILD/tracetape-record" "$BUILD/tracetape" "$BUILD/tests/workload" \
	"$TMP/bin/" || fail "cannot copy the binaries from $BUILD to $TMP/bin"
REC=$TMP/bin/tracetape-record
TT=$TMP/bin/tracetape
WORKLOAD=$TMP/bin/workload

# Each run in its own mktemp directory, as two real runs would be: diff
# --normalize must fold tmp.XXXXXX, plain diff must see the difference.
# TT_WORKLOAD_VARIANT=b (see workload.c) plants known differences for diff.
record_workload() { # TAPE [VARIANT] -> prints the run directory
	local dir
	dir=$(mktemp -d "$TMP/tmp.XXXXXX") || fail "mktemp in $TMP failed"
	TT_WORKLOAD_VARIANT=${2:-} "$REC" -q -o "$1" -- \
		"$WORKLOAD" "$dir/work" "$dir/expect.json" ||
		fail "recorder -- workload exited $?, the workload exits 0"
	echo "$dir"
}

echo "== 1. the workload under tracetape-record, twice, then variant b"
RUN1=$(record_workload "$TMP/tape") || exit 1
RUN2=$(record_workload "$TMP/tape2") || exit 1
RUNB=$(record_workload "$TMP/tapeb" b) || exit 1

# Count the prompts on the pane: one more means the last line has finished.
prompts() {
	tmx capture-pane -p -J -S - -t "$SESSION" 2>/dev/null |
		grep -c "^$PROMPT"
}
wait_prompts() { # N
	for _ in $(seq 400); do
		[ "$(prompts)" -ge "$1" ] && return 0
		[ -s "$TMP/bash.rc" ] && fail "recorder -- bash ended early," \
			"exit status $(cat "$TMP/bash.rc"), before prompt number $1"
		sleep 0.05
	done
	tmx capture-pane -p -J -S - -t "$SESSION" >&2
	fail "bash under tmux did not show prompt number $1 within 20 s"
}

echo "== 2. interactive bash under tmux, recorded with -- /bin/bash (${SECONDS}s)"
# The recorder runs inside the pane and starts bash on the pane's terminal;
# the whole tree (bash and what it starts) is traced until bash exits.
# HISTFILE keeps bash's history out of root's home.
DD_OUT=$TMP/dd.out
cat >"$TMP/lines.txt" <<EOF
true
/bin/true tt-one "two  words"
sh -c 'exit 3'
(sleep 0.2; echo bg >$TMP/bg.out) &
cat /nonexistent
cd $TMP && cat ./lines.txt >/dev/null
dd if=/dev/zero of=$DD_OUT bs=1000 count=7 status=none; sleep 0.3; rm $DD_OUT
/nonexistent/tt-prog arg-one
exit 5
EOF
# One recorded bash session typing the lines of LINES_FILE; the last line
# must be "exit 5".
record_bash() { # LINES_FILE TAPE
	rm -f "$TMP/bash.rc" "$TMP/bg.out"
	tmx new-session -d -s "$SESSION" -x 200 -y 50 \
		"env PS1='$PROMPT' HISTFILE='$TMP/bash_history' \
		 '$REC' -q -o '$2' -- /bin/bash --norc -i; \
		 echo \$? >'$TMP/bash.rc'" || fail "tmux new-session failed"
	wait_prompts 1
	local n=1 line
	while IFS= read -r line; do
		tmx send-keys -t "$SESSION" -l "$line"
		tmx send-keys -t "$SESSION" Enter
		n=$((n + 1))
		[ "$line" = "exit 5" ] || wait_prompts $n
	done <"$1"
	for _ in $(seq 100); do
		[ -s "$TMP/bash.rc" ] && break
		sleep 0.1
	done
	[ -s "$TMP/bash.rc" ] || fail "recorder -- bash did not end after 'exit 5'"
	rc=$(cat "$TMP/bash.rc")
	[ "$rc" = 5 ] || fail "recorder -- bash exited $rc after 'exit 5', want 5"
	echo "PASS  recorder -- bash ($1): exited 5 after 'exit 5' was typed, want 5"
}
record_bash "$TMP/lines.txt" "$TMP/bashtape"

echo "== 2b. the same lines plus one more, for diff (${SECONDS}s)"
# A fresh history file each time (the same name), else the second session
# appends where the first created: a difference nobody typed.
mv "$TMP/bash_history" "$TMP/bash_history.1" 2>/dev/null
EXTRA_LINE='true tt-extra-line'
sed "\$i $EXTRA_LINE" "$TMP/lines.txt" >"$TMP/lines2.txt"
record_bash "$TMP/lines2.txt" "$TMP/bashtape2"

echo "== 3. every analysis vs the workload's account and the lines (${SECONDS}s)"
python3 "$HERE/analyses.py" --tracetape "$TT" \
	--tape "$TMP/tape" --expect "$RUN1/expect.json" \
	--tape2 "$TMP/tape2" --expect2 "$RUN2/expect.json" \
	--bash-tape "$TMP/bashtape" --bash-lines "$TMP/lines.txt" \
	--tapeb "$TMP/tapeb" --expectb "$RUNB/expect.json" \
	--bash-tape2 "$TMP/bashtape2" --extra-line "$EXTRA_LINE" \
	--dd-out "$DD_OUT" --promtool "$PROMTOOL" ||
	fail "analysis checks failed (KEEP=1 keeps $TMP)"
echo "== 4. slice: whole, by comm, and an OUT that exists (${SECONDS}s)"
# (analyses.py checks slices by pid, --tree and a window line by line)
same_output() { # NAME A B ANALYSIS [OPTS...]: same stdout on tapes A and B
	local name=$1 a=$2 b=$3
	shift 3
	"$TT" "$@" "$a" >"$TMP/slice-a.out" 2>&1
	"$TT" "$@" "$b" >"$TMP/slice-b.out" 2>&1
	cmp -s "$TMP/slice-a.out" "$TMP/slice-b.out" ||
		{ diff "$TMP/slice-a.out" "$TMP/slice-b.out" | head >&2
		  fail "$name: tracetape $* differs on $a and $b"; }
	echo "PASS  $name: tracetape $* prints the same" \
		"$(wc -l <"$TMP/slice-a.out") lines on both"
}
"$TT" slice "$TMP/tape" -o "$TMP/slice-all" >/dev/null ||
	fail "tracetape slice $TMP/tape exited $?"
for a in opensnoop execsnoop filetop filelife; do
	same_output "whole slice" "$TMP/tape" "$TMP/slice-all" $a
done
"$TT" slice "$TMP/bashtape" -o "$TMP/slice-bash-all" >/dev/null ||
	fail "tracetape slice $TMP/bashtape exited $?"
for a in history bashreadline execsnoop; do
	same_output "whole slice of the bash tape" "$TMP/bashtape" \
		"$TMP/slice-bash-all" $a
done
"$TT" verify "$TMP/slice-all" >/dev/null ||
	fail "tracetape verify of the whole slice exited $?, want 0"
"$TT" slice "$TMP/bashtape" -o "$TMP/slice-bash" --comm bash >/dev/null ||
	fail "tracetape slice --comm bash exited $?"
same_output "slice --comm bash" "$TMP/bashtape" "$TMP/slice-bash" bashreadline
"$TT" verify "$TMP/slice-bash" >/dev/null ||
	fail "tracetape verify of the --comm bash slice exited $?, want 0"
"$TT" slice "$TMP/tape" -o "$TMP/slice-all" 2>"$TMP/slice.err" >/dev/null
rc=$?
[ $rc = 2 ] && grep -q "exists and is not empty" "$TMP/slice.err" ||
	fail "slice into an existing OUT: exit $rc, want 2 and a message," \
		"got: $(cat "$TMP/slice.err")"
echo "PASS  slice into an existing OUT: exit 2, \"exists and is not empty\""
echo "analyses e2e passed in ${SECONDS}s"
