/*
 * store: one conformance suite for both engines of the store.  Every
 * behavioural check runs against SQLite (a file in a private directory),
 * then against PostgreSQL when OTS_TEST_PG holds the libpq conninfo of a
 * database the test may make and drop its tables in (tests/unit/pg_run.sh
 * makes a throwaway cluster and sets it); without it the PostgreSQL half
 * is one skipped check.  Checks only one engine can make (SQLite's file
 * modes, WAL, freed bytes, a replaced file; PostgreSQL's killed backends,
 * passwords, a lost sweep lock) run for that engine only.
 *
 * Times: SQLite's tests pass fixed times and give the store a clock of the
 * test's for the claim.  PostgreSQL's claim reads the server's clock,
 * which the test cannot move, so there T0 is the server's time when the
 * engine's run starts, every other time is passed relative to it, and a
 * claim's stamp is checked to lie between two readings of store_ready.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store.h"

#include "tap.h"

#define TTL	3600LL
#define RACERS	16	/* processes in each race */

extern const char *const store_sqlite_migrations[];
extern const char *const store_pg_migrations[];

/* The engine under test. */
struct eng {
	const char	*name;
	int		 pg;
	char		 db[1200];	/* what store_open takes */
	PGconn		*raw;		/* PostgreSQL: the test's session */
};

static char dir[1024], err[512];
static long long T0;		/* "now" of the engine's run */
static long long claimed_at;	/* the last claim's stamp */

/* -- raw access to the database, around the store */

/* PostgreSQL: run q on the test's session.  0 or -1 (diagnosed). */
static int
pg_exec(struct eng *e, const char *q)
{
	PGresult *r = PQexec(e->raw, q);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		diag("raw SQL failed: %s", PQerrorMessage(e->raw));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* PostgreSQL: the integer q returns (-1 on error, 0 without a row). */
static long long
pg_int(struct eng *e, const char *q)
{
	PGresult *r = PQexec(e->raw, q);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		v = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) :
		    0;
	else
		diag("raw SQL failed: %s", PQerrorMessage(e->raw));
	PQclear(r);
	return v;
}

/* SQLite: an integer from one query on a raw file (made when missing). */
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

