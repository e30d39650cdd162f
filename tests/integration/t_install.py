#!/usr/bin/env python3
"""make install DESTDIR=... into a temporary root, then the installed
programs, templates and schema serve a fresh state directory: the files a
package would ship are all there and work without the build tree.  The
installed ots-mailer makes its key pair and delivers a recipient's mail
that the installed ots (plain CGI) queued, to an SMTP server on 127.0.0.1."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (BUILDDIR, POSTGRESQL, SRCDIR, SmtpSink, basic, canary, diag, is_, ok, parse_mailer, run,  # noqa: E402
                     skip)


def find(root, rel_end):
    """The one installed file whose path ends with rel_end, or None."""
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if p.endswith(rel_end):
                return p
    return None


def cgi(ots, conf, method, path, body=b"", auth=None):
    env = {"PATH": "/usr/bin:/bin", "OTS_CONFIG": conf, "REQUEST_METHOD": method,
           "PATH_INFO": path, "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
           "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body))}
    if auth:
        env["HTTP_AUTHORIZATION"] = basic(*auth)
    p = subprocess.run([ots], input=body, env=env, capture_output=True, timeout=30)
    head, _, payload = p.stdout.partition(b"\r\n\r\n")
    return head.decode("latin-1"), payload


def main():
    if POSTGRESQL:
        # its own state directory, SQLite's as the quick start and the
        # installed sample configuration have it: nothing engine-specific
        skip("make install and the installed programs", "OTS_TEST_ENGINE=postgresql: a SQLite-only test (run without it)")
        return
    root = tempfile.mkdtemp(prefix="ots-install-")
    try:
        r = subprocess.run(["make", "-s", "-C", BUILDDIR, "install", "DESTDIR=" + root],
                           capture_output=True, text=True, timeout=600)
        if not ok(r.returncode == 0, "make install DESTDIR=%s" % root, r.stderr[-2000:]):
            return
        want = ["bin/ots-admin", "bin/ots-sweep", "bin/ots-mailer", "libexec/ots/cgi-bin/ots",
                "share/ots/sql/sqlite/001_init.sql", "share/ots/sql/postgresql/001_init.sql",
                "share/ots/templates/index.html", "share/ots/templates/reveal.html",
                "share/ots/static/ots.css", "etc/ots/ots.conf.sample", "share/doc/ots/deploy.md",
                "share/doc/ots/examples/lighttpd/ots-fastcgi.conf", "share/doc/ots/examples/cron/ots-sweep",
                "share/doc/ots/examples/cron/ots-mailer", "share/doc/ots/examples/systemd/ots-mailer.service"]
        # every migration of the source tree (the schema's newest version too)
        want = list(dict.fromkeys(want + sorted(
            "share/ots/sql/%s/%s" % (e, os.path.basename(m)) for e in ("sqlite", "postgresql")
            for m in glob.glob(os.path.join(SRCDIR, "sql", e, "[0-9][0-9][0-9]_*.sql")))))
        found = {w: find(root, "/" + w) for w in want}
        ok(all(found.values()), "installed: " + ", ".join(want), [w for w, p in found.items() if not p])
        if not all(found.values()):
            return
        admin, sweep, ots = found["bin/ots-admin"], found["bin/ots-sweep"], found["libexec/ots/cgi-bin/ots"]
        mailer = found["bin/ots-mailer"]
        share = os.path.dirname(os.path.dirname(found["share/ots/templates/index.html"]))
        diag("installed under %s" % os.path.dirname(os.path.dirname(admin)))

        state = os.path.join(root, "state")
        conf = os.path.join(root, "ots.conf")
        with open(found["etc/ots/ots.conf.sample"]) as f:
            sample = f.read()
        # the installed sample, pointed at a fresh state directory and at
        # the installed share directory (its compiled-in path lacks DESTDIR)
        sample = sample.replace("/var/lib/ots/", state + "/")
        # and its mailer settings, uncommented, at a relay of the test's own
        sink = SmtpSink()
        sink.start()
        keys = os.path.join(root, "keys")
        os.mkdir(keys, 0o700)
        sample = sample.replace("#mailer_public_key = /etc/ots/", "mailer_public_key = %s/" % keys)
        sample = sample.replace("#mailer_key = /etc/ots/", "mailer_key = %s/" % keys)
        sample = sample.replace("#smtp_port = 25", "smtp_port = %d" % sink.port)
        with open(conf, "w") as f:
            f.write(sample + "\nweb_dir = %s\n" % share)
        r = subprocess.run([admin, "-c", conf, "init"], capture_output=True, text=True, timeout=60)
        ok(r.returncode == 0 and os.path.exists(os.path.join(state, "ots.db")),
           "installed ots-admin init with the installed sample configuration", r.stderr)
        ok(oct(os.stat(state).st_mode & 0o777) == "0o700", "state directory 0700")
        r = subprocess.run([admin, "-c", conf, "customer", "add", "inst@example.com"],
                           capture_output=True, text=True, timeout=60)
        ok(r.returncode == 0 and len(r.stdout.strip()) == 40, "customer add prints a token")
        auth = ("inst@example.com", r.stdout.strip())
        r = subprocess.run([mailer, "-c", conf, "-k"], capture_output=True, text=True, timeout=60)
        ok(r.returncode == 0 and os.path.isfile(os.path.join(keys, "mailer.key"))
           and os.path.isfile(os.path.join(keys, "mailer.pub")),
           "installed ots-mailer -k makes the key pair the sample names", [r.stdout, r.stderr])

        head, body = cgi(ots, conf, "GET", "/api/v1/status")
        is_(body, b'{"status":"nominal","locale":"en"}', "installed ots (plain CGI): status")
        value = canary()
        head, body = cgi(ots, conf, "POST", "/api/v1/share", b"secret=" + value.encode())
        meta = json.loads(body) if body.startswith(b"{") else {}
        ok(meta.get("state") == "new", "share", body[:200])
        head, body = cgi(ots, conf, "POST", "/api/v1/secret/" + meta.get("secret_key", "x"))
        is_(json.loads(body).get("value") if body.startswith(b"{") else None, value, "reveal once")
        head, body = cgi(ots, conf, "POST", "/api/v1/secret/" + meta.get("secret_key", "x"))
        ok(b"Unknown secret" in body, "second reveal: Unknown secret")
        head, body = cgi(ots, conf, "GET", "/")
        ok(b"<form" in body and "text/html" in head, "the create page renders from the installed templates")
        r = subprocess.run([sweep, "-c", conf], capture_output=True, text=True, timeout=60)
        ok(r.returncode == 0 and r.stdout.startswith("ots-sweep: "), "installed ots-sweep runs", r.stderr)

        head, body = cgi(ots, conf, "POST", "/api/v1/share",
                         b"secret=" + canary().encode() + b"&recipient=bob%40example.net", auth=auth)
        meta = json.loads(body) if body.startswith(b"{") else {}
        ok(meta.get("state") == "new" and meta.get("recipient") != [], "share with a recipient (queued)", body[:200])
        r = subprocess.run([mailer, "-c", conf, "-1"], capture_output=True, text=True, timeout=120)
        is_((r.returncode, parse_mailer(r.stdout), r.stderr), (0, {"sent": 1, "retry": 0, "failed": 0}, ""),
            "installed ots-mailer -1 delivers it")
        got = sink.wait(1, 10)
        ok(got == 1 and sink.messages[0].rcpt_tos == ["bob@example.net"]
           and ("/secret/" + meta.get("secret_key", "x")).encode() in sink.messages[0].content,
           "the SMTP server got the message with the share link", [m.rcpt_tos for m in sink.messages])
        sink.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


run(main)
