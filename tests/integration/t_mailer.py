#!/usr/bin/env python3
"""ots-mailer against real relays on 127.0.0.1: a relay that accepts and
never answers costs the web workers nothing (latency of 500 requests
before and while it hangs), holds at most mail_concurrency connections,
and once it comes back every message goes out exactly once; a refused
port is retried; the running mailer delivers within seconds; plain CGI
does no SMTP; a copy of the database and the master key holds no link,
key or address of queued mail; and the notices to a secret's creator
(read, burned, expired unread), one per event, never naming the secret."""

import email.parser
import email.policy
import hashlib
import os
import selectors
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (POSTGRESQL, Server, SmtpSink, canary, count_bytes, diag, free_port, is_, is_error,  # noqa: E402
                     ok, parallel, parse_sweep, run, wait_until)

FROM = "noreply@ots.example.org"
CUST = "alice@example.com"
FAST = 2.0          # seconds: an answer that did not wait for SMTP
CONCURRENCY = 4     # mail_concurrency's default, set explicitly
QUEUED = 20         # messages held by the hung relay
REQUESTS = 500      # requests measured before and while it hangs
CLIENTS = 4         # of them in parallel


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts every connection and never
    says a word: a relay that has hung.  Counts the connections accepted
    (total), those open now (open: until the client closes), and the most
    open at once (max_open)."""

    def __init__(self, port=0):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(64)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.total = self.open = self.max_open = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.lsock, selectors.EVENT_READ)
        conns = []
        try:
            while not self._stop.is_set():
                events = sel.select(0.1)
                # closes before accepts: a client that ended and the one
                # that took its place are never counted open together
                for key, _ in events:
                    if key.fileobj is self.lsock:
                        continue
                    try:
                        data = key.fileobj.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
                        conns.remove(key.fileobj)
                        with self._lock:
                            self.open -= 1
                for key, _ in events:
                    if key.fileobj is not self.lsock:
                        continue
                    while True:
                        try:
                            c, _ = self.lsock.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        c.setblocking(False)
                        sel.register(c, selectors.EVENT_READ)
                        conns.append(c)
                        with self._lock:
                            self.total += 1
                            self.open += 1
                            self.max_open = max(self.max_open, self.open)
        finally:
            for c in conns:
                c.close()
            self.lsock.close()
            sel.close()

    def stop(self):
        """Close the listening socket and every connection (the relay's
        process ends): its clients see the connection closed."""
        self._stop.set()
        self._thread.join(10)


def now(s):
    """The ots processes' (fake) time."""
    return int(time.time()) + s.offset


def children(pid):
    """The PIDs of pid's child processes (the mailer's deliveries)."""
    out = []
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % stat) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(stat))
        except (OSError, IndexError, ValueError):
            continue
    return out


def idle(s):
    """The running mailer has no delivery under way and nothing is due
    (every queued message waits for a retry later than 5 s from now)."""
    if children(s.mailer_proc.pid):
        return False
    t = now(s)
    return all(x["state"] != "queued" or (isinstance(x["next"], int) and x["next"] > t + 5) for x in s.mail_list())


