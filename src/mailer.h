/*
 * mailer: the delivery side, run by ots-mailer.  It holds the private key
 * the web workers seal outgoing messages to (outbox.h), takes what is due
 * from the store, and delivers each message in a child process of its
 * own: recipient mail and e-mail notices by SMTP (smtp.h), webhooks by
 * HTTPS (webhook.h).  At most mail_concurrency children run at once, each
 * with a deadline; a slow, dead or silent relay costs one of them until
 * then, and the web workers nothing.  Failures are retried with back-off
 * (60 s, doubling, at most an hour) until mail_max_age, or for recipient
 * mail until its secret expires, then given up.  Only the parent talks to
 * the store; a child only delivers and reports.
 */
#ifndef OTS_MAILER_H
#define OTS_MAILER_H

#include <stddef.h>

struct conf;
struct mailer;

struct mailer_stats {
	long long	 sent, retry, failed;
};

/* Make the key pair the configuration names; never overwrite.  0 or -1. */
int		 mailer_keygen(const struct conf *);

/*
 * Read the private key (mailer_key), which must belong to
 * mailer_public_key.  NULL with a message in err.
 */
struct mailer	*mailer_open(const struct conf *, char *err, size_t errlen);

/* Open the store (after any change of user).  0 or -1 with a message. */
int		 mailer_connect(struct mailer *, char *err, size_t errlen);

/* The clock (default: time()); the tests move it. */
void		 mailer_set_clock(struct mailer *, long long (*)(void));

/*
 * Deliver: with once, what is due now, then return; else until
 * mailer_stop, looking for due messages every second.  Outcomes are added
 * to stats.  0, or -1 on store errors (once only: running on, a store
 * error is tried again a second later).
 */
int		 mailer_run(struct mailer *, int once, struct mailer_stats *);

/* Ask mailer_run to finish what is under way and return (signal-safe). */
void		 mailer_stop(void);

void		 mailer_close(struct mailer *);

#endif
