#!/usr/bin/env python3
"""Secrets in freed memory (security.md: "every buffer that held plaintext, a
passphrase or a key wiped before free"; its table: an allocator shim scanning
every freed block for the request's canary, 0 hits).

tests/integration/wipeshim.so (built by `make check`) is preloaded, beside the
test clock, into the FastCGI workers of a real lighttpd and into plain CGI
runs.  It searches every block the program frees or reallocs for the canaries
it is given and reports each hit with the stack that let the block go.

Each scenario is one request, with a secret value and (most) a passphrase of
its own, fresh random canaries: create through the API as a form, multipart
(curl -F), JSON body and query string, with and without a passphrase; reveal
and burn with the passphrase in each encoding; the pages (create, receipt,
the reveal's confirmation page, reveal, burn); and all of it again through
plain CGI.  A secret a scenario reveals or burns is made beforehand by a CGI
run whose shim has no canaries, so a value's hits belong to that one request.
A /generate value is known only from the answer, after the worker has freed
what it freed: those scenarios run on a second instance whose shim writes
every freed block to a journal, searched afterwards for the values.

The servers are stopped (the workers exit through their destructors, so
everything they free is looked at) before the reports are read.  Every
scenario must leave 0 freed blocks holding its value, passphrase or generated
value; a failure prints each distinct stack, symbolized
(tests/integration/wipereport.py; `python3 wipereport.py REPORT` does the same
by hand).  Other keys (the secret key in a reveal's path, an API token) are
counted and printed, not asserted.

A positive control comes first: a process under the shim that frees a block
holding a canary must be reported exactly once, a wiped one never.  Under a
sanitizer build or OTS_WRAPPER (valgrind) another allocator owns the heap and
the shim cannot be used: the test reports a skip, never a pass.
"""

import html
import os
import re
import signal
import subprocess
import sys
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import (BUILDDIR, OTS, Server, basic, canary, diag, form_body, json_body,  # noqa: E402
                     multipart_body, ok, run, skip, wait_until)
import wipereport  # noqa: E402

SHIM = os.path.join(BUILDDIR, "tests", "integration", "wipeshim.so")
ENCODINGS = ("form", "multipart", "json", "query")
ASSERTED = ("value", "passphrase", "generated")
INERT = {"OTS_WIPE_CANARIES": None, "OTS_WIPE_REPORT": None, "OTS_WIPE_JOURNAL": None}


def unusable():
    """Why the shim cannot work here, or None."""
    if os.environ.get("OTS_WRAPPER"):
        return "OTS_WRAPPER=%r runs ots under another allocator" % os.environ["OTS_WRAPPER"]
    try:
        with open(OTS, "rb") as f:
            data = f.read()
    except OSError:
        return None  # the harness reports the missing binary
    for marker in (b"__asan_init", b"__hwasan_init", b"__msan_init", b"__tsan_init", b"libasan.so"):
        if marker in data:
            return "%s is a sanitizer build (%s): its allocator cannot be interposed" % (
                OTS, marker.decode())
    return None


# ---------------------------------------------------------------- control

CONTROL = r"""
import ctypes, sys
libc = ctypes.CDLL(None)
for name, res, args in (("getenv", ctypes.c_void_p, [ctypes.c_char_p]),
                        ("malloc", ctypes.c_void_p, [ctypes.c_size_t]),
                        ("realloc", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_size_t]),
                        ("free", None, [ctypes.c_void_p]),
                        ("memcpy", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]),
                        ("memset", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t])):
    getattr(libc, name).restype = res
    getattr(libc, name).argtypes = args
# the canary is copied from the environment block, never made a Python object
src, n = libc.getenv(b"WIPE_CONTROL"), int(sys.argv[1])

def filled(size, skip=0, length=n):
    p = libc.malloc(size)
    libc.memset(p, 0, size)
    libc.memcpy(p + 7, src + skip, length)
    return p

libc.free(filled(100))                       # a hit: free
p = filled(100)
libc.memset(p, 0, 100)
libc.free(p)                                 # wiped: none
p = libc.realloc(filled(100), 200000)        # a hit: realloc
libc.memset(p, 0, 200000)
libc.free(p)                                 # its copy wiped: none
libc.free(filled(64, 6, n - 6))              # a hit: all but the first 6 bytes
libc.free(filled(64, 3, 10))                 # 10 bytes: too short to count
"""


