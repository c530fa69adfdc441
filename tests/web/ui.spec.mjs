// SPDX-License-Identifier: BSD-2-Clause
// The web UI in headless Chromium, run by tests/integration/t0035-web-ui.sh: search, open a
// package, check its README, signers and versions, and save a screenshot of the package page.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

function env(name) {
	const value = process.env[name];
	if (!value)
		throw new Error(`${name} is not set (run through t0035-web-ui.sh)`);
	return value;
}

const base = env('BPK_WEB_URL');
const keyid = env('BPK_WEB_KEYID');
const rootKeyid = env('BPK_WEB_ROOT_KEYID');
const screenshot = env('BPK_WEB_SCREENSHOT');
// playwright-core lives in the build directory, not beside this file.
const require = createRequire(path.join(env('BPK_WEB_MODULES'), 'package.json'));
const { chromium } = require('playwright-core');

const context = await chromium.launchPersistentContext(env('BPK_WEB_PROFILE'), {
	executablePath: env('BPK_WEB_CHROMIUM'),
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	       '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(15000);

// What must never happen: a script error, a dialog (an injected alert), a console error (a CSP
// violation is one), a request that leaves the repository's origin.
const problems = [];
const page = context.pages()[0] ?? await context.newPage();
page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
page.on('dialog', async (dialog) => {
	problems.push(`dialog: ${dialog.message()}`);
	await dialog.dismiss();
});
page.on('console', (msg) => {
	if (msg.type() === 'error')
		problems.push(`console: ${msg.text()}`);
});
await context.route('**/*', (route) => {
	const url = route.request().url();
	if (url.startsWith(base + '/') || url.startsWith('data:'))
		return route.continue();
	problems.push(`request outside the repository: ${url}`);
	return route.abort();
});

function step(what) {
	console.log(`ui.spec: ${what}`);
}

try {
	step('the home page shows the root key id and a search box in the header');
	let response = await page.goto(base + '/');
	assert.equal(response.status(), 200);
	assert.equal((await page.textContent('#root-keyid')).trim(), rootKeyid);
	const headerBg = await page.locator('header.top').evaluate(
		(el) => getComputedStyle(el).backgroundColor);
	assert.equal(headerBg, 'rgb(23, 51, 94)', 'the stylesheet is applied');

	step('typing a query and pressing Enter lists the matching package');
	const box = page.locator('header input[name="q"]');
	await box.fill('count');
	await Promise.all([page.waitForURL(/\/search\?q=count$/), box.press('Enter')]);
	const results = page.locator('.results .result');
	assert.equal(await results.count(), 1);
	assert.match(await results.first().textContent(), /pktcount\s+1\.0\.0/);
	assert.equal(await box.inputValue(), 'count');

	step('clicking the package opens its page with the rendered README');
	await Promise.all([page.waitForURL(/\/packages\/pktcount$/),
			   results.first().locator('a.name').click()]);
	assert.equal((await page.textContent('#package-name')).replace(/\s+/g, ' ').trim(),
		     'pktcount 1.0.0');
	assert.equal((await page.textContent('#readme h1')).trim(), 'Packet counter');
	assert.equal(await page.locator('#readme strong').textContent(), 'XDP');
	assert.equal(await page.locator('#readme script').count(), 0);

	step('the signers table shows the signing key id');
	const signer = page.locator('#signers td code.keyid');
	assert.equal(await signer.count(), 1);
	assert.equal((await signer.textContent()).trim(), keyid);

	step('the yanked version is marked and struck through');
	const yanked = page.locator('#versions li[data-yanked="true"]');
	assert.equal(await yanked.count(), 1);
	assert.match(await yanked.textContent(), /1\.1\.0\s*yanked/);
	assert.match(await yanked.locator('del').evaluate(
		(el) => getComputedStyle(el).textDecorationLine), /line-through/);
	assert.equal(await page.locator('#versions li.current').textContent().then(
		(t) => t.trim().startsWith('1.0.0')), true);

	step('install command, programs and maps tables');
	assert.equal((await page.textContent('#install-command')).trim(),
		     'bpk install pktcount@1.0.0');
	assert.equal((await page.textContent('#fetch-command')).trim(),
		     'bpk fetch pktcount@1.0.0');
	assert.match(await page.textContent('#programs tbody'), /xdp_count/);
	assert.equal(await page.locator('#maps tbody tr').count(), 2);

	step(`screenshot: ${screenshot}`);
	await page.screenshot({ path: screenshot, fullPage: true });

	step('the yanked version page says so');
	await Promise.all([page.waitForURL(/\/packages\/pktcount\/1\.1\.0$/),
			   yanked.locator('a').click()]);
	assert.match(await page.textContent('.notice'), /This version was yanked/);

	assert.deepEqual(problems, []);

	step('an unknown package is a 404 page');
	response = await page.goto(base + '/packages/nosuch');
	assert.equal(response.status(), 404);
	assert.equal((await page.textContent('main h1')).trim(), 'Not found');
	// Chromium logs the 404 itself as a console error; nothing else may appear.
	assert.deepEqual(problems.filter((p) => !/status of 404/.test(p)), []);
	step('ok');
} finally {
	await context.close();
}
