import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceStage } from '../src/index.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const modelsDir = join(repoRoot, 'models');
/** faces-v1 is read in place (never copied into the repo). */
export const facesDir = resolve(repoRoot, '../shared/datasets/faces-v1');
export const haveFaces = existsSync(join(facesDir, 'manifest.csv'));

let stage: Promise<FaceStage> | undefined;
export function loadStage(): Promise<FaceStage> {
  stage ??= FaceStage.load(modelsDir, { threads: 1 });
  return stage;
}

/** A few faces-v1 images that have one clear, frontal face. */
export const sampleFaces = {
  ffhq: 'real/ffhq/2e15dea872b8.jpg',
  celebahq: 'real/celebahq/83c1c5d87ec2.jpg',
  ciplab: 'real/ciplab-real/c2e1fc012a5e.jpg',
  stylegan: 'deepfake/stylegan1/fdd6b4540b39.jpg',
};