def control(tmp):
    """The shim reports a freed block holding a canary once, a wiped block
    never, a realloc'd block as freed; its journal keeps freed bytes."""
    c, absent = canary("wc"), canary("wc")
    report = os.path.join(tmp, "report")
    journal = os.path.join(tmp, "journal")
    os.makedirs(journal)
    env = dict(os.environ, LD_PRELOAD=SHIM, OTS_WIPE_CANARIES="%s,%s" % (c, absent),
               OTS_WIPE_REPORT=report, OTS_WIPE_JOURNAL=journal, WIPE_CONTROL=c)
    p = subprocess.run([sys.executable, "-c", CONTROL, str(len(c))], env=env, capture_output=True,
                       text=True, timeout=60)
    starts, exits, hits = wipereport.parse_report(report)
    pid = next(iter(starts), None)
    ok(p.returncode == 0 and len(starts) == 1 and pid in exits,
       "control: a process runs under the shim, which says so when it starts and exits",
       ["rc %r stderr %r" % (p.returncode, p.stderr[-500:]), "starts %r exits %r" % (starts, exits)])
    got = sorted((h.op, h.canary, h.count, h.match, h.off) for h in hits if h.pid == pid)
    want = sorted([("free", 1, 1, len(c), 7), ("realloc", 1, 1, len(c), 7), ("free", 1, 1, len(c) - 6, 7)])
    ok(got == want,
       "control: the unwiped freed block, the realloc'd one and a block holding most of the canary "
       "are reported; the wiped ones, a 10-byte fragment and a canary never written are not",
       ["hits (op, canary, count, match, off): %r" % (got,), "expected: %r" % (want,)]
       + [h.line[:300] for h in hits])
    ok(all(h.frames and h.frames[0].obj.startswith("/") for h in hits),
       "control: each hit names the object that called free", [h.line[:300] for h in hits])
    jh, blocks, _ = wipereport.search_journal(journal, {"control": c.encode()})
    ok(sorted(h.op for h in jh) == ["free", "free", "realloc"] and blocks > 100,
       "control: the journal keeps every freed block's bytes (%d blocks)" % blocks,
       ["journal blocks holding the canary: %r" % [(h.op, h.size) for h in jh]])
    exit_line = exits.get(pid, {})
    return int(exit_line.get("frees", 0)) > 0 and got == want


# ---------------------------------------------------------------- scenarios

# between the parts of a long value: what JSON, forms and HTML escape
SEPARATORS = ("\n", "\"", "\\", "\t", " ", "</", "\u00e9", "&")


class Scenario:
    """One request: its secret value and passphrase, the canaries the shim
    looks for (role, canary), where it goes (via "fcgi" or "cgi"), and how
    (fn(transport, scenario) -> list of problems).  A long value is 12
    canaries joined by characters that JSON, forms and HTML escape: escaping
    and printing it takes many appends (buffer growth)."""

    def __init__(self, name, group, fn, via, passphrase=True, secret=True, long=False, **kw):
        self.name, self.group, self.fn, self.via, self.kw = name, group, fn, via, kw
        self.value = self.passphrase = self.generated = None
        self.parts = []
        self.canaries = []
        if secret:
            self.parts = [canary("wv") for _ in range(12 if long else 1)]
            self.value = "".join(p + SEPARATORS[i % len(SEPARATORS)] for i, p in enumerate(self.parts)) \
                if long else self.parts[0]
            self.canaries += [("value", p) for p in self.parts]
        if passphrase:
            self.passphrase = canary("wp")
            self.canaries.append(("passphrase", self.passphrase))
        self.setup = None  # the secret made beforehand: {"secret_key", "metadata_key"}
        self.problems = []
        self.hits = []

    def roles(self):
        return sorted({r for r, _ in self.canaries} | ({"generated"} if self.generated else set()))

    def shows_value(self, body):
        """Whether an answer's bytes hold every part of the value."""
        return all(p.encode() in body for p in self.parts)

    def title(self):
        return "%s %s" % ("CGI" if self.via == "cgi" else "FastCGI", self.name)


class Transport:
    """A request to the instance through lighttpd (FastCGI) or as a plain CGI
    run with the shim's settings."""

    def __init__(self, s, via, env):
        self.s, self.via, self.env = s, via, env

    def __call__(self, method, path, fields=None, enc="form", auth=None):
        params, body = None, None
        if fields is not None:
            if enc == "query":
                params = fields
            else:
                body = {"form": form_body, "multipart": multipart_body, "json": json_body}[enc](fields)
        if self.via == "fcgi":
            return self.s.request(method, path, params=params, body=body, auth=auth)
        return self.s.cgi(method, path, query=urlencode(params or {}), body=body, auth=auth,
                          extra_env=self.env)


