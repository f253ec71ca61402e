#!/usr/bin/env python3
"""Check a merge result against the driver's rule, computed here from the inputs.

    check.py BASE OURS THEIRS RESULT

Per key, with o, a, b the versions in BASE, OURS, THEIRS (DESIGN.md "The merge
driver"): if a equals o the result is b; else if b equals o it is a; else the
version with the greater stamp (timestamp instant, version, host) wins, and for
MCP entities the observations are the union of both sides minus the
observations of the base missing from either side (and minus both sides'
"removed_observations").

Checked in RESULT: it parses, has the format of OURS (JSON array or JSONL),
holds exactly the expected keys once each in key order; an entry taken whole
from one side equals it (and is written in the canonical bytes); a joined
entry has the winner's fields and metadata and exactly the expected
observations, and its "removed_observations" lists every observation the
three-way step removed and nothing it should not.

"check.py --expected BASE OURS THEIRS OUT" writes the result the checker
expects (its self-test: that file must pass, the seed merge's must not).

Python 3 standard library only. Exit 0 when the result is right, 1 if not.
"""

import datetime
import json
import sys

MAX_SHOWN = 5


class Bad(Exception):
    pass


def read_entries(path):
    """(entries, format, raw lines or None) of a memory file."""
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    head = text.lstrip()[:1]
    if head == "[":
        v = json.loads(text)
        if not isinstance(v, list):
            raise Bad("%s: not an array" % path)
        return v, "array", text
    if head == "":
        return [], "empty", text
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise Bad("%s: line %d: %s" % (path, i, e)) from None
    return out, "jsonl", text


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                           check_circular=False).encode


def canon(v):
    return _encode(v)


def kind_of(e):
    """The key rule that applies (DESIGN.md "Entries and keys")."""
    if not isinstance(e, dict):
        raise Bad("entry is not an object: %.80r" % (e,))
    i = e.get("id")
    if isinstance(i, str) or (isinstance(i, int) and not isinstance(i, bool)):
        return "id"
    t = e.get("type")
    if t == "entity" and isinstance(e.get("name"), str):
        return "entity"
    if t == "relation" and all(isinstance(e.get(k), str)
                               for k in ("from", "relationType", "to")):
        return "relation"
    return "content"


def key_of(e):
    k = kind_of(e)
    if k == "entity":
        return '["entity",' + _encode(e["name"]) + "]"
    if k == "id":
        return '["id",' + _encode(e["id"]) + "]"
    if k == "relation":
        return _encode(["relation", e["from"], e["relationType"], e["to"]])
    rest = {k: v for k, v in e.items() if k != "_crdt_metadata"}
    return _encode(["content", canon_entry(rest)])


def is_entity(e):
    return e is not None and kind_of(e) == "entity"


def meta(e):
    m = e.get("_crdt_metadata")
    return m if isinstance(m, dict) else {}


def obs_set(e):
    return set(e.get("observations") or [])


def removed_set(e):
    return set(meta(e).get("removed_observations") or [])


def live_entity(e):
    return is_entity(e) and not meta(e).get("deleted", False)


# The canonical member order (json.c's json_key_rank).
MEMBER_ORDER = {k: i for i, k in enumerate(
    ("type", "id", "name", "entityType", "from", "to", "relationType",
     "content", "observations"))}
META_ORDER = {k: i for i, k in enumerate(
    ("host", "timestamp", "version", "unique_id", "deleted", "removed_observations"))}
ENTITY_MEMBERS = ("type", "name", "entityType", "observations", "_crdt_metadata")
ENTITY_META = ("host", "timestamp", "version", "unique_id")


def _ordered(d, ranks, common):
    if tuple(d) == common:
        return d
    keys = sorted(d, key=lambda k: (k == "_crdt_metadata", ranks.get(k, len(ranks)), k))
    return {k: d[k] for k in keys}


