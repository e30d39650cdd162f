#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "outbox.h"
#include "store.h"
#include "util.h"

#define FIELDS	7	/* delivery id, kind, to, sender, link, passphrase,
			 * receipt: one a line (none can hold a newline) */
#define PAYLOAD_MAX	2048	/* holds the longest of each */

void
outbox_fingerprint(const char *mkey, char out[MAIL_RECEIPT_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)mkey, strlen(mkey));
	sodium_bin2hex(out, MAIL_RECEIPT_LEN + 1, h, MAIL_RECEIPT_LEN / 2);
}

int
outbox_prepare(const struct conf *cf, const struct mail_msg *msg,
    long long now, struct store_mail *m)
{
	unsigned char box[PAYLOAD_MAX + crypto_box_SEALBYTES];
	char rid[CRYPTO_ID_LEN * 2 + 1], payload[PAYLOAD_MAX];
	int n;

	memset(m, 0, sizeof(*m));
	if (!cf->has_mailer_pk)
		return -1;
	m->kind = (enum store_mail_kind)msg->kind;
	randombytes_buf(m->rid, sizeof(m->rid));
	sodium_bin2hex(rid, sizeof(rid), m->rid, sizeof(m->rid));
	m->created = now;
	if (msg->kind == MAIL_WEBHOOK)
		snprintf(m->recipient, sizeof(m->recipient), "webhook");
	else if (mail_obfuscate(msg->to, m->recipient,
	    sizeof(m->recipient)) == -1)
		return -1;
	n = snprintf(payload, sizeof(payload), "%s\n%d\n%s\n%s\n%s\n%d\n%s",
	    rid, msg->kind, msg->to, msg->sender, msg->link,
	    msg->passphrase != 0, msg->receipt);
	if (n < 0 || n >= (int)sizeof(payload) ||
	    crypto_box_seal(box, (unsigned char *)payload, (size_t)n,
	    cf->mailer_pk) != 0 ||
	    buf_add(&m->sealed, box, (size_t)n + crypto_box_SEALBYTES) == -1)
		n = -1;
	sodium_memzero(payload, sizeof(payload));
	return n < 0 ? -1 : 0;
}

/* Copy field f into dst of cap; -1 when it does not fit. */
static int
field(char *dst, size_t cap, const char *f)
{
	return snprintf(dst, cap, "%s", f) >= (int)cap ? -1 : 0;
}

int
outbox_open(const unsigned char pk[OUTBOX_PK_LEN],
    const unsigned char sk[OUTBOX_SK_LEN], const struct store_mail *m,
    struct mail_msg *msg)
{
	char p[PAYLOAD_MAX + 1], rid[CRYPTO_ID_LEN * 2 + 1], kind[8];
	char *f[FIELDS], *s, *nl;
	size_t i, n;
	int rc = -1;

	memset(msg, 0, sizeof(*msg));
	if (m->sealed.len < crypto_box_SEALBYTES ||
	    (n = m->sealed.len - crypto_box_SEALBYTES) > PAYLOAD_MAX ||
	    crypto_box_seal_open((unsigned char *)p,
	    (const unsigned char *)m->sealed.data, m->sealed.len, pk, sk) != 0)
		return -1;
	p[n] = '\0';
	for (s = p, i = 0; i < FIELDS; i++) {
		f[i] = s;
		if ((nl = strchr(s, '\n')) == NULL && i < FIELDS - 1)
			goto out;
		if (nl != NULL) {
			*nl = '\0';
			s = nl + 1;
		}
	}
	/* sealed for this row, not copied from another */
	sodium_bin2hex(rid, sizeof(rid), m->rid, sizeof(m->rid));
	snprintf(kind, sizeof(kind), "%d", m->kind);
	if (strcmp(f[0], rid) != 0 || strcmp(f[1], kind) != 0 ||
	    field(msg->to, sizeof(msg->to), f[2]) == -1 ||
	    field(msg->sender, sizeof(msg->sender), f[3]) == -1 ||
	    field(msg->link, sizeof(msg->link), f[4]) == -1 ||
	    field(msg->receipt, sizeof(msg->receipt), f[6]) == -1)
		goto out;
	msg->kind = m->kind;
	msg->passphrase = f[5][0] == '1';
	rc = 0;
out:
	sodium_memzero(p, sizeof(p));
	return rc;
}
