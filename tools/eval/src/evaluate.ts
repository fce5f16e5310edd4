import { readFile } from 'node:fs/promises';
import { Analyser, localEditTypeClassifier, loadFaceFinder, type FaceFinder } from '@dfd/analysis';
import { normaliseUpload, type RgbImage } from '@dfd/imaging';
import type { AnalysisJobData } from '@dfd/jobs';
import { ImageClassifierModel, MicroBatcher, resolveModelDir } from '@dfd/model-runtime';
import type { Sample } from './dataset.js';
import { binaryMetrics, rocAuc, rocCurve } from './metrics.js';
import type { EvalReport } from './report.js';
import { laplacianVariance } from './sharpness.js';

export interface EvaluateOptions {
  modelsDir: string;
  cropFaces: boolean;
  threads: number;
  concurrency: number;
  datasetName: string;
  split: string | null;
  onProgress?: (done: number, total: number) => void;
}

interface Row {
  sample: Sample;
  edited: number;
  retouched: number | null;
  sharpness: number;
  faceFound: boolean;
}

/**
 * Runs every sample through the production path: the gateway's normalisation, then the same
 * Analyser the detector runs (face stage, decision rule), with the classifier in-process.
 */
export async function evaluate(samples: Sample[], opts: EvaluateOptions): Promise<{ report: EvalReport; roc: Array<[number, number]>; rows: Row[] }> {
  const started = performance.now();
  const detector = await ImageClassifierModel.load(resolveModelDir(opts.modelsDir, 'detector'), { threads: opts.threads });
  const classifier = await ImageClassifierModel.load(resolveModelDir(opts.modelsDir, 'classifier'), { threads: opts.threads });
  let faces: FaceFinder | undefined;
  if (opts.cropFaces) {
    const loaded = await loadFaceFinder(opts.modelsDir, opts.threads);
    if (!loaded.faces) throw new Error(`face stage unavailable: ${loaded.error}`);
    faces = loaded.faces;
  }
  const rule = { threshold: detector.spec.threshold, band: detector.spec.uncertain_band };
  const analyser = new Analyser({ detector, batcher: new MicroBatcher(detector, 8, 2), classify: localEditTypeClassifier(classifier), faces, rule, retouchedThreshold: 0.5 });
  const classifierBatcher = new MicroBatcher(classifier, 8, 2);

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
        const upload = await normaliseUpload(await readFile(sample.path));
        const job: AnalysisJobData = {
          pixelKey: '',
          width: upload.image.width,
          height: upload.image.height,
          options: { crop_faces: opts.cropFaces },
          evidence: upload.evidence,
          requestId: sample.file,
          submittedAt: Date.now(),
          decodeMs: upload.decodeMs,
          source: { format: upload.format, width: upload.original.width, height: upload.original.height, bytes: upload.original.bytes },
        };
        const result = await analyser.analyse(upload.image, job, 0);
        // The classifier is judged on every edited image, not only those the detector passed on.
        let retouched: number | null = null;
        if (sample.label !== 'real') {
          const region: RgbImage = upload.image;
          const pred = await classifierBatcher.predict(region);
          retouched = pred.probabilities[classifier.spec.labels.indexOf('retouched')]!;
        }
        rows.push({ sample, edited: result.scores.edited, retouched, sharpness: laplacianVariance(upload.image), faceFound: result.faces.length > 0 });
      } catch (err) {
        failed.push({ file: sample.file, error: (err as Error).message });
      }
      done++;
      opts.onProgress?.(done, samples.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));

  const y = rows.map((r) => (r.sample.label === 'real' ? 0 : 1));
  const s = rows.map((r) => r.edited);
  const overall = binaryMetrics(s, y, rule.threshold, rule.band);
  const realRows = rows.filter((r) => r.sample.label === 'real');
  const perSource: EvalReport['detector']['per_source'] = {};
  for (const source of [...new Set(rows.map((r) => r.sample.source))].sort()) {
    const sub = rows.filter((r) => r.sample.source === source);
    const label = sub[0]!.sample.label;
    const m = binaryMetrics(sub.map((r) => r.edited), sub.map((r) => (r.sample.label === 'real' ? 0 : 1)), rule.threshold, rule.band);
    // A one-class source gets an AUC against the pool of all real images.
    const vs = label === 'real' ? null : rocAuc([...sub, ...realRows].map((r) => r.edited), [...sub.map(() => 1), ...realRows.map(() => 0)]);
    perSource[source] = { ...m, auc_vs_real: vs, label };
  }
  const edited = rows.filter((r) => r.retouched !== null);
  const clsRight = (r: Row) => (r.retouched! >= 0.5 ? 'retouched' : 'deepfake') === r.sample.label;
  const clsPerSource: EvalReport['classifier']['per_source'] = {};
  for (const source of [...new Set(edited.map((r) => r.sample.source))].sort()) {
    const sub = edited.filter((r) => r.sample.source === source);
    clsPerSource[source] = { n: sub.length, accuracy: sub.length ? sub.filter(clsRight).length / sub.length : null };
  }
  let sharpReal: EvalReport['sharp_real'] = null;
  if (realRows.length >= 4) {
    const sorted = realRows.map((r) => r.sharpness).sort((a, b) => a - b);
    const q = sorted[Math.floor(sorted.length * 0.75)]!;
    const top = realRows.filter((r) => r.sharpness >= q);
    sharpReal = { quartile_threshold: q, n: top.length, false_positive_rate: top.filter((r) => r.edited >= rule.threshold).length / top.length };
  }
  const report: EvalReport = {
    dataset: opts.datasetName,
    split: opts.split,
    crop_faces: opts.cropFaces,
    models: [detector, classifier].map((m) => ({ name: m.spec.name, version: m.spec.version, sha256: m.sha256 })),
    threshold: rule.threshold,
    uncertain_band: rule.band,
    images: rows.length,
    failed,
    detector: { overall, per_source: perSource },
    classifier: { n: edited.length, accuracy: edited.length ? edited.filter(clsRight).length / edited.length : null, per_source: clsPerSource },
    sharp_real: sharpReal,
    faces: opts.cropFaces ? { images_with_face: rows.filter((r) => r.faceFound).length, share: rows.length ? rows.filter((r) => r.faceFound).length / rows.length : 0 } : null,
    seconds: (performance.now() - started) / 1000,
  };
  await Promise.all([detector.release(), classifier.release()]);
  return { report, roc: rocCurve(s, y), rows };
}
