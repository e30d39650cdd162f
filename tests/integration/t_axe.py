#!/usr/bin/env python3
"""Accessibility: tests/browser/axe.mjs runs axe-core in Chromium on every
page a visitor meets, in every language of po/LINGUAS (and English), in
light mode and, for English, dark mode: creating, receipts, revealing,
errors, answering a request link (made by an account through the API), and
signed in through the web server (REMOTE_USER) the create page, My
secrets and a request link made there.  Any violation is a failure.  OTS_UPDATE_SCREENSHOTS=1 also
rewrites the README's doc/screenshots/receipt.png, request.png and my.png.
SQLite only: the pages' HTML does not depend on the engine."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import POSTGRESQL, SRCDIR, Server, ok, run, skip  # noqa: E402

PAGES = 23  # axe checks per visit in axe.mjs


def languages():
    """English, then po/LINGUAS's languages."""
    langs = ["en"]
    try:
        with open(os.path.join(SRCDIR, "po", "LINGUAS")) as f:
            for line in f:
                langs += [w for w in line.split("#")[0].split() if w not in langs]
    except FileNotFoundError:
        pass
    return langs


def main():
    if POSTGRESQL:
        # the pages are the same HTML whichever engine stores the secrets
        skip("axe-core on every page", "OTS_TEST_ENGINE=postgresql: the pages do not depend on the engine "
             "(run without it)")
        return
    s = Server(max_procs=2)
    signed = Server(conf={"web_remote_user": "yes", "web_create": "authenticated"},
                    request_env={"REMOTE_USER": "reader@example.com"})
    langs = languages()
    visits = len(langs) + 1  # and English in dark mode
    auth = ("asker@example.com", s.add_customer("asker@example.com"))
    requests = []
    for i in range(visits):
        r = s.post("request", auth=auth, note="Please send the VPN password for the new laptop.", ttl=3600)
        if not ok(r.status == 200 and "request_url" in (r.json or {}), "request link %d made" % i,
                  [r.status, r.body[:200]]):
            return
        requests.append(r.json["request_url"])
    run_script("axe", ["http://127.0.0.1:%d" % s.port, "http://127.0.0.1:%d" % signed.port,
                       ",".join(requests), artifacts()] + langs,
               PAGES * visits + 1, server=s, packages=("playwright-core", "axe-core"))
    ok(signed.alive(), "the signed-in server is still up after the browser run", signed.logs())


if __name__ == "__main__":
    run(main)
