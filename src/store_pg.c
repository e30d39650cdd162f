/*
 * store_pg: the store on PostgreSQL, for several hosts sharing one
 * database.  Same contract as store.h, same results as store_sqlite.c for
 * the same calls; the schema is sql/postgresql/.
 *
 * The promises this engine keeps, and what keeps them (for whoever
 * measures or reviews it):
 *
 *   Exactly once, across hosts.  A claim is one statement: a DELETE of the
 *   secret guarded by its id and its expiry, and the receipt's UPDATE fed
 *   by what that DELETE returned.  Of any number of concurrent claims on
 *   any number of hosts one deletes the row; the others wait for its
 *   commit, look at the row again (READ COMMITTED) and find it gone.
 *
 *   Expiry by one clock.  The claim reads the server's clock in the same
 *   statement; store_ready reads it too, and every other decision uses
 *   the time the caller got there.  No host's clock matters.
 *
 *   Durable when acknowledged.  Each change commits before its function
 *   returns, as durably as the server's synchronous_commit says (on by
 *   default: flushed to its WAL, or to a standby's with synchronous
 *   replication).  The exception is the rate-limit counters, committed
 *   with synchronous_commit off: a count lost to a crash is harmless, a
 *   flush per request is not.
 *
 *   Gone means gone, as far as PostgreSQL allows.  A DELETE leaves the
 *   tuple's bytes in the table's file until VACUUM (autovacuum) lets the
 *   space be reused, and in the WAL, its archives and any base backup
 *   until they are recycled; store_scrub cannot reach them.  What keeps
 *   the promise is the construction: a stored value is sealed under a key
 *   derived from its link, which the database never holds, so no stored
 *   byte opens a gone secret without its link.
 *
 * One connection per store, made at open and again only by store_ready:
 * after the connection was lost (a restarted server, a killed backend) or
 * any call failed.  store_ready's read of the clock is the only statement
 * ever tried twice (a read is safe to repeat); a write whose outcome is
 * unknown (the connection lost during it) returns -1 and is never sent
 * again.  Every write is one statement in its own transaction, so no lock
 * is held across a round trip.
 *
 * Statements are prepared once per connection, on first use.  A plain CGI
 * process (STORE_CGI: one connection, one request) prepares none: each
 * goes unnamed with its parameters, one round trip, which also passes
 * through a pooler in transaction mode.  Parameters go in binary, results come back in binary, and every
 * value read is checked for its type and length before use.  Errors are
 * logged with the server's message (never a parameter: the DETAIL lines
 * that may quote one are left out).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "pq.h"
#include "store_engine.h"

/* Migrations, one string per sql/postgresql/NNN_*.sql (generated schema.c). */
extern const char *const store_pg_migrations[];

/* Type OIDs of the values exchanged (pg_type.h: stable across versions). */
#define OID_BOOL	16
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_TEXT	25

#define CONNECT_TIMEOUT	"10"	/* seconds, unless the conninfo says */

/*
 * Advisory lock keys ("ots" and a number): one migrator at a time, one
 * sweep at a time.  Advisory locks are per database, so several ots
 * databases on one server do not meet.
 */
#define LOCK_MIGRATE	0x6f74730000000001LL
#define LOCK_SWEEP	0x6f74730000000002LL

#define SWEEP_BATCH	"1000"
#define SWEEP_BATCH_N	1000

#define PARAMS_MAX	40

enum stmt {
	S_CLOCK, S_VERSION,
	S_KEY_LIST, S_KEY_PUT, S_KEY_DEL, S_KEY_USE,
	S_CREATE, S_CREATE_MAIL,
	S_SECRET_GET, S_CLAIM,
	S_META_GET, S_META_VIEWED, S_META_RECENT,
	S_CUST_PUT, S_CUST_GET, S_CUST_BY_ID, S_CUST_NOTIFY, S_CUST_TOKEN,
	S_CUST_DEL, S_CUST_LIST,
	S_MAIL_TAKE, S_MAIL_DONE, S_MAIL_RETRY, S_MAIL_DUE, S_MAIL_LIST,
	S_TRY_RESERVE, S_TRY_LOCK, S_TRY_FAILED,
	S_LIMIT_ADD,
	S_REQ_PUT, S_REQ_GET, S_REQ_TAKE,
	S_SWEEP_NOTIFY, S_SWEEP_EXPIRE, S_SWEEP_SECRET, S_SWEEP_META,
	S_SWEEP_REQUEST, S_SWEEP_MAIL,
	S_SWEEP_LIMITS,
	S_SCRUB_SIZE, S_SWEEP_LOCK, S_STATS,
	S_MAX
};

/*
 * A statement: its text, its parameters' types (b bytea, i int8, t text,
 * o bool), and whether a connection runs it once at most (then it is sent
 * unnamed, in the same round trip as its parameters, and never prepared).
 */
struct stmt_def {
	const char	*sql;
	const char	*types;
	int		 once;
};

#define SECRET_COLS "id, sealed, salt, expires, key_version"
#define META_COLS "id, secret_id, customer_id, custid, wrapped_key, " \
	"sealed_skey, ttl, state, passphrase, recipient, created, updated, " \
	"received, secret_expires, expires, key_version"
/* the key versions come last: the secret's $20, the receipt's $21 */
#define META_VALUES "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, " \
	"$16, $17, $18, $19, $21"
#define META_TYPES "bbitbbitotiiiii"
#define CUST_COLS "id, custid, token_hash, plan, created, notify, " \
	"webhook_url, webhook_key, key_version"
#define MAIL_COLS "id, rid, sealed, recipient, state, attempts, last_error, " \
	"created, updated, next_try, expires, kind, event, customer_id"
#define MAIL_MAX	3	/* outbox rows of one create: S_CREATE_MAIL */
#define NOW "floor(extract(epoch FROM clock_timestamp()))::bigint"

