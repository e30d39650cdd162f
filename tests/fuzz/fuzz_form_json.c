/*
 * Fuzz form_json: the input is a request body declared application/json.
 * A successful parse must also survive a query string added after it, and
 * what json-c writes of its fields must parse back to the same fields.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "form.h"
#include "util.h"

#include "fuzz.h"

/*
 * The fields as a JSON object of strings, written by json-c (another
 * encoder: \/, \uXXXX for control characters), parse back the same.
 */
static void
roundtrip(const struct form *fm)
{
	struct json_object *o;
	struct form back;
	const char *t, *errstr, *v;
	char name[FORM_NAME_MAX + 3];
	size_t i, len;

	if ((o = json_object_new_object()) == NULL)
		return;
	for (i = 0; i < fm->n; i++) {
		/* x[] was stored as x */
		snprintf(name, sizeof(name), "%s%s", fm->f[i].name,
		    fm->f[i].array ? "[]" : "");
		json_object_object_add(o, name, json_object_new_string_len(
		    fm->f[i].val, (int)fm->f[i].len));
	}
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	memset(&back, 0, sizeof(back));
	errstr = NULL;
	FUZZ_ASSERT(form_json(&back, t, strlen(t), &errstr) == 0);
	FUZZ_ASSERT(back.n == fm->n);
	for (i = 0; i < fm->n; i++) {
		v = form_get(&back, fm->f[i].name, &len);
		FUZZ_ASSERT(v != NULL && len == fm->f[i].len &&
		    memcmp(v, fm->f[i].val, len) == 0);
	}
	form_free(&back);
	json_object_put(o);
}

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
		roundtrip(&fm);
		/* only a full form refuses a field the query adds */
		rc = form_urlencoded(&fm, "secret=q&ttl=60", 15, &errstr);
		FUZZ_ASSERT(rc == 0 || fm.n == FORM_FIELDS_MAX);
		fuzz_form_check(&fm);
	}
	form_free(&fm);
	return 0;
}
