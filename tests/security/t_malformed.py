#!/usr/bin/env python3
"""Promise 5 at volume: thousands of generated malformed requests, sent over
raw sockets through the real lighttpd (bad %-escapes, %00, invalid UTF-8,
huge Content-Length claimed and sent, duplicate keys, bad Basic auth,
unknown methods, overlong paths and keys, bad multipart, bad JSON, too many
or too long fields...), with real keys mixed in.  Passes when every answer
is a 4xx (the HTTP status, or X-OTS-Intended-Status for v1 errors), none is
a 5xx, no request takes more than 2 s, no FastCGI worker dies, and nothing
changed: every real secret still reveals its value once.
(tests/integration/t_hostile.py holds the hand-written cases.)"""

import base64
import collections
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from otstest import Server, canary, diag, is_, ok, passphrase, run  # noqa: E402

PER_KIND = 500          # requests per kind of damage (16 kinds)
CLIENTS = 4
HANG = 2.0              # seconds: slower than this is a hang
CGI_REQUESTS = 300
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
NAMES = ["secret", "passphrase", "ttl", "recipient", "length", "share_domain", "x", "recipient[]"]
# methods lighttpd hands to the app (others it refuses itself with 501)
METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",
           "LOCK", "UNLOCK", "REPORT", "SEARCH", "CHECKOUT", "MERGE"]
# each stays malformed whatever follows it (a bare "%4" before "c" would not)
BAD_PCT = [b"%", b"%z", b"%zz", b"%4z", b"%4%", b"%g0", b"%0g", b"%%", b"%-1", b"% 1", b"%\xff0", b"%4%", b"%%41"]
# JSON that RFC 8259 refuses, or that is not a flat object, but that
# json-c's default (non-strict) tokener accepts
LENIENT_JSON = [b"{'secret':'x'}", b'{"secret":"x",}', b'{"secret":"a\tb"}', b'{"secret":"x","ttl":NaN}',
                b'{"secret":"x","ttl":Infinity}', b'{"secret":"x","ttl":01}', b'{"secret":"x"/*c*/}',
                b'{"secret":"x"//c\n}', b'{"secret":"x","b":True}', b'{"secret":["a",["b"]]}',
                b'{"secret":"x","ttl":[1,{"a":2}]}', b'{"secret":"\\ud800"}', b'{"secret":"a\\udc00b"}']
BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xf8\x88\x80\x80\x80", b"\x80", b"\xc3\x28", b"\xe2\x82", b"\xf0\x9f\x98"]


