/*
 * crypto: master key files, row ids, sealing and opening blobs, scrypt.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "util.h"

#include "tap.h"

/* version(1) || nonce(24) || padded ciphertext || tag(16) */
#define OVERHEAD	(1 + 24 + 16)

static const char skey[] = "k2m9x0qe8h7r3v6t5b4n1c2w8z7y6u5";

static char dir[1024];
static char err[512];

/* A new key file called name in the test directory; opened. */
static struct crypto *
newkey(const char *name, char *path, size_t len)
{
	struct crypto *c;

	snprintf(path, len, "%s/%s", dir, name);
	if (crypto_keyfile_create(path, err, sizeof(err)) == -1 ||
	    (c = crypto_open(path, err, sizeof(err))) == NULL)
		bail_out("key file %s: %s", path, err);
	return c;
}

/* crypto_open_sealed into a fresh buffer: 0 or -1; out is left empty on -1. */
static int
unseal(const struct crypto *c, enum crypto_purpose p, const char *k,
    const unsigned char *pw, const unsigned char *id, const struct buf *blob,
    size_t blen, struct buf *out)
{
	buf_free(out);
	return crypto_open_sealed(c, p, k, strlen(k), pw,
	    id, blob->data, blen, out);
}

static void
test_keyfile(void)
{
	char path[1100], path2[1100];
	struct crypto *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/created.key", dir);
	is_int(crypto_keyfile_create(path, err, sizeof(err)), 0,
	    "crypto_keyfile_create");
	is_int(tap_mode(path), 0400, "key file mode 0400");
	is_int(crypto_keyfile_create(path, err, sizeof(err)), -1,
	    "crypto_keyfile_create refuses an existing file");
	c = crypto_open(path, err, sizeof(err));
	ok(c != NULL, "crypto_open of a 0400 key file");
	crypto_close(c);
	crypto_close(NULL);

	chmod(path, 0600);
	c = crypto_open(path, err, sizeof(err));
	ok(c != NULL, "crypto_open of a 0600 key file");
	crypto_close(c);

	chmod(path, 0644);
	err[0] = '\0';
	c = crypto_open(path, err, sizeof(err));
	ok(c == NULL, "crypto_open refuses a 0644 key file");
	ok(strstr(err, path) != NULL, "the error names the file");
	crypto_close(c);

	chmod(path, 0640);
	c = crypto_open(path, err, sizeof(err));
	ok(c == NULL, "crypto_open refuses a 0640 key file");
	crypto_close(c);

	snprintf(path2, sizeof(path2), "%s/garbage.key", dir);
	if ((f = fopen(path2, "w")) == NULL)
		bail_out("cannot write %s", path2);
	fputs("ots-master-key-v1 not-hex-at-all\n", f);
	fclose(f);
	chmod(path2, 0600);
	c = crypto_open(path2, err, sizeof(err));
	ok(c == NULL, "crypto_open refuses a file that is not a key");
	crypto_close(c);

	snprintf(path2, sizeof(path2), "%s/missing.key", dir);
	ok(crypto_open(path2, err, sizeof(err)) == NULL,
	    "crypto_open of a missing file");
}

static void
test_ids(const struct crypto *c, const struct crypto *c2)
{
	unsigned char a[CRYPTO_ID_LEN], b[CRYPTO_ID_LEN];

	crypto_row_id(c, CRYPTO_ID_SECRET, skey, strlen(skey), a);
	crypto_row_id(c, CRYPTO_ID_SECRET, skey, strlen(skey), b);
	ok(memcmp(a, b, sizeof(a)) == 0, "row id is deterministic");
	is_int(crypto_equal(a, b), 1, "crypto_equal of equal ids");
	b[CRYPTO_ID_LEN - 1] ^= 1;
	is_int(crypto_equal(a, b), 0, "crypto_equal sees the last byte");
	crypto_row_id(c, CRYPTO_ID_META, skey, strlen(skey), b);
	ok(memcmp(a, b, sizeof(a)) != 0, "row ids are domain-separated");
	crypto_row_id(c, CRYPTO_ID_SECRET, skey, strlen(skey) - 1, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "row id depends on the whole key");
	crypto_row_id(c2, CRYPTO_ID_SECRET, skey, strlen(skey), b);
	ok(memcmp(a, b, sizeof(a)) != 0, "row id depends on the master key");
	crypto_token_hash(c, skey, strlen(skey), b);
	ok(memcmp(a, b, sizeof(a)) != 0, "token hash differs from a row id");
	crypto_token_hash(c, skey, strlen(skey), a);
	ok(memcmp(a, b, sizeof(a)) == 0, "token hash is deterministic");

	crypto_check_value(c, a);
	crypto_check_value(c, b);
	ok(memcmp(a, b, sizeof(a)) == 0, "check value is deterministic");
	crypto_check_value(c2, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "check value differs per master key");
}

