/*
 * outbox: the payloads of the mail queue and the notices (store.h's
 * store_mail), sealed to the delivery side's key.  A worker seals with
 * the mailer's public key (libsodium's sealed box) and cannot open what
 * it sealed; only ots-mailer, which holds the private key, opens a payload
 * to deliver it.  So neither a worker nor a copy of the database with the
 * master key yields a share link, queued or not.  A payload is dropped
 * once its message is done.
 */
#ifndef OTS_OUTBOX_H
#define OTS_OUTBOX_H

#include "mail.h"

struct conf;
struct store_mail;

#define OUTBOX_PK_LEN	32	/* crypto_box_PUBLICKEYBYTES */
#define OUTBOX_SK_LEN	32	/* crypto_box_SECRETKEYBYTES */

/*
 * The fingerprint of a receipt, which its creator can compute and nobody
 * can turn back into the key: the first MAIL_RECEIPT_LEN hex digits of
 * SHA-256(metadata_key).
 */
void	outbox_fingerprint(const char *mkey, char out[MAIL_RECEIPT_LEN + 1]);

/*
 * Fill m with an outbox row for msg (its kind, a fresh delivery id, the
 * obfuscated address, and the payload sealed to cf->mailer_pk, which must
 * be loaded).  The caller frees m->sealed.  0 or -1.
 */
int	outbox_prepare(const struct conf *, const struct mail_msg *msg,
	    long long now, struct store_mail *m);

/*
 * Open the payload of row m with the mailer's key pair into msg, checking
 * that it was sealed for this row (its delivery id and kind).  0 or -1.
 */
int	outbox_open(const unsigned char pk[OUTBOX_PK_LEN],
	    const unsigned char sk[OUTBOX_SK_LEN], const struct store_mail *m,
	    struct mail_msg *msg);

#endif
