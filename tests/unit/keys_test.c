/*
 * keys: generated keys, tokens and values, and the lookup syntax check.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "keys.h"

#include "tap.h"

#define DRAWS	2000

static const char lower36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
/* The /generate alphabet of the API contract. */
static const char valuechars[] =
    "abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?(";

/* 1 if s[0..len) uses only characters of alpha (and no NUL). */
static int
only(const char *s, size_t len, const char *alpha)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(alpha, s[i]) == NULL)
			return 0;
	return 1;
}

static void
test_new(void)
{
	char k[KEYS_LEN + 2], prev[KEYS_LEN + 1] = "";
	int seen_first[256] = { 0 }, seen[256] = { 0 };
	int len_ok = 1, alpha_ok = 1, zero_first = 0, repeats = 0;
	int nfirst = 0, nall = 0, i;
	size_t j;

	for (i = 0; i < DRAWS; i++) {
		k[KEYS_LEN + 1] = '#';
		keys_new(k);
		if (strlen(k) != KEYS_LEN || k[KEYS_LEN + 1] != '#')
			len_ok = 0;
		if (!only(k, KEYS_LEN, lower36))
			alpha_ok = 0;
		if (k[0] == '0')
			zero_first++;
		if (strcmp(k, prev) == 0)
			repeats++;
		memcpy(prev, k, sizeof(prev));
		seen_first[(unsigned char)k[0]] = 1;
		for (j = 1; j < KEYS_LEN; j++)
			seen[(unsigned char)k[j]] = 1;
	}
	for (j = 0; j < 256; j++) {
		nfirst += seen_first[j];
		nall += seen[j];
	}
	ok(len_ok, "keys_new: %d keys of exactly %d characters", DRAWS,
	    KEYS_LEN);
	ok(alpha_ok, "keys_new: only [0-9a-z]");
	is_int(zero_first, 0, "keys_new: first character never '0'");
	is_int(nfirst, 35, "keys_new: first character takes all 35 values");
	is_int(nall, 36, "keys_new: other characters take all 36 values");
	is_int(repeats, 0, "keys_new: consecutive keys differ");
	ok(keys_valid(k, strlen(k)), "keys_new output passes keys_valid");
}

static void
test_token(void)
{
	char a[KEYS_TOKEN_LEN + 1], b[KEYS_TOKEN_LEN + 1];

	keys_token(a);
	keys_token(b);
	is_int((long long)strlen(a), KEYS_TOKEN_LEN, "keys_token length");
	ok(only(a, KEYS_TOKEN_LEN, lower36) && only(b, KEYS_TOKEN_LEN,
	    lower36), "keys_token: only [0-9a-z]");
	ok(strcmp(a, b) != 0, "keys_token: two tokens differ");
}

static void
test_value(void)
{
	static const size_t lens[] = { KEYS_VALUE_MIN, KEYS_VALUE_DEFAULT,
	    KEYS_VALUE_MAX };
	char v[KEYS_VALUE_MAX + 2];
	int seen[256] = { 0 }, nseen = 0, alpha_ok = 1, i;
	size_t j;

	for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
		v[lens[j] + 1] = '#';
		keys_value(v, lens[j]);
		ok(strlen(v) == lens[j] && v[lens[j] + 1] == '#',
		    "keys_value(%zu): length and NUL, nothing beyond", lens[j]);
	}
	for (i = 0; i < 100; i++) {
		keys_value(v, KEYS_VALUE_MAX);
		if (!only(v, KEYS_VALUE_MAX, valuechars))
			alpha_ok = 0;
		for (j = 0; j < KEYS_VALUE_MAX; j++)
			seen[(unsigned char)v[j]] = 1;
	}
	for (j = 0; j < 256; j++)
		nseen += seen[j];
	ok(alpha_ok, "keys_value: only the contract's alphabet");
	is_int(nseen, (long long)strlen(valuechars),
	    "keys_value: uses the whole alphabet");
	ok(!seen['l'] && !seen['i'] && !seen['o'] && !seen['0'] && !seen['1'],
	    "keys_value: no look-alikes l i o 0 1");
}

static void
test_valid(void)
{
	char s[KEYS_LOOKUP_MAX + 2];

	memset(s, 'a', sizeof(s));
	is_int(keys_valid(s, 0), 0, "keys_valid: empty");
	is_int(keys_valid(s, KEYS_LOOKUP_MIN - 1), 0, "keys_valid: 19 chars");
	is_int(keys_valid(s, KEYS_LOOKUP_MIN), 1, "keys_valid: 20 chars");
	is_int(keys_valid(s, KEYS_LOOKUP_MAX), 1, "keys_valid: 64 chars");
	is_int(keys_valid(s, KEYS_LOOKUP_MAX + 1), 0, "keys_valid: 65 chars");
	is_int(keys_valid("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", 36), 1,
	    "keys_valid: mixed case and digits");
	is_int(keys_valid("abcdefghij-klmnopqrst", 21), 0, "keys_valid: '-'");
	is_int(keys_valid("abcdefghij_klmnopqrst", 21), 0, "keys_valid: '_'");
	is_int(keys_valid("abcdefghij klmnopqrst", 21), 0, "keys_valid: space");
	is_int(keys_valid("abcdefghij/klmnopqrst", 21), 0, "keys_valid: '/'");
	is_int(keys_valid("abcdefghij.klmnopqrst", 21), 0, "keys_valid: '.'");
	is_int(keys_valid("abcdefghij\0klmnopqrst", 21), 0, "keys_valid: NUL");
	is_int(keys_valid("abcdefghij\xc3\xa9klmnopqrs", 21), 0,
	    "keys_valid: non-ASCII");
	is_int(keys_valid("abcdefghijklmnopqrst%", 20), 1,
	    "keys_valid: only len bytes are checked");
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	test_new();
	test_token();
	test_value();
	test_valid();
	return done();
}
