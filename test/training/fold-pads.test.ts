import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@dfd/test-support/processes';

// face-detector 1.1.0 is 1.0.0 with its exported Pads folded into the convolutions and max pools
// (training/faceport/fold_pads.py). check_fold_pads.py exports a small network padded the way
// port.py pads TinyFaceDetector, folds it and runs both graphs in onnxruntime-node at the served
// sizes: every Pad must be gone and the outputs unchanged. Needs Debian's python3-torch and
// python3-onnx (installed by .ci/run) and the built packages (onnxruntime-node via model-runtime).
describe('fold_pads', () => {
  it('folds port.py-style Pads into the Conv and MaxPool that read them, with the same outputs', { timeout: 120_000 }, () => {
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/faceport/check_fold_pads.py')], { cwd: repoRoot, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `check_fold_pads failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { pads_before: number; folded: number; pads_after: number; nodes_after: string[]; max_abs_difference: number };
    assert.equal(report.pads_before, 2, JSON.stringify(report));
    assert.equal(report.folded, 2);
    assert.equal(report.pads_after, 0);
    // The padding chains (ConstantOfShape, Slice, Cast, ...) are gone with their Pads.
    assert.deepEqual(report.nodes_after.filter((op) => !['Conv', 'LeakyRelu', 'MaxPool', 'Sub', 'Div', 'Constant'].includes(op)), []);
    assert.ok(report.max_abs_difference <= 1e-6, `outputs moved by ${report.max_abs_difference}`);
  });
});
