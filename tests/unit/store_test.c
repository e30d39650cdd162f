/*
 * store: the SQLite store in a private directory, with fixed clock values
 * passed in, and a clock of the test's for the claim (the one decision the
 * store times itself).
 */
#include "config.h"

#include <sys/wait.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#include "tap.h"

#define T0	1700000000LL	/* "now" of these tests */
#define TTL	3600LL

extern const char *const store_migrations[];

static char dir[1024], path[1100], err[512];

/* A row id made of one repeated byte: n names the secret, n|0x80 its meta. */
static void
id_of(int n, unsigned char id[CRYPTO_ID_LEN])
{
	memset(id, n, CRYPTO_ID_LEN);
}

/*
 * Create secret n (created at t, living ttl; its metadata 2 * ttl) for
 * customer cust (0: anonymous).  0 or -1.
 */
static int
create(struct store *st, int n, long long t, long long ttl, long long cust,
    int with_salt)
{
	struct store_secret sec;
	struct store_meta m;
	int rc;

	memset(&sec, 0, sizeof(sec));
	memset(&m, 0, sizeof(m));
	id_of(n, sec.id);
	buf_printf(&sec.sealed, "sealed value %d", n);
	if (with_salt) {
		sec.has_salt = 1;
		memset(sec.salt, 0xa5, sizeof(sec.salt));
	}
	sec.expires = t + ttl;
	id_of(n | 0x80, m.id);
	id_of(n, m.secret_id);
	m.customer_id = cust;
	snprintf(m.custid, sizeof(m.custid), "%s", cust ? "c@example.com" :
	    "anon");
	memset(m.sealed_skey, 's', 73);
	m.sealed_skey_len = 73;
	if (cust) {
		memset(m.wrapped_key, 'w', 73);
		m.wrapped_key_len = 73;
	}
	m.ttl = ttl;
	m.state = STATE_NEW;
	m.passphrase = with_salt;
	snprintf(m.recipient, sizeof(m.recipient), "%s", cust ?
	    "bo*****@e*****.org" : "");
	m.created = m.updated = t;
	m.secret_expires = t + ttl;
	m.expires = t + 2 * ttl;
	rc = store_create(st, &sec, &m, NULL, NULL);
	buf_free(&sec.sealed);
	return rc;
}

/* The state of metadata n at now, or -1 when it is gone. */
static int
state_at(struct store *st, int n, long long now)
{
	unsigned char id[CRYPTO_ID_LEN];
	struct store_meta m;

	id_of(n | 0x80, id);
	return store_meta_get(st, id, now, &m) == 1 ? (int)m.state : -1;
}

static int
secret_at(struct store *st, int n, long long now)
{
	unsigned char id[CRYPTO_ID_LEN];
	struct store_secret s;
	int rc;

	memset(&s, 0, sizeof(s));
	id_of(n, id);
	rc = store_secret_get(st, id, now, &s);
	buf_free(&s.sealed);
	return rc;
}

/* The store's clock in these tests: what claim() last set. */
static long long clock_now;

static long long
test_clock(void)
{
	return clock_now;
}

/* Claim secret n with the store's clock at now; the stamp must be now. */
static int
claim(struct store *st, int n, long long now, enum store_state to)
{
	unsigned char id[CRYPTO_ID_LEN];
	long long at = -1;
	int rc;

	id_of(n, id);
	clock_now = now;
	store_set_clock(st, test_clock);
	rc = store_secret_claim(st, id, to, &at);
	if (at != now)
		diag("claim stamped %lld, clock said %lld", at, now);
	return at == now ? rc : -2;
}

static int
viewed(struct store *st, int n, long long now)
{
	unsigned char id[CRYPTO_ID_LEN];

	id_of(n | 0x80, id);
	return store_meta_viewed(st, id, now);
}

