/*
 * secret: the life of one secret, shared by the API and the web pages:
 * create, read the receipt, reveal once, burn.  Transport-free: callers
 * turn results into JSON or HTML.  Keys, passphrases and values pass
 * through here and are wiped; only sealed blobs and keyed hashes reach the
 * store.
 */
#ifndef OTS_SECRET_H
#define OTS_SECRET_H

#include <stddef.h>

#include "ctx.h"
#include "keys.h"
#include "store.h"
#include "util.h"

struct buf;

enum secret_result {
	SECRET_OK,
	SECRET_UNKNOWN,		/* missing, consumed, expired: one answer */
	SECRET_WRONG,		/* wrong or missing passphrase */
	SECRET_LOCKED,		/* too many passphrase failures for now */
	SECRET_BUSY,		/* no room to check a passphrase: retry soon */
	SECRET_INVALID,		/* a client error: see status and message */
	SECRET_ERROR,		/* ours: logged */
};

/* The audit log's outcome of a result: "ok", "unknown", "wrong_passphrase",
 * "locked", "busy", "invalid" or "error". */
const char	*secret_outcome(enum secret_result);

/* What a create request asks for; absent parameters are NULL. */
struct secret_new {
	const char	*value;		/* NULL: generate one */
	size_t		 len;
	const char	*gen_len;	/* /generate's length parameter */
	size_t		 gen_len_len;
	const char	*pass;
	size_t		 plen;
	const char	*ttl;
	size_t		 ttl_len;
	const char	*recipient;
	size_t		 rlen;
	const char	*file;		/* a file's bytes (instead of value) */
	size_t		 file_len;
	const char	*file_name;	/* its name as uploaded (NUL-ended) */
	const char	*notify;	/* an extension: notices (store.h's
					 * NOTIFY_*) by name; NULL: the
					 * account's setting */
	size_t		 nlen;
	/* an answer to a request (request.h): the keys the requester holds
	 * already, KEYS_LEN each (NULL: new ones), the account whose receipt
	 * it becomes though an anonymous caller sends it, and the receipt key
	 * sealed under the requester's token (for recent; NULL: none) */
	const char	*mkey, *skey;
	const struct store_customer *owner;
	const unsigned char *wrapped_key;
	size_t		 wrapped_len;
};

/*
 * A file secret is sealed as one plaintext: a header, then the file's
 * bytes.  The header is SECRET_FILE_MAGIC (6 bytes; it starts with NUL,
 * which no text secret holds), the name's length (2 bytes, big-endian),
 * the name (util_file_name's), and the file's size (8 bytes, big-endian).
 * Name and size are sealed with the bytes: the database does not hold
 * them, nor does a receipt show them.
 */
#define SECRET_FILE_MAGIC	"\0otsf\1"
#define SECRET_FILE_MAGIC_LEN	6

struct secret_file {
	const char	*name;		/* NUL-terminated, sanitised again */
	char		 name_buf[UTIL_FILE_NAME_MAX + 1];
	const char	*data;
	size_t		 size;
};

/*
 * Whether a revealed plaintext p[0..len) is a file: 1 (f set, pointing
 * into p), 0 for text, -1 for a malformed file header.
 */
int	secret_file_parse(const char *p, size_t len, struct secret_file *f);

/*
 * The NOTIFY_* bits named by s[0..len): "none", "email", "webhook" or
 * "all".  -1 for anything else.
 */
int	secret_notify_parse(const char *s, size_t len);
/* The name of NOTIFY_* bits, as secret_notify_parse reads it. */
const char *secret_notify_name(int notify);

/* What a create made (and wipes with secret_made_clear). */
struct secret_made {
	char		 mkey[KEYS_LEN + 1];
	char		 skey[KEYS_LEN + 1];
	char		 value[KEYS_VALUE_MAX + 1];	/* when generated */
	size_t		 value_len;
	struct store_meta meta;
	int		 status;	/* SECRET_INVALID: intended status */
	char		 message[160];	/* SECRET_INVALID: the API's words */
};

