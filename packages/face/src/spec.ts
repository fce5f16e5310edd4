import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSpecError, sha256File } from '@dfd/model-runtime';

export interface TensorSpec {
  name: string;
  datatype: string;
  shape: Array<number | string>;
}

/** model.json of a face model (models/face-detector/<v>, models/face-landmarks/<v>). */
export interface FaceModelSpec {
  name: string;
  version: string;
  description?: string;
  architecture: string;
  file: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing: {
    input_size: number;
    channel_order: 'RGB';
    layout: 'NCHW';
    range: [number, number];
    pad: 'bottom-right' | 'center';
    resize: string;
    normalisation: string;
  };
  postprocessing: Record<string, unknown>;
  source: Record<string, unknown>;
  licence: string;
  parity?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LoadedSpec {
  spec: FaceModelSpec;
  dir: string;
  path: string;
  sha256: string;
}

export function readFaceModelSpec(dir: string, verifyChecksum = true): LoadedSpec {
  const jsonPath = join(dir, 'model.json');
  if (!existsSync(jsonPath)) throw new ModelSpecError(`${jsonPath}: missing`);
  const spec = JSON.parse(readFileSync(jsonPath, 'utf8')) as FaceModelSpec;
  for (const key of ['name', 'version', 'file', 'sha256', 'inputs', 'outputs', 'preprocessing', 'postprocessing'] as const) {
    if (spec[key] === undefined) throw new ModelSpecError(`${jsonPath}: field "${key}" is missing`);
  }
  if (!(spec.preprocessing.input_size > 0)) throw new ModelSpecError(`${jsonPath}: preprocessing.input_size must be positive`);
  const path = join(dir, spec.file);
  if (!existsSync(path)) throw new ModelSpecError(`${path}: missing`);
  const sha256 = sha256File(path);
  if (verifyChecksum && spec.sha256 !== sha256) {
    throw new ModelSpecError(`${path}: sha256 ${sha256} does not match model.json (${spec.sha256})`);
  }
  return { spec, dir, path, sha256 };
}
