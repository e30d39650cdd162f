/*
 * api_v1: TTL clamping, the v1 error response and the common headers; and
 * every v1 handler driven directly with a request filled by hand, against
 * a real SQLite file in a private directory (the fixture's ctx, its clock
 * moved by the tests): statuses, X-OTS-Intended-Status, the JSON bodies
 * (members in the contract's order, error words exactly), Retry-After on a
 * busy gate, and the failed-passphrase flag app.c counts.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "api_v1.h"
#include "http.h"
#include "secret.h"

#include "fixture.h"

#define DAY	86400LL
#define DEF	(7 * DAY)
#define MAX	(7 * DAY)
#define KEY	"k2m9x0qe8h7r3v6t5b4n1c2w8z7y6u5"

static long long
ttl(const char *s)
{
	return secret_ttl(s, s ? strlen(s) : 0, DEF, MAX);
}

static void
test_ttl(void)
{
	static const struct {
		const char	*s;
		long long	 want;
	} t[] = {
		{ NULL, DEF }, { "10", 60 }, { "abc", 60 }, { "-5", 60 },
		{ "0", 60 }, { "", 60 }, { " 100", 60 }, { "100 ", 60 },
		{ "1e3", 60 }, { "59", 60 }, { "60", 60 }, { "61", 61 },
		{ "100", 100 }, { "3600", 3600 }, { "604800", MAX },
		{ "604801", MAX }, { "9223372036854775807", MAX },
		{ "99999999999999999999", 60 },
		{ "-9223372036854775808", 60 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(ttl(t[i].s), t[i].want, "ttl %s%s%s", t[i].s ? "\"" : "",
		    t[i].s ? t[i].s : "missing", t[i].s ? "\"" : "");
	is_int(secret_ttl(NULL, 0, 30 * DAY, MAX), MAX,
	    "a default above the maximum is clamped to the maximum");
	is_int(secret_ttl(NULL, 0, 3600, 30 * DAY), 3600,
	    "a default below the maximum is kept");
	is_int(secret_ttl("2592000", 7, DEF, 30 * DAY), 30 * DAY,
	    "a plan's larger maximum");
	is_int(secret_ttl("100abc", 3, DEF, MAX), 100, "only len bytes count");
}

/* 1 if the extra response headers contain line (with its CRLF). */
static int
has_header(const struct resp *rs, const char *line)
{
	size_t n = strlen(line);
	const char *p = rs->headers;

	return rs->headers_len >= n &&
	    memmem(p, rs->headers_len, line, n) != NULL;
}

static void
test_error(void)
{
	struct resp rs;

	memset(&rs, 0, sizeof(rs));
	api_v1_error(&rs, 400, "You did not provide anything to share", NULL);
	is_int(rs.status, 404, "every v1 error is HTTP 404");
	is_int(rs.intended, 400, "intended status kept");
	ok(has_header(&rs, "X-OTS-Intended-Status: 400\r\n"),
	    "X-OTS-Intended-Status header");
	is_str(rs.ctype, "application/json; charset=utf-8", "JSON type");
	is_str(rs.body.data, "{\"message\":\"You did not provide anything "
	    "to share\"}", "body is {\"message\":...}");
	http_resp_free(&rs);

	api_v1_error(&rs, 404, "Unknown secret", KEY);
	ok(has_header(&rs, "X-OTS-Intended-Status: 404\r\n"), "intended 404");
	is_str(rs.body.data, "{\"secret_key\":\"" KEY "\","
	    "\"message\":\"Unknown secret\"}",
	    "secret_key first, then message");
	http_resp_free(&rs);

	buf_puts(&rs.body, "{\"partial\":");
	api_v1_error(&rs, 413, "a \"quoted\" / message", NULL);
	is_str(rs.body.data, "{\"message\":\"a \\\"quoted\\\" / message\"}",
	    "replaces an earlier body; quotes escaped, '/' plain");
	is_int(rs.intended, 413, "intended 413");
	http_resp_free(&rs);
}

