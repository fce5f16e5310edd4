import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageClassifierModel, resolveModelDir } from '@dfd/model-runtime';
import { repoRoot } from '@dfd/test-support/processes';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { decodeToRgb } from '@dfd/imaging';
import { checkParity } from '@dfd/test-support/parity';

// The training pipeline must not rot: a handful of images, one epoch, a real ONNX export that
// the serving runtime loads and runs. Needs Debian's python3-torch (installed by .ci/run).
describe('smoke training run', () => {
  it('trains both models briefly and exports ONNX that onnxruntime-node serves', { timeout: 600_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'dfd-smoke-models-'));
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/train.mjs'), '--smoke', out], { cwd: repoRoot, encoding: 'utf8', timeout: 590_000 });
    assert.equal(r.status, 0, `training failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    for (const name of ['detector', 'classifier']) {
      const model = await ImageClassifierModel.load(resolveModelDir(out, name), { threads: 1 });
      const imgs = await Promise.all([colourImage('jpeg', RED, 64, 1), colourImage('png', BLUE, 80, 2)].map(async (b) => decodeToRgb(await b)));
      const preds = await model.predict(imgs);
      assert.equal(preds.length, 2);
      for (const p of preds) {
        assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        assert.ok(p.cam && p.cam.values.length === p.cam.width * p.cam.height, 'the CAM output is exported');
      }
      await model.release();
      await checkParity(resolveModelDir(out, name));
    }
  });
});
