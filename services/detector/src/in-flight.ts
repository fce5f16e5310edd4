import type { Job, Worker } from 'bullmq';
import type { Logger } from '@dfd/telemetry';

/**
 * The jobs this detector is running, with the lock token each was taken with, so that a shutdown
 * that runs out of grace can hand them back to the queue. Without the hand-back a job still running
 * when the process exits waits for its lock to expire (JOB_LOCK_MS) before another detector takes it.
 */
export class InFlightJobs {
  private readonly jobs = new Map<string, { job: Job; token: string }>();
  private readonly handedBack = new Set<string>();
  private drained: (() => void) | null = null;

  start(job: Job, token: string | undefined): void {
    if (job.id && token) this.jobs.set(job.id, { job, token });
  }

  end(job: Job): void {
    if (job.id) this.jobs.delete(job.id);
    if (this.jobs.size === 0) this.drained?.();
  }

  get size(): number {
    return this.jobs.size;
  }

  /** A job given back to the queue: its late outcome here must not touch it (pixels, metrics). */
  wasHandedBack(job: Job | undefined): boolean {
    return Boolean(job?.id && this.handedBack.has(job.id));
  }

  /** Resolves when nothing is in flight, or after `ms`; true when drained. */
  async drain(ms: number): Promise<boolean> {
    if (this.jobs.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((r) => (this.drained = () => r(true))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    this.drained = null;
    return done;
  }

  /** Moves every job still in flight back to waiting (no attempt spent); returns how many. */
  async handBack(logger: Logger): Promise<number> {
    let n = 0;
    for (const [id, { job, token }] of this.jobs) {
      this.handedBack.add(id);
      try {
        await job.moveToWait(token);
        n++;
        logger.warn({ jobId: id, reqId: (job.data as { requestId?: string }).requestId }, 'shutdown grace over: job handed back to the queue');
      } catch (err) {
        // Lock already lost (e.g. the stalled checker moved it): the queue has it either way.
        logger.warn({ jobId: id, err: (err as Error).message }, 'could not hand a job back; its lock expiry will');
      }
    }
    this.jobs.clear();
    return n;
  }
}

/**
 * Stops a worker for shutdown: no new jobs, the running ones get up to `graceMs` to finish, and
 * those still running then are handed back so another detector starts them at once.
 */
export async function stopWorker(worker: Worker, inFlight: InFlightJobs, graceMs: number, logger: Logger): Promise<number> {
  await worker.pause(true);
  if (await inFlight.drain(graceMs)) {
    await worker.close();
    return 0;
  }
  const n = await inFlight.handBack(logger);
  await worker.close(true);
  return n;
}
