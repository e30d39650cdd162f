/*
 * crypto: master key files, row ids, sealing and opening blobs, scrypt.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <sodium.h>

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

/* Write text to path, mode 0400 (replacing it). */
static void
put(const char *path, const char *text)
{
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL)
		bail_out("cannot write %s", path);
	fputs(text, f);
	fclose(f);
	chmod(path, 0400);
}

/* The file's bytes into out (cap), NUL-terminated; its length or -1. */
static long
slurp(const char *path, char *out, size_t cap)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
	return (long)n;
}

/* A key line of version v with a fresh random key: into line (200). */
static void
key_line(int v, char *line, unsigned char master[32])
{
	char hex[65];

	randombytes_buf(master, 32);
	sodium_bin2hex(hex, sizeof(hex), master, 32);
	snprintf(line, 200, "ots-master-key-v%d %s\n", v, hex);
}

/*
 * Master-key versions: a file of several lines, version 1 computed as it
 * always was (checked against the construction, recomputed here with
 * libsodium alone), malformed files refused, versions added and removed
 * atomically.
 */
static void
test_versions(void)
{
	static const char kctx[8] = "ots-keys";
	unsigned char m1[32], m2[32], sub[32], want[CRYPTO_ID_LEN],
	    got[CRYPTO_ID_LEN], got2[CRYPTO_ID_LEN], d = 's';
	char l1[200], l2[200], l3[200], text[1200], text2[1200], p1[1100],
	    p2[1100], p3[1100];
	crypto_generichash_state h;
	const struct crypto *k1;
	struct crypto *one, *two, *c;
	struct buf blob = { 0 }, out = { 0 };
	char *many;
	/* a line: head, then hexlen digits of a key, then tail */
	static const struct { const char *head; int hexlen; const char *tail; }
	    bad[] = {
		{ "", 0, "" },				/* empty */
		{ "ots-master-key-v0 ", 64, "" },
		{ "ots-master-key-v01 ", 64, "" },	/* leading zero */
		{ "ots-master-key-v1x ", 64, "" },
		{ "ots-master-key-v2  ", 64, "" },	/* two spaces */
		{ "ots-master-key-v1234567 ", 64, "" },	/* too long */
		{ "ots-master-key-v ", 64, "" },
		{ "ots-master-key-v2 ", 64, " junk" },
		{ "ots-master-key-v2 ", 62, "" },	/* short key */
		{ "ots-master-key-v2 ", 63, "g" },	/* not hex */
		{ "ots-master-key-v2 ", 64, "0" },	/* long key */
	};
	size_t i;
	int v = 0;

	key_line(1, l1, m1);
	key_line(2, l2, m2);
	snprintf(p1, sizeof(p1), "%s/v1.key", dir);
	snprintf(p2, sizeof(p2), "%s/v12.key", dir);
	snprintf(p3, sizeof(p3), "%s/bad.key", dir);
	put(p1, l1);
	snprintf(text, sizeof(text), "%s%s", l1, l2);
	put(p2, text);
	if ((one = crypto_open(p1, err, sizeof(err))) == NULL ||
	    (two = crypto_open(p2, err, sizeof(err))) == NULL)
		bail_out("versions: %s", err);
	is_int(crypto_key_version(one), 1, "a one-line file is version 1");
	ok(crypto_older(one) == NULL, "and holds no other");
	is_int(crypto_key_version(two), 2, "crypto_open: the newest version");
	k1 = crypto_older(two);
	ok(k1 != NULL && crypto_key_version(k1) == 1 &&
	    crypto_older(k1) == NULL, "newest first: 2, then 1, then none");
	ok(crypto_find(two, 1) == k1 && crypto_find(k1, 2) == two &&
	    crypto_find(two, 3) == NULL, "crypto_find by version, from any "
	    "handle; a version not held is NULL");
	ok(crypto_newest(k1) == two, "crypto_newest from an older handle");

	/* version 1 as the construction has always made it */
	crypto_kdf_derive_from_key(sub, 32, 1, kctx, m1);
	crypto_generichash_init(&h, sub, 32, CRYPTO_ID_LEN);
	crypto_generichash_update(&h, &d, 1);
	crypto_generichash_update(&h, (const unsigned char *)skey,
	    strlen(skey));
	crypto_generichash_final(&h, want, CRYPTO_ID_LEN);
	crypto_row_id(one, CRYPTO_ID_SECRET, skey, strlen(skey), got);
	crypto_row_id(k1, CRYPTO_ID_SECRET, skey, strlen(skey), got2);
	ok(memcmp(got, want, CRYPTO_ID_LEN) == 0, "version 1's row id is "
	    "keyed BLAKE2b under sub-key 1 of its key, as before versions");
	ok(memcmp(got2, want, CRYPTO_ID_LEN) == 0, "and the same with a "
	    "second version in the file");
	crypto_row_id(two, CRYPTO_ID_SECRET, skey, strlen(skey), got2);
	ok(memcmp(got2, want, CRYPTO_ID_LEN) != 0, "version 2 names the key "
	    "otherwise");
	crypto_kdf_derive_from_key(sub, 32, 6, kctx, m1);
	crypto_generichash(want, CRYPTO_ID_LEN, (const unsigned char *)"check",
	    5, sub, 32);
	crypto_check_value(k1, got);
	ok(memcmp(got, want, CRYPTO_ID_LEN) == 0, "version 1's check value "
	    "is unchanged");
	crypto_check_value(two, got2);
	ok(memcmp(got, got2, CRYPTO_ID_LEN) != 0, "version 2's differs");
	crypto_kdf_derive_from_key(sub, 32, 5, kctx, m1);
	crypto_generichash(want, CRYPTO_ID_LEN, (const unsigned char *)skey,
	    strlen(skey), sub, 32);
	crypto_token_hash(k1, skey, strlen(skey), got);
	ok(memcmp(got, want, CRYPTO_ID_LEN) == 0, "version 1's token hash is "
	    "unchanged");
	/* a blob of the one-line file opens with version 1 of the two-line
	 * one, and the reverse; version 2 opens neither */
	crypto_row_id(one, CRYPTO_ID_SECRET, skey, strlen(skey), got);
	if (crypto_seal(one, CRYPTO_SECRET, skey, strlen(skey), NULL, got,
	    "v1 value", 8, &blob) == -1)
		bail_out("seal");
	ok(unseal(k1, CRYPTO_SECRET, skey, NULL, got, &blob, blob.len, &out)
	    == 0 && strcmp(out.data, "v1 value") == 0, "a version 1 blob "
	    "opens with version 1 of a two-version file");
	ok(unseal(two, CRYPTO_SECRET, skey, NULL, got, &blob, blob.len, &out)
	    == -1, "but not with version 2");
	buf_free(&blob);
	if (crypto_seal(k1, CRYPTO_META, skey, strlen(skey), NULL, got,
	    "v1 meta", 7, &blob) == -1)
		bail_out("seal");
	ok(unseal(one, CRYPTO_META, skey, NULL, got, &blob, blob.len, &out)
	    == 0 && strcmp(out.data, "v1 meta") == 0, "and the reverse");
	buf_free(&blob);
	buf_free(&out);
	crypto_close(one);
	crypto_close((struct crypto *)k1);	/* any handle frees the file's */

	/* malformed files */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s%.*s%s%s", i % 2 ? l1 : "",
		    bad[i].head, bad[i].hexlen, l2 + 18, bad[i].tail,
		    i > 0 ? "\n" : "");
		put(p3, text);
		err[0] = '\0';
		c = crypto_open(p3, err, sizeof(err));
		ok(c == NULL && strstr(err, p3) != NULL, "refused: %s%s"
		    "(%d hex digits)%s", i % 2 ? "line 1 then " : "",
		    i == 0 ? "an empty file " : bad[i].head, bad[i].hexlen,
		    bad[i].tail);
		crypto_close(c);
	}
	snprintf(text, sizeof(text), "%s%s", l2, l1);
	put(p3, text);
	ok(crypto_open(p3, err, sizeof(err)) == NULL && strstr(err, "line 2")
	    != NULL, "refused: versions out of order (%s)", err);
	snprintf(text, sizeof(text), "%s%s", l1, l1);
	put(p3, text);
	ok(crypto_open(p3, err, sizeof(err)) == NULL, "refused: a version "
	    "twice");
	snprintf(text, sizeof(text), "%s\n%s", l1, l2);
	put(p3, text);
	ok(crypto_open(p3, err, sizeof(err)) == NULL && strstr(err, "line 2")
	    != NULL, "refused: a blank line");
	snprintf(text, sizeof(text), "%.*s", (int)strlen(l1) - 1, l1);
	put(p3, text);
	c = crypto_open(p3, err, sizeof(err));
	ok(c != NULL, "a last line without a newline is fine");
	crypto_close(c);
	if ((many = calloc(CRYPTO_VERSIONS_MAX + 1, 200)) == NULL)
		bail_out("calloc");
	for (i = 1; i <= CRYPTO_VERSIONS_MAX + 1; i++) {
		key_line((int)i, l3, m2);
		strcat(many, l3);
	}
	put(p3, many);
	ok(crypto_open(p3, err, sizeof(err)) == NULL && strstr(err, "more "
	    "than") != NULL, "refused: more than %d versions (%s)",
	    CRYPTO_VERSIONS_MAX, err);
	sodium_memzero(many, strlen(many));
	free(many);
	sodium_memzero(m2, sizeof(m2));

	/* rotate, retire */
	put(p1, l1);
	ok(crypto_keyfile_add(p1, &v, err, sizeof(err)) == 0 && v == 2,
	    "crypto_keyfile_add: version 2 (%s)", err);
	is_int(tap_mode(p1), 0400, "the new file is mode 0400");
	ok(slurp(p1, text, sizeof(text)) > 0 && strncmp(text, l1, strlen(l1))
	    == 0 && strncmp(text + strlen(l1), "ots-master-key-v2 ", 18) == 0,
	    "version 1's line unchanged, version 2's after it");
	snprintf(text2, sizeof(text2), "%s.new", p1);
	ok(access(text2, F_OK) == -1, "no temporary file left");
	c = crypto_open(p1, err, sizeof(err));
	ok(c != NULL && crypto_key_version(c) == 2 && crypto_find(c, 1) != NULL,
	    "the file opens: versions 2 and 1");
	if (c != NULL) {
		crypto_row_id(crypto_find(c, 1), CRYPTO_ID_SECRET, skey,
		    strlen(skey), got2);
		crypto_kdf_derive_from_key(sub, 32, 1, kctx, m1);
		crypto_generichash_init(&h, sub, 32, CRYPTO_ID_LEN);
		crypto_generichash_update(&h, &d, 1);
		crypto_generichash_update(&h, (const unsigned char *)skey,
		    strlen(skey));
		crypto_generichash_final(&h, want, CRYPTO_ID_LEN);
		ok(memcmp(got2, want, CRYPTO_ID_LEN) == 0,
		    "and version 1 is still the same key");
	}
	crypto_close(c);
	put(text2, "");
	ok(crypto_keyfile_add(p1, &v, err, sizeof(err)) == -1 &&
	    strstr(err, ".new") != NULL, "a leftover PATH.new stops a "
	    "rotation, saying so");
	unlink(text2);
	ok(crypto_keyfile_remove(p1, 2, err, sizeof(err)) == -1 &&
	    strstr(err, "current") != NULL, "the current version is not "
	    "removed");
	ok(crypto_keyfile_remove(p1, 5, err, sizeof(err)) == -1,
	    "nor one the file lacks");
	is_int(crypto_keyfile_remove(p1, 1, err, sizeof(err)), 0,
	    "version 1 removed");
	c = crypto_open(p1, err, sizeof(err));
	ok(c != NULL && crypto_key_version(c) == 2 && crypto_older(c) == NULL,
	    "the file holds version 2 alone");
	crypto_close(c);
	ok(slurp(p1, text, sizeof(text)) > 0 && strstr(text, l1 + 18) == NULL,
	    "version 1's key is gone from the file");
	is_int(tap_mode(p1), 0400, "still mode 0400");
	sodium_memzero(m1, sizeof(m1));
	sodium_memzero(l1, sizeof(l1));
	sodium_memzero(l2, sizeof(l2));
	sodium_memzero(text, sizeof(text));
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
	test_versions();
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
