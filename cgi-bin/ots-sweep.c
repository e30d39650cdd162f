/*
 * ots-sweep: run from cron.  Deletes expired secrets and receipts past
 * their lifetime, marks unrevealed expired secrets 'expired' on their
 * receipts (queueing the notifications their creators asked for), removes
 * finished mail records, and scrubs the store so deleted
 * ciphertext leaves the disk as far as the engine allows (store_scrub).
 * Safe beside a serving app; a second sweep started meanwhile, on this
 * host or another, exits at once.  Prints one summary line;
 * exits non-zero on failure.
 *
 *   ots-sweep [-c config] [-q] [-V]   (-V: rebuild the store whatever its size)
 *
 * Each secret that expired unrevealed is an "expire" line of the audit log.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The audit line of a secret the sweep expired (store_sweep). */
struct expiry {
	struct audit	*audit;
	long long	 now;
	char		 request[AUDIT_REQUEST_MAX + 1];
};

static void
expired(void *arg, const unsigned char *secret_id, const char *custid)
{
	struct expiry *e = arg;
	struct audit_event ev = { e->now, "expire", "ok", "ots-sweep",
	    secret_id, custid, NULL, e->request };

	audit_write(e->audit, &ev);
}

int
main(int argc, char **argv)
{
	struct expiry ex = { 0 };
	struct store_sweep sw = { 0 };
	struct conf *cf = NULL;
	struct crypto *cr = NULL;
	struct store *st = NULL;
	struct metrics *mt;
	const char *path = conf_path();
	struct store_scrub sc = { 0 };
	char err[512];
	long long now;
	double t0 = seconds();
	int ch, locked, keys, quiet = 0, vacuum = 0, rc = 1;

	log_init("ots-sweep");
	umask(077);
	while ((ch = getopt(argc, argv, "c:qV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'V':
			vacuum = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: ots-sweep [-c config] [-q] [-V]\n");
			return 2;
		}
	}
	if (crypto_init() == -1) {
		log_warnx("cannot initialise crypto");
		return 1;
	}
	if ((cf = conf_load(path, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if ((ex.audit = audit_open(cf)) == NULL)
		goto out;
	audit_request_id(NULL, ex.request);
	sw.on_expired = expired;
	sw.arg = &ex;
	if ((cr = crypto_open(cf->master_key, err, sizeof(err))) == NULL ||
	    (st = store_open(cf->database, cf->database_password,
	    STORE_SWEEPER, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	/* one sweep at a time, on every host: a second leaves the work */
	if ((locked = store_sweep_lock(st)) != 1) {
		if (locked == 0 && !quiet)
			printf("ots-sweep: another sweep is running; "
			    "nothing done\n");
		rc = locked == 0 ? 0 : 1;
		goto out;
	}
	/* a version held elsewhere only is no matter: nothing is sealed */
	if ((keys = store_check_keys(st, cr, NULL)) != STORE_KEYS_MATCH &&
	    keys != STORE_KEYS_MISSING) {
		if (keys == STORE_KEYS_MISMATCH)
			log_warnx("the master key does not match the "
			    "database");
		goto out;
	}
	if (store_ready(st, &now) == -1 || (ex.now = now) < 0 ||
	    store_sweep(st, now, now - cf->mail_keep, now / LIMITS_WINDOW,
	    &sw) == -1 ||
	    store_scrub(st, vacuum ? INT64_MAX : cf->vacuum_max, &sc) == -1)
		goto out;
	/* the host's counter of secrets that ended unread */
	mt = metrics_open(cf->state_dir, 0);
	metrics_add(mt, M_EXPIRED, sw.expired);
	metrics_close(mt);
	if (!quiet)
		printf("ots-sweep: %lld secrets and %lld receipts removed, "
		    "%lld receipts expired, %lld notices queued, "
		    "%lld mail records removed; %s; %.3f s\n",
		    sw.secrets, sw.metadata, sw.expired, sw.notices, sw.mail,
		    sc.rebuilt ? "rebuilt" : "not rebuilt",
		    seconds() - t0);
	rc = 0;
out:
	if (rc != 0)
		log_warnx("sweep failed");
	store_close(st);
	audit_close(ex.audit);
	crypto_close(cr);
	conf_free(cf);
	return rc;
}
