#!/usr/bin/env python3
"""Several hosts sharing one PostgreSQL database (README: Several hosts).

Host A and host B are two lighttpd instances on their own ports, each with
its own directory, ots.conf, state directory and FastCGI workers, both
pointed at one PostgreSQL database (a cluster of the test's own) with one
master key (B's is a copy of A's); host C is a plain-CGI host (no web
server: cgi-bin/ots run per request) against the same database.

This test is about PostgreSQL, so it runs whatever OTS_TEST_ENGINE says:
with the default (sqlite) too it starts a cluster of its own when
PostgreSQL 15's server programs are installed (OTS_PGBIN, default
/usr/lib/postgresql/15/bin), and skips as a whole (1..0 # SKIP) when they
are not.

Asserted: a secret created on A is revealed on B, and A's receipt says
received; 64 simultaneous reveals of one secret split over both hosts give
exactly one plaintext, in every one of 20 trials; wrong passphrases on A
lock the secret on B (the right one refused there until the lock window
ends); a rate limit (limit.create_secret) is one count for both hosts; two
ots-sweep at once, one per host, remove expired secrets once and deliver
nothing; ots-mailer -1 run at once on every host (one mailer key pair,
copied like the master key) takes each message once (the delivery lease):
while the relay is down each message queued on A, B or C is attempted
once, and once it is back each reaches the SMTP sink exactly once; the
plain-CGI host creates and reveals in the same database.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otstest  # noqa: E402
import pgcluster  # noqa: E402

WORKERS = 3          # FastCGI workers per host
REVEALERS = 64
TRIALS = 20
WINDOW = 20 * 60 + 1  # past a rate-limit window
LOCK_AFTER = 5
LOCK_TIME = 30 * 60
LIMIT = 6             # limit.create_secret in the rate-limit case
SWEEP_ROUNDS = 3
EXPIRED_PER_ROUND = 40
MAIL_PER_ROUND = 6    # more than a mailer takes at once (mail_concurrency 4)
FROM = "ots@example.org"
CUST = "alice@example.org"


# the counts of ots-sweep's summary line (its tail, the rebuild and the
# time, is no matter here)
SWEEP_COUNTS = re.compile(r"^ots-sweep: (\d+) secrets and (\d+) receipts removed, (\d+) receipts expired, "
                          r"(\d+) notices queued, (\d+) mail records removed; ")


def sweep_counts(out):
    m = SWEEP_COUNTS.match(out) if len(out.splitlines()) == 1 else None
    return dict(zip(otstest.SWEEP_FIELDS, map(int, m.groups()))) if m else None


def have_postgresql():
    return os.access(pgcluster.program("postgres"), os.X_OK)


class Deployment:
    """Hosts A, B (FastCGI behind lighttpd) and C (plain CGI) on one
    database; advance() moves every clock, the database's included."""

    def __init__(self, conf):
        self.conf = dict(conf)
        self.a = otstest.Server(engine="postgresql", max_procs=WORKERS, conf=self.conf)
        self.b = self.host(start=True)
        self.c = self.host(start=False)
        self.hosts = [self.a, self.b, self.c]

    def host(self, start):
        """Another host of A's: made as an instance of its own (ots-admin
        init on a SQLite file of its own, then removed), then given A's
        database settings and a copy of A's master key."""
        a = self.a
        h = otstest.Server(engine="sqlite", max_procs=WORKERS, conf=self.conf, start=False)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(h.database_file + suffix):
                os.unlink(h.database_file + suffix)
        h.database_file = None
        h.database = a.database
        h.settings.update(database=a.settings["database"], migrate_database=a.settings["migrate_database"],
                          state_dir=h.state_dir)
        # one master key, and one mailer key pair: what a worker on any
        # host seals, the mailer on any host opens
        for k in ("master_key", "mailer_key", "mailer_public_key"):
            src, dst = a.settings[k], h.settings[k]
            os.chmod(dst, 0o600)
            shutil.copyfile(src, dst)
            os.chmod(dst, os.stat(src).st_mode & 0o777)
        if start:
            h.start()
        else:
            h._write_conf()
        return h

    def advance(self, seconds):
        for h in self.hosts:
            h.advance(seconds)

    def restart(self, **conf):
        """Both web servers again with these settings added (workers read
        ots.conf once)."""
        self.conf.update(conf)
        for h in (self.a, self.b, self.c):
            h.settings.update({k: str(v) for k, v in conf.items()})
            if h.proc:
                h.stop()
                h.start()
            else:
                h._write_conf()


