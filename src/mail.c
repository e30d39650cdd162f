#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <auth-client.h>
#include <libesmtp.h>
#include <sodium.h>

#include "conf.h"
#include "mail.h"
#include "util.h"

/* atext of RFC 5322 less the quote characters, which we refuse. */
static int
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&*+/=?^_`{|}~-",
	    c) != NULL);
}

static int
ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
mail_address_valid(const char *s, size_t len)
{
	const char *at, *dom, *end = s + len, *label;
	size_t i, n, labels = 0;
	int alpha;

	if (len == 0 || len > MAIL_ADDR_MAX ||
	    (at = memchr(s, '@', len)) == NULL || at == s ||
	    at - s > 64 || memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
		return 0;
	/* dot-atom: no leading, trailing or doubled dot */
	for (i = 0; s + i < at; i++) {
		if (s[i] == '.') {
			if (i == 0 || s + i + 1 == at || s[i + 1] == '.')
				return 0;
		} else if (!local_char(s[i]))
			return 0;
	}
	for (dom = label = at + 1; ; dom++) {
		if (dom == end || *dom == '.') {
			n = (size_t)(dom - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    label[n - 1] == '-')
				return 0;
			labels++;
			if (dom == end)
				break;
			label = dom + 1;
		} else if (!ldh(*dom))
			return 0;
	}
	/* the last label is the top-level domain: letters only */
	for (alpha = 1, i = 0; label + i < end; i++)
		if (!((label[i] >= 'a' && label[i] <= 'z') ||
		    (label[i] >= 'A' && label[i] <= 'Z')))
			alpha = 0;
	return labels >= 2 && alpha && end - label >= 2;
}

int
mail_obfuscate(const char *addr, char *out, size_t outlen)
{
	const char *at = strchr(addr, '@'), *tld = strrchr(addr, '.');
	int n;

	if (at == NULL || tld == NULL || tld < at)
		return -1;
	n = snprintf(out, outlen, "%.*s*****@%c*****%s",
	    at - addr < 2 ? (int)(at - addr) : 2, addr, at[1], tld);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
mail_message(const struct conf *cf, const struct mail_msg *m, long long now,
    struct buf *out)
{
	unsigned char rnd[16];
	char date[64], mid[33];
	const char *domain = strrchr(cf->mail_from, '@') + 1;
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	/* RFC 5322 date; day and month names are fixed, not localised */
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    &"Sun\0Mon\0Tue\0Wed\0Thu\0Fri\0Sat"[tm.tm_wday * 4], tm.tm_mday,
	    &"Jan\0Feb\0Mar\0Apr\0May\0Jun\0Jul\0Aug\0Sep\0Oct\0Nov\0Dec"
	    [tm.tm_mon * 4], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(mid, sizeof(mid), rnd, sizeof(rnd));
	return buf_printf(out,
	    "Date: %s\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Reply-To: %s\r\n"
	    "Subject: %s sent you a secret\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n"
	    "Hello,\r\n"
	    "\r\n"
	    "%s sent you a secret. Open it here:\r\n"
	    "\r\n"
	    "    %s\r\n"
	    "\r\n"
	    "The link works once: after it has been opened, the secret is "
	    "gone.\r\n"
	    "%s",
	    date, cf->mail_from, m->to, m->sender, m->sender, mid, domain,
	    m->sender, m->link, m->passphrase ?
	    "You will also need a passphrase, which the sender will give you "
	    "another way.\r\n" : "");
}

/* libesmtp asks for AUTH credentials through this callback. */
static int
interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	char **cred = arg;	/* user, password */
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = cred[0];
		else if (req[i].flags & AUTH_PASS)
			result[i] = cred[1];
		else
			return 0;
	}
	return 1;
}

/* Read the first line of the password file into pw.  0 or -1. */
static int
read_password(const char *path, char *pw, size_t len)
{
	FILE *f;
	char *nl;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(pw, (int)len, f) == NULL)
		pw[0] = '\0';
	fclose(f);
	if ((nl = strchr(pw, '\n')) != NULL)
		*nl = '\0';
	return 0;
}

/*
 * A refusal: the reply code and the enhanced status code only.  The text
 * of a reply often repeats the recipient's address, which the log and
 * `ots-admin mail list` show obfuscated.
 */
static void
reply_error(char *err, size_t errlen, const char *what,
    const smtp_status_t *st)
{
	if (st == NULL)
		snprintf(err, errlen, "smtp %s: no status", what);
	else if (st->enh_class > 0)
		snprintf(err, errlen, "smtp %s: %d %d.%d.%d", what, st->code,
		    st->enh_class, st->enh_subject, st->enh_detail);
	else
		snprintf(err, errlen, "smtp %s: %d", what, st->code);
}

int
mail_send(const struct conf *cf, const struct mail_msg *m, long long now,
    char *err, size_t errlen)
{
	static const int steps[] = { Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };
	static const enum starttls_option tls[] = {
	    [CONF_TLS_OFF] = Starttls_DISABLED,
	    [CONF_TLS_OPTIONAL] = Starttls_ENABLED,
	    [CONF_TLS_REQUIRED] = Starttls_REQUIRED };
	smtp_session_t ss = NULL;
	smtp_message_t msg;
	smtp_recipient_t rcpt;
	auth_context_t auth = NULL;
	const smtp_status_t *status;
	struct buf text = { 0 };
	char hostport[300], pw[256] = "", *cred[2];
	size_t i;
	int rc = -1, started;

	snprintf(err, errlen, "out of memory");
	if (mail_message(cf, m, now, &text) == -1)
		goto out;
	snprintf(hostport, sizeof(hostport), "%s:%lld", cf->smtp_host,
	    cf->smtp_port);
	if ((ss = smtp_create_session()) == NULL ||
	    (msg = smtp_add_message(ss)) == NULL ||
	    smtp_set_server(ss, hostport) == 0 ||
	    smtp_set_reverse_path(msg, cf->mail_from) == 0 ||
	    (rcpt = smtp_add_recipient(msg, m->to)) == NULL ||
	    smtp_set_message_str(msg, text.data) == 0 ||
	    smtp_starttls_enable(ss, tls[cf->smtp_starttls]) == 0)
		goto out;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		smtp_set_timeout(ss, steps[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    cf->smtp_timeout * 1000);
	if (cf->smtp_user != NULL) {
		if (read_password(cf->smtp_password_file, pw,
		    sizeof(pw)) == -1) {
			snprintf(err, errlen, "cannot read smtp_password_file");
			goto out;
		}
		cred[0] = cf->smtp_user;
		cred[1] = pw;
		auth_client_init();
		if ((auth = auth_create_context()) == NULL)
			goto out;
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact, cred);
		smtp_auth_set_context(ss, auth);
	}
	started = smtp_start_session(ss);
	status = started ? smtp_recipient_status(rcpt) : NULL;
	if (status == NULL || status->code == 0) {
		/* no session, or it ended before the server said anything */
		char e[128];

		snprintf(err, errlen, "smtp %s: %s%s", hostport,
		    started ? "no answer: " : "",
		    smtp_strerror(smtp_errno(), e, sizeof(e)));
		goto out;
	}
	if (status->code / 100 != 2) {
		reply_error(err, errlen, "recipient", status);
		goto out;
	}
	status = smtp_message_transfer_status(msg);
	if (status == NULL || status->code / 100 != 2) {
		reply_error(err, errlen, "message", status);
		goto out;
	}
	rc = 0;
	err[0] = '\0';
out:
	if (ss != NULL)
		smtp_destroy_session(ss);
	if (auth != NULL)
		auth_destroy_context(auth);
	sodium_memzero(pw, sizeof(pw));
	buf_free(&text);
	return rc;
}
