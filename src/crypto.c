#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libscrypt.h>
#include <sodium.h>

#include "crypto.h"
#include "util.h"

#define SEAL_VERSION		1
#define MASTER_LEN	32
#define KEYFILE_TAG	"ots-master-key-v1 "
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_LEN		(5 + CRYPTO_ID_LEN)

/* Sub-key numbers for crypto_kdf_derive_from_key. */
enum { SK_ID = 1, SK_SECRET, SK_META, SK_ACCOUNT, SK_TOKEN, SK_CHECK, SK_MAIL,
	SK_MAX };

struct crypto {
	unsigned char	sub[SK_MAX][32];
};

static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = "ots-keys";

int
crypto_init(void)
{
	struct rlimit rl = { 0, 0 };

	if (sodium_init() < 0)
		return -1;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	return 0;
}

int
crypto_keyfile_create(const char *path, char *err, size_t errlen)
{
	unsigned char key[MASTER_LEN];
	char line[sizeof(KEYFILE_TAG) + 2 * MASTER_LEN + 2];
	size_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0400)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(key, sizeof(key));
	memcpy(line, KEYFILE_TAG, sizeof(KEYFILE_TAG) - 1);
	n = sizeof(KEYFILE_TAG) - 1;
	sodium_bin2hex(line + n, sizeof(line) - n, key, sizeof(key));
	n += 2 * MASTER_LEN;
	line[n++] = '\n';
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	sodium_memzero(key, sizeof(key));
	sodium_memzero(line, sizeof(line));
	if (rc == -1)
		unlink(path);
	return rc;
}

