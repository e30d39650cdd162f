/*
 * secret: the life of a secret on a real SQLite file in a private
 * directory, without a web server: create (its checks and its TTL), the
 * receipt, peek, reveal exactly once, passphrases (attempts, lock, burn),
 * burn, expiry decided at the claim by the store's clock, an account's
 * recent receipts, nothing readable at rest, and the gate on passphrase
 * hashes.  The clock is the fixture's, moved by the tests.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "request.h"
#include "secret.h"

#include "fixture.h"

#define SETTINGS \
	"ttl_default = 3600\n" \
	"anon_ttl_max = 86400\n" \
	"anon_size_max = 100\n" \
	"passphrase_min = 4\n" \
	"passphrase_max = 20\n" \
	"passphrase_lock_after = 3\n" \
	"passphrase_lock_time = 600\n" \
	"passphrase_burn_after = 5\n" \
	"scrypt_max = 1\n" \
	"anon_file_size_max = 1000\n" \
	"plan.basic.file_size_max = 5000\n"
#define LOCK_AFTER	3
#define LOCK_TIME	600
#define DAY		86400LL
#define VALUE_CHARS \
	"abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?("

static struct fx f;

static struct caller anon;
static struct buf got;	/* the value of the last reveal */

/* Create value (NULL: generate one) for c at the fixture's time. */
static enum secret_result
create(const struct caller *c, const char *value, const char *pass,
    const char *ttl, const char *recipient, struct secret_made *out)
{
	struct secret_new in;

	memset(&in, 0, sizeof(in));
	in.value = value;
	in.len = value ? strlen(value) : 0;
	in.pass = pass;
	in.plen = pass ? strlen(pass) : 0;
	in.ttl = ttl;
	in.ttl_len = ttl ? strlen(ttl) : 0;
	in.recipient = recipient;
	in.rlen = recipient ? strlen(recipient) : 0;
	return secret_create(&f.x, c, &in, fx_time, out);
}

/* Create, and bail out unless it worked: what the rest of a test needs. */
static void
must_create(const struct caller *c, const char *value, const char *pass,
    const char *ttl, struct secret_made *out)
{
	enum secret_result rc = create(c, value, pass, ttl, NULL, out);

	if (rc != SECRET_OK)
		bail_out("secret_create: %d (%s)", rc, out->message);
}

/* Reveal skey at now with pass (NULL: none); the value lands in got. */
static enum secret_result
reveal_at(const char *skey, const char *pass, long long now)
{
	buf_free(&got);
	return secret_reveal(&f.x, &anon, skey, strlen(skey), pass,
	    pass ? strlen(pass) : 0, now, &got);
}

static enum secret_result
reveal(const char *skey, const char *pass)
{
	return reveal_at(skey, pass, fx_time);
}

static const char *
value(void)
{
	return got.data ? got.data : "";
}

static enum secret_result
burn_at(const char *mkey, const char *pass, long long now,
    struct store_meta *m)
{
	char skey[KEYS_LEN + 1];

	return secret_burn(&f.x, &anon, mkey, strlen(mkey), pass,
	    pass ? strlen(pass) : 0, now, m, skey);
}

/* The receipt of mkey at the fixture's time, unchanged; 0 or -1. */
static int
receipt(const char *mkey, struct store_meta *m)
{
	char skey[KEYS_LEN + 1];

	return secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, m, skey) ==
	    SECRET_OK ? 0 : -1;
}

/* The state of receipt mkey now, or -1 when it is unknown. */
static int
state(const char *mkey)
{
	struct store_meta m;

	return receipt(mkey, &m) == 0 ? (int)m.state : -1;
}

/* A passphrase nobody chose: 16 hex digits. */
static void
new_pass(char pass[33])
{
	fx_random(pass, 8);
}

static void
test_create_value(void)
{
	struct secret_made out;
	char canary[65];

	fx_random(canary, 16);
	is_int(create(&anon, canary, NULL, NULL, NULL, &out), SECRET_OK,
	    "create a value");
	ok(strlen(out.mkey) == KEYS_LEN && keys_valid(out.mkey, KEYS_LEN) &&
	    out.mkey[0] != '0', "metadata key of 31 characters");
	ok(strlen(out.skey) == KEYS_LEN && keys_valid(out.skey, KEYS_LEN) &&
	    out.skey[0] != '0', "secret key of 31 characters");
	ok(strcmp(out.mkey, out.skey) != 0, "two different keys");
	is_str(out.meta.custid, "anon", "anonymous custid");
	is_int(out.meta.customer_id, 0, "no customer");
	is_int((long long)out.meta.wrapped_key_len, 0,
	    "no wrapped key without an account");
	is_int(out.meta.state, STATE_NEW, "state new");
	is_int(out.meta.ttl, 3600, "ttl_default when none is asked");
	is_int(out.meta.created, fx_time, "created now");
	is_int(out.meta.updated, fx_time, "updated now");
	is_int(out.meta.secret_expires, fx_time + 3600, "the secret lives ttl");
	is_int(out.meta.expires, fx_time + 7200, "the receipt lives 2 * ttl");
	is_int(out.meta.passphrase, 0, "no passphrase");
	is_int(fx_mail_rows(&f), 0, "no mail");
	is_int((long long)out.value_len, 0, "nothing generated");
	is_int(state(out.mkey), STATE_NEW, "the receipt is stored, new");
	is_int(reveal(out.skey, NULL), SECRET_OK, "reveal it");
	is_str(value(), canary, "the value comes back as it was given");
	secret_made_clear(&out);
}

/* 1 if s holds only characters of the generator's alphabet. */
static int
generated_chars(const char *s)
{
	return s[strspn(s, VALUE_CHARS)] == '\0';
}

