#!/usr/bin/env python3
"""ots through PgBouncer (README: Several hosts, PgBouncer).

A PgBouncer of the test's own (started and stopped by its PID, as the
cluster's user, listening on 127.0.0.1 at a free port, no Unix socket)
stands in front of a PostgreSQL cluster of the test's own: clients
authenticate with SCRAM against an auth_file the test writes (ots_web's
generated password; the workers read it from database_password_file), and
PgBouncer reaches the cluster on its Unix socket.  The FastCGI workers and
plain CGI runs use it as their `database`; ots-admin's migrate_database
still goes straight to the cluster (schema changes do not belong in a pool).

pool_mode = session (what plain CGI needs: a CGI process connects per
request, and PgBouncer hands the next one a server connection already
open, reset with DISCARD ALL): creates, reveals, burns, receipts and a
rate limit, through FastCGI and plain CGI; simultaneous reveals give one
plaintext; plain CGI reuses a handful of server connections; ots-sweep,
ots-admin and ots-mailer work through it (the mailer delivers a message a
worker queued).

pool_mode = transaction: plain CGI sends its statements unprepared
(STORE_CGI), so it works: creates, receipts and reveals all answer, each
reveal its own value.  FastCGI workers prepare named statements once per
connection, which PgBouncer 1.18 does not support in transaction mode (a
server connection serves any client between transactions): the statements
fail with "prepared statement ... already exists" or "... does not exist"
(the README says to connect FastCGI directly or in session mode).
Asserted for them: every request either succeeds or answers 503
(intended): never a wrong answer, a 5xx of lighttpd's or a crash, and
nothing is revealed twice; the errors are reported.

Like t_hosts.py it runs with a cluster of its own whatever
OTS_TEST_ENGINE says, and skips as a whole (1..0 # SKIP) without
pgbouncer or PostgreSQL's server programs.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otstest  # noqa: E402
import pgcluster  # noqa: E402
from otstest import canary, diag, is_, is_error, is_meta, is_unknown, ok, parallel, wait_until  # noqa: E402

WORKERS = 3
POOL = 4              # server connections per pool (default_pool_size)
CGI_RUNS = 20
REVEALERS = 32
TRIALS = 5
WINDOW = 20 * 60 + 1
LIMIT = 5             # limit.burn_secret
TX_REQUESTS = 120     # requests through transaction pooling


def pgbouncer_program():
    for c in (os.environ.get("PGBOUNCER"), shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"):
        if c and os.access(c, os.X_OK):
            return c
    return None


class Bouncer:
    """One PgBouncer in root (its ini, auth_file and log), in front of the
    cluster's database ots, started by start() and stopped by its PID."""

    def __init__(self, cluster, root, pool_mode):
        self.cluster = cluster
        self.root = root
        self.pool_mode = pool_mode
        self.port = otstest.free_port()
        self.proc = None
        self.ini = os.path.join(root, "pgbouncer.ini")
        self.auth_file = os.path.join(root, "userlist.txt")
        self.log = os.path.join(root, "pgbouncer.log")
        uid, gid, self.user = pgcluster._owner()
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o700)
        os.chown(root, uid, gid)
        fd = os.open(self.auth_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write('"%s" "%s"\n' % (pgcluster.WEB, cluster.passwords[pgcluster.WEB]))
        os.chown(self.auth_file, uid, gid)
        with open(self.ini, "w") as f:
            f.write("""; written by tests/integration/t_pgbouncer.py
[databases]
ots = host=%(sock)s port=%(pgport)d dbname=ots

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %(port)d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %(auth)s
pool_mode = %(mode)s
default_pool_size = %(pool)d
max_client_conn = 200
logfile = %(log)s
pidfile =
""" % dict(sock=cluster.sock, pgport=cluster.port, port=self.port, auth=self.auth_file, mode=pool_mode,
           pool=POOL, log=self.log))
        os.chown(self.ini, uid, gid)

    def conninfo(self):
        return "host=127.0.0.1 port=%d dbname=ots user=%s" % (self.port, pgcluster.WEB)

    def start(self):
        cmd = [pgbouncer_program()] + (["-u", self.user] if os.geteuid() == 0 else []) + [self.ini]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=self.root, start_new_session=True)

        def listening():
            if self.proc.poll() is not None:
                return "exited"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return "up"
            except OSError:
                return None
        got = wait_until(listening, 20)
        if got != "up":
            self.stop()
            raise otstest.HarnessError("pgbouncer did not start (%s):\n%s" % (got, self.log_tail()))

    def stop(self):
        """SIGTERM (immediate shutdown) by PID, SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n=3000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


def value_of(r):
    return (r.json or {}).get("value") if not isinstance(r, Exception) and r.status == 200 else None


def is_burned(r, desc):
    """A burn's answer: {"state": metadata burned, "secret_shortkey": ...}."""
    j = r.json if isinstance(r.json, dict) else {}
    probs = [] if r.status == 200 else ["HTTP status %d %r" % (r.status, r.body[:200])]
    return ok(not probs and not otstest.meta_problems(j.get("state"), "burned") and "secret_shortkey" in j, desc,
              probs + otstest.meta_problems(j.get("state"), "burned"))


