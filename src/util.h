/*
 * util: small checked helpers shared by every module: one converter for
 * numbers from untrusted text, UTF-8 validation, and a growable byte buffer.
 */
#ifndef OTS_UTIL_H
#define OTS_UTIL_H

#include <stddef.h>

/*
 * Parse the decimal integer in s[0..len) into *out.  Optional leading '-',
 * no spaces, no trailing junk.  Returns 0, or -1 if the text is not a
 * number or lies outside [min, max].
 */
int	util_strtoll(const char *s, size_t len, long long min, long long max,
	    long long *out);

/* Format a message into err (of errlen bytes), as the _open functions
 * report why they failed. */
void	util_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* 1 if s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int	util_utf8_valid(const char *s, size_t len);

/*
 * A file name safe to offer in a download, from an uploaded one of any
 * bytes: valid UTF-8 (a bad byte becomes '_'); no '/', '\\', control
 * characters (C0, DEL, C1), bidirectional overrides or Windows' reserved
 * <>:"|?* (each '_'); no run of dots ("..", "..." become "."), none
 * leading, no dot or space trailing; at most UTIL_FILE_NAME_MAX bytes, cut
 * on a whole character; "file" when nothing is left.  Writes a
 * NUL-terminated name to out and returns its length.
 */
#define UTIL_FILE_NAME_MAX	100
size_t	util_file_name(const char *in, size_t len,
	    char out[UTIL_FILE_NAME_MAX + 1]);

/*
 * Address lists: space-separated IPv4/IPv6 addresses or CIDR prefixes
 * ("127.0.0.0/8 ::1").  util_addr_list_check returns 0 when every entry
 * parses, else -1.  util_addr_in_list returns 1 if addr (an address as
 * text; an IPv4-mapped IPv6 address counts as its IPv4 form) lies in one
 * of list's entries, else 0 (also for an empty list or an unparsable
 * address).
 */
int	util_addr_list_check(const char *list);
int	util_addr_in_list(const char *list, const char *addr);

/* A growable byte buffer; always NUL-terminated after a successful add. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* Append len bytes; returns 0 or -1 on allocation failure. */
int	buf_add(struct buf *, const void *, size_t);
/* Room for need more bytes (and a NUL) without a move; 0 or -1. */
int	buf_reserve(struct buf *, size_t need);
/* Append a NUL-terminated string. */
int	buf_puts(struct buf *, const char *);
/* Append formatted text; returns 0 or -1. */
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Wipe and release the contents; the buffer is then empty and reusable. */
void	buf_free(struct buf *);

#endif
