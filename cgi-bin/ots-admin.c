/*
 * ots-admin: set up a state directory and manage accounts.
 *
 *   ots-admin [-c config] init
 *   ots-admin [-c config] migrate
 *   ots-admin [-c config] customer add EMAIL [--plan NAME]
 *   ots-admin [-c config] customer token EMAIL
 *   ots-admin [-c config] customer list
 *   ots-admin [-c config] customer del EMAIL
 *   ots-admin [-c config] customer set EMAIL notify=none|email|webhook|all
 *   ots-admin [-c config] customer set EMAIL webhook=URL|none
 *   ots-admin [-c config] mail list
 *   ots-admin [-c config] audit [--file PATH] FINGERPRINT|LINK|SECRET-KEY
 *
 * Each change to an account is a line of the audit log (route "ots-admin",
 * the account's custid; never its token or webhook).
 * Exit status: 0 done, 1 failed, 2 usage error.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "secret.h"
#include "store.h"
#include "webhook.h"

static const char usage_text[] =
    "usage: ots-admin [-c config] command\n"
    "commands:\n"
    "  init                              create the database and master key\n"
    "  migrate                           bring the schema up to date\n"
    "  customer add EMAIL [--plan NAME]  add an account, print its API token\n"
    "  customer token EMAIL              replace the account's API token\n"
    "  customer list                     list accounts\n"
    "  customer del EMAIL                delete an account\n"
    "  customer set EMAIL notify=none|email|webhook|all\n"
    "                                    the notices its secrets get\n"
    "  customer set EMAIL webhook=URL|none\n"
    "                                    its webhook; prints the signing "
    "secret\n"
    "  mail list                         show the mail and notices queue\n"
    "  audit [--file PATH] FINGERPRINT|LINK|SECRET-KEY\n"
    "                                    a secret's audit log lines (LINK: "
    "its secret\n"
    "                                    or receipt link)\n"
    "The configuration is -c, else $OTS_CONFIG, else " SYSCONFDIR
    "/ots/ots.conf.\n";

static struct conf *cf;
static struct crypto *cr;
static struct store *st;

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void
fail(const char *msg)
{
	log_warnx("%s", msg);
	store_close(st);
	crypto_close(cr);
	conf_free(cf);
	exit(1);
}

/* Make dir (and parents) with mode 0700; an existing one is left as is. */
static int
mkdirs(const char *path)
{
	char tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return (mkdir(tmp, 0700) == -1 && errno != EEXIST) ? -1 : 0;
}

static int
parent_dir(const char *file)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", file) >= (int)sizeof(tmp))
		return -1;
	return mkdirs(dirname(tmp));
}

enum how { ROWS, INIT, MIGRATE };

/*
 * Open key and store.  INIT makes the state directory, the key and the
 * schema as needed; MIGRATE applies pending migrations.  Both connect with
 * migrate_database when it is set (a role that may alter the schema).
 */
static void
open_all(enum how how)
{
	unsigned char check[CRYPTO_ID_LEN];
	const char *db = cf->database, *pw = cf->database_password;
	char err[512];
	int rc, from, to;

	if (how == INIT) {
		if (parent_dir(cf->master_key) == -1 ||
		    (!conf_is_postgresql(cf->database) &&
		    parent_dir(cf->database) == -1) ||
		    mkdirs(cf->state_dir) == -1) {
			snprintf(err, sizeof(err), "cannot create state "
			    "directory: %s", strerror(errno));
			fail(err);
		}
		if (access(cf->master_key, F_OK) == -1 &&
		    crypto_keyfile_create(cf->master_key, err, sizeof(err))
		    == -1)
			fail(err);
	}
	if ((cr = crypto_open(cf->master_key, err, sizeof(err))) == NULL)
		fail(err);
	if (how != ROWS && cf->migrate_database != NULL) {
		db = cf->migrate_database;
		pw = NULL;
	}
	if ((st = store_open(db, pw, how == ROWS ? STORE_ADMIN :
	    STORE_MIGRATOR, err, sizeof(err))) == NULL)
		fail(err);
	if (how != ROWS) {
		if (store_migrate(st, &from, &to, err, sizeof(err)) == -1)
			fail(err);
		if (from != to)
			printf("ots: schema migrated from version %d to %d\n",
			    from, to);
	}
	crypto_check_value(cr, check);
	if ((rc = store_check_key(st, check)) != 1)
		fail(rc == 0 ? "the master key does not match this database" :
		    "cannot check the master key");
}

