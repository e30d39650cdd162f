/*
 * util: the checked number converter, UTF-8 validation and struct buf.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "util.h"

#include "tap.h"

/* util_strtoll over a NUL-terminated s: 0 or -1, the value in *v. */
static int
num(const char *s, long long min, long long max, long long *v)
{
	*v = 12345;
	return util_strtoll(s, strlen(s), min, max, v);
}

static void
test_strtoll(void)
{
	static const char *const junk[] = {
		"", "-", "+1", " 1", "1 ", "1a", "a1", "1.5", "0x10", "--1",
		"1-", "１",
	};
	long long v;
	size_t i;

	is_int(num("0", 0, 10, &v), 0, "\"0\" parses");
	is_int(v, 0, "\"0\" is 0");
	ok(num("42", 0, 100, &v) == 0 && v == 42, "\"42\" is 42");
	ok(num("100", 0, 100, &v) == 0 && v == 100, "max is inclusive");
	is_int(num("101", 0, 100, &v), -1, "above max refused");
	ok(num("-10", -10, 10, &v) == 0 && v == -10, "min is inclusive");
	is_int(num("-11", -10, 10, &v), -1, "below min refused");
	is_int(num("-1", 0, 10, &v), -1, "negative refused when min is 0");
	ok(num("-0", 0, 10, &v) == 0 && v == 0, "\"-0\" is 0");
	ok(num("007", 0, 10, &v) == 0 && v == 7, "leading zeros");

	ok(num("9223372036854775807", INT64_MIN, INT64_MAX, &v) == 0 &&
	    v == INT64_MAX, "INT64_MAX");
	is_int(num("9223372036854775808", INT64_MIN, INT64_MAX, &v), -1,
	    "INT64_MAX + 1 overflows");
	ok(num("-9223372036854775808", INT64_MIN, INT64_MAX, &v) == 0 &&
	    v == INT64_MIN, "INT64_MIN");
	is_int(num("-9223372036854775809", INT64_MIN, INT64_MAX, &v), -1,
	    "INT64_MIN - 1 overflows");
	is_int(num("99999999999999999999", INT64_MIN, INT64_MAX, &v), -1,
	    "20 digits overflow");
	is_int(num("18446744073709551616", INT64_MIN, INT64_MAX, &v), -1,
	    "2^64 does not wrap");

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		is_int(num(junk[i], INT64_MIN, INT64_MAX, &v), -1,
		    "junk \"%s\" refused", junk[i]);

	ok(util_strtoll("123456", 3, 0, 1000, &v) == 0 && v == 123,
	    "length bounds the text");
	is_int(util_strtoll("1\0002", 3, 0, 1000, &v), -1, "embedded NUL");
}

/* util_utf8_valid over len bytes of s. */
static int
u8(const char *s, size_t len)
{
	return util_utf8_valid(s, len);
}

