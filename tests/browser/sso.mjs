// Browser checks of signed-in creation (web_create = authenticated behind a
// web server's Basic auth), through a real Chromium (playwright-core).
//
//   node sso.mjs BASE_URL USER PASSWORD ARTIFACT_DIR
//
// Run by tests/integration/t_sso.py against a shipped sign-in example.
// Prints one JSON line per check, {"ok":bool,"desc":...,"why":[...]},
// diagnostics as {"diag":...}, and {"done":N} at the end.
// Environment: CHROMIUM (default /usr/bin/chromium), OTS_NODE_MODULES.

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [base, user, password, artDir] = process.argv.slice(2);
let nchecks = 0;

function out(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

function check(cond, desc, why) {
	nchecks++;
	const o = { ok: !!cond, desc };
	if (!cond && why !== undefined)
		o.why = [].concat(why).map((w) => (typeof w === 'string' ? w : JSON.stringify(w)));
	out(o);
	return !!cond;
}

function rand(n = 12) {
	let s = '';
	while (s.length < n)
		s += Math.random().toString(36).slice(2);
	return s.slice(0, n);
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
	if (!base || !user || !password || !artDir) {
		console.error('usage: node sso.mjs BASE_URL USER PASSWORD ARTIFACT_DIR');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	const modules = process.env.OTS_NODE_MODULES || join(here, 'node_modules');
	const { chromium } = createRequire(join(here, 'sso.mjs'))(join(modules, 'playwright-core'));
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
	});
	try {
		// a stranger: the create page is closed, a secret link is not
		const stranger = await browser.newContext();
		const sp = await stranger.newPage();
		sp.setDefaultTimeout(15000);
		// (Chromium's navigation to a 401 with a challenge and no
		// credentials fails as ERR_INVALID_AUTH_CREDENTIALS: ask with
		// the context's own request client instead)
		let r = await stranger.request.get(base + '/', { maxRedirects: 0 });
		check(r.status() === 401, 'without a sign-in, the create page answers 401', [r.status()]);
		let failed = '';
		await sp.goto(base + '/').catch((e) => { failed = e.message; });
		check(failed.includes('ERR_INVALID_AUTH_CREDENTIALS'),
		    'and the browser does not show it', [failed]);

		// the signed-in user
		const signed = await browser.newContext({ httpCredentials: { username: user, password } });
		const page = await signed.newPage();
		page.setDefaultTimeout(15000);
		r = await page.goto(base + '/');
		check(r.status() === 200, 'signed in, the create page opens', [r.status()]);
		check(await page.locator('#my-link').isVisible(), 'the header links My secrets');
		check((await page.locator('header .user').innerText()).includes(user), 'the header names the user');

		const value = 'sso-' + rand();
		await page.fill('#secret', value);
		await Promise.all([page.waitForURL(/\/private\/[0-9a-z]{31}$/),
		    page.click('button[value=create]')]);
		const mkey = new URL(page.url()).pathname.split('/')[2];
		const link = await page.inputValue('#link');
		check(/\/secret\/[0-9a-z]{31}$/.test(link), 'the create lands on the receipt with its link', [link]);
		await page.screenshot({ path: join(artDir, 'sso-receipt.png') });

		await Promise.all([page.waitForURL(/\/my$/), page.click('#my-link')]);
		const row = page.locator(`li.mine-row[data-key="${mkey}"]`);
		check(await row.count() === 1, 'My secrets lists the new secret', [await page.content()]);
		check((await row.locator('.state').innerText()).length > 0 &&
		    await row.locator('.state-new').count() === 1, 'its state: not yet opened');
		await page.screenshot({ path: join(artDir, 'sso-my.png'), fullPage: true });

		// a second secret, revealed by the stranger through its link
		await page.goto(base + '/');
		const value2 = 'sso2-' + rand();
		await page.fill('#secret', value2);
		await Promise.all([page.waitForURL(/\/private\//), page.click('button[value=create]')]);
		const mkey2 = new URL(page.url()).pathname.split('/')[2];
		const link2 = await page.inputValue('#link');
		r = await sp.goto(link2);
		check(r.status() === 200, 'a stranger opens the secret link without a sign-in', [r.status()]);
		await Promise.all([sp.waitForLoadState('load'), sp.click('button[type=submit]')]);
		await sp.waitForSelector('#value');
		check(await sp.inputValue('#value') === value2, 'and reveals the secret');

		// burn the first from My secrets
		await page.goto(base + '/my');
		await Promise.all([page.waitForURL(new RegExp(`/private/${mkey}$`)),
		    page.locator(`li.mine-row[data-key="${mkey}"] button.danger`).click()]);
		check((await page.content()).includes('state-burned'), 'the burn button burns it (the receipt says so)');
		await page.goto(base + '/my');
		check(await page.locator(`li.mine-row[data-key="${mkey}"] .state-burned`).count() === 1,
		    'My secrets: the first burned');
		check(await page.locator(`li.mine-row[data-key="${mkey2}"] .state-received`).count() === 1,
		    'My secrets: the second opened');
		check(!(await page.content()).includes(value) && !(await page.content()).includes(value2),
		    'My secrets shows no secret value');
		await page.screenshot({ path: join(artDir, 'sso-my-after.png'), fullPage: true });
		await stranger.close();
		await signed.close();
	} catch (e) {
		check(false, 'the browser flow ran to completion', (e.stack || String(e)).split('\n').slice(0, 8));
	} finally {
		await browser.close();
	}
	out({ done: nchecks });
}

main();
