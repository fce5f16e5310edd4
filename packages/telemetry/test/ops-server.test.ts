import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { prom, startOpsServer, type OpsServer, type OpsServerOptions } from '../src/index.js';

interface Probe {
  path: string;
  /** Date.now() when the request was sent. */
  t: number;
  ms: number;
  status: number;
  body: string;
  metricsAge: string | null;
}

/**
 * Polls the given paths from a child process: the requests must be made while this test's own
 * thread is blocked. Resolves once the first answer came back, so the block starts under polling.
 */
async function startPoller(base: string, paths: string[], everyMs = 20): Promise<{ stop(): Promise<Probe[]> }> {
  const script = `
    let on = true;
    process.stdin.on('data', () => { on = false; });
    (async () => {
      while (on) {
        for (const path of ${JSON.stringify(paths)}) {
          const t = Date.now(), t0 = performance.now();
          let status = 0, body = '', metricsAge = null;
          try {
            const r = await fetch(${JSON.stringify(base)} + path);
            body = (await r.text()).slice(0, 300);
            status = r.status;
            metricsAge = r.headers.get('x-metrics-age-ms');
          } catch (e) { body = String(e); }
          process.stdout.write(JSON.stringify({ path, t, ms: performance.now() - t0, status, body, metricsAge }) + '\\n');
        }
        await new Promise((r) => setTimeout(r, ${everyMs}));
      }
      process.exit(0);
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const first = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await first;
  return {
    async stop() {
      child.stdin!.end('stop\n');
      await exited;
      return out.trim().split('\n').map((l) => JSON.parse(l) as Probe);
    },
  };
}

/** Keeps this thread (the "main loop" of the service under test) busy for `ms`. */
function blockFor(ms: number): { from: number; to: number } {
  const from = Date.now();
  while (Date.now() - from < ms);
  return { from, to: Date.now() };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const open: OpsServer[] = [];
after(async () => {
  await Promise.all(open.map((o) => o.close()));
});

async function start(opts: Partial<OpsServerOptions> = {}): Promise<{ ops: OpsServer; url: string; registry: prom.Registry }> {
  const registry = new prom.Registry();
  const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry, readiness: async () => ({ ready: true, checks: { redis: true } }), ...opts });
  open.push(ops);
  return { ops, url: `http://127.0.0.1:${ops.port}`, registry };
}

const get = async (url: string) => {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
};

