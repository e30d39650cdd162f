#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store_engine.h"

#define BUSY_MS	10000
#define CKPT_FRAMES 1000	/* a worker checkpoints past this many WAL pages */
#define WAL_MAX_BYTES "67108864"	/* the WAL file is cut back to this */

/* Migrations, one string per sql/sqlite/NNN_*.sql file (generated schema.c). */
extern const char *const store_sqlite_migrations[];

/* Every statement of the program, prepared once at open. */
enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_VERSION,
	S_KEY_LIST, S_KEY_PUT, S_KEY_DEL, S_KEY_USE,
	S_SECRET_PUT, S_SECRET_GET, S_SECRET_DEL, S_SECRET_TAKE,
	S_META_PUT, S_META_GET, S_META_CLAIM, S_META_VIEWED, S_META_RECENT,
	S_NOTICE_CLAIM,
	S_CUST_PUT, S_CUST_GET, S_CUST_BY_ID, S_CUST_NOTIFY, S_CUST_TOKEN,
	S_CUST_DEL, S_CUST_LIST,
	S_MAIL_PUT, S_MAIL_TAKE, S_MAIL_GET, S_MAIL_DONE, S_MAIL_RETRY,
	S_MAIL_DUE, S_MAIL_LIST,
	S_TRY_RESERVE, S_TRY_LOCKED, S_TRY_LIVE, S_TRY_FAILED,
	S_LIMIT_ADD,
	S_REQ_PUT, S_REQ_GET, S_REQ_TAKE, S_REQ_NOTICE,
	S_SWEEP_NOTIFY, S_SWEEP_EXPIRE, S_SWEEP_SECRET, S_SWEEP_META,
	S_SWEEP_REQUEST, S_SWEEP_MAIL,
	S_SWEEP_LIMITS,
	S_STATS,
	S_MAX
};

#define META_COLS "id, secret_id, customer_id, custid, wrapped_key, " \
	"sealed_skey, ttl, state, passphrase, recipient, created, updated, " \
	"received, secret_expires, expires, key_version"
#define CUST_COLS "id, custid, token_hash, plan, created, notify, " \
	"webhook_url, webhook_key, key_version"
#define MAIL_COLS "id, rid, sealed, recipient, state, attempts, last_error, " \
	"created, updated, next_try, expires, kind, event, customer_id"
#define SWEEP_BATCH "1000"
#define SWEEP_BATCH_N 1000

static const char *const sql[S_MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_VERSION] = "PRAGMA user_version",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_KEY_LIST] = "SELECT version, check_value FROM master_key "
	    "ORDER BY version",
	[S_KEY_PUT] = "INSERT INTO master_key (version, check_value) "
	    "VALUES (?1, ?2) ON CONFLICT (version) DO NOTHING",
	[S_KEY_DEL] = "DELETE FROM master_key WHERE version = ?1",
	/* request links count as secrets: they hold one to come */
	[S_KEY_USE] = "SELECT (SELECT count(*) FROM secret WHERE key_version = ?1) "
	    "+ (SELECT count(*) FROM request WHERE key_version = ?1), "
	    "(SELECT count(*) FROM metadata WHERE key_version = ?1), "
	    "(SELECT count(*) FROM customer WHERE key_version = ?1)",
	[S_SECRET_PUT] = "INSERT INTO secret (id, sealed, salt, expires, "
	    "key_version) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_SECRET_GET] = "SELECT sealed, salt, expires FROM secret "
	    "WHERE id = ?1 AND expires > ?2",
	[S_SECRET_DEL] = "DELETE FROM secret WHERE id = ?1 AND expires > ?2",
	[S_SECRET_TAKE] = "DELETE FROM secret WHERE id = ?1 AND expires > ?2 "
	    "AND salt IS NULL RETURNING sealed, expires",
	[S_META_PUT] = "INSERT INTO metadata (" META_COLS ") VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?16)",
	[S_META_GET] = "SELECT " META_COLS " FROM metadata "
	    "WHERE id = ?1 AND expires > ?2",
	[S_META_CLAIM] = "UPDATE metadata SET state = ?2, updated = ?3, "
	    "received = CASE WHEN ?2 = 'received' THEN ?3 END "
	    "WHERE secret_id = ?1 AND state IN ('new', 'viewed')",
	[S_META_VIEWED] = "UPDATE metadata SET state = 'viewed', updated = ?2 "
	    "WHERE id = ?1 AND state = 'new' AND secret_expires > ?2",
	[S_META_RECENT] = "SELECT " META_COLS " FROM metadata "
	    "WHERE customer_id = ?1 AND created >= ?2 AND expires > ?3 "
	    "ORDER BY created DESC, seq DESC",
	[S_CUST_PUT] = "INSERT INTO customer (custid, token_hash, plan, created,"
	    " key_version) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* a claim queues the secret's notices, with the claim's time */
	[S_NOTICE_CLAIM] = "UPDATE mail SET state = 'queued', event = ?2, "
	    "created = ?3, updated = ?3, next_try = ?3 "
	    "WHERE secret_id = ?1 AND state = 'waiting'",
	[S_CUST_GET] = "SELECT " CUST_COLS " FROM customer WHERE custid = ?1",
	[S_CUST_BY_ID] = "SELECT " CUST_COLS " FROM customer WHERE id = ?1",
	[S_CUST_NOTIFY] = "UPDATE customer SET notify = ?2, webhook_url = ?3, "
	    "webhook_key = ?4 WHERE custid = ?1",
	[S_CUST_TOKEN] = "UPDATE customer SET token_hash = ?2, key_version = ?3 "
	    "WHERE custid = ?1",
	[S_CUST_DEL] = "DELETE FROM customer WHERE custid = ?1",
	[S_CUST_LIST] = "SELECT " CUST_COLS " FROM customer ORDER BY custid",
	[S_MAIL_PUT] = "INSERT INTO mail (kind, rid, sealed, recipient, state, "
	    "secret_id, customer_id, created, updated, next_try, expires) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
	[S_MAIL_TAKE] = "UPDATE mail SET next_try = ?3, attempts = attempts + 1,"
	    " updated = ?2 WHERE id = ?1 AND state = 'queued' AND next_try <= ?2",
	[S_MAIL_GET] = "SELECT " MAIL_COLS " FROM mail WHERE id = ?1",
	[S_MAIL_DONE] = "UPDATE mail SET state = ?3, sealed = NULL, "
	    "last_error = ?4, updated = ?2 WHERE id = ?1",
	[S_MAIL_RETRY] = "UPDATE mail SET next_try = ?3, last_error = ?4, "
	    "updated = ?2 WHERE id = ?1 AND state = 'queued'",
	[S_MAIL_DUE] = "SELECT id FROM mail WHERE state = 'queued' AND "
	    "next_try <= ?1 ORDER BY next_try, id LIMIT ?2",
	[S_MAIL_LIST] = "SELECT " MAIL_COLS " FROM mail ORDER BY id DESC",
	/* a lock that has run out opens a new window of attempts */
	[S_TRY_RESERVE] = "UPDATE secret SET "
	    "tries = CASE WHEN tries < ?3 THEN tries + 1 ELSE 1 END, "
	    "locked_until = CASE WHEN tries < ?3 THEN locked_until ELSE 0 END "
	    "WHERE id = ?1 AND expires > ?2 AND "
	    "(tries < ?3 OR (locked_until > 0 AND locked_until <= ?2))",
	[S_TRY_LOCKED] = "UPDATE secret SET locked_until = ?2 + ?3 "
	    "WHERE id = ?1 AND expires > ?2 AND locked_until = 0",
	[S_TRY_LIVE] = "SELECT 1 FROM secret WHERE id = ?1 AND expires > ?2",
	[S_TRY_FAILED] = "UPDATE secret SET fails = fails + 1, "
	    "locked_until = CASE WHEN tries >= ?3 THEN ?2 + ?4 "
	    "ELSE locked_until END WHERE id = ?1 RETURNING fails",
	/* a count given back (?3 < 0) only ever lowers its own window's */
	[S_LIMIT_ADD] = "INSERT INTO ratelimit (key, window, count) "
	    "VALUES (?1, ?2, max(?3, 0)) ON CONFLICT (key) DO UPDATE SET "
	    "count = CASE WHEN window = ?2 THEN max(count + ?3, 0) "
	    "WHEN ?3 > 0 THEN ?3 ELSE count END, "
	    "window = CASE WHEN ?3 > 0 THEN ?2 ELSE window END "
	    "RETURNING count",
	[S_REQ_PUT] = "INSERT INTO request (id, sealed, customer_id, created, "
	    "expires, key_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_REQ_GET] = "SELECT sealed, customer_id, created, expires, "
	    "key_version FROM request WHERE id = ?1 AND expires > ?2",
	[S_REQ_TAKE] = "DELETE FROM request WHERE id = ?1 AND expires > ?2 "
	    "RETURNING sealed, customer_id, created, expires, key_version",
	/* an answer queues the request's notices, with its time */
	[S_REQ_NOTICE] = "UPDATE mail SET state = 'queued', event = 'answered', "
	    "created = ?2, updated = ?2, next_try = ?2 "
	    "WHERE secret_id = ?1 AND state = 'waiting'",
	[S_SWEEP_NOTIFY] = "UPDATE mail SET state = 'queued', event = 'expired',"
	    " created = ?1, updated = ?1, next_try = ?1 WHERE id IN (SELECT id "
	    "FROM mail WHERE state = 'waiting' AND next_try <= ?1 LIMIT "
	    SWEEP_BATCH ")",
	[S_SWEEP_EXPIRE] = "UPDATE metadata SET state = 'expired', updated = ?1 "
	    "WHERE seq IN (SELECT seq FROM metadata WHERE state IN "
	    "('new', 'viewed') AND secret_expires <= ?1 LIMIT " SWEEP_BATCH ") "
	    "RETURNING secret_id, custid",
	[S_SWEEP_SECRET] = "DELETE FROM secret WHERE id IN (SELECT id FROM "
	    "secret WHERE expires <= ?1 LIMIT " SWEEP_BATCH ")",
	[S_SWEEP_META] = "DELETE FROM metadata WHERE seq IN (SELECT seq FROM "
	    "metadata WHERE expires <= ?1 LIMIT " SWEEP_BATCH ")",
	[S_SWEEP_REQUEST] = "DELETE FROM request WHERE id IN (SELECT id FROM "
	    "request WHERE expires <= ?1 LIMIT " SWEEP_BATCH ")",
	[S_SWEEP_MAIL] = "DELETE FROM mail WHERE id IN (SELECT id FROM mail "
	    "WHERE state IN ('sent', 'failed') AND updated <= ?1 LIMIT "
	    SWEEP_BATCH ")",
	[S_SWEEP_LIMITS] = "DELETE FROM ratelimit WHERE key IN (SELECT key "
	    "FROM ratelimit WHERE window < ?1 LIMIT " SWEEP_BATCH ")",
	/* the same words as store_pg's: store_stats_row reads the rows */
	[S_STATS] = "SELECT 'live', '', count(*) FROM secret "
	    "WHERE expires > ?1 UNION ALL "
	    "SELECT 'receipt', CASE WHEN state IN ('new', 'viewed') AND "
	    "secret_expires <= ?1 THEN 'expired' ELSE state END AS shown, "
	    "count(*) FROM metadata WHERE expires > ?1 GROUP BY shown "
	    "UNION ALL SELECT 'customer', '', count(*) FROM customer "
	    "UNION ALL SELECT kind, state, count(*) FROM mail "
	    "GROUP BY kind, state",
};

