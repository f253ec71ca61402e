#!/usr/bin/env python3
"""make bench: git-merge-crdtmem against reference tools, same files, same run.

Started by tests/bench/run.sh (which checks the tools and builds the cJSON
reference). Settings come from the environment or from arguments
(NAME=VALUE or --name VALUE; BENCH_ARGS is split into arguments by run.sh):

  BENCH_SIZES    entries in the base           default "1000 10000 100000"
                 (1000000 is opt-in: slow and big for the references)
  BENCH_RUNS     measured runs per tool        default 5 (driver: 3 at >=1M;
                 references: 3 at >=100k (jq: 1), 1 at >=1M)
  BENCH_REF_RUNS measured runs per reference   overrides the caps above
  BENCH_SHAPES   "jsonl array pretty seed idpretty oneline dups distinct"
                 default all (gen.py describes them)
  BENCH_DUP_SIZES copies of one entity for the dups and distinct shapes
                 default "5000 50000" (instead of BENCH_SIZES)
  BENCH_RATES    "typical heavy"               (10% and 50% changed per side)
  BENCH_TOOLS    "driver seed-py jq git-union cat cjson"   default all present
  BENCH_SEED     generator seed                default 1
  BENCH_TIMEOUT  seconds before a run is killed default 900

Wall time and peak RSS are taken per run from a fresh child process by a
small C helper (measure.c, built by run.sh: fork, exec, wait4; the child's
own ru_maxrss in KiB, what /usr/bin/time's %M reports, with a nanosecond
clock where time's %e has 10 ms, too coarse for the 1,000-entry target).
Without a C compiler /usr/bin/time is used. The copy of OURS the driver
overwrites is made before the clock starts.

Python 3 standard library only.
"""

import fcntl
import hashlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check  # noqa: E402
import gen  # noqa: E402
import hookbench  # noqa: E402

DATA = os.path.join(HERE, "data")
WORK = os.path.join(DATA, "work")
RESULTS = os.path.join(DATA, "results.md")

ALL_TOOLS = ["driver", "seed-py", "jq", "git-union", "cat", "cjson"]
REFS = ALL_TOOLS[1:]
SHAPE_EXT = gen.SHAPE_FILES
ALL_SHAPES = ["jsonl", "array", "pretty", "seed", "idpretty", "oneline", "dups", "distinct"]
PRETTY_SHAPES = ("pretty", "seed", "idpretty")  # json.dumps(indent=2) arrays
JQ_FILTER = "group_by(.name) | map(max_by(._crdt_metadata.timestamp))"
MIB = 1024.0 * 1024.0


