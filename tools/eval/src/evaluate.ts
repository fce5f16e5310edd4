import { readFile } from 'node:fs/promises';
import { analysisInput, createAnalyser } from '@dfd/analysis';
import { normaliseUpload, decodeToRgb, type RgbImage } from '@dfd/imaging';
import type { AnalysisResult, Verdict } from '@dfd/jobs';
import type { Sample } from './dataset.js';
import { aucSubsets, groupBootstrap, groupOrImage, percentileInterval, weightedAuc, type WeightedStatistic } from './bootstrap.js';
import { binaryMetrics, reliability, rocAuc, rocCurve } from './metrics.js';
import type { EvalReport, RobustnessFigures } from './report.js';
import { laplacianVariance } from './sharpness.js';
import { transformFile, type TransformName } from './transforms.js';

export interface EvaluateOptions {
  modelsDir: string;
  cropFaces: boolean;
  threads: number;
  concurrency: number;
  datasetName: string;
  split: string | null;
  /** Re-run every image under these transforms (robustness figures). */
  transforms?: TransformName[];
  /** Edited source -> the real sources of its own domain (training/models/source-domains.json). */
  domains?: Record<string, string[]>;
  onProgress?: (done: number, total: number) => void;
}

interface Judged {
  edited: number;
  verdict: Verdict;
}

export interface Row extends Judged {
  sample: Sample;
  /** The answer's confidence as served (see packages/analysis decide). */
  confidence: number;
  /** The edit type the product reported (null unless the detector flagged the image and the classifier decided). */
  editType: 'deepfake' | 'retouched' | null;
  /** The classifier was asked (the detector's score reached its threshold on some face). */
  flagged: boolean;
  sharpness: number;
  faceFound: boolean;
  /** Pointing game: the hottest heatmap cell falls inside the edit mask (null: no mask or no heatmap). */
  pointingHit: boolean | null;
  transformed: Partial<Record<TransformName, Judged>>;
}

