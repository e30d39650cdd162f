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
#include "i18n.h"
#include "secret.h"
#include "store.h"
#include "tmpl.h"
#include "util.h"
#include "i18n.h"
#include "metrics.h"
#include "qr.h"
#include "request.h"
#include "route.h"
#include "web.h"

#define VARS_MAX	32

/* The static files the app can serve itself. */
static const struct {
	const char	*name;
	const char	*ctype;
} statics[] = {
	{ "ots.css", "text/css; charset=utf-8" },
	{ "copy.js", "text/javascript; charset=utf-8" },
};
#define NSTATIC	(sizeof(statics) / sizeof(statics[0]))

/* The policy of every page, and of the pages that load copy.js. */
#define CSP_NO_SCRIPT	"default-src 'self'; script-src 'none'; " \
	"frame-ancestors 'none'; form-action 'self'"
#define CSP_SCRIPT	"default-src 'self'; script-src 'self'; " \
	"frame-ancestors 'none'; form-action 'self'"

struct web {
	struct tmpl	*tmpl;
	struct buf	 file[NSTATIC];
	char		 root[WEB_ROOT_MAX + 1];	/* base_url's path */
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

/*
 * The create page's errors that secret_create words without a value (the
 * API's too, in English); index_page shows them translated.
 */
static const char *const create_errors[] __attribute__((unused)) = {
	N_("You did not provide anything to share"),
	N_("A passphrase is required for all secrets"),
	N_("Send either a text or a file, not both"),
	N_("This server does not take files"),
	N_("The file is larger than this server takes"),
};

static const char *const state_text[] = {
	[STATE_NEW] = N_("Not yet opened"),
	[STATE_VIEWED] = N_("Not yet opened"),
	[STATE_RECEIVED] = N_("Opened: the secret is gone"),
	[STATE_BURNED] = N_("Burned: the secret is gone"),
	[STATE_EXPIRED] = N_("Expired: the secret is gone"),
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
web_set_root(struct web *w, const char *base_url)
{
	const char *p = strstr(base_url, "://");

	/* the path of scheme://host[:port]/path, without a trailing slash */
	p = p ? strchr(p + 3, '/') : NULL;
	snprintf(w->root, sizeof(w->root), "%s", p ? p : "");
	while (w->root[0] != '\0' && w->root[strlen(w->root) - 1] == '/')
		w->root[strlen(w->root) - 1] = '\0';
}

const char *
web_root(const struct web *w)
{
	return w->root;
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
	http_header(rs, "Content-Security-Policy", CSP_NO_SCRIPT);
}

/* Variables of one page. */
struct vars {
	struct tmpl_var	 v[VARS_MAX];
	size_t		 n;
	char		 num[8][32];	/* storage for numbers and times */
	size_t		 nnum;
	char		 dur[128];	/* a duration, in words */
	int		 script;	/* the page loads copy.js */
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

/* n units in the page's language ("3 days"). */
static void
units(char *s, size_t len, long long n, int unit)
{
	switch (unit) {
	case 'd':
		snprintf(s, len, i18n_ntext("%lld day", "%lld days",
		    (unsigned long)n), n);
		break;
	case 'h':
		snprintf(s, len, i18n_ntext("%lld hour", "%lld hours",
		    (unsigned long)n), n);
		break;
	default:
		snprintf(s, len, i18n_ntext("%lld minute", "%lld minutes",
		    (unsigned long)n), n);
	}
}

static void
set_duration(struct vars *vs, const char *name, long long secs)
{
	char *s = vs->dur, a[48], b[48];
	long long d = secs / 86400, h = secs % 86400 / 3600,
	    m = secs % 3600 / 60;

	if (d > 0 || h > 0) {
		units(a, sizeof(a), d > 0 ? d : h, d > 0 ? 'd' : 'h');
		units(b, sizeof(b), d > 0 ? h : m, d > 0 ? 'h' : 'm');
		/* TRANSLATORS: a duration of two parts, as "3 days, 4 hours" */
		snprintf(s, sizeof(vs->dur), _("%s, %s"), a, b);
	} else if (m > 0)
		units(s, sizeof(vs->dur), m, 'm');
	else
		snprintf(s, sizeof(vs->dur), "%s", _("less than a minute"));
	set(vs, name, s);
}

/* A page's status, headers and the variables head.html and foot.html
 * use; the body emptied for it. */
static void
page_start(const struct web *w, struct resp *rs, int status, struct vars *vs)
{
	int lang = i18n_current();

	/* the language and its direction, for head.html */
	set(vs, "lang", i18n_langs[lang].code);
	set(vs, "dir", i18n_langs[lang].dir);
	rs->status = status;
	rs->ctype = "text/html; charset=utf-8";
	http_header(rs, "Vary", "Accept-Language, Cookie");
	buf_free(&rs->body);
	/* every link and form below the mount point */
	set(vs, "root", w->root);
	set(vs, "copy_script", vs->script ? "1" : NULL);
	http_header_set(rs, "Content-Security-Policy",
	    vs->script ? CSP_SCRIPT : CSP_NO_SCRIPT);
	set(vs, "signed_in", rs->web_user);
}

/* Render page into the response (500 page if the template fails). */
static void
page(const struct web *w, struct resp *rs, int status, const char *name,
    struct vars *vs)
{
	page_start(w, rs, status, vs);
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
	web_error(w, rs, 403, _("Form refused"),
	    _("This form was sent from another site, so it was refused. "
	    "Open ots directly and try again."));
}

int
web_policy(const struct conf *cf, unsigned flags, int have_user,
    const char *addr)
{
	if ((flags & ROUTE_WEB_CREATE) && cf->web_create_networks != NULL &&
	    cf->web_create_networks[0] != '\0' &&
	    !util_addr_in_list(cf->web_create_networks, addr))
		return 403;
	if (have_user)
		return 0;
	if (flags & ROUTE_WEB_USER)
		return 401;
	if ((flags & ROUTE_WEB_OWNER) && cf->web_create_auth)
		return 401;
	return 0;
}

void
web_refused(const struct web *w, struct resp *rs, int status)
{
	if (status == 403)
		web_error(w, rs, 403, _("Not available from here"),
		    _("Secrets can be created only from this organisation's "
		    "own networks."));
	else
		web_error(w, rs, 401, _("Sign-in needed"),
		    _("Sign in to create secrets and to see your own. "
		    "Secret links sent to you open without signing in."));
}

void
web_no_account(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 403, _("No account"),
	    _("You are signed in, but there is no account for you here: a "
	    "sign-in name must be an e-mail address, and this server makes "
	    "accounts only through its administrator. Ask them for one."));
}

/* The store failed (a database away, say): nothing changed, try again. */
static void
server_error(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 503, _("Temporarily unavailable"),
	    _("The server could not finish this. Nothing was changed; "
	    "please try again in a moment."));
}

static void
gone(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 404, _("This secret is not available"),
	    _("It may have been opened already, burned, or expired, or the "
	    "link is incomplete. A secret link works only once."));
}

