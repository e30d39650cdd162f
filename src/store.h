/*
 * store: the storage interface, and the only storage header the rest of
 * the program sees.  Two engines implement it: store_sqlite.c (an embedded
 * file, the default) and store_pg.c (PostgreSQL, for several hosts); the
 * database setting chooses one at open (store_engine.h is the table they
 * fill).  Every SQL statement of the project lives in those two files.
 *
 * Rows are named by CRYPTO_ID_LEN-byte ids (keyed hashes of their keys);
 * the store never sees a key, a passphrase or a plaintext.  Other ids
 * (accounts, mail) are opaque numbers the engine hands out.
 *
 * One clock decides expiry: the store's.  store_ready reads it once per
 * request, after the body is in; the callers pass that time (now) back,
 * and the claim and the attempt reservation read the clock again at the
 * moment they decide.  SQLite's clock is the host's (store_set_clock);
 * PostgreSQL's is the database server's, shared by every host.
 *
 * Every function that changes state does so in one transaction committed
 * (on disk) before it returns.  A function that fails returns -1 (logged):
 * the caller answers 503; a lost connection is made again by the next
 * store_ready, never by retrying a write whose outcome is unknown.
 */
#ifndef OTS_STORE_H
#define OTS_STORE_H

#include <stddef.h>

#include "crypto.h"
#include "util.h"

#define STORE_CUSTID_MAX	254
#define STORE_RECIPIENT_MAX	320
#define STORE_SEALED_KEY_MAX	512	/* a sealed 31..64 byte key */
#define STORE_URL_MAX		2048

struct store;

enum store_state {
	STATE_NEW,
	STATE_VIEWED,
	STATE_RECEIVED,
	STATE_BURNED,
	STATE_EXPIRED,
};

/* The name of a state as the API spells it. */
const char	*store_state_name(enum store_state);

struct store_secret {
	unsigned char	 id[CRYPTO_ID_LEN];
	int		 key_version;	/* written by store_create; 0: 1 */
	struct buf	 sealed;
	unsigned char	 salt[CRYPTO_SALT_LEN];
	int		 has_salt;	/* a passphrase is set */
	long long	 expires;
};

struct store_meta {
	unsigned char	 id[CRYPTO_ID_LEN];
	unsigned char	 secret_id[CRYPTO_ID_LEN];
	long long	 customer_id;	/* 0: anonymous */
	char		 custid[STORE_CUSTID_MAX + 1];
	unsigned char	 wrapped_key[STORE_SEALED_KEY_MAX];
	size_t		 wrapped_key_len;	/* 0: none */
	unsigned char	 sealed_skey[STORE_SEALED_KEY_MAX];
	size_t		 sealed_skey_len;
	long long	 ttl;
	enum store_state state;		/* as stored; see store_meta_state */
	int		 passphrase;
	char		 recipient[STORE_RECIPIENT_MAX + 1];
	long long	 created, updated, received;
	long long	 secret_expires, expires;
	int		 key_version;	/* the master key's that named it
					 * (0 at create: 1) */
};

/* The notices an account's secrets get (bits of store_customer.notify). */
#define NOTIFY_EMAIL	1	/* e-mail to the account's address */
#define NOTIFY_WEBHOOK	2	/* a signed POST to its webhook */

struct store_customer {
	long long	 id;
	char		 custid[STORE_CUSTID_MAX + 1];
	unsigned char	 token_hash[CRYPTO_ID_LEN];
	char		 plan[32];
	long long	 created;
	int		 notify;	/* NOTIFY_* unless a create says */
	char		 webhook_url[STORE_URL_MAX + 1];	/* "": none */
	unsigned char	 webhook_key[STORE_SEALED_KEY_MAX];	/* sealed to */
	size_t		 webhook_key_len;		/* the mailer */
	int		 key_version;	/* the master key's of token_hash
					 * (0 at add: 1) */
};

/* Who opens the store: what it may do and what it checks. */
enum store_role {
	STORE_WORKER,	/* the web worker: rows only */
	STORE_CGI,	/* a web worker for one request (plain CGI): as
			 * STORE_WORKER, but keeps no statement prepared (no
			 * second use to pay for it), so that it also works
			 * through a pooler in transaction mode */
	STORE_SWEEPER,	/* ots-sweep: rows, the sweep lock, scrubbing */
	STORE_ADMIN,	/* ots-admin's account commands */
	STORE_MIGRATOR,	/* ots-admin init/migrate: may create and alter */
};

