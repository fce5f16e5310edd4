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
import { startStack, type Stack } from '@dfd/test-support/stack';
import { RED, colourImage } from '@dfd/test-support/images';
import { repoRoot } from '@dfd/test-support/processes';

const artifacts = join(repoRoot, 'artifacts', 'ui');
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

describe('web page at /', () => {
  let stack: Stack;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleErrors: string[] = [];

  before(async () => {
    // A small upload limit, so the 413 message can be checked against the real gateway.
    stack = await startStack({ gatewayEnv: { MAX_UPLOAD_BYTES: '200000' } });
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
    // No made-up 0.50 before the server has said which threshold its model uses.
    assert.equal(await page.locator('#threshold').isDisabled(), true);
    assert.doesNotMatch((await page.locator('#threshold-value').textContent()) ?? '', /\d/);
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
    assert.equal(await page.locator('#threshold').isDisabled(), false);
    assert.equal(await page.locator('#threshold-value').textContent(), '0.50', 'the tiny model’s own threshold');
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
      // The API's order is not left to right: the page numbers faces left to right (as the CLI).
      faces: [face(130, 0.2, 'real', null), face(10, 0.95, 'edited', 'deepfake')],
      notes: [], heatmap: heat, image: { width: 240, height: 120, format: 'png', original_width: 480, original_height: 240 },
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
    assert.match((await card.locator('.face-list').textContent()) ?? '', /Face 1: Edited \(deepfake\).*box x 20, y 20, 200×200 \(original pixels\).*Face 2: Real.*box x 260, y 20, 200×200/s);
    const lefts = await card.locator('.face-box').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left));
    assert.ok(lefts[0]! < lefts[1]!, `face 1 is the leftmost: ${lefts}`);
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
    // At 0.05 the band is [0.04, 0.24]: face 2's 0.2 moves from real to uncertain.
    await page.locator('#threshold').fill('0.05');
    assert.deepEqual(await card.locator('.face-box span').allTextContents(), ['1: Edited', '2: Uncertain']);
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

  /** A result card from a scripted answer (the real stack's tiny models only say edited/real). */
  async function scripted(name: string, result: Record<string, unknown>) {
    await page.route('**/v1/analyses?*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: 'e'.repeat(32), status: 'completed', links: { self: '/v1/analyses/x' }, result }) }));
    const before = await page.locator('.card').count();
    await page.setInputFiles('#file-input', { name, mimeType: 'image/png', buffer: await colourImage('png', RED, 64, 40 + before) });
    const card = page.locator('.card').nth(before);
    await card.locator('.verdict-word').waitFor({ state: 'visible', timeout: 10_000 });
    await page.unroute('**/v1/analyses?*');
    return card;
  }
  const shipped = { edited: 0.5522, uncertain_band: [0.49, 0.732], retouched: 0.5 }; // example values (a 1.x detector)
  const base = { notes: [], heatmap: null, faces: [], image: { width: 64, height: 64, format: 'png', original_width: 64, original_height: 64 }, models: [], timings: {}, evidence: { metadata: {} } };
  const fillColour = (card: import('playwright-core').Locator, sel: string) => card.locator(`${sel} .fill`).first().evaluate((e) => getComputedStyle(e).backgroundColor);

  it('says why the edit type is missing for the verdict it has, and colours bars by meaning', async () => {
    await page.locator('#threshold-reset').click();
    const card = await scripted('unsure.png', { ...base, verdict: 'uncertain', edit_type: null, scores: { edited: 0.6, deepfake: null, retouched: null }, confidence: 0.6, thresholds: shipped });
    assert.equal(await card.locator('.verdict-word').textContent(), 'Uncertain');
    const scores = (await card.locator('.scores').textContent()) ?? '';
    assert.doesNotMatch(scores, /judged real/);
    assert.match(scores, /Deepfake— not assessed: the server judged this image uncertain/);
    assert.equal(await fillColour(card, '.confidence-bar'), 'rgb(138, 83, 0)', 'uncertain confidence in amber, not green');
    const hi = await scripted('sure.png', { ...base, verdict: 'edited', edit_type: 'deepfake', scores: { edited: 0.961, deepfake: 0.8, retouched: 0.2 }, confidence: 0.961, thresholds: shipped });
    assert.equal(await fillColour(hi, '.confidence-bar'), 'rgb(179, 38, 30)', 'edited in red');
    assert.equal(await fillColour(hi, '.scores'), 'rgb(179, 38, 30)', 'the edited score bar in red');
    assert.equal(await hi.locator('.scores .bar.tone-kind').count(), 2, 'deepfake/retouched bars are neutral');
    // At 0.80 the band is [0.71, 0.88]: 0.961 stays edited (a shifted band would reach 0.98 and call it uncertain).
    await page.locator('#threshold').fill('0.8');
    assert.equal(await hi.locator('.verdict-word').textContent(), 'Edited');
    assert.match((await hi.locator('.relabel-note').textContent()) ?? '', /uncertain between 0\.71 and 0\.88/);
    assert.equal(await fillColour(hi, '.confidence-bar'), 'rgb(179, 38, 30)');
    // The uncertain card, re-labelled, still says it was judged uncertain by the server (not "real").
    assert.doesNotMatch((await card.locator('.scores').textContent()) ?? '', /judged real/);
    await page.locator('#threshold-reset').click();
  });

  it('re-labels with the server\'s calibrated P(edited), not the raw score, as the confidence', async () => {
    await page.locator('#threshold-reset').click();
    // Score 0.6 lies in the band: uncertain, P(edited) 0.7 by the model's map, so 70 % (not 60 %).
    const card = await scripted('calibrated.png', { ...base, verdict: 'uncertain', edit_type: null, scores: { edited: 0.6, edited_probability: 0.7, deepfake: null, retouched: null }, confidence: 0.7, thresholds: shipped });
    assert.equal(await card.locator('.confidence-value').textContent(), '70.0%');
    // At 0.30 the band is [0.27, 0.58]: 0.6 is now edited, with P(edited) 0.7 as its confidence.
    await page.locator('#threshold').fill('0.3');
    assert.equal(await card.locator('.verdict-word').textContent(), 'Edited');
    assert.equal(await card.locator('.confidence-value').textContent(), '70.0%');
    // At 0.95 the band is [0.84, 0.97]: 0.6 is real, 1 − 0.7 = 30 % sure of it (the raw score would say 40 %).
    await page.locator('#threshold').fill('0.95');
    assert.equal(await card.locator('.verdict-word').textContent(), 'Real');
    assert.equal(await card.locator('.confidence-value').textContent(), '30.0%');
    await page.locator('#threshold-reset').click();
  });

  it('says the upload limit on a 413 from the real gateway', async () => {
    await page.locator('#api-key').fill(''); // the 429 test left a made-up key: back to anonymous
    const big = Buffer.alloc(300_000, 7);
    await page.setInputFiles('#file-input', { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: big });
    const card = page.locator('.card').last();
    await card.locator('.error-text').waitFor({ state: 'visible', timeout: 20_000 });
    // The gateway's 413 names its limit ("The upload exceeds N bytes."), and the page says it.
    assert.match((await card.locator('.error-text').textContent()) ?? '', /Rejected: huge\.jpg \(293 KiB\) is larger than this server accepts — the upload limit is 195 KiB\./);
    // Where the server's message names the limit (raw uploads: "… the limit is N"; the multipart check: "exceeds N bytes"), the page says it.
    await page.route('**/v1/analyses?*', (route) => route.fulfill({ status: 413, contentType: 'application/json', body: JSON.stringify({ error: { code: 'payload_too_large', message: 'The upload exceeds 20971520 bytes.' }, request_id: 'x' }) }));
    await page.setInputFiles('#file-input', { name: 'huge2.jpg', mimeType: 'image/jpeg', buffer: big });
    const scriptedCard = page.locator('.card').last();
    await scriptedCard.locator('.error-text').waitFor({ state: 'visible', timeout: 10_000 });
    await page.unroute('**/v1/analyses?*');
    assert.match((await scriptedCard.locator('.error-text').textContent()) ?? '', /Rejected: huge2\.jpg \(293 KiB\) is larger than this server accepts — the upload limit is 20 MiB\./);
  });

  for (const width of [390, 1280]) {
    it(`fits every card and its controls at ${width} px wide (screenshot artifacts/ui/web-${width}.png)`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.setInputFiles('#file-input', { name: `a-very-long-file-name-without-any-spaces-from-a-phone-camera-roll-${'x'.repeat(40)}.jpg`, mimeType: 'image/jpeg', buffer: await colourImage('jpeg', RED, 160, 60 + width) });
      await page.locator('.card').last().locator('.verdict-word').waitFor({ state: 'visible', timeout: 30_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, 'no horizontal scrolling');
      const outside = await page.evaluate((w) => {
        const bad: string[] = [];
        document.querySelectorAll('.card').forEach((card, i) => {
          const c = card.getBoundingClientRect();
          if (c.right > w || c.left < 0) bad.push(`card ${i}: ${c.left}-${c.right}`);
          card.querySelectorAll('.confidence-bar, .confidence-value, .heatmap-opacity, .heatmap-toggle, .scores dd, .face-list li').forEach((e) => {
            const r = e.getBoundingClientRect();
            if (r.width > 0 && (r.right > c.right + 0.5 || r.left < c.left - 0.5)) bad.push(`card ${i} ${e.className || e.tagName}: ${r.left}-${r.right} outside ${c.left}-${c.right}`);
          });
        });
        return bad;
      }, width);
      assert.deepEqual(outside, []);
      await page.screenshot({ path: join(artifacts, `web-${width}.png`), fullPage: true });
    });
  }
});