describe('ops server on its own thread', () => {
  it('answers /healthz, /readyz and /metrics while the main thread is blocked', async () => {
    const { url } = await start({ metricsWaitMs: 200 });
    await waitFor('ready', async () => (await get(`${url}/readyz`)).status === 200);
    assert.equal((await get(`${url}/metrics`)).status, 200); // something to fall back on
    const poller = await startPoller(url, ['/healthz', '/readyz', '/metrics']);
    const block = blockFor(1_500);
    await sleep(300);
    const probes = await poller.stop();
    // Sent while blocked, with time to spare before the block ended.
    const during = probes.filter((p) => p.t >= block.from && p.t <= block.to - 500);
    const health = during.filter((p) => p.path === '/healthz');
    assert.ok(health.length >= 3, `only ${health.length} /healthz probes during the block: ${JSON.stringify(probes)}`);
    for (const p of during) {
      assert.ok(p.ms < 500, `${p.path} took ${p.ms.toFixed(0)} ms while the main thread was blocked`);
      assert.equal(p.status, 200, `${p.path}: ${p.status} ${p.body}`);
    }
    // The heartbeat stopped: the lag shows it, within the (default 10 s) stall bound.
    const lags = health.map((p) => JSON.parse(p.body) as { status: string; event_loop_lag_ms: number });
    assert.ok(lags.every((l) => l.status === 'ok'));
    assert.ok(Math.max(...lags.map((l) => l.event_loop_lag_ms)) >= 300, JSON.stringify(lags));
    // /metrics could not be collected: the previous scrape's text, marked with its age.
    const metrics = during.filter((p) => p.path === '/metrics');
    assert.ok(metrics.length >= 1 && metrics.every((p) => p.metricsAge !== null), JSON.stringify(metrics));
  });

  it('answers 503 stalled on /healthz once the main loop has not beaten for longer than the bound', async () => {
    const { url } = await start({ stallMs: 300, heartbeatMs: 50 });
    // Healthy first (on a loaded machine the loop can miss a 300 ms bound while the test starts).
    await waitFor('healthy', async () => (await get(`${url}/healthz`)).status === 200, 5_000);
    const poller = await startPoller(url, ['/healthz']);
    const block = blockFor(1_200);
    await sleep(200);
    const probes = await poller.stop();
    const stale = probes.filter((p) => p.t >= block.from + 400 && p.t <= block.to - 300);
    assert.ok(stale.length >= 3, `only ${stale.length} probes while stalled: ${JSON.stringify(probes)}`);
    for (const p of stale) {
      assert.equal(p.status, 503, p.body);
      const body = JSON.parse(p.body) as { status: string; event_loop_lag_ms: number };
      assert.equal(body.status, 'stalled');
      assert.ok(body.event_loop_lag_ms >= 300, p.body);
    }
    await waitFor('healthy again', async () => (await get(`${url}/healthz`)).status === 200, 5_000);
  });

  it('serves the latest readiness result, and not ready once it is too old', async () => {
    let state: 'ready' | 'down' | 'throws' | 'hangs' = 'ready';
    const { url } = await start({
      readinessIntervalMs: 50,
      readinessMaxAgeMs: 400,
      readiness: () => {
        if (state === 'throws') return Promise.reject(new Error('redis: connection refused'));
        if (state === 'hangs') return new Promise(() => undefined);
        return Promise.resolve({ ready: state === 'ready', checks: { redis: state === 'ready', model: true } });
      },
    });
    await waitFor('ready', async () => (await get(`${url}/readyz`)).status === 200);
    assert.deepEqual(JSON.parse((await get(`${url}/readyz`)).text), { status: 'ready', checks: { redis: true, model: true } });

    state = 'down';
    await waitFor('not ready', async () => (await get(`${url}/readyz`)).status === 503);
    assert.deepEqual(JSON.parse((await get(`${url}/readyz`)).text), { status: 'not_ready', checks: { redis: false, model: true } });

    state = 'throws';
    await waitFor('the error', async () => JSON.parse((await get(`${url}/readyz`)).text).error === 'redis: connection refused');

    state = 'ready';
    await waitFor('ready again', async () => (await get(`${url}/readyz`)).status === 200);
    state = 'hangs';
    await waitFor('too old', async () => /ms old/.test(JSON.parse((await get(`${url}/readyz`)).text).reason ?? ''), 5_000);
    assert.equal((await get(`${url}/readyz`)).status, 503);
    assert.equal((await get(`${url}/healthz`)).status, 200, 'liveness does not depend on readiness');
  });

  it("serves the registry's current metrics", async () => {
    const { url, registry } = await start();
    const jobs = new prom.Counter({ name: 'dfd_test_jobs_total', help: 'test', registers: [registry] });
    jobs.inc(3);
    const first = await get(`${url}/metrics`);
    assert.equal(first.status, 200);
    assert.equal(first.type, registry.contentType);
    assert.match(first.text, /^dfd_test_jobs_total 3$/m);
    jobs.inc();
    assert.match((await get(`${url}/metrics`)).text, /^dfd_test_jobs_total 4$/m);
    assert.equal((await get(`${url}/nope`)).status, 404);
  });

  it('releases the port and its thread on close', async () => {
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    const { ops, url } = await start();
    assert.ok(threads() > before, 'the listener runs on a thread of its own');
    await ops.close();
    await ops.close(); // twice is harmless
    await waitFor('the thread to end', async () => threads() === before, 5_000);
    await assert.rejects(fetch(`${url}/healthz`));
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(ops.port, '127.0.0.1', resolve));
    // A port in use fails the start, as a listen on the main thread would.
    await assert.rejects(startOpsServer({ port: ops.port, host: '127.0.0.1', registry: new prom.Registry(), readiness: async () => ({ ready: true, checks: {} }) }), { code: 'EADDRINUSE' });
    await new Promise((r) => again.close(r));
    await waitFor('no thread left by the failed start', async () => threads() === before, 5_000);
  });

  it('does not keep the process alive', async () => {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `
      import { prom, startOpsServer } from ${JSON.stringify(src)};
      const ops = await startOpsServer({ port: 0, host: '127.0.0.1', registry: new prom.Registry(), readiness: async () => ({ ready: true, checks: {} }) });
      const r = await fetch('http://127.0.0.1:' + ops.port + '/healthz');
      console.log(r.status);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await Promise.race([new Promise<number | null>((r) => child.once('exit', r)), sleep(30_000, undefined, { ref: false }).then(() => 'still running')]);
    if (code === 'still running') child.kill('SIGKILL');
    assert.equal(code, 0, `the process did not end by itself (${code}); output: ${out}`);
    assert.equal(out.trim(), '200');
  });
});