static void
test_create_generated(void)
{
	static const struct {
		const char	*len;
		size_t		 want;
	} t[] = {
		{ NULL, 12 }, { "", 12 }, { "abc", 12 }, { "3", 4 },
		{ "-5", 4 }, { "4", 4 }, { "64", 64 }, { "128", 128 },
		{ "129", 128 }, { "99999999999999999999", 12 },
	};
	struct secret_new in;
	struct secret_made out;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.gen_len = t[i].len;
		in.gen_len_len = t[i].len ? strlen(t[i].len) : 0;
		if (!is_int(secret_create(&f.x, &anon, &in, fx_time, &out),
		    SECRET_OK, "generate, length %s", t[i].len ? t[i].len :
		    "missing"))
			continue;
		ok(out.value_len == t[i].want && strlen(out.value) == t[i].want,
		    "generated %zu characters (want %zu)", out.value_len,
		    t[i].want);
		ok(generated_chars(out.value), "from the generator's alphabet");
		if (i == 0) {
			is_int(reveal(out.skey, NULL), SECRET_OK,
			    "reveal the generated value");
			is_str(value(), out.value, "it is the value shown once");
		}
		secret_made_clear(&out);
	}
}

static void
test_create_size(void)
{
	struct secret_made out;
	struct caller acct;
	char v[102];

	memset(v, 'x', 100);
	v[100] = '\0';
	is_int(create(&anon, v, NULL, NULL, NULL, &out), SECRET_OK,
	    "a value of anon_size_max bytes");
	v[100] = 'x';
	v[101] = '\0';
	is_int(create(&anon, v, NULL, NULL, NULL, &out), SECRET_INVALID,
	    "one byte more is refused");
	is_int(out.status, 413, "intended 413");
	is_str(out.message, "Secret value exceeds the maximum size of 100 "
	    "bytes", "413 message");
	fx_account(&f, "size@example.com", "basic", &acct);
	is_int(create(&acct, v, NULL, NULL, NULL, &out), SECRET_OK,
	    "an account's plan allows more");
	is_int(create(&anon, "", NULL, NULL, NULL, &out), SECRET_INVALID,
	    "an empty secret is refused");
	is_int(out.status, 400, "intended 400");
	is_str(out.message, "You did not provide anything to share",
	    "empty secret message");
	secret_made_clear(&out);
}

static int	db_hits(const char *);

/* Create a file secret of data[0..len) named name for c. */
static enum secret_result
create_file(const struct caller *c, const char *text, const char *name,
    const char *data, size_t len, const char *pass, struct secret_made *out)
{
	struct secret_new in;

	memset(&in, 0, sizeof(in));
	in.value = text;
	in.len = text ? strlen(text) : 0;
	in.file = data;
	in.file_len = len;
	in.file_name = name;
	in.pass = pass;
	in.plen = pass ? strlen(pass) : 0;
	return secret_create(&f.x, c, &in, fx_time, out);
}

static void
test_files(void)
{
	struct secret_made out;
	struct secret_file sf;
	struct caller acct;
	char data[5001], pass[33], name[80], canary[33];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 % 256);
	is_int(create_file(&anon, NULL, "a/../b\"c.txt", data, 1000, NULL,
	    &out), SECRET_OK, "file: anon_file_size_max bytes");
	is_int(reveal(out.skey, NULL), SECRET_OK, "file: revealed");
	is_int(secret_file_parse(got.data, got.len, &sf), 1,
	    "file: the plaintext is a file");
	is_str(sf.name, "a_._b_c.txt", "file: its name sanitised at upload");
	ok(sf.size == 1000 && memcmp(sf.data, data, 1000) == 0,
	    "file: all byte values back, byte-identical");
	is_int(reveal(out.skey, NULL), SECRET_UNKNOWN, "file: once only");
	is_int(create_file(&anon, NULL, "x.bin", data, 1001, NULL, &out),
	    SECRET_INVALID, "file: one byte over anon_file_size_max refused");
	is_int(out.status, 413, "file: over the limit, 413");
	is_str(out.message, "The file is larger than this server takes",
	    "file: over the limit, its message");
	fx_account(&f, "files@example.com", "basic", &acct);
	is_int(create_file(&acct, NULL, "x.bin", data, 5000, NULL, &out),
	    SECRET_OK, "file: the basic plan takes its file_size_max");
	is_int(create_file(&acct, NULL, "x.bin", data, 5001, NULL, &out),
	    SECRET_INVALID, "file: one byte over the plan's refused");
	is_int(create_file(&anon, "text", "x.bin", data, 10, NULL, &out),
	    SECRET_INVALID, "file and text at once refused");
	is_int(out.status, 400, "file and text: 400");
	is_int(create_file(&anon, NULL, "", "", 0, NULL, &out), SECRET_OK,
	    "an empty file (named file)");
	is_int(reveal(out.skey, NULL), SECRET_OK, "empty file: revealed");
	ok(secret_file_parse(got.data, got.len, &sf) == 1 && sf.size == 0 &&
	    strcmp(sf.name, "file") == 0, "empty file: size 0, named file");
	/* with a passphrase; name and content never at rest */
	new_pass(pass);
	fx_random(canary, 16);
	snprintf(name, sizeof(name), "n%s.txt", canary + 16);
	canary[16] = '\0';
	memcpy(data, canary, 16);
	is_int(create_file(&anon, NULL, name, data, 999, pass, &out),
	    SECRET_OK, "file with a passphrase");
	is_int(db_hits(name), 0, "file name: not in the database or its WAL");
	is_int(db_hits(canary), 0, "file content: not in the database");
	is_int(reveal(out.skey, NULL), SECRET_WRONG, "file: needs its "
	    "passphrase");
	is_int(reveal(out.skey, pass), SECRET_OK, "file: with its passphrase");
	ok(secret_file_parse(got.data, got.len, &sf) == 1 &&
	    strcmp(sf.name, name) == 0 && sf.size == 999 &&
	    memcmp(sf.data, data, 999) == 0, "file with passphrase: intact");
	/* text stays text; a broken header is no file */
	must_create(&anon, "plain text", NULL, NULL, &out);
	is_int(reveal(out.skey, NULL), SECRET_OK, "text: revealed");
	ok(secret_file_parse(got.data, got.len, &sf) == 0 &&
	    strcmp(value(), "plain text") == 0, "text: not a file, unchanged");
	is_int(secret_file_parse(SECRET_FILE_MAGIC "\0\5ab", 10, &sf), -1,
	    "a cut file header is malformed");
	is_int(secret_file_parse(SECRET_FILE_MAGIC "\0\1a\0\0\0\0\0\0\0\2x",
	    18, &sf), -1, "a size that does not match is malformed");
	secret_made_clear(&out);
}