def value_of(r):
    return (r.json or {}).get("value") if not isinstance(r, Exception) and r.status == 200 else None


def loser(r):
    return (not isinstance(r, Exception) and r.status == 404 and isinstance(r.json, dict)
            and "value" not in r.json and r.intended == 404)


def across(d):
    a, b, c = d.a, d.b, d.c
    otstest.diag("host A on port %d (workers %s), host B on port %d (workers %s), host C plain CGI; one "
                 "database: %s" % (a.port, sorted(a.worker_pids()), b.port, sorted(b.worker_pids()), a.database))
    otstest.ok(a.port != b.port and a.conf_path != b.conf_path and a.state_dir != b.state_dir,
               "A and B: other ports, configuration files and state directories")
    with open(a.master_key, "rb") as fa, open(b.master_key, "rb") as fb:
        otstest.ok(fa.read() == fb.read(), "one master key (B's is a copy of A's)")
    keys = {}
    for h in d.hosts:
        with open(h.settings["mailer_key"], "rb") as fk, open(h.settings["mailer_public_key"], "rb") as fp:
            keys[fk.read() + fp.read()] = True
    otstest.is_(len(keys), 1, "one mailer key pair (B's and C's are copies of A's)")

    v = otstest.canary()
    m = a.create(v)
    r = b.reveal(m["secret_key"])
    otstest.is_(value_of(r), v, "created on A, revealed on B")
    otstest.is_meta(a.metadata(m["metadata_key"]), "received", "A's receipt says received")
    otstest.is_unknown(a.reveal(m["secret_key"]), m["secret_key"], "and A cannot reveal it again")

    v = otstest.canary()
    m = b.create(v)
    otstest.is_(value_of(a.reveal(m["secret_key"])), v, "created on B, revealed on A")
    otstest.is_meta(b.metadata(m["metadata_key"]), "received", "B's receipt says received")

    v = otstest.canary()
    r = c.cgi("POST", "share", body={"secret": v})
    otstest.ok(r.status == 200 and r.rc == 0 and isinstance(r.json, dict) and r.json.get("secret_key"),
               "plain CGI host C creates a secret", [r.status, r.body[:200], r.stderr[-500:]])
    if r.status == 200 and isinstance(r.json, dict):
        otstest.is_(value_of(a.reveal(r.json["secret_key"])), v, "A reveals the secret C created")
        otstest.is_meta(c.cgi("GET", "private/" + r.json["metadata_key"]), "received",
                        "C's receipt (plain CGI) says received")
    v = otstest.canary()
    m = b.create(v)
    r = c.cgi("POST", "secret/" + m["secret_key"])
    otstest.is_(value_of(r), v, "C (plain CGI) reveals the secret B created")
    otstest.is_unknown(b.reveal(m["secret_key"]), m["secret_key"], "and B then finds it gone")


def exactly_once(d):
    a, b = d.a, d.b
    per_trial, bad = [], []
    for trial in range(TRIALS):
        v = otstest.canary()
        m = (a if trial % 2 else b).create(v)
        key = m["secret_key"]
        rs = otstest.parallel(REVEALERS, lambda i: (a if i % 2 else b).reveal(key))
        plain = [i for i, r in enumerate(rs) if value_of(r) == v]
        others = [r for r in rs if value_of(r) != v and not loser(r)]
        per_trial.append(len(plain))
        if len(plain) != 1 or others:
            bad.append("trial %d: %d plaintexts; %s" % (trial + 1, len(plain), [
                repr(r)[:120] if isinstance(r, Exception) else "%d/%s %r" % (r.status, r.intended, r.body[:80])
                for r in others[:3]]))
        else:
            winner = "A" if plain[0] % 2 else "B"
            per_trial[-1] = winner
    otstest.diag("%d trials x %d reveals (half on A, half on B): winners %s" % (TRIALS, REVEALERS, per_trial))
    otstest.is_(bad, [], "%d trials of %d simultaneous reveals over both hosts: exactly one plaintext in each, "
                "every other answer Unknown secret" % (TRIALS, REVEALERS))
    otstest.ok(set(per_trial) == {"A", "B"}, "both hosts won some trials (%d A, %d B)"
               % (per_trial.count("A"), per_trial.count("B")))


