/*
 * ctx: the narrow context the handlers and the secret life cycle run in:
 * the store, the crypto keys, the settings, the page templates, the gate on
 * passphrase checks and a clock.  Nothing here knows of FastCGI, CGI or
 * the worker: app fills a ctx for the request cycle, a unit test fills one
 * with a temporary database and a clock it moves.  Also the caller of a
 * request, and the one shape every handler has.
 */
#ifndef OTS_CTX_H
#define OTS_CTX_H

#include "auth.h"
#include "store.h"

struct audit;
struct conf;
struct crypto;
struct gate;
struct metrics;
struct req;
struct resp;
struct web;

#define CTX_ADDR_MAX	64	/* a client address as text */
#define CTX_ORIGIN_MAX	255	/* scheme://host of base_url */
#define CTX_REQUEST_MAX	64	/* a request id (audit.h) */

struct ctx {
	const struct conf	*conf;
	struct store		*store;
	const struct crypto	*crypto;	/* the sealing key version's;
						 * crypto_newest/_older: all */
	const struct web	*web;		/* pages; NULL: none loaded */
	struct gate		*gate;		/* NULL: passphrase checks unbounded */
	struct metrics		*metrics;	/* NULL: not counted */
	struct audit		*audit;		/* NULL: no audit log */
	long long		(*clock)(void);	/* unix seconds, now */
	char			 origin[CTX_ORIGIN_MAX + 1];
};

/* The caller of one request: an account, or anonymous, and where from. */
struct caller {
	int			 authenticated;
	int			 web_user;	/* the account is the web server's
						 * user (REMOTE_USER): token is
						 * derived from the master key */
	struct store_customer	 cust;
	char			 token[AUTH_PASS_MAX + 1];	/* wiped */
	char			 addr[CTX_ADDR_MAX + 1];	/* client address */
	const char		*route;		/* its pattern; NULL: not audited */
	char			 request[CTX_REQUEST_MAX + 1];	/* its id */
	long long		 now;		/* the request's time */
	long long		 ttl_max;
	long long		 size_max;
	long long		 file_size_max;	/* bytes of a file secret */
	int			 unlimited;	/* plan exempt from rate limits */
};

/*
 * A handler: reads a validated request of a route it was matched to (the
 * route's key is in the request) and fills the response.  Never fails:
 * errors become responses.
 */
typedef void	handler_fn(const struct ctx *, const struct caller *,
		    const struct req *, struct resp *);

#endif
