#!/usr/bin/env python3
"""The database failing under running workers (security.md promise 8:
nothing stalls, no worker stays broken once the dependency is back; and
promises 1 and 7: nothing revealed twice, no acknowledged secret lost),
on the engine of OTS_TEST_ENGINE.

PostgreSQL: while client threads create and reveal secrets, the cluster
is stopped (fast shutdown) and started again, killed (kill -9, crash
recovery) and started again, and the workers' connections are ended
(pg_terminate_backend) several times.  During each outage the API answers
404 with X-OTS-Intended-Status 503, never a 5xx of its own or of
lighttpd's; the service comes back without restarting lighttpd or its
workers (the same PIDs, each then serving); every create answered 200 is
revealable afterwards or was revealed by the traffic; no secret is
revealed twice.

SQLite: the database file replaced under the workers by a consistent
copy (the sqlite3 backup API, -wal and -shm removed as a restore would):
the next requests see the copy (a secret made before the copy reveals,
one made after is Unknown) without restarting anything; the file moved
away, then replaced by one that is not a database: 503 (API and pages),
then back to serving when the file is restored.
"""

import collections
import os
import random
import signal
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otstest  # noqa: E402
from otstest import Server, canary, diag, is_, is_error, is_unknown, ok, parallel, passphrase, run, \
    round_trips, wait_until  # noqa: E402

WORKERS = 4
CLIENTS = 4
TERMINATIONS = 3       # pg_terminate_backend rounds after each restart
CYCLES_MIN = 2         # fault cycles: stop/start, terminations, kill -9/start, terminations
TRAFFIC_MIN = 15.0     # seconds: more cycles until then
TRAFFIC_MAX = 30.0     # seconds: no cycle starts later than 10 s before this
REQUESTS_MAX = 8000    # and the clients stop after this many requests
STRAY_SLACK = 2.0      # seconds after a fault in which a 503 still belongs to it
LOCK_TIME = 1800       # passphrase_lock_time
RECOVERY = 30.0        # seconds for the service to come back after a fault
AFTER = 24             # sequential requests that must all succeed afterwards


def from_app(r):
    """ots sets Cache-Control: no-store on every answer; lighttpd's own
    errors (no worker reached) lack it."""
    return r.headers.get("cache-control") == "no-store"


# ---------------------------------------------------------------- PostgreSQL: traffic through outages

