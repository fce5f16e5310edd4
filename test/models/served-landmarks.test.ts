import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaceStage } from '@dfd/face';
import { normaliseUpload } from '@dfd/imaging';
import { repoRoot, trainingPython } from '@dfd/test-support/processes';
import { datasetsDir, requireDatasets } from '@dfd/test-support/datasets';

// Training crops a synthetic edit at the landmarks serving would find on it
// (training/models/served_landmarks.py: the shipped landmark graph's weights in PyTorch, the
// landmark crop as preprocess.ts makes it, and the face stage's chain of looks: the detector's box,
// then the box those points give, there and mirrored). Same file, same first crop: the same 68 points.
// The ciplab face's detector box leaves the image, so the zero-padded part of the crop is covered.
const files = ['faces-v1/real/ciplab-real/13e3ac23a9b5.jpg', 'faces-v1/real/ffhq/2e15dea872b8.jpg', 'faces-v2/real/london-faceset/38f3c63cc82d.jpg'];

test('training finds the landmarks the serving face stage finds', { skip: requireDatasets(), timeout: 120_000 }, async (t) => {
  const stage = await FaceStage.load(join(repoRoot, 'models'), { threads: 1 });
  let leavesImage = 0;
  for (const f of files) {
    const path = join(datasetsDir, f);
    const { image } = await normaliseUpload(await readFile(path));
    const [face] = await stage.detect(image);
    assert.ok(face, `a face in ${f}`);
    const c = face.landmarkCrop;
    if (c.x < 0 || c.y < 0 || c.x + c.width > image.width || c.y + c.height > image.height) leavesImage++;
    const r = spawnSync(trainingPython, [join(repoRoot, 'training/models/served_landmarks.py'), path, JSON.stringify(c)],
      { encoding: 'utf8', cwd: join(repoRoot, 'training/models') });
    assert.equal(r.status, 0, r.stderr);
    const py = JSON.parse(r.stdout) as Array<[number, number]>;
    assert.equal(py.length, 68);
    const maxDiff = Math.max(...face.landmarks.flatMap(([x, y], i) => [Math.abs(x - py[i]![0]), Math.abs(y - py[i]![1])]));
    t.diagnostic(`${f}: crop ${JSON.stringify(c)}, max |Δ| ${maxDiff.toFixed(4)} px`);
    assert.ok(maxDiff < 0.05, `${f}: landmarks differ by ${maxDiff} px`);
  }
  assert.ok(leavesImage >= 1, 'one crop leaves the image');
});