def canonical_form(e):
    """e with members in canonical order and observation sets sorted.
    (Python orders str by code point, which is the byte order of UTF-8.)"""
    d = dict(_ordered(e, MEMBER_ORDER, ENTITY_MEMBERS))
    v = d.get("observations")
    if isinstance(v, list) and is_entity(e):  # a set only for an entity
        d["observations"] = sorted(set(v))
    m = d.get("_crdt_metadata")
    if isinstance(m, dict):
        m = dict(_ordered(m, META_ORDER, ENTITY_META))
        r = m.get("removed_observations")
        if isinstance(r, list):
            m["removed_observations"] = sorted(set(r))
        d["_crdt_metadata"] = m
    return d


def canon_entry(e):
    """The canonical line for the entries this benchmark generates."""
    return _encode(canonical_form(e))


def same(x, y):
    """Equal as the driver means it: the same canonical serialisation."""
    if x is None or y is None:
        return x is y
    if x == y:
        return True
    return canonical_form(x) == canonical_form(y)


def instant_ns(ts):
    if isinstance(ts, bool):
        raise Bad("timestamp is a boolean")
    if isinstance(ts, (int, float)):
        return int(ts * 1_000_000_000)
    if not isinstance(ts, str):
        raise Bad("timestamp %r" % (ts,))
    s = ts.strip()
    frac_ns = 0
    # fromisoformat keeps microseconds only; take the fraction by hand.
    t = s.find("T")
    dot = s.find(".", t)
    if dot >= 0:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        digits = s[dot + 1:end]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        s = s[:dot] + s[end:]
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + frac_ns


def stamp(e):
    m = meta(e)
    if "timestamp" in m:
        inst = instant_ns(m["timestamp"])
    else:
        inst = -(1 << 63)
    v = m.get("version", 0)
    h = m.get("host", "")
    content = dict(e)
    if is_entity(e):
        content.pop("observations", None)
        cm = dict(meta(e))
        cm.pop("removed_observations", None)
        if "_crdt_metadata" in content:
            content["_crdt_metadata"] = cm
    return (inst, v, h.encode("utf-8"), canon_entry(content).encode("utf-8"))


def join_all(copies):
    """The join of the versions of one key (DESIGN.md "The join"): the
    greatest stamp wins; an entity gets the union of every version's
    observations minus the union of their removed_observations."""
    if len(copies) == 1 or all(same(copies[0], c) for c in copies[1:]):
        return copies[0]
    w = copies[0]
    ws = stamp(w)
    for c in copies[1:]:
        cs = stamp(c)
        if cs > ws:
            w, ws = c, cs
    if not all(is_entity(c) for c in copies):
        return w
    obs, rem = set(), set()
    for c in copies:
        obs |= obs_set(c)
        rem |= removed_set(c)
    out = dict(w)
    out["observations"] = sorted(obs - rem)
    m = dict(meta(w))
    m.pop("removed_observations", None)
    if rem:
        m["removed_observations"] = sorted(rem)
    out["_crdt_metadata"] = m
    return canonical_form(out)


def index(entries, what):
    """{key: entry}; copies of a key in one file (the memory server can
    write an entity twice) are joined, as the driver does."""
    d = {}
    for e in entries:
        d.setdefault(key_of(e), []).append(e)
    return {k: join_all(v) for k, v in d.items()}


def expect(o, a, b):
    """(kind, expected): kind "side" (a whole entry) or "join" (a dict of facts)."""
    if same(a, o):
        return "side", b
    if same(b, o):
        return "side", a
    if a is None:
        return "side", b
    if b is None:
        return "side", a
    win = a if stamp(a) >= stamp(b) else b
    if not (is_entity(a) and is_entity(b)):
        return "side", win
    removed3 = set()
    if live_entity(o) and live_entity(a) and live_entity(b):
        oo = obs_set(o)
        removed3 = (oo - obs_set(a)) | (oo - obs_set(b))
    removed = removed3 | removed_set(a) | removed_set(b)
    visible = (obs_set(a) | obs_set(b)) - removed
    return "join", {
        "winner": win,
        "from": "ours" if win is a else "theirs",
        "visible": visible,
        "required_removed": removed3 & (obs_set(a) | obs_set(b)) | removed_set(a) | removed_set(b),
        "allowed_removed": removed,
    }