class Ledger:
    """What the clients saw: every acknowledged create, every reveal that
    returned a value, every answer's kind, and when the service answered
    200 or 503."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}                         # secret_key -> (value, passphrase)
        self.pending = []                       # acknowledged, not revealed, not being revealed
        self.revealed = collections.Counter()   # secret_key -> reveals answered with its value
        self.unsure = set()                     # a reveal of it answered 503: it may have claimed it
        self.consumed = set()                   # Unknown after such a reveal: claimed unanswered
        self.locked = set()                     # a passphrase secret locked after such reveals
        self.counts = collections.Counter()
        self.bad = []                           # answers no outage excuses
        self.events = []                        # (monotonic time, answered 200) for 200s and 503s
        self.requests = 0

    def note(self, kind, good=None, bad=None):
        with self.lock:
            self.counts[kind] += 1
            self.requests += 1
            if good is not None:
                self.events.append((time.monotonic(), good))
            if bad:
                self.bad.append(bad)

    def total(self, *kinds):
        with self.lock:
            return sum(self.counts[k] for k in kinds)


def classify(r, pp):
    """ok, unavailable (the app's 503), unknown (intended 404), busy (a
    passphrase found no room to be hashed: the rate-limit answer with
    Retry-After, README: Limits), or None."""
    if not from_app(r):
        return None
    if r.status == 200:
        return "ok"
    if r.status == 404 and r.intended == 503 and r.json == {"message": "Service unavailable"}:
        return "unavailable"
    if r.status == 404 and r.intended == 404:
        return "unknown"
    if pp and r.status == 404 and r.intended == 429 and (r.json or {}).get("message") == "Unknown secret":
        return "locked"
    if pp and r.status == 404 and r.intended == 429 and r.headers.get("retry-after", "").isdigit():
        return "busy"
    return None


def reveal_one(s, ledger, key):
    value, pp = ledger.acked[key]
    again = True  # back to the pending list afterwards
    try:
        r = s.reveal(key, **({"passphrase": pp} if pp else {}))
    except Exception as e:  # noqa: BLE001 - lighttpd is up all along: a failure
        with ledger.lock:
            ledger.unsure.add(key)
            ledger.pending.append(key)
        ledger.note("reveal error", bad="reveal: %r" % e)
        return
    kind = classify(r, pp)
    if kind == "ok" and (r.json or {}).get("value") == value:
        with ledger.lock:
            ledger.revealed[key] += 1
        again = False
        ledger.note("reveal 200", True)
    elif kind == "unavailable":
        # the claim may have committed as its connection died: revealed
        # again later, it shows whether it did
        with ledger.lock:
            ledger.unsure.add(key)
        ledger.note("reveal 503", False)
    elif kind == "busy":
        ledger.note("reveal busy (429)")
    elif kind == "locked" and key in ledger.unsure:
        # each reveal that reserved a passphrase attempt and then lost the
        # database (503) counts as an attempt that never reported back
        # (store.h): enough of them lock the secret for a window
        with ledger.lock:
            ledger.locked.add(key)
        again = False
        ledger.note("reveal locked after 503s")
    elif kind == "unknown" and key in ledger.unsure:
        with ledger.lock:
            ledger.consumed.add(key)
        again = False
        ledger.note("reveal unknown after a 503")
    else:
        again = False
        ledger.note("reveal %d/%s" % (r.status, r.intended),
                    bad="reveal of an acknowledged, unrevealed secret: %d/%s %r" % (r.status, r.intended,
                                                                                     r.body[:120]))
    if again:
        with ledger.lock:
            ledger.pending.append(key)


def create_one(s, ledger, rng):
    value = canary()
    pp = passphrase() if rng.random() < 0.05 else None
    try:
        r = s.share(secret=value, **({"passphrase": pp} if pp else {}))
    except Exception as e:  # noqa: BLE001
        ledger.note("create error", bad="create: %r" % e)
        return
    kind = classify(r, pp)
    if kind == "ok" and isinstance(r.json, dict) and r.json.get("secret_key"):
        with ledger.lock:
            ledger.acked[r.json["secret_key"]] = (value, pp)
            ledger.pending.append(r.json["secret_key"])
        ledger.note("create 200", True)
    elif kind == "unavailable":
        ledger.note("create 503", False)
    elif kind == "busy":
        ledger.note("create busy (429)")
    else:
        ledger.note("create %d/%s" % (r.status, r.intended),
                    bad="create: %d/%s %r" % (r.status, r.intended, r.body[:120]))


def client(s, ledger, stop, rng):
    """Create, or reveal a secret no other client is revealing."""
    while not stop.is_set() and ledger.requests < REQUESTS_MAX:
        key = None
        with ledger.lock:
            if ledger.pending and rng.random() < 0.45:
                key = ledger.pending.pop(rng.randrange(len(ledger.pending)))
        if key:
            reveal_one(s, ledger, key)
        else:
            create_one(s, ledger, rng)


def outages(events):
    """The spans (start, end) in which requests answered 503 and none 200:
    from the first 503 after a 200 to the next 200 (end None: still out)."""
    spans, start = [], None
    for t, good in sorted(events):
        if not good and start is None:
            start = t
        elif good and start is not None:
            spans.append((start, t))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


def serving(s, what):
    """AFTER creates and reveals in a row, then one create per worker slot
    at once: all succeed."""
    is_(round_trips(s, AFTER), [], "%s: %d sequential creates and reveals all succeed" % (what, AFTER))
    rs = parallel(4 * WORKERS, lambda i: s.share(secret=canary()))
    ok(all(not isinstance(r, Exception) and r.status == 200 for r in rs),
       "%s: %d parallel creates (every worker busy) all succeed" % (what, len(rs)),
       [repr(r)[:200] if isinstance(r, Exception) else "%d %r" % (r.status, r.body[:100]) for r in rs
        if isinstance(r, Exception) or r.status != 200])


def postgresql(s):
    import pgcluster
    c = s.cluster
    pids = s.worker_pids()
    port = c.port
    ledger = Ledger()
    stop = threading.Event()
    seed = random.SystemRandom().randrange(1 << 30)
    threads = [threading.Thread(target=client, args=(s, ledger, stop, random.Random(seed + i)))
               for i in range(CLIENTS)]
    ok_count = lambda: ledger.total("create 200", "reveal 200")  # noqa: E731
    t0 = time.monotonic()
    for t in threads:
        t.start()

    faults = []   # (what, seconds from the fault to the next 200, or None, 503s during it)

    def fault(what, action, restart):
        n_ok, n_503 = ok_count(), ledger.total("create 503", "reveal 503")
        t = time.monotonic()
        action()
        if restart:
            # the clients meet the outage before the server comes back
            wait_until(lambda: ledger.total("create 503", "reveal 503") > n_503, 5, 0.01)
            c.start()
        back = wait_until(lambda: ok_count() > n_ok, RECOVERY, 0.01)
        faults.append((what, time.monotonic() - t if back else None,
                       ledger.total("create 503", "reveal 503") - n_503, c.port, t, time.monotonic()))

    def terminate():
        wait_until(lambda: c.backends(pgcluster.WEB) > 0, 5, 0.01)
        ended.append(c.terminate_backends(pgcluster.WEB))

    ended = []
    cycles = 0
    try:
        ok(wait_until(lambda: ok_count() >= 100, 20), "traffic runs: %d requests succeeded before any fault"
           % ok_count())
        while cycles < CYCLES_MIN or (time.monotonic() - t0 < TRAFFIC_MIN and time.monotonic() - t0
                                      < TRAFFIC_MAX - 10):
            fault("stop/start", c.stop, True)
            for _ in range(TERMINATIONS):
                fault("pg_terminate_backend", terminate, False)
            fault("kill -9/start", c.kill, True)
            for _ in range(TERMINATIONS):
                fault("pg_terminate_backend", terminate, False)
            cycles += 1
        # some traffic after the last fault
        n = ok_count()
        wait_until(lambda: ok_count() >= n + 50, 10, 0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    took = time.monotonic() - t0

    # -- what the clients saw
    cnt = ledger.counts
    spans = outages(ledger.events)
    longest = max([(b or time.monotonic()) - a for a, b in spans] or [0])
    n503 = ledger.total("create 503", "reveal 503")
    diag("traffic %.1f s, %d clients, seed %d: %d requests: %s" % (took, CLIENTS, seed, ledger.requests,
                                                                  dict(sorted(cnt.items()))))
    for what in ("stop/start", "kill -9/start", "pg_terminate_backend"):
        f = [x for x in faults if x[0] == what]
        rec = [x[1] for x in f if x[1] is not None]
        diag("%d x %s: 503s during each %s; first 200 after %s s" % (
            len(f), what, [x[2] for x in f], ["%.2f" % x for x in rec]))
    diag("pg_terminate_backend ended %s connections; %d answers 503 (intended) in %d outages; longest outage "
         "%.2f s" % (ended, n503, len(spans), longest))
    is_(ledger.bad[:10], [], "%d requests in %d fault cycles: every answer 200, intended 503, or a passphrase's "
        "429 (busy, or locked after 503s); no lighttpd 5xx, no other 5xx" % (ledger.requests, cycles))
    ok(n503 > 0, "the outages were seen: %d requests answered 503 (intended)" % n503)
    ok(all(x[1] is not None for x in faults), "after each of the %d faults the service came back without a "
       "restart of lighttpd or the workers (within %d s: longest %.2f s)"
       % (len(faults), RECOVERY, max(x[1] or RECOVERY for x in faults)),
       ["%s: not back" % x[0] for x in faults if x[1] is None])
    is_(sorted(set(x[3] for x in faults)), [port], "the cluster came back on its port each time")
    ok(sum(ended) >= TERMINATIONS, "pg_terminate_backend ended the workers' connections (%d in all)" % sum(ended))
    # a 503 belongs to a fault: from its start until shortly after the
    # service answered again (requests then in flight, a terminated
    # backend noticed late)
    stray = [e - t0 for e, good in ledger.events if not good
             and not any(f[4] <= e <= f[5] + STRAY_SLACK for f in faults)]
    late = sorted(max(0, e - max([f[5] for f in faults if f[4] <= e] or [e])) for e, good in ledger.events
                  if not good)
    diag("503s after their fault's service was back: the latest %.3f s after" % (late[-1] if late else 0))
    is_(["%.3f s" % x for x in stray], [], "no 503 outside a fault (from its start to %.1f s after the service "
        "answered again)" % STRAY_SLACK)

    # -- the workers
    is_(s.worker_pids(), pids, "the FastCGI workers are the ones from before the faults (%d, not restarted)"
        % len(pids))
    ok(s.alive(), "lighttpd still runs")
    serving(s, "afterwards")
    is_(s.worker_pids(), pids, "still the same workers")

    # -- the ledger, after any passphrase lock window (nothing else
    # expires in it)
    s.advance(LOCK_TIME + 1)
    twice = [k for k, n in ledger.revealed.items() if n > 1]
    lost, again, consumed, late = [], [], 0, []
    for key, (value, pp) in ledger.acked.items():
        r = s.reveal(key, **({"passphrase": pp} if pp else {}))
        got = (r.json or {}).get("value") if r.status == 200 else None
        if ledger.revealed[key]:
            if got is not None:
                again.append(key)
        elif got == value:
            continue
        elif key in ledger.unsure and r.status == 404 and r.intended == 404:
            consumed += 1  # a reveal answered 503 claimed it as its connection died
        elif key in ledger.unsure and classify(r, pp) == "locked":
            # reveals answered 503 used up its window without reporting
            # back: the first attempt after that starts the lock (store.h)
            late.append(key)
        else:
            lost.append((key, r.status, r.intended, r.body[:80]))
    if late:
        s.advance(LOCK_TIME + 1)
    for key in late:
        value, pp = ledger.acked[key]
        r = s.reveal(key, passphrase=pp)
        if r.status != 200 or (r.json or {}).get("value") != value:
            lost.append((key, r.status, r.intended, r.body[:80]))
    ledger.locked.update(late)
    n_rev = sum(1 for k in ledger.revealed if ledger.revealed[k])
    diag("%d creates acknowledged: %d revealed during the traffic, %d revealed now (%d of them passphrase "
         "secrets locked by reveals answered 503), %d claimed by a reveal answered 503 (outcome unknown to its "
         "client), %d lost; %d revealed twice"
         % (len(ledger.acked), n_rev, len(ledger.acked) - n_rev - consumed - len(lost), len(ledger.locked),
            consumed, len(lost), len(twice) + len(again)))
    ok(len(ledger.acked) >= 200, "at least 200 creates acknowledged (%d)" % len(ledger.acked))
    is_(lost, [], "0 acknowledged creates lost")
    is_(twice + again, [], "0 secrets revealed twice")
    good, detail = c.amcheck()
    ok(good, "pg_amcheck: no corruption", detail[-2000:])


# ---------------------------------------------------------------- SQLite: the file replaced, missing, broken

def value_of(r):
    return (r.json or {}).get("value") if r.status == 200 else None


def copy_database(s, path):
    """A consistent copy (the sqlite3 backup API), 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(s.database, timeout=30)
    dst = sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def sqlite_restore(s):
    """A restore: a consistent copy swapped in under the running workers."""
    pids = s.worker_pids()
    a, c, b = canary(), canary(), canary()
    ma = s.create(a)
    mc = s.create(c)
    copy = s.database + ".backup"
    copy_database(s, copy)
    mb = s.create(b)
    is_(value_of(s.reveal(mc["secret_key"])), c, "C, made before the copy, is revealed after it")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(s.database + suffix):
            os.unlink(s.database + suffix)
    os.replace(copy, s.database)
    is_(value_of(s.reveal(ma["secret_key"])), a, "restored: A, made before the copy, reveals its value")
    is_unknown(s.reveal(mb["secret_key"]), mb["secret_key"], "restored: B, made after the copy, is Unknown secret")
    rs = parallel(4 * WORKERS, lambda i: s.metadata(mb["metadata_key"]))
    ok(all(not isinstance(r, Exception) and r.status == 404 and r.intended == 404 for r in rs),
       "restored: %d parallel requests (every worker) find no receipt of B" % len(rs),
       [repr(r)[:200] if isinstance(r, Exception) else "%d/%s" % (r.status, r.intended) for r in rs])
    # README, backups: a restore brings back what was revealed since
    is_(value_of(s.reveal(mc["secret_key"])), c, "restored: C, revealed after the copy, reveals again (as the "
        "README warns)")
    is_(s.worker_pids(), pids, "restored: the same workers serve (not restarted)")
    is_(s.sql("PRAGMA integrity_check"), [("ok",)], "restored: PRAGMA integrity_check ok")
    is_(s.sql("PRAGMA journal_mode"), [("wal",)], "restored: the database is still in WAL mode")


