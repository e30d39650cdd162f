/*
 * crypto: every use of key material.  The master key (a file of its own,
 * never in the database) yields sub-keys for: row ids (keyed BLAKE2b of a
 * key, so a dump cannot be turned into links), sealing secrets, sealing the
 * secret_key inside its metadata row, wrapping metadata keys per account,
 * hashing API tokens, and a check value that detects a wrong master key.
 *
 * A sealed blob is version(1) || nonce(24) || XChaCha20-Poly1305(padded
 * plaintext), with associated data binding the format version, the purpose
 * and the row id.  The sealing key of each blob is BLAKE2b, keyed with the
 * purpose's sub-key, over a key the database never holds (the secret_key,
 * the metadata_key or the API token) and, for a secret with a passphrase,
 * the scrypt output of the passphrase: the AEAD tag is the passphrase
 * verifier, so there is no stored hash to attack offline.
 *
 * Master-key versions: a key file holds one line per version,
 * "ots-master-key-vN HEX" (64 hex digits), versions ascending; a file
 * made before versions existed is the single line of version 1, and
 * version 1's ids and blobs are what they always were.  Each version has
 * its own sub-keys; a struct crypto handle is one version's, and every
 * function below that takes one uses that version only.  The store
 * records which version named and sealed each row (store.h).
 */
#ifndef OTS_CRYPTO_H
#define OTS_CRYPTO_H

#include <stddef.h>

struct buf;
struct crypto;

#define CRYPTO_ID_LEN		32	/* row ids, token hashes, check value */
#define CRYPTO_SALT_LEN		16
#define CRYPTO_PW_LEN		32	/* scrypt output */
#define CRYPTO_PAD		256	/* sealed plaintexts are padded to this */
#define CRYPTO_VERSIONS_MAX	32	/* master-key versions in one file */

/* scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB; see the README's figure). */
#define CRYPTO_SCRYPT_N		32768
#define CRYPTO_SCRYPT_R		8
#define CRYPTO_SCRYPT_P		1

enum crypto_purpose {
	CRYPTO_SECRET = 1,	/* secret value, under secret_key (+ pw) */
	CRYPTO_META = 2,	/* secret_key, under metadata_key */
	CRYPTO_ACCOUNT = 3,	/* metadata_key, under the API token */
	CRYPTO_MAIL = 4,	/* queued mail under the master key alone, until
				 * schema version 3: now sealed to the mailer's
				 * key instead (outbox.h), nothing uses it */
	CRYPTO_REQUEST = 5,	/* a request's keys and note, under its key */
};

/* Row-id domains, so one key never names two kinds of row. */
enum crypto_domain {
	CRYPTO_ID_SECRET = 's',
	CRYPTO_ID_META = 'm',
	CRYPTO_ID_LIMIT = 'l',
	CRYPTO_ID_WEB = 'w',	/* a web user's receipts key (secret.h) */
	CRYPTO_ID_REQUEST = 'r',
};

/*
 * Process set-up for every program: libsodium, no core dumps, not
 * dumpable.  Returns 0 or -1.
 */
int	crypto_init(void);

/* Write a new random master key to path (mode 0400, must not exist). */
int	crypto_keyfile_create(const char *path, char *err, size_t errlen);

/*
 * Load every version of the master key file and derive their sub-keys
 * into locked memory.  The file must not be readable by group or others;
 * a malformed line, versions out of order or repeated refuse it.  The
 * handle of the newest version, or NULL on error.
 */
struct crypto *crypto_open(const char *path, char *err, size_t errlen);
/* Free every version of c's file (any of its handles will do). */
void	crypto_close(struct crypto *);

/* The version of a handle; the newest handle; the next older or NULL; the
 * handle of version (NULL: not held).  Any handle of a file will do. */
int	crypto_key_version(const struct crypto *);
const struct crypto *crypto_newest(const struct crypto *);
const struct crypto *crypto_older(const struct crypto *);
const struct crypto *crypto_find(const struct crypto *, int version);

/*
 * Add a new random version (the highest plus one) to the key file at
 * path, or remove version (never the highest) from it.  The file is
 * replaced atomically: PATH.new (0400) written and synced, renamed over
 * PATH, the directory synced.  *version receives the new version.  0 or -1
 * with a message.
 */
int	crypto_keyfile_add(const char *path, int *version, char *err,
	    size_t errlen);
int	crypto_keyfile_remove(const char *path, int version, char *err,
	    size_t errlen);

/* The check value stored in the database for this master-key version. */
void	crypto_check_value(const struct crypto *, unsigned char out[CRYPTO_ID_LEN]);

/*
 * The audit log's fingerprint of a secret: 16 hex digits (and a NUL) of
 * BLAKE2b over a fixed label and the secret's row id.  The row id is
 * already a keyed hash of the secret key, so this is a short keyed hash
 * that names no key; it needs no master key of its own.
 */
#define CRYPTO_FP_LEN		16
void	crypto_fingerprint(const unsigned char id[CRYPTO_ID_LEN],
	    char out[CRYPTO_FP_LEN + 1]);

/* Row id of a key: keyed BLAKE2b of domain || key. */
void	crypto_row_id(const struct crypto *, enum crypto_domain,
	    const char *key, size_t keylen, unsigned char out[CRYPTO_ID_LEN]);

/* The stored form of an API token. */
void	crypto_token_hash(const struct crypto *, const char *token, size_t len,
	    unsigned char out[CRYPTO_ID_LEN]);

/* A fresh random salt. */
void	crypto_salt(unsigned char out[CRYPTO_SALT_LEN]);

/* scrypt of a passphrase with explicit cost.  Returns 0 or -1. */
int	crypto_pw(const char *pass, size_t passlen,
	    const unsigned char salt[CRYPTO_SALT_LEN],
	    unsigned char out[CRYPTO_PW_LEN]);

/*
 * Seal plain[0..plen) for purpose under key k[0..klen) (and pw, or NULL)
 * bound to row id; appends the blob to out.  Returns 0 or -1.
 */
int	crypto_seal(const struct crypto *, enum crypto_purpose,
	    const char *k, size_t klen, const unsigned char *pw,
	    const unsigned char id[CRYPTO_ID_LEN],
	    const void *plain, size_t plen, struct buf *out);

/*
 * crypto_seal of the plaintext head[0..hlen) || plain[0..plen) (one
 * blob, as if they were one buffer), padded and encrypted in place in
 * out: no other copy of the plaintext is made.
 */
int	crypto_seal2(const struct crypto *, enum crypto_purpose,
	    const char *k, size_t klen, const unsigned char *pw,
	    const unsigned char id[CRYPTO_ID_LEN], const void *head,
	    size_t hlen, const void *plain, size_t plen, struct buf *out);

/*
 * Open a blob made by crypto_seal with the same purpose, key, pw and id;
 * appends the plaintext to out (the caller wipes it with buf_free).
 * Returns 0, or -1 when the blob is malformed, tampered with, or the key
 * or passphrase is wrong.
 */
int	crypto_open_sealed(const struct crypto *, enum crypto_purpose,
	    const char *k, size_t klen, const unsigned char *pw,
	    const unsigned char id[CRYPTO_ID_LEN],
	    const void *blob, size_t blen, struct buf *out);

/* Constant-time equality of two CRYPTO_ID_LEN values: 1 equal, 0 not. */
int	crypto_equal(const unsigned char *, const unsigned char *);

#endif
