#!/usr/bin/env python3
"""Expiry with a faked clock (tests/integration/fakeclock.so in the ots
processes): a secret lives ttl seconds, its metadata 2 x ttl; expired secrets
are unreadable before any sweep."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, diag, is_, is_error, is_meta, is_unknown, ok,  # noqa: E402
                     passphrase, run)


def near(got, want, slack=3):
    return type(got) is int and abs(got - want) <= slack


def main():
    s = Server()
    a = s.create(ttl="60")                      # revealed after expiry
    p = passphrase()
    b = s.create(ttl="60", passphrase=p)        # burned after expiry
    c = s.create(ttl="60")                      # metadata watched
    v = canary()
    d = s.create(v, ttl="60")                   # revealed before expiry
    e_val = canary()
    e = s.create(e_val, ttl="3600")             # outlives the others

    r = s.metadata(c["metadata_key"])
    j = r.json or {}
    ok(j.get("secret_ttl") == 60 and j.get("metadata_ttl") == 120, "at creation: secret_ttl 60, metadata_ttl 120",
       r.body[:300])

    s.advance(30)
    r = s.metadata(c["metadata_key"])
    j = r.json or {}
    ok(near(j.get("secret_ttl"), 30) and near(j.get("metadata_ttl"), 90),
       "after 30 s: secret_ttl ~30, metadata_ttl ~90", r.body[:300])
    is_meta(r, "viewed", "after 30 s: state viewed", ttl=60)
    is_((s.reveal(d["secret_key"]).json or {}).get("value"), v, "after 30 s a 60 s secret still reveals")

    s.advance(31)
    is_unknown(s.reveal(a["secret_key"]), a["secret_key"], "after 61 s: reveal answers Unknown secret")
    is_unknown(s.reveal(b["secret_key"], passphrase=p), b["secret_key"],
               "after 61 s: reveal with the passphrase answers Unknown secret")
    is_error(s.burn(b["metadata_key"], passphrase=p), "Unknown secret", "after 61 s: burn answers Unknown secret",
             intended=404, secret_key=b["metadata_key"], key_optional=True)
    for name, m in (("revealed-after-expiry", a), ("burned-after-expiry", b), ("watched", c)):
        r = s.metadata(m["metadata_key"])
        is_meta(r, "expired", "after 61 s, %s metadata: expired, secret_key \"\", secret_ttl null" % name, ttl=60)
        ok(near((r.json or {}).get("metadata_ttl"), 59), "after 61 s, %s metadata_ttl ~59" % name, r.body[:300])
    is_meta(s.metadata(d["metadata_key"]), "received", "a secret revealed in time stays received")
    is_((s.reveal(e["secret_key"]).json or {}).get("value"), e_val, "a 3600 s secret still reveals after 61 s")

    s.advance(60)
    for name, m in (("expired", a), ("watched", c), ("received", d)):
        is_unknown(s.metadata(m["metadata_key"]), m["metadata_key"],
                   "after 121 s (> 2 x ttl) the %s metadata is Unknown secret" % name)
    is_error(s.burn(c["metadata_key"]), "Unknown secret", "after 121 s burn is Unknown secret", intended=404,
             secret_key=c["metadata_key"], key_optional=True)

    # anonymous maximum: 7 days, metadata 14 days
    f_val = canary()
    f = s.create(f_val)
    s.advance(7 * 86400 - 60)
    is_((s.reveal(f["secret_key"]).json or {}).get("value"), f_val, "a default-ttl secret reveals just before 7 days")
    g = s.create()
    s.advance(7 * 86400 + 60)
    is_unknown(s.reveal(g["secret_key"]), g["secret_key"], "a default-ttl secret is gone after 7 days")
    is_meta(s.metadata(g["metadata_key"]), "expired", "its metadata is expired, not gone, after 7 days")
    diag("clock advanced %d s in total" % s.offset)


if __name__ == "__main__":
    run(main)