/* SQLite: run a whole script on a raw file.  0 or -1. */
static int
sql_exec(const char *file, const char *q)
{
	sqlite3 *db;
	char *msg = NULL;
	int rc = -1;

	sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL);
	if (sqlite3_exec(db, q, NULL, NULL, &msg) == SQLITE_OK)
		rc = 0;
	else
		diag("raw SQL failed: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

static long long
raw_int(struct eng *e, const char *q)
{
	return e->pg ? pg_int(e, q) : sql_int(e->db, q);
}

static int
raw_exec(struct eng *e, const char *q)
{
	return e->pg ? pg_exec(e, q) : sql_exec(e->db, q);
}

static long long
raw_version(struct eng *e)
{
	return raw_int(e, e->pg ? "SELECT version FROM schema_version" :
	    "PRAGMA user_version");
}

static int
raw_set_version(struct eng *e, int v)
{
	char q[96];

	snprintf(q, sizeof(q), e->pg ? "UPDATE schema_version SET version = %d"
	    : "PRAGMA user_version = %d", v);
	return raw_exec(e, q);
}

/*
 * An empty database for a new phase: SQLite a new file name (tag.db, not
 * made yet), PostgreSQL its tables dropped.
 */
static void
empty(struct eng *e, const char *tag)
{
	if (!e->pg) {
		snprintf(e->db, sizeof(e->db), "%s/%s.db", dir, tag);
		return;
	}
	if (pg_exec(e, "DROP TABLE IF EXISTS schema_version, settings, "
	    "customer, secret, metadata, mail, ratelimit, master_key, request "
	    "CASCADE")
	    == -1)
		bail_out("cannot empty the PostgreSQL database");
}

/* A store of role on a database with the current schema, made first. */
static struct store *
fresh(struct eng *e, const char *tag, enum store_role role)
{
	struct store *st;
	int from, to;

	empty(e, tag);
	if ((st = store_open(e->db, NULL, STORE_MIGRATOR, err,
	    sizeof(err))) == NULL || store_migrate(st, &from, &to, err,
	    sizeof(err)) == -1)
		bail_out("%s: new database: %s", e->name, err);
	store_close(st);
	if ((st = store_open(e->db, NULL, role, err, sizeof(err))) == NULL)
		bail_out("%s: open: %s", e->name, err);
	return st;
}

/* Kill the store's sessions (application_name ots) from the test's. */
static long long
pg_kill(struct eng *e)
{
	return pg_int(e, "SELECT count(pg_terminate_backend(pid, 5000)) "
	    "FROM pg_stat_activity WHERE datname = current_database() AND "
	    "application_name = 'ots' AND pid <> pg_backend_pid()");
}

/* -- helpers */

/* A row id made of one repeated byte: n names the secret, n|0x80 its meta. */
static void
id_of(int n, unsigned char id[CRYPTO_ID_LEN])
{
	memset(id, n, CRYPTO_ID_LEN);
}

/* The id of the newest outbox row, into *arg. */
static int
newest_mail(void *arg, const struct store_mail *m)
{
	long long *id = arg;

	if (*id == 0 || m->id > *id)
		*id = m->id;
	return 0;
}

/*
 * Create secret n (created at t, living ttl; its metadata 2 * ttl) for
 * customer cust (0: anonymous), with a queued message when mail_id is not
 * NULL.  0 or -1.
 */
/* The master-key version create_mail's rows get (0: the default, 1). */
static int create_version;

static int
create_mail(struct store *st, int n, long long t, long long ttl,
    long long cust, int with_salt, long long *mail_id)
{
	struct store_secret sec;
	struct store_meta m;
	struct store_mail mail;
	int rc;

	memset(&sec, 0, sizeof(sec));
	memset(&m, 0, sizeof(m));
	memset(&mail, 0, sizeof(mail));
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
	sec.key_version = m.key_version = create_version;
	if (mail_id != NULL) {
		memset(mail.rid, n, sizeof(mail.rid));
		buf_printf(&mail.sealed, "mail payload %d", n);
		snprintf(mail.recipient, sizeof(mail.recipient),
		    "bo*****@e*****.org");
		mail.created = t;
		mail.expires = t + ttl;
	}
	rc = store_create(st, &sec, &m, &mail, mail_id ? 1 : 0);
	/* its id: the newest row's */
	if (rc == 0 && mail_id != NULL) {
		*mail_id = 0;
		rc = store_mail_list(st, newest_mail, mail_id);
	}
	buf_free(&sec.sealed);
	buf_free(&mail.sealed);
	return rc;
}

static int
create(struct store *st, int n, long long t, long long ttl, long long cust,
    int with_salt)
{
	return create_mail(st, n, t, ttl, cust, with_salt, NULL);
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

/* SQLite's clock in these tests: what claim() last set. */
static long long clock_now;

static long long
test_clock(void)
{
	return clock_now;
}

/*
 * Claim secret n with the store's clock at now (SQLite; PostgreSQL keeps
 * the server's).  The stamp must lie between the store's clock read just
 * before and just after: now itself with SQLite.  -2 when it does not.
 */
static int
claim(struct store *st, int n, long long now, enum store_state to)
{
	unsigned char id[CRYPTO_ID_LEN];
	long long before = 0, after = 0, at = -1;
	int rc;

	id_of(n, id);
	clock_now = now;
	store_set_clock(st, test_clock);
	if (store_ready(st, &before) == -1)
		return -3;
	rc = store_secret_claim(st, id, to, &at);
	if (store_ready(st, &after) == -1)
		return -3;
	claimed_at = at;
	if (at < before || at > after) {
		diag("claim stamped %lld, the clock said %lld..%lld", at,
		    before, after);
		return -2;
	}
	return rc;
}

/* store_secret_take of secret n at now (the claim's stamp checked as in
 * claim()); its sealed value in *out. */
static int
take(struct store *st, int n, long long now, struct store_secret *out)
{
	unsigned char id[CRYPTO_ID_LEN];
	long long at = -1;
	int rc;

	id_of(n, id);
	clock_now = now;
	store_set_clock(st, test_clock);
	if (store_ready(st, &at) == -1)
		return -3;
	if ((rc = store_secret_take(st, id, out, &at)) == 1 && at != now)
		return -2;
	return rc;
}

static int
viewed(struct store *st, int n, long long now)
{
	unsigned char id[CRYPTO_ID_LEN];

	id_of(n | 0x80, id);
	return store_meta_viewed(st, id, now);
}

/* -- the behaviour both engines share */

static void
test_ready(struct eng *e, struct store *st)
{
	long long now = -1;

	is_str(store_engine(st), e->name, "store_engine names the engine");
	clock_now = T0 + 5;
	store_set_clock(st, test_clock);
	is_int(store_ready(st, &now), 0, "store_ready");
	if (e->pg)
		ok(now >= T0 && now <= (long long)time(NULL) + 5,
		    "store_ready reads the server's clock (a set clock is "
		    "ignored)");
	else
		is_int(now, T0 + 5, "store_ready reads the store's clock");
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

/* The versions the store knows, as "1,2": into out. */
static void
key_versions(struct store *st, char *out, size_t len)
{
	struct store_key k[CRYPTO_VERSIONS_MAX];
	long n, i;
	size_t off = 0;

	out[0] = '\0';
	n = store_key_list(st, k, CRYPTO_VERSIONS_MAX);
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%d",
		    i ? "," : "", k[i].version);
	if (n == -1)
		snprintf(out, len, "error");
}

/*
 * Master-key versions: what ots-admin key list/rotate/retire and the
 * workers' check read and write, and the rows that use each version.
 */
static void
test_keys(struct eng *e)
{
	struct store *st = fresh(e, "keys", STORE_WORKER);
	struct store_key k[CRYPTO_VERSIONS_MAX];
	struct store_key_use u;
	struct store_customer c;
	struct store_meta m;
	unsigned char a[CRYPTO_ID_LEN], b[CRYPTO_ID_LEN], id[CRYPTO_ID_LEN];
	char vs[64];

	if (e->pg && store_ready(st, &T0) == -1)
		bail_out("postgresql: no clock");
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	is_int((int)store_key_list(st, k, CRYPTO_VERSIONS_MAX), 0,
	    "keys: a new database knows no version");
	is_int(store_check_key(st, a), 1, "check_key records version 1");
	key_versions(st, vs, sizeof(vs));
	is_str(vs, "1", "keys: version 1 known");
	ok(store_key_list(st, k, 1) == 1 && memcmp(k[0].check, a,
	    CRYPTO_ID_LEN) == 0, "with its check value");
	is_int(store_key_add(st, 2, b), 0, "key_add: version 2 recorded");
	is_int(store_key_add(st, 2, a), 1, "key_add: a known version is kept");
	ok(store_key_list(st, k, CRYPTO_VERSIONS_MAX) == 2 &&
	    k[1].version == 2 && memcmp(k[1].check, b, CRYPTO_ID_LEN) == 0,
	    "versions ascend, version 2's first check value stays");
	is_int(store_check_key(st, a), 1, "check_key still compares version 1");

	/* rows of each version */
	create(st, 40, T0, TTL, 0, 0);			/* version 1 */
	create_version = 2;
	create(st, 41, T0, TTL, 0, 1);
	create(st, 42, T0, TTL, 0, 0);
	create_version = 0;
	id_of(40 | 0x80, id);
	ok(store_meta_get(st, id, T0, &m) == 1 && m.key_version == 1,
	    "a receipt made without a version reads version 1");
	id_of(41 | 0x80, id);
	ok(store_meta_get(st, id, T0, &m) == 1 && m.key_version == 2,
	    "a receipt of version 2 says so");
	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "keys@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	memset(c.token_hash, 3, sizeof(c.token_hash));
	store_customer_add(st, &c);
	ok(store_customer_get(st, c.custid, &c) == 1 && c.key_version == 1,
	    "an account added without a version is version 1");
	ok(store_key_use(st, 1, &u) == 0 && u.secrets == 1 && u.receipts == 1 &&
	    u.accounts == 1, "use of version 1: 1 secret, 1 receipt, "
	    "1 account (%lld, %lld, %lld)", u.secrets, u.receipts, u.accounts);
	ok(store_key_use(st, 2, &u) == 0 && u.secrets == 2 && u.receipts == 2 &&
	    u.accounts == 0, "use of version 2: 2, 2, 0 (%lld, %lld, %lld)",
	    u.secrets, u.receipts, u.accounts);
	is_int(store_customer_set_token(st, c.custid, b, 2), 1,
	    "a token hash moves to version 2");
	ok(store_customer_get(st, c.custid, &c) == 1 && c.key_version == 2 &&
	    memcmp(c.token_hash, b, CRYPTO_ID_LEN) == 0,
	    "the account reads version 2 and the new hash");
	is_int(claim(st, 40, T0 + 1, STATE_RECEIVED), 1,
	    "version 1's secret revealed");
	ok(store_key_use(st, 1, &u) == 0 && u.secrets == 0 && u.receipts == 1 &&
	    u.accounts == 0, "use of version 1: its receipt only (%lld, %lld, "
	    "%lld)", u.secrets, u.receipts, u.accounts);
	ok(store_key_use(st, 7, &u) == 0 && u.secrets == 0 && u.receipts == 0 &&
	    u.accounts == 0, "use of an unknown version: none");
	is_int(store_key_del(st, 1), 1, "key_del forgets version 1");
	is_int(store_key_del(st, 1), 0, "and then knows it no more");
	key_versions(st, vs, sizeof(vs));
	is_str(vs, "2", "keys: version 2 alone");
	is_int(store_check_key(st, a), 0,
	    "check_key: no version 1 is a mismatch, not a new record");
	store_close(st);
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
	ok(m.sealed_skey[0] == 's' && m.sealed_skey[72] == 's',
	    "sealed_skey round trip");
	is_int((long long)m.wrapped_key_len, 0, "anonymous: no wrapped key");
	is_int(m.customer_id, 0, "anonymous: customer 0");
	ok(m.secret_id[0] == 1 && m.secret_id[CRYPTO_ID_LEN - 1] == 1,
	    "secret_id");
	ok(memcmp(m.id, id, CRYPTO_ID_LEN) == 0, "metadata id");
	is_str(m.recipient, "", "no recipient");
	is_int(m.state, STATE_NEW, "state new");
	is_int(m.created, T0, "created");
	is_int(m.received, 0, "not received");
	is_int(m.secret_expires, T0 + TTL, "secret_expires");
	is_int(m.expires, T0 + 2 * TTL, "metadata expires after 2 x ttl");
	id_of(0xff, id);
	is_int(store_meta_get(st, id, T0, &m), 0, "unknown metadata");

	/* a failing create leaves nothing behind: secret 2 with meta 0x81 */
	{
		struct store_secret sec;
		struct store_meta dup;
		long long mail_id = 0;

		memset(&sec, 0, sizeof(sec));
		id_of(2, sec.id);
		buf_puts(&sec.sealed, "x");
		sec.expires = T0 + TTL;
		id_of(0x81, id);
		store_meta_get(st, id, T0, &dup);
		dup.secret_id[0] = 2;
		is_int(store_create(st, &sec, &dup, NULL, 0), -1,
		    "duplicate metadata refused");
		is_int(secret_at(st, 2, T0), 0,
		    "and its secret was rolled back");
		buf_free(&sec.sealed);
		is_int(create_mail(st, 1, T0, TTL, 0, 0, &mail_id), -1,
		    "a duplicate with mail refused");
	}

	is_int(viewed(st, 1, T0 + 1), 1, "new -> viewed");
	is_int(viewed(st, 1, T0 + 2), 0, "viewed only once");
	is_int(state_at(st, 1, T0 + 2), STATE_VIEWED, "state viewed");
	id_of(0x81, id);
	store_meta_get(st, id, T0 + 2, &m);
	is_int(m.updated, T0 + 1, "viewed sets updated");

	is_int(claim(st, 1, T0 + 10, STATE_RECEIVED), 1, "claim");
	{
		long long at = claimed_at;

		is_int(claim(st, 1, T0 + 10, STATE_RECEIVED), 0,
		    "second claim loses");
		is_int(claim(st, 1, T0 + 11, STATE_BURNED), 0,
		    "burn after claim loses");
		is_int(secret_at(st, 1, T0 + 10), 0, "claimed secret is gone");
		store_meta_get(st, id, T0 + 20, &m);
		is_int(m.state, STATE_RECEIVED, "viewed -> received");
		is_int(m.received, at, "received at the claim's stamp");
		is_int(m.updated, at, "updated at the claim's stamp");
	}
	is_int(viewed(st, 1, T0 + 20), 0, "received never goes back to viewed");
	is_int(state_at(st, 1, T0 + TTL + 1), STATE_RECEIVED,
	    "received stays received after the secret's ttl");

	is_int(create(st, 3, T0, TTL, 0, 0), 0, "secret 3");
	is_int(claim(st, 3, T0 + 5, STATE_BURNED), 1, "burn");
	is_int(state_at(st, 3, T0 + 5), STATE_BURNED, "new -> burned");
	id_of(0x83, id);
	store_meta_get(st, id, T0 + 5, &m);
	is_int(m.received, 0, "a burn is not a receipt");
	is_int(viewed(st, 3, T0 + 6), 0, "burned never goes back to viewed");
}

/*
 * A reveal without a passphrase: the read and the claim in one statement
 * (SQLite); PostgreSQL does not take (0: the caller reads and claims).
 */
static void
test_take(struct eng *e, struct store *st)
{
	unsigned char id[CRYPTO_ID_LEN];
	struct store_secret s;
	struct store_meta m;
	int yes = !e->pg;

	memset(&s, 0, sizeof(s));
	is_int(create(st, 70, T0, TTL, 0, 0) | create(st, 71, T0, TTL, 0, 1) |
	    create(st, 72, T0, 10, 0, 0), 0, "take: three secrets");
	is_int(take(st, 70, T0 + 1, &s), yes, "take a secret without a "
	    "passphrase (%s)", yes ? "taken" : "not this engine's");
	if (yes) {
		is_str(s.sealed.data, "sealed value 70", "take: its sealed value");
		ok(!s.has_salt && s.expires == T0 + TTL, "take: no salt, expires");
		id_of(0x80 | 70, id);
		ok(store_meta_get(st, id, T0 + 2, &m) == 1 &&
		    m.state == STATE_RECEIVED && m.received == T0 + 1,
		    "take: the receipt says received, at the take's stamp");
		is_int(take(st, 70, T0 + 2, &s), 0, "take: a second take loses");
		is_int(claim(st, 70, T0 + 2, STATE_BURNED), 0,
		    "take: a burn after it loses");
	}
	buf_free(&s.sealed);
	is_int(take(st, 71, T0 + 1, &s), 0, "take: a secret with a passphrase "
	    "is not taken");
	is_int(secret_at(st, 71, T0 + 1), 1, "take: and it stays");
	is_int(take(st, 72, T0 + 10, &s), 0, "take: an expired secret is not "
	    "taken");
	is_int(take(st, 99, T0, &s), 0, "take: an unknown secret");
	buf_free(&s.sealed);
}

static void
test_expiry(struct store *st)
{
	long long c = T0 - TTL;	/* created: expires at T0 */

	create(st, 4, c, TTL, 0, 0);
	is_int(secret_at(st, 4, c + TTL - 1), 1, "secret lives until expires");
	is_int(secret_at(st, 4, c + TTL), 0, "not returned at now == expires");
	/* PostgreSQL's clock is past T0 already */
	is_int(claim(st, 4, c + TTL, STATE_RECEIVED), 0,
	    "not claimable at now == expires (the claim's own clock)");
	is_int(claim(st, 4, c + TTL + 100, STATE_BURNED), 0,
	    "not burnable after expiry");
	is_int(state_at(st, 4, c + TTL - 1), STATE_NEW, "new before expiry");
	is_int(state_at(st, 4, c + TTL), STATE_EXPIRED,
	    "expired derived when secret_expires <= now");
	is_int(viewed(st, 4, c + TTL), 0, "an expired secret is not viewed");
	is_int(state_at(st, 4, c + 2 * TTL - 1), STATE_EXPIRED,
	    "metadata lives until its own expiry");
	is_int(state_at(st, 4, c + 2 * TTL), -1,
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
	is_int(store_attempt_reserve(st, id, T0, 5, 1800), 0,
	    "unknown secret: 0");
	is_int(store_attempt_failed(st, id, T0, 5, 1800), 0,
	    "a failure on an unknown secret: 0");
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
	struct store_meta m;
	unsigned char id[CRYPTO_ID_LEN];
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

	id_of(0x8a, id);
	store_meta_get(st, id, T0, &m);
	is_int(m.customer_id, c1.id, "a customer's metadata names it");
	is_int((long long)m.wrapped_key_len, 73, "and has a wrapped key");
	is_str(m.recipient, "bo*****@e*****.org", "recipient round trip");

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

	is_int(store_customer_del(st, c2.custid), 1,
	    "a customer with metadata can be deleted");
	id_of(0x8e, id);
	ok(store_meta_get(st, id, T0, &m) == 1 && m.customer_id == 0,
	    "its metadata stays, with no customer");
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
	is_str(out.custid, "zed@example.com", "custid");
	is_str(out.plan, "pro", "plan");
	is_int(out.created, T0, "created");
	ok(memcmp(out.token_hash, c.token_hash, CRYPTO_ID_LEN) == 0,
	    "token hash");
	is_int(store_customer_get(st, "nobody@example.com", &out), 0,
	    "unknown customer");
	memset(h, 9, sizeof(h));
	is_int(store_customer_set_token(st, "zed@example.com", h, 2), 1,
	    "set_token");
	store_customer_get(st, "zed@example.com", &out);
	ok(memcmp(out.token_hash, h, CRYPTO_ID_LEN) == 0, "new token hash");
	is_int(store_customer_set_token(st, "nobody@example.com", h, 2), 0,
	    "set_token of an unknown customer");

	/* byte order: upper case and '_' before lower case, as SQLite */
	snprintf(c.custid, sizeof(c.custid), "Zed@example.com");
	store_customer_add(st, &c);
	snprintf(c.custid, sizeof(c.custid), "_x@example.com");
	store_customer_add(st, &c);
	is_int(store_customer_list(st, list_custids, &b), 0, "customer_list");
	is_str(b.data, "Zed@example.com _x@example.com one@example.com "
	    "zed@example.com ", "listed in custid byte order");
	buf_free(&b);
	is_int(store_customer_del(st, "zed@example.com"), 1, "customer_del");
	is_int(store_customer_del(st, "zed@example.com"), 0, "del again: 0");
	is_int(store_customer_get(st, "zed@example.com", &out), 0,
	    "deleted customer is gone");
	is_int(store_customer_get(st, "Zed@example.com", &out), 1,
	    "custids differing in case are two customers");
}

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
	memset(k, 'N', sizeof(k));
	ok(store_limit_add(st, k, 7, -1, &n) == 0 && n == 0,
	    "giving back to a new key: 0");
}

struct mails {
	int		 n;
	long long	 ids[8];
	struct store_mail m[8];
};

static int
collect_mail(void *arg, const struct store_mail *m)
{
	struct mails *ms = arg;

	if (ms->n < 8) {
		ms->ids[ms->n] = m->id;
		ms->m[ms->n] = *m;
	}
	ms->n++;
	return 0;
}

/* The queued message: created with its secret, leased, finished. */
static void
test_mail(struct eng *e, struct store *st)
{
	struct store_mail m;
	struct mails ms;
	long long a = 0, b = 0, ids[8];
	int i;

	is_int(create_mail(st, 40, T0, TTL, 0, 0, &a), 0,
	    "create with a message");
	ok(a > 0, "the message has an id");
	is_int(create_mail(st, 41, T0, TTL, 0, 0, &b), 0, "and another");
	ok(b > a, "ids grow");
	is_int(store_mail_due(st, T0 - 1, ids, 8), 0, "not due before created");
	ok(store_mail_due(st, T0, ids, 8) == 2 && ids[0] == a && ids[1] == b,
	    "both due at created, oldest first");
	is_int(store_mail_due(st, T0, ids, 1), 1, "due: at most max");

	memset(&m, 0, sizeof(m));
	is_int(store_mail_take(st, a, T0, 60, &m), 1, "take the lease");
	is_str(m.sealed.data, "mail payload 40", "the payload round trip");
	ok(m.rid[0] == 40 && m.rid[CRYPTO_ID_LEN - 1] == 40, "rid");
	is_int(m.id, a, "id");
	is_str(m.state, "queued", "still queued");
	is_int(m.attempts, 1, "one attempt");
	is_int(m.next_try, T0 + 60, "next_try is the lease's end");
	is_int(m.created, T0, "created");
	is_int(m.expires, T0 + TTL, "expires");
	is_str(m.recipient, "bo*****@e*****.org", "recipient (obfuscated)");
	buf_free(&m.sealed);
	is_int(store_mail_take(st, a, T0 + 59, 60, &m), 0,
	    "no second lease before it ends");
	ok(store_mail_due(st, T0 + 59, ids, 8) == 1 && ids[0] == b,
	    "a leased message is not due");
	memset(&m, 0, sizeof(m));
	is_int(store_mail_take(st, a, T0 + 60, 60, &m), 1,
	    "taken again when the lease ends");
	is_int(m.attempts, 2, "two attempts");
	buf_free(&m.sealed);
	is_int(store_mail_retry(st, a, T0 + 61, T0 + 500, "421 try later"), 0,
	    "retry");
	is_int(store_mail_take(st, a, T0 + 499, 60, &m), 0,
	    "not taken before next_try");
	is_int(store_mail_failed(st, a, T0 + 600, "550 no such user \xff"), 0,
	    "failed (an error that is not UTF-8)");
	is_int(store_mail_take(st, a, T0 + 1000, 60, &m), 0,
	    "a failed message is never taken");
	is_int(store_mail_retry(st, a, T0 + 601, T0 + 700, "x"), 0,
	    "retry of a finished message: no error");
	memset(&m, 0, sizeof(m));
	is_int(store_mail_take(st, b, T0, 60, &m), 1, "take the other");
	buf_free(&m.sealed);
	is_int(store_mail_sent(st, b, T0 + 1), 0, "sent");
	is_int(store_mail_take(st, 999999, T0, 60, &m), 0, "unknown id: 0");

	memset(&ms, 0, sizeof(ms));
	is_int(store_mail_list(st, collect_mail, &ms), 0, "mail_list");
	ok(ms.n == 2 && ms.ids[0] == b && ms.ids[1] == a, "newest first");
	is_str(ms.m[0].state, "sent", "sent");
	is_str(ms.m[0].last_error, "", "no error");
	is_int(ms.m[0].updated, T0 + 1, "updated when sent");
	is_str(ms.m[1].state, "failed", "failed");
	ok(strncmp(ms.m[1].last_error, "550 no such user ", 17) == 0,
	    "the error kept");
	is_int(ms.m[1].attempts, 2, "attempts kept");
	is_int((long long)ms.m[1].sealed.len, 0, "no payload in the list");
	for (i = 0; i < ms.n && i < 8; i++)
		buf_free(&ms.m[i].sealed);
	is_int(raw_int(e, "SELECT count(*) FROM mail WHERE sealed IS NOT NULL"),
	    0, "a finished message's payload is dropped");
}

/* What the sweep told of the receipts it marked expired. */
struct told {
	int	n;
	int	ids[4];		/* id_of's n, while they fit */
	char	custid[4][STORE_CUSTID_MAX + 1];
};

static void
told_expired(void *arg, const unsigned char *secret_id, const char *custid)
{
	struct told *t = arg;

	if (t->n < 4) {
		t->ids[t->n] = secret_id[0] == secret_id[CRYPTO_ID_LEN - 1] ?
		    secret_id[0] : -1;
		snprintf(t->custid[t->n], sizeof(t->custid[0]), "%s", custid);
	}
	t->n++;
}

/* The sweep: what it removes, in batches, and what it leaves. */
static void
test_sweep(struct eng *e, struct store *st)
{
	struct told told = { 0 };
	unsigned char k[CRYPTO_ID_LEN];
	struct store_sweep sw;
	struct store_mail m;
	long long f = 0, g = 0, h = 0, n;
	char q[512];

	create(st, 1, T0 - 2 * TTL, TTL, 0, 0);	/* gone, receipt too */
	create(st, 2, T0 - TTL - 10, TTL, 0, 0);	/* gone, receipt kept */
	create(st, 3, T0, TTL, 0, 0);			/* lives */
	create(st, 5, T0, TTL, 0, 0);
	is_int(claim(st, 5, T0, STATE_RECEIVED), 1, "a received secret");
	create_mail(st, 6, T0 - 100, TTL, 0, 0, &f);
	memset(&m, 0, sizeof(m));
	store_mail_take(st, f, T0 - 100, 60, &m);
	buf_free(&m.sealed);
	store_mail_sent(st, f, T0 - 50);
	create_mail(st, 7, T0, TTL, 0, 0, &g);
	store_mail_failed(st, g, T0 - 10, "550");
	create_mail(st, 8, T0, TTL, 0, 0, &h);
	memset(k, 1, sizeof(k));
	store_limit_add(st, k, 5, 1, &n);
	memset(k, 2, sizeof(k));
	store_limit_add(st, k, 7, 1, &n);
	memset(k, 3, sizeof(k));
	store_limit_add(st, k, 8, 1, &n);
	/* more than a batch of expired secrets */
	if (e->pg)
		snprintf(q, sizeof(q), "INSERT INTO secret (id, sealed, "
		    "expires) SELECT decode(lpad(to_hex(g), 64, '0'), 'hex'), "
		    "'\\x00', %lld FROM generate_series(1, 1500) AS g", T0 - 1);
	else
		snprintf(q, sizeof(q), "WITH RECURSIVE g(x) AS (SELECT 1 "
		    "UNION ALL SELECT x + 1 FROM g WHERE x < 1500) "
		    "INSERT INTO secret (id, sealed, expires) "
		    "SELECT randomblob(32), x'00', %lld FROM g", T0 - 1);
	if (raw_exec(e, q) == -1)
		bail_out("cannot insert expired secrets");

	memset(&sw, 0, sizeof(sw));
	sw.on_expired = told_expired;
	sw.arg = &told;
	is_int(store_sweep(st, T0, T0 - 20, 7, &sw), 0, "store_sweep");
	is_int(sw.expired, 2, "unrevealed receipts past their secret's time: "
	    "marked expired");
	ok(told.n == 2 && ((told.ids[0] == 1 && told.ids[1] == 2) ||
	    (told.ids[0] == 2 && told.ids[1] == 1)) &&
	    strcmp(told.custid[0], "anon") == 0 &&
	    strcmp(told.custid[1], "anon") == 0,
	    "the sweep names each secret it expired, with its account "
	    "(%d told)", told.n);
	is_int(sw.secrets, 1502, "expired secrets deleted (batches of 1000)");
	is_int(sw.metadata, 1, "expired receipts deleted");
	is_int(sw.mail, 1, "mail finished before mail_before deleted");
	is_int(sw.limits, 1, "counters of windows before window deleted");
	is_int(raw_int(e, "SELECT count(*) FROM secret"), 4,
	    "the live secrets stay");
	is_int(raw_int(e, "SELECT count(*) FROM metadata WHERE "
	    "state = 'expired'"), 1, "the expired receipt is stored as such");
	is_int(state_at(st, 3, T0), STATE_NEW, "a live receipt stays new");
	is_int(state_at(st, 5, T0), STATE_RECEIVED, "a received one stays");
	is_int(secret_at(st, 3, T0), 1, "a live secret stays");
	ok(store_mail_due(st, T0, &n, 1) == 1 && n == h,
	    "queued mail stays");
	is_int(raw_int(e, "SELECT count(*) FROM mail"), 2,
	    "mail finished after mail_before stays");
	memset(k, 2, sizeof(k));
	ok(store_limit_add(st, k, 7, 1, &n) == 0 && n == 2,
	    "a counter of the current window stays");
	memset(&sw, 0, sizeof(sw));
	told.n = 0;
	sw.on_expired = told_expired;
	sw.arg = &told;
	is_int(store_sweep(st, T0, T0 - 20, 7, &sw), 0, "sweep again");
	is_int(told.n, 0, "and names none the second time");
	ok(sw.expired == 0 && sw.secrets == 0 && sw.metadata == 0 &&
	    sw.mail == 0 && sw.limits == 0, "nothing left to do");
}

/*
 * Create secret n (created at t, living ttl) for customer cust, with the
 * three outbox rows a create can queue: the recipient's message, an
 * e-mail notice and a webhook notice.  0 or -1.
 */
static int
create_notices(struct store *st, int n, long long t, long long ttl,
    long long cust)
{
	static const enum store_mail_kind kinds[3] = { MAIL_SECRET,
	    MAIL_NOTIFY, MAIL_WEBHOOK };
	struct store_secret sec;
	struct store_meta m;
	struct store_mail mail[3];
	int i, rc;

	memset(&sec, 0, sizeof(sec));
	memset(&m, 0, sizeof(m));
	memset(mail, 0, sizeof(mail));
	id_of(n, sec.id);
	buf_printf(&sec.sealed, "sealed value %d", n);
	sec.expires = t + ttl;
	id_of(n | 0x80, m.id);
	id_of(n, m.secret_id);
	m.customer_id = cust;
	snprintf(m.custid, sizeof(m.custid), "n@example.com");
	memset(m.sealed_skey, 's', 73);
	m.sealed_skey_len = 73;
	m.ttl = ttl;
	m.state = STATE_NEW;
	m.created = m.updated = t;
	m.secret_expires = t + ttl;
	m.expires = t + 2 * ttl;
	for (i = 0; i < 3; i++) {
		mail[i].kind = kinds[i];
		memset(mail[i].rid, n, sizeof(mail[i].rid));
		mail[i].rid[0] = (unsigned char)i;
		buf_printf(&mail[i].sealed, "%s payload %d",
		    store_mail_kind_name(kinds[i]), n);
		snprintf(mail[i].recipient, sizeof(mail[i].recipient), "%s",
		    i == MAIL_WEBHOOK ? "webhook" : "n*****@e*****.com");
		/* what the store takes from the secret, not from here */
		mail[i].created = t - 1;
		mail[i].expires = t - 1;
	}
	rc = store_create(st, &sec, &m, mail, 3);
	buf_free(&sec.sealed);
	for (i = 0; i < 3; i++)
		buf_free(&mail[i].sealed);
	return rc;
}

#define NOTICE_ROWS	16

struct all_mail {
	int		 n;
	struct store_mail m[NOTICE_ROWS];
};

static int
collect_all(void *arg, const struct store_mail *m)
{
	struct all_mail *ms = arg;

	if (ms->n < NOTICE_ROWS)
		ms->m[ms->n] = *m;
	ms->n++;
	return 0;
}

/*
 * The rows of secret n's create, by kind (create_notices puts the kind
 * in the first byte of the delivery id and n in the others).  The number
 * found.
 */
static int
notices_of(struct store *st, int n, struct store_mail out[3])
{
	struct all_mail ms;
	int i, k, found = 0;

	memset(out, 0, 3 * sizeof(*out));
	memset(&ms, 0, sizeof(ms));
	if (store_mail_list(st, collect_all, &ms) == -1)
		return -1;
	if (ms.n > NOTICE_ROWS)
		bail_out("more outbox rows than collected: %d", ms.n);
	for (i = 0; i < ms.n; i++) {
		k = ms.m[i].rid[0];
		if (ms.m[i].rid[1] == n && k < 3) {
			out[k] = ms.m[i];
			found++;
		}
	}
	return found;
}

/* The states (and events) of secret n's three rows in one word. */
static const char *
notice_states(struct store *st, int n, char *out, size_t len)
{
	struct store_mail m[3];
	int i, off = 0;

	if (notices_of(st, n, m) != 3) {
		snprintf(out, len, "missing");
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < 3; i++)
		off += snprintf(out + off, len - (size_t)off, "%s%s%s%s",
		    i ? " " : "", m[i].state, m[i].event[0] ? ":" : "",
		    m[i].event);
	return out;
}

/*
 * Notices: stored waiting with their secret, queued with the event by a
 * claim or by the sweep once the secret expired, never due nor swept
 * while they wait.
 */
static void
test_notices(struct eng *e, struct store *st)
{
	struct store_customer c;
	struct store_mail m[3], t;
	struct store_sweep sw;
	long long ids[8], cust, at;
	char w[96];
	long n;
	int i, due_secret;

	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "n@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	c.created = T0;
	if (store_customer_add(st, &c) != 0 ||
	    store_customer_get(st, c.custid, &c) != 1)
		bail_out("%s: a customer", e->name);
	cust = c.id;

	is_int(create_notices(st, 50, T0, TTL, cust), 0,
	    "create with three outbox rows");
	is_int(notices_of(st, 50, m), 3, "three rows listed");
	ok(m[0].kind == MAIL_SECRET && m[1].kind == MAIL_NOTIFY &&
	    m[2].kind == MAIL_WEBHOOK, "kinds secret, notify, webhook");
	is_str(notice_states(st, 50, w, sizeof(w)), "queued waiting waiting",
	    "the secret's message queued, the notices waiting");
	is_int(m[0].next_try, T0, "the message is due now");
	ok(m[1].next_try == T0 + TTL && m[2].next_try == T0 + TTL,
	    "a notice's time is its secret's expiry");
	for (i = 0; i < 3; i++)
		if (m[i].created != T0 || m[i].expires != T0 + TTL ||
		    m[i].attempts != 0 || m[i].event[0] != '\0')
			break;
	is_int(i, 3, "created with the secret, expiring with it, no event");
	ok(m[0].customer_id == 0 && m[1].customer_id == 0 &&
	    m[2].customer_id == cust, "the webhook has the account");
	is_str(m[2].recipient, "webhook", "recipient as given");
	n = store_mail_due(st, T0 + 100 * TTL, ids, 8);
	ok(n == 1 && ids[0] == m[0].id, "waiting rows are never due");
	memset(&t, 0, sizeof(t));
	is_int(store_mail_take(st, m[1].id, T0 + 100 * TTL, 60, &t), 0,
	    "nor taken");
	buf_free(&t.sealed);

	/* a claim queues its own secret's notices, with the claim's time */
	create_notices(st, 51, T0, TTL, cust);
	create_notices(st, 52, T0, TTL, cust);
	is_int(claim(st, 50, T0 + 5, STATE_RECEIVED), 1, "claim: received");
	at = claimed_at;
	is_str(notice_states(st, 50, w, sizeof(w)),
	    "queued queued:received queued:received",
	    "its notices are queued with the event");
	notices_of(st, 50, m);
	ok(m[1].created == at && m[1].updated == at && m[1].next_try == at &&
	    m[2].created == at && m[2].next_try == at,
	    "at the claim's time");
	is_int(m[0].next_try, T0, "its message is left alone");
	is_str(notice_states(st, 51, w, sizeof(w)), "queued waiting waiting",
	    "another secret's notices still wait");
	n = store_mail_due(st, at, ids, 8);
	due_secret = 0;
	for (i = 0; i < n; i++)
		if (ids[i] == m[1].id || ids[i] == m[2].id)
			due_secret++;
	is_int(due_secret, 2, "the queued notices are due");
	is_int(claim(st, 51, T0 + 6, STATE_BURNED), 1, "claim: burned");
	is_str(notice_states(st, 51, w, sizeof(w)),
	    "queued queued:burned queued:burned", "queued: burned");
	is_int(claim(st, 50, T0 + 7, STATE_BURNED), 0, "a second claim fails");
	is_str(notice_states(st, 50, w, sizeof(w)),
	    "queued queued:received queued:received", "and changes nothing");

	/* expired: a claim fails and queues nothing; the sweep queues */
	create_notices(st, 53, T0 - TTL - 10, TTL, cust);
	is_int(claim(st, 53, T0 + 8, STATE_RECEIVED), 0,
	    "the claim of an expired secret fails");
	is_str(notice_states(st, 53, w, sizeof(w)), "queued waiting waiting",
	    "and queues nothing");
	memset(&sw, 0, sizeof(sw));
	is_int(store_sweep(st, T0 + 20, 0, 0, &sw), 0, "sweep");
	is_int(sw.notices, 2, "the expired secret's two notices");
	is_str(notice_states(st, 53, w, sizeof(w)),
	    "queued queued:expired queued:expired", "queued: expired");
	notices_of(st, 53, m);
	ok(m[1].created == T0 + 20 && m[1].next_try == T0 + 20 &&
	    m[2].created == T0 + 20, "at the sweep's time");
	is_str(notice_states(st, 52, w, sizeof(w)), "queued waiting waiting",
	    "a live secret's notices still wait");
	is_str(notice_states(st, 50, w, sizeof(w)),
	    "queued queued:received queued:received",
	    "a received secret's stay received");
	memset(&sw, 0, sizeof(sw));
	store_sweep(st, T0 + 20, 0, 0, &sw);
	is_int(sw.notices, 0, "swept again: nothing more");

	/* finished rows are swept; waiting ones never */
	for (i = 50; i <= 53; i++) {
		notices_of(st, i, m);
		store_mail_sent(st, m[0].id, T0 + 30);
		if (i != 52) {
			store_mail_failed(st, m[1].id, T0 + 30, "x");
			store_mail_sent(st, m[2].id, T0 + 30);
		}
	}
	memset(&sw, 0, sizeof(sw));
	is_int(store_sweep(st, T0 + 40, T0 + 100 * TTL, 0, &sw), 0,
	    "sweep with every finished row old enough");
	is_int(sw.mail, 4 + 3 * 2, "the finished rows are deleted");
	is_int(raw_int(e, "SELECT count(*) FROM mail"), 2,
	    "the waiting rows stay");
	is_str(notice_states(st, 52, w, sizeof(w)), "missing",
	    "(its message was deleted)");
	notices_of(st, 52, m);
	ok(strcmp(m[1].state, "waiting") == 0 &&
	    strcmp(m[2].state, "waiting") == 0, "the live secret's notices "
	    "wait on");
}

/* The outbox rows of request n (rid[1] == n, rid[0] its index), by index. */
static int
request_mail(struct store *st, int n, struct store_mail out[2])
{
	struct all_mail ms;
	int i, found = 0;

	memset(out, 0, 2 * sizeof(*out));
	memset(&ms, 0, sizeof(ms));
	if (store_mail_list(st, collect_all, &ms) == -1)
		return -1;
	for (i = 0; i < ms.n && i < NOTICE_ROWS; i++)
		if (ms.m[i].rid[1] == n && ms.m[i].rid[0] < 2) {
			out[ms.m[i].rid[0]] = ms.m[i];
			found++;
		}
	return found;
}

/* Add request n (created t, living ttl) for cust, with two notices. */
static int
add_request(struct store *st, int n, long long t, long long ttl,
    long long cust)
{
	struct store_request q;
	struct store_mail mail[2];
	int i, rc;

	memset(&q, 0, sizeof(q));
	memset(mail, 0, sizeof(mail));
	id_of(n, q.id);
	q.id[0] = 'r';
	buf_printf(&q.sealed, "sealed request %d", n);
	q.customer_id = cust;
	q.created = t;
	q.expires = t + ttl;
	for (i = 0; i < 2; i++) {
		mail[i].kind = i == 0 ? MAIL_NOTIFY : MAIL_WEBHOOK;
		memset(mail[i].rid, n, sizeof(mail[i].rid));
		mail[i].rid[0] = (unsigned char)i;
		buf_printf(&mail[i].sealed, "notice %d/%d", n, i);
		snprintf(mail[i].recipient, sizeof(mail[i].recipient), "%s",
		    i == 0 ? "n*****@e*****.com" : "webhook");
	}
	rc = store_request_add(st, &q, mail, 2);
	buf_free(&q.sealed);
	for (i = 0; i < 2; i++)
		buf_free(&mail[i].sealed);
	return rc;
}

/* Take request n with SQLite's clock at now; the stamp into *at. */
static int
take_request(struct store *st, int n, long long now, struct store_request *q,
    long long *at)
{
	unsigned char id[CRYPTO_ID_LEN];

	id_of(n, id);
	id[0] = 'r';
	clock_now = now;
	store_set_clock(st, test_clock);
	if (store_ready(st, at) == -1)
		return -3;
	return store_request_take(st, id, q, at);
}

/*
 * Request links: stored with their notices waiting, read without change,
 * taken once (the notices queued as answered), refused once expired and
 * swept (their notices queued as expired).
 */
static void
test_requests(struct eng *e, struct store *st)
{
	struct store_customer c;
	struct store_request q;
	struct store_mail m[2];
	struct store_sweep sw;
	unsigned char id[CRYPTO_ID_LEN];
	long long ids[8], at = 0;
	long n;
	int i, due;

	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "q@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	c.created = T0;
	if (store_customer_add(st, &c) != 0 ||
	    store_customer_get(st, c.custid, &c) != 1)
		bail_out("%s: a customer", e->name);
	is_int(add_request(st, 70, T0, TTL, c.id), 0, "request: added");
	memset(&q, 0, sizeof(q));
	id_of(70, id);
	id[0] = 'r';
	is_int(store_request_get(st, id, T0 + 1, &q), 1, "request: read");
	ok(q.sealed.len == strlen("sealed request 70") &&
	    memcmp(q.sealed.data, "sealed request 70", q.sealed.len) == 0,
	    "request: its sealed blob");
	ok(q.customer_id == c.id && q.created == T0 && q.expires == T0 + TTL &&
	    q.key_version == 1, "request: account, times, key version 1");
	buf_free(&q.sealed);
	is_int(store_request_get(st, id, T0 + TTL, &q), 0,
	    "request: unknown once expired");
	is_int(store_request_get(st, id, T0 + 2, &q), 1,
	    "request: a read changes nothing");
	buf_free(&q.sealed);
	is_int(request_mail(st, 70, m), 2, "request: two notices");
	ok(strcmp(m[0].state, "waiting") == 0 &&
	    strcmp(m[1].state, "waiting") == 0 && m[0].next_try == T0 + TTL,
	    "request: they wait until its expiry");
	ok(m[0].kind == MAIL_NOTIFY && m[1].kind == MAIL_WEBHOOK &&
	    m[1].customer_id == c.id, "request: kinds, the webhook's account");
	n = store_mail_due(st, T0 + 10, ids, 8);
	is_int(n, 0, "request: waiting notices are not due");

	memset(&q, 0, sizeof(q));
	is_int(take_request(st, 70, T0 + 5, &q, &at), 1, "request: taken");
	ok(q.sealed.len == strlen("sealed request 70") &&
	    memcmp(q.sealed.data, "sealed request 70", q.sealed.len) == 0 &&
	    q.customer_id == c.id && q.expires == T0 + TTL,
	    "request: the take returns the row");
	buf_free(&q.sealed);
	ok(e->pg ? at >= T0 : at == T0 + 5, "request: stamped by the clock");
	request_mail(st, 70, m);
	ok(strcmp(m[0].state, "queued") == 0 &&
	    strcmp(m[0].event, "answered") == 0 &&
	    strcmp(m[1].state, "queued") == 0 &&
	    strcmp(m[1].event, "answered") == 0,
	    "request: its notices queued as answered");
	ok(m[0].next_try == at && m[0].created == at, "at the take's time");
	n = store_mail_due(st, at, ids, 8);
	for (due = 0, i = 0; i < n; i++)
		due += ids[i] == m[0].id || ids[i] == m[1].id;
	is_int(due, 2, "request: and due");
	is_int(take_request(st, 70, T0 + 6, &q, &at), 0,
	    "request: a second take fails");
	is_int(store_request_get(st, id, T0 + 6, &q), 0,
	    "request: gone after the take");

	/* expired: the take fails, the sweep deletes it and queues */
	add_request(st, 71, T0 - TTL - 10, TTL, c.id);
	add_request(st, 72, T0, TTL, c.id);
	is_int(take_request(st, 71, T0 + 7, &q, &at), 0,
	    "request: an expired one is not taken");
	request_mail(st, 71, m);
	ok(strcmp(m[0].state, "waiting") == 0, "request: nor its notices");
	memset(&sw, 0, sizeof(sw));
	is_int(store_sweep(st, T0 + 20, 0, 0, &sw), 0, "request: sweep");
	is_int(sw.requests, 1, "request: the expired request swept");
	is_int(raw_int(e, "SELECT count(*) FROM request"), 1,
	    "request: the live one stays");
	request_mail(st, 71, m);
	ok(strcmp(m[0].event, "expired") == 0 &&
	    strcmp(m[1].event, "expired") == 0,
	    "request: its notices queued as expired");
	request_mail(st, 72, m);
	ok(strcmp(m[0].state, "waiting") == 0,
	    "request: the live one's still wait");
	id_of(99, id);
	is_int(store_request_take(st, id, &q, &at), 0,
	    "request: an unknown one is not taken");
}

/* An account's notices and webhook: stored, read back both ways, cleared. */
static void
test_customer_notify(struct store *st)
{
	struct store_customer c, a, b;
	size_t i;

	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "hook@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	c.created = T0;
	is_int(store_customer_add(st, &c), 0, "a customer");
	store_customer_get(st, c.custid, &a);
	ok(a.notify == 0 && a.webhook_url[0] == '\0' &&
	    a.webhook_key_len == 0, "no notices, no webhook at first");
	c.id = a.id;
	c.notify = NOTIFY_EMAIL | NOTIFY_WEBHOOK;
	snprintf(c.webhook_url, sizeof(c.webhook_url),
	    "https://hooks.example/ots?x=1");
	for (i = 0; i < 80; i++)
		c.webhook_key[i] = (unsigned char)(i * 7 + 1);
	c.webhook_key[5] = 0;
	c.webhook_key_len = 80;
	is_int(store_customer_set_notify(st, &c), 1, "set_notify");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	is_int(store_customer_get(st, c.custid, &a), 1, "customer_get");
	is_int(store_customer_by_id(st, c.id, &b), 1, "customer_by_id");
	is_int(a.notify, NOTIFY_EMAIL | NOTIFY_WEBHOOK, "notify");
	is_str(a.webhook_url, c.webhook_url, "webhook_url");
	ok(a.webhook_key_len == 80 && memcmp(a.webhook_key, c.webhook_key,
	    80) == 0, "webhook_key, byte for byte");
	ok(b.id == a.id && strcmp(b.custid, a.custid) == 0 &&
	    b.notify == a.notify && strcmp(b.webhook_url, a.webhook_url) ==
	    0 && b.webhook_key_len == a.webhook_key_len && memcmp(b.webhook_key,
	    a.webhook_key, a.webhook_key_len) == 0 && strcmp(b.plan, "basic")
	    == 0 && b.created == T0, "by id: the same customer");
	c.notify = NOTIFY_EMAIL;
	c.webhook_url[0] = '\0';
	c.webhook_key_len = 0;
	is_int(store_customer_set_notify(st, &c), 1, "clear the webhook");
	memset(&a, 0, sizeof(a));
	store_customer_by_id(st, c.id, &a);
	ok(a.notify == NOTIFY_EMAIL && a.webhook_url[0] == '\0' &&
	    a.webhook_key_len == 0, "cleared, notify kept");
	c.notify = 0;
	store_customer_set_notify(st, &c);
	store_customer_get(st, c.custid, &a);
	is_int(a.notify, 0, "notify cleared");
	snprintf(c.custid, sizeof(c.custid), "nobody@example.com");
	is_int(store_customer_set_notify(st, &c), 0,
	    "set_notify of an unknown customer: 0");
	is_int(store_customer_by_id(st, a.id + 1000, &b), 0,
	    "customer_by_id of an unknown id: 0");
}

static void
test_scrub(struct eng *e, struct store *st)
{
	struct store_scrub sc;

	memset(&sc, 0, sizeof(sc));
	is_int(store_scrub(st, 0, &sc), 0, "scrub");
	ok(sc.size > 0, "reports the store's size");
	is_int(sc.rebuilt, 0, "not rebuilt above rebuild_max");
	memset(&sc, 0, sizeof(sc));
	is_int(store_scrub(st, INT64_MAX, &sc), 0, "scrub, any size");
	ok(sc.size > 0, "reports the size after");
	/* PostgreSQL leaves that to autovacuum: see store_pg.c */
	is_int(sc.rebuilt, e->pg ? 0 : 1, e->pg ?
	    "PostgreSQL never rebuilds" : "SQLite rebuilds up to rebuild_max");
}

/* -- races: processes with a store each, let go at once */

typedef int (*racer)(struct store *, int);

/*
 * Run fn(store, i) in RACERS processes, each with its own store of role,
 * all let go together once every one is open.  counts[r + 1] counts the
 * results r in -1..2; counts[4] anything else (a crash, a bad stamp).
 */
static void
race(struct eng *e, enum store_role role, racer fn, int counts[5])
{
	pid_t pids[RACERS];
	int go[2], ready[2], i, status, rc;
	char c;

	memset(counts, 0, 5 * sizeof(int));
	if (pipe(go) == -1 || pipe(ready) == -1)
		bail_out("pipe: %s", strerror(errno));
	fflush(stdout);
	for (i = 0; i < RACERS; i++) {
		if ((pids[i] = fork()) == -1)
			bail_out("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			struct store *st;

			close(go[1]);
			close(ready[0]);
			st = store_open(e->db, NULL, role, err, sizeof(err));
			if (st == NULL)
				fprintf(stderr, "racer: %s\n", err);
			if (write(ready[1], "r", 1) != 1 ||
			    read(go[0], &c, 1) == -1)
				_exit(30);
			rc = st != NULL ? fn(st, i) : -1;
			store_close(st);
			_exit(rc >= -1 && rc <= 2 ? rc + 10 : 30);
		}
	}
	close(go[0]);
	close(ready[1]);
	for (i = 0; i < RACERS && read(ready[0], &c, 1) == 1; i++)
		;
	close(go[1]);		/* every racer's read returns now */
	close(ready[0]);
	for (i = 0; i < RACERS; i++) {
		rc = waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFEXITED(status) ? WEXITSTATUS(status) - 10 : 99;
		counts[rc >= -1 && rc <= 2 ? rc + 1 : 4]++;
	}
}

static long long race_mail;
static int race_pg;

static int
racer_claim(struct store *st, int i)
{
	(void)i;
	return claim(st, 20, T0 + 1, STATE_RECEIVED);
}

/* even racers reveal, odd ones burn: 1 a reveal won, 2 a burn won */
static int
racer_reveal_burn(struct store *st, int i)
{
	int rc = claim(st, 21, T0 + 1, i % 2 ? STATE_BURNED : STATE_RECEIVED);

	return rc == 1 ? 1 + i % 2 : rc;
}

static int
racer_take(struct store *st, int i)
{
	struct store_secret s;
	int rc;

	(void)i;
	memset(&s, 0, sizeof(s));
	rc = take(st, 24, T0 + 1, &s);
	buf_free(&s.sealed);
	/* an engine that does not take: the claim, as a reveal would */
	return rc == 0 && race_pg ? claim(st, 24, T0 + 1, STATE_RECEIVED) : rc;
}

static int
racer_mail(struct store *st, int i)
{
	struct store_mail m;
	int rc;

	(void)i;
	memset(&m, 0, sizeof(m));
	rc = store_mail_take(st, race_mail, T0, 60, &m);
	buf_free(&m.sealed);
	return rc;
}

static int
racer_reserve(struct store *st, int i)
{
	unsigned char id[CRYPTO_ID_LEN];

	(void)i;
	id_of(23, id);
	return store_attempt_reserve(st, id, T0, 5, 1800);
}

static int
racer_limit(struct store *st, int i)
{
	unsigned char k[CRYPTO_ID_LEN];
	long long n;

	(void)i;
	memset(k, 'R', sizeof(k));
	return store_limit_add(st, k, 7, 1, &n) == 0 && n >= 1 &&
	    n <= RACERS ? 1 : -1;
}

static int
racer_migrate(struct store *st, int i)
{
	int from, to;

	(void)i;
	return store_migrate(st, &from, &to, err, sizeof(err)) == 0 &&
	    to == store_schema_version() ? 1 : -1;
}

static void
test_races(struct eng *e)
{
	struct store *st = fresh(e, "race", STORE_WORKER);
	unsigned char k[CRYPTO_ID_LEN];
	int c[5], state;
	long long n = 0;

	if (create(st, 20, T0, TTL, 0, 0) == -1 ||
	    create(st, 21, T0, TTL, 0, 0) == -1 ||
	    create_mail(st, 22, T0, TTL, 0, 0, &race_mail) == -1 ||
	    create(st, 23, T0, TTL, 0, 1) == -1 ||
	    create(st, 24, T0, TTL, 0, 0) == -1)
		bail_out("race set-up failed");
	store_close(st);
	race_pg = e->pg;

	race(e, STORE_WORKER, racer_claim, c);
	is_int(c[2], 1, "%d concurrent claims: exactly one wins", RACERS);
	is_int(c[1], RACERS - 1, "the others see it gone (no errors)");

	race(e, STORE_WORKER, racer_take, c);
	is_int(c[2], 1, "%d concurrent takes: exactly one wins", RACERS);
	is_int(c[1], RACERS - 1, "the others see it gone (no errors)");

	race(e, STORE_WORKER, racer_reveal_burn, c);
	is_int(c[2] + c[3], 1, "reveals and burns racing: one winner");
	is_int(c[1], RACERS - 1, "the others lose cleanly");
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	state = st ? state_at(st, 21, T0 + 2) : -1;
	ok(c[2] == 1 ? state == STATE_RECEIVED : state == STATE_BURNED,
	    "the receipt says who won");

	race(e, STORE_WORKER, racer_mail, c);
	is_int(c[2], 1, "%d sweepers lease one message: one gets it",
	    RACERS);
	is_int(c[1], RACERS - 1, "the others find it leased");

	race(e, STORE_WORKER, racer_reserve, c);
	is_int(c[2], 5, "%d parallel guesses: lock_after (5) reserved",
	    RACERS);
	is_int(c[3], RACERS - 5, "the others are locked out");

	race(e, STORE_WORKER, racer_limit, c);
	is_int(c[2], RACERS, "%d parallel counts", RACERS);
	memset(k, 'R', sizeof(k));
	ok(st != NULL && store_limit_add(st, k, 7, 1, &n) == 0 &&
	    n == RACERS + 1, "none lost");
	store_close(st);

	/* migrators on several hosts at once: one does the work */
	empty(e, "migrators");
	if (!e->pg) {	/* the file exists (WAL set) before they start */
		st = store_open(e->db, NULL, STORE_MIGRATOR, err, sizeof(err));
		store_close(st);
	}
	race(e, STORE_MIGRATOR, racer_migrate, c);
	is_int(c[2], RACERS, "%d concurrent migrations all succeed", RACERS);
	is_int(raw_version(e), store_schema_version(),
	    "and the schema is at this program's version");
}

/* The sweep lock: one holder among every store, until it closes. */
/* store_stats: what ots-admin stats and the metrics' gauges show. */
static void
test_stats(struct eng *e)
{
	unsigned char id[CRYPTO_ID_LEN];
	struct store_customer c;
	struct store_stats ss;
	struct store_sweep sw;
	struct store *st;
	long long mail = 0;
	int i, j;

	st = fresh(e, "stats", STORE_WORKER);
	is_int(store_stats(st, T0, &ss), 0, "store_stats of an empty store");
	ok(ss.secrets == 0 && ss.customers == 0 && ss.receipts[STATE_NEW] == 0
	    && ss.mail[MAIL_SECRET][1] == 0 && ss.size > 0,
	    "empty: nothing counted, a size");
	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "s@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	c.created = T0;
	store_customer_add(st, &c);
	create(st, 1, T0, TTL, 0, 0);			/* new */
	create(st, 2, T0, TTL, 0, 0);
	is_int(claim(st, 2, T0, STATE_RECEIVED), 1, "2 received");
	create(st, 3, T0, TTL, 0, 1);
	is_int(claim(st, 3, T0, STATE_BURNED), 1, "3 burned");
	create(st, 4, T0 - TTL - 10, TTL, 0, 0);	/* expired, unswept */
	create_mail(st, 5, T0, TTL, 0, 0, &mail);	/* mail queued */
	create(st, 6, T0, TTL, 0, 0);
	id_of(6 | 0x80, id);
	is_int(store_meta_viewed(st, id, T0), 1, "6 viewed");
	create_mail(st, 7, T0, TTL, 0, 0, &mail);
	store_mail_failed(st, mail, T0, "550");
	create(st, 8, T0 - 3 * TTL, TTL, 0, 0);		/* all gone */

	is_int(store_stats(st, T0, &ss), 0, "store_stats");
	is_int(ss.secrets, 4, "live secrets: 1, 5, 6, 7");
	is_int(ss.receipts[STATE_NEW], 3, "receipts new: 1, 5, 7");
	is_int(ss.receipts[STATE_VIEWED], 1, "receipts viewed: 6");
	is_int(ss.receipts[STATE_RECEIVED], 1, "receipts received: 2");
	is_int(ss.receipts[STATE_BURNED], 1, "receipts burned: 3");
	is_int(ss.receipts[STATE_EXPIRED], 1,
	    "receipts expired before the sweep: 4");
	is_int(ss.customers, 1, "accounts");
	is_int(ss.mail[MAIL_SECRET][1], 1, "mail queued");
	is_int(ss.mail[MAIL_SECRET][3], 1, "mail failed");
	for (i = 0, j = 0; i <= MAIL_WEBHOOK; i++)
		j += (int)(ss.mail[i][0] + ss.mail[i][2]) +
		    (i > 0 ? (int)(ss.mail[i][1] + ss.mail[i][3]) : 0);
	is_int(j, 0, "no other outbox rows");
	ok(ss.size > 0, "database size %lld bytes", ss.size);
	is_str(store_mail_state_name(1), "queued", "mail state names");

	memset(&sw, 0, sizeof(sw));
	store_sweep(st, T0, T0 - 1000, T0 / 1200, &sw);
	is_int(store_stats(st, T0, &ss), 0, "store_stats after a sweep");
	ok(ss.receipts[STATE_EXPIRED] == 1 && ss.receipts[STATE_NEW] == 3 &&
	    ss.secrets == 4, "swept: the same counts (expired now stored)");
	is_int(store_stats(st, T0 + 3 * TTL, &ss), 0, "store_stats later");
	ok(ss.secrets == 0 && ss.receipts[STATE_NEW] == 0 &&
	    ss.receipts[STATE_RECEIVED] == 0, "later: nothing lives");
	store_close(st);
}

static void
test_sweep_lock(struct eng *e)
{
	struct store *a, *b;

	a = fresh(e, "lock", STORE_SWEEPER);
	if ((b = store_open(e->db, NULL, STORE_SWEEPER, err, sizeof(err))) ==
	    NULL)
		bail_out("open: %s", err);
	is_int(store_sweep_lock(a), 1, "sweep lock taken");
	is_int(store_sweep_lock(b), 0, "another store cannot take it");
	is_int(store_sweep_lock(a), 1, "the holder asks again: still held");
	is_int(store_sweep_lock(b), 0, "the other still cannot");
	store_close(a);
	is_int(store_sweep_lock(b), 1, "released when the holder closes");
	store_close(b);
}

/* -- the schema's versions and who may change them */

/* A database at schema version 1, with one row in it. */
static void
make_v1(struct eng *e)
{
	if (e->pg) {
		if (pg_exec(e, store_pg_migrations[0]) == -1 ||
		    raw_set_version(e, 1) == -1 ||
		    pg_exec(e, "INSERT INTO settings (name, value) VALUES "
		    "('key_check', '\\x01')") == -1)
			bail_out("cannot make a version 1 database");
		return;
	}
	if (sql_exec(e->db, store_sqlite_migrations[0]) == -1 ||
	    sql_exec(e->db, "PRAGMA user_version = 1; INSERT INTO settings "
	    "(name, value) VALUES ('key_check', x'01')") == -1)
		bail_out("cannot make a version 1 database");
	chmod(e->db, 0600);
}

static void
test_schema(struct eng *e)
{
	struct store *st;
	long long now;
	int from = -1, to = -1, v = store_schema_version();

	empty(e, "schema");
	if (!e->pg) {
		ok(store_open(e->db, NULL, STORE_WORKER, err, sizeof(err)) ==
		    NULL, "a missing database: the worker refuses");
		ok(access(e->db, F_OK) == -1, "and does not make it");
	}
	st = store_open(e->db, NULL, STORE_MIGRATOR, err, sizeof(err));
	if (!ok(st != NULL, "the migrator opens an empty database"))
		bail_out("%s", err);
	if (!e->pg)
		is_int(tap_mode(e->db), 0600, "database file made mode 0600");
	err[0] = '\0';
	ok(store_open(e->db, NULL, STORE_WORKER, err, sizeof(err)) == NULL,
	    "a worker refuses the empty schema (version 0)");
	ok(strstr(err, "ots-admin migrate") != NULL,
	    "saying to run ots-admin migrate");
	ok(store_migrate(st, &from, &to, err, sizeof(err)) == 0 && from == 0 &&
	    to == v, "migrate: from 0 to %d", v);
	ok(store_migrate(st, &from, &to, err, sizeof(err)) == 0 && from == v &&
	    to == v, "migrate again: nothing to do");
	is_int(raw_version(e), v, "the version is recorded");
	store_close(st);
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st != NULL, "a worker opens the migrated database");
	ok(st != NULL && store_migrate(st, &from, &to, err, sizeof(err)) ==
	    -1, "a worker cannot migrate");
	store_close(st);

	empty(e, "v1");
	make_v1(e);
	err[0] = '\0';
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st == NULL, "a version 1 database: the worker refuses");
	ok(strstr(err, "older") != NULL && strstr(err, "ots-admin migrate")
	    != NULL, "an older schema: run ots-admin migrate");
	store_close(st);
	st = store_open(e->db, NULL, STORE_ADMIN, err, sizeof(err));
	ok(st == NULL, "so does ots-admin's account role");
	store_close(st);
	st = store_open(e->db, NULL, STORE_MIGRATOR, err, sizeof(err));
	ok(st != NULL && store_migrate(st, &from, &to, err, sizeof(err)) ==
	    0 && from == 1 && to == v, "migrate brings it from 1 to %d", v);
	store_close(st);
	is_int(raw_version(e), v, "the version is recorded");
	is_int(raw_int(e, "SELECT count(*) FROM master_key WHERE version = 1"),
	    1, "existing rows kept: the key check is master-key version 1's");
	is_int(raw_int(e, "SELECT count(*) FROM settings"), 0,
	    "and has left settings");
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st != NULL, "then the worker opens it");
	/* a worker that stays open sees a migration on its next request */
	raw_set_version(e, 999);
	is_int(st != NULL ? store_ready(st, &now) : 0, -1,
	    "an open worker refuses a schema migrated past it at its next "
	    "request");
	raw_set_version(e, store_schema_version());
	is_int(st != NULL ? store_ready(st, &now) : -1, 0,
	    "and serves again when it fits");
	store_close(st);

	raw_set_version(e, 999);
	err[0] = '\0';
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st == NULL, "a database newer than the program is refused");
	ok(strstr(err, "newer") != NULL, "and the error says so");
	store_close(st);
	st = store_open(e->db, NULL, STORE_MIGRATOR, err, sizeof(err));
	err[0] = '\0';
	ok(st != NULL && store_migrate(st, &from, &to, err, sizeof(err)) ==
	    -1 && strstr(err, "newer") != NULL,
	    "the migrator refuses a newer schema too");
	store_close(st);
	is_int(raw_version(e), 999, "and leaves it alone");
}

