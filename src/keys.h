/*
 * keys: random identifiers and values drawn from the OS CSPRNG
 * (libsodium's randombytes), and the syntax check for keys on lookup.
 */
#ifndef OTS_KEYS_H
#define OTS_KEYS_H

#include <stddef.h>

#define KEYS_LEN	31	/* metadata_key, secret_key: [0-9a-z], ~160 bits */
#define KEYS_TOKEN_LEN	40	/* API tokens: [0-9a-z], ~206 bits */
#define KEYS_LOOKUP_MIN	20
#define KEYS_LOOKUP_MAX	64
#define KEYS_VALUE_DEFAULT 12	/* /generate */
#define KEYS_VALUE_MIN	4
#define KEYS_VALUE_MAX	128

/* Fill out with a new key of KEYS_LEN characters and a NUL; the first
 * character is never '0'. */
void	keys_new(char out[KEYS_LEN + 1]);

/* Fill out with a new API token of KEYS_TOKEN_LEN characters and a NUL. */
void	keys_token(char out[KEYS_TOKEN_LEN + 1]);

/* Fill out[0..len) with a generated password and a NUL (out holds len+1). */
void	keys_value(char *out, size_t len);

/* 1 if s[0..len) may name a key: [A-Za-z0-9], length 20..64; else 0. */
int	keys_valid(const char *s, size_t len);

#endif
