#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <sodium.h>

#include "form.h"
#include "util.h"

static const char E_MEM[] = "Out of memory";
static const char E_MANY[] = "Too many parameters";
static const char E_NAME[] = "Parameter name too long";
static const char E_CHARS[] = "Parameters must be UTF-8 text without NUL";
static const char E_PCT[] = "Malformed percent-encoding";
static const char E_MULTI[] = "Malformed multipart body";
static const char E_JSON[] = "Malformed JSON body";
static const char E_FLAT[] = "JSON body must be a flat object";
static const char E_DUP[] = "Duplicate parameter";

/*
 * Add name=value (both raw bytes), by the rules in form.h: a name seen in
 * an earlier source keeps its value; one seen in this source is an error
 * unless both are array parameters.
 */
static int
add(struct form *fm, const char *name, size_t nlen, const char *val,
    size_t vlen, const char **errstr)
{
	struct form_field *f;
	size_t i;
	int array = 0;

	if (nlen >= 2 && name[nlen - 2] == '[' && name[nlen - 1] == ']') {
		nlen -= 2;
		array = 1;
	}
	if (nlen == 0)
		return 0;
	if (nlen > FORM_NAME_MAX) {
		*errstr = E_NAME;
		return -1;
	}
	if (!util_utf8_valid(name, nlen) || !util_utf8_valid(val, vlen)) {
		*errstr = E_CHARS;
		return -1;
	}
	for (i = 0; i < fm->n; i++) {
		if (strlen(fm->f[i].name) != nlen ||
		    memcmp(fm->f[i].name, name, nlen) != 0)
			continue;
		if (i >= fm->src && !(array && fm->f[i].array)) {
			*errstr = E_DUP;
			return -1;
		}
		return 0;
	}
	if (fm->n == FORM_FIELDS_MAX) {
		*errstr = E_MANY;
		return -1;
	}
	f = &fm->f[fm->n];
	if ((f->val = malloc(vlen + 1)) == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	memcpy(f->name, name, nlen);
	f->name[nlen] = '\0';
	f->array = array;
	memcpy(f->val, val, vlen);
	f->val[vlen] = '\0';
	f->len = vlen;
	fm->n++;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into dst (room for len bytes); returns the length or -1. */
static long
pctdecode(char *dst, const char *s, size_t len)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			dst[o++] = ' ';
		else if (s[i] != '%')
			dst[o++] = s[i];
		else {
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -1;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	return (long)o;
}

int
form_urlencoded(struct form *fm, const char *s, size_t len,
    const char **errstr)
{
	const char *end = s + len, *amp, *eq;
	char *tmp;
	long nlen, vlen;
	int rc = 0;

	fm->src = fm->n;
	if (len == 0)
		return 0;
	if ((tmp = malloc(len)) == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	while (s < end && rc == 0) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if ((eq = memchr(s, '=', (size_t)(amp - s))) == NULL)
			eq = amp;
		/* name and value decoded into one scratch buffer, side by side */
		nlen = pctdecode(tmp, s, (size_t)(eq - s));
		vlen = eq < amp ? pctdecode(tmp + (nlen < 0 ? 0 : nlen),
		    eq + 1, (size_t)(amp - eq - 1)) : 0;
		if (nlen < 0 || vlen < 0) {
			*errstr = E_PCT;
			rc = -1;
		} else
			rc = add(fm, tmp, (size_t)nlen, tmp + nlen,
			    (size_t)vlen, errstr);
		s = amp + 1;
	}
	sodium_memzero(tmp, len);
	free(tmp);
	return rc;
}

/* An RFC 7230 tchar: a character of a token. */
static int
tchar(char c)
{
	return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/*
 * The parameter value at *pp (before end), a token or a quoted-string,
 * its quoted-pairs decoded into v (room for vmax bytes) unless v is NULL.
 * Advances *pp past it.  Returns 0, or -1 when malformed or too long.
 */
static int
param_value(const char **pp, const char *end, char *v, size_t vmax,
    size_t *vlen)
{
	const char *p = *pp;
	size_t n = 0;
	int q = p < end && *p == '"';
	unsigned char c;

	for (p += q; p < end && (q ? *p != '"' : tchar(*p)); p++) {
		if (q && *p == '\\' && ++p == end)
			return -1;
		c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
		if (v != NULL) {
			if (n == vmax)
				return -1;
			v[n] = *p;
		}
		n++;
	}
	if (q && p++ == end)
		return -1;	/* no closing quote */
	if (!q && n == 0)
		return -1;
	*pp = p;
	*vlen = n;
	return 0;
}

/*
 * Parameter param of a header value h[0..hlen) of type type, e.g. the
 * boundary of "multipart/form-data; boundary=x", read as RFC 2045, RFC
 * 7230 and RFC 9110 write parameters: ';' separates them outside
 * quoted-strings, names are whole tokens compared without regard to
 * case, a value is a token or a quoted-string.  The decoded value goes
 * to v (room for vmax bytes), its length to *vlen.  Returns 0, or -1 when
 * the type differs, the syntax is wrong anywhere, or param is absent,
 * repeated or longer than vmax.
 */
static int
header_param(const char *h, size_t hlen, const char *type,
    const char *param, char *v, size_t vmax, size_t *vlen)
{
	const char *p = h, *end = h + hlen, *name;
	size_t tlen = strlen(type), plen = strlen(param), n;
	int found = 0, match;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < tlen || strncasecmp(p, type, tlen) != 0)
		return -1;
	for (p += tlen;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		if (*p++ != ';')
			return -1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p == ';')
			continue;	/* an empty parameter */
		for (name = p; p < end && tchar(*p); p++)
			;
		if (p == name || p == end || *p++ != '=')
			return -1;
		match = (size_t)(p - 1 - name) == plen &&
		    strncasecmp(name, param, plen) == 0;
		if (match && found++)
			return -1;
		if (param_value(&p, end, match ? v : NULL, vmax,
		    match ? vlen : &n) == -1)
			return -1;
	}
	return found ? 0 : -1;
}

int
form_multipart(struct form *fm, const char *ctype, const char *s, size_t len,
    const char **errstr)
{
	const char *end = s + len, *p, *hdr, *hdr_end, *eol, *next;
	char bnd[70], delim[4 + sizeof(bnd)], name[FORM_NAME_MAX + 2];
	size_t blen, dlen, nlen;
	int named;

	fm->src = fm->n;
	*errstr = E_MULTI;
	/* RFC 2046: a boundary has 1 to 70 characters */
	if (header_param(ctype, strlen(ctype), "multipart/form-data",
	    "boundary", bnd, sizeof(bnd), &blen) == -1 || blen == 0)
		return -1;
	/* a delimiter is CRLF "--" boundary; the first may lack the CRLF */
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, bnd, blen);
	dlen = blen + 4;
	if (len < dlen - 2 || memcmp(s, delim + 2, dlen - 2) != 0)
		return -1;
	p = s + dlen - 2;
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;	/* the close delimiter */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;	/* transport padding */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		/* the headers end at the first empty line (maybe at once) */
		if ((hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4))
		    == NULL)
			return -1;
		/* RFC 7578: one Content-Disposition: form-data; name=... */
		named = 0;
		for (hdr = p + 2; hdr < hdr_end; hdr = eol + 2) {
			eol = memmem(hdr, (size_t)(hdr_end + 2 - hdr), "\r\n", 2);
			if ((size_t)(eol - hdr) < 20 ||
			    strncasecmp(hdr, "Content-Disposition:", 20) != 0)
				continue;
			if (named++ || header_param(hdr + 20,
			    (size_t)(eol - hdr - 20), "form-data", "name", name,
			    sizeof(name), &nlen) == -1)
				return -1;
		}
		p = hdr_end + 4;
		if (!named || (next = memmem(p, (size_t)(end - p), delim,
		    dlen)) == NULL)
			return -1;
		if (add(fm, name, nlen, p, (size_t)(next - p), errstr) == -1)
			return -1;
		*errstr = E_MULTI;
		p = next + dlen;
	}
}

