import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { AnalysisJobData, AnalysisResult, PixelStore } from '@dfd/jobs';
import type { Logger } from '@dfd/telemetry';
import type { Analyser } from '@dfd/analysis';

export interface WorkerHooks {
  onDone?: (outcome: 'completed' | 'failed' | 'retry', seconds: number) => void;
}

/**
 * Consumes analysis jobs. A job whose pixels are gone cannot succeed on retry and fails for good;
 * anything else (a classifier outage, say) throws and BullMQ retries it with backoff. Pixels are
 * deleted once the job has its final outcome.
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
}): Worker<AnalysisJobData, AnalysisResult> {
  const { analyser, pixels, logger } = opts;
  const worker = new Worker<AnalysisJobData, AnalysisResult>(
    opts.queueName,
    async (job: Job<AnalysisJobData, AnalysisResult>) => {
      const log = logger.child({ jobId: job.id, reqId: job.data.requestId, attempt: job.attemptsMade + 1 });
      const image = await pixels.get(job.data.pixelKey);
      if (!image) throw new UnrecoverableError('pixels_expired: the normalised image is no longer stored; upload it again');
      const queueWaitMs = Math.max(0, (job.processedOn ?? Date.now()) - job.data.submittedAt);
      const result = await analyser.analyse(image, job.data, queueWaitMs);
      log.info({ verdict: result.verdict, edited: result.scores.edited, ms: result.timings.total_ms }, 'analysis done');
      return result;
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
  worker.on('completed', (job) => {
    opts.hooks?.onDone?.('completed', (Date.now() - job.data.submittedAt) / 1000);
    void pixels.delete(job.data.pixelKey).catch(() => undefined);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError || err.name === 'UnrecoverableError';
    logger.warn({ jobId: job.id, reqId: job.data.requestId, err: err.message, final }, 'analysis failed');
    opts.hooks?.onDone?.(final ? 'failed' : 'retry', (Date.now() - job.data.submittedAt) / 1000);
    if (final) void pixels.delete(job.data.pixelKey).catch(() => undefined);
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  return worker;
}
