#!/usr/bin/env python3
"""cgi-bin/ots run as a plain CGI program (no web server): the same API, the
route taken from PATH_INFO or, when that is empty, SCRIPT_NAME/REQUEST_URI,
and hostile CGI input answered with a 4xx without hanging or crashing."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, header_problems, is_, is_error, is_meta, is_unknown,  # noqa: E402
                     ok, run)

NOMINAL = b'{"status":"nominal","locale":"en"}'


def main():
    s = Server(start=False)
    runs = []

    def cgi(*a, **kw):
        r = s.cgi(*a, **kw)
        runs.append(r)
        return r

    r = cgi("GET", "status")
    is_((r.status, r.body), (200, NOMINAL), "CGI GET status: nominal")
    ok(not header_problems(r), "CGI status: headers", header_problems(r))

    v = canary()
    r = cgi("POST", "share", body={"secret": v, "ttl": "3600"})
    is_meta(r, "new", "CGI share: metadata object", custid="anon", ttl=3600)
    ok(not header_problems(r), "CGI share: headers", header_problems(r))
    m = r.json if isinstance(r.json, dict) else {}
    sk, mk = m.get("secret_key", "x"), m.get("metadata_key", "x")
    is_meta(cgi("GET", "private/" + mk), ("new", "viewed"), "CGI metadata: the receipt", ttl=3600)
    r = cgi("POST", "secret/" + sk)
    is_((r.status, (r.json or {}).get("value")), (200, v), "CGI reveal: the value")
    r = cgi("POST", "secret/" + sk)
    is_unknown(r, sk, "CGI second reveal: Unknown secret")
    is_(r.headers.get("status", "")[:3], "404", "CGI error carries Status: 404")
    is_meta(cgi("POST", "private/" + mk), "received", "CGI metadata after reveal: received")
    if s.cluster is None:
        # the last process to close the database checkpointed and removed
        # the WAL after its answer: the next one does not rebuild its index
        ok(not os.path.exists(s.database_file + "-wal"),
           "CGI: no WAL left behind once the writing requests are done (checkpointed at close)")

    v = canary()
    r = cgi("POST", "share", query="secret=" + v)
    sk = (r.json or {}).get("secret_key", "x")
    is_((cgi("POST", "secret/" + sk).json or {}).get("value"), v, "CGI share from QUERY_STRING, then reveal")

    token = s.add_customer("alice@example.com", "basic")
    is_((cgi("GET", "authcheck", auth=("alice@example.com", token)).status), 200, "CGI authcheck with a token")
    is_error(cgi("GET", "authcheck"), "Not authorized", "CGI authcheck without: Not authorized", intended=401)
    is_error(cgi("GET", "authcheck", auth=("alice@example.com", token + "x")), "Not authorized",
             "CGI authcheck with a wrong token: Not authorized", intended=401)
    is_error(cgi("GET", "nope"), "Not Found", "CGI unknown path: Not Found", intended=404)
    r = cgi("get", "status")
    is_error(r, "Bad request method", "CGI lower-case method on the API: the v1 error", intended=400)
    ok(not header_problems(r), "CGI bad method: the API's headers", header_problems(r))
    # HEAD is answered without a body, also when the request is refused
    for path, query, why in (("status", "a=%zz", "a malformed query"), ("/", "a=%zz", "a malformed query"),
                             ("status", "a=1&a=2", "a repeated parameter"),
                             ("/api/v1/\udcc0", "", "a path that is not UTF-8")):
        r = cgi("HEAD", path, query=query)   # a str path's \udcXX goes out as the byte XX
        ok(400 <= (r.intended or r.status) < 500 and r.body == b"",
           "CGI HEAD %s with %s: refused, and no body" % (path, why),
           "status %d intended %r body %r" % (r.status, r.intended, r.body[:80]))
    r = cgi("GET", "status", env={"OTS_CONFIG": os.path.join(s.tmp, "missing.conf")})
    is_error(r, "Service unavailable", "CGI start-up failure: the v1 error", intended=503)
    ok(not header_problems(r), "CGI start-up failure: the API's headers", header_problems(r))

    # -- mounting: below a prefix, and the PATH_INFO-less fall-back
    r = cgi("GET", "/api/v1/status", env={"SCRIPT_NAME": "/ots", "REQUEST_URI": "/ots/api/v1/status"})
    is_(r.body, NOMINAL, "mounted below /ots: SCRIPT_NAME=/ots PATH_INFO=/api/v1/status")
    r = cgi("GET", "", env={"PATH_INFO": None, "SCRIPT_NAME": "/api/v1/status",
                            "REQUEST_URI": "/api/v1/status?x=1", "QUERY_STRING": "x=1"})
    is_(r.body, NOMINAL, "PATH_INFO unset, SCRIPT_NAME=/api/v1/status (lighttpd root mount)")
    r = cgi("GET", "", env={"PATH_INFO": "", "SCRIPT_NAME": "/ots", "REQUEST_URI": "/ots/api/v1/status"})
    is_(r.body, NOMINAL, "PATH_INFO empty, SCRIPT_NAME=/ots, REQUEST_URI=/ots/api/v1/status")

    # -- hostile CGI input: a clear 4xx, no hang, no crash
    for desc, kw in (
            ("CONTENT_LENGTH larger than the body", dict(env={"CONTENT_LENGTH": "100000000"}, body=b"secret=x")),
            ("CONTENT_LENGTH negative", dict(env={"CONTENT_LENGTH": "-1"}, body=b"secret=x")),
            ("CONTENT_LENGTH not a number", dict(env={"CONTENT_LENGTH": "12abc"}, body=b"secret=x")),
            ("bad %-escape", dict(body=b"secret=%zz%4")),
            ("invalid JSON", dict(body=(b'{"secret": "x"', "application/json"))),
            ("JSON array", dict(body=(b'["secret"]', "application/json"))),
            ("multipart without boundary", dict(body=(b"--x\r\n", "multipart/form-data"))),
            ("body larger than body_max (10 MiB + 64 KiB)", dict(body=b"secret=" + b"a" * (11 << 20)))):
        r = cgi("POST", "share", **kw)
        ok(r.status == 404 and r.intended is not None and 400 <= r.intended < 500,
           "CGI share with %s: a 4xx" % desc, "Status %r intended %r rc %r body %r"
           % (r.headers.get("status"), r.intended, r.rc, r.body[:200]))

    # -- the create page preselects ttl_default, whichever choice it is
    for ttl in ("300", "3600", "604800"):
        h = Server(start=False, conf={"ttl_default": ttl})
        body = h.cgi("GET", "/").body.decode()
        is_(re.findall(r'<option value="(\d+)" selected>', body), [ttl],
            "create page with ttl_default %s: that choice, and only it, selected" % ttl)
        h.close()

    crashed = [r for r in runs if r.rc < 0]
    ok(not crashed, "no CGI run ended by a signal (%d runs)" % len(runs), [r.stderr[-300:] for r in crashed])


if __name__ == "__main__":
    run(main)
