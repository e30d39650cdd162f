#!/usr/bin/env python3
"""Request links: an account asks for a secret (POST /api/v1/request), whoever
opens BASE/request/KEY sends one (FastCGI, plain CGI, and Chromium through
tests/browser/request.mjs), only the account's receipt opens it, once; the
account's notice goes out through ots-mailer to a real SMTP server; a link
works once (20 concurrent answers make one secret), expires and is swept;
answers count as creates for the rate limit; nothing readable at rest."""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import run_script  # noqa: E402
from otstest import Server, SmtpSink, canary, count_bytes, is_, ok, parallel, run  # noqa: E402

MIN_CHECKS = 10  # request.mjs makes 13
FROM = "ots@example.org"
GONE = b"This request link has been used or has expired"
SENT = b"Your secret was sent"


def make_request(s, auth, **params):
    r = s.post("request", auth=auth, **params)
    if r.status != 200 or not isinstance(r.json, dict):
        raise AssertionError("POST /api/v1/request: HTTP %d %r" % (r.status, r.body[:300]))
    return r.json


def path_of(url):
    return urllib.parse.urlparse(url).path


def answer(s, rkey, value, **extra):
    body = dict(secret=value, **extra)
    return s.request("POST", "/request/" + rkey, body=body)


def browser(s, req, note, value):
    """tests/browser/request.mjs answers the request link in Chromium."""
    run_script("request", [req["request_url"], note, value], MIN_CHECKS, server=s, timeout=300)


