import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@dfd/telemetry';
import type { AnalysisService, AnalysisView } from '../analysis-service.js';
import { signatureHeader, SIGNATURE_HEADER } from './signer.js';
import { CallbackForbidden, guardedLookup, parseCallbackUrl, systemResolver, type CallbackPolicy, type Resolver } from './ssrf.js';

export interface WebhookPayload {
  id: string;
  status: 'completed' | 'failed';
  finished_at: string | null;
  result?: AnalysisView['result'];
  error?: AnalysisView['error'];
}

export interface WebhookJobData {
  url: string;
  analysisId: string;
  payload: WebhookPayload;
}

export interface WebhookOptions {
  redis: Redis;
  connection: ConnectionOptions;
  service: AnalysisService;
  events: QueueEvents;
  logger: Logger;
  secret: string;
  policy: CallbackPolicy;
  maxAttempts: number;
  backoffMs: number;
  timeoutMs: number;
  queueName?: string;
  concurrency?: number;
  resolver?: Resolver;
  /** Callback lists live this long after the last registration. */
  callbackTtlSeconds?: number;
}

const finished = (v: AnalysisView | null): v is AnalysisView & { status: 'completed' | 'failed' } => !!v && (v.status === 'completed' || v.status === 'failed');

/**
 * Webhooks for finished analyses. Callback URLs are kept per analysis in Redis (several callers
 * may wait on one deduplicated analysis). When an analysis ends, every gateway replica hears it
 * from QueueEvents and enqueues one delivery job per URL in the `webhooks` queue; the job id is a
 * hash of (analysis, its creation time, URL), so the replicas enqueue it once. A BullMQ worker in
 * each replica delivers with retries and exponential backoff, signing each attempt afresh.
 */
export class WebhookDispatcher {
  readonly queue: Queue<WebhookJobData>;
  private worker: Worker<WebhookJobData> | undefined;
  private readonly log: Logger;
  private readonly onCompleted = ({ jobId }: { jobId: string }) => void this.analysisEnded(jobId);
  private readonly onFailed = ({ jobId }: { jobId: string }) => void this.analysisEnded(jobId);

  constructor(private readonly o: WebhookOptions) {
    this.queue = new Queue<WebhookJobData>(o.queueName ?? 'webhooks', { connection: o.connection });
    this.queue.on('error', () => undefined);
    this.log = o.logger.child({ component: 'webhooks' });
  }

  private cbKey(id: string): string {
    return `dfd:callbacks:${id}`;
  }

  /** Listens for finished analyses and starts the delivery worker. */
  start(): void {
    this.o.events.on('completed', this.onCompleted);
    this.o.events.on('failed', this.onFailed);
    this.worker = new Worker<WebhookJobData>(this.o.queueName ?? 'webhooks', (job) => this.deliver(job), {
      connection: this.o.connection,
      concurrency: this.o.concurrency ?? 8,
    });
    this.worker.on('error', () => undefined);
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const host = safeHost(job.data.url);
      this.log.warn({ delivery: job.id, analysis: job.data.analysisId, host, attempt: job.attemptsMade, err: err.message }, 'webhook delivery failed');
    });
  }

  /** Remembers `url` for analysis `view.id`; delivers at once if the analysis has already ended. */
  async register(view: AnalysisView, url: string): Promise<void> {
    const key = this.cbKey(view.id);
    await this.o.redis.multi().sadd(key, url).expire(key, this.o.callbackTtlSeconds ?? 7 * 24 * 3600).exec();
    // Checked after registering: either this sees the end, or the end event sees the URL.
    const now = await this.o.service.get(view.id);
    if (finished(now)) await this.enqueue(now, [url]);
  }

  async analysisEnded(id: string): Promise<void> {
    try {
      const view = await this.o.service.get(id);
      if (!finished(view)) return; // a failed attempt with retries left
      const urls = await this.o.redis.smembers(this.cbKey(id));
      if (urls.length > 0) await this.enqueue(view, urls);
    } catch (err) {
      this.log.error({ analysis: id, err: (err as Error).message }, 'could not enqueue webhooks');
    }
  }

  static deliveryId(view: AnalysisView, url: string): string {
    return `wh_${createHash('sha256').update(`${view.id}\n${view.created_at}\n${url}`).digest('hex').slice(0, 40)}`;
  }

  private async enqueue(view: AnalysisView & { status: 'completed' | 'failed' }, urls: string[]): Promise<void> {
    const payload: WebhookPayload = { id: view.id, status: view.status, finished_at: view.finished_at };
    if (view.result) payload.result = view.result;
    if (view.error) payload.error = view.error;
    for (const url of urls) {
      await this.queue.add(
        'deliver',
        { url, analysisId: view.id, payload },
        {
          jobId: WebhookDispatcher.deliveryId(view, url),
          attempts: this.o.maxAttempts,
          backoff: { type: 'exponential', delay: this.o.backoffMs },
          // Kept a week so that a late replica's add of the same id stays a no-op.
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
    }
  }

  private async deliver(job: Job<WebhookJobData>): Promise<{ status: number }> {
    let url: URL;
    try {
      url = parseCallbackUrl(job.data.url, this.o.policy); // re-checked: policy may have changed
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    const body = JSON.stringify(job.data.payload);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'dfd-webhooks/1',
      [SIGNATURE_HEADER]: signatureHeader(this.o.secret, body),
      'x-dfd-delivery': job.id ?? '',
      'x-dfd-attempt': String(job.attemptsMade + 1),
    };
    let status: number;
    try {
      status = await postJson(url, body, headers, this.o.timeoutMs, this.o.policy, this.o.resolver ?? systemResolver);
    } catch (err) {
      if (err instanceof CallbackForbidden) throw new UnrecoverableError(err.message);
      throw err;
    }
    if (status < 200 || status >= 300) throw new Error(`receiver answered HTTP ${status}`);
    return { status };
  }

  async close(): Promise<void> {
    this.o.events.off('completed', this.onCompleted);
    this.o.events.off('failed', this.onFailed);
    await this.worker?.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

/** One POST; resolves with the status code. Never follows redirects; bounded in time. */
function postJson(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, policy: CallbackPolicy, resolver: Resolver): Promise<number> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(policy, resolver) as any,
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