static void
test_create_passphrase_rules(void)
{
	struct secret_made out;
	struct secret_new in;
	/* 20 two-byte characters: 40 bytes, within a maximum of 20 */
	static const char e20[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";

	is_int(create(&anon, "v", "abc", NULL, NULL, &out), SECRET_INVALID,
	    "a passphrase of 3 characters is too short");
	is_int(out.status, 400, "intended 400");
	is_str(out.message, "Passphrase must be at least 4 characters long",
	    "minimum message");
	is_int(create(&anon, "v", "\xc3\xa9\xc3\xa9\xc3\xa9", NULL, NULL,
	    &out), SECRET_INVALID, "3 characters in 6 bytes: still too short");
	is_int(create(&anon, "v", "abcdefghijklmnopqrstu", NULL, NULL, &out),
	    SECRET_INVALID, "21 characters are too long");
	is_int(out.status, 400, "intended 400");
	is_str(out.message, "Passphrase must be at most 20 characters long",
	    "maximum message");
	is_int(create(&anon, "v", e20, NULL, NULL, &out), SECRET_OK,
	    "20 characters in 40 bytes: characters count, not bytes");
	is_int(out.meta.passphrase, 1, "the receipt says a passphrase is set");

	f.cf->passphrase_required = 1;
	is_int(create(&anon, "v", NULL, NULL, NULL, &out), SECRET_INVALID,
	    "passphrase_required: none given");
	is_int(out.status, 400, "intended 400");
	is_str(out.message, "A passphrase is required for all secrets",
	    "required message");
	is_int(create(&anon, "v", "", NULL, NULL, &out), SECRET_INVALID,
	    "an empty passphrase is none");
	memset(&in, 0, sizeof(in));
	is_int(secret_create(&f.x, &anon, &in, fx_time, &out), SECRET_INVALID,
	    "generating needs one too");
	is_int(create(&anon, "v", "abcd", NULL, NULL, &out), SECRET_OK,
	    "with one, it is stored");
	f.cf->passphrase_required = 0;
	secret_made_clear(&out);
}

static void
test_create_recipient(void)
{
	struct secret_made out;
	struct caller acct;
	char longaddr[301], want[160];

	is_int(create(&anon, "v", NULL, NULL, "bob@example.org", &out),
	    SECRET_INVALID, "anonymous with a recipient");
	is_int(out.status, 401, "intended 401");
	is_str(out.message, "An account is required to send emails.",
	    "account message");
	is_int(create(&anon, "v", NULL, NULL, "", &out), SECRET_OK,
	    "an empty recipient is none");
	is_int(fx_mail_rows(&f), 0, "and queues no mail");

	fx_account(&f, "rcpt@example.com", "basic", &acct);
	is_int(create(&acct, "v", NULL, NULL, "not an address", &out),
	    SECRET_INVALID, "an invalid address");
	is_int(out.status, 400, "intended 400");
	is_str(out.message, "Undeliverable email address: not an address",
	    "invalid address message");
	memset(longaddr, 'a', 300);
	longaddr[300] = '\0';
	snprintf(want, sizeof(want), "Undeliverable email address: %.80s",
	    longaddr);
	is_int(create(&acct, "v", NULL, NULL, longaddr, &out), SECRET_INVALID,
	    "an overlong address");
	is_str(out.message, want, "its message quotes 80 bytes of it");
	is_int(create(&acct, "v", NULL, NULL, "bob@example.org", &out),
	    SECRET_OK, "an account with a valid recipient");
	is_str(out.meta.recipient, "bo*****@e*****.org",
	    "the receipt holds the address obfuscated");
	is_int(fx_mail_rows(&f), 1, "a mail is queued with the secret");
	is_str(out.meta.custid, "rcpt@example.com", "the account's custid");
	is_int(out.meta.customer_id, acct.cust.id, "the account's id");
	ok(out.meta.wrapped_key_len > 0, "the metadata key wrapped for recent");
	secret_made_clear(&out);
}

static void
test_create_ttl(void)
{
	static const struct {
		const char	*ttl;
		long long	 want;
	} t[] = {
		{ NULL, 3600 }, { "10", 60 }, { "59", 60 }, { "abc", 60 },
		{ "0", 60 }, { "-100", 60 }, { "60", 60 }, { "7200", 7200 },
		{ "86400", 86400 }, { "99999999", 86400 },
	};
	struct secret_made out;
	struct caller acct;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		must_create(&anon, "v", NULL, t[i].ttl, &out);
		is_int(out.meta.ttl, t[i].want, "anonymous ttl %s",
		    t[i].ttl ? t[i].ttl : "missing");
	}
	is_int(out.meta.secret_expires, fx_time + 86400,
	    "the secret expires after the clamped ttl");
	is_int(out.meta.expires, fx_time + 2 * 86400,
	    "the receipt after twice that");
	fx_account(&f, "ttl@example.com", "basic", &acct);
	must_create(&acct, "v", NULL, "99999999", &out);
	is_int(out.meta.ttl, 30 * DAY, "an account: the plan's maximum");
	must_create(&acct, "v", NULL, NULL, &out);
	is_int(out.meta.ttl, 3600, "an account without ttl: the default");
	secret_made_clear(&out);
}

