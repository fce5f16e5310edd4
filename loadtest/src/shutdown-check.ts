/**
 * Ctrl-C under load (issue 12, point 6): starts `npm start`'s launcher (scripts/start-stack.mjs,
 * its own process group, Redis with its append-only file in a fresh folder), drives it with the
 * load engine, and after --before seconds sends the launcher SIGINT (or --signal) while the users
 * keep uploading. It records the stop order and timings the launcher prints, the connection errors
 * the services log during the stop, and what clients saw meanwhile. Then it starts the stack again
 * on the same append-only file with no load and follows every job that was ever accepted (202) to
 * its end: a job that never ends, or that the restarted stack does not know, is lost.
 *
 *   node --import tsx loadtest/src/shutdown-check.ts --connections 2000 --ramp 4 --before 40 --detectors 2
 *   node --import tsx loadtest/src/shutdown-check.ts --tiny --connections 100 --before 8     # quick, generated models
 *
 * Exit code 1 when a job was lost, the launcher did not stop cleanly, or the stop order was wrong.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { freePort, httpReady, repoRoot, sleep } from '@dfd/stack';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';
import { runLoad } from './load.js';
import { realModelsPresent } from './stack.js';

const { values: a } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    ramp: { type: 'string', default: '4' },
    before: { type: 'string', default: '40' },
    signal: { type: 'string', default: 'SIGINT' },
    detectors: { type: 'string', default: '2' },
    classifiers: { type: 'string', default: '1' },
    'follow-s': { type: 'string', default: '300' },
    tiny: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const signal = a.signal as NodeJS.Signals;
if (!['SIGINT', 'SIGTERM'].includes(signal)) throw new Error(`--signal must be SIGINT or SIGTERM, not ${a.signal}`);
const say = (l: string) => console.log(`[shutdown-check] ${l}`);

/** What the services print when a peer went away before them: the storm the stop order prevents. */
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|Connection is closed|connect ETIMEDOUT|UNAVAILABLE|No connection established|Stream removed/i;

interface Launcher {
  child: ChildProcess;
  lines: Array<{ t: number; line: string }>;
  exited: Promise<number | null>;
}

