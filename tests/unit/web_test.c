/*
 * web: every page handler driven directly with a request filled by hand,
 * against a real SQLite file in a private directory and the templates of
 * the source tree: statuses, what each page shows (and what it must not),
 * values HTML-escaped, the 303s after a create and a burn, Retry-After on a
 * busy gate, the failed-passphrase flag, and that GET changes nothing.
 * Also the same-origin rule for form posts.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "request.h"
#include "route.h"
#include "secret.h"
#include "web.h"

#include "fixture.h"

#ifndef OTS_SRCDIR
#error "OTS_SRCDIR: the source tree, for its web/ directory"
#endif

#define SETTINGS \
	"ttl_default = 3600\n" \
	"anon_size_max = 100\n" \
	"passphrase_min = 4\n" \
	"passphrase_lock_after = 2\n" \
	"passphrase_lock_time = 600\n" \
	"passphrase_burn_after = 3\n" \
	"scrypt_max = 1\n"
#define GONE		"This secret is not available"
#define NO_RECEIPT	"Unknown receipt"

static struct fx f;
static struct caller anon;
static struct resp rs;

/* Run page handler h on a request; the status it set. */
static int
call(handler_fn *h, const char *method, const char *path, const char *key,
    const char *form)
{
	struct req r;

	http_resp_free(&rs);
	fx_req(&r, method, path, key, form, fx_time);
	h(&f.x, &anon, &r, &rs);
	http_req_free(&r);
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

/* A page: the status, HTML, and the text it must contain. */
static void
is_page(int status, int want, const char *text, const char *what)
{
	ok(status == want && rs.ctype != NULL &&
	    strcmp(rs.ctype, "text/html; charset=utf-8") == 0,
	    "%s: %d page", what, want);
	if (!ok(has(text), "%s: says \"%s\"", what, text))
		diag("page: %.600s", body());
}

/*
 * A 303 to a receipt, without a body; the receipt's key goes into mkey
 * ("" when the Location is not /private/KEY).
 */
static void
is_see_receipt(int status, char mkey[KEYS_LEN + 1], const char *what)
{
	char loc[128];
	const char *p = fx_header(&rs, "Location", loc, sizeof(loc));

	mkey[0] = '\0';
	if (p != NULL && strncmp(p, "/private/", 9) == 0 &&
	    strlen(p + 9) == KEYS_LEN && keys_valid(p + 9, KEYS_LEN))
		snprintf(mkey, KEYS_LEN + 1, "%s", p + 9);
	is_int(status, 303, "%s: 303", what);
	ok(mkey[0] != '\0', "%s: Location /private/KEY (%s)", what,
	    p ? p : "none");
	is_int((long long)rs.body.len, 0, "%s: no body", what);
}

/* The key after prefix in the page (31 characters), or "". */
static const char *
key_after(const char *prefix, char out[KEYS_LEN + 1])
{
	const char *p = strstr(body(), prefix);

	out[0] = '\0';
	if (p != NULL && strlen(p + strlen(prefix)) >= KEYS_LEN)
		snprintf(out, KEYS_LEN + 1, "%.*s", KEYS_LEN, p + strlen(prefix));
	return out;
}

/* Create value with pass (NULL: none) and ttl (NULL: default). */
static void
create(const char *value, const char *pass, const char *ttl,
    struct secret_made *out)
{
	struct secret_new in;

	memset(&in, 0, sizeof(in));
	in.value = value;
	in.len = strlen(value);
	in.pass = pass;
	in.plen = pass ? strlen(pass) : 0;
	in.ttl = ttl;
	in.ttl_len = ttl ? strlen(ttl) : 0;
	if (secret_create(&f.x, &anon, &in, fx_time, out) != SECRET_OK)
		bail_out("secret_create");
}

/* The stored state of receipt mkey now, or -1. */
static int
state(const char *mkey)
{
	struct store_meta m;
	char skey[KEYS_LEN + 1];

	return secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, &m, skey) ==
	    SECRET_OK ? (int)m.state : -1;
}

static void
is_busy(int status, const char *what)
{
	char num[8];

	is_page(status, 429, "Slow down", what);
	is_str(fx_header(&rs, "Retry-After", num, sizeof(num)), "1",
	    "%s: Retry-After: 1", what);
	is_int(rs.failed_passphrase, 0, "%s: no failed passphrase", what);
}

static void
test_index(void)
{
	is_page(call(web_index, "GET", "/", NULL, NULL), 200,
	    "<form method=\"post\" action=\"/\"", "the index");
	ok(has("maxlength=\"100\""), "the secret's size limit");
	ok(has("<option value=\"3600\" selected>"),
	    "the default lifetime preselected");
	ok(has("<option value=\"604800\"") &&
	    !has("<option value=\"1209600\""),
	    "lifetimes offered up to the anonymous maximum");
	ok(has("autocomplete=\"new-password\">"), "passphrase optional");
	f.cf->passphrase_required = 1;
	call(web_index, "GET", "/", NULL, NULL);
	ok(has("autocomplete=\"new-password\" required>"),
	    "passphrase_required: the field is required");
	f.cf->passphrase_required = 0;
}

