#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "api_v1.h"
#include "app.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "route.h"
#include "store.h"

#define RECENT_DAYS	30
#define TTL_MIN		60

static const char M_UNKNOWN[] = "Unknown secret";
static const char M_AUTH[] = "Not authorized";
static const char M_INTERNAL[] = "An internal error occurred";

void
api_v1_headers(struct resp *rs)
{
	http_header(rs, "Cache-Control", "no-store");
	http_header(rs, "Referrer-Policy", "no-referrer");
	http_header(rs, "X-Content-Type-Options", "nosniff");
	http_header(rs, "Content-Security-Policy", "frame-ancestors 'none'");
}

/*
 * Serialise obj into the response body and release it.  With wipe, the
 * serialised text inside json-c is wiped too (it holds a secret value).
 */
static void
send_json(struct resp *rs, struct json_object *obj, int wipe)
{
	const char *s;
	size_t len;

	rs->ctype = "application/json; charset=utf-8";
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || buf_add(&rs->body, s, len) == -1) {
		rs->status = 500;
		rs->body.len = 0;
	}
	if (wipe && s != NULL)
		sodium_memzero((char *)s, len);
	json_object_put(obj);
}

/* Wipe a json-c string that held a secret value (before it is freed). */
static void
wipe_string(struct json_object *o)
{
	sodium_memzero((char *)json_object_get_string(o),
	    (size_t)json_object_get_string_len(o));
}

static struct json_object *
jstr(const char *s)
{
	return json_object_new_string(s);
}

void
api_v1_error(struct resp *rs, int intended, const char *msg, const char *key)
{
	struct json_object *o = json_object_new_object();
	char num[8];

	rs->status = 404;
	rs->intended = intended;
	snprintf(num, sizeof(num), "%d", intended);
	http_header(rs, "X-OTS-Intended-Status", num);
	if (key != NULL)
		json_object_object_add(o, "secret_key", jstr(key));
	json_object_object_add(o, "message", jstr(msg));
	buf_free(&rs->body);
	send_json(rs, o, 0);
}

long long
api_v1_ttl(const char *s, size_t len, long long def, long long max)
{
	long long v;

	if (s == NULL)
		return def < max ? def : max;
	if (util_strtoll(s, len, INT64_MIN, INT64_MAX, &v) == -1 ||
	    v < TTL_MIN)
		return TTL_MIN;
	return v > max ? max : v;
}

/*
 * The metadata object, fields in the contract's order.  skey is the
 * secret_key when known (NULL: omit the field, as in recent); value is
 * the /generate value or NULL.
 */
static struct json_object *
meta_json(const struct store_meta *m, const char *mkey, const char *skey,
    int with_skey, struct json_object *value, long long now)
{
	struct json_object *o = json_object_new_object(), *rcpt;
	int gone = m->state == STATE_BURNED || m->state == STATE_EXPIRED;
	int live = m->state == STATE_NEW || m->state == STATE_VIEWED;

	json_object_object_add(o, "custid", jstr(m->custid));
	json_object_object_add(o, "metadata_key", jstr(mkey));
	if (with_skey && m->state != STATE_RECEIVED)
		json_object_object_add(o, "secret_key",
		    jstr(gone || skey == NULL ? "" : skey));
	json_object_object_add(o, "ttl", json_object_new_int64(m->ttl));
	json_object_object_add(o, "metadata_ttl",
	    json_object_new_int64(m->expires > now ? m->expires - now : 0));
	if (m->state != STATE_RECEIVED)
		json_object_object_add(o, "secret_ttl", gone ? NULL :
		    json_object_new_int64(m->secret_expires > now ?
		    m->secret_expires - now : 0));
	json_object_object_add(o, "state", jstr(store_state_name(m->state)));
	json_object_object_add(o, "updated", json_object_new_int64(m->updated));
	json_object_object_add(o, "created", json_object_new_int64(m->created));
	if (m->state == STATE_RECEIVED)
		json_object_object_add(o, "received",
		    json_object_new_int64(m->received));
	rcpt = json_object_new_array();
	if (m->recipient[0] != '\0')
		json_object_array_add(rcpt, jstr(m->recipient));
	json_object_object_add(o, "recipient", rcpt);
	json_object_object_add(o, "share_domain", jstr(""));
	if (value != NULL)
		json_object_object_add(o, "value", value);
	if (live)
		json_object_object_add(o, "passphrase_required",
		    json_object_new_boolean(m->passphrase));
	return o;
}

