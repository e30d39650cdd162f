#!/usr/bin/env python3
"""The pages' languages.

1. The catalogues are complete: the messages are extracted afresh from the
   sources and templates (po/extract-templates.sh, xgettext with
   po/Makevars' options), and every language of po/LINGUAS must translate
   each of them (not empty, not fuzzy, formats matching: msgfmt -c).  A new
   {{_ text}} or _("text") without its translations fails here.
2. The real server (FastCGI, sandboxed worker, both engines) and plain CGI
   answer in the language of ?lang= (remembered in a cookie), else the lang
   cookie, else Accept-Language, else English; <html lang dir>, Vary; the
   API stays English.
3. tests/browser/i18n.mjs: every language in headless Chromium (see there).
"""

import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import SRCDIR, Server, diag, is_, ok, run  # noqa: E402

PO = os.path.join(SRCDIR, "po")
MIN_CHECKS = 80  # i18n.mjs makes about 110


def linguas():
    with open(os.path.join(PO, "LINGUAS")) as f:
        return [w for line in f for w in line.split("#")[0].split()]


def po_texts(lang):
    """msgid -> msgstr of po/LANG.po (single-line entries: --no-wrap)."""
    out, msgid = {}, None
    with open(os.path.join(PO, lang + ".po"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r'(msgid|msgstr) "(.*)"$', line.rstrip("\n"))
            if not m:
                continue
            text = json.loads('"' + m.group(2) + '"')
            if m.group(1) == "msgid":
                msgid = text
            elif msgid:
                out[msgid] = text
    return out


def xgettext_options():
    """XGETTEXT_OPTIONS of po/Makevars (the same as `make update-po`)."""
    with open(os.path.join(PO, "Makevars")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^XGETTEXT_OPTIONS\s*=(.*)$", text, re.M)
    return shlex.split(m.group(1))


def catalogues():
    langs = linguas()
    ok(len(langs) >= 6, "po/LINGUAS lists the languages", langs)
    tmp = tempfile.mkdtemp(prefix="ots-i18n-")
    try:
        tc = os.path.join(tmp, "templates.c")
        with open(tc, "w") as f:
            p = subprocess.run(["sh", os.path.join(PO, "extract-templates.sh"), SRCDIR],
                               stdout=f, stderr=subprocess.PIPE, text=True)
        ok(p.returncode == 0, "the templates' texts extract", p.stderr)
        with open(os.path.join(PO, "POTFILES.in")) as f:
            files = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
        ok("po/templates.c" in files, "POTFILES.in lists po/templates.c", files)
        srcs = [tc if n == "po/templates.c" else n for n in files]
        pot = os.path.join(tmp, "ots.pot")
        p = subprocess.run(["xgettext"] + xgettext_options() + ["-o", pot] + srcs,
                           cwd=SRCDIR, capture_output=True, text=True)
        if not ok(p.returncode == 0, "xgettext reads the sources", p.stderr):
            return
        with open(pot, encoding="utf-8") as f:
            n = len(re.findall(r"^msgid ", f.read(), re.M)) - 1
        ok(n >= 70, "the fresh .pot has the pages' texts (%d)" % n)
        for lang in langs:
            merged = os.path.join(tmp, lang + ".po")
            p = subprocess.run(["msgmerge", "--quiet", "-o", merged, os.path.join(PO, lang + ".po"), pot],
                               capture_output=True, text=True)
            if not ok(p.returncode == 0, "%s: msgmerge with the fresh .pot" % lang, p.stderr):
                continue
            p = subprocess.run(["msgfmt", "-c", "--statistics", "-o", os.devnull, merged],
                               capture_output=True, text=True)
            stats = p.stderr.strip()
            ok(p.returncode == 0 and "untranslated" not in stats and "fuzzy" not in stats
               and re.match(r"^%d translated messages?\.$" % n, stats) is not None,
               "%s: every message translated (%s)" % (lang, stats),
               [p.stderr] + untranslated(merged))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def untranslated(po):
    p = subprocess.run(["msgattrib", "--untranslated", "--only-fuzzy", po], capture_output=True, text=True)
    q = subprocess.run(["msgattrib", "--untranslated", po], capture_output=True, text=True)
    return ["missing: " + m for m in re.findall(r'^msgid "(.+)"$', p.stdout + q.stdout, re.M)][:20]


def h1(body):
    m = re.search(r"<h1>(.*?)</h1>", body, re.S)
    return html.unescape(m.group(1)) if m else None


def html_attrs(body):
    m = re.search(r'<html lang="([^"]*)" dir="([^"]*)">', body)
    return (m.group(1), m.group(2)) if m else None


DIRS = {"ar": "rtl"}


def server(s, langs):
    texts = {lang: po_texts(lang) for lang in langs}
    texts["en"] = {}

    def tr(lang, msgid):
        return texts[lang].get(msgid, msgid)

    for lang in ["en"] + langs:
        r = s.request("GET", "/", headers={"Accept-Language": lang + ";q=0.9, xx"})
        body = r.body.decode()
        is_(html_attrs(body), (lang, DIRS.get(lang, "ltr")), "%s: <html lang dir>" % lang)
        is_(h1(body), tr(lang, "Share a secret"), "%s: the create page's heading" % lang)
        ok(tr(lang, "Create a secret link") in html.unescape(body), "%s: the button's text" % lang)
        r = s.request("GET", "/no/such/page", headers={"Accept-Language": lang})
        body = r.body.decode()
        ok(r.status == 404 and h1(body) == tr(lang, "Not found")
           and tr(lang, "There is no page here.") in html.unescape(body),
           "%s: the error page" % lang, body[:300])
    r = s.request("GET", "/", headers={"Accept-Language": "de"})
    ok("accept-language" in r.headers.get("vary", "").lower() and
       "cookie" in r.headers.get("vary", "").lower(), "Vary: Accept-Language, Cookie", r.headers)
    ok("set-cookie" not in r.headers, "no cookie without a choice", r.headers)

    cases = [
        ("pt-BR,pt;q=0.9,en;q=0.8", None, "pt"),
        ("en-US,en;q=0.9,de;q=0.8", None, "en"),
        ("fr;q=0.3, ja;q=0.8, de;q=0.5", None, "ja"),
        ("xx-YY, zz", None, "en"),
        ("de", "lang=ar", "ar"),
        ("de", "other=1; lang=es", "es"),
        ("de", "lang=xx", "de"),
        (None, None, "en"),
    ]
    for al, cookie, want in cases:
        hd = {}
        if al:
            hd["Accept-Language"] = al
        if cookie:
            hd["Cookie"] = cookie
        r = s.request("GET", "/", headers=hd)
        is_(html_attrs(r.body.decode())[0], want, "Accept-Language %r, Cookie %r: %s" % (al, cookie, want))

    # ?lang= sets the cookie and wins over the header
    r = s.request("GET", "/?lang=fr", headers={"Accept-Language": "de", "Cookie": "lang=ja"})
    is_(html_attrs(r.body.decode())[0], "fr", "?lang=fr wins over the cookie and the header")
    c = r.headers.get("set-cookie", "")
    ok(re.match(r"lang=fr;", c) and "Path=/" in c and "SameSite=Lax" in c and "HttpOnly" in c,
       "?lang=fr sets the cookie lang=fr; Path=/; SameSite=Lax; HttpOnly", c)
    r = s.request("GET", "/?lang=xx", headers={"Accept-Language": "es"})
    ok("set-cookie" not in r.headers and html_attrs(r.body.decode())[0] == "es",
       "?lang=xx: no cookie, Accept-Language decides", r.headers)

    # no request inherits the one before's language (the workers are reused)
    leaks = []
    for lang in langs * 2:
        s.request("GET", "/", headers={"Accept-Language": lang})
        got = html_attrs(s.request("GET", "/").body.decode())
        body = s.request("GET", "/nope").body.decode()
        if got != ("en", "ltr") or h1(body) != "Not found":
            leaks.append((lang, got, h1(body)))
    ok(not leaks, "a request without a choice is English, whatever came before", leaks)

    # a secret's pages: receipt, confirm, reveal
    for lang in ["de", "ar", "ja"]:
        hd = {"Accept-Language": lang}
        r = s.request("POST", "/", body={"secret": "s3cr3t-" + lang, "passphrase": "pw", "ttl": "604800"},
                      headers=hd)
        loc = r.headers.get("location", "")
        if not ok(r.status == 303 and loc.startswith("/private/"), "%s: created" % lang, (r.status, loc)):
            continue
        body = html.unescape(s.request("GET", loc, headers=hd).body.decode())
        ok(h1(body) == tr(lang, "Your secret link") and tr(lang, "Burn this secret") in body
           and tr(lang, "Not yet opened") in body and tr(lang, "It works once, and only with the passphrase.") in body,
           "%s: the receipt" % lang, body[:600])
        days = {"de": r"^[67] Tage, \d+ Stunden?$", "ar": r"^[67] أيام و\d+ ساعة$",
                "ja": r"^[67]日\d+時間$"}[lang]
        dds = re.findall(r"<dd>(.*?)</dd>", body)
        ok(any(re.match(days, d) for d in dds), "%s: the time left in words (%s)" % (lang, days), dds)
        link = re.search(r'id="link" class="mono" type="text" value="[^"]*(/secret/[^"]+)"', body)
        if not ok(link, "%s: the receipt shows the link" % lang):
            continue
        path = link.group(1)
        body = html.unescape(s.request("GET", path, headers=hd).body.decode())
        ok(h1(body) == tr(lang, "Someone sent you a secret") and tr(lang, "View the secret") in body,
           "%s: the confirm page" % lang, body[:400])
        r = s.request("POST", path, body={"passphrase": "wrong"}, headers=hd)
        body = html.unescape(r.body.decode())
        ok(r.status == 400 and tr(lang, "That passphrase is not right.") in body,
           "%s: a wrong passphrase, said in the language" % lang, body[:400])
        r = s.request("POST", path, body={"passphrase": "pw"}, headers={"Cookie": "lang=" + lang})
        body = html.unescape(r.body.decode())
        ok(r.status == 200 and h1(body) == tr(lang, "Your secret") and "s3cr3t-" + lang in body,
           "%s (cookie): the reveal page shows the secret" % lang, body[:400])
        ok('?lang=' not in body, "%s: no language links on the reveal page (they would lose the secret)" % lang)
        r = s.request("GET", path, headers=hd)
        ok(r.status == 404 and h1(html.unescape(r.body.decode())) == tr(lang, "This secret is not available"),
           "%s: the gone page" % lang)

    # the create page's own errors
    r = s.request("POST", "/", body={"secret": "", "ttl": "3600"}, headers={"Accept-Language": "fr"})
    body = html.unescape(r.body.decode())
    ok(r.status == 400 and tr("fr", "You did not provide anything to share") in body
       and "You did not provide" not in body, "fr: the create page's error", body[:500])

    # the API stays English
    r = s.request("POST", "/api/v1/share", body={"secret": ""}, headers={"Accept-Language": "de", "Cookie": "lang=de"})
    ok(r.json and "You did not provide anything" in str(r.json.get("message")),
       "the API's errors stay English", r.body[:300])

    # plain CGI answers in the language too
    r = s.cgi("GET", "/", env={"HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9"})
    body = r.body.decode()
    ok(r.status == 200 and html_attrs(body) == ("fr", "ltr") and h1(body) == tr("fr", "Share a secret"),
       "CGI: French from Accept-Language", (r.status, r.stderr, body[:300]))
    r = s.cgi("GET", "/", query="lang=ar")
    ok(html_attrs(r.body.decode()) == ("ar", "rtl") and r.headers.get("set-cookie", "").startswith("lang=ar;"),
       "CGI: ?lang=ar sets the cookie", r.headers)
    r = s.cgi("GET", "/")
    is_(html_attrs(r.body.decode()), ("en", "ltr"), "CGI: English without a choice")


def browser(s):
    """tests/browser/i18n.mjs in Chromium, with po/LANG.po's texts."""
    texts = {lang: po_texts(lang) for lang in linguas()}
    spec = os.path.join(s.tmp, "texts.json")
    with open(spec, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    args = ["http://127.0.0.1:%d" % s.port, artifacts(), spec]
    if os.environ.get("OTS_UPDATE_SCREENSHOTS") == "1":
        args.append(os.path.join(SRCDIR, "doc", "screenshots"))
    diag("screenshots in %s" % args[1])
    run_script("i18n", args, MIN_CHECKS)


def main():
    catalogues()
    langs = linguas()
    s = Server()
    diag("engine: %s" % s.engine)
    server(s, langs)
    if os.environ.get("OTS_I18N_NO_BROWSER") != "1":
        browser(s)
    ok(s.alive(), "the server is still up", s.logs())
    crashes = [ln for ln in s.logs().splitlines() if "signal" in ln.lower() or "died" in ln.lower()]
    ok(not crashes, "no worker died", crashes)


if __name__ == "__main__":
    run(main)
