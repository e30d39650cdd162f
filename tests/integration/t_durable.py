#!/usr/bin/env python3
"""Acknowledged writes are durable (issue 14), proved without a power switch:
every answer to a request that wrote to the SQLite database (a create, a
reveal's claim, a burn) leaves the worker only after an fsync or fdatasync
of the database's WAL that began after that request's last WAL write and
returned successfully.  Whoever makes the sync (SQLite inside COMMIT with
synchronous=FULL, or the worker itself after COMMIT, or another process
whose sync covered this commit: group commit) does not matter, only the
order.

tests/integration/syncshim.so (built by `make check`) is preloaded, beside
the test clock, into the FastCGI workers of a real lighttpd (4 of them) and
into plain CGI runs.  It writes a trace: each write to the WAL (numbered
after it returned), each sync of the WAL (numbered before the call and
after it returned), and each write of an answer (to the web server's
socket, or to a CGI's standard output; numbered before the call).  The
numbers come from one counter in a shared mapping, so the order across
processes is exact, not read off clocks.

8 clients in parallel create secrets through the v1 API and reveal or burn
each one; then a few plain CGI requests do the same.  The servers are
stopped and the trace is checked (check_trace): in each process, an answer
preceded by WAL writes since that process's previous answer is a writing
answer, and some sync of the same WAL file, by any process, must have begun
after the last of those writes and returned before the answer's first byte
was written.  Zero violations; every request of the workload checked (a
test that saw no writes would pass vacuously); every create, reveal and
burn answered as expected.  The workers also share their syncs (group
commit, src/store_sqlite.c): at least one answer is covered by another
worker's sync alone, and there are fewer WAL syncs than writing answers.

The rate limits are on, counted but out of reach: their counters live in
a SQLite file of their own (DATABASE.limits, synchronous=OFF by design: a
count lost to a power cut is harmless), whose WAL the shim does not trace,
so every WAL write in the trace is one that must be durable.

The check can fail, and is shown to: a synthetic trace with the sync before
the write is reported, and a negative control reruns a short workload with
OTS_SYNCSHIM_SKIP=1 (the shim turns every sync of the WAL into a no-op
and leaves it out of the trace): every writing answer must then be
reported.  Under OTS_TEST_ENGINE=postgresql (durability is PostgreSQL's
own), a sanitizer build (its runtime wraps the same calls) or OTS_WRAPPER
(valgrind) the test reports skips, never a pass.
"""

import bisect
import os
import sys
from collections import defaultdict, namedtuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import BUILDDIR, OTS, POSTGRESQL, SANITIZED, Server, canary, diag, ok, parallel, run, skip  # noqa: E402

SHIM = os.path.join(BUILDDIR, "tests", "integration", "syncshim.so")
THREADS = 8
ROUNDS = 20          # per client: a create, then a reveal (2 in 3) or a burn: 40 requests
CONTROL_ROUNDS = 5   # the negative control: 2 clients
MIN_CHECKED = 100
HIGH_LIMITS = {"limit." + ev: "1000000" for ev in ("create_secret", "email_recipient", "show_secret",
                                                  "show_metadata", "burn_secret", "failed_passphrase")}


def unusable():
    """Why the test cannot run here, or None."""
    if POSTGRESQL:
        return "OTS_TEST_ENGINE=postgresql: the durability of a commit is PostgreSQL's own"
    if os.environ.get("OTS_WRAPPER"):
        return "OTS_WRAPPER=%r runs ots under another program" % os.environ["OTS_WRAPPER"]
    if SANITIZED:
        return "%s is a sanitizer build: its runtime wraps write, pwrite and fsync itself" % OTS
    return None


# ---------------------------------------------------------------- the trace

Wal = namedtuple("Wal", "pid ino seq")
Sync = namedtuple("Sync", "pid ino before after rc")
Answer = namedtuple("Answer", "pid seq")
Trace = namedtuple("Trace", "starts wals syncs answers bad")


def parse_trace(lines):
    """The shim's trace lines as a Trace: starts {pid: ppid}, lists of Wal,
    Sync and Answer events, and the lines that could not be read."""
    t = Trace({}, [], [], [], [])
    for line in lines:
        f = line.split()
        try:
            if len(f) < 3 or f[0] != "syncshim":
                raise ValueError(line)
            kv = dict(x.split("=", 1) for x in f[2:])
            pid = int(kv["pid"])
            if f[1] == "start":
                t.starts[pid] = int(kv["ppid"])
            elif f[1] == "wal":
                t.wals.append(Wal(pid, int(kv["ino"]), int(kv["seq"])))
            elif f[1] == "sync":
                t.syncs.append(Sync(pid, int(kv["ino"]), int(kv["before"]), int(kv["after"]), int(kv["rc"])))
            elif f[1] == "resp":
                t.answers.append(Answer(pid, int(kv["seq"])))
            else:
                raise ValueError(line)
        except (ValueError, KeyError):
            t.bad.append(line)
    return t


