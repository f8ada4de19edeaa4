#!/usr/bin/env python3
"""make bench: tracetape side by side with the tools users would pick instead.

Prints one table per part and writes them as Markdown to docs/PERFORMANCE.md
with the machine, kernel and date.  Every timing is a median of interleaved
rounds (A B C D A B C D ...) and is quoted as a ratio to the untraced run of
the same invocation: these machines are noisy.

Parts: 1 recorder overhead, 2 sustained rate, 3 size on disk, 4 replay.
Needs root for parts 1-3 (BPF); part 4 alone runs without.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total if os.path.isdir(path) else os.path.getsize(path)


def ensure_tracefs():
    if not os.path.exists("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True)


class Bench:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.tt = os.path.join(self.build, "tracetape")
        self.rec = os.path.join(self.build, "tracetape-record")
        self.loop = os.path.join(self.build, "bench", "openloop")
        self.rounds = args.rounds
        self.iters = args.iterations
        self.tmp = tempfile.mkdtemp(prefix="tt-bench-")
        self.target = os.path.join(self.tmp, "target.txt")
        with open(self.target, "w") as f:
            f.write("tracetape benchmark file\n" * 40)
        self.tables = []
        self.notes = []

    # ---- tracers -------------------------------------------------------
    def start_tracetape(self, tape, extra=()):
        p = subprocess.Popen([self.rec, "-q", "-o", tape, *extra],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Ready once the first segment exists and the probes had time to attach.
        deadline = time.time() + 20
        while time.time() < deadline:
            if p.poll() is not None:
                raise RuntimeError("tracetape-record exited: " + p.stderr.read())
            if os.path.isdir(tape) and any(n.startswith("seg-") for n in os.listdir(tape)):
                break
            time.sleep(0.05)
        time.sleep(1.0)
        return p

    def start_opensnoop(self):
        ensure_tracefs()  # libbpf-tools attach classic tracepoints
        p = subprocess.Popen(["opensnoop"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(2.0)
        if p.poll() is not None:
            raise RuntimeError("opensnoop exited")
        return p

    def build_floor(self):
        """bench/floor: programs that do nothing and a loader for one of
        them, built here (clang, cc -lbpf).  None when they do not build."""
        obj = os.path.join(self.tmp, "hook.bpf.o")
        exe = os.path.join(self.tmp, "attach")
        try:
            run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86",
                 "-I" + os.path.join(self.build, "bpf"), "-c",
                 os.path.join(ROOT, "bench", "floor", "hook.bpf.c"), "-o", obj])
            run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE",
                 os.path.join(ROOT, "bench", "floor", "attach.c"), "-o", exe, "-lbpf"])
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            return str(getattr(e, "stderr", "") or e).strip().splitlines()[-1]
        self.floor = (exe, obj)
        return None

    def start_empty(self, prog):
        """Hold an empty program attached (bench/floor/attach)."""
        if not getattr(self, "floor", None):
            raise RuntimeError("bench/floor did not build")
        exe, obj = self.floor
        p = subprocess.Popen([exe, obj, prog], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        if p.stdout.readline().strip() != "attached":
            p.wait()
            raise RuntimeError(p.stderr.read().strip().splitlines()[-1])
        return p

    def start_perf(self, out, events=("syscalls:sys_enter_openat",), compress=True):
        ensure_tracefs()
        cmd = ["perf", "record", "-a", "-q", "-o", out] + (["-z"] if compress else [])
        for e in events:
            cmd += ["-e", e]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(2.0)
        if p.poll() is not None:
            raise RuntimeError("perf record exited: " + p.stderr.read().decode())
        return p

    @staticmethod
    def stop(p):
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return p.returncode

    # ---- tape facts ----------------------------------------------------
    def tape_counts(self, tape):
        """(events, lost) of a tape, from `tracetape info --json`."""
        r = subprocess.run([self.tt, "info", tape, "--json"], capture_output=True, text=True)
        out = r.stdout if r.returncode == 0 else ""
        events = lost = None
        for line in out.splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                continue
            for k in ("events", "event_records", "events_total"):
                if isinstance(o.get(k), int):
                    events = o[k]
            for k in ("lost", "lost_events", "lost_total"):
                if isinstance(o.get(k), int):
                    lost = o[k]
        if events is None or lost is None:
            # Fall back to counting the dump: slower but schema-stable.
            events = lost = 0
            p = subprocess.Popen([self.tt, "dump", tape, "--json"], stdout=subprocess.PIPE, text=True)
            for line in p.stdout:
                o = json.loads(line)
                t = o.get("type")
                if t in ("open", "rw", "unlink", "rename", "exec", "fork", "exit", "readline"):
                    events += 1
                elif t == "loss":
                    lost += o.get("count", 0)
            p.wait()
        return events, lost

    def perf_count(self, data):
        out = subprocess.run(["perf", "script", "-i", data, "-F", "event"],
                             capture_output=True, text=True).stdout
        return sum(1 for _ in out.splitlines())

    # ---- part 1 --------------------------------------------------------
    def loop_once(self, n=None):
        out = run([self.loop, "-n", str(n or self.iters), self.target]).stdout.split()
        return float(out[1])

    def perf_z_size_row(self):
        """perf record -z's size for the loop's opens, from part 1."""
        z = getattr(self, "perf_z", None)
        if not z or not z[0]:
            return []
        return [["perf.data -z (part 1: openat tracepoint only, no strings)", str(z[0]), str(z[1]),
                 f"{z[1] / z[0]:.2f}"]]

    def part_overhead(self):
        # "tracetape -e exec": the same system call hook attached, but no
        # group that records the loop's calls: the floor any recording
        # with that hook pays, whatever its programs do
        # "empty ...": a program that returns at once, on the hook the
        # recorder uses (bench/floor): what the hook alone costs
        configs = ["untraced", "tracetape", "tracetape -e exec",
                   "empty tp_btf sys_exit program", "empty fexit program on openat",
                   "opensnoop", "perf"]
        results = {c: [] for c in configs}
        extra = {c: [] for c in configs}
        skipped = {}
        why = self.build_floor()
        if why:
            for c in configs:
                if c.startswith("empty"):
                    skipped[c] = "bench/floor does not build: " + why
        for r in range(self.rounds):
            for c in configs:
                if c in skipped:
                    continue
                log(f"overhead round {r + 1}/{self.rounds}: {c}")
                try:
                    if c == "untraced":
                        results[c].append(self.loop_once())
                    elif c.startswith("tracetape"):
                        tape = os.path.join(self.tmp, f"ovh-{r}")
                        p = self.start_tracetape(tape, c.split()[1:])
                        results[c].append(self.loop_once())
                        self.stop(p)
                        ev, lost = self.tape_counts(tape)
                        extra[c].append((ev, lost, du(tape)))
                        shutil.rmtree(tape)
                    elif c.startswith("empty"):
                        p = self.start_empty("empty_tp_btf_sys_exit" if "tp_btf" in c
                                             else "empty_fexit_openat")
                        results[c].append(self.loop_once())
                        self.stop(p)
                    elif c == "opensnoop":
                        p = self.start_opensnoop()
                        results[c].append(self.loop_once())
                        self.stop(p)
                    elif c == "perf":
                        data = os.path.join(self.tmp, f"perf-{r}.data")
                        p = self.start_perf(data)
                        results[c].append(self.loop_once())
                        self.stop(p)
                        extra[c].append((self.perf_count(data), 0, du(data)))
                        os.unlink(data)
                except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as e:
                    skipped[c] = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
                    log(f"  skipping {c}: {skipped[c]}")
        base = statistics.median(results["untraced"])
        rows = []
        for c in configs:
            if c in skipped or not results[c]:
                rows.append([c, "skipped", "", "", skipped.get(c, "")])
                continue
            med = statistics.median(results[c])
            lost = str(sum(e[1] for e in extra[c])) if extra[c] else "n/a"
            per_ev = ""
            if extra[c]:
                ev = sum(e[0] for e in extra[c])
                by = sum(e[2] for e in extra[c])
                per_ev = f"{by / ev:.2f}" if ev else ""
            rows.append([c, f"{med / 1000:.2f}", f"{med / base:.3f}", lost, per_ev])
        self.tables.append(("1. Recorder overhead: open+read+close loop "
                            f"({self.iters} iterations, {self.rounds} interleaved rounds, medians)",
                            ["tracer", "µs/iteration", "ratio", "lost", "bytes/event on disk"], rows))
        self.overhead = results
        self.notes.append(
            "`tracetape -e exec` attaches the same system call hook as a full recording "
            "(on a kernel without fexit: the sys_exit tracepoint, which runs at the end of "
            "every system call) but records none of the loop's calls. The `empty` rows hold "
            "a program that returns at once on that hook (bench/floor): their ratio is the "
            "floor any recorder using the hook pays on this machine, before doing anything.")
        if extra["perf"]:
            self.perf_z = (sum(e[0] for e in extra["perf"]), sum(e[2] for e in extra["perf"]))

    def part_tar(self):
        if not os.path.isdir("/usr/include"):
            return
        res = {"untraced": [], "tracetape": []}
        evs = []
        for r in range(3):
            for c in res:
                log(f"tar round {r + 1}/3: {c}")
                p = None
                if c == "tracetape":
                    tape = os.path.join(self.tmp, f"tar-{r}")
                    p = self.start_tracetape(tape)
                t0 = time.monotonic()
                run(["tar", "-cf", "/dev/null", "/usr/include"])
                res[c].append(time.monotonic() - t0)
                if p:
                    self.stop(p)
                    evs.append(self.tape_counts(tape) + (du(tape),))
                    shutil.rmtree(tape)
        base = statistics.median(res["untraced"])
        rows = [["untraced", f"{base:.3f}", "1.000", "n/a", ""]]
        med = statistics.median(res["tracetape"])
        ev = sum(e[0] for e in evs)
        rows.append(["tracetape", f"{med:.3f}", f"{med / base:.3f}", str(sum(e[1] for e in evs)),
                     f"{sum(e[2] for e in evs) / ev:.2f}" if ev else ""])
        self.tables.append(("1b. A real file-heavy program: tar -cf /dev/null /usr/include (3 rounds, medians)",
                            ["run", "seconds", "ratio", "lost", "bytes/event on disk"], rows))

    # ---- part 2 --------------------------------------------------------
    def part_sustained(self, seconds=10):
        tape = os.path.join(self.tmp, "sustained")
        p = self.start_tracetape(tape)
        wfile = [os.path.join(self.tmp, f"w{i}.txt") for i in range(2)]
        for w in wfile:
            open(w, "w").close()
        stat0 = self.proc_cpu(p.pid)
        t0 = time.monotonic()
        workers = [subprocess.Popen([self.loop, "-t", str(seconds)] + (["-w"] if i else []) +
                                    [wfile[i] if i else self.target], stdout=subprocess.PIPE, text=True)
                   for i in range(2)]
        iters = sum(int(w.communicate()[0].split()[0]) for w in workers)
        elapsed = time.monotonic() - t0
        stat1 = self.proc_cpu(p.pid)
        rss = self.proc_hwm(p.pid)
        self.stop(p)
        ev, lost = self.tape_counts(tape)
        cpu = (stat1 - stat0) / elapsed * 100
        rows = [[f"{ev / elapsed / 1e6:.2f} M/s", str(ev), str(lost), f"{cpu:.1f}%", f"{rss / 1024:.1f} MiB",
                 f"{iters / elapsed / 1e3:.0f} k/s"]]
        self.tables.append((f"2. Sustained rate: two workers saturating both cores for {seconds} s "
                            "(open+read+close and open+write+close)",
                            ["events recorded", "events", "lost", "recorder CPU", "recorder peak RSS",
                             "workload iterations"], rows))
        shutil.rmtree(tape)

    @staticmethod
    def proc_cpu(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def proc_hwm(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    # ---- part 4 --------------------------------------------------------
    def timed(self, cmd):
        """(seconds, peak RSS KiB, exit code) of a command, output to /dev/null.

        Peak RSS comes from GNU time, whose child is forked from a small
        process: a child forked straight from this Python would report
        Python's own high-water mark (Linux keeps it across exec)."""
        rss_file = os.path.join(self.tmp, "rss")
        t0 = time.monotonic()
        rc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        elapsed = time.monotonic() - t0
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
        return elapsed, rss, rc

    def timed_count(self, cmd):
        """(seconds, peak RSS KiB, output lines) of a command: one run both
        times it and counts its events (one line each)."""
        rss_file = os.path.join(self.tmp, "rss")
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines = 0
        while True:
            block = p.stdout.read(1 << 20)
            if not block:
                break
            lines += block.count(b"\n")
        p.wait()
        elapsed = time.monotonic() - t0
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
        return elapsed, rss, lines

    def part_replay(self, events_wanted=5_000_000):
        tape = os.path.join(self.tmp, "replay-tape")
        perfdata = os.path.join(self.tmp, "replay-perf.data")
        n = events_wanted // 2 + 50_000  # an open and a read record per iteration
        log(f"replay: recording {n} loop iterations with tracetape and perf at once")
        p = self.start_tracetape(tape)
        try:
            # Uncompressed: perf script on a -z file keeps every decompressed
            # block in memory (GBs here) and runs ~10x slower; the fair
            # baseline is perf's common case.  Part 1 has -z sizes.
            pp = self.start_perf(perfdata, ("syscalls:sys_enter_openat", "syscalls:sys_enter_read"),
                                 compress=False)
        except RuntimeError as e:
            pp = None
            self.notes.append(f"perf record unavailable: {e}")
        self.loop_once(n)
        if pp:
            self.stop(pp)
        self.stop(p)
        ev, lost = self.tape_counts(tape)
        rows = []
        for a in ["opensnoop", "filetop", "filelife", "execsnoop"]:
            times, rss, rc = [], 0, 0
            for _ in range(3):
                t, m, rc = self.timed([self.tt, a, tape])
                times.append(t)
                rss = max(rss, m)
            if rc != 0:
                rows.append([f"tracetape {a}", "failed", f"exit {rc}", "", ""])
                continue
            med = statistics.median(times)
            rows.append([f"tracetape {a}", str(ev), f"{med:.2f}", f"{ev / med / 1e6:.2f}", f"{rss / 1024:.1f}"])
        if pp:
            times, rss, pev = [], 0, 0
            for _ in range(3):
                t, m, pev = self.timed_count(["perf", "script", "-i", perfdata])
                times.append(t)
                rss = max(rss, m)
            med = statistics.median(times)
            rows.append(["perf script", str(pev), f"{med:.2f}", f"{pev / med / 1e6:.2f}", f"{rss / 1024:.1f}"])
            self.tables.append(("3. Size on disk for the same loop",
                                ["recording", "events", "bytes", "bytes/event"],
                                [["tracetape tape (paths, fds, inodes, bytes)", str(ev), str(du(tape)),
                                  f"{du(tape) / ev:.2f}"],
                                 ["perf.data, not compressed (openat+read tracepoints, no strings)", str(pev),
                                  str(du(perfdata)), f"{du(perfdata) / pev:.2f}"]] + self.perf_z_size_row()))
        self.tables.append((f"4. Replay to /dev/null ({ev} events, lost {lost}; 3 runs, medians)",
                            ["replay", "events", "seconds", "M events/s", "peak RSS MiB"], rows))

    # ---- part 0 --------------------------------------------------------
    def part_format(self):
        """The format library alone: bench/bench_format's synthetic mix."""
        out = run([os.path.join(self.build, "bench", "bench_format")]).stdout
        rows = []
        for line in out.splitlines():
            line = line.strip()
            if ":" in line and not line.startswith("bench_format"):
                what, rest = line.split(":", 1)
                rows.append([what, " ".join(rest.split())])
        self.tables.append(("0. Format library: " + out.splitlines()[0].split(": ", 1)[-1],
                            ["measure", "result"], rows))

    # ---- output --------------------------------------------------------
    def markdown(self):
        out = ["# tracetape performance", "",
               f"Measured by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
               f"machine: {os.cpu_count()} CPUs, {platform.machine()}, kernel {platform.release()}.", "",
               "Goals: recorder overhead ratio <= 1.05 with zero lost events; tape bytes/event below "
               "perf.data's; replay opensnoop >= 10x perf script's events/s; filetop >= 20 M events/s; "
               "replay RSS <= 64 MiB.", ""]
        for title, head, rows in self.tables:
            out += [f"## {title}", "", "| " + " | ".join(head) + " |",
                    "|" + "---|" * len(head)]
            out += ["| " + " | ".join(r) + " |" for r in rows]
            out.append("")
        for n in self.notes:
            out.append(f"- {n}")
        return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=200000)
    ap.add_argument("--parts", default="format,overhead,tar,sustained,replay")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    args = ap.parse_args()
    b = Bench(args)
    parts = args.parts.split(",")
    root = os.geteuid() == 0
    try:
        for name in parts:
            if name not in ("replay", "format") and not root:
                log(f"skipping part {name}: needs root (BPF)")
                continue
            getattr(b, "part_" + name)()
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    md = b.markdown()
    print(md)
    with open(args.out, "w") as f:
        f.write(md)
    log(f"written to {args.out}")


if __name__ == "__main__":
    main()
