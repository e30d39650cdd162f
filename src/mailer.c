/*
 * mailer: see mailer.h.  A child's answer comes back on a pipe: nothing
 * when delivered, else the reason; a child that ends without one (its
 * deadline's SIGALRM) counts as timed out.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "mail.h"
#include "mailer.h"
#include "metrics.h"
#include "outbox.h"
#include "smtp.h"
#include "store.h"
#include "util.h"
#include "webhook.h"

#define RETRY_FIRST	60	/* seconds; doubles per attempt */
#define RETRY_MAX	3600
#define JOBS_MAX	64	/* mail_concurrency's bound */
#define ERR_MAX		256

/* A delivery under way in a child. */
struct job {
	pid_t		 pid;
	int		 fd;		/* the answer: "" sent, else why not */
	long long	 id;
	enum store_mail_kind kind;
	int		 attempts;
	char		 recipient[STORE_RECIPIENT_MAX + 1];
	char		 err[ERR_MAX];
	size_t		 errlen;
};

struct mailer {
	const struct conf	*cf;
	struct store		*st;
	long long		(*clock)(void);
	unsigned char		 pk[OUTBOX_PK_LEN], sk[OUTBOX_SK_LEN];
	struct job		 jobs[JOBS_MAX];
	size_t			 njobs;
	struct mailer_stats	*stats;	/* mailer_run's, else own */
	struct mailer_stats	 own;
	struct metrics		*metrics;	/* the host's; NULL: none */
};

static volatile sig_atomic_t stopping;

static int	finish(struct mailer *, size_t);

void
mailer_stop(void)
{
	stopping = 1;
}

static long long
clock_time(void)
{
	return (long long)time(NULL);
}

void
mailer_set_clock(struct mailer *m, long long (*clock)(void))
{
	m->clock = clock;
	if (m->st != NULL)
		store_set_clock(m->st, clock);
}

int
mailer_keygen(const struct conf *cf)
{
	unsigned char pk[OUTBOX_PK_LEN], sk[OUTBOX_SK_LEN];
	char hex[2 * OUTBOX_SK_LEN + 2];
	const char *path[2] = { cf->mailer_key, cf->mailer_public_key };
	const unsigned char *key[2] = { sk, pk };
	const size_t len[2] = { OUTBOX_SK_LEN, OUTBOX_PK_LEN };
	int i, fd, rc = -1;

	if (path[0] == NULL || path[1] == NULL) {
		log_warnx("set mailer_key and mailer_public_key first");
		return -1;
	}
	crypto_box_keypair(pk, sk);
	for (i = 0; i < 2; i++) {
		sodium_bin2hex(hex, sizeof(hex) - 1, key[i], len[i]);
		strcat(hex, "\n");
		if ((fd = open(path[i], O_WRONLY | O_CREAT | O_EXCL, i == 0 ?
		    0400 : 0444)) == -1) {
			log_warn("%s", path[i]);
			goto out;
		}
		/* the workers read the public key: past ots-mailer's umask */
		if (fchmod(fd, i == 0 ? 0400 : 0444) == -1) {
			log_warn("%s", path[i]);
			close(fd);
			goto out;
		}
		if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) ||
		    close(fd) == -1) {
			log_warn("%s", path[i]);
			goto out;
		}
	}
	rc = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

struct mailer *
mailer_open(const struct conf *cf, char *err, size_t errlen)
{
	struct mailer *m;
	char hex[2 * OUTBOX_SK_LEN + 2];
	size_t n = 0;
	FILE *f;
	int ok = 0;

	if (cf->mailer_key == NULL || !cf->has_mailer_pk) {
		util_seterr(err, errlen, "mailer_key and mailer_public_key "
		    "must name the key pair (ots-mailer -k makes it)");
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		util_seterr(err, errlen, "out of memory");
		return NULL;
	}
	m->cf = cf;
	m->clock = clock_time;
	m->stats = &m->own;
	m->metrics = metrics_open(cf->state_dir, 0);
	if ((f = fopen(cf->mailer_key, "r")) == NULL) {
		util_seterr(err, errlen, "%s: %s", cf->mailer_key,
		    strerror(errno));
		goto out;
	}
	if (fgets(hex, sizeof(hex), f) != NULL &&
	    sodium_hex2bin(m->sk, sizeof(m->sk), hex, strcspn(hex, "\n"),
	    NULL, &n, NULL) == 0 && n == sizeof(m->sk)) {
		crypto_scalarmult_base(m->pk, m->sk);
		if (sodium_memcmp(m->pk, cf->mailer_pk, sizeof(m->pk)) == 0)
			ok = 1;
		else
			util_seterr(err, errlen, "%s does not belong to %s",
			    cf->mailer_key, cf->mailer_public_key);
	} else
		util_seterr(err, errlen, "%s: not a mailer key",
		    cf->mailer_key);
	fclose(f);
out:
	sodium_memzero(hex, sizeof(hex));
	if (!ok) {
		mailer_close(m);
		return NULL;
	}
	return m;
}

