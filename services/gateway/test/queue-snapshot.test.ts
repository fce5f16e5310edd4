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
    const probe = new QueueWaitProbe(redis, queue, { maxWaitS: 20, windowS: 30, shortWindowS: 5, maxRetryAfterS: 60 });
    const empty = await probe.snapshot();
    assert.equal(empty.waiting, 0);
    assert.equal(empty.oldestWaiting, 0, 'no waiting job: no age');
    const first = await queue.add('analysis', {} as never);
    await queue.add('analysis', {} as never);
    const s = await probe.snapshot();
    assert.equal(s.waiting, 2);
    assert.equal(s.oldestWaiting, first.timestamp, 'the age of the oldest waiting job');
  } finally {
    await queue.close();
    redis.disconnect();
    await server.stop('SIGKILL');
  }
});
