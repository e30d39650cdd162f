#!/usr/bin/env python3
"""POST /api/v1/secret/KEY: reveal exactly once, passphrases, safe methods,
malformed keys, the metadata after a reveal, exact round-trips of values."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, form_body, header_problems, is_, is_error,  # noqa: E402
                     is_meta, is_unknown, json_body, multipart_body, ok, passphrase, run)


def main():
    s = Server()
    alice = ("alice@example.com", s.add_customer("alice@example.com", "basic"))

    # -- once
    v = canary()
    m = s.create(v)
    key = m["secret_key"]
    r = s.reveal(key)
    is_(r.status, 200, "reveal: HTTP 200")
    is_(list(r.json) if isinstance(r.json, dict) else r.body, ["value", "secret_key", "share_domain"],
        "reveal answer keys in order")
    j = r.json if isinstance(r.json, dict) else {}
    is_(j.get("value"), v, "reveal: the value")
    is_(j.get("secret_key"), key, "reveal: the secret_key")
    ok(isinstance(j.get("share_domain"), str), "reveal: share_domain is a string", repr(j.get("share_domain")))
    ok(not header_problems(r), "reveal: headers", header_problems(r))
    is_unknown(s.reveal(key), key, "second reveal: Unknown secret echoing the key")
    is_unknown(s.reveal(key), key, "third reveal: still Unknown secret")

    r = s.metadata(m["metadata_key"])
    is_meta(r, "received", "metadata after reveal: state received, no secret_key/secret_ttl/passphrase_required")
    ok(v.encode() not in r.body, "metadata after reveal does not contain the value")
    is_meta(s.metadata(m["metadata_key"]), "received", "a second metadata fetch stays received")

    # -- an account's secret is revealed anonymously; bad credentials change nothing
    v = canary()
    m = s.create(v, auth=alice)
    is_error(s.reveal(m["secret_key"], auth=(alice[0], "wrong")), "Not authorized",
             "reveal with a bad token: Not authorized", intended=401)
    is_((s.reveal(m["secret_key"]).json or {}).get("value"), v,
        "the account's secret is still revealable, anonymously")

    # -- passphrases
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    key = m["secret_key"]
    is_unknown(s.reveal(key), key, "passphrase missing: Unknown secret")
    is_unknown(s.reveal(key, passphrase=p + "x"), key, "passphrase wrong: Unknown secret")
    is_unknown(s.reveal(key, passphrase=p.upper() if p != p.upper() else p.lower()), key,
               "passphrase wrong case: Unknown secret")
    r = s.reveal(key, passphrase=p)
    is_((r.status, (r.json or {}).get("value")), (200, v), "right passphrase after wrong ones: the value")
    is_unknown(s.reveal(key, passphrase=p), key, "then the secret is gone")

    v, p = canary(), passphrase()
    key = s.create(v, passphrase=p)["secret_key"]
    r = s.request("POST", "secret/" + key, body=json_body({"passphrase": p}))
    is_((r.json or {}).get("value"), v, "passphrase in a JSON body")
    v, p = canary(), passphrase()
    key = s.create(v, passphrase=p)["secret_key"]
    r = s.request("POST", "secret/" + key, body=multipart_body({"passphrase": p}))
    is_((r.json or {}).get("value"), v, "passphrase in a multipart body")
    v, p = canary(), passphrase()
    key = s.create(v, passphrase=p)["secret_key"]
    r = s.request("POST", "secret/" + key, params={"passphrase": p})
    is_((r.json or {}).get("value"), v, "passphrase in the query string")

    # -- safe methods change nothing
    v, p = canary(), passphrase()
    m = s.create(v, passphrase=p)
    key = m["secret_key"]
    for method, params in (("GET", None), ("GET", {"passphrase": p}), ("HEAD", None), ("OPTIONS", None)):
        r = s.request(method, "secret/" + key, params=params)
        ok(r.status == 404 and r.intended == 405 and v.encode() not in r.body,
           "%s on the secret path%s: method not allowed, nothing revealed"
           % (method, " with the passphrase" if params else ""), "%d %r" % (r.status, r.body[:200]))
    r = s.reveal(key, passphrase=p)
    is_((r.json or {}).get("value"), v, "after GET/HEAD/OPTIONS the secret still reveals")

    # -- keys that are not keys, or not this secret's
    v = canary()
    m = s.create(v)
    key = m["secret_key"]
    other = key[:-1] + ("a" if key[-1] != "a" else "b")
    for k, desc in ((other, "a key differing in its last character"),
                    (m["metadata_key"], "the metadata key"),
                    ("z" * 31, "a well-formed unknown key"),
                    ("Z" * 20, "an unknown key of 20 characters"),
                    ("Q" * 64, "an unknown key of 64 characters"),
                    ("abc", "a key too short"),
                    ("a" * 19, "a key of 19 characters"),
                    ("a" * 65, "a key of 65 characters"),
                    (key[:15] + "_" + key[16:], "a key with an underscore"),
                    (key[:15] + "." + key[16:], "a key with a dot"),
                    (key[:15] + "-" + key[16:], "a key with a dash")):
        is_unknown(s.reveal(k), k, "reveal with %s: Unknown secret" % desc)
    is_((s.reveal(key).json or {}).get("value"), v, "the secret survived all of those")

    # -- values round-trip exactly
    tricky = ("h\u00e9llo \u2713 \U0001d11e \U0001f512 <script>alert(1)</script> &amp; \"q\" 'a' \\ \t\n"
              + "100% + 1 = a&b=c; </textarea> \u202e " + canary())
    for desc, body in (("form", form_body({"secret": tricky})),
                       ("JSON", json_body({"secret": tricky})),
                       ("multipart", multipart_body({"secret": tricky}))):
        r = s.request("POST", "share", body=body)
        key = (r.json or {}).get("secret_key", "x")
        is_((s.reveal(key).json or {}).get("value"), tricky, "Unicode/HTML value round-trips via %s" % desc)
    nul = "a\x00b" + canary()
    r = s.share(secret=nul)
    if r.status == 200:
        is_((s.reveal(r.json["secret_key"]).json or {}).get("value"), nul, "value with NUL round-trips intact")
    else:
        ok(r.intended and 400 <= r.intended < 500, "value with NUL is refused with a 4xx", r.body[:200])


if __name__ == "__main__":
    run(main)
