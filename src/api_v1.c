#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <sodium.h>

#include "api_v1.h"
#include "audit.h"
#include "field.h"
#include "gate.h"
#include "http.h"
#include "log.h"
#include "request.h"
#include "secret.h"
#include "store.h"

#define RECENT_DAYS	30
/* Room left after a secret value for the rest of its document: the
 * secret_key and share_domain of a reveal, the end of a metadata object. */
#define SECRET_TAIL	2048

static const char M_UNKNOWN[] = "Unknown secret";
static const char M_UNAVAILABLE[] = "Service unavailable";
static const char M_LIMITED[] = "Cripes! You have been rate limited.";

void
api_v1_headers(struct resp *rs)
{
	http_header(rs, "Cache-Control", "no-store");
	http_header(rs, "Referrer-Policy", "no-referrer");
	http_header(rs, "X-Content-Type-Options", "nosniff");
	http_header(rs, "Content-Security-Policy", "frame-ancestors 'none'");
}

/*
 * A secret value inside a json-c document, without json-c ever holding a
 * copy it would free unwiped.  json-c writes a document into a print
 * buffer that it grows with realloc, leaving the old block behind as it
 * was; so the value's serializer first grows the buffer to hold the value
 * and all that can follow it, then writes the value escaped in place, and
 * remembers where.  send_json checks that the buffer did not move after
 * that and wipes it.
 */
struct secret_text {
	const char	*s;
	size_t		 len;
	const char	*at;	/* the print buffer it was written into */
};

static int
secret_serialize(struct json_object *o, struct printbuf *pb, int level,
    int flags)
{
	static const char hex[] = "0123456789abcdef";
	struct secret_text *t = json_object_get_userdata(o);
	unsigned char ch;
	size_t i, n = 2;
	char *p;

	(void)level;
	(void)flags;
	for (i = 0; i < t->len; i++) {
		ch = (unsigned char)t->s[i];
		n += ch == '"' || ch == '\\' || ch == '\n' || ch == '\r' ||
		    ch == '\t' ? 2 : ch < 0x20 ? 6 : 1;
	}
	if (n + SECRET_TAIL > INT32_MAX / 2 ||
	    printbuf_memset(pb, -1, 0, (int)(n + SECRET_TAIL)) < 0)
		return -1;
	pb->bpos -= (int)(n + SECRET_TAIL);
	p = pb->buf + pb->bpos;
	*p++ = '"';
	for (i = 0; i < t->len; i++) {
		ch = (unsigned char)t->s[i];
		if (ch == '"' || ch == '\\')
			*p++ = '\\', *p++ = (char)ch;
		else if (ch == '\n')
			*p++ = '\\', *p++ = 'n';
		else if (ch == '\r')
			*p++ = '\\', *p++ = 'r';
		else if (ch == '\t')
			*p++ = '\\', *p++ = 't';
		else if (ch < 0x20) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[ch >> 4];
			p[5] = hex[ch & 15];
			p += 6;
		} else
			*p++ = (char)ch;
	}
	*p = '"';
	pb->bpos += (int)n;
	pb->buf[pb->bpos] = '\0';
	t->at = pb->buf;
	return 0;
}

/* A json-c object that prints the secret value t (which must outlive it). */
static struct json_object *
secret_json(struct secret_text *t)
{
	struct json_object *o = json_object_new_string("");

	t->at = NULL;
	json_object_set_serializer(o, secret_serialize, t, NULL);
	return o;
}

/*
 * Serialise obj into the response body and release it.  With secret (the
 * value in obj), the print buffer must not have moved since the value was
 * written into it, and it is wiped.
 */
static void
send_json(struct resp *rs, struct json_object *obj,
    const struct secret_text *secret)
{
	const char *s;
	size_t len;

	rs->ctype = "application/json; charset=utf-8";
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || (secret != NULL && secret->at != s)) {
		log_warnx("api: a secret value's JSON buffer moved");
		rs->status = 500;
		rs->body.len = 0;
	} else if (buf_add(&rs->body, s, len) == -1) {
		rs->status = 500;
		rs->body.len = 0;
	}
	if (secret != NULL && s != NULL)
		sodium_memzero((char *)s, len);
	json_object_put(obj);
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
		json_object_object_add(o, J_SECRET_KEY, jstr(key));
	json_object_object_add(o, J_MESSAGE, jstr(msg));
	buf_free(&rs->body);
	send_json(rs, o, NULL);
}

