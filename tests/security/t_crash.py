#!/usr/bin/env python3
"""Promise 7, no acknowledged secret is lost: kill -9 random FastCGI
workers (at least 50 times) while clients create and reveal secrets, then
kill -9 lighttpd and every worker at once and start again.  A client-side
ledger records every create answered 200 (value and keys) and every reveal
answered 200.  Afterwards the store's integrity check passes (SQLite's
PRAGMA integrity_check and foreign_key_check, PostgreSQL's pg_amcheck),
no acknowledged secret is lost (each still reveals its exact value, or
was revealed exactly once -- a reveal whose answer was lost may have
consumed it), and none was revealed twice."""

import collections
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import otstest  # noqa: E402
from otstest import Server, canary, diag, is_, ok, passphrase, run, wait_until  # noqa: E402

WORKERS = 4
CLIENTS = 8
KILLS = 60
KILL_EVERY = (0.05, 0.25)   # seconds between kills, uniformly
FINAL_CRASHES = 3           # kill -9 of lighttpd and all workers, then restart


def workers(s):
    """PIDs of lighttpd's children that run cgi-bin/ots (a wrapper such as
    valgrind runs it under another exe: then every child counts)."""
    pids = set()
    for pid in s.worker_pids():
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            continue
        if os.environ.get("OTS_WRAPPER") or os.path.realpath(exe) == os.path.realpath(otstest.OTS):
            pids.add(pid)
    return pids


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}          # secret_key -> dict(value, pass_, metadata_key)
        self.revealed = collections.Counter()   # secret_key -> reveals answered 200
        self.wrong_value = []
        self.lost_answer = set()  # reveals whose answer never came (may have consumed it)
        self.counts = collections.Counter()


def from_app(r):
    """The answer came from ots (it sets these on every answer), not from
    lighttpd failing to reach a worker."""
    return r.headers.get("cache-control") == "no-store"


def client(s, ledger, stop, rng):
    while not stop.is_set():
        with ledger.lock:
            pending = [k for k in ledger.acked if not ledger.revealed[k] and k not in ledger.lost_answer]
        if pending and rng.random() < 0.4:
            key = rng.choice(pending)
            with ledger.lock:
                entry = ledger.acked[key]
            try:
                r = s.reveal(key, **({"passphrase": entry["pass_"]} if entry["pass_"] else {}))
            except ConnectionRefusedError:  # lighttpd is down: never sent
                with ledger.lock:
                    ledger.counts["reveal refused connection"] += 1
                time.sleep(0.02)
                continue
            except Exception:  # noqa: BLE001 - the worker died under us
                with ledger.lock:
                    ledger.lost_answer.add(key)
                    ledger.counts["reveal no answer"] += 1
                time.sleep(0.02)
                continue
            with ledger.lock:
                if r.status == 200:
                    ledger.revealed[key] += 1
                    ledger.counts["reveal 200"] += 1
                    if (r.json or {}).get("value") != entry["value"]:
                        ledger.wrong_value.append(key)
                elif r.status == 404 and r.intended == 404:
                    ledger.counts["reveal unknown"] += 1
                elif r.status == 503 and not from_app(r):
                    ledger.counts["reveal 503 (no worker reached)"] += 1
                else:  # the worker died during it: outcome unknown
                    ledger.lost_answer.add(key)
                    ledger.counts["reveal %d/%s" % (r.status, r.intended)] += 1
            if r.status >= 500:
                time.sleep(0.02)
        else:
            v = canary() * rng.randint(1, 8)
            p = passphrase() if rng.random() < 0.1 else None
            try:
                r = s.share(secret=v, **({"passphrase": p} if p else {}))
            except Exception:  # noqa: BLE001
                with ledger.lock:
                    ledger.counts["create no answer"] += 1
                time.sleep(0.02)
                continue
            with ledger.lock:
                if r.status == 200 and isinstance(r.json, dict) and r.json.get("secret_key"):
                    ledger.acked[r.json["secret_key"]] = dict(value=v, pass_=p,
                                                               metadata_key=r.json["metadata_key"])
                    ledger.counts["create 200"] += 1
                else:
                    ledger.counts["create %d/%s" % (r.status, r.intended)] += 1
            if r.status >= 500:
                time.sleep(0.02)


