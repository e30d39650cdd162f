/*
 * request: request links.  An account asks for a secret: it gets a
 * request link (BASE/request/KEY) to hand to someone, and the receipt key
 * (BASE/private/KEY) of the secret that will come back.  Whoever opens the
 * request link sees the account's note and can send one secret; it is
 * stored through secret_create under the keys made at the request, as the
 * account's secret, so only the account's receipt opens it.  The request
 * row holds those keys and the note sealed under the request key, so the
 * store never reads them.  Transport-free, as secret.h.
 */
#ifndef OTS_REQUEST_H
#define OTS_REQUEST_H

#include <stddef.h>

#include "ctx.h"
#include "keys.h"
#include "secret.h"

struct buf;

/* What a request made (wiped by request_made_clear). */
struct request_made {
	char		 rkey[KEYS_LEN + 1];	/* the request link's key */
	char		 mkey[KEYS_LEN + 1];	/* the answer's receipt */
	long long	 ttl;
	long long	 created, expires;
	int		 status;	/* SECRET_INVALID: intended status */
	char		 message[160];	/* SECRET_INVALID: the API's words */
};

/*
 * Make a request link for the caller's account, with a note (at most
 * STORE_NOTE_MAX bytes; may be empty) and a lifetime (a ttl parameter, as
 * a secret's; NULL: the default).  notify (NULL: the account's setting)
 * names the notices the account gets when it is answered, as a create's.
 * SECRET_OK, SECRET_INVALID (status and message set) or SECRET_ERROR.
 */
enum secret_result request_create(const struct ctx *, const struct caller *,
	    const char *note, size_t nlen, const char *ttl, size_t ttl_len,
	    const char *notify, size_t notify_len, long long now,
	    struct request_made *out);
void	request_made_clear(struct request_made *);

/*
 * Whether request rkey can be answered now; its note is appended to note.
 * Changes nothing.  SECRET_OK, SECRET_UNKNOWN or SECRET_ERROR.
 */
enum secret_result request_peek(const struct ctx *, const char *rkey,
	    size_t rklen, long long now, struct buf *note);

/*
 * Answer request rkey with in's value (and passphrase): the request is
 * taken (once, whatever the concurrency), its notices queued, and the
 * secret stored as its account's.  in is checked before anything is
 * taken.  out receives nothing the caller may show but its status and
 * message.  SECRET_OK, SECRET_UNKNOWN (used, expired, never was),
 * SECRET_INVALID, SECRET_BUSY or SECRET_ERROR.
 */
enum secret_result request_answer(const struct ctx *, const struct caller *,
	    const char *rkey, size_t rklen, const struct secret_new *in,
	    long long now, struct secret_made *out);

#endif
