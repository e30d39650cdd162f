/*
 * tmpl: HTML templates, the one writer of HTML.  Templates are files
 * (web/templates/NAME.html, installed under PKGDATADIR/templates) loaded
 * once at start-up.  Syntax:
 *
 *   {{name}}               the value of name, HTML-escaped (always)
 *   {{#name}}...{{/name}}  the block when name is set and not empty
 *   {{^name}}...{{/name}}  the block when name is unset or empty
 *   {{>name}}              the template name.html, with the same values
 *   {{_ text}}             the text translated (i18n_text), HTML-escaped
 *
 * There is no way to insert a value unescaped.
 */
#ifndef OTS_TMPL_H
#define OTS_TMPL_H

#include <stddef.h>

struct buf;
struct tmpl;

#define TMPL_MAX	32	/* templates in a directory */
#define TMPL_DEPTH	8	/* nested blocks and includes */
#define TMPL_TEXT_MAX	1024	/* bytes of a {{_ text}} */

struct tmpl_var {
	const char	*name;
	const char	*value;		/* NULL: unset */
};

/* Load every *.html of dir.  NULL with a message on error. */
struct tmpl	*tmpl_load(const char *dir, char *err, size_t errlen);
void		 tmpl_free(struct tmpl *);

/*
 * Render template name with the nvars values into out.  0, or -1 when the
 * template is missing or malformed, or memory runs out.
 */
int	tmpl_render(const struct tmpl *, const char *name,
	    const struct tmpl_var *vars, size_t nvars, struct buf *out);

/* Append s[0..len) to out with & < > " ' escaped.  0 or -1. */
int	tmpl_escape(struct buf *out, const char *s, size_t len);

#endif