/*
 * Group commit across a host's workers.  A worker's connection commits
 * with synchronous=NORMAL (SQLite appends the transaction to the WAL and
 * lets the write lock go without waiting for the disk), then, from the WAL
 * hook, outside every lock and before the statement returns, waits until
 * the WAL is durable up to its commit: one worker at a time syncs it, for
 * everything committed when its sync began, while the others wait for
 * that sync or the next (group_sync).  Marks in DATABASE.sync, shared by
 * mmap, say how far the WAL is known to be written ("committed"), synced
 * ("durable") and being synced ("syncing"), each as the WAL's generation
 * (salt-1 of its header, which a restart of the WAL changes) and a frame
 * count.  A sync covers what was committed before it began.
 * When the WAL restarts, every frame of the old generation was synced by
 * the checkpoint that made the restart possible (NORMAL syncs the WAL
 * before each checkpoint), so a mark of another generation only ever
 * costs a sync.  Other roles (plain CGI, ots-sweep, ots-admin) commit with
 * synchronous=FULL: SQLite syncs inside COMMIT, the simple durable path.
 */
struct sync_marks {
	uint64_t	committed;
	uint64_t	durable;
	uint64_t	syncing;	/* what the sync under way covers, or 0 */
	uint32_t	syncs;		/* + 1 as each sync ends (a futex) */
};

/*
 * Two files: the database, with db for everything; and DATABASE.limits,
 * a SQLite file of its own for the rate-limit counters (opened on first
 * use, synchronous=OFF): a count lost to a crash is harmless, a write
 * transaction and its sync in the database per request is not.
 */
struct lite {
	struct store	 base;
	char		*path;
	dev_t		 dev;		/* the file opened, to see it replaced */
	ino_t		 ino;
	int		 broken;	/* a call failed: check before the next */
	int		 lockfd;	/* the sweep lock, -1 */
	long long	(*clock)(void);
	sqlite3		*db;
	sqlite3		*counters;
	sqlite3_stmt	*st[S_MAX];	/* prepared on first use */
	int		 counters_bad;	/* made again at the next connect */
	struct sync_marks *marks;	/* a worker's, or NULL */
	int		 frames;	/* WAL frames after our last commit */
	int		 page;		/* the page size: a WAL frame's, less 24 */
};

static int
on_counters(enum stmt i)
{
	return i == S_LIMIT_ADD || i == S_SWEEP_LIMITS;
}

static int counters_open(struct lite *, char *, size_t);
static void counters_check(struct lite *);

static long long
clock_time(void)
{
	return (long long)time(NULL);
}

static void
lite_set_clock(struct store *base, long long (*clock)(void))
{
	struct lite *s = (struct lite *)base;

	s->clock = clock;
}

/*
 * Take a statement, prepared on first use (a plain CGI process prepares
 * only what its one request needs), reset and cleared for binding.  NULL
 * when it cannot be prepared (logged): SQLite's calls refuse a NULL
 * statement with SQLITE_MISUSE, so callers see an ordinary failure.
 */
