/*
 * Fuzz route_match: the input up to its first newline is the method, the
 * rest the path (both cut at a NUL, as C strings from the adapter are).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "route.h"

#include "fuzz.h"

static int
keyed(enum route_id id)
{
	switch (id) {
	case R_REVEAL:
	case R_METADATA:
	case R_BURN:
	case R_WEB_SECRET:
	case R_WEB_REVEAL:
	case R_WEB_RECEIPT:
	case R_WEB_BURN:
	case R_WEB_REQUEST:
	case R_WEB_ANSWER:
	case R_STATIC:
		return 1;
	default:
		return 0;
	}
}

/* Match as http_req_read leaves a request: method and path it took. */
static const struct route *
match(struct req *r, const char *method, const char *path)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->api = strncmp(path, "/api/", 5) == 0;
	return route_match(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct req r, again;
	const char *s = (const char *)data, *nl;
	const struct route *rt;
	enum route_id id;
	char *method, *path;
	size_t mlen;

	nl = memchr(s, '\n', size);
	mlen = nl ? (size_t)(nl - s) : 0;
	if ((method = malloc(mlen + 1)) == NULL)
		return 0;
	if ((path = malloc(size - (nl ? mlen + 1 : 0) + 1)) == NULL) {
		free(method);
		return 0;
	}
	memcpy(method, s, mlen);
	method[mlen] = '\0';
	memcpy(path, nl ? nl + 1 : s, size - (nl ? mlen + 1 : 0));
	path[size - (nl ? mlen + 1 : 0)] = '\0';
	/* what http_req_read refuses never reaches the router */
	if (strlen(method) >= sizeof(r.method) ||
	    strlen(path) > HTTP_PATH_MAX)
		goto out;

	rt = match(&r, method, path);
	id = rt->id;
	FUZZ_ASSERT(id >= R_NOT_FOUND && id < R_INVALID);
	FUZZ_ASSERT(rt->handle != NULL);
	FUZZ_ASSERT(!(rt->flags & ROUTE_API) == !r.api);
	FUZZ_ASSERT(r.keylen <= HTTP_PATH_MAX);
	FUZZ_ASSERT(memchr(r.allow, '\0', sizeof(r.allow)) != NULL);
	if (keyed(id)) {
		/* a key is one non-empty segment taken from the path */
		FUZZ_ASSERT(r.keylen > 0 && r.key[r.keylen] == '\0' &&
		    strlen(r.key) == r.keylen);
		FUZZ_ASSERT(strchr(r.key, '/') == NULL);
		FUZZ_ASSERT(strstr(path, r.key) != NULL);
	} else
		FUZZ_ASSERT(r.keylen == 0);
	if (id == R_BAD_METHOD)
		FUZZ_ASSERT(r.allow[0] != '\0');
	else
		FUZZ_ASSERT(r.allow[0] == '\0' || id != R_NOT_FOUND);
	if (id != R_NOT_FOUND && id != R_BAD_METHOD)
		FUZZ_ASSERT(path[0] == '/');
	/* the same question gets the same answer */
	FUZZ_ASSERT(match(&again, method, path) == rt);
	FUZZ_ASSERT(again.keylen == r.keylen &&
	    memcmp(again.key, r.key, r.keylen) == 0);
out:
	free(method);
	free(path);
	return 0;
}
