#!/usr/bin/env python3
"""Exactly once under concurrency: many simultaneous reveals of one secret
against several FastCGI workers, reveals racing burns, parallel creates."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, canary, diag, is_, ok, parallel, run  # noqa: E402

WORKERS = 4
REVEALERS = 64
TRIALS = 20
RACE_TRIALS = 10
WINDOW = 20 * 60 + 1  # a fresh rate-limit window per trial


def loser(r):
    """A refused reveal/burn: a v1 error that carries no value."""
    return (not isinstance(r, Exception) and r.status == 404 and isinstance(r.json, dict)
            and "value" not in r.json and r.intended in (404, 429))


def main():
    s = Server(max_procs=WORKERS)
    diag("%d FastCGI workers: %s" % (WORKERS, sorted(s.worker_pids())))

    # -- many reveals of one secret
    t0 = time.monotonic()
    winners_per_trial = []
    for trial in range(TRIALS):
        s.advance(WINDOW)
        v = canary()
        key = s.create(v)["secret_key"]
        rs = parallel(REVEALERS, lambda i: s.reveal(key))
        wins = [r for r in rs if not isinstance(r, Exception) and r.status == 200]
        plain = [r for r in wins if (r.json or {}).get("value") == v]
        bad = [r for r in rs if isinstance(r, Exception) or (r.status != 200 and not loser(r))]
        winners_per_trial.append(len(plain))
        ok(len(wins) == 1 and len(plain) == 1 and not bad,
           "trial %d: %d concurrent reveals, exactly one plaintext" % (trial + 1, REVEALERS),
           ["winners %d, with the value %d" % (len(wins), len(plain))]
           + [repr(b if isinstance(b, Exception) else (b.status, b.body[:120]))[:200] for b in bad[:5]])
    diag("%d trials x %d concurrent reveals on %d workers: plaintexts per trial %s (%.1f s)"
         % (TRIALS, REVEALERS, WORKERS, winners_per_trial, time.monotonic() - t0))
    is_(sum(winners_per_trial), TRIALS, "exactly %d plaintexts in %d trials" % (TRIALS, TRIALS))

    # -- reveals racing burns
    outcomes = []
    for trial in range(RACE_TRIALS):
        s.advance(WINDOW)
        v = canary()
        m = s.create(v)
        half = REVEALERS // 2
        rs = parallel(REVEALERS, lambda i: s.reveal(m["secret_key"]) if i % 2 else s.burn(m["metadata_key"]))
        reveals = [r for i, r in enumerate(rs) if i % 2 and not isinstance(r, Exception) and r.status == 200]
        burns = [r for i, r in enumerate(rs) if not i % 2 and not isinstance(r, Exception) and r.status == 200]
        bad = [r for r in rs if isinstance(r, Exception) or (r.status != 200 and not loser(r))]
        state = (s.metadata(m["metadata_key"]).json or {}).get("state")
        want = "received" if reveals else "burned"
        outcomes.append("%s" % ("reveal" if reveals else "burn"))
        ok(len(reveals) + len(burns) == 1 and not bad and state == want
           and all((r.json or {}).get("value") == v for r in reveals),
           "race %d: %d reveals vs %d burns, one winner, metadata %s" % (trial + 1, half, half, want),
           "reveals won %d, burns won %d, state %r, bad %r" % (len(reveals), len(burns), state,
                                                                [repr(b)[:120] for b in bad[:3]]))
    diag("race winners: %s" % outcomes)

    # -- parallel creates: every acknowledged secret is there, once
    s.advance(WINDOW)
    values = [canary() for _ in range(REVEALERS)]
    rs = parallel(REVEALERS, lambda i: s.share(secret=values[i]))
    created = [r for r in rs if not isinstance(r, Exception) and r.status == 200]
    is_(len(created), REVEALERS, "%d parallel creates all answered 200" % REVEALERS)
    keys = [(r.json or {}).get("secret_key") for r in created]
    is_(len(set(keys)), len(keys), "and got distinct keys")
    s.advance(WINDOW)
    got = [(s.reveal(k).json or {}).get("value") for k in keys]
    is_(sorted(got, key=str), sorted(values), "each of them reveals its own value")
    ok(s.alive(), "lighttpd still running")


if __name__ == "__main__":
    run(main)
