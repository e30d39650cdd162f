#!/usr/bin/env python3
"""ots mounted below a path prefix (/ots/) behind real lighttpd and Apache.

For each of the shipped prefix examples (contrib/lighttpd/ots-fastcgi-
prefix.conf, contrib/apache/ots-fcgid-prefix.conf; rendered and started as
tests/integration/servers.py does for t_servers.py) with base_url =
http://127.0.0.1:PORT/ots: the start page and its stylesheet load; a form
post creates and its 303 goes to /ots/private/KEY; the receipt's links,
stylesheet and script load (200); the share link is under /ots/secret/
and reveals; burning redirects below the prefix; a cross-site form post is
still refused (and a same-site one accepted); every href, src and action
of every page stays below /ots/.  Then tests/browser/qr.mjs runs against
the prefixed base URL (form, QR code, copy buttons, no request outside
/ots/).

Needs root, lighttpd, apache2 with mod_fcgid, and what t_qr.py needs.
"""

import os
import re
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import SRCDIR, canary, is_, ok, run  # noqa: E402
from servers import ApacheFcgid, LighttpdFastCGI, each  # noqa: E402
from t_qr import browser, csp_checks  # noqa: E402

PREFIX = "/ots"
LINK_RE = re.compile(rb'\s(?:href|src|action)\s*=\s*"([^"]*)"')


class Prefixed:
    """A Deployed server whose app is mounted at PREFIX: base_url says so,
    and request() paths are below it (bare=True: as given)."""

    def __init__(self):
        super().__init__()
        # the real static files, as an installation puts them
        for f in os.listdir(os.path.join(SRCDIR, "web", "static")):
            shutil.copy(os.path.join(SRCDIR, "web", "static", f), os.path.join(self.static_dir, f))
            os.chmod(os.path.join(self.static_dir, f), 0o644)

    def _write_conf(self):
        self.settings["base_url"] = "http://127.0.0.1:%d%s" % (self.port, PREFIX)
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/integration/t_prefix.py\n")
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))

    def request(self, method, path, *a, bare=False, **kw):
        if not path.startswith("/"):
            path = "/api/v1/" + path
        if not bare:
            path = PREFIX + path
        return super().request(method, path, *a, **kw)


class LighttpdPrefix(Prefixed, LighttpdFastCGI):
    name = "lighttpd-fastcgi-prefix"
    template = "lighttpd/ots-fastcgi-prefix.conf"


class ApachePrefix(Prefixed, ApacheFcgid):
    name = "apache-fcgid-prefix"
    template = "apache/ots-fcgid-prefix.conf"


def links(body):
    return [urllib.parse.unquote(x.decode()) for x in LINK_RE.findall(body)]


