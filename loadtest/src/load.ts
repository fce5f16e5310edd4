/**
 * The load engine behind drive.ts, bench.ts and the smoke test: `connections` virtual users, each
 * looping upload → (wait for the verdict) → think, for a bounded time; then every accepted job is
 * followed until it ends. Plain node:http with one keep-alive agent, so each virtual user holds
 * at most one connection.
 */
import http from 'node:http';
import { percentile, summarise } from './stats.js';
import { loadSamples, uniqueUpload, type Sample } from './samples.js';

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  /** 'verdict': each user waits for its verdict (GET ?wait=) before the next upload; 'submit': upload only. */
  mode?: 'verdict' | 'submit';
  /** Long-poll per GET, seconds (≤ 30). */
  waitS?: number;
  thinkMs?: number;
  /** How long, after the load, to follow accepted jobs before calling them lost. */
  drainS?: number;
  /** Stop after this many accepted uploads (bench); unlimited when 0. */
  maxJobs?: number;
  /** Users start over this many seconds (0: all at once). */
  rampS?: number;
  apiKey?: string;
  seed?: number;
  samples?: Sample[];
  log?: (line: string) => void;
  /** Each accepted job's id, as it is accepted. */
  onAccepted?: (id: string) => void;
  /** Ends the run early: no new uploads, no more polling, no drain (shutdown-check.ts). */
  abort?: AbortSignal;
}

