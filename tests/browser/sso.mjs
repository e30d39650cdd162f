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
import { join } from 'node:path';

import { check, launch, rand, run } from './lib.mjs';

const [base, user, password, artDir] = process.argv.slice(2);

async function main() {
	if (!base || !user || !password || !artDir) {
		console.error('usage: node sso.mjs BASE_URL USER PASSWORD ARTIFACT_DIR');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	// two browsers, a stranger's and the signed-in user's
	const closers = [];
	try {
		// a stranger: the create page is closed, a secret link is not
		const { context: stranger, close: closeStranger } = await launch();
		closers.push(closeStranger);
		const sp = stranger.pages()[0] || await stranger.newPage();
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
		const { context: signed, close: closeSigned } =
		    await launch({ httpCredentials: { username: user, password } });
		closers.push(closeSigned);
		const page = signed.pages()[0] || await signed.newPage();
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

		// ask for a secret from My secrets; the stranger answers it without
		// a sign-in; the answer reaches My secrets and opens once
		await page.fill('#note', 'The printer PIN, please');
		await Promise.all([page.waitForURL(/\/my\/request$/),
		    page.click('form[action$="/my/request"] button[type=submit]')]);
		const ask = await page.inputValue('#link');
		check(/\/request\/[0-9a-z]{31}$/.test(ask), 'My secrets makes a request link', [ask]);
		const answer = 'sso-answer-' + rand();
		r = await sp.goto(ask);
		check(r.status() === 200 && (await sp.locator('#note').innerText()) === 'The printer PIN, please',
		    'the stranger opens it without a sign-in and reads the note', [r.status()]);
		await sp.fill('#secret', answer);
		await Promise.all([sp.waitForLoadState('load'), sp.click('button[type=submit]')]);
		check((await sp.locator('h1').innerText()).length > 0 && !(await sp.content()).includes(answer) &&
		    (await sp.goto(ask)).status() === 404, 'sent: the page shows nothing of it, the link is used up');
		await page.goto(base + '/my');
		const rows = await page.locator('li.mine-row').evaluateAll((ls) => ls.map((l) => l.dataset.key));
		const fresh = rows.filter((k) => k !== mkey && k !== mkey2);
		check(fresh.length === 1, 'My secrets lists the answer', rows);
		await page.goto(base + '/private/' + fresh[0]);
		const alink = await page.inputValue('#link');
		await page.goto(alink);
		await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
		await page.waitForSelector('#value');
		check(await page.inputValue('#value') === answer, 'its receipt\'s link reveals the answer');
	} catch (e) {
		check(false, 'the browser flow ran to completion', (e.stack || String(e)).split('\n').slice(0, 8));
	} finally {
		for (const close of closers)
			await close();
	}
}

run('sso.mjs', main);
