#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api_v1.h"
#include "app.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "limits.h"
#include "log.h"
#include "outbox.h"
#include "route.h"
#include "store.h"
#include "web.h"


struct app *
app_open(const struct conf *cf, char *err, size_t errlen)
{
	struct app *a;
	const char *p;
	size_t n;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->conf = cf;
	if ((a->crypto = crypto_open(cf->master_key, err, errlen)) == NULL ||
	    (a->web = web_open(cf->web_dir ? cf->web_dir : PKGDATADIR, err,
	    errlen)) == NULL) {
		app_close(a);
		return NULL;
	}
	/* share_domain of a reveal: the scheme and host of base_url */
	p = strstr(cf->base_url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	n = p ? (size_t)(p - cf->base_url) : strlen(cf->base_url);
	snprintf(a->origin, sizeof(a->origin), "%.*s", (int)n, cf->base_url);
	return a;
}

void
app_close(struct app *a)
{
	if (a == NULL)
		return;
	store_close(a->store);
	crypto_close(a->crypto);
	web_close(a->web);
	free(a);
}

/*
 * Open the store if it is not open yet, and refuse a master key other
 * than the one the database was made with.  0 ready, -1 not (logged).
 */
static int
ready(struct app *a)
{
	unsigned char check[CRYPTO_ID_LEN];
	char err[512];
	int rc;

	if (a->store != NULL)
		return 0;
	if ((a->store = store_open(a->conf->database, 0, err, sizeof(err)))
	    == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	crypto_check_value(a->crypto, check);
	if ((rc = store_check_key(a->store, check)) != 1) {
		if (rc == 0)
			log_warnx("%s: master key %s does not match this "
			    "database; refusing to serve", a->conf->database,
			    a->conf->master_key);
		store_close(a->store);
		a->store = NULL;
		return -1;
	}
	return 0;
}

static void
set_limits(const struct conf *cf, struct caller *c)
{
	const struct conf_plan *pl;

	c->ttl_max = cf->anon_ttl_max;
	c->size_max = cf->anon_size_max;
	if (!c->authenticated)
		return;
	if ((pl = conf_plan(cf, c->cust.plan)) == NULL)
		pl = conf_plan(cf, CONF_DEFAULT_PLAN);
	c->ttl_max = pl->ttl_max;
	c->size_max = pl->size_max;
	c->unlimited = pl->unlimited;
}

/*
 * Count the request's events against the rate limits: 1 over a limit
 * (*retry set), 0 within, -1 error.  A request carrying a passphrase is
 * refused up front while the caller is over the failed_passphrase limit.
 */
static int
rate_limited(struct app *a, const struct caller *c, const struct req *r,
    const struct route *rt, long long *retry)
{
	enum conf_event ev[2];
	const char *p;
	size_t n = 0, i, len;
	int rc;

	switch (rt->id) {
	case R_SHARE:
	case R_GENERATE:
	case R_WEB_CREATE:
		ev[n++] = EV_CREATE_SECRET;
		if ((p = form_get(&r->form, "recipient", &len)) && len > 0)
			ev[n++] = EV_EMAIL_RECIPIENT;
		break;
	case R_REVEAL:
	case R_WEB_REVEAL:
		ev[n++] = EV_SHOW_SECRET;
		break;
	case R_METADATA:
		if (strcmp(r->method, "HEAD") != 0)
			ev[n++] = EV_SHOW_METADATA;
		break;
	case R_BURN:
	case R_WEB_BURN:
		ev[n++] = EV_BURN_SECRET;
		break;
	default:
		return 0;
	}
	if ((rt->id == R_REVEAL || rt->id == R_WEB_REVEAL || rt->id == R_BURN
	    || rt->id == R_WEB_BURN) &&
	    (p = form_get(&r->form, "passphrase", &len)) != NULL && len > 0 &&
	    (rc = limits_over(a, c, r, EV_FAILED_PASSPHRASE, retry)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = limits_hit(a, c, r, ev[i], retry)) != 0)
			return rc;
	return 0;
}

/* An error before the route is known: JSON for the API, else a page. */
static void
error(struct app *a, int api, struct resp *rs, int status, const char *msg)
{
	if (api)
		api_v1_error(rs, status, msg, NULL);
	else
		web_error(a, rs, status, status == 503 ?
		    "Temporarily unavailable" : status == 429 ?
		    "Slow down" : "Bad request", msg);
}

void
app_handle(struct app *a, const struct http_io *io, struct resp *rs)
{
	struct req r;
	struct route rt;
	struct caller c;
	const char *errstr = NULL;
	char num[24];
	long long retry;
	int status, rc;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	rs->status = 200;
	rc = http_req_read(&r, io, a->conf->body_max, &status, &errstr);
	if (r.api)
		api_v1_headers(rs);
	else
		web_headers(rs);
	if (rc == -1) {
		error(a, r.api, rs, status, errstr);
		goto out;
	}
	rs->head_only = strcmp(r.method, "HEAD") == 0;
	route_match(r.method, r.path, &rt);
	if (rt.id == R_NOT_FOUND || rt.id == R_BAD_METHOD || rt.id == R_STATIC)
		goto handle;
	if (ready(a) == -1) {
		error(a, r.api, rs, 503, "Service unavailable");
		goto out;
	}
	/* the pages are anonymous; the API knows accounts */
	if (r.api && (rc = auth_check(a->store, a->crypto, r.authorization,
	    &c.cust, c.token)) < 0) {
		error(a, r.api, rs, rc == -2 ? 503 : 401, rc == -2 ?
		    "Service unavailable" : "Not authorized");
		goto out;
	}
	c.authenticated = r.api && rc == 1;
	set_limits(a->conf, &c);
	/* before anything is counted: another site's post costs nothing */
	if (!r.api && strcmp(r.method, "POST") == 0 && !web_same_origin(&r)) {
		web_cross_site(a, rs);
		goto out;
	}
	if ((rc = rate_limited(a, &c, &r, &rt, &retry)) != 0) {
		if (rc == 1) {
			snprintf(num, sizeof(num), "%lld", retry);
			http_header(rs, "Retry-After", num);
		}
		error(a, r.api, rs, rc == 1 ? 429 : 503, rc == 1 ?
		    "Cripes! You have been rate limited." :
		    "Service unavailable");
		goto out;
	}
handle:
	if (r.api)
		api_v1_handle(a, &c, &r, &rt, rs);
	else
		web_handle(a, &c, &r, &rt, rs);
	if (rs->failed_passphrase)
		limits_hit(a, &c, &r, EV_FAILED_PASSPHRASE, &retry);
out:
	sodium_memzero(&c, sizeof(c));
	http_req_free(&r);
}

void
app_after(struct app *a, const struct resp *rs)
{
	/* a failure is already scheduled for retry by ots-sweep */
	if (rs->mail_id > 0 && a->store != NULL)
		outbox_deliver(a->store, a->crypto, a->conf, rs->mail_id,
		    (long long)time(NULL), NULL);
}
