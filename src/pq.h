/*
 * pq: libpq, loaded when a PostgreSQL database is used, not linked.  libpq
 * brings some twenty libraries (TLS, Kerberos, LDAP) whose loading and
 * relocation cost a plain-CGI request about 9 ms, four times the rest of
 * the program's start-up, and a SQLite database needs none of them.
 * pq_load opens the library once; after it, pq.PQexec(...) and the rest
 * are libpq's functions with their own prototypes.  Load before a sandbox
 * closes the file system (store_load).
 */
#ifndef OTS_PQ_H
#define OTS_PQ_H

#include <stddef.h>

#include <libpq-fe.h>

/* libpq's soname since PostgreSQL 8.2. */
#define PQ_SONAME "libpq.so.5"

#define PQ_FUNCS \
	X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconnectdbParams) \
	X(PQconninfoFree) X(PQconninfoParse) X(PQdb) X(PQerrorMessage) \
	X(PQexec) X(PQexecParams) X(PQexecPrepared) X(PQfformat) \
	X(PQfinish) X(PQfreemem) X(PQftype) X(PQgetisnull) X(PQgetlength) \
	X(PQgetvalue) X(PQhost) X(PQnfields) X(PQntuples) X(PQprepare) \
	X(PQresultErrorField) X(PQresultStatus) X(PQsetNoticeProcessor) \
	X(PQstatus)

struct pq_api {
#define X(f) __typeof__(f) *f;
	PQ_FUNCS
#undef X
};

extern struct pq_api pq;

/* Load libpq (once).  0, or -1 with a message. */
int	pq_load(char *err, size_t errlen);

#endif
