#!/usr/bin/env python3
"""Promise 6, safe methods are safe: thousands of GET, HEAD and OPTIONS
requests, with the user agents of link-preview bots and mail scanners, on
every route (API and pages, with the real keys of live, passphrase-
protected, revealed and burned secrets mixed in, and hostile query
strings) leave the database as it was -- logically (a dump) and byte for byte
(SQLite's file and WAL; on PostgreSQL the version of every row) -- and
every secret still reveals once.  The one state
change the spec allows a safe method, GET /api/v1/private/KEY moving a
receipt from new to viewed, gets a phase of its own after every receipt
has been viewed once (its rate-limit counter is then the only change).
(tests/integration/t_preview_bots.py holds the per-page cases; this is the
volume version.)"""

import collections
import hashlib
import os
import random
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from otstest import Server, canary, diag, is_, ok, passphrase, run  # noqa: E402

PHASE1 = 3000
PHASE2 = 1000
CLIENTS = 4
BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0", "WhatsApp/2.23.20.0", "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36 Edg/120.0 (SafeLinks)",
    "Mimecast-URL-Protect", "Proofpoint URL Defense", "Barracuda Sentinel (EE)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "curl/7.88.1", "Wget/1.21.3", "python-requests/2.31.0", "Go-http-client/1.1", "",
]


def file_hashes(s):
    """sha256 of the database and its WAL (the -shm holds only reader marks)."""
    out = {}
    for p in s.db_files()[:2]:
        try:
            with open(p, "rb") as f:
                out[os.path.basename(p)] = hashlib.sha256(f.read()).hexdigest()[:16]
        except OSError:
            out[os.path.basename(p)] = None
    return out


def physical(s):
    """What the requests must not have written, byte for byte: SQLite's
    file and WAL (their hashes); on PostgreSQL every row's version (ctid,
    xmin), which any write of the row changes, even of the same values
    (its files also change by hint bits, pruning and checkpoints that
    reads cause: no byte-level promise there)."""
    return s.row_versions() if s.cluster else file_hashes(s)


