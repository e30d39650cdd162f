#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "store_engine.h"

/*
 * The schema version both engines' migrations reach (sql/sqlite/,
 * sql/postgresql/: one file per version, the same meaning in each), and
 * the oldest this program can still serve.  A release whose migration only
 * adds (a column with a default, an index) keeps SCHEMA_OLDEST at the
 * previous version, so that its binaries can be rolled out before
 * `ots-admin migrate` runs; version 1 lacked the tables of 2.
 */
#define SCHEMA_VERSION	6
/*
 * Version 5's binaries write each row's master-key version and read the
 * versions' table: they cannot serve version 4, nor version 4's binaries
 * version 5 (stop the workers, migrate, start the new ones).
 */
/*
 * Version 6 adds the request table, which these binaries' sweep and
 * prepared statements use: they cannot serve version 5 (migrate first).
 */
#define SCHEMA_OLDEST	6

static const char *const state_names[] = {
	[STATE_NEW] = "new",
	[STATE_VIEWED] = "viewed",
	[STATE_RECEIVED] = "received",
	[STATE_BURNED] = "burned",
	[STATE_EXPIRED] = "expired",
};

const char *
store_state_name(enum store_state s)
{
	return state_names[s];
}

static const char *const kind_names[] = {
	[MAIL_SECRET] = "secret",
	[MAIL_NOTIFY] = "notify",
	[MAIL_WEBHOOK] = "webhook",
};

const char *
store_mail_kind_name(enum store_mail_kind k)
{
	return kind_names[k];
}

/* A stored kind's enum (store_engine.h). */
enum store_mail_kind
store_mail_kind_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (s != NULL && strcmp(s, kind_names[i]) == 0)
			return (enum store_mail_kind)i;
	return MAIL_SECRET;	/* unreachable: the schemas check kinds */
}

enum store_state
store_state_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (s != NULL && strcmp(s, state_names[i]) == 0)
			return (enum store_state)i;
	return STATE_BURNED;	/* unreachable: the schemas check states */
}

static const char *const mail_states[STORE_MAIL_STATES] = {
	"waiting", "queued", "sent", "failed",
};

const char *
store_mail_state_name(int i)
{
	return mail_states[i];
}

