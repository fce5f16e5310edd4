#!/usr/bin/env node
/**
 * Runs two ONNX graphs of the same face model on the same inputs in onnxruntime-node with the
 * serving session options, and prints the largest difference between their outputs as JSON
 * (fold_pads.py's check). Inputs: seeded uniform 0..255 images at every size the model is served
 * at (symbolic side "S": 416, 320 and 224; a symbolic batch: 2).
 *
 *   node training/faceport/same_outputs.mjs A.onnx B.onnx '<model.json inputs>'
 */
import { createSession, ort } from '../../packages/model-runtime/dist/index.js';

const [a, b, inputsJson] = process.argv.slice(2);
const [spec] = JSON.parse(inputsJson);
const [sa, sb] = [await createSession(a, 1), await createSession(b, 1)];
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 255;
const sides = spec.shape.some((d) => d === 'S') ? [416, 320, 224] : [null];
let max = 0;
const shapes = [];
for (const side of sides) {
  const dims = spec.shape.map((d) => (typeof d === 'number' ? d : d === 'S' ? side : 2));
  shapes.push(dims.join('x'));
  for (let k = 0; k < 3; k++) {
    const x = new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, rand), dims);
    const [ya, yb] = [await sa.run({ [spec.name]: x }), await sb.run({ [spec.name]: x })];
    for (const name of Object.keys(ya)) {
      const [p, q] = [ya[name].data, yb[name].data];
      for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i] - q[i]));
    }
  }
}
console.log(JSON.stringify({ inputs: `3 seeded uniform 0..255 inputs at each of ${shapes.join(', ')}`, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(), max_abs_difference: max }));
