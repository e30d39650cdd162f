/*
 * form: urlencoded, multipart and JSON parameters, with the same rules
 * for every encoding (x[] is x, the first value wins, UTF-8 without NUL).
 */
#include "config.h"

#include <string.h>

#include "form.h"
#include "util.h"

#include "tap.h"

static struct form fm;
static const char *errstr;

enum enc { URL, JSON };

/* Parse s into the (emptied) form: 0 or -1. */
static int
parse(enum enc e, const char *s)
{
	form_free(&fm);
	errstr = NULL;
	if (e == URL)
		return form_urlencoded(&fm, s, strlen(s), &errstr);
	return form_json(&fm, s, strlen(s), &errstr);
}

/* Parse a multipart body sent with Content-Type ctype: 0 or -1. */
static int
multipart(const char *ctype, const char *body)
{
	form_free(&fm);
	errstr = NULL;
	return form_multipart(&fm, ctype, body, strlen(body), &errstr);
}

/* The value of name, or NULL. */
static const char *
get(const char *name)
{
	return form_get(&fm, name, NULL);
}

/* Refused, with a message for the client. */
static void
refused(int rc, const char *what)
{
	ok(rc == -1 && errstr != NULL && *errstr != '\0', "refused: %s", what);
}

/* Refused with exactly the message msg. */
static void
refused_as(int rc, const char *msg, const char *what)
{
	ok(rc == -1 && errstr != NULL && strcmp(errstr, msg) == 0,
	    "refused (%s): %s", msg, what);
	if (rc != -1 || errstr == NULL || strcmp(errstr, msg) != 0)
		diag("got %d, %s", rc, errstr != NULL ? errstr : "no message");
}