function startLauncher(port: number, basePort: number, dataDir: string, env: Record<string, string>): Launcher {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/start-stack.mjs'), '--detectors', a.detectors!, '--classifiers', a.classifiers!,
    '--port', String(port), '--base-port', String(basePort), '--data', dataDir], {
    cwd: repoRoot,
    // Its own process group, as `set -m` gives `npm start` in a shell: the signal reaches the
    // launcher, which stops the services in order (they are its children, not signalled directly).
    detached: true,
    env: { ...process.env, RATE_LIMIT_PER_MINUTE: '0', MAX_CONCURRENT_JOBS_PER_KEY: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Launcher['lines'] = [];
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (line) => lines.push({ t: Date.now(), line }));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

async function follow(base: string, id: string, deadline: number): Promise<{ status: string; code?: string }> {
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/v1/analyses/${id}?wait=25`, { signal: AbortSignal.timeout(40_000) });
      if (r.status === 404) return { status: 'unknown' };
      const v = (await r.json()) as { status?: string; error?: { code?: string } };
      if (v.status === 'completed') return { status: 'completed' };
      if (v.status === 'failed') return { status: 'failed', code: v.error?.code ?? 'unknown' };
    } catch {
      await sleep(500);
    }
  }
  return { status: 'unfinished' };
}

const dataDir = mkdtempSync(join(tmpdir(), 'dfd-shutdown-redis-'));
const env: Record<string, string> = {};
if (a.tiny || !realModelsPresent()) {
  const models = mkdtempSync(join(tmpdir(), 'dfd-shutdown-models-'));
  writeTinyModelSet(models);
  Object.assign(env, { MODELS_DIR: models, FACE_STAGE: 'false' });
}
// A port where no Redis answers, so the launcher starts its own there, with its append-only file
// in dataDir (a Redis already running elsewhere would keep the jobs whatever the stop order).
env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
const port = await freePort();
const basePort = 20_000 + 10 * Math.floor(Math.random() * 2_000);
const base = `http://127.0.0.1:${port}`;
let code = 0;

say(`starting the stack (${a.detectors} detectors, ${a.classifiers} classifier(s), ${env.MODELS_DIR ? 'tiny models' : 'models/'}; Redis append-only file in ${dataDir})`);
const first = startLauncher(port, basePort, dataDir, env);
const upOrExited = await Promise.race([httpReady(`${base}/readyz`, 120_000).then(() => 'up' as const), first.exited]);
if (upOrExited !== 'up') throw new Error(`the launcher exited (${upOrExited}) before it was ready:\n${first.lines.map((l) => l.line).join('\n')}`);

const accepted = new Set<string>();
const stopAt = { t: 0 };
const afterStop = { accepted: 0 };
const abort = new AbortController();
say(`load: ${a.connections} users (ramp ${a.ramp} s); ${signal} to the launcher after ${a.before} s`);
const load = runLoad({
  url: base,
  connections: Number(a.connections),
  rampS: Number(a.ramp),
  durationS: 3_600,
  mode: 'verdict',
  thinkMs: 2_000,
  abort: abort.signal,
  onAccepted: (id) => {
    accepted.add(id);
    if (stopAt.t) afterStop.accepted++;
  },
});
await sleep(Number(a.before) * 1000);
stopAt.t = Date.now();
const beforeStop = accepted.size;
say(`${signal} -> launcher (pid ${first.child.pid}) with ${beforeStop} jobs accepted so far`);
process.kill(first.child.pid!, signal);
const exitCode = await Promise.race([first.exited, sleep(180_000).then(() => 'timeout' as const)]);
const stoppedIn = (Date.now() - stopAt.t) / 1000;
abort.abort();
const report = await load;
if (exitCode === 'timeout') {
  say('the launcher did not exit within 180 s; killing its group');
  process.kill(-first.child.pid!, 'SIGKILL');
  code = 1;
}

const during = first.lines.filter((l) => l.t >= stopAt.t);
const order = during.map((l) => /stopped (gateway|detectors|classifiers|redis)\b.* in ([\d.]+) s/.exec(l.line)).filter((m): m is RegExpExecArray => !!m);
const orderNames = order.map((m) => m[1]);
const expected = ['gateway', 'detectors', 'classifiers', 'redis'];
const orderOk = orderNames.join(',') === expected.join(',');
const connErrors = during.filter((l) => CONNECTION_ERROR.test(l.line));
say(`launcher exit code ${exitCode} after ${stoppedIn.toFixed(1)} s; stop order ${orderNames.join(' -> ') || '(none printed)'} (${order.map((m) => `${m[1]} ${m[2]} s`).join(', ')})`);
say(`connection-error lines in the services' logs during the stop: ${connErrors.length}`);
for (const l of connErrors.slice(0, 10)) say(`  ${l.line.slice(0, 240)}`);
say(`clients: ${report.accepted} accepted in all, ${afterStop.accepted} of them after the signal; transport errors ${report.transportErrorCount}; 5xx ${report.serverErrors}; status ${JSON.stringify(report.status)}`);
if (!orderOk || exitCode !== 0) code = 1;

say('restarting the stack on the same append-only file, no load; following every accepted job');
const port2 = await freePort();
const base2 = `http://127.0.0.1:${port2}`;
const second = startLauncher(port2, basePort, dataDir, env);
await httpReady(`${base2}/readyz`, 120_000);
const ids = [...accepted];
const outcome: Record<string, number> = {};
const failures: Record<string, number> = {};
const deadline = Date.now() + Number(a['follow-s']) * 1000;
const t1 = Date.now();
await Promise.all(Array.from({ length: Math.min(200, ids.length) }, async () => {
  for (let id = ids.shift(); id; id = ids.shift()) {
    const o = await follow(base2, id, deadline);
    outcome[o.status] = (outcome[o.status] ?? 0) + 1;
    if (o.code) failures[o.code] = (failures[o.code] ?? 0) + 1;
  }
}));
process.kill(second.child.pid!, 'SIGINT');
await Promise.race([second.exited, sleep(120_000)]);
const lost = (outcome.unknown ?? 0) + (outcome.unfinished ?? 0);
say(`accepted ${accepted.size}: completed ${outcome.completed ?? 0}, failed ${outcome.failed ?? 0} ${JSON.stringify(failures)}, unknown to the restarted stack ${outcome.unknown ?? 0}, unfinished after ${a['follow-s']} s ${outcome.unfinished ?? 0} (followed in ${((Date.now() - t1) / 1000).toFixed(0)} s)`);
say(lost === 0 && orderOk && exitCode === 0 ? 'PASS: stopped in order, nothing accepted was lost' : `FAIL: lost ${lost}, order ${orderOk ? 'ok' : 'wrong'}, launcher exit ${exitCode}`);
if (lost > 0) code = 1;
if (a.json) {
  writeFileSync(a.json, JSON.stringify({
    signal, connections: Number(a.connections), beforeS: Number(a.before), acceptedBeforeSignal: beforeStop, acceptedAfterSignal: afterStop.accepted,
    launcherExit: exitCode, stopSeconds: stoppedIn, stopOrder: order.map((m) => ({ group: m[1], seconds: Number(m[2]) })), orderOk,
    connectionErrorLines: connErrors.length, clients: { status: report.status, transportErrors: report.transportErrors, serverErrors: report.serverErrors },
    accepted: accepted.size, outcome, failures, lost,
  }, null, 2));
}
process.exit(code);