/* An audit line of an account change: event, outcome, the account. */
static void
audit_account(const char *event, const char *outcome, const char *custid)
{
	struct audit *a;
	struct audit_event ev = { (long long)time(NULL), event, outcome,
	    "ots-admin", NULL, custid, NULL, NULL };
	char request[AUDIT_REQUEST_MAX + 1];

	if ((a = audit_open(cf)) == NULL)
		return;
	audit_request_id(NULL, request);
	ev.request = request;
	audit_write(a, &ev);
	audit_close(a);
}

/*
 * Print the audit log lines of one secret, in the file's order: by its
 * fingerprint, its link or key (the fingerprint of its row id), or its
 * receipt's link (the receipt row names the secret's row id).
 */
static int
cmd_audit(int argc, char **argv)
{
	unsigned char id[CRYPTO_ID_LEN];
	char fp[CRYPTO_FP_LEN + 1], want[CRYPTO_FP_LEN + 16], err[512];
	const char *file = cf->audit_log, *arg, *p;
	struct store_meta m;
	char *line = NULL;
	size_t cap = 0, n;
	FILE *f;
	int found = 0, receipt, rc;

	if (argc == 3 && strcmp(argv[0], "--file") == 0) {
		file = argv[1];
		arg = argv[2];
	} else if (argc == 1)
		arg = argv[0];
	else
		usage();
	if (file == NULL || file[0] == '\0' || strcmp(file, "syslog") == 0)
		fail("no audit log file (audit_log); give --file PATH");
	n = strlen(arg);
	if (n == CRYPTO_FP_LEN && strspn(arg, "0123456789abcdef") == n)
		memcpy(fp, arg, n + 1);
	else {
		/* a link: its last path segment; a receipt's names its secret
		 * while the receipt lives */
		receipt = strstr(arg, "/private/") != NULL;
		if ((p = strrchr(arg, '/')) != NULL)
			arg = p + 1;
		if (!keys_valid(arg, strlen(arg)))
			fail("not a fingerprint, secret link, receipt link or "
			    "secret key");
		if (receipt) {
			open_all(ROWS);
			crypto_row_id(cr, CRYPTO_ID_META, arg, strlen(arg), id);
			if ((rc = store_meta_get(st, id, (long long)time(NULL),
			    &m)) != 1)
				fail(rc == 0 ? "no such receipt (gone after "
				    "twice its TTL): give the fingerprint" :
				    "cannot read the receipt");
			memcpy(id, m.secret_id, sizeof(id));
		} else {
			if ((cr = crypto_open(cf->master_key, err,
			    sizeof(err))) == NULL)
				fail(err);
			crypto_row_id(cr, CRYPTO_ID_SECRET, arg, strlen(arg),
			    id);
		}
		crypto_fingerprint(id, fp);
	}
	snprintf(want, sizeof(want), "\"receipt\":\"%s\"", fp);
	if ((f = fopen(file, "r")) == NULL) {
		snprintf(err, sizeof(err), "%s: %s", file, strerror(errno));
		fail(err);
	}
	while (getline(&line, &cap, f) != -1)
		if (strstr(line, want) != NULL) {
			fputs(line, stdout);
			found = 1;
		}
	free(line);
	fclose(f);
	if (!found)
		fprintf(stderr, "ots-admin: no audit lines for %s\n", fp);
	return found ? 0 : 1;
}

