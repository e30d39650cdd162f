#!/usr/bin/env python3
"""Nothing at rest, nothing in logs: after a mixed workload, no secret value,
passphrase, key or API token appears in the database, its WAL/SHM, or any
log (the audit log among them); file modes of the store and master key.  On PostgreSQL "the database"
is its logical content (pg_dump --data-only) and its bytes (the test
database's relation files and the cluster's WAL), and the cluster's log is
among the logs."""

import os
import random
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, count_bytes, diag, grep_files, is_, json_body, multipart_body, ok,  # noqa: E402
                     passphrase, run, skip)

N = 60


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None


def main():
    s = Server(start=False)
    # the audit log, in the instance's directory: among s.log_files()
    audit_log = os.path.join(s.tmp, "audit.log")
    s.settings["audit_log"] = audit_log
    s._write_conf()
    s.start()
    tokens = {e: s.add_customer(e, "basic") for e in ("alice@example.com", "bob@example.com")}
    auths = [None] + [(e, t) for e, t in tokens.items()]
    needles = {"value": [], "passphrase": [], "secret_key": [], "metadata_key": [], "token": list(tokens.values())}
    rng = random.Random()
    revealed = burned = 0
    for i in range(N):
        auth = auths[i % len(auths)]
        p = passphrase() if i % 2 else None
        params = {"passphrase": p} if p else {}
        if i % 5 == 4:
            r = s.generate(auth=auth, **params)
            v = (r.json or {}).get("value", "")
        else:
            v = canary("v") * rng.randint(1, 20)
            params["secret"] = v
            body = (multipart_body if i % 3 == 0 else json_body if i % 3 == 1 else dict)(params)
            r = s.request("POST", "share", body=body, auth=auth)
        m = r.json if r.status == 200 and isinstance(r.json, dict) else None
        if m is None:
            ok(False, "create %d" % i, r.body[:200])
            continue
        needles["value"].append(v)
        if p:
            needles["passphrase"].append(p)
        needles["secret_key"].append(m["secret_key"])
        needles["metadata_key"].append(m["metadata_key"])
        s.metadata(m["metadata_key"])
        if i % 4 == 0:
            s.reveal(m["secret_key"], passphrase=p) if p else s.reveal(m["secret_key"])
            revealed += 1
        elif i % 4 == 1:
            s.burn(m["metadata_key"], passphrase=p) if p else s.burn(m["metadata_key"])
            burned += 1
        elif p:
            s.reveal(m["secret_key"], passphrase=p + "x")  # a failed attempt leaves the secret in place
    for e, t in tokens.items():
        s.recent(auth=(e, t))
    diag("%d secrets (%d revealed, %d burned), %d passphrases, 2 accounts"
         % (len(needles["value"]), revealed, burned, len(needles["passphrase"])))
    if s.access_log_source:
        diag("access log format taken from %s" % s.access_log_source)

    every = [n for group in needles.values() for n in group]

    def stored():
        """What holds the database at rest, as (label, files): SQLite's file,
        -wal and -shm one by one; PostgreSQL's logical content (pg_dump
        --data-only of the test database) and its bytes (the database's
        relation files and the cluster's WAL, after a checkpoint)."""
        if not s.cluster:
            return [(os.path.basename(p), [p]) for p in s.db_files()]
        dump = os.path.join(s.cluster.root, "data-only.sql")
        with open(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(s.cluster.dump(data_only=True))
        raw = s.db_files()
        return [("pg_dump --data-only", [dump]),
                ("relation files and WAL (%d files)" % len(raw), raw)]

    def check(when):
        groups = stored() + [(os.path.basename(p), [p]) for p in s.log_files()]
        hits = grep_files([p for _, ps in groups for p in ps], every)
        for label, paths in groups:
            there = [p for p in paths if os.path.exists(p)]
            if not there:
                diag("%s: absent %s" % (label, when))
                continue
            found = {}
            for p in there:
                for n, c in hits.get(p, {}).items():
                    found[n] = found.get(n, 0) + c
            counts = {g: sum(1 for n in ns if n in found) for g, ns in needles.items()}
            ok(not found, "%s %s: 0 hits of %d needles (%d bytes)"
               % (label, when, len(every), sum(os.path.getsize(p) for p in there)),
               ["hits by kind: %s" % counts])
            diag("%s %s: %s" % (label, when, counts))

    with open(audit_log, "rb") as f:
        lines = f.read().count(b"\n")
    ok(audit_log in s.log_files() and lines > 2 * N,
       "the audit log is grepped with the other logs (%d lines)" % lines)
    check("while running")
    is_(mode(s.state_dir), 0o700, "state directory is 0700")
    is_(mode(os.path.dirname(s.master_key)), 0o700, "master key directory is 0700")
    ok(mode(s.master_key) in (0o600, 0o400), "master key file is 0600 or 0400", oct(mode(s.master_key) or 0))
    if s.cluster:
        skip("the database files are 0600", "PostgreSQL: the files are the database server's own")
    for path in s.db_files() if not s.cluster else ():
        if os.path.exists(path):
            ok(mode(path) in (0o600, 0o400), "%s is 0600" % os.path.basename(path), oct(mode(path)))
    with open(s.master_key, "rb") as f:
        tag, _, hexkey = f.read().strip().partition(b" ")
    raw = bytes.fromhex(hexkey.decode()) if tag == b"ots-master-key-v1" else b""
    is_(len(raw), 32, "master key file: ots-master-key-v1 and 32 bytes in hex")
    files = [p for _, ps in stored() for p in ps]
    found = count_bytes(files, [raw, hexkey, hexkey.upper()]) if raw else {}
    ok(raw and not sum(found.values()), "the master key (raw or hex) is nowhere in the database (%s)"
       % ", ".join(label for label, _ in stored()), {os.path.basename(p): n for p, n in found.items() if n})

    s.stop()
    check("after shutdown")
    for good, what, detail in s.integrity():
        ok(good, "database: " + what, detail)
    if s.cluster:
        skip("database is in WAL mode", "PostgreSQL: SQLite's journal mode")
    else:
        is_(s.sql("PRAGMA journal_mode")[0][0], "wal", "database is in WAL mode")


if __name__ == "__main__":
    run(main)