/*
 * Open the database named by database: "postgresql://...",
 * "postgres://..." or a libpq keyword string ("host=... dbname=...") is
 * PostgreSQL, anything else ("sqlite:PATH" or a path) a SQLite file.
 * password (NULL: none) is PostgreSQL's, when libpq's own passfile is not
 * used.  Every role but STORE_MIGRATOR refuses a schema older or newer than
 * this program's, saying how to fix it; STORE_MIGRATOR makes a missing
 * SQLite file (mode 0600).  A SQLite file or directory that group or
 * others can read is refused.  NULL with a message on error.
 */
struct store	*store_open(const char *database, const char *password,
		    enum store_role, char *err, size_t errlen);
void		 store_close(struct store *);

/* The engine's name: "sqlite" or "postgresql". */
const char	*store_engine(const struct store *);

/*
 * Bring the schema to this program's version with the engine's
 * forward-only migrations (STORE_MIGRATOR only).  *from and *to receive the
 * versions before and after.  A newer schema is refused.  0 or -1 with a
 * message.
 */
int	store_migrate(struct store *, int *from, int *to, char *err,
	    size_t errlen);

/* The schema version this program knows (the same for both engines). */
int	store_schema_version(void);

/*
 * 1 if the last schema version this process read from a database (at
 * open, or by store_ready) was one it does not serve, else 0.
 */
int	store_schema_bad(void);

/*
 * At the start of a request: make the connection again if it was lost (or
 * the SQLite file was replaced), and read the store's clock into *now.
 * 0, or -1 when the store is unavailable (the caller answers 503).
 */
int	store_ready(struct store *, long long *now);

/* SQLite's clock (default: time()); PostgreSQL keeps the server's. */
void		 store_set_clock(struct store *, long long (*)(void));

/*
 * Master-key versions (crypto.h).  The database knows each version's check
 * value; every secret, receipt and account row says which version named
 * and sealed it (key_version above).  A row is found by its id under its
 * own version, so a lookup by key tries each version the process holds,
 * newest first (secret.c); rows are written under the sealing version.
 */
struct store_key {
	int		 version;
	unsigned char	 check[CRYPTO_ID_LEN];
};

/* The versions the database knows, ascending, at most max.  Count or -1. */
long	store_key_list(struct store *, struct store_key *out, size_t max);
/* Record a version.  0 added, 1 the version is known already, -1 error. */
int	store_key_add(struct store *, int version,
	    const unsigned char check[CRYPTO_ID_LEN]);
/* Forget a version (ots-admin key retire).  1, 0 unknown, -1 error. */
int	store_key_del(struct store *, int version);

/* The rows that use a version: what retiring it waits for. */
struct store_key_use {
	long long	 secrets;	/* secret rows (live or not yet swept),
					 * and request links */
	long long	 receipts;	/* metadata rows */
	long long	 accounts;	/* customers' token hashes */
};
/* Count the rows of version (a full scan: ots-admin only).  0 or -1. */
int	store_key_use(struct store *, int version, struct store_key_use *out);

/*
 * Compare a single-version key (version 1's check value) with the
 * database's record of version 1, recording it when the database knows no
 * version yet.  Returns 1 match, 0 mismatch, -1 error.
 */
int	store_check_key(struct store *, const unsigned char check[CRYPTO_ID_LEN]);

enum store_keys {
	STORE_KEYS_MISMATCH = 0,	/* a version's check value differs, or
					 * no version held is known */
	STORE_KEYS_MATCH = 1,		/* every known version is held */
	STORE_KEYS_MISSING = 2,		/* they match, but the database knows
					 * a version this process lacks (it
					 * started before a rotation, or its
					 * host's key file was not updated) */
};

