#!/usr/bin/env python3
"""Promise 1, exactly once, at scale: 64 simultaneous reveals of one secret
against 4 FastCGI workers in 200 trials (plus passphrase-protected trials),
and reveals racing burns in 50 trials: exactly one plaintext per trial, one
winner per race, never both.  (tests/integration/t_concurrency.py runs the
small version of this on every check.)"""

import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from otstest import Server, canary, diag, is_, ok, parallel, passphrase, run  # noqa: E402

WORKERS = 4
REVEALERS = 64
TRIALS = 200
PASS_TRIALS = 10     # the same with a passphrase (each check costs an scrypt)
RACE_TRIALS = 50
RACERS = 16          # per race: half reveal, half burn


def answer(r):
    """A short description of one response, for the tallies."""
    if isinstance(r, Exception):
        return "exception %s" % type(r).__name__
    if r.status == 200:
        return "200"
    return "%d/%s" % (r.status, r.intended)


def loser(r):
    """A refused reveal or burn: a v1 error without a value."""
    return (not isinstance(r, Exception) and r.status == 404 and isinstance(r.json, dict)
            and "value" not in r.json and r.intended in (404, 429))


def reveal_trials(s, trials, with_passphrase):
    """trials x REVEALERS simultaneous reveals; returns (plaintexts per trial, tally)."""
    per_trial, tally, failures = [], collections.Counter(), []
    for trial in range(trials):
        v = canary()
        p = passphrase() if with_passphrase else None
        key = s.create(v, **({"passphrase": p} if p else {}))["secret_key"]
        rs = parallel(REVEALERS, lambda i: s.reveal(key, **({"passphrase": p} if p else {})))
        tally.update(answer(r) for r in rs)
        wins = [r for r in rs if not isinstance(r, Exception) and r.status == 200]
        plain = [r for r in wins if (r.json or {}).get("value") == v]
        bad = [r for r in rs if isinstance(r, Exception) or (r.status != 200 and not loser(r))]
        per_trial.append(len(plain))
        if len(wins) != 1 or len(plain) != 1 or bad:
            failures.append("trial %d: %d winners, %d with the value, %d bad answers %s"
                            % (trial + 1, len(wins), len(plain), len(bad),
                               [answer(b) for b in bad[:5]]))
        # and afterwards it is gone for good
        r = s.reveal(key, **({"passphrase": p} if p else {}))
        if r.status == 200:
            failures.append("trial %d: a reveal after the race still answered 200" % (trial + 1))
    return per_trial, tally, failures


def main():
    s = Server(max_procs=WORKERS)
    pids = s.worker_pids()
    ok(len(pids) >= WORKERS, "lighttpd runs %d FastCGI workers" % WORKERS, sorted(pids))

    # -- 64 simultaneous reveals, 200 trials
    t0 = time.monotonic()
    per_trial, tally, failures = reveal_trials(s, TRIALS, False)
    took = time.monotonic() - t0
    diag("%d trials x %d simultaneous reveals on %d workers: %d requests in %.1f s"
         % (TRIALS, REVEALERS, WORKERS, TRIALS * REVEALERS, took))
    diag("answers: %s" % dict(sorted(tally.items())))
    diag("winners per trial: %s" % dict(collections.Counter(per_trial)))
    ok(not failures, "%d trials: exactly one plaintext in every trial" % TRIALS, failures[:10])
    is_(sum(per_trial), TRIALS, "%d plaintexts from %d reveals" % (sum(per_trial), TRIALS * REVEALERS))

    # -- the same with a passphrase: the attempt counter must not let two through
    t0 = time.monotonic()
    per_trial, tally, failures = reveal_trials(s, PASS_TRIALS, True)
    diag("%d passphrase trials x %d simultaneous right-passphrase reveals: %d requests in %.1f s; "
         "answers %s" % (PASS_TRIALS, REVEALERS, PASS_TRIALS * REVEALERS, time.monotonic() - t0,
                         dict(sorted(tally.items()))))
    ok(not failures and sum(per_trial) == PASS_TRIALS,
       "%d passphrase trials: exactly one plaintext in every trial" % PASS_TRIALS, failures[:10])

    # -- reveals racing burns
    t0 = time.monotonic()
    outcomes = collections.Counter()
    failures = []
    half = RACERS // 2
    for trial in range(RACE_TRIALS):
        v = canary()
        m = s.create(v)
        rs = parallel(RACERS, lambda i: s.reveal(m["secret_key"]) if i % 2 else s.burn(m["metadata_key"]))
        reveals = [r for i, r in enumerate(rs) if i % 2 and not isinstance(r, Exception) and r.status == 200]
        burns = [r for i, r in enumerate(rs) if not i % 2 and not isinstance(r, Exception) and r.status == 200]
        bad = [r for r in rs if isinstance(r, Exception) or (r.status != 200 and not loser(r))]
        state = (s.metadata(m["metadata_key"]).json or {}).get("state")
        after = s.reveal(m["secret_key"])
        if reveals and burns:
            outcomes["both"] += 1
        elif reveals:
            outcomes["reveal"] += 1
        elif burns:
            outcomes["burn"] += 1
        else:
            outcomes["none"] += 1
        want = "received" if reveals else "burned"
        good = (len(reveals) + len(burns) == 1 and not bad and state == want and after.status != 200
                and all((r.json or {}).get("value") == v for r in reveals)
                and all(((r.json or {}).get("state") or {}).get("state") == "burned" for r in burns))
        if not good:
            failures.append("race %d: reveals won %d, burns won %d, metadata %r, bad %s, reveal after: %d"
                            % (trial + 1, len(reveals), len(burns), state, [answer(b) for b in bad[:4]],
                               after.status))
    diag("%d races of %d reveals vs %d burns (%d requests) in %.1f s: winners %s"
         % (RACE_TRIALS, half, half, RACE_TRIALS * RACERS, time.monotonic() - t0, dict(outcomes)))
    ok(not failures, "%d races: one winner each, never both, metadata matches the winner" % RACE_TRIALS,
       failures[:10])
    is_(outcomes["both"], 0, "no race had both a reveal and a burn succeed")
    is_(sorted(s.worker_pids()), sorted(pids), "no worker died")
    ok(s.alive(), "lighttpd still running")


if __name__ == "__main__":
    run(main)
