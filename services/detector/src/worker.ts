import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { AnalysisJobData, AnalysisResult, PixelStore } from '@dfd/jobs';
import type { Logger } from '@dfd/telemetry';
import type { Analyser } from '@dfd/analysis';
import { isClassifierOutage } from './classifier-gate.js';
import type { InFlightJobs } from './in-flight.js';
import type { ModelReuse } from './model-reuse.js';

export interface WorkerHooks {
  onDone?: (outcome: 'completed' | 'failed' | 'retry' | 'parked', seconds: number) => void;
  onReuse?: () => void;
  /** An attempt failed because the classifier was unreachable. */
  onOutage?: () => void;
}

/** How long a job may stay parked for a classifier outage before its attempts are spent. */
export const DEFAULT_MAX_PARK_MS = 60 * 60 * 1000;

/**
 * Consumes analysis jobs. A job whose pixels are gone cannot succeed on retry and fails for good.
 * A classifier outage does not spend attempts: the job is parked (moved back to delayed, retried
 * every few seconds) for up to `maxParkMs` after its upload, while the gate (classifier-gate.ts)
 * stops the worker from taking new jobs. Anything else throws and BullMQ retries it with backoff.
 * Failure reasons are "code: words"; the gateway shows clients the code only, with its own words.
 * Pixels are deleted once the job has its final outcome.
 *
 * Delivery is at least once: a job whose detector stops renewing its lock (killed, frozen by
 * SIGSTOP or a debugger for longer than JOB_LOCK_MS) is run again by another; a live detector,
 * however slow its job, renews the lock every JOB_LOCK_MS / 2 and keeps it.
 */
export function createAnalysisWorker(opts: {
  queueName: string;
  connection: ConnectionOptions;
  concurrency: number;
  lockDurationMs: number;
  analyser: Analyser;
  pixels: PixelStore;
  logger: Logger;
  hooks?: WorkerHooks;
  reuse?: ModelReuse;
  maxParkMs?: number;
  /** Tracks running jobs so a shutdown past its grace can hand them back (in-flight.ts). */
  inFlight?: InFlightJobs;
}): Worker<AnalysisJobData, AnalysisResult> {
  const maxParkMs = opts.maxParkMs ?? DEFAULT_MAX_PARK_MS;
  const { analyser, pixels, logger } = opts;
  const worker = new Worker<AnalysisJobData, AnalysisResult>(
    opts.queueName,
    async (job: Job<AnalysisJobData, AnalysisResult>, token?: string) => {
      opts.inFlight?.start(job, token);
      try {
        return await analyse(job, token);
      } finally {
        opts.inFlight?.end(job);
      }
    },
    {
      connection: opts.connection,
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs,
      stalledInterval: Math.max(5_000, Math.floor(opts.lockDurationMs / 2)),
      maxStalledCount: 3,
      autorun: false,
    },
  );
  async function analyse(job: Job<AnalysisJobData, AnalysisResult>, token?: string): Promise<AnalysisResult> {
    const log = logger.child({ jobId: job.id, reqId: job.data.requestId, attempt: job.attemptsMade + 1 });
    const queueWaitMs = Math.max(0, (job.processedOn ?? Date.now()) - job.data.submittedAt);
    const reused = await opts.reuse?.lookup(job.data, queueWaitMs);
    if (reused) {
      opts.hooks?.onReuse?.();
      log.info({ verdict: reused.verdict }, 'analysis done (model results reused)');
      return reused;
    }
    const image = await pixels.get(job.data.pixelKey, job.data.width, job.data.height);
    if (!image) throw new UnrecoverableError('pixels_expired: the normalised image is no longer stored; upload it again');
    let result: AnalysisResult;
    try {
      result = await analyser.analyse(image, job.data, queueWaitMs);
    } catch (err) {
      if (!isClassifierOutage(err)) throw err;
      opts.hooks?.onOutage?.();
      if (Date.now() - job.data.submittedAt < maxParkMs && token) {
        // Parked, not failed: back to delayed without spending an attempt.
        log.warn({ err: (err as Error).message }, 'classifier unreachable; job parked');
        await job.moveToDelayed(Date.now() + 3_000, token);
        opts.hooks?.onDone?.('parked', (Date.now() - job.data.submittedAt) / 1000);
        throw new DelayedError();
      }
      log.warn({ err: (err as Error).message }, 'classifier unreachable for longer than jobs are parked');
      throw new Error('model_unavailable: the classifier model server was unreachable');
    }
    await opts.reuse?.store(job.data, result);
    log.info({ verdict: result.verdict, edited: result.scores.edited, ms: result.timings.total_ms }, 'analysis done');
    return result;
  }
  worker.on('completed', (job) => {
    if (opts.inFlight?.wasHandedBack(job)) return;
    opts.hooks?.onDone?.('completed', (Date.now() - job.data.submittedAt) / 1000);
    void pixels.delete(job.data.pixelKey).catch(() => undefined);
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError || err.name === 'DelayedError' || opts.inFlight?.wasHandedBack(job)) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError || err.name === 'UnrecoverableError';
    logger.warn({ jobId: job.id, reqId: job.data.requestId, err: err.message, final }, 'analysis failed');
    opts.hooks?.onDone?.(final ? 'failed' : 'retry', (Date.now() - job.data.submittedAt) / 1000);
    if (final) void pixels.delete(job.data.pixelKey).catch(() => undefined);
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  return worker;
}
