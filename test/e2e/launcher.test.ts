/**
 * `npm start` as a newcomer uses it: real npm, the launcher, a private Redis with its append-only
 * file, the services. Stopping it by SIGTERM or SIGINT to npm's pid, or by Ctrl-C (SIGINT to the
 * terminal's process group), stops everything in the documented order, leaves nothing running and
 * loses no accepted job; a busy port is named with its holder; a Redis killed under the launcher is
 * restarted from its append-only file and accepted jobs still complete.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { getPriority } from 'node:os';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portFree, repoRoot, sleep, waitFor } from '@dfd/stack';
import { colourImage } from '@dfd/test-support/images';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';

interface Run {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

/** The niceness of each thread of `pid` (Linux keeps one per thread; /proc/PID/task/TID/stat field 19). */
function threadNiceness(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

/** Every live descendant of `pid` (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('npm start: stop, restart, busy ports, Redis restart', () => {
  let models: string;
  let data: string;
  let redisPort: number;
  let port: number;
  let base: number;
  const runs: Run[] = [];

  before(async () => {
    models = mkdtempSync(join(tmpdir(), 'dfd-launch-models-'));
    writeTinyModelSet(models);
    data = mkdtempSync(join(tmpdir(), 'dfd-launch-data-'));
    redisPort = await freePort();
    port = await freePort();
    // A base with base+1.., base+1001.. free (checked by the launcher itself anyway).
    base = 20_000 + Math.floor(Math.random() * 20_000);
  });
  /** After a failed test: whatever a launcher left must not hold the next test's ports. */
  async function killLeftovers() {
    for (const r of runs.splice(0)) {
      const pids = r.child.pid ? descendants(r.child.pid) : [];
      for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch {}
      try { r.child.kill('SIGKILL'); } catch {}
      await waitFor('leftovers gone', async () => pids.every((p) => !alive(p)), 10_000).catch(() => undefined);
    }
  }
  afterEach(killLeftovers);
  after(async () => {
    await killLeftovers();
    rmSync(data, { recursive: true, force: true });
    rmSync(models, { recursive: true, force: true });
  });

  const env = () => ({
    ...process.env,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    MODELS_DIR: models,
    FACE_STAGE: 'false',
    SHUTDOWN_GRACE_MS: '3000',
    DETECTOR_CONCURRENCY: '2',
  });
  const args = () => ['--port', String(port), '--base-port', String(base), '--data', data];

  function launch(cmd: string, argv: string[]): Run {
    // Its own process group, like a shell job: "Ctrl-C" is SIGINT to the whole group.
    const child = spawn(cmd, argv, { cwd: repoRoot, env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // 'close': npm may return at once on a signal; the launcher (holding the same stdout) is the one that stops the stack.
    const run: Run = { child, out: '', exited: new Promise((r) => child.once('close', (code) => r(code))) };
    child.stdout!.on('data', (d) => (run.out += d.toString()));
    child.stderr!.on('data', (d) => (run.out += d.toString()));
    runs.push(run);
    return run;
  }

  async function ready(run: Run): Promise<string> {
    await waitFor('the ready banner', async () => {
      if (run.child.exitCode !== null) throw new Error(`launcher exited ${run.child.exitCode}:\n${run.out}`);
      return run.out.includes('[dfd] ready:');
    }, 120_000, 200).catch((err) => {
      throw new Error(`${(err as Error).message}\n${run.out}`);
    });
    return `http://127.0.0.1:${port}`;
  }

  const pidOf = (run: Run, what: RegExp) => {
    for (const p of descendants(run.child.pid!)) {
      try {
        if (what.test(readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))) return p;
      } catch {}
    }
    throw new Error(`no ${what} under the launcher`);
  };

  /** Submits `n` distinct pictures while the detector is paused, so they are still queued when the stop begins. */
  async function acceptWhilePaused(run: Run, url: string, n: number, seed: number): Promise<string[]> {
    const detector = pidOf(run, /services\/detector\/dist\/server\.js/);
    process.kill(detector, 'SIGSTOP');
    const ids: string[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body: await colourImage('png', [seed % 256, i * 9, 40], 48, seed + i), headers: { 'content-type': 'image/png' } });
        const body = (await res.json()) as { id: string };
        assert.equal(res.status, 202, JSON.stringify(body));
        ids.push(body.id);
      }
    } finally {
      process.kill(detector, 'SIGCONT');
    }
    return ids;
  }

  async function expectAllCompleted(url: string, ids: string[]) {
    await waitFor('every accepted job completed', async () => {
      for (const id of ids) {
        const v = (await (await fetch(`${url}/v1/analyses/${id}`)).json()) as { status: string };
        if (v.status !== 'completed') return false;
      }
      return true;
    }, 60_000, 300);
  }

  async function stopAndCheck(run: Run, how: string, send: () => void) {
    const pids = descendants(run.child.pid!);
    assert.ok(pids.length >= 4, `redis and three services running: ${pids.length}`);
    // Model workers run at a lower priority than the gateway, so the gateway keeps answering under
    // load: every thread of theirs (inference runs on onnxruntime's and libuv's threads, not the
    // main one), and none of the gateway's.
    const detectorNice = threadNiceness(pidOf(run, /services\/detector\/dist\/server\.js/));
    const classifierNice = threadNiceness(pidOf(run, /services\/classifier\/dist\/server\.js/));
    const gatewayNice = threadNiceness(pidOf(run, /services\/gateway\/dist\/server\.js/));
    assert.ok(detectorNice.length > 1 && classifierNice.length > 1, 'services run more than one thread');
    assert.deepEqual(new Set(detectorNice), new Set([19]), `detector threads' niceness: ${detectorNice.join(' ')}`);
    assert.deepEqual(new Set(classifierNice), new Set([19]), `classifier threads' niceness: ${classifierNice.join(' ')}`);
    assert.deepEqual(new Set(gatewayNice), new Set([getPriority(process.pid)]), `gateway threads' niceness: ${gatewayNice.join(' ')}`);
    // Where the kernel shares CPU by session first (autogroups), each service's session is weighted too.
    if (existsSync(`/proc/${process.pid}/autogroup`)) {
      assert.match(readFileSync(`/proc/${pidOf(run, /services\/detector\/dist\/server\.js/)}/autogroup`, 'utf8'), / nice 19\b/);
      assert.match(readFileSync(`/proc/${pidOf(run, /services\/classifier\/dist\/server\.js/)}/autogroup`, 'utf8'), / nice 19\b/);
      assert.match(readFileSync(`/proc/${pidOf(run, /services\/gateway\/dist\/server\.js/)}/autogroup`, 'utf8'), / nice 0\b/);
    }
    send();
    const code = await Promise.race([run.exited, sleep(60_000).then(() => 'hung')]);
    assert.notEqual(code, 'hung', `${how}: npm start did not end:\n${run.out}`);
    // The documented order, each group after the previous one has exited.
    const order = ['stopped gateway', 'stopped detectors', 'stopped classifiers', 'stopped redis', 'stopped; nothing left running'].map((s) => run.out.indexOf(s));
    assert.ok(order.every((i) => i >= 0) && order.every((v, i) => i === 0 || v > order[i - 1]!), `${how}: stop order\n${run.out}`);
    await waitFor(`${how}: every process gone`, async () => pids.every((p) => !alive(p)), 10_000);
    for (const p of [port, redisPort, base + 1, base + 2, base + 1001, base + 1002]) assert.ok(await portFree(p), `${how}: port ${p} still held`);
  }

  it('stops in order on SIGTERM, SIGINT and Ctrl-C, and finishes accepted jobs after the next start', async () => {
    const variants: Array<[string, (r: Run) => void]> = [
      ['SIGTERM to the npm start pid', (r) => process.kill(r.child.pid!, 'SIGTERM')],
      ['SIGINT to the npm start pid', (r) => process.kill(r.child.pid!, 'SIGINT')],
      ['Ctrl-C (SIGINT to the process group)', (r) => process.kill(-r.child.pid!, 'SIGINT')],
    ];
    let pending: string[] = [];
    for (const [i, [how, send]] of variants.entries()) {
      const run = launch('npm', ['start', '--', ...args()]);
      const url = await ready(run);
      assert.match(run.out, new RegExp(`Redis +redis://127.0.0.1:${redisPort}, started here \\(pid \\d+\\), append-only file in ${data}`));
      // The banner comes last: no service line after it yet, and it names the URLs.
      assert.match(run.out.slice(run.out.indexOf('[dfd] ready:')), /web page  http:\/\/127\.0\.0\.1:\d+\/\n/);
      await expectAllCompleted(url, pending); // accepted before the previous stop
      pending = await acceptWhilePaused(run, url, 8, 1000 * (i + 1));
      await stopAndCheck(run, how, () => send(run));
    }
    // The last batch, after a start of the launcher itself.
    const run = launch(process.execPath, ['scripts/start-stack.mjs', ...args()]);
    const url = await ready(run);
    await expectAllCompleted(url, pending);
    await stopAndCheck(run, 'SIGTERM to the launcher', () => process.kill(run.child.pid!, 'SIGTERM'));
  });

  it('names a busy port and the process holding it, and starts nothing', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(port, '0.0.0.0', () => r()));
    try {
      const run = launch(process.execPath, ['scripts/start-stack.mjs', ...args()]);
      const code = await Promise.race([run.exited, sleep(30_000).then(() => 'hung')]);
      assert.equal(code, 1, run.out);
      assert.match(run.out, new RegExp(`port ${port} \\(gateway HTTP\\) is already in use by pid ${process.pid}: \\S*node`));
      assert.doesNotMatch(run.out, /EADDRINUSE|\n\s+at /, 'a message, not a stack trace');
      assert.ok(await portFree(redisPort), 'no Redis was started');
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('restarts a killed Redis from its append-only file: accepted jobs complete, earlier results stay readable', async () => {
    const run = launch(process.execPath, ['scripts/start-stack.mjs', ...args()]);
    const url = await ready(run);
    const first = await fetch(`${url}/v1/analyses?wait=20`, { method: 'POST', body: await colourImage('png', [200, 10, 10], 48, 9001), headers: { 'content-type': 'image/png' } });
    const done = (await first.json()) as { id: string; status: string };
    assert.equal(done.status, 'completed');
    const ids = await (async () => {
      const detector = pidOf(run, /services\/detector\/dist\/server\.js/);
      process.kill(detector, 'SIGSTOP');
      try {
        const list: string[] = [];
        for (let i = 0; i < 6; i++) {
          const res = await fetch(`${url}/v1/analyses`, { method: 'POST', body: await colourImage('png', [10, 200, i * 30], 48, 9100 + i), headers: { 'content-type': 'image/png' } });
          assert.equal(res.status, 202);
          list.push(((await res.json()) as { id: string }).id);
        }
        const redis = pidOf(run, /redis-server/);
        await sleep(200);
        process.kill(redis, 'SIGKILL');
        await waitFor('Redis restarted by the launcher', async () => run.out.includes('redis restarted'), 20_000);
        return list;
      } finally {
        process.kill(detector, 'SIGCONT');
      }
    })();
    await expectAllCompleted(url, ids);
    const again = (await (await fetch(`${url}/v1/analyses/${done.id}`)).json()) as { status: string };
    assert.equal(again.status, 'completed', 'a result from before the Redis restart is still readable');
    await stopAndCheck(run, 'SIGTERM after a Redis restart', () => process.kill(run.child.pid!, 'SIGTERM'));
  });
});
