/*
 * Fuzz form_json: the input is a request body declared application/json.
 * A successful parse must also survive a query string added after it.
 */
#include "config.h"

#include <string.h>

#include "form.h"
#include "util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *errstr;
	struct form fm;
	int rc;

	memset(&fm, 0, sizeof(fm));
	errstr = NULL;
	rc = form_json(&fm, (const char *)data, size, &errstr);
	FUZZ_ASSERT(rc == 0 || (rc == -1 && errstr != NULL));
	fuzz_form_check(&fm);
	if (rc == 0) {
		/* only a full form refuses a field the query adds */
		rc = form_urlencoded(&fm, "secret=q&ttl=60", 15, &errstr);
		FUZZ_ASSERT(rc == 0 || fm.n == FORM_FIELDS_MAX);
		fuzz_form_check(&fm);
	}
	form_free(&fm);
	return 0;
}
