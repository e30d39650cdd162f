// Browser checks of a request link (tests/integration/t_request.py): the
// page shows the requester's note, takes one secret, says "sent" and shows
// nothing of the keys; the link then refuses.
//
//   node request.mjs REQUEST_URL NOTE VALUE
//
// Prints one JSON line per check ({"ok":bool,"desc":...,"why":[...]}),
// diagnostics as {"diag":...}, and {"done":N} at the end; exits 0 when it ran
// to the end.  Environment: CHROMIUM (default /usr/bin/chromium),
// OTS_NODE_MODULES (where playwright-core is; default node_modules here).

import { check, launch, run } from './lib.mjs';

const [link, note, value] = process.argv.slice(2);

async function main() {
	if (!link || note === undefined || !value) {
		console.error('usage: node request.mjs REQUEST_URL NOTE VALUE');
		process.exit(2);
	}
	const origin = new URL(link).origin;
	const rkey = new URL(link).pathname.split('/').pop();
	const requests = [], errors = [];
	const { context, close } = await launch();
	try {
		const page = context.pages()[0] || await context.newPage();
		page.setDefaultTimeout(15000);
		page.on('request', (r) => requests.push(r.url()));
		page.on('pageerror', (e) => errors.push(String(e)));
		page.on('response', (r) => {
			if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico' &&
			    !new URL(r.url()).pathname.startsWith('/request/'))
				errors.push(`${r.status()} ${r.url()}`);
		});
		page.on('console', (m) => {
			// failed loads are checked by status below (favicon.ico is none of ours)
			if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
				errors.push(m.text());
		});

		let resp = await page.goto(link);
		check(resp.status() === 200, 'the request link opens (200)', `status ${resp.status()}`);
		const h1 = (await page.textContent('h1')).trim();
		check(h1 === 'Someone asks you for a secret', 'the page says someone asks for a secret', h1);
		const shown = (await page.textContent('#note')).trim();
		check(shown === note, 'the requester\'s note is shown as text', [shown, note]);
		check(await page.$('#note script, #note b') === null, 'the note is not markup');

		// a reload is no answer
		resp = await page.reload();
		check(resp.status() === 200, 'opening it again still works (GET takes nothing)');

		await page.fill('#secret', value);
		await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
		const body = await page.content();
		const sentH1 = (await page.textContent('h1')).trim();
		check(sentH1 === 'Your secret was sent', 'after sending: "Your secret was sent"', sentH1);
		check(!body.includes(value), 'the sent page does not show the value');
		check(!body.includes(rkey), 'the sent page does not show the request key');
		check(!/\/private\/|\/secret\//.test(body), 'the sent page has no receipt nor secret link');

		// (the next page is a 404 on purpose: Chromium logs it as an error)
		check(errors.length === 0, 'no script or console error (CSP included)', errors);
		resp = await page.goto(link);
		check(resp.status() === 404, 'the request link refuses a second time (404)', `status ${resp.status()}`);
		const goneH1 = (await page.textContent('h1')).trim();
		check(goneH1 === 'This request link has been used or has expired',
		    'it says the link has been used or has expired', goneH1);

		const foreign = requests.filter((u) => !u.startsWith(origin + '/'));
		check(foreign.length === 0, 'every browser request went to the server', foreign);
	} finally {
		await close();
	}
}

run('request.mjs', main);