static const struct stmt_def stmts[S_MAX] = {
	/* the clock, and the schema's version (ots-admin migrate may have
	 * moved it since this connection was made) */
	[S_CLOCK] = { "SELECT " NOW ", (SELECT version FROM schema_version)"
	    "::bigint", "", 0 },
	[S_VERSION] = { "SELECT version FROM schema_version", "", 1 },
	[S_KEY_LIST] = { "SELECT version::bigint, check_value FROM master_key "
	    "ORDER BY version", "", 0 },
	/* two hosts starting at once: the first value stays */
	[S_KEY_PUT] = { "INSERT INTO master_key (version, check_value) "
	    "VALUES ($1, $2) ON CONFLICT (version) DO NOTHING", "ib", 1 },
	[S_KEY_DEL] = { "DELETE FROM master_key WHERE version = $1", "i", 1 },
	/* request links count as secrets: they hold one to come */
	[S_KEY_USE] = { "SELECT (SELECT count(*) FROM secret "
	    "WHERE key_version = $1) + (SELECT count(*) FROM request "
	    "WHERE key_version = $1), (SELECT count(*) FROM metadata "
	    "WHERE key_version = $1), (SELECT count(*) FROM customer "
	    "WHERE key_version = $1)", "i", 1 },
	/* one statement, one transaction: all of it or nothing */
	[S_CREATE] = { "WITH s AS (INSERT INTO secret (" SECRET_COLS ") "
	    "VALUES ($1, $2, $3, $4, $20)) "
	    "INSERT INTO metadata (" META_COLS ") VALUES (" META_VALUES ")",
	    "bbbi" META_TYPES "ii", 0 },
	/*
	 * With up to MAIL_MAX outbox rows (kind, rid, sealed, recipient; a
	 * NULL kind is no row): recipient mail queued now, notices waiting
	 * until the secret's expiry (as store_sqlite.c's lite_create).
	 */
	[S_CREATE_MAIL] = { "WITH s AS (INSERT INTO secret (" SECRET_COLS ") "
	    "VALUES ($1, $2, $3, $4, $20)), "
	    "m AS (INSERT INTO metadata (" META_COLS ") VALUES ("
	    META_VALUES ")) "
	    "INSERT INTO mail (kind, rid, sealed, recipient, state, secret_id, "
	    "customer_id, created, updated, next_try, expires) "
	    "SELECT k, r, x, t, CASE k WHEN 'secret' THEN 'queued' "
	    "ELSE 'waiting' END, CASE WHEN k <> 'secret' THEN $1 END, "
	    "CASE k WHEN 'webhook' THEN $7::bigint END, $15, $15, "
	    "CASE k WHEN 'secret' THEN $15 ELSE $4 END, $4 "
	    "FROM (VALUES ($22, $23, $24, $25), ($26, $27, $28, $29), "
	    "($30, $31, $32, $33)) AS v (k, r, x, t) WHERE k IS NOT NULL",
	    "bbbi" META_TYPES "ii" "tbbttbbttbbt", 0 },
	[S_SECRET_GET] = { "SELECT sealed, salt, expires FROM secret "
	    "WHERE id = $1 AND expires > $2", "bi", 0 },
	/*
	 * The claim: expiry decided by the server's clock as the statement
	 * starts (a wait for the row's lock is a wait for a statement as
	 * short as this one), the secret deleted, and its receipt moved on
	 * only if this statement deleted it.  A concurrent claim that waited
	 * for the row finds it deleted and returns false.
	 */
	[S_CLAIM] = { "WITH t AS (SELECT " NOW " AS clock), "
	    "d AS (DELETE FROM secret WHERE id = $1 AND "
	    "expires > (SELECT clock FROM t) RETURNING id), "
	    "u AS (UPDATE metadata SET state = $2, "
	    "updated = (SELECT clock FROM t), "
	    "received = CASE WHEN $2 = 'received' THEN (SELECT clock FROM t) "
	    "END WHERE secret_id IN (SELECT id FROM d) AND "
	    "state IN ('new', 'viewed')), "
	    "n AS (UPDATE mail SET state = 'queued', event = $2, "
	    "created = (SELECT clock FROM t), updated = (SELECT clock FROM t), "
	    "next_try = (SELECT clock FROM t) WHERE secret_id IN "
	    "(SELECT id FROM d) AND state = 'waiting') "
	    "SELECT (SELECT clock FROM t), EXISTS (SELECT 1 FROM d)",
	    "bt", 0 },
	/*
	 * A request with up to two notices (kind, rid, sealed, recipient; a
	 * NULL kind is no row), waiting under the request's id until its
	 * expiry (as store_sqlite.c's lite_request_add).
	 */
	[S_REQ_PUT] = { "WITH q AS (INSERT INTO request (id, sealed, "
	    "customer_id, created, expires, key_version) "
	    "VALUES ($1, $2, $3, $4, $5, $6)) "
	    "INSERT INTO mail (kind, rid, sealed, recipient, state, secret_id, "
	    "customer_id, created, updated, next_try, expires) "
	    "SELECT k, r, x, t, 'waiting', $1, "
	    "CASE k WHEN 'webhook' THEN $3::bigint END, $4, $4, $5, $5 "
	    "FROM (VALUES ($7, $8, $9, $10), ($11, $12, $13, $14)) "
	    "AS v (k, r, x, t) WHERE k IS NOT NULL",
	    "bbiiii" "tbbttbbt", 0 },
	[S_REQ_GET] = { "SELECT sealed, customer_id, created, expires, "
	    "key_version::bigint FROM request WHERE id = $1 AND expires > $2",
	    "bi", 0 },
	/*
	 * The take, as S_CLAIM: expiry by the server's clock, the row
	 * deleted, and its notices queued only if this statement deleted it.
	 */
	[S_REQ_TAKE] = { "WITH t AS (SELECT " NOW " AS clock), "
	    "d AS (DELETE FROM request WHERE id = $1 AND "
	    "expires > (SELECT clock FROM t) RETURNING id, sealed, customer_id, "
	    "created, expires, key_version), "
	    "n AS (UPDATE mail SET state = 'queued', event = 'answered', "
	    "created = (SELECT clock FROM t), updated = (SELECT clock FROM t), "
	    "next_try = (SELECT clock FROM t) WHERE secret_id IN "
	    "(SELECT id FROM d) AND state = 'waiting') "
	    "SELECT sealed, customer_id, created, expires, "
	    "key_version::bigint, (SELECT clock FROM t) FROM d", "b", 0 },
	[S_META_GET] = { "SELECT " META_COLS " FROM metadata "
	    "WHERE id = $1 AND expires > $2", "bi", 0 },
	[S_META_VIEWED] = { "UPDATE metadata SET state = 'viewed', "
	    "updated = $2 WHERE id = $1 AND state = 'new' AND "
	    "secret_expires > $2", "bi", 0 },
	[S_META_RECENT] = { "SELECT " META_COLS " FROM metadata "
	    "WHERE customer_id = $1 AND created >= $2 AND expires > $3 "
	    "ORDER BY created DESC, seq DESC", "iii", 0 },
	[S_CUST_PUT] = { "INSERT INTO customer (custid, token_hash, plan, "
	    "created, key_version) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT (custid) DO NOTHING", "tbtii", 0 },
	[S_CUST_GET] = { "SELECT " CUST_COLS " FROM customer "
	    "WHERE custid = $1", "t", 0 },
	[S_CUST_BY_ID] = { "SELECT " CUST_COLS " FROM customer "
	    "WHERE id = $1", "i", 0 },
	[S_CUST_NOTIFY] = { "UPDATE customer SET notify = $2, "
	    "webhook_url = $3, webhook_key = $4 WHERE custid = $1",
	    "titb", 0 },
	[S_CUST_TOKEN] = { "UPDATE customer SET token_hash = $2, "
	    "key_version = $3 WHERE custid = $1", "tbi", 0 },
	[S_CUST_DEL] = { "DELETE FROM customer WHERE custid = $1", "t", 0 },
	/* byte order, as SQLite's BINARY collation sorts */
	[S_CUST_LIST] = { "SELECT " CUST_COLS " FROM customer "
	    "ORDER BY custid COLLATE \"C\"", "", 0 },
	/*
	 * The lease: one statement moves next_try past now, so of every
	 * host's sweeper that tries at once one gets the row (the others
	 * wait for its commit, look again and see next_try in the future).
	 */
	[S_MAIL_TAKE] = { "UPDATE mail SET next_try = $3, "
	    "attempts = attempts + 1, updated = $2 WHERE id = $1 AND "
	    "state = 'queued' AND next_try <= $2 RETURNING " MAIL_COLS,
	    "iii", 0 },
	[S_MAIL_DONE] = { "UPDATE mail SET state = $3, sealed = NULL, "
	    "last_error = $4, updated = $2 WHERE id = $1", "iitt", 0 },
	[S_MAIL_RETRY] = { "UPDATE mail SET next_try = $3, last_error = $4, "
	    "updated = $2 WHERE id = $1 AND state = 'queued'", "iiit", 0 },
	[S_MAIL_DUE] = { "SELECT id FROM mail WHERE state = 'queued' AND "
	    "next_try <= $1 ORDER BY next_try, id LIMIT $2", "ii", 0 },
	/* the list never shows a payload: leave it on the server */
	[S_MAIL_LIST] = { "SELECT id, rid, NULL::bytea, recipient, state, "
	    "attempts, last_error, created, updated, next_try, expires, kind, "
	    "event, customer_id FROM mail ORDER BY id DESC", "", 0 },
	/*
	 * Attempts, as SQLite's S_TRY_*: reserve one if the window has one
	 * left or its lock has run out (then a new window opens).  Each
	 * statement changes the row it finds as it is at that moment, so
	 * callers on every host share one count.
	 */
	[S_TRY_RESERVE] = { "UPDATE secret SET "
	    "tries = CASE WHEN tries < $3 THEN tries + 1 ELSE 1 END, "
	    "locked_until = CASE WHEN tries < $3 THEN locked_until ELSE 0 END "
	    "WHERE id = $1 AND expires > $2 AND "
	    "(tries < $3 OR (locked_until > 0 AND locked_until <= $2)) "
	    "RETURNING 1", "bii", 0 },
	/*
	 * Not reserved: a used-up window without a lock time gets one now;
	 * locked (true) if the secret lives, else unknown.  The tries guard
	 * keeps a window another caller has just opened from being locked.
	 */
	[S_TRY_LOCK] = { "WITH l AS (UPDATE secret SET locked_until = $2 + $4 "
	    "WHERE id = $1 AND expires > $2 AND locked_until = 0 AND "
	    "tries >= $3 RETURNING 1) "
	    "SELECT EXISTS (SELECT 1 FROM l) OR EXISTS (SELECT 1 FROM secret "
	    "WHERE id = $1 AND expires > $2)", "biii", 0 },
	[S_TRY_FAILED] = { "UPDATE secret SET fails = fails + 1, "
	    "locked_until = CASE WHEN tries >= $3 THEN $2 + $4 "
	    "ELSE locked_until END WHERE id = $1 RETURNING fails", "biii", 0 },
	/*
	 * A count given back ($3 < 0) only ever lowers its own window's.
	 * set_config(..., true) is SET LOCAL inside the statement: this one
	 * transaction commits without waiting for the WAL flush (a count
	 * lost to a crash is harmless); every other keeps the server's
	 * synchronous_commit.
	 */
	[S_LIMIT_ADD] = { "INSERT INTO ratelimit (key, \"window\", count) "
	    "SELECT $1, $2, greatest($3, 0) FROM (SELECT set_config("
	    "'synchronous_commit', 'off', true)) AS quick WHERE true "
	    "ON CONFLICT (key) DO UPDATE SET "
	    "count = CASE WHEN ratelimit.\"window\" = $2 THEN "
	    "greatest(ratelimit.count + $3, 0) WHEN $3 > 0 THEN $3 "
	    "ELSE ratelimit.count END, "
	    "\"window\" = CASE WHEN $3 > 0 THEN $2 "
	    "ELSE ratelimit.\"window\" END RETURNING count", "bii", 0 },
	/*
	 * Sweeps, a batch per statement (its own short transaction).  Rows
	 * locked by live traffic (a claim in progress) are skipped, not
	 * waited for: the next sweep takes them.  The conditions are also
	 * on the outer statement, so that a row changed since the batch was
	 * chosen is looked at again.
	 */
	[S_SWEEP_NOTIFY] = { "UPDATE mail SET state = 'queued', "
	    "event = 'expired', created = $1, updated = $1, next_try = $1 "
	    "WHERE id IN (SELECT id FROM mail WHERE state = 'waiting' AND "
	    "next_try <= $1 LIMIT " SWEEP_BATCH " FOR UPDATE SKIP LOCKED) AND "
	    "state = 'waiting' AND next_try <= $1", "i", 0 },
	[S_SWEEP_EXPIRE] = { "UPDATE metadata SET state = 'expired', "
	    "updated = $1 WHERE seq IN (SELECT seq FROM metadata WHERE "
	    "state IN ('new', 'viewed') AND secret_expires <= $1 "
	    "LIMIT " SWEEP_BATCH " FOR UPDATE SKIP LOCKED) AND "
	    "state IN ('new', 'viewed') AND secret_expires <= $1 "
	    "RETURNING secret_id, custid", "i", 0 },
	[S_SWEEP_SECRET] = { "DELETE FROM secret WHERE id IN (SELECT id FROM "
	    "secret WHERE expires <= $1 LIMIT " SWEEP_BATCH
	    " FOR UPDATE SKIP LOCKED) AND expires <= $1", "i", 0 },
	[S_SWEEP_META] = { "DELETE FROM metadata WHERE seq IN (SELECT seq "
	    "FROM metadata WHERE expires <= $1 LIMIT " SWEEP_BATCH
	    " FOR UPDATE SKIP LOCKED) AND expires <= $1", "i", 0 },
	[S_SWEEP_REQUEST] = { "DELETE FROM request WHERE id IN (SELECT id "
	    "FROM request WHERE expires <= $1 LIMIT " SWEEP_BATCH
	    " FOR UPDATE SKIP LOCKED) AND expires <= $1", "i", 0 },
	[S_SWEEP_MAIL] = { "DELETE FROM mail WHERE id IN (SELECT id FROM mail "
	    "WHERE state IN ('sent', 'failed') AND updated <= $1 LIMIT "
	    SWEEP_BATCH " FOR UPDATE SKIP LOCKED) AND state IN ('sent', "
	    "'failed') AND updated <= $1", "i", 0 },
	[S_SWEEP_LIMITS] = { "DELETE FROM ratelimit WHERE key IN (SELECT key "
	    "FROM ratelimit WHERE \"window\" < $1 LIMIT " SWEEP_BATCH
	    " FOR UPDATE SKIP LOCKED) AND \"window\" < $1", "i", 0 },
	[S_SCRUB_SIZE] = { "SELECT pg_database_size(current_database())",
	    "", 1 },
	/* held by the session: released when the connection ends */
	[S_SWEEP_LOCK] = { "SELECT pg_try_advisory_lock($1)", "i", 1 },
	/* the same words as store_sqlite's: store_stats_row reads the rows */
	[S_STATS] = { "SELECT 'live'::text, ''::text, count(*) FROM secret "
	    "WHERE expires > $1 UNION ALL "
	    "SELECT 'receipt', CASE WHEN state IN ('new', 'viewed') AND "
	    "secret_expires <= $1 THEN 'expired' ELSE state END AS shown, "
	    "count(*) FROM metadata WHERE expires > $1 GROUP BY shown "
	    "UNION ALL SELECT 'customer', '', count(*) FROM customer "
	    "UNION ALL SELECT kind, state, count(*) FROM mail "
	    "GROUP BY kind, state", "i", 0 },
};