static void
test_create(void)
{
	struct store_meta m;
	struct buf value = { 0 };
	char canary[33], form[128], mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1];

	fx_random(canary, 16);
	snprintf(form, sizeof(form), "secret=%s&ttl=3600&action=create",
	    canary);
	is_see_receipt(call(web_create, "POST", "/", NULL, form), mkey,
	    "create");
	ok(memmem(rs.headers, rs.headers_len, canary, strlen(canary)) == NULL,
	    "the value is not in the headers");
	is_int(secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, &m, skey),
	    SECRET_OK, "the Location names a new receipt");
	is_int(m.ttl, 3600, "with the lifetime asked");
	is_int(secret_reveal(&f.x, &anon, skey, KEYS_LEN, NULL, 0, fx_time,
	    &value), SECRET_OK, "its secret reveals");
	is_str(value.data, canary, "the value posted");
	buf_free(&value);

	is_see_receipt(call(web_create, "POST", "/", NULL,
	    "secret=x&recipient=bob%40example.org"), mkey,
	    "a recipient on the page is ignored (no account)");
	ok(secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, &m, skey) ==
	    SECRET_OK && m.recipient[0] == '\0' && m.customer_id == 0,
	    "an anonymous receipt without a recipient");
}

static void
test_create_generate(void)
{
	struct store_meta m;
	struct buf value = { 0 };
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], want[128],
	    held[KEYS_LEN + 1];

	is_page(call(web_create, "POST", "/", NULL,
	    "action=generate&secret=ignored"), 200, "Generated password",
	    "generate");
	key_after("value=\"" FX_BASE "/secret/", skey);
	key_after("<a href=\"" FX_BASE "/private/", mkey);
	ok(keys_valid(skey, strlen(skey)) && strlen(skey) == KEYS_LEN,
	    "the page shows the share link");
	ok(keys_valid(mkey, strlen(mkey)) && strlen(mkey) == KEYS_LEN,
	    "and links the receipt by its full address");
	ok(secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, &m, held) ==
	    SECRET_OK && strcmp(held, skey) == 0,
	    "the receipt is the share link's");
	is_int(secret_reveal(&f.x, &anon, skey, strlen(skey), NULL, 0, fx_time,
	    &value), SECRET_OK, "the share link reveals");
	snprintf(want, sizeof(want), "value=\"%s\" readonly",
	    value.data ? value.data : "(none)");
	ok(value.len == 12 && has(want) && !has("ignored"),
	    "the generated value was shown, the posted secret ignored");
	buf_free(&value);
}

static void
test_create_errors(void)
{
	struct gate *g;
	char big[160];

	is_page(call(web_create, "POST", "/", NULL, "secret=&action=create"),
	    400, "<p class=\"error\" role=\"alert\">You did not provide "
	    "anything to share</p>", "an empty secret");
	ok(has("<form method=\"post\" action=\"/\""), "the form again");
	snprintf(big, sizeof(big), "secret=%0101d", 0);
	is_page(call(web_create, "POST", "/", NULL, big), 413,
	    "Secret value exceeds the maximum size of 100 bytes", "101 bytes");
	is_page(call(web_create, "POST", "/", NULL, "secret=x&passphrase=abc"),
	    400, "Passphrase must be at least 4 characters long",
	    "a short passphrase");
	g = fx_hold_gate(&f);
	is_busy(call(web_create, "POST", "/", NULL, "secret=x&passphrase=abcd"),
	    "create with a passphrase, the gate full");
	fx_release_gate(g);
}

static void
test_secret(void)
{
	struct secret_made plain, guarded;
	char other[KEYS_LEN + 1], action[80], canary[33];
	long long t0 = fx_time;

	keys_new(other);
	is_page(call(web_secret, "GET", "/secret/x", other, NULL), 404, GONE,
	    "an unknown secret");
	fx_random(canary, 16);
	create(canary, NULL, "60", &plain);
	create("w", "abcd", NULL, &guarded);
	snprintf(action, sizeof(action), "action=\"/secret/%s\"", plain.skey);
	is_page(call(web_secret, "GET", "/secret/x", plain.skey, NULL), 200,
	    action, "the confirmation page");
	ok(!has("name=\"passphrase\""), "no passphrase field when none is set");
	ok(!has(canary), "not the value");
	call(web_secret, "HEAD", "/secret/x", plain.skey, NULL);
	is_int(rs.status, 200, "HEAD: 200");
	is_page(call(web_secret, "GET", "/secret/x", guarded.skey, NULL), 200,
	    "name=\"passphrase\"", "with a passphrase: the field");
	is_int(state(plain.mkey), STATE_NEW, "GET and HEAD changed nothing");
	fx_time = t0 + 60;
	is_page(call(web_secret, "GET", "/secret/x", plain.skey, NULL), 404,
	    GONE, "expired");
	fx_time = t0;
	secret_made_clear(&plain);
	secret_made_clear(&guarded);
}

