#include "config.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "crypto.h"
#include "store.h"
#include "util.h"

int
auth_basic_parse(const char *header, char user[AUTH_USER_MAX + 1],
    char pass[AUTH_PASS_MAX + 1])
{
	unsigned char dec[AUTH_USER_MAX + AUTH_PASS_MAX + 2];
	const char *b64, *colon;
	size_t declen, ulen, plen, i;
	int rc = -1;

	if (strncasecmp(header, "Basic ", 6) != 0)
		return -1;
	for (b64 = header + 6; *b64 == ' '; b64++)
		;
	if (sodium_base642bin(dec, sizeof(dec) - 1, b64, strlen(b64), NULL,
	    &declen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	if ((colon = memchr(dec, ':', declen)) == NULL)
		goto out;
	ulen = (size_t)((const unsigned char *)colon - dec);
	plen = declen - ulen - 1;
	if (ulen == 0 || ulen > AUTH_USER_MAX || plen > AUTH_PASS_MAX ||
	    !util_utf8_valid((char *)dec, declen))
		goto out;
	for (i = 0; i < ulen; i++)
		user[i] = (dec[i] >= 'A' && dec[i] <= 'Z') ?
		    (char)(dec[i] - 'A' + 'a') : (char)dec[i];
	user[ulen] = '\0';
	memcpy(pass, colon + 1, plen);
	pass[plen] = '\0';
	rc = 0;
out:
	sodium_memzero(dec, sizeof(dec));
	return rc;
}

int
auth_check(struct store *st, const struct crypto *c, const char *header,
    struct store_customer *out, char token[AUTH_PASS_MAX + 1])
{
	static const unsigned char dummy[CRYPTO_ID_LEN];
	char user[AUTH_USER_MAX + 1];
	unsigned char hash[CRYPTO_ID_LEN];
	const struct crypto *k;
	int found, ok;

	if (header == NULL)
		return 0;
	if (auth_basic_parse(header, user, token) == -1)
		return -1;
	if ((found = store_customer_get(st, user, out)) == -1) {
		sodium_memzero(token, AUTH_PASS_MAX + 1);
		return -2;
	}
	/*
	 * Hash and compare whether or not the account exists, under the
	 * master-key version the row names (one hash, not one per version
	 * held: the row says which).  A token of an older version moves to
	 * c's, the sealing version, so accounts leave an old key as they are
	 * used; a failed move is logged and tried again next time.
	 */
	k = found ? crypto_find(c, out->key_version) : NULL;
	crypto_token_hash(k != NULL ? k : c, token, strlen(token), hash);
	ok = crypto_equal(hash, k != NULL ? out->token_hash : dummy);
	if (k != NULL && ok) {
		if (k != c) {
			crypto_token_hash(c, token, strlen(token), hash);
			if (store_customer_set_token(st, out->custid, hash,
			    crypto_key_version(c)) == 1) {
				memcpy(out->token_hash, hash, CRYPTO_ID_LEN);
				out->key_version = crypto_key_version(c);
			}
		}
		return 1;
	}
	sodium_memzero(token, AUTH_PASS_MAX + 1);
	return -1;
}
