import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { createAnalysisQueue, redisConnectionOptions } from '@dfd/jobs';
import { loadGatewayConfig } from '../src/config.js';
import { decide, type AdmissionPolicy, type QueueSnapshot } from '../src/limits/predicted-wait.js';
import { colourImage, RED, sleep, startRedis, startService, waitFor, type RedisServer, type ServiceHandle } from './helpers.js';

const policy: AdmissionPolicy = { maxWaitS: 20, windowS: 30, shortWindowS: 5, maxRetryAfterS: 60, coldStartDepth: 64 };
const NOW = 1_700_000_000_000;
const snap = (s: Partial<QueueSnapshot>): QueueSnapshot => ({ now: NOW, waiting: 0, active: 0, doneLong: 0, doneShort: 0, firstLong: 0, firstShort: 0, oldestWaiting: 0, lastFinish: 0, deferred: 0, ...s });

describe('admission decision from a queue snapshot', () => {
  it('reads ADMISSION_* from the environment, validated with the rest of the configuration', () => {
    const cfg = loadGatewayConfig({}).admission;
    assert.equal(cfg.maxWaitS, 20);
    assert.equal(cfg.enabled, true);
    assert.equal(loadGatewayConfig({ ADMISSION_MAX_WAIT_S: '0' }).admission.enabled, false);
    assert.throws(() => loadGatewayConfig({ ADMISSION_MAX_WAIT_S: 'soon', ADMISSION_RATE_WINDOW_S: '1' }), (err: Error) => /ADMISSION_MAX_WAIT_S must be a number/.test(err.message) && /ADMISSION_RATE_WINDOW_S must be >= 2/.test(err.message));
  });

  it('admits an empty queue, and a cold queue (nothing finished yet) up to the cold-start depth', () => {
    assert.equal(decide(snap({}), policy).admit, true);
    const cold = decide(snap({ waiting: 55, active: 8, oldestWaiting: NOW - 10_000 }), policy);
    assert.equal(cold.admit, true);
    assert.equal(cold.reason, 'cold_start');
    assert.equal(decide(snap({ waiting: 5_000, active: 8 }), { ...policy, coldStartDepth: 0 }).admit, true, '0: no bound');
  });

  it('past the cold-start depth refuses as warming up, the callers due back first spreading Retry-After', () => {
    const full = decide(snap({ waiting: 56, active: 8 }), policy, 0, 0, 0);
    assert.ok(!full.admit && full.reason === 'warming_up' && full.retryAfterS === 2, JSON.stringify(full));
    assert.match(!full.admit ? full.message : '', /warming up: 64 analyses are queued or running and none has finished yet/);
    // 64 already told to come back: one cold-start depth ahead, 2 s more.
    const later = decide(snap({ waiting: 56, active: 8, deferred: 64 }), policy, 0, 0, 0);
    assert.ok(!later.admit && later.retryAfterS === 4);
    // Local admissions count: 63 in the queue, one admitted here since the snapshot.
    assert.equal(decide(snap({ waiting: 63 }), policy, 1).admit, false);
  });

  it('refuses when jobs finished before but now wait longer than the window and the bound with nothing finishing', () => {
    const neverRan = decide(snap({ waiting: 3, oldestWaiting: NOW - 45_000 }), policy);
    assert.equal(neverRan.reason, 'cold_start', 'no job has ever finished: workers may still be starting');
    const d = decide(snap({ waiting: 3, oldestWaiting: NOW - 45_000, lastFinish: NOW - 600_000 }), policy);
    assert.equal(d.admit, false);
    assert.equal(d.reason, 'stalled');
    assert.ok(!d.admit && d.retryAfterS >= 1 && d.retryAfterS <= 60);
  });

  it('predicts wait = depth / rate, the rate measured since the first finish in the window', () => {
    // 40 finished over the last 4 s of a 30 s window: 10/s, not 40/30.
    const s = snap({ waiting: 150, active: 8, doneLong: 40, firstLong: NOW - 4_000, doneShort: 40, firstShort: NOW - 4_000 });
    const ok = decide(s, policy);
    assert.equal(ok.admit, true);
    assert.ok(Math.abs(ok.waitS - 159 / 10) < 1e-9, `wait ${ok.waitS}`);
    const over = decide({ ...s, waiting: 400 }, policy);
    assert.equal(over.admit, false);
    assert.ok(!over.admit && over.reason === 'predicted_wait');
    // Retry-After: when the predicted wait is back under the bound, (409 / 10) - 20 -> 21 s.
    assert.ok(!over.admit && over.retryAfterS === Math.ceil(409 / 10 - 20), `retry ${!over.admit && over.retryAfterS}`);
    assert.match(!over.admit ? over.message : '', /would wait about 41 s/);
    const huge = decide({ ...s, waiting: 1_000_000 }, policy, 0, 0, 0);
    assert.ok(!huge.admit && huge.retryAfterS === 60, 'Retry-After is capped');
  });

  it('counts the callers already told to come back: Retry-After covers them too, and is spread past the cap', () => {
    // 10/s; 409 queued -> 21 s until the queue is under the bound.
    const s = snap({ waiting: 400, active: 8, doneLong: 40, firstLong: NOW - 4_000, doneShort: 40, firstShort: NOW - 4_000 });
    const alone = decide(s, policy);
    assert.ok(!alone.admit && alone.retryAfterS === 21);
    // 100 refused callers due back (all replicas) take 10 s more at 10/s; 50 more refused here since the snapshot, 5 s.
    const behind = decide({ ...s, deferred: 100 }, policy);
    assert.ok(!behind.admit && behind.retryAfterS === 31, `retry ${!behind.admit && behind.retryAfterS}`);
    assert.match(!behind.admit ? behind.message : '', /100 refused callers are due back before you/);
    const more = decide({ ...s, deferred: 100 }, policy, 0, 50);
    assert.ok(!more.admit && more.retryAfterS === 36);
    // 2,000 due back at 10/s is far past the 60 s cap: spread over its second half, not all at 60 s.
    const spread = [0, 0.25, 0.5, 0.999].map((u) => decide({ ...s, deferred: 2_000 }, policy, 0, 0, u));
    const values = spread.map((d) => (!d.admit ? d.retryAfterS : -1));
    assert.deepEqual(values, [60, 53, 45, 31]);
  });

  it('follows a burst: the short window lifts the rate, and local admissions count before the next snapshot', () => {
    // 60 finished in 30 s at light load, but 50 of them in the last 5 s once the burst saturated the workers.
    const s = snap({ waiting: 180, doneLong: 60, firstLong: NOW - 30_000, doneShort: 50, firstShort: NOW - 5_000 });
    const d = decide(s, policy);
    assert.ok(Math.abs((d.ratePerS ?? 0) - 10) < 1e-9);
    assert.equal(d.admit, true);
    assert.equal(decide(s, policy, 30).admit, false, '30 admitted since the snapshot push it over');
  });
});

