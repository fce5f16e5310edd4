import { createHash } from 'node:crypto';
import type { AnalysisOptions } from './types.js';

/**
 * Job id from the decoded content and the options: the same picture with the same options is
 * one analysis, however often it is uploaded. Hashing the normalised pixels rather than the file
 * also merges re-encodings that decode identically.
 */
export function analysisId(pixels: Buffer, width: number, height: number, options: AnalysisOptions, modelTag = ''): string {
  const h = createHash('sha256');
  h.update(`${width}x${height}:`);
  h.update(pixels);
  h.update(JSON.stringify({ crop: options.crop_faces, m: modelTag }));
  return h.digest('hex').slice(0, 32);
}