/* The value of the four hex digits at s, or -1. */
static long
hex4(const char *s)
{
	long v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hexval(s[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * What json-c lets through and RFC 8259 does not, found in the text: raw
 * control characters and lone surrogate escapes in strings (json-c would
 * turn the latter into U+FFFD).  Also counts the members of the top-level
 * object as written: json-c keeps only the last of repeated names, so a
 * count above the parsed object's length means duplicates.  Returns the
 * count, or -1.  The text has parsed, so strings are terminated.
 */
static long
json_scan(const char *s, size_t len)
{
	long n = 0, u, hi;
	size_t i;
	int depth = 0;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '"':
			for (i++, hi = 0; i < len && s[i] != '"'; i++) {
				if ((unsigned char)s[i] < 0x20)
					return -1;
				if (s[i] != '\\')
					continue;
				if (++i + 4 < len && s[i] == 'u' &&
				    (u = hex4(s + i + 1)) >= 0) {
					/* a low surrogate only after a high */
					if ((u >= 0xdc00 && u <= 0xdfff) != hi)
						return -1;
					hi = u >= 0xd800 && u <= 0xdbff;
					i += 4;
					continue;
				}
				if (hi)
					return -1;
			}
			if (hi)
				return -1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ':':
			if (depth == 1)
				n++;
			break;
		}
	}
	return n;
}

/* A JSON scalar ots takes as text: a string, a finite number, a boolean. */
static int
json_scalar(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_boolean:
		return 1;
	case json_type_double:
		return isfinite(json_object_get_double(v));
	default:
		return 0;
	}
}

