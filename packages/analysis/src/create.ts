import { FaceStage } from '@dfd/face';
import { ImageClassifierModel, MicroBatcher, resolveModelDir } from '@dfd/model-runtime';
import { Analyser, type AnalysisInput, type EditTypeClassifier } from './analyser.js';
import type { DecisionRule } from './decision.js';
import type { FaceFinder } from './face-finder.js';
import { localEditTypeClassifier } from './local.js';

export interface CreateAnalyserOptions {
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /** Load the face stage (default true). When it cannot load, `faceError` says why and whole images are analysed. */
  faceStage?: boolean;
  /** The classifier: a remote one (the detector's OIP client), or 'local' to load models/classifier in-process. */
  classify: EditTypeClassifier | 'local';
  /** Overrides of the detector's own threshold/band (operators' knobs); default: its model.json. */
  rule?: { threshold?: number; low?: number; high?: number };
  /** Micro-batching of detector calls across concurrent analyses. */
  batch?: { maxBatch: number; maxWaitMs: number };
}

export interface LoadedAnalyser {
  analyser: Analyser;
  detector: ImageClassifierModel;
  faces?: FaceFinder;
  faceError?: string;
  close(): Promise<void>;
}

/** The one assembly of the analysis pipeline (detector service, embedded CLI, eval, bench). */
export async function createAnalyser(modelsDir: string, opts: CreateAnalyserOptions): Promise<LoadedAnalyser> {
  const detector = await ImageClassifierModel.load(resolveModelDir(modelsDir, 'detector'), { threads: opts.threads });
  const owned: ImageClassifierModel[] = [detector];
  let classify = opts.classify;
  if (classify === 'local') {
    const classifier = await ImageClassifierModel.load(resolveModelDir(modelsDir, 'classifier'), { threads: opts.threads });
    owned.push(classifier);
    classify = localEditTypeClassifier(classifier);
  }
  let faces: FaceFinder | undefined;
  let faceError: string | undefined;
  if (opts.faceStage ?? true) {
    try {
      faces = await FaceStage.load(modelsDir, { threads: opts.threads });
    } catch (err) {
      faceError = (err as Error).message;
    }
  } else {
    faceError = 'face stage disabled';
  }
  const rule: DecisionRule = {
    threshold: opts.rule?.threshold ?? detector.spec.threshold,
    band: [opts.rule?.low ?? detector.spec.uncertain_band[0], opts.rule?.high ?? detector.spec.uncertain_band[1]],
    confidence: detector.spec.confidence,
  };
  const batch = opts.batch ?? { maxBatch: 8, maxWaitMs: 3 };
  const analyser = new Analyser({ detector, batcher: new MicroBatcher(detector, batch.maxBatch, batch.maxWaitMs), classify, faces, rule });
  return {
    analyser,
    detector,
    faces,
    faceError,
    async close() {
      await Promise.all(owned.map((m) => m.release().catch(() => undefined)));
    },
  };
}

/** The analysis input for a file normalised outside the queue (CLI, eval, bench). */
export function analysisInput(
  upload: { evidence: AnalysisInput['evidence']; decodeMs: number; format: string; original: { width: number; height: number; bytes: number } },
  options: AnalysisInput['options'],
  requestId: string,
): AnalysisInput {
  return {
    options,
    evidence: upload.evidence,
    requestId,
    decodeMs: upload.decodeMs,
    source: { format: upload.format, width: upload.original.width, height: upload.original.height, bytes: upload.original.bytes },
  };
}
