#!/usr/bin/env node
// Asks a /healthz URL once every INTERVAL seconds, from its own small process, until stopped
// (SIGINT/SIGTERM), then prints the answers' p50/p95/p99/max and the failures. Run beside k6: k6's
// own probe (scenario ops_health, healthz_ms) shares k6's process, and on a box whose cores k6 and
// the stack share, k6's scheduling delays (seconds during a 2,000-user ramp) show up in every
// timing it takes, its probe's connects to an idle listener included. This one measures the
// listener, not k6.
//
//   node loadtest/scripts/healthz-probe.mjs http://127.0.0.1:9100/healthz [--interval 1] [--timeout 5]
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { interval: { type: 'string', default: '1' }, timeout: { type: 'string', default: '5' } } });
const url = positionals[0];
if (!url) {
  console.error('usage: node loadtest/scripts/healthz-probe.mjs URL [--interval S] [--timeout S]');
  process.exit(2);
}
const intervalMs = Number(values.interval) * 1000;
const timeoutMs = Number(values.timeout) * 1000;
/** @type {number[]} */
const ms = [];
/** @type {Record<string, number>} */
const failures = {};
let running = true;

const report = () => {
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (/** @type {number} */ p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1) : '-');
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  console.log(`healthz probe ${url}: ${ms.length} answered 200, ${failed} failed ${JSON.stringify(failures)}; ms p50 ${q(0.5)} p95 ${q(0.95)} p99 ${q(0.99)} max ${sorted.length ? sorted[sorted.length - 1].toFixed(1) : '-'}`);
};
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.once(sig, () => (running = false));

while (running) {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    if (res.status === 200) ms.push(performance.now() - t0);
    else failures[String(res.status)] = (failures[String(res.status)] ?? 0) + 1;
  } catch (err) {
    const name = /** @type {Error} */ (err).name === 'TimeoutError' ? 'timeout' : 'error';
    failures[name] = (failures[name] ?? 0) + 1;
  }
  const wait = intervalMs - (performance.now() - t0);
  if (running && wait > 0) await new Promise((r) => setTimeout(r, wait));
}
report();