static void
test_receipt(void)
{
	struct secret_made out;
	struct store_meta m;
	char skey[KEYS_LEN + 1], other[KEYS_LEN + 1];
	long long t0 = fx_time;

	must_create(&anon, "v", NULL, NULL, &out);
	is_int(secret_receipt(&f.x, out.mkey, KEYS_LEN, t0, 0, &m, skey),
	    SECRET_OK, "read the receipt");
	is_int(m.state, STATE_NEW, "new");
	is_str(skey, out.skey, "it holds the secret key");
	is_int(secret_receipt(&f.x, out.mkey, KEYS_LEN, t0 + 1, 1, &m, skey),
	    SECRET_OK, "read it marking it viewed");
	is_int(m.state, STATE_NEW, "that answer still says new");
	fx_time = t0 + 2;
	is_int(receipt(out.mkey, &m), 0, "read it again");
	is_int(m.state, STATE_VIEWED, "now viewed");
	is_int(m.updated, t0 + 1, "updated when it was viewed");
	is_int(secret_receipt(&f.x, out.mkey, KEYS_LEN, t0 + 3, 1, &m, skey),
	    SECRET_OK, "viewed again");
	is_int(receipt(out.mkey, &m), 0, "and read");
	is_int(m.updated, t0 + 1, "viewed only once: updated unchanged");
	is_int(reveal(out.skey, NULL), SECRET_OK, "reveal");
	is_int(secret_receipt(&f.x, out.mkey, KEYS_LEN, fx_time, 1, &m, skey),
	    SECRET_OK, "a received receipt read marking it viewed");
	is_int(state(out.mkey), STATE_RECEIVED,
	    "stays received: viewed follows only new");

	keys_new(other);
	is_int(secret_receipt(&f.x, other, KEYS_LEN, fx_time, 0, &m, skey),
	    SECRET_UNKNOWN, "an unknown metadata key");
	is_int(secret_receipt(&f.x, "short", 5, fx_time, 0, &m, skey),
	    SECRET_UNKNOWN, "a malformed metadata key");
	must_create(&anon, "v", NULL, NULL, &out);
	is_int(secret_receipt(&f.x, out.skey, KEYS_LEN, fx_time, 0, &m, skey),
	    SECRET_UNKNOWN, "a secret key does not name a receipt");
	secret_made_clear(&out);
}

static void
test_peek(void)
{
	struct secret_made with, without;
	char pass[33], other[KEYS_LEN + 1];
	int pp = -1;

	new_pass(pass);
	must_create(&anon, "v", pass, NULL, &with);
	must_create(&anon, "w", NULL, NULL, &without);
	is_int(secret_peek(&f.x, with.skey, KEYS_LEN, fx_time, &pp), SECRET_OK,
	    "peek at a secret with a passphrase");
	is_int(pp, 1, "it needs one");
	is_int(secret_peek(&f.x, without.skey, KEYS_LEN, fx_time, &pp),
	    SECRET_OK, "peek at one without");
	is_int(pp, 0, "it needs none");
	is_int(secret_peek(&f.x, without.skey, KEYS_LEN, fx_time, &pp),
	    SECRET_OK, "peek twice");
	is_int(state(without.mkey), STATE_NEW, "the receipt stays new");
	keys_new(other);
	is_int(secret_peek(&f.x, other, KEYS_LEN, fx_time, &pp),
	    SECRET_UNKNOWN, "an unknown key");
	is_int(secret_peek(&f.x, without.mkey, KEYS_LEN, fx_time, &pp),
	    SECRET_UNKNOWN, "a metadata key does not name a secret");
	is_int(secret_peek(&f.x, without.skey, KEYS_LEN,
	    without.meta.secret_expires, &pp), SECRET_UNKNOWN,
	    "not once it has expired");
	is_int(reveal(without.skey, NULL), SECRET_OK,
	    "peeking changed nothing: it reveals");
	is_str(value(), "w", "its value");
	is_int(secret_peek(&f.x, without.skey, KEYS_LEN, fx_time, &pp),
	    SECRET_UNKNOWN, "not once revealed");
	secret_made_clear(&with);
	secret_made_clear(&without);
}

static void
test_reveal_once(void)
{
	struct secret_made out;
	struct store_meta m;
	char other[KEYS_LEN + 1];

	must_create(&anon, "once", NULL, NULL, &out);
	fx_time += 7;
	is_int(reveal(out.skey, NULL), SECRET_OK, "the first reveal");
	is_str(value(), "once", "gets the value");
	is_int(reveal(out.skey, NULL), SECRET_UNKNOWN, "the second");
	is_int((long long)got.len, 0, "gets nothing");
	is_int(receipt(out.mkey, &m), 0, "the receipt");
	is_int(m.state, STATE_RECEIVED, "says received");
	is_int(m.received, fx_time, "received at the claim");
	is_int(m.updated, fx_time, "updated then");
	keys_new(other);
	is_int(reveal(other, NULL), SECRET_UNKNOWN, "an unknown key");
	is_int(reveal("not-a-key", NULL), SECRET_UNKNOWN, "a malformed key");
	is_int(reveal(out.mkey, NULL), SECRET_UNKNOWN,
	    "a metadata key reveals nothing");
	secret_made_clear(&out);
}