int
mailer_connect(struct mailer *m, char *err, size_t errlen)
{
	if ((m->st = store_open(m->cf->database, m->cf->database_password,
	    STORE_SWEEPER, err, errlen)) == NULL)
		return -1;
	store_set_clock(m->st, m->clock);
	return 0;
}

void
mailer_close(struct mailer *m)
{
	if (m == NULL)
		return;
	while (m->njobs > 0)
		finish(m, 0);
	store_close(m->st);
	metrics_close(m->metrics);
	sodium_memzero(m, sizeof(*m));
	free(m);
}

/*
 * In the child: deliver msg and write the outcome to fd ("" delivered,
 * else the reason), then end.  SIGALRM (default: the child ends) bounds
 * what the protocols' own timeouts might not: see smtp.h.
 */
static void
child(const struct mailer *m, const struct mail_msg *msg, const char *rid,
    const struct store_customer *cust, const unsigned char *hook_key, int fd)
{
	const struct conf *cf = m->cf;
	struct webhook_opts wo = { cf->webhook_ca_file,
	    cf->webhook_allow_private, (long)cf->webhook_timeout };
	struct buf body = { 0 };
	char err[ERR_MAX] = "";
	int rc;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/*
	 * Of the parent's descriptors only the answer's: the store's stay
	 * the parent's (a child holds none of its locks), and so do the
	 * other children's pipes.
	 */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
	if (msg->kind == MAIL_WEBHOOK) {
		alarm((unsigned)(2 * cf->webhook_timeout + 5));
		rc = webhook_body(rid, msg->event, msg->when, msg->receipt,
		    &body) == 0 ? webhook_post(cust->webhook_url, &wo,
		    msg->event, rid, body.data, body.len, hook_key, err,
		    sizeof(err)) : -1;
		if (rc == -1 && err[0] == '\0')
			snprintf(err, sizeof(err), "webhook: out of memory");
	} else
		rc = mail_send(cf, msg, m->clock(), err, sizeof(err));
	if (rc == 0)
		err[0] = '\0';
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "failed");
	(void)write(fd, err, strlen(err));
	close(fd);
	_exit(0);
}

/*
 * Start delivering row r (taken at t, the store's time: leased to this
 * process) in a child.
 * Returns 0 started (or finished here: given up), -1 on store errors.
 */
static int
start(struct mailer *m, struct store_mail *r, long long t)
{
	const struct conf *cf = m->cf;
	struct store_customer cust;
	struct mail_msg msg;
	unsigned char hook_key[WEBHOOK_KEY_LEN];
	char rid[2 * CRYPTO_ID_LEN + 1];
	const char *why = NULL;
	struct job *j = &m->jobs[m->njobs];
	int p[2], rc = 0, found = 0;

	memset(&cust, 0, sizeof(cust));
	if (r->kind == MAIL_WEBHOOK && (found = store_customer_by_id(m->st,
	    r->customer_id, &cust)) == -1) {
		rc = -1;
		goto out;
	}
	if (r->kind == MAIL_SECRET && t >= r->expires)
		why = "the secret expired";
	else if (t - r->created >= cf->mail_max_age)
		why = "too old";
	else if (outbox_open(m->pk, m->sk, r, &msg) == -1)
		why = "payload does not open";
	else if (r->kind == MAIL_WEBHOOK && (found == 0 ||
	    cust.webhook_url[0] == '\0' || cust.webhook_key_len !=
	    WEBHOOK_KEY_LEN + crypto_box_SEALBYTES ||
	    crypto_box_seal_open(hook_key, cust.webhook_key,
	    cust.webhook_key_len, m->pk, m->sk) != 0))
		why = "no webhook";
	if (why != NULL) {
		char err[ERR_MAX];

		snprintf(err, sizeof(err), "gave up (%s)%s%.200s", why,
		    r->last_error[0] ? ": " : "", r->last_error);
		log_warnx("%s %lld to %s: %s", store_mail_kind_name(r->kind),
		    r->id, r->recipient, err);
		m->stats->failed++;
		metrics_delivery(m->metrics, r->kind, MO_FAILED);
		rc = store_mail_failed(m->st, r->id, t, err);
		goto out;
	}
	snprintf(msg.event, sizeof(msg.event), "%s", r->event);
	msg.when = r->created;
	/* the delivery id, for de-duplication by the receiver */
	sodium_bin2hex(rid, sizeof(rid), r->rid, sizeof(r->rid));
	if (pipe(p) == -1) {
		log_warn("pipe");
		rc = store_mail_retry(m->st, r->id, t, t + RETRY_FIRST,
		    "no pipe");
		goto out;
	}
	switch (j->pid = fork()) {
	case -1:
		log_warn("fork");
		close(p[0]);
		close(p[1]);
		rc = store_mail_retry(m->st, r->id, t, t + RETRY_FIRST,
		    "no process");
		goto out;
	case 0:
		close(p[0]);
		child(m, &msg, rid, &cust, hook_key, p[1]);
	}
	close(p[1]);
	j->fd = p[0];
	j->id = r->id;
	j->kind = r->kind;
	j->attempts = r->attempts;
	snprintf(j->recipient, sizeof(j->recipient), "%s", r->recipient);
	j->errlen = 0;
	m->njobs++;
out:
	sodium_memzero(&msg, sizeof(msg));
	sodium_memzero(hook_key, sizeof(hook_key));
	sodium_memzero(&cust, sizeof(cust));
	return rc;
}

