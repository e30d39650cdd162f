/*
 * form: request parameters from a query string or body
 * (application/x-www-form-urlencoded, multipart/form-data, or a flat JSON
 * object) into one bounded list of named, validated values.
 *
 * Rules, the same for every encoding:
 * - a name "x[]" is stored as "x" (array parameters; the first value counts);
 * - within one source (one parser call) a name may appear once, unless
 *   every occurrence is "x[]": a repeated plain name is an error;
 * - across sources the first wins, so parse the body before the query
 *   string to let a body value win over a query value;
 * - every value must be valid UTF-8 without NUL; percent-escapes must be
 *   well formed;
 * - at most FORM_FIELDS_MAX fields, names up to FORM_NAME_MAX bytes.
 * A JSON body is one RFC 8259 object of at most FORM_FIELDS_MAX members,
 * each a string, number or boolean (numbers and booleans as written), or
 * an array of those (the first counts); null and [] are absent; a name
 * may appear once.  A multipart part is named by the one name parameter
 * of its one Content-Disposition: form-data header.  A part whose header
 * also has a filename parameter is a file: its filename is kept (raw
 * bytes without NUL or control characters, up to FORM_FILENAME_MAX, but
 * %22, %0A and %0D decoded, as HTML's form submission encodes '"', LF and
 * CR) and its
 * content may be any bytes.  A file whose content is not text is not
 * copied: its field points into the body given to form_multipart (which
 * must outlive the form) and form_get does not see it; a text file is also
 * an ordinary value, as before files were known.
 * Values are owned by the form and wiped by form_free; the parsers wipe
 * every buffer of their own that held one.
 */
#ifndef OTS_FORM_H
#define OTS_FORM_H

#include <stddef.h>

#define FORM_FIELDS_MAX	64
#define FORM_NAME_MAX	64
#define FORM_FILENAME_MAX 1024	/* bytes of a multipart part's filename */

struct form_field {
	char	 name[FORM_NAME_MAX + 1];
	int	 array;		/* sent as name[] */
	char	*val;		/* NUL-terminated; len excludes the NUL */
	size_t	 len;
	char	*filename;	/* a file part's, NUL-terminated; or NULL */
	int	 binary;	/* a file that is no text: val is borrowed,
				 * not NUL-terminated */
};

struct form {
	struct form_field f[FORM_FIELDS_MAX];
	size_t		  n;
	size_t		  src;	/* first field of the current source */
};

/*
 * Each parser adds the fields of s[0..len) to the form.  Returns 0, or -1
 * with *errstr pointing at a static message for the client.
 */
int	form_urlencoded(struct form *, const char *s, size_t len,
	    const char **errstr);
/* ctype is the full Content-Type header (its boundary parameter is used). */
int	form_multipart(struct form *, const char *ctype, const char *s,
	    size_t len, const char **errstr);
int	form_json(struct form *, const char *s, size_t len, const char **errstr);

/* The value of name and its length, or NULL when absent. */
const char *form_get(const struct form *, const char *name, size_t *len);

/*
 * The file part called name: its content and length, and its filename
 * (NUL-terminated).  NULL when there is no file part by that name.
 */
const char *form_file(const struct form *, const char *name, size_t *len,
	    const char **filename);

/* Wipe and free every value; the form is then empty. */
void	form_free(struct form *);

#endif