/* -- SQLite only */

/* A database open to others is refused, with the fix in the message. */
static void
test_unsafe(struct eng *e)
{
	struct store *st;

	chmod(e->db, 0644);
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st == NULL, "a database readable by others is refused");
	ok(strstr(err, "chmod 600") != NULL,
	    "and the error says how to fix it");
	store_close(st);
	chmod(e->db, 0600);
	chmod(dir, 0755);
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st == NULL, "a state directory open to others is refused");
	ok(strstr(err, "chmod 700") != NULL,
	    "and the error says how to fix it");
	store_close(st);
	chmod(dir, 0700);
}

static void
test_reopen(struct eng *e)
{
	struct store *st;
	unsigned char a[CRYPTO_ID_LEN];
	int n;

	for (n = 0; store_sqlite_migrations[n] != NULL; n++)
		;
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
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
	is_int(sql_int(e->db, "PRAGMA user_version"), n,
	    "user_version is the number of migrations");
	is_int(sql_int(e->db, "SELECT count(*) FROM pragma_journal_mode() "
	    "WHERE journal_mode = 'wal'"), 1, "journal mode WAL");
	is_int(tap_mode(e->db), 0600, "still mode 0600");
}

/*
 * SQLite's counters' file, written without a sync, may be broken by a
 * power cut: the count fails once, then the file is made again.
 */
