#!/usr/bin/env python3
"""E-mail to the recipient, against a real SMTP server in this process
(aiosmtpd).  The web workers only queue (the payload sealed to the mailer's
key) and ots-mailer delivers: a create answers at once and the running
mailer delivers within a few seconds; the message itself; retries by
`ots-mailer -1` with back-off, giving up after mail_max_age or when the
secret expires, and a failed message is never sent; ots-sweep delivers
nothing; hostile addresses never reach SMTP; a silent relay holds neither
the FastCGI nor the CGI answer; without mailer_public_key a create with a
recipient is refused and nothing is queued; no secret or passphrase in any
mail, log or mailer output."""

import email.parser
import email.policy
import email.utils
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (OTS, Server, SmtpSink, basic, canary, count_bytes, diag, form_body, is_,  # noqa: E402
                     is_error, ok, parse_sweep, passphrase, run, wait_until)

FROM = "noreply@ots.example.org"
CUST = "alice@example.com"
SECRETS = []   # every value and passphrase used: grepped for at the end
OUTPUTS = []   # what every `ots-mailer -1` printed: grepped too
FAST = 2.0     # seconds: an answer that did not wait for SMTP (smtp_timeout is 5 or 30)
# the running mailer looks every second: a message goes out within a few
LATENCY = 30.0 if "valgrind" in os.environ.get("OTS_WRAPPER", "") else 5.0

HOSTILE = [
    "a@b.com\r\nBcc: x@y.com", "a@b.com\nBcc: x@y.com", "a@b.com\rX: y", "<a@b.com>", "Bob <a@b.com>",
    "a@b.com,c@d.com", "a@b.com;c@d.com", '"a"@b.com', '"a b"@c.com', "a b@c.com", " a@b.com", "a@b.com ",
    "a@b .com", "a\t@b.com", "a@b.com\x00x", "a(c)@b.com", "a\\b@c.com", "a@b", "a@localhost", "a..b@c.com",
    ".a@b.com", "a.@b.com", "a@-b.com", "a@b-.com", "a@b..com", "a@.b.com", "a@b.com.", "a@b.c0m", "a@b.123",
    "a@1.2.3.4", "a@[127.0.0.1]", "a@b_c.com", "@b.com", "a@", "a", "@", "a@@b.com", "a@b@c.com",
    "\u0430dmin@example.com", "admin@ex\u0430mple.com", "admin@example.\u0441om", "b\u00f6b@example.com",
    "a" * 79 + "\u00e9@b.com", "a@b.com\r\n.\r\nMAIL FROM:<x@y.com>",
    "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com",      # 255 bytes
    "a" * 300 + "@example.com",
]
LONGEST = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"  # 254 bytes: valid


def parse(raw):
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)


def check_mail(s, mail, to, meta, desc, value, pp=None, token=None):
    """The message and its envelope for the secret meta (created by CUST)."""
    link = s.settings["base_url"] + "/secret/" + meta["secret_key"]
    probs = []
    if mail.mail_from != FROM or mail.rcpt_tos != [to]:
        probs.append("envelope %r -> %r" % (mail.mail_from, mail.rcpt_tos))
    m = parse(mail.content)
    want = {"subject": CUST + " sent you a secret", "from": FROM, "to": to, "reply-to": CUST,
            "mime-version": "1.0"}
    for k, v in want.items():
        if m.get_all(k) != [v]:
            probs.append("%s: %r, expected [%r]" % (k, m.get_all(k), v))
    try:
        date = email.utils.parsedate_to_datetime(m["date"]).timestamp()
        if abs(date - (time.time() + s.offset)) > 300:
            probs.append("Date %r is not the (fake) time now" % m["date"])
    except (TypeError, ValueError):
        probs.append("Date %r does not parse" % m["date"])
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(m["message-id"] or "")):
        probs.append("Message-ID %r" % m["message-id"])
    if m.get_content_type() != "text/plain" or m.get_content_charset() != "utf-8":
        probs.append("Content-Type %r" % m["content-type"])
    body = m.get_content() if not m.is_multipart() else ""
    links = re.findall(r"https?://\S+", body)
    if links != [link]:
        probs.append("links %r, expected [%r]" % (links, link))
    if not re.search(r"^.*\bonce\b.*$", body, re.M | re.I):
        probs.append("no line saying the link works once")
    if bool(re.search(r"passphrase", body, re.I)) != bool(pp):
        probs.append("passphrase line %s" % ("missing" if pp else "present without a passphrase"))
    for name, n in (("secret value", value), ("passphrase", pp), ("metadata_key", meta["metadata_key"]),
                    ("API token", token)):
        if n and n.encode() in mail.content:
            probs.append("the %s is in the message" % name)
    return ok(not probs, desc, probs + ["message: %r" % mail.content[:1500]])


