#!/usr/bin/env python3
"""GET /api/v1/private/recent (and aliases): only the caller's own metadata,
newest first, without secret_key; accounts only; the 30-day window."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (DAY, Server, diag, header_problems, is_, is_error, is_unknown,  # noqa: E402
                     meta_problems, ok, run)


def recent_keys(r):
    if r.status != 200 or not isinstance(r.json, list):
        return "HTTP %d %r" % (r.status, r.body[:200])
    return [m.get("metadata_key") if isinstance(m, dict) else m for m in r.json]


def main():
    s = Server()
    alice = ("alice@example.com", s.add_customer("alice@example.com", "basic"))
    bob = ("bob@example.com", s.add_customer("bob@example.com", "basic"))

    made = {"alice": [], "bob": []}
    for who, auth in (("alice", alice), ("bob", bob), ("alice", alice), ("bob", bob), ("alice", alice)):
        made[who].append(s.create(auth=auth))
        s.advance(2)  # distinct creation times, so "newest first" is well defined
    anon = s.create()
    s.reveal(made["alice"][1]["secret_key"])

    r = s.recent(auth=alice)
    is_(r.status, 200, "recent as alice: HTTP 200")
    ok(not header_problems(r), "recent: headers", header_problems(r))
    is_(recent_keys(r), [m["metadata_key"] for m in reversed(made["alice"])],
        "recent as alice: her three receipts, newest first")
    items = r.json if isinstance(r.json, list) else []
    for i, item in enumerate(items):
        state = "received" if item.get("metadata_key") == made["alice"][1]["metadata_key"] else "new"
        probs = meta_problems(item, state, custid=alice[0], recent=True)
        ok(not probs, "recent item %d: metadata object in state %s without secret_key" % (i, state), probs)
    leaked = [m["secret_key"] for m in made["alice"] if m["secret_key"].encode() in r.body]
    ok(not leaked, "no secret_key anywhere in the recent answer", leaked)

    r = s.recent(auth=bob)
    is_(recent_keys(r), [m["metadata_key"] for m in reversed(made["bob"])], "recent as bob: only his two")
    ok(anon["metadata_key"].encode() not in r.body, "anonymous receipts are in nobody's list")

    for alias in ("metadata", "receipt"):
        is_(recent_keys(s.recent(auth=alice, alias=alias)), [m["metadata_key"] for m in reversed(made["alice"])],
            "GET /api/v1/%s/recent: the same list" % alias)
    is_(recent_keys(s.recent(auth=("ALICE@example.com", alice[1]))),
        [m["metadata_key"] for m in reversed(made["alice"])], "recent with the custid in another case")

    is_error(s.recent(), "Not authorized", "recent anonymously: Not authorized", intended=401)
    is_error(s.recent(auth=(alice[0], bob[1])), "Not authorized", "recent with the wrong token: Not authorized",
             intended=401)
    for alias in ("private", "metadata", "receipt"):
        is_unknown(s.recent(auth=alice, alias=alias, method="POST"), "recent",
                   "POST /api/v1/%s/recent: the metadata route with key recent" % alias)

    carol = ("carol@example.com", s.add_customer("carol@example.com", "basic"))
    r = s.recent(auth=carol)
    ok(r.status == 200 and r.json == [] and r.body == b"[]", "a new account's recent list is []", r.body[:200])

    # -- the last 30 days only (metadata of a 30-day secret lives 60 days)
    old = s.create(auth=carol, ttl=str(30 * DAY))
    s.advance(31 * DAY)
    young = s.create(auth=carol)
    r = s.recent(auth=carol)
    is_(recent_keys(r), [young["metadata_key"]], "recent drops receipts older than 30 days")
    r = s.metadata(old["metadata_key"])
    ok(r.status == 200, "the 31-day-old receipt itself still exists (metadata lives 2 x ttl)", r.body[:200])
    diag("clock advanced %d s" % s.offset)


if __name__ == "__main__":
    run(main)
