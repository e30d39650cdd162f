#!/usr/bin/env python3
"""GET /metrics: exact counts after a known sequence of operations across 4
FastCGI workers (API and page creates, reveals, a burn, wrong passphrases up
to a lock, a rate-limit refusal, an expiry swept by ots-sweep), counters
that go on after a worker is killed, plain CGI counting into the same file,
the store's gauges, only loopback answered (anyone else: the pages' 404),
scrapes never rate limited, `promtool check metrics` on the scrape, and a
real Prometheus scraping the server."""

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (Server, canary, diag, free_port, is_, ok, passphrase, run, skip,  # noqa: E402
                     wait_until)

WINDOW = 20 * 60
CTYPE = "text/plain; version=0.0.4; charset=utf-8"
LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_addr = itertools.count(1)


def client():
    """A new client behind the trusted proxy (the rate limits are 1 per
    client and window, so each operation comes from its own)."""
    n = next(_addr)
    return {"X-Forwarded-For": "198.51.100.%d" % n if n < 255 else "2001:db8::%x" % n}


def parse(text):
    """{(name, ((label, value), ...)): value}; raises on a malformed line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if not m:
            raise ValueError("bad line %r" % line)
        labels = tuple(sorted(LABEL_RE.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def val(mx, name, **labels):
    return mx.get((name, tuple(sorted(labels.items()))))


def scrape(s, headers=None):
    r = s.request("GET", "/metrics", headers=headers)
    if r.status != 200:
        raise AssertionError("scrape answered %d: %r" % (r.status, r.body[:200]))
    return parse(r.body.decode()), r


def post(s, path, **fields):
    return s.request("POST", path, body=fields, headers=client())


def check_counts(mx, want, what):
    bad = {k: (val(mx, k[0], **dict(k[1])), v) for k, v in want.items() if val(mx, k[0], **dict(k[1])) != v}
    ok(not bad, "%s: %d values exact" % (what, len(want)), "got, want: %r" % bad)


def key(name, **labels):
    return (name, tuple(sorted(labels.items())))


def main():
    s = Server(max_procs=4, conf={
        "trusted_proxies": "127.0.0.1",
        "limit.create_secret": 1, "limit.show_secret": 1, "limit.show_metadata": 1,
        "limit.burn_secret": 1, "limit.failed_passphrase": 1, "limit.email_recipient": 1})
    # just after a window begins: no boundary inside the sequence
    now = int(time.time()) + s.offset
    s.advance(WINDOW - now % WINDOW + 1)

    mx0, r = scrape(s)
    is_(r.headers.get("content-type"), CTYPE, "Content-Type of the exposition format 0.0.4")
    is_(val(mx0, "ots_secrets_created_total"), 0.0, "a new host: nothing created")
    is_(val(mx0, "ots_store_up"), 1.0, "the store's gauges were read")

    # -- the known sequence, spread over the workers
    made = {}
    for name in ("a", "b", "c"):
        made[name] = post(s, "share", secret=canary()).json
    made["d_pass"] = passphrase()
    made["d"] = post(s, "share", secret=canary(), passphrase=made["d_pass"]).json
    made["e"] = post(s, "share", secret=canary(), ttl="60").json
    ok(all(isinstance(made[k], dict) and "secret_key" in made[k] for k in "abcde"), "5 API creates")
    r = post(s, "/", secret=canary(), action="create")
    is_(r.status // 100, 3, "a page create: redirected to its receipt")
    r = post(s, "secret/" + made["a"]["secret_key"])
    is_(r.status, 200, "API reveal of a")
    r = post(s, "/secret/" + made["b"]["secret_key"])
    is_(r.status, 200, "page reveal of b")
    r = post(s, "private/%s/burn" % made["c"]["metadata_key"])
    is_(r.status, 200, "API burn of c")
    wrong = [post(s, "secret/" + made["d"]["secret_key"], passphrase=canary()).status for _ in range(5)]
    is_(wrong, [404] * 5, "5 wrong passphrases on d")
    r = post(s, "secret/" + made["d"]["secret_key"], passphrase=made["d_pass"])
    ok(r.status == 404 and r.intended == 429, "the right one, 6th: locked", r.status)
    h = client()
    first = s.request("GET", "private/" + made["a"]["metadata_key"], headers=h)
    second = s.request("GET", "private/" + made["a"]["metadata_key"], headers=h)
    ok(first.status == 200 and second.intended == 429,
       "a receipt twice from one client: the second is rate limited", (first.status, second.status))
    s.advance(90)   # e's secret (60 s) is gone, its receipt (120 s) lives
    rc, out, err = s.sweep(timeout=60)
    ok(rc == 0 and "1 receipts expired" in out, "ots-sweep marks e expired", out + err)

    mx, r = scrape(s)
    want = {
        key("ots_secrets_created_total"): 6, key("ots_secrets_revealed_total"): 2,
        key("ots_secrets_burned_total"): 1, key("ots_secrets_expired_total"): 1,
        key("ots_passphrase_failures_total"): 5, key("ots_passphrase_locked_total"): 1,
        key("ots_passphrase_locks_total"): 1,
        key("ots_ratelimit_refusals_total", event="show_metadata"): 1,
        key("ots_ratelimit_refusals_total", event="create_secret"): 0,
        key("ots_requests_total", route="share", code="2xx"): 5,
        key("ots_requests_total", route="web_create", code="3xx"): 1,
        key("ots_requests_total", route="reveal", code="2xx"): 1,
        key("ots_requests_total", route="reveal", code="4xx"): 6,
        key("ots_requests_total", route="web_reveal", code="2xx"): 1,
        key("ots_requests_total", route="burn", code="2xx"): 1,
        key("ots_requests_total", route="metadata", code="2xx"): 1,
        key("ots_requests_total", route="metadata", code="4xx"): 1,
        key("ots_requests_total", route="metrics", code="2xx"): 1,
        key("ots_store_duration_seconds_count", op="create"): 6,
        key("ots_store_duration_seconds_bucket", op="create", le="+Inf"): 6,
        key("ots_store_duration_seconds_count", op="claim"): 2,
        # the store's gauges: d and the page's secret live; e expired
        key("ots_secrets_live"): 2, key("ots_receipts", state="new"): 2,
        key("ots_receipts", state="received"): 2, key("ots_receipts", state="burned"): 1,
        key("ots_receipts", state="expired"): 1, key("ots_receipts", state="viewed"): 0,
        key("ots_accounts"): 0, key("ots_outbox", kind="secret", state="queued"): 0,
        key("ots_store_up"): 1,
    }
    check_counts(mx, want, "after the sequence")
    ok((val(mx, "ots_database_size_bytes") or 0) > 0, "database size %r bytes" % val(mx, "ots_database_size_bytes"))
    ok(val(mx, "ots_store_duration_seconds_sum", op="create") > 0, "create latency sum > 0")
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in mx.items()
                     if k[0] == "ots_store_duration_seconds_bucket" and dict(k[1])["op"] == "create")
    ok(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])) and buckets[-1][0] == float("inf"),
       "histogram buckets cumulative up to +Inf (%d)" % len(buckets))
    pids = s.worker_pids()
    started = {int(dict(k[1])["pid"]) for k in mx if k[0] == "ots_worker_start_time_seconds"}
    is_(started, pids, "a start time for each of the %d workers, by pid" % len(pids))
    ok(all(abs(v - time.time()) < 3600 for k, v in mx.items() if k[0] == "ots_worker_start_time_seconds"),
       "start times are unix seconds")

    # -- ots-admin stats says the same as the gauges, and nothing secret
    r = s.admin("stats", "--json")
    st = json.loads(r.stdout) if r.returncode == 0 else {}
    is_((st.get("secrets"), st.get("receipts"), st.get("accounts"), st.get("outbox", {}).get("secret")),
        (2, {"new": 2, "viewed": 0, "received": 2, "burned": 1, "expired": 1}, 0,
         {"waiting": 0, "queued": 0, "sent": 0, "failed": 0}),
        "ots-admin stats --json: live secrets, receipts by state, accounts, outbox")
    ok(st.get("database_bytes", 0) > 0, "ots-admin stats --json: database size")
    r = s.admin("stats")
    ok(r.returncode == 0 and re.search(r"^secrets live +2$", r.stdout, re.M) and
       re.search(r"^receipts expired +1$", r.stdout, re.M), "ots-admin stats: aligned lines", r.stdout + r.stderr)
    keys = [made[k][f] for k in "abcde" for f in ("secret_key", "metadata_key")]
    ok(not any(k in r.stdout for k in keys), "ots-admin stats prints no key")
    ok(s.admin("stats", "--yaml").returncode == 2, "ots-admin stats --yaml: a usage error")

    # -- a worker killed: its replacement counts on from the same numbers
    victim = sorted(pids)[0]
    os.kill(victim, signal.SIGKILL)

    def respawned():
        s.request("GET", "status")
        p = s.worker_pids()
        return len(p) == 4 and victim not in p and p

    ok(wait_until(respawned, 20), "lighttpd replaced the killed worker")
    for _ in range(2):
        made.setdefault("more", []).append(post(s, "share", secret=canary()).json)
    r = post(s, "secret/" + made["more"][0]["secret_key"])
    is_(r.status, 200, "a reveal after the kill")
    mx2, _ = scrape(s)
    want[key("ots_secrets_created_total")] = 8
    want[key("ots_secrets_revealed_total")] = 3
    want[key("ots_requests_total", route="share", code="2xx")] = 7
    want[key("ots_requests_total", route="reveal", code="2xx")] = 2
    want[key("ots_requests_total", route="metrics", code="2xx")] = 2
    want[key("ots_store_duration_seconds_count", op="create")] = 8
    want[key("ots_store_duration_seconds_bucket", op="create", le="+Inf")] = 8
    want[key("ots_store_duration_seconds_count", op="claim")] = 3
    want[key("ots_secrets_live")] = 3
    want[key("ots_receipts", state="new")] = 3
    want[key("ots_receipts", state="received")] = 3
    check_counts(mx2, want, "after a worker was killed: counters went on, none reset")
    started = {int(dict(k[1])["pid"]) for k in mx2 if k[0] == "ots_worker_start_time_seconds"}
    is_(started, s.worker_pids(), "the dead worker's start time is gone, the new one's is there")

    # -- plain CGI counts into the same file
    r = s.cgi("POST", "share", body={"secret": canary()})
    is_(r.status, 200, "a plain CGI create")
    r = s.cgi("GET", "/metrics")
    is_((r.status, r.headers.get("content-type")), (200, CTYPE), "plain CGI answers /metrics too")
    mx3 = parse(r.body.decode())
    is_(val(mx3, "ots_secrets_created_total"), 9.0, "the CGI create counted with the workers' (8 + 1)")
    is_(val(mx3, "ots_requests_total", route="share", code="2xx"), 8.0, "its request too")

    # -- the queue's depth, and an outcome counted by ots-mailer: recipient
    # mail whose secret expired before delivery is given up (no SMTP)
    token = s.add_customer("ops@example.com")
    r = s.request("POST", "share", body={"secret": canary(), "recipient": "bob@example.org", "ttl": "60"},
                  auth=("ops@example.com", token), headers=client())
    is_(r.status, 200, "an account's create with a recipient")
    mx5, _ = scrape(s)
    is_((val(mx5, "ots_outbox", kind="secret", state="queued"), val(mx5, "ots_accounts")), (1.0, 1.0),
        "the gauges: one mail queued, one account")
    s.advance(61)
    rc, summary, out, err = s.mail_once()
    ok(rc == 0 and summary == {"sent": 0, "retry": 0, "failed": 1},
       "ots-mailer gives the expired secret's mail up", out + err)
    mx5, _ = scrape(s)
    is_((val(mx5, "ots_deliveries_total", kind="secret", outcome="failed"),
         val(mx5, "ots_deliveries_total", kind="secret", outcome="sent"),
         val(mx5, "ots_outbox", kind="secret", state="queued"),
         val(mx5, "ots_outbox", kind="secret", state="failed")), (1.0, 0.0, 0.0, 1.0),
        "ots-mailer's outcome counted on the host; the queue drained")

    # -- who may read it
    unknown = s.request("GET", "/no-such-page")
    r = s.request("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    is_((r.status, r.body), (404, unknown.body), "another client (via the trusted proxy): the pages' own 404")
    is_({k: v for k, v in r.headers.items() if k != "date"},
        {k: v for k, v in unknown.headers.items() if k != "date"},
        "the same headers as an unknown page's")
    r = s.request("HEAD", "/metrics")
    ok(r.status == 200 and r.body == b"" and r.headers.get("content-type") == CTYPE, "HEAD /metrics: headers only",
       (r.status, r.body[:80]))
    r = s.request("HEAD", "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    is_(r.status, 404, "HEAD from another client: 404")
    statuses = [s.request("GET", "/metrics").status for _ in range(10)]
    is_(statuses, [200] * 10, "10 scrapes in a row with every limit at 1: none refused")
    mx4, _ = scrape(s)
    is_(val(mx4, "ots_ratelimit_refusals_total", event="show_metadata"), 1.0, "scrapes counted no refusal")
    is_(val(mx4, "ots_requests_total", route="not_found", code="4xx"), 3.0,
        "the refused scrapes count as unknown pages (2 + the unknown page)")

    # -- promtool's strict parser and linter
    text = s.request("GET", "/metrics").body
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    if promtool is None:
        skip("promtool check metrics", "promtool is not installed (Debian package prometheus)")
    else:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=60)
        ok(p.returncode == 0, "promtool check metrics: no problem", (p.stdout + p.stderr).decode()[:2000])
    if prometheus is None:
        skip("a real Prometheus scrape", "prometheus is not installed (Debian package prometheus)")
    else:
        real_prometheus(s, prometheus)
    s.close()


def real_prometheus(s, prometheus):
    tmp = tempfile.mkdtemp(prefix="ots-prom-", dir=s.tmp)
    port = free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: ots\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % s.port)
    log = open(os.path.join(tmp, "prometheus.log"), "wb")
    proc = subprocess.Popen([prometheus, "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()

    def api(path, **q):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (port, path, urllib.parse.urlencode(q))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)
        except OSError:
            return None

    def target_up():
        j = api("targets")
        t = (j or {}).get("data", {}).get("activeTargets", [])
        return t and t[0].get("health") == "up" and t[0]

    def created():
        j = api("query", query="ots_secrets_created_total")
        res = (j or {}).get("data", {}).get("result", [])
        return res and res[0]["value"][1]

    try:
        t = wait_until(target_up, 60, 0.2)
        ok(bool(t), "Prometheus: the ots target is up", t or open(os.path.join(tmp, "prometheus.log")).read()[-2000:])
        wait_until(lambda: created() == "10", 30, 0.2)
        is_(created(), "10", "Prometheus: ots_secrets_created_total is 10")
        j = api("query", query='up{job="ots"}')
        is_(((j or {}).get("data", {}).get("result") or [{"value": [0, None]}])[0]["value"][1], "1",
            "Prometheus: up{job=\"ots\"} is 1")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        diag("prometheus (pid %d) stopped: %s" % (proc.pid, proc.returncode))


if __name__ == "__main__":
    run(main)
