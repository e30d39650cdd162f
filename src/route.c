#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api_v1.h"
#include "app.h"
#include "http.h"
#include "metrics.h"
#include "route.h"
#include "web.h"

_Static_assert(R_MAX <= METRICS_ROUTES, "metrics count every route id");

#define API		ROUTE_API
#define CREATE		EV_CREATE_SECRET
#define NONE		EV_MAX
#define WEB_CREATE	(ROUTE_WEB_CREATE | ROUTE_WEB_OWNER)

/*
 * The first row whose path and method match wins; the "recent" rows come
 * before the keyed ones so that GET lists, while POST falls through to the
 * metadata of key "recent".  A HEAD request never counts an event.
 */
static const struct route table[] = {
	{ R_STATUS, "/api/v1/status", "GET HEAD", api_v1_status, NONE, API },
	{ R_AUTHCHECK, "/api/v1/authcheck", "GET HEAD", api_v1_status, NONE,
	    API | ROUTE_ACCOUNT },
	{ R_SHARE, "/api/v1/share", "POST", api_v1_share, CREATE,
	    API | ROUTE_RECIPIENT },
	{ R_SHARE, "/api/v1/create", "POST", api_v1_share, CREATE,
	    API | ROUTE_RECIPIENT },
	{ R_GENERATE, "/api/v1/generate", "POST", api_v1_generate, CREATE,
	    API | ROUTE_RECIPIENT },
	{ R_REVEAL, "/api/v1/secret/*", "POST", api_v1_reveal,
	    EV_SHOW_SECRET, API | ROUTE_PASSPHRASE },
	{ R_RECENT, "/api/v1/private/recent", "GET HEAD", api_v1_recent, NONE,
	    API | ROUTE_ACCOUNT },
	{ R_RECENT, "/api/v1/metadata/recent", "GET HEAD", api_v1_recent, NONE,
	    API | ROUTE_ACCOUNT },
	{ R_RECENT, "/api/v1/receipt/recent", "GET HEAD", api_v1_recent, NONE,
	    API | ROUTE_ACCOUNT },
	{ R_REQUEST, "/api/v1/request", "POST", api_v1_request, CREATE,
	    API | ROUTE_ACCOUNT },
	{ R_METADATA, "/api/v1/private/*", "GET HEAD POST", api_v1_metadata,
	    EV_SHOW_METADATA, API },
	{ R_METADATA, "/api/v1/metadata/*", "GET HEAD POST", api_v1_metadata,
	    EV_SHOW_METADATA, API },
	{ R_METADATA, "/api/v1/receipt/*", "GET HEAD POST", api_v1_metadata,
	    EV_SHOW_METADATA, API },
	{ R_BURN, "/api/v1/private/*/burn", "POST", api_v1_burn,
	    EV_BURN_SECRET, API | ROUTE_PASSPHRASE },
	{ R_BURN, "/api/v1/metadata/*/burn", "POST", api_v1_burn,
	    EV_BURN_SECRET, API | ROUTE_PASSPHRASE },
	{ R_BURN, "/api/v1/receipt/*/burn", "POST", api_v1_burn,
	    EV_BURN_SECRET, API | ROUTE_PASSPHRASE },
	{ R_WEB_INDEX, "/", "GET HEAD", web_index, NONE, WEB_CREATE },
	{ R_WEB_CREATE, "/", "POST", web_create, CREATE, WEB_CREATE },
	{ R_WEB_SECRET, "/secret/*", "GET HEAD", web_secret, NONE, 0 },
	{ R_WEB_REVEAL, "/secret/*", "POST", web_reveal, EV_SHOW_SECRET,
	    ROUTE_PASSPHRASE },
	{ R_WEB_RECEIPT, "/private/*", "GET HEAD", web_receipt, NONE,
	    ROUTE_WEB_OWNER },
	{ R_WEB_BURN, "/private/*/burn", "POST", web_burn, EV_BURN_SECRET,
	    ROUTE_PASSPHRASE | ROUTE_WEB_OWNER },
	{ R_WEB_REQUEST, "/request/*", "GET HEAD", web_request, NONE, 0 },
	{ R_WEB_ANSWER, "/request/*", "POST", web_answer, CREATE, 0 },
	{ R_WEB_MY, "/my", "GET HEAD", web_my, NONE,
	    ROUTE_WEB_OWNER | ROUTE_WEB_USER },
	{ R_WEB_MY_NOTIFY, "/my/notify", "POST", web_my_notify, NONE,
	    ROUTE_WEB_OWNER | ROUTE_WEB_USER },
	{ R_WEB_MY_REQUEST, "/my/request", "POST", web_my_request, CREATE,
	    ROUTE_WEB_OWNER | ROUTE_WEB_USER },
	{ R_STATIC, "/static/*", "GET HEAD", web_static, NONE, ROUTE_OPEN },
	{ R_HEALTHZ, "/healthz", "GET HEAD", app_healthz, NONE,
	    ROUTE_OPEN },
	{ R_READYZ, "/readyz", "GET HEAD", app_readyz, NONE, ROUTE_OPEN },
	{ R_METRICS, "/metrics", "GET HEAD", web_metrics, NONE,
	    ROUTE_OPEN | ROUTE_INTERNAL },
};