/*
 * Compare every version of held (any handle of a key file) with the
 * versions the database knows; when it knows none yet, record them all
 * (ots-admin init, the first start).  *seal (may be NULL) receives the
 * handle to seal new rows with: the highest version held that the
 * database knows (a version the database does not know yet, from a
 * rotation under way, names no row).  A process refuses to serve on
 * STORE_KEYS_MISMATCH; on STORE_KEYS_MISSING it serves what it can, but
 * is not ready (/readyz): rows of the missing version answer unknown.
 * Returns an enum store_keys or -1 on error.
 */
int	store_check_keys(struct store *, const struct crypto *held,
	    const struct crypto **seal);

/*
 * The outbox: what ots-mailer delivers.  Recipient mail is queued at
 * create; a notice to the creator is stored 'waiting' at create and
 * queued, with its event, when the secret is claimed or expires.  Every
 * payload is sealed to the mailer's key (outbox.h).
 */
enum store_mail_kind {
	MAIL_SECRET,	/* the share link, to the recipient */
	MAIL_NOTIFY,	/* a notice, by e-mail to the creator */
	MAIL_WEBHOOK,	/* a notice, to the creator's webhook */
};

struct store_mail {
	long long	 id;
	enum store_mail_kind kind;
	unsigned char	 rid[CRYPTO_ID_LEN];	/* the delivery id */
	struct buf	 sealed;	/* empty once sent or failed */
	/* the address obfuscated, or "webhook" */
	char		 recipient[STORE_RECIPIENT_MAX + 1];
	char		 state[8];	/* waiting, queued, sent, failed */
	char		 event[12];	/* a notice's: received, burned,
					 * expired */
	long long	 customer_id;	/* a webhook's account */
	int		 attempts;
	char		 last_error[256];
	long long	 created, updated, next_try, expires;
};

/* The name of a kind as stored and listed: secret, notify, webhook. */
const char	*store_mail_kind_name(enum store_mail_kind);

/*
 * Store a new secret, its metadata and its nmail outbox rows in one
 * transaction: MAIL_SECRET queued now, the notices waiting for the
 * secret's end (they take its id, and metadata's customer).  0 or -1.
 */
int	store_create(struct store *, const struct store_secret *,
	    const struct store_meta *, const struct store_mail *mail,
	    size_t nmail);

/*
 * Read the secret whose row id is id, if it has not expired at now.
 * Returns 1 found (the caller frees out->sealed), 0 unknown, -1 error.
 */
int	store_secret_get(struct store *, const unsigned char *id, long long now,
	    struct store_secret *out);

/*
 * Claim the secret: delete its row if it still lives and move its metadata
 * to state (STATE_RECEIVED or STATE_BURNED), in one transaction.  Whether
 * it lives is decided at the moment of the claim, by the store's clock
 * read under the write lock, and *at receives that time (the receipt is
 * stamped with it).  Exactly one of any number of concurrent claims wins.
 * The secret's waiting notices are queued in the same transaction, with
 * the state's name as their event.
 * Returns 1 claimed, 0 already gone or expired, -1 error.
 */
int	store_secret_claim(struct store *, const unsigned char *id,
	    enum store_state state, long long *at);

/*
 * Claim a secret that has no passphrase as store_secret_claim does
 * (STATE_RECEIVED), and fill out (id, sealed, expires) with the row it
 * deleted: the read and the claim in one statement.  1 taken; 0 not taken
 * (gone, expired, protected by a passphrase, or an engine that does not
 * do this: the caller reads and claims as before); -1 error.
 */
int	store_secret_take(struct store *, const unsigned char *id,
	    struct store_secret *out, long long *at);

/*
 * Reserve one passphrase attempt on the secret before checking it.  At
 * most lock_after attempts are reserved per lock window; the window ends
 * lock_time after its last failure (see store_attempt_failed), or after
 * the first refusal if its attempts never reported back (a worker died
 * between reserving and checking).
 * Returns 1 reserved, 0 unknown or expired, 2 locked, -1 error.
 */
int	store_attempt_reserve(struct store *, const unsigned char *id,
	    long long now, long long lock_after, long long lock_time);

/*
 * Record a failed passphrase check; when the window's attempts are used
 * up, the secret locks until now + lock_time.  Returns the failures so far
 * (the caller burns the secret at its limit), or -1 on error.
 */
long long store_attempt_failed(struct store *, const unsigned char *id,
	    long long now, long long lock_after, long long lock_time);

