#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "store.h"

#define RETRY_FIRST	60	/* seconds; doubles per attempt */
#define RETRY_MAX	3600
#define DUE_BATCH	64

int
outbox_prepare(const struct conf *cf, const struct crypto *c, const char *to,
    const char *sender, const char *skey, int passphrase, long long now,
    long long expires, struct store_mail *m)
{
	struct buf payload = { 0 };
	int rc = -1;

	memset(m, 0, sizeof(*m));
	randombytes_buf(m->rid, sizeof(m->rid));
	m->created = now;
	m->expires = expires;
	/* one field a line: none of them can hold a newline */
	if (mail_obfuscate(to, m->recipient, sizeof(m->recipient)) == 0 &&
	    buf_printf(&payload, "%s\n%s\n%s/secret/%s\n%d", to, sender,
	    cf->base_url, skey, passphrase != 0) == 0 &&
	    crypto_seal(c, CRYPTO_MAIL, "", 0, NULL, m->rid, payload.data,
	    payload.len, &m->sealed) == 0)
		rc = 0;
	buf_free(&payload);
	return rc;
}
