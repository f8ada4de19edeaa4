#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check every replay analysis on tapes recorded by tests/e2e/analyses.sh.

The oracles are what was really done, never the analysis itself:
  - the workload's own account of its actions (JSON lines, see workload.c),
  - the lines typed into an interactive bash, the commands they ran and
    what those commands are known to do (dd writes 7 x 1000 bytes ...),
  - `tracetape dump --json` for the record-level facts (pids, inodes,
    counts per type) that the analyses summarise.
Text output is parsed and compared field by field with the --json output of
the same analysis, so both forms are checked against the oracle.

Every check prints PASS, FAIL or XFAIL (a known bug, named in the line) with
what it compared and both values; any FAIL makes the exit status 1.
"""
import argparse
import json
import os
import re
import stat
import subprocess
import sys

failures = []
xfails = []
TRACETAPE = None

# Tolerances for ages measured on the tape against what was slept: the
# workload sleeps, then the unlink follows in the next few microseconds;
# a loaded 2-CPU machine can delay the wakeup a little.
AGE_SLACK_S = 0.25
# The workload's own measurement is taken right after each call returns,
# so only scheduling between the call and clock_gettime separates them.
MEASURED_SLACK_S = 0.02
# dd.out lives from dd's open through a fork+exec of sleep, 0.3 s, and a
# fork+exec of rm.
DD_SLACK_S = 0.7

# Known bugs: check name -> reason. A failing check listed here prints
# XFAIL and does not fail the suite; a passing one prints PASS (and says
# the entry can go).
KNOWN_BUGS = {}


def report(ok, name, detail):
    if not ok and name in KNOWN_BUGS:
        print("XFAIL " + name + ": " + detail + "\n      known bug: "
              + KNOWN_BUGS[name])
        xfails.append(name)
        return
    if ok and name in KNOWN_BUGS:
        detail += " (listed as a known bug, now passes: drop the XFAIL)"
    print(("PASS  " if ok else "FAIL  ") + name + ": " + detail)
    if not ok:
        failures.append(name)


def run(*args, want_rc=(0,)):
    """Run tracetape with ARGS; returns (exit status, stdout lines)."""
    cmd = [TRACETAPE] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if out.returncode not in want_rc:
        report(False, "run " + " ".join(cmd[1:3]),
               "%s exited %d, want %s: %s" % (" ".join(cmd), out.returncode,
                                              want_rc, out.stderr.strip()))
    return out.returncode, out.stdout.splitlines()


def run_json(*args, want_rc=(0,)):
    _, lines = run(*args, "--json", want_rc=want_rc)
    return [json.loads(l) for l in lines if l.strip()]


def rows_of(objs, kind):
    return [o for o in objs if o.get("type") == kind]


def show(x, limit=300):
    s = repr(x)
    return s if len(s) <= limit else s[:limit] + "..."


def parse_table(lines, header_start, pattern):
    """Rows of a text table: the lines after the header, matched by PATTERN.

    A line that does not match is kept as None so that the comparison with
    the JSON form fails instead of silently skipping it."""
    rows, seen_header = [], False
    for line in lines:
        if line.startswith(header_start):
            seen_header = True
            continue
        if not seen_header or not line.strip():
            continue
        m = re.match(pattern, line)
        rows.append(m.groups() if m else ("UNPARSED", line))
    return rows


def compare_rows(name, text_rows, json_rows, to_text):
    """The text table must show exactly the JSON rows, in the same order."""
    want = [to_text(r) for r in json_rows]
    bad = [(i, t, w) for i, (t, w) in enumerate(zip(text_rows, want))
           if t != w]
    ok = len(text_rows) == len(want) and not bad
    report(ok, name, "%d text rows, %d --json rows%s" % (
        len(text_rows), len(want),
        ", all fields equal" if ok else "; first difference: %s" %
        (show(bad[0]) if bad else "row count")))


def is_subsequence(want, got, match):
    """Indexes in GOT matching WANT in order, or the first unmatched want."""
    i, hits = 0, []
    for w in want:
        while i < len(got) and not match(w, got[i]):
            i += 1
        if i == len(got):
            return hits, w
        hits.append(i)
        i += 1
    return hits, None


# ---------------------------------------------------------------------------
# facts from the dump


class Tape:
    def __init__(self, path):
        self.path = path
        rc, lines = run("dump", path, "--json")
        self.recs = [json.loads(l) for l in lines if l.strip()]
        if rc != 0 or not self.recs:
            sys.exit("analyses.py: %s dump --json %s gave no records"
                     % (TRACETAPE, path))

    def of(self, kind):
        return [r for r in self.recs if r["type"] == kind]

    def counts(self):
        c = {}
        for r in self.recs:
            c[r["type"]] = c.get(r["type"], 0) + 1
        return c


def workload_pid(tape, workdir):
    execs = [r for r in tape.of("exec") if r["ret"] == 0
             and r["args"][1:2] == [workdir]]
    if len(execs) != 1:
        sys.exit("analyses.py: %s: want one exec of the workload with "
                 "WORKDIR %s, found %d" % (tape.path, workdir, len(execs)))
    return execs[0]["pid"]


def inode_of(tape, full):
    for r in tape.of("open"):
        if r["full"] == full and r["ret"] >= 0:
            return r["dev"], r["ino"]
    return None


# ---------------------------------------------------------------------------
# opensnoop

OPENSNOOP_ROW = r"^(\d+) +(.*?) +(-?\d+) +(\d+) (.*)$"


def open_matches(e, r):
    if r["syscall"] != e["syscall"] or r["path"] != e["path"]:
        return False
    if r["full"] != e["full"]:
        return False
    if e["result"] == "ok":
        return r["fd"] >= 0 and r["err"] == 0
    return r["fd"] == -1 and r["err"] == -e["result"]


def open_text(r, full=False):
    return (str(r["pid"]), r["comm"], str(r["fd"]), str(r["err"]),
            r["full"] if full else r["path"])


def check_opensnoop(tape, expect, wpid):
    want = [e for e in expect if e["kind"] == "open"]
    want_failed = sorted((e["path"], -e["result"]) for e in want
                         if e["result"] != "ok")
    rows = rows_of(run_json("opensnoop", tape.path), "open")
    report(len(rows) == len(tape.of("open")), "opensnoop --json row count",
           "%d rows, dump has %d open records" % (len(rows),
                                                  len(tape.of("open"))))
    mine = [r for r in rows if r["pid"] == wpid]
    hits, missing = is_subsequence(want, mine, open_matches)
    report(missing is None, "opensnoop --json workload opens",
           "%d of %d workload opens found in order (syscall, path, full, "
           "fd>=0/err 0 or fd -1/errno)%s" % (
               len(hits), len(want),
               "" if missing is None else "; missing: %s" % show(missing)))
    failed = sorted((r["path"], r["err"]) for r in mine if r["err"])
    report(failed == want_failed, "opensnoop failed opens and errno",
           "workload pid %d: tape %s, workload %s" % (wpid, failed,
                                                      want_failed))

    for opts in ([], ["-x"], ["-p", wpid], ["-n", "true"], ["-F"],
                 ["-x", "-F", "-n", "workload"]):
        text = parse_table(run("opensnoop", tape.path, *opts)[1], "PID ",
                           OPENSNOOP_ROW)
        js = rows_of(run_json("opensnoop", tape.path, *opts), "open")
        compare_rows(" ".join(["opensnoop"] + [str(o) for o in opts])
                     + " text vs --json", text, js,
                     lambda r: open_text(r, full="-F" in opts))

    x_rows = rows_of(run_json("opensnoop", tape.path, "-x"), "open")
    want_x = [r for r in rows if r["err"] != 0]
    x_mine = sorted((r["path"], r["err"]) for r in x_rows
                    if r["pid"] == wpid)
    report(x_rows == want_x and all(r["fd"] == -1 for r in x_rows)
           and x_mine == want_failed, "opensnoop -x",
           "%d rows, all fd -1 with errno: %s; the failures of the full "
           "list: %d; workload's: %s, want %s" % (
               len(x_rows), all(r["fd"] == -1 and r["err"] for r in x_rows),
               len(want_x), x_mine, want_failed))

    p_rows = rows_of(run_json("opensnoop", tape.path, "-p", wpid), "open")
    want_p = [r for r in rows if r["pid"] == wpid]
    report(p_rows == want_p and is_subsequence(want, p_rows,
                                               open_matches)[1] is None,
           "opensnoop -p", "-p %d: %d rows, want the %d rows of that pid "
           "(all workload opens among them)" % (wpid, len(p_rows),
                                                len(want_p)))

    for name in ("true", "workload"):
        n_rows = rows_of(run_json("opensnoop", tape.path, "-n", name),
                         "open")
        want_n = [r for r in rows if name in r["comm"]]
        report(n_rows == want_n and n_rows, "opensnoop -n " + name,
               "%d rows, want the %d rows whose comm contains %r (pids %s)"
               % (len(n_rows), len(want_n), name,
                  sorted({r["pid"] for r in n_rows})))

    f_text = parse_table(run("opensnoop", tape.path, "-F")[1], "PID ",
                         OPENSNOOP_ROW)
    f_paths = [t[4] for t in f_text]
    rel = [p for p in f_paths if not p.startswith("/")]
    want_full = [e["full"] for e in want]
    _, missing = is_subsequence(want_full, f_paths, lambda w, p: w == p)
    report(not rel and missing is None, "opensnoop -F resolved paths",
           "%d rows, %d not absolute %s; workload's resolved paths in "
           "order: %s" % (len(f_paths), len(rel), show(rel[:3]),
                          "all found" if missing is None
                          else "missing " + missing))


# ---------------------------------------------------------------------------
# filetop

FILETOP_ROW = (r"^(\d+) +(.*?) +(\d+) +(\d+) +(\d+) +(\d+) +([RSO]) (.*)$")
SORT_KEYS = {
    "all": lambda r: r["reads"] + r["writes"] + r["rbytes"] + r["wbytes"],
    "reads": lambda r: r["reads"],
    "writes": lambda r: r["writes"],
    "rbytes": lambda r: r["rbytes"],
    "wbytes": lambda r: r["wbytes"],
}


def filetop_text(r):
    return (str(r["tid"]), r["comm"], str(r["reads"]), str(r["writes"]),
            str(r["rbytes"] // 1024), str(r["wbytes"] // 1024),
            r["file_type"], r["file"])


def row_key(r):
    return (r["tid"], r["dev"], r["ino"])


def filetop_rows(tape, *opts):
    objs = run_json("filetop", tape.path, *opts)
    intervals = rows_of(objs, "interval")
    if len(intervals) != 1:
        report(False, "filetop one table", "%d interval objects for %s, "
               "want 1 without INTERVAL" % (len(intervals), opts))
    return rows_of(objs, "file")


def expected_rw(expect):
    """Sum of the workload's own counts per file, across syscall kinds.

    An entry's "dir" ("r" or "w") says which side it counts on: an
    in-kernel copy (copy_file_range, sendfile) reads one file and writes
    another. Without it, the system call's name says."""
    sums = {}
    for e in expect:
        if e["kind"] != "rw":
            continue
        s = sums.setdefault(e["name"], dict(reads=0, writes=0, rbytes=0,
                                            wbytes=0))
        reads = e.get("dir", "r" if e["syscall"].startswith(
            ("read", "pread")) else "w") == "r"
        if reads:
            s["reads"] += e["calls"]
            s["rbytes"] += e["bytes"]
        else:
            s["writes"] += e["calls"]
            s["wbytes"] += e["bytes"]
    return sums


