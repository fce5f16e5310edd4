#!/usr/bin/env node
// `npm start [-- --detectors N --classifiers M --port P]`: the whole stack as local processes.
// Starts a private redis-server when none answers at REDIS_URL, several replicas of a service on
// their own ports when asked (competing consumers, gRPC round-robin), and stops all on Ctrl-C.
import { spawn, execSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    detectors: { type: 'string', default: process.env.DETECTORS ?? '1' },
    classifiers: { type: 'string', default: process.env.CLASSIFIERS ?? '1' },
    port: { type: 'string', default: process.env.HTTP_PORT ?? '8080' },
    quiet: { type: 'boolean', default: false },
  },
});
const detectors = Number(args.detectors);
const classifiers = Number(args.classifiers);
for (const [name, n] of [['--detectors', detectors], ['--classifiers', classifiers]]) {
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    console.error(`[dfd] ${name} must be an integer from 1 to 16`);
    process.exit(2);
  }
}
const modelsDir = process.env.MODELS_DIR ?? join(root, 'models');
for (const m of ['detector', 'classifier']) {
  if (!existsSync(join(modelsDir, m))) {
    console.error(`[dfd] no ${m} model under ${modelsDir}; set MODELS_DIR or run \`npm run train\``);
    process.exit(1);
  }
}

const children = [];
let stopping = false;

function reachable(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    s.setTimeout(1000);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

function launch(name, cmd, argv, env) {
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', args.quiet ? 'ignore' : 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[dfd] ${name} exited (${signal ?? code}); stopping the stack`);
      shutdown(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function waitHttp(url, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n[dfd] stopping ...');
  // Gateway first (stop taking work), then detectors (finish jobs), then model servers, then Redis.
  const order = ['gateway', 'detector', 'classifier', 'redis'];
  for (const kind of order) {
    const group = children.filter((c) => c.name.startsWith(kind) && c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(group.map(({ child }) => new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    })));
  }
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

let redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
if (!(await reachable(redisUrl))) {
  let hasRedis = true;
  try { execSync('command -v redis-server', { stdio: 'ignore', shell: '/bin/sh' }); } catch { hasRedis = false; }
  if (!hasRedis) {
    console.error(`[dfd] no Redis answers at ${redisUrl} and redis-server is not installed.\n      Install it (Debian: sudo apt-get install -y redis-server) or set REDIS_URL to a running Redis.`);
    process.exit(1);
  }
  const port = new URL(redisUrl).port || '6379';
  console.log(`[dfd] starting redis-server on ${port}`);
  launch('redis', 'redis-server', ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', mkdtempSync(join(tmpdir(), 'dfd-redis-'))], {});
  const end = Date.now() + 10_000;
  while (!(await reachable(redisUrl)) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

const common = { REDIS_URL: redisUrl, MODELS_DIR: modelsDir };
const node = process.execPath;
const svc = (name) => join(root, 'services', name, 'dist', 'server.js');
const classifierPorts = [];
for (let i = 0; i < classifiers; i++) {
  const grpc = 8102 + i * 10;
  classifierPorts.push(grpc);
  launch(`classifier-${i}`, node, [svc('classifier')], { ...common, GRPC_PORT: String(grpc), HTTP_PORT: String(9102 + i * 10), ORT_INTRA_OP_THREADS: '1' });
}
for (const [i] of classifierPorts.entries()) await waitHttp(`http://127.0.0.1:${9102 + i * 10}/healthz`);
const target = `ipv4:${classifierPorts.map((p) => `127.0.0.1:${p}`).join(',')}`;
for (let i = 0; i < detectors; i++) {
  launch(`detector-${i}`, node, [svc('detector')], { ...common, CLASSIFIER_TARGET: target, GRPC_PORT: String(8101 + i * 10), HTTP_PORT: String(9101 + i * 10) });
}
const opsPort = process.env.OPS_PORT ?? '9100';
launch('gateway', node, [svc('gateway')], { ...common, HTTP_PORT: args.port, OPS_PORT: opsPort });
const url = `http://127.0.0.1:${args.port}`;
if (await waitHttp(`${url}/readyz`)) {
  console.log(`\n[dfd] ready: ${detectors} detector(s), ${classifiers} classifier(s)\n[dfd] web page  ${url}/\n[dfd] API docs  ${url}/docs\n[dfd] API       ${url}/v1/analyses\n[dfd] ops       http://127.0.0.1:${opsPort}/metrics (health, readiness, metrics)\n[dfd] Ctrl-C stops everything.\n`);
} else {
  console.error('[dfd] the gateway did not become ready in 60 s');
  await shutdown(1);
}
