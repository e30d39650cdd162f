/*
 * route: method + path -> route, by one declared table that also carries
 * each route's policy: its handler, whether it is API or page, whether it
 * needs an account or the store, and which rate-limited events a request
 * counts.  A path that matches no pattern gets the API's or the pages'
 * "not found" route; a path that matches with another method gets their
 * "method not allowed" route, with the Allow value in the request.
 */
#ifndef OTS_ROUTE_H
#define OTS_ROUTE_H

#include "conf.h"
#include "ctx.h"

struct req;

enum route_id {
	R_NOT_FOUND,
	R_BAD_METHOD,
	R_STATUS,
	R_AUTHCHECK,
	R_SHARE,
	R_GENERATE,
	R_REVEAL,
	R_METADATA,
	R_BURN,
	R_RECENT,
	R_REQUEST,	/* POST /api/v1/request: an extension */
	/* the web pages */
	R_WEB_INDEX,
	R_WEB_CREATE,
	R_WEB_SECRET,
	R_WEB_REVEAL,
	R_WEB_RECEIPT,
	R_WEB_BURN,
	R_WEB_REQUEST,
	R_WEB_ANSWER,
	R_WEB_MY,	/* GET /my: a web user's secrets */
	R_WEB_MY_NOTIFY,	/* POST /my/notify: their notices */
	R_WEB_MY_REQUEST,	/* POST /my/request: a request link */
	R_STATIC,
	/* probes, answered by app.c itself */
	R_HEALTHZ,
	R_READYZ,
	R_METRICS,	/* GET /metrics, to metrics_allow's clients only */
	R_INVALID,	/* a request that could not be read */
	R_MAX
};

/* Policy flags of a route. */
#define ROUTE_API		0x01	/* v1 JSON answers, Basic auth */
#define ROUTE_ACCOUNT		0x02	/* refused (401) without an account */
#define ROUTE_OPEN		0x04	/* served without the store */
#define ROUTE_RECIPIENT		0x08	/* a recipient counts email_recipient */
#define ROUTE_PASSPHRASE	0x10	/* checks a passphrase parameter */
#define ROUTE_INTERNAL		0x20	/* for metrics_allow's clients; to
					 * others a page that is not there */
#define ROUTE_WEB_CREATE	0x40	/* the create pages: web_create and
					 * web_create_networks decide */
#define ROUTE_WEB_OWNER		0x80	/* a creator's page (receipt, burn):
					 * web_create = authenticated needs a
					 * web user */
#define ROUTE_WEB_USER		0x100	/* needs a web user (My secrets) */

struct route {
	enum route_id	 id;
	const char	*pattern;	/* '*' matches one segment: the key */
	const char	*methods;	/* space-separated */
	handler_fn	*handle;
	enum conf_event	 event;		/* counted by GET/POST; EV_MAX: none */
	unsigned	 flags;
};

/*
 * The route of the request's method and path; fills r->key (the path's
 * key segment) and, for R_BAD_METHOD, r->allow.  Never NULL.
 */
const struct route *route_match(struct req *r);

/* The pages' "not found" route, for a request refused as if unknown. */
const struct route *route_not_found(void);

/* A route id's name for the metrics ("reveal", "web_create"...). */
const char	*route_name(enum route_id);

#endif
