/*
 * conf: parsing the settings file, its defaults, plans and errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "tap.h"

#define DAY	86400LL

static char err[512];

/* conf_parse of a NUL-terminated text named "t.conf". */
static struct conf *
parse(const char *text)
{
	err[0] = '\0';
	return conf_parse(text, strlen(text), "t.conf", err, sizeof(err));
}

/* The text must be refused with an error containing want. */
static void
refused(const char *text, const char *want, const char *what)
{
	struct conf *c;

	err[0] = '\0';
	c = parse(text);
	ok(c == NULL, "refused: %s", what);
	if (!ok(strstr(err, want) != NULL, "error names \"%s\": %s", want,
	    what))
		diag("error was \"%s\"", err);
	conf_free(c);
}

#define REQUIRED "database = /d.db\nmaster_key = /k\n"

static void
test_good(void)
{
	const struct conf_plan *p;
	struct conf *c;

	c = parse("# ots settings\n"
	    "\n"
	    "   # an indented comment\n"
	    "database = /var/lib/ots/ots.db\n"
	    "\tmaster_key=/etc/ots/master.key   # the key file\n"
	    "base_url = https://ots.example.com//\r\n"
	    "locale_dir = /opt/ots/locale\n"
	    "ttl_default = 3600\n"
	    "passphrase_min = 4\n"
	    "passphrase_required = yes\n"
	    "plan.pro.ttl_max = 2592000\n"
	    "plan.pro.size_max = 100000\n"
	    "plan.pro.unlimited = true\n"
	    "plan.basic.size_max = 5000\n"
	    "anon_file_size_max = 0\n"
	    "plan.pro.file_size_max = 0\n"
	    "plan.basic.file_size_max = 1000");
	if (!ok(c != NULL, "a good file parses"))
		bail_out("conf_parse: %s", err);
	is_str(c->database, "/var/lib/ots/ots.db", "database");
	is_str(c->master_key, "/etc/ots/master.key",
	    "master_key: spaces and trailing comment dropped");
	is_str(c->base_url, "https://ots.example.com",
	    "base_url: CR and trailing slashes dropped");
	is_str(c->locale_dir, "/opt/ots/locale", "locale_dir");
	is_int(c->ttl_default, 3600, "ttl_default set");
	is_int(c->anon_ttl_max, 7 * DAY, "anon_ttl_max default 7 days");
	is_int(c->anon_size_max, 10000, "anon_size_max default 10000");
	is_int(c->passphrase_min, 4, "passphrase_min set");
	is_int(c->passphrase_max, 1024, "passphrase_max default");
	is_int(c->passphrase_required, 1, "passphrase_required yes");
	is_int((long long)c->nplans, 2, "two plans: basic and pro");

	p = conf_plan(c, "pro");
	ok(p != NULL, "plan pro exists");
	if (p != NULL) {
		is_int(p->ttl_max, 2592000, "pro ttl_max");
		is_int(p->size_max, 100000, "pro size_max");
		is_int(p->unlimited, 1, "pro unlimited");
	}
	p = conf_plan(c, CONF_DEFAULT_PLAN);
	ok(p != NULL, "default plan exists");
	if (p != NULL) {
		is_int(p->ttl_max, 30 * DAY, "basic ttl_max default 30 days");
		is_int(p->size_max, 5000, "basic size_max set");
		is_int(p->unlimited, 0, "basic not unlimited");
	}
	ok(conf_plan(c, "gold") == NULL, "unknown plan is NULL");
	is_int(c->body_max, 100000 * 3 + 8192,
	    "body_max derived from the largest plan size (files: smaller)");
	is_int(c->anon_file_size_max, 0, "anon_file_size_max 0: no files");
	is_int(conf_plan(c, "pro")->file_size_max, 0, "pro file_size_max 0");
	is_int(conf_plan(c, CONF_DEFAULT_PLAN)->file_size_max, 1000,
	    "basic file_size_max set");
	conf_free(c);
}

