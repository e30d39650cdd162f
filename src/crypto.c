#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#define KEYFILE_TAG	"ots-master-key-v"	/* then the version, a space */
#define LINE_MAX_LEN	(sizeof(KEYFILE_TAG) + 6 + 1 + 2 * MASTER_LEN + 1)
#define NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_LEN		(5 + CRYPTO_ID_LEN)

/* Sub-key numbers for crypto_kdf_derive_from_key. */
enum { SK_ID = 1, SK_SECRET, SK_META, SK_ACCOUNT, SK_TOKEN, SK_CHECK, SK_MAIL,
	SK_REQUEST, SK_MAX };

/*
 * One master-key version's sub-keys.  crypto_open makes an array of them,
 * newest first, in one locked allocation; a handle is one element, and
 * index finds the array's head from any of them.
 */
struct crypto {
	int		version;
	int		index;		/* 0: the newest */
	int		count;		/* versions in the array */
	unsigned char	sub[SK_MAX][32];
};

/* A key file's line, as read: kept in locked memory. */
struct keyline {
	int		version;
	unsigned char	master[MASTER_LEN];
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

/* Format one key line into line (LINE_MAX_LEN + 1 bytes); its length. */
static size_t
format_line(const struct keyline *k, char *line)
{
	int n;

	n = snprintf(line, LINE_MAX_LEN + 1, "%s%d ", KEYFILE_TAG, k->version);
	sodium_bin2hex(line + n, LINE_MAX_LEN + 1 - (size_t)n, k->master,
	    MASTER_LEN);
	n += 2 * MASTER_LEN;
	line[n++] = '\n';
	return (size_t)n;
}

/*
 * Write the lines k[0..n) to fd; 0 or -1 (errno set).  The text is made
 * in locked memory and wiped.
 */
static int
write_lines(int fd, const struct keyline *k, size_t n)
{
	char *line;
	size_t i, len;
	int rc = 0;

	if ((line = sodium_malloc(LINE_MAX_LEN + 1)) == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		len = format_line(&k[i], line);
		if (write(fd, line, len) != (ssize_t)len)
			rc = -1;
	}
	sodium_free(line);
	return rc;
}

int
crypto_keyfile_create(const char *path, char *err, size_t errlen)
{
	struct keyline *k;
	int fd, rc = -1;

	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0400)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		sodium_free(k);
		return -1;
	}
	k->version = 1;
	randombytes_buf(k->master, MASTER_LEN);
	if (write_lines(fd, k, 1) == -1 || fsync(fd) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	sodium_free(k);		/* wipes */
	if (rc == -1)
		unlink(path);
	return rc;
}

/*
 * Parse one line "ots-master-key-vN HEX" (N from 1 to 999999, no leading
 * zero; blanks may end it) of len bytes.  Version 1's line is the whole of
 * a key file made before versions existed.  0 or -1.
 */
static int
parse_line(const char *s, size_t len, struct keyline *k)
{
	size_t i = sizeof(KEYFILE_TAG) - 1, binlen, digits = 0;
	long v = 0;

	if (len < i || memcmp(s, KEYFILE_TAG, i) != 0 || i >= len ||
	    s[i] == '0')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 6;
	    i++, digits++)
		v = v * 10 + (s[i] - '0');
	if (digits == 0 || i >= len || s[i++] != ' ' ||
	    len - i < 2 * MASTER_LEN ||
	    sodium_hex2bin(k->master, MASTER_LEN, s + i, 2 * MASTER_LEN, NULL,
	    &binlen, NULL) != 0 || binlen != MASTER_LEN)
		return -1;
	for (i += 2 * MASTER_LEN; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return -1;
	k->version = (int)v;
	return 0;
}

/*
 * Read a key file into locked memory: its lines, versions in ascending
 * order, at most CRYPTO_VERSIONS_MAX.  *st receives the file's status.
 * The array (sodium_free it) or NULL with a message.
 */
