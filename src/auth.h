/*
 * auth: HTTP Basic credentials (custid:apitoken) to an account.  A request
 * without an Authorization header is anonymous; one with a header that is
 * not valid Basic, names an unknown account, or carries a wrong token is
 * refused (never treated as anonymous).  Tokens are compared in constant
 * time and an unknown account costs the same as a known one.
 */
#ifndef OTS_AUTH_H
#define OTS_AUTH_H

#include <stddef.h>

struct crypto;
struct store;
struct store_customer;

#define AUTH_USER_MAX	254
#define AUTH_PASS_MAX	256

/*
 * Split a Basic Authorization header value into user (lower-cased) and
 * password, each NUL-terminated.  Returns 0, or -1 when malformed.
 */
int	auth_basic_parse(const char *header, char user[AUTH_USER_MAX + 1],
	    char pass[AUTH_PASS_MAX + 1]);

/*
 * Authenticate a request whose Authorization header is header (NULL when
 * absent), with the sealing master-key version's handle (the token hash
 * is checked under the version its row names, and one of an older version
 * is made again under this one).  Returns 1 authenticated (out and token
 * filled; the caller wipes token), 0 anonymous, -1 refused, -2 store
 * error.
 */
int	auth_check(struct store *, const struct crypto *, const char *header,
	    struct store_customer *out, char token[AUTH_PASS_MAX + 1]);

#endif
