import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@dfd/test-support/processes';

// train.py --teacher-*: check_distill.py runs the real Teacher on the real network (random weights)
// and the real distillation loss, and exits 1 when the teacher's target is not its members' weighted
// logit or the loss does not pull the student towards it. Needs Debian's python3-torch (.ci/run).
describe('training distillation', () => {
  it("learns the teacher's weighted logit, with a loss that vanishes only at the teacher", { timeout: 120_000 }, () => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/models/check_distill.py')], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `check_distill failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { fails: string[]; loss_off: number };
    assert.deepEqual(report.fails, []);
    assert.ok(report.loss_off > 0, `loss off the teacher: ${report.loss_off}`);
  });
});