def check_sorted(rows, name, key):
    vals = [SORT_KEYS[key](r) for r in rows]
    report(vals == sorted(vals, reverse=True) and rows,
           "filetop -s " + key + " " + name,
           "%d rows, %s values %s (want non-increasing)" % (
               len(rows), key, show(vals, 120)))


def check_filetop(tape, expect, workdir, wpid, expect_size):
    rows = filetop_rows(tape)
    for name, want in sorted(expected_rw(expect).items()):
        ident = inode_of(tape, workdir + "/" + name)
        hits = [r for r in rows if ident and (r["dev"], r["ino"]) == ident]
        got = [dict(reads=r["reads"], writes=r["writes"], rbytes=r["rbytes"],
                    wbytes=r["wbytes"]) for r in hits]
        ok = (got == [want] and hits[0]["file_type"] == "R"
              and hits[0]["file"] == name and hits[0]["tid"] == wpid)
        report(ok, "filetop --json " + name,
               "workload's counts %s; tape rows for (dev, ino) %s: %s" % (
                   want, ident, show([(h["tid"], h["file"], h["file_type"],
                                       dict(reads=h["reads"],
                                            writes=h["writes"],
                                            rbytes=h["rbytes"],
                                            wbytes=h["wbytes"]))
                                      for h in hits])))
    exp = [r for r in rows if r["file"] == "expect.json" and r["tid"] == wpid]
    report(len(exp) == 1 and exp[0]["wbytes"] == expect_size
           and exp[0]["reads"] == 0, "filetop expect.json bytes",
           "the workload's EXPECT file is %d bytes on disk; filetop: %s" % (
               expect_size, show([(r["writes"], r["wbytes"]) for r in exp])))
    not_r = [r for r in rows if r["file_type"] != "R"]
    report(not not_r, "filetop regular files only",
           "%d rows without -a, %d not of type R" % (len(rows), len(not_r)))

    for opts in ([], ["-a"], ["-p", wpid], ["-a", "-s", "wbytes"],
                 ["-s", "reads"]):
        text = parse_table(run("filetop", tape.path, *opts)[1], "TID ",
                           FILETOP_ROW)
        compare_rows(" ".join(["filetop"] + [str(o) for o in opts])
                     + " text vs --json", text, filetop_rows(tape, *opts),
                     filetop_text)

    a_rows = filetop_rows(tape, "-a")
    a_keys = {row_key(r) for r in a_rows}
    report(all(row_key(r) in a_keys for r in rows)
           and len(a_rows) >= len(rows)
           and all(r["file_type"] in "RSO" for r in a_rows), "filetop -a",
           "%d rows (types %s) include the %d regular rows" % (
               len(a_rows), "".join(sorted({r["file_type"] for r in a_rows})),
               len(rows)))

    p_rows = filetop_rows(tape, "-p", wpid)
    report(p_rows == [r for r in rows if r["pid"] == wpid] and p_rows,
           "filetop -p", "-p %d: %d rows, want the %d rows of that pid" % (
               wpid, len(p_rows), sum(r["pid"] == wpid for r in rows)))

    check_sorted(rows, "(default)", "all")
    for key in ("reads", "writes", "rbytes", "wbytes"):
        s_rows = filetop_rows(tape, "-a", "-s", key)
        same = sorted(map(row_key, s_rows)) == sorted(map(row_key, a_rows))
        if not same:
            report(False, "filetop -s " + key, "rows differ from -a's")
        check_sorted(s_rows, "-a", key)


# ---------------------------------------------------------------------------
# filelife

FILELIFE_ROW = r"^(\S+) +(\d+) +(.*?) +(-|\?|\d+\.\d\d) +(.*)$"


def filelife_text(r, full=False):
    age = "%.2f" % (r["age_ns"] / 1e9) if "age_ns" in r else (
        "-" if r["status"] == "not_deleted" else "?")
    mark = {"not_deleted": " (not deleted)",
            "creation_not_recorded": " (creation not recorded)",
            "replaced": " (replaced by rename)"}.get(r["status"], "")
    return (r["time"][11:19], str(r["pid"]), r["comm"], age,
            (r["path"] if full else r["file"]) + mark)


def age_ok(age_s, slept, slack=AGE_SLACK_S):
    return slept <= age_s < slept + slack


def life_ok(age_s, e):
    """The workload slept e["age"]; newer workloads also time create ->
    delete themselves on the tape's clock (e["measured"]): then the tape
    must agree with that within MEASURED_SLACK_S."""
    if "measured" in e:
        return age_s >= e["age"] and abs(age_s - e["measured"]) < \
            MEASURED_SLACK_S
    return age_ok(age_s, e["age"])


def check_filelife(tape, expect, workdir, wpid):
    lives = [e for e in expect if e["kind"] == "life"]
    rows = rows_of(run_json("filelife", tape.path), "filelife")
    for e in lives:
        hits = [r for r in rows if r["path"] == e["full"]]
        ok = (len(hits) == 1 and hits[0]["status"] == "deleted"
              and life_ok(hits[0]["age_s"], e)
              and hits[0]["pid"] == wpid and hits[0]["creator_pid"] == wpid
              and hits[0]["file"] == os.path.basename(e["full"]))
        report(ok, "filelife --json " + os.path.basename(e["full"]),
               "workload slept %.1f s between create and delete (measured "
               "%s s); rows (status, age_s, pid, file): %s"
               % (e["age"], e.get("measured", "not"),
                  show([(r["status"], r.get("age_s"), r["pid"], r["file"])
                        for r in hits])))
    report(sorted(r["path"] for r in rows) ==
           sorted(e["full"] for e in lives), "filelife rows",
           "%d rows %s, the workload deleted %d files" % (
               len(rows), [r["file"] for r in rows], len(lives)))

    text = parse_table(run("filelife", tape.path)[1], "TIME ", FILELIFE_ROW)
    compare_rows("filelife text vs --json", text, rows, filelife_text)
    f_text = parse_table(run("filelife", tape.path, "-F")[1], "TIME ",
                         FILELIFE_ROW)
    compare_rows("filelife -F text vs --json path", f_text, rows,
                 lambda r: filelife_text(r, full=True))

    all_rows = rows_of(run_json("filelife", tape.path, "--all"), "filelife")
    kept = {r["path"]: r for r in all_rows if r["status"] == "not_deleted"}
    want_kept = sorted({e["full"] for e in expect if e["kind"] == "open"
                        and e["created"]}
                       | {e["full2"] for e in expect if e["kind"] == "rename"})
    mine = sorted(p for p, r in kept.items() if p.startswith(workdir + "/"))
    report(mine == want_kept, "filelife --all not deleted",
           "files under WORKDIR created and left: %s; want %s (creations by "
           "the workload, the renamed file under its new name)" % (
               mine, want_kept))
    data_rows = [r for r in all_rows if r["path"] == workdir + "/data.bin"]
    report(len(data_rows) == 1, "filelife O_CREAT on an existing file",
           "data.bin: %d rows, want 1 (opening it again with O_CREAT is no "
           "creation)" % len(data_rows))
    for e in (x for x in expect if x["kind"] == "rename"):
        created = [r for r in tape.of("open") if r["full"] == e["full"]
                   and r["created"] and r["ret"] >= 0]
        row = kept.get(e["full2"])
        old = [r for r in all_rows if r["path"] == e["full"]]
        ok = (len(created) == 1 and row is not None and not old
              and row["created_ts_ns"] == created[0]["ts_ns"]
              and row["file"] == os.path.basename(e["full2"]))
        report(ok, "filelife rename",
               "%s -> %s: row under the new name %s with the creation of the "
               "old name (ts %s, want %s); rows under the old name: %d" % (
                   e["full"], e["full2"], "found" if row else "MISSING",
                   row and row["created_ts_ns"],
                   created and created[0]["ts_ns"], len(old)))
    all_text = parse_table(run("filelife", tape.path, "--all", "-F")[1],
                           "TIME ", FILELIFE_ROW)
    compare_rows("filelife --all -F text vs --json", all_text, all_rows,
                 lambda r: filelife_text(r, full=True))


