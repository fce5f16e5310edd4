import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildGateway, type Gateway } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';
import { startRedis, type RedisServer } from '@dfd/test-support/processes';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { withPngText } from '@dfd/test-support/png-text';

/** As a deployment waits for /readyz before sending traffic: until its connections are up, uploads get 503. */
async function connected(gw: Gateway): Promise<void> {
  await gw.connected();
  while (!(await gw.readiness()).ready) await new Promise((r) => setTimeout(r, 20));
}

// The gateway alone against a real Redis: no detector runs, so accepted jobs stay queued.
describe('gateway upload validation', () => {
  let redis: RedisServer;
  let gw: Gateway;
  before(async () => {
    redis = await startRedis();
    gw = await buildGateway(loadGatewayConfig({ REDIS_URL: redis.url, LOG_LEVEL: 'silent', MAX_UPLOAD_BYTES: '200000', MAX_PIXELS: '4000000', QUEUE_MAX_WAITING: '1000' }));
    await gw.app.ready();
    await connected(gw);
  });
  after(async () => {
    await gw?.close();
    await redis?.stop('SIGKILL');
  });

  const post = (payload: Buffer | string, type: string, url = '/v1/analyses') => gw.app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });

  it('accepts JPEG, PNG, WebP, GIF, TIFF and AVIF, sniffed from the bytes', async () => {
    for (const [i, format] of (['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const).entries()) {
      const res = await post(await colourImage(format, RED, 64, 10 + i), 'image/png');
      assert.equal(res.statusCode, 202, `${format}: ${res.body}`);
      const job = await gw.queue.getJob(res.json().id);
      assert.equal(job?.data.source.format, format);
    }
  });

  it('accepts a raw octet-stream upload and keeps no image bytes in the job', async () => {
    const res = await post(await colourImage('jpeg', BLUE, 64, 9), 'application/octet-stream');
    assert.equal(res.statusCode, 202);
    const job = await gw.queue.getJob(res.json().id);
    assert.ok(JSON.stringify(job!.data).length < 4000, 'job data holds references, not pixels');
    const stored = await gw.redis.getBuffer(job!.data.pixelKey);
    // Packed RGB at the job's dimensions, nothing else: the job carries width and height.
    assert.deepEqual([job!.data.width, job!.data.height], [64, 64]);
    assert.equal(stored!.length, 64 * 64 * 3);
    assert.ok((await gw.redis.ttl(job!.data.pixelKey)) > 0, 'pixels expire');
  });

  it('rejects an empty body with 400', async () => {
    const res = await post(Buffer.alloc(0), 'image/jpeg');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'empty_body');
  });

  it('rejects multipart without the image field with 400', async () => {
    const boundary = 'XyZ';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nabc\r\n--${boundary}--\r\n`;
    const res = await post(body, `multipart/form-data; boundary=${boundary}`);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'missing_image');
  });

  it('rejects a text file with 415, whatever its declared type', async () => {
    const res = await post(Buffer.from('hello, this is not an image at all'), 'image/jpeg');
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error.code, 'unsupported_media_type');
    const plain = await post('hello', 'text/plain');
    assert.equal(plain.statusCode, 415);
  });

  it('rejects an upload over the byte limit with 413, raw and multipart', async () => {
    const big = Buffer.concat([await colourImage('jpeg', RED, 64), Buffer.alloc(300_000)]);
    const raw = await post(big, 'image/jpeg');
    assert.equal(raw.statusCode, 413);
    assert.equal(raw.json().error.code, 'payload_too_large');
    const boundary = 'B0UND';
    const multipart = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      big,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const mp = await post(multipart, `multipart/form-data; boundary=${boundary}`);
    assert.equal(mp.statusCode, 413);
    // Both name the limit, so a caller (and the web page) can say it.
    for (const res of [raw, mp]) assert.match(res.json().error.message, /^The upload exceeds \d+ bytes\.$/);
  });

  it('rejects a decompression bomb by its header with 422', async () => {
    const bomb = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#fff' } }).png({ compressionLevel: 9 }).toBuffer();
    assert.ok(bomb.length < 200_000, 'the bomb is small on the wire');
    const res = await post(bomb, 'image/png');
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().error.code, 'too_many_pixels');
  });

  it('rejects a truncated JPEG with 422', async () => {
    const jpeg = await colourImage('jpeg', RED, 128, 5);
    const res = await post(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'image/jpeg');
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().error.code, 'corrupt_image');
  });

  it('rejects HEIC it cannot decode with 415, not a crash', async () => {
    const fake = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'), Buffer.alloc(64)]);
    const res = await post(fake, 'image/heic');
    assert.ok([415, 422].includes(res.statusCode), res.body);
  });

  it('applies EXIF orientation and records editing software and generator evidence', async () => {
    const portrait = await sharp(await colourImage('jpeg', RED, 64, 6))
      .resize(80, 40, { fit: 'fill' })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Software: 'Adobe Photoshop 25.0 (Windows)', Make: 'Canon' } })
      .toBuffer();
    const res = await post(portrait, 'image/jpeg');
    assert.equal(res.statusCode, 202);
    const job = await gw.queue.getJob(res.json().id);
    assert.equal(job!.data.width, 40, 'rotated to display orientation');
    assert.equal(job!.data.height, 80);
    assert.deepEqual(job!.data.evidence.editing_software, ['Adobe Photoshop']);
    assert.equal(job!.data.evidence.exif.make, 'Canon');

    const png = withPngText(await colourImage('png', BLUE, 48, 7), 'parameters', 'a portrait, Steps: 30, Sampler: Euler a, CFG scale: 7');
    const gen = await post(png, 'image/png');
    const genJob = await gw.queue.getJob(gen.json().id);
    assert.equal(genJob!.data.evidence.generator.detected, true);
    assert.ok(genJob!.data.evidence.generator.hints.some((h: string) => h.includes('parameters')));
  });

  it('downsizes to the working resolution', async () => {
    const big = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#a33' } }).jpeg().toBuffer();
    const res = await post(big, 'image/jpeg');
    const job = await gw.queue.getJob(res.json().id);
    assert.equal(Math.max(job!.data.width, job!.data.height), 512);
    assert.equal(job!.data.source.width, 1200);
  });

  it('validates query parameters and ids', async () => {
    const res = await post(await colourImage('png', RED, 32), 'image/png', '/v1/analyses?wait=99');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'bad_request');
    const missing = await gw.app.inject({ method: 'GET', url: '/v1/analyses/not-an-id' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.headers['x-request-id'] as string, /.+/);
  });
});

describe('gateway backpressure and Redis outages', () => {
  let redis: RedisServer;
  let gw: Gateway;
  before(async () => {
    redis = await startRedis();
    gw = await buildGateway(loadGatewayConfig({ REDIS_URL: redis.url, LOG_LEVEL: 'silent', QUEUE_MAX_WAITING: '3' }));
    await connected(gw);
    await gw.app.ready();
  });
  after(async () => {
    await gw?.close();
    await redis?.stop('SIGKILL');
  });

  it('answers 429 with Retry-After once the waiting queue is full', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/analyses', payload: await colourImage('png', RED, 32, 100 + i), headers: { 'content-type': 'image/png' } });
      codes.push(res.statusCode);
      if (res.statusCode === 429) {
        assert.equal(res.json().error.code, 'queue_full');
        assert.match(res.headers['retry-after'] as string, /^\d+$/);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(codes.slice(0, 3), [202, 202, 202]);
    assert.ok(codes.slice(3).every((c) => c === 429), codes.join(','));
  });

  it('answers 503 while Redis is down and recovers when it is back', async () => {
    await redis.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const down = await gw.app.inject({ method: 'POST', url: '/v1/analyses', payload: await colourImage('png', BLUE, 32, 200), headers: { 'content-type': 'image/png' } });
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.json().error.code, 'service_unavailable');
    assert.equal((await gw.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    redis.start();
    await redis.ready();
    let status = 0;
    for (let i = 0; i < 50 && status !== 202; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await gw.app.inject({ method: 'POST', url: '/v1/analyses', payload: await colourImage('png', BLUE, 32, 300 + i), headers: { 'content-type': 'image/png' } });
      status = res.statusCode;
    }
    assert.equal(status, 202);
    assert.equal((await gw.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});

describe('gateway decode bound', () => {
  let redis: RedisServer;
  let gw: Gateway;
  before(async () => {
    redis = await startRedis();
    gw = await buildGateway(loadGatewayConfig({ REDIS_URL: redis.url, LOG_LEVEL: 'silent', MAX_INFLIGHT_DECODES: '1', RATE_LIMIT_PER_MINUTE: '0' }));
    await connected(gw);
    await gw.app.ready();
  });
  after(async () => {
    await gw?.close();
    await redis?.stop('SIGKILL');
  });

  it('sheds a burst beyond the decode bound with an immediate 429 busy', async () => {
    const images = await Promise.all(Array.from({ length: 8 }, (_, i) => sharp({ create: { width: 1600, height: 1200, channels: 3, background: { r: 20 * i, g: 90, b: 40 } } }).jpeg().toBuffer()));
    const results = await Promise.all(images.map((payload) => gw.app.inject({ method: 'POST', url: '/v1/analyses', payload, headers: { 'content-type': 'image/jpeg' } })));
    const codes = results.map((r) => r.statusCode);
    assert.ok(codes.includes(202), codes.join(','));
    const busy = results.filter((r) => r.statusCode === 429);
    assert.ok(busy.length > 0, codes.join(','));
    assert.equal(busy[0]!.json().error.code, 'busy');
    assert.equal(busy[0]!.headers['retry-after'], '1');
  });
});
