#!/usr/bin/env python3
"""Reference for the benchmark: the seed tools' merge algorithm, in Python.

    seed_merge.py OURS THEIRS OUT

Reads both sides (a JSON array or JSONL), groups the entries by id (for MCP
entities: name; for relations: from/relationType/to), keeps per id the entry
with the greatest "_crdt_metadata"."timestamp" compared as a string, as the
seed did, and writes the result as JSON, one entry per line, in the format of
OURS. No base, no observation merge, no canonical order: it is the fast and
wrong answer the driver is measured against.

Output is deliberately compact (not indent=2) so that the reference does no
more writing than the driver does.
"""

import json
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    head = data.lstrip()[:1]
    if head == b"[":
        return json.loads(data), "array"
    return [json.loads(line) for line in data.splitlines() if line.strip()], "jsonl"


def ident(e):
    if "id" in e:
        return ("id", json.dumps(e["id"]))
    if e.get("type") == "entity":
        return ("entity", e.get("name"))
    if e.get("type") == "relation":
        return ("relation", e.get("from"), e.get("relationType"), e.get("to"))
    return ("content", json.dumps(e, sort_keys=True))


def stamp(e):
    meta = e.get("_crdt_metadata")
    if isinstance(meta, dict):
        ts = meta.get("timestamp")
        if isinstance(ts, str):
            return ts
    return ""


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: seed_merge.py OURS THEIRS OUT\n")
        return 2
    ours, fmt = load(argv[0])
    theirs, _ = load(argv[1])
    merged = {}
    for e in ours + theirs:
        k = ident(e)
        cur = merged.get(k)
        if cur is None or stamp(e) > stamp(cur):
            merged[k] = e
    lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":"))
             for e in merged.values()]
    with open(argv[2], "w", encoding="utf-8") as f:
        if fmt == "array":
            f.write("[\n" + ",\n".join(lines) + "\n]\n")
        else:
            f.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