static void
test_utf8(void)
{
	static const struct {
		const char	*s;
		size_t		 len;
		int		 want;
		const char	*what;
	} t[] = {
		{ "", 0, 1, "empty" },
		{ "hello, world", 12, 1, "ASCII" },
		{ "\xc3\xa9", 2, 1, "2-byte U+00E9" },
		{ "\xe2\x82\xac", 3, 1, "3-byte U+20AC" },
		{ "\xf0\x9f\x98\x80", 4, 1, "4-byte U+1F600" },
		{ "\xf4\x8f\xbf\xbf", 4, 1, "U+10FFFF" },
		{ "\xef\xbf\xbf", 3, 1, "U+FFFF" },
		{ "\xc0\xaf", 2, 0, "overlong 2-byte '/'" },
		{ "\xc1\xbf", 2, 0, "overlong 2-byte U+7F" },
		{ "\xc0\x80", 2, 0, "overlong NUL" },
		{ "\xe0\x80\xaf", 3, 0, "overlong 3-byte" },
		{ "\xe0\x9f\xbf", 3, 0, "overlong 3-byte U+7FF" },
		{ "\xf0\x80\x80\xaf", 4, 0, "overlong 4-byte" },
		{ "\xf0\x8f\xbf\xbf", 4, 0, "overlong 4-byte U+FFFF" },
		{ "\xed\xa0\x80", 3, 0, "surrogate U+D800" },
		{ "\xed\xbf\xbf", 3, 0, "surrogate U+DFFF" },
		{ "\xf4\x90\x80\x80", 4, 0, "U+110000" },
		{ "\xf5\x80\x80\x80", 4, 0, "lead byte F5" },
		{ "\xf8\x88\x80\x80\x80", 5, 0, "5-byte form" },
		{ "\xff", 1, 0, "byte FF" },
		{ "\x80", 1, 0, "lone continuation" },
		{ "\xc3\x28", 2, 0, "bad continuation" },
		{ "a\0b", 3, 0, "NUL byte" },
		{ "\0", 1, 0, "only NUL" },
		{ "\xc3", 1, 0, "truncated 2-byte" },
		{ "\xe2\x82", 2, 0, "truncated 3-byte" },
		{ "\xf0\x9f\x98", 3, 0, "truncated 4-byte" },
		{ "ok\xf0\x9f\x98\x80\xc3", 7, 0, "truncated at the end" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(u8(t[i].s, t[i].len), t[i].want, "utf8: %s", t[i].what);
	is_int(u8("\xc3\xa9", 1), 0, "length cuts a sequence");
}

static void
test_buf(void)
{
	struct buf b = { 0 };
	char want[5000];
	size_t i, chunk = 7;
	int good = 1;

	is_int(buf_add(&b, "", 0), 0, "add nothing to an empty buffer");
	ok(b.data != NULL && b.len == 0 && b.data[0] == '\0',
	    "empty add leaves a NUL-terminated empty string");

	for (i = 0; i < sizeof(want); i++)
		want[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(want); i += chunk)
		if (buf_add(&b, want + i, sizeof(want) - i < chunk ?
		    sizeof(want) - i : chunk) == -1)
			good = 0;
	ok(good, "5000 bytes added in chunks");
	is_int((long long)b.len, sizeof(want), "length after growth");
	ok(memcmp(b.data, want, sizeof(want)) == 0,
	    "content kept across growth");
	ok(b.data[b.len] == '\0', "NUL-terminated after growth");
	ok(b.cap > b.len, "capacity holds the NUL");

	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "buf_free empties");

	is_int(buf_puts(&b, "ab"), 0, "buf_puts after free");
	is_int(buf_printf(&b, "-%d-%s", 42, "x"), 0, "buf_printf");
	is_str(b.data, "ab-42-x", "puts then printf append");
	is_int(buf_printf(&b, "%0600d", 7), 0, "buf_printf larger than cap");
	is_int((long long)b.len, 7 + 600, "printf length");
	ok(b.data[b.len - 1] == '7' && b.data[b.len] == '\0',
	    "printf text and NUL");
	is_int(buf_add(&b, "x", SIZE_MAX), -1, "absurd length refused");
	is_int((long long)b.len, 607, "refused add leaves the buffer alone");
	buf_free(&b);
	buf_free(&b);
	ok(b.data == NULL, "buf_free twice is harmless");
}

static void
test_addr(void)
{
	static const struct {
		const char	*list, *addr;
		int		 in;
	} t[] = {
		{ "127.0.0.0/8 ::1", "127.0.0.1", 1 },
		{ "127.0.0.0/8 ::1", "127.255.255.254", 1 },
		{ "127.0.0.0/8 ::1", "128.0.0.1", 0 },
		{ "127.0.0.0/8 ::1", "::1", 1 },
		{ "127.0.0.0/8 ::1", "::2", 0 },
		{ "127.0.0.0/8 ::1", "203.0.113.7", 0 },
		{ "127.0.0.0/8", "::ffff:127.0.0.9", 1 },	/* mapped */
		{ "127.0.0.0/8", "::127.0.0.9", 0 },	/* compatible: not */
		{ "10.1.2.3", "10.1.2.3", 1 },		/* a bare address */
		{ "10.1.2.3", "10.1.2.4", 0 },
		{ "10.1.2.3/32", "10.1.2.3", 1 },
		{ "192.168.0.0/23", "192.168.1.255", 1 },	/* not a byte */
		{ "192.168.0.0/23", "192.168.2.0", 0 },
		{ "192.168.1.0/23", "192.168.0.1", 1 },	/* host bits set */
		{ "0.0.0.0/0", "198.51.100.1", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },	/* v4 prefix, v6 client */
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
		{ "fe80::/10", "febf::1", 1 },
		{ "fe80::/10", "fec0::1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		{ "", "127.0.0.1", 0 },			/* empty: nobody */
		{ "  \t ", "127.0.0.1", 0 },
		{ "127.0.0.1", "", 0 },			/* unknown client */
		{ "127.0.0.1", "127.0.0.1/8", 0 },	/* not an address */
		{ "127.0.0.1", "localhost", 0 },
		{ "127.0.0.1", "127.0.0.1 ", 0 },
		{ "bogus 127.0.0.1", "127.0.0.1", 1 },	/* checked at load */
	};
	static const char *const bad[] = {
		"127.0.0.0/33", "::1/129", "127.0.0.0/", "127.0.0.0/-1",
		"127.0.0.0/8x", "localhost", "1.2.3", "1.2.3.4.5", "/8",
		"::1 300.0.0.1", "2001:db8:::1", "127.0.0.1/08/8",
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(util_addr_in_list(t[i].list, t[i].addr), t[i].in,
		    "\"%s\" in \"%s\"", t[i].addr, t[i].list);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(util_addr_list_check(bad[i]), -1, "\"%s\" refused",
		    bad[i]);
	is_int(util_addr_list_check("127.0.0.0/8 ::1 10.0.0.0/8\t2001:db8::/32"),
	    0, "a list of addresses and prefixes");
	is_int(util_addr_list_check(""), 0, "an empty list");
}

int
main(void)
{
	test_strtoll();
	test_utf8();
	test_buf();
	test_addr();
	return done();
}
