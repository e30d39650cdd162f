/*
 * Fuzz http_req_read through a fake adapter built from the input:
 *
 *	NAME=value\n	a CGI variable (REQUEST_METHOD, PATH_INFO,
 *	...		CONTENT_LENGTH, CONTENT_TYPE, QUERY_STRING,
 *			HTTP_AUTHORIZATION...), up to VARS_MAX of them
 *	\n		an empty line ends them
 *	body		what the adapter's read() hands out
 *
 * Two pseudo-variables steer the reader: _CHUNK=n caps each read at n
 * bytes, _FAIL=1 makes it fail (-1) instead of reporting the end.  A
 * request read is then routed and its Authorization header parsed, as
 * the application would; a response echoing a header is written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "form.h"
#include "http.h"
#include "route.h"
#include "util.h"

#include "fuzz.h"

#define VARS_MAX	32
#define BODY_MAX	65536	/* body_max passed to http_req_read */

struct fake {
	char		*name[VARS_MAX];
	char		*value[VARS_MAX];
	size_t		 n;
	const char	*body;
	size_t		 len, off;
	size_t		 chunk;	/* 0: any */
	int		 fail;
};

static const char *
fake_getenv(void *arg, const char *name)
{
	const struct fake *f = arg;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

static long
fake_read(void *arg, char *dst, size_t len, int ms)
{
	struct fake *f = arg;
	size_t n = f->len - f->off;

	FUZZ_ASSERT(len > 0 && ms > 0);
	if (n == 0)
		return f->fail ? -1 : 0;
	if (n > len)
		n = len;
	if (f->chunk > 0 && n > f->chunk)
		n = f->chunk;
	memcpy(dst, f->body + f->off, n);
	f->off += n;
	return (long)n;
}

static int
sink(void *arg, const void *p, size_t len)
{
	size_t *total = arg;

	(void)p;
	*total += len;
	return 0;
}

/* Split the input into variables and body; the strings are copies. */
static void
fake_parse(struct fake *f, const char *s, size_t size)
{
	const char *end = s + size, *nl, *eq;
	char *line;
	size_t n;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (n == 0) {	/* the empty line: the body follows */
			s++;
			break;
		}
		if (f->n < VARS_MAX && (eq = memchr(s, '=', n)) != NULL &&
		    (line = malloc(n + 1)) != NULL) {
			memcpy(line, s, n);
			line[n] = '\0';	/* a NUL inside cuts the value */
			line[eq - s] = '\0';
			if (strcmp(line, "_CHUNK") == 0)
				f->chunk = strtoul(line + (eq - s) + 1, NULL,
				    10) % 4096;
			else if (strcmp(line, "_FAIL") == 0)
				f->fail = 1;
			f->name[f->n] = line;
			f->value[f->n++] = line + (eq - s) + 1;
		}
		s += nl ? n + 1 : n;
	}
	f->body = s;
	f->len = (size_t)(end - s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f;
	struct http_io io;
	struct req r;
	struct resp rs;
	char user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];
	const char *errstr, *ua;
	size_t i, total;
	int rc, status;

	memset(&f, 0, sizeof(f));
	fake_parse(&f, (const char *)data, size);
	io.arg = &f;
	io.getenv = fake_getenv;
	io.read = fake_read;
	memset(&r, 0, sizeof(r));
	errstr = NULL;
	status = 0;
	rc = http_req_read(&r, &io, BODY_MAX, 30000, &status, &errstr);
	if (rc == -1) {
		FUZZ_ASSERT(errstr != NULL);
		FUZZ_ASSERT(status == 400 || status == 408 || status == 413 ||
		    status == 500);
	} else {
		FUZZ_ASSERT(rc == 0);
		FUZZ_ASSERT(r.method[0] != '\0' &&
		    strlen(r.method) < sizeof(r.method));
		FUZZ_ASSERT(strlen(r.path) <= HTTP_PATH_MAX);
		FUZZ_ASSERT(util_utf8_valid(r.path, strlen(r.path)));
		FUZZ_ASSERT(r.body_len <= BODY_MAX);
		FUZZ_ASSERT(r.body_len == 0 || r.body[r.body_len] == '\0');
		fuzz_form_check(&r.form);
		FUZZ_ASSERT(route_match(&r)->handle != NULL);
		if (r.authorization != NULL)
			(void)auth_basic_parse(r.authorization, user, pass);
	}

	/* a response echoing a request header: CR/LF never gets through */
	memset(&rs, 0, sizeof(rs));
	rs.status = rc == 0 ? 200 : status;
	rs.head_only = r.method[0] == 'H';
	ua = fake_getenv(&f, "HTTP_USER_AGENT");
	if (ua != NULL) {
		rc = http_header(&rs, "X-Echo", ua);
		FUZZ_ASSERT(rc == -1 || strpbrk(ua, "\r\n") == NULL);
		FUZZ_ASSERT(rs.headers_len < sizeof(rs.headers));
	}
	if (r.path[0] != '\0')
		(void)buf_add(&rs.body, r.path, strlen(r.path));
	total = 0;
	FUZZ_ASSERT(http_resp_write(&rs, sink, &total) == 0 && total > 0);
	http_resp_free(&rs);
	http_req_free(&r);
	for (i = 0; i < f.n; i++)
		free(f.name[i]);
	return 0;
}
