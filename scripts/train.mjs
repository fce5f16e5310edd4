#!/usr/bin/env node
// `npm run train [-- --run NAME] [--loso]`: reproduces the shipped detector and classifier with
// Debian's PyTorch (never needed at serve time). Steps: the serving face stage's landmarks for every
// dataset image (cached in .cache/landmarks-<face stage key>.jsonl), then training/models/train.py into
// training/models/runs/NAME (checkpointed every epoch: the same command resumes an interrupted run),
// then, with --loso, one leave-one-source-out run per generated/swap source. Shipping is a separate
// step: training/models/promote.py --run NAME --version X.Y.Z.
// `npm run train -- --smoke OUT`: CI's quick run (a few images, one short epoch) exporting into OUT.
// `npm run train -- --landmarks-only`: the landmarks cache alone; prints its path.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    smoke: { type: 'string' },
    run: { type: 'string', default: 'release' },
    loso: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    // Fine-tune from a shipped version (models/detector/V, models/classifier/V) instead of the
    // pretrained face-recognition backbone alone.
    'init-version': { type: 'string' },
    // ... or from another run's export (training/models/runs/R/export).
    'init-run': { type: 'string' },
    // Recipe options tried after 2.4.0 and off by default (training/models/README.md).
    'residual-stream': { type: 'string' },
    'relocate-edits': { type: 'string' },
    'backbone-lr': { type: 'string' },
    // After a fine-tune, also judge weights between the starting model and each epoch (train.py --soup).
    soup: { type: 'string' },
    'soup-rule': { type: 'string' },
    // 'synthetic': learn from reals and their synthetic edits only, validated on every source.
    fakes: { type: 'string' },
    // Share of edited samples that are synthetic edits (train.py --synth-share; default 0.55).
    'synth-share': { type: 'string' },
    // 1: a third head learning from synthetic edits and reals only (train.py --blend-head).
    'blend-head': { type: 'string' },
    // The served crop scaled by up to ±X and shifted during training (train.py --crop-jitter).
    'crop-jitter': { type: 'string' },
    // Share of samples cut exactly as served, without framing or degradation (train.py --plain-share).
    'plain-share': { type: 'string' },
    // The only dataset fake pools training draws, comma-separated (train.py --fake-sources).
    'fake-sources': { type: 'string' },
    // A fake pool's draw weight, POOL=W (train.py --pool-weight; repeatable).
    'pool-weight': { type: 'string', multiple: true },
    // The pretrained trunk: faceapi (default, what shipped) or mbv3 (train.py --backbone).
    backbone: { type: 'string' },
    // The served crop's side in pixels, same template (train.py --crop-size).
    'crop-size': { type: 'string' },
    // The edited logit also judges the crop's centre enlarged X times (train.py --zoom-view).
    'zoom-view': { type: 'string' },
    // The mirror-averaging window, fixed instead of calibrated (train.py --mirror-within; 1 = every face).
    'mirror-within': { type: 'string' },
    // Stop after this long (the checkpoint is kept; the same command resumes).
    'max-minutes': { type: 'string' },
    // Hold a dataset fake source out of the main run (train.py --loso); 'all' holds every one out,
    // so the run learns from reals and their synthetic edits only.
    'hold-out': { type: 'string' },
    // Where --init-version and --teacher-version read shipped versions (train.py --models-dir).
    'models-dir': { type: 'string' },
    // Distillation (train.py --teacher-*): a float face-api version and/or a run as the teacher,
    // the run's weight in it, and the weight of the distillation loss.
    'teacher-version': { type: 'string' },
    'teacher-run': { type: 'string' },
    'teacher-weight': { type: 'string' },
    distill: { type: 'string' },
    // The edited head's label cross-entropy and the pair loss, weighted (train.py --label-weight, --pair-loss).
    'label-weight': { type: 'string' },
    // Only the faceapi trunk's last N stages learn (train.py --train-stages).
    'train-stages': { type: 'string' },
    'pair-loss': { type: 'string' },
    // Only make sure the landmarks cache exists, print its path and stop (for paired_set.py, promote.py --int8).
    'landmarks-only': { type: 'boolean', default: false },
  },
});
const python = process.env.TRAIN_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.error(`[dfd] ${python} cannot import torch/torchvision/onnx.\n      Install Debian's packages: sudo apt-get install -y python3-torch python3-torchvision python3-onnx`);
  process.exit(1);
}
const datasets = process.env.DFD_DATASETS_DIR ?? join(root, '..', 'shared', 'datasets');
const env = {
  ...process.env,
  DFD_DATASETS_DIR: datasets,
  // Pretrained face-api weights ship inside the npm package: read from node_modules, never downloaded.
  FACEAPI_MODEL_DIR: process.env.FACEAPI_MODEL_DIR ?? join(root, 'node_modules', '@vladmandic', 'face-api', 'model'),
  // glibc's malloc on transparent huge pages: PyTorch allocates and frees large activation buffers
  // every step, and on 4 KiB pages (THP in "madvise" mode, as on the development machines) the
  // kernel spends most of the training CPU faulting them in. One training step of the mbv3 network
  // (batch 32 at 240 px, 2 threads): 4.46 s without this, 1.12 s with it (THP "always": 1.44 s).
  // An explicit GLIBC_TUNABLES is left as it is.
  GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.hugetlb=1',
};
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const dirs = ['faces-v1', 'faces-v2'].map((d) => join(datasets, d));