# ---------------------------------------------------------------------------
# execsnoop

EXECSNOOP_ROW = r"^(.{16}) (\d+) +(\d+) +(-?\d+) (.*)$"


def exec_text(r):
    args = "".join(a + " " for a in [r["filename"]] + r["args"][1:])
    return (r["comm"].ljust(16), str(r["pid"]), str(r["ppid"]),
            str(r["ret"]), args + (" ..." if r["truncated"] else ""))


def exec_rows(tape, *opts):
    return rows_of(run_json("execsnoop", tape.path, *opts), "exec")


def check_execsnoop(tape, expect, wpid):
    ok_exec = next(e for e in expect if e["kind"] == "exec")
    bad_exec = next(e for e in expect if e["kind"] == "exec_failed")
    rows = exec_rows(tape)
    x_rows = exec_rows(tape, "-x")
    report(all(r["ret"] == 0 for r in rows)
           and len(rows) == sum(r["ret"] == 0 for r in tape.of("exec"))
           and len(x_rows) == len(tape.of("exec")), "execsnoop -x",
           "%d rows without -x, all ret 0; %d with -x; the dump has %d "
           "execs, %d failed" % (len(rows), len(x_rows), len(tape.of("exec")),
                                 sum(r["ret"] != 0 for r in tape.of("exec"))))
    hits = [r for r in rows if r["filename"] == ok_exec["filename"]
            and r["ppid"] == wpid]
    arglen = sum(len(a) + 1 for a in ok_exec["args"])
    report(len(hits) == 1 and hits[0]["args"] == ok_exec["args"]
           and not hits[0]["truncated"], "execsnoop --json long argv",
           "%s with %d args (%d bytes) run by pid %d: %s" % (
               ok_exec["filename"], len(ok_exec["args"]), arglen, wpid,
               show([(len(h["args"]), sum(len(a) + 1 for a in h["args"]),
                      h["args"] == ok_exec["args"], h["truncated"])
                     for h in hits])))
    fails = [r for r in x_rows if r["ret"] != 0]
    report([(r["filename"], r["ret"], r["args"], r["ppid"], r["comm"])
            for r in fails] == [(bad_exec["filename"], bad_exec["ret"],
                                 bad_exec["args"], wpid, "workload")],
           "execsnoop -x failed exec",
           "want %s ret %d args %s by a child of %d named workload; "
           "tape: %s" % (bad_exec["filename"], bad_exec["ret"],
                         bad_exec["args"], wpid,
                         show([(r["filename"], r["ret"], r["args"],
                                r["ppid"], r["comm"]) for r in fails])))

    text = parse_table(run("execsnoop", tape.path)[1], "PCOMM ",
                       EXECSNOOP_ROW)
    compare_rows("execsnoop text vs --json", text, rows, exec_text)
    x_text = parse_table(run("execsnoop", tape.path, "-x")[1], "PCOMM ",
                         EXECSNOOP_ROW)
    compare_rows("execsnoop -x text vs --json", x_text, x_rows, exec_text)
    long_line = [t for t in text if t[4].startswith(ok_exec["filename"])]
    want_line = " ".join(ok_exec["args"]) + " "
    report([t[4] for t in long_line] == [want_line],
           "execsnoop text long argv",
           "ARGS column %s chars, want %d (every argument, no ' ...')" % (
               [len(t[4]) for t in long_line], len(want_line)))

    l_text = parse_table(run("execsnoop", tape.path, "-x", "-l", "arg-one")[1],
                         "PCOMM ", EXECSNOOP_ROW)
    compare_rows("execsnoop -x -l arg-one text vs --json", l_text,
                 exec_rows(tape, "-x", "-l", "arg-one"), exec_text)
    l_rows = exec_rows(tape, "-l", "arg44-")
    report([r["args"] for r in l_rows] == [ok_exec["args"]],
           "execsnoop -l arg44-", "%d rows, want the one exec whose last "
           "argument holds arg44-" % len(l_rows))
    l_fail = exec_rows(tape, "-x", "-l", "tracetape-prog")
    l_none = exec_rows(tape, "-l", "tracetape-prog")
    report([r["ret"] for r in l_fail] == [bad_exec["ret"]] and not l_none,
           "execsnoop -l tracetape-prog",
           "with -x: rets %s (want [%d]); without -x: %d rows (want 0)" % (
               [r["ret"] for r in l_fail], bad_exec["ret"], len(l_none)))


# ---------------------------------------------------------------------------
# info, verify, dump

EVENT_TYPES = ("open", "rw", "unlink", "rename", "exec", "fork", "exit",
               "readline", "tty")


def check_info_verify_dump(tape, label, want_probes):
    counts = tape.counts()
    info = run_json("info", tape.path)
    info = info[0] if info else {}
    by_type = {k: v for k, v in info.get("records_by_type", {}).items() if v}
    report(by_type == counts, label + " info events by type",
           "info %s; dump --json %s" % (
               show(by_type, 400), "equal" if by_type == counts
               else show(counts, 400)))
    events = sum(counts.get(t, 0) for t in EVENT_TYPES)
    report(info.get("records") == len(tape.recs)
           and info.get("events") == events, label + " info record count",
           "info: %s records, %s events; dump: %d records, %d events" % (
               info.get("records"), info.get("events"), len(tape.recs),
               events))
    losses = sum(r["count"] for r in tape.of("loss"))
    report(info.get("lost") == 0 and not info.get("lost_per_cpu")
           and losses == 0 and not info.get("damage"), label + " no losses",
           "info lost %s, lost_per_cpu %s, damage %s; dump loss records "
           "count %d" % (info.get("lost"), info.get("lost_per_cpu"),
                         info.get("damage"), losses))
    probes = info.get("probes", [])
    names = sorted(p.get("name") for p in probes)
    detached = [p for p in probes if p.get("attached") != "1"]
    report(set(want_probes) <= set(names) and not detached,
           label + " info probes",
           "%s, none detached: %s; want at least %s" % (
               names, not detached, sorted(want_probes)))
    first, last = tape.recs[0]["ts_ns"], tape.recs[-1]["ts_ns"]
    report((info.get("start_ts_ns"), info.get("end_ts_ns")) == (first, last)
           and (info.get("start"), info.get("end")) ==
           (tape.recs[0]["time"], tape.recs[-1]["time"]),
           label + " info time span",
           "info %s .. %s; dump's first and last records %s .. %s" % (
               info.get("start"), info.get("end"), tape.recs[0]["time"],
               tape.recs[-1]["time"]))
    rc, text = run("info", tape.path)
    listed = text[text.index(next(l for l in text if l.startswith("probes")))
                  + 1:][:len(probes)] if probes else []
    # "  NAME  MECHANISM  attached", then maybe " (NOTE)" (e.g. why fexit
    # was not used)
    listed_ok = [l.split()[0] for l in listed
                 if l.startswith("  ") and re.search(r"  attached( \(.*\))?$", l)]
    report(sorted(listed_ok) == names, label + " info text probes",
           "%d probe lines ending 'attached' %s, --json names %s" % (
               len(listed_ok), sorted(listed_ok), names))
    text_counts = {}
    for line in text:
        m = re.match(r"^  (\w+) +(\d+)$", line)
        if m:
            text_counts[m.group(1)] = int(m.group(2))
    want_text = {t: counts.get(t, 0) for t in EVENT_TYPES}
    got_text = {t: text_counts.get(t) for t in EVENT_TYPES}
    lost_line = [l for l in text if l.startswith("lost ")]
    report(got_text == want_text and lost_line
           and re.match(r"^lost +0 events$", lost_line[0]),
           label + " info text", "event lines %s (dump %s), %s" % (
               got_text, "equal" if got_text == want_text else want_text,
               lost_line))

    rc, vtext = run("verify", tape.path, want_rc=(0, 1, 2))
    summary = vtext[-1] if vtext else ""
    report(rc == 0 and re.search(r": clean: \d+ segments, %d records read$"
                                 % len(tape.recs), summary),
           label + " verify", "exit %d (want 0), %r (want clean, %d "
           "records)" % (rc, summary, len(tape.recs)))
    vj = rows_of(run_json("verify", tape.path, want_rc=(0, 1, 2)), "verify")
    report(len(vj) == 1 and vj[0]["status"] == "clean"
           and vj[0]["records"] == len(tape.recs) and vj[0]["problems"] == 0
           and vj[0]["records_lost"] == 0, label + " verify --json",
           show(vj))
    _, dtext = run("dump", tape.path)
    report(len(dtext) == info.get("records"), label + " dump text",
           "%d lines, info says %s records" % (len(dtext),
                                               info.get("records")))


