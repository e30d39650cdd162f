#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "conf.h"
#include "ctx.h"
#include "field.h"
#include "gate.h"
#include "http.h"
#include "secret.h"
#include "store.h"
#include "tmpl.h"
#include "util.h"
#include "i18n.h"
#include "metrics.h"
#include "request.h"
#include "route.h"
#include "web.h"

#define VARS_MAX	24

/* The static files the app can serve itself. */
static const struct {
	const char	*name;
	const char	*ctype;
} statics[] = {
	{ "ots.css", "text/css; charset=utf-8" },
};
#define NSTATIC	(sizeof(statics) / sizeof(statics[0]))

struct web {
	struct tmpl	*tmpl;
	struct buf	 file[NSTATIC];
};

/* Choices of the lifetime select: seconds, and the template's names. */
static const struct lifetime {
	long long	 ttl;
	const char	*offer, *sel;
} lifetimes[] = {
	{ 300, "ttl_300", "sel_300" },
	{ 3600, "ttl_3600", "sel_3600" },
	{ 86400, "ttl_86400", "sel_86400" },
	{ 259200, "ttl_259200", "sel_259200" },
	{ 604800, "ttl_604800", "sel_604800" },
	{ 1209600, "ttl_1209600", "sel_1209600" },
	{ 2592000, "ttl_2592000", "sel_2592000" },
};

static const char *const state_text[] = {
	[STATE_NEW] = "Not yet opened",
	[STATE_VIEWED] = "Not yet opened",
	[STATE_RECEIVED] = "Opened: the secret is gone",
	[STATE_BURNED] = "Burned: the secret is gone",
	[STATE_EXPIRED] = "Expired: the secret is gone",
};

struct web *
web_open(const char *dir, char *err, size_t errlen)
{
	struct web *w;
	char path[4096];
	size_t i, n;
	FILE *f;
	char chunk[4096];

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/templates", dir);
	if ((w->tmpl = tmpl_load(path, err, errlen)) == NULL)
		goto fail;
	for (i = 0; i < NSTATIC; i++) {
		snprintf(path, sizeof(path), "%s/static/%s", dir,
		    statics[i].name);
		if ((f = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: cannot open", path);
			goto fail;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&w->file[i], chunk, n);
		fclose(f);
	}
	return w;
fail:
	web_close(w);
	return NULL;
}

void
web_close(struct web *w)
{
	size_t i;

	if (w == NULL)
		return;
	tmpl_free(w->tmpl);
	for (i = 0; i < NSTATIC; i++)
		buf_free(&w->file[i]);
	free(w);
}

void
web_headers(struct resp *rs)
{
	http_header(rs, "Cache-Control", "no-store");
	http_header(rs, "Referrer-Policy", "no-referrer");
	http_header(rs, "X-Content-Type-Options", "nosniff");
	http_header(rs, "Content-Security-Policy", "default-src 'self'; "
	    "script-src 'none'; frame-ancestors 'none'; form-action 'self'");
}

/* Variables of one page. */
struct vars {
	struct tmpl_var	 v[VARS_MAX];
	size_t		 n;
	char		 num[8][32];	/* storage for numbers and times */
	size_t		 nnum;
};

static void
set(struct vars *vs, const char *name, const char *value)
{
	if (vs->n < VARS_MAX) {
		vs->v[vs->n].name = name;
		vs->v[vs->n].value = value;
		vs->n++;
	}
}

/* Storage for a formatted value, owned by vs. */
static char *
slot(struct vars *vs)
{
	return vs->nnum < 8 ? vs->num[vs->nnum++] : vs->num[7];
}

static void
set_time(struct vars *vs, const char *name, long long when)
{
	char *s = slot(vs);
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(s, 32, "%Y-%m-%d %H:%M UTC", &tm);
	set(vs, name, s);
}

static void
set_duration(struct vars *vs, const char *name, long long secs)
{
	char *s = slot(vs);
	long long d = secs / 86400, h = secs % 86400 / 3600,
	    m = secs % 3600 / 60;

	if (d > 0)
		snprintf(s, 32, "%lld day%s, %lld hour%s", d, d == 1 ? "" : "s",
		    h, h == 1 ? "" : "s");
	else if (h > 0)
		snprintf(s, 32, "%lld hour%s, %lld minute%s", h,
		    h == 1 ? "" : "s", m, m == 1 ? "" : "s");
	else if (m > 0)
		snprintf(s, 32, "%lld minute%s", m, m == 1 ? "" : "s");
	else
		snprintf(s, 32, "less than a minute");
	set(vs, name, s);
}

/* Render page into the response (500 page if the template fails). */
static void
page(const struct web *w, struct resp *rs, int status, const char *name,
    struct vars *vs)
{
	rs->status = status;
	rs->ctype = "text/html; charset=utf-8";
	buf_free(&rs->body);
	if (tmpl_render(w->tmpl, name, vs->v, vs->n, &rs->body) == -1) {
		buf_free(&rs->body);
		rs->status = 500;
		rs->ctype = "text/plain; charset=utf-8";
		buf_puts(&rs->body, "Internal error: a page template failed.\n");
	}
}

void
web_error(const struct web *w, struct resp *rs, int status,
    const char *heading, const char *message)
{
	struct vars vs = { .n = 0 };

	set(&vs, "title", heading);
	set(&vs, "heading", heading);
	set(&vs, "message", message);
	page(w, rs, status, "error", &vs);
}

void
web_cross_site(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 403, "Form refused",
	    "This form was sent from another site, so it was refused. "
	    "Open ots directly and try again.");
}

