#!/usr/bin/env python3
"""wipereport: reads what tests/integration/wipeshim.so wrote and names the
code behind each hit.

The shim's report has "start" and "exit" lines per process and one "hit"
line per (freed block, canary); its journal (OTS_WIPE_JOURNAL) holds every
freed block, header and bytes.  A frame is OBJECT+0xADDR, a return address
in the object's own terms (load bias removed).  Symbolizer turns it into
function, file and line with addr2line (our programs carry debug
information, and so does libc when libc6-dbg is installed) and, in an object
without it (Debian's json-c and libfcgi are stripped), into the exported
symbol that holds the address, or "a static function after" the exported
one before it.

As a program, symbolizes a report (and a journal directory searched for
values given on the command line):

    python3 wipereport.py REPORT [--journal DIR --value V ...]
"""

import argparse
import bisect
import os
import re
import subprocess
import sys
from collections import Counter, namedtuple

Hit = namedtuple("Hit", "pid seq op canary size off count match length ra frames line")
Frame = namedtuple("Frame", "obj off")
Block = namedtuple("Block", "pid seq op size data frames")

_KV = re.compile(r"(\w+)=(\S*)")


def _frames(text):
    out = []
    for f in text.split(",") if text else []:
        obj, _, off = f.rpartition("+")
        try:
            out.append(Frame(obj, int(off, 16)))
        except ValueError:
            out.append(Frame(f, 0))
    return out


def parse_report(path):
    """(starts, exits, hits): starts and exits map pid to the line's fields
    (a dict of str), hits is a list of Hit."""
    starts, exits, hits = {}, {}, []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        if not line.startswith("wipeshim "):
            continue
        kind = line.split()[1]
        kv = dict(_KV.findall(line))
        if "pid" not in kv:
            continue
        pid = int(kv["pid"])
        if kind == "start":
            starts[pid] = kv
        elif kind == "exit":
            exits[pid] = kv
        elif kind == "hit":
            hits.append(Hit(pid, int(kv.get("seq", -1)), kv.get("op"), int(kv.get("canary", 0)), int(kv.get("size", 0)),
                            int(kv.get("off", 0)), int(kv.get("count", 0)), int(kv.get("match", 0)),
                            int(kv.get("len", 0)), kv.get("ra"), _frames(kv.get("frames", "")), line))
    return starts, exits, hits


def read_journal(path):
    """The Blocks of one journal file (DIR/journal.PID)."""
    with open(path, "rb") as f:
        raw = f.read()
    i = 0
    while i < len(raw):
        nl = raw.find(b"\n", i)
        if nl < 0:
            break
        head = raw[i:nl].decode("utf-8", "replace")
        kv = dict(_KV.findall(head))
        n = int(kv.get("data", 0))
        data = raw[nl + 1:nl + 1 + n]
        i = nl + 1 + n + 1
        yield Block(int(kv.get("pid", 0)), int(kv.get("seq", -1)), kv.get("op"), int(kv.get("size", 0)), data,
                    _frames(kv.get("frames", "")))


def journal_files(directory):
    if not directory or not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.startswith("journal."))


def runs(data, needle, min_match=16):
    """(count, first offset, longest) of the runs of needle in data that
    are whole or at least min_match bytes long: the shim's rule."""
    need = min(len(needle), min_match)
    k = need if len(needle) < min_match else min_match // 2
    pieces = [(o, needle[o:o + k]) for o in range(0, len(needle) - k + 1, k)]
    found = {}
    for o, piece in pieces:
        i = data.find(piece)
        while i >= 0:
            lo, hi = i, i + k
            while lo > 0 and lo - (i - o) > 0 and data[lo - 1] == needle[lo - 1 - (i - o)]:
                lo -= 1
            while hi < len(data) and hi - (i - o) < len(needle) and data[hi] == needle[hi - (i - o)]:
                hi += 1
            if hi - lo >= need:
                found[lo] = max(found.get(lo, 0), hi - lo)
            i = data.find(piece, i + 1)
    if not found:
        return 0, 0, 0
    return len(found), min(found), max(found.values())