struct crypto *
crypto_open(const char *path, char *err, size_t errlen)
{
	unsigned char master[MASTER_LEN];
	char line[sizeof(KEYFILE_TAG) + 2 * MASTER_LEN + 8];
	struct crypto *c = NULL;
	struct stat st;
	size_t binlen;
	ssize_t n;
	int fd, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable by others; "
		    "fix with: chmod 0400 %s", path, path);
		goto fail;
	}
	n = read(fd, line, sizeof(line) - 1);
	if (n < (ssize_t)(sizeof(KEYFILE_TAG) - 1 + 2 * MASTER_LEN) ||
	    memcmp(line, KEYFILE_TAG, sizeof(KEYFILE_TAG) - 1) != 0 ||
	    sodium_hex2bin(master, sizeof(master),
	    line + sizeof(KEYFILE_TAG) - 1, 2 * MASTER_LEN, NULL, &binlen,
	    NULL) != 0 || binlen != MASTER_LEN) {
		snprintf(err, errlen, "%s: not an ots master key file", path);
		goto fail;
	}
	if ((c = sodium_malloc(sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 1; i < SK_MAX; i++)
		crypto_kdf_derive_from_key(c->sub[i], sizeof(c->sub[i]),
		    (uint64_t)i, kdf_ctx, master);
	sodium_mprotect_readonly(c);
fail:
	sodium_memzero(master, sizeof(master));
	sodium_memzero(line, sizeof(line));
	close(fd);
	return c;
}

void
crypto_close(struct crypto *c)
{
	if (c != NULL)
		sodium_free(c);	/* wipes */
}

void
crypto_check_value(const struct crypto *c, unsigned char out[CRYPTO_ID_LEN])
{
	crypto_generichash(out, CRYPTO_ID_LEN, (const unsigned char *)"check",
	    5, c->sub[SK_CHECK], 32);
}

void
crypto_fingerprint(const unsigned char id[CRYPTO_ID_LEN],
    char out[CRYPTO_FP_LEN + 1])
{
	static const char label[] = "ots audit fingerprint v1";
	crypto_generichash_state h;
	unsigned char d[32];

	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	crypto_generichash_update(&h, (const unsigned char *)label,
	    sizeof(label) - 1);
	crypto_generichash_update(&h, id, CRYPTO_ID_LEN);
	crypto_generichash_final(&h, d, sizeof(d));
	sodium_bin2hex(out, CRYPTO_FP_LEN + 1, d, CRYPTO_FP_LEN / 2);
}

void
crypto_row_id(const struct crypto *c, enum crypto_domain dom, const char *key,
    size_t keylen, unsigned char out[CRYPTO_ID_LEN])
{
	crypto_generichash_state h;
	unsigned char d = (unsigned char)dom;

	crypto_generichash_init(&h, c->sub[SK_ID], 32, CRYPTO_ID_LEN);
	crypto_generichash_update(&h, &d, 1);
	crypto_generichash_update(&h, (const unsigned char *)key, keylen);
	crypto_generichash_final(&h, out, CRYPTO_ID_LEN);
}

void
crypto_token_hash(const struct crypto *c, const char *token, size_t len,
    unsigned char out[CRYPTO_ID_LEN])
{
	crypto_generichash(out, CRYPTO_ID_LEN, (const unsigned char *)token,
	    len, c->sub[SK_TOKEN], 32);
}

void
crypto_salt(unsigned char out[CRYPTO_SALT_LEN])
{
	randombytes_buf(out, CRYPTO_SALT_LEN);
}

int
crypto_pw(const char *pass, size_t passlen,
    const unsigned char salt[CRYPTO_SALT_LEN], unsigned char out[CRYPTO_PW_LEN])
{
	/* libscrypt_scrypt takes explicit lengths: no NUL truncation. */
	return libscrypt_scrypt((const uint8_t *)pass, passlen, salt,
	    CRYPTO_SALT_LEN, CRYPTO_SCRYPT_N, CRYPTO_SCRYPT_R, CRYPTO_SCRYPT_P,
	    out, CRYPTO_PW_LEN) == 0 ? 0 : -1;
}

/* The sealing key of one blob and its associated data. */
static void
derive(const struct crypto *c, enum crypto_purpose purpose, const char *k,
    size_t klen, const unsigned char *pw, const unsigned char *id,
    unsigned char key[32], unsigned char ad[AD_LEN])
{
	static const int sk[] = { 0, SK_SECRET, SK_META, SK_ACCOUNT, SK_MAIL };
	crypto_generichash_state h;

	crypto_generichash_init(&h, c->sub[sk[purpose]], 32, 32);
	crypto_generichash_update(&h, (const unsigned char *)k, klen);
	if (pw != NULL)
		crypto_generichash_update(&h, pw, CRYPTO_PW_LEN);
	crypto_generichash_final(&h, key, 32);
	memcpy(ad, "ots", 3);
	ad[3] = SEAL_VERSION;
	ad[4] = (unsigned char)purpose;
	memcpy(ad + 5, id, CRYPTO_ID_LEN);
}

int
crypto_seal(const struct crypto *c, enum crypto_purpose purpose,
    const char *k, size_t klen, const unsigned char *pw,
    const unsigned char id[CRYPTO_ID_LEN], const void *plain, size_t plen,
    struct buf *out)
{
	unsigned char key[32], ad[AD_LEN], *padded = NULL, *dst;
	unsigned long long clen;
	size_t plen2, start = out->len;
	unsigned char head[1 + NONCE_LEN];
	int rc = -1;

	if (plen > SIZE_MAX - 2 * CRYPTO_PAD - TAG_LEN - sizeof(head))
		return -1;
	if ((padded = calloc(1, plen + CRYPTO_PAD + TAG_LEN)) == NULL)
		return -1;
	memcpy(padded, plain, plen);
	if (sodium_pad(&plen2, padded, plen, CRYPTO_PAD, plen + CRYPTO_PAD)
	    != 0)
		goto out;
	head[0] = SEAL_VERSION;
	randombytes_buf(head + 1, NONCE_LEN);
	/* reserve room, then encrypt in place at the end of out */
	if (buf_add(out, head, sizeof(head)) == -1 ||
	    buf_add(out, padded, plen2 + TAG_LEN) == -1)
		goto out;
	derive(c, purpose, k, klen, pw, id, key, ad);
	dst = (unsigned char *)out->data + start + sizeof(head);
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, &clen, padded, plen2,
	    ad, sizeof(ad), NULL, head + 1, key);
	out->len = start + sizeof(head) + clen;
	rc = 0;
out:
	if (rc == -1 && out->data != NULL)
		out->len = start;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(padded, plen + CRYPTO_PAD + TAG_LEN);
	free(padded);
	return rc;
}

int
crypto_open_sealed(const struct crypto *c, enum crypto_purpose purpose,
    const char *k, size_t klen, const unsigned char *pw,
    const unsigned char id[CRYPTO_ID_LEN], const void *blob, size_t blen,
    struct buf *out)
{
	const unsigned char *b = blob;
	unsigned char key[32], ad[AD_LEN], *dst;
	unsigned long long mlen;
	size_t start = out->len, unpadded;
	int rc = -1;

	if (blen < 1 + NONCE_LEN + TAG_LEN || b[0] != SEAL_VERSION)
		return -1;
	if (buf_add(out, NULL, 0) == -1 ||
	    buf_add(out, b, blen - 1 - NONCE_LEN - TAG_LEN) == -1)
		return -1;
	derive(c, purpose, k, klen, pw, id, key, ad);
	dst = (unsigned char *)out->data + start;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, &mlen, NULL,
	    b + 1 + NONCE_LEN, blen - 1 - NONCE_LEN, ad, sizeof(ad), b + 1,
	    key) != 0 || sodium_unpad(&unpadded, dst, mlen, CRYPTO_PAD) != 0) {
		sodium_memzero(dst, out->len - start);
		out->len = start;
	} else {
		out->len = start + unpadded;
		rc = 0;
	}
	out->data[out->len] = '\0';
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
crypto_equal(const unsigned char *a, const unsigned char *b)
{
	return sodium_memcmp(a, b, CRYPTO_ID_LEN) == 0;
}
