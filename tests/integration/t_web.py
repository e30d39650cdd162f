#!/usr/bin/env python3
"""The web pages in a real browser: tests/browser/web.mjs drives Chromium
(playwright-core, JavaScript on) against this test's own server and prints
one JSON line per check, which become TAP assertions here.

Needs node (NODE, default `node`), Chromium (CHROMIUM, default
/usr/bin/chromium) and tests/browser/node_modules (`npm ci --prefix
tests/browser`; OTS_NODE_MODULES points elsewhere).  Any of them missing is a
failure, not a skip.  Screenshots of every page go to OTS_ARTIFACTS (default
tests/artifacts/ in the build directory); OTS_UPDATE_SCREENSHOTS=1 also
rewrites doc/screenshots/create.png and reveal.png in the source tree.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import SRCDIR, Server, diag, run  # noqa: E402

MIN_CHECKS = 60  # web.mjs makes about 100; far fewer means flows went missing


def main():
    s = Server(max_procs=2)
    args = ["http://127.0.0.1:%d" % s.port, artifacts()]
    if os.environ.get("OTS_UPDATE_SCREENSHOTS") == "1":
        args.append(os.path.join(SRCDIR, "doc", "screenshots"))
    diag("screenshots in %s" % args[1])
    run_script("web", args, MIN_CHECKS, server=s)


if __name__ == "__main__":
    run(main)
