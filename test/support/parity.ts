import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageClassifierModel, ort, readModelSpec, sessionOptions } from '@dfd/model-runtime';
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
 * How far an int8 network's outputs may move from a reference computed another way: its recorded
 * outputs (onnxruntime's own, recorded when it was quantised: float PyTorch cannot compute them)
 * on another CPU, or its QDQ graph run in float. Integer arithmetic is exact, but requantisation
 * between layers rounds in float, and a value on the edge of a step can land on the neighbouring
 * step, which the next layers carry on. Measured against the QDQ graph on an AVX2-only AMD EPYC
 * with 7-bit weights (detector / classifier 2.5.1): logits 0.011 / 0.016, CAM 0.043 / 0.068.
 * Full-range weights, whose u8 x s8 pair sums saturate there (2.5.0): logits 0.19 / 0.25, CAM
 * 0.44 / 0.71, far outside.
 */
export const INT8_TOLERANCE = { logits: 0.05, cam: 0.15 };

/**
 * Runs the exported model through the serving code and returns the largest differences from its
 * reference outputs: PyTorch's (within `tolerance`), or for an int8 network onnxruntime's at
 * quantisation (within INT8_TOLERANCE).
 */
export async function checkParity(dir: string, tolerance = 1e-4): Promise<{ logits: number; cam: number }> {
  const spec = readModelSpec(dir);
  const legacy = (spec.training as { reference_outputs?: LegacyReference } | undefined)?.reference_outputs;
  const parity = (spec.parity as Parity | undefined) ?? (legacy?.input_seed !== undefined ? legacyParity(legacy, spec.preprocessing.height, spec.preprocessing.width) : undefined);
  assert.ok(parity, `${dir}/model.json has no "parity" block (re-export with training/models/train.py)`);
  // Each reference is judged by who made it: an int8 network's recorded onnxruntime outputs within
  // INT8_TOLERANCE; PyTorch's within `tolerance`, or within 1e-2 for a float second network beside
  // an int8 base (the bound both networks of such a cascade were checked against before).
  const tolOf = (ref: Parity) =>
    ref.reference ? INT8_TOLERANCE : parity.reference ? { logits: 1e-2, cam: 1e-2 } : { logits: tolerance, cam: tolerance };
  const model = await ImageClassifierModel.load(dir, { threads: 1 });
  try {
    const { width, height } = spec.preprocessing;
    const input = (legacy && legacyInputs.get(legacy)) ?? parityInput(parity.batch, height, width);
    const compare = async (ref: Parity, session = model.session, what = dir) => {
      const tol = tolOf(ref);
      const { logits, cam } = await model.runRaw(input, parity.batch, session);
      const got = Array.from(logits.data as Float32Array);
      assert.equal(got.length, ref.logits.length);
      const maxLogit = Math.max(...got.map((v, i) => Math.abs(v - ref.logits[i]!)));
      assert.ok(maxLogit <= tol.logits, `${what}: max |logit difference| ${maxLogit}`);
      assert.ok(cam, 'the model exports a CAM');
      assert.deepEqual(cam.dims.map(Number), ref.cam_shape);
      // A legacy reference holds only the first CAM values.
      const camData = Array.from(cam.data as Float32Array).slice(0, ref.cam.length);
      const maxCam = Math.max(...camData.map((v, i) => Math.abs(v - ref.cam[i]!)));
      assert.ok(maxCam <= tol.cam, `${what}: max |CAM difference| ${maxCam}`);
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

/**
 * An int8 network (model.json `quantization`) run as served, with onnxruntime's fused integer
 * kernels, against the same file with graph optimisations off: then every DequantizeLinear ->
 * Conv -> QuantizeLinear runs as written, in float, which no CPU's integer kernels can change.
 * Agreement (within INT8_TOLERANCE) means the verdicts do not depend on the CPU that
 * serves them; a kernel that saturates (u8 x s8 pair sums over 16 bits on x86 without VNNI, with
 * full-range weights) is far outside it. Returns the largest differences of each network's logits
 * and CAM on the parity input (a cascade's second network too, when it is int8).
 */
export async function checkInt8AgainstQdq(dir: string): Promise<Array<{ file: string; logits: number; cam: number }>> {
  const spec = readModelSpec(dir);
  const { width, height } = spec.preprocessing;
  const second = spec.second_opinion as { file: string; quantization?: { kept_float?: string } } | undefined;
  const files = [
    ...((spec as { quantization?: unknown }).quantization ? [spec.file] : []),
    ...(second?.quantization && !second.quantization.kept_float ? [second.file] : []),
  ];
  const input = parityInput(2, height, width);
  const out: Array<{ file: string; logits: number; cam: number }> = [];
  for (const file of files) {
    const path = join(dir, file);
    const run = async (graphOptimizationLevel: 'all' | 'disabled') => {
      const session = await ort.InferenceSession.create(path, { ...sessionOptions(1), graphOptimizationLevel });
      try {
        const r = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [2, 3, height, width]) });
        return session.outputNames.map((n) => Array.from(r[n]!.data as Float32Array));
      } finally {
        await session.release();
      }
    };
    const [fused, qdq] = [await run('all'), await run('disabled')];
    const maxDiff = (k: number) => Math.max(...fused[k]!.map((v, i) => Math.abs(v - qdq[k]![i]!)));
    const d = { file: path, logits: maxDiff(0), cam: fused.length > 1 ? maxDiff(1) : 0 };
    assert.ok(d.logits <= INT8_TOLERANCE.logits && d.cam <= INT8_TOLERANCE.cam,
      `${path}: onnxruntime's integer kernels on this CPU differ from the network's QDQ graph by up to ${d.logits} (logits) / ${d.cam} (CAM): the int8 weights overflow this CPU's kernels (see training/models/quantize.py)`);
    out.push(d);
  }
  return out;
}
