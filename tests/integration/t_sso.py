#!/usr/bin/env python3
"""Creation for your own people: the shipped sign-in examples
(contrib/apache/ots-sso-basic.conf, contrib/nginx/ots-sso-basic.conf) run
by the real Apache (mod_fcgid) and nginx (spawn-fcgi), with an htpasswd
file made here by apache2-utils' htpasswd, and ots set to web_remote_user
= yes, web_create = authenticated, web_create_networks = 127.0.0.1/32.

Through each server: the create page refused by the server (401 with its
WWW-Authenticate) without credentials or with a wrong password, served
with them (the user named, the My secrets link); a create by a signed-in
user belongs to that account (the receipt row's account, My secrets lists
it, another user's does not); the receipt and the burn need the sign-in;
the secret link is open to anyone and reveals; the account is made on
first use; a Remote-User header does not change who is signed in; from
127.0.0.2 (outside web_create_networks) the create page is refused by ots
(403) while a secret link still opens.  Then with web_auto_account = no:
a user without an account is refused, an existing one is not; with
web_remote_user = no: valid credentials give ots's own 401 (REMOTE_USER
not trusted).  In Chromium (tests/browser/sso.mjs): a stranger gets 401,
the signed-in user creates, finds it on My secrets, burns it with its
button there, and a stranger reveals another through its link; a request
link made on My secrets is answered by a stranger without a sign-in, and
the answer is listed there and revealed.  Plain CGI: REMOTE_USER from the
environment, never HTTP_REMOTE_USER.  The mod_auth_openidc example passes apache2 -t when the
module is installed (else skipped).  Both engines (OTS_TEST_ENGINE).
OTS_SERVERS="name ..." runs only those servers."""

import html
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import SRCDIR, Server, basic, canary, is_, ok, run, skip  # noqa: E402
from servers import APACHE_MODULES, ApacheFcgid, Nginx, each, find_program  # noqa: E402

USERS = {"alice@example.com": "pw-" + canary("a"), "bob@example.com": "pw-" + canary("b"),
         "carol@example.com": "pw-" + canary("c"), "dave@example.com": "pw-" + canary("d")}
MIN_CHECKS = 17  # sso.mjs makes 19
SETTINGS = {"web_remote_user": "yes", "web_create": "authenticated", "web_create_networks": "127.0.0.1/32"}


