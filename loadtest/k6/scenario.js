// @ts-check
/**
 * The virtual user shared by users-500.js and users-2000.js (k6 JavaScript, no build step; stock
 * k6 runs it as is). Each iteration: upload a unique variant of one of the committed samples,
 * honour 429 + Retry-After, then wait for the verdict (GET ?wait=N long-polls), then think.
 *
 * __ENV: BASE_URL (http://127.0.0.1:8080), API_KEY (sent as Bearer when set), HOLD (5m),
 * THINK_MIN_S/THINK_MAX_S (2/5), WAIT_S (25, long-poll per GET), VERDICT_TIMEOUT_S (120),
 * ACCEPT_P95_MS (1000), VERDICT_P95_MS (30000), SUMMARY_DIR (.), SEED (per run).
 */
import http from 'k6/http';
import { sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { variant } from './variants.js';

/** @typedef {import('./variants.js').SampleMeta} SampleMeta */

const env = (/** @type {string} */ name, /** @type {string} */ fallback) => (__ENV[name] !== undefined && __ENV[name] !== '' ? __ENV[name] : fallback);
const BASE_URL = env('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
const API_KEY = env('API_KEY', '');
const WAIT_S = Number(env('WAIT_S', '25'));
const VERDICT_TIMEOUT_S = Number(env('VERDICT_TIMEOUT_S', '120'));
const THINK_MIN_S = Number(env('THINK_MIN_S', '2'));
const THINK_MAX_S = Number(env('THINK_MAX_S', '5'));
const MAX_429_RETRIES = Number(env('MAX_429_RETRIES', '20'));

// Init context: every VU reads the small samples once (binary data cannot go in a SharedArray).
/** @type {SampleMeta[]} */
const manifest = JSON.parse(open('../samples/manifest.json'));
const samples = manifest.map((meta) => ({ meta, bytes: new Uint8Array(open(`../samples/${meta.file}`, 'b')) }));

export const accepted = new Counter('jobs_accepted');
export const completed = new Counter('jobs_completed');
export const failed = new Counter('jobs_failed');
export const lost = new Counter('jobs_lost');
export const throttled = new Counter('rejected_429');
export const gaveUp = new Counter('uploads_given_up');
export const serverErrors = new Counter('server_errors_5xx');
export const transportErrors = new Counter('transport_errors');
export const clientErrors = new Counter('unexpected_4xx');
export const acceptMs = new Trend('accept_ms', true);
export const verdictMs = new Trend('verdict_ms', true);

// 429 is an expected answer under backpressure, not a failed request.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 429));

/**
 * Options for a ramp to `target` VUs at `perSecond` new VUs a second, then HOLD.
 * @param {{ name: string, target: number, perSecond: number }} p
 * @returns {import('k6/options').Options}
 */
export function scenarioOptions(p) {
  const ramp = Math.max(1, Math.ceil(p.target / p.perSecond));
  return {
    scenarios: {
      [p.name]: {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: `${ramp}s`, target: p.target },
          { duration: env('HOLD', '5m'), target: p.target },
          { duration: '10s', target: 0 },
        ],
        // Let a VU that is waiting for its verdict finish, so a job is never abandoned mid-wait.
        gracefulRampDown: `${VERDICT_TIMEOUT_S + 30}s`,
        gracefulStop: `${VERDICT_TIMEOUT_S + 30}s`,
      },
    },
    thresholds: {
      transport_errors: ['count==0'],
      server_errors_5xx: ['count==0'],
      jobs_lost: ['count==0'],
      jobs_failed: ['count==0'],
      unexpected_4xx: ['count==0'],
      accept_ms: [`p(95)<${env('ACCEPT_P95_MS', '1000')}`],
      verdict_ms: [`p(95)<${env('VERDICT_P95_MS', '30000')}`],
    },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
    discardResponseBodies: false,
    noConnectionReuse: false,
  };
}

/** One seed per run, so a second run against the same Redis does not hit the dedup cache. */
export function setup() {
  return { seed: Number(env('SEED', String(Date.now() % 1_000_000_007))) };
}

/** @param {import('k6/http').RefinedResponse<any>} res */
function classify(res) {
  if (res.status === 0) transportErrors.add(1, { error: String(res.error_code) });
  else if (res.status >= 500) serverErrors.add(1, { status: String(res.status) });
  else if (res.status >= 400 && res.status !== 429) clientErrors.add(1, { status: String(res.status) });
}

/** @param {import('k6/http').RefinedResponse<any>} res */
function retryAfterSeconds(res) {
  const v = Number(res.headers['Retry-After'] ?? res.headers['retry-after'] ?? '1');
  return Number.isFinite(v) && v > 0 ? Math.min(v, 30) : 1;
}

/** @param {import('k6/http').RefinedResponse<any>} res @returns {any} */
function json(res) {
  try {
    return res.json();
  } catch {
    return null;
  }
}