# ---------------------------------------------------------------------------
# diff


def diff(a, b, *opts):
    rc, lines = run("diff", a, b, *opts, "--json", want_rc=(0, 1, 2))
    objs = [json.loads(l) for l in lines if l.strip()]
    summary = rows_of(objs, "summary")
    return rc, rows_of(objs, "difference"), summary[0] if summary else {}


def diff_tapes(a, b, *opts):
    _, lines = run("diff", a, b, *opts, "--json", want_rc=(0, 1, 2))
    return [o for o in map(json.loads, lines) if o.get("type") == "tape"]


def check_diff(tape, tape2, bash_tape, run_dirs, events):
    heads = diff_tapes(tape, tape2, "--normalize")
    got = [(h.get("side"), h.get("events"), h.get("lost"), h.get("damaged"))
           for h in heads]
    want = [("A", events[0], 0, 0), ("B", events[1], 0, 0)]
    report(got == want, "diff --json tapes",
           "(side, events, lost, damaged) %s, want %s (events from dump)"
           % (got, want))
    rc, diffs, s = diff(tape, tape2)
    names = [os.path.basename(d) for d in run_dirs]
    volatile = [d for d in diffs if any(n in json.dumps(d) for n in names)]
    report(rc == 1 and diffs and volatile == diffs,
           "diff of two workload runs without --normalize",
           "exit %d (want 1), %d differences, %d of them naming the run "
           "directories %s (want all)" % (rc, len(diffs), len(volatile),
                                          names))
    rc, diffs, s = diff(tape, tape2, "--normalize")
    report(rc == 0 and not diffs and s.get("differences") == 0,
           "diff --normalize of two workload runs",
           "exit %d (want 0), %d differences (want 0)%s" % (
               rc, len(diffs), "".join("\n      " + show(d) for d in
                                       diffs[:8])))
    rc, diffs, s = diff(tape, tape)
    report(rc == 0 and not diffs and s.get("differences") == 0,
           "diff of a tape with itself",
           "exit %d (want 0), %d differences" % (rc, len(diffs)))
    rc, diffs, s = diff(tape, bash_tape)
    report(rc == 1 and diffs and s.get("differences") == len(diffs),
           "diff workload vs bash tape",
           "exit %d (want 1), %d differences, summary says %s; sections %s"
           % (rc, len(diffs), s.get("differences"),
              sorted({d["section"] for d in diffs})))
    rc, text = run("diff", tape, tape2, "--normalize", want_rc=(0, 1, 2))
    report(rc == 0 and text and re.match(r"^0 differences", text[-1]),
           "diff --normalize text", "exit %d, last line %r" % (
               rc, text[-1] if text else None))


def fold_digits(s):
    """What --normalize makes of the planted keys: they hold no UUID, no
    tmp.XXXXXX outside the run directory and no random-looking run, so only
    the runs of digits fold (the run directory is compared by suffix)."""
    return re.sub(r"[0-9]+", "#", s)


def diff_key(d):
    fields = {"opens": ("comm", "path", "result"), "files": ("comm", "file"),
              "life": ("event", "comm", "path"), "exec": ("argv", "outcome"),
              "commands": ("line",)}[d["section"]]
    return tuple(tuple(d[f]) if isinstance(d.get(f), list) else d.get(f)
                 for f in fields)


def planted_workload_diffs(expect, expectb, sizes):
    """The differences workload.c plants with TT_WORKLOAD_VARIANT=b, from the
    two runs' own accounts: (section, change, key, a, b). For files, a and b
    map the fields that must change to their values; the others must not
    change. SIZES: the two accounts' sizes, as written by the workload (the
    variant's account tells one more open: a difference the diff sees too).
    """
    def exec_argv(exp):
        return " ".join(next([fold_digits(a) for a in e["args"]]
                             for e in exp if e["kind"] == "exec"))

    def wbytes(exp):
        return sum(e["bytes"] for e in exp if e["kind"] == "rw"
                   and e["name"] == "data.bin" and e.get("dir", "w") == "w"
                   and e["syscall"] in ("write", "pwrite64", "writev"))
    wa, wb = wbytes(expect), wbytes(expectb)
    return [
        ("opens", "added", ("workload", "/etc/passwd", "ok"), 0, 1),
        ("opens", "added", ("workload", "/etc/hostname", "ENOENT"), 0, 1),
        ("opens", "removed", ("workload", "/etc/hostname", "ok"), 1, 0),
        ("files", "changed", ("workload", "/work/data.bin"),
         {"wbytes": wa}, {"wbytes": wb}),
        ("files", "changed", ("workload", "/expect.json"),
         {"wbytes": sizes[0]}, {"wbytes": sizes[1]}),
        ("exec", "removed", (exec_argv(expect), "exit 0"), 1, 0),
        ("exec", "added", (exec_argv(expectb), "exit 0"), 0, 1),
    ]


def diff_matches(want, d):
    section, change, key, a, b = want
    if d["section"] != section or d["change"] != change:
        return False
    got = diff_key(d)
    if section == "files":
        # the run directory folds to tmp.*: compare the part after it
        if got[0] != key[0] or not str(got[1]).endswith(key[1]):
            return False
        changed = {k for k in d["a"] if d["a"][k] != d["b"][k]}
        # a field wanted "more" (value None) only has to grow
        return changed == set(a) and all(
            d["b"][k] > d["a"][k] if a[k] is None
            else (d["a"][k], d["b"][k]) == (a[k], b[k]) for k in a)
    return got == key and d["a"] == a and d["b"] == b \
        and d["delta"] == b - a


def check_planted(name, a, b, diffs, want):
    """Every wanted difference found once, and nothing else."""
    left, missing = list(diffs), []
    for w in want:
        hit = [d for d in left if diff_matches(w, d)]
        if len(hit) == 1:
            left.remove(hit[0])
        else:
            missing.append(w)
    report(not missing and not left, name,
           "A %s, B %s: %d differences, want the %d planted%s%s" % (
               a, b, len(diffs), len(want),
               "".join("\n      missing: " + show(m, 200) for m in missing),
               "".join("\n      unexpected: " + show(d, 200)
                       for d in left[:10])))


def check_diff_planted(tape, tapeb, expect, expectb, sizes):
    """Two workload runs that differ in known ways: exactly those show."""
    want = planted_workload_diffs(expect, expectb, sizes)
    rc, diffs, s = diff(tape, tapeb, "--normalize")
    report(rc == 1, "diff --normalize workload vs variant b exit status",
           "A %s, B %s: exit %d, want 1" % (tape, tapeb, rc))
    check_planted("diff --normalize workload vs variant b: the planted "
                  "differences only", tape, tapeb, diffs, want)
    per = {}
    for w in want:
        per[w[0]] = per.get(w[0], 0) + 1
    want_s = dict(differences=len(want), opens=per.get("opens", 0),
                  files=per.get("files", 0), life=0, exec=per.get("exec", 0),
                  commands=0)
    got_s = {k: s.get(k) for k in want_s}
    report(got_s == want_s, "diff --json summary workload vs variant b",
           "%s, want %s" % (got_s, want_s))

    rc, text = run("diff", tape, tapeb, "--normalize", want_rc=(0, 1, 2))
    print("      the text report (long lines cut):\n" + "\n".join(
        "      | " + (l if len(l) <= 160 else l[:150] + " ...")
        for l in text))
    heads = [l for l in text if l.startswith(("--- A ", "+++ B "))]
    blocks = dict(re.findall(r"^(\w+): .*\((\d+)\):$", "\n".join(text),
                             re.M))
    want_blocks = {k: str(v) for k, v in per.items()}
    last = "%d differences: opens %d, files %d, life 0, exec %d, " \
        "commands 0" % (len(want), want_s["opens"], want_s["files"],
                        want_s["exec"])
    signs = sorted(l[0] for l in text if re.match(r"^[-+~] ", l))
    want_signs = sorted({"added": "+", "removed": "-", "changed": "~"}[w[1]]
                        for w in want)
    report(rc == 1 and len(heads) == 2 and tape in heads[0]
           and tapeb in heads[1] and blocks == want_blocks
           and signs == want_signs and text and text[-1] == last,
           "diff --normalize text workload vs variant b",
           "exit %d (want 1); headers name A and B: %s; section blocks %s "
           "(want %s); row signs %s (want %s); last line %r (want %r)" % (
               rc, len(heads) == 2 and tape in heads[0]
               and tapeb in heads[1], blocks, want_blocks, "".join(signs),
               "".join(want_signs), text[-1] if text else None, last))


