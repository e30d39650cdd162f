#include "config.h"

#include <string.h>

#include <sodium.h>

#include "keys.h"

static const char lower36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
/* The value alphabet leaves out look-alikes (i, l, o, 0, 1). */
static const char valuechars[] =
    "abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?(";

/*
 * Fill out[0..len) from alpha (n < 256 characters) and end it with a NUL.
 * Random bytes come a buffer at a time (one getrandom, not one per
 * character); a byte at or above the largest multiple of n is dropped, so
 * every character is equally likely.
 */
static void
draw(char *out, size_t len, const char *alpha, size_t n)
{
	unsigned char rnd[128];
	size_t i = 0, j = sizeof(rnd), limit = 256 - 256 % n;

	while (i < len) {
		if (j == sizeof(rnd)) {
			randombytes_buf(rnd, sizeof(rnd));
			j = 0;
		}
		if (rnd[j] < limit)
			out[i++] = alpha[rnd[j] % n];
		j++;
	}
	out[len] = '\0';
	sodium_memzero(rnd, sizeof(rnd));
}

void
keys_new(char out[KEYS_LEN + 1])
{
	draw(out, 1, lower36 + 1, 35);	/* never '0' first */
	draw(out + 1, KEYS_LEN - 1, lower36, 36);
}

void
keys_token(char out[KEYS_TOKEN_LEN + 1])
{
	draw(out, KEYS_TOKEN_LEN, lower36, 36);
}

void
keys_value(char *out, size_t len)
{
	draw(out, len, valuechars, sizeof(valuechars) - 1);
}

int
keys_valid(const char *s, size_t len)
{
	size_t i;

	if (len < KEYS_LOOKUP_MIN || len > KEYS_LOOKUP_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}
