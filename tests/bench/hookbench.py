"""The pre-commit hook's speed on a 10,000-entry memory repository.

Called by bench.py. A repository with one host file of N entities (as the
memory server writes them) and its unified file is committed; then one
entity gets a new observation and is staged, and `git-merge-crdtmem hook
pre-commit` is timed as git would run it (a fresh process, the index reset
before each run). The hook spawns git several times; that is part of the
time measured. Target: median under 100 ms at 10,000 entries.
"""

import os
import shutil
import statistics
import subprocess

TARGET_S = 0.100


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
    report = ["| entries | file | runs | median s | min s | max s |",
              "| ---: | ---: | ---: | ---: | ---: | ---: |",
              "| %s | %.1f MB | %d | %.4f | %.4f | %.4f |" % ("{:,}".format(n), size / 1e6, len(walls),
                                                          med, min(walls), max(walls))]
    if not ok_stamp:
        return report, ("FAIL", "pre-commit hook on %s entries under 100 ms" % "{:,}".format(n),
                        "the changed entry was not stamped")
    status = "PASS" if med < TARGET_S else "FAIL"
    return report, (status, "pre-commit hook on %s entries under 100 ms" % "{:,}".format(n),
                    "median %.1f ms over %d runs (one entry changed, the unified file rebuilt)"
                    % (med * 1000, len(walls)))
