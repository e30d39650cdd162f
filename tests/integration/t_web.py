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

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import BUILDDIR, SRCDIR, Server, diag, ok, run  # noqa: E402

BROWSER_DIR = os.path.join(SRCDIR, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "web.mjs")
MIN_CHECKS = 60  # web.mjs makes about 100; far fewer means flows went missing


def tools():
    """(node, problems): what is missing to run the browser tests."""
    probs = []
    node = shutil.which(os.environ.get("NODE") or "node")
    if not node:
        probs.append("node not found (set NODE)")
    modules = os.environ.get("OTS_NODE_MODULES") or os.path.join(BROWSER_DIR, "node_modules")
    if not os.path.isfile(os.path.join(modules, "playwright-core", "package.json")):
        probs.append("%s/playwright-core is missing: run `npm ci --prefix %s` (or set OTS_NODE_MODULES)"
                     % (modules, BROWSER_DIR))
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        probs.append("%s not found: apt-get install chromium (or set CHROMIUM)" % chromium)
    if not os.path.isfile(SCRIPT):
        probs.append("%s is missing" % SCRIPT)
    return node, probs


def main():
    node, probs = tools()
    if not ok(not probs, "node, playwright-core and chromium are available", probs):
        return
    artifacts = os.environ.get("OTS_ARTIFACTS") or os.path.join(BUILDDIR, "tests", "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    s = Server(max_procs=2)
    base = "http://127.0.0.1:%d" % s.port
    args = [node, SCRIPT, base, artifacts]
    if os.environ.get("OTS_UPDATE_SCREENSHOTS") == "1":
        args.append(os.path.join(SRCDIR, "doc", "screenshots"))
    diag("screenshots in %s" % artifacts)
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=600, cwd=BROWSER_DIR)
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, stdout, stderr = "timeout", e.stdout or "", e.stderr or ""
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode() if isinstance(stderr, bytes) else stderr

    checks, done = 0, None
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            diag(line)
        elif "ok" in msg:
            checks += 1
            ok(msg["ok"] is True, "browser: " + str(msg.get("desc")), msg.get("why"))
        elif "done" in msg:
            done = msg["done"]
        else:
            diag(msg.get("diag", line))
    failed = rc != 0 or done is None or checks < MIN_CHECKS
    ok(rc == 0, "web.mjs exited 0", "exit status %s" % rc)
    ok(done is not None and done == checks, "web.mjs ran every flow to the end",
       "done marker %r, %d checks read" % (done, checks))
    ok(checks >= MIN_CHECKS, "web.mjs made at least %d checks" % MIN_CHECKS, "%d checks" % checks)
    if failed and stderr.strip():
        diag("web.mjs stderr:\n" + stderr[-4000:])
    ok(s.alive(), "the server is still up after the browser run", s.logs())
    crashes = [line for line in s.logs().splitlines() if "signal" in line.lower() or "died" in line.lower()]
    ok(not crashes, "no worker died during the browser run", crashes)


if __name__ == "__main__":
    run(main)
