#!/usr/bin/env python3
"""Webhooks from ots-mailer to a real HTTPS receiver on 127.0.0.1 (Python's
http.server over TLS, with a CA and a certificate the test makes with the
openssl command): the signed event for a reveal, a burn and an expiry
(signature, fields and their order, delivery id, receipt fingerprint,
nothing of the secret); retries of the same delivery id until 2xx; giving
up after mail_max_age; loopback refused before any connection unless
webhook_allow_private; and ots-admin refusing http:// and userinfo URLs."""

import hashlib
import hmac
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, SmtpSink, canary, count_bytes, diag, is_, json_is_compact, ok, parse_json,  # noqa: E402
                     parse_sweep, run)

FROM = "noreply@ots.example.org"
CUST = "hooks@example.com"
MAX_AGE = 600

Hook = namedtuple("Hook", "method path headers body")   # headers: {lower-cased name: [values]}


OPENSSL_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = %(cn)s
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_certs(d):
    """A CA and a server certificate for 127.0.0.1 and localhost signed by
    it (the openssl command), for ten years from now (the mailer's clock
    moves ahead).  (ca.pem, server.pem, server.key)."""
    ca, cert, key = (os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))

    def openssl(cn, *args):
        cnf = os.path.join(d, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(OPENSSL_CNF % {"cn": cn})
        r = subprocess.run(["openssl"] + list(args) + ["-config" if args[0] == "req" else "-extfile", cnf],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], r.stderr))

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("ots test CA " + canary(), "req", "-x509", *ec, "-keyout", os.path.join(d, "ca.key"), "-out", ca,
            "-days", "3650", "-sha256", "-extensions", "ca")
    openssl("127.0.0.1", "req", "-new", *ec, "-keyout", key, "-out", os.path.join(d, "server.csr"))
    openssl("127.0.0.1", "x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA", ca, "-CAkey",
            os.path.join(d, "ca.key"), "-set_serial", "0x1" + canary("")[:15], "-days", "3650", "-sha256",
            "-out", cert, "-extensions", "server")
    return ca, cert, key


