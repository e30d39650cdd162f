#!/usr/bin/env python3
"""Bad input is a clear 4xx: malformed, oversized and hostile requests through
lighttpd get a v1 error with a 4xx intended status, never a 5xx, and no
FastCGI worker dies (their PIDs do not change)."""

import os
import random
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, diag, is_, ok, run  # noqa: E402

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FUZZ = 1500


def clear_4xx(r):
    return r.status == 404 and r.intended is not None and 400 <= r.intended < 500


def main():
    s = Server(max_procs=2)
    token = s.add_customer("alice@example.com", "basic")
    before = s.worker_pids()
    ok(len(before) >= 2, "lighttpd spawned the FastCGI workers", sorted(before))

    cases = [
        ("bad %-escape", "POST", "share", b"secret=%zz", FORM, None),
        ("truncated %-escape", "POST", "share", b"secret=abc%4", FORM, None),
        ("lone %", "POST", "share", b"secret=%", FORM, None),
        ("%00 in a field name", "POST", "share", b"sec%00ret=x", FORM, None),
        ("duplicate secret fields", "POST", "share", b"secret=a&secret=b", FORM, None),
        ("duplicate JSON keys", "POST", "share", b'{"secret":"a","secret":"b"}', JSON, None),
        ("invalid JSON", "POST", "share", b'{"secret":"a"', JSON, None),
        ("JSON not an object", "POST", "share", b'"secret"', JSON, None),
        ("nested JSON", "POST", "share", b'{"secret":{"a":"b"}}', JSON, None),
        ("deeply nested JSON", "POST", "share", b'{"secret":' + b"[" * 10000 + b"]" * 10000 + b"}", JSON, None),
        ("JSON with invalid UTF-8", "POST", "share", b'{"secret":"\xff\xfe"}', JSON, None),
        ("multipart without boundary", "POST", "share", b"--x\r\n\r\n", "multipart/form-data", None),
        ("truncated multipart", "POST", "share",
         b'--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\nabc', "multipart/form-data; boundary=b", None),
        ("multipart part without a name", "POST", "share",
         b"--b\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--b--\r\n", "multipart/form-data; boundary=b", None),
        ("Basic auth, bad base64", "GET", "authcheck", None, None, "Basic %%%"),
        ("Basic auth, NUL in user", "GET", "authcheck", None, None, "Basic YWxpY2UAQGV4YW1wbGUuY29tOng="),
        ("Basic auth, huge", "GET", "authcheck", None, None, "Basic " + "A" * 6000),
        ("unknown method PROPFIND", "PROPFIND", "status", None, None, None),
        ("unknown method MKCOL", "MKCOL", "share", None, None, None),
        ("overlong key", "POST", "secret/" + "a" * 6000, b"", FORM, None),
        ("overlong path", "GET", "x/" * 3000, None, None, None),
        ("encoded slash in key", "POST", "secret/abc%2Fdefghijklmnopqrstuvwxyz0123", b"", FORM, None),
        ("many fields", "POST", "share", b"&".join(b"f%d=x" % i for i in range(20000)), FORM, None),
    ]
    for desc, method, path, body, ctype, authz in cases:
        if not path.startswith("/"):
            path = "/api/v1/" + path
        r = s.request(method, path, body=body, content_type=ctype,
                      headers={"Authorization": authz} if authz else None)
        ok(clear_4xx(r), "%s: a 4xx v1 error" % desc,
           "HTTP %d intended %r body %r" % (r.status, r.intended, r.body[:200]))

    # -- random garbage: never a 5xx
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    alphabet = b"&=%[]{}\":,\\\x00\xff\r\n -abcsecrtpasphrlnkyt0123456789"
    path_alphabet = b"&=%[]{}\":,\\ -.~!$'()*+;@abcsecrtpasphrlnkyt0123456789"  # lighttpd refuses %00, CR, LF, bad UTF-8
    paths = ["share", "generate", "secret/", "private/", "private/recent", "metadata/", "receipt/x/burn",
             "status", "authcheck"]
    ctypes = [FORM, JSON, "multipart/form-data; boundary=b", "text/plain", None]
    counts = {}
    t0 = time.monotonic()
    for _ in range(FUZZ):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
        path = rng.choice(paths) + urllib.parse.quote(bytes(rng.choice(path_alphabet)
                                                                 for _ in range(rng.randrange(0, 40))))
        auth = rng.choice([None, None, ("alice@example.com", token), "Basic " + body[:20].hex()])
        method = rng.choice(["POST", "POST", "GET", "PUT"])
        r = s.request(method, path, body=None if method == "GET" else body,  # lighttpd refuses GET with a body
                      content_type=rng.choice(ctypes), auth=auth)
        klass = (r.status, r.intended)
        counts[klass] = counts.get(klass, 0) + 1
    server_errors = sum(n for (st, it), n in counts.items() if st >= 500 or (it or 0) >= 500)
    diag("%d random requests (seed %d) in %.1f s; (HTTP, intended): count" % (FUZZ, seed, time.monotonic() - t0))
    diag(", ".join("%s: %d" % (k, n) for k, n in sorted(counts.items(), key=str)))
    is_(server_errors, 0, "%d random requests: no 5xx (HTTP or intended)" % FUZZ)

    after = s.worker_pids()
    is_(sorted(after), sorted(before), "the FastCGI workers are the same processes (none crashed)")
    is_(s.request("GET", "status").status, 200, "the server still answers")
    with open(s.error_log, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    bad = [ln for ln in log.splitlines() if "died" in ln or "signal" in ln.lower() or "terminated" in ln]
    ok(not bad, "no worker death in the lighttpd error log", bad[:5])


if __name__ == "__main__":
    run(main)