def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, -(-p * len(v) // 100) - 1))]


def workload(s):
    """REQUESTS requests from CLIENTS threads, each its share in a row: GET
    /api/v1/status, and every 25th an anonymous create followed by the
    reveal of what it created.  (seconds of each answered one, problems)."""
    per = REQUESTS // CLIENTS
    times, bad = [], []
    lock = threading.Lock()

    def client(k):
        key = None
        for j in range(per):
            t = time.monotonic()
            try:
                if j % 25 == 0:
                    r = s.share(secret=canary())
                    key = (r.json or {}).get("secret_key") if r.status == 200 else None
                elif j % 25 == 1 and key:
                    r = s.reveal(key)
                else:
                    r = s.request("GET", "status", timeout=30)
            except OSError as e:
                with lock:
                    bad.append("client %d request %d: %s" % (k, j, e))
                continue
            dt = time.monotonic() - t
            with lock:
                times.append(dt)
                if r.status != 200:
                    bad.append("client %d request %d: HTTP %d %r" % (k, j, r.status, r.body[:100]))

    errors = [e for e in parallel(CLIENTS, client) if isinstance(e, Exception)]
    return times, bad + [repr(e) for e in errors]


def obfuscated(addr):
    """mail_obfuscate's form: "delano@onetimesecret.com" -> "de*****@o*****.com"."""
    local, domain = addr.split("@")
    return local[:2] + "*****@" + domain[0] + "*****" + domain[domain.rindex("."):]


def sent_to(sink, addr):
    return [m for m in sink.messages if m.rcpt_tos == [addr]]


def scan(paths, needles):
    """{needle: [files holding its bytes]} for the needles found."""
    found = {}
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for n in needles:
            if n.encode() in data:
                found.setdefault(n, []).append(os.path.basename(p))
    return found


def database_copy(s, queued):
    """queued: [(secret_key, share link, recipient)] of mail not yet sent.
    Copy the database's files (and the master key) as an intruder would,
    and look for each in their bytes; PostgreSQL: also a logical dump."""
    dest = tempfile.mkdtemp(prefix="copy-", dir=s.tmp)
    copied = []
    for p in s.db_files() + [s.master_key]:
        if os.path.isfile(p):
            to = os.path.join(dest, "%d-%s" % (len(copied), os.path.basename(p)))
            shutil.copyfile(p, to)
            copied.append(to)
    if POSTGRESQL:
        to = os.path.join(dest, "dump.sql")
        with open(to, "w") as f:
            f.write("\n".join(s.dump()))
        copied.append(to)
    needles = [x for q in queued for x in q]
    found = scan(copied, needles)
    size = sum(os.path.getsize(p) for p in copied)
    ok(len(copied) >= 2 and size > 0 and not found,
       "a copy of the database (%d files, %d bytes%s) and the master key: none of %d share links, secret "
       "keys or recipient addresses of queued mail in its bytes" % (
           len(copied), size, ", with a pg_dump" if POSTGRESQL else "", len(queued)),
       ["%r in %s" % (k, v) for k, v in found.items()])
    listed = s.admin("mail", "list").stdout
    addrs = [q[2] for q in queued]
    rows = {r["recipient"] for r in s.mail_list()}
    ok(not [a for a in addrs if a in listed] and all(obfuscated(a) in rows for a in addrs),
       "ots-admin mail list shows each recipient only obfuscated", listed[:2000])
    shutil.rmtree(dest, ignore_errors=True)


def hung_relay():
    hole = BlackHole()
    s = Server(conf={"smtp_port": hole.port, "mail_from": FROM, "smtp_timeout": 30,
                     "mail_concurrency": CONCURRENCY}, max_procs=2)
    auth = (CUST, s.add_customer(CUST, "basic"))
    s.start_mailer()

    before, bad = workload(s)
    ok(len(before) == REQUESTS and not bad, "before: %d requests (%d at a time), all 200" % (REQUESTS, CLIENTS),
       bad[:10])
    ok(s.mailer_proc.poll() is None, "the running mailer is up", s.logs())
    ok(hole.total == 0, "nothing queued: no connection to the relay")

    queued = []
    for i in range(QUEUED):
        addr = "rcpt%d.%s@example.org" % (i, canary("r"))
        t = time.monotonic()
        r = s.share(auth=auth, secret=canary(), recipient=addr)
        dt = time.monotonic() - t
        if r.status != 200 or dt >= FAST:
            ok(False, "create %d with a recipient: 200 within %.1f s" % (i, FAST), [r.status, dt, r.body[:200]])
            continue
        key = r.json["secret_key"]
        queued.append((key, s.settings["base_url"] + "/secret/" + key, addr))
    is_(len(queued), QUEUED, "%d creates with a recipient: each 200 within %.1f s" % (QUEUED, FAST))
    t_hung = time.monotonic()
    ok(wait_until(lambda: hole.open >= CONCURRENCY, 15), "the mailer holds %d connections to the silent "
       "relay (%d open, %d accepted)" % (CONCURRENCY, hole.open, hole.total))

    open0 = hole.open
    during, bad = workload(s)
    open1 = hole.open
    ok(len(during) == REQUESTS and not bad, "while the relay hangs: %d requests, all 200" % REQUESTS, bad[:10])
    ok(open0 > 0 and open1 > 0, "the relay held connections throughout (%d at the start, %d at the end)"
       % (open0, open1))
    if before and during:
        p50b, p99b, p50d, p99d = pct(before, 50), pct(before, 99), pct(during, 50), pct(during, 99)
        diag("before: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (p50b * 1e3, p99b * 1e3, max(before) * 1e3))
        diag("during: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (p50d * 1e3, p99d * 1e3, max(during) * 1e3))
        limit = max(5 * p99b, 0.5)
        ok(p99d <= limit, "p99 while the relay hangs %.1f ms <= %.1f ms (5 x p99 before, at least 500 ms)"
           % (p99d * 1e3, limit * 1e3))

    # plain CGI: the program answers and ends; it never talks SMTP
    caddr = "cgi.%s@example.org" % canary("r")
    t = time.monotonic()
    r = s.cgi("POST", "share", body={"secret": canary(), "recipient": caddr}, auth=auth)
    dt = time.monotonic() - t
    ok(r.status == 200 and r.rc == 0 and isinstance(r.json, dict) and "secret_key" in r.json and dt < FAST,
       "plain CGI create with a recipient while the relay hangs: 200, exited in %.3f s" % dt,
       [r.status, r.rc, r.body[:200], r.stderr[-500:]])
    if isinstance(r.json, dict) and "secret_key" in r.json:
        queued.append((r.json["secret_key"], s.settings["base_url"] + "/secret/" + r.json["secret_key"], caddr))

    database_copy(s, queued)

    # the first connections time out (smtp_timeout): their slots take more
    ok(wait_until(lambda: hole.total >= 2 * CONCURRENCY, 30 + 60),
       "after smtp_timeout the hung attempts end and the next ones connect (%d accepted)" % hole.total)
    diag("the next attempts connected %.1f s after the first (smtp_timeout 30)" % (time.monotonic() - t_hung))
    rows = s.mail_list()
    failed = [x for x in rows if x["attempts"] >= 1 and x["state"] == "queued" and x["error"]]
    ok(len(failed) >= CONCURRENCY and all("no answer" in x["error"] or "timed out" in x["error"] for x in failed),
       "the timed-out attempts are queued to retry, saying so", [x["raw"] for x in rows])
    if failed:
        diag("hung relay: %s" % failed[0]["raw"])
    ok(1 <= hole.max_open <= CONCURRENCY, "at most mail_concurrency (%d) connections open at the relay at once: "
       "%d (of %d accepted)" % (CONCURRENCY, hole.max_open, hole.total))

    # the relay comes back on the same port (in between, attempts find it
    # closed: they are retried too)
    hole.stop()
    sink = SmtpSink(port=hole.port)
    sink.start()
    # once no attempt is under way and nothing is due, move the clock past
    # every back-off: a clock moved under an attempt could outrun its lease
    ok(wait_until(lambda: idle(s), 60), "the mailer is idle once the relay is back, nothing due",
       [x["raw"] for x in s.mail_list()])
    nexts = [x["next"] for x in s.mail_list() if x["state"] == "queued"]
    step = max(nexts) - now(s) + 1 if nexts else 0
    diag("%d messages queued to retry; the clock moves on %d s" % (len(nexts), step))
    if 0 < step <= 3600:
        s.advance(step)
    want = sorted(q[2] for q in queued)
    done = wait_until(lambda: all(x["state"] == "sent" for x in s.mail_list()), 60)
    rc = s.stop_mailer()   # waits for deliveries under way: nothing more can come
    got = sorted(a for m in sink.messages for a in m.rcpt_tos)
    ok(done and got == want, "the relay is back: each of the %d messages went out exactly once" % len(want),
       ["missing %r" % sorted(set(want) - set(got)), "extra %r" % [a for a in got if got.count(a) > 1 or
                                                                  a not in want]] + [x["raw"] for x in s.mail_list()])
    rows = s.mail_list()
    is_([x["state"] for x in rows], ["sent"] * len(want), "mail list: all %d sent" % len(want))
    is_(rc, 0, "the mailer stopped on SIGTERM with status 0")
    found = count_bytes(s.log_files(), [x.encode() for q in queued for x in q])
    ok(not sum(found.values()), "the logs (the mailer's, lighttpd's, the workers'%s) hold no share link, key or "
       "recipient address" % (", PostgreSQL's" if POSTGRESQL else ""), {k: v for k, v in found.items() if v})
    return s, sink, auth


def latency(s, sink, auth):
    """The running mailer and a working relay: create to message in the sink."""
    s.settings["smtp_port"] = str(sink.port)
    s._write_conf()
    s.start_mailer()
    times = []
    for i in range(10):
        addr = "lat%d.%s@example.org" % (i, canary("r"))
        t = time.monotonic()
        r = s.share(auth=auth, secret=canary(), recipient=addr)
        arrived = r.status == 200 and wait_until(lambda: sent_to(sink, addr), 10, 0.01)
        times.append(time.monotonic() - t if arrived else None)
    got = [t for t in times if t is not None]
    if got:
        diag("delivery latency (create to message in the relay), %d messages: median %.3f s, max %.3f s"
             % (len(got), statistics.median(got), max(got)))
    ok(len(got) == 10 and max(got) < 5, "running mailer: each of 10 messages in the relay within 5 s",
       ["%s" % t for t in times])
    s.stop_mailer()


def refused_port(s, auth):
    """Nothing listens on the relay's port: the attempt fails at once."""
    port = free_port()
    s.settings["smtp_port"] = str(port)
    s._write_conf()
    pids = s.worker_pids()
    addr = "nobody.%s@example.org" % canary("r")
    t = time.monotonic()
    r = s.share(auth=auth, secret=canary(), recipient=addr)
    ok(r.status == 200 and time.monotonic() - t < FAST, "relay port %d refused: create answers 200" % port)
    rc, summary, out, err = s.mail_once()
    ok(rc == 0 and summary == {"sent": 0, "retry": 1, "failed": 0},
       "ots-mailer -1: 0 sent, 1 to retry, 0 failed", [out, err])
    row = [x for x in s.mail_list() if x["recipient"] == obfuscated(addr)]
    ok(len(row) == 1 and row[0]["state"] == "queued" and row[0]["attempts"] == 1 and
       "127.0.0.1:%d" % port in row[0]["error"] and "refused" in row[0]["error"].lower(),
       "mail list: queued to retry, the last error names the refused connection", [x["raw"] for x in row])
    if row:
        diag("refused: %s" % row[0]["raw"])
    t = time.monotonic()
    r = s.request("GET", "status")
    ok(r.status == 200 and time.monotonic() - t < FAST and s.worker_pids() == pids and len(pids) == 2,
       "the workers are the same two and answer at once", [r.status, pids, s.worker_pids()])


def parse(raw):
    return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)


def fingerprint(mkey):
    return hashlib.sha256(mkey.encode()).hexdigest()[:16]


def notices(s, sink, auth, account):
    """notify=email: one message to the account per event."""
    r = s.admin("customer", "set", account, "notify=email")
    ok(r.returncode == 0 and "notify=email" in s.admin("customer", "list").stdout,
       "ots-admin customer set %s notify=email" % account, [r.stdout, r.stderr])
    base = s.settings["base_url"]

    def check(event, subject, meta, value):
        n0 = len(sink.messages)
        rc, summary, out, err = s.mail_once()
        ok(rc == 0 and summary == {"sent": 1, "retry": 0, "failed": 0}, "%s: ots-mailer -1 sends 1" % event,
           [out, err])
        new = sink.messages[n0:]
        if not ok(len(new) == 1, "%s: exactly one message" % event, len(new)):
            return
        m, msg = new[0], parse(new[0].content)
        body = msg.get_content() if not msg.is_multipart() else ""
        mkey, skey = meta["metadata_key"], meta["secret_key"]
        probs = []
        if m.rcpt_tos != [account] or m.mail_from != FROM:
            probs.append("envelope %r -> %r" % (m.mail_from, m.rcpt_tos))
        for k, v in (("subject", subject), ("to", account), ("from", FROM)):
            if msg.get_all(k) != [v]:
                probs.append("%s: %r, expected %r" % (k, msg.get_all(k), v))
        if fingerprint(mkey) not in body:
            probs.append("no receipt fingerprint %s" % fingerprint(mkey))
        if base + "/private/" + mkey not in body:
            probs.append("no receipt link")
        for name, n in (("secret_key", skey), ("share link", base + "/secret/" + skey), ("value", value)):
            if n.encode() in m.content:
                probs.append("the %s is in the message" % name)
        ok(not probs, "%s: %r to the account, naming the receipt (fingerprint and link), never the key, "
           "link or value" % (event, subject), probs + [m.content[:1500]])
        rows = [x for x in s.mail_list() if x["kind"] == "notify" and x["event"] == event]
        ok(len(rows) == 1 and rows[0]["state"] == "sent" and rows[0]["recipient"] == obfuscated(account),
           "%s: mail list: one notify row, sent, to the obfuscated account" % event, [x["raw"] for x in rows])
        rc, summary, out, err = s.mail_once()
        ok(rc == 0 and summary == {"sent": 0, "retry": 0, "failed": 0} and len(sink.messages) == n0 + 1,
           "%s: a second ots-mailer -1 sends nothing more" % event, [out, err])

    v = canary()
    meta = s.create(v, auth=auth)
    r = s.reveal(meta["secret_key"])
    ok(r.status == 200, "reveal", r.body[:200])
    check("received", "Your secret was read", meta, v)

    v = canary()
    meta = s.create(v, auth=auth)
    r = s.burn(meta["metadata_key"], auth=auth)
    ok(r.status == 200, "burn", r.body[:200])
    check("burned", "Your secret was burned", meta, v)

    v = canary()
    meta = s.create(v, auth=auth, ttl="3600")
    s.advance(3601)
    rc, out, err = s.sweep()
    sw = parse_sweep(out) or {}
    ok(rc == 0 and sw.get("notices") == 1, "past its ttl, ots-sweep queues 1 notice", [out, err])
    check("expired", "Your secret expired unread", meta, v)

    # suppressed, anonymous, unknown
    n0, q0 = len(sink.messages), len(s.mail_list())
    meta = s.create(auth=auth, notify="none")
    s.reveal(meta["secret_key"])
    meta = s.create()
    s.reveal(meta["secret_key"])
    meta = s.create(notify="email")
    s.reveal(meta["secret_key"])
    rc, summary, out, err = s.mail_once()
    ok(rc == 0 and summary == {"sent": 0, "retry": 0, "failed": 0} and len(sink.messages) == n0
       and len(s.mail_list()) == q0,
       "notify=none in the create, and anonymous secrets (with notify=email or without): no notice queued or sent",
       [out, err] + [x["raw"] for x in s.mail_list()])
    r = s.share(auth=auth, secret=canary(), notify="sms")
    is_error(r, "Unknown notify setting (none, email, webhook or all)", "notify=sms: 400, Unknown notify setting",
             intended=400)


def main():
    s, sink, auth = hung_relay()
    latency(s, sink, auth)
    sink.stop()

    nsink = SmtpSink()
    nsink.start()
    n = Server(conf={"smtp_port": nsink.port, "mail_from": FROM})
    account = "bob.%s@example.com" % canary("n")
    nauth = (account, n.add_customer(account, "basic"))
    notices(n, nsink, nauth, account)
    refused_port(n, nauth)
    nsink.stop()


if __name__ == "__main__":
    run(main)
