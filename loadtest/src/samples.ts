import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { variant, type SampleMeta } from '../k6/variants.js';

export const samplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples');

export interface Sample {
  meta: SampleMeta;
  bytes: Uint8Array;
}

export function loadSamples(dir = samplesDir): Sample[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SampleMeta[];
  return manifest.map((meta) => ({ meta, bytes: new Uint8Array(readFileSync(join(dir, meta.file))) }));
}

/** The n-th unique upload, cycling through the samples (same scheme as the k6 scenarios). */
export function uniqueUpload(samples: Sample[], n: number, seed: number): { body: Buffer; mime: string; file: string } {
  const s = samples[n % samples.length]!;
  return { body: Buffer.from(variant(s.bytes, s.meta, seed + Math.floor(n / samples.length))), mime: s.meta.mime, file: s.meta.file };
}
