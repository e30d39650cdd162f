/*
 * Fuzz form_urlencoded: the input up to its first newline is a body, the
 * rest a query string, parsed into one form in that order (as http.c
 * does), so that the rules across sources are exercised too.
 */
#include "config.h"

#include <string.h>

#include "form.h"
#include "util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl, *errstr;
	struct form fm;
	size_t blen;
	int rc;

	memset(&fm, 0, sizeof(fm));
	nl = memchr(s, '\n', size);
	blen = nl ? (size_t)(nl - s) : size;
	errstr = NULL;
	rc = form_urlencoded(&fm, s, blen, &errstr);
	FUZZ_ASSERT(rc == 0 || (rc == -1 && errstr != NULL));
	fuzz_form_check(&fm);
	if (rc == 0 && nl != NULL) {
		errstr = NULL;
		rc = form_urlencoded(&fm, nl + 1, size - blen - 1, &errstr);
		FUZZ_ASSERT(rc == 0 || (rc == -1 && errstr != NULL));
		fuzz_form_check(&fm);
	}
	form_free(&fm);
	FUZZ_ASSERT(fm.n == 0);
	return 0;
}
