#!/usr/bin/env python3
"""The worker's sandbox (src/sandbox.h), seen from outside: FastCGI workers
and a plain CGI run show no-new-privileges and a seccomp filter in
/proc/PID/status and still serve; with sandbox = no they show neither; a
worker that cannot enter the sandbox refuses to serve; a sandboxed worker
(FastCGI and CGI) takes a create with a recipient and only queues its
message, never touching the relay, and ots-mailer delivers it to a relay
named by a host name, over STARTTLS with AUTH, the password read from a
file outside the state directory.  On PostgreSQL the workers also reach the database over
TCP with a password file, and their database role holds rows only.
tests/unit/sandbox_test.c proves what the sandbox refuses."""

import glob
import os
import platform
import re
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (OTS, POSTGRESQL, SANITIZED, Server, SmtpSink, canary, diag, form_body, is_, is_error,  # noqa: E402
                     ok, run, skip, wait_until)

FROM = "noreply@ots.example.org"
CUST = "alice@example.com"
UNDER_VALGRIND = "valgrind" in os.environ.get("OTS_WRAPPER", "")


class Sandboxed(Server):
    """An instance whose programs run sandboxed even in a sanitizer build
    (where the harness turns the sandbox off): then without the exit-time
    leak check (it needs ptrace, which the filter kills) and with the
    sanitizers' reports in the state directory, where a sandboxed program
    can write them; close() fails the test for any report there."""

    def __init__(self, conf=None, **kw):
        conf = dict(conf or {})
        conf.setdefault("sandbox", "yes")
        super().__init__(conf=conf, **kw)

    def app_env(self, extra=None):
        env = super().app_env(extra)
        if SANITIZED:
            state = self.state_dir
            for k, name in (("ASAN_OPTIONS", "asan"), ("UBSAN_OPTIONS", "ubsan"), ("LSAN_OPTIONS", "lsan")):
                opts = [o for o in env.get(k, "").split(":")
                        if o and not o.startswith(("log_path=", "detect_leaks="))]
                opts.append("log_path=" + os.path.join(state, name))
                if k != "UBSAN_OPTIONS":
                    opts.append("detect_leaks=0")
                env[k] = ":".join(opts)
        return env

    def close(self):
        self.stop()
        if SANITIZED:
            reports = glob.glob(os.path.join(self.state_dir, "[aul]*san.*"))
            ok(not reports, "sanitizer build: no report from a sandboxed program (%d)" % len(reports),
               [open(r, errors="replace").read()[-2000:] for r in reports])
        super().close()


def status_of(pid):
    """NoNewPrivs and Seccomp of /proc/PID/status as ints, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    got = dict(re.findall(r"^(NoNewPrivs|Seccomp):\t(\d+)$", text, re.M))
    return tuple(int(got[k]) if k in got else None for k in ("NoNewPrivs", "Seccomp"))


def ots_pids(s):
    """The running ots programs of instance s: the processes that carry its
    OTS_CONFIG and name the program last on their command line, less those
    whose child does too (a wrapper such as strace; valgrind runs the
    program in its own process)."""
    found = {}
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/environ", "rb") as f:
                env = b"\0" + f.read()
            with open(d + "/cmdline", "rb") as f:
                argv = f.read().split(b"\0")[:-1]
            with open(d + "/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if b"\0OTS_CONFIG=" + s.conf_path.encode() + b"\0" in env and argv and argv[-1] == OTS.encode():
            found[int(d[6:])] = ppid
    return sorted(pid for pid in found if pid not in found.values())


# accept and accept4 by machine (a worker waits in one of them on fd 0)
ACCEPT = {"x86_64": ("43", "288"), "aarch64": ("202", "242")}.get(platform.machine())


def in_accept(pid):
    """Whether pid waits in accept() on descriptor 0 (where a FastCGI
    program finds its socket); on another machine, whether it sleeps."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            call = f.read().split()
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if ACCEPT is None:
        return state == "S"
    return len(call) > 1 and call[0] in ACCEPT and call[1] == "0x0"


