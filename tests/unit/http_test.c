/*
 * http: reading a request through a fake adapter (a table of CGI variables
 * and a body in memory), response headers, and the CGI response text.
 */
#include "config.h"

#include <string.h>

#include "http.h"
#include "util.h"

#include "tap.h"

#define MAX	4096	/* body_max of these tests */

/* The fake adapter: NULL-terminated name/value pairs and a body. */
struct fake {
	const char *const	*env;
	const char		*body;
	size_t			 len, off;
	size_t			 chunk;	/* largest read; 0: any */
	size_t			 stall;	/* time runs out after; 0: never */
	int			 reads;
	int			 ms;	/* the wait of the last read */
};

static const char *
fake_getenv(void *arg, const char *name)
{
	const struct fake *f = arg;
	size_t i;

	for (i = 0; f->env[i] != NULL; i += 2)
		if (strcmp(f->env[i], name) == 0)
			return f->env[i + 1];
	return NULL;
}

static long
fake_read(void *arg, char *dst, size_t len, int ms)
{
	struct fake *f = arg;
	size_t n = f->len - f->off;

	f->reads++;
	f->ms = ms;
	if (f->stall > 0 && f->off >= f->stall)
		return -2;
	if (n > len)
		n = len;
	if (f->chunk > 0 && n > f->chunk)
		n = f->chunk;
	memcpy(dst, f->body + f->off, n);
	f->off += n;
	return (long)n;
}

static struct req r;
static struct fake f;
static int status;
static const char *errstr;

/*
 * Read a request from env and body (NULL: none), chunk bytes at a time
 * (0: any), the time running out after stall bytes (0: never); 0 or -1.
 */
static int
rd_stall(const char *const *env, const char *body, size_t chunk, size_t stall)
{
	struct http_io io = { &f, fake_getenv, fake_read };

	http_req_free(&r);
	memset(&f, 0, sizeof(f));
	f.env = env;
	f.body = body;
	f.len = body ? strlen(body) : 0;
	f.chunk = chunk;
	f.stall = stall;
	status = 0;
	errstr = NULL;
	return http_req_read(&r, &io, MAX, 30000, &status, &errstr);
}

static int
rd(const char *const *env, const char *body, size_t chunk)
{
	return rd_stall(env, body, chunk, 0);
}

static const char *
param(const char *name)
{
	return form_get(&r.form, name, NULL);
}