class Gen:
    """Malformed requests: each method returns (kind, raw request bytes, shut)
    where shut asks to half-close the socket after sending (a body that never
    comes)."""

    def __init__(self, rng, port, real):
        self.rng = rng
        self.host = b"127.0.0.1:%d" % port
        self.real = real  # dicts: secret_key, metadata_key

    # -- pieces

    def key(self, which):
        r = self.rng.random()
        if r < 0.5 and self.real:
            return self.rng.choice(self.real)[which].encode()
        if r < 0.75:
            return bytes(self.rng.choice(b"0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(31))
        return self.rng.choice([b"short", b"a" * 65, b"k" * 300, b"abc%21def" + b"a" * 20, b"recent",
                                b"%E2%82%AC" * 10])

    def path(self, post):
        api_post = ["/api/v1/share", "/api/v1/create", "/api/v1/generate", "/api/v1/secret/S",
                    "/api/v1/private/M/burn", "/api/v1/metadata/M/burn", "/api/v1/receipt/M/burn",
                    "/api/v1/private/M", "/api/v1/private/recent"]
        api_get = ["/api/v1/status", "/api/v1/authcheck", "/api/v1/private/M", "/api/v1/metadata/M",
                   "/api/v1/receipt/M", "/api/v1/private/recent", "/api/v1/receipt/recent"]
        web_post = ["/", "/secret/S", "/private/M/burn"]
        web_get = ["/", "/secret/S", "/private/M", "/static/ots.css", "/nowhere"]
        p = self.rng.choice(api_post + web_post if post else api_get + web_get).encode()
        return p.replace(b"S", self.key("secret_key")).replace(b"M", self.key("metadata_key"))

    def api_path(self, post):
        while True:
            p = self.path(post)
            if p.startswith(b"/api/"):
                return p

    def good_pairs(self):
        pairs = [(b"secret", canary().encode())]
        if self.rng.random() < 0.5:
            pairs.append((b"ttl", str(self.rng.choice([60, 3600, -5, "x"])).encode()))
        if self.rng.random() < 0.3:
            pairs.append((b"passphrase", passphrase().encode()))
        self.rng.shuffle(pairs)
        return pairs

    def urlenc(self, pairs):
        return b"&".join(n + b"=" + v for n, v in pairs)

    def with_bad(self, bad):
        """A valid-looking urlencoded string with bad (bytes) put in a name
        or a value."""
        pairs = self.good_pairs()
        i = self.rng.randrange(len(pairs) + 1)
        name = self.rng.choice(NAMES).encode()
        where = self.rng.random()
        if where < 0.4:
            item = (name, b"v" + bad + b"w")
        elif where < 0.7:
            item = (name[:2] + bad + name[2:], b"v")
        elif where < 0.85:
            item = (name, bad)
        else:
            item = (name, canary().encode() + bad)
        pairs.insert(i, item)
        return self.urlenc(pairs)

    def request(self, method, path, body=None, ctype=None, headers=(), query=None, cl=None):
        if query is not None:
            path += b"?" + query
        lines = [method.encode() + b" " + path + b" HTTP/1.1", b"Host: " + self.host, b"Connection: close",
                 b"User-Agent: t_malformed"]
        if ctype:
            lines.append(b"Content-Type: " + (ctype.encode() if isinstance(ctype, str) else ctype))
        if body is not None or cl is not None:
            lines.append(b"Content-Length: " + (cl if cl is not None else str(len(body)).encode()))
        lines += list(headers)
        return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")

    def post(self, body, ctype=FORM, **kw):
        return self.request("POST", self.path(True), body, ctype, **kw)

    # -- the kinds of damage

    def pct_body(self):
        if self.rng.random() < 0.2:  # cut short at the very end
            return self.post(self.urlenc(self.good_pairs()) + b"&x=" + self.rng.choice([b"%", b"%4", b"%a"]))
        return self.post(self.with_bad(self.rng.choice(BAD_PCT)))

    def pct_query_cgi(self):
        """(method, path, query, body) for a plain CGI request: lighttpd
        re-encodes a stray "%" in a query string as "%25" before the app
        sees it, so bad escapes in the query reach the app only this way."""
        q = self.with_bad(self.rng.choice(BAD_PCT)).decode("latin-1")
        if self.rng.random() < 0.5:
            return "GET", self.path(False).decode("latin-1"), q, None
        return "POST", self.path(True).decode("latin-1"), q, self.urlenc(self.good_pairs())

    def nul(self):
        bad = self.rng.choice([b"%00", b"%00%00", b"a%00b"])
        r = self.rng.random()
        if r < 0.3:
            return self.post(self.with_bad(bad))
        if r < 0.5:
            return self.request("GET", self.path(False), query=self.with_bad(bad))
        if r < 0.65:
            return self.post(self.with_bad(b"\x00"))
        if r < 0.8:
            k = self.rng.choice(["secret", "passphrase", "ttl"])
            return self.post(('{"secret":"x","%s":"a\\u0000b"}' % k).encode()
                             if k != "secret" else b'{"secret":"a\\u0000b"}', JSON)
        return self.multipart([("secret", b"a\x00b")], dup=False)

    def utf8(self):
        bad = self.rng.choice(BAD_UTF8)
        r = self.rng.random()
        if r < 0.3:
            return self.post(self.with_bad(bad))
        if r < 0.5:
            return self.post(self.with_bad(urllib.parse.quote_from_bytes(bad).encode()))
        if r < 0.6:
            return self.request("GET", self.path(False),
                                query=self.with_bad(urllib.parse.quote_from_bytes(bad).encode()))
        if r < 0.75:
            return self.post(b'{"secret":"' + canary().encode() + bad + b'"}', JSON)
        if r < 0.85:
            return self.multipart([("secret", b"v" + bad)], dup=False)
        # in the path: lighttpd or the app refuses it
        return self.request(self.rng.choice(["GET", "POST"]), self.path(False) + bad)

    def length_claimed(self):
        """A Content-Length the body never lives up to (the client stops
        sending): lighttpd waits for it and then drops the connection."""
        cl = self.rng.choice([b"65537", b"1000000", b"2147483648", b"99999999999999", b"1" + b"0" * 18])
        body = self.urlenc(self.good_pairs())[:self.rng.randrange(0, 20)]
        return self.request("POST", self.path(True), body, FORM, cl=cl), True

    def length_bad(self):
        cl = self.rng.choice([b"-1", b"abc", b"1e3", b"0x10", b"1 2", b"+5", b"99999999999999999999999",
                              b"18446744073709551616"])
        return self.request("POST", self.path(True), b"secret=x", FORM, cl=cl)

    def length_sent(self):
        """More than the configured body_max, actually sent."""
        n = self.rng.choice([70000, 100000, 300000])
        body = b"secret=" + b"A" * (n - 7)
        return self.post(body, self.rng.choice([FORM, JSON, "multipart/form-data; boundary=b", "text/plain"]))

    def too_big_secret(self):
        """A well-formed create with a secret over the size limit, or empty."""
        v = self.rng.choice([b"A" * self.rng.randrange(10001, 30000), b""])
        pairs = [(b"secret", v)] + ([(b"ttl", b"60")] if self.rng.random() < 0.5 else [])
        path = self.rng.choice([b"/api/v1/share", b"/api/v1/create"])
        return self.request("POST", path, self.urlenc(pairs), FORM)

    def dup(self):
        name = self.rng.choice([b"secret", b"passphrase", b"ttl", b"recipient", b"x"])
        r = self.rng.random()
        if r < 0.35:
            pairs = self.good_pairs() + [(name, b"one"), (name, b"two")]
            self.rng.shuffle(pairs)
            return self.post(self.urlenc(pairs))
        if r < 0.5:
            return self.request("GET", self.path(False), query=name + b"=1&" + name + b"=2")
        if r < 0.6:  # a plain name after an array one
            return self.post(name + b"[]=1&" + name + b"=2")
        if r < 0.8:
            return self.post(b'{"secret":"x","' + name + b'":"a","' + name + b'":"b"}', JSON)
        return self.multipart([(name.decode(), b"a"), (name.decode(), b"b")], dup=False)

    def auth(self):
        creds = self.rng.choice([
            b"Basic %%%", b"Basic", b"Basic ", b"Basic =", b"Basic YWxpY2U=", b"Basic " + base64.b64encode(b":tok"),
            b"Basic " + base64.b64encode(b"alice@example.com"), b"Basic " + base64.b64encode(b"alice@example.com:wrong"),
            b"Basic " + base64.b64encode(b"nobody@example.com:" + b"t" * 40),
            b"Basic " + base64.b64encode(b"alice\x00@example.com:x"), b"Basic " + base64.b64encode(b"\xff\xfe:x"),
            b"Basic " + base64.b64encode(b"u" * 300 + b":x"), b"Basic " + base64.b64encode(b"u:" + b"p" * 300),
            b"Basic " + b"A" * self.rng.randrange(600, 6000), b"Bearer " + canary().encode(),
            b"Digest username=\"alice\"", b"basic", b"Basic YWxp Y2U6eA==", b"Basic YWxpY2U6eA",
            b"NTLM TlRMTVNTUAABAAAA", b"Basic " + base64.b64encode(b"alice@example.com:" + self.token[:-1]),
        ])
        hdr = [b"Authorization: " + creds]
        if self.rng.random() < 0.5:
            return self.request("GET", self.api_path(False), headers=hdr)
        return self.request("POST", self.api_path(True), self.urlenc(self.good_pairs()), FORM, headers=hdr)

    def method(self):
        m = self.rng.choice(METHODS)
        body = self.urlenc(self.good_pairs()) if m in ("PUT", "PATCH", "PROPFIND") else None
        path = self.path(self.rng.random() < 0.5)
        return self.request(m, path, body, FORM if body else None)

    def long_path(self):
        r = self.rng.random()
        if r < 0.3:
            p = b"/api/v1/secret/" + b"a" * self.rng.randrange(65, 4000)
        elif r < 0.5:
            p = b"/api/v1/" + b"x/" * self.rng.randrange(600, 3000)
        elif r < 0.7:
            p = b"/secret/" + b"b" * self.rng.randrange(1025, 6000)
        elif r < 0.85:
            p = b"/api/v1/private/" + b"c" * self.rng.randrange(65, 1000) + b"/burn"
        else:
            p = b"/" + b"/".join(b"seg%d" % i for i in range(self.rng.randrange(200, 1500)))
        return self.request(self.rng.choice(["GET", "POST"]), p, b"" if self.rng.random() < 0.5 else None)

    def multipart(self, fields=None, dup=True):
        b = canary()[:12].encode()
        fields = fields or [("secret", canary().encode())]
        ctype = b"multipart/form-data; boundary=" + b
        parts = b"".join(b"--" + b + b'\r\nContent-Disposition: form-data; name="' + n.encode() + b'"\r\n\r\n'
                         + v + b"\r\n" for n, v in fields)
        body = parts + b"--" + b + b"--\r\n"
        if dup:  # damage it
            r = self.rng.random()
            if r < 0.15:
                ctype = b"multipart/form-data"
            elif r < 0.25:
                ctype = b"multipart/form-data; boundary=" + b"x" * 71
            elif r < 0.35:
                ctype = b"multipart/form-data; boundary=\"unterminated"
            elif r < 0.5:
                body = parts  # no close delimiter
            elif r < 0.6:
                body = body.replace(b'; name="secret"', b"")
            elif r < 0.7:
                body = body.replace(b"\r\n\r\n", b"\r\n", 1)
            elif r < 0.8:  # cut before the close delimiter
                body = body[:self.rng.randrange(1, len(body) - len(b) - 8)]
            elif r < 0.9:
                body = b"garbage" + body
            else:
                body = body.replace(b"--" + b, b"--" + b[:-1] + b"X", 1)
        return self.request("POST", self.path(True), body, ctype)

    def json(self):
        """JSON any parser must refuse (json-c included)."""
        s = canary()
        body = self.rng.choice([
            b'{"secret":"' + s.encode() + b'"', b'"' + s.encode() + b'"', b"[]", b"null", b"123", b"[1,2]",
            b'{"secret":{"a":"b"}}', b'{"secret":[{"a":1}]}', b'{"secret":[["b"]]}',
            b'{"secret":' + b"[" * 5000 + b"]" * 5000 + b"}", b"{" * 100, b'{"secret":"x"} trailing',
            b'{"secret":"x"}{"y":1}', b'{secret:"x"}', b'{"secret":"\\x41"}', b'{"a":1 "b":2}',
            b'{"secret":"x","ttl":0x10}', b'{"secret":"x","ttl":+1}', b'{"secret":"x","b":tru}',
            b'\xef\xbb\xbf{"secret":"x"}', b'{"secret":"x"', b'{"secret":"x\\', b"{,}", b'{"secret"}',
            b'{"secret":}', b'{:"x"}', b"{\"secret\":\"x\"}\x00",
        ])
        return self.post(body, JSON)

    def many_fields(self):
        n = self.rng.randrange(65, 20000)
        r = self.rng.random()
        if r < 0.4:
            return self.post(b"&".join(b"f%d=x" % i for i in range(n)))
        if r < 0.55:
            return self.request("GET", self.path(False), query=b"&".join(b"f%d=x" % i for i in range(min(n, 600))))
        if r < 0.8:
            return self.post(b"{" + b",".join(b'"f%d":"x"' % i for i in range(n)) + b"}", JSON)
        return self.multipart([("f%d" % i, b"x") for i in range(min(n, 2000))], dup=False)

    def long_name(self):
        name = b"n" * self.rng.randrange(65, 3000)
        r = self.rng.random()
        if r < 0.5:
            return self.post(self.urlenc(self.good_pairs() + [(name, b"v")]))
        if r < 0.75:
            return self.post(b'{"secret":"x","' + name + b'":"v"}', JSON)
        return self.multipart([("secret", b"x"), (name.decode(), b"v")], dup=False)

    def passphrase_nul(self):
        """A reveal or burn of a real key whose passphrase holds a NUL."""
        p = self.rng.choice(self.real)
        if self.rng.random() < 0.5:
            path = b"/api/v1/secret/" + p["secret_key"].encode()
        else:
            path = b"/api/v1/private/" + p["metadata_key"].encode() + b"/burn"
        return self.request("POST", path, b"passphrase=" + p["pass"].encode() + b"%00", FORM)

    KINDS = ["pct_body", "nul", "utf8", "length_claimed", "length_bad", "length_sent",
             "too_big_secret", "dup", "auth", "method", "long_path", "multipart", "json", "many_fields",
             "long_name", "passphrase_nul"]

    def make(self, kind):
        out = getattr(self, kind)()
        return out if isinstance(out, tuple) else (out, False)


def send(port, data, shut, timeout=10):
    """Send a raw request; returns (status or None, headers, seconds)."""
    t0 = time.monotonic()
    out = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
            try:
                c.sendall(data)
                if shut:
                    c.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before reading it all
            while True:
                try:
                    b = c.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                out += b
    except socket.timeout:
        return "timeout", {}, time.monotonic() - t0
    dt = time.monotonic() - t0
    head = out.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    if not lines[0].startswith("HTTP/1."):
        return None, {}, dt
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, dt


def dump(s, skip=("ratelimit",)):
    """The database's logical content, less the rate-limit counters."""
    return s.dump(skip)


def main():
    s = Server(max_procs=4, conf={"body_max": 65536})  # length_sent sends more
    token = s.add_customer("alice@example.com", "basic")
    real = []
    for i in range(12):
        p = passphrase() if i % 2 else ""
        v = canary()
        m = s.create(v, **({"passphrase": p} if p else {}))
        real.append({"secret_key": m["secret_key"], "metadata_key": m["metadata_key"], "value": v, "pass": p})
    before_dump = dump(s)
    pids = s.worker_pids()
    ok(len(pids) >= 4, "4 FastCGI workers", sorted(pids))

    seed = random.SystemRandom().randrange(1 << 30)
    rng = random.Random(seed)
    gen = Gen(rng, s.port, real)
    gen.token = token.encode()
    jobs = []
    for kind in Gen.KINDS:
        n = PER_KIND if kind not in ("length_sent",) else PER_KIND // 4
        jobs += [(kind,) + gen.make(kind) for _ in range(n)]
    rng.shuffle(jobs)

    results = [None] * len(jobs)
    nxt = iter(range(len(jobs)))
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                return
            kind, data, shut = jobs[i]
            results[i] = send(s.port, data, shut)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    total_bytes = sum(len(j[1]) for j in jobs)
    diag("%d malformed requests (%d kinds, seed %d, %.1f MB) by %d clients in %.1f s"
         % (len(jobs), len(Gen.KINDS), seed, total_bytes / 1e6, CLIENTS, took))

    by_kind = collections.defaultdict(collections.Counter)
    outcome = collections.Counter()
    bad = []
    slow = []
    framing = []
    for (kind, data, shut), (status, hdrs, dt) in zip(jobs, results):
        if dt > HANG:
            slow.append("%s %.2f s: %r" % (kind, dt, data[:100]))
        app = hdrs.get("cache-control") == "no-store"
        intended = hdrs.get("x-ots-intended-status")
        eff = int(intended) if intended and intended.isdigit() else status
        if status is None or status == "timeout":
            # only a request whose body never came may go unanswered
            cls = "timeout" if status else "no answer" if shut else "no answer (body sent)"
            if cls != "no answer":
                bad.append("%s: %s for %r" % (kind, cls, data[:120]))
        elif 400 <= eff < 500:
            cls = "4xx app" if app else "4xx lighttpd"
        else:
            cls = "%dxx" % (eff // 100)
            bad.append("%s: HTTP %s intended %s for %r" % (kind, status, intended, data[:160]))
        if app and data.split(b" ", 2)[1].startswith(b"/api/") and eff != 200 and not (status == 404 and intended):
            framing.append("%s: HTTP %s intended %s" % (kind, status, intended))
        by_kind[kind][cls] += 1
        outcome[cls] += 1
    for kind in Gen.KINDS:
        diag("  %-15s %s" % (kind, dict(sorted(by_kind[kind].items()))))
    fours = outcome["4xx app"] + outcome["4xx lighttpd"]
    dropped = outcome["no answer"]
    diag("outcome: %d answered 4xx (%d by ots, %d by lighttpd itself), %d dropped by lighttpd "
         "(a body that never came), %d 5xx, %d other" % (fours, outcome["4xx app"], outcome["4xx lighttpd"],
                                                       dropped, outcome["5xx"], len(bad)))
    times = sorted(r[2] for r in results)
    diag("per-request time: median %.4f s, 99th %.4f s, max %.4f s"
         % (times[len(times) // 2], times[int(len(times) * 0.99)], times[-1]))
    ok(len(jobs) >= 5000, "at least 5000 malformed requests (%d)" % len(jobs))
    is_(fours + dropped, len(jobs), "100 %% 4xx: every answer is a 4xx (%d of %d; %d dropped unanswered by "
        "lighttpd, all of them bodies that never came)" % (fours, len(jobs), dropped), )
    ok(not bad, "no other outcome (%d)" % len(bad), bad[:10])
    is_(outcome["5xx"], 0, "0 5xx (HTTP or intended)")
    ok(not slow, "0 requests slower than %.0f s" % HANG, slow[:10])
    ok(not framing, "every v1 error from the app is HTTP 404 with X-OTS-Intended-Status", framing[:10])

    # -- bad %-escapes in the query string, as plain CGI (lighttpd repairs them)
    t0 = time.monotonic()
    cgi = collections.Counter()
    cgi_bad = []
    for _ in range(CGI_REQUESTS):
        method, path, query, body = gen.pct_query_cgi()
        r = s.cgi(method, path, query=query, body=body)
        eff = r.intended or r.status
        cgi["4xx" if 400 <= eff < 500 else "%d" % eff] += 1
        if not 400 <= eff < 500 or r.rc != 0:
            cgi_bad.append("%s %s?%s -> %d/%s rc %d stdout %r stderr %r"
                           % (method, path, query, r.status, r.intended, r.rc, r.body[:80],
                              r.stderr[-300:]))
    diag("%d CGI requests with bad %%-escapes in the query in %.1f s: %s"
         % (CGI_REQUESTS, time.monotonic() - t0, dict(cgi)))
    ok(not cgi_bad, "bad %%-escapes in the query (plain CGI): %d of %d a 4xx, the program exits 0"
       % (cgi["4xx"], CGI_REQUESTS), cgi_bad[:10])

    is_(sorted(s.worker_pids()), sorted(pids), "the FastCGI workers are the same processes (none crashed)")
    with open(s.error_log, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    died = [ln for ln in log.splitlines() if "signal" in ln or "died" in ln or "terminated" in ln]
    ok(not died, "no worker death in the lighttpd error log", died[:5])
    after_dump = dump(s)
    ok(after_dump == before_dump, "the database holds the same secrets and receipts (rate-limit counters aside)",
       [ln for ln in after_dump if ln not in before_dump][:5])
    got = []
    for p in real:
        r = s.reveal(p["secret_key"], **({"passphrase": p["pass"]} if p["pass"] else {}))
        got.append((r.json or {}).get("value") == p["value"])
    is_(got.count(True), len(real), "each of the %d real secrets mixed in still reveals its value" % len(real))
    # -- JSON that RFC 8259 refuses but a lenient parser takes
    lenient = []
    for body in LENIENT_JSON:
        r = s.request("POST", "share", body=body, content_type=JSON)
        if not (r.status == 404 and r.intended is not None and 400 <= r.intended < 500):
            lenient.append("%r -> HTTP %d intended %s%s" % (body, r.status, r.intended,
                                                           " (a secret was created)" if r.status == 200 else ""))
    diag("JSON bodies that are not RFC 8259 flat objects: %d sent, %d accepted"
         % (len(LENIENT_JSON), len(lenient)))
    ok(not lenient, "JSON that is not an RFC 8259 flat object is refused (single quotes, trailing commas, "
       "comments, NaN, raw control characters, nested values, lone surrogates...)", lenient)

    ok(s.alive(), "lighttpd still running")


if __name__ == "__main__":
    run(main)