static void
test_reveal(void)
{
	struct store_meta m;
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1];

	is_see_receipt(call(web_create, "POST", "/", NULL,
	    "secret=%3Cb%3E%22it%27s%22+%26+more%3C%2Fb%3E"), mkey,
	    "create a secret holding markup");
	if (secret_receipt(&f.x, mkey, strlen(mkey), fx_time, 0, &m, skey) !=
	    SECRET_OK)
		bail_out("the receipt of a page's secret");
	is_page(call(web_reveal, "POST", "/secret/x", skey, NULL), 200,
	    "&lt;b&gt;&quot;it&#39;s&quot; &amp; more&lt;/b&gt;",
	    "the reveal page, the value escaped");
	ok(!has("<b>"), "no markup of the value's");
	is_page(call(web_reveal, "POST", "/secret/x", skey, NULL), 404, GONE,
	    "a second reveal");
	is_int(state(mkey), STATE_RECEIVED, "the receipt says received");
}

static void
test_file_names(void)
{
	static const struct {
		const char	*in, *want, *what;
	} t[] = {
		{ "report.pdf", "report.pdf", "a plain name" },
		{ "../../etc/passwd", "_._etc_passwd", "a path climbing up" },
		{ "..\\..\\boot.ini", "_._boot.ini", "backslashes" },
		{ "C:\\fakepath\\x.txt", "C__fakepath_x.txt", "a Windows path" },
		{ "a\"b'c.txt", "a_b'c.txt", "a double quote" },
		{ "\xc3\xa9t\xc3\xa9 \xe2\x82\xac.txt", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac.txt",
		    "Unicode kept" },
		{ "a\x01" "b\x7f\tc", "a_b__c", "controls" },
		{ "x\xc2\x85y", "x_y", "a C1 control" },
		{ "evil\xe2\x80\xaegnp.exe", "evil_gnp.exe", "a bidi override" },
		{ "bad\xff\xc3.txt", "bad__.txt", "bytes that are no UTF-8" },
		{ "...hidden", "hidden", "leading dots" },
		{ "  x.txt. . ", "x.txt", "leading spaces, trailing dots" },
		{ "a....b", "a.b", "a run of dots" },
		{ "..", "file", "only dots" },
		{ "", "file", "nothing" },
		{ "<>:|?*", "______", "Windows' reserved" },
	};
	char out[UTIL_FILE_NAME_MAX + 1], big[400];
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = util_file_name(t[i].in, strlen(t[i].in), out);
		is_str(out, t[i].want, "file name: %s", t[i].what);
		is_int((long long)n, (long long)strlen(t[i].want),
		    "file name: %s: its length", t[i].what);
	}
	for (i = 0; i + 3 <= 300; i += 3)
		memcpy(big + i, "\xe2\x82\xac", 3);	/* 100 euro signs */
	n = util_file_name(big, 300, out);
	ok(n <= UTIL_FILE_NAME_MAX && n == 99 && util_utf8_valid(out, n),
	    "a long name: cut to at most %d bytes on a whole character (%zu)",
	    UTIL_FILE_NAME_MAX, n);
}

static void
test_disposition(void)
{
	char cd[WEB_DISPOSITION_MAX], big[UTIL_FILE_NAME_MAX + 1];

	web_disposition("report.pdf", cd);
	is_str(cd, "attachment; filename=\"report.pdf\"; "
	    "filename*=UTF-8''report.pdf", "disposition: a plain name");
	web_disposition("\xc3\xa9t\xc3\xa9 100% a'b;c.txt", cd);
	is_str(cd, "attachment; filename=\"_t_ 100_ a'b;c.txt\"; "
	    "filename*=UTF-8''%C3%A9t%C3%A9%20100%25%20a%27b%3Bc.txt",
	    "disposition: Unicode, %%, quote, ; (ASCII fallback and RFC 8187)");
	memset(big, 'x', UTIL_FILE_NAME_MAX);
	big[UTIL_FILE_NAME_MAX] = '\0';
	web_disposition("a\"b\\c", cd);
	is_str(cd, "attachment; filename=\"a_b_c\"; filename*=UTF-8''a%22b%5Cc",
	    "disposition: a quote and a backslash never break the quoting");
	memset(big, '\xe2', UTIL_FILE_NAME_MAX);
	ok(web_disposition(big, cd) < WEB_DISPOSITION_MAX &&
	    strlen(cd) < WEB_DISPOSITION_MAX, "disposition: bounded");
}

static void
test_reveal_file(void)
{
	struct secret_new in;
	struct secret_made out;
	char data[3000], cd[WEB_DISPOSITION_MAX];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 256);
	memset(&in, 0, sizeof(in));
	in.file = data;
	in.file_len = sizeof(data);
	in.file_name = "../r\xc3\xa9sum\xc3\xa9 \"v2\".bin";
	if (secret_create(&f.x, &anon, &in, fx_time, &out) != SECRET_OK)
		bail_out("secret_create of a file");
	is_page(call(web_secret, "GET", "/secret/x", out.skey, NULL), 200,
	    "View the secret", "a file's confirm page");
	ok(has("your browser downloads it"), "the confirm page says a file "
	    "downloads");
	is_int(call(web_reveal, "POST", "/secret/x", out.skey, NULL), 200,
	    "a file's reveal: 200");
	is_str(rs.ctype, "application/octet-stream", "a file: octet-stream");
	is_str(fx_header(&rs, "Content-Disposition", cd, sizeof(cd)),
	    "attachment; filename=\"_r_sum_ _v2_.bin\"; "
	    "filename*=UTF-8''_r%C3%A9sum%C3%A9%20_v2_.bin",
	    "a file: its sanitised name, as an attachment");
	ok(rs.body.len == sizeof(data) && memcmp(rs.body.data, data,
	    sizeof(data)) == 0, "a file: its bytes, byte-identical");
	is_page(call(web_reveal, "POST", "/secret/x", out.skey, NULL), 404,
	    GONE, "a file's second reveal");
	secret_made_clear(&out);
	call(web_index, "GET", "/", NULL, NULL);
	ok(has("enctype=\"multipart/form-data\"") &&
	    has("type=\"file\"") && has("Largest file: 1 MiB"),
	    "the create page takes a file, up to anon_file_size_max");
}

