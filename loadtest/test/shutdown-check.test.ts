/**
 * Ctrl-C under load, through the same script the 2000-user check uses (src/shutdown-check.ts):
 * `npm start`'s launcher with tiny models and a private Redis with its append-only file, users
 * uploading, SIGINT mid-load. The launcher must stop gateway → detectors → classifiers → Redis and
 * exit 0, and every job a client was told was accepted must end (completed or failed) on the stack
 * started again from that file. Behaviour only; the timings it prints are not asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'shutdown-check.ts');

test('SIGINT under load: ordered stop, nothing accepted lost across a restart', { timeout: 240_000 }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'dfd-shutdown-check-')), 'report.json');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--tiny', '--connections', '40', '--before', '6', '--follow-s', '90', '--json', out],
    { encoding: 'utf8', timeout: 230_000 });
  process.stdout.write(r.stdout);
  assert.equal(r.status, 0, `shutdown check failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { orderOk: boolean; launcherExit: number; accepted: number; lost: number; outcome: Record<string, number>; stopOrder: Array<{ group: string }> };
  assert.deepEqual(report.stopOrder.map((s) => s.group), ['gateway', 'detectors', 'classifiers', 'redis']);
  assert.equal(report.launcherExit, 0);
  assert.ok(report.accepted > 0, 'the load got jobs accepted before the signal');
  assert.equal(report.lost, 0);
  assert.equal((report.outcome.completed ?? 0) + (report.outcome.failed ?? 0), report.accepted);
});