def through(s, bouncer):
    """Point the instance's workers and CGI runs at the bouncer."""
    s.settings["database"] = bouncer.conninfo()
    s.settings["database_password_file"] = s.cluster.password_file(pgcluster.WEB)
    s._write_conf()


def sessions(s):
    """Connections ever made to the database ots (pg_stat_database)."""
    return int(s.cluster.psql("SELECT sessions FROM pg_stat_database WHERE datname = 'ots';", db="postgres")[0][0])


def server_backends(s):
    """ots_web's connections to the cluster: PgBouncer's server connections."""
    return s.cluster.backends(pgcluster.WEB)


def new_lines(path, since):
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# ---------------------------------------------------------------- session pooling

def session(s, b):
    through(s, b)
    s.start()
    is_(s.request("GET", "status").status, 200, "session pooling: the FastCGI workers answer GET /api/v1/status")

    # the FastCGI workers
    v = canary()
    m = s.create(v)
    is_meta(s.metadata(m["metadata_key"]), "new", "FastCGI: create, then the receipt (new)")
    is_meta(s.metadata(m["metadata_key"]), "viewed", "FastCGI: the receipt again (viewed)")
    is_(value_of(s.reveal(m["secret_key"])), v, "FastCGI: reveal")
    is_meta(s.metadata(m["metadata_key"]), "received", "FastCGI: the receipt says received")
    is_unknown(s.reveal(m["secret_key"]), m["secret_key"], "FastCGI: a second reveal is Unknown secret")
    m = s.create(canary())
    is_burned(s.burn(m["metadata_key"]), "FastCGI: burn")
    is_unknown(s.reveal(m["secret_key"]), m["secret_key"], "FastCGI: a burned secret is Unknown secret")
    pp = otstest.passphrase()
    v = canary()
    m = s.create(v, passphrase=pp)
    is_unknown(s.reveal(m["secret_key"], passphrase=canary()), m["secret_key"], "FastCGI: a wrong passphrase")
    is_(value_of(s.reveal(m["secret_key"], passphrase=pp)), v, "FastCGI: the right passphrase reveals")
    plain = []
    for trial in range(TRIALS):
        v = canary()
        key = s.create(v)["secret_key"]
        rs = parallel(REVEALERS, lambda i: s.reveal(key))
        plain.append(sum(value_of(r) == v for r in rs))
    is_(plain, [1] * TRIALS, "FastCGI: %d trials of %d simultaneous reveals through %d pooled server connections: "
        "one plaintext each" % (TRIALS, REVEALERS, POOL))
    rs = parallel(4 * WORKERS, lambda i: s.share(secret=canary()))
    ok(all(not isinstance(r, Exception) and r.status == 200 for r in rs),
       "FastCGI: %d simultaneous creates all succeed" % len(rs))

    # plain CGI: a connection per request, pooled
    before = sessions(s)
    bad = []
    for i in range(CGI_RUNS):
        v = canary()
        r = s.cgi("POST", "share", body={"secret": v})
        if r.status != 200 or r.rc != 0 or not isinstance(r.json, dict):
            bad.append("share %d: %d rc %d %r %s" % (i, r.status, r.rc, r.body[:100], r.stderr[-300:]))
            continue
        r2 = s.cgi("GET", "private/" + r.json["metadata_key"])
        r3 = s.cgi("POST", "secret/" + r.json["secret_key"])
        if r2.status != 200 or value_of(r3) != v:
            bad.append("receipt/reveal %d: %d %d %r %s" % (i, r2.status, r3.status, r3.body[:100], r3.stderr[-300:]))
    opened = sessions(s) - before
    is_(bad, [], "plain CGI: %d creates, receipts and reveals (%d CGI processes, each its own client connection)"
        % (CGI_RUNS, 3 * CGI_RUNS))
    ok(opened <= POOL, "plain CGI: PgBouncer served the %d CGI connections with %d new server connections "
       "(pool %d, %d in use now)" % (3 * CGI_RUNS, opened, POOL, server_backends(s)))
    m = s.create(canary())
    r = s.cgi("POST", "private/%s/burn" % m["metadata_key"])
    is_burned(r, "plain CGI: burn")

    # the command-line programs
    rc, out, err = s.sweep()
    ok(rc == 0 and out.startswith("ots-sweep: ") and not err, "ots-sweep through PgBouncer", [out, err])
    r = s.admin("customer", "list")
    is_(r.returncode, 0, "ots-admin customer list through PgBouncer")
    auth = ("pgb@example.com", s.add_customer("pgb@example.com"))
    r = s.share(auth=auth, secret=canary(), recipient="bob@example.net")
    is_(r.status, 200, "a share with a recipient through PgBouncer (queued)")
    rc, summary, out, err = s.mail_once()
    ok(rc == 0 and summary == {"sent": 1, "retry": 0, "failed": 0} and not err and s.sink.wait(1) == 1,
       "ots-mailer -1 through PgBouncer delivers it", [out, err, len(s.sink.messages)])

    # a rate limit, counted through the pool (last: it spends the window)
    s.advance(WINDOW)
    got = []
    for i in range(LIMIT):
        m = s.create(canary())
        got.append((s.burn(m["metadata_key"]) if i % 2 else s.cgi("POST", "private/%s/burn" % m["metadata_key"])
                    ).status)
    is_(got, [200] * LIMIT, "limit.burn_secret = %d: %d burns (FastCGI and CGI in turn) succeed" % (LIMIT, LIMIT))
    m = s.create(canary())
    is_error(s.burn(m["metadata_key"]), "Cripes! You have been rate limited.",
             "the next burn (FastCGI) is rate limited", intended=429)
    r = s.cgi("POST", "private/%s/burn" % m["metadata_key"])
    ok(r.status == 404 and r.intended == 429, "and through plain CGI", [r.status, r.intended, r.body])
    s.stop()


