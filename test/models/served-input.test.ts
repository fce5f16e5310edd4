import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faceCropOf } from '@dfd/analysis';
import { FaceStage } from '@dfd/face';
import { normaliseUpload } from '@dfd/imaging';
import { ImageClassifierModel, resolveModelDir } from '@dfd/model-runtime';
import { readFile } from 'node:fs/promises';
import { repoRoot, trainingPython } from '@dfd/test-support/processes';
import { datasetsDir, requireDatasets } from '@dfd/test-support/datasets';

// One preprocessing definition: the tensor training computes (training/models/served.py) and the
// tensor the detector feeds onnxruntime for the same uploaded file agree within 1/255.
const files = ['faces-v1/real/ffhq/2e15dea872b8.jpg', 'faces-v1/deepfake/stylegan1/fdd6b4540b39.jpg', 'faces-v2/real/london-faceset/38f3c63cc82d.jpg'];

test('training and serving build the same model input for the same file', { skip: requireDatasets() }, async (t) => {
  const modelsDir = process.env.DFD_MODELS_DIR ?? join(repoRoot, 'models');
  const detector = await ImageClassifierModel.load(resolveModelDir(modelsDir, 'detector'), { threads: 1 });
  const stage = await FaceStage.load(modelsDir, { threads: 1 });
  const crop = faceCropOf(detector);
  const tmp = mkdtempSync(join(tmpdir(), 'dfd-served-input-'));
  try {
    for (const f of files) {
      const path = join(datasetsDir, f);
      const upload = await normaliseUpload(await readFile(path));
      const faces = await stage.detect(upload.image);
      assert.ok(faces.length >= 1, `a face in ${f}`);
      const region = stage.alignedCrop(upload.image, faces[0]!, crop.size, crop.template5 ?? undefined).image;
      const served = await detector.preprocess([region]);
      const out = join(tmp, 'x.f32');
      const r = spawnSync(trainingPython,
        [join(repoRoot, 'training/models/served_input.py'), join(detector.dir, 'model.json'), path, JSON.stringify(faces[0]!.landmarks), out],
        { encoding: 'utf8', cwd: join(repoRoot, 'training/models') });
      assert.equal(r.status, 0, r.stderr);
      const trained = new Float32Array(readFileSync(out).buffer.slice(0));
      assert.equal(trained.length, served.length);
      let max = 0;
      let differing = 0;
      for (let i = 0; i < served.length; i++) {
        const d = Math.abs(served[i]! - trained[i]!);
        max = Math.max(max, d);
        if (d > 0.5 / 255) differing++;
      }
      t.diagnostic(`${f}: max |Δ| ${(max * 255).toFixed(2)}/255, ${differing} of ${served.length} values differ`);
      assert.ok(max <= 1 / 255 + 1e-6, `${f}: max |Δ| ${(max * 255).toFixed(3)}/255 exceeds 1/255`);
    }
  } finally {
    await detector.release();
  }
});
