#!/bin/bash
# SPDX-License-Identifier: MIT
# Crash-safety test: "the recorder never leaves a tape it cannot read".
#
# Each round starts tracetape-record with tiny segments (so rotation,
# retention and *.partial segments all happen) while an open/read loop and
# a small exec loop make events, SIGKILLs it at a random moment (during
# start-up, while it writes the first segment's metadata, in steady state,
# or right at a segment rotation), then reads what it left with verify,
# info, dump --json and opensnoop (and again with an ASan+UBSan build of
# tracetape) and checks that:
#   - nothing crashes (exit >= 128, sanitizer report);
#   - verify exits 0 or 1 (2 only when no segment was ever written, with a
#     message saying so), and names segment and offset of any damage;
#   - the analyses warn about that damage on stderr;
#   - verify, info, dump --json and opensnoop count the same records,
#     events and opens;
#   - the records come out in time order and make sense (known types,
#     system calls of the enum, paths, comms): nothing past damage is
#     decoded as garbage.
#
# usage: tests/e2e/killtest.sh BUILD [ROUNDS]   (root; default 16 rounds,
#        about 60 s on 2 cores, 10 s more the first time for the ASan build)
# env:   KILLTEST_SEED=N  repeat the same choice of kill moments
#        KILLTEST_ASAN=0  skip the ASan+UBSan readers
#        KEEP=1           keep every tape (failing tapes are always kept)
set -u

BUILD=${1:-build}
ROUNDS=${2:-16}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "killtest SKIPPED: tracetape-record needs root (BPF)"
	exit 0
fi
case $ROUNDS in
'' | *[!0-9]*) echo "usage: $0 BUILD [ROUNDS]" >&2 && exit 2 ;;
esac
for bin in tracetape tracetape-record tests/loop; do
	if [ ! -x "$BUILD/$bin" ]; then
		echo "killtest FAILED: $BUILD/$bin missing: run 'make all' first" >&2
		exit 1
	fi
done

