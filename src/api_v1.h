/*
 * api_v1: the Onetime Secret REST API v1 handlers (see shared spec
 * api-v1.md).  Each handler reads a validated request and fills a JSON
 * response; every error is HTTP 404 with X-OTS-Intended-Status carrying
 * the true status, as v1 clients expect.  The route table (route.c) says
 * which handler serves which path and what it needs (an account, the
 * store, rate limits) before it runs.
 */
#ifndef OTS_API_V1_H
#define OTS_API_V1_H

#include "ctx.h"

struct resp;

handler_fn	api_v1_status;		/* GET /status, /authcheck */
handler_fn	api_v1_share;		/* POST /share, /create */
handler_fn	api_v1_generate;	/* POST /generate */
handler_fn	api_v1_reveal;		/* POST /secret/KEY */
handler_fn	api_v1_metadata;	/* GET|POST /private/KEY */
handler_fn	api_v1_burn;		/* POST /private/KEY/burn */
handler_fn	api_v1_recent;		/* GET /private/recent */
handler_fn	api_v1_request;		/* POST /request (an extension) */
handler_fn	api_v1_not_found;	/* anything else under /api/ */
handler_fn	api_v1_bad_method;	/* a known path, another method */

/* Fill resp with the v1 error {"message":msg} (with secret_key first when
 * key is not NULL) and the intended status. */
void	api_v1_error(struct resp *, int intended, const char *msg,
	    const char *key);

/* Add the headers every v1 response carries. */
void	api_v1_headers(struct resp *);

#endif
