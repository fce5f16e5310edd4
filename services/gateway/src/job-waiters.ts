import type { QueueEvents } from 'bullmq';

/**
 * Long-polls (`?wait=N`) of any number of requests share two listeners on the process's one
 * QueueEvents, instead of BullMQ's `job.waitUntilFinished` adding listeners per request (and one
 * on the Queue's `closing`, which warned `MaxListenersExceededWarning` past ten waiting requests).
 */
export class JobWaiters {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(events: QueueEvents) {
    const wake = ({ jobId }: { jobId: string }) => {
      const set = this.waiters.get(jobId);
      if (!set) return;
      this.waiters.delete(jobId);
      for (const done of set) done();
    };
    events.on('completed', wake);
    events.on('failed', wake);
  }

  /** Number of requests waiting now (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /**
   * Resolves when job `id` completes or fails, or after `ms`. `finished` is asked once the waiter
   * is registered, so an end between the caller's state check and now is not missed.
   */
  async wait(id: string, ms: number, finished: () => Promise<boolean>): Promise<void> {
    let done!: () => void;
    const ended = new Promise<void>((resolve) => (done = resolve));
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(done);
    const timer = setTimeout(done, ms);
    try {
      if (!(await finished().catch(() => false))) await ended;
    } finally {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    }
  }
}