static void
test_counters_file(struct eng *e)
{
	char path[1300], junk[4096];
	unsigned char k[CRYPTO_ID_LEN];
	struct store *st;
	long long n = -1, now;
	FILE *f;

	memset(k, 'C', sizeof(k));
	memset(junk, 'x', sizeof(junk));
	snprintf(path, sizeof(path), "%s.limits", e->db);
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st != NULL && store_limit_add(st, k, 7, 1, &n) == 0 && n == 1 &&
	    access(path, F_OK) == 0, "counters: DATABASE.limits made by the "
	    "first count");
	store_close(st);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(junk, 1, sizeof(junk), f) != sizeof(junk) || fclose(f) != 0)
		bail_out("%s: cannot write", path);
	st = store_open(e->db, NULL, STORE_WORKER, err, sizeof(err));
	ok(st != NULL && store_limit_add(st, k, 7, 1, &n) == -1,
	    "counters: a file that is not a database fails the count once");
	ok(st != NULL && store_ready(st, &now) == 0 &&
	    store_limit_add(st, k, 7, 1, &n) == 0 && n == 1,
	    "counters: then the file is made again and counting goes on");
	ok(st != NULL && secret_at(st, 5, T0) == 1,
	    "counters: the database is untouched");
	store_close(st);
}

