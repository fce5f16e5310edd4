import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';

/**
 * Predicted queue wait, from numbers every gateway replica reads alike in Redis.
 *
 * The completion rate is derived from BullMQ's own records: the `completed` and `failed` sorted
 * sets are scored by the time each job finished (BullMQ's moveToFinished), so the jobs that
 * finished in the last W seconds are one ZCOUNT away, with nothing extra written by the
 * workers. One Lua call returns, at Redis's clock, the depth (waiting + prioritized + active),
 * the finishes in the long and the short window, the first finish in each window and the enqueue
 * time of the oldest waiting job.
 *
 * Refused callers are part of the load too. Each replica reports, with its next snapshot, how many
 * callers it told to come back in which second; the script keeps those counts in one hash and
 * returns how many are still due (`deferred`). A refused caller's Retry-After then covers the
 * drain of the queue under the bound and the callers told to come back before it, at the
 * measured rate: with 2,000 users and 25 verdicts/s the honest answer is a minute, not the 1 s
 * that brought every refused user back at once (about 700 refusals/s, each with its upload).
 */

export interface QueueSnapshot {
  /** Redis's clock (ms). */
  now: number;
  waiting: number;
  active: number;
  /** Jobs finished (completed or finally failed) in the long / short window. */
  doneLong: number;
  doneShort: number;
  /** Finish time of the first job in each window (ms), 0 when none. */
  firstLong: number;
  firstShort: number;
  /** Enqueue time of the oldest waiting job (ms), 0 when none. */
  oldestWaiting: number;
  /** Finish time of the latest job ever kept in BullMQ's records (ms), 0 when none. */
  lastFinish: number;
  /** Refused callers (all replicas) whose Retry-After has not run out yet. */
  deferred: number;
}

export interface AdmissionPolicy {
  /** Refuse new uploads when the predicted wait exceeds this (s). */
  maxWaitS: number;
  /** Long window of the completion rate (s). */
  windowS: number;
  /** Short window (s): follows a burst that has just saturated the workers. */
  shortWindowS: number;
  /** Retry-After is clamped to [1, maxRetryAfterS]. */
  maxRetryAfterS: number;
  /**
   * Before any completion rate is known, admit while fewer than this many jobs are queued or
   * running (0: no bound). A cold stack met by 2,000 users at once otherwise admitted all it
   * could decode, and the accepts of that first wave took 3-6 s.
   */
  coldStartDepth: number;
}

export type Decision =
  | { admit: true; reason: 'idle' | 'cold_start' | 'within_bound'; waitS: number; ratePerS: number | null; depth: number }
  | { admit: false; reason: 'predicted_wait' | 'stalled' | 'warming_up'; waitS: number; ratePerS: number | null; depth: number; retryAfterS: number; message: string };

/** Jobs per second finished in one window, over the time since its first finish (at least 1 s). */
function windowRate(done: number, first: number, now: number, windowS: number): number {
  if (done <= 0 || first <= 0) return 0;
  const spanS = Math.min(windowS, Math.max(1, (now - first) / 1000));
  return done / spanS;
}

/**
 * The completion rate, or null while none is known (no finish in the long window). Measured
 * over the time since the first finish in the window, so a queue that has just started working
 * again is not judged by the idle seconds before it; the higher of the long and short windows,
 * so a burst that saturates the workers raises the rate within seconds.
 */
export function completionRate(s: QueueSnapshot, p: AdmissionPolicy): number | null {
  if (s.doneLong <= 0) return null;
  return Math.max(windowRate(s.doneLong, s.firstLong, s.now, p.windowS), windowRate(s.doneShort, s.firstShort, s.now, p.shortWindowS));
}

const clampRetry = (s: number, p: AdmissionPolicy) => Math.min(p.maxRetryAfterS, Math.max(1, Math.ceil(s)));

/**
 * Past the cap, every caller would be told the same number and all come back in the same second;
 * they are spread over the cap's second half instead (`u` uniform in [0, 1)).
 */
function spreadRetry(s: number, p: AdmissionPolicy, u: number): number {
  if (Math.ceil(s) <= p.maxRetryAfterS) return clampRetry(s, p);
  return Math.max(1, p.maxRetryAfterS - Math.floor(u * Math.ceil(p.maxRetryAfterS / 2)));
}

/**
 * The admission decision for one more job, `extra` being jobs this replica admitted since the
 * snapshot was taken.
 * - empty queue: admit;
 * - no finish in the window: admit (cold start: no job has ever finished, workers are starting,
 *   or traffic comes after a quiet spell) up to `coldStartDepth` jobs queued or running, unless
 *   jobs did finish before and the oldest waiting job has now waited longer than both the window
 *   and the bound with nothing finishing (workers gone or wedged): then refuse ("stalled");
 *   past `coldStartDepth` refuse ("warming_up"): with no rate to go by, Retry-After assumes the
 *   workers take on `coldStartDepth` jobs every 2 s, and counts the callers due back first;
 * - otherwise wait = (waiting + active + 1) / rate; above the bound refuse, with Retry-After the
 *   time until the predicted wait is back under the bound plus the time to admit the callers
 *   already told to come back (`deferredExtra`: those this replica refused since the snapshot).
 */
