#!/usr/bin/env python3
"""Schema versions, on the engine of OTS_TEST_ENGINE (README: Administration).

A worker facing an older schema answers 503 on the API and on the pages,
and logs why, naming `ots-admin migrate`; ots-sweep, `ots-mailer -1` and
`ots-admin customer list` refuse it too (non-zero exit, a message).
`ots-admin migrate` brings it up to date and the same workers serve again,
not restarted, mail included (a recipient's message queued, `mail list`,
the mailer runs).  A newer schema than the program's is refused the same way,
with a line saying that the database is newer, and migrate refuses it.

The old schema is made the way an older release made it: only
sql/ENGINE/001_init.sql applied and its version recorded (SQLite: PRAGMA
user_version; PostgreSQL: the schema_version table, as ots_owner).  A
worker checks the version when it connects: the SQLite file is swapped as
a restore would swap it (the running workers see another file and open
it), and on PostgreSQL the workers' connections are ended
(pg_terminate_backend) so that each connects again.

PostgreSQL also: the workers' role ots_web can neither create, drop nor
truncate a table, yet it is the role serving the whole suite; and `ots-admin
migrate` with the workers' connection (no migrate_database) fails with
the database's reason and changes nothing.
"""

import glob
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otstest  # noqa: E402
from otstest import Server, canary, diag, is_, is_error, ok, round_trips, run, skip, wait_until  # noqa: E402

MIGRATIONS = sorted(glob.glob(os.path.join(otstest.SRCDIR, "sql", otstest.ENGINE, "[0-9][0-9][0-9]_*.sql")))
# the version this program knows: its newest migration's number
CURRENT = int(os.path.basename(MIGRATIONS[-1])[:3]) if MIGRATIONS else 0
REQUESTS = 12     # requests per check, enough to reach every worker
WORKERS = 2


# ---------------------------------------------------------------- the engines

def owner_sql(s, sql):
    import pgcluster
    return s.cluster.psql(sql, user=pgcluster.OWNER)


def swap_sqlite(s, make):
    """Replace the database file as a restore would: make(path) builds the
    new file beside it (0600), the old -wal and -shm go, and the new file
    takes the name at once.  The workers see another file on their next
    request and open it."""
    tmp = s.database + ".new"
    for p in (tmp, tmp + "-wal", tmp + "-shm"):
        if os.path.exists(p):
            os.unlink(p)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    make(tmp)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(s.database + suffix):
            os.unlink(s.database + suffix)
    os.replace(tmp, s.database)


def reconnect(s):
    """PostgreSQL: end the workers' connections, so that each connects
    (and checks the version) on its next request."""
    if s.cluster:
        import pgcluster
        n = s.cluster.terminate_backends(pgcluster.WEB)
        # pg_terminate_backend only signals: wait until they are gone
        wait_until(lambda: s.cluster.backends(pgcluster.WEB) == 0, 30)
        return n
    return 0


