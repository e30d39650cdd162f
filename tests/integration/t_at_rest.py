#!/usr/bin/env python3
"""Nothing at rest, nothing in logs: after a mixed workload, no secret value,
passphrase, key or API token appears in the database, its WAL/SHM, or any
log; file modes of the store and master key."""

import os
import random
import sqlite3
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, count_bytes, diag, grep_files, is_, json_body, multipart_body, ok,  # noqa: E402
                     passphrase, run)

N = 60


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None


def main():
    s = Server()
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

    data_dir = os.path.dirname(s.database)
    files = [s.database, s.database + "-wal", s.database + "-shm"] + s.log_files()
    every = [n for group in needles.values() for n in group]

    def check(when):
        hits = grep_files(files, every)
        for path in files:
            if not os.path.exists(path):
                diag("%s: absent %s" % (os.path.basename(path), when))
                continue
            found = hits.get(path, {})
            counts = {g: sum(1 for n in ns if n in found) for g, ns in needles.items()}
            ok(not found, "%s %s: 0 hits of %d needles (%d bytes)" % (os.path.basename(path), when, len(every),
                                                                    os.path.getsize(path)),
               ["hits by kind: %s" % counts])
            diag("%s %s: %s" % (os.path.basename(path), when, counts))

    check("while running")
    is_(mode(data_dir), 0o700, "database directory is 0700")
    is_(mode(os.path.dirname(s.master_key)), 0o700, "master key directory is 0700")
    ok(mode(s.master_key) in (0o600, 0o400), "master key file is 0600 or 0400", oct(mode(s.master_key) or 0))
    for path in (s.database, s.database + "-wal", s.database + "-shm"):
        if os.path.exists(path):
            ok(mode(path) in (0o600, 0o400), "%s is 0600" % os.path.basename(path), oct(mode(path)))
    with open(s.master_key, "rb") as f:
        tag, _, hexkey = f.read().strip().partition(b" ")
    raw = bytes.fromhex(hexkey.decode()) if tag == b"ots-master-key-v1" else b""
    is_(len(raw), 32, "master key file: ots-master-key-v1 and 32 bytes in hex")
    found = count_bytes(s.db_files(), [raw, hexkey, hexkey.upper()]) if raw else {}
    ok(raw and not sum(found.values()), "the master key (raw or hex) is in neither the database, -wal nor -shm",
       found)

    s.stop()
    check("after shutdown")
    con = sqlite3.connect(s.database)
    try:
        is_(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "database integrity_check ok")
        is_(con.execute("PRAGMA journal_mode").fetchone()[0], "wal", "database is in WAL mode")
    finally:
        con.close()


if __name__ == "__main__":
    run(main)