struct pgsql {
	struct store	 base;
	char		*conninfo;	/* never logged: may hold a password */
	char		*password;	/* NULL: libpq's own (passfile) */
	PGconn		*conn;		/* NULL: a reconnect failed */
	int		 broken;	/* a call failed: connect again */
	int		 locked;	/* the session holds the sweep lock */
	unsigned char	 prepared[S_MAX];	/* on this connection */
};

/* Parameters of one statement, as libpq takes them. */
struct params {
	int		 n;
	const char	*v[PARAMS_MAX];
	int		 len[PARAMS_MAX];
	int		 fmt[PARAMS_MAX];
	unsigned char	 num[PARAMS_MAX][8];	/* integers' bytes */
};

/* Bytes, or SQL NULL when there are none (as SQLite's bind_blob). */
static void
p_bytes(struct params *p, const void *b, size_t len)
{
	p->v[p->n] = b != NULL && len > 0 ? b : NULL;
	p->len[p->n] = b != NULL && len > 0 ? (int)len : 0;
	p->fmt[p->n++] = 1;
}

/* An int8 in network order. */
static void
p_int(struct params *p, long long v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--, u >>= 8)
		p->num[p->n][i] = (unsigned char)(u & 0xff);
	p->v[p->n] = (const char *)p->num[p->n];
	p->len[p->n] = 8;
	p->fmt[p->n++] = 1;
}

static void
p_bool(struct params *p, int v)
{
	p->num[p->n][0] = v != 0;
	p->v[p->n] = (const char *)p->num[p->n];
	p->len[p->n] = 1;
	p->fmt[p->n++] = 1;
}

/* A NUL-terminated string (text's binary form is its bytes). */
static void
p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = (int)strlen(s);
	p->fmt[p->n++] = 1;
}

static void
p_null(struct params *p)
{
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 1;
}

