"""The pre-commit hook's speed on a 10,000-entry memory repository.

Called by bench.py. A repository with one host file of N entities (as the
memory server writes them) and its unified file is committed; then one
entity gets a new observation and is staged, and `git-merge-crdtmem hook
pre-commit` is timed as git would run it (a fresh process, the index reset
before each run). The hook spawns git several times; that is part of the
time measured. Target: median under 100 ms at 10,000 entries.

For scale, the same run also times the git commands the hook cannot do
without, one after the other on the same files: ls-files, check-attr,
cat-file of the three versions read (staged and HEAD host file, HEAD
unified file), hash-object -w of the two stamped files (made unique each
run so git really compresses and writes them) and update-index. That sum
is a floor for any hook built on git's commands.
"""

import os
import shutil
import statistics
import subprocess
import time

TARGET_S = 0.100


def _timed(cmd, cwd, env, data=None):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - start, r.stdout


def git_floor(repo, env, runs):
    """Median seconds of the git commands the hook needs, run in sequence."""
    out = subprocess.run(["git", "-C", repo, "ls-files", "-s"], check=True, env=env,
                         stdout=subprocess.PIPE).stdout.decode().split("\n")
    staged = {line.split("\t")[1]: line.split()[1] for line in out if "\t" in line}
    names = "\n".join([staged["memory-bench.json"], "HEAD:memory-bench.json",
                       "HEAD:unified-memory.json"]) + "\n"
    host = subprocess.run(["git", "-C", repo, "cat-file", "blob", staged["memory-bench.json"]],
                          check=True, env=env, stdout=subprocess.PIPE).stdout
    unified = subprocess.run(["git", "-C", repo, "cat-file", "blob", "HEAD:unified-memory.json"],
                             check=True, env=env, stdout=subprocess.PIPE).stdout
    index_env = dict(env, GIT_INDEX_FILE=os.path.join(repo, ".git", "index.floor"))
    totals = []
    for i in range(runs):
        shutil.copyfile(os.path.join(repo, ".git", "index"), index_env["GIT_INDEX_FILE"])
        t = 0.0
        d, _ = _timed(["git", "ls-files", "-s", "-z", "--full-name"], repo, env)
        t += d
        d, _ = _timed(["git", "check-attr", "-z", "--stdin", "merge"], repo, env,
                      b"memory-bench.json\0unified-memory.json\0")
        t += d
        d, _ = _timed(["git", "cat-file", "--batch"], repo, env, names.encode())
        t += d
        ids = []
        for blob in (host, unified):
            unique = blob + ("\n{\"floor\":%d,\"t\":%f}\n" % (i, time.time())).encode()
            d, oid = _timed(["git", "hash-object", "-w", "--no-filters", "--stdin"], repo, env,
                            unique)
            t += d
            ids.append(oid.decode().strip())
        info = "100644 %s\tmemory-bench.json\0100644 %s\tunified-memory.json\0" % tuple(ids)
        d, _ = _timed(["git", "update-index", "-z", "--index-info"], repo, index_env,
                      info.encode())
        t += d
        totals.append(t)
    os.unlink(index_env["GIT_INDEX_FILE"])
    return statistics.median(totals)


def _git(repo, *args, env=None):
    subprocess.run(["git", "-C", repo] + list(args), check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _entities(n, extra=None):
    lines = []
    for i in range(n):
        obs = ['"observation %d of e%06d"' % (k, i) for k in range(1 + i % 4)]
        if extra is not None and i == extra:
            obs.append('"a new observation"')
        lines.append('{"type":"entity","name":"e%06d","entityType":"thing","observations":[%s]}'
                     % (i, ",".join(sorted(obs))))
    return "\n".join(lines)


def run(binary, data_dir, spawn_measured, runs=9, n=10000):
    """Returns (report lines, target tuple (status, desc, detail))."""
    repo = os.path.join(data_dir, "hook-repo")
    shutil.rmtree(repo, ignore_errors=True)
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True, env=env)
    _git(repo, "config", "crdtmem.host", "bench", env=env)
    info = os.path.join(repo, ".git", "info")
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "attributes"), "w") as f:
        f.write("memory-*.json merge=crdtmem\nunified-memory.json merge=crdtmem\n")
    host_file = os.path.join(repo, "memory-bench.json")
    with open(host_file, "w") as f:
        f.write(_entities(n))
    _git(repo, "add", "memory-bench.json", env=env)
    subprocess.run([binary, "hook", "pre-commit"], cwd=repo, check=True, env=env)
    _git(repo, "commit", "-q", "--no-verify", "-m", "base", env=env)
    # One entity changed, staged; the index saved to be put back before each run.
    committed = subprocess.run(["git", "-C", repo, "show", "HEAD:memory-bench.json"],
                               check=True, stdout=subprocess.PIPE, env=env).stdout.decode()
    lines = committed.splitlines()
    k = n // 2
    lines[k] = lines[k].replace('"observations":[', '"observations":["a new observation",', 1)
    with open(host_file, "w") as f:
        f.write("\n".join(lines) + "\n")
    _git(repo, "add", "memory-bench.json", env=env)
    index = os.path.join(repo, ".git", "index")
    shutil.copyfile(index, index + ".bench")
    staged = open(host_file).read()

    old_env = dict(os.environ)
    os.environ.update(env)
    walls = []
    out_path = os.path.join(data_dir, "hook-out.txt")
    try:
        for i in range(runs + 1):
            shutil.copyfile(index + ".bench", index)
            with open(host_file, "w") as f:
                f.write(staged)
            r = spawn_measured([binary, "hook", "pre-commit"], out_path, repo, 60)
            if r.status != 0:
                return (["- FAIL: the pre-commit hook exited %d: %s" % (r.status, r.stderr[:300])],
                        ("FAIL", "pre-commit hook on %s entries under 100 ms" % "{:,}".format(n),
                         "the hook failed"))
            if i > 0:
                walls.append(r.wall)
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    # The hook did its job: the staged file is stamped.
    stamped = subprocess.run(["git", "-C", repo, "show", ":memory-bench.json"], check=True,
                             stdout=subprocess.PIPE, env=env).stdout.decode().splitlines()
    ok_stamp = '"version":2,' in stamped[k] and "a new observation" in stamped[k]
    med = statistics.median(walls)
    size = os.path.getsize(host_file)
    floor = git_floor(repo, env, runs)
    report = ["| entries | file | runs | median s | min s | max s | git commands alone, median s |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
              "| %s | %.1f MB | %d | %.4f | %.4f | %.4f | %.4f |"
              % ("{:,}".format(n), size / 1e6, len(walls), med, min(walls), max(walls), floor)]
    if not ok_stamp:
        return report, ("FAIL", "pre-commit hook on %s entries under 100 ms" % "{:,}".format(n),
                        "the changed entry was not stamped")
    status = "PASS" if med < TARGET_S else "FAIL"
    return report, (status, "pre-commit hook on %s entries under 100 ms" % "{:,}".format(n),
                    "median %.1f ms over %d runs (one entry changed, the unified file rebuilt);"
                    " git's own commands for it take %.1f ms in sequence"
                    % (med * 1000, len(walls), floor * 1000))
