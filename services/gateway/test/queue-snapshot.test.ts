/**
 * The admission snapshot script against a real Redis and BullMQ queue: it declares every key it
 * reads (the oldest waiting job's hash included, passed in KEYS) and still reports that job's age.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createAnalysisQueue, redisConnectionOptions } from '@dfd/jobs';
import { startRedis } from './helpers.js';
import { QueueWaitProbe } from '../src/limits/predicted-wait.js';

test('the queue snapshot reads the oldest waiting job through a declared key', async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const queue = createAnalysisQueue('analyses', redisConnectionOptions(server.url));
  try {
    const probe = new QueueWaitProbe(redis, queue, { maxWaitS: 20, windowS: 30, shortWindowS: 5, maxRetryAfterS: 60, coldStartDepth: 64 });
    const empty = await probe.snapshot();
    assert.equal(empty.waiting, 0);
    assert.equal(empty.oldestWaiting, 0, 'no waiting job: no age');
    const first = await queue.add('analysis', {} as never);
    await queue.add('analysis', {} as never);
    const s = await probe.snapshot();
    assert.equal(s.waiting, 2);
    assert.equal(s.oldestWaiting, first.timestamp, 'the age of the oldest waiting job');
    assert.equal(s.deferred, 0);

    // Replica A reports callers it refused; replica B (another probe, another connection) sees
    // those still due back, not those whose second has passed, and the hash does not outlive them.
    const other = new Redis(server.url);
    try {
      const replicaB = new QueueWaitProbe(other, queue, { maxWaitS: 20, windowS: 30, shortWindowS: 5, maxRetryAfterS: 60, coldStartDepth: 64 });
      const nowS = Math.floor(s.now / 1000);
      await probe.snapshot(new Map([[nowS + 30, 5], [nowS + 50, 2], [nowS - 5, 3]]));
      const seen = await replicaB.snapshot();
      assert.equal(seen.deferred, 7, 'callers due back in 30 s and 50 s; the one already past is dropped');
      const key = queue.toKey('admission-deferred');
      assert.deepEqual(Object.keys(await redis.hgetall(key)).sort(), [String(nowS + 30), String(nowS + 50)]);
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 60_000 && ttl <= 120_000, `the hash expires after the longest Retry-After (pttl ${ttl})`);
      await replicaB.snapshot(new Map([[nowS + 30, 1]]));
      assert.equal((await probe.snapshot()).deferred, 8);
    } finally {
      other.disconnect();
    }
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop('SIGKILL');
  }
});
