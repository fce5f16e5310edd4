// @ts-check
/**
 * The virtual user shared by users-500.js and users-2000.js (k6 JavaScript, no build step; stock
 * k6 runs it as is). Each iteration: upload a unique variant of one of the samples; on 429 sleep
 * Retry-After and send it again; after a transport error or a 502/503/504, send the same image
 * again (a user retries their photo, they do not pick another); once accepted, wait for the
 * verdict (GET ?wait=N long-polls) until VERDICT_TIMEOUT_S after acceptance; then think.
 *
 * __ENV: BASE_URL (http://127.0.0.1:8080), API_KEY (sent as Bearer when set), HOLD (5m),
 * THINK_MIN_S/THINK_MAX_S (2/5), WAIT_S (25, long-poll per GET), VERDICT_TIMEOUT_S (120),
 * MAX_429_RETRIES (20), MAX_RETRY_AFTER_S (120: Retry-After honoured up to it), MAX_TRANSPORT_RETRIES (3), USERS / RAMP_PER_S (the scenario's own), ACCEPT_P95_MS (1000), VERDICT_P95_MS (30000),
 * SAMPLES_DIR (../samples: absolute, or relative to this folder; needs a manifest.json, see
 * scripts/make-samples.ts), SEED (per run), OPS_URL / HEALTHZ_P99_MS / HEALTHZ_PER_S (the health probe, below).
 *
 * Beside the users, a second scenario (`ops_health`) asks the gateway's ops listener for /healthz
 * HEALTHZ_PER_S times a second for the whole run, so the run itself shows whether health stays
 * answerable under load (`healthz_ms`, threshold p99 < HEALTHZ_P99_MS, default 100). OPS_URL
 * defaults to port 9100 on BASE_URL's host when that host is a loopback address (a local stack);
 * against anything else the ops port is not public, so the probe runs only when OPS_URL is given.
 * OPS_URL=off turns it off.
 */
import http from 'k6/http';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { open as openFile, SeekMode } from 'k6/experimental/fs';
import { Counter, Trend } from 'k6/metrics';
import { variantInPlace } from './variants.js';

/** @typedef {import('./variants.js').SampleMeta} SampleMeta */

