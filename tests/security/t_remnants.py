#!/usr/bin/env python3
"""Promise 3, gone means gone (security table row 3), and the canary half
of promises 2 and 4: secrets of many sizes (1 byte to 10 kB, so blobs span
overflow pages), with and without passphrases, are revealed, burned (by
their creator, or by 20 wrong passphrases) or left to expire; an ots-sweep
run (with the workers' fake clock) follows.  The stored ciphertext of every
one of them -- read from the secret table right after its create, and
searched whole and as 32-byte slices from five places in it -- is then in
neither the database, its -wal nor its -shm file, while the blobs of live
controls still are.  No value, passphrase or key appears in the database
files or any log at any point.  (tests/integration/t_sweep.py checks the
sweep's counts and a few blobs; this is the volume version.)

On PostgreSQL, whose dead row versions and WAL outlive a DELETE until
vacuum and WAL recycling, promise 3 is that no stored byte opens a gone
secret (security.md): there the rows of the gone secrets must be gone from
the secret table and their ciphertext from the database's content (pg_dump
--data-only), while the live controls are still in both; what the secret
table's files still hold is reported, not asserted.  The canaries (values,
passphrases, keys) are searched in the database's relation files and the
cluster's WAL, byte for byte, as on SQLite."""

import collections
import os
import random
import sqlite3
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from otstest import (Server, canary, count_bytes, diag, grep_files, is_, ok, parallel,  # noqa: E402
                     parse_sweep, passphrase, run, skip)

PER_KIND = 20
PER_KIND_GUESSED = 6     # "burned by 20 wrong passphrases": 20 scrypt checks each
ROUNDS = 1
LOCK = 30 * 60
CHURN = 1500            # per round: cheap secrets created, then revealed in a shuffle
CHURN_KEEP = 400
KINDS = ["revealed", "revealed+passphrase", "burned", "burned+passphrase", "burned by 20 wrong passphrases",
         "expired", "expired+passphrase", "churned (revealed)", "live (control)", "live (churn control)"]
SIZES = [1, 30, 255, 256, 257, 1000, 4000, 4097, 9000, 10000]


def needles(blob):
    """The whole blob and 32-byte slices from its start, quarters and end
    (the quick search, for the report)."""
    n = len(blob)
    out = [blob]
    for off in (0, n // 4, n // 2, 3 * n // 4, max(0, n - 32)):
        out.append(blob[off:off + 32])
    return list(dict.fromkeys(out))


SLICE = 32


class Index:
    """Every 32-byte-aligned 32-byte slice of the stored blobs, by kind: any
    copy of 63 or more contiguous bytes of a blob contains one, wherever it
    lies in a file."""

    def __init__(self, cases):
        self.kind = {}
        for k, cs in cases.items():
            for c in cs:
                b = c["blob"]
                for i in range(0, len(b) - SLICE + 1, SLICE):
                    self.kind[b[i:i + SLICE]] = k

    def scan(self, paths):
        """{kind: slices found} over the files, and {file: hits}."""
        by_kind, by_file = collections.Counter(), collections.Counter()
        get = self.kind.get
        for p in paths:
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for i in range(len(data) - SLICE + 1):
                k = get(data[i:i + SLICE])
                if k is not None:
                    by_kind[k] += 1
                    by_file[os.path.basename(p)] += 1
        return by_kind, by_file


def free_space(db, table="secret"):
    """The non-zero runs of bytes in the free space (the unallocated gap
    and the freeblocks) of table's b-tree pages -- what SQLite left behind
    when it moved or deleted cells -- and the number of pages."""
    con = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(db), uri=True, timeout=30)
    try:
        pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype IN "
                                           "('leaf', 'internal')", (table,))]
    except sqlite3.Error:
        return None, 0
    finally:
        con.close()
    with open(db, "rb") as f:
        data = f.read()
    psize = int.from_bytes(data[16:18], "big")
    psize = 65536 if psize == 1 else psize
    runs = []
    for pno in pages:
        page = data[(pno - 1) * psize:pno * psize]
        h = 100 if pno == 1 else 0
        hdr = 8 if page[h] in (10, 13) else 12
        ncell = int.from_bytes(page[h + 3:h + 5], "big")
        content = int.from_bytes(page[h + 5:h + 7], "big") or 65536
        regions = [(h + hdr + 2 * ncell, content)]
        fb = int.from_bytes(page[h + 1:h + 3], "big")
        while fb:
            size = int.from_bytes(page[fb + 2:fb + 4], "big")
            regions.append((fb + 4, fb + size))
            fb = int.from_bytes(page[fb:fb + 2], "big")
        for a, b in regions:
            for run_ in page[a:b].split(b"\0"):
                if run_:
                    runs.append(run_)
    return runs, len(pages)


