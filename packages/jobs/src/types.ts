import type { MetadataEvidence } from '@dfd/imaging';

export type Verdict = 'real' | 'edited' | 'uncertain';
export type EditType = 'deepfake' | 'retouched';

export interface AnalysisOptions {
  /** Find faces and judge each (true), or judge the whole image as one face crop (false). */
  crop_faces: boolean;
}

/** What the gateway puts on the queue: references, never image bytes. */
export interface AnalysisJobData {
  pixelKey: string;
  /**
   * Hash of the normalised pixels and options (ids.ts). Never the analysis id: the detector uses
   * it, with its model versions, to reuse the model computation of identical pixels.
   */
  contentKey?: string;
  width: number;
  height: number;
  options: AnalysisOptions;
  evidence: MetadataEvidence;
  requestId: string;
  submittedAt: number;
  decodeMs: number;
  source: { format: string; width: number; height: number; bytes: number };
  callbackUrl?: string;
  apiKeyId?: string;
  batchId?: string;
}

export interface ModelRef {
  name: string;
  version: string;
  sha256: string;
}

export interface Scores {
  edited: number;
  /**
   * P(edited | edited score), measured on validation at the base rate of edited photos the
   * detector's model.json `confidence` states; what `confidence` is read from. Absent from results
   * made before it existed, and the score itself for a model without a map.
   */
  edited_probability?: number;
  deepfake: number | null;
  retouched: number | null;
}

export interface Heatmap {
  width: number;
  height: number;
  /** Row-major 0..1 activation of the "edited" class over the analysed region. */
  values: number[];
  /** Where the grid lies on the working image: a 2x3 affine from grid cell coords to image pixels. */
  to_image: number[];
}

export interface FaceResult {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: Array<[number, number]>;
  verdict: Verdict;
  edit_type: EditType | null;
  scores: Scores;
  confidence: number;
  heatmap: Heatmap | null;
}

export interface AnalysisResult {
  verdict: Verdict;
  edit_type: EditType | null;
  scores: Scores;
  confidence: number;
  /** retouched: the classifier's threshold, null when no face reached it (the classifier was not asked). */
  thresholds: { edited: number; uncertain_band: [number, number]; retouched: number | null };
  faces: FaceResult[];
  notes: string[];
  heatmap: Heatmap | null;
  image: { width: number; height: number; format: string; original_width: number; original_height: number };
  models: ModelRef[];
  timings: { queue_wait_ms: number; decode_ms: number; face_ms: number; detector_ms: number; classifier_ms: number; total_ms: number };
  evidence: { metadata: MetadataEvidence };
}