/* The first line of msg into buf (libpq's messages end in newlines). */
static const char *
first_line(const char *msg, char *buf, size_t len)
{
	size_t n;

	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	n = strcspn(msg, "\r\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, msg, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Log a failed call: the server's primary message when there is a result
 * (not its DETAIL, which may quote a value), else the connection's.  The
 * next store_ready connects again (as SQLite's engine reopens).
 */
static void
dberr(struct pgsql *s, const PGresult *r, const char *what)
{
	const char *msg = NULL;
	char line[256];

	s->broken = 1;
	if (r != NULL)
		msg = pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL && s->conn != NULL)
		msg = pq.PQerrorMessage(s->conn);
	log_warnx("store: %s: %s", what, first_line(msg, line, sizeof(line)));
}

/* 1 if the result failed with SQLSTATE code. */
static int
sqlstate_is(const PGresult *r, const char *code)
{
	const char *st = pq.PQresultErrorField(r, PG_DIAG_SQLSTATE);

	return st != NULL && strcmp(st, code) == 0;
}

static const char *const names[S_MAX] = {
	[S_CLOCK] = "ots_clock", [S_VERSION] = "ots_version",
	[S_KEY_LIST] = "ots_key_list", [S_KEY_PUT] = "ots_key_put",
	[S_KEY_DEL] = "ots_key_del", [S_KEY_USE] = "ots_key_use",
	[S_CREATE] = "ots_create", [S_CREATE_MAIL] = "ots_create_mail",
	[S_SECRET_GET] = "ots_secret_get", [S_CLAIM] = "ots_claim",
	[S_META_GET] = "ots_meta_get", [S_META_VIEWED] = "ots_meta_viewed",
	[S_META_RECENT] = "ots_meta_recent", [S_CUST_PUT] = "ots_cust_put",
	[S_CUST_GET] = "ots_cust_get", [S_CUST_BY_ID] = "ots_cust_by_id",
	[S_CUST_NOTIFY] = "ots_cust_notify", [S_CUST_TOKEN] = "ots_cust_token",
	[S_CUST_DEL] = "ots_cust_del", [S_CUST_LIST] = "ots_cust_list",
	[S_MAIL_TAKE] = "ots_mail_take", [S_MAIL_DONE] = "ots_mail_done",
	[S_MAIL_RETRY] = "ots_mail_retry", [S_MAIL_DUE] = "ots_mail_due",
	[S_MAIL_LIST] = "ots_mail_list", [S_TRY_RESERVE] = "ots_try_reserve",
	[S_TRY_LOCK] = "ots_try_lock", [S_TRY_FAILED] = "ots_try_failed",
	[S_LIMIT_ADD] = "ots_limit_add", [S_SWEEP_NOTIFY] = "ots_sweep_notify",
	[S_SWEEP_EXPIRE] = "ots_sweep_expire",
	[S_REQ_PUT] = "ots_req_put", [S_REQ_GET] = "ots_req_get",
	[S_REQ_TAKE] = "ots_req_take",
	[S_SWEEP_SECRET] = "ots_sweep_secret", [S_SWEEP_META] = "ots_sweep_meta",
	[S_SWEEP_REQUEST] = "ots_sweep_request",
	[S_SWEEP_MAIL] = "ots_sweep_mail", [S_SWEEP_LIMITS] = "ots_sweep_limits",
	[S_SCRUB_SIZE] = "ots_scrub_size", [S_SWEEP_LOCK] = "ots_sweep_lock",
	[S_STATS] = "ots_stats",
};

/* The parameter types of statement i as OIDs; their count, or -1. */
static int
param_types(enum stmt i, Oid *oids)
{
	const char *t = stmts[i].types;
	int n;

	for (n = 0; t[n] != '\0'; n++) {
		if (n == PARAMS_MAX)
			return -1;
		switch (t[n]) {
		case 'b':
			oids[n] = OID_BYTEA;
			break;
		case 'i':
			oids[n] = OID_INT8;
			break;
		case 't':
			oids[n] = OID_TEXT;
			break;
		case 'o':
			oids[n] = OID_BOOL;
			break;
		default:
			return -1;
		}
	}
	return n;
}

/*
 * Run statement i with p (NULL: none), asking for binary results;
 * prepared on first use on this connection.  The result (the caller
 * clears it), or NULL when it failed (logged, as what).
 */
static PGresult *
run(struct pgsql *s, enum stmt i, const struct params *p, const char *what)
{
	static const struct params none;
	Oid oids[PARAMS_MAX];
	PGresult *r;
	int n;

	if (p == NULL)
		p = &none;
	if ((n = param_types(i, oids)) != p->n) {
		log_warnx("store: %s: %d parameters for %d", what, p->n, n);
		return NULL;
	}
	if (s->conn == NULL) {
		log_warnx("store: %s: not connected", what);
		s->broken = 1;
		return NULL;
	}
	if (stmts[i].once || s->base.role == STORE_CGI)
		r = pq.PQexecParams(s->conn, stmts[i].sql, n, oids, p->v, p->len,
		    p->fmt, 1);
	else {
		if (!s->prepared[i]) {
			r = pq.PQprepare(s->conn, names[i], stmts[i].sql, n, oids);
			if (pq.PQresultStatus(r) != PGRES_COMMAND_OK) {
				dberr(s, r, what);
				pq.PQclear(r);
				return NULL;
			}
			pq.PQclear(r);
			s->prepared[i] = 1;
		}
		r = pq.PQexecPrepared(s->conn, names[i], n, p->v, p->len, p->fmt,
		    1);
	}
	if (pq.PQresultStatus(r) == PGRES_TUPLES_OK ||
	    pq.PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	dberr(s, r, what);
	pq.PQclear(r);
	return NULL;
}

/* The rows a command changed ("UPDATE 3"), or -1. */
static long long
changed(const PGresult *r)
{
	const char *t = pq.PQcmdTuples((PGresult *)r);
	long long n;

	if (util_strtoll(t, strlen(t), 0, INT64_MAX, &n) == -1)
		return -1;
	return n;
}

/*
 * The integer in column c of row (int8, int4, int2 or bool; NULL reads as
 * 0, as in SQLite).  0, or -1 when the column is of another type or its
 * length is not its type's.
 */
static int
col_int(const PGresult *r, int row, int c, long long *out)
{
	const unsigned char *b;
	uint64_t u = 0;
	int len, want, i;

	*out = 0;
	if (c >= pq.PQnfields(r))
		return -1;
	switch (pq.PQftype(r, c)) {
	case OID_INT8:
		want = 8;
		break;
	case OID_INT4:
		want = 4;
		break;
	case OID_INT2:
		want = 2;
		break;
	case OID_BOOL:
		want = 1;
		break;
	default:
		return -1;
	}
	if (pq.PQgetisnull(r, row, c))
		return 0;
	if (pq.PQfformat(r, c) != 1 || (len = pq.PQgetlength(r, row, c)) != want)
		return -1;
	b = (const unsigned char *)pq.PQgetvalue(r, row, c);
	for (i = 0; i < len; i++)
		u = u << 8 | b[i];
	/* sign-extend the narrower types */
	if (want < 8 && want > 1 && (b[0] & 0x80))
		u |= ~(uint64_t)0 << (want * 8);
	*out = (long long)u;
	return 0;
}

/*
 * The bytes of a bytea or text column: *b and *len (NULL and 0 for SQL
 * NULL).  0, or -1 for another type.
 */
static int
col_raw(const PGresult *r, int row, int c, const char **b, size_t *len)
{
	*b = NULL;
	*len = 0;
	if (c >= pq.PQnfields(r) || pq.PQfformat(r, c) != 1 ||
	    (pq.PQftype(r, c) != OID_BYTEA && pq.PQftype(r, c) != OID_TEXT))
		return -1;
	if (pq.PQgetisnull(r, row, c))
		return 0;
	*b = pq.PQgetvalue(r, row, c);
	*len = (size_t)pq.PQgetlength(r, row, c);
	return 0;
}

/* Bytes into dst of cap; *len 0 when they do not fit (as SQLite's). */
static int
col_blob(const PGresult *r, int row, int c, unsigned char *dst, size_t cap,
    size_t *len)
{
	const char *b;
	size_t n;

	if (col_raw(r, row, c, &b, &n) == -1)
		return -1;
	*len = n <= cap ? n : 0;
	if (*len > 0)
		memcpy(dst, b, n);
	return 0;
}

/* Text into dst of cap, cut to fit and NUL-terminated. */
static int
col_text(const PGresult *r, int row, int c, char *dst, size_t cap)
{
	const char *b;
	size_t n;

	if (col_raw(r, row, c, &b, &n) == -1)
		return -1;
	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, b, n);
	dst[n] = '\0';
	return 0;
}

/* A result that is not what the statement promises: logged, -1. */
static int
bad_result(struct pgsql *s, const char *what)
{
	s->broken = 1;
	log_warnx("store: %s: unexpected result", what);
	return -1;
}

/* One row of one integer (the statements that SELECT a value).  0 or -1. */
static int
one_int(struct pgsql *s, PGresult *r, const char *what, long long *out)
{
	int rc = 0;

	if (pq.PQntuples(r) != 1 || col_int(r, 0, 0, out) == -1)
		rc = bad_result(s, what);
	pq.PQclear(r);
	return rc;
}

/* The server's clock.  0 or -1. */
static int
read_clock(struct pgsql *s, long long *now, long long *version)
{
	PGresult *r;
	int rc = 0;

	if ((r = run(s, S_CLOCK, NULL, "clock")) == NULL)
		return -1;
	if (pq.PQntuples(r) != 1 || col_int(r, 0, 0, now) == -1 ||
	    col_int(r, 0, 1, version) == -1)
		rc = bad_result(s, "clock");
	pq.PQclear(r);
	return rc;
}

/* libpq's notices: a WARNING is worth the log; NOTICEs are chatter. */
static void
notice(void *arg, const char *msg)
{
	char line[256];

	(void)arg;
	if (strncmp(msg, "WARNING", 7) == 0)
		log_warnx("store: %s", first_line(msg, line, sizeof(line)));
}

/* The schema's version on this connection (0: an empty database).  0 or -1. */
static int
schema_version(struct pgsql *s, int *v, char *err, size_t errlen)
{
	const char *msg;
	char line[256];
	PGresult *r;
	long long n;
	int rc = -1;

	r = pq.PQexecParams(s->conn, stmts[S_VERSION].sql, 0, NULL, NULL, NULL,
	    NULL, 1);
	if (pq.PQresultStatus(r) == PGRES_TUPLES_OK && pq.PQntuples(r) == 1 &&
	    col_int(r, 0, 0, &n) == 0 && n >= 0 && n <= INT32_MAX) {
		*v = (int)n;
		rc = 0;
	} else if (sqlstate_is(r, "42P01")) {	/* undefined table */
		*v = 0;
		rc = 0;
	} else {
		if (pq.PQresultStatus(r) == PGRES_TUPLES_OK)
			msg = "no version recorded";
		else if ((msg = pq.PQresultErrorField(r,
		    PG_DIAG_MESSAGE_PRIMARY)) == NULL)
			msg = pq.PQerrorMessage(s->conn);
		util_seterr(err, errlen, "postgresql: schema version: %s",
		    first_line(msg, line, sizeof(line)));
	}
	pq.PQclear(r);
	return rc;
}

/* Take the sweep lock on this session: 1, 0 held elsewhere, -1. */
static int
take_sweep_lock(struct pgsql *s)
{
	struct params p = { 0 };
	PGresult *r;
	long long got;

	p_int(&p, LOCK_SWEEP);
	if ((r = run(s, S_SWEEP_LOCK, &p, "sweep lock")) == NULL ||
	    one_int(s, r, "sweep lock", &got) == -1)
		return -1;
	return got != 0;
}

/*
 * Connect, check the schema's version (but for the migrator), and take
 * the sweep lock again if the lost session held it: another sweep may
 * have it by now, and then this one must stop.  Every statement is to be
 * prepared again on the new connection.  0 or -1 with a message.
 */
static int
pg_connect(struct pgsql *s, char *err, size_t errlen)
{
	const char *keys[10], *vals[10];
	char line[256];
	int n = 0, v;

	/*
	 * Before dbname, so that the conninfo can say otherwise; password
	 * after it, so that database_password_file wins over the conninfo.
	 * A server that vanishes from the network (no reset, no answer) is
	 * noticed within about a minute rather than TCP's quarter of an
	 * hour: a worker waiting on it serves again after that (a restarted
	 * server resets the connection, and that is seen at once).
	 */
	keys[n] = "application_name";
	vals[n++] = "ots";
	keys[n] = "connect_timeout";
	vals[n++] = CONNECT_TIMEOUT;
	keys[n] = "keepalives_idle";
	vals[n++] = "30";
	keys[n] = "keepalives_interval";
	vals[n++] = "10";
	keys[n] = "keepalives_count";
	vals[n++] = "3";
	keys[n] = "tcp_user_timeout";
	vals[n++] = "60000";
	keys[n] = "dbname";
	vals[n++] = s->conninfo;
	if (s->password != NULL) {
		keys[n] = "password";
		vals[n++] = s->password;
	}
	keys[n] = vals[n] = NULL;
	memset(s->prepared, 0, sizeof(s->prepared));
	if ((s->conn = pq.PQconnectdbParams(keys, vals, 1)) == NULL) {
		util_seterr(err, errlen, "postgresql: out of memory");
		return -1;
	}
	if (pq.PQstatus(s->conn) != CONNECTION_OK) {
		/* libpq's message names the server, never the password */
		util_seterr(err, errlen, "postgresql: cannot connect: %s",
		    first_line(pq.PQerrorMessage(s->conn), line, sizeof(line)));
		return -1;
	}
	pq.PQsetNoticeProcessor(s->conn, notice, NULL);
	if (s->base.role != STORE_MIGRATOR) {
		if (schema_version(s, &v, err, errlen) == -1 ||
		    store_schema_check(v, err, errlen) == -1)
			return -1;
	}
	if (s->locked && take_sweep_lock(s) != 1) {
		s->locked = 0;
		util_seterr(err, errlen, "postgresql: the sweep lock was lost "
		    "with the connection (database %s on %s)", pq.PQdb(s->conn),
		    pq.PQhost(s->conn));
		return -1;
	}
	return 0;
}

static void
disconnect(struct pgsql *s)
{
	pq.PQfinish(s->conn);
	s->conn = NULL;
}

/* Connect again (after a failure, or a lost connection).  0 or -1 (logged). */
static int
reconnect(struct pgsql *s)
{
	char err[512];

	disconnect(s);
	s->broken = 0;
	if (pg_connect(s, err, sizeof(err)) == 0)
		return 0;
	log_warnx("store: %s", err);
	disconnect(s);
	s->broken = 1;
	return -1;
}

/*
 * Connect again when the connection was lost or a call failed, then read
 * the server's clock.  A server restarted since the last request shows
 * only now, as this read fails: the read is tried once more, on a new
 * connection.
 */
static int
pgsql_ready(struct store *base, long long *now)
{
	struct pgsql *s = (struct pgsql *)base;
	long long version;
	char err[256];
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if ((s->conn == NULL || s->broken ||
		    pq.PQstatus(s->conn) != CONNECTION_OK) && reconnect(s) == -1)
			return -1;
		if (read_clock(s, now, &version) == 0) {
			if (version >= 0 && version <= INT32_MAX &&
			    store_schema_check((int)version, err, sizeof(err))
			    == 0)
				return 0;
			log_warnx("store: %s", err);
			return -1;
		}
		if (pq.PQstatus(s->conn) == CONNECTION_OK)
			return -1;	/* not a lost connection: no retry */
	}
	return -1;
}

/* The server's clock is every host's: a clock of the caller's is ignored. */
static void
pgsql_set_clock(struct store *base, long long (*clock)(void))
{
	(void)base;
	(void)clock;
}

static void
pgsql_close(struct store *base)
{
	struct pgsql *s = (struct pgsql *)base;

	/*
	 * The session's end would release the sweep lock too, but only once
	 * the server's backend has gone, a moment after this returns: let
	 * it go now, so that a sweep started next finds it free.
	 */
	if (s->locked && s->conn != NULL &&
	    pq.PQstatus(s->conn) == CONNECTION_OK)
		pq.PQclear(pq.PQexec(s->conn, "SELECT pg_advisory_unlock_all()"));
	disconnect(s);
	if (s->conninfo != NULL) {
		sodium_memzero(s->conninfo, strlen(s->conninfo));
		free(s->conninfo);
	}
	if (s->password != NULL) {
		sodium_memzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

/* Run a command of the migration (no parameters).  0 or -1 with a message. */
static int
mig_exec(struct pgsql *s, const char *q, char *err, size_t errlen)
{
	const char *msg;
	char line[256];
	PGresult *r;
	int rc = 0;

	r = pq.PQexec(s->conn, q);
	if (pq.PQresultStatus(r) != PGRES_COMMAND_OK &&
	    pq.PQresultStatus(r) != PGRES_TUPLES_OK) {
		if ((msg = pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) ==
		    NULL)
			msg = pq.PQerrorMessage(s->conn);
		util_seterr(err, errlen, "postgresql: migrate: %s",
		    first_line(msg, line, sizeof(line)));
		rc = -1;
	}
	pq.PQclear(r);
	return rc;
}

/*
 * Apply every migration past the recorded version, in one transaction
 * that also records the new version.  Migrators on several hosts take
 * turns (a transaction-scoped advisory lock): the second finds nothing
 * left to do.  An empty database is version 0.
 */
static int
pgsql_migrate(struct store *base, int *from, int *to, char *err,
    size_t errlen)
{
	struct pgsql *s = (struct pgsql *)base;
	char q[96];
	PGresult *r;
	int have, want, exists;

	if (s->conn == NULL || pq.PQstatus(s->conn) != CONNECTION_OK) {
		util_seterr(err, errlen, "postgresql: migrate: not connected");
		return -1;
	}
	for (want = 0; store_pg_migrations[want] != NULL; want++)
		;
	snprintf(q, sizeof(q), "SELECT pg_advisory_xact_lock(%lld)",
	    LOCK_MIGRATE);
	if (mig_exec(s, "BEGIN", err, errlen) == -1 ||
	    mig_exec(s, q, err, errlen) == -1)
		goto fail;
	/* the table exists once version 1 is in */
	r = pq.PQexec(s->conn, "SELECT to_regclass('schema_version') IS NOT NULL");
	exists = pq.PQresultStatus(r) == PGRES_TUPLES_OK && pq.PQntuples(r) == 1 ?
	    *pq.PQgetvalue(r, 0, 0) == 't' : -1;
	pq.PQclear(r);
	if (exists == -1) {
		util_seterr(err, errlen, "postgresql: migrate: cannot read "
		    "the catalog");
		goto fail;
	}
	have = 0;
	if (exists && schema_version(s, &have, err, errlen) == -1)
		goto fail;
	*from = *to = have;
	if (have > want) {
		store_schema_check(have, err, errlen);
		goto fail;
	}
	for (; have < want; have++) {
		snprintf(q, sizeof(q), "UPDATE schema_version SET version = %d",
		    have + 1);
		if (mig_exec(s, store_pg_migrations[have], err, errlen) == -1 ||
		    mig_exec(s, q, err, errlen) == -1)
			goto fail;
	}
	if (mig_exec(s, "COMMIT", err, errlen) == -1)
		goto fail;
	*to = have;
	return 0;
fail:
	pq.PQclear(pq.PQexec(s->conn, "ROLLBACK"));
	return -1;
}

static const struct store_ops pgsql_ops;

struct store *
store_pg_open(const char *conninfo, const char *password,
    enum store_role role, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	struct pgsql *s;
	char *msg = NULL;

	if (pq_load(err, errlen) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->conninfo = strdup(conninfo)) == NULL ||
	    (password != NULL && (s->password = strdup(password)) == NULL)) {
		util_seterr(err, errlen, "out of memory");
		goto fail;
	}
	s->base.ops = &pgsql_ops;
	s->base.role = role;
	/* libpq's own message about a malformed one may quote a password */
	if ((opts = pq.PQconninfoParse(conninfo, &msg)) == NULL) {
		util_seterr(err, errlen, "postgresql: %s", msg == NULL ?
		    "out of memory" : "the database setting is not a valid "
		    "libpq conninfo (URI or keyword=value)");
		pq.PQfreemem(msg);
		goto fail;
	}
	pq.PQconninfoFree(opts);
	if (pg_connect(s, err, errlen) == -1)
		goto fail;
	return &s->base;
fail:
	if (s != NULL)
		pgsql_close(&s->base);
	return NULL;
}

/* 1 when the key check value in r's row matches check, else 0. */
static int	change_one(struct pgsql *, enum stmt, const struct params *,
		    const char *);

static long
pgsql_key_list(struct store *base, struct store_key *out, size_t max)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	const char *b;
	long long v;
	size_t len;
	long n, i;

	memset(&p, 0, sizeof(p));
	if ((r = run(s, S_KEY_LIST, &p, "key versions")) == NULL)
		return -1;
	n = pq.PQntuples(r);
	if ((size_t)n > max)
		n = (long)max;
	for (i = 0; i < n; i++) {
		if (col_int(r, (int)i, 0, &v) == -1 ||
		    col_raw(r, (int)i, 1, &b, &len) == -1) {
			pq.PQclear(r);
			return bad_result(s, "key versions");
		}
		out[i].version = (int)v;
		memset(out[i].check, 0, CRYPTO_ID_LEN);
		if (len == CRYPTO_ID_LEN)
			memcpy(out[i].check, b, CRYPTO_ID_LEN);
	}
	pq.PQclear(r);
	return n;
}

static int
pgsql_key_add(struct store *base, int version,
    const unsigned char check[CRYPTO_ID_LEN])
{
	struct params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p_int(&p, version);
	p_bytes(&p, check, CRYPTO_ID_LEN);
	/* ON CONFLICT DO NOTHING: no row added means the version is known */
	if ((rc = change_one((struct pgsql *)base, S_KEY_PUT, &p,
	    "add key version")) == -1)
		return -1;
	return rc == 1 ? 0 : 1;
}

static int
pgsql_key_del(struct store *base, int version)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_int(&p, version);
	return change_one((struct pgsql *)base, S_KEY_DEL, &p,
	    "retire key version");
}

