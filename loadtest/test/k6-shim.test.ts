/**
 * Runs the k6 scenario's own code (init context, setup, VU iterations, handleSummary) in Node
 * against a real stack, with k6's modules shimmed (test/k6-shim: curl for k6/http). It cannot
 * prove k6 compatibility, but it does catch a VU that mis-reads the API or loses track of jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startStack } from '../../test/support/stack.js';

const here = dirname(fileURLToPath(import.meta.url));
const k6Dir = join(here, '..', 'k6');

test('the k6 VU uploads unique images, waits for verdicts and writes its summaries', { timeout: 120_000 }, async () => {
  const stack = await startStack({ gatewayEnv: { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0' } });
  const out = mkdtempSync(join(tmpdir(), 'dfd-k6-'));
  try {
    register(pathToFileURL(join(here, 'k6-shim', 'hooks.mjs')).href);
    const g = globalThis as any;
    g.__ENV = { BASE_URL: stack.url, WAIT_S: '5', THINK_MIN_S: '0', THINK_MAX_S: '0', SUMMARY_DIR: out };
    g.open = (p: string, mode?: string) => {
      const buf = readFileSync(join(k6Dir, p));
      return mode === 'b' ? new Uint8Array(buf).buffer : buf.toString('utf8');
    };
    const mod = await import(pathToFileURL(join(k6Dir, 'users-500.js')).href);
    assert.equal(mod.options.scenarios['users-500'].stages[0].target, 500);
    const data = mod.setup();
    for (let vu = 1; vu <= 3; vu++) {
      for (let iter = 0; iter < 3; iter++) {
        g.__VU = vu;
        g.__ITER = iter;
        mod.default(data);
      }
    }
    const m = g.__k6shim.metrics as Record<string, Array<{ value: number }>>;
    const count = (k: string) => (m[k] ?? []).reduce((a, s) => a + s.value, 0);
    assert.equal(count('jobs_accepted'), 9);
    assert.equal(count('jobs_completed'), 9);
    assert.equal(count('jobs_lost') + count('jobs_failed') + count('transport_errors') + count('server_errors_5xx') + count('unexpected_4xx'), 0);
    assert.equal(m.accept_ms!.length, 9);
    const summary = mod.handleSummary({
      state: { testRunDurationMs: 1000 },
      metrics: {
        jobs_accepted: { values: { count: 9, rate: 9 } },
        jobs_completed: { values: { count: 9, rate: 9 } },
        accept_ms: { values: { med: 10, 'p(95)': 20, 'p(99)': 30, max: 40 }, thresholds: { 'p(95)<1000': { ok: true } } },
      },
    });
    assert.ok(summary[`${out}/summary-users-500.json`]);
    assert.match(summary[`${out}/summary-users-500.md`], /\| jobs_completed \| 9 \|/);
    assert.match(summary.stdout, /accept_ms: `p\(95\)<1000` \| yes/);
  } finally {
    await stack.stop();
  }
});
