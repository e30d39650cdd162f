#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define DAY	86400LL

const char *const conf_event_names[EV_MAX] = {
	"create_secret", "email_recipient", "show_secret", "show_metadata",
	"burn_secret", "failed_passphrase",
};

/* The default limits per (client, account) per 20-minute window. */
static const long long default_limits[EV_MAX] = {
	500, 50, 1000, 1000, 500, 50,
};

const char *
conf_path(void)
{
	const char *p = getenv("OTS_CONFIG");

	return (p != NULL && *p != '\0') ? p : SYSCONFDIR "/ots/ots.conf";
}

static const char *
trim(char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	s[n] = '\0';
	*len = n;
	return s;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
valid_plan_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_PLAN_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static struct conf_plan *
plan_get(struct conf *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nplans; i++)
		if (strlen(c->plans[i].name) == len &&
		    memcmp(c->plans[i].name, name, len) == 0)
			return &c->plans[i];
	if (c->nplans == CONF_PLANS_MAX)
		return NULL;
	memcpy(c->plans[c->nplans].name, name, len);
	c->plans[c->nplans].name[len] = '\0';
	c->plans[c->nplans].ttl_max = 30 * DAY;
	c->plans[c->nplans].size_max = 10000;
	c->plans[c->nplans].file_size_max = 10LL << 20;
	return &c->plans[c->nplans++];
}

/* Settings that are numbers: name, field, bounds. */
static const struct {
	const char	*key;
	size_t		 off;
	long long	 min, max;
} numbers[] = {
	{ "ttl_default", offsetof(struct conf, ttl_default), 60, 365 * DAY },
	{ "anon_ttl_max", offsetof(struct conf, anon_ttl_max), 60, 365 * DAY },
	{ "anon_size_max", offsetof(struct conf, anon_size_max), 1, 1 << 24 },
	{ "anon_file_size_max", offsetof(struct conf, anon_file_size_max), 0,
	    CONF_FILE_MAX },
	{ "passphrase_min", offsetof(struct conf, passphrase_min), 0, 1024 },
	{ "passphrase_max", offsetof(struct conf, passphrase_max), 1, 4096 },
	{ "body_max", offsetof(struct conf, body_max), 1024, 1 << 26 },
	{ "body_timeout", offsetof(struct conf, body_timeout), 1, 3600 },
	{ "scrypt_max", offsetof(struct conf, scrypt_max), 0, 256 },
	{ "passphrase_lock_after", offsetof(struct conf, lock_after), 1, 1000 },
	{ "passphrase_lock_time", offsetof(struct conf, lock_time), 1, 30 * DAY },
	{ "passphrase_burn_after", offsetof(struct conf, burn_after), 1, 10000 },
	{ "smtp_port", offsetof(struct conf, smtp_port), 1, 65535 },
	{ "smtp_timeout", offsetof(struct conf, smtp_timeout), 1, 600 },
	{ "mail_max_age", offsetof(struct conf, mail_max_age), 60, 30 * DAY },
	{ "mail_keep", offsetof(struct conf, mail_keep), 0, 365 * DAY },
	{ "mail_concurrency", offsetof(struct conf, mail_concurrency), 1, 64 },
	{ "webhook_timeout", offsetof(struct conf, webhook_timeout), 1, 600 },
	{ "sweep_vacuum_max", offsetof(struct conf, vacuum_max), 0, 1LL << 50 },
	{ "ready_min_free", offsetof(struct conf, ready_min_free), 0, 1LL << 60 },
};