static void
test_open(struct store **stp)
{
	char p2[1100];

	snprintf(p2, sizeof(p2), "%s/missing.db", dir);
	ok(store_open(p2, 0, err, sizeof(err)) == NULL,
	    "store_open without create needs the file");
	ok(access(p2, F_OK) == -1, "and does not make it");
	*stp = store_open(path, 1, err, sizeof(err));
	if (!ok(*stp != NULL, "store_open with create"))
		bail_out("store_open: %s", err);
	is_int(tap_mode(path), 0600, "database file mode 0600");
	store_close(NULL);
}

static void
test_check_key(struct store *st)
{
	unsigned char a[CRYPTO_ID_LEN], b[CRYPTO_ID_LEN];

	memset(a, 1, sizeof(a));
	memset(b, 1, sizeof(b));
	b[CRYPTO_ID_LEN - 1] = 2;
	is_int(store_check_key(st, a), 1, "check_key records the first value");
	is_int(store_check_key(st, a), 1, "check_key: same value matches");
	is_int(store_check_key(st, b), 0, "check_key: other value mismatches");
	is_int(store_check_key(st, a), 1, "the recorded value was kept");
}

static void
test_secret(struct store *st)
{
	unsigned char id[CRYPTO_ID_LEN];
	struct store_secret s;
	struct store_meta m;

	is_int(create(st, 1, T0, TTL, 0, 1), 0, "store_create");
	is_int(create(st, 1, T0, TTL, 0, 0), -1, "duplicate secret refused");

	memset(&s, 0, sizeof(s));
	id_of(1, id);
	is_int(store_secret_get(st, id, T0, &s), 1, "secret_get");
	is_str(s.sealed.data, "sealed value 1", "sealed bytes round trip");
	ok(s.has_salt && s.salt[0] == 0xa5 && s.salt[CRYPTO_SALT_LEN - 1] ==
	    0xa5, "salt round trip");
	is_int(s.expires, T0 + TTL, "expires");
	ok(memcmp(s.id, id, CRYPTO_ID_LEN) == 0, "id filled");
	buf_free(&s.sealed);
	id_of(99, id);
	is_int(store_secret_get(st, id, T0, &s), 0, "unknown secret");

	id_of(0x81, id);
	is_int(store_meta_get(st, id, T0, &m), 1, "meta_get");
	is_str(m.custid, "anon", "custid");
	is_int(m.ttl, TTL, "ttl");
	is_int(m.passphrase, 1, "passphrase flag");
	is_int((long long)m.sealed_skey_len, 73, "sealed_skey length");
	is_int((long long)m.wrapped_key_len, 0, "anonymous: no wrapped key");
	is_int(m.customer_id, 0, "anonymous: customer 0");
	ok(m.secret_id[0] == 1, "secret_id");
	is_int(m.state, STATE_NEW, "state new");
	is_int(m.secret_expires, T0 + TTL, "secret_expires");
	is_int(m.expires, T0 + 2 * TTL, "metadata expires after 2 x ttl");
	id_of(0xff, id);
	is_int(store_meta_get(st, id, T0, &m), 0, "unknown metadata");

	/* a failing create leaves nothing behind: secret 2 with meta 0x81 */
	{
		struct store_secret sec;
		struct store_meta dup;

		memset(&sec, 0, sizeof(sec));
		id_of(2, sec.id);
		buf_puts(&sec.sealed, "x");
		sec.expires = T0 + TTL;
		id_of(0x81, id);
		store_meta_get(st, id, T0, &dup);
		dup.secret_id[0] = 2;
		is_int(store_create(st, &sec, &dup, NULL, NULL), -1,
		    "duplicate metadata refused");
		is_int(secret_at(st, 2, T0), 0,
		    "and its secret was rolled back");
		buf_free(&sec.sealed);
	}

	is_int(viewed(st, 1, T0 + 1), 1, "new -> viewed");
	is_int(viewed(st, 1, T0 + 2), 0, "viewed only once");
	is_int(state_at(st, 1, T0 + 2), STATE_VIEWED, "state viewed");
	id_of(0x81, id);
	store_meta_get(st, id, T0 + 2, &m);
	is_int(m.updated, T0 + 1, "viewed sets updated");

	is_int(claim(st, 1, T0 + 10, STATE_RECEIVED), 1, "claim");
	is_int(claim(st, 1, T0 + 10, STATE_RECEIVED), 0, "second claim loses");
	is_int(claim(st, 1, T0 + 11, STATE_BURNED), 0,
	    "burn after claim loses");
	is_int(secret_at(st, 1, T0 + 10), 0, "claimed secret is gone");
	store_meta_get(st, id, T0 + 20, &m);
	is_int(m.state, STATE_RECEIVED, "viewed -> received");
	is_int(m.received, T0 + 10, "received time");
	is_int(m.updated, T0 + 10, "updated at the claim");
	is_int(viewed(st, 1, T0 + 20), 0, "received never goes back to viewed");
	is_int(state_at(st, 1, T0 + TTL + 1), STATE_RECEIVED,
	    "received stays received after the secret's ttl");

	is_int(create(st, 3, T0, TTL, 0, 0), 0, "secret 3");
	is_int(claim(st, 3, T0 + 5, STATE_BURNED), 1, "burn");
	is_int(state_at(st, 3, T0 + 5), STATE_BURNED, "new -> burned");
	is_int(viewed(st, 3, T0 + 6), 0, "burned never goes back to viewed");
}

