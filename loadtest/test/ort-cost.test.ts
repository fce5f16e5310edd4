/**
 * The pieces behind the bench's "CPU inside onnxruntime per verdict": a session made by
 * createSession counts its runs per input shape, any service registry exports them on /metrics,
 * the bench parses and diffs them and replays a (model, shape) to cost it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, modelLabel, ort, sessionOptions } from '@dfd/model-runtime';
import { createRegistry } from '../../packages/telemetry/src/metrics.js';
import { writeTinyModel } from '@dfd/test-support/tiny-onnx';
import { cpuPerRun, int8Kernels, modelPath, ortDelta, parseOrtMetrics } from '../src/ort-cost.js';

test('sessions use full graph optimisation, sequential execution and the configured intra-op threads', () => {
  const o = sessionOptions(3);
  assert.equal(o.graphOptimizationLevel, 'all');
  assert.equal(o.executionMode, 'sequential');
  assert.equal(o.intraOpNumThreads, 3);
  assert.equal(o.interOpNumThreads, 1);
});

test('onnxruntime runs are counted per model and input shape, exported on /metrics, diffed and replayed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfd-ort-cost-'));
  writeTinyModel(dir, { name: 'costed', labels: ['real', 'edited'], positive: 'edited', size: 64 }, '1.2.3');
  const path = modelPath(dir, 'costed@1.2.3');
  // A second network in the same folder (a second_opinion) has a label of its own, and maps back.
  assert.equal(modelLabel(join(dir, 'costed', '1.2.3', 'second.onnx')), 'costed@1.2.3/second.onnx');
  assert.equal(modelPath(dir, 'costed@1.2.3/second.onnx'), join(dir, 'costed', '1.2.3', 'second.onnx'));
  assert.equal(modelLabel(path), 'costed@1.2.3');
  const session = await createSession(path, 1);
  const registry = createRegistry('detector');
  const run = (batch: number) => session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(batch * 3 * 64 * 64).fill(0.5), [batch, 3, 64, 64]) });

  await run(1);
  const before = parseOrtMetrics(await registry.metrics());
  await run(1);
  await run(1);
  await run(4);
  const text = await registry.metrics();
  assert.match(text, /^dfd_ort_runs_total\{(?=[^}]*model="costed@1\.2\.3")(?=[^}]*service="detector")[^}]*shape="1x3x64x64"[^}]*\} 3$/m);
  assert.match(text, /^dfd_ort_runs_total\{(?=[^}]*model="costed@1\.2\.3")[^}]*shape="4x3x64x64"[^}]*\} 1$/m);
  const after = parseOrtMetrics(text, text); // two replicas of the same numbers add up
  assert.equal(after.runs.get('costed@1.2.3|1x3x64x64')?.runs, 6);
  const d = ortDelta(parseOrtMetrics(text), before);
  assert.deepEqual(d.runs.map((r) => [r.model, r.shape, r.runs]), [['costed@1.2.3', '1x3x64x64', 2], ['costed@1.2.3', '4x3x64x64', 1]]);
  assert.ok((d.seconds.get('costed@1.2.3') ?? 0) > 0);
  await session.release();

  // The tiny model pools its input first, so a run of batch 1 is mostly fixed per-run overhead
  // (about 0.3 ms); batch 8 once measured below it on a busy host. Batch 256 reads 256x the pixels.
  const one = await cpuPerRun(path, [1, 3, 64, 64], 1, 0.2);
  const many = await cpuPerRun(path, [256, 3, 64, 64], 1, 0.2);
  assert.ok(one.cpuMs > 0 && one.runs >= 5, JSON.stringify(one));
  assert.ok(many.cpuMs > one.cpuMs, `batch 256 costs more CPU than batch 1: ${many.cpuMs} vs ${one.cpuMs} ms`);
});

test('the bench names the int8 kernels the CPU has, from /proc/cpuinfo flags', () => {
  const info = (flags: string) => `processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: ${flags}\nbogomips\t: 4000\n`;
  assert.equal(int8Kernels(info('fpu sse2 avx avx2 fma avx512f avx512_vnni')), 'int8 kernels: VNNI (avx512_vnni)');
  assert.equal(int8Kernels(info('fpu sse2 avx avx2 avx_vnni')), 'int8 kernels: VNNI (avx_vnni)');
  assert.equal(int8Kernels(info('fpu sse2 avx avx2 fma')), 'int8 kernels: AVX2 without VNNI (u8 x s8 pairs summed in 16 bits)');
  assert.equal(int8Kernels(info('fpu sse2 avx')), 'int8 kernels: neither VNNI nor AVX2');
  // This machine's own answer is one of those.
  assert.match(int8Kernels(), /^int8 kernels: /);
});
