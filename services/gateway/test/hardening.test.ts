/**
 * Issue 11 against a real gateway process and a real Redis (no detector: accepted jobs stay
 * queued): the event loop under hostile metadata, the ops port, Redis full, malformed multipart,
 * protocol-level errors, secrets in logs, header-vs-body checks, 413 for write-first clients, and
 * who may read an analysis.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { UnrecoverableError, Worker } from 'bullmq';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import { PEPPER, startRedis, startService, sleep, waitFor, colourImage, RED, BLUE, type RedisServer, type ServiceHandle } from './helpers.js';
import { startLatencyProbe } from '@dfd/test-support/processes';
import { rawExchange } from '@dfd/test-support/raw-http';
import { jpegHeaderOnly, jpegWithBigXmp, jpegWithExifSegments, pngWithTextChunks, pngWithXmp, tiffWithStrips } from '@dfd/test-support/hostile';

function errorShape(body: string): { code: string; message: string; request_id: string } {
  const parsed = JSON.parse(body) as { error: { code: string; message: string }; request_id: string };
  assert.equal(typeof parsed.error.code, 'string', body);
  assert.equal(typeof parsed.error.message, 'string', body);
  assert.equal(typeof parsed.request_id, 'string', body);
  return { ...parsed.error, request_id: parsed.request_id };
}

describe('gateway hardening (issue 11)', () => {
  let redis: RedisServer;
  let client: Redis;
  let gw: ServiceHandle;
  let api: string;
  let ops: string;
  let keyA: string;
  let keyB: string;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    const store = new ApiKeyStore(client, PEPPER);
    keyA = (await store.create('a')).key;
    keyB = (await store.create('b')).key;
    gw = await startService('gateway', {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      API_KEY_PEPPER: PEPPER,
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONCURRENT_JOBS_PER_KEY: '0',
      MAX_UPLOAD_BYTES: String(24 * 1024 * 1024),
      MAX_INFLIGHT_DECODES: '64',
    });
    api = `http://127.0.0.1:${gw.httpPort}`;
    ops = `http://127.0.0.1:${gw.opsPort}`;
  });
  after(async () => {
    await gw?.stop('SIGTERM', 5_000);
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  const upload = (body: Buffer, headers: Record<string, string> = {}, query = '') =>
    fetch(`${api}/v1/analyses${query}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });

  it('keeps /healthz answering (no probe blocked for 250 ms) while hostile metadata is uploaded, and exports the event-loop delay', async (t) => {
    const png = await colourImage('png', RED, 64, 11);
    const jpeg = await colourImage('jpeg', RED, 64, 11);
    const hostile = [
      pngWithXmp(png, 1_100_000), // ~17.7 MB PNG, 1.1 million XMP attributes
      pngWithXmp(png, 65_000), // ~1 MB XMP
      jpegWithExifSegments(jpeg, 60, 3_500, { 271: 'Canon', 305: 'Adobe Photoshop 25.0' }), // 60 EXIF segments, ~2.6 MB
      jpegWithBigXmp(jpeg, 1_000_000),
    ];
    await fetch(`${ops}/metrics`); // resets the delay window
    const probe = startLatencyProbe(`${api}/healthz`, 20);
    await sleep(200);
    // Two uploads in flight at a time, each hostile file twice.
    const queue = [...hostile, ...hostile].map((body, i) => ({ body, i }));
    const answers: Array<{ status: number; body: any }> = [];
    await Promise.all(
      [0, 1].map(async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const res = await upload(next.body);
          answers[next.i] = { status: res.status, body: await res.json() };
        }
      }),
    );
    await sleep(200);
    const latencies = (await probe.stop()).sort((a, b) => a - b);
    for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
    assert.ok(latencies.length >= 10, `only ${latencies.length} probes`);
    t.diagnostic(`healthz p99 ${p99.toFixed(1)} ms (${latencies.length} probes: ${latencies.map((l) => l.toFixed(0)).join(',')})`);
    // The failure this guards against is parsing on the event loop: 1.1 million XMP attributes read
    // synchronously block it for seconds. With fewer than 100 probes the "p99" is the slowest probe, and
    // on a shared 2-core machine one probe in 40-50 lands on a 100-130 ms scheduling or GC pause; the
    // 100 ms p99 target itself is measured under load by k6 and the bench, not by this timed test.
    assert.ok(p99 < 250, `healthz p99 ${p99.toFixed(1)} ms (${latencies.length} probes: ${latencies.map((l) => l.toFixed(0)).join(',')})`);

    // What was not read is named; what fits is still read (the first EXIF segment's Make).
    const big = JSON.parse((await client.hget(`bull:analyses:${answers[0]!.body.id}`, 'data'))!);
    assert.match(big.evidence.skipped.join(' '), /XMP packet of .* was not read/);
    const exifJob = answers[2]!.body.id as string;
    const raw = JSON.parse((await client.hget(`bull:analyses:${exifJob}`, 'data'))!);
    assert.equal(raw.evidence.exif.make, 'Canon');
    assert.deepEqual(raw.evidence.editing_software, ['Adobe Photoshop']);
    assert.match(raw.evidence.skipped.join(' '), /59 extra EXIF segments were not read/);

    const metrics = await (await fetch(`${ops}/metrics`)).text();
    const max = Number(/dfd_event_loop_delay_seconds\{[^}]*quantile="1"[^}]*\} (\S+)/.exec(metrics)?.[1]);
    assert.ok(Number.isFinite(max), 'dfd_event_loop_delay_seconds is exported');
    assert.ok(max < 0.25, `event-loop delay max ${max}s while uploading`);
  });

  it('serves /metrics only on the ops port; /healthz and /readyz on both', async () => {
    assert.equal((await fetch(`${api}/metrics`)).status, 404);
    const m = await fetch(`${ops}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /dfd_http_request_duration_seconds_bucket/);
    assert.equal((await fetch(`${ops}/healthz`)).status, 200);
    assert.equal((await fetch(`${ops}/readyz`)).status, 200);
    assert.equal((await fetch(`${api}/readyz`)).status, 200);
  });

  it('answers 400 bad_multipart for malformed multipart on /v1/analyses and /v1/batches', async () => {
    const png = await colourImage('png', BLUE, 32, 3);
    const part = (b: string) => Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`), png, Buffer.from('\r\n')]);
    const long = 'x'.repeat(300);
    const cases: Array<[string, string, Buffer]> = [
      ['no boundary parameter', 'multipart/form-data', Buffer.concat([part('abc'), Buffer.from('--abc--\r\n')])],
      ['300-character boundary', `multipart/form-data; boundary=${long}`, Buffer.concat([part(long), Buffer.from(`--${long}--\r\n`)])],
      ['no closing boundary', 'multipart/form-data; boundary=abc', part('abc')],
    ];
    for (const path of ['/v1/analyses', '/v1/batches']) {
      for (const [name, type, body] of cases) {
        const res = await fetch(`${api}${path}`, { method: 'POST', body, headers: { 'content-type': type } });
        const text = await res.text();
        assert.equal(res.status, 400, `${path} ${name}: ${res.status} ${text}`);
        assert.equal(errorShape(text).code, 'bad_multipart', `${path} ${name}`);
      }
    }
  });

  it('answers protocol-level errors with the API error shape', async () => {
    const port = gw.httpPort;
    const cases: Array<[string, string, number]> = [
      ['oversized headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['bad request line', 'GARBAGE\r\n\r\n', 400],
      ['bad HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 400],
      ['Content-Length and Transfer-Encoding', 'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['two Content-Lengths', 'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400],
      ['bad chunk size', 'POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['undecodable URL', 'GET /v1/analyses/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['overlong id', `GET /v1/analyses/${'a'.repeat(120)} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
      ['id of 65 characters', `GET /v1/analyses/${'a'.repeat(65)} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
      ['non-hex id', 'GET /v1/analyses/..%2F..%2Fetc HTTP/1.1\r\nHost: x\r\n\r\n', 404],
      ['bad batch id', 'GET /v1/batches/%00 HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ];
    for (const [name, bytes, status] of cases) {
      const res = await rawExchange(port, bytes);
      assert.equal(res.status, status, `${name}: ${res.headers}\n${res.body}`);
      const body = res.body.includes('\r\n') && /transfer-encoding: chunked/i.test(res.headers) ? res.body.split('\r\n')[1]! : res.body;
      errorShape(body);
    }
  });

  it('keeps api keys and callback queries out of the logs', async () => {
    const secret = 'dfd_SECRETKEY0123456789';
    await fetch(`${api}/v1/analyses/${'0'.repeat(32)}?api_key=${secret}`);
    await upload(await colourImage('png', RED, 32, 77), {}, `?callback_url=${encodeURIComponent('http://127.0.0.1:1/hook?token=CALLBACKSECRET')}`);
    await sleep(300);
    assert.match(gw.output, /incoming request/, 'request logs are on at info');
    assert.doesNotMatch(gw.output, /SECRETKEY0123456789/);
    assert.doesNotMatch(gw.output, /CALLBACKSECRET/);
    assert.match(gw.output, /\/v1\/analyses\/0{32}\?\[redacted\]/);
  });

  it('refuses files whose header claims more than the body, and accepts a PNG with 10,000 text chunks', async () => {
    const jpeg = await upload(jpegHeaderOnly(7000, 7000, 64));
    assert.equal(jpeg.status, 422);
    assert.equal(((await jpeg.json()) as any).error.code, 'corrupt_image');
    const noScan = await upload(jpegHeaderOnly(7000, 7000, null));
    assert.equal(noScan.status, 422);
    const tiff = await upload(tiffWithStrips(100_000_000));
    assert.equal(tiff.status, 422);
    assert.equal(((await tiff.json()) as any).error.code, 'corrupt_image');
    const text = await upload(pngWithTextChunks(await colourImage('png', RED, 64, 5), 10_000));
    const body = (await text.json()) as any;
    assert.equal(text.status, 202, JSON.stringify(body));
  });

  it('answers 413 to a client that writes a 25 MB body before reading, without EPIPE', async () => {
    const big = Buffer.alloc(25 * 1024 * 1024, 0x41);
    const head = Buffer.from('--abc\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n');
    const form = Buffer.concat([head, big, Buffer.from('\r\n--abc--\r\n')]);
    // Node's http.request without an agent, the whole body handed over in one write: the client
    // reads only once its body is sent, so a server that closes early makes it fail with EPIPE.
    const send = (type: string, body: Buffer) =>
      new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port: gw.httpPort, method: 'POST', path: '/v1/analyses', agent: false, headers: { 'content-type': type, 'content-length': String(body.length) } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString() }));
          res.on('error', (err) => resolve({ error: err.message }));
        });
        req.on('error', (err) => resolve({ error: `${(err as NodeJS.ErrnoException).code} ${err.message}` }));
        req.end(body);
      });
    for (let round = 0; round < 3; round++) {
      for (const [type, body] of [['image/png', big], ['multipart/form-data; boundary=abc', form]] as const) {
        const outcome = await send(type, body);
        assert.equal(outcome.error, undefined, `${type} round ${round}: client error ${outcome.error}`);
        assert.equal(outcome.status, 413, `${type}: ${outcome.body}`);
        assert.equal(errorShape(outcome.body!).code, 'payload_too_large');
      }
    }
    assert.equal((await fetch(`${api}/healthz`)).status, 200);
  });

  it('gives every upload a random id that only its creator can read', async () => {
    const img = await colourImage('png', BLUE, 48, 21);
    const auth = (k: string) => ({ authorization: `Bearer ${k}` });
    const a = (await (await upload(img, auth(keyA))).json()) as any;
    const b = (await (await upload(img, auth(keyB))).json()) as any;
    const anon = (await (await upload(img)).json()) as any;
    assert.match(a.id, /^[a-f0-9]{32}$/);
    assert.equal(new Set([a.id, b.id, anon.id]).size, 3, 'the same pixels are three analyses');
    assert.equal((await fetch(`${api}/v1/analyses/${a.id}`, { headers: auth(keyA) })).status, 202);
    assert.equal((await fetch(`${api}/v1/analyses/${a.id}`, { headers: auth(keyB) })).status, 404);
    assert.equal((await fetch(`${api}/v1/analyses/${a.id}?wait=1`, { headers: auth(keyB) })).status, 404);
    assert.equal((await fetch(`${api}/v1/analyses/${a.id}`)).status, 404, 'anonymous callers cannot read a key\'s analysis');
    assert.equal((await fetch(`${api}/v1/analyses/${anon.id}`)).status, 202, 'an anonymous analysis is readable with its id');
    // The content hash travels only inside the job, for the detector's reuse of model work.
    const jobA = JSON.parse((await client.hget(`bull:analyses:${a.id}`, 'data'))!);
    const jobB = JSON.parse((await client.hget(`bull:analyses:${b.id}`, 'data'))!);
    assert.equal(jobA.contentKey, jobB.contentKey);
    assert.notEqual(jobA.contentKey, a.id);
  });

  it('answers 503 with Retry-After when Redis is full, reports not ready, and recovers', async () => {
    const admin = new Redis(redis.url);
    try {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', String(used + 64 * 1024));
      // Fill what is left until Redis refuses a write, again before every upload: memory freed in
      // between (a client's buffers, a finished job) once let an upload through (CI, 5th of 5).
      let filler = 0;
      const fillUp = async () => {
        for (let i = 0; i < 4096; i++) {
          try {
            await admin.set(`filler:${filler++}`, Buffer.alloc(4096));
          } catch {
            return;
          }
        }
        throw new Error('Redis never refused a write');
      };
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        await fillUp();
        const res = await upload(await colourImage('png', RED, 40, 900 + i));
        statuses.push(res.status);
        if (res.status === 503) {
          assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
          assert.equal(errorShape(await res.text()).code, 'service_unavailable');
        } else await res.arrayBuffer();
      }
      assert.ok(statuses.every((s) => s === 503), `statuses ${statuses}`);
      // The ops port serves the latest readiness result, which the gateway renews every second.
      let ready: any;
      await waitFor('not ready on the ops port', async () => (ready = await (await fetch(`${ops}/readyz`)).json()).status === 'not_ready', 5_000, 100);
      assert.equal(ready.checks.redis_memory, 'full');
      assert.equal((await fetch(`${api}/readyz`)).status, 503);
      const metrics = await (await fetch(`${ops}/metrics`)).text();
      assert.match(metrics, /dfd_redis_full\{[^}]*\} 1/);
      assert.match(metrics, /dfd_redis_memory_max_bytes\{[^}]*\} [1-9]/);
      assert.match(metrics, /dfd_redis_memory_used_bytes\{[^}]*\} [1-9]/);

      await admin.config('SET', 'maxmemory', '0');
      await waitFor('ready again', async () => (await fetch(`${ops}/readyz`)).status === 200, 20_000, 250);
      const res = await upload(await colourImage('png', RED, 40, 999));
      assert.equal(res.status, 202);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
      admin.disconnect();
    }
  });

  it('tells clients a stable code and plain words for a failed analysis, never internal detail', async () => {
    const internal = '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:8102 (ipv4:127.0.0.1:8102)';
    const failing = (await (await upload(await colourImage('png', RED, 36, 501))).json()) as any;
    const expired = (await (await upload(await colourImage('png', RED, 36, 502))).json()) as any;
    // A real BullMQ worker fails the two jobs the way a detector would.
    const worker = new Worker('analyses', async (job) => {
      if (job.id === expired.id) throw new UnrecoverableError('pixels_expired: the normalised image is no longer stored; upload it again');
      if (job.id === failing.id) throw new UnrecoverableError(internal);
      return null;
    }, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    try {
      const a = await waitFor('failed', async () => {
        const v = (await (await fetch(`${api}/v1/analyses/${failing.id}`)).json()) as any;
        return v.status === 'failed' ? v : undefined;
      }, 20_000, 100);
      assert.deepEqual(Object.keys(a.error).sort(), ['code', 'message']);
      assert.equal(a.error.code, 'analysis_failed');
      assert.doesNotMatch(a.error.message, /127\.0\.0\.1|ipv4|8102|UNAVAILABLE|ECONNREFUSED/);
      const b = await waitFor('failed', async () => {
        const v = (await (await fetch(`${api}/v1/analyses/${expired.id}`)).json()) as any;
        return v.status === 'failed' ? v : undefined;
      }, 20_000, 100);
      assert.equal(b.error.code, 'pixels_expired');
    } finally {
      await worker.close();
    }
  });

  it('is alive and healthy after all of it', async () => {
    assert.ok(gw.alive);
    assert.equal((await fetch(`${ops}/healthz`)).status, 200);
  });
});