def check_diff_extra_line(bash_tape, bash_tape2, extra):
    """The same typed lines and one more: one line added in commands."""
    rc, diffs, s = diff(bash_tape, bash_tape2, "--normalize",
                        "--by", "commands")
    want = [("commands", "added", (extra,), 0, 1)]
    report(rc == 1, "diff --normalize --by commands bash vs bash + 1 line "
           "exit status", "A %s, B %s: exit %d, want 1" % (
               bash_tape, bash_tape2, rc))
    check_planted("diff --normalize --by commands bash vs bash + 1 line",
                  bash_tape, bash_tape2, diffs, want)
    # All sections: typing the line is read from the terminal one byte per
    # call, its echo and the next prompt are written there (how many bytes
    # depends on the redisplay, so only "more"), and bash saves it to
    # HISTFILE at exit, which it reads back first.
    typed = len(extra) + 1
    want += [
        ("files", "changed", ("bash", "other:#"),
         {"reads": None, "rbytes": None, "writes": None, "wbytes": None},
         None),
        ("files", "changed", ("bash", "/bash_history"),
         {"rbytes": None, "wbytes": None}, None)]
    rc, diffs, s = diff(bash_tape, bash_tape2, "--normalize")
    check_planted("diff --normalize bash vs bash + 1 line", bash_tape,
                  bash_tape2, diffs, want)
    files = {d["file"].rsplit("/", 1)[-1]: d for d in diffs
             if d["section"] == "files"}
    got = {f: {k: d["b"][k] - d["a"][k] for k in d["a"]}
           for f, d in files.items()}
    want_d = {"other:#": {"reads": typed, "rbytes": typed},
              "bash_history": {"rbytes": typed, "wbytes": typed}}
    ok = all(f in got and all(got[f][k] == v for k, v in kv.items())
             for f, kv in want_d.items())
    report(ok, "diff --normalize bash vs bash + 1 line: byte deltas",
           "A %s, B %s: deltas per file %s; want the %d bytes typed (%r and "
           "Enter) read from the terminal one per call and added to the "
           "history file" % (bash_tape, bash_tape2, got, typed, extra))


# ---------------------------------------------------------------------------
# the bash session


def bash_pid_of(tape):
    pids = sorted({r["pid"] for r in tape.of("exec")
                   if r["ret"] == 0 and r["filename"] == "/bin/bash"})
    if len(pids) != 1:
        sys.exit("analyses.py: %s: want one exec of bash, found pids %s"
                 % (tape.path, pids))
    return pids[0]


def check_bashreadline(tape, lines, bpid):
    rows = rows_of(run_json("bashreadline", tape.path), "readline")
    got = [r["line"] for r in rows]
    report(got == lines and all(r["pid"] == bpid for r in rows),
           "bashreadline --json", "%d typed lines in order, %d rows, all "
           "from bash pid %d: %s" % (len(lines), len(rows), bpid,
                                     "equal" if got == lines else show(got)))
    text = run("bashreadline", tape.path)[1]
    col = text[0].find("COMMAND") if text else -1
    trows = [tuple(l[:col].split()) + (l[col:],) for l in text[1:]]
    want = [(r["time"][11:19], str(bpid), l) for r, l in zip(rows, lines)]
    report(trows == want, "bashreadline text",
           "%d rows (TIME, PID, COMMAND) %s" % (
               len(trows), "equal to the typed lines" if trows == want
               else show(trows)))
    p_rows = rows_of(run_json("bashreadline", tape.path, "-p", bpid + 1),
                     "readline")
    report(not p_rows, "bashreadline -p other",
           "-p %d: %d rows, want 0" % (bpid + 1, len(p_rows)))


def owner_oracle(tape, bpid):
    """What each typed line caused, from the records alone: a process forked
    while a line is open belongs to it, with all its descendants; the bash's
    own events belong to the line open at the time."""
    line = -1
    owner = {}
    per = []
    for r in tape.recs:
        t = r["type"]
        if t == "readline" and r["pid"] == bpid:
            line += 1
            per.append(dict(opened=set(), written=set(), deleted=0))
            continue
        if t not in EVENT_TYPES or line < 0:
            continue
        who = line if r["pid"] == bpid else owner.get(r["pid"])
        if who is None:
            continue
        if t == "fork":
            owner[r["child_pid"]] = who
        elif t == "open" and r["ret"] >= 0:
            per[who]["opened"].add((r["dev"], r["ino"]))
        elif t == "rw" and r["writes"] and stat.S_ISREG(r["i_mode"]):
            per[who]["written"].add((r["dev"], r["ino"]))
        elif (t == "unlink" and r["ret"] == 0 and r["syscall"] != "rmdir"
              and not (r["syscall"] == "unlinkat" and r["flags"] & 0x200)):
            per[who]["deleted"] += 1
    return [(len(p["opened"]), len(p["written"]), p["deleted"]) for p in per]


def want_history(lines, tmp):
    """The execs each typed line runs: (argv, ret, status, depth)."""
    dd_out = tmp + "/dd.out"
    by_line = {
        "true": [],
        '/bin/true tt-one "two  words"':
            [(["/bin/true", "tt-one", "two  words"], 0, "exit 0", 1)],
        "sh -c 'exit 3'": [(["sh", "-c", "exit 3"], 0, "exit 3", 1)],
        # the background subshell is bash's child, sleep its child
        "(sleep 0.2; echo bg >%s/bg.out) &" % tmp:
            [(["sleep", "0.2"], 0, "exit 0", 2)],
        "cat /nonexistent": [(["cat", "/nonexistent"], 0, "exit 1", 1)],
        "cd %s && cat ./lines.txt >/dev/null" % tmp:
            [(["cat", "./lines.txt"], 0, "exit 0", 1)],
        "dd if=/dev/zero of=%s bs=1000 count=7 status=none; sleep 0.3; "
        "rm %s" % (dd_out, dd_out): [
            (["dd", "if=/dev/zero", "of=" + dd_out, "bs=1000", "count=7",
              "status=none"], 0, "exit 0", 1),
            (["sleep", "0.3"], 0, "exit 0", 1),
            (["rm", dd_out], 0, "exit 0", 1)],
        "/nonexistent/tt-prog arg-one":
            [(["/nonexistent/tt-prog", "arg-one"], -2,
              "exec failed: ENOENT", 1)],
        "exit 5": [],
    }
    return [by_line.get(l, "a line analyses.py does not know") for l in lines]


def check_history(tape, lines, bpid, dd_out):
    cmds = rows_of(run_json("history", tape.path), "command")
    got_lines = [c["line"] for c in cmds]
    report(got_lines == lines and all(c["session_pid"] == bpid
                                      and c["uid"] == 0 for c in cmds),
           "history --json lines", "%d commands of session %d in order: %s"
           % (len(cmds), bpid, "equal to the typed lines"
              if got_lines == lines else show(got_lines)))
    if got_lines != lines:
        return
    tmp = os.path.dirname(dd_out)
    want = want_history(lines, tmp)
    for c, w in zip(cmds, want):
        got = [(e["argv"], e["ret"], e["status"], e["depth"])
               for e in c["execs"]]
        report(got == w,
               "history execs of " + repr(c["line"][:40]),
               "want %s; got %s" % (show(w, 200), show(got, 200)))
    sh = cmds[lines.index("sh -c 'exit 3'")]["execs"]
    report([e.get("wait_status") for e in sh] == [3 << 8],
           "history wait status of sh -c 'exit 3'",
           "%s, want [768]" % [e.get("wait_status") for e in sh])

    oracle = owner_oracle(tape, bpid)
    got = [(c["opened"], c["written"], c["deleted"]) for c in cmds]
    report(got == oracle, "history file counts per line",
           "(opened, written, deleted) per line %s; from the records by "
           "process tree %s" % (got, oracle))

    def counts(prefix):
        c = cmds[[l.startswith(prefix) for l in lines].index(True)]
        return (c["written"], c["deleted"])
    known = [("true", (0, 0)), ("(sleep", (1, 0)),
             ("cat /nonexistent", (0, 0)), ("cd ", (0, 0)), ("dd ", (1, 1))]
    got = [(p, counts(p)) for p, _ in known]
    report(got == known and cmds[0]["opened"] == 0,
           "history file counts known",
           "(written, deleted) per line %s, want %s (bg.out written by the "
           "background job belongs to its line, dd.out to dd's; "
           "builtin true opens nothing: %d)" % (got, known,
                                                 cmds[0]["opened"]))

    text = run("history", tape.path)[1]
    ended = [l for l in text if "bash ended" in l]
    report(len(ended) == 1 and ended[0].endswith("(exit 5)"),
           "history session end", "%s (want '... (exit 5)')" % ended)
    typed = [l.split(" $ ", 1)[1] for l in text
             if re.match(r"^  \d\d:\d\d:\d\d \$ ", l)]
    statuses = [re.split(r"\s{2,}", l.strip())[-1] for l in text
                if re.match(r"^ {11}\d\d:\d\d:\d\d\.\d{3} ", l)]
    want_status = [e[2] for w in want if isinstance(w, list) for e in w]
    report(typed == lines and statuses == want_status, "history text",
           "%d command lines (%s), exec statuses %s (want %s)" % (
               len(typed), "equal" if typed == lines else show(typed),
               statuses, want_status))