static int
pgsql_key_use(struct store *base, int version, struct store_key_use *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p_int(&p, version);
	if ((r = run(s, S_KEY_USE, &p, "key version use")) == NULL)
		return -1;
	if (pq.PQntuples(r) == 1 && col_int(r, 0, 0, &out->secrets) == 0 &&
	    col_int(r, 0, 1, &out->receipts) == 0 &&
	    col_int(r, 0, 2, &out->accounts) == 0)
		rc = 0;
	pq.PQclear(r);
	return rc == 0 ? 0 : bad_result(s, "key version use");
}

/*
 * The secret, its receipt and its outbox rows, in one statement: all of
 * it commits, or none.
 */
static int
pgsql_create(struct store *base, const struct store_secret *sec,
    const struct store_meta *m, const struct store_mail *mail,
    size_t nmail)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	size_t i;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, sec->id, CRYPTO_ID_LEN);
	p_bytes(&p, sec->sealed.data, sec->sealed.len);
	p_bytes(&p, sec->has_salt ? sec->salt : NULL, CRYPTO_SALT_LEN);
	p_int(&p, sec->expires);
	p_bytes(&p, m->id, CRYPTO_ID_LEN);
	p_bytes(&p, m->secret_id, CRYPTO_ID_LEN);
	if (m->customer_id > 0)
		p_int(&p, m->customer_id);
	else
		p_null(&p);
	p_text(&p, m->custid);
	p_bytes(&p, m->wrapped_key, m->wrapped_key_len);
	p_bytes(&p, m->sealed_skey, m->sealed_skey_len);
	p_int(&p, m->ttl);
	p_text(&p, store_state_name(m->state));
	p_bool(&p, m->passphrase);
	p_text(&p, m->recipient);
	p_int(&p, m->created);
	p_int(&p, m->updated);
	if (m->state == STATE_RECEIVED)
		p_int(&p, m->received);
	else
		p_null(&p);
	p_int(&p, m->secret_expires);
	p_int(&p, m->expires);
	p_int(&p, sec->key_version > 0 ? sec->key_version : 1);
	p_int(&p, m->key_version > 0 ? m->key_version : 1);
	if (nmail > MAIL_MAX) {
		log_warnx("store: create: %zu outbox rows", nmail);
		return -1;
	}
	for (i = 0; i < MAIL_MAX && nmail > 0; i++) {
		if (i < nmail) {
			p_text(&p, store_mail_kind_name(mail[i].kind));
			p_bytes(&p, mail[i].rid, CRYPTO_ID_LEN);
			p_bytes(&p, mail[i].sealed.data, mail[i].sealed.len);
			p_text(&p, mail[i].recipient);
		} else {
			p_null(&p);
			p_null(&p);
			p_null(&p);
			p_null(&p);
		}
	}
	if ((r = run(s, nmail > 0 ? S_CREATE_MAIL : S_CREATE, &p,
	    "create secret")) == NULL)
		return -1;
	pq.PQclear(r);
	return 0;
}