def main():
    s = Server(max_procs=4)
    token = s.add_customer("alice@example.com", "basic")
    alice = ("alice@example.com", token)
    live = []      # dicts: value, pass, secret_key, metadata_key
    gone = []      # receipts of revealed and burned secrets
    for i in range(24):
        p = passphrase() if i % 3 == 1 else None
        auth = alice if i % 4 == 0 else None
        extra = {"passphrase": p} if p else {}
        if i % 6 == 5:
            r = s.generate(auth=auth, **extra)
            m, v = r.json, (r.json or {}).get("value")
        else:
            v = canary()
            m = s.create(v, auth=auth, **extra)
        live.append(dict(value=v, pass_=p, secret_key=m["secret_key"], metadata_key=m["metadata_key"]))
    for i in range(4):
        m = s.create(canary())
        s.reveal(m["secret_key"])
        gone.append(dict(secret_key=m["secret_key"], metadata_key=m["metadata_key"]))
        m = s.create(canary())
        s.burn(m["metadata_key"])
        gone.append(dict(secret_key=m["secret_key"], metadata_key=m["metadata_key"]))
    keys = live + gone

    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)

    def key(which):
        if rng.random() < 0.8:
            return rng.choice(keys)[which]
        return rng.choice(["a" * 31, "recent", "x", "k" * 64, "%41" * 20])

    def query():
        r = rng.random()
        if r < 0.5:
            return ""
        pairs = rng.sample([("passphrase", canary()), ("passphrase", rng.choice(live)["pass_"] or "x"),
                            ("secret", canary()), ("ttl", "60"), ("recipient", "bob@example.com"),
                            ("utm_source", "slack"), ("burn", "1"), ("continue", "true"),
                            ("confirm", "1"), ("_method", "POST")], rng.randrange(1, 4))
        return "?" + urllib.parse.urlencode(pairs)

    api_meta = ["/api/v1/private/%s", "/api/v1/metadata/%s", "/api/v1/receipt/%s"]

    def receipt_get(method, path):
        """GET of an API receipt: views it and counts show_metadata."""
        return method == "GET" and any(path.startswith(t[:-2]) for t in api_meta) \
            and not path.split("?")[0].endswith(("/recent", "/burn"))

    def route(phase):
        templates = [
            ("/api/v1/status", None), ("/api/v1/authcheck", None), ("/api/v1/share", None),
            ("/api/v1/create", None), ("/api/v1/generate", None), ("/api/v1/secret/%s", "secret_key"),
            ("/api/v1/private/recent", None), ("/api/v1/metadata/recent", None), ("/api/v1/receipt/recent", None),
            ("/api/v1/private/%s/burn", "metadata_key"), ("/api/v1/metadata/%s/burn", "metadata_key"),
            ("/api/v1/receipt/%s/burn", "metadata_key"), ("/", None), ("/secret/%s", "secret_key"),
            ("/private/%s", "metadata_key"), ("/private/%s/burn", "metadata_key"), ("/static/ots.css", None),
            ("/api/v1/nowhere", None), ("/robots.txt", None), ("/favicon.ico", None),
        ] + [(t, "metadata_key") for t in api_meta] * (4 if phase == 2 else 1)
        path, which = rng.choice(templates)
        if which:
            path = path % key(which)
        method = rng.choice(["GET", "HEAD", "OPTIONS"])
        if phase == 1 and receipt_get(method, path):
            method = rng.choice(["HEAD", "OPTIONS"])  # GET views a receipt: phase 2
        return method, path + query()

    def storm(n, phase):
        tally = collections.Counter()
        statuses = collections.Counter()
        lock = threading.Lock()
        todo = iter(range(n))
        errors = []

        def client():
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                    method, path = route(phase)
                    ua = rng.choice(BOTS)
                    auth = alice if rng.random() < 0.2 else None
                try:
                    r = s.request(method, path, auth=auth, headers={"User-Agent": ua} if ua else None)
                    st = r.intended or r.status
                except Exception as e:  # noqa: BLE001
                    st = "exception"
                    errors.append("%s %s: %r" % (method, path, e))
                with lock:
                    tally[method] += 1
                    tally["receipt GET"] += receipt_get(method, path)
                    statuses[st] += 1

        t0 = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return tally, statuses, errors, time.monotonic() - t0

    # -- phase 1: everything but GET on the API receipt routes
    before = s.dump()
    hashes = physical(s)
    tally, statuses, errors, took = storm(PHASE1, 1)
    after = s.dump()
    diag("phase 1: %d safe requests (seed %d) in %.1f s: %s; answers (intended or HTTP): %s"
         % (PHASE1, seed, took, dict(tally), dict(sorted(statuses.items(), key=str))))
    ok(not errors, "phase 1: every request answered", errors[:5])
    ok(not any(isinstance(k, int) and k >= 500 for k in statuses), "phase 1: no 5xx")
    ok(before == after, "phase 1: logical dump identical (%d lines, rate-limit counters included)" % len(before),
       ["+ " + ln[:150] for ln in after if ln not in before][:5] + ["- " + ln[:150] for ln in before
                                                                   if ln not in after][:5])
    after_hashes = physical(s)
    if s.cluster:
        changed = sorted(t for t in hashes if hashes[t] != after_hashes.get(t))
        ok(hashes == after_hashes, "phase 1: no row written, even with the same values (ctid and xmin of every "
           "row of %d tables unchanged)" % len(hashes), "tables whose rows changed: %s" % changed)
    else:
        is_(after_hashes, hashes, "phase 1: database and WAL files byte-identical")

    # -- phase 2: every receipt viewed once, then GET on the API receipt routes too
    for k in keys:
        s.metadata(k["metadata_key"])
    before = s.dump(skip=("ratelimit",))
    rl_before = s.sql("SELECT count(*), coalesce(sum(count), 0) FROM ratelimit", counters=True)[0]
    tally, statuses, errors, took = storm(PHASE2, 2)
    after = s.dump(skip=("ratelimit",))
    rl_after = s.sql("SELECT count(*), coalesce(sum(count), 0) FROM ratelimit", counters=True)[0]
    diag("phase 2: %d safe requests in %.1f s: %s; answers: %s"
         % (PHASE2, took, dict(tally), dict(sorted(statuses.items(), key=str))))
    diag("phase 2: rate-limit rows/hits %s -> %s (show_metadata counted per GET of a receipt)"
         % (rl_before, rl_after))
    ok(not errors, "phase 2: every request answered", errors[:5])
    ok(not any(isinstance(k, int) and k >= 500 for k in statuses), "phase 2: no 5xx")
    ok(rl_after[1] - rl_before[1] <= tally["receipt GET"],
       "phase 2: rate-limit hits grew by at most one per receipt GET (%d <= %d)"
       % (rl_after[1] - rl_before[1], tally["receipt GET"]))
    ok(before == after, "phase 2: logical dump identical but for the rate-limit counters",
       ["+ " + ln[:150] for ln in after if ln not in before][:5])

    # -- every live secret still reveals, once
    got = collections.Counter()
    for k in live:
        r = s.reveal(k["secret_key"], **({"passphrase": k["pass_"]} if k["pass_"] else {}))
        got["value" if (r.json or {}).get("value") == k["value"] else "wrong"] += 1
        r = s.reveal(k["secret_key"], **({"passphrase": k["pass_"]} if k["pass_"] else {}))
        got["again 200" if r.status == 200 else "again refused"] += 1
    is_(dict(got), {"value": len(live), "again refused": len(live)},
        "each of the %d live secrets still reveals its value, exactly once" % len(live))


if __name__ == "__main__":
    run(main)