static void
test_urlencoded(void)
{
	struct buf b = { 0 };
	size_t len;
	int i;

	is_int(parse(URL, "a=1&b=two+words&c=%41%62%2b%26%3d"), 0,
	    "urlencoded parses");
	is_int((long long)fm.n, 3, "three fields");
	is_str(get("a"), "1", "plain value");
	is_str(get("b"), "two words", "'+' is a space");
	is_str(get("c"), "Ab+&=", "%%XX escapes, either case");
	ok(get("d") == NULL, "absent name is NULL");

	is_int(parse(URL, "v=x%26y%3Dz&w=a=b"), 0, "values with & and =");
	ok(form_get(&fm, "v", &len) != NULL && len == 5, "length of x&y=z");
	is_str(get("v"), "x&y=z", "escaped & and = kept in the value");
	is_str(get("w"), "a=b", "the first '=' splits name from value");

	ok(parse(URL, "s=%C3%A9%E2%82%AC") == 0 &&
	    form_get(&fm, "s", &len) != NULL && len == 5,
	    "escaped UTF-8 accepted, length in bytes");
	is_int(parse(URL, "name[]=x&name[]=y"), 0, "array parameter");
	ok(fm.n == 1 && strcmp(fm.f[0].name, "name") == 0, "name[] is name");
	is_str(get("name"), "x", "first array value counts");
	refused(parse(URL, "a=1&a=2"), "a plain name repeated in one source");
	refused(parse(URL, "b[]=3&b=4"), "b[] then b in one source");
	refused(parse(URL, "b=4&b[]=3"), "b then b[] in one source");

	is_int(parse(URL, ""), 0, "empty input");
	is_int((long long)fm.n, 0, "no fields from empty input");
	is_int(parse(URL, "&&a=1&&"), 0, "empty pairs skipped");
	is_str(get("a"), "1", "value among empty pairs");
	is_int(parse(URL, "flag&=v&x="), 0, "name without '=' and empty name");
	ok(form_get(&fm, "flag", &len) != NULL && len == 0, "flag is empty");
	ok(form_get(&fm, "x", &len) != NULL && len == 0, "x= is empty");
	is_int((long long)fm.n, 2, "the empty name is skipped");

	refused(parse(URL, "a=%zz"), "bad escape %zz");
	refused(parse(URL, "a=%4"), "short escape %4");
	refused(parse(URL, "a=%"), "trailing %");
	refused(parse(URL, "a=1&b=x%"), "trailing % after a good pair");
	refused(parse(URL, "%zz=1"), "bad escape in a name");
	refused(parse(URL, "a=%00"), "%00");
	refused(parse(URL, "a%00b=1"), "%00 in a name");
	refused(parse(URL, "a=%C3"), "truncated UTF-8");
	refused(parse(URL, "a=%C0%AF"), "overlong UTF-8");
	refused(parse(URL, "a=%ED%A0%80"), "escaped surrogate");
	refused(parse(URL, "a=\xff"), "raw byte FF");
	errstr = NULL;
	refused(form_urlencoded(&fm, "a=b\0c", 5, &errstr), "raw NUL");

	for (i = 0; i < FORM_FIELDS_MAX; i++)
		buf_printf(&b, "%sf%d=%d", i ? "&" : "", i, i);
	is_int(parse(URL, b.data), 0, "FORM_FIELDS_MAX fields");
	is_int((long long)fm.n, FORM_FIELDS_MAX, "all of them kept");
	buf_puts(&b, "&one=more");
	refused(parse(URL, b.data), "one field too many");
	buf_free(&b);
	for (i = 0; i < FORM_NAME_MAX; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "=1");
	is_int(parse(URL, b.data), 0, "name of FORM_NAME_MAX bytes");
	buf_free(&b);
	buf_puts(&b, "y");
	for (i = 0; i < FORM_NAME_MAX; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "=1");
	refused(parse(URL, b.data), "name of FORM_NAME_MAX + 1 bytes");
	buf_free(&b);

	/* the body is parsed first, then the query: the body wins */
	form_free(&fm);
	form_urlencoded(&fm, "secret=body", 11, &errstr);
	form_urlencoded(&fm, "secret=query&ttl=60", 19, &errstr);
	is_str(get("secret"), "body", "earlier source wins");
	is_str(get("ttl"), "60", "later source adds new names");
	form_free(&fm);
	form_urlencoded(&fm, "r[]=1&r[]=2", 11, &errstr);
	is_int(form_urlencoded(&fm, "r=3", 3, &errstr), 0,
	    "a name of an earlier source is no duplicate");
	is_str(get("r"), "1", "earlier array value wins over the query");
	form_free(&fm);
	ok(fm.n == 0 && get("secret") == NULL, "form_free empties the form");
}

#define BOUNDARY "------------------------d74496d6"
#define CTYPE	"multipart/form-data; boundary=" BOUNDARY
#define DELIM	"--" BOUNDARY

static void
test_multipart(void)
{
	/* what curl -F 'secret=...' -F 'ttl=3600' -F 'f=@a.txt' sends */
	static const char curl[] =
	    DELIM "\r\n"
	    "Content-Disposition: form-data; name=\"secret\"\r\n"
	    "\r\n"
	    "line one\r\nline two & three\r\n"
	    DELIM "\r\n"
	    "Content-Disposition: form-data; name=\"ttl\"\r\n"
	    "\r\n"
	    "3600\r\n"
	    DELIM "\r\n"
	    "Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "file body\r\n"
	    DELIM "\r\n"
	    "Content-Disposition: form-data; name=\"empty\"\r\n"
	    "\r\n"
	    "\r\n"
	    DELIM "--\r\n";
	size_t len;

	is_int(multipart(CTYPE, curl), 0, "curl -F body parses");
	is_int((long long)fm.n, 4, "four parts");
	is_str(get("secret"), "line one\r\nline two & three",
	    "value with CRLF and & kept");
	is_str(get("ttl"), "3600", "second part");
	is_str(get("f"), "file body", "file part: its content");
	ok(form_get(&fm, "empty", &len) != NULL && len == 0, "empty part");

	is_int(multipart("multipart/form-data; boundary=\"XyZ\"",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--XyZ--"), 0, "quoted boundary");
	is_str(get("a"), "1", "value under a quoted boundary");
	is_int(multipart("Multipart/Form-Data; charset=utf-8; BOUNDARY=XyZ",
	    "--XyZ\r\ncontent-disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--\r\n"), 0,
	    "boundary not first, case-insensitive names, unquoted name");
	is_str(get("a"), "1", "value of an unquoted name");
	is_int(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"r[]\"\r\n\r\n1\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"r[]\"\r\n\r\n2\r\n"
	    "--XyZ--\r\n"), 0, "repeated array part");
	ok(fm.n == 1 && strcmp(get("r"), "1") == 0, "r[] is r, first wins");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n"
	    "--XyZ--\r\n"), "repeated plain part");

	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"),
	    "missing closing delimiter");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--XyZ"), "delimiter without the closing --");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ--"),
	    "part without a name");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--"),
	    "part without Content-Disposition");
	refused(multipart("multipart/form-data",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--"), "no boundary parameter");
	refused(multipart("multipart/form-data; boundary=\"XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--"), "unterminated quoted boundary");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--Other\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--Other--"), "body with another boundary");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n1\r\n--XyZ--"),
	    "headers without an empty line");
	refused(multipart("multipart/form-data; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\xc3\r\n"
	    "--XyZ--"), "invalid UTF-8 value");
	refused(multipart("multipart/form-data; boundary=XyZ", ""),
	    "empty body");
}