static void
test_path(void)
{
	static const char *const pi[] = { "REQUEST_METHOD", "GET",
	    "PATH_INFO", "/api/v1/status", "SCRIPT_NAME", "/ots",
	    "REQUEST_URI", "/ots/api/v1/status?x=1", NULL };
	static const char *const root[] = { "REQUEST_METHOD", "GET",
	    "PATH_INFO", "", "SCRIPT_NAME", "",
	    "REQUEST_URI", "/api/v1/private/abc?x=1", "QUERY_STRING", "x=1",
	    NULL };
	static const char *const prefix[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/apps/ots",
	    "REQUEST_URI", "/apps/ots/api/v1/secret/abc?y=2", NULL };
	static const char *const whole[] = { "REQUEST_METHOD", "GET",
	    "SCRIPT_NAME", "/api/v1/status",
	    "REQUEST_URI", "/api/v1/status", NULL };
	static const char *const notseg[] = { "REQUEST_METHOD", "GET",
	    "SCRIPT_NAME", "/ots", "REQUEST_URI", "/otsx/api/v1/status", NULL };
	static const char *const none[] = { "REQUEST_METHOD", "GET", NULL };
	static const char *const badutf[] = { "REQUEST_METHOD", "GET",
	    "PATH_INFO", "/api/v1/\xc0\xaf", NULL };
	static const char *const nomethod[] = { "PATH_INFO", "/", NULL };
	static const char *const longmethod[] = { "REQUEST_METHOD",
	    "GETGETGETGETGETGET", "PATH_INFO", "/", NULL };
	static const char *const emptymethod[] = { "REQUEST_METHOD", "",
	    "PATH_INFO", "/api/v1/status", NULL };
	static char longpath[HTTP_PATH_MAX + 2];
	const char *const toolong[] = { "REQUEST_METHOD", "GET",
	    "PATH_INFO", longpath, NULL };
	static const char *const headbad[] = { "REQUEST_METHOD", "HEAD",
	    "PATH_INFO", "/api/v1/\xc0\xaf", NULL };

	is_int(rd(pi, NULL, 0), 0, "PATH_INFO request");
	is_str(r.path, "/api/v1/status", "PATH_INFO wins over REQUEST_URI");
	is_str(r.method, "GET", "method");
	is_int(r.now, 0, "the time is not read here (the caller reads it "
	    "once the body is in)");
	ok(rd(headbad, NULL, 0) == -1 && strcmp(r.method, "HEAD") == 0,
	    "a refused path still leaves the method known (HEAD: no body)");
	is_int(rd(root, NULL, 0), 0, "mounted at the root, empty PATH_INFO");
	is_str(r.path, "/api/v1/private/abc",
	    "path from REQUEST_URI less the query");
	is_str(param("x"), "1", "query parameter");
	is_int(rd(prefix, NULL, 0), 0, "mounted below a prefix");
	is_str(r.path, "/api/v1/secret/abc", "SCRIPT_NAME prefix removed");
	is_int(rd(whole, NULL, 0), 0, "SCRIPT_NAME is the whole path");
	is_str(r.path, "/api/v1/status", "whole path kept");
	is_int(rd(notseg, NULL, 0), 0, "SCRIPT_NAME not ending a segment");
	is_str(r.path, "/otsx/api/v1/status", "prefix kept unless a segment");
	is_int(rd(none, NULL, 0), 0, "no path variables");
	is_str(r.path, "/", "path defaults to /");

	ok(rd(badutf, NULL, 0) == -1 && status == 400 && r.api,
	    "invalid UTF-8 path: 400, still known as the API's");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	ok(rd(toolong, NULL, 0) == -1 && status == 400, "overlong path: 400");
	longpath[HTTP_PATH_MAX] = '\0';
	is_int(rd(toolong, NULL, 0), 0, "path of HTTP_PATH_MAX bytes");
	ok(rd(nomethod, NULL, 0) == -1 && status == 400, "no method: 400");
	ok(rd(longmethod, NULL, 0) == -1 && status == 400,
	    "overlong method: 400");
	ok(rd(emptymethod, NULL, 0) == -1 && status == 400 && r.api,
	    "empty method: 400, the path still known as the API's");
	ok(rd(longmethod, NULL, 0) == -1 && !r.api, "a page path is not the API's");
}

