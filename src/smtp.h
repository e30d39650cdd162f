/*
 * smtp: send a message through the configured relay (libesmtp), in
 * ots-mailer only.
 */
#ifndef OTS_SMTP_H
#define OTS_SMTP_H

#include <stddef.h>

struct conf;
struct mail_msg;

/*
 * Send the message through the configured SMTP relay.  Returns 0 when the
 * relay accepted it, -1 with a reason in err otherwise.  Each protocol
 * step may take smtp_timeout seconds; the connect too, and the whole
 * session 6 * smtp_timeout + 5: those two by alarm(), whose SIGALRM ends
 * the process, so call it only in a process of its own (ots-mailer's
 * children).
 */
int	mail_send(const struct conf *, const struct mail_msg *, long long now,
	    char *err, size_t errlen);

#endif
