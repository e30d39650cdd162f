#include "config.h"

#include <string.h>

#include <sodium.h>

#include "keys.h"

static const char lower36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
/* The value alphabet leaves out look-alikes (i, l, o, 0, 1). */
static const char valuechars[] =
    "abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?(";

/* randombytes_uniform is unbiased: it rejects out-of-range draws. */
static void
draw(char *out, size_t len, const char *alpha, size_t n)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = alpha[randombytes_uniform((uint32_t)n)];
	out[len] = '\0';
}

void
keys_new(char out[KEYS_LEN + 1])
{
	out[0] = lower36[1 + randombytes_uniform(35)];
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