export function decide(s: QueueSnapshot, p: AdmissionPolicy, extra = 0, deferredExtra = 0, u = Math.random()): Decision {
  const depth = s.waiting + s.active + extra;
  const ahead = s.deferred + deferredExtra;
  if (depth === 0) return { admit: true, reason: 'idle', waitS: 0, ratePerS: completionRate(s, p), depth };
  const rate = completionRate(s, p);
  if (rate === null) {
    const oldestAgeS = s.oldestWaiting > 0 ? (s.now - s.oldestWaiting) / 1000 : 0;
    if (s.lastFinish > 0 && s.waiting + extra > 0 && oldestAgeS > Math.max(p.windowS, p.maxWaitS)) {
      return {
        admit: false,
        reason: 'stalled',
        waitS: Infinity,
        ratePerS: 0,
        depth,
        retryAfterS: clampRetry(p.windowS, p),
        message: `No analysis has finished in the last ${p.windowS} s while ${depth} are queued or running (the oldest has waited ${Math.round(oldestAgeS)} s); new uploads are refused until work moves again.`,
      };
    }
    if (p.coldStartDepth > 0 && depth >= p.coldStartDepth) {
      const retryAfterS = spreadRetry(2 * (1 + ahead / p.coldStartDepth), p, u);
      return {
        admit: false,
        reason: 'warming_up',
        waitS: Infinity,
        ratePerS: null,
        depth,
        retryAfterS,
        message: `The service is warming up: ${depth} analyses are queued or running and none has finished yet; retry in ${retryAfterS} s.`,
      };
    }
    return { admit: true, reason: 'cold_start', waitS: 0, ratePerS: null, depth };
  }
  const waitS = (depth + 1) / rate;
  if (waitS <= p.maxWaitS) return { admit: true, reason: 'within_bound', waitS, ratePerS: rate, depth };
  const retryAfterS = spreadRetry(waitS - p.maxWaitS + ahead / rate, p, u);
  return {
    admit: false,
    reason: 'predicted_wait',
    waitS,
    ratePerS: rate,
    depth,
    retryAfterS,
    message: `The service is overloaded: ${depth} analyses are queued or running and about ${rate.toFixed(1)} finish per second, so a new one would wait about ${Math.ceil(waitS)} s (the bound is ${p.maxWaitS} s)${ahead > 0 ? `, and ${ahead} refused callers are due back before you` : ''}; retry in ${retryAfterS} s.`,
  };
}

// KEYS: wait, prioritized, active, completed, failed, the deferral hash (second -> callers due back
// then), and (when the wait list was not empty a moment before) the job hash of its oldest entry,
// read by the caller: every key the script touches is declared. ARGV: long window ms, short window
// ms, the hash's lifetime ms, then pairs (second, callers) this replica refused since its last call.
const SNAPSHOT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local waiting = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local active = redis.call('LLEN', KEYS[3])
local function window(ms)
  local from = now - tonumber(ms)
  local n = redis.call('ZCOUNT', KEYS[4], from, '+inf') + redis.call('ZCOUNT', KEYS[5], from, '+inf')
  local first = 0
  for _, k in ipairs({KEYS[4], KEYS[5]}) do
    local r = redis.call('ZRANGEBYSCORE', k, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if r[2] then
      local s = tonumber(r[2])
      if first == 0 or s < first then first = s end
    end
  end
  return n, first
end
local doneLong, firstLong = window(ARGV[1])
local doneShort, firstShort = window(ARGV[2])
local last = 0
for _, k in ipairs({KEYS[4], KEYS[5]}) do
  local r = redis.call('ZREVRANGE', k, 0, 0, 'WITHSCORES')
  if r[2] and tonumber(r[2]) > last then last = tonumber(r[2]) end
end
local oldest = 0
if KEYS[7] and redis.call('LLEN', KEYS[1]) > 0 then
  local ts = redis.call('HGET', KEYS[7], 'timestamp')
  if ts then oldest = tonumber(ts) end
end
for i = 4, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[6], ARGV[i], tonumber(ARGV[i + 1]))
end
if #ARGV >= 5 then redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[3])) end
local nowS = math.floor(now / 1000)
local deferred = 0
local fields = redis.call('HGETALL', KEYS[6])
for i = 1, #fields, 2 do
  if tonumber(fields[i]) <= nowS then redis.call('HDEL', KEYS[6], fields[i])
  else deferred = deferred + tonumber(fields[i + 1]) end
end
return {now, waiting, active, doneLong, doneShort, firstLong, firstShort, oldest, last, deferred}
`;

/** Reads snapshots for one BullMQ queue: the oldest waiting job's id, then the counts in one script. */
export class QueueWaitProbe {
  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly policy: AdmissionPolicy,
  ) {
    if (!(redis as any).dfdQueueSnapshot) redis.defineCommand('dfdQueueSnapshot', { lua: SNAPSHOT_LUA }); // 6 or 7 keys
  }

  /**
   * `deferrals`: callers this replica refused since its last snapshot, by the second (Unix s)
   * they were told to come back.
   */
  async snapshot(deferrals: ReadonlyMap<number, number> = new Map()): Promise<QueueSnapshot> {
    const k = this.queue.keys;
    // The oldest waiting job (wait is a list, oldest at the tail): its hash is a declared key.
    const oldestId = await this.redis.lindex(k.wait!, -1);
    const keys = [k.wait, k.prioritized, k.active, k.completed, k.failed, this.queue.toKey('admission-deferred'), ...(oldestId ? [this.queue.toKey(oldestId)] : [])];
    const pairs = [...deferrals].flatMap(([second, n]) => [String(second), String(n)]);
    const lifetimeMs = (this.policy.maxRetryAfterS + 60) * 1000;
    const r = (await (this.redis as any).dfdQueueSnapshot(keys.length, ...keys, String(this.policy.windowS * 1000), String(this.policy.shortWindowS * 1000), String(lifetimeMs), ...pairs)) as number[];
    const [now, waiting, active, doneLong, doneShort, firstLong, firstShort, oldestWaiting, lastFinish, deferred] = r.map(Number) as [number, number, number, number, number, number, number, number, number, number];
    return { now, waiting, active, doneLong, doneShort, firstLong, firstShort, oldestWaiting, lastFinish, deferred };
  }
}
