import { createHash } from 'node:crypto';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The model.json that lives beside every model.onnx: how to feed it and how to read it. */
export interface ModelSpec {
  name: string;
  version: string;
  description?: string;
  file: string;
  sha256: string;
  inputs: Array<{ name: string; datatype: string; shape: number[] }>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  preprocessing: {
    width: number;
    height: number;
    resize: string;
    channel_order: 'RGB' | 'BGR';
    layout: 'NCHW' | 'NHWC';
    scale: number;
    mean: [number, number, number];
    std: [number, number, number];
    /**
     * The aligned face crop the model was trained on (training/models/served.py writes it): five
     * points (eye centres, nose tip, mouth corners) as fractions of the crop side, and the side.
     */
    face_crop?: { template5: Array<[number, number]>; size: number };
  };
  labels: string[];
  positive_label: string;
  threshold: number;
  uncertain_band: [number, number];
  /**
   * Postprocessing: an input scoring within `within` of the threshold is scored again mirrored
   * and the two are averaged (logits and map). Calibrated that way in training.
   */
  mirror_average?: { within: number };
  /**
   * Postprocessing: an input whose plain score lies within `within` of the threshold is also run
   * through a second network (`file`, beside model.onnx, the same input tensor and output
   * shapes), and the logits and maps become (1 - weight) * this model's (mirror-averaged where
   * that applies) + weight * the second's. A cascade: only the hard cases pay for the second
   * network. With `mirror_average` true the second network's logits and map are themselves the
   * mean of the input's and its mirror image's, and the window is decided on this model's score
   * after its own mirror averaging, so with both mirror-averaged on every face the verdict does
   * not depend on which way the face looks. Calibrated that way in training
   * (training/models/ensemble.py --cascade [--second-mirror]).
   */
  second_opinion?: SecondOpinion;
  /**
   * What an answer's confidence is read from: the probability that the input is the positive
   * label given its score, measured on validation (training/models/train.py fit_confidence).
   */
  confidence?: ConfidenceMap;
  metrics?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface SecondOpinion {
  file: string;
  sha256: string;
  weight: number;
  within: number;
  mirror_average?: boolean;
}

/**
 * P(positive label | score) as knots [score, probability], scores increasing and probabilities
 * non-decreasing, joined by straight lines and flat beyond the ends. `prior_edited` is the share
 * of positives it assumes: the base rate at which `threshold` (the model's own) is even odds.
 */
export interface ConfidenceMap {
  knots: Array<[number, number]>;
  prior_edited: number;
  threshold?: number;
  method?: string;
  n?: number;
  fitted_on?: string;
}

/** The calibrated probability of the positive label for a score (see ConfidenceMap). */
export function editedProbability(map: ConfidenceMap, score: number): number {
  const k = map.knots;
  if (score <= k[0]![0]) return k[0]![1];
  for (let i = 1; i < k.length; i++) {
    const [s1, p1] = k[i]!;
    if (score <= s1) {
      const [s0, p0] = k[i - 1]!;
      return p0 + ((p1 - p0) * (score - s0)) / (s1 - s0);
    }
  }
  return k[k.length - 1]![1];
}

function confidenceMapProblem(map: ConfidenceMap): string | null {
  const k = map.knots;
  if (!Array.isArray(k) || k.length === 0) return 'confidence.knots must be a non-empty list of [score, probability]';
  for (let i = 0; i < k.length; i++) {
    const knot = k[i];
    if (!Array.isArray(knot) || knot.length !== 2 || !knot.every((v) => typeof v === 'number' && v >= 0 && v <= 1)) {
      return `confidence.knots[${i}] must be [score, probability], both in [0, 1]`;
    }
    if (i > 0 && !(knot[0] > k[i - 1]![0])) return 'confidence.knots must have increasing scores';
    if (i > 0 && knot[1] < k[i - 1]![1]) return 'confidence.knots must have non-decreasing probabilities';
  }
  if (!(typeof map.prior_edited === 'number' && map.prior_edited > 0 && map.prior_edited < 1)) return 'confidence.prior_edited must be a number in (0, 1)';
  return null;
}

export class ModelSpecError extends Error {}

/** A model's answer for one input after its own model.json threshold and uncertain band. */
export interface LabelDecision {
  /** The decided label, or 'uncertain' inside the band. */
  label: string;
  /** Probability per label name. */
  scores: Record<string, number>;
  threshold: number;
  band: [number, number];
}

/**
 * The postprocessing step of every served model (KServe's postprocess): the positive label at or
 * above the calibrated threshold and above the band, the other label below both, 'uncertain' in
 * between. Model servers and in-process callers use this one rule; no caller restates a number.
 */
export function decideLabel(spec: ModelSpec, probabilities: number[]): LabelDecision {
  const scores: Record<string, number> = {};
  spec.labels.forEach((l, i) => (scores[l] = probabilities[i]!));
  const p = scores[spec.positive_label]!;
  const negative = spec.labels.find((l) => l !== spec.positive_label)!;
  const [lo, hi] = spec.uncertain_band;
  const label = p >= spec.threshold && p > hi ? spec.positive_label : p < spec.threshold && p < lo ? negative : 'uncertain';
  return { label, scores, threshold: spec.threshold, band: [lo, hi] };
}

function fail(dir: string, msg: string): never {
  throw new ModelSpecError(`${join(dir, 'model.json')}: ${msg}`);
}

export function readModelSpec(dir: string): ModelSpec {
  const path = join(dir, 'model.json');
  if (!existsSync(path)) fail(dir, 'missing');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as ModelSpec;
  for (const key of ['name', 'version', 'file', 'preprocessing', 'labels', 'positive_label', 'threshold', 'uncertain_band'] as const) {
    if (spec[key] === undefined) fail(dir, `field "${key}" is missing`);
  }
  const p = spec.preprocessing;
  if (!(p.width > 0 && p.height > 0)) fail(dir, 'preprocessing width/height must be positive');
  if (p.mean?.length !== 3 || p.std?.length !== 3) fail(dir, 'preprocessing mean/std need 3 values');
  if (!spec.labels.includes(spec.positive_label)) fail(dir, `positive_label "${spec.positive_label}" is not one of labels`);
  const [lo, hi] = spec.uncertain_band;
  if (!(lo <= spec.threshold && spec.threshold <= hi)) fail(dir, 'uncertain_band must contain threshold');
  const within = spec.mirror_average?.within;
  if (spec.mirror_average !== undefined && !(typeof within === 'number' && within > 0 && within <= 1)) fail(dir, 'mirror_average.within must be a number in (0, 1]');
  if (spec.confidence !== undefined) {
    const problem = confidenceMapProblem(spec.confidence);
    if (problem) fail(dir, problem);
  }
  const second = spec.second_opinion;
  if (second !== undefined) {
    if (!(typeof second.file === 'string' && second.file.length > 0 && second.file !== spec.file)) fail(dir, 'second_opinion.file must name a file other than the model\'s own');
    if (!(typeof second.sha256 === 'string' && /^[0-9a-f]{64}$/.test(second.sha256))) fail(dir, 'second_opinion.sha256 must be a sha256 in hex');
    if (!(typeof second.weight === 'number' && second.weight > 0 && second.weight < 1)) fail(dir, 'second_opinion.weight must be a number in (0, 1)');
    if (!(typeof second.within === 'number' && second.within > 0 && second.within <= 1)) fail(dir, 'second_opinion.within must be a number in (0, 1]');
    if (second.mirror_average !== undefined && typeof second.mirror_average !== 'boolean') fail(dir, 'second_opinion.mirror_average must be true or false');
  }
  return spec;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Picks models/<name>/<version>: the highest semantic version unless one is named. */
export function resolveModelDir(modelsDir: string, name: string, version?: string): string {
  const base = join(modelsDir, name);
  if (version) return join(base, version);
  if (!existsSync(base)) throw new ModelSpecError(`no model "${name}" under ${modelsDir}`);
  const versions = readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, 'model.json')))
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const latest = versions.at(-1);
  if (!latest) throw new ModelSpecError(`no version of "${name}" under ${base}`);
  return join(base, latest);
}
