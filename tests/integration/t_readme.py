#!/usr/bin/env python3
"""The README's quick start, as a new user follows it.  The README is parsed:
every command in the indented blocks of its "Quick start" section runs, in
order, with the real curl, so a command that stops working fails here, and
a changed example is what runs next time.

The quick start itself must stay two commands, `contrib/quickstart.sh serve`
and `contrib/quickstart.sh test`; they are not run (they install packages,
and serve runs forever).  The instance is started the way serve starts it:
quickstart.sh's own state() function (ots.conf, `ots-admin init`,
contrib/lighttpd-quickstart.conf rendered by its sed line, lighttpd in the
foreground) runs in a temporary directory laid out like the source tree
(the built programs in cgi-bin/, web/, contrib/), on a free port.  Then
each other command runs in that directory through sh, with the README's
port replaced by the instance's and its placeholders by what earlier
commands printed: TOKEN (customer add), SECRET_KEY and METADATA_KEY (the
last share).  state() also makes the mailer's key pair, and the mailer
command serve prints runs once (ots-mailer -1).  What each must answer follows from its URL: share -> a
metadata object, state new; reveal -> the shared value, and run again
-> Unknown secret; recent with the account -> a JSON list (and, once the
test has shared a secret with that token, that receipt first); a command
the test has no expectation for fails.  Last, what the README says of request
bodies, on the same instance: a GET may carry one; a POST without
Content-Length gets lighttpd's own 411.
"""

import glob
import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (ADMIN, MAILER, OTS, POSTGRESQL, SRCDIR, HarnessError, _tap, basic, diag, free_port,  # noqa: E402
                     is_, meta_problems, ok, parse_json, parse_mailer, raw_request, run, skip)
from servers import pid_alive, stop_pid  # noqa: E402

README = os.path.join(SRCDIR, "README")
QUICKSTART = os.path.join(SRCDIR, "contrib", "quickstart.sh")
LIGHTTPD_CONF = os.path.join(SRCDIR, "contrib", "lighttpd-quickstart.conf")
PLACEHOLDERS = ("SECRET_KEY", "METADATA_KEY", "TOKEN")
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")
NOMINAL = b'{"status":"nominal","locale":"en"}'


# ---------------------------------------------------------------- the README

def section(text, title):
    """The body of the README section whose (underlined) heading starts with
    title, up to the next heading."""
    lines = text.splitlines()
    heads = [i for i in range(len(lines) - 1)
             if lines[i].strip() and re.match(r"^[-=]{3,}\s*$", lines[i + 1])]
    for n, i in enumerate(heads):
        if lines[i].startswith(title):
            end = heads[n + 1] if n + 1 < len(heads) else len(lines)
            return lines[i + 2:end]
    raise HarnessError("README has no section %r" % title)


def blocks(lines):
    """The indented (4 spaces) blocks of a section, each a list of commands
    (a line ending in a backslash continues on the next)."""
    out, cur = [], None
    for ln in lines + [""]:
        if ln.startswith("    ") and ln.strip():
            if cur is None:
                cur = []
                out.append(cur)
            if cur and cur[-1].endswith("\\"):
                cur[-1] = cur[-1][:-1] + " " + ln.strip()
            else:
                cur.append(ln.strip())
        elif ln.strip():
            cur = None
    return out


def state_function():
    """quickstart.sh's state() function, as its text (what serve runs after
    installing and building)."""
    with open(QUICKSTART, encoding="utf-8") as f:
        m = re.search(r"^state\(\) \{\n.*?^\}\n", f.read(), re.M | re.S)
    if not m:
        raise HarnessError("contrib/quickstart.sh has no state() function")
    return m.group(0)


def default_port():
    with open(QUICKSTART, encoding="utf-8") as f:
        m = re.search(r"^port=\$\{OTS_PORT:-(\d+)\}", f.read(), re.M)
    if not m:
        raise HarnessError("contrib/quickstart.sh sets no default port")
    return int(m.group(1))


# ---------------------------------------------------------------- the instance