def fastcgi(sandbox, pg_tcp=False):
    """pg_tcp: PostgreSQL over 127.0.0.1 with a password file (read before
    the sandbox), instead of the Unix socket."""
    s = Sandboxed(conf={"sandbox": sandbox}, max_procs=2, pg_tcp=pg_tcp)
    if pg_tcp:
        sandbox += " (PostgreSQL over TCP, database_password_file)"
    v = canary()
    r = s.share(secret=v)
    sk = (r.json or {}).get("secret_key", "x")
    is_((s.reveal(sk).json or {}).get("value"), v, "sandbox = %s: FastCGI share and reveal" % sandbox)
    want = (1, 2) if sandbox.startswith("yes") else (0, 0)
    # every worker past start-up: waiting in accept() on the FastCGI socket
    wait_until(lambda: len(ots_pids(s)) >= 2 and all(in_accept(p) for p in ots_pids(s)), 30)
    pids = ots_pids(s)
    seen = {pid: status_of(pid) for pid in pids}
    ok(len(pids) >= 2 and all(x == want for x in seen.values()),
       "sandbox = %s: every FastCGI worker (%d) has NoNewPrivs %d, Seccomp %d"
       % (sandbox, len(pids), want[0], want[1]), repr(seen))
    lines = [ln for ln in s.logs().splitlines() if "sandbox" in ln]
    ok(not lines, "sandbox = %s: no sandbox line in the logs (nothing lacking, nothing failed)" % sandbox, lines)
    s.close()