def read_trace(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return parse_trace(f.read().splitlines())
    except FileNotFoundError:
        return parse_trace([])


Result = namedtuple("Result", "checked failed violations per_pid own")


def check_trace(t):
    """Every writing answer must be covered by a sync.  In each process, the
    answers and WAL writes in the shared order: an answer with WAL writes
    since the process's previous answer is a writing answer (checked); for
    the last of those writes to each WAL file (inode) at seq w, some
    successful sync of that file by any process must have before > w and
    after < the answer's seq.  Returns a Result: checked (writing answers),
    failed (those not covered), violations (descriptions: one per file
    not covered), per_pid {pid: checked}, own (answers that a sync of their
    own process covered; the other covered ones were covered by another
    process's sync alone: group commit)."""
    # per file: the successful syncs by start, and the earliest end of any
    # sync starting at or after each of them
    by_ino = defaultdict(list)
    for s in t.syncs:
        if s.rc == 0:
            by_ino[s.ino].append(s)
    cover = {}
    for ino, ss in by_ino.items():
        ss.sort(key=lambda s: s.before)
        best, suffix = [None] * len(ss), None
        for i in range(len(ss) - 1, -1, -1):
            if suffix is None or ss[i].after < suffix.after:
                suffix = ss[i]
            best[i] = suffix
        cover[ino] = ([s.before for s in ss], best)

    def earliest(ino, w):
        """The sync of ino that began after seq w and ended first, or None."""
        starts, best = cover.get(ino, ([], []))
        i = bisect.bisect_right(starts, w)
        return best[i] if i < len(best) else None

    def own_cover(ino, w, r, pid):
        return any(s.pid == pid and w < s.before and s.after < r for s in by_ino.get(ino, ()))

    events = defaultdict(list)
    for e in t.wals + t.answers:
        events[e.pid].append(e)
    checked, failed, violations, per_pid, own = 0, 0, [], defaultdict(int), 0
    for pid, evs in events.items():
        evs.sort(key=lambda e: e.seq)
        pending = {}  # inode -> seq of the last WAL write since the previous answer
        for e in evs:
            if isinstance(e, Wal):
                pending[e.ino] = e.seq
                continue
            if not pending:
                continue
            checked += 1
            per_pid[pid] += 1
            mine, covered = True, True
            for ino, w in sorted(pending.items()):
                s = earliest(ino, w)
                if s is None or s.after >= e.seq:
                    violations.append(
                        "pid %d: answer at seq %d after a WAL write (inode %d) at seq %d; %s"
                        % (pid, e.seq, ino, w, "no successful sync of it began after that" if s is None else
                           "the first sync to end among those begun after it: pid %d, seq %d to %d"
                           % (s.pid, s.before, s.after)))
                    covered = False
                elif not own_cover(ino, w, e.seq, pid):
                    mine = False
            failed += not covered
            own += covered and mine
            pending = {}
    return Result(checked, failed, violations, dict(per_pid), own)


def self_test():
    """The checker on synthetic traces: it passes what is covered and reports
    what is not."""
    def res(*lines):
        return check_trace(parse_trace(["syncshim " + x for x in lines]))

    r = res("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
            "sync pid=1 fd=5 ino=7 op=fdatasync before=2 after=3 rc=0",
            "resp pid=1 fd=3 op=write seq=4",
            "resp pid=1 fd=3 op=write seq=5")
    ok(r.checked == 1 and not r.failed and not r.violations and r.own == 1,
       "checker: a WAL write, a sync begun after it and ended before the answer: one answer checked, passes "
       "(the answer's second write is not a new answer)", repr(r))
    r = res("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
            "sync pid=2 fd=6 ino=7 op=fdatasync before=2 after=4 rc=0",
            "resp pid=1 fd=3 op=write seq=5",
            "resp pid=1 fd=3 op=write seq=6",
            "resp pid=2 fd=3 op=write seq=7")
    ok(r.checked == 1 and not r.failed and not r.violations and r.own == 0,
       "checker: a sync by another process covers the write (group commit); an answer without writes "
       "is not checked", repr(r))
    r = res("sync pid=1 fd=5 ino=7 op=fdatasync before=1 after=2 rc=0",
            "wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=3",
            "resp pid=1 fd=3 op=write seq=4")
    ok(r.checked == 1 and r.failed == 1 and len(r.violations) == 1,
       "checker: a sync made before the WAL write is reported", repr(r))
    bad = {
        "the sync began while the write was under way":
            ("sync pid=1 fd=5 ino=7 op=fdatasync before=1 after=3 rc=0",
             "wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=2"),
        "the sync returned after the answer began":
            ("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
             "sync pid=2 fd=5 ino=7 op=fdatasync before=2 after=9 rc=0"),
        "the sync failed":
            ("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
             "sync pid=1 fd=5 ino=7 op=fdatasync before=2 after=3 rc=5"),
        "the sync was of another file":
            ("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
             "sync pid=1 fd=5 ino=8 op=fdatasync before=2 after=3 rc=0"),
        "only an earlier write was synced":
            ("wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=1",
             "sync pid=1 fd=5 ino=7 op=fdatasync before=2 after=3 rc=0",
             "wal pid=1 fd=5 ino=7 op=pwrite64 n=24 seq=4"),
    }
    for why, lines in bad.items():
        r = res(*lines, "resp pid=1 fd=3 op=write seq=5")
        ok(r.checked == 1 and r.failed == 1 and len(r.violations) == 1,
           "checker: reported when %s" % why, repr(r))


# ---------------------------------------------------------------- the workload

def shim_env(tmp, name, database, skip_sync=False):
    """The shim's variables for a trace tmp/name.trace (a fresh counter)."""
    seq = os.path.join(tmp, name + ".seq")
    with open(seq, "wb") as f:
        f.write(b"\0" * 8)
    return {"LD_PRELOAD": SHIM, "OTS_SYNCSHIM_DB": os.path.realpath(database),
            "OTS_SYNCSHIM_LOG": os.path.join(tmp, name + ".trace"), "OTS_SYNCSHIM_SEQ": seq,
            "OTS_SYNCSHIM_SKIP": "1" if skip_sync else None}


def client(s, rounds):
    """One client's requests: per round a create, then a reveal (2 in 3) or a
    burn of what it made.  Returns (requests answered, problems)."""
    n, probs = 0, []
    for i in range(rounds):
        v = canary("dv")
        r = s.share(secret=v)
        n += 1
        j = r.json if isinstance(r.json, dict) else {}
        if r.status != 200 or "secret_key" not in j or "metadata_key" not in j:
            probs.append("create %d: %d %r" % (i, r.status, r.body[:200]))
            continue
        if i % 3 == 2:
            r = s.burn(j["metadata_key"])
            state = (r.json or {}).get("state") if isinstance(r.json, dict) else None
            if r.status != 200 or not isinstance(state, dict) or state.get("state") != "burned":
                probs.append("burn %d: %d %r" % (i, r.status, r.body[:200]))
        else:
            r = s.reveal(j["secret_key"])
            if r.status != 200 or (r.json or {}).get("value") != v:
                probs.append("reveal %d: %d %r" % (i, r.status, r.body[:200]))
        n += 1
    return n, probs


def workload(s, threads, rounds):
    """threads clients in parallel: (requests answered, problems)."""
    n, probs = 0, []
    for i, res in enumerate(parallel(threads, lambda i: client(s, rounds))):
        if isinstance(res, Exception):
            probs.append("client %d: %r" % (i, res))
        else:
            n += res[0]
            probs += ["client %d: %s" % (i, p) for p in res[1]]
    return n, probs


def cgi_requests(s, extra_env, creates):
    """Plain CGI runs: creates creates, each then revealed or (every third)
    burned.  Returns (requests answered, problems)."""
    n, probs = 0, []
    for i in range(creates):
        v = canary("dc")
        r = s.cgi("POST", "share", body={"secret": v}, extra_env=extra_env)
        n += 1
        j = r.json if isinstance(r.json, dict) else {}
        if r.status != 200 or "secret_key" not in j:
            probs.append("CGI create %d: %d rc %d %r %s" % (i, r.status, r.rc, r.body[:200], r.stderr[-300:]))
            continue
        if i % 3 == 2:
            r = s.cgi("POST", "private/%s/burn" % j["metadata_key"], body={}, extra_env=extra_env)
            ok_ = r.status == 200 and isinstance(r.json, dict) and \
                isinstance(r.json.get("state"), dict) and r.json["state"].get("state") == "burned"
        else:
            r = s.cgi("POST", "secret/" + j["secret_key"], body={}, extra_env=extra_env)
            ok_ = r.status == 200 and isinstance(r.json, dict) and r.json.get("value") == v
        n += 1
        if not ok_:
            probs.append("CGI %s %d: %d rc %d %r %s" % ("burn" if i % 3 == 2 else "reveal", i, r.status, r.rc,
                                                        r.body[:200], r.stderr[-300:]))
    return n, probs


def describe(res, t):
    syncs = sum(1 for x in t.syncs if x.rc == 0)
    return ("%d writing answers checked (by process: %s): %d covered by a sync of their own process, "
            "%d by another's alone, %d not covered; %d WAL writes, %d WAL syncs, %d answer writes in the trace"
            % (res.checked, sorted(res.per_pid.values(), reverse=True), res.own,
               res.checked - res.own - res.failed, res.failed, len(t.wals), syncs, len(t.answers)))


def main():
    self_test()
    why = unusable()
    if why:
        for what in ("FastCGI: every writing answer after a covering WAL sync",
                     "plain CGI: every writing answer after a covering WAL sync",
                     "negative control: skipped WAL syncs are reported"):
            skip(what, why)
        return
    if not os.path.isfile(SHIM):
        ok(False, "%s exists (`make check` builds it)" % SHIM)
        return

    s = Server(conf=HIGH_LIMITS, max_procs=4, start=False)
    s.extra_env.update(shim_env(s.tmp, "fcgi", s.database_file))
    s.start()
    lighttpd, workers = s.proc.pid, s.worker_pids()
    n, probs = workload(s, THREADS, ROUNDS)
    ok(not probs and n == THREADS * ROUNDS * 2,
       "FastCGI: %d clients x %d requests (create, then reveal or burn), every one answered as expected"
       % (THREADS, ROUNDS * 2), probs[:20])
    s.stop()  # every worker has written all it will
    t = read_trace(s.extra_env["OTS_SYNCSHIM_LOG"])
    traced = {pid for pid, ppid in t.starts.items() if ppid == lighttpd}
    ok(not t.bad and len(traced) >= 4 and workers <= traced,
       "FastCGI: the shim ran in every worker (%d traced, %d running at start)" % (len(traced), len(workers)),
       ["unreadable lines: %r" % t.bad[:5], "traced %r, workers %r" % (sorted(traced), sorted(workers))])
    res = check_trace(t)
    diag("FastCGI: " + describe(res, t))
    ok(res.checked >= max(n, MIN_CHECKED) and len(res.per_pid) >= 2,
       "FastCGI: every one of the %d writing requests' answers was checked (%d), from %d workers"
       % (n, res.checked, len(res.per_pid)), describe(res, t))
    ok(res.checked > 0 and not res.failed and not res.violations,
       "FastCGI: every writing answer left after a sync of the WAL that began after its last WAL write "
       "(%d violations)" % len(res.violations), res.violations[:20])
    # group commit: one sync at a time per host, the commits made meanwhile
    # wait for the next one, which a single worker makes for all of them
    shared = res.checked - res.own - res.failed
    syncs = sum(1 for x in t.syncs if x.rc == 0)
    ok(shared > 0 and syncs < res.checked,
       "FastCGI: workers share syncs (group commit): %d answers covered by another worker's sync alone, "
       "%d WAL syncs for %d writing answers" % (shared, syncs, res.checked))

    # -- plain CGI, the same instance (lighttpd stopped)
    env = shim_env(s.tmp, "cgi", s.database_file)
    n, probs = cgi_requests(s, env, 6)
    ok(not probs and n == 12, "plain CGI: 6 creates, 4 reveals and 2 burns answered as expected", probs)
    t = read_trace(env["OTS_SYNCSHIM_LOG"])
    res = check_trace(t)
    diag("plain CGI: " + describe(res, t))
    ok(not t.bad and len(t.starts) == n and res.checked == n and not res.violations,
       "plain CGI: all %d runs traced, each a writing answer (%d), each after a covering WAL sync "
       "(%d violations)" % (n, res.checked, len(res.violations)),
       ["unreadable lines: %r" % t.bad[:5], "%d processes traced" % len(t.starts)] + res.violations[:20])

    # -- negative control: the WAL's syncs skipped, the checker must see it
    s.extra_env.update(shim_env(s.tmp, "skip", s.database_file, skip_sync=True))
    s.start()
    n, probs = workload(s, 2, CONTROL_ROUNDS)
    s.stop()
    env = dict(s.extra_env, OTS_SYNCSHIM_LOG=os.path.join(s.tmp, "skip.trace"))
    m, more = cgi_requests(s, env, 1)
    t = read_trace(env["OTS_SYNCSHIM_LOG"])
    res = check_trace(t)
    diag("negative control: " + describe(res, t))
    ok(not (probs + more) and res.checked >= n + m and res.failed == res.checked and
       not [x for x in t.syncs if x.rc == 0],
       "negative control: with every WAL sync skipped (OTS_SYNCSHIM_SKIP=1), the checker reports "
       "every writing answer (%d of %d, FastCGI and CGI)" % (res.failed, res.checked),
       (probs + more)[:10] + res.violations[:5])
    s.close()


if __name__ == "__main__":
    run(main)