def note(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- settings

def settings(argv):
    env = dict(os.environ)
    names = {"sizes": "BENCH_SIZES", "runs": "BENCH_RUNS", "ref-runs": "BENCH_REF_RUNS",
             "shapes": "BENCH_SHAPES", "rates": "BENCH_RATES", "tools": "BENCH_TOOLS",
             "seed": "BENCH_SEED", "timeout": "BENCH_TIMEOUT", "dup-sizes": "BENCH_DUP_SIZES"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name not in names:
                sys.exit("bench: unknown option %s (try --help)" % a)
            if not eq:
                i += 1
                if i >= len(argv):
                    sys.exit("bench: %s needs a value" % a)
                val = argv[i]
            env[names[name]] = val
        elif "=" in a and a.split("=", 1)[0] in names.values():
            k, v = a.split("=", 1)
            env[k] = v
        else:
            sys.exit("bench: unexpected argument %r (try --help)" % a)
        i += 1

    def words(name, default):
        v = env.get(name, "").replace(",", " ").split()
        return v or default.split()

    def number(name, default, kind=int):
        v = env.get(name, "").strip()
        if not v:
            return default
        try:
            x = kind(v)
        except ValueError:
            sys.exit("bench: %s=%r is not a number" % (name, v))
        if x <= 0:
            sys.exit("bench: %s must be positive" % name)
        return x

    s = {}
    try:
        s["sizes"] = sorted(set(int(x.replace("_", "")) for x in words("BENCH_SIZES", "1000 10000 100000")))
    except ValueError:
        sys.exit("bench: BENCH_SIZES must be whole numbers")
    if any(n <= 0 for n in s["sizes"]):
        sys.exit("bench: BENCH_SIZES must be positive")
    s["runs"] = number("BENCH_RUNS", 5)
    s["ref_runs"] = number("BENCH_REF_RUNS", None)
    s["shapes"] = words("BENCH_SHAPES", " ".join(ALL_SHAPES))
    try:
        s["dup_sizes"] = sorted(set(int(x.replace("_", "")) for x in words("BENCH_DUP_SIZES", "5000 50000")))
    except ValueError:
        sys.exit("bench: BENCH_DUP_SIZES must be whole numbers")
    s["rates"] = words("BENCH_RATES", "typical heavy")
    s["tools"] = words("BENCH_TOOLS", " ".join(ALL_TOOLS))
    s["seed"] = env.get("BENCH_SEED", "1").strip() or "1"
    s["timeout"] = number("BENCH_TIMEOUT", 900.0, float)
    for x in s["shapes"]:
        if x not in SHAPE_EXT:
            sys.exit("bench: unknown shape %r (%s)" % (x, " ".join(ALL_SHAPES)))
    for x in s["rates"]:
        if x not in gen.RATES:
            sys.exit("bench: unknown rate %r (typical, heavy)" % x)
    for x in s["tools"]:
        if x not in ALL_TOOLS:
            sys.exit("bench: unknown tool %r (%s)" % (x, " ".join(ALL_TOOLS)))
    s["bin"] = env.get("CRDTMEM_BIN", "")
    s["cjson_bin"] = env.get("BENCH_CJSON_BIN", "")
    s["measure_bin"] = env.get("BENCH_MEASURE_BIN", "")
    s["python"] = sys.executable or shutil.which("python3")
    return s


def runs_for(tool, n, s):
    if tool == "driver":
        return min(s["runs"], 3) if n >= 1000000 else s["runs"]
    if s["ref_runs"]:
        return s["ref_runs"]
    if n >= 1000000:
        return 1
    if n >= 100000:
        # jq is the slowest reference and no target depends on it.
        return 1 if tool == "jq" else min(s["runs"], 3)
    return s["runs"]


# ---------------------------------------------------------------- running

class Run:
    __slots__ = ("wall", "rss_kib", "status", "stderr")

    def __init__(self, wall, rss_kib, status, stderr):
        self.wall = wall
        self.rss_kib = rss_kib
        self.status = status
        self.stderr = stderr


MEASURE = {"mode": "python", "helper": None, "time": None}


def spawn_measured(argv, stdout_path, cwd, timeout):
    """Run argv once in a fresh child: wall seconds and the child's peak RSS.

    With the helper (tests/bench/measure.c, built by run.sh) the child is
    forked from a small process, so its ru_maxrss is its own; with
    /usr/bin/time likewise (wall time then from here, which adds time's own
    start-up). The last resort, posix_spawn + wait4 from Python, reports
    at least the harness's own RSS (Linux counts the parent's resident pages
    in a forked child's peak), and says so in the notes."""
    err_path = os.path.join(WORK, "stderr.txt")
    killed = []
    if MEASURE["mode"] == "helper":
        cmd = [MEASURE["helper"], "-d", cwd, "-o", stdout_path, "-e", err_path,
               "-t", str(int(timeout)), "--"] + argv
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wall, rss, code = p.stdout.decode().split()
            wall, rss, code = float(wall), int(rss), int(code)
        except ValueError:
            sys.exit("bench: the measure helper failed: %s" % p.stderr.decode("utf-8", "replace"))
    else:
        time_path = os.path.join(WORK, "time.txt")
        if MEASURE["mode"] == "time":
            argv = [MEASURE["time"], "-f", "%e %M", "-o", time_path] + argv
        out_fd = os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        in_fd = os.open(os.devnull, os.O_RDONLY)
        old = os.getcwd()
        try:
            os.chdir(cwd)
            actions = [(os.POSIX_SPAWN_DUP2, in_fd, 0), (os.POSIX_SPAWN_DUP2, out_fd, 1),
                       (os.POSIX_SPAWN_DUP2, err_fd, 2)]
            t0 = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
            timer = threading.Timer(timeout, lambda: (killed.append(1), os.kill(pid, signal.SIGKILL)))
            timer.start()
            _, status, ru = os.wait4(pid, 0)
            t1 = time.perf_counter()
            timer.cancel()
        finally:
            os.chdir(old)
            for fd in (out_fd, err_fd, in_fd):
                os.close(fd)
        wall, rss, code = t1 - t0, ru.ru_maxrss, os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code
        if MEASURE["mode"] == "time":
            with open(time_path, encoding="utf-8", errors="replace") as f:
                last = f.read().strip().splitlines()[-1:]
            try:
                rss = int(last[0].split()[1])
            except (IndexError, ValueError):
                rss = 0
    with open(err_path, "rb") as f:
        err = f.read(4000).decode("utf-8", "replace")
    if killed or (MEASURE["mode"] == "helper" and code == 128 + signal.SIGKILL):
        err = "killed (timeout %g s?)\n" % timeout + err
    return Run(wall, rss, code, err)


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Case:
    """One data set in one shape: N, rate, shape, the three files."""

    def __init__(self, n, rate, shape, folder):
        self.n, self.rate, self.shape = n, rate, shape
        ext = SHAPE_EXT[shape]
        self.base = os.path.join(folder, "base" + ext)
        self.ours = os.path.join(folder, "ours" + ext)
        self.theirs = os.path.join(folder, "theirs" + ext)
        self.input_bytes = sum(os.path.getsize(p) for p in (self.base, self.ours, self.theirs))


def command(tool, case, s, tools_path):
    """(argv, stdout path, output file to inspect, prepare callable or None)."""
    out = os.path.join(WORK, "out-" + tool)
    devnull = os.devnull
    if tool == "driver":
        target = os.path.join(WORK, "memory-x.json")

        def prepare():
            shutil.copyfile(case.ours, target)
        return ([s["bin"], case.base, target, case.theirs, "7", "memory-x.json"],
                devnull, target, prepare)
    if tool == "seed-py":
        return ([s["python"], os.path.join(HERE, "seed_merge.py"), case.ours, case.theirs, out],
                devnull, out, None)
    if tool == "jq":
        f = JQ_FILTER if case.ours.endswith(".jsonl") else "add | " + JQ_FILTER
        return ([tools_path["jq"], "-c", "-s", f, case.ours, case.theirs], out, out, None)
    if tool == "git-union":
        return ([tools_path["git"], "merge-file", "-p", "--union", case.ours, case.base, case.theirs],
                out, out, None)
    if tool == "cat":
        return ([tools_path["cat"], case.base, case.ours, case.theirs], devnull, None, None)
    if tool == "cjson":
        return ([s["cjson_bin"], case.ours, case.theirs, out], devnull, out, None)
    raise ValueError(tool)


# ---------------------------------------------------------------- checks

def join_canonical(s, case):
    """`join BASE | cmp - BASE` for the tool-written shapes: the generator's
    output must already be canonical. Returns (ok, message)."""
    out = os.path.join(WORK, "join-out")
    with open(out, "wb") as f:
        try:
            p = subprocess.run([s["bin"], "join", case.base], stdout=f, stderr=subprocess.PIPE)
        except OSError as e:
            return False, "cannot run join: %s" % e
    if p.returncode != 0:
        return False, "join exited %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip())
    with open(out, "rb") as a, open(case.base, "rb") as b:
        ln = 0
        while True:
            x, y = a.readline(), b.readline()
            ln += 1
            if x != y:
                if not x or not y:
                    return False, "line %d: %s ends first" % (ln, "join output" if not x else "base")
                return False, "first difference at line %d:\n    join: %.200r\n    base: %.200r" % (ln, x, y)
            if not x:
                break
    os.unlink(out)
    return True, "join output is byte-identical to the generated base"


# ---------------------------------------------------------------- report

def fmt_s(t):
    if t is None:
        return ""
    if t < 0.1:
        return "%.4f" % t
    if t < 10:
        return "%.3f" % t
    return "%.1f" % t


def fmt_ratio(x):
    if x is None:
        return ""
    if x < 0.01:
        return "%.4f" % x
    if x < 10:
        return "%.3f" % x
    return "%.1f" % x


def fmt_mib(kib):
    return "%.1f" % (kib / 1024.0)


def fmt_size(b):
    if b >= 1 << 30:
        return "%.2f GiB" % (b / float(1 << 30))
    return "%.1f MiB" % (b / MIB)


class Result:
    def __init__(self, case, tool, runs):
        self.case, self.tool, self.runs = case, tool, runs
        self.median = statistics.median(r.wall for r in runs)
        self.rss_kib = max(r.rss_kib for r in runs)


def table(results, present_refs):
    cols = ["N", "shape", "rate", "tool", "runs", "median s", "peak MiB"]
    cols += ["drv/%s" % r for r in present_refs] + ["RSS/input"]
    rows = ["| " + " | ".join(cols) + " |",
            "|" + "|".join("---" if i in (1, 2, 3) else "---:" for i in range(len(cols))) + "|"]
    by_case = {}
    for r in results:
        by_case.setdefault((r.case.n, r.case.shape, r.case.rate), {})[r.tool] = r
    for (n, shape, rate), tools in by_case.items():
        drv = tools.get("driver")
        for tool in ALL_TOOLS:
            r = tools.get(tool)
            if r is None:
                continue
            cells = ["{:,}".format(n), shape, rate, tool, str(len(r.runs)), fmt_s(r.median),
                     fmt_mib(r.rss_kib)]
            for ref in present_refs:
                ref_r = tools.get(ref)
                if tool == "driver" and ref_r is not None and ref_r.median > 0:
                    cells.append(fmt_ratio(drv.median / ref_r.median))
                else:
                    cells.append("")
            if tool == "driver":
                cells.append("%.2f" % (r.rss_kib * 1024.0 / r.case.input_bytes))
            else:
                cells.append("")
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def targets(results, sizes_run):
    """[(status, description, detail)] for the targets the product is held to."""
    out = []
    idx = {(r.case.n, r.case.shape, r.case.rate, r.tool): r for r in results}
    drivers = [r for r in results if r.tool == "driver"]

    def add(ok, desc, detail):
        out.append(("PASS" if ok else "FAIL", desc, detail))

    def skip(desc, why):
        out.append(("SKIP", desc, why))

    def speed(d, ref, factor, desc):
        rr = idx.get((d.case.n, d.case.shape, d.case.rate, ref))
        if rr is None:
            skip(desc, "%s not measured" % ref)
            return
        x = rr.median / d.median if d.median > 0 else float("inf")
        add(x >= factor, desc, "%.1fx faster (driver %s s, %s %s s)" % (x, fmt_s(d.median), ref, fmt_s(rr.median)))

    def memory(d, desc):
        bound = 1.5 * d.case.input_bytes
        rss = d.rss_kib * 1024.0
        add(rss <= bound, desc, "peak %s = %.2fx of the inputs' %s" % (
            fmt_size(rss), rss / d.case.input_bytes, fmt_size(d.case.input_bytes)))

    def tag(d):
        return "%s/%s" % (d.case.shape, d.case.rate)

    # The targets are for the tool-written shapes at the typical
    # rate, plus one for the heavy rate (tool-written) and one for
    # pretty-printed arrays (typical rate). Other rows are shown, not judged.
    tool_written = ("jsonl", "array")

    # 1,000 entries: under 5 ms and under 5 MiB.
    small = [d for d in drivers if d.case.n == 1000 and d.case.rate == "typical"
             and d.case.shape in tool_written]
    if not small:
        skip("1,000 entries (tool-written, typical): under 5 ms and under 5 MiB",
             "not run (needs size 1000, rate typical, shape jsonl or array)")
    for d in small:
        add(d.median < 0.005 and d.rss_kib < 5 * 1024,
            "1,000 %s: under 5 ms and under 5 MiB" % tag(d),
            "%.2f ms, %s MiB" % (d.median * 1000, fmt_mib(d.rss_kib)))

    big = [d for d in drivers if d.case.n == 100000 and
           (d.case.shape in tool_written or (d.case.shape == "pretty" and d.case.rate == "typical"))]
    if not big:
        skip("100,000 entries: speed and memory targets", "size 100000 not run")
    for d in big:
        shape, rate = d.case.shape, d.case.rate
        if rate == "heavy":
            speed(d, "seed-py", 3, "100,000 %s: heavy rate >= 3x faster than the seed merge" % tag(d))
            continue
        if shape == "pretty":
            speed(d, "seed-py", 5, "100,000 %s: pretty-printed arrays >= 5x faster than the seed merge" % tag(d))
        else:
            speed(d, "seed-py", 15, "100,000 %s: >= 15x faster than the Python seed merge" % tag(d))
            rc = idx.get((d.case.n, shape, rate, "cat"))
            desc = "100,000 %s: within 10x of cat of the same three files" % tag(d)
            if rc is None:
                skip(desc, "cat not measured")
            else:
                add(d.median <= 10 * rc.median, desc, "%.1fx of cat (driver %s s, cat %s s)" % (
                    d.median / rc.median, fmt_s(d.median), fmt_s(rc.median)))
        memory(d, "100,000 %s: peak RSS <= 1.5x the three inputs" % tag(d))

    # Issue 9: the shapes other tools write.
    def within(d, other_shape, factor, desc):
        o = idx.get((d.case.n, other_shape, d.case.rate, "driver"))
        if o is None:
            skip(desc, "%s not measured" % other_shape)
            return
        x = d.median / o.median if o.median > 0 else float("inf")
        add(x <= factor, desc, "%.2fx (driver %s s, %s %s s)" % (x, fmt_s(d.median), other_shape,
                                                                fmt_s(o.median)))

    for d in drivers:
        shape, rate, n = d.case.shape, d.case.rate, d.case.n
        if n == 100000 and shape in ("seed", "idpretty") and rate == "typical":
            speed(d, "seed-py", 8, "100,000 %s: >= 8x faster than the seed merge" % tag(d))
            memory(d, "100,000 %s: peak RSS <= 1.5x the three inputs" % tag(d))
        if n == 100000 and shape in PRETTY_SHAPES and rate == "heavy":
            speed(d, "seed-py", 5, "100,000 %s: pretty arrays, heavy rate, >= 5x faster than the seed merge"
                  % tag(d))
        if shape == "oneline" and n >= 10000:
            within(d, "array", 2, "{:,} {}: a one-line array within 2x of the same entries one per line"
                   .format(n, tag(d)))
        if shape == "dups":
            within(d, "distinct", 2, "{:,} {}: copies of one entity within 2x of as many different entities"
                   .format(n, tag(d)))

    huge = [d for d in drivers if d.case.n == 1000000]
    if not huge:
        skip("1,000,000 entries: finishes within the memory bound",
             "size 1000000 not run (opt in: BENCH_SIZES=\"1000000\")")
    for d in huge:
        memory(d, "1,000,000 %s: finishes, peak RSS <= 1.5x the three inputs" % tag(d))
    return out


def environment(s, tools_path):
    lines = []
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines.append("- machine: %s, %d CPUs, %s" % (cpu, os.cpu_count() or 0, platform.platform()))

    def version(argv):
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
            return p.stdout.decode("utf-8", "replace").strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    if s["bin"]:
        lines.append("- driver: %s (%s), measured from a copy made at the start"
                     % (s.get("bin_orig", s["bin"]), version([s["bin"], "--version"])))
    lines.append("- python: %s" % platform.python_version())
    if "jq" in tools_path:
        lines.append("- jq: %s" % version([tools_path["jq"], "--version"]))
    if "git" in tools_path:
        lines.append("- git: %s" % version([tools_path["git"], "--version"]))
    lines.append("- seed %s; runs %d per tool (driver: 3 at 1M; references: %s), after one unmeasured "
                 "warm-up run at sizes up to 10k; median wall time, highest peak RSS over the runs"
                 % (s["seed"], s["runs"], s["ref_runs"] or "3 at 100k (jq 1), 1 at 1M"))
    lines.append("- measured with " + s["how"])
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main(argv):
    s = settings(argv)
    os.makedirs(WORK, exist_ok=True)
    # One bench at a time: runs share the data folder, and two benches on
    # the same cores would spoil each other's timings anyway.
    lock = open(os.path.join(DATA, ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        note("bench: another bench is running on %s; waiting for it" % DATA)
        fcntl.flock(lock, fcntl.LOCK_EX)
    notes = []
    tools_path = {}
    present = []
    for tool in s["tools"]:
        if tool == "driver":
            if s["bin"] and os.access(s["bin"], os.X_OK):
                # Measure a snapshot, so that a rebuild during the bench
                # neither breaks a run nor mixes two builds in one table.
                s["bin_orig"] = os.path.abspath(s["bin"])
                s["bin"] = os.path.join(WORK, "git-merge-crdtmem")
                shutil.copy2(s["bin_orig"], s["bin"])
                present.append(tool)
            else:
                notes.append("driver: CRDTMEM_BIN=%r is not an executable; measuring the references only "
                             "(run `make bench`)" % s["bin"])
        elif tool == "seed-py":
            present.append(tool)
        elif tool in ("jq", "cat"):
            p = shutil.which(tool)
            if p:
                tools_path[tool] = p
                present.append(tool)
            else:
                notes.append("%s: not installed, skipped (Debian: apt-get install %s)"
                             % (tool, "jq" if tool == "jq" else "coreutils"))
        elif tool == "git-union":
            p = shutil.which("git")
            if p:
                tools_path["git"] = p
                present.append(tool)
            else:
                notes.append("git-union: git not installed, skipped")
        elif tool == "cjson":
            if s["cjson_bin"] and os.access(s["cjson_bin"], os.X_OK):
                present.append(tool)
            else:
                notes.append("cjson: reference not built (needs a C compiler and libcjson-dev), skipped")
    if s["measure_bin"] and os.access(s["measure_bin"], os.X_OK):
        MEASURE.update(mode="helper", helper=s["measure_bin"])
        how = "fork + wait4 in a small C helper (tests/bench/measure.c): wall clock and the child's own peak RSS"
    elif os.access("/usr/bin/time", os.X_OK):
        MEASURE.update(mode="time", time="/usr/bin/time")
        how = "/usr/bin/time -f '%e %M' for peak RSS, wall clock from the harness (includes time's start-up)"
        notes.append("measure helper not built: using /usr/bin/time (wall times include its start-up)")
    else:
        how = "posix_spawn + wait4 from Python: peak RSS includes the harness's own resident memory"
        notes.append("no measure helper and no /usr/bin/time: peak RSS figures include the Python "
                     "harness's own memory (install a C compiler, or Debian: apt-get install time)")
    s["how"] = how
    if "git" not in tools_path and shutil.which("git"):
        tools_path["git"] = shutil.which("git")
    present_refs = [t for t in REFS if t in present]
    have_driver = "driver" in present
    for n_ in notes:
        note("note: " + n_)
    if 1000000 in s["sizes"] or any(n > 1000000 for n in s["sizes"]):
        note("note: 1M entries: ~2 GiB of input per shape; the references take minutes and several GiB each")

    results = []
    checks = []  # (case, report or message, ok)
    joins = []  # (n, rate, shape, ok, message)
    failed_runs = []
    t_start = time.time()
    # The dups and distinct shapes count copies of one entity, at sizes of their own.
    plan_sizes = {}
    for n in s["sizes"]:
        plan_sizes.setdefault(n, []).extend(x for x in s["shapes"] if x not in gen.DUP_SHAPES)
    for n in s["dup_sizes"]:
        plan_sizes.setdefault(n, []).extend(x for x in s["shapes"] if x in gen.DUP_SHAPES)
    for n in sorted(plan_sizes):
        if not plan_sizes[n]:
            continue
        for rate in s["rates"]:
            folder = os.path.join(DATA, "n%d-%s" % (n, rate))
            t0 = time.time()
            need = plan_sizes[n]
            if not gen.up_to_date(folder, n, rate, s["seed"], need):
                note("generating %s entries, %s rate ..." % ("{:,}".format(n), rate))
                rc = gen.main(["--n", str(n), "--rate", rate, "--seed", s["seed"],
                               "--out", folder, "--shapes", " ".join(need)])
                if rc:
                    sys.exit("bench: generator failed")
                note("  generated in %.1f s" % (time.time() - t0))
            for shape in need:
                case = Case(n, rate, shape, folder)
                label = "%s %s %s" % ("{:,}".format(n), shape, rate)
                note("%s (inputs %s):" % (label, fmt_size(case.input_bytes)))
                if have_driver and shape in ("jsonl", "array"):
                    ok, msg = join_canonical(s, case)
                    joins.append((n, rate, shape, ok, msg))
                    if not ok:
                        note("  join check FAILED: " + msg)
                plan = [(t, runs_for(t, n, s)) for t in present]
                cmds = {t: command(t, case, s, tools_path) for t in present}
                runs = {t: [] for t in present}
                broken = set()
                digests = set()
                # Warm-up (not measured) for the small sizes, then round-robin
                # so that drift affects every tool alike.
                warm = 1 if n <= 10000 else 0
                most = max(k for _, k in plan)
                for i in range(-warm, most):
                    for tool, k in plan:
                        if tool in broken or i >= k:
                            continue
                        argv, stdout_path, out_file, prepare = cmds[tool]
                        if prepare:
                            prepare()
                        r = spawn_measured(argv, stdout_path, WORK, s["timeout"])
                        if r.status != 0:
                            broken.add(tool)
                            failed_runs.append((label, tool, r.status, r.stderr.strip()))
                            note("  %s FAILED (exit %d): %s" % (tool, r.status, r.stderr.strip()[:500]))
                            continue
                        if tool == "driver" and out_file:
                            digests.add(file_digest(out_file))
                            if i == 0:
                                rep = check.check_files(case.base, case.ours, case.theirs, out_file)
                                checks.append((case, rep.summary(), rep.ok))
                                note("  driver output: " + rep.summary().replace("\n", "\n  "))
                        if i >= 0:
                            runs[tool].append(r)
                if "driver" in present and len(digests) > 1:
                    checks.append((case, "FAIL: the driver wrote different bytes in different runs", False))
                for tool, _ in plan:
                    if runs[tool] and tool not in broken:
                        res = Result(case, tool, runs[tool])
                        results.append(res)
                        note("  %-9s %s s  %s MiB  (%d runs)" % (tool, fmt_s(res.median),
                                                                 fmt_mib(res.rss_kib), len(runs[tool])))
                for tool in ("seed-py", "jq", "git-union", "cjson"):
                    p = os.path.join(WORK, "out-" + tool)
                    if os.path.exists(p):
                        os.unlink(p)
                p = os.path.join(WORK, "memory-x.json")
                if os.path.exists(p):
                    os.unlink(p)

    # ------------------------------------------------------------ report
    out = []
    out.append("# git-merge-crdtmem benchmark")
    out.append("")
    out.append("Median wall time and peak RSS per tool on the same three files; `drv/X` is "
               "the driver's median time divided by X's (below 1: the driver is faster); "
               "`RSS/input` is the driver's peak RSS over the total size of base, ours and theirs.")
    out.append("")
    out.append(table(results, present_refs))
    out.append("")
    out.append("Tools: driver = `git-merge-crdtmem BASE OURS THEIRS 7 memory-x.json`; "
               "seed-py = seed merge (group by name, max timestamp as a string) in Python; "
               "jq = `jq -c -s '[add |] %s'` on ours and theirs; "
               "git-union = `git merge-file -p --union`; cat = `cat` of the three files to /dev/null; "
               "cjson = cJSON parse ours and theirs, print ours (no merge)." % JQ_FILTER)
    out.append("")
    if notes:
        out.append("Notes:")
        out.extend("- " + x for x in notes)
        out.append("")
    out.append("## Targets")
    out.append("")
    out.append("Judged on the driver's rows: the tool-written shapes (jsonl, array) at the typical "
               "rate, the heavy rate for the tool-written shapes, pretty-printed arrays (pretty, seed, "
               "idpretty) at both rates, one-line arrays against the same entries one per line, "
               "copies of one entity against as many different entities, and every 1M row; "
               "other rows are shown, not judged.")
    out.append("")
    tgt = targets(results, s["sizes"]) if have_driver else []
    hook_report = []
    if have_driver:
        note("hook: the pre-commit hook on a 10,000-entry repository")
        hook_report, hook_target = hookbench.run(s["bin"], DATA, spawn_measured)
        tgt.append(hook_target)
    if not have_driver:
        out.append("- SKIP: the driver was not measured")
    for status, desc, detail in tgt:
        out.append("- %s: %s — %s" % (status, desc, detail))
    out.append("")
    if hook_report:
        out.append("## The pre-commit hook")
        out.append("")
        out.extend(hook_report)
        out.append("")
    out.append("## Correctness of the driver's output")
    out.append("")
    if not have_driver:
        out.append("- SKIP: the driver was not measured")
    if joins:
        bad = [j for j in joins if not j[3]]
        if bad:
            for n, rate, shape, ok, msg in bad:
                out.append("- FAIL: `join base | cmp - base` (%s, %s, %s): %s" % ("{:,}".format(n), rate, shape, msg))
        else:
            out.append("- PASS: `join base | cmp - base` for every tool-written base (%d files): "
                       "the generator writes the canonical form" % len(joins))
    for case, summary, ok in checks:
        out.append("- %s %s %s: %s" % ("{:,}".format(case.n), case.shape, case.rate,
                                        summary.replace("\n", "\n  ")))
    for label, tool, status, err in failed_runs:
        out.append("- FAIL: %s: %s exited %d: %s" % (label, tool, status, err[:300].replace("\n", " ")))
    out.append("")
    out.append("## Environment")
    out.append("")
    out.append(environment(s, tools_path))
    out.append("- total bench time %.0f s" % (time.time() - t_start))
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(text)
    note("written to %s" % os.path.relpath(RESULTS))

    failed = any(not ok for _, _, ok in checks) or any(not j[3] for j in joins) \
        or any(t[0] == "FAIL" for t in tgt) \
        or any(tool == "driver" for _, tool, _, _ in failed_runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
