/*
 * i18n: the pages' language.  Page text is English in the templates
 * ({{_ text}}) and in C (_("text")); i18n_text gives it in the language
 * chosen for the request being answered.  API answers stay English.
 */
#ifndef OTS_I18N_H
#define OTS_I18N_H

/* msgid in the current request's language; msgid itself when untranslated. */
const char	*i18n_text(const char *msgid);

#define _(s)	i18n_text(s)
#define N_(s)	(s)	/* marks a text translated later, where it is used */

#endif
