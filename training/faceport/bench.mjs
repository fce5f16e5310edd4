// Per-image cost of the face stage (onnxruntime-node, 1 thread) on one faces-v1 face at 256 px and
// upscaled to 512 px. Reports wall time and process CPU time (the box is shared, so CPU time is the
// steadier number). Needs `node node_modules/typescript/bin/tsc -b packages/face` first.
//   node training/faceport/bench.mjs [--n 40] [--input-size 320] [--no-zoom-out]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
const root = resolve(import.meta.dirname, '../..');
const { decodeToRgb, resizeRgb } = await import(resolve(root, 'packages/imaging/dist/index.js'));
const { FaceStage } = await import(resolve(root, 'packages/face/dist/index.js'));
const { values } = parseArgs({
  options: { n: { type: 'string', default: '40' }, 'input-size': { type: 'string' }, 'no-zoom-out': { type: 'boolean', default: false } },
});
const n = Number(values.n);
const stage = await FaceStage.load(resolve(root, 'models'), {
  threads: 1,
  ...(values['input-size'] ? { inputSize: Number(values['input-size']) } : {}),
  ...(values['no-zoom-out'] ? { zoomOut: false } : {}),
});
console.log(JSON.stringify({ inputSize: stage.inputSize, zoomOut: stage.zoomOut }));
const img256 = await decodeToRgb(resolve(root, '../shared/datasets/faces-v1/real/celebahq/83c1c5d87ec2.jpg'));
const img512 = { width: 512, height: 512, data: await resizeRgb(img256, 512, 512) };
async function time(fn) {
  for (let i = 0; i < 5; i++) await fn();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const c = process.cpuUsage(c0);
  return { wallMs: +((performance.now() - t0) / n).toFixed(2), cpuMs: +((c.user + c.system) / 1000 / n).toFixed(2) };
}
for (const [name, img] of [['256', img256], ['512', img512]]) {
  const faces = await stage.detect(img);
  const lmCrops = [{ x: 0, y: 0, width: img.width, height: img.height }];
  console.log(JSON.stringify({
    size: name, faces: faces.length,
    detectAndLandmarks: await time(() => stage.detect(img)),
    mainPassOnly: await time(() => stage.detectBoxes(img)),
    bothPasses: await time(() => stage.detectAllBoxes(img)),
    landmarksOneFace: await time(() => stage.landmarker.predict(img, lmCrops)),
    alignedCrop256: await time(async () => stage.alignedCrop(img, faces[0], 256)),
  }));
}
