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
 *   ots-admin [-c config] key list
 *   ots-admin [-c config] key rotate
 *   ots-admin [-c config] key retire VERSION
 *   ots-admin [-c config] stats [--json]
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

#include <json-c/json.h>
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
    "  key list                          master-key versions and their rows\n"
    "  key rotate                        add a new master-key version\n"
    "  key retire VERSION                remove a version no row uses\n"
    "  stats [--json]                    what the database holds now\n"
    "  audit [--file PATH] FINGERPRINT|LINK|SECRET-KEY\n"
    "                                    a secret's audit log lines (LINK: "
    "its secret\n"
    "                                    or receipt link)\n"
    "The configuration is -c, else $OTS_CONFIG, else " SYSCONFDIR
    "/ots/ots.conf.\n";

static struct conf *cf;
static struct crypto *cr;
static const struct crypto *seal;	/* the version new rows get */
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
	if ((rc = store_check_keys(st, cr, &seal)) == STORE_KEYS_MISSING)
		fail("the database knows a master-key version this key file "
		    "lacks: copy the key file from the host where "
		    "`ots-admin key rotate` ran");
	if (rc != STORE_KEYS_MATCH)
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
 * fingerprint, its link or key (the fingerprint of its row id under each
 * master-key version held: the row was named under one of them), or its
 * receipt's link (the receipt row names the secret's row id).
 */