static sqlite3_stmt *
get(struct lite *s, enum stmt i)
{
	char err[256];

	if (s->st[i] == NULL) {
		if (on_counters(i) && s->counters == NULL &&
		    counters_open(s, err, sizeof(err)) == -1) {
			/* tried again on the next use, not left half open */
			log_warnx("store: %s", err);
			counters_check(s);
			sqlite3_close(s->counters);
			s->counters = NULL;
			s->broken = 1;
			return NULL;
		}
		if (sqlite3_prepare_v3(on_counters(i) ? s->counters : s->db,
		    sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL)
		    != SQLITE_OK) {
			log_warnx("store: prepare: %s", sqlite3_errmsg(
			    on_counters(i) ? s->counters : s->db));
			if (on_counters(i))
				counters_check(s);
			s->broken = 1;
			return NULL;
		}
	}
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return s->st[i];
}

static void
dberr(struct lite *s, const char *what)
{
	s->broken = 1;
	log_warnx("store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Run a statement that returns no rows.  0 or -1. */
static int
run(struct lite *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, what);
		return -1;
	}
	return 0;
}

static int
begin(struct lite *s)
{
	return run(s, get(s, S_BEGIN), "begin");
}

static int
commit(struct lite *s)
{
	if (run(s, get(s, S_COMMIT), "commit") == 0)
		return 0;
	/* a failed COMMIT may leave the transaction open */
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_step(get(s, S_ROLLBACK));
	sqlite3_reset(s->st[S_ROLLBACK]);
	return -1;
}

static void
rollback(struct lite *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, get(s, S_ROLLBACK), "rollback");
}

