"""Run one browser script (tests/browser/NAME.mjs) and turn its JSON lines
into TAP assertions here: what every browser test shares.

Needs node (NODE, default `node`), Chromium (CHROMIUM, default
/usr/bin/chromium) and tests/browser/node_modules (`npm ci --prefix
tests/browser`; OTS_NODE_MODULES points elsewhere).  Any of them missing is a
failure, not a skip.  Screenshots go to OTS_ARTIFACTS (default
tests/artifacts/ in the build directory).
"""

import json
import os
import shutil
import subprocess

from otstest import BUILDDIR, SRCDIR, diag, ok

BROWSER_DIR = os.path.join(SRCDIR, "tests", "browser")
MODULES = os.environ.get("OTS_NODE_MODULES") or os.path.join(BROWSER_DIR, "node_modules")


def artifacts():
    """The directory for screenshots, created."""
    d = os.environ.get("OTS_ARTIFACTS") or os.path.join(BUILDDIR, "tests", "artifacts")
    os.makedirs(d, exist_ok=True)
    return d


def tools(script, packages=("playwright-core",)):
    """(node, problems): what is missing to run script."""
    probs = []
    node = shutil.which(os.environ.get("NODE") or "node")
    if not node:
        probs.append("node not found (set NODE)")
    for pkg in packages:
        if not os.path.isfile(os.path.join(MODULES, pkg, "package.json")):
            probs.append("%s/%s is missing: run `npm ci --prefix %s` (or set OTS_NODE_MODULES)"
                         % (MODULES, pkg, BROWSER_DIR))
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        probs.append("%s not found: apt-get install chromium (or set CHROMIUM)" % chromium)
    if not os.path.isfile(script):
        probs.append("%s is missing" % script)
    return node, probs


def run_script(name, args, min_checks, server=None, packages=("playwright-core",), timeout=600,
               label=""):
    """Run tests/browser/NAME.mjs with args; every check it prints is a TAP
    assertion, and so are: it exited 0, ran to the end, made at least
    min_checks checks, and (given server) the server survived.  label
    prefixes every assertion's description (one script run against several
    servers).  Returns the script's facts, the values of its {"fact":...}
    lines, for the python side to use."""
    script = os.path.join(BROWSER_DIR, name + ".mjs")
    node, probs = tools(script, packages)
    if not ok(not probs, "%snode, %s and chromium are available" % (label, ", ".join(packages)), probs):
        return []
    try:
        p = subprocess.run([node, script] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout, cwd=BROWSER_DIR)
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, stdout, stderr = "timeout", e.stdout or "", e.stderr or ""
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode() if isinstance(stderr, bytes) else stderr

    checks, done, facts = 0, None, []
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            diag(line)
        elif "ok" in msg:
            checks += 1
            ok(msg["ok"] is True, label + "browser: " + str(msg.get("desc")), msg.get("why"))
        elif "done" in msg:
            done = msg["done"]
        elif "fact" in msg:
            facts.append(msg["fact"])
        else:
            diag(msg.get("diag", line))
    failed = rc != 0 or done is None or checks < min_checks
    ok(rc == 0, "%s%s.mjs exited 0" % (label, name), "exit status %s" % rc)
    ok(done is not None and done == checks, "%s%s.mjs ran every flow to the end" % (label, name),
       "done marker %r, %d checks read" % (done, checks))
    ok(checks >= min_checks, "%s%s.mjs made at least %d checks" % (label, name, min_checks),
       "%d checks" % checks)
    if failed and stderr.strip():
        diag("%s%s.mjs stderr:\n%s" % (label, name, stderr[-4000:]))
    if server is not None:
        ok(server.alive(), label + "the server is still up after the browser run", server.logs())
        crashes = [line for line in server.logs().splitlines()
                   if "signal" in line.lower() or "died" in line.lower()]
        ok(not crashes, label + "no worker died during the browser run", crashes)
    return facts
