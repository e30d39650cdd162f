#!/usr/bin/env python3
"""File secrets, end to end on the real binary behind lighttpd (and as plain
CGI), on the engine of OTS_TEST_ENGINE:

- tests/browser/files.mjs in Chromium: upload 300 KiB of every byte value
  through the create page, open the link in a fresh context, click "View
  the secret", and compare the download byte for byte; a hostile file name
  comes back sanitised; a second opening says gone; one byte over the
  anonymous limit is refused with a clear error; text and a file at once
  are refused;
- by hand over HTTP: the exact download headers (Content-Disposition with
  its ASCII fallback and filename*, octet-stream, nosniff, no-store), the
  receipt shows neither name nor size, neither the name nor the content is
  in the database's files (SQLite file and WAL, or PostgreSQL's relation
  files and WAL) while stored, link-preview bots' GETs and HEADs consume
  nothing, an over-limit upload stores nothing, a body over body_max is a
  413 page;
- plain CGI: upload and download;
- the API extension: a multipart "file" part on /share, and a reveal with
  file_name, file_size and file_base64; a text secret's reveal keeps
  exactly its v1 members;
- worker memory: peak RSS (VmHWM) of the one worker after uploads and
  downloads of 1, 5 and 10 MiB (figures as diagnostics, and a bound).

Needs node, Chromium and playwright-core as t_web.py (missing: a failure).
"""

import base64
import os
import re
import secrets
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import artifacts, run_script  # noqa: E402
from otstest import SANITIZED, Server, canary, count_bytes, diag, is_, ok, run, skip  # noqa: E402

MIN_CHECKS = 20
ANON_LIMIT = 1 << 20
MiB = 1 << 20

BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",
    "curl/7.88.1",
]


def every_byte(size, marker=b""):
    """size random bytes holding every byte value (and marker at 4096)."""
    b = bytearray(secrets.token_bytes(size))
    for i in range(256):
        b[(i * 997) % size] = i
    if marker:
        b[4096:4096 + len(marker)] = marker
    return bytes(b)


