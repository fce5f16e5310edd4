import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ApiKeyStore } from '../src/auth/api-keys.js';
import type { Gateway } from '../src/app.js';
import { signatureHeader, verifySignature } from '../src/webhooks/signer.js';
import { CallbackForbidden, callbackPolicy, checkCallbackUrl, guardedLookup, isForbiddenAddress, type Resolver } from '../src/webhooks/ssrf.js';
import { colourImage, gatewayOn, PEPPER, RED, SECRET, startRedis, type RedisServer } from './helpers.js';

const prod = callbackPolicy('production');
const dev = callbackPolicy('development');
const fake = (addrs: string[]): Resolver => async () => addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function forbidden(url: string, resolve?: Resolver) {
  await assert.rejects(checkCallbackUrl(url, prod, resolve), (e: unknown) => e instanceof CallbackForbidden, url);
}

describe('callback URL checks (SSRF)', () => {
  it('production rejects http, loopback, private, link-local, unique-local and mapped addresses', async () => {
    await forbidden('http://example.com/hook', fake(['93.184.215.14']));
    await forbidden('https://127.0.0.1/hook');
    await forbidden('https://10.1.2.3/hook');
    await forbidden('https://172.16.0.1/hook');
    await forbidden('https://192.168.1.1/hook');
    await forbidden('https://169.254.169.254/latest/meta-data');
    await forbidden('https://[::1]/hook');
    await forbidden('https://[fd00::1]/hook');
    await forbidden('https://[fe80::1]/hook');
    await forbidden('https://[::ffff:127.0.0.1]/hook');
    await forbidden('https://0.0.0.0/hook');
    await forbidden('https://2130706433/hook'); // 127.0.0.1 as one number
    await forbidden('https://user:pw@example.com/hook', fake(['93.184.215.14']));
    await forbidden('ftp://example.com/hook');
  });

  it('production resolves names and checks every address (real DNS for localhost)', async () => {
    await forbidden('https://localhost/hook');
    await forbidden('https://rebind.example/hook', fake(['93.184.215.14', '10.0.0.7']));
    await forbidden('https://nowhere.invalid/hook');
    const ok = await checkCallbackUrl('https://hooks.example/x', prod, fake(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']));
    assert.equal(ok.hostname, 'hooks.example');
    await checkCallbackUrl('https://93.184.215.14/x', prod);
  });

  it('development allows http to loopback', async () => {
    const u = await checkCallbackUrl('http://127.0.0.1:9999/hook', dev);
    assert.equal(u.port, '9999');
    await assert.rejects(checkCallbackUrl('file:///etc/passwd', dev), CallbackForbidden);
  });

  it('classifies addresses', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '100.64.0.1', '169.254.1.1', '172.31.255.255', '192.168.0.1', '224.0.0.1', '::1', '::', 'fc00::1', 'fe80::1', '::ffff:8.8.8.8', 'not-an-ip']) {
      assert.equal(isForbiddenAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2001:4860:4860::8888']) assert.equal(isForbiddenAddress(a), false, a);
  });

  it('re-checks at connect time: the guarded lookup refuses a name that now resolves privately', async () => {
    const lookup = guardedLookup(prod, fake(['127.0.0.1']));
    const err = await new Promise<unknown>((r) => lookup('hooks.example', { all: true }, (e: unknown) => r(e)));
    assert.ok(err instanceof CallbackForbidden);
    const addrs = await new Promise<unknown>((r) => guardedLookup(prod, fake(['8.8.8.8']))('hooks.example', { all: true }, (_e: unknown, a: unknown) => r(a)));
    assert.deepEqual(addrs, [{ address: '8.8.8.8', family: 4 }]);
  });
});

describe('webhook signatures', () => {
  it('verifies its own signature and rejects tampering, other secrets and stale timestamps', () => {
    const body = JSON.stringify({ id: 'abc', status: 'completed' });
    const header = signatureHeader(SECRET, body);
    assert.match(header, /^t=\d+,v1=[a-f0-9]{64}$/);
    assert.equal(verifySignature(SECRET, header, body), true);
    assert.equal(verifySignature(SECRET, header, body.replace('abc', 'abd')), false);
    assert.equal(verifySignature('another-secret-value', header, body), false);
    const old = signatureHeader(SECRET, body, Math.floor(Date.now() / 1000) - 3600);
    assert.equal(verifySignature(SECRET, old, body), false);
    assert.equal(verifySignature(SECRET, undefined, body), false);
  });
});

describe('callback_url on a production gateway', () => {
  let redis: RedisServer;
  let client: Redis;
  let gw: Gateway;
  let key: string;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    key = (await new ApiKeyStore(client, PEPPER).create('ssrf')).key;
    gw = await gatewayOn(redis.url, { APP_MODE: 'production', API_KEY_PEPPER: PEPPER, WEBHOOK_SIGNING_SECRET: SECRET });
  });
  after(async () => {
    await gw?.close();
    client?.disconnect();
    await redis?.stop('SIGKILL');
  });

  it('answers 400 callback_url_forbidden before queueing anything', async () => {
    const payload = await colourImage('png', RED, 32, 9);
    for (const cb of ['http://example.com/hook', 'https://127.0.0.1/hook', 'https://localhost/hook', 'https://[::1]/x', 'https://10.0.0.1/x']) {
      const res = await gw.app.inject({
        method: 'POST',
        url: `/v1/analyses?callback_url=${encodeURIComponent(cb)}`,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'image/png' },
        payload,
      });
      assert.equal(res.statusCode, 400, cb);
      assert.equal(res.json().error.code, 'callback_url_forbidden', cb);
    }
    assert.equal(await gw.queue.count(), 0);
  });
});

describe('the README verification snippet (docs/api-safety.md)', () => {
  it('verifies what the gateway signs and rejects a tampered body', async () => {
    const { readFileSync, writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { pathToFileURL } = await import('node:url');
    const { repoRoot } = await import('@dfd/test-support/processes');
    const md = readFileSync(join(repoRoot, 'docs/api-safety.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(md)?.[1];
    assert.ok(code, 'the README section has a ts snippet');
    const file = join(mkdtempSync(join(tmpdir(), 'dfd-snippet-')), 'verify.ts');
    writeFileSync(file, code);
    const { verifyDfdSignature } = (await import(pathToFileURL(file).href)) as { verifyDfdSignature: (s: string, h: string | undefined, b: string) => boolean };
    const body = JSON.stringify({ id: 'x', status: 'completed', result: { verdict: 'real' } });
    const header = signatureHeader(SECRET, body);
    assert.equal(verifyDfdSignature(SECRET, header, body), true);
    assert.equal(verifyDfdSignature(SECRET, header, body.replace('real', 'edited')), false);
    assert.equal(verifyDfdSignature(SECRET, undefined, body), false);
    assert.equal(verifyDfdSignature(SECRET, signatureHeader(SECRET, body, 1_000), body), false);
  });
});
