#!/usr/bin/env node
/**
 * Calibration for quantize.py: runs a model (with the tensors to quantise added as outputs) over
 * float32 inputs in onnxruntime, with the serving session options, and writes each tensor's
 * [min, max] as JSON; with --dump NAME[,NAME], writes those outputs of every input instead, as
 * JSON {name: flat values} (the int8 check and parity).
 *
 *   node training/models/quantize_ranges.mjs --model M --inputs X.f32 --shape 3,H,W --tensors '["a",...]' --out R.json
 *   node training/models/quantize_ranges.mjs --model M --inputs X.f32 --shape 3,H,W --dump logits,cam --out Y.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createSession, ort } from '../../packages/model-runtime/dist/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    inputs: { type: 'string' },
    shape: { type: 'string' },
    tensors: { type: 'string' },
    dump: { type: 'string' },
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '8' },
    out: { type: 'string' },
  },
});
for (const k of ['model', 'inputs', 'shape', 'out', ...(values.dump ? [] : ['tensors'])]) {
  if (!values[k]) {
    console.error(`quantize_ranges.mjs: --${k} is required`);
    process.exit(2);
  }
}
const shape = values.shape.split(',').map(Number);
const per = shape.reduce((a, b) => a * b, 1);
const buf = readFileSync(values.inputs);
const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const count = all.length / per;
if (!Number.isInteger(count) || count === 0) throw new Error(`${values.inputs}: ${all.length} floats is not a whole number of [${shape}] inputs`);
const names = values.dump ? values.dump.split(',') : JSON.parse(values.tensors);
const dumped = Object.fromEntries(names.map((n) => [n, []]));
const session = await createSession(values.model, Number(values.threads));
const ranges = Object.fromEntries(names.map((n) => [n, [Infinity, -Infinity]]));
const batch = Number(values.batch);
for (let i = 0; i < count; i += batch) {
  const n = Math.min(batch, count - i);
  const x = new ort.Tensor('float32', all.subarray(i * per, (i + n) * per), [n, ...shape]);
  const out = await session.run({ [session.inputNames[0]]: x }, names);
  if (values.dump) {
    for (const name of names) for (const v of out[name].data) dumped[name].push(v);
    continue;
  }
  for (const name of names) {
    const d = out[name].data;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < d.length; k++) {
      const v = d[k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const r = ranges[name];
    r[0] = Math.min(r[0], lo);
    r[1] = Math.max(r[1], hi);
  }
}
if (values.dump) {
  writeFileSync(values.out, JSON.stringify(dumped));
} else {
  writeFileSync(values.out, JSON.stringify(ranges));
  console.error(`calibrated ${names.length} tensors on ${count} inputs`);
}
