/*
 * audit: the audit log, one JSON object per line and event (a secret
 * created, its receipt viewed, revealed, burned, expired, a passphrase
 * that failed, the failure that locked a secret, a rate-limit refusal, an
 * account changed by ots-admin), to a file opened for appending, or to
 * syslog.  A line names a secret only by its fingerprint
 * (crypto_fingerprint), never by a key, and holds no value, passphrase,
 * token or address but, when the operator asks, the client's.  Each line
 * is one write(2), so the lines of several workers never interleave.  A
 * line that cannot be written is lost with a warning on stderr: the
 * service goes on.  The file or socket is opened by audit_open, before a
 * worker's sandbox closes the file system.
 */
#ifndef OTS_AUDIT_H
#define OTS_AUDIT_H

#include <stddef.h>

#include "ctx.h"

struct audit;
struct conf;

#define AUDIT_REQUEST_MAX	CTX_REQUEST_MAX	/* a request id */
#define AUDIT_LINE_MAX		1024	/* longer lines are not written */

/*
 * Open the audit log of cf (audit_log: a file, "syslog", or unset: none).
 * A log that cannot be opened is warned about and writes nothing.  NULL
 * only when out of memory.
 */
struct audit	*audit_open(const struct conf *);
void		 audit_close(struct audit *);

/* One line: what happened.  secret_id NULL: no secret (receipt null);
 * client NULL, or audit_client_address = no: no client field. */
struct audit_event {
	long long		 time;		/* unix seconds */
	const char		*event;
	const char		*outcome;
	const char		*route;		/* a route's pattern, or a program */
	const unsigned char	*secret_id;	/* CRYPTO_ID_LEN bytes */
	const char		*account;	/* custid, or "anon" */
	const char		*client;
	const char		*request;
};

/* Write one line; NULL-safe (no audit log).  Failures are warned about. */
void	audit_write(struct audit *, const struct audit_event *);

/*
 * Write one line of the caller's request: its time, route, account,
 * client and request id.  Nothing when the caller has no route (a HEAD
 * request, a unit test) or x has no audit log.
 */
void	audit_request(const struct ctx *, const struct caller *,
	    const char *event, const char *outcome,
	    const unsigned char *secret_id);

/*
 * The request id of a line, into out: given (the web server's UNIQUE_ID,
 * or a trusted proxy's X-Request-Id) when it is 1 to AUDIT_REQUEST_MAX
 * characters of [A-Za-z0-9@_.:+/=-], else 16 random hex digits.
 */
void	audit_request_id(const char *given,
	    char out[AUDIT_REQUEST_MAX + 1]);

#endif
