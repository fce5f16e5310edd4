#!/usr/bin/env node
/**
 * Runs the serving face stage (@dfd/face, the same code and models as the detector service) over
 * dataset manifests and writes every face it finds (box, score, the landmark net's crop, 68
 * landmarks, image pixels) as JSON lines. Training builds its face crops from these landmarks with
 * the served crop definition, so training sees the framing the product serves.
 *
 *   node training/models/landmarks.mjs --out FILE [--shard 0/2] [--per-source N] DATASET_DIR...
 * (npm run train names FILE by the face stage that made it: .cache/landmarks-<key>.jsonl)
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeToRgb } from '../../packages/imaging/dist/index.js';
import { FaceStage } from '../../packages/face/dist/index.js';
import { manifestRecords } from '../../tools/eval/dist/dataset.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, shard: { type: 'string', default: '0/1' }, 'per-source': { type: 'string' }, models: { type: 'string', default: join(here, '../../models') } },
});
if (!values.out || positionals.length === 0) {
  console.error('usage: landmarks.mjs --out FILE [--shard i/n] DATASET_DIR...');
  process.exit(2);
}
const [shardIndex, shardCount] = values.shard.split('/').map(Number);
const stage = await FaceStage.load(resolve(values.models), { threads: 1 });
writeFileSync(values.out, '');
let n = 0;
const started = Date.now();
for (const dir of positionals) {
  const dataset = resolve(dir);
  const name = dataset.split('/').pop();
  const rows = manifestRecords(dataset);
  const perSource = new Map();
  for (let i = 0; i < rows.length; i++) {
    if (i % shardCount !== shardIndex) continue;
    const { file, source } = rows[i];
    perSource.set(source, (perSource.get(source) ?? 0) + 1);
    if (values['per-source'] && perSource.get(source) > Number(values['per-source'])) continue;
    const img = await decodeToRgb(join(dataset, file));
    const faces = await stage.detect(img);
    const round = (v) => Math.round(v * 100) / 100;
    appendFileSync(values.out, JSON.stringify({
      dataset: name, file, width: img.width, height: img.height,
      faces: faces.map((f) => ({ box: f.box, score: round(f.score), landmark_crop: f.landmarkCrop, landmarks: f.landmarks.map(([x, y]) => [round(x), round(y)]) })),
    }) + '\n');
    if (++n % 1000 === 0) console.error(`${n} images, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}
console.error(`done: ${n} images in ${((Date.now() - started) / 1000).toFixed(0)} s`);