# ---------------------------------------------------------------- transaction pooling

def answer(r):
    """200, intended N (a v1 error from ots), or what else it was."""
    if isinstance(r, Exception):
        return "exception %r" % r
    if r.status == 200:
        return "200"
    if r.status == 404 and r.intended and r.headers.get("cache-control") == "no-store":
        return "intended %d" % r.intended
    return "%d/%s %r" % (r.status, r.intended, r.body[:80])


def transaction(s, b):
    """FastCGI workers first (a fresh pool: the first connection's
    statements are prepared on a server connection others then share),
    then plain CGI; every answer and every error the programs and the
    cluster logged."""
    through(s, b)
    out = os.path.join(s.tmp, "lighttpd.out")
    since, pg_since = size(out), size(s.cluster.log_path)
    answers, stderr = [], []
    made, revealed = {}, {}
    try:
        s.start()
        started = True
    except otstest.HarnessError as e:
        started = False
        diag("transaction pooling: the FastCGI workers never answered GET /api/v1/status 200: %s" % e)
    if started:
        rs = parallel(TX_REQUESTS // 2, lambda i: s.share(secret="tx%d" % i))
        for i, r in enumerate(rs):
            answers.append(("FastCGI create", answer(r)))
            if answer(r) == "200":
                made[r.json["secret_key"]] = "tx%d" % i
        keys = list(made)
        if keys:
            rs = parallel(len(keys), lambda i: s.reveal(keys[i]))
            for k, r in zip(keys, rs):
                answers.append(("FastCGI reveal", answer(r)))
                if value_of(r) is not None:
                    revealed[k] = value_of(r)
    if started:
        s.stop()
    # plain CGI: nothing prepared, so every request works through the pool
    cgi = []
    for i in range(CGI_RUNS):
        v = canary()
        r = s.cgi("POST", "share", body={"secret": v})
        cgi.append(("create", answer(r)))
        stderr += [x for x in r.stderr.splitlines() if x.strip()]
        if answer(r) != "200":
            continue
        r2 = s.cgi("GET", "private/" + r.json["metadata_key"])
        r3 = s.cgi("POST", "secret/" + r.json["secret_key"])
        cgi.append(("receipt", answer(r2)))
        cgi.append(("reveal", "200" if value_of(r3) == v else answer(r3)))
    is_([a for a in cgi if a[1] != "200"][:10], [],
        "transaction pooling, plain CGI: %d creates, receipts and reveals all answered, each reveal its "
        "own value" % len(cgi))
    logged = [x for x in new_lines(out, since).splitlines() if x.strip()] + stderr
    pg_errors = [x.split("ERROR:", 1)[1].strip() for x in new_lines(s.cluster.log_path, pg_since).splitlines()
                 if "ERROR:" in x]

    def tally(lines):
        n = {}
        for line in lines:
            k = re.sub(r'"[a-z_]*[0-9]+"', '"NAME"', line)
            n[k] = n.get(k, 0) + 1
        return sorted(n.items(), key=lambda x: -x[1])
    counts = tally("%s: %s" % a for a in answers)
    diag("transaction pooling: %d requests: %s" % (len(answers), counts))
    for k, n in tally(logged):
        diag("  ots logged %4d x %s" % (n, k))
    for k, n in tally(pg_errors):
        diag("  PostgreSQL logged %4d x ERROR: %s" % (n, k))
    odd = [a for a in answers if a[1] not in ("200", "intended 503")]
    is_(odd[:10], [], "transaction pooling, FastCGI: each of %d requests answered 200 or, when the store "
        "failed, 404 intended 503: no wrong answer, no 5xx, no crash" % len(answers))
    wrong = [k for k, v in revealed.items() if made.get(k) != v]
    is_(wrong, [], "transaction pooling: each of the %d reveals that answered gave its own secret's value"
        % len(revealed))
    failed = sum(1 for a in answers if a[1] == "intended 503")
    return failed, len(answers), [k for k, n in tally(pg_errors)]


def main():
    sink = otstest.SmtpSink()
    sink.start()
    s = otstest.Server(engine="postgresql", max_procs=WORKERS, start=False,
                       conf={"limit.burn_secret": LIMIT, "smtp_port": sink.port})
    s.sink = sink
    v = subprocess.run([pgbouncer_program(), "--version"], capture_output=True, text=True).stdout.splitlines()
    diag("%s; %s" % (v[0] if v else "pgbouncer", pgcluster.pg_version()))

    b = Bouncer(s.cluster, os.path.join(s.tmp, "pgbouncer-transaction"), "transaction")
    b.start()
    try:
        failed, total, errors = transaction(s, b)
    finally:
        b.stop()
    diag("transaction pooling: %d of %d requests answered 503; PostgreSQL's errors: %s" % (failed, total, errors))

    b = Bouncer(s.cluster, os.path.join(s.tmp, "pgbouncer-session"), "session")
    b.start()
    try:
        session(s, b)
        ok(b.proc.poll() is None, "PgBouncer still runs (PID %d)" % b.proc.pid)
    finally:
        b.stop()
    ok(wait_until(lambda: server_backends(s) == 0, 10) is not False and server_backends(s) == 0,
       "PgBouncer stopped by its PID: no server connection left")


if __name__ == "__main__":
    if not pgbouncer_program():
        print("1..0 # SKIP pgbouncer not installed (Debian: apt-get install pgbouncer)")
        sys.exit(0)
    if not os.access(pgcluster.program("postgres"), os.X_OK):
        print("1..0 # SKIP PostgreSQL's server programs not found in %s" % pgcluster.PGBIN)
        sys.exit(0)
    otstest.run(main)