/* A missing passphrase answers wrong and costs no attempt. */
static void
test_reveal_missing_passphrase(void)
{
	struct secret_made out;
	char pass[33];
	int i;

	new_pass(pass);
	must_create(&anon, "guarded", pass, NULL, &out);
	for (i = 0; i < LOCK_AFTER + 1; i++)
		if (!is_int(reveal(out.skey, NULL), SECRET_WRONG,
		    "no passphrase, try %d", i + 1))
			break;
	for (i = 0; i < LOCK_AFTER + 1; i++)
		if (!is_int(reveal(out.skey, ""), SECRET_WRONG,
		    "an empty passphrase, try %d", i + 1))
			break;
	is_int((long long)got.len, 0, "reveals nothing");
	is_int(state(out.mkey), STATE_NEW, "the receipt stays new");
	is_int(reveal(out.skey, pass), SECRET_OK,
	    "the right one still works: none of those was an attempt");
	is_str(value(), "guarded", "the value");
	secret_made_clear(&out);
}

/* lock_after wrong passphrases lock the secret for lock_time. */
static void
test_reveal_lock(void)
{
	struct secret_made out;
	char pass[33], wrong[33];
	long long t0;
	int i;

	new_pass(pass);
	new_pass(wrong);
	must_create(&anon, "locked away", pass, NULL, &out);
	t0 = fx_time;
	for (i = 0; i < LOCK_AFTER; i++)
		is_int(reveal(out.skey, wrong), SECRET_WRONG, "wrong passphrase %d",
		    i + 1);
	is_int(reveal(out.skey, pass), SECRET_LOCKED,
	    "then even the right one is locked out");
	is_int((long long)got.len, 0, "and reveals nothing");
	is_int(state(out.mkey), STATE_NEW, "locked is not burned");
	fx_time = t0 + LOCK_TIME - 1;
	is_int(reveal(out.skey, pass), SECRET_LOCKED,
	    "still locked a second before lock_time has passed");
	fx_time = t0 + LOCK_TIME;
	is_int(reveal(out.skey, pass), SECRET_OK, "open again after it");
	is_str(value(), "locked away", "the value");
	secret_made_clear(&out);
}

/* burn_after wrong passphrases (across lock windows) burn the secret. */
static void
test_reveal_burn_after(void)
{
	struct secret_made out;
	struct store_meta m;
	char pass[33], wrong[33];
	int i;

	new_pass(pass);
	new_pass(wrong);
	must_create(&anon, "burn me", pass, NULL, &out);
	for (i = 0; i < LOCK_AFTER; i++)
		is_int(reveal(out.skey, wrong), SECRET_WRONG, "failure %d", i + 1);
	fx_time += LOCK_TIME;
	is_int(reveal(out.skey, wrong), SECRET_WRONG, "failure 4, next window");
	is_int(state(out.mkey), STATE_NEW, "not burned before burn_after");
	fx_time += 3;
	is_int(reveal(out.skey, wrong), SECRET_WRONG, "failure 5");
	is_int(receipt(out.mkey, &m), 0, "the receipt");
	is_int(m.state, STATE_BURNED, "burned at burn_after failures");
	is_int(m.updated, fx_time, "burned then");
	is_int(reveal(out.skey, pass), SECRET_UNKNOWN,
	    "the right passphrase comes too late");
	secret_made_clear(&out);
}

static void
test_burn(void)
{
	struct secret_made out;
	struct store_meta m;
	char skey[KEYS_LEN + 1], pass[33], wrong[33], other[KEYS_LEN + 1];
	long long t0 = fx_time;

	must_create(&anon, "to burn", NULL, NULL, &out);
	fx_time = t0 + 5;
	memset(skey, 0, sizeof(skey));
	is_int(secret_burn(&f.x, &anon, out.mkey, KEYS_LEN, NULL, 0, t0 + 3,
	    &m, skey), SECRET_OK, "burn (request at t+3, claim at t+5)");
	is_int(m.state, STATE_BURNED, "the answer says burned");
	is_int(m.updated, t0 + 5, "stamped with the store's clock at the claim");
	is_str(skey, out.skey, "and names the secret key");
	is_int(receipt(out.mkey, &m), 0, "the stored receipt");
	is_int(m.state, STATE_BURNED, "is burned");
	is_int(m.updated, t0 + 5, "updated at the claim");
	is_int(burn_at(out.mkey, NULL, fx_time, &m), SECRET_UNKNOWN,
	    "a second burn");
	is_int(reveal(out.skey, NULL), SECRET_UNKNOWN, "nothing to reveal");

	new_pass(pass);
	new_pass(wrong);
	must_create(&anon, "guarded", pass, NULL, &out);
	is_int(burn_at(out.mkey, wrong, fx_time, &m), SECRET_WRONG,
	    "burn with a wrong passphrase");
	is_int(burn_at(out.mkey, NULL, fx_time, &m), SECRET_WRONG,
	    "burn without one");
	is_int(state(out.mkey), STATE_NEW, "nothing burned");
	is_int(burn_at(out.mkey, pass, fx_time, &m), SECRET_OK,
	    "burn with the right one");
	is_int(state(out.mkey), STATE_BURNED, "burned");

	must_create(&anon, "v", NULL, NULL, &out);
	is_int(reveal(out.skey, NULL), SECRET_OK, "reveal another");
	is_int(burn_at(out.mkey, NULL, fx_time, &m), SECRET_UNKNOWN,
	    "a received secret cannot be burned");
	is_int(state(out.mkey), STATE_RECEIVED, "it stays received");
	keys_new(other);
	is_int(burn_at(other, NULL, fx_time, &m), SECRET_UNKNOWN,
	    "an unknown receipt");
	secret_made_clear(&out);
}