class SSO:
    """A shipped sign-in example: the htpasswd file is made in the instance
    directory (readable by the server's workers) and named by @HTPASSWD@."""

    def sso_setup(self):
        self.htpasswd = os.path.join(self.tmp, "ots.htpasswd")
        tool = find_program("HTPASSWD", "htpasswd")
        for i, (user, pw) in enumerate(USERS.items()):
            # -m: apr1, which Apache and nginx both read
            r = subprocess.run([tool] + (["-c"] if i == 0 else []) + ["-b", "-m", self.htpasswd, user, pw],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("htpasswd: %s" % r.stderr)
        os.chmod(self.htpasswd, 0o644)
        self.settings.update(SETTINGS)

    def values(self):
        v = super().values()
        v["HTPASSWD"] = self.htpasswd
        return v


class ApacheSSO(SSO, ApacheFcgid):
    name = "apache-sso-basic"
    template = "apache/ots-sso-basic.conf"
    modules = ApacheFcgid.modules + ("auth_basic", "authn_core", "authn_file", "authz_user")

    def __init__(self):
        super().__init__()
        self.sso_setup()


class NginxSSO(SSO, Nginx):
    name = "nginx-sso-basic"
    template = "nginx/ots-sso-basic.conf"

    def __init__(self):
        super().__init__()
        self.sso_setup()


def req(s, method, path, user=None, form=None, source="127.0.0.1", headers=None, password=None):
    """One request from source, signed in as user (Basic, its password or
    password).  (status, headers, text)."""
    h = dict(headers or {})
    if user:
        h["Authorization"] = basic(user, password or USERS[user])
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data.decode("utf-8", "replace")


def receipt_key(hdrs):
    m = re.fullmatch(r"/private/([0-9a-z]{31})", hdrs.get("location", ""))
    return m.group(1) if m else None


def share_key(text):
    m = re.search(r'value="[^"]*/secret/([0-9a-z]{31})"', text)
    return m.group(1) if m else None


def accounts(s):
    r = s.admin("customer", "list")
    return r.stdout


def server_refused(st, hdrs, text, p, what):
    """401 from the web server itself: its challenge, not ots's page."""
    ok(st == 401 and "basic" in hdrs.get("www-authenticate", "").lower() and "Sign-in needed" not in text,
       p + what + ": 401 from the server (WWW-Authenticate Basic)", [st, hdrs, text[:300]])


def create(s, user, value, source="127.0.0.1"):
    st, h, text = req(s, "POST", "/", user, {"secret": value, "ttl": "3600"}, source=source)
    return st, receipt_key(h), text


def phase_main(s, p):
    a, b = "alice@example.com", "bob@example.com"
    st, h, text = req(s, "GET", "/")
    server_refused(st, h, text, p, "GET / without credentials")
    st, h, text = req(s, "GET", "/", a, password="wrong")
    server_refused(st, h, text, p, "GET / with a wrong password")
    st, h, text = req(s, "POST", "/", None, {"secret": "x"})
    server_refused(st, h, text, p, "POST / without credentials")
    ok(a not in accounts(s), p + "no account for alice before her first sign-in")

    st, h, text = req(s, "GET", "/", a)
    ok(st == 200 and a in text and 'href="/my"' in text and 'name="secret"' in text,
       p + "GET / signed in: the create form, alice named, the My secrets link", [st, text[:500]])
    ok(a in accounts(s), p + "alice's account made on first use", accounts(s))

    v = canary("v")
    st, mkey, _ = create(s, a, v)
    ok(st == 303 and mkey, p + "POST / signed in: 303 to the receipt", [st])
    rows = s.sql("SELECT c.custid FROM metadata m JOIN customer c ON c.id = m.customer_id")
    is_(rows, [(a,)], p + "the receipt belongs to alice's account")

    st, h, text = req(s, "GET", "/private/%s" % mkey)
    server_refused(st, h, text, p, "the receipt without credentials")
    st, h, text = req(s, "GET", "/private/%s" % mkey, a)
    skey = share_key(text)
    ok(st == 200 and skey, p + "the receipt signed in: the share link", [st, text[:500]])

    st, h, text = req(s, "GET", "/my", a)
    ok(st == 200 and mkey in text and "Not yet opened" in text and
       'action="/private/%s/burn"' % mkey in text and v not in text,
       p + "My secrets lists it, not yet opened, with a burn button", [st, text[:1500]])
    st, h, text = req(s, "GET", "/my")
    server_refused(st, h, text, p, "My secrets without credentials")

    st, h, text = req(s, "GET", "/my", b, headers={"Remote-User": a, "X-Remote-User": a})
    ok(st == 200 and b in text and mkey not in text and 'id="none"' in text,
       p + "bob's My secrets (a Remote-User: alice header beside): his, none of alice's", [st, text[:800]])
    ok(b in accounts(s), p + "bob's account made on first use")

    # the secret link: no credentials needed, from anywhere
    st, h, text = req(s, "GET", "/secret/%s" % skey, source="127.0.0.2")
    ok(st == 200 and 'method="post"' in text, p + "GET /secret/KEY without credentials: the confirm page",
       [st, h, text[:300]])
    st, h, text = req(s, "POST", "/secret/%s" % skey, None, {}, source="127.0.0.2")
    ok(st == 200 and html.escape(v) in text, p + "POST /secret/KEY without credentials, from 127.0.0.2: revealed",
       [st, text[:300]])
    st, h, text = req(s, "GET", "/my", a)
    ok(st == 200 and mkey in text and "state-received" in text, p + "My secrets: now opened", [st, text[:1500]])

    # burn from My secrets
    st, mkey2, _ = create(s, a, canary("w"))
    st, h, text = req(s, "POST", "/private/%s/burn" % mkey2, None, {})
    server_refused(st, h, text, p, "burn without credentials")
    st, h, text = req(s, "POST", "/private/%s/burn" % mkey2, a, {})
    ok(st == 303 and receipt_key(h) == mkey2, p + "burn signed in: 303 to the receipt", [st, h])
    st, h, text = req(s, "GET", "/my", a)
    ok(st == 200 and re.search(r'data-key="%s"[^<]*>\s*<a[^>]*>[^<]*</a>\s*<dl[^>]*>\s*<dt>[^<]*</dt>'
                               r'<dd class="state state-burned">' % mkey2, text),
       p + "My secrets: the second one burned", [st, text[:2000]])

    # web_create_networks = 127.0.0.1/32
    st, h, text = req(s, "GET", "/", a, source="127.0.0.2")
    ok(st == 403 and "own networks" in text, p + "GET / from 127.0.0.2: refused by ots (web_create_networks)",
       [st, text[:400]])
    st, _mk, text = create(s, a, canary("x"), source="127.0.0.2")
    ok(st == 403, p + "POST / from 127.0.0.2: refused", [st, text[:300]])

    # the API keeps its own accounts
    st, h, text = req(s, "GET", "/api/v1/status")
    is_(st, 200, p + "the API needs no sign-in")


def browser(s, p):
    """tests/browser/sso.mjs in Chromium against this server, signed in as
    dave (a user of its own).  Missing tools are a failure, as in t_web."""
    user = "dave@example.com"
    run_script("sso", ["http://127.0.0.1:%d" % s.port, user, USERS[user], os.path.join(artifacts(), s.name)],
               MIN_CHECKS, server=s, timeout=300, label=p)


def restart(s, **settings):
    s.stop()
    s.settings.update(settings)
    s.start()


def phase_no_auto(s, p):
    restart(s, web_auto_account="no")
    st, h, text = req(s, "GET", "/", "carol@example.com")
    ok(st == 403 and "No account" in text, p + "web_auto_account = no: carol (no account) refused", [st, text[:300]])
    ok("carol@example.com" not in accounts(s), p + "and no account made for her")
    st, h, text = req(s, "GET", "/", "alice@example.com")
    ok(st == 200 and "alice@example.com" in text, p + "web_auto_account = no: alice (an account) signs in")


def phase_untrusted(s, p):
    restart(s, web_remote_user="no", web_auto_account="yes")
    st, h, text = req(s, "GET", "/", "alice@example.com", headers={"Remote-User": "alice@example.com"})
    ok(st == 401 and "Sign-in needed" in text and "www-authenticate" not in h,
       p + "web_remote_user = no: valid credentials, yet ots's own 401 (REMOTE_USER not trusted)", [st, h, text[:300]])
    st, h, text = req(s, "GET", "/my", "alice@example.com")
    ok(st == 401 and "Sign-in needed" in text, p + "web_remote_user = no: My secrets refused too", [st, text[:300]])


def one(s, p):
    phase_main(s, p)
    browser(s, p)
    phase_no_auto(s, p)
    phase_untrusted(s, p)
    s.stop()
    ok(s.stopped_cleanly and not s.leftovers, p + "stopped cleanly, no worker left")


def cgi():
    """Plain CGI: REMOTE_USER is the environment's, never HTTP_REMOTE_USER."""
    p = "cgi: "
    s = Server(conf=dict(SETTINGS, web_create_networks=None, web_dir=os.path.join(SRCDIR, "web")), start=False)
    audit = os.path.join(s.state_dir, "audit.log")
    s.settings["audit_log"] = audit
    s._write_conf()
    r = s.cgi("GET", "/my", env={"HTTP_REMOTE_USER": "alice@example.com"})
    ok(r.status == 401 and b"Sign-in needed" in r.body, p + "HTTP_REMOTE_USER (a header) is no sign-in", [r.status])
    r = s.cgi("POST", "/", body={"secret": canary(), "ttl": "600"}, env={"REMOTE_USER": "Alice@Example.com"})
    ok(r.status == 303 and r.headers.get("location", "").startswith("/private/"),
       p + "REMOTE_USER creates", [r.status, r.stderr])
    mkey = r.headers.get("location", "")[9:]
    r = s.cgi("GET", "/my", env={"REMOTE_USER": "alice@example.com"})
    ok(r.status == 200 and mkey.encode() in r.body and b"alice@example.com" in r.body,
       p + "My secrets lists it", [r.status, r.body[:500]])
    r = s.cgi("GET", "/private/" + mkey)
    ok(r.status == 401, p + "the receipt without REMOTE_USER: 401", [r.status])
    try:
        with open(audit) as f:
            lines = [json.loads(x) for x in f]
    except (OSError, ValueError) as e:
        lines = [str(e)]
    made = [x for x in lines if isinstance(x, dict) and x.get("event") == "account_add"]
    ok(len(made) == 1 and made[0].get("account") == "alice@example.com" and made[0].get("outcome") == "ok",
       p + "the audit log records the account made on first use, once", lines)
    ok(any(isinstance(x, dict) and x.get("event") == "create" and x.get("account") == "alice@example.com"
           for x in lines), p + "and the create as alice's", lines)
    s.close()


def openidc():
    mod = os.path.join(APACHE_MODULES, "mod_auth_openidc.so")
    if not os.path.exists(mod):
        skip("apache-sso-openidc: apache2 -t", "mod_auth_openidc not installed")
        return
    tmp = Server(start=False).tmp
    with open(os.path.join(SRCDIR, "contrib", "apache", "ots-sso-openidc.conf")) as f:
        site = f.read()
    path = os.path.join(tmp, "openidc.conf")
    with open(path, "w") as f:
        f.write("ServerRoot %s\nListen 127.0.0.1:1\nErrorLog %s/err.log\nPidFile %s/pid\n" % (tmp, tmp, tmp))
        for m in ("mpm_event", "authz_core", "alias", "authz_host", "fcgid", "auth_openidc"):
            f.write("LoadModule %s_module %s/mod_%s.so\n" % (m, APACHE_MODULES, m))
        f.write(site.replace("*:443", "127.0.0.1:1"))
    r = subprocess.run([find_program("APACHE2", "apache2", "httpd"), "-t", "-f", path], capture_output=True,
                       text=True, timeout=60)
    ok(r.returncode == 0, "apache-sso-openidc: apache2 -t", r.stderr)


def main():
    only = os.environ.get("OTS_SERVERS", "").split()
    for cls in (ApacheSSO, NginxSSO):
        if not only or cls.name in only:
            each(cls, one)
    if not only:
        cgi()
        openidc()


if __name__ == "__main__":
    run(main)
