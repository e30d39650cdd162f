// Accessibility: axe-core on every page, in every language, light and dark.
//
//   node axe.mjs BASE_URL SIGNED_IN_URL REQUEST_URLS ARTIFACT_DIR LANG...
//
// Run by tests/integration/t_axe.py.  For each language (the browser's
// Accept-Language) it walks the pages a visitor meets, creating what they
// need through the forms, and runs axe-core (WCAG 2.x A and AA rules, and
// best practices) on each; any violation fails, with its rule and nodes.
// SIGNED_IN_URL is a server whose web server signs every visitor in (My
// secrets); REQUEST_URLS, comma-separated, one request link per visit.
// With OTS_UPDATE_SCREENSHOTS=1, the first visit also rewrites the README's
// pictures of the receipt (QR code), a request link and My secrets in
// doc/screenshots/.
// The context bypasses the pages' CSP only so that axe's own script can be
// injected; the pages' behaviour is tested elsewhere.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { check, diag, launch, moduleFile, rand, run } from './lib.mjs';

const [base, signed, requestList, artDir, ...langs] = process.argv.slice(2);
const requests = (requestList || '').split(',');
const docDir = process.env.OTS_UPDATE_SCREENSHOTS === '1' ?
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'doc', 'screenshots') : null;
const AXE = moduleFile('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

async function axe(page, what) {
	await page.addScriptTag({ content: AXE });
	const res = await page.evaluate((tags) => window.axe.run(document,
	    { runOnly: { type: 'tag', values: tags } }), TAGS);
	const bad = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
	    v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
	check(bad.length === 0, `axe: ${what}: no violations (${res.passes.length} rules pass)`, bad);
}

// axe finds what it should: an image without a text, a field without a label.
async function selfTest() {
	const { context, close } = await launch({ bypassCSP: true });
	try {
		const page = context.pages()[0] || await context.newPage();
		await page.setContent('<!DOCTYPE html><html lang="en"><title>t</title><main>' +
		    '<img src="data:,"><input type="text"></main></html>');
		await page.addScriptTag({ content: AXE });
		const ids = (await page.evaluate(() => window.axe.run())).violations.map((v) => v.id);
		check(ids.includes('image-alt') && ids.includes('label'),
		    'axe reports a page made to fail (image-alt, label)', ids);
	} finally {
		await close();
	}
}

async function submit(page, button) {
	await Promise.all([page.waitForNavigation(), page.locator(button).click()]);
}

// The pages of one visit, each checked with axe; tag names the run, and
// request is the visit's own request link.
async function visit(page, tag, request, doc) {
	const seen = async (what) => axe(page, `${tag}: ${what}`);
	const picture = async (name) => {
		if (doc) {
			await page.locator(':focus').blur().catch(() => {});
			await page.screenshot({ path: join(doc, name), fullPage: true });
			diag(`wrote ${join(doc, name)}`);
		}
	};

	await page.goto(base + '/');
	await seen('create page');
	await page.locator('#secret').fill('axe ' + rand());
	await submit(page, 'button[value=create]');
	await seen('receipt, new secret');
	await picture('receipt.png');
	const link = await page.locator('#link').inputValue();
	const receipt = page.url();
	await page.goto(link);
	await seen('confirm page');
	await submit(page, 'form[action^="/secret/"] button[type=submit]');
	await seen('revealed secret');
	await page.goto(receipt);
	await seen('receipt, opened');
	await page.goto(link);
	await seen('gone page');

	await page.goto(base + '/');
	await page.locator('#secret').fill('axe ' + rand());
	await page.locator('#passphrase').fill('pass ' + rand());
	await submit(page, 'button[value=create]');
	await seen('receipt with passphrase and burn form');
	await page.goto(await page.locator('#link').inputValue());
	await seen('confirm page with passphrase');
	await page.locator('#passphrase').fill('wrong');
	await submit(page, 'form[action^="/secret/"] button[type=submit]');
	await seen('wrong passphrase');

	await page.goto(base + '/');
	await submit(page, 'button[value=generate]');
	await seen('generated password');
	await page.goto(base + '/');
	await submit(page, 'button[value=create]');
	await seen('create page with an error');
	await page.goto(base + '/no/such/page');
	await seen('not found');
	await page.goto(base + '/private/' + 'x'.repeat(31));
	await seen('unknown receipt');
	await page.goto(base + '/my');
	await seen('sign-in needed');

	await page.goto(request);
	await seen('request page');
	await picture('request.png');
	await submit(page, 'form[action*="/request/"] button[type=submit]');
	await seen('request page with an error');
	await page.locator('#secret').fill('axe ' + rand());
	await submit(page, 'form[action*="/request/"] button[type=submit]');
	await seen('request answered');
	await page.goto(request);
	await seen('request link used');

	await page.goto(signed + '/my');
	await seen('My secrets');
	await page.goto(signed + '/');
	await seen('create page, signed in');
	await page.locator('#secret').fill('axe ' + rand());
	await submit(page, 'button[value=create]');
	await seen('receipt, signed in');
	await page.goto(signed + '/my');
	await seen('My secrets with a receipt');
	await picture('my.png');
	await page.locator('#note').fill('The VPN password, please.');
	await submit(page, 'form[action$="/my/request"] button[type=submit]');
	await seen('request link made');
}

async function main() {
	if (!base || !signed || !artDir || langs.length === 0) {
		console.error('usage: node axe.mjs BASE_URL SIGNED_IN_URL REQUEST_URLS ARTIFACT_DIR LANG...');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	await selfTest();
	let visits = 0;
	for (const lang of langs)
		for (const colorScheme of lang === langs[0] ? ['light', 'dark'] : ['light']) {
			const { context, close } = await launch({ locale: lang, colorScheme,
			    bypassCSP: true, viewport: { width: 1000, height: 800 } });
			try {
				const page = context.pages()[0] || await context.newPage();
				page.setDefaultTimeout(15000);
				await visit(page, `${lang}, ${colorScheme}`, requests[visits],
				    visits++ === 0 ? docDir : null);
				await page.goto(base + '/');
				await page.screenshot({ path: join(artDir, `axe-${lang}-${colorScheme}.png`) });
			} catch (e) {
				check(false, `${lang}, ${colorScheme}: every page visited`,
				    (e.stack || String(e)).split('\n').slice(0, 8));
			} finally {
				await close();
			}
		}
	diag(`languages: ${langs.join(' ')}`);
}

run('axe.mjs', main);