/* Count the code points of UTF-8 text. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The passphrase of a create request: NULL for none.  Returns 0, or -1
 * having filled an error response.
 */
static int
check_passphrase(const struct conf *cf, const char *pass, size_t len,
    struct resp *rs)
{
	char msg[96];
	size_t n = pass ? utf8_chars(pass, len) : 0;

	if (n == 0 && cf->passphrase_required) {
		api_v1_error(rs, 400, "A passphrase is required for all secrets",
		    NULL);
		return -1;
	}
	if (n > 0 && n < (size_t)cf->passphrase_min) {
		snprintf(msg, sizeof(msg),
		    "Passphrase must be at least %lld characters long",
		    cf->passphrase_min);
		api_v1_error(rs, 400, msg, NULL);
		return -1;
	}
	if (n > (size_t)cf->passphrase_max) {
		snprintf(msg, sizeof(msg),
		    "Passphrase must be at most %lld characters long",
		    cf->passphrase_max);
		api_v1_error(rs, 400, msg, NULL);
		return -1;
	}
	return 0;
}

/* POST /share, /create, /generate. */
static void
create(struct app *a, const struct caller *c, const struct req *r,
    int generate, struct resp *rs)
{
	const struct conf *cf = a->conf;
	struct store_secret sec;
	struct store_meta m;
	struct json_object *jvalue = NULL;
	unsigned char pw[CRYPTO_PW_LEN];
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], msg[128];
	char gen[KEYS_VALUE_MAX + 1];
	const char *secret, *pass, *rcpt, *s;
	size_t slen = 0, plen = 0, rlen = 0, n;
	long long len;
	struct buf sealed = { 0 };

	memset(&sec, 0, sizeof(sec));
	memset(&m, 0, sizeof(m));
	if (generate) {
		len = KEYS_VALUE_DEFAULT;
		if ((s = form_get(&r->form, "length", &n)) != NULL &&
		    util_strtoll(s, n, INT64_MIN, INT64_MAX, &len) == 0)
			len = len < KEYS_VALUE_MIN ? KEYS_VALUE_MIN :
			    len > KEYS_VALUE_MAX ? KEYS_VALUE_MAX : len;
		else
			len = KEYS_VALUE_DEFAULT;
		keys_value(gen, (size_t)len);
		secret = gen;
		slen = (size_t)len;
	} else if ((secret = form_get(&r->form, "secret", &slen)) == NULL ||
	    slen == 0) {
		api_v1_error(rs, 400, "You did not provide anything to share",
		    NULL);
		return;
	}
	if ((long long)slen > c->size_max) {
		snprintf(msg, sizeof(msg),
		    "Secret value exceeds the maximum size of %lld bytes",
		    c->size_max);
		api_v1_error(rs, 413, msg, NULL);
		goto out;
	}
	pass = form_get(&r->form, "passphrase", &plen);
	if (check_passphrase(cf, pass, plen, rs) == -1)
		goto out;
	if ((rcpt = form_get(&r->form, "recipient", &rlen)) != NULL &&
	    rlen > 0) {
		if (!c->authenticated) {
			api_v1_error(rs, 401,
			    "An account is required to send emails.", NULL);
			goto out;
		}
		if (!mail_address_valid(rcpt, rlen) ||
		    mail_obfuscate(rcpt, m.recipient, sizeof(m.recipient))
		    == -1) {
			snprintf(msg, sizeof(msg),
			    "Undeliverable email address: %.*s",
			    rlen > 80 ? 80 : (int)rlen, rcpt);
			api_v1_error(rs, 400, msg, NULL);
			goto out;
		}
	}
	s = form_get(&r->form, "ttl", &n);
	m.ttl = api_v1_ttl(s, n, cf->ttl_default, c->ttl_max);

	keys_new(mkey);
	keys_new(skey);
	crypto_row_id(a->crypto, CRYPTO_ID_SECRET, skey, KEYS_LEN, sec.id);
	crypto_row_id(a->crypto, CRYPTO_ID_META, mkey, KEYS_LEN, m.id);
	memcpy(m.secret_id, sec.id, CRYPTO_ID_LEN);
	if (plen > 0) {
		sec.has_salt = 1;
		crypto_salt(sec.salt);
		if (crypto_pw(pass, plen, sec.salt, pw) == -1)
			goto fail;
	}
	if (crypto_seal(a->crypto, CRYPTO_SECRET, skey, KEYS_LEN,
	    plen > 0 ? pw : NULL, sec.id, secret, slen, &sec.sealed) == -1 ||
	    crypto_seal(a->crypto, CRYPTO_META, mkey, KEYS_LEN, NULL, m.id,
	    skey, KEYS_LEN, &sealed) == -1 ||
	    sealed.len > sizeof(m.sealed_skey))
		goto fail;
	memcpy(m.sealed_skey, sealed.data, sealed.len);
	m.sealed_skey_len = sealed.len;
	buf_free(&sealed);
	if (c->authenticated) {
		/* recent needs the metadata key; only the token opens it */
		if (crypto_seal(a->crypto, CRYPTO_ACCOUNT, c->token,
		    strlen(c->token), NULL, m.id, mkey, KEYS_LEN, &sealed) == -1
		    || sealed.len > sizeof(m.wrapped_key))
			goto fail;
		memcpy(m.wrapped_key, sealed.data, sealed.len);
		m.wrapped_key_len = sealed.len;
		m.customer_id = c->cust.id;
		snprintf(m.custid, sizeof(m.custid), "%s", c->cust.custid);
	} else
		snprintf(m.custid, sizeof(m.custid), "anon");
	m.state = STATE_NEW;
	m.passphrase = plen > 0;
	m.created = m.updated = r->now;
	m.secret_expires = sec.expires = r->now + m.ttl;
	m.expires = r->now + 2 * m.ttl;
	if (store_create(a->store, &sec, &m, NULL, NULL) == -1)
		goto fail;
	if (generate)
		jvalue = json_object_new_string_len(gen, (int)slen);
	send_json(rs, meta_json(&m, mkey, skey, 1, jvalue, r->now), generate);
	goto out;
