"""otstest: the harness shared by the integration tests (tests/integration/t_*.py).

A TAP emitter (ok/is_/diag/run), and Server: one ots instance in a temporary
directory (ots.conf, database and master key made by `ots-admin init`) served
by a real lighttpd on 127.0.0.1 through mod_fastcgi, with the test clock
(tests/integration/fakeclock.so, built by `make check`) preloaded into the
ots processes only, so that advance() moves their clock.
The same instance can also run cgi-bin/ots as a plain CGI (run_cgi).

Environment: OTS_BUILDDIR (where cgi-bin/ and tests/integration/fakeclock.so live;
default the repository root), OTS_TMPDIR (parent of the temporary
directories), LIGHTTPD (the binary), OTS_WRAPPER (command prefix for the
ots program, e.g. "valgrind -q"; with valgrind, or when the program is
built with a sanitizer, the instances run with sandbox = no), OTS_KEEP_TMP=1
(keep temporary directories), OTS_TEST_ENGINE (the storage engine every
instance uses: sqlite, the default, or postgresql: then each Server gets a
PostgreSQL cluster of its own, tests/integration/pgcluster.py).
A test adds variables of its own for the ots program with Server(extra_env=...)
or run_cgi/cgi(extra_env=...); an LD_PRELOAD among them is preloaded beside the
test clock (t_wipe.py preloads tests/integration/wipeshim.so that way).
Python 3 standard library only, except SmtpSink (Debian's python3-aiosmtpd,
imported when a sink is made).
"""

import atexit
import base64
import calendar
import glob
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.environ.get("OTS_BUILDDIR") or SRCDIR
OTS = os.path.join(BUILDDIR, "cgi-bin", "ots")
ADMIN = os.path.join(BUILDDIR, "cgi-bin", "ots-admin")
SWEEP = os.path.join(BUILDDIR, "cgi-bin", "ots-sweep")
MAILER = os.path.join(BUILDDIR, "cgi-bin", "ots-mailer")
FAKECLOCK = os.path.join(BUILDDIR, "tests", "integration", "fakeclock.so")