def is_undeliverable(r, addr, desc):
    msg = (r.json or {}).get("message", "") if isinstance(r.json, dict) else ""
    probs = []
    if r.status != 404 or r.intended is None or not 400 <= r.intended < 500:
        probs.append("HTTP %d, intended %r: expected 404 with a 4xx intended status" % (r.status, r.intended))
    if not isinstance(r.json, dict) or list(r.json) != ["message"]:
        probs.append("body %r, expected {\"message\":...} (valid UTF-8 JSON)" % r.body[:200])
    elif "\x00" in addr and msg:
        pass  # NUL: the form parser may refuse the request first
    elif not msg.startswith("Undeliverable email address"):
        probs.append("message %r" % msg)
    elif len(addr) <= 80 and addr.isprintable() and msg != "Undeliverable email address: " + addr:
        probs.append("message %r does not echo the address" % msg)
    return ok(not probs, desc, probs)


def create(s, auth, gen=False, **kw):
    t = time.monotonic()
    if gen:
        r = s.generate(auth=auth, **kw)
    else:
        kw.setdefault("secret", canary())
        r = s.share(auth=auth, **kw)
    dt = time.monotonic() - t
    value = (r.json or {}).get("value") if gen else kw["secret"]
    SECRETS.extend(x for x in (value, kw.get("passphrase")) if x)
    return r, dt, value


def mail_once(s, want, desc):
    """`ots-mailer -1` on s: exit 0 and the summary want ({sent, retry,
    failed}); its output kept for the grep at the end.  Returns stderr."""
    rc, summary, out, err = s.mail_once()
    OUTPUTS.append(out + err)
    is_((rc, summary), (0, want), desc)
    if err.strip():
        diag("ots-mailer: " + " / ".join(err.strip().splitlines()))
    return err


def delivered(s, sink, auth, token):
    """The sink is up and the mailer runs: share, share with a passphrase,
    generate; each answers at once and is delivered within seconds."""
    n0 = len(sink.messages)
    cases = [("share", {}), ("share with a passphrase", {"passphrase": passphrase(), "ttl": "3600"}),
             ("generate", {"gen": True})]
    latencies = []
    for i, (name, kw) in enumerate(cases):
        to = "bob.%d+ots@mail.example.net" % i
        r, dt, value = create(s, auth, recipient=to, **kw)
        answered = time.monotonic()
        ok(r.status == 200 and dt < FAST, "%s with a recipient: 200 at once (%.3f s)" % (name, dt), r.body[:300])
        m = r.json or {}
        rc = m.get("recipient")
        ok(isinstance(rc, list) and len(rc) == 1 and "*" in rc[0] and rc[0] != to and rc[0].endswith(".net"),
           "%s: metadata shows the obfuscated recipient" % name, repr(rc))
        got = sink.wait(n0 + i + 1, 60)
        latencies.append(time.monotonic() - answered)
        is_(got - n0, i + 1, "%s: the running mailer delivered the message (%.2f s after the answer)"
            % (name, latencies[-1]))
        if got >= n0 + i + 1:
            check_mail(s, sink.messages[n0 + i], to, m, "%s: envelope, headers and body" % name,
                       value, kw.get("passphrase"), token)
        if name == "share":
            got = (s.reveal(m.get("secret_key", "x")).json or {}).get("value")
            is_(got, value, "the key in the mailed link reveals the secret")
    diag("create answered -> message at the relay: %s s" % ", ".join("%.2f" % x for x in latencies))
    ok(max(latencies) <= LATENCY, "the running mailer delivers within a few seconds of the answer (at most "
       "%.2f s, bound %.0f s)" % (max(latencies), LATENCY))
    ls = wait_until(lambda: [(x["kind"], x["state"], x["event"]) for x in s.mail_list()][:3]
                    == [("secret", "sent", "-")] * 3, 10)
    ok(ls, "mail list: the three messages, kind secret, are sent", [x["raw"] for x in s.mail_list()])
    r, _, _ = create(s, auth, recipient=LONGEST)
    is_(r.status, 200, "a 254-byte address is accepted")
    is_(sink.wait(n0 + 4, 60) - n0, 4, "and delivered")

    r, _, _ = create(s, None, recipient="bob@example.net")
    is_error(r, "An account is required to send emails.", "anonymous create with a recipient is refused")
    is_(len(s.mail_list()), 4, "and queues nothing")


