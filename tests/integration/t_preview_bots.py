#!/usr/bin/env python3
"""Safe methods are safe (security.md promise 6) and the pages defend
themselves: link-preview bots, mail scanners and prefetchers doing GET, HEAD
and OPTIONS on secret links and receipts change nothing in the database (a
logical dump of every table is byte-identical) and the secret still reveals
exactly once; every page carries the security headers; cross-site form posts
are refused and change nothing, while the API (Basic auth, no cookies) is not
affected by Origin; hostile keys in the URL give an inert 404 page."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, canary, diag, is_, is_unknown, ok, passphrase, run  # noqa: E402

CSP = "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'"
# the pages with copy buttons load /static/copy.js (t_qr.py)
CSP_SCRIPT = "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
PAGE_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "content-security-policy": CSP,
}

BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slackbot 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",  # iMessage
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",  # Office link preview
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",  # Safe Links
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",  # a scanner posing as a browser
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/7.88.1",
]
# what scanners and prefetchers add
BOT_HEADERS = [
    {},
    {"Accept": "text/html,application/xhtml+xml", "Sec-Purpose": "prefetch", "Purpose": "prefetch"},
    {"Accept": "*/*", "Range": "bytes=0-1023", "X-Moz": "prefetch"},
]


def dump(s, skip=()):
    """A logical dump of every table (schema and rows, in a fixed order;
    SQLite's user_version too): otstest's Server.dump, for either engine."""
    return "\n".join(s.dump(skip))


def diff(a, b, n=6):
    """The first lines that differ between two dumps."""
    la, lb = set(a.splitlines()), set(b.splitlines())
    return (["- " + x[:160] for x in a.splitlines() if x not in lb][:n]
            + ["+ " + x[:160] for x in b.splitlines() if x not in la][:n])


def header_problems(r, html=True, script=False):
    want = dict(PAGE_HEADERS, **({"content-security-policy": CSP_SCRIPT} if script else {}))
    probs = ["%s: %r, expected %r" % (k, r.headers.get(k), v)
             for k, v in want.items() if r.headers.get(k) != v]
    if html and r.headers.get("content-type") != "text/html; charset=utf-8":
        probs.append("content-type: %r" % r.headers.get("content-type"))
    return probs


def main():
    s = Server(max_procs=2)
    token = s.add_customer("alice@example.com", "basic")
    me = "http://127.0.0.1:%d" % s.port

    # -- preview bots, scanners and prefetchers
    v, vp, p = canary(), canary(), passphrase()
    m = s.create(v)
    mp = s.create(vp, passphrase=p)
    key, mkey, pkey, pmkey = m["secret_key"], m["metadata_key"], mp["secret_key"], mp["metadata_key"]
    paths = [
        "/secret/" + key, "/secret/%s?utm_source=slack&utm_medium=share" % key, "/secret/%s/" % key,
        "/private/" + mkey, "/private/%s/burn" % mkey, "/api/v1/secret/" + key,
        "/secret/%s?passphrase=%s" % (pkey, p), "/private/%s/burn?passphrase=%s" % (pmkey, p),
        "/private/" + pmkey, "/api/v1/secret/%s?passphrase=%s" % (pkey, p),
    ]
    before = dump(s)
    answers, leaks, errors = 0, [], []
    for i, ua in enumerate(BOTS):
        for method in ("GET", "HEAD", "OPTIONS"):
            for path in paths:
                h = dict(BOT_HEADERS[i % len(BOT_HEADERS)], **{"User-Agent": ua})
                r = s.request(method, path, headers=h)
                answers += 1
                if v.encode() in r.body or vp.encode() in r.body:
                    leaks.append("%s %s (%s): %d" % (method, path, ua[:30], r.status))
                if r.status >= 500:
                    errors.append("%s %s (%s): %d" % (method, path, ua[:30], r.status))
    after = dump(s)
    diag("%d bot requests (%d user agents x GET/HEAD/OPTIONS x %d paths)" % (answers, len(BOTS), len(paths)))
    ok(not leaks, "no bot request got a secret value in its answer", leaks[:10])
    ok(not errors, "no bot request got a 5xx", errors[:10])
    ok(before == after, "database dump byte-identical after %d GET/HEAD/OPTIONS from preview bots" % answers,
       diff(before, after))

    # the comparison can fail: the API's first metadata fetch marks a receipt viewed
    s.metadata(pmkey)
    ok(dump(s) != after, "the dump shows a change of state (an API metadata fetch marking viewed)")

    for k, mk, label in ((key, mkey, "the secret"), (pkey, pmkey, "the passphrase secret")):
        r = s.request("GET", "/private/" + mk)
        ok(b"Not yet opened" in r.body, "after the bots the receipt of %s says not yet opened" % label,
           r.body[:300])
        r = s.request("GET", "/secret/" + k)
        is_(r.status, 200, "after the bots the link of %s still shows the confirmation page" % label)
    r = s.reveal(key)
    is_((r.status, (r.json or {}).get("value")), (200, v), "after the bots the secret reveals (API)")
    is_unknown(s.reveal(key), key, "and only once")
    r = s.reveal(pkey, passphrase=p)
    is_((r.status, (r.json or {}).get("value")), (200, vp), "after the bots the passphrase secret reveals")
    is_unknown(s.reveal(pkey, passphrase=p), pkey, "and only once")

    # -- security headers on every page
    v, p = canary(), passphrase()
    m = s.create(v)
    mp = s.create(canary(), passphrase=p)
    unknown = "1" + "0" * 30
    pages = [
        ("GET /", "GET", "/", None, None, 200),
        ("HEAD /", "HEAD", "/", None, None, 200),
        ("confirmation page", "GET", "/secret/" + m["secret_key"], None, None, 200),
        ("confirmation page, HEAD", "HEAD", "/secret/" + m["secret_key"], None, None, 200),
        ("receipt", "GET", "/private/" + m["metadata_key"], None, None, 200),
        ("unknown secret", "GET", "/secret/" + unknown, None, None, 404),
        ("unknown receipt", "GET", "/private/" + unknown, None, None, 404),
        ("no such page", "GET", "/nope", None, None, 404),
        ("method not allowed", "PUT", "/", b"", None, 405),
        ("create without a secret", "POST", "/", {"secret": ""}, None, 400),
        ("create (303)", "POST", "/", {"secret": "x"}, None, 303),
        ("generate", "POST", "/", {"action": "generate"}, None, 200),
        ("wrong passphrase", "POST", "/secret/" + mp["secret_key"], {"passphrase": p + "x"}, None, 400),
        ("cross-site post", "POST", "/secret/" + mp["secret_key"], {}, {"Origin": "http://evil.example"}, 403),
        ("reveal", "POST", "/secret/" + m["secret_key"], {}, {"Origin": me}, 200),
        ("used link", "GET", "/secret/" + m["secret_key"], None, None, 404),
        ("burn (303)", "POST", "/private/%s/burn" % mp["metadata_key"], {"passphrase": p}, None, 303),
    ]
    for desc, method, path, body, hdrs, status in pages:
        r = s.request(method, path, body=body, headers=hdrs)
        html = status not in (303,)
        probs = header_problems(r, html=html, script=desc in ("receipt", "generate", "reveal"))
        if r.status != status:
            probs.insert(0, "HTTP %d, expected %d" % (r.status, status))
        if html and method != "HEAD" and not r.body.lstrip().startswith(b"<!DOCTYPE html>"):
            probs.append("not an HTML page: %r" % r.body[:80])
        ok(not probs, "%s: HTTP %d with Cache-Control, Referrer-Policy, nosniff and the exact CSP"
           % (desc, status), probs)
    r = s.request("GET", "/static/ots.css")
    probs = header_problems(r, html=False)
    if r.headers.get("content-type") != "text/css; charset=utf-8":
        probs.append("content-type %r" % r.headers.get("content-type"))
    ok(r.status == 200 and not probs, "/static/ots.css: text/css with the security headers", probs)
    for page in ("/", "/secret/" + mp["secret_key"], "/private/" + mp["metadata_key"]):
        body = s.request("GET", page).body
        ext = re.findall(rb'(?:src|href)\s*=\s*"((?:https?:)?//[^"]*)"', body)
        scripts = re.findall(rb"<script[^>]*>", body.lower())
        ok(not ext and scripts in ([], [b'<script src="/static/copy.js">']),
           "GET %s: no script but /static/copy.js, nothing loaded from elsewhere" % page[:9], (ext, scripts))

    # -- cross-site form posts are refused and change nothing
    v = canary()
    m = s.create(v)
    key, mkey = m["secret_key"], m["metadata_key"]
    path = "/secret/" + key
    # refused posts still count against the caller's rate limit: compare the rest
    before = dump(s, skip=("ratelimit",))
    refused = [
        ("Origin: http://evil.example", {"Origin": "http://evil.example"}),
        ("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site"}),
        ("Sec-Fetch-Site: same-site", {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.127.0.0.1:%d" % s.port}),
        ("Origin: null, no Sec-Fetch-Site", {"Origin": "null"}),
        ("Origin with another scheme", {"Origin": "https://127.0.0.1:%d" % s.port}),
        ("Origin with another port", {"Origin": "http://127.0.0.1:%d" % (s.port + 1)}),
        ("same Origin but Sec-Fetch-Site: cross-site", {"Origin": me, "Sec-Fetch-Site": "cross-site"}),
    ]
    for desc, hdrs in refused:
        r = s.request("POST", path, body={}, headers=hdrs)
        ok(r.status == 403 and v.encode() not in r.body and b"Form refused" in r.body,
           "reveal form post with %s: 403 Form refused" % desc, "%d %r" % (r.status, r.body[:200]))
    r = s.request("POST", "/", body={"secret": canary()}, headers={"Origin": "http://evil.example"})
    is_(r.status, 403, "create form post from another site: 403")
    r = s.request("POST", "/private/%s/burn" % mkey, body={}, headers={"Sec-Fetch-Site": "cross-site"})
    is_(r.status, 403, "burn form post from another site: 403")
    after = dump(s, skip=("ratelimit",))
    ok(before == after, "database unchanged (but for rate-limit counters) after the refused posts",
       diff(before, after))
    r = s.request("GET", "/private/" + mkey)
    ok(b"Not yet opened" in r.body, "the receipt still says not yet opened", r.body[:200])
    r = s.request("POST", path, body={}, headers={"Origin": me, "Sec-Fetch-Site": "same-origin"})
    ok(r.status == 200 and v.encode() in r.body, "same-origin form post (Origin and Sec-Fetch-Site): reveals",
       "%d %r" % (r.status, r.body[:200]))

    for desc, hdrs in (("Origin only", {"Origin": me}),
                       ("Sec-Fetch-Site: none (typed in the address bar)", {"Sec-Fetch-Site": "none"}),
                       ("neither header (curl)", {}),
                       ("Origin: null with Sec-Fetch-Site: same-origin (a browser under "
                        "Referrer-Policy: no-referrer)", {"Origin": "null", "Sec-Fetch-Site": "same-origin"})):
        v = canary()
        key = s.create(v)["secret_key"]
        r = s.request("POST", "/secret/" + key, body={}, headers=hdrs)
        ok(r.status == 200 and v.encode() in r.body, "reveal form post with %s: reveals" % desc,
           "%d %r" % (r.status, r.body[:200]))
    r = s.request("POST", "/", body={"secret": canary()},
                  headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    ok(r.status == 303 and r.headers.get("location", "").startswith("/private/"),
       "create form post with Origin: null and Sec-Fetch-Site: same-origin: 303 to the receipt",
       "%d %r" % (r.status, r.headers.get("location")))

    # -- the API is not a form: Origin does not matter
    foreign = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    v = canary()
    r = s.request("POST", "share", body={"secret": v}, auth=("alice@example.com", token), headers=foreign)
    ok(r.status == 200 and isinstance(r.json, dict) and r.json.get("custid") == "alice@example.com",
       "API share with Basic auth and a foreign Origin: works", "%d %r" % (r.status, r.body[:200]))
    key = (r.json or {}).get("secret_key", "x")
    r = s.request("POST", "secret/" + key, body={}, headers=foreign)
    is_((r.status, (r.json or {}).get("value")), (200, v), "API reveal with a foreign Origin: works")

    # -- hostile keys in the URL: an inert 404 page
    hostile = [
        "/secret/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/secret/%3Cscript%3Ealert(1)%3C/script%3E",
        "/private/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/secret/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        "/secret/'%3E%3Csvg%20onload%3Dalert(1)%3E",
        "/secret/<script>alert(1)</script>",
        "/private/\"><script>alert(1)</script>",
        "/secret/%3Cscript%3E%00",
        "/secret/%253Cscript%253E",
        "/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/static/%3Cscript%3E",
        "/secret/" + "%3Cscript%3E" * 40,
    ]
    for path in hostile:
        for method in ("GET", "POST"):
            r = s.request(method, path, body={} if method == "POST" else None)
            low = r.body.lower()
            probs = []
            if not 400 <= r.status < 500:
                probs.append("HTTP %d" % r.status)
            for bad in (b"<script", b"<img", b"<svg", b"alert(1)</"):
                if bad in low:
                    probs.append("raw %r in the page" % bad)
            if r.status != 400 and header_problems(r):
                probs += header_problems(r)
            ok(not probs, "%s %s: a 4xx page without raw markup" % (method, path[:60]), probs + [r.body[:300]])


if __name__ == "__main__":
    run(main)