static void
test_reveal_passphrase(void)
{
	struct secret_made out;
	struct gate *g;
	char pass[17], form[64];

	fx_random(pass, 8);
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	create("guarded value", pass, NULL, &out);
	is_page(call(web_reveal, "POST", "/secret/x", out.skey, NULL), 400,
	    "This secret needs its passphrase.", "no passphrase");
	is_int(rs.failed_passphrase, 0, "a missing passphrase is no failure");
	ok(has("name=\"passphrase\""), "the field to type it");
	g = fx_hold_gate(&f);
	is_busy(call(web_reveal, "POST", "/secret/x", out.skey, form),
	    "reveal, the gate full");
	fx_release_gate(g);
	is_page(call(web_reveal, "POST", "/secret/x", out.skey,
	    "passphrase=wrong"), 400, "That passphrase is not right.",
	    "a wrong passphrase");
	is_int(rs.failed_passphrase, 1, "flagged as a failed passphrase");
	ok(!has("guarded value"), "no value");
	call(web_reveal, "POST", "/secret/x", out.skey, "passphrase=wrong");
	is_page(call(web_reveal, "POST", "/secret/x", out.skey, form), 429,
	    "Too many wrong passphrases", "locked after two");
	is_int(rs.failed_passphrase, 0, "locked is no failure");
	fx_time += 600;
	is_page(call(web_reveal, "POST", "/secret/x", out.skey, form), 200,
	    "guarded value", "the right one after the lock");
	secret_made_clear(&out);
}

static void
test_receipt(void)
{
	struct secret_made out, guarded, short_lived;
	struct buf value = { 0 };
	char link[128], burn_form[96], other[KEYS_LEN + 1];
	long long t0 = fx_time;

	create("v", NULL, NULL, &out);
	snprintf(link, sizeof(link), "value=\"" FX_BASE "/secret/%s\"",
	    out.skey);
	snprintf(burn_form, sizeof(burn_form), "action=\"/private/%s/burn\"",
	    out.mkey);
	is_page(call(web_receipt, "GET", "/private/x", out.mkey, NULL), 200,
	    link, "the receipt shows the share link");
	ok(has("Not yet opened"), "not yet opened");
	ok(has(burn_form), "the burn form");
	ok(!has("Its address:"), "its own address only after a create");
	ok(!has("<dt>Passphrase</dt>"), "no passphrase");
	is_int(state(out.mkey), STATE_NEW, "GET did not mark it viewed");

	create("w", "abcd", NULL, &guarded);
	is_page(call(web_receipt, "GET", "/private/x", guarded.mkey, NULL), 200,
	    "<dt>Passphrase</dt><dd>required</dd>", "with a passphrase");
	ok(has("id=\"burn-passphrase\""), "burning asks for it");

	secret_reveal(&f.x, &anon, out.skey, KEYS_LEN, NULL, 0, fx_time,
	    &value);
	buf_free(&value);
	is_page(call(web_receipt, "GET", "/private/x", out.mkey, NULL), 200,
	    "Opened: the secret is gone", "once revealed");
	ok(has("<dt>Opened</dt>"), "when it was opened");
	ok(!has(out.skey), "no share link any more");
	ok(!has("/burn\""), "no burn form");

	create("x", NULL, "60", &short_lived);
	fx_time = t0 + 60;
	is_page(call(web_receipt, "GET", "/private/x", short_lived.mkey, NULL),
	    200, "Expired: the secret is gone", "expired");
	ok(!has(short_lived.skey), "no share link");
	fx_time = t0;

	keys_new(other);
	is_page(call(web_receipt, "GET", "/private/x", other, NULL), 404,
	    NO_RECEIPT, "an unknown receipt");
	secret_made_clear(&out);
	secret_made_clear(&guarded);
	secret_made_clear(&short_lived);
}

