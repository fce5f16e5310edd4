import type { Logger } from '@dfd/telemetry';

/** gRPC status codes that mean "the classifier is not there", not "this input is bad". */
const OUTAGE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);

export function isClassifierOutage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && OUTAGE_CODES.has(code);
}

/**
 * Watches the classifier's gRPC health (issue 11). While it is unreachable the detector stops
 * taking new jobs (`onDown`) and takes them again once it answers SERVING (`onUp`), so an outage
 * costs no attempts; jobs that were in flight are parked by the worker instead of failing.
 */
export class ClassifierGate {
  private failures = 0;
  private down = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly check: () => Promise<string>,
    private readonly hooks: { onDown(): void; onUp(): void },
    private readonly logger: Logger,
    private readonly everyMs = 1_000,
    /** Consecutive failed checks before the gate closes. */
    private readonly threshold = 2,
  ) {}

  get isDown(): boolean {
    return this.down;
  }

  start(): void {
    const tick = async () => {
      const status = await this.check().catch((err: Error) => err.message);
      if (status === 'SERVING') {
        this.failures = 0;
        if (this.down) {
          this.down = false;
          this.logger.info('classifier reachable again; taking jobs');
          this.hooks.onUp();
        }
      } else if (++this.failures >= this.threshold && !this.down) {
        this.down = true;
        this.logger.warn({ status }, 'classifier unreachable; not taking new jobs until it is back');
        this.hooks.onDown();
      }
      this.timer = setTimeout(tick, this.everyMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.everyMs);
    this.timer.unref();
  }

  /** Marks the classifier down at once (an in-flight call failed with an outage code). */
  noteOutage(): void {
    this.failures = Math.max(this.failures, this.threshold - 1);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
