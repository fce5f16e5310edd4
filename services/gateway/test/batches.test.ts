import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import { colourImage, multipart, RED, BLUE, sleep } from './helpers.js';

describe('batches', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ gatewayEnv: { BATCH_MAX_FILES: '4', MAX_CONCURRENT_JOBS_PER_KEY: '5' } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('turns 3 files (one of them text) into 2 analyses and 1 error item, then completes', async () => {
    const form = multipart([
      { name: 'a.jpg', body: await colourImage('jpeg', RED, 64, 51) },
      { name: 'notes.txt', body: Buffer.from('this is not an image\n'.repeat(10)), type: 'text/plain' },
      { name: 'b.png', body: await colourImage('png', BLUE, 64, 52) },
    ]);
    const res = await fetch(`${stack.url}/v1/batches`, { method: 'POST', body: form });
    const created = (await res.json()) as any;
    assert.equal(res.status, 202, JSON.stringify(created));
    assert.match(created.id, /^bat_[a-f0-9]{24}$/);
    assert.equal(res.headers.get('location'), `/v1/batches/${created.id}`);
    assert.equal(created.links.self, `/v1/batches/${created.id}`);
    assert.deepEqual(created.items.map((i: any) => i.filename), ['a.jpg', 'notes.txt', 'b.png']);
    assert.equal(created.items.filter((i: any) => i.analysis_id).length, 2);
    const bad = created.items[1];
    assert.equal(bad.analysis_id, null);
    assert.equal(bad.status, 'failed');
    assert.ok(bad.error.code && bad.error.message, JSON.stringify(bad));
    assert.equal(created.progress.total, 3);
    assert.equal(created.progress.failed, 1);

    let view: any;
    for (let i = 0; i < 100; i++) {
      view = await (await fetch(`${stack.url}/v1/batches/${created.id}`)).json();
      if (view.status === 'completed') break;
      await sleep(100);
    }
    assert.equal(view.status, 'completed', JSON.stringify(view.progress));
    assert.deepEqual(view.progress, { total: 3, queued: 0, processing: 0, completed: 2, failed: 1 });
    assert.equal(view.items[0].result.verdict, 'edited');
    assert.equal(view.items[2].result.verdict, 'real');
    assert.equal(view.items[0].links.self, `/v1/analyses/${view.items[0].analysis_id}`);
  });

  it('bounds the number of files and hides other keys\' batches', async () => {
    const files = await Promise.all([1, 2, 3, 4, 5].map(async (s) => ({ name: `${s}.png`, body: await colourImage('png', RED, 32, 60 + s) })));
    const tooMany = await fetch(`${stack.url}/v1/batches`, { method: 'POST', body: multipart(files) });
    assert.equal(tooMany.status, 413);
    assert.equal(((await tooMany.json()) as any).error.code, 'too_many_files');

    const client = new Redis(stack.redis.url);
    try {
      const store = new ApiKeyStore(client, undefined); // development: plain SHA-256
      const a = await store.create('a');
      const b = await store.create('b');
      const res = await fetch(`${stack.url}/v1/batches`, { method: 'POST', body: multipart(files.slice(0, 1)), headers: { authorization: `Bearer ${a.key}` } });
      assert.equal(res.status, 202);
      const { id } = (await res.json()) as any;
      assert.equal((await fetch(`${stack.url}/v1/batches/${id}`, { headers: { authorization: `Bearer ${a.key}` } })).status, 200);
      assert.equal((await fetch(`${stack.url}/v1/batches/${id}`, { headers: { authorization: `Bearer ${b.key}` } })).status, 404);
      assert.equal((await fetch(`${stack.url}/v1/batches/bat_${'0'.repeat(24)}`)).status, 404);
    } finally {
      client.disconnect();
    }
  });
});