static void
test_headers(void)
{
	static const char *const want[] = {
		"Cache-Control: no-store\r\n",
		"Referrer-Policy: no-referrer\r\n",
		"X-Content-Type-Options: nosniff\r\n",
		"Content-Security-Policy: frame-ancestors 'none'\r\n",
	};
	struct resp rs;
	size_t i;

	memset(&rs, 0, sizeof(rs));
	api_v1_headers(&rs);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ok(has_header(&rs, want[i]), "header %.*s",
		    (int)strcspn(want[i], ":"), want[i]);
	http_resp_free(&rs);
}

/* The v1 handlers against the fixture. */

#define SETTINGS \
	"ttl_default = 3600\n" \
	"anon_size_max = 100\n" \
	"passphrase_lock_after = 2\n" \
	"passphrase_lock_time = 600\n" \
	"scrypt_max = 1\n"

/* The members of the metadata object, in the contract's order, by state. */
#define META_LIVE	"custid,metadata_key,secret_key,ttl,metadata_ttl," \
	"secret_ttl,state,updated,created,recipient,share_domain," \
	"passphrase_required"
#define META_GENERATED	"custid,metadata_key,secret_key,ttl,metadata_ttl," \
	"secret_ttl,state,updated,created,recipient,share_domain,value," \
	"passphrase_required"
#define META_GONE	"custid,metadata_key,secret_key,ttl,metadata_ttl," \
	"secret_ttl,state,updated,created,recipient,share_domain"
#define META_RECEIVED	"custid,metadata_key,ttl,metadata_ttl,state,updated," \
	"created,received,recipient,share_domain"
#define META_RECENT	"custid,metadata_key,ttl,metadata_ttl,secret_ttl," \
	"state,updated,created,recipient,share_domain,passphrase_required"

static struct fx f;
static struct caller anon;
static struct resp rs;
static struct json_object *doc;	/* the last answer, parsed */

/*
 * Run handler h for c on a request; parse its body into doc.  The status.
 * As in app_handle, a response starts as 200: the v1 handlers set only the
 * status of an error.
 */
static int
call_as(handler_fn *h, const struct caller *c, const char *method,
    const char *path, const char *key, const char *form)
{
	struct req r;

	http_resp_free(&rs);
	rs.status = 200;
	json_object_put(doc);
	fx_req(&r, method, path, key, form, fx_time);
	h(&f.x, c, &r, &rs);
	http_req_free(&r);
	doc = json_tokener_parse(rs.body.data ? rs.body.data : "");
	return rs.status;
}

static int
call(handler_fn *h, const char *method, const char *path, const char *key,
    const char *form)
{
	return call_as(h, &anon, method, path, key, form);
}

static const char *
body(void)
{
	return rs.body.data ? rs.body.data : "";
}

/* The X-OTS-Intended-Status header, or NULL. */
static const char *
intended(void)
{
	static char v[16];

	return fx_header(&rs, "X-OTS-Intended-Status", v, sizeof(v));
}

static struct json_object *
member(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, name, &v))
		return NULL;
	return v;
}

/* A string member of o, or NULL (absent, or not a string). */
static const char *
str_of(struct json_object *o, const char *name)
{
	struct json_object *v = member(o, name);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* An integer member of o, or -999 (absent, or not a JSON integer). */
static long long
int_of(struct json_object *o, const char *name)
{
	struct json_object *v = member(o, name);

	return json_object_is_type(v, json_type_int) ?
	    (long long)json_object_get_int64(v) : -999;
}

/* The member names of o in order, comma-separated. */
static const char *
members(struct json_object *o)
{
	static char out[512];
	size_t n = 0;

	out[0] = '\0';
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return "(not an object)";
	json_object_object_foreach(o, name, v) {
		(void)v;
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
		    n ? "," : "", name);
		if (n >= sizeof(out))
			break;
	}
	return out;
}

/* Share form for c and keep its keys; bails out unless it worked. */
static void
share_as(const struct caller *c, const char *form, char mkey[KEYS_LEN + 1],
    char skey[KEYS_LEN + 1])
{
	const char *m, *s;

	if (call_as(api_v1_share, c, "POST", "/api/v1/share", NULL, form) !=
	    200 || (m = str_of(doc, "metadata_key")) == NULL ||
	    (s = str_of(doc, "secret_key")) == NULL)
		bail_out("share %s: %d %s", form, rs.status, body());
	snprintf(mkey, KEYS_LEN + 1, "%s", m);
	snprintf(skey, KEYS_LEN + 1, "%s", s);
}