def classify(runs, cases, n=12):
    """Bytes of the runs that belong to gone or live blobs (by n-byte
    windows at every offset), and the rest."""
    gone, live = set(), set()
    for k, cs in cases.items():
        dst = live if k.startswith("live") else gone
        for c in cs:
            b = c["blob"]
            dst.update(b[i:i + n] for i in range(len(b) - n + 1))
    out = collections.Counter()
    for r in runs:
        wins = [r[i:i + n] for i in range(len(r) - n + 1)]
        if any(w in gone for w in wins):
            out["gone ciphertext"] += len(r)
        elif any(w in live for w in wins):
            out["live ciphertext"] += len(r)
        else:
            out["other"] += len(r)
    return out


def page_of(path, off):
    """Where a byte of the database file lies: page number, page kind, and
    the region of the page (header, a live cell, a freeblock, the
    unallocated gap), for the report on a remnant."""
    with open(path, "rb") as f:
        data = f.read()
    psize = int.from_bytes(data[16:18], "big")
    psize = 65536 if psize == 1 else psize
    pno = off // psize + 1
    base = (pno - 1) * psize
    page = data[base:base + psize]
    h = 100 if pno == 1 else 0
    kind = {2: "index interior", 5: "table interior", 10: "index leaf", 13: "table leaf"}.get(page[h])
    if kind is None:
        return "page %d (not a b-tree page: overflow or freelist), offset %d" % (pno, off - base)
    hdr = 8 if page[h] in (10, 13) else 12
    ncell = int.from_bytes(page[h + 3:h + 5], "big")
    content = int.from_bytes(page[h + 5:h + 7], "big") or 65536
    ptr_end = h + hdr + 2 * ncell
    rel = off - base
    free = []
    fb = int.from_bytes(page[h + 1:h + 3], "big")
    while fb:
        size = int.from_bytes(page[fb + 2:fb + 4], "big")
        free.append((fb, fb + size))
        fb = int.from_bytes(page[fb:fb + 2], "big")
    if ptr_end <= rel < content:
        region = "the unallocated gap between the cell pointers (end %d) and the cell content (start %d)" % (
            ptr_end, content)
    elif any(a <= rel < b for a, b in free):
        region = "a freeblock"
    elif rel < ptr_end:
        region = "the page header or cell pointer array"
    else:
        region = "the cell content area (a live cell, or fragment)"
    return "page %d (%s, %d cells), offset %d: %s" % (pno, kind, ncell, rel, region)


def locate(files, blob):
    """Where the slices of blob are found: a list of descriptions."""
    out = []
    for p in files:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for i, n in enumerate(needles(blob)):
            at = data.find(n)
            while at != -1:
                where = page_of(p, at) if p.endswith(".db") else "offset %d" % at
                out.append("%s: needle %d (%d bytes) at %s" % (os.path.basename(p), i, len(n), where))
                at = data.find(n, at + 1)
    return out


def new_blob(s, seen):
    """The id and stored blob of the one secret row not in seen (which
    grows): the ids first, then that row (the table holds hundreds of
    blobs; each create reads one)."""
    ids = [bytes(r[0]) for r in s.sql("SELECT id FROM secret")]
    new = [i for i in ids if i not in seen]
    seen.update(ids)
    if len(new) != 1:
        raise AssertionError("expected one new secret row after a create, found %d" % len(new))
    return new[0], bytes(s.sql("SELECT sealed FROM secret WHERE id = ?", (new[0],))[0][0])