void
store_stats_row(struct store_stats *out, const char *what, const char *key,
    long long n)
{
	size_t i, k;

	if (strcmp(what, "live") == 0)
		out->secrets += n;
	else if (strcmp(what, "customer") == 0)
		out->customers += n;
	else if (strcmp(what, "receipt") == 0) {
		for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
			if (strcmp(key, state_names[i]) == 0)
				out->receipts[i] += n;
	} else
		for (k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
			for (i = 0; strcmp(what, kind_names[k]) == 0 &&
			    i < STORE_MAIL_STATES; i++)
				if (strcmp(key, mail_states[i]) == 0)
					out->mail[k][i] += n;
}

int
store_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* What the last check saw, for /readyz's reason (a process, one store). */
static int schema_bad;

int
store_schema_bad(void)
{
	return schema_bad;
}

int
store_schema_check(int have, char *err, size_t errlen)
{
	schema_bad = have < SCHEMA_OLDEST || have > SCHEMA_VERSION;
	if (!schema_bad)
		return 0;
	if (have < SCHEMA_OLDEST)
		snprintf(err, errlen, "database schema version %d is older "
		    "than this program's (%d): run ots-admin migrate", have,
		    SCHEMA_VERSION);
	else
		snprintf(err, errlen, "database schema version %d is newer "
		    "than this program's (%d): install the newer ots", have,
		    SCHEMA_VERSION);
	return -1;
}

struct store *
store_open(const char *database, const char *password, enum store_role role,
    char *err, size_t errlen)
{
	struct store *s;

	if (conf_is_postgresql(database))
		s = store_pg_open(database, password, role, err, errlen);
	else
		s = store_sqlite_open(strncmp(database, "sqlite:", 7) == 0 ?
		    database + 7 : database, role, err, errlen);
	if (s != NULL)
		s->role = role;
	return s;
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *
store_engine(const struct store *s)
{
	return s->ops->name;
}

int
store_migrate(struct store *s, int *from, int *to, char *err, size_t errlen)
{
	if (s->role != STORE_MIGRATOR) {
		snprintf(err, errlen, "only ots-admin migrates the schema");
		return -1;
	}
	return s->ops->migrate(s, from, to, err, errlen);
}

int
store_ready(struct store *s, long long *now)
{
	return s->ops->ready(s, now);
}

void
store_set_clock(struct store *s, long long (*clock)(void))
{
	s->ops->set_clock(s, clock);
}

long
store_key_list(struct store *s, struct store_key *out, size_t max)
{
	return s->ops->key_list(s, out, max);
}

int
store_key_add(struct store *s, int version,
    const unsigned char check[CRYPTO_ID_LEN])
{
	return s->ops->key_add(s, version, check);
}

int
store_key_del(struct store *s, int version)
{
	return s->ops->key_del(s, version);
}

int
store_key_use(struct store *s, int version, struct store_key_use *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->key_use(s, version, out);
}

/*
 * The versions the database knows into known (CRYPTO_VERSIONS_MAX); when
 * it knows none, first record version 1 as check (held NULL) or every
 * version of held.  Two processes starting at once: the first value of
 * each version stays (store_key_add never replaces), and both compare
 * with it.  Count or -1.
 */
static long
known_keys(struct store *s, const struct crypto *held,
    const unsigned char *check, struct store_key *known)
{
	unsigned char c[CRYPTO_ID_LEN];
	const struct crypto *k;
	long n;

	if ((n = store_key_list(s, known, CRYPTO_VERSIONS_MAX)) != 0)
		return n;
	if (held == NULL && store_key_add(s, 1, check) == -1)
		return -1;
	for (k = held ? crypto_newest(held) : NULL; k; k = crypto_older(k)) {
		crypto_check_value(k, c);
		if (store_key_add(s, crypto_key_version(k), c) == -1)
			return -1;
	}
	return store_key_list(s, known, CRYPTO_VERSIONS_MAX);
}

int
store_check_key(struct store *s, const unsigned char check[CRYPTO_ID_LEN])
{
	struct store_key known[CRYPTO_VERSIONS_MAX];
	long n, i;

	if ((n = known_keys(s, NULL, check, known)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (known[i].version == 1)
			return crypto_equal(known[i].check, check);
	return 0;
}

int
store_check_keys(struct store *s, const struct crypto *held,
    const struct crypto **seal)
{
	struct store_key known[CRYPTO_VERSIONS_MAX];
	unsigned char check[CRYPTO_ID_LEN];
	const struct crypto *k, *best = NULL;
	long n, i;
	int missing = 0;

	if ((n = known_keys(s, held, NULL, known)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((k = crypto_find(held, known[i].version)) == NULL) {
			missing = 1;
			continue;
		}
		crypto_check_value(k, check);
		if (!crypto_equal(check, known[i].check))
			return STORE_KEYS_MISMATCH;
		if (best == NULL ||
		    crypto_key_version(k) > crypto_key_version(best))
			best = k;
	}
	if (best == NULL)
		return STORE_KEYS_MISMATCH;
	if (seal != NULL)
		*seal = best;
	return missing ? STORE_KEYS_MISSING : STORE_KEYS_MATCH;
}

int
store_create(struct store *s, const struct store_secret *sec,
    const struct store_meta *m, const struct store_mail *mail,
    size_t nmail)
{
	return s->ops->create(s, sec, m, mail, nmail);
}

int
store_secret_get(struct store *s, const unsigned char *id, long long now,
    struct store_secret *out)
{
	return s->ops->secret_get(s, id, now, out);
}

int
store_secret_claim(struct store *s, const unsigned char *id,
    enum store_state state, long long *at)
{
	return s->ops->secret_claim(s, id, state, at);
}

int
store_attempt_reserve(struct store *s, const unsigned char *id, long long now,
    long long lock_after, long long lock_time)
{
	return s->ops->attempt_reserve(s, id, now, lock_after, lock_time);
}

long long
store_attempt_failed(struct store *s, const unsigned char *id, long long now,
    long long lock_after, long long lock_time)
{
	return s->ops->attempt_failed(s, id, now, lock_after, lock_time);
}

int
store_request_add(struct store *s, const struct store_request *q,
    const struct store_mail *mail, size_t nmail)
{
	return s->ops->request_add(s, q, mail, nmail);
}

int
store_request_get(struct store *s, const unsigned char *id, long long now,
    struct store_request *out)
{
	return s->ops->request_get(s, id, now, out);
}

int
store_request_take(struct store *s, const unsigned char *id,
    struct store_request *out, long long *at)
{
	return s->ops->request_take(s, id, out, at);
}

int
store_meta_get(struct store *s, const unsigned char *id, long long now,
    struct store_meta *out)
{
	return s->ops->meta_get(s, id, now, out);
}

int
store_meta_viewed(struct store *s, const unsigned char *id, long long now)
{
	return s->ops->meta_viewed(s, id, now);
}

int
store_meta_recent(struct store *s, long long customer_id, long long since,
    long long now, int (*fn)(void *, const struct store_meta *), void *arg)
{
	return s->ops->meta_recent(s, customer_id, since, now, fn, arg);
}

int
store_mail_take(struct store *s, long long id, long long now, long long lease,
    struct store_mail *out)
{
	return s->ops->mail_take(s, id, now, lease, out);
}

int
store_mail_sent(struct store *s, long long id, long long now)
{
	return s->ops->mail_sent(s, id, now);
}

int
store_mail_failed(struct store *s, long long id, long long now,
    const char *error)
{
	return s->ops->mail_failed(s, id, now, error);
}

int
store_mail_retry(struct store *s, long long id, long long now,
    long long next_try, const char *error)
{
	return s->ops->mail_retry(s, id, now, next_try, error);
}

long
store_mail_due(struct store *s, long long now, long long *ids, size_t max)
{
	return s->ops->mail_due(s, now, ids, max);
}

int
store_mail_list(struct store *s, int (*fn)(void *, const struct store_mail *),
    void *arg)
{
	return s->ops->mail_list(s, fn, arg);
}

int
store_sweep(struct store *s, long long now, long long mail_before,
    long long window, struct store_sweep *out)
{
	if (s->ops->sweep(s, SWEEP_NOTIFY, now, &out->notices, out) == -1 ||
	    s->ops->sweep(s, SWEEP_EXPIRE, now, &out->expired, out) == -1 ||
	    s->ops->sweep(s, SWEEP_SECRETS, now, &out->secrets, out) == -1 ||
	    s->ops->sweep(s, SWEEP_RECEIPTS, now, &out->metadata, out) == -1 ||
	    s->ops->sweep(s, SWEEP_REQUESTS, now, &out->requests, out) == -1 ||
	    s->ops->sweep(s, SWEEP_MAIL, mail_before, &out->mail, out) == -1 ||
	    s->ops->sweep(s, SWEEP_LIMITS, window, &out->limits, out) == -1)
		return -1;
	return 0;
}

int
store_limit_add(struct store *s, const unsigned char key[CRYPTO_ID_LEN],
    long long window, int n, long long *count)
{
	return s->ops->limit_add(s, key, window, n, count);
}

int
store_scrub(struct store *s, long long rebuild_max, struct store_scrub *out)
{
	return s->ops->scrub(s, rebuild_max, out);
}

int
store_stats(struct store *s, long long now, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->stats(s, now, out);
}

int
store_sweep_lock(struct store *s)
{
	return s->ops->sweep_lock(s);
}

int
store_secret_take(struct store *s, const unsigned char *id,
    struct store_secret *out, long long *at)
{
	return s->ops->secret_take == NULL ? 0 :
	    s->ops->secret_take(s, id, out, at);
}

void
store_idle(struct store *s)
{
	if (s != NULL && s->ops->idle != NULL)
		s->ops->idle(s);
}

int
store_customer_add(struct store *s, const struct store_customer *c)
{
	return s->ops->customer_add(s, c);
}

int
store_customer_get(struct store *s, const char *custid,
    struct store_customer *out)
{
	return s->ops->customer_get(s, custid, out);
}

int
store_customer_by_id(struct store *s, long long id, struct store_customer *out)
{
	return s->ops->customer_by_id(s, id, out);
}

int
store_customer_set_notify(struct store *s, const struct store_customer *c)
{
	return s->ops->customer_set_notify(s, c);
}

int
store_customer_set_token(struct store *s, const char *custid,
    const unsigned char hash[CRYPTO_ID_LEN], int version)
{
	return s->ops->customer_set_token(s, custid, hash, version);
}

int
store_customer_del(struct store *s, const char *custid)
{
	return s->ops->customer_del(s, custid);
}

int
store_customer_list(struct store *s,
    int (*fn)(void *, const struct store_customer *), void *arg)
{
	return s->ops->customer_list(s, fn, arg);
}
