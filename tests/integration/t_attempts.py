#!/usr/bin/env python3
"""Passphrase attempts per secret: locked for 30 minutes after 5 failures
(Unknown secret, intended 429), burned after 20; parallel guessing cannot
exceed the cap; failed burn passphrases count too."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, canary, diag, is_, is_meta, ok, parallel, passphrase, run  # noqa: E402

LOCK = 30 * 60


def locked(r, desc):
    """The locked answer: Unknown secret with intended 429 and no value."""
    j = r.json if isinstance(r.json, dict) else {}
    return ok(r.status == 404 and r.intended == 429 and "value" not in j and j.get("message") == "Unknown secret",
              desc,
              "HTTP %d intended %r body %r" % (r.status, r.intended, r.body[:200]))


def failed(r):
    j = r.json if isinstance(r.json, dict) else {}
    return r.status == 404 and "value" not in j


def main():
    s = Server(max_procs=4)

    # -- five failures lock the secret; the right passphrase waits out the lock
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    key = m["secret_key"]
    answers = [s.reveal(key, passphrase=p + str(i)) for i in range(5)]
    ok(all(r.status == 404 and (r.json or {}).get("message") == "Unknown secret" for r in answers),
       "5 wrong passphrases: Unknown secret each", [a.body[:100] for a in answers])
    locked(s.reveal(key, passphrase=p), "6th attempt with the right passphrase: locked (intended 429)")
    s.advance(LOCK - 120)
    locked(s.reveal(key, passphrase=p), "still locked 28 minutes later")
    s.advance(120 + 5)
    is_((s.reveal(key, passphrase=p).json or {}).get("value"), v, "after 30 minutes the right passphrase reveals")

    # -- twenty failures burn it
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    key = m["secret_key"]
    for window in range(4):
        rs = [s.reveal(key, passphrase=canary()) for _ in range(5)]
        ok(all(failed(r) for r in rs), "lock window %d: 5 wrong passphrases refused" % (window + 1))
        s.advance(LOCK + 5)
    is_meta(s.metadata(m["metadata_key"]), "burned", "after 20 failures the secret is burned")
    r = s.reveal(key, passphrase=p)
    ok(r.status == 404 and "value" not in (r.json or {}), "the right passphrase no longer reveals it", r.body[:200])

    # -- parallel guessing is capped: each answer is a checked wrong guess, a
    # lock, or "busy" (the gate lets one hash per client run at a time, so how
    # many of a burst are checked depends on the machine); bursts go on until
    # the lock, and the checked guesses never pass the lock's five
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    key = m["secret_key"]
    kinds = {"wrong": 0, "locked": 0, "busy": 0, "other": 0}
    errs = []
    for _ in range(20):
        for r in parallel(50, lambda i: s.reveal(key, passphrase=canary())):
            j = r.json if not isinstance(r, Exception) and isinstance(r.json, dict) else {}
            if isinstance(r, Exception) or r.status >= 500 or "value" in j:
                errs.append(r)
            elif r.status == 404 and r.intended == 404 and j.get("message") == "Unknown secret":
                kinds["wrong"] += 1
            elif r.status == 404 and r.intended == 429 and j.get("message") == "Unknown secret":
                kinds["locked"] += 1
            elif r.status == 404 and r.intended == 429:
                kinds["busy"] += 1
            else:
                kinds["other"] += 1
        if kinds["locked"]:
            break
    diag("parallel guesses: %r" % kinds)
    ok(not errs and kinds["other"] == 0, "bursts of 50 parallel wrong passphrases: all refused, no 5xx",
       [repr(e)[:200] for e in errs[:5]])
    ok(kinds["locked"] > 0 and kinds["wrong"] == 5,
       "the bursts lock the secret after exactly 5 checked guesses", kinds)
    locked(s.reveal(key, passphrase=p), "after them the secret is locked")
    s.advance(LOCK + 5)
    is_((s.reveal(key, passphrase=p).json or {}).get("value"), v,
        "after the lock the right passphrase reveals: the bursts counted as at most 19 failures")

    # -- failed burns count as failed attempts
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    for _ in range(5):
        s.burn(m["metadata_key"], passphrase=canary())
    locked(s.reveal(m["secret_key"], passphrase=p), "5 wrong burn passphrases lock the secret")
    s.advance(LOCK + 5)
    is_((s.reveal(m["secret_key"], passphrase=p).json or {}).get("value"), v, "and it reveals after the lock")
    diag("clock advanced %d s in total" % s.offset)


if __name__ == "__main__":
    run(main)