static int
pgsql_secret_get(struct store *base, const unsigned char *id, long long now,
    struct store_secret *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	const char *b, *salt;
	size_t n, saltlen;
	PGresult *r;
	int rc;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	if ((r = run(s, S_SECRET_GET, &p, "get secret")) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return 0;
	}
	if (pq.PQntuples(r) != 1 || col_raw(r, 0, 0, &b, &n) == -1 ||
	    col_raw(r, 0, 1, &salt, &saltlen) == -1 ||
	    col_int(r, 0, 2, &out->expires) == -1) {
		pq.PQclear(r);
		return bad_result(s, "get secret");
	}
	memcpy(out->id, id, CRYPTO_ID_LEN);
	out->has_salt = saltlen == CRYPTO_SALT_LEN;
	if (out->has_salt)
		memcpy(out->salt, salt, CRYPTO_SALT_LEN);
	rc = buf_add(&out->sealed, b, n) == 0 ? 1 : -1;
	pq.PQclear(r);
	return rc;
}

static int
pgsql_secret_claim(struct store *base, const unsigned char *id,
    enum store_state state, long long *at)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	long long won;
	PGresult *r;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_text(&p, store_state_name(state));
	if ((r = run(s, S_CLAIM, &p, "claim secret")) == NULL)
		return -1;
	if (pq.PQntuples(r) != 1 || col_int(r, 0, 0, at) == -1 ||
	    col_int(r, 0, 1, &won) == -1) {
		pq.PQclear(r);
		return bad_result(s, "claim secret");
	}
	pq.PQclear(r);
	return won != 0;
}

static int
pgsql_request_add(struct store *base, const struct store_request *q,
    const struct store_mail *mail, size_t nmail)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	size_t i;

	if (nmail > 2) {
		log_warnx("store: request: %zu notices", nmail);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p_bytes(&p, q->id, CRYPTO_ID_LEN);
	p_bytes(&p, q->sealed.data, q->sealed.len);
	p_int(&p, q->customer_id);
	p_int(&p, q->created);
	p_int(&p, q->expires);
	p_int(&p, q->key_version > 0 ? q->key_version : 1);
	for (i = 0; i < 2; i++) {
		if (i < nmail) {
			p_text(&p, store_mail_kind_name(mail[i].kind));
			p_bytes(&p, mail[i].rid, CRYPTO_ID_LEN);
			p_bytes(&p, mail[i].sealed.data, mail[i].sealed.len);
			p_text(&p, mail[i].recipient);
		} else {
			p_null(&p);
			p_null(&p);
			p_null(&p);
			p_null(&p);
		}
	}
	if ((r = run(s, S_REQ_PUT, &p, "add request")) == NULL)
		return -1;
	pq.PQclear(r);
	return 0;
}

/* Fill q from row 0 of sealed, customer_id, created, expires, key_version
 * (and, with at, the clock).  0 or -1. */
static int
request_row(const PGresult *r, const unsigned char *id,
    struct store_request *q, long long *at)
{
	const char *b;
	size_t n;
	long long v;

	if (col_raw(r, 0, 0, &b, &n) == -1 ||
	    col_int(r, 0, 1, &q->customer_id) == -1 ||
	    col_int(r, 0, 2, &q->created) == -1 ||
	    col_int(r, 0, 3, &q->expires) == -1 ||
	    col_int(r, 0, 4, &v) == -1 ||
	    (at != NULL && col_int(r, 0, 5, at) == -1))
		return -1;
	memcpy(q->id, id, CRYPTO_ID_LEN);
	q->key_version = (int)v;
	return buf_add(&q->sealed, b, n);
}

static int
pgsql_request_get(struct store *base, const unsigned char *id, long long now,
    struct store_request *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	int rc;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	if ((r = run(s, S_REQ_GET, &p, "get request")) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return 0;
	}
	rc = pq.PQntuples(r) == 1 && request_row(r, id, out, NULL) == 0;
	pq.PQclear(r);
	return rc ? 1 : bad_result(s, "get request");
}

static int
pgsql_request_take(struct store *base, const unsigned char *id,
    struct store_request *out, long long *at)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	int rc;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	if ((r = run(s, S_REQ_TAKE, &p, "take request")) == NULL)
		return -1;
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return 0;
	}
	rc = pq.PQntuples(r) == 1 && request_row(r, id, out, at) == 0;
	pq.PQclear(r);
	return rc ? 1 : bad_result(s, "take request");
}

static int
pgsql_attempt_reserve(struct store *base, const unsigned char *id,
    long long now, long long lock_after, long long lock_time)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	long long locked;
	PGresult *r;
	int n;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	p_int(&p, lock_after);
	if ((r = run(s, S_TRY_RESERVE, &p, "reserve attempt")) == NULL)
		return -1;
	n = pq.PQntuples(r);
	pq.PQclear(r);
	if (n == 1)
		return 1;
	p_int(&p, lock_time);
	if ((r = run(s, S_TRY_LOCK, &p, "attempt lock")) == NULL ||
	    one_int(s, r, "attempt lock", &locked) == -1)
		return -1;
	return locked ? 2 : 0;
}

static long long
pgsql_attempt_failed(struct store *base, const unsigned char *id,
    long long now, long long lock_after, long long lock_time)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	long long fails = 0;
	PGresult *r;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	p_int(&p, lock_after);
	p_int(&p, lock_time);
	if ((r = run(s, S_TRY_FAILED, &p, "attempt failed")) == NULL)
		return -1;
	/* no row: the secret is gone, as SQLite's 0 */
	if (pq.PQntuples(r) == 0) {
		pq.PQclear(r);
		return 0;
	}
	if (one_int(s, r, "attempt failed", &fails) == -1)
		return -1;
	return fails;
}

/* Fill m from row of META_COLS, deriving 'expired'.  0 or -1. */
static int
meta_row(const PGresult *r, int row, long long now, struct store_meta *m)
{
	char state[16];
	long long v, kv;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (col_blob(r, row, 0, m->id, sizeof(m->id), &n) == -1 ||
	    col_blob(r, row, 1, m->secret_id, sizeof(m->secret_id), &n) == -1 ||
	    col_int(r, row, 2, &m->customer_id) == -1 ||
	    col_text(r, row, 3, m->custid, sizeof(m->custid)) == -1 ||
	    col_blob(r, row, 4, m->wrapped_key, sizeof(m->wrapped_key),
	    &m->wrapped_key_len) == -1 ||
	    col_blob(r, row, 5, m->sealed_skey, sizeof(m->sealed_skey),
	    &m->sealed_skey_len) == -1 ||
	    col_int(r, row, 6, &m->ttl) == -1 ||
	    col_text(r, row, 7, state, sizeof(state)) == -1 ||
	    col_int(r, row, 8, &v) == -1 ||
	    col_text(r, row, 9, m->recipient, sizeof(m->recipient)) == -1 ||
	    col_int(r, row, 10, &m->created) == -1 ||
	    col_int(r, row, 11, &m->updated) == -1 ||
	    col_int(r, row, 12, &m->received) == -1 ||
	    col_int(r, row, 13, &m->secret_expires) == -1 ||
	    col_int(r, row, 14, &m->expires) == -1 ||
	    col_int(r, row, 15, &kv) == -1)
		return -1;
	m->key_version = (int)kv;
	m->state = store_state_parse(state);
	m->passphrase = (int)v;
	if ((m->state == STATE_NEW || m->state == STATE_VIEWED) &&
	    m->secret_expires <= now)
		m->state = STATE_EXPIRED;
	return 0;
}

