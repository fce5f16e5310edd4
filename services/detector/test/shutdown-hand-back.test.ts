/**
 * Shutdown of a detector against a real Redis and BullMQ: a job still running when the grace period
 * ends is handed back to the queue and finished by another detector at once (not after its lock
 * expires), with its pixels intact; a job that finishes within the grace is completed as usual.
 * The analyser is a stand-in whose speed the test controls: what is under test is the queue
 * hand-back, and a real model cannot be made to hang on demand.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Analyser } from '@dfd/analysis';
import { createAnalysisQueue, PixelStore, redisConnectionOptions, type AnalysisJobData, type AnalysisResult } from '@dfd/jobs';
import { createLogger } from '@dfd/telemetry';
import { sleep, startRedis, waitFor, type RedisServer } from '@dfd/test-support/processes';
import { createAnalysisWorker } from '../src/worker.js';
import { InFlightJobs, stopWorker } from '../src/in-flight.js';

const LOCK_MS = 30_000;
const logger = createLogger('detector-test', 'silent');

function stubAnalyser(answer: (image: { width: number }) => Promise<string>): Analyser {
  return {
    async analyse(image: { width: number }) {
      return { verdict: await answer(image), scores: { edited: 0 }, timings: { total_ms: 1 } } as unknown as AnalysisResult;
    },
  } as unknown as Analyser;
}

describe('detector shutdown hands back unfinished jobs', () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  async function enqueue(queueName: string, id: string) {
    const pixels = new PixelStore(client);
    const pixelKey = await pixels.put(id, { width: 7, height: 5, data: Buffer.alloc(7 * 5 * 3, 90) });
    const queue = createAnalysisQueue(queueName, redisConnectionOptions(redis.url));
    const data = { pixelKey, width: 7, height: 5, options: { crop_faces: false }, evidence: {}, requestId: `req-${id}`, submittedAt: Date.now(), decodeMs: 1, source: { format: 'png', width: 7, height: 5, bytes: 100 } } as unknown as AnalysisJobData;
    const job = await queue.add('analyse', data, { jobId: id });
    return { queue, job, pixels };
  }

  function worker(queueName: string, analyser: Analyser, inFlight: InFlightJobs) {
    const w = createAnalysisWorker({ queueName, connection: redisConnectionOptions(redis.url), concurrency: 1, lockDurationMs: LOCK_MS, analyser, pixels: new PixelStore(client), logger, inFlight });
    void w.run();
    return w;
  }

  it('a job still running at the end of the grace is finished by another detector well before its lock expires', async () => {
    const { queue, job } = await enqueue('hand-back', 'job-hang');
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const inFlightA = new InFlightJobs();
    const a = worker('hand-back', stubAnalyser(async () => { await hung; return 'from-a'; }), inFlightA);
    await waitFor('the job to start', async () => inFlightA.size === 1, 10_000);

    const t0 = Date.now();
    const handedBack = await stopWorker(a, inFlightA, 300, logger);
    assert.equal(handedBack, 1, 'the running job is handed back');
    assert.equal(await (await queue.getJob(job.id!))!.getState(), 'waiting');

    let sawWidth = 0;
    const b = worker('hand-back', stubAnalyser(async (image) => { sawWidth = image.width; return 'from-b'; }), new InFlightJobs());
    await waitFor('the job to finish', async () => (await queue.getJob(job.id!))?.finishedOn !== undefined, 10_000);
    const done = (await queue.getJob(job.id!))!;
    assert.equal(await done.getState(), 'completed');
    assert.equal((done.returnvalue as unknown as { verdict: string }).verdict, 'from-b');
    assert.equal(sawWidth, 7, 'the pixels were still there for the second detector');
    assert.ok(Date.now() - t0 < LOCK_MS / 3, `finished ${Date.now() - t0} ms after the shutdown began (lock ${LOCK_MS} ms)`);

    // The first detector's late finish must not disturb the finished job.
    release();
    await sleep(300);
    assert.equal((((await queue.getJob(job.id!))!.returnvalue) as unknown as { verdict: string }).verdict, 'from-b');
    await b.close();
    await queue.close();
  });

  it('a job that finishes within the grace completes on the stopping detector', async () => {
    const { queue, job } = await enqueue('in-grace', 'job-quick');
    const inFlight = new InFlightJobs();
    const a = worker('in-grace', stubAnalyser(async () => { await sleep(400); return 'from-a'; }), inFlight);
    await waitFor('the job to start', async () => inFlight.size === 1, 10_000);
    assert.equal(await stopWorker(a, inFlight, 5_000, logger), 0);
    const done = (await queue.getJob(job.id!))!;
    assert.equal(await done.getState(), 'completed');
    assert.equal((done.returnvalue as unknown as { verdict: string }).verdict, 'from-a');
    await queue.close();
  });
});
