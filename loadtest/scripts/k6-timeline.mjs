#!/usr/bin/env node
// Accept latency over the course of a k6 run, from k6's CSV output (`k6 run --out csv=FILE.gz`):
// per window of W seconds, the uploads accepted and refused (429) and accept_ms p50/p95/max, then
// accept_ms p95 over the whole run and from FROM seconds on. The end-of-test summary has only the
// whole run's percentiles; this shows whether slow accepts belong to the ramp or to the hold.
//
//   node loadtest/scripts/k6-timeline.mjs /tmp/k6.csv.gz [--window 15] [--from 60]
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { window: { type: 'string', default: '15' }, from: { type: 'string', default: '60' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: node loadtest/scripts/k6-timeline.mjs FILE.csv[.gz] [--window S] [--from S]');
  process.exit(2);
}
const windowS = Number(values.window);
const fromS = Number(values.from);

/** @param {number[]} a @param {number} p */
const quantile = (a, p) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);

const input = createReadStream(file);
const lines = createInterface({ input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
/** @type {Record<string, number> | null} */
let col = null;
/** @type {Array<[number, number]>} */
const accepts = [];
/** @type {Array<[number, string]>} */
const uploads = [];
for await (const line of lines) {
  const f = line.split(',');
  if (!col) {
    col = Object.fromEntries(f.map((name, i) => [name, i]));
    continue;
  }
  const metric = f[col.metric_name];
  const t = Number(f[col.timestamp]);
  if (metric === 'accept_ms') accepts.push([t, Number(f[col.metric_value])]);
  else if (metric === 'http_reqs' && f[col.method] === 'POST') uploads.push([t, f[col.status]]);
}
if (!accepts.length) {
  console.error(`${file}: no accept_ms samples (was it written by k6 run --out csv with the project's scenarios?)`);
  process.exit(1);
}
const t0 = Math.min(...accepts.map(([t]) => t), ...uploads.map(([t]) => t));
/** @type {Map<number, { ms: number[], refused: number }>} */
const windows = new Map();
const at = (/** @type {number} */ t) => {
  const w = Math.floor((t - t0) / windowS) * windowS;
  if (!windows.has(w)) windows.set(w, { ms: [], refused: 0 });
  return /** @type {{ ms: number[], refused: number }} */ (windows.get(w));
};
for (const [t, ms] of accepts) at(t).ms.push(ms);
for (const [t, status] of uploads) if (status === '429') at(t).refused++;

const fmt = (/** @type {number} */ v) => (Number.isFinite(v) ? v.toFixed(0) : '-');
console.log(`| from s | accepted | 429 | accept p50 ms | p95 | max |`);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const w of [...windows.keys()].sort((a, b) => a - b)) {
  const { ms, refused } = /** @type {{ ms: number[], refused: number }} */ (windows.get(w));
  console.log(`| ${w} | ${ms.length} | ${refused} | ${fmt(quantile(ms, 0.5))} | ${fmt(quantile(ms, 0.95))} | ${fmt(ms.length ? Math.max(...ms) : NaN)} |`);
}
const all = accepts.map(([, ms]) => ms);
const later = accepts.filter(([t]) => t - t0 >= fromS).map(([, ms]) => ms);
console.log(`\naccept_ms p95: whole run ${fmt(quantile(all, 0.95))} ms (${all.length} accepts); from ${fromS} s on ${fmt(quantile(later, 0.95))} ms (${later.length} accepts)`);