def check_bash_side_analyses(tape, bpid, dd_out):
    """The bash tape through execsnoop, opensnoop, filetop and filelife."""
    fails = [r for r in exec_rows(tape, "-x") if r["ret"] != 0]
    report([(r["filename"], r["ret"], r["args"], r["ppid"], r["comm"])
            for r in fails] == [("/nonexistent/tt-prog", -2,
                                 ["/nonexistent/tt-prog", "arg-one"], bpid,
                                 "bash")], "bash tape execsnoop -x",
           "failed execs %s; want /nonexistent/tt-prog ENOENT from a "
           "child of bash %d" % (show([(r["filename"], r["ret"], r["args"],
                                        r["ppid"], r["comm"]) for r in fails]),
                                 bpid))
    every = rows_of(run_json("opensnoop", tape.path, "-n", "cat"), "open")
    x = rows_of(run_json("opensnoop", tape.path, "-x", "-n", "cat"), "open")
    mine = [(r["comm"], r["path"], r["fd"], r["err"]) for r in x
            if r["path"] == "/nonexistent"]
    report(mine == [("cat", "/nonexistent", -1, 2)]
           and x == [r for r in every if r["err"]] and x,
           "bash tape opensnoop -x -n cat",
           "%d failed opens by cat (of %d), all the failures of the full "
           "list: %s; /nonexistent: %s, want cat fd -1 err 2 (ENOENT)" % (
               len(x), len(every), x == [r for r in every if r["err"]],
               mine))

    tmp = os.path.dirname(dd_out)
    rel = [(r["path"], r["full"]) for r in rows_of(
        run_json("opensnoop", tape.path, "-n", "cat"), "open")
        if r["path"] == "./lines.txt"]
    f_text = parse_table(run("opensnoop", tape.path, "-F", "-n", "cat")[1],
                         "PID ", OPENSNOOP_ROW)
    report(rel == [("./lines.txt", tmp + "/lines.txt")]
           and tmp + "/lines.txt" in [t[4] for t in f_text],
           "bash tape opensnoop -F after cd",
           "cat ./lines.txt after 'cd %s': %s; -F text shows the full path: "
           "%s" % (tmp, rel, tmp + "/lines.txt" in [t[4] for t in f_text]))

    rows = filetop_rows(tape)
    dd = [(r["comm"], r["reads"], r["writes"], r["rbytes"], r["wbytes"],
           r["file_type"]) for r in rows if r["file"] == "dd.out"]
    report(dd == [("dd", 0, 7, 0, 7000, "R")], "bash tape filetop dd.out",
           "%s, want dd writing 7 calls, 7000 bytes to a regular file" % dd)
    a_rows = filetop_rows(tape, "-a")
    zero = [(r["comm"], r["reads"], r["rbytes"], r["file_type"])
            for r in a_rows if r["file"] == "zero" and r["comm"] == "dd"]
    plain = [r for r in rows if r["file"] == "zero"]
    report(zero == [("dd", 7, 7000, "O")] and not plain,
           "bash tape filetop -a /dev/zero",
           "with -a %s, want dd reading 7 calls, 7000 bytes, type O; "
           "without -a %d rows (want 0)" % (zero, len(plain)))

    life = rows_of(run_json("filelife", tape.path), "filelife")
    dd_life = [r for r in life if r["path"] == dd_out]
    report(len(dd_life) == 1 and dd_life[0]["comm"] == "rm"
           and dd_life[0]["creator_comm"] == "dd"
           and age_ok(dd_life[0]["age_s"], 0.3, DD_SLACK_S),
           "bash tape filelife dd.out",
           "created by dd, deleted by rm after 'sleep 0.3': %s" %
           show([(r["creator_comm"], r["comm"], r["age_s"])
                 for r in dd_life]))


# ---------------------------------------------------------------------------
# export: chrome (Perfetto), csv, openmetrics (promtool)

CSV_COLUMNS = ["time", "ts_ns", "type", "pid", "tid", "uid", "comm",
               "syscall", "ret", "path", "bytes_read", "bytes_written",
               "reads", "writes", "argv", "line", "path2", "lost", "cpu",
               "detail"]


def export_bytes(*args):
    """Run tracetape export ARGS; (exit status, stdout as str, stderr).

    Bytes are decoded as they are, CR LF kept (csv needs them)."""
    cmd = [TRACETAPE, "export"] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    return (out.returncode, out.stdout.decode("utf-8", "surrogateescape"),
            out.stderr.decode("utf-8", "replace").strip())


def dump_events(tape):
    """The records every export shows, in the tape's order: events, and
    loss records that lost something."""
    return [r for r in tape.recs if r["type"] in EVENT_TYPES
            or (r["type"] == "loss" and r["count"] > 0)]


def want_lifetimes(tape):
    """pid -> (start ns, exit ns) for processes whose start (fork, else
    the first successful exec) and exit are both on the tape; and the
    pids that exit without one."""
    start, lives, bare = {}, {}, []
    for r in tape.recs:
        if r["type"] == "fork":
            start[r["child_pid"]] = r["ts_ns"]
        elif r["type"] == "exec" and r["ret"] == 0:
            start.setdefault(r["pid"], r["ts_ns"])
        elif r["type"] == "exit":
            if r["pid"] in start:
                lives[r["pid"]] = (start.pop(r["pid"]), r["ts_ns"])
            else:
                bare.append(r["pid"])
    return lives, bare


def us_to_ns(x):
    return int(round(x * 1000))


def check_export_chrome(tape, label):
    rc, out, err = export_bytes("--format", "chrome", "--rw", "both",
                                tape.path)
    try:
        doc = json.loads(out)
    except ValueError as e:
        report(False, label + " export chrome: JSON",
               "exit %d, python's json: %s; stderr %s" % (rc, e, err))
        return
    evs = doc.get("traceEvents", [])
    origin = doc.get("otherData", {}).get("ts_zero_boot_ns")
    report(rc == 0 and origin == tape.recs[0]["ts_ns"]
           and doc.get("displayTimeUnit") == "ms",
           label + " export chrome: loads as JSON",
           "exit %d, %d trace events, ts 0 = boot ns %s (dump's first "
           "record %d)" % (rc, len(evs), origin, tape.recs[0]["ts_ns"]))
    counts = tape.counts()

    def n(ph, cat=None, name_start=None):
        return sum(1 for e in evs if e["ph"] == ph
                   and (cat is None or e.get("cat") == cat)
                   and (name_start is None
                        or e["name"].startswith(name_start)))

    got = {"open": n("i", "open"), "unlink": n("i", "unlink"),
           "rename": n("i", "rename"), "exec": n("i", "exec"),
           "readline": n("i", "readline"),
           "fork": n("i", "process", "fork "),
           "exit": n("X", "process") + n("i", "process", "exit "),
           "rw counters": n("C", "rw"), "rw instants": n("i", "rw"),
           "loss": n("i", "loss")}
    want = {t: counts.get(t, 0) for t in ("open", "unlink", "rename",
                                          "exec", "readline", "fork",
                                          "exit")}
    want["rw counters"] = want["rw instants"] = counts.get("rw", 0)
    want["loss"] = sum(1 for r in tape.of("loss") if r["count"] > 0)
    report(got == want, label + " export chrome: events per kind",
           "%s; dump --json %s" % (show(got, 400),
                                   "equal" if got == want else show(want)))

    lives, bare = want_lifetimes(tape)
    got_lives = {e["pid"]: (origin + us_to_ns(e["ts"]),
                            origin + us_to_ns(e["ts"] + e["dur"]))
                 for e in evs if e["ph"] == "X"}
    exits = [e["pid"] for e in evs if e["ph"] == "i"
             and e.get("cat") == "process" and e["name"].startswith("exit ")]
    report(got_lives == lives and sorted(exits) == sorted(bare),
           label + " export chrome: process lifetimes",
           "%d X events from fork/exec to exit (dump: %d such processes%s), "
           "%d bare exits (dump %d)" % (
               len(got_lives), len(lives),
               ", same times" if got_lives == lives else
               "; first difference %s" % show(sorted(
                   set(got_lives.items()) ^ set(lives.items()))[:2]),
               len(exits), len(bare)))

    # Perfetto drops slices that do not nest: lifetimes on one track
    # must not overlap
    tracks = {}
    for e in evs:
        if e["ph"] == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append(
                (e["ts"], e["ts"] + e["dur"]))
    overlaps = [(k, a, b) for k, v in tracks.items()
                for a, b in zip(sorted(v), sorted(v)[1:]) if b[0] < a[1]]
    report(not overlaps, label + " export chrome: lifetimes nest",
           "%d tracks with X events, overlapping on one track: %s" % (
               len(tracks), show(overlaps[:2]) if overlaps else "none"))
    # the counters: bytes of the process so far, one sample per rw record,
    # starting again from 0 for a pid that exited and came back
    sums, want_c = {}, []
    for r in tape.recs:
        if r["type"] == "rw":
            rb, wb = sums.get(r["pid"], (0, 0))
            sums[r["pid"]] = (rb + r["rbytes"], wb + r["wbytes"])
            want_c.append((r["pid"], r["ts_ns"]) + sums[r["pid"]])
        elif r["type"] == "exit":
            sums.pop(r["pid"], None)
    got_c = [(e["pid"], origin + us_to_ns(e["ts"]), e["args"]["read"],
              e["args"]["written"]) for e in evs if e["ph"] == "C"]
    bad = [(g, w) for g, w in zip(got_c, want_c) if g != w]
    report(got_c == want_c and got_c, label + " export chrome: byte counters",
           "%d counter samples (pid, ts, bytes read and written so far), "
           "%d rw records%s" % (len(got_c), len(want_c), ", all equal"
                                if not bad else "; first difference %s" %
                                show(bad[0])))
    pids = {r["pid"] for r in tape.recs if r["type"] in EVENT_TYPES
            and r["type"] != "tty"}
    named = {e["pid"] for e in evs if e["ph"] == "M"
             and e["name"] == "process_name"}
    report(pids <= named, label + " export chrome: processes named",
           "%d pids with events, %d named by process_name%s" % (
               len(pids), len(named & pids),
               "" if pids <= named else ": missing %s" % sorted(
                   pids - named)[:5]))


