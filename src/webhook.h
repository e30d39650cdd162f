/*
 * webhook: the event a creator's receiver gets when a secret is received,
 * and its delivery over HTTPS (libcurl), in ots-mailer only.
 *
 * A receiver's URL is checked for syntax when it is registered; where it
 * points is checked when ots connects: every address libcurl is about to
 * connect to must pass webhook_addr_allowed, so neither a name that
 * resolves to an inside address nor one that changes its answer between
 * registration and delivery (DNS rebinding) reaches the host's network.
 * The body carries the receipt's fingerprint, never a secret or its key;
 * it is signed with the receiver's own 32-byte key (HMAC-SHA256), which
 * this module only reads.
 */
#ifndef OTS_WEBHOOK_H
#define OTS_WEBHOOK_H

#include <stddef.h>

struct buf;
struct sockaddr;

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_KEY_LEN 32	/* the signing secret */
#define WEBHOOK_SIG_LEN 72	/* "sha256=" + 64 hex + NUL, rounded */
#define WEBHOOK_REPLY_MAX 65536	/* bytes of a response body read, at most */

/*
 * 1 if a connection to this address is allowed: with allow_private every
 * address is; otherwise not loopback (127/8, ::1), unspecified (0/8, ::),
 * private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
 * fe80::/10), shared/CGNAT 100.64/10, 192.0.0/24, benchmarking 198.18/15,
 * documentation (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32),
 * multicast (224/4, ff00::/8), reserved 240/4 incl. broadcast, site-local
 * fec0::/10, and IPv6 forms that embed an IPv4 address (::ffff:0:0/96
 * mapped, ::/96 compatible, 64:ff9b::/96 NAT64, 2002::/16 6to4) judged by
 * the IPv4 address they embed.  Anything that is neither AF_INET nor
 * AF_INET6: 0.
 */
int	webhook_addr_allowed(const struct sockaddr *, int allow_private);

/*
 * 1 if url is one ots will register: "https://" (or "http://" only when
 * allow_http), a host, optional :port, optional path/query; no userinfo
 * ('@' before the host end), no whitespace or control characters, no
 * fragment, at most WEBHOOK_URL_MAX bytes.  Else 0.  Pure syntax check
 * (no DNS).  Stricter than that where it costs no real receiver: the
 * scheme in lower case, a host of LDH labels or a bracketed IPv6 literal
 * (no zone), a port in 1..65535, printable ASCII only (non-ASCII comes
 * %-encoded).
 */
int	webhook_url_valid(const char *url, int allow_http);

/*
 * Write the host part of a valid url (for logs and ots-admin listings)
 * into out; an IPv6 literal keeps its brackets ("[::1]").  0, or -1 when
 * the url is not valid or out has no room.
 */
int	webhook_url_host(const char *url, char *out, size_t outlen);

/*
 * The event document, compact JSON built with json-c, in this key order:
 * {"id":"<delivery id>","event":"<event>","time":<unix seconds>,
 * "receipt":"<fingerprint>"}, appended to out.  0 or -1.
 */
int	webhook_body(const char *id, const char *event, long long time,
	    const char *receipt, struct buf *out);

/*
 * "sha256=" and the lowercase hex HMAC-SHA256 (libsodium
 * crypto_auth_hmacsha256) of body under key, into out[WEBHOOK_SIG_LEN].
 */
void	webhook_sign(const unsigned char key[WEBHOOK_KEY_LEN], const void *body,
	    size_t len, char out[WEBHOOK_SIG_LEN]);

struct webhook_opts {
	const char	*ca_file;	/* CA bundle for the receiver's
					   certificate; NULL: the system's */
	int		 allow_private;	/* webhook_addr_allowed's */
	long		 timeout;	/* seconds: the connect, and the
					   whole request, each */
};

/*
 * POST body (application/json) to url with libcurl, with headers
 * "X-Ots-Event: <event>", "X-Ots-Delivery: <id>", "X-Ots-Signature:
 * <webhook_sign>", and User-Agent "ots-webhook".  No redirects followed, no
 * proxy (CURLOPT_PROXY "" and CURLOPT_NOPROXY "*"), protocols limited to
 * https (and http only when the url is http://: registration decides),
 * CURLOPT_CONNECTTIMEOUT and CURLOPT_TIMEOUT from opts->timeout,
 * CURLOPT_NOSIGNAL 1, TLS verification on.  Every address curl is about
 * to connect to is checked with webhook_addr_allowed in a
 * CURLOPT_OPENSOCKETFUNCTION callback (CURL_SOCKET_BAD refuses it: this
 * also defeats DNS rebinding); the response body is dropped, and only
 * WEBHOOK_REPLY_MAX bytes of it are read (its status still counts).
 *
 * Returns 0 when the receiver answered 2xx; -1 with a short reason in
 * err: "webhook: address not allowed" when the check refused, "webhook:
 * HTTP 500" for a non-2xx status, else "webhook: " + curl_easy_strerror
 * text.  err never contains the key, nor the URL.  A url that
 * webhook_url_valid(url, 1) refuses is CURLE_URL_MALFORMAT; an event or id
 * with other than printable ASCII (they become header values), or a
 * timeout that is not positive (curl reads 0 as "none"), is
 * CURLE_BAD_FUNCTION_ARGUMENT; nothing is sent then.
 *
 * The first call initialises libcurl (curl_global_init), which is not
 * thread-safe: make it before any thread starts (ots-mailer has one).
 */
int	webhook_post(const char *url, const struct webhook_opts *,
	    const char *event, const char *id, const void *body, size_t len,
	    const unsigned char key[WEBHOOK_KEY_LEN], char *err, size_t errlen);

#endif
