/*
 * web: the HTML interface, server-rendered and without JavaScript.
 *
 *   GET  /                  the create form
 *   POST /                  create (then 303 to the receipt), or generate
 *   GET  /secret/KEY        the recipient's confirmation page: no change
 *   POST /secret/KEY        reveal once
 *   GET  /private/KEY       the creator's receipt: no change
 *   POST /private/KEY/burn  burn, then 303 to the receipt
 *   GET  /static/NAME       the stylesheet (when the server does not)
 *
 * GET and HEAD never change anything, so link-preview bots and mail
 * scanners cannot consume a secret.  Form posts from another site are
 * refused (Origin and Sec-Fetch-Site).  Every value reaches the page
 * through tmpl's escaping writer.
 */
#ifndef OTS_WEB_H
#define OTS_WEB_H

#include <stddef.h>

#include "ctx.h"

struct req;
struct resp;
struct web;

/*
 * Load the templates and static files under dir (templates/, static/).
 * NULL with a message on error.
 */
struct web	*web_open(const char *dir, char *err, size_t errlen);
void		 web_close(struct web *);

/* The page handlers (the pages have no accounts: the caller is anonymous). */
handler_fn	web_index;		/* GET / */
handler_fn	web_create;		/* POST / */
handler_fn	web_secret;		/* GET /secret/KEY */
handler_fn	web_reveal;		/* POST /secret/KEY */
handler_fn	web_receipt;		/* GET /private/KEY */
handler_fn	web_burn;		/* POST /private/KEY/burn */
handler_fn	web_request;		/* GET /request/KEY */
handler_fn	web_answer;		/* POST /request/KEY */
handler_fn	web_static;		/* GET /static/NAME */
handler_fn	web_missing;		/* no such page */
handler_fn	web_metrics;		/* GET /metrics (Prometheus) */
handler_fn	web_wrong_method;	/* a page, another method */

/*
 * 1 if a form post comes from our own pages: Sec-Fetch-Site is same-origin
 * or none, and Origin (when sent) is this host, or "null" beside
 * Sec-Fetch-Site.  Clients that send neither header (curl) pass.
 */
int	web_same_origin(const struct req *);

/* Fill resp with the page refusing a cross-site form post. */
void	web_cross_site(const struct web *, struct resp *);

/* Fill resp with an error page. */
void	web_error(const struct web *, struct resp *, int status,
	    const char *heading, const char *message);

/* Add the headers every page carries. */
void	web_headers(struct resp *);

#endif
