#!/usr/bin/env python3
"""A request whose headers come before a secret's expiry and whose body comes
after it must not reveal the secret (security.md, promise 3: expiry is decided
at the moment of the claim, not when the request started).  A front end that
streams the body does exactly that: plain CGI, Apache's mod_cgid and
mod_proxy_fcgi, each run here from the shipped configuration with the test
clock preloaded into ots.  The receipt of such a secret stays `expired`; a
secret revealed in time is stamped with the time of the claim, not of the
headers.  A body that stops coming is answered 408 once body_timeout passes.

Each case sends the headers (and a first byte of the body), waits until the
ots process is blocked reading the rest (its /proc/PID/syscall), moves the
clock, then sends the rest."""

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (FAKECLOCK, OTS, Server, canary, diag, is_, is_meta, is_unknown, ok,  # noqa: E402
                     parse_json, run, wait_until)

TTL = 60
BODY = b"passphrase=&late=1"
READS = {0, 7, 271}  # read, poll, ppoll (x86_64): waiting for input


def _waiting(pid, cgi):
    """True when pid sits in poll, or in read (of stdin, for a CGI)."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            fields = f.read().split()
    except OSError:
        return False
    if not fields or not fields[0].isdigit() or int(fields[0]) not in READS:
        return False
    return int(fields[0]) != 0 or not cgi or int(fields[1], 16) == 0


def blocked_reading(pids, cgi):
    """The first of pids waiting for input in two looks 20 ms apart (a quick
    read of a file is not waiting), or None."""
    for pid in pids:
        if _waiting(pid, cgi):
            time.sleep(0.02)
            if _waiting(pid, cgi):
                return pid
    return None


def parse_http(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, hdrs, body


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.json = parse_json(body)

    @property
    def intended(self):
        v = self.headers.get("x-ots-intended-status", "")
        return int(v) if v.isdigit() else None


def held_http(port, path, app_pids, cgi, then):
    """POST path with the headers and one body byte sent, wait for an ots
    process (of app_pids()) blocked reading, call then(), send the rest;
    returns the Resp, or None when no process was seen waiting."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                      % (path, port, len(BODY))).encode() + BODY[:1])
        pid = wait_until(lambda: blocked_reading(app_pids(), cgi), timeout=15, interval=0.02)
        if not pid:
            return None
        then()
        sock.sendall(BODY[1:])
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    finally:
        sock.close()
    return Resp(*parse_http(raw))