class Quickstart:
    """The serve instance in a temporary tree: TOP/cgi-bin/{ots,ots-admin,
    ots-mailer} (the build's), TOP/web, TOP/contrib/lighttpd-quickstart.conf, and the
    state quickstart.sh makes under TOP/var."""

    def __init__(self):
        self.top = os.path.realpath(tempfile.mkdtemp(prefix="ots-readme-",
                                                     dir=os.environ.get("OTS_TMPDIR") or None))
        os.makedirs(os.path.join(self.top, "cgi-bin"))
        os.makedirs(os.path.join(self.top, "contrib"))
        for prog in (OTS, ADMIN, MAILER):
            if not os.access(prog, os.X_OK):
                raise HarnessError("binaries missing: build first (%s)" % prog)
            shutil.copy(prog, os.path.join(self.top, "cgi-bin"))
        shutil.copytree(os.path.join(SRCDIR, "web"), os.path.join(self.top, "web"))
        shutil.copy(LIGHTTPD_CONF, os.path.join(self.top, "contrib"))
        for root, _dirs, files in os.walk(self.top):  # distcheck's source is read-only
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), os.stat(os.path.join(root, f)).st_mode | 0o200)
        self.conf = os.path.join(self.top, "var", "ots.conf")
        self.out = os.path.join(self.top, "serve.out")
        self.proc = None
        self.port = None
        self.leftovers = []

    def env(self):
        """A new user's environment: no proxy, lighttpd on PATH."""
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        path = env.get("PATH", "/usr/bin:/bin")
        for d in ("/usr/sbin", "/sbin", os.path.dirname(os.environ.get("LIGHTTPD") or "/usr/sbin/x")):
            if d not in path.split(":"):
                path += ":" + d
        env["PATH"] = path
        return env

    def start(self):
        """Run state() as serve does, on a free port; wait for GET status."""
        script = "set -eu\ncd %s\ntop=$(pwd)\n%s\nstate %%d\n" % (shlex.quote(self.top), state_function())
        for _attempt in range(3):
            self.port = free_port()
            with open(self.out, "ab") as out:
                self.proc = subprocess.Popen(["sh", "-c", script % self.port], cwd=self.top,
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                             env=self.env(), start_new_session=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.status() == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.1)
            self.stop()
            if "in use" not in self.logs():
                break
        raise HarnessError("the quick-start instance did not answer GET /api/v1/status:\n" + self.logs())

    def status(self):
        """The HTTP status of GET /api/v1/status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/api/v1/status")
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def post(self, path, fields, auth=None):
        body = urllib.parse.urlencode(fields).encode()
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if auth:
            h["Authorization"] = basic(*auth)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, parse_json(resp.read())
        finally:
            conn.close()

    def logs(self):
        out = []
        for p in [self.out] + sorted(glob.glob(os.path.join(self.top, "var", "log", "*"))):
            try:
                with open(p, "rb") as f:
                    out.append("== %s\n%s" % (os.path.basename(p), f.read()[-3000:].decode("utf-8", "replace")))
            except OSError:
                pass
        return "\n".join(out)

    def app_processes(self):
        """PIDs of the ots workers of this instance (OTS_CONFIG in their
        environment names its ots.conf)."""
        needle = b"\0OTS_CONFIG=" + self.conf.encode() + b"\0"
        found = []
        for d in glob.glob("/proc/[0-9]*"):
            try:
                with open(d + "/environ", "rb") as f:
                    if needle in b"\0" + f.read():
                        found.append(int(d.rsplit("/", 1)[1]))
            except OSError:
                continue
        return [p for p in found if p != os.getpid() and pid_alive(p)]

    def stop(self):
        """SIGTERM lighttpd (sh exec'd it) by its PID, as Ctrl-C would stop
        serve; workers still there afterwards are recorded and killed."""
        if self.proc is None:
            return
        if not stop_pid(self.proc.pid, signal.SIGTERM):
            self.leftovers.append(self.proc.pid)
        self.proc.wait()
        self.proc = None
        deadline = time.monotonic() + 5
        left = self.app_processes()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self.app_processes()
        for pid in left:
            self.leftovers.append(pid)
            stop_pid(pid, signal.SIGKILL, 5)

    def close(self):
        self.stop()
        if _tap["failed"] or os.environ.get("OTS_KEEP_TMP"):
            diag("kept %s" % self.top)
        else:
            shutil.rmtree(self.top, ignore_errors=True)

    def sh(self, cmd):
        """One README command, through sh in the instance's tree."""
        return subprocess.run(["sh", "-c", cmd], cwd=self.top, capture_output=True, timeout=60,
                              env=self.env(), stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- the commands

def curl_parts(cmd):
    """(url path, fields sent with -d/-F, user of -u) of a curl command line."""
    argv = shlex.split(cmd)
    url, fields, user = None, {}, None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-d", "--data", "--data-raw", "--data-urlencode", "-F", "--form") and i + 1 < len(argv):
            sep = "&" if a.startswith(("-d", "--data")) else None
            for part in argv[i + 1].split(sep) if sep else [argv[i + 1]]:
                k, _, v = part.partition("=")
                if k:
                    fields.setdefault(k, urllib.parse.unquote_plus(v) if sep else v)
            i += 2
        elif a in ("-u", "--user") and i + 1 < len(argv):
            user = argv[i + 1].split(":", 1)[0]
            i += 2
        elif a in ("-X", "--request", "-H", "--header", "-o", "--output") and i + 1 < len(argv):
            i += 2
        elif a.startswith("http://") or a.startswith("https://"):
            url = a
            i += 1
        else:
            i += 1
    return (urllib.parse.urlsplit(url).path if url else None), fields, user


class Readme:
    """Runs the README's commands against one instance, remembering what
    later commands need."""

    def __init__(self, q):
        self.q = q
        self.vals = {}  # placeholder -> value
        self.account = None  # (email, token) of the README's customer add
        self.shared = None  # (value, secret_key) of the last share
        self.recent_cmd = None

    def substitute(self, cmd, port):
        out = cmd.replace("127.0.0.1:%d" % port, "127.0.0.1:%d" % self.q.port)
        for name in PLACEHOLDERS:
            if re.search(r"\b%s\b" % name, out):
                if name not in self.vals:
                    raise HarnessError("%s used before a command printed it: %s" % (name, cmd))
                out = re.sub(r"\b%s\b" % name, self.vals[name], out)
        left = [w for w in re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", out) if w not in METHODS]
        if left:
            raise HarnessError("placeholders the test cannot fill: %s in %s" % (left, cmd))
        return out

    def run(self, cmd, port):
        try:
            line = self.substitute(cmd, port)
        except HarnessError as e:
            ok(False, "README `%s`: its placeholders can be filled" % cmd, str(e))
            return
        r = self.q.sh(line)
        stdout = r.stdout.decode("utf-8", "replace")
        ok(r.returncode == 0, "README `%s`: exits 0" % cmd, ["exit %d" % r.returncode,
                                                             r.stderr.decode("utf-8", "replace")[-2000:]])
        m = re.search(r"\bots-admin\b.*\bcustomer add (\S+)", cmd)
        if m:
            tok = stdout.strip()
            ok(re.fullmatch(r"[0-9A-Za-z]{20,}", tok) and stdout.count("\n") == 1,
               "README `%s`: prints the API token, one line" % cmd, repr(stdout[:200]))
            self.vals["TOKEN"] = tok
            self.account = (m.group(1), tok)
            return
        if not re.match(r"curl\s", cmd):
            ok(False, "README `%s`: t_readme.py knows what it must answer" % cmd,
               "teach tests/integration/t_readme.py what this command should do")
            return
        path, fields, user = curl_parts(line)
        body = r.stdout
        j = parse_json(body)
        route = re.sub(r"^/api/v1/", "", path or "")
        custid = user or "anon"
        if route in ("share", "create", "generate"):
            probs = meta_problems(j, "new", custid=custid, generate=route == "generate")
            ok(not probs, "README `%s`: a metadata object, state new" % cmd, probs + [body[:300]])
            if isinstance(j, dict):
                self.vals.update(SECRET_KEY=j.get("secret_key", ""), METADATA_KEY=j.get("metadata_key", ""))
                self.shared = (j.get("value") if route == "generate" else fields.get("secret"),
                               j.get("secret_key", ""))
        elif route.startswith("secret/"):
            key = route.split("/", 1)[1]
            want = self.shared[0] if self.shared and self.shared[1] == key else None
            got = (j.get("value"), j.get("secret_key")) if isinstance(j, dict) else body[:300]
            is_(got, (want, key), "README `%s`: the secret's value" % cmd)
            r2 = self.q.sh(line)
            is_(parse_json(r2.stdout), {"secret_key": key, "message": "Unknown secret"},
                "README `%s` again: Unknown secret" % cmd)
        elif re.fullmatch(r"(private|metadata|receipt)/recent", route):
            probs = ([p for x in j for p in (meta_problems(x, x.get("state"), custid=custid, recent=True)
                                             if isinstance(x, dict) else ["%r is not an object" % (x,)])]
                     if isinstance(j, list) else ["not a JSON list: %r" % body[:300]])
            ok(not probs, "README `%s`: a JSON list of receipts" % cmd, probs)
            if user and self.account and user == self.account[0]:
                self.recent_cmd = (cmd, line)
            else:
                ok(False, "README `%s`: authenticates as the account customer add made" % cmd,
                   "user %r, account %r" % (user, self.account and self.account[0]))
        elif route in ("status", "authcheck"):
            is_(body, NOMINAL, "README `%s`: nominal" % cmd)
        else:
            ok(False, "README `%s`: t_readme.py knows what it must answer" % cmd,
               "teach tests/integration/t_readme.py what %r should answer" % route)

    def recent_follows(self):
        """The README's recent command, once the account has a receipt (made
        here with the token customer add printed): exactly that receipt."""
        if not self.recent_cmd:
            return
        cmd, line = self.recent_cmd
        before = parse_json(self.q.sh(line).stdout)
        status, m = self.q.post("/api/v1/share", {"secret": "readme-check", "ttl": "3600"}, auth=self.account)
        if status != 200 or not isinstance(m, dict):
            ok(False, "a share with the README account's token", "HTTP %d %r" % (status, m))
            return
        after = parse_json(self.q.sh(line).stdout)
        keys = [x.get("metadata_key") for x in after] if isinstance(after, list) else after
        want = [m["metadata_key"]] + [x.get("metadata_key") for x in before or []]
        is_(keys, want, "README `%s`, after a share with its token: that receipt first" % cmd)


def mailer(q, said):
    """state() made the mailer's key pair (the private key its owner's
    alone), and the mailer command serve prints runs once (-1) against
    the instance: exit 0, its summary (nothing queued yet)."""
    modes = {}
    for name in ("mailer.key", "mailer.pub"):
        try:
            modes[name] = oct(os.stat(os.path.join(q.top, "var", "state", name)).st_mode & 0o777)
        except OSError as e:
            modes[name] = str(e)
    is_(modes, {"mailer.key": "0o400", "mailer.pub": "0o444"},
        "quickstart.sh's state() made the mailer's key pair (var/state/mailer.key 0400, mailer.pub)")
    m = re.search(r"\bcgi-bin/ots-mailer -c \S+", said)
    if not ok(m, "serve prints the mailer's command", said[-600:]):
        return
    r = q.sh(m.group(0) + " -1")
    out = r.stdout.decode("utf-8", "replace")
    is_((r.returncode, parse_mailer(out)), (0, {"sent": 0, "retry": 0, "failed": 0}),
        "`%s -1` (once) runs against the instance: exit 0, nothing to send" % m.group(0))
    ok(not r.stderr, "and says nothing on stderr", r.stderr.decode("utf-8", "replace")[-500:])


def main():
    if POSTGRESQL:
        # its own state directory, SQLite's as the quick start and the
        # installed sample configuration have it: nothing engine-specific
        skip("the README's quick start", "OTS_TEST_ENGINE=postgresql: a SQLite-only test (run without it)")
        return
    with open(README, encoding="utf-8") as f:
        text = f.read()
    cmds = [c for b in blocks(section(text, "Quick start")) for c in b]
    qs = [c for c in cmds if "contrib/quickstart.sh" in c]
    is_(qs, ["contrib/quickstart.sh serve", "contrib/quickstart.sh test"],
        "README quick start: exactly two commands, serve and test")
    is_(cmds[:2], qs[:2], "README quick start: they come first")
    rest = [c for c in cmds if c not in qs]
    ok(any(c.startswith("curl ") for c in rest) and any("customer add" in c for c in rest),
       "README quick start: %d example commands, curl and customer add among them" % len(rest), rest)
    port = default_port()
    ports = sorted({int(p) for c in rest for p in re.findall(r"\b127\.0\.0\.1:(\d+)", c)})
    is_(ports, [port], "README examples: the port serve uses by default (%d)" % port)

    q = Quickstart()
    try:
        why = ""
        try:
            q.start()
        except HarnessError as e:
            why = str(e)
        if not ok(not why, "quickstart.sh's state() serves lighttpd-quickstart.conf on a free port", why):
            return
        with open(q.out, encoding="utf-8", errors="replace") as f:
            said = f.read()
        adds = [c for c in rest if "customer add" in c]
        ok(adds and all(c in said for c in adds), "serve prints the README's customer add command",
           [adds, said[-600:]])
        mailer(q, said)
        rd = Readme(q)
        for c in rest:
            rd.run(c, port)
        ok(rd.recent_cmd, "README: a recent command with the account's token ran")
        rd.recent_follows()
        # what the README says of request bodies, on its own instance
        r = raw_request(q.port, "GET", "/api/v1/status",
                        [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "3")], b"a=b")
        is_((r.status, r.body), (200, NOMINAL), "README: a GET may carry a body (status answers nominal)")
        r = raw_request(q.port, "POST", "/api/v1/share?secret=readme-411")
        ok(r.status == 411 and "x-ots-intended-status" not in r.headers,
           "README: a POST without Content-Length gets lighttpd's own 411",
           "HTTP %d, headers %r" % (r.status, r.headers))
        q.stop()
        ok(not q.leftovers, "lighttpd and its workers stopped by their PIDs", repr(q.leftovers))
    finally:
        q.close()


if __name__ == "__main__":
    run(main)
