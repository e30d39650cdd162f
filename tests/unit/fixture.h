/*
 * fixture: a ctx on a real SQLite file in a private directory, as app.c
 * assembles one for a worker, for the tests of the secret life cycle, the
 * handlers and the outbox: a configuration parsed from text, a fresh
 * master key, the store (its check value recorded), a gate on passphrase
 * hashes, the page templates when asked, and a clock the test moves (the
 * ctx's and the store's: the claim reads it under the write lock).  Also
 * callers (anonymous, or an account with a fresh API token) and requests
 * as the route table leaves them.  Header only, like tap.h.
 *
 * Nothing here is a fixed secret: keys, tokens and canaries are drawn
 * fresh for every run.
 */
#ifndef OTS_FIXTURE_H
#define OTS_FIXTURE_H

#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "crypto.h"
#include "ctx.h"
#include "gate.h"
#include "http.h"
#include "keys.h"
#include "store.h"
#include "new_store.h"
#include "web.h"

#include "tap.h"

#define FX_BASE		"https://ots.example"	/* base_url of the fixture */
#define FX_ADDR		"192.0.2.1"		/* the callers' address */

/* The fixture's clock: what the ctx and the store read as now. */
static long long fx_time = 1700000000LL;

static inline long long
fx_clock(void)
{
	return fx_time;
}

struct fx {
	char		 dir[1024];
	char		 db[1100];
	char		 key[1100];
	struct conf	*cf;
	unsigned char	 mailer_sk[32];	/* the mailer's private key */
	struct crypto	*crypto;
	struct store	*st;
	struct gate	*gate;
	struct web	*web;
	struct ctx	 x;
};

/*
 * Open a fixture whose configuration is the database and master key in a
 * new private directory, base_url FX_BASE, and the lines of settings;
 * with web (a directory holding templates/ and static/), the pages too.
 * Bails out on any failure: nothing else can run without it.
 */