static int
cmd_audit(int argc, char **argv)
{
	static char want[CRYPTO_VERSIONS_MAX][CRYPTO_FP_LEN + 16];
	unsigned char id[CRYPTO_ID_LEN];
	char fp[CRYPTO_FP_LEN + 1], err[512];
	const char *file = cf->audit_log, *arg, *p;
	const struct crypto *k;
	struct store_meta m;
	char *line = NULL;
	size_t cap = 0, n;
	FILE *f;
	int found = 0, nfp = 0, receipt, rc, i;

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
		snprintf(want[nfp++], sizeof(want[0]), "\"receipt\":\"%s\"",
		    arg);
	else {
		/* a link: its last path segment; a receipt's names its secret
		 * while the receipt lives */
		receipt = strstr(arg, "/private/") != NULL;
		if ((p = strrchr(arg, '/')) != NULL)
			arg = p + 1;
		if (!keys_valid(arg, strlen(arg)))
			fail("not a fingerprint, secret link, receipt link or "
			    "secret key");
		if (receipt)
			open_all(ROWS);
		else if ((cr = crypto_open(cf->master_key, err,
		    sizeof(err))) == NULL)
			fail(err);
		for (k = crypto_newest(cr); k != NULL; k = crypto_older(k)) {
			if (receipt) {
				crypto_row_id(k, CRYPTO_ID_META, arg,
				    strlen(arg), id);
				if ((rc = store_meta_get(st, id,
				    (long long)time(NULL), &m)) == -1)
					fail("cannot read the receipt");
				if (rc == 0)
					continue;
				memcpy(id, m.secret_id, sizeof(id));
			} else
				crypto_row_id(k, CRYPTO_ID_SECRET, arg,
				    strlen(arg), id);
			crypto_fingerprint(id, fp);
			snprintf(want[nfp++], sizeof(want[0]),
			    "\"receipt\":\"%s\"", fp);
			if (receipt)
				break;
		}
		if (nfp == 0)
			fail("no such receipt (gone after twice its TTL): "
			    "give the fingerprint");
	}
	if ((f = fopen(file, "r")) == NULL) {
		snprintf(err, sizeof(err), "%s: %s", file, strerror(errno));
		fail(err);
	}
	while (getline(&line, &cap, f) != -1)
		for (i = 0; i < nfp; i++)
			if (strstr(line, want[i]) != NULL) {
				fputs(line, stdout);
				found = 1;
				break;
			}
	free(line);
	fclose(f);
	if (!found)
		fprintf(stderr, "ots-admin: no audit lines for %s\n", arg);
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
		crypto_token_hash(seal, token, KEYS_TOKEN_LEN, c.token_hash);
		c.key_version = crypto_key_version(seal);
		if ((rc = store_customer_add(st, &c)) != 0)
			fail(rc == 1 ? "that account exists already" :
			    "cannot add the account");
		audit_account("account_add", "ok", c.custid);
		print_token(token);
	} else if (strcmp(argv[0], "token") == 0 && argc == 2) {
		keys_token(token);
		crypto_token_hash(seal, token, KEYS_TOKEN_LEN, c.token_hash);
		if ((rc = store_customer_set_token(st, c.custid, c.token_hash,
		    crypto_key_version(seal))) != 1)
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

/* The rows of version v, or fail. */
static void
key_use(int v, struct store_key_use *u)
{
	if (store_key_use(st, v, u) == -1)
		fail("cannot count the rows of a key version");
}

/*
 * key list: every version the key file or the database knows, which one
 * seals new rows, and the rows that use each.
 */
static int
key_list(void)
{
	struct store_key known[CRYPTO_VERSIONS_MAX];
	struct store_key_use u;
	const struct crypto *k;
	long n, i;
	int v, top = 0, db;

	if ((n = store_key_list(st, known, CRYPTO_VERSIONS_MAX)) == -1)
		fail("cannot list the key versions");
	for (i = 0; i < n; i++)
		top = known[i].version > top ? known[i].version : top;
	k = crypto_newest(cr);
	top = crypto_key_version(k) > top ? crypto_key_version(k) : top;
	for (v = 1; v <= top; v++) {
		for (db = 0, i = 0; i < n; i++)
			db |= known[i].version == v;
		if (!db && crypto_find(cr, v) == NULL)
			continue;
		key_use(v, &u);
		printf("version %d\t%s\tfile=%s\tdatabase=%s\tsecrets=%lld\t"
		    "receipts=%lld\taccounts=%lld\n", v,
		    v == crypto_key_version(seal) ? "current" : "old",
		    crypto_find(cr, v) ? "yes" : "no", db ? "yes" : "no",
		    u.secrets, u.receipts, u.accounts);
	}
	return 0;
}

static void
key_record(const struct crypto *k)
{
	unsigned char check[CRYPTO_ID_LEN];

	crypto_check_value(k, check);
	if (store_key_add(st, crypto_key_version(k), check) == -1)
		fail("cannot record the new key version in the database");
}

/*
 * key rotate: a new version in the key file (replaced atomically), then
 * its check value in the database.  A rotation stopped between the two
 * leaves the file's newest version unknown to the database (no worker
 * seals with it): the next `key rotate` records it instead of adding one.
 */
static int
key_rotate(void)
{
	const struct crypto *k = crypto_newest(cr);
	char err[512];
	int v;

	if (k != seal)
		v = crypto_key_version(k);
	else {
		if (crypto_keyfile_add(cf->master_key, &v, err,
		    sizeof(err)) == -1)
			fail(err);
		crypto_close(cr);
		if ((cr = crypto_open(cf->master_key, err,
		    sizeof(err))) == NULL)
			fail(err);
		if ((k = crypto_find(cr, v)) == NULL)
			fail("the new key version is not in the key file");
	}
	key_record(k);
	printf("ots: master key version %d added to %s; new secrets use it "
	    "once the workers restart.\n"
	    "next: one host: restart the workers (and ots-sweep's timer "
	    "needs nothing).\n"
	    "several hosts: copy %s (0400) to every host first, then "
	    "restart the workers everywhere.\n"
	    "then: `ots-admin key list`; `ots-admin key retire %d` once no "
	    "row uses it.\n", v, cf->master_key, cf->master_key, v - 1);
	return 0;
}

/*
 * key retire V: refused for the sealing version and while any row uses
 * V (secrets, receipts, accounts' token hashes: all the master key names
 * or seals; the outbox is sealed to the mailer's key, and rate-limit
 * counters are named under the current version and swept by window);
 * else V leaves the database first (no process seals with a version the
 * database does not know), then the key file.
 */
static int
key_retire(const char *arg)
{
	struct store_key_use u;
	char err[512], *end;
	long v;
	int rc;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 1 ||
	    v > 999999)
		fail("key retire takes a version number (see key list)");
	if ((int)v >= crypto_key_version(seal) ||
	    (int)v >= crypto_key_version(crypto_newest(cr)))
		fail("that is the current key version (or newer): rotate "
		    "first");
	key_use((int)v, &u);
	if (u.secrets > 0 || u.receipts > 0 || u.accounts > 0) {
		fprintf(stderr, "ots-admin: version %ld is still used by "
		    "%lld secrets, %lld receipts and %lld accounts; nothing "
		    "retired.\n", v, u.secrets, u.receipts, u.accounts);
		if (u.secrets > 0 || u.receipts > 0)
			fprintf(stderr, "  secrets and receipts: wait until "
			    "they are revealed, burned or expired and "
			    "ots-sweep has removed them\n");
		if (u.accounts > 0)
			fprintf(stderr, "  accounts: they move to the current "
			    "version when they next use the API, or give each "
			    "a new token: ots-admin customer token EMAIL\n");
		fail("key version in use");
	}
	if ((rc = store_key_del(st, (int)v)) == -1)
		fail("cannot remove the key version from the database");
	if (rc == 0 && crypto_find(cr, (int)v) == NULL)
		fail("no such key version (see key list)");
	if (crypto_find(cr, (int)v) != NULL &&
	    crypto_keyfile_remove(cf->master_key, (int)v, err,
	    sizeof(err)) == -1)
		fail(err);
	printf("ots: master key version %ld retired%s; restart the workers "
	    "(several hosts: copy %s to every host first)\n", v,
	    rc == 0 ? " (the database no longer knew it)" : "",
	    cf->master_key);
	return 0;
}

