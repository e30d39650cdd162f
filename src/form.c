#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
add_file(struct form *fm, const char *name, size_t nlen, const char *val,
    size_t vlen, const char *fname, size_t fnlen, const char **errstr)
{
	struct form_field *f;
	size_t i, o;
	int array = 0, binary;

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
	binary = fname != NULL && (memchr(val, '\0', vlen) != NULL ||
	    !util_utf8_valid(val, vlen));
	if (!util_utf8_valid(name, nlen) || (fname == NULL &&
	    !util_utf8_valid(val, vlen))) {
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
	f->filename = NULL;
	f->binary = binary;
	if (fname != NULL && (f->filename = malloc(fnlen + 1)) == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	if (binary)
		f->val = (char *)(uintptr_t)val;	/* borrowed */
	else if ((f->val = malloc(vlen + 1)) == NULL) {
		free(f->filename);
		f->filename = NULL;
		*errstr = E_MEM;
		return -1;
	}
	if (fname != NULL) {
		/* HTML's encoding of a filename: '"', LF, CR as %22, %0A, %0D */
		for (i = 0, o = 0; i < fnlen; i++) {
			if (fnlen - i >= 3 && fname[i] == '%' &&
			    ((fname[i + 1] == '2' && fname[i + 2] == '2') ||
			    (fname[i + 1] == '0' && strchr("AaDd", fname[i + 2]) !=
			    NULL))) {
				f->filename[o++] = fname[i + 1] == '2' ? '"' :
				    (fname[i + 2] | 0x20) == 'a' ? '\n' : '\r';
				i += 2;
			} else
				f->filename[o++] = fname[i];
		}
		f->filename[o] = '\0';
	}
	memcpy(f->name, name, nlen);
	f->name[nlen] = '\0';
	f->array = array;
	if (!binary) {
		memcpy(f->val, val, vlen);
		f->val[vlen] = '\0';
	}
	f->len = vlen;
	fm->n++;
	return 0;
}

static int
add(struct form *fm, const char *name, size_t nlen, const char *val,
    size_t vlen, const char **errstr)
{
	return add_file(fm, name, nlen, val, vlen, NULL, 0, errstr);
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
	char *fname;
	size_t blen, dlen, nlen, fnlen = 0;
	int named, rc = -1, file = 0;

	fm->src = fm->n;
	*errstr = E_MULTI;
	if ((fname = malloc(FORM_FILENAME_MAX)) == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	/* RFC 2046: a boundary has 1 to 70 characters */
	if (header_param(ctype, strlen(ctype), "multipart/form-data",
	    "boundary", bnd, sizeof(bnd), &blen) == -1 || blen == 0)
		goto out;
	/* a delimiter is CRLF "--" boundary; the first may lack the CRLF */
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, bnd, blen);
	dlen = blen + 4;
	if (len < dlen - 2 || memcmp(s, delim + 2, dlen - 2) != 0)
		goto out;
	p = s + dlen - 2;
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			rc = 0;	/* the close delimiter */
			goto out;
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;	/* transport padding */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			goto out;
		/* the headers end at the first empty line (maybe at once) */
		if ((hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4))
		    == NULL)
			goto out;
		/*
		 * RFC 7578: one Content-Disposition: form-data; name=...,
		 * with filename=... for a file.
		 */
		named = file = 0;
		for (hdr = p + 2; hdr < hdr_end; hdr = eol + 2) {
			eol = memmem(hdr, (size_t)(hdr_end + 2 - hdr), "\r\n", 2);
			if ((size_t)(eol - hdr) < 20 ||
			    strncasecmp(hdr, "Content-Disposition:", 20) != 0)
				continue;
			if (named++ || header_param(hdr + 20,
			    (size_t)(eol - hdr - 20), "form-data", "name", name,
			    sizeof(name), &nlen) == -1)
				goto out;
			file = header_param(hdr + 20, (size_t)(eol - hdr - 20),
			    "form-data", "filename", fname, FORM_FILENAME_MAX,
			    &fnlen) == 0;
			if (file && memchr(fname, '\0', fnlen) != NULL)
				goto out;
		}
		p = hdr_end + 4;
		if (!named || (next = memmem(p, (size_t)(end - p), delim,
		    dlen)) == NULL)
			goto out;
		if (add_file(fm, name, nlen, p, (size_t)(next - p),
		    file ? fname : NULL, fnlen, errstr) == -1)
			goto out;
		*errstr = E_MULTI;
		p = next + dlen;
	}
out:
	sodium_memzero(fname, FORM_FILENAME_MAX);
	free(fname);
	return rc;
}

