/*
 * app: the request cycle end to end through a fake adapter (CGI variables
 * and a body in memory), on a real SQLite file in a private directory: the
 * policy the route table carries, applied by app_handle before a handler
 * runs: an account for ROUTE_ACCOUNT, cross-site form posts refused before
 * anything is counted, rate limits (429 with Retry-After), HEAD without a
 * body and without counting, and a passphrase reserved on the
 * failed_passphrase counter and given back unless it failed.
 *
 * The app reads the real clock, so the rate-limit checks record what they
 * see and assert it only once they know a 20-minute window did not turn
 * in the middle (which would start the counts again); if it did, the
 * block runs again, from new client addresses.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "app.h"
#include "limits.h"
#include "secret.h"

#include "fixture.h"

#ifndef OTS_SRCDIR
#error "OTS_SRCDIR: the source tree, for its web/ directory"
#endif

#define SETTINGS \
	"web_dir = " OTS_SRCDIR "/web\n" \
	"limit.create_secret = 2\n" \
	"limit.show_metadata = 2\n" \
	"limit.failed_passphrase = 2\n"
#define LIMITED		"{\"message\":\"Cripes! You have been rate limited.\"}"
#define NOT_AUTHORIZED	"{\"message\":\"Not authorized\"}"

static struct fx f;
static struct app *app;
static struct resp rs;
static char client[CTX_ADDR_MAX + 1];	/* REMOTE_ADDR of the requests */

/* The fake adapter: CGI variables as name/value pairs, a body. */
static struct fake {
	const char	*env[48];
	size_t		 n;
	const char	*body;
	size_t		 len, off;
} fk;

static const char *
fake_getenv(void *arg, const char *name)
{
	const struct fake *k = arg;
	size_t i;

	for (i = 0; i + 1 < k->n; i += 2)
		if (strcmp(k->env[i], name) == 0)
			return k->env[i + 1];
	return NULL;
}

static long
fake_read(void *arg, char *dst, size_t len, int ms)
{
	struct fake *k = arg;
	size_t n = k->len - k->off;

	(void)ms;
	if (n > len)
		n = len;
	memcpy(dst, k->body + k->off, n);
	k->off += n;
	return (long)n;
}

static void
add(const char *name, const char *value)
{
	if (fk.n + 2 > sizeof(fk.env) / sizeof(fk.env[0]))
		bail_out("too many CGI variables");
	fk.env[fk.n++] = name;
	fk.env[fk.n++] = value;
}

/*
 * Serve method path from client, with a urlencoded body form (NULL: none)
 * and more CGI variables as name, value pairs up to a NULL.  The status.
 */
static int
serve(const char *method, const char *path, const char *form, ...)
{
	struct http_io io = { &fk, fake_getenv, fake_read };
	static char clen[24];
	const char *name;
	va_list ap;

	memset(&fk, 0, sizeof(fk));
	add("REQUEST_METHOD", method);
	add("PATH_INFO", path);
	add("REMOTE_ADDR", client);
	if (form != NULL) {
		snprintf(clen, sizeof(clen), "%zu", strlen(form));
		add("CONTENT_TYPE", "application/x-www-form-urlencoded");
		add("CONTENT_LENGTH", clen);
		fk.body = form;
		fk.len = strlen(form);
	}
	va_start(ap, form);
	while ((name = va_arg(ap, const char *)) != NULL)
		add(name, va_arg(ap, const char *));
	va_end(ap);
	http_resp_free(&rs);
	app_handle(app, &io, &rs);
	return rs.status;
}

static const char *
body(void)
{
	return rs.body.data ? rs.body.data : "";
}

static int
has(const char *s)
{
	return strstr(body(), s) != NULL;
}

/* Retry-After as a number, or -1. */
static long long
retry_after(void)
{
	char v[24];
	long long n;

	if (fx_header(&rs, "Retry-After", v, sizeof(v)) == NULL ||
	    util_strtoll(v, strlen(v), 0, INT64_MAX, &n) == -1)
		return -1;
	return n;
}

