import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@dfd/test-support/processes';

// train.py --soup keeps weights between a fine-tune's start and its epochs; check_soup.py runs the
// real interpolation on the real network (random weights) and exits 1 when either end does not
// compute what its network computes. Needs Debian's python3-torch (installed by .ci/run).
describe('training weight soup', () => {
  it('interpolates from the initial to the tuned network exactly at both ends and halfway between', { timeout: 120_000 }, () => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/models/check_soup.py')], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `check_soup failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { tensors: number; fails: string[] };
    assert.deepEqual(report.fails, []);
    assert.ok(report.tensors > 10, `tensors: ${report.tensors}`);
  });
});
