#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "request.h"
#include "store.h"

/*
 * The sealed plaintext of a request row: the receipt key, the secret key
 * (KEYS_LEN each), the length of the receipt key sealed under the
 * account's token (2 bytes, big-endian; 0: none) and that blob, then the
 * note.
 */
#define REQ_HEAD	(2 * KEYS_LEN + 2)

static enum secret_result
invalid(struct request_made *out, int status, const char *msg)
{
	out->status = status;
	snprintf(out->message, sizeof(out->message), "%s", msg);
	return SECRET_INVALID;
}

/* The request's notices (up to 2) into mail[]: their count, or -1. */
static int
notices(const struct ctx *x, const struct caller *c, int notify,
    const char *mkey, long long now, struct store_mail *mail)
{
	const struct conf *cf = x->conf;
	struct mail_msg msg;
	int n = 0, rc = 0;

	if (!cf->has_mailer_pk)
		return 0;
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.link, sizeof(msg.link), "%s/private/%s", cf->base_url,
	    mkey);
	outbox_fingerprint(mkey, msg.receipt);
	if (notify & NOTIFY_EMAIL) {
		msg.kind = MAIL_NOTIFY;
		snprintf(msg.to, sizeof(msg.to), "%s", c->cust.custid);
		rc = outbox_prepare(cf, &msg, now, &mail[n++]);
	}
	if (rc == 0 && (notify & NOTIFY_WEBHOOK) &&
	    c->cust.webhook_url[0] != '\0') {
		msg.kind = MAIL_WEBHOOK;
		msg.to[0] = msg.link[0] = '\0';
		rc = outbox_prepare(cf, &msg, now, &mail[n++]);
	}
	sodium_memzero(&msg, sizeof(msg));
	return rc == 0 ? n : -1;
}

enum secret_result
request_create(const struct ctx *x, const struct caller *c, const char *note,
    size_t nlen, const char *ttl, size_t ttl_len, const char *notify,
    size_t notify_len, long long now, struct request_made *out)
{
	const struct conf *cf = x->conf;
	struct store_request q;
	struct store_mail mail[2];
	unsigned char mid[CRYPTO_ID_LEN];
	char skey[KEYS_LEN + 1];
	struct buf plain = { 0 }, wrap = { 0 };
	enum secret_result rc = SECRET_ERROR;
	int nmail = 0, bits, i;

	memset(out, 0, sizeof(*out));
	memset(&q, 0, sizeof(q));
	memset(mail, 0, sizeof(mail));
	if (!c->authenticated)
		return invalid(out, 401, "An account is required to request "
		    "a secret");
	if (note == NULL)
		nlen = 0;
	if (nlen > STORE_NOTE_MAX)
		return invalid(out, 400, "Note exceeds the maximum size of "
		    "500 bytes");
	bits = c->cust.notify;
	if (notify != NULL &&
	    (bits = secret_notify_parse(notify, notify_len)) == -1)
		return invalid(out, 400, "Unknown notify setting "
		    "(none, email, webhook or all)");
	out->ttl = secret_ttl(ttl, ttl_len, cf->ttl_default, c->ttl_max);
	out->created = q.created = now;
	out->expires = q.expires = now + out->ttl;
	keys_new(out->rkey);
	keys_new(out->mkey);
	keys_new(skey);
	crypto_row_id(x->crypto, CRYPTO_ID_REQUEST, out->rkey, KEYS_LEN, q.id);
	crypto_row_id(x->crypto, CRYPTO_ID_META, out->mkey, KEYS_LEN, mid);
	q.key_version = crypto_key_version(x->crypto);
	q.customer_id = c->cust.id;
	/* recent lists the answer: its receipt key under the token */
	if (crypto_seal(x->crypto, CRYPTO_ACCOUNT, c->token, strlen(c->token),
	    NULL, mid, out->mkey, KEYS_LEN, &wrap) == -1 ||
	    wrap.len > STORE_SEALED_KEY_MAX)
		goto out;
	{
		unsigned char len2[2] = { (unsigned char)(wrap.len >> 8),
		    (unsigned char)(wrap.len & 0xff) };

		if (buf_add(&plain, out->mkey, KEYS_LEN) == -1 ||
		    buf_add(&plain, skey, KEYS_LEN) == -1 ||
		    buf_add(&plain, len2, 2) == -1 ||
		    buf_add(&plain, wrap.data, wrap.len) == -1 ||
		    (nlen > 0 && buf_add(&plain, note, nlen) == -1))
			goto out;
	}
	if (crypto_seal(x->crypto, CRYPTO_REQUEST, out->rkey, KEYS_LEN, NULL,
	    q.id, plain.data, plain.len, &q.sealed) == -1)
		goto out;
	if ((nmail = notices(x, c, bits, out->mkey, now, mail)) == -1)
		goto out;
	if (store_request_add(x->store, &q, mail, (size_t)nmail) == -1)
		goto out;
	rc = SECRET_OK;
out:
	audit_request(x, c, "request", secret_outcome(rc), q.id);
	for (i = 0; i < 2; i++)
		buf_free(&mail[i].sealed);
	buf_free(&q.sealed);
	buf_free(&plain);
	buf_free(&wrap);
	sodium_memzero(skey, sizeof(skey));
	return rc;
}