def main():
    sink = SmtpSink()
    sink.start()
    s = Server(max_procs=4, conf={"smtp_port": sink.port, "mail_from": FROM})
    base = "http://127.0.0.1:%d" % s.port
    alice_id = "alice@example.com"
    alice = (alice_id, s.add_customer(alice_id, "basic"))
    r = s.admin("customer", "set", alice_id, "notify=email")
    ok(r.returncode == 0, "alice asks for e-mail notices", [r.stdout, r.stderr])
    canaries = []

    # -- making a request: accounts only, note bounded
    r = s.post("request", note="hi")
    is_(r.intended, 401, "POST /api/v1/request anonymously: refused (401)")
    r = s.post("request", auth=alice, note="x" * 501)
    is_((r.intended, (r.json or {}).get("message")), (400, "Note exceeds the maximum size of 500 bytes"),
        "a note of 501 bytes: 400")
    note = "Please send the VPN password <b>now</b> & thanks " + canary("note")
    canaries.append(note)
    req = make_request(s, alice, note=note, ttl="3600")
    rkey, mkey = req.get("request_key", ""), req.get("metadata_key", "")
    ok(len(rkey) == 31 and len(mkey) == 31 and rkey != mkey, "the answer has a request key and a receipt key", req)
    is_(req.get("request_url"), base + "/request/" + rkey, "request_url is BASE/request/KEY")
    is_(req.get("receipt_url"), base + "/private/" + mkey, "receipt_url is BASE/private/KEY")
    ok(req.get("ttl") == 3600 and req.get("expires") == req.get("created", 0) + 3600 and req.get("custid") == alice_id,
       "ttl, created, expires and custid", req)
    ok(rkey.encode() not in json.dumps(s.sql("SELECT * FROM request"), default=lambda b: b.hex()).encode(),
       "the request key is not stored (its row id is a keyed hash)")
    is_(s.metadata(mkey).status, 404, "before the answer, the receipt is unknown")

    # -- the page (FastCGI, CGI): the note, escaped; GET takes nothing
    for i in range(2):
        r = s.request("GET", "/request/" + rkey)
        ok(r.status == 200 and b"VPN password &lt;b&gt;now&lt;/b&gt; &amp; thanks" in r.body and
           b"<b>now</b>" not in r.body, "GET /request/KEY #%d: 200, the note escaped" % (i + 1), r.body[:300])
    c = s.cgi("GET", "/request/" + rkey)
    ok(c.status == 200 and note.split()[-1].encode() in c.body, "plain CGI: the same page", c.body[:300])
    is_(s.request("GET", "/request/" + "z" * 31).status, 404, "an unknown request key: 404")

    # an answer refused (empty) takes nothing
    r = answer(s, rkey, "")
    ok(r.status == 400 and b"VPN password" in r.body, "an empty answer: 400, the form again", r.body[:300])

    # -- the browser sends it
    value = "s3cr3t " + canary("val")
    canaries.append(value)
    browser(s, req, note, value)
    r = s.request("GET", "/request/" + rkey)
    ok(r.status == 404 and GONE in r.body, "after the answer the link says used or expired", r.body[:300])
    r = answer(s, rkey, "second " + canary())
    ok(r.status == 404 and GONE in r.body, "a second answer: refused", r.body[:300])

    # -- the receipt is alice's and opens it once
    r = s.metadata(mkey)
    m = r.json if isinstance(r.json, dict) else {}
    ok(r.status == 200 and m.get("state") in ("new", "viewed") and m.get("custid") == alice_id and m.get("secret_key"),
       "the receipt: alice's, new, with the secret key", r.body[:300])
    skey = m.get("secret_key", "")
    ok(m.get("ttl") == 3600, "the answer lives as long as the request was asked to", m.get("ttl"))
    rec = s.recent(auth=alice)
    ok(rec.status == 200 and mkey in [x.get("metadata_key") for x in (rec.json or [])],
       "alice's recent list shows the answer's receipt", rec.body[:300])
    r = s.reveal(skey)
    is_((r.json or {}).get("value"), value, "revealing it gives the submitted text exactly")
    is_(s.reveal(skey).status, 404, "and only once")

    # -- the notice: queued as answered, delivered by ots-mailer over SMTP
    rows = [x for x in s.mail_list() if x["kind"] == "notify" and x["event"] == "answered"]
    ok(len(rows) == 1, "one notice row, event answered", [x["raw"] for x in s.mail_list()])
    n0 = len(sink.messages)
    rc, summary, out, err = s.mail_once()
    sink.wait(n0 + 1)
    new = sink.messages[n0:]
    ok(rc == 0 and len(new) == 1 and new[0].rcpt_tos == [alice_id], "ots-mailer sent alice one notice",
       [rc, out, err, [x.rcpt_tos for x in new]])
    text = new[0].content.decode("utf-8", "replace") if new else ""
    ok("Your request for a secret was answered" in text, "its subject says the request was answered", text[:400])
    ok(("/private/" + mkey) in text and value not in text and skey not in text and rkey not in text,
       "it links the receipt, and holds neither the value, the secret key nor the request key", text[:600])

    # -- once under concurrency: 20 answers, one secret
    req2 = make_request(s, alice, note="race", ttl="600")
    meta0 = s.sql("SELECT count(*) FROM metadata")[0][0]
    vals = ["race-%02d-%s" % (i, canary()) for i in range(20)]
    res = parallel(20, lambda i: answer(s, req2["request_key"], vals[i]))
    sent = [i for i, x in enumerate(res) if not isinstance(x, Exception) and x.status == 200 and SENT in x.body]
    gone = [i for i, x in enumerate(res) if not isinstance(x, Exception) and x.status == 404 and GONE in x.body]
    ok(len(sent) == 1 and len(gone) == 19, "20 concurrent answers: one sent, 19 refused",
       [getattr(x, "status", x) for x in res])
    is_(s.sql("SELECT count(*) FROM metadata")[0][0] - meta0, 1, "exactly one secret was stored")
    m2 = s.metadata(req2["metadata_key"]).json or {}
    r = s.reveal(m2.get("secret_key", "x" * 31))
    ok(sent and (r.json or {}).get("value") == vals[sent[0]], "the receipt opens the winner's value",
       [r.body[:200], sent])

    # -- plain CGI answer, with a passphrase
    req3 = make_request(s, alice, note="cgi")
    v3 = "cgi " + canary("val")
    canaries.append(v3)
    c = s.cgi("POST", "/request/" + req3["request_key"], body={"secret": v3, "passphrase": "correct horse"})
    ok(c.status == 200 and SENT in c.body, "plain CGI: the answer is sent", [c.status, c.body[:300], c.stderr])
    m3 = s.metadata(req3["metadata_key"]).json or {}
    ok(m3.get("passphrase_required") is True, "its receipt says a passphrase is needed", m3)
    r = s.reveal(m3.get("secret_key", "x" * 31), passphrase="correct horse")
    is_((r.json or {}).get("value"), v3, "and it reveals with the passphrase")

    # -- expiry and the sweep
    req4 = make_request(s, alice, note="short", ttl="60")
    s.advance(61)
    r = s.request("GET", "/request/" + req4["request_key"])
    ok(r.status == 404 and GONE in r.body, "an expired request link: used or expired", r.status)
    r = answer(s, req4["request_key"], "late")
    ok(r.status == 404 and GONE in r.body, "an answer to it: refused", r.status)
    live = s.sql("SELECT count(*) FROM request")[0][0]
    ok(live >= 1, "the expired request's row is there before the sweep", live)
    rc, out, err = s.sweep()
    is_(rc, 0, "ots-sweep ran")
    is_(s.sql("SELECT count(*) FROM request")[0][0], 0, "the sweep deleted the expired request")
    ev = [x["event"] for x in s.mail_list() if x["kind"] == "notify"]
    ok(ev.count("expired") == 1, "its notice was queued as expired", ev)

    # -- nothing readable at rest
    found = count_bytes(s.db_files(), [c.encode() for c in canaries])
    ok(not any(found.values()), "the note and the values are nowhere in the database files", found)

    # -- answers count as creates (limit.create_secret)
    req5 = make_request(s, alice, note="limit", ttl="86400")
    s.stop()
    s.settings["limit.create_secret"] = "3"
    s._write_conf()
    s.advance(2 * 3600)  # a fresh rate-limit window
    s.start()
    st = [answer(s, req5["request_key"], "").status for _ in range(4)]
    ok(st[:2] == [400, 400] and st[-1] == 429, "anonymous answers are rate-limited as creates", st)
    sink.stop()


if __name__ == "__main__":
    run(main)
