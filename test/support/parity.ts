import assert from 'node:assert/strict';
import { ImageClassifierModel, readModelSpec } from '@dfd/model-runtime';

/**
 * The fixed input both sides build without sharing a random generator:
 * x[i] = sin(0.00731 * i + 0.5) over the flattened [N,3,H,W] tensor (double, stored as float32).
 * training/models/train.py writes PyTorch's outputs on it into model.json ("parity").
 */
export function parityInput(batch: number, height: number, width: number): Float32Array {
  const n = batch * 3 * height * width;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(0.00731 * i + 0.5);
  return x;
}

interface Parity {
  batch: number;
  logits: number[];
  cam: number[];
  cam_shape: number[];
}

/** Runs the exported model through the serving code and returns the largest differences from PyTorch. */
export async function checkParity(dir: string, tolerance = 1e-4): Promise<{ logits: number; cam: number }> {
  const spec = readModelSpec(dir);
  const parity = spec.parity as Parity | undefined;
  assert.ok(parity, `${dir}/model.json has no "parity" block (re-export with training/models/train.py)`);
  const model = await ImageClassifierModel.load(dir, { threads: 1 });
  try {
    const { width, height } = spec.preprocessing;
    const { logits, cam } = await model.runRaw(parityInput(parity.batch, height, width), parity.batch);
    const got = Array.from(logits.data as Float32Array);
    assert.equal(got.length, parity.logits.length);
    const maxLogit = Math.max(...got.map((v, i) => Math.abs(v - parity.logits[i]!)));
    assert.ok(maxLogit <= tolerance, `${dir}: max |logit difference| ${maxLogit}`);
    assert.ok(cam, 'the model exports a CAM');
    assert.deepEqual(cam.dims.map(Number), parity.cam_shape);
    const camData = Array.from(cam.data as Float32Array);
    const maxCam = Math.max(...camData.map((v, i) => Math.abs(v - parity.cam[i]!)));
    assert.ok(maxCam <= tolerance, `${dir}: max |CAM difference| ${maxCam}`);
    return { logits: maxLogit, cam: maxCam };
  } finally {
    await model.release();
  }
}