fail:
	api_v1_error(rs, 500, M_INTERNAL, NULL);
out:
	buf_free(&sealed);
	buf_free(&sec.sealed);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(gen, sizeof(gen));
	sodium_memzero(skey, sizeof(skey));
	sodium_memzero(mkey, sizeof(mkey));
}

enum unlock { UNLOCK_OK, UNLOCK_WRONG, UNLOCK_LOCKED, UNLOCK_GONE,
	UNLOCK_ERROR };

/*
 * Open a secret row with its key and, when it has one, the passphrase.
 * A passphrase check is an attempt: reserved in the store before scrypt
 * runs (so parallel guesses cannot pass the cap), and a failure may lock
 * the secret or, at the limit, burn it.  A missing passphrase is no
 * attempt.  On UNLOCK_OK plain holds the value.
 */
static enum unlock
unlock(struct app *a, const struct req *r, const struct store_secret *sec,
    const char *skey, size_t sklen, struct buf *plain)
{
	const struct conf *cf = a->conf;
	unsigned char pw[CRYPTO_PW_LEN];
	const char *pass;
	size_t plen = 0;
	long long fails;
	int rc;

	pass = form_get(&r->form, "passphrase", &plen);
	if (sec->has_salt) {
		if (pass == NULL || plen == 0)
			return UNLOCK_WRONG;
		rc = store_attempt_reserve(a->store, sec->id, r->now,
		    cf->lock_after);
		if (rc != 1)
			return rc == 2 ? UNLOCK_LOCKED : rc == 0 ? UNLOCK_GONE :
			    UNLOCK_ERROR;
		if (crypto_pw(pass, plen, sec->salt, pw) == -1)
			return UNLOCK_ERROR;
	}
	rc = crypto_open_sealed(a->crypto, CRYPTO_SECRET, skey, sklen,
	    sec->has_salt ? pw : NULL, sec->id, sec->sealed.data,
	    sec->sealed.len, plain);
	sodium_memzero(pw, sizeof(pw));
	if (rc == 0)
		return UNLOCK_OK;
	if (!sec->has_salt) {
		log_warnx("secret row does not open: database altered?");
		return UNLOCK_ERROR;
	}
	fails = store_attempt_failed(a->store, sec->id, r->now, cf->lock_after,
	    cf->lock_time);
	if (fails == -1)
		return UNLOCK_ERROR;
	if (fails >= cf->burn_after &&
	    store_secret_claim(a->store, sec->id, r->now, STATE_BURNED) == -1)
		return UNLOCK_ERROR;
	return UNLOCK_WRONG;
}