TMP=$(mktemp -d /tmp/tracetape-killtest.XXXXXX)
WORKLOAD_PIDS=()
REC_PID=
cleanup() {
	[ -n "$REC_PID" ] && kill -9 "$REC_PID" 2>/dev/null
	stop_workload
	if [ "${KEEP:-0}" = 1 ] || [ "$FAILS" -gt 0 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
FAILS=0
trap cleanup EXIT

# A private copy of the binaries: a rebuild during the run cannot change them.
mkdir "$TMP/bin"
cp "$BUILD/tracetape" "$BUILD/tracetape-record" "$BUILD/tests/loop" "$TMP/bin/"
TT=$TMP/bin/tracetape
REC=$TMP/bin/tracetape-record
LOOP=$TMP/bin/loop
START=$SECONDS

SEED=${KILLTEST_SEED:-$(($$ ^ $(date +%s)))}
RANDOM=$SEED
echo "killtest: $ROUNDS rounds, seed $SEED (KILLTEST_SEED=$SEED repeats the choices)"

# ---- optional ASan+UBSan copy of the reader ------------------------------

ASAN_TT=
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
ASAN_DIR=$(realpath -m "$BUILD")/killtest-asan
if [ "${KILLTEST_ASAN:-1}" = 1 ]; then
	# Incremental: about 10 s the first time, under a second after that.
	if make -s -C "$ROOT" -j2 BUILD="$ASAN_DIR" CC=clang SAN="$SAN_FLAGS" \
		"$ASAN_DIR/tracetape" >"$TMP/asan-build.log" 2>&1; then
		cp "$ASAN_DIR/tracetape" "$TMP/bin/tracetape-asan"
		ASAN_TT=$TMP/bin/tracetape-asan
		echo "killtest: readers also run under ASan+UBSan ($ASAN_DIR/tracetape)"
	else
		echo "SKIP  ASan+UBSan reader: the build failed (see below); plain readers only"
		tail -5 "$TMP/asan-build.log"
	fi
fi
# Sanitizer exits get their own codes so they never pass for verify's 1.
export ASAN_OPTIONS=exitcode=86:detect_leaks=1
export UBSAN_OPTIONS=exitcode=87:print_stacktrace=1

# ---- results -------------------------------------------------------------

declare -A MODES SHAPES VERIFY_RC
EVENTS_READ=0
RECORDS_READ=0
DAMAGE_SEEN=0
CHECKS=0

pass() {
	CHECKS=$((CHECKS + 1))
	echo "PASS  $*"
}
fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	echo "FAIL  $*"
}

# ---- workload ------------------------------------------------------------

start_workload() {
	echo "tracetape killtest" >"$TMP/read-me.txt"
	"$LOOP" "$TMP/read-me.txt" 1000000000 >/dev/null &
	WORKLOAD_PIDS+=($!)
	# execs, forks and exits with arguments, at a slow pace
	bash -c 'while :; do /bin/echo killtest "$RANDOM" >/dev/null; sleep 0.01; done' &
	WORKLOAD_PIDS+=($!)
}

stop_workload() {
	local p
	for p in "${WORKLOAD_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	WORKLOAD_PIDS=()
}

# ---- killing -------------------------------------------------------------

# Wait (spinning on bash built-ins, a few microseconds a test) until PATH
# exists or the recorder is gone; give up after 8 s.
wait_for() {
	local path=$1 deadline=$((SECONDS + 8))
	while [ ! -e "$path" ]; do
		kill -0 "$REC_PID" 2>/dev/null || return 1
		[ $SECONDS -ge $deadline ] && return 1
	done
	return 0
}

# Spin for about N microseconds without a fork.
spin() {
	local i
	for ((i = 0; i < $1; i++)); do :; done
}

seg_name() { printf 'seg-%06d.tt' "$1"; }

# Start the recorder into DIR and SIGKILL it at a moment picked by MODE:
#   start     a few ms to ~1 s after exec: BPF loading, directory creation
#   meta      0..40 ms after the first segment file appears: its header,
#             MANIFEST lines, metadata records, the first chunks
#   steady    50 ms..2 s after the first segment appears
#   rotation  right when segment K is renamed to .tt or segment K+1 is
#             created: footer, fsync, rename, MANIFEST, retention
#   empty     5 ms after exec, the tape directory made beforehand: a kill
#             before the first segment exists
# Sets WHEN to a description of the moment.
record_and_kill() {
	local mode=$1 dir=$2 what
	# Mostly small chunks (many blocks, many rotations); sometimes large
	# ones, whose write(2) takes longer and may be cut by the kill.
	local flushes=(50 50 50 250 1000) sizes=(64K 64K 128K)
	SETTINGS="--segment-size ${sizes[$((RANDOM % 3))]} --max-segments 4 --flush-interval ${flushes[$((RANDOM % 5))]}"
	# shellcheck disable=SC2086
	"$REC" -q -o "$dir" $SETTINGS >"$dir.rec.out" 2>&1 &
	REC_PID=$!
	case $mode in
	start)
		local ms=$((2 + RANDOM % 900))
		sleep "$(printf '0.%03d' "$ms")"
		what="${ms} ms after start"
		;;
	empty)
		sleep 0.005
		what="5 ms after start, into an empty directory made beforehand"
		;;
	meta)
		local us=$((RANDOM % 40000))
		wait_for "$dir/seg-000001.tt.partial"
		spin "$us"
		what="~${us} us after seg-000001.tt.partial appeared"
		;;
	steady)
		local ms=$((50 + RANDOM % 1950))
		wait_for "$dir/seg-000001.tt.partial"
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		what="${ms} ms after seg-000001.tt.partial appeared"
		;;
	rotation)
		local k=$((1 + RANDOM % 5)) us=$((RANDOM % 3 == 0 ? 0 : RANDOM % 1500))
		local target
		if [ $((RANDOM % 2)) = 0 ]; then
			target=$(seg_name "$k") # renamed: footer done
		else
			target=$(seg_name $((k + 1))).partial # next one created
		fi
		wait_for "$dir/$target"
		spin "$us"
		what="~${us} us after $target appeared"
		;;
	esac
	if kill -9 "$REC_PID" 2>/dev/null; then
		REC_ALIVE=1
	else
		REC_ALIVE=0 # it stopped by itself: a failure of its own
	fi
	wait "$REC_PID" 2>/dev/null
	REC_RC=$?
	REC_PID=
	WHEN=$what
}