/* The store failed (a database away, say): nothing changed, try again. */
static void
server_error(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 503, "Temporarily unavailable",
	    "The server could not finish this. Nothing was changed; "
	    "please try again in a moment.");
}

static void
gone(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 404, "This secret is not available",
	    "It may have been opened already, burned, or expired, or the "
	    "link is incomplete. A secret link works only once.");
}

static void
locked(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 429, "Too many wrong passphrases",
	    "This secret is locked for a while after too many wrong "
	    "passphrases. Try again later, or ask the sender for a new link.");
}

/* 303 to the receipt of metadata key mkey. */
static void
to_receipt(struct resp *rs, const char *mkey)
{
	char loc[HTTP_PATH_MAX + 16];

	snprintf(loc, sizeof(loc), "/private/%s", mkey);
	rs->status = 303;
	rs->ctype = "text/plain; charset=utf-8";
	http_header(rs, "Location", loc);
	buf_free(&rs->body);
}

int
web_same_origin(const struct req *r)
{
	char self[300];

	if (r->fetch_site != NULL && strcmp(r->fetch_site, "same-origin") != 0
	    && strcmp(r->fetch_site, "none") != 0)
		return 0;
	/*
	 * Our pages say Referrer-Policy: no-referrer, so a browser posts their
	 * forms with "Origin: null"; Sec-Fetch-Site (checked above) then says
	 * where the form came from.  Without it, "null" is refused.
	 */
	if (r->origin == NULL ||
	    (r->fetch_site != NULL && strcmp(r->origin, "null") == 0))
		return 1;
	if (r->host == NULL)
		return 0;
	snprintf(self, sizeof(self), "%s://%s", r->https ? "https" : "http",
	    r->host);
	return strcmp(r->origin, self) == 0;
}

static void
index_page(const struct ctx *x, const struct caller *c, struct resp *rs,
    int status, const char *error)
{
	struct vars vs = { .n = 0 };
	char *size = slot(&vs);
	size_t i, pick = 0;

	set(&vs, "title", "Share a secret");
	set(&vs, "error", error);
	snprintf(size, 32, "%lld", c->size_max);
	set(&vs, "size_max", size);
	set(&vs, "passphrase_required",
	    x->conf->passphrase_required ? "1" : NULL);
	/* offer the lifetimes allowed; preselect the longest up to default */
	for (i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++)
		if (lifetimes[i].ttl <= c->ttl_max) {
			set(&vs, lifetimes[i].offer, "1");
			if (lifetimes[i].ttl <= x->conf->ttl_default)
				pick = i;
		}
	set(&vs, lifetimes[pick].sel, "1");
	page(x->web, rs, status, "index", &vs);
}

void
web_index(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	(void)r;
	index_page(x, c, rs, 200, NULL);
}

/* The receipt page; value is a generated password to show once. */
static void
receipt_page(const struct ctx *x, const struct req *r,
    const struct store_meta *m, const char *mkey, const char *skey,
    const char *value, int status, const char *error, struct resp *rs)
{
	struct vars vs = { .n = 0 };
	char link[512], receipt[512];
	int live = m->state == STATE_NEW || m->state == STATE_VIEWED;

	set(&vs, "title", "Your secret link");
	set(&vs, "error", error);
	set(&vs, "value", value);
	set(&vs, "metadata_key", mkey);
	if (value != NULL) {
		/* this page answers a POST: name the receipt's own address */
		snprintf(receipt, sizeof(receipt), "%s/private/%s",
		    x->conf->base_url, mkey);
		set(&vs, "receipt_link", receipt);
	}
	if (live) {
		snprintf(link, sizeof(link), "%s/secret/%s", x->conf->base_url,
		    skey);
		set(&vs, "share_link", link);
		set(&vs, "can_burn", "1");
		set(&vs, "passphrase", m->passphrase ? "1" : NULL);
		set_duration(&vs, "time_left", m->secret_expires - r->now);
	}
	set(&vs, "state", store_state_name(m->state));
	set(&vs, "state_text", state_text[m->state]);
	if (m->state == STATE_RECEIVED)
		set_time(&vs, "received", m->received);
	set_time(&vs, "created", m->created);
	page(x->web, rs, status, "receipt", &vs);
	sodium_memzero(link, sizeof(link));
}