static int
exec(struct lite *s, const char *q, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, q, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* A pragma's number ("PRAGMA user_version"), or -1 with a message. */
static int
pragma_int(struct lite *s, const char *q, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return v;
}

/* Apply every migration past PRAGMA user_version, in one transaction. */
static int
lite_migrate(struct store *base, int *from, int *to, char *err, size_t errlen)
{
	struct lite *s = (struct lite *)base;
	char q[64];
	int have, want;

	for (want = 0; store_sqlite_migrations[want] != NULL; want++)
		;
	if (exec(s, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	if ((have = pragma_int(s, "PRAGMA user_version", err, errlen)) == -1)
		goto fail;
	*from = *to = have;
	if (have > want) {
		store_schema_check(have, err, errlen);
		goto fail;
	}
	for (; have < want; have++) {
		if (exec(s, store_sqlite_migrations[have], err, errlen) == -1)
			goto fail;
		snprintf(q, sizeof(q), "PRAGMA user_version = %d", have + 1);
		if (exec(s, q, err, errlen) == -1)
			goto fail;
	}
	if (exec(s, "COMMIT", err, errlen) == -1)
		goto fail;
	*to = have;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * 1 (with a message saying how to fix it) if the database file or its
 * directory can be read or entered by group or others, else 0.
 */
static int
unsafe(const char *path, char *err, size_t errlen)
{
	char dir[4096], *slash;
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable by others; fix with: "
		    "chmod 600 %s", path, path);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == 0 && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: state directory open to others; fix "
		    "with: chmod 700 %s", dir, dir);
		return 1;
	}
	return 0;
}

/*
 * Writers wait for each other in short sleeps: a write transaction here
 * lasts well under a millisecond, and SQLite's default handler would
 * sleep up to 100 ms at a time.  Gives up after about BUSY_MS.
 */
static int
busy(void *arg, int n)
{
	long us = n < 7 ? 25L << n : 2000;
	struct timespec ts = { 0, us * 1000 };

	(void)arg;
	if (n > BUSY_MS / 2 + 7)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/*
 * Open one connection with the settings every one needs: secure_delete,
 * so that freed content (a revealed secret's ciphertext) is overwritten;
 * sync, FULL, NORMAL or OFF; no trusted schema; foreign keys; the busy
 * handler.
 */
static int
conn_open(const char *path, int flags, const char *sync, sqlite3 **db,
    char *err, size_t errlen)
{
	char q[160], *msg = NULL;

	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | flags |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    *db ? sqlite3_errmsg(*db) : "cannot open");
		return -1;
	}
	sqlite3_busy_handler(*db, busy, NULL);
	/* temp_store: a sandboxed worker writes nowhere but the db's directory */
	snprintf(q, sizeof(q), "PRAGMA secure_delete = ON; PRAGMA synchronous = "
	    "%s; PRAGMA trusted_schema = OFF; PRAGMA foreign_keys = ON; "
	    "PRAGMA temp_store = MEMORY", sync);
	if (sqlite3_exec(*db, q, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		    msg ? msg : sqlite3_errmsg(*db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * The counters' own file, made by the first worker that counts (the
 * others open it if it is there: DATABASE.limits is not theirs to own).
 */
static int
limits_path(const struct lite *s, char *path, size_t len)
{
	return (size_t)snprintf(path, len, "%s.limits", s->path) < len ? 0 : -1;
}

static int
counters_open(struct lite *s, char *err, size_t errlen)
{
	char path[4096], *msg = NULL;
	int make = s->base.role == STORE_WORKER || s->base.role == STORE_CGI;
	int rc, tries = 0;

	if (limits_path(s, path, sizeof(path)) == -1) {
		snprintf(err, errlen, "%s.limits: name too long", s->path);
		return -1;
	}
	if (conn_open(path, make ? SQLITE_OPEN_CREATE : 0, "OFF", &s->counters,
	    err, errlen) == -1)
		return -1;
	/*
	 * A short WAL, checkpointed often (no sync) and on the last close: a
	 * process that opens the file first reads all of the WAL there is.
	 * Workers that make a new file at once can find each other changing
	 * its journal mode, which SQLite answers with "busy" at once: retry.
	 */
	while ((rc = sqlite3_exec(s->counters, "PRAGMA journal_mode = WAL; "
	    "PRAGMA wal_autocheckpoint = 64; "
	    "CREATE TABLE IF NOT EXISTS ratelimit (key BLOB PRIMARY KEY, "
	    "window INTEGER NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID; "
	    "CREATE INDEX IF NOT EXISTS ratelimit_window ON ratelimit (window)",
	    NULL, NULL, &msg)) == SQLITE_BUSY && busy(NULL, tries++)) {
		sqlite3_free(msg);
		msg = NULL;
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s.limits: %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->counters));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * The counters' file is written without a sync: a power cut may leave it
 * broken.  Its counts are not worth a 503 per request: a file that is not
 * (or no longer) a database is removed at the next connect and made again
 * (by a role that makes it).
 */
static void
counters_check(struct lite *s)
{
	int rc = s->counters ? sqlite3_errcode(s->counters) & 0xff : SQLITE_OK;

	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		s->counters_bad = 1;
}

static void
counters_remove(struct lite *s)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char path[4096];
	size_t i;

	for (i = 0; i < 3; i++)
		if ((size_t)snprintf(path, sizeof(path), "%s.limits%s", s->path,
		    suffix[i]) < sizeof(path) && unlink(path) == -1 &&
		    errno != ENOENT)
			log_warn("%s", path);
	log_warnx("store: %s.limits was not a database: rate-limit counts "
	    "start again", s->path);
}

/* DATABASE.sync, mapped (see struct sync_marks); NULL: sync every commit. */
static struct sync_marks *
marks_open(const char *db)
{
	char path[4096];
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.sync", db) >= sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600))
	    == -1) {
		log_warn("%s", path);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (st.st_size >= (off_t)sizeof(struct
	    sync_marks) || ftruncate(fd, sizeof(struct sync_marks)) == 0))
		p = mmap(NULL, sizeof(struct sync_marks), PROT_READ |
		    PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		log_warn("%s", path);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Raise a mark to v: a later frame of its generation, or another one. */
static void
mark_raise(uint64_t *m, uint64_t v)
{
	uint64_t cur = __atomic_load_n(m, __ATOMIC_ACQUIRE);

	while ((cur >> 32 != v >> 32 || cur < v) &&
	    !__atomic_compare_exchange_n(m, &cur, v, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE))
		;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Our last commit's place in the WAL as a mark: its generation and
 * frames, or 0 when it cannot be told.  The generation is the header's
 * salt-1, read after the frame (frames of page bytes): if another writer restarted the WAL since
 * our commit (the checkpoint that allowed it synced our frames), the frame
 * in our last slot carries the new salt only once the new generation has
 * been written that far, so a match always names written frames.
 */
static uint64_t
wal_place(sqlite3_file *wal, int page, int frames)
{
	unsigned char h[32], f[24];

	if (wal->pMethods->xRead(wal, f, sizeof(f), 32 + (sqlite3_int64)
	    (frames - 1) * (page + 24)) != SQLITE_OK ||
	    wal->pMethods->xRead(wal, h, sizeof(h), 0) != SQLITE_OK ||
	    be32(f + 8) != be32(h + 16))
		return 0;
	return (uint64_t)be32(h + 16) << 32 | (uint32_t)frames;
}

static int
covered(const struct sync_marks *m, uint64_t mine)
{
	uint64_t d = __atomic_load_n(&m->durable, __ATOMIC_ACQUIRE);

	return d >> 32 == mine >> 32 && d >= mine;
}

/*
 * One sync at a time per host, and the others wait for it: a commit made
 * while a sync is under way is covered by the next one, which the first
 * of its waiters starts for all of them (up to what was committed when it
 * began).  A wait is bounded (SYNC_WAIT_MS, SYNC_WAITS times): a worker
 * killed in the middle of its sync leaves "syncing" set, and is taken over.
 */
#define SYNC_WAIT_MS	20
#define SYNC_WAITS	5

static int
group_sync(struct sync_marks *m, sqlite3_file *wal, uint64_t mine)
{
	struct timespec ts = { 0, SYNC_WAIT_MS * 1000000L };
	uint64_t busy_with, upto;
	uint32_t seen;
	int rc, waits = 0;

	for (;;) {
		if (covered(m, mine))
			return SQLITE_OK;
		seen = __atomic_load_n(&m->syncs, __ATOMIC_ACQUIRE);
		busy_with = __atomic_load_n(&m->syncing, __ATOMIC_ACQUIRE);
		if (busy_with != 0 && waits++ < SYNC_WAITS) {
			syscall(SYS_futex, &m->syncs, FUTEX_WAIT, seen, &ts, NULL,
			    0);
			continue;
		}
		upto = __atomic_load_n(&m->committed, __ATOMIC_ACQUIRE);
		if (__atomic_compare_exchange_n(&m->syncing, &busy_with, upto, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
	}
	if ((rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL)) == SQLITE_OK)
		mark_raise(&m->durable, upto);
	__atomic_compare_exchange_n(&m->syncing, &upto, 0, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&m->syncs, 1, __ATOMIC_ACQ_REL);
	syscall(SYS_futex, &m->syncs, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	return rc;
}

/*
 * The WAL hook: a transaction of ours is in the WAL (frames long now) and
 * the write lock is free again.  Return only once the WAL is durable up
 * to it, by our sync or by one that began after it was written.  An error
 * fails the statement that committed (its answer is an error, though the
 * transaction stands).
 */
static int
wal_committed(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct lite *s = arg;
	struct sync_marks *m = s->marks;
	sqlite3_file *wal = NULL;
	uint64_t mine;

	(void)name;
	s->frames = frames;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &wal) != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
		return SQLITE_IOERR_FSYNC;
	if (m != NULL && frames > 0 && s->page > 0 &&
	    (mine = wal_place(wal, s->page, frames)) != 0) {
		mark_raise(&m->committed, mine);
		return group_sync(m, wal, mine);
	}
	return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

/* Open the connection and check the schema (but for the migrator). */
static int
lite_connect(struct lite *s, char *err, size_t errlen)
{
	int group = s->base.role == STORE_WORKER;
	struct stat st;
	int have;

	if (conn_open(s->path, 0, group ? "NORMAL" : "FULL", &s->db, err,
	    errlen) == -1)
		return -1;
	/*
	 * The last connection to close checkpoints the WAL and removes it,
	 * so that the next process to open the file (plain CGI: the next
	 * request) does not read the whole WAL to rebuild its index.  Others
	 * leave that to ots-sweep and lite_idle, not to their exit.
	 */
	if (s->base.role != STORE_CGI)
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
		    NULL);
	/* a WAL that grew under load is cut back when it starts over */
	if (group && exec(s, "PRAGMA journal_size_limit = " WAL_MAX_BYTES, err,
	    errlen) == -1)
		return -1;
	/* replaces the automatic checkpoint too: lite_idle does it */
	if (group) {
		if ((s->page = pragma_int(s, "PRAGMA page_size", err, errlen))
		    == -1)
			return -1;
		sqlite3_wal_hook(s->db, wal_committed, s);
	}
	if (stat(s->path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (s->base.role == STORE_MIGRATOR)
		return 0;
	if ((have = pragma_int(s, "PRAGMA user_version", err, errlen)) == -1)
		return -1;
	return store_schema_check(have, err, errlen);
}

/* Close the connections (the statements first); keep the rest. */
static void
lite_disconnect(struct lite *s)
{
	int i;

	for (i = 0; i < S_MAX; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
	sqlite3_close(s->counters);
	sqlite3_close(s->db);
	s->counters = s->db = NULL;
	if (s->counters_bad)
		counters_remove(s);
	s->counters_bad = 0;
}

static void
lite_close(struct store *base)
{
	struct lite *s = (struct lite *)base;

	lite_disconnect(s);
	if (s->marks != NULL)
		munmap(s->marks, sizeof(*s->marks));
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s->path);
	free(s);
}

/*
 * Open again after a failure, or when the file at path is no longer the
 * one open (replaced by a restore, say): an open connection would go on
 * reading the old one.
 */
static int
lite_ready(struct store *base, long long *now)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st_v;
	struct stat st;
	char err[512];
	int version;

	if (s->broken || stat(s->path, &st) == -1 || st.st_dev != s->dev ||
	    st.st_ino != s->ino) {
		lite_disconnect(s);
		if (lite_connect(s, err, sizeof(err)) == -1) {
			log_warnx("store: %s", err);
			lite_disconnect(s);
			/* try again next time, even if the same file is back */
			s->broken = 1;
			return -1;
		}
		s->broken = 0;
	}
	/* ots-admin migrate may have moved the schema since the open */
	if ((st_v = get(s, S_VERSION)) == NULL ||
	    sqlite3_step(st_v) != SQLITE_ROW) {
		if (st_v != NULL)
			sqlite3_reset(st_v);
		dberr(s, "schema version");
		return -1;
	}
	version = sqlite3_column_int(st_v, 0);
	sqlite3_reset(st_v);
	if (store_schema_check(version, err, sizeof(err)) == -1) {
		log_warnx("store: %s", err);
		return -1;
	}
	*now = s->clock();
	return 0;
}

static const struct store_ops lite_ops;

struct store *
store_sqlite_open(const char *path, enum store_role role, char *err,
    size_t errlen)
{
	struct lite *s;
	int fd, create = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &lite_ops;
	s->base.role = role;
	s->clock = clock_time;
	s->lockfd = -1;
	if (role == STORE_MIGRATOR && access(path, F_OK) == -1) {
		/* the file must exist before SQLite opens it, with mode 0600 */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		close(fd);
		create = 1;
	}
	if (unsafe(path, err, errlen))
		goto fail;
	if ((s->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (role == STORE_WORKER)
		s->marks = marks_open(path);
	if (lite_connect(s, err, errlen) == -1)
		goto fail;
	/* WAL is a property of the file, set once when it is made */
	if (create && exec(s, "PRAGMA journal_mode = WAL", err, errlen) == -1)
		goto fail;
	return &s->base;
fail:
	lite_close(&s->base);
	return NULL;
}

static long
lite_key_list(struct store *base, struct store_key *out, size_t max)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_KEY_LIST);
	long n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW && (size_t)n < max) {
		out[n].version = sqlite3_column_int(st, 0);
		memset(out[n].check, 0, CRYPTO_ID_LEN);
		if (sqlite3_column_bytes(st, 1) == CRYPTO_ID_LEN)
			memcpy(out[n].check, sqlite3_column_blob(st, 1),
			    CRYPTO_ID_LEN);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dberr(s, "key versions");
		return -1;
	}
	return n;
}

static int
lite_key_add(struct store *base, int version,
    const unsigned char check[CRYPTO_ID_LEN])
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_KEY_PUT);

	sqlite3_bind_int(st, 1, version);
	sqlite3_bind_blob(st, 2, check, CRYPTO_ID_LEN, SQLITE_STATIC);
	if (run(s, st, "add key version") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

static int
lite_key_del(struct store *base, int version)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_KEY_DEL);

	sqlite3_bind_int(st, 1, version);
	if (run(s, st, "retire key version") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

static int
lite_key_use(struct store *base, int version, struct store_key_use *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_KEY_USE);
	int rc;

	sqlite3_bind_int(st, 1, version);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->secrets = sqlite3_column_int64(st, 0);
		out->receipts = sqlite3_column_int64(st, 1);
		out->accounts = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		dberr(s, "key version use");
		return -1;
	}
	return 0;
}

static void
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (p == NULL || len == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC);
}

static int
lite_create(struct store *base, const struct store_secret *sec,
    const struct store_meta *m, const struct store_mail *mail,
    size_t nmail)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	size_t i;

	if (begin(s) == -1)
		return -1;
	st = get(s, S_SECRET_PUT);
	bind_blob(st, 1, sec->id, CRYPTO_ID_LEN);
	bind_blob(st, 2, sec->sealed.data, sec->sealed.len);
	bind_blob(st, 3, sec->has_salt ? sec->salt : NULL, CRYPTO_SALT_LEN);
	sqlite3_bind_int64(st, 4, sec->expires);
	sqlite3_bind_int(st, 5, sec->key_version > 0 ? sec->key_version : 1);
	if (run(s, st, "create secret") == -1)
		goto fail;
	st = get(s, S_META_PUT);
	bind_blob(st, 1, m->id, CRYPTO_ID_LEN);
	bind_blob(st, 2, m->secret_id, CRYPTO_ID_LEN);
	if (m->customer_id > 0)
		sqlite3_bind_int64(st, 3, m->customer_id);
	sqlite3_bind_text(st, 4, m->custid, -1, SQLITE_STATIC);
	bind_blob(st, 5, m->wrapped_key, m->wrapped_key_len);
	bind_blob(st, 6, m->sealed_skey, m->sealed_skey_len);
	sqlite3_bind_int64(st, 7, m->ttl);
	sqlite3_bind_text(st, 8, store_state_name(m->state), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, m->passphrase);
	sqlite3_bind_text(st, 10, m->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, m->created);
	sqlite3_bind_int64(st, 12, m->updated);
	if (m->state == STATE_RECEIVED)
		sqlite3_bind_int64(st, 13, m->received);
	sqlite3_bind_int64(st, 14, m->secret_expires);
	sqlite3_bind_int64(st, 15, m->expires);
	sqlite3_bind_int(st, 16, m->key_version > 0 ? m->key_version : 1);
	if (run(s, st, "create metadata") == -1)
		goto fail;
	for (i = 0; i < nmail; i++) {
		st = get(s, S_MAIL_PUT);
		sqlite3_bind_text(st, 1, store_mail_kind_name(mail[i].kind), -1,
		    SQLITE_STATIC);
		bind_blob(st, 2, mail[i].rid, CRYPTO_ID_LEN);
		bind_blob(st, 3, mail[i].sealed.data, mail[i].sealed.len);
		sqlite3_bind_text(st, 4, mail[i].recipient, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, mail[i].kind == MAIL_SECRET ?
		    "queued" : "waiting", -1, SQLITE_STATIC);
		if (mail[i].kind != MAIL_SECRET)
			bind_blob(st, 6, sec->id, CRYPTO_ID_LEN);
		if (mail[i].kind == MAIL_WEBHOOK)
			sqlite3_bind_int64(st, 7, m->customer_id);
		sqlite3_bind_int64(st, 8, m->created);
		/* a waiting notice is due, as "expired", when its secret is */
		sqlite3_bind_int64(st, 9, mail[i].kind == MAIL_SECRET ?
		    m->created : sec->expires);
		sqlite3_bind_int64(st, 10, sec->expires);
		if (run(s, st, "queue mail") == -1)
			goto fail;
	}
	return commit(s);
fail:
	rollback(s);
	return -1;
}

static int
lite_secret_get(struct store *base, const unsigned char *id, long long now,
    struct store_secret *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_SECRET_GET);
	int rc;

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		dberr(s, "get secret");
		return -1;
	}
	memcpy(out->id, id, CRYPTO_ID_LEN);
	out->has_salt = sqlite3_column_bytes(st, 1) == CRYPTO_SALT_LEN;
	if (out->has_salt)
		memcpy(out->salt, sqlite3_column_blob(st, 1), CRYPTO_SALT_LEN);
	out->expires = sqlite3_column_int64(st, 2);
	rc = buf_add(&out->sealed, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	return rc == 0 ? 1 : -1;
}