static void
share(const char *form, char mkey[KEYS_LEN + 1], char skey[KEYS_LEN + 1])
{
	share_as(&anon, form, mkey, skey);
}

static int
reveal(const char *skey, const char *form)
{
	return call(api_v1_reveal, "POST", "/api/v1/secret/x", skey, form);
}

static int
metadata(const char *method, const char *mkey)
{
	return call(api_v1_metadata, method, "/api/v1/private/x", mkey, NULL);
}

static int
burn(const char *mkey, const char *form)
{
	return call(api_v1_burn, "POST", "/api/v1/private/x/burn", mkey, form);
}

/* A v1 error: HTTP 404, the intended status in its header, and body. */
static void
is_error(int status, int want, const char *want_body, const char *what)
{
	char num[8];

	snprintf(num, sizeof(num), "%d", want);
	ok(status == 404 && rs.intended == want &&
	    intended() != NULL && strcmp(intended(), num) == 0,
	    "%s: HTTP 404, intended %d", what, want);
	is_str(body(), want_body, "%s: body", what);
}

static void
test_status(void)
{
	is_int(call(api_v1_status, "GET", "/api/v1/status", NULL, NULL), 200,
	    "status: 200");
	is_str(body(), "{\"status\":\"nominal\",\"locale\":\"en\"}",
	    "status body");
	is_str(rs.ctype, "application/json; charset=utf-8", "status: JSON");
	ok(intended() == NULL, "status: no intended status");
}

static void
test_share(void)
{
	struct json_object *rcpt;
	char canary[33], form[128];

	fx_random(canary, 16);
	snprintf(form, sizeof(form), "secret=%s&ttl=7200", canary);
	is_int(call(api_v1_share, "POST", "/api/v1/share", NULL, form), 200,
	    "share: 200");
	ok(intended() == NULL && rs.intended == 0, "share: no intended status");
	is_str(rs.ctype, "application/json; charset=utf-8", "share: JSON");
	is_str(members(doc), META_LIVE, "share: the metadata members in order");
	is_str(str_of(doc, "custid"), "anon", "custid anon");
	ok(str_of(doc, "metadata_key") != NULL &&
	    keys_valid(str_of(doc, "metadata_key"), KEYS_LEN) &&
	    strlen(str_of(doc, "metadata_key")) == KEYS_LEN, "metadata_key");
	ok(str_of(doc, "secret_key") != NULL &&
	    strlen(str_of(doc, "secret_key")) == KEYS_LEN &&
	    strcmp(str_of(doc, "secret_key"), str_of(doc, "metadata_key")) != 0,
	    "secret_key, another key");
	is_int(int_of(doc, "ttl"), 7200, "ttl as asked, a JSON integer");
	is_int(int_of(doc, "metadata_ttl"), 14400, "metadata_ttl twice that");
	is_int(int_of(doc, "secret_ttl"), 7200, "secret_ttl");
	is_str(str_of(doc, "state"), "new", "state new");
	is_int(int_of(doc, "updated"), fx_time, "updated now");
	is_int(int_of(doc, "created"), fx_time, "created now");
	rcpt = member(doc, "recipient");
	ok(json_object_is_type(rcpt, json_type_array) &&
	    json_object_array_length(rcpt) == 0, "recipient []");
	is_str(str_of(doc, "share_domain"), "", "share_domain \"\"");
	ok(json_object_is_type(member(doc, "passphrase_required"),
	    json_type_boolean) && !json_object_get_boolean(member(doc,
	    "passphrase_required")), "passphrase_required false");
	ok(strstr(body(), canary) == NULL, "the value is not in the answer");
	is_int(fx_mail_rows(&f), 0, "no mail queued");

	call(api_v1_share, "POST", "/api/v1/create", NULL, "secret=x&"
	    "passphrase=abcd");
	ok(json_object_get_boolean(member(doc, "passphrase_required")),
	    "with a passphrase: passphrase_required true");
	call(api_v1_share, "POST", "/api/v1/share", NULL, "secret=x");
	is_int(int_of(doc, "ttl"), 3600, "without ttl: the default");
}