static void
test_expiry(struct store *st)
{
	create(st, 4, T0, TTL, 0, 0);
	is_int(secret_at(st, 4, T0 + TTL - 1), 1, "secret lives until expires");
	is_int(secret_at(st, 4, T0 + TTL), 0, "not returned at now == expires");
	is_int(claim(st, 4, T0 + TTL, STATE_RECEIVED), 0,
	    "not claimable at now == expires");
	is_int(claim(st, 4, T0 + TTL + 100, STATE_BURNED), 0,
	    "not burnable after expiry");
	is_int(state_at(st, 4, T0 + TTL - 1), STATE_NEW, "new before expiry");
	is_int(state_at(st, 4, T0 + TTL), STATE_EXPIRED,
	    "expired derived when secret_expires <= now");
	is_int(viewed(st, 4, T0 + TTL), 0, "an expired secret is not viewed");
	is_int(state_at(st, 4, T0 + 2 * TTL - 1), STATE_EXPIRED,
	    "metadata lives until its own expiry");
	is_int(state_at(st, 4, T0 + 2 * TTL), -1,
	    "metadata gone after expires");

	create(st, 5, T0, TTL, 0, 0);
	viewed(st, 5, T0 + 1);
	is_int(state_at(st, 5, T0 + TTL), STATE_EXPIRED,
	    "viewed also becomes expired");
}

static void
test_attempts(struct store *st)
{
	unsigned char id[CRYPTO_ID_LEN];
	int i, reserved = 0;
	long long fails = 0;

	create(st, 6, T0, TTL, 0, 1);
	id_of(6, id);
	for (i = 0; i < 8; i++)
		if (store_attempt_reserve(st, id, T0, 5, 1800) == 1)
			reserved++;
	is_int(reserved, 5, "at most lock_after attempts reserved");
	is_int(store_attempt_reserve(st, id, T0, 5, 1800), 2, "then locked");
	for (i = 0; i < 5; i++)
		fails = store_attempt_failed(st, id, T0 + 1, 5, 1800);
	is_int(fails, 5, "failures counted");
	is_int(store_attempt_reserve(st, id, T0 + 1800, 5, 1800), 2,
	    "locked until lock_time after the last failure");
	is_int(store_attempt_reserve(st, id, T0 + 1801, 5, 1800), 1,
	    "a new window after the lock");
	is_int(store_attempt_failed(st, id, T0 + 1802, 5, 1800), 6,
	    "failures add up across windows");
	id_of(98, id);
	is_int(store_attempt_reserve(st, id, T0, 5, 1800), 0, "unknown secret: 0");
	id_of(6, id);
	is_int(store_attempt_reserve(st, id, T0 + TTL, 5, 1800), 0,
	    "expired secret: 0");

	/* attempts that never report back (a worker died) lock for a while */
	create(st, 7, T0, TTL, 0, 1);
	id_of(7, id);
	for (i = 0; i < 5; i++)
		store_attempt_reserve(st, id, T0, 5, 1800);
	is_int(store_attempt_reserve(st, id, T0 + 10, 5, 1800), 2,
	    "unreported attempts: locked");
	is_int(store_attempt_reserve(st, id, T0 + 1809, 5, 1800), 2,
	    "until lock_time after the first refusal");
	is_int(store_attempt_reserve(st, id, T0 + 1810, 5, 1800), 1,
	    "then a new window");
}