/* POST /secret/KEY: check first, then claim; the claim decides. */
static void
reveal(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct store_secret sec;
	struct json_object *o, *v;
	struct buf plain = { 0 };
	int rc;

	memset(&sec, 0, sizeof(sec));
	if (!keys_valid(rt->key, rt->keylen)) {
		api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		return;
	}
	crypto_row_id(a->crypto, CRYPTO_ID_SECRET, rt->key, rt->keylen, sec.id);
	if ((rc = store_secret_get(a->store, sec.id, r->now, &sec)) != 1) {
		if (rc == -1)
			api_v1_error(rs, 500, M_INTERNAL, NULL);
		else
			api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	}
	switch (unlock(a, r, &sec, rt->key, rt->keylen, &plain)) {
	case UNLOCK_OK:
		break;
	case UNLOCK_LOCKED:
		api_v1_error(rs, 429, M_UNKNOWN, rt->key);
		goto out;
	case UNLOCK_ERROR:
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		goto out;
	default:
		api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	}
	/* Committed before a byte of the value is written out. */
	if ((rc = store_secret_claim(a->store, sec.id, r->now,
	    STATE_RECEIVED)) != 1) {
		if (rc == -1)
			api_v1_error(rs, 500, M_INTERNAL, NULL);
		else
			api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	}
	o = json_object_new_object();
	v = json_object_new_string_len(plain.data, (int)plain.len);
	json_object_object_add(o, "value", v);
	json_object_object_add(o, "secret_key", jstr(rt->key));
	json_object_object_add(o, "share_domain", jstr(a->origin));
	json_object_get(v);
	send_json(rs, o, 1);
	wipe_string(v);
	json_object_put(v);
out:
	buf_free(&plain);
	buf_free(&sec.sealed);
}

/* The secret_key sealed in a metadata row, or -1. */
static int
meta_skey(struct app *a, const struct store_meta *m, const char *mkey,
    size_t mklen, char skey[KEYS_LEN + 1])
{
	struct buf b = { 0 };
	int rc = -1;

	if (crypto_open_sealed(a->crypto, CRYPTO_META, mkey, mklen, NULL, m->id,
	    m->sealed_skey, m->sealed_skey_len, &b) == 0 && b.len == KEYS_LEN) {
		memcpy(skey, b.data, KEYS_LEN + 1);
		rc = 0;
	} else
		log_warnx("metadata row does not open: database altered?");
	buf_free(&b);
	return rc;
}

/* Look up the metadata named in the route: 1 found, 0 answered already. */
static int
find_meta(struct app *a, const struct req *r, const struct route *rt,
    struct store_meta *m, char skey[KEYS_LEN + 1], struct resp *rs)
{
	int rc;

	if (!keys_valid(rt->key, rt->keylen)) {
		api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		return 0;
	}
	crypto_row_id(a->crypto, CRYPTO_ID_META, rt->key, rt->keylen, m->id);
	if ((rc = store_meta_get(a->store, m->id, r->now, m)) != 1) {
		if (rc == -1)
			api_v1_error(rs, 500, M_INTERNAL, NULL);
		else
			api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		return 0;
	}
	if (meta_skey(a, m, rt->key, rt->keylen, skey) == -1) {
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		return 0;
	}
	return 1;
}

/* GET|POST /private/KEY: the receipt; the first fetch marks it viewed. */
static void
metadata(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];

	if (!find_meta(a, r, rt, &m, skey, rs))
		return;
	/* as onetimesecret.com: this answer still says new, the next viewed */
	if (m.state == STATE_NEW && strcmp(r->method, "HEAD") != 0 &&
	    store_meta_viewed(a->store, m.id, r->now) == -1) {
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		return;
	}
	send_json(rs, meta_json(&m, rt->key, skey, 1, NULL, r->now), 0);
	sodium_memzero(skey, sizeof(skey));
}

