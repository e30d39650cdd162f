// Browser tests of the ots web pages, driven through a real Chromium with
// JavaScript enabled (playwright-core, no bundled browser).
//
//   node web.mjs BASE_URL ARTIFACT_DIR [DOC_SCREENSHOT_DIR]
//
// Run by tests/integration/t_web.py against its own server.  Prints one JSON
// line per check, {"ok":bool,"desc":...,"why":[...]}, diagnostics as
// {"diag":...}, and {"done":N} once every flow ran; exits 0 when it ran to
// the end (the python side turns the checks into TAP and decides).
// Environment: CHROMIUM (default /usr/bin/chromium), OTS_NODE_MODULES (where
// playwright-core is installed; default node_modules next to this file).
// DOC_SCREENSHOT_DIR, when given, receives create.png and reveal.png for the
// README.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { check, diag, is, launch, rand, run } from './lib.mjs';

const [base, artDir, docDir] = process.argv.slice(2);
const origin = base ? new URL(base).origin : '';
const GEN_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ23456789*$!?(';
const EVIL = 'http://evil.example';
const DESKTOP = { width: 1000, height: 800 };
const PHONE = { width: 390, height: 844 };

// -------------------------------------------------------------- the API side

async function apiState(mkey) {
	const r = await fetch(`${base}/api/v1/private/${mkey}`);
	const j = await r.json().catch(() => null);
	return j && typeof j.state === 'string' ? j.state : `HTTP ${r.status}`;
}

// ------------------------------------------------------------ browser helpers

// Everything the browser asked for, and everything odd that happened.
const requests = [];	// {method, url, page}
const responses = [];	// {method, url, status}
const dialogs = [];
const cspErrors = [];
const pageErrors = [];

function watch(page) {
	page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
	page.on('response', (r) => responses.push({ method: r.request().method(),
	    url: r.url(), status: r.status() }));
	page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
	page.on('console', (m) => {
		if (/content security policy/i.test(m.text()))
			cspErrors.push(`${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
}

async function shot(page, name, fullPage = true) {
	await page.screenshot({ path: join(artDir, name + '.png'), fullPage });
}

// The status of the last main-frame response for this URL path.
function lastStatus(method, path) {
	for (let i = responses.length - 1; i >= 0; i--) {
		const r = responses[i];
		if (r.method === method && new URL(r.url).pathname === path)
			return r.status;
	}
	return null;
}

async function text(page, sel) {
	const loc = page.locator(sel);
	return (await loc.count()) ? (await loc.first().innerText()).trim() : null;
}

async function h1(page) {
	return text(page, 'h1');
}

// Type into a field the way a person does: click it, then the keyboard.
async function typeInto(page, sel, value) {
	await page.locator(sel).click();
	await page.keyboard.type(value);
}

// Fill the create form and press one of its buttons; returns after the
// resulting page loaded.
async function submitCreate(page, { secret, passphrase, ttl, button = 'create', fill = false }) {
	await page.goto(base + '/');
	if (secret !== undefined) {
		if (fill)
			await page.locator('#secret').fill(secret);
		else
			await typeInto(page, '#secret', secret);
	}
	if (passphrase)
		await typeInto(page, '#passphrase', passphrase);
	if (ttl)
		await page.selectOption('#ttl', ttl);
	const name = button === 'create' ? 'Create a secret link' : 'Generate a random password instead';
	await Promise.all([
		page.waitForNavigation(),
		page.getByRole('button', { name }).click(),
	]);
}

// Create through the form: {mkey, link, skey}.
async function createSecret(page, opts) {
	await submitCreate(page, opts);
	const m = /\/private\/([0-9a-z]+)$/.exec(new URL(page.url()).pathname);
	const link = (await page.locator('#link').count()) ? await page.locator('#link').inputValue() : null;
	const s = link ? /\/secret\/([0-9a-z]+)$/.exec(link) : null;
	if (!m || !s)
		throw new Error(`creating a secret through the form failed: at ${page.url()}, ` +
		    `HTTP ${lastStatus('POST', '/')}, "${await h1(page)}"`);
	return { mkey: m[1], link, skey: s[1] };
}

async function clickView(page) {
	await Promise.all([
		page.waitForNavigation(),
		page.getByRole('button', { name: 'View the secret' }).click(),
	]);
}

// The controls of the page that have no label[for] naming their id.
async function unlabelled(page) {
	return page.evaluate(() => [...document.querySelectorAll('input, textarea, select')]
	    .filter((e) => e.type !== 'hidden')
	    .filter((e) => !e.id || e.labels.length === 0 ||
		!document.querySelector(`label[for="${CSS.escape(e.id)}"]`))
	    .map((e) => e.outerHTML.slice(0, 120)));
}

// Press Tab from the top of the page and report the buttons (and other
// controls) focus never reached.
async function unreachable(page) {
	const want = await page.evaluate(() => {
		const all = [...document.querySelectorAll('button, input, textarea, select, a[href]')]
		    .filter((e) => e.type !== 'hidden');
		all.forEach((e, i) => e.setAttribute('data-tabcheck', String(i)));
		if (document.activeElement)
			document.activeElement.blur();
		return all.map((e) => ({ i: String(e.getAttribute('data-tabcheck')),
		    what: e.outerHTML.slice(0, 100) }));
	});
	const seen = new Set();
	for (let n = 0; n < want.length * 2 + 4; n++) {
		await page.keyboard.press('Tab');
		const i = await page.evaluate(() => document.activeElement &&
		    document.activeElement.getAttribute('data-tabcheck'));
		if (i !== null)
			seen.add(i);
	}
	await page.evaluate(() => document.querySelectorAll('[data-tabcheck]')
	    .forEach((e) => e.removeAttribute('data-tabcheck')));
	return want.filter((w) => !seen.has(w.i)).map((w) => w.what);
}

async function a11y(page, what) {
	const u = await unlabelled(page);
	check(u.length === 0, `${what}: every input, textarea and select has a label[for] naming its id`, u);
	const buttons = await page.locator('button').count();
	const r = await unreachable(page);
	check(r.length === 0, `${what}: Tab reaches all ${buttons} button(s) and every control`, r);
}

async function noHorizontalScroll(page, what) {
	const d = await page.evaluate(() => ({ scroll: document.scrollingElement.scrollWidth,
	    inner: window.innerWidth }));
	check(d.scroll <= d.inner, `${what} at ${PHONE.width}px: no horizontal scroll`,
	    `scrollWidth ${d.scroll} > innerWidth ${d.inner}`);
}

// ------------------------------------------------------------------ flows

// Create, open, reveal once, then gone; the receipt follows along.
async function flowBasic(page) {
	const secret = 'plain ' + rand();
	await page.goto(base + '/');
	is(await h1(page), 'Share a secret', 'GET /: the create form');
	await shot(page, 'create');
	const css = await page.evaluate(() => getComputedStyle(
	    document.querySelector('button.primary')).backgroundColor);
	is(css, 'rgb(11, 92, 173)', 'the stylesheet /static/ots.css applies under the CSP');
	await a11y(page, 'create page');

	const { mkey, link, skey } = await createSecret(page, { secret });
	is(lastStatus('POST', '/'), 303, 'create: POST / answers 303');
	check(mkey && /^[1-9a-z][0-9a-z]{30}$/.test(mkey), 'create: lands on /private/METADATA_KEY', page.url());
	check(link === `${base}/secret/${skey}` && /^[1-9a-z][0-9a-z]{30}$/.test(skey || ''),
	    'receipt: #link holds BASE/secret/KEY', String(link));
	check(skey !== mkey, 'receipt: the share key differs from the receipt key');
	is(await text(page, '.state'), 'Not yet opened', 'receipt: state says not yet opened');
	check(!(await page.content()).includes(secret), 'receipt: the secret is not on the page');
	await shot(page, 'receipt');
	await a11y(page, 'receipt page');

	// the recipient opens the link: a confirmation page, nothing consumed
	const before = requests.length;
	const resp = await page.goto(link);
	is(resp.status(), 200, 'share link: HTTP 200');
	is(await h1(page), 'Someone sent you a secret', 'share link: the confirmation page');
	check(!(await page.content()).includes(secret), 'confirmation page: the secret is not on it');
	await page.waitForLoadState('networkidle');
	await page.waitForTimeout(300);
	const early = requests.slice(before).filter((r) => r.method !== 'GET');
	check(early.length === 0, 'confirmation page with JavaScript on: only GET requests before the click', early);
	// the API's first metadata fetch answers new (and marks it viewed): the
	// receipt and the confirmation page changed nothing
	is(await apiState(mkey), 'new', 'after the receipt and the link were opened: the API says new');
	await shot(page, 'confirm');
	await a11y(page, 'confirmation page');

	// a second look at the link still shows the confirmation page
	await page.goto(link);
	is(await h1(page), 'Someone sent you a secret', 'share link opened twice: still the confirmation page');

	await clickView(page);
	is(lastStatus('POST', `/secret/${skey}`), 200, 'View the secret: POST answers 200');
	is(await h1(page), 'Your secret', 'View the secret: the reveal page');
	is(await page.locator('#value').inputValue(), secret, 'reveal: #value equals what was typed');
	await shot(page, 'reveal');
	await a11y(page, 'reveal page');

	// replaying the POST (reload) and visiting again: gone
	const nposts = requests.filter((r) => r.method === 'POST').length;
	const re = await page.reload().catch((e) => diag('reload: ' + e.message));
	diag(`reload of the reveal page: ${requests.filter((r) => r.method === 'POST').length - nposts} POST(s), ` +
	    `HTTP ${re ? re.status() : '-'}, "${await h1(page)}"`);
	check(!(await page.content()).includes(secret), 'reveal page reloaded: the value is not shown again',
	    await h1(page));
	const again = await page.goto(link);
	is(again.status(), 404, 'link visited again: HTTP 404');
	is(await h1(page), 'This secret is not available', 'link visited again: not available');
	check(!(await page.content()).includes(secret), 'not-available page: no value');
	await shot(page, 'gone');

	await page.goto(`${base}/private/${mkey}`);
	is(await text(page, '.state'), 'Opened: the secret is gone', 'receipt after the reveal: opened');
	check(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(await text(page, 'dt:text-is("Opened") + dd') || ''),
	    'receipt after the reveal: when it was opened', await text(page, '.facts'));
	is(await page.locator('#link').count(), 0, 'receipt after the reveal: no share link');
	is(await page.locator('form[action$="/burn"]').count(), 0, 'receipt after the reveal: no burn form');
	is(await apiState(mkey), 'received', 'API after the reveal: received');
	await shot(page, 'receipt-opened');

	// the same page for an unknown key
	const unknown = await page.goto(`${base}/secret/${rand(31).replace(/^0/, '1')}`);
	is(unknown.status(), 404, 'unknown secret key: HTTP 404');
	is(await h1(page), 'This secret is not available', 'unknown secret key: the same page as a used one');
	const badReceipt = await page.goto(`${base}/private/${rand(31).replace(/^0/, '1')}`);
	is(badReceipt.status(), 404, 'unknown receipt: HTTP 404');
	is(await h1(page), 'Unknown receipt', 'unknown receipt: its error page');
	await shot(page, 'error-receipt');
	await a11y(page, 'error page');
}

async function flowPassphrase(page) {
	const secret = 'with passphrase ' + rand();
	const pass = 'pass-' + rand(8);
	const { mkey, link } = await createSecret(page, { secret, passphrase: pass, ttl: '3600' });
	check(link, 'passphrase: receipt shows the link');
	check((await page.locator('.hint').allInnerTexts()).some((t) => /only with the passphrase/.test(t)),
	    'passphrase: receipt says the link needs the passphrase');
	check(/^(59 minutes|1 hour, 0 minutes)$/.test(await text(page, 'dt:text-is("Expires in") + dd') || ''),
	    'passphrase: 1 hour lifetime chosen in the select shows on the receipt',
	    await text(page, '.facts'));

	await page.goto(link);
	check(await page.locator('#passphrase').count() === 1, 'passphrase: the confirmation page asks for it');
	await shot(page, 'confirm-passphrase');
	await a11y(page, 'confirmation page with passphrase');

	// empty: the browser's required check keeps the form from being sent
	const before = requests.length;
	await page.getByRole('button', { name: 'View the secret' }).click();
	await page.waitForTimeout(300);
	is(requests.slice(before).filter((r) => r.method === 'POST').length, 0,
	    'passphrase: empty passphrase is not sent (required field)');

	await typeInto(page, '#passphrase', pass + 'x');
	await clickView(page);
	is(lastStatus('POST', new URL(link).pathname), 400, 'wrong passphrase: HTTP 400');
	is(await text(page, '.error'), 'That passphrase is not right.', 'wrong passphrase: the error is shown');
	is(await page.locator('#passphrase').count(), 1, 'wrong passphrase: the form is shown again');
	check(!(await page.content()).includes(secret), 'wrong passphrase: no value');
	is(await apiState(mkey), 'new', 'wrong passphrase: not consumed (API: new)');
	await shot(page, 'error-passphrase');
	await a11y(page, 'wrong-passphrase page');

	await typeInto(page, '#passphrase', pass);
	await clickView(page);
	is(await page.locator('#value').inputValue().catch(() => null), secret, 'right passphrase: the value');
	is(await apiState(mkey), 'received', 'right passphrase: received');
}

async function flowGenerate(page) {
	await submitCreate(page, { button: 'generate' });
	is(lastStatus('POST', '/'), 200, 'generate: POST / answers 200 with the receipt');
	is(await h1(page), 'Your secret link', 'generate: the receipt');
	const pw = (await page.locator('#value').count()) ? await page.locator('#value').inputValue() : '';
	is(pw.length, 12, 'generate: a 12-character password is shown');
	check([...pw].every((c) => GEN_ALPHABET.includes(c)), 'generate: password from the generator alphabet', pw);
	const link = await page.locator('#link').inputValue().catch(() => null);
	const action = await page.locator('form[action$="/burn"]').getAttribute('action').catch(() => null);
	const m = /^\/private\/([0-9a-z]{31})\/burn$/.exec(action || '');
	check(link && m, 'generate: the receipt has the share link and a burn form', [link, action]);
	await shot(page, 'receipt-generated');
	await a11y(page, 'generated-password receipt');
	if (!link || !m)
		return;
	await page.goto(`${base}/private/${m[1]}`);
	is(await page.locator('#value').count(), 0, 'generate: the receipt fetched again does not show the password');
	check(!(await page.content()).includes(pw), 'generate: the password is nowhere on the later receipt');
	await page.goto(link);
	await clickView(page);
	is(await page.locator('#value').inputValue().catch(() => null), pw, 'generate: the link reveals that password');
}

async function flowBurn(page) {
	const secret = 'burn me ' + rand();
	const { mkey, link } = await createSecret(page, { secret });
	await Promise.all([
		page.waitForNavigation(),
		page.getByRole('button', { name: 'Burn this secret' }).click(),
	]);
	is(lastStatus('POST', `/private/${mkey}/burn`), 303, 'burn: POST answers 303');
	is(new URL(page.url()).pathname, `/private/${mkey}`, 'burn: back on the receipt');
	is(await text(page, '.state'), 'Burned: the secret is gone', 'burn: receipt says burned');
	is(await page.locator('#link').count(), 0, 'burn: receipt no longer shows the link');
	await shot(page, 'receipt-burned');
	const r = await page.goto(link);
	is(r.status(), 404, 'burned link: HTTP 404');
	is(await h1(page), 'This secret is not available', 'burned link: not available');
	is(await apiState(mkey), 'burned', 'burn: API says burned');

	// with a passphrase: a wrong one changes nothing
	const pass = 'burnpass-' + rand(6);
	const p = await createSecret(page, { secret: 'burn ' + rand(), passphrase: pass });
	await typeInto(page, '#burn-passphrase', pass + 'x');
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'Burn this secret' }).click()]);
	is(lastStatus('POST', `/private/${p.mkey}/burn`), 400, 'burn, wrong passphrase: HTTP 400');
	is(await text(page, '.error'), 'That passphrase is not right.', 'burn, wrong passphrase: error shown');
	is(await apiState(p.mkey), 'new', 'burn, wrong passphrase: not burned (API: new)');
	await typeInto(page, '#burn-passphrase', pass);
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'Burn this secret' }).click()]);
	is(await text(page, '.state'), 'Burned: the secret is gone', 'burn, right passphrase: burned');
}

// Hostile and exotic values: exact round trip, inert rendering.
async function flowEscaping(page) {
	const values = [
		['markup', 'x<script>alert(1)</script>y "quotes\' & <b>bold</b> </textarea><script>alert(2)</script>' +
		    '<img src=x onerror=alert(3)> &lt;kept&gt; &amp;'],
		['unicode', 'emoji 😀👍🏽👩‍👩‍👧 RTL שלום مرحبا \u202Eevil\u202C CJK 秘密の合言葉 密码 ' +
		    'combining e\u0301 a\u0308 \u0915\u094d\u0937 zero\u200Bwidth'],
		['multiline', 'line one\nline two\n\n  indented\ttab  \nlast line  '],
	];
	for (const [what, secret] of values) {
		const dialogsBefore = dialogs.length;
		const { link, mkey } = await createSecret(page, { secret, fill: what === 'multiline' });
		if (!check(link, `${what}: created through the form`, page.url()))
			continue;
		await page.goto(link);
		await clickView(page);
		const got = await page.locator('#value').inputValue().catch(() => null);
		is(got, secret, `${what}: the revealed textarea equals the input exactly`);
		const counts = await page.evaluate(() => ({
			// the page's own copy.js (copy buttons) aside
			script: [...document.querySelectorAll('script')]
			    .filter((e) => new URL(e.src || 'about:blank', location.href).pathname !== '/static/copy.js').length,
			b: document.querySelectorAll('b').length,
			img: document.querySelectorAll('img').length,
			textarea: document.querySelectorAll('textarea').length,
		}));
		check(counts.script === 0 && counts.b === 0 && counts.img === 0 && counts.textarea === 1,
		    `${what}: no element made from the value (0 script, 0 b, 0 img, 1 textarea)`, counts);
		await page.waitForTimeout(200);
		is(dialogs.length - dialogsBefore, 0, `${what}: no dialog fired`);
		if (what === 'markup')
			await shot(page, 'reveal-markup');
		is(await apiState(mkey), 'received', `${what}: received afterwards`);
	}

	// a value that starts with a newline (the HTML parser drops one newline
	// right after <textarea>)
	const lead = '\nstarts with a newline ' + rand(4);
	const { link } = await createSecret(page, { secret: lead, fill: true });
	if (check(link, 'leading newline: created')) {
		await page.goto(link);
		await clickView(page);
		is(await page.locator('#value').inputValue().catch(() => null), lead,
		    'leading newline: the revealed textarea keeps it');
	}
}

// A form on another site posting to the reveal URL: refused, nothing consumed.
async function flowCrossSite(page) {
	const secret = 'csrf ' + rand();
	const { mkey, link, skey } = await createSecret(page, { secret });
	await page.route(EVIL + '/**', (route) => route.fulfill({
		status: 200, contentType: 'text/html',
		body: `<!DOCTYPE html><title>evil</title><form method="post" action="${link}">` +
		    '<input type="hidden" name="x" value="1"><button>Win a prize</button></form>',
	}));
	await page.goto(EVIL + '/');
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: 'Win a prize' }).click()]);
	const st = lastStatus('POST', `/secret/${skey}`);
	is(st, 403, 'cross-site form post to the reveal URL: HTTP 403');
	is(await h1(page), 'Form refused', 'cross-site form post: the refusal page');
	check(!(await page.content()).includes(secret), 'cross-site form post: no value');
	is(await apiState(mkey), 'new', 'cross-site form post: not consumed (API: new)');
	await shot(page, 'error-crosssite');
	await page.unroute(EVIL + '/**');
	await page.goto(link);
	await clickView(page);
	is(await page.locator('#value').inputValue().catch(() => null), secret,
	    'after the refused cross-site post: revealed from the site itself');
}

async function flowPhone(page) {
	await page.setViewportSize(PHONE);
	await page.goto(base + '/');
	await shot(page, 'create-phone');
	await noHorizontalScroll(page, 'create page');
	const secret = 'phone ' + rand() + ' ' + 'averyveryverylongwordwithoutanyspaces'.repeat(3);
	const { link } = await createSecret(page, { secret });
	await noHorizontalScroll(page, 'receipt');
	await shot(page, 'receipt-phone');
	await page.goto(link);
	await noHorizontalScroll(page, 'confirmation page');
	await clickView(page);
	await noHorizontalScroll(page, 'reveal page');
	await shot(page, 'reveal-phone');
	await page.goto(link);
	await noHorizontalScroll(page, 'not-available page');
	await page.setViewportSize(DESKTOP);
}

// The README's pictures: the create form filled in, and a revealed secret.
async function flowDocScreenshots(page) {
	mkdirSync(docDir, { recursive: true });
	const demo = 'Wi-Fi: studio-guest\nPassword: plum-orbit-57-tundra';
	await page.setViewportSize(DESKTOP);
	await page.goto(base + '/');
	await page.locator('#secret').fill(demo);
	await page.locator('#secret').blur();
	await page.screenshot({ path: join(docDir, 'create.png'), fullPage: true });
	const { link } = await createSecret(page, { secret: demo, fill: true });
	await page.goto(link);
	await clickView(page);
	await page.locator('#value').blur();
	await page.screenshot({ path: join(docDir, 'reveal.png'), fullPage: true });
	diag(`wrote ${docDir}/create.png and reveal.png`);
}

// ------------------------------------------------------------------- main

async function main() {
	if (!base || !artDir) {
		console.error('usage: node web.mjs BASE_URL ARTIFACT_DIR [DOC_SCREENSHOT_DIR]');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	const { context, close } = await launch({ viewport: DESKTOP });
	try {
		const page = context.pages()[0] || await context.newPage();
		page.setDefaultTimeout(15000);
		watch(page);
		diag(`chromium ${context.browser() ? context.browser().version() : ''}`.trim());
		check(await page.evaluate(() => 1 + 1) === 2, 'the browser runs JavaScript (enabled)');

		for (const flow of [flowBasic, flowPassphrase, flowGenerate, flowBurn, flowEscaping,
		    flowCrossSite, flowPhone]) {
			try {
				await flow(page);
			} catch (e) {
				check(false, `${flow.name} ran to completion`, (e.stack || String(e)).split('\n').slice(0, 8));
				await page.setViewportSize(DESKTOP).catch(() => {});
			}
		}
		if (docDir)
			await flowDocScreenshots(page);

		is(dialogs.length, 0, 'no JavaScript dialog fired on any page');
		if (dialogs.length)
			diag(dialogs.join('\n'));
		is(cspErrors.length, 0, 'no Content-Security-Policy violation on any page');
		if (cspErrors.length)
			diag(cspErrors.join('\n'));
		is(pageErrors.length, 0, 'no script error on any page');
		const foreign = requests.filter((r) => !r.url.startsWith(origin + '/') &&
		    !r.url.startsWith(EVIL + '/'));
		check(foreign.length === 0, `every one of ${requests.length} browser requests went to ${origin} ` +
		    '(no external fonts, scripts or images)', foreign.slice(0, 10));
		const sub = requests.filter((r) => r.url.startsWith(origin + '/') &&
		    !/^\/(|secret\/[0-9a-z]+|private\/[0-9a-z]+(\/burn)?|static\/ots\.css|static\/copy\.js)$/.test(new URL(r.url).pathname));
		check(sub.length === 0, 'the pages load nothing but the pages, /static/ots.css and /static/copy.js',
		    sub.slice(0, 10));
	} finally {
		await close();
	}
}

run('web.mjs', main);
