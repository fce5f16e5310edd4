import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageClassifierModel, readModelSpec } from '@dfd/model-runtime';
import { trainingPython } from './processes.js';

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
  /** Set for an int8 network (training/models/quantize.py): who computed the outputs. */
  reference?: string;
  logits: number[];
  cam: number[];
  cam_shape: number[];
}

interface LegacyReference {
  input_seed: number;
  logits: number[][];
  cam_first8: number[];
  cam_shape: number[];
}

/**
 * Older exports recorded PyTorch's outputs on torch.rand(2,3,H,W, seed 0)*2-1 (first CAM values
 * only). That input is rebuilt here with the same Debian PyTorch and compared the same way.
 */
function legacyParity(ref: LegacyReference, height: number, width: number): Parity {
  const out = join(mkdtempSync(join(tmpdir(), 'dfd-parity-')), 'input.f32');
  const code = `import torch\ng = torch.Generator().manual_seed(${ref.input_seed})\nx = torch.rand(2, 3, ${height}, ${width}, generator=g) * 2 - 1\nopen(${JSON.stringify(out)}, 'wb').write(x.numpy().astype('<f4').tobytes())`;
  const r = spawnSync(trainingPython, ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, `rebuilding the reference input needs Debian's python3-torch: ${r.stderr}`);
  const buf = readFileSync(out);
  legacyInputs.set(ref, new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
  return { batch: 2, logits: ref.logits.flat(), cam: ref.cam_first8, cam_shape: ref.cam_shape };
}
const legacyInputs = new Map<LegacyReference, Float32Array>();

/**
 * An int8 network's reference outputs are onnxruntime's own, recorded when it was quantised (float
 * PyTorch cannot compute them). Integer arithmetic is exact, but the requantisation between layers
 * rounds in float and other CPUs' kernels may round a value to the neighbouring step, so allow a few
 * steps; a kernel that saturated (quantize.py on CPUs without VNNI) would be far outside this.
 */
export const INT8_PARITY_TOLERANCE = 1e-2;

/**
 * Runs the exported model through the serving code and returns the largest differences from its
 * reference outputs: PyTorch's (within `tolerance`), or for an int8 network onnxruntime's at
 * quantisation (within INT8_PARITY_TOLERANCE).
 */
export async function checkParity(dir: string, tolerance = 1e-4): Promise<{ logits: number; cam: number }> {
  const spec = readModelSpec(dir);
  const legacy = (spec.training as { reference_outputs?: LegacyReference } | undefined)?.reference_outputs;
  const parity = (spec.parity as Parity | undefined) ?? (legacy?.input_seed !== undefined ? legacyParity(legacy, spec.preprocessing.height, spec.preprocessing.width) : undefined);
  assert.ok(parity, `${dir}/model.json has no "parity" block (re-export with training/models/train.py)`);
  if (parity.reference) tolerance = Math.max(tolerance, INT8_PARITY_TOLERANCE);
  const model = await ImageClassifierModel.load(dir, { threads: 1 });
  try {
    const { width, height } = spec.preprocessing;
    const input = (legacy && legacyInputs.get(legacy)) ?? parityInput(parity.batch, height, width);
    const compare = async (ref: Parity, session = model.session, what = dir) => {
      const { logits, cam } = await model.runRaw(input, parity.batch, session);
      const got = Array.from(logits.data as Float32Array);
      assert.equal(got.length, ref.logits.length);
      const maxLogit = Math.max(...got.map((v, i) => Math.abs(v - ref.logits[i]!)));
      assert.ok(maxLogit <= tolerance, `${what}: max |logit difference| ${maxLogit}`);
      assert.ok(cam, 'the model exports a CAM');
      assert.deepEqual(cam.dims.map(Number), ref.cam_shape);
      // A legacy reference holds only the first CAM values.
      const camData = Array.from(cam.data as Float32Array).slice(0, ref.cam.length);
      const maxCam = Math.max(...camData.map((v, i) => Math.abs(v - ref.cam[i]!)));
      assert.ok(maxCam <= tolerance, `${what}: max |CAM difference| ${maxCam}`);
      return { logits: maxLogit, cam: maxCam };
    };
    const diff = await compare(parity);
    // A cascade's second network (model.json second_opinion) carries its own PyTorch outputs on the same input.
    const second = spec.second_opinion as { file: string; parity?: Omit<Parity, 'batch'> } | undefined;
    if (second) {
      assert.ok(second.parity && model.secondSession, `${dir}/model.json second_opinion has no "parity" block`);
      const d2 = await compare({ batch: parity.batch, ...second.parity }, model.secondSession, join(dir, second.file));
      return { logits: Math.max(diff.logits, d2.logits), cam: Math.max(diff.cam, d2.cam) };
    }
    return diff;
  } finally {
    await model.release();
  }
}
