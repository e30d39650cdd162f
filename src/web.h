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
 *   GET  /my                a web user's secrets ("My secrets")
 *   POST /my/notify         a web user's notices of reveals
 *
 * The web user is the web server's REMOTE_USER (its sign-in), trusted only
 * with web_remote_user = yes; app.c makes it the caller's account.
 *
 * GET and HEAD never change anything, so link-preview bots and mail
 * scanners cannot consume a secret.  Form posts from another site are
 * refused (Origin and Sec-Fetch-Site).  Every value reaches the page
 * through tmpl's escaping writer.
 */
#ifndef OTS_WEB_H
#define OTS_WEB_H

#include "util.h"

#include <stddef.h>

#include "ctx.h"

struct conf;
struct req;
struct resp;
struct web;

/*
 * Load the templates and static files under dir (templates/, static/).
 * NULL with a message on error.
 */
struct web	*web_open(const char *dir, char *err, size_t errlen);

#define WEB_ROOT_MAX	255	/* the path of base_url */

/*
 * The mount point: the path of base_url ("" at a site's root, "/ots"
 * below a prefix), put before every link, form action and redirect.
 */
void		 web_set_root(struct web *, const char *base_url);
const char	*web_root(const struct web *);
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
handler_fn	web_my;			/* GET /my */
handler_fn	web_my_notify;		/* POST /my/notify */
handler_fn	web_my_request;		/* POST /my/request: a request link */
handler_fn	web_missing;		/* no such page */
handler_fn	web_metrics;		/* GET /metrics (Prometheus) */
handler_fn	web_wrong_method;	/* a page, another method */

/*
 * 1 if a form post comes from our own pages: Sec-Fetch-Site is same-origin
 * or none, and Origin (when sent) is this host, or "null" beside
 * Sec-Fetch-Site.  Clients that send neither header (curl) pass.
 */
int	web_same_origin(const struct req *);

/*
 * The Content-Disposition value of a download of a file named name
 * (util_file_name's output, UTF-8): attachment; filename="ASCII" (each
 * byte outside printable ASCII, and '%', '"', '\\', as '_');
 * filename*=UTF-8''PERCENT-ENCODED (RFC 6266, RFC 8187).  Into out (room
 * for WEB_DISPOSITION_MAX bytes with the NUL); its length.
 */
#define WEB_DISPOSITION_MAX	(64 + 4 * UTIL_FILE_NAME_MAX)
size_t	web_disposition(const char *name, char *out);

/* Fill resp with the page refusing a cross-site form post. */
void	web_cross_site(const struct web *, struct resp *);

/* Fill resp with an error page. */
void	web_error(const struct web *, struct resp *, int status,
	    const char *heading, const char *message);

/*
 * Who may use a page of route flags (route.h) under the web_* settings:
 * 0 allowed, 401 a web user is needed (have_user 0), 403 the client
 * address is outside web_create_networks.
 */
int	web_policy(const struct conf *, unsigned flags, int have_user,
	    const char *addr);

/* Fill resp with the page refusing a web user (name not an address, or
 * no account and web_auto_account = no). */
void	web_no_account(const struct web *, struct resp *);

/* Fill resp with the refusal web_policy's status names. */
void	web_refused(const struct web *, struct resp *, int status);

/* Add the headers every page carries. */
void	web_headers(struct resp *);

#endif
