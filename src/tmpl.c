#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "tmpl.h"
#include "util.h"

#define NAME_MAX_LEN	64

struct tmpl {
	struct {
		char		 name[NAME_MAX_LEN + 1];
		struct buf	 text;
	} t[TMPL_MAX];
	size_t	 n;
};

static int
load_file(const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (b->len > (1 << 20) || buf_add(b, chunk, n) == -1) {
			rc = -1;
			break;
		}
	if (ferror(f) || b->len == 0)
		rc = -1;
	fclose(f);
	return rc;
}

struct tmpl *
tmpl_load(const char *dir, char *err, size_t errlen)
{
	struct tmpl *t;
	struct dirent *de;
	char path[4096];
	size_t len;
	DIR *d;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: cannot open template directory",
		    dir);
		free(t);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if (t->n == TMPL_MAX || len - 5 > NAME_MAX_LEN) {
			snprintf(err, errlen, "%s: too many templates", dir);
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (load_file(path, &t->t[t->n].text) == -1) {
			snprintf(err, errlen, "%s: cannot read", path);
			goto fail;
		}
		memcpy(t->t[t->n].name, de->d_name, len - 5);
		t->n++;
	}
	closedir(d);
	return t;
fail:
	closedir(d);
	tmpl_free(t);
	return NULL;
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		buf_free(&t->t[i].text);
	free(t);
}

int
tmpl_escape(struct buf *out, const char *s, size_t len)
{
	const char *rep;
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (buf_add(out, s + start, i - start) == -1 ||
		    buf_puts(out, rep) == -1)
			return -1;
		start = i + 1;
	}
	return buf_add(out, s + start, len - start);
}

static const struct buf *
find(const struct tmpl *t, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strlen(t->t[i].name) == len &&
		    memcmp(t->t[i].name, name, len) == 0)
			return &t->t[i].text;
	return NULL;
}

static const char *
lookup(const struct tmpl_var *v, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i].name) == len &&
		    memcmp(v[i].name, name, len) == 0)
			return v[i].value;
	return NULL;
}

struct ctx {
	const struct tmpl	*t;
	const struct tmpl_var	*vars;
	size_t			 nvars;
	struct buf		*out;
};

/* {{_ text}}: the text in the page's language, escaped. */
static int
text(const struct ctx *c, const char *s, size_t len)
{
	char msgid[TMPL_TEXT_MAX + 1];
	const char *t;

	if (len > TMPL_TEXT_MAX)
		return -1;
	memcpy(msgid, s, len);
	msgid[len] = '\0';
	t = i18n_text(msgid);
	return tmpl_escape(c->out, t, strlen(t));
}

/*
 * Render s[0..len).  A block's end is the first {{/name}} after it, so a
 * name cannot be nested inside a block of the same name.
 */
static int
render(const struct ctx *c, const char *s, size_t len, int depth)
{
	const char *end = s + len, *open, *close, *name, *val, *stop;
	const struct buf *inc;
	char tag[NAME_MAX_LEN + 8];
	size_t nlen;
	int show;

	if (depth > TMPL_DEPTH)
		return -1;
	while (s < end) {
		if ((open = memmem(s, (size_t)(end - s), "{{", 2)) == NULL)
			return buf_add(c->out, s, (size_t)(end - s));
		if (buf_add(c->out, s, (size_t)(open - s)) == -1 ||
		    (close = memmem(open, (size_t)(end - open), "}}", 2)) == NULL)
			return -1;
		name = open + 2;
		nlen = (size_t)(close - name);
		s = close + 2;
		if (nlen > 2 && name[0] == '_' && name[1] == ' ') {
			if (text(c, name + 2, nlen - 2) == -1)
				return -1;
			continue;
		}
		if (nlen == 0 || nlen > NAME_MAX_LEN)
			return -1;
		switch (*name) {
		case '#':
		case '^':
			snprintf(tag, sizeof(tag), "{{/%.*s}}", (int)nlen - 1,
			    name + 1);
			if ((stop = memmem(s, (size_t)(end - s), tag,
			    strlen(tag))) == NULL)
				return -1;
			val = lookup(c->vars, c->nvars, name + 1, nlen - 1);
			show = val != NULL && *val != '\0';
			if ((*name == '#') == show &&
			    render(c, s, (size_t)(stop - s), depth + 1) == -1)
				return -1;
			s = stop + strlen(tag);
			break;
		case '>':
			if ((inc = find(c->t, name + 1, nlen - 1)) == NULL ||
			    render(c, inc->data, inc->len, depth + 1) == -1)
				return -1;
			break;
		case '/':
			return -1;	/* an end without a start */
		default:
			if ((val = lookup(c->vars, c->nvars, name, nlen)) != NULL
			    && tmpl_escape(c->out, val, strlen(val)) == -1)
				return -1;
		}
	}
	return 0;
}

int
tmpl_render(const struct tmpl *t, const char *name,
    const struct tmpl_var *vars, size_t nvars, struct buf *out)
{
	const struct buf *b = find(t, name, strlen(name));
	struct ctx c = { t, vars, nvars, out };

	if (b == NULL)
		return -1;
	return render(&c, b->data, b->len, 0);
}