static void
test_share_errors(void)
{
	char big[160];
	struct caller acct;

	is_error(call(api_v1_share, "POST", "/api/v1/share", NULL, "secret="),
	    400, "{\"message\":\"You did not provide anything to share\"}",
	    "an empty secret");
	is_error(call(api_v1_share, "POST", "/api/v1/share", NULL, "ttl=60"),
	    400, "{\"message\":\"You did not provide anything to share\"}",
	    "no secret at all");
	snprintf(big, sizeof(big), "secret=%0101d", 0);
	is_error(call(api_v1_share, "POST", "/api/v1/share", NULL, big), 413,
	    "{\"message\":\"Secret value exceeds the maximum size of 100 "
	    "bytes\"}", "101 bytes");
	is_error(call(api_v1_share, "POST", "/api/v1/share", NULL,
	    "secret=x&recipient=bob%40example.org"), 401,
	    "{\"message\":\"An account is required to send emails.\"}",
	    "anonymous with a recipient");
	fx_account(&f, "errors@example.com", "basic", &acct);
	is_error(call_as(api_v1_share, &acct, "POST", "/api/v1/share", NULL,
	    "secret=x&recipient=bob"), 400,
	    "{\"message\":\"Undeliverable email address: bob\"}",
	    "an invalid recipient");
}

static void
test_share_recipient(void)
{
	struct json_object *rcpt;
	struct caller acct;

	fx_account(&f, "sender@example.com", "basic", &acct);
	is_int(call_as(api_v1_share, &acct, "POST", "/api/v1/share", NULL,
	    "secret=x&recipient=bob%40example.org"), 200,
	    "an account shares with a recipient");
	is_str(str_of(doc, "custid"), "sender@example.com", "the account's custid");
	rcpt = member(doc, "recipient");
	ok(json_object_is_type(rcpt, json_type_array) &&
	    json_object_array_length(rcpt) == 1 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(rcpt, 0)),
	    "bo*****@e*****.org") == 0, "recipient [obfuscated address]");
	is_int(fx_mail_rows(&f), 1, "a message queued");
}

static void
test_share_busy(void)
{
	struct gate *g = fx_hold_gate(&f);
	char num[8];

	is_error(call(api_v1_share, "POST", "/api/v1/share", NULL,
	    "secret=x&passphrase=abcd"), 429,
	    "{\"message\":\"Cripes! You have been rate limited.\"}",
	    "share with a passphrase, the gate full");
	is_str(fx_header(&rs, "Retry-After", num, sizeof(num)), "1",
	    "Retry-After: 1");
	fx_release_gate(g);
}

static void
test_generate(void)
{
	const char *v;
	char skey[KEYS_LEN + 1], want[64];

	is_int(call(api_v1_generate, "POST", "/api/v1/generate", NULL,
	    "secret=ignored"), 200, "generate: 200");
	is_str(members(doc), META_GENERATED,
	    "generate: value after share_domain");
	v = str_of(doc, "value");
	ok(v != NULL && strlen(v) == 12 && strcmp(v, "ignored") != 0,
	    "a value of 12 characters, secret ignored");
	snprintf(want, sizeof(want), "%s", v ? v : "");
	snprintf(skey, sizeof(skey), "%s", str_of(doc, "secret_key") ?
	    str_of(doc, "secret_key") : "");
	is_int(reveal(skey, NULL), 200, "reveal the generated secret");
	is_str(str_of(doc, "value"), want, "it is the generated value");
	call(api_v1_generate, "POST", "/api/v1/generate", NULL, "length=20");
	v = str_of(doc, "value");
	ok(v != NULL && strlen(v) == 20, "length=20: 20 characters");
}

static void
test_reveal(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], canary[33], form[64],
	    want[256];

	fx_random(canary, 16);
	snprintf(form, sizeof(form), "secret=%s", canary);
	share(form, mkey, skey);
	is_int(reveal(skey, NULL), 200, "reveal: 200");
	snprintf(want, sizeof(want), "{\"value\":\"%s\",\"secret_key\":\"%s\","
	    "\"share_domain\":\"" FX_BASE "\"}", canary, skey);
	is_str(body(), want, "reveal: value, secret_key, share_domain");
	ok(intended() == NULL, "reveal: no intended status");
	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", skey);
	is_error(reveal(skey, NULL), 404, want, "a second reveal");
	is_error(reveal("abc", NULL), 404,
	    "{\"secret_key\":\"abc\",\"message\":\"Unknown secret\"}",
	    "a malformed key, named as sent");
	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", mkey);
	is_error(reveal(mkey, NULL), 404, want, "a metadata key");
}

