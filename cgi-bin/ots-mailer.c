/*
 * ots-mailer: the delivery side (mailer.h).
 *
 *   ots-mailer [-c config] [-u user]           run until SIGTERM (systemd)
 *   ots-mailer [-c config] [-u user] -1 [-q]   deliver what is due, exit
 *   ots-mailer [-c config] -k                  make the key pair
 *
 * -1 is for cron, every minute, where no long-running process may be.
 * Started as root with -u, it reads its key and then becomes user (with a
 * SQLite database, the user the web workers run as); in every case it
 * makes itself undumpable, so that no other process of that user can read
 * the key from its memory.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "mailer.h"

static void
on_stop(int sig)
{
	(void)sig;
	mailer_stop();
}

/* Become user (from root), keeping nothing of root's.  0 or -1. */
static int
become(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("no user %s", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		log_warn("cannot become %s", user);
		return -1;
	}
	/* a change of user makes the process dumpable again */
	prctl(PR_SET_DUMPABLE, 0);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ots-mailer [-c config] [-u user] [-1 [-q]]\n"
	    "       ots-mailer [-c config] -k\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct mailer_stats stats = { 0, 0, 0 };
	struct mailer *m = NULL;
	struct conf *cf;
	struct sigaction sa;
	const char *path = conf_path(), *user = NULL;
	char err[512];
	int ch, once = 0, quiet = 0, make_key = 0, rc = 1;

	log_init("ots-mailer");
	umask(077);
	/* the private key is in this process: no core, no ptrace */
	prctl(PR_SET_DUMPABLE, 0);
	while ((ch = getopt(argc, argv, "1c:kqu:")) != -1) {
		switch (ch) {
		case '1':
			once = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 'k':
			make_key = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (crypto_init() == -1) {
		log_warnx("cannot initialise crypto");
		return 1;
	}
	if ((cf = conf_load(path, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if (make_key) {
		if ((rc = mailer_keygen(cf) == 0 ? 0 : 1) == 0)
			printf("ots-mailer: private key %s, public key %s\n",
			    cf->mailer_key, cf->mailer_public_key);
		conf_free(cf);
		return rc;
	}
	if ((m = mailer_open(cf, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		goto out;
	}
	if (user != NULL && become(user) == -1)
		goto out;
	if (mailer_connect(m, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mailer_run(m, once, &stats) == -1)
		goto out;
	if (once && !quiet)
		printf("ots-mailer: %lld sent, %lld to retry, %lld failed\n",
		    stats.sent, stats.retry, stats.failed);
	rc = 0;
out:
	mailer_close(m);
	conf_free(cf);
	return rc;
}