const median = (v: number[]): number | null => {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const BOOTSTRAP_RESAMPLES = 1000;

/**
 * 95 % intervals of the overall AUC and of each edited source's AUC against all reals, from one
 * bootstrap over the manifests' groups (an image without a group is its own).
 */
function intervalsOf(rows: Row[], y: number[], s: number[]): EvalReport['detector']['auc_intervals'] {
  const groups = rows.map((r) => groupOrImage(r.sample.file, r.sample.group));
  const subsets = aucSubsets(rows.map((r) => r.sample));
  const stats: Record<string, WeightedStatistic> = Object.fromEntries(Object.entries(subsets).map(([k, index]) => [k, weightedAuc(s, y, index)]));
  const { all: overall, ...perSource } = groupBootstrap(groups, stats, { resamples: BOOTSTRAP_RESAMPLES });
  return {
    level: 0.95,
    resamples: BOOTSTRAP_RESAMPLES,
    unit: rows.some((r) => r.sample.group) ? 'groups' : 'images',
    groups: new Set(groups).size,
    overall: percentileInterval(overall!),
    per_source: Object.fromEntries(Object.entries(perSource).map(([k, v]) => [k, percentileInterval(v)])),
  };
}

/** Where the hottest cell of the result's heatmap lands in the working image; null without a heatmap. */
export function hottestPoint(result: AnalysisResult): [number, number] | null {
  const h = result.heatmap;
  if (!h || h.values.length === 0) return null;
  let best = 0;
  for (let i = 1; i < h.values.length; i++) if (h.values[i]! > h.values[best]!) best = i;
  const gx = (best % h.width) + 0.5;
  const gy = Math.floor(best / h.width) + 0.5;
  const [a, b, c, d, e, f] = h.to_image as [number, number, number, number, number, number];
  return [a * gx + b * gy + c, d * gx + e * gy + f];
}

function maskHit(mask: RgbImage, point: [number, number], image: { width: number; height: number }): boolean {
  // The mask is drawn on the file's pixels; the working image may be scaled down from them.
  const x = Math.floor((point[0] * mask.width) / image.width);
  const y = Math.floor((point[1] * mask.height) / image.height);
  if (x < 0 || y < 0 || x >= mask.width || y >= mask.height) return false;
  return mask.data[(y * mask.width + x) * 3]! > 127;
}

/**
 * Runs every sample through the production path: the gateway's normalisation, then the Analyser
 * the detector runs (face stage, served crop, decision rule, the classifier only on flagged faces,
 * deciding with its own model.json), built by the same createAnalyser.
 */
export async function evaluate(samples: Sample[], opts: EvaluateOptions): Promise<{ report: EvalReport; roc: Array<[number, number]>; rows: Row[] }> {
  const started = performance.now();
  const loaded = await createAnalyser(opts.modelsDir, { threads: opts.threads, faceStage: opts.cropFaces, classify: 'local', batch: { maxBatch: 8, maxWaitMs: 2 } });
  if (opts.cropFaces && loaded.faceError) throw new Error(`face stage unavailable: ${loaded.faceError}`);
  const { analyser, detector } = loaded;
  const rule = { threshold: detector.spec.threshold, band: detector.spec.uncertain_band };
  const transforms = opts.transforms ?? [];
  const models = new Map<string, { name: string; version: string; sha256: string }>();

  const judge = async (file: Buffer, requestId: string) => {
    const upload = await normaliseUpload(file);
    const result = await analyser.analyse(upload.image, analysisInput(upload, { crop_faces: opts.cropFaces }, requestId), 0);
    for (const m of result.models) models.set(m.name, m);
    return { upload, result };
  };

  const rows: Row[] = [];
  const failed: Array<{ file: string; error: string }> = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= samples.length) return;
      const sample = samples[i]!;
      try {
        const file = await readFile(sample.path);
        const { upload, result } = await judge(file, sample.file);
        let pointingHit: boolean | null = null;
        const point = hottestPoint(result);
        if (sample.mask && point && sample.label !== 'real') pointingHit = maskHit(await decodeToRgb(sample.mask), point, upload.image);
        const row: Row = {
          sample,
          edited: result.scores.edited,
          verdict: result.verdict,
          confidence: result.confidence,
          editType: result.edit_type,
          flagged: result.scores.deepfake !== null,
          sharpness: laplacianVariance(upload.image),
          faceFound: result.faces.length > 0,
          pointingHit,
          transformed: {},
        };
        for (const t of transforms) {
          const { result: r } = await judge(await transformFile(file, t), `${sample.file}#${t}`);
          row.transformed[t] = { edited: r.scores.edited, verdict: r.verdict };
        }
        rows.push(row);
      } catch (err) {
        failed.push({ file: sample.file, error: (err as Error).message });
      }
      done++;
      opts.onProgress?.(done, samples.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  rows.sort((a, b) => a.sample.file.localeCompare(b.sample.file));

  const isEdited = (r: { sample: Sample }) => (r.sample.label === 'real' ? 0 : 1);
  const y = rows.map(isEdited);
  const s = rows.map((r) => r.edited);
  const overall = binaryMetrics(s, y, rule.threshold, rule.band);
  const realRows = rows.filter((r) => r.sample.label === 'real');
  const sources = [...new Set(rows.map((r) => r.sample.source))].sort();
  const perSource: EvalReport['detector']['per_source'] = {};
  for (const source of sources) {
    const sub = rows.filter((r) => r.sample.source === source);
    const label = sub[0]!.sample.label;
    const m = binaryMetrics(sub.map((r) => r.edited), sub.map(isEdited), rule.threshold, rule.band);
    // A one-class source gets an AUC against the pool of all real images, and against the reals
    // of its own domain (the same dataset's, or the generator's training photos): a source told
    // apart from all reals only by its domain scores high there, low here.
    const aucAgainst = (reals: Row[]) => (label === 'real' ? null : rocAuc([...sub, ...reals].map((r) => r.edited), [...sub.map(() => 1), ...reals.map(() => 0)]));
    const vs = aucAgainst(realRows);
    const domain = opts.domains?.[source] ?? [];
    const domainReals = realRows.filter((r) => domain.includes(r.sample.source));
    const vsDomain = domainReals.length ? aucAgainst(domainReals) : null;
    const fpr = label === 'real' ? sub.filter((r) => r.edited >= rule.threshold).length / sub.length : null;
    const hits = sub.filter((r) => r.pointingHit !== null);
    perSource[source] = { ...m, auc_vs_real: vs, auc_vs_domain_real: vsDomain, domain_reals: domainReals.length ? domain : null, label, false_positive_rate: fpr, pointing_game: hits.length ? hits.filter((r) => r.pointingHit).length / hits.length : null };
  }

  const aucIntervals = intervalsOf(rows, y, s);

  // The classifier as the product uses it: on the faces the detector flags, deciding by its own threshold.
  const flagged = rows.filter((r) => r.sample.label !== 'real' && r.flagged);
  const clsRight = (r: Row) => r.editType === r.sample.label;
  const clsPerSource: EvalReport['classifier']['per_source'] = {};
  for (const source of [...new Set(flagged.map((r) => r.sample.source))].sort()) {
    const sub = flagged.filter((r) => r.sample.source === source);
    clsPerSource[source] = { n: sub.length, accuracy: sub.length ? sub.filter(clsRight).length / sub.length : null };
  }

  let sharpReal: EvalReport['sharp_real'] = null;
  if (realRows.length >= 4) {
    const sorted = realRows.map((r) => r.sharpness).sort((a, b) => a - b);
    const q = sorted[Math.floor(sorted.length * 0.75)]!;
    const top = realRows.filter((r) => r.sharpness >= q);
    sharpReal = {
      quartile_threshold: q,
      n: top.length,
      false_positive_rate: top.filter((r) => r.edited >= rule.threshold).length / top.length,
      false_positive_rate_canvas: transforms.includes('canvas-plain') ? top.filter((r) => r.transformed['canvas-plain']!.edited >= rule.threshold).length / top.length : null,
    };
  }

  const robustness: Record<string, Record<string, RobustnessFigures>> = {};
  for (const t of transforms) {
    robustness[t] = {};
    for (const source of ['all', ...sources]) {
      const sub = rows.filter((r) => (source === 'all' || r.sample.source === source) && r.transformed[t]);
      const fpr = sub[0]?.sample.label === 'real' && source !== 'all' ? sub.filter((r) => r.transformed[t]!.edited >= rule.threshold).length / sub.length : null;
      robustness[t]![source] = {
        n: sub.length,
        flip_rate: sub.length ? sub.filter((r) => r.transformed[t]!.verdict !== r.verdict).length / sub.length : null,
        median_abs_delta: median(sub.map((r) => Math.abs(r.transformed[t]!.edited - r.edited))),
        false_positive_rate: fpr,
      };
    }
  }
  const pointed = rows.filter((r) => r.pointingHit !== null);

  const report: EvalReport = {
    dataset: opts.datasetName,
    split: opts.split,
    crop_faces: opts.cropFaces,
    models: [...models.values()].sort((a, b) => a.name.localeCompare(b.name)),
    threshold: rule.threshold,
    uncertain_band: rule.band,
    images: rows.length,
    failed,
    detector: { overall, auc_intervals: aucIntervals, per_source: perSource },
    classifier: {
      scope: 'edited images the detector flagged; edit type as the product reports it',
      n: flagged.length,
      accuracy: flagged.length ? flagged.filter(clsRight).length / flagged.length : null,
      per_source: clsPerSource,
    },
    sharp_real: sharpReal,
    confidence: reliability(rows.map((r) => ({ verdict: r.verdict, confidence: r.confidence, edited: isEdited(r) })), detector.spec.confidence?.prior_edited ?? 0.5),
    pointing_game: pointed.length ? { n: pointed.length, hit_rate: pointed.filter((r) => r.pointingHit).length / pointed.length } : null,
    robustness: transforms.length ? robustness : null,
    serving: {
      mirror_within: detector.spec.mirror_average?.within ?? null,
      detector_inputs: detector.usage.inputs,
      mirrored_share: detector.usage.inputs ? detector.usage.mirrored / detector.usage.inputs : null,
      second_opinion_share: detector.usage.inputs ? detector.usage.secondOpinion / detector.usage.inputs : null,
    },
    faces: opts.cropFaces ? { images_with_face: rows.filter((r) => r.faceFound).length, share: rows.length ? rows.filter((r) => r.faceFound).length / rows.length : 0 } : null,
    seconds: (performance.now() - started) / 1000,
  };
  await loaded.close();
  return { report, roc: rocCurve(s, y), rows };
}