if (values.smoke) {
  const out = values.smoke;
  mkdirSync(out, { recursive: true });
  const lm = join(out, 'landmarks.jsonl');
  run(process.execPath, [join(root, 'training/models/landmarks.mjs'), '--out', lm, '--per-source', '12', ...dirs]);
  run(python, [join(root, 'training/models/train.py'), '--smoke', '--out', join(out, 'run'), '--landmarks', lm]);
  // The export is laid out as a models folder, so the serving code can load it as shipped models are.
  for (const name of ['detector', 'classifier']) cpSync(join(out, 'run', 'export', name), join(out, name, '0.0.0-smoke'), { recursive: true });
  process.exit(0);
}

// The cache is named by what made it (the face stage's code and its models' files), so a change to
// the face stage never trains on landmarks the product no longer finds.
const faceStageKey = createHash('sha256');
for (const dir of [join(root, 'packages/face/src'), ...['face-detector', 'face-landmarks'].map((m) => join(root, 'models', m))]) {
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (/\.(ts|json|onnx)$/.test(f)) faceStageKey.update(f).update(readFileSync(join(dir, f)));
  }
}
const lm = join(root, '.cache', `landmarks-${faceStageKey.digest('hex').slice(0, 12)}.jsonl`);
if (!existsSync(lm)) {
  const shards = Math.max(1, Math.min(4, availableParallelism()));
  console.log(`[dfd] landmarks of every dataset image with the serving face stage (${shards} processes) -> ${lm} ...`);
  mkdirSync(join(root, '.cache'), { recursive: true });
  const parts = Array.from({ length: shards }, (_, i) => `${lm}.${i}`);
  const codes = await Promise.all(parts.map((part, i) => new Promise((done) => {
    spawn(process.execPath, [join(root, 'training/models/landmarks.mjs'), '--shard', `${i}/${shards}`, '--out', part, ...dirs], { cwd: root, stdio: 'inherit', env })
      .on('exit', (code) => done(code ?? 1));
  })));
  if (codes.some((c) => c !== 0)) process.exit(1);
  writeFileSync(`${lm}.tmp`, parts.map((p) => readFileSync(p, 'utf8')).join(''));
  renameSync(`${lm}.tmp`, lm);
  for (const p of parts) rmSync(p);
}
if (values['landmarks-only']) {
  console.log(lm);
  process.exit(0);
}
const extra = [
  ...(values.epochs ? ['--epochs', values.epochs] : []),
  ...(values.lr ? ['--lr', values.lr] : []),
  ...(values['init-version'] ? ['--init-version', values['init-version']] : []),
  ...(values['init-run'] ? ['--init-run', values['init-run']] : []),
  ...['residual-stream', 'relocate-edits', 'backbone-lr', 'max-minutes', 'soup', 'soup-rule', 'fakes', 'synth-share', 'blend-head', 'crop-jitter', 'plain-share', 'fake-sources', 'crop-size', 'zoom-view', 'mirror-within', 'backbone', 'models-dir', 'teacher-version', 'teacher-run', 'teacher-weight', 'distill', 'label-weight', 'pair-loss', 'train-stages'].flatMap((k) => (values[k] ? [`--${k}`, values[k]] : [])),
  ...(values['hold-out'] ? ['--loso', values['hold-out']] : []),
  ...(values['pool-weight'] ?? []).flatMap((w) => ['--pool-weight', w]),
];
run(python, [join(root, 'training/models/train.py'), '--run', values.run, '--landmarks', lm, ...extra]);
if (values.loso) {
  for (const held of ['stylegan1', 'boredhumans-gan', 'pggan-interfacegan', 'dfdc-swap']) {
    run(python, [join(root, 'training/models/train.py'), '--run', `${values.run}-loso-${held}`, '--loso', held, '--landmarks', lm, '--epochs', '3']);
  }
}
const runs = readdirSync(join(root, 'training/models/runs'));
console.log(`[dfd] done: training/models/runs/${values.run} (${runs.length} runs kept). Ship it with:\n      ${python} training/models/promote.py --run ${values.run} --version X.Y.Z`);