def held_cgi(s, env, then, body=BODY, stop_after=None):
    """Run ots as a plain CGI with the first body byte written, wait until it
    blocks reading, call then(), write the rest (or only up to stop_after,
    keeping stdin open); returns (Resp, seconds after then()), Resp None
    when it was never seen waiting."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(s.app_env())
    e.update(env)
    e["CONTENT_LENGTH"] = str(len(body))
    p = subprocess.Popen(shlex.split(os.environ.get("OTS_WRAPPER", "")) + [OTS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=e)
    try:
        p.stdin.write(body[:1])
        p.stdin.flush()
        seen = wait_until(lambda: blocked_reading([p.pid], True), timeout=60, interval=0.02)
        then()
        t0 = time.monotonic()
        p.stdin.write(body[1:stop_after])
        p.stdin.flush()
        if stop_after is None:
            p.stdin.close()
        out = p.stdout.read()   # ots closes its output once it answered
        took = time.monotonic() - t0
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in (p.stdin, p.stdout):
            if not f.closed:
                f.close()
    if not seen:
        return None, 0
    head, _, b = out.partition(b"\r\n\r\n")
    hdrs = {}
    for ln in head.decode("latin-1").split("\r\n"):
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return Resp(int((hdrs.get("status", "0").split() or ["0"])[0]), hdrs, b), took


def cgi_env(s, path):
    return {"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path,
            "REQUEST_URI": path, "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:%d" % s.port,
            "CONTENT_TYPE": "application/x-www-form-urlencoded"}


def check_instance(name, s, post):
    """The late-body cases against one instance; post(path, then) sends one
    held POST and returns its Resp (None: ots was never seen waiting)."""
    late = s.create(canary(), ttl=str(TTL))
    s.advance(TTL - 5)
    r = post("/api/v1/secret/" + late["secret_key"], lambda: s.advance(10))
    if not ok(r is not None, "%s: ots seen waiting for the rest of the body" % name):
        return
    is_unknown(r, late["secret_key"], "%s: headers before expiry, body after: Unknown secret" % name)
    is_meta(s.metadata(late["metadata_key"]), "expired",
            "%s: its receipt stays expired, not received" % name, ttl=TTL)

    page = s.create(canary(), ttl=str(TTL))
    s.advance(TTL - 5)
    r = post("/secret/" + page["secret_key"], lambda: s.advance(10))
    ok(r is not None and r.status == 404 and page["secret_key"].encode() not in r.body and b"not available" in r.body,
       "%s: the reveal page, body after expiry: the gone page" % name,
       None if r is None else "status %d %r" % (r.status, r.body[:200]))
    is_meta(s.metadata(page["metadata_key"]), "expired", "%s: that receipt stays expired" % name, ttl=TTL)

    value = canary()
    timely = s.create(value, ttl=str(TTL))
    created = timely["created"]
    r = post("/api/v1/secret/" + timely["secret_key"], lambda: s.advance(20))
    is_(r and (r.json or {}).get("value"), value, "%s: a body that comes in time reveals" % name)
    m = s.metadata(timely["metadata_key"]).json or {}
    ok(m.get("state") == "received" and isinstance(m.get("received"), int) and m["received"] >= created + 20,
       "%s: received is stamped when the body was in (>= created + 20)" % name, repr(m))


def plain_cgi():
    s = Server(conf={"body_timeout": "2"})   # lighttpd for the other requests

    def post(path, then):
        r, _took = held_cgi(s, cgi_env(s, path), then)
        return r

    check_instance("plain CGI", s, post)

    # a body that stops coming: 408 once body_timeout (2 s) has passed
    k = s.create(canary(), ttl="3600")
    r, took = held_cgi(s, cgi_env(s, "/api/v1/secret/" + k["secret_key"]), lambda: None,
                       body=b"passphrase=x&pad=0123456789", stop_after=5)
    ok(r is not None and r.status == 404 and r.intended == 408,
       "plain CGI: a body that stops coming: intended 408", None if r is None else repr((r.headers, r.body[:200])))
    ok(1.0 <= took < 10, "plain CGI: answered after about body_timeout (%.1f s)" % took)
    is_meta(s.metadata(k["metadata_key"]), "new", "that secret is untouched", ttl=3600)
    s.close()


def apache(kind):
    """An Apache configuration from servers.py with the test clock preloaded
    into ots (the program runs as www-data, so the clock library is copied
    where it can read it)."""
    import servers

    base = servers.ApacheCGI if kind == "cgi" else servers.ApacheProxyFcgi

    class Clocked(base):
        def __init__(self):
            super().__init__()
            self.fake_clock = True
            self.clock_lib = shutil.copy(FAKECLOCK, os.path.join(self.tmp, "app", "fakeclock.so"))
            os.chmod(self.clock_lib, 0o644)
            self._write_clock()

        @property
        def server_lines(self):
            if "env" not in self.modules:   # FastCGI: spawn-fcgi's env
                return base.server_lines
            return tuple(base.server_lines) + (
                'SetEnv LD_PRELOAD "%s"' % self.clock_lib,
                'SetEnv OTS_FAKECLOCK_FILE "%s"' % self.clock_file)

        def _write_clock(self):
            super()._write_clock()
            os.chmod(self.clock_file, 0o644)

        def spawn_fcgi(self, text):
            saved = {k: os.environ.get(k) for k in ("LD_PRELOAD", "OTS_FAKECLOCK_FILE")}
            os.environ.update(LD_PRELOAD=self.clock_lib, OTS_FAKECLOCK_FILE=self.clock_file)
            try:
                super().spawn_fcgi(text)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

    return Clocked()


def main():
    plain_cgi()
    if os.geteuid() != 0:
        ok(False, "Apache cases need root (the app runs as www-data)")
        return
    for kind in ("cgi", "proxy-fcgi"):
        s = apache(kind)
        s.start()
        name = "Apache " + ("mod_cgid" if kind == "cgi" else "mod_proxy_fcgi")

        def post(path, then, s=s, kind=kind):
            return held_http(s.port, path, lambda: list(s.app_processes()), kind == "cgi", then)

        check_instance(name, s, post)
        s.close()
    diag("the shipped Apache CGI and mod_proxy_fcgi configurations stream the body to ots")


if __name__ == "__main__":
    run(main)