def search_journal(directory, needles, min_match=16):
    """(hits, blocks, skipped): for each journaled block holding one of the
    needles ({label: bytes}), whole or in runs as the shim counts them, a
    Hit whose canary field is the label; the number of blocks read; the
    blocks too large to have been journaled (a list of Block, without
    data)."""
    hits, n, skipped = [], 0, []
    for path in journal_files(directory):
        for b in read_journal(path):
            n += 1
            if len(b.data) < b.size:
                skipped.append(b)
            for label, v in needles.items():
                count, first, best = runs(b.data, v, min_match)
                if count:
                    hits.append(Hit(b.pid, b.seq, b.op, label, b.size, first, count, best, len(v), None,
                                    b.frames, "journal %s" % os.path.basename(path)))
    return hits, n, skipped


class Symbolizer:
    """Frame -> list of "function (file:line)" strings, innermost first
    (several when addr2line reports inlining)."""

    def __init__(self):
        self._cache = {}
        self._dynsyms = {}
        self._symtab = {}
        self._fdes = {}

    def _has_symtab(self, obj):
        """Whether the object keeps its full symbol table (is not stripped):
        then addr2line's function names are right even without line
        information (crt1.o's _start)."""
        if obj not in self._symtab:
            try:
                out = subprocess.run(["readelf", "-SW", obj], capture_output=True, text=True,
                                     timeout=60).stdout
            except (OSError, subprocess.SubprocessError):
                out = ""
            self._symtab[obj] = " .symtab " in out
        return self._symtab[obj]

    def _syms(self, obj):
        """Sorted (address, size, name) of the object's defined dynamic symbols."""
        if obj not in self._dynsyms:
            syms = []
            try:
                out = subprocess.run(["nm", "-D", "--defined-only", "-S", obj], capture_output=True,
                                     text=True, timeout=60).stdout
            except (OSError, subprocess.SubprocessError):
                out = ""
            for line in out.splitlines():
                f = line.split()
                if len(f) == 4 and f[2] in "TtWi":
                    syms.append((int(f[0], 16), int(f[1], 16), f[3].split("@")[0]))
            syms.sort()
            self._dynsyms[obj] = syms
        return self._dynsyms[obj]

    def _functions(self, obj):
        """Sorted (start, end) of the object's functions, from its unwind
        tables (.eh_frame): present even in a stripped object."""
        if obj not in self._fdes:
            try:
                out = subprocess.run(["readelf", "--debug-dump=frames", obj], capture_output=True,
                                     text=True, timeout=60).stdout
            except (OSError, subprocess.SubprocessError):
                out = ""
            self._fdes[obj] = sorted((int(a, 16), int(b, 16)) for a, b in
                                     re.findall(r" FDE .*pc=([0-9a-f]+)\.\.([0-9a-f]+)", out))
        return self._fdes[obj]

    def _nearest(self, obj, addr):
        """The exported function holding addr (name+0xoffset), else the
        static function holding it, by its start and the exported one before
        it: "static function at 0x... (after name)"."""
        syms = self._syms(obj)
        i = bisect.bisect_right(syms, (addr, float("inf"), "")) - 1
        if i >= 0 and addr < syms[i][0] + syms[i][1]:
            return "%s+0x%x" % (syms[i][2], addr - syms[i][0])
        fdes = self._functions(obj)
        k = bisect.bisect_right(fdes, (addr, float("inf"))) - 1
        start = fdes[k][0] if k >= 0 and addr < fdes[k][1] else None
        if start is None and i < 0:
            return None
        return "static function%s%s" % (" at 0x%x" % start if start is not None else "",
                                       " (after %s)" % syms[i][2] if i >= 0 else "")

    def prefetch(self, frames):
        """Symbolize many frames with one addr2line run per object."""
        todo = {}
        for fr in frames:
            if (fr.obj, fr.off) not in self._cache and fr.obj.startswith("/"):
                todo.setdefault(fr.obj, set()).add(fr.off)
        for obj, offs in todo.items():
            offs = sorted(offs)
            # a return address: the call is the instruction before it
            addrs = ["0x%x" % (o - 1) for o in offs]
            res = {}
            try:
                out = subprocess.run(["addr2line", "-a", "-f", "-i", "-C", "-e", obj] + addrs,
                                     capture_output=True, text=True, timeout=120).stdout
            except (OSError, subprocess.SubprocessError):
                out = ""
            cur, lines = None, []
            for line in out.splitlines() + ["0x0"]:
                if re.match(r"^0x[0-9a-f]+$", line):
                    if cur is not None:
                        res[cur] = lines
                    cur, lines = int(line, 16), []
                else:
                    lines.append(line)
            for o in offs:
                lines = res.get(o - 1, [])
                named = []
                for k in range(0, len(lines) - 1, 2):
                    fn, where = lines[k], re.sub(r" \(discriminator \d+\)", "", lines[k + 1])
                    # without a symbol table addr2line names the exported
                    # symbol before the address, even when a static function
                    # holds it: such names are not taken
                    if fn == "??":
                        continue
                    if not where.startswith("??"):
                        named.append("%s (%s)" % (fn, _short(where)))
                    elif self._has_symtab(obj):
                        named.append(fn)
                if not named:
                    near = self._nearest(obj, o - 1)
                    named = [near] if near else ["??"]
                self._cache[(obj, o)] = named
        return self

    def frame(self, fr):
        if (fr.obj, fr.off) not in self._cache:
            self.prefetch([fr])
        return self._cache.get((fr.obj, fr.off)) or ["??"]

    def describe(self, fr):
        """One line: "function (file:line) < inlined-by ... [object+0xoff]"."""
        return "%s  [%s+0x%x]" % (" < ".join(self.frame(fr)), os.path.basename(fr.obj), fr.off)


