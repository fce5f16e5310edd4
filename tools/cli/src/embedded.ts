import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ImageRejected, normaliseUpload, defaultLimits, type UploadLimits } from '@dfd/imaging';
import type { AnalysisJobData, AnalysisResult } from '@dfd/jobs';
import { ImageClassifierModel, MicroBatcher, resolveModelDir } from '@dfd/model-runtime';
import { Analyser, localEditTypeClassifier, loadFaceFinder } from '@dfd/analysis';
import { FatalError, FileError } from './errors.js';

export interface EmbeddedOptions {
  modelsDir: string;
  threads: number;
  cropFaces: boolean;
  limits?: UploadLimits;
  onWarning?: (msg: string) => void;
}

/**
 * The detector's pipeline in this process, with no Redis and no services: the same upload checks
 * as the gateway (normaliseUpload), the real-vs-edited model with its micro-batcher, the
 * deepfake-vs-retouched classifier called in-process, and the face stage when it is installed.
 */
export class EmbeddedAnalyser {
  private constructor(
    private readonly analyser: Analyser,
    private readonly models: ImageClassifierModel[],
    private readonly opts: EmbeddedOptions,
  ) {}

  static async load(opts: EmbeddedOptions): Promise<EmbeddedAnalyser> {
    if (!existsSync(opts.modelsDir)) throw new FatalError(`models folder ${opts.modelsDir} does not exist (--models)`);
    let detector: ImageClassifierModel;
    let classifier: ImageClassifierModel;
    try {
      detector = await ImageClassifierModel.load(resolveModelDir(opts.modelsDir, 'detector'), { threads: opts.threads });
      classifier = await ImageClassifierModel.load(resolveModelDir(opts.modelsDir, 'classifier'), { threads: opts.threads });
    } catch (err) {
      throw new FatalError(`cannot load the models from ${opts.modelsDir}: ${(err as Error).message}`);
    }
    let faces;
    if (opts.cropFaces) {
      const loaded = await loadFaceFinder(opts.modelsDir, opts.threads);
      if (loaded.error) opts.onWarning?.(`face stage unavailable (${loaded.error.split('\n')[0]}); analysing whole images`);
      faces = loaded.faces;
    }
    const analyser = new Analyser({
      detector,
      batcher: new MicroBatcher(detector, 8, 3),
      faces,
      rule: { threshold: detector.spec.threshold, band: detector.spec.uncertain_band },
      retouchedThreshold: 0.5,
      classify: localEditTypeClassifier(classifier),
    });
    return new EmbeddedAnalyser(analyser, [detector, classifier], opts);
  }

  async analyse(body: Buffer): Promise<AnalysisResult> {
    let upload;
    try {
      upload = await normaliseUpload(body, this.opts.limits ?? defaultLimits);
    } catch (err) {
      if (err instanceof ImageRejected) throw new FileError(`${err.status} ${err.code}: ${err.message}`);
      throw err;
    }
    const { image } = upload;
    const job: AnalysisJobData = {
      pixelKey: '',
      width: image.width,
      height: image.height,
      options: { crop_faces: this.opts.cropFaces },
      evidence: upload.evidence,
      requestId: randomUUID(),
      submittedAt: Date.now(),
      decodeMs: upload.decodeMs,
      source: { format: upload.format, width: upload.original.width, height: upload.original.height, bytes: upload.original.bytes },
    };
    return this.analyser.analyse(image, job, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.release().catch(() => undefined)));
  }
}