def flows(s, p):
    base = "http://127.0.0.1:%d%s" % (s.port, PREFIX)
    me = "http://127.0.0.1:%d" % s.port
    same = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    seen = {}  # page -> its links

    def page(desc, method, path, body=None, headers=None, status=200):
        r = s.request(method, path, body=body, headers=headers, bare=True)
        is_(r.status, status, p + "%s: %s %s is HTTP %d" % (desc, method, path, status))
        if r.headers.get("content-type", "").startswith("text/html"):
            # as a browser resolves them (the language links are "?lang=xx")
            seen[desc] = [urllib.parse.urljoin(path, x) for x in links(r.body)]
        return r

    r = page("start page", "GET", PREFIX + "/")
    ok(b'action="%s/"' % PREFIX.encode() in r.body, p + "the create form posts to %s/" % PREFIX,
       seen.get("start page"))
    r = s.request("GET", PREFIX, bare=True)
    ok(r.status in (301, 302, 308) and urllib.parse.urlsplit(r.headers.get("location", "")).path == PREFIX + "/",
       p + "GET %s redirects to %s/" % (PREFIX, PREFIX), (r.status, r.headers.get("location")))

    # create through the form, as a browser posts it
    v = canary()
    r = page("create", "POST", PREFIX + "/", body={"secret": v, "ttl": "3600"}, headers=same, status=303)
    loc = r.headers.get("location", "")
    m = re.fullmatch(r"%s/private/([0-9a-z]{20,})" % PREFIX, loc)
    ok(m, p + "the form's 303 goes to %s/private/KEY" % PREFIX, loc)
    mkey = m.group(1) if m else "x"
    r = page("receipt", "GET", loc or PREFIX + "/private/x")
    share = re.search(rb'id="link"[^>]*value="([^"]*)"', r.body)
    share = share.group(1).decode() if share else ""
    ok(re.fullmatch(re.escape(base) + r"/secret/[0-9a-z]{20,}", share), p + "the share link is under %s/secret/"
       % base, share)
    ok(b'id="qr"' in r.body, p + "the receipt has its QR code")
    for link in sorted(set(seen.get("receipt", []))):
        if "/burn" in link:
            continue
        path = urllib.parse.urlsplit(link).path
        rr = s.request("GET", path, bare=True)
        is_(rr.status, 200, p + "the receipt's link %s loads" % re.sub(r"[0-9a-z]{20,}", "KEY", path))
    css = s.request("GET", PREFIX + "/static/ots.css", bare=True)
    ok(css.status == 200 and b"prefers-color-scheme" in css.body, p + "the stylesheet loads below the prefix",
       css.status)
    js = s.request("GET", PREFIX + "/static/copy.js", bare=True)
    ok(js.status == 200 and b"data-copy" in js.body, p + "copy.js loads below the prefix", js.status)

    # the link: confirmation, a cross-site post refused, the reveal
    spath = urllib.parse.urlsplit(share).path or PREFIX + "/secret/x"
    r = page("confirmation page", "GET", spath)
    ok(('action="%s"' % spath).encode() in r.body, p + "the confirmation form posts to the link itself",
       seen.get("confirmation page"))
    page("cross-site post", "POST", spath, body={}, headers={"Origin": "http://evil.example",
                                                            "Sec-Fetch-Site": "cross-site"}, status=403)
    r = page("reveal", "POST", spath, body={}, headers={"Origin": me})
    ok(v.encode() in r.body, p + "the reveal (Origin %s) shows the value" % me)
    page("used link", "GET", spath, status=404)

    # burn another, from its receipt's form
    r = page("create 2", "POST", PREFIX + "/", body={"secret": canary()}, headers=same, status=303)
    loc = r.headers.get("location", "")
    r = page("receipt 2", "GET", loc or PREFIX + "/private/x")
    burn = [x for x in seen.get("receipt 2", []) if x.endswith("/burn")]
    ok(burn == [loc + "/burn"], p + "the burn form posts to %s/private/KEY/burn" % PREFIX, burn)
    r = page("burn", "POST", burn[0] if burn else loc + "/burn", body={}, headers=same, status=303)
    is_(r.headers.get("location"), loc, p + "burning redirects to the receipt below the prefix")
    r = page("burned receipt", "GET", loc)
    ok(b"Burned" in r.body, p + "the receipt says burned")
    page("no such page", "GET", PREFIX + "/nope", status=404)

    outside = ["%s: %s" % (d, x) for d, ls in seen.items() for x in ls
               if not (x.startswith(PREFIX + "/") or x.startswith(base + "/"))]
    ok(not outside, p + "no href, src or action of %d pages points outside %s/" % (len(seen), PREFIX), outside)
    ok(sum(len(x) for x in seen.values()) > 10, p + "the pages had links to check", seen)
    return mkey


def one(s, p):
    flows(s, p)
    csp_checks(_Bare(s), PREFIX, p, app_static=False)
    browser("http://127.0.0.1:%d%s" % (s.port, PREFIX), p)
    ok(s.alive(), p + "the server is still up", s.logs())


class _Bare:
    """The server as csp_checks uses it: API calls below the prefix, page
    paths as given (csp_checks puts the prefix on them)."""

    def __init__(self, s):
        self.s, self.port = s, s.port

    def request(self, method, path, **kw):
        if not path.startswith("/"):
            return self.s.request(method, path, **kw)
        return self.s.request(method, path, bare=True, **kw)

    def create(self, value):
        return self.s.create(value)

    def reveal(self, key):
        return self.s.reveal(key)


def main():
    for cls in (LighttpdPrefix, ApachePrefix):
        each(cls, one)


if __name__ == "__main__":
    run(main)
