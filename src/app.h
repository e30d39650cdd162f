/*
 * app: one worker's long-lived state (configuration, store, master key,
 * templates, the passphrase gate) and the request cycle: read the request,
 * route it, authenticate, apply the route's policy (account, cross-site
 * posts, rate limits), run its handler, fill the response.  Transport-free:
 * cgi-bin/ots feeds it from FastCGI or CGI, the tests from anything.
 */
#ifndef OTS_APP_H
#define OTS_APP_H

#include <stddef.h>

struct app;
struct conf;
struct http_io;
struct resp;

/*
 * Set up a worker: load the master key, the templates and the gate (a file
 * in the database's directory, which must exist) now; the store opens on
 * the first request (and again after failures), so a worker whose
 * database is missing or unreadable answers 503 instead of dying.
 * one_request: plain CGI, a process per request (the store keeps nothing
 * for a second one).  NULL with a message on error.
 */
struct app	*app_open(const struct conf *, int one_request, char *err,
		    size_t errlen);
void		 app_close(struct app *);

/* Serve one request; always leaves a complete response in resp. */
void		 app_handle(struct app *, const struct http_io *, struct resp *);
/* Between requests, the last answer sent: the store's upkeep. */
void		 app_idle(struct app *);


#endif
