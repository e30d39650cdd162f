/*
 * outbox: the queue of recipient mail.  A message is queued in the same
 * transaction that stores its secret, delivered right after the response
 * has gone out (so the API never waits on SMTP), and retried by ots-sweep
 * with back-off until it is sent, its secret expires, or mail_max_age
 * passes.  Its payload (address, sender, link) is sealed under a sub-key
 * of the master key and dropped once the message is done: a queued
 * message is the one place where a link can be recovered from the
 * database plus the master key, for as long as delivery is pending.
 */
#ifndef OTS_OUTBOX_H
#define OTS_OUTBOX_H

struct conf;
struct crypto;
struct store;
struct store_mail;

struct outbox_stats {
	long long	 sent, retry, failed;
};

/*
 * Fill m with a queued message to address to from sender about the secret
 * skey (which expires at expires).  The caller frees m->sealed.  0 or -1.
 */
int	outbox_prepare(const struct conf *, const struct crypto *,
	    const char *to, const char *sender, const char *skey,
	    int passphrase, long long now, long long expires,
	    struct store_mail *m);

/*
 * Try to deliver message id now, if it is due and no other process holds
 * it.  Adds the outcome to stats (NULL: none).  0, or -1 on store errors.
 */
int	outbox_deliver(struct store *, const struct crypto *,
	    const struct conf *, long long id, long long now,
	    struct outbox_stats *);

/* Deliver every message due at now.  0 or -1. */
int	outbox_run(struct store *, const struct crypto *, const struct conf *,
	    long long now, struct outbox_stats *);

#endif