/**
 * A real gateway process on a real Redis, no detector: a test-side BullMQ worker records a
 * completion rate by finishing jobs, then stops, and the queue fills.
 */
describe('admission by predicted wait against a real gateway and Redis', () => {
  let redis: RedisServer;
  let gateway: ServiceHandle;
  let queue: Queue;
  const url = () => `http://127.0.0.1:${gateway.httpPort}`;
  let seed = 1;
  const images: Buffer[] = [];
  const MAX_WAIT_S = 4;

  async function upload(body = images[seed++ % images.length]!) {
    const t0 = performance.now();
    const res = await fetch(`${url()}/v1/analyses`, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
    return { status: res.status, ms: performance.now() - t0, json: (await res.json()) as any, headers: res.headers };
  }

  function startWorker(msPerJob: number) {
    const connection = redisConnectionOptions(redis.url);
    const w = new Worker('analyses', async () => sleep(msPerJob).then(() => ({ ok: true })), { connection, concurrency: 1 });
    w.on('error', () => undefined);
    return w;
  }

  before(async () => {
    for (let i = 0; i < 400; i++) images.push(await colourImage('png', RED, 32, 10_000 + i));
    redis = await startRedis();
    gateway = await startService(
      'gateway',
      {
        REDIS_URL: redis.url,
        QUEUE_NAME: 'analyses',
        ALLOW_ANONYMOUS: 'true',
        RATE_LIMIT_PER_MINUTE: '0',
        MAX_CONCURRENT_JOBS_PER_KEY: '0',
        ADMISSION_MAX_WAIT_S: String(MAX_WAIT_S),
        ADMISSION_RATE_WINDOW_S: '120',
        ADMISSION_COLD_START_DEPTH: '40',
      },
      '/readyz',
    );
    queue = createAnalysisQueue('analyses', redisConnectionOptions(redis.url));
  });
  after(async () => {
    await gateway?.stop('SIGTERM', 5_000);
    await queue?.close();
    await redis?.stop('SIGKILL');
  });

  it('cold start: with no completion rate yet, uploads are admitted up to ADMISSION_COLD_START_DEPTH, then refused before the body', async () => {
    for (let i = 0; i < 40; i++) {
      const r = await upload();
      assert.equal(r.status, 202, JSON.stringify(r.json));
    }
    assert.equal(await queue.getWaitingCount(), 40);
    await sleep(300); // the next snapshot sees the 40
    const r = await upload();
    assert.equal(r.status, 429, JSON.stringify(r.json));
    assert.equal(r.json.error.code, 'overloaded');
    assert.match(r.json.error.message, /warming up: 40 analyses/);
    assert.ok(Number(r.headers.get('retry-after')) >= 2);
    assert.equal(await queue.getWaitingCount(), 40, 'nothing was queued for the refused upload');
  });

  it('with a recorded rate and no detector, uploads get a fast 429 overloaded with an honest Retry-After; polls still answer', async () => {
    // Record a rate: a worker finishes the 40 queued jobs at about 10/s, then goes away.
    const t0 = Date.now();
    const worker = startWorker(100);
    await waitFor('queue drained', async () => (await queue.getCompletedCount()) >= 40, 30_000, 50);
    const observedRate = 40 / ((Date.now() - t0) / 1000);
    await worker.close();

    let admitted = 0;
    let refusal: Awaited<ReturnType<typeof upload>> | undefined;
    let lastId = '';
    for (let i = 0; i < 300 && !refusal; i++) {
      const r = await upload();
      if (r.status === 202) {
        admitted++;
        lastId = r.json.id;
      } else refusal = r;
    }
    assert.ok(refusal, `no 429 after ${admitted} uploads at ~${observedRate.toFixed(1)} jobs/s and a ${MAX_WAIT_S} s bound`);
    assert.equal(refusal.status, 429, JSON.stringify(refusal.json));
    assert.equal(refusal.json.error.code, 'overloaded');
    assert.match(refusal.json.error.message, /would wait about \d+ s/);
    assert.ok(refusal.json.request_id);
    // Admitted until the queue held about MAX_WAIT_S seconds of work. One slot finishing a job per
    // 100 ms cannot be measured faster than ~10/s, so no more than that many seconds' worth got in.
    const fastest = 11;
    assert.ok(admitted >= 1 && admitted <= fastest * MAX_WAIT_S + 5, `admitted ${admitted} at ~${observedRate.toFixed(1)}/s`);

    // Deepen the queue behind the gateway's back (another replica, a batch): Retry-After grows with it.
    await queue.addBulk(Array.from({ length: 200 }, (_, i) => ({ name: 'analysis', data: { filler: i } as any })));
    const depth = (await queue.getWaitingCount()) + (await queue.getActiveCount());
    await sleep(600); // each replica re-reads the queue every ADMISSION_REFRESH_MS (250 ms)
    const latencies: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 15; i++) {
      const r = await upload();
      assert.equal(r.status, 429);
      latencies.push(r.ms);
      retryAfter = Number(r.headers.get('retry-after'));
    }
    // Retry-After follows the estimate: at most `fastest` jobs/s, the wait is at least depth / fastest.
    const floor = Math.floor(depth / fastest - MAX_WAIT_S) - 1;
    assert.ok(retryAfter >= Math.max(1, floor) && retryAfter <= 60, `Retry-After ${retryAfter}, depth ${depth}, rate ${observedRate.toFixed(1)}/s`);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    console.log(`admitted ${admitted} at ${observedRate.toFixed(1)} jobs/s, then 429; Retry-After ${retryAfter} s at depth ${depth}; 429 latency p50 ${p50.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    assert.ok(p50 < 250, `429 p50 ${p50.toFixed(1)} ms`);

    // Polls and health are never refused.
    const poll = await fetch(`${url()}/v1/analyses/${lastId}`);
    assert.equal(poll.status, 202);
    assert.equal(((await poll.json()) as any).status, 'queued');
    assert.equal((await fetch(`${url()}/healthz`)).status, 200);
  });

  it('refuses before reading the body: a 5 MB upload whose body never comes is answered 429 at once', async () => {
    const t0 = performance.now();
    const head = await new Promise<string>((resolve, reject) => {
      const sock = connect(gateway.httpPort, '127.0.0.1');
      let got = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no answer without the body; got ${JSON.stringify(got)}`));
      }, 5_000);
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) {
          clearTimeout(timer);
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
      sock.write(`POST /v1/analyses HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: ${5 * 1024 * 1024}\r\n\r\n`);
    });
    assert.match(head, /^HTTP\/1\.1 429 /);
    assert.match(head, /retry-after: \d+/i);
    console.log(`429 without the body in ${(performance.now() - t0).toFixed(1)} ms`);
  });

  it('a client that sends its whole body after an early 429 is not cut off (no EPIPE or reset)', async () => {
    const size = 2 * 1024 * 1024;
    const outcome = await new Promise<{ head: string; error: string | null; wrote: number }>((resolve) => {
      const sock = connect(gateway.httpPort, '127.0.0.1');
      let head = '';
      let wrote = 0;
      let error: string | null = null;
      sock.on('data', (d) => (head += d.toString('latin1')));
      sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      sock.write(`POST /v1/analyses HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: ${size}\r\n\r\n`);
      // As k6 (Go) and most SDKs do: keep writing the body even though the answer has come.
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = async () => {
        await sleep(200); // the 429 is out before most of the body
        while (wrote < size && !error && !sock.destroyed) {
          if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
          wrote += chunk.length;
        }
        await sleep(300);
        sock.destroy();
        resolve({ head, error, wrote });
      };
      void pump();
    });
    assert.match(outcome.head, /^HTTP\/1\.1 429 /);
    assert.equal(outcome.error, null, `writing the body after the 429 failed: ${outcome.error}`);
    assert.equal(outcome.wrote, size);
  });

  it('admits again once the queue drains', async () => {
    const worker = startWorker(5);
    try {
      const r = await waitFor('an upload admitted', async () => {
        const u = await upload();
        return u.status === 202 ? u : (await sleep(250), false);
      }, 90_000, 0);
      assert.equal(r.status, 202);
    } finally {
      await worker.close();
    }
  });
});