static const char *const names[R_MAX] = {
	[R_NOT_FOUND] = "not_found", [R_BAD_METHOD] = "bad_method",
	[R_STATUS] = "status", [R_AUTHCHECK] = "authcheck",
	[R_SHARE] = "share", [R_GENERATE] = "generate",
	[R_REVEAL] = "reveal", [R_METADATA] = "metadata", [R_BURN] = "burn",
	[R_RECENT] = "recent", [R_REQUEST] = "request",
	[R_WEB_INDEX] = "web_index",
	[R_WEB_CREATE] = "web_create", [R_WEB_SECRET] = "web_secret",
	[R_WEB_REVEAL] = "web_reveal", [R_WEB_RECEIPT] = "web_receipt",
	[R_WEB_BURN] = "web_burn", [R_WEB_REQUEST] = "web_request",
	[R_WEB_ANSWER] = "web_answer", [R_STATIC] = "static",
	[R_WEB_MY] = "web_my", [R_WEB_MY_NOTIFY] = "web_my_notify",
	[R_WEB_MY_REQUEST] = "web_my_request",
	[R_HEALTHZ] = "healthz", [R_READYZ] = "readyz",
	[R_METRICS] = "metrics", [R_INVALID] = "invalid",
};

/* What a path that no row takes gets: the API's answers or a page. */
static const struct route api_not_found = { R_NOT_FOUND, NULL, NULL,
	api_v1_not_found, NONE, API | ROUTE_OPEN };
static const struct route api_bad_method = { R_BAD_METHOD, NULL, NULL,
	api_v1_bad_method, NONE, API | ROUTE_OPEN };
static const struct route web_not_found = { R_NOT_FOUND, NULL, NULL,
	web_missing, NONE, ROUTE_OPEN };
static const struct route web_bad_method = { R_BAD_METHOD, NULL, NULL,
	web_wrong_method, NONE, ROUTE_OPEN };

const char *
route_name(enum route_id id)
{
	return names[id];
}

const struct route *
route_not_found(void)
{
	return &web_not_found;
}

/* 1 if path matches pattern (filling the key), else 0. */
static int
match(const char *pattern, const char *path, struct req *r)
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
	if (seg_end == path || strcmp(star + 1, seg_end) != 0)
		return 0;
	r->keylen = (size_t)(seg_end - path);
	memcpy(r->key, path, r->keylen);
	r->key[r->keylen] = '\0';
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

const struct route *
route_match(struct req *r)
{
	size_t i;
	int seen = 0;

	r->key[0] = r->allow[0] = '\0';
	r->keylen = 0;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!match(table[i].pattern, r->path, r))
			continue;
		if (has_method(table[i].methods, r->method))
			return &table[i];
		seen = 1;
		add_methods(r->allow, sizeof(r->allow), table[i].methods);
	}
	r->key[0] = '\0';
	r->keylen = 0;
	if (r->api)
		return seen ? &api_bad_method : &api_not_found;
	return seen ? &web_bad_method : &web_not_found;
}