export interface LoadReport {
  connections: number;
  durationS: number;
  /** Seconds uploads were being made (until the duration or maxJobs). */
  loadS: number;
  wallS: number;
  requests: number;
  status: Record<string, number>;
  transportErrors: Record<string, number>;
  transportErrorCount: number;
  serverErrors: number;
  throttled: number;
  accepted: number;
  completed: number;
  failed: number;
  lost: number;
  acceptMs: ReturnType<typeof summarise>;
  verdictMs: ReturnType<typeof summarise>;
  acceptRate: number;
  verdictRate: number;
  verdictSpanS: number;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

class TransportError extends Error {
  constructor(readonly code: string, readonly ms: number) {
    super(code);
  }
}

function send(agent: http.Agent, method: string, url: URL, body: Buffer | undefined, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { ...headers, 'content-length': String(body.length) } : headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', (err: NodeJS.ErrnoException) => reject(new TransportError(err.code ?? err.message, performance.now() - t0)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT_CLIENT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new TransportError(err.code ?? err.message, performance.now() - t0)));
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface View {
  id: string;
  status: string;
  created_at?: string;
  finished_at?: string | null;
}

function parseView(body: string): View | null {
  try {
    const v = JSON.parse(body) as View;
    return typeof v.id === 'string' ? v : null;
  } catch {
    return null;
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const log = opts.log ?? (() => undefined);
  const base = opts.url.replace(/\/+$/, '');
  const mode = opts.mode ?? 'verdict';
  const waitS = Math.min(30, opts.waitS ?? 25);
  const samples = opts.samples ?? loadSamples();
  const seed = opts.seed ?? (Date.now() % 1_000_000_007);
  const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections, maxFreeSockets: opts.connections });

  const status: Record<string, number> = {};
  const transportErrors: Record<string, number> = {};
  const acceptMs: number[] = [];
  const verdictMs: number[] = [];
  /** Accepted and not yet ended: id → client start time (epoch ms). */
  const pending = new Map<string, number>();
  const ended = new Set<string>();
  let requests = 0;
  let accepted = 0;
  let completed = 0;
  let failed = 0;
  let counter = 0;
  let lastFinish = 0;
  let firstAccept = 0;

  const count = (r: Reply) => {
    requests++;
    status[String(r.status)] = (status[String(r.status)] ?? 0) + 1;
  };
  const transport = (err: unknown, what: string) => {
    requests++;
    const code = `${what} ${err instanceof TransportError ? err.code : String(err)}`;
    transportErrors[code] = (transportErrors[code] ?? 0) + 1;
  };
  /** Records a job's end once; the server's finished_at (same host clock) times the verdict. */
  const finish = (v: View, started: number) => {
    if (ended.has(v.id)) return;
    ended.add(v.id);
    pending.delete(v.id);
    const fin = v.finished_at ? Date.parse(v.finished_at) : Date.now();
    lastFinish = Math.max(lastFinish, fin);
    if (v.status === 'completed') {
      completed++;
      verdictMs.push(Math.max(0, fin - started));
    } else failed++;
  };
  const done = (v: View | null) => !!v && (v.status === 'completed' || v.status === 'failed');

  const t0 = Date.now();
  const endAt = t0 + opts.durationS * 1000;
  const aborted = () => opts.abort?.aborted ?? false;
  const stopNew = () => aborted() || Date.now() >= endAt || (!!opts.maxJobs && accepted >= opts.maxJobs);

  /** Follows one job with long-polls until it ends or `deadline`. */
  const follow = async (id: string, started: number, deadline: number) => {
    while (Date.now() < deadline && !ended.has(id) && !aborted()) {
      let r: Reply;
      try {
        r = await send(agent, 'GET', new URL(`${base}/v1/analyses/${id}?wait=${waitS}`), undefined, headers, (waitS + 30) * 1000);
      } catch (err) {
        transport(err, 'GET');
        await sleep(500);
        continue;
      }
      count(r);
      const v = r.status === 200 || r.status === 202 ? parseView(r.body) : null;
      if (v && done(v)) finish(v, started);
      else if (r.status === 404) return;
      else if (!v) await sleep(500);
    }
  };

  const user = async (u: number) => {
    if (opts.rampS) await sleep((u / opts.connections) * opts.rampS * 1000);
    while (!stopNew()) {
      const up = uniqueUpload(samples, counter++, seed);
      const started = Date.now();
      let r: Reply;
      try {
        r = await send(agent, 'POST', new URL(`${base}/v1/analyses`), up.body, { ...headers, 'content-type': up.mime }, 60_000);
      } catch (err) {
        // Refused or reset: back off like a polite client (as after a 429 with Retry-After: 1).
        transport(err, 'POST');
        await sleep(1000 * (0.5 + Math.random()));
        continue;
      }
      count(r);
      if (r.status === 429) {
        const ra = Number(r.headers['retry-after'] ?? 1);
        await sleep(Math.min(Number.isFinite(ra) && ra > 0 ? ra : 1, 30) * 1000 * (0.5 + Math.random()));
        continue;
      }
      const v = r.status === 200 || r.status === 202 ? parseView(r.body) : null;
      if (!v) {
        await sleep(250);
        continue;
      }
      accepted++;
      opts.onAccepted?.(v.id);
      firstAccept ||= started;
      acceptMs.push(r.ms);
      pending.set(v.id, started);
      if (done(v)) finish(v, started);
      else if (mode === 'verdict') await follow(v.id, started, started + (opts.drainS ?? 120) * 1000);
      if (opts.thinkMs) await sleep(opts.thinkMs * (0.5 + Math.random()));
    }
  };

  const progress = setInterval(() => {
    log(`[load] t=${((Date.now() - t0) / 1000).toFixed(0)}s accepted ${accepted} completed ${completed} failed ${failed} pending ${pending.size} 429 ${status['429'] ?? 0} 5xx ${Object.entries(status).filter(([k]) => k.startsWith('5')).reduce((a, [, n]) => a + n, 0)} transport ${Object.values(transportErrors).reduce((a, b) => a + b, 0)}`);
  }, 5_000);
  progress.unref();
  await Promise.all(Array.from({ length: opts.connections }, (_, u) => user(u)));
  const loadEnd = Date.now();

  // Drain: follow every job still open, a bounded number at a time.
  const drainDeadline = aborted() ? 0 : Date.now() + (opts.drainS ?? 120) * 1000;
  if (pending.size > 0) log(`[load] load over after ${((loadEnd - t0) / 1000).toFixed(1)} s; following ${pending.size} open jobs`);
  const queue = [...pending.entries()];
  await Promise.all(Array.from({ length: Math.min(200, queue.length) }, async () => {
    for (let e = queue.shift(); e; e = queue.shift()) await follow(e[0], e[1], drainDeadline);
  }));
  clearInterval(progress);
  agent.destroy();

  const serverErrors = Object.entries(status).filter(([k]) => Number(k) >= 500).reduce((a, [, n]) => a + n, 0);
  const transportErrorCount = Object.values(transportErrors).reduce((a, b) => a + b, 0);
  const loadS = (loadEnd - t0) / 1000;
  const verdictSpanS = lastFinish > firstAccept ? (lastFinish - firstAccept) / 1000 : 0;
  return {
    connections: opts.connections,
    durationS: opts.durationS,
    loadS,
    wallS: (Date.now() - t0) / 1000,
    requests,
    status,
    transportErrors,
    transportErrorCount,
    serverErrors,
    throttled: status['429'] ?? 0,
    accepted,
    completed,
    failed,
    lost: accepted - completed - failed,
    acceptMs: summarise(acceptMs),
    verdictMs: summarise(verdictMs),
    acceptRate: accepted / loadS,
    verdictRate: verdictSpanS > 0 ? completed / verdictSpanS : 0,
    verdictSpanS,
  };
}

export function formatLoad(r: LoadReport): string {
  const st = Object.entries(r.status).sort().map(([k, n]) => `${k}:${n}`).join(' ');
  const te = Object.entries(r.transportErrors).map(([k, n]) => `${k}:${n}`).join(' ') || 'none';
  const lat = (s: LoadReport['acceptMs']) => `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (n=${s.n})`;
  return [
    `  connections ${r.connections}, uploading ${r.loadS.toFixed(1)} s, wall ${r.wallS.toFixed(1)} s, ${r.requests} requests`,
    `  status       ${st}`,
    `  transport errors ${r.transportErrorCount} (${te}); 5xx ${r.serverErrors}; 429 ${r.throttled}`,
    `  jobs         accepted ${r.accepted}, completed ${r.completed}, failed ${r.failed}, lost ${r.lost}`,
    `  accept       ${lat(r.acceptMs)}`,
    `  verdict      ${lat(r.verdictMs)}`,
    `  throughput   ${r.acceptRate.toFixed(1)} accepted/s during load; ${r.verdictRate.toFixed(1)} verdicts/s (first accept → last verdict, ${r.verdictSpanS.toFixed(1)} s)`,
  ].join('\n');
}

export { percentile };
