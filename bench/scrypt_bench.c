/*
 * scrypt_bench: the cost of one passphrase check alone, with the cost
 * parameters ots uses (src/crypto.h), so bench/run can report passphrase
 * requests per core against this ceiling.  Usage: scrypt_bench SECONDS;
 * prints "<checks> <seconds>" for one thread (one core).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libscrypt.h>

#include "crypto.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	static const char pass[] = "correct horse battery staple";
	uint8_t salt[CRYPTO_SALT_LEN] = { 1, 2, 3, 4 };
	uint8_t out[CRYPTO_PW_LEN];
	double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0, t0, t;
	long n = 0;

	t0 = now();
	do {
		salt[0] = (uint8_t)n;
		if (libscrypt_scrypt((const uint8_t *)pass, sizeof(pass) - 1,
		    salt, sizeof(salt), CRYPTO_SCRYPT_N, CRYPTO_SCRYPT_R,
		    CRYPTO_SCRYPT_P, out, sizeof(out)) != 0) {
			fprintf(stderr, "libscrypt_scrypt failed\n");
			return 1;
		}
		n++;
		t = now() - t0;
	} while (t < secs);
	printf("%ld %.6f\n", n, t);
	return 0;
}