# What the kill left, by looking at the files: the "kill moment" as seen
# from the tape.
shape_of() {
	local dir=$1
	[ -d "$dir" ] || { echo "no-directory" && return; }
	local segs=("$dir"/seg-*.tt "$dir"/seg-*.tt.partial)
	local existing=() s
	for s in "${segs[@]}"; do [ -e "$s" ] && existing+=("$s"); done
	[ ${#existing[@]} = 0 ] && { echo "no-segment" && return; }
	if [ ${#existing[@]} = 1 ] && [ ! -s "${existing[0]}" ]; then
		echo "empty-first-segment" # created, nothing written yet
		return
	fi
	local last_verb
	last_verb=$(tail -n 1 "$dir/MANIFEST" 2>/dev/null | cut -d' ' -f1)
	local partial
	partial=$(ls "$dir" | grep '\.partial$' | sort | tail -n 1)
	if [ -z "$partial" ] && [ "$last_verb" = close ]; then
		echo "closed-no-next-yet" # between MANIFEST close and the next create
		return
	elif [ -z "$partial" ]; then
		echo "renamed-no-close-line" # between rename and MANIFEST close
		return
	fi
	local size
	size=$(stat -c %s "$dir/$partial")
	if [ "$size" = 0 ]; then
		echo "empty-partial"
	elif [ "$size" -lt 64 ]; then
		echo "torn-header"
	elif [ "$size" = 64 ]; then
		echo "header-only"
	elif tail -c 4 "$dir/$partial" | grep -qa TTND; then
		echo "partial-with-footer"
	elif [ "$last_verb" = open ] || [ "$last_verb" = delete ]; then
		echo "partial"
	else
		echo "partial(manifest:$last_verb)"
	fi
}

# ---- reading -------------------------------------------------------------

# run NAME OUT ERR BINARY ARGS...: run a reader, record its exit code in RC;
# fail on a crash, a hang (60 s; a tape here reads in about a second) or
# a sanitizer report.
run() {
	local label=$1 out=$2 err=$3
	shift 3
	timeout -s KILL 60 "$@" >"$out" 2>"$err"
	RC=$?
	if [ $RC -ge 128 ] || [ $RC = 86 ] || [ $RC = 87 ] ||
		grep -q 'Sanitizer\|runtime error:' "$err"; then
		fail "$label: crashed (exit $RC): $(grep -m1 'ERROR\|runtime error\|Sanitizer' "$err")"
		return 1
	fi
	return 0
}

# Check one line of dump --json at a time: types, system calls, paths,
# comms, time order.  Prints "lines events meta opens bad ooo FIRST_BAD".
check_dump_json() {
	awk '
	BEGIN {
		split("host options probe clock loss loadavg proc mount user segment", m, " ")
		for (i in m) meta[m[i]] = 1
	}
	function field(name,    p, rest) {
		p = index($0, "\"" name "\":")
		if (!p) return "\001"
		rest = substr($0, p + length(name) + 3)
		if (substr(rest, 1, 1) == "\"") {
			rest = substr(rest, 2)
			return substr(rest, 1, index(rest, "\"") - 1)
		}
		match(rest, /^-?[0-9]+/)
		return substr(rest, 1, RLENGTH)
	}
	function bad(why) {
		nbad++
		if (!first) first = why ": " substr($0, 1, 200)
	}
	{
		lines++
		t = field("type")
		ts = field("ts_ns") + 0
		if (ts < prev) { ooo++; if (!first) first = "out of order: " substr($0, 1, 200) }
		prev = ts
		if (t in meta) { nmeta++; next }
		# dump names every record type it knows (event types are
		# added over time) and prints "unknown" for any other
		if (t == "unknown" || t !~ /^[a-z0-9_]+$/) { bad("unknown type"); next }
		nev++
		c = field("comm")
		if (c == "" || c == "\001") bad("no comm")
		# dump names the system calls of enum tt_syscall, "unknown"
		# for any other number
		sc = field("syscall")
		if (sc != "\001" && (sc == "unknown" || sc !~ /^[a-z0-9_]+$/))
			bad("syscall not in the enum")
		if ((t == "open" || t == "rw" || t == "unlink" || t == "rename" || t == "exec") && sc == "\001")
			bad("no syscall")
		if (t == "open") {
			opens++
			if (field("path") == "" && field("ret") + 0 >= 0) bad("open without a path")
		}
		if ((t == "unlink" || t == "rename") && field("path") == "") bad("no path")
		if (t == "exec" && field("ret") + 0 == 0 && field("filename") == "") bad("exec without a file name")
	}
	END {
		printf "%d %d %d %d %d %d %s\n", lines, nev, nmeta, opens, nbad, ooo, first
	}' "$1"
}

# info's "events N (and M metadata records)" and "  open  N".
info_counts() {
	awk '/^events / { ev = $2; meta = $4; gsub(/[^0-9]/, "", meta) }
	     /^  open / { opens = $2 }
	     END { printf "%d %d %d\n", ev, meta, opens }' "$1"
}

# The checks for the case where no segment was ever written.
check_no_segment() {
	local r=$1 dir=$2 shape=$3
	local out=$TMP/$r
	run "$r info" "$out.info" "$out.info.err" "$TT" info "$dir" || return
	if [ $RC = 2 ] && grep -q 'no segments\|no segment written yet\|cannot open the tape' "$out.info.err"; then
		pass "$r info exits 2 and says why ($shape): $(head -c 120 "$out.info.err")"
	else
		fail "$r info on a tape with no segment ($shape): exit $RC, stderr: $(head -c 200 "$out.info.err")"
	fi
	run "$r verify" "$out.verify" "$out.verify.err" "$TT" verify "$dir" || return
	VERIFY_RC[$RC]=$((${VERIFY_RC[$RC]:-0} + 1))
	if [ $RC = 2 ] && [ -s "$out.verify.err" ]; then
		pass "$r verify exits 2 with a message ($shape)"
	else
		fail "$r verify on a tape with no segment ($shape): exit $RC"
	fi
}

# verify: 0 clean or 1 damaged, damage named by segment and offset.
check_verify() {
	local r=$1 dir=$2
	local out=$TMP/$r # (a separate local: $r must be the new one)
	run "$r verify" "$out.verify" "$out.verify.err" "$TT" verify "$dir" || return 1
	VERIFY_RC[$RC]=$((${VERIFY_RC[$RC]:-0} + 1))
	VERIFY=$RC
	local ndamage
	ndamage=$(grep -c '^DAMAGE ' "$out.verify")
	local named
	named=$(grep -cE '^DAMAGE .*/(seg-[0-9]{6,}\.tt(\.partial)?|MANIFEST) offset [0-9]+' "$out.verify")
	VERIFY_RECORDS=$(tail -n 1 "$out.verify" | sed -n 's/.* \([0-9]*\) records read.*/\1/p')
	case $RC in
	0)
		if [ "$ndamage" = 0 ]; then
			pass "$r verify exit 0 (clean, ${VERIFY_RECORDS:-?} records)"
		else
			fail "$r verify exit 0 but $ndamage DAMAGE lines"
		fi
		;;
	1)
		DAMAGE_SEEN=$((DAMAGE_SEEN + ndamage))
		if [ "$ndamage" -gt 0 ] && [ "$named" = "$ndamage" ]; then
			pass "$r verify exit 1, damage named: $(grep -m1 '^DAMAGE' "$out.verify" | sed "s|$TMP/||" | head -c 160)"
		else
			fail "$r verify exit 1 without a DAMAGE line naming segment and offset: $(cat "$out.verify" | head -c 300)"
		fi
		;;
	*)
		fail "$r verify exit $RC on a tape with segments (want 0 or 1): $(tail -n 2 "$out.verify" "$out.verify.err" | head -c 400)"
		return 1
		;;
	esac
	[ -n "$VERIFY_RECORDS" ]
}

# info, dump --json and opensnoop: no crash, same counts, order, sense.
check_readers() {
	local r=$1 dir=$2
	local out=$TMP/$r
	run "$r info" "$out.info" "$out.info.err" "$TT" info "$dir" || return
	local info_rc=$RC
	run "$r dump" "$out.dump" "$out.dump.err" "$TT" dump "$dir" --json || return
	local dump_rc=$RC
	run "$r opensnoop" "$out.open" "$out.open.err" "$TT" opensnoop "$dir" || return
	local open_rc=$RC
	local lines ev meta opens nbad ooo first
	read -r lines ev meta opens nbad ooo first < <(check_dump_json "$out.dump")
	local iev imeta iopens
	read -r iev imeta iopens < <(info_counts "$out.info")
	local snoop=$(($(wc -l <"$out.open") - 1))
	[ $snoop -lt 0 ] && snoop=0
	EVENTS_READ=$((EVENTS_READ + ev))
	RECORDS_READ=$((RECORDS_READ + lines))

	# A tape with no record at all: dump and opensnoop may say so (exit 2).
	local want_rc=0
	[ "$VERIFY_RECORDS" = 0 ] && want_rc="0 or 2"
	if [ $info_rc = 0 ] && { [ $dump_rc = 0 ] || [ "$lines" = 0 ]; } &&
		{ [ $open_rc = 0 ] || [ "$lines" = 0 ]; }; then
		pass "$r info/dump/opensnoop exit $info_rc/$dump_rc/$open_rc"
	else
		fail "$r info/dump/opensnoop exit $info_rc/$dump_rc/$open_rc (want 0, $want_rc with no records): $(head -c 300 "$out.dump.err" "$out.open.err")"
	fi
	if [ "$lines" = "$VERIFY_RECORDS" ] && [ "$ev" = "$iev" ] &&
		[ "$meta" = "$imeta" ] && [ "$opens" = "$iopens" ] &&
		[ "$opens" = "$snoop" ]; then
		pass "$r counts agree: $lines records ($ev events, $opens opens) in verify, info, dump, opensnoop"
	else
		fail "$r counts differ: verify $VERIFY_RECORDS records; dump $lines records, $ev events, $meta metadata, $opens opens; info $iev events, $imeta metadata, $iopens opens; opensnoop $snoop lines"
	fi
	if [ "$nbad" = 0 ] && [ "$ooo" = 0 ]; then
		pass "$r records in time order and well-formed"
	else
		fail "$r $nbad malformed, $ooo out of order; first: $first"
	fi
	if [ "$VERIFY" = 1 ]; then
		# the analyses must tell what verify found, on stderr
		local e ok=1
		for e in "$out.info" "$out.dump.err" "$out.open.err"; do
			grep -qE 'seg-[0-9]{6,}\.tt|MANIFEST' "$e" || ok=0
		done
		if [ $ok = 1 ] && grep -q 'warning: damaged tape' "$out.dump.err" &&
			grep -q 'warning: damaged tape: .*offset [0-9]' "$out.open.err"; then
			pass "$r dump and opensnoop warn about the damage on stderr; info lists it"
		else
			fail "$r damage not reported by the analyses: $(head -c 300 "$out.open.err")"
		fi
	fi
}

# verify (every chunk, file order) and dump --json (the merge and every
# record decoder) built with ASan+UBSan: no report, the same results.
check_asan() {
	local r=$1 dir=$2 a rc_v rc_d
	local out=$TMP/$r.asan
	[ -n "$ASAN_TT" ] || return
	run "$r asan verify" "$out.verify" "$out.verify.err" "$ASAN_TT" verify "$dir" || return
	rc_v=$RC
	run "$r asan dump" "$out.dump" "$out.dump.err" "$ASAN_TT" dump "$dir" --json || return
	rc_d=$RC
	a=$(wc -l <"$out.dump")
	if [ "$rc_v" = "$VERIFY" ] && [ "$a" = "$(wc -l <"$TMP/$r.dump")" ]; then
		pass "$r ASan+UBSan readers: no report; verify/dump exit $rc_v/$rc_d"
	else
		fail "$r ASan readers disagree: verify exit $rc_v (plain $VERIFY), dump $a lines (plain $(wc -l <"$TMP/$r.dump"))"
	fi
}

check_tape() {
	if check_verify "$1" "$2"; then
		check_readers "$1" "$2"
		check_asan "$1" "$2"
	fi
}

# A copy of tape FROM whose newest .partial segment is cut at a random
# page boundary: what a SIGKILL during a large write(2) leaves (the kernel
# stops copying at a page when a fatal signal is pending; what it copied
# stays).  Usually inside a chunk, sometimes on a block boundary.
make_torn() {
	local from=$1 to=$2 partial pages
	partial=$(ls "$from" | grep '\.partial$' | sort | tail -n 1)
	[ -n "$partial" ] || return 1
	TORN_SIZE=$(stat -c %s "$from/$partial")
	pages=$(((TORN_SIZE - 1) / 4096))
	[ $pages -ge 1 ] || return 1
	TORN_AT=$((4096 * (1 + RANDOM % pages)))
	cp -r "$from" "$to" && truncate -s "$TORN_AT" "$to/$partial"
}

# Milliseconds between two $EPOCHREALTIME values.
ms_between() {
	local a=${1/./} b=${2/./}
	echo $(((10#$b - 10#$a) / 1000))
}

keep_failed() {
	local r=$1 dir=$2 before=$3
	if [ "$FAILS" -gt "$before" ] && [ -d "$dir" ]; then
		echo "      the tape is kept in $dir (and $dir.torn if any)"
	fi
}

# ---- rounds ----------------------------------------------------------------

# One deliberate empty-directory case first, then the rounds, modes in a
# fixed cycle so that every kind of moment is covered however few rounds.
CYCLE=(rotation steady meta start rotation steady rotation meta)
for ((i = 0; i <= ROUNDS; i++)); do
	if [ $i = 0 ]; then mode=empty; else mode=${CYCLE[$(((i - 1) % ${#CYCLE[@]}))]}; fi
	r=$(printf 'r%02d' "$i")
	dir=$TMP/$r.tape
	before=$FAILS
	# half of the tapes go into an empty directory made beforehand
	{ [ $((i % 2)) = 0 ] || [ $mode = empty ]; } && mkdir "$dir"
	t0=$EPOCHREALTIME
	start_workload
	record_and_kill "$mode" "$dir"
	stop_workload
	t1=$EPOCHREALTIME
	shape=$(shape_of "$dir")
	MODES[$mode]=$((${MODES[$mode]:-0} + 1))
	SHAPES[$shape]=$((${SHAPES[$shape]:-0} + 1))
	echo "== $r: $SETTINGS, killed in $mode, $WHEN; left: $shape"
	if [ $REC_ALIVE = 0 ]; then
		fail "$r the recorder had stopped by itself before the kill (exit $REC_RC): $(head -c 300 "$dir.rec.out")"
	fi
	case $shape in
	no-directory | no-segment | empty-first-segment)
		check_no_segment "$r" "$dir" "$shape"
		;;
	*)
		check_tape "$r" "$dir"
		# every third tape: what a kill during a large write(2) leaves
		if [ $((i % 3)) = 0 ] && make_torn "$dir" "$dir.torn"; then
			echo "== ${r}t: the same tape, newest .partial cut at byte $TORN_AT of $TORN_SIZE (a write(2) cut short by SIGKILL at a page)"
			check_tape "${r}t" "$dir.torn"
		fi
		;;
	esac
	echo "   ($(ms_between "$t0" "$t1") ms recording, $(ms_between "$t1" "$EPOCHREALTIME") ms reading)"
	keep_failed "$r" "$dir" "$before"
	[ "${KEEP:-0}" = 1 ] || [ "$FAILS" -gt "$before" ] || rm -rf "$dir" "$dir.torn"
done

# ---- summary ---------------------------------------------------------------

summary() {
	local -n map=$1
	local k out=""
	for k in "${!map[@]}"; do out+="$k=${map[$k]} "; done
	echo "${out% }"
}
echo "== summary"
echo "rounds:        $ROUNDS (+1 empty-directory case), seed $SEED"
echo "kills:         $(summary MODES)"
echo "tapes left:    $(summary SHAPES)"
echo "verify exits:  $(summary VERIFY_RC)"
echo "read:          $RECORDS_READ records, $EVENTS_READ events; $DAMAGE_SEEN damage reports"
echo "sanitizers:    $([ -n "$ASAN_TT" ] && echo "ASan+UBSan readers on every tape" || echo "not used")"
echo "time:          $((SECONDS - START)) s, $CHECKS checks, $FAILS failed"
if [ "$FAILS" -gt 0 ]; then
	echo "killtest FAILED"
	exit 1
fi
echo "killtest passed"
