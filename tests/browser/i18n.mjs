// Browser tests of the pages' languages, in a real Chromium
// (playwright-core, no bundled browser).
//
//   node i18n.mjs BASE_URL ARTIFACT_DIR TEXTS_JSON [DOC_SCREENSHOT_DIR]
//
// Run by tests/integration/t_i18n.py against its own server; TEXTS_JSON is
// {LANG: {msgid: msgstr}} read from po/LANG.po.  For each language, chosen
// by the browser's locale (Accept-Language): the create, receipt, confirm,
// reveal and error pages have <html lang dir>, the translated headings and
// no English left among their main texts.  Arabic's layout is mirrored.
// With JavaScript off, the footer's language links set the lang cookie,
// which wins over Accept-Language, and a secret is still created and
// revealed.  Prints one JSON line per check, {"ok":bool,"desc":...}, and
// {"done":N} at the end (see web.mjs).  DOC_SCREENSHOT_DIR, when given,
// receives create-de.png and create-ar.png.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, diag, is, launch, run } from './lib.mjs';

const [base, artDir, textsFile, docDir] = process.argv.slice(2);
const DESKTOP = { width: 1000, height: 800 };
const LOCALES = { en: 'en-US', de: 'de-DE', fr: 'fr-FR', es: 'es-ES', pt: 'pt-BR', ja: 'ja-JP', ar: 'ar-EG' };

let texts = {};

function tr(lang, msgid) {
	return (texts[lang] && texts[lang][msgid]) || msgid;
}

// The English texts a translated page must not show: every msgid whose
// translation differs (German "Status" is "Status").
function english(lang) {
	return new Set(Object.entries(texts[lang] || {})
	    .filter(([id, s]) => s && s !== id && !id.includes('%')).map(([id]) => id));
}

// The page's main texts: headings, labels, buttons, options, hints, links
// (not the brand nor the language links, which name each language in itself).
async function mainTexts(page) {
	return page.evaluate(() => {
		const sel = 'h1, h2, label, button, option, p, dt, dd, main a, .tagline';
		const seen = [];
		for (const el of document.querySelectorAll(sel)) {
			let t = '';
			for (const n of el.childNodes)
				if (n.nodeType === Node.TEXT_NODE)
					t += n.textContent;
			t = t.trim();
			if (t)
				seen.push(t);
		}
		const ph = document.querySelector('textarea[placeholder]');
		if (ph)
			seen.push(ph.placeholder);
		return seen;
	});
}

async function pageChecks(page, lang, what, heading) {
	const attrs = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
	is(attrs.join(' '), `${lang} ${lang === 'ar' ? 'rtl' : 'ltr'}`, `${lang}: ${what}: <html lang dir>`);
	is((await page.locator('h1').textContent()).trim(), tr(lang, heading), `${lang}: ${what}: the heading`);
	if (lang !== 'en') {
		const en = english(lang);
		const left = (await mainTexts(page)).filter((t) => en.has(t) ||
		    [...en].some((e) => e.length > 12 && t.includes(e)));
		check(left.length === 0, `${lang}: ${what}: no English left among the main texts`, left);
	}
}

// Text extent of an element's contents, and its parent card's content box.
async function textBox(page, selector) {
	return page.evaluate((s) => {
		const el = document.querySelector(s);
		const r = document.createRange();
		r.selectNodeContents(el);
		const t = r.getBoundingClientRect();
		const box = el.getBoundingClientRect();
		return { left: t.left, right: t.right, boxLeft: box.left, boxRight: box.right };
	}, selector);
}

async function flowLanguage(lang) {
	const { context, close } = await launch({ locale: LOCALES[lang], viewport: DESKTOP });
	const page = context.pages()[0] || await context.newPage();
	page.setDefaultTimeout(15000);
	try {
		const secret = `i18n-${lang}-${Date.now()}`;
		await page.goto(base + '/');
		await pageChecks(page, lang, 'create page', 'Share a secret');
		is(await page.locator('label[for=secret]').textContent(), tr(lang, 'Secret'), `${lang}: create page: the secret's label`);
		is((await page.locator('button.primary').textContent()).trim(), tr(lang, 'Create a secret link'), `${lang}: create page: the button`);
		if (lang === 'de' || lang === 'ar') {
			await page.locator('#secret').fill(lang === 'de' ? 'WLAN: Atelier-Gast\nPasswort: pflaume-orbit-57-tundra'
			    : 'شبكة Wi-Fi: ضيوف-المرسم\nكلمة المرور: plum-orbit-57-tundra');
			await page.locator('#secret').blur();
			await page.screenshot({ path: join(artDir, `i18n-create-${lang}.png`), fullPage: true });
			if (docDir) {
				mkdirSync(docDir, { recursive: true });
				await page.screenshot({ path: join(docDir, `create-${lang}.png`), fullPage: true });
				diag(`wrote ${docDir}/create-${lang}.png`);
			}
		}
		// the layout: a label's text starts at the inline start (right in Arabic)
		const lb = await textBox(page, 'label[for=secret]');
		if (lang === 'ar')
			check(Math.abs(lb.right - lb.boxRight) < 2 && lb.left > lb.boxLeft + 20,
			    'ar: the label is right-aligned (mirrored layout)', JSON.stringify(lb));
		else
			check(Math.abs(lb.left - lb.boxLeft) < 2, `${lang}: the label is left-aligned`, JSON.stringify(lb));

		await page.locator('#secret').fill(secret);
		await page.locator('#passphrase').fill('pw-' + lang);
		await Promise.all([page.waitForNavigation(), page.locator('button.primary').click()]);
		await pageChecks(page, lang, 'receipt', 'Your secret link');
		const warn = await page.locator('.warning').evaluate((el) => {
			const cs = getComputedStyle(el);
			return [cs.borderLeftWidth, cs.borderRightWidth];
		});
		is(warn.join(' '), lang === 'ar' ? '0px 4px' : '4px 0px', `${lang}: receipt: the warning's bar is at the inline start`);
		const link = await page.locator('#link').inputValue();
		is(await page.locator('#link').getAttribute('dir'), 'ltr', `${lang}: receipt: the link reads left to right`);

		await page.goto(link);
		await pageChecks(page, lang, 'confirm page', 'Someone sent you a secret');
		await page.locator('#passphrase').fill('pw-' + lang);
		await Promise.all([page.waitForNavigation(), page.locator('button.primary').click()]);
		await pageChecks(page, lang, 'reveal page', 'Your secret');
		is((await page.locator('#value').inputValue()).trim(), secret, `${lang}: reveal page: the secret`);

		await page.goto(link);
		await pageChecks(page, lang, 'gone page', 'This secret is not available');
		await page.goto(base + '/no/such/page');
		await pageChecks(page, lang, 'error page', 'Not found');
	} finally {
		await close();
	}
}

