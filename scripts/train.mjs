#!/usr/bin/env node
// `npm run train [-- --smoke]`: reproduces both models with Debian's PyTorch (never at serve time).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
const root = fileURLToPath(new URL('..', import.meta.url));
const python = process.env.TRAIN_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(python, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.error(`[dfd] ${python} cannot import torch/torchvision/onnx.\n      Install Debian's packages: sudo apt-get install -y python3-torch python3-torchvision python3-onnx`);
  process.exit(1);
}
const r = spawnSync('bash', ['training/models/train_all.sh', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: {
    ...process.env,
    PYTHON: python,
    // Pretrained face-api weights ship inside the npm package: read from node_modules, never downloaded.
    FACEAPI_MODEL_DIR: process.env.FACEAPI_MODEL_DIR ?? join(root, 'node_modules', '@vladmandic', 'face-api', 'model'),
  },
});
process.exit(r.status ?? 1);