def answer(r, status, desc, check=None):
    """Problems of an answer that should have the given status (and pass check)."""
    if r.status != status:
        return ["%s: HTTP %d, expected %d: %r" % (desc, r.status, status, r.body[:300])]
    if check is not None and not check(r):
        return ["%s: unexpected answer %r" % (desc, r.body[:300])]
    return []


def fields_of(sc, **more):
    f = {}
    if sc.value is not None:
        f["secret"] = sc.value
    if sc.passphrase is not None:
        f["passphrase"] = sc.passphrase
    f.update(more)
    return f


def api_create(t, sc):
    r = t("POST", "share", fields_of(sc, ttl="3600"), sc.kw["enc"], auth=sc.kw.get("auth"))
    return answer(r, 200, "share", lambda r: isinstance(r.json, dict) and "secret_key" in r.json)


def api_reveal(t, sc):
    key = sc.setup["secret_key"]
    f = {"passphrase": sc.passphrase} if sc.passphrase else None
    r = t("POST", "secret/" + key, f, sc.kw.get("enc", "form"))
    return answer(r, 200, "reveal", lambda r: (r.json or {}).get("value") == sc.value)


def api_burn(t, sc):
    r = t("POST", "private/%s/burn" % sc.setup["metadata_key"], {"passphrase": sc.passphrase},
          sc.kw["enc"])
    return answer(r, 200, "burn", lambda r: ((r.json or {}).get("state") or {}).get("state") == "burned")


def api_generate(t, sc):
    f = {"passphrase": sc.passphrase} if sc.passphrase else {}
    r = t("POST", "generate", dict(f, ttl="3600"), "form")
    sc.generated = (r.json or {}).get("value") if isinstance(r.json, dict) else None
    return answer(r, 200, "generate", lambda r: sc.generated)


def page_create(t, sc):
    r = t("POST", "/", fields_of(sc, ttl="3600", action="create"), "form")
    return answer(r, 303, "create page", lambda r: r.headers.get("location", "").startswith("/private/"))


def page_generate(t, sc):
    f = {"passphrase": sc.passphrase} if sc.passphrase else {}
    r = t("POST", "/", dict(f, ttl="3600", action="generate"), "form")
    m = re.search(r'id="value" class="mono" type="text" value="([^"]*)"', r.body.decode("utf-8", "replace"))
    sc.generated = html.unescape(m.group(1)) if m else None
    return answer(r, 200, "generate page", lambda r: sc.generated)


def page_receipt(t, sc):
    r = t("GET", "/private/" + sc.setup["metadata_key"])
    return answer(r, 200, "receipt page", lambda r: sc.setup["secret_key"].encode() in r.body)


def page_confirm(t, sc):
    r = t("GET", "/secret/" + sc.setup["secret_key"])
    return answer(r, 200, "confirmation page")


def page_reveal(t, sc):
    f = {"passphrase": sc.passphrase} if sc.passphrase else {}
    r = t("POST", "/secret/" + sc.setup["secret_key"], f, "form")
    return answer(r, 200, "reveal page", lambda r: sc.shows_value(r.body))


def page_burn(t, sc):
    r = t("POST", "/private/%s/burn" % sc.setup["metadata_key"], {"passphrase": sc.passphrase}, "form")
    return answer(r, 303, "burn page")