/* Quotes, backslashes, control characters and "</" survive the trip. */
static void
test_reveal_escaping(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1];

	share("secret=a%22b%5Cc%0Ad%09e%01f%3C%2Fg%C3%A9", mkey, skey);
	is_int(reveal(skey, NULL), 200, "reveal a value that needs escaping");
	ok(doc != NULL, "the answer is JSON");
	is_str(str_of(doc, "value"), "a\"b\\c\nd\te\001f</g\xc3\xa9",
	    "the value parses back as it was");
	ok(strstr(body(), "\\u0001") != NULL && strstr(body(), "</g") != NULL,
	    "control characters as \\u00XX, '/' plain");
}

/* The largest value, every byte escaped six-fold, reveals whole. */
static void
test_reveal_largest(void)
{
	struct caller acct;
	struct buf form = { 0 };
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], want[10001];
	const char *v;
	int i;

	fx_account(&f, "large@example.com", "basic", &acct);
	buf_puts(&form, "secret=");
	for (i = 0; i < 10000; i++)
		buf_puts(&form, "%01");
	memset(want, 1, 10000);
	want[10000] = '\0';
	share_as(&acct, form.data, mkey, skey);
	is_int(reveal(skey, NULL), 200, "reveal 10000 bytes that need escaping");
	v = str_of(doc, "value");
	ok(v != NULL && strcmp(v, want) == 0, "the whole value parses back");
	buf_free(&form);
}

static void
test_reveal_passphrase(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], pass[17], form[64],
	    unknown[128], num[8];
	struct gate *g;

	fx_random(pass, 8);
	snprintf(form, sizeof(form), "secret=guarded&passphrase=%s", pass);
	share(form, mkey, skey);
	snprintf(unknown, sizeof(unknown), "{\"secret_key\":\"%s\","
	    "\"message\":\"Unknown secret\"}", skey);
	is_error(reveal(skey, NULL), 404, unknown, "no passphrase");
	is_int(rs.failed_passphrase, 0, "a missing passphrase is no failure");
	is_error(reveal(skey, "passphrase="), 404, unknown, "an empty one");
	is_int(rs.failed_passphrase, 0, "nor is an empty one");

	g = fx_hold_gate(&f);
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	is_error(reveal(skey, form), 429,
	    "{\"message\":\"Cripes! You have been rate limited.\"}",
	    "the gate full");
	is_str(fx_header(&rs, "Retry-After", num, sizeof(num)), "1",
	    "Retry-After: 1");
	is_int(rs.failed_passphrase, 0, "busy is no failure");
	fx_release_gate(g);

	is_error(reveal(skey, "passphrase=wrong"), 404, unknown,
	    "a wrong passphrase: unknown secret to a v1 client");
	is_int(rs.failed_passphrase, 1, "flagged as a failed passphrase");
	is_error(reveal(skey, "passphrase=wrong"), 404, unknown,
	    "a second wrong one");
	is_error(reveal(skey, form), 429, unknown,
	    "then locked: unknown secret, intended 429");
	is_int(rs.failed_passphrase, 0, "locked is no failure");
	fx_time += 600;
	is_int(reveal(skey, form), 200, "after the lock, the right one");
	is_str(str_of(doc, "value"), "guarded", "reveals");
}

