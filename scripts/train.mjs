#!/usr/bin/env node
// `npm run train [-- --smoke OUT]`: reproduces both shipped models with Debian's PyTorch (never at
// serve time). `--face-crops` instead trains on the serving face stage's aligned crops (cut first
// with packages/face): measured, not shipped — see models/detector/1.0.0/MODEL_CARD.md.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const faceCrops = process.argv.includes('--face-crops');
const args = process.argv.slice(2).filter((a) => a !== '--face-crops');
const smoke = args[0] === '--smoke';
const python = process.env.TRAIN_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.error(`[dfd] ${python} cannot import torch/torchvision/onnx.\n      Install Debian's packages: sudo apt-get install -y python3-torch python3-torchvision python3-onnx`);
  process.exit(1);
}
const env = {
  ...process.env,
  PYTHON: python,
  // Pretrained face-api weights ship inside the npm package: read from node_modules, never downloaded.
  FACEAPI_MODEL_DIR: process.env.FACEAPI_MODEL_DIR ?? join(root, 'node_modules', '@vladmandic', 'face-api', 'model'),
};
if (!smoke && faceCrops) {
  const crops = process.env.FACE_CROPS_DIR ?? join(root, '.cache', 'crops');
  if (!existsSync(join(crops, 'index.jsonl')) || process.env.REFRESH_CROPS === '1') {
    console.log(`[dfd] cutting aligned face crops with the serving face stage into ${crops} ...`);
    rmSync(crops, { recursive: true, force: true });
    const cut = spawnSync(process.execPath, [join(root, 'packages/face/dist/cli-crops.js'), '--crops-dir', crops, '--crop-size', '256', '--out', join(root, '.cache', 'face-recall.json')], { stdio: 'inherit' });
    if (cut.status !== 0) process.exit(cut.status ?? 1);
  }
  env.FACE_CROPS_DIR = crops;
}
const r = spawnSync('bash', ['training/models/train_all.sh', ...args], { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
