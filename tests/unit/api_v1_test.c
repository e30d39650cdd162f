/*
 * api_v1: TTL clamping, the v1 error response and the common headers.
 */
#include "config.h"

#include <string.h>

#include "api_v1.h"
#include "http.h"
#include "secret.h"

#include "tap.h"

#define DAY	86400LL
#define DEF	(7 * DAY)
#define MAX	(7 * DAY)
#define KEY	"k2m9x0qe8h7r3v6t5b4n1c2w8z7y6u5"

static long long
ttl(const char *s)
{
	return secret_ttl(s, s ? strlen(s) : 0, DEF, MAX);
}

static void
test_ttl(void)
{
	static const struct {
		const char	*s;
		long long	 want;
	} t[] = {
		{ NULL, DEF }, { "10", 60 }, { "abc", 60 }, { "-5", 60 },
		{ "0", 60 }, { "", 60 }, { " 100", 60 }, { "100 ", 60 },
		{ "1e3", 60 }, { "59", 60 }, { "60", 60 }, { "61", 61 },
		{ "100", 100 }, { "3600", 3600 }, { "604800", MAX },
		{ "604801", MAX }, { "9223372036854775807", MAX },
		{ "99999999999999999999", 60 },
		{ "-9223372036854775808", 60 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(ttl(t[i].s), t[i].want, "ttl %s%s%s", t[i].s ? "\"" : "",
		    t[i].s ? t[i].s : "missing", t[i].s ? "\"" : "");
	is_int(secret_ttl(NULL, 0, 30 * DAY, MAX), MAX,
	    "a default above the maximum is clamped to the maximum");
	is_int(secret_ttl(NULL, 0, 3600, 30 * DAY), 3600,
	    "a default below the maximum is kept");
	is_int(secret_ttl("2592000", 7, DEF, 30 * DAY), 30 * DAY,
	    "a plan's larger maximum");
	is_int(secret_ttl("100abc", 3, DEF, MAX), 100, "only len bytes count");
}

/* 1 if the extra response headers contain line (with its CRLF). */
static int
has_header(const struct resp *rs, const char *line)
{
	size_t n = strlen(line);
	const char *p = rs->headers;

	return rs->headers_len >= n &&
	    memmem(p, rs->headers_len, line, n) != NULL;
}

static void
test_error(void)
{
	struct resp rs;

	memset(&rs, 0, sizeof(rs));
	api_v1_error(&rs, 400, "You did not provide anything to share", NULL);
	is_int(rs.status, 404, "every v1 error is HTTP 404");
	is_int(rs.intended, 400, "intended status kept");
	ok(has_header(&rs, "X-OTS-Intended-Status: 400\r\n"),
	    "X-OTS-Intended-Status header");
	is_str(rs.ctype, "application/json; charset=utf-8", "JSON type");
	is_str(rs.body.data, "{\"message\":\"You did not provide anything "
	    "to share\"}", "body is {\"message\":...}");
	http_resp_free(&rs);

	api_v1_error(&rs, 404, "Unknown secret", KEY);
	ok(has_header(&rs, "X-OTS-Intended-Status: 404\r\n"), "intended 404");
	is_str(rs.body.data, "{\"secret_key\":\"" KEY "\","
	    "\"message\":\"Unknown secret\"}",
	    "secret_key first, then message");
	http_resp_free(&rs);

	buf_puts(&rs.body, "{\"partial\":");
	api_v1_error(&rs, 413, "a \"quoted\" / message", NULL);
	is_str(rs.body.data, "{\"message\":\"a \\\"quoted\\\" / message\"}",
	    "replaces an earlier body; quotes escaped, '/' plain");
	is_int(rs.intended, 413, "intended 413");
	http_resp_free(&rs);
}

static void
test_headers(void)
{
	static const char *const want[] = {
		"Cache-Control: no-store\r\n",
		"Referrer-Policy: no-referrer\r\n",
		"X-Content-Type-Options: nosniff\r\n",
		"Content-Security-Policy: frame-ancestors 'none'\r\n",
	};
	struct resp rs;
	size_t i;

	memset(&rs, 0, sizeof(rs));
	api_v1_headers(&rs);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ok(has_header(&rs, want[i]), "header %.*s",
		    (int)strcspn(want[i], ":"), want[i]);
	http_resp_free(&rs);
}

int
main(void)
{
	test_ttl();
	test_error();
	test_headers();
	return done();
}
