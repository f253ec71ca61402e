#!/usr/bin/env python3
"""Generate the benchmark scenario for git-merge-crdtmem (deterministic, seeded).

A base of N MCP entities (1-6 observations each, ~130 characters per
observation) and two sides ("ours" written by host "laptop", "theirs" by host
"desktop"). Each side changes RATE*N entries of the base (30% of those are
changed on both sides) and adds 5% new entries. A changed entry gets a later
timestamp, version+1, and added or replaced observations (sometimes a new
entityType). Among the entries changed on both sides some carry the same
timestamp, so the version and then the host decide the winner.

Shapes written, from the same logical data:
  jsonl   "as the tool writes them": one compact entry per line in canonical
          member and observation order, entries sorted by key, each line + "\\n"
  array   the same lines as "[\\n" + lines joined by ",\\n" + "\\n]\\n"
  pretty  a JSON array as other tools write it: json.dumps(indent=2), ASCII
          escapes, observations in the order they were written (unsorted)

Shapes from the same data as other tools and the seeds' system write them:
  seed      {"id","content","_crdt_metadata"} entries (the earlier tool's own
            format, the content made of the entity's observations) as a
            json.dumps(indent=2) array; timestamps with microseconds
  idpretty  entities that carry an "id" as well ({"id","type","name",
            "entityType","observations","_crdt_metadata"}, "id" first, so
            the members are not in canonical order), json.dumps(indent=2)
  oneline   the entities as one line: json.dumps(list) with its default ", "
            and ": " separators, ASCII escapes, unsorted observations

And a scenario of its own, where N counts copies (bench.py runs it at
BENCH_DUP_SIZES): one entity repeated in one file (the memory server can
write a name twice), each copy with its own observation and stamp; each side
rewrites RATE of the copies and adds 5% more.
  dups      N copies of one entity, JSON lines in the order written
  distinct  the same lines with N different names: the yardstick for dups

Usage: gen.py --n N --rate typical|heavy --seed S --out DIR [--shapes "jsonl array pretty"]
Writes DIR/{base,ours,theirs}.{jsonl,json,pretty.json} and DIR/.stamp.
Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import random
import sys

GEN_VERSION = "5"  # bump when the output changes, so cached data is regenerated

RATES = {"typical": 0.10, "heavy": 0.50}
BOTH_SHARE = 0.30  # of the entries a side changes, the share changed on both sides
ADD_RATE = 0.05  # new entries per side, as a share of N
SHAPE_FILES = {"jsonl": ".jsonl", "array": ".json", "pretty": ".pretty.json",
               "seed": ".seed.json", "idpretty": ".idpretty.json",
               "oneline": ".oneline.json", "dups": ".dups.jsonl",
               "distinct": ".distinct.jsonl"}
DUP_SHAPES = ("dups", "distinct")

HOST_OURS = "laptop"
HOST_THEIRS = "desktop"
BASE_HOSTS = ("laptop", "desktop", "build-server", "tablet")
ENTITY_TYPES = ("person", "project", "concept", "tool", "preference",
                "organization", "event", "location", "document", "task")

WORDS = (
    "the user prefers to work with small focused commits and reviews every "
    "change before it is merged into the main branch of the repository they "
    "maintain alone on weekends using vim tmux and a mechanical keyboard "
    "project deadline meeting notes architecture decision record postgres "
    "migration rollback plan kubernetes cluster staging production incident "
    "retrospective coffee tea morning evening timezone berlin tokyo remote "
    "office colleague manager mentor conference talk slides draft feedback "
    "python rust c go typescript compiler warning flaky test ci pipeline cache "
    "dependency upgrade security advisory token rotation backup restore "
    "laptop desktop server sync conflict merge driver knowledge graph entity "
    "relation observation memory assistant prompt context window summary "
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber stra\u00dfe \u65e5\u672c "
    "\u6771\u4eac \u2713 \u2192"
).split()

BASE_START_MS = 1767225600000  # 2026-01-01T00:00:00.000Z
BASE_SPAN_MS = 272 * 86400000  # base stamps until the end of September 2026
ADD_START_MS = 1790812800000  # 2026-10-01T00:00:00.000Z
ADD_SPAN_MS = 50 * 86400000
CHANGE_MAX_MS = 50 * 86400000  # a change is 1 ms .. 50 days after its base stamp


def fmt_ts_us(ms):
    """With microseconds, as Python's isoformat() writes them.
    (The seeds wrote them naive, without an offset; the reader does not
    accept that yet, so they carry a Z.)"""
    sec, frac = divmod(ms, 1000)
    dt = datetime.datetime.fromtimestamp(sec, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d%03dZ" % (frac, (ms * 7) % 1000)


def fmt_ts(ms):
    """ISO-8601 UTC with milliseconds, e.g. 2026-11-21T20:55:50.123Z."""
    sec, frac = divmod(ms, 1000)
    dt = datetime.datetime.fromtimestamp(sec, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % frac


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.serial = 0

    def uid(self):
        r = self.rng.getrandbits(128)
        h = "%032x" % r
        return "%s-%s-4%s-a%s-%s" % (h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])

    def observation(self):
        # ~130 bytes; the serial number keeps observations distinct.
        self.serial += 1
        words = self.rng.choices(WORDS, k=self.rng.randint(12, 19))
        return "%s (note %d)" % (" ".join(words), self.serial)

    def observations(self, k):
        return [self.observation() for _ in range(k)]


class Entity:
    __slots__ = ("name", "etype", "obs", "host", "ts", "version", "uid")

    def __init__(self, name, etype, obs, host, ts, version, uid):
        self.name = name
        self.etype = etype
        self.obs = obs  # list, in the order written (the pretty shape keeps it)
        self.host = host
        self.ts = ts  # ms since the epoch
        self.version = version
        self.uid = uid

    def as_dict(self, sort_obs):
        return {
            "type": "entity",
            "name": self.name,
            "entityType": self.etype,
            "observations": sorted(self.obs) if sort_obs else list(self.obs),
            "_crdt_metadata": {
                "host": self.host,
                "timestamp": fmt_ts(self.ts),
                "version": self.version,
                "unique_id": self.uid,
            },
        }

    def as_seed(self):
        return {
            "id": self.name,
            "content": "; ".join(self.obs),
            "_crdt_metadata": {
                "host": self.host,
                "timestamp": fmt_ts_us(self.ts),
                "version": self.version,
                "unique_id": self.uid,
            },
        }

    def as_idpretty(self):
        d = {"id": self.name}
        d.update(self.as_dict(False))
        return d

    def line(self):
        return json.dumps(self.as_dict(True), ensure_ascii=False,
                          separators=(",", ":"))


def change(g, e, host, ts, version):
    """A new version of e written by host: added/replaced observations."""
    rng = g.rng
    obs = list(e.obs)
    op = rng.random()
    if op < 0.5:  # add one observation
        obs.append(g.observation())
    elif op < 0.8 and len(obs) > 1:  # replace one (a removal and an addition)
        del obs[rng.randrange(len(obs))]
        obs.append(g.observation())
    else:  # rewrite one and add one
        obs[rng.randrange(len(obs))] = g.observation()
        obs.append(g.observation())
    etype = e.etype
    if rng.random() < 0.1:
        etype = rng.choice(ENTITY_TYPES)
    return Entity(e.name, etype, obs, host, ts, version, g.uid())


def generate(n, rate_name, seed):
    rate = RATES[rate_name]
    rng = random.Random("crdtmem-bench/%s/%d/%s" % (seed, n, rate_name))
    g = Gen(rng)
    adds = int(round(n * ADD_RATE))
    space = 10 * n + 10
    width = len(str(space))
    ids = rng.sample(range(space), n + 2 * adds)
    names = ["entity-%0*d" % (width, i) for i in ids]

    base = []
    for name in names[:n]:
        base.append(Entity(name, rng.choice(ENTITY_TYPES),
                           g.observations(rng.randint(1, 6)),
                           rng.choice(BASE_HOSTS),
                           BASE_START_MS + rng.randrange(BASE_SPAN_MS),
                           rng.randint(1, 20), g.uid()))

    per_side = int(round(n * rate))
    both = int(round(per_side * BOTH_SHARE))
    only = per_side - both
    picked = rng.sample(range(n), both + 2 * only)
    both_idx = picked[:both]
    ours_idx = picked[both:both + only]
    theirs_idx = picked[both + only:]

    ours = {}
    theirs = {}
    for i in ours_idx:
        e = base[i]
        ours[e.name] = change(g, e, HOST_OURS, e.ts + rng.randint(1, CHANGE_MAX_MS),
                              e.version + 1)
    for i in theirs_idx:
        e = base[i]
        theirs[e.name] = change(g, e, HOST_THEIRS, e.ts + rng.randint(1, CHANGE_MAX_MS),
                                e.version + 1)
    for i in both_idx:
        e = base[i]
        ts_a = e.ts + rng.randint(1, CHANGE_MAX_MS)
        ts_b = e.ts + rng.randint(1, CHANGE_MAX_MS)
        va = vb = e.version + 1
        tie = rng.random()
        if tie < 0.10:  # same instant: version, then host decide
            ts_b = ts_a
            if tie < 0.05:
                if rng.random() < 0.5:
                    va += 1  # edited twice on this side
                else:
                    vb += 1
        ours[e.name] = change(g, e, HOST_OURS, ts_a, va)
        theirs[e.name] = change(g, e, HOST_THEIRS, ts_b, vb)

    def added(host, names_):
        out = {}
        for name in names_:
            out[name] = Entity(name, rng.choice(ENTITY_TYPES),
                               g.observations(rng.randint(1, 6)), host,
                               ADD_START_MS + rng.randrange(ADD_SPAN_MS), 1, g.uid())
        return out

    ours.update(added(HOST_OURS, names[n:n + adds]))
    theirs.update(added(HOST_THEIRS, names[n + adds:]))

    base_by_name = {e.name: e for e in base}

    def side(changes):
        merged = dict(base_by_name)
        merged.update(changes)
        # Names are fixed width and plain ASCII, so the order of the names is
        # the order of the keys ["entity","<name>"].
        return [merged[k] for k in sorted(merged)]

    base.sort(key=lambda e: e.name)
    return base, side(ours), side(theirs)


def generate_dups(n, rate_name, seed):
    """N copies of one entity per file (see the module's docstring); the
    same entries under N different names for the "distinct" shape."""
    rate = RATES[rate_name]
    rng = random.Random("crdtmem-bench-dups/%s/%d/%s" % (seed, n, rate_name))
    g = Gen(rng)
    base = [Entity(i, "person", [g.observation()], rng.choice(BASE_HOSTS),
                   BASE_START_MS + rng.randrange(BASE_SPAN_MS), 1, g.uid())
            for i in range(n)]
    per_side = int(round(n * rate))
    both = int(round(per_side * BOTH_SHARE))
    only = per_side - both
    picked = rng.sample(range(n), both + 2 * only)
    adds = int(round(n * ADD_RATE))

    def side(idx, host, first):
        out = list(base)
        for i in idx:
            e = base[i]
            out[i] = Entity(i, e.etype, [g.observation()], host,
                            e.ts + rng.randint(1, CHANGE_MAX_MS), e.version + 1, g.uid())
        for k in range(adds):
            out.append(Entity(first + k, "person", [g.observation()], host,
                              ADD_START_MS + rng.randrange(ADD_SPAN_MS), 1, g.uid()))
        return out

    ours = side(picked[:both] + picked[both:both + only], HOST_OURS, n)
    theirs = side(picked[:both] + picked[both + only:], HOST_THEIRS, n + adds)
    return base, ours, theirs


def write_dups(entities, prefix, shapes):
    width = len(str(len(entities) * 2))
    for shape in shapes:
        with open(prefix + SHAPE_FILES[shape], "w", encoding="utf-8", newline="") as f:
            for e in entities:
                num = e.name
                e.name = "entity-solo" if shape == "dups" else "entity-%0*d" % (width, num)
                f.write(e.line())
                f.write("\n")
                e.name = num


def pretty_array(f, dicts_of, entities):
    """A json.dumps(indent=2) array, chunked so that 1M entries do not need
    one huge string."""
    f.write("[\n")
    chunk = 2000
    for start in range(0, len(entities), chunk):
        text = json.dumps([dicts_of(e) for e in entities[start:start + chunk]], indent=2)
        # Drop this chunk's own "[\n" and "\n]"; json.dumps already
        # indents the elements by two spaces.
        if start:
            f.write(",\n")
        f.write(text[2:-2])
    f.write("\n]\n")


def write_shapes(entities, prefix, shapes):
    lines = None
    if "jsonl" in shapes or "array" in shapes:
        lines = [e.line() for e in entities]
    if "jsonl" in shapes:
        with open(prefix + SHAPE_FILES["jsonl"], "w", encoding="utf-8", newline="") as f:
            for ln in lines:
                f.write(ln)
                f.write("\n")
    if "array" in shapes:
        with open(prefix + SHAPE_FILES["array"], "w", encoding="utf-8", newline="") as f:
            f.write("[\n")
            f.write(",\n".join(lines))
            f.write("\n]\n")
    lines = None
    if "seed" in shapes:
        with open(prefix + SHAPE_FILES["seed"], "w", encoding="utf-8", newline="") as f:
            pretty_array(f, Entity.as_seed, entities)
    if "idpretty" in shapes:
        with open(prefix + SHAPE_FILES["idpretty"], "w", encoding="utf-8", newline="") as f:
            pretty_array(f, Entity.as_idpretty, entities)
    if "oneline" in shapes:
        with open(prefix + SHAPE_FILES["oneline"], "w", encoding="utf-8", newline="") as f:
            f.write("[")
            chunk = 2000
            for start in range(0, len(entities), chunk):
                text = json.dumps([e.as_dict(False) for e in entities[start:start + chunk]])
                if start:
                    f.write(", ")
                f.write(text[1:-1])
            f.write("]")
    if "pretty" in shapes:
        with open(prefix + SHAPE_FILES["pretty"], "w", encoding="utf-8", newline="") as f:
            # Chunked so that 1M entries do not need one huge string.
            f.write("[\n")
            chunk = 2000
            for start in range(0, len(entities), chunk):
                part = [e.as_dict(False) for e in entities[start:start + chunk]]
                text = json.dumps(part, indent=2)
                # Drop this chunk's own "[\n" and "\n]" and re-indent nothing:
                # json.dumps already indents the elements by two spaces.
                body = text[2:-2]
                if start:
                    f.write(",\n")
                f.write(body)
            f.write("\n]\n")


def stamp_text(n, rate, seed):
    return "gen=%s n=%d rate=%s seed=%s\n" % (GEN_VERSION, n, rate, seed)


def data_files(out, shapes):
    return [os.path.join(out, side + SHAPE_FILES[s])
            for side in ("base", "ours", "theirs") for s in shapes]


def file_id(path):
    """Size and modification time: a file changed after it was generated
    (by hand, or by a tool pointed at it) no longer matches its stamp."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return "%d %d" % (st.st_size, st.st_mtime_ns)


def read_stamp(out, n, rate, seed):
    """{file name: file_id} recorded for these settings, or None."""
    try:
        with open(os.path.join(out, ".stamp"), encoding="utf-8") as f:
            lines = f.read().splitlines(True)
    except OSError:
        return None
    if not lines or lines[0] != stamp_text(n, rate, seed):
        return None
    rec = {}
    for ln in lines[1:]:
        name, _, ident = ln.rstrip("\n").partition(" ")
        rec[name] = ident
    return rec


def intact(out, rec, shape):
    """Every file of the shape is there, as it was written."""
    for p in data_files(out, [shape]):
        ident = file_id(p)
        if ident is None or rec.get(os.path.basename(p)) != ident:
            return False
    return True


def up_to_date(out, n, rate, seed, shapes):
    """The files of these shapes exist, were made with these settings, and
    have not changed since."""
    rec = read_stamp(out, n, rate, seed)
    return rec is not None and all(intact(out, rec, s) for s in shapes)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--rate", choices=sorted(RATES), required=True)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--out", required=True)
    ap.add_argument("--shapes", default="jsonl array pretty")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    shapes = a.shapes.split()
    for s in shapes:
        if s not in SHAPE_FILES:
            ap.error("unknown shape %r" % s)
    os.makedirs(a.out, exist_ok=True)
    stamp = os.path.join(a.out, ".stamp")
    rec = None if a.force else read_stamp(a.out, a.n, a.rate, a.seed)
    if rec is None:
        # Other settings or an interrupted run: nothing here can be trusted.
        rec = {}
        missing = shapes
    else:
        # The data is deterministic: intact files made with these settings
        # stay valid; write only the shapes that are missing or changed.
        missing = [s for s in shapes if not intact(a.out, rec, s)]
        if not missing:
            return 0
    keep = [s for s in SHAPE_FILES if s not in missing and intact(a.out, rec, s)]
    if os.path.exists(stamp):
        os.unlink(stamp)
    for p in data_files(a.out, [s for s in SHAPE_FILES if s not in keep]):
        if os.path.exists(p):
            os.unlink(p)
    main_shapes = [s for s in missing if s not in DUP_SHAPES]
    dup_shapes = [s for s in missing if s in DUP_SHAPES]
    if main_shapes:
        base, ours, theirs = generate(a.n, a.rate, a.seed)
        for name, ents in (("base", base), ("ours", ours), ("theirs", theirs)):
            write_shapes(ents, os.path.join(a.out, name), main_shapes)
        base = ours = theirs = None
    if dup_shapes:
        base, ours, theirs = generate_dups(a.n, a.rate, a.seed)
        for name, ents in (("base", base), ("ours", ours), ("theirs", theirs)):
            write_dups(ents, os.path.join(a.out, name), dup_shapes)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(stamp_text(a.n, a.rate, a.seed))
        for p in data_files(a.out, keep + missing):
            f.write("%s %s\n" % (os.path.basename(p), file_id(p)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