static int
cmd_key(int argc, char **argv)
{
	if (argc < 1)
		usage();
	open_all(ROWS);
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return key_list();
	if (strcmp(argv[0], "rotate") == 0 && argc == 1)
		return key_rotate();
	if (strcmp(argv[0], "retire") == 0 && argc == 2)
		return key_retire(argv[1]);
	usage();
	return 2;
}

/*
 * What the database holds now: counts and sizes only, never a key, an
 * address or a value.  json: one JSON object instead of aligned lines.
 */
static int
cmd_stats(int json)
{
	struct json_object *o, *r, *q, *k;
	struct store_stats ss;
	long long now;
	int i, j;

	open_all(ROWS);
	if (store_ready(st, &now) == -1 || store_stats(st, now, &ss) == -1)
		return 1;
	if (!json) {
		printf("%-32s %lld\n", "secrets live", ss.secrets);
		for (i = 0; i <= STATE_EXPIRED; i++)
			printf("receipts %-23s %lld\n",
			    store_state_name((enum store_state)i),
			    ss.receipts[i]);
		printf("%-32s %lld\n", "accounts", ss.customers);
		for (i = 0; i <= MAIL_WEBHOOK; i++)
			for (j = 0; j < STORE_MAIL_STATES; j++)
				printf("outbox %-7s %-17s %lld\n",
				    store_mail_kind_name((enum store_mail_kind)i),
				    store_mail_state_name(j), ss.mail[i][j]);
		printf("%-32s %lld\n", "database bytes", ss.size);
		return 0;
	}
	o = json_object_new_object();
	r = json_object_new_object();
	q = json_object_new_object();
	json_object_object_add(o, "secrets", json_object_new_int64(ss.secrets));
	for (i = 0; i <= STATE_EXPIRED; i++)
		json_object_object_add(r, store_state_name((enum store_state)i),
		    json_object_new_int64(ss.receipts[i]));
	json_object_object_add(o, "receipts", r);
	json_object_object_add(o, "accounts",
	    json_object_new_int64(ss.customers));
	for (i = 0; i <= MAIL_WEBHOOK; i++) {
		k = json_object_new_object();
		for (j = 0; j < STORE_MAIL_STATES; j++)
			json_object_object_add(k, store_mail_state_name(j),
			    json_object_new_int64(ss.mail[i][j]));
		json_object_object_add(q,
		    store_mail_kind_name((enum store_mail_kind)i), k);
	}
	json_object_object_add(o, "outbox", q);
	json_object_object_add(o, "database_bytes",
	    json_object_new_int64(ss.size));
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
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
	else if (strcmp(argv[0], "key") == 0)
		rc = cmd_key(argc - 1, argv + 1);
	else if (strcmp(argv[0], "audit") == 0)
		rc = cmd_audit(argc - 1, argv + 1);
	else if (strcmp(argv[0], "mail") == 0 && argc == 2 &&
	    strcmp(argv[1], "list") == 0) {
		open_all(ROWS);
		rc = store_mail_list(st, mail_one, NULL) == 0 ? 0 : 1;
	} else if (strcmp(argv[0], "stats") == 0 && (argc == 1 ||
	    (argc == 2 && strcmp(argv[1], "--json") == 0)))
		rc = cmd_stats(argc == 2);
	else
		usage();
	store_close(st);
	crypto_close(cr);
	conf_free(cf);
	return rc;
}