def _sanitized():
    """Whether the ots program was built with ASan or UBSan."""
    try:
        with open(OTS, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle_" in data


SANITIZED = _sanitized()

# the storage engine of every instance (OTS_TEST_ENGINE)
ENGINE = os.environ.get("OTS_TEST_ENGINE") or "sqlite"
ENGINES = ("sqlite", "postgresql")
if ENGINE not in ENGINES:
    sys.exit("OTS_TEST_ENGINE=%s: expected one of %s" % (ENGINE, ", ".join(ENGINES)))
POSTGRESQL = ENGINE == "postgresql"

KEY_RE = re.compile(r"\A[1-9a-z][0-9a-z]{30}\Z")
GEN_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?("
DAY = 86400


class HarnessError(Exception):
    """The instance could not be set up or a precondition failed."""


# ---------------------------------------------------------------- TAP

_tap = {"n": 0, "failed": 0}


def diag(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


def ok(cond, desc, why=None):
    """One TAP assertion; why (str or list) is printed as diagnostics on failure."""
    _tap["n"] += 1
    desc = " ".join(str(desc).split()).replace("#", "\\#")
    print("%s %d - %s" % ("ok" if cond else "not ok", _tap["n"], desc), flush=True)
    if not cond:
        _tap["failed"] += 1
        diag("  Failed test '%s'" % desc)
        if why:
            for w in why if isinstance(why, (list, tuple)) else [why]:
                diag("    " + str(w))
    return bool(cond)


def is_(got, expected, desc):
    return ok(got == expected, desc, ["got:      %r" % (got,), "expected: %r" % (expected,)])


def skip(desc, reason):
    """One TAP assertion that did not run (counted as a skip, not a pass)."""
    _tap["n"] += 1
    desc = " ".join(str(desc).split()).replace("#", "\\#")
    print("ok %d - %s # SKIP %s" % (_tap["n"], desc, " ".join(str(reason).split())), flush=True)


def run(main):
    """Run a test script's main(), report an unexpected exception as a failure,
    stop every server, print the trailing plan and exit (1 on any failure)."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - any exception is a test failure
        ok(False, "test script ran to completion", traceback.format_exc().splitlines()
           + ([e.logs] if getattr(e, "logs", None) else []))
    finally:
        _cleanup()
    print("1..%d" % _tap["n"], flush=True)
    if _tap["failed"]:
        diag("failed %d of %d" % (_tap["failed"], _tap["n"]))
    sys.exit(1 if _tap["failed"] or _tap["n"] == 0 else 0)


# ---------------------------------------------------------------- random data

def canary(prefix="cn"):
    """A random, unique value to look for later (never a fixed string)."""
    return prefix + secrets.token_hex(12)


def passphrase():
    return secrets.token_urlsafe(12)


# ---------------------------------------------------------------- HTTP bodies

def form_body(fields):
    """fields: dict or list of pairs; a list value becomes repeated keys."""
    return urllib.parse.urlencode(fields, doseq=True).encode(), "application/x-www-form-urlencoded"


def json_body(obj):
    return json.dumps(obj).encode(), "application/json"


def multipart_body(fields):
    """What `curl -F name=value` sends."""
    boundary = "------------------------" + secrets.token_hex(8)
    items = fields.items() if isinstance(fields, dict) else fields
    out = b""
    for name, value in items:
        if isinstance(value, str):
            value = value.encode()
        out += (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\""
                + name.encode() + b"\"\r\n\r\n" + value + b"\r\n")
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def basic(user, token):
    return "Basic " + base64.b64encode(("%s:%s" % (user, token)).encode()).decode()


def _no_dup_pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key %r" % k)
        d[k] = v
    return d


def parse_json(data):
    """The decoded JSON value (objects keep key order), or None when the body is
    not valid UTF-8 JSON or repeats a key."""
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_dup_pairs)
    except (ValueError, UnicodeDecodeError):
        return None


def json_is_compact(data):
    """True when no whitespace appears outside strings."""
    in_str = esc = False
    for c in data.decode("utf-8", "replace"):
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in " \t\r\n":
            return False
    return True


class _RespMixin:
    @property
    def intended(self):
        """X-OTS-Intended-Status as an int, or None."""
        v = self.headers.get("x-ots-intended-status", "")
        return int(v) if v.strip().isdigit() else None


class Resp(_RespMixin, namedtuple("Resp", "status headers body json")):
    """An HTTP answer: status, headers (lower-cased names), body bytes, parsed JSON."""


class CgiResp(_RespMixin, namedtuple("CgiResp", "status headers body json rc stderr")):
    """A CGI answer, plus the exit status and stderr of the program."""


# ---------------------------------------------------------------- response checks

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "content-type": "application/json; charset=utf-8",
}


def header_problems(r):
    """What is wrong with the headers every response must carry, and the JSON framing."""
    probs = []
    for name, want in SECURITY_HEADERS.items():
        if r.headers.get(name) != want:
            probs.append("%s: %r, expected %r" % (name, r.headers.get(name), want))
    csp = r.headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in [d.strip() for d in csp.split(";")]:
        probs.append("content-security-policy: %r lacks frame-ancestors 'none'" % csp)
    if r.json is None:
        probs.append("body is not JSON: %r" % r.body[:200])
    elif not json_is_compact(r.body):
        probs.append("JSON is not compact: %r" % r.body[:200])
    return probs


def is_error(r, message, desc, intended=None, secret_key=None, key_optional=False):
    """An API v1 error: HTTP 404, X-OTS-Intended-Status (exact, or any 4xx when
    intended is None), body exactly {"message":...} or {"secret_key":...,"message":...}
    (either of the two when key_optional)."""
    want = {"message": message} if secret_key is None else {"secret_key": secret_key, "message": message}
    if key_optional and isinstance(r.json, dict) and "secret_key" not in r.json:
        want = {"message": message}
    probs = []
    if r.status != 404:
        probs.append("HTTP status %d, expected 404" % r.status)
    if intended is None:
        if r.intended is None or not 400 <= r.intended < 500:
            probs.append("X-OTS-Intended-Status %r, expected a 4xx" % r.intended)
    elif r.intended != intended:
        probs.append("X-OTS-Intended-Status %r, expected %d" % (r.intended, intended))
    if r.json is None or list(r.json.items()) != list(want.items()):
        probs.append("body %r, expected %s" % (r.body[:300], json.dumps(want, separators=(",", ":"))))
    return ok(not probs, desc, probs)


def is_unknown(r, key, desc):
    """The Unknown secret answer echoing the key as sent."""
    return is_error(r, "Unknown secret", desc, intended=404, secret_key=key)


def meta_keys(state, generate=False, recent=False):
    """The metadata object's keys, in order, for a given state (api-v1.md)."""
    keys = ["custid", "metadata_key"]
    if state != "received" and not recent:
        keys.append("secret_key")
    keys += ["ttl", "metadata_ttl"]
    if state != "received":
        keys.append("secret_ttl")
    keys += ["state", "updated", "created"]
    if state == "received":
        keys.append("received")
    keys += ["recipient", "share_domain"]
    if generate:
        keys.append("value")
    if state in ("new", "viewed"):
        keys.append("passphrase_required")
    return keys


def _isint(v):
    return type(v) is int


def meta_problems(m, state, custid=None, generate=False, recent=False, ttl=None):
    """What is wrong with a metadata object expected in the given state (or
    any of a tuple of states)."""
    if not isinstance(m, dict):
        return ["not a JSON object: %r" % (m,)]
    probs = []
    if isinstance(state, tuple):  # any of these states
        if m.get("state") not in state:
            probs.append("state %r, expected one of %s" % (m.get("state"), state))
        state = m.get("state") if m.get("state") in state else state[0]
    elif m.get("state") != state:
        probs.append("state %r, expected %r" % (m.get("state"), state))
    want = meta_keys(state, generate, recent)
    if list(m) != want:
        probs.append("keys %s, expected %s" % (list(m), want))
    if custid is not None and m.get("custid") != custid:
        probs.append("custid %r, expected %r" % (m.get("custid"), custid))
    if not KEY_RE.match(str(m.get("metadata_key"))):
        probs.append("metadata_key %r is not 31 chars of [0-9a-z] (first not 0)" % m.get("metadata_key"))
    if "secret_key" in m:
        sk = m["secret_key"]
        if state in ("new", "viewed") and not (isinstance(sk, str) and KEY_RE.match(sk)):
            probs.append("secret_key %r is not a key" % (sk,))
        if state in ("burned", "expired") and sk != "":
            probs.append("secret_key %r, expected \"\" once %s" % (sk, state))
    for k in ("ttl", "metadata_ttl", "updated", "created", "received"):
        if k in m and not _isint(m[k]):
            probs.append("%s %r is not a JSON integer" % (k, m[k]))
    if "secret_ttl" in m:
        st = m["secret_ttl"]
        if state in ("new", "viewed") and not (_isint(st) and st >= 0):
            probs.append("secret_ttl %r, expected a non-negative integer" % (st,))
        if state in ("burned", "expired") and st is not None:
            probs.append("secret_ttl %r, expected null once %s" % (st, state))
    if ttl is not None and m.get("ttl") != ttl:
        probs.append("ttl %r, expected %r" % (m.get("ttl"), ttl))
    if _isint(m.get("created")) and _isint(m.get("updated")) and m["updated"] < m["created"]:
        probs.append("updated %d before created %d" % (m["updated"], m["created"]))
    if _isint(m.get("received")) and _isint(m.get("created")) and m["received"] < m["created"]:
        probs.append("received before created")
    rc = m.get("recipient")
    if not (isinstance(rc, list) and all(isinstance(x, str) for x in rc)):
        probs.append("recipient %r is not an array of strings" % (rc,))
    if m.get("share_domain") != "":
        probs.append("share_domain %r, expected \"\"" % (m.get("share_domain"),))
    if generate and not isinstance(m.get("value"), str):
        probs.append("value %r is not a string" % (m.get("value"),))
    if "passphrase_required" in m and type(m["passphrase_required"]) is not bool:
        probs.append("passphrase_required %r is not a boolean" % (m["passphrase_required"],))
    return probs


def is_meta(r, state, desc, **kw):
    """A 200 answer whose body is a metadata object in the given state."""
    probs = [] if r.status == 200 else ["HTTP status %d, body %r" % (r.status, r.body[:300])]
    if not probs:
        probs = meta_problems(r.json, state, **kw)
    return ok(not probs, desc, probs)


# ---------------------------------------------------------------- processes

def _which_lighttpd():
    for c in (os.environ.get("LIGHTTPD"), shutil.which("lighttpd"), "/usr/sbin/lighttpd"):
        if c and os.access(c, os.X_OK):
            return c
    raise HarnessError("lighttpd not found (set LIGHTTPD)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _access_log_format():
    """The shipped lighttpd configuration's access log format (it must keep
    share links out of the log), else a format without the request URI."""
    for path in sorted(glob.glob(os.path.join(SRCDIR, "contrib", "lighttpd", "*.conf"))):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                m = re.search(r'^\s*accesslog\.format\s*=\s*"((?:[^"\\]|\\.)*)"', f.read(), re.M)
        except OSError:
            continue
        if m:
            return m.group(1), path
    return "%h %t %m %s %b", None


def lstr(s):
    """A lighttpd configuration string literal."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


_servers = []
_sinks = []


def _cleanup():
    for s in list(_sinks):
        s.stop()
    for s in list(_servers):
        s.close()


atexit.register(_cleanup)
# a harness timeout's SIGTERM still stops lighttpd and its workers (via atexit)
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

DEFAULT_CONF = {
    "ttl_default": "604800",
    "anon_ttl_max": "604800",
    "anon_size_max": "10000",
    "passphrase_min": "0",
    "passphrase_max": "1024",
    "passphrase_required": "no",
    "plan.basic.ttl_max": "2592000",
    "plan.basic.size_max": "10000",
    # the source tree's templates and stylesheet (nothing is installed)
    "web_dir": os.path.join(SRCDIR, "web"),
    # the catalogues built in the build tree (LL/LC_MESSAGES/ots.mo)
    "locale_dir": os.path.join(BUILDDIR, "locale"),
    # rate limits out of the way; t_limits.py sets its own
    "limit.create_secret": "1000000",
    "limit.email_recipient": "1000000",
    "limit.show_secret": "1000000",
    "limit.show_metadata": "1000000",
    "limit.burn_secret": "1000000",
    "limit.failed_passphrase": "1000000",
}


class Server:
    """One ots instance.  conf: extra/overriding ots.conf settings (a value of
    None drops the key).  start=False prepares everything but lighttpd
    (enough for run_cgi).  extra_env: variables for the ots program, the
    FastCGI workers and every run_cgi alike (see app_env).  request_env:
    parameters lighttpd adds to every request (mod_setenv), as a web
    server's sign-in sets REMOTE_USER.

    engine (default OTS_TEST_ENGINE) is the store's: "sqlite", a file in
    the state directory (self.database, also self.database_file), or
    "postgresql", a cluster of the instance's own (self.cluster, a
    pgcluster.Cluster under tmp/pg) with a database "ots": the workers
    connect as the least-privilege role ots_web (self.database is that
    conninfo; database_file is None), `ots-admin init` and `migrate` as its
    owner ots_owner (migrate_database), and state_dir is the state
    directory.  pg_tcp=True: the workers connect over 127.0.0.1 with a
    password (database_password_file) instead of the Unix socket.
    self.state_dir is the state directory either way (the clock file, the
    lock files; SQLite's file)."""

    def __init__(self, conf=None, max_procs=2, start=True, fake_clock=True, extra_env=None, engine=None,
                 pg_tcp=False, request_env=None):
        self.tmp = tempfile.mkdtemp(prefix="ots-test-", dir=os.environ.get("OTS_TMPDIR") or None)
        _servers.append(self)
        self.proc = None
        self.cluster = None
        self.offset = 0
        self.engine = engine or ENGINE
        self.max_procs = max(2, max_procs)
        self.port = free_port()
        self.conf_path = os.path.join(self.tmp, "ots.conf")
        self.state_dir = os.path.join(self.tmp, "data")
        self.master_key = os.path.join(self.tmp, "keys", "master.key")
        if self.engine == "postgresql":
            import pgcluster
            self.cluster = pgcluster.Cluster(os.path.join(self.tmp, "pg"),
                                             fakeclock=FAKECLOCK if os.path.isfile(FAKECLOCK) else None)
            self.cluster.create_database()
            self.database_file = None
            self.database = self.cluster.conninfo(pgcluster.WEB, tcp=pg_tcp)
            db = dict(database=self.database, migrate_database=self.cluster.conninfo(pgcluster.OWNER),
                      state_dir=self.state_dir)
            if pg_tcp:
                db["database_password_file"] = self.cluster.password_file(pgcluster.WEB)
        elif self.engine == "sqlite":
            self.database_file = self.database = os.path.join(self.state_dir, "ots.db")
            db = dict(database=self.database)
        else:
            raise HarnessError("unknown engine %r" % self.engine)
        self.settings = dict(DEFAULT_CONF, master_key=self.master_key,
                             mailer_key=os.path.join(self.tmp, "keys", "mailer.key"),
                             mailer_public_key=os.path.join(self.tmp, "keys", "mailer.pub"), **db)
        if "valgrind" in os.environ.get("OTS_WRAPPER", "") or SANITIZED:
            # The worker's sandbox (sandbox.h) is off for the memory checkers:
            # valgrind runs the program on its own core, whose system calls
            # the seccomp filter refuses; a sanitizer's exit-time leak check
            # stops the world with clone and ptrace (the filter kills the
            # process) and writes its report to log_path, outside the state
            # directory (Landlock refuses).  t_sandbox.py and sandbox_test
            # run the sandbox in a sanitizer build too, without leak checks.
            self.settings["sandbox"] = "no"
        for k, v in (conf or {}).items():
            if v is None:
                self.settings.pop(k, None)
            else:
                self.settings[k] = str(v)
        # in the state directory: the one place a sandboxed worker reads
        self.clock_file = os.path.join(self.state_dir, "clock")
        self.fake_clock = fake_clock
        self.extra_env = dict(extra_env or {})
        self.request_env = dict(request_env or {})
        if fake_clock and not os.path.isfile(FAKECLOCK):
            raise HarnessError("%s missing: `make check` builds it" % FAKECLOCK)
        if fake_clock:
            os.makedirs(self.state_dir, 0o700)
            self._write_clock()
        self._write_conf()
        if not os.access(ADMIN, os.X_OK) or not os.access(OTS, os.X_OK):
            raise HarnessError("binaries missing: build first (%s, %s)" % (OTS, ADMIN))
        r = self.admin("init")
        if r.returncode != 0:
            raise HarnessError("ots-admin init failed (%d): %s" % (r.returncode, r.stderr.strip()))
        self.mailer_proc = None
        if self.settings.get("mailer_key") and self.settings.get("mailer_public_key") and \
                not os.path.exists(self.settings["mailer_public_key"]):
            p = subprocess.run([MAILER, "-c", self.conf_path, "-k"], capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise HarnessError("ots-mailer -k failed (%d): %s" % (p.returncode, p.stderr.strip()))
        if start:
            self.start()

    # -- files

    def _write_conf(self):
        self.settings["base_url"] = "http://127.0.0.1:%d" % self.port
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/integration/otstest.py\n")
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))

    def _write_clock(self):
        tmp = self.clock_file + ".new"
        with open(tmp, "w") as f:
            f.write("+%d\n" % self.offset)
        os.replace(tmp, self.clock_file)  # atomic: a worker never reads a half-written file
        if self.cluster:
            # PostgreSQL's now() is the store's clock: the cluster follows,
            # from a copy its user may read (the state directory is 0700)
            self.cluster.write_clock(self.offset)

    def advance(self, seconds):
        """Move the ots processes' clock forward (cumulative offset)."""
        if not self.fake_clock:
            raise HarnessError("this instance has no fake clock")
        self.offset += int(seconds)
        self._write_clock()

    def app_env(self, extra=None):
        """Environment added for the ots program (web server or CGI): the
        instance's, then self.extra_env, then extra (a value of None drops a
        variable).  LD_PRELOAD values are not replaced but added, after the
        test clock: LD_PRELOAD is a list."""
        env = {"OTS_CONFIG": self.conf_path}
        # a sanitizer build's settings (lighttpd passes workers only these)
        env.update({k: os.environ[k] for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
                    if k in os.environ})
        if self.fake_clock:
            env.update(LD_PRELOAD=FAKECLOCK, OTS_FAKECLOCK_FILE=self.clock_file)
        for more in (self.extra_env, extra or {}):
            for k, v in more.items():
                if v is None:
                    env.pop(k, None)
                elif k == "LD_PRELOAD" and env.get(k):
                    env[k] = env[k] + " " + v
                else:
                    env[k] = v
        return env

    def _write_lighttpd_conf(self):
        self.access_log = os.path.join(self.tmp, "access.log")
        self.error_log = os.path.join(self.tmp, "lighttpd-error.log")
        fmt, self.access_log_source = _access_log_format()
        www = os.path.join(self.tmp, "www")
        os.makedirs(www, exist_ok=True)
        wrapper = os.environ.get("OTS_WRAPPER", "")
        env = ",\n\t\t\t".join("%s => %s" % (lstr(k), lstr(v)) for k, v in self.app_env().items())
        text = """server.modules = ("mod_accesslog", "mod_fastcgi", "mod_setenv")
server.document-root = %(www)s
server.bind = "127.0.0.1"
server.port = %(port)d
server.errorlog = %(errlog)s
accesslog.filename = %(acclog)s
accesslog.format = %(fmt)s
fastcgi.server = ("/" => ((
		"bin-path" => %(bin)s,
		"socket" => %(sock)s,
		"max-procs" => %(procs)d,
		"check-local" => "disable",
		"fix-root-scriptname" => "enable",
		"bin-environment" => (
			%(env)s
		)
)))
""" % dict(www=lstr(www), port=self.port, errlog=lstr(self.error_log), acclog=lstr(self.access_log),
           fmt=lstr(fmt), bin=lstr((wrapper + " " + OTS).strip()), sock=lstr(os.path.join(self.tmp, "ots.sock")),
           procs=self.max_procs, env=env)
        if self.request_env:
            text += "setenv.add-environment = (%s)\n" % ", ".join(
                "%s => %s" % (lstr(k), lstr(v)) for k, v in self.request_env.items())
        self.lighttpd_conf = os.path.join(self.tmp, "lighttpd.conf")
        with open(self.lighttpd_conf, "w") as f:
            f.write(text)

    def logs(self):
        """The text of every log file in the instance directory (for diagnostics)."""
        out = []
        for p in self.log_files():
            with open(p, "rb") as f:
                out.append("== %s\n%s" % (os.path.basename(p), f.read()[-4000:].decode("utf-8", "replace")))
        return "\n".join(out)

    def log_files(self):
        """Every log of the instance: the web server's, the programs', and
        the PostgreSQL cluster's."""
        logs = sorted(p for p in glob.glob(os.path.join(self.tmp, "*"))
                      if p.endswith((".log", ".out")) and os.path.isfile(p))
        if self.cluster and os.path.isfile(self.cluster.log_path):
            logs.append(self.cluster.log_path)
        return logs

    # -- lighttpd

    def start(self):
        for _attempt in range(3):
            self._write_conf()
            self._write_lighttpd_conf()
            out = open(os.path.join(self.tmp, "lighttpd.out"), "ab")
            self.proc = subprocess.Popen([_which_lighttpd(), "-D", "-f", self.lighttpd_conf],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         start_new_session=True)
            out.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    # one worker answers; a busy machine may still be
                    # spawning the others, which tests count and compare
                    if self.request("GET", "status", timeout=2).status == 200 and \
                            len(self.worker_pids()) >= self.max_procs:
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop()
            if "already in use" not in self.logs():
                break
            self.port = free_port()
        e = HarnessError("server did not answer GET /api/v1/status within 10 s")
        e.logs = self.logs()
        raise e

    def worker_pids(self):
        """PIDs of the processes lighttpd spawned (the FastCGI workers)."""
        pids = set()
        if not self.proc:
            return pids
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                with open(stat) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.add(int(stat.split("/")[2]))
        return pids

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:  # workers lighttpd left behind: they are in the session we created
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None

    def close(self):
        self.stop_mailer()
        self.stop()
        if self.cluster:
            self.cluster.close()
        if self in _servers:
            _servers.remove(self)
        if _tap["failed"] or os.environ.get("OTS_KEEP_TMP"):
            diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- admin

    def admin(self, *args):
        return subprocess.run([ADMIN, "-c", self.conf_path] + list(args),
                              capture_output=True, text=True, timeout=60)

    def add_customer(self, email, plan=None):
        r = self.admin("customer", "add", email, *(["--plan", plan] if plan else []))
        if r.returncode != 0:
            raise HarnessError("customer add %s failed (%d): %s" % (email, r.returncode, r.stderr.strip()))
        return r.stdout.strip()

    def mail_list(self):
        """`ots-admin mail list` parsed: a list of dicts (id, kind, state,
        recipient, event, attempts, created, next, error; raw: the line)."""
        r = self.admin("mail", "list")
        if r.returncode != 0:
            raise HarnessError("mail list failed (%d): %s" % (r.returncode, r.stderr.strip()))
        return [parse_mail_line(line) for line in r.stdout.splitlines() if line.strip()]

    # -- ots-mailer

    def _mailer_cmd(self, *args):
        env = dict(os.environ)
        env.update(self.app_env())
        return (shlex.split(os.environ.get("OTS_WRAPPER", "")) + [MAILER, "-c", self.conf_path]
                + list(args)), env

    def mail_once(self, *args, timeout=300):
        """Run `ots-mailer -1` (what cron runs) with the workers' fake clock:
        (rc, summary dict or None, stdout, stderr)."""
        cmd, env = self._mailer_cmd("-1", *args)
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, parse_mailer(p.stdout), p.stdout, p.stderr

    def start_mailer(self, *args):
        """Start the long-running ots-mailer (stopped by close())."""
        self.stop_mailer()
        cmd, env = self._mailer_cmd(*args)
        self.mailer_log = open(os.path.join(self.tmp, "mailer.log"), "ab")
        self.mailer_proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=self.mailer_log,
                                            stderr=self.mailer_log, start_new_session=True)
        return self.mailer_proc

    def stop_mailer(self):
        p, self.mailer_proc = getattr(self, "mailer_proc", None), None
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        try:  # its delivery children, if any outlived it
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.mailer_log.close()
        return p.returncode

    # -- ots-sweep

    def sweep(self, *args, wait=True, conf=None, timeout=300):
        """Run ots-sweep -c CONF (conf: another path) with the workers' fake
        clock: (rc, stdout, stderr), or the Popen when wait is False."""
        env = dict(os.environ)
        env.update(self.app_env())
        cmd = (shlex.split(os.environ.get("OTS_WRAPPER", "")) + [SWEEP, "-c", conf or self.conf_path]
               + list(args))
        if not wait:
            return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    # -- the database, read only, either engine

    def sql(self, query, params=(), counters=False):
        """The rows of one query (sqlite3's ? placeholders, params bound)
        as tuples: BLOB/bytea as bytes, integers as int, NULL as None.
        SQLite: a read-only connection (this process never writes,
        checkpoints or removes the WAL).  PostgreSQL: a psql session as the
        owner ots_owner, each query in a transaction rolled back.
        counters: the rate-limit counters' table, which SQLite keeps in a
        file of its own (DATABASE.limits, made by the first count)."""
        if self.cluster is None:
            path = self.database_file + (".limits" if counters else "")
            if counters and not os.path.exists(path):
                con = sqlite3.connect(":memory:")
                con.execute("CREATE TABLE ratelimit (key, window, count)")
            else:
                con = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True, timeout=30)
            try:
                return con.execute(query, params).fetchall()
            finally:
                con.close()
        import pgcluster
        q = pgcluster.bind(query, params).strip().rstrip(";")
        # \gdesc: each column's name and type, then the rows as JSON
        # (a subquery may repeat a column name: count(*), count(*))
        out = self.cluster.session(pgcluster.OWNER).query(
            "BEGIN;\n%s \\gdesc\nSELECT replace(coalesce(json_agg(ARRAY(SELECT value "
            "FROM json_each(row_to_json(q)))), '[]')::text, E'\\n', '') FROM (%s) q;\nROLLBACK;" % (q, q))
        types = [r[1] for r in out[:-1]]
        rows = json.loads(out[-1][0])
        conv = [(lambda v: None if v is None else bytes.fromhex(v[2:])) if t == "bytea" else (lambda v: v)
                for t in types]
        return [tuple(c(v) for c, v in zip(conv, row)) for row in rows]

    def schema_version(self):
        """The schema version the database records."""
        if self.cluster:
            return int(self.sql("SELECT version FROM schema_version")[0][0])
        return self.sql("PRAGMA user_version")[0][0]

    def set_schema_version(self, version):
        """Change the recorded schema version under the workers' open
        connections (nothing else changes)."""
        if self.cluster:
            import pgcluster
            self.cluster.psql("UPDATE schema_version SET version = %d;" % version, user=pgcluster.OWNER)
            return
        con = sqlite3.connect(self.database_file, isolation_level=None)
        try:
            con.execute("PRAGMA user_version = %d" % version)
        finally:
            con.close()

    def db_files(self):
        """The files that hold the database's bytes, for byte scans: SQLite's
        file, -wal and -shm; PostgreSQL's relation files of the test
        database and the cluster's WAL, after a checkpoint."""
        if self.cluster:
            return self.cluster.stored_files()
        return [self.database_file, self.database_file + "-wal", self.database_file + "-shm"]

    def dump(self, skip=()):
        """A logical dump (schema and rows, in a fixed order) as a list of
        lines, less the rows of the tables in skip.  SQLite: iterdump and
        the user_version, read-only; PostgreSQL: pg_dump, the rows of each
        table sorted (their physical order is no part of the content)."""
        if self.cluster is None:
            con = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(self.database_file), uri=True,
                                  timeout=30)
            try:
                lines = ["PRAGMA user_version=%d;" % con.execute("PRAGMA user_version").fetchone()[0]]
                for line in con.iterdump():
                    m = re.match(r'INSERT INTO "([^"]+)"', line)
                    if not (m and m.group(1) in skip):
                        lines.append(line)
                return lines
            finally:
                con.close()
        lines, rows, table = [], None, None
        for line in self.cluster.dump().decode("utf-8").splitlines():
            if line.startswith(("\\restrict ", "\\unrestrict ")):
                continue  # a random key pg_dump makes per run
            if rows is not None:
                if line == "\\.":
                    lines += [] if table in skip else sorted(rows)
                    lines.append(line)
                    rows = None
                else:
                    rows.append(line)
                continue
            m = re.match(r'COPY (?:public\.)?"?([^" ]+)"? ', line)
            if m:
                table, rows = m.group(1), []
            lines.append(line)
        return lines

    def row_versions(self):
        """PostgreSQL: {table: sorted (ctid, xmin) of every row}; a row
        written again, even with the same values, gets another."""
        import pgcluster
        tables = [r[0] for r in self.cluster.psql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;", user=pgcluster.OWNER)]
        out = {}
        for t in tables:
            out[t] = sorted(self.cluster.psql('SELECT ctid, xmin FROM public."%s";' % t, user=pgcluster.OWNER))
        return out

    def integrity(self):
        """The store's own consistency check: [(ok, what, detail)].  SQLite:
        PRAGMA integrity_check and foreign_key_check; PostgreSQL:
        pg_amcheck over the tables and indexes.  For a stopped instance (a
        SQLite connection that may write: it recovers a crashed WAL first)."""
        if self.cluster:
            good, out = self.cluster.amcheck()
            return [(good, "pg_amcheck (heap and B-tree, all indexed tuples): no corruption", out)]
        con = sqlite3.connect(self.database_file, timeout=30)
        try:
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            con.close()
        return [(integrity == [("ok",)], "PRAGMA integrity_check: ok", repr(integrity)),
                (fk == [], "PRAGMA foreign_key_check: no violations", repr(fk))]

    # -- HTTP

    def request(self, method, path, params=None, body=None, content_type=None, auth=None,
                headers=None, timeout=30):
        """One request on a fresh connection.  path without a leading "/" is under
        /api/v1/.  body: bytes/str, a (bytes, content_type) pair from the *_body
        helpers, or a dict/list sent form-encoded.  auth: (custid, token) or a raw
        Authorization value."""
        if not path.startswith("/"):
            path = "/api/v1/" + path
        if params:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params, doseq=True)
        if isinstance(body, tuple):
            body, content_type = body
        elif isinstance(body, (dict, list)):
            body, content_type = form_body(body)
        if isinstance(body, str):
            body = body.encode()
        h = {}
        if body is not None and content_type:
            h["Content-Type"] = content_type
        if auth:
            h["Authorization"] = basic(*auth) if isinstance(auth, tuple) else auth
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        hdrs = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return Resp(resp.status, hdrs, data, parse_json(data))

    def post(self, path, auth=None, **params):
        """POST with the params form-encoded in the body."""
        return self.request("POST", path, body=form_body(params), auth=auth)

    def share(self, auth=None, **params):
        return self.post("share", auth=auth, **params)

    def generate(self, auth=None, **params):
        return self.post("generate", auth=auth, **params)

    def reveal(self, key, auth=None, **params):
        return self.post("secret/" + key, auth=auth, **params)

    def metadata(self, mkey, method="GET", alias="private", auth=None):
        return self.request(method, "%s/%s" % (alias, mkey), auth=auth)

    def burn(self, mkey, alias="private", auth=None, **params):
        return self.post("%s/%s/burn" % (alias, mkey), auth=auth, **params)

    def recent(self, auth=None, alias="private", method="GET"):
        return self.request(method, alias + "/recent", auth=auth)

    def create(self, value=None, auth=None, **params):
        """Share a secret and return its metadata object (raises when that fails)."""
        r = self.share(auth=auth, secret=canary() if value is None else value, **params)
        if r.status != 200 or not isinstance(r.json, dict):
            raise HarnessError("share failed: %d %r" % (r.status, r.body[:300]))
        return r.json

    # -- plain CGI

    def run_cgi(self, env, stdin=b"", timeout=15, extra_env=None):
        """Run cgi-bin/ots once as a CGI program with exactly env (plus PATH, the
        instance's OTS_CONFIG/clock variables, app_env(extra_env)) and parse its
        answer."""
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        e.update(self.app_env(extra_env))
        e.update({k: v for k, v in env.items() if v is not None})
        cmd = shlex.split(os.environ.get("OTS_WRAPPER", "")) + [OTS]
        p = subprocess.run(cmd, input=stdin, env=e, capture_output=True, timeout=timeout)
        ends = [(p.stdout.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in p.stdout]
        head, body = p.stdout, b""
        if ends:
            i, sep = min(ends)
            head, body = p.stdout[:i], p.stdout[i + len(sep):]
        hdrs = {}
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if b":" in line:
                k, v = line.split(b":", 1)
                k = k.decode("latin-1").strip().lower()
                v = v.decode("latin-1").strip()
                hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        m = re.match(r"\s*(\d{3})", hdrs.get("status", "200"))
        status = int(m.group(1)) if m else 0
        return CgiResp(status, hdrs, body, parse_json(body), p.returncode,
                       p.stderr.decode("utf-8", "replace"))

    def cgi(self, method, path, query="", body=None, content_type=None, auth=None, env=None,
            extra_env=None):
        """A CGI request for path (under /api/v1/ without a leading "/");
        extra_env as in run_cgi."""
        if not path.startswith("/"):
            path = "/api/v1/" + path
        if isinstance(body, tuple):
            body, content_type = body
        elif isinstance(body, (dict, list)):
            body, content_type = form_body(body)
        body = body.encode() if isinstance(body, str) else (body or b"")
        e = {
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_SOFTWARE": "otstest", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(self.port), "REQUEST_METHOD": method,
            "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
            "REQUEST_URI": path + ("?" + query if query else ""),
            "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
        }
        if body or method == "POST":
            e["CONTENT_LENGTH"] = str(len(body))
            e["CONTENT_TYPE"] = content_type or "application/x-www-form-urlencoded"
        if auth:
            e["HTTP_AUTHORIZATION"] = basic(*auth) if isinstance(auth, tuple) else auth
        e.update(env or {})
        return self.run_cgi(e, body, extra_env=extra_env)


def raw_request(port, method, target, headers=(), body=b"", timeout=30):
    """One request sent as exactly these bytes on a fresh connection to
    127.0.0.1:port: the request line, Host, Connection: close, then headers
    (pairs) and body as given; no Content-Length unless headers has one.
    For what http.client would add or fix (a POST without Content-Length, a
    GET with a body).  The response is read by http.client (chunked too)."""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (method, target, port)
    head += "".join("%s: %s\r\n" % kv for kv in headers)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
    hdrs = {}
    for k, v in resp.getheaders():
        k = k.lower()
        hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
    return Resp(resp.status, hdrs, data, parse_json(data))


# ---------------------------------------------------------------- concurrency

def parallel(n, fn):
    """Run fn(i) in n threads released together by a barrier; returns the
    results in order (an exception is returned in place of its result)."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait(30)
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def round_trips(s, n):
    """n creates and reveals in a row on Server s: the problems (empty when
    every create answered and every reveal gave its own value)."""
    bad = []
    for i in range(n):
        v = canary()
        r = s.share(secret=v)
        if r.status != 200:
            bad.append("create %d: %d/%s %r" % (i, r.status, r.intended, r.body[:100]))
            continue
        r = s.reveal(r.json["secret_key"])
        if r.status != 200 or (r.json or {}).get("value") != v:
            bad.append("reveal %d: %d/%s %r" % (i, r.status, r.intended, r.body[:100]))
    return bad


def wait_until(pred, timeout=10.0, interval=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


SWEEP_RE = re.compile(r"^ots-sweep: (\d+) secrets and (\d+) receipts removed, (\d+) receipts expired, "
                      r"(\d+) notices queued, (\d+) mail records removed; "
                      r"(?:not )?rebuilt; (\d+\.\d{3}) s$")
SWEEP_FIELDS = ("secrets", "receipts", "expired", "notices", "mail_removed")
MAILER_RE = re.compile(r"^ots-mailer: (\d+) sent, (\d+) to retry, (\d+) failed$")


def parse_mailer(out):
    """The `ots-mailer -1` summary line as {sent, retry, failed}, or None
    unless the output is exactly one such line."""
    lines = out.splitlines()
    m = MAILER_RE.match(lines[0]) if len(lines) == 1 else None
    return dict(zip(("sent", "retry", "failed"), map(int, m.groups()))) if m else None


def parse_sweep(out):
    """The ots-sweep summary line as {field: int, "seconds": float}, or None
    unless the output is exactly one such line."""
    lines = out.splitlines()
    m = SWEEP_RE.match(lines[0]) if len(lines) == 1 else None
    if not m:
        return None
    d = {k: int(v) for k, v in zip(SWEEP_FIELDS, m.groups())}
    d["seconds"] = float(m.group(len(SWEEP_FIELDS) + 1))
    return d


def parse_mail_line(line):
    """One `mail list` line: id, kind, state, recipient, event=E or -,
    attempts=N, created=T, next=T or -, last error.  Times are epoch seconds
    (None for -)."""
    f = line.split("\t")
    d = {"raw": line}
    if len(f) != 9 or not f[0].isdigit() or not f[4].startswith("event=") \
            or not f[5].startswith("attempts=") or not f[6].startswith("created="):
        d["bad"] = True
        return d
    d.update(kind=f[1], event=f[4][6:])
    f = f[:1] + f[2:4] + f[5:]

    def when(v):
        try:
            return int(calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ")))
        except ValueError:
            return None
    d.update(id=int(f[0]), state=f[1], recipient=f[2], attempts=int(f[3][9:] or -1),
             created=when(f[4][8:]), next=when(f[5][5:]) if f[5].startswith("next=") else f[5],
             error=f[6])
    return d


def _file_bytes(paths):
    """(path, contents) of each readable file among paths."""
    for p in paths:
        try:
            with open(p, "rb") as f:
                yield p, f.read()
        except OSError:
            continue


def count_bytes(paths, needles):
    """{path: total occurrences of the byte strings} (absent files left out)."""
    return {p: sum(data.count(n) for n in needles if n) for p, data in _file_bytes(paths)}


# ---------------------------------------------------------------- SMTP

Mail = namedtuple("Mail", "mail_from rcpt_tos content")


class SmtpSink:
    """An SMTP server on 127.0.0.1:port in this process (aiosmtpd), keeping
    every message (Mail: envelope and raw bytes) and counting connections.
    start() and stop() may be repeated; the port stays the same.  options go
    to aiosmtpd's SMTP (tls_context, require_starttls, authenticator...)."""

    def __init__(self, port=None, refuse=(), **options):
        self.port = port or free_port()
        self.refuse = set(refuse)  # recipients refused at RCPT (550 5.1.1, naming them)
        self.options = options
        self.messages = []
        self.sessions = []  # per message: (over TLS, what the authenticator returned)
        self.connections = 0
        self._lock = threading.Lock()
        self._ctl = None
        _sinks.append(self)

    def start(self):
        from aiosmtpd.controller import Controller  # Debian: python3-aiosmtpd
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in sink.refuse:
                    return "550 5.1.1 <%s>: Recipient address rejected" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                with sink._lock:
                    sink.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
                    sink.sessions.append((session.ssl is not None, session.auth_data))
                return "250 2.0.0 OK"

        class Counting(Controller):
            def factory(self):
                with sink._lock:
                    sink.connections += 1
                return super().factory()

        ctl = Counting(Handler(), hostname="127.0.0.1", port=self.port, **self.options)
        ctl.start()
        with self._lock:
            self.connections -= 1  # the probe Controller.start() makes itself
        self._ctl = ctl

    def stop(self):
        if self._ctl:
            self._ctl.stop()
            self._ctl = None

    def wait(self, n, timeout=10.0):
        """Wait until at least n messages arrived; returns the count."""
        wait_until(lambda: len(self.messages) >= n, timeout)
        return len(self.messages)


def grep_files(paths, needles):
    """{path: {needle: count}} for the needles (str) found in the files' bytes
    (every readable path a key).  Many needles in much data go through one
    `grep -F` (Aho-Corasick: one pass, where Python would make one per
    needle); a match that overlaps a longer one then goes uncounted, which
    no caller's needles do."""
    needles = [n for n in dict.fromkeys(needles) if n]
    paths = [p for p in paths if os.access(p, os.R_OK) and os.path.isfile(p)]
    size = sum(os.path.getsize(p) for p in paths)
    plain = all(n.isprintable() and n.isascii() for n in needles)
    if len(needles) * size < (1 << 30) or not plain or not shutil.which("grep"):
        return {p: {n: data.count(n.encode()) for n in needles if n.encode() in data}
                for p, data in _file_bytes(paths)}
    out = {p: {} for p in paths}
    with tempfile.NamedTemporaryFile("w", prefix="ots-needles-") as f:
        f.write("".join(n + "\n" for n in needles))
        f.flush()
        r = subprocess.run(["grep", "-F", "-a", "-o", "-H", "-Z", "-f", f.name, "--"] + paths,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, LC_ALL="C"))
    if r.returncode > 1:
        raise HarnessError("grep: " + r.stderr.decode("utf-8", "replace"))
    for line in r.stdout.split(b"\n"):
        if b"\0" in line:
            p, n = line.split(b"\0", 1)
            d = out.setdefault(p.decode(), {})
            d[n.decode()] = d.get(n.decode(), 0) + 1
    return out
