#!/usr/bin/env python3
"""Master-key rotation (README: Key rotation), on the engine of
OTS_TEST_ENGINE: secrets with and without a passphrase, anonymous and from
an account, made before `ots-admin key rotate`, between the rotation and
the workers' restart (the workers still hold version 1 alone) and after
it, plus one made by plain CGI (a new process: it holds version 2), all
reveal exactly once and their receipts stay readable; an account made
before the rotation authenticates and moves to version 2; `key retire 1`
refuses while any row uses version 1, saying how many, and succeeds once
they are revealed, burned or swept and the last old account has a new
token; then the key file no longer holds version 1 and old links answer
unknown.  A key file whose version 2 is not the database's is refused.
With PostgreSQL, first two hosts (several_hosts): a rotation before the
key file reaches the second host, and after."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (ADMIN, Server, canary, diag, is_, is_error, is_meta, is_unknown, ok, passphrase, run)  # noqa: E402

TTL = 3600


def value_of(r):
    return (r.json or {}).get("value") if r.status == 200 else None


def versions_in(s, table):
    """{key_version: rows} of a table."""
    return {int(v): int(n) for v, n in s.sql("SELECT key_version, count(*) FROM %s GROUP BY key_version" % table)}


def key_lines(s):
    with open(s.master_key) as f:
        return f.read().splitlines()


def key_list(s):
    """`ots-admin key list` as {version: {field: value}} (the second field
    is current/old)."""
    r = s.admin("key", "list")
    out = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        m = re.match(r"version (\d+)$", f[0])
        if m:
            out[int(m.group(1))] = dict([("state", f[1])] + [x.split("=", 1) for x in f[2:]])
    return r.returncode, out


def make(s, phase, alice, pp):
    """Four secrets: anonymous and alice's, each with and without a
    passphrase.  {name: (metadata, value, passphrase or None)}."""
    made = {}
    for who, auth in (("anon", None), ("alice", alice)):
        for p in (None, pp):
            v = canary()
            kw = {"passphrase": p} if p else {}
            made["%s %s%s" % (phase, who, " pp" if p else "")] = (s.create(v, auth=auth, ttl=str(TTL), **kw), v, p)
    return made


def reveals_once(s, name, m, v, p, cgi=False):
    kw = {"passphrase": p} if p else {}
    if cgi:
        r = s.cgi("POST", "secret/" + m["secret_key"], body=dict(kw))
    else:
        r = s.reveal(m["secret_key"], **kw)
    is_(value_of(r), v, "%s: reveals%s" % (name, " (plain CGI)" if cgi else ""))
    is_unknown(s.reveal(m["secret_key"], **kw), m["secret_key"], "%s: only once" % name)
    is_meta(s.metadata(m["metadata_key"]), "received", "%s: its receipt reads received" % name)


def copy_key(a, h):
    """A's master key file to host h, 0400 as A's."""
    os.chmod(h.master_key, 0o600)
    shutil.copyfile(a.master_key, h.master_key)
    os.chmod(h.master_key, 0o400)


def several_hosts():
    """PostgreSQL: host B shares A's database and a copy of A's key file
    (as in t_hosts.py).  A rotates and restarts before the file reaches B:
    B's workers seal with version 1 meanwhile and answer unknown for A's
    version 2 links, and ots-admin on B refuses, saying to copy the file;
    once it is copied and B restarted, every link opens on either host."""
    a = Server(engine="postgresql", max_procs=2)
    b = Server(engine="sqlite", max_procs=2, start=False)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(b.database_file + suffix):
            os.unlink(b.database_file + suffix)
    b.database_file = None
    b.database = a.database
    b.settings.update(database=a.settings["database"], migrate_database=a.settings["migrate_database"],
                      state_dir=b.state_dir)
    for k in ("mailer_key", "mailer_public_key"):
        os.chmod(b.settings[k], 0o600)
        shutil.copyfile(a.settings[k], b.settings[k])
        os.chmod(b.settings[k], os.stat(a.settings[k]).st_mode & 0o777)
    copy_key(a, b)
    b.start()
    v1 = canary()
    m1 = a.create(v1, ttl=str(TTL))
    r = a.admin("key", "rotate")
    ok(r.returncode == 0, "hosts: key rotate on A", [r.stderr])
    r = b.admin("key", "list")
    ok(r.returncode == 1 and "copy the key file" in r.stderr,
       "hosts: ots-admin on B, whose file lacks version 2, refuses and says to copy the file", [r.stderr])
    a.stop()
    a.start()
    v2 = canary()
    m2 = a.create(v2, ttl=str(TTL))
    v3 = canary()
    m3 = b.create(v3, ttl=str(TTL))
    is_(versions_in(a, "secret"), {1: 2, 2: 1}, "hosts: A (restarted) sealed with version 2, B still with 1")
    is_unknown(b.reveal(m2["secret_key"]), m2["secret_key"], "hosts: B does not hold version 2: A's new link "
               "is unknown there")
    copy_key(a, b)
    b.stop()
    b.start()
    is_(value_of(b.reveal(m2["secret_key"])), v2, "hosts: once the file is copied and B restarted, B reveals it")
    is_(value_of(a.reveal(m3["secret_key"])), v3, "hosts: A reveals B's version 1 secret")
    is_(value_of(b.reveal(m1["secret_key"])), v1, "hosts: B reveals A's version 1 secret")
    m4 = b.create(ttl=str(TTL))
    ok(m4.get("metadata_key"), "hosts: B shares again")
    is_(versions_in(a, "secret"), {2: 1}, "hosts: B now seals with version 2 too")
    rc, kl = key_list(b)
    ok(rc == 0 and kl.get(2, {}).get("state") == "current", "hosts: key list on B: version 2 current", [kl])
    b.close()
    a.close()


def main():
    if os.environ.get("OTS_TEST_ENGINE") == "postgresql":
        several_hosts()
    s = Server(max_procs=2)
    pp = passphrase()
    alice = ("alice@example.com", s.add_customer("alice@example.com"))
    bob = ("bob@example.com", s.add_customer("bob@example.com"))
    v1_line = key_lines(s)
    is_(len(v1_line), 1, "a new key file: one line (version 1)")

    # -- before the rotation
    made = make(s, "before", alice, pp)
    is_(versions_in(s, "secret"), {1: 4}, "before: 4 secrets, version 1")
    rc, kl = key_list(s)
    ok(rc == 0 and list(kl) == [1] and kl[1]["state"] == "current" and kl[1]["secrets"] == "4"
       and kl[1]["accounts"] == "2", "key list: version 1 current, 4 secrets, 2 accounts", [kl])

    # -- rotate; the workers still run with version 1 alone
    r = s.admin("key", "rotate")
    ok(r.returncode == 0 and "version 2" in r.stdout and "restart" in r.stdout and "copy" in r.stdout,
       "key rotate: version 2 added; it says to restart, and to copy the file first on several hosts",
       [r.stdout, r.stderr])
    lines = key_lines(s)
    ok(len(lines) == 2 and lines[0] == v1_line[0] and lines[1].startswith("ots-master-key-v2 "),
       "the key file: version 1's line unchanged, version 2's after it")
    is_(os.stat(s.master_key).st_mode & 0o777, 0o400, "the key file is still mode 0400")
    ok(not os.path.exists(s.master_key + ".new"), "no temporary key file left")
    rc, kl = key_list(s)
    ok(rc == 0 and sorted(kl) == [1, 2] and kl[2]["state"] == "current" and kl[2]["database"] == "yes",
       "key list: version 2 current, in the database", [kl])

    made.update(make(s, "during", alice, pp))
    is_(versions_in(s, "secret"), {1: 8}, "between rotate and restart: the old workers still seal with version 1")
    v = canary()
    r = s.cgi("POST", "share", body={"secret": v, "ttl": str(TTL)})
    ok(r.status == 200 and isinstance(r.json, dict), "plain CGI (a new process) shares meanwhile", [r.status])
    cgi_made = (r.json or {}, v, None)
    is_(versions_in(s, "secret"), {1: 8, 2: 1}, "the CGI process sealed with version 2")
    is_unknown(s.reveal(cgi_made[0]["secret_key"]), cgi_made[0]["secret_key"],
               "a worker started before the rotation does not hold version 2: unknown to it (not ready)")
    is_(versions_in(s, "secret"), {1: 8, 2: 1}, "and the secret is still there")

    # -- restart the workers
    s.stop()
    s.start()
    made.update(make(s, "after", alice, pp))
    is_(versions_in(s, "secret"), {1: 8, 2: 5}, "after the restart: new secrets are version 2")
    is_(versions_in(s, "metadata"), {1: 8, 2: 5}, "and so are their receipts")
    accounts = dict(s.sql("SELECT custid, key_version FROM customer"))
    is_(int(accounts["alice@example.com"]), 2, "alice authenticated after the restart: her token moved to version 2")
    is_(int(accounts["bob@example.com"]), 1, "bob has not: still version 1")

    r = s.recent(auth=alice)
    mine = [m["metadata_key"] for name, (m, _, _) in made.items() if "alice" in name]
    got = [x.get("metadata_key") for x in r.json] if r.status == 200 and isinstance(r.json, list) else r.status
    ok(isinstance(got, list) and sorted(got) == sorted(mine),
       "recent lists alice's 6 receipts of both versions", [got, mine])

    # -- retire refuses while version 1 is used
    r = s.admin("key", "retire", "2")
    ok(r.returncode != 0 and "current" in r.stderr, "key retire 2 (the current version) refuses", [r.stderr])
    r = s.admin("key", "retire", "1")
    ok(r.returncode != 0 and "8 secrets, 8 receipts and 1 accounts" in r.stderr and "ots-sweep" in r.stderr
       and "customer token" in r.stderr, "key retire 1 refuses: 8 secrets, 8 receipts, 1 account, and says what to do",
       [r.stderr])
    ok(key_lines(s) == lines, "and leaves the key file alone")
    r = s.admin("key", "retire", "7")
    ok(r.returncode == 1 and "current" in r.stderr, "key retire 7 (newer than any): refused", [r.stderr])
    for bad in ("x", "0", "-1", "1x", ""):
        r = s.admin("key", "retire", bad)
        ok(r.returncode == 1 and "version number" in r.stderr, "key retire %r: a clear error" % bad, [r.stderr])

    # a wrong passphrase on an old secret is an attempt, as ever
    m, v, p = made["before anon pp"]
    r = s.reveal(m["secret_key"], passphrase=p + "x")
    ok(r.status != 200 and value_of(r) is None, "a version 1 secret: a wrong passphrase does not open it", [r.status])
    # burn an old one by its receipt (with its passphrase)
    m, v, p = made["before alice pp"]
    r = s.burn(m["metadata_key"], passphrase=p)
    is_(r.status, 200, "a version 1 secret with a passphrase burns by its receipt")
    is_unknown(s.reveal(m["secret_key"], passphrase=p), m["secret_key"], "and no longer reveals")
    is_meta(s.metadata(m["metadata_key"]), "burned", "its receipt reads burned")
    del made["before alice pp"]
    for name in sorted(made):
        reveals_once(s, name, *made[name], cgi=name == "during anon")
    reveals_once(s, "the CGI secret (version 2)", *cgi_made)
    is_(versions_in(s, "secret"), {}, "every secret is gone")

    r = s.admin("key", "retire", "1")
    ok(r.returncode != 0 and "0 secrets, 8 receipts and 1 accounts" in r.stderr,
       "key retire 1 still refuses: 8 receipts and an account", [r.stderr])

    s.advance(2 * TTL + 1)
    rc, out, err = s.sweep()
    ok(rc == 0, "ots-sweep after the receipts' time", [out, err])
    is_(versions_in(s, "metadata"), {}, "the receipts are swept")
    r = s.admin("key", "retire", "1")
    ok(r.returncode != 0 and "0 secrets, 0 receipts and 1 accounts" in r.stderr,
       "key retire 1 still refuses for bob's account", [r.stderr])
    r = s.admin("customer", "token", bob[0])
    ok(r.returncode == 0, "bob gets a new token")
    bob = (bob[0], r.stdout.strip())
    r = s.admin("key", "retire", "1")
    ok(r.returncode == 0 and "retired" in r.stdout and "restart" in r.stdout, "key retire 1 succeeds",
       [r.stdout, r.stderr])
    lines = key_lines(s)
    ok(len(lines) == 1 and lines[0].startswith("ots-master-key-v2 ") and v1_line[0] not in lines,
       "the key file holds version 2 alone")
    is_(os.stat(s.master_key).st_mode & 0o777, 0o400, "still mode 0400")
    is_([int(x[0]) for x in s.sql("SELECT version FROM master_key ORDER BY version")], [2],
        "the database knows version 2 alone")
    rc, kl = key_list(s)
    ok(rc == 0 and list(kl) == [2], "key list: version 2 only", [kl])
    r = s.admin("key", "retire", "1")
    ok(r.returncode == 1 and "no such key version" in r.stderr, "key retire 1 again: no such version", [r.stderr])

    s.stop()
    s.start()
    for name in ("before anon", "during alice pp"):
        m, v, p = made[name]
        is_unknown(s.reveal(m["secret_key"], **({"passphrase": p} if p else {})), m["secret_key"],
                   "after retiring: an old link (%s) answers unknown" % name)
        is_unknown(s.metadata(m["metadata_key"]), m["metadata_key"], "and so does its receipt")
    for who in (alice, bob):
        m = s.create(auth=who)
        ok(m.get("custid") == who[0], "%s authenticates after the retirement" % who[0], [m])
    v = canary()
    m = s.create(v)
    reveals_once(s, "a new secret after retiring", m, v, None, cgi=True)
    is_(versions_in(s, "metadata"), {2: 3}, "every new row is version 2")

    # a key file whose version 2 is another key: refused
    bad = os.path.join(os.path.dirname(s.master_key), "other.key")
    with open(bad, "w") as f:
        f.write(lines[0][:18] + ("0" * 64) + "\n")
    os.chmod(bad, 0o400)
    conf = s.conf_path + ".bad"
    with open(s.conf_path) as f, open(conf, "w") as g:
        g.write(re.sub(r"(?m)^master_key = .*$", "master_key = " + bad, f.read()))
    p = subprocess.run([ADMIN, "-c", conf, "key", "list"], capture_output=True, text=True, timeout=60)
    ok(p.returncode == 1 and "does not match" in p.stderr, "ots-admin refuses a key file whose version 2 differs",
       [p.stderr])
    r = s.cgi("POST", "share", body={"secret": canary(), "ttl": "60"}, extra_env={"OTS_CONFIG": conf})
    is_error(r, "Service unavailable", "a worker (plain CGI) refuses it too: Service unavailable", intended=503)
    ok("does not match" in r.stderr, "and logs why", [r.stderr])
    diag("engine %s" % s.engine)
    s.close()


if __name__ == "__main__":
    run(main)
