// What every browser script shares: the JSON-lines protocol its python
// driver (tests/integration/browser.py) reads, and starting Chromium.
//
// One JSON line per check, {"ok":bool,"desc":...,"why":[...]}, diagnostics
// as {"diag":...}, values for the python side as {"fact":...} (run_script
// returns them), and {"done":N} once the script ran to the end.
// Environment: CHROMIUM (default /usr/bin/chromium), OTS_NODE_MODULES (where
// playwright-core and axe-core are; default node_modules next to this file).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.OTS_NODE_MODULES || join(here, 'node_modules');
const require = createRequire(join(here, 'lib.mjs'));

let nchecks = 0;

export function out(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

export function diag(msg) {
	out({ diag: String(msg) });
}

export function check(cond, desc, why) {
	nchecks++;
	const o = { ok: !!cond, desc };
	if (!cond && why !== undefined)
		o.why = [].concat(why).map((w) => (typeof w === 'string' ? w : JSON.stringify(w)));
	out(o);
	return !!cond;
}

export function is(got, want, desc) {
	return check(got === want, desc, ['got:      ' + JSON.stringify(got),
	    'expected: ' + JSON.stringify(want)]);
}

export function rand(n = 12) {
	let s = '';
	while (s.length < n)
		s += Math.random().toString(36).slice(2);
	return s.slice(0, n);
}

// The text of an installed npm package's file (axe-core's script, say).
export function moduleFile(path) {
	return readFileSync(join(modules, path), 'utf8');
}

// Start Chromium with a throwaway profile: {context, close}.  options go to
// launchPersistentContext (viewport, locale, colorScheme, bypassCSP...).
export async function launch(options = {}) {
	let chromium;
	try {
		({ chromium } = require(join(modules, 'playwright-core')));
	} catch (e) {
		check(false, 'playwright-core loads', [`from ${modules}: ${e.message}`,
		    'run: npm ci --prefix tests/browser']);
		process.exit(1);
	}
	const profile = mkdtempSync(join(tmpdir(), 'ots-chromium-'));
	let context;
	try {
		context = await chromium.launchPersistentContext(profile, {
			executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
			headless: true,
			javaScriptEnabled: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			    '--no-first-run', '--disable-background-networking',
			    '--disable-component-update', '--disable-sync'],
			...options,
		});
	} catch (e) {
		rmSync(profile, { recursive: true, force: true });
		throw e;
	}
	const close = async () => {
		await context.close().catch(() => {});
		rmSync(profile, { recursive: true, force: true });
	};
	return { context, close };
}

// Run main; report the end (or how it failed) the way the driver expects.
export function run(name, main) {
	main().then(() => out({ done: nchecks }), (e) => {
		check(false, `${name} ran to completion`, (e.stack || String(e)).split('\n').slice(0, 10));
		process.exit(1);
	});
}