static void
test_body(void)
{
	static const char *const big[] = { "REQUEST_METHOD", "POST",
	    "PATH_INFO", "/api/v1/share", "CONTENT_LENGTH", "4097",
	    "CONTENT_TYPE", "application/x-www-form-urlencoded", NULL };
	static const char *const huge[] = { "REQUEST_METHOD", "POST",
	    "PATH_INFO", "/", "CONTENT_LENGTH", "9223372036854775807", NULL };
	static const char *const bad[][7] = {
	    { "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "abc", NULL },
	    { "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "-1", NULL },
	    { "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "12abc", NULL },
	    { "REQUEST_METHOD", "POST", "CONTENT_LENGTH", " 12", NULL },
	    { "REQUEST_METHOD", "POST", "CONTENT_LENGTH",
	      "99999999999999999999", NULL },
	};
	static const char *const url[] = { "REQUEST_METHOD", "POST",
	    "PATH_INFO", "/api/v1/share", "CONTENT_LENGTH", "27",
	    "CONTENT_TYPE", "application/x-www-form-urlencoded; charset=utf-8",
	    "QUERY_STRING", "secret=query&extra=1", NULL };
	static const char *const json[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "33", "CONTENT_TYPE", "Application/JSON",
	    "QUERY_STRING", "secret=query", NULL };
	static const char *const multi[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "67",
	    "CONTENT_TYPE", "multipart/form-data; boundary=XyZ", NULL };
	static const char *const text[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "8", "CONTENT_TYPE", "text/plain", NULL };
	static const char *const notype[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "8", NULL };
	static const char *const short_[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "100", "CONTENT_TYPE",
	    "application/x-www-form-urlencoded", NULL };
	static const char *const badform[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "5", "CONTENT_TYPE",
	    "application/x-www-form-urlencoded", NULL };
	static const char *const badjson[] = { "REQUEST_METHOD", "POST",
	    "CONTENT_LENGTH", "2", "CONTENT_TYPE", "application/json", NULL };
	static const char *const badquery[] = { "REQUEST_METHOD", "GET",
	    "QUERY_STRING", "a=%zz", NULL };
	static const char *const emptycl[] = { "REQUEST_METHOD", "GET",
	    "CONTENT_LENGTH", "", NULL };
	static const char *const chunked[] = { "REQUEST_METHOD", "POST",
	    "HTTP_TRANSFER_ENCODING", "chunked", "CONTENT_TYPE",
	    "application/x-www-form-urlencoded", NULL };
	static char bigbody[MAX + 2];
	size_t i;

	ok(rd(big, "secret=x", 0) == -1 && status == 413,
	    "Content-Length above body_max: 413");
	is_int(f.reads, 0, "nothing read before refusing");
	ok(rd(huge, "x", 0) == -1 && status == 413 && f.reads == 0,
	    "Content-Length INT64_MAX: 413 without reading");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(rd(bad[i], "x", 0) == -1 && status == 400 && f.reads == 0,
		    "Content-Length \"%s\": 400", bad[i][3]);
	ok(rd(short_, "secret=x", 0) == -1 && status == 400,
	    "body shorter than Content-Length: 400");
	ok(rd_stall(url, "secret=body+text&ttl=3600&x", 1, 4) == -1 &&
	    status == 408 && errstr != NULL,
	    "a body that stops coming in time: 408");
	ok(f.ms > 0 && f.ms <= 30000, "each read waits at most what is left "
	    "of the deadline (%d ms)", f.ms);
	is_int(rd(emptycl, NULL, 0), 0, "empty Content-Length is no body");
	is_int(rd(chunked, "secret=chunky&ttl=60", 5), 0,
	    "a chunked body without a length (Apache CGI): read to its end");
	is_str(param("secret"), "chunky", "its parameters are read");
	memset(bigbody, 'a', MAX + 1);
	ok(rd(chunked, bigbody, 0) == -1 && status == 413,
	    "a chunked body above body_max: 413");
	memset(bigbody, 0, sizeof(bigbody));
	memset(bigbody, 'a', MAX);
	memcpy(bigbody, "x=", 2);
	ok(rd(chunked, bigbody, 0) == 0 && r.body_len == MAX,
	    "a chunked body of exactly body_max is read");

	is_int(rd(url, "secret=body+text&ttl=3600&x", 3), 0,
	    "urlencoded body, read 3 bytes at a time");
	is_int((long long)r.body_len, 27, "body length");
	is_str(param("secret"), "body text",
	    "a body value wins over the query");
	is_str(param("ttl"), "3600", "body parameter");
	is_str(param("extra"), "1", "query parameter kept");
	is_int(rd(json, "{\"secret\":\"from json\",\"ttl\":3600}", 0), 0,
	    "JSON body by Content-Type, any case");
	is_str(param("secret"), "from json", "JSON value wins over the query");
	is_str(param("ttl"), "3600", "JSON number");
	is_int(rd(multi, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"secret\"\r\n\r\nmp\r\n--XyZ--", 0), 0, "multipart body");
	is_str(param("secret"), "mp", "multipart value");
	is_int(rd(text, "secret=x", 0), 0, "text/plain body");
	ok(param("secret") == NULL, "text/plain carries no parameters");
	is_int(rd(notype, "secret=x", 0), 0, "body without Content-Type");
	is_str(param("secret"), "x", "is read as a form (curl -d)");
	ok(rd(badform, "a=%zz", 0) == -1 && status == 400 && errstr != NULL,
	    "malformed form body: 400 with a reason");
	ok(rd(badjson, "[]", 0) == -1 && status == 400, "non-object JSON: 400");
	ok(rd(badquery, NULL, 0) == -1 && status == 400, "bad query: 400");
}

static void
test_headers_in(void)
{
	static const char *const empty[] = { "REQUEST_METHOD", "GET",
	    "HTTP_AUTHORIZATION", "", "REMOTE_ADDR", "192.0.2.1",
	    "HTTP_USER_AGENT", "curl/8", NULL };
	static const char *const basic[] = { "REQUEST_METHOD", "GET",
	    "HTTP_AUTHORIZATION", "Basic eDp5", NULL };

	is_int(rd(empty, NULL, 0), 0, "request with an empty Authorization");
	ok(r.authorization == NULL, "empty Authorization is absent");
	is_str(r.remote_addr, "192.0.2.1", "REMOTE_ADDR");
	is_str(r.user_agent, "curl/8", "User-Agent");
	is_int(rd(basic, NULL, 0), 0, "request with Authorization");
	is_str(r.authorization, "Basic eDp5", "Authorization passed on");
	http_req_free(&r);
	ok(r.body == NULL && r.form.n == 0 && r.authorization == NULL,
	    "http_req_free empties");
}

/* Writers: one collecting the response into a buf, one failing. */
static int
collect(void *arg, const void *p, size_t len)
{
	return buf_add(arg, p, len);
}

static int
refuse(void *arg, const void *p, size_t len)
{
	(void)arg;
	(void)p;
	(void)len;
	return -1;
}

static void
test_response(void)
{
	struct resp rs;
	struct buf out = { 0 };
	size_t len;
	int i, full = 0;

	memset(&rs, 0, sizeof(rs));
	is_int(http_header(&rs, "X-A", "b c"), 0, "http_header");
	is_int(http_header(&rs, "X-B", "x\r\nSet-Cookie: a=b"), -1,
	    "CRLF in a value refused");
	is_int(http_header(&rs, "X-B", "x\ny"), -1, "LF in a value refused");
	is_int(http_header(&rs, "X-B", "x\ry"), -1, "CR in a value refused");
	is_int(http_header(&rs, "X-B\r\nX-C", "y"), -1,
	    "CRLF in a name refused");
	is_int(http_header(&rs, "X-B: c", "y"), -1, "':' in a name refused");
	is_str(rs.headers, "X-A: b c\r\n", "only the good header was added");

	rs.status = 200;
	buf_puts(&rs.body, "{\"a\":1}");
	is_int(http_resp_write(&rs, collect, &out), 0, "http_resp_write");
	is_str(out.data, "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 7\r\n"
	    "X-A: b c\r\n"
	    "\r\n"
	    "{\"a\":1}", "CGI response: status, type, length, headers, body");
	buf_free(&out);

	rs.status = 404;
	rs.ctype = "text/html; charset=utf-8";
	rs.head_only = 1;
	http_resp_write(&rs, collect, &out);
	is_str(out.data, "Status: 404 Not Found\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: 7\r\n"
	    "X-A: b c\r\n"
	    "\r\n", "HEAD: the length of the body, not the body");
	buf_free(&out);
	is_int(http_resp_write(&rs, refuse, NULL), -1,
	    "writer failure passed up");

	http_resp_free(&rs);
	ok(rs.body.data == NULL && rs.headers_len == 0 && rs.status == 0,
	    "http_resp_free resets");

	for (i = 0; i < 200 && !full; i++)
		full = http_header(&rs, "X-Filler", "0123456789abcdef") == -1;
	ok(full, "headers beyond HTTP_HEADERS_MAX refused");
	rs.status = 200;
	http_resp_write(&rs, collect, &out);
	len = out.len;
	ok(len > 22 && memcmp(out.data + len - 22,
	    ": 0123456789abcdef\r\n\r\n", 22) == 0,
	    "a refused header leaves no partial line behind");
	buf_free(&out);
	http_resp_free(&rs);
}

int
main(void)
{
	test_path();
	test_body();
	test_headers_in();
	test_response();
	http_req_free(&r);
	return done();
}
