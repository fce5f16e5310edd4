import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@dfd/test-support/processes';

// train.py --train-stages N: check_stages.py takes real optimiser steps on the real network (random
// weights) and exits 1 when a frozen stage's parameter moved, a learning one or the heads did not,
// or an impossible N was accepted. Needs Debian's python3-torch (installed by .ci/run).
describe('training with the early trunk stages frozen', () => {
  it('moves only the last N stages, the fusion and the heads', { timeout: 120_000 }, () => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/models/check_stages.py')], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `check_stages failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      fails: string[];
      learning_1: { frozen: number; moved: number; all: number };
      learning_2: { frozen: number; moved: number; all: number };
    };
    assert.deepEqual(report.fails, []);
    // One learning stage freezes more of the trunk than two do.
    assert.ok(report.learning_1.frozen > report.learning_2.frozen, JSON.stringify(report));
    assert.ok(report.learning_1.moved < report.learning_2.moved, JSON.stringify(report));
  });
});
