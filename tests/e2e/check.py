#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check tapes recorded by tests/e2e/run.sh against what the workload did.

Reads the tapes through `tracetape dump --json` (one JSON object per
record) and compares them with:
  - the workload's own account of its actions (JSON lines, see workload.c),
  - strace's view of the same workload's opens,
  - the lines typed into an interactive bash.
Every check prints what it compared; any mismatch fails loudly (exit 1).
"""
import argparse
import errno
import json
import os
import re
import subprocess
import sys

failures = []


def report(ok, name, detail):
    print(("PASS  " if ok else "FAIL  ") + name + ": " + detail)
    if not ok:
        failures.append(name)


def dump(tracetape, tape):
    out = subprocess.run([tracetape, "dump", "--json", tape],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("check.py: %s dump --json %s failed (%d): %s"
                 % (tracetape, tape, out.returncode, out.stderr.strip()))
    recs = [json.loads(line) for line in out.stdout.splitlines() if line]
    if not recs:
        sys.exit("check.py: %s holds no records" % tape)
    return recs


def result_of(ret):
    return "ok" if ret >= 0 else ret


def check_health(recs, label):
    lost = sum(r.get("count", 0) for r in recs if r["type"] == "loss")
    report(lost == 0, label + " losses",
           "%d events lost (loss records), want 0" % lost)
    bad = [r["kv"] for r in recs if r["type"] == "probe"
           and r["kv"].get("attached") != "1"]
    report(not bad, label + " probes",
           "%d probe records, not attached: %s"
           % (sum(r["type"] == "probe" for r in recs), bad or "none"))


SYSCALL_PROBES = ("opens", "rw", "life", "exec_failed")


def check_mechanism(recs, label, want):
    """The system call probes say they used mechanism WANT (a prefix:
    fexit, tp_btf, raw_tp); a fallback from a better one names why."""
    probes = [r["kv"] for r in recs if r["type"] == "probe"
              and r["kv"].get("name") in SYSCALL_PROBES]
    mechs = sorted({p.get("mechanism", "").split(":")[0] for p in probes})
    report(len(probes) == len(SYSCALL_PROBES) and mechs == [want],
           label + " mechanism",
           "system call probes %s use %s, want %s"
           % ([p.get("name") for p in probes], mechs, want))
    if want != "fexit":
        notes = [p.get("note", "") for p in probes]
        report(all(notes) or all(not n for n in notes),
               label + " fallback note",
               "notes on why fexit was not used: %s" % sorted(set(notes)))


def check_opens(recs, expect):
    opens = [r for r in recs if r["type"] == "open"]
    want = [e for e in expect if e["kind"] == "open"]
    used = set()
    missing = []
    for e in want:
        hit = None
        for i, r in enumerate(opens):
            if i in used:
                continue
            if (r["syscall"] == e["syscall"] and r["path"] == e["path"]
                    and r["full"] == e["full"]
                    and result_of(r["ret"]) == e["result"]
                    and bool(r["created"]) == e["created"]):
                hit = i
                break
        if hit is None:
            missing.append(e)
        else:
            used.add(hit)
    report(not missing, "opens",
           "%d workload opens compared on syscall, path, resolved path, "
           "result and created; %d not in the tape%s"
           % (len(want), len(missing),
              "".join("\n      missing: %s" % m for m in missing)))


def file_ino(recs, full):
    for r in recs:
        if r["type"] == "open" and r["full"] == full and r["ret"] >= 0:
            return r["dev"], r["ino"]
    return None


def check_rw(recs, expect, workdir):
    """Exact bytes and calls per (file, syscall); with "dir" ("r" or "w")
    the expectation also says the calls must all be reads or writes."""
    want, dirs = {}, {}
    for e in expect:
        if e["kind"] == "rw":
            want[(e["name"], e["syscall"])] = (e["bytes"], e["calls"])
            if "dir" in e:
                dirs[(e["name"], e["syscall"])] = e["dir"]
    names = {name for name, _ in want}
    ok = True
    lines = []
    for name in sorted(names):
        ident = file_ino(recs, workdir + "/" + name)
        got, split = {}, {}
        for r in recs:
            if r["type"] != "rw" or ident is None:
                continue
            if (r["dev"], r["ino"]) != ident or r["name"] != name:
                continue
            key = (name, r["syscall"])
            b, c = got.get(key, (0, 0))
            got[key] = (b + r["rbytes"] + r["wbytes"],
                        c + r["reads"] + r["writes"])
            rc, wc = split.get(key, (0, 0))
            split[key] = (rc + r["reads"], wc + r["writes"])
        keys = {k for k in want if k[0] == name} | set(got)
        for k in sorted(keys):
            w, g = want.get(k, (0, 0)), got.get(k, (0, 0))
            rc, wc = split.get(k, (0, 0))
            good = w == g
            if k in dirs:
                good = good and (wc if dirs[k] == "r" else rc) == 0
            lines.append("%s %-15s want %5d bytes %d calls, tape %5d bytes "
                         "%d calls (%d reads, %d writes)%s"
                         % (k[0], k[1], w[0], w[1], g[0], g[1], rc, wc,
                            "" if good else "  <-- MISMATCH"))
            ok = ok and good
    report(ok, "read/write counts",
           "exact bytes and calls per file per system call\n      "
           + "\n      ".join(lines))


def by_full(recs, kind, full, ok_only=True):
    return [r for r in recs if r["type"] == kind and r["full"] == full
            and (r["ret"] >= 0 or not ok_only)]


def check_lifetimes(recs, expect):
    for e in (x for x in expect if x["kind"] == "life"):
        created = [r for r in by_full(recs, "open", e["full"])
                   if r["created"]]
        deleted = by_full(recs, "unlink", e["full"])
        if len(created) != 1 or len(deleted) != 1:
            report(False, "lifetime " + e["full"],
                   "want one creating open (FMODE_CREATED) and one unlink, "
                   "tape has %d and %d" % (len(created), len(deleted)))
            continue
        age = (deleted[0]["ts_ns"] - created[0]["ts_ns"]) / 1e9
        # the workload timed create -> delete itself on the same clock,
        # right after each call returned: the tape must agree closely
        report(age >= e["age"] and abs(age - e["measured"]) < 0.02,
               "lifetime " + e["full"],
               "created (FMODE_CREATED) then deleted after %.4f s on the "
               "tape; the workload slept %.1f s and measured %.4f s"
               % (age, e["age"], e["measured"]))


def check_renames(recs, expect):
    for e in (x for x in expect if x["kind"] == "rename"):
        hits = [r for r in recs if r["type"] == "rename" and r["ret"] == 0
                and r["full"] == e["full"] and r["full2"] == e["full2"]]
        report(len(hits) == 1, "rename",
               "%s -> %s: %d matching rename records, want 1"
               % (e["full"], e["full2"], len(hits)))


def check_execs(recs, expect):
    for e in (x for x in expect if x["kind"] == "exec"):
        hits = [r for r in recs if r["type"] == "exec" and r["ret"] == 0
                and r["filename"] == e["filename"]]
        full = [r for r in hits if r["args"] == e["args"]
                and not r["truncated"] and r["argc"] == len(e["args"])]
        arglen = sum(len(a) + 1 for a in e["args"])
        report(len(full) == 1, "exec argv",
               "%s with %d args (%d bytes): %d exec records, %d with the "
               "full argv, untruncated" % (e["filename"], len(e["args"]),
                                           arglen, len(hits), len(full)))
    for e in (x for x in expect if x["kind"] == "exec_failed"):
        hits = [r for r in recs if r["type"] == "exec"
                and r["filename"] == e["filename"]]
        good = [r for r in hits if r["ret"] == e["ret"]
                and r["args"] == e["args"]]
        report(len(good) == 1, "failed exec",
               "%s: want ret %d args %s; tape: %s" % (
                   e["filename"], e["ret"], e["args"],
                   [(r["ret"], r["args"]) for r in hits] or "nothing"))


STRACE_CALL = re.compile(
    r'^(\d+)\s+(open|openat|openat2|creat)\((.*?)(?: <unfinished \.\.\.>|\) += (-?\d+))')
STRACE_RESUMED = re.compile(
    r'^(\d+)\s+<\.\.\. (open|openat|openat2|creat) resumed>.*\) += (-?\d+)')
STRACE_ERRNO = re.compile(r'= -1 (E[A-Z0-9]+)')
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def strace_result(line, ret):
    if int(ret) >= 0:
        return "ok"
    m = STRACE_ERRNO.search(line)
    return -getattr(errno, m.group(1)) if m else int(ret)


def strace_opens(path):
    """(path, result) pairs of every open strace saw."""
    pairs, pending = [], {}
    with open(path) as f:
        for line in f:
            m = STRACE_CALL.match(line)
            if m:
                q = QUOTED.search(m.group(3))
                p = q.group(1) if q else None
                if m.group(4) is None:
                    pending[m.group(1)] = p
                else:
                    pairs.append((p, strace_result(line, m.group(4))))
                continue
            m = STRACE_RESUMED.match(line)
            if m and m.group(1) in pending:
                pairs.append((pending.pop(m.group(1)),
                              strace_result(line, m.group(3))))
    return pairs


def check_strace(recs, strace_file):
    theirs = sorted(strace_opens(strace_file), key=str)
    ours = sorted(((r["path"], result_of(r["ret"])) for r in recs
                   if r["type"] == "open"), key=str)
    only_strace = [p for p in set(theirs) if p not in set(ours)]
    only_tape = [p for p in set(ours) if p not in set(theirs)]
    report(set(theirs) == set(ours) and len(theirs) == len(ours),
           "opens vs strace",
           "strace saw %d opens (%d distinct (path, result)), the tape %d "
           "(%d distinct); only in strace: %s; only in tape: %s"
           % (len(theirs), len(set(theirs)), len(ours), len(set(ours)),
              only_strace or "none", only_tape or "none"))


def check_bash(recs, lines_file, bash_pid, bash_tty=None):
    want = [l.rstrip("\n") for l in open(lines_file)]
    got = [r["line"] for r in recs if r["type"] == "readline"
           and (bash_pid is None or r["pid"] == bash_pid)]
    report(got == want, "bash readline",
           "%d typed lines in order, tape has %d: %s"
           % (len(want), len(got), got if got != want else "all equal"))
    if bash_tty:
        check_bash_tty(recs, bash_pid, bash_tty)


def check_bash_tty(recs, bash_pid, bash_tty):
    """Every line of the bash comes with a tty record (same ts and pid)
    naming the terminal it was typed on: BASH_TTY ("/dev/pts/N", the
    tmux pane's) as ps shows it ("pts/N"), and its device number in the
    kernel's form (major << 20 | minor)."""
    rdev = os.stat(bash_tty).st_rdev
    want = (bash_tty[len("/dev/"):], os.major(rdev) << 20 | os.minor(rdev))
    lines = [r["ts_ns"] for r in recs if r["type"] == "readline"
             and (bash_pid is None or r["pid"] == bash_pid)]
    ttys = {r["ts_ns"]: (r["tty"], r["dev"]) for r in recs
            if r["type"] == "tty"
            and (bash_pid is None or r["pid"] == bash_pid)}
    got = [ttys.get(ts) for ts in lines]
    report(bool(lines) and got == [want] * len(lines), "bash tty",
           "%d lines, each with a tty record (same ts) naming %s dev %d "
           "(%s): %s" % (len(lines), want[0], want[1], bash_tty,
                         "all equal" if got == [want] * len(lines)
                         else got))


def event_and_loss_counts(recs):
    events = sum(r["type"] in ("open", "rw", "unlink", "rename", "exec",
                               "fork", "exit", "readline") for r in recs)
    return events, sum(r.get("count", 0) for r in recs if r["type"] == "loss")


def check_loss_accounting(tracetape, ref_tape, small_tape):
    ref_events, ref_lost = event_and_loss_counts(dump(tracetape, ref_tape))
    events, lost = event_and_loss_counts(dump(tracetape, small_tape))
    report(ref_lost == 0 and lost > 0 and events + lost == ref_events,
           "loss accounting",
           "same loop with a 16 MiB ring: %d events, %d lost; with a "
           "64 KiB ring: %d recorded + %d lost = %d (want %d, and some "
           "lost)" % (ref_events, ref_lost, events, lost, events + lost,
                      ref_events))


def check_parallel(tracetape, tape, procs, iters, path, counted_loss=False):
    """PROCS loops of ITERS open+read+close each, running at once.  With
    COUNTED_LOSS, losses are allowed when every call is either on the tape
    or counted in a loss record (fexit programs may be preempted)."""
    seq = {}
    recs = dump(tracetape, tape)
    for r in recs:
        if r["type"] == "open" and r["path"] == path:
            seq.setdefault(r["pid"], []).append("open")
        elif r["type"] == "rw" and r["name"] == path.rsplit("/", 1)[1]:
            seq.setdefault(r["pid"], []).extend(["read"] * r["reads"])
    counts = {pid: (s.count("open"), s.count("read")) for pid, s in
              seq.items()}
    misordered = sum(sum(1 for i in range(0, len(s), 2)
                         if s[i:i + 2] != ["open", "read"])
                     for s in seq.values())
    lost = sum(r.get("count", 0) for r in recs if r["type"] == "loss")
    skipped = sum(r.get("count", 0) for r in recs if r["type"] == "loss"
                  and r.get("cause") == 1)
    want = [(iters, iters)] * procs
    if counted_loss:
        seen = sum(o + r for o, r in counts.values())
        report(seen + lost == 2 * procs * iters and misordered == 0,
               "parallel accounting",
               "%d processes x %d open+read: %d on the tape + %d lost "
               "(%d of them skipped runs) = %d, want %d; %d open/read "
               "pairs out of time order"
               % (procs, iters, seen, lost, skipped, seen + lost,
                  2 * procs * iters, misordered))
        return
    report(sorted(counts.values()) == want and misordered == 0 and lost == 0,
           "parallel exactness",
           "%d processes x %d open+read: (opens, reads) per process %s, "
           "%d open/read pairs out of time order, %d lost"
           % (procs, iters, sorted(counts.values()), misordered, lost))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracetape", required=True)
    ap.add_argument("--tape")
    ap.add_argument("--expect")
    ap.add_argument("--strace")
    ap.add_argument("--bash-tape")
    ap.add_argument("--bash-lines")
    ap.add_argument("--bash-pid", type=int)
    ap.add_argument("--bash-tty",
                    help="the terminal the bash lines were typed on, "
                    "/dev/pts/N (tmux's pane_tty)")
    ap.add_argument("--parallel-tape")
    ap.add_argument("--parallel", type=int, nargs=2, metavar=("PROCS", "N"))
    ap.add_argument("--parallel-file")
    ap.add_argument("--counted-loss", action="store_true",
                    help="--parallel-tape: losses allowed if counted")
    ap.add_argument("--mechanism",
                    help="fexit, tp_btf or raw_tp: what --tape must use")
    ap.add_argument("--loss-ref")
    ap.add_argument("--loss-small")
    a = ap.parse_args()

    if a.tape:
        recs = dump(a.tracetape, a.tape)
        expect = [json.loads(l) for l in open(a.expect) if l.strip()]
        workdir = next(e["path"] for e in expect if e["kind"] == "workdir")
        print("workload tape %s: %d records" % (a.tape, len(recs)))
        mech = sorted({r["kv"].get("mechanism") for r in recs
                       if r["type"] == "probe"})
        print("      probes: %s" % ", ".join(mech))
        check_health(recs, "workload tape")
        if a.mechanism:
            check_mechanism(recs, "workload tape", a.mechanism)
        check_opens(recs, expect)
        check_rw(recs, expect, workdir)
        check_lifetimes(recs, expect)
        check_renames(recs, expect)
        check_execs(recs, expect)
        if a.strace:
            check_strace(recs, a.strace)
    if a.bash_tape:
        recs = dump(a.tracetape, a.bash_tape)
        print("bash tape %s: %d records" % (a.bash_tape, len(recs)))
        check_health(recs, "bash tape")
        check_bash(recs, a.bash_lines, a.bash_pid, a.bash_tty)
    if a.parallel_tape:
        check_parallel(a.tracetape, a.parallel_tape, a.parallel[0],
                       a.parallel[1], a.parallel_file, a.counted_loss)
    if a.loss_ref:
        check_loss_accounting(a.tracetape, a.loss_ref, a.loss_small)
    if failures:
        print("\n%d check(s) FAILED: %s" % (len(failures),
                                           ", ".join(failures)))
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
