#include "config.h"

#include <stdio.h>

#include "store_engine.h"

/* Placeholder until the PostgreSQL engine lands. */
struct store *
store_pg_open(const char *conninfo, const char *password,
    enum store_role role, char *err, size_t errlen)
{
	(void)conninfo;
	(void)password;
	(void)role;
	snprintf(err, errlen, "PostgreSQL: not built yet");
	return NULL;
}
