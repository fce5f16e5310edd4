/**
 * Issue 11, items 4 and 11, with real processes: a classifier outage longer than the retry
 * budget fails nothing (the detector stops taking jobs and parks the ones in flight without
 * spending attempts; every job completes after recovery), and a slow but live detector keeps the
 * lock of a job that runs for longer than JOB_LOCK_MS (the job runs once).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { sleep, waitFor } from '@dfd/test-support/processes';

async function submit(url: string, body: Buffer) {
  const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
  assert.equal(res.status, 202);
  return ((await res.json()) as { id: string }).id;
}

const view = async (url: string, id: string): Promise<any> => (await fetch(`${url}/v1/analyses/${id}`)).json();

describe('classifier outage and job locks', () => {
  let stack: Stack;
  let redis: Redis;
  before(async () => {
    stack = await startStack({ gatewayEnv: { RATE_LIMIT_PER_MINUTE: '0' }, detectorEnv: { JOB_LOCK_MS: '2000', CLASSIFIER_DEADLINE_MS: '8000', CLASSIFIER_RETRIES: '1' } });
    redis = new Redis(stack.redis.url);
  });
  after(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  it('keeps the lock of a slow but live detector: a job longer than JOB_LOCK_MS runs once', async () => {
    const classifier = stack.classifiers[0]!;
    // The classifier freezes: the detector's call waits (within its 8 s deadline), the detector itself stays live.
    classifier.child!.kill('SIGSTOP');
    let id: string;
    try {
      id = await submit(stack.url, await colourImage('png', RED, 64, 4101));
      await waitFor('processing', async () => (await view(stack.url, id)).status === 'processing', 10_000, 50);
      await sleep(5_000); // 2.5 lock durations
    } finally {
      classifier.child!.kill('SIGCONT');
    }
    const done = await waitFor('completion', async () => {
      const v = await view(stack.url, id!);
      return v.status === 'completed' ? v : undefined;
    }, 30_000, 200);
    assert.equal(done.result.verdict, 'edited');
    const fields = await redis.hmget(`bull:analyses:${id!}`, 'ats', 'stc', 'atm');
    assert.equal(Number(fields[0] ?? 0), 1, 'started once');
    assert.equal(Number(fields[1] ?? 0), 0, 'never seen as stalled');
  });

  it('fails nothing in a classifier outage longer than the retry budget; every job completes after recovery', async () => {
    const classifier = stack.classifiers[0]!;
    const detector = stack.detectors[0]!;
    await waitFor('detector ready', async () => (await fetch(`http://127.0.0.1:${detector.httpPort}/readyz`)).ok, 20_000, 200);
    await classifier.stop('SIGKILL');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await submit(stack.url, await colourImage('png', i % 3 === 2 ? BLUE : RED, 64, 4200 + i)));
    await waitFor('detector not ready', async () => (await fetch(`http://127.0.0.1:${detector.httpPort}/readyz`)).status === 503, 20_000, 200);
    // Longer than the old failure point (~25 s: 5 attempts with 1-8 s backoff plus deadlines).
    const until = Date.now() + 35_000;
    while (Date.now() < until) {
      const views = await Promise.all(ids.map((id) => view(stack.url, id)));
      for (const v of views) {
        assert.notEqual(v.status, "failed", `failed during the outage: ${JSON.stringify(v)}`);
        // BullMQ counts finished attempts: 1 for a job that completed, 0 while it waits.
        assert.equal(v.attempts, v.status === 'completed' ? 1 : 0, 'no attempt spent on the outage');
      }
      await sleep(2_000);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${detector.httpPort}/metrics`)).text();
    assert.match(metrics, /dfd_classifier_reachable\{[^}]*\} 0/);
    // The detector is not taking jobs: the uploads that need the classifier (8 of 12) wait in the
    // queue or are parked, at most one sits in a call.
    const notDone = (await Promise.all(ids.map((id) => view(stack.url, id)))).filter((v) => v.status !== 'completed').length;
    assert.ok(notDone >= 8, `${notDone} not completed`);
    const waiting = await redis.llen('bull:analyses:wait');
    const delayed = await redis.zcard('bull:analyses:delayed');
    assert.ok(waiting + delayed >= notDone - 1, `waiting ${waiting} + parked ${delayed} of ${notDone}`);

    classifier.start();
    const views = await waitFor('all complete', async () => {
      const vs = await Promise.all(ids.map((id) => view(stack.url, id)));
      return vs.every((v) => v.status === 'completed') ? vs : undefined;
    }, 90_000, 500);
    for (const v of views) assert.equal(v.attempts, 1, 'one attempt: the one that completed');
    assert.equal(views.filter((v) => v.result.verdict === 'edited').length, 8);
  });
});
