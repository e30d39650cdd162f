#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mail.h"

/* atext of RFC 5322 less the quote characters, which we refuse. */
static int
local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&*+/=?^_`{|}~-",
	    c) != NULL);
}

static int
ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
mail_address_valid(const char *s, size_t len)
{
	const char *at, *dom, *end = s + len, *label;
	size_t i, n, labels = 0;
	int alpha;

	if (len == 0 || len > MAIL_ADDR_MAX ||
	    (at = memchr(s, '@', len)) == NULL || at == s ||
	    at - s > 64 || memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
		return 0;
	/* dot-atom: no leading, trailing or doubled dot */
	for (i = 0; s + i < at; i++) {
		if (s[i] == '.') {
			if (i == 0 || s + i + 1 == at || s[i + 1] == '.')
				return 0;
		} else if (!local_char(s[i]))
			return 0;
	}
	for (dom = label = at + 1; ; dom++) {
		if (dom == end || *dom == '.') {
			n = (size_t)(dom - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    label[n - 1] == '-')
				return 0;
			labels++;
			if (dom == end)
				break;
			label = dom + 1;
		} else if (!ldh(*dom))
			return 0;
	}
	/* the last label is the top-level domain: letters only */
	for (alpha = 1, i = 0; label + i < end; i++)
		if (!((label[i] >= 'a' && label[i] <= 'z') ||
		    (label[i] >= 'A' && label[i] <= 'Z')))
			alpha = 0;
	return labels >= 2 && alpha && end - label >= 2;
}

int
mail_obfuscate(const char *addr, char *out, size_t outlen)
{
	const char *at = strchr(addr, '@'), *tld = strrchr(addr, '.');
	int n;

	if (at == NULL || tld == NULL || tld < at)
		return -1;
	n = snprintf(out, outlen, "%.*s*****@%c*****%s",
	    at - addr < 2 ? (int)(at - addr) : 2, addr, at[1], tld);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