def sqlite_outage(s):
    """The file missing, then not a database, then restored."""
    pids = s.worker_pids()
    v = canary()
    m = s.create(v)
    out = os.path.join(s.tmp, "lighttpd.out")
    names = [s.database + x for x in ("", "-wal", "-shm")]
    for p in names:
        if os.path.exists(p):
            os.rename(p, p + ".away")

    def refused(what):
        rs = parallel(4 * WORKERS, lambda i: s.share(secret=canary()))
        bad = [repr(r)[:200] if isinstance(r, Exception) else "%d/%s %r" % (r.status, r.intended, r.body[:80])
               for r in rs if isinstance(r, Exception) or not (r.status == 404 and r.intended == 503 and from_app(r))]
        is_(bad, [], "%s: %d parallel creates answer 404, intended 503" % (what, len(rs)))
        r = s.request("GET", "/")
        ok(r.status == 503 and from_app(r), "%s: the create page answers 503" % what, "%d" % r.status)
        is_error(s.reveal(m["secret_key"]), "Service unavailable", "%s: a reveal answers Service unavailable"
                 % what, intended=503)

    since = os.path.getsize(out)
    refused("database file missing")
    with open(out, "rb") as f:
        f.seek(since)
        log = f.read().decode("utf-8", "replace")
    ok("unable to open database file" in log, "the workers log that the file cannot be opened",
       log[-1000:])
    junk = s.database + ".junk"
    fd = os.open(junk, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(8192))
    os.replace(junk, s.database)
    since = os.path.getsize(out)
    refused("not a database")
    with open(out, "rb") as f:
        f.seek(since)
        log = f.read().decode("utf-8", "replace")
    ok("not a database" in log, "the workers log that the file is not a database", log[-1000:])
    # back: the WAL and shared memory first, the database last (atomically)
    for p in reversed(names):
        if os.path.exists(p + ".away"):
            os.replace(p + ".away", p)
    t = time.monotonic()
    back = wait_until(lambda: s.share(secret=canary()).status == 200, RECOVERY)
    ok(back, "restored: a create succeeds again (%.2f s)" % (time.monotonic() - t))
    serving(s, "restored")
    is_(value_of(s.reveal(m["secret_key"])), v, "restored: the secret made before the outage reveals its value")
    is_(s.worker_pids(), pids, "restored: the same workers serve (not restarted)")
    is_(s.sql("PRAGMA integrity_check"), [("ok",)], "restored: PRAGMA integrity_check ok")


def main():
    s = Server(max_procs=WORKERS, conf={"passphrase_lock_time": LOCK_TIME})
    diag("engine %s, %d FastCGI workers %s" % (s.engine, WORKERS, sorted(s.worker_pids())))
    if s.cluster:
        postgresql(s)
        otstest.skip("SQLite: the file replaced by a restore, missing, not a database", "SQLite only")
    else:
        otstest.skip("PostgreSQL: the cluster stopped, killed, connections ended under traffic",
                     "PostgreSQL only (OTS_TEST_ENGINE=postgresql)")
        sqlite_restore(s)
        sqlite_outage(s)


if __name__ == "__main__":
    run(main)