/*
 * Store a new secret for the caller: checks size, passphrase rules,
 * recipient (accounts only) and clamps the TTL.  SECRET_OK, SECRET_INVALID
 * (status and message set), SECRET_BUSY (a passphrase to hash, and no room
 * at the gate) or SECRET_ERROR.
 */
enum secret_result secret_create(const struct ctx *, const struct caller *,
	    const struct secret_new *, long long now, struct secret_made *);
void	secret_made_clear(struct secret_made *);

/*
 * secret_create's checks of the request alone (size, passphrase rules,
 * recipient, notify), storing nothing: SECRET_OK or SECRET_INVALID with
 * out's status and message.  For a caller that must not spend anything
 * on a request that will be refused (a request link's answer).
 */
enum secret_result secret_check(const struct ctx *, const struct caller *,
	    const struct secret_new *, struct secret_made *out);

/*
 * The receipt named by metadata key mkey, with the secret_key it holds.
 * With mark_viewed, a new receipt becomes viewed (m still says new).
 * SECRET_OK, SECRET_UNKNOWN or SECRET_ERROR.
 */
enum secret_result secret_receipt(const struct ctx *, const char *mkey,
	    size_t mklen, long long now, int mark_viewed, struct store_meta *m,
	    char skey[KEYS_LEN + 1]);

/*
 * Whether the secret skey can be revealed now, and whether it needs a
 * passphrase.  Changes nothing.  SECRET_OK, SECRET_UNKNOWN or SECRET_ERROR.
 */
enum secret_result secret_peek(const struct ctx *, const char *skey,
	    size_t sklen,
	    long long now, int *passphrase);

/*
 * Reveal the secret skey once for the caller: the claim is committed
 * before this returns (whether the secret still lives is decided then, not
 * at now), and the value is appended to value (the caller wipes it with
 * buf_free).  SECRET_OK, SECRET_UNKNOWN, SECRET_WRONG (wrong or missing
 * passphrase), SECRET_LOCKED, SECRET_BUSY or SECRET_ERROR.
 */
enum secret_result secret_reveal(const struct ctx *, const struct caller *,
	    const char *skey, size_t sklen, const char *pass, size_t plen,
	    long long now, struct buf *value);

/*
 * Burn the secret of receipt mkey; m receives the burned receipt, stamped
 * with the time of the claim.  SECRET_OK, SECRET_UNKNOWN, SECRET_WRONG,
 * SECRET_LOCKED, SECRET_BUSY or SECRET_ERROR.
 */
enum secret_result secret_burn(const struct ctx *, const struct caller *,
	    const char *mkey, size_t mklen, const char *pass, size_t plen,
	    long long now, struct store_meta *m, char skey[KEYS_LEN + 1]);

/*
 * Call fn with each of the account's receipts of the last days days,
 * newest first, and its metadata key.  Receipts made under an earlier API
 * token no longer open and are left out.  0 or -1.
 */
int	secret_recent(const struct ctx *, const struct caller *, long long now,
	    long long days,
	    void (*fn)(void *, const struct store_meta *, const char *mkey),
	    void *arg);

/*
 * The key a web user's (REMOTE_USER's) receipts are wrapped under, in
 * place of an API token the web user does not have: hex of a keyed hash of
 * the account name under master-key version k.  The server can make it
 * again: unlike an API token's, these receipts are as safe as the master
 * key.  recent makes it under each receipt's own version.
 */
void	secret_web_token(const struct crypto *k, const char *custid,
	    char token[AUTH_PASS_MAX + 1]);

/*
 * The effective TTL of a ttl parameter (NULL when absent): missing -> def;
 * garbage or <= 0 -> 60; else clamped into [60, max].
 */
long long secret_ttl(const char *s, size_t len, long long def, long long max);

#endif