static void
test_defaults(void)
{
	const struct conf_plan *p;
	struct conf *c;

	c = parse(REQUIRED);
	if (!ok(c != NULL, "only the required settings"))
		return;
	is_int(c->ttl_default, 7 * DAY, "ttl_default default 7 days");
	is_int(c->passphrase_min, 0, "passphrase_min default 0");
	is_int(c->passphrase_required, 0, "passphrase not required");
	is_str(c->base_url, "http://127.0.0.1:8080", "base_url default");
	ok(c->locale_dir == NULL, "locale_dir default: the installed ones");
	is_int(c->body_max, (10 << 20) + 65536,
	    "body_max default: the default plan's 10 MiB file and 64 KiB");
	is_int(c->anon_file_size_max, 1 << 20,
	    "anon_file_size_max default 1 MiB");
	is_int((long long)c->nplans, 1, "one plan by default");
	ok(c->lock_after == 5 && c->lock_time == 1800 && c->burn_after == 20,
	    "passphrase attempts: lock after 5 for 30 min, burn after 20");
	is_int(c->smtp_starttls, CONF_TLS_OPTIONAL, "STARTTLS optional");
	is_int(c->sandbox, 1, "sandbox on by default");
	is_int(c->ready_min_free, 64LL << 20, "ready_min_free default 64 MiB");
	is_str(c->metrics_allow, "127.0.0.0/8 ::1", "metrics_allow: loopback");
	ok(c->web_create_auth == 0 && c->web_create_networks == NULL &&
	    c->web_remote_user == 0 && c->web_auto_account == 1,
	    "web: anyone creates, from anywhere; REMOTE_USER not trusted; "
	    "auto accounts");
	ok(c->audit_log == NULL && c->audit_client == 0 &&
	    strcmp(c->audit_syslog_socket, "/dev/log") == 0,
	    "no audit log, no client address, syslog at /dev/log by default");
	p = conf_plan(c, CONF_DEFAULT_PLAN);
	ok(p != NULL && p->ttl_max == 30 * DAY && p->size_max == 10000,
	    "default plan: 30 days, 10000 bytes");
	ok(p != NULL && p->file_size_max == 10 << 20,
	    "default plan: files up to 10 MiB");
	conf_free(c);

	c = parse(REQUIRED "plan.basic.file_size_max = 0\n"
	    "anon_file_size_max = 0\n");
	is_int(c != NULL ? c->body_max : -1, 65536,
	    "no files anywhere: body_max floor 64 KiB again");
	conf_free(c);
	c = parse(REQUIRED "plan.big.file_size_max = 33554432\n");
	ok(c != NULL && c->body_max == (32 << 20) + 65536 &&
	    conf_plan(c, "big")->file_size_max == 32 << 20 &&
	    conf_plan(c, "big")->size_max == 10000,
	    "body_max follows the largest plan file_size_max (32 MiB)");
	conf_free(c);
	c = parse(REQUIRED "anon_file_size_max = 20971520\n");
	ok(c != NULL && c->body_max == (20 << 20) + 65536,
	    "body_max follows anon_file_size_max");
	conf_free(c);
	refused(REQUIRED "plan.pro.file_size_max = 33554433\n", "t.conf:3:",
	    "plan file_size_max above 32 MiB");
	refused(REQUIRED "anon_file_size_max = -1\n", "t.conf:3:",
	    "anon_file_size_max below 0");

	c = parse(REQUIRED "ready_min_free = 0\n");
	ok(c != NULL && c->ready_min_free == 0, "ready_min_free 0: no check");
	conf_free(c);
	ok(parse(REQUIRED "ready_min_free = -1\n") == NULL,
	    "ready_min_free below 0 refused");

	c = parse(REQUIRED "anon_size_max = 1000000\nanon_file_size_max = 0\n"
	    "plan.basic.file_size_max = 0\n");
	ok(c != NULL && c->body_max == 1000000 * 3 + 8192,
	    "body_max follows anon_size_max");
	conf_free(c);

	c = parse(REQUIRED "body_max = 2048\nplan.big.size_max = 1000000\n");
	ok(c != NULL && c->body_max == 2048, "explicit body_max wins");
	conf_free(c);

	c = parse(REQUIRED "passphrase_required = no\nplan.x.unlimited = 0\n");
	ok(c != NULL && c->passphrase_required == 0 &&
	    conf_plan(c, "x") != NULL && conf_plan(c, "x")->unlimited == 0,
	    "booleans no and 0");
	conf_free(c);

	c = parse(REQUIRED "metrics_allow =\n");
	ok(c != NULL && strcmp(c->metrics_allow, "") == 0,
	    "metrics_allow empty: nobody");
	conf_free(c);
	c = parse(REQUIRED "metrics_allow = 10.0.0.0/8 2001:db8::/32\n");
	ok(c != NULL && strcmp(c->metrics_allow, "10.0.0.0/8 2001:db8::/32")
	    == 0, "metrics_allow read");
	conf_free(c);
	c = parse(REQUIRED "metrics_allow = 10.0.0.0/40\n");
	ok(c == NULL && strstr(err, "metrics_allow") != NULL,
	    "metrics_allow: a bad prefix is refused");
	c = parse(REQUIRED "web_create = authenticated\n"
	    "web_create_networks = 10.0.0.0/8 127.0.0.1\n"
	    "web_remote_user = yes\nweb_auto_account = no\n");
	ok(c != NULL && c->web_create_auth == 1 &&
	    strcmp(c->web_create_networks, "10.0.0.0/8 127.0.0.1") == 0 &&
	    c->web_remote_user == 1 && c->web_auto_account == 0,
	    "web_create authenticated, networks, remote user, no auto accounts");
	conf_free(c);
	c = parse(REQUIRED "web_create = anyone\n");
	ok(c != NULL && c->web_create_auth == 0, "web_create = anyone");
	conf_free(c);
	c = parse(REQUIRED "web_create = staff\n");
	ok(c == NULL && strstr(err, "web_create") != NULL &&
	    strstr(err, "anyone or authenticated") != NULL,
	    "web_create: another value is refused");
	c = parse(REQUIRED "web_create_networks = 10.0.0.0/33\n");
	ok(c == NULL && strstr(err, "web_create_networks") != NULL,
	    "web_create_networks: a bad prefix is refused");
	c = parse(REQUIRED "web_remote_user = maybe\n");
	ok(c == NULL && strstr(err, "web_remote_user") != NULL,
	    "web_remote_user: yes or no");
	c = parse(REQUIRED "web_auto_account = 2\n");
	ok(c == NULL && strstr(err, "web_auto_account") != NULL,
	    "web_auto_account: yes or no");
	c = parse(REQUIRED "sandbox = no\n");
	ok(c != NULL && c->sandbox == 0, "sandbox = no turns it off");
	conf_free(c);

	c = parse(REQUIRED "audit_log = /var/log/ots/audit.log\n"
	    "audit_client_address = yes\n");
	ok(c != NULL && strcmp(c->audit_log, "/var/log/ots/audit.log") == 0 &&
	    c->audit_client == 1, "audit_log a file, audit_client_address yes");
	conf_free(c);

	c = parse(REQUIRED "audit_log = syslog\n"
	    "audit_syslog_socket = /run/l\n");
	ok(c != NULL && strcmp(c->audit_log, "syslog") == 0 &&
	    strcmp(c->audit_syslog_socket, "/run/l") == 0,
	    "audit_log syslog, its socket");
	conf_free(c);

	c = parse(REQUIRED "\r\n  \r\n# x = y\n");
	ok(c != NULL, "blank CRLF lines and commented settings");
	conf_free(c);
}

