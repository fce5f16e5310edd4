#!/usr/bin/env node
// Entry point behind `npm start|test|build|bench|train|eval`. Plain Node (no dependencies), because
// on a fresh clone nothing is installed yet: it brings pnpm, installs, builds, then runs the task.
import { spawnSync, execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Before anything can re-parent us: the launcher watches these and stops the stack when npm goes.
const startPpid = process.ppid;
const [task = 'start', ...rest] = process.argv.slice(2);
// onnxruntime-node's install script downloads CUDA files, which cannot work offline.
process.env.ONNXRUNTIME_NODE_INSTALL = 'skip';
process.env.ONNXRUNTIME_NODE_INSTALL_CUDA = 'skip';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: process.env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function pnpmCommand() {
  try {
    execSync('pnpm --version', { stdio: 'ignore' });
    return ['pnpm'];
  } catch {
    // corepack's signature check fails against this registry; npx fetches pnpm from npm instead.
    return ['npx', '-y', 'pnpm@10'];
  }
}

const pnpm = pnpmCommand();
const pn = (args) => run(pnpm[0], [...pnpm.slice(1), ...args]);

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
  if (stale) {
    console.log('[dfd] installing dependencies with pnpm ...');
    const args = ['install', '--prefer-offline'];
    if (process.env.CI) args.push('--frozen-lockfile');
    if (pn(args) !== 0) process.exit(1);
  }
}

function build() {
  console.log('[dfd] building TypeScript ...');
  if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.json']) !== 0) process.exit(1);
}

ensureInstalled();
if (task === 'install') process.exit(0);
if (task === 'start') {
  // Transpile only (about a second); type errors are `npm run build` / `npm test` business.
  const t0 = Date.now();
  const { fastBuild } = await import('./fast-build.mjs');
  const rebuilt = await fastBuild(root);
  if (rebuilt.length) console.log(`[dfd] transpiled ${rebuilt.length} project(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s (esbuild; \`npm run build\` type-checks)`);
} else build();
const scripts = {
  build: null,
  start: 'scripts/start-stack.mjs',
  test: 'scripts/test.mjs',
  bench: 'scripts/bench.mjs',
  train: 'scripts/train.mjs',
  eval: 'scripts/eval.mjs',
};
if (!(task in scripts)) {
  console.error(`[dfd] unknown task "${task}"; one of ${Object.keys(scripts).join(', ')}`);
  process.exit(2);
}
if (task === 'start') {
  // In this process, not a child: the pid npm started is the launcher, so its signals are ours.
  const { main } = await import('./start-stack.mjs');
  const { launchAncestors } = await import('../packages/stack/dist/ancestors.js');
  process.exit(await main(rest, { ancestors: launchAncestors(startPpid) }));
}
if (scripts[task]) process.exit(run(process.execPath, [join(root, scripts[task]), ...rest]));
