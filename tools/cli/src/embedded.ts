import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ImageRejected, normaliseUpload, defaultLimits, type UploadLimits } from '@dfd/imaging';
import type { AnalysisResult } from '@dfd/jobs';
import { analysisInput, createAnalyser, type LoadedAnalyser } from '@dfd/analysis';
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
    private readonly loaded: LoadedAnalyser,
    private readonly opts: EmbeddedOptions,
  ) {}

  static async load(opts: EmbeddedOptions): Promise<EmbeddedAnalyser> {
    if (!existsSync(opts.modelsDir)) throw new FatalError(`models folder ${opts.modelsDir} does not exist (--models)`);
    let loaded: LoadedAnalyser;
    try {
      loaded = await createAnalyser(opts.modelsDir, { threads: opts.threads, faceStage: opts.cropFaces, classify: 'local' });
    } catch (err) {
      throw new FatalError(`cannot load the models from ${opts.modelsDir}: ${(err as Error).message}`);
    }
    if (opts.cropFaces && loaded.faceError) opts.onWarning?.(`face stage unavailable (${loaded.faceError.split('\n')[0]}); analysing whole images`);
    return new EmbeddedAnalyser(loaded, opts);
  }

  async analyse(body: Buffer): Promise<AnalysisResult> {
    let upload;
    try {
      upload = await normaliseUpload(body, this.opts.limits ?? defaultLimits);
    } catch (err) {
      if (err instanceof ImageRejected) throw new FileError(`${err.status} ${err.code}: ${err.message}`);
      throw err;
    }
    return this.loaded.analyser.analyse(upload.image, analysisInput(upload, { crop_faces: this.opts.cropFaces }, randomUUID()), 0);
  }

  async close(): Promise<void> {
    await this.loaded.close();
  }
}