static int
pgsql_meta_get(struct store *base, const unsigned char *id, long long now,
    struct store_meta *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	int rc;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	if ((r = run(s, S_META_GET, &p, "get metadata")) == NULL)
		return -1;
	rc = pq.PQntuples(r);
	if (rc == 1 && meta_row(r, 0, now, out) == -1)
		rc = -1;
	pq.PQclear(r);
	if (rc == 0 || rc == 1)
		return rc;
	return bad_result(s, "get metadata");
}

/* Run an UPDATE or DELETE of one row at most: 1 changed, 0 not, -1. */
static int
change_one(struct pgsql *s, enum stmt i, const struct params *p,
    const char *what)
{
	PGresult *r;
	long long n;

	if ((r = run(s, i, p, what)) == NULL)
		return -1;
	n = changed(r);
	pq.PQclear(r);
	if (n == -1)
		return bad_result(s, what);
	return n == 1;
}

static int
pgsql_meta_viewed(struct store *base, const unsigned char *id, long long now)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, id, CRYPTO_ID_LEN);
	p_int(&p, now);
	return change_one(s, S_META_VIEWED, &p, "metadata viewed");
}

static int
pgsql_meta_recent(struct store *base, long long customer_id, long long since,
    long long now, int (*fn)(void *, const struct store_meta *), void *arg)
{
	struct pgsql *s = (struct pgsql *)base;
	struct store_meta m;
	struct params p;
	PGresult *r;
	int i, rc = 0;

	memset(&p, 0, sizeof(p));
	p_int(&p, customer_id);
	p_int(&p, since);
	p_int(&p, now);
	if ((r = run(s, S_META_RECENT, &p, "recent metadata")) == NULL)
		return -1;
	for (i = 0; i < pq.PQntuples(r) && rc == 0; i++) {
		if (meta_row(r, i, now, &m) == -1)
			rc = bad_result(s, "recent metadata");
		else if (fn(arg, &m) == -1)
			rc = -1;
	}
	pq.PQclear(r);
	return rc;
}

static int
pgsql_customer_add(struct store *base, const struct store_customer *c)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	int rc;

	memset(&p, 0, sizeof(p));
	p_text(&p, c->custid);
	p_bytes(&p, c->token_hash, CRYPTO_ID_LEN);
	p_text(&p, c->plan);
	p_int(&p, c->created);
	p_int(&p, c->key_version > 0 ? c->key_version : 1);
	/* ON CONFLICT DO NOTHING: no row added means custid exists */
	if ((rc = change_one(s, S_CUST_PUT, &p, "add customer")) == -1)
		return -1;
	return rc == 1 ? 0 : 1;
}

static int
customer_row(const PGresult *r, int row, struct store_customer *c)
{
	long long notify, version;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (col_int(r, row, 0, &c->id) == -1 ||
	    col_text(r, row, 1, c->custid, sizeof(c->custid)) == -1 ||
	    col_blob(r, row, 2, c->token_hash, sizeof(c->token_hash),
	    &n) == -1 ||
	    col_text(r, row, 3, c->plan, sizeof(c->plan)) == -1 ||
	    col_int(r, row, 4, &c->created) == -1 ||
	    col_int(r, row, 5, &notify) == -1 ||
	    col_text(r, row, 6, c->webhook_url, sizeof(c->webhook_url)) == -1 ||
	    col_blob(r, row, 7, c->webhook_key, sizeof(c->webhook_key),
	    &c->webhook_key_len) == -1 ||
	    col_int(r, row, 8, &version) == -1)
		return -1;
	c->notify = (int)notify;
	c->key_version = (int)version;
	return 0;
}

/* One customer by statement i with its parameters.  1, 0 or -1. */
static int
customer_one(struct pgsql *s, enum stmt i, struct params *p,
    struct store_customer *out)
{
	PGresult *r;
	int rc;

	if ((r = run(s, i, p, "get customer")) == NULL)
		return -1;
	rc = pq.PQntuples(r);
	if (rc == 1 && customer_row(r, 0, out) == -1)
		rc = -1;
	pq.PQclear(r);
	if (rc == 0 || rc == 1)
		return rc;
	return bad_result(s, "get customer");
}

static int
pgsql_customer_get(struct store *base, const char *custid,
    struct store_customer *out)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_text(&p, custid);
	return customer_one((struct pgsql *)base, S_CUST_GET, &p, out);
}

static int
pgsql_customer_by_id(struct store *base, long long id,
    struct store_customer *out)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_int(&p, id);
	return customer_one((struct pgsql *)base, S_CUST_BY_ID, &p, out);
}

static int
pgsql_customer_set_notify(struct store *base, const struct store_customer *c)
{
	struct params p;

	memset(&p, 0, sizeof(p));
	p_text(&p, c->custid);
	p_int(&p, c->notify);
	if (c->webhook_url[0] != '\0')
		p_text(&p, c->webhook_url);
	else
		p_null(&p);
	p_bytes(&p, c->webhook_key, c->webhook_key_len);
	return change_one((struct pgsql *)base, S_CUST_NOTIFY, &p,
	    "customer notify");
}

static int
pgsql_customer_set_token(struct store *base, const char *custid,
    const unsigned char hash[CRYPTO_ID_LEN], int version)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;

	memset(&p, 0, sizeof(p));
	p_text(&p, custid);
	p_bytes(&p, hash, CRYPTO_ID_LEN);
	p_int(&p, version);
	return change_one(s, S_CUST_TOKEN, &p, "customer token");
}

static int
pgsql_customer_del(struct store *base, const char *custid)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;

	memset(&p, 0, sizeof(p));
	p_text(&p, custid);
	return change_one(s, S_CUST_DEL, &p, "delete customer");
}

static int
pgsql_customer_list(struct store *base,
    int (*fn)(void *, const struct store_customer *), void *arg)
{
	struct pgsql *s = (struct pgsql *)base;
	struct store_customer c;
	PGresult *r;
	int i, rc = 0;

	if ((r = run(s, S_CUST_LIST, NULL, "list customers")) == NULL)
		return -1;
	for (i = 0; i < pq.PQntuples(r) && rc == 0; i++) {
		if (customer_row(r, i, &c) == -1)
			rc = bad_result(s, "list customers");
		else if (fn(arg, &c) == -1)
			rc = -1;
	}
	pq.PQclear(r);
	return rc;
}

/* Fill m from a row of MAIL_COLS, but the payload.  0 or -1. */
static int
mail_row(const PGresult *r, int row, struct store_mail *m)
{
	char kind[8];
	long long attempts;
	size_t n;

	if (col_int(r, row, 0, &m->id) == -1 ||
	    col_blob(r, row, 1, m->rid, sizeof(m->rid), &n) == -1 ||
	    col_text(r, row, 3, m->recipient, sizeof(m->recipient)) == -1 ||
	    col_text(r, row, 4, m->state, sizeof(m->state)) == -1 ||
	    col_int(r, row, 5, &attempts) == -1 ||
	    col_text(r, row, 6, m->last_error, sizeof(m->last_error)) == -1 ||
	    col_int(r, row, 7, &m->created) == -1 ||
	    col_int(r, row, 8, &m->updated) == -1 ||
	    col_int(r, row, 9, &m->next_try) == -1 ||
	    col_int(r, row, 10, &m->expires) == -1 ||
	    col_text(r, row, 11, kind, sizeof(kind)) == -1 ||
	    col_text(r, row, 12, m->event, sizeof(m->event)) == -1 ||
	    (!pq.PQgetisnull(r, row, 13) &&
	    col_int(r, row, 13, &m->customer_id) == -1))
		return -1;
	m->kind = store_mail_kind_parse(kind);
	m->attempts = (int)attempts;
	return 0;
}

static int
pgsql_mail_take(struct store *base, long long id, long long now,
    long long lease, struct store_mail *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	const char *b;
	PGresult *r;
	size_t n;
	int rc;

	memset(&p, 0, sizeof(p));
	p_int(&p, id);
	p_int(&p, now);
	p_int(&p, now + lease);
	if ((r = run(s, S_MAIL_TAKE, &p, "take mail")) == NULL)
		return -1;
	if ((rc = pq.PQntuples(r)) == 1) {
		if (mail_row(r, 0, out) == -1 || col_raw(r, 0, 2, &b, &n) == -1)
			rc = bad_result(s, "take mail");
		else if (buf_add(&out->sealed, b, n) == -1)
			rc = -1;
	} else if (rc != 0)
		rc = bad_result(s, "take mail");
	pq.PQclear(r);
	return rc;
}

/*
 * Text the server will take: PostgreSQL refuses a string that is not
 * UTF-8 (SQLite keeps any bytes).  An error message from a library might
 * not be; its other bytes become '?'.
 */
