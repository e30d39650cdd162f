#!/usr/bin/env python3
"""ots-sweep: what it removes and marks (with the counts it prints), that
ciphertext leaves the database and its WAL (on PostgreSQL: the database's
content), one sweep at a time, sweeping beside live traffic, and its exit
status."""

import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, count_bytes, diag, is_, is_meta, is_unknown, ok, parallel,  # noqa: E402
                     parse_sweep, passphrase, run, skip)

MANY = 4000      # expired secrets for the two-sweeps race
LIVE_SECONDS = 5
CLIENTS = 8
ZERO = dict(secrets=0, receipts=0, expired=0, notices=0, mail_removed=0)


def swept(s, want, desc):
    """Run a sweep; its counts must be want (fields not given: 0)."""
    rc, out, err = s.sweep()
    got = parse_sweep(out)
    counts = {k: v for k, v in (got or {}).items() if k != "seconds"}
    ok(rc == 0 and not err and counts == dict(ZERO, **want), desc,
       ["rc %d" % rc, "stdout %r" % out, "stderr %r" % err, "expected %s" % dict(ZERO, **want)])
    diag("%s: %s" % (desc, out.strip()))
    return got


def value_of(r):
    return (r.json or {}).get("value") if r.status == 200 else None


def counts_and_states(s):
    vals = {k: canary() for k in "ABCDEFG"}
    pp = passphrase()
    m = {}
    for k in "ABCD":
        m[k] = s.create(vals[k], ttl="60", **({"passphrase": pp} if k == "D" else {}))
    for k in "EFG":
        m[k] = s.create(vals[k], ttl="3600")
    is_(value_of(s.reveal(m["A"]["secret_key"])), vals["A"], "A (ttl 60) revealed in time")
    ok(s.burn(m["B"]["metadata_key"]).status == 200, "B (ttl 60) burned")
    is_(value_of(s.reveal(m["F"]["secret_key"])), vals["F"], "F (ttl 3600) revealed")
    ok(s.burn(m["G"]["metadata_key"]).status == 200, "G (ttl 3600) burned")
    swept(s, {}, "sweep at once: nothing to do")

    s.advance(61)
    is_unknown(s.reveal(m["C"]["secret_key"]), m["C"]["secret_key"], "61 s, before any sweep: C is Unknown secret")
    is_unknown(s.reveal(m["D"]["secret_key"], passphrase=pp), m["D"]["secret_key"],
               "61 s, before any sweep: D (passphrase) is Unknown secret")
    swept(s, dict(secrets=2, expired=2), "sweep at 61 s: 2 secrets removed, 2 receipts expired")
    for k in "CD":
        is_meta(s.metadata(m[k]["metadata_key"]), "expired", "%s metadata: expired, secret_key \"\", "
                "secret_ttl null" % k, ttl=60)
    is_meta(s.metadata(m["A"]["metadata_key"]), "received", "A metadata still received")
    is_meta(s.metadata(m["B"]["metadata_key"]), "burned", "B metadata still burned")
    swept(s, {}, "a second sweep at 61 s: nothing to do")

    s.advance(60)
    swept(s, dict(receipts=4), "sweep at 121 s (> 2 x 60): the 4 ttl-60 receipts removed")
    for k in "ABCD":
        is_unknown(s.metadata(m[k]["metadata_key"]), m[k]["metadata_key"], "%s metadata is Unknown secret" % k)
    is_meta(s.metadata(m["F"]["metadata_key"]), "received", "F metadata (ttl 3600) still there")
    is_meta(s.metadata(m["G"]["metadata_key"]), "burned", "G metadata (ttl 3600) still there")
    is_(value_of(s.reveal(m["E"]["secret_key"])), vals["E"], "E (ttl 3600) still reveals")
    is_unknown(s.reveal(m["E"]["secret_key"]), m["E"]["secret_key"], "E reveals only once")


