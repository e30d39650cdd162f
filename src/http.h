/*
 * http: the transport-free request and response.  An adapter (FastCGI,
 * CGI, or a test) supplies the CGI variables and a body reader; http reads
 * at most the configured number of body bytes (checked against
 * CONTENT_LENGTH before anything is read), decodes the parameters, and
 * later writes the response as CGI output.  Handlers only ever see a
 * struct req and fill a struct resp.
 */
#ifndef OTS_HTTP_H
#define OTS_HTTP_H

#include <stddef.h>

#include "form.h"
#include "util.h"

#define HTTP_PATH_MAX		1024
#define HTTP_HEADERS_MAX	1024	/* bytes of extra response headers */

#define HTTP_ALLOW_MAX		31	/* an Allow header's methods */

/* What an adapter provides. */
struct http_io {
	void		*arg;
	/* a CGI variable (REQUEST_METHOD, HTTP_AUTHORIZATION...) or NULL */
	const char	*(*getenv)(void *arg, const char *name);
	/*
	 * Read up to len body bytes, waiting at most ms milliseconds for the
	 * first of them; returns the count, 0 at end, -1 error, -2 when the
	 * time ran out.
	 */
	long		 (*read)(void *arg, char *dst, size_t len, int ms);
};

struct req {
	char		 method[16];
	char		 path[HTTP_PATH_MAX + 1];	/* route path */
	int		 api;		/* the path is under /api/ */
	char		 key[HTTP_PATH_MAX + 1];	/* the route's KEY */
	size_t		 keylen;
	char		 allow[HTTP_ALLOW_MAX + 1];	/* methods, when refused */
	const char	*authorization;	/* borrowed; NULL when absent */
	const char	*remote_addr;	/* borrowed */
	const char	*user_agent;	/* borrowed; the rest likewise */
	const char	*host;		/* Host header */
	const char	*origin;	/* Origin header */
	const char	*fetch_site;	/* Sec-Fetch-Site header */
	const char	*forwarded_for;	/* X-Forwarded-For header */
	const char	*unique_id;	/* the server's UNIQUE_ID (mod_unique_id) */
	const char	*request_id;	/* X-Request-Id header */
	const char	*accept_language;	/* Accept-Language header */
	const char	*cookie;	/* Cookie header */
	const char	*remote_user;	/* the server's REMOTE_USER; trusted
					 * only with web_remote_user */
	int		 https;		/* the request came over TLS */
	char		*body;		/* owned, wiped */
	size_t		 body_len;
	struct form	 form;		/* body fields first, then query */
	long long	 now;		/* unix seconds, read after the body */
};

struct resp {
	int		 status;	/* HTTP status line */
	int		 intended;	/* X-OTS-Intended-Status; 0: none */
	const char	*ctype;		/* Content-Type */
	char		 headers[HTTP_HEADERS_MAX];	/* extra, CRLF-ended */
	size_t		 headers_len;
	struct buf	 body;
	int		 head_only;	/* HEAD: headers without body */
	int		 failed_passphrase;	/* a passphrase check failed */
	const char	*web_user;	/* the signed-in web user, named in the
					 * pages' header; NULL: none */
};

/*
 * Read the request: method, route path (PATH_INFO, else REQUEST_URI less
 * SCRIPT_NAME), headers, a body of at most body_max bytes that must arrive
 * within body_ms milliseconds, and its parameters (r->now is the
 * caller's to set, once this returns).  Returns 0, or -1 with *status (400, 408, 413, 500) and *errstr saying
 * why; the method and r->api are known even then.
 */
int	http_req_read(struct req *, const struct http_io *, long long body_max,
	    long long body_ms, int *status, const char **errstr);

/* Release what a request owns (wiping the body and parameters). */
void	http_req_free(struct req *);

/*
 * Add a response header.  Names and values holding CR or LF are refused.
 * Returns 0 or -1.
 */
int	http_header(struct resp *, const char *name, const char *value);

/* Add a response header in place of any of that name.  0 or -1. */
int	http_header_set(struct resp *, const char *name, const char *value);

/* Write the CGI response through fn (returns 0 or -1).  0 or -1. */
int	http_resp_write(const struct resp *,
	    int (*fn)(void *, const void *, size_t), void *arg);

/* Release the response body and reset the response for reuse. */
void	http_resp_free(struct resp *);

#endif