/* The audit log's fingerprints: known answers (Python's hashlib.blake2b). */
static void
test_fingerprint(void)
{
	unsigned char id[CRYPTO_ID_LEN];
	char fp[CRYPTO_FP_LEN + 1];

	memset(id, 1, sizeof(id));
	memset(fp, 'x', sizeof(fp));
	crypto_fingerprint(id, fp);
	is_str(fp, "f75f0f65b80642b8", "fingerprint: the first 16 hex digits "
	    "of BLAKE2b(label || row id), NUL-terminated");
	memset(id, 2, sizeof(id));
	crypto_fingerprint(id, fp);
	is_str(fp, "1c21379f1285e83e", "another row id, another fingerprint");
}

static void
test_seal(const struct crypto *c, const struct crypto *c2)
{
	static const enum crypto_purpose purposes[] = { CRYPTO_SECRET,
	    CRYPTO_META, CRYPTO_ACCOUNT, CRYPTO_MAIL };
	const size_t np = sizeof(purposes) / sizeof(purposes[0]);
	static const char plain[] = "the launch code is 0000\0and a NUL";
	unsigned char id[CRYPTO_ID_LEN], id2[CRYPTO_ID_LEN];
	unsigned char salt[CRYPTO_SALT_LEN], pw[CRYPTO_PW_LEN];
	unsigned char pw2[CRYPTO_PW_LEN];
	struct buf blob = { 0 }, out = { 0 }, blob2 = { 0 };
	size_t i, blen;

	crypto_row_id(c, CRYPTO_ID_SECRET, skey, strlen(skey), id);
	crypto_row_id(c, CRYPTO_ID_META, skey, strlen(skey), id2);
	crypto_salt(salt);
	if (crypto_pw("correct horse", 13, salt, pw) == -1 ||
	    crypto_pw("correct horsf", 13, salt, pw2) == -1)
		bail_out("crypto_pw");

	for (i = 0; i < np; i++) {
		buf_free(&blob);
		is_int(crypto_seal(c, purposes[i], skey, strlen(skey), NULL, id,
		    plain, sizeof(plain), &blob), 0, "seal, purpose %d",
		    purposes[i]);
		ok(unseal(c, purposes[i], skey, NULL, id, &blob, blob.len,
		    &out) == 0 && out.len == sizeof(plain) &&
		    memcmp(out.data, plain, sizeof(plain)) == 0,
		    "round trip, purpose %d", purposes[i]);
		is_int(unseal(c, purposes[(i + 1) % np], skey, NULL, id, &blob,
		    blob.len, &out), -1, "purpose %d opened as %d refused",
		    purposes[i], purposes[(i + 1) % np]);
		is_int((long long)out.len, 0, "nothing appended on failure");
	}

	/* one blob with a passphrase, then every way of getting it wrong */
	buf_free(&blob);
	if (crypto_seal(c, CRYPTO_SECRET, skey, strlen(skey), pw, id, plain,
	    sizeof(plain), &blob) == -1)
		bail_out("crypto_seal with passphrase");
	ok(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, blob.len, &out) == 0
	    && memcmp(out.data, plain, sizeof(plain)) == 0,
	    "round trip with passphrase");
	is_int(unseal(c, CRYPTO_SECRET, skey, pw2, id, &blob, blob.len, &out),
	    -1, "wrong passphrase refused");
	is_int(unseal(c, CRYPTO_SECRET, skey, NULL, id, &blob, blob.len,
	    &out), -1, "missing passphrase refused");
	is_int(unseal(c, CRYPTO_SECRET, "k2m9x0qe8h7r3v6t5b4n1c2w8z7y6u6", pw,
	    id, &blob, blob.len, &out), -1, "wrong key refused");
	is_int(unseal(c2, CRYPTO_SECRET, skey, pw, id, &blob, blob.len, &out),
	    -1, "wrong master key refused");
	is_int(unseal(c, CRYPTO_SECRET, skey, pw, id2, &blob, blob.len, &out),
	    -1, "wrong row id refused");
	is_int(unseal(c, CRYPTO_META, skey, pw, id, &blob, blob.len, &out), -1,
	    "wrong purpose refused");
	blen = blob.len;
	is_int(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, blen - 1, &out),
	    -1, "truncated by one byte refused");
	is_int(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, OVERHEAD - 1,
	    &out), -1, "shorter than the overhead refused");
	is_int(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, 0, &out), -1,
	    "empty blob refused");
	{
		static const struct {
			size_t		 off;
			const char	*what;
		} at[] = {
			{ 0, "version" }, { 1, "nonce" }, { 30, "ciphertext" },
		};

		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			blob.data[at[i].off] ^= 0x01;
			is_int(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob,
			    blen, &out), -1, "tampered %s refused", at[i].what);
			blob.data[at[i].off] ^= 0x01;
		}
		blob.data[blen - 1] ^= 0x80;
		is_int(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, blen,
		    &out), -1, "tampered tag refused");
		blob.data[blen - 1] ^= 0x80;
	}
	ok(unseal(c, CRYPTO_SECRET, skey, pw, id, &blob, blen, &out) == 0,
	    "the restored blob opens again");

	/* appends, like every writer into a struct buf */
	buf_free(&out);
	buf_puts(&out, "pre:");
	ok(crypto_open_sealed(c, CRYPTO_SECRET, skey, strlen(skey), pw, id,
	    blob.data, blen, &out) == 0 && out.len == 4 + sizeof(plain) &&
	    memcmp(out.data, "pre:the", 7) == 0, "open appends to out");
	buf_free(&out);
	buf_puts(&blob2, "pre:");
	ok(crypto_seal(c, CRYPTO_SECRET, skey, strlen(skey), pw, id, plain,
	    sizeof(plain), &blob2) == 0 && blob2.len == 4 + blen,
	    "seal appends to out");
	ok(memcmp(blob.data + 1, blob2.data + 5, 24) != 0,
	    "two seals use different nonces");
	buf_free(&blob);
	buf_free(&blob2);
}