static void
test_burn(void)
{
	struct secret_made out;
	struct store_meta m;
	char mkey[KEYS_LEN + 1], skey[KEYS_LEN + 1], other[KEYS_LEN + 1];

	create("v", NULL, NULL, &out);
	fx_time += 2;
	is_see_receipt(call(web_burn, "POST", "/private/x/burn", out.mkey,
	    NULL), mkey, "burn");
	is_str(mkey, out.mkey, "to its own receipt");
	ok(secret_receipt(&f.x, out.mkey, KEYS_LEN, fx_time, 0, &m, skey) ==
	    SECRET_OK && m.state == STATE_BURNED && m.updated == fx_time,
	    "the receipt is burned, now");
	is_page(call(web_receipt, "GET", "/private/x", out.mkey, NULL), 200,
	    "Burned: the secret is gone", "the receipt page");
	is_page(call(web_burn, "POST", "/private/x/burn", out.mkey, NULL), 200,
	    "Burned: the secret is gone", "burning again shows the receipt");
	keys_new(other);
	is_page(call(web_burn, "POST", "/private/x/burn", other, NULL), 404,
	    NO_RECEIPT, "burn an unknown receipt");
	secret_made_clear(&out);
}

static void
test_burn_passphrase(void)
{
	struct secret_made out;
	struct gate *g;
	char pass[17], form[64], mkey[KEYS_LEN + 1];

	fx_random(pass, 8);
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	create("v", pass, NULL, &out);
	is_page(call(web_burn, "POST", "/private/x/burn", out.mkey,
	    "passphrase=wrong"), 400, "That passphrase is not right.",
	    "burn with a wrong passphrase");
	is_int(rs.failed_passphrase, 1, "flagged as a failed passphrase");
	ok(has("Not yet opened") && has("id=\"burn-passphrase\""),
	    "the receipt again, to try once more");
	is_page(call(web_burn, "POST", "/private/x/burn", out.mkey, NULL), 400,
	    "That passphrase is not right.", "burn without one");
	is_int(rs.failed_passphrase, 0, "a missing one is no failure");
	g = fx_hold_gate(&f);
	is_busy(call(web_burn, "POST", "/private/x/burn", out.mkey, form),
	    "burn, the gate full");
	fx_release_gate(g);
	call(web_burn, "POST", "/private/x/burn", out.mkey, "passphrase=wrong");
	is_page(call(web_burn, "POST", "/private/x/burn", out.mkey, form), 429,
	    "Too many wrong passphrases", "locked after two");
	is_int(state(out.mkey), STATE_NEW, "nothing burned yet");
	fx_time += 600;
	is_see_receipt(call(web_burn, "POST", "/private/x/burn", out.mkey,
	    form), mkey, "the right one after the lock");
	is_int(state(out.mkey), STATE_BURNED, "burned");
	secret_made_clear(&out);
}

/*
 * The failure that reaches passphrase_burn_after burns the secret: the
 * page that answers it shows the secret as it is after the check.
 */
static void
test_burned_by_failures(void)
{
	struct secret_made out;
	char pass[17], form[64];
	long long t0 = fx_time;

	fx_random(pass, 8);
	snprintf(form, sizeof(form), "passphrase=%s", pass);
	create("v", pass, NULL, &out);
	call(web_burn, "POST", "/private/x/burn", out.mkey, "passphrase=wrong");
	call(web_burn, "POST", "/private/x/burn", out.mkey, "passphrase=wrong");
	fx_time = t0 + 600;
	is_page(call(web_burn, "POST", "/private/x/burn", out.mkey,
	    "passphrase=wrong"), 400, "That passphrase is not right.",
	    "the third wrong passphrase on the burn form");
	is_int(state(out.mkey), STATE_BURNED, "burned the secret");
	ok(has("Burned: the secret is gone"), "the receipt says burned");
	ok(!has(out.skey) && !has("/burn\""),
	    "no share link or burn form for a burned secret");

	create("w", pass, NULL, &out);
	call(web_reveal, "POST", "/secret/x", out.skey, "passphrase=wrong");
	call(web_reveal, "POST", "/secret/x", out.skey, "passphrase=wrong");
	fx_time = t0 + 1200;
	is_page(call(web_reveal, "POST", "/secret/x", out.skey,
	    "passphrase=wrong"), 404, GONE,
	    "the third wrong passphrase on the reveal form: gone");
	is_int(rs.failed_passphrase, 1, "still a failed passphrase");
	ok(!has("name=\"passphrase\""), "no field asking for it again");
	is_int(state(out.mkey), STATE_BURNED, "burned the secret");
	secret_made_clear(&out);
}

static void
test_static(void)
{
	struct buf css = { 0 };
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(OTS_SRCDIR "/web/static/ots.css", "r")) == NULL)
		bail_out("ots.css");
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&css, chunk, n);
	fclose(fp);
	is_int(call(web_static, "GET", "/static/ots.css", "ots.css", NULL), 200,
	    "the stylesheet");
	is_str(rs.ctype, "text/css; charset=utf-8", "as CSS");
	ok(css.len > 0 && rs.body.len == css.len &&
	    memcmp(rs.body.data, css.data, css.len) == 0, "the file itself");
	is_page(call(web_static, "GET", "/static/x.css", "x.css", NULL), 404,
	    "There is no page here.", "another name");
	buf_free(&css);
}

static void
test_missing(void)
{
	is_page(call(web_missing, "GET", "/nothing", NULL, NULL), 404,
	    "There is no page here.", "no such page");
}