/*
 * The rest of a claim, in its transaction, the secret's row deleted: the
 * receipt moves on, the secret's waiting notices are queued; committed.
 */
static int
claimed(struct lite *s, const unsigned char *id, enum store_state state,
    long long at)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < 2; i++) {
		st = get(s, i == 0 ? S_META_CLAIM : S_NOTICE_CLAIM);
		bind_blob(st, 1, id, CRYPTO_ID_LEN);
		sqlite3_bind_text(st, 2, store_state_name(state), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, at);
		if (run(s, st, "claim") == -1) {
			rollback(s);
			return -1;
		}
	}
	return commit(s);
}

static int
lite_secret_claim(struct store *base, const unsigned char *id,
    enum store_state state, long long *at)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;

	if (begin(s) == -1)
		return -1;
	/* read now, not before: waiting for the lock must not cheat expiry */
	*at = s->clock();
	st = get(s, S_SECRET_DEL);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, *at);
	if (run(s, st, "claim secret") == -1)
		goto fail;
	if (sqlite3_changes(s->db) != 1) {
		rollback(s);
		return 0;
	}
	return claimed(s, id, state, *at) == 0 ? 1 : -1;
fail:
	rollback(s);
	return -1;
}

static int
lite_secret_take(struct store *base, const unsigned char *id,
    struct store_secret *out, long long *at)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	int rc;

	if (begin(s) == -1)
		return -1;
	*at = s->clock();
	st = get(s, S_SECRET_TAKE);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, *at);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memcpy(out->id, id, CRYPTO_ID_LEN);
		out->has_salt = 0;
		out->expires = sqlite3_column_int64(st, 1);
		rc = buf_add(&out->sealed, sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0)) == 0 ?
		    sqlite3_step(st) : SQLITE_NOMEM;
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		rollback(s);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "take secret");
		rollback(s);
		return -1;
	}
	return claimed(s, id, STATE_RECEIVED, *at) == 0 ? 1 : -1;
}

