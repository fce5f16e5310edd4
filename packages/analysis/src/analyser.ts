import type { RgbImage } from '@dfd/imaging';
import type { AnalysisJobData, AnalysisResult, EditType, FaceResult, Heatmap, ModelRef, Scores } from '@dfd/jobs';
import type { ImageClassifierModel, MicroBatcher, Prediction } from '@dfd/model-runtime';
import { combine, decide, type DecisionRule } from './decision.js';
import { compose, type Affine, type FaceCropSpec, type FaceFinder, type FoundFace } from './face-finder.js';

/** The classifier's decision for one region, as its model server made it (its own threshold). */
export interface EditTypeAnswer {
  label: 'deepfake' | 'retouched' | 'uncertain';
  deepfake: number;
  retouched: number;
  threshold: number;
  model: ModelRef;
}

/** Asks the classifier model server for its decision on one region. */
export type EditTypeClassifier = (region: RgbImage, requestId: string) => Promise<EditTypeAnswer>;

/** What an analysis needs besides the pixels; a queued job's data has it, and so does analysisInput(). */
export type AnalysisInput = Pick<AnalysisJobData, 'options' | 'evidence' | 'requestId' | 'decodeMs' | 'source'>;

export interface AnalyserDeps {
  detector: ImageClassifierModel;
  batcher: MicroBatcher;
  classify: EditTypeClassifier;
  faces?: FaceFinder;
  rule: DecisionRule;
}

/** The face crop the detector was trained on (its model.json); older models: the faces-v1 framing at 256 px. */
export function faceCropOf(detector: ImageClassifierModel): FaceCropSpec {
  return detector.spec.preprocessing.face_crop ?? { template5: null, size: 256 };
}

interface Region {
  image: RgbImage;
  toImage: Affine;
  face?: FoundFace;
}

function heatmapOf(pred: Prediction, region: Region): Heatmap | null {
  if (!pred.cam) return null;
  const { width: gw, height: gh, values } = pred.cam;
  // Grid cell (gx, gy) covers region pixels scaled by region size / grid size.
  const toRegion: Affine = [region.image.width / gw, 0, 0, 0, region.image.height / gh, 0];
  return { width: gw, height: gh, values: values.map((v) => Math.round(v * 1000) / 1000), to_image: compose(region.toImage, toRegion) };
}

/**
 * One analysis: regions (faces, or the whole image), the real-vs-edited model on each, the
 * classifier on each edited region, and the combined result.
 */
export class Analyser {
  constructor(private readonly deps: AnalyserDeps) {}

  async analyse(image: RgbImage, job: AnalysisInput, queueWaitMs: number): Promise<AnalysisResult> {
    const started = performance.now();
    const notes: string[] = [];
    const { detector, rule } = this.deps;

    let regions: Region[] = [];
    const faceStart = performance.now();
    if (job.options.crop_faces && this.deps.faces) {
      const found = await this.deps.faces.detect(image);
      // Every face, whatever its share of the frame, is judged on the aligned crop the model was
      // trained on, so framing and background do not change what the model sees.
      const crop = faceCropOf(detector);
      regions = found.map((face) => {
        const c = this.deps.faces!.alignedCrop(image, face, crop.size, crop.template5 ?? undefined);
        return { image: c.image, toImage: c.toImage, face };
      });
      if (regions.length === 0) notes.push('no_face: no face was found; the whole image was analysed');
    } else if (job.options.crop_faces) {
      notes.push('face_stage_unavailable: the whole image was analysed as one face crop');
    } else {
      notes.push('crop_disabled: the whole image was analysed as one face crop');
    }
    const faceMs = performance.now() - faceStart;
    const wholeImage = regions.length === 0;
    if (wholeImage) regions = [{ image, toImage: [1, 0, 0, 0, 1, 0] }];

    const detStart = performance.now();
    const preds = await Promise.all(regions.map((r) => this.deps.batcher.predict(r.image)));
    const detectorMs = performance.now() - detStart;

    const clsStart = performance.now();
    const models: ModelRef[] = [{ name: detector.spec.name, version: detector.spec.version, sha256: detector.sha256 }];
    let retouchedThreshold: number | null = null;
    const results: FaceResult[] = [];
    for (let i = 0; i < regions.length; i++) {
      const region = regions[i]!;
      const pred = preds[i]!;
      const { verdict, confidence, editedProbability } = decide(pred.score, rule);
      const scores: Scores = { edited: pred.score, edited_probability: editedProbability, deepfake: null, retouched: null };
      let editType: EditType | null = null;
      if (pred.score >= rule.threshold) {
        const cls = await this.deps.classify(region.image, job.requestId);
        scores.deepfake = cls.deepfake;
        scores.retouched = cls.retouched;
        editType = cls.label === 'uncertain' ? null : cls.label;
        retouchedThreshold = cls.threshold;
        if (!models.some((m) => m.name === cls.model.name)) models.push(cls.model);
      }
      const box = region.face?.box ?? { x: 0, y: 0, width: image.width, height: image.height };
      results.push({
        box,
        score: region.face?.score ?? 1,
        landmarks: region.face?.landmarks ?? [],
        verdict,
        edit_type: verdict === 'real' ? null : editType,
        scores,
        confidence,
        heatmap: heatmapOf(pred, region),
      });
    }
    const classifierMs = performance.now() - clsStart;
    if (!wholeImage && this.deps.faces) models.push(...this.deps.faces.modelInfo());

    // The image takes the verdict, scores and heatmap of its most edited region.
    const worst = results.reduce((a, b) => (b.scores.edited > a.scores.edited ? b : a));
    const verdict = combine(results.map((r) => r.verdict));
    return {
      verdict,
      edit_type: verdict === 'real' ? null : worst.edit_type,
      scores: worst.scores,
      confidence: worst.confidence,
      thresholds: { edited: rule.threshold, uncertain_band: rule.band, retouched: retouchedThreshold },
      faces: wholeImage ? [] : results,
      notes,
      heatmap: worst.heatmap,
      image: {
        width: image.width,
        height: image.height,
        format: job.source.format,
        original_width: job.source.width,
        original_height: job.source.height,
      },
      models,
      timings: {
        queue_wait_ms: Math.round(queueWaitMs),
        decode_ms: Math.round(job.decodeMs * 10) / 10,
        face_ms: Math.round(faceMs * 10) / 10,
        detector_ms: Math.round(detectorMs * 10) / 10,
        classifier_ms: Math.round(classifierMs * 10) / 10,
        total_ms: Math.round(queueWaitMs + job.decodeMs + (performance.now() - started)),
      },
      evidence: { metadata: job.evidence },
    };
  }
}