/** Uploads in flight in one gateway process are bounded too (MAX_INFLIGHT_DECODES), before the body. */
describe('uploads in flight against a real gateway and Redis', () => {
  let redis: RedisServer;
  let gateway: ServiceHandle;
  before(async () => {
    redis = await startRedis();
    gateway = await startService('gateway', { REDIS_URL: redis.url, QUEUE_NAME: 'inflight', ALLOW_ANONYMOUS: 'true', RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0', MAX_INFLIGHT_DECODES: '2' }, '/readyz');
  });
  after(async () => {
    await gateway?.stop('SIGTERM', 5_000);
    await redis?.stop('SIGKILL');
  });

  /** An upload whose body is announced and never sent: admitted, it stays in flight until closed. */
  function stalledUpload(): Promise<{ sock: Socket; head: Promise<string> }> {
    return new Promise((resolve, reject) => {
      const sock = connect(gateway.httpPort, '127.0.0.1', () => {
        sock.write(`POST /v1/analyses HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: 100000\r\n\r\n`);
        resolve({ sock, head });
      });
      let got = '';
      const head = new Promise<string>((res) => sock.on('data', (d) => ((got += d.toString('latin1')), got.includes('\r\n\r\n') && res(got))));
      sock.on('error', reject);
    });
  }

  it('past the bound answers 429 busy at once with Retry-After, and admits again once an upload ends', async () => {
    const a = await stalledUpload();
    const b = await stalledUpload();
    await sleep(300); // both reach the gateway's onRequest and are admitted
    const png = await colourImage('png', RED, 32, 77);
    const t0 = performance.now();
    const refused = await fetch(`http://127.0.0.1:${gateway.httpPort}/v1/analyses`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    const ms = performance.now() - t0;
    const body = (await refused.json()) as any;
    assert.equal(refused.status, 429, JSON.stringify(body));
    assert.equal(body.error.code, 'busy');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    console.log(`429 busy with 2 uploads in flight in ${ms.toFixed(1)} ms`);
    a.sock.destroy();
    await sleep(200);
    const ok = await fetch(`http://127.0.0.1:${gateway.httpPort}/v1/analyses`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(ok.status, 202, JSON.stringify(await ok.clone().json()));
    // The answered upload no longer counts: one stalled upload and nothing else in flight.
    const again = await fetch(`http://127.0.0.1:${gateway.httpPort}/v1/analyses`, { method: 'POST', body: await colourImage('png', RED, 32, 78), headers: { 'content-type': 'image/png' } });
    assert.equal(again.status, 202);
    b.sock.destroy();
  });
});