def scenarios(via, token_auth):
    """The scenarios of one transport (those that need a secret made
    beforehand have setup=True in kw)."""
    out = []
    for enc in ENCODINGS:
        out.append(Scenario("API create, %s, no passphrase" % enc, "API create %s" % enc, api_create, via,
                            passphrase=False, enc=enc))
        out.append(Scenario("API create, %s, passphrase" % enc, "API create %s" % enc, api_create, via,
                            enc=enc))
    out.append(Scenario("API create, form, Basic auth", "API create form", api_create, via, enc="form",
                        auth=token_auth))
    for enc in ("form", "json"):
        out.append(Scenario("API create, %s, long value with escapes" % enc, "API create %s" % enc, api_create,
                            via, enc=enc, long=True))
    out.append(Scenario("API reveal, no passphrase", "API reveal", api_reveal, via, passphrase=False,
                        setup=True))
    out.append(Scenario("API reveal, long value with escapes", "API reveal", api_reveal, via, passphrase=False,
                        long=True, setup=True))
    for enc in ENCODINGS:
        out.append(Scenario("API reveal, passphrase as %s" % enc, "API reveal", api_reveal, via, enc=enc,
                            setup=True))
    for enc in ("form", "json"):
        out.append(Scenario("API burn, passphrase as %s" % enc, "API burn", api_burn, via, enc=enc,
                            setup=True))
    out += [
        Scenario("page create, no passphrase", "pages", page_create, via, passphrase=False),
        Scenario("page create, passphrase", "pages", page_create, via),
        Scenario("receipt page (GET /private/KEY)", "pages", page_receipt, via, setup=True),
        Scenario("confirmation page (GET /secret/KEY)", "pages", page_confirm, via, setup=True),
        Scenario("reveal page, no passphrase", "pages", page_reveal, via, passphrase=False, setup=True),
        Scenario("reveal page, passphrase", "pages", page_reveal, via, setup=True),
        Scenario("reveal page, long value with escapes", "pages", page_reveal, via, passphrase=False,
                 long=True, setup=True),
        Scenario("burn page, passphrase", "pages", page_burn, via, setup=True),
    ]
    return out


def generate_scenarios(via):
    return [Scenario("API generate, no passphrase", "generate", api_generate, via, passphrase=False,
                     secret=False),
            Scenario("API generate, passphrase", "generate", api_generate, via, secret=False),
            Scenario("page generate, no passphrase", "generate", page_generate, via, passphrase=False,
                     secret=False),
            Scenario("page generate, passphrase", "generate", page_generate, via, secret=False)]


# ---------------------------------------------------------------- running

def make_setup(s, sc):
    """The secret a reveal/burn/receipt scenario needs, made by a CGI run
    whose shim has no canaries (so it reports nothing)."""
    f = fields_of(sc, ttl="3600")
    r = s.cgi("POST", "share", body=form_body(f), extra_env=INERT)
    if r.status != 200 or not isinstance(r.json, dict):
        raise RuntimeError("setup share failed: %d %r" % (r.status, r.body[:300]))
    sc.setup = {"secret_key": r.json["secret_key"], "metadata_key": r.json["metadata_key"]}
    if sc.fn in (api_reveal, page_reveal, page_confirm):
        sc.canaries.append(("key", sc.setup["secret_key"]))
    elif sc.fn in (api_burn, page_burn, page_receipt):
        sc.canaries.append(("key", sc.setup["metadata_key"]))


def shim_env(report, values, journal=None):
    env = {"LD_PRELOAD": SHIM, "OTS_WIPE_REPORT": report, "OTS_WIPE_CANARIES": ",".join(values)}
    if journal:
        env["OTS_WIPE_JOURNAL"] = journal
    return env


def shut_down(s, report):
    """Stop lighttpd and wait until each worker has exited through the
    shim's destructor (its "exit" line): everything it freed was looked at.
    Returns (worker pids, those without an exit line)."""
    pids = s.worker_pids()
    if s.proc is not None and s.proc.poll() is None:
        s.proc.send_signal(signal.SIGTERM)
        try:
            s.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    wait_until(lambda: pids <= set(wipereport.parse_report(report)[1]), 20)
    # the exit line comes from the shim's destructor; other libraries' may
    # still free after it: wait until the processes are gone
    wait_until(lambda: not any(_running(pid) for pid in pids), 20)
    missing = pids - set(wipereport.parse_report(report)[1])
    s.stop()
    return pids, missing