/* No room at the gate: the same words as a rate limit, and when to retry. */
static void
busy(const struct web *w, struct resp *rs)
{
	char num[8];

	snprintf(num, sizeof(num), "%d", GATE_RETRY);
	http_header(rs, "Retry-After", num);
	web_error(w, rs, 429, "Slow down",
	    "Too many passphrases are being checked right now. Try again in "
	    "a moment.");
}

void
web_create(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct secret_new in;
	struct secret_made out;
	const char *action = form_get(&r->form, P_ACTION, NULL);
	int generate = action != NULL && strcmp(action, "generate") == 0;

	memset(&in, 0, sizeof(in));
	if (!generate &&
	    (in.value = form_get(&r->form, P_SECRET, &in.len)) == NULL)
		in.value = "";
	in.pass = form_get(&r->form, P_PASSPHRASE, &in.plen);
	in.ttl = form_get(&r->form, P_TTL, &in.ttl_len);
	switch (secret_create(x, c, &in, r->now, &out)) {
	case SECRET_OK:
		if (generate)
			receipt_page(x, r, &out.meta, out.mkey, out.skey,
			    out.value, 200, NULL, rs);
		else
			to_receipt(rs, out.mkey);
		break;
	case SECRET_INVALID:
		index_page(x, c, rs, out.status, out.message);
		break;
	case SECRET_BUSY:
		busy(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
	secret_made_clear(&out);
}

void
web_receipt(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];
	enum secret_result rc;

	rc = secret_receipt(x, r->key, r->keylen, r->now, 0, &m, skey);
	audit_request(x, c, "receipt", secret_outcome(rc),
	    rc == SECRET_OK ? m.secret_id : NULL);
	switch (rc) {
	case SECRET_OK:
		receipt_page(x, r, &m, r->key, skey, NULL, 200, NULL, rs);
		break;
	case SECRET_UNKNOWN:
		web_error(x->web, rs, 404, "Unknown receipt",
		    "There is no receipt here: it has expired, or the link is "
		    "incomplete.");
		break;
	default:
		server_error(x->web, rs);
	}
	sodium_memzero(skey, sizeof(skey));
}

void
web_burn(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];
	const char *pass;
	size_t plen = 0;

	pass = form_get(&r->form, P_PASSPHRASE, &plen);
	switch (secret_burn(x, c, r->key, r->keylen, pass, plen, r->now, &m,
	    skey)) {
	case SECRET_OK:
		to_receipt(rs, r->key);
		break;
	case SECRET_UNKNOWN:	/* the receipt tells what became of it */
		web_receipt(x, c, r, rs);
		break;
	case SECRET_WRONG:
		rs->failed_passphrase = plen > 0;
		/* read again: the failure that reaches burn_after burned it */
		if (secret_receipt(x, r->key, r->keylen, r->now, 0, &m, skey) !=
		    SECRET_OK) {
			server_error(x->web, rs);
			break;
		}
		receipt_page(x, r, &m, r->key, skey, NULL, 400,
		    "That passphrase is not right.", rs);
		break;
	case SECRET_LOCKED:
		locked(x->web, rs);
		break;
	case SECRET_BUSY:
		busy(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
	sodium_memzero(skey, sizeof(skey));
}

static void
confirm_page(const struct ctx *x, const struct req *r, int passphrase,
    int status, const char *error, struct resp *rs)
{
	struct vars vs = { .n = 0 };

	set(&vs, "title", "Someone sent you a secret");
	set(&vs, "secret_key", r->key);
	set(&vs, "passphrase", passphrase ? "1" : NULL);
	set(&vs, "error", error);
	page(x->web, rs, status, "secret", &vs);
}

void
web_secret(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	int passphrase = 0;

	(void)c;
	switch (secret_peek(x, r->key, r->keylen, r->now, &passphrase)) {
	case SECRET_OK:
		confirm_page(x, r, passphrase, 200, NULL, rs);
		break;
	case SECRET_UNKNOWN:
		gone(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
}

void
web_reveal(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct vars vs = { .n = 0 };
	struct buf value = { 0 };
	const char *pass;
	size_t plen = 0;
	int passphrase;

	pass = form_get(&r->form, P_PASSPHRASE, &plen);
	switch (secret_reveal(x, c, r->key, r->keylen, pass, plen, r->now,
	    &value)) {
	case SECRET_OK:
		set(&vs, "title", "Your secret");
		set(&vs, "value", value.data);
		page(x->web, rs, 200, "reveal", &vs);
		break;
	case SECRET_WRONG:
		rs->failed_passphrase = plen > 0;
		/* the failure that reaches burn_after burned it: do not ask again */
		if (secret_peek(x, r->key, r->keylen, r->now, &passphrase) ==
		    SECRET_UNKNOWN) {
			gone(x->web, rs);
			break;
		}
		confirm_page(x, r, 1, 400, plen > 0 ?
		    "That passphrase is not right." :
		    "This secret needs its passphrase.", rs);
		break;
	case SECRET_UNKNOWN:
		gone(x->web, rs);
		break;
	case SECRET_LOCKED:
		locked(x->web, rs);
		break;
	case SECRET_BUSY:
		busy(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
	buf_free(&value);
}

/* A request link used, expired or never made: one answer for all. */
static void
request_gone(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 404, _("This request link has been used or has "
	    "expired"), _("A request link takes one secret only. Ask the "
	    "person who sent it for a new one."));
}

static void
request_page(const struct ctx *x, const struct req *r, const char *note,
    int status, const char *error, struct resp *rs)
{
	struct vars vs = { .n = 0 };

	set(&vs, "title", _("Someone asks you for a secret"));
	set(&vs, "request_key", r->key);
	set(&vs, "note", note != NULL && note[0] != '\0' ? note : NULL);
	set(&vs, "error", error);
	page(x->web, rs, status, "request", &vs);
}

void
web_request(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct buf note = { 0 };

	(void)c;
	switch (request_peek(x, r->key, r->keylen, r->now, &note)) {
	case SECRET_OK:
		if (buf_add(&note, "", 1) == -1)
			server_error(x->web, rs);
		else
			request_page(x, r, note.data, 200, NULL, rs);
		break;
	case SECRET_UNKNOWN:
		request_gone(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
	buf_free(&note);
}

void
web_answer(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct secret_new in;
	struct secret_made out;
	struct vars vs = { .n = 0 };
	struct buf note = { 0 };

	memset(&in, 0, sizeof(in));
	if ((in.value = form_get(&r->form, P_SECRET, &in.len)) == NULL)
		in.value = "";
	in.pass = form_get(&r->form, P_PASSPHRASE, &in.plen);
	switch (request_answer(x, c, r->key, r->keylen, &in, r->now, &out)) {
	case SECRET_OK:
		set(&vs, "title", _("Your secret was sent"));
		page(x->web, rs, 200, "request_sent", &vs);
		break;
	case SECRET_INVALID:
		/* nothing was taken: the form again, with the note */
		if (request_peek(x, r->key, r->keylen, r->now, &note) !=
		    SECRET_OK || buf_add(&note, "", 1) == -1)
			request_gone(x->web, rs);
		else
			request_page(x, r, note.data, out.status,
			    out.message, rs);
		break;
	case SECRET_UNKNOWN:
		request_gone(x->web, rs);
		break;
	case SECRET_BUSY:
		busy(x->web, rs);
		break;
	default:
		server_error(x->web, rs);
	}
	buf_free(&note);
	secret_made_clear(&out);
}

void
web_static(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	size_t i;

	(void)c;
	for (i = 0; i < NSTATIC; i++)
		if (strcmp(r->key, statics[i].name) == 0) {
			rs->status = 200;
			rs->ctype = statics[i].ctype;
			buf_add(&rs->body, x->web->file[i].data,
			    x->web->file[i].len);
			return;
		}
	web_missing(x, c, r, rs);
}

void
web_missing(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	(void)c;
	(void)r;
	web_error(x->web, rs, 404, "Not found", "There is no page here.");
}

/* The exposition; the caller checked the client (metrics_allow). */
void
web_metrics(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	const char *names[R_MAX];
	struct store_stats st;
	int i, have;

	(void)c;
	for (i = 0; i < R_MAX; i++)
		names[i] = route_name((enum route_id)i);
	/* the gauges come from the store; the counters even without it */
	have = x->store != NULL && store_stats(x->store, r->now, &st) == 0;
	rs->ctype = "text/plain; version=0.0.4; charset=utf-8";
	if (metrics_write(x->metrics, names, R_MAX, have ? &st : NULL,
	    &rs->body) == -1)
		web_error(x->web, rs, 500, "Internal error", "Out of memory.");
}

void
web_wrong_method(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	(void)c;
	http_header(rs, "Allow", r->allow);
	web_error(x->web, rs, 405, "Method not allowed",
	    "This page cannot be used that way.");
}