/* http_resp_write's writer into a buffer. */
static int
to_buf(void *arg, const void *p, size_t n)
{
	return buf_add(arg, p, n);
}

/* A Retry-After that points into the next 20-minute window. */
static int
retry_ok(long long n)
{
	return n >= 1 && n <= LIMITS_WINDOW;
}

/* The Authorization header of caller c, into out. */
static const char *
basic(const struct caller *c, char *out, size_t len)
{
	char pair[600];
	int n;

	n = snprintf(pair, sizeof(pair), "%s:%s", c->cust.custid, c->token);
	snprintf(out, len, "Basic ");
	sodium_bin2base64(out + 6, len - 6, (unsigned char *)pair, (size_t)n,
	    sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* A member of the JSON body, or "" (the body parsed for the asking). */
static const char *
jstr(const char *name, char *out, size_t len)
{
	struct json_object *o = json_tokener_parse(body()), *v;

	out[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, name, &v))
		snprintf(out, len, "%s", json_object_get_string(v));
	json_object_put(o);
	return out;
}

/* A v1 error as app_handle answers it. */
static void
is_error(int status, int want, const char *want_body, const char *what)
{
	ok(status == 404 && rs.intended == want, "%s: HTTP 404, intended %d",
	    what, want);
	is_str(body(), want_body, "%s: body", what);
}

/*
 * Run block (which records what it sees, never asserts) until it ran
 * within one rate-limit window; attempt numbers the runs, for new client
 * addresses.
 */
static void
in_one_window(void (*block)(int attempt))
{
	long long w;
	int i;

	for (i = 0; i < 3; i++) {
		w = (long long)time(NULL) / LIMITS_WINDOW;
		block(i);
		if ((long long)time(NULL) / LIMITS_WINDOW == w)
			return;
		diag("a rate-limit window turned during the block: again");
	}
	bail_out("three windows turned in a row");
}

/* Create a secret straight in the store the app serves. */
static void
create(const char *value, const char *pass, struct secret_made *out)
{
	struct secret_new in;
	struct caller anon;

	memset(&in, 0, sizeof(in));
	in.value = value;
	in.len = strlen(value);
	in.pass = pass;
	in.plen = pass ? strlen(pass) : 0;
	fx_anon(&f, &anon);
	fx_time = (long long)time(NULL);
	if (secret_create(&f.x, &anon, &in, fx_time, out) != SECRET_OK)
		bail_out("secret_create");
}

static void
test_share_reveal(void)
{
	char canary[33], form[128], skey[KEYS_LEN + 1], value[64], path[80];

	snprintf(client, sizeof(client), "192.0.2.5");
	fx_random(canary, 16);
	snprintf(form, sizeof(form), "secret=%s", canary);
	is_int(serve("POST", "/api/v1/share", form, NULL), 200,
	    "share through the request cycle");
	ok(fx_has_header(&rs, "Cache-Control", "no-store") &&
	    fx_has_header(&rs, "Referrer-Policy", "no-referrer") &&
	    fx_has_header(&rs, "X-Content-Type-Options", "nosniff") &&
	    fx_has_header(&rs, "Content-Security-Policy",
	    "frame-ancestors 'none'"), "the headers of every v1 answer");
	is_int(rs.head_only, 0, "POST: a body");
	snprintf(path, sizeof(path), "/api/v1/secret/%s",
	    jstr("secret_key", skey, sizeof(skey)));
	is_int(serve("POST", path, NULL, NULL), 200, "reveal it");
	is_str(jstr("value", value, sizeof(value)), canary, "the value");
	snprintf(form, sizeof(form), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", skey);
	is_error(serve("POST", path, NULL, NULL), 404, form, "a second reveal");
}

static void
test_account_routes(void)
{
	struct caller alice, forged;
	char auth[512];

	snprintf(client, sizeof(client), "192.0.2.6");
	fx_account(&f, "alice@example.com", "basic", &alice);
	is_error(serve("GET", "/api/v1/private/recent", NULL, NULL), 401,
	    NOT_AUTHORIZED, "recent without Authorization");
	is_error(serve("GET", "/api/v1/authcheck", NULL, NULL), 401,
	    NOT_AUTHORIZED, "authcheck without Authorization");
	is_int(serve("GET", "/api/v1/private/recent", NULL,
	    "HTTP_AUTHORIZATION", basic(&alice, auth, sizeof(auth)), NULL), 200,
	    "recent with the account's token");
	is_str(body(), "[]", "an empty list");
	is_int(serve("GET", "/api/v1/authcheck", NULL, "HTTP_AUTHORIZATION",
	    auth, NULL), 200, "authcheck with it");
	is_str(body(), "{\"status\":\"nominal\",\"locale\":\"en\"}",
	    "authcheck's answer");
	forged = alice;
	keys_token(forged.token);
	is_error(serve("GET", "/api/v1/private/recent", NULL,
	    "HTTP_AUTHORIZATION", basic(&forged, auth, sizeof(auth)), NULL),
	    401, NOT_AUTHORIZED, "recent with a wrong token");
	is_error(serve("GET", "/api/v1/status", NULL, "HTTP_AUTHORIZATION",
	    "Basic !!!", NULL), 401, NOT_AUTHORIZED,
	    "a malformed header is refused, not anonymous");
	is_int(serve("GET", "/api/v1/status", NULL, NULL), 200,
	    "no header: anonymous");
}

static void
test_head(void)
{
	struct secret_made out;
	struct store_meta m;
	struct buf wire = { 0 };
	char path[80], skey[KEYS_LEN + 1];

	snprintf(client, sizeof(client), "192.0.2.7");
	is_int(serve("HEAD", "/api/v1/status", NULL, NULL), 200, "HEAD status");
	is_int(rs.head_only, 1, "the response is marked head only");
	http_resp_write(&rs, to_buf, &wire);
	ok(wire.len > 4 && memcmp(wire.data + wire.len - 4, "\r\n\r\n", 4) == 0
	    && strstr(wire.data, "nominal") == NULL,
	    "written without a body");
	buf_free(&wire);
	serve("GET", "/api/v1/status", NULL, NULL);
	is_int(rs.head_only, 0, "GET is not");
	http_resp_write(&rs, to_buf, &wire);
	ok(wire.data != NULL && strstr(wire.data, "nominal") != NULL,
	    "GET is written with its body");
	buf_free(&wire);

	create("v", NULL, &out);
	snprintf(path, sizeof(path), "/api/v1/private/%s", out.mkey);
	is_int(serve("HEAD", path, NULL, NULL), 200, "HEAD a receipt");
	ok(secret_receipt(&f.x, out.mkey, KEYS_LEN, fx_time, 0, &m, skey) ==
	    SECRET_OK && m.state == STATE_NEW, "HEAD did not mark it viewed");
	is_int(serve("HEAD", "/", NULL, NULL), 200, "HEAD the index page");
	ok(rs.head_only && rs.body.len > 0, "head only (the length still known)");
	secret_made_clear(&out);
}

/* What the metadata-limit block saw. */
static struct {
	int	heads[3], gets[2], third, intended;
	char	body[128];
	long long retry;
} md;

static void
metadata_block(int attempt)
{
	struct secret_made out;
	char path[80];
	int i;

	snprintf(client, sizeof(client), "192.0.2.%d", 100 + attempt);
	create("v", NULL, &out);
	snprintf(path, sizeof(path), "/api/v1/private/%s", out.mkey);
	for (i = 0; i < 3; i++)
		md.heads[i] = serve("HEAD", path, NULL, NULL);
	for (i = 0; i < 2; i++)
		md.gets[i] = serve("GET", path, NULL, NULL);
	md.third = serve("GET", path, NULL, NULL);
	md.intended = rs.intended;
	snprintf(md.body, sizeof(md.body), "%s", body());
	md.retry = retry_after();
	secret_made_clear(&out);
}

/* show_metadata is limited to 2: HEADs do not count, GETs do. */
static void
test_rate_limit(void)
{
	in_one_window(metadata_block);
	ok(md.heads[0] == 200 && md.heads[1] == 200 && md.heads[2] == 200,
	    "three HEADs of a receipt");
	ok(md.gets[0] == 200 && md.gets[1] == 200,
	    "then two GETs: HEAD counted nothing");
	ok(md.third == 404 && md.intended == 429,
	    "a third GET: HTTP 404, intended 429");
	is_str(md.body, LIMITED, "rate-limited message");
	ok(retry_ok(md.retry), "Retry-After %lld: until the next window",
	    md.retry);
}

/* What the cross-site block saw. */
static struct {
	int	cross[3], same[2], third;
	int	refused, slow;
	long long retry;
} xs;

static void
cross_site_block(int attempt)
{
	int i;

	snprintf(client, sizeof(client), "192.0.2.%d", 110 + attempt);
	xs.refused = 1;
	for (i = 0; i < 3; i++) {
		xs.cross[i] = serve("POST", "/", "secret=x", "HTTP_HOST",
		    "ots.example", "HTTP_ORIGIN", "https://evil.example",
		    "HTTP_SEC_FETCH_SITE", "cross-site", NULL);
		xs.refused &= has("Form refused");
	}
	for (i = 0; i < 2; i++)
		xs.same[i] = serve("POST", "/", "secret=x", "HTTP_HOST",
		    "ots.example", "HTTP_ORIGIN", "https://ots.example",
		    "HTTPS", "on", NULL);
	xs.third = serve("POST", "/", "secret=x", NULL);
	xs.slow = has("Slow down");
	xs.retry = retry_after();
}

/* create_secret is limited to 2; another site's posts cost nothing. */
static void
test_cross_site(void)
{
	in_one_window(cross_site_block);
	ok(xs.cross[0] == 403 && xs.cross[1] == 403 && xs.cross[2] == 403,
	    "three posts from another site: 403");
	ok(xs.refused, "the page says the form was refused");
	ok(xs.same[0] == 303 && xs.same[1] == 303,
	    "then two of our own: created (the refused ones were not counted)");
	is_int(xs.third, 429, "a third: 429");
	ok(xs.slow, "the page says slow down");
	ok(retry_ok(xs.retry), "Retry-After %lld", xs.retry);
}

/* What the passphrase block saw. */
static struct {
	int	right[3], wrong[2], limited, limited_intended, plain, elsewhere;
	int	values;
	long long retry;
} pp;

static void
passphrase_block(int attempt)
{
	struct secret_made s[4], plain;
	char pass[17], form[64], wrong[17], path[80], v[64];
	int i;

	fx_random(pass, 8);
	fx_random(wrong, 8);
	for (i = 0; i < 4; i++)
		create("guarded", pass, &s[i]);
	create("plain", NULL, &plain);
	snprintf(client, sizeof(client), "192.0.2.%d", 120 + attempt);
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	pp.values = 1;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/api/v1/secret/%s", s[i].skey);
		pp.right[i] = serve("POST", path, form, NULL);
		pp.values &= strcmp(jstr("value", v, sizeof(v)), "guarded") == 0;
	}
	snprintf(path, sizeof(path), "/api/v1/secret/%s", s[3].skey);
	snprintf(form, sizeof(form), "passphrase=%s", wrong);
	for (i = 0; i < 2; i++)
		pp.wrong[i] = serve("POST", path, form, NULL) == 404 &&
		    rs.intended == 404 && rs.failed_passphrase;
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	pp.limited = serve("POST", path, form, NULL);
	pp.limited_intended = rs.intended;
	pp.retry = retry_after();
	snprintf(path, sizeof(path), "/api/v1/secret/%s", plain.skey);
	pp.plain = serve("POST", path, NULL, NULL);
	snprintf(client, sizeof(client), "192.0.2.%d", 130 + attempt);
	snprintf(path, sizeof(path), "/api/v1/secret/%s", s[3].skey);
	pp.elsewhere = serve("POST", path, form, NULL);
	for (i = 0; i < 4; i++)
		secret_made_clear(&s[i]);
	secret_made_clear(&plain);
}

/*
 * failed_passphrase is limited to 2: every passphrase is reserved on that
 * counter before it is checked, and given back when it was right.
 */
static void
test_passphrase_reservation(void)
{
	in_one_window(passphrase_block);
	ok(pp.right[0] == 200 && pp.right[1] == 200 && pp.right[2] == 200,
	    "three right passphrases in a row: each reservation given back");
	ok(pp.values, "each revealed its value");
	ok(pp.wrong[0] && pp.wrong[1], "two wrong ones: unknown secret, failed");
	ok(pp.limited == 404 && pp.limited_intended == 429,
	    "then even the right one is rate limited (intended 429)");
	ok(retry_ok(pp.retry), "Retry-After %lld", pp.retry);
	is_int(pp.plain, 200, "a reveal without a passphrase is not limited");
	is_int(pp.elsewhere, 200,
	    "the limited try consumed nothing: another client reveals it");
}

/* GET /metrics: the exposition for metrics_allow (loopback), else the
 * pages' 404 as for any unknown path. */
static void
test_metrics(void)
{
	struct buf missing = { 0 };
	static const char *const inside[] = { "127.0.0.1", "127.8.9.10",
	    "::1", "::ffff:127.0.0.1" };
	static const char *const outside[] = { "192.0.2.9", "::2",
	    "::ffff:192.0.2.9", "" };
	size_t i;

	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		snprintf(client, sizeof(client), "%s", inside[i]);
		ok(serve("GET", "/metrics", NULL, NULL) == 200 &&
		    rs.ctype != NULL && strcmp(rs.ctype,
		    "text/plain; version=0.0.4; charset=utf-8") == 0 &&
		    has("\nots_secrets_created_total ") &&
		    has("\nots_store_up 1\n"), "%s: the exposition", inside[i]);
	}
	snprintf(client, sizeof(client), "127.0.0.1");
	ok(serve("HEAD", "/metrics", NULL, NULL) == 200 && rs.head_only,
	    "HEAD /metrics");
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(client, sizeof(client), "%s", outside[i]);
		serve("GET", "/no/such/page", NULL, NULL);
		buf_free(&missing);
		buf_puts(&missing, body());
		ok(serve("GET", "/metrics", NULL, NULL) == 404 &&
		    strcmp(body(), missing.data) == 0 &&
		    strcmp(rs.ctype, "text/plain; version=0.0.4; "
		    "charset=utf-8") != 0, "\"%s\": the pages' 404",
		    outside[i]);
	}
	buf_free(&missing);
}

