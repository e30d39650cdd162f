/*
 * Fuzz form_multipart: the input up to its first newline is the
 * Content-Type header value (its boundary parameter is used), the rest
 * the body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl, *errstr;
	struct form fm;
	char *ctype;
	size_t clen;
	int rc;

	if ((nl = memchr(s, '\n', size)) == NULL)
		return 0;
	clen = (size_t)(nl - s);
	if ((ctype = malloc(clen + 1)) == NULL)
		return 0;
	memcpy(ctype, s, clen);
	ctype[clen] = '\0';	/* a NUL inside ends it early, as in C */
	memset(&fm, 0, sizeof(fm));
	errstr = NULL;
	rc = form_multipart(&fm, ctype, nl + 1, size - clen - 1, &errstr);
	FUZZ_ASSERT(rc == 0 || (rc == -1 && errstr != NULL));
	fuzz_form_check(&fm);
	form_free(&fm);
	free(ctype);
	return 0;
}