def _running(pid):
    """Whether pid is a live process (not gone, not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def run_all(t, scs):
    for sc in scs:
        try:
            sc.problems = sc.fn(t, sc)
        except Exception as e:  # noqa: BLE001 - reported as the scenario's failure
            sc.problems = ["%s: %s" % (type(e).__name__, e)]


def canaries(scs):
    """(values, owners): the distinct canary values of the scenarios, in the
    order given to the shim, and for each label (its 1-based position) the
    (scenario, role) pairs that use it (one value, the API token, serves a
    FastCGI and a CGI scenario)."""
    values, owners = [], {}
    for sc in scs:
        for role, v in sc.canaries:
            if v not in values:
                values.append(v)
            owners.setdefault(values.index(v) + 1, []).append((sc, role))
    return values, owners


def attribute(hits, owners, workers):
    """Hand each hit to its scenario: the one owning its canary, on the
    transport of the process that freed it.  Returns the hits none owns."""
    stray = []
    for h in hits:
        via = "fcgi" if h.pid in workers else "cgi"
        own = [o for o in owners.get(h.canary, []) if o[0].via == via]
        if not own:
            stray.append(h)
        else:
            own[0][0].hits.append((own[0][1], h))
    return stray


def check_processes(desc, report, workers, missing, want_cgi, ncanaries):
    """The shim ran in every ots process, with all the canaries, and saw
    each of them exit."""
    starts, exits, _ = wipereport.parse_report(report)
    ots = {pid for pid, kv in starts.items() if os.path.basename(kv.get("exe", "")) == "ots"}
    short = sorted((pid, kv.get("canaries")) for pid, kv in starts.items() if kv.get("canaries") != str(ncanaries))
    ok(not short, "%s: every process under the shim took all %d canaries" % (desc, ncanaries),
       ["(pid, canaries): %r" % short])
    ok(workers and not missing and workers <= ots,
       "%s: the shim ran in each FastCGI worker (%d) and saw it exit" % (desc, len(workers)),
       ["workers %r, without an exit line %r, ots processes that started %r" % (workers, missing, ots)])
    cgi = ots - workers
    no_exit = sorted(cgi - set(exits))
    ok(len(cgi) >= want_cgi and not no_exit,
       "%s: the shim ran in each CGI run (%d, %d expected) and saw it exit" % (desc, len(cgi), want_cgi),
       ["CGI processes without an exit line: %r" % no_exit])
    frees = sum(int(exits[p].get("frees", 0)) for p in ots if p in exits)
    scanned = sum(int(exits[p].get("bytes", 0)) for p in ots if p in exits)
    diag("%s: %d ots processes, %d frees and reallocs looked at, %.1f MiB searched"
         % (desc, len(ots), frees, scanned / 1048576.0))


def freed(sc, asserted=True):
    """A scenario's hit blocks: {(pid, seq): (roles, first hit)}, of the
    asserted roles (or of the others)."""
    out = {}
    for role, h in sc.hits:
        if (role in ASSERTED) == asserted:
            roles, first = out.get((h.pid, h.seq), (set(), h))
            out[(h.pid, h.seq)] = (roles | {role}, first)
    return out


def by_role(blocks):
    n = {}
    for roles, _h in blocks.values():
        for r in roles:
            n[r] = n.get(r, 0) + 1
    return ", ".join("%s in %d" % kv for kv in sorted(n.items()))


def sites(sym, blocks):
    """Lines "N x chain" for blocks, most frequent first."""
    n = {}
    for _roles, h in blocks.values():
        k = wipereport.chain(sym, h, objects=False)
        n[k] = n.get(k, 0) + 1
    return ["%d x %s" % (c, k) for k, c in sorted(n.items(), key=lambda kv: -kv[1])]


def report_scenarios(scs, sym):
    """Two assertions per scenario: it answered as expected, and no freed
    block held its value, passphrase or generated value."""
    for sc in scs:
        ok(not sc.problems, "%s: answered as expected" % sc.title(), sc.problems)
        blocks = freed(sc)
        why = ["%d blocks (%s):" % (len(blocks), by_role(blocks))] + sites(sym, blocks) if blocks else []
        ok(not blocks and not sc.problems,
           "%s: no freed block holds its %s" % (sc.title(), "/".join(r for r in sc.roles() if r in ASSERTED)),
           why)


def before_table(scs, sym):
    """The figures: per scenario the freed blocks that held its secrets and
    the code that freed them, per group and transport, and each distinct
    stack once (for whoever fixes them)."""
    diag("freed blocks holding a scenario's value/passphrase/generated value, per scenario, with the code "
         "that freed them (and, not asserted, blocks holding its key or API token):")
    for sc in scs:
        blocks, info = freed(sc), freed(sc, False)
        diag("  %s: %d%s%s" % (sc.title(), len(blocks), " (%s)" % by_role(blocks) if blocks else "",
                                "; not asserted: %s" % by_role(info) if info else ""))
        for line in sites(sym, blocks):
            diag("      " + line)
    groups = {}
    for sc in scs:
        g = groups.setdefault(("CGI" if sc.via == "cgi" else "FastCGI", sc.group), [0, 0, 0])
        g[0] += 1
        g[1] += len(freed(sc))
        g[2] += len(freed(sc, False))
    diag("by group:")
    for (via, group), (n, asserted, info) in sorted(groups.items()):
        diag("  %-7s %-20s %2d scenarios: %3d blocks (and %d with keys or tokens)" % (via, group, n, asserted,
                                                                                      info))
    seen = {}
    for sc in scs:
        for asserted in (True, False):
            for roles, h in freed(sc, asserted).values():
                ch = wipereport.chain(sym, h)
                first = seen.get(ch, (sc, roles, h, 0))
                seen[ch] = first[:3] + (first[3] + 1,)
    if seen:
        diag("each distinct stack once (the first scenario that hit it; blocks over all scenarios):")
    for ch, (sc, roles, h, n) in sorted(seen.items(), key=lambda kv: -kv[1][3]):
        diag("-- %d x, first in '%s' (%s):" % (n, sc.title(), "/".join(sorted(roles))))
        for line in wipereport.full(sym, h):
            diag("   " + line)


def main():
    why = unusable()
    if why:
        skip("secrets in freed memory: allocator shim", why)
        return
    if not ok(os.path.isfile(SHIM), "%s exists (`make check` builds it)" % SHIM):
        return
    # -- the main instance: every scenario but /generate (its directory
    # holds the control's files too)
    s = Server(start=False, max_procs=2)
    if not control(os.path.join(s.tmp, "control")):
        return
    sym = wipereport.Symbolizer()
    report = os.path.join(s.tmp, "wipe.report")
    email = "wipe@example.com"
    token = s.add_customer(email, "basic")
    fcgi = scenarios("fcgi", (email, token))
    cgi = scenarios("cgi", (email, token))
    for sc in fcgi + cgi:
        if sc.kw.get("auth"):
            sc.canaries.append(("token", token))
            sc.canaries.append(("authorization", basic(email, token).split()[1]))
        if sc.kw.get("setup"):
            make_setup(s, sc)
    values, owners = canaries(fcgi + cgi)
    env = shim_env(report, values)
    s.extra_env = env
    s.start()
    run_all(Transport(s, "fcgi", env), fcgi)
    workers, missing = shut_down(s, report)
    run_all(Transport(s, "cgi", env), cgi)
    _, _, hits = wipereport.parse_report(report)
    check_processes("main instance", report, workers, missing, len(cgi), len(values))
    stray = attribute(hits, owners, workers)
    ok(not stray, "every hit belongs to a scenario", [h.line[:300] for h in stray])

    # -- /generate: values known only afterwards, searched in a journal
    g = Server(start=False, max_procs=2)
    greport = os.path.join(g.tmp, "wipe.report")
    journal = os.path.join(g.tmp, "journal")
    os.makedirs(journal)
    gf, gc = generate_scenarios("fcgi"), generate_scenarios("cgi")
    gvalues, gowners = canaries(gf + gc)
    genv = shim_env(greport, gvalues, journal)
    g.extra_env = genv
    g.start()
    run_all(Transport(g, "fcgi", genv), gf)
    gworkers, gmissing = shut_down(g, greport)
    run_all(Transport(g, "cgi", genv), gc)
    _, _, ghits = wipereport.parse_report(greport)
    check_processes("generate instance", greport, gworkers, gmissing, len(gc), len(gvalues))
    gstray = attribute(ghits, gowners, gworkers)
    labels = {"generated %d" % i: sc for i, sc in enumerate(gf + gc) if sc.generated}
    jhits, blocks, skipped = wipereport.search_journal(
        journal, {k: sc.generated.encode() for k, sc in labels.items()})
    for h in jhits:
        labels[h.canary].hits.append(("generated", h))
    ok(not gstray, "every hit on the generate instance belongs to a scenario", [h.line[:300] for h in gstray])
    ok(blocks > 0, "the generate instance's journal holds the freed blocks (%d; %d too large to keep, "
       "the largest %d bytes)" % (blocks, len(skipped), max([b.size for b in skipped] or [0])))

    every = fcgi + cgi + gf + gc
    sym.prefetch([fr for sc in every for _r, h in sc.hits for fr in h.frames])
    report_scenarios(every, sym)
    before_table(every, sym)
    if any(sc.hits for sc in every):
        diag("the shim's reports: %s, %s (journal %s); `python3 %s REPORT` symbolizes one"
             % (report, greport, journal, wipereport.__file__))


if __name__ == "__main__":
    run(main)
