import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideLabel, type ModelSpec } from '../src/index.js';

const spec = (threshold: number, band: [number, number]): ModelSpec => ({
  name: 'classifier', version: '1', file: 'model.onnx', sha256: '', inputs: [], outputs: [],
  preprocessing: { width: 1, height: 1, resize: 'bilinear', channel_order: 'RGB', layout: 'NCHW', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
  labels: ['deepfake', 'retouched'], positive_label: 'retouched', threshold, uncertain_band: band,
});

test('decides with the model.json threshold, not 0.5', () => {
  const s = spec(0.6, [0.6, 0.6]);
  assert.equal(decideLabel(s, [0.45, 0.55]).label, 'deepfake');
  assert.equal(decideLabel(s, [0.35, 0.65]).label, 'retouched');
  assert.deepEqual(decideLabel(s, [0.35, 0.65]).scores, { deepfake: 0.35, retouched: 0.65 });
});

test('answers uncertain inside the band', () => {
  const s = spec(0.5, [0.4, 0.7]);
  assert.equal(decideLabel(s, [0.45, 0.55]).label, 'uncertain');
  assert.equal(decideLabel(s, [0.65, 0.35]).label, 'deepfake');
  assert.equal(decideLabel(s, [0.2, 0.8]).label, 'retouched');
});