/*
 * JSON bodies are parsed here rather than by json-c, for two reasons.
 * json-c's tokener copies every string into a printbuf that grows by
 * realloc and into json_object strings, and frees both without wiping:
 * each secret or passphrase sent as JSON left copies on the heap.  And
 * json-c lets through what RFC 8259 does not (names cut at \u0000, a high
 * surrogate paired across other text, single quotes), which had to be
 * checked again in the text anyway.  What ots takes is small: one object
 * whose members are scalars or arrays of scalars.
 *
 * Strings are decoded into one scratch buffer of the input's length
 * (decoding never lengthens a string: an escape of 2, 6 or 12 bytes gives
 * at most 1, 3 or 4), wiped before it is freed.  Names stay there, for
 * the duplicate check.
 */
struct json {
	const char	*p, *end;	/* the text not yet read */
	char		*out;		/* the scratch buffer */
	size_t		 o;		/* its bytes in use */
	const char	*errstr;
	struct {
		size_t	 off, len;	/* a member name in the scratch */
	}		 names[FORM_FIELDS_MAX];
	size_t		 n;
};

static void
json_ws(struct json *js)
{
	while (js->p < js->end && (*js->p == ' ' || *js->p == '\t' ||
	    *js->p == '\n' || *js->p == '\r'))
		js->p++;
}

/* Step over character c (after white space); 0, or -1 when it is not. */
static int
json_char(struct json *js, char c)
{
	json_ws(js);
	if (js->p == js->end || *js->p != c)
		return -1;
	js->p++;
	return 0;
}