def upload_body(filename, content, fields=(("secret", ""), ("ttl", "3600"), ("action", "create"))):
    """What a browser sends from the create page: the text fields, and a
    file part whose filename is written as a quoted-string (quotes and
    backslashes as quoted-pairs)."""
    boundary = "----otsfiles" + secrets.token_hex(8)
    bnd = boundary.encode()
    out = b""
    for name, value in fields:
        out += (b"--" + bnd + b'\r\nContent-Disposition: form-data; name="' + name.encode()
                + b'"\r\n\r\n' + value.encode() + b"\r\n")
    if filename is not None:
        q = filename.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        out += (b"--" + bnd + b'\r\nContent-Disposition: form-data; name="file"; filename="' + q
                + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    out += b"--" + bnd + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def secret_count(s):
    return s.sql("SELECT count(*) FROM secret")[0][0]


def receipt_link(s, r, what):
    """The secret key on the receipt a create's 303 leads to, and that page."""
    loc = r.headers.get("location", "")
    m = re.match(r"^/private/([0-9a-z]+)$", loc)
    if not ok(r.status == 303 and m, "%s: 303 to the receipt" % what,
              "status %r location %r body %r" % (r.status, loc, r.body[:300])):
        return None, ""
    page = s.request("GET", loc)
    k = re.search(r"/secret/([0-9a-z]+)", page.body.decode("utf-8", "replace"))
    ok(page.status == 200 and k, "%s: the receipt has the link" % what, page.body[:300])
    return (k.group(1) if k else None), page.body.decode("utf-8", "replace")


def browser_run(s):
    """files.mjs in Chromium against s: its checks, and its facts."""
    return run_script("files", ["http://127.0.0.1:%d" % s.port, artifacts(), str(ANON_LIMIT)], MIN_CHECKS)


def check_download(r, content, want_cd, what):
    is_(r.status, 200, "%s: 200" % what)
    is_(r.headers.get("content-type"), "application/octet-stream", "%s: application/octet-stream" % what)
    is_(r.headers.get("content-disposition"), want_cd, "%s: Content-Disposition" % what)
    is_(r.headers.get("x-content-type-options"), "nosniff", "%s: nosniff" % what)
    is_(r.headers.get("cache-control"), "no-store", "%s: Cache-Control: no-store" % what)
    ok(r.body == content, "%s: the bytes, byte-identical (%d)" % (what, len(content)),
       "got %d bytes" % len(r.body))


def by_hand(s):
    name_canary = canary("nm")
    content_canary = canary("ct").encode()
    content = every_byte(200 * 1024, content_canary)
    hostile = '..\\evil"/../' + name_canary + ' \u00e9t\u00e9\u202e.txt'
    want_name = "_evil__._" + name_canary + " \u00e9t\u00e9_.txt"
    fallback = "_evil__._" + name_canary + " _t__.txt"
    want_cd = ("attachment; filename=\"%s\"; filename*=UTF-8''%s"
               % (fallback, urllib.parse.quote(want_name, safe="!#$&+-.^_`|~")))
    r = s.request("POST", "/", body=upload_body(hostile, content))
    skey, receipt = receipt_link(s, r, "upload by hand")
    if skey is None:
        return
    ok(name_canary not in receipt and "204800" not in receipt and "200 KiB" not in receipt,
       "the receipt shows neither the file's name nor its size")
    hits = count_bytes(s.db_files(), [name_canary.encode(), content_canary,
                                      name_canary.encode("utf-16-le")])
    ok(sum(hits.values()) == 0, "the stored file: neither its name nor its content in the database's "
       "files (%d files scanned)" % len(hits), hits)
    # link-preview bots: GET and HEAD answer the confirm page, and consume nothing
    for i, ua in enumerate(BOTS):
        method = "HEAD" if i % 2 else "GET"
        b = s.request(method, "/secret/" + skey, headers={"User-Agent": ua, "Accept": "*/*"})
        ok(b.status == 200 and (method == "HEAD" or b"View the secret" in b.body)
           and b"octet-stream" not in b.headers.get("content-type", "").encode(),
           "preview bot %s (%s): the confirm page, no download" % (ua.split()[0], method),
           "status %r type %r" % (b.status, b.headers.get("content-type")))
    r = s.request("POST", "/secret/" + skey, body=b"", content_type="application/x-www-form-urlencoded")
    check_download(r, content, want_cd, "download after the bots")
    r = s.request("POST", "/secret/" + skey, body=b"", content_type="application/x-www-form-urlencoded")
    ok(r.status == 404 and b"This secret is not available" in r.body, "a second download: gone",
       r.status)

    # over the anonymous limit: refused, nothing stored
    before = secret_count(s)
    r = s.request("POST", "/", body=upload_body("big.bin", every_byte(ANON_LIMIT + 1)))
    ok(r.status == 413 and b"The file is larger than this server takes" in r.body,
       "1 MiB + 1 byte: 413 with a clear error on the create page", (r.status, r.body[:300]))
    is_(secret_count(s), before, "over the limit: nothing stored")
    r = s.request("POST", "/", body=upload_body("ok.bin", every_byte(ANON_LIMIT)))
    skey2, _ = receipt_link(s, r, "exactly 1 MiB")
    # text and a file at once
    r = s.request("POST", "/", body=upload_body("x.bin", b"abc", fields=(("secret", "text"),)))
    ok(r.status == 400 and b"Send either a text or a file, not both" in r.body,
       "text and a file: 400 with a clear error", (r.status, r.body[:300]))
    # a body beyond body_max (10 MiB + 64 KiB by default)
    r = s.request("POST", "/", body=upload_body("huge.bin", b"\0" * (11 * MiB)))
    ok(r.status == 413, "a body over body_max: 413", r.status)
    is_(secret_count(s), before + 1, "only the 1 MiB file was stored")
    # an empty file input (no file chosen) is no file: the text is shared
    r = s.request("POST", "/", body=upload_body("", b"", fields=(("secret", "just text"),)))
    skey3, _ = receipt_link(s, r, "text with an empty file input")
    if skey3:
        r = s.request("POST", "/secret/" + skey3, body=b"")
        ok(r.status == 200 and b"just text" in r.body and r.headers.get("content-type", "")
           .startswith("text/html"), "with no file chosen, the text is the secret", r.status)


def api(s):
    content = every_byte(5000)
    r = s.request("POST", "share", body=upload_body("api.bin", content, fields=(("ttl", "600"),)))
    ok(r.status == 200 and isinstance(r.json, dict) and r.json.get("secret_key"),
       "API: a multipart file part on /share", (r.status, r.body[:300]))
    if not (isinstance(r.json, dict) and r.json.get("secret_key")):
        return
    r = s.reveal(r.json["secret_key"])
    j = r.json if isinstance(r.json, dict) else {}
    ok(r.status == 200 and j.get("value") == "" and j.get("file_name") == "api.bin"
       and j.get("file_size") == 5000, "API: the reveal of a file: value \"\", file_name, file_size",
       r.body[:300])
    ok(base64.b64decode(j.get("file_base64", "")) == content, "API: file_base64 holds the bytes")
    t = canary()
    m = s.create(t)
    r = s.reveal(m["secret_key"])
    ok(r.status == 200 and isinstance(r.json, dict) and sorted(r.json) ==
       ["secret_key", "share_domain", "value"] and r.json["value"] == t,
       "API: a text secret's reveal keeps exactly its v1 members", r.body[:300])
    # curl -F secret=@notes.txt (a text file in the secret field) is still text
    body, ctype = upload_body("notes.txt", b"text in a file", fields=())
    r = s.request("POST", "share", body=body.replace(b'name="file"', b'name="secret"'), content_type=ctype)
    ok(r.status == 200 and isinstance(r.json, dict), "API: -F secret=@notes.txt still shares text",
       r.body[:200])
    if isinstance(r.json, dict) and r.json.get("secret_key"):
        r = s.reveal(r.json["secret_key"])
        ok(isinstance(r.json, dict) and r.json.get("value") == "text in a file" and "file_name" not in r.json,
           "API: ... and reveals it as text, as before", r.body[:200])


def cgi(s):
    content = every_byte(64 * 1024)
    r = s.cgi("POST", "/", body=upload_body("cgi.bin", content))
    loc = r.headers.get("location", "")
    m = re.match(r"^/private/([0-9a-z]+)$", loc)
    ok(r.status == 303 and m, "CGI: upload, 303 to the receipt", (r.status, r.stderr[-300:], r.body[:200]))
    if not m:
        return
    page = s.cgi("GET", loc)
    k = re.search(rb"/secret/([0-9a-z]+)", page.body)
    if not ok(k, "CGI: the receipt has the link"):
        return
    skey = k.group(1).decode()
    r = s.cgi("GET", "/secret/" + skey, env={"HTTP_USER_AGENT": BOTS[0]})
    ok(r.status == 200 and b"View the secret" in r.body, "CGI: a bot's GET, the confirm page")
    r = s.cgi("POST", "/secret/" + skey, body=b"")
    is_(r.status, 200, "CGI: download 200")
    is_(r.headers.get("content-type"), "application/octet-stream", "CGI: octet-stream")
    is_(r.headers.get("content-disposition"), "attachment; filename=\"cgi.bin\"; filename*=UTF-8''cgi.bin",
        "CGI: Content-Disposition")
    ok(r.body == content, "CGI: the bytes, byte-identical", "%d bytes" % len(r.body))
    ok(r.rc == 0, "CGI: exit 0", r.stderr[-300:])


def wipe(s):
    """Plain CGI runs under tests/integration/wipeshim.so (t_wipe.py's
    allocator shim): no freed block of the upload or of the download holds
    the file's content or its name."""
    import tempfile
    import t_wipe
    import wipereport
    why = t_wipe.unusable()
    if why:
        skip("wipe: freed blocks of a file's upload and download", why)
        return
    if not ok(os.path.exists(t_wipe.SHIM), "wipe: the shim is built", t_wipe.SHIM):
        return
    c_content, c_name = canary("wf"), canary("wn")
    content = every_byte(100 * 1024, c_content.encode())
    tmp = tempfile.mkdtemp(prefix="ots-files-wipe-")
    report = os.path.join(tmp, "report")
    env = {"LD_PRELOAD": t_wipe.SHIM, "OTS_WIPE_REPORT": report,
           "OTS_WIPE_CANARIES": "%s,%s" % (c_content, c_name)}
    r = s.cgi("POST", "/", body=upload_body("w-" + c_name + ".bin", content), extra_env=env)
    loc = r.headers.get("location", "")
    page = s.cgi("GET", loc) if loc else None
    k = re.search(rb"/secret/([0-9a-z]+)", page.body) if page else None
    if not ok(r.status == 303 and k, "wipe: an upload through CGI under the shim", r.stderr[-300:]):
        return
    d = s.cgi("POST", "/secret/" + k.group(1).decode(), body=b"", extra_env=env)
    ok(d.status == 200 and d.body == content, "wipe: the download through CGI under the shim")
    starts, exits, hits = wipereport.parse_report(report)
    ok(len(starts) == 2 and set(starts) <= set(exits), "wipe: the shim watched both runs to their end",
       "starts %r exits %r" % (list(starts), list(exits)))
    ok(not hits, "wipe: no freed block held the file's content or name (upload and download)",
       [h.line[:400] for h in hits[:5]])
    shutil.rmtree(tmp, ignore_errors=True)


def vmhwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])  # KiB
    return 0


