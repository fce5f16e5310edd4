/**
 * The upload page in real headless Chromium against a real stack (redis, classifier, detector,
 * gateway with tiny models): red JPEG → "Edited" with a drawn heatmap; a text file → rejection;
 * threshold slider to 1.0 (keyboard) → the card re-labels without re-uploading; 429 → retry time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack } from '../support/stack.js';
import { RED, colourImage } from '../support/images.js';
import { repoRoot } from '../support/processes.js';

const artifacts = join(repoRoot, 'artifacts', 'ui');
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

describe('web page at /', () => {
  let stack: Stack;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleErrors: string[] = [];

  before(async () => {
    stack = await startStack();
    profile = mkdtempSync(join(tmpdir(), 'dfd-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1200, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
  });

  it('serves the page, its assets and a CSP, and keeps them out of the OpenAPI document', async () => {
    const res = await fetch(`${stack.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    for (const asset of ['/app.js', '/style.css']) assert.equal((await fetch(`${stack.url}${asset}`)).status, 200, asset);
    const missing = await fetch(`${stack.url}/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).error.code, 'not_found');
    const doc = (await (await fetch(`${stack.url}/docs/json`)).json()) as any;
    assert.ok(doc.paths['/v1/analyses']);
    for (const p of ['/', '/index.html', '/app.js', '/style.css']) assert.equal(doc.paths[p], undefined, `${p} is hidden from OpenAPI`);
  });

  it('shows "edited" with a heatmap for a red JPEG picked through the file input', async () => {
    await page.goto(`${stack.url}/`);
    assert.equal(await page.title(), 'Image forensics — is this photo edited?');
    await page.setInputFiles('#file-input', { name: 'red.jpg', mimeType: 'image/jpeg', buffer: await colourImage('jpeg', RED, 160, 11) });
    const card = page.locator('.card').first();
    await card.locator('.verdict-word').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await card.getAttribute('data-state'), 'done');
    assert.equal(await card.locator('.verdict-word').textContent(), 'Edited');
    assert.match((await card.locator('.edit-type').textContent()) ?? '', /retouched/);
    assert.match((await card.locator('.scores').textContent()) ?? '', /Edited\s*0\.9\d\d/);
    assert.match((await card.locator('.meta').textContent()) ?? '', /Models: detector 0\.0\.1-test .*classifier 0\.0\.1-test/);
    assert.match((await card.locator('.evidence-list').textContent()) ?? '', /C2PA content credentials\s*not present/);
    assert.match((await page.locator('#summary').textContent()) ?? '', /1 edited/);
    const heat = card.locator('canvas.heatmap');
    assert.equal(await heat.isVisible(), true);
    const painted = await heat.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return { n, total: c.width * c.height, width: c.width };
    });
    assert.equal(painted.width, 160, 'canvas is the working image size');
    assert.ok(painted.n > painted.total * 0.9, `heatmap pixels drawn: ${painted.n}/${painted.total}`);
    // Toggle and opacity are ordinary form controls.
    await card.locator('.heatmap-opacity').fill('0.3');
    assert.equal(await heat.evaluate((c: HTMLCanvasElement) => c.style.opacity), '0.3');
    await card.locator('.heatmap-toggle').uncheck();
    assert.equal(await heat.isVisible(), false);
    await card.locator('.heatmap-toggle').check();
    assert.equal(await heat.isVisible(), true);
  });

  it('explains a rejected (non-image) file', async () => {
    await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not a picture\n') });
    const card = page.locator('.card').nth(1);
    await card.locator('.error-text').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await card.getAttribute('data-state'), 'error');
    assert.match((await card.locator('.error-text').textContent()) ?? '', /Rejected: notes\.txt is not an image in a supported format/);
    assert.equal(await card.locator('.retry').isVisible(), false, 'no retry for a bad file');
    await page.screenshot({ path: join(artifacts, 'web.png'), fullPage: true });
  });

  it('re-labels the edited card when the threshold slider goes to 1.0 (keyboard), and back', async () => {
    const card = page.locator('.card').first();
    const uploads: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/analyses')) uploads.push(r.url());
    });
    await page.locator('#threshold').focus();
    await page.keyboard.press('End');
    assert.equal(await page.locator('#threshold').inputValue(), '1');
    assert.equal(await page.locator('#threshold-value').textContent(), '1.00');
    assert.notEqual(await card.locator('.verdict-word').textContent(), 'Edited');
    assert.equal(await card.getAttribute('data-verdict'), 'uncertain');
    assert.match((await card.locator('.relabel-note').textContent()) ?? '', /Re-labelled at threshold 1\.00.*the server said “edited”/);
    await page.screenshot({ path: join(artifacts, 'web-threshold.png'), fullPage: true });
    await page.keyboard.press('Home');
    assert.equal(await card.locator('.verdict-word').textContent(), 'Edited');
    await page.locator('#threshold-reset').click();
    assert.equal(await page.locator('#threshold').inputValue(), '0.5');
    assert.equal(uploads.length, 0, 'nothing is uploaded again');
  });

  it('draws face boxes with per-face verdicts, and relabels faces with the threshold', async () => {
    const heat = { width: 4, height: 4, values: Array.from({ length: 16 }, (_, i) => i / 15), to_image: [25, 0, 10, 0, 25, 10] };
    const face = (x: number, edited: number, verdict: string, editType: string | null) => ({
      box: { x, y: 10, width: 100, height: 100 }, score: 0.99, landmarks: [], verdict, edit_type: editType,
      scores: { edited, deepfake: editType ? 0.9 : null, retouched: editType ? 0.1 : null }, confidence: Math.max(edited, 1 - edited), heatmap: { ...heat, to_image: [25, 0, x, 0, 25, 10] },
    });
    const result = {
      verdict: 'edited', edit_type: 'deepfake', scores: { edited: 0.95, deepfake: 0.9, retouched: 0.1 }, confidence: 0.95,
      thresholds: { edited: 0.5, uncertain_band: [0.4, 0.6], retouched: 0.5 },
      faces: [face(10, 0.95, 'edited', 'deepfake'), face(130, 0.2, 'real', null)],
      notes: [], heatmap: heat, image: { width: 240, height: 120, format: 'png', original_width: 240, original_height: 120 },
      models: [{ name: 'detector', version: '1.0.0', sha256: 'a'.repeat(64) }], timings: { total_ms: 12 },
      evidence: { metadata: { exif: { software: 'Adobe Photoshop 25.0', make: null, model: null, datetime: null }, editing_software: ['Adobe Photoshop'], generator: { detected: true, hints: ['c2pa:trainedAlgorithmicMedia'] }, c2pa_present: true, icc_profile: 'sRGB' } },
    };
    await page.route('**/v1/analyses?*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: 'f'.repeat(32), status: 'completed', links: { self: '/v1/analyses/x' }, result }) }));
    const before = await page.locator('.card').count();
    await page.setInputFiles('#file-input', { name: 'two-faces.png', mimeType: 'image/png', buffer: await colourImage('png', RED, 64, 13) });
    const card = page.locator('.card').nth(before);
    await card.locator('.face-box').first().waitFor({ state: 'attached', timeout: 10_000 });
    await page.unroute('**/v1/analyses?*');
    assert.deepEqual(await card.locator('.face-box span').allTextContents(), ['1: Edited', '2: Real']);
    assert.match((await card.locator('.face-list').textContent()) ?? '', /Face 1: Edited \(deepfake\).*Face 2: Real/s);
    const evidence = (await card.locator('.evidence-list').textContent()) ?? '';
    assert.match(evidence, /Software tags\s*Adobe Photoshop 25\.0, Adobe Photoshop/);
    assert.match(evidence, /AI generator hints\s*yes — c2pa:trainedAlgorithmicMedia/);
    assert.match(evidence, /C2PA content credentials\s*present/);
    assert.equal(await card.locator('.verdict-word').textContent(), 'Edited', 'the pixel verdict stays apart from the metadata');
    const painted = await card.locator('canvas.heatmap').evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      return { inFace: ctx.getImageData(50, 50, 1, 1).data[3]!, between: ctx.getImageData(120, 50, 1, 1).data[3]! };
    });
    assert.ok(painted.inFace > 0 && painted.between === 0, `face heatmaps drawn inside their boxes only: ${JSON.stringify(painted)}`);
    await page.locator('#threshold').fill('0.05');
    assert.deepEqual(await card.locator('.face-box span').allTextContents(), ['1: Edited', '2: Edited']);
    await page.locator('#threshold-reset').click();
    assert.deepEqual(await card.locator('.face-box span').allTextContents(), ['1: Edited', '2: Real']);
    await page.screenshot({ path: join(artifacts, 'web-faces.png'), fullPage: true });
  });

  it('says when to retry after a 429, and sends the API key as a bearer token', async () => {
    let auth: string | undefined;
    await page.route('**/v1/analyses?*', async (route) => {
      auth = route.request().headers()['authorization'];
      await route.fulfill({ status: 429, headers: { 'retry-after': '7', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' }, request_id: 'x' }) });
    });
    await page.locator('details.control summary').click();
    await page.locator('#api-key').fill('dfd_test_key');
    await page.setInputFiles('#file-input', { name: 'busy.jpg', mimeType: 'image/jpeg', buffer: await colourImage('jpeg', RED, 64, 12) });
    const card = page.locator('.card').last();
    await card.locator('.error-text').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await card.locator('.error-text').textContent()) ?? '', /Too many requests right now — please retry in 7 seconds/);
    assert.equal(await card.locator('.retry').isVisible(), true);
    assert.equal(auth, 'Bearer dfd_test_key');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('dfd.apiKey')), 'dfd_test_key');
    await page.unroute('**/v1/analyses?*');
    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource: the server responded with a status of (415|429)/.test(e)), [], 'no script or CSP errors');
  });
});