void
request_made_clear(struct request_made *out)
{
	sodium_memzero(out, sizeof(*out));
}

/* The length of the token-sealed receipt key in an opened row. */
static size_t
wrap_len(const struct buf *plain)
{
	return ((size_t)(unsigned char)plain->data[2 * KEYS_LEN] << 8) |
	    (unsigned char)plain->data[2 * KEYS_LEN + 1];
}

/* Open request row q (of version k) into plain; check its shape. */
static enum secret_result
request_open(const struct crypto *k, const struct store_request *q,
    const char *rkey, size_t rklen, struct buf *plain)
{
	if (crypto_open_sealed(k, CRYPTO_REQUEST, rkey, rklen, NULL, q->id,
	    q->sealed.data, q->sealed.len, plain) == 0 &&
	    plain->len >= REQ_HEAD && plain->len >= REQ_HEAD + wrap_len(plain))
		return SECRET_OK;
	log_warnx("request row does not open: database altered?");
	buf_free(plain);
	return SECRET_ERROR;
}

enum secret_result
request_peek(const struct ctx *x, const char *rkey, size_t rklen,
    long long now, struct buf *note)
{
	const struct crypto *k;
	struct store_request q;
	struct buf plain = { 0 };
	enum secret_result rc = SECRET_UNKNOWN;
	size_t off;
	int got = 0;

	memset(&q, 0, sizeof(q));
	if (!keys_valid(rkey, rklen))
		return SECRET_UNKNOWN;
	for (k = crypto_newest(x->crypto); k != NULL; k = crypto_older(k)) {
		crypto_row_id(k, CRYPTO_ID_REQUEST, rkey, rklen, q.id);
		if ((got = store_request_get(x->store, q.id, now, &q)) != 0)
			break;
	}
	if (got == -1)
		return SECRET_ERROR;
	if (got == 0)
		return SECRET_UNKNOWN;
	if ((rc = request_open(k, &q, rkey, rklen, &plain)) == SECRET_OK) {
		off = REQ_HEAD + wrap_len(&plain);
		if (plain.len > off &&
		    buf_add(note, plain.data + off, plain.len - off) == -1)
			rc = SECRET_ERROR;
	}
	buf_free(&plain);
	buf_free(&q.sealed);
	return rc;
}

enum secret_result
request_answer(const struct ctx *x, const struct caller *c, const char *rkey,
    size_t rklen, const struct secret_new *given, long long now,
    struct secret_made *out)
{
	const struct crypto *k;
	struct store_request q;
	struct store_customer owner;
	struct secret_new in = *given;
	struct caller cc;
	struct buf plain = { 0 };
	enum secret_result rc;
	char ttl[24];
	long long at;
	int got = 0;

	memset(&q, 0, sizeof(q));
	if (!keys_valid(rkey, rklen)) {
		audit_request(x, c, "answer", "unknown", NULL);
		return SECRET_UNKNOWN;
	}
	in.value = given->value != NULL ? given->value : "";
	in.recipient = in.notify = in.gen_len = NULL;
	in.mkey = in.skey = NULL;
	in.owner = NULL;
	/* nothing is taken for an answer that would be refused */
	if ((rc = secret_check(x, c, &in, out)) != SECRET_OK) {
		audit_request(x, c, "answer", secret_outcome(rc), NULL);
		return rc;
	}
	for (k = crypto_newest(x->crypto); k != NULL; k = crypto_older(k)) {
		crypto_row_id(k, CRYPTO_ID_REQUEST, rkey, rklen, q.id);
		if ((got = store_request_take(x->store, q.id, &q, &at)) != 0)
			break;
	}
	rc = got == 1 ? SECRET_OK : got == 0 ? SECRET_UNKNOWN : SECRET_ERROR;
	audit_request(x, c, "answer", secret_outcome(rc), got == 1 ? q.id :
	    NULL);
	if (rc != SECRET_OK)
		goto out;
	if ((rc = request_open(k, &q, rkey, rklen, &plain)) != SECRET_OK)
		goto out;
	memset(&owner, 0, sizeof(owner));
	if ((got = store_customer_by_id(x->store, q.customer_id, &owner)) !=
	    1) {
		/* the account is gone: so is its request */
		rc = got == 0 ? SECRET_UNKNOWN : SECRET_ERROR;
		goto out;
	}
	/* the answer lives as long as the request was asked to */
	cc = *c;
	cc.ttl_max = q.expires - q.created;
	snprintf(ttl, sizeof(ttl), "%lld", cc.ttl_max);
	in.ttl = ttl;
	in.ttl_len = strlen(ttl);
	in.notify = "none";
	in.nlen = 4;
	in.mkey = plain.data;
	in.skey = plain.data + KEYS_LEN;
	in.wrapped_len = wrap_len(&plain);
	in.wrapped_key = (const unsigned char *)plain.data + REQ_HEAD;
	in.owner = &owner;
	rc = secret_create(x, &cc, &in, now, out);
	sodium_memzero(&cc, sizeof(cc));
out:
	buf_free(&plain);
	buf_free(&q.sealed);
	return rc;
}