static void
test_errors(void)
{
	struct conf *c;
	char text[2048];

	refused(REQUIRED "colour = blue\n", "t.conf:3:", "unknown key");
	refused(REQUIRED "colour = blue\n", "unknown key",
	    "unknown key reason");
	refused("# one\n#two\n\nttl_default = abc\n" REQUIRED, "t.conf:4:",
	    "bad number after comments");
	refused(REQUIRED "ttl_default = 59\n", "t.conf:3:", "ttl below 60");
	refused(REQUIRED "ttl_default = 1e3\n", "t.conf:3:", "float number");
	refused(REQUIRED "ttl_default =\n", "t.conf:3:", "empty number");
	refused(REQUIRED "body_max = 99999999999\n", "t.conf:3:",
	    "body_max too large");
	refused(REQUIRED "passphrase_required = maybe\n", "t.conf:3:",
	    "bad boolean");
	refused(REQUIRED "sandbox = off\n", "t.conf:3: sandbox: value must "
	    "be yes or no", "sandbox takes yes or no only");
	refused(REQUIRED "audit_log = audit.log\n", "t.conf: audit_log must be "
	    "an absolute path or syslog", "audit_log: a relative path");
	refused(REQUIRED "audit_client_address = maybe\n", "t.conf:3: "
	    "audit_client_address: value must be yes or no",
	    "audit_client_address takes yes or no");
	refused(REQUIRED "plan.pro.colour = red\n", "t.conf:3:",
	    "unknown plan setting");
	refused(REQUIRED "plan.Pro.ttl_max = 600\n", "t.conf:3:",
	    "upper-case plan name");
	refused(REQUIRED "plan..ttl_max = 600\n", "t.conf:3:",
	    "empty plan name");
	refused(REQUIRED "plan.pro.ttl_max = 10\n", "t.conf:3:",
	    "plan ttl_max below 60");
	refused(REQUIRED "plan.pro.size_max = 0\n", "t.conf:3:",
	    "plan size_max 0");
	refused(REQUIRED "plan.pro.unlimited = sure\n", "t.conf:3:",
	    "plan bad boolean");
	refused("database\n" REQUIRED, "t.conf:1:", "line without =");
	refused(REQUIRED "smtp_starttls = maybe\n", "t.conf:3:",
	    "bad smtp_starttls");
	refused(REQUIRED "mail_from = OTS <ots@example.com>\n", "mail_from",
	    "mail_from with a display name");
	refused(REQUIRED "mail_from = ots@exa\rmple.com\n", "mail_from",
	    "mail_from with a CR inside");
	refused(REQUIRED "mail_from = ots@\n", "mail_from",
	    "mail_from without a domain");
	refused(REQUIRED "smtp_user = ots\n", "smtp_password_file",
	    "smtp_user without smtp_password_file");
	refused(REQUIRED "smtp_user = ots\nsmtp_password_file = /p\n",
	    "smtp_starttls = required", "smtp_user without required STARTTLS");
	c = parse(REQUIRED "smtp_user = ots\nsmtp_password_file = /p\n"
	    "smtp_starttls = required\n");
	ok(c != NULL, "smtp_user with a password file and required STARTTLS");
	conf_free(c);
	refused("database =\nmaster_key = /k\n", "t.conf:1:",
	    "empty database");
	refused("master_key = /k\n", "database", "missing database");
	refused("database = /d.db\n", "master_key", "missing master_key");
	refused("", "database", "empty file");
	refused(REQUIRED "passphrase_min = 20\npassphrase_max = 10\n",
	    "passphrase_min", "passphrase_min above passphrase_max");

	memset(text, 'x', sizeof(text));
	memcpy(text, REQUIRED "# ", sizeof(REQUIRED) + 1);
	text[sizeof(text) - 1] = '\0';
	refused(text, "t.conf:3:", "line longer than CONF_LINE_MAX");

	err[0] = '\0';
	ok(conf_parse(REQUIRED "a\0b = c\n", sizeof(REQUIRED) + 7, "t.conf",
	    err, sizeof(err)) == NULL && strstr(err, "t.conf:3:") != NULL,
	    "NUL byte refused");
}