static const struct {
	const char	*key;
	size_t		 off;
} strings[] = {
	{ "database", offsetof(struct conf, database) },
	{ "database_password_file", offsetof(struct conf,
	    database_password_file) },
	{ "migrate_database", offsetof(struct conf, migrate_database) },
	{ "state_dir", offsetof(struct conf, state_dir) },
	{ "master_key", offsetof(struct conf, master_key) },
	{ "base_url", offsetof(struct conf, base_url) },
	{ "mail_from", offsetof(struct conf, mail_from) },
	{ "web_dir", offsetof(struct conf, web_dir) },
	{ "locale_dir", offsetof(struct conf, locale_dir) },
	{ "smtp_host", offsetof(struct conf, smtp_host) },
	{ "smtp_user", offsetof(struct conf, smtp_user) },
	{ "smtp_password_file", offsetof(struct conf, smtp_password_file) },
	{ "mailer_key", offsetof(struct conf, mailer_key) },
	{ "mailer_public_key", offsetof(struct conf, mailer_public_key) },
	{ "webhook_ca_file", offsetof(struct conf, webhook_ca_file) },
	{ "audit_log", offsetof(struct conf, audit_log) },
	{ "audit_syslog_socket", offsetof(struct conf, audit_syslog_socket) },
};

/* A space-separated list of addresses; returns NULL or a reason. */
static const char *
set_proxies(struct conf *c, const char *val)
{
	const char *p = val;
	size_t n;

	while (c->nproxies > 0)
		free(c->proxies[--c->nproxies]);
	while (*(p += strspn(p, " \t")) != '\0') {
		n = strcspn(p, " \t");
		if (c->nproxies == CONF_PROXIES_MAX)
			return "too many trusted proxies";
		if ((c->proxies[c->nproxies++] = strndup(p, n)) == NULL)
			return "out of memory";
		p += n;
	}
	return NULL;
}

int
conf_is_postgresql(const char *database)
{
	size_t n;

	if (strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0)
		return 1;
	n = strspn(database, "abcdefghijklmnopqrstuvwxyz_");
	return n > 0 && database[n + strspn(database + n, " \t")] == '=';
}

