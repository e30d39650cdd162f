/*
 * Fuzz keys_valid against its definition: 20..64 characters of
 * [A-Za-z0-9].  Also the generators keep their own syntax.
 */
#include "config.h"

#include <string.h>

#include "keys.h"

#include "fuzz.h"

static int
alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char key[KEYS_LEN + 1];
	size_t i;
	int want;

	want = size >= KEYS_LOOKUP_MIN && size <= KEYS_LOOKUP_MAX;
	for (i = 0; want && i < size; i++)
		want = alnum(data[i]);
	FUZZ_ASSERT(keys_valid((const char *)data, size) == want);
	/* every prefix, so that the length bounds are crossed */
	for (i = 0; i <= size && i <= KEYS_LOOKUP_MAX + 1; i++)
		(void)keys_valid((const char *)data, i);
	if (size == 0) {
		keys_new(key);
		FUZZ_ASSERT(strlen(key) == KEYS_LEN && key[0] != '0');
		FUZZ_ASSERT(keys_valid(key, KEYS_LEN));
	}
	return 0;
}