static struct keyline *
read_keyfile(const char *path, size_t *n, struct stat *st, char *err,
    size_t errlen)
{
	const size_t cap = CRYPTO_VERSIONS_MAX * (LINE_MAX_LEN + 8);
	struct keyline *k = NULL;
	char *text = NULL, *p, *nl;
	size_t len = 0, llen;
	ssize_t r = 0;
	int fd;

	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) == -1 || (st->st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable by others; "
		    "fix with: chmod 0400 %s", path, path);
		goto fail;
	}
	if ((text = sodium_malloc(cap + 1)) == NULL ||
	    (k = sodium_malloc(CRYPTO_VERSIONS_MAX * sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (len < cap && (r = read(fd, text + len, cap - len)) > 0)
		len += (size_t)r;
	if (r == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (len == cap) {
		snprintf(err, errlen, "%s: more than %d key versions", path,
		    CRYPTO_VERSIONS_MAX);
		goto fail;
	}
	for (p = text; p < text + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			nl = text + len;	/* a last line without '\n' */
		llen = (size_t)(nl - p);
		if (*n == CRYPTO_VERSIONS_MAX) {
			snprintf(err, errlen, "%s: more than %d key versions",
			    path, CRYPTO_VERSIONS_MAX);
			goto fail;
		}
		if (parse_line(p, llen, &k[*n]) == -1) {
			snprintf(err, errlen, "%s: line %zu: not an ots master "
			    "key line", path, *n + 1);
			goto fail;
		}
		if (*n > 0 && k[*n].version <= k[*n - 1].version) {
			snprintf(err, errlen, "%s: line %zu: versions must "
			    "ascend", path, *n + 1);
			goto fail;
		}
		(*n)++;
	}
	if (*n == 0) {
		snprintf(err, errlen, "%s: not an ots master key file", path);
		goto fail;
	}
	sodium_free(text);
	close(fd);
	return k;
fail:
	if (text != NULL)
		sodium_free(text);
	if (k != NULL)
		sodium_free(k);
	close(fd);
	*n = 0;
	return NULL;
}

struct crypto *
crypto_open(const char *path, char *err, size_t errlen)
{
	struct keyline *k;
	struct crypto *c;
	struct stat st;
	size_t n, i;
	int j;

	if ((k = read_keyfile(path, &n, &st, err, errlen)) == NULL)
		return NULL;
	if ((c = sodium_malloc(n * sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		sodium_free(k);
		return NULL;
	}
	/* newest first: the lines ascend */
	for (i = 0; i < n; i++) {
		c[i].version = k[n - 1 - i].version;
		c[i].index = (int)i;
		c[i].count = (int)n;
		for (j = 1; j < SK_MAX; j++)
			crypto_kdf_derive_from_key(c[i].sub[j],
			    sizeof(c[i].sub[j]), (uint64_t)j, kdf_ctx,
			    k[n - 1 - i].master);
	}
	sodium_free(k);
	sodium_mprotect_readonly(c);
	return c;
}

/*
 * Replace the key file at path by lines k[0..n), atomically: a new file
 * (0400, the old one's owner when run as root) in the same directory,
 * synced, renamed over the old one, and the directory synced.  0 or -1.
 */
static int
write_keyfile(const char *path, const struct keyline *k, size_t n,
    const struct stat *old, char *err, size_t errlen)
{
	char tmp[4096], dir[4096], *slash;
	int fd, dfd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0400)) == -1) {
		snprintf(err, errlen, "%s: %s%s", tmp, strerror(errno),
		    errno == EEXIST ? " (another key command at work, or one "
		    "that stopped half way: remove it)" : "");
		return -1;
	}
	if ((geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) == -1) ||
	    write_lines(fd, k, n) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

int
crypto_keyfile_add(const char *path, int *version, char *err, size_t errlen)
{
	struct keyline *k;
	struct stat st;
	size_t n;
	int rc = -1;

	if ((k = read_keyfile(path, &n, &st, err, errlen)) == NULL)
		return -1;
	if (n == CRYPTO_VERSIONS_MAX || k[n - 1].version >= 999999) {
		snprintf(err, errlen, "%s: no room for another version; "
		    "retire old ones first", path);
		goto out;
	}
	k[n].version = k[n - 1].version + 1;
	randombytes_buf(k[n].master, MASTER_LEN);
	if ((rc = write_keyfile(path, k, n + 1, &st, err, errlen)) == 0)
		*version = k[n].version;
out:
	sodium_free(k);
	return rc;
}

int
crypto_keyfile_remove(const char *path, int version, char *err,
    size_t errlen)
{
	struct keyline *k;
	struct stat st;
	size_t n, i;
	int rc = -1;

	if ((k = read_keyfile(path, &n, &st, err, errlen)) == NULL)
		return -1;
	for (i = 0; i < n && k[i].version != version; i++)
		;
	if (i == n)
		snprintf(err, errlen, "%s: no version %d", path, version);
	else if (i == n - 1)
		snprintf(err, errlen, "%s: version %d is the current one",
		    path, version);
	else {
		memmove(&k[i], &k[i + 1], (n - i - 1) * sizeof(*k));
		rc = write_keyfile(path, k, n - 1, &st, err, errlen);
	}
	sodium_free(k);
	return rc;
}

int
crypto_key_version(const struct crypto *c)
{
	return c->version;
}

const struct crypto *
crypto_newest(const struct crypto *c)
{
	return c - c->index;
}

const struct crypto *
crypto_older(const struct crypto *c)
{
	return c->index + 1 < c->count ? c + 1 : NULL;
}

const struct crypto *
crypto_find(const struct crypto *c, int version)
{
	for (c = crypto_newest(c); c != NULL; c = crypto_older(c))
		if (c->version == version)
			return c;
	return NULL;
}

void
crypto_close(struct crypto *c)
{
	if (c != NULL)
		sodium_free((void *)crypto_newest(c));	/* wipes */
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
	static const int sk[] = { 0, SK_SECRET, SK_META, SK_ACCOUNT, SK_MAIL,
	    SK_REQUEST };
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
	return crypto_seal2(c, purpose, k, klen, pw, id, NULL, 0, plain, plen,
	    out);
}

int
crypto_seal2(const struct crypto *c, enum crypto_purpose purpose,
    const char *k, size_t klen, const unsigned char *pw,
    const unsigned char id[CRYPTO_ID_LEN], const void *hd, size_t hlen,
    const void *plain, size_t plen, struct buf *out)
{
	unsigned char key[32], ad[AD_LEN], *dst;
	unsigned long long clen;
	size_t plen2, start = out->len, room;
	unsigned char head[1 + NONCE_LEN];

	if (hlen > SIZE_MAX / 4 || plen > SIZE_MAX / 4 - hlen - 2 * CRYPTO_PAD -
	    TAG_LEN - sizeof(head))
		return -1;
	room = hlen + plen + CRYPTO_PAD + TAG_LEN;
	head[0] = SEAL_VERSION;
	randombytes_buf(head + 1, NONCE_LEN);
	/* the plaintext is padded and encrypted where its blob ends up */
	if (buf_reserve(out, sizeof(head) + room) == -1 ||
	    buf_add(out, head, sizeof(head)) == -1)
		return -1;
	dst = (unsigned char *)out->data + start + sizeof(head);
	if (hlen > 0)
		memcpy(dst, hd, hlen);
	if (plen > 0)
		memcpy(dst + hlen, plain, plen);
	if (sodium_pad(&plen2, dst, hlen + plen, CRYPTO_PAD,
	    hlen + plen + CRYPTO_PAD) != 0) {
		sodium_memzero(dst, room);
		out->len = start;
		out->data[start] = '\0';
		return -1;
	}
	derive(c, purpose, k, klen, pw, id, key, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, &clen, dst, plen2,
	    ad, sizeof(ad), NULL, head + 1, key);
	out->len = start + sizeof(head) + clen;
	out->data[out->len] = '\0';
	sodium_memzero(key, sizeof(key));
	return 0;
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
