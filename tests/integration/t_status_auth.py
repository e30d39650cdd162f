#!/usr/bin/env python3
"""status, authcheck, HTTP Basic authentication, the admin CLI's customer
commands, the headers of every response, unknown paths and wrong methods."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, basic, diag, header_problems, is_, is_error, ok,  # noqa: E402
                     run)

NOMINAL = b'{"status":"nominal","locale":"en"}'


def not_authorized(r, desc):
    return is_error(r, "Not authorized", desc, intended=401)


def main():
    s = Server()
    seen = []  # (description, response) for the header checks at the end

    def req(desc, *a, **kw):
        r = s.request(*a, **kw)
        seen.append((desc, r))
        return r

    r = req("status", "GET", "status")
    is_(r.status, 200, "GET status: HTTP 200")
    is_(r.body, NOMINAL, "GET status: exact body")

    r = req("authcheck anon", "GET", "authcheck")
    not_authorized(r, "authcheck without credentials: Not authorized (401)")

    # -- the admin CLI
    add = s.admin("customer", "add", "alice@example.com", "--plan", "basic")
    ok(add.returncode == 0 and len(add.stdout.splitlines()) == 1 and add.stdout.strip()
       and " " not in add.stdout.strip(),
       "customer add prints the token alone on one line", repr(add.stdout) + " " + add.stderr)
    alice = ("alice@example.com", add.stdout.strip())
    bob = ("bob@example.com", s.add_customer("bob@example.com"))
    ok(alice[1] != bob[1], "two accounts get different tokens")
    lst = s.admin("customer", "list")
    ok(lst.returncode == 0 and "alice@example.com" in lst.stdout and "bob@example.com" in lst.stdout,
       "customer list names both accounts", lst.stdout + lst.stderr)
    ok(alice[1] not in lst.stdout, "customer list does not print tokens")
    dup = s.admin("customer", "add", "alice@example.com")
    ok(dup.returncode != 0, "customer add of an existing account exits non-zero", dup.stdout)
    nodel = s.admin("customer", "del", "nobody@example.com")
    ok(nodel.returncode != 0, "customer del of an unknown account exits non-zero")
    ok(s.admin("customer", "frobnicate").returncode != 0, "unknown customer subcommand exits non-zero")

    # -- authcheck
    r = req("authcheck good", "GET", "authcheck", auth=alice)
    is_((r.status, r.body), (200, NOMINAL), "authcheck with a good token: nominal")
    r = s.request("GET", "authcheck", auth=("ALICE@Example.COM", alice[1]))
    is_((r.status, r.body), (200, NOMINAL), "custid is case-insensitive")
    r = req("authcheck wrong token", "GET", "authcheck", auth=(alice[0], bob[1]))
    not_authorized(r, "authcheck with another account's token: Not authorized")
    r = s.request("GET", "authcheck", auth=(alice[0], alice[1][:-1]))
    not_authorized(r, "authcheck with a truncated token: Not authorized")
    r = s.request("GET", "authcheck", auth=(alice[0], ""))
    not_authorized(r, "authcheck with an empty token: Not authorized")
    r = s.request("GET", "authcheck", auth=("carol@example.com", alice[1]))
    not_authorized(r, "authcheck for an unknown account: Not authorized")
    for desc, value in (("not base64", "Basic !!!not-base64!!!"),
                        ("no colon", "Basic " + "YWxpY2VAZXhhbXBsZS5jb20="),
                        ("empty credentials", "Basic "),
                        ("scheme only", "Basic"),
                        ("Bearer scheme", "Bearer " + alice[1]),
                        ("Digest scheme", 'Digest username="alice@example.com"')):
        r = s.request("GET", "authcheck", headers={"Authorization": value})
        not_authorized(r, "authcheck, Authorization %s: Not authorized" % desc)

    # -- never a fall-back to anonymous when a header is present
    r = req("share bad auth", "POST", "share", body={"secret": "x"}, auth=(alice[0], bob[1]))
    not_authorized(r, "share with a wrong token is refused, not done anonymously")
    r = s.request("POST", "share", body={"secret": "x"}, headers={"Authorization": "Bearer zzz"})
    not_authorized(r, "share with a non-Basic header is refused")
    r = s.request("GET", "status", auth=("carol@example.com", "nope"))
    not_authorized(r, "status with bad credentials is refused")
    r = s.request("POST", "share", body={"secret": "x"}, auth=("ALICE@EXAMPLE.COM", alice[1]))
    ok(r.status == 200 and r.json and r.json.get("custid") == "alice@example.com",
       "share as ALICE@EXAMPLE.COM is recorded as custid alice@example.com", r.body[:200])

    # -- token rotation and deletion
    rot = s.admin("customer", "token", "alice@example.com")
    new = rot.stdout.strip()
    ok(rot.returncode == 0 and new and new != alice[1] and len(rot.stdout.splitlines()) == 1,
       "customer token prints a new token", rot.stdout + rot.stderr)
    not_authorized(s.request("GET", "authcheck", auth=alice), "the old token stops working")
    is_(s.request("GET", "authcheck", auth=(alice[0], new)).status, 200, "the new token works")
    dele = s.admin("customer", "del", "bob@example.com")
    ok(dele.returncode == 0, "customer del exits 0", dele.stderr)
    not_authorized(s.request("GET", "authcheck", auth=bob), "a deleted account is Not authorized")
    ok("bob@example.com" not in s.admin("customer", "list").stdout, "customer list no longer names it")

    # -- unknown paths and wrong methods
    for path in ("nope", "secret", "private", "status/extra", "share/x"):
        r = req("unknown " + path, "GET", path)
        is_error(r, "Not Found", "GET /api/v1/%s: Not Found (404)" % path, intended=404)
    r = req("unknown POST", "POST", "nope", body={"a": "b"})
    is_error(r, "Not Found", "POST /api/v1/nope: Not Found", intended=404)
    for method, path in (("GET", "share"), ("GET", "create"), ("GET", "generate"),
                         ("PUT", "share"), ("DELETE", "status"), ("POST", "status"),
                         ("POST", "authcheck"), ("DELETE", "private/recent"),
                         ("PUT", "secret/" + "a" * 31), ("PATCH", "private/" + "a" * 31)):
        r = req("%s %s" % (method, path), method, path,
                body=b"" if method in ("PUT", "PATCH", "POST") else None,
                auth=(alice[0], new) if "recent" in path else None)
        ok(r.status == 404 and r.intended == 405,
           "%s /api/v1/%s: HTTP 404 with intended 405" % (method, path),
           "got %d, intended %r, body %r" % (r.status, r.intended, r.body[:200]))

    # -- every response carries the same headers
    for desc, r in seen:
        probs = header_problems(r)
        ok(not probs, "headers and JSON framing: " + desc, probs)
    diag("checked headers on %d responses" % len(seen))


if __name__ == "__main__":
    run(main)