static void
locked(const struct web *w, struct resp *rs)
{
	web_error(w, rs, 429, _("Too many wrong passphrases"),
	    _("This secret is locked for a while after too many wrong "
	    "passphrases. Try again later, or ask the sender for a new link."));
}

/* 303 to path (and key) below the mount point. */
static void
see_other(const struct web *w, struct resp *rs, const char *path,
    const char *key)
{
	char loc[WEB_ROOT_MAX + HTTP_PATH_MAX + 16];

	snprintf(loc, sizeof(loc), "%s%s%s", w->root, path, key);
	rs->status = 303;
	rs->ctype = "text/plain; charset=utf-8";
	http_header(rs, "Location", loc);
	buf_free(&rs->body);
}

/* 303 to the receipt of metadata key mkey. */
static void
to_receipt(const struct web *w, struct resp *rs, const char *mkey)
{
	see_other(w, rs, "/private/", mkey);
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

/* file_size_max, for the forms that take a file: the caller's largest
 * (none: no file input). */
static void
set_file_size(struct vars *vs, const struct caller *c)
{
	char *size;

	if (c->file_size_max <= 0)
		return;
	size = slot(vs);
	if (c->file_size_max >= 1 << 20)
		snprintf(size, 32, "%lld MiB", c->file_size_max >> 20);
	else if (c->file_size_max >= 1 << 10)
		snprintf(size, 32, "%lld KiB", c->file_size_max >> 10);
	else
		snprintf(size, 32, "%lld B", c->file_size_max);
	set(vs, "file_size_max", size);
}

/* The lifetimes (lifetimes.html) the caller may pick; the longest up to
 * the default preselected. */
static void
set_lifetimes(struct vars *vs, const struct conf *cf, const struct caller *c)
{
	size_t i, pick = 0;

	for (i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++)
		if (lifetimes[i].ttl <= c->ttl_max) {
			set(vs, lifetimes[i].offer, "1");
			if (lifetimes[i].ttl <= cf->ttl_default)
				pick = i;
		}
	set(vs, lifetimes[pick].sel, "1");
}

/* A form's secret: its text and, if one was chosen, its file. */
static void
form_secret(const struct req *r, struct secret_new *in)
{
	if ((in->value = form_get(&r->form, P_SECRET, &in->len)) == NULL)
		in->value = "";
	/* a file input with no file chosen sends an empty, unnamed part */
	if ((in->file = form_file(&r->form, P_FILE, &in->file_len,
	    &in->file_name)) != NULL && in->file_len == 0 &&
	    in->file_name[0] == '\0')
		in->file = NULL;
}

static void
index_page(const struct ctx *x, const struct caller *c, struct resp *rs,
    int status, const char *error)
{
	struct vars vs = { .n = 0 };
	char *size = slot(&vs);

	set(&vs, "title", _("Share a secret"));
	set(&vs, "error", error != NULL ? _(error) : NULL);
	snprintf(size, 32, "%lld", c->size_max);
	set(&vs, "size_max", size);
	set_file_size(&vs, c);
	set(&vs, "passphrase_required",
	    x->conf->passphrase_required ? "1" : NULL);
	set_lifetimes(&vs, x->conf, c);
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
	struct buf qr = { 0 };
	char link[512], receipt[512], qr_size[16];
	int live = m->state == STATE_NEW || m->state == STATE_VIEWED;
	int size, width;

	set(&vs, "title", _("Your secret link"));
	set(&vs, "error", error != NULL ? _(error) : NULL);
	set(&vs, "value", value);
	vs.script = value != NULL || live;	/* copy buttons */
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
		/* its QR code: one path in module units; none if too long */
		if (qr_svg_path(link, &qr, &size, &width) == 0 &&
		    qr.data != NULL) {
			snprintf(qr_size, sizeof(qr_size), "%d", size);
			set(&vs, "qr_path", qr.data);
			set(&vs, "qr_size", qr_size);
		}
		set(&vs, "can_burn", "1");
		set(&vs, "passphrase", m->passphrase ? "1" : NULL);
		set_duration(&vs, "time_left", m->secret_expires - r->now);
	}
	set(&vs, "state", store_state_name(m->state));
	set(&vs, "state_text", _(state_text[m->state]));
	if (m->state == STATE_RECEIVED)
		set_time(&vs, "received", m->received);
	set_time(&vs, "created", m->created);
	page(x->web, rs, status, "receipt", &vs);
	sodium_memzero(link, sizeof(link));
	buf_free(&qr);		/* wipes: the link, as a picture */
}