static const char *
valid_text(const char *t, char *buf, size_t len)
{
	size_t i;

	if (util_utf8_valid(t, strlen(t)))
		return t;
	for (i = 0; t[i] != '\0' && i < len - 1; i++)
		buf[i] = (unsigned char)t[i] < 0x80 ? t[i] : '?';
	buf[i] = '\0';
	return buf;
}

static int
mail_done(struct pgsql *s, long long id, long long now, const char *state,
    const char *error)
{
	struct params p;
	char buf[512];
	PGresult *r;

	memset(&p, 0, sizeof(p));
	p_int(&p, id);
	p_int(&p, now);
	p_text(&p, state);
	p_text(&p, valid_text(error, buf, sizeof(buf)));
	if ((r = run(s, S_MAIL_DONE, &p, "finish mail")) == NULL)
		return -1;
	pq.PQclear(r);
	return 0;
}

static int
pgsql_mail_sent(struct store *base, long long id, long long now)
{
	return mail_done((struct pgsql *)base, id, now, "sent", "");
}

static int
pgsql_mail_failed(struct store *base, long long id, long long now,
    const char *error)
{
	return mail_done((struct pgsql *)base, id, now, "failed", error);
}

static int
pgsql_mail_retry(struct store *base, long long id, long long now,
    long long next_try, const char *error)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	char buf[512];
	PGresult *r;

	memset(&p, 0, sizeof(p));
	p_int(&p, id);
	p_int(&p, now);
	p_int(&p, next_try);
	p_text(&p, valid_text(error, buf, sizeof(buf)));
	if ((r = run(s, S_MAIL_RETRY, &p, "retry mail")) == NULL)
		return -1;
	pq.PQclear(r);
	return 0;
}

static long
pgsql_mail_due(struct store *base, long long now, long long *ids, size_t max)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;
	long n = 0;
	int i;

	memset(&p, 0, sizeof(p));
	p_int(&p, now);
	p_int(&p, max > INT64_MAX ? INT64_MAX : (long long)max);
	if ((r = run(s, S_MAIL_DUE, &p, "due mail")) == NULL)
		return -1;
	for (i = 0; i < pq.PQntuples(r) && (size_t)n < max; i++)
		if (col_int(r, i, 0, &ids[n++]) == -1) {
			pq.PQclear(r);
			return bad_result(s, "due mail");
		}
	pq.PQclear(r);
	return n;
}

static int
pgsql_mail_list(struct store *base,
    int (*fn)(void *, const struct store_mail *), void *arg)
{
	struct pgsql *s = (struct pgsql *)base;
	struct store_mail m;
	PGresult *r;
	int i, rc = 0;

	if ((r = run(s, S_MAIL_LIST, NULL, "list mail")) == NULL)
		return -1;
	for (i = 0; i < pq.PQntuples(r) && rc == 0; i++) {
		memset(&m, 0, sizeof(m));
		if (mail_row(r, i, &m) == -1)
			rc = bad_result(s, "list mail");
		else if (fn(arg, &m) == -1)
			rc = -1;
	}
	pq.PQclear(r);
	return rc;
}

/*
 * Run one batched statement until it changes less than a batch; each
 * batch is its own transaction, so live traffic waits for no more than
 * one.
 */
static int
sweep_step(struct pgsql *s, enum stmt i, long long when, long long *count,
    const struct store_sweep *sw)
{
	unsigned char id[CRYPTO_ID_LEN];
	char custid[STORE_CUSTID_MAX + 1];
	struct params p;
	PGresult *r;
	long long n;
	size_t len;
	int k;

	do {
		memset(&p, 0, sizeof(p));
		p_int(&p, when);
		if ((r = run(s, i, &p, "sweep")) == NULL)
			return -1;
		n = changed(r);
		/* autocommitted: the rows it returns are swept for good */
		for (k = 0; n != -1 && sw->on_expired != NULL &&
		    k < pq.PQntuples(r); k++) {
			if (col_blob(r, k, 0, id, sizeof(id), &len) == -1 ||
			    col_text(r, k, 1, custid, sizeof(custid)) == -1)
				n = -1;
			else
				sw->on_expired(sw->arg, id, custid);
		}
		pq.PQclear(r);
		if (n == -1)
			return bad_result(s, "sweep");
		*count += n;
	} while (n >= SWEEP_BATCH_N);
	return 0;
}

/* The statements of the sweep's steps (store_engine.h). */
static const enum stmt sweep_stmts[] = {
	[SWEEP_NOTIFY] = S_SWEEP_NOTIFY,
	[SWEEP_EXPIRE] = S_SWEEP_EXPIRE,
	[SWEEP_SECRETS] = S_SWEEP_SECRET,
	[SWEEP_RECEIPTS] = S_SWEEP_META,
	[SWEEP_REQUESTS] = S_SWEEP_REQUEST,
	[SWEEP_MAIL] = S_SWEEP_MAIL,
	[SWEEP_LIMITS] = S_SWEEP_LIMITS,
};

static int
pgsql_sweep(struct store *base, enum store_sweep_step step, long long when,
    long long *count, const struct store_sweep *sw)
{
	return sweep_step((struct pgsql *)base, sweep_stmts[step], when, count,
	    sw);
}

static int
pgsql_limit_add(struct store *base, const unsigned char key[CRYPTO_ID_LEN],
    long long window, int n, long long *count)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p;
	PGresult *r;

	memset(&p, 0, sizeof(p));
	p_bytes(&p, key, CRYPTO_ID_LEN);
	p_int(&p, window);
	p_int(&p, n);
	if ((r = run(s, S_LIMIT_ADD, &p, "rate limit")) == NULL)
		return -1;
	return one_int(s, r, "rate limit", count);
}

/*
 * Report the database's size; rebuild nothing.  No VACUUM here: plain
 * VACUUM only marks dead tuples' space reusable (autovacuum does that
 * already), leaving their bytes in place until new rows overwrite them;
 * VACUUM FULL rewrites a table under an exclusive lock that would stop
 * every host's traffic, and still leaves the WAL and its archives.  The
 * construction is what makes those bytes useless: no stored byte opens a
 * secret without its link.
 */
static int
pgsql_scrub(struct store *base, long long rebuild_max, struct store_scrub *out)
{
	struct pgsql *s = (struct pgsql *)base;
	PGresult *r;

	(void)rebuild_max;
	out->rebuilt = 0;
	if ((r = run(s, S_SCRUB_SIZE, NULL, "size")) == NULL)
		return -1;
	return one_int(s, r, "size", &out->size);
}

static int
pgsql_stats(struct store *base, long long now, struct store_stats *out)
{
	struct pgsql *s = (struct pgsql *)base;
	struct params p = { 0 };
	char what[16], key[16];
	long long n;
	PGresult *r;
	int i, rc = 0;

	p_int(&p, now);
	if ((r = run(s, S_STATS, &p, "stats")) == NULL)
		return -1;
	for (i = 0; i < pq.PQntuples(r) && rc == 0; i++) {
		if (col_text(r, i, 0, what, sizeof(what)) == -1 ||
		    col_text(r, i, 1, key, sizeof(key)) == -1 ||
		    col_int(r, i, 2, &n) == -1)
			rc = bad_result(s, "stats");
		else
			store_stats_row(out, what, key, n);
	}
	pq.PQclear(r);
	if (rc == -1 || (r = run(s, S_SCRUB_SIZE, NULL, "size")) == NULL)
		return -1;
	return one_int(s, r, "size", &out->size);
}

/* A session-level advisory lock: every host's sweeper asks the same one. */
static int
pgsql_sweep_lock(struct store *base)
{
	struct pgsql *s = (struct pgsql *)base;
	int rc;

	if (s->locked)
		return 1;
	if ((rc = take_sweep_lock(s)) == 1)
		s->locked = 1;
	return rc;
}

static const struct store_ops pgsql_ops = {
	.name = "postgresql",
	.close = pgsql_close,
	.migrate = pgsql_migrate,
	.ready = pgsql_ready,
	.set_clock = pgsql_set_clock,
	.key_list = pgsql_key_list,
	.key_add = pgsql_key_add,
	.key_del = pgsql_key_del,
	.key_use = pgsql_key_use,
	.create = pgsql_create,
	.secret_get = pgsql_secret_get,
	.secret_claim = pgsql_secret_claim,
	.attempt_reserve = pgsql_attempt_reserve,
	.attempt_failed = pgsql_attempt_failed,
	.request_add = pgsql_request_add,
	.request_get = pgsql_request_get,
	.request_take = pgsql_request_take,
	.meta_get = pgsql_meta_get,
	.meta_viewed = pgsql_meta_viewed,
	.meta_recent = pgsql_meta_recent,
	.mail_take = pgsql_mail_take,
	.mail_sent = pgsql_mail_sent,
	.mail_failed = pgsql_mail_failed,
	.mail_retry = pgsql_mail_retry,
	.mail_due = pgsql_mail_due,
	.mail_list = pgsql_mail_list,
	.sweep = pgsql_sweep,
	.limit_add = pgsql_limit_add,
	.scrub = pgsql_scrub,
	.stats = pgsql_stats,
	.sweep_lock = pgsql_sweep_lock,
	.customer_add = pgsql_customer_add,
	.customer_get = pgsql_customer_get,
	.customer_set_token = pgsql_customer_set_token,
	.customer_by_id = pgsql_customer_by_id,
	.customer_set_notify = pgsql_customer_set_notify,
	.customer_del = pgsql_customer_del,
	.customer_list = pgsql_customer_list,
};
