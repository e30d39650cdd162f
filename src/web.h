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

struct app;
struct caller;
struct req;
struct resp;
struct route;
struct web;

/*
 * Load the templates and static files under dir (templates/, static/).
 * NULL with a message on error.
 */
struct web	*web_open(const char *dir, char *err, size_t errlen);
void		 web_close(struct web *);

/* Serve a page route, or the HTML "not found" page, for caller c (always
 * anonymous: the pages have no accounts). */
void	web_handle(struct app *, const struct caller *, const struct req *,
	    const struct route *, struct resp *);

/*
 * 1 if a form post comes from our own pages: Sec-Fetch-Site is same-origin
 * or none, and Origin (when sent) is this host, or "null" beside
 * Sec-Fetch-Site.  Clients that send neither header (curl) pass.
 */
int	web_same_origin(const struct req *);

/* Fill resp with the page refusing a cross-site form post. */
void	web_cross_site(struct app *, struct resp *);

/* Fill resp with an error page. */
void	web_error(struct app *, struct resp *, int status, const char *heading,
	    const char *message);

/* Add the headers every page carries. */
void	web_headers(struct resp *);

#endif
