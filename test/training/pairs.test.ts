import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, trainingPython } from '@dfd/test-support/processes';

// The pair loss only teaches the edit if the pairs are what train.py says they are: a synthetic
// edit beside its own original framed identically, a dataset fake beside a real of its domain.
// check_pairs.py runs train.py's real make_specs and TrainSet on synthetic images and exits 1 on
// any broken pairing. Needs Debian's python3-torch (installed by .ci/run).
describe('training pairs', () => {
  it('pairs each edit with its own identically framed original and each dataset fake with its domain', { timeout: 120_000 }, () => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/models/check_pairs.py')], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    assert.equal(r.status, 0, `check_pairs failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(last) as { pairs: number; synthetic_checked: number; aligned_same: number; fails: string[] };
    assert.deepEqual(report.fails, []);
    assert.ok(report.pairs > 500, `pairs: ${report.pairs}`);
    assert.ok(report.synthetic_checked >= 10 && report.aligned_same === report.synthetic_checked);
  });
});
