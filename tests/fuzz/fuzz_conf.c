/*
 * Fuzz conf_parse: the input is a whole configuration file.  A parsed
 * configuration must satisfy what the rest of the program relies on; a
 * refused one must say where.
 */
#include "config.h"

#include <string.h>

#include "conf.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c;
	char err[256];
	size_t i, n;

	err[0] = '\0';
	c = conf_parse((const char *)data, size, "fuzz.conf", err,
	    sizeof(err));
	if (c == NULL) {
		FUZZ_ASSERT(strncmp(err, "fuzz.conf", 9) == 0);
		return 0;
	}
	FUZZ_ASSERT(c->database != NULL && *c->database != '\0');
	FUZZ_ASSERT(c->master_key != NULL && *c->master_key != '\0');
	FUZZ_ASSERT(c->base_url != NULL && c->mail_from != NULL &&
	    c->smtp_host != NULL);
	n = strlen(c->base_url);
	FUZZ_ASSERT(n == 0 || c->base_url[n - 1] != '/');
	FUZZ_ASSERT(strchr(c->mail_from, '@') != NULL);
	FUZZ_ASSERT(c->passphrase_min <= c->passphrase_max);
	FUZZ_ASSERT(c->ttl_default >= 60 && c->anon_ttl_max >= 60);
	FUZZ_ASSERT(c->body_max >= 1024);
	FUZZ_ASSERT(c->nplans >= 1 && c->nplans <= CONF_PLANS_MAX);
	FUZZ_ASSERT(c->nproxies <= CONF_PROXIES_MAX);
	FUZZ_ASSERT(conf_plan(c, CONF_DEFAULT_PLAN) != NULL);
	for (i = 0; i < c->nplans; i++) {
		n = strlen(c->plans[i].name);
		FUZZ_ASSERT(n > 0 && n <= CONF_PLAN_NAME_MAX);
		FUZZ_ASSERT(conf_plan(c, c->plans[i].name) == &c->plans[i]);
		FUZZ_ASSERT(c->plans[i].ttl_max >= 60 &&
		    c->plans[i].size_max >= 1);
	}
	for (i = 0; i < c->nproxies; i++)
		FUZZ_ASSERT(c->proxies[i] != NULL && *c->proxies[i] != '\0');
	for (i = 0; i < EV_MAX; i++)
		FUZZ_ASSERT(c->limits[i] >= 0);
	conf_free(c);
	return 0;
}