// Without JavaScript: the language links, the cookie, and the forms.
async function flowPicker() {
	const { context, close } = await launch({ locale: 'de-DE', viewport: DESKTOP, javaScriptEnabled: false });
	const page = context.pages()[0] || await context.newPage();
	page.setDefaultTimeout(15000);
	try {
		await page.setContent('<title>off</title><script>document.title = "on"</script>');
		is(await page.title(), 'off', 'picker: JavaScript is off (a page script did not run)');
		await page.goto(base + '/');
		is(await page.locator('html').getAttribute('lang'), 'de', 'picker: German from Accept-Language');
		await Promise.all([page.waitForNavigation(), page.locator('a[hreflang=ar]').click()]);
		is(await page.locator('html').getAttribute('lang'), 'ar', 'picker: the Arabic link switches the page');
		is(await page.locator('html').getAttribute('dir'), 'rtl', 'picker: Arabic is right to left');
		const c = (await context.cookies()).find((k) => k.name === 'lang');
		check(c && c.value === 'ar' && c.httpOnly && c.sameSite === 'Lax' && c.path === '/',
		    'picker: cookie lang=ar, HttpOnly, SameSite=Lax, Path=/', JSON.stringify(c));
		await page.goto(base + '/');
		is(await page.locator('html').getAttribute('lang'), 'ar', 'picker: the cookie wins over Accept-Language');
		// a secret made and revealed by the forms alone, in Arabic
		const secret = `nojs-${Date.now()}`;
		await page.locator('#secret').fill(secret);
		await Promise.all([page.waitForNavigation(), page.locator('button.primary').click()]);
		is((await page.locator('h1').textContent()).trim(), tr('ar', 'Your secret link'), 'picker: the receipt in Arabic');
		const link = await page.locator('#link').inputValue();
		await page.goto(link);
		await Promise.all([page.waitForNavigation(), page.locator('button.primary').click()]);
		is((await page.locator('h1').textContent()).trim(), tr('ar', 'Your secret'), 'picker: the reveal page in Arabic');
		is((await page.locator('#value').inputValue()).trim(), secret, 'picker: the secret revealed without JavaScript');
		is(await page.locator('a[hreflang]').count(), 0, 'picker: no language links beside a revealed secret');
		await page.goto(base + '/');
		await Promise.all([page.waitForNavigation(), page.locator('a[hreflang=en]').click()]);
		is(await page.locator('html').getAttribute('lang'), 'en', 'picker: back to English by its link');
		is((await context.cookies()).find((k) => k.name === 'lang')?.value, 'en', 'picker: the cookie says en');
		is(new URL(page.url()).search, '?lang=en', 'picker: the link is a plain ?lang= link');
	} finally {
		await close();
	}
}

async function main() {
	if (!base || !artDir || !textsFile) {
		console.error('usage: node i18n.mjs BASE_URL ARTIFACT_DIR TEXTS_JSON [DOC_SCREENSHOT_DIR]');
		process.exit(2);
	}
	texts = JSON.parse(readFileSync(textsFile, 'utf8'));
	mkdirSync(artDir, { recursive: true });
	for (const lang of Object.keys(LOCALES)) {
		if (lang !== 'en' && !texts[lang]) {
			check(false, `${lang}: a catalogue to compare with`);
			continue;
		}
		try {
			await flowLanguage(lang);
		} catch (e) {
			check(false, `${lang}: the flow ran to completion`, (e.stack || String(e)).split('\n').slice(0, 8));
		}
	}
	check(Object.keys(texts).every((l) => l in LOCALES), 'every language of po/LINGUAS is tried here',
	    Object.keys(texts));
	try {
		await flowPicker();
	} catch (e) {
		check(false, 'the picker flow ran to completion', (e.stack || String(e)).split('\n').slice(0, 8));
	}
}

run('i18n.mjs', main);
