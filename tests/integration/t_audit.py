#!/usr/bin/env python3
"""The audit log (audit_log): a known sequence of operations across four
FastCGI workers, ots-sweep and ots-admin, then the log checked line by line
(fields and their order, one compact JSON object per line, times,
fingerprints equal for one secret and different between secrets, request
ids) and grepped for every canary; the client address only with
audit_client_address = yes; a trusted proxy's X-Request-Id; plain CGI;
`ots-admin audit`; syslog mode into a socket the test binds."""

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, canary, diag, is_, ok, parallel, passphrase, run  # noqa: E402

FIELDS = ["time", "event", "outcome", "route", "receipt", "account", "request"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
FP_RE = re.compile(r"^[0-9a-f]{16}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
KEY_RE = re.compile(rb"/secret/([0-9a-z]{31})")


def read_log(path):
    """The log's lines, each parsed (None when it is not one JSON object)."""
    with open(path, "rb") as f:
        raw = f.read()
    ok(raw.endswith(b"\n"), "the log ends with a newline")
    lines = raw.decode().split("\n")[:-1]
    out = []
    for line in lines:
        try:
            o = json.loads(line)
        except ValueError:
            o = None
        out.append((line, o))
    return raw, out


def epoch(t):
    return int(time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)


def sequence(s, log):
    """The known sequence; returns (expected lines, canaries, keys)."""
    fp = {}            # name -> the secret's fingerprint, filled from the log
    want = []          # (event, outcome, route, secret name or None, account)
    canaries = []
    t0, real0 = time.time() + s.offset, time.time()

    def expect(*rows):
        want.extend(rows)

    token = s.add_customer("alice@example.com")
    canaries.append(token)
    expect(("account_add", "ok", "ots-admin", None, "alice@example.com"))
    alice = ("alice@example.com", token)

    va, vb, vc, vw, vd = (canary() for _ in range(5))
    pb = passphrase()
    canaries += [va, vb, vc, vw, vd, pb, "bob@example.net"]
    a = s.create(va)
    expect(("create", "ok", "/api/v1/share", "A", "anon"))
    b = s.create(vb, auth=alice, passphrase=pb)
    expect(("create", "ok", "/api/v1/share", "B", "alice@example.com"))
    c = s.create(vc, auth=alice, recipient="bob@example.net")
    expect(("create", "ok", "/api/v1/share", "C", "alice@example.com"))
    r = s.request("POST", "/", body={"secret": vw, "action": "create"})
    loc = r.headers.get("location", "")
    ok(r.status == 303 and loc.startswith("/private/"), "web create: 303 to the receipt page")
    expect(("create", "ok", "/", "W", "anon"))
    page = s.request("GET", loc)
    m = KEY_RE.search(page.body)
    ok(page.status == 200 and m, "web receipt page shows the secret link")
    wkey = m.group(1).decode() if m else "x"
    expect(("receipt", "ok", "/private/*", "W", "anon"))
    for k in (a, b, c):
        canaries += [k["secret_key"], k["metadata_key"]]
    canaries += [wkey, loc[len("/private/"):]]

    # receipts: GET, POST; HEAD records nothing; then a rate-limit refusal
    is_(s.metadata(a["metadata_key"]).status, 200, "receipt GET")
    is_(s.request("POST", "private/" + a["metadata_key"]).status, 200, "receipt POST")
    is_(s.metadata(a["metadata_key"], method="HEAD").status, 200, "receipt HEAD")
    expect(("receipt", "ok", "/api/v1/private/*", "A", "anon"),
           ("receipt", "ok", "/api/v1/private/*", "A", "anon"))
    is_(s.metadata(a["metadata_key"]).intended, 429, "the third receipt view is over the limit")
    expect(("rate_limited", "refused", "/api/v1/private/*", None, "anon"))

    # reveals: ok, then unknown (same fingerprint), a key that is no key
    is_(s.reveal(a["secret_key"]).status, 200, "reveal A")
    expect(("reveal", "ok", "/api/v1/secret/*", "A", "anon"))
    is_(s.reveal(a["secret_key"]).intended, 404, "reveal A again: unknown")
    expect(("reveal", "unknown", "/api/v1/secret/*", "A", "anon"))
    is_(s.reveal("nokey").intended, 404, "reveal of a malformed key")
    expect(("reveal", "unknown", "/api/v1/secret/*", None, "anon"))
    r = s.request("POST", "/secret/" + wkey, body={"action": "reveal"})
    ok(r.status == 200 and vw.encode() in r.body, "web reveal")
    expect(("reveal", "ok", "/secret/*", "W", "anon"))

    # a burn by its owner
    is_(s.burn(c["metadata_key"], auth=alice).status, 200, "burn C")
    expect(("burn", "ok", "/api/v1/private/*/burn", "C", "alice@example.com"))

    # wrong passphrases until the lock (passphrase_lock_after = 2)
    for i in range(2):
        bad = pb + "-wrong%d" % i
        canaries.append(bad)
        r = s.reveal(b["secret_key"], passphrase=bad)
        ok(r.status != 200, "wrong passphrase %d refused" % i)
        expect(("passphrase_failed", "wrong_passphrase", "/api/v1/secret/*", "B", "anon"))
        if i == 1:
            expect(("lock", "locked", "/api/v1/secret/*", "B", "anon"))
        expect(("reveal", "wrong_passphrase", "/api/v1/secret/*", "B", "anon"))
    r = s.reveal(b["secret_key"], passphrase=pb)
    ok(r.status != 200, "the right passphrase waits while locked")
    expect(("reveal", "locked", "/api/v1/secret/*", "B", "anon"))

    # an expiry, swept with the fake clock
    d = s.create(vd, ttl="60")
    canaries += [d["secret_key"], d["metadata_key"]]
    expect(("create", "ok", "/api/v1/share", "D", "anon"))
    s.advance(120)
    rc, out, err = s.sweep()
    ok(rc == 0, "ots-sweep runs", [out, err])
    expect(("expire", "ok", "ots-sweep", "D", "anon"))

    # account changes
    r = s.admin("customer", "token", "alice@example.com")
    ok(r.returncode == 0, "customer token")
    canaries.append(r.stdout.strip())
    expect(("account_token", "ok", "ots-admin", None, "alice@example.com"))
    r = s.admin("customer", "set", "alice@example.com", "notify=email")
    ok(r.returncode == 0, "customer set notify", r.stderr)
    expect(("account_notify", "ok", "ots-admin", None, "alice@example.com"))
    r = s.admin("customer", "del", "alice@example.com")
    ok(r.returncode == 0, "customer del", r.stderr)
    expect(("account_remove", "ok", "ots-admin", None, "alice@example.com"))
    t1 = time.time() + s.offset
    return want, canaries, dict(A=a, B=b, C=c, D=d, W=wkey), (t0, t1, real0)


def check_lines(lines, want, span):
    """Each line against want, in order; returns {name: fingerprint}."""
    is_(len(lines), len(want), "one line per event (%d)" % len(want))
    fps, bad = {}, []
    last = 0
    for i, ((line, o), w) in enumerate(zip(lines, want)):
        event, outcome, route, name, account = w
        if o is None or not isinstance(o, dict):
            bad.append("line %d is not a JSON object: %r" % (i, line))
            continue
        if json.dumps(o, separators=(",", ":"), ensure_ascii=False) != line:
            bad.append("line %d is not compact JSON in order: %r" % (i, line))
        if list(o) != FIELDS:
            bad.append("line %d fields %r" % (i, list(o)))
            continue
        got = (o["event"], o["outcome"], o["route"], o["account"])
        if got != (event, outcome, route, account):
            bad.append("line %d: %r, expected %r" % (i, got, (event, outcome, route, account)))
        if not TIME_RE.match(o["time"]):
            bad.append("line %d time %r" % (i, o["time"]))
        elif route == "ots-admin":
            # ots-admin runs without the workers' fake clock (otstest)
            if not span[2] - 5 <= epoch(o["time"]) <= time.time() + 5:
                bad.append("line %d time %s out of span" % (i, o["time"]))
        else:
            t = epoch(o["time"])
            if t < last or not span[0] - 5 <= t <= span[1] + 5:
                bad.append("line %d time %s out of order or span" % (i, o["time"]))
            last = t
        if not HEX16.match(o["request"] or ""):
            bad.append("line %d request id %r" % (i, o["request"]))
        if name is None:
            if o["receipt"] is not None:
                bad.append("line %d receipt %r, expected null" % (i, o["receipt"]))
        elif not FP_RE.match(o["receipt"] or ""):
            bad.append("line %d receipt %r" % (i, o["receipt"]))
        elif fps.setdefault(name, o["receipt"]) != o["receipt"]:
            bad.append("line %d: %s's fingerprint %s, earlier %s" % (i, name, o["receipt"], fps[name]))
    ok(not bad, "every line as expected: fields, order, values, times, request ids", bad)
    ok(len(set(fps.values())) == len(fps) == 5, "five secrets, five fingerprints", fps)
    return fps


def main():
    tmp = tempfile.mkdtemp(prefix="ots-audit-", dir=os.environ.get("OTS_TMPDIR") or None)
    try:
        audit(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def audit(tmp):
    log = os.path.join(tmp, "audit.log")
    s = Server(max_procs=4, conf={"audit_log": log, "passphrase_lock_after": 2,
                                  "limit.show_metadata": 2})
    want, canaries, keys, span = sequence(s, log)
    raw, lines = read_log(log)
    fps = check_lines(lines, want, span)
    is_(oct(os.stat(log).st_mode & 0o777), "0o600", "the log file is 0600")

    # a line of one request: the passphrase failure, the lock and the reveal
    ids = [o["request"] for _, o in lines if o and o["receipt"] == fps.get("B") and
           o["event"] in ("passphrase_failed", "lock", "reveal")]
    ok(len(ids) == 6 and ids[2] == ids[3] == ids[4] and ids[0] == ids[1] and ids[0] != ids[2],
       "the lines of one request share its request id, and only they", ids)
    ok(len(set(o["request"] for _, o in lines if o and o["event"] == "create")) == 5,
       "each request its own id")

    leaked = [c for c in canaries if c and c.encode() in raw]
    ok(not leaked and len(canaries) > 20, "no secret, passphrase, token, key or recipient in the log "
       "(%d canaries)" % len(canaries), leaked)
    ok(b"127.0.0.1" not in raw and all("client" not in o for _, o in lines if o),
       "no client address by default")

    # ots-admin audit: by fingerprint, by link, by key
    mine = [line + "\n" for line, o in lines if o and o["receipt"] == fps.get("A")]
    r = s.admin("audit", fps.get("A", "0" * 16))
    ok(r.returncode == 0 and r.stdout == "".join(mine) and len(mine) == 5,
       "ots-admin audit FINGERPRINT prints that secret's lines in order", [r.stdout, r.stderr])
    link = s.settings["base_url"] + "/secret/" + keys["A"]["secret_key"]
    r2 = s.admin("audit", link)
    ok(r2.returncode == 0 and r2.stdout == r.stdout, "ots-admin audit SECRET-LINK: the same lines", r2.stderr)
    r2 = s.admin("audit", s.settings["base_url"] + "/private/" + keys["A"]["metadata_key"])
    ok(r2.returncode == 0 and r2.stdout == r.stdout, "ots-admin audit RECEIPT-LINK: the same lines", r2.stderr)
    r2 = s.admin("audit", "--file", log, keys["W"])
    wl = [line + "\n" for line, o in lines if o and o["receipt"] == fps.get("W")]
    ok(r2.returncode == 0 and r2.stdout == "".join(wl) and len(wl) == 3,
       "ots-admin audit --file LOG SECRET-KEY (web secret: create, receipt, reveal)", r2.stderr)
    r2 = s.admin("audit", "not-a-key!")
    ok(r2.returncode != 0 and "not a fingerprint" in r2.stderr and r2.stdout == "",
       "ots-admin audit of nonsense: a clear error", r2.stderr)
    r2 = s.admin("audit", "0123456789abcdef")
    ok(r2.returncode == 1 and r2.stdout == "" and "no audit lines" in r2.stderr,
       "ots-admin audit of an unseen fingerprint: none, exit 1")
    s.close()

    # client addresses on request; a trusted proxy's request id; plain CGI
    log2 = os.path.join(tmp, "audit2.log")
    s = Server(max_procs=4, conf={"audit_log": log2, "audit_client_address": "yes",
                                  "trusted_proxies": "127.0.0.1"})
    s.request("POST", "/api/v1/share", body={"secret": canary()},
              headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "proxy-req-42"})
    r = s.cgi("POST", "share", body={"secret": canary()}, env={"UNIQUE_ID": "YxZ-unique@1"})
    ok(r.status == 200, "plain CGI create", r.stderr)
    r = s.cgi("POST", "share", body={"secret": canary()},
              env={"REMOTE_ADDR": "198.51.100.9", "HTTP_X_REQUEST_ID": "spoofed"})
    _, lines2 = read_log(log2)
    lines2 = lines2[:3]
    got = [(o["event"], o["client"], o["request"]) if o else None for _, o in lines2]
    ok(len(got) == 3 and got[0] == ("create", "203.0.113.7", "proxy-req-42") and
       got[1] == ("create", "127.0.0.1", "YxZ-unique@1") and got[2][:2] == ("create", "198.51.100.9")
       and HEX16.match(got[2][2]), "audit_client_address = yes: the client after trusted_proxies; "
       "the proxy's X-Request-Id, the server's UNIQUE_ID; an untrusted X-Request-Id ignored", got)
    ok(all(list(o) == FIELDS[:6] + ["client", "request"] for _, o in lines2 if o),
       "the client field sits before request")
    # many workers at once: whole lines, one per request
    parallel(8, lambda i: [s.share(secret=canary()) for _ in range(25)])
    _, lines2 = read_log(log2)
    ok(len(lines2) == 203 and all(o and o["event"] == "create" and o["outcome"] == "ok"
                                  for _, o in lines2),
       "200 creates by 8 clients on 4 workers: 200 more whole lines", len(lines2))
    s.close()

    # a log that cannot be opened: a warning, and the service goes on
    s = Server(max_procs=2, conf={"audit_log": os.path.join(tmp, "missing", "audit.log")})
    is_(s.share(secret=canary()).status, 200, "an audit log that cannot be opened: still serving")
    ok("audit log" in s.logs() and "cannot open" in s.logs(), "and the error log says why")
    s.close()

    # syslog: a datagram socket of the test's own
    sock_path = os.path.join(tmp, "log.sock")
    sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sk.bind(sock_path)
    sk.settimeout(20)
    s = Server(max_procs=2, conf={"audit_log": "syslog", "audit_syslog_socket": sock_path})
    m = s.create()
    try:
        data = sk.recv(4096)
    except socket.timeout:
        data = b""
    mm = re.match(rb"^<86>ots: (\{.*\})$", data)
    o = json.loads(mm.group(1)) if mm else {}
    ok(mm and list(o) == FIELDS and o["event"] == "create" and o["route"] == "/api/v1/share",
       "syslog: one datagram per line, authpriv.info, tag ots", data)
    ok(m["secret_key"].encode() not in data and m["metadata_key"].encode() not in data,
       "syslog: no key in the line")
    s.close()
    sk.close()
    diag("audit log lines checked: %d" % len(lines))


run(main)