def in_content(s, blobs):
    """PostgreSQL: which of the blobs the database's content holds, whole
    or by any of their slices (needles), in pg_dump's hex."""
    dump = s.cluster.dump(data_only=True)
    return [any(n.hex().encode() in dump for n in needles(b)) for b in blobs]


def table_files(s, table="secret"):
    """PostgreSQL: the files of table and its TOAST table (after a
    checkpoint), where its dead row versions lie."""
    s.cluster.psql("CHECKPOINT;", db="postgres")
    rels = [r[0] for r in s.cluster.psql(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = '%s'::regclass "
        "OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = '%s'::regclass);" % (table, table))
        if r[0]]
    out = []
    for rel in rels:
        base = os.path.join(s.cluster.data, rel)
        out += sorted(p for p in [base] + [base + "." + str(i) for i in range(1, 64)] if os.path.exists(p))
    return out


def report_remnants(cases, files):
    for k, cs in cases.items():
        for c in cs:
            if not k.startswith("live") and sum(count_bytes(files, needles(c["blob"])).values()):
                diag("remnant of a %s secret (blob of %d bytes, ttl %s):" % (k, len(c["blob"]), c["m"]["ttl"]))
                for w in locate(files, c["blob"]):
                    diag("  " + w)


def main():
    t0 = time.monotonic()

    def lap(what):
        diag("%6.1f s  %s" % (time.monotonic() - t0, what))

    # the guessing threads are clients of their own (X-Forwarded-For), with
    # room for each at once: one client gets one passphrase hash at a time
    s = Server(max_procs=4, conf={"trusted_proxies": "127.0.0.1", "scrypt_max": "8"})
    token = s.add_customer("alice@example.com", "basic")
    rng = random.Random()
    seen = set()
    cases = collections.defaultdict(list)   # kind -> [dict(m, value, pass_, blob)]
    canaries = []
    pg = s.cluster is not None
    files = None if pg else s.db_files()

    def canary_check(when):
        stored = s.db_files()
        paths = stored + s.log_files()
        hits = grep_files(paths, canaries)
        found = {os.path.basename(p): len(h) for p, h in hits.items() if h}
        names = [os.path.basename(p) for p in paths if os.path.exists(p) and (not pg or p not in stored)]
        if pg:
            names.insert(0, "the database's relation files and WAL (%d files)" % len(stored))
        ok(not found, "%s: 0 of %d values, passphrases and keys in %s" % (when, len(canaries), ", ".join(names)),
           "files with hits: %s" % found)

    for rnd in range(1, ROUNDS + 1):
        # -- create: each blob read from the table right after its create
        new_cases = collections.defaultdict(list)
        plan = [k for k in KINDS if "churn" not in k
                for _ in range(PER_KIND_GUESSED if k.startswith("burned by") else PER_KIND)]
        rng.shuffle(plan)
        for i, kind in enumerate(plan):
            size = rng.choice(SIZES)
            v = (canary("v") * (size // 26 + 1))[:max(size, 26)]
            p = passphrase() if "passphrase" in kind else None
            params = {"passphrase": p} if p else {}
            if kind.startswith("expired"):
                params["ttl"] = "60"
            m = s.create(v, auth=("alice@example.com", token) if i % 3 == 0 else None, **params)
            rid, blob = new_blob(s, seen)
            new_cases[kind].append(dict(m=m, value=v, pass_=p, blob=blob, id=rid))
            canaries += [v, m["secret_key"], m["metadata_key"]] + ([p] if p else [])
        sizes = [len(c["blob"]) for cs in new_cases.values() for c in cs]
        diag("round %d: %d secrets (%s); stored blobs %d..%d bytes"
             % (rnd, len(plan), dict(collections.Counter(plan)), min(sizes), max(sizes)))
        lap("creates")
        canary_check("round %d, after the creates" % rnd)
        if pg:
            flat = [(k, c) for k, cs in new_cases.items() for c in cs]
            missing = [k for (k, c), there in zip(flat, in_content(s, [c["blob"] for _, c in flat])) if not there]
        else:
            missing = [k for k, cs in new_cases.items() for c in cs
                       if not sum(count_bytes(files, needles(c["blob"])).values())]
        ok(not missing, "round %d: before anything happens the search finds every one of the %d stored blobs"
           % (rnd, len(plan)), "not found: %s" % collections.Counter(missing))

        # -- reveal, burn, fail passphrases, expire
        acted = collections.Counter()
        for c in new_cases["revealed"] + new_cases["revealed+passphrase"]:
            r = s.reveal(c["m"]["secret_key"], **({"passphrase": c["pass_"]} if c["pass_"] else {}))
            acted["revealed"] += (r.json or {}).get("value") == c["value"]
        for c in new_cases["burned"] + new_cases["burned+passphrase"]:
            r = s.burn(c["m"]["metadata_key"], **({"passphrase": c["pass_"]} if c["pass_"] else {}))
            acted["burned"] += r.status == 200
        is_(dict(acted), {"revealed": 2 * PER_KIND, "burned": 2 * PER_KIND},
            "round %d: reveals and burns answered 200" % rnd)
        lap("reveals and burns")
        guessed = new_cases["burned by 20 wrong passphrases"]
        for window in range(4):   # 5 wrong passphrases per lock window: burned at the 20th
            parallel(len(guessed), lambda i: [s.request("POST", "secret/" + guessed[i]["m"]["secret_key"],
                                                        body={"passphrase": canary()},
                                                        headers={"X-Forwarded-For": "198.51.100.%d" % i})
                                              for _ in range(5)])
            s.advance(LOCK + 5)   # also takes the ttl-60 secrets past their expiry
        lap("wrong passphrases")
        states = collections.Counter((s.metadata(c["m"]["metadata_key"]).json or {}).get("state")
                                     for c in guessed)
        is_(dict(states), {"burned": len(guessed)}, "round %d: 20 wrong passphrases burned each of them" % rnd)
        expired = new_cases["expired"] + new_cases["expired+passphrase"]
        answers = [s.reveal(c["m"]["secret_key"], **({"passphrase": c["pass_"]} if c["pass_"] else {}))
                   for c in expired]
        unknown = sum(r.intended == 404 and (r.json or {}).get("message") == "Unknown secret" for r in answers)
        is_(unknown, len(expired), "round %d: expired, sweeper not yet run: every reveal answers Unknown secret"
            % rnd)

        # -- churn: mixed sizes created and revealed in a shuffle, so that
        # SQLite moves cells between and within pages (the table grows to
        # a few hundred rows; CHURN_KEEP of them stay as live controls)
        live = []
        for i in range(CHURN):
            size = rng.choice(SIZES)
            v = (canary("c") * (size // 26 + 1))[:max(size, 26)]
            m = s.create(v)
            rid, blob = new_blob(s, seen)
            live.append(dict(m=m, value=v, pass_=None, blob=blob, id=rid))
            canaries.append(v)
            if len(live) > CHURN_KEEP and rng.random() < 0.7:
                c = live.pop(rng.randrange(len(live)))
                r = s.reveal(c["m"]["secret_key"])
                acted["churn revealed"] += (r.json or {}).get("value") == c["value"]
                new_cases["churned (revealed)"].append(c)
        for c in live[CHURN_KEEP:]:
            r = s.reveal(c["m"]["secret_key"])
            acted["churn revealed"] += (r.json or {}).get("value") == c["value"]
            new_cases["churned (revealed)"].append(c)
        new_cases["live (churn control)"] = live[:CHURN_KEEP]
        is_(acted["churn revealed"], CHURN - CHURN_KEEP, "round %d: %d churn secrets created, %d of them revealed"
            % (rnd, CHURN, CHURN - CHURN_KEEP))
        lap("churn")
        for k, cs in new_cases.items():
            cases[k] += cs
        canary_check("round %d, before the sweep" % rnd)

        # -- sweep, with the workers' clock
        rc, out, err = s.sweep()
        ok(rc == 0 and parse_sweep(out) is not None, "round %d: ots-sweep ran: %s" % (rnd, out.strip()),
           [out, err])
        lap("sweep")

    # -- the search, over everything both rounds stored
    if pg:
        pg_gone(s, cases, lap)
    else:
        index = Index(cases)
        by_kind, by_file = index.scan(files)
        lap("search (%d slices of %d bytes)" % (len(index.kind), SLICE))
        diag("slices found after the last sweep, by kind: %s; by file: %s" % (dict(by_kind), dict(by_file)))
        diag("file sizes: %s" % {os.path.basename(p): os.path.getsize(p) for p in files if os.path.exists(p)})
        runs, npages = free_space(s.database_file)
        if runs is not None:
            fs = classify(runs, cases)
            diag("secret table: %d b-tree pages; non-zero bytes in their free space: %s" % (npages, dict(fs)))
            is_(fs["gone ciphertext"], 0, "the free space of the secret table's pages holds 0 bytes of gone "
                "ciphertext (12-byte windows)")
        else:
            ok(False, "SQLite's dbstat table is available to read the pages' free space")
        for k in KINDS:
            n = len(cases[k])
            if k.startswith("live"):
                ok(by_kind[k] > 0, "%s: their blobs are still found (the search works)" % k)
            else:
                is_(by_kind[k], 0, "%s: 0 slices of the ciphertext of %d secrets in db, -wal, -shm" % (k, n))
    canary_check("after the last sweep")
    if not pg:
        report_remnants(cases, files)

    controls = cases["live (control)"] + cases["live (churn control)"]
    got = sum((s.reveal(c["m"]["secret_key"]).json or {}).get("value") == c["value"] for c in controls)
    is_(got, len(controls), "the %d live controls still reveal their values" % len(controls))
    s.stop()
    canary_check("after shutdown")
    if pg:
        skip("after shutdown still 0 slices of gone ciphertext in the files",
             "PostgreSQL: the database server's files (checked by content above)")
        return
    left, _ = index.scan(files)
    ok(all(left[k] == 0 for k in KINDS if not k.startswith("live")), "after shutdown still 0 slices of gone ciphertext",
       repr(dict(left)))


def pg_gone(s, cases, lap):
    """PostgreSQL's form of promise 3: the rows of the gone secrets are out
    of the secret table and their ciphertext out of the database's content;
    the live controls are in both.  Dead row versions in the table's files
    are reported (vacuum reclaims their space, it does not wipe it)."""
    stored = set(bytes(r[0]) for r in s.sql("SELECT id FROM secret"))
    for k in KINDS:
        cs = cases[k]
        live = k.startswith("live")
        rows = sum(c["id"] in stored for c in cs)
        is_(rows, len(cs) if live else 0, "%s: %s of the %d rows in the secret table"
            % (k, "every one" if live else "none", len(cs)))
        there = sum(in_content(s, [c["blob"] for c in cs]))
        if live:
            ok(there == len(cs), "%s: their blobs are in the database's content (the search works)" % k,
               "%d of %d" % (there, len(cs)))
        else:
            is_(there, 0, "%s: 0 of the %d ciphertexts in the database's content (pg_dump)" % (k, len(cs)))
    lap("rows and content")
    paths = table_files(s)
    by_kind, _ = Index(cases).scan(paths)
    diag("dead row versions: slices of ciphertext still in the secret table's files (%s, %d bytes) after "
         "the sweep, by kind: %s" % (", ".join(os.path.relpath(p, s.cluster.data) for p in paths),
                                     sum(os.path.getsize(p) for p in paths), dict(by_kind)))
    skip("0 slices of gone ciphertext in the database's files",
         "PostgreSQL keeps dead row versions and WAL past a DELETE; no stored byte opens a gone secret "
         "(security.md promise 3)")
    skip("the free space of the secret table's pages holds no gone ciphertext", "PostgreSQL: SQLite's page format")


if __name__ == "__main__":
    run(main)