/* 1 if the file at path holds the bytes s, 0 if not, -1 unreadable. */
static int
file_has(const char *path, const char *s)
{
	char buf[1 << 16];
	size_t n, len = strlen(s), have = 0;
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return errno == ENOENT ? 0 : -1;
	/* keep len - 1 bytes of the previous block: a match may straddle */
	while ((n = fread(buf + have, 1, sizeof(buf) - have, f)) > 0) {
		n += have;
		if (memmem(buf, n, s, len) != NULL) {
			found = 1;
			break;
		}
		have = n < len ? n : len - 1;
		memmove(buf, buf + n - have, have);
	}
	fclose(f);
	return found;
}

/* A claimed secret's bytes leave the file and its WAL after a scrub. */
static void
test_remnants(struct eng *e)
{
	struct store *st = fresh(e, "remnants", STORE_WORKER);
	unsigned char r[16];
	char canary[40], wal[1300];
	struct store_secret sec;
	struct store_meta m;
	struct store_scrub sc;
	long long at;
	size_t i;

	randombytes_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++)
		snprintf(canary + 2 * i, 3, "%02x", r[i]);
	snprintf(wal, sizeof(wal), "%s-wal", e->db);
	memset(&sec, 0, sizeof(sec));
	memset(&m, 0, sizeof(m));
	id_of(50, sec.id);
	buf_puts(&sec.sealed, canary);
	sec.expires = T0 + TTL;
	id_of(0x80 | 50, m.id);
	id_of(50, m.secret_id);
	snprintf(m.custid, sizeof(m.custid), "anon");
	m.sealed_skey_len = 1;
	m.state = STATE_NEW;
	m.secret_expires = T0 + TTL;
	m.expires = T0 + 2 * TTL;
	store_create(st, &sec, &m, NULL, 0);
	buf_free(&sec.sealed);
	ok(file_has(e->db, canary) == 1 || file_has(wal, canary) == 1,
	    "a stored value is found in the file or its WAL");
	store_set_clock(st, test_clock);
	clock_now = T0;
	is_int(store_secret_claim(st, sec.id, STATE_RECEIVED, &at), 1,
	    "claimed");
	is_int(store_scrub(st, 0, &sc), 0, "scrubbed (no rebuild)");
	ok(file_has(e->db, canary) == 0 && file_has(wal, canary) == 0,
	    "its bytes are in neither (secure_delete, WAL truncated)");
	store_close(st);
}