def hostile(s, sink, auth):
    """The mailer runs: nothing of these reaches it, nor the relay."""
    c0, q0 = sink.connections, len(s.mail_list())
    for i, addr in enumerate(HOSTILE):
        r, _, _ = create(s, auth, gen=bool(i % 3 == 2), recipient=addr)
        short = addr if len(addr) <= 50 else addr[:40] + "... (%d bytes)" % len(addr.encode())
        is_undeliverable(r, addr, "recipient %r refused" % short)
    # CRLF in a JSON string; an LF that is only percent-encoded text
    r = s.request("POST", "share", body=(b'{"secret":"x","recipient":"a@b.com\\r\\nBcc: x@y.com"}',
                                         "application/json"), auth=auth)
    is_undeliverable(r, "a@b.com\r\nBcc: x@y.com", "CRLF recipient in a JSON body refused")
    r = s.request("POST", "share", body=form_body({"secret": "x", "recipient": "a@b.com%0aBcc:x@y.com"}), auth=auth)
    ok(r.status == 404 and 400 <= (r.intended or 0) < 500, "double-encoded LF recipient refused", r.body[:200])
    # the mailer looks every second: give it a few looks
    wait_until(lambda: sink.connections > c0, 2.5)
    is_(sink.connections - c0, 0, "%d hostile recipients: the SMTP server saw no connection" % len(HOSTILE))
    is_(len(s.mail_list()) - q0, 0, "and no message was queued")


def down_then_up(s, sink, auth):
    """No mailer runs; the sink is down at create: `ots-mailer -1` (cron's
    way) tries, backs off, and delivers once the sink is back."""
    t0 = time.monotonic()
    r, dt, value = create(s, auth, recipient="carol@example.org")
    ok(r.status == 200 and dt < FAST, "SMTP down: create answers 200 in %.3f s" % dt, r.body[:300])
    ls = s.mail_list()
    ok(len(ls) == 1 and (ls[0]["kind"], ls[0]["state"], ls[0]["attempts"], ls[0]["error"]) == ("secret", "queued", 0, "")
       and ls[0]["next"] == ls[0]["created"] and ls[0]["recipient"] != "carol@example.org",
       "mail list: queued by the worker, due at once, not attempted, obfuscated recipient", [x["raw"] for x in ls])
    # sealed to the mailer's key: neither the address nor the link is in
    # the database's bytes while it waits
    key = (r.json or {}).get("secret_key", "")
    found = count_bytes(s.db_files(), [b"carol@example.org", key.encode() if key else b""])
    ok(key and not sum(found.values()), "queued: neither the recipient's address nor the share link is in the "
       "database's files", found)
    err = mail_once(s, {"sent": 0, "retry": 1, "failed": 0}, "ots-mailer -1 with SMTP down: 1 to retry")
    took = time.monotonic() - t0  # create to failed attempt, at most
    ok("carol@example.org" not in err, "its line names the recipient obfuscated", err)
    ls = s.mail_list()
    ok(len(ls) == 1 and ls[0]["state"] == "queued" and ls[0]["attempts"] == 1 and ls[0]["error"],
       "mail list: queued, attempts=1, an error", [x["raw"] for x in ls])
    if ls:
        diag("mail list: %s" % ls[0]["raw"])
        d = ls[0]["next"] - ls[0]["created"] if isinstance(ls[0]["next"], int) else None
        ok(d is not None and 60 <= d <= 60 + math.ceil(took), "first retry 60 s after the failed attempt (%s s "
           "after the create; the attempt had failed %.1f s after it)" % (d, took))
    mail_once(s, {"sent": 0, "retry": 0, "failed": 0}, "ots-mailer -1 again at once: not due, nothing tried")
    sink.start()
    s.advance(61)
    rc, out, err = s.sweep()
    sw = parse_sweep(out)
    ok(rc == 0 and sw is not None and sink.connections == 0 and [x["state"] for x in s.mail_list()] == ["queued"],
       "ots-sweep, the message due and the sink up: delivers nothing (the mailer's job)",
       [out, err, sink.connections])
    mail_once(s, {"sent": 1, "retry": 0, "failed": 0}, "ots-mailer -1 after 61 s sends 1 message")
    ok(len(sink.messages) == 1 and check_mail(s, sink.messages[0], "carol@example.org", r.json,
                                              "the retried message is complete", value),
       "the sink has exactly the retried message", len(sink.messages))
    st = [x["state"] + "/" + str(x["next"]) for x in s.mail_list()]
    is_(st, ["sent/-"], "mail list: sent, no next try")
    c = sink.connections
    mail_once(s, {"sent": 0, "retry": 0, "failed": 0}, "a second ots-mailer -1 sends nothing more")
    is_((len(sink.messages), sink.connections - c), (1, 0), "and does not connect")
    sink.stop()