int
form_json(struct form *fm, const char *s, size_t len, const char **errstr)
{
	struct json_tokener *tok;
	struct json_object *root, *v;
	size_t off, i;
	long members;
	int rc = -1;

	fm->src = fm->n;
	if (len > INT32_MAX || (tok = json_tokener_new_ex(FORM_JSON_DEPTH))
	    == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	/* RFC 8259 only: no comments, single quotes, NaN, trailing commas */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, s, (int)len);
	*errstr = E_JSON;
	if (root == NULL)
		goto out;
	/* only white space may follow the object */
	for (off = json_tokener_get_parse_end(tok); off < len; off++)
		if (s[off] != ' ' && s[off] != '\t' && s[off] != '\r' &&
		    s[off] != '\n')
			goto out;
	*errstr = E_FLAT;
	if (!json_object_is_type(root, json_type_object))
		goto out;
	if ((members = json_scan(s, len)) == -1) {
		*errstr = E_JSON;
		goto out;
	}
	if (members != json_object_object_length(root)) {
		*errstr = E_DUP;
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		v = val;
		/* an array of scalars; its first element counts */
		if (json_object_is_type(v, json_type_array)) {
			for (i = 0; i < json_object_array_length(v); i++)
				if (!json_scalar(json_object_array_get_idx(v,
				    i)))
					goto out;
			v = json_object_array_length(v) > 0 ?
			    json_object_array_get_idx(v, 0) : NULL;
		}
		if (v == NULL || json_object_is_type(v, json_type_null))
			continue;
		if (!json_scalar(v))
			goto out;
		/* numbers and booleans take their JSON spelling */
		if (add(fm, key, strlen(key), json_object_get_string(v),
		    json_object_is_type(v, json_type_string) ?
		    (size_t)json_object_get_string_len(v) :
		    strlen(json_object_get_string(v)), errstr) == -1)
			goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

const char *
form_get(const struct form *fm, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0) {
			if (len != NULL)
				*len = fm->f[i].len;
			return fm->f[i].val;
		}
	return NULL;
}

void
form_free(struct form *fm)
{
	size_t i;

	for (i = 0; i < fm->n; i++) {
		sodium_memzero(fm->f[i].val, fm->f[i].len);
		free(fm->f[i].val);
		fm->f[i].val = NULL;
	}
	fm->n = 0;
}
