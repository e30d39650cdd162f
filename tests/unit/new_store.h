/*
 * new_store: a database with the current schema, made as `ots-admin init`
 * makes it (opened as the migrator, migrated), for the unit tests that
 * need a store of their own.
 */
#ifndef OTS_TESTS_NEW_STORE_H
#define OTS_TESTS_NEW_STORE_H

#include "store.h"

static struct store *
new_store(const char *database, char *msg, size_t msglen)
{
	struct store *st;
	int from, to;

	if ((st = store_open(database, NULL, STORE_MIGRATOR, msg, msglen))
	    != NULL && store_migrate(st, &from, &to, msg, msglen) == -1) {
		store_close(st);
		st = NULL;
	}
	return st;
}

#endif
