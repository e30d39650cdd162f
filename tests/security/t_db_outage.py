#!/usr/bin/env python3
"""Promise 8 with the database as the dependency, and promise 7 for the
database server (PostgreSQL; SQLite has no server to lose): with 4 FastCGI
workers serving,

- every worker's connection is killed (pg_terminate_backend): each worker
  answers at most one 503 for it, then all serve again;
- the cluster is stopped (a fast shutdown): every create during the outage
  is answered promptly (a 503, never a hang or another 5xx), and once the
  cluster is back every worker serves again without a restart;
- the cluster is killed (kill -9 of postgres and its children) while
  clients create secrets, then started (crash recovery): every answer is a
  200 or a 503 (a create in flight at the crash may get the handlers' 500),
  every create answered 200 still reveals its value, once, and pg_amcheck
  finds no corruption.

No worker dies in any of this (a failure inside a request is a 5xx for
that request, never the end of the worker): the FastCGI workers are the
same processes at the end."""

import collections
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from otstest import POSTGRESQL, Server, canary, diag, is_, ok, parallel, run, skip  # noqa: E402

WORKERS = 4
ROUND = 8          # parallel creates per round: every worker gets some
ROUNDS_AFTER = 6
OUTAGE_REQUESTS = 8
PROMPT = 10.0      # seconds: an answer during the outage comes within this
BACK_WITHIN = 30.0


def code(r):
    """The status a v1 answer means: 200, or the intended status of an error
    (v1 errors travel as HTTP 404), or the exception's name."""
    if isinstance(r, Exception):
        return type(r).__name__
    if r.status == 404 and r.intended:
        return r.intended
    return r.status


class Ledger:
    def __init__(self):
        self.acked = {}   # secret_key -> value
        self.lock = threading.Lock()

    def create(self, s):
        v = canary()
        r = s.share(secret=v)
        if r.status == 200 and isinstance(r.json, dict):
            with self.lock:
                self.acked[r.json["secret_key"]] = v
        return r


def rounds(s, ledger, n):
    """n rounds of ROUND parallel creates: the codes, round by round."""
    return [[code(r) for r in parallel(ROUND, lambda i: ledger.create(s))] for _ in range(n)]


def serving_again(s, ledger, within):
    """Seconds until three rounds in a row are all 200 (None: not within)."""
    t0 = time.monotonic()
    good = 0
    while time.monotonic() - t0 < within:
        good = good + 1 if all(c == 200 for c in rounds(s, ledger, 1)[0]) else 0
        if good == 3:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def main():
    if not POSTGRESQL:
        skip("database server outages: connections killed, restart, crash",
             "SQLite: no database server (OTS_TEST_ENGINE=postgresql runs this)")
        return
    s = Server(max_procs=WORKERS)
    c = s.cluster
    ledger = Ledger()
    first = rounds(s, ledger, 2)
    ok(all(x == 200 for rd in first for x in rd), "before: %d creates answered 200" % (2 * ROUND), first)
    pids = s.worker_pids()
    ok(len(pids) >= WORKERS, "%d FastCGI workers" % WORKERS, sorted(pids))
    diag("the workers hold %d connections as ots_web" % c.backends())

    # -- every connection killed
    n = c.terminate_backends()
    after = rounds(s, ledger, ROUNDS_AFTER)
    flat = [x for rd in after for x in rd]
    diag("%d connections terminated; then, round by round: %s" % (n, after))
    ok(n >= 1, "the workers' connections were terminated (%d)" % n)
    ok(all(x in (200, 503) for x in flat), "connections killed: every answer a 200 or a 503",
       [x for x in flat if x not in (200, 503)])
    ok(flat.count(503) <= len(pids), "at most one 503 per worker (%d for %d workers)" % (flat.count(503), len(pids)))
    ok(all(x == 200 for rd in after[-3:] for x in rd), "then every create answers 200 (the last %d)" % (3 * ROUND),
       after[-3:])

    # -- the cluster stopped, then started again
    ok(c.stop(), "the cluster stops (fast shutdown)")
    t0 = time.monotonic()
    slow, outage = [], []
    for _ in range(OUTAGE_REQUESTS):
        t = time.monotonic()
        try:
            r = s.share(secret=canary())
            outage.append(code(r))
        except OSError as e:
            outage.append(type(e).__name__)
        if time.monotonic() - t > PROMPT:
            slow.append(round(time.monotonic() - t, 1))
    diag("during the outage: %s in %.1f s" % (outage, time.monotonic() - t0))
    is_(outage, [503] * OUTAGE_REQUESTS, "during the outage every create answers 503 (Service unavailable)")
    is_(slow, [], "and promptly (within %.0f s each)" % PROMPT)
    c.start()
    took = serving_again(s, ledger, BACK_WITHIN)
    ok(took is not None, "after the restart every worker serves again without a restart of its own (%s s)"
       % (None if took is None else round(took, 1)))

    # -- kill -9 of the cluster under traffic, then crash recovery
    stop = threading.Event()
    during = []

    def client():
        while not stop.is_set():
            try:
                during.append(code(ledger.create(s)))
            except OSError as e:
                during.append(type(e).__name__)
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    acked_before = len(ledger.acked)
    c.kill()
    time.sleep(1.0)
    c.start()
    took = serving_again(s, ledger, BACK_WITHIN)
    stop.set()
    for t in threads:
        t.join(60)
    tally = dict(collections.Counter(map(str, during)))
    diag("traffic through the crash: %s; %d creates acknowledged before it" % (tally, acked_before))
    # a create whose statement the crash cut off is a SECRET_ERROR to the
    # handlers, which answer 500 for it (store.h asks its callers for 503)
    cut = during.count(500)
    ok(all(x in (200, 503, 500) for x in during) and cut <= len(threads),
       "through the crash every answer a 200 or a 503 (or a 500 for a request in flight, at most one per client)",
       [x for x in during if x not in (200, 503)][:10])
    if cut:
        diag("%d answered 500 (An internal error occurred): cut off by the crash, not 503" % cut)
    ok(took is not None, "after crash recovery every worker serves again (%s s)"
       % (None if took is None else round(took, 1)))

    # -- what was acknowledged is there, once
    wrong, twice = [], []
    for key, v in ledger.acked.items():
        r = s.reveal(key)
        if (r.json or {}).get("value") != v:
            wrong.append("%s: %s" % (key, code(r)))
        elif s.reveal(key).status == 200:
            twice.append(key)
    is_(wrong, [], "every one of the %d acknowledged creates reveals its value" % len(ledger.acked))
    is_(twice, [], "and only once")
    is_(sorted(s.worker_pids()), sorted(pids), "the FastCGI workers are the same processes (none died)")
    s.stop()
    for good, what, detail in s.integrity():
        ok(good, what, detail)


if __name__ == "__main__":
    run(main)
