#!/usr/bin/env python3
"""The creator's receipt (GET|POST /api/v1/private/KEY and its aliases) and
burning (POST .../KEY/burn): state transitions, answers, safe methods."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, is_, is_error, is_meta, is_unknown, meta_problems,  # noqa: E402
                     ok, passphrase, run)

ALIASES = ("private", "metadata", "receipt")
NOT_GONE = ("new", "viewed")
# The answer to the first fetch: the state before the fetch moved it.  That is
# onetimesecret.com's behaviour (its show_metadata builds the JSON, then calls
# metadata.viewed!), and api-v1.md: "viewed once the metadata was fetched".
FIRST_FETCH_STATE = "new"


def burn_unknown(r, key, desc):
    """Burn's Unknown secret: the spec gives the message; echoing the key as sent is allowed."""
    return is_error(r, "Unknown secret", desc, intended=404, secret_key=key, key_optional=True)


def is_burn(r, secret_key, desc):
    """{"state":{metadata, burned},"secret_shortkey":"<8 chars>"}"""
    j = r.json if isinstance(r.json, dict) else {}
    probs = [] if r.status == 200 else ["HTTP status %d: %r" % (r.status, r.body[:300])]
    if list(j) != ["state", "secret_shortkey"]:
        probs.append("keys %s, expected ['state', 'secret_shortkey']" % list(j))
    probs += meta_problems(j.get("state"), "burned")
    if j.get("secret_shortkey") != secret_key[:8]:
        probs.append("secret_shortkey %r, expected %r" % (j.get("secret_shortkey"), secret_key[:8]))
    return ok(not probs, desc, probs)


def main():
    s = Server()
    alice = ("alice@example.com", s.add_customer("alice@example.com", "basic"))

    # -- new -> viewed, on every alias and method
    v = canary()
    m = s.create(v, ttl="3600")
    mk = m["metadata_key"]
    r = s.metadata(mk)
    is_meta(r, FIRST_FETCH_STATE, "first metadata fetch answers state %s (then it is viewed)" % FIRST_FETCH_STATE,
            custid="anon",
            ttl=3600)
    j = r.json or {}
    is_(j.get("secret_key"), m["secret_key"], "metadata shows the secret_key")
    is_(j.get("created"), m["created"], "metadata created as at creation")
    ok(v.encode() not in r.body and "value" not in j, "metadata never contains the value")
    for alias in ALIASES:
        for method in ("GET", "POST"):
            r = s.metadata(mk, method=method, alias=alias)
            is_meta(r, "viewed", "%s /api/v1/%s/KEY: state viewed" % (method, alias), ttl=3600)
            ok(v.encode() not in r.body, "%s /%s/KEY: no value" % (method, alias))
    is_((s.reveal(m["secret_key"]).json or {}).get("value"), v, "a viewed secret still reveals")
    is_meta(s.metadata(mk), "received", "viewed -> received after the reveal")

    is_unknown(s.metadata("z" * 31), "z" * 31, "metadata of an unknown key: Unknown secret")
    is_unknown(s.metadata(m["secret_key"]), m["secret_key"], "the secret_key does not open the metadata")
    is_unknown(s.metadata("abc"), "abc", "metadata of a malformed key: Unknown secret")

    m = s.create(auth=alice)
    is_meta(s.metadata(m["metadata_key"]), NOT_GONE, "an account's metadata is readable anonymously by key",
            custid=alice[0])

    # -- burn
    for alias in ALIASES:
        m = s.create()
        mk, sk = m["metadata_key"], m["secret_key"]
        is_burn(s.burn(mk, alias=alias), sk, "POST /api/v1/%s/KEY/burn: state burned, secret_shortkey" % alias)
        r = s.metadata(mk, alias=alias)
        is_meta(r, "burned", "metadata after burn (%s): burned, secret_key \"\", secret_ttl null" % alias)
        is_unknown(s.reveal(sk), sk, "reveal after burn: Unknown secret")
        burn_unknown(s.burn(mk, alias=alias), mk, "burn twice: Unknown secret")
        is_meta(s.metadata(mk), "burned", "and the metadata stays burned")

    m = s.create()
    s.metadata(m["metadata_key"])
    s.metadata(m["metadata_key"])
    is_burn(s.burn(m["metadata_key"]), m["secret_key"], "burn a viewed secret")

    m = s.create()
    s.reveal(m["secret_key"])
    burn_unknown(s.burn(m["metadata_key"]), m["metadata_key"], "burn after reveal: Unknown secret")
    is_meta(s.metadata(m["metadata_key"]), "received", "and the metadata stays received")
    burn_unknown(s.burn("z" * 31), "z" * 31, "burn of an unknown key: Unknown secret")
    burn_unknown(s.burn(m["secret_key"]), m["secret_key"], "burn by secret_key: Unknown secret")

    # -- burn with a passphrase
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    is_error(s.burn(m["metadata_key"], passphrase=p + "x"), "Incorrect passphrase",
             "burn with a wrong passphrase: Incorrect passphrase")
    is_meta(s.metadata(m["metadata_key"]), NOT_GONE, "a wrong burn passphrase burns nothing")
    is_burn(s.burn(m["metadata_key"], passphrase=p), m["secret_key"], "burn with the right passphrase")
    is_unknown(s.reveal(m["secret_key"], passphrase=p), m["secret_key"], "reveal after that burn: Unknown")

    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    s.burn(m["metadata_key"], passphrase=p + "x")
    is_((s.reveal(m["secret_key"], passphrase=p).json or {}).get("value"), v,
        "after a failed burn the secret still reveals")

    # -- safe methods on the burn path change nothing
    v = canary()
    m = s.create(v)
    for method in ("GET", "HEAD", "OPTIONS"):
        r = s.request(method, "private/%s/burn" % m["metadata_key"])
        ok(r.status == 404 and r.intended == 405 and b"burned" not in r.body,
           "%s on the burn path: method not allowed, nothing burned" % method,
           "%d %r" % (r.status, r.body[:200]))
    is_((s.reveal(m["secret_key"]).json or {}).get("value"), v, "after GET/HEAD/OPTIONS on burn the secret reveals")

    # -- burn and metadata of an account's secret
    m = s.create(auth=alice)
    r = s.burn(m["metadata_key"], auth=alice)
    is_burn(r, m["secret_key"], "burn as the account")
    is_((r.json or {}).get("state", {}).get("custid"), alice[0], "burned state keeps the custid")


if __name__ == "__main__":
    run(main)
