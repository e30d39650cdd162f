#!/usr/bin/env python3
"""share / create / generate: body encodings, parameter merging, the metadata
object, TTL clamping, size limits, keys, generated values, recipients and the
passphrase policy."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (DAY, GEN_ALPHABET, KEY_RE, Server, canary, form_body,  # noqa: E402
                     is_, is_error, is_meta, json_body, multipart_body, ok, passphrase, run)

ANON_MAX = 7 * DAY
PLAN_MAX = 30 * DAY


def revealed(s, key, **params):
    r = s.reveal(key, **params)
    return r.json.get("value") if r.status == 200 and isinstance(r.json, dict) else None


def main():
    s = Server(conf={"plan.small.ttl_max": 3600, "plan.small.size_max": 100})
    alice = ("alice@example.com", s.add_customer("alice@example.com", "basic"))
    sam = ("sam@example.com", s.add_customer("sam@example.com", "small"))

    # -- a plain anonymous share
    v = canary()
    t0 = int(time.time())
    r = s.share(secret=v)
    t1 = int(time.time())
    is_meta(r, "new", "anonymous form share: metadata object, keys in order, state new",
            custid="anon", ttl=ANON_MAX)
    m = r.json or {}
    is_(m.get("metadata_ttl"), 2 * ANON_MAX, "metadata_ttl is 2 x ttl at creation")
    is_(m.get("secret_ttl"), ANON_MAX, "secret_ttl is ttl at creation")
    is_(m.get("passphrase_required"), False, "passphrase_required false without a passphrase")
    is_(m.get("recipient"), [], "recipient is [] without one")
    ok(m.get("created") == m.get("updated") and t0 - 5 <= (m.get("created") or 0) <= t1 + 5,
       "created == updated == now", "created %r updated %r now %d" % (m.get("created"), m.get("updated"), t0))
    ok(m.get("metadata_key") != m.get("secret_key"), "metadata_key differs from secret_key")
    ok(v.encode() not in r.body, "the share answer does not echo the secret")
    is_(revealed(s, m.get("secret_key", "x")), v, "the secret reveals to the value sent")

    r = s.post("create", secret=canary())
    is_meta(r, "new", "POST /api/v1/create (alias of share)", custid="anon")

    # -- body encodings
    v = "multi\r\nline \u00e9\u2713 " + canary()
    r = s.request("POST", "share", body=multipart_body({"secret": v, "ttl": "3600"}))
    is_meta(r, "new", "multipart/form-data share (curl -F)", ttl=3600)
    is_(revealed(s, (r.json or {}).get("secret_key", "x")), v, "multipart value round-trips exactly")

    v, p = canary(), passphrase()
    r = s.request("POST", "share", body=json_body({"secret": v, "ttl": 3600, "passphrase": p}))
    is_meta(r, "new", "application/json share", ttl=3600)
    is_((r.json or {}).get("passphrase_required"), True, "JSON passphrase: passphrase_required true")
    is_(revealed(s, (r.json or {}).get("secret_key", "x"), passphrase=p), v, "JSON value round-trips")

    v = canary()
    r = s.request("POST", "share", params={"secret": v, "ttl": "120"})
    is_meta(r, "new", "query-string only share", ttl=120)
    is_(revealed(s, (r.json or {}).get("secret_key", "x")), v, "query-string value round-trips")

    q, b = canary(), canary()
    r = s.request("POST", "share", params={"secret": q, "ttl": "120"}, body={"secret": b, "ttl": "300"})
    is_meta(r, "new", "form body wins over query: ttl", ttl=300)
    is_(revealed(s, (r.json or {}).get("secret_key", "x")), b, "form body wins over query: secret")
    r = s.request("POST", "share", params={"secret": q, "ttl": "120"}, body=json_body({"secret": b, "ttl": 300}))
    is_meta(r, "new", "JSON body wins over query: ttl", ttl=300)
    is_(revealed(s, (r.json or {}).get("secret_key", "x")), b, "JSON body wins over query: secret")
    r = s.request("POST", "share", params={"ttl": "120"}, body={"secret": b})
    is_meta(r, "new", "query and body are merged (ttl from query)", ttl=120)

    # -- ttl clamping
    for who, auth, ttl, want in (
            ("anon", None, None, ANON_MAX), ("anon", None, "10", 60), ("anon", None, "garbage", 60),
            ("anon", None, "-5", 60), ("anon", None, "0", 60),
            ("anon", None, "60", 60), ("anon", None, "3600", 3600), ("anon", None, "604801", ANON_MAX),
            ("anon", None, "99999999999", ANON_MAX),
            ("basic plan", alice, None, ANON_MAX), ("basic plan", alice, "10", 60),
            ("basic plan", alice, "2000000", 2000000), ("basic plan", alice, "99999999999", PLAN_MAX),
            ("small plan", sam, "99999999999", 3600), ("small plan", sam, "1800", 1800)):
        params = {"secret": canary()}
        if ttl is not None:
            params["ttl"] = ttl
        r = s.share(auth=auth, **params)
        m = r.json if isinstance(r.json, dict) else {}
        ok(r.status == 200 and (m.get("ttl"), m.get("secret_ttl"), m.get("metadata_ttl")) == (want, want, 2 * want),
           "%s ttl %s -> ttl %d, secret_ttl %d, metadata_ttl %d" % (who, "missing" if ttl is None else repr(ttl),
                                                                   want, want, 2 * want),
           "got %d %r" % (r.status, r.body[:300]))
    r = s.request("POST", "share", body=json_body({"secret": canary(), "ttl": 10}))
    is_((r.json or {}).get("ttl"), 60, "JSON integer ttl 10 -> 60")

    # -- size limits (bytes, not characters)
    too_big = "Secret value exceeds the maximum size of %d bytes"
    r = s.share(secret="a" * 10000)
    is_(r.status, 200, "anon: 10000 bytes accepted")
    is_error(s.share(secret="a" * 10001), too_big % 10000, "anon: 10001 bytes refused (413)", intended=413)
    is_(s.share(secret="\u00e9" * 5000).status, 200, "anon: 5000 two-byte characters (10000 bytes) accepted")
    is_error(s.share(secret="\u00e9" * 5000 + "a"), too_big % 10000,
             "anon: 5001 characters of 10001 bytes refused", intended=413)
    is_error(s.request("POST", "share", body=multipart_body({"secret": "b" * 10001})), too_big % 10000,
             "anon: multipart 10001 bytes refused", intended=413)
    is_(s.share(auth=alice, secret="a" * 10000).status, 200, "basic plan: 10000 bytes accepted")
    is_error(s.share(auth=alice, secret="a" * 10001), too_big % 10000, "basic plan: 10001 refused", intended=413)
    is_(s.share(auth=sam, secret="a" * 100).status, 200, "small plan: 100 bytes accepted")
    is_error(s.share(auth=sam, secret="a" * 101), too_big % 100, "small plan: 101 bytes refused", intended=413)

    # -- nothing to share
    nothing = "You did not provide anything to share"
    is_error(s.share(secret=""), nothing, "empty secret refused (400)", intended=400)
    is_error(s.share(ttl="60"), nothing, "missing secret refused (400)", intended=400)
    is_error(s.request("POST", "share", body=json_body({"secret": ""})), nothing,
             "JSON empty secret refused", intended=400)
    is_error(s.request("POST", "share"), nothing, "share without any parameter refused", intended=400)

    # -- generate
    r = s.generate()
    is_meta(r, "new", "generate: metadata object with value, keys in order", generate=True, custid="anon",
            ttl=ANON_MAX)
    g = (r.json or {}).get("value") or ""
    ok(len(g) == 12 and all(c in GEN_ALPHABET for c in g), "generated value: 12 chars of the alphabet", repr(g))
    is_(revealed(s, (r.json or {}).get("secret_key", "x")), g, "the generated value is the secret")
    for n in (4, 20, 128):
        r = s.generate(length=str(n))
        g = (r.json or {}).get("value") or ""
        ok(len(g) == n and all(c in GEN_ALPHABET for c in g), "generate length=%d" % n, repr(g))
    sent = canary()
    r = s.generate(secret=sent)
    g = (r.json or {}).get("value") or ""
    ok(g != sent and len(g) == 12, "generate ignores the secret parameter", repr(g))
    r = s.request("POST", "generate", body=json_body({"ttl": 10}))
    is_meta(r, "new", "generate with a JSON body clamps ttl", generate=True, ttl=60)
    p = passphrase()
    r = s.generate(auth=alice, passphrase=p, ttl="3600")
    is_meta(r, "new", "generate with an account and a passphrase", generate=True, custid=alice[0], ttl=3600)
    is_((r.json or {}).get("passphrase_required"), True, "generate: passphrase_required true")
    is_(revealed(s, (r.json or {}).get("secret_key", "x"), passphrase=p), (r.json or {}).get("value"),
        "generated secret reveals with its passphrase")
    values = {(s.generate().json or {}).get("value") for _ in range(20)}
    is_(len(values), 20, "20 generated values are all different")

    # -- keys
    keys = []
    for _ in range(40):
        m = s.create()
        keys += [m.get("metadata_key", ""), m.get("secret_key", "")]
    bad = [k for k in keys if not KEY_RE.match(k)]
    ok(not bad, "80 keys are 31 chars of [0-9a-z], never starting with 0", bad[:5])
    is_(len(set(keys)), 80, "80 keys are all different")
    chars = set("".join(keys))
    ok(len(chars) == 36, "every one of the 36 key characters occurs in 2480 key characters",
       "missing: %s" % sorted(set("0123456789abcdefghijklmnopqrstuvwxyz") - chars))

    # -- recipients
    is_error(s.share(secret=canary(), recipient="delano@onetimesecret.com"),
             "An account is required to send emails.", "anonymous recipient refused")
    r = s.share(auth=alice, secret=canary(), recipient="delano@onetimesecret.com")
    is_meta(r, "new", "share with a recipient as an account", custid=alice[0])
    is_((r.json or {}).get("recipient"), ["de*****@o*****.com"], "recipient is obfuscated")
    r = s.request("POST", "share", auth=alice, body=form_body([("secret", canary()),
                                                                ("recipient[]", "someone@sub.example.org")]))
    is_((r.json or {}).get("recipient"), ["so*****@s*****.org"], "recipient[] array form is accepted")
    r = s.generate(auth=alice, recipient="delano@onetimesecret.com")
    is_((r.json or {}).get("recipient"), ["de*****@o*****.com"], "generate with a recipient")
    is_error(s.share(auth=alice, secret=canary(), recipient="not-an-address"),
             "Undeliverable email address: not-an-address", "invalid recipient refused")
    for addr in ("a@b.com\r\nBcc: x@y.com", "<a@b.com>", "a@b.com, c@d.com", '"a b"@c.com',
                 "a@" + "b" * 250 + ".com", "a b@c.com"):
        r = s.share(auth=alice, secret=canary(), recipient=addr)
        msg = (r.json or {}).get("message", "") if isinstance(r.json, dict) else ""
        ok(r.status == 404 and r.intended and 400 <= r.intended < 500
           and msg.startswith("Undeliverable email address"),
           "hostile recipient %r refused as undeliverable" % addr, r.body[:200])

    # -- passphrases
    r = s.share(secret=canary(), passphrase="a\x00b")
    ok(r.status == 404 and r.intended and 400 <= r.intended < 500, "passphrase containing NUL refused",
       "%d %r" % (r.status, r.body[:200]))
    s.close()

    strict = Server(conf={"passphrase_required": "yes", "passphrase_min": 8, "passphrase_max": 16})
    is_error(strict.share(secret=canary()), "A passphrase is required for all secrets",
             "passphrase_required=yes: share without passphrase refused")
    is_error(strict.generate(), "A passphrase is required for all secrets",
             "passphrase_required=yes: generate without passphrase refused")
    is_error(strict.share(secret=canary(), passphrase="short"), "Passphrase must be at least 8 characters long",
             "passphrase shorter than passphrase_min refused")
    r = strict.share(secret=canary(), passphrase="x" * 17)
    ok(r.status == 404 and r.intended and 400 <= r.intended < 500, "passphrase longer than passphrase_max refused",
       "%d %r" % (r.status, r.body[:200]))
    v = canary()
    r = strict.share(secret=v, passphrase="x" * 8)
    is_meta(r, "new", "passphrase of exactly passphrase_min accepted")
    is_((r.json or {}).get("passphrase_required"), True, "passphrase_required true")
    is_(revealed(strict, (r.json or {}).get("secret_key", "x"), passphrase="x" * 8), v, "and it reveals")
    is_(strict.share(secret=canary(), passphrase="y" * 16).status, 200, "passphrase of passphrase_max accepted")


if __name__ == "__main__":
    run(main)