def cgi_status():
    """A CGI run waiting for its body is past start-up: its status then."""
    s = Sandboxed(start=False)
    body, ctype = form_body({"secret": canary()})
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
           "PATH_INFO": "/api/v1/share", "SCRIPT_NAME": "", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
           "CONTENT_TYPE": ctype, "CONTENT_LENGTH": str(len(body))}
    env.update(s.app_env())
    p = subprocess.Popen([OTS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        seen = wait_until(lambda: status_of(p.pid) == (1, 2) or p.poll() is not None, 10)
        st = status_of(p.pid)
        out, err = p.communicate(body, timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    is_(st, (1, 2), "plain CGI, waiting for its body: NoNewPrivs 1, Seccomp 2")
    ok(seen and p.returncode == 0 and b'"secret_key"' in out, "and it answers the share (rc %r)" % p.returncode,
       [out[:300], err[-300:]])
    s.close()


def refusal():
    """No state directory (SQLite: the database's): the worker refuses at
    start-up (the v1 503) and says which path is missing, sandbox or not
    (the passphrase gate's file lives there, and no Landlock rule could
    name it)."""
    s = Sandboxed(start=False)
    if s.cluster:
        what, missing = "state_dir", os.path.join(s.tmp, "nowhere")
        setting = dict(state_dir=missing)
    else:
        what, missing = "database directory", os.path.join(s.tmp, "nowhere")
        setting = dict(database=os.path.join(missing, "ots.db"))
    for sandbox in ("yes", "no"):
        s.settings.update(sandbox=sandbox, **setting)
        s._write_conf()
        r = s.cgi("GET", "status")
        is_error(r, "Service unavailable", "%s missing, sandbox = %s: 503" % (what, sandbox), intended=503)
        ok(missing in r.stderr, "sandbox = %s: stderr names the missing directory" % sandbox, r.stderr.strip())
    s.close()


def db_role():
    """PostgreSQL: the workers' role (ots_web) holds rows only: no table of
    its own, no right to create one, and on every table of the schema (the
    migrations' too, through the owner's default privileges) only SELECT,
    INSERT, UPDATE and DELETE."""
    if not POSTGRESQL:
        skip("the workers' database role holds rows only", "SQLite: no database roles")
        return
    import pgcluster
    s = Server(start=False)
    c = s.cluster
    try:
        c.psql("CREATE TABLE ots_web_was_here (x int);", user=pgcluster.WEB)
        made = "created"
    except pgcluster.ClusterError as e:
        made = str(e)
    ok("permission denied" in made, "the workers' role may not create a table", made)
    tables = [r[0] for r in c.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1;")]
    grants = {}
    for t, priv in c.psql("SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                          "WHERE grantee = 'ots_web' ORDER BY 1, 2;"):
        grants.setdefault(t, set()).add(priv)
    want = {"SELECT", "INSERT", "UPDATE", "DELETE"}
    ok(tables and all(grants.get(t) == want for t in tables),
       "on each of the %d tables the workers' role may SELECT, INSERT, UPDATE and DELETE, nothing more"
       % len(tables), {t: sorted(grants.get(t, ())) for t in tables})
    owned = c.psql("SELECT count(*) FROM pg_class WHERE relowner = 'ots_web'::regrole;")[0][0]
    is_(owned, "0", "the workers' role owns nothing")
    s.close()


class TlsServer(Sandboxed):
    """Programs (the mailer's delivery processes) that trust the test
    relay's certificate (OpenSSL reads SSL_CERT_FILE)."""

    cert = None

    def app_env(self, extra=None):
        env = super().app_env(extra)
        env["SSL_CERT_FILE"] = self.cert
        return env


def make_cert(d):
    """A self-signed certificate for localhost and its key, in d."""
    key, cert = os.path.join(d, "relay.key"), os.path.join(d, "relay.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl req: " + r.stderr)
    return key, cert


def mail():
    """Sandboxed workers queue; the mailer delivers to relay "localhost"
    (resolved through /etc/hosts), STARTTLS required, AUTH (libesmtp picks
    LOGIN or PLAIN from its plugins) with the password from
    smtp_password_file."""
    tls_dir = tempfile.mkdtemp(prefix="ots-relay-", dir=os.environ.get("OTS_TMPDIR") or None)
    try:
        relay(tls_dir)
    finally:
        shutil.rmtree(tls_dir, ignore_errors=True)


def relay(tls_dir):
    key, cert = make_cert(tls_dir)
    TlsServer.cert = cert
    password = canary("pw")
    pwfile = os.path.join(tls_dir, "smtp-password")
    with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(password + "\n")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    # no TLS 1.3 session tickets: libesmtp does not read them after the
    # handshake and waits for the relay until smtp_timeout, then gives up
    # (with or without the sandbox)
    ctx.num_tickets = 0
    from aiosmtpd.smtp import AuthResult  # Debian: python3-aiosmtpd

    def authenticator(server, session, envelope, mechanism, auth_data):
        good = auth_data.login == b"ots" and auth_data.password == password.encode()
        return AuthResult(success=good, auth_data="ots" if good else None)

    sink = SmtpSink(tls_context=ctx, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    sink.start()
    s = TlsServer(conf={"smtp_host": "localhost", "smtp_port": sink.port, "smtp_starttls": "required",
                        "smtp_user": "ots", "smtp_password_file": pwfile, "mail_from": FROM})
    auth = (CUST, s.add_customer(CUST, "basic"))
    r = s.share(auth=auth, secret=canary(), recipient="bob@example.net")
    ok(r.status == 200, "sandboxed FastCGI worker: share with a recipient: 200", r.body[:300])
    r = s.cgi("POST", "share", body={"secret": canary(), "recipient": "carol@example.net"}, auth=auth)
    ok(r.status == 200 and r.rc == 0, "sandboxed plain CGI: share with a recipient: 200",
       [r.body[:300], r.stderr[-300:]])
    pids = ots_pids(s)
    seen = {pid: status_of(pid) for pid in pids}
    ok(pids and all(x == (1, 2) for x in seen.values()), "the FastCGI workers that took them are sandboxed",
       repr(seen))
    ls = s.mail_list()
    is_([(x.get("kind"), x.get("state"), x.get("attempts")) for x in ls], [("secret", "queued", 0)] * 2,
        "mail list: both messages queued by the workers, not attempted")
    is_(sink.connections, 0, "the workers never connected to the relay")
    rc, summary, out, err = s.mail_once()
    is_((rc, summary, err), (0, {"sent": 2, "retry": 0, "failed": 0}, ""), "ots-mailer -1 sends both")
    got = sink.wait(2, 30)
    is_((got, sink.sessions), (2, [(True, "ots")] * 2),
        "delivered to relay localhost over STARTTLS, AUTH with the file's password")
    is_(sorted(m.rcpt_tos[0] for m in sink.messages), ["bob@example.net", "carol@example.net"],
        "to the two recipients")
    states = [x["state"] for x in s.mail_list()]
    is_(states, ["sent", "sent"], "mail list: both sent")
    lines = [ln for ln in s.logs().splitlines() if "mail" in ln or "sandbox" in ln]
    ok(not lines, "no mail or sandbox line in the logs", lines)
    s.close()
    sink.stop()


def main():
    db_role()
    if UNDER_VALGRIND:
        # valgrind's core cannot run under the worker's seccomp filter
        for what in ("FastCGI workers sandboxed", "plain CGI sandboxed", "refusal", "mail queued by sandboxed workers"):
            skip(what, "under valgrind the instances run with sandbox = no")
        fastcgi("no")
        return
    fastcgi("yes")
    fastcgi("no")
    if POSTGRESQL:
        fastcgi("yes", pg_tcp=True)
    else:
        skip("sandbox = yes: FastCGI workers reach PostgreSQL over TCP", "SQLite: no database server")
    cgi_status()
    refusal()
    mail()


if __name__ == "__main__":
    run(main)
