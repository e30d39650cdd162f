#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "api_v1.h"
#include "app.h"
#include "http.h"
#include "route.h"
#include "secret.h"
#include "store.h"

#define RECENT_DAYS	30

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

/*
 * A json-c string holding a secret value.  Whoever adds it to an object
 * takes a reference of its own (json_object_get), so that it outlives its
 * parent and secret_string_free can wipe it before it is freed.
 */
static struct json_object *
secret_string(const char *s, size_t len)
{
	return json_object_new_string_len(s, (int)len);
}

static void
secret_string_free(struct json_object *o)
{
	if (o == NULL)
		return;
	sodium_memzero((char *)json_object_get_string(o),
	    (size_t)json_object_get_string_len(o));
	json_object_put(o);
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

/* The error answer of a failed secret operation. */
static void
fail(struct resp *rs, enum secret_result rc, const char *key)
{
	switch (rc) {
	case SECRET_LOCKED:
		api_v1_error(rs, 429, M_UNKNOWN, key);
		break;
	case SECRET_WRONG:
		api_v1_error(rs, 400, "Incorrect passphrase", NULL);
		break;
	case SECRET_ERROR:
		api_v1_error(rs, 500, M_INTERNAL, NULL);
		break;
	default:
		api_v1_error(rs, 404, M_UNKNOWN, key);
	}
}

/*
 * The metadata object, fields in the contract's order.  skey is the
 * secret_key (NULL: unknown; with_skey 0 leaves the field out, as recent
 * does); value is the /generate value or NULL.
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
		json_object_object_add(o, "value", json_object_get(value));
	if (live)
		json_object_object_add(o, "passphrase_required",
		    json_object_new_boolean(m->passphrase));
	return o;
}

/* POST /share, /create, /generate. */
static void
create(struct app *a, const struct caller *c, const struct req *r,
    int generate, struct resp *rs)
{
	struct secret_new in;
	struct secret_made out;
	struct json_object *value = NULL;
	enum secret_result rc;

	memset(&in, 0, sizeof(in));
	if (generate)
		in.gen_len = form_get(&r->form, "length", &in.gen_len_len);
	else if ((in.value = form_get(&r->form, "secret", &in.len)) == NULL)
		in.value = "";
	in.pass = form_get(&r->form, "passphrase", &in.plen);
	in.ttl = form_get(&r->form, "ttl", &in.ttl_len);
	in.recipient = form_get(&r->form, "recipient", &in.rlen);
	rc = secret_create(a, c, &in, r->now, &out);
	if (rc == SECRET_INVALID)
		api_v1_error(rs, out.status, out.message, NULL);
	else if (rc != SECRET_OK)
		fail(rs, rc, NULL);
	else {
		if (generate)
			value = secret_string(out.value, out.value_len);
		rs->mail_id = out.mail_id;
		send_json(rs, meta_json(&out.meta, out.mkey, out.skey, 1, value,
		    r->now), generate);
		secret_string_free(value);
	}
	secret_made_clear(&out);
}

/* POST /secret/KEY. */
static void
reveal(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct json_object *o, *v;
	struct buf value = { 0 };
	const char *pass;
	size_t plen = 0;
	enum secret_result rc;

	pass = form_get(&r->form, "passphrase", &plen);
	rc = secret_reveal(a, rt->key, rt->keylen, pass, plen, r->now, &value);
	if (rc == SECRET_WRONG) {
		/* to a v1 client a wrong passphrase is an unknown secret */
		rs->failed_passphrase = plen > 0;
		rc = SECRET_UNKNOWN;
	}
	if (rc != SECRET_OK) {
		fail(rs, rc, rt->key);
		return;
	}
	o = json_object_new_object();
	v = secret_string(value.data, value.len);
	json_object_object_add(o, "value", json_object_get(v));
	json_object_object_add(o, "secret_key", jstr(rt->key));
	json_object_object_add(o, "share_domain", jstr(a->origin));
	send_json(rs, o, 1);
	secret_string_free(v);
	buf_free(&value);
}

/* GET|POST /private/KEY: the receipt; the first fetch marks it viewed (as
 * onetimesecret.com does, the answer to that fetch still says new). */
static void
metadata(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];
	enum secret_result rc;

	rc = secret_receipt(a, rt->key, rt->keylen, r->now,
	    strcmp(r->method, "HEAD") != 0, &m, skey);
	if (rc != SECRET_OK)
		fail(rs, rc, rt->key);
	else
		send_json(rs, meta_json(&m, rt->key, skey, 1, NULL, r->now), 0);
	sodium_memzero(skey, sizeof(skey));
}

/* POST /private/KEY/burn. */
static void
burn(struct app *a, const struct req *r, const struct route *rt,
    struct resp *rs)
{
	struct store_meta m;
	struct json_object *o;
	char skey[KEYS_LEN + 1], shortkey[9];
	const char *pass;
	size_t plen = 0;
	enum secret_result rc;

	pass = form_get(&r->form, "passphrase", &plen);
	rc = secret_burn(a, rt->key, rt->keylen, pass, plen, r->now, &m, skey);
	rs->failed_passphrase = rc == SECRET_WRONG && plen > 0;
	if (rc != SECRET_OK) {
		fail(rs, rc, rt->key);
		goto out;
	}
	snprintf(shortkey, sizeof(shortkey), "%.8s", skey);
	o = json_object_new_object();
	json_object_object_add(o, "state",
	    meta_json(&m, rt->key, NULL, 1, NULL, r->now));
	json_object_object_add(o, "secret_shortkey", jstr(shortkey));
	send_json(rs, o, 0);
out:
	sodium_memzero(skey, sizeof(skey));
}

struct recent_ctx {
	struct json_object	*list;
	long long		 now;
};

static void
recent_one(void *arg, const struct store_meta *m, const char *mkey)
{
	struct recent_ctx *rc = arg;

	json_object_array_add(rc->list,
	    meta_json(m, mkey, NULL, 0, NULL, rc->now));
}

/* GET /private/recent: the caller's receipts, newest first. */
static void
recent(struct app *a, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct recent_ctx rc = { json_object_new_array(), r->now };

	if (secret_recent(a, c, r->now, RECENT_DAYS, recent_one, &rc) == -1) {
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
	default:
		api_v1_error(rs, 404, "Not Found", NULL);
		break;
	}
}
