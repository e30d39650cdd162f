#include "config.h"

#include <sys/statvfs.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api_v1.h"
#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "ctx.h"
#include "field.h"
#include "gate.h"
#include "http.h"
#include "i18n.h"
#include "keys.h"
#include "limits.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "route.h"
#include "secret.h"
#include "store.h"
#include "web.h"

struct app {
	struct ctx	 ctx;		/* first: app_readyz finds the app by it;
					 * ctx.store is NULL until it opens */
	struct crypto	*crypto;
	struct web	*web;
	struct gate	*gate;
	struct audit	*audit;
	enum store_role	 role;		/* STORE_CGI for one request */
};
_Static_assert(offsetof(struct app, ctx) == 0, "app_readyz casts its ctx");

static long long
now(void)
{
	return (long long)time(NULL);
}

struct app *
app_open(const struct conf *cf, int one_request, char *err, size_t errlen)
{
	struct app *a;
	const char *p;
	size_t n;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->ctx.conf = cf;
	a->role = one_request ? STORE_CGI : STORE_WORKER;
	a->ctx.clock = now;
	if ((a->crypto = crypto_open(cf->master_key, err, errlen)) == NULL ||
	    (a->web = web_open(cf->web_dir ? cf->web_dir : PKGDATADIR, err,
	    errlen)) == NULL ||
	    (a->gate = gate_open(cf, err, errlen)) == NULL ||
	    (a->audit = audit_open(cf)) == NULL) {
		if (a->gate != NULL)	/* the audit log's one failure */
			snprintf(err, errlen, "out of memory");
		app_close(a);
		return NULL;
	}
	/* the catalogues, before the sandbox; none: English pages */
	(void)i18n_open(cf->locale_dir ? cf->locale_dir : LOCALEDIR);
	web_set_root(a->web, cf->base_url);
	a->ctx.crypto = a->crypto;
	a->ctx.web = a->web;
	a->ctx.gate = a->gate;
	/* before the sandbox closes the file system; none: not counted */
	a->ctx.metrics = metrics_open(cf->state_dir, !one_request);
	a->ctx.audit = a->audit;
	/* share_domain of a reveal: the scheme and host of base_url */
	p = strstr(cf->base_url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	n = p ? (size_t)(p - cf->base_url) : strlen(cf->base_url);
	snprintf(a->ctx.origin, sizeof(a->ctx.origin), "%.*s", (int)n,
	    cf->base_url);
	return a;
}

void
app_close(struct app *a)
{
	if (a == NULL)
		return;
	store_close(a->ctx.store);
	crypto_close(a->crypto);
	web_close(a->web);
	gate_close(a->gate);
	metrics_close(a->ctx.metrics);
	audit_close(a->audit);
	free(a);
}

void
app_idle(struct app *a)
{
	store_idle(a->ctx.store);
}

/*
 * Open the store if it is not open yet, and refuse a master key other
 * than the one the database was made with: any version whose check value
 * differs.  New rows are sealed with the highest version the database
 * knows (store_check_keys).  0 ready, -1 not, -2 not for the key (logged).
 */
static int
ready(struct app *a)
{
	char err[512];
	int rc;

	if (a->ctx.store != NULL)
		return 0;
	if ((a->ctx.store = store_open(a->ctx.conf->database,
	    a->ctx.conf->database_password, a->role, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	store_set_clock(a->ctx.store, a->ctx.clock);
	if ((rc = store_check_keys(a->ctx.store, a->crypto,
	    &a->ctx.crypto)) == STORE_KEYS_MISSING)
		log_warnx("the database knows a master-key version that %s "
		    "lacks (a rotation since this worker started?): its "
		    "secrets answer unknown here until a restart",
		    a->ctx.conf->master_key);
	else if (rc != STORE_KEYS_MATCH) {
		if (rc == STORE_KEYS_MISMATCH)
			log_warnx("master key %s does not match the "
			    "database; refusing to serve",
			    a->ctx.conf->master_key);
		store_close(a->ctx.store);
		a->ctx.store = NULL;
		return rc == STORE_KEYS_MISMATCH ? -2 : -1;
	}
	return 0;
}

/* A probe's answer: one line of JSON. */
static void
probe_answer(struct resp *rs, const char *reason)
{
	rs->status = reason ? 503 : 200;
	rs->ctype = "application/json";
	if (reason)
		buf_printf(&rs->body, "{\"status\":\"unavailable\","
		    "\"reason\":\"%s\"}\n", reason);
	else
		buf_printf(&rs->body, "{\"status\":\"ok\"}\n");
}

void
app_healthz(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	(void)x;
	(void)c;
	(void)r;
	probe_answer(rs, NULL);
}

/* Why the app could not serve a request now, or NULL. */
static const char *
unready(struct app *a)
{
	const struct conf *cf = a->ctx.conf;
	struct statvfs vfs;
	long long now;
	const char *db;
	int rc;

	if ((rc = ready(a)) == -2)
		return "key";
	if (rc == -1 || store_ready(a->ctx.store, &now) == -1)
		return store_schema_bad() ? "schema" : "store";
	/* a database re-made since the open, a version rotated in since */
	if ((rc = store_check_keys(a->ctx.store, a->crypto, NULL)) !=
	    STORE_KEYS_MATCH)
		return rc == -1 ? "store" : "key";
	db = cf->database;
	if (cf->ready_min_free > 0 && !conf_is_postgresql(db)) {
		if (strncmp(db, "sqlite:", 7) == 0)
			db += 7;
		if (statvfs(db, &vfs) == -1 ||
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize <
		    (unsigned long long)cf->ready_min_free)
			return "disk";
	}
	return NULL;
}

void
app_readyz(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	/* the route table's handlers get the ctx; a probe needs its app */
	struct app *a = (struct app *)(uintptr_t)x;

	(void)c;
	(void)r;
	probe_answer(rs, unready(a));
}

/* Who is asking: the account's plan, or the anonymous limits. */
static void
set_limits(const struct conf *cf, struct caller *c)
{
	const struct conf_plan *pl;

	c->ttl_max = cf->anon_ttl_max;
	c->size_max = cf->anon_size_max;
	c->file_size_max = cf->anon_file_size_max;
	if (!c->authenticated)
		return;
	if ((pl = conf_plan(cf, c->cust.plan)) == NULL)
		pl = conf_plan(cf, CONF_DEFAULT_PLAN);
	c->ttl_max = pl->ttl_max;
	c->size_max = pl->size_max;
	c->file_size_max = pl->file_size_max;
	c->unlimited = pl->unlimited;
}

/*
 * The web server's user (REMOTE_USER, trusted only with web_remote_user)
 * as the caller's account, made on first use with web_auto_account.  The
 * name must be an e-mail address (an account's custid is where its notices
 * go).  1 signed in, 0 none, -1 no account for the name, -2 store error.
 */
static int
web_user(struct app *a, const struct req *r, struct caller *c)
{
	const struct conf *cf = a->ctx.conf;
	struct store_customer nc;
	char name[STORE_CUSTID_MAX + 1], token[KEYS_TOKEN_LEN + 1];
	size_t i, n;
	int rc, made = 0;

	if (!cf->web_remote_user || r->remote_user == NULL)
		return 0;
	n = strlen(r->remote_user);
	if (n > STORE_CUSTID_MAX || !mail_address_valid(r->remote_user, n))
		return -1;
	for (i = 0; i <= n; i++)
		name[i] = (r->remote_user[i] >= 'A' &&
		    r->remote_user[i] <= 'Z') ? r->remote_user[i] - 'A' + 'a' :
		    r->remote_user[i];
	if ((rc = store_customer_get(a->ctx.store, name, &c->cust)) == -1)
		return -2;
	if (rc == 0) {
		if (!cf->web_auto_account)
			return -1;
		/* an API token nobody knows: `ots-admin customer token`
		 * gives the account one */
		memset(&nc, 0, sizeof(nc));
		memcpy(nc.custid, name, n + 1);
		snprintf(nc.plan, sizeof(nc.plan), "%s", CONF_DEFAULT_PLAN);
		nc.created = r->now;
		keys_token(token);
		crypto_token_hash(a->ctx.crypto, token, KEYS_TOKEN_LEN,
		    nc.token_hash);
		sodium_memzero(token, sizeof(token));
		nc.key_version = crypto_key_version(a->ctx.crypto);
		/* 1: another request made it first */
		if ((rc = store_customer_add(a->ctx.store, &nc)) == -1 ||
		    store_customer_get(a->ctx.store, name, &c->cust) != 1)
			return -2;
		made = rc == 0;
	}
	c->authenticated = 1;
	c->web_user = 1;
	if (made)
		audit_request(&a->ctx, c, "account_add", "ok", NULL);
	secret_web_token(a->ctx.crypto, c->cust.custid, c->token);
	return 1;
}

/* 1 if the request carries a passphrase its route will check. */
static int
checks_passphrase(const struct route *rt, const struct req *r)
{
	size_t len;

	return (rt->flags & ROUTE_PASSPHRASE) &&
	    form_get(&r->form, P_PASSPHRASE, &len) != NULL && len > 0;
}

/*
 * Count the request's events against the rate limits: 1 over a limit
 * (*retry set), 0 within, -1 error.  A passphrase to check is counted as
 * a failure before it is checked (*reserved set; app_handle gives it back
 * unless it failed), so parallel guesses cannot pass the limit.  HEAD
 * counts nothing.
 */
static int
count_events(const struct ctx *x, const struct caller *c, const struct req *r,
    const struct route *rt, int *reserved, long long *retry)
{
	const char *p;
	size_t len;
	int rc;

	if (strcmp(r->method, "HEAD") == 0)
		return 0;
	if (checks_passphrase(rt, r)) {
		rc = limits_hit(x, c, r->now, EV_FAILED_PASSPHRASE, 1, retry);
		*reserved = rc != -1;
		if (rc != 0)
			return rc;
	}
	if (rt->event != EV_MAX &&
	    (rc = limits_hit(x, c, r->now, rt->event, 1, retry)) != 0)
		return rc;
	if ((rt->flags & ROUTE_RECIPIENT) &&
	    (p = form_get(&r->form, P_RECIPIENT, &len)) != NULL && len > 0)
		return limits_hit(x, c, r->now, EV_EMAIL_RECIPIENT, 1, retry);
	return 0;
}

/* An error before the handler: JSON for the API, else a page. */
static void
error(struct app *a, int api, struct resp *rs, int status, const char *msg)
{
	if (api)
		api_v1_error(rs, status, msg, NULL);
	else
		web_error(a->web, rs, status, status == 503 ?
		    _("Temporarily unavailable") : status == 429 ?
		    _("Slow down") : status == 401 ? _("Not authorized") :
		    _("Bad request"), _(msg));
}

/* The texts error() passes on to a page, for the catalogues. */
static const char *const page_messages[] __attribute__((unused)) = {
	N_("Service unavailable"),
	N_("Not authorized"),
	N_("Cripes! You have been rate limited."),
};

/*
 * The page's language: ?lang= (which the cookie then remembers), else the
 * lang cookie, else Accept-Language.  Every request sets it, so none
 * inherits the one before.
 */
static void
language(const struct req *r, int api, struct resp *rs)
{
	const char *v;
	char cookie[96];
	size_t len;
	int i = -1;

	if (!api && (v = form_get(&r->form, I18N_COOKIE, &len)) != NULL &&
	    (i = i18n_find(v, len)) >= 0 && len > 0) {
		snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=31536000;"
		    " SameSite=Lax; HttpOnly%s", I18N_COOKIE,
		    i18n_langs[i].code, r->https ? "; Secure" : "");
		http_header(rs, "Set-Cookie", cookie);
	}
	if (i < 0)
		i = i18n_cookie(r->cookie);
	if (i < 0)
		i = i18n_accept(r->accept_language);
	i18n_use(api ? 0 : i);
}

void
app_handle(struct app *a, const struct http_io *io, struct resp *rs)
{
	const struct conf *cf = a->ctx.conf;
	const struct route *rt = NULL;
	struct req r;
	struct caller c;
	const char *errstr = NULL;
	char num[24];
	long long retry = 0;
	int status, rc, api, reserved = 0;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	rs->status = 200;
	rc = http_req_read(&r, io, cf->body_max, cf->body_timeout * 1000,
	    &status, &errstr);
	/* after the body: a request held back cannot take an earlier time
	 * (routes that use the store read its clock below) */
	r.now = a->ctx.clock();
	api = r.api;
	language(&r, api, rs);
	if (api)
		api_v1_headers(rs);
	else
		web_headers(rs);
	rs->head_only = strcmp(r.method, "HEAD") == 0;
	if (rc == -1) {
		error(a, api, rs, status, errstr);
		goto out;
	}
	rt = route_match(&r);
	/* an internal route's existence is no one else's business */
	if (rt->flags & ROUTE_INTERNAL) {
		limits_client(cf, &r, c.addr);
		if (!util_addr_in_list(cf->metrics_allow, c.addr))
			rt = route_not_found();
		else if (ready(a) == 0)
			(void)store_ready(a->ctx.store, &r.now);
	}
	if (rt->flags & ROUTE_OPEN)
		goto handle;
	/* the store's clock decides expiry (several hosts: the database's) */
	if (ready(a) < 0 || store_ready(a->ctx.store, &r.now) == -1) {
		error(a, api, rs, 503, "Service unavailable");
		goto out;
	}
	/* the pages are anonymous; the API knows accounts */
	if (api && (rc = auth_check(a->ctx.store, a->ctx.crypto, r.authorization,
	    &c.cust, c.token)) < 0) {
		error(a, api, rs, rc == -2 ? 503 : 401, rc == -2 ?
		    "Service unavailable" : "Not authorized");
		goto out;
	}
	c.authenticated = api && rc == 1;
	if ((rt->flags & ROUTE_ACCOUNT) && !c.authenticated) {
		error(a, api, rs, 401, "Not authorized");
		goto out;
	}
	set_limits(cf, &c);
	limits_client(cf, &r, c.addr);
	/* the audit log's: a HEAD request records nothing */
	c.route = rs->head_only ? NULL : rt->pattern;
	c.now = r.now;
	if (a->ctx.audit != NULL)	/* random bytes only when logged */
		audit_request_id(r.unique_id != NULL ? r.unique_id :
		    (limits_from_proxy(cf, &r) ? r.request_id : NULL),
		    c.request);
	/* the pages' web user, and who may use the creator's pages */
	if (!api && (rt->flags & (ROUTE_WEB_CREATE | ROUTE_WEB_OWNER |
	    ROUTE_WEB_USER))) {
		if ((rc = web_user(a, &r, &c)) == -2) {
			error(a, api, rs, 503, "Service unavailable");
			goto out;
		}
		if (rc == -1 && web_policy(cf, rt->flags, 0, c.addr) == 401) {
			web_no_account(a->web, rs);
			goto out;
		}
		if ((status = web_policy(cf, rt->flags, rc == 1, c.addr)) != 0) {
			web_refused(a->web, rs, status);
			goto out;
		}
		if (rc == 1) {
			set_limits(cf, &c);
			rs->web_user = c.cust.custid;
		}
	}
	/* before anything is counted: another site's post costs nothing */
	if (!api && strcmp(r.method, "POST") == 0 && !web_same_origin(&r)) {
		web_cross_site(a->web, rs);
		goto out;
	}
	if ((rc = count_events(&a->ctx, &c, &r, rt, &reserved, &retry)) != 0) {
		if (rc == 1) {
			audit_request(&a->ctx, &c, "rate_limited", "refused",
			    NULL);
			snprintf(num, sizeof(num), "%lld", retry);
			http_header(rs, "Retry-After", num);
		}
		error(a, api, rs, rc == 1 ? 429 : 503, rc == 1 ?
		    "Cripes! You have been rate limited." :
		    "Service unavailable");
		goto out;
	}
handle:
	rt->handle(&a->ctx, &c, &r, rs);
out:
	/* a passphrase that did not fail gives its reservation back */
	if (reserved && !rs->failed_passphrase)
		limits_hit(&a->ctx, &c, r.now, EV_FAILED_PASSPHRASE, -1, &retry);
	/* the API says its errors with 404 and the status it means */
	metrics_request(a->ctx.metrics, rt != NULL ? (int)rt->id : R_INVALID,
	    rs->intended ? rs->intended : rs->status);
	rs->web_user = NULL;	/* c's, wiped below */
	sodium_memzero(&c, sizeof(c));
	http_req_free(&r);
}