static int
lite_request_add(struct store *base, const struct store_request *q,
    const struct store_mail *mail, size_t nmail)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	size_t i;

	if (begin(s) == -1)
		return -1;
	st = get(s, S_REQ_PUT);
	bind_blob(st, 1, q->id, CRYPTO_ID_LEN);
	bind_blob(st, 2, q->sealed.data, q->sealed.len);
	sqlite3_bind_int64(st, 3, q->customer_id);
	sqlite3_bind_int64(st, 4, q->created);
	sqlite3_bind_int64(st, 5, q->expires);
	sqlite3_bind_int(st, 6, q->key_version > 0 ? q->key_version : 1);
	if (run(s, st, "add request") == -1)
		goto fail;
	for (i = 0; i < nmail; i++) {
		/* notices only: they wait under the request's id until it is
		 * answered, or expires */
		st = get(s, S_MAIL_PUT);
		sqlite3_bind_text(st, 1, store_mail_kind_name(mail[i].kind), -1,
		    SQLITE_STATIC);
		bind_blob(st, 2, mail[i].rid, CRYPTO_ID_LEN);
		bind_blob(st, 3, mail[i].sealed.data, mail[i].sealed.len);
		sqlite3_bind_text(st, 4, mail[i].recipient, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, "waiting", -1, SQLITE_STATIC);
		bind_blob(st, 6, q->id, CRYPTO_ID_LEN);
		if (mail[i].kind == MAIL_WEBHOOK)
			sqlite3_bind_int64(st, 7, q->customer_id);
		sqlite3_bind_int64(st, 8, q->created);
		sqlite3_bind_int64(st, 9, q->expires);
		sqlite3_bind_int64(st, 10, q->expires);
		if (run(s, st, "queue notice") == -1)
			goto fail;
	}
	return commit(s);
fail:
	rollback(s);
	return -1;
}

/* Fill q from a row of sealed, customer_id, created, expires, key_version. */
static int
request_row(sqlite3_stmt *st, const unsigned char *id,
    struct store_request *q)
{
	memcpy(q->id, id, CRYPTO_ID_LEN);
	q->customer_id = sqlite3_column_int64(st, 1);
	q->created = sqlite3_column_int64(st, 2);
	q->expires = sqlite3_column_int64(st, 3);
	q->key_version = sqlite3_column_int(st, 4);
	return buf_add(&q->sealed, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0));
}

static int
lite_request_get(struct store *base, const unsigned char *id, long long now,
    struct store_request *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_REQ_GET);
	int rc;

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		dberr(s, "get request");
		return -1;
	}
	rc = request_row(st, id, out);
	sqlite3_reset(st);
	return rc == 0 ? 1 : -1;
}

static int
lite_request_take(struct store *base, const unsigned char *id,
    struct store_request *out, long long *at)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	int rc;

	if (begin(s) == -1)
		return -1;
	/* read now, under the write lock, as a claim does */
	*at = s->clock();
	st = get(s, S_REQ_TAKE);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, *at);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = request_row(st, id, out) == 0 ? sqlite3_step(st) :
		    SQLITE_NOMEM;
	else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		rollback(s);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "take request");
		goto fail;
	}
	st = get(s, S_REQ_NOTICE);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, *at);
	if (run(s, st, "queue request notices") == -1)
		goto fail;
	return commit(s) == 0 ? 1 : -1;
fail:
	rollback(s);
	buf_free(&out->sealed);
	return -1;
}

static int
lite_attempt_reserve(struct store *base, const unsigned char *id, long long now,
    long long lock_after, long long lock_time)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_TRY_RESERVE);
	int rc;

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lock_after);
	if (run(s, st, "reserve attempt") == -1)
		return -1;
	if (sqlite3_changes(s->db) == 1)
		return 1;
	/* not reserved: a window without a lock time gets one now */
	st = get(s, S_TRY_LOCKED);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lock_time);
	if (run(s, st, "attempt lock") == -1)
		return -1;
	/* locked if the secret still lives, else unknown */
	st = get(s, S_TRY_LIVE);
	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 2;
	if (rc == SQLITE_DONE)
		return 0;
	dberr(s, "attempt lock");
	return -1;
}

static long long
lite_attempt_failed(struct store *base, const unsigned char *id, long long now,
    long long lock_after, long long lock_time)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_TRY_FAILED);
	long long fails = 0;
	int rc;

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lock_after);
	sqlite3_bind_int64(st, 4, lock_time);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fails = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "attempt failed");
		return -1;
	}
	return fails;
}

static void
col_blob(sqlite3_stmt *st, int i, unsigned char *dst, size_t cap,
    size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	*len = n <= cap ? n : 0;
	if (*len > 0)
		memcpy(dst, sqlite3_column_blob(st, i), n);
}

static void
col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Fill m from a row of META_COLS, deriving 'expired'. */
static void
meta_row(sqlite3_stmt *st, long long now, struct store_meta *m)
{
	size_t n;

	memset(m, 0, sizeof(*m));
	col_blob(st, 0, m->id, sizeof(m->id), &n);
	col_blob(st, 1, m->secret_id, sizeof(m->secret_id), &n);
	m->customer_id = sqlite3_column_int64(st, 2);
	col_text(st, 3, m->custid, sizeof(m->custid));
	col_blob(st, 4, m->wrapped_key, sizeof(m->wrapped_key),
	    &m->wrapped_key_len);
	col_blob(st, 5, m->sealed_skey, sizeof(m->sealed_skey),
	    &m->sealed_skey_len);
	m->ttl = sqlite3_column_int64(st, 6);
	m->state = store_state_parse((const char *)sqlite3_column_text(st, 7));
	m->passphrase = sqlite3_column_int(st, 8);
	col_text(st, 9, m->recipient, sizeof(m->recipient));
	m->created = sqlite3_column_int64(st, 10);
	m->updated = sqlite3_column_int64(st, 11);
	m->received = sqlite3_column_int64(st, 12);
	m->secret_expires = sqlite3_column_int64(st, 13);
	m->expires = sqlite3_column_int64(st, 14);
	m->key_version = sqlite3_column_int(st, 15);
	if ((m->state == STATE_NEW || m->state == STATE_VIEWED) &&
	    m->secret_expires <= now)
		m->state = STATE_EXPIRED;
}

static int
lite_meta_get(struct store *base, const unsigned char *id, long long now,
    struct store_meta *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_META_GET);
	int rc;

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		meta_row(st, now, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	dberr(s, "get metadata");
	return -1;
}

static int
lite_meta_viewed(struct store *base, const unsigned char *id, long long now)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_META_VIEWED);

	bind_blob(st, 1, id, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, now);
	if (run(s, st, "metadata viewed") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

static int
lite_meta_recent(struct store *base, long long customer_id, long long since,
    long long now, int (*fn)(void *, const struct store_meta *), void *arg)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_META_RECENT);
	struct store_meta m;
	int rc;

	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		meta_row(st, now, &m);
		if (fn(arg, &m) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "recent metadata");
		return -1;
	}
	return 0;
}