/* POST /private/KEY/burn. */
static void
burn(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct store_secret sec;
	struct store_meta m;
	struct json_object *o;
	struct buf plain = { 0 };
	char skey[KEYS_LEN + 1], shortkey[9];
	int rc;

	memset(&sec, 0, sizeof(sec));
	if (!find_meta(a, r, rt, &m, skey, rs))
		return;
	if ((rc = store_secret_get(a->store, m.secret_id, r->now, &sec)) != 1) {
		if (rc == -1)
			api_v1_error(rs, 500, M_INTERNAL, NULL);
		else
			api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	}
	switch (sec.has_salt ? unlock(a, r, &sec, skey, KEYS_LEN, &plain) :
	    UNLOCK_OK) {
	case UNLOCK_OK:
		break;
	case UNLOCK_WRONG:
		api_v1_error(rs, 400, "Incorrect passphrase", NULL);
		goto out;
	case UNLOCK_LOCKED:
		api_v1_error(rs, 429, M_UNKNOWN, rt->key);
		goto out;
	case UNLOCK_GONE:
		api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	case UNLOCK_ERROR:
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		goto out;
	}
	if ((rc = store_secret_claim(a->store, sec.id, r->now,
	    STATE_BURNED)) != 1) {
		if (rc == -1)
			api_v1_error(rs, 500, M_INTERNAL, NULL);
		else
			api_v1_error(rs, 404, M_UNKNOWN, rt->key);
		goto out;
	}
	m.state = STATE_BURNED;
	m.updated = r->now;
	memcpy(shortkey, skey, 8);
	shortkey[8] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "state",
	    meta_json(&m, rt->key, NULL, 1, NULL, r->now));
	json_object_object_add(o, "secret_shortkey", jstr(shortkey));
	send_json(rs, o, 0);
out:
	sodium_memzero(skey, sizeof(skey));
	buf_free(&plain);
	buf_free(&sec.sealed);
}

struct recent_ctx {
	struct app		*a;
	const struct caller	*c;
	struct json_object	*list;
	long long		 now;
};

static int
recent_one(void *arg, const struct store_meta *m)
{
	struct recent_ctx *rc = arg;
	struct buf mkey = { 0 };

	/* rows wrapped under an older token no longer open: skip them */
	if (crypto_open_sealed(rc->a->crypto, CRYPTO_ACCOUNT, rc->c->token,
	    strlen(rc->c->token), NULL, m->id, m->wrapped_key,
	    m->wrapped_key_len, &mkey) == 0 && mkey.len == KEYS_LEN)
		json_object_array_add(rc->list,
		    meta_json(m, mkey.data, NULL, 0, NULL, rc->now));
	buf_free(&mkey);
	return 0;
}

/* GET /private/recent: the caller's receipts, newest first. */
static void
recent(struct app *a, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct recent_ctx rc = { a, c, json_object_new_array(), r->now };

	if (store_meta_recent(a->store, c->cust.id,
	    r->now - RECENT_DAYS * 86400LL, r->now, recent_one, &rc) == -1) {
		json_object_put(rc.list);
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		return;
	}
	send_json(rs, rc.list, 0);
}

static void
status(struct resp *rs)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", jstr("nominal"));
	json_object_object_add(o, "locale", jstr("en"));
	send_json(rs, o, 0);
}

void
api_v1_handle(struct app *a, const struct caller *c, const struct req *r,
    const struct route *rt, struct resp *rs)
{
	rs->status = 200;
	switch (rt->id) {
	case R_STATUS:
		status(rs);
		break;
	case R_AUTHCHECK:
		if (c->authenticated)
			status(rs);
		else
			api_v1_error(rs, 401, M_AUTH, NULL);
		break;
	case R_SHARE:
	case R_GENERATE:
		create(a, c, r, rt->id == R_GENERATE, rs);
		break;
	case R_REVEAL:
		reveal(a, r, rt, rs);
		break;
	case R_METADATA:
		metadata(a, r, rt, rs);
		break;
	case R_BURN:
		burn(a, r, rt, rs);
		break;
	case R_RECENT:
		if (c->authenticated)
			recent(a, c, r, rs);
		else
			api_v1_error(rs, 401, M_AUTH, NULL);
		break;
	case R_BAD_METHOD:
		http_header(rs, "Allow", rt->allow);
		api_v1_error(rs, 405, "Method Not Allowed", NULL);
		break;
	case R_NOT_FOUND:
		api_v1_error(rs, 404, "Not Found", NULL);
		break;
	}
}