/* The directory part of path ("." when it has none), or NULL. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The first line of the file at path, without its newline.  0 or -1. */
static int
read_line(const char *path, char **out, char *err, size_t errlen)
{
	char line[1024];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	*out = strdup(line);
	sodium_memzero(line, sizeof(line));
	if (*out == NULL) {
		util_seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The mailer's public key: one line of hex.  A file that is not there is
 * no key (mail is then refused at create).  0 or -1.
 */
static int
read_public_key(struct conf *c, char *err, size_t errlen)
{
	char *hex;
	size_t n;
	int rc;

	if (access(c->mailer_public_key, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (read_line(c->mailer_public_key, &hex, err, errlen) == -1)
		return -1;
	rc = sodium_hex2bin(c->mailer_pk, sizeof(c->mailer_pk), hex,
	    strlen(hex), NULL, &n, NULL);
	free(hex);
	if (rc != 0 || n != sizeof(c->mailer_pk)) {
		util_seterr(err, errlen, "%s: not a mailer public key "
		    "(ots-mailer -k makes one)", c->mailer_public_key);
		return -1;
	}
	c->has_mailer_pk = 1;
	return 0;
}

/* Apply one "key = value" line; returns NULL or a reason. */
static const char *
apply(struct conf *c, const char *key, const char *val, size_t vlen)
{
	struct conf_plan *pl;
	const char *dot;
	long long n;
	char **sp;
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		if (strcmp(key, numbers[i].key) != 0)
			continue;
		if (util_strtoll(val, vlen, numbers[i].min, numbers[i].max,
		    (long long *)((char *)c + numbers[i].off)) == -1)
			return "value is not a number in range";
		return NULL;
	}
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (strcmp(key, strings[i].key) != 0)
			continue;
		if (vlen == 0)
			return "empty value";
		sp = (char **)((char *)c + strings[i].off);
		free(*sp);
		if ((*sp = strdup(val)) == NULL)
			return "out of memory";
		return NULL;
	}
	if (strcmp(key, "smtp_starttls") == 0) {
		if (strcmp(val, "off") == 0)
			c->smtp_starttls = CONF_TLS_OFF;
		else if (strcmp(val, "optional") == 0)
			c->smtp_starttls = CONF_TLS_OPTIONAL;
		else if (strcmp(val, "required") == 0)
			c->smtp_starttls = CONF_TLS_REQUIRED;
		else
			return "value must be off, optional or required";
		return NULL;
	}
	if (strncmp(key, "limit.", 6) == 0) {
		for (i = 0; i < EV_MAX; i++)
			if (strcmp(key + 6, conf_event_names[i]) == 0)
				return util_strtoll(val, vlen, 0, 1LL << 40,
				    &c->limits[i]) ? "value is not a number "
				    "in range" : NULL;
		return "unknown rate-limit event";
	}
	if (strcmp(key, "trusted_proxies") == 0)
		return set_proxies(c, val);
	if (strcmp(key, "metrics_allow") == 0) {
		if (util_addr_list_check(val) == -1)
			return "value must be addresses or address/bits "
			    "prefixes";
		free(c->metrics_allow);
		return (c->metrics_allow = strdup(val)) == NULL ?
		    "out of memory" : NULL;
	}
	if (strcmp(key, "web_create") == 0) {
		if (strcmp(val, "anyone") == 0)
			c->web_create_auth = 0;
		else if (strcmp(val, "authenticated") == 0)
			c->web_create_auth = 1;
		else
			return "value must be anyone or authenticated";
		return NULL;
	}
	if (strcmp(key, "web_create_networks") == 0) {
		if (util_addr_list_check(val) == -1)
			return "value must be addresses or address/bits "
			    "prefixes";
		free(c->web_create_networks);
		return (c->web_create_networks = strdup(val)) == NULL ?
		    "out of memory" : NULL;
	}
	if (strcmp(key, "web_remote_user") == 0)
		return parse_bool(val, &c->web_remote_user) ?
		    "value must be yes or no" : NULL;
	if (strcmp(key, "web_auto_account") == 0)
		return parse_bool(val, &c->web_auto_account) ?
		    "value must be yes or no" : NULL;
	if (strcmp(key, "passphrase_required") == 0)
		return parse_bool(val, &c->passphrase_required) ?
		    "value must be yes or no" : NULL;
	if (strcmp(key, "sandbox") == 0)
		return parse_bool(val, &c->sandbox) ?
		    "value must be yes or no" : NULL;
	if (strcmp(key, "audit_client_address") == 0)
		return parse_bool(val, &c->audit_client) ?
		    "value must be yes or no" : NULL;
	if (strcmp(key, "webhook_allow_private") == 0)
		return parse_bool(val, &c->webhook_allow_private) ?
		    "value must be yes or no" : NULL;
	if (strncmp(key, "plan.", 5) == 0 &&
	    (dot = strchr(key + 5, '.')) != NULL) {
		if (!valid_plan_name(key + 5, (size_t)(dot - key - 5)))
			return "bad plan name (use a-z, 0-9, _ and -)";
		if ((pl = plan_get(c, key + 5, (size_t)(dot - key - 5))) == NULL)
			return "too many plans";
		dot++;
		if (strcmp(dot, "ttl_max") == 0) {
			if (util_strtoll(val, vlen, 60, 365 * DAY, &n) == -1)
				return "value is not a number in range";
			pl->ttl_max = n;
		} else if (strcmp(dot, "size_max") == 0) {
			if (util_strtoll(val, vlen, 1, 1 << 24, &n) == -1)
				return "value is not a number in range";
			pl->size_max = n;
		} else if (strcmp(dot, "file_size_max") == 0) {
			if (util_strtoll(val, vlen, 0, CONF_FILE_MAX, &n) == -1)
				return "value is not a number in range";
			pl->file_size_max = n;
		} else if (strcmp(dot, "unlimited") == 0) {
			if (parse_bool(val, &pl->unlimited) == -1)
				return "value must be yes or no";
		} else
			return "unknown plan setting";
		return NULL;
	}
	return "unknown key";
}

struct conf *
conf_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	char line[CONF_LINE_MAX + 1], *eq, *p, *at;
	const char *key, *val, *reason, *nl;
	size_t lineno = 0, n, klen, vlen, i;
	long long need;
	struct conf *c;
	int body_set = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		util_seterr(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	c->ttl_default = 7 * DAY;
	c->anon_ttl_max = 7 * DAY;
	c->anon_size_max = 10000;
	c->anon_file_size_max = 1LL << 20;
	c->passphrase_max = 1024;
	memcpy(c->limits, default_limits, sizeof(c->limits));
	c->lock_after = 5;
	c->lock_time = 1800;
	c->burn_after = 20;
	c->body_timeout = 30;
	c->smtp_port = 25;
	c->smtp_starttls = CONF_TLS_OPTIONAL;
	c->smtp_timeout = 30;
	c->mail_max_age = DAY;
	c->mail_keep = 7 * DAY;
	c->mail_concurrency = 4;
	c->webhook_timeout = 10;
	c->vacuum_max = 64LL << 20;
	c->ready_min_free = 64LL << 20;
	c->sandbox = 1;
	c->web_auto_account = 1;
	plan_get(c, CONF_DEFAULT_PLAN, strlen(CONF_DEFAULT_PLAN));

	while (len > 0) {
		lineno++;
		nl = memchr(text, '\n', len);
		n = nl ? (size_t)(nl - text) : len;
		if (n > CONF_LINE_MAX) {
			util_seterr(err, errlen, "%s:%zu: line too long", name,
			    lineno);
			goto fail;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		text += nl ? n + 1 : n;
		len -= nl ? n + 1 : n;
		if (memchr(line, '\0', n) != NULL) {
			util_seterr(err, errlen,
			    "%s:%zu: NUL byte", name, lineno);
			goto fail;
		}
		for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == n || line[i] == '#' || line[i] == '\r')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			util_seterr(err, errlen, "%s:%zu: expected key = value",
			    name, lineno);
			goto fail;
		}
		*eq = '\0';
		klen = (size_t)(eq - line);
		key = trim(line, &klen);
		/* a '#' after the value starts a comment */
		vlen = n - (size_t)(eq + 1 - line);
		if ((val = memchr(eq + 1, '#', vlen)) != NULL)
			vlen = (size_t)(val - (eq + 1));
		val = trim(eq + 1, &vlen);
		if ((reason = apply(c, key, val, vlen)) != NULL) {
			util_seterr(err, errlen, "%s:%zu: %s: %s", name, lineno,
			    key, reason);
			goto fail;
		}
		if (strcmp(key, "body_max") == 0)
			body_set = 1;
	}
	if (c->database == NULL || c->master_key == NULL) {
		util_seterr(err, errlen,
		    "%s: database and master_key must be set",
		    name);
		goto fail;
	}
	if ((c->base_url == NULL && (c->base_url =
	    strdup("http://127.0.0.1:8080")) == NULL) ||
	    (c->mail_from == NULL && (c->mail_from =
	    strdup("ots@localhost")) == NULL) ||
	    (c->smtp_host == NULL && (c->smtp_host =
	    strdup("127.0.0.1")) == NULL) ||
	    (c->metrics_allow == NULL && (c->metrics_allow =
	    strdup("127.0.0.0/8 ::1")) == NULL)) {
		util_seterr(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	/* the lock files' directory: the SQLite file's, or the key's */
	if (c->state_dir == NULL && (c->state_dir = dir_of(
	    conf_is_postgresql(c->database) ? c->master_key :
	    strncmp(c->database, "sqlite:", 7) == 0 ? c->database + 7 :
	    c->database)) == NULL) {
		util_seterr(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	/* printable ASCII without space, quotes or brackets; LOCAL@DOMAIN */
	for (p = c->mail_from; *p > ' ' && *p < 0x7f &&
	    strchr("<>\",", *p) == NULL; p++)
		;
	at = strchr(c->mail_from, '@');
	if (*p != '\0' || at == NULL || at == c->mail_from || at[1] == '\0') {
		util_seterr(err, errlen,
		    "%s: mail_from must be a plain address",
		    name);
		goto fail;
	}
	/* the password goes out only inside TLS */
	if (c->smtp_user != NULL && (c->smtp_password_file == NULL ||
	    c->smtp_starttls != CONF_TLS_REQUIRED)) {
		util_seterr(err, errlen,
		    "%s: smtp_user needs smtp_password_file "
		    "and smtp_starttls = required", name);
		goto fail;
	}
	if (c->audit_log != NULL && c->audit_log[0] != '\0' &&
	    c->audit_log[0] != '/' && strcmp(c->audit_log, "syslog") != 0) {
		util_seterr(err, errlen,
		    "%s: audit_log must be an absolute path or syslog", name);
		goto fail;
	}
	if (c->audit_syslog_socket == NULL &&
	    (c->audit_syslog_socket = strdup("/dev/log")) == NULL) {
		util_seterr(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	if (c->passphrase_min > c->passphrase_max) {
		util_seterr(err, errlen,
		    "%s: passphrase_min exceeds passphrase_max",
		    name);
		goto fail;
	}
	/* A body must hold the largest secret, percent-encoded, */
	need = c->anon_size_max;
	for (i = 0; i < c->nplans; i++)
		if (c->plans[i].size_max > need)
			need = c->plans[i].size_max;
	need = need * 3 + 8192;
	/* or the largest file, with room for the multipart around it */
	if (c->anon_file_size_max + CONF_FILE_OVERHEAD > need)
		need = c->anon_file_size_max + CONF_FILE_OVERHEAD;
	for (i = 0; i < c->nplans; i++)
		if (c->plans[i].file_size_max + CONF_FILE_OVERHEAD > need)
			need = c->plans[i].file_size_max + CONF_FILE_OVERHEAD;
	if (!body_set)
		c->body_max = need > 65536 ? need : 65536;
	return c;
fail:
	conf_free(c);
	return NULL;
}

struct conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct conf *c = NULL;
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		util_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (b.len > (1 << 20) || buf_add(&b, chunk, n) == -1) {
			util_seterr(err, errlen, "%s: too large", path);
			goto out;
		}
	if (ferror(f)) {
		util_seterr(err, errlen, "%s: read error", path);
		goto out;
	}
	c = conf_parse(b.data ? b.data : "", b.len, path, err, errlen);
	if (c != NULL && ((c->database_password_file != NULL &&
	    read_line(c->database_password_file, &c->database_password, err,
	    errlen) == -1) || (c->mailer_public_key != NULL &&
	    read_public_key(c, err, errlen) == -1))) {
		conf_free(c);
		c = NULL;
	}
out:
	fclose(f);
	buf_free(&b);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->database);
	free(c->database_password_file);
	if (c->database_password != NULL) {
		sodium_memzero(c->database_password,
		    strlen(c->database_password));
		free(c->database_password);
	}
	free(c->migrate_database);
	free(c->state_dir);
	free(c->master_key);
	free(c->base_url);
	free(c->mail_from);
	free(c->web_dir);
	free(c->locale_dir);
	free(c->audit_log);
	free(c->audit_syslog_socket);
	while (c->nproxies > 0)
		free(c->proxies[--c->nproxies]);
	free(c->metrics_allow);
	free(c->web_create_networks);
	free(c->smtp_host);
	free(c->smtp_user);
	free(c->mailer_key);
	free(c->mailer_public_key);
	free(c->webhook_ca_file);
	free(c->smtp_password_file);
	free(c);
}

const struct conf_plan *
conf_plan(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nplans; i++)
		if (strcmp(c->plans[i].name, name) == 0)
			return &c->plans[i];
	return NULL;
}