static void
test_load(void)
{
	char dir[1024], path[1100];
	struct conf *c;
	FILE *f;

	tap_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ots.conf", dir);
	ok(conf_load(path, err, sizeof(err)) == NULL &&
	    strstr(err, path) != NULL, "missing file: error names the path");
	if ((f = fopen(path, "w")) == NULL)
		bail_out("cannot write %s", path);
	fputs(REQUIRED "bogus = 1\n", f);
	fclose(f);
	ok(conf_load(path, err, sizeof(err)) == NULL &&
	    strstr(err, path) != NULL && strstr(err, ":3:") != NULL,
	    "conf_load error is path:line:");
	if ((f = fopen(path, "w")) == NULL)
		bail_out("cannot write %s", path);
	fputs(REQUIRED, f);
	fclose(f);
	c = conf_load(path, err, sizeof(err));
	ok(c != NULL && strcmp(c->database, "/d.db") == 0,
	    "conf_load reads a file");
	conf_free(c);
	conf_free(NULL);

	setenv("OTS_CONFIG", path, 1);
	is_str(conf_path(), path, "conf_path honours OTS_CONFIG");
	unsetenv("OTS_CONFIG");
	ok(strstr(conf_path(), "/ots/ots.conf") != NULL,
	    "conf_path default ends in /ots/ots.conf");
	tap_rmtree(dir);
}

int
main(void)
{
	test_good();
	test_defaults();
	test_errors();
	test_load();
	return done();
}