def max_age(s, sink, auth):
    """Back-off while the sink is down, given up after mail_max_age."""
    create(s, auth, recipient="dave@example.org", passphrase=passphrase())
    mail_once(s, {"sent": 0, "retry": 1, "failed": 0}, "SMTP down: the first attempt fails")
    m = [x for x in s.mail_list() if x["state"] == "queued" and x["attempts"] == 1 and x["error"]]
    ok(m, "SMTP down: the message is queued after one attempt", [x["raw"] for x in s.mail_list()])
    created = m[0]["created"] if m else int(time.time() + s.offset)
    delays = []
    for attempt in (2, 3):
        s.advance(m[0]["next"] - (time.time() + s.offset) + 2 if m else 61)
        mail_once(s, {"sent": 0, "retry": 1, "failed": 0}, "ots-mailer -1: attempt %d fails" % attempt)
        m = [x for x in s.mail_list() if x["state"] == "queued"]
        ok(m and m[0]["attempts"] == attempt, "attempt %d recorded, retried later" % attempt,
           [x["raw"] for x in s.mail_list()])
        if m:
            delays.append(m[0]["next"] - int(time.time() + s.offset))
    ok(len(delays) == 2 and abs(delays[0] - 120) <= 2 and abs(delays[1] - 240) <= 2,
       "back-off doubles: next tries in %s s" % delays)
    s.advance(created + 900 + 5 - int(time.time() + s.offset))  # mail_max_age 900
    c = sink.connections
    mail_once(s, {"sent": 0, "retry": 0, "failed": 1}, "past mail_max_age ots-mailer -1 gives up")
    f = [x for x in s.mail_list() if x["state"] == "failed"]
    ok(len(f) == 1 and f[0]["next"] == "-" and f[0]["error"].startswith("gave up (too old)"),
       "mail list: failed, with the reason", [x["raw"] for x in s.mail_list()])
    diag("given up: %s" % (f[0]["raw"] if f else None))
    sink.start()
    s.advance(3600)
    mail_once(s, {"sent": 0, "retry": 0, "failed": 0}, "the sink back: ots-mailer -1 has nothing to do")
    ok(not sink.messages[1:] and sink.connections == c, "a failed message is never sent",
       [len(sink.messages), sink.connections - c])
    rc, out, err = s.sweep()
    sw = parse_sweep(out) or {}
    ok(rc == 0 and sw.get("mail_removed") == 2 and s.mail_list() == [], "after mail_keep ots-sweep removes both "
       "records", [out, err] + [x["raw"] for x in s.mail_list()])
    sink.stop()


