import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { RED, colourImage } from '@dfd/test-support/images';
import { waitFor } from '@dfd/test-support/processes';

async function submit(url: string, body: Buffer) {
  const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
  assert.equal(res.status, 202);
  return (await res.json()) as { id: string };
}

async function statusOf(url: string, id: string): Promise<any> {
  return (await fetch(`${url}/v1/analyses/${id}`)).json();
}

describe('faults with real processes', () => {
  let stack: Stack;
  before(async () => {
    // Short locks so a killed worker's job is noticed as stalled within seconds.
    stack = await startStack({ detectorEnv: { JOB_LOCK_MS: '2000', CLASSIFIER_DEADLINE_MS: '1000', CLASSIFIER_RETRIES: '2' } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('completes a job after the classifier was down and came back', async () => {
    const classifier = stack.classifiers[0]!;
    await classifier.stop('SIGKILL');
    const { id } = await submit(stack.url, await colourImage('jpeg', RED, 64, 501));
    // The detector cannot classify: the job is parked (or never taken), not failed, and spends no attempt.
    const detector = stack.detectors[0]!;
    await waitFor('detector not ready', async () => (await fetch(`http://127.0.0.1:${detector.httpPort}/readyz`)).status === 503, 20_000, 200);
    await new Promise((r) => setTimeout(r, 5_000));
    const during = await statusOf(stack.url, id);
    assert.notEqual(during.status, 'failed');
    assert.equal(during.attempts, 0);
    classifier.start();
    const done = await waitFor('completion', async () => {
      const v = await statusOf(stack.url, id);
      return v.status === 'completed' ? v : undefined;
    }, 40_000, 250);
    assert.equal(done.result.edit_type, 'retouched');
    assert.equal(done.attempts, 1, 'the outage spent no attempt (1 = the attempt that completed)');
  });

  it('finishes on another detector a job whose detector was SIGKILLed mid-job', async () => {
    const first = stack.detectors[0]!;
    const classifier = stack.classifiers[0]!;
    await waitFor('classifier back', async () => (await fetch(`http://127.0.0.1:${classifier.httpPort}/healthz`)).ok);
    // With the classifier gone, the job sits inside the detector, in gRPC retries.
    await classifier.stop('SIGKILL');
    const { id } = await submit(stack.url, await colourImage('jpeg', RED, 64, 777));
    await waitFor('processing', async () => (await statusOf(stack.url, id)).status === 'processing', 10_000, 50);
    await first.kill();
    classifier.start();
    await stack.addDetector();
    const done = await waitFor('completion on the second detector', async () => {
      const v = await statusOf(stack.url, id);
      return v.status === 'completed' ? v : undefined;
    }, 60_000, 250);
    assert.equal(done.result.verdict, 'edited');
  });
});