static void
test_json(void)
{
	struct buf b = { 0 };
	size_t len;
	int i;

	is_int(parse(JSON, "{\"secret\":\"s3 cr\\u00e9t\",\"ttl\":3600,"
	    "\"neg\":-5,\"yes\":true,\"no\":false,\"none\":null}"), 0,
	    "flat object parses");
	is_str(get("secret"), "s3 cr\xc3\xa9t", "string with \\u escape");
	is_str(get("ttl"), "3600", "number as text");
	is_str(get("neg"), "-5", "negative number as text");
	is_str(get("yes"), "true", "true as text");
	is_str(get("no"), "false", "false as text");
	ok(get("none") == NULL, "null is absent");

	is_int(parse(JSON, " {\"recipient\":[\"a@b.co\",\"c@d.co\"],"
	    "\"x[]\":[\"1\"],\"e\":[]}\r\n"), 0, "arrays, surrounding space");
	is_str(get("recipient"), "a@b.co", "an array takes its first element");
	is_str(get("x"), "1", "x[] is x");
	ok(get("e") == NULL, "empty array is absent");
	is_int(parse(JSON, "{}"), 0, "empty object");
	refused(parse(JSON, "{\"a\":\"1\",\"a\":\"2\"}"), "duplicate key");
	refused(parse(JSON, "{\"x[]\":[\"1\"],\"x\":\"2\"}"), "x[] and x");
	is_int(parse(JSON, "{\"a\":\"k:v\",\"b\":[\"{:}\",\"\\\":\"]}"), 0,
	    "':' and brackets inside strings are no members");
	is_str(get("a"), "k:v", "value with ':'");

	refused(parse(JSON, "{\"a\":{\"b\":1}}"), "nested object");
	refused(parse(JSON, "{\"a\":[{\"b\":1}]}"), "object in an array");
	refused(parse(JSON, "{\"a\":[[1]]}"), "array in an array");
	refused(parse(JSON, "[\"a\"]"), "top-level array");
	refused(parse(JSON, "\"a\""), "top-level string");
	refused(parse(JSON, "{\"a\":\"1\"} x"), "trailing junk");
	refused(parse(JSON, "{\"a\":\"1\"}{\"b\":2}"), "two objects");
	refused(parse(JSON, "{\"a\":"), "truncated object");
	refused(parse(JSON, "{a:1}"), "unquoted name");
	refused(parse(JSON, "{\"a\":\"x\\u0000y\"}"), "\\u0000 in a value");
	errstr = NULL;
	refused(form_json(&fm, "{\"a\":\"x\0\"}", 9, &errstr), "raw NUL");
	refused(parse(JSON, "{\"a\":\"\xff\"}"), "invalid UTF-8 value");
	refused(parse(JSON, ""), "empty body");

	for (i = 0; i < 10000; i++)
		buf_puts(&b, "[");
	refused(parse(JSON, b.data), "10000 nested arrays");
	buf_free(&b);
	buf_puts(&b, "{");
	for (i = 0; i <= FORM_FIELDS_MAX; i++)
		buf_printf(&b, "%s\"f%d\":%d", i ? "," : "", i, i);
	buf_puts(&b, "}");
	refused(parse(JSON, b.data), "one field too many");
	buf_free(&b);

	is_int(parse(JSON, "{\"v\":\"a&b=c%00\"}"), 0,
	    "JSON value with & = %%");
	ok(form_get(&fm, "v", &len) != NULL && len == 8,
	    "JSON value kept verbatim, length 8");
	form_free(&fm);
}

