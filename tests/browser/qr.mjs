// Browser checks of the receipt's QR code, the copy buttons and dark mode,
// in a real Chromium (playwright-core, no bundled browser).
//
//   node qr.mjs BASE_URL ARTIFACT_DIR
//
// Run by tests/integration/t_qr.py (and t_prefix.py, with a BASE_URL that
// has a path) against its own server.  Prints one JSON line per check,
// {"ok":bool,"desc":...,"why":[...]}, diagnostics as {"diag":...}, and
// {"done":N} once every flow ran.  The QR code is screenshotted and read
// back with zbarimg (ZBARIMG, default zbarimg).  Environment: CHROMIUM,
// OTS_NODE_MODULES as for web.mjs.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { check, diag, is, launch, rand, run } from './lib.mjs';

const [base, artDir] = process.argv.slice(2);
const origin = base ? new URL(base).origin : '';
const root = base ? new URL(base).pathname.replace(/\/+$/, '') : '';
const ZBARIMG = process.env.ZBARIMG || 'zbarimg';

const requests = [];
const cspErrors = [];
const pageErrors = [];

function watch(page) {
	page.on('request', (r) => requests.push(r.url()));
	page.on('console', (m) => {
		if (/content security policy/i.test(m.text()))
			cspErrors.push(`${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
}

async function h1(page) {
	const loc = page.locator('h1');
	return (await loc.count()) ? (await loc.first().innerText()).trim() : null;
}

// Create through the form (button: its name); returns {mkey, link} and the
// response of the POST.
async function create(page, secret, button = 'Create a secret link') {
	await page.goto(base + '/');
	if (secret !== undefined)
		await page.locator('#secret').fill(secret);
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.getByRole('button', { name: button }).click(),
	]);
	const link = (await page.locator('#link').count()) ? await page.locator('#link').inputValue() : null;
	const m = /\/private\/([0-9a-z]+)$/.exec(new URL(page.url()).pathname);
	return { link, mkey: m ? m[1] : null, resp };
}

// Screenshot the QR code and read it with zbarimg: the decoded text, or
// null with a diagnostic.
async function decodeQr(page, name) {
	const file = join(artDir, name + '.png');
	await page.locator('#qr').screenshot({ path: file });
	try {
		return execFileSync(ZBARIMG, ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file],
		    { encoding: 'utf8', timeout: 30000 }).replace(/\n$/, '');
	} catch (e) {
		diag(`zbarimg ${file}: status ${e.status}: ${e.stderr || e.message}`);
		return null;
	}
}

// The share link's QR code reads back as the link, for two links.
async function flowQr(page) {
	const a = await create(page, 'qr one ' + rand());
	check(a.link && a.link.startsWith(base + '/secret/'), 'created through the form: a share link under ' + base,
	    a.link);
	is(await page.locator('#qr').count(), 1, 'the receipt has one QR code (#qr)');
	const svg = await page.evaluate(() => {
		const s = document.querySelector('#qr');
		if (!s)
			return null;
		const t = s.querySelector('title');
		return {
			tag: s.tagName.toLowerCase(),
			role: s.getAttribute('role'),
			label: s.getAttribute('aria-labelledby'),
			title: t ? t.textContent.trim() : '',
			titleId: t ? t.id : '',
			paths: s.querySelectorAll('path').length,
			img: document.querySelectorAll('img, object, embed, iframe').length,
			viewBox: s.getAttribute('viewBox'),
		};
	});
	check(svg && svg.tag === 'svg' && svg.paths === 1 && svg.img === 0,
	    'the QR code is an inline <svg> with one <path> (no img, object or iframe)', svg);
	check(svg && svg.role === 'img' && svg.title.length > 0 && svg.label === svg.titleId,
	    'the QR code is role="img" labelled by its <title>', svg);
	const got = await decodeQr(page, 'qr-1');
	is(got, a.link, 'zbarimg reads the QR code as the share link, exactly');

	const b = await create(page, 'qr two ' + rand());
	const got2 = await decodeQr(page, 'qr-2');
	check(b.link && b.link !== a.link, 'a second secret: another link', [a.link, b.link]);
	is(got2, b.link, 'the second QR code reads as the second link (not a constant picture)');
	const size = (svg && svg.viewBox || '').split(' ');
	check(size.length === 4 && size[2] === size[3] && Number(size[2]) >= 21 + 8,
	    'viewBox is square, at least version 1 (21 modules) and the quiet zones', svg && svg.viewBox);

	// the generated password's receipt: a QR code of its link too
	const g = await create(page, undefined, 'Generate a random password instead');
	is(await decodeQr(page, 'qr-generated'), g.link, 'generated password: the QR code reads as its link');

	// once revealed, the receipt shows no QR code (no share link)
	await page.goto(a.link);
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'View the secret' }).click()]);
	await page.goto(`${base}/private/${a.mkey}`);
	is(await page.locator('#qr').count(), 0, 'after the reveal the receipt has no QR code');
	is(await page.locator('script').count(), 0, 'and loads no script (nothing left to copy)');
}

// Copy buttons copy; JavaScript on shows them.
async function flowCopy(page) {
	const secret = 'copy me ' + rand();
	const a = await create(page, secret);
	const btn = page.locator('button[data-copy="#link"]');
	check(await btn.isVisible(), 'JavaScript on: the link\'s copy button is shown');
	await page.evaluate(() => navigator.clipboard.writeText('before'));
	const label = (await btn.innerText()).trim();
	await btn.click();
	await page.waitForFunction((l) => document.querySelector('button[data-copy="#link"]').textContent !== l,
	    label);
	is(await page.evaluate(() => navigator.clipboard.readText()), a.link,
	    'clicking "copy the link" puts the share link on the clipboard');
	check((await btn.innerText()).trim() !== label, 'the button says it copied', await btn.innerText());

	const g = await create(page, undefined, 'Generate a random password instead');
	const value = await page.locator('#value').inputValue();
	const vb = page.locator('button[data-copy="#value"]');
	check(await vb.isVisible(), 'generated password: its copy button is shown');
	await vb.click();
	await page.waitForFunction(() => navigator.clipboard.readText().then(() => true));
	await page.waitForFunction((v) => navigator.clipboard.readText().then((t) => t === v), value,
	    { timeout: 5000 }).catch(() => {});
	is(await page.evaluate(() => navigator.clipboard.readText()), value,
	    'clicking "copy the password" copies the generated password');

	await page.goto(a.link);
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'View the secret' }).click()]);
	const rb = page.locator('button[data-copy="#value"]');
	check(await rb.isVisible(), 'reveal page: the copy button is shown');
	await rb.click();
	await page.waitForFunction((v) => navigator.clipboard.readText().then((t) => t === v), secret,
	    { timeout: 5000 }).catch(() => {});
	is(await page.evaluate(() => navigator.clipboard.readText()), secret,
	    'clicking "copy the secret" copies the revealed value');
	void g;
}

// Without JavaScript: no copy button, everything else there and working.
async function flowNoScript(context) {
	const page = await context.newPage();
	watch(page);
	const secret = 'no script ' + rand();
	const a = await create(page, secret);
	check(a.link && a.link.startsWith(base + '/secret/'), 'JavaScript off: created through the form', a.link);
	is(await page.locator('button[data-copy]').count(), 1, 'JavaScript off: the copy button is in the page');
	check(!(await page.locator('button[data-copy]').isVisible()), 'JavaScript off: the copy button stays hidden');
	check(await page.locator('#link').isVisible(), 'JavaScript off: the link field is shown');
	check(await page.locator('#qr').isVisible(), 'JavaScript off: the QR code is shown');
	is(await decodeQr(page, 'qr-noscript'), a.link, 'JavaScript off: the QR code reads as the link');
	check(await page.getByText('Select the link and copy it').isVisible(),
	    'JavaScript off: the page says how to copy by hand');
	await page.goto(a.link);
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'View the secret' }).click()]);
	is(await page.locator('#value').inputValue(), secret, 'JavaScript off: the secret reveals');
	check(!(await page.locator('button[data-copy]').isVisible()),
	    'JavaScript off: the reveal page\'s copy button stays hidden');
	await page.close();
}

function luminance(rgb) {
	const m = /rgba?\((\d+), (\d+), (\d+)/.exec(rgb || '');
	if (!m)
		return null;
	const c = [m[1], m[2], m[3]].map((v) => {
		v = Number(v) / 255;
		return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
	});
	return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function contrast(a, b) {
	const [x, y] = [luminance(a), luminance(b)];
	if (x === null || y === null)
		return 0;
	return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

async function colours(page) {
	return page.evaluate(() => {
		const cs = (sel, p) => {
			const e = document.querySelector(sel);
			return e ? getComputedStyle(e)[p] : null;
		};
		return {
			bg: cs('body', 'backgroundColor'), fg: cs('body', 'color'),
			card: cs('.card', 'backgroundColor'), cardFg: cs('.card', 'color'),
			link: cs('main a', 'color'), hint: cs('.hint', 'color'),
			field: cs('#link', 'backgroundColor'), fieldFg: cs('#link', 'color'),
		};
	});
}

// prefers-color-scheme: dark gives dark pages with readable text; the QR
// code keeps dark modules on white.
async function flowDark(context, scheme) {
	const page = context.pages()[0] || await context.newPage();
	watch(page);
	const a = await create(page, `${scheme} ` + rand());
	const c = await colours(page);
	const l = luminance(c.bg);
	if (scheme === 'dark')
		check(l !== null && l < 0.05, `dark: the page background is dark (${c.bg})`, c);
	else
		check(l !== null && l > 0.8, `light: the page background is light (${c.bg})`, c);
	const pairs = [['text on page', c.fg, c.bg], ['text on card', c.cardFg, c.card],
	    ['link', c.link, c.bg], ['hint on card', c.hint, c.card], ['field', c.fieldFg, c.field]];
	const low = pairs.filter(([, f, b]) => contrast(f, b) < 4.5)
	    .map(([w, f, b]) => `${w}: ${f} on ${b}: ${contrast(f, b).toFixed(2)}`);
	check(low.length === 0, `${scheme}: text contrast at least 4.5:1 (page, card, link, hint, field)`, low);
	is(await decodeQr(page, `qr-${scheme}`), a.link, `${scheme}: the QR code still reads as the link`);
	await page.screenshot({ path: join(artDir, `qr-receipt-${scheme}.png`), fullPage: true });
}

// Run flow(context) in a browser of its own, launched with options; a
// failure is a check (what ran to completion), and the next flow goes on.
async function inBrowser(what, options, flow) {
	const { context, close } = await launch(options);
	try {
		await flow(context);
	} catch (e) {
		check(false, `${what} ran to completion`, (e.stack || String(e)).split('\n').slice(0, 8));
	} finally {
		await close();
	}
}

async function main() {
	if (!base || !artDir) {
		console.error('usage: node qr.mjs BASE_URL ARTIFACT_DIR');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	await inBrowser('the clipboard browser', { viewport: { width: 1000, height: 900 } }, async (context) => {
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
		const page = context.pages()[0] || await context.newPage();
		page.setDefaultTimeout(15000);
		watch(page);
		for (const flow of [flowQr, flowCopy]) {
			try {
				await flow(page);
			} catch (e) {
				check(false, `${flow.name} ran to completion`, (e.stack || String(e)).split('\n').slice(0, 8));
			}
		}
	});
	await inBrowser('flowNoScript', { javaScriptEnabled: false }, flowNoScript);
	for (const colorScheme of ['light', 'dark'])
		await inBrowser(`flowDark (${colorScheme})`, { colorScheme }, (context) => flowDark(context, colorScheme));
	is(cspErrors.length, 0, 'no Content-Security-Policy violation on any page');
	if (cspErrors.length)
		diag(cspErrors.join('\n'));
	is(pageErrors.length, 0, 'no script error on any page');
	const outside = requests.filter((u) => !u.startsWith(origin + root + '/'));
	check(outside.length === 0, `every one of ${requests.length} requests stayed under ${origin}${root}/`,
	    outside.slice(0, 10));
}

run('qr.mjs', main);
