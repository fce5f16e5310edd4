import type { AnalysisResult, AnalysisView } from '@dfd/jobs';
import { FatalError, FileError, describeError } from './errors.js';

export interface RemoteOptions {
  url: string;
  apiKey?: string;
  cropFaces: boolean;
  /** Seconds the gateway may hold each request waiting for the result (0-30). */
  waitSeconds: number;
  /** Retries per request for 429, 5xx and network errors. */
  retries: number;
  /** Give up on one file after this long (upload, queue, polling, retries included). */
  fileTimeoutMs: number;
  /** First backoff step; doubles each retry (with jitter), capped by maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onRetry?: (why: string, delayMs: number) => void;
}

/** What the gateway answers (the schema-derived view), read defensively: any field may be missing. */
type ApiView = Partial<Pick<AnalysisView, 'id' | 'status' | 'links'>> & { result?: AnalysisResult; error?: { code?: string; message?: string } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * Paces every request of the run to the server's `RateLimit-Remaining` / `RateLimit-Reset`
 * headers (shared by all concurrent uploads), so a batch waits for the next window instead of
 * spending retries on 429s. A `rate_limited` 429 with Retry-After blocks everyone until then.
 */
export class RatePacer {
  private remaining: number | undefined;
  private resetAt = 0;
  private blockedUntil = 0;
  waitedMs = 0;

  /** Waits for a request slot; never past `deadline` (returns false then). */
  async acquire(deadline: number): Promise<boolean> {
    for (;;) {
      const now = Date.now();
      let until = 0;
      if (this.blockedUntil > now) until = this.blockedUntil;
      else if (this.remaining !== undefined && now < this.resetAt) {
        if (this.remaining > 0) {
          this.remaining -= 1;
          return true;
        }
        until = this.resetAt + 50;
      } else return true; // no budget known, or the window is over
      if (until > deadline) return false;
      this.waitedMs += until - now;
      await sleep(until - now);
    }
  }

  observe(headers: Headers, now = Date.now()): void {
    const remaining = Number(headers.get('ratelimit-remaining') ?? NaN);
    const reset = Number(headers.get('ratelimit-reset') ?? NaN);
    if (!Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    const resetAt = now + reset * 1000;
    // Requests already in flight are counted in our own remaining; keep the lower figure in a window.
    if (this.remaining !== undefined && Math.abs(resetAt - this.resetAt) < 1500) this.remaining = Math.min(this.remaining, remaining);
    else this.remaining = remaining;
    this.resetAt = resetAt;
  }

  block(untilMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, untilMs);
  }
}

/** Talks to the gateway: POST /v1/analyses (raw body, ?wait), then long-polls links.self. */
export class RemoteAnalyser {
  retries = 0;
  /** Answers 429 `rate_limited` (paced, not counted as retries). */
  throttled = 0;
  readonly pacer = new RatePacer();
  private readonly base: string;

  constructor(private readonly opts: RemoteOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'dfd-cli/1.0', ...extra };
    if (this.opts.apiKey) h.authorization = `Bearer ${this.opts.apiKey}`;
    return h;
  }

  private backoff(attempt: number): number {
    const base = this.opts.baseBackoffMs ?? 500;
    const cap = this.opts.maxBackoffMs ?? 30_000;
    const exp = Math.min(cap, base * 2 ** attempt);
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  /** Fails fast (exit 1) when nothing answers at --url. */
  async preflight(): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fetch(`${this.base}/healthz`, { headers: this.headers(), signal: AbortSignal.timeout(5_000) });
        return; // any HTTP answer means something is listening; per-file errors say the rest
      } catch (err) {
        last = err;
        await sleep(300 * (attempt + 1));
      }
    }
    throw new FatalError(`cannot reach the gateway at ${this.base} (${describeError(last)}); is it running? (--url, or --embedded to run without it)`);
  }

  /** One HTTP exchange with retries for 429/5xx (Retry-After honoured) and network errors. */
  private async request(method: 'GET' | 'POST', path: string, deadline: number, body?: Buffer): Promise<{ status: number; json: ApiView & { error?: { code?: string; message?: string } } }> {
    for (let attempt = 0; ; attempt++) {
      if (!(await this.pacer.acquire(deadline))) {
        throw new FileError(`429 rate_limited: the server's rate limit left no slot within the ${Math.round(this.opts.fileTimeoutMs / 1000)} s budget (use an API key with a higher limit, or --timeout)`, { throttled: true });
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new FileError(`timeout: no result within ${Math.round(this.opts.fileTimeoutMs / 1000)} s`);
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, {
          method,
          body: body ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : undefined,
          headers: this.headers(body ? { 'content-type': 'application/octet-stream' } : {}),
          signal: AbortSignal.timeout(Math.min(left, (this.opts.waitSeconds + 30) * 1000)),
        });
      } catch (err) {
        const why = describeError(err);
        if (attempt >= this.opts.retries) throw new FileError(`network: ${why} (gave up after ${attempt + 1} attempts)`);
        await this.pause(why, this.backoff(attempt), deadline);
        continue;
      }
      this.pacer.observe(res.headers);
      const text = await res.text().catch(() => '');
      let json: ApiView = {};
      try {
        json = text ? (JSON.parse(text) as ApiView) : {};
      } catch {
        json = { error: { code: 'bad_response', message: text.slice(0, 200) } };
      }
      const hinted = parseRetryAfter(res.headers.get('retry-after'));
      if (res.status === 429 && json.error?.code === 'rate_limited') {
        // Pacing, not a failure: everyone waits for the window; bounded by the file's time budget.
        this.throttled += 1;
        attempt -= 1;
        this.pacer.block(Date.now() + (hinted ?? 1000) + Math.round(Math.random() * 250));
        continue;
      }
      if (TRANSIENT_STATUS.has(res.status)) {
        const why = `${res.status} ${json.error?.code ?? res.statusText}`;
        if (attempt >= this.opts.retries) throw new FileError(`${why}: ${json.error?.message ?? ''} (gave up after ${attempt + 1} attempts)`.replace(':  (', ' ('), { throttled: res.status === 429 });
        // The server's hint wins (plus a little jitter so workers do not return in lockstep).
        const delay = hinted !== undefined ? Math.min(hinted, 120_000) + Math.round(Math.random() * 250) : this.backoff(attempt);
        await this.pause(why, delay, deadline);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new FatalError(`the gateway refused the API key (${res.status} ${json.error?.code ?? ''}: ${json.error?.message ?? ''}); pass --api-key or set DFD_API_KEY`);
      }
      return { status: res.status, json };
    }
  }

  private async pause(why: string, delayMs: number, deadline: number): Promise<void> {
    if (Date.now() + delayMs > deadline) throw new FileError(`timeout: still failing (${why}) when the ${Math.round(this.opts.fileTimeoutMs / 1000)} s budget ran out`, { throttled: why.startsWith('429') });
    this.retries += 1;
    this.opts.onRetry?.(why, delayMs);
    await sleep(delayMs);
  }

  async analyse(body: Buffer): Promise<AnalysisResult> {
    const deadline = Date.now() + this.opts.fileTimeoutMs;
    const q = new URLSearchParams({ wait: String(this.opts.waitSeconds) });
    if (!this.opts.cropFaces) q.set('crop_faces', 'false');
    let { status, json } = await this.request('POST', `/v1/analyses?${q}`, deadline, body);
    for (;;) {
      if (status >= 400) {
        throw new FileError(`${status} ${json.error?.code ?? 'error'}: ${json.error?.message ?? 'no message'}`);
      }
      if (json.status === 'completed' && json.result) return json.result;
      if (json.status === 'failed') throw new FileError(`failed ${json.error?.code ?? 'analysis_failed'}: ${json.error?.message ?? 'no reason given'}`);
      if (json.status !== 'queued' && json.status !== 'processing') throw new FileError(`bad_response: unexpected answer (HTTP ${status}, status ${String(json.status)})`);
      const self = json.links?.self ?? `/v1/analyses/${json.id}`;
      ({ status, json } = await this.request('GET', `${self}?wait=${this.opts.waitSeconds}`, deadline));
    }
  }
}