static void
test_metadata(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], canary[33], form[64],
	    want[128];
	long long t0 = fx_time;

	fx_random(canary, 16);
	snprintf(form, sizeof(form), "secret=%s&ttl=3600", canary);
	share(form, mkey, skey);
	fx_time = t0 + 5;
	is_int(metadata("HEAD", mkey), 200, "HEAD the receipt");
	is_int(metadata("GET", mkey), 200, "GET the receipt");
	is_str(members(doc), META_LIVE, "the metadata members in order");
	is_str(str_of(doc, "state"), "new",
	    "the first fetch says new (HEAD did not mark it)");
	is_str(str_of(doc, "secret_key"), skey, "it names the secret key");
	is_str(str_of(doc, "metadata_key"), mkey, "and its own");
	is_int(int_of(doc, "secret_ttl"), 3595, "secret_ttl left");
	is_int(int_of(doc, "metadata_ttl"), 7195, "metadata_ttl left");
	is_int(int_of(doc, "created"), t0, "created");
	is_int(metadata("POST", mkey), 200, "fetch it again (POST)");
	is_str(str_of(doc, "state"), "viewed", "now viewed");
	is_int(int_of(doc, "updated"), t0 + 5, "updated when first fetched");
	ok(strstr(body(), canary) == NULL, "never the value");

	fx_time = t0 + 9;
	reveal(skey, NULL);
	is_int(metadata("GET", mkey), 200, "the receipt once revealed");
	is_str(members(doc), META_RECEIVED,
	    "received: no secret_key, secret_ttl or passphrase_required");
	is_str(str_of(doc, "state"), "received", "state received");
	is_int(int_of(doc, "received"), t0 + 9, "received then");
	ok(strstr(body(), canary) == NULL && strstr(body(), skey) == NULL,
	    "neither the value nor the secret key");

	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", skey);
	is_error(metadata("GET", skey), 404, want,
	    "a secret key names no receipt");
	is_error(call(api_v1_metadata, "POST", "/api/v1/private/recent",
	    "recent", NULL), 404,
	    "{\"secret_key\":\"recent\",\"message\":\"Unknown secret\"}",
	    "POST .../recent is the receipt of key \"recent\"");
}

static void
test_metadata_expired(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1];
	long long t0 = fx_time;

	share("secret=x&ttl=60&passphrase=abcd", mkey, skey);
	fx_time = t0 + 61;
	is_int(metadata("GET", mkey), 200, "an expired secret's receipt");
	is_str(members(doc), META_GONE, "no passphrase_required once gone");
	is_str(str_of(doc, "state"), "expired", "state expired");
	is_str(str_of(doc, "secret_key"), "", "secret_key \"\"");
	ok(member(doc, "secret_ttl") == NULL && strstr(body(),
	    "\"secret_ttl\":null") != NULL, "secret_ttl null");
	is_int(int_of(doc, "metadata_ttl"), 59, "metadata_ttl left");
}

static void
test_burn(void)
{
	struct json_object *st;
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], want[128], shortkey[9];
	long long t0 = fx_time;

	share("secret=x", mkey, skey);
	fx_time = t0 + 3;
	is_int(burn(mkey, NULL), 200, "burn: 200");
	is_str(members(doc), "state,secret_shortkey", "state, secret_shortkey");
	snprintf(shortkey, sizeof(shortkey), "%.8s", skey);
	is_str(str_of(doc, "secret_shortkey"), shortkey,
	    "the first 8 characters of the secret key");
	st = member(doc, "state");
	is_str(members(st), META_GONE, "state: the metadata object");
	is_str(str_of(st, "state"), "burned", "burned");
	is_str(str_of(st, "secret_key"), "", "secret_key \"\"");
	ok(member(st, "secret_ttl") == NULL &&
	    strstr(body(), "\"secret_ttl\":null") != NULL, "secret_ttl null");
	is_int(int_of(st, "updated"), t0 + 3, "updated at the burn");
	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", mkey);
	is_error(burn(mkey, NULL), 404, want, "a second burn");
	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", skey);
	is_error(reveal(skey, NULL), 404, want, "nothing left to reveal");

	share("secret=x", mkey, skey);
	reveal(skey, NULL);
	snprintf(want, sizeof(want), "{\"secret_key\":\"%s\",\"message\":"
	    "\"Unknown secret\"}", mkey);
	is_error(burn(mkey, NULL), 404, want, "burn a received secret");
}