/* The error answer of a failed secret operation. */
static void
fail(struct resp *rs, enum secret_result rc, const char *key)
{
	char num[8];

	switch (rc) {
	case SECRET_LOCKED:
		api_v1_error(rs, 429, M_UNKNOWN, key);
		break;
	case SECRET_BUSY:
		snprintf(num, sizeof(num), "%d", GATE_RETRY);
		http_header(rs, "Retry-After", num);
		api_v1_error(rs, 429, M_LIMITED, NULL);
		break;
	case SECRET_WRONG:
		api_v1_error(rs, 400, "Incorrect passphrase", NULL);
		break;
	case SECRET_ERROR:	/* the store failed: try again later */
		api_v1_error(rs, 503, M_UNAVAILABLE, NULL);
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
    int with_skey, struct secret_text *value, long long now)
{
	struct json_object *o = json_object_new_object(), *rcpt;
	int gone = m->state == STATE_BURNED || m->state == STATE_EXPIRED;
	int live = m->state == STATE_NEW || m->state == STATE_VIEWED;

	json_object_object_add(o, J_CUSTID, jstr(m->custid));
	json_object_object_add(o, J_METADATA_KEY, jstr(mkey));
	if (with_skey && m->state != STATE_RECEIVED)
		json_object_object_add(o, J_SECRET_KEY,
		    jstr(gone || skey == NULL ? "" : skey));
	json_object_object_add(o, J_TTL, json_object_new_int64(m->ttl));
	json_object_object_add(o, J_METADATA_TTL,
	    json_object_new_int64(m->expires > now ? m->expires - now : 0));
	if (m->state != STATE_RECEIVED)
		json_object_object_add(o, J_SECRET_TTL, gone ? NULL :
		    json_object_new_int64(m->secret_expires > now ?
		    m->secret_expires - now : 0));
	json_object_object_add(o, J_STATE, jstr(store_state_name(m->state)));
	json_object_object_add(o, J_UPDATED, json_object_new_int64(m->updated));
	json_object_object_add(o, J_CREATED, json_object_new_int64(m->created));
	if (m->state == STATE_RECEIVED)
		json_object_object_add(o, J_RECEIVED,
		    json_object_new_int64(m->received));
	rcpt = json_object_new_array();
	if (m->recipient[0] != '\0')
		json_object_array_add(rcpt, jstr(m->recipient));
	json_object_object_add(o, J_RECIPIENT, rcpt);
	json_object_object_add(o, J_SHARE_DOMAIN, jstr(""));
	if (value != NULL)
		json_object_object_add(o, J_VALUE, secret_json(value));
	if (live)
		json_object_object_add(o, J_PASSPHRASE_REQUIRED,
		    json_object_new_boolean(m->passphrase));
	return o;
}

/* POST /share, /create, /generate. */
static void
create(const struct ctx *x, const struct caller *c, const struct req *r,
    int generate, struct resp *rs)
{
	struct secret_new in;
	struct secret_made out;
	struct secret_text value;
	enum secret_result rc;

	memset(&in, 0, sizeof(in));
	if (generate)
		in.gen_len = form_get(&r->form, P_LENGTH, &in.gen_len_len);
	else if ((in.value = form_get(&r->form, P_SECRET, &in.len)) == NULL)
		in.value = "";
	/* an extension: a multipart part "file" with a filename is a file */
	if (!generate && (in.file = form_file(&r->form, P_FILE, &in.file_len,
	    &in.file_name)) != NULL && in.file_len == 0 &&
	    in.file_name[0] == '\0')
		in.file = NULL;
	in.pass = form_get(&r->form, P_PASSPHRASE, &in.plen);
	in.ttl = form_get(&r->form, P_TTL, &in.ttl_len);
	in.recipient = form_get(&r->form, P_RECIPIENT, &in.rlen);
	in.notify = form_get(&r->form, P_NOTIFY, &in.nlen);
	rc = secret_create(x, c, &in, r->now, &out);
	if (rc == SECRET_INVALID)
		api_v1_error(rs, out.status, out.message, NULL);
	else if (rc != SECRET_OK)
		fail(rs, rc, NULL);
	else {
		value.s = out.value;
		value.len = out.value_len;
		send_json(rs, meta_json(&out.meta, out.mkey, out.skey, 1,
		    generate ? &value : NULL, r->now), generate ? &value : NULL);
	}
	secret_made_clear(&out);
}

/* POST /request: a request link for the account (an extension of v1). */
void
api_v1_request(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct request_made out;
	struct json_object *o;
	const char *note, *ttl, *notify;
	size_t nlen = 0, tlen = 0, flen = 0;
	char url[1024];
	enum secret_result rc;

	note = form_get(&r->form, P_NOTE, &nlen);
	ttl = form_get(&r->form, P_TTL, &tlen);
	notify = form_get(&r->form, P_NOTIFY, &flen);
	rc = request_create(x, c, note, nlen, ttl, tlen, notify, flen, r->now,
	    &out);
	if (rc == SECRET_INVALID)
		api_v1_error(rs, out.status, out.message, NULL);
	else if (rc != SECRET_OK)
		fail(rs, rc, NULL);
	else {
		o = json_object_new_object();
		json_object_object_add(o, J_CUSTID, jstr(c->cust.custid));
		json_object_object_add(o, J_REQUEST_KEY, jstr(out.rkey));
		snprintf(url, sizeof(url), "%s/request/%s", x->conf->base_url,
		    out.rkey);
		json_object_object_add(o, J_REQUEST_URL, jstr(url));
		json_object_object_add(o, J_METADATA_KEY, jstr(out.mkey));
		snprintf(url, sizeof(url), "%s/private/%s", x->conf->base_url,
		    out.mkey);
		json_object_object_add(o, J_RECEIPT_URL, jstr(url));
		json_object_object_add(o, J_TTL,
		    json_object_new_int64(out.ttl));
		json_object_object_add(o, J_CREATED,
		    json_object_new_int64(out.created));
		json_object_object_add(o, J_EXPIRES,
		    json_object_new_int64(out.expires));
		send_json(rs, o, NULL);
		sodium_memzero(url, sizeof(url));
	}
	request_made_clear(&out);
}

void
api_v1_share(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	create(x, c, r, 0, rs);
}

void
api_v1_generate(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	create(x, c, r, 1, rs);
}

/*
 * The reveal of a file secret (an extension; f NULL: malformed): "value"
 * empty, as a v1 client can read it, and file_name, file_size and
 * file_base64 (the bytes, standard base64) beside it.
 */
static void
reveal_file(const struct ctx *x, const struct req *r,
    const struct secret_file *f, struct resp *rs)
{
	struct json_object *o;
	struct secret_text b64;
	char *enc;
	size_t elen;

	if (f == NULL) {
		fail(rs, SECRET_ERROR, NULL);
		return;
	}
	elen = sodium_base64_ENCODED_LEN(f->size,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((enc = malloc(elen)) == NULL) {
		fail(rs, SECRET_ERROR, NULL);
		return;
	}
	sodium_bin2base64(enc, elen, (const unsigned char *)f->data, f->size,
	    sodium_base64_VARIANT_ORIGINAL);
	b64.s = enc;
	b64.len = elen - 1;
	o = json_object_new_object();
	json_object_object_add(o, J_VALUE, jstr(""));
	json_object_object_add(o, J_SECRET_KEY, jstr(r->key));
	json_object_object_add(o, J_SHARE_DOMAIN, jstr(x->origin));
	json_object_object_add(o, J_FILE_NAME, jstr(f->name));
	json_object_object_add(o, J_FILE_SIZE,
	    json_object_new_int64((int64_t)f->size));
	/* the one secret_json of the document: written last */
	json_object_object_add(o, J_FILE_BASE64, secret_json(&b64));
	send_json(rs, o, &b64);
	sodium_memzero(enc, elen);
	free(enc);
}

void
api_v1_reveal(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct json_object *o;
	struct secret_text value;
	struct secret_file f;
	struct buf plain = { 0 };
	const char *pass;
	size_t plen = 0;
	enum secret_result rc;
	int file;

	pass = form_get(&r->form, P_PASSPHRASE, &plen);
	rc = secret_reveal(x, c, r->key, r->keylen, pass, plen, r->now, &plain);
	if (rc == SECRET_WRONG) {
		/* to a v1 client a wrong passphrase is an unknown secret */
		rs->failed_passphrase = plen > 0;
		rc = SECRET_UNKNOWN;
	}
	if (rc != SECRET_OK) {
		fail(rs, rc, r->key);
		return;
	}
	if ((file = secret_file_parse(plain.data, plain.len, &f)) != 0) {
		reveal_file(x, r, file == 1 ? &f : NULL, rs);
		sodium_memzero(&f, sizeof(f));
		buf_free(&plain);
		return;
	}
	value.s = plain.data;
	value.len = plain.len;
	o = json_object_new_object();
	json_object_object_add(o, J_VALUE, secret_json(&value));
	json_object_object_add(o, J_SECRET_KEY, jstr(r->key));
	json_object_object_add(o, J_SHARE_DOMAIN, jstr(x->origin));
	send_json(rs, o, &value);
	buf_free(&plain);
}

/* GET|POST /private/KEY: the receipt; the first fetch marks it viewed (as
 * onetimesecret.com does, the answer to that fetch still says new). */
void
api_v1_metadata(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];
	enum secret_result rc;

	rc = secret_receipt(x, r->key, r->keylen, r->now,
	    strcmp(r->method, "HEAD") != 0, &m, skey);
	audit_request(x, c, "receipt", secret_outcome(rc),
	    rc == SECRET_OK ? m.secret_id : NULL);
	if (rc != SECRET_OK)
		fail(rs, rc, r->key);
	else
		send_json(rs, meta_json(&m, r->key, skey, 1, NULL, r->now),
		    NULL);
	sodium_memzero(skey, sizeof(skey));
}

void
api_v1_burn(const struct ctx *x, const struct caller *c, const struct req *r,
    struct resp *rs)
{
	struct store_meta m;
	struct json_object *o;
	char skey[KEYS_LEN + 1], shortkey[9];
	const char *pass;
	size_t plen = 0;
	enum secret_result rc;

	pass = form_get(&r->form, P_PASSPHRASE, &plen);
	rc = secret_burn(x, c, r->key, r->keylen, pass, plen, r->now, &m, skey);
	rs->failed_passphrase = rc == SECRET_WRONG && plen > 0;
	if (rc != SECRET_OK) {
		fail(rs, rc, r->key);
		goto out;
	}
	snprintf(shortkey, sizeof(shortkey), "%.8s", skey);
	o = json_object_new_object();
	json_object_object_add(o, J_STATE,
	    meta_json(&m, r->key, NULL, 1, NULL, r->now));
	json_object_object_add(o, J_SECRET_SHORTKEY, jstr(shortkey));
	send_json(rs, o, NULL);
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
void
api_v1_recent(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct recent_ctx rc = { json_object_new_array(), r->now };

	if (secret_recent(x, c, r->now, RECENT_DAYS, recent_one, &rc) == -1) {
		json_object_put(rc.list);
		api_v1_error(rs, 503, M_UNAVAILABLE, NULL);
		return;
	}
	send_json(rs, rc.list, NULL);
}

void
api_v1_status(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	struct json_object *o = json_object_new_object();

	(void)x;
	(void)c;
	(void)r;
	json_object_object_add(o, J_STATUS, jstr("nominal"));
	json_object_object_add(o, J_LOCALE, jstr("en"));
	send_json(rs, o, NULL);
}

void
api_v1_not_found(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	(void)x;
	(void)c;
	(void)r;
	api_v1_error(rs, 404, "Not Found", NULL);
}

void
api_v1_bad_method(const struct ctx *x, const struct caller *c,
    const struct req *r, struct resp *rs)
{
	(void)x;
	(void)c;
	http_header(rs, "Allow", r->allow);
	api_v1_error(rs, 405, "Method Not Allowed", NULL);
}
