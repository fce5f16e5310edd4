import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ConfigError } from '@dfd/config';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import { loadGatewayConfig } from '../src/config.js';
import { main as keysCli } from '../src/keys-cli.js';
import type { Gateway } from '../src/app.js';
import { gatewayOn, PEPPER, SECRET, startRedis, type RedisServer } from './helpers.js';
import { repoRoot } from '@dfd/test-support/processes';

const missing = `/v1/analyses/${'0'.repeat(32)}`;

describe('API keys', () => {
  let redis: RedisServer;
  let client: Redis;
  let store: ApiKeyStore;
  let prod: Gateway;
  let dev: Gateway;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    store = new ApiKeyStore(client, PEPPER);
    prod = await gatewayOn(redis.url, { APP_MODE: 'production', API_KEY_PEPPER: PEPPER, WEBHOOK_SIGNING_SECRET: SECRET });
    dev = await gatewayOn(redis.url, { APP_MODE: 'development', API_KEY_PEPPER: PEPPER });
  });
  after(async () => {
    await prod?.close();
    await dev?.close();
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  it('creates, lists and revokes keys, storing only an HMAC of the key', async () => {
    const { key, record } = await store.create('acme', { rateLimitPerMinute: 600 });
    assert.match(key, /^dfd_[A-Za-z0-9_-]{43}$/);
    assert.equal(record.name, 'acme');
    assert.equal(record.rate_limit_per_minute, 600);
    assert.equal(record.max_concurrent_jobs, null);
    const dump = JSON.stringify(await client.hgetall(`dfd:apikey:id:${record.id}`)) + (await client.keys('*')).join(',');
    assert.ok(!dump.includes(key), 'the key itself is not stored');
    assert.ok(dump.includes(store.hash(key)));
    assert.notEqual(store.hash(key), new ApiKeyStore(client, undefined).hash(key), 'the pepper changes the hash');
    assert.equal((await store.lookup(key)).status, 'ok');
    assert.ok((await store.list()).some((r) => r.id === record.id));
    assert.equal(await store.revoke(record.id), true);
    assert.equal((await store.lookup(key)).status, 'revoked');
    assert.ok((await store.list()).find((r) => r.id === record.id)!.revoked_at);
    assert.equal(await store.revoke('key_nope'), false);
    // One character changed (never to itself: a key ending in 'A' made this flaky, 1 run in 64).
    const altered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    assert.equal((await store.lookup(altered)).status, 'unknown');
  });

  it('answers 401 without a key in production mode (anonymous off by default)', async () => {
    const res = await prod.app.inject({ method: 'GET', url: missing });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'unauthorized');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    const post = await prod.app.inject({ method: 'POST', url: '/v1/analyses', headers: { 'content-type': 'image/png' }, payload: Buffer.from('x') });
    assert.equal(post.statusCode, 401, 'uploads are refused before the body is looked at');
  });

  it('answers 401 for an unknown or malformed key and 403 for a revoked one', async () => {
    const bad = await prod.app.inject({ method: 'GET', url: missing, headers: { authorization: `Bearer dfd_${'A'.repeat(43)}` } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().error.code, 'unauthorized');
    const malformed = await prod.app.inject({ method: 'GET', url: missing, headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    assert.equal(malformed.statusCode, 401);

    const { key, record } = await store.create('to-revoke');
    const ok = await prod.app.inject({ method: 'GET', url: missing, headers: { authorization: `Bearer ${key}` } });
    assert.equal(ok.statusCode, 404, 'a valid key gets through to the route');
    assert.ok(ok.headers['ratelimit-limit']);
    await store.revoke(record.id);
    const revoked = await prod.app.inject({ method: 'GET', url: missing, headers: { authorization: `Bearer ${key}` } });
    assert.equal(revoked.statusCode, 403);
    assert.equal(revoked.json().error.code, 'key_revoked');
  });

  it('lets anonymous callers in by default in development mode, but still checks a given key', async () => {
    const anon = await dev.app.inject({ method: 'GET', url: missing });
    assert.equal(anon.statusCode, 404);
    const bad = await dev.app.inject({ method: 'GET', url: missing, headers: { authorization: 'Bearer nonsense' } });
    assert.equal(bad.statusCode, 401);
    const health = await prod.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200, 'ops endpoints need no key');
  });

  it('validates the configuration: production needs API_KEY_PEPPER and WEBHOOK_SIGNING_SECRET', () => {
    assert.throws(() => loadGatewayConfig({ APP_MODE: 'production', WEBHOOK_SIGNING_SECRET: SECRET }), (e: unknown) => e instanceof ConfigError && /API_KEY_PEPPER/.test(e.message));
    assert.throws(() => loadGatewayConfig({ APP_MODE: 'production', API_KEY_PEPPER: PEPPER }), (e: unknown) => e instanceof ConfigError && /WEBHOOK_SIGNING_SECRET/.test(e.message));
    const prodCfg = loadGatewayConfig({ APP_MODE: 'production', API_KEY_PEPPER: PEPPER, WEBHOOK_SIGNING_SECRET: SECRET });
    assert.equal(prodCfg.allowAnonymous, false);
    const devCfg = loadGatewayConfig({});
    assert.equal(devCfg.allowAnonymous, true);
    assert.equal(devCfg.webhookSecretIsDefault, true);
    assert.throws(() => loadGatewayConfig({ RATE_LIMIT_PER_MINUTE: 'lots' }), /RATE_LIMIT_PER_MINUTE/);
  });

  it('the keys CLI creates (printing the key once), lists and revokes', async () => {
    const env = { REDIS_URL: redis.url, API_KEY_PEPPER: PEPPER };
    const lines: string[] = [];
    assert.equal(await keysCli(['create', '--name', 'cli-co', '--max-concurrent', '7', '--json'], env, (s) => lines.push(s)), 0);
    const created = JSON.parse(lines.pop()!);
    assert.match(created.key, /^dfd_/);
    assert.equal(created.max_concurrent_jobs, 7);
    assert.equal((await store.lookup(created.key)).status, 'ok');
    assert.equal(await keysCli(['list'], env, (s) => lines.push(s)), 0);
    assert.ok(lines.some((l) => l.startsWith(created.id) && l.includes('active')));
    assert.ok(!lines.join('\n').includes(created.key), 'list never shows keys');
    assert.equal(await keysCli(['revoke', created.id], env, (s) => lines.push(s)), 0);
    assert.equal((await store.lookup(created.key)).status, 'revoked');
    // The compiled entry point, as an operator runs it.
    const r = spawnSync(process.execPath, [join(repoRoot, 'services/gateway/dist/keys-cli.js'), 'create', '--name', 'built'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const key = /key: (dfd_\S+)/.exec(r.stdout)?.[1];
    assert.ok(key && (await store.lookup(key)).status === 'ok');
  });
});
