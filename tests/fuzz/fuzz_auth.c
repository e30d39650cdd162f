/*
 * Fuzz auth_basic_parse three ways: the input as the whole header value,
 * as the text after "Basic ", and base64-encoded after "Basic " -- the
 * last checked against what the result must be (user lower-cased before
 * the first colon, password after it, bounded, UTF-8 without NUL).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "util.h"

#include "fuzz.h"

#define IN_MAX	4096	/* longer inputs teach nothing more */

static void
check_out(int rc, const char *user, const char *pass)
{
	size_t i, ulen;

	if (rc != 0) {
		FUZZ_ASSERT(rc == -1);
		return;
	}
	ulen = strnlen(user, AUTH_USER_MAX + 1);
	FUZZ_ASSERT(ulen > 0 && ulen <= AUTH_USER_MAX);
	FUZZ_ASSERT(strnlen(pass, AUTH_PASS_MAX + 1) <= AUTH_PASS_MAX);
	for (i = 0; i < ulen; i++)
		FUZZ_ASSERT(!(user[i] >= 'A' && user[i] <= 'Z') &&
		    user[i] != ':');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1], *h;
	const char *colon;
	size_t hlen, ulen, plen, i;
	int rc, want;

	if (size > IN_MAX)
		return 0;
	hlen = 6 + sodium_base64_ENCODED_LEN(size,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((h = malloc(hlen)) == NULL)
		return 0;

	/* 1. the raw header value */
	memcpy(h, data, size);
	h[size] = '\0';
	check_out(auth_basic_parse(h, user, pass), user, pass);

	/* 2. after "Basic " */
	memcpy(h, "Basic ", 6);
	memcpy(h + 6, data, size);
	h[size + 6] = '\0';
	check_out(auth_basic_parse(h, user, pass), user, pass);

	/* 3. base64 of the input, with the expected answer */
	sodium_bin2base64(h + 6, hlen - 6, data, size,
	    sodium_base64_VARIANT_ORIGINAL);
	rc = auth_basic_parse(h, user, pass);
	check_out(rc, user, pass);
	colon = memchr(data, ':', size);
	ulen = colon ? (size_t)(colon - (const char *)data) : 0;
	plen = colon ? size - ulen - 1 : 0;
	want = colon != NULL && ulen > 0 && ulen <= AUTH_USER_MAX &&
	    plen <= AUTH_PASS_MAX && util_utf8_valid((const char *)data, size);
	FUZZ_ASSERT(rc == (want ? 0 : -1));
	if (want) {
		FUZZ_ASSERT(strlen(user) == ulen && strlen(pass) == plen);
		for (i = 0; i < ulen; i++)
			FUZZ_ASSERT((uint8_t)user[i] == ((data[i] >= 'A' &&
			    data[i] <= 'Z') ? data[i] - 'A' + 'a' : data[i]));
		FUZZ_ASSERT(memcmp(pass, colon + 1, plen) == 0);
	}
	free(h);
	return 0;
}
