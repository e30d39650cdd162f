#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "ctx.h"
#include "gate.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "outbox.h"
#include "secret.h"
#include "store.h"
#include "util.h"

#define TTL_MIN		60

long long
secret_ttl(const char *s, size_t len, long long def, long long max)
{
	long long v;

	if (s == NULL)
		return def < max ? def : max;
	if (util_strtoll(s, len, INT64_MIN, INT64_MAX, &v) == -1 ||
	    v < TTL_MIN)
		return TTL_MIN;
	return v > max ? max : v;
}

static enum secret_result
invalid(struct secret_made *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum secret_result
invalid(struct secret_made *out, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
	out->status = status;
	return SECRET_INVALID;
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

/* The length of the longest prefix of s[0..len) of at most max bytes
 * that ends on a whole UTF-8 character. */
static size_t
utf8_prefix(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* Check a create request; fills out->value when one is generated. */
static enum secret_result
check_new(const struct conf *cf, const struct caller *c,
    const struct secret_new *in, struct secret_made *out)
{
	size_t n = in->pass ? utf8_chars(in->pass, in->plen) : 0;
	long long len = KEYS_VALUE_DEFAULT;

	if (in->file != NULL) {
		if (in->value != NULL && in->len > 0)
			return invalid(out, 400,
			    "Send either a text or a file, not both");
		if ((long long)in->file_len > c->file_size_max)
			return invalid(out, 413, c->file_size_max == 0 ?
			    "This server does not take files" :
			    "The file is larger than this server takes");
	} else if (in->value == NULL) {
		if (in->gen_len != NULL && util_strtoll(in->gen_len,
		    in->gen_len_len, INT64_MIN, INT64_MAX, &len) == 0)
			len = len < KEYS_VALUE_MIN ? KEYS_VALUE_MIN :
			    len > KEYS_VALUE_MAX ? KEYS_VALUE_MAX : len;
		else
			len = KEYS_VALUE_DEFAULT;
		keys_value(out->value, (size_t)len);
		out->value_len = (size_t)len;
	} else if (in->len == 0)
		return invalid(out, 400, "You did not provide anything to share");
	else if ((long long)in->len > c->size_max)
		return invalid(out, 413,
		    "Secret value exceeds the maximum size of %lld bytes",
		    c->size_max);
	if (n == 0 && cf->passphrase_required)
		return invalid(out, 400,
		    "A passphrase is required for all secrets");
	if (n > 0 && n < (size_t)cf->passphrase_min)
		return invalid(out, 400,
		    "Passphrase must be at least %lld characters long",
		    cf->passphrase_min);
	if (n > (size_t)cf->passphrase_max)
		return invalid(out, 400,
		    "Passphrase must be at most %lld characters long",
		    cf->passphrase_max);
	if (in->notify != NULL && secret_notify_parse(in->notify,
	    in->nlen) == -1)
		return invalid(out, 400, "Unknown notify setting "
		    "(none, email, webhook or all)");
	if (in->recipient != NULL && in->rlen > 0) {
		if (!c->authenticated)
			return invalid(out, 401,
			    "An account is required to send emails.");
		if (!mail_address_valid(in->recipient, in->rlen) ||
		    mail_obfuscate(in->recipient, out->meta.recipient,
		    sizeof(out->meta.recipient)) == -1)
			return invalid(out, 400,
			    "Undeliverable email address: %.*s",
			    (int)utf8_prefix(in->recipient, in->rlen, 80),
			    in->recipient);
		if (!cf->has_mailer_pk)
			return invalid(out, 503, "This server does not send "
			    "email (no mailer_public_key)");
	}
	return SECRET_OK;
}

/* The sealed header of a file secret (secret.h) into h; its length. */
static size_t
file_head(const struct secret_new *in, unsigned char *h)
{
	char name[UTIL_FILE_NAME_MAX + 1];
	size_t n = util_file_name(in->file_name, strlen(in->file_name), name),
	    o = SECRET_FILE_MAGIC_LEN;
	int i;

	memcpy(h, SECRET_FILE_MAGIC, SECRET_FILE_MAGIC_LEN);
	h[o++] = (unsigned char)(n >> 8);
	h[o++] = (unsigned char)n;
	memcpy(h + o, name, n);
	o += n;
	for (i = 7; i >= 0; i--)
		h[o++] = (unsigned char)((unsigned long long)in->file_len >>
		    (8 * i));
	sodium_memzero(name, sizeof(name));
	return o;
}

int
secret_file_parse(const char *p, size_t len, struct secret_file *f)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned long long size = 0;
	size_t n, o = SECRET_FILE_MAGIC_LEN;
	int i;

	if (len < SECRET_FILE_MAGIC_LEN ||
	    memcmp(p, SECRET_FILE_MAGIC, SECRET_FILE_MAGIC_LEN) != 0)
		return 0;
	if (len - o < 2)
		return -1;
	n = (size_t)u[o] << 8 | u[o + 1];
	o += 2;
	if (n > UTIL_FILE_NAME_MAX || len - o < n + 8)
		return -1;
	util_file_name(p + o, n, f->name_buf);
	f->name = f->name_buf;
	o += n;
	for (i = 0; i < 8; i++)
		size = size << 8 | u[o++];
	if (size != len - o)
		return -1;
	f->data = p + o;
	f->size = (size_t)size;
	return 1;
}

/* By NOTIFY_* bits: email 1, webhook 2, both 3. */
static const char *const notify_names[] = { "none", "email", "webhook",
    "all" };

int
secret_notify_parse(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(notify_names) / sizeof(notify_names[0]); i++)
		if (len == strlen(notify_names[i]) &&
		    memcmp(s, notify_names[i], len) == 0)
			return (int)i;
	return -1;
}

const char *
secret_notify_name(int notify)
{
	return notify_names[notify & (NOTIFY_EMAIL | NOTIFY_WEBHOOK)];
}

/*
 * The outbox rows of a new secret, into mail[] (up to 3): the recipient's
 * message, and the notices its creator asked for (accounts only; a
 * webhook only when one is registered).  Their count, or -1.
 */
static int
outbox_rows(const struct ctx *x, const struct caller *c,
    const struct secret_new *in, const struct secret_made *made, int notify,
    long long now, struct store_mail *mail)
{
	const struct conf *cf = x->conf;
	struct mail_msg msg;
	int n = 0, rc = 0;

	memset(&msg, 0, sizeof(msg));
	if (made->meta.recipient[0] != '\0') {
		msg.kind = MAIL_SECRET;
		snprintf(msg.to, sizeof(msg.to), "%.*s", (int)in->rlen,
		    in->recipient);
		snprintf(msg.sender, sizeof(msg.sender), "%s",
		    c->cust.custid);
		snprintf(msg.link, sizeof(msg.link), "%s/secret/%s",
		    cf->base_url, made->skey);
		msg.passphrase = made->meta.passphrase;
		rc = outbox_prepare(cf, &msg, now, &mail[n++]);
	}
	if (!c->authenticated || !cf->has_mailer_pk)
		notify = 0;
	memset(&msg, 0, sizeof(msg));
	snprintf(msg.link, sizeof(msg.link), "%s/private/%s", cf->base_url,
	    made->mkey);
	outbox_fingerprint(made->mkey, msg.receipt);
	if (rc == 0 && (notify & NOTIFY_EMAIL)) {
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

/*
 * scrypt of a passphrase, through the gate: SECRET_OK, SECRET_BUSY when
 * the host (or this client) has no room for another one now, or
 * SECRET_ERROR.  With attempt (a secret's row id), the check is first
 * reserved as an attempt on that secret, once the gate let it in (so a
 * busy gate costs no attempt): SECRET_UNKNOWN or SECRET_LOCKED when it
 * cannot be.
 */
static enum secret_result
hash_pw(const struct ctx *x, const struct caller *c, const char *pass,
    size_t plen, const unsigned char salt[CRYPTO_SALT_LEN],
    const unsigned char *attempt, unsigned char pw[CRYPTO_PW_LEN])
{
	const struct conf *cf = x->conf;
	enum secret_result res = SECRET_ERROR;
	int rc;

	if ((rc = gate_enter(x->gate, c->addr)) != 1)
		return rc == 0 ? SECRET_BUSY : SECRET_ERROR;
	if (attempt != NULL)
		rc = store_attempt_reserve(x->store, attempt, x->clock(),
		    cf->lock_after, cf->lock_time);
	if (rc == 2)
		metrics_add(x->metrics, M_PASSPHRASE_LOCKED, 1);
	if (rc != 1)
		res = rc == 2 ? SECRET_LOCKED : rc == 0 ? SECRET_UNKNOWN :
		    SECRET_ERROR;
	else if (crypto_pw(pass, plen, salt, pw) == 0)
		res = SECRET_OK;
	gate_leave(x->gate);
	return res;
}

const char *
secret_outcome(enum secret_result rc)
{
	static const char *const names[] = {
		[SECRET_OK] = "ok", [SECRET_UNKNOWN] = "unknown",
		[SECRET_WRONG] = "wrong_passphrase", [SECRET_LOCKED] = "locked",
		[SECRET_BUSY] = "busy", [SECRET_INVALID] = "invalid",
		[SECRET_ERROR] = "error",
	};

	return names[rc];
}

enum secret_result
secret_create(const struct ctx *x, const struct caller *c,
    const struct secret_new *in, long long now, struct secret_made *out)
{
	const struct conf *cf = x->conf;
	struct store_meta *m = &out->meta;
	struct store_secret sec;
	struct store_mail mail[3];
	unsigned char pw[CRYPTO_PW_LEN];
	unsigned char fhead[SECRET_FILE_MAGIC_LEN + 2 + UTIL_FILE_NAME_MAX + 8];
	struct buf sealed = { 0 };
	enum secret_result rc;
	int passphrase = in->pass != NULL && in->plen > 0, nmail = 0, i;
	long long t0;
	size_t fhlen = 0;

	memset(out, 0, sizeof(*out));
	memset(&sec, 0, sizeof(sec));
	memset(mail, 0, sizeof(mail));
	if ((rc = check_new(cf, c, in, out)) != SECRET_OK) {
		audit_request(x, c, "create", secret_outcome(rc), NULL);
		return rc;
	}
	rc = SECRET_ERROR;
	m->ttl = secret_ttl(in->ttl, in->ttl_len, cf->ttl_default, c->ttl_max);
	if (in->mkey != NULL && in->skey != NULL) {
		memcpy(out->mkey, in->mkey, KEYS_LEN);
		memcpy(out->skey, in->skey, KEYS_LEN);
		out->mkey[KEYS_LEN] = out->skey[KEYS_LEN] = '\0';
	} else {
		keys_new(out->mkey);
		keys_new(out->skey);
	}
	crypto_row_id(x->crypto, CRYPTO_ID_SECRET, out->skey, KEYS_LEN, sec.id);
	crypto_row_id(x->crypto, CRYPTO_ID_META, out->mkey, KEYS_LEN, m->id);
	memcpy(m->secret_id, sec.id, CRYPTO_ID_LEN);
	/* x->crypto is the sealing version (store_check_keys) */
	sec.key_version = m->key_version = crypto_key_version(x->crypto);
	if (passphrase) {
		sec.has_salt = 1;
		crypto_salt(sec.salt);
		if ((rc = hash_pw(x, c, in->pass, in->plen, sec.salt, NULL,
		    pw)) != SECRET_OK)
			goto out;
		rc = SECRET_ERROR;
	}
	if (in->file != NULL)
		fhlen = file_head(in, fhead);
	if ((in->file != NULL ? crypto_seal2(x->crypto, CRYPTO_SECRET,
	    out->skey, KEYS_LEN, passphrase ? pw : NULL, sec.id, fhead, fhlen,
	    in->file, in->file_len, &sec.sealed) : crypto_seal(x->crypto,
	    CRYPTO_SECRET, out->skey, KEYS_LEN,
	    passphrase ? pw : NULL, sec.id, in->value ? in->value : out->value,
	    in->value ? in->len : out->value_len, &sec.sealed)) == -1 ||
	    crypto_seal(x->crypto, CRYPTO_META, out->mkey, KEYS_LEN, NULL, m->id,
	    out->skey, KEYS_LEN, &sealed) == -1 ||
	    sealed.len > sizeof(m->sealed_skey))
		goto out;
	memcpy(m->sealed_skey, sealed.data, sealed.len);
	m->sealed_skey_len = sealed.len;
	buf_free(&sealed);
	if (c->authenticated) {
		/* recent needs the metadata key; only the token opens it */
		if (crypto_seal(x->crypto, CRYPTO_ACCOUNT, c->token,
		    strlen(c->token), NULL, m->id, out->mkey, KEYS_LEN, &sealed)
		    == -1 || sealed.len > sizeof(m->wrapped_key))
			goto out;
		memcpy(m->wrapped_key, sealed.data, sealed.len);
		m->wrapped_key_len = sealed.len;
		m->customer_id = c->cust.id;
		snprintf(m->custid, sizeof(m->custid), "%s", c->cust.custid);
	} else if (in->owner != NULL) {
		/* an answer to a request: the requester's receipt */
		if (in->wrapped_key != NULL && in->wrapped_len > 0 &&
		    in->wrapped_len <= sizeof(m->wrapped_key)) {
			memcpy(m->wrapped_key, in->wrapped_key, in->wrapped_len);
			m->wrapped_key_len = in->wrapped_len;
		}
		m->customer_id = in->owner->id;
		snprintf(m->custid, sizeof(m->custid), "%s",
		    in->owner->custid);
	} else
		snprintf(m->custid, sizeof(m->custid), "anon");
	m->state = STATE_NEW;
	m->passphrase = passphrase;
	m->created = m->updated = now;
	m->secret_expires = sec.expires = now + m->ttl;
	m->expires = now + 2 * m->ttl;
	if ((nmail = outbox_rows(x, c, in, out, in->notify != NULL ?
	    secret_notify_parse(in->notify, in->nlen) : c->cust.notify, now,
	    mail)) == -1)
		goto out;
	t0 = metrics_clock();
	i = store_create(x->store, &sec, m, mail, (size_t)nmail);
	metrics_observe(x->metrics, MH_CREATE, metrics_clock() - t0);
	if (i == -1)
		goto out;
	metrics_add(x->metrics, M_CREATED, 1);
	rc = SECRET_OK;
out:
	audit_request(x, c, "create", secret_outcome(rc), sec.id);
	buf_free(&sealed);
	buf_free(&sec.sealed);
	for (i = 0; i < 3; i++)
		buf_free(&mail[i].sealed);
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(fhead, sizeof(fhead));
	return rc;
}

enum secret_result
secret_check(const struct ctx *x, const struct caller *c,
    const struct secret_new *in, struct secret_made *out)
{
	memset(out, 0, sizeof(*out));
	return check_new(x->conf, c, in, out);
}

void
secret_made_clear(struct secret_made *out)
{
	sodium_memzero(out, sizeof(*out));
}

/*
 * Open a secret row with its key and, when it has one, the passphrase.
 * A passphrase check is an attempt: reserved in the store before scrypt
 * runs (so parallel guesses cannot pass the cap), and a failure may lock
 * the secret or, at the limit, burn it.  A missing passphrase is no
 * attempt.  On SECRET_OK plain holds the value.
 */
static enum secret_result
unlock(const struct ctx *x, const struct crypto *k, const struct caller *c,
    const struct store_secret *sec, const char *skey, size_t sklen,
    const char *pass, size_t plen, struct buf *plain)
{
	const struct conf *cf = x->conf;
	unsigned char pw[CRYPTO_PW_LEN];
	enum secret_result res = SECRET_ERROR;
	long long fails, at;
	int rc;

	if (sec->has_salt) {
		if (pass == NULL || plen == 0)
			return SECRET_WRONG;
		if ((res = hash_pw(x, c, pass, plen, sec->salt, sec->id, pw)) !=
		    SECRET_OK)
			goto out;
	}
	res = SECRET_ERROR;
	if (crypto_open_sealed(k, CRYPTO_SECRET, skey, sklen,
	    sec->has_salt ? pw : NULL, sec->id, sec->sealed.data,
	    sec->sealed.len, plain) == 0) {
		res = SECRET_OK;
		goto out;
	}
	if (!sec->has_salt) {
		log_warnx("secret row does not open: database altered?");
		goto out;
	}
	fails = store_attempt_failed(x->store, sec->id, x->clock(),
	    cf->lock_after, cf->lock_time);
	if (fails == -1)
		goto out;
	metrics_add(x->metrics, M_PASSPHRASE_FAILED, 1);
	if (fails >= cf->burn_after) {
		if ((rc = store_secret_claim(x->store, sec->id, STATE_BURNED,
		    &at)) == -1)
			goto out;
		metrics_add(x->metrics, M_BURNED, rc);
	}
	audit_request(x, c, "passphrase_failed", "wrong_passphrase", sec->id);
	/* from lock_after on, each failure locks the secret again */
	if (fails >= cf->lock_after) {
		metrics_add(x->metrics, M_LOCKS, 1);
		audit_request(x, c, "lock", fails >= cf->burn_after ? "burned" :
		    "locked", sec->id);
	}
	res = SECRET_WRONG;
out:
	sodium_memzero(pw, sizeof(pw));
	return res;
}

/* Read the live secret row of row id.  SECRET_OK, SECRET_UNKNOWN or
 * SECRET_ERROR. */
static enum secret_result
get_secret(const struct ctx *x, const unsigned char *id, long long now,
    struct store_secret *sec)
{
	int rc = store_secret_get(x->store, id, now, sec);

	return rc == 1 ? SECRET_OK : rc == 0 ? SECRET_UNKNOWN : SECRET_ERROR;
}

enum secret_result
secret_peek(const struct ctx *x, const char *skey, size_t sklen,
    long long now, int *passphrase)
{
	const struct crypto *k;
	struct store_secret sec;
	enum secret_result rc;

	memset(&sec, 0, sizeof(sec));
	if (!keys_valid(skey, sklen))
		return SECRET_UNKNOWN;
	rc = SECRET_UNKNOWN;
	for (k = crypto_newest(x->crypto); k != NULL && rc == SECRET_UNKNOWN;
	    k = crypto_older(k)) {
		crypto_row_id(k, CRYPTO_ID_SECRET, skey, sklen, sec.id);
		rc = get_secret(x, sec.id, now, &sec);
	}
	*passphrase = sec.has_salt;
	buf_free(&sec.sealed);
	return rc;
}

/* The answer of a claim: 1 claimed, 0 gone, -1 error. */
static enum secret_result
claimed(int rc)
{
	return rc == 1 ? SECRET_OK : rc == 0 ? SECRET_UNKNOWN : SECRET_ERROR;
}

/* A reveal's claim (a take when there is no passphrase), timed; a take
 * that does not apply (0) is no claim. */
static int
reveal_claim(const struct ctx *x, int take, struct store_secret *sec,
    long long *at)
{
	long long t0 = metrics_clock();
	int rc;

	rc = take ? store_secret_take(x->store, sec->id, sec, at) :
	    store_secret_claim(x->store, sec->id, STATE_RECEIVED, at);
	if (rc != 0 || !take)
		metrics_observe(x->metrics, MH_CLAIM, metrics_clock() - t0);
	return rc;
}

enum secret_result
secret_reveal(const struct ctx *x, const struct caller *c, const char *skey,
    size_t sklen, const char *pass, size_t plen, long long now,
    struct buf *value)
{
	const struct crypto *k;
	struct store_secret sec;
	enum secret_result rc;
	long long at;

	memset(&sec, 0, sizeof(sec));
	if (!keys_valid(skey, sklen)) {
		audit_request(x, c, "reveal", "unknown", NULL);
		return SECRET_UNKNOWN;
	}
	/*
	 * Without a passphrase, read and claim in one statement; a secret
	 * that needs one (or an engine without it) goes the long way.  Either
	 * way the claim is committed before a byte of the value is written.
	 * The row's id is the key's under the version that made it: each
	 * version held is tried, newest first (README: Key rotation).
	 */
	rc = SECRET_UNKNOWN;
	for (k = crypto_newest(x->crypto); k != NULL; k = crypto_older(k)) {
		crypto_row_id(k, CRYPTO_ID_SECRET, skey, sklen, sec.id);
		if (plen == 0 && (rc = claimed(reveal_claim(x, 1, &sec,
		    &at))) != SECRET_UNKNOWN) {
			if (rc == SECRET_OK)
				rc = unlock(x, k, c, &sec, skey, sklen, NULL, 0,
				    value);
			goto out;
		}
		if ((rc = get_secret(x, sec.id, now, &sec)) != SECRET_UNKNOWN)
			break;
	}
	if (rc != SECRET_OK)
		goto out;
	if ((rc = unlock(x, k, c, &sec, skey, sklen, pass, plen, value)) !=
	    SECRET_OK)
		goto out;
	rc = claimed(reveal_claim(x, 0, &sec, &at));
out:
	if (rc == SECRET_OK)
		metrics_add(x->metrics, M_REVEALED, 1);
	audit_request(x, c, "reveal", secret_outcome(rc), sec.id);
	if (rc != SECRET_OK)
		buf_free(value);
	buf_free(&sec.sealed);
	return rc;
}

/* The secret_key sealed in a receipt row. */
static enum secret_result
receipt_skey(const struct crypto *k, const struct store_meta *m,
    const char *mkey, size_t mklen, char skey[KEYS_LEN + 1])
{
	struct buf b = { 0 };
	enum secret_result rc = SECRET_ERROR;

	if (crypto_open_sealed(k, CRYPTO_META, mkey, mklen, NULL, m->id,
	    m->sealed_skey, m->sealed_skey_len, &b) == 0 && b.len == KEYS_LEN) {
		memcpy(skey, b.data, KEYS_LEN + 1);
		rc = SECRET_OK;
	} else
		log_warnx("receipt row does not open: database altered?");
	buf_free(&b);
	return rc;
}

enum secret_result
secret_receipt(const struct ctx *x, const char *mkey, size_t mklen,
    long long now, int mark_viewed, struct store_meta *m,
    char skey[KEYS_LEN + 1])
{
	const struct crypto *k;
	int rc = 0;

	if (!keys_valid(mkey, mklen))
		return SECRET_UNKNOWN;
	/* each version held, newest first, as secret_reveal */
	for (k = crypto_newest(x->crypto); k != NULL; k = crypto_older(k)) {
		crypto_row_id(k, CRYPTO_ID_META, mkey, mklen, m->id);
		if ((rc = store_meta_get(x->store, m->id, now, m)) != 0)
			break;
	}
	if (rc != 1)
		return rc == 0 ? SECRET_UNKNOWN : SECRET_ERROR;
	if (receipt_skey(k, m, mkey, mklen, skey) != SECRET_OK)
		return SECRET_ERROR;
	if (mark_viewed && m->state == STATE_NEW &&
	    store_meta_viewed(x->store, m->id, now) == -1)
		return SECRET_ERROR;
	return SECRET_OK;
}

enum secret_result
secret_burn(const struct ctx *x, const struct caller *c, const char *mkey,
    size_t mklen, const char *pass, size_t plen, long long now,
    struct store_meta *m, char skey[KEYS_LEN + 1])
{
	const struct crypto *k;
	struct store_secret sec;
	struct buf plain = { 0 };
	enum secret_result rc;
	long long at;

	memset(&sec, 0, sizeof(sec));
	if ((rc = secret_receipt(x, mkey, mklen, now, 0, m, skey)) !=
	    SECRET_OK) {
		audit_request(x, c, "burn", secret_outcome(rc), NULL);
		return rc;
	}
	if ((rc = get_secret(x, m->secret_id, now, &sec)) != SECRET_OK)
		goto out;
	/* the secret was named and sealed with its receipt's version */
	if ((k = crypto_find(x->crypto, m->key_version)) == NULL) {
		rc = SECRET_ERROR;
		goto out;
	}
	if (sec.has_salt && (rc = unlock(x, k, c, &sec, skey, KEYS_LEN, pass,
	    plen, &plain)) != SECRET_OK)
		goto out;
	rc = claimed(store_secret_claim(x->store, sec.id, STATE_BURNED, &at));
	if (rc == SECRET_OK) {
		metrics_add(x->metrics, M_BURNED, 1);
		m->state = STATE_BURNED;
		m->updated = at;
	}
out:
	audit_request(x, c, "burn", secret_outcome(rc), m->secret_id);
	buf_free(&plain);
	buf_free(&sec.sealed);
	return rc;
}

struct recent_ctx {
	const struct ctx	*x;
	const struct caller	*c;
	void			(*fn)(void *, const struct store_meta *,
				    const char *);
	void			*arg;
};

void
secret_web_token(const struct crypto *k, const char *custid,
    char token[AUTH_PASS_MAX + 1])
{
	unsigned char h[CRYPTO_ID_LEN];

	crypto_row_id(k, CRYPTO_ID_WEB, custid, strlen(custid), h);
	sodium_bin2hex(token, AUTH_PASS_MAX + 1, h, sizeof(h));
	sodium_memzero(h, sizeof(h));
}

static int
recent_one(void *arg, const struct store_meta *m)
{
	struct recent_ctx *rc = arg;
	struct buf mkey = { 0 };
	const struct crypto *k;
	char web[AUTH_PASS_MAX + 1];
	const char *token = rc->c->token;

	/* sealed under the receipt's version: skipped if not held */
	if ((k = crypto_find(rc->x->crypto, m->key_version)) == NULL)
		return 0;
	if (rc->c->web_user) {
		secret_web_token(k, rc->c->cust.custid, web);
		token = web;
	}
	if (crypto_open_sealed(k, CRYPTO_ACCOUNT, token, strlen(token), NULL,
	    m->id, m->wrapped_key, m->wrapped_key_len, &mkey) == 0 &&
	    mkey.len == KEYS_LEN)
		rc->fn(rc->arg, m, mkey.data);
	buf_free(&mkey);
	sodium_memzero(web, sizeof(web));
	return 0;
}

int
secret_recent(const struct ctx *x, const struct caller *c, long long now,
    long long days,
    void (*fn)(void *, const struct store_meta *, const char *mkey), void *arg)
{
	struct recent_ctx rc = { x, c, fn, arg };

	return store_meta_recent(x->store, c->cust.id, now - days * 86400LL,
	    now, recent_one, &rc);
}
