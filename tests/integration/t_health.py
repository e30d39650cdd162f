#!/usr/bin/env python3
"""GET /healthz and /readyz: the answers and their bodies, HEAD, nothing
counted against rate limits, and /readyz under each failure it reports
(the store down, an old or newer schema, a wrong master key, a key
version rotated in since the workers started, too little free disk),
each recovering when the cause goes; behind lighttpd (FastCGI) and as
plain CGI, on the engine OTS_TEST_ENGINE names."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, is_, ok, run, wait_until  # noqa: E402

OK = b'{"status":"ok"}\n'


def unready(reason):
    return b'{"status":"unavailable","reason":"%s"}\n' % reason.encode()


def probe(s, path, desc, status, body, method="GET"):
    r = s.request(method, path)
    is_((r.status, r.body), (status, body if method == "GET" else b""),
        "%s %s, %s: %d and its one line" % (method, path, desc, status))
    ok(r.headers.get("content-type") == "application/json",
       "%s %s, %s: Content-Type application/json" % (method, path, desc), r.headers.get("content-type"))
    return r


def ready_within(s, status, body, desc):
    """/readyz answers status with body on every worker: poll (each worker
    notices a change on its next request), then ask a few more times."""
    got = wait_until(lambda: s.request("GET", "/readyz").body == body, 30)
    ok(got, "%s: /readyz says so" % desc)
    seen = {(r.status, r.body) for r in (s.request("GET", "/readyz") for _ in range(6))}
    is_(seen, {(status, body)}, "%s: every answer of six is %d %r" % (desc, status, body))


def metric(s, name):
    """One sample of this host's /metrics (0 when absent)."""
    for line in s.request("GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0


def counted(s):
    return s.sql("SELECT count(*), coalesce(sum(count), 0) FROM ratelimit", counters=True)[0]


def store_down(s):
    if s.cluster:
        s.cluster.stop()
    else:
        os.rename(s.database, s.database + ".away")


def store_up(s):
    if s.cluster:
        s.cluster.start()
    else:
        os.rename(s.database + ".away", s.database)


def new_key(path):
    """A master key file other than the database's (made by the test)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "w") as f:
        f.write("ots-master-key-v1 %s\n" % os.urandom(32).hex())


def restart_workers(s):
    """Stop the workers as an operator's restart does (SIGTERM; they also
    leave their reports under valgrind) and wait until they are gone;
    lighttpd starts new ones on the next request.  Returns the old PIDs."""
    old = s.worker_pids()
    for pid in old:
        os.kill(pid, signal.SIGTERM)
    ok(wait_until(lambda: not (s.worker_pids() & old), 60), "the workers stopped on SIGTERM")
    return old


def cgi_probe(s, path):
    r = s.run_cgi({"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "",
                   "REQUEST_URI": path, "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1"})
    return r.status, r.body


def main():
    s = Server(max_procs=2, conf={"limit.create_secret": 1, "limit.show_secret": 1})
    try:
        # -- answers
        for m in ("GET", "HEAD"):
            probe(s, "/healthz", "serving", 200, OK, m)
            probe(s, "/readyz", "serving", 200, OK, m)
        r = s.request("GET", "/readyz")
        for v in r.headers.values():
            ok(s.tmp not in v, "no header names a path", v)
        r = s.request("POST", "/readyz", body={"x": "1"})
        is_(r.status, 405, "POST /readyz: 405")

        # -- nothing counted, even past every limit
        s.create()
        before = counted(s)
        for _ in range(20):
            s.request("GET", "/readyz")
            s.request("HEAD", "/healthz")
        is_(counted(s), before, "40 probes counted nothing against the rate limits")
        is_(s.request("GET", "/readyz").status, 200, "and /readyz still answers 200 past the limits")

        # -- the store down, and back
        store_down(s)
        ready_within(s, 503, unready("store"), "store down")
        probe(s, "/healthz", "store down", 200, OK)
        r = s.request("GET", "status")
        is_((r.intended, r.body), (503, b'{"message":"Service unavailable"}'),
            "store down: the API says unavailable too")
        # the API's 404 meant 503: counted as such
        fives = metric(s, 'ots_requests_total{route="status",code="5xx"}')
        ok(fives >= 1, "store down: /metrics counts the API's unavailable answers as 5xx", fives)
        store_up(s)
        ready_within(s, 200, OK, "store back")

        # -- a schema this program does not serve, older and newer
        current = s.schema_version()
        for v, what in ((2, "old schema"), (current + 1, "newer schema")):
            s.set_schema_version(v)
            ready_within(s, 503, unready("schema"), what)
            probe(s, "/healthz", what, 200, OK)
            s.set_schema_version(current)
            ready_within(s, 200, OK, what + " migrated back")

        # -- plain CGI answers the same
        is_(cgi_probe(s, "/readyz"), (200, OK), "plain CGI: /readyz 200")
        is_(cgi_probe(s, "/healthz"), (200, OK), "plain CGI: /healthz 200")

        # -- a wrong master key: plain CGI reads it per request; the
        # workers, restarted, come back with it
        os.rename(s.master_key, s.master_key + ".good")
        new_key(s.master_key)
        is_(cgi_probe(s, "/readyz"), (503, unready("key")), "plain CGI, wrong key: 503 key")
        is_(cgi_probe(s, "/healthz"), (200, OK), "plain CGI, wrong key: /healthz 200")
        old = restart_workers(s)
        ready_within(s, 503, unready("key"), "workers restarted with a wrong key")
        ok(not (s.worker_pids() & old), "the workers that answered are new ones")
        probe(s, "/healthz", "wrong key", 200, OK)
        os.replace(s.master_key + ".good", s.master_key)
        restart_workers(s)
        ready_within(s, 200, OK, "workers restarted with the right key")

        # -- a key version rotated in: workers started before it lack it
        rot = s.admin("key", "rotate")
        ok(rot.returncode == 0, "ots-admin key rotate", rot.stderr)
        ready_within(s, 503, unready("key"), "a version rotated in, workers not restarted")
        is_(cgi_probe(s, "/readyz"), (200, OK), "plain CGI reads the rotated key file: 200")
        restart_workers(s)
        ready_within(s, 200, OK, "workers restarted after the rotation")
    finally:
        s.close()

    # -- the free-space threshold (SQLite's file system; PostgreSQL's
    # server watches its own disk)
    s = Server(conf={"ready_min_free": 1 << 60})
    try:
        if s.cluster:
            probe(s, "/readyz", "PostgreSQL, ready_min_free 1 EiB (not checked)", 200, OK)
        else:
            probe(s, "/readyz", "1 EiB asked free", 503, unready("disk"))
            probe(s, "/healthz", "1 EiB asked free", 200, OK)
            is_(s.request("GET", "status").status, 200, "too little disk for /readyz: requests still served")
    finally:
        s.close()
    s = Server(conf={"ready_min_free": 0})
    try:
        probe(s, "/readyz", "ready_min_free 0 (no check)", 200, OK)
    finally:
        s.close()


if __name__ == "__main__":
    run(main)