/* A file replaced under an open store (a restore) is opened again. */
static void
test_replaced(struct eng *e)
{
	struct store *st, *other;
	char path[1200], moved[1300];
	struct store_scrub sc;
	long long now;

	st = fresh(e, "replaced", STORE_WORKER);
	snprintf(path, sizeof(path), "%s", e->db);
	other = fresh(e, "replacement", STORE_WORKER);
	create(st, 60, T0, TTL, 0, 0);
	create(other, 61, T0, TTL, 0, 0);
	/* both WALs empty: a WAL belongs to the file it was written for */
	store_scrub(other, 0, &sc);
	store_close(other);
	store_scrub(st, 0, &sc);
	if (rename(e->db, path) == -1)
		bail_out("rename: %s", strerror(errno));
	snprintf(moved, sizeof(moved), "%s-wal", e->db);
	unlink(moved);
	snprintf(moved, sizeof(moved), "%s-shm", e->db);
	unlink(moved);
	snprintf(e->db, sizeof(e->db), "%s", path);
	is_int(store_ready(st, &now), 0, "store_ready after the file was "
	    "replaced");
	is_int(secret_at(st, 61, T0), 1, "reads the new file");
	is_int(secret_at(st, 60, T0), 0, "not the old one");
	store_close(st);
}