def make_old(s):
    """The schema an older release (version 1) made, in place of the current one."""
    with open(MIGRATIONS[0], encoding="utf-8") as f:
        first = f.read()
    if s.cluster:
        tables = [r[0] for r in owner_sql(s, "SELECT tablename FROM pg_tables WHERE schemaname = 'public';")]
        owner_sql(s, "BEGIN;\n%s\n%s\nUPDATE schema_version SET version = 1;\nCOMMIT;\n"
                  % ("".join('DROP TABLE "%s" CASCADE;\n' % t for t in tables), first))
        reconnect(s)
        return

    def make(path):
        con = sqlite3.connect(path, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript("BEGIN;\n" + first + "\nCOMMIT;")
            con.execute("PRAGMA user_version = 1")
        finally:
            con.close()
    swap_sqlite(s, make)


def set_version(s, version):
    """The current schema recording another version (a copy swapped in, on
    SQLite), each worker connecting anew."""
    if s.cluster:
        owner_sql(s, "UPDATE schema_version SET version = %d;" % version)
        reconnect(s)
        return

    def make(path):
        src = sqlite3.connect(s.database)
        dst = sqlite3.connect(path)
        try:
            src.backup(dst)
            dst.execute("PRAGMA user_version = %d" % version)
            dst.commit()
        finally:
            src.close()
            dst.close()
    swap_sqlite(s, make)


# ---------------------------------------------------------------- checks

def log_text(s):
    out = []
    for p in s.log_files():
        with open(p, "rb") as f:
            out.append(f.read().decode("utf-8", "replace"))
    return "\n".join(out)


def refused_everywhere(s, what, mkey, skey):
    """Every API and page request that needs the store answers 503."""
    bad = []
    for i in range(REQUESTS):
        r = s.share(secret=canary())
        if not (r.status == 404 and r.intended == 503 and r.json == {"message": "Service unavailable"}):
            bad.append("share %d: %d/%s %r" % (i, r.status, r.intended, r.body[:120]))
    is_(bad, [], "%s: %d POST /api/v1/share answer 404, intended 503, Service unavailable" % (what, REQUESTS))
    is_error(s.reveal(skey), "Service unavailable", "%s: a reveal answers Service unavailable" % what,
             intended=503)
    is_error(s.metadata(mkey), "Service unavailable", "%s: a receipt answers Service unavailable" % what,
             intended=503)
    for path, label in (("/", "/"), ("/secret/" + skey, "/secret/KEY"), ("/private/" + mkey, "/private/KEY")):
        r = s.request("GET", path)
        ok(r.status == 503 and b"Temporarily unavailable" in r.body,
           "%s: the page GET %s answers 503 Temporarily unavailable" % (what, label),
           ["%d %r" % (r.status, r.body[:200])])
    r = s.request("GET", "status")
    diag("%s: GET /api/v1/status answers %d (intended %s)" % (what, r.status, r.intended))


def serves(s, what, pids, skey=None, value=None):
    """The same workers serve again: a reveal of the secret made before
    (skey, value), then REQUESTS creates in a row and their reveals."""
    if skey:
        r = s.reveal(skey)
        is_((r.json or {}).get("value") if r.status == 200 else (r.status, r.intended, r.body[:100]), value,
            "%s: the secret created before reveals its value" % what)
    bad = round_trips(s, REQUESTS)
    is_(bad, [], "%s: %d creates and reveals in a row all succeed" % (what, REQUESTS))
    r = s.request("GET", "/")
    is_(r.status, 200, "%s: the create page answers 200" % what)
    is_(s.worker_pids(), pids, "%s: by the same FastCGI workers (not restarted)" % what)


def tool_refuses(s, what, pattern):
    rc, out, err = s.sweep()
    ok(rc != 0 and re.search(pattern, err) and "another sweep" not in out,
       "%s: ots-sweep exits %d with a message matching /%s/" % (what, rc, pattern), [out, err])
    diag("%s: ots-sweep says: %s" % (what, err.strip()))
    rc, summary, out, err = s.mail_once()
    ok(rc != 0 and re.search(pattern, err) and summary is None,
       "%s: ots-mailer -1 exits %d with a message matching /%s/" % (what, rc, pattern), [out, err])
    diag("%s: ots-mailer says: %s" % (what, err.strip()))
    r = s.admin("customer", "list")
    ok(r.returncode != 0 and re.search(pattern, r.stderr),
       "%s: ots-admin customer list exits %d with a message matching /%s/" % (what, r.returncode, pattern),
       [r.stdout, r.stderr])
    diag("%s: ots-admin customer list says: %s" % (what, r.stderr.strip()))


def logged(s, pattern, since, what):
    found = wait_until(lambda: re.findall(pattern, log_text(s)[since:]), 10)
    ok(found, "%s: the workers log /%s/" % (what, pattern), [log_text(s)[since:][-2000:]])
    if found:
        diag("%s: logged %r" % (what, found[0]))


# ---------------------------------------------------------------- the cases

def older(s):
    pids = s.worker_pids()
    before = s.create(canary())
    make_old(s)
    is_(s.schema_version(), 1, "the database now holds the version 1 schema (001_init.sql only)")
    since = len(log_text(s))
    refused_everywhere(s, "schema 1", before["metadata_key"], before["secret_key"])
    logged(s, r"database schema version 1 is older than this program's \(%d\): run ots-admin migrate" % CURRENT,
           since, "schema 1")
    tool_refuses(s, "schema 1", r"schema version 1 is older.*ots-admin migrate")

    t0 = time.monotonic()
    r = s.admin("migrate")
    took = time.monotonic() - t0
    ok(r.returncode == 0 and "from version 1 to %d" % CURRENT in r.stdout,
       "ots-admin migrate: exit 0, migrated from version 1 to %d (%.2f s)" % (CURRENT, took), [r.stdout, r.stderr])
    diag("ots-admin migrate: %s" % " / ".join(r.stdout.strip().splitlines()))
    is_(s.schema_version(), CURRENT, "the recorded version is %d" % CURRENT)
    serves(s, "after migrate", pids)
    r = s.admin("migrate")
    ok(r.returncode == 0 and "migrated" not in r.stdout, "a second migrate has nothing to do (exit 0)",
       [r.stdout, r.stderr])
    rc, out, err = s.sweep()
    ok(rc == 0 and out.startswith("ots-sweep: ") and not err, "after migrate ots-sweep succeeds", [out, err])
    r = s.admin("customer", "list")
    is_(r.returncode, 0, "after migrate ots-admin customer list succeeds")
    # mail on the migrated schema: queued by a worker, listed, taken by the
    # mailer (no relay listens on smtp_port: the attempt fails, to retry)
    auth = ("mig@example.com", s.add_customer("mig@example.com"))
    r = s.share(auth=auth, secret=canary(), recipient="bob@example.net")
    ls = s.mail_list()
    ok(r.status == 200 and [(x.get("kind"), x.get("state"), x.get("attempts")) for x in ls] == [("secret", "queued", 0)],
       "after migrate a create with a recipient queues its message", [r.status, r.body[:200]] + [x["raw"] for x in ls])
    rc, summary, out, err = s.mail_once()
    ok(rc == 0 and summary == {"sent": 0, "retry": 1, "failed": 0},
       "after migrate ots-mailer -1 runs (its attempt fails: no relay, to retry)", [out, err])
    ls = s.mail_list()
    ok([(x.get("state"), x.get("attempts")) for x in ls] == [("queued", 1)] and ls[0]["error"],
       "mail list: queued, attempts=1, the error", [x["raw"] for x in ls])


def newer(s):
    pids = s.worker_pids()
    v = canary()
    before = s.create(v)
    ahead = CURRENT + 1
    # a worker checks the version when it connects: a connection already
    # open goes on (reported, not asserted)
    s.set_schema_version(ahead)
    r = s.share(secret=canary())
    diag("version %d recorded under open connections: the next create answers %d/%s (the check is made "
         "at connect)" % (ahead, r.status, r.intended))
    set_version(s, ahead)
    is_(s.schema_version(), ahead, "the database now records version %d" % ahead)
    since = len(log_text(s))
    refused_everywhere(s, "schema %d" % ahead, before["metadata_key"], before["secret_key"])
    logged(s, r"database schema version %d is newer than this program's \(%d\)" % (ahead, CURRENT), since,
           "schema %d" % ahead)
    tool_refuses(s, "schema %d" % ahead, r"schema version %d is newer" % ahead)
    r = s.admin("migrate")
    ok(r.returncode != 0 and re.search(r"schema version %d is newer" % ahead, r.stderr),
       "ots-admin migrate refuses the newer schema (exit %d) and says so" % r.returncode, [r.stdout, r.stderr])
    is_(s.schema_version(), ahead, "and leaves its version alone")
    set_version(s, CURRENT)
    serves(s, "back at version %d" % CURRENT, pids, before["secret_key"], v)


def least_privilege(s):
    """PostgreSQL: the workers' role may touch rows, not tables."""
    import pgcluster
    c = s.cluster
    s.create(canary())  # the workers are connected

    def who():
        """The roles of the ots programs' connections (application_name
        ots; the harness keeps a psql session of the owner's open)."""
        return [r[0] for r in c.psql(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'ots' AND application_name = 'ots' "
            "ORDER BY 1;", db="postgres")]
    # the backend of a tool that just ran (ots-admin, ots-sweep) may linger
    # for a moment after its client left; the workers' stay
    wait_until(lambda: who() == [pgcluster.WEB], 10)
    ok(who() == [pgcluster.WEB], "the workers' connections are ots_web's (the whole suite serves as ots_web)",
       c.psql("SELECT usename, application_name, state, backend_start, left(query, 60) FROM pg_stat_activity "
              "WHERE datname = 'ots';", db="postgres"))
    ok("user=%s" % pgcluster.WEB in s.settings["database"], "database = ... user=ots_web; migrate_database "
       "names ots_owner", [s.settings["database"], s.settings.get("migrate_database")])
    for sql, what in (("CREATE TABLE t_schema_probe (i integer);", "create a table"),
                      ("DROP TABLE secret;", "drop a table"),
                      ("TRUNCATE secret;", "truncate a table"),
                      ("ALTER TABLE secret ADD COLUMN probe integer;", "alter a table"),
                      ("CREATE INDEX t_schema_probe ON secret (expires);", "create an index")):
        try:
            c.psql(sql, user=pgcluster.WEB)
            ok(False, "ots_web may not %s" % what, ["psql as ots_web succeeded: %s" % sql])
        except pgcluster.ClusterError as e:
            ok(re.search(r"permission denied|must be owner", str(e)),
               "ots_web may not %s: %s" % (what, str(e).split("ERROR:")[-1].strip().splitlines()[0]), [str(e)])
    rows = c.psql("SELECT count(*) FROM secret;", user=pgcluster.WEB)
    ok(rows and rows[0][0].isdigit(), "while ots_web reads rows (SELECT count(*) FROM secret)")


def migrate_as_worker(s):
    """PostgreSQL: migrate with the workers' role changes nothing."""
    import pgcluster
    make_old(s)
    dump = s.dump()
    conf = os.path.join(s.tmp, "worker-role.conf")
    with open(conf, "w") as f:
        f.write("# written by t_schema.py: the workers' connection only\n")
        for k, v in s.settings.items():
            if k != "migrate_database":
                f.write("%s = %s\n" % (k, v))
    r = subprocess.run([otstest.ADMIN, "-c", conf, "migrate"], capture_output=True, text=True, timeout=60)
    ok(r.returncode != 0 and re.search(r"permission denied|must be owner", r.stderr),
       "ots-admin migrate as ots_web (no migrate_database): exit %d, the database's reason" % r.returncode,
       [r.stdout, r.stderr])
    diag("as ots_web: %s" % r.stderr.strip())
    is_(s.schema_version(), 1, "the schema is still version 1")
    same = s.dump() == dump
    ok(same, "and the database is unchanged (pg_dump before and after)")
    r = s.admin("migrate")
    ok(r.returncode == 0 and "from version 1 to %d" % CURRENT in r.stdout,
       "with migrate_database (ots_owner) it migrates", [r.stdout, r.stderr, pgcluster.OWNER])
    reconnect(s)


def main():
    diag("engine %s; migrations %s; this program's version %d"
         % (otstest.ENGINE, [os.path.basename(m) for m in MIGRATIONS], CURRENT))
    # no relay: port 1 of 127.0.0.1 refuses at once
    s = Server(max_procs=WORKERS, conf={"smtp_port": 1})
    is_(s.schema_version(), CURRENT, "ots-admin init records version %d" % CURRENT)
    older(s)
    newer(s)
    if s.cluster:
        least_privilege(s)
        migrate_as_worker(s)
        serves(s, "after the failed and the real migrate", s.worker_pids())
    else:
        skip("ots_web may not create, drop, truncate or alter a table", "PostgreSQL only")
        skip("ots-admin migrate as the workers' role changes nothing", "PostgreSQL only")


if __name__ == "__main__":
    run(main)
