/**
 * `npm run bench` (scripts/bench.mjs): in one run, the raw onnxruntime throughput of the detector
 * model, the whole stack's accept path and upload→verdict throughput, their ratio, latencies,
 * RSS per service over N jobs (default 10,000), the face stage's added cost per image, and where
 * a verdict's CPU goes: the share of the stack's CPU spent inside onnxruntime per verdict (every
 * model a verdict ran: face detector, landmarks, detector, classifier when called; runs counted
 * by the services, each (model, input shape) costed alone afterwards) and the ratio of
 * end-to-end verdicts/s to those models' raw throughput on the same cores.
 * Prints figures and ratios only; nothing here passes or fails on timing.
 *
 *   node scripts/bench.mjs [--jobs 10000] [--connections 64] [--detectors 2] [--classifiers 1]
 *                          [--accept-seconds 10] [--accept-connections 256] [--tiny] [--face-image F]
 *                          [--samples DIR] [--cpu-prof DIR] [--node-args="FLAGS"]
 * --samples: the uploads (a folder with a manifest, see loadtest/scripts/make-samples.ts; its
 * `--faces` mode makes face photos, which take the whole path through every model).
 * Per-thread CPU per verdict of every service is always printed; --cpu-prof also runs every service
 * under node --cpu-prof and prints where each one's JS main thread spent its time (profile.ts);
 * --node-args passes node flags to every service (e.g. V8 heap settings, to compare in one command).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { normaliseUpload } from '@dfd/imaging';
import { ImageClassifierModel, resolveModelDir } from '@dfd/model-runtime';
import { analysisInput, createAnalyser, type Analyser } from '@dfd/analysis';
import { repoRoot } from '@dfd/test-support/processes';
import { formatLoad, runLoad, type LoadReport } from './load.js';
import { loadSamples } from './samples.js';
import { formatProcesses, formatRssSeries, Monitor, type ProcessReport } from './monitor.js';
import { formatProfile, formatThreads, profilesByPid, summariseCpuProfile, threadCpu, threadDelta } from './profile.js';
import { cpuPerRun, int8Kernels, modelPath, ortDelta, scrapeOrt, type OrtRuns } from './ort-cost.js';
import { launchStack, realModelsPresent } from './stack.js';
import { summarise } from './stats.js';

const { values: a } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '64' },
    detectors: { type: 'string', default: '2' },
    classifiers: { type: 'string', default: '1' },
    'accept-seconds': { type: 'string', default: '10' },
    'accept-connections': { type: 'string', default: '256' },
    'ort-seconds': { type: 'string', default: '3' },
    'ort-threads': { type: 'string', default: '1' },
    tiny: { type: 'boolean', default: false },
    'face-image': { type: 'string' },
    samples: { type: 'string' },
    'skip-stack': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'node-args': { type: 'string', default: '' },
  },
});
const started = Date.now();
const say = (s = '') => console.log(s);
const tiny = a.tiny || !realModelsPresent();
const threads = Number(a['ort-threads']);

say(`# dfd benchmark  ${new Date().toISOString()}  ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}; ${int8Kernels()}), load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
say(`models: ${tiny ? 'TINY generated test models (the trained ones are not in models/ yet) — throughput ratios against them mean little' : join(repoRoot, 'models')}`);

// ---- 1. raw onnxruntime throughput of the detector model --------------------------------
async function ortThroughput(model: ImageClassifierModel, batch: number, seconds: number): Promise<number> {
  const { width: W, height: H } = model.spec.preprocessing;
  const input = new Float32Array(batch * 3 * W * H).map(() => Math.random());
  for (let i = 0; i < 3; i++) await model.runTensor(input, batch);
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await model.runTensor(input, batch);
    images += batch;
  }
  return images / ((performance.now() - t0) / 1000);
}

let modelsDir = join(repoRoot, 'models');
if (tiny) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { writeTinyModelSet } = await import('@dfd/test-support/tiny-onnx');
  modelsDir = mkdtempSync(join(tmpdir(), 'dfd-bench-models-'));
  writeTinyModelSet(modelsDir);
}
const detector = await ImageClassifierModel.load(resolveModelDir(modelsDir, 'detector'), { threads });
const p = detector.spec.preprocessing;
const ortB1 = await ortThroughput(detector, 1, Number(a['ort-seconds']));
const ortB8 = await ortThroughput(detector, 8, Number(a['ort-seconds']));
say(`\n## 1. raw onnxruntime, detector ${detector.spec.name} ${detector.spec.version} (${p.width}x${p.height}), ${threads} intra-op thread(s) as in the services`);
say(`  batch 1: ${ortB1.toFixed(1)} images/s    batch 8: ${ortB8.toFixed(1)} images/s`);

// ---- 2. face stage added cost per single-face image (in process) ------------------------
const faceModels = existsSync(join(repoRoot, 'models', 'face-detector')) && existsSync(join(repoRoot, 'models', 'face-landmarks'));
let faceImage = a['face-image'];
if (!faceImage) {
  const dir = join(repoRoot, '..', 'shared', 'datasets', 'faces-v1', 'real', 'ffhq');
  const first = existsSync(dir) ? readdirSync(dir).find((f) => /\.(jpe?g|png)$/i.test(f)) : undefined;
  if (first) faceImage = join(dir, first);
}
say('\n## 2. face stage: added cost per single-face image');
if (!faceModels) say('  skipped: models/face-detector and models/face-landmarks are not present');
else if (!faceImage) say('  skipped: no face picture (pass --face-image FILE)');
else {
  const withFaces = await createAnalyser(modelsDir, { threads, faceStage: true, classify: 'local' });
  if (!withFaces.faces) say(`  skipped: ${withFaces.faceError}`);
  else {
    const without = await createAnalyser(modelsDir, { threads, faceStage: false, classify: 'local' });
    const buf = readFileSync(faceImage);
    const up = await normaliseUpload(buf);
    const input = (crop: boolean) => analysisInput(up, { crop_faces: crop }, 'bench');
    const found = (await withFaces.faces.detect(up.image)).length;
    const time = async (an: Analyser, crop: boolean, n: number) => {
      for (let i = 0; i < 3; i++) await an.analyse(up.image, input(crop), 0);
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await an.analyse(up.image, input(crop), 0);
        ms.push(performance.now() - t);
      }
      return summarise(ms);
    };
    const off = await time(without.analyser, false, 30);
    const on = await time(withFaces.analyser, true, 30);
    say(`  image ${faceImage.replace(join(repoRoot, '..'), '..')} (${up.image.width}x${up.image.height}), faces found: ${found}`);
    say(`  analyse without face stage: p50 ${off.p50.toFixed(1)} ms; with face stage: p50 ${on.p50.toFixed(1)} ms; added ${(on.p50 - off.p50).toFixed(1)} ms`);
    say(`  ratio with/without ${(on.p50 / off.p50).toFixed(2)} (target ≤ 1.3)${tiny ? ' — against the tiny test detector, so this overstates the ratio' : ''}`);
    await without.close();
  }
  await withFaces.close();
}
await detector.release();

// ---- 3. the whole stack ------------------------------------------------------------------
if (a['skip-stack']) process.exit(0);
const jobs = Number(a.jobs);
say(`\n## 3. whole stack: ${a.detectors} detector(s), ${a.classifiers} classifier(s), gateway, redis (local processes)`);
const stack = await launchStack({
  detectors: Number(a.detectors),
  classifiers: Number(a.classifiers),
  tiny,
  // Throughput, not backpressure, is measured here.
  gatewayEnv: { QUEUE_MAX_WAITING: '1000000' },
  nodeArgs: [...a['node-args']!.split(' ').filter(Boolean), ...(a['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${a['cpu-prof']}`] : [])],
});
const pids = new Map(stack.services.map((s) => [s.pid, s.name]));
let threadLines: string[] = [];
let allVerdicts = 0;
const monitor = new Monitor(stack.services, 2_000).start();
let procs: ProcessReport[] = [];
const metricsUrls = stack.services.filter((s) => s.kind === 'detector' || s.kind === 'classifier').map((s) => `http://127.0.0.1:${s.httpPort}/metrics`);
let ortRuns: OrtRuns[] = [];
let ortWallS = new Map<string, number>();
let e2eVerdicts = 0;
let e2eRate = 0;
const rssAt = new Map<string, number>();
const snapshotRss = () => {
  for (const r of monitor.stop()) rssAt.set(r.name, r.samples.at(-1)?.rssMiB ?? 0);
};
const samples = a.samples ? loadSamples(a.samples) : undefined;
say(`uploads: ${a.samples ? `${samples!.length} samples from ${a.samples}` : 'the committed synthetic samples (no faces: the face stage stops at the face detector)'}`);
try {
  const warm = await runLoad({ url: stack.url, connections: 32, durationS: 60, maxJobs: 300, mode: 'verdict', samples });
  say(`  warm-up: ${warm.completed} jobs`);

  const acc = await runLoad({ url: stack.url, connections: Number(a['accept-connections']), durationS: Number(a['accept-seconds']), mode: 'submit', drainS: 300, samples });
  say(`\n### accept path: ${a['accept-connections']} connections uploading for ${a['accept-seconds']} s without waiting\n${formatLoad(acc)}`);
  snapshotRss();

  const ortBefore = await scrapeOrt(metricsUrls);
  const threadsBefore = stack.services.map((sv) => threadCpu(sv.pid));
  const e2eMonitor = new Monitor(stack.services, 2_000).start();
  const t0 = Date.now();
  const e2e: LoadReport = await runLoad({ url: stack.url, connections: Number(a.connections), durationS: Math.max(120, jobs), maxJobs: jobs, mode: 'verdict', drainS: 300, samples, log: (l) => process.stdout.write(`  ${l}\n`) });
  say(`\n### upload → verdict: ${jobs} jobs, ${a.connections} connections each waiting for its verdict (${((Date.now() - t0) / 1000).toFixed(0)} s)\n${formatLoad(e2e)}`);
  procs = e2eMonitor.stop();
  threadLines = stack.services.map((sv, i) => formatThreads(sv.name, threadDelta(threadCpu(sv.pid), threadsBefore[i]!), Math.max(1, e2e.completed)));
  allVerdicts = warm.completed + acc.completed + e2e.completed;
  ({ runs: ortRuns, seconds: ortWallS } = ortDelta(await scrapeOrt(metricsUrls), ortBefore));
  e2eVerdicts = e2e.completed;
  e2eRate = e2e.verdictRate;

  const best = Math.max(ortB1, ortB8);
  say('\n## summary');
  say(`  raw ORT detector        ${ortB1.toFixed(1)} img/s (batch 1), ${ortB8.toFixed(1)} img/s (batch 8), one process, ${threads} thread(s)`);
  say(`  gateway accept path     ${acc.acceptRate.toFixed(1)} uploads/s; accept p50/p95/p99 ${acc.acceptMs.p50.toFixed(0)}/${acc.acceptMs.p95.toFixed(0)}/${acc.acceptMs.p99.toFixed(0)} ms`);
  say(`  end to end              ${e2e.verdictRate.toFixed(1)} verdicts/s; verdict p50/p95/p99 ${e2e.verdictMs.p50.toFixed(0)}/${e2e.verdictMs.p95.toFixed(0)}/${e2e.verdictMs.p99.toFixed(0)} ms; accept p50/p95/p99 ${e2e.acceptMs.p50.toFixed(0)}/${e2e.acceptMs.p95.toFixed(0)}/${e2e.acceptMs.p99.toFixed(0)} ms`);
  say(`  ratio e2e / raw ORT     ${(e2e.verdictRate / best).toFixed(3)} (target ≥ 0.7; raw = best batch)${tiny ? ' — tiny test model: raw ORT is nearly free, so the ratio is meaningless until the trained model lands' : ''}`);
  say(`  errors                  transport ${acc.transportErrorCount + e2e.transportErrorCount}, 5xx ${acc.serverErrors + e2e.serverErrors}, lost ${acc.lost + e2e.lost}, failed ${acc.failed + e2e.failed}`);
  say(`\n  processes over the ${jobs}-job run (peak RSS = VmHWM since start)\n${formatProcesses(procs)}`);
  say(`  RSS over the ${jobs}-job run (MiB, t = s since it started)\n${formatRssSeries(procs, 10)}`);
  say(`  CPU per job over the run (whole-process CPU / ${e2e.completed} verdicts): ${procs.map((r) => `${r.name} ${((r.cpuS * 1000) / Math.max(1, e2e.completed)).toFixed(2)} ms`).join(', ')}`);
  say('  RSS growth from the end of the accept phase (after warm-up) to the end:');
  for (const r of procs) {
    const end = r.samples.at(-1)?.rssMiB ?? 0;
    if (!rssAt.has(r.name)) continue;
    const from = rssAt.get(r.name) ?? 0;
    say(`    ${r.name.padEnd(13)} ${from.toFixed(0)} → ${end.toFixed(0)} MiB (${end - from >= 0 ? '+' : ''}${(end - from).toFixed(0)})`);
  }
} finally {
  await stack.stop();
}

// ---- 4. where a verdict's CPU goes -----------------------------------------------------------
// Replayed after the stack has stopped, so each model has the CPU to itself.
if (e2eVerdicts > 0 && procs.length > 0) {
  const cores = availableParallelism();
  say(`\n## 4. where a verdict's CPU goes (${e2eVerdicts} verdicts; onnxruntime runs counted by the services, each model and input shape costed alone with ${threads} intra-op thread(s))`);
  say('  model                      input shape        runs/verdict  CPU ms/run  CPU ms/verdict');
  let ortCpuPerVerdict = 0;
  for (const r of ortRuns) {
    const path = modelPath(stack.modelsDir, r.model);
    const shape = r.shape.split('x').map(Number);
    if (!existsSync(path) || shape.some((d) => !Number.isFinite(d) || d <= 0)) {
      say(`  ${r.model.padEnd(26)} ${r.shape.padEnd(18)} ${(r.runs / e2eVerdicts).toFixed(3).padStart(12)}  (not replayable: ${path})`);
      continue;
    }
    const cost = await cpuPerRun(path, shape, threads, Number(a['ort-seconds']) / 3);
    const perVerdict = (r.runs / e2eVerdicts) * cost.cpuMs;
    ortCpuPerVerdict += perVerdict;
    say(`  ${r.model.padEnd(26)} ${r.shape.padEnd(18)} ${(r.runs / e2eVerdicts).toFixed(3).padStart(12)}  ${cost.cpuMs.toFixed(3).padStart(10)}  ${perVerdict.toFixed(3).padStart(14)}`);
  }
  const cpuPer = (kind: string) => procs.filter((p) => p.name.startsWith(kind)).reduce((s, p) => s + p.cpuS, 0) * 1000 / e2eVerdicts;
  const stackCpuPerVerdict = procs.reduce((s, p) => s + p.cpuS, 0) * 1000 / e2eVerdicts;
  const wallPerVerdict = [...ortWallS.values()].reduce((s, v) => s + v, 0) * 1000 / e2eVerdicts;
  const rawVerdictsPerS = ortCpuPerVerdict > 0 ? (cores * 1000) / ortCpuPerVerdict : 0;
  say(`  stack CPU per verdict     ${stackCpuPerVerdict.toFixed(2)} ms (gateway ${cpuPer('gateway').toFixed(2)}, detectors ${cpuPer('detector').toFixed(2)}, classifiers ${cpuPer('classifier').toFixed(2)}, redis ${cpuPer('redis').toFixed(2)})`);
  say(`  inside onnxruntime        ${ortCpuPerVerdict.toFixed(2)} ms CPU per verdict = ${((100 * ortCpuPerVerdict) / stackCpuPerVerdict).toFixed(1)}% of the stack's CPU; the rest (${(stackCpuPerVerdict - ortCpuPerVerdict).toFixed(2)} ms) is everything that is not model inference`);
  say(`                            (wall time inside run() as the services saw it: ${wallPerVerdict.toFixed(2)} ms per verdict, which includes waiting for a CPU)`);
  say(`  CPU per verdict by thread over the ${e2eVerdicts}-verdict run (main = the JS event loop, where onnxruntime-node's run() also executes with 1 intra-op thread; node = libuv's pool, where sharp decodes, and V8's GC and compiler threads; libvips worker = sharp's own threads):`);
  for (const l of threadLines) say(l);
  say(`  models' raw throughput    ${rawVerdictsPerS.toFixed(1)} verdicts/s on these ${cores} cores (${cores} x 1000 / ${ortCpuPerVerdict.toFixed(2)} ms)`);
  say(`  ratio e2e / raw models    ${rawVerdictsPerS > 0 ? (e2eRate / rawVerdictsPerS).toFixed(3) : '-'} (${e2eRate.toFixed(1)} / ${rawVerdictsPerS.toFixed(1)} verdicts/s; every model a verdict ran, not only the detector)${tiny ? ' — tiny test models' : ''}`);
}
if (a['cpu-prof'] && allVerdicts > 0) {
  // Written by each service as it exits; they cover its whole life (warm-up, accept phase, run).
  say(`\n## 5. JS main thread profiles (node --cpu-prof, ${a['cpu-prof']}; per verdict over all ${allVerdicts} verdicts of the services' lives)`);
  for (const [pid, prof] of profilesByPid(a['cpu-prof'])) {
    const name = pids.get(pid);
    if (name) say(formatProfile(name, summariseCpuProfile(prof), allVerdicts));
  }
}
say(`\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(0);
