// End-to-end parity of @dfd/face (ONNX) against the original face-api (TF.js CPU backend):
// TinyFaceDetector boxes/scores and FaceLandmark68Net points on faces-v1 images.
//
//   node training/faceport/parity.mjs [--per-source 2] [--fixture packages/face/test/fixtures/faceapi-reference.json]
//                                     [--sizes 256,512] [--models models]
//
// --fixture writes the face-api reference for the chosen images (the stored fixture the tests use).
// Landmark reference = face-api's unshiftedLandmarks + the (clipped, floored) crop origin: face-api
// itself shifts by the unclipped box, which is off by the floor fraction (or worse at the border).
// Needs `node node_modules/typescript/bin/tsc -b packages/face` first.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { manifestRecords } from '../../tools/eval/dist/dataset.js';

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '../..');
const { loadFaceApi } = require('./faceapi-node.cjs');
const { decodeToRgb, resizeRgb } = await import(resolve(root, 'packages/imaging/dist/index.js'));
const { FaceStage, faceCropRect } = await import(resolve(root, 'packages/face/dist/index.js'));

const { values: args } = parseArgs({
  options: {
    'per-source': { type: 'string', default: '2' },
    fixture: { type: 'string' },
    sizes: { type: 'string', default: '256' },
    models: { type: 'string', default: resolve(root, 'models') },
    dataset: { type: 'string', default: resolve(root, '../shared/datasets/faces-v1') },
  },
});

export function pickImages(datasetDir, perSource) {
  const bySource = new Map();
  for (const { file, source } of manifestRecords(resolve(datasetDir))) {
    const list = bySource.get(source) ?? [];
    if (list.length < perSource) list.push(file);
    bySource.set(source, list);
  }
  return [...bySource.entries()].sort().flatMap(([source, files]) => files.map((file) => ({ source, file })));
}

async function faceApiReference(faceapi, img, inputSize) {
  const tf = faceapi.tf;
  const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  const res = await faceapi
    .detectAllFaces(t, new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 }))
    .withFaceLandmarks();
  t.dispose();
  return res.map((r) => {
    const b = r.detection.box;
    const crop = faceCropRect({ x: b.x, y: b.y, width: b.width, height: b.height }, img.width, img.height);
    return {
      box: { x: b.x, y: b.y, width: b.width, height: b.height },
      score: r.detection.score,
      landmarks: r.unshiftedLandmarks.positions.map((p) => [p.x + crop.x, p.y + crop.y]),
    };
  });
}

export function compare(ref, ours) {
  // match each reference face to the nearest of ours by box centre
  let box = 0, lm = 0, lmMean = 0, score = 0, n = 0, missing = 0;
  for (const r of ref) {
    const cx = r.box.x + r.box.width / 2, cy = r.box.y + r.box.height / 2;
    let best = null, bd = Infinity;
    for (const o of ours) {
      const d = Math.hypot(o.box.x + o.box.width / 2 - cx, o.box.y + o.box.height / 2 - cy);
      if (d < bd) { bd = d; best = o; }
    }
    if (!best) { missing++; continue; }
    box = Math.max(box, Math.abs(best.box.x - r.box.x), Math.abs(best.box.y - r.box.y),
      Math.abs(best.box.width - r.box.width), Math.abs(best.box.height - r.box.height));
    score = Math.max(score, Math.abs(best.score - r.score));
    let s = 0;
    r.landmarks.forEach(([x, y], i) => {
      const d = Math.hypot(best.landmarks[i][0] - x, best.landmarks[i][1] - y);
      lm = Math.max(lm, d);
      s += d;
    });
    lmMean += s / 68;
    n++;
  }
  return { faces: n, missing, extra: ours.length - n, boxMaxPx: box, scoreMax: score, lmMaxPx: lm, lmMeanPx: n ? lmMean / n : 0 };
}

async function main() {
  const faceapi = await loadFaceApi();
  const stage = await FaceStage.load(args.models, { threads: 1, minFaceSize: 1 });
  const images = pickImages(args.dataset, Number(args['per-source']));
  const sizes = args.sizes.split(',').map(Number);
  const fixture = { generator: 'training/faceport/parity.mjs', faceapi: '@vladmandic/face-api 1.7.15 (tfjs cpu)', inputSize: stage.inputSize, cases: [] };
  const agg = { faces: 0, missing: 0, extra: 0, boxMaxPx: 0, scoreMax: 0, lmMaxPx: 0, lmMeanPx: 0 };
  for (const size of sizes) {
    for (const { source, file } of images) {
      let img = await decodeToRgb(resolve(args.dataset, file));
      if (img.width !== size) img = { width: size, height: size, data: await resizeRgb(img, size, size) };
      const ref = await faceApiReference(faceapi, img, stage.inputSize);
      const raw = await stage.detectBoxes(img);
      const crops = raw.map((d) => faceCropRect(d, img.width, img.height));
      const lms = await stage.landmarker.predict(img, crops);
      const ours = raw.map((d, i) => ({ box: d, score: d.score, landmarks: lms[i] }));
      const c = compare(ref, ours);
      // landmark error normalised to a 256-px face image
      const k = 256 / size;
      console.log(size, source, file, JSON.stringify({ ...c, boxMaxPx: +(c.boxMaxPx * k).toFixed(3), lmMaxPx: +(c.lmMaxPx * k).toFixed(3) }));
      agg.faces += c.faces; agg.missing += c.missing; agg.extra += c.extra;
      agg.boxMaxPx = Math.max(agg.boxMaxPx, c.boxMaxPx * k);
      agg.lmMaxPx = Math.max(agg.lmMaxPx, c.lmMaxPx * k);
      agg.scoreMax = Math.max(agg.scoreMax, c.scoreMax);
      agg.lmMeanPx += c.lmMeanPx * k * c.faces;
      if (size === sizes[0]) fixture.cases.push({ source, file, size, faces: ref });
    }
  }
  agg.lmMeanPx /= Math.max(1, agg.faces);
  console.log('SUMMARY (px at 256-px scale)', JSON.stringify(agg));
  if (args.fixture) {
    mkdirSync(dirname(args.fixture), { recursive: true });
    writeFileSync(args.fixture, JSON.stringify(fixture, (k, v) => (typeof v === 'number' ? +v.toFixed(4) : v)) + '\n');
    console.log('wrote', args.fixture);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
