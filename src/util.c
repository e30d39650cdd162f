#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"

int
util_strtoll(const char *s, size_t len, long long min, long long max,
    long long *out)
{
	unsigned long long v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || len - i > 19)
		return -1;
	lim = neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > lim)
			return -1;
	}
	if (neg) {
		if (v == (unsigned long long)INT64_MAX + 1)
			*out = INT64_MIN;
		else
			*out = -(long long)v;
	} else
		*out = (long long)v;
	return (*out < min || *out > max) ? -1 : 0;
}

int
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* The length of the UTF-8 character at s[0..len) (1 to 4), 0 if invalid. */
static size_t
utf8_char(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ?
	    3 : (c & 0xf8) == 0xf0 ? 4 : 0;

	return n > 0 && n <= len && util_utf8_valid(s, n) ? n : 0;
}

size_t
util_file_name(const char *in, size_t len, char out[UTIL_FILE_NAME_MAX + 1])
{
	const unsigned char *u;
	size_t i = 0, o = 0, n;
	char c;

	while (i < len) {
		u = (const unsigned char *)in + i;
		if ((n = utf8_char(in + i, len - i)) == 0) {
			c = '_';
			n = 1;
		} else if (n == 1)
			c = u[0] < 0x20 || u[0] == 0x7f ||
			    strchr("/\\<>:\"|?*", u[0]) != NULL ? '_' : (char)u[0];
		else
			c = 0;
		/* C1 controls; bidi embeddings, overrides and isolates */
		if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)
			c = '_';
		if (n == 3 && u[0] == 0xe2 && ((u[1] == 0x80 && u[2] >= 0xaa &&
		    u[2] <= 0xae) || (u[1] == 0x81 && u[2] >= 0xa6 &&
		    u[2] <= 0xa9)))
			c = '_';
		i += n;
		if (c != 0)
			n = 1;
		/* no leading dot or space; one dot of a run */
		if (c == '.' && (o == 0 || out[o - 1] == '.'))
			continue;
		if (c == ' ' && o == 0)
			continue;
		if (o + n > UTIL_FILE_NAME_MAX)
			break;
		if (c != 0)
			out[o++] = c;
		else {
			memcpy(out + o, u, n);
			o += n;
		}
	}
	while (o > 0 && (out[o - 1] == '.' || out[o - 1] == ' '))
		o--;
	if (o == 0) {
		memcpy(out, "file", 4);
		o = 4;
	}
	out[o] = '\0';
	return o;
}

void
util_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Grow to hold at least need more bytes plus a NUL; old memory is wiped. */
int
buf_reserve(struct buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (need > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	if ((p = malloc(cap)) == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * An address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, so that one
 * comparison serves both) and the prefix bits it names (an IPv4 prefix
 * counts from bit 96).  s[0..len) is "ADDR" or "ADDR/BITS".  0 or -1.
 */
static int
addr_parse(const char *s, size_t len, unsigned char a[16], int *bits)
{
	char txt[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	long long b = -1;
	int v6;

	if (alen == 0 || alen >= sizeof(txt))
		return -1;
	memcpy(txt, s, alen);
	txt[alen] = '\0';
	v6 = strchr(txt, ':') != NULL;
	memset(a, 0, 16);
	if (v6 ? inet_pton(AF_INET6, txt, a) != 1 :
	    inet_pton(AF_INET, txt, a + 12) != 1)
		return -1;
	if (!v6)
		a[10] = a[11] = 0xff;
	if (slash != NULL && util_strtoll(slash + 1, len - alen - 1, 0,
	    v6 ? 128 : 32, &b) == -1)
		return -1;
	*bits = b == -1 ? 128 : (int)b + (v6 ? 0 : 96);
	return 0;
}

/* 1 if the first bits of a and net agree. */
static int
addr_in(const unsigned char a[16], const unsigned char net[16], int bits)
{
	int i;

	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != net[i])
			return 0;
	return bits == 0 || ((a[i] ^ net[i]) & (0xff << (8 - bits))) == 0;
}

int
util_addr_list_check(const char *list)
{
	unsigned char a[16];
	size_t n;
	int bits;

	while (*(list += strspn(list, " \t")) != '\0') {
		n = strcspn(list, " \t");
		if (addr_parse(list, n, a, &bits) == -1)
			return -1;
		list += n;
	}
	return 0;
}

int
util_addr_in_list(const char *list, const char *addr)
{
	unsigned char a[16], net[16];
	size_t n;
	int bits;

	if (strchr(addr, '/') != NULL ||
	    addr_parse(addr, strlen(addr), a, &bits) == -1)
		return 0;
	while (*(list += strspn(list, " \t")) != '\0') {
		n = strcspn(list, " \t");
		if (addr_parse(list, n, net, &bits) == 0 &&
		    addr_in(a, net, bits))
			return 1;
		list += n;
	}
	return 0;
}
