/*
 * limits: rate limits per (client, account) and event, in fixed 20-minute
 * windows counted in the store so that every worker shares them.  The
 * client is REMOTE_ADDR, or, when REMOTE_ADDR is a trusted proxy, the
 * nearest untrusted address of X-Forwarded-For.  Counters are named by a
 * keyed hash of event, client and account: the database holds no address.
 */
#ifndef OTS_LIMITS_H
#define OTS_LIMITS_H

#include <stddef.h>

#include "conf.h"

struct app;
struct caller;
struct req;

#define LIMITS_WINDOW	1200	/* seconds */
#define LIMITS_ADDR_MAX	64

/* The client address of a request, into out (empty when unknown). */
void	limits_client(const struct conf *, const struct req *,
	    char out[LIMITS_ADDR_MAX + 1]);

/*
 * Count one event for the request's caller.  Returns 0 within the limit,
 * 1 over it (*retry_after: seconds to the next window), -1 on error.
 * Accounts on an unlimited plan are not counted, but for failed
 * passphrases.
 */
int	limits_hit(struct app *, const struct caller *, const struct req *,
	    enum conf_event, long long *retry_after);

/* As limits_hit, without counting: 1 if the caller is already over. */
int	limits_over(struct app *, const struct caller *, const struct req *,
	    enum conf_event, long long *retry_after);

#endif