/*
 * Request links (request.h): an account asks for one secret.  The row is
 * named by a keyed hash of the request key (CRYPTO_ID_REQUEST) and holds,
 * sealed under that key, the receipt and secret keys of the answer and
 * the account's note.
 */
#define STORE_NOTE_MAX		500	/* bytes of a request's note */
struct store_request {
	unsigned char	 id[CRYPTO_ID_LEN];
	long long	 customer_id;	/* the account that asked */
	struct buf	 sealed;
	long long	 created, expires;
	int		 key_version;	/* 0 at add: 1 */
};

/*
 * Store a new request and its nmail notices (MAIL_NOTIFY, MAIL_WEBHOOK)
 * in one transaction.  The notices wait under the request's id, due (as
 * "expired") when the request expires unanswered; store_request_take
 * queues them as "answered".  0 or -1.
 */
int	store_request_add(struct store *, const struct store_request *,
	    const struct store_mail *mail, size_t nmail);

/*
 * Read the request whose row id is id, if it lives at now.  1 found (the
 * caller frees out->sealed), 0 unknown, -1 error.
 */
int	store_request_get(struct store *, const unsigned char *id,
	    long long now, struct store_request *out);

/*
 * Take the request: delete its row if it still lives (by the store's
 * clock at the moment, into *at) and fill out with it, and queue its
 * waiting notices with the event "answered", in one transaction.
 * Exactly one of any number of concurrent takes wins.  1 taken (the
 * caller frees out->sealed), 0 gone or expired, -1 error.
 */
int	store_request_take(struct store *, const unsigned char *id,
	    struct store_request *out, long long *at);

/*
 * Read the metadata whose row id is id, if it lives at now.  out->state is
 * STATE_EXPIRED when the secret's time passed unrevealed.
 * Returns 1 found, 0 unknown, -1 error.
 */
int	store_meta_get(struct store *, const unsigned char *id, long long now,
	    struct store_meta *out);

/* Move metadata from new to viewed.  Returns 1 moved, 0 not new, -1 error. */
int	store_meta_viewed(struct store *, const unsigned char *id, long long now);

/*
 * Call fn for each live metadata row of the customer created at or after
 * since, newest first; fn returns 0 to go on, -1 to stop with an error.
 * Returns 0 or -1.
 */
int	store_meta_recent(struct store *, long long customer_id,
	    long long since, long long now,
	    int (*fn)(void *, const struct store_meta *), void *arg);

/*
 * Take the delivery lease of queued mail id if it is due at now: its
 * next_try moves to now + lease and its attempts go up by one, so no other
 * process sends it meanwhile.  Returns 1 taken (out filled; the caller
 * frees out->sealed), 0 not due or not queued, -1 error.
 */
int	store_mail_take(struct store *, long long id, long long now,
	    long long lease, struct store_mail *out);
/* Delivered: state sent, payload dropped.  0 or -1. */
int	store_mail_sent(struct store *, long long id, long long now);
/* Given up: state failed, payload dropped.  0 or -1. */
int	store_mail_failed(struct store *, long long id, long long now,
	    const char *error);
/* Try again at next_try.  0 or -1. */
int	store_mail_retry(struct store *, long long id, long long now,
	    long long next_try, const char *error);
/* Up to max ids of queued mail due at now, oldest first.  Count or -1. */
long	store_mail_due(struct store *, long long now, long long *ids,
	    size_t max);
/* Call fn for each outbox row (without payload), newest first.  0 or -1. */
int	store_mail_list(struct store *,
	    int (*fn)(void *, const struct store_mail *), void *arg);

struct store_sweep {
	long long	 expired;	/* receipts marked expired */
	long long	 notices;	/* notices of expiry queued */
	long long	 secrets;	/* secrets deleted */
	long long	 metadata;	/* receipts deleted */
	long long	 requests;	/* request links deleted */
	long long	 mail;		/* finished mail records deleted */
	long long	 limits;	/* rate-limit counters of old windows */
	/* in: told of each receipt marked expired, once committed (its
	 * secret's row id and account); NULL: nobody asks */
	void		(*on_expired)(void *, const unsigned char *secret_id,
			    const char *custid);
	void		*arg;
};

