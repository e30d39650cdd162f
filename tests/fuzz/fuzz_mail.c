/*
 * Fuzz mail_address_valid and, for the addresses it accepts,
 * mail_obfuscate: an accepted address never carries what could break an
 * SMTP command or a header, and its obfuscated form fits and has the
 * promised shape (into a generous buffer, and fails cleanly in a small
 * one).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char addr[MAIL_ADDR_MAX + 1], out[MAIL_ADDR_MAX + 32], tiny[12];
	const char *at, *tld;
	size_t n, small;

	if (!mail_address_valid((const char *)data, size))
		return 0;
	FUZZ_ASSERT(size > 0 && size <= MAIL_ADDR_MAX);
	memcpy(addr, data, size);
	addr[size] = '\0';
	FUZZ_ASSERT(strlen(addr) == size);
	FUZZ_ASSERT(strpbrk(addr, "\r\n<>,\"' \t()[]\\;:") == NULL);
	for (n = 0; n < size; n++)
		FUZZ_ASSERT(data[n] > 0x20 && data[n] < 0x7f);
	at = strchr(addr, '@');
	FUZZ_ASSERT(at != NULL && at > addr && strchr(at + 1, '@') == NULL);
	tld = strrchr(addr, '.');
	FUZZ_ASSERT(tld != NULL && tld > at + 1 && tld[1] != '\0');

	FUZZ_ASSERT(mail_obfuscate(addr, out, sizeof(out)) == 0);
	n = strlen(out);
	FUZZ_ASSERT(strstr(out, "*****@") != NULL);
	FUZZ_ASSERT(n >= strlen(tld) && strcmp(out + n - strlen(tld), tld)
	    == 0);
	FUZZ_ASSERT(strncmp(out, addr, (size_t)(at - addr) < 2 ?
	    (size_t)(at - addr) : 2) == 0);
	/* the domain shows its first character only */
	FUZZ_ASSERT(out[strstr(out, "*****@") - out + 6] == at[1]);
	/* every buffer size: fits or fails, never overflows */
	small = (size_t)data[0] % sizeof(tiny);
	FUZZ_ASSERT(mail_obfuscate(addr, tiny, small) == (small > n ? 0 : -1));
	return 0;
}
