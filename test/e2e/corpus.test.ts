/**
 * Issue 11: a generated corpus of bad input (test/support/bad-inputs.ts, at least 60 kinds)
 * against a real gateway process on a real Redis: no 5xx, no request over 30 s, no crash, and a
 * healthy, working gateway afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { badInputs } from '@dfd/test-support/bad-inputs';
import { RED, colourImage } from '@dfd/test-support/images';
import { startRedis, startService, type RedisServer, type ServiceHandle } from '@dfd/test-support/processes';

describe('generated bad-input corpus against the real gateway', () => {
  let redis: RedisServer;
  let gw: ServiceHandle;
  before(async () => {
    redis = await startRedis();
    gw = await startService('gateway', { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0', REQUEST_TIMEOUT_MS: '20000' });
  });
  after(async () => {
    await gw?.stop('SIGTERM', 5_000);
    await redis?.stop('SIGKILL');
  });

  it('answers every kind without a 5xx, within 30 s, and stays healthy', async () => {
    const kinds = await badInputs();
    assert.ok(kinds.length >= 60, `only ${kinds.length} kinds`);
    assert.equal(new Set(kinds.map((k) => k.name)).size, kinds.length, 'kinds are distinct');
    const ctx = { api: `http://127.0.0.1:${gw.httpPort}`, port: gw.httpPort };
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (const kind of kinds) {
      const started = performance.now();
      let status: number;
      try {
        ({ status } = await kind.run(ctx));
      } catch (err) {
        problems.push(`${kind.name}: client error ${(err as Error).message}`);
        continue;
      }
      const ms = performance.now() - started;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) problems.push(`${kind.name}: ${status}`);
      if (ms > 30_000) problems.push(`${kind.name}: took ${Math.round(ms)} ms`);
      if (!gw.alive) {
        problems.push(`${kind.name}: the gateway died\n${gw.output.slice(-2000)}`);
        break;
      }
    }
    assert.deepEqual(problems, []);
    // Bad input is refused, not silently accepted: most kinds get a 4xx.
    const refused = [...statuses].filter(([s]) => s >= 400 && s < 500).reduce((n, [, c]) => n + c, 0);
    assert.ok(refused >= 50, `only ${refused} kinds refused: ${JSON.stringify([...statuses])}`);

    assert.ok(gw.alive, 'no crash');
    assert.equal((await fetch(`http://127.0.0.1:${gw.opsPort}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${gw.opsPort}/readyz`)).status, 200);
    const ok = await fetch(`${ctx.api}/v1/analyses`, { method: 'POST', body: await colourImage('png', RED, 64, 8080), headers: { 'content-type': 'image/png' } });
    assert.equal(ok.status, 202, 'still accepts a good upload');
  });
});
