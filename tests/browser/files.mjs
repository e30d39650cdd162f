// Browser tests of file secrets, driven through a real Chromium
// (playwright-core, no bundled browser).
//
//   node files.mjs BASE_URL ARTIFACT_DIR LIMIT
//
// Run by tests/integration/t_files.py against its own server, whose
// anonymous file limit is LIMIT bytes.  Prints one JSON line per check,
// {"ok":bool,"desc":...,"why":[...]}, diagnostics as {"diag":...}, facts
// for the python side as {"fact":{...}}, and {"done":N} once every flow
// ran.  Environment: CHROMIUM, OTS_NODE_MODULES (as web.mjs).

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, is, launch, out, run } from './lib.mjs';

const [base, artDir, limitArg] = process.argv.slice(2);
const LIMIT = Number(limitArg);

// 300 KiB holding every byte value, in a random order, with a canary inside.
function payload(size, canary) {
	const b = randomBytes(size);
	for (let i = 0; i < 256; i++)
		b[(i * 997) % size] = i;
	if (canary)
		Buffer.from(canary).copy(b, 4096);
	return b;
}

// Upload file {name, buffer} through the create page; {status, h1, link,
// mkey, receipt} after the resulting page loaded.
async function upload(page, file, text) {
	await page.goto(base + '/');
	if (text !== undefined)
		await page.locator('#secret').fill(text);
	await page.locator('#file').setInputFiles({ name: file.name,
	    mimeType: 'application/octet-stream', buffer: file.buffer });
	let status = null;
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.getByRole('button', { name: 'Create a secret link' }).click(),
	]);
	status = resp ? resp.status() : null;
	const h1 = (await page.locator('h1').first().innerText()).trim();
	const link = (await page.locator('#link').count()) ?
	    await page.locator('#link').inputValue() : null;
	const m = /\/private\/([0-9a-z]+)$/.exec(new URL(page.url()).pathname);
	return { status, h1, link, mkey: m ? m[1] : null,
	    receipt: await page.content() };
}

// Open link in a fresh browser and click "View the secret": the download
// {name, bytes}, or null.
async function fetchDownload(link, what) {
	const { context: ctx, close } = await launch({ acceptDownloads: true });
	try {
		const page = ctx.pages()[0] || await ctx.newPage();
		page.setDefaultTimeout(15000);
		await page.goto(link);
		is((await page.locator('h1').first().innerText()).trim(), 'Someone sent you a secret',
		    `${what}: the link opens the confirm page (GET reveals nothing)`);
		const [dl] = await Promise.all([
			page.waitForEvent('download'),
			page.getByRole('button', { name: 'View the secret' }).click(),
		]);
		const path = await dl.path();
		const bytes = path ? readFileSync(path) : null;
		const name = dl.suggestedFilename();
		await page.screenshot({ path: join(artDir, 'files-' + what.replace(/\W+/g, '-') + '.png') });
		// the second opening of the link
		const gone = await ctx.newPage();
		const r = await gone.goto(link);
		is(r.status(), 404, `${what}: the link opened again answers 404`);
		is((await gone.locator('h1').first().innerText()).trim(), 'This secret is not available',
		    `${what}: the link opened again says the secret is gone`);
		return { name, bytes };
	} finally {
		await close();
	}
}

async function flowRoundTrip(page) {
	const canary = 'fc' + randomBytes(12).toString('hex');
	const buffer = payload(300 * 1024, canary);
	const name = `report-${randomBytes(4).toString('hex')}.bin`;
	const up = await upload(page, { name, buffer });
	is(up.status, 200, 'upload 300 KiB: the receipt after the 303');
	check(up.link && /\/secret\/[0-9a-z]+$/.test(up.link), 'upload: the receipt has the link', [up.link]);
	check(!up.receipt.includes(name), 'the receipt does not show the file name');
	check(!/307200|300 KiB|300\.0/.test(up.receipt), 'the receipt does not show the file size');
	await page.screenshot({ path: join(artDir, 'files-receipt.png'), fullPage: true });
	out({ fact: { name, canary, mkey: up.mkey } });
	const dl = await fetchDownload(up.link, 'round trip');
	is(dl.name, name, 'the download has the uploaded name');
	check(dl.bytes && dl.bytes.length === buffer.length && dl.bytes.equals(buffer),
	    'the download is byte-identical (300 KiB, every byte value)',
	    [`got ${dl.bytes ? dl.bytes.length : 'nothing'} bytes`]);
}

async function flowHostileName(page) {
	const buffer = payload(1000);
	const name = 'a"b\\c/../..\u00e9t\u00e9 \u20ac\u202egnp.exe';
	const up = await upload(page, { name, buffer });
	is(up.status, 200, 'a hostile name: uploaded');
	const dl = await fetchDownload(up.link, 'hostile name');
	out({ fact: { hostile_sent: name, hostile_got: dl.name } });
	check(dl.name && !/[\/\\"\u202e]/.test(dl.name) && !dl.name.includes('..') &&
	    !/[\x00-\x1f\x7f]/.test(dl.name), 'a hostile name comes back without separators, quotes, ' +
	    '"..", controls or bidi overrides', [dl.name]);
	check(dl.name && dl.name.includes('\u00e9t\u00e9 \u20ac'), 'its Unicode survives', [dl.name]);
	check(dl.name && !dl.name.includes('%22'), 'the quote Chromium sent as %22 is no "%22" in the name',
	    [dl.name]);
	check(dl.bytes && dl.bytes.equals(buffer), 'a hostile name: the bytes intact');
}

async function flowTooBig(page) {
	const up = await upload(page, { name: 'big.bin', buffer: payload(LIMIT + 1) });
	is(up.status, 413, 'one byte over the anonymous file limit: 413');
	is(up.h1, 'Share a secret', 'over the limit: the create page again');
	const err = (await page.locator('.error').count()) ?
	    (await page.locator('.error').first().innerText()).trim() : '';
	is(err, 'The file is larger than this server takes', 'over the limit: a clear error');
	check(up.mkey === null && up.link === null, 'over the limit: no receipt, no link');
	await page.screenshot({ path: join(artDir, 'files-too-big.png'), fullPage: true });
}

async function flowBoth(page) {
	const up = await upload(page, { name: 'x.bin', buffer: payload(100) }, 'some text');
	is(up.status, 400, 'text and a file at once: 400');
	const err = (await page.locator('.error').count()) ?
	    (await page.locator('.error').first().innerText()).trim() : '';
	is(err, 'Send either a text or a file, not both', 'text and a file: a clear error');
}

async function main() {
	if (!base || !artDir || !LIMIT) {
		console.error('usage: node files.mjs BASE_URL ARTIFACT_DIR LIMIT');
		process.exit(2);
	}
	mkdirSync(artDir, { recursive: true });
	const { context, close } = await launch();
	try {
		const page = context.pages()[0] || await context.newPage();
		page.setDefaultTimeout(15000);
		for (const flow of [flowRoundTrip, flowHostileName, flowTooBig, flowBoth]) {
			try {
				await flow(page);
			} catch (e) {
				check(false, `${flow.name} ran to completion`, (e.stack || String(e)).split('\n').slice(0, 8));
			}
		}
	} finally {
		await close();
	}
}

run('files.mjs', main);
