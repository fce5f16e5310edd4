import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const k6Dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'k6');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

test('the k6 scenarios type-check against @types/k6 (checkJs, k6 globals only)', () => {
  const r = spawnSync(process.execPath, [tsc, '-p', join(k6Dir, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});

test('each scenario ramps as the scenarios promise and exports what k6 needs', () => {
  for (const [name, target, rate] of [['users-500', 500, 100], ['users-2000', 2000, 500]] as const) {
    const src = readFileSync(join(k6Dir, `${name}.js`), 'utf8');
    assert.match(src, new RegExp(`target: ${target}, perSecond: ${rate}`));
    assert.match(src, /export const options/);
    assert.match(src, /export default vu/);
    // No handleSummary: it would replace k6's standard end-of-test summary (the project's own is
    // rendered from --summary-export by scripts/k6-report.mjs).
    assert.doesNotMatch(src, /handleSummary/);
  }
  const lib = readFileSync(join(k6Dir, 'scenario.js'), 'utf8');
  for (const t of ['transport_errors', 'server_errors_5xx', 'jobs_lost', 'accept_ms', 'verdict_ms']) assert.match(lib, new RegExp(`${t}: \\[`));
  // No Node or bundler-only imports: stock k6 resolves only k6/* and relative modules.
  for (const file of ['scenario.js', 'variants.js', 'summary.js', 'users-500.js', 'users-2000.js']) {
    for (const m of readFileSync(join(k6Dir, file), 'utf8').matchAll(/from '([^']+)'/g)) assert.ok(/^(k6(\/|$)|\.\/)/.test(m[1]!), `${file} imports ${m[1]}`);
  }
});

test('the load driver, bench and tests type-check (loadtest/tsconfig.json)', () => {
  const r = spawnSync(process.execPath, [tsc, '-p', join(k6Dir, '..', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});
