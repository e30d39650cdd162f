/*
 * route: every v1 route of the contract, its aliases, wrong methods,
 * unknown paths and the key segment.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "route.h"

#include "tap.h"

#define KEY	"k2m9x0qe8h7r3v6t5b4n1c2w8z7y6u5"

/* Match method and path as http_req_read would have left them in r. */
static const struct route *
match(const char *method, const char *path, struct req *r)
{
	memset(r, 0x55, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->api = strncmp(path, "/api/", 5) == 0;
	return route_match(r);
}

static void
test_table(void)
{
	static const struct {
		const char	*method, *path;
		enum route_id	 id;
		const char	*key;	/* R_BAD_METHOD: Allow */
	} t[] = {
		{ "GET", "/api/v1/status", R_STATUS, "" },
		{ "HEAD", "/api/v1/status", R_STATUS, "" },
		{ "GET", "/api/v1/authcheck", R_AUTHCHECK, "" },
		{ "POST", "/api/v1/share", R_SHARE, "" },
		{ "POST", "/api/v1/create", R_SHARE, "" },
		{ "POST", "/api/v1/generate", R_GENERATE, "" },
		{ "POST", "/api/v1/secret/" KEY, R_REVEAL, KEY },
		{ "GET", "/api/v1/private/" KEY, R_METADATA, KEY },
		{ "POST", "/api/v1/private/" KEY, R_METADATA, KEY },
		{ "HEAD", "/api/v1/private/" KEY, R_METADATA, KEY },
		{ "GET", "/api/v1/metadata/" KEY, R_METADATA, KEY },
		{ "POST", "/api/v1/receipt/" KEY, R_METADATA, KEY },
		{ "POST", "/api/v1/private/" KEY "/burn", R_BURN, KEY },
		{ "POST", "/api/v1/metadata/" KEY "/burn", R_BURN, KEY },
		{ "POST", "/api/v1/receipt/" KEY "/burn", R_BURN, KEY },
		{ "GET", "/api/v1/private/recent", R_RECENT, "" },
		{ "GET", "/api/v1/metadata/recent", R_RECENT, "" },
		{ "GET", "/api/v1/receipt/recent", R_RECENT, "" },
		{ "POST", "/api/v1/private/recent", R_METADATA, "recent" },
		{ "POST", "/api/v1/metadata/recent", R_METADATA, "recent" },
		{ "POST", "/api/v1/private/recent/burn", R_BURN, "recent" },
		{ "GET", "/api/v1/secret/x", R_BAD_METHOD, "POST" },
		{ "GET", "/api/v1/share", R_BAD_METHOD, "POST" },
		{ "PUT", "/api/v1/generate", R_BAD_METHOD, "POST" },
		{ "POST", "/api/v1/status", R_BAD_METHOD, "GET HEAD" },
		{ "DELETE", "/api/v1/private/" KEY, R_BAD_METHOD,
		    "GET HEAD POST" },
		{ "GET", "/api/v1/private/" KEY "/burn", R_BAD_METHOD, "POST" },
		{ "DELETE", "/api/v1/private/recent", R_BAD_METHOD,
		    "GET HEAD POST" },
		{ "get", "/api/v1/status", R_BAD_METHOD, "GET HEAD" },
		{ "POS", "/api/v1/share", R_BAD_METHOD, "POST" },
		{ "POSTS", "/api/v1/share", R_BAD_METHOD, "POST" },
		{ "GET", "/", R_WEB_INDEX, "" },
		{ "HEAD", "/", R_WEB_INDEX, "" },
		{ "POST", "/", R_WEB_CREATE, "" },
		{ "GET", "/secret/" KEY, R_WEB_SECRET, KEY },
		{ "POST", "/secret/" KEY, R_WEB_REVEAL, KEY },
		{ "GET", "/private/" KEY, R_WEB_RECEIPT, KEY },
		{ "POST", "/private/" KEY "/burn", R_WEB_BURN, KEY },
		{ "GET", "/private/" KEY "/burn", R_BAD_METHOD, "POST" },
		{ "DELETE", "/secret/" KEY, R_BAD_METHOD, "GET HEAD POST" },
		{ "GET", "/static/ots.css", R_STATIC, "ots.css" },
		{ "GET", "/secret/", R_NOT_FOUND, "" },
		{ "GET", "/index.html", R_NOT_FOUND, "" },
		{ "GET", "", R_NOT_FOUND, "" },
		{ "GET", "/api/v1", R_NOT_FOUND, "" },
		{ "GET", "/api/v1/", R_NOT_FOUND, "" },
		{ "GET", "/api/v1/nope", R_NOT_FOUND, "" },
		{ "GET", "/api/v2/status", R_NOT_FOUND, "" },
		{ "GET", "/api/v1/status/", R_NOT_FOUND, "" },
		{ "GET", "/api/v1/statusx", R_NOT_FOUND, "" },
		{ "GET", "/API/V1/STATUS", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/secret/", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/secret", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/secret/a/b", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/secret/" KEY "/", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/private//burn", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/private/" KEY "/burn/x", R_NOT_FOUND, "" },
		{ "POST", "/api/v1/private/" KEY "/burnt", R_NOT_FOUND, "" },
		{ "POST", "/x/api/v1/share", R_NOT_FOUND, "" },
	};
	static struct req r;
	enum route_id id;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		id = match(t[i].method, t[i].path, &r)->id;
		if (!ok(id == t[i].id, "%s %s: %s",
		    t[i].method, t[i].path, route_name(t[i].id)))
			diag("got %s", route_name(id));
		if (id == R_BAD_METHOD)
			is_str(r.allow, t[i].key, "  Allow: %s", t[i].key);
		else if (t[i].key[0] != '\0')
			ok(r.keylen == strlen(t[i].key) &&
			    strcmp(r.key, t[i].key) == 0, "  key %s", t[i].key);
		else if (id != R_NOT_FOUND)
			is_int((long long)r.keylen, 0, "  no key");
	}
}

/* A key of n characters under /api/v1/secret/. */
static enum route_id
long_key(size_t n, struct req *r)
{
	static char path[HTTP_PATH_MAX + 64];

	memcpy(path, "/api/v1/secret/", 15);
	memset(path + 15, 'a', n);
	path[15 + n] = '\0';
	return match("POST", path, r)->id;
}

static void
test_limits(void)
{
	static struct req r;

	is_int(long_key(HTTP_PATH_MAX - 15, &r), R_REVEAL,
	    "a key as long as the longest path allows");
	is_int((long long)r.keylen, HTTP_PATH_MAX - 15, "its length");
}

/* Each route's policy, as the request cycle reads it. */
static void
test_policy(void)
{
	static struct req r;
	const struct route *rt;

	rt = match("POST", "/api/v1/share", &r);
	ok(rt->event == EV_CREATE_SECRET && (rt->flags & ROUTE_RECIPIENT) &&
	    (rt->flags & ROUTE_API) && !(rt->flags & ROUTE_ACCOUNT),
	    "share: API, counts create_secret and a recipient");
	rt = match("POST", "/api/v1/secret/" KEY, &r);
	ok(rt->event == EV_SHOW_SECRET && (rt->flags & ROUTE_PASSPHRASE),
	    "reveal: counts show_secret, checks a passphrase");
	rt = match("POST", "/api/v1/receipt/" KEY "/burn", &r);
	ok(rt->event == EV_BURN_SECRET && (rt->flags & ROUTE_PASSPHRASE),
	    "burn: counts burn_secret, checks a passphrase");
	rt = match("GET", "/api/v1/metadata/" KEY, &r);
	ok(rt->event == EV_SHOW_METADATA && !(rt->flags & ROUTE_PASSPHRASE),
	    "receipt: counts show_metadata");
	rt = match("GET", "/api/v1/private/recent", &r);
	ok((rt->flags & ROUTE_ACCOUNT) && rt->event == EV_MAX,
	    "recent needs an account, counts nothing");
	rt = match("GET", "/api/v1/authcheck", &r);
	ok(rt->flags & ROUTE_ACCOUNT, "authcheck needs an account");
	rt = match("GET", "/api/v1/status", &r);
	ok(!(rt->flags & (ROUTE_ACCOUNT | ROUTE_OPEN)) && rt->event == EV_MAX,
	    "status: anonymous, needs the store, counts nothing");
	rt = match("POST", "/", &r);
	ok(!(rt->flags & ROUTE_API) && rt->event == EV_CREATE_SECRET &&
	    !(rt->flags & ROUTE_RECIPIENT), "the create page: counts creates");
	rt = match("POST", "/secret/" KEY, &r);
	ok(!(rt->flags & ROUTE_API) && (rt->flags & ROUTE_PASSPHRASE),
	    "the reveal page checks a passphrase");
	rt = match("GET", "/secret/" KEY, &r);
	ok(rt->event == EV_MAX, "the confirm page counts nothing");
	rt = match("GET", "/static/ots.css", &r);
	ok(rt->flags & ROUTE_OPEN, "static files need no store");
	rt = match("GET", "/api/v1/nothing", &r);
	ok((rt->flags & ROUTE_API) && (rt->flags & ROUTE_OPEN) &&
	    rt->handle != NULL, "unknown API path: the API's answer");
	rt = match("GET", "/nothing", &r);
	ok(!(rt->flags & ROUTE_API) && (rt->flags & ROUTE_OPEN) &&
	    rt->handle != NULL, "unknown page: a page");
	rt = match("DELETE", "/api/v1/share", &r);
	ok(rt->id == R_BAD_METHOD && (rt->flags & ROUTE_API),
	    "wrong method under /api/: the API's answer");
}

/*
 * route_match with an empty method, in a child with an alarm: a method
 * the table cannot hold must still get an answer, never a hang.
 */
static void
test_empty_method(void)
{
	static struct req r;
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		bail_out("fork");
	if (pid == 0) {
		alarm(2);
		_exit(match("", "/api/v1/status", &r)->id == R_BAD_METHOD ?
		    0 : 1);
	}
	waitpid(pid, &st, 0);
	ok(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM),
	    "empty method: route_match returns (no endless loop)");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "empty method on a known path: R_BAD_METHOD");
}

int
main(void)
{
	test_table();
	test_limits();
	test_policy();
	test_empty_method();
	return done();
}
