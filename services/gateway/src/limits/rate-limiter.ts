import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ACQUIRE_SLOTS, TOKEN_BUCKET } from './scripts.js';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request is allowed (0 when allowed). */
  retryAfterSeconds: number;
}

type Scripted = Redis & {
  dfdTokenBucket(key: string, cap: number, cost: number): Promise<[number, number, number, number]>;
  /** numberOfKeys, then KEYS (the slot set, then job hashes), then ARGV (see ACQUIRE_SLOTS). */
  dfdAcquireSlots(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<[number, number]>;
};

function withScripts(redis: Redis): Scripted {
  const r = redis as Scripted;
  if (typeof r.dfdTokenBucket !== 'function') r.defineCommand('dfdTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
  if (typeof r.dfdAcquireSlots !== 'function') r.defineCommand('dfdAcquireSlots', { lua: ACQUIRE_SLOTS }); // KEYS vary: the caller's job hashes
  return r;
}

/** Requests per minute per caller: a token bucket in Redis, shared by all replicas. */
export class RateLimiter {
  private readonly redis: Scripted;
  constructor(redis: Redis, private readonly prefix = 'dfd:rl:') {
    this.redis = withScripts(redis);
  }

  /** Spends one request of `subject`'s budget; null when `perMinute` is 0 (unlimited). */
  async hit(subject: string, perMinute: number, cost = 1): Promise<RateDecision | null> {
    if (perMinute <= 0) return null;
    const [allowed, remaining, retryMs, resetMs] = await this.redis.dfdTokenBucket(`${this.prefix}${subject}`, perMinute, cost);
    return {
      allowed: allowed === 1,
      limit: perMinute,
      remaining,
      resetSeconds: Math.ceil(resetMs / 1000),
      retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs / 1000)),
    };
  }
}

/** Slots taken for a submission: turn each into its job id, or give it back. */
export interface Reservation {
  readonly size: number;
  commit(index: number, jobId: string): Promise<void>;
  release(index: number): Promise<void>;
  releaseAll(): Promise<void>;
}

/**
 * Concurrent jobs (queued, processing or waiting for a retry) per caller. Each caller has a sorted
 * set of its active job ids; finished jobs are pruned inside the same Lua script that admits new
 * ones, so the count holds across replicas and survives a replica crash.
 */
export class JobQuota {
  private readonly redis: Scripted;
  constructor(
    redis: Redis,
    private readonly jobKeyPrefix: string,
    private readonly prefix = 'dfd:active:',
    private readonly reservationTtlMs = 10 * 60 * 1000,
  ) {
    this.redis = withScripts(redis);
  }

  /** Takes `want` slots, or returns the active count when they do not fit. */
  async acquire(subject: string, limit: number, want = 1): Promise<{ ok: true; reservation: Reservation } | { ok: false; active: number }> {
    const key = `${this.prefix}${subject}`;
    if (limit <= 0) return { ok: true, reservation: nullReservation(want) };
    const token = randomBytes(8).toString('hex');
    // The job ids in the set name the job hashes the script reads: it is given them as KEYS.
    const jobIds = (await this.redis.zrange(key, 0, -1)).filter((m) => !m.startsWith('r:'));
    const jobKeys = jobIds.map((id) => `${this.jobKeyPrefix}${id}`);
    const [ok, active] = await this.redis.dfdAcquireSlots(1 + jobKeys.length, key, ...jobKeys, limit, want, token, this.reservationTtlMs, ...jobIds);
    if (ok !== 1) return { ok: false, active };
    const open = new Set(Array.from({ length: want }, (_, i) => i + 1));
    const member = (i: number) => `r:${token}:${i + 1}`;
    return {
      ok: true,
      reservation: {
        size: want,
        commit: async (i, jobId) => {
          if (!open.delete(i + 1)) return;
          await this.redis.multi().zrem(key, member(i)).zadd(key, Date.now(), jobId).exec();
        },
        release: async (i) => {
          if (!open.delete(i + 1)) return;
          await this.redis.zrem(key, member(i));
        },
        releaseAll: async () => {
          const left = [...open].map((n) => `r:${token}:${n}`);
          open.clear();
          if (left.length) await this.redis.zrem(key, ...left);
        },
      },
    };
  }

  /** Active jobs of `subject` right now (for tests and diagnostics; does not prune). */
  async activeCount(subject: string): Promise<number> {
    return this.redis.zcard(`${this.prefix}${subject}`);
  }
}

function nullReservation(size: number): Reservation {
  const noop = async () => undefined;
  return { size, commit: noop, release: noop, releaseAll: noop };
}
