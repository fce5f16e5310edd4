import { randomBytes, randomUUID } from 'node:crypto';
import { Job, type Queue, type QueueEvents } from 'bullmq';
import { normaliseUpload, type UploadLimits } from '@dfd/imaging';
import { analysisId, type AnalysisFailure, type AnalysisJobData, type AnalysisOptions, type AnalysisResult, type AnalysisStatus, type AnalysisView, type PixelStore } from '@dfd/jobs';
import { ApiError } from './errors.js';
import { JobWaiters } from './job-waiters.js';

/** The API's shapes, derived from its JSON schemas (@dfd/jobs api.ts). */
export type { AnalysisFailure, AnalysisStatus, AnalysisView };

export interface SubmitExtras {
  requestId: string;
  callbackUrl?: string;
  apiKeyId?: string;
  batchId?: string;
}

function statusOf(state: string): AnalysisStatus {
  if (state === 'completed') return 'completed';
  if (state === 'failed') return 'failed';
  if (state === 'active') return 'processing';
  return 'queued';
}

/**
 * What API clients are told about a failed analysis: a stable code and plain words. The
 * detector's reason ("code: detail") may hold internal detail (gRPC targets, addresses, stack
 * frames); only its code is used, and only when it is one of these. The detail stays in the logs.
 */
export const FAILURE_MESSAGES: Record<string, string> = {
  pixels_expired: 'The stored image expired before it was analysed; upload it again.',
  model_unavailable: 'A model server was unavailable for too long; upload the image again.',
  analysis_failed: 'The analysis could not be completed; upload the image again.',
};

export function failure(reason: string | undefined): AnalysisFailure {
  const code = /^([a-z_]+):/.exec(reason ?? '')?.[1];
  return code && FAILURE_MESSAGES[code] ? { code, message: FAILURE_MESSAGES[code] } : { code: 'analysis_failed', message: FAILURE_MESSAGES.analysis_failed! };
}

/** A fresh analysis id: 128 random bits, never derived from the upload. */
export function newAnalysisId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Who may read an analysis. `undefined` is the gateway itself (webhooks); an API key id or `null`
 * (anonymous) is a caller: an analysis made with a key is that key's only, an anonymous one is
 * readable by whoever holds its id.
 */
export type Reader = string | null | undefined;

function mayRead(job: Job<AnalysisJobData, AnalysisResult>, reader: Reader): boolean {
  if (reader === undefined) return true;
  const owner = job.data?.apiKeyId ?? null;
  return owner === null || owner === reader;
}

/**
 * Upload → normalised pixels in Redis → one BullMQ job per upload, with a random id owned by the
 * caller (issue 11: ids derived from the pixels let one caller read another's analysis). The
 * content hash of (pixels, options) travels in the job as `contentKey`, so the detector can reuse
 * the model computation of identical pixels under the same model versions; the metadata evidence
 * is always the caller's own file's. Kept apart from the HTTP routes so single uploads, batches
 * and the CLI's embedded mode share it.
 */
export class AnalysisService {
  private waitingCache = { at: 0, count: 0 };

  constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly pixels: PixelStore,
    private readonly limits: UploadLimits,
    private readonly maxWaiting: number,
    /** MAX_INFLIGHT_DECODES (config.ts holds the default). */
    private readonly maxInflightDecodes: number,
  ) {}

  private inflightDecodes = 0;
  private waiters: JobWaiters | undefined;

  /**
   * Decoding is the gateway's CPU-heavy step. Past a bound, a burst is answered with an immediate
   * 429 instead of queueing inside the process, so the accept path stays fast under any load.
   */
  private async decodeBounded(body: Buffer) {
    if (this.inflightDecodes >= this.maxInflightDecodes) {
      throw new ApiError(429, 'busy', 'This server is decoding as many uploads as it can; retry in 1 s.', { 'retry-after': '1' });
    }
    this.inflightDecodes++;
    try {
      return await normaliseUpload(body, this.limits);
    } finally {
      this.inflightDecodes--;
    }
  }

  /** Queue depth, cached briefly so a burst of uploads costs one Redis call per 200 ms. */
  async waitingCount(): Promise<number> {
    const now = Date.now();
    if (now - this.waitingCache.at > 200) {
      this.waitingCache = { at: now, count: await this.queue.getWaitingCount() };
    }
    return this.waitingCache.count;
  }

  async checkCapacity(): Promise<void> {
    const waiting = await this.waitingCount();
    if (waiting >= this.maxWaiting) {
      const retryAfter = Math.min(30, Math.max(1, Math.ceil(waiting / 100)));
      throw new ApiError(429, 'queue_full', `The analysis queue is full (${waiting} waiting); retry in ${retryAfter} s.`, {
        'retry-after': String(retryAfter),
      });
    }
  }

  async submit(body: Buffer, options: AnalysisOptions, extras: SubmitExtras): Promise<{ view: AnalysisView; created: boolean }> {
    await this.checkCapacity();
    const upload = await this.decodeBounded(body);
    const { image } = upload;
    const id = newAnalysisId();
    const contentKey = analysisId(image.data, image.width, image.height, options);
    const pixelKey = await this.pixels.put(id, image);
    const data: AnalysisJobData = {
      pixelKey,
      contentKey,
      width: image.width,
      height: image.height,
      options,
      evidence: upload.evidence,
      requestId: extras.requestId || randomUUID(),
      submittedAt: Date.now(),
      decodeMs: upload.decodeMs,
      source: { format: upload.format, width: upload.original.width, height: upload.original.height, bytes: upload.original.bytes },
      callbackUrl: extras.callbackUrl,
      apiKeyId: extras.apiKeyId,
      batchId: extras.batchId,
    };
    const job = await this.queue.add('analysis', data, { jobId: id });
    this.waitingCache.count += 1;
    return { view: await this.viewOf(job, 'waiting'), created: true };
  }

  private async find(id: string, reader: Reader): Promise<Job<AnalysisJobData, AnalysisResult> | null> {
    if (!/^[a-f0-9]{32}$/.test(id)) return null;
    const job = await Job.fromId<AnalysisJobData, AnalysisResult>(this.queue, id);
    // Another caller's analysis is reported as missing, not as forbidden.
    return job && mayRead(job, reader) ? job : null;
  }

  async get(id: string, reader?: Reader): Promise<AnalysisView | null> {
    const job = await this.find(id, reader);
    if (!job) return null;
    return this.viewOf(job, await job.getState());
  }

  /** Waits up to `seconds` for the job to end; returns its view either way. */
  async wait(id: string, seconds: number, reader?: Reader): Promise<AnalysisView | null> {
    const job = await this.find(id, reader);
    if (!job) return null;
    const state = await job.getState();
    if (seconds > 0 && state !== 'completed' && state !== 'failed') {
      this.waiters ??= new JobWaiters(this.events);
      await this.waiters.wait(id, seconds * 1000, async () => ['completed', 'failed'].includes(await job.getState()));
    }
    return this.get(id, reader);
  }

  async viewOf(job: Job<AnalysisJobData, AnalysisResult>, state: string): Promise<AnalysisView> {
    let status = statusOf(state);
    // A job that failed but has attempts left sits in "delayed" and is still on its way.
    const view: AnalysisView = {
      id: job.id!,
      status,
      created_at: new Date(job.timestamp).toISOString(),
      finished_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      attempts: job.attemptsMade,
      links: { self: `/v1/analyses/${job.id}` },
    };
    if (status === 'completed') {
      if (job.returnvalue) view.result = job.returnvalue;
      else status = view.status = 'processing';
    }
    if (status === 'failed') view.error = failure(job.failedReason);
    return view;
  }
}