#define M_MULTI	"Malformed multipart body"

/* A one-part multipart body under boundary XyZ with these part headers. */
static int
part(const char *headers, const char *value)
{
	struct buf b = { 0 };
	int rc;

	buf_printf(&b, "--XyZ\r\n%s\r\n\r\n%s\r\n--XyZ--\r\n", headers, value);
	rc = multipart("multipart/form-data; boundary=XyZ", b.data);
	buf_free(&b);
	return rc;
}

/*
 * Header parameters as RFC 7578 and RFC 2045 write them: split at ';'
 * outside quoted-strings, whole names compared without case, quoted-pairs
 * decoded, every parameter once.
 */
static void
test_multipart_params(void)
{
	struct buf b = { 0 }, body = { 0 };
	int i;

	is_int(part("Content-Disposition: form-data; "
	    "filename=\"a;name=passphrase;\"; name=\"secret\"", "v"), 0,
	    "';' and name= inside a quoted filename");
	is_str(get("secret"), "v", "the part is the secret, its real name");
	ok(get("passphrase") == NULL, "no passphrase from inside the quotes");
	is_int(multipart("multipart/form-data; charset=\"x;boundary=evil\"; "
	    "boundary=good",
	    "--good\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--good--\r\n"), 0, "boundary= in a quoted charset is no boundary");
	is_str(get("a"), "1", "the real boundary delimits the parts");
	refused_as(multipart("multipart/form-data; "
	    "charset=\"x;boundary=evil\"; boundary=good",
	    "--evil\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--evil--\r\n"), M_MULTI, "a body under the quoted fake boundary");
	is_int(multipart("multipart/form-data; boundary=\"a;b=c\"",
	    "--a;b=c\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	    "--a;b=c--\r\n"), 0, "';' and '=' inside a quoted boundary");
	is_int(part("Content-Disposition: form-data; xname=\"passphrase\"; "
	    "name=\"secret\"", "v"), 0, "xname= before name=");
	ok(fm.n == 1 && get("secret") != NULL, "xname= is not name=");
	is_int(part("Content-Disposition: form-data; name=\"secret\"; "
	    "filename=\"name=x\"", "v"), 0, "name= inside a later filename");
	ok(fm.n == 1 && get("secret") != NULL, "the name is name=");
	is_int(part("Content-Disposition: form-data; NaMe=\"a\"", "v"), 0,
	    "parameter names without regard to case");
	is_str(get("a"), "v", "NaMe= is name=");
	is_int(part("Content-Disposition: form-data; name=\"a\\\"b\\\\c\"",
	    "v"), 0, "quoted-pairs in a name");
	is_str(get("a\"b\\c"), "v", "\\\" is '\"' and \\\\ is '\\'");
	is_int(part("Content-Disposition: form-data ;  ; name=\"a\" ;", "v"),
	    0, "white space around ';' and empty parameters");
	is_str(get("a"), "v", "value after empty parameters");

	refused_as(part("Content-Disposition: form-data; name=\"a\"; "
	    "name=\"b\"", "v"), M_MULTI, "name= twice");
	refused_as(part("Content-Disposition: form-data; name=\"a\"; NAME=a",
	    "v"), M_MULTI, "name= twice, another case");
	refused_as(part("Content-Disposition: form-data; name=\"a\"\r\n"
	    "Content-Disposition: form-data; name=\"b\"", "v"), M_MULTI,
	    "two Content-Disposition headers");
	refused_as(part("Content-Disposition: attachment; name=\"a\"", "v"),
	    M_MULTI, "disposition type attachment");
	refused_as(part("Content-Disposition: form-datax; name=\"a\"", "v"),
	    M_MULTI, "disposition type form-datax");
	refused_as(part("Content-Disposition: name=\"a\"", "v"), M_MULTI,
	    "no disposition type");
	refused_as(part("Content-Disposition: form-data; name=\"a", "v"),
	    M_MULTI, "unterminated quoted name");
	refused_as(part("Content-Disposition: form-data; name=\"a\\\"", "v"),
	    M_MULTI, "quote escaped at the end: unterminated");
	refused_as(part("Content-Disposition: form-data; filename=\"a; "
	    "name=\"secret\"", "v"), M_MULTI, "unterminated quoted filename");
	refused_as(part("Content-Disposition: form-data; foo; name=\"a\"", "v"),
	    M_MULTI, "parameter without '='");
	refused_as(part("Content-Disposition: form-data; name=", "v"),
	    M_MULTI, "empty unquoted name");
	refused_as(part("Content-Disposition: form-data; name=a b", "v"),
	    M_MULTI, "unquoted name with a space");
	refused_as(part("Content-Disposition: form-data; name=\"a\" x", "v"),
	    M_MULTI, "junk after a quoted value");
	refused_as(part("Content-Disposition: form-data; name=\"a\x01\"", "v"),
	    M_MULTI, "control character in a quoted name");
	refused_as(multipart("multipart/form-dataX; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--"), M_MULTI, "media type multipart/form-dataX");
	refused_as(multipart("multipart/mixed; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--"), M_MULTI, "media type multipart/mixed");
	refused_as(multipart("multipart/form-data; boundary=XyZ; boundary=XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ--"), M_MULTI, "boundary= twice");
	refused_as(multipart("multipart/form-data; boundary=\"\"",
	    "--\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n----"),
	    M_MULTI, "empty quoted boundary");

	/* bounds, counted decoded: a boundary of 70, a name of 64 plus [] */
	buf_puts(&body, "--");
	for (i = 0; i < 70; i++)
		buf_puts(&body, "b");
	buf_puts(&body, "\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "1\r\n");
	buf_add(&body, body.data, 72);
	buf_puts(&body, "--");
	buf_puts(&b, "multipart/form-data; boundary=\"");
	for (i = 0; i < 70; i++)
		buf_puts(&b, i % 2 ? "\\b" : "b");
	buf_puts(&b, "\"");
	is_int(multipart(b.data, body.data), 0,
	    "quoted boundary of 70 with quoted-pairs (105 bytes)");
	b.len--;
	buf_puts(&b, "b\"");
	refused_as(multipart(b.data, body.data), M_MULTI,
	    "quoted boundary of 71");
	buf_free(&body);
	buf_free(&b);
	buf_puts(&b, "Content-Disposition: form-data; name=\"");
	for (i = 0; i < FORM_NAME_MAX; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "[]\"");
	is_int(part(b.data, "v"), 0, "name of FORM_NAME_MAX bytes plus []");
	ok(fm.n == 1 && strlen(fm.f[0].name) == FORM_NAME_MAX && fm.f[0].array,
	    "stored without its []");
	buf_free(&b);
	buf_puts(&b, "Content-Disposition: form-data; name=\"");
	for (i = 0; i < FORM_NAME_MAX + 3; i++)
		buf_puts(&b, "x");
	buf_puts(&b, "\"");
	refused(part(b.data, "v"), "name of FORM_NAME_MAX + 3 bytes");
	buf_free(&b);
}

int
main(void)
{
	test_urlencoded();
	test_multipart();
	test_multipart_params();
	test_json();
	return done();
}
