/**
 * The pixels between gateway and detector, against a real Redis: stored as packed RGB with a TTL,
 * read back only at the dimensions the job names; a value written with the old 8-byte header is
 * still read while such jobs drain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { PixelStore } from '@dfd/jobs';
import { startRedis, type RedisServer } from '@dfd/test-support/processes';

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

const image = (w: number, h: number) => ({ width: w, height: h, data: Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 256)) });

test('pixels come back byte for byte, stored without a header and with a TTL', async () => {
  const store = new PixelStore(client, 120);
  const img = image(7, 5);
  const key = await store.put('a1', img);
  assert.equal(key, 'dfd:px:a1');
  assert.equal((await client.getBuffer(key))!.length, 7 * 5 * 3, 'stored as packed RGB only');
  const ttl = await client.ttl(key);
  assert.ok(ttl > 0 && ttl <= 120, `ttl ${ttl}`);
  const got = await store.get(key, 7, 5);
  assert.ok(got);
  assert.deepEqual([got.width, got.height], [7, 5]);
  assert.ok(got.data.equals(img.data));
});

test('dimensions that do not fit the stored bytes, or a missing key, read as no pixels', async () => {
  const store = new PixelStore(client);
  const key = await store.put('a2', image(6, 4));
  assert.equal(await store.get(key, 4, 6 + 1), null);
  assert.equal(await store.get(key, 5, 4), null);
  assert.equal(await store.get('dfd:px:missing', 6, 4), null);
  await store.delete(key);
  assert.equal(await store.get(key, 6, 4), null);
});

test('a value in the old layout (width, height header) is read when its header matches the job', async () => {
  const store = new PixelStore(client);
  const img = image(3, 2);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(3, 0);
  header.writeUInt32LE(2, 4);
  await client.set('dfd:px:legacy', Buffer.concat([header, img.data]));
  const got = await store.get('dfd:px:legacy', 3, 2);
  assert.ok(got?.data.equals(img.data));
  assert.equal(await store.get('dfd:px:legacy', 2, 3), null, 'a header naming other dimensions is refused');
});