/* The account name: a valid address, lower-cased. */
static void
custid(const char *s, char out[STORE_CUSTID_MAX + 1])
{
	size_t i, n = strlen(s);

	if (!mail_address_valid(s, n) || n > STORE_CUSTID_MAX)
		fail("not a valid e-mail address");
	for (i = 0; i <= n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i];
}

static void
print_token(const char *token)
{
	if (printf("%s\n", token) < 0 || fflush(stdout) == EOF)
		fail("cannot write the token");
}

static void
fmt_time(long long when, char *out, size_t len)
{
	time_t t = (time_t)when;

	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

static int
list_one(void *arg, const struct store_customer *c)
{
	char when[32];

	(void)arg;
	fmt_time(c->created, when, sizeof(when));
	printf("%s\t%s\t%s\tnotify=%s\twebhook=%s\n", c->custid, c->plan,
	    when, secret_notify_name(c->notify),
	    c->webhook_url[0] ? c->webhook_url : "none");
	return 0;
}

/*
 * One row of the queue: id, kind, state, recipient (obfuscated), event
 * (a notice's, else -), attempts, created, next try (queued) or -, and
 * the last error.
 */
static int
mail_one(void *arg, const struct store_mail *m)
{
	char created[32], next[32];

	(void)arg;
	fmt_time(m->created, created, sizeof(created));
	fmt_time(m->next_try, next, sizeof(next));
	printf("%lld\t%s\t%s\t%s\tevent=%s\tattempts=%d\tcreated=%s\t"
	    "%s%s\t%s\n", m->id, store_mail_kind_name(m->kind), m->state,
	    m->recipient, m->event[0] ? m->event : "-", m->attempts, created,
	    strcmp(m->state, "queued") == 0 ? "next=" : "",
	    strcmp(m->state, "queued") == 0 ? next : "-", m->last_error);
	return 0;
}

/*
 * customer set EMAIL notify=... | webhook=URL|none.  A new webhook gets a
 * new signing secret, printed once (hex) and stored sealed to the mailer's
 * key: only the mailer, which signs, can read it back.  Registering a
 * webhook turns its notices on (notify gains webhook); removing it, off.
 */
static void
customer_set(struct store_customer *c, const char *arg)
{
	unsigned char key[32], sealed[32 + crypto_box_SEALBYTES];
	char hex[65];
	int rc, n;

	if ((rc = store_customer_get(st, c->custid, c)) != 1)
		fail(rc == 0 ? "no such account" : "cannot read the account");
	if (strncmp(arg, "notify=", 7) == 0) {
		if ((n = secret_notify_parse(arg + 7, strlen(arg + 7))) == -1)
			fail("notify= takes none, email, webhook or all");
		if (n != 0 && !cf->has_mailer_pk)
			fail("notices need the mailer's key "
			    "(mailer_public_key)");
		c->notify = n;
	} else if (strcmp(arg, "webhook=none") == 0) {
		c->webhook_url[0] = '\0';
		c->webhook_key_len = 0;
		c->notify &= ~NOTIFY_WEBHOOK;
	} else if (strncmp(arg, "webhook=", 8) == 0) {
		if (!webhook_url_valid(arg + 8, 0) ||
		    strlen(arg + 8) > STORE_URL_MAX)
			fail("webhook= takes an https:// URL without user "
			    "or fragment");
		if (!cf->has_mailer_pk)
			fail("webhooks need the mailer's key "
			    "(mailer_public_key)");
		randombytes_buf(key, sizeof(key));
		crypto_box_seal(sealed, key, sizeof(key), cf->mailer_pk);
		snprintf(c->webhook_url, sizeof(c->webhook_url), "%s", arg + 8);
		memcpy(c->webhook_key, sealed, sizeof(sealed));
		c->webhook_key_len = sizeof(sealed);
		/* registering one is asking for its events */
		c->notify |= NOTIFY_WEBHOOK;
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		sodium_memzero(key, sizeof(key));
	} else
		usage();
	if (store_customer_set_notify(st, c) != 1)
		fail("cannot change the account");
	audit_account(strncmp(arg, "notify=", 7) == 0 ? "account_notify" :
	    "account_webhook", "ok", c->custid);
	if (c->webhook_key_len > 0 && strncmp(arg, "webhook=", 8) == 0) {
		print_token(hex);
		sodium_memzero(hex, sizeof(hex));
	}
}

static int
cmd_customer(int argc, char **argv)
{
	struct store_customer c;
	char token[KEYS_TOKEN_LEN + 1];
	const char *plan = CONF_DEFAULT_PLAN;
	int rc;

	if (argc < 1)
		usage();
	open_all(ROWS);
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return store_customer_list(st, list_one, NULL) == 0 ? 0 : 1;
	if (argc < 2)
		usage();
	memset(&c, 0, sizeof(c));
	custid(argv[1], c.custid);
	if (strcmp(argv[0], "add") == 0) {
		if (argc == 4 && strcmp(argv[2], "--plan") == 0)
			plan = argv[3];
		else if (argc != 2)
			usage();
		if (conf_plan(cf, plan) == NULL)
			fail("no such plan in the configuration");
		snprintf(c.plan, sizeof(c.plan), "%s", plan);
		c.created = (long long)time(NULL);
		keys_token(token);
		crypto_token_hash(cr, token, KEYS_TOKEN_LEN, c.token_hash);
		if ((rc = store_customer_add(st, &c)) != 0)
			fail(rc == 1 ? "that account exists already" :
			    "cannot add the account");
		audit_account("account_add", "ok", c.custid);
		print_token(token);
	} else if (strcmp(argv[0], "token") == 0 && argc == 2) {
		keys_token(token);
		crypto_token_hash(cr, token, KEYS_TOKEN_LEN, c.token_hash);
		if ((rc = store_customer_set_token(st, c.custid, c.token_hash))
		    != 1)
			fail(rc == 0 ? "no such account" :
			    "cannot replace the token");
		audit_account("account_token", "ok", c.custid);
		print_token(token);
	} else if (strcmp(argv[0], "set") == 0 && argc == 3) {
		customer_set(&c, argv[2]);
	} else if (strcmp(argv[0], "del") == 0 && argc == 2) {
		if ((rc = store_customer_del(st, c.custid)) != 1)
			fail(rc == 0 ? "no such account" :
			    "cannot delete the account");
		audit_account("account_remove", "ok", c.custid);
	} else
		usage();
	sodium_memzero(token, sizeof(token));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = conf_path();
	char err[512];
	int ch, rc = 0;

	log_init("ots-admin");
	umask(077);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (crypto_init() == -1)
		fail("cannot initialise crypto");
	if ((cf = conf_load(path, err, sizeof(err))) == NULL)
		fail(err);
	if (strcmp(argv[0], "init") == 0 && argc == 1) {
		open_all(INIT);
		printf("ots: %s database (schema version %d) and master key "
		    "%s are ready\n", store_engine(st),
		    store_schema_version(), cf->master_key);
	} else if (strcmp(argv[0], "migrate") == 0 && argc == 1) {
		open_all(MIGRATE);
		printf("ots: schema at version %d\n", store_schema_version());
	} else if (strcmp(argv[0], "customer") == 0)
		rc = cmd_customer(argc - 1, argv + 1);
	else if (strcmp(argv[0], "audit") == 0)
		rc = cmd_audit(argc - 1, argv + 1);
	else if (strcmp(argv[0], "mail") == 0 && argc == 2 &&
	    strcmp(argv[1], "list") == 0) {
		open_all(ROWS);
		rc = store_mail_list(st, mail_one, NULL) == 0 ? 0 : 1;
	}
	else
		usage();
	store_close(st);
	crypto_close(cr);
	conf_free(cf);
	return rc;
}