def _short(where):
    """A source path shortened to what follows the last src/, cgi-bin/ or tests/."""
    m = re.search(r"(?:^|/)((?:src|cgi-bin|tests)/[^/].*)$", where)
    return m.group(1) if m else where


def is_ots(obj):
    """Whether a frame's object is one of ours (a program of this tree)."""
    return os.path.basename(obj) in ("ots", "ots-admin", "ots-sweep")


def chain(sym, hit, depth=8, objects=True):
    """A hit's stack cut short: from the caller of free up to the first
    frame of our own program, each as "function [object]" (or the function
    alone)."""
    out = []
    for fr in hit.frames[:depth]:
        name = sym.frame(fr)[0]
        out.append("%s [%s]" % (name, os.path.basename(fr.obj)) if objects else name)
        if is_ots(fr.obj):
            break
    return " <- ".join(out)


def blocks(hits):
    """The hits grouped by freed block: {(pid, seq): [Hit, ...]}."""
    out = {}
    for h in hits:
        out.setdefault((h.pid, h.seq), []).append(h)
    return out


def summarize(sym, hits):
    """Lines: each distinct chain with the number of blocks it freed."""
    sym.prefetch([fr for h in hits for fr in h.frames])
    c = Counter(chain(sym, hs[0]) for hs in blocks(hits).values())
    return ["%3d x %s" % (n, ch) for ch, n in c.most_common()]


def full(sym, hit):
    """A hit with its whole symbolized stack."""
    part = "" if hit.match >= hit.length else ", %d of its %d bytes" % (hit.match, hit.length)
    out = ["pid %d %s of a %d-byte block: canary %s at offset %d (%d times%s)"
           % (hit.pid, hit.op, hit.size, hit.canary, hit.off, hit.count, part)]
    for i, fr in enumerate(hit.frames):
        out.append("  #%-2d %s" % (i, sym.describe(fr)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("--journal", help="the shim's journal directory")
    ap.add_argument("--value", action="append", default=[], help="a value to search the journal for")
    a = ap.parse_args()
    sym = Symbolizer()
    starts, exits, hits = parse_report(a.report)
    print("%d processes started, %d exited, %d blocks hit" % (len(starts), len(exits), len(blocks(hits))))
    if a.journal and a.value:
        jh, n, _ = search_journal(a.journal, {v: v.encode() for v in a.value})
        print("journal: %d blocks, %d holding a value" % (n, len(jh)))
        hits += jh
    for line in summarize(sym, hits):
        print(line)
    for hs in blocks(hits).values():
        print("\n".join(full(sym, hs[0])))
        for h in hs[1:]:
            print("  and canary %s at offset %d (%d times)" % (h.canary, h.off, h.count))


if __name__ == "__main__":
    sys.exit(main())