/*
 * Remove what has expired at now, in short batches so that live traffic
 * goes on: queue the waiting notices of secrets expired unread (event
 * "expired"), mark unrevealed expired receipts 'expired', delete expired
 * secrets and receipts, mail records finished before mail_before, and
 * rate-limit counters of windows before window.  Counts are added to out;
 * out->on_expired is called for each receipt marked expired.  0 or -1.
 */
int	store_sweep(struct store *, long long now, long long mail_before,
	    long long window, struct store_sweep *out);

/*
 * Add n (1, or -1 to give one back) to the counter key in window (a window
 * number); *count receives the count after it.  A counter of an older
 * window starts again; giving back never lowers a count below 0 nor
 * touches another window's.  Written without waiting for the disk: a lost
 * count after a power cut is harmless.  0 or -1.
 */
int	store_limit_add(struct store *, const unsigned char key[CRYPTO_ID_LEN],
	    long long window, int n, long long *count);

/* What the store holds now (ots-admin stats, the metrics' gauges). */
#define STORE_MAIL_STATES	4	/* waiting, queued, sent, failed */
struct store_stats {
	long long	 secrets;		/* stored, not expired */
	long long	 receipts[STATE_EXPIRED + 1];	/* live, by the state
						 * store_meta_get shows */
	long long	 customers;
	long long	 mail[MAIL_WEBHOOK + 1][STORE_MAIL_STATES];	/* kind,
						 * state */
	long long	 size;			/* bytes of the database */
};

/* The name of mail state i (< STORE_MAIL_STATES). */
const char	*store_mail_state_name(int i);

/*
 * Count what the store holds at now: live secrets, live receipts by state
 * (unrevealed ones whose secret expired count as expired, swept or not),
 * accounts, outbox rows by kind and state, and the database's size
 * (SQLite: pages in use times the page size; PostgreSQL:
 * pg_database_size).  Reads only.  0 or -1.
 */
int	store_stats(struct store *, long long now, struct store_stats *out);

struct store_scrub {
	long long	 size;		/* bytes in use, after */
	int		 rebuilt;	/* the whole store was rewritten */
};

/*
 * Leave no byte of deleted rows where the engine can reach it, and report
 * the store's size.  SQLite: the WAL is checkpointed into the file and
 * truncated (secure_delete already zeroes freed cells), and when the file
 * is at most rebuild_max bytes it is rebuilt (VACUUM), which also removes
 * the stale copies cell moves leave inside pages; the rebuild holds the
 * write lock while it copies.  PostgreSQL: deleted rows stay in table
 * files and WAL until VACUUM reuses their space (autovacuum's job) and the
 * WAL is recycled; nothing stored opens a secret without its link, so this
 * reports the size and rebuilds nothing.  0 or -1.
 */
int	store_scrub(struct store *, long long rebuild_max,
	    struct store_scrub *out);

/*
 * Take the sweep's lock, held until the store is closed, so that sweeps
 * started on every host at once run one at a time.  1 taken, 0 another
 * sweep holds it, -1 error.
 */
int	store_sweep_lock(struct store *);

/*
 * A worker between requests, its answer sent: upkeep that must not delay
 * an answer (SQLite: a checkpoint once the WAL has grown).  NULL is fine.
 */
void	store_idle(struct store *);

/* Customers.  _add returns 0, 1 when custid exists, -1 on error. */
int	store_customer_add(struct store *, const struct store_customer *);
/* 1 found, 0 unknown, -1 error. */
int	store_customer_get(struct store *, const char *custid,
	    struct store_customer *out);
int	store_customer_by_id(struct store *, long long id,
	    struct store_customer *out);
/* Write c's notify, webhook_url and webhook_key.  1, 0 unknown, -1. */
int	store_customer_set_notify(struct store *, const struct store_customer *c);
/* Write the token hash made under key version.  1 updated, 0 unknown,
 * -1 error. */
int	store_customer_set_token(struct store *, const char *custid,
	    const unsigned char hash[CRYPTO_ID_LEN], int version);
/* 1 deleted, 0 unknown, -1 error. */
int	store_customer_del(struct store *, const char *custid);
/* Call fn for each customer in custid order.  0 or -1. */
int	store_customer_list(struct store *,
	    int (*fn)(void *, const struct store_customer *), void *arg);

#endif
