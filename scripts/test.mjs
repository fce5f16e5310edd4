#!/usr/bin/env node
// Runs every *.test.ts in the repository with Node's test runner (files one at a time, since
// many start real processes on this small machine).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const skip = new Set(['node_modules', 'dist', '.git', '.cache', 'artifacts']);
// Python training code and model folders hold no TypeScript tests (test/training/ does).
const skipAtRoot = new Set(['training', 'models', 'docs']);
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name) || (dir === root && skipAtRoot.has(name))) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = walk(root, []).sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
console.log(`[dfd] ${files.length} test files`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(r.status ?? 1);
