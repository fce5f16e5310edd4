/**
 * Many long-polls at once (`GET /v1/analyses/:id?wait=N`) against a real gateway process and Redis:
 * they share the process's one QueueEvents subscription (no MaxListenersExceededWarning), and each
 * returns as soon as its job ends, not at the end of its wait.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'bullmq';
import { redisConnectionOptions } from '@dfd/jobs';
import { colourImage, sampleResult, sleep, startRedis, startService, type RedisServer, type ServiceHandle } from './helpers.js';

describe('long-polls share one subscription', () => {
  let redis: RedisServer;
  let gw: ServiceHandle;
  let url: string;
  before(async () => {
    redis = await startRedis();
    gw = await startService('gateway', { REDIS_URL: redis.url, QUEUE_NAME: 'analyses', ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0' }, '/readyz');
    url = `http://127.0.0.1:${gw.httpPort}`;
  });
  after(async () => {
    await gw?.stop();
    await redis?.stop('SIGKILL');
  });

  it('40 concurrent waits: no listener warning, each answered when its job completes', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body: await colourImage('png', [i * 6, 90, 30], 32, 7000 + i), headers: { 'content-type': 'image/png' } });
      assert.equal(res.status, 202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Also several waits on the same job (the same picture uploaded by many callers).
    const polled = [...ids, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!, ids[0]!];
    const t0 = Date.now();
    const polls = polled.map(async (id) => {
      const v = (await (await fetch(`${url}/v1/analyses/${id}?wait=20`)).json()) as { status: string };
      return { status: v.status, ms: Date.now() - t0 };
    });
    await sleep(1_000); // every request is waiting now
    const worker = new Worker('analyses', async () => sampleResult, { connection: redisConnectionOptions(redis.url), concurrency: 8 });
    try {
      const answers = await Promise.all(polls);
      assert.ok(answers.every((a) => a.status === 'completed'), JSON.stringify(answers.filter((a) => a.status !== 'completed')));
      const slowest = Math.max(...answers.map((a) => a.ms));
      assert.ok(slowest < 10_000, `answered when the jobs ended, not after the 20 s wait: ${slowest} ms`);
      assert.ok(Math.min(...answers.map((a) => a.ms)) >= 900, 'they did wait for the worker');
    } finally {
      await worker.close();
    }
    assert.doesNotMatch(gw.output, /MaxListenersExceededWarning/, gw.output);
  });

  it('a wait that times out returns the job as it is', async () => {
    const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body: await colourImage('png', [10, 10, 200], 32, 7999), headers: { 'content-type': 'image/png' } });
    const { id } = (await res.json()) as { id: string };
    const t0 = Date.now();
    const v = (await (await fetch(`${url}/v1/analyses/${id}?wait=1`)).json()) as { status: string };
    assert.equal(v.status, 'queued');
    assert.ok(Date.now() - t0 >= 900, 'waited its second');
  });
});
