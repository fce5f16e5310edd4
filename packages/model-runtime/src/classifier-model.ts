import { join } from 'node:path';
import { resizeRgb, type RgbImage } from '@dfd/imaging';
import { float32Scratch } from './scratch.js';
import { createSession, ort } from './session.js';
import { readModelSpec, sha256File, ModelSpecError, type ModelSpec } from './spec.js';

/**
 * Class activation map of the positive class, row-major, min-max scaled to 0..1. For two-class
 * models it is the per-cell logit difference (positive minus the other class), the quantity the
 * softmax turns into the score, so the hottest cell is the one that pushed the score up most.
 */
export interface ActivationMap {
  width: number;
  height: number;
  values: number[];
}

export interface Prediction {
  probabilities: number[];
  /** Probability of the model's positive label. */
  score: number;
  cam: ActivationMap | null;
}

function softmax(logits: ArrayLike<number>, offset: number, n: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[offset + i]!);
  const exps: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[offset + i]! - max);
    exps.push(e);
    sum += e;
  }
  return exps.map((e) => e / sum);
}

interface RawOutputs {
  logits: Float32Array;
  classes: number;
  cam: Float32Array | null;
  camDims: [number, number, number, number] | null;
}

/** The inputs `pick` of an NCHW batch, each mirrored left to right. */
function mirrorPlanes(input: Float32Array, pick: number[], W: number, H: number): Float32Array {
  const per = 3 * W * H;
  const out = float32Scratch.take(pick.length * per);
  pick.forEach((n, k) => {
    // Row by row: a native copy and reverse, about twice as fast as an element loop.
    for (let row = 0; row < 3 * H; row++) {
      const src = n * per + row * W;
      const dst = k * per + row * W;
      out.set(input.subarray(src, src + W), dst);
      out.subarray(dst, dst + W).reverse();
    }
  });
  return out;
}

/** raw[n] := mean(raw[n], mirrored[k]), the mirrored map flipped back first. */
function averageMirrored(raw: RawOutputs, n: number, mirrored: RawOutputs, k: number): void {
  for (let c = 0; c < raw.classes; c++) {
    raw.logits[n * raw.classes + c] = (raw.logits[n * raw.classes + c]! + mirrored.logits[k * raw.classes + c]!) / 2;
  }
  if (!raw.cam || !raw.camDims || !mirrored.cam) return;
  const [, C, h, w] = raw.camDims;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const a = ((n * C + c) * h + y) * w;
      const b = ((k * C + c) * h + y) * w;
      for (let x = 0; x < w; x++) raw.cam[a + x] = (raw.cam[a + x]! + mirrored.cam[b + w - 1 - x]!) / 2;
    }
  }
}

/** The inputs `pick` of an NCHW batch, in that order. */
function pickPlanes(input: Float32Array, pick: number[], W: number, H: number): Float32Array {
  const per = 3 * W * H;
  const out = float32Scratch.take(pick.length * per);
  pick.forEach((n, k) => out.set(input.subarray(n * per, (n + 1) * per), k * per));
  return out;
}

/** raw[n] := (1 - weight) * raw[n] + weight * second[k], logits and map alike. */
function blendSecond(raw: RawOutputs, n: number, second: RawOutputs, k: number, weight: number): void {
  for (let c = 0; c < raw.classes; c++) {
    const i = n * raw.classes + c;
    raw.logits[i] = (1 - weight) * raw.logits[i]! + weight * second.logits[k * raw.classes + c]!;
  }
  if (!raw.cam || !raw.camDims || !second.cam) return;
  const [, C, h, w] = raw.camDims;
  const plane = C * h * w;
  for (let j = 0; j < plane; j++) raw.cam[n * plane + j] = (1 - weight) * raw.cam[n * plane + j]! + weight * second.cam[k * plane + j]!;
}

/** How many inputs `predict` scored and how many of them paid each extra run, since the model loaded. */
export interface PredictUsage {
  inputs: number;
  /** Inputs run again mirrored (`mirror_average`). */
  mirrored: number;
  /** Inputs also run through the second network (`second_opinion`). */
  secondOpinion: number;
}

/**
 * An image classifier described by a model.json: does the preprocessing the spec asks for,
 * runs the ONNX session and reads softmax scores and the class activation map.
 */
export class ImageClassifierModel {
  /** Counted so that `npm run eval` can report the served share of faces that take the extra runs (what a face costs). */
  readonly usage: PredictUsage = { inputs: 0, mirrored: 0, secondOpinion: 0 };