struct seen {
	int	 n;
	int	 first[8];	/* first byte of secret_id, in order */
	int	 stop_after;
};

static int
collect(void *arg, const struct store_meta *m)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->first[s->n] = m->secret_id[0];
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -1 : 0;
}

static void
test_recent(struct store *st)
{
	struct store_customer c1, c2;
	struct seen s;

	memset(&c1, 0, sizeof(c1));
	snprintf(c1.custid, sizeof(c1.custid), "one@example.com");
	snprintf(c1.plan, sizeof(c1.plan), "basic");
	c2 = c1;
	snprintf(c2.custid, sizeof(c2.custid), "two@example.com");
	store_customer_add(st, &c1);
	store_customer_add(st, &c2);
	store_customer_get(st, c1.custid, &c1);
	store_customer_get(st, c2.custid, &c2);

	create(st, 10, T0, TTL, c1.id, 0);
	create(st, 11, T0 + 20, TTL, c1.id, 0);
	create(st, 12, T0 + 10, TTL, c1.id, 0);
	create(st, 13, T0 + 10, TTL, c1.id, 0);
	create(st, 14, T0 + 30, TTL, c2.id, 0);
	create(st, 15, T0 + 40, TTL, 0, 0);
	create(st, 16, T0 - 2 * TTL, TTL, c1.id, 0);	/* expired */

	memset(&s, 0, sizeof(s));
	is_int(store_meta_recent(st, c1.id, 0, T0 + 50, collect, &s), 0,
	    "recent");
	is_int(s.n, 4, "only the customer's live metadata");
	if (!ok(s.first[0] == 11 && s.first[1] == 13 && s.first[2] == 12 &&
	    s.first[3] == 10, "newest first, ties by creation order"))
		diag("order: %d %d %d %d", s.first[0], s.first[1], s.first[2],
		    s.first[3]);
	memset(&s, 0, sizeof(s));
	store_meta_recent(st, c1.id, T0 + 10, T0 + 50, collect, &s);
	is_int(s.n, 3, "since filters by creation time");
	memset(&s, 0, sizeof(s));
	store_meta_recent(st, c2.id, 0, T0 + 50, collect, &s);
	ok(s.n == 1 && s.first[0] == 14,
	    "the other customer sees only its own");
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	is_int(store_meta_recent(st, c1.id, 0, T0 + 50, collect, &s), -1,
	    "a callback error stops the walk");
	is_int(s.n, 2, "no call after the error");

	claim(st, 11, T0 + 60, STATE_RECEIVED);
	memset(&s, 0, sizeof(s));
	store_meta_recent(st, c1.id, 0, T0 + 60, collect, &s);
	is_int(s.n, 4, "received metadata still listed");
}

static int
list_custids(void *arg, const struct store_customer *c)
{
	struct buf *b = arg;

	return buf_printf(b, "%s ", c->custid);
}