static int
lite_customer_add(struct store *base, const struct store_customer *c)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_PUT);
	int rc;

	sqlite3_bind_text(st, 1, c->custid, -1, SQLITE_STATIC);
	bind_blob(st, 2, c->token_hash, CRYPTO_ID_LEN);
	sqlite3_bind_text(st, 3, c->plan, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->created);
	sqlite3_bind_int(st, 5, c->key_version > 0 ? c->key_version : 1);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return 1;
	dberr(s, "add customer");
	return -1;
}

static void
customer_row(sqlite3_stmt *st, struct store_customer *c)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, c->custid, sizeof(c->custid));
	col_blob(st, 2, c->token_hash, sizeof(c->token_hash), &n);
	col_text(st, 3, c->plan, sizeof(c->plan));
	c->created = sqlite3_column_int64(st, 4);
	c->notify = sqlite3_column_int(st, 5);
	col_text(st, 6, c->webhook_url, sizeof(c->webhook_url));
	col_blob(st, 7, c->webhook_key, sizeof(c->webhook_key),
	    &c->webhook_key_len);
	c->key_version = sqlite3_column_int(st, 8);
}

/* The one customer st (its parameter bound) finds.  1, 0 or -1. */
static int
customer_one(struct lite *s, sqlite3_stmt *st, struct store_customer *out)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		customer_row(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	dberr(s, "get customer");
	return -1;
}

static int
lite_customer_get(struct store *base, const char *custid,
    struct store_customer *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_GET);

	sqlite3_bind_text(st, 1, custid, -1, SQLITE_STATIC);
	return customer_one(s, st, out);
}

static int
lite_customer_by_id(struct store *base, long long id,
    struct store_customer *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_BY_ID);

	sqlite3_bind_int64(st, 1, id);
	return customer_one(s, st, out);
}

static int
lite_customer_set_notify(struct store *base, const struct store_customer *c)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_NOTIFY);

	sqlite3_bind_text(st, 1, c->custid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, c->notify);
	if (c->webhook_url[0] != '\0')
		sqlite3_bind_text(st, 3, c->webhook_url, -1, SQLITE_STATIC);
	bind_blob(st, 4, c->webhook_key, c->webhook_key_len);
	if (run(s, st, "customer notify") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

static int
lite_customer_set_token(struct store *base, const char *custid,
    const unsigned char hash[CRYPTO_ID_LEN], int version)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_TOKEN);

	sqlite3_bind_text(st, 1, custid, -1, SQLITE_STATIC);
	bind_blob(st, 2, hash, CRYPTO_ID_LEN);
	sqlite3_bind_int(st, 3, version);
	if (run(s, st, "customer token") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

static int
lite_customer_del(struct store *base, const char *custid)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_DEL);

	sqlite3_bind_text(st, 1, custid, -1, SQLITE_STATIC);
	if (run(s, st, "delete customer") == -1)
		return -1;
	return sqlite3_changes(s->db) == 1;
}

static int
lite_customer_list(struct store *base,
    int (*fn)(void *, const struct store_customer *), void *arg)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_CUST_LIST);
	struct store_customer c;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		customer_row(st, &c);
		if (fn(arg, &c) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "list customers");
		return -1;
	}
	return 0;
}

static void
mail_row(sqlite3_stmt *st, struct store_mail *m)
{
	size_t n;

	m->id = sqlite3_column_int64(st, 0);
	col_blob(st, 1, m->rid, sizeof(m->rid), &n);
	col_text(st, 3, m->recipient, sizeof(m->recipient));
	col_text(st, 4, m->state, sizeof(m->state));
	m->attempts = sqlite3_column_int(st, 5);
	col_text(st, 6, m->last_error, sizeof(m->last_error));
	m->created = sqlite3_column_int64(st, 7);
	m->updated = sqlite3_column_int64(st, 8);
	m->next_try = sqlite3_column_int64(st, 9);
	m->expires = sqlite3_column_int64(st, 10);
	m->kind = store_mail_kind_parse((const char *)
	    sqlite3_column_text(st, 11));
	col_text(st, 12, m->event, sizeof(m->event));
	m->customer_id = sqlite3_column_int64(st, 13);
}

static int
lite_mail_take(struct store *base, long long id, long long now, long long lease,
    struct store_mail *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	int rc;

	st = get(s, S_MAIL_TAKE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + lease);
	if (run(s, st, "take mail") == -1)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return 0;
	st = get(s, S_MAIL_GET);
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mail_row(st, out);
		rc = buf_add(&out->sealed, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) == 0 ? SQLITE_ROW : -1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	dberr(s, "get mail");
	return -1;
}

static int
mail_done(struct lite *s, long long id, long long now, const char *state,
    const char *error)
{
	sqlite3_stmt *st = get(s, S_MAIL_DONE);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	return run(s, st, "finish mail");
}

static int
lite_mail_sent(struct store *base, long long id, long long now)
{
	struct lite *s = (struct lite *)base;

	return mail_done(s, id, now, "sent", "");
}

static int
lite_mail_failed(struct store *base, long long id, long long now,
    const char *error)
{
	struct lite *s = (struct lite *)base;

	return mail_done(s, id, now, "failed", error);
}

static int
lite_mail_retry(struct store *base, long long id, long long now,
    long long next_try, const char *error)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_MAIL_RETRY);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, next_try);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	return run(s, st, "retry mail");
}

static long
lite_mail_due(struct store *base, long long now, long long *ids, size_t max)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_MAIL_DUE);
	long n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (long long)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "due mail");
		return -1;
	}
	return n;
}

static int
lite_mail_list(struct store *base, int (*fn)(void *, const struct store_mail *),
    void *arg)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_MAIL_LIST);
	struct store_mail m;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		mail_row(st, &m);
		if (fn(arg, &m) == -1) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "list mail");
		return -1;
	}
	return 0;
}

/* A receipt the sweep marked expired, told once its batch commits. */
struct swept {
	unsigned char	 id[CRYPTO_ID_LEN];
	char		 custid[STORE_CUSTID_MAX + 1];
};

/*
 * Run one batched statement until it changes less than a batch.  Rows it
 * returns (SWEEP_EXPIRE's) go to sw->on_expired after their commit.
 */
static int
sweep_step(struct lite *s, enum stmt i, long long when, long long *count,
    const struct store_sweep *sw)
{
	struct swept *rows = NULL;
	sqlite3_stmt *st;
	size_t len;
	int n, k, rc;

	if (sw->on_expired != NULL && i == S_SWEEP_EXPIRE &&
	    (rows = calloc(SWEEP_BATCH_N, sizeof(*rows))) == NULL)
		return -1;
	do {
		if (begin(s) == -1)
			goto fail;
		st = get(s, i);
		sqlite3_bind_int64(st, 1, when);
		for (k = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; k++)
			if (rows != NULL && k < SWEEP_BATCH_N) {
				col_blob(st, 0, rows[k].id, CRYPTO_ID_LEN,
				    &len);
				col_text(st, 1, rows[k].custid,
				    sizeof(rows[k].custid));
			}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			dberr(s, "sweep");
			rollback(s);
			goto fail;
		}
		n = sqlite3_changes(s->db);
		if (commit(s) == -1)
			goto fail;
		*count += n;
		for (k = 0; rows != NULL && k < n && k < SWEEP_BATCH_N; k++)
			sw->on_expired(sw->arg, rows[k].id, rows[k].custid);
	} while (n >= SWEEP_BATCH_N);
	free(rows);
	return 0;