/* -- PostgreSQL only */

/* A killed backend: writes fail once, store_ready connects again. */
static void
test_reconnect(struct eng *e)
{
	struct store *st = fresh(e, "conn", STORE_WORKER);
	unsigned char id[CRYPTO_ID_LEN];
	long long now = 0, at;

	create(st, 30, T0, TTL, 0, 0);
	is_int(pg_int(e, "SELECT count(*) FROM pg_stat_activity WHERE "
	    "datname = current_database() AND application_name = 'ots'"), 1,
	    "the store's session is named ots");
	is_int(pg_kill(e), 1, "its backend is terminated");
	is_int(store_ready(st, &now), 0,
	    "store_ready: the clock's read fails, connects again, reads it");
	ok(now >= T0, "and the clock is read");
	is_int(secret_at(st, 30, T0), 1, "the next operation works");

	pg_kill(e);
	id_of(30, id);
	is_int(store_secret_claim(st, id, STATE_RECEIVED, &at), -1,
	    "a claim on a lost connection fails, never tried again");
	is_int(store_ready(st, &now), 0, "store_ready connects again");
	is_int(secret_at(st, 30, T0), 1, "the failed claim changed nothing");
	is_int(claim(st, 30, T0, STATE_RECEIVED), 1, "then the claim works");

	pg_kill(e);
	raw_set_version(e, 999);
	is_int(store_ready(st, &now), -1,
	    "a new connection checks the schema again");
	raw_set_version(e, store_schema_version());
	is_int(store_ready(st, &now), 0, "and serves once it fits");
	is_int(secret_at(st, 30, T0), 0, "on the same database");
	store_close(st);
}

