/**
 * CI load smoke tests: a real multi-replica stack with tiny models, loaded (1) by the Node driver,
 * 200 connections uploading unique images for 20 s, each waiting for its verdict, and (2) by the
 * stock k6 binary running the real scenario code. Zero transport errors, zero 5xx and every
 * accepted job completed; figures are printed, never asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '@dfd/test-support/stack';
import { fromExport, summaryMarkdown } from '../k6/summary.js';
import { findK6, sharedK6Dir } from '../src/k6-binary.js';
import { formatLoad, runLoad } from '../src/load.js';

const k6Dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'k6');

const CONNECTIONS = Number(process.env.SMOKE_CONNECTIONS ?? 200);
const SECONDS = Number(process.env.SMOKE_SECONDS ?? 20);

test(`load smoke: ${CONNECTIONS} connections for ${SECONDS} s, nothing lost`, { timeout: 150_000 }, async () => {
  const stack = await startStack({
    detectors: 2,
    gatewayEnv: { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0' },
  });
  try {
    const r = await runLoad({ url: stack.url, connections: CONNECTIONS, durationS: SECONDS, rampS: 2, drainS: 60 });
    console.log(formatLoad(r));
    assert.equal(r.transportErrorCount, 0, `transport errors: ${JSON.stringify(r.transportErrors)}`);
    assert.equal(r.serverErrors, 0, `5xx: ${JSON.stringify(r.status)}`);
    assert.ok(r.accepted > 0, 'nothing was accepted');
    assert.equal(r.failed, 0, 'failed jobs');
    assert.equal(r.lost, 0, `lost jobs: ${r.accepted} accepted, ${r.completed} completed`);
    assert.equal(r.completed, r.accepted);
    for (const p of [stack.gateway, ...stack.detectors, ...stack.classifiers]) assert.ok(p.alive, `${p.name} died:\n${p.output}`);
  } finally {
    await stack.stop();
  }
});

/**
 * The real scenario code (k6/users-500.js and scenario.js) run by the stock k6 binary, where one is
 * available (K6_BIN, or ../shared/tools/k6 unpacked with xz), scaled down with -e USERS / HOLD
 * (SMOKE_K6_VUS users for SMOKE_K6_SECONDS); behaviour is asserted from k6's --summary-export, not
 * timings: no transport error, no 5xx, no unexpected 4xx, no failed or lost job, every accepted job
 * completed, and the health probe scenario answered throughout. The timing thresholds are set out of
 * reach, so k6's exit code is 0 unless one of those fails.
 */
const k6 = (() => {
  try {
    return findK6();
  } catch (err) {
    return { error: (err as Error).message };
  }
})();
const K6_VUS = Number(process.env.SMOKE_K6_VUS ?? 50);
const K6_SECONDS = Number(process.env.SMOKE_K6_SECONDS ?? 20);
const inCi = !!process.env.CI;

test(`load smoke with stock k6: users-500.js at ${K6_VUS} users for ${K6_SECONDS} s, nothing lost`, { timeout: 240_000, skip: !k6 && !inCi ? `no k6 (set K6_BIN, or unpack ${sharedK6Dir})` : false }, async () => {
  assert.ok(k6, `CI needs the stock k6 binary: set K6_BIN or provide ${sharedK6Dir}`);
  assert.ok(!('error' in k6), `k6: ${'error' in k6 ? k6.error : ''}`);
  const { bin, version } = k6 as { bin: string; version: string };
  const stack = await startStack({
    detectors: 2,
    gatewayEnv: { ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0' },
  });
  const out = mkdtempSync(join(tmpdir(), 'dfd-k6-smoke-'));
  const exportFile = join(out, 'k6-users-500.json');
  try {
    const args = ['run', '--quiet', '--no-color', '--summary-export', exportFile,
      '-e', `BASE_URL=${stack.url}`, '-e', `USERS=${K6_VUS}`, '-e', 'RAMP_PER_S=25', '-e', `HOLD=${K6_SECONDS}s`,
      '-e', 'WAIT_S=10', '-e', 'THINK_MIN_S=0.2', '-e', 'THINK_MAX_S=0.5', '-e', 'VERDICT_TIMEOUT_S=60',
      '-e', 'ACCEPT_P95_MS=600000', '-e', 'VERDICT_P95_MS=600000',
      // The health probe scenario against this stack's ops listener (its port is free-picked here).
      '-e', `OPS_URL=http://127.0.0.1:${stack.gateway.opsPort}`, '-e', 'HEALTHZ_P99_MS=600000', join(k6Dir, 'users-500.js')];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    console.log(`${version}\n${output}`);
    assert.ok(existsSync(exportFile), `k6 exited ${code} without a summary:\n${output}`);
    const data = fromExport(JSON.parse(readFileSync(exportFile, 'utf8')));
    console.log(summaryMarkdown('users-500 (smoke)', data, { baseUrl: stack.url }));
    const count = (k: string) => Number(data.metrics[k]?.values?.count ?? 0);
    for (const k of ['transport_errors', 'server_errors_5xx', 'unexpected_4xx', 'jobs_failed', 'jobs_lost', 'healthz_errors']) assert.equal(count(k), 0, `${k}: ${count(k)}`);
    // The probe ran beside the users for the whole run (4 a second by default).
    assert.ok(count('healthz_ms') >= K6_SECONDS * 2, `healthz probes answered: ${count('healthz_ms')}`);
    assert.ok(count('jobs_accepted') > 0, 'nothing was accepted');
    assert.equal(count('jobs_completed'), count('jobs_accepted'), 'every accepted job has its verdict');
    assert.equal(code, 0, `k6 exit code ${code} (a threshold failed):\n${output}`);
    for (const p of [stack.gateway, ...stack.detectors, ...stack.classifiers]) assert.ok(p.alive, `${p.name} died:\n${p.output}`);
  } finally {
    await stack.stop();
  }
});