def secret_expired(s, sink, auth):
    """Recipient mail is given up once its secret has expired, even within
    mail_max_age: the link would lead nowhere."""
    create(s, auth, recipient="erin@example.org", ttl="300")
    mail_once(s, {"sent": 0, "retry": 1, "failed": 0}, "ttl 300, SMTP down: the first attempt fails")
    s.advance(301)
    c = sink.connections
    mail_once(s, {"sent": 0, "retry": 0, "failed": 1}, "its secret expired (301 s): ots-mailer -1 gives up")
    f = [x for x in s.mail_list() if x["state"] == "failed"]
    ok(len(f) == 1 and f[0]["error"].startswith("gave up (the secret expired)"),
       "mail list: failed, because the secret expired", [x["raw"] for x in s.mail_list()])
    sink.start()
    s.advance(120)
    mail_once(s, {"sent": 0, "retry": 0, "failed": 0}, "the sink back: nothing to send")
    is_((len(sink.messages), sink.connections - c), (1, 0), "and it was never sent")
    sink.stop()


def blackhole():
    """An SMTP server that accepts and never speaks, the mailer running:
    it waits on the relay, the answers do not."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    s = Server(conf={"smtp_port": hole.getsockname()[1], "mail_from": FROM, "smtp_timeout": 5})
    auth = (CUST, s.add_customer(CUST, "basic"))
    s.start_mailer()
    r, dt, _ = create(s, auth, recipient="erin@example.org")
    ok(r.status == 200 and dt < FAST, "silent SMTP server (smtp_timeout 5), mailer running: FastCGI answers in "
       "%.3f s" % dt)
    # the mailer takes it within a second, then waits on the silent relay
    taken = wait_until(lambda: [x for x in s.mail_list() if x["attempts"] == 1], 10)
    ok(taken and not taken[0]["error"], "the mailer has taken it and waits on the relay (attempts=1, no error "
       "yet)", [x["raw"] for x in s.mail_list()])
    body, ctype = form_body({"secret": canary(), "recipient": "frank@example.org"})
    env = dict(os.environ, **s.app_env(), GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="POST",
               PATH_INFO="/api/v1/share", SCRIPT_NAME="", QUERY_STRING="", SERVER_NAME="127.0.0.1",
               SERVER_PORT=str(s.port), SERVER_PROTOCOL="HTTP/1.1", REMOTE_ADDR="127.0.0.1",
               CONTENT_TYPE=ctype, CONTENT_LENGTH=str(len(body)), HTTP_AUTHORIZATION=basic(*auth))
    t = time.monotonic()
    p = subprocess.Popen([OTS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    p.stdin.write(body)
    p.stdin.close()
    out = p.stdout.read()
    t_eof = time.monotonic() - t
    p.wait(30)
    t_exit = time.monotonic() - t
    ok(b'"secret_key"' in out and t_exit < FAST, "meanwhile CGI: the answer is complete in %.3f s and the "
       "process has exited in %.3f s (it only queued)" % (t_eof, t_exit), out[:300])
    # generous: the attempts take smtp_timeout each, longer under valgrind
    def done():
        ls = [x for x in s.mail_list() if x["attempts"] == 1 and x["error"]]
        return ls if len(ls) == 2 else None
    ls = wait_until(done, 60) or []
    ok(len(ls) == 2 and all(x["state"] == "queued" and "no answer" in x["error"] for x in ls),
       "both attempts timed out, are queued and say so", [x["raw"] for x in s.mail_list()])
    diag("silent server: %s" % (ls[0]["error"] if ls else None))
    s.stop_mailer()
    hole.close()
    return s


def refused(s, sink, auth):
    """The relay refuses the recipient, naming it: the record keeps the
    reply code, not the reply's text with the whole address."""
    addr = "zoe@example.org"
    sink.refuse.add(addr)
    r, _, _ = create(s, auth, recipient=addr)
    ls = wait_until(lambda: [x for x in s.mail_list() if x["recipient"].startswith("zo") and x["error"]], 60)
    ok(r.status == 200 and len(ls) == 1 and ls[0]["error"].startswith("smtp recipient: 550"),
       "recipient refused by the relay: its reply code recorded", [x["raw"] for x in s.mail_list()])
    found = count_bytes(s.log_files(), [addr.encode()])
    ok(addr not in "\n".join(x["raw"] for x in s.mail_list()) and not sum(found.values()),
       "the refused address is in neither the mail list nor a log (the mailer's included)", found)
    if ls:
        diag("refused: %s" % ls[0]["raw"])