/*
 * A request that started before the secret expired but claims after it
 * (a slow body, a wait for the lock) finds it gone: the store's clock at
 * the claim decides, not the request's time.
 */
static void
test_expiry_at_claim(void)
{
	struct secret_made out;
	struct store_meta m;
	long long t0 = fx_time;

	must_create(&anon, "short-lived", NULL, "60", &out);
	fx_time = t0 + 61;
	is_int(reveal_at(out.skey, NULL, t0 + 30), SECRET_UNKNOWN,
	    "reveal at t+30 claiming at t+61: unknown");
	is_int((long long)got.len, 0, "no value");
	is_int(receipt(out.mkey, &m), 0, "the receipt at t+61");
	is_int(m.state, STATE_EXPIRED, "says expired");

	fx_time = t0;
	must_create(&anon, "short-lived", NULL, "60", &out);
	fx_time = t0 + 61;
	is_int(burn_at(out.mkey, NULL, t0 + 30, &m), SECRET_UNKNOWN,
	    "burn at t+30 claiming at t+61: unknown");
	is_int(state(out.mkey), STATE_EXPIRED, "the receipt says expired");

	fx_time = t0;
	must_create(&anon, "in time", NULL, "60", &out);
	fx_time = t0 + 40;
	is_int(reveal_at(out.skey, NULL, t0 + 30), SECRET_OK,
	    "reveal at t+30 claiming at t+40");
	is_int(receipt(out.mkey, &m), 0, "the receipt");
	is_int(m.received, t0 + 40, "received is the time of the claim");
	is_int(m.updated, t0 + 40, "so is updated");
	secret_made_clear(&out);
}

struct listing {
	char	 mkey[8][KEYS_LEN + 1];
	char	 custid[8][STORE_CUSTID_MAX + 1];
	int	 n;
};

static void
collect(void *arg, const struct store_meta *m, const char *mkey)
{
	struct listing *l = arg;

	if (l->n < 8) {
		snprintf(l->mkey[l->n], sizeof(l->mkey[0]), "%s", mkey);
		snprintf(l->custid[l->n], sizeof(l->custid[0]), "%s", m->custid);
	}
	l->n++;
}

static int
recent(const struct caller *c, long long days, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	return secret_recent(&f.x, c, fx_time, days, collect, l);
}

static void
test_recent(void)
{
	struct secret_made a[3], b, n, old;
	struct caller alice, bob, stale;
	struct listing l;
	long long t0 = fx_time;
	int i;

	fx_account(&f, "alice@example.com", "basic", &alice);
	fx_account(&f, "bob@example.com", "basic", &bob);
	for (i = 0; i < 3; i++) {
		fx_time = t0 + i;
		must_create(&alice, "a", NULL, NULL, &a[i]);
	}
	must_create(&bob, "b", NULL, NULL, &b);
	must_create(&anon, "n", NULL, NULL, &n);
	fx_time = t0 + 10;
	is_int(recent(&alice, 30, &l), 0, "alice's recent");
	is_int(l.n, 3, "three receipts");
	ok(l.n == 3 && strcmp(l.mkey[0], a[2].mkey) == 0 &&
	    strcmp(l.mkey[1], a[1].mkey) == 0 &&
	    strcmp(l.mkey[2], a[0].mkey) == 0, "newest first");
	is_str(l.custid[0], "alice@example.com", "hers");
	is_int(recent(&bob, 30, &l), 0, "bob's recent");
	is_int(l.n, 1, "one receipt");
	is_str(l.mkey[0], b.mkey, "his");

	stale = alice;
	keys_token(stale.token);
	is_int(recent(&stale, 30, &l), 0, "alice after a new API token");
	is_int(l.n, 0, "receipts wrapped under the old token are left out");

	fx_time = t0 - 31 * DAY;
	must_create(&alice, "old", NULL, "2592000", &old);
	fx_time = t0 + 10;
	is_int(recent(&alice, 30, &l), 0, "with a receipt of 31 days ago");
	is_int(l.n, 3, "30 days leave it out");
	is_int(recent(&alice, 40, &l), 0, "40 days");
	ok(l.n == 4 && strcmp(l.mkey[3], old.mkey) == 0, "take it in, last");
	for (i = 0; i < 3; i++)
		secret_made_clear(&a[i]);
	secret_made_clear(&b);
	secret_made_clear(&n);
	secret_made_clear(&old);
}

/* Occurrences of needle in the file at path (0 when it does not exist). */
static int
hits(const char *path, const char *needle)
{
	struct buf b = { 0 };
	char chunk[8192];
	size_t n, left, len = strlen(needle);
	const char *p, *q;
	FILE *fp;
	int count = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			bail_out("out of memory");
	fclose(fp);
	for (p = b.data, left = b.len; left >= len &&
	    (q = memmem(p, left, needle, len)) != NULL; p = q + 1) {
		count++;
		left -= (size_t)(q + 1 - p);
	}
	buf_free(&b);
	return count;
}

/* Hits of needle in the database and its WAL. */
static int
db_hits(const char *needle)
{
	char wal[1200];

	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	return hits(f.db, needle) + hits(wal, needle);
}