class Receiver:
    """An HTTPS server on 127.0.0.1: keeps every request (Hook), counts the
    TCP connections accepted (before any TLS), and answers each POST with
    the next of statuses, else with default."""

    def __init__(self, cert, key):
        self.requests = []
        self.connections = 0
        self.statuses = []
        self.default = 200
        self._lock = threading.Lock()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hdrs = {}
                for k, v in self.headers.items():
                    hdrs.setdefault(k.lower(), []).append(v)
                with recv._lock:
                    recv.requests.append(Hook(self.command, self.path, hdrs, body))
                    status = recv.statuses.pop(0) if recv.statuses else recv.default
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Srv(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, addr = self.socket.accept()
                with recv._lock:
                    recv.connections += 1
                return sock, addr

            def finish_request(self, request, client_address):
                request.settimeout(10)
                try:
                    tls = ctx.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                try:
                    super().finish_request(tls, client_address)
                finally:
                    tls.close()

            def handle_error(self, request, client_address):
                pass

        self.httpd = Srv(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def now(s):
    return int(time.time()) + s.offset


def fingerprint(mkey):
    return hashlib.sha256(mkey.encode()).hexdigest()[:16]


def hook_problems(h, secret, event, meta, t_event, needles=()):
    """What is wrong with one delivery h of event for the secret meta."""
    probs = []
    one = {k: v[0] if len(v) == 1 else v for k, v in h.headers.items()}
    if h.method != "POST" or h.path != "/hook":
        probs.append("%s %s" % (h.method, h.path))
    if one.get("content-type") != "application/json":
        probs.append("Content-Type %r" % one.get("content-type"))
    if one.get("x-ots-event") != event:
        probs.append("X-Ots-Event %r" % one.get("x-ots-event"))
    want_sig = "sha256=" + hmac.new(bytes.fromhex(secret), h.body, hashlib.sha256).hexdigest()
    if one.get("x-ots-signature") != want_sig:
        probs.append("X-Ots-Signature %r, expected %r (HMAC-SHA256 of the body)" % (one.get("x-ots-signature"),
                                                                                    want_sig))
    doc = parse_json(h.body)
    if not isinstance(doc, dict) or not json_is_compact(h.body):
        return probs + ["body %r is not a compact JSON object" % h.body[:300]]
    if list(doc) != ["id", "event", "time", "receipt"]:
        probs.append("keys %r, expected id, event, time, receipt in that order" % list(doc))
    if not (isinstance(doc.get("id"), str) and re.fullmatch(r"(?:[0-9a-f]{2}){16,}", doc["id"])):
        probs.append("id %r is not hex" % doc.get("id"))
    if one.get("x-ots-delivery") != doc.get("id"):
        probs.append("X-Ots-Delivery %r is not the body's id %r" % (one.get("x-ots-delivery"), doc.get("id")))
    if doc.get("event") != event:
        probs.append("event %r" % doc.get("event"))
    if type(doc.get("time")) is not int or not t_event - 2 <= doc["time"] <= t_event + 5:
        probs.append("time %r, expected the event's (about %d)" % (doc.get("time"), t_event))
    if doc.get("receipt") != fingerprint(meta["metadata_key"]):
        probs.append("receipt %r, expected sha256(metadata_key)[:16] %r" % (doc.get("receipt"),
                                                                            fingerprint(meta["metadata_key"])))
    text = h.body + b"".join(("%s: %s" % (k, v)).encode() for k, vs in h.headers.items() for v in vs)
    for n in list(needles) + [meta["metadata_key"], meta.get("secret_key") or None, secret]:
        if n and n.encode() in text:
            probs.append("%r is in the request" % n)
    return probs


def once(s, want, desc):
    rc, summary, out, err = s.mail_once()
    return ok(rc == 0 and summary == want, "%s: ots-mailer -1: %d sent, %d to retry, %d failed"
              % (desc, want["sent"], want["retry"], want["failed"]), [out, err])


def SENT(n=1):
    return {"sent": n, "retry": 0, "failed": 0}


def rows(s, event):
    return [x for x in s.mail_list() if x["kind"] == "webhook" and x["event"] == event]


def received(s, recv, auth, secret):
    """A reveal: one signed event, nothing of the secret in it."""
    v, addr = canary(), "rcpt.%s@example.org" % canary("r")
    meta = s.create(v, auth=auth, recipient=addr)
    once(s, SENT(), "the recipient's mail")
    is_(len(recv.requests), 0, "no webhook before the event")
    t = now(s)
    r = s.reveal(meta["secret_key"])
    ok(r.status == 200, "reveal", r.body[:200])
    n0 = len(recv.requests)
    once(s, SENT(), "received")
    new = recv.requests[n0:]
    if ok(len(new) == 1, "received: one POST", len(new)):
        link = s.settings["base_url"] + "/secret/" + meta["secret_key"]
        probs = hook_problems(new[0], secret, "received", meta, t, needles=[v, addr, link, CUST, auth[1]])
        ok(not probs, "received: signature, fields in order, delivery id, time, receipt; no key, value, link, "
           "recipient or account in the body or headers", probs + [new[0].body, new[0].headers])
        diag("received: %s" % new[0].body.decode())
    x = rows(s, "received")
    ok(len(x) == 1 and x[0]["state"] == "sent" and x[0]["attempts"] == 1, "mail list: the webhook sent",
       [y["raw"] for y in x])
    c = recv.connections
    once(s, SENT(0), "again")
    ok(len(recv.requests) == n0 + 1 and recv.connections == c, "a second ots-mailer -1 posts nothing more")


def retried(s, recv, auth, secret):
    """500 first: the same delivery again later, then sent."""
    recv.statuses = [500]
    meta = s.create(auth=auth)
    t = now(s)
    s.reveal(meta["secret_key"])
    n0 = len(recv.requests)
    once(s, {"sent": 0, "retry": 1, "failed": 0}, "receiver answers 500")
    x = rows(s, "received")
    x = [y for y in x if y["state"] == "queued"]
    ok(len(x) == 1 and x[0]["attempts"] == 1 and x[0]["error"] == "webhook: HTTP 500" and
       x[0]["next"] - now(s) in range(55, 62), "mail list: queued, attempts=1, \"webhook: HTTP 500\", next try "
       "in 60 s", [y["raw"] for y in s.mail_list()])
    s.advance(61)
    once(s, SENT(), "61 s later, the receiver answers 200")
    new = recv.requests[n0:]
    if ok(len(new) == 2, "two POSTs in all", len(new)):
        for i, h in enumerate(new):
            probs = hook_problems(h, secret, "received", meta, t)
            ok(not probs, "delivery %d: signed, the event's time (not the retry's)" % (i + 1), probs + [h.body])
        ids = [h.headers.get("x-ots-delivery") for h in new]
        ok(ids[0] == ids[1] and new[0].body == new[1].body,
           "the retry has the same delivery id and the same body (the receiver can drop duplicates)", ids)
    x = [y for y in rows(s, "received") if y["attempts"] == 2]
    ok(len(x) == 1 and x[0]["state"] == "sent", "mail list: sent after 2 attempts", [y["raw"] for y in s.mail_list()])


def burned_expired(s, recv, auth, secret):
    meta = s.create(auth=auth)
    t = now(s)
    r = s.burn(meta["metadata_key"], auth=auth)
    ok(r.status == 200, "burn", r.body[:200])
    n0 = len(recv.requests)
    once(s, SENT(), "burned")
    new = recv.requests[n0:]
    if ok(len(new) == 1, "burned: one POST", len(new)):
        probs = hook_problems(new[0], secret, "burned", meta, t)
        ok(not probs, "burned: signed event, fields, receipt", probs + [new[0].body])

    meta = s.create(auth=auth, ttl="3600")
    s.advance(3601)
    t = now(s)
    rc, out, err = s.sweep()
    ok(rc == 0 and (parse_sweep(out) or {}).get("notices") == 1, "past its ttl, ots-sweep queues 1 notice",
       [out, err])
    n0 = len(recv.requests)
    once(s, SENT(), "expired")
    new = recv.requests[n0:]
    if ok(len(new) == 1, "expired: one POST", len(new)):
        probs = hook_problems(new[0], secret, "expired", meta, t)
        ok(not probs, "expired: signed event, fields, receipt, the sweep's time", probs + [new[0].body])


def gave_up(s, recv, auth):
    recv.default = 500
    meta = s.create(auth=auth)
    s.reveal(meta["secret_key"])
    once(s, {"sent": 0, "retry": 1, "failed": 0}, "a receiver that always answers 500")
    s.advance(MAX_AGE + 1)
    c = recv.connections
    once(s, {"sent": 0, "retry": 0, "failed": 1}, "past mail_max_age (%d s)" % MAX_AGE)
    is_(recv.connections - c, 0, "giving up makes no connection")
    x = [y for y in rows(s, "received") if y["state"] != "sent"]
    ok(len(x) == 1 and x[0]["state"] == "failed" and x[0]["error"].startswith("gave up") and x[0]["next"] == "-",
       "mail list: failed, \"gave up\"", [y["raw"] for y in s.mail_list()])
    if x:
        diag("given up: %s" % x[0]["raw"])
    recv.default = 200


def untrusted(s, recv, auth, other_ca):
    """webhook_ca_file names a CA that did not sign the receiver's
    certificate: the TLS handshake fails, nothing is posted; with the
    right one again, the retry is."""
    ca = s.settings["webhook_ca_file"]
    s.settings["webhook_ca_file"] = other_ca
    s._write_conf()
    c, n0 = recv.connections, len(recv.requests)
    before = {y["id"] for y in s.mail_list()}
    meta = s.create(auth=auth)
    s.reveal(meta["secret_key"])
    once(s, {"sent": 0, "retry": 1, "failed": 0}, "a receiver whose certificate another CA signed")
    x = [y for y in rows(s, "received") if y["id"] not in before]
    ok(recv.connections == c + 1 and len(recv.requests) == n0 and len(x) == 1 and x[0]["state"] == "queued"
       and x[0]["error"].startswith("webhook: ") and "HTTP" not in x[0]["error"],
       "it connected once, posted nothing, and is queued with the TLS error",
       [recv.connections - c, len(recv.requests) - n0] + [y["raw"] for y in x])
    if x:
        diag("untrusted: %s" % x[0]["error"])
    s.settings["webhook_ca_file"] = ca
    s._write_conf()
    s.advance(61)
    once(s, SENT(), "the right CA again, 61 s later")
    is_(len(recv.requests) - n0, 1, "the event is posted")


def refused(s, recv, auth):
    """webhook_allow_private = no, then unset (its default): loopback is
    refused when the mailer is about to connect."""
    for setting in ("no", None):
        what = "webhook_allow_private = no" if setting else "webhook_allow_private unset (no)"
        if setting:
            s.settings["webhook_allow_private"] = setting
        else:
            s.settings.pop("webhook_allow_private", None)
        s._write_conf()
        c, n0 = recv.connections, len(recv.requests)
        before = {y["id"] for y in s.mail_list()}
        meta = s.create(auth=auth)
        s.reveal(meta["secret_key"])
        once(s, {"sent": 0, "retry": 1, "failed": 0}, "%s, a webhook to 127.0.0.1" % what)
        ok(recv.connections == c and len(recv.requests) == n0, "%s: the receiver saw no connection (%d)"
           % (what, recv.connections - c))
        x = [y for y in rows(s, "received") if y["id"] not in before]
        ok(len(x) == 1 and x[0]["state"] == "queued" and x[0]["error"] == "webhook: address not allowed",
           "%s: mail list: queued, \"webhook: address not allowed\"" % what, [y["raw"] for y in s.mail_list()])


def registration(s, port, url):
    for bad, desc in (("http://127.0.0.1:%d/hook" % port, "http:// (not https)"),
                      ("https://user:pw@127.0.0.1:%d/hook" % port, "with userinfo"),
                      ("https://user@127.0.0.1:%d/hook" % port, "with a user name")):
        r = s.admin("customer", "set", CUST, "webhook=" + bad)
        ok(r.returncode == 1 and r.stdout == "", "customer set webhook=URL %s: exit status 1, no secret printed"
           % desc, [r.returncode, r.stdout, r.stderr])
    listed = s.admin("customer", "list").stdout
    ok("webhook=%s\n" % url in listed and "pw@" not in listed, "the account keeps its webhook", listed)


def main():
    tmp = tempfile.mkdtemp(prefix="ots-webhook-certs-", dir=os.environ.get("OTS_TMPDIR") or None)
    try:
        hooks(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def hooks(tmp):
    ca, cert, key = make_certs(tmp)
    recv = Receiver(cert, key)
    sink = SmtpSink()
    sink.start()
    s = Server(conf={"webhook_allow_private": "yes", "webhook_ca_file": ca, "mail_max_age": MAX_AGE,
                     "smtp_port": sink.port, "mail_from": FROM})
    auth = (CUST, s.add_customer(CUST, "basic"))
    url = "https://127.0.0.1:%d/hook" % recv.port
    r = s.admin("customer", "set", CUST, "webhook=" + url)
    secret = r.stdout.strip()
    ok(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}", secret), "customer set webhook=URL prints the signing "
       "secret (64 hex digits)", [r.returncode, r.stdout, r.stderr])
    listed = s.admin("customer", "list").stdout
    ok("notify=webhook\twebhook=%s\n" % url in listed and secret not in listed,
       "registering a webhook turns its notices on; the list shows the URL, not the secret", listed)
    r = s.admin("customer", "set", CUST, "notify=webhook")
    ok(r.returncode == 0, "customer set notify=webhook", r.stderr)
    raw = bytes.fromhex(secret) if len(secret) == 64 else b"\0" * 32
    found = count_bytes(s.db_files(), [secret.encode(), raw])
    ok(not sum(found.values()), "the signing secret (hex or bytes) is not in the database's files", found)

    try:
        received(s, recv, auth, secret)
        retried(s, recv, auth, secret)
        burned_expired(s, recv, auth, secret)
        gave_up(s, recv, auth)
        os.mkdir(os.path.join(tmp, "other"))
        untrusted(s, recv, auth, make_certs(os.path.join(tmp, "other"))[0])
        refused(s, recv, auth)
        registration(s, recv.port, url)
        r = s.admin("customer", "set", CUST, "webhook=none")
        listed = s.admin("customer", "list").stdout
        ok(r.returncode == 0 and "notify=none\twebhook=none\n" in listed,
           "webhook=none removes the webhook and turns its notices off", [r.stderr, listed])
    finally:
        recv.stop()
        sink.stop()
    diag("receiver: %d requests, %d connections" % (len(recv.requests), recv.connections))


if __name__ == "__main__":
    run(main)