def remnants(s):
    """The stored ciphertext of revealed, burned and expired secrets is gone
    from the db, -wal and -shm after a sweep; a live one is still found.
    On PostgreSQL their rows are gone and the ciphertext is out of the
    database's content (pg_dump); its files and WAL keep dead row versions
    until vacuum and WAL recycling (security.md promise 3: there no stored
    byte opens a gone secret), counted here for the report only."""
    def blob(**kw):
        before = set(r[0] for r in s.sql("SELECT id FROM secret"))
        v = canary()
        m = s.create(v, **kw)
        new = [r for r in s.sql("SELECT id, sealed FROM secret") if r[0] not in before]
        if len(new) != 1:
            raise AssertionError("expected one new secret row, found %d" % len(new))
        return m, v, bytes(new[0][1]), bytes(new[0][0])

    def in_files(n):
        return count_bytes(s.db_files(), n)

    def in_dump(n):
        dump = s.cluster.dump(data_only=True)
        return {"pg_dump": sum(dump.count(x.hex().encode()) for x in n)}
    search, where = (in_dump, "the database's content (pg_dump)") if s.cluster else (in_files, "db, -wal, -shm")
    pp = passphrase()
    cases = {"revealed": blob(), "revealed with passphrase": blob(passphrase=pp), "burned": blob(),
             "expired": blob(ttl="60"), "live (control)": blob(ttl="3600")}
    needles = {k: [b, b[len(b) // 2 - 16:len(b) // 2 + 16]] for k, (_, _, b, _) in cases.items()}
    before = {k: sum(search(n[:1]).values()) for k, n in needles.items()}
    ok(all(before.values()), "every stored blob is found by the search before (hits %s)" % before)
    diag("blob sizes: %s" % {k: len(b) for k, (_, _, b, _) in cases.items()})
    is_(value_of(s.reveal(cases["revealed"][0]["secret_key"])), cases["revealed"][1], "reveal")
    is_(value_of(s.reveal(cases["revealed with passphrase"][0]["secret_key"], passphrase=pp)),
        cases["revealed with passphrase"][1], "reveal with the passphrase")
    ok(s.burn(cases["burned"][0]["metadata_key"]).status == 200, "burn")
    s.advance(61)
    swept(s, dict(secrets=1, expired=1), "sweep at 61 s: the expired secret removed")
    if s.cluster:
        skip("the -wal file is empty after the sweep", "PostgreSQL: SQLite's write-ahead log")
    else:
        wal = s.database_file + "-wal"
        is_(os.path.getsize(wal) if os.path.exists(wal) else 0, 0, "the -wal file is empty after the sweep")
    for k, n in needles.items():
        rows = s.sql("SELECT count(*) FROM secret WHERE id = ?", (cases[k][3],))[0][0]
        is_(rows, 1 if k == "live (control)" else 0, "%s: %s row in the secret table"
            % (k, "its" if k == "live (control)" else "no"))
        hits = search(n)
        diag("%s: hits of blob + 32-byte slice: %s" % (k, {os.path.basename(p): c for p, c in hits.items()}))
        if s.cluster:
            diag("%s: copies left in the relation files and WAL (dead row versions): %d"
                 % (k, sum(in_files(n).values())))
        if k == "live (control)":
            ok(sum(hits.values()) > 0, "the live secret's blob is still in the database")
        else:
            is_(sum(hits.values()), 0, "%s: 0 hits of its ciphertext in %s" % (k, where))
    is_(value_of(s.reveal(cases["live (control)"][0]["secret_key"])), cases["live (control)"][1],
        "the live secret still reveals")


def two_sweeps(s):
    t = time.monotonic()
    rs = parallel(16, lambda i: sum(s.share(secret="x" * 100, ttl="60").status == 200
                                    for _ in range(MANY // 16)))
    n = sum(x for x in rs if isinstance(x, int))
    is_(n, MANY // 16 * 16, "%d ttl-60 secrets created" % n)
    diag("%d creates in %.1f s" % (n, time.monotonic() - t))
    s.advance(121)
    procs = [s.sweep(wait=False) for _ in range(2)]
    res = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    busy = [r for r in res if "another sweep is running" in r[0]]
    summ = [parse_sweep(r[0]) for r in res]
    ok(all(r[2] == 0 and not r[1] for r in res), "two sweeps at once: both exit 0, no stderr",
       [repr(r) for r in res])
    ok(len(busy) + sum(x is not None for x in summ) == 2, "each prints a summary or 'another sweep is running'",
       [repr(r[0]) for r in res])
    tot = {k: sum(x[k] for x in summ if x) for k in ("secrets", "receipts", "expired")}
    is_(tot, dict(secrets=n, receipts=n, expired=n), "together they removed and expired each row once")
    working = [x for x in summ if x and x["secrets"]]
    is_(len(working), 1, "exactly one did the work")
    diag("outcome: %s; %s" % ("one refused (another sweep is running)" if busy else "serialised",
                              [r[0].strip() for r in res]))
    swept(s, {}, "a third sweep finds nothing")


def live_traffic(s):
    stop = time.monotonic() + LIVE_SECONDS
    done = threading.Event()
    lock = threading.Lock()
    kept, errors, stats = [], [], {"created": 0, "revealed": 0, "chaff": 0}

    def check(r, what):
        if r.status >= 500 or (r.intended or 0) >= 500:
            errors.append("%s: %d/%s %r" % (what, r.status, r.intended, r.body[:100]))

    def client(i):
        mine = []
        try:
            traffic(mine)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("client %d: %r" % (i, e))
        with lock:
            kept.extend(mine)

    def traffic(mine):
        while not done.is_set():
            v = canary()
            r = s.share(secret=v, ttl="3600")
            check(r, "create")
            if r.status == 200:
                mine.append((r.json["secret_key"], v))
            check(s.share(secret="chaff", ttl="60"), "create chaff")
            if len(mine) > 2:
                key, v = mine.pop(0)
                r = s.reveal(key)
                check(r, "reveal")
                if value_of(r) != v:
                    errors.append("live reveal: %d %r" % (r.status, r.body[:100]))
                with lock:
                    stats["revealed"] += 1
            with lock:
                stats["created"] += 1
                stats["chaff"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    sweeps, bad, removed, advances = 0, [], 0, 0
    t0 = time.monotonic()
    try:
        # at least 3 sweeps, however slow (under valgrind), all beside traffic
        while time.monotonic() < stop or sweeps < 3:
            rc, out, err = s.sweep()
            sweeps += 1
            got = parse_sweep(out)
            if rc != 0 or err or got is None:
                bad.append((rc, out, err))
            else:
                removed += got["secrets"]
            # 20 steps of 61 s spread over the run: the ttl-3600 secrets stay alive
            if advances < 20 and time.monotonic() - t0 >= advances * LIVE_SECONDS / 20:
                s.advance(61)
                advances += 1
    finally:
        done.set()
        for th in threads:
            th.join()
    left = [(k, v, value_of(s.reveal(k))) for k, v in kept]
    wrong = [x for x in left if x[1] != x[2]]
    again = [k for k, _ in kept if s.reveal(k).status == 200]
    diag("%d sweeps (%d expired secrets removed, clock +%d s) beside %d creates, %d chaff, %d live reveals"
         % (sweeps, removed, advances * 61, stats["created"], stats["chaff"], stats["revealed"]))
    is_(errors, [], "live traffic: no 5xx, every live reveal right")
    ok(not bad, "every sweep beside the traffic succeeded", ["%d of %d sweeps failed" % (len(bad), sweeps)]
       + [repr(x) for x in bad[:5]])
    ok(sweeps >= 3 and removed > 0, "the sweeps ran (%d) and removed expired secrets (%d)" % (sweeps, removed))
    is_(wrong, [], "the other %d secrets created during the run reveal their own value" % len(left))
    is_(again, [], "and only once")


def exit_status(s):
    broken = os.path.join(s.tmp, "broken.conf")
    with open(broken, "w") as f:
        f.write("database = %s\nthis line is not a setting\n" % s.database)
    rc, out, err = s.sweep(conf=broken)
    ok(rc != 0 and err.strip(), "a broken config: non-zero exit (%d) with a message" % rc, [out, err])
    diag("broken config: %s" % err.strip())
    rc, out, err = s.sweep(conf=os.path.join(s.tmp, "absent.conf"))
    ok(rc != 0 and err.strip(), "a missing config: non-zero exit (%d) with a message" % rc, [out, err])
    rc, out, err = s.sweep("-x")
    ok(rc != 0 and err.strip(), "an unknown option: non-zero exit (%d) with usage" % rc, [out, err])
    rc, out, err = s.sweep("-q")
    ok(rc == 0 and out == "" and err == "", "-q: exit 0, prints nothing", [rc, out, err])

    other = Server(start=False)
    with open(s.master_key, "rb") as f:
        mine = f.read()
    shutil.copyfile(other.master_key, s.master_key)
    rc, out, err = s.sweep()
    ok(rc != 0 and err.strip() and parse_sweep(out) is None,
       "another instance's master key: non-zero exit (%d) with a message" % rc, [out, err])
    diag("wrong master key: %s" % err.strip())
    with open(s.master_key, "wb") as f:
        f.write(mine)
    swept(s, {}, "with its own key again the sweep succeeds")


def main():
    s = Server()
    counts_and_states(s)
    exit_status(s)
    remnants(Server())
    busy = Server(max_procs=4)
    two_sweeps(busy)
    live_traffic(busy)


if __name__ == "__main__":
    run(main)
