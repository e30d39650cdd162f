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
struct caller;
struct conf;
struct ctx;
struct http_io;
struct req;
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

/*
 * The probes, counted against no limit, telling nothing of the version or
 * the files: GET /healthz answers 200 while the process answers at all;
 * GET /readyz answers 200 when a request could be served: the store
 * answers, its schema is one this program serves, the master key matches
 * the database's, and the database's file system has ready_min_free bytes
 * free (SQLite; a PostgreSQL server's disk is its own to watch), else 503
 * with the first reason.  Bodies are one line of JSON.  Handlers of the
 * route table; their ctx must be an app's.
 */
void		 app_healthz(const struct ctx *, const struct caller *,
		    const struct req *, struct resp *);
void		 app_readyz(const struct ctx *, const struct caller *,
		    const struct req *, struct resp *);


#endif