static void
test_customers(struct store *st)
{
	struct store_customer c, out;
	unsigned char h[CRYPTO_ID_LEN];
	struct buf b = { 0 };

	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "zed@example.com");
	snprintf(c.plan, sizeof(c.plan), "pro");
	memset(c.token_hash, 7, sizeof(c.token_hash));
	c.created = T0;
	is_int(store_customer_add(st, &c), 0, "customer_add");
	is_int(store_customer_add(st, &c), 1, "customer_add duplicate: 1");
	is_int(store_customer_get(st, "zed@example.com", &out), 1,
	    "customer_get");
	ok(out.id > 0, "an id was assigned");
	is_str(out.plan, "pro", "plan");
	is_int(out.created, T0, "created");
	ok(memcmp(out.token_hash, c.token_hash, CRYPTO_ID_LEN) == 0,
	    "token hash");
	is_int(store_customer_get(st, "nobody@example.com", &out), 0,
	    "unknown customer");
	memset(h, 9, sizeof(h));
	is_int(store_customer_set_token(st, "zed@example.com", h), 1,
	    "set_token");
	store_customer_get(st, "zed@example.com", &out);
	ok(memcmp(out.token_hash, h, CRYPTO_ID_LEN) == 0, "new token hash");
	is_int(store_customer_set_token(st, "nobody@example.com", h), 0,
	    "set_token of an unknown customer");

	is_int(store_customer_list(st, list_custids, &b), 0, "customer_list");
	is_str(b.data, "one@example.com two@example.com zed@example.com ",
	    "listed in custid order");
	buf_free(&b);
	is_int(store_customer_del(st, "zed@example.com"), 1, "customer_del");
	is_int(store_customer_del(st, "zed@example.com"), 0, "del again: 0");
	is_int(store_customer_get(st, "zed@example.com", &out), 0,
	    "deleted customer is gone");
}

/* Claims of one secret from several processes: exactly one wins. */
/* Rate-limit counters: counted, given back, windows kept apart. */
static void
test_limits(struct store *st)
{
	unsigned char k[CRYPTO_ID_LEN], other[CRYPTO_ID_LEN];
	long long n = -1;

	memset(k, 'L', sizeof(k));
	memset(other, 'M', sizeof(other));
	ok(store_limit_add(st, k, 7, 1, &n) == 0 && n == 1, "first count: 1");
	ok(store_limit_add(st, k, 7, 1, &n) == 0 && n == 2, "second: 2");
	ok(store_limit_add(st, other, 7, 1, &n) == 0 && n == 1,
	    "another key counts apart");
	ok(store_limit_add(st, k, 7, -1, &n) == 0 && n == 1,
	    "one given back: 1");
	ok(store_limit_add(st, k, 7, -1, &n) == 0 && n == 0 &&
	    store_limit_add(st, k, 7, -1, &n) == 0 && n == 0,
	    "giving back never goes below 0");
	ok(store_limit_add(st, k, 7, 1, &n) == 0 && n == 1 &&
	    store_limit_add(st, k, 8, 1, &n) == 0 && n == 1,
	    "a new window starts again at 1");
	ok(store_limit_add(st, k, 7, -1, &n) == 0 && n == 1,
	    "giving back to an older window leaves the new one alone");
	ok(store_limit_add(st, k, 9, -1, &n) == 0 && n == 1 &&
	    store_limit_add(st, k, 8, 1, &n) == 0 && n == 2,
	    "giving back to a window not counted yet changes nothing");
}

static void
test_race(void)
{
	struct store *st;
	pid_t pids[8];
	int i, status, won = 0, lost = 0;

	if ((st = store_open(path, 0, err, sizeof(err))) == NULL ||
	    create(st, 20, T0, TTL, 0, 0) == -1)
		bail_out("race set-up: %s", err);
	store_close(st);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == -1)
			bail_out("fork");
		if (pids[i] == 0) {
			int rc = -1;

			if ((st = store_open(path, 0, err, sizeof(err))) !=
			    NULL)
				rc = claim(st, 20, T0 + 1, STATE_RECEIVED);
			store_close(st);
			_exit(rc == 1 ? 10 : rc == 0 ? 11 : 12);
		}
	}
	for (i = 0; i < 8; i++) {
		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
			won++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 11)
			lost++;
	}
	is_int(won, 1, "8 concurrent claims: exactly one wins");
	is_int(lost, 7, "the others see it gone (no errors)");
}

