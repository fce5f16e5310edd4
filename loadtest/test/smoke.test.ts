/**
 * CI load smoke test: a real multi-replica stack with tiny models, 200 connections
 * uploading unique images for 20 s, each waiting for its verdict. Zero transport errors, zero 5xx
 * and every accepted job completed; figures are printed, never asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../test/support/stack.js';
import { formatLoad, runLoad } from '../src/load.js';

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