static void
test_wrong_method(void)
{
	struct req r;

	http_resp_free(&rs);
	fx_req(&r, "PUT", "/private/x", "x", NULL, fx_time);
	snprintf(r.allow, sizeof(r.allow), "GET HEAD");
	web_wrong_method(&f.x, &anon, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 405, "Method not allowed", "a wrong method");
	ok(fx_has_header(&rs, "Allow", "GET HEAD"), "Allow: the methods");
}

static void
test_same_origin(void)
{
	static const struct {
		const char	*site, *origin, *host;
		int		 https, want;
	} t[] = {
		{ NULL, NULL, NULL, 0, 1 },	/* curl */
		{ "same-origin", NULL, "ots.example", 1, 1 },
		{ "none", NULL, "ots.example", 1, 1 },
		{ "same-origin", "null", "ots.example", 1, 1 },
		{ "cross-site", NULL, "ots.example", 1, 0 },
		{ "same-site", NULL, "ots.example", 1, 0 },
		{ NULL, "null", "ots.example", 1, 0 },
		{ NULL, "https://ots.example", "ots.example", 1, 1 },
		{ NULL, "http://ots.example", "ots.example", 1, 0 },
		{ NULL, "https://evil.example", "ots.example", 1, 0 },
		{ NULL, "https://ots.example", NULL, 1, 0 },
	};
	struct req r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.fetch_site = t[i].site;
		r.origin = t[i].origin;
		r.host = t[i].host;
		r.https = t[i].https;
		is_int(web_same_origin(&r), t[i].want,
		    "same origin? Sec-Fetch-Site %s, Origin %s",
		    t[i].site ? t[i].site : "-", t[i].origin ? t[i].origin : "-");
	}
}

/*
 * Below a prefix (base_url with a path): the links, forms and the receipt
 * redirect follow it; the receipt's QR code and copy buttons, and the CSP
 * that lets copy.js run only where it is loaded.
 */
static void
test_prefix(void)
{
	struct secret_made out;
	char loc[128], csp[200], mkey[KEYS_LEN + 1];
	const char *p, *h;
	int n;

	web_set_root(f.web, "https://ots.example/ots/");
	is_str(web_root(f.web), "/ots", "root: base_url's path, no slash");
	is_page(call(web_index, "GET", "/", NULL, NULL), 200,
	    "action=\"/ots/\"", "prefix: the create form");
	ok(has("href=\"/ots/static/ots.css\"") && has("href=\"/ots/\""),
	    "prefix: the stylesheet and the start page below /ots");
	ok(!has("<script"), "start page: no script");
	p = fx_header(&rs, "Content-Security-Policy", csp, sizeof(csp));
	ok(p != NULL && strstr(p, "script-src 'none'") != NULL &&
	    strstr(p, "'self'; script-src 'self'") == NULL,
	    "start page: script-src 'none' (%s)", p ? p : "none");
	call(web_create, "POST", "/", NULL, "secret=x&action=create");
	p = fx_header(&rs, "Location", loc, sizeof(loc));
	ok(p != NULL && strncmp(p, "/ots/private/", 13) == 0 &&
	    strlen(p) == 13 + KEYS_LEN, "prefix: 303 to /ots/private/KEY (%s)",
	    p ? p : "none");
	snprintf(mkey, sizeof(mkey), "%s", p ? p + 13 : "");
	is_page(call(web_receipt, "GET", "/private/", mkey, NULL), 200,
	    "<script src=\"/ots/static/copy.js\"></script>",
	    "prefix: a live receipt loads copy.js");
	ok(has("action=\"/ots/private/") && has("data-copy=\"#link\" "),
	    "prefix: the burn form below /ots; the link's copy button");
	ok(has("role=\"img\"") && has("<path d=\"M4 4h7v1h-7z"),
	    "the QR code: an image whose path starts with the finder's top row");
	p = fx_header(&rs, "Content-Security-Policy", csp, sizeof(csp));
	ok(p != NULL && strstr(p, "script-src 'self'") != NULL && strstr(p,
	    "frame-ancestors 'none'") != NULL,
	    "live receipt: script-src 'self', one policy (%s)", p ? p : "none");
	for (n = 0, h = rs.headers; (h = memmem(h, rs.headers_len -
	    (size_t)(h - rs.headers), "Content-Security-Policy:", 24)) != NULL;
	    h += 24)
		n++;
	ok(n == 1 && memmem(rs.headers, rs.headers_len, "script-src 'none'",
	    17) == NULL, "the policy is replaced, not added (%d)", n);
	create("prefix burn", NULL, NULL, &out);
	call(web_burn, "POST", "/private/burn", out.mkey, "");
	p = fx_header(&rs, "Location", loc, sizeof(loc));
	ok(p != NULL && strncmp(p, "/ots/private/", 13) == 0 &&
	    strcmp(p + 13, out.mkey) == 0, "prefix: burning redirects to "
	    "/ots/private/KEY");
	is_page(call(web_receipt, "GET", "/private/", out.mkey, NULL), 200,
	    "Burned", "burned receipt");
	ok(!has("<script") && !has("role=\"img\""),
	    "burned receipt: no script, no QR code");
	secret_made_clear(&out);
	web_set_root(f.web, "https://ots.example");
	is_str(web_root(f.web), "", "no path: root \"\"");
}

