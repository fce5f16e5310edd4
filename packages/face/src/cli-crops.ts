#!/usr/bin/env node
/**
 * Runs the face stage over faces-v1 (manifest.csv) and reports detection recall per source
 * (share of images with >= 1 face). Optionally writes aligned crops (PNG) of the best face per
 * image into --crops-dir (keep it outside the repo or in the gitignored .cache/).
 *
 *   node packages/face/dist/cli-crops.js [--dataset ../shared/datasets/faces-v1] [--models models]
 *       [--out recall.json] [--crops-dir .cache/crops] [--crop-size 256] [--limit N] [--threads 1]
 */
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeToRgb, encodePng } from '@dfd/imaging';
import { FaceStage } from './face-stage.js';

interface SourceStats {
  images: number;
  withFace: number;
  multiFace: number;
  recall: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: '../shared/datasets/faces-v1' },
      models: { type: 'string', default: 'models' },
      out: { type: 'string' },
      'crops-dir': { type: 'string' },
      'crop-size': { type: 'string', default: '256' },
      limit: { type: 'string' },
      threads: { type: 'string', default: '1' },
      'min-face-size': { type: 'string' },
      'score-threshold': { type: 'string' },
      'no-zoom-out': { type: 'boolean', default: false },
    },
  });
  const dataset = resolve(values.dataset!);
  const cropSize = Number(values['crop-size']);
  const stage = await FaceStage.load(resolve(values.models!), {
    threads: Number(values.threads),
    ...(values['min-face-size'] ? { minFaceSize: Number(values['min-face-size']) } : {}),
    ...(values['score-threshold'] ? { scoreThreshold: Number(values['score-threshold']) } : {}),
    ...(values['no-zoom-out'] ? { zoomOut: false as const } : {}),
  });
  const rows = readFileSync(join(dataset, 'manifest.csv'), 'utf8').trim().split('\n').slice(1)
    .map((line) => { const [file, label, source] = line.split(','); return { file: file!, label: label!, source: source! }; });
  const limit = values.limit ? Number(values.limit) : Infinity;
  const cropsDir = values['crops-dir'] ? resolve(values['crops-dir']) : undefined;
  if (cropsDir) {
    mkdirSync(cropsDir, { recursive: true });
    writeFileSync(join(cropsDir, 'index.jsonl'), '');
  }

  const perSource: Record<string, SourceStats> = {};
  const seen: Record<string, number> = {};
  let detectMs = 0;
  let n = 0;
  const started = performance.now();
  for (const row of rows) {
    seen[row.source] = (seen[row.source] ?? 0) + 1;
    if (seen[row.source]! > limit) continue;
    const img = await decodeToRgb(join(dataset, row.file));
    const t0 = performance.now();
    const faces = await stage.detect(img);
    detectMs += performance.now() - t0;
    n++;
    const s = (perSource[row.source] ??= { images: 0, withFace: 0, multiFace: 0, recall: 0 });
    s.images++;
    if (faces.length > 0) s.withFace++;
    if (faces.length > 1) s.multiFace++;
    if (cropsDir && faces[0]) {
      const crop = stage.alignedCrop(img, faces[0], cropSize);
      const outPath = join(cropsDir, row.file.replace(/\.[^.]+$/, '.png'));
      mkdirSync(dirname(outPath), { recursive: true });
      writeFileSync(outPath, await encodePng(crop.image));
      appendFileSync(join(cropsDir, 'index.jsonl'), JSON.stringify({
        file: row.file, crop: outPath, label: row.label, source: row.source, score: faces[0].score,
        box: faces[0].box, toImage: crop.toImage, inside: crop.inside, faces: faces.length,
      }) + '\n');
    }
    if (n % 500 === 0) process.stderr.write(`${n} images, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  let images = 0;
  let withFace = 0;
  for (const s of Object.values(perSource)) {
    s.recall = Math.round((s.withFace / s.images) * 10000) / 10000;
    images += s.images;
    withFace += s.withFace;
  }
  const report = {
    dataset,
    models: stage.modelInfo(),
    options: { inputSize: stage.inputSize, zoomOut: stage.zoomOut, scoreThreshold: stage.scoreThreshold, minFaceSize: stage.minFaceSize },
    total: { images, withFace, recall: Math.round((withFace / Math.max(1, images)) * 10000) / 10000 },
    perSource: Object.fromEntries(Object.entries(perSource).sort()),
    msPerImageDetect: Math.round((detectMs / Math.max(1, n)) * 100) / 100,
    cropsDir: cropsDir ?? null,
  };
  const json = JSON.stringify(report, null, 2);
  if (values.out) writeFileSync(values.out, json + '\n');
  process.stdout.write(json + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
