import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { verifySignature } from '../src/webhooks/signer.js';
import { colourImage, RED, BLUE, SECRET, sleep, startService, waitFor, type ServiceHandle } from './helpers.js';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
}

/** A receiver on loopback that verifies each signature; answers 500 to the first call per path. */
function receiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const header = req.headers['x-dfd-signature'];
      deliveries.push({ path, headers: req.headers, body, verified: verifySignature(SECRET, typeof header === 'string' ? header : undefined, body) });
      const first = !seen.has(path) && path.startsWith('/flaky');
      seen.add(path);
      res.writeHead(first ? 500 : 200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, deliveries })));
}

describe('webhooks', () => {
  let stack: Stack;
  let second: ServiceHandle;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const gatewayEnv = { WEBHOOK_SIGNING_SECRET: SECRET, WEBHOOK_BACKOFF_MS: '300', WEBHOOK_MAX_ATTEMPTS: '4' };

  before(async () => {
    hook = await receiver();
    stack = await startStack({ gatewayEnv });
    // A second replica: both hear the end of the analysis, the delivery must still happen once.
    second = await startService('gateway', { ...stack.env, ...gatewayEnv }, '/readyz');
  });
  after(async () => {
    await second?.stop('SIGTERM', 5_000);
    await stack?.stop();
    hook?.server.close();
  });

  it('POSTs a signed result, retries after a 500, and delivers once across two replicas', async () => {
    const cb = `${hook.url}/flaky/1`;
    const res = await fetch(`${stack.url}/v1/analyses?callback_url=${encodeURIComponent(cb)}`, {
      method: 'POST',
      body: await colourImage('jpeg', RED, 64, 41),
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const mine = () => hook.deliveries.filter((d) => d.path === '/flaky/1');
    await waitFor('two webhook attempts', async () => mine().length >= 2, 20_000);
    await sleep(1_500); // nothing more may arrive: one delivery job, one success
    const got = mine();
    assert.equal(got.length, 2, 'first attempt answered 500, the retry 200, no duplicate from the other replica');
    for (const d of got) {
      assert.equal(d.verified, true, 'signature verifies');
      assert.equal(d.headers['content-type'], 'application/json');
    }
    assert.equal(got[0]!.headers['x-dfd-delivery'], got[1]!.headers['x-dfd-delivery']);
    assert.deepEqual([got[0]!.headers['x-dfd-attempt'], got[1]!.headers['x-dfd-attempt']], ['1', '2']);
    const payload = JSON.parse(got[1]!.body);
    assert.equal(payload.id, id);
    assert.equal(payload.status, 'completed');
    assert.equal(payload.result.verdict, 'edited');
    assert.equal(payload.error, undefined);
  });

  it('delivers to each caller\'s own URL when the same picture is uploaded again (its own analysis, model results reused)', async () => {
    const img = await colourImage('png', BLUE, 56, 42);
    const first = await fetch(`${stack.url}/v1/analyses?wait=20`, { method: 'POST', body: img, headers: { 'content-type': 'image/png' } });
    assert.equal(first.status, 200);
    const firstId = ((await first.json()) as any).id;
    const cb = `${hook.url}/late/2`;
    const again = await fetch(`http://127.0.0.1:${second.httpPort}/v1/analyses?callback_url=${encodeURIComponent(cb)}`, { method: 'POST', body: img, headers: { 'content-type': 'image/png' } });
    assert.ok(again.status === 200 || again.status === 202, String(again.status));
    const againId = ((await again.json()) as any).id;
    assert.notEqual(againId, firstId, 'a re-upload is a new analysis');
    await waitFor('late webhook', async () => hook.deliveries.some((d) => d.path === '/late/2'), 10_000);
    const d = hook.deliveries.find((x) => x.path === '/late/2')!;
    assert.equal(d.verified, true);
    assert.equal(JSON.parse(d.body).result.verdict, 'real');
    assert.equal(JSON.parse(d.body).id, againId);
  });
});