fail:
	free(rows);
	return -1;
}

/* The counters of old windows, in their own file (if anyone counted). */
static int
sweep_limits(struct lite *s, long long when, long long *count)
{
	sqlite3_stmt *st;
	char path[4096];
	int n;

	if (s->counters == NULL && (limits_path(s, path, sizeof(path)) == -1 ||
	    access(path, F_OK) == -1))
		return 0;
	do {
		if ((st = get(s, S_SWEEP_LIMITS)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, when);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_warnx("store: sweep: %s", sqlite3_errmsg(s->counters));
			counters_check(s);
			sqlite3_reset(st);
			s->broken = 1;
			return -1;
		}
		sqlite3_reset(st);
		n = sqlite3_changes(s->counters);
		*count += n;
	} while (n >= SWEEP_BATCH_N);
	return 0;
}

/* The statements of the sweep's steps (store_engine.h), in its order. */
static const enum stmt sweep_stmts[] = {
	[SWEEP_NOTIFY] = S_SWEEP_NOTIFY,
	[SWEEP_EXPIRE] = S_SWEEP_EXPIRE,
	[SWEEP_SECRETS] = S_SWEEP_SECRET,
	[SWEEP_RECEIPTS] = S_SWEEP_META,
	[SWEEP_REQUESTS] = S_SWEEP_REQUEST,
	[SWEEP_MAIL] = S_SWEEP_MAIL,
};

static int
lite_sweep(struct store *base, enum store_sweep_step step, long long when,
    long long *count, const struct store_sweep *sw)
{
	if (step == SWEEP_LIMITS)
		return sweep_limits((struct lite *)base, when, count);
	return sweep_step((struct lite *)base, sweep_stmts[step], when, count,
	    sw);
}

static int
lite_limit_add(struct store *base, const unsigned char key[CRYPTO_ID_LEN],
    long long window, int n, long long *count)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st;
	int rc;

	if ((st = get(s, S_LIMIT_ADD)) == NULL)
		return -1;
	bind_blob(st, 1, key, CRYPTO_ID_LEN);
	sqlite3_bind_int64(st, 2, window);
	sqlite3_bind_int(st, 3, n);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: rate limit: %s", sqlite3_errmsg(s->counters));
		counters_check(s);
		s->broken = 1;
		return -1;
	}
	return 0;
}

static long long
size(struct lite *s)
{
	sqlite3_stmt *st;
	long long size = -1;

	if (sqlite3_prepare_v2(s->db, "SELECT page_count * page_size FROM "
	    "pragma_page_count(), pragma_page_size()", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		size = sqlite3_column_int64(st, 0);
	else
		dberr(s, "size");
	sqlite3_finalize(st);
	return size;
}

static int
vacuum(struct lite *s)
{
	char err[256];

	/* in memory: a temporary file would be one more copy on disk */
	if (exec(s, "PRAGMA temp_store = MEMORY; VACUUM", err, sizeof(err))
	    == -1) {
		log_warnx("store: vacuum: %s", err);
		return -1;
	}
	return 0;
}

static int
checkpoint(struct lite *s)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int rc, tries;

	/*
	 * A worker's automatic checkpoint holds the checkpoint lock without
	 * calling our busy handler: wait for it, as long as the busy timeout.
	 */
	for (tries = BUSY_MS / 10; ; tries--) {
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (rc != SQLITE_BUSY || tries == 0)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc != SQLITE_OK) {
		dberr(s, "checkpoint");
		return -1;
	}
	return 0;
}

static int
lite_scrub(struct store *base, long long rebuild_max, struct store_scrub *out)
{
	struct lite *s = (struct lite *)base;

	if ((out->size = size(s)) == -1)
		return -1;
	out->rebuilt = out->size <= rebuild_max;
	if ((out->rebuilt && vacuum(s) == -1) || checkpoint(s) == -1 ||
	    (out->size = size(s)) == -1)
		return -1;
	return 0;
}

static int
lite_stats(struct store *base, long long now, struct store_stats *out)
{
	struct lite *s = (struct lite *)base;
	sqlite3_stmt *st = get(s, S_STATS);
	int rc;

	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_stats_row(out, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		dberr(s, "stats");
		return -1;
	}
	return (out->size = size(s)) == -1 ? -1 : 0;
}

/*
 * Between requests: a worker's WAL hook replaced SQLite's automatic
 * checkpoint, which would have run inside a request; once the WAL has
 * grown past CKPT_FRAMES, copy what it can back into the database now,
 * at first without waiting for anyone (another worker may be at it).
 */
static void
lite_idle(struct store *base)
{
	struct lite *s = (struct lite *)base;
	int rc;

	if (s->db == NULL || s->frames < CKPT_FRAMES)
		return;
	/*
	 * Readers that never all pause at once keep the WAL from starting
	 * over: past 4 times the mark, wait for them to move on (writers
	 * wait meanwhile, briefly), so that the next commit restarts it.
	 */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, s->frames < 4 *
	    CKPT_FRAMES ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_RESTART,
	    NULL, NULL);
	s->frames = 0;
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		dberr(s, "checkpoint");
}

/* An exclusive flock on DATABASE.sweep-lock, released when closed. */
static int
lite_sweep_lock(struct store *base)
{
	struct lite *s = (struct lite *)base;
	char lock[4096];

	if (s->lockfd != -1)
		return 1;
	if ((size_t)snprintf(lock, sizeof(lock), "%s.sweep-lock", s->path) >=
	    sizeof(lock) || (s->lockfd = open(lock, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("%s", lock);
		return -1;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	close(s->lockfd);
	s->lockfd = -1;
	if (errno == EWOULDBLOCK)
		return 0;
	log_warn("%s", lock);
	return -1;
}

static const struct store_ops lite_ops = {
	.name = "sqlite",
	.close = lite_close,
	.migrate = lite_migrate,
	.ready = lite_ready,
	.set_clock = lite_set_clock,
	.key_list = lite_key_list,
	.key_add = lite_key_add,
	.key_del = lite_key_del,
	.key_use = lite_key_use,
	.create = lite_create,
	.secret_get = lite_secret_get,
	.secret_claim = lite_secret_claim,
	.secret_take = lite_secret_take,
	.attempt_reserve = lite_attempt_reserve,
	.attempt_failed = lite_attempt_failed,
	.request_add = lite_request_add,
	.request_get = lite_request_get,
	.request_take = lite_request_take,
	.meta_get = lite_meta_get,
	.meta_viewed = lite_meta_viewed,
	.meta_recent = lite_meta_recent,
	.mail_take = lite_mail_take,
	.mail_sent = lite_mail_sent,
	.mail_failed = lite_mail_failed,
	.mail_retry = lite_mail_retry,
	.mail_due = lite_mail_due,
	.mail_list = lite_mail_list,
	.sweep = lite_sweep,
	.limit_add = lite_limit_add,
	.scrub = lite_scrub,
	.stats = lite_stats,
	.sweep_lock = lite_sweep_lock,
	.idle = lite_idle,
	.customer_add = lite_customer_add,
	.customer_get = lite_customer_get,
	.customer_set_token = lite_customer_set_token,
	.customer_by_id = lite_customer_by_id,
	.customer_set_notify = lite_customer_set_notify,
	.customer_del = lite_customer_del,
	.customer_list = lite_customer_list,
};
