#include "config.h"

#include <stdio.h>
#include <string.h>

#include "route.h"

/*
 * Patterns: an asterisk matches one non-empty segment (the key).  The
 * first row whose path and method match wins; the "recent" rows come
 * before the keyed ones so that GET lists, while POST falls through to
 * the metadata of key "recent".
 */
static const struct {
	const char	*pattern;
	const char	*methods;	/* space-separated */
	enum route_id	 id;
} table[] = {
	{ "/api/v1/status", "GET HEAD", R_STATUS },
	{ "/api/v1/authcheck", "GET HEAD", R_AUTHCHECK },
	{ "/api/v1/share", "POST", R_SHARE },
	{ "/api/v1/create", "POST", R_SHARE },
	{ "/api/v1/generate", "POST", R_GENERATE },
	{ "/api/v1/secret/*", "POST", R_REVEAL },
	{ "/api/v1/private/recent", "GET HEAD", R_RECENT },
	{ "/api/v1/metadata/recent", "GET HEAD", R_RECENT },
	{ "/api/v1/receipt/recent", "GET HEAD", R_RECENT },
	{ "/api/v1/private/*", "GET HEAD POST", R_METADATA },
	{ "/api/v1/metadata/*", "GET HEAD POST", R_METADATA },
	{ "/api/v1/receipt/*", "GET HEAD POST", R_METADATA },
	{ "/api/v1/private/*/burn", "POST", R_BURN },
	{ "/api/v1/metadata/*/burn", "POST", R_BURN },
	{ "/api/v1/receipt/*/burn", "POST", R_BURN },
	{ "/", "GET HEAD", R_WEB_INDEX },
	{ "/", "POST", R_WEB_CREATE },
	{ "/secret/*", "GET HEAD", R_WEB_SECRET },
	{ "/secret/*", "POST", R_WEB_REVEAL },
	{ "/private/*", "GET HEAD", R_WEB_RECEIPT },
	{ "/private/*/burn", "POST", R_WEB_BURN },
	{ "/static/*", "GET HEAD", R_STATIC },
};

/* 1 if path matches pattern (filling the key), else 0. */
static int
match(const char *pattern, const char *path, struct route *out)
{
	const char *star = strchr(pattern, '*'), *seg_end;
	size_t pre;

	if (star == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(star - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return 0;
	path += pre;
	if ((seg_end = strchr(path, '/')) == NULL)
		seg_end = path + strlen(path);
	if (seg_end == path || (size_t)(seg_end - path) > ROUTE_KEY_MAX ||
	    strcmp(star + 1, seg_end) != 0)
		return 0;
	out->keylen = (size_t)(seg_end - path);
	memcpy(out->key, path, out->keylen);
	out->key[out->keylen] = '\0';
	return 1;
}

static int
has_method(const char *list, const char *method)
{
	size_t n = strlen(method);
	const char *p;

	if (n == 0)
		return 0;
	for (p = list; (p = strstr(p, method)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Add the methods of list missing from allow (of size len). */
static void
add_methods(char *allow, size_t len, const char *list)
{
	char m[8];
	size_t n;

	while (*list != '\0') {
		n = strcspn(list, " ");
		snprintf(m, sizeof(m), "%.*s", (int)n, list);
		if (!has_method(allow, m)) {
			n = strlen(allow);
			snprintf(allow + n, len - n, "%s%s", n ? " " : "", m);
		}
		list += strcspn(list, " ");
		list += strspn(list, " ");
	}
}

enum route_id
route_match(const char *method, const char *path, struct route *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->id = R_NOT_FOUND;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!match(table[i].pattern, path, out))
			continue;
		if (has_method(table[i].methods, method)) {
			out->id = table[i].id;
			return out->id;
		}
		out->id = R_BAD_METHOD;
		add_methods(out->allow, sizeof(out->allow), table[i].methods);
	}
	if (out->id == R_BAD_METHOD)
		out->keylen = 0;
	return out->id;
}
