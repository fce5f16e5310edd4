#!/usr/bin/env node
/**
 * The face detector's input tensors for quantize.py --face-detector: the serving face stage's main
 * pass (the whole image, zero-padded to a square at the bottom right and resized to the model.json
 * input size by the serving code, cropPadResizeNchw) for every image listed in a file, written as
 * float32 [N, 3, S, S].
 *
 *   node training/models/face_inputs.mjs --list FILES.txt --size 416 --out X.f32
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeToRgb } from '../../packages/imaging/dist/index.js';
import { cropPadResizeNchw } from '../../packages/face/dist/index.js';

const { values } = parseArgs({ options: { list: { type: 'string' }, size: { type: 'string', default: '416' }, out: { type: 'string' } } });
if (!values.list || !values.out) {
  console.error('usage: face_inputs.mjs --list FILES.txt --size S --out X.f32');
  process.exit(2);
}
const size = Number(values.size);
const files = readFileSync(values.list, 'utf8').split('\n').filter(Boolean);
const out = new Float32Array(files.length * 3 * size * size);
for (const [i, file] of files.entries()) {
  const img = await decodeToRgb(file);
  const x = cropPadResizeNchw(img, { x: 0, y: 0, width: img.width, height: img.height }, size, false);
  out.set(x, i * 3 * size * size);
}
writeFileSync(values.out, new Uint8Array(out.buffer));
