/**
 * The pool of model input buffers (packages/model-runtime scratch.ts): buffers come back for reuse,
 * the pool stays bounded, and a reused buffer never leaks an earlier input into a result (real
 * ONNX sessions: the face stage's networks and a classifier with mirror averaging).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normaliseUpload, type RgbImage } from '@dfd/imaging';
import { Float32Scratch, ImageClassifierModel, float32Scratch } from '@dfd/model-runtime';
import { FaceStage } from '@dfd/face';
import { repoRoot } from '@dfd/test-support/processes';
import { datasetsDir, requireDatasets } from '@dfd/test-support/datasets';
import { writeTinyModel } from '@dfd/test-support/tiny-onnx';

function noise(seed: number, size = 64): RgbImage {
  const data = Buffer.alloc(size * size * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return { width: size, height: size, data };
}

describe('model input buffers reused across runs', () => {
  it('hands a given-back buffer out again, and keeps no more than its caps', () => {
    const pool = new Float32Scratch(2, 64 * 4);
    const a = pool.take(16);
    assert.equal(pool.take(16) === a, false, 'nothing spare yet: a new buffer');
    pool.give(a);
    assert.equal(pool.spareBytes, 64);
    assert.equal(pool.take(16), a);
    assert.equal(pool.spareBytes, 0);
    pool.give(new Float32Array(16), new Float32Array(16), new Float32Array(16));
    assert.equal(pool.spareBytes, 128, 'two of a length at most');
    pool.give(new Float32Array(40));
    assert.equal(pool.spareBytes, 128, 'over the byte cap: dropped');
    const whole = new Float32Array(32);
    pool.give(whole.subarray(0, 16));
    assert.equal(pool.spareBytes, 128, 'a view into a larger buffer is not kept');
  });

  const dir = mkdtempSync(join(tmpdir(), 'dfd-scratch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same scores whatever the reused buffers held before (plain and mirrored runs)', async () => {
    const model = await ImageClassifierModel.load(writeTinyModel(dir, { name: 'detector', labels: ['real', 'edited'], positive: 'edited', ramp: true, gain: 0.8, mirrorWithin: 1 }), { threads: 1 });
    const batch = [noise(1), noise(2)];
    const first = await model.predict(batch);
    // Other pictures through the same buffer lengths, then the first batch again.
    await model.predict([noise(3), noise(4)]);
    await model.predict([noise(5)]);
    const again = await model.predict(batch);
    assert.deepEqual(again.map((p) => p.probabilities), first.map((p) => p.probabilities));
    assert.deepEqual(again.map((p) => p.cam!.values), first.map((p) => p.cam!.values));
    assert.ok(float32Scratch.spareBytes > 0, 'predict gave its inputs back');
    await model.release();
  });

  it('finds the same faces and landmarks with reused face-stage buffers', { skip: requireDatasets('faces-v1'), timeout: 60_000 }, async () => {
    const stage = await FaceStage.load(join(repoRoot, 'models'), { threads: 1 });
    const { image } = await normaliseUpload(await readFile(join(datasetsDir, 'faces-v1/real/ffhq/2e15dea872b8.jpg')));
    const first = await stage.detect(image);
    assert.equal(first.length, 1);
    // Another picture through the face detector's and the landmark net's buffers in between.
    await stage.detect(noise(7, 300));
    assert.deepEqual(await stage.detect(image), first);
  });
});