def compare_join(got, exp):
    """Problems with a joined entity, as a list of strings."""
    w = exp["winner"]
    probs = []
    for k in set(got) | set(w):
        if k in ("observations", "_crdt_metadata"):
            continue
        if got.get(k) != w.get(k):
            probs.append("field %s is %.60r, winner (%s) has %.60r" % (k, got.get(k), exp["from"], w.get(k)))
    gm, wm = meta(got), meta(w)
    for k in set(gm) | set(wm):
        if k == "removed_observations":
            continue
        if gm.get(k) != wm.get(k):
            probs.append("_crdt_metadata.%s is %r, winner (%s) has %r" % (k, gm.get(k), exp["from"], wm.get(k)))
    obs = got.get("observations")
    if not isinstance(obs, list):
        probs.append("observations missing")
        obs = []
    if len(obs) != len(set(obs)):
        probs.append("duplicate observations")
    have = set(obs)
    if have != exp["visible"]:
        miss = sorted(exp["visible"] - have)
        extra = sorted(have - exp["visible"])
        probs.append("observations: %d missing%s, %d unexpected%s" % (
            len(miss), " (e.g. %.60r)" % miss[0] if miss else "",
            len(extra), " (e.g. %.60r)" % extra[0] if extra else ""))
    rem = removed_set(got)
    if not exp["required_removed"] <= rem:
        probs.append("removed_observations lacks %d the three-way merge removed" % len(exp["required_removed"] - rem))
    if not rem <= exp["allowed_removed"]:
        probs.append("removed_observations lists %d that nobody removed" % len(rem - exp["allowed_removed"]))
    if rem & have:
        probs.append("an observation is both visible and removed")
    return probs


class Report:
    def __init__(self):
        self.ok = True
        self.lines = []
        self.problems = 0
        self.stats = {}

    def fail(self, msg):
        self.ok = False
        self.problems += 1
        if self.problems <= MAX_SHOWN:
            self.lines.append("  " + msg)
        elif self.problems == MAX_SHOWN + 1:
            self.lines.append("  ...")

    def summary(self):
        s = self.stats
        head = ("%s: %d entries (%d kept from one side, %d joined: %d won by ours, %d by theirs)"
                % ("PASS" if self.ok else "FAIL", s.get("keys", 0), s.get("side", 0),
                   s.get("join", 0), s.get("join_ours", 0), s.get("join_theirs", 0)))
        if not self.ok:
            head += "; %d problem(s)" % self.problems
        return "\n".join([head] + self.lines)


