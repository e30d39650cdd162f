/*
 * route: method + path -> handler, by one declared table.  A path that
 * matches no pattern is R_NOT_FOUND; a path that matches with another
 * method is R_BAD_METHOD (the Allow value is returned).
 */
#ifndef OTS_ROUTE_H
#define OTS_ROUTE_H

#include <stddef.h>

#define ROUTE_KEY_MAX	1024

enum route_id {
	R_NOT_FOUND,
	R_BAD_METHOD,
	R_STATUS,
	R_AUTHCHECK,
	R_SHARE,
	R_GENERATE,
	R_REVEAL,
	R_METADATA,
	R_BURN,
	R_RECENT,
	/* the web pages */
	R_WEB_INDEX,
	R_WEB_CREATE,
	R_WEB_SECRET,
	R_WEB_REVEAL,
	R_WEB_RECEIPT,
	R_WEB_BURN,
	R_STATIC,
};

struct route {
	enum route_id	 id;
	char		 key[ROUTE_KEY_MAX + 1];	/* the KEY segment */
	size_t		 keylen;
	char		 allow[32];	/* for R_BAD_METHOD: the methods */
};

/* Match method and path; fills out and returns out->id. */
enum route_id	route_match(const char *method, const char *path,
		    struct route *out);

#endif
