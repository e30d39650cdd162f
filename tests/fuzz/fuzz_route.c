/*
 * Fuzz route_match: the input up to its first newline is the method, the
 * rest the path (both cut at a NUL, as C strings from the adapter are).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
	case R_STATIC:
		return 1;
	default:
		return 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	struct route rt, again;
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

	id = route_match(method, path, &rt);
	FUZZ_ASSERT(id == rt.id && id >= R_NOT_FOUND && id <= R_STATIC);
	FUZZ_ASSERT(rt.keylen <= ROUTE_KEY_MAX);
	FUZZ_ASSERT(memchr(rt.allow, '\0', sizeof(rt.allow)) != NULL);
	if (keyed(id)) {
		/* a key is one non-empty segment taken from the path */
		FUZZ_ASSERT(rt.keylen > 0 && rt.key[rt.keylen] == '\0' &&
		    strlen(rt.key) == rt.keylen);
		FUZZ_ASSERT(strchr(rt.key, '/') == NULL);
		FUZZ_ASSERT(strstr(path, rt.key) != NULL);
	} else
		FUZZ_ASSERT(rt.keylen == 0);
	if (id == R_BAD_METHOD)
		FUZZ_ASSERT(rt.allow[0] != '\0');
	else
		FUZZ_ASSERT(rt.allow[0] == '\0' || id != R_NOT_FOUND);
	if (id != R_NOT_FOUND && id != R_BAD_METHOD)
		FUZZ_ASSERT(path[0] == '/');
	/* the same question gets the same answer */
	FUZZ_ASSERT(route_match(method, path, &again) == id);
	FUZZ_ASSERT(again.keylen == rt.keylen &&
	    memcmp(again.key, rt.key, rt.keylen) == 0);
	free(method);
	free(path);
	return 0;
}