def lockout(d):
    a, b = d.a, d.b
    p = otstest.passphrase()
    v = otstest.canary()
    m = a.create(v, passphrase=p)
    key = m["secret_key"]
    wrong = [a.reveal(key, passphrase=otstest.canary()) for _ in range(LOCK_AFTER)]
    otstest.ok(all(r.status == 404 and r.intended == 404 for r in wrong),
               "%d wrong passphrases on A: each checked and refused" % LOCK_AFTER,
               ["%d/%s" % (r.status, r.intended) for r in wrong])
    r = b.reveal(key, passphrase=p)
    otstest.ok(r.status == 404 and r.intended == 429 and value_of(r) is None,
               "then on B the right passphrase is refused: locked (intended 429)", [r.status, r.intended, r.body])
    r = d.c.cgi("POST", "secret/" + key, body={"passphrase": p})
    otstest.ok(r.status == 404 and r.intended == 429, "and on C (plain CGI) too", [r.status, r.intended, r.body])
    d.advance(LOCK_TIME + 1)
    otstest.is_(value_of(b.reveal(key, passphrase=p)), v, "after the lock window B reveals it with the right "
                "passphrase")
    # the failures count across hosts: 4 on B and 1 on A make the next lock
    m = b.create(v, passphrase=p)
    for i in range(LOCK_AFTER):
        (b if i < LOCK_AFTER - 1 else a).reveal(m["secret_key"], passphrase=otstest.canary())
    r = b.reveal(m["secret_key"], passphrase=p)
    otstest.ok(r.intended == 429 and value_of(r) is None, "4 wrong passphrases on B and 1 on A lock it on B",
               [r.status, r.intended, r.body])


def rate_limit(d):
    d.restart(**{"limit.create_secret": LIMIT})
    a, b = d.a, d.b
    d.advance(WINDOW)
    got = []
    for i in range(LIMIT):
        got.append((a if i % 2 else b).share(secret=otstest.canary()).status)
    otstest.is_(got, [200] * LIMIT, "limit.create_secret = %d: %d creates, alternating B and A, succeed"
                % (LIMIT, LIMIT))
    for name, h in (("A", a), ("B", b)):
        r = h.share(secret=otstest.canary())
        otstest.ok(r.status == 404 and r.intended == 429 and r.headers.get("retry-after", "").isdigit(),
                   "the next create on %s: rate limited (intended 429, Retry-After %s)"
                   % (name, r.headers.get("retry-after")), [r.status, r.intended, r.body])
    r = d.c.cgi("POST", "share", body={"secret": otstest.canary()})
    otstest.ok(r.status == 404 and r.intended == 429, "and on C (plain CGI)", [r.status, r.intended, r.body])
    d.advance(WINDOW)
    otstest.is_(b.share(secret=otstest.canary()).status, 200, "in the next window B creates again")
    d.restart(**{"limit.create_secret": otstest.DEFAULT_CONF["limit.create_secret"]})


def is_said(got, want, desc, said):
    """is_, with what the programs said on failure."""
    return otstest.ok(got == want, desc, ["got:      %r" % (got,), "expected: %r" % (want,)] + list(said))


def mailers(d):
    """ots-mailer -1 on A, B and C at once (each with its own ots.conf):
    the summed counts, or None when one did not exit 0 with its summary;
    and what each said (a failed attempt is a line on stderr)."""
    res = otstest.parallel(3, lambda i: d.hosts[i].mail_once())
    said = [r if isinstance(r, Exception) else (r[0], r[2].strip(), r[3].strip()) for r in res]
    if any(isinstance(r, Exception) or r[0] != 0 or r[1] is None for r in res):
        return None, said
    return {k: sum(r[1][k] for r in res) for k in ("sent", "retry", "failed")}, said


