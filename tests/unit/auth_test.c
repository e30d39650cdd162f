/*
 * auth: parsing Basic credentials, and auth_check against a real store:
 * no header is anonymous, anything wrong is refused, never anonymous.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "crypto.h"
#include "store.h"
#include "new_store.h"

#include "tap.h"

#define TOK	"0123456789abcdefghijklmnopqrstuvwxyz0123"
#define WRONG	"0123456789abcdefghijklmnopqrstuvwxyz0124"

static char user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];

/* "Basic " and the base64 of cred[0..len) into a static buffer. */
static const char *
basic(const char *cred, size_t len)
{
	static char h[1024];

	memcpy(h, "Basic ", 6);
	sodium_bin2base64(h + 6, sizeof(h) - 6, (const unsigned char *)cred,
	    len, sodium_base64_VARIANT_ORIGINAL);
	return h;
}

/* auth_basic_parse of basic(cred); user and pass cleared first. */
static int
parse(const char *cred)
{
	memset(user, 'U', sizeof(user));
	memset(pass, 'P', sizeof(pass));
	return auth_basic_parse(basic(cred, strlen(cred)), user, pass);
}

static void
test_parse(void)
{
	char cred[AUTH_USER_MAX + AUTH_PASS_MAX + 8];

	is_int(parse("Alice@Example.COM:tok3n"), 0, "good credentials");
	is_str(user, "alice@example.com", "user is lower-cased");
	is_str(pass, "tok3n", "password kept as sent");
	is_int(parse("bob@x.co:a:b:c"), 0, "password containing ':'");
	is_str(user, "bob@x.co", "user ends at the first ':'");
	is_str(pass, "a:b:c", "the rest is the password");
	is_int(parse("bob@x.co:"), 0, "empty password");
	is_str(pass, "", "empty password is \"\"");
	ok(auth_basic_parse("basic Ym9iQHguY286dA==", user, pass) == 0 &&
	    strcmp(pass, "t") == 0, "scheme name is case-insensitive");
	ok(auth_basic_parse("Basic   Ym9iQHguY286dA==", user, pass) == 0,
	    "several spaces after the scheme");

	is_int(parse("no-colon"), -1, "no colon");
	is_int(parse(":tok"), -1, "empty user");
	is_int(parse(""), -1, "empty credentials");
	is_int(auth_basic_parse("Basic !!!!", user, pass), -1, "bad base64");
	is_int(auth_basic_parse("Basic Ym9iQHguY286dA", user, pass), -1,
	    "base64 without its padding");
	is_int(auth_basic_parse("Basic Ym9iQHguY286dA==garbage", user, pass),
	    -1, "junk after the base64");
	is_int(auth_basic_parse("Basic ", user, pass), -1,
	    "nothing after Basic");
	is_int(auth_basic_parse("Basic", user, pass), -1, "only the scheme");
	is_int(auth_basic_parse("Bearer Ym9iQHguY286dA==", user, pass), -1,
	    "Bearer scheme");
	is_int(auth_basic_parse("Digest username=\"bob\"", user, pass), -1,
	    "Digest scheme");
	is_int(auth_basic_parse("BasicYm9iQHguY286dA==", user, pass), -1,
	    "no space after the scheme");
	is_int(auth_basic_parse("", user, pass), -1, "empty header");
	is_int(auth_basic_parse(basic("a\0b:c", 5), user, pass), -1,
	    "NUL in the user");
	is_int(auth_basic_parse(basic("a:b\0c", 5), user, pass), -1,
	    "NUL in the password");
	is_int(parse("a\xff:b"), -1, "invalid UTF-8");

	memset(cred, 'u', AUTH_USER_MAX);
	memcpy(cred + AUTH_USER_MAX, ":p", 3);
	ok(parse(cred) == 0 && strlen(user) == AUTH_USER_MAX,
	    "user of AUTH_USER_MAX bytes");
	memset(cred, 'u', AUTH_USER_MAX + 1);
	memcpy(cred + AUTH_USER_MAX + 1, ":p", 3);
	is_int(parse(cred), -1, "user of AUTH_USER_MAX + 1 bytes");
	cred[0] = 'u';
	cred[1] = ':';
	memset(cred + 2, 'p', AUTH_PASS_MAX);
	cred[2 + AUTH_PASS_MAX] = '\0';
	ok(parse(cred) == 0 && strlen(pass) == AUTH_PASS_MAX,
	    "password of AUTH_PASS_MAX bytes");
	cred[2 + AUTH_PASS_MAX] = 'p';
	cred[3 + AUTH_PASS_MAX] = '\0';
	is_int(parse(cred), -1, "password of AUTH_PASS_MAX + 1 bytes");
}

static void
test_check(void)
{
	static const char tok[] = TOK;
	char dir[1024], path[1100], err[512], token[AUTH_PASS_MAX + 1];
	struct store_customer cu, out;
	struct crypto *c;
	struct store *st;
	const char *h;

	tap_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	if (crypto_keyfile_create(path, err, sizeof(err)) == -1 ||
	    (c = crypto_open(path, err, sizeof(err))) == NULL)
		bail_out("crypto: %s", err);
	snprintf(path, sizeof(path), "%s/ots.db", dir);
	if ((st = new_store(path, err, sizeof(err))) == NULL)
		bail_out("store_open: %s", err);
	memset(&cu, 0, sizeof(cu));
	snprintf(cu.custid, sizeof(cu.custid), "alice@example.com");
	snprintf(cu.plan, sizeof(cu.plan), "basic");
	crypto_token_hash(c, tok, strlen(tok), cu.token_hash);
	if (store_customer_add(st, &cu) != 0)
		bail_out("store_customer_add");

	is_int(auth_check(st, c, NULL, &out, token), 0, "no header: anonymous");
	h = basic("Alice@Example.com:" TOK, 18 + 40);
	is_int(auth_check(st, c, h, &out, token), 1, "right token");
	is_str(out.custid, "alice@example.com", "the account is filled");
	is_str(token, tok, "the token is handed back");
	h = basic("alice@example.com:" WRONG, 18 + 40);
	is_int(auth_check(st, c, h, &out, token), -1, "wrong token refused");
	ok(token[0] == '\0', "a refused token is wiped");
	h = basic("mallory@example.com:" TOK, 20 + 40);
	is_int(auth_check(st, c, h, &out, token), -1,
	    "unknown account refused");
	is_int(auth_check(st, c, "Basic !!!", &out, token), -1,
	    "malformed header refused, not anonymous");
	is_int(auth_check(st, c, "Bearer x", &out, token), -1,
	    "other scheme refused, not anonymous");
	store_close(st);
	crypto_close(c);
	tap_rmtree(dir);
}