def no_mailer_key():
    """Without the mailer's public key (unset, or its file missing) a
    create with a recipient is refused, on FastCGI and CGI, and nothing is
    queued unreadable; the rest serves; the mailer refuses to start."""
    gone = os.path.join(tempfile.gettempdir(), "ots-no-such-dir-" + canary(), "mailer.pub")
    servers = []
    for what, conf in (("no mailer_public_key", {"mailer_public_key": None, "mailer_key": None}),
                       ("mailer_public_key's file missing", {"mailer_public_key": gone, "mailer_key": None})):
        s = Server(conf=conf)
        servers.append(s)
        auth = (CUST, s.add_customer(CUST, "basic"))
        r, _, _ = create(s, auth, recipient="gina@example.org")
        is_error(r, "This server does not send email (no mailer_public_key)",
                 "%s: a share with a recipient is refused (503)" % what, intended=503)
        r, _, _ = create(s, auth, gen=True, recipient="gina@example.org")
        is_error(r, "This server does not send email (no mailer_public_key)",
                 "%s: a generate with a recipient too" % what, intended=503)
        r = s.cgi("POST", "share", body={"secret": canary(), "recipient": "gina@example.org"}, auth=auth)
        is_error(r, "This server does not send email (no mailer_public_key)",
                 "%s: and a plain CGI share with a recipient" % what, intended=503)
        is_(s.mail_list(), [], "%s: nothing is queued" % what)
        r, _, _ = create(s, auth)
        is_(r.status, 200, "%s: a share without a recipient still works" % what)
        rc, summary, out, err = s.mail_once()
        ok(rc != 0 and summary is None and "mailer_public_key" in err,
           "%s: ots-mailer -1 refuses to run and says why (exit %d)" % (what, rc), [out, err])
        diag("%s: %s" % (what, err.strip()))
    return servers


def main():
    sink = SmtpSink()
    sink.start()
    s = Server(conf={"smtp_port": sink.port, "mail_from": FROM})
    token = s.add_customer(CUST, "basic")
    auth = (CUST, token)
    s.start_mailer()
    delivered(s, sink, auth, token)
    hostile(s, sink, auth)
    refused(s, sink, auth)
    s.stop_mailer()

    down = SmtpSink()
    d = Server(conf={"smtp_port": down.port, "mail_from": FROM, "mail_max_age": 900, "mail_keep": 3000})
    dtoken = d.add_customer(CUST, "basic")
    down_then_up(d, down, (CUST, dtoken))
    max_age(d, down, (CUST, dtoken))
    secret_expired(d, down, (CUST, dtoken))
    b = blackhole()
    nokey = no_mailer_key()

    mails = sink.messages + down.messages
    hits = [i for i, m in enumerate(mails) for x in SECRETS if x.encode() in m.content]
    is_(hits, [], "%d messages: none holds any of %d secret values/passphrases" % (len(mails), len(SECRETS)))
    logs = [p for x in [s, d, b] + nokey for p in x.log_files()]
    found = count_bytes(logs, [x.encode() for x in SECRETS + [token, dtoken]])
    is_(sum(found.values()), 0, "%d log files: no secret value, passphrase or token" % len(logs))
    said = "\n".join(OUTPUTS)
    is_([x for x in SECRETS + [token, dtoken] if x in said], [],
        "%d runs of ots-mailer -1: their output holds no secret value, passphrase or token" % len(OUTPUTS))
    diag("sinks: %d + %d messages, %d + %d connections; logs grepped: %s"
         % (len(sink.messages), len(down.messages), sink.connections, down.connections,
            ", ".join(sorted({os.path.basename(p) for p in logs}))))


if __name__ == "__main__":
    run(main)
