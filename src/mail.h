/*
 * mail: the message to a recipient and its delivery through libesmtp.
 * Addresses are checked strictly here, before anything could talk SMTP,
 * and shown to creators only obfuscated.  A message carries the share
 * link, never the secret or its passphrase.
 */
#ifndef OTS_MAIL_H
#define OTS_MAIL_H

#include <stddef.h>

struct buf;
struct conf;

#define MAIL_ADDR_MAX	254
#define MAIL_LINK_MAX	1024
#define MAIL_RECEIPT_LEN 16	/* hex digits of a receipt's fingerprint */

/*
 * A message of the outbox (outbox.h seals it): recipient mail with the
 * share link, or a notice to a secret's creator (by e-mail or webhook)
 * that names the receipt and never the secret or its link.
 */
struct mail_msg {
	int	kind;				/* store.h's MAIL_* */
	char	to[MAIL_ADDR_MAX + 1];		/* recipient, or the creator */
	char	sender[MAIL_ADDR_MAX + 1];	/* the creator: Reply-To */
	char	link[MAIL_LINK_MAX + 1];	/* BASE/secret/KEY, or a
						 * notice's BASE/private/KEY */
	int	passphrase;			/* one is needed */
	char	receipt[MAIL_RECEIPT_LEN + 1];	/* a notice's fingerprint */
	/* a notice's event and its time, from its row when it is sent */
	char	event[12];
	long long when;
};

/*
 * 1 if s[0..len) is an address ots will send to: local@domain, at most 254
 * bytes, dot-atom local part without quotes, a domain of at least two
 * LDH labels with an alphabetic top-level label; else 0.
 */
int	mail_address_valid(const char *s, size_t len);

/*
 * Write the obfuscated form of a valid address into out:
 * "delano@onetimesecret.com" -> "de*****@o*****.com".  0 or -1 (no room).
 */
int	mail_obfuscate(const char *addr, char *out, size_t outlen);

/*
 * Append the RFC 5322 text (CRLF lines, UTF-8 body) of the message to out:
 * Date, From, To, Reply-To, Subject "<sender> sent you a secret",
 * Message-ID, MIME headers, and a body with the link.  0 or -1.
 */
int	mail_message(const struct conf *, const struct mail_msg *,
	    long long now, struct buf *out);


#endif