static void
test_at_rest(void)
{
	struct secret_made plain, guarded, mailed, gen;
	struct secret_new in;
	struct caller acct;
	char v1[65], v2[65], v3[65], pass[33], local[17], rcpt[64];
	const struct {
		const char	*what, *s;
	} t[] = {
		{ "the value", v1 },
		{ "the value with a passphrase", v2 },
		{ "the value mailed", v3 },
		{ "the passphrase", pass },
		{ "the generated value", gen.value },
		{ "a secret key", plain.skey },
		{ "a metadata key", plain.mkey },
		{ "the mailed secret key", mailed.skey },
		{ "the mailed metadata key", mailed.mkey },
		{ "the recipient's address", rcpt },
		{ "the API token", acct.token },
	};
	size_t i;

	fx_random(v1, 16);
	fx_random(v2, 16);
	fx_random(v3, 16);
	new_pass(pass);
	fx_random(local, 8);
	snprintf(rcpt, sizeof(rcpt), "r%s@example.org", local);
	fx_account(&f, "rest@example.com", "basic", &acct);
	must_create(&anon, v1, NULL, NULL, &plain);
	must_create(&anon, v2, pass, NULL, &guarded);
	if (create(&acct, v3, NULL, NULL, rcpt, &mailed) != SECRET_OK)
		bail_out("create with a recipient: %s", mailed.message);
	memset(&in, 0, sizeof(in));
	if (secret_create(&f.x, &anon, &in, fx_time, &gen) != SECRET_OK)
		bail_out("generate");
	ok(db_hits("anon") > 0 && db_hits("rest@example.com") > 0,
	    "the scan sees what is stored in the clear (custids)");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(db_hits(t[i].s), 0, "%s: not in the database or its WAL",
		    t[i].what);
	secret_made_clear(&plain);
	secret_made_clear(&guarded);
	secret_made_clear(&mailed);
	secret_made_clear(&gen);
}

/*
 * A gate with one slot, held by another worker: a passphrase to hash is
 * refused at once, as busy, and costs the secret no attempt.
 */
static void
test_gate_busy(void)
{
	struct secret_made out, other_out;
	struct store_meta m;
	struct gate *other;
	char pass[33], err[256];
	int i;

	new_pass(pass);
	must_create(&anon, "behind the gate", pass, NULL, &out);
	if ((other = gate_open(f.cf, err, sizeof(err))) == NULL ||
	    gate_enter(other, "198.51.100.9") != 1)
		bail_out("another gate holding the one slot: %s", err);
	is_int(create(&anon, "v", pass, NULL, NULL, &other_out), SECRET_BUSY,
	    "create with a passphrase: busy");
	is_int(create(&anon, "v", NULL, NULL, NULL, &other_out), SECRET_OK,
	    "create without one needs no slot");
	for (i = 0; i < LOCK_AFTER + 1; i++)
		if (!is_int(reveal(out.skey, pass), SECRET_BUSY,
		    "reveal with the passphrase, try %d: busy", i + 1))
			break;
	is_int((long long)got.len, 0, "reveals nothing");
	is_int(burn_at(out.mkey, pass, fx_time, &m), SECRET_BUSY,
	    "burn with the passphrase: busy");
	is_int(state(out.mkey), STATE_NEW, "the receipt stays new");
	gate_leave(other);
	is_int(reveal(out.skey, pass), SECRET_OK,
	    "the slot given back: it reveals (no busy try was an attempt)");
	is_str(value(), "behind the gate", "the value");
	gate_close(other);
	secret_made_clear(&out);
	secret_made_clear(&other_out);
}

/*
 * A rotation under the life cycle: secrets and receipts of version 1
 * (anonymous, with a passphrase, an account's) still reveal, burn and list
 * once the context seals with version 2, and new ones are version 2.
 * Runs last: it leaves the fixture's key file with two versions.
 */
static void
test_versions(void)
{
	struct secret_made a, b, d, e;
	struct store_meta m;
	struct caller acct;
	struct listing l;
	const struct crypto *seal = NULL;
	unsigned char check[CRYPTO_ID_LEN];
	struct crypto *c2;
	char err[512];
	int v;

	fx_account(&f, "rot@example.com", "basic", &acct);
	must_create(&anon, "one", NULL, NULL, &a);
	must_create(&anon, "two", "pass phrase", NULL, &b);
	must_create(&acct, "three", NULL, NULL, &d);
	if (crypto_keyfile_add(f.key, &v, err, sizeof(err)) == -1 ||
	    (c2 = crypto_open(f.key, err, sizeof(err))) == NULL)
		bail_out("rotate: %s", err);
	crypto_check_value(crypto_find(c2, 2), check);
	if (store_key_add(f.st, 2, check) != 0 ||
	    store_check_keys(f.st, c2, &seal) != STORE_KEYS_MATCH ||
	    crypto_key_version(seal) != 2)
		bail_out("version 2 does not seal");
	f.x.crypto = seal;
	must_create(&anon, "four", NULL, NULL, &e);
	ok(receipt(e.mkey, &m) == 0 && m.key_version == 2,
	    "versions: a new receipt is version 2");
	ok(receipt(a.mkey, &m) == 0 && m.key_version == 1,
	    "an old receipt is still read: version 1");
	ok(reveal(a.skey, NULL) == SECRET_OK && strcmp(value(), "one") == 0,
	    "a version 1 secret reveals under version 2's context");
	is_int(reveal(a.skey, NULL), SECRET_UNKNOWN, "once");
	is_int(reveal(b.skey, "wrong phrase"), SECRET_WRONG,
	    "a version 1 secret: a wrong passphrase is wrong");
	ok(reveal(b.skey, "pass phrase") == SECRET_OK &&
	    strcmp(value(), "two") == 0, "the right one reveals it");
	ok(recent(&acct, 30, &l) == 0 && l.n == 1 &&
	    strcmp(l.mkey[0], d.mkey) == 0, "recent lists the account's "
	    "version 1 receipt");
	is_int(burn_at(d.mkey, NULL, fx_time, &m), SECRET_OK,
	    "a version 1 secret burns by its receipt");
	is_int(reveal(d.skey, NULL), SECRET_UNKNOWN, "and is gone");
	ok(reveal(e.skey, NULL) == SECRET_OK && strcmp(value(), "four") == 0,
	    "the version 2 secret reveals");
	f.x.crypto = f.crypto;
	must_create(&anon, "five", NULL, NULL, &e);
	f.x.crypto = seal;
	ok(reveal(e.skey, NULL) == SECRET_OK && strcmp(value(), "five") == 0,
	    "one a version 1 process made meanwhile reveals too");
	crypto_close(c2);
	f.x.crypto = f.crypto;
	secret_made_clear(&a);
	secret_made_clear(&b);
	secret_made_clear(&d);
	secret_made_clear(&e);
}

