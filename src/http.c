#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "http.h"
#include "util.h"

static const char *
env(const struct http_io *io, const char *name)
{
	return io->getenv(io->arg, name);
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/*
 * The route: PATH_INFO when the server sets it; otherwise the path of
 * REQUEST_URI, less SCRIPT_NAME when the app is mounted below a prefix.
 */
static int
set_path(struct req *r, const struct http_io *io)
{
	const char *pi = env(io, "PATH_INFO"), *uri, *sn, *q;
	size_t len, snlen;

	if (pi != NULL && *pi != '\0') {
		uri = pi;
		len = strlen(pi);
	} else {
		if ((uri = env(io, "REQUEST_URI")) == NULL || *uri == '\0')
			uri = "/";
		len = (q = strchr(uri, '?')) ? (size_t)(q - uri) : strlen(uri);
		sn = env(io, "SCRIPT_NAME");
		snlen = sn ? strlen(sn) : 0;
		if (snlen > 0 && snlen < len && sn[snlen - 1] != '/' &&
		    strncmp(uri, sn, snlen) == 0 && uri[snlen] == '/') {
			uri += snlen;
			len -= snlen;
		}
	}
	/* known even when the path or the method is refused */
	r->api = len >= 5 && strncmp(uri, "/api/", 5) == 0;
	if (len > HTTP_PATH_MAX || !util_utf8_valid(uri, len))
		return -1;
	memcpy(r->path, uri, len);
	r->path[len] = '\0';
	return 0;
}

/* Milliseconds on the monotonic clock. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read want body bytes, or with to_eof up to the end (want is then the
 * most taken: more is 413), all of it within ms milliseconds: a client
 * that sends its headers and holds the body back gets 408, not a worker.
 */
static int
read_body(struct req *r, const struct http_io *io, size_t want, int to_eof,
    long long ms, int *status, const char **errstr)
{
	long long deadline = mono_ms() + ms, left;
	size_t got = 0, cap = want + (to_eof ? 1 : 0);
	long n = 1;

	if ((r->body = malloc(cap + 1)) == NULL) {
		*status = 500;
		*errstr = "Out of memory";
		return -1;
	}
	while (got < cap && (left = deadline - mono_ms()) > 0 &&
	    (n = io->read(io->arg, r->body + got, cap - got,
	    left > INT32_MAX ? INT32_MAX : (int)left)) > 0)
		got += (size_t)n;
	r->body_len = got;
	r->body[got] = '\0';
	if (got > want) {
		*status = 413;
		*errstr = "Request body too large";
	} else if (got == want || (to_eof && n == 0))
		return 0;
	else if (n == -2 || n > 0) {
		*status = 408;
		*errstr = "Request body too slow";
	} else
		*errstr = "Incomplete request body";
	return -1;
}

int
http_req_read(struct req *r, const struct http_io *io, long long body_max,
    long long body_ms, int *status, const char **errstr)
{
	const char *m, *cl, *ct, *qs;
	long long want;
	int bad_path;
	long n;

	*status = 400;
	bad_path = set_path(r, io) == -1;
	m = env(io, "REQUEST_METHOD");
	if (m == NULL || *m == '\0' || strlen(m) >= sizeof(r->method) ||
	    strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(m)) {
		*errstr = "Bad request method";
		return -1;
	}
	memcpy(r->method, m, strlen(m) + 1);
	if (bad_path) {
		*errstr = "Bad request path";
		return -1;
	}
	/* an empty header is how some servers say there was none */
	r->authorization = env(io, "HTTP_AUTHORIZATION");
	if (r->authorization != NULL && *r->authorization == '\0')
		r->authorization = NULL;
	r->remote_addr = env(io, "REMOTE_ADDR");
	r->user_agent = env(io, "HTTP_USER_AGENT");
	r->host = env(io, "HTTP_HOST");
	r->origin = env(io, "HTTP_ORIGIN");
	r->fetch_site = env(io, "HTTP_SEC_FETCH_SITE");
	r->forwarded_for = env(io, "HTTP_X_FORWARDED_FOR");
	r->unique_id = env(io, "UNIQUE_ID");
	r->request_id = env(io, "HTTP_X_REQUEST_ID");
	r->accept_language = env(io, "HTTP_ACCEPT_LANGUAGE");
	r->cookie = env(io, "HTTP_COOKIE");
	r->remote_user = env(io, "REMOTE_USER");
	if (r->remote_user != NULL && *r->remote_user == '\0')
		r->remote_user = NULL;
	r->https = (m = env(io, "HTTPS")) != NULL && strcasecmp(m, "on") == 0;
	if ((m = env(io, "REQUEST_SCHEME")) != NULL && strcmp(m, "https") == 0)
		r->https = 1;

	/* Limits before allocation: the length is known before reading. */
	cl = env(io, "CONTENT_LENGTH");
	want = 0;
	if (cl != NULL && *cl != '\0' &&
	    util_strtoll(cl, strlen(cl), 0, INT64_MAX, &want) == -1) {
		*errstr = "Bad Content-Length";
		return -1;
	}
	if (want > body_max) {
		*status = 413;
		*errstr = "Request body too large";
		return -1;
	}
	/*
	 * A chunked body reaches a CGI program (Apache's) without a length:
	 * then it is read to its end, up to body_max.
	 */
	if ((cl == NULL || *cl == '\0') &&
	    env(io, "HTTP_TRANSFER_ENCODING") != NULL) {
		if (read_body(r, io, (size_t)body_max, 1, body_ms, status,
		    errstr) == -1)
			return -1;
	} else if (want > 0 && read_body(r, io, (size_t)want, 0, body_ms,
	    status, errstr) == -1)
		return -1;

	ct = env(io, "CONTENT_TYPE");
	if (r->body_len > 0 && ct != NULL) {
		if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
			n = form_urlencoded(&r->form, r->body, r->body_len,
			    errstr);
		else if (strncasecmp(ct, "multipart/form-data", 19) == 0)
			n = form_multipart(&r->form, ct, r->body, r->body_len,
			    errstr);
		else if (strncasecmp(ct, "application/json", 16) == 0)
			n = form_json(&r->form, r->body, r->body_len, errstr);
		else
			n = 0;	/* other bodies carry no parameters */
		if (n == -1)
			return -1;
	} else if (r->body_len > 0 &&
	    form_urlencoded(&r->form, r->body, r->body_len, errstr) == -1)
		return -1;	/* curl -d without a type: treat as a form */
	qs = env(io, "QUERY_STRING");
	if (qs != NULL && form_urlencoded(&r->form, qs, strlen(qs), errstr)
	    == -1)
		return -1;
	return 0;
}

void
http_req_free(struct req *r)
{
	if (r->body != NULL) {
		sodium_memzero(r->body, r->body_len);
		free(r->body);
	}
	form_free(&r->form);
	memset(r, 0, sizeof(*r));
}

int
http_header(struct resp *rs, const char *name, const char *value)
{
	int n;

	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	n = snprintf(rs->headers + rs->headers_len,
	    sizeof(rs->headers) - rs->headers_len, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(rs->headers) - rs->headers_len)
		return -1;
	rs->headers_len += (size_t)n;
	return 0;
}

int
http_header_set(struct resp *rs, const char *name, const char *value)
{
	size_t i = 0, end, nlen = strlen(name);

	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return -1;
	while (i < rs->headers_len) {
		for (end = i; end + 1 < rs->headers_len &&
		    !(rs->headers[end] == '\r' && rs->headers[end + 1] == '\n');
		    end++)
			;
		end += 2;	/* past the CRLF */
		if (end - i > nlen && rs->headers[i + nlen] == ':' &&
		    strncasecmp(rs->headers + i, name, nlen) == 0) {
			memmove(rs->headers + i, rs->headers + end,
			    rs->headers_len - end);
			rs->headers_len -= end - i;
		} else
			i = end;
	}
	return http_header(rs, name, value);
}

int
http_resp_write(const struct resp *rs, int (*fn)(void *, const void *, size_t),
    void *arg)
{
	char head[HTTP_HEADERS_MAX + 512];
	int n;

	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "%.*s"
	    "\r\n", rs->status, status_text(rs->status),
	    rs->ctype ? rs->ctype : "application/json; charset=utf-8",
	    rs->body.len, (int)rs->headers_len, rs->headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (fn(arg, head, (size_t)n) == -1)
		return -1;
	if (!rs->head_only && rs->body.len > 0)
		return fn(arg, rs->body.data, rs->body.len);
	return 0;
}

void
http_resp_free(struct resp *rs)
{
	buf_free(&rs->body);
	memset(rs, 0, sizeof(*rs));
}
