#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end test of tracetape-record: record a deterministic workload and
# an interactive bash, then check the tapes (through tracetape dump --json)
# against the workload's own account, strace, and the typed lines.
#
# usage: tests/e2e/run.sh BUILD_DIR      (run as root; `make e2e`)
set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "########################################################"
	echo "# e2e SKIPPED: tracetape-record needs root (BPF).      #"
	echo "# Run 'sudo make e2e' to run the end-to-end tests.     #"
	echo "########################################################"
	exit 0
fi

fail() {
	echo "e2e FAILED: $*" >&2
	exit 1
}

for bin in tracetape tracetape-record tests/workload; do
	[ -x "$BUILD/$bin" ] || fail "$BUILD/$bin missing: run 'make all' first"
done
for tool in python3 strace tmux; do
	command -v $tool >/dev/null || fail "$tool not installed (make deps)"
done

REC=$(realpath "$BUILD/tracetape-record")
TT=$(realpath "$BUILD/tracetape")
WORKLOAD=$(realpath "$BUILD/tests/workload")
TMP=$(mktemp -d /tmp/tracetape-e2e.XXXXXX)
SESSION=tt-e2e-$$
REC_PID= RED_PID=
cleanup() {
	[ -n "$REC_PID" ] && kill "$REC_PID" 2>/dev/null
	[ -n "$RED_PID" ] && kill "$RED_PID" 2>/dev/null
	tmux kill-session -t "$SESSION" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

echo "== 1. workload under tracetape-record -- COMMAND"
"$REC" -q -o "$TMP/tape" -- "$WORKLOAD" "$TMP/work" "$TMP/expect.json"
rc=$?
[ $rc -eq 0 ] || fail "recorder exited $rc, the workload exits 0"
mv "$TMP/expect.json" "$TMP/expect-recorded.json"

echo "== 2. the same workload under strace"
rm -rf "$TMP/work"
strace -f -qq -e signal=none -e trace=open,openat,openat2,creat \
	-o "$TMP/strace.out" "$WORKLOAD" "$TMP/work" "$TMP/expect.json" ||
	fail "workload failed under strace"

echo "== 2b. the workload again, sys_exit as raw_tp (the fallback)"
rm -rf "$TMP/work"
"$REC" -q --mechanism raw_tp -o "$TMP/tape-rawtp" \
	-- "$WORKLOAD" "$TMP/work" "$TMP/expect-rawtp.json" ||
	fail "recorder with raw_tp failed"

echo "== 2c. loss accounting: the same loop with a large and a tiny ring"
LOOP=$(realpath "$BUILD/tests/loop")
echo "tracetape loss test" >"$TMP/small.txt"
"$REC" -q -o "$TMP/loss-ref" -- "$LOOP" "$TMP/small.txt" 20000 >/dev/null ||
	fail "loop under the recorder failed"
"$REC" -q -o "$TMP/loss-small" --ring-size 64K \
	-- "$LOOP" "$TMP/small.txt" 20000 >/dev/null 2>"$TMP/loss.err" ||
	fail "loop under the recorder (64K ring) failed"

echo "== 2d. four loops at once on all CPUs"
"$REC" -q -o "$TMP/parallel" -- sh -c \
	"for i in 1 2 3 4; do '$LOOP' '$TMP/small.txt' 30000 >/dev/null & done; wait" ||
	fail "parallel loops under the recorder failed"

echo "== 3. exit status passes through"
"$REC" -q -o "$TMP/tape-exit" -e exec -- sh -c 'exit 7'
rc=$?
[ $rc -eq 7 ] || fail "recorder -- sh -c 'exit 7' exited $rc, want 7"
echo "PASS  exit status: recorder -- sh -c 'exit 7' exited 7"

echo "== 3b. capabilities dropped once recording runs, rotation still works"
"$REC" -q -o "$TMP/tape-caps" --segment-size 64K --flush-interval 50 -- sh -c \
	"grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/\$PPID/status \
	 >'$TMP/caps.txt'; for i in 1 2 3 4 5; do '$LOOP' '$TMP/small.txt' 20000 >/dev/null; sleep 0.1; done" ||
	fail "recorder for the capability check failed"
# CAP_SYS_PTRACE (bit 19) alone: /proc/PID/exe in later segments' snapshots
caps=$(tr -s ' \t' ' ' <"$TMP/caps.txt" | tr '\n' ' ')
segs=$(ls "$TMP/tape-caps" | grep -c '^seg-')
if [ "$caps" = "CapPrm: 0000000000080000 CapEff: 0000000000080000 CapBnd: 0000000000080000 NoNewPrivs: 1 " ] &&
	[ "$segs" -ge 3 ] && "$TT" verify "$TMP/tape-caps" >/dev/null; then
	echo "PASS  capabilities: the recording recorder holds only CAP_SYS_PTRACE ($caps), wrote $segs segments, verify clean"
else
	fail "capabilities while recording: '$caps' (want CapPrm/CapEff/CapBnd 0000000000080000, NoNewPrivs 1), $segs segments (want >= 3), or verify failed"
fi

echo "== 3c. --redact args and --redact-regex keep secrets off the disk"
# a process alive before recording (it lands in the process snapshot), an
# exec and a failed exec, each carrying the secret; a control recording
# without redaction must hold it, or this check proves nothing
SECRET=tt-s3cr3t-$$
sh -c 'sleep 30' "password=$SECRET" &
SNAP_PID=$!
redact_cmd() {
	"$REC" -q "$@" -- sh -c "/bin/echo user password=$SECRET >/dev/null;
		/nonexistent/tt-prog token=$SECRET 2>/dev/null; true" "arg-$SECRET"
}
redact_cmd -o "$TMP/tape-plain"
redact_cmd -o "$TMP/tape-redacted" --redact args --redact-regex 'password=[^ ]*'
kill "$SNAP_PID" 2>/dev/null
plain=$("$TT" dump --json "$TMP/tape-plain" | grep -c -- "$SECRET")
leaks=$("$TT" dump --json "$TMP/tape-redacted" | grep -c -- "$SECRET")
echo_args=$("$TT" execsnoop "$TMP/tape-redacted" | awk '$1 == "echo" { $1 = $2 = $3 = $4 = ""; print }' | tr -s ' ')
snap=$("$TT" dump --json "$TMP/tape-redacted" | grep '"type":"proc"' | grep -c "\"pid\":$SNAP_PID,")
if [ "$plain" -ge 3 ] && [ "$leaks" = 0 ] && [ "$echo_args" = " /bin/echo *** ***" ] && [ "$snap" = 1 ]; then
	echo "PASS  redact: the secret is in $plain records without --redact, in none with it; echo's args read '$echo_args'; the snapshot of pid $SNAP_PID is there"
else
	fail "redact: secret in $plain records without --redact (want >= 3), $leaks with it (want 0); echo args '$echo_args' (want ' /bin/echo *** ***'); snapshot records of pid $SNAP_PID: $snap (want 1)"
fi

echo "== 4. interactive bash under tmux"
tmux new-session -d -s "$SESSION" -x 200 -y 50 "bash --norc -i" ||
	fail "tmux new-session failed"
BASH_PID=$(tmux display-message -p -t "$SESSION" '#{pane_pid}')
BASH_TTY=$(tmux display-message -p -t "$SESSION" '#{pane_tty}')
[ -c "$BASH_TTY" ] || fail "tmux pane_tty '$BASH_TTY' is not a terminal"
"$REC" -q -o "$TMP/bashtape" -p "$BASH_PID" -e bash,exec &
REC_PID=$!
# a second recorder on the same bash, with its lines redacted
"$REC" -q -o "$TMP/bashtape-redacted" -p "$BASH_PID" -e bash,exec \
	--redact lines &
RED_PID=$!
for _ in $(seq 100); do # probes are attached once the tapes exist
	[ -n "$(ls -A "$TMP/bashtape" 2>/dev/null)" ] &&
		[ -n "$(ls -A "$TMP/bashtape-redacted" 2>/dev/null)" ] && break
	sleep 0.1
done
[ -n "$(ls -A "$TMP/bashtape" 2>/dev/null)" ] || fail "recorder did not start"
cat >"$TMP/lines.txt" <<'EOF'
echo tracetape-e2e-one
true "two  spaces" 'single quoted' $HOME
for i in 1 2 3; do : $i; done
x=$((6 * 7)); echo "answer $x"
cd / && pwd
EOF
while IFS= read -r line; do
	tmux send-keys -t "$SESSION" -l "$line"
	tmux send-keys -t "$SESSION" Enter
	sleep 0.3
done <"$TMP/lines.txt"
sleep 1.5
kill -INT "$REC_PID" "$RED_PID"
wait "$REC_PID"
rc=$?
REC_PID=
[ $rc -eq 0 ] || fail "bash recorder exited $rc after SIGINT, want 0"
wait "$RED_PID" || fail "bash recorder with --redact lines failed"
RED_PID=
# the same lines, each written as ***, their terminals kept
want=$(wc -l <"$TMP/lines.txt")
red=$("$TT" dump --json "$TMP/bashtape-redacted" | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
lines = [r["line"] for r in recs if r["type"] == "readline"]
ttys = [r for r in recs if r["type"] == "tty" and r.get("tty")]
print(len(lines), sum(l == "***" for l in lines), len(ttys))')
if [ "$red" = "$want $want $want" ] &&
	! "$TT" dump --json "$TMP/bashtape-redacted" | grep -q tracetape-e2e-one; then
	echo "PASS  redact lines: $want bash lines recorded as *** (with their terminals) by a second recorder on the same bash"
else
	fail "redact lines: readline records, redacted ones, tty records = '$red', want '$want $want $want', or a typed line leaked"
fi

echo "== 5. checks"
python3 "$HERE/check.py" --tracetape "$TT" \
	--tape "$TMP/tape" --expect "$TMP/expect-recorded.json" \
	--strace "$TMP/strace.out" \
	--bash-tape "$TMP/bashtape" --bash-lines "$TMP/lines.txt" \
	--bash-pid "$BASH_PID" --bash-tty "$BASH_TTY" \
	--loss-ref "$TMP/loss-ref" --loss-small "$TMP/loss-small" \
	--parallel-tape "$TMP/parallel" --parallel 4 30000 \
	--parallel-file "$TMP/small.txt" ||
	fail "checks failed (KEEP=1 keeps $TMP)"
python3 "$HERE/check.py" --tracetape "$TT" --tape "$TMP/tape-rawtp" \
	--mechanism raw_tp \
	--expect "$TMP/expect-rawtp.json" ||
	fail "checks of the raw_tp tape failed (KEEP=1 keeps $TMP)"
STATIC="$BUILD/tracetape-record-static"
if [ -x "$STATIC" ]; then
	echo "== 6. the static recorder ($STATIC, from make static)"
	ldd "$STATIC" 2>&1 | grep -q "not a dynamic executable" ||
		fail "$STATIC is dynamically linked: $(ldd "$STATIC" 2>&1 | head -3)"
	rm -rf "$TMP/work"
	"$STATIC" -q -o "$TMP/tape-static" \
		-- "$WORKLOAD" "$TMP/work" "$TMP/expect-static.json" ||
		fail "static recorder failed"
	python3 "$HERE/check.py" --tracetape "$TT" --tape "$TMP/tape-static" \
		--expect "$TMP/expect-static.json" ||
		fail "checks of the static recorder's tape failed"
else
	echo "== 6. no $STATIC (run 'make static' to test it too)"
fi
bash "$HERE/killtest.sh" "$BUILD" || fail "killtest.sh: the readers could not read a tape a killed recorder left (see above)"
echo "e2e passed"