def wait_ready(s, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if s.request("GET", "status", timeout=2).status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def main():
    s = Server(max_procs=WORKERS)
    # lighttpd's children count from the fork, ots only from its exec
    ok(wait_until(lambda: len(workers(s)) >= WORKERS, 10), "%d FastCGI workers running" % WORKERS,
       sorted(workers(s)))
    ledger = Ledger()
    stop = threading.Event()
    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    threads = [threading.Thread(target=client, args=(s, ledger, stop, random.Random(seed + i + 1)))
               for i in range(CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()

    # -- kill -9 random workers while the clients run
    kills = 0
    killed = set()
    seen = set(workers(s))
    while kills < KILLS:
        time.sleep(rng.uniform(*KILL_EVERY))
        pids = sorted(workers(s))
        seen |= set(pids)
        if not pids:
            continue
        pid = rng.choice(pids)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills += 1
        killed.add(pid)
    traffic_kills = time.monotonic() - t0
    ok(wait_ready(s), "after %d kills the server answers again" % kills)
    alive = workers(s)
    seen |= alive
    diag("%d workers killed in %.1f s (seed %d); now running: %s" % (kills, traffic_kills, seed, sorted(alive)))

    # -- and everything at once, a few times, with the traffic still going
    for i in range(FINAL_CRASHES):
        time.sleep(rng.uniform(0.2, 0.6))
        pgid = s.proc.pid
        os.killpg(pgid, signal.SIGKILL)
        s.proc.wait()
        s.proc = None
        otstest.wait_until(lambda: not any(os.path.exists("/proc/%d" % p) for p in alive), 5)
        s.start()
        alive = workers(s)
    stop.set()
    for t in threads:
        t.join(60)
    took = time.monotonic() - t0
    c = ledger.counts
    diag("traffic %.1f s, %d clients: %s" % (took, CLIENTS, dict(sorted(c.items()))))
    diag("kills: %d workers (kill -9), then %d x lighttpd with all its workers; lighttpd started %d "
         "workers in all before those" % (kills, FINAL_CRASHES, len(seen)))
    ok(kills >= 50, "at least 50 workers killed (%d)" % kills)
    ok(c["create 200"] >= 200, "creates acknowledged during the kills: %d" % c["create 200"])

    # -- the database
    s.stop()
    for good, what, detail in s.integrity():
        ok(good, what, detail)
    s.start()

    # -- the ledger against what the server now says
    twice = [k for k, n in ledger.revealed.items() if n > 1]
    is_(twice, [], "no secret answered 200 to two reveals")
    is_(ledger.wrong_value, [], "every reveal answered 200 carried its own value")
    outcome = collections.Counter()
    lost = []
    for key, e in ledger.acked.items():
        r = s.reveal(key, **({"passphrase": e["pass_"]} if e["pass_"] else {}))
        got = (r.json or {}).get("value") if r.status == 200 else None
        if ledger.revealed[key]:
            outcome["revealed during traffic, gone now" if got is None else "revealed during traffic AND again"] += 1
            if got is not None:
                lost.append("%s: revealed twice" % key)
        elif key in ledger.lost_answer:
            outcome["reveal lost its answer: %s" % ("gone" if got is None else "still there")] += 1
            if got is not None and got != e["value"]:
                lost.append("%s: wrong value" % key)
        elif got == e["value"]:
            outcome["never revealed, reveals now"] += 1
        else:
            outcome["never revealed, LOST"] += 1
            lost.append("%s: HTTP %d intended %s" % (key, r.status, r.intended))
    diag("acknowledged secrets: %d; %s" % (len(ledger.acked), dict(sorted(outcome.items()))))
    is_(lost, [], "0 acknowledged secrets lost, none revealed twice (%d checked)" % len(ledger.acked))
    is_(outcome["revealed during traffic AND again"], 0, "none revealed twice")


if __name__ == "__main__":
    run(main)