/* web_policy: who may use which page, under each setting. */
static void
test_policy(void)
{
	static const struct {
		const char	*settings;
		unsigned	 flags;
		int		 user;
		const char	*addr;
		int		 want;
	} t[] = {
		/* web_create = anyone (default): the create pages are open */
		{ "", ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "192.0.2.1", 0 },
		{ "", ROUTE_WEB_OWNER, 0, "192.0.2.1", 0 },
		{ "", 0, 0, "192.0.2.1", 0 },
		/* My secrets always needs a web user */
		{ "", ROUTE_WEB_OWNER | ROUTE_WEB_USER, 0, "192.0.2.1", 401 },
		{ "", ROUTE_WEB_OWNER | ROUTE_WEB_USER, 1, "192.0.2.1", 0 },
		/* authenticated: create and receipts need one, reveals not */
		{ "web_create = authenticated\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "192.0.2.1", 401 },
		{ "web_create = authenticated\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 1, "192.0.2.1", 0 },
		{ "web_create = authenticated\n", ROUTE_WEB_OWNER, 0,
		    "192.0.2.1", 401 },
		{ "web_create = authenticated\n", ROUTE_WEB_OWNER, 1,
		    "192.0.2.1", 0 },
		{ "web_create = authenticated\n", ROUTE_PASSPHRASE, 0,
		    "192.0.2.1", 0 },
		/* networks: the create pages from inside only, user or not */
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "10.1.2.3", 0 },
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "127.0.0.1", 0 },
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "127.0.0.2", 403 },
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 1, "11.0.0.1", 403 },
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "::ffff:10.0.0.9", 0 },
		{ "web_create_networks = 10.0.0.0/8 127.0.0.1\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "", 403 },
		/* a reveal is not creating */
		{ "web_create_networks = 10.0.0.0/8\n", ROUTE_PASSPHRASE, 0,
		    "192.0.2.1", 0 },
		{ "web_create_networks =\n", ROUTE_WEB_CREATE, 0,
		    "192.0.2.1", 0 },
		/* both: the network first, then the sign-in */
		{ "web_create = authenticated\n"
		    "web_create_networks = 10.0.0.0/8\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "192.0.2.1", 403 },
		{ "web_create = authenticated\n"
		    "web_create_networks = 10.0.0.0/8\n",
		    ROUTE_WEB_CREATE | ROUTE_WEB_OWNER, 0, "10.0.0.1", 401 },
	};
	char text[512], err[256], desc[256], *nl;
	struct conf *cf;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "database = /d.db\n"
		    "master_key = /k\n%s", t[i].settings);
		if ((cf = conf_parse(text, strlen(text), "t", err,
		    sizeof(err))) == NULL)
			bail_out("conf: %s", err);
		snprintf(desc, sizeof(desc), "%s", t[i].settings);
		while ((nl = strchr(desc, '\n')) != NULL)
			*nl = ';';
		is_int(web_policy(cf, t[i].flags, t[i].user, t[i].addr),
		    t[i].want, "policy %zu: [%s] flags %#x, user %d, from %s",
		    i, desc, t[i].flags, t[i].user, t[i].addr);
		conf_free(cf);
	}
	web_refused(f.web, &rs, 401);
	is_page(rs.status, 401, "Sign-in needed", "refused without a user");
	web_refused(f.web, &rs, 403);
	is_page(rs.status, 403, "own networks", "refused from elsewhere");
	web_no_account(f.web, &rs);
	is_page(rs.status, 403, "No account", "no account for the user");
}

