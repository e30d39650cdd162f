#!/usr/bin/env python3
"""Rate limits: fixed 20-minute windows per client address and account per
event, shared by all workers; Retry-After on the answer; unlimited plans
exempt (but for failed passphrases); X-Forwarded-For only from trusted
proxies; the web pages are limited too."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otstest import Server, canary, diag, is_, is_error, ok, parallel, passphrase, run  # noqa: E402

LIMITED = "Cripes! You have been rate limited."
WINDOW = 20 * 60


def limited(r, desc):
    retry = r.headers.get("retry-after", "")
    is_error(r, LIMITED, desc, intended=429)
    ok(retry.isdigit() and 0 < int(retry) <= WINDOW, desc + ": Retry-After within the window",
       "Retry-After %r" % retry)


def main():
    s = Server(max_procs=4, conf={
        "limit.create_secret": 3, "limit.show_secret": 4, "limit.show_metadata": 3,
        "limit.burn_secret": 2, "limit.failed_passphrase": 2, "limit.email_recipient": 1,
        "trusted_proxies": "127.0.0.1",
        "plan.vip.ttl_max": 86400, "plan.vip.size_max": 10000, "plan.vip.unlimited": "yes"})

    # start just after a window begins, so no boundary falls inside a step
    now = int(time.time()) + s.offset
    s.advance(WINDOW - now % WINDOW + 1)

    # create_secret: three pass (across 4 workers), the fourth is refused
    made = [s.share(secret=canary()) for _ in range(3)]
    ok(all(r.status == 200 for r in made), "3 creates within the limit", [r.body[:80] for r in made])
    limited(s.share(secret=canary()), "4th create")
    limited(s.generate(), "generate counts as create_secret too")
    before = s.sql("SELECT count(*) FROM secret")[0][0]
    s.share(secret=canary())
    is_(s.sql("SELECT count(*) FROM secret")[0][0], before, "a refused create stores nothing")

    # another client behind the trusted proxy has its own counter
    r = s.request("POST", "share", body={"secret": canary()},
                  headers={"X-Forwarded-For": "198.51.100.7"})
    is_(r.status, 200, "X-Forwarded-For from a trusted proxy: another client")
    rows = s.sql("SELECT count(*) FROM ratelimit", counters=True)[0][0]
    ok(rows >= 2, "counters kept per client (%d rows)" % rows)
    raw = b"".join(open(p, "rb").read() for p in s.db_files() if os.path.exists(p))
    ok(b"198.51.100.7" not in raw and b"127.0.0.1" not in raw,
       "no client address stored in the database")

    # accounts: their own counter; an unlimited plan is exempt
    tok = s.add_customer("limited@example.com")
    vip = s.add_customer("vip@example.com", plan="vip")
    res = [s.share(auth=("limited@example.com", tok), secret=canary()) for _ in range(4)]
    is_([r.status for r in res], [200, 200, 200, 404], "an account's own counter: 3 then limited")
    res = [s.share(auth=("vip@example.com", vip), secret=canary()) for _ in range(6)]
    ok(all(r.status == 200 for r in res), "an unlimited plan is not limited", [r.body[:80] for r in res])

    # the next window starts afresh
    s.advance(WINDOW)
    is_(s.share(secret=canary()).status, 200, "a new window: creating works again")

    # show_secret: counted per reveal
    keys = [s.create()["secret_key"] for _ in range(2)]
    s.advance(WINDOW)
    keys += [s.create()["secret_key"] for _ in range(3)]
    answers = [s.reveal(k) for k in keys]
    is_([r.status for r in answers], [200, 200, 200, 200, 404], "4 reveals, then limited")
    limited(answers[-1], "5th reveal")
    s.advance(WINDOW)
    is_(s.reveal(keys[-1]).status, 200, "the refused secret was not consumed")

    # failed passphrases: limited even for an unlimited plan
    s.advance(WINDOW)
    p = passphrase()
    m = s.create(passphrase=p, auth=("vip@example.com", vip))
    for i in range(2):
        s.reveal(m["secret_key"], auth=("vip@example.com", vip), passphrase=p + "x%d" % i)
    limited(s.reveal(m["secret_key"], auth=("vip@example.com", vip), passphrase=p),
            "after 2 failed passphrases even the right one waits (unlimited plan too)")
    s.advance(WINDOW)
    is_(s.reveal(m["secret_key"], auth=("vip@example.com", vip), passphrase=p).status, 200,
        "the next window: the right passphrase reveals")

    # the pages count the same events
    s.advance(WINDOW)
    codes = [s.request("POST", "/", body={"secret": canary(), "action": "create"}).status
             for _ in range(4)]
    is_(codes, [303, 303, 303, 429], "web create: 3, then a 429 page")
    r = s.request("POST", "/", body={"secret": canary(), "action": "create"})
    ok(r.headers.get("retry-after", "").isdigit() and b"Slow down" in r.body,
       "the 429 page has Retry-After and says why")

    # GET is never counted (nothing written)
    s.advance(WINDOW)
    m = s.create()
    before = s.sql("SELECT count(*), coalesce(sum(count), 0) FROM ratelimit", counters=True)[0]
    for _ in range(10):
        s.request("GET", "/secret/" + m["secret_key"])
        s.request("GET", "/private/" + m["metadata_key"])
    is_(s.sql("SELECT count(*), coalesce(sum(count), 0) FROM ratelimit", counters=True)[0], before,
        "page GETs are not counted")
    diag("limits checked: create, generate, reveal, failed passphrase, web create, windows, proxies")
    s.close()
    parallel_guesses()


def parallel_guesses():
    """limit.failed_passphrase holds under parallel guesses from one client:
    a passphrase counts as failed from the moment it arrives until it checks
    out (before, each of the 4 workers could pass the check at once)."""
    limit, par = 5, 8
    s = Server(max_procs=4, conf={"limit.failed_passphrase": limit, "passphrase_lock_after": 1000,
                                  "passphrase_burn_after": 10000, "scrypt_max": 8,
                                  "trusted_proxies": "127.0.0.1"})
    now = int(time.time()) + s.offset
    s.advance(WINDOW - now % WINDOW + 1)
    p = passphrase()
    m = s.create(passphrase=p)
    tally = {"checked": 0, "limited": 0, "busy": 0}
    for _ in range(6):
        for r in parallel(par, lambda i: s.request("POST", "secret/" + m["secret_key"],
                                                   body={"passphrase": canary()},
                                                   headers={"X-Forwarded-For": "192.0.2.9"})):
            j = r.json if isinstance(r.json, dict) else {}
            if r.intended == 404 and j.get("message") == "Unknown secret":
                tally["checked"] += 1
            elif r.intended == 429 and j.get("message") == LIMITED:
                tally["limited" if int(r.headers.get("retry-after", "0")) > 1 else "busy"] += 1
    diag("6 x %d simultaneous wrong passphrases from one client: %s" % (par, tally))
    is_(tally["checked"], limit, "exactly limit.failed_passphrase (%d) of them checked, not one more" % limit)
    is_(sum(tally.values()), 6 * par, "the rest refused: rate limited, or busy (no room to hash)")
    r = s.request("POST", "secret/" + m["secret_key"], body={"passphrase": p},
                  headers={"X-Forwarded-For": "192.0.2.9"})
    limited(r, "the right passphrase waits for the next window too")
    s.advance(WINDOW)
    is_(s.request("POST", "secret/" + m["secret_key"], body={"passphrase": p},
                  headers={"X-Forwarded-For": "192.0.2.9"}).status, 200,
        "next window: the right passphrase reveals (a success gives its count back)")


run(main)
