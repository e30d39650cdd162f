#!/usr/bin/env python3
"""The receipt's QR code, the copy buttons and dark mode.

Over HTTP: the Content-Security-Policy of each page allows script-src 'self'
exactly on the pages that load /static/copy.js (a receipt with a live link
or a generated password, the reveal page), 'none' everywhere else, and
copy.js is served as JavaScript.  In Chromium (tests/browser/qr.mjs, as
t_web.py runs web.mjs): the QR code, screenshotted and read back with
zbarimg, is the share link exactly (two links, two codes); the copy
buttons copy to the clipboard; with JavaScript off every page still works;
prefers-color-scheme: dark gives dark pages with readable text.

Needs node, Chromium, playwright-core (see t_web.py) and zbarimg
(zbar-tools).  Any of them missing is a failure, not a skip.
"""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import Server, diag, is_, ok, run  # noqa: E402

MIN_CHECKS = 35  # qr.mjs makes about 45
CSP_NONE = "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'"
CSP_SELF = "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"


def browser(base, label, min_checks=MIN_CHECKS):
    """Run qr.mjs against base; its checks become TAP lines (prefixed label)."""
    zbarimg = shutil.which(os.environ.get("ZBARIMG") or "zbarimg")
    if not ok(zbarimg, "%szbarimg is available" % label,
              "zbarimg not found: apt-get install zbar-tools (or set ZBARIMG)"):
        return
    d = os.path.join(artifacts(), "qr-" + re.sub(r"\W+", "-", label).strip("-") if label else "qr")
    diag("screenshots in %s" % d)
    run_script("qr", [base, d], min_checks, label=label)


def csp_checks(s, prefix="", label="", app_static=True):
    """The policy of each page, and which pages load the script.  app_static:
    the app serves /static/ (else the web server does, with its own headers)."""
    me = "http://127.0.0.1:%d" % s.port
    m = s.create("csp " + os.urandom(6).hex())
    used = s.create("csp used " + os.urandom(6).hex())
    s.reveal(used["secret_key"])
    gen = s.request("POST", prefix + "/", body={"action": "generate"})
    pages = [
        ("start page", "GET", "/", None, 200, False),
        ("confirmation page", "GET", "/secret/" + m["secret_key"], None, 200, False),
        ("receipt with a live link", "GET", "/private/" + m["metadata_key"], None, 200, True),
        ("receipt of a received secret", "GET", "/private/" + used["metadata_key"], None, 200, False),
        ("no such page", "GET", "/nope", None, 404, False),
        ("reveal", "POST", "/secret/" + m["secret_key"], {"x": "1"}, 200, True),
        ("used link", "GET", "/secret/" + m["secret_key"], None, 404, False),
    ]
    results = [("generated password", gen, 200, True)]
    for desc, method, path, body, status, script in pages:
        r = s.request(method, prefix + path, body=body, headers={"Origin": me} if body else None)
        results.append((desc, r, status, script))
    for desc, r, status, script in results:
        want = CSP_SELF if script else CSP_NONE
        probs = []
        if r.status != status:
            probs.append("HTTP %d, expected %d" % (r.status, status))
        if r.headers.get("content-security-policy") != want:
            probs.append("CSP %r, expected %r once" % (r.headers.get("content-security-policy"), want))
        tags = re.findall(rb"<script\b[^>]*>", r.body)
        want_tags = [('<script src="%s/static/copy.js">' % prefix).encode()] if script else []
        if tags != want_tags:
            probs.append("script tags %r, expected %r" % (tags, want_tags))
        if re.search(rb"\son[a-z]+\s*=", r.body):
            probs.append("an inline event handler")
        ok(not probs, "%s%s: %s, %s" % (label, desc, "script-src 'self' and copy.js" if script
                                      else "script-src 'none' and no script", "HTTP %d" % status), probs)
    r = s.request("GET", prefix + "/static/copy.js")
    if app_static:
        ok(r.status == 200 and r.headers.get("content-type", "").startswith("text/javascript") and
           b"data-copy" in r.body and r.headers.get("x-content-type-options") == "nosniff",
           "%s/static/copy.js: 200, text/javascript, nosniff" % prefix,
           (r.status, r.headers.get("content-type")))
    else:
        ok(r.status == 200 and b"data-copy" in r.body, "%s%s/static/copy.js: 200 from the web server"
           % (label, prefix), (r.status, r.headers.get("content-type")))
    # the QR code is in the page itself, drawn from the link (no second request)
    body = s.request("GET", prefix + "/private/" + m["metadata_key"]).body
    ok(b'<svg xmlns="http://www.w3.org/2000/svg" id="qr"' not in body,
       label + "after the reveal the receipt has no QR code", body[:200])
    live = s.create("qr " + os.urandom(6).hex())
    body = s.request("GET", prefix + "/private/" + live["metadata_key"]).body
    svg = re.search(rb'<svg[^>]*id="qr"[^>]*viewBox="0 0 (\d+) (\d+)"[^>]*role="img"[^>]*>.*?<path d="([^"]*)"',
                    body, re.S)
    ok(svg and svg.group(1) == svg.group(2) and re.fullmatch(rb"(M\d+ \d+h\d+v1h-\d+z)+", svg.group(3)),
       label + "a live receipt: an inline SVG, square viewBox, one path of module runs", body[:300] if not svg else None)


def main():
    s = Server(max_procs=2)
    csp_checks(s)
    browser("http://127.0.0.1:%d" % s.port, "")
    ok(s.alive(), "the server is still up after the browser run", s.logs())
    crashes = [ln for ln in s.logs().splitlines() if "signal" in ln.lower() or "died" in ln.lower()]
    is_(crashes, [], "no worker died")


if __name__ == "__main__":
    run(main)