/* A sweeper that loses its session loses the lock, unless it gets it back. */
static void
test_lock_lost(struct eng *e)
{
	struct store *a, *b;
	long long now;

	a = fresh(e, "lock", STORE_SWEEPER);
	is_int(store_sweep_lock(a), 1, "sweep lock taken");
	pg_kill(e);
	is_int(store_ready(a, &now), 0,
	    "connected again: the lock is taken again");
	b = store_open(e->db, NULL, STORE_SWEEPER, err, sizeof(err));
	is_int(b ? store_sweep_lock(b) : -1, 0, "so another cannot take it");
	store_close(b);
	pg_kill(e);
	b = store_open(e->db, NULL, STORE_SWEEPER, err, sizeof(err));
	is_int(b ? store_sweep_lock(b) : -1, 1,
	    "a killed session's lock is free for another");
	is_int(store_ready(a, &now), -1,
	    "the old holder's store_ready fails: its lock is lost");
	store_close(b);
	store_close(a);
}

/* Passwords: the one given wins, and never shows in a message. */
static void
test_password(struct eng *e)
{
	unsigned char r[16];
	char pw[40], wrong[40], q[160], ci[1400];
	struct store *st;
	size_t i;

	ok(store_open("host=127.0.0.1 port=1 connect_timeout=2 dbname=none "
	    "user=nobody password=carried-in-conninfo", NULL, STORE_WORKER,
	    err, sizeof(err)) == NULL, "an unreachable server: open fails");
	ok(strstr(err, "cannot connect") != NULL &&
	    strstr(err, "carried-in-conninfo") == NULL,
	    "saying so, without the conninfo's password");
	if (getenv("OTS_TEST_PG_SOCKET") == NULL) {
		skip("not under tests/unit/pg_run.sh (no ots_password role)",
		    "passwords");
		return;
	}
	randombytes_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++)
		snprintf(pw + 2 * i, 3, "%02x", r[i]);
	snprintf(wrong, sizeof(wrong), "%s", pw);
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	snprintf(q, sizeof(q), "ALTER ROLE ots_password PASSWORD '%s'", pw);
	if (pg_exec(e, q) == -1 || pg_exec(e, "GRANT SELECT ON schema_version "
	    "TO ots_password") == -1)
		bail_out("cannot set up the password role");
	snprintf(ci, sizeof(ci), "%s user=ots_password", e->db);
	st = store_open(ci, pw, STORE_WORKER, err, sizeof(err));
	if (!ok(st != NULL, "the password given opens the store"))
		diag("%s", err);
	store_close(st);
	st = store_open(ci, wrong, STORE_WORKER, err, sizeof(err));
	ok(st == NULL, "a wrong password is refused");
	ok(strstr(err, wrong) == NULL, "and not shown in the message");
	store_close(st);
	snprintf(ci, sizeof(ci), "%s user=ots_password password=%s", e->db,
	    wrong);
	st = store_open(ci, pw, STORE_WORKER, err, sizeof(err));
	ok(st != NULL, "the password given wins over the conninfo's");
	store_close(st);
	pg_exec(e, "REVOKE SELECT ON schema_version FROM ots_password");
}

/* -- the suite, per engine */

static void
run_engine(struct eng *e)
{
	struct store *st;

	diag("engine: %s", e->name);
	T0 = 1700000000LL;
	st = fresh(e, "main", STORE_WORKER);
	if (e->pg && store_ready(st, &T0) == -1)
		bail_out("postgresql: no clock");
	test_ready(e, st);
	test_check_key(st);
	test_secret(st);
	test_take(e, st);
	test_expiry(st);
	test_attempts(st);
	test_recent(st);
	test_customers(st);
	test_limits(st);
	test_mail(e, st);
	store_close(st);
	if (!e->pg) {
		test_unsafe(e);
		test_reopen(e);
		test_counters_file(e);
	}
	st = fresh(e, "sweep", STORE_WORKER);
	test_sweep(e, st);
	test_scrub(e, st);
	store_close(st);
	st = fresh(e, "notices", STORE_WORKER);
	test_notices(e, st);
	test_customer_notify(st);
	store_close(st);
	st = fresh(e, "requests", STORE_WORKER);
	test_requests(e, st);
	store_close(st);
	test_keys(e);
	test_races(e);
	test_stats(e);
	test_sweep_lock(e);
	test_schema(e);
	if (e->pg) {
		test_reconnect(e);
		test_lock_lost(e);
		test_password(e);
	} else {
		test_remnants(e);
		test_replaced(e);
	}
}

int
main(void)
{
	const char *keys[] = { "dbname", "application_name", NULL };
	const char *vals[] = { NULL, "ots_test", NULL };
	const char *pg = getenv("OTS_TEST_PG");
	struct eng e;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_tmpdir(dir, sizeof(dir));
	memset(&e, 0, sizeof(e));
	e.name = "sqlite";
	run_engine(&e);
	if (pg == NULL || *pg == '\0') {
		skip("OTS_TEST_PG is not set (tests/unit/pg_run.sh sets it)",
		    "PostgreSQL: the same checks");
	} else {
		memset(&e, 0, sizeof(e));
		e.name = "postgresql";
		e.pg = 1;
		snprintf(e.db, sizeof(e.db), "%s", pg);
		vals[0] = pg;
		e.raw = PQconnectdbParams(keys, vals, 1);
		if (PQstatus(e.raw) != CONNECTION_OK)
			bail_out("OTS_TEST_PG: %s", PQerrorMessage(e.raw));
		PQclear(PQexec(e.raw, "SET client_min_messages = warning"));
		run_engine(&e);
		empty(&e, "end");	/* leave the database as found */
		PQfinish(e.raw);
	}
	tap_rmtree(dir);
	return done();
}