def csv_want(r, opened):
    """The columns of the CSV line for dump record R that the dump knows;
    OPENED: (dev, ino) -> absolute path of the latest successful open."""
    t = r["type"]
    w = {"ts_ns": str(r["ts_ns"]), "type": t, "time": r["time"]}
    if t == "loss":
        w["lost"] = str(r["count"])
        return w
    w.update(pid=str(r["pid"]), tid=str(r["tid"]), uid=str(r["uid"]),
             comm=r["comm"])
    if t in ("open", "unlink", "rename"):
        w.update(ret=str(r["ret"]), path=r["full"], syscall=r["syscall"])
        if t == "rename":
            w["path2"] = r["full2"]
    elif t == "rw":
        w.update(path=opened.get((r["dev"], r["ino"]), r["name"]),
                 bytes_read=str(r["rbytes"]),
                 bytes_written=str(r["wbytes"]), reads=str(r["reads"]),
                 writes=str(r["writes"]))
    elif t == "exec":
        w.update(ret=str(r["ret"]), path=r["filename"])
    elif t == "fork":
        w["ret"] = str(r["child_pid"])
    elif t == "exit":
        w["ret"] = str(r["exit_code"])
    elif t == "readline":
        w["line"] = r["line"]
    elif t == "tty":
        w["path"] = r["tty"]
    return w


def check_export_csv(tape, label):
    import csv
    import io
    import shlex
    rc, out, err = export_bytes("--format", "csv", tape.path)
    rows = list(csv.reader(io.StringIO(out, newline="")))
    header, rows = (rows[0], rows[1:]) if rows else ([], [])
    crlf = out.count("\r\n") >= len(rows) + 1
    report(rc == 0 and header == CSV_COLUMNS and crlf
           and all(len(r) == len(CSV_COLUMNS) for r in rows),
           label + " export csv: python's csv reads it",
           "exit %d, header %s, %d rows of %d fields, CRLF line ends %s" % (
               rc, "as documented" if header == CSV_COLUMNS else header,
               len(rows), len(CSV_COLUMNS), crlf))
    want = dump_events(tape)
    by_type = {}
    for r in rows:
        by_type[r[2]] = by_type.get(r[2], 0) + 1
    want_types = {}
    for r in want:
        want_types[r["type"]] = want_types.get(r["type"], 0) + 1
    report(by_type == want_types, label + " export csv: rows per type",
           "%s; dump --json %s" % (show(by_type, 400), "equal"
                                   if by_type == want_types else
                                   show(want_types, 400)))
    bad, opened, named = None, {}, 0
    for i, (row, r) in enumerate(zip(rows, want)):
        got = dict(zip(CSV_COLUMNS, row))
        w = csv_want(r, opened)
        if r["type"] == "open" and r["ret"] >= 0 and r["ino"] \
                and r["full"].startswith("/"):
            opened[(r["dev"], r["ino"])] = r["full"]
        named += r["type"] == "rw" and w["path"].startswith("/")
        diff = {k: (got.get(k), v) for k, v in w.items() if got.get(k) != v}
        if r["type"] == "exec":
            try:
                argv = shlex.split(got["argv"])
            except ValueError as e:
                argv = "shlex: %s" % e
            if argv != r["args"]:
                diff["argv"] = (got["argv"], r["args"])
        if diff:
            bad = (i, r["type"], diff)
            break
    report(bad is None and len(rows) == len(want),
           label + " export csv: every line vs dump --json",
           "%d lines, %d dump records; time, ts, pid, tid, uid, comm, ret, "
           "resolved path (%d rw lines by the path of their open), bytes, "
           "calls, line, and argv read back with shlex.split%s" % (
               len(rows), len(want), named, "" if bad is None else
               "; first difference: %s" % show(bad)))


OM_SAMPLE = re.compile(r'^([a-z_]+)(\{comm="((?:[^"\\]|\\.)*)"\})? '
                       r'(\d+) (\d+)\.(\d{3})$')


def anchor_ms(tape, ts):
    """Wall-clock ms of boot ns TS under the tape's anchors (the latest
    at or before it, else the first), as the analyses map time."""
    clocks = tape.of("clock")
    ck = clocks[0]
    for c in clocks:
        if c["boottime_ns"] <= ts:
            ck = c
    return (ck["realtime_ns"] + ts - ck["boottime_ns"]) // 1000000


def check_export_openmetrics(tape, label, promtool, tmp):
    path = os.path.join(tmp, "export.om")
    rc, _, err = export_bytes("--format", "openmetrics", "--step", "1",
                              "-o", path, tape.path)
    text = open(path, encoding="utf-8").read() if rc == 0 else ""
    lines = text.splitlines()
    series, samples, bad = {}, 0, []
    for line in lines:
        if line.startswith("#"):
            continue
        m = OM_SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        key = (m.group(1), m.group(3))
        ms = int(m.group(5)) * 1000 + int(m.group(6))
        series.setdefault(key, []).append((ms, int(m.group(4))))
        samples += 1
    report(rc == 0 and lines[-1:] == ["# EOF"] and not bad and samples,
           label + " export openmetrics: layout",
           "exit %d, %d samples in %d series, last line %r, %d lines not "
           "samples%s" % (rc, samples, len(series), lines[-1:], len(bad),
                          "" if not bad else ": %s" % show(bad[:2])))
    final = {}
    for (name, _), pts in series.items():
        final[name] = final.get(name, 0) + pts[-1][1]
    opens = tape.of("open")
    want = {"tracetape_opens_total": len(opens),
            "tracetape_open_errors_total": sum(r["ret"] < 0 for r in opens),
            "tracetape_read_bytes_total":
                sum(r["rbytes"] for r in tape.of("rw")),
            "tracetape_write_bytes_total":
                sum(r["wbytes"] for r in tape.of("rw")),
            "tracetape_execs_total":
                sum(r["ret"] == 0 for r in tape.of("exec")),
            "tracetape_lost_events_total":
                sum(r["count"] for r in tape.of("loss"))}
    want = {k: v for k, v in want.items()
            if v or k == "tracetape_lost_events_total"}
    report(final == want, label + " export openmetrics: final totals",
           "%s; from dump --json %s" % (show(final, 400), "equal"
                                        if final == want else show(want)))
    first = anchor_ms(tape, tape.recs[0]["ts_ns"])
    starts = {pts[0][0] for pts in series.values()}
    steps_ok = all(b[0] - a[0] == 1000 for pts in series.values()
                   for a, b in zip(pts, pts[1:]))
    report(starts == {first} and steps_ok,
           label + " export openmetrics: timestamps",
           "every series starts at %s ms (want %d: the first record's wall "
           "clock by the anchors) and steps 1000 ms: %s" % (
               sorted(starts), first, steps_ok))
    if not promtool:
        print("SKIP  " + label + " export openmetrics: promtool: not "
              "installed and 'apt-get install prometheus' failed; the "
              "backfill was not tried")
        return
    db = os.path.join(tmp, "tsdb")
    out = subprocess.run([promtool, "tsdb", "create-blocks-from",
                          "openmetrics", path, db], capture_output=True,
                         text=True, timeout=120)
    report(out.returncode == 0, label + " export openmetrics: promtool "
           "tsdb create-blocks-from openmetrics",
           "exit %d: %s" % (out.returncode,
                            (out.stdout + out.stderr).strip()[-300:]))
    lst = subprocess.run([promtool, "tsdb", "list", db], capture_output=True,
                         text=True, timeout=60)
    blocks = [l.split() for l in lst.stdout.splitlines()[1:] if l.strip()]
    got_samples = sum(int(b[4]) for b in blocks)
    got_series = max((int(b[6]) for b in blocks), default=0)
    min_ms = min((int(b[1]) for b in blocks), default=None)
    print("      promtool tsdb list: " + " | ".join(
        l.strip() for l in lst.stdout.splitlines()))
    report(lst.returncode == 0 and got_samples == samples
           and got_series == len(series) and min_ms == first,
           label + " export openmetrics: promtool tsdb list",
           "%d block(s), %d samples, %d series, min time %s (want %d, %d, "
           "%d)" % (len(blocks), got_samples, got_series, min_ms, samples,
                    len(series), first))
    # what Prometheus reads back: every sample, by series (dump wants a
    # wal directory even for backfilled blocks)
    os.makedirs(os.path.join(db, "wal"), exist_ok=True)
    dmp = subprocess.run([promtool, "tsdb", "dump", db], capture_output=True,
                         text=True, timeout=120)
    back = {}
    for line in dmp.stdout.splitlines():
        m = re.match(r'^\{__name__="(\w+)"(?:, comm="((?:[^"\\]|\\.)*)")?\} '
                     r'(\d+) (\d+)$', line)
        if m:
            back.setdefault((m.group(1), m.group(2)), []).append(
                (int(m.group(4)), int(m.group(3))))
    ours = {k: sorted(v) for k, v in series.items()}
    back = {k: sorted(v) for k, v in back.items()}
    report(dmp.returncode == 0 and back == ours,
           label + " export openmetrics: promtool tsdb dump",
           "exit %d, %d series and %d samples read back, %s" % (
               dmp.returncode, len(back), sum(map(len, back.values())),
               "every (time, value) as exported" if back == ours else
               "differences in %s" % show(sorted(set(back) ^ set(ours)
                                                 or [k for k in ours
                                                     if ours[k] != back.get(k)])[:3])))


