/*
 * i18n: Accept-Language picks the best offered language by q-value,
 * "pt-BR" is Portuguese, nothing offered is English; the lang cookie; and
 * the catalogues of the build tree switch per request and back.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"

#include "tap.h"

static const char *
code(int i)
{
	return i >= 0 ? i18n_langs[i].code : "none";
}

static void
test_accept(void)
{
	static const struct {
		const char	*header, *want;
	} cases[] = {
		{ NULL, "en" },
		{ "", "en" },
		{ "de", "de" },
		{ "DE-at", "de" },
		{ "pt-BR,pt;q=0.9,en;q=0.8", "pt" },
		{ "en-US,en;q=0.9,de;q=0.8", "en" },
		{ "fr;q=0.5, ja;q=0.9", "ja" },
		{ "fr;q=0.5, ja;q=0.5", "fr" },	/* a tie: the earlier */
		{ "xx, de;q=0.1", "de" },	/* the best offered */
		{ "xx, yy;q=0.9", "en" },	/* none offered */
		{ "de;q=0, fr;q=0.2", "fr" },	/* q=0: not acceptable */
		{ "ar;q=1.000, es;q=0.999", "ar" },
		{ "ar;q=0.5 , es ; q=0.6", "es" },	/* spaces */
		{ "es;q=abc, de;q=0.1", "de" },	/* malformed q: skipped */
		{ "es;q=1.5, fr;q=0.2", "fr" },	/* above 1: skipped */
		{ "*", "en" },
		{ "*;q=0.1, ja", "ja" },
		{ "de-CH;level=1;q=0.7, fr;q=0.6", "de" },
		{ "zh-Hant-TW, pt_PT;q=0.3", "pt" },
		{ ",,;q=,de", "de" },
		{ "dex, de-", "de" },	/* "dex" is not "de" */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(code(i18n_accept(cases[i].header)), cases[i].want,
		    "Accept-Language: %s", cases[i].header ? cases[i].header :
		    "(none)");
}

static void
test_cookie(void)
{
	is_str(code(i18n_cookie("lang=ar")), "ar", "cookie lang=ar");
	is_str(code(i18n_cookie("a=b; lang=ja; c=d")), "ja",
	    "cookie among others");
	is_str(code(i18n_cookie("xlang=de; lang=fr")), "fr",
	    "a cookie whose name ends in lang is another");
	is_str(code(i18n_cookie("lang=xx")), "none", "an unknown language");
	is_str(code(i18n_cookie("lang=")), "none", "empty");
	is_str(code(i18n_cookie(NULL)), "none", "no Cookie header");
	is_str(code(i18n_find("pt-BR", 5)), "pt", "pt-BR is Portuguese");
	is_str(code(i18n_find("", 0)), "none", "the empty code");
}

static void
test_catalogues(void)
{
	if (i18n_open(OTS_BUILDDIR "/locale") == -1) {
		ok(0, "i18n_open: C.UTF-8 missing?");
		return;
	}
	is_str(_("Share a secret"), "Share a secret", "English first");
	i18n_use(i18n_find("de", 2));
	is_str(_("Share a secret"), "Ein Geheimnis teilen", "German");
	is_str(i18n_ntext("%lld day", "%lld days", 3), "%lld Tage",
	    "German plural");
	i18n_use(i18n_find("ar", 2));
	is_str(i18n_ntext("%lld day", "%lld days", 2), "يومان",
	    "Arabic dual");
	is_str(i18n_ntext("%lld day", "%lld days", 11), "%lld يومًا",
	    "Arabic 11");
	i18n_use(i18n_find("ja", 2));
	is_str(_("Share a secret"), "シークレットを共有する", "Japanese");
	is_str(_("no such text"), "no such text", "untranslated: itself");
	i18n_use(0);
	is_str(_("Share a secret"), "Share a secret", "English again");
	is_str(_(""), "", "the empty text, not the catalogue's header");
}

int
main(void)
{
	test_accept();
	test_cookie();
	test_catalogues();
	return done();
}