static void
test_burn_passphrase(void)
{
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], pass[17], form[64],
	    num[8];
	struct gate *g;

	fx_random(pass, 8);
	snprintf(form, sizeof(form), "secret=x&passphrase=%s", pass);
	share(form, mkey, skey);
	is_error(burn(mkey, "passphrase=wrong"), 400,
	    "{\"message\":\"Incorrect passphrase\"}", "burn, wrong passphrase");
	is_int(rs.failed_passphrase, 1, "flagged as a failed passphrase");
	is_error(burn(mkey, NULL), 400, "{\"message\":\"Incorrect passphrase\"}",
	    "burn without one");
	is_int(rs.failed_passphrase, 0, "a missing one is no failure");
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	g = fx_hold_gate(&f);
	is_error(burn(mkey, form), 429,
	    "{\"message\":\"Cripes! You have been rate limited.\"}",
	    "burn with the gate full");
	is_str(fx_header(&rs, "Retry-After", num, sizeof(num)), "1",
	    "Retry-After: 1");
	fx_release_gate(g);
	is_int(burn(mkey, form), 200, "burn with the right one");
	is_str(str_of(member(doc, "state"), "state"), "burned", "burned");
}

static void
test_recent(void)
{
	struct json_object *item;
	struct caller alice, bob;
	char a1[KEYS_LEN + 1], a2[KEYS_LEN + 1], b1[KEYS_LEN + 1],
	    n1[KEYS_LEN + 1], skey[KEYS_LEN + 1];
	size_t i;
	int good;

	fx_account(&f, "alice@example.com", "basic", &alice);
	fx_account(&f, "bob@example.com", "basic", &bob);
	share_as(&alice, "secret=x", a1, skey);
	fx_time++;
	share_as(&alice, "secret=y&passphrase=abcd", a2, skey);
	share_as(&bob, "secret=z", b1, skey);
	share("secret=n", n1, skey);
	fx_time++;
	is_int(call_as(api_v1_recent, &alice, "GET", "/api/v1/private/recent",
	    NULL, NULL), 200, "recent: 200");
	good = json_object_is_type(doc, json_type_array);
	ok(good && json_object_array_length(doc) == 2,
	    "alice has two receipts");
	for (i = 0; good && i < json_object_array_length(doc); i++) {
		item = json_object_array_get_idx(doc, i);
		if (strcmp(members(item), META_RECENT) != 0 ||
		    str_of(item, "custid") == NULL ||
		    strcmp(str_of(item, "custid"), "alice@example.com") != 0)
			good = 0;
	}
	ok(good, "each: her metadata object without secret_key");
	ok(good && json_object_array_length(doc) == 2 &&
	    strcmp(str_of(json_object_array_get_idx(doc, 0), "metadata_key"),
	    a2) == 0 && strcmp(str_of(json_object_array_get_idx(doc, 1),
	    "metadata_key"), a1) == 0, "newest first");
	is_int(call_as(api_v1_recent, &bob, "GET", "/api/v1/private/recent",
	    NULL, NULL), 200, "bob's recent");
	ok(json_object_is_type(doc, json_type_array) &&
	    json_object_array_length(doc) == 1 &&
	    strcmp(str_of(json_object_array_get_idx(doc, 0), "metadata_key"),
	    b1) == 0, "bob has his one");
}

static void
test_not_found(void)
{
	is_error(call(api_v1_not_found, "GET", "/api/v1/nothing", NULL, NULL),
	    404, "{\"message\":\"Not Found\"}", "not found");
}

static void
test_bad_method(void)
{
	struct req r;

	http_resp_free(&rs);
	rs.status = 200;
	fx_req(&r, "DELETE", "/api/v1/share", NULL, NULL, fx_time);
	snprintf(r.allow, sizeof(r.allow), "POST");
	api_v1_bad_method(&f.x, &anon, &r, &rs);
	http_req_free(&r);
	is_error(rs.status, 405, "{\"message\":\"Method Not Allowed\"}",
	    "wrong method");
	ok(fx_has_header(&rs, "Allow", "POST"), "Allow: the route's methods");
}

static void
test_handlers(void)
{
	fx_open(&f, SETTINGS, NULL);
	fx_anon(&f, &anon);
	test_status();
	test_share();
	test_share_errors();
	test_share_recipient();
	test_share_busy();
	test_generate();
	test_reveal();
	test_reveal_escaping();
	test_reveal_largest();
	test_reveal_passphrase();
	test_metadata();
	test_metadata_expired();
	test_burn();
	test_burn_passphrase();
	test_recent();
	test_not_found();
	test_bad_method();
	json_object_put(doc);
	http_resp_free(&rs);
	fx_close(&f);
}

int
main(void)
{
	test_ttl();
	test_error();
	test_headers();
	test_handlers();
	return done();
}