/* A child has answered (or died): record the outcome.  0 or -1. */
static int
finish(struct mailer *m, size_t i)
{
	struct job *j = &m->jobs[i];
	long long t = m->clock(), delay;
	int status, rc;

	close(j->fd);
	while (waitpid(j->pid, &status, 0) == -1 && errno == EINTR)
		;
	j->err[j->errlen] = '\0';
	if (WIFSIGNALED(status))
		snprintf(j->err, sizeof(j->err), WTERMSIG(status) == SIGALRM ?
		    "timed out" : "delivery process died (signal %d)",
		    WTERMSIG(status));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(j->err, sizeof(j->err), "delivery process failed");
	if (j->err[0] == '\0') {
		m->stats->sent++;
		metrics_delivery(m->metrics, j->kind, MO_SENT);
		rc = store_mail_sent(m->st, j->id, t);
	} else {
		delay = RETRY_FIRST << (j->attempts < 7 ? j->attempts - 1 : 6);
		if (delay > RETRY_MAX)
			delay = RETRY_MAX;
		log_warnx("%lld to %s: %s (attempt %d, next in %llds)", j->id,
		    j->recipient, j->err, j->attempts, delay);
		m->stats->retry++;
		metrics_delivery(m->metrics, j->kind, MO_RETRIED);
		rc = store_mail_retry(m->st, j->id, t, t + delay, j->err);
	}
	*j = m->jobs[--m->njobs];
	return rc;
}

/* The longest an attempt may take: its lease must outlast it. */
static long long
attempt_max(const struct conf *cf)
{
	long long smtp = 6 * cf->smtp_timeout + 5;
	long long hook = 2 * cf->webhook_timeout + 5;

	return (smtp > hook ? smtp : hook) + 60;
}

/*
 * Take what is due into free slots: each row is started in a child or
 * settled at once (given up).  Returns the number taken, or -1 on store
 * errors.
 */
static long
take(struct mailer *m)
{
	long long ids[JOBS_MAX], t;
	struct store_mail r;
	long n, i, taken = 0;
	int rc;

	if ((size_t)m->cf->mail_concurrency <= m->njobs ||
	    store_ready(m->st, &t) == -1)
		return m->njobs > 0 ? 0 : -1;
	if ((n = store_mail_due(m->st, t, ids,
	    (size_t)m->cf->mail_concurrency - m->njobs)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		/* 0: another mailer took it meanwhile */
		if ((rc = store_mail_take(m->st, ids[i], t,
		    attempt_max(m->cf), &r)) == 1) {
			rc = start(m, &r, t);
			taken++;
		}
		buf_free(&r.sealed);
		if (rc == -1)
			return -1;
	}
	return taken;
}

/* Wait up to ms for children's answers; finish those that ended. */
static int
reap(struct mailer *m, int ms)
{
	struct pollfd pfd[JOBS_MAX];
	struct job *j;
	ssize_t n;
	size_t i;

	for (i = 0; i < m->njobs; i++) {
		pfd[i].fd = m->jobs[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, m->njobs, ms) == -1 && errno != EINTR)
		return -1;
	/* backwards: finish moves the last job into slot i */
	for (i = m->njobs; i-- > 0; ) {
		if (pfd[i].revents == 0)
			continue;
		j = &m->jobs[i];
		n = read(j->fd, j->err + j->errlen, sizeof(j->err) - 1 -
		    j->errlen);
		if (n > 0)
			j->errlen += (size_t)n;
		else if ((n == 0 || errno != EINTR) && finish(m, i) == -1)
			return -1;
	}
	return 0;
}

int
mailer_run(struct mailer *m, int once, struct mailer_stats *stats)
{
	long taken;

	m->stats = stats;
	for (;;) {
		taken = stopping ? 0 : take(m);
		if (taken == -1 && once)
			return -1;
		if ((once || stopping) && m->njobs == 0 && taken <= 0)
			return 0;
		/* all of it settled here (given up): there may be more */
		if (m->njobs == 0 && taken > 0)
			continue;
		/* what a create queues is due at once: look every second */
		if (reap(m, 1000) == -1)
			return -1;
	}
}