def check_files(base, ours, theirs, result):
    rep = Report()
    try:
        o_list, _, _ = read_entries(base)
        a_list, a_fmt, _ = read_entries(ours)
        b_list, _, _ = read_entries(theirs)
        O, A, B = index(o_list, "base"), index(a_list, "ours"), index(b_list, "theirs")
        del o_list, a_list, b_list
        try:
            r_list, r_fmt, r_text = read_entries(result)
        except (ValueError, UnicodeDecodeError, Bad) as e:
            rep.fail("result does not parse: %s" % e)
            return rep
    except Bad as e:
        rep.fail(str(e))
        return rep

    want_fmt = "array" if a_fmt == "array" else "jsonl"
    if r_fmt != want_fmt and not (r_fmt == "empty" and not (A or B)):
        rep.fail("result is %s, ours was %s" % (r_fmt, want_fmt))
    if r_text and not r_text.endswith("\n"):
        rep.fail("result does not end in a newline")

    got = {}
    keys_in_order = []
    for e in r_list:
        try:
            k = key_of(e)
        except Bad as ex:
            rep.fail("result: %s" % ex)
            continue
        if k in got:
            rep.fail("result holds %s more than once" % k)
        got[k] = e
        keys_in_order.append(k)
    if keys_in_order != sorted(keys_in_order, key=lambda s: s.encode("utf-8")):
        rep.fail("result is not in key order")

    # Raw lines of the result, to check the canonical bytes of whole entries.
    raw = {}
    if r_fmt in ("jsonl", "array"):
        lines = r_text.split("\n")
        if r_fmt == "array":
            lines = [ln[:-1] if ln.endswith(",") else ln for ln in lines[1:-2]]
        else:
            lines = [ln for ln in lines if ln]
        if len(lines) == len(keys_in_order):
            raw = dict(zip(keys_in_order, lines))
        else:
            rep.fail("result is not one entry per line")

    all_keys = set(O) | set(A) | set(B)
    n_side = n_join = j_ours = j_theirs = n_expected = 0
    noncanon = 0
    for k in sorted(all_keys):
        try:
            kind, exp = expect(O.get(k), A.get(k), B.get(k))
        except Bad as e:
            rep.fail("%s: %s" % (k, e))
            continue
        g = got.get(k)
        if kind == "side":
            n_side += 1
            if exp is None:
                if g is not None:
                    rep.fail("%s: should be absent, is present" % k)
                continue
            n_expected += 1
            if g is None:
                rep.fail("%s: missing from the result" % k)
            elif not same(g, exp):
                rep.fail("%s: differs from the side it should come from" % k)
            elif raw and raw.get(k) != canon_entry(exp):
                noncanon += 1
                if noncanon == 1:
                    rep.fail("%s: not written in canonical bytes: %.120s" % (k, raw.get(k)))
        else:
            n_join += 1
            n_expected += 1
            if exp["from"] == "ours":
                j_ours += 1
            else:
                j_theirs += 1
            if g is None:
                rep.fail("%s: missing from the result" % k)
                continue
            for p in compare_join(g, exp):
                rep.fail("%s: %s" % (k, p))
    extra = set(got) - all_keys
    for k in sorted(extra)[:MAX_SHOWN]:
        rep.fail("%s: in the result but in no input" % k)
    if len(got) != n_expected:
        rep.fail("result has %d entries, expected %d" % (len(got), n_expected))
    if noncanon > 1:
        rep.lines.append("  (%d entries not in canonical bytes)" % noncanon)
    rep.stats = {"keys": n_expected, "side": n_side, "join": n_join,
                 "join_ours": j_ours, "join_theirs": j_theirs}
    return rep


def write_expected(base, ours, theirs, out):
    """Write the result this checker expects (the checker's own self-test)."""
    O = index(read_entries(base)[0], "base")
    a_list, a_fmt, _ = read_entries(ours)
    A = index(a_list, "ours")
    B = index(read_entries(theirs)[0], "theirs")
    lines = []
    for k in sorted(set(O) | set(A) | set(B), key=lambda s: s.encode("utf-8")):
        kind, exp = expect(O.get(k), A.get(k), B.get(k))
        if kind == "join":
            e = dict(exp["winner"])
            e["observations"] = sorted(exp["visible"])
            m = dict(meta(e))
            m.pop("removed_observations", None)
            # Lists every observation the three-way step took out (the
            # check also accepts only those that were visible on a side).
            if exp["allowed_removed"]:
                m["removed_observations"] = sorted(exp["allowed_removed"], key=lambda s: s.encode("utf-8"))
            e["_crdt_metadata"] = m
            exp = e
        if exp is not None:
            lines.append(canon_entry(exp))
    with open(out, "w", encoding="utf-8", newline="") as f:
        if a_fmt == "array":
            f.write("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n")
        else:
            f.write("".join(ln + "\n" for ln in lines))


def main(argv):
    if len(argv) == 5 and argv[0] == "--expected":
        write_expected(*argv[1:])
        return 0
    if len(argv) != 4:
        sys.stderr.write("usage: check.py BASE OURS THEIRS RESULT\n"
                         "       check.py --expected BASE OURS THEIRS OUT\n")
        return 2
    rep = check_files(*argv)
    print(rep.summary())
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
