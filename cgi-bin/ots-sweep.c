/*
 * ots-sweep: run from cron.  Deletes expired secrets and receipts past
 * their lifetime, marks unrevealed expired secrets 'expired' on their
 * receipts, retries queued mail, and checkpoints and truncates the WAL so
 * deleted ciphertext leaves the disk.  Safe beside a serving app; a
 * second sweep started meanwhile exits at once.  Prints one summary line;
 * exits non-zero on failure.
 *
 *   ots-sweep [-c config] [-q]
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "limits.h"
#include "log.h"
#include "outbox.h"
#include "store.h"

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned char check[CRYPTO_ID_LEN];
	struct store_sweep sw = { 0 };
	struct outbox_stats ob = { 0 };
	struct conf *cf = NULL;
	struct crypto *cr = NULL;
	struct store *st = NULL;
	const char *path = conf_path();
	char err[512], lock[4096];
	long long now;
	double t0 = seconds();
	long long size;
	int ch, fd = -1, quiet = 0, vacuum = 0, rc = 1;

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
	/* one sweep at a time: a second one leaves the work to the first */
	snprintf(lock, sizeof(lock), "%s.sweep-lock", cf->database);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("%s", lock);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (!quiet)
			printf("ots-sweep: another sweep is running; "
			    "nothing done\n");
		rc = 0;
		goto out;
	}
	if ((cr = crypto_open(cf->master_key, err, sizeof(err))) == NULL ||
	    (st = store_open(cf->database, 0, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	crypto_check_value(cr, check);
	if (store_check_key(st, check) != 1) {
		log_warnx("the master key does not match the database");
		goto out;
	}
	now = (long long)time(NULL);
	if (store_sweep(st, now, now - cf->mail_keep, now / LIMITS_WINDOW,
	    &sw) == -1 ||
	    outbox_run(st, cr, cf, now, &ob) == -1 ||
	    (size = store_size(st)) == -1)
		goto out;
	if (size <= cf->vacuum_max)
		vacuum = 1;
	if ((vacuum && store_vacuum(st) == -1) || store_checkpoint(st) == -1)
		goto out;
	if (!quiet)
		printf("ots-sweep: %lld secrets and %lld receipts removed, "
		    "%lld receipts expired, %lld mail records removed; "
		    "mail %lld sent, %lld to retry, %lld failed; %s; %.3f s\n",
		    sw.secrets, sw.metadata, sw.expired, sw.mail, ob.sent,
		    ob.retry, ob.failed, vacuum ? "vacuumed" : "not vacuumed",
		    seconds() - t0);
	rc = 0;
out:
	if (rc != 0)
		log_warnx("sweep failed");
	store_close(st);
	crypto_close(cr);
	conf_free(cf);
	if (fd != -1)
		close(fd);
	return rc;
}