def check_export(tape, label, promtool):
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tt-export-")
    try:
        check_export_chrome(tape, label)
        check_export_csv(tape, label)
        check_export_openmetrics(tape, label, promtool, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# slice: a smaller tape that every analysis reads like the original


def slice_tape(tape, out, *opts):
    """tracetape slice TAPE -o OUT OPTS; True when it exited 0."""
    rc, _ = run("slice", tape, "-o", out, *opts)
    return rc == 0


def text_rows_where(analysis, tape, keep, *opts):
    """Text lines of ANALYSIS (header kept) whose --json row passes KEEP:
    the text and JSON forms list the same rows in the same order."""
    _, lines = run(analysis, tape, *opts)
    rows = [o for o in run_json(analysis, tape, *opts)
            if o.get("type") not in ("warning",)]
    body = [l for l in lines[1:] if l.strip()]
    if len(body) != len(rows):
        report(False, "slice: %s rows of %s" % (analysis, tape),
               "%d text rows, %d --json rows: cannot filter" % (
                   len(body), len(rows)))
        return lines
    return lines[:1] + [l for l, o in zip(body, rows) if keep(o)]


def same_lines(name, got, want):
    diff = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    ok = got == want
    report(ok, name, "%d lines, %d wanted%s" % (
        len(got), len(want), ", every line equal" if ok else
        "; first difference: %s" % show(diff[0] if diff else
                                        (got[len(want):] or want[len(got):]
                                         )[:2])))


def descendants(tape, root):
    """ROOT and every process forked below it on TAPE."""
    tree = {root}
    for r in sorted(tape.of("fork"), key=lambda r: r["ts_ns"]):
        if r["pid"] in tree:
            tree.add(r["child_pid"])
    return tree


def check_slice_verify_info(out, label, source):
    rc, _ = run("verify", out, want_rc=(0, 1, 2))
    report(rc == 0, "slice %s: verify" % label, "exit %d, want 0" % rc)
    _, lines = run("info", out)
    opts = next((l for l in lines if l.startswith("options")), "")
    report("slice_of=" in opts and "slice_path=" + source in opts,
           "slice %s: info names the source" % label, show(opts, 200))


def check_slice_pid(tape, wpid, tmp):
    out = os.path.join(tmp, "by-pid")
    if not slice_tape(tape.path, out, "-p", wpid):
        return
    check_slice_verify_info(out, "-p %d" % wpid, tape.path)
    for opts in ((), ("-T", "-U", "-e", "-F")):
        same_lines("slice -p: opensnoop %s" % " ".join(opts),
                   run("opensnoop", out, *opts)[1],
                   run("opensnoop", tape.path, "-p", wpid, *opts)[1])
    same_lines("slice -p: filetop", run("filetop", out, "-a")[1],
               run("filetop", tape.path, "-a", "-p", wpid)[1])
    same_lines("slice -p: execsnoop -x",
               run("execsnoop", out, "-x", "-U")[1],
               text_rows_where("execsnoop", tape.path,
                               lambda o: o["pid"] == wpid, "-x", "-U"))
    sliced = Tape(out)
    others = sorted({r["pid"] for r in sliced.recs
                     if r["type"] in EVENT_TYPES and "pid" in r
                     and r["pid"] != wpid and r["type"] != "fork"})
    report(not others, "slice -p: only the workload's events",
           "other pids %s" % show(others))

    out = os.path.join(tmp, "tree")
    if not slice_tape(tape.path, out, "-p", wpid, "--tree"):
        return
    tree = descendants(tape, wpid)
    check_slice_verify_info(out, "--tree", tape.path)
    for analysis, opts in (("execsnoop", ("-x",)), ("opensnoop", ("-T",))):
        same_lines("slice --tree: %s (%d processes)" % (analysis, len(tree)),
                   run(analysis, out, *opts)[1],
                   text_rows_where(analysis, tape.path,
                                   lambda o: o["pid"] in tree, *opts))


def check_slice_window(tape, tmp):
    ev = sorted(r["ts_ns"] for r in tape.recs if r["type"] in EVENT_TYPES)
    start = tape.recs[0]["ts_ns"]
    a = (ev[len(ev) // 3] - start) // 1000000
    b = (ev[2 * len(ev) // 3] - start) // 1000000
    win = ("--since", "+%dms" % a, "--until", "+%dms" % b)
    out = os.path.join(tmp, "window")
    if not slice_tape(tape.path, out, *win):
        return
    check_slice_verify_info(out, "window", tape.path)
    for analysis, opts in (("opensnoop", ("-T", "-F")),
                           ("execsnoop", ("-x", "-t")),
                           ("filetop", ("-a",)), ("filelife", ())):
        same_lines("slice %s: %s %s" % (" ".join(win), analysis,
                                        " ".join(opts)),
                   run(analysis, out, *opts)[1],
                   run(analysis, tape.path, *win, *opts)[1])
    sliced = Tape(out)
    got = sum(r["type"] in EVENT_TYPES for r in sliced.recs)
    want = sum(r["type"] in EVENT_TYPES for r in
               run_json("dump", tape.path, *win))
    report(got == want and got > 0, "slice window: events",
           "%d events in the slice, %d in the window of the source" % (
               got, want))


def check_slice(tape, wpid):
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tt-slice-")
    try:
        check_slice_pid(tape, wpid, tmp)
        check_slice_window(tape, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    global TRACETAPE
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracetape", required=True)
    ap.add_argument("--tape", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--tape2", required=True)
    ap.add_argument("--expect2", required=True)
    ap.add_argument("--bash-tape", required=True)
    ap.add_argument("--bash-lines", required=True)
    ap.add_argument("--dd-out", required=True)
    ap.add_argument("--tapeb", required=True)
    ap.add_argument("--expectb", required=True)
    ap.add_argument("--bash-tape2", required=True)
    ap.add_argument("--extra-line", required=True)
    ap.add_argument("--promtool", default="",
                    help="promtool for the openmetrics export; empty: skip")
    a = ap.parse_args()
    TRACETAPE = a.tracetape

    expect = [json.loads(l) for l in open(a.expect) if l.strip()]
    workdir = next(e["path"] for e in expect if e["kind"] == "workdir")
    tape = Tape(a.tape)
    wpid = workload_pid(tape, workdir)
    print("workload tape %s: %d records, workload pid %d" % (
        a.tape, len(tape.recs), wpid))
    all_probes = ("opens", "rw", "life", "exec", "exec_failed", "fork",
                  "exit", "bash")
    check_info_verify_dump(tape, "workload tape", all_probes)
    check_opensnoop(tape, expect, wpid)
    check_filetop(tape, expect, workdir, wpid, os.path.getsize(a.expect))
    check_filelife(tape, expect, workdir, wpid)
    check_execsnoop(tape, expect, wpid)
    check_export(tape, "workload tape", a.promtool)
    check_slice(tape, wpid)

    tape2 = Tape(a.tape2)
    expect2 = [json.loads(l) for l in open(a.expect2) if l.strip()]
    workdir2 = next(e["path"] for e in expect2 if e["kind"] == "workdir")
    workload_pid(tape2, workdir2)
    check_info_verify_dump(tape2, "second workload tape", all_probes)

    bash = Tape(a.bash_tape)
    lines = [l.rstrip("\n") for l in open(a.bash_lines)]
    bpid = bash_pid_of(bash)
    print("bash tape %s: %d records, bash pid %d" % (
        a.bash_tape, len(bash.recs), bpid))
    check_info_verify_dump(bash, "bash tape", all_probes)
    check_bashreadline(bash, lines, bpid)
    check_history(bash, lines, bpid, a.dd_out)
    check_bash_side_analyses(bash, bpid, a.dd_out)
    check_export(bash, "bash tape", a.promtool)

    check_diff(a.tape, a.tape2, a.bash_tape,
               [os.path.dirname(workdir), os.path.dirname(workdir2)],
               [sum(r["type"] in EVENT_TYPES for r in t.recs)
                for t in (tape, tape2)])

    expectb = [json.loads(l) for l in open(a.expectb) if l.strip()]
    check_diff_planted(a.tape, a.tapeb, expect, expectb,
                       (os.path.getsize(a.expect),
                        os.path.getsize(a.expectb)))
    check_diff_extra_line(a.bash_tape, a.bash_tape2, a.extra_line)

    if xfails:
        print("\n%d known bug(s) XFAIL: %s" % (len(xfails),
                                               ", ".join(xfails)))
    if failures:
        print("\n%d check(s) FAILED: %s" % (len(failures),
                                           ", ".join(failures)))
        return 1
    print("\nall analysis checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