const env = (/** @type {string} */ name, /** @type {string} */ fallback) => (__ENV[name] !== undefined && __ENV[name] !== '' ? __ENV[name] : fallback);
const BASE_URL = env('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
const API_KEY = env('API_KEY', '');
const WAIT_S = Number(env('WAIT_S', '25'));
const VERDICT_TIMEOUT_S = Number(env('VERDICT_TIMEOUT_S', '120'));
const THINK_MIN_S = Number(env('THINK_MIN_S', '2'));
const THINK_MAX_S = Number(env('THINK_MAX_S', '5'));
const MAX_429_RETRIES = Number(env('MAX_429_RETRIES', '20'));
// Retry-After is honoured up to this. It was capped at 30 s, below the gateway's own cap
// (ADMISSION_MAX_RETRY_AFTER_S, 60): every caller the gateway spread over 31-60 s came back at
// 30 s together, was refused together and came back again 30 s later, a storm every 30 s.
const MAX_RETRY_AFTER_S = Number(env('MAX_RETRY_AFTER_S', '120'));
const MAX_TRANSPORT_RETRIES = Number(env('MAX_TRANSPORT_RETRIES', '3'));
const SAMPLES_DIR = env('SAMPLES_DIR', '../samples').replace(/\/+$/, '');
const LOOPBACK_BASE = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i.exec(BASE_URL);
const OPS_URL = (() => {
  const v = env('OPS_URL', LOOPBACK_BASE ? `http://${LOOPBACK_BASE[1]}:9100` : 'off');
  return v === 'off' ? '' : v.replace(/\/+$/, '');
})();
const HEALTHZ_PER_S = Number(env('HEALTHZ_PER_S', '4'));

// Init context. Samples are 50-500 KB: k6/experimental/fs keeps one copy in memory for all VUs
// (open(..., 'b') would hold every sample per VU: gigabytes at 2000 VUs); each VU reads one copy of its
// own sample (vuSample, below).
/** @type {SampleMeta[]} */
const manifest = JSON.parse(open(`${SAMPLES_DIR}/manifest.json`));
const samples = await Promise.all(manifest.map(async (meta) => ({ meta, file: await openFile(`${SAMPLES_DIR}/${meta.file}`) })));

/** A fresh copy of a sample's bytes. @param {{ meta: SampleMeta, file: import('k6/experimental/fs').File }} s */
async function readSample(s) {
  const buf = new Uint8Array(s.meta.bytes);
  await s.file.seek(0, SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const chunk = new Uint8Array(buf.length - got);
    const n = await s.file.read(chunk);
    if (n === null || n <= 0) throw new Error(`${s.meta.file}: short read (${got} of ${buf.length} bytes)`);
    buf.set(n === chunk.length ? chunk : chunk.subarray(0, n), got);
    got += n;
  }
  return buf;
}

/** @type {{ sample: (typeof samples)[number], bytes: Uint8Array } | null} */
let vuCopy = null;

/**
 * This VU's sample (VUs take the samples in turn) and its one copy of the bytes, read on its first
 * iteration. Each upload writes its variant over that copy: variantInPlace rewrites every spot and
 * CRC, and k6 sends a request before the next iteration starts. One read per VU instead of one per
 * iteration: less garbage for k6's Go collector over a run. (Its long pause in the ramp is the 2,000
 * goja runtimes themselves, 1-2 GB; see loadtest/README.md, nineteenth session.)
 */
async function vuSample() {
  const sample = samples[__VU % samples.length];
  if (vuCopy?.sample !== sample) vuCopy = { sample, bytes: await readSample(sample) };
  return /** @type {NonNullable<typeof vuCopy>} */ (vuCopy);
}

export const accepted = new Counter('jobs_accepted');
export const completed = new Counter('jobs_completed');
export const failed = new Counter('jobs_failed');
export const lost = new Counter('jobs_lost');
export const throttledCount = new Counter('rejected_429');
export const gaveUp = new Counter('uploads_given_up');
export const serverErrors = new Counter('server_errors_5xx');
export const transportErrors = new Counter('transport_errors');
export const clientErrors = new Counter('unexpected_4xx');
export const retriedSame = new Counter('upload_retries_same_image');
export const throttledUploads = new Counter('uploads_throttled');
export const acceptMs = new Trend('accept_ms', true);
/** Acceptance (the 200/202 arrived) to completed verdict: what the deadline applies to. */
export const verdictMs = new Trend('verdict_ms', true);
/** Time an upload spent refused (429s and their Retry-After sleeps) before it was accepted or given up. */
export const throttledMs = new Trend('throttled_ms', true);
/** First upload attempt to completed verdict: what the user saw, throttling and retries included. */
export const totalMs = new Trend('total_ms', true);
/** The ops listener's /healthz, asked on its own schedule while the users run (connecting included). */
export const healthzMs = new Trend('healthz_ms', true);
/** /healthz answers other than 200, and probes that got no answer within 5 s. */
export const healthzErrors = new Counter('healthz_errors');

// 429 is an expected answer under backpressure, not a failed request.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 429));

/**
 * Options for a ramp to `target` VUs at `perSecond` new VUs a second, then HOLD.
 * @param {{ name: string, target: number, perSecond: number }} p
 * @returns {import('k6/options').Options}
 */
export function scenarioOptions(p) {
  // USERS / RAMP_PER_S scale a scenario down (the CI smoke test runs users-500.js with 50 users).
  const target = Number(env('USERS', String(p.target)));
  const perSecond = Number(env('RAMP_PER_S', String(p.perSecond)));
  const ramp = Math.max(1, Math.ceil(target / perSecond));
  const stages = [
    { duration: `${ramp}s`, target },
    { duration: env('HOLD', '5m'), target },
    { duration: '10s', target: 0 },
  ];
  /** @type {NonNullable<import('k6/options').Options['scenarios']>} */
  const probe = OPS_URL
    ? {
        ops_health: {
          executor: 'constant-arrival-rate',
          exec: 'health',
          rate: HEALTHZ_PER_S,
          timeUnit: '1s',
          // The users' ramp, hold and ramp-down: the probe covers the whole loaded time.
          duration: `${stagesSeconds(stages)}s`,
          preAllocatedVUs: 2,
          maxVUs: 20,
        },
      }
    : {};
  return {
    scenarios: {
      ...probe,
      [p.name]: {
        executor: 'ramping-vus',
        startVUs: 0,
        stages,
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
      ...(OPS_URL ? { healthz_ms: [`p(99)<${env('HEALTHZ_P99_MS', '100')}`], healthz_errors: ['count==0'] } : {}),
    },
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
    discardResponseBodies: false,
    noConnectionReuse: false,
  };
}

/**
 * Seconds in a k6 duration such as `5m`, `90s`, `1h30m` or `2m30.5s` (HOLD).
 * @param {string} d @returns {number}
 */
export function durationSeconds(d) {
  const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(d.trim());
  if (!m || d.trim() === '') throw new Error(`HOLD: "${d}" is not a duration such as 5m, 90s or 1h30m`);
  return Math.ceil(Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0));
}

/**
 * Seconds a ramping scenario's stages last: its load window.
 * @param {Array<{ duration: string | number }>} stages @returns {number}
 */
function stagesSeconds(stages) {
  return stages.reduce((sum, st) => sum + durationSeconds(String(st.duration)), 0);
}

/** The health probe's iteration (scenario ops_health): one GET /healthz on the ops listener. */
export function health() {
  const res = http.get(`${OPS_URL}/healthz`, { tags: { name: 'GET /healthz (ops)' }, timeout: '5s', responseType: 'none' });
  if (res.status !== 200) healthzErrors.add(1, { status: String(res.status) });
  else healthzMs.add(res.timings.blocked + res.timings.connecting + res.timings.duration);
}

/** One seed per run, so a second run against the same Redis does not hit the dedup cache. */
export function setup() {
  return { seed: Number(env('SEED', String(Date.now() % 1_000_000_007))) };
}

/**
 * When this VU's scenario stops taking new work (the end of its stages: ramp, HOLD, ramp-down), in
 * ms since the epoch; Infinity when that cannot be told. A refused upload is not sent again past
 * it: k6 ends the run gracefulStop (VERDICT_TIMEOUT_S + 30 s) later, and a user still being told
 * to come back then would be cut off after its upload was accepted, its verdict never seen.
 * @returns {number}
 */
function loadWindowEnd() {
  const stages = /** @type {any} */ (exec.test.options.scenarios?.[exec.scenario.name])?.stages;
  if (!Array.isArray(stages)) return Infinity;
  return exec.scenario.startTime + stagesSeconds(stages) * 1000;
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
  return Number.isFinite(v) && v > 0 ? Math.min(v, MAX_RETRY_AFTER_S) : 1;
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
export async function vu(data) {
  const headers = /** @type {Record<string, string>} */ ({});
  if (API_KEY) headers.authorization = `Bearer ${API_KEY}`;
  // 4096 iterations per VU before two VUs could share a variant; far beyond any hold.
  const n = data.seed + __VU * 4096 + __ITER;
  const { sample, bytes } = await vuSample();
  const body = variantInPlace(bytes, sample.meta, n);
  const firstTry = Date.now();

  /** @type {any} */
  let view = null;
  let lastStatus = 0;
  let refusals = 0;
  let transportRetries = 0;
  let throttled = 0;
  let acceptedAt = 0;
  for (;;) {
    const sent = Date.now();
    const res = http.post(`${BASE_URL}/v1/analyses`, /** @type {ArrayBuffer} */ (body.buffer), {
      headers: { ...headers, 'content-type': sample.meta.mime },
      tags: { name: 'POST /v1/analyses', format: sample.meta.format },
      timeout: '60s',
    });
    classify(res);
    lastStatus = res.status;
    if (res.status === 429) {
      throttledCount.add(1, { code: String(json(res)?.error?.code) });
      if (refusals++ >= MAX_429_RETRIES) {
        throttled += Date.now() - sent;
        break;
      }
      if (Date.now() + retryAfterSeconds(res) * 1000 > loadWindowEnd()) {
        // Told to come back after the run: the user leaves for good. Its VU waits out the load
        // window instead of starting another upload that would only be refused the same way.
        throttled += Date.now() - sent;
        throttledUploads.add(1);
        throttledMs.add(throttled);
        gaveUp.add(1, { reason: 'run_ending' });
        sleep(Math.max(0, (loadWindowEnd() - Date.now()) / 1000));
        return;
      }
      sleep(retryAfterSeconds(res));
      throttled += Date.now() - sent;
      continue;
    }
    if ((res.status === 0 || res.status === 502 || res.status === 503 || res.status === 504) && transportRetries < MAX_TRANSPORT_RETRIES) {
      // The same picture again: if the first attempt did reach the queue, this is the same analysis.
      transportRetries++;
      retriedSame.add(1, { status: String(res.status) });
      sleep(res.status === 0 ? transportRetries : retryAfterSeconds(res));
      continue;
    }
    if (res.status === 200 || res.status === 202) {
      acceptedAt = Date.now();
      // Connecting counts: a full accept queue shows up as slow connects, not slow responses.
      acceptMs.add(res.timings.blocked + res.timings.connecting + res.timings.tls_handshaking + res.timings.duration);
      view = json(res);
    }
    break;
  }
  if (throttled > 0) {
    throttledUploads.add(1);
    throttledMs.add(throttled);
  }
  if (!view) {
    if (lastStatus === 429) gaveUp.add(1, { reason: 'retries' });
    sleep(THINK_MIN_S);
    return;
  }
  accepted.add(1);

  // The deadline runs from acceptance: time spent throttled is reported apart (throttled_ms).
  const deadline = acceptedAt + VERDICT_TIMEOUT_S * 1000;
  while (view && view.status !== 'completed' && view.status !== 'failed' && Date.now() < deadline) {
    const wait = Math.max(1, Math.min(WAIT_S, Math.ceil((deadline - Date.now()) / 1000)));
    const res = http.get(`${BASE_URL}/v1/analyses/${view.id}?wait=${wait}`, { headers, tags: { name: 'GET /v1/analyses/:id' }, timeout: `${wait + 30}s` });
    classify(res);
    if (res.status === 200 || res.status === 202) view = json(res) ?? view;
    else if (res.status === 404) view = null;
    else sleep(1);
  }
  if (view && view.status === 'completed') {
    completed.add(1);
    verdictMs.add(Date.now() - acceptedAt);
    totalMs.add(Date.now() - firstTry);
  } else if (view && view.status === 'failed') {
    failed.add(1, { code: String(view.error?.code) });
  } else {
    lost.add(1);
  }
  sleep(THINK_MIN_S + Math.random() * Math.max(0, THINK_MAX_S - THINK_MIN_S));
}