/*
 * Master-key versions: which version seals (store_check_keys), the states
 * a readiness check reads, and an account's token hash moving from an old
 * version to the sealing one when it authenticates.
 */
static void
test_versions(void)
{
	static const char tok[] = TOK;
	char dir[1024], key[1100], path[1100], err[512],
	    token[AUTH_PASS_MAX + 1];
	unsigned char check[CRYPTO_ID_LEN], h2[CRYPTO_ID_LEN];
	struct store_customer cu, out;
	const struct crypto *seal = NULL;
	struct crypto *c1, *c2;
	struct store *st;
	const char *h;
	int v;

	tap_tmpdir(dir, sizeof(dir));
	snprintf(key, sizeof(key), "%s/master.key", dir);
	if (crypto_keyfile_create(key, err, sizeof(err)) == -1 ||
	    (c1 = crypto_open(key, err, sizeof(err))) == NULL)
		bail_out("crypto: %s", err);
	snprintf(path, sizeof(path), "%s/ots.db", dir);
	if ((st = new_store(path, err, sizeof(err))) == NULL)
		bail_out("store_open: %s", err);
	is_int(store_check_keys(st, c1, &seal), STORE_KEYS_MATCH,
	    "a new database: version 1 recorded, match");
	ok(seal != NULL && crypto_key_version(seal) == 1, "version 1 seals");
	memset(&cu, 0, sizeof(cu));
	snprintf(cu.custid, sizeof(cu.custid), "alice@example.com");
	snprintf(cu.plan, sizeof(cu.plan), "basic");
	crypto_token_hash(c1, tok, strlen(tok), cu.token_hash);
	if (store_customer_add(st, &cu) != 0)
		bail_out("store_customer_add");
	snprintf(cu.custid, sizeof(cu.custid), "bob@example.com");
	if (store_customer_add(st, &cu) != 0)
		bail_out("store_customer_add");

	if (crypto_keyfile_add(key, &v, err, sizeof(err)) == -1 ||
	    (c2 = crypto_open(key, err, sizeof(err))) == NULL)
		bail_out("rotate: %s", err);
	is_int(store_check_keys(st, c2, &seal), STORE_KEYS_MATCH,
	    "a file with a version the database does not know yet: match");
	ok(seal != NULL && crypto_key_version(seal) == 1,
	    "but that version seals nothing: version 1 still seals");
	crypto_check_value(crypto_find(c2, 2), check);
	if (store_key_add(st, 2, check) != 0)
		bail_out("store_key_add");
	is_int(store_check_keys(st, c2, &seal), STORE_KEYS_MATCH,
	    "version 2 recorded: match");
	ok(seal != NULL && crypto_key_version(seal) == 2, "version 2 seals");
	seal = NULL;
	is_int(store_check_keys(st, c1, &seal), STORE_KEYS_MISSING,
	    "a process holding version 1 alone: the database knows a version "
	    "it lacks");
	ok(seal != NULL && crypto_key_version(seal) == 1,
	    "it seals with version 1 meanwhile");
	seal = crypto_find(c2, 2);

	h = basic("alice@example.com:" WRONG, 18 + 40);
	is_int(auth_check(st, seal, h, &out, token), -1,
	    "a version 1 account: a wrong token is refused");
	ok(store_customer_get(st, "alice@example.com", &out) == 1 &&
	    out.key_version == 1, "and the account stays version 1");
	h = basic("alice@example.com:" TOK, 18 + 40);
	is_int(auth_check(st, seal, h, &out, token), 1,
	    "a version 1 account authenticates under version 2's process");
	is_int(out.key_version, 2, "the account handed back is version 2");
	crypto_token_hash(seal, tok, strlen(tok), h2);
	ok(store_customer_get(st, "alice@example.com", &out) == 1 &&
	    out.key_version == 2 && crypto_equal(out.token_hash, h2),
	    "its row now holds the token's version 2 hash");
	is_int(auth_check(st, seal, h, &out, token), 1,
	    "and it authenticates again");
	ok(store_customer_get(st, "bob@example.com", &out) == 1 &&
	    out.key_version == 1, "an account that did not ask stays at 1");
	is_int(auth_check(st, c1, h, &out, token), -1,
	    "a process without version 2 refuses her (not ready: missing)");

	memset(check, 0x5a, sizeof(check));
	if (store_key_del(st, 2) != 1 || store_key_add(st, 2, check) != 0)
		bail_out("key del/add");
	is_int(store_check_keys(st, c2, &seal), STORE_KEYS_MISMATCH,
	    "a version whose check value differs: mismatch");
	store_close(st);
	crypto_close(c1);
	crypto_close(c2);
	tap_rmtree(dir);
}

int
main(void)
{
	if (crypto_init() == -1)
		bail_out("crypto_init");
	test_parse();
	test_check();
	test_versions();
	return done();
}
