/*
 * app: one worker's long-lived state (configuration, store, master key)
 * and the request cycle: read the request, authenticate, route, run the
 * handler, fill the response.  Transport-free: cgi-bin/ots feeds it from
 * FastCGI or CGI, the tests from anything.
 */
#ifndef OTS_APP_H
#define OTS_APP_H

#include <stddef.h>

#include "auth.h"
#include "store.h"

struct conf;
struct crypto;
struct http_io;
struct resp;
struct web;

struct app {
	const struct conf	*conf;
	struct store		*store;		/* NULL until it opens */
	struct crypto		*crypto;
	struct web		*web;		/* templates, static files */
	char			 origin[256];	/* scheme://host of base_url */
};

/* The caller of one request: an account, or anonymous. */
struct caller {
	int			 authenticated;
	struct store_customer	 cust;
	char			 token[AUTH_PASS_MAX + 1];	/* wiped */
	long long		 ttl_max;
	long long		 size_max;
	int			 unlimited;	/* plan exempt from rate limits */
};

/*
 * Set up a worker: load the master key now; the store opens on the first
 * request (and again after failures), so a worker started before `init`
 * answers 503 instead of dying.  NULL with a message on error.
 */
struct app	*app_open(const struct conf *, char *err, size_t errlen);
void		 app_close(struct app *);

/* Serve one request; always leaves a complete response in resp. */
void		 app_handle(struct app *, const struct http_io *, struct resp *);

/*
 * Work that waits until the response has been sent (the FastCGI request
 * finished, or stdout closed): deliver the mail the request queued.
 */
void		 app_after(struct app *, const struct resp *);

#endif
