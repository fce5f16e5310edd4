/**
 * A detector's onnxruntime CPU per face, against a reference detector, on this machine:
 *
 *   node --import tsx loadtest/src/detector-cost.ts REFERENCE_DIR DIR [DIR ...] [--rounds 5] [--seconds 2]
 *
 * Each DIR is a models/<name>/<version> folder. Every network of each (model.onnx, and a
 * cascade's second_opinion network) is costed at batch 1 with one intra-op thread, the networks
 * interleaved round by round so that the machine's load falls on all of them alike; the median
 * round is kept. A face's cost is one run plus the shares of validation faces that model.json
 * says take the extra runs (mirror averaging: the model again; second opinion: the second
 * network, twice when it is mirror-averaged too). Ratios are to the first folder (the issue's
 * bound is 2x detector 1.0.0).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { modelLabel, readModelSpec } from '@dfd/model-runtime';
import { cpuPerRun, int8Kernels } from './ort-cost.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args.splice(i, 2)[1]);
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  return v;
};
const rounds = opt('rounds', 5);
const seconds = opt('seconds', 2);
if (args.length < 2) {
  console.error('usage: detector-cost.ts REFERENCE_DIR DIR [DIR ...] [--rounds N] [--seconds S]');
  process.exit(2);
}

interface Network {
  label: string;
  path: string;
  shape: number[];
  ms: number[];
}
const models = args.map((dir) => {
  const spec = readModelSpec(dir);
  const cal = (spec.calibration ?? {}) as { val_share_mirrored?: number; val_share_second_opinion?: number };
  const shape = [1, 3, spec.preprocessing.height, spec.preprocessing.width];
  const network = (file: string): Network => ({ label: modelLabel(join(dir, file)), path: join(dir, file), shape, ms: [] });
  const own = network(spec.file);
  const second = spec.second_opinion ? network(spec.second_opinion.file) : null;
  return {
    own,
    second,
    mirrorShare: spec.mirror_average ? (cal.val_share_mirrored ?? 0) : 0,
    secondShare: second ? (cal.val_share_second_opinion ?? 0) : 0,
    secondRuns: spec.second_opinion?.mirror_average ? 2 : 1,
  };
});
const networks = models.flatMap((m) => (m.second ? [m.own, m.second] : [m.own]));
const load0 = loadavg()[0]!;
for (let r = 0; r < rounds; r++) {
  for (const n of networks) n.ms.push((await cpuPerRun(n.path, n.shape, 1, seconds)).cpuMs);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const perFace = models.map((m) => median(m.own.ms) * (1 + m.mirrorShare) + (m.second ? median(m.second.ms) * m.secondShare * m.secondRuns : 0));
console.log(`onnxruntime CPU ms per run (batch 1, 1 intra-op thread, median of ${rounds} interleaved rounds; load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}; ${int8Kernels()})`);
for (const n of networks) console.log(`  ${n.label.padEnd(34)} ${median(n.ms).toFixed(2).padStart(8)} ms/run   (rounds ${n.ms.map((v) => v.toFixed(1)).join(' ')})`);
console.log('per face (one run + the validation shares model.json gives the extra runs)');
models.forEach((m, i) => {
  const parts = [`1 run`, ...(m.mirrorShare ? [`${m.mirrorShare.toFixed(3)} mirrored`] : []), ...(m.second ? [`${m.secondShare.toFixed(3)} second opinions${m.secondRuns > 1 ? ', each plain and mirrored' : ''}`] : [])];
  console.log(`  ${m.own.label.padEnd(34)} ${perFace[i]!.toFixed(2).padStart(8)} ms/face  ratio to ${models[0]!.own.label} ${(perFace[i]! / perFace[0]!).toFixed(2)}   (${parts.join(' + ')})`);
});
