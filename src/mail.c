#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "conf.h"
#include "mail.h"
#include "store.h"
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

/* The headers after Subject, and the blank line: Message-ID's %s@%s. */
#define MIME_HEADERS \
	"Message-ID: <%s@%s>\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n" \
	"Content-Transfer-Encoding: 8bit\r\n" \
	"Auto-Submitted: auto-generated\r\n" \
	"\r\n"

/* RFC 5322 date; day and month names are fixed, not localised. */
static void
rfc5322_date(long long when, char *out, size_t len)
{
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    &"Sun\0Mon\0Tue\0Wed\0Thu\0Fri\0Sat"[tm.tm_wday * 4], tm.tm_mday,
	    &"Jan\0Feb\0Mar\0Apr\0May\0Jun\0Jul\0Aug\0Sep\0Oct\0Nov\0Dec"
	    [tm.tm_mon * 4], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* A notice's words for its event: the subject's, and the body's. */
static void
notice_words(const char *event, const char **subject, const char **what)
{
	if (strcmp(event, "received") == 0) {
		*subject = "Your secret was read";
		*what = "was read";
	} else if (strcmp(event, "answered") == 0) {
		*subject = "Your request for a secret was answered";
		*what = "was sent to you through your request link";
	} else if (strcmp(event, "burned") == 0) {
		*subject = "Your secret was burned";
		*what = "was burned (destroyed unread)";
	} else {
		*subject = "Your secret expired unread";
		*what = "expired without being read";
	}
}

int
mail_message(const struct conf *cf, const struct mail_msg *m, long long now,
    struct buf *out)
{
	unsigned char rnd[16];
	char date[64], when[64], mid[33];
	const char *domain = strrchr(cf->mail_from, '@') + 1, *subject, *what;
	int rc;

	rfc5322_date(now, date, sizeof(date));
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(mid, sizeof(mid), rnd, sizeof(rnd));
	rc = buf_printf(out,
	    "Date: %s\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n", date, cf->mail_from, m->to);
	if (rc == 0 && m->kind == MAIL_NOTIFY) {
		notice_words(m->event, &subject, &what);
		rfc5322_date(m->when, when, sizeof(when));
		return buf_printf(out,
		    "Subject: %s\r\n"
		    MIME_HEADERS
		    "Hello,\r\n"
		    "\r\n"
		    "The secret you created with receipt %s %s\r\n"
		    "on %s.\r\n"
		    "\r\n"
		    "Its receipt (your own link; do not pass it on):\r\n"
		    "\r\n"
		    "    %s\r\n"
		    "\r\n"
		    "You asked to be told when this happens. Notices never "
		    "contain a secret\r\n"
		    "or its link.\r\n",
		    subject, mid, domain, m->receipt, what, when, m->link);
	}
	return rc == -1 ? -1 : buf_printf(out,
	    "Reply-To: %s\r\n"
	    "Subject: %s sent you a secret\r\n"
	    MIME_HEADERS
	    "Hello,\r\n"
	    "\r\n"
	    "%s sent you a secret. Open it here:\r\n"
	    "\r\n"
	    "    %s\r\n"
	    "\r\n"
	    "The link works once: after it has been opened, the secret is "
	    "gone.\r\n"
	    "%s",
	    m->sender, m->sender, mid, domain, m->sender, m->link,
	    m->passphrase ?
	    "You will also need a passphrase, which the sender will give you "
	    "another way.\r\n" : "");
}
