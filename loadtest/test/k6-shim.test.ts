/**
 * Runs the k6 scenario's own code (init context, setup, VU iterations) in Node against a real
 * stack, with k6's modules shimmed (test/k6-shim: curl for k6/http). It cannot prove k6
 * compatibility (test/smoke.test.ts runs the stock k6 binary where it is available), but it does
 * catch a VU that mis-reads the API or loses track of jobs. A TCP proxy in front of the gateway
 * injects a transport error and a 429 into the first upload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from '@dfd/test-support/processes';
import { startStack } from '@dfd/test-support/stack';
import type { SampleMeta } from '../k6/variants.js';
import { fromExport, summaryMarkdown } from '../k6/summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const k6Dir = join(here, '..', 'k6');

/** Starts test/k6-shim/fault-proxy.mjs in front of the gateway; `posts` fills with "<bytes>:<sha256>" per POST. */
async function faultProxy(target: number, plan: string[]): Promise<{ port: number; posts: string[]; stop(): void }> {
  const child = spawn(process.execPath, [join(here, 'k6-shim', 'fault-proxy.mjs'), String(target), plan.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const posts: string[] = [];
  let port = 0;
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    rest += d.toString();
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      if (line.startsWith('listening ')) port = Number(line.slice(10));
      else if (line.startsWith('post ')) posts.push(line.slice(5));
    }
  });
  await waitFor('fault proxy', async () => port > 0, 10_000, 20);
  return { port, posts, stop: () => child.kill('SIGTERM') };
}

test('the k6 VU retries the same image after a transport error, reports throttled time apart, and gets every verdict', { timeout: 180_000 }, async () => {
  const stack = await startStack({ gatewayEnv: { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0' } });
  const proxy = await faultProxy(Number(new URL(stack.url).port), ['reset', '429']);
  // SAMPLES_DIR: a folder of its own with two of the samples.
  const samplesDir = mkdtempSync(join(tmpdir(), 'dfd-k6-samples-'));
  const committed = JSON.parse(readFileSync(join(k6Dir, '..', 'samples', 'manifest.json'), 'utf8')) as SampleMeta[];
  const chosen = [committed.find((m) => m.format === 'jpeg')!, committed.find((m) => m.format === 'tiff')!];
  for (const m of chosen) copyFileSync(join(k6Dir, '..', 'samples', m.file), join(samplesDir, m.file));
  writeFileSync(join(samplesDir, 'manifest.json'), JSON.stringify(chosen));
  try {
    register(pathToFileURL(join(here, 'k6-shim', 'hooks.mjs')).href);
    const g = globalThis as any;
    g.__ENV = { BASE_URL: `http://127.0.0.1:${proxy.port}`, WAIT_S: '5', THINK_MIN_S: '0', THINK_MAX_S: '0', SAMPLES_DIR: samplesDir };
    g.__k6shim = { metrics: {}, base: k6Dir };
    g.open = (p: string, mode?: string) => {
      const buf = readFileSync(p.startsWith('/') ? p : join(k6Dir, p));
      return mode === 'b' ? new Uint8Array(buf).buffer : buf.toString('utf8');
    };
    const mod = await import(pathToFileURL(join(k6Dir, 'users-500.js')).href);
    assert.equal(mod.options.scenarios['users-500'].stages[0].target, 500);
    assert.equal(mod.handleSummary, undefined, 'k6 prints its standard summary');
    const data = mod.setup();
    for (let vu = 1; vu <= 3; vu++) {
      for (let iter = 0; iter < 3; iter++) {
        g.__VU = vu;
        g.__ITER = iter;
        await mod.default(data);
      }
    }
    const m = g.__k6shim.metrics as Record<string, Array<{ value: number }>>;
    const count = (k: string) => (m[k] ?? []).reduce((a, s) => a + s.value, 0);
    assert.equal(count('jobs_accepted'), 9);
    assert.equal(count('jobs_completed'), 9);
    assert.equal(count('jobs_lost') + count('jobs_failed') + count('server_errors_5xx') + count('unexpected_4xx'), 0);
    // The first upload: reset (transport error), then 429, then accepted; all three the same bytes.
    assert.equal(count('transport_errors'), 1);
    assert.equal(count('upload_retries_same_image'), 1);
    assert.equal(count('rejected_429'), 1);
    await waitFor('the proxy to report every upload', async () => proxy.posts.length >= 11, 5_000, 20);
    assert.equal(proxy.posts.length, 11, `posts: ${proxy.posts.length}`);
    assert.equal(proxy.posts[1], proxy.posts[0], 'retried after the transport error with the same image');
    assert.equal(proxy.posts[2], proxy.posts[0], 'retried after 429 with the same image');
    assert.equal(new Set(proxy.posts.slice(2)).size, 9, 'every iteration uploads a picture of its own');
    // Throttled time is reported apart; the verdict clock starts at acceptance.
    assert.equal(count('uploads_throttled'), 1);
    assert.equal(m.throttled_ms!.length, 1);
    assert.ok(m.throttled_ms![0]!.value >= 1000, `throttled ${m.throttled_ms![0]!.value} ms`);
    assert.equal(m.verdict_ms!.length, 9);
    assert.equal(m.total_ms!.length, 9);
    assert.equal(m.accept_ms!.length, 9);
    assert.ok(m.total_ms![0]!.value >= m.verdict_ms![0]!.value + 1000, 'total includes the throttled second, verdict does not');
    // Uploads come from SAMPLES_DIR.
    const sizes = new Set(chosen.map((c) => c.bytes));
    assert.equal(sizes.size, 2);
    for (const p of proxy.posts) assert.ok(sizes.has(Number(p.split(':')[0])), `upload of ${p.split(':')[0]} bytes is not from SAMPLES_DIR`);

    // The project's summary from k6's --summary-export layout (thresholds as {expr: failed}).
    const md = summaryMarkdown('users-500', fromExport({
      metrics: {
        iterations: { count: 9, rate: 3 },
        jobs_completed: { count: 9, rate: 3 },
        throttled_ms: { med: 1200, 'p(95)': 1500, 'p(99)': 1500, max: 1500, count: 1 },
        accept_ms: { med: 10, 'p(95)': 20, 'p(99)': 30, max: 40, count: 9, thresholds: { 'p(95)<1000': false } },
        jobs_lost: { count: 1, rate: 0.3, thresholds: { 'count==0': true } },
      },
    }), { baseUrl: stack.url });
    assert.match(md, /\| jobs_completed \| 9 \|/);
    assert.match(md, /9 iterations in 3 s/);
    assert.match(md, /\| throttled_ms \| 1200 \| 1500 \|/);
    assert.match(md, /accept_ms: `p\(95\)<1000` \| yes/);
    assert.match(md, /jobs_lost: `count==0` \| \*\*no\*\*/);
  } finally {
    proxy.stop();
    await stack.stop();
  }
});