/* No room at the gate: the same words as a rate limit, and when to retry. */
static void
busy(const struct web *w, struct resp *rs)
{
	char num[8];

	snprintf(num, sizeof(num), "%d", GATE_RETRY);
	http_header(rs, "Retry-After", num);
	web_error(w, rs, 429, _("Slow down"),
	    _("Too many passphrases are being checked right now. Try again in "
	    "a moment."));
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
	if (!generate)
		form_secret(r, &in);
	in.pass = form_get(&r->form, P_PASSPHRASE, &in.plen);
	in.ttl = form_get(&r->form, P_TTL, &in.ttl_len);
	switch (secret_create(x, c, &in, r->now, &out)) {
	case SECRET_OK:
		if (generate)
			receipt_page(x, r, &out.meta, out.mkey, out.skey,
			    out.value, 200, NULL, rs);
		else
			to_receipt(x->web, rs, out.mkey);
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
		web_error(x->web, rs, 404, _("Unknown receipt"),
		    _("There is no receipt here: it has expired, or the link is "
		    "incomplete."));
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
		to_receipt(x->web, rs, r->key);
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
		    N_("That passphrase is not right."), rs);
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

	set(&vs, "title", _("Someone sent you a secret"));
	set(&vs, "secret_key", r->key);
	set(&vs, "passphrase", passphrase ? "1" : NULL);
	set(&vs, "error", error != NULL ? _(error) : NULL);
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

size_t
web_disposition(const char *name, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t o;

	o = (size_t)snprintf(out, WEB_DISPOSITION_MAX,
	    "attachment; filename=\"");
	for (p = (const unsigned char *)name; *p != '\0' &&
	    o < 22 + UTIL_FILE_NAME_MAX; p++) {
		/* one '_' for each character outside ASCII */
		if (*p >= 0x80 && (*p & 0xc0) == 0x80)
			continue;
		out[o++] = *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '%' ? '_' : (char)*p;
	}
	o += (size_t)snprintf(out + o, WEB_DISPOSITION_MAX - o,
	    "\"; filename*=UTF-8''");
	for (p = (const unsigned char *)name; *p != '\0' &&
	    o + 4 < WEB_DISPOSITION_MAX; p++) {
		/* RFC 8187 attr-char passes; the rest is %XX */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || (*p != '\0' &&
		    strchr("!#$&+-.^_`|~", *p) != NULL))
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * The answer of a revealed file: its bytes as a download.  The plaintext
 * buffer becomes the response body (moved, not copied: the bytes are
 * shifted over the header and the rest wiped).
 */
static void
download(struct resp *rs, struct buf *plain, const struct secret_file *f)
{
	char cd[WEB_DISPOSITION_MAX];
	size_t off = (size_t)(f->data - plain->data), size = f->size;

	web_disposition(f->name, cd);
	rs->status = 200;
	rs->ctype = "application/octet-stream";
	buf_free(&rs->body);
	if (http_header(rs, "Content-Disposition", cd) == -1) {
		/* no room: never a download without its disposition */
		rs->status = 500;
		rs->ctype = "text/plain; charset=utf-8";
		buf_puts(&rs->body, "Internal error: response headers.\n");
		return;
	}
	memmove(plain->data, plain->data + off, size);
	sodium_memzero(plain->data + size, off);
	plain->len = size;
	plain->data[size] = '\0';
	rs->body = *plain;
	memset(plain, 0, sizeof(*plain));
	sodium_memzero(cd, sizeof(cd));
}

void
web_reveal(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct vars vs = { .n = 0 };
	struct buf value = { 0 };
	struct secret_file f;
	const char *pass;
	size_t plen = 0;
	int passphrase, file;

	pass = form_get(&r->form, P_PASSPHRASE, &plen);
	switch (secret_reveal(x, c, r->key, r->keylen, pass, plen, r->now,
	    &value)) {
	case SECRET_OK:
		if ((file = secret_file_parse(value.data, value.len, &f)) == 1)
			download(rs, &value, &f);
		else if (file == -1)
			server_error(x->web, rs);
		else {
			set(&vs, "title", _("Your secret"));
			set(&vs, "value", value.data);
			vs.script = 1;	/* its copy button */
			page(x->web, rs, 200, "reveal", &vs);
		}
		sodium_memzero(&f, sizeof(f));
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
		    N_("That passphrase is not right.") :
		    N_("This secret needs its passphrase."), rs);
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

/* My secrets: the page is one template rendered in parts (the templates
 * have no loops): part_head, then part_row once per receipt, part_end. */
struct my_list {
	const struct ctx	*x;
	const struct req	*r;
	struct buf		*out;
	long			 n;
	int			 fail;
};

static void
my_row(void *arg, const struct store_meta *m, const char *mkey)
{
	struct my_list *ml = arg;
	struct vars vs = { .n = 0 };
	int live = m->state == STATE_NEW || m->state == STATE_VIEWED;

	set(&vs, "part_row", "1");
	set(&vs, "metadata_key", mkey);
	set(&vs, "state", store_state_name(m->state));
	set(&vs, "root", ml->x->web->root);
	set(&vs, "state_text", _(state_text[m->state]));
	set_time(&vs, "created", m->created);
	if (live) {
		set_time(&vs, "expires", m->secret_expires);
		set(&vs, "can_burn", "1");
		set(&vs, "passphrase", m->passphrase ? "1" : NULL);
	}
	if (m->state == STATE_RECEIVED)
		set_time(&vs, "received", m->received);
	ml->n++;
	if (tmpl_render(ml->x->web->tmpl, "my", vs.v, vs.n, ml->out) == -1)
		ml->fail = 1;
}

void
web_my(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct my_list ml = { x, r, &rs->body, 0, 0 };
	struct vars vs = { .n = 0 };
	char *note_max = slot(&vs);
	int n = c->cust.notify & (NOTIFY_EMAIL | NOTIFY_WEBHOOK);
	static const char *const sel[] = { "sel_none", "sel_email",
	    "sel_webhook", "sel_all" };

	page_start(x->web, rs, 200, &vs);
	set(&vs, "part_head", "1");
	set(&vs, "title", _("My secrets"));
	set(&vs, "custid", c->cust.custid);
	set(&vs, "plan", c->cust.plan);
	set(&vs, "notify", secret_notify_name(n));
	set(&vs, sel[n], "1");
	set(&vs, "has_webhook", c->cust.webhook_url[0] != '\0' ? "1" : NULL);
	set(&vs, "can_notify", x->conf->has_mailer_pk ? "1" : NULL);
	snprintf(note_max, 32, "%d", STORE_NOTE_MAX);
	set(&vs, "note_max", note_max);
	set_lifetimes(&vs, x->conf, c);
	if (tmpl_render(x->web->tmpl, "my", vs.v, vs.n, &rs->body) == -1)
		ml.fail = 1;
	if (!ml.fail && secret_recent(x, c, r->now, 30, my_row, &ml) == -1) {
		server_error(x->web, rs);
		return;
	}
	vs.n = 0;
	set(&vs, "root", x->web->root);
	set(&vs, "part_end", "1");
	set(&vs, "empty", ml.n == 0 ? "1" : NULL);
	if (ml.fail ||
	    tmpl_render(x->web->tmpl, "my", vs.v, vs.n, &rs->body) == -1) {
		buf_free(&rs->body);
		rs->status = 500;
		rs->ctype = "text/plain; charset=utf-8";
		buf_puts(&rs->body, "Internal error: a page template failed.\n");
	}
}

void
web_my_notify(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct store_customer cust = c->cust;
	const char *v;
	size_t len = 0;
	int n;

	v = form_get(&r->form, P_NOTIFY, &len);
	if (v == NULL || (n = secret_notify_parse(v, len)) == -1 ||
	    ((n & NOTIFY_WEBHOOK) && cust.webhook_url[0] == '\0') ||
	    (n != 0 && !x->conf->has_mailer_pk)) {
		web_error(x->web, rs, 400, _("Bad request"),
		    _("That notice setting is not available here."));
		return;
	}
	cust.notify = n;
	if (store_customer_set_notify(x->store, &cust) != 1) {
		audit_request(x, c, "account_notify", "error", NULL);
		server_error(x->web, rs);
		return;
	}
	audit_request(x, c, "account_notify", "ok", NULL);
	see_other(x->web, rs, "/my", "");
}

void
web_my_request(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct request_made out;
	struct vars vs = { .n = 0 };
	const char *note, *ttl;
	size_t nlen = 0, tlen = 0;
	char link[1024], receipt[1024];

	note = form_get(&r->form, P_NOTE, &nlen);
	ttl = form_get(&r->form, P_TTL, &tlen);
	switch (request_create(x, c, note, nlen, ttl, tlen, NULL, 0, r->now,
	    &out)) {
	case SECRET_OK:
		snprintf(link, sizeof(link), "%s/request/%s",
		    x->conf->base_url, out.rkey);
		snprintf(receipt, sizeof(receipt), "%s/private/%s",
		    x->conf->base_url, out.mkey);
		set(&vs, "title", _("Your request link"));
		set(&vs, "request_link", link);
		set(&vs, "receipt_link", receipt);
		set_time(&vs, "expires", out.expires);
		vs.script = 1;		/* its copy button */
		page(x->web, rs, 200, "requested", &vs);
		sodium_memzero(link, sizeof(link));
		sodium_memzero(receipt, sizeof(receipt));
		break;
	case SECRET_INVALID:
		web_error(x->web, rs, out.status, _("Bad request"),
		    _(out.message));
		break;
	default:
		server_error(x->web, rs);
	}
	request_made_clear(&out);
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
request_page(const struct ctx *x, const struct caller *c,
    const struct req *r, const char *note, int status, const char *error,
    struct resp *rs)
{
	struct vars vs = { .n = 0 };

	set(&vs, "title", _("Someone asks you for a secret"));
	set(&vs, "request_key", r->key);
	set(&vs, "note", note != NULL && note[0] != '\0' ? note : NULL);
	set(&vs, "error", error != NULL ? _(error) : NULL);
	set_file_size(&vs, c);
	page(x->web, rs, status, "request", &vs);
}

void
web_request(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct buf note = { 0 };

	switch (request_peek(x, r->key, r->keylen, r->now, &note)) {
	case SECRET_OK:
		if (buf_add(&note, "", 1) == -1)
			server_error(x->web, rs);
		else
			request_page(x, c, r, note.data, 200, NULL, rs);
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
	form_secret(r, &in);
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
			request_page(x, c, r, note.data, out.status,
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
	web_error(x->web, rs, 404, _("Not found"), _("There is no page here."));
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
		web_error(x->web, rs, 500, _("Internal error"),
		    _("Out of memory."));
}

void
web_wrong_method(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	(void)c;
	http_header(rs, "Allow", r->allow);
	web_error(x->web, rs, 405, _("Method not allowed"),
	    _("This page cannot be used that way."));
}