static void
test_padding(const struct crypto *c)
{
	static const size_t sizes[] = { 0, 1, 100, 255, 256, 257, 1000, 10000 };
	static char plain[10000];
	unsigned char id[CRYPTO_ID_LEN];
	struct buf blob = { 0 };
	size_t i, len[sizeof(sizes) / sizeof(sizes[0])];

	memset(plain, 'p', sizeof(plain));
	crypto_row_id(c, CRYPTO_ID_SECRET, skey, strlen(skey), id);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		buf_free(&blob);
		crypto_seal(c, CRYPTO_SECRET, skey, strlen(skey), NULL, id,
		    plain, sizes[i], &blob);
		len[i] = blob.len;
		ok(len[i] > OVERHEAD + sizes[i] &&
		    (len[i] - OVERHEAD) % CRYPTO_PAD == 0,
		    "%zu bytes seal to %zu: overhead + a multiple of %d",
		    sizes[i], len[i], CRYPTO_PAD);
	}
	ok(len[0] == len[1] && len[1] == len[2] && len[2] == len[3],
	    "0, 1, 100 and 255 bytes seal to the same length");
	ok(len[4] == len[5] && len[4] > len[3], "256 and 257 share the next");
	buf_free(&blob);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
test_pw(void)
{
	unsigned char s1[CRYPTO_SALT_LEN], s2[CRYPTO_SALT_LEN];
	unsigned char a[CRYPTO_PW_LEN], b[CRYPTO_PW_LEN];
	struct timespec t0;
	double ms;

	crypto_salt(s1);
	crypto_salt(s2);
	ok(memcmp(s1, s2, sizeof(s1)) != 0, "two salts differ");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(crypto_pw("hunter2", 7, s1, a), 0, "crypto_pw");
	ms = ms_since(&t0);
	diag("one crypto_pw (N=%d, r=%d, p=%d): %.1f ms", CRYPTO_SCRYPT_N,
	    CRYPTO_SCRYPT_R, CRYPTO_SCRYPT_P, ms);
	ok(ms >= 10.0, "crypto_pw is not cheap (%.1f ms >= 10 ms)", ms);
	crypto_pw("hunter2", 7, s1, b);
	ok(memcmp(a, b, sizeof(a)) == 0, "same passphrase and salt, same key");
	crypto_pw("hunter2", 7, s2, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another salt, another key");
	crypto_pw("hunter3", 7, s1, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another passphrase, another key");
	crypto_pw("hunter2\0x", 9, s1, b);
	ok(memcmp(a, b, sizeof(a)) != 0, "bytes after a NUL count");
}

int
main(void)
{
	char p1[1100], p2[1100];
	struct crypto *c, *c2;

	if (crypto_init() == -1)
		bail_out("crypto_init");
	tap_tmpdir(dir, sizeof(dir));
	test_keyfile();
	c = newkey("one.key", p1, sizeof(p1));
	c2 = newkey("two.key", p2, sizeof(p2));
	test_ids(c, c2);
	test_fingerprint();
	test_seal(c, c2);
	test_padding(c);
	test_pw();
	crypto_close(c);
	crypto_close(c2);
	tap_rmtree(dir);
	return done();
}