  private constructor(
    readonly spec: ModelSpec,
    readonly dir: string,
    readonly session: ort.InferenceSession,
    readonly sha256: string,
    /** The second network of `second_opinion` in model.json, when there is one. */
    readonly secondSession: ort.InferenceSession | null = null,
  ) {}

  static async load(dir: string, opts: { threads: number; verifyChecksum?: boolean }): Promise<ImageClassifierModel> {
    const spec = readModelSpec(dir);
    /** The file's sha256, refused when model.json (`where`) records another. */
    const checked = (file: string, expected: string | undefined, where: string): string => {
      const path = join(dir, file);
      const sha = sha256File(path);
      if ((opts.verifyChecksum ?? true) && expected && expected !== sha) {
        throw new ModelSpecError(`${path}: sha256 ${sha} does not match ${where} (${expected})`);
      }
      return sha;
    };
    const sha = checked(spec.file, spec.sha256, 'model.json');
    const second = spec.second_opinion;
    const secondSession = second
      ? (checked(second.file, second.sha256, 'model.json second_opinion'), await createSession(join(dir, second.file), opts.threads))
      : null;
    const session = await createSession(join(dir, spec.file), opts.threads);
    return new ImageClassifierModel(spec, dir, session, sha, secondSession);
  }

  get positiveIndex(): number {
    return this.spec.labels.indexOf(this.spec.positive_label);
  }