/*
 * Request links (request.h): accounts only, the note bounded and read
 * back without change, an answer checked before the request is taken,
 * taken once, stored as the account's secret under the receipt key made
 * at the request, lasting the request's ttl; expired requests refuse.
 */
static void
test_request(void)
{
	struct caller acct;
	struct request_made rq;
	struct secret_made out;
	struct secret_new in;
	struct store_meta m;
	struct buf note = { 0 };
	char skey[KEYS_LEN + 1], big[STORE_NOTE_MAX + 2], val[33];

	fx_account(&f, "req@example.com", "basic", &acct);
	is_int(request_create(&f.x, &anon, "n", 1, NULL, 0, NULL, 0, fx_time,
	    &rq), SECRET_INVALID, "request: anonymous callers are refused");
	is_int(rq.status, 401, "request: 401");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(request_create(&f.x, &acct, big, strlen(big), NULL, 0, NULL, 0,
	    fx_time, &rq), SECRET_INVALID, "request: a note of 501 bytes");
	is_int(request_create(&f.x, &acct, "the note", 8, "600", 3, NULL, 0,
	    fx_time, &rq), SECRET_OK, "request: made");
	ok(rq.ttl == 600 && rq.expires == fx_time + 600 &&
	    keys_valid(rq.rkey, strlen(rq.rkey)) &&
	    keys_valid(rq.mkey, strlen(rq.mkey)), "request: keys and times");
	is_int(secret_receipt(&f.x, rq.mkey, KEYS_LEN, fx_time, 0, &m, skey),
	    SECRET_UNKNOWN, "request: no receipt before the answer");
	is_int(request_peek(&f.x, rq.rkey, KEYS_LEN, fx_time, &note),
	    SECRET_OK, "request: peek");
	ok(note.len == 8 && memcmp(note.data, "the note", 8) == 0,
	    "request: the note read back");
	buf_free(&note);

	memset(&in, 0, sizeof(in));
	in.value = "";
	is_int(request_answer(&f.x, &anon, rq.rkey, KEYS_LEN, &in, fx_time,
	    &out), SECRET_INVALID, "request: an empty answer is refused");
	is_int(request_peek(&f.x, rq.rkey, KEYS_LEN, fx_time, &note),
	    SECRET_OK, "request: and takes nothing");
	buf_free(&note);
	fx_random(val, 16);
	in.value = val;
	in.len = strlen(val);
	is_int(request_answer(&f.x, &anon, rq.rkey, KEYS_LEN, &in, fx_time,
	    &out), SECRET_OK, "request: answered");
	ok(strcmp(out.mkey, rq.mkey) == 0, "request: under the receipt key made "
	    "at the request");
	secret_made_clear(&out);
	is_int(request_answer(&f.x, &anon, rq.rkey, KEYS_LEN, &in, fx_time,
	    &out), SECRET_UNKNOWN, "request: a second answer is refused");
	is_int(request_peek(&f.x, rq.rkey, KEYS_LEN, fx_time, &note),
	    SECRET_UNKNOWN, "request: gone after its answer");
	is_int(secret_receipt(&f.x, rq.mkey, KEYS_LEN, fx_time, 0, &m, skey),
	    SECRET_OK, "request: the receipt opens");
	ok(m.customer_id == acct.cust.id &&
	    strcmp(m.custid, "req@example.com") == 0 && m.ttl == 600,
	    "request: the account's secret, with the request's ttl");
	is_int(reveal(skey, NULL), SECRET_OK, "request: revealed");
	is_str(value(), val, "request: the answer's value");
	is_int(reveal(skey, NULL), SECRET_UNKNOWN, "request: once");

	is_int(request_create(&f.x, &acct, NULL, 0, "60", 2, NULL, 0, fx_time,
	    &rq), SECRET_OK, "request: another, for 60 s");
	fx_time += 61;
	is_int(request_peek(&f.x, rq.rkey, KEYS_LEN, fx_time, &note),
	    SECRET_UNKNOWN, "request: expired: unknown");
	is_int(request_answer(&f.x, &anon, rq.rkey, KEYS_LEN, &in, fx_time,
	    &out), SECRET_UNKNOWN, "request: expired: no answer");
	is_int(request_answer(&f.x, &anon, "short", 5, &in, fx_time, &out),
	    SECRET_UNKNOWN, "request: a malformed key is unknown");
	request_made_clear(&rq);
	buf_free(&note);
}

int
main(void)
{
	fx_open(&f, SETTINGS, NULL);
	fx_anon(&f, &anon);
	test_create_value();
	test_create_generated();
	test_create_size();
	test_files();
	test_create_passphrase_rules();
	test_create_recipient();
	test_create_ttl();
	test_receipt();
	test_peek();
	test_reveal_once();
	test_reveal_missing_passphrase();
	test_reveal_lock();
	test_reveal_burn_after();
	test_burn();
	test_expiry_at_claim();
	test_recent();
	test_at_rest();
	test_gate_busy();
	test_versions();
	test_request();
	buf_free(&got);
	fx_close(&f);
	return done();
}