def sweeps(d, sink):
    a, b, c = d.a, d.b, d.c
    token = a.add_customer(CUST)
    auth = (CUST, token)
    otstest.is_(b.request("GET", "authcheck", auth=auth).status, 200,
                "an account added with ots-admin on A authenticates on B")
    busy_seen, totals, rcpts_all = 0, [], []
    for rnd in range(SWEEP_ROUNDS):
        p = "round %d: " % (rnd + 1)
        sink.stop()
        before = len(sink.messages)
        for i in range(EXPIRED_PER_ROUND):
            (a if i % 2 else b).share(secret="x" * 64, ttl="60")
        rcpts = ["bob%d.%d@example.net" % (rnd, i) for i in range(MAIL_PER_ROUND)]
        got = []
        for i, to in enumerate(rcpts):
            v = otstest.canary()
            if i % 3 == 2:
                got.append(c.cgi("POST", "share", body={"secret": v, "recipient": to}, auth=auth).status)
            else:
                got.append((a if i % 3 else b).share(auth=auth, secret=v, recipient=to).status)
        otstest.is_(got, [200] * MAIL_PER_ROUND, p + "%d secrets with a recipient created on B, A and C (plain "
                    "CGI) while the relay is down" % MAIL_PER_ROUND)
        tot, said = mailers(d)
        is_said(tot, {"sent": 0, "retry": MAIL_PER_ROUND, "failed": 0},
            p + "ots-mailer -1 on A, B and C at once, relay down: each message attempted once, to retry",
            said)
        leaked = [to for to in rcpts for x in said if not isinstance(x, Exception) and to in x[2]]
        otstest.is_(leaked, [], p + "the mailers' lines name no recipient's address (obfuscated)")
        ls = a.mail_list()
        otstest.ok(len(ls) == MAIL_PER_ROUND * (rnd + 1)
                   and [x for x in ls if x["state"] == "queued"] == ls[:MAIL_PER_ROUND]
                   and all(x["attempts"] == 1 and x["error"] for x in ls[:MAIL_PER_ROUND]),
                   p + "mail list: the %d queued, attempts=1 each, with the error" % MAIL_PER_ROUND,
                   [x["raw"] for x in ls])
        sink.start()
        conns = sink.connections
        d.advance(121)  # past the retry (60 s) and the ttl-60 secrets' receipts (2 x 60 s)
        procs = [a.sweep(wait=False), b.sweep(wait=False)]
        res = [p_.communicate(timeout=300) + (p_.returncode,) for p_ in procs]
        busy = [o for o, e, rc in res if "another sweep is running" in o]
        summ = [sweep_counts(o) for o, e, rc in res]
        otstest.ok(all(rc == 0 and not e for o, e, rc in res) and len(busy) + sum(x is not None for x in summ) == 2,
                   p + "two sweeps at once (A's and B's configuration): both exit 0, each a summary or "
                   "'another sweep is running'", [repr(x) for x in res])
        tot = {k: sum(x[k] for x in summ if x) for k in ("secrets", "notices")}
        otstest.is_(tot, {"secrets": EXPIRED_PER_ROUND, "notices": 0},
                    p + "together they removed %d expired secrets" % EXPIRED_PER_ROUND)
        otstest.is_((sink.connections - conns, len(sink.messages) - before), (0, 0),
                    p + "and delivered nothing (the relay saw no connection)")
        tot, said = mailers(d)
        is_said(tot, {"sent": MAIL_PER_ROUND, "retry": 0, "failed": 0},
            p + "ots-mailer -1 on A, B and C at once, relay up: %d sent in all" % MAIL_PER_ROUND, said)
        sink.wait(before + MAIL_PER_ROUND, 10)
        otstest.is_(sorted(r for m in sink.messages[before:] for r in m.rcpt_tos), sorted(rcpts),
                    p + "the SMTP sink received each message exactly once")
        rcpts_all += rcpts
        busy_seen += len(busy)
        totals.append([o.strip() for o, e, rc in res] + [x[1] for x in said])
    rc, out, err = b.sweep()
    s = sweep_counts(out) or {}
    otstest.ok(rc == 0 and s.get("secrets") == 0, "a later sweep on B finds nothing to do", [out, err])
    rc, summary, out, err = b.mail_once()
    is_said((rc, summary), (0, {"sent": 0, "retry": 0, "failed": 0}), "a later ots-mailer -1 on B neither",
            [out, err])
    otstest.is_(sorted(r for m in sink.messages for r in m.rcpt_tos), sorted(rcpts_all),
                "the sink holds %d messages, each recipient's once" % len(rcpts_all))
    otstest.is_([x["state"] for x in a.mail_list()], ["sent"] * len(rcpts_all), "mail list: every message sent")
    otstest.diag("%d rounds: two sweeps at once (%d times one said 'another sweep is running'), three mailers "
                 "at once; outputs: %s" % (SWEEP_ROUNDS, busy_seen, totals))


def main():
    sink = otstest.SmtpSink()
    d = Deployment({"mail_from": FROM, "smtp_host": "127.0.0.1", "smtp_port": sink.port,
                    "passphrase_lock_after": LOCK_AFTER, "passphrase_lock_time": LOCK_TIME})
    across(d)
    exactly_once(d)
    lockout(d)
    rate_limit(d)
    sweeps(d, sink)


if __name__ == "__main__":
    if not have_postgresql():
        print("1..0 # SKIP PostgreSQL's server programs not found in %s" % pgcluster.PGBIN)
        sys.exit(0)
    otstest.run(main)