/* An integer from one SQL query on a raw file (made when missing). */
static long long
sql_int(const char *file, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK) {
		v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) :
		    0;
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/* Run a whole SQL script on a raw file.  0 or -1. */
static int
sql_exec(const char *file, const char *q)
{
	sqlite3 *db;
	int rc = -1;

	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	sqlite3_close(db);
	return rc;
}

static void
test_reopen(void)
{
	struct store *st;
	unsigned char a[CRYPTO_ID_LEN];
	int n;

	for (n = 0; store_migrations[n] != NULL; n++)
		;
	st = store_open(path, 0, err, sizeof(err));
	ok(st != NULL, "reopening an existing database");
	is_int(st ? secret_at(st, 5, T0) : -1, 1, "data survives reopening");
	memset(a, 1, sizeof(a));
	a[CRYPTO_ID_LEN - 1] = 2;
	is_int(st ? store_check_key(st, a) : -1, 0,
	    "check value survives: another key is refused");
	a[CRYPTO_ID_LEN - 1] = 1;
	is_int(st ? store_check_key(st, a) : -1, 1,
	    "check value survives: the key is accepted");
	store_close(st);
	st = store_open(path, 1, err, sizeof(err));
	ok(st != NULL, "open with create on an existing database");
	is_int(st ? secret_at(st, 5, T0) : -1, 1, "and keeps its data");
	store_close(st);
	is_int(sql_int(path, "PRAGMA user_version"), n,
	    "user_version is the number of migrations");
	is_int(sql_int(path, "SELECT count(*) FROM pragma_journal_mode() "
	    "WHERE journal_mode = 'wal'"), 1, "journal mode WAL");
	is_int(tap_mode(path), 0600, "still mode 0600");

	sql_exec(path, "PRAGMA user_version = 999");
	err[0] = '\0';
	st = store_open(path, 0, err, sizeof(err));
	ok(st == NULL, "a database newer than the program is refused");
	ok(strstr(err, "newer") != NULL, "and the error says so");
	store_close(st);
}

/* A database open to others is refused, with the fix in the message. */
static void
test_unsafe(void)
{
	struct store *st;

	chmod(path, 0644);
	st = store_open(path, 0, err, sizeof(err));
	ok(st == NULL, "a database readable by others is refused");
	ok(strstr(err, "chmod 600") != NULL, "and the error says how to fix it");
	store_close(st);
	chmod(path, 0600);
	chmod(dir, 0755);
	st = store_open(path, 0, err, sizeof(err));
	ok(st == NULL, "a state directory open to others is refused");
	ok(strstr(err, "chmod 700") != NULL, "and the error says how to fix it");
	store_close(st);
	chmod(dir, 0700);
}

/* A database at schema version 1 is brought up to date by store_open. */
static void
test_upgrade(void)
{
	char old[1100];
	struct store *st;
	int n;

	for (n = 0; store_migrations[n] != NULL; n++)
		;
	snprintf(old, sizeof(old), "%s/v1.db", dir);
	if (sql_exec(old, store_migrations[0]) == -1 ||
	    sql_exec(old, "PRAGMA user_version = 1; INSERT INTO settings "
	    "(name, value) VALUES ('key_check', x'01')") == -1)
		bail_out("cannot make a version 1 database");
	chmod(old, 0600);
	st = store_open(old, 0, err, sizeof(err));
	if (!ok(st != NULL, "store_open of a version 1 database"))
		diag("%s", err);
	store_close(st);
	is_int(sql_int(old, "PRAGMA user_version"), n,
	    "pending migrations applied");
	is_int(sql_int(old, "SELECT count(*) FROM settings"), 1,
	    "existing rows kept");
}

int
main(void)
{
	struct store *st;

	tap_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ots.db", dir);
	test_open(&st);
	test_check_key(st);
	test_secret(st);
	test_expiry(st);
	test_attempts(st);
	test_recent(st);
	test_customers(st);
	test_limits(st);
	store_close(st);
	test_unsafe();
	test_race();
	test_reopen();
	test_upgrade();
	tap_rmtree(dir);
	return done();
}
