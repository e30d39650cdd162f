/*
 * store_engine: what an engine of the store fills in (store_sqlite.c,
 * store_pg.c).  Seen by the store's files only; the rest of the program
 * sees store.h.  Each engine's struct begins with a struct store whose ops
 * point at its table; store.c checks arguments nowhere and forwards every
 * call, so each function here has the contract of its store.h namesake.
 */
#ifndef OTS_STORE_ENGINE_H
#define OTS_STORE_ENGINE_H

#include "store.h"

/*
 * The sweep's steps, run by store_sweep in this order, each in batches of
 * short transactions until a batch finds less than a batch's worth: queue
 * the waiting notices of secrets expired at `when`, mark receipts of
 * secrets expired at `when`, delete secrets and receipts
 * expired at `when`, finished mail last updated at or before `when`, and
 * rate-limit counters of windows before `when`.  The engine adds what each
 * batch changed to *count; SWEEP_EXPIRE also calls the sweep's expired
 * callback for each receipt it marked, after the batch is committed.
 */
enum store_sweep_step {
	SWEEP_NOTIFY,
	SWEEP_EXPIRE,
	SWEEP_SECRETS,
	SWEEP_RECEIPTS,
	SWEEP_REQUESTS,		/* request links expired at `when` */
	SWEEP_MAIL,
	SWEEP_LIMITS,
};

struct store_ops {
	const char *name;
	void	(*close)(struct store *);
	int	(*migrate)(struct store *, int *, int *, char *, size_t);
	int	(*ready)(struct store *, long long *);
	void	(*set_clock)(struct store *, long long (*)(void));
	long	(*key_list)(struct store *, struct store_key *, size_t);
	int	(*key_add)(struct store *, int, const unsigned char *);
	int	(*key_del)(struct store *, int);
	int	(*key_use)(struct store *, int, struct store_key_use *);
	int	(*create)(struct store *, const struct store_secret *,
		    const struct store_meta *, const struct store_mail *,
		    size_t);
	int	(*secret_get)(struct store *, const unsigned char *, long long,
		    struct store_secret *);
	int	(*secret_claim)(struct store *, const unsigned char *,
		    enum store_state, long long *);
	int	(*secret_take)(struct store *, const unsigned char *,
		    struct store_secret *, long long *);	/* NULL: 0 */
	int	(*attempt_reserve)(struct store *, const unsigned char *,
		    long long, long long, long long);
	long long (*attempt_failed)(struct store *, const unsigned char *,
		    long long, long long, long long);
	int	(*request_add)(struct store *, const struct store_request *,
		    const struct store_mail *, size_t);
	int	(*request_get)(struct store *, const unsigned char *, long long,
		    struct store_request *);
	int	(*request_take)(struct store *, const unsigned char *,
		    struct store_request *, long long *);
	int	(*meta_get)(struct store *, const unsigned char *, long long,
		    struct store_meta *);
	int	(*meta_viewed)(struct store *, const unsigned char *,
		    long long);
	int	(*meta_recent)(struct store *, long long, long long, long long,
		    int (*)(void *, const struct store_meta *), void *);
	int	(*mail_take)(struct store *, long long, long long, long long,
		    struct store_mail *);
	int	(*mail_sent)(struct store *, long long, long long);
	int	(*mail_failed)(struct store *, long long, long long,
		    const char *);
	int	(*mail_retry)(struct store *, long long, long long, long long,
		    const char *);
	long	(*mail_due)(struct store *, long long, long long *, size_t);
	int	(*mail_list)(struct store *,
		    int (*)(void *, const struct store_mail *), void *);
	int	(*sweep)(struct store *, enum store_sweep_step, long long,
		    long long *, const struct store_sweep *);
	int	(*limit_add)(struct store *, const unsigned char *, long long,
		    int, long long *);
	int	(*scrub)(struct store *, long long, struct store_scrub *);
	int	(*stats)(struct store *, long long, struct store_stats *);
	int	(*sweep_lock)(struct store *);
	void	(*idle)(struct store *);	/* NULL: nothing to do */
	int	(*customer_add)(struct store *, const struct store_customer *);
	int	(*customer_get)(struct store *, const char *,
		    struct store_customer *);
	int	(*customer_set_token)(struct store *, const char *,
		    const unsigned char *, int);
	int	(*customer_by_id)(struct store *, long long,
		    struct store_customer *);
	int	(*customer_set_notify)(struct store *,
		    const struct store_customer *);
	int	(*customer_del)(struct store *, const char *);
	int	(*customer_list)(struct store *,
		    int (*)(void *, const struct store_customer *), void *);
};

struct store {
	const struct store_ops	*ops;
	enum store_role		 role;
};

/* The engines' openers: the engine's struct, or NULL with a message. */
struct store	*store_sqlite_open(const char *path, enum store_role,
		    char *err, size_t errlen);
struct store	*store_pg_open(const char *conninfo, const char *password,
		    enum store_role, char *err, size_t errlen);

/* The states' names, and back (an unknown name reads as burned). */
enum store_state store_state_parse(const char *);
/* A stored kind's enum (the schemas check kinds). */
enum store_mail_kind store_mail_kind_parse(const char *);

/*
 * One row of the engines' statistics query: what ("live" secrets,
 * "receipt", "customer", or a mail kind's name), key (a receipt's or mail's state,
 * else ""), and its count, added into out.  Unknown names are ignored.
 */
void	store_stats_row(struct store_stats *out, const char *what,
	    const char *key, long long n);

/*
 * The schema check every role but the migrator makes at open: 0 when have
 * is this program's version, else -1 with a message saying what to do.
 */
int	store_schema_check(int have, char *err, size_t errlen);

#endif
