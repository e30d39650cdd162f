/*
 * i18n: the pages' language.  Page text is English in the templates
 * ({{_ text}}) and in C (_("text")); i18n_text gives it in the language
 * chosen for the request being answered.  API answers stay English.
 *
 * The catalogues are gettext's (po/, domain "ots"), read once by
 * i18n_open before the sandbox; a request picks its language with
 * i18n_use, from ?lang=, the lang cookie or Accept-Language (i18n_pick).
 */
#ifndef OTS_I18N_H
#define OTS_I18N_H

#include <stddef.h>

#define I18N_DOMAIN	"ots"
#define I18N_COOKIE	"lang"	/* the cookie and the query parameter */

/* The languages offered; index 0, English, is the source. */
struct i18n_lang {
	const char	*code;	/* ISO 639-1, as in po/LINGUAS */
	const char	*dir;	/* "ltr" or "rtl" */
};
extern const struct i18n_lang	i18n_langs[];
extern const size_t		i18n_nlangs;

/*
 * Bind the catalogues of localedir and load each language's (so nothing
 * is opened later, inside the sandbox).  0, or -1 when messages cannot be
 * switched (no C.UTF-8): the pages are then English.
 */
int	i18n_open(const char *localedir);

/* The language of code[0..len) ("pt-BR": pt); -1 when not offered. */
int	i18n_find(const char *code, size_t len);

/*
 * The best offered language of an Accept-Language header (q-values
 * honoured; ties: the earlier); 0 (English) when none or NULL.
 */
int	i18n_accept(const char *header);

/* The value of the lang cookie of a Cookie header; -1 when none or unknown. */
int	i18n_cookie(const char *header);

/* Answer in language i from now on (every request sets it). */
void	i18n_use(int i);
int	i18n_current(void);

/* msgid in the current request's language; msgid itself when untranslated. */
const char	*i18n_text(const char *msgid) __attribute__((format_arg(1)));
/* one or many by n, in the current language (gettext's plural forms). */
const char	*i18n_ntext(const char *one, const char *many, unsigned long n)
    __attribute__((format_arg(1), format_arg(2)));

#define _(s)	i18n_text(s)
#define N_(s)	(s)	/* marks a text translated later, where it is used */

#endif