/* The value of the four hex digits at s (before end), or -1. */
static long
hex4(const char *s, const char *end)
{
	long v = 0;
	int i, h;

	if (end - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(s[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Write code point u as UTF-8 at d; returns the end. */
static char *
utf8_put(char *d, long u)
{
	static const unsigned char lead[] = { 0, 0xc0, 0xe0, 0xf0 };
	int n = u < 0x80 ? 0 : u < 0x800 ? 1 : u < 0x10000 ? 2 : 3;

	*d++ = (char)(lead[n] | u >> 6 * n);
	while (n-- > 0)
		*d++ = (char)(0x80 | (u >> 6 * n & 0x3f));
	return d;
}

/* The string at js->p, decoded into the scratch buffer: 0 or -1. */
static int
json_string(struct json *js, const char **v, size_t *vlen)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char *d = js->out + js->o;
	const char *p = js->p + 1, *end = js->end, *q;
	long u, lo;

	for (; p < end && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return -1;
		if (*p != '\\') {
			*d++ = *p;
			continue;
		}
		if (++p == end)
			return -1;
		if (*p != 'u') {
			if (*p == '\0' || (q = strchr(from, *p)) == NULL)
				return -1;
			*d++ = to[q - from];
			continue;
		}
		if ((u = hex4(p + 1, end)) < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return -1;
		p += 4;
		/* a high surrogate only with a low one escaped right after */
		if (u >= 0xd800 && u <= 0xdbff) {
			if (end - p < 3 || p[1] != '\\' || p[2] != 'u' ||
			    (lo = hex4(p + 3, end)) < 0xdc00 || lo > 0xdfff)
				return -1;
			p += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
		d = utf8_put(d, u);
	}
	if (p == end)
		return -1;
	js->p = p + 1;
	*v = js->out + js->o;
	*vlen = (size_t)(d - *v);
	js->o += *vlen;
	if (!util_utf8_valid(*v, *vlen)) {
		js->errstr = E_CHARS;
		return -1;
	}
	return 0;
}

/* Past the digits at p (before end), or NULL when there are none. */
static const char *
digits(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q >= '0' && *q <= '9')
		q++;
	return q > p ? q : NULL;
}

/*
 * The scalar at js->p (after white space): a string (decoded), a number
 * or a boolean (as written).  Returns 1, 0 for null, -1 on error.
 */
static int
json_scalar(struct json *js, const char **v, size_t *vlen)
{
	const char *p, *q, *end = js->end;

	json_ws(js);
	if ((p = js->p) == end)
		return -1;
	if (*p == '"')
		return json_string(js, v, vlen) == 0 ? 1 : -1;
	if (*p == '{' || *p == '[') {
		js->errstr = E_FLAT;
		return -1;
	}
	if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
		js->p += 4;
		return 0;
	}
	if (end - p >= 4 && memcmp(p, "true", 4) == 0)
		q = p + 4;
	else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
		q = p + 5;
	else {
		/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
		q = p + (*p == '-');
		if (q == end || *q < '0' || *q > '9')
			return -1;
		q = *q == '0' ? q + 1 : digits(q, end);
		if (q < end && *q == '.' && (q = digits(q + 1, end)) == NULL)
			return -1;
		if (q < end && (*q == 'e' || *q == 'E')) {
			if (++q < end && (*q == '+' || *q == '-'))
				q++;
			if ((q = digits(q, end)) == NULL)
				return -1;
		}
	}
	*v = p;
	*vlen = (size_t)(q - p);
	js->p = q;
	return 1;
}

/*
 * A member's value: a scalar, or an array of scalars of which the first
 * counts.  Returns 1, 0 when absent (null, []), -1 on error.
 */
static int
json_value(struct json *js, const char **v, size_t *vlen)
{
	const char *e;
	size_t elen;
	int r, n = 0;

	if (json_char(js, '[') == -1)
		return json_scalar(js, v, vlen);
	if (json_char(js, ']') == 0)
		return 0;
	do {
		if ((r = json_scalar(js, &e, &elen)) != 1) {
			if (r == 0)
				js->errstr = E_FLAT;	/* null in an array */
			return -1;
		}
		if (n++ == 0) {
			*v = e;
			*vlen = elen;
		}
	} while (json_char(js, ',') == 0);
	return json_char(js, ']') == 0 ? 1 : -1;
}

/* One member "name": value, added to fm: 0 or -1. */
static int
json_member(struct json *js, struct form *fm)
{
	const char *name, *v = NULL;
	size_t i, nlen, vlen = 0;
	int r;

	json_ws(js);
	if (js->p == js->end || *js->p != '"' ||
	    json_string(js, &name, &nlen) == -1)
		return -1;
	/* a repeated name is a duplicate, whatever its values */
	if (js->n == FORM_FIELDS_MAX) {
		js->errstr = E_MANY;
		return -1;
	}
	for (i = 0; i < js->n; i++)
		if (js->names[i].len == nlen &&
		    memcmp(js->out + js->names[i].off, name, nlen) == 0) {
			js->errstr = E_DUP;
			return -1;
		}
	js->names[js->n].off = (size_t)(name - js->out);
	js->names[js->n++].len = nlen;
	if (json_char(js, ':') == -1 || (r = json_value(js, &v, &vlen)) == -1)
		return -1;
	return r == 1 ? add(fm, name, nlen, v, vlen, &js->errstr) : 0;
}

int
form_json(struct form *fm, const char *s, size_t len, const char **errstr)
{
	struct json js;
	int rc = -1;

	fm->src = fm->n;
	memset(&js, 0, sizeof(js));
	js.p = s;
	js.end = s + len;
	js.errstr = E_JSON;
	json_ws(&js);
	if (js.p == js.end || *js.p != '{') {
		/* a JSON value other than an object, or no JSON at all */
		*errstr = js.p < js.end && *js.p != '\0' &&
		    strchr("[\"-0123456789tfn", *js.p) != NULL ?
		    E_FLAT : E_JSON;
		return -1;
	}
	if ((js.out = malloc(len)) == NULL) {
		*errstr = E_MEM;
		return -1;
	}
	js.p++;
	if (json_char(&js, '}') == -1) {
		do {
			if (json_member(&js, fm) == -1)
				goto out;
		} while (json_char(&js, ',') == 0);
		if (json_char(&js, '}') == -1)
			goto out;
	}
	json_ws(&js);
	if (js.p == js.end)
		rc = 0;
out:
	sodium_memzero(js.out, len);
	free(js.out);
	if (rc == -1)
		*errstr = js.errstr;
	return rc;
}

const char *
form_get(const struct form *fm, const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0 && !fm->f[i].binary) {
			if (len != NULL)
				*len = fm->f[i].len;
			return fm->f[i].val;
		}
	return NULL;
}

const char *
form_file(const struct form *fm, const char *name, size_t *len,
    const char **filename)
{
	size_t i;

	for (i = 0; i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0) {
			if (fm->f[i].filename == NULL)
				return NULL;
			*len = fm->f[i].len;
			*filename = fm->f[i].filename;
			return fm->f[i].val;
		}
	return NULL;
}

void
form_free(struct form *fm)
{
	size_t i;

	for (i = 0; i < fm->n; i++) {
		/* a borrowed value is wiped with the body it lies in */
		if (!fm->f[i].binary) {
			sodium_memzero(fm->f[i].val, fm->f[i].len);
			free(fm->f[i].val);
		}
		if (fm->f[i].filename != NULL) {
			sodium_memzero(fm->f[i].filename,
			    strlen(fm->f[i].filename));
			free(fm->f[i].filename);
		}
		fm->f[i].val = fm->f[i].filename = NULL;
		fm->f[i].binary = 0;
	}
	fm->n = 0;
}