static inline void
fx_open(struct fx *f, const char *settings, const char *web)
{
	unsigned char check[CRYPTO_ID_LEN];
	char text[4096], err[512];

	memset(f, 0, sizeof(*f));
	if (crypto_init() == -1)
		bail_out("crypto_init");
	tap_tmpdir(f->dir, sizeof(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ots.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/master.key", f->dir);
	snprintf(text, sizeof(text), "database = %s\nmaster_key = %s\n"
	    "base_url = " FX_BASE "/\n%s", f->db, f->key, settings);
	if ((f->cf = conf_parse(text, strlen(text), "fixture", err,
	    sizeof(err))) == NULL)
		bail_out("conf_parse: %s", err);
	/* the mailer's key pair, as ots-mailer -k makes it: workers seal
	 * to the public half (f->mailer_sk opens, as only the mailer can) */
	crypto_box_keypair(f->cf->mailer_pk, f->mailer_sk);
	f->cf->has_mailer_pk = 1;
	if (crypto_keyfile_create(f->key, err, sizeof(err)) == -1 ||
	    (f->crypto = crypto_open(f->key, err, sizeof(err))) == NULL)
		bail_out("master key: %s", err);
	if ((f->st = new_store(f->db, err, sizeof(err))) == NULL)
		bail_out("store_open: %s", err);
	store_set_clock(f->st, fx_clock);
	crypto_check_value(f->crypto, check);
	if (store_check_key(f->st, check) != 1)
		bail_out("store_check_key");
	if ((f->gate = gate_open(f->cf, err, sizeof(err))) == NULL)
		bail_out("gate_open: %s", err);
	if (web != NULL && (f->web = web_open(web, err, sizeof(err))) == NULL)
		bail_out("web_open: %s", err);
	if (f->web != NULL)
		web_set_root(f->web, f->cf->base_url);
	f->x.conf = f->cf;
	f->x.store = f->st;
	f->x.crypto = f->crypto;
	f->x.web = f->web;
	f->x.gate = f->gate;
	f->x.clock = fx_clock;
	snprintf(f->x.origin, sizeof(f->x.origin), "%s", FX_BASE);
}

static inline void
fx_close(struct fx *f)
{
	web_close(f->web);
	gate_close(f->gate);
	store_close(f->st);
	crypto_close(f->crypto);
	conf_free(f->cf);
	tap_rmtree(f->dir);
	memset(f, 0, sizeof(*f));
}

/* An anonymous caller from FX_ADDR, with the anonymous limits. */
static inline void
fx_anon(const struct fx *f, struct caller *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->addr, sizeof(c->addr), "%s", FX_ADDR);
	c->ttl_max = f->cf->anon_ttl_max;
	c->size_max = f->cf->anon_size_max;
	c->file_size_max = f->cf->anon_file_size_max;
}

/*
 * A new account custid on plan with a fresh API token, and its caller as
 * auth_check and app.c would fill it.
 */
static inline void
fx_account(const struct fx *f, const char *custid, const char *plan,
    struct caller *c)
{
	const struct conf_plan *pl;
	struct store_customer cu;
	char token[KEYS_TOKEN_LEN + 1];

	memset(&cu, 0, sizeof(cu));
	keys_token(token);
	snprintf(cu.custid, sizeof(cu.custid), "%s", custid);
	snprintf(cu.plan, sizeof(cu.plan), "%s", plan);
	crypto_token_hash(f->crypto, token, strlen(token), cu.token_hash);
	cu.created = fx_time;
	if (store_customer_add(f->st, &cu) != 0)
		bail_out("store_customer_add %s", custid);
	memset(c, 0, sizeof(*c));
	if (store_customer_get(f->st, custid, &c->cust) != 1)
		bail_out("store_customer_get %s", custid);
	c->authenticated = 1;
	snprintf(c->token, sizeof(c->token), "%s", token);
	snprintf(c->addr, sizeof(c->addr), "%s", FX_ADDR);
	if ((pl = conf_plan(f->cf, plan)) == NULL)
		bail_out("no plan %s", plan);
	c->ttl_max = pl->ttl_max;
	c->size_max = pl->size_max;
	c->file_size_max = pl->file_size_max;
	c->unlimited = pl->unlimited;
}

/* A fresh random text of 2 * n hex digits (n <= 64), for canaries. */
static inline void
fx_random(char *out, size_t n)
{
	unsigned char b[64];

	randombytes_buf(b, n);
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

/*
 * A request as http and the route table leave it: method, path, the
 * route's key (NULL: none), the parameters of form (urlencoded; NULL:
 * none) and the time.  Free it with http_req_free.
 */
static inline void
fx_req(struct req *r, const char *method, const char *path, const char *key,
    const char *form, long long now)
{
	const char *errstr = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->api = strncmp(path, "/api/", 5) == 0;
	if (key != NULL) {
		r->keylen = strlen(key);
		memcpy(r->key, key, r->keylen + 1);
	}
	r->remote_addr = FX_ADDR;
	if (form != NULL &&
	    form_urlencoded(&r->form, form, strlen(form), &errstr) == -1)
		bail_out("form_urlencoded: %s", errstr);
	r->now = now;
}

/* 1 if the extra response headers hold the line name: value. */
static inline int
fx_has_header(const struct resp *rs, const char *name, const char *value)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s\r\n", name, value);
	return n > 0 && (size_t)n < sizeof(line) && rs->headers_len >=
	    (size_t)n && memmem(rs->headers, rs->headers_len, line,
	    (size_t)n) != NULL;
}

/* The value of header name in the extra response headers, into out. */
static inline const char *
fx_header(const struct resp *rs, const char *name, char *out, size_t len)
{
	const char *p = rs->headers, *end = rs->headers + rs->headers_len, *eol;
	size_t n = strlen(name);

	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		if ((size_t)(eol - p) > n + 2 && strncmp(p, name, n) == 0 &&
		    p[n] == ':' && p[n + 1] == ' ') {
			snprintf(out, len, "%.*s", (int)(eol - p - n - 2),
			    p + n + 2);
			return out;
		}
	}
	return NULL;
}

/* Another worker holding the gate of f (one slot): give it back with
 * fx_release_gate. */
static inline struct gate *
fx_hold_gate(const struct fx *f)
{
	struct gate *g;
	char err[256];

	if ((g = gate_open(f->cf, err, sizeof(err))) == NULL ||
	    gate_enter(g, "198.51.100.9") != 1)
		bail_out("hold the gate: %s", err);
	return g;
}

static inline void
fx_release_gate(struct gate *g)
{
	gate_leave(g);
	gate_close(g);
}

static inline int
fx_count_row(void *arg, const struct store_mail *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

/* The rows of the outbox so far. */
static inline int
fx_mail_rows(struct fx *f)
{
	int n = 0;

	store_mail_list(f->st, fx_count_row, &n);
	return n;
}

#endif
