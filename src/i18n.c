#include "config.h"

#include <ctype.h>
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

/* gettext's documented way to make it drop its cached translations. */
extern int	_nl_msg_cat_cntr;

/* The order of po/LINGUAS is free; English first, the source. */
const struct i18n_lang i18n_langs[] = {
	{ "en", "ltr" },
	{ "de", "ltr" },
	{ "fr", "ltr" },
	{ "es", "ltr" },
	{ "pt", "ltr" },
	{ "ja", "ltr" },
	{ "ar", "rtl" },
};
const size_t i18n_nlangs = sizeof(i18n_langs) / sizeof(i18n_langs[0]);

static int	ready;		/* messages can be switched */
static int	current;	/* the request's language */

void
i18n_use(int i)
{
	if (i < 0 || (size_t)i >= i18n_nlangs || !ready)
		i = 0;
	if (i == current)
		return;
	current = i;
	if (ready && i != 0) {
		setenv("LANGUAGE", i18n_langs[i].code, 1);
		++_nl_msg_cat_cntr;
	}
}

int
i18n_current(void)
{
	return current;
}

int
i18n_open(const char *localedir)
{
	size_t i;

	/*
	 * gettext ignores LANGUAGE in the "C" locale; C.UTF-8 is built into
	 * glibc (2.35 and later).  Only the messages' category changes.
	 */
	if (setlocale(LC_MESSAGES, "C.UTF-8") == NULL &&
	    setlocale(LC_MESSAGES, "C.utf8") == NULL)
		return -1;
	if (bindtextdomain(I18N_DOMAIN, localedir) == NULL ||
	    bind_textdomain_codeset(I18N_DOMAIN, "UTF-8") == NULL)
		return -1;
	ready = 1;
	/* load every catalogue now: the sandbox opens no files later */
	for (i = 1; i < i18n_nlangs; i++) {
		i18n_use((int)i);
		(void)dgettext(I18N_DOMAIN, "Share a secret");
	}
	i18n_use(0);
	return 0;
}

const char *
i18n_text(const char *msgid)
{
	if (current == 0 || !ready || msgid == NULL || *msgid == '\0')
		return msgid;
	return dgettext(I18N_DOMAIN, msgid);
}

const char *
i18n_ntext(const char *one, const char *many, unsigned long n)
{
	if (current == 0 || !ready)
		return n == 1 ? one : many;
	return dngettext(I18N_DOMAIN, one, many, n);
}

int
i18n_find(const char *code, size_t len)
{
	size_t i, n;

	/* the primary subtag: "pt-BR" is Portuguese */
	for (n = 0; n < len && code[n] != '-' && code[n] != '_'; n++)
		;
	for (i = 0; i < i18n_nlangs; i++)
		if (strlen(i18n_langs[i].code) == n &&
		    strncasecmp(i18n_langs[i].code, code, n) == 0)
			return (int)i;
	return -1;
}

/* q=VALUE: thousandths, 0 to 1000; -1 when malformed. */
static int
qvalue(const char *s, size_t len)
{
	int q = 0, scale = 1000;
	size_t i = 0;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	i = 1;
	if (i < len) {
		if (s[i++] != '.')
			return -1;
		for (; i < len && i <= 4; i++) {
			if (!isdigit((unsigned char)s[i]))
				return -1;
			scale /= 10;
			q += (s[i] - '0') * scale;
		}
		if (i < len)
			return -1;
	}
	return q > 1000 ? -1 : q;
}

int
i18n_accept(const char *h)
{
	const char *p, *end, *semi, *tag, *param;
	size_t tlen;
	int best = 0, bestq = 0, q, lang;

	if (h == NULL)
		return 0;
	for (p = h; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = p + strcspn(p, ",");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		tag = p;
		tlen = strcspn(tag, ";, \t");
		if (tag + tlen > end)
			tlen = (size_t)(end - tag);
		q = 1000;
		for (semi = tag + tlen; semi < end; ) {
			semi = memchr(semi, ';', (size_t)(end - semi));
			if (semi == NULL)
				break;
			param = semi + 1;
			while (param < end && (*param == ' ' || *param == '\t'))
				param++;
			semi = param;
			if (end - param >= 2 && (param[0] == 'q' ||
			    param[0] == 'Q') && param[1] == '=') {
				size_t vl = strcspn(param + 2, "; \t,");

				if (param + 2 + vl > end)
					vl = (size_t)(end - param - 2);
				q = qvalue(param + 2, vl);
			}
		}
		if (tlen == 0 || q <= 0)
			continue;
		/* "*": any language, so the source one */
		lang = tlen == 1 && *tag == '*' ? 0 : i18n_find(tag, tlen);
		if (lang >= 0 && q > bestq) {
			best = lang;
			bestq = q;
		}
	}
	return best;
}

int
i18n_cookie(const char *h)
{
	const char *p, *v;
	size_t n, len = strlen(I18N_COOKIE);

	if (h == NULL)
		return -1;
	for (p = h; *p != '\0'; p += *p == ';') {
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ";");
		if (n > len && strncmp(p, I18N_COOKIE, len) == 0 &&
		    p[len] == '=') {
			v = p + len + 1;
			return i18n_find(v, (size_t)(p + n - v));
		}
		p += n;
	}
	return -1;
}