  /**
   * Input value per channel and byte, (byte * scale - mean) / std as model.json describes, in
   * channel order: a table lookup per element is three times cheaper than the arithmetic, and
   * gives the same float32 values.
   */
  private get inputTable(): Float32Array {
    if (!this.table) {
      const { mean, std, scale } = this.spec.preprocessing;
      this.table = new Float32Array(3 * 256);
      for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) this.table[c * 256 + v] = (v * scale - mean[c]!) / std[c]!;
    }
    return this.table;
  }
  private table: Float32Array | undefined;

  /** NCHW float32 for a batch, exactly as model.json describes (written into `out` when given). */
  async preprocess(images: RgbImage[], out?: Float32Array): Promise<Float32Array> {
    const { width: W, height: H, channel_order } = this.spec.preprocessing;
    const plane = W * H;
    out ??= new Float32Array(images.length * 3 * plane);
    // Face crops come at the model's size already; resizeRgb hands those back untouched.
    const resized = await Promise.all(images.map((img) => resizeRgb(img, W, H)));
    const [r, g, b] = channel_order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
    const t = this.inputTable;
    resized.forEach((px, n) => {
      const base = n * 3 * plane;
      for (let i = 0, p = 0; i < plane; i++, p += 3) {
        out[base + i] = t[px[p + r]!]!;
        out[base + plane + i] = t[256 + px[p + g]!]!;
        out[base + 2 * plane + i] = t[512 + px[p + b]!]!;
      }
    });
    return out;
  }

  /** The model's raw outputs (logits [N,C], CAM [N,C,h,w]) for an already preprocessed batch. */
  async runRaw(input: Float32Array, batch: number, session = this.session): Promise<{ logits: ort.Tensor; cam: ort.Tensor | undefined }> {
    const { width: W, height: H } = this.spec.preprocessing;
    const inputName = session.inputNames[0]!;
    const feeds = { [inputName]: new ort.Tensor('float32', input, [batch, 3, H, W]) };
    const result = await session.run(feeds);
    const logits = result[session.outputNames[0]!]!;
    const cam = session.outputNames.length > 1 ? result[session.outputNames[1]!] : undefined;
    return { logits, cam };
  }

  /** Runs the session on an already preprocessed batch. */
  async runTensor(input: Float32Array, batch: number): Promise<Prediction[]> {
    return this.decode(await this.outputs(input, batch), batch);
  }

  private async outputs(input: Float32Array, batch: number, session = this.session): Promise<RawOutputs> {
    const { logits, cam } = await this.runRaw(input, batch, session);
    return {
      logits: logits.data as Float32Array,
      classes: Number(logits.dims[1]),
      cam: cam ? (cam.data as Float32Array) : null,
      camDims: cam ? (cam.dims.map(Number) as [number, number, number, number]) : null,
    };
  }

  private decode(raw: RawOutputs, batch: number): Prediction[] {
    const { logits: logitData, classes } = raw;
    const pos = this.positiveIndex;
    const preds: Prediction[] = [];
    for (let n = 0; n < batch; n++) {
      const probabilities = softmax(logitData, n * classes, classes);
      let cam: ActivationMap | null = null;
      if (raw.cam && raw.camDims) {
        const [, c, h, w] = raw.camDims;
        const data = raw.cam;
        const start = (n * c + pos) * h * w;
        const slice = Array.from(data.subarray(start, start + h * w));
        if (c === 2) {
          const other = (n * c + (1 - pos)) * h * w;
          for (let i = 0; i < slice.length; i++) slice[i] = slice[i]! - data[other + i]!;
        }
        const lo = Math.min(...slice);
        const hi = Math.max(...slice);
        cam = { width: w, height: h, values: slice.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0)) };
      }
      preds.push({ probabilities, score: probabilities[pos]!, cam });
    }
    return preds;
  }

  /**
   * Predictions after the model's own postprocessing, decided on the plain score (the first
   * run's) unless said otherwise, as training calibrated them:
   * - `mirror_average`: an input whose score lies within `within` of the threshold is run again
   *   mirrored, and its logits and map are the mean of the two (the mirrored map flipped back): a
   *   verdict near the threshold then does not depend on which way the face looks;
   * - `second_opinion`: an input within its `within` is also run through the second network
   *   (plain and mirrored, averaged as above, when its `mirror_average` is true: its window is
   *   then decided on the score after the mirror step), and its logits and map are blended with
   *   the second's by `weight`.
   * Only those inputs pay the extra runs.
   */
  async predict(images: RgbImage[]): Promise<Prediction[]> {
    if (images.length === 0) return [];
    const { width: W, height: H } = this.spec.preprocessing;
    const input = await this.preprocess(images, float32Scratch.take(images.length * 3 * W * H));
    const spent: Float32Array[] = [input];
    try {
      return await this.postprocessed(images.length, input, spent);
    } finally {
      float32Scratch.give(...spent);
    }
  }

  /** predict() past preprocessing; every input buffer it makes goes into `spent`, for the pool. */
  private async postprocessed(count: number, input: Float32Array, spent: Float32Array[]): Promise<Prediction[]> {
    const raw = await this.outputs(input, count);
    const { width: W, height: H } = this.spec.preprocessing;
    const scores = () => Array.from({ length: count }, (_, n) => softmax(raw.logits, n * raw.classes, raw.classes)[this.positiveIndex]!);
    const near = (within: number | undefined, score: number[]) =>
      within ? score.flatMap((s, n) => (Math.abs(s - this.spec.threshold) <= within ? [n] : [])) : [];
    const plain = scores();
    const again = near(this.spec.mirror_average?.within, plain);
    this.usage.inputs += count;
    this.usage.mirrored += again.length;
    if (again.length > 0) {
      const planes = mirrorPlanes(input, again, W, H);
      spent.push(planes);
      const mirrored = await this.outputs(planes, again.length);
      again.forEach((n, k) => averageMirrored(raw, n, mirrored, k));
    }
    const second = this.spec.second_opinion;
    // A mirror-averaged second opinion is decided on the score after the mirror step, so that a
    // face and its mirror image are consulted alike.
    const consult = this.secondSession && second ? near(second.within, second.mirror_average && again.length > 0 ? scores() : plain) : [];
    this.usage.secondOpinion += consult.length;
    if (consult.length > 0) {
      const picked = pickPlanes(input, consult, W, H);
      spent.push(picked);
      const other = await this.outputs(picked, consult.length, this.secondSession!);
      const same = other.classes === raw.classes && (raw.camDims === null || other.camDims?.slice(1).join() === raw.camDims.slice(1).join());
      if (!same) throw new ModelSpecError(`${join(this.dir, second!.file)}: outputs [${other.classes}] / [${other.camDims?.join()}] do not match the model's [${raw.classes}] / [${raw.camDims?.join()}]`);
      if (second!.mirror_average) {
        const planes = mirrorPlanes(input, consult, W, H);
        spent.push(planes);
        const mirrored = await this.outputs(planes, consult.length, this.secondSession!);
        consult.forEach((_, k) => averageMirrored(other, k, mirrored, k));
      }
      consult.forEach((n, k) => blendSecond(raw, n, other, k, second!.weight));
    }
    return this.decode(raw, count);
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.secondSession?.release();
  }
}
