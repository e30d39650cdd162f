#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "smtp.h"
#include "store.h"

#define RETRY_FIRST	60	/* seconds; doubles per attempt */
#define RETRY_MAX	3600
#define DUE_BATCH	64

/* Split a payload back into its message.  0 or -1. */
static int
parse(const struct buf *p, struct mail_msg *msg)
{
	char *field[4], *s = p->data, *nl;
	size_t i;

	for (i = 0; i < 4; i++) {
		field[i] = s;
		if (i < 3) {
			if ((nl = strchr(s, '\n')) == NULL)
				return -1;
			*nl = '\0';
			s = nl + 1;
		}
	}
	if (snprintf(msg->to, sizeof(msg->to), "%s", field[0]) >=
	    (int)sizeof(msg->to) ||
	    snprintf(msg->sender, sizeof(msg->sender), "%s", field[1]) >=
	    (int)sizeof(msg->sender) ||
	    snprintf(msg->link, sizeof(msg->link), "%s", field[2]) >=
	    (int)sizeof(msg->link))
		return -1;
	msg->passphrase = field[3][0] == '1';
	return 0;
}

int
outbox_deliver(struct store *st, const struct crypto *c,
    const struct conf *cf, long long id, long long now,
    struct outbox_stats *stats)
{
	struct outbox_stats dummy;
	struct store_mail m;
	struct mail_msg msg;
	struct buf payload = { 0 };
	char err[256];
	long long delay;
	int rc;

	if (stats == NULL)
		stats = &dummy;
	memset(&m, 0, sizeof(m));
	/* the lease outlasts every SMTP timeout of one attempt */
	if ((rc = store_mail_take(st, id, now, cf->smtp_timeout * 6, &m)) != 1)
		return rc;
	rc = 0;
	if (now >= m.expires || now - m.created >= cf->mail_max_age) {
		snprintf(err, sizeof(err), "gave up (%s)%s%.200s",
		    now >= m.expires ? "the secret expired" : "too old",
		    m.last_error[0] ? ": " : "", m.last_error);
		rc = store_mail_failed(st, id, now, err);
		stats->failed++;
		goto out;
	}
	if (crypto_open_sealed(c, CRYPTO_MAIL, "", 0, NULL, m.rid,
	    m.sealed.data, m.sealed.len, &payload) == -1 ||
	    parse(&payload, &msg) == -1) {
		rc = store_mail_failed(st, id, now, "payload does not open");
		stats->failed++;
		goto out;
	}
	if (mail_send(cf, &msg, now, err, sizeof(err)) == 0) {
		rc = store_mail_sent(st, id, now);
		stats->sent++;
	} else {
		delay = RETRY_FIRST << (m.attempts < 7 ? m.attempts - 1 : 6);
		if (delay > RETRY_MAX)
			delay = RETRY_MAX;
		log_warnx("mail %lld to %s: %s (attempt %d, next in %llds)",
		    id, m.recipient, err, m.attempts, delay);
		rc = store_mail_retry(st, id, now, now + delay, err);
		stats->retry++;
	}
out:
	sodium_memzero(&msg, sizeof(msg));
	buf_free(&payload);
	buf_free(&m.sealed);
	return rc;
}

int
outbox_run(struct store *st, const struct crypto *c, const struct conf *cf,
    long long now, struct outbox_stats *stats)
{
	long long ids[DUE_BATCH];
	long n, i;

	/* a message retried now is not due again in this run */
	do {
		if ((n = store_mail_due(st, now, ids, DUE_BATCH)) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (outbox_deliver(st, c, cf, ids[i], now, stats) == -1)
				return -1;
	} while (n == DUE_BATCH);
	return 0;
}
