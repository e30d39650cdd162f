/*
 * mail: the strict recipient syntax, obfuscation, and the message text:
 * the recipient's, and a notice's to a secret's creator.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "mail.h"
#include "store.h"
#include "util.h"

#include "tap.h"

static int
valid(const char *s)
{
	return mail_address_valid(s, strlen(s));
}

/* An address of exactly len bytes: 64-byte local part, then labels. */
static const char *
address_of(size_t len)
{
	static char a[400];
	size_t i;

	memset(a, 'a', 64);
	a[64] = '@';
	for (i = 65; i < len - 4; i++)
		a[i] = (i - 65) % 60 == 59 ? '.' : 'd';
	memcpy(a + len - 4, ".com", 5);
	return a;
}

static void
test_valid(void)
{
	static const char *const good[] = {
		"delano@onetimesecret.com", "a@b.co", "A@B.CO",
		"first.last+tag@sub.example.org", "x_y-z@ex-ample.io",
		"o#k!{}=?^~|$%&*/@example.com", "1@2.example", "a@x--y.com",
	};
	static const struct {
		const char	*s;
		const char	*what;
	} bad[] = {
		{ "", "empty" },
		{ "a\r@b.com", "CR" },
		{ "a@b.com\r", "trailing CR" },
		{ "a@b.com\n", "trailing LF" },
		{ "a\nb@c.com", "LF" },
		{ "a@b.com\r\nBcc: c@d.com", "header injection" },
		{ "a<b@c.com", "'<'" },
		{ "<a@b.com>", "angle brackets" },
		{ "a>b@c.com", "'>'" },
		{ "a,b@c.com", "','" },
		{ "a@b.com,c@d.com", "two addresses" },
		{ "\"a\"@b.com", "quoted local part" },
		{ "a\"b@c.com", "quote" },
		{ "a b@c.com", "space in the local part" },
		{ "a@b c.com", "space in the domain" },
		{ " a@b.com", "leading space" },
		{ "a(b)@c.com", "comment characters" },
		{ "a;b@c.com", "';'" },
		{ "a\\b@c.com", "backslash" },
		{ "a@localhost", "no top-level domain" },
		{ "a@b", "one label" },
		{ ".a@b.com", "leading dot" },
		{ "a.@b.com", "trailing dot in the local part" },
		{ "a..b@c.com", "double dot in the local part" },
		{ "a@.b.com", "leading dot in the domain" },
		{ "a@b.com.", "trailing dot in the domain" },
		{ "a@b..com", "double dot in the domain" },
		{ "a@b.123", "numeric top-level domain" },
		{ "a@b.c0m", "top-level domain with a digit" },
		{ "a@b.c", "one-letter top-level domain" },
		{ "a@-b.com", "label starting with '-'" },
		{ "a@b-.com", "label ending with '-'" },
		{ "a@b_c.com", "'_' in the domain" },
		{ "@b.com", "empty local part" },
		{ "a@", "empty domain" },
		{ "a", "no '@'" },
		{ "a@b@c.com", "two '@'" },
		{ "a@[127.0.0.1]", "address literal" },
		{ "\xc3\xa9@b.com", "non-ASCII local part" },
		{ "a@\xc3\xa9.com", "non-ASCII domain" },
	};
	char s[300];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(valid(good[i]), 1, "valid: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(valid(bad[i].s), 0, "invalid: %s", bad[i].what);

	is_int(mail_address_valid("a\0@b.com", 8), 0, "invalid: NUL");
	is_int(mail_address_valid("a@b.comX", 7), 1, "only len bytes count");
	is_int((long long)strlen(address_of(254)), 254, "(a 254-byte address)");
	is_int(valid(address_of(254)), 1, "254 bytes is valid");
	is_int(valid(address_of(255)), 0, "255 bytes is too long");

	memset(s, 'a', 65);
	memcpy(s + 65, "@b.com", 7);
	is_int(valid(s), 0, "local part of 65 bytes");
	is_int(valid(s + 1), 1, "local part of 64 bytes");
	memcpy(s, "a@", 2);
	memset(s + 2, 'd', 64);
	memcpy(s + 66, ".com", 5);
	is_int(valid(s), 0, "domain label of 64 bytes");
	memcpy(s + 65, ".com", 5);
	is_int(valid(s), 1, "domain label of 63 bytes");
}

static void
test_obfuscate(void)
{
	char out[64];

	is_int(mail_obfuscate("delano@onetimesecret.com", out, sizeof(out)), 0,
	    "obfuscate");
	is_str(out, "de*****@o*****.com", "delano@onetimesecret.com");
	mail_obfuscate("a@example.org", out, sizeof(out));
	is_str(out, "a*****@e*****.org", "one-character local part");
	mail_obfuscate("first.last@mail.example.co.uk", out, sizeof(out));
	is_str(out, "fi*****@m*****.uk", "only the last label is shown");
	is_int(mail_obfuscate("delano@onetimesecret.com", out, 19), 0,
	    "exactly enough room");
	is_int(mail_obfuscate("delano@onetimesecret.com", out, 18), -1,
	    "one byte short");
	is_int(mail_obfuscate("no-at-sign.com", out, sizeof(out)), -1,
	    "no '@'");
}

static void
test_message(void)
{
	static const char cfg[] = "database = /d\nmaster_key = /k\n"
	    "mail_from = ots@example.net\n";
	struct mail_msg m;
	struct buf b = { 0 };
	struct conf *cf;
	char err[256];
	size_t i;
	int bare_lf = 0;

	if ((cf = conf_parse(cfg, sizeof(cfg) - 1, "t.conf", err,
	    sizeof(err))) == NULL)
		bail_out("conf_parse: %s", err);
	memset(&m, 0, sizeof(m));
	snprintf(m.to, sizeof(m.to), "bob@example.org");
	snprintf(m.sender, sizeof(m.sender), "alice@example.com");
	snprintf(m.link, sizeof(m.link), "https://ots.example/secret/abc");
	is_int(mail_message(cf, &m, 1700000000, &b), 0, "mail_message");
	ok(b.data != NULL && strstr(b.data, "\r\nTo: bob@example.org\r\n"),
	    "To header");
	ok(b.data != NULL && strstr(b.data, "\r\nFrom: ots@example.net\r\n"),
	    "From is the configured sender");
	ok(b.data != NULL && strstr(b.data,
	    "\r\nReply-To: alice@example.com\r\n"), "Reply-To is the creator");
	ok(b.data != NULL && strstr(b.data,
	    "\r\nSubject: alice@example.com sent you a secret\r\n"), "Subject");
	ok(b.data != NULL && strncmp(b.data,
	    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n", 39) == 0,
	    "Date from now, in UTC");
	ok(b.data != NULL && strstr(b.data, "\r\n\r\n") != NULL &&
	    strstr(strstr(b.data, "\r\n\r\n"), m.link) != NULL,
	    "the link is in the body");
	ok(b.data != NULL && strstr(b.data, "passphrase") == NULL,
	    "no passphrase line without a passphrase");
	for (i = 0; b.data != NULL && i < b.len; i++)
		if (b.data[i] == '\n' && (i == 0 || b.data[i - 1] != '\r'))
			bare_lf++;
	is_int(bare_lf, 0, "every line ends in CRLF");
	buf_free(&b);
	m.passphrase = 1;
	mail_message(cf, &m, 1700000000, &b);
	ok(b.data != NULL && strstr(b.data, "passphrase") != NULL,
	    "passphrase line when one is needed");
	buf_free(&b);
	conf_free(cf);
}

/* 1 if the header block of b holds the line "name: value". */
static int
header(const struct buf *b, const char *line)
{
	const char *end;
	char want[512];
	size_t n;

	if (b->data == NULL || (end = strstr(b->data, "\r\n\r\n")) == NULL)
		return 0;
	n = (size_t)snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strncmp(b->data, want + 2, n - 2) == 0 ||
	    memmem(b->data, (size_t)(end - b->data) + 2, want, n) != NULL;
}

/* The body of a message: after the blank line. */
static const char *
body(const struct buf *b)
{
	const char *p = b->data ? strstr(b->data, "\r\n\r\n") : NULL;

	return p ? p + 4 : "";
}

static void
test_notice(void)
{
	static const char cfg[] = "database = /d\nmaster_key = /k\n"
	    "mail_from = ots@example.net\n";
	static const struct {
		const char	*event;
		const char	*subject;
		const char	*words;
	} ev[] = {
		{ "received", "Subject: Your secret was read", "was read" },
		{ "burned", "Subject: Your secret was burned", "was burned" },
		{ "expired", "Subject: Your secret expired unread",
		    "expired without being read" },
	};
	struct mail_msg m;
	struct buf b = { 0 };
	struct conf *cf;
	char err[256];
	size_t i, j;
	int bare_lf;

	if ((cf = conf_parse(cfg, sizeof(cfg) - 1, "t.conf", err,
	    sizeof(err))) == NULL)
		bail_out("conf_parse: %s", err);
	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.kind = MAIL_NOTIFY;
		snprintf(m.to, sizeof(m.to), "alice@example.com");
		snprintf(m.link, sizeof(m.link),
		    "https://ots.example/private/mkey123");
		snprintf(m.receipt, sizeof(m.receipt), "0123456789abcdef");
		snprintf(m.event, sizeof(m.event), "%s", ev[i].event);
		m.when = 1700000000;	/* the event's time, not now */
		is_int(mail_message(cf, &m, 1700086400, &b), 0,
		    "%s: mail_message", ev[i].event);
		ok(header(&b, ev[i].subject), "%s: %s", ev[i].event,
		    ev[i].subject);
		ok(header(&b, "To: alice@example.com") &&
		    header(&b, "From: ots@example.net"),
		    "%s: to the creator, from ots", ev[i].event);
		ok(strncmp(b.data ? b.data : "",
		    "Date: Wed, 15 Nov 2023 22:13:20 +0000\r\n", 39) == 0,
		    "%s: dated now", ev[i].event);
		ok(header(&b, "Auto-Submitted: auto-generated"),
		    "%s: auto-generated", ev[i].event);
		ok(b.data != NULL && strstr(b.data, "Reply-To") == NULL,
		    "%s: no Reply-To", ev[i].event);
		ok(strstr(body(&b), "receipt 0123456789abcdef") != NULL,
		    "%s: the receipt's fingerprint", ev[i].event);
		ok(strstr(body(&b), "\r\n    https://ots.example/private/mkey123"
		    "\r\n") != NULL, "%s: the receipt's link", ev[i].event);
		ok(strstr(body(&b), ev[i].words) != NULL &&
		    strstr(body(&b), "Tue, 14 Nov 2023 22:13:20 +0000") != NULL,
		    "%s: what happened, and when", ev[i].event);
		ok(strstr(b.data ? b.data : "", "sent you a secret") == NULL &&
		    strstr(b.data ? b.data : "", "/secret/") == NULL,
		    "%s: not the recipient's message", ev[i].event);
		for (bare_lf = 0, j = 0; b.data != NULL && j < b.len; j++)
			if (b.data[j] == '\n' && (j == 0 ||
			    b.data[j - 1] != '\r'))
				bare_lf++;
		is_int(bare_lf, 0, "%s: every line ends in CRLF", ev[i].event);
		buf_free(&b);
	}
	conf_free(cf);
}

int
main(void)
{
	test_valid();
	test_obfuscate();
	test_message();
	test_notice();
	return done();
}
