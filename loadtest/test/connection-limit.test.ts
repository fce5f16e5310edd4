/**
 * The gateway at its connection cap: extra connections get a fast 429 with
 * Retry-After instead of a reset, and the gateway serves again once connections close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startRedis, startService } from '@dfd/test-support/processes';

function openKeepAlive(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('error', reject);
    s.once('connect', () => {
      s.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n');
      s.once('data', () => resolve(s));
    });
  });
}

/** One request on a new connection; the raw answer. */
function rawRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  });
}

test('past MAX_CONNECTIONS the gateway answers 429 + Retry-After, then recovers', { timeout: 60_000 }, async () => {
  const redis = await startRedis();
  const gw = await startService('gateway', { REDIS_URL: redis.url, QUEUE_NAME: 'analyses', MAX_CONNECTIONS: '8', ALLOW_ANONYMOUS: 'true' }, '/healthz');
  const held: Socket[] = [];
  try {
    // The readiness probe's own connection may linger a moment; fill the cap with our own.
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 8; i++) held.push(await openKeepAlive(gw.httpPort).catch(() => undefined as never));
    const answers = await Promise.all(Array.from({ length: 10 }, () => rawRequest(gw.httpPort)));
    const refused = answers.filter((a) => a.startsWith('HTTP/1.1 429'));
    assert.ok(refused.length >= 9, `expected 429s, got:\n${answers.map((a) => a.split('\r\n')[0]).join('\n')}`);
    assert.match(refused[0]!, /retry-after: 1/i);
    assert.match(refused[0]!, /"code":"too_many_connections"/);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await rawRequest(gw.httpPort), /^HTTP\/1\.1 200/);
    assert.ok(gw.alive);
  } finally {
    for (const s of held) s.destroy();
    await gw.stop();
    await redis.stop('SIGKILL');
  }
});
