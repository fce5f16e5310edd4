import type { Redis } from 'ioredis';
import { prom, type prom as PromNs } from '@dfd/telemetry';

/** Redis's answer when `maxmemory` is reached under the noeviction policy. */
export const REDIS_FULL = /\bOOM command not allowed\b|used memory > 'maxmemory'/i;

/** Share of `maxmemory` from which the gateway reports itself not ready. */
export const REDIS_FULL_SHARE = 0.95;

/**
 * Redis reachability and memory (issue 11): a full Redis answers writes with OOM errors, which
 * the API turns into 503 + Retry-After; readiness goes false while Redis is near `maxmemory` or
 * refused a write in the last 10 s, and the memory figures are exported for the alert.
 */
export class RedisHealth {
  private lastOom = 0;
  private memory = { used: 0, max: 0, at: 0 };

  constructor(private readonly redis: Redis, registry: PromNs.Registry) {
    const self = this;
    new prom.Gauge({
      name: 'dfd_redis_memory_used_bytes',
      help: 'Memory Redis reports in use (INFO memory used_memory)',
      registers: [registry],
      async collect() {
        this.set((await self.readMemory()).used);
      },
    });
    new prom.Gauge({
      name: 'dfd_redis_memory_max_bytes',
      help: 'Redis maxmemory (0 = no limit)',
      registers: [registry],
      async collect() {
        this.set((await self.readMemory()).max);
      },
    });
    new prom.Gauge({
      name: 'dfd_redis_full',
      help: '1 while Redis refuses writes for lack of memory (or is within 5% of maxmemory)',
      registers: [registry],
      async collect() {
        this.set((await self.isFull()) ? 1 : 0);
      },
    });
  }

  /** Called by the error handler when a write was refused with OOM. */
  noteFull(): void {
    this.lastOom = Date.now();
  }

  /** INFO memory, cached for a second (readiness probes and scrapes come often). */
  async readMemory(): Promise<{ used: number; max: number }> {
    if (Date.now() - this.memory.at < 1_000) return this.memory;
    try {
      const info = await this.redis.info('memory');
      const num = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      this.memory = { used: num('used_memory'), max: num('maxmemory'), at: Date.now() };
    } catch {
      this.memory = { ...this.memory, at: Date.now() };
    }
    return this.memory;
  }

  async isFull(): Promise<boolean> {
    if (Date.now() - this.lastOom < 10_000) return true;
    const { used, max } = await this.readMemory();
    return max > 0 && used >= max * REDIS_FULL_SHARE;
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean | string> }> {
    const reachable = this.redis.status === 'ready' && (await this.redis.ping().then(() => true, () => false));
    const full = reachable ? await this.isFull() : false;
    return { ready: reachable && !full, checks: { redis: reachable, redis_memory: full ? 'full' : 'ok' } };
  }
}
