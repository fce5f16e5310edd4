import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Worker } from 'bullmq';
import { redisConnectionOptions } from '@dfd/jobs';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import { colourImage, PEPPER, RED, sampleResult, startRedis, startService, type RedisServer, type ServiceHandle } from './helpers.js';

/**
 * Two gateway processes share one Redis and no detector, so submitted jobs stay queued: the
 * limits must hold across both replicas.
 */
describe('rate limits and concurrent-job quotas across two gateway replicas', () => {
  let redis: RedisServer;
  let client: Redis;
  let store: ApiKeyStore;
  let gateways: ServiceHandle[] = [];
  const url = (i: number) => `http://127.0.0.1:${gateways[i % 2]!.httpPort}`;
  let seed = 100;

  async function upload(i: number, key: string | undefined) {
    const body = await colourImage('png', RED, 48, seed++);
    const headers: Record<string, string> = { 'content-type': 'image/png' };
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${url(i)}/v1/analyses`, { method: 'POST', body, headers });
    return { status: res.status, json: (await res.json()) as any, headers: res.headers };
  }

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = new ApiKeyStore(client, PEPPER);
    const env = { REDIS_URL: redis.url, QUEUE_NAME: 'analyses', API_KEY_PEPPER: PEPPER, RATE_LIMIT_PER_MINUTE: '5', MAX_CONCURRENT_JOBS_PER_KEY: '3', LOG_LEVEL: 'info' };
    gateways = await Promise.all([startService('gateway', env, '/readyz'), startService('gateway', env, '/readyz')]);
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGTERM', 5_000)));
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  it('spends one shared per-minute budget per key, with RateLimit headers and a 429 + Retry-After past it', async () => {
    const { key } = await store.create('rate');
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${url(i)}/v1/analyses/${'0'.repeat(32)}`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('ratelimit-limit'), '5');
      seen.push(Number(res.headers.get('ratelimit-remaining')));
      assert.ok(Number(res.headers.get('ratelimit-reset')) >= 1);
      assert.ok(res.headers.get('x-request-id'));
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0], 'both replicas draw from one bucket');
    const over = await fetch(`${url(5)}/v1/analyses/${'0'.repeat(32)}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(over.status, 429);
    const body = (await over.json()) as any;
    assert.equal(body.error.code, 'rate_limited');
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 12, `Retry-After ${retry}`);
    assert.equal(over.headers.get('ratelimit-remaining'), '0');
    assert.equal(over.headers.get('ratelimit-limit'), '5');

    // Other callers have their own budgets: another key, and anonymous callers per IP.
    const { key: other } = await store.create('other');
    const res2 = await fetch(`${url(0)}/v1/analyses/${'0'.repeat(32)}`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(res2.headers.get('ratelimit-remaining'), '4');
    const anon = await fetch(`${url(1)}/v1/analyses/${'0'.repeat(32)}`);
    assert.equal(anon.status, 404);
    assert.equal(anon.headers.get('ratelimit-remaining'), '4');
  });

  it('admits exactly the quota of concurrent jobs when uploads race on both replicas', async () => {
    const { key } = await store.create('racer', { rateLimitPerMinute: 1000 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => upload(i, key)));
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(accepted.length, 3, JSON.stringify(results.map((r) => [r.status, r.json.error?.code])));
    assert.equal(refused.length, 5);
    for (const r of refused) {
      assert.equal(r.json.error.code, 'too_many_jobs');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
  });

  it('frees a slot when one of the key\'s jobs ends', async () => {
    const { key } = await store.create('quota', { rateLimitPerMinute: 1000 });
    const first = [await upload(0, key), await upload(1, key), await upload(0, key)];
    assert.deepEqual(first.map((r) => r.status), [202, 202, 202]);
    const full = await upload(1, key);
    assert.equal(full.status, 429);
    assert.equal(full.json.error.code, 'too_many_jobs');

    // Play detector for one job of this key: take jobs until we hold one of ours, finish it.
    const ours = new Set(first.map((r) => r.json.id as string));
    const worker = new Worker('analyses', null, { connection: redisConnectionOptions(redis.url) });
    try {
      let finished = false;
      for (let i = 0; i < 20 && !finished; i++) {
        const job = await worker.getNextJob('test-token', { block: false });
        if (!job) break;
        if (ours.has(job.id!)) {
          await job.moveToCompleted(sampleResult, 'test-token', false);
          finished = true;
        } else await job.moveToFailed(new Error('not this one'), 'test-token', false);
      }
      assert.ok(finished, 'found one of our jobs');
    } finally {
      await worker.close();
    }
    const again = await upload(0, key);
    assert.equal(again.status, 202, JSON.stringify(again.json));
    assert.equal((await upload(1, key)).status, 429, 'and the quota is full again');
  });

  it('never logs the Authorization header or bodies', () => {
    const logs = gateways.map((g) => g.output).join('\n');
    assert.ok(logs.length > 0, 'the replicas wrote logs');
    assert.ok(!/dfd_[A-Za-z0-9_-]{43}/.test(logs), 'no API key in the logs');
    assert.ok(!/authorization/i.test(logs));
  });
});