def memory():
    """One worker; uploads and downloads of 1, 5, 10 MiB, its peak RSS
    after each (VmHWM only grows: increasing sizes)."""
    s = Server(max_procs=1, conf={"anon_file_size_max": str(10 * MiB)})
    try:
        s.request("GET", "/")
        pids = s.worker_pids()
        if not ok(pids, "memory: the worker's pid", pids):
            return
        base = max(vmhwm(p) for p in pids)
        figures = []
        for size in (1, 5, 10):
            content = every_byte(size * MiB)
            r = s.request("POST", "/", body=upload_body("m.bin", content))
            skey, _ = receipt_link(s, r, "memory: %d MiB upload" % size)
            up = max(vmhwm(p) for p in s.worker_pids())
            if skey:
                d = s.request("POST", "/secret/" + skey, body=b"")
                ok(d.status == 200 and d.body == content, "memory: %d MiB download intact" % size)
            down = max(vmhwm(p) for p in s.worker_pids())
            figures.append((size, up, down))
            diag("memory: %2d MiB file: worker VmHWM %d KiB after upload, %d KiB after download "
                 "(baseline %d KiB): %.1f MiB of peak per MiB of file"
                 % (size, up, down, base, (down - base) / 1024.0 / size))
        size, up, down = figures[-1]
        per = (down - base) / 1024.0 / size
        if SANITIZED or os.environ.get("OTS_WRAPPER"):
            skip("memory: the bound per MiB of file", "a sanitizer or a wrapper owns the worker's memory")
        else:
            ok(per < 6.0, "memory: worker peak grows by less than 6 MiB per MiB of file (%.1f)" % per)
    finally:
        s.close()


def main():
    s = Server(max_procs=2)
    try:
        facts = browser_run(s)
        for f in facts:
            if "hostile_got" in f:
                diag("hostile name sent %r, downloaded as %r" % (f["hostile_sent"], f["hostile_got"]))
        for f in facts:
            if "canary" in f:
                hits = count_bytes(s.db_files(), [f["name"].encode(), f["canary"].encode()])
                diag("after the browser's round trip (consumed): %r" % hits)
        by_hand(s)
        api(s)
        cgi(s)
        wipe(s)
        ok(s.alive(), "the server is still up", s.logs())
        crashes = [line for line in s.logs().splitlines()
                   if "signal" in line.lower() or "died" in line.lower()]
        ok(not crashes, "no worker died", crashes)
    finally:
        s.close()
    memory()


if __name__ == "__main__":
    run(main)