/* A web user's create lands on My secrets; another user's does not. */
static void
test_my(void)
{
	struct caller alice, bob;
	struct secret_new in;
	struct secret_made out;
	struct req r;
	char rkey[KEYS_LEN + 1], mkey3[KEYS_LEN + 1];
	const char *p;
	char mkey[KEYS_LEN + 1], mkey2[KEYS_LEN + 1], path[64];
	int st;

	fx_account(&f, "alice@example.com", CONF_DEFAULT_PLAN, &alice);
	alice.web_user = 1;
	secret_web_token(f.crypto, alice.cust.custid, alice.token);
	fx_account(&f, "bob@example.com", CONF_DEFAULT_PLAN, &bob);
	bob.web_user = 1;
	secret_web_token(f.crypto, bob.cust.custid, bob.token);
	ok(strlen(alice.token) == 64 && strcmp(alice.token, bob.token) != 0,
	    "web tokens: 64 hex digits, one per account");

	http_resp_free(&rs);
	fx_req(&r, "POST", "/", "", "secret=for-alice&ttl=3600", fx_time);
	web_create(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_see_receipt(rs.status, mkey, "a web user's create");
	http_resp_free(&rs);
	fx_req(&r, "POST", "/", "", "secret=two&passphrase=sesame1", fx_time);
	web_create(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_see_receipt(rs.status, mkey2, "a second one, with a passphrase");

	http_resp_free(&rs);
	rs.web_user = alice.cust.custid;
	fx_req(&r, "GET", "/my", "", NULL, fx_time);
	web_my(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 200, "alice@example.com", "My secrets");
	ok(has(mkey) && has(mkey2), "My secrets lists both receipts");
	snprintf(path, sizeof(path), "action=\"/private/%s/burn\"", mkey);
	ok(has(path), "a burn button for the first");
	ok(has("name=\"passphrase\""), "the second's asks for its passphrase");
	ok(has("href=\"/my\""), "the header links My secrets");
	ok(has("Not yet opened") && !has("id=\"none\""), "states shown");
	ok(!has("for-alice"), "no secret value on the page");
	ok(has("<option value=\"none\" selected>"), "notices: none selected");
	ok(has("action=\"/my/request\"") && has("maxlength=\"500\"") &&
	    has("<option value=\"3600\" selected>"),
	    "the form to ask for a secret, the default lifetime selected");

	/* the secret belongs to the account */
	st = secret_receipt(&f.x, mkey, KEYS_LEN, fx_time, 0, &(struct
	    store_meta){ 0 }, (char[KEYS_LEN + 1]){ 0 });
	is_int(st, SECRET_OK, "its receipt opens");

	http_resp_free(&rs);
	fx_req(&r, "GET", "/my", "", NULL, fx_time);
	web_my(&f.x, &bob, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 200, "bob@example.com", "another user's My secrets");
	ok(!has(mkey) && !has(mkey2) && has("id=\"none\""),
	    "lists none of alice's");
	ok(!has("href=\"/my\""), "no header link without rs.web_user");

	/* notices: email needs the mailer's key (the fixture has it?) */
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/notify", "", "notify=webhook", fx_time);
	web_my_notify(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_int(rs.status, 400, "notify=webhook without a webhook: 400");
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/notify", "", "notify=bogus", fx_time);
	web_my_notify(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_int(rs.status, 400, "notify=bogus: 400");
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/notify", "", "notify=email", fx_time);
	web_my_notify(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	if (f.cf->has_mailer_pk) {
		is_int(rs.status, 303, "notify=email: 303 to /my");
		ok(fx_has_header(&rs, "Location", "/my"), "Location /my");
		ok(store_customer_get(f.st, "alice@example.com", &alice.cust)
		    == 1 && alice.cust.notify == NOTIFY_EMAIL,
		    "the account's notices are e-mail now");
	} else {
		is_int(rs.status, 400, "notify=email without a mailer: 400");
		ok(store_customer_get(f.st, "alice@example.com", &alice.cust)
		    == 1 && alice.cust.notify == 0, "notices unchanged");
	}

	/* a request link from My secrets; the answer is listed there */
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/request", "", "note=the+VPN+one&ttl=3600",
	    fx_time);
	web_my_request(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 200, "/request/", "POST /my/request: its link");
	ok((p = strstr(body(), "/request/")) != NULL &&
	    strspn(p + 9, "abcdefghijklmnopqrstuvwxyz0123456789") == KEYS_LEN,
	    "a request key in the link");
	snprintf(rkey, sizeof(rkey), "%.*s", KEYS_LEN, p ? p + 9 : "");
	ok((p = strstr(body(), "/private/")) != NULL, "and its receipt link");
	snprintf(mkey3, sizeof(mkey3), "%.*s", KEYS_LEN, p ? p + 9 : "");
	ok(has("data-copy=\"#link\""), "a copy button for the link");
	memset(&in, 0, sizeof(in));
	in.value = "from-bob";
	in.len = strlen(in.value);
	is_int(request_answer(&f.x, &anon, rkey, strlen(rkey), &in, fx_time,
	    &out), SECRET_OK, "someone answers the request");
	secret_made_clear(&out);
	http_resp_free(&rs);
	fx_req(&r, "GET", "/my", "", NULL, fx_time);
	web_my(&f.x, &alice, &r, &rs);
	http_req_free(&r);
	ok(rs.status == 200 && strlen(mkey3) == KEYS_LEN && has(mkey3),
	    "My secrets lists the answer");
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/request", "", "note=x&notify=all", fx_time);
	web_my_request(&f.x, &bob, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 200, "/request/", "notify is not the form's: "
	    "ignored");
	http_resp_free(&rs);
	fx_req(&r, "POST", "/my/request", "", NULL, fx_time);
	web_my_request(&f.x, &anon, &r, &rs);
	http_req_free(&r);
	is_page(rs.status, 401, "An account is required",
	    "no account: refused with the reason");
	sodium_memzero(&alice, sizeof(alice));
	sodium_memzero(&bob, sizeof(bob));
	rs.web_user = NULL;
}

int
main(void)
{
	fx_open(&f, SETTINGS, OTS_SRCDIR "/web");
	fx_anon(&f, &anon);
	test_index();
	test_create();
	test_create_generate();
	test_create_errors();
	test_secret();
	test_reveal();
	test_file_names();
	test_disposition();
	test_reveal_file();
	test_reveal_passphrase();
	test_receipt();
	test_burn();
	test_burn_passphrase();
	test_burned_by_failures();
	test_static();
	test_missing();
	test_wrong_method();
	test_same_origin();
	test_prefix();
	test_policy();
	test_my();
	http_resp_free(&rs);
	fx_close(&f);
	return done();
}
