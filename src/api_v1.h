/*
 * api_v1: the Onetime Secret REST API v1 handlers (see shared spec
 * api-v1.md).  Each handler reads a validated request and fills a JSON
 * response; every error is HTTP 404 with X-OTS-Intended-Status carrying
 * the true status, as v1 clients expect.
 */
#ifndef OTS_API_V1_H
#define OTS_API_V1_H

#include <stddef.h>

struct app;
struct caller;
struct req;
struct resp;
struct route;

/* Run the handler for route.  Never fails: errors become responses. */
void	api_v1_handle(struct app *, const struct caller *, const struct req *,
	    const struct route *, struct resp *);

/* Fill resp with the v1 error {"message":msg} (with secret_key first when
 * key is not NULL) and the intended status. */
void	api_v1_error(struct resp *, int intended, const char *msg,
	    const char *key);

/* Add the headers every v1 response carries. */
void	api_v1_headers(struct resp *);

#endif