/*
 * The web user: REMOTE_USER only with web_remote_user (never a header),
 * an account made on first use unless web_auto_account = no, and the
 * pages web_create and web_create_networks close.
 */
static void
test_web_user(void)
{
	struct conf *cf = f.cf;
	struct store_customer cu;
	char loc[128], path[64];
	const char *A = "Dora@Example.com";

	snprintf(client, sizeof(client), "127.0.0.1");
	is_int(serve("GET", "/my", NULL, "REMOTE_USER", A, NULL), 401,
	    "web_remote_user = no: REMOTE_USER is not trusted");
	ok(has("Sign-in needed"), "the page says sign in");
	is_int(store_customer_get(f.st, "dora@example.com", &cu), 0,
	    "no account made");
	is_int(serve("GET", "/", NULL, "REMOTE_USER", A, NULL), 200,
	    "the create page stays open (web_create = anyone)");
	ok(!has("href=\"/my\""), "no My secrets link: nobody signed in");

	cf->web_remote_user = 1;
	is_int(serve("GET", "/my", NULL, "HTTP_REMOTE_USER", A, NULL), 401,
	    "a Remote-User header is not REMOTE_USER");
	is_int(serve("GET", "/my", NULL, "REMOTE_USER", A, NULL), 200,
	    "web_remote_user = yes: My secrets");
	ok(has("dora@example.com") && has("href=\"/my\""),
	    "named, lower-cased, with the header link");
	ok(store_customer_get(f.st, "dora@example.com", &cu) == 1 &&
	    strcmp(cu.plan, CONF_DEFAULT_PLAN) == 0,
	    "an account made on first use, on the default plan");
	is_int(serve("GET", "/my", NULL, "REMOTE_USER", "dora", NULL), 403,
	    "a name that is not an address: refused");
	ok(has("No account"), "the page says so");

	cf->web_create_auth = 1;
	is_int(serve("GET", "/", NULL, NULL), 401,
	    "web_create = authenticated: the create page needs a user");
	is_int(serve("POST", "/", "secret=x", NULL), 401,
	    "and so does a create");
	is_int(serve("POST", "/", "secret=mine&ttl=3600", "REMOTE_USER", A,
	    NULL), 303, "a web user creates");
	if (fx_header(&rs, "Location", loc, sizeof(loc)) == NULL)
		loc[0] = '\0';
	is_int(serve("GET", loc, NULL, NULL), 401,
	    "the receipt needs a user");
	is_int(serve("GET", loc, NULL, "REMOTE_USER", A, NULL), 200,
	    "the web user's receipt");
	is_int(serve("GET", "/my", NULL, "REMOTE_USER", A, NULL), 200,
	    "My secrets");
	ok(strlen(loc) > 9 && has(loc + 9), "lists the new receipt");
	snprintf(path, sizeof(path), "%s/burn", loc);
	is_int(serve("POST", path, "", NULL), 401, "burn needs a user");
	is_int(serve("POST", path, "", "REMOTE_USER", A, NULL), 303,
	    "the web user burns it");
	is_int(serve("GET", "/secret/abc", NULL, NULL), 404,
	    "a secret's page stays public (404: no such secret, not 401)");

	cf->web_auto_account = 0;
	is_int(serve("GET", "/", NULL, "REMOTE_USER", "carol@example.com",
	    NULL), 403, "web_auto_account = no: an unknown user is refused");
	ok(has("No account"), "the page says there is no account");
	is_int(store_customer_get(f.st, "carol@example.com", &cu), 0,
	    "and none is made");
	is_int(serve("GET", "/", NULL, "REMOTE_USER", A, NULL), 200,
	    "an existing account still signs in");

	cf->web_create_networks = strdup("10.0.0.0/8");
	is_int(serve("GET", "/", NULL, "REMOTE_USER", A, NULL), 403,
	    "web_create_networks: 127.0.0.1 is outside 10.0.0.0/8");
	ok(has("own networks"), "the page says why");
	snprintf(client, sizeof(client), "10.9.8.7");
	is_int(serve("GET", "/", NULL, "REMOTE_USER", A, NULL), 200,
	    "from 10.9.8.7: allowed");
	free(cf->web_create_networks);
	cf->web_create_networks = NULL;
	cf->web_create_auth = 0;
	cf->web_remote_user = 0;
	cf->web_auto_account = 1;
}

int
main(void)
{
	char err[512];

	fx_open(&f, SETTINGS, NULL);
	fx_time = (long long)time(NULL);	/* the app reads the real clock */
	if ((app = app_open(f.cf, 0, err, sizeof(err))) == NULL)
		bail_out("app_open: %s", err);
	test_share_reveal();
	test_account_routes();
	test_head();
	test_rate_limit();
	test_cross_site();
	test_passphrase_reservation();
	test_metrics();
	test_web_user();
	http_resp_free(&rs);
	app_close(app);
	fx_close(&f);
	return done();
}