/** @param {{ seed: number }} data */
export function vu(data) {
  const headers = /** @type {Record<string, string>} */ ({});
  if (API_KEY) headers.authorization = `Bearer ${API_KEY}`;
  // 4096 iterations per VU before two VUs could share a variant; far beyond any hold.
  const n = data.seed + __VU * 4096 + __ITER;
  const sample = samples[(__VU + __ITER) % samples.length];
  const body = variant(sample.bytes, sample.meta, n);
  const started = Date.now();

  /** @type {any} */
  let view = null;
  let lastStatus = 0;
  for (let attempt = 0; attempt <= MAX_429_RETRIES; attempt++) {
    const res = http.post(`${BASE_URL}/v1/analyses`, /** @type {ArrayBuffer} */ (body.buffer), {
      headers: { ...headers, 'content-type': sample.meta.mime },
      tags: { name: 'POST /v1/analyses', format: sample.meta.format },
      timeout: '60s',
    });
    classify(res);
    lastStatus = res.status;
    if (res.status === 429) {
      throttled.add(1);
      sleep(retryAfterSeconds(res));
      continue;
    }
    if (res.status === 200 || res.status === 202) {
      // Connecting counts: a full accept queue shows up as slow connects, not slow responses.
      acceptMs.add(res.timings.blocked + res.timings.connecting + res.timings.tls_handshaking + res.timings.duration);
      view = json(res);
    }
    break;
  }
  if (!view) {
    if (lastStatus === 429) gaveUp.add(1);
    sleep(THINK_MIN_S);
    return;
  }
  accepted.add(1);

  const deadline = started + VERDICT_TIMEOUT_S * 1000;
  while (view && view.status !== 'completed' && view.status !== 'failed' && Date.now() < deadline) {
    const res = http.get(`${BASE_URL}/v1/analyses/${view.id}?wait=${WAIT_S}`, { headers, tags: { name: 'GET /v1/analyses/:id' }, timeout: `${WAIT_S + 30}s` });
    classify(res);
    if (res.status === 200 || res.status === 202) view = json(res) ?? view;
    else if (res.status === 404) view = null;
    else sleep(1);
  }
  if (view && view.status === 'completed') {
    completed.add(1);
    verdictMs.add(Date.now() - started);
  } else if (view && view.status === 'failed') {
    failed.add(1, { code: String(view.error?.code) });
  } else {
    lost.add(1);
  }
  sleep(THINK_MIN_S + Math.random() * Math.max(0, THINK_MAX_S - THINK_MIN_S));
}

/** @param {any} v */
const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v === undefined ? '-' : String(v));

/**
 * JSON (everything k6 measured) and Markdown (the figures that matter) beside SUMMARY_DIR.
 * @param {string} name @param {any} data @returns {Record<string, string>}
 */
export function summary(name, data) {
  const m = data.metrics ?? {};
  const count = (/** @type {string} */ k) => m[k]?.values?.count ?? 0;
  const trend = (/** @type {string} */ k) => m[k]?.values ?? {};
  const lines = [
    `# Load test ${name}`,
    '',
    `Target ${BASE_URL}; ${fmt(m.vus_max?.values?.max)} VUs at most; ${fmt(m.iterations?.values?.count)} iterations in ${fmt((data.state?.testRunDurationMs ?? 0) / 1000)} s.`,
    '',
    '| counter | count |',
    '| --- | ---: |',
    ...['jobs_accepted', 'jobs_completed', 'jobs_failed', 'jobs_lost', 'rejected_429', 'uploads_given_up', 'server_errors_5xx', 'transport_errors', 'unexpected_4xx'].map((k) => `| ${k} | ${count(k)} |`),
    '',
    '| latency (ms) | med | p95 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...['accept_ms', 'verdict_ms', 'http_req_duration'].map((k) => `| ${k} | ${fmt(trend(k).med)} | ${fmt(trend(k)['p(95)'])} | ${fmt(trend(k)['p(99)'])} | ${fmt(trend(k).max)} |`),
    '',
    `Throughput: ${fmt(m.jobs_completed?.values?.rate)} verdicts/s, ${fmt(m.http_reqs?.values?.rate)} requests/s.`,
    '',
    '| threshold | ok |',
    '| --- | --- |',
  ];
  for (const [metric, v] of Object.entries(m)) {
    for (const [expr, t] of Object.entries(/** @type {any} */ (v).thresholds ?? {})) lines.push(`| ${metric}: \`${expr}\` | ${/** @type {any} */ (t).ok ? 'yes' : '**no**'} |`);
  }
  const md = lines.join('\n') + '\n';
  const dir = env('SUMMARY_DIR', '.').replace(/\/+$/, '');
  return { stdout: md, [`${dir}/summary-${name}.json`]: JSON.stringify(data, null, 2), [`${dir}/summary-${name}.md`]: md };
}
