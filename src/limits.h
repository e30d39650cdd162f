/*
 * limits: rate limits per (client, account) and event, in fixed 20-minute
 * windows counted in the store so that every worker shares them.  The
 * client is REMOTE_ADDR, or, when REMOTE_ADDR is a trusted proxy, the
 * nearest untrusted address of X-Forwarded-For.  Counters are named by a
 * keyed hash of event, client and account: the database holds no address.
 */
#ifndef OTS_LIMITS_H
#define OTS_LIMITS_H

#include "conf.h"
#include "ctx.h"

struct req;

#define LIMITS_WINDOW	1200	/* seconds */

/* The client address of a request, into out (empty when unknown). */
void	limits_client(const struct conf *, const struct req *,
	    char out[CTX_ADDR_MAX + 1]);

/* 1 if the request came from a trusted proxy (trusted_proxies), else 0. */
int	limits_from_proxy(const struct conf *, const struct req *);

/*
 * Count n events (1, or -1 to give back a count taken earlier in the same
 * window) for the caller at time now.  Returns 0 within the limit, 1 over
 * it (*retry_after: seconds to the next window), -1 on error.  Accounts on
 * an unlimited plan are not counted, but for failed passphrases.
 */
int	limits_hit(const struct ctx *, const struct caller *, long long now,
	    enum conf_event, int n, long long *retry_after);

#endif
